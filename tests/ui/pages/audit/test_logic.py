"""The auditor's page without a server: the form into a filter (or readable refusals), rows as shown, the
filter carried to the export and checked again, the viewing's own audit entry."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from dispatch.domain.audit import Action, AuditFilter, AuditOutcome, AuditRole, from_fields, make_entry
from dispatch.ui.pages.audit import logic as C

TZ = "Europe/Paris"
MIN = 60_000
# 2026-03-14 21:30:00 in Paris (UTC+1 before the 29th of March).
NOW = int(datetime(2026, 3, 14, 21, 30, tzinfo=ZoneInfo(TZ)).timestamp() * 1000)


def form(**changes):
    values = dict(from_text="2026-03-14T20:00", to_text="", actor="", role="any", actions=[], target="",
                  outcome="any")
    values.update(changes)
    return C.parse_form(values["from_text"], values["to_text"], values["actor"], values["role"], values["actions"],
                        values["target"], values["outcome"], tz=TZ, now_ms=NOW)


def problems(**changes) -> list[str]:
    with pytest.raises(C.FilterRefused) as refused:
        form(**changes)
    return refused.value.problems


# ----------------------------------------------------------------------------- the form


def test_the_default_form_is_a_window_ending_now_with_nothing_else():
    audit_filter = form()
    assert (audit_filter.from_ms, audit_filter.to_ms) == (NOW - 90 * MIN, NOW + 1)
    assert audit_filter == AuditFilter(NOW - 90 * MIN, NOW + 1)


@pytest.mark.parametrize("changes, expected", [
    ({"to_text": "2026-03-14T21:00"}, AuditFilter(NOW - 90 * MIN, NOW - 30 * MIN)),
    ({"from_text": "2026-03-14 20:00:30", "to_text": "2026-03-14 21:00"},
     AuditFilter(NOW - 90 * MIN + 30_000, NOW - 30 * MIN)),
    ({"from_text": ""}, AuditFilter(None, NOW + 1)),  # empty From: from the oldest entry kept
    ({"from_text": "2026-07-01T20:00", "to_text": "2026-07-01T22:00"},  # summer time: UTC+2
     AuditFilter(int(datetime(2026, 7, 1, 18, tzinfo=ZoneInfo("UTC")).timestamp() * 1000),
                 int(datetime(2026, 7, 1, 20, tzinfo=ZoneInfo("UTC")).timestamp() * 1000))),
    ({"actor": " sup-1 "}, AuditFilter(NOW - 90 * MIN, NOW + 1, actors=frozenset({"SUP-1"}))),
    ({"actor": "BAC-12"}, AuditFilter(NOW - 90 * MIN, NOW + 1, actors=frozenset({"BAC-12"}))),
    ({"actor": "System"}, AuditFilter(NOW - 90 * MIN, NOW + 1, actors=frozenset({"system"}))),
    ({"role": "auditor"}, AuditFilter(NOW - 90 * MIN, NOW + 1, roles=frozenset({AuditRole.AUDITOR}))),
    ({"role": None}, AuditFilter(NOW - 90 * MIN, NOW + 1)),
    ({"actions": ["zone_saved", "export"]},
     AuditFilter(NOW - 90 * MIN, NOW + 1, actions=frozenset({Action.ZONE_SAVED, Action.EXPORT}))),
    ({"actions": None}, AuditFilter(NOW - 90 * MIN, NOW + 1)),
    ({"target": " asg-000123 "}, AuditFilter(NOW - 90 * MIN, NOW + 1, targets=frozenset({"asg-000123"}))),
    ({"outcome": "refused"}, AuditFilter(NOW - 90 * MIN, NOW + 1, outcomes=frozenset({AuditOutcome.REFUSED}))),
])
def test_good_forms(changes, expected):
    assert form(**changes) == expected


@pytest.mark.parametrize("changes, message", [
    ({"from_text": "14/03/2026 20:00"}, "From: give a date and a time, e.g. 2026-03-14 21:00, or leave it empty."),
    ({"to_text": "yesterday"}, "To: give a date and a time, e.g. 2026-03-14 21:00, or leave it empty."),
    ({"from_text": "2026-02-30T20:00"}, "From: 2026-02-30T20:00 is not a real date and time."),
    ({"from_text": "2026-03-14T21:00", "to_text": "2026-03-14T20:00"},
     "From (2026-03-14 21:00) is not before To (2026-03-14 20:00): swap them, or change one."),
    ({"from_text": "2026-03-14T20:00", "to_text": "2026-03-14T20:00"},
     "From (2026-03-14 20:00) is not before To (2026-03-14 20:00): swap them, or change one."),
    ({"from_text": "2026-03-15T08:00"}, "From (2026-03-15 08:00) is not before To (now): swap them, or change one."),
    ({"actor": "Jean Dupont"}, f"Actor: {C.ACTOR_HINT}."),
    ({"actor": "SUP-"}, f"Actor: {C.ACTOR_HINT}."),
    ({"target": "<script>"}, f"Target: {C.TARGET_HINT}."),
    ({"target": "x" * 81}, f"Target: {C.TARGET_HINT}."),
    ({"role": "chief"}, "Role: choose one from the list."),
    ({"role": ["auditor"]}, "Role: choose one from the list."),
    ({"outcome": "maybe"}, "Outcome: choose one from the list."),
    ({"actions": ["zone_saved", "rm -rf"]}, "Actions: choose them from the list."),
    ({"actions": [{"a": 1}]}, "Actions: choose them from the list."),
    ({"actions": 7}, "Actions: choose them from the list."),
])
def test_bad_values_are_refused_with_what_to_fix(changes, message):
    assert problems(**changes) == [message]


def test_a_name_typed_as_actor_is_not_repeated_back():
    assert not any("Dupont" in problem for problem in problems(actor="Jean Dupont"))


def test_every_problem_is_listed_at_once():
    found = problems(from_text="soon", actor="Jean", target="a b", outcome="maybe")
    assert [p.split(":")[0] for p in found] == ["From", "Actor", "Target", "Outcome"]


def test_forms_from_a_forged_request_never_crash():
    for weird in (None, 3, {"x": 1}, ["a"], "", " ", "9" * 500):
        try:
            form(from_text=weird, to_text=weird, actor=weird, role=weird, actions=weird, target=weird, outcome=weird)
        except C.FilterRefused:
            pass


def test_quick_windows_fill_from_to_the_minute():
    assert C.quick_from("hour", now_ms=NOW + 42_000, tz=TZ) == "2026-03-14T20:30"
    assert C.quick_from("day", now_ms=NOW, tz=TZ) == "2026-03-13T21:30"
    assert C.quick_from("week", now_ms=NOW, tz=TZ) == "2026-03-07T21:30"
    assert form(from_text=C.quick_from("hour", now_ms=NOW, tz=TZ)).from_ms == NOW - 60 * MIN


# ----------------------------------------------------------------------------- the filter carried to the export


def test_the_applied_filter_goes_through_the_browser_and_back():
    audit_filter = form(actor="SUP-1", role="supervisor", actions=["zone_saved", "export"], target="Z-1",
                        outcome="refused", to_text="2026-03-14T21:00")
    assert C.filter_from_applied(C.applied_json(audit_filter)) == audit_filter


@pytest.mark.parametrize("data", [
    None, "x", {"from_ms": "1"}, {"from_ms": -1}, {"to_ms": True}, {"actors": ["Jean Dupont"]},
    {"targets": ["<b>"]}, {"roles": ["chief"]}, {"actions": "export"}, {"outcomes": [1]},
])
def test_a_forged_applied_filter_is_refused(data):
    with pytest.raises(C.FilterRefused):
        C.filter_from_applied(data)


# ----------------------------------------------------------------------------- rows


def entry(**fields):
    base = dict(ts=NOW - 42_000, actor="SUP-1", role="supervisor", action="assignment_created",
                target="asg-000001", origin="10.0.0.7", details={"patrol_id": "BAC-12", "sighting_id": "sight-1"},
                entry_id=f"{NOW - 42_000}-0")
    return make_entry(**{**base, **fields})


def test_a_row_shows_local_time_age_and_compact_details():
    row = C.table_row(entry(), now_ms=NOW, tz=TZ)
    assert (row.time_text, row.age_text, row.recorded_note) == ("2026-03-14 21:29:18", "42 s ago", "")
    assert (row.actor, row.role, row.action, row.target, row.origin) == (
        "SUP-1", "supervisor", "assignment_created", "asg-000001", "10.0.0.7")
    assert row.outcome == "✓ ok" and not row.refused and row.classes == ("au-row",)
    assert row.details_text == "patrol_id=BAC-12 · sighting_id=sight-1"
    assert row.action_meaning.startswith("a supervisor sent a patrol")
    assert row.entry_id == f"{NOW - 42_000}-0"


def test_a_refused_row_has_its_marker_and_class():
    row = C.table_row(entry(outcome="refused", reason="patrol BAC-12 is not available"), now_ms=NOW, tz=TZ)
    assert row.refused and row.outcome == "✖ refused" and "au-row-refused" in row.classes
    assert row.reason == "patrol BAC-12 is not available"


def test_details_show_instants_in_local_time_and_flags_as_words():
    text = C.details_text({"to_ms": NOW, "from_ms": None, "truncated": False, "rows": 3, "ratio": 0.5,
                           "window": "Sat 14 Mar 20:00 → 21:00", "tiny_ms": 250}, TZ)
    assert text == ("from_ms=null · ratio=0.5 · rows=3 · tiny_ms=250 · to_ms=2026-03-14 21:30:00 · truncated=false"
                    " · window=Sat 14 Mar 20:00 → 21:00")
    assert C.details_text({}, TZ) == ""


@pytest.mark.parametrize("age_ms, text", [
    (0, "0 s ago"), (-2_000, "0 s ago"), (-60_000, ""), (59_999, "59 s ago"), (60_000, "1 min ago"),
    (3_599_000, "59 min ago"), (3 * 3_600_000 + 59 * 60_000, "3 h ago"), (47 * 3_600_000, "47 h ago"),
    (48 * 3_600_000, ""),
])
def test_age_for_recent_entries_only(age_ms, text):
    assert C.age_text(age_ms) == text


def test_a_row_recorded_long_after_its_action_says_when_it_was_recorded():
    row = C.table_row(entry(ts=NOW - 3 * 3_600_000, entry_id=f"{NOW - 60_000}-0"), now_ms=NOW, tz=TZ)
    assert row.time_text == "2026-03-14 18:30:00" and row.age_text == "3 h ago"
    assert row.recorded_note == "recorded 2026-03-14 21:29:00"


def test_an_entry_that_no_longer_validates_is_still_shown_as_stored():
    stored = from_fields(f"{NOW}-0", {"ts": str(NOW), "actor": "Jean Dupont", "role": "chief", "action": "erase",
                                      "target": "", "origin": "somewhere", "outcome": "refused", "reason": "",
                                      "details": "{not json"})
    row = C.table_row(stored, now_ms=NOW, tz=TZ)
    assert (row.actor, row.role, row.action, row.action_meaning) == ("Jean Dupont", "chief", "erase", "")
    assert row.refused and row.outcome == "✖ refused" and row.details_text == "unreadable={not json"


def test_rows_keep_the_text_as_written():
    hostile = '<img src=x onerror="window.__xss=1"> <script>window.__xss=2</script>'
    row = C.table_row(entry(outcome="refused", reason=hostile), now_ms=NOW, tz=TZ)
    assert row.reason == hostile  # rendered as text by the page, never parsed


# ----------------------------------------------------------------------------- texts and the viewing's entry


def test_summary_says_when_the_list_is_cut():
    audit_filter = form()
    assert C.summary_text(500, True, audit_filter, tz=TZ, open_end=True) == (
        "Showing the newest 500 of more — narrow the filter. 2026-03-14 20:00 → now (Europe/Paris)")
    assert C.summary_text(1, False, audit_filter, tz=TZ, open_end=True).startswith("1 entry, newest first.")
    assert C.summary_text(0, False, AuditFilter(None, NOW), tz=TZ, open_end=False) == (
        "No entry matches this filter. the oldest entry kept → 2026-03-14 21:30 (Europe/Paris)")


def test_viewing_is_an_audit_entry_with_the_filter_and_the_rows_shown():
    audit_filter = form(actor="SUP-1", actions=["export"])
    viewed = C.viewed_entry(C.Viewer("AUD-1", "auditor", "10.1.2.3"), audit_filter, 12, False, NOW)
    assert (viewed.actor, viewed.role, viewed.action, viewed.target, viewed.origin) == (
        "AUD-1", AuditRole.AUDITOR, Action.AUDIT_VIEWED, "audit", "10.1.2.3")
    assert viewed.details == {"from_ms": NOW - 90 * MIN, "to_ms": NOW + 1, "actors": "SUP-1", "actions": "export",
                              "rows": 12, "truncated": False}


def test_the_export_file_is_named_after_the_site_and_the_local_date():
    late = int(datetime(2026, 3, 14, 23, 30, tzinfo=ZoneInfo(TZ)).timestamp() * 1000)  # 22:30 UTC
    assert C.export_filename("rennes", late, TZ) == "audit-rennes-2026-03-14.csv"
    assert C.export_filename("rennes", late + 3_600_000, TZ) == "audit-rennes-2026-03-15.csv"
