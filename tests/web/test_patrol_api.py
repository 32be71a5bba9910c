"""The tablet's API against the private Redis, through Flask's test client, as a signed-in patrol.

Sessions are real (dispatch/store/accounts.py), cookies and CSRF header as a
browser sends them; the picture is written by the real ingest step. What is
checked is what the supervisor screen and the replay read: the assignments
stream, the audit trail, the input stream of patrols.
"""

from __future__ import annotations

import threading
import uuid

import orjson
import pytest

from dispatch.clock import now_ms
from dispatch.domain.audit import Action, AuditFilter
from dispatch.domain.batch import RawEntry, plan_batch
from dispatch.domain.tablet import ACTION_RECORD_TTL_MS, ClientAction, TabletAction, refusal
from dispatch.store import accounts, patrol_actions
from dispatch.store import audit as audit_store
from dispatch.store.assignments import assign, transition
from dispatch.store.scripts import IngestScript
from dispatch.web.app import create_app
from dispatch.web.auth import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE

ACTION = "/api/patrol/action"
POSITION = "/api/patrol/position"
VIEW = "/api/patrol/view"
SCENE = (48.1105, -1.6801)


def new_id() -> str:
    return str(uuid.uuid4())


def ingest(client, keys, *, patrols=(), sightings=(), drones=()):
    """Write reports through the real ingest step, so the picture is exactly what ingest makes."""
    received = now_ms()
    kinds = [("patrol", p) for p in patrols] + [("sighting", s) for s in sightings] + [("telemetry", d) for d in drones]
    entries = [RawEntry(kind, f"{received}-{i}", {n.encode(): str(v).encode() for n, v in fields.items()})
               for i, (kind, fields) in enumerate(kinds)]
    IngestScript(client, keys, live_maxlen=10_000)(plan_batch(entries))


def ingest_input_patrols(client, keys):
    """Run ingest over what the API wrote to {site}:in:patrols; returns the plan's rejections."""
    entries = [RawEntry("patrol", entry_id.decode(), fields) for entry_id, fields in client.xrange(keys.in_patrols)]
    plan = plan_batch(entries)
    IngestScript(client, keys, live_maxlen=10_000)(plan)
    return plan


def patrol(patrol_id, status="available", lat=48.112, lon=-1.675):
    return {"patrol_id": patrol_id, "ts": now_ms() - 5_000, "lat": lat, "lon": lon, "status": status}


def sighting(sighting_id, drone_id="DR-07", lat=SCENE[0], lon=SCENE[1]):
    return {"sighting_id": sighting_id, "ts": now_ms() - 5_000, "drone_id": drone_id, "operator_id": "OP-1",
            "category": "deal", "lat": lat, "lon": lon, "priority": 1, "note": "échanges au pied de l'escalier"}


def drone(drone_id):
    return {"drone_id": drone_id, "ts": now_ms() - 1_000, "lat": 48.111, "lon": -1.68, "alt_m": 80,
            "heading_deg": 90, "speed_mps": 5, "battery_pct": 70}


def states(client, keys, assignment_id=None) -> list[str]:
    """The state of every event on {site}:assignments (of one assignment), in order."""
    found = []
    for _, fields in client.xrange(keys.assignments):
        event = {n.decode(): v.decode() for n, v in fields.items()}
        if assignment_id is None or event["assignment_id"] == assignment_id:
            found.append(event["state"])
    return found


def audited(client, keys, **filters):
    return audit_store.read(client, keys, filters=AuditFilter.of(**filters))


def input_reports(client, keys) -> list[dict]:
    return [{n.decode(): v.decode() for n, v in fields.items()} for _, fields in client.xrange(keys.in_patrols)]


class Tablet:
    """One browser signed in (a real session), sending what the tablet's outbox (assets/tablet/outbox.js) sends."""

    def __init__(self, app, redis_client, keys, user_id, role="patrol", patrol_id=None):
        self.http = app.server.test_client()
        session_id, self.identity = accounts.create_session(redis_client, keys, user_id=user_id, role=role,
                                                            patrol_id=patrol_id)
        self.http.set_cookie(SESSION_COOKIE, session_id)
        self.http.set_cookie(CSRF_COOKIE, self.identity.csrf_token)

    def post(self, path, body, *, csrf=True):
        headers = {CSRF_HEADER: self.identity.csrf_token} if csrf else {}
        reply = self.http.post(path, data=orjson.dumps(body), headers=headers, content_type="application/json")
        return reply.status_code, reply.get_json(silent=True)

    def act(self, action, assignment_id=None, action_id=None, **fields):
        body = {"action_id": action_id or new_id(), "action": action, **fields}
        if assignment_id:
            body["assignment_id"] = assignment_id
        return self.post(ACTION, body)


@pytest.fixture
def app(settings):
    return create_app(settings)


@pytest.fixture
def scene(redis_client, keys):
    """BAC-12 and GN-4 available, two open sightings (one seen by DR-07), DR-07 flying; BAC-12 sent to the first."""
    ingest(redis_client, keys, patrols=[patrol("BAC-12"), patrol("GN-4", lat=48.105, lon=-1.69)],
           sightings=[sighting("sight-0001"), sighting("sight-0002", drone_id="DR-09", lat=48.12, lon=-1.66)],
           drones=[drone("DR-07"), drone("DR-09")])
    created = assign(redis_client, keys, sighting_id="sight-0001", patrol_id="BAC-12", supervisor_id="SUP-1")
    return created.assignment_id


@pytest.fixture
def bac12(app, redis_client, keys):
    return Tablet(app, redis_client, keys, "BAC-12", patrol_id="BAC-12")


@pytest.fixture
def gn4(app, redis_client, keys):
    return Tablet(app, redis_client, keys, "GN-4", patrol_id="GN-4")


# ----------------------------------------------------------------------------- exactly once

def test_an_action_sent_three_times_is_applied_once(bac12, scene, redis_client, keys):
    action_id, tapped = new_id(), now_ms()
    answers = [bac12.act("acknowledge", scene, action_id=action_id, tapped_ms=tapped) for _ in range(3)]
    assert [status for status, _ in answers] == [200, 200, 200]
    first, *resends = [body for _, body in answers]
    assert first["ok"] is True and first["replayed"] is False and first["state"] == "acknowledged"
    assert first["message"] == "Acknowledged" and first["action_id"] == action_id
    assert all(body == {**first, "replayed": True} for body in resends)
    assert states(redis_client, keys, scene) == ["assigned", "acknowledged"]
    changes = audited(redis_client, keys, action=Action.ASSIGNMENT_STATE_CHANGED, target=scene)
    assert [(e.actor, e.role.value, e.outcome.value, e.details["to"]) for e in changes] == [
        ("BAC-12", "patrol", "ok", "acknowledged")]
    assert changes[0].origin == "127.0.0.1"
    record_key = keys.patrol_action("BAC-12", action_id)
    assert 0 < redis_client.pttl(record_key) <= ACTION_RECORD_TTL_MS


def test_copies_sent_at_the_same_instant_are_applied_once(app, scene, redis_client, keys):
    """Ten tabs of a flaky tablet resending one action at once: one applies it, none applies it twice."""
    tablets = [Tablet(app, redis_client, keys, "BAC-12", patrol_id="BAC-12") for _ in range(10)]
    action_id, tapped = new_id(), now_ms()
    answers, start = [], threading.Barrier(len(tablets))

    def send(tablet):
        start.wait()
        answers.append(tablet.act("en_route", scene, action_id=action_id, tapped_ms=tapped))

    threads = [threading.Thread(target=send, args=(tablet,)) for tablet in tablets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {status for status, _ in answers} <= {200, 409}
    applied = [body for status, body in answers if status == 200 and not body["replayed"]]
    assert len(applied) == 1 and applied[0]["state"] == "en_route"
    assert all(body["retry"] for status, body in answers if status == 409)
    assert states(redis_client, keys, scene) == ["assigned", "en_route"]


def test_a_refusal_is_answered_once_and_audited_once(bac12, scene, redis_client, keys):
    action_id = new_id()
    status, body = bac12.act("on_scene", scene, action_id=action_id)
    expected = refusal(ClientAction(action_id, TabletAction.ON_SCENE, scene), patrol_status="assigned",
                       open_state="assigned")
    assert (status, body["ok"], body["message"]) == (422, False, expected)
    assert expected == "cannot go from assigned to on_scene: report en route first"
    again = bac12.act("on_scene", scene, action_id=action_id)
    assert again == (422, {**body, "replayed": True})
    assert states(redis_client, keys, scene) == ["assigned"]
    refused = audited(redis_client, keys, outcome="refused", target=scene)
    assert [(e.actor, e.reason) for e in refused] == [("BAC-12", expected)]


def test_one_id_for_two_different_actions_applies_only_the_first(bac12, scene, redis_client, keys):
    action_id = new_id()
    assert bac12.act("acknowledge", scene, action_id=action_id)[0] == 200
    status, body = bac12.act("en_route", scene, action_id=action_id)
    assert status == 422 and body["message"] == f"action {action_id} was already used for a different action: " \
                                                "not applied"
    assert states(redis_client, keys, scene) == ["assigned", "acknowledged"]


def test_a_failure_that_says_nothing_about_the_action_leaves_it_to_the_resend(scene, redis_client, keys):
    """Redis failing mid-action: the claim is released, so the resend really applies it."""
    import redis

    action = ClientAction(new_id(), TabletAction.ACKNOWLEDGE, scene)

    def broken():
        raise redis.ConnectionError("connection reset")

    with pytest.raises(redis.ConnectionError):
        patrol_actions.apply_once(redis_client, keys, patrol_id="BAC-12", action=action, apply=broken)
    assert redis_client.get(keys.patrol_action("BAC-12", action.action_id)) is None
    applied = patrol_actions.perform(redis_client, keys, patrol_id="BAC-12", action=action)
    assert applied.replayed is False and applied.result["state"] == "acknowledged"


def test_a_copy_arriving_while_the_first_is_applied_is_told_to_wait(scene, redis_client, keys):
    action = ClientAction(new_id(), TabletAction.ACKNOWLEDGE, scene)
    seen = []

    def while_applying():
        with pytest.raises(patrol_actions.ActionInProgress):
            patrol_actions.perform(redis_client, keys, patrol_id="BAC-12", action=action)
        seen.append(states(redis_client, keys, scene))
        return {"ok": True, "message": "done"}

    applied = patrol_actions.apply_once(redis_client, keys, patrol_id="BAC-12", action=action, apply=while_applying)
    assert applied.result == {"ok": True, "message": "done"} and seen == [["assigned"]]


# ----------------------------------------------------------------------------- the whole call, and who acts

def test_the_whole_call_from_the_tablet(bac12, scene, redis_client, keys):
    steps = [("acknowledge", {}), ("en_route", {}), ("on_scene", {}), ("clear", {"outcome": "arrest"})]
    for action, extra in steps:
        status, body = bac12.act(action, scene, **extra)
        assert status == 200 and body["ok"], body
    assert body["state"] == "cleared" and body["status"] == "available" and body["message"] == "Cleared (arrest)"
    assert states(redis_client, keys, scene) == ["assigned", "acknowledged", "en_route", "on_scene", "cleared"]
    assert redis_client.hget(keys.assignments_open, scene) is None
    assert not redis_client.hexists(keys.sightings, "sight-0001")
    assert orjson.loads(redis_client.hget(keys.patrols, "BAC-12"))["status"] == "available"


def test_clearing_without_an_outcome_is_refused_with_the_choices(bac12, scene, redis_client, keys):
    for action in ("en_route", "on_scene"):
        assert bac12.act(action, scene)[0] == 200
    status, body = bac12.act("clear", scene)
    assert status == 422 and body["message"].startswith("clearing needs an outcome: one of nothing_found, ")
    assert states(redis_client, keys, scene)[-1] == "on_scene"


def test_the_patrol_is_the_sessions_whatever_the_body_claims(gn4, scene, redis_client, keys):
    status, body = gn4.act("en_route", scene, patrol_id="BAC-12", actor_id="BAC-12")
    assert status == 422
    assert body["message"] == f"GN-4 cannot act on assignment {scene}: it was given to BAC-12"
    assert states(redis_client, keys, scene) == ["assigned"]
    assert [e.actor for e in audited(redis_client, keys, outcome="refused", target=scene)] == ["GN-4"]

    status, body = gn4.act("unavailable", patrol_id="BAC-12")
    assert status == 200 and body["status"] == "unavailable"
    assert [r["patrol_id"] for r in input_reports(redis_client, keys)] == ["GN-4"]
    status, _ = gn4.post(POSITION, {"lat": 48.2, "lon": -1.6, "patrol_id": "BAC-12"})
    assert status == 200
    assert [r["patrol_id"] for r in input_reports(redis_client, keys)] == ["GN-4", "GN-4"]


@pytest.mark.parametrize("state_before, action, message", [
    ("assigned", "clear", "cannot go from assigned to cleared: report on scene first (a call that became void "
                          "before arrival is cancelled by the supervisor)"),
    ("en_route", "acknowledge", "cannot go back from en_route to acknowledged"),
    ("on_scene", "on_scene", "assignment already on_scene"),
])
def test_an_illegal_transition_is_refused_with_the_rule(bac12, scene, redis_client, keys, state_before, action,
                                                         message):
    path = {"assigned": [], "en_route": ["en_route"], "on_scene": ["en_route", "on_scene"]}[state_before]
    for step in path:
        transition(redis_client, keys, assignment_id=scene, new_state=step, actor_id="BAC-12", actor_role="patrol")
    before = states(redis_client, keys, scene)
    status, body = bac12.act(action, scene, outcome="dispersed" if action == "clear" else None)
    assert (status, body["ok"], body["message"]) == (422, False, message)
    assert states(redis_client, keys, scene) == before


def test_an_assignment_closed_meanwhile(bac12, scene, redis_client, keys):
    transition(redis_client, keys, assignment_id=scene, new_state="cancelled", actor_id="SUP-1",
               actor_role="supervisor")
    status, body = bac12.act("acknowledge", scene)
    assert status == 422 and body["message"] == f"assignment {scene} is not open (cleared, cancelled or unknown)"


# ----------------------------------------------------------------------------- the crew's own status, positions

def test_status_reports_go_to_the_input_stream_as_a_terminal_would(gn4, scene, redis_client, keys):
    stored_ts = orjson.loads(redis_client.hget(keys.patrols, "GN-4"))["ts"]
    status, body = gn4.act("unavailable", tapped_ms=stored_ts - 60_000)  # tapped offline, long before
    assert status == 200 and body["message"] == "Status reported: unavailable"
    report, = input_reports(redis_client, keys)
    assert set(report) == {"patrol_id", "ts", "lat", "lon", "status"}
    assert report["status"] == "unavailable" and (float(report["lat"]), float(report["lon"])) == (48.105, -1.69)
    assert int(report["ts"]) == stored_ts + 1, "newer than the picture, or ingest would ignore it"
    plan = ingest_input_patrols(redis_client, keys)
    assert plan.rejected == []
    assert orjson.loads(redis_client.hget(keys.patrols, "GN-4"))["status"] == "unavailable"
    assert not redis_client.zscore(keys.patrols_available, "GN-4")

    status, body = gn4.act("available", lat=48.2, lon=-1.61)
    report = input_reports(redis_client, keys)[-1]
    assert status == 200 and (report["status"], report["lat"], report["lon"]) == ("available", "48.2", "-1.61")

    trail = audit_store.read(redis_client, keys, filters=AuditFilter.of(action=Action.PATROL_STATUS_REPORTED))
    assert [(e.actor, e.role.value, e.target, e.details["status"], e.outcome.value) for e in trail] == [
        ("GN-4", "patrol", "GN-4", "unavailable", "ok"), ("GN-4", "patrol", "GN-4", "available", "ok")]
    assert all(e.origin == "127.0.0.1" for e in trail) and "lat" not in trail[0].details


def test_a_status_change_with_an_open_assignment_is_refused(bac12, scene, redis_client, keys):
    status, body = bac12.act("unavailable")
    assert status == 422 and body["message"] == ("cannot report unavailable with an open assignment: clear it "
                                                 "first, or ask the supervisor to cancel it")
    assert input_reports(redis_client, keys) == []
    refused, = audit_store.read(redis_client, keys, filters=AuditFilter.of(action=Action.PATROL_STATUS_REPORTED))
    assert (refused.actor, refused.outcome.value, refused.reason) == ("BAC-12", "refused", body["message"])


def test_a_status_without_any_known_position_is_refused(app, redis_client, keys):
    newcomer = Tablet(app, redis_client, keys, "PS-3", patrol_id="PS-3")
    status, body = newcomer.act("available")
    assert status == 422 and body["message"].startswith("no position known for this tablet yet")
    assert input_reports(redis_client, keys) == []


def test_positions_carry_the_assignments_status_or_the_crews(bac12, gn4, scene, redis_client, keys):
    fix = now_ms() - 1_000
    assert gn4.post(POSITION, {"lat": 48.106, "lon": -1.691, "ts": fix, "status": "unavailable"})[0] == 200
    assert bac12.post(POSITION, {"lat": 48.113, "lon": -1.676, "ts": fix, "status": "available"})[0] == 200
    transition(redis_client, keys, assignment_id=scene, new_state="en_route", actor_id="BAC-12", actor_role="patrol")
    assert bac12.post(POSITION, {"lat": 48.114, "lon": -1.677, "status": "en_route"})[0] == 200
    gn4_report, bac12_assigned, bac12_en_route = input_reports(redis_client, keys)
    assert gn4_report == {"patrol_id": "GN-4", "ts": str(fix), "lat": "48.106", "lon": "-1.691",
                          "status": "unavailable"}
    assert (bac12_assigned["status"], bac12_en_route["status"]) == ("assigned", "en_route")
    ingest_input_patrols(redis_client, keys)
    assert orjson.loads(redis_client.hget(keys.patrols, "BAC-12"))["lat"] == 48.114


def test_a_claimed_status_the_crew_may_not_give_itself_is_not_reported(gn4, scene, redis_client, keys):
    assert gn4.post(POSITION, {"lat": 48.106, "lon": -1.691, "status": "on_scene"})[0] == 200
    assert input_reports(redis_client, keys)[-1]["status"] == "available"  # its stored status


# ----------------------------------------------------------------------------- what the tablet may see

def test_the_view_holds_the_patrols_own_things_only(app, bac12, gn4, scene, redis_client, keys):
    reply = bac12.http.get(VIEW)
    view = reply.get_json()
    assert reply.status_code == 200 and view["ok"] is True
    assert [p["patrol_id"] for p in view["patrols"]] == ["BAC-12"]
    assert [a["assignment_id"] for a in view["assignments"]] == [scene]
    assert [s["sighting_id"] for s in view["sightings"]] == ["sight-0001"]
    assert [d["drone_id"] for d in view["drones"]] == ["DR-07"]
    other = gn4.http.get(VIEW).get_json()
    assert [p["patrol_id"] for p in other["patrols"]] == ["GN-4"]
    assert other["assignments"] == other["sightings"] == other["drones"] == []


# ----------------------------------------------------------------------------- refused before anything happens

def test_only_a_signed_in_patrol_with_its_csrf_token_gets_through(app, bac12, scene, redis_client, keys):
    anonymous = app.server.test_client()
    body = {"action_id": new_id(), "action": "acknowledge", "assignment_id": scene}
    assert anonymous.post(ACTION, json=body).status_code == 401
    assert anonymous.get(VIEW).status_code == 401
    supervisor = Tablet(app, redis_client, keys, "SUP-1", role="supervisor")
    assert supervisor.post(ACTION, body)[0] == 403
    assert supervisor.post(POSITION, {"lat": 48.1, "lon": -1.6})[0] == 403
    assert bac12.post(ACTION, body, csrf=False)[0] == 403
    assert states(redis_client, keys, scene) == ["assigned"]
    assert input_reports(redis_client, keys) == []


@pytest.mark.parametrize("body", [
    {"action": "acknowledge"},
    {"action_id": "1", "action": "acknowledge"},
    {"action_id": str(uuid.uuid4()), "action": "cancel"},
    {"action_id": str(uuid.uuid4()), "action": "acknowledge"},
    {"action_id": str(uuid.uuid4()), "action": "clear", "assignment_id": "a" * 32, "outcome": "shot"},
    [1, 2, 3],
])
def test_malformed_actions_are_refused_and_nothing_is_recorded(bac12, scene, redis_client, keys, body):
    status, answer = bac12.post(ACTION, body)
    assert status == 400 and answer["message"].startswith("bad request")
    assert states(redis_client, keys, scene) == ["assigned"]
    assert list(redis_client.scan_iter(match=keys.patrol_actions + ":*")) == []


def test_an_oversized_body_is_refused(bac12, scene):
    status, _ = bac12.post(ACTION, {"action_id": new_id(), "action": "acknowledge", "assignment_id": scene,
                                    "padding": "x" * 5_000})
    assert status == 413
