"""A patrol's status over time from its reports and assignment events; any available patrol for a sighting."""

from __future__ import annotations

import pytest

from dispatch.domain.geo import destination
from dispatch.domain.ranking import eta_seconds, rank
from dispatch.domain.unit_status import (
    Change,
    Event,
    Report,
    choices,
    match_call_sign,
    normalise_query,
    recent,
    run_start,
    settled,
    timeline,
)

RENNES = (48.1113, -1.6800)


def statuses(changes: list[Change]) -> list[tuple[int, str]]:
    return [(c.ts, c.status) for c in changes]


# ----------------------------------------------------------------------------- timeline


def test_reports_alone_give_the_status_changes_with_equal_ones_merged():
    reports = [Report(100, "unavailable"), Report(200, "unavailable"), Report(300, "available"),
               Report(400, "available"), Report(500, "on_scene")]
    assert statuses(timeline(reports, [])) == [(100, "unavailable"), (300, "available"), (500, "on_scene")]
    assert all(c.cause == "report" for c in timeline(reports, []))


def test_an_older_report_received_late_is_placed_by_its_own_ts_and_of_equal_ts_the_first_received_holds():
    reports = [Report(100, "available"), Report(300, "available"), Report(200, "unavailable"),
               Report(300, "on_scene")]  # same ts as an earlier one: ignored, as ingest ignores it
    assert statuses(timeline(reports, [])) == [(100, "available"), (200, "unavailable"), (300, "available")]


def test_an_open_assignment_sets_the_status_whatever_the_patrol_reports_and_closing_frees_it():
    reports = [Report(100, "available"), Report(250, "available"), Report(450, "unavailable")]
    events = [Event(200, "assigned", "s-1"), Event(220, "acknowledged", "s-1"), Event(300, "en_route", "s-1"),
              Event(350, "on_scene", "s-1"), Event(400, "cleared", "s-1")]
    changes = timeline(reports, events)
    assert statuses(changes) == [(100, "available"), (200, "assigned"), (300, "en_route"), (350, "on_scene"),
                                 (400, "available"), (450, "unavailable")]
    assert [c.cause for c in changes] == ["report", "assigned", "en_route", "on_scene", "cleared", "report"]
    assert changes[1].sighting_id == "s-1" and changes[4].sighting_id == "s-1"


def test_a_report_older_than_the_closing_does_not_undo_the_freeing():
    # The crew's report written before the clearing arrives after it: the patrol stays available (live rule).
    reports = [Report(100, "available"), Report(390, "on_scene")]
    events = [Event(200, "assigned", "s-1"), Event(400, "cancelled", "s-1")]
    assert statuses(timeline(reports, events)) == [(100, "available"), (200, "assigned"), (400, "available")]


def test_events_of_equal_ts_are_taken_in_stream_order():
    reports = [Report(100, "available")]
    events = [Event(200, "assigned", "s-1"), Event(200, "cancelled", "s-1")]  # reassigned away at once
    assert statuses(timeline(reports, events)) == [(100, "available")]
    assert statuses(timeline(reports, events[::-1])) == [(100, "available"), (200, "assigned")]


def test_no_report_and_no_event_is_no_history():
    assert timeline([], []) == []
    assert statuses(timeline([], [Event(5, "cleared")])) == []  # freed, but never in the picture


# ----------------------------------------------------------------------------- run start


def test_the_current_status_began_at_the_last_change_exactly_when_another_status_came_before():
    changes = timeline([Report(100, "unavailable"), Report(300, "available"), Report(900, "available")], [])
    start = run_start(changes, "available")
    assert (start.status, start.since_ms, start.exact) == ("available", 300, True)
    only = run_start(timeline([Report(100, "available"), Report(900, "available")], []), "available")
    assert (only.since_ms, only.exact) == (100, False), "held since before the record read: at least"


def test_no_figure_when_the_record_disagrees_with_the_picture():
    changes = timeline([Report(100, "available")], [])
    assert run_start(changes, "on_scene") is None
    assert run_start([], "available") is None
    assert run_start(changes) is not None


@pytest.mark.parametrize("bound, expected", [(199, True), (200, False), (5_000, False)])
def test_reading_backwards_stops_once_a_report_read_lies_between_the_unread_and_the_change(bound, expected):
    reports = [Report(200, "unavailable"), Report(300, "available")]
    changes = timeline(reports, [])
    assert settled(changes, reports, bound) is expected
    assert settled(changes[-1:], reports, 0) is False, "one status only: an older report may still move its start"


def test_a_change_by_assignment_is_settled_by_any_report_read_before_it():
    reports = [Report(100, "available"), Report(150, "available")]
    changes = timeline(reports, [Event(200, "assigned", "s-1")])
    assert settled(changes, reports, 120) is True  # the report at 150 supersedes anything unread
    assert settled(changes, reports, 150) is False  # an unread report at 150 could be "assigned" too


def test_recent_lists_the_newest_first_and_counts_the_rest():
    changes = [Change(t, s, "report") for t, s in ((1, "a"), (2, "b"), (3, "c"), (4, "d"))]
    shown, older = recent(changes, 3)
    assert [c.ts for c in shown] == [4, 3, 2] and older == 1
    assert recent(changes, 0) == ([], 4)
    assert recent(changes, 10) == (changes[::-1], 0)


# ----------------------------------------------------------------------------- any available patrol


def test_call_signs_match_exact_first_then_by_start_then_anywhere_in_natural_order():
    signs = ["BAC-12", "BAC-2", "CYN-12", "BAC-1", "GN-1"]
    assert match_call_sign("bac-1", signs) == ["BAC-1", "BAC-12"]
    assert match_call_sign("12", signs) == ["BAC-12", "CYN-12"]
    assert match_call_sign(" -1", signs) == ["BAC-1", "BAC-12", "CYN-12", "GN-1"]
    assert match_call_sign("", signs) == ["BAC-1", "BAC-2", "BAC-12", "CYN-12", "GN-1"]
    assert match_call_sign("zz", signs) == []
    assert normalise_query("  bac-12 ") == "BAC-12" and len(normalise_query("x" * 100)) == 16


def at(distance_m: float) -> tuple[float, float]:
    lat, lon = destination(*RENNES, distance_m, 0.0)
    return float(lat), float(lon)


def test_choices_rank_every_available_patrol_as_the_nearest_list_does_and_mark_its_five():
    patrols = [(f"BAC-{n}", *at(n * 300.0)) for n in (7, 3, 1, 6, 2, 5, 4)]
    found = choices(*RENNES, patrols)
    assert [c.candidate.patrol_id for c in found] == [f"BAC-{n}" for n in range(1, 8)]
    assert [c.place for c in found] == list(range(1, 8))
    assert [c.among_nearest for c in found] == [True] * 5 + [False] * 2
    assert [c.candidate for c in found[:5]] == rank(*RENNES, patrols, k=5)  # the nearest list's own figures
    seventh = found[6].candidate
    assert seventh.distance_m == pytest.approx(2_100, abs=1) and seventh.eta_s == eta_seconds(seventh.distance_m)


def test_a_typed_call_sign_narrows_the_choices_keeping_each_ones_place():
    patrols = [("BAC-1", *at(100)), ("BAC-12", *at(50)), ("CYN-1", *at(10)), ("GN-7", *at(5_000))]
    found = choices(*RENNES, patrols, query="bac-1")
    assert [(c.candidate.patrol_id, c.place) for c in found] == [("BAC-1", 3), ("BAC-12", 2)]  # exact first
    found = choices(*RENNES, patrols, query="gn")
    assert [(c.candidate.patrol_id, c.place, c.among_nearest) for c in found] == [("GN-7", 4, True)]
    assert choices(*RENNES, patrols, query="zz") == []
    assert len(choices(*RENNES, patrols, limit=2)) == 2
    assert choices(*RENNES, []) == []
