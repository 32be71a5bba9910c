"""Export of a replay window: GeoJSON for GIS tools, CSV of positions for spreadsheets. Pure.

What leaves the system is what the model holds, minus free text: tracks of
drones (airframe codes) and patrols (call signs), sightings with their
category, priority and times. The sighting note and the operator's code are
left out: an export is read outside the dispatch room, and the note is the
one field where a careless operator could have written something personal
(docs/streams.md, section 6).
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
import orjson
import pandas as pd

from .history import STATUSES, History

_DECIMALS = 6  # 0.1 m
CSV_COLUMNS = ["kind", "unit_id", "ts", "time_utc", "lat", "lon", "alt_m", "heading_deg", "speed_mps",
               "battery_pct", "status", "reported_status"]
# Rows per piece of a streamed CSV (iter_csv): ~5 MB of text, a few tens of ms to write.
CSV_CHUNK_ROWS = 50_000


def export_geojson(history: History, *, max_points_per_track: int | None = None) -> dict:
    """A FeatureCollection of the window: one track per drone and patrol, one point per sighting.

    Tracks are LineStrings (a Point for a unit seen once) with properties
    kind ("drone" or "patrol"), id, start_ms, end_ms, points and times_ms
    (the time of each vertex, in order). With `max_points_per_track` tracks
    are downsampled in time (replay.downsample), keeping both ends.
    Sightings are Points with kind "sighting", id, category, priority, ts
    (first tagged), closed_ms (first cleared, or null); their position is
    the latest reported within the window.
    """
    features = []
    for kind in ("drone", "patrol"):
        for unit_id, track in history.tracks(kind, max_points=max_points_per_track):
            features.append(_track_feature(kind, unit_id, track))
    features.extend(_sighting_features(history))
    return {"type": "FeatureCollection", "features": features}


def _track_feature(kind: str, unit_id: str, track: pd.DataFrame) -> dict:
    coordinates = np.column_stack((track["lon"].to_numpy(), track["lat"].to_numpy())).round(_DECIMALS).tolist()
    times = track["ts"].tolist()
    geometry = ({"type": "LineString", "coordinates": coordinates} if len(coordinates) > 1
                else {"type": "Point", "coordinates": coordinates[0]})
    return {"type": "Feature", "geometry": geometry,
            "properties": {"kind": kind, "id": unit_id, "start_ms": times[0], "end_ms": times[-1],
                           "points": len(times), "times_ms": times}}


def _sighting_features(history: History) -> list[dict]:
    from_ms, to_ms = history.bounds
    messages = history.sightings.sort_values(["ts", "seq"])
    first = messages.drop_duplicates("sighting_id", keep="first").set_index("sighting_id")["ts"]
    in_window = messages[(messages["ts"] >= from_ms) & (messages["ts"] <= to_ms)]
    latest = in_window.drop_duplicates("sighting_id", keep="last")
    closed = history.sighting_closed_ts
    numbers, outcomes = history.sighting_numbers, history.sighting_outcomes
    features = []
    for row in latest.itertuples(index=False):
        closed_ms = closed.get(row.sighting_id)
        features.append({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(row.lon, _DECIMALS), round(row.lat, _DECIMALS)]},
            "properties": {"kind": "sighting", "id": row.sighting_id, "category": str(row.category),
                           "priority": int(row.priority), "ts": int(first[row.sighting_id]),
                           "closed_ms": None if closed_ms is None or np.isnan(closed_ms) else int(closed_ms),
                           # Only when known: a window from before numbering or endings reads as it did.
                           **({"number": numbers[row.sighting_id]} if row.sighting_id in numbers else {}),
                           **({"outcome": outcomes[row.sighting_id]} if row.sighting_id in outcomes else {})},
        })
    return sorted(features, key=lambda f: (f["properties"]["ts"], f["properties"]["id"]))


def positions_frame(history: History) -> pd.DataFrame:
    """Every drone and patrol position of the window, by time (CSV_COLUMNS).

    `status` is the patrol's status as replay shows it at that report (an
    open assignment overrides what the tablet sent), `reported_status` what
    the tablet sent; both are empty for drones.
    """
    from_ms, to_ms = history.bounds
    parts = _position_parts(history, from_ms, to_ms + 1)
    frame = pd.concat([p for p in parts if len(p)] or parts[:1], ignore_index=True)
    return _ordered(frame)


def _position_parts(history: History, lo_ms: int, hi_ms: int, *, first_only: bool = False) -> list[pd.DataFrame]:
    """The drones' and the patrols' positions with lo_ms <= ts < hi_ms, as CSV_COLUMNS (no time_utc), unsorted
    (with `first_only`, at most one of each: enough to know the columns' dtypes)."""
    drones = history.telemetry
    drones = drones[(drones["ts"] >= lo_ms) & (drones["ts"] < hi_ms)]
    patrols = history.patrol_reports
    patrols = patrols[(patrols["ts"] >= lo_ms) & (patrols["ts"] < hi_ms)]
    if first_only:
        drones, patrols = drones.iloc[:1], patrols.iloc[:1]
    shown = history.patrol_status_codes(patrols["patrol_id"].cat.codes.to_numpy(), patrols["ts"].to_numpy())
    return [
        pd.DataFrame({"kind": "drone", "unit_id": drones["drone_id"].astype(object).to_numpy(),
                      "ts": drones["ts"].to_numpy(), "lat": drones["lat"].to_numpy(),
                      "lon": drones["lon"].to_numpy(), "alt_m": drones["alt_m"].to_numpy(),
                      "heading_deg": drones["heading_deg"].to_numpy(), "speed_mps": drones["speed_mps"].to_numpy(),
                      "battery_pct": drones["battery_pct"].to_numpy(), "status": None, "reported_status": None}),
        pd.DataFrame({"kind": "patrol", "unit_id": patrols["patrol_id"].astype(object).to_numpy(),
                      "ts": patrols["ts"].to_numpy(), "lat": patrols["lat"].to_numpy(),
                      "lon": patrols["lon"].to_numpy(), "alt_m": np.nan, "heading_deg": np.nan,
                      "speed_mps": np.nan, "battery_pct": np.nan,
                      "status": np.array(STATUSES, dtype=object)[shown],
                      "reported_status": patrols["status"].astype(object).to_numpy()}),
    ]


def _ordered(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.sort_values(["ts", "kind", "unit_id"], kind="stable").reset_index(drop=True)
    frame["time_utc"] = pd.to_datetime(frame["ts"], unit="ms", utc=True)
    return frame[CSV_COLUMNS]


def _csv_text(frame: pd.DataFrame, *, header: bool) -> str:
    frame[["lat", "lon"]] = frame[["lat", "lon"]].round(_DECIMALS)
    return frame.to_csv(index=False, header=header, lineterminator="\n", date_format="%Y-%m-%dT%H:%M:%S.%fZ")


def position_count(history: History) -> int:
    """How many rows export_csv writes (without writing them): for the audit entry, before the first byte."""
    from_ms, to_ms = history.bounds
    return sum(int(((frame["ts"] >= from_ms) & (frame["ts"] <= to_ms)).sum())
               for frame in (history.telemetry, history.patrol_reports))


def iter_csv(history: History, *, chunk_rows: int = CSV_CHUNK_ROWS) -> Iterator[bytes]:
    """export_csv's exact bytes (UTF-8), in pieces of about `chunk_rows` rows: what a streamed download writes.

    The window is cut into equal time slices holding about `chunk_rows` positions each; rows are ordered by
    ts first, so each slice's sorted rows are the whole export's rows, in the same order. Every slice is cast
    to the columns' dtypes of the whole export (a slice without patrols must not print its columns as another
    dtype than the whole does; History holds float64 today, the cast keeps that true if it changes). Memory: one slice at a time, besides the History.
    """
    from_ms, to_ms = history.bounds
    yield (",".join(CSV_COLUMNS) + "\n").encode()
    heads = [p for p in _position_parts(history, from_ms, to_ms + 1, first_only=True) if len(p)]
    if not heads:
        return
    dtypes = pd.concat(heads, ignore_index=True).dtypes
    edges = _slice_edges(history, chunk_rows)
    for lo, hi in zip(edges[:-1], edges[1:]):
        parts = [p for p in _position_parts(history, lo, hi) if len(p)]
        if not parts:
            continue
        frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        yield _csv_text(_ordered(frame.astype(dtypes)), header=False).encode()


def _slice_edges(history: History, chunk_rows: int) -> list[int]:
    """Time edges cutting the window into slices of about `chunk_rows` positions, wherever they crowd: the
    quantiles of a strided sample of the positions' times (~20,000 of them, a few ms), not equal spans."""
    from_ms, to_ms = history.bounds
    stamps = [frame["ts"].to_numpy() for frame in (history.telemetry, history.patrol_reports)]
    total = position_count(history)
    slices = max(1, -(-total // max(1, chunk_rows)))
    step = max(1, sum(len(ts) for ts in stamps) // 20_000)
    sample = np.concatenate([ts[::step] for ts in stamps])  # sampled first, then kept to the window: no copy
    sample = np.sort(sample[(sample >= from_ms) & (sample <= to_ms)])
    inner = sample[(np.arange(1, slices) * len(sample)) // slices] if len(sample) and slices > 1 else []
    return sorted({from_ms, to_ms + 1, *(int(t) for t in inner)})


def feature_count(history: History) -> int:
    """How many features export_geojson holds (KML: as many placemarks), without building the tracks."""
    from_ms, to_ms = history.bounds
    units = 0
    for frame, column in ((history.telemetry, "drone_id"), (history.patrol_reports, "patrol_id")):
        inside = frame[(frame["ts"] >= from_ms) & (frame["ts"] <= to_ms)]
        units += int(pd.unique(inside[column].cat.codes.to_numpy()).size)
    return units + len(_sighting_features(history))


def iter_features(history: History) -> Iterator[dict]:
    """export_geojson's features, one at a time: one track's coordinates in memory, not every track's."""
    for kind in ("drone", "patrol"):
        for unit_id, track in history.tracks(kind):
            yield _track_feature(kind, unit_id, track)
    yield from _sighting_features(history)


def iter_geojson(history: History) -> Iterator[bytes]:
    """orjson.dumps(export_geojson(history))'s exact bytes, one feature at a time."""
    yield b'{"type":"FeatureCollection","features":['
    for k, feature in enumerate(iter_features(history)):
        yield (b"," if k else b"") + orjson.dumps(feature)
    yield b"]}"


def export_csv(history: History) -> str:
    """CSV text of positions_frame: one row per position, times in ms and in UTC (ISO 8601)."""
    return _csv_text(positions_frame(history), header=True)
