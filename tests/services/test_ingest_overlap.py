"""A backlog drained with steps overlapped (issue 15): batch N+1 read and planned while batch N's step runs.

Real processes, the real redis-server and the real Lua step. A worker is SIGKILLed while it holds more than
one batch (steps in flight), then restarted under the same consumer name, as a supervisor does: nothing is
lost or doubled, and each stream is applied in order. Order is made visible by giving each drone's entries
the same ts for a stretch: only the first of equals may win (the picture rule), so a later batch applied
before an earlier one leaves a later entry in the picture.
"""

from __future__ import annotations

import dataclasses
import json
import random
import time

from dispatch.store import streams
from dispatch.store.state import read_snapshot, read_stats
from tests.services.test_ingest import RunningWorker, now_ms, patrol
from tests.services.test_ingest_recovery import assert_accounted_once
from tests.support.processes import python_module, wait_until

BATCH = 40
DRONES = 30
STRETCH = 600  # entries per ts value: each drone gets 20 entries of equal ts in a row


def processed(client, keys) -> int:
    return sum(read_stats(client, keys).values())


def write_equal_ts_load(client, keys, count: int, bad_every: int = 89,
                        base: int | None = None) -> tuple[int, dict[str, tuple[int, int]]]:
    """Entry i: drone i % DRONES, ts rising every STRETCH entries, lat carrying i. Returns the bad count and,
    per drone, what in-order ingest must store: (ts, i) of the first entry with the newest ts."""
    base = base or int(time.time() * 1000) - count
    expected: dict[str, tuple[int, int]] = {}
    bad = 0
    pipe = client.pipeline(transaction=False)
    for i in range(count):
        drone, ts = f"DR-{i % DRONES}", base + (i // STRETCH) * 1000
        fields = {"drone_id": drone, "ts": ts, "lat": f"{40 + i / 1e6:.6f}", "lon": "-1.680000", "alt_m": "95.0",
                  "heading_deg": "120", "speed_mps": "8.5", "battery_pct": "88.0"}
        if i % bad_every == 0:
            fields["battery_pct"] = "140"
            bad += 1
        elif drone not in expected or expected[drone][0] < ts:
            expected[drone] = (ts, i)
        pipe.xadd(keys.in_telemetry, fields)
        if len(pipe) >= 1000:
            pipe.execute()
    pipe.execute()
    return bad, expected


def assert_in_order_exactly_once(client, keys, total: int, bad: int, expected: dict[str, tuple[int, int]]) -> None:
    assert_accounted_once(client, keys, total, bad)
    stored = {d["drone_id"]: (d["ts"], round((d["lat"] - 40) * 1e6)) for d in read_snapshot(client, keys)["drones"]}
    assert stored == expected, "each drone holds the first entry of its newest ts: batches applied in order"


def test_a_worker_killed_with_steps_in_flight_loses_doubles_and_reorders_nothing(settings, keys, redis_client):
    settings = dataclasses.replace(settings, ingest_batch=BATCH, ingest_overlap=True)
    total = 36_000
    bad, expected = write_equal_ts_load(redis_client, keys, total)
    rng = random.Random(15)

    killed_with_batches_in_flight = 0
    for attempt in range(3):
        worker = python_module(f"ingest-{attempt}", "dispatch.services.ingest", settings, "--consumer", "worker").start()
        goal = processed(redis_client, keys) + rng.randrange(500, 3000)
        wait_until(lambda: processed(redis_client, keys) > goal or not worker.running,
                   timeout=30, what=f"progress of worker {attempt}")
        worker.kill()
        if streams.pending_count(redis_client, keys) > BATCH:
            killed_with_batches_in_flight += 1
    assert killed_with_batches_in_flight >= 1, "never killed a worker holding more than one batch"
    assert processed(redis_client, keys) < total, "the kills happened before the end of the load"

    last = python_module("ingest-last", "dispatch.services.ingest", settings, "--consumer", "worker").start()
    try:
        wait_until(lambda: processed(redis_client, keys) >= total and streams.pending_count(redis_client, keys) == 0,
                   timeout=120, what="the restarted worker to finish the load")
    finally:
        last.stop()
    assert_in_order_exactly_once(redis_client, keys, total, bad, expected)


def test_steps_overlapped_and_one_at_a_time_leave_the_same_picture(settings, keys, redis_client):
    """Same load, two sites: the overlapped drain against DISPATCH_INGEST_OVERLAP=0 (one step at a time)."""
    total = 6_000
    base = int(time.time() * 1000) - total
    outcomes = []
    for overlap in (True, False):
        site_settings = dataclasses.replace(settings, site=f"{settings.site}{int(overlap)}", ingest_batch=BATCH,
                                            ingest_overlap=overlap)
        site_keys = type(keys)(site_settings.site)
        bad, expected = write_equal_ts_load(redis_client, site_keys, total, base=base)
        worker = python_module(f"ingest-{overlap}", "dispatch.services.ingest", site_settings).start()
        try:
            wait_until(lambda: processed(redis_client, site_keys) >= total, timeout=60, what="the load")
        finally:
            worker.stop()
        assert_in_order_exactly_once(redis_client, site_keys, total, bad, expected)
        outcomes.append(sorted(json.dumps(d, sort_keys=True) for d in read_snapshot(redis_client, site_keys)["drones"]))
    assert outcomes[0] == outcomes[1]


def test_a_step_refused_for_want_of_its_script_is_applied_again(settings, keys, redis_client):
    """NOSCRIPT (Redis restarted, scripts gone): the pipe's EVALSHA applied nothing; the worker applies the
    plan again through the script object, which loads it, before the next step is sent."""
    from dispatch.services.ingest import IngestWorker

    settings = dataclasses.replace(settings, ingest_batch=BATCH)
    bad, expected = write_equal_ts_load(redis_client, keys, 3 * BATCH)
    worker = IngestWorker(settings, consumer="c")
    streams.ensure_groups(worker.client, keys)
    redis_client.script_flush()
    worker._next_claim = time.monotonic() + 60  # the claim sweep not due: the drain goes on to the end
    worker._drain_backlog()
    assert_in_order_exactly_once(redis_client, keys, 3 * BATCH, bad, expected)


def test_a_step_failing_in_the_overlapped_drain_dead_letters_only_its_culprit(settings, keys, redis_client):
    """test_ingest_hostile's unforeseen failure (BAC-12 assigned, its stored record not JSON), in the third
    batch of a backlog: that step's outcome comes back through the pipe, the batch is bisected, and only
    BAC-12's report is dead-lettered while the batches around it land."""
    redis_client.hset(keys.patrol_assignment, "BAC-12", "assignment-0001")
    redis_client.hset(keys.patrols, "BAC-12", b"\x00 not json")
    ts = now_ms()
    pipe = redis_client.pipeline(transaction=False)
    for n in range(5 * BATCH):
        pipe.xadd(keys.in_patrols, patrol(f"PS-{n}", ts=ts))
        if n == 2 * BATCH + 7:
            culprit_at = len(pipe)
            pipe.xadd(keys.in_patrols, patrol("BAC-12", ts=ts))
    culprit = pipe.execute()[culprit_at].decode()

    with RunningWorker(dataclasses.replace(settings, ingest_batch=BATCH)) as worker:
        wait_until(lambda: processed(redis_client, keys) == 5 * BATCH + 1, what="the backlog")
        assert worker.processed == 5 * BATCH + 1

    ((_, letter),) = redis_client.xrange(keys.deadletter)
    assert (letter[b"source"], letter[b"entry_id"].decode()) == (b"patrol", culprit)
    assert letter[b"reason"].startswith(b"step-failed: ")
    assert read_stats(redis_client, keys) == {"accepted:patrol": 5 * BATCH, "rejected:patrol": 1}
    assert redis_client.hlen(keys.patrols) == 5 * BATCH + 1, "every other patrol landed; BAC-12 kept as it was"
    assert streams.pending_count(redis_client, keys) == 0
