"""What the patrol tablet shows, and the configuration its browser scripts start from (`tablet_config`)."""

from __future__ import annotations

import dash_leaflet as dl
from dash import dcc, html

from .... import clock
from ....domain.models import Outcome
from ....domain.pages import PATROL_SIGNIN, SIGNOUT
from ....domain.tablet import TabletAction, button_rules, open_state_statuses, text_rules
from ....store.patrol_actions import patrol_view
from ....web.auth import current_identity
from ....errors import PictureUnavailable
from ....web.context import context
from ...maps import RENNES
from . import ids

GATEWAY_PATH = "/live"
ZOOM = 15

# Position reports: every 5 s in general, every 2 s while driving to a call (docs/streams.md: 2 s on the move).
POSITION_EVERY_MS = 5_000
POSITION_EN_ROUTE_EVERY_MS = 2_000
BEEP_EVERY_MS = 2_000
# The socket counts as down after this long without being live; the page then polls /api/patrol/view.
OFFLINE_AFTER_MS = 3_000
POLL_MS = 3_000

# Component ids: the page's own (the supervisor's are in ids.py), handed to the scripts in the config.

BUTTON_LABELS = {
    TabletAction.ACKNOWLEDGE: "Acknowledge",
    TabletAction.EN_ROUTE: "En route",
    TabletAction.ON_SCENE: "On scene",
    TabletAction.CLEAR: "Clear…",
    TabletAction.UNAVAILABLE: "Unavailable",
    TabletAction.AVAILABLE: "Available",
}
OUTCOME_LABELS = {
    Outcome.NOTHING_FOUND: "Nothing found",
    Outcome.DISPERSED: "Dispersed",
    Outcome.VEHICLE_CHECKED: "Vehicle checked",
    Outcome.ARREST: "Arrest",
    Outcome.OTHER: "Other",
}


def tablet_config(*, patrol_id: str, settings, initial: dict | None, now_ms: int) -> dict:
    """Everything the browser scripts need, JSON-ready. No secret: the page shows it."""
    return {
        "patrol_id": patrol_id,
        "site": settings.site,
        "timezone": settings.timezone,
        "gateway": {"port": settings.gateway_port, "path": GATEWAY_PATH},
        "api": {"action": "/api/patrol/action", "position": "/api/patrol/position", "view": "/api/patrol/view",
                "sign_out": SIGNOUT},
        "rules": button_rules(),
        "texts": text_rules(),  # the words and values of the page's texts (assets/tablet/text.js)
        "status_of_state": open_state_statuses(),
        "initial": initial,
        "server_ms": now_ms,
        "position_every_ms": POSITION_EVERY_MS,
        "position_en_route_every_ms": POSITION_EN_ROUTE_EVERY_MS,
        "beep_every_ms": BEEP_EVERY_MS,
        "offline_after_ms": OFFLINE_AFTER_MS,
        "poll_ms": POLL_MS,
        # Per site and patrol: a tablet handed to another crew never sends the previous crew's actions.
        "outbox_key": f"dispatch.tablet.{settings.site}.{patrol_id}.outbox",
        "ids": {"root": ids.ROOT, "map": ids.MAP, "map_class": ids.MAP_CLASS, "call_sign": ids.CALL_SIGN, "status": ids.STATUS,
                "link": ids.LINK, "sound": ids.SOUND, "sign_out": ids.SIGN_OUT, "alert": ids.ALERT, "target": ids.TARGET,
                "direction": ids.DIRECTION, "actions": ids.ACTIONS, "outcomes": ids.OUTCOMES, "message": ids.MESSAGE},
    }


def layout(**_query) -> html.Div:
    """The page. Without a signed-in patrol (webauth redirects those before they get here; Dash also
    calls this without one to learn the page's component ids) it is the same page, inert, saying so."""
    ui = context()
    try:
        identity = current_identity()
    except PictureUnavailable:
        identity = None
    config, patrol_id = None, None
    if identity is not None and identity.patrol_id:
        patrol_id = identity.patrol_id
        try:
            initial = ui.redis(lambda client: patrol_view(client, ui.keys, patrol_id))
        except PictureUnavailable:
            initial = None  # the scripts say "offline" and wait for the feed
        config = tablet_config(patrol_id=patrol_id, settings=ui.settings, initial=initial,
                               now_ms=clock.now_ms())
    signed_out = html.Div(className="tab-target-empty", children=[
        "Sign in with your call sign and the code from your supervisor: ",
        html.A("sign in", href=PATROL_SIGNIN)])
    return html.Div(id=ids.ROOT, className="tablet", **{"data-state": "starting" if config else "signed-out"}, children=[
        _header(patrol_id or "—"),
        html.Div(id=ids.ALERT, className="tab-alert", role="alert", hidden=True, children=[
            html.Span("NEW ASSIGNMENT", className="tab-alert-title"),
            html.Span("Tap ACKNOWLEDGE", className="tab-alert-sub"),
        ]),
        html.Main(className="tab-body", children=[
            html.Section(className="tab-map-area", children=[_map(ui.settings.tile_url)]),
            html.Section(className="tab-panel", children=[
                html.Div(id=ids.DIRECTION, className="tab-direction"),
                html.Div(id=ids.TARGET, className="tab-target", children=[
                    html.Div("No assignment", className="tab-target-empty") if config else signed_out]),
                html.Div(id=ids.ACTIONS, className="tab-actions", children=_buttons()),
                html.Div(id=ids.OUTCOMES, className="tab-outcomes", hidden=True, children=_outcome_buttons()),
                html.Div(id=ids.MESSAGE, className="tab-message", role="status", **{"aria-live": "assertive"}),
            ]),
        ]),
        dcc.Store(id=ids.CONFIG, data=config),
        dcc.Store(id=ids.STARTED),
    ])


def _header(patrol_id: str) -> html.Header:
    return html.Header(className="tab-top", children=[
        html.Div(patrol_id, id=ids.CALL_SIGN, className="tab-callsign"),
        html.Div("…", id=ids.STATUS, className="tab-status", **{"data-status": "unknown"}),
        html.Div(id=ids.LINK, className="tab-link", role="status", **{"data-state": "connecting"},
                 children="Connecting…"),
        html.Button("Tap to enable sound", id=ids.SOUND, className="tab-sound", **{"aria-pressed": "false"}),
        html.Button("Sign out", id=ids.SIGN_OUT, className="tab-signout"),
    ])


def _buttons() -> list:
    return [html.Button(label, className=f"tab-button tab-act-{action.value}", disabled=True,
                        **{"data-action": action.value})
            for action, label in BUTTON_LABELS.items()]


def _outcome_buttons() -> list:
    choices = [html.Button(label, className="tab-button tab-outcome", **{"data-outcome": outcome.value})
               for outcome, label in OUTCOME_LABELS.items()]
    back = html.Button("Back", className="tab-button tab-outcome-back", **{"data-outcome": ""})
    return [html.Div("Outcome?", className="tab-outcomes-title"), *choices, back]


def _map(tile_url: str) -> dl.MapContainer:
    children = []
    if tile_url:  # empty: no base map (offline networks, tests); the markers still show
        children.append(dl.TileLayer(url=tile_url, maxZoom=19))
    children.append(dl.ScaleControl(position="bottomleft", imperial=False))
    # Markers are raw Leaflet layers managed by assets/tablet/map.js; Dash never re-renders this.
    return dl.MapContainer(id=ids.MAP, className=ids.MAP_CLASS, center=list(RENNES), zoom=ZOOM, children=children,
                           style={"width": "100%", "height": "100%"})
