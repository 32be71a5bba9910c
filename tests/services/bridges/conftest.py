"""Fixtures of the bridge tests: the real bridge process (`python -m dispatch bridge <kind>`, signed in to
Redis as the bridge user), free ports, and the telemetry it wrote, judged by the contract's validator."""

from __future__ import annotations

import socket

import pytest

from dispatch.domain.acl import RedisUser
from dispatch.domain.models import Telemetry
from dispatch.domain.validate import validate
from tests.support.processes import python_module, wait_until


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def start_bridge(settings):
    """`start_bridge("mavlink", "--listen", ...)`: the bridge process, once it says it is listening."""
    started = []

    def start(kind: str, *args: str, ready: str = "listening:"):
        service = python_module(f"bridge-{kind}", "dispatch", settings, "bridge", kind, "--stats-every", "1",
                                *args, role=RedisUser.BRIDGE).start()
        started.append(service)
        wait_until(lambda: ready in service.output() or not service.running, timeout=15,
                   what=f"the {kind} bridge to start")
        assert service.running, service.output()
        return service

    yield start
    for service in started:
        service.stop()


def telemetry_entries(client, keys) -> list[Telemetry]:
    """Every entry of the telemetry input stream, each accepted by the contract's validator (a test fails
    on the first one that ingest would dead-letter)."""
    found = []
    for entry_id, fields in client.xrange(keys.in_telemetry):
        received_ms = int(entry_id.split(b"-")[0])
        verdict = validate("telemetry", fields, received_ms)
        assert isinstance(verdict, Telemetry), f"{fields}: {verdict}"
        found.append(verdict)
    return found


def bridge_counters(client, keys) -> dict[str, int]:
    return {name.decode(): int(value) for name, value in client.hgetall(keys.bridge_stats).items()}


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory):
    """One real broker for the session (tests/support/mosquitto.py)."""
    from tests.support.mosquitto import Mosquitto

    broker = Mosquitto(tmp_path_factory.mktemp("mosquitto")).start()
    yield broker
    broker.stop()
