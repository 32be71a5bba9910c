"""Capped exponential backoff: the one formula of every wait that grows with consecutive failures.

base, 2·base, 4·base ... at most cap. The processes' retry loops after a Redis error (0.1 s up to 5 s),
the demo launcher's restarts (0.5 s up to 15 s) and the sign-in throttle (in ms) all wait this way.
Pure: the caller sleeps. redis-py's `ExponentialBackoff` has the same formula but counts from 0, raises
OverflowError past about a thousand failures (an hour-long outage at 5 s) and would bring redis-py
into the domain; it stays on the connections' own `Retry` (store/connection.py, gateway.py).
"""

from __future__ import annotations

MAX_DOUBLINGS = 64  # far past any cap; keeps 2**n small whatever the count


def capped_exponential(failures: int, *, base: float, cap: float) -> float:
    """The wait after the `failures`-th consecutive failure (from 1): base·2^(failures-1), at most `cap`;
    nothing (0) before any failure. Integer base and cap give an integer."""
    if failures < 1:
        return base * 0
    return min(cap, base * 2 ** min(failures - 1, MAX_DOUBLINGS))


class Backoff:
    """A retry loop's wait: `failed()` gives the next, longer one; `succeeded()` starts again from `base`."""

    def __init__(self, base: float = 0.1, cap: float = 5.0) -> None:
        self.base, self.cap = base, cap
        self.failures = 0

    def failed(self) -> float:
        self.failures += 1
        return capped_exponential(self.failures, base=self.base, cap=self.cap)

    def succeeded(self) -> None:
        self.failures = 0
