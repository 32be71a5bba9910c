"""Where one ingest worker's time goes, per entry: CPU of each phase, the server's CPU, and a cProfile.

    .venv/bin/python bench/ingest_phases.py [--entries 100000] [--batch 500] [--profile]

Fills a private redis-server with bench/ingest.py's backlog (200 drones, 1 % malformed), then drains it in
this process through the worker's own steps (read, plan, atomic script), timing each with process time, so
the figures hold on a loaded machine where bench/ingest.py's wall-clock rates swing by half. The server's
CPU comes from INFO cpu. `--profile` runs the worker loop (IngestWorker._step) under cProfile instead and
prints the functions by own time: the profile quoted in notes/issue15-ingest.md.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest import fill, raw_xadd_rate  # noqa: E402  (bench/ingest.py, this script's directory)

from dispatch.domain.batch import plan_batch, plan_rows, split_at_ends  # noqa: E402
from dispatch.keys import Keys  # noqa: E402
from dispatch.services.ingest import IngestWorker  # noqa: E402
from dispatch.settings import Settings  # noqa: E402
from dispatch.store import streams  # noqa: E402
from dispatch.store.connection import connect  # noqa: E402
from dispatch.store.embedded import EmbeddedRedis  # noqa: E402
from dispatch.store.ingest_pipe import StepPipe, size  # noqa: E402
from dispatch.store.state import read_stats  # noqa: E402


def phases(server: EmbeddedRedis, count: int, raw: bool, batch: int) -> None:
    """raw: the backlog path (replies read raw, batch.plan_rows), one step at a time so phases add up;
    else the path of every other read (redis-py's parsing into RawEntry values, batch.plan_batch)."""
    site = f"{'rows' if raw else 'phases'}{batch}"
    keys = Keys(site)
    client = connect(server.url)
    fill(client, keys, count)
    worker = IngestWorker(Settings.from_env({"REDIS_URL": server.url, "DISPATCH_SITE": site,
                                             "DISPATCH_INGEST_BATCH": str(batch)}), consumer="c")
    streams.ensure_groups(client, keys)
    spent = {"read": 0.0, "plan": 0.0, "script": 0.0}
    before, started, done = client.info("cpu"), time.perf_counter(), 0
    with StepPipe(worker.client, keys, worker.apply_plan, "c") as pipe:
        while done < count:
            a = time.process_time()
            if raw:
                rows = pipe.read(worker.settings.ingest_batch)
                b = time.process_time()
                plans, n = [plan_rows(rows, worker.limits)], size(rows)
            else:
                entries = streams.read_group(client, keys, "c", count=worker.settings.ingest_batch, block_ms=None)
                b = time.process_time()
                plans, n = [plan_batch(batch, worker.limits) for batch in split_at_ends(entries)], len(entries)
            c = time.process_time()
            for plan in plans:
                worker.apply_plan(plan)
            spent["read"] += b - a
            spent["plan"] += c - b
            spent["script"] += time.process_time() - c
            done += n
    wall = time.perf_counter() - started
    after = client.info("cpu")
    server_cpu = sum(after[k] - before[k] for k in ("used_cpu_user", "used_cpu_sys"))
    print(f"{'raw replies, plan_rows' if raw else 'redis-py parsing, plan_batch'}, batch {batch}: {count:,} entries, "
          f"{count / wall:,.0f} entries/s wall (one process, steps not overlapped, no profiler)")
    print(f"  worker CPU {sum(spent.values()) / count * 1e6:.2f} µs/entry: "
          + ", ".join(f"{name} {seconds / count * 1e6:.2f}" for name, seconds in spent.items())
          + " (script: building and sending the arguments)")
    print(f"  redis-server CPU {server_cpu / count * 1e6:.2f} µs/entry (XREADGROUP and the script)")


def server_cpu_per_raw_xadd(server: EmbeddedRedis, count: int) -> None:
    """The reference of bench/ingest.py's ratio in the server's own CPU: what one pipelined XADD of the same
    8-field entry costs redis-server, against what ingesting one entry costs it (above). On two cores the
    worker and the server overlap, so the server's share bounds the ratio whatever the worker does."""
    client = connect(server.url)
    before = client.info("cpu")
    rate = raw_xadd_rate(server, count)
    after = client.info("cpu")
    server_cpu = sum(after[k] - before[k] for k in ("used_cpu_user", "used_cpu_sys"))
    print(f"raw XADD (redis-benchmark -P 16): {rate:,.0f} /s wall, redis-server CPU {server_cpu / count * 1e6:.2f} µs/XADD")


def profile(server: EmbeddedRedis, count: int) -> None:
    keys = Keys("profile")
    client = connect(server.url)
    fill(client, keys, count)
    worker = IngestWorker(Settings.from_env({"REDIS_URL": server.url, "DISPATCH_SITE": "profile"}), consumer="c")
    streams.ensure_groups(worker.client, worker.keys)
    profiler = cProfile.Profile()
    profiler.enable()  # from the first step: a backlog is drained in one step (IngestWorker._drain_backlog)
    while sum(read_stats(client, keys).values()) < count:
        worker._step()
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(20)


def main() -> None:
    parser = argparse.ArgumentParser(description="Ingest: CPU per phase, or a cProfile of the worker loop.")
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--batch", type=int, default=Settings.ingest_batch, help="DISPATCH_INGEST_BATCH")
    args = parser.parse_args()
    with EmbeddedRedis(Path(tempfile.mkdtemp(prefix="bench-redis-")), persistent=False) as server:
        if args.profile:
            profile(server, args.entries)
        else:
            phases(server, args.entries, raw=False, batch=args.batch)
            phases(server, args.entries, raw=True, batch=args.batch)
            server_cpu_per_raw_xadd(server, args.entries)


if __name__ == "__main__":
    main()
