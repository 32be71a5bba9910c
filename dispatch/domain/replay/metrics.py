"""Shift figures as data: response times, sightings over time and space, patrol utilisation, outcomes.

Each function takes a `History` and returns a pandas DataFrame with the
columns documented on it, limited to the history's window; a page turns them
into plotly charts, and `figure_csv` exports any of them. Pure, vectorised.

Definitions a reviewer will ask about:
- Every response time is measured from the sighting's first message (when
  the operator tagged it), in seconds, NaN when the step never happened
  within the window.
- "Acknowledged" is the first acknowledgement or, if the crew drove off
  without tapping it, the first en route (lifecycle.py counts driving off as
  acknowledging).
- Times count every assignment of the sighting: after a cancellation and a
  reassignment, "first assigned" is still the first patrol sent, "on scene"
  the first patrol to arrive.
- Outcomes count the endings recorded in the window (sightings.outcome_counts,
  the same count the live figures use), not the sightings tagged in it: a
  sighting tagged before the window and closed in it counts.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..geo import EARTH_RADIUS_M
from .history import STATUSES, History
from .index import codes_of
from .frames import SIGHTING_CATEGORIES
from ..sightings import REASON_LABELS

RESPONSE_STEPS = {
    "assigned": ("assigned",),
    "acknowledged": ("acknowledged", "en_route"),
    "on_scene": ("on_scene",),
    "cleared": ("cleared",),
}
"""Each measured step and the assignment states that mark it."""
BUSY_STATUSES = ["assigned", "en_route", "on_scene"]


def response_times(history: History) -> pd.DataFrame:
    """One row per sighting first tagged within the window.

    Columns: sighting_id, ts (first message, ms), category, priority,
    assignments (how many patrols were sent), cancelled (how many of those
    were withdrawn), outcome (of the first clear, or None), then for each
    step in RESPONSE_STEPS `<step>_ts` (ms, NaN) and `to_<step>_s` (seconds
    from the sighting, NaN when it never happened).
    """
    from_ms, to_ms = history.bounds
    sightings = history.sightings.sort_values(["ts", "seq"]).drop_duplicates("sighting_id", keep="first")
    sightings = sightings[(sightings["ts"] >= from_ms) & (sightings["ts"] <= to_ms)]
    out = pd.DataFrame({
        "sighting_id": sightings["sighting_id"].astype(object).to_numpy(),
        "ts": sightings["ts"].to_numpy(dtype=np.int64),
        "category": pd.Categorical(sightings["category"].astype(object), categories=SIGHTING_CATEGORIES),
        "priority": sightings["priority"].to_numpy(dtype=np.int64),
    })
    events = history.assignments
    events = events[(events["ts"] <= to_ms) & events["sighting_id"].isin(out["sighting_id"])]
    created = events[events["event"] == "created"]
    out["assignments"] = _per_sighting(out, created.groupby("sighting_id").size(), 0).astype(np.int64)
    cancelled = events[events["state"] == "cancelled"].groupby("sighting_id").size()
    out["cancelled"] = _per_sighting(out, cancelled, 0).astype(np.int64)
    cleared = events[events["state"] == "cleared"].sort_values(["ts", "seq"]).drop_duplicates("sighting_id")
    out["outcome"] = _per_sighting(out, cleared.set_index("sighting_id")["outcome"], None).astype(object)
    for step, states in RESPONSE_STEPS.items():
        first = events[events["state"].isin(states)].groupby("sighting_id")["ts"].min()
        out[f"{step}_ts"] = _per_sighting(out, first, math.nan).astype(np.float64)
        out[f"to_{step}_s"] = (out[f"{step}_ts"] - out["ts"]) / 1000.0
    return out.sort_values(["ts", "sighting_id"]).reset_index(drop=True)


def _per_sighting(out: pd.DataFrame, values: pd.Series, missing) -> pd.Series:
    found = values.to_dict()
    return pd.Series([found.get(sighting_id, missing) for sighting_id in out["sighting_id"]], dtype=object)


def response_summary(times: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Distribution of each response step: one row per step (and per `by` value, e.g. "priority").

    Columns: step, [by], sightings (how many), happened (how many reached the
    step), median_s, p90_s, mean_s, max_s (NaN when nothing happened).
    """
    rows = []
    groups = [(None, times)] if by is None else list(times.groupby(by, observed=False))
    for key, group in groups:
        for step in RESPONSE_STEPS:
            seconds = group[f"to_{step}_s"].dropna()
            row = {"step": step}
            if by is not None:
                row[by] = key
            row.update({
                "sightings": len(group), "happened": len(seconds),
                "median_s": seconds.median() if len(seconds) else math.nan,
                "p90_s": seconds.quantile(0.9) if len(seconds) else math.nan,
                "mean_s": seconds.mean() if len(seconds) else math.nan,
                "max_s": seconds.max() if len(seconds) else math.nan,
            })
            rows.append(row)
    return pd.DataFrame(rows)


def sightings_per_category(history: History, bucket_s: float = 900) -> pd.DataFrame:
    """Sightings tagged per category per time bucket, every (bucket, category) pair present, zeros included.

    Columns: bucket_start_ms (buckets start at the window's start; the last
    one also holds the window's closing instant), category, count. Long ("tidy") form: plotly's bar(x="bucket_start_ms", y="count",
    color="category") takes it as is.
    """
    from_ms, to_ms = history.bounds
    bucket_ms = int(bucket_s * 1000)
    if bucket_ms <= 0:
        raise ValueError("bucket_s must be positive")
    sightings = history.sightings.sort_values(["ts", "seq"]).drop_duplicates("sighting_id", keep="first")
    sightings = sightings[(sightings["ts"] >= from_ms) & (sightings["ts"] <= to_ms)]
    buckets = max(1, -(-(to_ms - from_ms) // bucket_ms))
    bucket = np.minimum((sightings["ts"].to_numpy() - from_ms) // bucket_ms, buckets - 1)  # to_ms: the last one
    category = codes_of(sightings["category"].astype(object), SIGHTING_CATEGORIES)
    counts = np.zeros((buckets, len(SIGHTING_CATEGORIES)), dtype=np.int64)
    np.add.at(counts, (bucket, category), 1)
    return pd.DataFrame({
        "bucket_start_ms": np.repeat(from_ms + np.arange(buckets, dtype=np.int64) * bucket_ms,
                                     len(SIGHTING_CATEGORIES)),
        "category": pd.Categorical(np.tile(SIGHTING_CATEGORIES, buckets), categories=SIGHTING_CATEGORIES),
        "count": counts.ravel(),
    })


def heatmap(history: History, cell_m: float = 250, ref_lat: float | None = None) -> pd.DataFrame:
    """Sightings tagged in the window, counted on a square grid of about `cell_m` metres.

    Cells are `cell_m` tall and, at latitude `ref_lat` (default: the
    sightings' mean, to 0.1 degree, so nearby windows share a grid), `cell_m`
    wide; the grid is anchored at 0° / 0°, so a cell is the same from one
    window to the next. Only cells with sightings are listed.
    Columns: row, col (cell indices), lat_min, lat_max, lon_min, lon_max,
    lat_center, lon_center, count, urgent (priority 1).
    """
    from_ms, to_ms = history.bounds
    if cell_m <= 0:
        raise ValueError("cell_m must be positive")
    sightings = history.sightings.sort_values(["ts", "seq"]).drop_duplicates("sighting_id", keep="first")
    sightings = sightings[(sightings["ts"] >= from_ms) & (sightings["ts"] <= to_ms)]
    columns = ["row", "col", "lat_min", "lat_max", "lon_min", "lon_max", "lat_center", "lon_center", "count",
               "urgent"]
    if not len(sightings):
        return pd.DataFrame({name: pd.Series(dtype=np.float64) for name in columns})
    if ref_lat is None:
        ref_lat = round(float(sightings["lat"].mean()), 1)
    dlat = math.degrees(cell_m / EARTH_RADIUS_M)
    dlon = dlat / max(math.cos(math.radians(ref_lat)), 1e-6)
    cells = pd.DataFrame({
        "row": np.floor(sightings["lat"].to_numpy() / dlat).astype(np.int64),
        "col": np.floor(sightings["lon"].to_numpy() / dlon).astype(np.int64),
        "urgent": (sightings["priority"].to_numpy() == 1).astype(np.int64),
    })
    grid = cells.groupby(["row", "col"]).agg(count=("urgent", "size"), urgent=("urgent", "sum")).reset_index()
    grid["lat_min"], grid["lat_max"] = grid["row"] * dlat, (grid["row"] + 1) * dlat
    grid["lon_min"], grid["lon_max"] = grid["col"] * dlon, (grid["col"] + 1) * dlon
    grid["lat_center"] = (grid["lat_min"] + grid["lat_max"]) / 2
    grid["lon_center"] = (grid["lon_min"] + grid["lon_max"]) / 2
    return grid[columns]


def utilisation(history: History) -> pd.DataFrame:
    """Share of the window each patrol spent in each status, as replay shows it (History.patrol_status_codes).

    One row per patrol known in the window (reported or assigned). Columns:
    patrol_id, then one column per status in replay.STATUSES (available,
    assigned, en_route, on_scene, unavailable, no_data: before its first
    report), fractions of the window summing to 1, then busy (assigned +
    en_route + on_scene) and busy_s (seconds).
    """
    from_ms, to_ms = history.bounds
    length = max(to_ms - from_ms, 1)
    reports = history.patrol_reports
    patrol_ids = np.asarray(history.patrol_ids, dtype=object)
    # The status can only change at a report or an assignment event: evaluate it there, and at the start.
    report_codes = reports["patrol_id"].cat.codes.to_numpy().astype(np.int64)
    event_codes = codes_of(history.assignments["patrol_id"], patrol_ids)
    units = np.concatenate([np.arange(len(patrol_ids), dtype=np.int64), report_codes,
                            event_codes[event_codes >= 0]])
    times = np.concatenate([np.full(len(patrol_ids), from_ms, dtype=np.int64), reports["ts"].to_numpy(),
                            history.assignments["ts"].to_numpy()[event_codes >= 0]])
    inside = (times >= from_ms) & (times < to_ms)
    units, times = units[inside], times[inside]
    order = np.lexsort((times, units))
    units, times = units[order], times[order]
    status = history.patrol_status_codes(units, times)
    following = np.r_[times[1:], to_ms]
    following[np.r_[units[1:] != units[:-1], True]] = to_ms  # a patrol's last change lasts to the window's end
    seconds = np.zeros((len(patrol_ids), len(STATUSES)), dtype=np.float64)
    np.add.at(seconds, (units, status), (following - times) / 1000.0)
    out = pd.DataFrame(seconds / (length / 1000.0), columns=STATUSES)
    out.insert(0, "patrol_id", patrol_ids)
    out["busy"] = out[BUSY_STATUSES].sum(axis=1)
    out["busy_s"] = seconds[:, [STATUSES.index(s) for s in BUSY_STATUSES]].sum(axis=1)
    return out


OUTCOME_WORDS = {"dispatched": "dispatched (a patrol cleared it)", "merged": "merged into another sighting",
                 "ended_by_operator": "ended by the operator who reported it", "expired": "expired, nobody sent",
                 **{f"closed:{reason.value}": f"closed: {label}" for reason, label in REASON_LABELS.items()}}
"""How each row of sightings.OUTCOME_ORDER reads on the chart and in the CSV."""


def outcomes(history: History) -> pd.DataFrame:
    """Sightings by outcome in the window: columns outcome (OUTCOME_ORDER key), label, count; every row."""
    counts = history.outcome_counts()
    return pd.DataFrame({"outcome": list(counts), "label": [OUTCOME_WORDS.get(k, k) for k in counts],
                         "count": np.array(list(counts.values()), dtype=np.int64)})


def figure_csv(frame: pd.DataFrame) -> str:
    """CSV text of a figure's frame, as a page offers it for download."""
    return frame.to_csv(index=False, lineterminator="\n")
