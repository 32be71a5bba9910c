"""Two sites on two different masters of a real Redis Cluster, every process as users start it (issue 14).

Each process is given ONE node's URL (signed in as its role's ACL user, set on every node): ingest, watch,
gateway and the web app (gunicorn) run for both sites at once, retention runs a pass for both. Checked for
each site: an XADD to its input stream reaches the picture and a websocket client; an assignment made
through the store step the UI calls (as the web role) reaches the client too; a replay window reads it all
back; a retention pass drops what is past its rule and keeps the rest.
"""

from __future__ import annotations

import json
import time
import urllib.request

import orjson
import pytest

from dispatch.domain.acl import RedisUser
from dispatch.domain.retention import Treatment, retention_table
from dispatch.keys import Keys
from dispatch.store import accounts, assignments, history
from dispatch.store.connection import connect
from dispatch.store.embedded import free_port
from tests.services.test_gateway import Client, RunningGateway, units_of
from tests.services.test_ingest import patrol, sighting, telemetry
from tests.support.processes import python_module, role_url, wait_until
from tests.support.served import bare_gunicorn

from .conftest import site_slot


def now_ms() -> int:
    return int(time.time() * 1000)


@pytest.fixture
def running(two_sites, redis_server):
    """ingest, watch, gateway and web for both sites, all at once on the cluster."""
    services, gateways, webs = [], [], []
    try:
        for settings in two_sites:
            services.append(python_module(f"ingest-{settings.site}", "dispatch.services.ingest", settings).start())
            services.append(python_module(f"watch-{settings.site}", "dispatch.services.watch", settings).start())
            gateways.append(RunningGateway(settings, free_port()))
        for gateway in gateways:
            gateway.start()
        webs = [bare_gunicorn(settings) for settings in two_sites]
        yield list(zip(two_sites, gateways, webs))
    finally:
        for web in webs:
            web.stop()
        for gateway in gateways:
            gateway.stop()
        for service in services:
            service.stop()


def test_the_two_sites_live_on_different_masters(two_sites, redis_server):
    masters = {redis_server.master_for_slot(site_slot(s.site)).port for s in two_sites}
    assert len(masters) == 2
    for settings in two_sites:  # and the keys really are there
        keys = Keys(settings.site)
        assert redis_server.node_for_key(keys.drones) is redis_server.master_for_slot(site_slot(settings.site))


def test_xadd_to_picture_to_websocket_then_an_assignment_and_a_replay(running, redis_client):
    start = now_ms()
    clients = {}
    drone_of = {settings.site: f"DR-{n}" for n, (settings, _, _) in enumerate(running, 1)}
    for settings, gateway, _web in running:
        keys = Keys(settings.site)
        session_id, _ = accounts.create_session(redis_client, keys, user_id="SUP-1", role="supervisor")
        cookie = {"Cookie": f"dispatch_session={session_id}"}
        clients[settings.site] = Client(gateway.url, additional_headers=cookie)
        assert clients[settings.site].next()["type"] == "snapshot"
        # Input, as a bridge writes it.
        redis_client.xadd(keys.in_telemetry, telemetry(drone_of[settings.site], ts=now_ms()))
        redis_client.xadd(keys.in_patrols, patrol("BAC-12", ts=now_ms()))
        redis_client.xadd(keys.in_sightings, sighting("sight-0001", ts=now_ms()))

    for settings, _gateway, web in running:
        keys = Keys(settings.site)
        client = clients[settings.site]
        wait_until(lambda: redis_client.hexists(keys.sightings, "sight-0001") and redis_client.hexists(
            keys.patrols, "BAC-12"), timeout=15, what=f"ingest of {settings.site} to build its picture")
        received = []
        wait_until(lambda: received.extend(client.collect(0.2)) or units_of(received, "drones"), timeout=10,
                   what=f"{settings.site}'s drone on its websocket")
        assert {d["drone_id"] for d in units_of(received)} == {drone_of[settings.site]}, "each site sees only its own"

        # The web app of the site reads the same picture through the cluster (and checks the session there).
        session_id, _ = accounts.create_session(redis_client, keys, user_id="SUP-2", role="supervisor")
        request = urllib.request.Request(f"{web.url}/api/snapshot",
                                         headers={"Cookie": f"dispatch_session={session_id}"})
        with urllib.request.urlopen(request, timeout=5) as response:
            picture = json.loads(response.read())
        assert [d["drone_id"] for d in picture["drones"]] == [drone_of[settings.site]]

        # An assignment, through the store step the screen calls, signed in as the web role.
        web_client = web_role_client(settings)
        made = assignments.assign(web_client, keys, sighting_id="sight-0001", patrol_id="BAC-12",
                                  supervisor_id="SUP-1")
        wait_until(lambda: received.extend(client.collect(0.2)) or any(
            a.get("assignment_id") == made.assignment_id for a in units_of(received, "assignments")),
                   timeout=10, what="the assignment on the websocket")
        assert orjson.loads(redis_client.hget(keys.patrols, "BAC-12"))["status"] == "assigned"

        # A replay window of the site, read back through the cluster.
        window = history.load_window(web_client, keys, start - 1_000, now_ms() + 1_000)
        assert window.drone_ids == [drone_of[settings.site]]
        assert window.assignments["assignment_id"].tolist() == [made.assignment_id]
        assert "BAC-12" in window.patrol_ids
        web_client.close()


def web_role_client(settings):
    """The web role's client of `settings.site` (`role_client` is for the test's own site only)."""
    return connect(role_url(settings, RedisUser.WEB))


def test_a_retention_pass_for_each_site_drops_what_is_past_its_rule(two_sites, redis_client):
    rule = next(r for r in retention_table(Keys("x"), two_sites[0]) if r.name == "deadletter")
    assert rule.treatment is Treatment.TRIM_STREAM
    for settings in two_sites:
        keys = Keys(settings.site)
        old = now_ms() - settings.retention_ms - 3_600_000
        redis_client.xadd(keys.deadletter, {"reason": "old"}, id=f"{old}-0")
        redis_client.xadd(keys.deadletter, {"reason": "recent"})
    passes = [python_module(f"retention-{s.site}", "dispatch.services.retention", s, "--once", "--exact").start()
              for s in two_sites]
    for run in passes:
        run.process.wait(timeout=30)
        assert run.process.returncode == 0, run.output()
    for settings in two_sites:
        kept = [fields[b"reason"] for _, fields in redis_client.xrange(Keys(settings.site).deadletter)]
        assert kept == [b"recent"]
