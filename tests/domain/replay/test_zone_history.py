"""Which zone versions were stored during a window (dispatch/domain/replay/zone_history.py), from the zone log."""

from __future__ import annotations

import logging

import pytest

from dispatch.domain.replay.zone_history import DELETED, SAVED, ZoneVersion, versions_in_window
from dispatch.domain.zones import make_zone

SQUARE = [(-1.68, 48.10), (-1.66, 48.10), (-1.66, 48.12), (-1.68, 48.12)]
BIGGER = [(-1.69, 48.09), (-1.65, 48.09), (-1.65, 48.13), (-1.69, 48.13)]


def zone(zone_id: str = "Z-GARE", name: str = "Gare", polygon=SQUARE):
    return make_zone(zone_id=zone_id, name=name, decree_ref="2026-035", polygon=polygon,
                     valid_from_ms=1, valid_until_ms=10**13)


def periods(versions: list[ZoneVersion]) -> list[tuple]:
    return [(v.zone.zone_id, v.zone.name, v.stored_from_ms, v.stored_until_ms) for v in versions]


OLD, NEW = zone(name="Gare"), zone(name="Gare sud", polygon=BIGGER)


def test_a_zone_created_during_the_window_is_stored_from_its_save_on():
    log = [(1_000, SAVED, "Z-GARE", OLD)]
    assert periods(versions_in_window(log, [OLD], 0, 5_000)) == [("Z-GARE", "Gare", 1_000, None)]


def test_an_edit_gives_two_versions_that_meet_exactly_at_the_edit():
    log = [(1_000, SAVED, "Z-GARE", OLD), (3_000, SAVED, "Z-GARE", NEW)]
    versions = versions_in_window(log, [NEW], 0, 5_000)
    assert periods(versions) == [("Z-GARE", "Gare", 1_000, 3_000), ("Z-GARE", "Gare sud", 3_000, None)]
    assert versions[1].zone.polygon == NEW.polygon
    # At the edit's instant exactly, only the new version is stored; a millisecond before, only the old.
    assert [v.zone.name for v in versions if v.stored_at(3_000)] == ["Gare sud"]
    assert [v.zone.name for v in versions if v.stored_at(2_999)] == ["Gare"]


def test_a_deleted_zone_is_stored_until_its_deletion_and_shown_although_gone_now():
    log = [(1_000, SAVED, "Z-GARE", OLD), (3_000, DELETED, "Z-GARE", None)]
    versions = versions_in_window(log, [], 2_000, 5_000)
    assert periods(versions) == [("Z-GARE", "Gare", 1_000, 3_000)]
    assert not versions[0].stored_at(3_000)


def test_a_zone_deleted_then_recreated_has_a_gap_between_its_versions():
    log = [(1_000, SAVED, "Z-GARE", OLD), (2_000, DELETED, "Z-GARE", None), (4_000, SAVED, "Z-GARE", NEW)]
    versions = versions_in_window(log, [NEW], 0, 5_000)
    assert periods(versions) == [("Z-GARE", "Gare", 1_000, 2_000), ("Z-GARE", "Gare sud", 4_000, None)]
    assert not any(v.stored_at(3_000) for v in versions)


def test_zones_stored_before_the_log_count_as_stored_since_forever():
    other = zone("Z-PORT", "Port")
    versions = versions_in_window([], [OLD, other], 1_000, 2_000)
    assert periods(versions) == [("Z-GARE", "Gare", None, None), ("Z-PORT", "Port", None, None)]
    assert versions[0].stored_at(0)


def test_a_zone_from_before_the_log_ends_at_its_first_logged_event():
    # Stored before the log existed, then deleted: the log has the deletion only.
    versions = versions_in_window([(3_000, DELETED, "Z-GARE", None)], [], 0, 5_000)
    assert periods(versions) == []  # not stored now, and the log never says what it was: nothing to draw
    # Stored now with only an unreadable save logged: the pre-log value is not what was stored after it.
    versions = versions_in_window([(3_000, SAVED, "Z-GARE", None)], [OLD], 0, 5_000)
    assert periods(versions) == []


def test_current_zones_with_logged_saves_come_from_the_log_not_from_now():
    # The log knows the zone from its save at 1 s: before that it was not stored.
    versions = versions_in_window([(1_000, SAVED, "Z-GARE", OLD)], [OLD], 0, 500)
    assert versions == []


def test_versions_outside_the_window_are_left_out():
    log = [(1_000, SAVED, "Z-GARE", OLD), (2_000, SAVED, "Z-GARE", NEW), (9_000, SAVED, "Z-PORT", zone("Z-PORT", "Port"))]
    assert periods(versions_in_window(log, [NEW, zone("Z-PORT", "Port")], 5_000, 8_000)) == [
        ("Z-GARE", "Gare sud", 2_000, None)]


def test_a_version_ending_exactly_at_the_window_start_is_left_out_and_one_starting_at_its_end_kept():
    log = [(1_000, SAVED, "Z-GARE", OLD), (5_000, SAVED, "Z-GARE", NEW), (8_000, SAVED, "Z-PORT", zone("Z-PORT", "Port"))]
    assert periods(versions_in_window(log, [NEW], 5_000, 8_000)) == [
        ("Z-GARE", "Gare sud", 5_000, None), ("Z-PORT", "Port", 8_000, None)]
    assert periods(versions_in_window(log, [NEW], 4_999, 7_999)) == [
        ("Z-GARE", "Gare", 1_000, 5_000), ("Z-GARE", "Gare sud", 5_000, None)]


def test_entries_are_ordered_by_time_whatever_order_they_come_in():
    log = [(3_000, SAVED, "Z-GARE", NEW), (1_000, SAVED, "Z-GARE", OLD)]
    assert periods(versions_in_window(log, [NEW], 0, 5_000)) == [
        ("Z-GARE", "Gare", 1_000, 3_000), ("Z-GARE", "Gare sud", 3_000, None)]


def test_two_saves_in_one_millisecond_leave_only_the_second():
    log = [(1_000, SAVED, "Z-GARE", OLD), (1_000, SAVED, "Z-GARE", NEW)]
    assert periods(versions_in_window(log, [NEW], 0, 5_000)) == [("Z-GARE", "Gare sud", 1_000, None)]


@pytest.mark.parametrize("bad", [
    (2_000, "renamed", "Z-GARE", NEW),
    ("2000", SAVED, "Z-GARE", NEW),
    (2_000, SAVED, "", NEW),
    (2_000,),
    None,
])
def test_unusable_entries_are_skipped_with_a_log_line(bad, caplog):
    log = [(1_000, SAVED, "Z-GARE", OLD), bad]
    with caplog.at_level(logging.ERROR, logger="dispatch.domain.replay.zone_history"):
        versions = versions_in_window(log, [OLD], 0, 5_000)
    assert periods(versions) == [("Z-GARE", "Gare", 1_000, None)]
    assert "skipped" in caplog.text


@pytest.mark.parametrize("saved", [None, zone("Z-PORT", "Port")])
def test_an_unreadable_save_still_ends_the_version_before_it(saved, caplog):
    log = [(1_000, SAVED, "Z-GARE", OLD), (2_000, SAVED, "Z-GARE", saved), (3_000, SAVED, "Z-GARE", NEW)]
    with caplog.at_level(logging.ERROR, logger="dispatch.domain.replay.zone_history"):
        versions = versions_in_window(log, [NEW], 0, 5_000)
    assert periods(versions) == [("Z-GARE", "Gare", 1_000, 2_000), ("Z-GARE", "Gare sud", 3_000, None)]
    assert "unreadable or another zone's" in caplog.text
