"""Per-drone rate: at least 1 Hz, at most the configured rate, a change that matters at once, and the
newest held fix always sent in the end."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.domain.drone_fix import Fix
from dispatch.domain.geo import destination
from dispatch.domain.telemetry_rate import RatePolicy, TelemetryRate

T0 = 1_767_225_600_000


def at(ms: int, *, drone="DR-1", lat=48.11, lon=-1.68, battery=80.0) -> Fix:
    return Fix(drone, T0 + ms, lat, lon, 100.0, 90.0, 5.0, battery)


def test_the_first_fix_goes_at_once_then_one_per_interval():
    rate = TelemetryRate(RatePolicy(max_hz=2))
    assert rate.offer(at(0), T0) == at(0)
    assert rate.offer(at(100), T0 + 100) is None
    assert rate.offer(at(200), T0 + 200) is None
    assert rate.due(T0 + 499) == []
    assert rate.due(T0 + 500) == [at(200)]  # the newest held, not the first
    assert rate.superseded == 1
    assert rate.offer(at(1000), T0 + 1000) == at(1000)


def test_each_drone_has_its_own_interval():
    rate = TelemetryRate(RatePolicy(max_hz=1))
    assert rate.offer(at(0, drone="DR-1"), T0) is not None
    assert rate.offer(at(10, drone="DR-2"), T0 + 10) is not None
    assert rate.offer(at(20, drone="DR-1"), T0 + 20) is None


def test_a_jump_or_a_battery_step_goes_at_once_but_not_closer_than_the_floor():
    rate = TelemetryRate(RatePolicy(max_hz=1, jump_m=25, floor_ms=100))
    rate.offer(at(0), T0)
    far_lat, far_lon = destination(48.11, -1.68, 30.0, 0.0)
    moved = at(150, lat=far_lat, lon=far_lon)
    assert rate.offer(moved, T0 + 150) == moved
    near_lat, near_lon = destination(far_lat, far_lon, 10.0, 0.0)
    assert rate.offer(at(300, lat=near_lat, lon=near_lon), T0 + 300) is None  # 10 m: waits
    drained = at(400, lat=near_lat, lon=near_lon, battery=78.0)
    assert rate.offer(drained, T0 + 400) == drained
    flood = at(450, lat=far_lat, lon=far_lon, battery=50.0)
    assert rate.offer(flood, T0 + 450) is None  # within the floor: held...
    assert rate.due(T0 + 500) == [flood]  # ...and out as soon as the floor has passed


def test_an_older_fix_than_the_last_sent_is_never_sent():
    rate = TelemetryRate(RatePolicy(max_hz=1))
    rate.offer(at(1000), T0)
    assert rate.offer(at(500), T0 + 2000) is None
    assert rate.due(T0 + 5000) == []


def test_the_rate_must_be_at_least_once_a_second():
    with pytest.raises(ValueError, match="at least 1"):
        RatePolicy(max_hz=0.5)


@settings(max_examples=200)
@given(st.lists(st.integers(1, 400), min_size=1, max_size=200), st.floats(1, 20))
def test_sent_at_most_max_rate_at_least_1_hz_and_the_last_fix_always_out(gaps, max_hz):
    """A drone reporting every 1-400 ms, same place and battery: sends are never closer than the interval,
    never further apart than a second plus the reporting gap, and the last fix is eventually sent."""
    policy = RatePolicy(max_hz=max_hz)
    rate = TelemetryRate(policy)
    sent_at, now, last = [], 0, None
    for gap in gaps:
        now += gap
        for step in range(0, gap, 50):  # the bridge ticks every 50 ms between packets
            if rate.due(T0 + now - gap + step):
                sent_at.append(now - gap + step)
        last = at(now)
        if rate.offer(last, T0 + now) is not None:
            sent_at.append(now)
    flushed = rate.due(T0 + now + 1000)
    assert (flushed and flushed[-1] == last) or sent_at[-1] == now
    for before, after in zip(sent_at, sent_at[1:]):
        assert after - before >= policy.interval_ms - 1e-9
        assert after - before <= 1000 + 400 + 50
