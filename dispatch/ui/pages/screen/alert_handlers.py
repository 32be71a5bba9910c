"""The alert panel's own server action: "acknowledge all of this kind".

Kept apart from handlers.py (the one-at-a-time dispatch actions) so
the alert panel can grow without reshaping them. Same shape as those: the page
writes `{kind, alert_ids, nonce}` into a dcc.Store (`set_props`), the server
callback answers `{nonce, ok, message, kind, acknowledged, already, not_open}`
into the result store, and a clientside callback hands the answer to
assets/screen_alerts.js. A refusal comes back as `ok: False` with a readable
reason, never as an exception.

`alert_ids` are the ids the screen showed under that kind: the supervisor
acknowledges what they saw; an alert raised a moment later stays to be seen.
"""

from __future__ import annotations

from typing import Any, Mapping

import redis
from dash import ClientsideFunction, Input, Output, dcc

from .... import clock
from ....web import auth as webauth
from ....domain.alerts import AlertError
from ....keys import Keys
from ....settings import Settings
from ....store import alerts as alert_store
from ....errors import PictureUnavailable
from ....web.context import context
from . import ids

MAX_ID_CHARS = 80


def stores() -> list[dcc.Store]:
    """The stores the supervisor layout must carry for this action."""
    return [dcc.Store(id=ids.ALERT_BULK_REQUEST), dcc.Store(id=ids.ALERT_BULK_RESULT), dcc.Store(id=ids.ALERT_BULK_SINK)]


def register(app) -> None:
    app.callback(Output(ids.ALERT_BULK_RESULT, "data"), Input(ids.ALERT_BULK_REQUEST, "data"),
                 prevent_initial_call=True)(webauth.guard_callback("dispatch")(answer_bulk))
    app.clientside_callback(ClientsideFunction("dispatchAlerts", "onBulk"),
                            Output(ids.ALERT_BULK_SINK, "data"), Input(ids.ALERT_BULK_RESULT, "data"), prevent_initial_call=True)


def acknowledge_all(client: redis.Redis, keys: Keys, request: Mapping, *, supervisor_id: str,
                    origin: str = "internal", now_ms: int | None = None, live_maxlen: int = Settings.live_maxlen,
                    retention_ms: int = Settings().retention_ms) -> dict:
    """Acknowledge the alerts of one kind the screen showed; the answer says how many, and which not, in words."""
    now_ms = clock.now_ms(now_ms)
    request = request if isinstance(request, Mapping) else {}
    kind, alert_ids = request.get("kind"), request.get("alert_ids")
    try:
        if not isinstance(kind, str) or not kind or len(kind) > MAX_ID_CHARS:
            raise AlertError("bad request: kind missing or malformed")
        if alert_ids is not None and (not isinstance(alert_ids, list) or not all(
                isinstance(a, str) and 0 < len(a) <= MAX_ID_CHARS for a in alert_ids)):
            raise AlertError("bad request: alert_ids must be a list of alert ids")
        done = alert_store.acknowledge_kind(client, keys, kind, supervisor_id, now_ms, alert_ids=alert_ids,
                                            live_maxlen=live_maxlen, retention_ms=retention_ms, origin=origin)
    except AlertError as refusal:
        return _answer(request, ok=False, message=str(refusal))
    return _answer(request, ok=True, message=done.summary(), kind=kind,
                   acknowledged=[a.alert_id for a in done.acknowledged], already=sorted(done.already),
                   not_open=done.not_open)


def answer_bulk(request: Any) -> dict:
    """The signed-in supervisor acknowledges a kind (guard_callback refuses anyone else)."""
    ui = context()
    identity, origin = webauth.current_identity(), webauth.client_origin()
    try:
        return ui.redis(lambda client: acknowledge_all(
            client, ui.keys, request, supervisor_id=identity.user_id, origin=origin,
            live_maxlen=ui.settings.live_maxlen, retention_ms=ui.settings.retention_ms))
    except PictureUnavailable as error:
        return _answer(request, ok=False, message=f"Not done: {error}")


def _answer(request: Any, *, ok: bool, message: str, **fields) -> dict:
    nonce = request.get("nonce") if isinstance(request, Mapping) else None
    return {"nonce": nonce if isinstance(nonce, (int, str)) else None, "ok": ok, "message": message, **fields}
