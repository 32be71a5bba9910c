"""The patrol tablet ("/patrol"): one patrol's assignment, its target, and big buttons for each step.

Built for a 10-inch tablet in a moving car, landscape or portrait: large type,
high contrast, light or dark following the device, touch targets of 64 px.
It shows only what concerns the signed-in patrol: its own status and position,
its open assignment, that assignment's sighting and the drone that reported
it. The patrol is the session's (dispatch/web/auth.py), never a URL parameter.

Dash renders this layout once. Everything after that is the browser scripts'
(assets/tablet/, entry main.js): the live feed from the push gateway (filtered to this
patrol by the gateway), the alert for a new assignment, the outbox that keeps
actions taken offline and sends them, each once, when the link is back
(dispatch/web/patrol_api.py), and the position reports. The layout gives them a
first picture read from Redis, so a tablet reloaded while the gateway is
down still shows its assignment, and the button rules derived from the
lifecycle (domain/tablet.py), so the page never decides on its own what is
allowed.
"""

from __future__ import annotations

import dash
from dash import ClientsideFunction, Input, Output

from ....domain.pages import TABLET
from . import ids
from . import layout


def register(app: dash.Dash) -> None:
    """Register the page and its start-up (the scripts start once the layout is in the page)."""
    dash.register_page(__name__, path=TABLET, name="Patrol", title="Patrol · Patrol dispatch", layout=layout.layout, order=1)
    app.clientside_callback(ClientsideFunction("dispatchTablet", "start"),
                            Output(ids.STARTED, "data"), Input(ids.CONFIG, "data"))
