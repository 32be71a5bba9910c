"""Dead consumers do not pile up in the ingest group (issue 10, defect 13).

A crashed worker leaves its consumer in the group. The claim sweep takes its
pending entries over, and removes it once it has nothing pending and has been
idle past DISPATCH_CONSUMER_IDLE_REMOVE_S (never sooner than the claim idle
time). A consumer still holding entries is never removed: XGROUP DELCONSUMER
would drop those entries from the group for good.
"""

from __future__ import annotations

import dataclasses
import time

from dispatch.keys import INGEST_GROUP
from dispatch.store import streams
from dispatch.store.state import read_snapshot
from tests.services.test_ingest import RunningWorker, processed, telemetry
from tests.support.processes import python_module, wait_until


def consumers(client, keys) -> set[str]:
    """Every consumer of the ingest group, over all input streams."""
    names = set()
    for stream in keys.inputs.values():
        names |= {row["name"].decode() for row in client.xinfo_consumers(stream, INGEST_GROUP)}
    return names


def test_only_idle_consumers_with_nothing_pending_are_removed(keys, redis_client):
    streams.ensure_groups(redis_client, keys)
    held = redis_client.xadd(keys.in_telemetry, telemetry("DR-1"))
    done = redis_client.xadd(keys.in_telemetry, telemetry("DR-2"))
    redis_client.xreadgroup(INGEST_GROUP, "holder", {keys.in_telemetry: ">"}, count=1)
    redis_client.xreadgroup(INGEST_GROUP, "finished", {keys.in_telemetry: ">"}, count=1)
    redis_client.xack(keys.in_telemetry, INGEST_GROUP, done)
    time.sleep(0.05)

    assert streams.remove_idle_consumers(redis_client, keys, min_idle_ms=60_000) == [], "not idle long enough"
    assert streams.remove_idle_consumers(redis_client, keys, min_idle_ms=10) == ["finished"]
    assert consumers(redis_client, keys) == {"holder"}, "however idle, a consumer holding an entry stays"
    assert streams.pending_count(redis_client, keys) == 1

    # Once another consumer has taken its entry over, it goes too; the caller keeps itself.
    redis_client.xautoclaim(keys.in_telemetry, INGEST_GROUP, "taker", 0)
    assert streams.remove_idle_consumers(redis_client, keys, min_idle_ms=0, keep="taker") == ["holder"]
    assert consumers(redis_client, keys) == {"taker"}
    assert redis_client.xpending(keys.in_telemetry, INGEST_GROUP)["pending"] == 1, "the entry is still there"
    assert redis_client.xack(keys.in_telemetry, INGEST_GROUP, held) == 1


def test_crashed_workers_are_removed_once_their_entries_are_taken_over(settings, keys, redis_client):
    streams.ensure_groups(redis_client, keys)
    # Two real workers (default removal age: they do not remove each other), SIGKILLed after some work.
    for n in range(2):
        redis_client.xadd(keys.in_telemetry, telemetry(f"DR-{n}"))
        worker = python_module(f"ingest-{n}", "dispatch.services.ingest", settings, "--consumer", f"crashed-{n}").start()
        wait_until(lambda: processed(redis_client, keys) == n + 1, what=f"worker {n} at work")
        worker.kill()
    # One that died holding an entry: read, never acked.
    redis_client.xadd(keys.in_telemetry, telemetry("DR-9"))
    redis_client.xreadgroup(INGEST_GROUP, "crashed-holding", {keys.in_telemetry: ">"}, count=10)
    assert consumers(redis_client, keys) == {"crashed-0", "crashed-1", "crashed-holding"}

    seen = []
    with RunningWorker(dataclasses.replace(settings, consumer_idle_remove_s=0.5), consumer="survivor"):
        # Watch: the holder may only disappear after its entry has been processed.
        def settled():
            names = consumers(redis_client, keys)
            seen.append((names, processed(redis_client, keys)))
            return not names & {"crashed-0", "crashed-1", "crashed-holding"}

        wait_until(settled, timeout=15, what="the crashed consumers removed")

    assert all(count == 3 for names, count in seen if "crashed-holding" not in names), seen
    assert consumers(redis_client, keys) <= {"survivor"}
    assert processed(redis_client, keys) == 3
    assert streams.pending_count(redis_client, keys) == 0
    assert {d["drone_id"] for d in read_snapshot(redis_client, keys)["drones"]} == {"DR-0", "DR-1", "DR-9"}
