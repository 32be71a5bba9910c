"""The machinery every drone bridge shares, in-process against the test's real Redis: what is written,
what is counted and where, what happens while Redis or the link is away."""

from __future__ import annotations

import threading
import time

from dispatch.domain.acl import RedisUser
from dispatch.domain.backoff import Backoff
from dispatch.domain.drone_fix import Drop, Fix
from dispatch.domain.telemetry_rate import RatePolicy, TelemetryRate
from dispatch.services.bridges.counters import Counters
from dispatch.services.bridges.telemetry_out import SourceError, TelemetryOut, pump
from dispatch.store.connection import connect
from tests.services.bridges.conftest import bridge_counters, telemetry_entries


def a_fix(drone="DR-1", ts=None, lat=48.11) -> Fix:
    return Fix(drone, ts or int(time.time() * 1000), lat, -1.68, 100.0, 90.0, 5.0, 80.0)


def make_out(client, keys, **rate) -> TelemetryOut:
    return TelemetryOut(client, keys, Counters("test"), TelemetryRate(RatePolicy(**rate)))


def test_fixes_are_written_as_the_bridge_user_and_counted_in_the_bridges_hash(role_client, redis_client, keys):
    out = make_out(role_client(RedisUser.BRIDGE), keys)
    out.take(a_fix())
    out.take(Drop("no_position", "DR-2"))
    out.take(Fix("DR-3", int(time.time() * 1000), 0.0, 0.0, 1.0, 1.0, 1.0, 1.0))  # (0, 0): before a GPS fix
    out.close()
    assert [entry.drone_id for entry in telemetry_entries(redis_client, keys)] == ["DR-1"]
    assert bridge_counters(redis_client, keys) == {"test:out": 1, "test:dropped:no_position": 1,
                                                   "test:dropped:no_fix": 1}


def test_what_ingest_would_dead_letter_is_counted_here_instead(role_client, redis_client, keys):
    out = make_out(role_client(RedisUser.BRIDGE), keys)
    out.take(a_fix(ts=int(time.time() * 1000) + 3_600_000))  # an hour ahead: the contract's clock check
    out.take(a_fix(drone="drone-4"))  # not a drone id
    out.close()
    assert telemetry_entries(redis_client, keys) == []
    assert bridge_counters(redis_client, keys) == {"test:dropped:invalid": 2}


def test_held_fixes_go_out_when_the_bridge_stops(role_client, redis_client, keys):
    out = make_out(role_client(RedisUser.BRIDGE), keys, max_hz=1)
    first, newest = a_fix(), a_fix(ts=int(time.time() * 1000) + 100, lat=48.1101)
    out.take(first)
    out.take(newest)
    out.tick()
    assert len(telemetry_entries(redis_client, keys)) == 1
    out.close()
    assert [entry.lat for entry in telemetry_entries(redis_client, keys)] == [48.11, 48.1101]


def test_while_redis_is_away_fixes_are_dropped_counted_and_the_counts_kept(redis_client, keys):
    away = connect("redis://127.0.0.1:9/0")  # nothing listens on the discard port
    out = make_out(away, keys)
    out.take(a_fix())
    out.tick()
    out.take(a_fix(drone="DR-2"))
    out.tick()  # within the backoff: not even tried
    assert out.counters.totals["dropped:redis_unavailable"] == 2
    assert out.counters.flush(away, keys.bridge_stats) is False
    assert out.counters.flush(redis_client, keys.bridge_stats) is True
    assert bridge_counters(redis_client, keys) == {"test:dropped:redis_unavailable": 2}
    assert out.counters.flush(redis_client, keys.bridge_stats) is True  # nothing counted twice
    assert bridge_counters(redis_client, keys) == {"test:dropped:redis_unavailable": 2}


class FlakyLink:
    """A link that fails to open twice, then gives one fix and fails again."""

    def __init__(self):
        self.opened = 0
        self.given = False

    def describe(self):
        return "a flaky link"

    def open(self):
        self.opened += 1
        if self.opened <= 2:
            raise SourceError("unreachable")

    def poll(self, timeout_s):
        time.sleep(timeout_s)
        if not self.given:
            self.given = True
            return [a_fix()]
        raise SourceError("closed by the peer")

    def close(self):
        pass


def test_the_link_is_reopened_after_each_failure_with_a_growing_wait(role_client, redis_client, keys):
    out = make_out(role_client(RedisUser.BRIDGE), keys)
    link, stop = FlakyLink(), threading.Event()
    backoff = Backoff(base=0.05, cap=0.2)
    worker = threading.Thread(target=pump, args=(link, out, stop), kwargs={"poll_s": 0.01, "backoff": backoff})
    started = time.monotonic()
    worker.start()
    while link.opened < 4 and time.monotonic() - started < 5:
        time.sleep(0.01)
    stop.set()
    worker.join(timeout=5)
    assert link.opened >= 4
    assert time.monotonic() - started >= 0.05 + 0.1 + 0.05  # waits of the 1st, 2nd, then (reset) 1st failure
    assert len(telemetry_entries(redis_client, keys)) == 1
    assert bridge_counters(redis_client, keys)["test:reconnects"] >= 3
