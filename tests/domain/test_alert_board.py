"""Alerts that stay readable (pure rules): escalation in place, and alerts resolving themselves
when their subject leaves the picture (a drone gone, a sighting closed, an assignment cleared)."""

from __future__ import annotations

import pytest

from dispatch.domain.alerts import (
    AlertKind, AlertState, Severity, Thresholds, acknowledge, diff, escalations, evaluate,
)
from tests.domain.test_alerts import NOW, OUTSIDE, ZONES, alerts_for, assignment, drone, patrol, sighting

SID = "7f9c2d1e-4b3a-4c5d-9e8f-0a1b2c3d4e5f"
UNASSIGNED = f"sighting_unassigned:{SID}"


@pytest.mark.parametrize("priority, age_ms, severity", [
    (1, 180_000, Severity.WARNING),   # exactly at the threshold: not yet ("strictly longer than")
    (1, 180_001, Severity.CRITICAL),
    (2, 3_600_000, Severity.WARNING),  # only priority 1 escalates
])
def test_an_urgent_sighting_left_unassigned_escalates_to_critical(priority, age_ms, severity):
    found = alerts_for(sightings=[sighting(age_ms=age_ms, priority=priority)], assignments=[])
    assert found[UNASSIGNED].severity is severity


def test_escalation_threshold_is_configurable():
    found = alerts_for(sightings=[sighting(age_ms=40_000, priority=1)], assignments=[],
                       thresholds=Thresholds(urgent_sighting_critical_ms=35_000))
    assert found[UNASSIGNED].severity is Severity.CRITICAL


def test_escalation_keeps_the_open_alert_and_asks_to_see_it_again():
    early = alerts_for(sightings=[sighting(age_ms=40_000, priority=1)], assignments=[])
    seen = {UNASSIGNED: acknowledge(early[UNASSIGNED], "SUP-1", NOW)}
    later = alerts_for(sightings=[sighting(age_ms=200_000, priority=1)], assignments=[], now=NOW)
    assert diff(seen, later) == ([], []), "the same alert: neither raised again nor resolved"
    (escalated,) = escalations(seen, later)
    assert escalated.alert_id == UNASSIGNED and escalated.severity is Severity.CRITICAL
    assert escalated.since_ms == seen[UNASSIGNED].since_ms and escalated.message == seen[UNASSIGNED].message
    assert escalated.state is AlertState.RAISED and escalated.acknowledged_by is None
    assert escalations({UNASSIGNED: escalated}, later) == [], "once"
    assert escalations(later, early) == [], "never down"


def resolved_when(before: dict, after: dict) -> list[str]:
    open_alerts = evaluate(before, ZONES, NOW)
    assert open_alerts, "the test needs an alert to start with"
    raised, resolved = diff(open_alerts, evaluate(after, ZONES, NOW))
    return [alert.alert_id for alert in resolved]


def test_an_alert_resolves_itself_when_its_drone_leaves_the_picture():
    lost = {"drones": [drone("DR-07", age_ms=60_000, at=OUTSIDE, battery=10.0)]}
    assert resolved_when(lost, {"drones": []}) == ["link_lost:DR-07", "low_battery:DR-07", "outside_zone:DR-07"]


def test_an_alert_resolves_itself_when_its_patrol_leaves_or_goes_off_duty():
    stale = {"patrols": [patrol("BAC-12", age_ms=600_000)]}
    assert resolved_when(stale, {"patrols": []}) == ["patrol_stale:BAC-12"]
    assert resolved_when(stale, {"patrols": [patrol("BAC-12", age_ms=600_000, status="unavailable")]}) == [
        "patrol_stale:BAC-12"]


def test_an_alert_resolves_itself_when_its_sighting_ends():
    waiting = {"sightings": [sighting(age_ms=300_000, priority=1)], "assignments": []}
    assert resolved_when(waiting, {"sightings": [], "assignments": []}) == [UNASSIGNED], "closed: gone from the picture"
    closed = {"sightings": [{**sighting(age_ms=300_000, priority=1), "closed": True}], "assignments": []}
    assert resolved_when(waiting, closed) == [UNASSIGNED], "closed, still listed"


@pytest.mark.parametrize("ending", ["cleared", "cancelled", None])
def test_an_unacknowledged_assignment_resolves_itself_when_the_assignment_ends(ending):
    waiting = {"sightings": [sighting()], "patrols": [patrol()], "assignments": [assignment(age_ms=60_000)]}
    after = {"sightings": [sighting()] if ending else [], "patrols": [patrol()],
             "assignments": [assignment(age_ms=60_000, state=ending)] if ending else []}
    assert AlertKind.ASSIGNMENT_UNACKNOWLEDGED.value + ":asg-000001" in resolved_when(waiting, after)


def test_the_watcher_takes_the_escalation_threshold_from_settings():
    from dispatch.settings import Settings
    from dispatch.services.watch import WatchOptions
    settings = Settings.from_env({"DISPATCH_ALERT_URGENT_SIGHTING_CRITICAL_S": "240"})
    assert WatchOptions.from_settings(settings).thresholds.urgent_sighting_critical_ms == 240_000
    assert Thresholds().urgent_sighting_critical_ms == round(Settings().alert_urgent_sighting_critical_s * 1000)
