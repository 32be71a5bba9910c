"""When the demo launcher starts a process again after it exited: pure, tested without processes.

A process that dies is started again at once-ish (0.5 s), and if it keeps dying, less and less often
(doubling up to 15 s): a crash loop (Redis gone, a port taken) neither spins a core nor floods the
terminal, and a process that recovers is back within the cap. A process that ran a while before
exiting starts a fresh count: one crash an hour is always restarted after 0.5 s.
"""

from __future__ import annotations

import signal

from ..domain.backoff import capped_exponential

RESTART_BASE_S = 0.5
RESTART_CAP_S = 15.0
# Up this long before exiting: the exit is a new incident, not part of a crash loop.
STABLE_AFTER_S = 30.0


def restart_delay_s(failures: int, *, base_s: float = RESTART_BASE_S, cap_s: float = RESTART_CAP_S) -> float:
    """Capped exponential backoff: 0.5, 1, 2, 4, 8, 15, 15... s before the n-th consecutive restart."""
    return float(capped_exponential(failures, base=base_s, cap=cap_s))


def failures_after_exit(failures: int, uptime_s: float, *, stable_after_s: float = STABLE_AFTER_S) -> int:
    """The consecutive-failure count once a process has exited after `uptime_s` seconds."""
    return 1 if uptime_s >= stable_after_s else failures + 1


def describe_exit(returncode: int) -> str:
    """`code 1`, or `killed by SIGKILL` (Popen gives -signal for a process a signal ended)."""
    if returncode >= 0:
        return f"code {returncode}"
    try:
        return f"killed by {signal.Signals(-returncode).name}"
    except ValueError:
        return f"killed by signal {-returncode}"
