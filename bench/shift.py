"""An unattended shift: the whole demo (`python app.py`) left alone for N minutes, sampled as it runs.

    .venv/bin/python bench/shift.py                # 30 minutes
    .venv/bin/python bench/shift.py --minutes 3    # a quick check

Starts its own launcher with its own data folder, embedded Redis and free ports (never the
machine's Redis), so it runs beside anything else. Every few seconds it counts the open
sightings and open alerts; at the end it prints their peak, median and final values, and the
sightings by outcome, read from what the product recorded.

Real time only. The demo cannot honestly run faster: ingest judges every `ts` against the time
Redis received the entry (at most 30 s ahead), and the alert watcher, the assignment timers and
the simulated crews all run on the wall clock. Speeding up the simulator alone would only get
its messages refused.

Outcomes are counted from the record, not from a list written here: the assignment events
(cleared with their outcome, cancelled), then any other stream of the site whose entries name a
`sighting_id` together with an ending field (`outcome`, `disposition`, `event`, `state`,
`reason`), and the ending fields of the stored sightings. Endings added later (closed with a
reason, merged, ended by the operator, expired) are therefore counted as soon as the product
records them, under the names it records them with.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402

from dispatch import acl  # noqa: E402
from dispatch.domain.acl import Role  # noqa: E402
from dispatch.keys import Keys  # noqa: E402
from dispatch.store.assignments import AssignmentRefused, assign, open_assignments  # noqa: E402
from dispatch.store.connection import connect  # noqa: E402
from dispatch.store.nearest import nearest_available  # noqa: E402
from dispatch.store.embedded import free_port  # noqa: E402

SITE = "rennes"
READY_TEXT = "Press Ctrl-C to stop"
ENDING_FIELDS = ("outcome", "disposition", "event", "state", "reason")
STILL_OPEN = {"open", "assigned", "acknowledged", "en_route", "on_scene", "raised", "updated", "created"}
# Streams that are not about sightings' endings (inputs, deltas, alerts, audit, zones), or read apart.
NOT_ENDINGS = ("in:", "live", "deadletter", "alerts", "audit", "zones", "assignments")


def start_demo(data_dir: Path, log_path: Path, seed: int | None) -> tuple[subprocess.Popen, int]:
    """`python app.py` on free ports with its own data folder; returns (process, embedded Redis port)."""
    web_port, redis_port, gateway_port, app_port = (free_port() for _ in range(4))
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DISPATCH_", "REDIS_URL"))}
    env.update({
        "DISPATCH_DATA_DIR": str(data_dir), "DISPATCH_WEB_PORT": str(web_port),
        "DISPATCH_APP_PORT": str(app_port), "DISPATCH_EMBEDDED_REDIS_PORT": str(redis_port),
        "DISPATCH_GATEWAY_PORT": str(gateway_port), "DISPATCH_ALLOWED_ORIGINS": f"http://127.0.0.1:{web_port}",
        "DISPATCH_TILE_URL": "", "PYTHONUNBUFFERED": "1",
    })
    if seed is not None:
        env["DISPATCH_SIM_SEED"] = str(seed)
    log = open(log_path, "wb")
    process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while READY_TEXT not in log_path.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_demo(process)
            raise SystemExit(f"the demo did not start; see {log_path}")
        time.sleep(0.5)
    return process, redis_port


def stop_demo(process: subprocess.Popen) -> None:
    """Ctrl-C, as a person would: the launcher stops every process, Redis last."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def is_open(sighting: dict) -> bool:
    """Open unless the stored record says it ended (today ended sightings leave the hash)."""
    if sighting.get("closed"):
        return False
    return all(str(sighting.get(name, "open")) in STILL_OPEN for name in ("state", "status", "disposition"))


def sample(client, keys: Keys) -> tuple[int, int, Counter]:
    """(open sightings, open alerts, open alerts by kind) now."""
    sightings = [orjson.loads(raw) for raw in client.hvals(keys.sightings)]
    alerts = [orjson.loads(raw) for raw in client.hvals(keys.alerts_open)]
    return sum(map(is_open, sightings)), len(alerts), Counter(str(a.get("kind", "?")) for a in alerts)


def supervise(client, keys: Keys, tried: set[str]) -> int:
    """`--supervise`: a minimal scripted supervisor sends the nearest available patrol to each new
    priority-1 sighting, once, through the same store call as the wall screen. Returns how many."""
    taken = {a["sighting_id"] for a in open_assignments(client, keys)}
    sent = 0
    for raw in client.hvals(keys.sightings):
        sighting = orjson.loads(raw)
        sighting_id = sighting["sighting_id"]
        if sighting.get("priority") != 1 or not is_open(sighting) or sighting_id in taken or sighting_id in tried:
            continue
        tried.add(sighting_id)
        for candidate in nearest_available(client, keys, sighting["lat"], sighting["lon"], k=1):
            try:
                assign(client, keys, sighting_id=sighting_id, patrol_id=candidate.patrol_id, supervisor_id="SUP-1")
                sent += 1
            except AssignmentRefused:
                pass  # taken meanwhile: a real supervisor would pick another; this one moves on
    return sent


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _entries(client, stream: str, count: int = 10_000):
    """Every entry of a stream, oldest first, in pages."""
    start = "-"
    while True:
        page = client.xrange(stream, min=start, count=count)
        yield from page
        if len(page) < count:
            return
        start = "(" + _text(page[-1][0])


def outcomes(client, keys: Keys) -> tuple[Counter, int]:
    """Sightings by their last recorded ending, and how many sightings were tagged in all."""
    ending: dict[str, str] = {}
    for _, fields in _entries(client, keys.assignments):
        fields = {_text(k): _text(v) for k, v in fields.items()}
        state = fields.get("state", "")
        if state == "cleared":
            ending[fields["sighting_id"]] = f"dispatched, cleared: {fields.get('outcome', '?')}"
        elif state == "cancelled":
            ending[fields["sighting_id"]] = "dispatched, assignment cancelled"
        elif fields.get("sighting_id"):
            ending[fields["sighting_id"]] = "dispatched, assignment open"
    for stream in sorted(_other_streams(client, keys)):
        for _, fields in _entries(client, stream):
            fields = {_text(k): _text(v) for k, v in fields.items()}
            said = [f"{name}={fields[name]}" for name in ENDING_FIELDS if fields.get(name)]
            if fields.get("sighting_id") and said:
                ending[fields["sighting_id"]] = f"{stream.split('}:', 1)[1]}: {', '.join(said)}"
    stored = {_text(k): orjson.loads(v) for k, v in client.hgetall(keys.sightings).items()}
    for sighting_id, sighting in stored.items():
        said = [f"{name}={sighting[name]}" for name in ENDING_FIELDS if name != "event" and sighting.get(name)
                and str(sighting[name]) not in STILL_OPEN]
        if said:
            ending[sighting_id] = "stored: " + ", ".join(said)
        elif sighting_id not in ending:
            ending[sighting_id] = "open, nobody sent"
    tagged = client.hlen(keys.sightings_ts)
    counted = Counter(ending.values())
    missing = tagged - len(ending)
    if missing > 0:
        counted["left the picture, no ending recorded"] = missing
    return counted, tagged


def _other_streams(client, keys: Keys) -> list[str]:
    prefix = f"{{{keys.site}}}:"
    found = []
    for key in client.scan_iter(match=f"{prefix}*", count=1000, _type="stream"):
        name = _text(key)
        if not name[len(prefix):].startswith(NOT_ENDINGS):
            found.append(name)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="how long to leave the demo alone (30)")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between samples (5)")
    parser.add_argument("--seed", type=int, help="DISPATCH_SIM_SEED for the demo (default: the demo's, 42)")
    parser.add_argument("--supervise", action="store_true",
                        help="not unattended: a scripted supervisor sends the nearest patrol to each priority-1 sighting")
    args = parser.parse_args(argv)
    if args.minutes <= 0 or args.every <= 0:
        parser.error("--minutes and --every must be more than 0")
    data_dir = Path(tempfile.mkdtemp(prefix="shift-"))
    log_path = data_dir / "launcher.log"
    print(f"starting the demo in {data_dir} (real time: the demo has no honest time scale)", flush=True)
    process, redis_port = start_demo(data_dir / "var", log_path, args.seed)
    client = connect(f"redis://:{acl.demo_passwords(data_dir / 'var')[Role.ADMIN]}@127.0.0.1:{redis_port}/0")
    keys = Keys(SITE)
    samples: list[tuple[float, int, int]] = []
    peak_kinds: Counter = Counter()
    tried: set[str] = set()
    sent = 0
    started = time.monotonic()
    try:
        while (elapsed := time.monotonic() - started) < args.minutes * 60:
            if args.supervise:
                sent += supervise(client, keys, tried)
            sightings, alerts, kinds = sample(client, keys)
            samples.append((elapsed, sightings, alerts))
            peak_kinds = kinds if alerts >= sum(peak_kinds.values()) else peak_kinds
            if len(samples) % max(1, round(60 / args.every)) == 1:
                print(f"{elapsed / 60:5.1f} min: {sightings} open sightings, {alerts} open alerts", flush=True)
            time.sleep(max(0.0, started + len(samples) * args.every - time.monotonic()))
    except KeyboardInterrupt:
        print("interrupted: figures so far", flush=True)
    finally:
        counted, tagged = outcomes(client, keys)
        stats = {_text(k): int(v) for k, v in client.hgetall(keys.stats).items()}
        updates = stats.get("accepted:sighting", 0) - tagged
        client.close()
        stop_demo(process)
    report(samples, peak_kinds, counted, tagged, updates, stats)
    if args.supervise:
        print(f"scripted supervisor: {sent} assignments made (priority-1 sightings only)")
    return 0


def report(samples, peak_kinds: Counter, counted: Counter, tagged: int, updates: int, stats: dict) -> None:
    if not samples:
        print("no sample taken")
        return
    minutes = samples[-1][0] / 60
    for name, column in (("open sightings", 1), ("open alerts", 2)):
        values = [row[column] for row in samples]
        peak = max(samples, key=lambda row: row[column])
        print(f"{name:15s} peak {max(values)} (at {peak[0] / 60:.1f} min), median {statistics.median(values):g}, "
              f"final {values[-1]}")
    print(f"{len(samples)} samples over {minutes:.1f} min")
    print("open alerts by kind at the peak: " + (", ".join(f"{k} {n}" for k, n in peak_kinds.most_common()) or "none"))
    print(f"sightings tagged: {tagged}; operator updates accepted: {max(0, updates)}; "
          f"rejected entries: {sum(v for k, v in stats.items() if k.startswith('rejected:'))}")
    print("sightings by outcome (from the recorded events):")
    for outcome, count in sorted(counted.items(), key=lambda item: (-item[1], item[0])):
        print(f"  {count:5d}  {outcome}")


if __name__ == "__main__":
    sys.exit(main())
