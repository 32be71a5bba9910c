"""What the supervisor screen asks the server, against the real Redis: nearest patrols and the actions.

`nearest_for` and `perform` are called as plain functions, then once through
the Dash app itself (the callback the page triggers), to prove the wiring: the
app's own client, its site, its breaker. The picture is written by the real
ingest step, so the JSON is what ingest makes.
"""

from __future__ import annotations

import dataclasses
import re
import time

import orjson
import pytest

from dispatch.domain.alerts import AlertKind, new_alert
from dispatch.domain.batch import RawEntry, plan_batch
from dispatch.domain.geo import haversine_m
from dispatch.store import accounts
from dispatch.store.alerts import apply_diff
from dispatch.store.embedded import free_port
from dispatch.store.scripts import IngestScript
from dispatch.ui.pages.screen import ids
from dispatch.ui.pages.screen import handlers as actions
from dispatch.ui.pages.screen.handlers import nearest_for

from dispatch.web.app import create_app

SUPERVISOR_ID = "SUP-1"


def perform(client, keys, request, **kwargs):
    """The action as the signed-in SUP-1 would run it."""
    return actions.perform(client, keys, request, supervisor_id=kwargs.pop("supervisor_id", SUPERVISOR_ID), **kwargs)

SIGHTING = (48.1105, -1.6801)


def now_ms() -> int:
    return int(time.time() * 1000)


def ingest(client, keys, *, patrols=(), sightings=()):
    received = now_ms()
    rows = [("patrol", p) for p in patrols] + [("sighting", s) for s in sightings]
    entries = [RawEntry(kind, f"{received}-{i}", {n.encode(): str(v).encode() for n, v in fields.items()})
               for i, (kind, fields) in enumerate(rows)]
    IngestScript(client, keys, live_maxlen=10_000)(plan_batch(entries))


def patrol(patrol_id, lat, lon, status="available"):
    return {"patrol_id": patrol_id, "ts": now_ms() - 5_000, "lat": lat, "lon": lon, "status": status}


def sighting(sighting_id, lat=SIGHTING[0], lon=SIGHTING[1]):
    return {"sighting_id": sighting_id, "ts": now_ms() - 5_000, "drone_id": "DR-07", "operator_id": "OP-1",
            "category": "deal", "lat": lat, "lon": lon, "priority": 1, "note": "deal near the stairs"}


@pytest.fixture
def scene(redis_client, keys):
    """Seven available patrols at increasing distances north of the sighting, one busy, one off duty."""
    patrols = [patrol(f"BAC-{n}", SIGHTING[0] + 0.002 * n, SIGHTING[1]) for n in (7, 3, 1, 6, 2, 5, 4)]
    patrols += [patrol("GN-1", SIGHTING[0] + 0.0001, SIGHTING[1], "unavailable")]
    ingest(redis_client, keys, patrols=patrols, sightings=[sighting("sight-0001"), sighting("sight-0002", 48.2, -1.6)])
    return redis_client


def number_of(client, keys, sighting_id) -> str:
    number = orjson.loads(client.hget(keys.sightings, sighting_id))["number"]
    assert re.fullmatch(r"S-\d{4}", number), number
    return number


def open_assignment_of(client, keys, patrol_id) -> dict | None:
    assignment_id = client.hget(keys.patrol_assignment, patrol_id)
    return orjson.loads(client.hget(keys.assignments_open, assignment_id)) if assignment_id else None


# ---------------------------------------------------------------------------------------------- nearest


def test_nearest_lists_the_five_closest_available_patrols_best_first(scene, keys):
    answer = nearest_for(scene, keys, {"sighting_id": "sight-0001", "nonce": 41})
    assert answer["ok"] is True and answer["nonce"] == 41 and answer["sighting_id"] == "sight-0001"
    rows = answer["candidates"]
    assert [row["patrol_id"] for row in rows] == ["BAC-1", "BAC-2", "BAC-3", "BAC-4", "BAC-5"]
    assert [row["rank"] for row in rows] == [1, 2, 3, 4, 5]
    first = rows[0]
    expected = haversine_m(*SIGHTING, SIGHTING[0] + 0.002, SIGHTING[1])
    assert first["distance_m"] == pytest.approx(expected, abs=1)
    assert first["distance"] == "220 m" and first["eta"] == "≈ 2 min"  # 30 s to start + 222 m x 1.4 at 9 m/s
    assert rows[4]["distance"] == "1.1 km"
    assert all(rows[i]["distance_m"] <= rows[i + 1]["distance_m"] for i in range(4))
    assert answer["message"] == ""


def test_nearest_leaves_out_a_patrol_once_it_is_assigned(scene, keys):
    perform(scene, keys, {"action": "assign", "sighting_id": "sight-0002", "patrol_id": "BAC-1"})
    rows = nearest_for(scene, keys, {"sighting_id": "sight-0001"})["candidates"]
    assert [row["patrol_id"] for row in rows] == ["BAC-2", "BAC-3", "BAC-4", "BAC-5", "BAC-6"]


def test_nearest_for_a_closed_sighting_says_so(scene, keys):
    answer = nearest_for(scene, keys, {"sighting_id": "sight-9999", "nonce": "n1"})
    assert answer["ok"] is False and answer["candidates"] == [] and answer["nonce"] == "n1"
    assert answer["message"] == ("sighting sight-9999 is not open "
                                 "(it has ended: cleared, closed, merged or expired; or it was never received)")


def test_nearest_with_every_patrol_busy_says_why_the_list_is_empty(redis_client, keys):
    ingest(redis_client, keys, patrols=[patrol("GN-1", *SIGHTING, "unavailable")], sightings=[sighting("sight-0001")])
    answer = nearest_for(redis_client, keys, {"sighting_id": "sight-0001"})
    assert answer["ok"] is True and answer["candidates"] == []
    assert "No available patrol" in answer["message"]


@pytest.mark.parametrize("request_", [None, {}, {"sighting_id": 12}, {"sighting_id": ""}, {"sighting_id": "x" * 65},
                                      "sight-0001"])
def test_nearest_refuses_a_malformed_request_without_touching_redis(scene, keys, request_):
    answer = nearest_for(scene, keys, request_)
    assert answer["ok"] is False and answer["message"] == "bad request: sighting_id missing or malformed"


# ---------------------------------------------------------------------------------------------- actions


def test_assign_sends_the_patrol_as_the_demo_supervisor(scene, keys):
    answer = perform(scene, keys, {"action": "assign", "sighting_id": "sight-0001", "patrol_id": "BAC-1", "nonce": 3})
    assert answer["ok"] is True and answer["nonce"] == 3 and answer["action"] == "assign"
    assert answer["message"] == f"BAC-1 sent to {number_of(scene, keys, 'sight-0001')}"  # the number people say
    stored = open_assignment_of(scene, keys, "BAC-1")
    assert stored["assignment_id"] == answer["assignment_id"]
    assert (stored["sighting_id"], stored["supervisor_id"], stored["state"]) == ("sight-0001", SUPERVISOR_ID, "assigned")
    assert orjson.loads(scene.hget(keys.patrols, "BAC-1"))["status"] == "assigned"


def test_a_second_assignment_of_the_same_patrol_is_refused_in_words_and_changes_nothing(scene, keys):
    first = perform(scene, keys, {"action": "assign", "sighting_id": "sight-0001", "patrol_id": "BAC-1"})
    before = (scene.hgetall(keys.assignments_open), scene.xlen(keys.assignments), scene.xlen(keys.live))
    second = perform(scene, keys, {"action": "assign", "sighting_id": "sight-0002", "patrol_id": "BAC-1"})
    assert second["ok"] is False and "assignment_id" not in second
    assert re.fullmatch(r"BAC-1 is already assigned to sighting sight-0001 \(by SUP-1, \d\d:\d\d:\d\d\)",
                        second["message"]), second["message"]
    assert (scene.hgetall(keys.assignments_open), scene.xlen(keys.assignments), scene.xlen(keys.live)) == before
    assert open_assignment_of(scene, keys, "BAC-1")["assignment_id"] == first["assignment_id"]


def test_assigning_an_unavailable_patrol_is_refused_with_its_status(scene, keys):
    answer = perform(scene, keys, {"action": "assign", "sighting_id": "sight-0001", "patrol_id": "GN-1"})
    assert answer == {"nonce": None, "ok": False, "action": "assign", "message": "GN-1 is not available (unavailable)"}


def test_cancel_frees_the_patrol(scene, keys):
    assigned = perform(scene, keys, {"action": "assign", "sighting_id": "sight-0001", "patrol_id": "BAC-2"})
    answer = perform(scene, keys, {"action": "cancel", "assignment_id": assigned["assignment_id"]})
    assert answer["ok"] is True and answer["message"] == "Assignment cancelled: BAC-2 is available again"
    assert open_assignment_of(scene, keys, "BAC-2") is None
    assert scene.zscore(keys.patrols_available, "BAC-2") is not None
    again = perform(scene, keys, {"action": "cancel", "assignment_id": assigned["assignment_id"]})
    assert again["ok"] is False and "is not open" in again["message"]


def test_reassign_moves_the_sighting_to_another_patrol_in_one_step(scene, keys):
    assigned = perform(scene, keys, {"action": "assign", "sighting_id": "sight-0001", "patrol_id": "BAC-3"})
    answer = perform(scene, keys, {"action": "reassign", "assignment_id": assigned["assignment_id"],
                                   "patrol_id": "BAC-1"})
    assert answer["ok"] is True and answer["patrol_id"] == "BAC-1" and answer["sighting_id"] == "sight-0001"
    assert answer["message"] == f"Reassigned: BAC-1 sent to {number_of(scene, keys, 'sight-0001')}"
    assert open_assignment_of(scene, keys, "BAC-3") is None
    assert open_assignment_of(scene, keys, "BAC-1")["assignment_id"] == answer["assignment_id"]


def test_reassign_to_a_busy_patrol_is_refused_and_the_first_patrol_keeps_the_call(scene, keys):
    kept = perform(scene, keys, {"action": "assign", "sighting_id": "sight-0001", "patrol_id": "BAC-3"})
    perform(scene, keys, {"action": "assign", "sighting_id": "sight-0002", "patrol_id": "BAC-1"})
    answer = perform(scene, keys, {"action": "reassign", "assignment_id": kept["assignment_id"], "patrol_id": "BAC-1"})
    assert answer["ok"] is False and answer["message"].startswith("BAC-1 is already assigned to sighting sight-0002")
    assert open_assignment_of(scene, keys, "BAC-3")["assignment_id"] == kept["assignment_id"]


@pytest.mark.parametrize("state, words", [("en_route", "en route to"), ("on_scene", "on scene at")])
def test_reassign_away_from_a_moving_crew_needs_confirmation(scene, keys, state, words):
    from dispatch.store import assignments as assignment_store
    kept = perform(scene, keys, {"action": "assign", "sighting_id": "sight-0001", "patrol_id": "BAC-3"})
    steps = ["acknowledged", "en_route"] + (["on_scene"] if state == "on_scene" else [])
    for step in steps:
        assignment_store.transition(scene, keys, assignment_id=kept["assignment_id"], new_state=step,
                                    actor_id="BAC-3", actor_role="patrol")
    request = {"action": "reassign", "assignment_id": kept["assignment_id"], "patrol_id": "BAC-1"}
    refused = perform(scene, keys, request)
    assert refused["ok"] is False
    assert refused["message"] == f"BAC-3 is {words} sighting S-0001: confirm to take it from the crew"
    assert open_assignment_of(scene, keys, "BAC-3")["assignment_id"] == kept["assignment_id"]
    done = perform(scene, keys, dict(request, confirmed=True))
    assert done["ok"] is True and done["patrol_id"] == "BAC-1"
    assert open_assignment_of(scene, keys, "BAC-3") is None


def test_acknowledge_records_the_supervisor_once(redis_client, keys):
    alert = new_alert(AlertKind.LINK_LOST, "DR-07", "DR-07 link lost: no telemetry since 14:02:11", now_ms() - 9_000)
    apply_diff(redis_client, keys, [alert], [], now_ms())
    answer = perform(redis_client, keys, {"action": "acknowledge", "alert_id": alert.alert_id, "nonce": 8},
                     now_ms=1_800_000_000_000)
    assert answer == {"nonce": 8, "ok": True, "action": "acknowledge", "alert_id": "link_lost:DR-07",
                      "message": "Alert acknowledged by SUP-1"}
    stored = orjson.loads(redis_client.hget(keys.alerts_open, alert.alert_id))
    assert (stored["state"], stored["acknowledged_by"], stored["acknowledged_ms"]) == (
        "acknowledged", SUPERVISOR_ID, 1_800_000_000_000)
    again = perform(redis_client, keys, {"action": "acknowledge", "alert_id": alert.alert_id})
    assert again["ok"] is False and again["message"] == "alert link_lost:DR-07 was already acknowledged by SUP-1"
    gone = perform(redis_client, keys, {"action": "acknowledge", "alert_id": "link_lost:DR-99"})
    assert gone["ok"] is False and "is not open" in gone["message"]


@pytest.mark.parametrize("request_, message", [
    ({"action": "launch"}, "unknown action 'launch': expected one of assign, cancel, reassign, acknowledge, close, merge"),
    ({}, "no action given: expected one of assign, cancel, reassign, acknowledge, close, merge"),
    ({"action": "assign", "sighting_id": "sight-0001"}, "bad request: patrol_id missing or malformed"),
    ({"action": "cancel", "assignment_id": ["x"]}, "bad request: assignment_id missing or malformed"),
    ({"action": "assign", "sighting_id": "sight-0001", "patrol_id": "<b>BAC</b>"},
     "patrol_id: bad format '<b>BAC</b>', expected 1 to 5 capitals, '-', 1 to 4 digits, e.g. BAC-12"),
])
def test_malformed_actions_are_refused_in_words(scene, keys, request_, message):
    before = scene.xlen(keys.live)
    answer = perform(scene, keys, request_)
    assert answer["ok"] is False and answer["message"] == message
    assert scene.xlen(keys.live) == before


# ---------------------------------------------------------------------------------------------- through Dash


def post(client, output_id: str, input_id: str, value):
    body = {"output": f"{output_id}.data", "outputs": {"id": output_id, "property": "data"},
            "inputs": [{"id": input_id, "property": "data", "value": value}],
            "changedPropIds": [f"{input_id}.data"], "state": []}
    return client.post("/_dash-update-component", json=body, headers={"X-CSRFToken": client.csrf_token})


def call(client, output_id: str, input_id: str, value) -> dict:
    response = post(client, output_id, input_id, value)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return orjson.loads(response.data)["response"][output_id]["data"]


def signed_in_client(app, redis, keys):
    """A supervisor's browser: its session cookie, and the CSRF token its page sends in X-CSRFToken."""
    client = app.server.test_client()
    session_id, identity = accounts.create_session(redis, keys, user_id=SUPERVISOR_ID, role="supervisor")
    client.set_cookie("dispatch_session", session_id)
    client.csrf_token = identity.csrf_token
    return client


def test_the_page_callbacks_use_the_apps_redis_and_site(settings, scene, keys):
    client = signed_in_client(create_app(settings), scene, keys)
    nearest = call(client, ids.NEAREST_RESULT, ids.NEAREST_REQUEST, {"sighting_id": "sight-0001", "nonce": 1})
    assert [row["patrol_id"] for row in nearest["candidates"]][:2] == ["BAC-1", "BAC-2"]
    assert 0 <= nearest["server_ms"] < 300, "the nearest query must feel instant"
    done = call(client, ids.ACTION_RESULT, ids.ACTION_REQUEST,
                {"action": "assign", "sighting_id": "sight-0001", "patrol_id": "BAC-1", "nonce": 2})
    assert done["ok"] is True and done["nonce"] == 2
    assert open_assignment_of(scene, keys, "BAC-1")["supervisor_id"] == SUPERVISOR_ID


def test_with_redis_gone_the_page_gets_a_reason_not_an_error(settings):
    nowhere = dataclasses.replace(settings, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    client = create_app(nowhere).server.test_client()
    client.set_cookie("dispatch_session", "a-session-id")
    client.csrf_token = "its-token"
    # Without Redis the session cannot be checked: refused before the callback runs, with the reason.
    response = post(client, ids.ACTION_RESULT, ids.ACTION_REQUEST,
                    {"action": "assign", "sighting_id": "sight-0001", "patrol_id": "BAC-1", "nonce": 5})
    assert response.status_code == 503
    assert "Redis unavailable" in orjson.loads(response.data)["error"]
