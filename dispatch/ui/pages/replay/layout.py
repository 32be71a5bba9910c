"""The replay page's layout ("/replay"): window choice, map and event list, transport, figures, exports.

The page reads like the wall screen (dark, large type, the map's vocabulary
from layers.py) and is laid out for a review at a desk or on the wall: the
first screenful is the map, the events beside it and the transport under it;
the shift's figures and the exports follow below, one scroll away.

Dash renders this once. Afterwards the browser scripts (assets/replay/*.js)
draw frames into the map's raw Leaflet layers, fill the event list and run the
transport; they learn the component ids, the API paths and the map's rules
from one dcc.Store (`page_config`), as the wall screen's scripts do.

Component ids live here rather than in ids.py (shared by the other pages and
edited in parallel); they all start with "rp-".
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import dash
import dash_leaflet as dl
from dash import dcc, html

from ....settings import Settings
from ....web.context import context
from ... import nav
from ... import layers as L
from ....domain.pages import REPLAY
from ...maps import OSM_ATTRIBUTION, RENNES, ZOOM, legend_blocks
from . import figures, ids

# ---- what the page offers ------------------------------------------------------------------------
CHOICES = (("shift", "This shift (last 8 h)"), ("hour", "Last hour"), ("custom", "Custom"))
SPEEDS = (1, 5, 15, 30, 60)
POLL_MS = 250  # progress of a load: four looks a second keep the bar moving
KEY_HELP = (("Space", "play / pause"), ("← →", "previous / next event"), ("[ ]", "slower / faster"))
# Under /api/: the sign-in guard answers these with JSON (401/403), never a redirect to a page.
API = {"status": "/api/replay/status", "window": "/api/replay/window", "frame": "/api/replay/frame",
       "track": "/api/replay/track", "export": "/api/replay/export"}


def page_config(settings: Settings) -> dict:
    """Everything the browser scripts need, JSON-ready; nothing secret (the page shows it)."""
    return {
        "site": settings.site,
        "timezone": settings.timezone,
        "poll_ms": POLL_MS,
        "speeds": list(SPEEDS),
        "api": {name: dash.get_relative_path(path) for name, path in API.items()},
        "map": L.map_rules(settings),
        "map_class": ids.MAP_CLASS,
        "ids": {name.lower(): value for name, value in vars(ids).items()
                if name.isupper() and isinstance(value, str) and value.startswith("rp-")},
        # Issue 15: the figures the page asks for one at a time, as they come into view (assets/replay/figures.js).
        "figures": [{"name": name, "graph": graph, "wanted": ids.FIGURE_WANTED[name]}
                    for name, (graph, _, _) in ids.FIGURES.items()],
        "figure_blank": figures.empty_figure("Load a window to see its figures").to_plotly_json(),
    }


def layout(**_query) -> html.Div:
    settings = context().settings
    return html.Div(id=ids.ROOT, className="replay staff-page", children=[
        html.Div(className="rp-screen", children=[  # the first screenful: exactly the viewport
            _header(settings),
            _progress(),
            html.Div(id=ids.MESSAGE, className="rp-message", role="status", **{"aria-live": "polite"}),
            html.Main(className="rp-body", children=[
                html.Section(className="rp-map-area", children=[_map(settings.tile_url), _legend()]),
                html.Aside(className="rp-side", children=[
                    html.Div(className="panel-head", children=[
                        html.H2("Events"), html.Span("", id=ids.EVENTS_COUNT, className="panel-count")]),
                    html.Div(id=ids.EVENTS, className="rp-events", role="list",
                             children=html.Div("Choose a window and press Load.", className="rp-empty")),
                ]),
            ]),
            _transport(),
        ]),
        _figures(),
        _exports(),
        dcc.Store(id=ids.CONFIG, data=page_config(settings)),
        dcc.Store(id=ids.STARTED),
        dcc.Store(id=ids.WATCHER, data=uuid.uuid4().hex),
        dcc.Store(id=ids.CLIENT_SINK),
        dcc.Store(id=ids.OPEN_RESULT),
        dcc.Store(id=ids.CANCEL_RESULT),
        dcc.Store(id=ids.JUMP_RESULT),
        dcc.Store(id=ids.READY),
    ])


def _header(settings: Settings) -> html.Header:
    start, end = _default_custom(settings.timezone)
    return html.Header(className="topbar rp-top", children=[
        html.Div(className="brand", children=[
            html.Span(settings.site.upper(), className="site"),
            html.Span("replay", className="brand-sub"),
        ]),
        html.Div(className="rp-window", children=[
            dcc.RadioItems(id=ids.CHOICE, options=[{"label": label, "value": value} for value, label in CHOICES],
                           value="shift", inline=True, className="rp-choice", inputClassName="rp-choice-input",
                           labelClassName="rp-choice-label"),
            html.Span(className="rp-custom", children=[
                html.Label(title="from (local time)", children=dcc.Input(
                    id=ids.CUSTOM_FROM, type="datetime-local", value=start, className="rp-time-input")),
                html.Span("→", className="muted"),
                html.Label(title="to (local time)", children=dcc.Input(
                    id=ids.CUSTOM_TO, type="datetime-local", value=end, className="rp-time-input")),
            ]),
            html.Button("Load", id=ids.LOAD, className="btn btn-load", n_clicks=0),
        ]),
        html.Div(className="rp-instant-box", children=[
            html.Div("--:--:--", id=ids.INSTANT, className="rp-instant"),
            html.Div("", id=ids.INSTANT_DATE, className="rp-instant-date"),
        ]),
        nav.page_links(REPLAY),
        nav.identity_form(),
    ])


def _progress() -> html.Div:
    return html.Div(id=ids.PROGRESS, className="rp-progress hidden", role="progressbar", children=[
        html.Div(className="rp-progress-track", children=html.Div(id=ids.PROGRESS_BAR, className="rp-progress-bar")),
        html.Span("", id=ids.PROGRESS_TEXT, className="rp-progress-text"),
        html.Button("Cancel", id=ids.CANCEL, className="btn btn-cancel-load", n_clicks=0),
    ])


def _map(tile_url: str) -> dl.MapContainer:
    children = []
    if tile_url:  # empty: no base map (offline networks, tests); the units still show
        attribution = OSM_ATTRIBUTION if "openstreetmap" in tile_url else ""
        children.append(dl.TileLayer(url=tile_url, attribution=attribution, maxZoom=19))
    children.append(dl.ScaleControl(position="bottomright", imperial=False))
    # Units, trails, lines and zones are raw Leaflet layers drawn by assets/replay/map.js.
    return dl.MapContainer(id=ids.MAP, className=ids.MAP_CLASS, center=list(RENNES), zoom=ZOOM, children=children,
                           keyboard=False,  # the arrow keys step through events
                           style={"width": "100%", "height": "100%"})


def _legend() -> html.Div:
    return html.Div(id=ids.LEGEND, className="legend rp-legend", children=[
        html.Div(className="legend-blocks", children=legend_blocks(leave_out=("Alerts",))),
        html.Div("Pin letters: " + L.category_key() + " · lines: patrol → its sighting", className="legend-note"),
        html.Div("Click a drone or a patrol to draw its whole track", className="legend-note"),
    ])


def _transport() -> html.Div:
    speeds = [html.Button(f"{speed}×", className="rp-speed" + (" is-on" if speed == SPEEDS[0] else ""),
                          **{"data-speed": str(speed), "aria-pressed": "true" if speed == SPEEDS[0] else "false"})
              for speed in SPEEDS]
    keys = []
    for key, what in KEY_HELP:
        keys += [html.Kbd(key), html.Span(what, className="key-what")]
    return html.Div(id=ids.TRANSPORT, className="rp-transport is-disabled", children=[
        html.Button("◀◀", id=ids.PREV, className="rp-step", title="Previous event (←)"),
        html.Button("▶", id=ids.PLAY, className="rp-play", title="Play / pause (space)", **{"aria-pressed": "false"}),
        html.Button("▶▶", id=ids.NEXT, className="rp-step", title="Next event (→)"),
        html.Div(speeds, id=ids.SPEEDS_BOX, className="rp-speeds", role="group", **{"aria-label": "speed"}),
        html.Div(id=ids.SLIDER_BOX, className="rp-slider"),  # the scripts put a native range input here
        html.Label(title="jump to a time (local), then Enter", className="rp-jump-box", children=dcc.Input(
            id=ids.JUMP, type="text", placeholder="go to 21:35:00", debounce=True, n_submit=0, className="rp-jump")),
        html.Div(keys, className="rp-keys"),
    ])


def _figures() -> html.Section:
    cards = []
    for name, (graph_id, csv_id, title) in ids.FIGURES.items():
        # The chart carries its own title (so does its PNG); the card adds the CSV of its numbers.
        cards.append(html.Div(className=f"rp-figure rp-figure-{name}", title=title, children=[
            html.Div(className="rp-figure-head", children=[
                html.Span("PNG: the camera in the chart's toolbar", className="muted rp-figure-hint"),
                html.Button("CSV", id=csv_id, className="btn btn-small", n_clicks=0,
                            title=f"{title}: the numbers behind the chart, as CSV"),
            ]),
            dcc.Loading(type="dot", color="#9fb0c0", children=dcc.Graph(
                id=graph_id, figure={"data": [], "layout": {"paper_bgcolor": "#121922", "plot_bgcolor": "#121922",
                                                            "xaxis": {"visible": False}, "yaxis": {"visible": False}}},
                # No "share" button: it uploads the chart to Plotly's cloud, and nothing leaves the site that way.
                config={"displaylogo": False, "modeBarButtonsToRemove": ["sendChartToCloud", "lasso2d", "select2d"],
                        "toImageButtonOptions": {"format": "png", "filename": f"replay-{name}", "scale": 2}})),
        ]))
    return html.Section(className="rp-section rp-figures", children=[
        html.Div(className="rp-section-head", children=[html.H2("Shift figures"),
                                                       html.Span("", id=ids.FIGURES_NOTE, className="muted")]),
        html.Div(cards, className="rp-figure-grid"),
        dcc.Download(id=ids.FIGURE_DOWNLOAD),
        *[dcc.Store(id=wanted) for wanted in ids.FIGURE_WANTED.values()],
        dcc.Store(id=ids.FIGURE_DONE),
    ])


def _exports() -> html.Section:
    """A plain GET form: each button submits its format with the loaded window (hidden fields, set once the
    window is ready) to /api/replay/export, whose answer is an attachment the browser saves as it arrives
    (issue 15: no file held whole in the page, nor in the server). The page stays where it is."""
    button = dict(className="btn", n_clicks=0, disabled=True, type="submit", name="fmt")
    return html.Section(className="rp-section rp-exports", children=[
        html.Div(className="rp-section-head", children=[html.H2("Export this window")]),
        html.P("Tracks of drones and patrols and the sightings, without notes or operator codes. "
               "Every export is recorded in the audit trail.", className="muted"),
        html.Form(id=ids.EXPORT_FORM, action=API["export"], method="GET", className="rp-export-row", children=[
            dcc.Input(id=ids.EXPORT_FROM, name="from", type="hidden", value=""),
            dcc.Input(id=ids.EXPORT_TO, name="to", type="hidden", value=""),
            html.Button("GeoJSON (tracks and sightings)", id=ids.EXPORT_GEOJSON, value="geojson", **button),
            html.Button("CSV (every position)", id=ids.EXPORT_CSV, value="csv", **button),
            html.Button("KML (Google Earth)", id=ids.EXPORT_KML, value="kml", **button),
            html.Span("", id=ids.EXPORT_MESSAGE, className="rp-export-message", role="status"),
        ]),
    ])


def _default_custom(tz: str) -> tuple[str, str]:
    """The last 8 hours in local time, to the minute, as datetime-local inputs want them."""
    end = datetime.fromtimestamp(time.time(), timezone.utc).astimezone(ZoneInfo(tz)).replace(second=0, microsecond=0)
    start = datetime.fromtimestamp(end.timestamp() - 8 * 3600, timezone.utc).astimezone(ZoneInfo(tz))
    return start.strftime("%Y-%m-%dT%H:%M"), end.strftime("%Y-%m-%dT%H:%M")
