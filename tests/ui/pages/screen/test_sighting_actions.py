"""Closing a sighting with a reason and merging a duplicate from the wall screen, through the Dash callback."""

from __future__ import annotations

import pytest

from dispatch.store.assignments import sighting_endings
from dispatch.store.audit import iter_entries
from dispatch.ui.pages.screen import ids
from dispatch.web.app import create_app
from tests.ui.pages.screen.test_handlers import (
    SIGHTING, SUPERVISOR_ID, call, ingest, patrol, perform, sighting, signed_in_client,
)


@pytest.fixture
def scene(redis_client, keys):
    """One available patrol and two open sightings."""
    ingest(redis_client, keys, patrols=[patrol("BAC-1", SIGHTING[0] + 0.002, SIGHTING[1])],
           sightings=[sighting("sight-0001"), sighting("sight-0002", SIGHTING[0] + 0.0005, SIGHTING[1])])
    return redis_client


@pytest.mark.parametrize("reason, text, said", [
    ("false_alarm", "", "closed: false alarm"),
    ("duplicate", "", "closed: duplicate of another sighting"),
    ("drone_only", "", "closed: watched by the drone only"),
    ("referred", "", "closed: referred to another service"),
    ("other", "lookout left", "closed: lookout left"),
])
def test_close_with_each_reason_through_the_page_callback(settings, scene, keys, reason, text, said):
    client = signed_in_client(create_app(settings), scene, keys)
    done = call(client, ids.ACTION_RESULT, ids.ACTION_REQUEST,
                {"action": "close", "sighting_id": "sight-0001", "reason": reason, "text": text, "nonce": 3})
    assert done["ok"] is True and done["nonce"] == 3 and done["action"] == "close", done
    assert done["message"].endswith(said) and done["disposition"] == "closed"
    (ending,) = sighting_endings(scene, keys)
    assert (ending["reason"], ending["actor"], ending.get("text", "")) == (reason, SUPERVISOR_ID, text)
    entry = [e for e in iter_entries(scene, keys) if e.action.value == "sighting_closed"][-1]
    assert entry.actor == SUPERVISOR_ID and entry.outcome == "ok"


def test_merge_through_the_page_callback(settings, scene, keys):
    client = signed_in_client(create_app(settings), scene, keys)
    done = call(client, ids.ACTION_RESULT, ids.ACTION_REQUEST,
                {"action": "merge", "sighting_id": "sight-0002", "into": "sight-0001", "nonce": 4})
    assert done["ok"] is True and done["merged_into"] == "sight-0001", done
    assert scene.hget(keys.sightings, "sight-0002") is None and scene.hget(keys.sightings, "sight-0001")


def test_closing_an_assigned_sighting_is_refused_in_words(scene, keys):
    assert perform(scene, keys, {"action": "assign", "sighting_id": "sight-0001", "patrol_id": "BAC-1"})["ok"]
    answer = perform(scene, keys, {"action": "close", "sighting_id": "sight-0001", "reason": "false_alarm"})
    assert answer["ok"] is False
    assert answer["message"] == ("sighting sight-0001 is assigned to BAC-1: it ends when the crew clears it "
                                 "(cancel the assignment first to close it)")


@pytest.mark.parametrize("request_, message", [
    ({"action": "close", "sighting_id": "sight-0001"}, "bad request: reason missing or malformed"),
    ({"action": "close", "sighting_id": "sight-0001", "reason": "other", "text": ["x"]},
     "bad request: text malformed or too long"),
    ({"action": "close", "sighting_id": "sight-0001", "reason": "other"},
     "closing for an 'other' reason needs a short text saying why"),
    ({"action": "merge", "sighting_id": "sight-0001"}, "bad request: into missing or malformed"),
])
def test_malformed_closes_are_refused_in_words(scene, keys, request_, message):
    answer = perform(scene, keys, request_)
    assert answer["ok"] is False and answer["message"] == message
    assert scene.hget(keys.sightings, "sight-0001") is not None
