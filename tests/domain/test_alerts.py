"""Alert rules: each kind just below and just above its threshold, the alert lifecycle, acknowledgement."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from pydantic import ValidationError

from dispatch.domain.alerts import (
    Alert, AlertError, AlertKind, AlertState, Severity, Thresholds, acknowledge, alert_id_of, diff, evaluate,
    new_alert, position_outlived, without_position, zone_audit_entries,
)
from dispatch.domain.zones import make_zone
from dispatch.demo.scenario_rennes import ZONES as DEMO

# 14:02:11 in Paris on 1 December 2026 (UTC+1).
NOW = int(datetime(2026, 12, 1, 13, 2, 11, tzinfo=timezone.utc).timestamp() * 1000)
INSIDE = DEMO[0].launch  # (lat, lon) in Z-VILLEJEAN
OUTSIDE = (48.1040, -1.6722)  # the railway station, in no zone
ZONES = [make_zone(zone_id=z.zone_id, name=z.name, decree_ref="2026-11-035-PREF35",
                   polygon=[(lon, lat) for lat, lon in z.vertices],
                   valid_from_ms=NOW - 86_400_000, valid_until_ms=NOW + 86_400_000) for z in DEMO]
VILLEJEAN_CORNER = (DEMO[0].vertices[0][0], DEMO[0].vertices[0][1])


def drone(drone_id="DR-02", age_ms=0, at=INSIDE, battery=80.0, ts=None):
    return {"drone_id": drone_id, "ts": ts if ts is not None else NOW - age_ms, "lat": at[0], "lon": at[1],
            "alt_m": 80.0, "heading_deg": 0.0, "speed_mps": 5.0, "battery_pct": battery}


def patrol(patrol_id="BAC-12", age_ms=0, status="available"):
    return {"patrol_id": patrol_id, "ts": NOW - age_ms, "lat": 48.11, "lon": -1.68, "status": status}


def sighting(sighting_id="7f9c2d1e-4b3a-4c5d-9e8f-0a1b2c3d4e5f", age_ms=0, priority=2):
    return {"sighting_id": sighting_id, "ts": NOW - age_ms, "drone_id": "DR-02", "operator_id": "OP-3",
            "category": "deal", "lat": 48.1219, "lon": -1.7104, "priority": priority, "note": ""}


def assignment(assignment_id="asg-000001", sighting_id="7f9c2d1e-4b3a-4c5d-9e8f-0a1b2c3d4e5f",
               patrol_id="BAC-12", state="assigned", age_ms=0):
    return {"assignment_id": assignment_id, "sighting_id": sighting_id, "patrol_id": patrol_id,
            "supervisor_id": "SUP-1", "state": state, "ts": NOW - age_ms}


def alerts_for(drones=(), patrols=(), sightings=(), assignments=None, zones=ZONES, now=NOW,
               thresholds=Thresholds()):
    snapshot = {"drones": list(drones), "patrols": list(patrols), "sightings": list(sightings)}
    if assignments is not None:
        snapshot["assignments"] = list(assignments)
    return evaluate(snapshot, zones, now, thresholds)


def kinds(alerts) -> set[tuple[str, str]]:
    return {(a.kind.value, a.unit_id) for a in alerts.values()}


# --- Each kind, at its threshold ---------------------------------------------

@pytest.mark.parametrize("snapshot, expected", [
    # link_lost: strictly more than 5 s of silence
    ({"drones": [drone(age_ms=5_000)]}, set()),
    ({"drones": [drone(age_ms=5_001)]}, {("link_lost", "DR-02")}),
    ({"drones": [drone(age_ms=-20_000)]}, set()),  # a fix from a clock slightly ahead is not a loss
    # low_battery: strictly below 25 %
    ({"drones": [drone(battery=25.0)]}, set()),
    ({"drones": [drone(battery=24.9)]}, {("low_battery", "DR-02")}),
    ({"drones": [drone(battery=0.0)]}, {("low_battery", "DR-02")}),
    # outside_zone: the latest fix, against the zones valid at the fix's own ts
    ({"drones": [drone(at=OUTSIDE)]}, {("outside_zone", "DR-02")}),
    ({"drones": [drone(at=VILLEJEAN_CORNER)]}, set()),  # a vertex is on the border: inside
    ({"drones": [drone(at=(48.11915, -1.70875))]}, set()),  # the midpoint of an edge: inside
    ({"drones": [drone(at=(48.11910, -1.70875))]}, {("outside_zone", "DR-02")}),  # 5.6 m south of it
    ({"drones": [drone(ts=NOW + 86_400_000)]}, {("outside_zone", "DR-02")}),  # the fix is after the zone expired
    ({"drones": [drone(ts=NOW + 86_400_000 - 1)]}, set()),  # the last valid millisecond
    # patrol_stale: strictly more than 120 s, and only for patrols on duty
    ({"patrols": [patrol(age_ms=120_000)]}, set()),
    ({"patrols": [patrol(age_ms=120_001)]}, {("patrol_stale", "BAC-12")}),
    ({"patrols": [patrol(age_ms=120_001, status="en_route")]}, {("patrol_stale", "BAC-12")}),
    ({"patrols": [patrol(age_ms=3_600_000, status="unavailable")]}, set()),
])
def test_unit_thresholds(snapshot, expected):
    assert kinds(alerts_for(**snapshot)) == expected


def sid(n: int) -> str:
    return f"sighting-{n:04d}"


@pytest.mark.parametrize("priority, age_ms, raised", [
    (2, 60_000, False), (2, 60_001, True), (3, 60_001, True),
    (1, 30_000, False), (1, 30_001, True),
])
def test_an_unassigned_sighting_is_flagged_sooner_when_urgent(priority, age_ms, raised):
    alerts = alerts_for(sightings=[sighting(sid(1), age_ms, priority)], assignments=[])
    assert kinds(alerts) == ({("sighting_unassigned", sid(1))} if raised else set())


@pytest.mark.parametrize("state, raised", [
    ("assigned", False), ("acknowledged", False), ("en_route", False), ("on_scene", False),
    ("cleared", True), ("cancelled", True),  # a closed assignment leaves the sighting unassigned again
])
def test_a_sighting_with_an_open_assignment_is_not_unassigned(state, raised):
    alerts = alerts_for(sightings=[sighting(sid(1), age_ms=90_000)],
                        assignments=[assignment(sighting_id=sid(1), state=state, age_ms=1_000)])
    assert (("sighting_unassigned", sid(1)) in kinds(alerts)) is raised


def test_without_assignments_in_the_snapshot_every_sighting_is_unassigned():
    alerts = alerts_for(sightings=[sighting(sid(1), age_ms=60_001)])
    assert kinds(alerts) == {("sighting_unassigned", sid(1))}


@pytest.mark.parametrize("state, age_ms, raised", [
    ("assigned", 30_000, False), ("assigned", 30_001, True),
    ("acknowledged", 300_000, False), ("en_route", 300_000, False),
])
def test_an_assignment_not_acknowledged_in_30_s(state, age_ms, raised):
    alerts = alerts_for(patrols=[patrol()], sightings=[sighting(sid(1))],
                        assignments=[assignment("asg-000001", sid(1), state=state, age_ms=age_ms)])
    assert kinds(alerts) == ({("assignment_unacknowledged", "asg-000001")} if raised else set())
    if raised:
        alert = alerts["assignment_unacknowledged:asg-000001"]
        assert (alert.lat, alert.lon) == (48.11, -1.68), "placed where the patrol is"
        assert alert.position_ms == NOW, "the patrol's report, not the assignment, dates the position"
        assert "BAC-12" in alert.message


@pytest.mark.parametrize("since, position_ms, cutoff, outlived", [
    (1_000, None, 1_000, False), (999, None, 1_000, True),  # a position exactly at the cutoff is kept
    (5_000, 999, 1_000, True),  # a recent alert showing an older fix: the fix's age counts
    (500, 5_000, 1_000, True),  # the older of the two counts
])
def test_an_open_alert_position_outlives_retention_by_its_oldest_time(since, position_ms, cutoff, outlived):
    alert = new_alert(AlertKind.ASSIGNMENT_UNACKNOWLEDGED, "asg-000001", "m", since, 48.1, -1.6, position_ms)
    assert position_outlived(alert, cutoff) is outlived
    stripped = without_position(alert)
    assert (stripped.lat, stripped.lon, stripped.position_ms) == (None, None, None)
    assert stripped.model_dump(exclude={"lat", "lon", "position_ms"}) == alert.model_dump(
        exclude={"lat", "lon", "position_ms"})
    assert not position_outlived(stripped, cutoff), "nothing left to remove"


def test_thresholds_are_configurable():
    quick = Thresholds(link_lost_ms=1_000, low_battery_pct=50.0, patrol_stale_ms=10_000)
    alerts = alerts_for(drones=[drone(age_ms=1_001, battery=49.0)], patrols=[patrol(age_ms=10_001)],
                        thresholds=quick)
    assert kinds(alerts) == {("link_lost", "DR-02"), ("low_battery", "DR-02"), ("patrol_stale", "BAC-12")}


# --- What an alert says -----------------------------------------------------

def test_one_drone_can_be_lost_low_and_outside_at_once_with_the_right_severities():
    alerts = alerts_for(drones=[drone(age_ms=6_000, at=OUTSIDE, battery=10.0)])
    assert set(alerts) == {"link_lost:DR-02", "low_battery:DR-02", "outside_zone:DR-02"}
    assert alerts["link_lost:DR-02"].severity is Severity.CRITICAL
    assert alerts["outside_zone:DR-02"].severity is Severity.CRITICAL
    assert alerts["low_battery:DR-02"].severity is Severity.WARNING
    for alert in alerts.values():
        assert alert.alert_id == f"{alert.kind.value}:{alert.unit_id}"
        assert alert.state is AlertState.RAISED and alert.acknowledged_by is None
        assert (alert.lat, alert.lon) == OUTSIDE
        assert alert.since_ms == NOW - 6_000


def test_messages_read_the_local_clock():
    alerts = alerts_for(drones=[drone(at=OUTSIDE)])
    assert alerts["outside_zone:DR-02"].message == "DR-02 outside every authorised zone (last fix 14:02:11)"
    summer = int(datetime(2026, 7, 1, 12, 0, 0, tzinfo=timezone.utc).timestamp() * 1000)
    zones = [z.model_copy(update={"valid_from_ms": summer - 1}) for z in ZONES]
    alerts = alerts_for(drones=[drone(ts=summer - 6_000)], zones=zones, now=summer)
    assert alerts["link_lost:DR-02"].message == "DR-02 link lost: no telemetry since 13:59:54"  # UTC+2


def test_no_zone_at_all_means_every_drone_is_outside():
    assert kinds(alerts_for(drones=[drone(), drone("DR-03")], zones=[])) == {
        ("outside_zone", "DR-02"), ("outside_zone", "DR-03")}


def test_an_empty_or_malformed_snapshot_raises_nothing():
    assert evaluate({}, ZONES, NOW) == {}
    junk = {"drones": [{"drone_id": "DR-1"}, {"ts": NOW - 60_000}, {"drone_id": "DR-2", "ts": True}, "x"],
            "patrols": None, "sightings": [{"sighting_id": 7, "ts": 1}]}
    assert evaluate(junk, ZONES, NOW) == {}


def test_units_may_come_as_mappings_by_id():
    assert kinds(evaluate({"drones": {"DR-02": drone(at=OUTSIDE)}}, ZONES, NOW)) == {("outside_zone", "DR-02")}


# --- Lifecycle: raised once, resolved once, acknowledgement kept ------------------

def step(open_alerts: dict, current: dict) -> tuple[list[str], list[str]]:
    """One watcher tick on an in-memory open set; returns (raised ids, resolved ids)."""
    raised, resolved = diff(open_alerts, current)
    for alert in raised:
        open_alerts[alert.alert_id] = alert
    for alert in resolved:
        del open_alerts[alert.alert_id]
    return [a.alert_id for a in raised], [a.alert_id for a in resolved]


def test_an_alert_is_raised_once_while_its_condition_holds_then_resolved_once():
    open_alerts: dict = {}
    timeline = [
        (NOW, [drone(at=OUTSIDE)], (["outside_zone:DR-02"], [])),
        (NOW + 1_000, [drone(at=(OUTSIDE[0] + 0.001, OUTSIDE[1]), ts=NOW + 1_000)], ([], [])),
        (NOW + 2_000, [drone(at=(OUTSIDE[0] + 0.002, OUTSIDE[1]), ts=NOW + 2_000)], ([], [])),
        (NOW + 3_000, [drone(ts=NOW + 3_000)], ([], ["outside_zone:DR-02"])),
        (NOW + 4_000, [drone(ts=NOW + 4_000)], ([], [])),
        (NOW + 5_000, [drone(at=OUTSIDE, ts=NOW + 5_000)], (["outside_zone:DR-02"], [])),
    ]
    for now, drones, expected in timeline:
        assert step(open_alerts, alerts_for(drones=drones, now=now)) == expected, now
    assert open_alerts["outside_zone:DR-02"].since_ms == NOW + 5_000, "a new occurrence, a new since"


def test_an_open_alert_keeps_what_it_was_raised_with():
    open_alerts: dict = {}
    step(open_alerts, alerts_for(drones=[drone(at=OUTSIDE)]))
    moved = alerts_for(drones=[drone(at=(48.2, -1.5), ts=NOW + 1_000)], now=NOW + 1_000)
    assert step(open_alerts, moved) == ([], [])
    assert open_alerts["outside_zone:DR-02"].since_ms == NOW
    assert (open_alerts["outside_zone:DR-02"].lat, open_alerts["outside_zone:DR-02"].lon) == OUTSIDE


def test_an_acknowledged_alert_stays_acknowledged_until_resolved():
    open_alerts: dict = {}
    step(open_alerts, alerts_for(drones=[drone(age_ms=6_000)]))
    acked = acknowledge(open_alerts["link_lost:DR-02"], "SUP-1", NOW + 500)
    open_alerts[acked.alert_id] = acked
    for later in (1_000, 2_000, 60_000):
        raised, resolved = diff(open_alerts, alerts_for(drones=[drone(age_ms=6_000 + later)], now=NOW + later))
        assert (raised, resolved) == ([], [])
    assert open_alerts["link_lost:DR-02"].state is AlertState.ACKNOWLEDGED
    raised, resolved = diff(open_alerts, alerts_for(drones=[drone(ts=NOW + 61_000)], now=NOW + 61_000))
    assert raised == [] and resolved == [acked], "resolution carries who acknowledged it"


def test_diff_is_in_alert_id_order():
    current = alerts_for(drones=[drone("DR-09", at=OUTSIDE), drone("DR-01", at=OUTSIDE, battery=5.0)])
    raised, _ = diff({}, current)
    assert [a.alert_id for a in raised] == ["low_battery:DR-01", "outside_zone:DR-01", "outside_zone:DR-09"]
    _, resolved = diff(current, {})
    assert [a.alert_id for a in resolved] == ["low_battery:DR-01", "outside_zone:DR-01", "outside_zone:DR-09"]


# --- Acknowledgement and the model's own rules -----------------------------------

def test_acknowledge_records_who_and_when_once():
    alert = new_alert(AlertKind.LINK_LOST, "DR-02", "DR-02 link lost", NOW)
    acked = acknowledge(alert, "SUP-1", NOW + 2_000)
    assert (acked.state, acked.acknowledged_by, acked.acknowledged_ms) == (AlertState.ACKNOWLEDGED, "SUP-1", NOW + 2_000)
    assert acked.model_copy(update={"state": AlertState.RAISED, "acknowledged_by": None,
                                    "acknowledged_ms": None}) == alert, "nothing else changes"
    with pytest.raises(AlertError, match="already acknowledged by SUP-1"):
        acknowledge(acked, "SUP-2", NOW + 3_000)


@pytest.mark.parametrize("supervisor_id", ["Dupont", "sup-1", "SUP-", "SUP-1 ", ""])
def test_only_a_supervisor_code_may_acknowledge(supervisor_id):
    alert = new_alert(AlertKind.LINK_LOST, "DR-02", "DR-02 link lost", NOW)
    with pytest.raises(AlertError, match="supervisor_id: bad format"):
        acknowledge(alert, supervisor_id, NOW)


def test_an_alert_id_is_its_kind_and_unit():
    assert alert_id_of(AlertKind.OUTSIDE_ZONE, "DR-02") == "outside_zone:DR-02"
    assert alert_id_of("patrol_stale", "BAC-12") == "patrol_stale:BAC-12"
    fields = new_alert(AlertKind.LINK_LOST, "DR-02", "m", NOW).model_dump()
    with pytest.raises(ValidationError, match="alert_id must be"):
        Alert(**{**fields, "alert_id": "link_lost:DR-03"})
    with pytest.raises(ValidationError, match="exactly when the state is acknowledged"):
        Alert(**{**fields, "state": "acknowledged"})
    with pytest.raises(ValidationError, match="exactly when the state is acknowledged"):
        Alert(**{**fields, "acknowledged_by": "SUP-1", "acknowledged_ms": NOW})


def test_an_alert_survives_a_json_round_trip():
    alert = acknowledge(alerts_for(drones=[drone(at=OUTSIDE)])["outside_zone:DR-02"], "SUP-1", NOW)
    assert Alert.model_validate_json(alert.model_dump_json()) == alert


# --- On the audit trail ----------------------------------------------------------

def test_only_zone_exits_owe_audit_entries_and_they_name_the_zones_valid_at_the_fix():
    expired = make_zone(zone_id="Z-OLD", name="Old decree", decree_ref="2026-10-001-PREF35",
                        polygon=[(-1.7, 48.1), (-1.6, 48.1), (-1.6, 48.2)],
                        valid_from_ms=NOW - 10 * 86_400_000, valid_until_ms=NOW - 86_400_000)
    current = alerts_for(drones=[drone("DR-01", at=OUTSIDE, age_ms=2_000), drone("DR-02", age_ms=9_000)],
                         zones=[*ZONES, expired])
    raised, _ = diff({}, current)
    assert {a.alert_id for a in raised} == {"outside_zone:DR-01", "link_lost:DR-02"}
    entries = zone_audit_entries(raised, [], [*ZONES, expired], NOW)
    assert list(entries) == ["outside_zone:DR-01"]
    entry = entries["outside_zone:DR-01"]
    assert (entry.actor, entry.role.value, entry.action.value, entry.target) == (
        "system", "system", "drone_left_zones", "DR-01")
    assert entry.details == {"alert_id": "outside_zone:DR-01", "fix_ms": NOW - 2_000,
                             "zones_valid": ",".join(z.zone_id for z in ZONES)}

    back = zone_audit_entries([], [current["outside_zone:DR-01"]], ZONES, NOW + 60_000)["outside_zone:DR-01"]
    assert back.action.value == "drone_back_in_zone" and back.details["outside_ms"] == 62_000
    assert zone_audit_entries(raised, [], [expired], NOW)["outside_zone:DR-01"].details["zones_valid"] == "none"
