"""The supervisor wall screen ("/"): the live map, the sighting queue, nearest patrols, alerts.

Built for a 1920x1080 (or 4K) display watched for a whole shift from a few
metres away: no scrolling, large type, dark theme, every status told by shape
and word as well as colour.

Dash renders this layout once. After that, nothing on the screen goes through
the server while the picture changes: the browser scripts (assets/screen_*.js)
take the snapshot and the deltas from the push gateway (assets/live_client.js)
and update the map's Leaflet layers and the panels in place, one marker per
unit. Dash still carries what needs the server: the nearest-patrols query and
the dispatch actions (handlers.py, alert_handlers.py), and the fallback polling of
/api/snapshot, a dcc.Interval that stays disabled unless the socket has been
down for a few seconds.

The scripts learn everything they need (gateway port, thresholds, component
ids, the map's vocabulary) from one dcc.Store, `screen_config`.
"""

from __future__ import annotations

import dash
from dash import ClientsideFunction, Input, Output

from ....domain.pages import SCREEN
from . import alert_handlers, codes, handlers, ids
from . import layout


def register(app: dash.Dash) -> None:
    """Register the page and bind its callbacks to `app` (see dispatch/ui/__init__.py)."""
    dash.register_page(__name__, path=SCREEN, name="Supervisor", title="Supervisor · Patrol dispatch",
                       layout=layout.layout, order=0)
    handlers.register(app)
    alert_handlers.register(app)  # the alert panel's "acknowledge all of this kind"
    codes.register(app)  # the tablet-code panel
    # The scripts start once the layout is in the page (a clientside callback runs exactly then).
    app.clientside_callback(ClientsideFunction("dispatchScreen", "start"),
                            Output(ids.STARTED, "data"), Input(ids.CONFIG, "data"))
    # Server answers and polling ticks are handed to the scripts; the sink is never read.
    for handler, source in (("onNearest", Input(ids.NEAREST_RESULT, "data")),
                            ("onAction", Input(ids.ACTION_RESULT, "data")),
                            ("onUnits", Input(ids.UNITS_RESULT, "data")),
                            ("poll", Input(ids.POLL_TICK, "n_intervals"))):
        app.clientside_callback(ClientsideFunction("dispatchScreen", handler),
                                Output(ids.CLIENT_SINK, "data", allow_duplicate=True), source,
                                prevent_initial_call=True)
