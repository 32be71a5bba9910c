"""An operator ending (or updating) the sighting it reported, in the pure layer: the contract's reasons, the
ownership rule in the batch plan, how batches are cut at an end, and how the ending reads."""

from __future__ import annotations

import pytest

from dispatch.domain import sightings as s
from dispatch.domain.batch import RawEntry, plan_batch, split_at_ends
from dispatch.domain.models import OperatorEndReason, Sighting, SightingEnd
from dispatch.domain.replay.history import ending_detail
from dispatch.domain.replay.metrics import OUTCOME_WORDS
from dispatch.domain.validate import Rejection, validate

RECEIVED = 1_767_225_600_000
TS = RECEIVED - 250
END = {"sighting_id": "sight-0001", "ts": str(TS), "operator_id": "OP-3", "ended": "left"}
REPORT = {"sighting_id": "sight-0001", "ts": str(TS - 60_000), "drone_id": "DR-07", "operator_id": "OP-3",
          "category": "lookout", "lat": "48.11", "lon": "-1.68", "priority": "2"}


def raw(fields: dict[str, str]) -> dict[bytes, bytes]:
    return {name.encode(): value.encode() for name, value in fields.items()}


def entry(fields: dict[str, str], n: int) -> RawEntry:
    return RawEntry("sighting", f"{RECEIVED}-{n}", raw(fields))


@pytest.mark.parametrize("changes, parsed", [
    ({}, {"ended": OperatorEndReason.LEFT, "drone_id": None, "note": ""}),
    ({"ended": "lost_sight", "drone_id": "DR-07"}, {"ended": OperatorEndReason.LOST_SIGHT, "drone_id": "DR-07"}),
    ({"ended": "mistake", "note": "mauvaise entrée"}, {"ended": OperatorEndReason.MISTAKE, "note": "mauvaise entrée"}),
    ({"note": ""}, {"note": ""}),
])
def test_valid_ends(changes, parsed):
    message = validate("sighting", raw({**END, **changes}), RECEIVED)
    assert isinstance(message, SightingEnd), message
    assert {name: getattr(message, name) for name in parsed} == parsed
    assert validate("sighting_end", raw({**END, **changes}), RECEIVED) == message, "same verdict by kind name"


@pytest.mark.parametrize("changes, reason", [
    ({"ended": "gone"}, "ended: unknown value 'gone', expected 'left', 'lost_sight' or 'mistake'"),
    ({"ended": "LEFT"}, "ended: unknown value 'LEFT'"),
    ({"ended": ""}, "ended: unknown value ''"),
    ({"operator_id": "Martin"}, "operator_id: bad format 'Martin', expected OP- then 1 to 8 capitals or digits"),
    ({"operator_id": None}, "missing field 'operator_id'"),
    ({"sighting_id": "abc"}, "sighting_id: bad format 'abc'"),
    ({"sighting_id": None}, "missing field 'sighting_id'"),
    ({"ts": "1767225599"}, "s in the past (at most 21600 s); is ts in milliseconds"),
    ({"ts": str(RECEIVED + 120_000)}, "s in the future"),
    ({"drone_id": "dr-7"}, "drone_id: bad format 'dr-7'"),
    ({"note": "x" * 141}, "note: too long (141 characters, at most 140)"),
    ({"note": "ligne 1\nligne 2"}, "note: bad format 'ligne 1\\nligne 2', expected one line of plain text"),
    ({"note": "a\u200bb"}, "note: contains U+200B"),
    ({"category": "deal"}, "unknown field 'category'; an entry with 'ended' ends the sighting: it carries only"),
    ({"lat": "48.1"}, "unknown field 'lat'"),
])
def test_malformed_ends_have_readable_reasons(changes, reason):
    fields = {**END, **changes}
    fields = {name: value for name, value in fields.items() if value is not None}
    verdict = validate("sighting", raw(fields), RECEIVED)
    assert isinstance(verdict, Rejection) and reason in verdict.reason, verdict
    assert "\n" not in verdict.reason


def test_a_sighting_entry_without_ended_is_still_a_report():
    assert isinstance(validate("sighting", raw(REPORT), RECEIVED), Sighting)


def test_the_plan_dead_letters_an_update_or_end_from_another_operator_and_keeps_the_owners():
    entries = [entry({**REPORT, "ts": str(TS - 1000), "operator_id": "OP-4", "lat": "48.2"}, 1),
               entry({**END, "operator_id": "OP-4"}, 2),
               entry({**REPORT, "ts": str(TS - 900), "lat": "48.12"}, 3),
               entry(END, 4)]
    plan = plan_batch(entries, reported_by={"sight-0001": "OP-3"})
    assert [r.entry_id for r in plan.rejected] == [f"{RECEIVED}-1", f"{RECEIVED}-2"]
    assert all("OP-4 may not update or end sighting sight-0001: it was reported by OP-3" in r.reason
               for r in plan.rejected)
    assert plan.accepted == {"sighting": [f"{RECEIVED}-3", f"{RECEIVED}-4"]}
    (write,) = plan.sightings
    assert b'"lat":48.12' in write.json
    (end,) = plan.ends
    assert (end.entry_id, end.operator_id) == (f"{RECEIVED}-4", "OP-3")
    assert end.ending.fields() == {"event": "sighting_ended_by_operator", "sighting_id": "sight-0001",
                                   "disposition": "ended_by_operator", "ts": str(TS), "actor": "OP-3",
                                   "reason": "left"}


def test_the_first_report_in_a_batch_names_the_owner():
    entries = [entry(REPORT, 1), entry({**END, "operator_id": "OP-9"}, 2)]
    plan = plan_batch(entries)
    assert len(plan.sightings) == 1 and not plan.ends
    assert "it was reported by OP-3" in plan.rejected[0].reason


def test_batches_are_cut_after_an_end_only_where_its_sighting_comes_again():
    other = {**REPORT, "sighting_id": "sight-0002"}
    entries = [entry(REPORT, 1), entry(END, 2), entry(other, 3), entry(REPORT, 4), entry(END, 5), entry(other, 6)]
    cut = split_at_ends(entries)
    assert [[e.entry_id[-1] for e in batch] for batch in cut] == [["1", "2", "3"], ["4", "5", "6"]]
    assert split_at_ends([entry(REPORT, 1), entry(other, 2)]) == [[entry(REPORT, 1), entry(other, 2)]]
    assert split_at_ends([]) == []


@pytest.mark.parametrize("reported_by, operator, refused", [
    (None, "OP-3", False), ("OP-3", "OP-3", False), ("OP-3", "OP-4", True),
])
def test_check_operator(reported_by, operator, refused):
    reason = s.check_operator("sight-0001", reported_by=reported_by, operator_id=operator)
    assert (reason is not None) is refused
    if refused:
        assert reason.startswith("operator_id: OP-4 may not update or end sighting sight-0001")


def test_the_ending_reads_in_words_and_has_its_row_in_the_shift_figures():
    ending = {"sighting_id": "sight-0001", "disposition": "ended_by_operator", "actor": "OP-3", "reason": "left",
              "text": "parti vers le nord", "number": "S-0042"}
    assert ending_detail(ending) == "S-0042 ended by the operator OP-3: left, situation over (parti vers le nord)"
    assert ending_detail({"disposition": "ended_by_operator", "reason": "lost_sight"}) == (
        "ended by the operator: drone lost sight")
    assert "ended_by_operator" in s.OUTCOME_ORDER and OUTCOME_WORDS["ended_by_operator"]
    assert s.OUTCOME_ORDER.index("ended_by_operator") < s.OUTCOME_ORDER.index("expired")
    assert set(s.OPERATOR_END_LABELS) == set(OperatorEndReason)
