"""Audit entries: what may be written (no names, bounded details), refusals, filters, CSV export."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import pytest

from dispatch.domain.audit import (
    ACTION_MEANING, ANONYMOUS_ACTOR, CSV_COLUMNS, FIELD_ORDER, INVALID_TARGET, MAX_REASON, Action, AuditEntry,
    AuditError, AuditFilter, AuditOutcome, AuditRole, bounded_reason, from_fields, id_or_invalid, make_entry,
    neutralise_cell, redact, refused_entry, select, to_csv, to_fields,
)

# 14:02:11.250 in Paris on 14 July 2026 (summer time, UTC+2) and on 1 December 2026 (UTC+1).
SUMMER = int(datetime(2026, 7, 14, 12, 2, 11, 250_000, tzinfo=timezone.utc).timestamp() * 1000)
WINTER = int(datetime(2026, 12, 1, 13, 2, 11, tzinfo=timezone.utc).timestamp() * 1000)


def entry(**fields) -> AuditEntry:
    base = dict(ts=SUMMER, actor="SUP-1", role="supervisor", action="assignment_created", target="asg-000001",
                origin="10.20.30.40", details={"patrol_id": "BAC-12"})
    return make_entry(**{**base, **fields})


# --- What may be written ----------------------------------------------------------

@pytest.mark.parametrize("actor, role", [
    ("SUP-1", "supervisor"), ("BAC-12", "patrol"), ("OP-3", "supervisor"), ("ADM-2", "administrator"),
    ("AUD-1", "auditor"), ("system", "system"), ("anonymous", "patrol"),
])
def test_pseudonymous_actors_are_accepted(actor, role):
    assert entry(actor=actor, role=role).actor == actor


@pytest.mark.parametrize("actor", ["Jean Dupont", "sup-1", "SUP-1 ", "", "martin.d@interieur.gouv.fr", "SUP-"])
def test_anything_that_could_be_a_name_is_refused_as_actor(actor):
    with pytest.raises(AuditError, match="actor"):
        entry(actor=actor)


@pytest.mark.parametrize("actor, role", [("system", "supervisor"), ("SUP-1", "system")])
def test_system_actor_goes_with_system_role_only(actor, role):
    with pytest.raises(AuditError, match="system"):
        entry(actor=actor, role=role)


@pytest.mark.parametrize("origin, stored", [
    ("internal", "internal"), ("192.168.0.7", "192.168.0.7"), ("::1", "::1"),
    ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
])
def test_origin_is_an_ip_address_normalised_or_internal(origin, stored):
    assert entry(origin=origin).origin == stored


@pytest.mark.parametrize("origin", ["localhost", "192.168.0.300", "", "10.0.0.1, 10.0.0.2", "poste de Jean"])
def test_other_origins_are_refused(origin):
    with pytest.raises(AuditError, match="origin"):
        entry(origin=origin)


@pytest.mark.parametrize("target", ["", "asg-000001", "outside_zone:DR-07", "Z-VILLEJEAN", "t123-4", "a" * 80])
def test_targets_are_identifiers(target):
    assert entry(target=target).target == target


@pytest.mark.parametrize("target", ["a" * 81, "Jean Dupont", "zone=1", "x\ny", "{rennes}"])
def test_targets_that_are_not_identifiers_are_refused(target):
    with pytest.raises(AuditError, match="target"):
        entry(target=target)


@pytest.mark.parametrize("details, problem", [
    ({f"k{i}": i for i in range(25)}, "at most 24"),
    ({"note": "x"}, "personal data"),
    ({"plate": "AB-123-CD"}, "personal data"),
    ({"password": "hunter2"}, "secret"),
    ({"Patrol": "BAC-12"}, "lower-case"),
    ({"text": "x" * 121}, "one line"),
    ({"text": "two\nlines"}, "one line"),
    ({"value": float("nan")}, "finite"),
    ({f"k{i}": "x" * 100 for i in range(12)}, "bytes of JSON"),
    ({"nested": {"a": 1}}, "details"),
])
def test_details_stay_small_flat_and_free_of_personal_data(details, problem):
    with pytest.raises(AuditError, match=problem):
        entry(details=details)


def test_details_take_ids_numbers_flags_and_null():
    details = {"patrol_id": "BAC-12", "rows": 3, "ratio": 0.5, "truncated": False, "to_ms": None}
    assert entry(details=details).details == details


def test_a_refusal_needs_its_reason_and_only_a_refusal_has_one():
    with pytest.raises(AuditError, match="reason"):
        entry(outcome="refused")
    with pytest.raises(AuditError, match="reason"):
        entry(reason="because")
    assert entry(outcome="refused", reason="BAC-12 is busy").reason == "BAC-12 is busy"


def test_a_multi_line_reason_is_refused_bounded_reason_makes_it_fit():
    with pytest.raises(AuditError, match="one line"):
        entry(outcome="refused", reason="a\nb")
    assert bounded_reason("a\n  b\tc\x1b[31m") == "a b c [31m"
    long = bounded_reason("x" * 1_000)
    assert len(long) == MAX_REASON and long.endswith("…")


def test_every_action_is_documented():
    assert set(ACTION_MEANING) == set(Action)
    assert all(len(meaning) > 20 for meaning in ACTION_MEANING.values())


# --- Refusals from untrusted values -----------------------------------------------

def test_a_refusal_never_records_a_name_typed_as_actor_or_target():
    refused = refused_entry(ts=SUMMER, actor="Jean Dupont", role="supervisor", action=Action.ALERT_ACKNOWLEDGED,
                            target="Mme Martin", origin="10.0.0.8",
                            reason="supervisor_id: bad format 'Jean Dupont', expected SUP-…; alert 'Mme Martin'")
    assert refused.actor == ANONYMOUS_ACTOR and refused.target == INVALID_TARGET
    assert refused.outcome is AuditOutcome.REFUSED
    assert "Jean" not in refused.reason and "Martin" not in refused.reason
    assert refused.reason.startswith("supervisor_id: bad format <not recorded>")


def test_a_refusal_keeps_valid_values_and_the_reason_as_is():
    refused = refused_entry(ts=SUMMER, actor="SUP-1", role="supervisor", action=Action.ASSIGNMENT_CREATED,
                            target="asg-000001", reason="BAC-12 is already on asg-000002 since 14:01")
    assert (refused.actor, refused.target, refused.reason) == ("SUP-1", "asg-000001",
                                                                "BAC-12 is already on asg-000002 since 14:01")


def test_redact_catches_the_value_cut_by_a_message_format():
    name = "Jean-Christophe de La Tour d'Auvergne, brigadier-chef à la BAC nord"
    message = f"supervisor_id: bad format {name!r:.60}, expected SUP-"
    assert "Jean" not in redact(message, name)


@pytest.mark.parametrize("value, expected", [("BAC-12", "BAC-12"), ("bac 12", "invalid"), (None, "invalid")])
def test_id_or_invalid(value, expected):
    assert id_or_invalid(value, r"^[A-Z]{1,5}-[0-9]{1,4}$") == expected


# --- Stream fields ------------------------------------------------------------------

def test_stream_fields_are_all_present_in_a_stable_order_and_read_back_identical():
    original = entry(outcome="refused", reason="no", details={"b": 1, "a": "x"})
    fields = to_fields(original)
    assert tuple(fields) == FIELD_ORDER
    assert fields["details"] == '{"a":"x","b":1}', "sorted keys: one entry, one text"
    assert from_fields("1767225599751-3", fields) == original.model_copy(update={"entry_id": "1767225599751-3"})


def test_an_entry_that_no_longer_validates_is_read_as_stored_not_hidden():
    stored = from_fields("5-0", {"ts": "12", "actor": "Jean Dupont", "role": "chief", "action": "coffee",
                                 "target": "", "origin": "internal", "outcome": "ok", "reason": "",
                                 "details": "not json"})
    assert (stored.actor, stored.role, stored.action) == ("Jean Dupont", "chief", "coffee")
    assert stored.details == {"unreadable": "not json"}
    assert "Jean Dupont" in to_csv([stored]), "an auditor sees exactly what is in the trail"


def test_recorded_time_is_the_stream_id_or_ts_before_storing():
    assert entry().recorded_ms == SUMMER
    assert entry(entry_id="1767225599751-3").recorded_ms == 1767225599751


# --- Filters ------------------------------------------------------------------------

ENTRIES = [
    entry(entry_id="1000-0", actor="SUP-1", action="assignment_created", target="asg-000001"),
    entry(entry_id="2000-0", actor="BAC-12", role="patrol", action="assignment_state_changed", target="asg-000001"),
    entry(entry_id="3000-0", actor="SUP-2", action="alert_acknowledged", target="link_lost:DR-07",
          outcome="refused", reason="already acknowledged by SUP-1"),
    entry(entry_id="4000-0", actor="system", role="system", action="retention_trimmed", target="rennes",
          origin="internal", details={}),
]


@pytest.mark.parametrize("audit_filter, expected", [
    (AuditFilter(), ["1000-0", "2000-0", "3000-0", "4000-0"]),
    (AuditFilter.of(from_ms=2000), ["2000-0", "3000-0", "4000-0"]),
    (AuditFilter.of(to_ms=3000), ["1000-0", "2000-0"]),
    (AuditFilter.of(from_ms=2000, to_ms=2001), ["2000-0"]),
    (AuditFilter.of(from_ms=2001, to_ms=3000), []),
    (AuditFilter.of(actor="SUP-1"), ["1000-0"]),
    (AuditFilter.of(actor=["SUP-1", "SUP-2"]), ["1000-0", "3000-0"]),
    (AuditFilter.of(role="patrol"), ["2000-0"]),
    (AuditFilter.of(role=[AuditRole.SUPERVISOR, "system"]), ["1000-0", "3000-0", "4000-0"]),
    (AuditFilter.of(action="alert_acknowledged"), ["3000-0"]),
    (AuditFilter.of(target="asg-000001"), ["1000-0", "2000-0"]),
    (AuditFilter.of(target="asg-000001", role="patrol"), ["2000-0"]),
    (AuditFilter.of(outcome="refused"), ["3000-0"]),
    (AuditFilter.of(actor="SUP-9"), []),
], ids=lambda v: repr(v)[:60] if not isinstance(v, list) else "")
def test_filters(audit_filter, expected):
    assert [e.entry_id for e in select(ENTRIES, audit_filter)] == expected
    on_raw_fields = [e.entry_id for e in ENTRIES if audit_filter.admits_fields(e.recorded_ms, to_fields(e))]
    assert on_raw_fields == expected, "the cheap pre-filter on stream fields agrees"


def test_select_stops_at_the_limit_of_matches():
    assert [e.entry_id for e in select(ENTRIES, AuditFilter.of(role="supervisor"), limit=1)] == ["1000-0"]
    assert select(ENTRIES, AuditFilter(), limit=0) == []


def test_the_window_applies_to_recorded_time_not_to_ts():
    late = entry(ts=1, entry_id="5000-0")
    assert AuditFilter.of(from_ms=4500).admits(late), "recorded at 5000 whatever its ts says"


def test_within_narrows_to_the_intersection():
    base = AuditFilter.of(from_ms=1000, to_ms=5000, actor="SUP-1")
    narrowed = base.within(2000, 9000)
    assert (narrowed.from_ms, narrowed.to_ms, narrowed.actors) == (2000, 5000, frozenset({"SUP-1"}))
    assert base.within(None, None) == base


@pytest.mark.parametrize("fields", [{"role": "chief"}, {"action": "coffee"}, {"outcome": "maybe"}])
def test_unknown_values_in_a_filter_are_refused(fields):
    with pytest.raises(AuditError):
        AuditFilter.of(**fields)


def test_a_filter_describes_itself_for_the_entry_that_records_its_use():
    described = AuditFilter.of(from_ms=1, action=["sign_in", "export"]).describe()
    assert described == {"from_ms": 1, "to_ms": None, "actions": "export,sign_in"}
    entry(details=described)  # fits in an entry's details


# --- CSV ----------------------------------------------------------------------------

def parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_csv_has_a_stable_header_and_one_row_per_entry_with_utc_and_paris_times():
    winter = entry(ts=WINTER, entry_id=f"{WINTER}-0", actor="BAC-12", role="patrol", details={"to": "en_route"})
    text = to_csv([entry(entry_id=f"{SUMMER}-0"), winter])
    assert text.endswith("\r\n") and text.count("\r\n") == 3, "RFC 4180 line ends"
    header, summer_row, winter_row = parse(text)
    assert tuple(header) == CSV_COLUMNS
    row = dict(zip(header, summer_row))
    assert row["time_utc"] == "2026-07-14T12:02:11.250Z"
    assert row["time_local"] == "2026-07-14T14:02:11.250+02:00"
    assert (row["actor"], row["role"], row["action"], row["target"], row["origin"], row["outcome"]) == (
        "SUP-1", "supervisor", "assignment_created", "asg-000001", "10.20.30.40", "ok")
    assert row["details"] == '{"patrol_id":"BAC-12"}'
    assert dict(zip(header, winter_row))["time_local"] == "2026-12-01T14:02:11.000+01:00"


@pytest.mark.parametrize("value", ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_cells_a_spreadsheet_would_run_as_formulas_are_neutralised(value):
    assert neutralise_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["SUP-1", "asg-000001", "", "1+1", "'quoted", "{\"a\":1}"])
def test_other_cells_are_left_alone(value):
    assert neutralise_cell(value) == value


def test_hostile_values_are_neutralised_in_every_column_of_the_export():
    hostile = entry(target="@SUM:A1", outcome="refused", reason="=cmd|' /C calc'!A0",
                    details={"x": "y"}, entry_id="7-0")
    row = dict(zip(CSV_COLUMNS, parse(to_csv([hostile]))[1]))
    assert row["target"] == "'@SUM:A1"
    assert row["reason"] == "'=cmd|' /C calc'!A0"
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row.values())


def test_commas_and_quotes_survive_the_round_trip():
    tricky = entry(outcome="refused", reason='BAC-12 is "busy", try GN-4', entry_id="8-0")
    assert dict(zip(CSV_COLUMNS, parse(to_csv([tricky]))[1]))["reason"] == 'BAC-12 is "busy", try GN-4'
