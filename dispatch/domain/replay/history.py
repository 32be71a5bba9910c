"""After-action replay: the picture at any instant of a window, rebuilt from retained messages.

A `History` is built once per window from tidy frames (frames.py) and
answers `picture_at(t)` in a few milliseconds however long the window: each
kind of unit is sorted once by (unit, ts), and "the last message of every unit
at or before t" is then a single `np.searchsorted` over a combined
(unit, ts) key, instead of a scan of every message up to t per frame.

It means what live ingest means (picture.py): a unit holds its message with
the greatest ts at or before t, and of two messages with the same ts the first
received wins. Replay orders by the message's own ts, not by arrival, so a
message that arrived late is placed where it belongs in time. On top of the
positions it replays dispatch as the live scripts do (store/assignments.py):

- a patrol with an assignment open at t shows the status that assignment
  implies (lifecycle.patrol_status_for); once the assignment closes, the
  patrol shows "available" until its next report, as the live step frees it;
- a sighting is open from its first message until one of its assignments is
  cleared; a copy of it with the same or an older ts does not reopen it, a
  strictly newer report does (the live sightings:ts rule);
- a sighting with a recorded ending ({site}:sightings:endings: dispatched,
  closed with a reason, merged, ended by its operator, expired) is gone from its ending's ts on, for
  good: ingest never brings an ended sighting back (domain/sightings.py);
- assignments open at t (for the lines between patrols and sightings) and
  alerts raised and not yet resolved at t.

Pure: frames in, dicts and frames out. Figures are in metrics.py,
exports in export.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from ..lifecycle import OPEN_STATES, patrol_status_for
from ..models import PatrolReport, Sighting, Telemetry
from ..picture import Picture, fold
from .frames import (
    ASSIGNMENT_STATES, PATROL_STATUSES, alert_frame, assignment_frame, ending_frame, patrol_frame, sighting_frame,
    telemetry_frame,
)
from .index import UnitTimeline, codes_of, downsample, gather, sort_by_unit
from .payload import frame_payload
from ..sightings import REASON_LABELS, CloseReason, Disposition, operator_end_words, outcome_counts
from ..validate import Message

__all__ = ["History", "NO_DATA", "STATUSES", "downsample", "frame_payload", "naive_picture_at"]

NO_DATA = "no_data"
"""Status of a patrol before its first report in the window."""
STATUSES = [*PATROL_STATUSES, NO_DATA]
_NO_DATA_CODE = len(PATROL_STATUSES)
_AVAILABLE_CODE = PATROL_STATUSES.index("available")
_OPEN_STATE = np.array([state in {s.value for s in OPEN_STATES} for state in ASSIGNMENT_STATES])
_STATUS_OF_STATE = np.array([PATROL_STATUSES.index(patrol_status_for(state).value) for state in ASSIGNMENT_STATES])
_CLEARED_CODE = ASSIGNMENT_STATES.index("cleared")
_NEVER = np.iinfo(np.int64).max

DEFAULT_TRAIL_S = 60
DEFAULT_TRAIL_POINTS = 20


@dataclass
class _Positions:
    """One position kind, sorted by (unit, ts), as numpy columns for fast gathering."""

    ids: np.ndarray  # unit id by code
    frame: pd.DataFrame
    timeline: UnitTimeline
    columns: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def build(cls, frame: pd.DataFrame, id_field: str, categories: list[str] | None = None) -> "_Positions":
        ids = categories if categories is not None else list(frame[id_field].cat.categories)
        column = frame[id_field].astype("category")  # a no-op for the frames replay_frames builds
        codes = column.cat.set_categories(ids).cat.codes.to_numpy().astype(np.int64)
        frame, codes = sort_by_unit(frame, codes, keep="first")
        frame[id_field] = pd.Categorical.from_codes(codes, categories=ids)
        columns = {name: frame[name].to_numpy() for name in frame.columns if name != id_field}
        return cls(np.array(ids, dtype=object), frame, UnitTimeline(codes, frame["ts"].to_numpy(), len(ids)),
                   columns)

    # Pickled for the web workers' shared replay cache (web/replay_cache.py, issue 14): `columns` (and the
    # timeline's ts) are views of the frame's blocks here, but pickle would write, and unpickling would
    # allocate, a copy of each (an 8-h shift: ~100 MiB more per worker). They are views again once read.
    def __getstate__(self) -> dict:
        return {**self.__dict__, "columns": list(self.columns)}

    def __setstate__(self, state: dict) -> None:
        names = state["columns"]
        self.__dict__.update(state)
        self.columns = {name: self.frame[name].to_numpy() for name in names}
        if "ts" in self.columns:
            self.timeline.ts = self.columns["ts"]


class History:
    """Everything retained about one window, indexed for seeking. Build once, query many times.

    `bounds` is the window asked for, (from_ms, to_ms). The frames may hold
    earlier messages (a lead-in) so that the picture at the window's start
    knows where every unit was; events and figures are limited to the window.
    `stats` says what loading read, skipped and why (store/history.py).

    A History of a window still loading (a prefix, domain/replay/progressive.py)
    has every context event but the positions read so far: its pictures are
    exact up to `loaded_until_ms` (the window's end once complete) and nothing
    after it may be shown as the window's.
    """

    @property
    def complete(self) -> bool:
        return self.loaded_until_ms >= self.bounds[1]

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.__dict__.setdefault("loaded_until_ms", self.bounds[1])  # cached before prefixes existed: whole

    def __init__(self, telemetry: pd.DataFrame, patrols: pd.DataFrame, sightings: pd.DataFrame,
                 assignments: pd.DataFrame, alerts: pd.DataFrame, bounds: tuple[int, int],
                 stats: Mapping[str, int] | None = None, endings: pd.DataFrame | None = None,
                 numbers: Mapping[str, str] | None = None, loaded_until_ms: int | None = None):
        self.bounds = (int(bounds[0]), int(bounds[1]))
        self.loaded_until_ms = self.bounds[1] if loaded_until_ms is None else int(loaded_until_ms)
        self.stats = dict(stats or {})
        self._drones = _Positions.build(telemetry, "drone_id")
        patrol_ids = sorted(set(patrols["patrol_id"].astype(object)) | set(assignments["patrol_id"].dropna()))
        self._patrols = _Positions.build(patrols, "patrol_id", patrol_ids)
        self._report_status = self._patrols.frame["status"].cat.codes.to_numpy()
        self._sightings = _Positions.build(sightings.assign(sighting_id=pd.Categorical(
            sightings["sighting_id"].astype(object))), "sighting_id")
        self._index_assignments(assignments, patrol_ids)
        self._index_alerts(alerts)
        self._index_endings(ending_frame(()) if endings is None else endings, numbers or {})
        self._events: pd.DataFrame | None = None

    @classmethod
    def from_messages(cls, messages: Iterable[Message], assignments: Iterable[Mapping] = (),
                      alerts: Iterable[Mapping] = (), bounds: tuple[int, int] | None = None,
                      endings: Iterable[Mapping] = (), numbers: Mapping[str, str] | None = None) -> "History":
        """From validated messages in arrival order and decoded assignment/alert/ending events (tests, tools)."""
        messages = list(messages)
        frames = (telemetry_frame(m for m in messages if isinstance(m, Telemetry)),
                  patrol_frame(m for m in messages if isinstance(m, PatrolReport)),
                  sighting_frame(m for m in messages if isinstance(m, Sighting)),
                  assignment_frame(assignments), alert_frame(alerts))
        if bounds is None:
            stamps = [int(t) for frame in frames if len(frame) for t in (frame["ts"].min(), frame["ts"].max())]
            bounds = (min(stamps, default=0), max(stamps, default=0))
        return cls(*frames, bounds=bounds, endings=ending_frame(endings), numbers=numbers)

    # ------------------------------------------------------------------ frames

    @property
    def telemetry(self) -> pd.DataFrame:
        """drone_id (category), ts, lat, lon, alt_m, heading_deg, speed_mps, battery_pct, seq; by (drone, ts)."""
        return self._drones.frame

    @property
    def patrol_reports(self) -> pd.DataFrame:
        """patrol_id (category), ts, lat, lon, status (as reported), seq; by (patrol, ts)."""
        return self._patrols.frame

    @property
    def sightings(self) -> pd.DataFrame:
        """Every sighting message: sighting_id, ts, drone_id, operator_id, category, lat, lon, priority, note, seq."""
        return self._sightings.frame

    @property
    def assignments(self) -> pd.DataFrame:
        """Assignment events in stream order (replay_frames.ASSIGNMENT_COLUMNS, seq)."""
        return self._assignments

    @property
    def alerts(self) -> pd.DataFrame:
        return self._alerts

    @property
    def endings(self) -> pd.DataFrame:
        """Sighting endings in stream order (replay_frames.ENDING_COLUMNS, seq)."""
        return self._endings

    @property
    def sighting_numbers(self) -> dict[str, str]:
        """Incident number of each sighting that has one (from ending records or the store)."""
        return {sid: n for sid, n in zip(self._sightings.ids.tolist(), self._numbers.tolist()) if n is not None}

    @property
    def sighting_outcomes(self) -> dict[str, str]:
        """Each ended sighting's outcome, as sightings.OUTCOME_ORDER names it ("closed:false_alarm", ...)."""
        found: dict[str, str] = {}
        for row in self._endings.to_dict("records"):
            outcome = row["disposition"] or ""
            if outcome == "closed":
                outcome = f"closed:{row['reason'] or CloseReason.OTHER.value}"
            found.setdefault(row["sighting_id"], outcome)
        return found

    def outcome_counts(self) -> dict[str, int]:
        """Sightings by outcome over the window's endings (sightings.outcome_counts: every row, zeros too)."""
        from_ms, to_ms = self.bounds
        endings = self._endings[(self._endings["ts"] >= from_ms) & (self._endings["ts"] <= to_ms)]
        return outcome_counts({name: value for name, value in row.items() if value is not None}
                              for row in endings.to_dict("records"))

    @property
    def drone_ids(self) -> list[str]:
        return self._drones.ids.tolist()

    @property
    def patrol_ids(self) -> list[str]:
        """Every patrol that reported or was assigned: reported ones and assignment-only ones."""
        return self._patrols.ids.tolist()

    @property
    def sighting_closed_ts(self) -> pd.Series:
        """When each sighting was first cleared or ended (ms), NaN if never; indexed by sighting_id."""
        first = np.minimum(self._sighting_closed, self._sighting_ended)
        closed = first.astype(np.float64)
        closed[first == _NEVER] = np.nan
        return pd.Series(closed, index=pd.Index(self._sightings.ids, name="sighting_id"), name="closed_ts")

    # ------------------------------------------------------------------ indexing

    def _index_assignments(self, assignments: pd.DataFrame, patrol_ids: list[str]) -> None:
        self._assignments = assignments
        state = assignments["state"].cat.codes.to_numpy().astype(np.int64)
        # Per assignment: its state over time (the last event of equal ts wins: events are in stream order).
        asg_ids = sorted(set(assignments["assignment_id"].dropna()))
        codes = codes_of(assignments["assignment_id"], asg_ids)
        by_asg, codes = sort_by_unit(assignments.assign(state_code=state), codes, keep="last")
        self._asg_ids = np.array(asg_ids, dtype=object)
        self._asg_frame = by_asg
        self._asg_state = by_asg["state_code"].to_numpy()
        self._asg_timeline = UnitTimeline(codes, by_asg["ts"].to_numpy(), len(asg_ids))
        # Per patrol: the latest assignment event decides whether a status is overridden.
        codes = codes_of(assignments["patrol_id"], patrol_ids)
        by_patrol, codes = sort_by_unit(assignments.assign(state_code=state), codes, keep="last")
        self._patrol_asg_state = by_patrol["state_code"].to_numpy()
        self._patrol_asg_ts = by_patrol["ts"].to_numpy()
        self._patrol_asg_timeline = UnitTimeline(codes, self._patrol_asg_ts, len(patrol_ids))
        # A sighting closes when one of its assignments is cleared, until a strictly newer report of it.
        cleared = assignments[state == _CLEARED_CODE]
        sighting_codes = codes_of(cleared["sighting_id"], self._sightings.ids)
        known = sighting_codes >= 0
        order = np.lexsort((cleared["ts"].to_numpy()[known], sighting_codes[known]))
        codes = sighting_codes[known].astype(np.int64)[order]
        clears_ts = cleared["ts"].to_numpy()[known][order]
        self._clears_ts = clears_ts
        self._clear_timeline = UnitTimeline(codes, clears_ts, len(self._sightings.ids))
        closed = np.full(len(self._sightings.ids), _NEVER, dtype=np.int64)
        np.minimum.at(closed, codes, clears_ts)
        self._sighting_closed = closed

    def _index_endings(self, endings: pd.DataFrame, numbers: Mapping[str, str]) -> None:
        """Per sighting, the ts of its first recorded ending (one per sighting is what the store keeps), and
        its incident number: given (`numbers`), else the one its ending's record carries; a number never
        changes, so either is the number the sighting had at every instant."""
        self._endings = endings
        known_numbers = {sid: n for sid, n in zip(endings["sighting_id"], endings["number"]) if n}
        known_numbers.update({sid: n for sid, n in numbers.items() if n})
        self._numbers = np.array([known_numbers.get(sid) for sid in self._sightings.ids.tolist()], dtype=object)
        codes = codes_of(endings["sighting_id"], self._sightings.ids)
        known = codes >= 0
        ended = np.full(len(self._sightings.ids), _NEVER, dtype=np.int64)
        np.minimum.at(ended, codes[known].astype(np.int64), endings["ts"].to_numpy()[known].astype(np.int64))
        self._sighting_ended = ended

    def _index_alerts(self, alerts: pd.DataFrame) -> None:
        self._alerts = alerts
        alert_ids = sorted(set(alerts["alert_id"].dropna()))
        codes = codes_of(alerts["alert_id"], alert_ids)
        self._alert_frame, codes = sort_by_unit(alerts, codes, keep="last")
        self._alert_ids = np.array(alert_ids, dtype=object)
        self._alert_timeline = UnitTimeline(codes, self._alert_frame["ts"].to_numpy(), len(alert_ids))

    # ------------------------------------------------------------------ seeking

    def patrol_status_codes(self, units, t) -> np.ndarray:
        """Status code (index in STATUSES) of patrols `units` at instants `t` (broadcast together)."""
        units, t = np.broadcast_arrays(np.asarray(units, dtype=np.int64), np.asarray(t, dtype=np.int64))
        report = self._patrols.timeline.last_at(units, t)
        status = gather(self._report_status, report, _NO_DATA_CODE)
        report_ts = gather(self._patrols.columns["ts"], report, np.iinfo(np.int64).min)
        event = self._patrol_asg_timeline.last_at(units, t)
        has_event = event >= 0
        state = gather(self._patrol_asg_state, event, 0)
        is_open = has_event & _OPEN_STATE[state]
        freed = has_event & ~is_open & (report >= 0) & (gather(self._patrol_asg_ts, event, 0) > report_ts)
        status = np.where(is_open, _STATUS_OF_STATE[state], status)
        return np.where(freed, _AVAILABLE_CODE, status).astype(np.int64)

    def picture_at(self, t_ms: int, trail_s: float = DEFAULT_TRAIL_S,
                   trail_points: int = DEFAULT_TRAIL_POINTS) -> dict:
        """The picture at instant `t_ms`, shaped like a live snapshot (store/state.py) plus drone trails.

        Keys: t, drones, patrols, sightings, assignments, alerts (lists of
        JSON-ready dicts, as in the live picture), trails ({drone_id: {ts,
        lat, lon}}: the last `trail_s` seconds, at most `trail_points` points,
        ending exactly at the drone's position at t). Whatever draws a
        live snapshot can draw it.
        """
        t = int(t_ms)
        drones = self._drones
        units = np.arange(len(drones.ids), dtype=np.int64)
        index = drones.timeline.last_at(units, t)
        present = index >= 0
        rows = index[present]
        drone_fields = ("ts", "lat", "lon", "alt_m", "heading_deg", "speed_mps", "battery_pct")
        drone_list = _records("drone_id", drones.ids[units[present]], drones.columns, drone_fields, rows)
        trails = self._trails(units[present], rows, t, trail_s, trail_points)

        patrols = self._patrols
        units = np.arange(len(patrols.ids), dtype=np.int64)
        index = patrols.timeline.last_at(units, t)
        present = index >= 0
        status = np.array(STATUSES, dtype=object)[self.patrol_status_codes(units[present], t)]
        patrol_list = _records("patrol_id", patrols.ids[units[present]], patrols.columns, ("ts", "lat", "lon"),
                               index[present], extra={"status": status.tolist()})

        sightings = self._sightings
        units = np.arange(len(sightings.ids), dtype=np.int64)
        index = sightings.timeline.last_at(units, t)
        last_clear = gather(self._clears_ts, self._clear_timeline.last_at(units, t), np.iinfo(np.int64).min)
        open_now = (index >= 0) & (gather(sightings.columns["ts"], index, 0) > last_clear)
        open_now &= t < self._sighting_ended
        sighting_fields = ("ts", "drone_id", "operator_id", "category", "lat", "lon", "priority", "note")
        sighting_list = _records("sighting_id", sightings.ids[units[open_now]], sightings.columns, sighting_fields,
                                 index[open_now])
        for found, number in zip(sighting_list, self._numbers[units[open_now]].tolist()):
            if number is not None:  # as in the live picture: no number field before numbering existed
                found["number"] = number

        return {"t": t, "drones": drone_list, "patrols": patrol_list, "sightings": sighting_list,
                "assignments": self._open_assignments(t), "alerts": self._open_alerts(t), "trails": trails}

    def _trails(self, units: np.ndarray, rows: np.ndarray, t: int, trail_s: float, trail_points: int) -> dict:
        if trail_s <= 0 or not len(units):
            return {}
        drones = self._drones
        starts = drones.timeline.first_from(units, t - int(trail_s * 1000))
        ts, lat, lon = drones.columns["ts"], drones.columns["lat"], drones.columns["lon"]
        trails = {}
        for drone_id, start, end in zip(drones.ids[units], starts.tolist(), (rows + 1).tolist()):
            picked = start + downsample(ts[start:end], trail_points)
            trails[drone_id] = {"ts": ts[picked].tolist(), "lat": lat[picked].tolist(), "lon": lon[picked].tolist()}
        return trails

    def _open_assignments(self, t: int) -> list[dict]:
        units = np.arange(len(self._asg_ids), dtype=np.int64)
        index = self._asg_timeline.last_at(units, t)
        index = index[index >= 0]
        index = index[_OPEN_STATE[self._asg_state[index]]]
        rows = self._asg_frame.iloc[index]
        found = []
        for row in rows.itertuples(index=False):
            found.append({
                "assignment_id": row.assignment_id, "sighting_id": row.sighting_id, "patrol_id": row.patrol_id,
                "supervisor_id": row.supervisor_id, "ts": int(row.ts), "state": row.state,
                "assigned_ts": None if pd.isna(row.assigned_ts) else int(row.assigned_ts),
            })
        return sorted(found, key=lambda a: (a["assigned_ts"] or a["ts"], a["assignment_id"]))

    def _open_alerts(self, t: int) -> list[dict]:
        units = np.arange(len(self._alert_ids), dtype=np.int64)
        index = self._alert_timeline.last_at(units, t)
        rows = self._alert_frame.iloc[index[index >= 0]]
        rows = rows[rows["event"] != "resolved"]
        return [{"alert_id": r.alert_id, "kind": r.kind, "unit_id": r.unit_id, "severity": r.severity,
                 "message": r.message, "since_ms": None if pd.isna(r.since_ms) else int(r.since_ms),
                 "lat": None if pd.isna(r.lat) else float(r.lat), "lon": None if pd.isna(r.lon) else float(r.lon),
                 "state": r.state, "acknowledged_by": r.by, "ts": int(r.ts)}
                for r in rows.itertuples(index=False)]

    # ------------------------------------------------------------------ tracks

    def track(self, kind: str, unit_id: str, from_ms: int | None = None, to_ms: int | None = None, *,
              max_points: int | None = None, at_ms: int | None = None) -> pd.DataFrame:
        """One drone's or patrol's positions (ts, lat, lon) over [from_ms, to_ms] (default: the window).

        With `max_points` the track is downsampled for display, always keeping
        the position at `at_ms` (the chosen instant) when it falls in the range.
        """
        positions = self._drones if kind == "drone" else self._patrols
        matches = np.flatnonzero(positions.ids == unit_id)
        if not len(matches):
            return pd.DataFrame({"ts": np.empty(0, np.int64), "lat": np.empty(0), "lon": np.empty(0)})
        return self._slice(positions, int(matches[0]), from_ms, to_ms, max_points, at_ms)

    def tracks(self, kind: str, from_ms: int | None = None, to_ms: int | None = None, *,
               max_points: int | None = None, at_ms: int | None = None) -> Iterable[tuple[str, pd.DataFrame]]:
        """(unit id, track) for every drone or patrol with a position in the range."""
        positions = self._drones if kind == "drone" else self._patrols
        for code, unit_id in enumerate(positions.ids):
            track = self._slice(positions, code, from_ms, to_ms, max_points, at_ms)
            if len(track):
                yield unit_id, track

    def _slice(self, positions: _Positions, code: int, from_ms, to_ms, max_points, at_ms) -> pd.DataFrame:
        from_ms = self.bounds[0] if from_ms is None else from_ms
        to_ms = self.bounds[1] if to_ms is None else to_ms
        timeline = positions.timeline
        start = int(timeline.first_from(code, from_ms))
        end = int(timeline.last_at(code, to_ms)) + 1
        end = max(end, start) if end > 0 else start
        ts = positions.columns["ts"][start:end]
        picked = np.arange(len(ts))
        if max_points is not None:
            keep = None
            if at_ms is not None:
                at = int(timeline.last_at(code, at_ms))
                keep = at - start if start <= at < end else None
            picked = downsample(ts, max_points, keep)
        return pd.DataFrame({"ts": ts[picked], "lat": positions.columns["lat"][start:end][picked],
                             "lon": positions.columns["lon"][start:end][picked]})

    # ------------------------------------------------------------------ events

    def events(self) -> pd.DataFrame:
        """What happened in the window, in time order, for a list a page can jump from.

        Columns: ts, kind ("sighting", "assignment", "alert"), event
        (sighting: created, then its ending: dispatched, closed, merged,
        ended_by_operator, expired; assignment: created, acknowledged, en_route,
        on_scene, cleared, cancelled; alert: raised, acknowledged, resolved),
        id (the sighting, assignment or alert id), sighting_id, patrol_id,
        actor (who acted: supervisor or patrol code), detail (category and
        priority; an ending's incident number when recorded, disposition and
        reason or merge target; outcome; alert message).
        """
        if self._events is None:
            self._events = _events(self)
        return self._events


def _records(id_field: str, ids: np.ndarray, columns: Mapping[str, np.ndarray], fields: tuple[str, ...],
             rows: np.ndarray, extra: Mapping[str, list] | None = None) -> list[dict]:
    names = [id_field, *fields, *(extra or {})]
    values = [ids.tolist()] + [_plain(columns[name][rows]) for name in fields] + list((extra or {}).values())
    return [dict(zip(names, row)) for row in zip(*values)]


def _plain(values) -> list:
    if isinstance(values, pd.Categorical):
        return list(np.asarray(values, dtype=object))
    return values.tolist()


def _events(history: History) -> pd.DataFrame:
    from_ms, to_ms = history.bounds
    columns = ["ts", "kind", "event", "id", "sighting_id", "patrol_id", "actor", "detail"]
    parts = []
    sightings = history.sightings
    if len(sightings):
        first = sightings.sort_values(["ts", "seq"]).drop_duplicates("sighting_id", keep="first")
        parts.append(pd.DataFrame({
            "ts": first["ts"].to_numpy(), "kind": "sighting", "event": "created",
            "id": first["sighting_id"].astype(object).to_numpy(),
            "sighting_id": first["sighting_id"].astype(object).to_numpy(), "patrol_id": None,
            "actor": first["operator_id"].astype(object).to_numpy(),
            "detail": _with_numbers(first["sighting_id"].astype(object).tolist(),
                                    (first["category"].astype(str) + " priority "
                                     + first["priority"].astype(str)).tolist(), history.sighting_numbers),
            "order": 0, "seq": first["seq"].to_numpy()}))
    assignments = history.assignments
    if len(assignments):
        detail = assignments["outcome"].fillna("").astype(str)
        replaced = assignments["replaced_by"].notna()
        detail = detail.where(~replaced, "replaced by " + assignments["replaced_by"].fillna("").astype(str))
        parts.append(pd.DataFrame({
            "ts": assignments["ts"].to_numpy(), "kind": "assignment", "event": assignments["event"].to_numpy(),
            "id": assignments["assignment_id"].to_numpy(), "sighting_id": assignments["sighting_id"].to_numpy(),
            "patrol_id": assignments["patrol_id"].to_numpy(), "actor": assignments["actor"].to_numpy(),
            "detail": detail.to_numpy(), "order": 1, "seq": assignments["seq"].to_numpy()}))
    endings = history.endings
    if len(endings):
        parts.append(pd.DataFrame({
            "ts": endings["ts"].to_numpy(), "kind": "sighting", "event": endings["disposition"].to_numpy(),
            "id": endings["sighting_id"].to_numpy(), "sighting_id": endings["sighting_id"].to_numpy(),
            "patrol_id": None, "actor": endings["actor"].to_numpy(),
            "detail": [ending_detail(row) for row in endings.to_dict("records")],
            "order": 1.5, "seq": endings["seq"].to_numpy()}))
    alerts = history.alerts
    if len(alerts):
        parts.append(pd.DataFrame({
            "ts": alerts["ts"].to_numpy(), "kind": "alert", "event": alerts["event"].to_numpy(),
            "id": alerts["alert_id"].to_numpy(), "sighting_id": None, "patrol_id": None,
            "actor": alerts["by"].to_numpy(), "detail": alerts["message"].to_numpy(),
            "order": 2, "seq": alerts["seq"].to_numpy()}))
    if not parts:
        return pd.DataFrame({name: pd.Series(dtype=np.int64 if name == "ts" else object) for name in columns})
    events = pd.concat(parts, ignore_index=True)
    events = events[(events["ts"] >= from_ms) & (events["ts"] <= to_ms)]
    events = events.sort_values(["ts", "order", "seq"], kind="stable")
    events = events[columns].reset_index(drop=True)
    events["ts"] = events["ts"].astype(np.int64)
    for name in columns[1:]:
        events[name] = events[name].astype(object)
    return events


def _with_numbers(sighting_ids: list[str], details: list[str], numbers: Mapping[str, str]) -> list[str]:
    """A tagged sighting's detail, led by its incident number when it has one: "S-0142 deal priority 1"."""
    return [f"{numbers[sid]} {detail}" if sid in numbers else detail for sid, detail in zip(sighting_ids, details)]


def ending_detail(ending: Mapping) -> str:
    """An ending in words for the event list: "S-0142 closed: false alarm", "merged into 3f9a2b1c", ..."""
    disposition = ending.get("disposition") or "ended"
    words = {"expired": "expired, nobody sent"}.get(disposition, disposition)
    if disposition == Disposition.ENDED_BY_OPERATOR.value:
        words = operator_end_words(ending)
    elif disposition == "closed":
        try:
            reason = REASON_LABELS[CloseReason(ending.get("reason") or CloseReason.OTHER.value)]
        except ValueError:
            reason = str(ending.get("reason"))
        words += f": {reason}" + (f" ({ending['text']})" if ending.get("text") else "")
    elif disposition == "merged" and ending.get("merged_into"):
        words += f" into {str(ending['merged_into'])[:8]}"
    return f"{ending['number']} {words}" if ending.get("number") else words


def naive_picture_at(messages: Iterable[Message], t_ms: int) -> Picture:
    """The reference: fold the one reducer (picture.apply) over every message with ts <= t, in arrival order.

    What replay would cost without an index (a full scan per seek); the
    benchmark compares it with History.picture_at and the tests check the two agree.
    """
    return fold(m for m in messages if m.ts <= t_ms)
