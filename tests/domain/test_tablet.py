"""The tablet's actions: what each does in every state, which buttons are live, when a resend is the same
action, and the texts the officer reads. Expected tables are written out by hand (the lifecycle's own
tables are in test_lifecycle.py: these test the tablet's mapping onto them)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from dispatch.domain import geo
from dispatch.domain.models import AssignmentState, Outcome, PatrolStatus
from dispatch.domain.tablet import (
    MAX_TAP_AGE_MS, ActionRecord, AssignmentStep, BadAction, ClientAction, Refusal,
    StatusReport, TabletAction, Verdict, age_text, button_rules, compass_point, conflict_reason, distance_words,
    effective_ms, enabled_actions, fingerprint, open_state_statuses, parse_action, parse_position, plan, refusal,
    report_status, target_text, text_rules, verdict,
)

A = AssignmentState
T = TabletAction
ACTION_ID = "0b6f7c1e-3a2d-4c5b-9e8f-1a2b3c4d5e6f"
OPEN_ID = "a" * 32
OTHER_ID = "b" * 32
REPORT_ON_SCENE_FIRST = ("report on scene first (a call that became void before arrival is cancelled by "
                         "the supervisor)")
OUTCOMES = ", ".join(o.value for o in Outcome)


def action(kind: TabletAction, **fields) -> ClientAction:
    if kind in (T.ACKNOWLEDGE, T.EN_ROUTE, T.ON_SCENE, T.CLEAR):
        fields.setdefault("assignment_id", OPEN_ID)
    if kind is T.CLEAR:
        fields.setdefault("outcome", Outcome.DISPERSED)
    return ClientAction(action_id=ACTION_ID, action=kind, **fields)


# ----------------------------------------------------------------------------- assignment steps, every state

# (state of the patrol's open assignment, tablet action) -> None if allowed, else the sentence the officer reads.
STEPS = {
    ("assigned", T.ACKNOWLEDGE): None,
    ("assigned", T.EN_ROUTE): None,
    ("assigned", T.ON_SCENE): "cannot go from assigned to on_scene: report en route first",
    ("assigned", T.CLEAR): f"cannot go from assigned to cleared: {REPORT_ON_SCENE_FIRST}",
    ("acknowledged", T.ACKNOWLEDGE): "assignment already acknowledged",
    ("acknowledged", T.EN_ROUTE): None,
    ("acknowledged", T.ON_SCENE): "cannot go from acknowledged to on_scene: report en route first",
    ("acknowledged", T.CLEAR): f"cannot go from acknowledged to cleared: {REPORT_ON_SCENE_FIRST}",
    ("en_route", T.ACKNOWLEDGE): "cannot go back from en_route to acknowledged",
    ("en_route", T.EN_ROUTE): "assignment already en_route",
    ("en_route", T.ON_SCENE): None,
    ("en_route", T.CLEAR): f"cannot go from en_route to cleared: {REPORT_ON_SCENE_FIRST}",
    ("on_scene", T.ACKNOWLEDGE): "cannot go back from on_scene to acknowledged",
    ("on_scene", T.EN_ROUTE): "cannot go back from on_scene to en_route",
    ("on_scene", T.ON_SCENE): "assignment already on_scene",
    ("on_scene", T.CLEAR): None,
    (None, T.ACKNOWLEDGE): "no assignment to move to acknowledged: a supervisor must assign a patrol first",
    (None, T.EN_ROUTE): "no assignment to move to en_route: a supervisor must assign a patrol first",
    (None, T.ON_SCENE): "no assignment to move to on_scene: a supervisor must assign a patrol first",
    (None, T.CLEAR): "no assignment to move to cleared: a supervisor must assign a patrol first",
}
MAPPING = {T.ACKNOWLEDGE: A.ACKNOWLEDGED, T.EN_ROUTE: A.EN_ROUTE, T.ON_SCENE: A.ON_SCENE, T.CLEAR: A.CLEARED}


def test_the_table_covers_every_open_state_and_every_assignment_action():
    assert {state for state, _ in STEPS} == {"assigned", "acknowledged", "en_route", "on_scene", None}
    assert {kind for _, kind in STEPS} == set(MAPPING)
    assert len(STEPS) == 20


@pytest.mark.parametrize("state, kind", list(STEPS))
def test_assignment_action_in_each_state(state, kind):
    assert refusal(action(kind), patrol_status="assigned", open_state=state) == STEPS[(state, kind)]


@pytest.mark.parametrize("state, kind", list(STEPS))
def test_every_assignment_action_goes_to_the_store_as_its_transition(state, kind):
    """Allowed or not: the store checks it against the stored assignment and audits a refusal."""
    got = plan(action(kind), patrol_status="assigned", open_state=state)
    assert got == AssignmentStep(OPEN_ID, MAPPING[kind], Outcome.DISPERSED if kind is T.CLEAR else None)


@pytest.mark.parametrize("outcome", list(Outcome))
def test_clearing_carries_each_outcome(outcome):
    cleared = action(T.CLEAR, outcome=outcome)
    assert refusal(cleared, patrol_status="on_scene", open_state="on_scene") is None
    assert plan(cleared, patrol_status="on_scene", open_state="on_scene") == AssignmentStep(OPEN_ID, A.CLEARED, outcome)


def test_clearing_without_an_outcome_is_refused():
    got = refusal(action(T.CLEAR, outcome=None), patrol_status="on_scene", open_state="on_scene")
    assert got == f"clearing needs an outcome: one of {OUTCOMES}"


@pytest.mark.parametrize("kind, state, going", [(T.ACKNOWLEDGE, "assigned", "acknowledged"),
                                                (T.EN_ROUTE, "acknowledged", "en_route"),
                                                (T.ON_SCENE, "en_route", "on_scene")])
def test_an_outcome_on_any_other_step_is_refused(kind, state, going):
    got = refusal(action(kind, outcome=Outcome.ARREST), patrol_status="assigned", open_state=state)
    assert got == f"an outcome is given only when clearing, not when going {going}"


def test_the_step_names_the_assignment_the_tablet_sent():
    """Another patrol's assignment, or one closed meanwhile: the store refuses it, with the owner's reason."""
    got = plan(action(T.ON_SCENE, assignment_id=OTHER_ID), patrol_status="available", open_state=None)
    assert got == AssignmentStep(OTHER_ID, A.ON_SCENE)


# ----------------------------------------------------------------------------- the crew's own status

OPEN_ASSIGNMENT_REFUSAL = ("cannot report {} with an open assignment: clear it first, or ask the supervisor "
                           "to cancel it")

# (stored status, has an open assignment, action) -> what happens.
STATUS = {
    ("available", False, T.AVAILABLE): StatusReport(PatrolStatus.AVAILABLE),
    ("available", False, T.UNAVAILABLE): StatusReport(PatrolStatus.UNAVAILABLE),
    ("unavailable", False, T.AVAILABLE): StatusReport(PatrolStatus.AVAILABLE),
    ("unavailable", False, T.UNAVAILABLE): StatusReport(PatrolStatus.UNAVAILABLE),
    (None, False, T.AVAILABLE): StatusReport(PatrolStatus.AVAILABLE),
    (None, False, T.UNAVAILABLE): StatusReport(PatrolStatus.UNAVAILABLE),
    ("assigned", True, T.AVAILABLE): Refusal(OPEN_ASSIGNMENT_REFUSAL.format("available")),
    ("assigned", True, T.UNAVAILABLE): Refusal(OPEN_ASSIGNMENT_REFUSAL.format("unavailable")),
    ("en_route", True, T.AVAILABLE): Refusal(OPEN_ASSIGNMENT_REFUSAL.format("available")),
    ("on_scene", True, T.UNAVAILABLE): Refusal(OPEN_ASSIGNMENT_REFUSAL.format("unavailable")),
}


@pytest.mark.parametrize("stored, has_open, kind", list(STATUS))
def test_status_actions(stored, has_open, kind):
    got = plan(action(kind), patrol_status=stored, open_state="en_route" if has_open else None)
    assert got == STATUS[(stored, has_open, kind)]


def test_a_status_action_with_an_outcome_is_refused():
    got = plan(action(T.AVAILABLE, outcome=Outcome.OTHER), patrol_status="unavailable", open_state=None)
    assert got == Refusal("an outcome is given only when clearing, not when reporting available")


# ----------------------------------------------------------------------------- which buttons are live

ENABLED = {
    ("assigned", None): [T.ACKNOWLEDGE, T.EN_ROUTE],
    ("acknowledged", None): [T.EN_ROUTE],
    ("en_route", None): [T.ON_SCENE],
    ("on_scene", None): [T.CLEAR],
    (None, "available"): [T.UNAVAILABLE],
    (None, "unavailable"): [T.AVAILABLE],
    (None, None): [T.AVAILABLE, T.UNAVAILABLE],
    (None, "assigned"): [T.AVAILABLE, T.UNAVAILABLE],  # a picture not caught up yet with a closed assignment
}


@pytest.mark.parametrize("state, status", list(ENABLED))
def test_enabled_buttons(state, status):
    assert enabled_actions(state, status) == ENABLED[(state, status)]


def test_exactly_the_buttons_the_lifecycle_allows_are_enabled():
    for (state, kind), reason in STEPS.items():
        if state is not None:
            assert (kind in enabled_actions(state, "assigned")) == (reason is None), (state, kind)
    for (stored, has_open, kind), outcome in STATUS.items():
        if not has_open and stored != kind.value:
            assert (kind in enabled_actions(None, stored)) == isinstance(outcome, StatusReport), (stored, kind)


def test_button_rules_for_the_page():
    assert button_rules() == {
        "assigned": ["acknowledge", "en_route"], "acknowledged": ["en_route"], "en_route": ["on_scene"],
        "on_scene": ["clear"],
        "free:available": ["unavailable"], "free:unavailable": ["available"],
        "free:assigned": ["available", "unavailable"], "free:en_route": ["available", "unavailable"],
        "free:on_scene": ["available", "unavailable"], "free:none": ["available", "unavailable"],
    }


# ----------------------------------------------------------------------------- the status a position carries

@pytest.mark.parametrize("open_state, claimed, stored, expected", [
    ("assigned", "available", "available", "assigned"),
    ("acknowledged", None, None, "assigned"),
    ("en_route", "unavailable", "assigned", "en_route"),
    ("on_scene", "available", "on_scene", "on_scene"),
    (None, "unavailable", "available", "unavailable"),  # the tablet is ahead of the picture
    (None, "available", "unavailable", "available"),
    (None, "en_route", "unavailable", "unavailable"),  # a claim the crew may not make itself is ignored
    (None, None, "available", "available"),
    (None, None, "on_scene", "unavailable"),
    (None, None, None, "unavailable"),  # never heard of: not proposed until its crew says available
])
def test_report_status(open_state, claimed, stored, expected):
    assert report_status(open_state, claimed, stored) == PatrolStatus(expected)


# ----------------------------------------------------------------------------- requests

def body(**fields) -> dict:
    return {"action_id": ACTION_ID, "action": "en_route", "assignment_id": OPEN_ID, **fields}


def test_parse_a_full_action():
    got = parse_action(body(action="clear", outcome="arrest", tapped_ms=1_767_225_600_000, lat=48.1, lon=-1.6))
    assert got == ClientAction(ACTION_ID, T.CLEAR, OPEN_ID, Outcome.ARREST, 1_767_225_600_000, 48.1, -1.6)


def test_a_patrol_id_in_the_body_is_not_part_of_the_action():
    got = parse_action(body(patrol_id="BAC-99", actor_id="BAC-99"))
    assert got == ClientAction(ACTION_ID, T.EN_ROUTE, OPEN_ID)
    assert not hasattr(got, "patrol_id")


def test_a_status_action_drops_any_assignment_id():
    assert parse_action(body(action="available")).assignment_id is None


@pytest.mark.parametrize("fields, message", [
    ({"action_id": None}, "action_id must be a UUID"),
    ({"action_id": "not-a-uuid"}, "action_id must be a UUID"),
    ({"action_id": ACTION_ID.upper()}, "action_id must be a UUID"),
    ({"action_id": ACTION_ID + "\n"}, "action_id must be a UUID"),
    ({"action": "cancel"}, "action must be one of acknowledge, en_route, on_scene, clear, unavailable, available"),
    ({"action": None}, "action must be one of"),
    ({"assignment_id": None}, "en_route needs the assignment_id it applies to"),
    ({"assignment_id": "x"}, "en_route needs the assignment_id"),
    ({"assignment_id": 12345678}, "en_route needs the assignment_id"),
    ({"assignment_id": OPEN_ID + "\n"}, "en_route needs the assignment_id"),
    ({"outcome": "shot"}, "unknown outcome 'shot'"),
    ({"lat": 48.1}, "lat and lon must both be finite numbers"),
    ({"lat": 48.1, "lon": float("nan")}, "lat and lon must both be finite numbers"),
    ({"lat": True, "lon": 1.0}, "lat and lon must both be finite numbers"),
    ({"lat": "48.1", "lon": "-1.6"}, "lat and lon must both be finite numbers"),
    ({"lat": 91.0, "lon": 0.0}, "out of range"),
    ({"tapped_ms": -5}, "tapped_ms must be a positive number"),
    ({"tapped_ms": "yesterday"}, "tapped_ms must be a positive number"),
])
def test_malformed_actions_are_refused_with_what_is_wrong(fields, message):
    with pytest.raises(BadAction, match="^bad request: ") as refused:
        parse_action(body(**fields))
    assert message in str(refused.value)


@pytest.mark.parametrize("raw", [None, [], "en_route", 42])
def test_a_body_that_is_not_an_object_is_refused(raw):
    with pytest.raises(BadAction, match="expected a JSON object"):
        parse_action(raw)


def test_parse_position():
    assert parse_position({"lat": 48.1, "lon": -1.6, "ts": 1_767_225_600_000, "status": "unavailable",
                           "patrol_id": "BAC-99"}) == (48.1, -1.6, 1_767_225_600_000, PatrolStatus.UNAVAILABLE)
    assert parse_position({"lat": 48, "lon": -1}) == (48.0, -1.0, None, None)
    for bad in ({}, {"lat": 48.1}, {"lat": 48.1, "lon": -1.6, "status": "asleep"}, {"lat": 99, "lon": 0}):
        with pytest.raises(BadAction):
            parse_position(bad)


NOW = 1_767_225_600_000


@pytest.mark.parametrize("tapped, expected", [
    (None, NOW),
    (NOW - 5_000, NOW - 5_000),  # queued offline for 5 s: the tap's time is when it happened
    (NOW - MAX_TAP_AGE_MS, NOW - MAX_TAP_AGE_MS),
    (NOW - MAX_TAP_AGE_MS - 1, NOW),  # implausibly old (or a wrong clock): when it arrived
    (NOW + 1, NOW),  # never in the future
])
def test_effective_ms(tapped, expected):
    assert effective_ms(tapped, NOW) == expected


# ----------------------------------------------------------------------------- exactly once

def test_first_copy_is_applied():
    assert verdict(None, action(T.EN_ROUTE)) is Verdict.APPLY


def test_a_resend_gets_the_recorded_answer():
    sent = action(T.EN_ROUTE, tapped_ms=NOW, lat=48.1, lon=-1.6)
    record = ActionRecord(fingerprint(sent), {"ok": True, "state": "en_route"})
    assert verdict(record, sent) is Verdict.REPLAY
    assert verdict(record, action(T.EN_ROUTE, tapped_ms=NOW, lat=48.1, lon=-1.6)) is Verdict.REPLAY


def test_a_copy_arriving_while_the_first_is_applied_waits():
    sent = action(T.ACKNOWLEDGE)
    assert verdict(ActionRecord(fingerprint(sent)), sent) is Verdict.IN_PROGRESS


@pytest.mark.parametrize("changed", [
    {"kind": T.ACKNOWLEDGE}, {"assignment_id": OTHER_ID}, {"tapped_ms": NOW + 1}, {"lat": 48.2, "lon": -1.6},
])
def test_the_same_id_with_anything_different_is_a_conflict(changed):
    first = action(T.EN_ROUTE, tapped_ms=NOW, lat=48.1, lon=-1.6)
    fields = {"tapped_ms": NOW, "lat": 48.1, "lon": -1.6, **changed}
    second = action(fields.pop("kind", T.EN_ROUTE), **fields)
    for record in (ActionRecord(fingerprint(first)), ActionRecord(fingerprint(first), {"ok": True})):
        assert verdict(record, second) is Verdict.CONFLICT


def test_the_outcome_is_part_of_the_action():
    record = ActionRecord(fingerprint(action(T.CLEAR, outcome=Outcome.ARREST)), {"ok": True})
    assert verdict(record, action(T.CLEAR, outcome=Outcome.DISPERSED)) is Verdict.CONFLICT


def test_the_record_keeps_no_position():
    sent = action(T.AVAILABLE, tapped_ms=NOW, lat=48.117234, lon=-1.665521)
    encoded = ActionRecord(fingerprint(sent), {"ok": True, "status": "available"}).encode()
    assert b"48.117" not in encoded and b"1.6655" not in encoded and len(fingerprint(sent)) == 64


def test_records_round_trip():
    pending = ActionRecord("fp")
    answered = ActionRecord("fp", {"ok": False, "message": "assignment already en_route"})
    assert ActionRecord.decode(pending.encode()) == pending
    assert ActionRecord.decode(answered.encode()) == answered
    assert b"BAC" not in answered.encode() and b"lat" not in answered.encode()


def test_conflict_reason():
    assert conflict_reason(ACTION_ID) == f"action {ACTION_ID} was already used for a different action: not applied"


# ----------------------------------------------------------------------------- texts
# The cases are shared with the page's own implementation (tests/js/tablet/text.test.js): one table, two languages.

TEXTS = orjson.loads((Path(__file__).parent / "tablet_texts.json").read_bytes())


@pytest.mark.parametrize("case", TEXTS["compass_points"], ids=lambda case: str(case["bearing"]))
def test_compass_point(case):
    assert compass_point(case["bearing"]) == case["text"]


@pytest.mark.parametrize("case", TEXTS["distances"], ids=lambda case: str(case["metres"]))
def test_distance_words(case):
    assert distance_words(case["metres"]) == case["text"]


@pytest.mark.parametrize("case", TEXTS["targets"], ids=lambda case: case["text"])
def test_target_text(case):
    lat, lon = geo.destination(*case["from"], case["metres"], case["bearing"])
    assert case["to"] == pytest.approx([float(lat), float(lon)], abs=1e-9), "the case's target moved"
    assert target_text(*case["from"], *case["to"]) == case["text"]


@pytest.mark.parametrize("case", TEXTS["ages"], ids=lambda case: str(case["ms"]))
def test_age_text(case):
    assert age_text(case["ms"]) == case["text"]


def test_the_texts_table_covers_every_boundary():
    """The halves that round up, the compass sectors' edges, the "here" radius: both sides of each."""
    assert {c["metres"] for c in TEXTS["distances"]} >= {44, 45, 994, 995, 9_949, 9_950}
    assert {c["bearing"] for c in TEXTS["compass_points"]} >= {22.49, 22.5, 337.49, 337.5, 360, -10}
    assert {c["text"] for c in TEXTS["targets"]} >= {"here", "30 m north"}


def test_text_rules_are_what_the_page_is_sent():
    """The table's rules are the ones the page's unit test computes with: they must be the server's."""
    assert text_rules() == TEXTS["rules"]
    assert TEXTS["rules"]["compass_points"][::2] == ["north", "east", "south", "west"]
    assert open_state_statuses() == {"assigned": "assigned", "acknowledged": "assigned", "en_route": "en_route",
                                     "on_scene": "on_scene"}
