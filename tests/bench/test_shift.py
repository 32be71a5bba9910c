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


def test_outcomes_are_the_products_own_count_of_its_recorded_endings(redis_client, keys):
    """Ended sightings by their recorded outcome (the same count as replay's figures), open ones by whether
    a patrol was sent."""
    from dispatch.store.assignments import assign, close_sighting, expire_sighting
    from tests.store.test_assignments import ingest, patrol
    from tests.store.test_assignments import sighting as report

    bench = shift_bench()
    ingest(redis_client, keys, patrols=[patrol("BAC-12")],
           sightings=[report(f"sight-000{n}", lat=48.11 + n / 1000) for n in range(1, 5)])
    close_sighting(redis_client, keys, sighting_id="sight-0001", supervisor_id="SUP-1", reason="false_alarm")
    expire_sighting(redis_client, keys, sighting_id="sight-0002")
    assign(redis_client, keys, sighting_id="sight-0003", patrol_id="BAC-12", supervisor_id="SUP-1")
    counted, tagged = bench.outcomes(redis_client, keys)
    assert tagged == 4
    assert counted == {"closed:false_alarm": 1, "expired": 1, "open, patrol sent": 1, "open, nobody sent": 1}
    opened, _, _ = bench.sample(redis_client, keys)
    assert opened == 2, "ended sightings left the picture"


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
