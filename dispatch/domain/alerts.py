"""Alerts for the supervisor wall screen: what needs a human now, decided from the picture.

`evaluate` is a pure function of a snapshot, the zones and "now": it says which
conditions hold at this instant, each as one `Alert` whose id is
`"{kind}:{unit_id}"`, so the same condition on the same unit is always the same
alert. `diff` compares that with the alerts already open: an alert is raised
once when its condition starts to hold and resolved when it stops, and nothing
in between changes it, which is how an acknowledgement survives every
re-evaluation until the condition clears.

Every duration threshold is "strictly longer than": a drone silent for exactly
5 s is not yet lost, matching the map's drone marker (ui/layers.py).
`since_ms` is the time of the fact the alert rests on (the last fix, the last
report, the sighting, the assignment), as first seen when the alert was raised.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Iterable, Mapping
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from .audit import SYSTEM_ACTOR, Action, AuditEntry, AuditRole, make_entry
from .lifecycle import DISPLAY_TIMEZONE
from .numbers import sighting_label
from .models import ID_FORMATS, SUPERVISOR_ID, AssignmentState, PatrolStatus, SupervisorId
from .zones import Zone, is_authorised, zones_valid_at


class AlertKind(str, Enum):
    LINK_LOST = "link_lost"
    LOW_BATTERY = "low_battery"
    OUTSIDE_ZONE = "outside_zone"
    PATROL_STALE = "patrol_stale"
    SIGHTING_UNASSIGNED = "sighting_unassigned"
    ASSIGNMENT_UNACKNOWLEDGED = "assignment_unacknowledged"


class Severity(str, Enum):
    CRITICAL = "critical"  # a legal or safety problem right now: act first
    WARNING = "warning"  # dispatch is degraded: act soon
    INFO = "info"


class AlertState(str, Enum):
    RAISED = "raised"
    ACKNOWLEDGED = "acknowledged"


SEVERITY: dict[AlertKind, Severity] = {
    AlertKind.LINK_LOST: Severity.CRITICAL,  # an aircraft out of control over a city
    AlertKind.OUTSIDE_ZONE: Severity.CRITICAL,  # flying without legal authorisation
    AlertKind.LOW_BATTERY: Severity.WARNING,
    AlertKind.PATROL_STALE: Severity.WARNING,
    AlertKind.SIGHTING_UNASSIGNED: Severity.WARNING,
    AlertKind.ASSIGNMENT_UNACKNOWLEDGED: Severity.WARNING,
}


@dataclass(frozen=True)
class Thresholds:
    """When each condition starts to hold. Durations in ms, each "strictly longer than"."""

    # Drones report at least once a second; MAVLink calls a link lost after 4-5 missed 1 Hz heartbeats.
    link_lost_ms: int = 5_000
    # Strictly below: at this charge a drone has to head back to its launch point soon.
    low_battery_pct: float = 25.0
    # Patrol terminals report every 2 s on the move and every 30-60 s parked: 120 s is two missed reports.
    patrol_stale_ms: int = 120_000
    # A sighting nobody was sent to; priority 1 (the most urgent) is flagged sooner.
    sighting_unassigned_ms: int = 60_000
    urgent_sighting_unassigned_ms: int = 30_000
    # The tablet shows an assignment at once; 30 s without acknowledgement means it was not seen.
    assignment_unacknowledged_ms: int = 30_000
    # A priority-1 sighting still without a patrol after 3 min: its warning escalates to critical, in place.
    urgent_sighting_critical_ms: int = 180_000


class AlertError(ValueError):
    """An alert operation that cannot be done; the message is shown to the supervisor."""


class Alert(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    alert_id: str
    kind: AlertKind
    unit_id: str  # drone, patrol, sighting or assignment id, by kind
    severity: Severity
    message: str
    since_ms: int
    lat: float | None = None
    lon: float | None = None
    # When the position was fixed, if not at since_ms (an unacknowledged assignment shows the patrol's
    # last report). Retention removes the position once this is older than the recordings' period.
    position_ms: int | None = None
    state: AlertState = AlertState.RAISED
    acknowledged_by: SupervisorId | None = None
    acknowledged_ms: int | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "Alert":
        if self.alert_id != alert_id_of(self.kind, self.unit_id):
            raise ValueError(f"alert_id must be {alert_id_of(self.kind, self.unit_id)!r}, got {self.alert_id!r}")
        acknowledged = self.state is AlertState.ACKNOWLEDGED
        if acknowledged != (self.acknowledged_by is not None and self.acknowledged_ms is not None):
            raise ValueError("acknowledged_by and acknowledged_ms are set exactly when the state is acknowledged")
        return self


def alert_id_of(kind: AlertKind | str, unit_id: str) -> str:
    return f"{AlertKind(kind).value}:{unit_id}"


def new_alert(kind: AlertKind, unit_id: str, message: str, since_ms: int,
              lat: float | None = None, lon: float | None = None, position_ms: int | None = None) -> Alert:
    return Alert(alert_id=alert_id_of(kind, unit_id), kind=kind, unit_id=unit_id, severity=SEVERITY[kind],
                 message=message, since_ms=since_ms, lat=lat, lon=lon, position_ms=position_ms)


def position_outlived(alert: Alert, cutoff_ms: int) -> bool:
    """True if the alert still shows a position fixed before `cutoff_ms` (older than retention allows).

    An alert stays open as long as its condition holds, which may be longer than
    the recordings' legal period (an assignment nobody acknowledges); its text and
    state may stay, its position may not."""
    if alert.lat is None and alert.lon is None:
        return False
    fixed = alert.since_ms if alert.position_ms is None else min(alert.since_ms, alert.position_ms)
    return fixed < cutoff_ms


def without_position(alert: Alert) -> Alert:
    return alert.model_copy(update={"lat": None, "lon": None, "position_ms": None})


# --- Evaluation ------------------------------------------------------------

def evaluate(snapshot: Mapping, zones: Iterable[Zone], now_ms: int,
             thresholds: Thresholds = Thresholds(), *, tz: str = DISPLAY_TIMEZONE.key) -> dict[str, Alert]:
    """Every alert whose condition holds at `now_ms`, by alert id.

    `snapshot` is shaped like dispatch.store.state.read_snapshot's: lists of
    unit dicts under "drones", "patrols", "sightings", and optionally
    "assignments" (open assignments: assignment_id, sighting_id, patrol_id,
    state, ts). Without "assignments" every sighting counts as unassigned. Times
    in messages are on the local clock `tz`, as the supervisors read them.
    """
    clock = _Clock(tz)
    zones = list(zones)
    found: list[Alert] = []
    for drone in _units(snapshot, "drones", "drone_id"):
        found += _drone_alerts(drone, zones, now_ms, thresholds, clock)
    patrols = {patrol["patrol_id"]: patrol for patrol in _units(snapshot, "patrols", "patrol_id")}
    for patrol in patrols.values():
        found += _patrol_alerts(patrol, now_ms, thresholds, clock)
    assignments = [a for a in _units(snapshot, "assignments", "assignment_id") if _is_open(a)]
    assigned = {a.get("sighting_id") for a in assignments}
    for sighting in _units(snapshot, "sightings", "sighting_id"):
        if sighting["sighting_id"] not in assigned:
            found += _unassigned_alerts(sighting, now_ms, thresholds, clock)
    sightings = {sighting["sighting_id"]: sighting for sighting in _units(snapshot, "sightings", "sighting_id")}
    for assignment in assignments:
        found += _unacknowledged_alerts(assignment, patrols.get(assignment.get("patrol_id")),
                                        sightings.get(assignment.get("sighting_id")), now_ms, thresholds, clock)
    urgent = {s["sighting_id"] for s in sightings.values() if s.get("priority") == 1}
    return {alert.alert_id: _escalated(alert, urgent, now_ms, thresholds) for alert in found}


def _escalated(alert: Alert, urgent: set[str], now_ms: int, thresholds: Thresholds) -> Alert:
    """A priority-1 sighting left without a patrol well past its warning becomes critical: same alert,
    same id and text, a higher severity (so the screen pins it on top)."""
    if (alert.kind is AlertKind.SIGHTING_UNASSIGNED and alert.unit_id in urgent
            and now_ms - alert.since_ms > thresholds.urgent_sighting_critical_ms):
        return alert.model_copy(update={"severity": Severity.CRITICAL})
    return alert


def _drone_alerts(drone: dict, zones: list[Zone], now_ms: int, thresholds: Thresholds, clock: "_Clock") -> list[Alert]:
    drone_id, ts = drone["drone_id"], drone["ts"]
    lat, lon = drone.get("lat"), drone.get("lon")
    alerts = []
    if now_ms - ts > thresholds.link_lost_ms:
        alerts.append(new_alert(AlertKind.LINK_LOST, drone_id,
                                f"{drone_id} link lost: no telemetry since {clock(ts)}", ts, lat, lon))
    battery = drone.get("battery_pct")
    if _is_number(battery) and battery < thresholds.low_battery_pct:
        alerts.append(new_alert(AlertKind.LOW_BATTERY, drone_id,
                                f"{drone_id} battery at {battery:.0f} % (at {clock(ts)})", ts, lat, lon))
    if _is_number(lat) and _is_number(lon) and not is_authorised(zones, lat, lon, ts):
        alerts.append(new_alert(AlertKind.OUTSIDE_ZONE, drone_id,
                                f"{drone_id} outside every authorised zone (last fix {clock(ts)})", ts, lat, lon))
    return alerts


def _patrol_alerts(patrol: dict, now_ms: int, thresholds: Thresholds, clock: "_Clock") -> list[Alert]:
    # An unavailable patrol (off duty, at the station) may go quiet: no dispatch relies on its position.
    if patrol.get("status") == PatrolStatus.UNAVAILABLE.value:
        return []
    patrol_id, ts = patrol["patrol_id"], patrol["ts"]
    if now_ms - ts <= thresholds.patrol_stale_ms:
        return []
    return [new_alert(AlertKind.PATROL_STALE, patrol_id, f"{patrol_id} position not updated since {clock(ts)}",
                      ts, patrol.get("lat"), patrol.get("lon"))]


def _unassigned_alerts(sighting: dict, now_ms: int, thresholds: Thresholds, clock: "_Clock") -> list[Alert]:
    if sighting.get("closed"):
        return []
    priority = sighting.get("priority")
    limit = thresholds.urgent_sighting_unassigned_ms if priority == 1 else thresholds.sighting_unassigned_ms
    sighting_id, ts = sighting["sighting_id"], sighting["ts"]
    if now_ms - ts <= limit:
        return []
    what = f"Priority {priority} sighting" + (f" ({sighting['category']})" if sighting.get("category") else "")
    return [new_alert(AlertKind.SIGHTING_UNASSIGNED, sighting_id,
                      f"{what} {sighting_label(sighting)} has no patrol (reported {clock(ts)})",
                      ts, sighting.get("lat"), sighting.get("lon"))]


def _unacknowledged_alerts(assignment: dict, patrol: dict | None, sighting: dict | None, now_ms: int,
                           thresholds: Thresholds, clock: "_Clock") -> list[Alert]:
    if assignment.get("state") != AssignmentState.ASSIGNED.value:
        return []
    assignment_id, ts = assignment["assignment_id"], assignment["ts"]
    if now_ms - ts <= thresholds.assignment_unacknowledged_ms:
        return []
    patrol_id = assignment.get("patrol_id", "?")
    lat, lon, fixed = (patrol.get("lat"), patrol.get("lon"), patrol.get("ts")) if patrol else (None, None, None)
    # The sighting's incident number is what the supervisor reads on the queue; the assignment's id otherwise.
    subject = (f"its assignment to {sighting_label(sighting)}" if sighting
               else f"assignment {assignment_id[:8]}")
    return [new_alert(AlertKind.ASSIGNMENT_UNACKNOWLEDGED, assignment_id,
                      f"{patrol_id} has not acknowledged {subject} (sent {clock(ts)})",
                      ts, lat, lon, fixed)]


_CLOSED_STATES = {AssignmentState.CLEARED.value, AssignmentState.CANCELLED.value}


def _is_open(assignment: dict) -> bool:
    return assignment.get("state") not in _CLOSED_STATES


def _units(snapshot: Mapping, name: str, id_field: str) -> list[dict]:
    """The snapshot's units of one kind that carry an id and an integer ts; anything else is skipped."""
    units = snapshot.get(name) or []
    if isinstance(units, Mapping):
        units = units.values()
    return [unit for unit in units
            if isinstance(unit, Mapping) and isinstance(unit.get(id_field), str)
            and isinstance(unit.get("ts"), int) and not isinstance(unit.get("ts"), bool)]


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class _Clock:
    """Instants as the wall clock in the control room shows them (HH:MM:SS, local time)."""

    def __init__(self, tz: str):
        self._zone = ZoneInfo(tz)

    def __call__(self, t_ms: int) -> str:
        return datetime.fromtimestamp(t_ms / 1000, tz=self._zone).strftime("%H:%M:%S")


# --- Lifecycle -------------------------------------------------------------

def diff(open_alerts: Mapping[str, Alert], current: Mapping[str, Alert]) -> tuple[list[Alert], list[Alert]]:
    """(raised, resolved): alerts whose condition just started, and open alerts whose condition stopped.

    An alert both open and current is left alone, whatever `current` says about
    it: it keeps its state (acknowledged stays acknowledged), its since_ms and
    its message until it is resolved. Both lists are in alert id order.
    """
    raised = [current[alert_id] for alert_id in sorted(current) if alert_id not in open_alerts]
    resolved = [open_alerts[alert_id] for alert_id in sorted(open_alerts) if alert_id not in current]
    return raised, resolved


SEVERITY_RANK = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2}


def escalations(open_alerts: Mapping[str, Alert], current: Mapping[str, Alert]) -> list[Alert]:
    """Open alerts whose condition now holds at a higher severity, as they must be stored: the open alert
    (its since_ms, text and history) with the new severity, and to be seen again: an acknowledgement of
    the warning does not cover the critical (it stays on the alerts stream). In alert id order."""
    return [open_alerts[alert_id].model_copy(update={
                "severity": current[alert_id].severity, "state": AlertState.RAISED,
                "acknowledged_by": None, "acknowledged_ms": None})
            for alert_id in sorted(open_alerts)
            if alert_id in current
            and SEVERITY_RANK[current[alert_id].severity] < SEVERITY_RANK[open_alerts[alert_id].severity]]


def acknowledge(alert: Alert, supervisor_id: str, now_ms: int) -> Alert:
    """The alert acknowledged by a supervisor; the first acknowledgement is the one on record."""
    if alert.state is AlertState.ACKNOWLEDGED:
        raise AlertError(f"alert {alert.alert_id} was already acknowledged by {alert.acknowledged_by}")
    try:
        return Alert(**{**alert.model_dump(), "state": AlertState.ACKNOWLEDGED,
                        "acknowledged_by": supervisor_id, "acknowledged_ms": now_ms})
    except ValidationError:
        raise AlertError(f"supervisor_id: bad format {supervisor_id!r:.60}, "
                         f"expected {ID_FORMATS[SUPERVISOR_ID]}") from None


# --- On the record -----------------------------------------------------------

def zone_audit_entries(raised: Iterable[Alert], resolved: Iterable[Alert], zones: Iterable[Zone],
                       now_ms: int) -> dict[str, AuditEntry]:
    """The audit entries a diff owes, by alert id: a drone flying outside every authorised zone is a
    legal fact, not only a screen alert, so its start and its end go on the trail (actor `system`),
    kept as long as the trail, after the alert stream itself has been trimmed.

    No position: the trail outlives the recordings (7 days), and where the drone flew is a recording.
    What it was checked against is kept instead: the zones valid at the fix that raised it.
    """
    zones = list(zones)
    entries: dict[str, AuditEntry] = {}
    for alert in raised:
        if alert.kind is AlertKind.OUTSIDE_ZONE:
            valid = ",".join(zone.zone_id for zone in zones_valid_at(zones, alert.since_ms)) or "none"
            entries[alert.alert_id] = make_entry(
                ts=now_ms, actor=SYSTEM_ACTOR, role=AuditRole.SYSTEM, action=Action.DRONE_LEFT_ZONES,
                target=alert.unit_id, details={"alert_id": alert.alert_id, "fix_ms": alert.since_ms,
                                               "zones_valid": _clip(valid)})
    for alert in resolved:
        if alert.kind is AlertKind.OUTSIDE_ZONE:
            entries[alert.alert_id] = make_entry(
                ts=now_ms, actor=SYSTEM_ACTOR, role=AuditRole.SYSTEM, action=Action.DRONE_BACK_IN_ZONE,
                target=alert.unit_id, details={"alert_id": alert.alert_id, "since_ms": alert.since_ms,
                                               "outside_ms": max(0, now_ms - alert.since_ms),
                                               "acknowledged_by": alert.acknowledged_by})
    return entries


def _clip(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
