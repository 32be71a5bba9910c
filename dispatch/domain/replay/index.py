"""Per-unit time indexes for replay: the last message of every unit at any instant, and track thinning.

Pure numpy. A kind of unit (drones, patrols, sightings, assignments) is
sorted once by (unit, ts); "the last row of each unit at or before t" is then
one `np.searchsorted` over a combined key, for every unit and any number of
instants at once, instead of a scan per frame.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


class UnitTimeline:
    """Rows of one kind sorted by (unit code, ts): the last row of each unit at any instant.

    The combined key `code * span + (ts - t0)` is increasing over the sorted
    rows, so one searchsorted answers for every unit (and every instant) at
    once; a unit with no row at or before the instant gets -1.
    """

    def __init__(self, codes: np.ndarray, ts: np.ndarray, n_units: int):
        self.codes = np.asarray(codes, dtype=np.int64)
        self.ts = np.asarray(ts, dtype=np.int64)
        self.n_units = n_units
        self.t0 = int(self.ts.min()) if len(self.ts) else 0
        self.span = (int(self.ts.max()) - self.t0 + 2) if len(self.ts) else 2
        if n_units * self.span >= 2**62:
            raise ValueError("time span too wide for the combined (unit, ts) key")
        self.key = self.codes * self.span + (self.ts - self.t0)
        units = np.arange(n_units, dtype=np.int64)
        self.first = np.searchsorted(self.codes, units, "left")
        self.end = np.searchsorted(self.codes, units, "right")

    def last_at(self, units, t) -> np.ndarray:
        """Row index of each unit's last row with ts <= t (broadcast), -1 if it has none."""
        units = np.asarray(units, dtype=np.int64)
        offset = np.clip(np.asarray(t, dtype=np.int64) - self.t0, -1, self.span - 1)
        index = np.searchsorted(self.key, units * self.span + offset, "right") - 1
        return np.where(index >= self.first[units], index, -1)

    def first_from(self, units, t) -> np.ndarray:
        """Row index of each unit's first row with ts >= t (its end when none)."""
        units = np.asarray(units, dtype=np.int64)
        offset = np.clip(np.asarray(t, dtype=np.int64) - self.t0, 0, self.span - 1)
        return np.searchsorted(self.key, units * self.span + offset, "left")


def sort_by_unit(frame: pd.DataFrame, codes: np.ndarray, *, keep: str) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows sorted by (unit, ts, arrival), one per (unit, ts): the `keep`="first" or "last" received."""
    order = np.lexsort((frame["seq"].to_numpy(), frame["ts"].to_numpy(), codes))
    codes, ts = codes[order], frame["ts"].to_numpy()[order]
    if keep == "first":
        unique = np.ones(len(order), dtype=bool)
        unique[1:] = (codes[1:] != codes[:-1]) | (ts[1:] != ts[:-1])
    else:
        unique = np.ones(len(order), dtype=bool)
        unique[:-1] = (codes[1:] != codes[:-1]) | (ts[1:] != ts[:-1])
    order = order[unique]
    return frame.iloc[order].reset_index(drop=True), codes[unique]


def downsample(ts: np.ndarray, max_points: int, keep: int | None = None) -> np.ndarray:
    """Indices of at most `max_points` rows of a time-sorted track, spread evenly over its time span.

    Time buckets rather than Ramer-Douglas-Peucker: vectorised, and a drone
    orbiting its zone keeps an even density where RDP would drop the orbit's
    curve. The first and last rows are always kept, and so is `keep` (the row
    shown at the chosen instant), so the track always ends exactly where the
    marker is.
    """
    n = len(ts)
    if max_points < 3:
        raise ValueError("max_points must be at least 3 (first, last and the chosen instant)")
    if n <= max_points:
        return np.arange(n)
    ts = np.asarray(ts, dtype=np.int64)
    mandatory = {0, n - 1} | ({int(keep)} if keep is not None else set())
    slots = max_points - len(mandatory)
    span = int(ts[-1] - ts[0]) + 1
    bucket = ((ts - ts[0]) * (slots / span)).astype(np.int64)
    last_in_bucket = np.flatnonzero(np.r_[bucket[1:] != bucket[:-1], True]) if slots else np.empty(0, np.int64)
    return np.union1d(last_in_bucket, sorted(mandatory)).astype(np.int64)


def gather(values: np.ndarray, index: np.ndarray, fill) -> np.ndarray:
    """values[index] where index >= 0, else fill (also when values is empty)."""
    if not len(values):
        return np.full(np.shape(index), fill)
    return np.where(index >= 0, values[np.maximum(index, 0)], fill)


def codes_of(values, categories) -> np.ndarray:
    """Position of each value in `categories` (unique), -1 for a value not among them (or missing)."""
    return pd.Index(categories).get_indexer(pd.Index(values, dtype=object)).astype(np.int64)
