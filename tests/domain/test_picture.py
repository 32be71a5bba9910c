"""The one rule that updates the picture: a unit changes only for a strictly newer ts."""

from __future__ import annotations

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.domain.models import Assignment, PatrolReport, PatrolStatus, Sighting, SightingCategory, Telemetry
from dispatch.domain.picture import Picture, apply, fold, unit_of

T0 = 1_767_225_600_000


def drone(drone_id: str = "DR-07", ts: int = T0, lat: float = 48.11, lon: float = -1.68, battery: float = 80.0) -> Telemetry:
    return Telemetry(
        drone_id=drone_id, ts=ts, lat=lat, lon=lon, alt_m=120.0, heading_deg=90.0, speed_mps=8.0, battery_pct=battery
    )


def patrol(patrol_id: str = "BAC-12", ts: int = T0, status: str = "available", lat: float = 48.1, lon: float = -1.67) -> PatrolReport:
    return PatrolReport(patrol_id=patrol_id, ts=ts, lat=lat, lon=lon, status=status)


def sighting(sighting_id: str = "sgt-000001", ts: int = T0, priority: int = 2, note: str = "") -> Sighting:
    return Sighting(
        sighting_id=sighting_id, ts=ts, drone_id="DR-07", operator_id="OP-3", category="deal",
        lat=48.1, lon=-1.67, priority=priority, note=note,
    )


def assignment(ts: int = T0) -> Assignment:
    return Assignment(
        assignment_id="asg-000001", sighting_id="sgt-000001", patrol_id="BAC-12", supervisor_id="SUP-1",
        ts=ts, state="assigned",
    )


# --------------------------------------------------------------------------- apply


def test_first_message_of_a_unit_is_stored():
    picture = Picture()
    message = drone()
    assert apply(picture, message) is True
    assert picture.drones == {"DR-07": message}
    assert picture.patrols == {} and picture.sightings == {}


def test_apply_twice_is_a_no_op():
    picture = Picture()
    message = patrol(status="on_scene")
    assert apply(picture, message) is True
    before = copy.deepcopy(picture)
    assert apply(picture, message) is False
    assert picture == before
    # An equal copy (same content, another object, as after a redelivery) changes nothing either.
    assert apply(picture, patrol(status="on_scene")) is False
    assert picture == before


def test_newer_message_replaces():
    picture = Picture()
    apply(picture, drone(ts=T0, battery=80.0))
    newer = drone(ts=T0 + 1, battery=79.0)
    assert apply(picture, newer) is True
    assert picture.drones["DR-07"] is newer


def test_out_of_order_older_message_is_ignored():
    picture = Picture()
    newer = patrol(ts=T0 + 5_000, status="en_route")
    apply(picture, newer)
    assert apply(picture, patrol(ts=T0 + 4_999, status="available")) is False
    assert apply(picture, patrol(ts=T0 - 3_600_000, status="unavailable")) is False
    assert picture.patrols["BAC-12"] is newer
    assert picture.patrols["BAC-12"].status is PatrolStatus.EN_ROUTE


def test_equal_ts_is_ignored_first_wins():
    picture = Picture()
    first = sighting(ts=T0, priority=1, note="premier")
    second = sighting(ts=T0, priority=3, note="second")
    assert apply(picture, first) is True
    assert apply(picture, second) is False
    assert picture.sightings["sgt-000001"] is first


def test_units_are_independent():
    picture = Picture()
    apply(picture, drone("DR-1", ts=T0 + 10))
    # An older message of another unit is still news for that unit.
    assert apply(picture, drone("DR-2", ts=T0)) is True
    assert sorted(picture.drones) == ["DR-1", "DR-2"]


def test_separate_collections():
    picture = Picture()
    d, p, s = drone("DR-07"), patrol("BAC-12"), sighting("sgt-000001")
    assert all(apply(picture, m) for m in (d, p, s))
    assert picture.drones == {"DR-07": d}
    assert picture.patrols == {"BAC-12": p}
    assert picture.sightings == {"sgt-000001": s}


def test_same_id_in_two_collections_does_not_collide():
    # "BAC-12" is both a valid patrol call sign and a valid event id.
    picture = Picture()
    report = patrol("BAC-12", ts=T0 + 60_000)
    older_sighting = sighting("BAC-12", ts=T0)
    assert apply(picture, report) is True
    assert apply(picture, older_sighting) is True
    assert picture.patrols["BAC-12"] is report
    assert picture.sightings["BAC-12"] is older_sighting


def test_assignments_do_not_change_the_picture():
    picture = Picture()
    apply(picture, patrol())
    before = copy.deepcopy(picture)
    assert unit_of(assignment()) is None
    assert apply(picture, assignment()) is False
    assert picture == before


def test_unit_of():
    assert unit_of(drone("DR-9")) == ("drones", "DR-9")
    assert unit_of(patrol("GN-4")) == ("patrols", "GN-4")
    assert unit_of(sighting("abcdef")) == ("sightings", "abcdef")


# --------------------------------------------------------------------------- fold


def test_fold_gives_the_latest_per_unit():
    batch = [
        drone("DR-1", ts=T0 + 1, battery=90.0),
        drone("DR-1", ts=T0 + 3, battery=70.0),
        drone("DR-2", ts=T0 + 5, battery=50.0),
        drone("DR-1", ts=T0 + 2, battery=80.0),  # late arrival
        patrol("BAC-12", ts=T0 + 2, status="assigned"),
        patrol("BAC-12", ts=T0 + 1, status="available"),  # late arrival
        sighting("sgt-000001", ts=T0, priority=3),
        sighting("sgt-000001", ts=T0 + 9, priority=1),
        assignment(ts=T0 + 100),
    ]
    picture = fold(batch)
    assert {k: (v.ts, v.battery_pct) for k, v in picture.drones.items()} == {
        "DR-1": (T0 + 3, 70.0),
        "DR-2": (T0 + 5, 50.0),
    }
    assert picture.patrols["BAC-12"].status is PatrolStatus.ASSIGNED
    assert picture.sightings["sgt-000001"].priority == 1
    assert picture.sightings["sgt-000001"].category is SightingCategory.DEAL


def test_fold_of_nothing_is_an_empty_picture():
    assert fold([]) == Picture()


def test_fold_continues_a_given_picture_in_place():
    stored = fold([patrol("BAC-12", ts=T0 + 10, status="on_scene")])
    result = fold([patrol("BAC-12", ts=T0 + 5, status="available"), patrol("GN-4", ts=T0)], stored)
    assert result is stored
    assert stored.patrols["BAC-12"].status is PatrolStatus.ON_SCENE  # the batch's older report lost
    assert sorted(stored.patrols) == ["BAC-12", "GN-4"]


def test_fold_accepts_any_iterable():
    assert fold(m for m in [drone(ts=T0), drone(ts=T0 + 1)]).drones["DR-07"].ts == T0 + 1


# --------------------------------------------------------------------------- order independence


@st.composite
def event_logs(draw):
    """Messages of a few units, each unit's ts distinct (any order of arrival is possible)."""
    messages = []
    for index in range(draw(st.integers(0, 3))):
        for ts in draw(st.lists(st.integers(T0, T0 + 10_000), unique=True, max_size=5)):
            messages.append(drone(f"DR-{index}", ts=ts, battery=draw(st.floats(0, 100))))
    for index in range(draw(st.integers(0, 3))):
        for ts in draw(st.lists(st.integers(T0, T0 + 10_000), unique=True, max_size=5)):
            status = draw(st.sampled_from([s.value for s in PatrolStatus]))
            messages.append(patrol(f"BAC-1{index}", ts=ts, status=status))
    for index in range(draw(st.integers(0, 2))):
        for ts in draw(st.lists(st.integers(T0, T0 + 10_000), unique=True, max_size=4)):
            messages.append(sighting(f"sgt-00000{index}", ts=ts, priority=draw(st.integers(1, 3))))
    # Same id "BAC-10" as a sighting too, to mix collections.
    if draw(st.booleans()):
        messages.append(sighting("BAC-10", ts=draw(st.integers(T0, T0 + 10_000))))
    if draw(st.booleans()):
        messages.append(assignment(ts=draw(st.integers(T0, T0 + 10_000))))
    return messages


def latest_per_unit(messages) -> Picture:
    """Oracle written independently of apply: the max-ts message of every unit."""
    expected = Picture()
    for message in messages:
        unit = unit_of(message)
        if unit is None:
            continue
        collection = getattr(expected, unit[0])
        if unit[1] not in collection or collection[unit[1]].ts < message.ts:
            collection[unit[1]] = message
    return expected


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_fold_is_order_independent(data):
    messages = data.draw(event_logs())
    order = data.draw(st.permutations(messages))
    in_order = fold(messages)
    assert fold(order) == in_order
    assert in_order == latest_per_unit(messages)
    assert {unit: m.ts for unit, m in in_order.drones.items()} == {
        unit: max(m.ts for m in messages if isinstance(m, Telemetry) and m.drone_id == unit)
        for unit in {m.drone_id for m in messages if isinstance(m, Telemetry)}
    }


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_batches_and_redelivery_do_not_change_the_result(data):
    """Ingest folds batch by batch into the stored picture, and may see an entry twice."""
    messages = data.draw(event_logs())
    order = data.draw(st.permutations(messages))
    cut = data.draw(st.integers(0, len(order)))
    redelivered = data.draw(st.lists(st.sampled_from(order), max_size=3)) if order else []
    picture = fold(order[:cut])
    fold(order[cut:] + redelivered, picture)
    assert picture == fold(messages)
