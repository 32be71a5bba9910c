"""Retained stream entries -> tidy pandas frames for replay, vectorised.

A shift is millions of positions: judging each entry with pydantic again
(validate.py, about 6 µs) would cost seconds, and building a dict per entry
would hold a gigabyte at once. Ingest has already judged every entry it
processed, and what it refused sits in the dead-letter stream, so the store
drops those and this module only converts what remains, one chunk at a time,
column by column with numpy: numbers through one C-level conversion per
column, identifiers kept as bytes until one final factorisation into
categories. A row that still does not convert (not a finite number, an id or
status missing) is counted and dropped, never guessed.

Sightings, assignments and alerts are a few thousand rows a shift: they are
built from models or decoded dicts, exactly, by the small constructors below.

Every frame keeps the arrival order of its rows in `seq`, which replay needs
for the picture's tie rule: of two messages with the same ts, the first
received wins (picture.py).
"""

from __future__ import annotations

import csv
import io
import math
from operator import itemgetter
from typing import Iterable, Mapping, Sequence

import numpy as np
import orjson
import pandas as pd
from pandas.api.types import union_categoricals

from ..models import AssignmentState, PatrolReport, PatrolStatus, Sighting, SightingCategory, Telemetry

TELEMETRY_COLUMNS = ("drone_id", "ts", "lat", "lon", "alt_m", "heading_deg", "speed_mps", "battery_pct")
PATROL_COLUMNS = ("patrol_id", "ts", "lat", "lon", "status")
SIGHTING_COLUMNS = ("sighting_id", "ts", "drone_id", "operator_id", "category", "lat", "lon", "priority", "note")
ASSIGNMENT_COLUMNS = ("assignment_id", "sighting_id", "patrol_id", "supervisor_id", "ts", "state", "assigned_ts",
                      "outcome", "event", "actor", "role", "replaces", "replaced_by")
ENDING_COLUMNS = ("sighting_id", "ts", "disposition", "reason", "text", "merged_into", "actor", "number")
ALERT_COLUMNS = ("alert_id", "ts", "event", "kind", "unit_id", "severity", "message", "since_ms", "lat", "lon",
                 "state", "by")

PATROL_STATUSES = [s.value for s in PatrolStatus]
ASSIGNMENT_STATES = [s.value for s in AssignmentState]
SIGHTING_CATEGORIES = [c.value for c in SightingCategory]

# Position kinds read in bulk: (id field, numeric fields, status field or None).
_POSITION_LAYOUT = {
    "telemetry": ("drone_id", TELEMETRY_COLUMNS[1:], None),
    "patrol": ("patrol_id", PATROL_COLUMNS[1:4], "status"),
}


class PositionColumns:
    """Raw entries of one position kind ("telemetry" or "patrol"), accumulated chunk by chunk.

    `add` takes the field lists exactly as XRANGE returns them without decoding
    (`[name, value, name, value, ...]`, bytes) and keeps typed columns only, so
    memory holds numbers, not millions of small Python objects.

    The fast path, for a chunk whose entries all list their fields in one
    order (a bridge writes a fixed order), joins the wanted values into one
    unit-separated text and lets pandas' C parser convert it: one C loop
    instead of one Python-level conversion per value, and as exact (pandas 3
    parses floats correctly rounded, like float(); the tests compare them bit
    for bit). Any surprise (another order, a value the parser refuses, a row
    count that does not add up) sends the chunk to the plain path, entry by
    entry, which never fails.
    """

    def __init__(self, kind: str):
        self.kind = kind
        self.id_field, self.numbers, self.status_field = _POSITION_LAYOUT[kind]
        self._wanted = [self.id_field, *self.numbers] + ([self.status_field] if self.status_field else [])
        self._wanted_bytes = [name.encode() for name in self._wanted]
        self._dtypes = {self.id_field: "category", **{name: np.float64 for name in self.numbers}}
        if self.status_field:
            self._dtypes[self.status_field] = "category"
        self._chunks: list[dict] = []
        self.unparsable = 0
        self.rows = 0

    def add(self, rows: Sequence[Sequence[bytes]]) -> int:
        """Convert one chunk; returns how many of its rows were unparsable (dropped, counted)."""
        if not rows:
            return 0
        columns = self._parse_fast(rows) or self._parse_plain(rows)
        good = columns[self.id_field].notna()
        for name in self.numbers:
            good &= np.isfinite(columns[name])
        if self.status_field:
            good &= columns[self.status_field] >= 0
        ts = columns["ts"]
        good &= (ts > 0) & (ts == np.floor(ts))
        columns["seq"] = np.arange(self.rows, self.rows + len(rows), dtype=np.int64)
        self.rows += len(rows)
        dropped = int(len(rows) - good.sum())
        self.unparsable += dropped
        if dropped:
            columns = {name: column[good] for name, column in columns.items()}
        self._chunks.append(columns)
        return dropped

    def _parse_fast(self, rows: Sequence[Sequence[bytes]]) -> dict | None:
        layout = tuple(rows[0][0::2])
        if len(layout) < 2 or any(name not in layout for name in self._wanted_bytes):
            return None
        names_of = itemgetter(*range(0, 2 * len(layout), 2))
        try:
            if not all(map(layout.__eq__, map(names_of, rows))):
                return None
            values_of = itemgetter(*[2 * layout.index(name) + 1 for name in self._wanted_bytes])
            text = b"\n".join(map(b"\x1f".join, map(values_of, rows)))
            frame = pd.read_csv(io.BytesIO(text), sep="\x1f", header=None, names=self._wanted,
                                dtype=self._dtypes, quoting=csv.QUOTE_NONE, na_filter=False, engine="c")
        except (IndexError, TypeError, ValueError, pd.errors.ParserError):
            return None
        if len(frame) != len(rows):  # a line break inside a value
            return None
        columns = {name: frame[name].to_numpy() for name in self.numbers}
        columns[self.id_field] = frame[self.id_field].array
        if self.status_field:
            # A status outside the contract becomes -1 (unparsable).
            columns[self.status_field] = frame[self.status_field].cat.set_categories(PATROL_STATUSES).cat.codes.to_numpy()
        return columns

    def _parse_plain(self, rows: Sequence[Sequence[bytes]]) -> dict:
        raw = _by_name(rows, self._wanted_bytes)
        columns: dict = {}
        for name, values in zip(self._wanted, raw):
            if name == self.id_field:
                columns[name] = pd.Categorical([_text(v) or None for v in values])
            elif name == self.status_field:
                columns[name] = _status_codes(values)
            else:
                columns[name] = _floats(values)
        return columns

    def frame(self, from_ms: int | None = None, to_ms: int | None = None) -> tuple[pd.DataFrame, int]:
        """The tidy frame of rows whose message ts is within [from_ms, to_ms], and how many fell outside."""
        chunks, self._chunks = self._chunks, []
        return self._frame_of(chunks, from_ms, to_ms)

    def snapshot(self, from_ms: int | None = None, to_ms: int | None = None) -> tuple[pd.DataFrame, int]:
        """`frame` of what was added so far, and `add` goes on: the chunks are joined into one first, so
        that repeated snapshots of a growing load never join the same small chunks again."""
        if len(self._chunks) > 1:
            self._chunks = [self._joined(self._chunks)]
        return self._frame_of(list(self._chunks), from_ms, to_ms)

    def _joined(self, chunks: list[dict]) -> dict:
        joined = {name: np.concatenate([chunk[name] for chunk in chunks]) for name in chunks[0] if name != self.id_field}
        joined[self.id_field] = union_categoricals([chunk[self.id_field] for chunk in chunks], sort_categories=True)
        return joined

    def _frame_of(self, chunks: list[dict], from_ms: int | None, to_ms: int | None) -> tuple[pd.DataFrame, int]:
        if chunks:
            ids = union_categoricals([chunk[self.id_field] for chunk in chunks], sort_categories=True)
            columns = {name: np.concatenate([chunk[name] for chunk in chunks])
                       for name in chunks[0] if name != self.id_field}
        else:
            ids = pd.Categorical([])
            columns = {name: np.empty(0, dtype=np.float64) for name in self.numbers}
            columns["seq"] = np.empty(0, dtype=np.int64)
            if self.status_field:
                columns[self.status_field] = np.empty(0, dtype=np.int8)
        ts = columns["ts"].astype(np.int64)
        keep = np.ones(len(ts), dtype=bool)
        if from_ms is not None:
            keep &= ts >= from_ms
        if to_ms is not None:
            keep &= ts <= to_ms
        outside = int(len(ts) - keep.sum())
        frame = {self.id_field: ids[keep].remove_unused_categories(), "ts": ts[keep]}
        for name in self.numbers[1:]:
            frame[name] = columns[name][keep]
        if self.status_field:
            frame[self.status_field] = pd.Categorical.from_codes(
                columns[self.status_field][keep].astype(np.int64), categories=PATROL_STATUSES)
        frame["seq"] = columns["seq"][keep].astype(np.int64)
        return pd.DataFrame(frame), outside


def _by_name(rows: Sequence[Sequence[bytes]], wanted: list[bytes]) -> list[list]:
    fields = [dict(zip(row[0::2], row[1::2])) for row in rows]
    return [[row.get(name) for row in fields] for name in wanted]


def _floats(values: list) -> np.ndarray:
    try:
        return np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        return np.array([_float_or_nan(v) for v in values], dtype=np.float64)


def _float_or_nan(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


_STATUS_CODE = {status.encode(): code for code, status in enumerate(PATROL_STATUSES)}


def _status_codes(values: list) -> np.ndarray:
    return np.array([_STATUS_CODE.get(v, -1) for v in values], dtype=np.int8)


# ----------------------------------------------------------------------------- exact constructors


def telemetry_frame(messages: Iterable[Telemetry]) -> pd.DataFrame:
    """Telemetry models, in arrival order, as the frame PositionColumns builds."""
    rows = [tuple(getattr(m, name) for name in TELEMETRY_COLUMNS) for m in messages]
    frame = pd.DataFrame(rows, columns=list(TELEMETRY_COLUMNS))
    return _typed_positions(frame, "drone_id")


def patrol_frame(messages: Iterable[PatrolReport]) -> pd.DataFrame:
    rows = [(m.patrol_id, m.ts, m.lat, m.lon, PatrolStatus(m.status).value) for m in messages]
    frame = pd.DataFrame(rows, columns=list(PATROL_COLUMNS))
    frame["status"] = pd.Categorical(frame["status"], categories=PATROL_STATUSES)
    return _typed_positions(frame, "patrol_id")


def sighting_frame(messages: Iterable[Sighting]) -> pd.DataFrame:
    rows = [(m.sighting_id, m.ts, m.drone_id, m.operator_id, SightingCategory(m.category).value, m.lat, m.lon,
             m.priority, m.note) for m in messages]
    frame = pd.DataFrame(rows, columns=list(SIGHTING_COLUMNS))
    frame["sighting_id"] = frame["sighting_id"].astype(object)
    frame["category"] = pd.Categorical(frame["category"], categories=SIGHTING_CATEGORIES)
    frame["priority"] = frame["priority"].astype(np.int64)
    for name in ("lat", "lon"):
        frame[name] = frame[name].astype(np.float64)
    frame["ts"] = frame["ts"].astype(np.int64)
    frame["seq"] = np.arange(len(frame), dtype=np.int64)
    return frame


def _typed_positions(frame: pd.DataFrame, id_field: str) -> pd.DataFrame:
    frame[id_field] = pd.Categorical(frame[id_field].astype(object))
    frame["ts"] = frame["ts"].astype(np.int64)
    for name in frame.columns:
        if name not in (id_field, "ts", "status"):
            frame[name] = frame[name].astype(np.float64)
    frame["seq"] = np.arange(len(frame), dtype=np.int64)
    return frame


def assignment_frame(events: Iterable[Mapping]) -> pd.DataFrame:
    """Assignment events (the {site}:assignments fields, decoded to str), in stream order.

    Columns: ASSIGNMENT_COLUMNS plus `seq`; `ts` int64, `assigned_ts` float
    (NaN when absent), `state` a category of AssignmentState values.
    """
    rows = []
    for event in events:
        row = {name: _text(event.get(name)) for name in ASSIGNMENT_COLUMNS}
        row["ts"] = int(event["ts"])
        assigned = event.get("assigned_ts")
        row["assigned_ts"] = float(assigned) if assigned not in (None, "", b"") else math.nan
        row["event"] = row["event"] or row["state"]
        rows.append(row)
    frame = _objects(rows, ASSIGNMENT_COLUMNS)
    frame["ts"] = frame["ts"].astype(np.int64)
    frame["assigned_ts"] = frame["assigned_ts"].astype(np.float64)
    frame["state"] = pd.Categorical(frame["state"], categories=ASSIGNMENT_STATES)
    frame["seq"] = np.arange(len(frame), dtype=np.int64)
    return frame


def alert_frame(events: Iterable[Mapping]) -> pd.DataFrame:
    """Alert events ({site}:alerts: event, alert_id, ts, alert JSON, by), in stream order.

    The alert's own fields (kind, unit_id, severity, message, since_ms, lat,
    lon, state) are flattened into columns; `by` is who acknowledged.
    """
    rows = []
    for event in events:
        alert = event.get("alert") or {}
        if isinstance(alert, (bytes, str)):
            alert = orjson.loads(alert)
        rows.append({
            "alert_id": _text(event.get("alert_id")) or alert.get("alert_id"),
            "ts": int(event["ts"]),
            "event": _text(event.get("event")),
            "kind": alert.get("kind"),
            "unit_id": alert.get("unit_id"),
            "severity": alert.get("severity"),
            "message": alert.get("message"),
            "since_ms": alert.get("since_ms"),
            "lat": alert.get("lat"),
            "lon": alert.get("lon"),
            "state": alert.get("state"),
            "by": _text(event.get("by")) or alert.get("acknowledged_by"),
        })
    frame = _objects(rows, ALERT_COLUMNS)
    frame["ts"] = frame["ts"].astype(np.int64)
    for name in ("lat", "lon", "since_ms"):
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(np.float64)
    frame["seq"] = np.arange(len(frame), dtype=np.int64)
    return frame


def ending_frame(events: Iterable[Mapping]) -> pd.DataFrame:
    """Sighting endings ({site}:sightings:endings fields, decoded to str), in stream order.

    `number` is the incident number carried by the ending's `sighting` JSON
    (the sighting as it was when it ended), None when it had none.
    """
    rows = []
    for event in events:
        sighting = event.get("sighting") or {}
        if isinstance(sighting, (bytes, str)):
            sighting = orjson.loads(sighting)
        row = {name: _text(event.get(name)) for name in ENDING_COLUMNS}
        row["ts"] = int(event["ts"])
        number = sighting.get("number") if isinstance(sighting, dict) else None
        row["number"] = row["number"] or (number if isinstance(number, str) else None)
        rows.append(row)
    frame = _objects(rows, ENDING_COLUMNS)
    frame["ts"] = frame["ts"].astype(np.int64)
    frame["seq"] = np.arange(len(frame), dtype=np.int64)
    return frame


def _objects(rows: list[dict], names: Sequence[str]) -> pd.DataFrame:
    """Columns of plain Python values: an absent text stays None (pandas would make it NaN in a str column)."""
    return pd.DataFrame({name: pd.Series([row[name] for row in rows], dtype=object) for name in names})


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)
