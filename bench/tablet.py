"""Patrol tablet: how fast an assignment reaches the tablet, a tap reaches Redis, a resend is answered.

    .venv/bin/python bench/tablet.py [--probes 30] [--api 200]

Starts a private redis-server and the real processes (ingest, gateway, web
under gunicorn), signs a tablet in as BAC-12 in a real headless Chromium at
1280x800, and measures, each as median and p95:

1. assignment -> tablet: from `assign()` returning (the supervisor's click
   done) to the tablet's alert banner showing (a MutationObserver in the page
   stamps Date.now(); same machine clock as time.time() here). Each probe is
   then cancelled so the patrol is free for the next.
2. tap -> applied: from the tap on "Acknowledge" (stamped in the page) to
   the acknowledged event on {site}:assignments (its stream id is Redis's
   clock, the same machine's).
3. POST /api/patrol/action over HTTP (urllib, keep-alive off): a status
   report applied for the first time, then the same action id resent (the
   recorded answer, nothing applied).
"""

from __future__ import annotations

import argparse
import sys
import shutil
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402
import redis  # noqa: E402

from bench.common import summary, web_stack_settings  # noqa: E402
from dispatch.keys import Keys  # noqa: E402
from dispatch.store import accounts  # noqa: E402
from dispatch.store.assignments import assign, cancel  # noqa: E402
from dispatch.store.embedded import EmbeddedRedis, free_port  # noqa: E402
from dispatch.web.auth import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE  # noqa: E402
from tests.browser.screen import patrol, sighting, telemetry  # noqa: E402
from tests.browser.chromium import TABLET, start_chromium  # noqa: E402
from tests.support.processes import port_open, python_module, wait_until  # noqa: E402

RENNES = (48.111, -1.680)
PATROL = "BAC-12"

WATCH = """
window.__seen = [];
const root = document.getElementById('tab-root');
new MutationObserver(() => {
  if (root.classList.contains('is-alerting') && root.dataset.assignmentId)
    if (!__seen.length || __seen[__seen.length - 1].id !== root.dataset.assignmentId)
      __seen.push({id: root.dataset.assignmentId, at: Date.now()});
}).observe(root, {attributes: true});
"""


def push_probes(driver, client: redis.Redis, keys: Keys, count: int) -> list[float]:
    latencies = []
    for n in range(count):
        seen = sighting(RENNES[0] + 0.004, RENNES[1] + 0.004, priority=1, sighting_id=f"bench-{n:04d}")
        client.xadd(keys.in_sightings, seen)
        wait_until(lambda: client.hexists(keys.sightings, seen["sighting_id"]), what="the sighting ingested")
        wait_until(lambda: client.zscore(keys.patrols_available, PATROL) is not None, what=f"{PATROL} free")
        created = assign(client, keys, sighting_id=seen["sighting_id"], patrol_id=PATROL, supervisor_id="SUP-1")
        sent_ms = time.time() * 1000
        shown = wait_until(lambda: [s for s in driver.execute_script("return window.__seen")
                                    if s["id"] == created.assignment_id], timeout=10, interval=0.01,
                           what="the alert on the tablet")
        latencies.append(shown[0]["at"] - sent_ms)
        cancel(client, keys, assignment_id=created.assignment_id, supervisor_id="SUP-1")
        wait_until(lambda: driver.execute_script("return document.getElementById('tab-root').dataset.assignmentId")
                   == "", what="the tablet cleared")
    return latencies


def tap_probes(driver, client: redis.Redis, keys: Keys, count: int) -> list[float]:
    latencies = []
    for n in range(count):
        seen = sighting(RENNES[0] + 0.004, RENNES[1] - 0.004, sighting_id=f"tap-{n:04d}")
        client.xadd(keys.in_sightings, seen)
        wait_until(lambda: client.hexists(keys.sightings, seen["sighting_id"]) and
                   client.zscore(keys.patrols_available, PATROL) is not None, what="sighting and free patrol")
        created = assign(client, keys, sighting_id=seen["sighting_id"], patrol_id=PATROL, supervisor_id="SUP-1")
        wait_until(lambda: driver.execute_script(
            "return dispatchTablet.enabledActions().indexOf('acknowledge') >= 0 && "
            "document.getElementById('tab-root').dataset.assignmentId === arguments[0]", created.assignment_id),
            what="the acknowledge button")
        tapped = driver.execute_script("""const at = Date.now();
            document.querySelector("#tab-actions button[data-action='acknowledge']").click(); return at;""")

        def applied():
            for entry_id, fields in client.xrevrange(keys.assignments, count=5):
                if fields[b"assignment_id"].decode() == created.assignment_id and fields[b"state"] == b"acknowledged":
                    return int(entry_id.split(b"-")[0])
            return None

        latencies.append(wait_until(applied, timeout=10, interval=0.005, what="acknowledged in Redis") - tapped)
        cancel(client, keys, assignment_id=created.assignment_id, supervisor_id="SUP-1")
        wait_until(lambda: driver.execute_script("return document.getElementById('tab-root').dataset.assignmentId")
                   == "", what="the tablet cleared")
    return latencies


def api_probes(web_url: str, cookie: str, csrf: str, count: int) -> tuple[list[float], list[float]]:
    first, resent = [], []
    for n in range(count):
        body = orjson.dumps({"action_id": str(uuid.uuid4()), "action": "unavailable" if n % 2 == 0 else "available"})
        timings = []
        for _ in range(2):
            request = urllib.request.Request(f"{web_url}/api/patrol/action", data=body, method="POST", headers={
                "Content-Type": "application/json", "Cookie": cookie, CSRF_HEADER: csrf, "Connection": "close"})
            started = time.perf_counter()
            with urllib.request.urlopen(request, timeout=10) as response:
                answer = orjson.loads(response.read())
            timings.append((time.perf_counter() - started) * 1000)
            assert answer["ok"], answer
        assert answer["replayed"] is True
        first.append(timings[0])
        resent.append(timings[1])
    return first, resent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probes", type=int, default=30)
    parser.add_argument("--api", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(Path(tmp) / "redis", port=free_port(), persistent=False).start()
        settings = web_stack_settings(server.url, tmp)
        keys = Keys(settings.site)
        web_url = f"http://127.0.0.1:{settings.web_port}"
        client = redis.Redis.from_url(server.url)
        services, driver = [], None
        try:
            ingest = python_module("ingest", "dispatch.services.ingest", settings).start()
            gateway = python_module("gateway", "dispatch.services.gateway", settings).start()
            web = python_module("web", "gunicorn", settings, "app:server", "-b", web_url.removeprefix("http://"),
                                "--workers", "1", "--threads", "4", "--no-control-socket").start()
            services += [ingest, gateway, web]
            wait_until(lambda: "following" in gateway.output() and port_open(settings.gateway_port), timeout=20,
                       what=f"the gateway\n{gateway.output()}")
            wait_until(lambda: port_open(int(web_url.rsplit(":", 1)[1])), timeout=30, what=f"the web\n{web.output()}")
            client.xadd(keys.in_patrols, patrol(PATROL, *RENNES))
            client.xadd(keys.in_telemetry, telemetry("DR-07", RENNES[0] + 0.004, RENNES[1]))
            wait_until(lambda: client.zscore(keys.patrols_available, PATROL) is not None, what="the patrol ingested")

            session_id, identity = accounts.create_session(client, keys, user_id=PATROL, role="patrol",
                                                           patrol_id=PATROL)
            driver, profile = start_chromium(TABLET, log_console=False)
            for name, value, http_only in ((SESSION_COOKIE, session_id, True), (CSRF_COOKIE, identity.csrf_token,
                                                                                 False)):
                driver.execute_cdp_cmd("Network.setCookie", {"name": name, "value": value, "domain": "127.0.0.1",
                                                             "path": "/", "httpOnly": http_only})
            driver.get(f"{web_url}/patrol")
            wait_until(lambda: driver.execute_script(
                "return !!(window.dispatchTablet && dispatchTablet.started) && "
                "document.getElementById('tab-link').dataset.state === 'live'"), timeout=20, what="the tablet live")
            driver.execute_script(WATCH)
            print(f"Patrol tablet, 1280x800 headless Chromium; gateway tick {settings.gateway_tick_ms} ms", flush=True)
            pushed = push_probes(driver, client, keys, args.probes)
            tapped = tap_probes(driver, client, keys, args.probes)
            other_session, other = accounts.create_session(client, keys, user_id="GN-4", role="patrol",
                                                           patrol_id="GN-4")
            client.xadd(keys.in_patrols, patrol("GN-4", RENNES[0] - 0.01, RENNES[1]))
            wait_until(lambda: client.hexists(keys.patrols, "GN-4"), what="GN-4 ingested")
            first, resent = api_probes(web_url, f"{SESSION_COOKIE}={other_session}", other.csrf_token, args.api)
        finally:
            if driver is not None:
                driver.quit()
                shutil.rmtree(profile, ignore_errors=True)
            for service in reversed(services):
                service.stop()
            client.close()
            server.stop()
    summary("assignment made -> alert on the tablet", pushed, width=52)
    summary("tap Acknowledge -> acknowledged in Redis", tapped, width=52)
    summary("POST /api/patrol/action, first time (applied)", first, width=52)
    summary("POST /api/patrol/action, same id resent (recorded answer)", resent, width=52)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
