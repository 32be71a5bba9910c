"""The patrol tablet's JSON routes: its actions, its position, and what it may show.

    POST /api/patrol/action     {action_id, action, assignment_id?, outcome?, tapped_ms?, lat?, lon?}
    POST /api/patrol/position   {lat, lon, ts?, status?}
    GET  /api/patrol/view       the tablet's own picture, while its live socket is down

Every route needs the "patrol_actions" permission (a signed-in patrol); the
patrol is the session's, never anything the body says (a `patrol_id` there is
ignored). POSTs carry the CSRF header checked by dispatch/web/auth.py.

The tablet's outbox reads the HTTP status to know what to do with an action:

    200  applied (or the recorded answer to an earlier copy: `replayed`)   -> drop it, show the message
    422  refused by a rule, recorded like a success                        -> drop it, show the message
    400  malformed: the tablet's script could not have built it            -> drop it
    409  another copy is being applied right now                           -> keep it, send again shortly
    503  Redis unreachable: nothing was applied                            -> keep it, send again later
"""

from __future__ import annotations

import flask
import orjson

from ..domain.tablet import ACTION_RECORD_TTL_MS, BadAction, parse_action, parse_position
from ..store import patrol_actions
from ..errors import PictureUnavailable
from .context import context
from .auth import client_origin, current_identity, json_response, requires

PERMISSION = "patrol_actions"
MAX_BODY_BYTES = 4_096  # an action is a few hundred bytes


def register(server: flask.Flask) -> None:
    guarded = requires(PERMISSION)
    server.add_url_rule("/api/patrol/action", "patrol_action", guarded(post_action), methods=["POST"])
    server.add_url_rule("/api/patrol/position", "patrol_position", guarded(post_position), methods=["POST"])
    server.add_url_rule("/api/patrol/view", "patrol_view", guarded(get_view), methods=["GET"])


def post_action():
    patrol_id, body, refused = _patrol_and_body()
    if refused:
        return refused
    try:
        action = parse_action(body)
    except BadAction as error:
        return json_response({"ok": False, "message": str(error)}, 400)
    ui = context()
    try:
        applied = ui.redis(lambda client: patrol_actions.perform(
            client, ui.keys, patrol_id=patrol_id, action=action, live_maxlen=ui.settings.live_maxlen,
            origin=client_origin(), ttl_ms=_record_ttl_ms(ui.settings)))
    except patrol_actions.ActionInProgress:
        return json_response({"ok": False, "action_id": action.action_id, "retry": True,
                      "message": "this action is being applied: sending it again shortly"}, 409)
    except PictureUnavailable as error:
        return json_response({"ok": False, "action_id": action.action_id, "retry": True, "message": f"Not done: {error}"},
                     503)
    answer = {**applied.result, "replayed": applied.replayed}
    return json_response(answer, 200 if answer.get("ok") else 422)


def post_position():
    patrol_id, body, refused = _patrol_and_body()
    if refused:
        return refused
    try:
        lat, lon, fix_ms, claimed = parse_position(body)
    except BadAction as error:
        return json_response({"ok": False, "message": str(error)}, 400)
    ui = context()
    try:
        sent = ui.redis(lambda client: patrol_actions.report_position(
            client, ui.keys, patrol_id=patrol_id, lat=lat, lon=lon, fix_ms=fix_ms, claimed_status=claimed))
    except PictureUnavailable as error:
        return json_response({"ok": False, "retry": True, "message": f"Not sent: {error}"}, 503)
    except ValueError as error:
        return json_response({"ok": False, "message": str(error)}, 422)
    return json_response({"ok": True, "status": sent["status"], "ts": int(sent["ts"])}, 200)


def get_view():
    identity = current_identity()
    if identity is None or not identity.patrol_id:
        return json_response({"ok": False, "message": "sign in as a patrol"}, 403)
    ui = context()
    try:
        view = ui.redis(lambda client: patrol_actions.patrol_view(client, ui.keys, identity.patrol_id))
    except PictureUnavailable as error:
        return json_response({"ok": False, "retry": True, "message": str(error)}, 503)
    return json_response({"ok": True, **view}, 200)


def _record_ttl_ms(settings) -> int:
    """How long an action's answer is kept for resends: a day covers any outage a shift can have."""
    return ACTION_RECORD_TTL_MS


def _patrol_and_body():
    """(patrol id of the session, JSON body, None), or (None, None, the refusal to return)."""
    identity = current_identity()
    if identity is None or not identity.patrol_id:  # requires() lets only patrols through; never act without one
        return None, None, json_response({"ok": False, "message": "sign in as a patrol"}, 403)
    length = flask.request.content_length
    if length is not None and length > MAX_BODY_BYTES:
        return None, None, json_response({"ok": False, "message": "bad request: body too large"}, 413)
    raw = flask.request.stream.read(MAX_BODY_BYTES + 1)  # never more, whatever the headers said
    if len(raw) > MAX_BODY_BYTES:
        return None, None, json_response({"ok": False, "message": "bad request: body too large"}, 413)
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None, None, json_response({"ok": False, "message": "bad request: expected a JSON object"}, 400)
    return identity.patrol_id, body, None
