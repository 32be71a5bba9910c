"""The wall clock in epoch milliseconds, the one time source of the processes and pages.

Stream entries, records and the audit trail are stamped in milliseconds since the epoch (UTC);
functions that take an optional `now_ms` (tests pass their own time) call `now_ms(given)`.
"""

from __future__ import annotations

import time


def now_ms(given: int | None = None) -> int:
    """`given` when there is one (a test's or a caller's time), else now, in ms since the epoch."""
    return time.time_ns() // 1_000_000 if given is None else int(given)
