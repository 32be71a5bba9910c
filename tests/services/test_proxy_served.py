"""The web app behind its private nginx (dispatch/services/proxy.py), as `make run` serves it.

nginx keeps the app's size limit (same 413, same JSON), passes the browser's address on so that the
audit trail and the per-address sign-in limits see the browser and not the proxy (a forged
X-Forwarded-For is overwritten), and keeps every file it writes in its own folder.
"""

from __future__ import annotations

import http.client
import re
import subprocess
import urllib.parse

import orjson
import pytest

from dispatch.services import proxy
from dispatch.domain.audit import Action
from dispatch.store import accounts
from dispatch.store import audit as audit_store
from tests.support import served

BROWSER_ADDRESS = "127.0.0.2"  # a loopback address that is not the proxy's own 127.0.0.1


@pytest.fixture
def stack(settings, tmp_path):
    running = served.behind_proxy(settings, tmp_path / "var")
    yield running
    running.stop()


def _request(stack, method, path, body=b"", headers=None, source=BROWSER_ADDRESS):
    connection = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=10, source_address=(source, 0))
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response, response.read()
    finally:
        connection.close()


def test_nginx_accepts_the_generated_configuration(settings, tmp_path):
    config = proxy.ProxyConfig("127.0.0.1", 8050, 8051, tmp_path / "nginx")
    proxy.prepare(config)
    binary = proxy.nginx_binary()
    checked = subprocess.run(proxy.command(config, binary, test=True), capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr


def test_a_body_over_4_mib_is_refused_by_nginx_with_the_apps_json_413(stack):
    response, body = _request(
        stack,
        "POST",
        "/_dash-update-component",
        body=b"x" * (proxy.MAX_BODY_BYTES + 1),
        headers={"Content-Type": "application/json"},
    )
    assert response.status == 413
    assert response.getheader("Content-Type") == "application/json"
    assert response.getheader("Cache-Control") == "no-store"
    assert response.getheader("X-Content-Type-Options") == "nosniff"
    assert orjson.loads(body) == {"error": "request too large: at most 4 MiB"}


def test_a_body_within_the_limit_reaches_the_app(stack):
    response, _ = _request(
        stack,
        "POST",
        "/_dash-update-component",
        body=b"x" * proxy.MAX_BODY_BYTES,
        headers={"Content-Type": "application/json"},
    )
    assert response.status not in (413, 502), response.status  # the app's own answer (not signed in)


def test_the_audit_trail_records_the_browsers_address_not_the_proxys_nor_a_forged_one(stack, redis_client, keys):
    accounts.create_account(redis_client, keys, user_id="SUP-7", role="supervisor", password="correct horse 7")
    response, page = _request(stack, "GET", "/login")
    nonce = re.search(r"dispatch_signin=([^;]+)", response.getheader("Set-Cookie")).group(1)
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
    form = urllib.parse.urlencode({"user_id": "SUP-7", "password": "correct horse 7", "csrf_token": token})
    response, _ = _request(
        stack,
        "POST",
        "/login",
        body=form.encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"dispatch_signin={nonce}",
            "X-Forwarded-For": "203.0.113.9",
        },
    )
    assert response.status == 303
    signed_in = [e for e in audit_store.read(redis_client, keys) if e.action == Action.SIGN_IN]
    assert [e.origin for e in signed_in] == [BROWSER_ADDRESS]


def test_nginx_keeps_its_files_in_its_own_folder_and_is_the_proxy_process(stack):
    folder = stack.settings.data_dir / "nginx"
    assert {"nginx.conf", "nginx.pid", "error.log", "temp"} <= {p.name for p in folder.iterdir()}
    proxy_service = next(s for s in stack.services if s.name == "proxy")
    assert int((folder / "nginx.pid").read_text()) == proxy_service.process.pid  # exec'd: signals reach nginx
