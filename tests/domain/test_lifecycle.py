"""The assignment state machine and the patrol's own status changes, as full tables.

The expected tables are written out here by hand, not derived from the module,
so that a change to the rules has to be made twice, deliberately.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from dispatch.domain import lifecycle
from dispatch.domain.lifecycle import (
    AssignmentActor,
    check_outcome,
    check_reassign,
    check_patrol_status_change,
    check_transition,
    is_open,
    patrol_status_for,
)
from dispatch.domain.models import Assignment, AssignmentState, Outcome, PatrolStatus

STATES = [s.value for s in AssignmentState]
ROLES = ["supervisor", "patrol"]

# Every allowed (current, new, role); everything else is refused.
ALLOWED = {
    (None, "assigned", "supervisor"),
    ("assigned", "acknowledged", "patrol"),
    ("assigned", "en_route", "patrol"),
    ("acknowledged", "en_route", "patrol"),
    ("en_route", "on_scene", "patrol"),
    ("on_scene", "cleared", "patrol"),
    ("assigned", "cancelled", "supervisor"),
    ("acknowledged", "cancelled", "supervisor"),
    ("en_route", "cancelled", "supervisor"),
    ("on_scene", "cancelled", "supervisor"),
}

# What the refusal must say, for each kind of refused step.
SPECIFIC_REASONS = {
    ("assigned", "on_scene", "patrol"): "cannot go from assigned to on_scene: report en route first",
    ("acknowledged", "on_scene", "patrol"): "cannot go from acknowledged to on_scene: report en route first",
    ("en_route", "cleared", "patrol"): "cannot go from en_route to cleared: report on scene first",
    ("assigned", "cleared", "patrol"): "cannot go from assigned to cleared: report on scene first",
    ("on_scene", "en_route", "patrol"): "cannot go back from on_scene to en_route",
    ("acknowledged", "assigned", "supervisor"): "cannot go back from acknowledged to assigned",
    ("en_route", "en_route", "patrol"): "assignment already en_route",
    ("cleared", "cancelled", "supervisor"): "assignment already cleared: a closed assignment cannot change",
    ("cancelled", "en_route", "patrol"): "assignment already cancelled: a closed assignment cannot change",
    ("assigned", "cancelled", "patrol"): "only a supervisor can cancel an assignment",
    (None, "assigned", "patrol"): "only a supervisor can assign a patrol",
    ("assigned", "acknowledged", "supervisor"): "only the assigned patrol can report acknowledged",
    ("on_scene", "cleared", "supervisor"): "only the assigned patrol can report cleared",
    (None, "en_route", "patrol"): "no assignment to move to en_route",
}


def _all_steps():
    for current in [None, *STATES]:
        for new in STATES:
            for role in ROLES:
                yield pytest.param(current, new, role, id=f"{current}->{new}-by-{role}")


@pytest.mark.parametrize("current, new, role", list(_all_steps()))
def test_every_transition_by_every_role(current, new, role):
    reason = check_transition(current, new, actor_role=role)
    if (current, new, role) in ALLOWED:
        assert reason is None
        return
    assert isinstance(reason, str) and reason.strip(), "a refusal must say why"
    assert "\n" not in reason and len(reason) < 200
    if (current, new, role) in SPECIFIC_REASONS:
        assert reason.startswith(SPECIFIC_REASONS[(current, new, role)]), reason


def test_the_table_is_the_whole_machine():
    """84 steps, 10 allowed: the allowed set in the module is exactly the one written above."""
    allowed = {(c, n, r) for c in [None, *STATES] for n in STATES for r in ROLES
               if check_transition(c, n, actor_role=r) is None}
    assert allowed == ALLOWED


def test_enums_are_accepted_as_well_as_their_values():
    assert check_transition(AssignmentState.EN_ROUTE, AssignmentState.ON_SCENE, actor_role=AssignmentActor.PATROL) is None
    assert check_transition(AssignmentState.EN_ROUTE, AssignmentState.ON_SCENE, actor_role=AssignmentActor.SUPERVISOR)


def test_an_unknown_role_is_refused_whatever_the_step():
    assert "unknown role 'driver'" in check_transition("assigned", "en_route", actor_role="driver")


@pytest.mark.parametrize("state, expected_open, expected_status", [
    ("assigned", True, PatrolStatus.ASSIGNED),
    ("acknowledged", True, PatrolStatus.ASSIGNED),
    ("en_route", True, PatrolStatus.EN_ROUTE),
    ("on_scene", True, PatrolStatus.ON_SCENE),
    ("cleared", False, PatrolStatus.AVAILABLE),
    ("cancelled", False, PatrolStatus.AVAILABLE),
])
def test_open_states_and_the_patrol_status_each_implies(state, expected_open, expected_status):
    assert is_open(state) is expected_open
    assert is_open(AssignmentState(state)) is expected_open
    assert patrol_status_for(state) is expected_status


# ----------------------------------------------------------------------------- outcomes

OUTCOMES = [o.value for o in Outcome]


@pytest.mark.parametrize("new", STATES)
@pytest.mark.parametrize("outcome", [None, *OUTCOMES, "robbery"])
def test_an_outcome_is_required_exactly_when_clearing(new, outcome):
    reason = check_outcome(new, outcome)
    if outcome == "robbery":
        assert reason.startswith("unknown outcome 'robbery'")
    elif new == "cleared":
        if outcome is None:
            assert reason.startswith("clearing needs an outcome: one of nothing_found, dispersed")
        else:
            assert reason is None
    elif outcome is None:
        assert reason is None
    else:
        assert reason == f"an outcome is given only when clearing, not when going {new}"


# ----------------------------------------------------------------------------- patrol status

PATROL_STATUSES = [s.value for s in PatrolStatus]


def _patrol_cases():
    for current in [None, *PATROL_STATUSES]:
        for new in PATROL_STATUSES:
            for has_open in (False, True):
                yield pytest.param(current, new, has_open, id=f"{current}->{new}-open={has_open}")


@pytest.mark.parametrize("current, new, has_open", list(_patrol_cases()))
def test_every_patrol_status_change(current, new, has_open):
    reason = check_patrol_status_change(current, new, has_open)
    if new == current:
        assert reason is None, "repeating one's status is a position update"
    elif new in ("available", "unavailable") and not has_open:
        assert reason is None
    elif new in ("available", "unavailable"):
        assert reason == (f"cannot report {new} with an open assignment: clear it first, "
                          "or ask the supervisor to cancel it")
    else:
        assert reason.startswith(f"{new} comes from an assignment")


# ----------------------------------------------------------------------------- readable refusals

SUMMER_14_02_11 = int(datetime(2026, 7, 14, 12, 2, 11, tzinfo=timezone.utc).timestamp() * 1000)
WINTER_14_02_11 = int(datetime(2026, 1, 15, 13, 2, 11, tzinfo=timezone.utc).timestamp() * 1000)


def test_times_are_given_on_the_paris_wall_clock_summer_and_winter():
    assert lifecycle.clock_time(SUMMER_14_02_11) == "14:02:11"
    assert lifecycle.clock_time(WINTER_14_02_11) == "14:02:11"
    assert lifecycle.clock_time(SUMMER_14_02_11, timezone.utc) == "12:02:11"


def test_a_busy_patrol_is_explained_with_the_sighting_the_supervisor_and_the_time_it_was_assigned():
    holder = Assignment(assignment_id="asg-000001", sighting_id="sim-ab12-000003", patrol_id="BAC-12",
                        supervisor_id="SUP-2", ts=SUMMER_14_02_11 + 600_000, state="en_route",
                        assigned_ts=SUMMER_14_02_11)
    assert lifecycle.explain_busy("BAC-12", holder) == (
        "BAC-12 is already assigned to sighting sim-ab12-000003 (by SUP-2, 14:02:11)")
    assert lifecycle.explain_busy("BAC-12", None) == "BAC-12 is already assigned"


def test_other_refusals_read_as_sentences():
    assert lifecycle.explain_unavailable("BAC-12", "unavailable") == "BAC-12 is not available (unavailable)"
    assert lifecycle.explain_unavailable("BAC-12", None) == "BAC-12 is not available (no report received from it)"
    assert "sighting sgt-000009 is not open" in lifecycle.explain_sighting_closed("sgt-000009")
    holder = Assignment(assignment_id="asg-000001", sighting_id="sgt-000001", patrol_id="BAC-12",
                        supervisor_id="SUP-2", ts=SUMMER_14_02_11, state="assigned")
    assert lifecycle.explain_not_owner("GN-4", holder) == (
        "GN-4 cannot act on assignment asg-000001: it was given to BAC-12")


@pytest.mark.parametrize("state, confirmed, expected", [
    ("assigned", False, None),
    ("acknowledged", False, None),
    ("en_route", False, "BAC-12 is en route to sighting S-0142: confirm to take it from the crew"),
    ("on_scene", False, "BAC-12 is on scene at sighting S-0142: confirm to take it from the crew"),
    ("en_route", True, None),
    ("on_scene", True, None),
])
def test_taking_a_sighting_from_a_moving_crew_needs_a_confirmation(state, confirmed, expected):
    assignment = Assignment(assignment_id="asg-000001", sighting_id="sight-0001", patrol_id="BAC-12",
                            supervisor_id="SUP-1", ts=1_767_225_600_000, state=state)
    assert check_reassign(assignment, confirmed, "S-0142") == expected


def test_a_sighting_without_a_number_is_named_by_its_id():
    assignment = Assignment(assignment_id="asg-000001", sighting_id="sight-0001", patrol_id="BAC-12",
                            supervisor_id="SUP-1", ts=1_767_225_600_000, state="en_route")
    assert check_reassign(assignment, False) == "BAC-12 is en route to sighting sight-0001: confirm to take it from the crew"


def test_the_domains_default_time_zone_is_the_settings_default():
    from dispatch.settings import Settings

    assert lifecycle.DISPLAY_TIMEZONE.key == Settings().timezone
