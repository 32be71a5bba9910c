"""Incident numbers through the real ingest step (store/scripts.py) on a real Redis, signed in as ingest."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import orjson
import pytest
import redis

from dispatch.domain.acl import RedisUser
from dispatch.domain.batch import plan_batch
from dispatch.store import streams
from dispatch.store.connection import connect
from dispatch.store.scripts import IngestScript
from tests.services.test_ingest import RunningWorker, now_ms, sighting, telemetry
from tests.support.processes import role_url, wait_until

PARIS = "Europe/Paris"


@pytest.fixture
def ingest_client(role_client):
    return role_client(RedisUser.INGEST)


def ingest(client, keys, zone=PARIS, consumer="c1"):
    """One batch: read what is new, plan it, apply it with the ingest step."""
    entries = streams.read_group(client, keys, consumer, count=500, block_ms=None)
    plan = plan_batch(entries, zone=zone)
    IngestScript(client, keys, live_maxlen=1000)(plan)
    return plan


def numbers(client, keys) -> dict[str, str]:
    return {k.decode(): orjson.loads(v)["number"] for k, v in client.hgetall(keys.sightings).items()}


def live_numbers(client, keys) -> list[str]:
    found = []
    for _, fields in client.xrange(keys.live):
        found += [s["number"] for s in orjson.loads(fields.get(b"sightings", b"[]"))]
    return found


def test_new_sightings_are_numbered_in_order_and_updates_keep_theirs(keys, redis_client, ingest_client):
    streams.ensure_groups(redis_client, keys)
    t = now_ms()
    redis_client.xadd(keys.in_sightings, sighting("aaaa-1", ts=t))
    redis_client.xadd(keys.in_telemetry, telemetry())
    ingest(ingest_client, keys)
    redis_client.xadd(keys.in_sightings, sighting("bbbb-2", ts=t + 1))
    ingest(ingest_client, keys)

    assert numbers(redis_client, keys) == {"aaaa-1": "S-0001", "bbbb-2": "S-0002"}
    assert live_numbers(redis_client, keys) == ["S-0001", "S-0002"], "the live deltas carry the number"

    redis_client.xadd(keys.in_sightings, sighting("aaaa-1", ts=t + 5, priority=2, note="moved on"))
    ingest(ingest_client, keys)
    stored = orjson.loads(redis_client.hget(keys.sightings, "aaaa-1"))
    assert stored["number"] == "S-0001" and stored["note"] == "moved on", "an update keeps its number"
    assert live_numbers(redis_client, keys)[-1] == "S-0001"
    day = datetime.now(timezone.utc).astimezone(ZoneInfo(PARIS)).date().isoformat()
    assert redis_client.get(keys.sighting_number(day)) == b"2"
    assert 0 < redis_client.pttl(keys.sighting_number(day)) <= 2 * 86_400_000


def test_a_redelivered_or_late_entry_takes_no_number(keys, redis_client, ingest_client):
    streams.ensure_groups(redis_client, keys)
    t = now_ms()
    redis_client.xadd(keys.in_sightings, sighting("aaaa-1", ts=t))
    entries = streams.read_group(ingest_client, keys, "c1", count=10, block_ms=None)
    plan = plan_batch(entries, zone=PARIS)
    script = IngestScript(ingest_client, keys, live_maxlen=1000)
    script(plan)
    script(plan)  # the same batch applied again (a worker died after the step, before it knew)
    redis_client.xadd(keys.in_sightings, sighting("aaaa-1", ts=t))  # the same message sent twice
    redis_client.xadd(keys.in_sightings, sighting("aaaa-1", ts=t - 1000))  # a late one
    ingest(ingest_client, keys)
    redis_client.xadd(keys.in_sightings, sighting("cccc-3", ts=t + 1))
    ingest(ingest_client, keys)

    assert numbers(redis_client, keys) == {"aaaa-1": "S-0001", "cccc-3": "S-0002"}


def test_numbering_starts_again_after_local_midnight(keys, redis_client, ingest_client):
    streams.ensure_groups(redis_client, keys)
    # 23:59:59 and 00:00:01 in Paris (UTC+1 in January): the entry ids are Redis's arrival times.
    before = int(datetime(2026, 1, 15, 22, 59, 59, tzinfo=timezone.utc).timestamp() * 1000)
    after = before + 2_000
    redis_client.xadd(keys.in_sightings, sighting("late-1", ts=before - 10), id=f"{before}-0")
    redis_client.xadd(keys.in_sightings, sighting("late-2", ts=before - 5), id=f"{before}-1")
    redis_client.xadd(keys.in_sightings, sighting("early-1", ts=after - 10), id=f"{after}-0")
    redis_client.xadd(keys.in_sightings, sighting("late-1", ts=after - 5), id=f"{after}-1")  # its update
    ingest(ingest_client, keys)  # one batch across midnight

    assert numbers(redis_client, keys) == {"late-1": "S-0001", "late-2": "S-0002", "early-1": "S-0001"}
    assert redis_client.get(keys.sighting_number("2026-01-15")) == b"2"
    assert redis_client.get(keys.sighting_number("2026-01-16")) == b"1"


def test_a_broken_counter_fails_the_step_before_anything_is_written(keys, redis_client, ingest_client):
    streams.ensure_groups(redis_client, keys)
    day = datetime.now(timezone.utc).astimezone(ZoneInfo(PARIS)).date().isoformat()
    redis_client.hset(keys.sighting_number(day), "x", "1")  # wrong type, written by hand
    redis_client.xadd(keys.in_sightings, sighting("aaaa-1"))
    with pytest.raises(redis.ResponseError):
        ingest(ingest_client, keys)
    assert redis_client.hlen(keys.sightings) == 0 and redis_client.xlen(keys.live) == 0
    assert redis_client.xpending(keys.in_sightings, "ingest")["pending"] == 1, "nothing acknowledged"


def test_two_workers_ingesting_at_once_never_give_the_same_number(settings, keys, redis_client):
    as_ingest = dataclasses.replace(settings, redis_url=role_url(settings, RedisUser.INGEST), ingest_batch=3)
    streams.ensure_groups(redis_client, keys)
    writer = connect(settings.redis_url)
    count = 120
    with RunningWorker(as_ingest, consumer="w1"), RunningWorker(as_ingest, consumer="w2"):
        t = now_ms()
        pipe = writer.pipeline(transaction=False)
        for i in range(count):
            pipe.xadd(keys.in_sightings, sighting(f"race-{i:04d}", ts=t + i))
        pipe.execute()
        wait_until(lambda: redis_client.hlen(keys.sightings) == count, timeout=20)
    given = sorted(numbers(redis_client, keys).values())
    assert given == [f"S-{n:04d}" for n in range(1, count + 1)], "no number twice, none skipped"
    consumers = {c["name"] for c in redis_client.xinfo_consumers(keys.in_sightings, "ingest")}
    assert consumers >= {b"w1", b"w2"}, "both workers read the stream"
    writer.close()
