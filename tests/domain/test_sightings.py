"""How a sighting ends (domain/sightings.py): reasons, who may end it, horizons, probable duplicates."""

from dispatch.domain import sightings as s
from dispatch.domain.models import SightingCategory
from dispatch.domain.sightings import CloseReason, Disposition, Ending

MIN = 60_000


def sighting(sid, ts=0, category="lookout", lat=48.11, lon=-1.68):
    return {"sighting_id": sid, "ts": ts, "category": category, "lat": lat, "lon": lon}


def test_named_reasons_close_without_text():
    for reason in ("false_alarm", "duplicate", "drone_only", "referred"):
        assert s.check_reason(reason, "") is None
    assert "only with the reason 'other'" in s.check_reason("false_alarm", "because")


def test_other_needs_a_short_visible_text():
    assert s.check_reason("other", "lookout left before we looked") is None
    assert "needs a short text" in s.check_reason("other", "  ")
    assert "at most 80" in s.check_reason("other", "x" * 81)
    assert "U+202E" in s.check_reason("other", "ok\u202eevil")
    assert "control character" in s.check_reason("other", "a\nb")


def test_unknown_reason_is_named():
    assert "unknown reason 'bored'" in s.check_reason("bored", "")


def test_only_open_unassigned_sightings_end():
    assert s.check_can_end("sig-000001", is_open=True, assigned_to=None) is None
    assert "assigned to CYN-51" in s.check_can_end("sig-000001", is_open=True, assigned_to="CYN-51")
    assert "already ended" in s.check_can_end("sig-000001", is_open=False, assigned_to=None)


def test_merge_needs_another_open_target():
    assert s.check_merge("a", "b", target_open=True) is None
    assert "into itself" in s.check_merge("a", "a", target_open=True)
    assert "not open" in s.check_merge("a", "b", target_open=False)


def test_horizons_default_per_category():
    assert s.horizon_ms("vehicle") == 5 * MIN
    assert s.horizon_ms("lookout") == 10 * MIN
    assert s.horizon_ms("deal") == 20 * MIN
    assert s.horizon_ms("gathering") == 30 * MIN
    assert s.horizon_ms("other") == 10 * MIN
    assert s.horizon_ms("unheard-of") == 10 * MIN


def test_due_to_expire_skips_assigned_and_recent():
    now = 60 * MIN
    found = [sighting("old-vehicle", now - 6 * MIN, "vehicle"), sighting("young-vehicle", now - 4 * MIN, "vehicle"),
             sighting("old-gathering", now - 29 * MIN, "gathering"), sighting("assigned", now - 59 * MIN, "vehicle"),
             sighting("older", now - 40 * MIN, "deal")]
    assert s.due_to_expire(found, {"assigned"}, now) == ["older", "old-vehicle"]
    custom = {c: MIN for c in SightingCategory}
    assert "young-vehicle" in s.due_to_expire(found, set(), now, custom)


def test_probable_duplicate_rule():
    a = sighting("a", 0)
    assert s.is_probable_duplicate(a, sighting("b", 4 * MIN, lat=48.111))  # ~110 m, 4 min
    assert not s.is_probable_duplicate(a, sighting("b", 6 * MIN))  # too late
    assert not s.is_probable_duplicate(a, sighting("b", MIN, lat=48.1125))  # ~170 m
    assert not s.is_probable_duplicate(a, sighting("b", MIN, category="deal"))
    assert not s.is_probable_duplicate(a, a)


def test_probable_duplicates_point_at_the_earliest():
    found = s.probable_duplicates([sighting("c", 2 * MIN), sighting("a", 0), sighting("b", MIN),
                                   sighting("far", MIN, lat=48.2)])
    assert found == {"b": "a", "c": "a"}


def test_ending_fields_leave_unset_out():
    ending = Ending("sig-000001", Disposition.CLOSED, 5, "SUP-1", CloseReason.OTHER, "left", None)
    assert ending.fields() == {"event": "sighting_closed", "sighting_id": "sig-000001", "disposition": "closed",
                               "ts": "5", "actor": "SUP-1", "reason": "other", "text": "left"}


def test_outcome_counts_by_disposition_and_reason_each_sighting_once():
    endings = [{"sighting_id": "a", "disposition": "dispatched"},
               {"sighting_id": "b", "disposition": "closed", "reason": "false_alarm"},
               {"sighting_id": "c", "disposition": "closed", "reason": "referred"},
               {"sighting_id": "d", "disposition": "merged", "merged_into": "a"},
               {"sighting_id": "e", "disposition": "expired"},
               {"sighting_id": "e", "disposition": "expired"},
               {"sighting_id": "f", "disposition": "ended_by_operator", "reason": "left", "actor": "OP-3"}]
    counts = s.outcome_counts(endings)
    assert list(counts) == list(s.OUTCOME_ORDER)
    assert counts == {"dispatched": 1, "closed:false_alarm": 1, "closed:duplicate": 0, "closed:drone_only": 0,
                      "closed:referred": 1, "closed:other": 0, "merged": 1, "ended_by_operator": 1, "expired": 1}
