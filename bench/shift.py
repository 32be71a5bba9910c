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

Outcomes are the product's own count of what it recorded: every ending on
`{site}:sightings:endings` (dispatched, closed by reason, merged, ended by operator, expired), counted by
`dispatch.domain.sightings.outcome_counts`, the function replay's figures use; sightings still in
the picture are counted as open, with or without a patrol.
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

from dispatch.store import acl  # noqa: E402
from dispatch.domain.acl import RedisUser  # noqa: E402
from dispatch.keys import Keys  # noqa: E402
from dispatch.domain.sightings import outcome_counts  # noqa: E402
from dispatch.store.assignments import AssignmentRefused, assign, open_assignments, sighting_endings  # noqa: E402
from dispatch.store.connection import connect  # noqa: E402
from dispatch.store.nearest import nearest_available  # noqa: E402
from dispatch.store.embedded import free_port  # noqa: E402

SITE = "rennes"
READY_TEXT = "Press Ctrl-C to stop"


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


def sample(client, keys: Keys) -> tuple[int, int, Counter]:
    """(open sightings, open alerts, open alerts by kind) now."""
    alerts = [orjson.loads(raw) for raw in client.hvals(keys.alerts_open)]
    # An ended sighting leaves the picture: what is in it is open.
    return client.hlen(keys.sightings), len(alerts), Counter(str(a.get("kind", "?")) for a in alerts)


def supervise(client, keys: Keys, tried: set[str]) -> int:
    """`--supervise`: a minimal scripted supervisor sends the nearest available patrol to each new
    priority-1 sighting, once, through the same store call as the wall screen. Returns how many."""
    taken = {a["sighting_id"] for a in open_assignments(client, keys)}
    sent = 0
    for raw in client.hvals(keys.sightings):
        sighting = orjson.loads(raw)
        sighting_id = sighting["sighting_id"]
        if sighting.get("priority") != 1 or sighting_id in taken or sighting_id in tried:
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


def outcomes(client, keys: Keys) -> tuple[Counter, int]:
    """Sightings by recorded outcome, plus those still open (with or without a patrol); how many were tagged."""
    counted = Counter({row: n for row, n in outcome_counts(sighting_endings(client, keys)).items() if n})
    assigned = {a["sighting_id"] for a in open_assignments(client, keys)}
    still_open = [_text(sighting_id) for sighting_id in client.hkeys(keys.sightings)]
    sent = sum(sighting_id in assigned for sighting_id in still_open)
    counted["open, patrol sent"] = sent
    counted["open, nobody sent"] = len(still_open) - sent
    return +counted, client.hlen(keys.sightings_ts)


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
    client = connect(f"redis://:{acl.demo_passwords(data_dir / 'var')[RedisUser.ADMIN]}@127.0.0.1:{redis_port}/0")
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
    print(f"sightings tagged: {tagged}; operator updates and ends accepted: {max(0, updates)}; "
          f"rejected entries: {sum(v for k, v in stats.items() if k.startswith('rejected:'))}")
    ignored = {k.removeprefix("ignored:"): v for k, v in sorted(stats.items()) if k.startswith("ignored:")}
    print("accepted but changing nothing: " + (", ".join(f"{k} {v}" for k, v in ignored.items()) or "none"))
    print("sightings by outcome (from the recorded events):")
    for outcome, count in sorted(counted.items(), key=lambda item: (-item[1], item[0])):
        print(f"  {count:5d}  {outcome}")


if __name__ == "__main__":
    sys.exit(main())
