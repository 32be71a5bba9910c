"""Ingest throughput: telemetry entries per second through one worker process.

    .venv/bin/python bench/ingest.py [--entries 200000] [--runs 5] [--wide-every N] [--serial] [--before REV]

Each run fills a fresh site's telemetry stream with N entries (200 drones, 1 %
malformed), starts one `python -m dispatch ingest` process and times the drain
(validate, coalesce, update the picture, publish the live delta, dead-letter,
ack). In the same run, on the same private redis-server, `redis-benchmark -P 16`
measures the raw pipelined XADD rate as a reference. Every run checks that
nothing was lost: accepted + dead-lettered == sent, nothing pending, and each
drone holds its newest position. Medians are quoted; the machine is noisy.

`--serial` also times each run with DISPATCH_INGEST_OVERLAP=0: one step at a time, replies parsed by
redis-py (the path before issue 15's overlap), in the same run.

`--before REV` also times the worker of git revision REV (its dispatch/ exported with git archive), in
the same run: the before figure of a change, on the same server in the same minutes.

`--wide-every N` makes one entry in N the hostile entry of issue 10: a valid
telemetry message followed by 10,000 extra fields `x0 1 ... x9999 1`. Each is
dead-lettered (with a bounded copy) and the valid entries around it still land.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dispatch.keys import Keys  # noqa: E402
from dispatch.settings import Settings  # noqa: E402
from dispatch.store import streams  # noqa: E402
from dispatch.store.connection import connect  # noqa: E402
from dispatch.store.embedded import EmbeddedRedis  # noqa: E402
from dispatch.store.state import read_snapshot, read_stats  # noqa: E402

DRONES = 200
BAD_EVERY = 100
WIDE_FIELDS = {f"x{i}": 1 for i in range(10_000)}


def fill(client, keys: Keys, count: int, wide_every: int = 0) -> tuple[int, dict[str, int]]:
    base = int(time.time() * 1000) - count // 10
    newest: dict[str, int] = {}
    bad = 0
    pipe = client.pipeline(transaction=False)
    for i in range(count):
        drone = f"DR-{i % DRONES}"
        ts = base + i // 10
        fields = {"drone_id": drone, "ts": ts, "lat": f"{48.10 + (i % 997) / 100_000:.6f}",
                  "lon": f"{-1.68 + (i % 991) / 100_000:.6f}", "alt_m": "95.0", "heading_deg": i % 360,
                  "speed_mps": "8.5", "battery_pct": f"{90 - (i % 50) / 10:.1f}"}
        if i % BAD_EVERY == 7:
            fields["battery_pct"] = "140"
            bad += 1
        elif wide_every and i % wide_every == wide_every - 1:
            fields.update(WIDE_FIELDS)
            bad += 1
        else:
            newest[drone] = max(ts, newest.get(drone, 0))
        pipe.xadd(keys.in_telemetry, fields)
        if len(pipe) >= 2000:
            pipe.execute()
    pipe.execute()
    return bad, newest


def ingest_run(server: EmbeddedRedis, run: int, count: int, batch: int, wide_every: int = 0,
               overlap: bool = True, tree: Path | None = None) -> float:
    """`tree`: a checkout of the code to run the worker from (`--before`), else this one."""
    site = f"bench{run}{'' if overlap else 'serial'}{'before' if tree else ''}"
    keys = Keys(site)
    client = connect(server.url)
    bad, newest = fill(client, keys, count, wide_every)
    settings = Settings.from_env({"REDIS_URL": server.url, "DISPATCH_SITE": site,
                                  "DISPATCH_INGEST_BATCH": str(batch),
                                  "DISPATCH_INGEST_OVERLAP": "1" if overlap else "0"})
    env = {**settings.as_env(), "PATH": "/usr/bin:/bin"}
    worker = subprocess.Popen([sys.executable, "-m", "dispatch", "ingest"], env=env,
                              cwd=tree or Path(__file__).resolve().parent.parent,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        first_seen = None
        while True:
            done = sum(read_stats(client, keys).values())
            now = time.perf_counter()
            if done and first_seen is None:
                first_seen, done_at_first = now, done
            if done >= count:
                break
            if worker.poll() is not None:
                raise SystemExit(f"ingest worker exited with {worker.returncode}")
            time.sleep(0.01)
        elapsed = now - first_seen
        rate = (count - done_at_first) / elapsed
    finally:
        worker.terminate()
        worker.wait()
    check_nothing_lost(client, keys, count, bad, newest)
    client.delete(keys.in_telemetry, keys.live, keys.deadletter)
    client.close()
    return rate


def check_nothing_lost(client, keys: Keys, count: int, bad: int, newest: dict[str, int]) -> None:
    stats = read_stats(client, keys)
    problems = []
    if stats.get("accepted:telemetry", 0) + stats.get("rejected:telemetry", 0) != count:
        problems.append(f"accounted {stats} for {count} sent")
    if client.xlen(keys.deadletter) != bad or stats.get("rejected:telemetry") != bad:
        problems.append(f"dead letters {client.xlen(keys.deadletter)}, expected {bad}")
    if streams.pending_count(client, keys):
        problems.append(f"{streams.pending_count(client, keys)} entries left pending")
    stored = {d["drone_id"]: d["ts"] for d in read_snapshot(client, keys)["drones"]}
    if stored != newest:
        problems.append("some drone does not hold its newest position")
    if problems:
        raise SystemExit("LOST OR DUPLICATED: " + "; ".join(problems))


def tree_at(revision: str) -> Path:
    """The dispatch package as it was at `revision`, exported to a directory of its own."""
    root = Path(__file__).resolve().parent.parent
    tree = Path(tempfile.mkdtemp(prefix="ingest-before-"))
    archive = subprocess.run(["git", "archive", revision, "dispatch"], cwd=root, check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def raw_xadd_rate(server: EmbeddedRedis, count: int) -> float:
    binary = shutil.which("redis-benchmark")
    if not binary:
        raise SystemExit("redis-benchmark not found: apt-get install redis-tools")
    fields = ["drone_id", "DR-1", "ts", "1764000000000", "lat", "48.100000", "lon", "-1.680000",
              "alt_m", "95.0", "heading_deg", "120", "speed_mps", "8.5", "battery_pct", "88.0"]
    output = subprocess.run(
        [binary, "-p", str(server.port), "-P", "16", "-n", str(count), "-q",
         "XADD", "{bench}:reference", "MAXLEN", "~", "1000000", "*", *fields],
        capture_output=True, text=True, check=True,
    ).stdout
    match = re.search(r"([\d.]+) requests per second", output.replace(",", ""))
    if not match:
        raise SystemExit(f"could not read redis-benchmark output: {output!r}")
    return float(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description="Ingest throughput against raw XADD.")
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=Settings.ingest_batch)
    parser.add_argument("--wide-every", type=int, default=0,
                        help="one entry in N carries 10,000 extra fields (issue 10); 0: none")
    parser.add_argument("--before", metavar="REVISION",
                        help="also time the worker as it was at this git revision, in the same run")
    parser.add_argument("--serial", action="store_true",
                        help="also time each run with DISPATCH_INGEST_OVERLAP=0 (one step at a time), as a reference")
    args = parser.parse_args()

    with EmbeddedRedis(Path(tempfile.mkdtemp(prefix="bench-redis-")), persistent=False) as server:
        print(f"redis-server {server.url}, {args.entries} telemetry entries per run, "
              f"{DRONES} drones, 1 in {BAD_EVERY} malformed, batch {args.batch}"
              + (f", 1 in {args.wide_every} with 10,000 extra fields" if args.wide_every else ""))
        before = tree_at(args.before) if args.before else None
        ingest_rates, raw_rates, serial_rates, before_rates = [], [], [], []
        for run in range(args.runs):
            raw_rates.append(raw_xadd_rate(server, args.entries))
            ingest_rates.append(ingest_run(server, run, args.entries, args.batch, args.wide_every))
            if args.serial:
                serial_rates.append(ingest_run(server, run, args.entries, args.batch, args.wide_every, overlap=False))
            if before:
                before_rates.append(ingest_run(server, run, args.entries, args.batch, args.wide_every, tree=before))
            print(f"run {run + 1}: ingest {ingest_rates[-1]:>9,.0f} entries/s   "
                  + (f"one step at a time {serial_rates[-1]:>9,.0f}   " if args.serial else "")
                  + (f"at {args.before} {before_rates[-1]:>9,.0f}   " if before else "")
                  + f"raw XADD -P 16 {raw_rates[-1]:>9,.0f} /s   nothing lost")
        ingest, raw = statistics.median(ingest_rates), statistics.median(raw_rates)
        print(f"\nmedian ingest: {ingest:,.0f} entries/s (one worker process)")
        if before:
            print(f"median ingest of the worker at {args.before}: {statistics.median(before_rates):,.0f} entries/s, "
                  f"ratio {statistics.median(before_rates) / raw:.2f}")
        if args.serial:
            print(f"median ingest one step at a time (DISPATCH_INGEST_OVERLAP=0, the path before issue 15's "
                  f"overlap): {statistics.median(serial_rates):,.0f} entries/s, "
                  f"ratio {statistics.median(serial_rates) / raw:.2f}")
        print(f"median raw XADD (redis-benchmark -P 16): {raw:,.0f} /s")
        print(f"ratio ingest / raw XADD: {ingest / raw:.2f}")
        print(f"target 50,000 entries/s: {'met' if ingest >= 50_000 else 'NOT met'}")
        print(f"issue 15 target 120,000 entries/s and ratio 0.25: "
              f"{'met' if ingest >= 120_000 and ingest / raw >= 0.25 else 'NOT met'}")


if __name__ == "__main__":
    main()
