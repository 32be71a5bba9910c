"""The live socket's sign-in: the real gateway process, real sessions in Redis, real websocket clients.

The handshake carries the session cookie (the browser sends it: same host,
another port); no cookie, a forged one, an expired or ended session, or a role
without a live view is refused before the upgrade. A patrol's socket carries
only what concerns it.
"""

from __future__ import annotations

import time

import orjson
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from dispatch.domain.audit import from_fields
from dispatch.domain.auth import Role
from dispatch.store import accounts
from dispatch.store.embedded import free_port
from dispatch.web.auth import SESSION_COOKIE
from tests.support.processes import port_open, python_module, wait_until

ORIGIN = "http://127.0.0.1:8050"


@pytest.fixture
def gateway(settings):
    port = free_port()
    service = python_module("gateway", "dispatch.services.gateway", settings, DISPATCH_GATEWAY_PORT=str(port)).start()
    try:
        wait_until(lambda: not service.running or ("following" in service.output() and port_open(port)),
                   timeout=15, what="the gateway to listen")
        assert service.running, service.output()
        service.url = f"ws://127.0.0.1:{port}/live"
        yield service
    finally:
        service.stop()


def open_socket(url: str, session_id: str | None = None, **headers):
    if session_id is not None:
        headers["Cookie"] = f"theme=dark; {SESSION_COOKIE}={session_id}"
    return connect(url, open_timeout=5, additional_headers={"Origin": ORIGIN, **headers})


def refused_status(url: str, session_id: str | None = None, **headers) -> int:
    with pytest.raises(InvalidStatus) as refused:
        with open_socket(url, session_id, **headers):
            pass
    return refused.value.response.status_code


def snapshot_of(ws) -> dict:
    """The first message that is not a heartbeat (one may come before the snapshot)."""
    while (message := orjson.loads(ws.recv(timeout=3)))["type"] == "heartbeat":
        pass
    return message


def messages(ws, seconds: float) -> list[dict]:
    found, deadline = [], time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            message = orjson.loads(ws.recv(timeout=left))
        except TimeoutError:
            break
        if message["type"] != "heartbeat":
            found.append(message)
    return found


def session(redis_client, keys, role: Role, user_id: str, patrol_id: str | None = None, ttl_s: float = 3600) -> str:
    session_id, _ = accounts.create_session(redis_client, keys, user_id=user_id, role=role, patrol_id=patrol_id,
                                            ttl_s=ttl_s)
    return session_id


def test_no_cookie_or_a_forged_one_is_refused_with_401(gateway, redis_client, keys):
    assert refused_status(gateway.url) == 401
    assert refused_status(gateway.url, "forged-session-id") == 401
    assert refused_status(gateway.url, "x" * 300) == 401
    assert refused_status(gateway.url, Authorization="Bearer anything") == 401
    assert "refused" in gateway.output() and "Not signed in" in gateway.output()


def test_an_expired_or_ended_session_is_refused(gateway, redis_client, keys):
    short = session(redis_client, keys, Role.SUPERVISOR, "SUP-1", ttl_s=0.3)
    with open_socket(gateway.url, short) as ws:
        assert snapshot_of(ws)["type"] == "snapshot"
    time.sleep(0.4)
    assert refused_status(gateway.url, short) == 401
    ended = session(redis_client, keys, Role.SUPERVISOR, "SUP-1")
    accounts.end_session(redis_client, keys, ended)
    assert refused_status(gateway.url, ended) == 401


def test_an_open_socket_is_closed_when_its_session_ends_and_only_that_one(gateway, redis_client, keys):
    ending = session(redis_client, keys, Role.SUPERVISOR, "SUP-1")
    staying = session(redis_client, keys, Role.SUPERVISOR, "SUP-2")
    with open_socket(gateway.url, ending) as ended_ws, open_socket(gateway.url, staying) as other_ws:
        assert snapshot_of(ended_ws)["type"] == snapshot_of(other_ws)["type"] == "snapshot"
        accounts.end_session(redis_client, keys, ending)
        started = time.monotonic()
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                ended_ws.recv(timeout=5)
        assert time.monotonic() - started < 4, "closed within the gateway's session check (2 s)"
        assert closed.value.rcvd.code == 4401 and "sign in again" in closed.value.rcvd.reason
        assert orjson.loads(other_ws.recv(timeout=3))["type"] == "heartbeat", "the other screen stays live"


def test_a_role_without_a_live_view_is_refused_with_403(gateway, redis_client, keys):
    assert refused_status(gateway.url, session(redis_client, keys, Role.AUDITOR, "AUD-1")) == 403
    for role, user_id in ((Role.SUPERVISOR, "SUP-1"), (Role.ADMINISTRATOR, "ADM-1")):
        with open_socket(gateway.url, session(redis_client, keys, role, user_id)) as ws:
            assert snapshot_of(ws)["type"] == "snapshot"


def test_the_origin_check_still_comes_first(gateway, redis_client, keys):
    supervisor = session(redis_client, keys, Role.SUPERVISOR, "SUP-1")
    assert refused_status(gateway.url, supervisor, Origin="http://evil.example") == 403


def put(redis_client, keys, collection: str, id_field: str, *units: dict) -> None:
    hashes = {"drones": keys.drones, "patrols": keys.patrols, "sightings": keys.sightings,
              "assignments": keys.assignments_open}
    for unit in units:
        redis_client.hset(hashes[collection], unit[id_field], orjson.dumps(unit))


def publish(redis_client, keys, **collections) -> str:
    return redis_client.xadd(keys.live, {name: orjson.dumps(units) for name, units in collections.items()}).decode()


def ids(message: dict, collection: str) -> list[str]:
    field = {"drones": "drone_id", "patrols": "patrol_id", "sightings": "sighting_id",
             "assignments": "assignment_id"}[collection]
    return sorted(unit[field] for unit in message.get(collection, []))


def test_a_patrol_sees_only_its_own_units_and_follows_new_assignments(gateway, redis_client, keys):
    put(redis_client, keys, "drones", "drone_id", {"drone_id": "DR-1", "ts": 1}, {"drone_id": "DR-2", "ts": 1})
    put(redis_client, keys, "patrols", "patrol_id", {"patrol_id": "BAC-12", "ts": 1}, {"patrol_id": "BAC-13", "ts": 1})
    put(redis_client, keys, "sightings", "sighting_id", {"sighting_id": "sight-0001", "drone_id": "DR-1"},
        {"sighting_id": "sight-0002", "drone_id": "DR-2"})
    mine = {"assignment_id": "asg-000001", "sighting_id": "sight-0001", "patrol_id": "BAC-12", "state": "assigned"}
    theirs = {"assignment_id": "asg-000002", "sighting_id": "sight-0002", "patrol_id": "BAC-13", "state": "assigned"}
    put(redis_client, keys, "assignments", "assignment_id", mine, theirs)
    redis_client.hset(keys.patrol_assignment, mapping={"BAC-12": "asg-000001", "BAC-13": "asg-000002"})
    publish(redis_client, keys, patrols=[{"patrol_id": "BAC-12", "ts": 1}])
    tablet = session(redis_client, keys, Role.PATROL, "BAC-12", "BAC-12")
    with open_socket(gateway.url, tablet) as ws:
        snapshot = snapshot_of(ws)
        assert snapshot["type"] == "snapshot"
        assert [ids(snapshot, c) for c in ("patrols", "assignments", "sightings", "drones")] == [
            ["BAC-12"], ["asg-000001"], ["sight-0001"], ["DR-1"]]
        assert snapshot.get("alerts", []) == [] and snapshot.get("zones", []) == []
        # Others' movements never arrive; a new assignment for BAC-12 does, then its sighting's drone.
        # Each step waits for the previous one to reach the tablet: within one coalesced delta, units are
        # filtered collection by collection, so a drone listed before the assignment that brings it in
        # would wait for its next report.
        got = []

        def step(until, **collections):
            publish(redis_client, keys, **collections)
            deadline = time.monotonic() + 5
            while not until() and time.monotonic() < deadline:
                got.extend(messages(ws, 0.2))
            assert until(), (collections, got)

        def arrived(collection, unit_id):
            return lambda: any(unit_id in ids(m, collection) for m in got)

        publish(redis_client, keys, patrols=[{"patrol_id": "BAC-13", "ts": 2}], drones=[{"drone_id": "DR-2", "ts": 2}])
        handed = {**theirs, "patrol_id": "BAC-12", "assignment_id": "asg-000003"}
        step(arrived("assignments", "asg-000003"),
             assignments=[{**theirs, "state": "cancelled", "closed": True}, handed])
        step(arrived("sightings", "sight-0002"),
             sightings=[{"sighting_id": "sight-0002", "drone_id": "DR-2", "ts": 3}])
        step(arrived("drones", "DR-2"), drones=[{"drone_id": "DR-2", "ts": 4}, {"drone_id": "DR-1", "ts": 4}])
        got.extend(messages(ws, 0.5))
    seen = {c: sorted({i for m in got for i in ids(m, c)}) for c in ("patrols", "assignments", "sightings", "drones")}
    assert seen == {"patrols": [], "assignments": ["asg-000003"], "sightings": ["sight-0002"],
                    "drones": ["DR-1", "DR-2"]}
    assert all(unit.get("ts") != 2 for m in got for unit in m.get("drones", [])), "DR-2 before it concerned BAC-12"


def test_a_supervisor_sees_everything(gateway, redis_client, keys):
    put(redis_client, keys, "patrols", "patrol_id", {"patrol_id": "BAC-12", "ts": 1}, {"patrol_id": "BAC-13", "ts": 1})
    with open_socket(gateway.url, session(redis_client, keys, Role.SUPERVISOR, "SUP-1")) as ws:
        assert ids(snapshot_of(ws), "patrols") == ["BAC-12", "BAC-13"]
        publish(redis_client, keys, patrols=[{"patrol_id": "BAC-13", "ts": 2}])
        assert [ids(m, "patrols") for m in messages(ws, 1.0)] == [["BAC-13"]]


# --- Refusals on the record (issue 10, defect 7) --------------------------------------------------------

def trail(redis_client, keys) -> list:
    return [from_fields(entry_id.decode(), {k.decode(): v.decode() for k, v in fields.items()})
            for entry_id, fields in redis_client.xrange(keys.audit)]


def test_a_signed_in_role_refused_by_the_gateway_is_audited(gateway, redis_client, keys):
    assert refused_status(gateway.url, session(redis_client, keys, Role.AUDITOR, "AUD-7")) == 403
    [entry] = trail(redis_client, keys)
    assert (entry.actor, entry.role.value, entry.action.value, entry.target, entry.outcome.value, entry.origin) == (
        "AUD-7", "auditor", "access_denied", "live", "refused", "127.0.0.1")
    assert "auditor role has no live view" in entry.reason


def test_a_signed_in_user_from_a_forbidden_page_is_audited_an_anonymous_refusal_names_nobody(gateway, redis_client,
                                                                                            keys):
    assert refused_status(gateway.url) == 401
    assert refused_status(gateway.url, "forged-session-id") == 401
    assert refused_status(gateway.url, Origin="http://127.0.0.1:9999") == 403
    assert trail(redis_client, keys) == [], "nobody to name: logged, not audited"
    patrol = session(redis_client, keys, Role.PATROL, "BAC-12", "BAC-12")
    assert refused_status(gateway.url, patrol, Origin="http://127.0.0.1:9999") == 403
    [entry] = trail(redis_client, keys)
    assert (entry.actor, entry.role.value, entry.action.value, entry.outcome.value) == (
        "BAC-12", "patrol", "access_denied", "refused")
    assert entry.reason == "page origin 'http://127.0.0.1:9999' not allowed"
