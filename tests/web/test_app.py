"""The web app's HTTP API against the private Redis, through Flask's test client.

The picture is built by the real ingest process from entries XADDed to the
input streams, so these tests also pin the JSON shape the ingest writes and
the pages read.
"""

from __future__ import annotations

import dataclasses
import re
import threading
import time

import orjson
import pytest

from dispatch.clock import now_ms
from dispatch.keys import Keys
from dispatch.settings import Settings
from dispatch.store import accounts
from dispatch.store.connection import connect
from dispatch.store.embedded import free_port
from dispatch.web.app import create_app
from tests.support.processes import python_module, wait_until
from dispatch.ui.pages.screen import ids as screen_ids


@pytest.fixture
def ingest(settings):
    service = python_module("ingest", "dispatch.services.ingest", settings).start()
    yield service
    service.stop()


def signed_in(app, settings, redis_url=None):
    """A test client holding a supervisor's session (every route but /healthz and sign-in needs one)."""
    client = app.server.test_client()
    redis = connect(redis_url or settings.redis_url)
    try:
        session_id, _ = accounts.create_session(redis, Keys(settings.site), user_id="SUP-1", role="supervisor")
    finally:
        redis.close()
    client.set_cookie("dispatch_session", session_id)
    return client


@pytest.fixture
def client(settings):
    return signed_in(create_app(settings), settings)


def test_snapshot_serves_the_picture_built_by_ingest(client, ingest, redis_client, keys):
    ts = now_ms()
    redis_client.xadd(keys.inputs["telemetry"], {
        "drone_id": "DR-07", "ts": ts, "lat": 48.111, "lon": -1.68, "alt_m": 80,
        "heading_deg": 90, "speed_mps": 6.5, "battery_pct": 81})
    redis_client.xadd(keys.inputs["patrol"], {
        "patrol_id": "BAC-12", "ts": ts, "lat": 48.105, "lon": -1.67, "status": "available"})

    def complete():
        body = orjson.loads(client.get("/api/snapshot").data)
        return body if body.get("drones") and body.get("patrols") else None

    body = wait_until(complete, timeout=15, what=f"ingest to build the picture\n{ingest.output()}")
    assert body["site"] == keys.site
    assert body["live_id"] != "0-0"
    assert body["drones"] == [{"drone_id": "DR-07", "ts": ts, "lat": 48.111, "lon": -1.68, "alt_m": 80.0,
                               "heading_deg": 90.0, "speed_mps": 6.5, "battery_pct": 81.0}]
    assert [(p["patrol_id"], p["status"]) for p in body["patrols"]] == [("BAC-12", "available")]
    assert body["sightings"] == []


def test_snapshot_is_json_and_never_cached(client):
    response = client.get("/api/snapshot")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    body = orjson.loads(response.data)
    assert (body["drones"], body["patrols"], body["sightings"], body["live_id"]) == ([], [], [], "0-0")


def test_healthz_ok_with_redis(client):
    response = client.get("/healthz")
    assert (response.status_code, response.data) == (200, b"ok")
    assert response.headers["Cache-Control"] == "no-store"


def test_unreachable_redis_gives_503_with_a_reason_then_answers_fast(settings):
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    client = create_app(dataclasses.replace(settings, redis_url=nowhere)).server.test_client()
    client.set_cookie("dispatch_session", "a-session-id")  # checking it needs Redis too

    health = client.get("/healthz")
    assert health.status_code == 503
    reason = health.get_data(as_text=True)
    assert "Redis unavailable" in reason and "refused" in reason.lower(), reason

    # The client retried for seconds above; now the breaker answers at once, so
    # polling screens cannot tie up every server thread while Redis is down.
    started = time.monotonic()
    snapshot = client.get("/api/snapshot")
    assert time.monotonic() - started < 0.5
    assert snapshot.status_code == 503
    assert snapshot.headers["Cache-Control"] == "no-store"
    assert "Redis unavailable" in orjson.loads(snapshot.data)["error"]


def test_without_redis_url_the_app_builds_and_says_what_to_set():
    client = create_app(Settings.from_env({})).server.test_client()
    assert client.get("/login").status_code == 200  # the sign-in page still loads
    health = client.get("/healthz")
    assert health.status_code == 503
    assert "REDIS_URL is not set" in health.get_data(as_text=True)


def test_every_app_of_a_process_gets_the_page_callbacks(settings):
    """Tests and workers may build several apps: each must answer its own screen's requests."""
    for _ in range(2):
        client = signed_in(create_app(settings), settings)
        outputs = " ".join(c["output"] for c in orjson.loads(client.get("/_dash-dependencies").data))
        assert f"{screen_ids.NEAREST_RESULT}.data" in outputs and f"{screen_ids.ACTION_RESULT}.data" in outputs


def test_a_fresh_worker_serves_a_pages_parallel_script_requests(settings):
    """The browser fetches a page's scripts in parallel: the first requests of a new gunicorn
    worker must all succeed (Dash's lazy set-up used to answer some with a 500, leaving a blank page)."""
    index = signed_in(create_app(settings), settings).get("/").get_data(as_text=True)
    scripts = re.findall(r'<script src="(/_dash-component-suites/[^"]+)"', index)
    assert len(scripts) >= 5
    fresh = create_app(settings).server  # no request has reached this one yet
    start = threading.Barrier(len(scripts))
    statuses: list[int] = []

    def fetch(path: str) -> None:
        client = fresh.test_client()
        start.wait()
        statuses.append(client.get(path).status_code)

    threads = [threading.Thread(target=fetch, args=(path,)) for path in scripts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert statuses == [200] * len(scripts)
