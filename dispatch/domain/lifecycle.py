"""What may follow what in an assignment's life, who may make it happen, and why not.

The assignment state machine (each step by the one role allowed to take it):

    (none) ──assign (supervisor)──► assigned
    assigned ──────► acknowledged ──► en_route ──► on_scene ──► cleared   (patrol)
    assigned ──────────────────────► en_route                             (patrol)
    any open state ──cancel (supervisor)──► cancelled

Decisions, and why:
- assigned → en_route directly: a crew that drives off before tapping
  "acknowledge" has acknowledged by driving; blocking it would make officers
  fiddle with a tablet at the wheel. Acknowledging stays useful (the supervisor
  sees the order was read while the crew finishes what it was doing).
- on_scene only from en_route: arrival times feed response-time review; an
  arrival with no departure would make that figure meaningless.
- cleared only from on_scene, with an outcome: clearing says "we were there and
  this is what we found" (nothing found included, which is an arrival then a
  clear). A call that becomes void before arrival is the supervisor's to
  cancel, so the record never claims a visit that did not happen.
- cancelled from every open state, by the supervisor only: the supervisor owns
  the allocation of patrols; a crew that cannot go says so by radio.
- cleared and cancelled are final; nothing goes backwards, nothing repeats.

A patrol's own status (available ↔ unavailable) is its crew's to report, but
only while it has no open assignment: the statuses assigned, en_route and
on_scene come from the assignment and nothing else.

Every check returns None when allowed, else one readable sentence that the
screen shows as is. Pure: no Redis, no clock (times are passed in).
"""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from enum import Enum
from zoneinfo import ZoneInfo

from .models import Assignment, AssignmentState, Outcome, PatrolStatus

A = AssignmentState

DISPLAY_TIMEZONE = ZoneInfo("Europe/Paris")
"""Times in refusals are read by French supervisors on a wall clock. The one home of the default local
time zone: code wanting its name uses `DISPLAY_TIMEZONE.key` (settings.timezone, read from
DISPATCH_TIMEZONE, has the same default and wins where a process or page has settings)."""


class AssignmentActor(str, Enum):
    """Who may take a step of an assignment (ALLOWED); a signed-in person's role is domain/auth.Role."""

    SUPERVISOR = "supervisor"
    PATROL = "patrol"


OPEN_STATES = frozenset({A.ASSIGNED, A.ACKNOWLEDGED, A.EN_ROUTE, A.ON_SCENE})
CLOSED_STATES = frozenset({A.CLEARED, A.CANCELLED})

# Progress order, to tell "going back" from "skipping a step".
_PROGRESS = [A.ASSIGNED, A.ACKNOWLEDGED, A.EN_ROUTE, A.ON_SCENE, A.CLEARED]

# (current, new) -> the one role that may take that step. None = no assignment yet.
ALLOWED: dict[tuple[AssignmentState | None, AssignmentState], AssignmentActor] = {
    (None, A.ASSIGNED): AssignmentActor.SUPERVISOR,
    (A.ASSIGNED, A.ACKNOWLEDGED): AssignmentActor.PATROL,
    (A.ASSIGNED, A.EN_ROUTE): AssignmentActor.PATROL,
    (A.ACKNOWLEDGED, A.EN_ROUTE): AssignmentActor.PATROL,
    (A.EN_ROUTE, A.ON_SCENE): AssignmentActor.PATROL,
    (A.ON_SCENE, A.CLEARED): AssignmentActor.PATROL,
    **{(state, A.CANCELLED): AssignmentActor.SUPERVISOR for state in OPEN_STATES},
}

# What to do instead when a patrol skips a step towards this state.
_MISSING_STEP = {
    A.ON_SCENE: "report en route first",
    A.CLEARED: "report on scene first (a call that became void before arrival is cancelled by the supervisor)",
}

_PATROL_STATUS = {
    A.ASSIGNED: PatrolStatus.ASSIGNED,
    A.ACKNOWLEDGED: PatrolStatus.ASSIGNED,
    A.EN_ROUTE: PatrolStatus.EN_ROUTE,
    A.ON_SCENE: PatrolStatus.ON_SCENE,
    A.CLEARED: PatrolStatus.AVAILABLE,
    A.CANCELLED: PatrolStatus.AVAILABLE,
}

SELF_REPORTED_STATUSES = frozenset({PatrolStatus.AVAILABLE, PatrolStatus.UNAVAILABLE})


def is_open(state: AssignmentState | str) -> bool:
    return AssignmentState(state) in OPEN_STATES


def patrol_status_for(state: AssignmentState | str) -> PatrolStatus:
    """The status an assignment in `state` gives its patrol; a closed one frees it."""
    return _PATROL_STATUS[AssignmentState(state)]


def check_transition(
    current: AssignmentState | str | None, new: AssignmentState | str, *, actor_role: AssignmentActor | str
) -> str | None:
    """None if `actor_role` may move an assignment from `current` to `new`, else why not.

    `current` None means there is no assignment yet (creating one is "assigned").
    """
    try:
        role = AssignmentActor(actor_role)
    except ValueError:
        return f"unknown role {actor_role!r}: expected 'supervisor' or 'patrol'"
    current = None if current is None else AssignmentState(current)
    new = AssignmentState(new)
    if current is None:
        if new is not A.ASSIGNED:
            return f"no assignment to move to {new.value}: a supervisor must assign a patrol first"
    elif current in CLOSED_STATES:
        return f"assignment already {current.value}: a closed assignment cannot change"
    elif new is current:
        return f"assignment already {current.value}"
    allowed_role = ALLOWED.get((current, new))
    if allowed_role is role:
        return None
    if allowed_role is AssignmentActor.SUPERVISOR:
        verb = "assign a patrol" if new is A.ASSIGNED else "cancel an assignment"
        return f"only a supervisor can {verb}"
    if allowed_role is AssignmentActor.PATROL:
        return f"only the assigned patrol can report {new.value}"
    if _PROGRESS.index(new) < _PROGRESS.index(current):
        return f"cannot go back from {current.value} to {new.value}"
    return f"cannot go from {current.value} to {new.value}: {_MISSING_STEP[new]}"


def check_outcome(new: AssignmentState | str, outcome: Outcome | str | None) -> str | None:
    """None if `outcome` fits a move to `new`: required when clearing, refused otherwise."""
    new = AssignmentState(new)
    choices = ", ".join(o.value for o in Outcome)
    if outcome is None:
        return f"clearing needs an outcome: one of {choices}" if new is A.CLEARED else None
    try:
        Outcome(outcome)
    except ValueError:
        return f"unknown outcome {outcome!r}: expected one of {choices}"
    if new is not A.CLEARED:
        return f"an outcome is given only when clearing, not when going {new.value}"
    return None


def check_patrol_status_change(
    current_status: PatrolStatus | str | None, new_status: PatrolStatus | str, has_open_assignment: bool
) -> str | None:
    """None if a patrol's crew may report `new_status` itself, else why not.

    Reporting the status it already has changes nothing and is always allowed
    (a position update). `current_status` None: the patrol has never reported.
    """
    new_status = PatrolStatus(new_status)
    if current_status is not None and PatrolStatus(current_status) is new_status:
        return None
    if new_status not in SELF_REPORTED_STATUSES:
        return f"{new_status.value} comes from an assignment, not from a status report: use the assignment's steps"
    if has_open_assignment:
        return (
            f"cannot report {new_status.value} with an open assignment: clear it first, "
            "or ask the supervisor to cancel it"
        )
    return None


# Readable refusals for assign and reassign: the supervisor sees them as they are.


def clock_time(ts_ms: int, tz: tzinfo = DISPLAY_TIMEZONE) -> str:
    """HH:MM:SS of an epoch-ms time, on the supervisors' wall clock."""
    return datetime.fromtimestamp(ts_ms / 1000, tz=timezone.utc).astimezone(tz).strftime("%H:%M:%S")


def explain_busy(patrol_id: str, assignment: Assignment | None, tz: tzinfo = DISPLAY_TIMEZONE) -> str:
    if assignment is None:
        return f"{patrol_id} is already assigned"
    since = clock_time(assignment.assigned_ts or assignment.ts, tz)
    return (
        f"{patrol_id} is already assigned to sighting {assignment.sighting_id} "
        f"(by {assignment.supervisor_id}, {since})"
    )


def explain_unavailable(patrol_id: str, status: PatrolStatus | str | None) -> str:
    if status is None:
        return f"{patrol_id} is not available (no report received from it)"
    return f"{patrol_id} is not available ({PatrolStatus(status).value})"


def explain_sighting_closed(sighting_id: str) -> str:
    return f"sighting {sighting_id} is not open (it has ended: cleared, closed, merged or expired; or it was never received)"


CREW_MOVING = {A.EN_ROUTE: "en route to", A.ON_SCENE: "on scene at"}
"""Reassigning away from a crew in these states takes a sighting from people on their way: it needs a confirmation."""


def check_reassign(assignment: Assignment, confirmed: bool, sighting_label: str | None = None) -> str | None:
    """None if the supervisor may take `assignment`'s sighting from its crew now, else why not.

    Checked by the store against the state the atomic step then expects, so a
    crew that sets off between the screen's question and the step is never
    stripped of its sighting without the supervisor's confirmation.
    """
    if confirmed or assignment.state not in CREW_MOVING:
        return None
    label = sighting_label or assignment.sighting_id
    return (f"{assignment.patrol_id} is {CREW_MOVING[assignment.state]} sighting {label}: "
            "confirm to take it from the crew")


def explain_not_owner(actor_id: str, assignment: Assignment) -> str:
    return (
        f"{actor_id} cannot act on assignment {assignment.assignment_id}: "
        f"it was given to {assignment.patrol_id}"
    )
