"""Sightings ending against a real Redis: closed, merged, expired, dispatched; refusals; the close/assign race."""

from __future__ import annotations

from collections import Counter

import orjson
import pytest

from dispatch.store.assignments import (
    AssignmentRefused, assign, close_sighting, expire_sighting, merge_sighting, sighting_endings, transition,
)
from dispatch.store.audit import iter_entries as read_entries
from tests.store.test_assignments import everything, ingest, last_live, patrol, race, sighting


@pytest.fixture
def scene(redis_client, keys):
    ingest(redis_client, keys, patrols=[patrol("BAC-12"), patrol("GN-4", lat=48.105, lon=-1.69)],
           sightings=[sighting("sight-0001"), sighting("sight-0002", lat=48.1106, lon=-1.6800)])
    return redis_client


def audit_actions(client, keys) -> list[tuple[str, str, str]]:
    return [(e.action.value, e.target, e.outcome) for e in read_entries(client, keys)]


def test_close_with_a_reason_leaves_the_picture_and_is_on_the_record(scene, keys):
    ending = close_sighting(scene, keys, sighting_id="sight-0001", supervisor_id="SUP-1", reason="false_alarm")
    assert ending.disposition.value == "closed"
    assert scene.hget(keys.sightings, "sight-0001") is None
    (recorded,) = sighting_endings(scene, keys)
    assert recorded["disposition"] == "closed" and recorded["reason"] == "false_alarm"
    assert recorded["actor"] == "SUP-1" and recorded["sighting"]["category"] == "deal"
    live = last_live(scene, keys)["sightings"][0]
    assert live["sighting_id"] == "sight-0001" and live["closed"] is True and live["disposition"] == "closed"
    assert ("sighting_closed", "sight-0001", "ok") in audit_actions(scene, keys)


def test_other_reason_keeps_its_text_on_the_record_not_in_the_audit(scene, keys):
    close_sighting(scene, keys, sighting_id="sight-0001", supervisor_id="SUP-1", reason="other",
                   text="lookout left")
    assert sighting_endings(scene, keys)[0]["text"] == "lookout left"
    (entry,) = [e for e in read_entries(scene, keys) if e.action.value == "sighting_closed"]
    assert entry.details == {"reason": "other"}


@pytest.mark.parametrize("reason, text, why", [
    ("other", "", "needs a short text"),
    ("bored", "", "unknown reason"),
    ("other", "a\u202eb", "invisible character"),
])
def test_bad_reasons_change_nothing_and_are_audited(scene, keys, reason, text, why):
    before = everything(scene, keys)
    with pytest.raises(AssignmentRefused) as refused:
        close_sighting(scene, keys, sighting_id="sight-0001", supervisor_id="SUP-1", reason=reason, text=text)
    assert why in refused.value.reason
    assert everything(scene, keys) == before and sighting_endings(scene, keys) == []
    assert audit_actions(scene, keys)[-1][2] == "refused"


def test_an_assigned_sighting_cannot_be_closed_merged_or_expired(scene, keys):
    assign(scene, keys, sighting_id="sight-0001", patrol_id="BAC-12", supervisor_id="SUP-1")
    before = everything(scene, keys)
    attempts = [
        lambda: close_sighting(scene, keys, sighting_id="sight-0001", supervisor_id="SUP-2", reason="false_alarm"),
        lambda: merge_sighting(scene, keys, sighting_id="sight-0001", into="sight-0002", supervisor_id="SUP-2"),
        lambda: expire_sighting(scene, keys, sighting_id="sight-0001"),
    ]
    for attempt in attempts:
        with pytest.raises(AssignmentRefused) as refused:
            attempt()
        assert refused.value.reason.startswith("sighting sight-0001 is assigned to BAC-12")
    assert everything(scene, keys) == before


def test_merge_keeps_both_on_the_record_and_links_them(scene, keys):
    merge_sighting(scene, keys, sighting_id="sight-0002", into="sight-0001", supervisor_id="SUP-1")
    assert scene.hget(keys.sightings, "sight-0001") is not None
    assert scene.hget(keys.sightings, "sight-0002") is None
    (recorded,) = sighting_endings(scene, keys)
    assert recorded["merged_into"] == "sight-0001" and recorded["sighting"]["sighting_id"] == "sight-0002"
    with pytest.raises(AssignmentRefused, match="not open"):
        merge_sighting(scene, keys, sighting_id="sight-0001", into="sight-0002", supervisor_id="SUP-1")
    with pytest.raises(AssignmentRefused, match="into itself"):
        merge_sighting(scene, keys, sighting_id="sight-0001", into="sight-0001", supervisor_id="SUP-1")


def test_expiry_is_recorded_by_the_system_without_audit(scene, keys):
    expire_sighting(scene, keys, sighting_id="sight-0001")
    (recorded,) = sighting_endings(scene, keys)
    assert recorded["disposition"] == "expired" and recorded["actor"] == "system"
    assert not [a for a in audit_actions(scene, keys) if a[0].startswith("sighting_")]
    with pytest.raises(AssignmentRefused, match="already ended"):
        expire_sighting(scene, keys, sighting_id="sight-0001")


def test_clearing_records_the_dispatched_ending(scene, keys):
    created = assign(scene, keys, sighting_id="sight-0001", patrol_id="BAC-12", supervisor_id="SUP-1")
    for state, outcome in (("en_route", None), ("on_scene", None), ("cleared", "nothing_found")):
        transition(scene, keys, assignment_id=created.assignment_id, new_state=state, actor_id="BAC-12",
                   actor_role="patrol", outcome=outcome)
    (recorded,) = sighting_endings(scene, keys)
    assert recorded["disposition"] == "dispatched" and recorded["assignment_id"] == created.assignment_id
    assert recorded["actor"] == "BAC-12"
    with pytest.raises(AssignmentRefused, match="not open"):
        close_sighting(scene, keys, sighting_id="sight-0001", supervisor_id="SUP-1", reason="duplicate")


def test_a_closed_sighting_cannot_be_assigned(scene, keys):
    close_sighting(scene, keys, sighting_id="sight-0001", supervisor_id="SUP-1", reason="drone_only")
    with pytest.raises(AssignmentRefused, match="is not open"):
        assign(scene, keys, sighting_id="sight-0001", patrol_id="BAC-12", supervisor_id="SUP-2")


@pytest.mark.parametrize("round_", range(5))
def test_close_assign_merge_and_expire_race_one_outcome_wins(redis_server, redis_client, keys, round_):
    """Several clients at once on the same sighting: one wins, every other gets a readable refusal.

    The assigns all name one patrol (two patrols may be sent to one sighting; one patrol never twice).
    """
    ingest(redis_client, keys, patrols=[patrol(f"BAC-{i}", lat=48.10 + i / 1000) for i in range(3)],
           sightings=[sighting("sight-0001"), sighting("sight-0002")])
    counter = iter(range(1000))

    def attempt(client):
        n = next(counter) % 4
        if n == 3:
            expire_sighting(client, keys, sighting_id="sight-0001")
        elif n == 0:
            close_sighting(client, keys, sighting_id="sight-0001", supervisor_id="SUP-1", reason="false_alarm")
        elif n == 1:
            assign(client, keys, sighting_id="sight-0001", patrol_id="BAC-0", supervisor_id="SUP-2")
        else:
            merge_sighting(client, keys, sighting_id="sight-0001", into="sight-0002", supervisor_id="SUP-3")

    results = race(redis_server, 12, attempt)
    assert Counter(r == "ok" for r in results)[True] == 1, results
    refusals = [r for r in results if r != "ok"]
    assert all(r.startswith("sighting sight-0001 ") or r.startswith("BAC-") for r in refusals), refusals
    endings = sighting_endings(redis_client, keys, "sight-0001")
    opened = [orjson.loads(raw) for raw in redis_client.hvals(keys.assignments_open)]
    assert len(endings) + len(opened) == 1, (endings, opened)


def test_a_shifts_endings_are_counted_by_outcome(scene, keys):
    from dispatch.domain.sightings import outcome_counts

    close_sighting(scene, keys, sighting_id="sight-0001", supervisor_id="SUP-1", reason="referred")
    expire_sighting(scene, keys, sighting_id="sight-0002")
    counts = outcome_counts(sighting_endings(scene, keys, from_ms=0))
    assert (counts["closed:referred"], counts["expired"], counts["dispatched"]) == (1, 1, 0)
    assert sighting_endings(scene, keys, to_ms=1) == []


def test_an_operator_update_never_brings_an_ended_sighting_back(scene, keys):
    """A closed (or cleared, merged, expired) sighting stays ended: a newer report with its id is counted as
    ignored, not applied; an open sighting's update still is."""
    close_sighting(scene, keys, sighting_id="sight-0001", supervisor_id="SUP-1", reason="false_alarm")
    numbers_before = {name: value for name, value in scene.hgetall(keys.stats).items()}
    later = sighting("sight-0001", lat=48.1200)
    later["ts"] += 10_000
    moved = sighting("sight-0002", lat=48.1300)
    moved["ts"] += 10_000
    ingest(scene, keys, sightings=[later, moved])
    assert scene.hget(keys.sightings, "sight-0001") is None, "the closed sighting stays closed"
    assert orjson.loads(scene.hget(keys.sightings, "sight-0002"))["lat"] == 48.13, "an open one is updated"
    stats = scene.hgetall(keys.stats)
    assert int(stats[b"ignored:sighting_ended"]) == 1
    assert numbers_before.get(b"ignored:sighting_ended") is None
    assert all(s["sighting_id"] != "sight-0001" for s in last_live(scene, keys).get("sightings", []))
    (recorded,) = sighting_endings(scene, keys)
    assert recorded["disposition"] == "closed", "still one ending on the record"
