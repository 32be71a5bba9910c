"""Replay's picture at an instant: hand-built sequences, edge cases, and agreement with folding picture.apply."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch.domain.models import PatrolReport, Sighting, Telemetry
from dispatch.domain.replay.history import History, frame_payload, naive_picture_at
from dispatch.domain.replay.index import downsample

T0 = 1_767_225_600_000


def drone(drone_id="DR-1", ts=T0, lat=48.11, lon=-1.68, battery=80.0, heading=90.0) -> Telemetry:
    return Telemetry(drone_id=drone_id, ts=ts, lat=lat, lon=lon, alt_m=100.0, heading_deg=heading, speed_mps=8.0,
                     battery_pct=battery)


def patrol(patrol_id="BAC-1", ts=T0, status="available", lat=48.10, lon=-1.67) -> PatrolReport:
    return PatrolReport(patrol_id=patrol_id, ts=ts, lat=lat, lon=lon, status=status)


def sighting(sighting_id="sight-0001", ts=T0, lat=48.105, lon=-1.675, priority=2, category="deal",
             note="groupe devant le hall") -> Sighting:
    return Sighting(sighting_id=sighting_id, ts=ts, drone_id="DR-1", operator_id="OP-1", category=category,
                    lat=lat, lon=lon, priority=priority, note=note)


def event(assignment_id, state, ts, *, patrol_id="BAC-1", sighting_id="sight-0001", event_name=None,
          outcome=None, assigned_ts=None, **extra) -> dict:
    """An assignment event as {site}:assignments holds it (store/assignments.py _event), decoded."""
    fields = {"assignment_id": assignment_id, "sighting_id": sighting_id, "patrol_id": patrol_id,
              "supervisor_id": "SUP-1", "ts": str(ts), "state": state,
              "assigned_ts": str(assigned_ts if assigned_ts is not None else ts),
              "actor": "SUP-1" if state in ("assigned", "cancelled") else patrol_id,
              "role": "supervisor" if state in ("assigned", "cancelled") else "patrol",
              "event": event_name or ("created" if state == "assigned" else state), **extra}
    if outcome:
        fields["outcome"] = outcome
    return fields


def lifecycle(assignment_id, start, *, patrol_id="BAC-1", sighting_id="sight-0001", steps=None) -> list[dict]:
    """assigned, acknowledged, en_route, on_scene, cleared at start + the given offsets (ms)."""
    steps = steps or {"assigned": 0, "acknowledged": 10_000, "en_route": 20_000, "on_scene": 60_000,
                      "cleared": 120_000}
    return [event(assignment_id, state, start + offset, patrol_id=patrol_id, sighting_id=sighting_id,
                  assigned_ts=start, outcome="dispersed" if state == "cleared" else None)
            for state, offset in steps.items()]


def by_id(units: list[dict], field: str) -> dict[str, dict]:
    return {unit[field]: unit for unit in units}


# ----------------------------------------------------------------------------- positions


def test_each_drone_is_at_its_last_position_at_or_before_the_instant():
    history = History.from_messages([drone(ts=T0, lat=48.10), drone(ts=T0 + 1000, lat=48.11),
                                     drone(ts=T0 + 2000, lat=48.12)])
    assert history.picture_at(T0 - 1)["drones"] == []
    assert history.picture_at(T0)["drones"][0]["lat"] == 48.10
    assert history.picture_at(T0 + 1999)["drones"][0]["lat"] == 48.11
    assert history.picture_at(T0 + 2000)["drones"][0]["lat"] == 48.12
    assert history.picture_at(T0 + 3_600_000)["drones"][0]["ts"] == T0 + 2000, "a silent drone stays, as live"
    assert history.picture_at(T0 + 1500)["drones"][0] == drone(ts=T0 + 1000, lat=48.11).model_dump(mode="json")


def test_a_unit_appearing_mid_window_is_absent_before_its_first_message():
    history = History.from_messages([drone("DR-1", T0), drone("DR-2", T0 + 5000), drone("DR-1", T0 + 6000)],
                                    bounds=(T0, T0 + 10_000))
    assert [d["drone_id"] for d in history.picture_at(T0 + 4999)["drones"]] == ["DR-1"]
    assert [d["drone_id"] for d in history.picture_at(T0 + 5000)["drones"]] == ["DR-1", "DR-2"]


def test_no_data_yet_gives_an_empty_picture_not_an_error():
    history = History.from_messages([patrol(ts=T0 + 10_000)], bounds=(T0, T0 + 20_000))
    picture = history.picture_at(T0)
    assert {k: picture[k] for k in ("drones", "patrols", "sightings", "assignments", "alerts")} == {
        "drones": [], "patrols": [], "sightings": [], "assignments": [], "alerts": []}
    empty = History.from_messages([], bounds=(T0, T0 + 1))
    assert empty.picture_at(T0)["patrols"] == [] and len(empty.events()) == 0


def test_out_of_order_arrivals_are_placed_by_their_own_ts():
    arrivals = [drone(ts=T0 + 2000, lat=48.12), drone(ts=T0, lat=48.10), drone(ts=T0 + 1000, lat=48.11)]
    history = History.from_messages(arrivals)
    assert [history.picture_at(T0 + dt)["drones"][0]["lat"] for dt in (0, 500, 1000, 1500, 2000)] == [
        48.10, 48.10, 48.11, 48.11, 48.12]


def test_of_two_messages_with_the_same_ts_the_first_received_wins():
    history = History.from_messages([patrol(ts=T0, lat=48.1), patrol(ts=T0, lat=48.2, status="unavailable"),
                                     patrol(ts=T0 + 5, lat=48.3), patrol(ts=T0 + 5, lat=48.4)])
    assert (history.picture_at(T0)["patrols"][0]["lat"], history.picture_at(T0)["patrols"][0]["status"]) == (
        48.1, "available")
    assert history.picture_at(T0 + 5)["patrols"][0]["lat"] == 48.3


def test_a_hand_built_sequence_agrees_with_folding_picture_apply_at_every_instant():
    arrivals = [drone("DR-1", T0 + 10), patrol("BAC-1", T0 + 5), drone("DR-1", T0), drone("DR-2", T0 + 10),
                sighting("sight-0001", T0 + 7), drone("DR-1", T0 + 10, lat=48.5), patrol("BAC-1", T0 + 20, lat=48.3),
                sighting("sight-0001", T0 + 3, lat=48.4), drone("DR-2", T0 + 15, lat=48.6)]
    history = History.from_messages(arrivals)
    for t in range(T0 - 1, T0 + 22):
        folded, picture = naive_picture_at(arrivals, t), history.picture_at(t)
        for kind, field in (("drones", "drone_id"), ("patrols", "patrol_id"), ("sightings", "sighting_id")):
            assert by_id(picture[kind], field) == {k: m.model_dump(mode="json")
                                                   for k, m in getattr(folded, kind).items()}, (kind, t - T0)


# ----------------------------------------------------------------------------- dispatch


def test_patrol_status_follows_its_assignment_then_its_reports():
    events = lifecycle("asg-000001", T0 + 10_000)
    history = History.from_messages(
        [patrol(ts=T0), sighting(ts=T0 + 5000), patrol(ts=T0 + 200_000, status="unavailable")], events)
    status = {dt: history.picture_at(T0 + dt)["patrols"][0]["status"]
              for dt in (0, 9_999, 10_000, 20_000, 30_000, 70_000, 129_999, 130_000, 200_000)}
    assert status == {0: "available", 9_999: "available", 10_000: "assigned", 20_000: "assigned",
                      30_000: "en_route", 70_000: "on_scene", 129_999: "on_scene",
                      130_000: "available",  # the clear frees it, as the live step does
                      200_000: "unavailable"}  # until its next report
    assert history.picture_at(T0 + 70_000)["patrols"][0]["ts"] == T0, "the position stays the report's"


def test_a_report_during_an_assignment_moves_the_patrol_but_keeps_the_assignment_status():
    history = History.from_messages(
        [patrol(ts=T0), sighting(ts=T0), patrol(ts=T0 + 40_000, lat=48.2, status="available")],
        lifecycle("asg-000001", T0 + 10_000))
    seen = history.picture_at(T0 + 45_000)["patrols"][0]
    assert (seen["lat"], seen["status"]) == (48.2, "en_route")


def test_a_sighting_cleared_leaves_the_picture_while_the_window_goes_on():
    history = History.from_messages(
        [patrol(ts=T0), sighting(ts=T0 + 5000), drone(ts=T0 + 500_000)], lifecycle("asg-000001", T0 + 10_000),
        bounds=(T0, T0 + 600_000))
    assert [s["sighting_id"] for s in history.picture_at(T0 + 4999)["sightings"]] == []
    assert [s["sighting_id"] for s in history.picture_at(T0 + 5000)["sightings"]] == ["sight-0001"]
    assert [s["sighting_id"] for s in history.picture_at(T0 + 129_999)["sightings"]] == ["sight-0001"]
    later = history.picture_at(T0 + 550_000)
    assert later["sightings"] == [] and later["assignments"] == []
    assert later["drones"][0]["ts"] == T0 + 500_000
    assert history.sighting_closed_ts["sight-0001"] == T0 + 130_000


def test_a_copy_of_a_cleared_sighting_does_not_reopen_it_but_a_newer_report_does():
    copy = sighting(ts=T0 + 5000)
    history = History.from_messages([patrol(ts=T0), sighting(ts=T0 + 5000), copy,
                                     sighting(ts=T0 + 300_000, lat=48.2)], lifecycle("asg-000001", T0 + 10_000))
    assert history.picture_at(T0 + 200_000)["sightings"] == []
    (reopened,) = history.picture_at(T0 + 300_000)["sightings"]
    assert reopened["lat"] == 48.2


def test_an_assignment_cancelled_then_reassigned():
    events = [event("asg-000001", "assigned", T0 + 1000),
              event("asg-000001", "cancelled", T0 + 2000, event_name="cancelled", replaced_by="asg-000002",
                    assigned_ts=T0 + 1000),
              event("asg-000002", "assigned", T0 + 2000, patrol_id="BAC-2", replaces="asg-000001")]
    history = History.from_messages([patrol("BAC-1", T0), patrol("BAC-2", T0), sighting(ts=T0)], events)
    before = history.picture_at(T0 + 1500)
    assert [a["assignment_id"] for a in before["assignments"]] == ["asg-000001"]
    assert {p["patrol_id"]: p["status"] for p in before["patrols"]} == {"BAC-1": "assigned", "BAC-2": "available"}
    after = history.picture_at(T0 + 2000)
    (open_one,) = after["assignments"]
    assert (open_one["assignment_id"], open_one["patrol_id"], open_one["state"]) == ("asg-000002", "BAC-2",
                                                                                      "assigned")
    assert {p["patrol_id"]: p["status"] for p in after["patrols"]} == {"BAC-1": "available", "BAC-2": "assigned"}
    assert [s["sighting_id"] for s in after["sightings"]] == ["sight-0001"], "a cancellation leaves it open"


def test_two_steps_in_the_same_millisecond_end_in_the_later_one():
    events = [event("asg-000001", "assigned", T0), event("asg-000001", "en_route", T0 + 10),
              event("asg-000001", "on_scene", T0 + 10)]
    history = History.from_messages([patrol(ts=T0), sighting(ts=T0)], events)
    assert history.picture_at(T0 + 10)["assignments"][0]["state"] == "on_scene"
    assert history.picture_at(T0 + 10)["patrols"][0]["status"] == "on_scene"


def test_alerts_open_between_raised_and_resolved():
    alert = {"alert_id": "low_battery:DR-1", "kind": "low_battery", "unit_id": "DR-1", "severity": "warning",
             "message": "DR-1 battery 20 %", "since_ms": T0 + 1000, "state": "raised"}
    events = [{"event": "raised", "alert_id": alert["alert_id"], "ts": T0 + 1000, "alert": alert},
              {"event": "acknowledged", "alert_id": alert["alert_id"], "ts": T0 + 2000, "by": "SUP-1",
               "alert": {**alert, "state": "acknowledged", "acknowledged_by": "SUP-1", "acknowledged_ms": T0 + 2000}},
              {"event": "resolved", "alert_id": alert["alert_id"], "ts": T0 + 3000, "alert": alert}]
    history = History.from_messages([drone(ts=T0)], alerts=events)
    assert history.picture_at(T0 + 999)["alerts"] == []
    assert history.picture_at(T0 + 1000)["alerts"][0]["state"] == "raised"
    acknowledged = history.picture_at(T0 + 2500)["alerts"][0]
    assert (acknowledged["state"], acknowledged["acknowledged_by"]) == ("acknowledged", "SUP-1")
    assert history.picture_at(T0 + 3000)["alerts"] == []


# ----------------------------------------------------------------------------- trails, tracks, payload


def test_a_drone_trail_covers_the_last_seconds_and_ends_exactly_at_the_drone():
    messages = [drone(ts=T0 + s * 1000, lat=48.0 + s * 1e-4) for s in range(300)]
    history = History.from_messages(messages)
    t = T0 + 200_500
    picture = history.picture_at(t, trail_s=60, trail_points=12)
    trail = picture["trails"]["DR-1"]
    assert 9 <= len(trail["ts"]) <= 12
    assert trail["ts"] == sorted(trail["ts"]) and trail["ts"][0] >= t - 60_000
    assert (trail["ts"][-1], trail["lat"][-1]) == (picture["drones"][0]["ts"], picture["drones"][0]["lat"])
    assert picture["drones"][0]["ts"] == T0 + 200_000
    assert history.picture_at(t, trail_s=0)["trails"] == {}


def test_a_downsampled_track_keeps_the_position_at_the_chosen_instant():
    history = History.from_messages([patrol(ts=T0 + s * 5000, lat=48.0 + s * 1e-4) for s in range(1000)])
    at = T0 + 1_234_567  # report 246 (T0 + 1 230 000) is shown then
    track = history.track("patrol", "BAC-1", max_points=20, at_ms=at)
    assert len(track) <= 20
    assert T0 + 1_230_000 in set(track["ts"])
    assert (track["ts"].iloc[0], track["ts"].iloc[-1]) == (T0, T0 + 999 * 5000)
    assert len(history.track("patrol", "BAC-1")) == 1000
    assert len(history.track("patrol", "NOPE-1")) == 0


@given(ts=st.lists(st.integers(0, 10_000), min_size=1, max_size=300).map(sorted),
       max_points=st.integers(3, 50), data=st.data())
def test_downsample_bounds_the_points_and_keeps_ends_and_instant(ts, max_points, data):
    keep = data.draw(st.integers(0, len(ts) - 1))
    picked = downsample(ts, max_points, keep)
    assert len(picked) <= max_points
    assert list(picked) == sorted(set(picked.tolist()))
    assert {0, len(ts) - 1, keep} <= set(picked.tolist())
    if len(ts) <= max_points:
        assert list(picked) == list(range(len(ts)))


def test_downsample_needs_room_for_both_ends_and_the_instant():
    with pytest.raises(ValueError):
        downsample([1, 2, 3, 4], 2)


def test_frame_payload_is_columnar_compact_and_has_no_free_text():
    messages = [drone(f"DR-{d}", T0 + s * 1000, lat=48.1 + d * 1e-3 + s * 1e-5) for d in range(3) for s in range(90)]
    messages += [patrol(f"BAC-{p}", T0) for p in range(5)]
    messages += [sighting("sight-0001", T0 + 1000, note="ne pas afficher")]
    history = History.from_messages(messages)
    picture = history.picture_at(T0 + 80_000)
    payload = frame_payload(picture)
    body = orjson.dumps(payload)
    assert b"ne pas afficher" not in body and b"note" not in body
    assert payload["drones"]["id"] == ["DR-0", "DR-1", "DR-2"]
    for i, trail in enumerate(payload["drones"]["trail"]):
        assert trail[-1] == [payload["drones"]["lon"][i], payload["drones"]["lat"][i]]
    assert len(payload["patrols"]["id"]) == len(payload["patrols"]["status"]) == 5
    assert payload["sightings"]["category"] == ["deal"]
    assert len(body) < len(orjson.dumps(picture)), "smaller than the picture it encodes"


# ----------------------------------------------------------------------------- events


def test_events_list_the_window_in_time_order():
    alert = {"alert_id": "sighting_unassigned:sight-0001", "kind": "sighting_unassigned", "unit_id": "sight-0001",
             "severity": "warning", "message": "sight-0001 unassigned for 65 s", "since_ms": T0 + 5000}
    events = lifecycle("asg-000001", T0 + 70_000)
    history = History.from_messages(
        [patrol(ts=T0), sighting(ts=T0 + 5000, priority=1), sighting("sight-0002", ts=T0 - 50_000)], events,
        alerts=[{"event": "raised", "alert_id": alert["alert_id"], "ts": T0 + 70_000, "alert": alert}],
        bounds=(T0, T0 + 200_000))
    listed = history.events()
    assert list(listed.columns) == ["ts", "kind", "event", "id", "sighting_id", "patrol_id", "actor", "detail"]
    assert list(zip(listed["kind"], listed["event"])) == [
        ("sighting", "created"), ("assignment", "created"), ("alert", "raised"), ("assignment", "acknowledged"),
        ("assignment", "en_route"), ("assignment", "on_scene"), ("assignment", "cleared")]
    assert listed["ts"].is_monotonic_increasing
    assert listed["detail"].iloc[0] == "deal priority 1"
    assert listed["detail"].iloc[-1] == "dispersed" and listed["actor"].iloc[-1] == "BAC-1"
    assert "sight-0002" not in set(listed["id"]), "before the window"


# ----------------------------------------------------------------------------- agreement with picture.apply

DRONES = st.sampled_from(["DR-1", "DR-2", "DR-3"])
PATROLS = st.sampled_from(["BAC-1", "BAC-2"])
SIGHTINGS = st.sampled_from(["sight-0001", "sight-0002"])
TS = st.integers(T0, T0 + 20)  # a narrow range: equal ts happen often
LAT = st.floats(48.0, 48.2, allow_nan=False)
MESSAGES = st.lists(st.one_of(
    st.builds(drone, DRONES, TS, LAT, battery=st.floats(0, 100)),
    st.builds(patrol, PATROLS, TS, st.sampled_from(["available", "unavailable", "en_route"]), LAT),
    st.builds(sighting, SIGHTINGS, TS, LAT, priority=st.integers(1, 3)),
), max_size=40)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages=MESSAGES, instants=st.lists(st.integers(T0 - 1, T0 + 21), min_size=1, max_size=6))
def test_picture_at_agrees_with_folding_picture_apply(messages, instants):
    history = History.from_messages(messages)
    for t in instants:
        expected = naive_picture_at(messages, t)
        picture = history.picture_at(t)
        assert by_id(picture["drones"], "drone_id") == {k: m.model_dump(mode="json")
                                                        for k, m in expected.drones.items()}
        assert by_id(picture["patrols"], "patrol_id") == {k: m.model_dump(mode="json")
                                                          for k, m in expected.patrols.items()}
        assert by_id(picture["sightings"], "sighting_id") == {k: m.model_dump(mode="json")
                                                              for k, m in expected.sightings.items()}


def _reference_status(messages, events, patrol_id, t):
    """The status rule written as plainly as possible, one patrol and one instant at a time."""
    reports = [m for m in messages if isinstance(m, PatrolReport) and m.patrol_id == patrol_id and m.ts <= t]
    report = None
    for m in reports:  # max ts, first received
        if report is None or m.ts > report.ts:
            report = m
    mine = [e for e in events if e["patrol_id"] == patrol_id and int(e["ts"]) <= t]
    last = None
    for e in mine:  # max ts, last in stream order
        if last is None or int(e["ts"]) >= int(last["ts"]):
            last = e
    if last is not None and last["state"] in ("assigned", "acknowledged", "en_route", "on_scene"):
        return {"acknowledged": "assigned"}.get(last["state"], last["state"])
    if report is None:
        return None
    if last is not None and int(last["ts"]) > report.ts:
        return "available"
    return report.status.value


STATES = st.sampled_from(["assigned", "acknowledged", "en_route", "on_scene", "cleared", "cancelled"])


@settings(max_examples=150, deadline=None)
@given(reports=st.lists(st.builds(patrol, PATROLS, TS, st.sampled_from(["available", "unavailable"])), max_size=12),
       steps=st.lists(st.tuples(PATROLS, STATES, TS), max_size=12),
       instants=st.lists(st.integers(T0 - 1, T0 + 21), min_size=1, max_size=6))
def test_patrol_status_agrees_with_the_plain_rule(reports, steps, instants):
    events = [event(f"asg-{i:06d}", state, ts, patrol_id=patrol_id) for i, (patrol_id, state, ts) in enumerate(steps)]
    history = History.from_messages(reports, events)
    for t in instants:
        shown = {p["patrol_id"]: p["status"] for p in history.picture_at(t)["patrols"]}
        expected = {p: _reference_status(reports, events, p, t) for p in ("BAC-1", "BAC-2")}
        assert shown == {p: s for p, s in expected.items() if any(
            m.patrol_id == p and m.ts <= t for m in reports)}
