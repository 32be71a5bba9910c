"""A window drawn while it loads (issue 15): which instants a partly read window already answers exactly,
and when to hand the page a new, longer prefix.

The loader (store/history.py) reads the small context streams first, then the
position streams together, slice by slice in arrival (stream id) time, so that
after a slice ending at `read_until_ms` every position that arrived by then has
been read. A message arrives within `late_ms` of its ts (the tolerance the whole
load already has: a message later than that is missed if its ts falls in the
window's last `late_ms`), so every message with ts <= read_until_ms - late_ms is
in: the picture at any instant up to there is the one the whole window gives.
A message arriving more than `late_ms` after its ts shows up once the load
reaches its arrival, as it would in a full load started then.

Building a prefix costs a sort of what is read so far, and pickling it for the
other web workers: published at the head (the window's start: the first frame),
then at most every `min_interval_s`, and spaced so that building them stays a
bounded share (`max_share`) of the load's wall time.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_MIN_INTERVAL_S = 1.5
DEFAULT_MAX_SHARE = 0.1


def loaded_until(read_until_ms: int, from_ms: int, to_ms: int, late_ms: int) -> int | None:
    """The last instant of [from_ms, to_ms] answered exactly once every position that arrived by
    `read_until_ms` is read; None while not even the window's start is."""
    until = read_until_ms - late_ms
    if until < from_ms:
        return None
    return min(until, to_ms)


def slice_ends(start_ms: int, end_ms: int, entries: int, per_slice: int, head_ms: int | None = None) -> list[int]:
    """The (inclusive) ends of the arrival-time slices covering [start_ms, end_ms], sized so that a slice
    holds about `per_slice` of the `entries` spread over the span; `head_ms` (the arrival that makes the
    window's start exact) is one of the ends, so the first frame needs no more than it."""
    if end_ms < start_ms:
        return []
    span = end_ms - start_ms + 1
    step = max(1_000, span * max(1, per_slice) // max(1, entries))
    ends = set(range(start_ms + step - 1, end_ms, step)) | {end_ms}
    if head_ms is not None and start_ms <= head_ms < end_ms:
        ends.add(head_ms)
    return sorted(ends)


@dataclass
class Checkpoints:
    """When the loader publishes a prefix: first as soon as the window's start is answered, then once at
    least `min_interval_s` passed and the time since the last one is at least the last one's cost over
    `max_share` (so building prefixes takes at most about `max_share` of the load)."""

    min_interval_s: float = DEFAULT_MIN_INTERVAL_S
    max_share: float = DEFAULT_MAX_SHARE
    last_at_s: float | None = None
    last_cost_s: float = 0.0
    spent_s: float = 0.0
    published: int = 0

    def due(self, now_s: float, until_ms: int | None, to_ms: int) -> bool:
        if until_ms is None or until_ms >= to_ms:
            return False  # nothing to show yet, or the whole window comes next anyway
        if self.last_at_s is None:
            return True
        wait = max(self.min_interval_s, self.last_cost_s / self.max_share if self.max_share > 0 else 0.0)
        return now_s - self.last_at_s >= wait

    def done(self, started_s: float, finished_s: float) -> None:
        """A prefix built and handed over between these two instants."""
        self.last_at_s = finished_s
        self.last_cost_s = finished_s - started_s
        self.spent_s += self.last_cost_s
        self.published += 1
