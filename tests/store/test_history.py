"""Replay from the real streams: a scenario through the ingest process and the assignment steps, read back.

The scenario's messages are stamped in the last two minutes and written with
XADD '*' as bridges do; malformed ones among them are dead-lettered by the
real ingest worker and must not appear in the replay. Assignments go through
store/assignments.py. Then load_window reads the window back from the
retained streams only, and the replay must agree with what happened, and at
the window's end with the live picture ingest and the scripts built.
"""

from __future__ import annotations

import statistics
import time

import pytest

from dispatch.clock import now_ms
from dispatch.domain.replay.metrics import response_times
from dispatch.keys import INGEST_GROUP
from dispatch.store.assignments import assign, reassign
from dispatch.store.history import LoadProgress, load_window
from dispatch.store.state import read_snapshot, read_stats
from tests.support.assignments import walk_to_cleared
from tests.support.processes import python_module, wait_until


def telemetry(drone_id, ts, lat, **change):
    fields = {"drone_id": drone_id, "ts": ts, "lat": lat, "lon": -1.68, "alt_m": 90, "heading_deg": 45,
              "speed_mps": 9.5, "battery_pct": 70}
    fields.update(change)
    return fields


def patrol(patrol_id, ts, lat=48.112, status="available"):
    return {"patrol_id": patrol_id, "ts": ts, "lat": lat, "lon": -1.675, "status": status}


def sighting(sighting_id, ts, **change):
    fields = {"sighting_id": sighting_id, "ts": ts, "drone_id": "DR-1", "operator_id": "OP-1", "category": "deal",
              "lat": 48.1105, "lon": -1.6801, "priority": 1, "note": "échanges au pied de l'escalier"}
    fields.update(change)
    return fields


def by_id(units, field):
    return {unit[field]: unit for unit in units}


@pytest.fixture
def scenario(settings, keys, redis_client):
    """Writes the scenario through ingest and the assignment steps; returns its base time and what was sent."""
    base = now_ms() - 120_000
    s = 1000
    good_telemetry = [telemetry("DR-1", base + k * 10 * s, 48.100 + k / 1000) for k in range(11) if k != 3]
    good_telemetry += [telemetry("DR-2", base + 50 * s, 48.2), telemetry("DR-2", base + 70 * s, 48.21)]
    late = telemetry("DR-1", base + 35 * s, 48.135)  # arrives after newer ones: placed by its ts
    bad_telemetry = [
        telemetry("DR-1", base + 45 * s, "48,145"),  # would be DR-1's position from 45 s to 50 s
        telemetry("DR-9", base + 20 * s, 48.3, battery_pct=140),  # a drone never seen otherwise
        telemetry("DR-1", (base + 47 * s) // 1000, 48.147),  # ts in seconds
        {**telemetry("DR-1", base + 48 * s, 48.148), "lng": "-1.68"},  # unknown field
    ]
    patrols = [patrol("BAC-1", base + k * 30 * s, lat=48.110 + k / 1000) for k in range(4)]
    patrols += [patrol("BAC-2", base + 5 * s), patrol("BAC-3", base + 10 * s), patrol("BAC-2", base + 80 * s)]
    bad_patrols = [patrol("BAC-9", base + 15 * s, status="free")]
    sightings = [sighting("sight-0001", base + 20 * s), sighting("sight-0002", base + 40 * s, category="vehicle")]
    bad_sightings = [sighting("sight-0009", base + 30 * s, operator_id="Martin")]

    pipe = redis_client.pipeline(transaction=False)
    for fields in good_telemetry + bad_telemetry + [late]:
        pipe.xadd(keys.in_telemetry, fields)
    for fields in patrols + bad_patrols:
        pipe.xadd(keys.in_patrols, fields)
    for fields in sightings + bad_sightings:
        pipe.xadd(keys.in_sightings, fields)
    pipe.execute()
    sent = len(good_telemetry) + len(bad_telemetry) + 1 + len(patrols) + len(bad_patrols) + len(sightings) + len(
        bad_sightings)
    worker = python_module("ingest", "dispatch.services.ingest", settings).start()
    try:
        wait_until(lambda: sum(read_stats(redis_client, keys).values()) == sent, timeout=20, what="ingest")
        assert read_stats(redis_client, keys)["rejected:telemetry"] == len(bad_telemetry)

        walk_to_cleared(redis_client, keys, sighting_id="sight-0001", patrol_id="BAC-1",
                        assignment_id="asg-first-1", at=[base + t * s for t in (30, 40, 50, 70, 95)])
        second = assign(redis_client, keys, sighting_id="sight-0002", patrol_id="BAC-2", supervisor_id="SUP-1",
                        now_ms=base + 45 * s, assignment_id="asg-second-2")
        reassign(redis_client, keys, assignment_id=second.assignment_id, new_patrol_id="BAC-3",
                 supervisor_id="SUP-1", now_ms=base + 55 * s, new_assignment_id="asg-third-3")
    finally:
        worker.stop()
    return {"base": base, "bad_telemetry": len(bad_telemetry)}


def test_replay_rebuilds_the_scenario_without_the_rejected_entries(redis_client, keys, scenario):
    base, s = scenario["base"], 1000
    seen: list[LoadProgress] = []
    history = load_window(redis_client, keys, base, base + 110 * s, progress=seen.append)

    def at(dt_s):
        return history.picture_at(base + int(dt_s * s))

    assert by_id(at(47)["drones"], "drone_id")["DR-1"]["lat"] == 48.104, "the malformed 45 s fix never counts"
    assert by_id(at(37)["drones"], "drone_id")["DR-1"]["lat"] == 48.135, "the late arrival, placed by its ts"
    assert set(by_id(at(49.999)["drones"], "drone_id")) == {"DR-1"}
    assert set(by_id(at(50)["drones"], "drone_id")) == {"DR-1", "DR-2"}
    everything = {unit_id for dt in range(0, 111, 5) for kind, field in (
        ("drones", "drone_id"), ("patrols", "patrol_id"), ("sightings", "sighting_id"))
        for unit_id in by_id(at(dt)[kind], field)}
    assert not everything & {"DR-9", "BAC-9", "sight-0009"}

    bac1 = {dt: by_id(at(dt)["patrols"], "patrol_id")["BAC-1"]["status"] for dt in (29, 35, 45, 60, 75, 100)}
    assert bac1 == {29: "available", 35: "assigned", 45: "assigned", 60: "en_route", 75: "on_scene",
                    100: "available"}
    assert by_id(at(60)["patrols"], "patrol_id")["BAC-1"]["lat"] == 48.112, "moved by its report, status kept"
    assert "sight-0001" in by_id(at(94)["sightings"], "sighting_id")
    assert "sight-0001" not in by_id(at(96)["sightings"], "sighting_id")

    before, after = at(50), at(60)
    assert [(a["assignment_id"], a["patrol_id"]) for a in before["assignments"]] == [
        ("asg-first-1", "BAC-1"), ("asg-second-2", "BAC-2")]
    assert [(a["assignment_id"], a["patrol_id"]) for a in after["assignments"]] == [
        ("asg-first-1", "BAC-1"), ("asg-third-3", "BAC-3")]
    statuses = {p["patrol_id"]: p["status"] for p in after["patrols"]}
    assert (statuses["BAC-2"], statuses["BAC-3"]) == ("available", "assigned")
    assert "sight-0002" in by_id(after["sightings"], "sighting_id"), "the reassignment keeps it open"

    stats = history.stats
    assert stats["deadletter:telemetry"] == scenario["bad_telemetry"]
    assert (stats["deadletter:patrol"], stats["deadletter:sighting"]) == (1, 1)
    assert stats["unparsable:telemetry"] == 0 and stats.get("unjudged:telemetry", 0) == 0
    assert [p.fraction for p in seen] == sorted(p.fraction for p in seen) and seen[-1].fraction == 1.0

    times = response_times(history).set_index("sighting_id")
    first = times.loc["sight-0001"]
    assert (first["to_assigned_s"], first["to_acknowledged_s"], first["to_on_scene_s"], first["to_cleared_s"]) == (
        10.0, 20.0, 50.0, 75.0)
    assert (first["outcome"], times.loc["sight-0002", "assignments"], times.loc["sight-0002", "cancelled"]) == (
        "dispersed", 2, 1)
    listed = history.events()
    assert list(listed[listed["kind"] == "assignment"]["event"]) == [
        "created", "acknowledged", "created", "en_route", "cancelled", "created", "on_scene", "cleared"]


def test_replay_at_the_window_end_matches_the_live_picture(redis_client, keys, scenario):
    history = load_window(redis_client, keys, scenario["base"], now_ms())
    picture = history.picture_at(now_ms())
    live = read_snapshot(redis_client, keys)
    for kind, field in (("drones", "drone_id"), ("patrols", "patrol_id"), ("sightings", "sighting_id")):
        assert by_id(picture[kind], field) == by_id(live[kind], field), kind
    assert by_id(picture["assignments"], "assignment_id").keys() == by_id(live["assignments"], "assignment_id").keys()


def test_seeking_is_fast_once_the_window_is_loaded(redis_client, keys, scenario):
    history = load_window(redis_client, keys, scenario["base"], scenario["base"] + 110_000)
    instants = [scenario["base"] + i * 1_100 for i in range(100)]
    spent = []
    for t in instants:
        started = time.perf_counter()
        history.picture_at(t)
        spent.append((time.perf_counter() - started) * 1000)
    assert statistics.median(spent) < 50, f"median seek {statistics.median(spent):.1f} ms"


def test_entries_ingest_has_not_judged_yet_are_validated_on_reading(redis_client, keys):
    base = now_ms() - 60_000
    # Written before the group exists, then the group starts after them: judged (and all good).
    for k in range(5):
        redis_client.xadd(keys.in_telemetry, telemetry("DR-1", base + k * 1000, 48.10 + k / 1000))
    redis_client.xgroup_create(keys.in_telemetry, INGEST_GROUP, id="$")
    # Never delivered to ingest: validated by the reader, the bad ones dropped.
    for k in range(5, 10):
        redis_client.xadd(keys.in_telemetry, telemetry("DR-1", base + k * 1000, 48.10 + k / 1000))
    redis_client.xadd(keys.in_telemetry, telemetry("DR-1", base + 20_000, 91))  # latitude out of range
    redis_client.xadd(keys.in_telemetry, telemetry("DR-1", base + 21_000, 48.5, heading_deg=360))
    # Arrives about 35 s after its ts, after the window's end: within the late margin, read.
    redis_client.xadd(keys.in_telemetry, telemetry("DR-2", base + 25_000, 48.3))
    history = load_window(redis_client, keys, base, base + 30_000)
    assert history.stats["unjudged:telemetry"] == 8
    assert history.stats["rejected:telemetry"] == 2
    assert history.telemetry["ts"].tolist() == [base + k * 1000 for k in range(10)] + [base + 25_000]
    assert by_id(history.picture_at(base + 30_000)["drones"], "drone_id")["DR-1"]["lat"] == 48.109
    assert history.stats["outside:telemetry"] == 0


def test_a_window_without_data_loads_empty(redis_client, keys):
    history = load_window(redis_client, keys, 1_000, 2_000)
    assert history.picture_at(1_500)["drones"] == [] and len(history.events()) == 0
    with pytest.raises(ValueError):
        load_window(redis_client, keys, 2_000, 1_000)
