"""What the supervisor screen asks the server: nearest patrols, and the dispatch actions.

The page writes a request into a dcc.Store (from its scripts, with
`dash_clientside.set_props`); one server callback per store answers into the
matching result store, which a clientside callback hands back to the scripts.
Each request carries a `nonce` that the answer echoes, so the page can tell the
answer to its latest question from a late answer to an earlier one.

The work itself is done by plain functions (`nearest_for`, `perform`) taking
a Redis client: the integration tests call them as they are, and the Dash
callbacks only add the process's client and settings. Every refusal comes back
as `ok: False` with the store's readable reason ("BAC-12 is already assigned to
sighting …"), never as an exception: the screen shows it as it is.

Everything in a request comes from the browser and is treated as untrusted: ids
are checked for type and length here, and for format by the store.
"""

from __future__ import annotations

import time
from datetime import tzinfo
from typing import Any, Mapping
from zoneinfo import ZoneInfo

import orjson
import redis
from dash import Input, Output

from .... import clock
from ....web import auth as webauth
from ....domain import unit_status
from ....domain.alerts import AlertError
from ....domain.lifecycle import DISPLAY_TIMEZONE, explain_sighting_closed
from ....domain.validate import ClockLimits
from ....domain.sightings import REASON_LABELS
from ....keys import Keys
from ....settings import Settings
from ....store import alerts as alert_store
from ....store import assignments as assignment_store
from ....store import unit_history
from ....store.history import clock_limits
from ....store.nearest import nearest_available
from ....errors import PictureUnavailable
from ....web.context import context
from ...format import distance_text, eta_text
from . import ids

NEAREST_COUNT = 5  # the keys 1-5 pick one of them
MAX_ID_CHARS = 64  # longer than any valid id: anything longer is refused before Redis sees it
ACTIONS = ("assign", "cancel", "reassign", "acknowledge", "close", "merge")
MAX_TEXT_CHARS = 200  # well above the reason text's own cap: the store's rule gives the readable refusal


class BadRequest(ValueError):
    """A request the page could not have built itself: a bug or a forged request."""


def nearest_for(client: redis.Redis, keys: Keys, request: Mapping, *, k: int = NEAREST_COUNT) -> dict:
    """The `k` available patrols nearest to an open sighting, best first, ready to show.

    The sighting's position is read from the store, not taken from the request:
    the page may show a sighting that has just been closed, and then the answer
    says so.
    """
    try:
        sighting_id = _id(request, "sighting_id")
    except BadRequest as error:
        return _answer(request, ok=False, message=str(error))
    raw = client.hget(keys.sightings, sighting_id)
    if raw is None:
        return _answer(request, ok=False, sighting_id=sighting_id, candidates=[],
                       message=explain_sighting_closed(sighting_id))
    sighting = orjson.loads(raw)
    found = nearest_available(client, keys, sighting["lat"], sighting["lon"], k)
    candidates = [
        {"rank": rank, "patrol_id": c.patrol_id, "lat": c.lat, "lon": c.lon,
         "distance_m": round(c.distance_m), "eta_s": round(c.eta_s),
         "distance": distance_text(c.distance_m), "eta": eta_text(c.eta_s)}
        for rank, c in enumerate(found, start=1)
    ]
    message = "" if candidates else "No available patrol within reach: every patrol is busy or off duty"
    return _answer(request, ok=True, sighting_id=sighting_id, candidates=candidates, message=message)


def perform(
    client: redis.Redis, keys: Keys, request: Mapping, *, supervisor_id: str, origin: str = "internal",
    now_ms: int | None = None, live_maxlen: int = Settings.live_maxlen,
    retention_ms: int = Settings().retention_ms, tz: tzinfo = DISPLAY_TIMEZONE,
) -> dict:
    """Run one supervisor action (assign, cancel, reassign, acknowledge, close a sighting with a reason,
    merge a duplicate into another sighting); refusals come back readable."""
    now_ms = clock.now_ms(now_ms)
    action = request.get("action") if isinstance(request, Mapping) else None
    try:
        if action == "assign":
            done = assignment_store.assign(
                client, keys, sighting_id=_id(request, "sighting_id"), patrol_id=_id(request, "patrol_id"),
                supervisor_id=supervisor_id, now_ms=now_ms, live_maxlen=live_maxlen, tz=tz, origin=origin)
            return _answer(request, ok=True, message=f"{done.patrol_id} sent to {_label(client, keys, done.sighting_id)}",
                           **_assignment_fields(done))
        if action == "cancel":
            done = assignment_store.cancel(client, keys, assignment_id=_id(request, "assignment_id"),
                                           supervisor_id=supervisor_id, now_ms=now_ms, live_maxlen=live_maxlen,
                                           origin=origin)
            return _answer(request, ok=True, message=f"Assignment cancelled: {done.patrol_id} is available again",
                           **_assignment_fields(done))
        if action == "reassign":
            done = assignment_store.reassign(
                client, keys, assignment_id=_id(request, "assignment_id"), new_patrol_id=_id(request, "patrol_id"),
                supervisor_id=supervisor_id, now_ms=now_ms, live_maxlen=live_maxlen, tz=tz, origin=origin,
                confirmed=request.get("confirmed") is True)
            return _answer(request, ok=True, message=f"Reassigned: {done.patrol_id} sent to "
                                                     f"{_label(client, keys, done.sighting_id)}",
                           **_assignment_fields(done))
        if action == "acknowledge":
            alert = alert_store.acknowledge(client, keys, _id(request, "alert_id"), supervisor_id, now_ms,
                                            live_maxlen=live_maxlen, retention_ms=retention_ms, origin=origin)
            return _answer(request, ok=True, alert_id=alert.alert_id,
                           message=f"Alert acknowledged by {alert.acknowledged_by}")
        if action == "close":
            label = _label(client, keys, _id(request, "sighting_id"))  # read before: the ending removes it
            done = assignment_store.close_sighting(
                client, keys, sighting_id=_id(request, "sighting_id"), supervisor_id=supervisor_id,
                reason=_id(request, "reason"), text=_text(request, "text"), now_ms=now_ms, live_maxlen=live_maxlen,
                origin=origin)
            reason = REASON_LABELS[done.reason] if done.text == "" else done.text
            return _answer(request, ok=True, sighting_id=done.sighting_id, disposition=done.disposition.value,
                           message=f"Sighting {label} closed: {reason}")
        if action == "merge":
            label, into = _label(client, keys, _id(request, "sighting_id")), _label(client, keys, _id(request, "into"))
            done = assignment_store.merge_sighting(
                client, keys, sighting_id=_id(request, "sighting_id"), into=_id(request, "into"),
                supervisor_id=supervisor_id, now_ms=now_ms, live_maxlen=live_maxlen, origin=origin)
            return _answer(request, ok=True, sighting_id=done.sighting_id, disposition=done.disposition.value,
                           merged_into=done.merged_into,
                           message=f"Sighting {label} merged into {into}")
        what = "no action given" if action is None else f"unknown action {str(action)[:40]!r}"
        raise BadRequest(f"{what}: expected one of {', '.join(ACTIONS)}")
    except (assignment_store.AssignmentRefused, AlertError, BadRequest) as refusal:
        return _answer(request, ok=False, message=getattr(refusal, "reason", None) or str(refusal))


# ----------------------------------------------------------------------------- units: any patrol, detail, time in status

UNIT_QUERIES = ("available", "detail", "since")
ANY_RADIUS_M = 60_000  # as far as the nearest list looks (store/nearest.py): a patrol beyond is not "at hand"
ANY_LIMIT = 200  # rows of the board's distance column; the board lists more patrols than that only in a city
TYPED_LIMIT = 8  # matches under the typed call sign
HISTORY_ROWS = 12  # status changes listed in a patrol's detail, newest first


def units_for(
    client: redis.Redis, keys: Keys, request: Mapping, *, now_ms: int | None = None,
    limits: ClockLimits = ClockLimits(), window_ms: int = unit_history.DEFAULT_WINDOW_MS,
    max_entries: int = unit_history.DEFAULT_MAX_ENTRIES,
) -> dict:
    """What the board and the panels ask about units, by `query`:

    - "available": every available patrol for a sighting with its distance and ETA (ranking rules),
      its place by distance, whether the nearest list shows it; narrowed by a typed call sign (`text`);
    - "detail": one patrol: its report, current assignment (with the sighting's number), time in
      status and its status changes this shift, from the record (store/unit_history.py);
    - "since": when every patrol in the picture entered its current status, from the record.
    """
    now_ms = clock.now_ms(now_ms)
    query = request.get("query") if isinstance(request, Mapping) else None
    try:
        if query == "available":
            return _available(client, keys, request)
        if query == "detail":
            return _detail(client, keys, request, now_ms, limits, window_ms, max_entries)
        if query == "since":
            return _since(client, keys, request, now_ms, limits, window_ms, max_entries)
        what = "no query given" if query is None else f"unknown query {str(query)[:40]!r}"
        raise BadRequest(f"{what}: expected one of {', '.join(UNIT_QUERIES)}")
    except BadRequest as refusal:
        return _unit_answer(request, ok=False, message=str(refusal))


def _available(client: redis.Redis, keys: Keys, request: Mapping) -> dict:
    sighting_id = _id(request, "sighting_id")
    text = _text(request, "text")
    if len(text) > unit_status.MAX_QUERY_CHARS:
        raise BadRequest("bad request: text too long for a call sign")
    raw = client.hget(keys.sightings, sighting_id)
    if raw is None:
        return _unit_answer(request, ok=False, sighting_id=sighting_id, patrols=[],
                            message=explain_sighting_closed(sighting_id))
    sighting = orjson.loads(raw)
    found = client.geosearch(keys.patrols_available, longitude=sighting["lon"], latitude=sighting["lat"],
                             radius=ANY_RADIUS_M, unit="m", withcoord=True)
    rows = [(_text_of(member), lat, lon) for member, (lon, lat) in found]
    typed = unit_status.normalise_query(text)
    chosen = unit_status.choices(sighting["lat"], sighting["lon"], rows, query=typed, nearest_count=NEAREST_COUNT,
                                 limit=TYPED_LIMIT if typed else ANY_LIMIT)
    patrols = [{"patrol_id": c.candidate.patrol_id, "place": c.place, "among_nearest": c.among_nearest,
                "distance_m": round(c.candidate.distance_m), "eta_s": round(c.candidate.eta_s),
                "distance": distance_text(c.candidate.distance_m), "eta": eta_text(c.candidate.eta_s)}
               for c in chosen]
    if patrols:
        message = ""
    elif typed:
        message = f"No available patrol matches {typed!r}"
    else:
        message = "No available patrol within reach: every patrol is busy or off duty"
    return _unit_answer(request, ok=True, sighting_id=sighting_id, number=_number_of(sighting, sighting_id),
                        text=typed, patrols=patrols, available=len(rows), message=message)


def _detail(client: redis.Redis, keys: Keys, request: Mapping, now_ms: int, limits: ClockLimits, window_ms: int,
            max_entries: int) -> dict:
    patrol_id = _id(request, "patrol_id")
    raw = client.hget(keys.patrols, patrol_id)
    if raw is None:
        return _unit_answer(request, ok=False, patrol_id=patrol_id,
                            message=f"{patrol_id} is not in the picture: off duty, or it never reported")
    patrol = orjson.loads(raw)
    status = str(patrol.get("status", ""))
    assignment = None
    assignment_id = client.hget(keys.patrol_assignment, patrol_id)
    held = client.hget(keys.assignments_open, assignment_id) if assignment_id else None
    if held is not None:
        current = orjson.loads(held)
        assignment = {"assignment_id": current.get("assignment_id"), "sighting_id": current.get("sighting_id"),
                      "state": current.get("state"), "ts": current.get("ts"),
                      "assigned_ts": current.get("assigned_ts"), "supervisor_id": current.get("supervisor_id")}
    record = unit_history.read_status_record(client, keys, now_ms, patrol_ids=[patrol_id], window_ms=window_ms,
                                             max_entries=max_entries, limits=limits)
    changes = record.changes(patrol_id)
    run = unit_status.run_start(changes, status)
    shown, older = unit_status.recent(changes, HISTORY_ROWS)
    sighting_ids = sorted({c.sighting_id for c in shown if c.sighting_id}
                          | ({assignment["sighting_id"]} if assignment else set()))
    labels = _labels(client, keys, sighting_ids)
    if assignment:
        assignment["number"] = labels.get(assignment["sighting_id"], "")
    history = [{"ts": c.ts, "status": c.status, "cause": c.cause,
                "sighting": labels.get(c.sighting_id, "") if c.sighting_id else ""} for c in shown]
    return _unit_answer(request, ok=True, patrol_id=patrol_id, status=status, ts=patrol.get("ts"),
                        lat=patrol.get("lat"), lon=patrol.get("lon"), assignment=assignment,
                        since=_since_fields(patrol_id, run, changes, record, limits), history=history, older=older,
                        read_from_ms=record.read_from_ms, complete=record.complete)


def _since(client: redis.Redis, keys: Keys, request: Mapping, now_ms: int, limits: ClockLimits, window_ms: int,
           max_entries: int) -> dict:
    current = {}
    for patrol_id, raw in client.hgetall(keys.patrols).items():
        status = orjson.loads(raw).get("status")
        if isinstance(status, str):
            current[_text_of(patrol_id)] = status
    record = unit_history.read_status_record(client, keys, now_ms, current=current, window_ms=window_ms,
                                             max_entries=max_entries, limits=limits)
    since = {}
    for patrol_id, status in current.items():
        changes = record.changes(patrol_id)
        fields = _since_fields(patrol_id, unit_status.run_start(changes, status), changes, record, limits)
        if fields is not None:
            since[patrol_id] = fields
    return _unit_answer(request, ok=True, since=since, read_from_ms=record.read_from_ms,
                        entries_read=record.entries_read)


def _since_fields(patrol_id: str, run: unit_status.RunStart | None, changes: list,
                 record: unit_history.StatusRecord, limits: ClockLimits) -> dict | None:
    """{status, since_ms, exact}: exact only when no report older than what was read could move it."""
    if run is None:
        return None
    bound = record.read_from_ms + limits.max_future_ms  # no unread report has a greater ts
    exact = unit_status.settled(changes, record.reports.get(patrol_id, []), bound)
    return {"status": run.status, "since_ms": run.since_ms, "exact": exact}


def _labels(client: redis.Redis, keys: Keys, sighting_ids: list[str]) -> dict[str, str]:
    """Incident numbers of sightings still open; the id's start for the others (their number is on the
    ending's record, not read here)."""
    if not sighting_ids:
        return {}
    labels = {}
    for sighting_id, raw in zip(sighting_ids, client.hmget(keys.sightings, sighting_ids)):
        labels[sighting_id] = _number_of(orjson.loads(raw), sighting_id) if raw else _short(sighting_id)
    return labels


def _label(client: redis.Redis, keys: Keys, sighting_id: str) -> str:
    """The sighting's incident number ("S-0142") for a person to read; the id's start if it has none."""
    return _labels(client, keys, [sighting_id])[sighting_id]


def _number_of(sighting: Mapping, sighting_id: str) -> str:
    number = sighting.get("number")
    return number if isinstance(number, str) and number else _short(sighting_id)


def _text_of(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _unit_answer(request: Mapping, *, ok: bool, message: str = "", **fields) -> dict:
    answer = _answer(request, ok=ok, message=message, **fields)
    query = request.get("query") if isinstance(request, Mapping) else None
    if isinstance(query, str) and query in UNIT_QUERIES:
        answer["query"] = query
    return answer


# ----------------------------------------------------------------------------- Dash glue


def register(app) -> None:
    """Bind the server callbacks to `app` (see dispatch/ui/__init__.py for why not @dash.callback); each
    declares the permission it needs (guard_callback), for the app-wide guard and for itself."""
    guard = webauth.guard_callback("dispatch")
    app.callback(Output(ids.NEAREST_RESULT, "data"), Input(ids.NEAREST_REQUEST, "data"),
                 prevent_initial_call=True)(guard(answer_nearest))
    app.callback(Output(ids.ACTION_RESULT, "data"), Input(ids.ACTION_REQUEST, "data"),
                 prevent_initial_call=True)(guard(answer_action))
    app.callback(Output(ids.UNITS_RESULT, "data"), Input(ids.UNITS_REQUEST, "data"),
                 prevent_initial_call=True)(guard(answer_units))


def answer_nearest(request: Any) -> dict:
    ui = context()
    return _guarded(request, lambda client: nearest_for(client, ui.keys, _mapping(request)))


def answer_units(request: Any) -> dict:
    """The board's and the panels' questions about units (guard_callback refuses anyone but a dispatcher)."""
    ui = context()
    settings = ui.settings
    limits = clock_limits(settings.max_future_s, settings.max_past_s)
    return _guarded(request, lambda client: units_for(client, ui.keys, _mapping(request), limits=limits))


def answer_action(request: Any) -> dict:
    """The signed-in supervisor acts (webauth refuses this callback to anyone else)."""
    ui = context()
    settings = ui.settings
    supervisor_id, origin = webauth.current_identity().user_id, webauth.client_origin()
    return _guarded(request, lambda client: perform(
        client, ui.keys, _mapping(request), supervisor_id=supervisor_id, origin=origin,
        live_maxlen=settings.live_maxlen,
        retention_ms=settings.retention_ms, tz=ZoneInfo(settings.timezone)))


def _guarded(request: Any, work) -> dict:
    started = time.perf_counter()
    try:
        answer = context().redis(work)
    except PictureUnavailable as error:
        answer = _answer(_mapping(request), ok=False, message=f"Not done: {error}")
    answer["server_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return answer


# ----------------------------------------------------------------------------- helpers


def _mapping(request: Any) -> Mapping:
    return request if isinstance(request, Mapping) else {}


def _id(request: Mapping, name: str) -> str:
    value = request.get(name) if isinstance(request, Mapping) else None
    if not isinstance(value, str) or not value or len(value) > MAX_ID_CHARS:
        raise BadRequest(f"bad request: {name} missing or malformed")
    return value


def _text(request: Mapping, name: str) -> str:
    """An optional free text (the 'other' reason): a string of bounded length, or empty."""
    value = request.get(name, "") if isinstance(request, Mapping) else ""
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > MAX_TEXT_CHARS:
        raise BadRequest(f"bad request: {name} malformed or too long")
    return value


def _answer(request: Mapping, *, ok: bool, message: str = "", **fields) -> dict:
    nonce = request.get("nonce") if isinstance(request, Mapping) else None
    action = request.get("action") if isinstance(request, Mapping) else None
    answer = {"nonce": nonce if isinstance(nonce, (int, str)) else None, "ok": ok, "message": message}
    if isinstance(action, str) and action in ACTIONS:
        answer["action"] = action
    answer.update(fields)
    return answer


def _assignment_fields(assignment) -> dict:
    return {"assignment_id": assignment.assignment_id, "sighting_id": assignment.sighting_id,
            "patrol_id": assignment.patrol_id, "state": assignment.state.value}


def _short(event_id: str) -> str:
    return event_id[:8] if len(event_id) > 12 else event_id
