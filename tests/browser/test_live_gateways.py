"""assets/common/live_client.js in a real Chromium behind a load balancer of two gateway processes.

The page connects to the balancer (tests/support/balancer.py, as HAProxy or nginx `stream {}`
would be) exactly as it connects to one gateway; the gateway it landed on is killed (SIGKILL) while
entries keep arriving: the client reconnects through the balancer, lands on the other one, and
resumes with `since=`: no new snapshot, every unit there.
"""

from __future__ import annotations

import signal

import pytest

from tests.browser.test_live_client import drone, page_server, publish, seen, start_gateway, state, unit  # noqa: F401
from tests.support.balancer import Balancer
from dispatch.store.embedded import free_port
from tests.support.processes import wait_until

pytestmark = pytest.mark.browser


def test_the_page_behind_a_balancer_moves_to_the_other_gateway_when_its_own_dies(browser, services, page_server,  # noqa: F811
                                                                                  redis_client, keys):
    ports = [free_port(), free_port()]
    gateways = {port: start_gateway(services, port, page_server) for port in ports}
    front = Balancer(ports).start()
    try:
        browser.get(f"{page_server}/?ws={front.url}")
        wait_until(lambda: state(browser)["state"] == "live" and seen(browser)["snapshots"], timeout=10,
                   what="the client to be live with its snapshot")
        publish(redis_client, keys, drones=[drone("DR-0", 0)])
        wait_until(lambda: unit(browser, "drones", "DR-0"), timeout=2, what="DR-0")
        before = seen(browser)
        landed = set(front.routes.values())
        assert len(landed) == 1
        victim = landed.pop()
        gateways[victim].signal(signal.SIGKILL)
        written = [publish(redis_client, keys, drones=[drone(f"DR-{i}", i)]) for i in range(1, 21)]
        wait_until(lambda: all(unit(browser, "drones", f"DR-{i}") for i in range(1, 21)), timeout=5,
                   what="every unit written around the failover")
        wait_until(lambda: state(browser)["lastId"] == written[-1], timeout=3, what="the last entry")
        after = seen(browser)
        assert after["snapshots"] == before["snapshots"], "resumed on the other gateway: no new snapshot"
        assert set(front.routes.values()) == set(ports), "its second connection went to the survivor"
        survivor = next(port for port in ports if port != victim)
        assert "resumed after " in gateways[survivor].output()
    finally:
        front.stop()
