from __future__ import annotations

import time

from dispatch.clock import now_ms


def test_now_is_the_wall_clock_in_milliseconds():
    before = int(time.time() * 1000)
    now = now_ms()
    assert isinstance(now, int) and before - 1 <= now <= int(time.time() * 1000) + 1


def test_a_given_time_wins_over_the_wall_clock():
    assert now_ms(1_700_000_000_123) == 1_700_000_000_123
    assert now_ms(12.9) == 12
