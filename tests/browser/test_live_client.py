"""assets/common/live_client.js (an ES module) in a real Chromium against a real gateway process.

A bare page (no Dash) loads the script from a tiny HTTP server started by the
test and connects to the gateway; entries are XADDed to `{site}:live` as the
ingest script writes them. The page records the client's events so the test
can tell a resume from a snapshot.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson
import pytest

from dispatch.store.embedded import free_port
from tests.support.processes import ROOT, port_open, wait_until

pytestmark = pytest.mark.browser

PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>live client</title></head><body>
<script type="module">
  import { live as dispatchLive } from "/live_client.js";
  window.dispatchLive = dispatchLive;
  window.seen = {snapshots: [], deltas: [], states: []};
  dispatchLive.on("snapshot", function (s) { seen.snapshots.push(s.id); });
  dispatchLive.on("delta", function (d) { seen.deltas.push(d.id); });
  dispatchLive.on("status", function (s) { seen.states.push(s.state); });
  dispatchLive.connect(new URLSearchParams(location.search).get("ws"), {backoffBaseMs: 200, backoffMaxMs: 1000});
</script>
</body></html>
"""


class _Page(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/live_client.js"):
            body, kind = (ROOT / "assets" / "common" / "live_client.js").read_bytes(), "text/javascript"
        elif self.path.split("?")[0] == "/":
            body, kind = PAGE, "text/html"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def page_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def gateway_port() -> int:
    return free_port()


def start_gateway(services, port: int, page_origin: str):
    """The gateway, accepting the test's page (an exact origin: another port is another site)."""
    service = services("gateway", "dispatch.services.gateway", DISPATCH_GATEWAY_PORT=str(port),
                       DISPATCH_ALLOWED_ORIGINS=page_origin)
    wait_until(lambda: not service.running or ("following" in service.output() and port_open(port)),
               timeout=15, what="the gateway to listen")
    assert service.running, service.output()
    return service


def publish(redis_client, keys, **collections) -> str:
    return redis_client.xadd(keys.live, {name: orjson.dumps(units) for name, units in collections.items()}).decode()


def drone(drone_id: str, ts: int) -> dict:
    return {"drone_id": drone_id, "ts": ts, "lat": 48.11, "lon": -1.68, "alt_m": 80.0,
            "heading_deg": 90.0, "speed_mps": 6.5, "battery_pct": 81.0}


def unit(browser, collection: str, unit_id: str):
    return browser.execute_script(
        "var m = dispatchLive.picture[arguments[0]]; return m && m.has(arguments[1]) ? m.get(arguments[1]) : null;",
        collection, unit_id)


def seen(browser) -> dict:
    return browser.execute_script("return window.seen")


def state(browser) -> dict:
    return browser.execute_script("return dispatchLive.status")


def open_page(browser, page_server, port):
    browser.get(f"{page_server}/?ws=ws://127.0.0.1:{port}/live")
    wait_until(lambda: state(browser)["state"] == "live" and seen(browser)["snapshots"], timeout=10,
               what="the client to be live with its snapshot")


def test_a_published_delta_reaches_the_picture_within_a_second(browser, services, page_server, gateway_port,
                                                               redis_client, keys):
    start_gateway(services, gateway_port, page_server)
    open_page(browser, page_server, gateway_port)

    written = time.monotonic()
    entry_id = publish(redis_client, keys, drones=[drone("DR-07", 1)])
    wait_until(lambda: unit(browser, "drones", "DR-07"), timeout=1.0, interval=0.02,
               what="DR-07 in dispatchLive.picture within a second")
    print(f"delta visible in the page {1000 * (time.monotonic() - written):.0f} ms after XADD")
    assert unit(browser, "drones", "DR-07") == drone("DR-07", 1)
    assert state(browser)["lastId"] == entry_id

    publish(redis_client, keys, drones=[{"drone_id": "DR-07", "closed": True}], weather=[{"id": "W-1", "v": 1}])
    wait_until(lambda: unit(browser, "drones", "DR-07") is None, timeout=1.0, what="DR-07 removed once closed")
    assert unit(browser, "weather", "W-1") == {"id": "W-1", "v": 1}
    # The upstream state comes with the heartbeats (every second): the first may not have arrived yet.
    status = wait_until(lambda: (s := state(browser))["upstream"] == "ok" and s, timeout=2, what="a heartbeat")
    assert abs(status["lastMessageAt"] - time.time() * 1000) < 1500


def test_after_a_gateway_restart_the_client_resumes_without_gap_or_snapshot(browser, services, page_server,
                                                                            gateway_port, redis_client, keys):
    first = start_gateway(services, gateway_port, page_server)
    open_page(browser, page_server, gateway_port)
    publish(redis_client, keys, drones=[drone("DR-1", 1)])
    wait_until(lambda: unit(browser, "drones", "DR-1"), timeout=2, what="DR-1")
    before = seen(browser)

    first.stop()
    wait_until(lambda: state(browser)["state"] == "reconnecting", timeout=5, what="the client to notice")
    written = [publish(redis_client, keys, drones=[drone(f"DR-{i}", i)]) for i in range(2, 6)]
    time.sleep(1.5)  # a few failed attempts while it is down
    restarted = time.monotonic()
    second = start_gateway(services, gateway_port, page_server)
    wait_until(lambda: all(unit(browser, "drones", f"DR-{i}") for i in range(2, 6)), timeout=5,
               what="the units written while the gateway was down")
    print(f"picture complete {1000 * (time.monotonic() - restarted):.0f} ms after the gateway was back")
    wait_until(lambda: state(browser)["state"] == "live", timeout=3, what="live again")

    after = seen(browser)
    assert after["snapshots"] == before["snapshots"], "resumed with since=: no new snapshot"
    new_deltas = after["deltas"][len(before["deltas"]):]
    assert new_deltas and new_deltas[-1] == written[-1]
    assert unit(browser, "drones", "DR-1") == drone("DR-1", 1), "what it had before is still there"
    assert after["states"][-2:] == ["reconnecting", "live"]
    assert "resumed after " in second.output() and "from Redis" in second.output()
