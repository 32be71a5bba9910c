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

from .. import webauth
from ..domain.alerts import AlertError
from ..domain.lifecycle import DISPLAY_TIMEZONE, explain_sighting_closed
from ..domain.sightings import REASON_LABELS
from ..keys import Keys
from ..settings import Settings
from ..store import alerts as alert_store
from ..store import assignments as assignment_store
from ..store.nearest import nearest_available
from . import PictureUnavailable, context, ids
from .format import distance_text, eta_text

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
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    action = request.get("action") if isinstance(request, Mapping) else None
    try:
        if action == "assign":
            done = assignment_store.assign(
                client, keys, sighting_id=_id(request, "sighting_id"), patrol_id=_id(request, "patrol_id"),
                supervisor_id=supervisor_id, now_ms=now_ms, live_maxlen=live_maxlen, tz=tz, origin=origin)
            return _answer(request, ok=True, message=f"{done.patrol_id} assigned to sighting {_short(done.sighting_id)}",
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
            return _answer(request, ok=True, message=f"Reassigned: {done.patrol_id} now has sighting "
                                                     f"{_short(done.sighting_id)}", **_assignment_fields(done))
        if action == "acknowledge":
            alert = alert_store.acknowledge(client, keys, _id(request, "alert_id"), supervisor_id, now_ms,
                                            live_maxlen=live_maxlen, retention_ms=retention_ms, origin=origin)
            return _answer(request, ok=True, alert_id=alert.alert_id,
                           message=f"Alert acknowledged by {alert.acknowledged_by}")
        if action == "close":
            done = assignment_store.close_sighting(
                client, keys, sighting_id=_id(request, "sighting_id"), supervisor_id=supervisor_id,
                reason=_id(request, "reason"), text=_text(request, "text"), now_ms=now_ms, live_maxlen=live_maxlen,
                origin=origin)
            label = REASON_LABELS[done.reason] if done.text == "" else done.text
            return _answer(request, ok=True, sighting_id=done.sighting_id, disposition=done.disposition.value,
                           message=f"Sighting {_short(done.sighting_id)} closed: {label}")
        if action == "merge":
            done = assignment_store.merge_sighting(
                client, keys, sighting_id=_id(request, "sighting_id"), into=_id(request, "into"),
                supervisor_id=supervisor_id, now_ms=now_ms, live_maxlen=live_maxlen, origin=origin)
            return _answer(request, ok=True, sighting_id=done.sighting_id, disposition=done.disposition.value,
                           merged_into=done.merged_into,
                           message=f"Sighting {_short(done.sighting_id)} merged into {_short(done.merged_into)}")
        what = "no action given" if action is None else f"unknown action {str(action)[:40]!r}"
        raise BadRequest(f"{what}: expected one of {', '.join(ACTIONS)}")
    except (assignment_store.AssignmentRefused, AlertError, BadRequest) as refusal:
        return _answer(request, ok=False, message=getattr(refusal, "reason", None) or str(refusal))


# ----------------------------------------------------------------------------- Dash glue


def register(app) -> None:
    """Bind the two server callbacks to `app` (see dispatch/ui/__init__.py for why not @dash.callback)."""
    app.callback(Output(ids.NEAREST_RESULT, "data"), Input(ids.NEAREST_REQUEST, "data"),
                 prevent_initial_call=True)(answer_nearest)
    app.callback(Output(ids.ACTION_RESULT, "data"), Input(ids.ACTION_REQUEST, "data"),
                 prevent_initial_call=True)(answer_action)


def answer_nearest(request: Any) -> dict:
    ui = context()
    return _guarded(request, lambda client: nearest_for(client, ui.keys, _mapping(request)))


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
