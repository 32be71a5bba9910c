"""bench/shift.py counts sightings by outcome from what the product recorded, endings added later included."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent.parent


def shift_bench():
    spec = importlib.util.spec_from_file_location("bench_shift", ROOT / "bench" / "shift.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sighting(sighting_id: str, **extra) -> bytes:
    return orjson.dumps({"sighting_id": sighting_id, "ts": 1, "category": "deal", "priority": 2, **extra})


def test_outcomes_come_from_the_recorded_events_whatever_their_names(redis_client, keys):
    bench = shift_bench()
    for number in range(1, 7):
        redis_client.hset(keys.sightings_ts, f"s-00000{number}", 1)
    # Dispatched: one cleared, one cancelled, one still open.
    for sighting_id, assignment_id, states in (("s-000001", "a-000001", ["assigned", "cleared"]),
                                                ("s-000002", "a-000002", ["assigned", "cancelled"]),
                                                ("s-000003", "a-000003", ["assigned", "en_route"])):
        for state in states:
            fields = {"assignment_id": assignment_id, "sighting_id": sighting_id, "state": state}
            if state == "cleared":
                fields["outcome"] = "dispersed"
            redis_client.xadd(keys.assignments, fields)
    redis_client.hset(keys.sightings, mapping={"s-000002": sighting("s-000002"),
                                               "s-000003": sighting("s-000003"),
                                               "s-000004": sighting("s-000004"),
                                               "s-000005": sighting("s-000005", state="merged")})
    # An ending recorded in a stream this bench has never heard of: counted under its own name.
    redis_client.xadd(f"{{{keys.site}}}:sightings:log", {"sighting_id": "s-000006", "event": "expired"})
    counted, tagged = bench.outcomes(redis_client, keys)
    assert tagged == 6
    assert counted == {
        "dispatched, cleared: dispersed": 1,
        "dispatched, assignment cancelled": 1,
        "dispatched, assignment open": 1,
        "open, nobody sent": 1,
        "stored: state=merged": 1,
        "sightings:log: event=expired": 1,
    }
    opened, _, _ = bench.sample(redis_client, keys)
    assert opened == 3, "the merged one is not open"


def test_the_scripted_supervisor_sends_the_nearest_patrol_to_priority_one_sightings_once(redis_client, keys):
    bench = shift_bench()
    for patrol_id, lat in (("PS-1", 48.1100), ("PS-2", 48.1300)):
        redis_client.hset(keys.patrols, patrol_id, orjson.dumps(
            {"patrol_id": patrol_id, "ts": 1, "lat": lat, "lon": -1.68, "status": "available"}))
        redis_client.geoadd(keys.patrols_available, (-1.68, lat, patrol_id))
    redis_client.hset(keys.sightings, mapping={
        "s-000001": sighting("s-000001", priority=1, lat=48.1101, lon=-1.68),
        "s-000002": sighting("s-000002", priority=2, lat=48.1101, lon=-1.68),
    })
    tried: set[str] = set()
    assert bench.supervise(redis_client, keys, tried) == 1
    (made,) = bench.open_assignments(redis_client, keys)
    assert (made["sighting_id"], made["patrol_id"]) == ("s-000001", "PS-1")
    assert bench.supervise(redis_client, keys, tried) == 0, "never twice"
