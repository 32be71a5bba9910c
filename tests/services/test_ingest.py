"""Ingest against a real Redis: what lands in the picture, the dead letters, the counters."""

from __future__ import annotations

import threading
import time

import orjson

from dispatch.domain.batch import DEADLETTER_MAX_VALUE_BYTES, RawEntry, plan_batch
from dispatch.services.ingest import IngestWorker
from dispatch.keys import INGEST_GROUP
from dispatch.store import streams
from dispatch.store.scripts import IngestScript
from dispatch.store.state import read_snapshot, read_stats
from tests.support.processes import wait_until


def now_ms() -> int:
    return int(time.time() * 1000)


def telemetry(drone_id="DR-07", ts=None, lat=48.11, lon=-1.68, **extra):
    fields = {"drone_id": drone_id, "ts": ts or now_ms(), "lat": lat, "lon": lon, "alt_m": 80,
              "heading_deg": 90, "speed_mps": 6.5, "battery_pct": 81}
    fields.update(extra)
    return fields


def patrol(patrol_id="BAC-12", status="available", ts=None, lat=48.112, lon=-1.675):
    return {"patrol_id": patrol_id, "ts": ts or now_ms(), "lat": lat, "lon": lon, "status": status}


def sighting(sighting_id="sight-0001", ts=None, **extra):
    fields = {"sighting_id": sighting_id, "ts": ts or now_ms(), "drone_id": "DR-07", "operator_id": "OP-1",
              "category": "deal", "lat": 48.1105, "lon": -1.6801, "priority": 1, "note": "lookout at the corner"}
    fields.update(extra)
    return fields


class RunningWorker:
    """An IngestWorker in a thread of the test process, for tests that need no real kill."""

    def __init__(self, settings, consumer="test-worker"):
        self.worker = IngestWorker(settings, consumer=consumer)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.worker.run, args=(self.stop,), daemon=True)

    def __enter__(self):
        self.thread.start()
        return self.worker

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive(), "ingest worker did not stop"


def processed(client, keys) -> int:
    return sum(read_stats(client, keys).values())


def test_valid_entries_land_in_the_picture_and_the_live_stream(settings, keys, redis_client):
    ts = now_ms()
    redis_client.xadd(keys.in_telemetry, telemetry(ts=ts - 100, lat=48.10))
    redis_client.xadd(keys.in_telemetry, telemetry(ts=ts, lat=48.12))
    redis_client.xadd(keys.in_patrols, patrol(ts=ts))
    redis_client.xadd(keys.in_patrols, patrol("PS-3", status="on_scene", ts=ts))
    redis_client.xadd(keys.in_sightings, sighting(ts=ts))

    with RunningWorker(settings):
        wait_until(lambda: processed(redis_client, keys) == 5, what="5 entries processed")

    snapshot = read_snapshot(redis_client, keys)
    assert [d["lat"] for d in snapshot["drones"]] == [48.12], "the newer position wins"
    assert {p["patrol_id"]: p["status"] for p in snapshot["patrols"]} == {"BAC-12": "available", "PS-3": "on_scene"}
    assert snapshot["sightings"][0]["note"] == "lookout at the corner"
    assert read_stats(redis_client, keys) == {"accepted:telemetry": 2, "accepted:patrol": 2, "accepted:sighting": 1}
    available = redis_client.geosearch(keys.patrols_available, longitude=-1.68, latitude=48.11, radius=5, unit="km")
    assert available == [b"BAC-12"], "only the available patrol is in the GEO set"
    delta_units = [unit for _, fields in redis_client.xrange(keys.live)
                   for value in fields.values() for unit in orjson.loads(value)]
    assert {u.get("sighting_id") or u.get("patrol_id") or u.get("drone_id") for u in delta_units} == {
        "DR-07", "BAC-12", "PS-3", "sight-0001"}
    assert snapshot["live_id"] == redis_client.xrevrange(keys.live, count=1)[0][0].decode()
    assert streams.pending_count(redis_client, keys) == 0


MALFORMED = [
    ("telemetry", telemetry(lat=123.4), "lat"),
    ("telemetry", telemetry(lon="east"), "lon: not a number"),
    ("telemetry", {k: v for k, v in telemetry().items() if k != "battery_pct"}, "missing field 'battery_pct'"),
    ("telemetry", telemetry(drone_id="drone seven"), "drone_id: bad format"),
    ("telemetry", telemetry(ts=now_ms() + 3_600_000), "in the future"),
    ("telemetry", telemetry(ts=int(time.time())), "in the past"),
    ("telemetry", telemetry(lng=-1.6), "unknown field 'lng'"),
    ("telemetry", telemetry(lat=b"\xff\xfe"), "not valid UTF-8"),
    ("telemetry", telemetry(alt_m="x" * 2000), "oversized"),
    ("sighting", sighting(category="riot"), "category: unknown value 'riot'"),
    ("sighting", sighting(priority=7), "priority"),
    ("sighting", sighting(note="n" * 141), "note: too long"),
    ("patrol", patrol(status="lunch"), "status: unknown value 'lunch'"),
    ("patrol", patrol(patrol_id="Officer Dupont"), "patrol_id: bad format"),
]


def test_every_malformed_entry_is_dead_lettered_with_its_reason(settings, keys, redis_client):
    sent = []  # (source, entry id): ids are unique per stream only
    for kind, fields, _ in MALFORMED:
        sent.append((kind, redis_client.xadd(keys.inputs[kind], fields).decode()))
    redis_client.xadd(keys.in_telemetry, telemetry())

    with RunningWorker(settings):
        wait_until(lambda: processed(redis_client, keys) == len(MALFORMED) + 1, what="all entries processed")

    letters = {(f[b"source"].decode(), f[b"entry_id"].decode()): f for _, f in redis_client.xrange(keys.deadletter)}
    assert set(letters) == set(sent), "exactly the malformed entries are dead-lettered"
    for (_, fields, expected_reason), source_and_id in zip(MALFORMED, sent):
        letter = letters[source_and_id]
        assert expected_reason in letter[b"reason"].decode()
        original = {name[2:].decode(): value for name, value in letter.items() if name.startswith(b"f:")}
        sent_fields = {name: str(v).encode() if not isinstance(v, bytes) else v for name, v in fields.items()}
        # Values are kept up to the contract's 512 bytes (docs/streams.md, "Size limits"), and the cut is said.
        assert original == {name: value[:DEADLETTER_MAX_VALUE_BYTES] for name, value in sent_fields.items()}
        cut = any(len(value) > DEADLETTER_MAX_VALUE_BYTES for value in sent_fields.values())
        assert (b"truncated" in letter) == cut
    stats = read_stats(redis_client, keys)
    assert stats["accepted:telemetry"] == 1
    assert sum(v for k, v in stats.items() if k.startswith("rejected:")) == len(MALFORMED)
    assert len(read_snapshot(redis_client, keys)["drones"]) == 1


def test_applying_the_same_batch_twice_changes_nothing(settings, keys, redis_client):
    streams.ensure_groups(redis_client, keys)
    redis_client.xadd(keys.in_telemetry, telemetry())
    redis_client.xadd(keys.in_telemetry, telemetry(lat=99))
    redis_client.xadd(keys.in_patrols, patrol())
    entries = streams.read_group(redis_client, keys, "c1", count=100, block_ms=None)
    plan = plan_batch(entries)
    script = IngestScript(redis_client, keys, live_maxlen=1000)

    script(plan)
    before = _everything(redis_client, keys)
    result = script(plan)

    assert result[:4] == [0, 0, 0, 0], "nothing rejected or changed the second time"
    assert _everything(redis_client, keys) == before


def test_an_older_message_never_moves_a_unit_back(settings, keys, redis_client):
    ts = now_ms()
    redis_client.xadd(keys.in_patrols, patrol(ts=ts, status="unavailable", lat=48.2))
    with RunningWorker(settings):
        wait_until(lambda: processed(redis_client, keys) == 1, what="first report")
        redis_client.xadd(keys.in_patrols, patrol(ts=ts - 5_000, status="available", lat=48.0))
        wait_until(lambda: processed(redis_client, keys) == 2, what="late report")

    (stored,) = read_snapshot(redis_client, keys)["patrols"]
    assert (stored["status"], stored["lat"]) == ("unavailable", 48.2)
    assert redis_client.zcard(keys.patrols_available) == 0
    assert redis_client.xlen(keys.live) == 1, "the ignored report published no delta"


def test_a_patrol_with_an_open_assignment_keeps_its_assigned_status(settings, keys, redis_client):
    """Its own report moves it on the map; only the assignment lifecycle changes its status."""
    ts = now_ms()
    redis_client.xadd(keys.in_patrols, patrol(ts=ts - 1_000, status="available"))
    with RunningWorker(settings):
        wait_until(lambda: processed(redis_client, keys) == 1, what="first report")
        assert redis_client.zcard(keys.patrols_available) == 1
        # What the assignment script does when a supervisor assigns BAC-12:
        redis_client.hset(keys.patrol_assignment, "BAC-12", "assignment-0001")
        redis_client.hset(keys.patrols, "BAC-12", orjson.dumps({**patrol(ts=ts - 1_000), "status": "assigned"}))
        redis_client.zrem(keys.patrols_available, "BAC-12")

        redis_client.xadd(keys.in_patrols, patrol(ts=ts, status="available", lat=48.2))
        wait_until(lambda: processed(redis_client, keys) == 2, what="report while assigned")

    (stored,) = read_snapshot(redis_client, keys)["patrols"]
    assert (stored["status"], stored["lat"]) == ("assigned", 48.2)
    assert redis_client.zcard(keys.patrols_available) == 0, "not back in the available set"
    (_, delta), = redis_client.xrevrange(keys.live, count=1)
    assert orjson.loads(delta[b"patrols"])[0]["status"] == "assigned"


def test_entries_left_by_a_dead_consumer_are_taken_over(settings, keys, redis_client):
    streams.ensure_groups(redis_client, keys)
    redis_client.xadd(keys.in_telemetry, telemetry())
    taken = redis_client.xreadgroup(INGEST_GROUP, "ghost", {keys.in_telemetry: ">"}, count=10)
    assert len(taken[0][1]) == 1 and streams.pending_count(redis_client, keys) == 1

    with RunningWorker(settings):
        wait_until(lambda: processed(redis_client, keys) == 1, timeout=10, what="claim of the ghost's entry")

    assert streams.pending_count(redis_client, keys) == 0
    assert len(read_snapshot(redis_client, keys)["drones"]) == 1


def test_a_poison_entry_is_dead_lettered_after_too_many_deliveries(settings, keys, redis_client):
    streams.ensure_groups(redis_client, keys)
    entry_id = redis_client.xadd(keys.in_telemetry, telemetry())
    redis_client.xreadgroup(INGEST_GROUP, "ghost", {keys.in_telemetry: ">"}, count=10)
    redis_client.xclaim(keys.in_telemetry, INGEST_GROUP, "ghost", 0, [entry_id],
                        retrycount=settings.max_deliveries + 1)

    with RunningWorker(settings):
        wait_until(lambda: redis_client.xlen(keys.deadletter) == 1, what="poison dead-lettered")

    (_, letter), = redis_client.xrange(keys.deadletter)
    assert letter[b"reason"].startswith(b"poison: delivered")
    assert letter[b"f:drone_id"] == b"DR-07", "the original fields are kept"
    assert streams.pending_count(redis_client, keys) == 0


def test_an_entry_trimmed_while_pending_is_accounted_for(settings, keys, redis_client):
    streams.ensure_groups(redis_client, keys)
    entry_id = redis_client.xadd(keys.in_telemetry, telemetry())
    redis_client.xreadgroup(INGEST_GROUP, "ghost", {keys.in_telemetry: ">"}, count=10)
    redis_client.xdel(keys.in_telemetry, entry_id)

    with RunningWorker(settings):
        wait_until(lambda: processed(redis_client, keys) == 1, what="trimmed entry accounted")

    (_, letter), = redis_client.xrange(keys.deadletter)
    assert b"trimmed" in letter[b"reason"]
    assert streams.pending_count(redis_client, keys) == 0


def test_plan_is_pure_and_coalesces_per_unit():
    ts = now_ms()
    entries = [
        RawEntry("telemetry", f"{ts}-{i}", {k.encode(): str(v).encode() for k, v in telemetry(ts=ts + i).items()})
        for i in range(50)
    ]
    plan = plan_batch(entries)
    assert len(plan.accepted["telemetry"]) == 50
    assert [(d.unit_id, d.ts) for d in plan.drones] == [("DR-07", ts + 49)]


def _everything(client, keys) -> dict:
    """Every key of the site, dumped, to compare whole states."""
    state = {}
    for key in client.scan_iter(match=f"{{{keys.site}}}:*"):
        kind = client.type(key)
        if kind == b"hash":
            state[key] = client.hgetall(key)
        elif kind == b"stream":
            state[key] = (client.xrange(key), client.xinfo_groups(key) if key in map(str.encode, keys.inputs.values()) else None)
        elif kind == b"zset":
            state[key] = client.zrange(key, 0, -1, withscores=True)
    return state
