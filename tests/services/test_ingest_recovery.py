"""Ingest as a real process under real failures: SIGKILL mid-batch, Redis restarts."""

from __future__ import annotations

import dataclasses
import time

import pytest

from dispatch.keys import INGEST_GROUP, Keys
from dispatch.settings import Settings
from dispatch.store import streams
from dispatch.store.connection import connect
from dispatch.store.embedded import EmbeddedRedis
from dispatch.store.state import read_snapshot, read_stats
from tests.support.outage import stop_after_outage
from tests.support.processes import python_module, wait_until


def processed(client, keys) -> int:
    return sum(read_stats(client, keys).values())


def write_load(client, keys, count: int, drones: int = 50, bad_every: int = 97) -> tuple[int, dict[str, int]]:
    """XADD `count` telemetry entries, one in `bad_every` malformed; returns (bad count, newest ts per drone)."""
    base = int(time.time() * 1000) - count
    newest: dict[str, int] = {}
    bad = 0
    pipe = client.pipeline(transaction=False)
    for i in range(count):
        drone = f"DR-{i % drones}"
        ts = base + i
        fields = {"drone_id": drone, "ts": ts, "lat": 48.1 + (i % 100) / 10_000, "lon": -1.68,
                  "alt_m": 90, "heading_deg": i % 360, "speed_mps": 7, "battery_pct": 70}
        if i % bad_every == 0:
            fields["lat"] = "not-a-number"
            bad += 1
        else:
            newest[drone] = ts
        pipe.xadd(keys.in_telemetry, fields)
        if len(pipe) >= 1000:
            pipe.execute()
    pipe.execute()
    return bad, newest


def assert_accounted_once(client, keys, total: int, bad: int) -> None:
    """Every telemetry entry counted once, accepted or dead-lettered, and nothing left pending."""
    stats = read_stats(client, keys)
    assert stats.get("accepted:telemetry", 0) == total - bad, stats
    assert stats.get("rejected:telemetry", 0) == bad, stats
    letters = [fields[b"entry_id"] for _, fields in client.xrange(keys.deadletter)]
    assert len(letters) == bad and len(set(letters)) == bad, "each bad entry dead-lettered exactly once"
    assert streams.pending_count(client, keys) == 0, "nothing left pending"


def assert_exactly_once(client, keys, total: int, bad: int, newest: dict[str, int]) -> None:
    assert_accounted_once(client, keys, total, bad)
    stored = {d["drone_id"]: d["ts"] for d in read_snapshot(client, keys)["drones"]}
    assert stored == newest, "every drone holds its newest position"


def test_a_worker_killed_mid_batch_loses_and_duplicates_nothing(settings, keys, redis_client):
    settings = dataclasses.replace(settings, ingest_batch=100)
    total = 60_000
    bad, newest = write_load(redis_client, keys, total)

    # Kill workers until one dies holding delivered-but-unacked entries (mid-batch).
    killed_mid_batch = 0
    for attempt in range(10):
        worker = python_module(f"ingest-{attempt}", "dispatch.services.ingest", settings, "--consumer", f"victim-{attempt}").start()
        start = processed(redis_client, keys)
        wait_until(lambda: processed(redis_client, keys) > start + 500 or not worker.running,
                   timeout=20, what=f"progress of worker {attempt}")
        worker.kill()
        if streams.pending_count(redis_client, keys) > 0:
            killed_mid_batch += 1
            if killed_mid_batch >= 2:
                break
    assert killed_mid_batch >= 1, "never managed to kill a worker mid-batch"
    assert processed(redis_client, keys) < total, "the kills happened before the end of the load"

    # The survivor also removes the dead victims from the group (issue 10, defect 13).
    survivor_settings = dataclasses.replace(settings, consumer_idle_remove_s=0.5)
    survivor = python_module("ingest-survivor", "dispatch.services.ingest", survivor_settings, "--consumer", "survivor").start()
    try:
        wait_until(lambda: processed(redis_client, keys) >= total and streams.pending_count(redis_client, keys) == 0,
                   timeout=60, what="the survivor to finish the load")
        wait_until(lambda: group_consumers(redis_client, keys) == {"survivor"}, timeout=10,
                   what="the dead victims removed from the group")
    finally:
        survivor.stop()
    assert "took over" in survivor.output(), survivor.output()[-2000:]
    assert_exactly_once(redis_client, keys, total, bad, newest)


def group_consumers(client, keys) -> set[str]:
    return {row["name"].decode() for row in client.xinfo_consumers(keys.in_telemetry, INGEST_GROUP)}


@pytest.mark.parametrize("persistent", [True, False], ids=["with-persistence", "without-persistence"])
def test_a_worker_survives_redis_restarting_under_it(tmp_path, site, persistent):
    server = EmbeddedRedis(tmp_path / "redis", persistent=persistent).start()
    settings = Settings.from_env({"REDIS_URL": server.url, "DISPATCH_SITE": site, "DISPATCH_INGEST_BLOCK_MS": "100"})
    keys = Keys(site)
    client = connect(server.url)
    worker = python_module("ingest", "dispatch.services.ingest", settings).start()
    try:
        bad, newest = write_load(client, keys, 2_000, drones=10)
        wait_until(lambda: processed(client, keys) == 2_000, timeout=20, what="first load")

        server.stop()
        time.sleep(1.5)  # longer than the client's own retries: the worker must back off and reconnect
        server.start()
        assert worker.running, worker.output()

        more_bad, newer = write_load(client, keys, 1_000, drones=10)
        expected_total = 3_000 if persistent else 1_000
        wait_until(lambda: processed(client, keys) == expected_total, timeout=30,
                   what="the load written after the restart")
        expected_bad = bad + more_bad if persistent else more_bad
        assert_exactly_once(client, keys, expected_total, expected_bad, {**newest, **newer})
        assert "Redis unavailable" in worker.output()
    finally:
        code = stop_after_outage(worker, client, server)
    assert code == 0, "the worker stops cleanly on SIGTERM"


def test_a_worker_recreates_a_consumer_group_lost_under_it(settings, keys, redis_client):
    """As after a FLUSHALL, or a restart so quick the client's own retries hid it."""
    worker = python_module("ingest", "dispatch.services.ingest", settings).start()
    try:
        bad, newest = write_load(redis_client, keys, 500, drones=5)
        wait_until(lambda: processed(redis_client, keys) == 500, timeout=20, what="first load")
        redis_client.delete(*keys.inputs.values())

        more_bad, newer = write_load(redis_client, keys, 500, drones=5)
        wait_until(lambda: processed(redis_client, keys) == 1_000, timeout=20, what="load after the loss")
    finally:
        worker.stop()
    assert "consumer group missing" in worker.output()
    assert_exactly_once(redis_client, keys, 1_000, bad + more_bad, {**newest, **newer})
