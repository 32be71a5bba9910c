"""The supervisor's "Tablet code" panel: a patrol's call sign in, its 6-digit sign-in code out.

Patrols have no password: at the start of a shift the supervisor issues a
one-time code (dispatch/store/accounts.py) and reads it out to the crew, who
type it on the tablet's sign-in page with their call sign. The code is shown
once, on this screen only; it is stored hashed and the issue is audited
(never the code itself).

A small folding panel (<details>) at the foot of the supervisor's side column,
so that the wall screen keeps its layout when nobody is issuing codes.
"""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import dash
from dash import Input, Output, State, dcc, html

from .... import clock
from ....store import accounts
from ....web.auth import client_origin, current_identity, guard_callback
from ....errors import PictureUnavailable
from ....web.context import context
from . import ids

MAX_INPUT_CHARS = 16


def panel() -> html.Details:
    return html.Details(id=ids.CODES_PANEL, className="codes", children=[
        html.Summary("Tablet code"),
        html.Div(className="codes-form", children=[
            dcc.Input(id=ids.CODES_PATROL, type="text", placeholder="Call sign, e.g. BAC-12", maxLength=MAX_INPUT_CHARS,
                      autoComplete="off", debounce=False, className="codes-input"),
            html.Button("Issue code", id=ids.CODES_ISSUE, className="codes-issue"),
        ]),
        html.Div(id=ids.CODES_RESULT, className="codes-result", role="status", **{"aria-live": "polite"}),
    ])


def register(app: dash.Dash) -> None:
    app.callback(Output(ids.CODES_RESULT, "children"), Input(ids.CODES_ISSUE, "n_clicks"), State(ids.CODES_PATROL, "value"),
                 prevent_initial_call=True)(guard_callback("dispatch")(issue))


def issue(_clicks, patrol_id) -> list:
    """The code for the call sign typed, or why there is none; every string shown as text."""
    call_sign = (patrol_id or "").strip().upper()[:MAX_INPUT_CHARS]
    if not call_sign:
        return [html.Span("Type a call sign first", className="codes-error")]
    ui = context()
    hours = getattr(ui.settings, "patrol_code_hours", 12.0)
    now_ms = clock.now_ms()
    try:
        identity = current_identity()
        code = ui.redis(lambda client: accounts.issue_patrol_code(
            client, ui.keys, patrol_id=call_sign, issued_by=identity.user_id, origin=client_origin(),
            now_ms=now_ms, ttl_s=hours * 3600))
    except accounts.AccountError as error:
        return [html.Span(str(error), className="codes-error")]
    except PictureUnavailable as error:
        return [html.Span(f"Not issued: {error}", className="codes-error")]
    return [
        html.Div(f"Tablet code for {call_sign}", className="codes-for"),
        html.Div(f"{code[:3]} {code[3:]}", className="codes-code", **{"data-code": code}),
        html.Div(f"Valid once, for {hours:g} h (until {_clock(now_ms + int(hours * 3_600_000), ui.settings.timezone)}); "
                 "replaces any earlier code.", className="codes-note"),
    ]


def _clock(ms: int, tz_name: str) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).astimezone(ZoneInfo(tz_name)).strftime("%H:%M")
