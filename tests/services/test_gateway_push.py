"""Adaptive coalescing in the gateway process (issue 15): the tailer flushes as it reads.

The ticker is set to 5 s here, so anything arriving sooner came from the tailer's own flush or the
deferred-flush timer, not from the tick; no timing is asserted beyond that margin.
"""

from __future__ import annotations

import dataclasses
import time

import pytest

from tests.services.test_gateway import Client, RunningGateway, drone, publish, units_of
from tests.services.test_gateway import _close_clients, _supervisor_session  # noqa: F401  (autouse fixtures)

SLOW_TICK_MS = 5_000


@pytest.fixture
def slow_tick_gateway(settings):
    running = RunningGateway(dataclasses.replace(settings, gateway_tick_ms=SLOW_TICK_MS,
                                                 gateway_max_messages_per_s=2)).start()
    yield running
    running.stop()


def test_an_entry_reaches_an_idle_client_without_waiting_for_the_tick(slow_tick_gateway, redis_client, keys):
    client = Client(slow_tick_gateway.url)
    assert client.next()["type"] == "snapshot"
    last = publish(redis_client, keys, drones=[drone("DR-1", 1)])
    message = client.next(timeout=SLOW_TICK_MS / 1000 / 2)
    assert message["type"] == "delta" and message["id"] == last


def test_a_busy_stream_is_coalesced_to_the_bound_and_nothing_is_lost(slow_tick_gateway, redis_client, keys):
    client = Client(slow_tick_gateway.url)
    client.next()
    for i in range(10):  # 1 s of entries at 10 a second, against a bound of 2 deltas a second
        last = publish(redis_client, keys, drones=[drone("DR-1", i), drone(f"DR-{100 + i}", i)])
        time.sleep(0.1)
    received = client.collect(SLOW_TICK_MS / 1000 / 2)
    assert 2 <= len(received) <= 4, "at most 2 a second over ~1.5 s, deferred deltas sent by the timer"
    assert received[-1]["id"] == last
    for message in received:
        ids = [d["drone_id"] for d in message["drones"]]
        assert len(ids) == len(set(ids)), "one version of a unit per message"
    assert [d["ts"] for d in units_of(received) if d["drone_id"] == "DR-1"][-1] == 9
    assert {d["drone_id"] for d in units_of(received)} == {"DR-1"} | {f"DR-{100 + i}" for i in range(10)}
