"""The replay page's layout ("/replay"): window choice, map and event list, transport, figures, exports.

The page reads like the wall screen (dark, large type, the map's vocabulary
from layers.py) and is laid out for a review at a desk or on the wall: the
first screenful is the map, the events beside it and the transport under it;
the shift's figures and the exports follow below, one scroll away.

Dash renders this once. Afterwards the browser scripts (assets/replay_*.js)
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

from ...settings import Settings
from .. import context, nav
from .. import layers as L
from ..supervisor import OSM_ATTRIBUTION, RENNES, ZOOM, legend_blocks

# ---- component ids -------------------------------------------------------------------------------
ROOT = "rp-root"
CONFIG = "rp-config"
STARTED = "rp-started"
WATCHER = "rp-watcher"  # one per page view: the cache counts who still wants a window being loaded
CLIENT_SINK = "rp-client-sink"

CHOICE = "rp-choice"
CUSTOM_FROM = "rp-from"
CUSTOM_TO = "rp-to"
LOAD = "rp-load"
OPEN_RESULT = "rp-open-result"
CANCEL = "rp-cancel"
CANCEL_RESULT = "rp-cancel-result"
PROGRESS = "rp-progress"
PROGRESS_BAR = "rp-progress-bar"
PROGRESS_TEXT = "rp-progress-text"
MESSAGE = "rp-message"
WINDOW_LABEL = "rp-window-label"

MAP = "rp-map"
MAP_CLASS = "replay-map"  # not the wall screen's "dispatch-map": its scripts claim maps by that class
LEGEND = "rp-legend"
INSTANT = "rp-instant"
INSTANT_DATE = "rp-instant-date"
EVENTS = "rp-events"
EVENTS_COUNT = "rp-events-count"

TRANSPORT = "rp-transport"
PREV = "rp-prev"
PLAY = "rp-play"
NEXT = "rp-next"
SPEEDS_BOX = "rp-speeds"
SLIDER_BOX = "rp-slider"
JUMP = "rp-jump"
JUMP_RESULT = "rp-jump-result"

READY = "rp-ready"  # written by the scripts once a window is loaded: the figures follow it
FIGURES_NOTE = "rp-figures-note"
FIGURE_DOWNLOAD = "rp-figure-download"
EXPORT_GEOJSON = "rp-export-geojson"
EXPORT_CSV = "rp-export-csv"
EXPORT_KML = "rp-export-kml"
EXPORT_BUSY = "rp-export-busy"
EXPORT_MESSAGE = "rp-export-message"
EXPORT_DOWNLOAD = "rp-export-download"

# name -> (graph id, CSV button id, title of its card)
FIGURES = {
    "response_times": ("rp-fig-response", "rp-csv-response", "Time to respond, per sighting"),
    "response_distribution": ("rp-fig-distribution", "rp-csv-distribution", "Response times: distribution"),
    "sightings_per_category": ("rp-fig-categories", "rp-csv-categories", "Sightings per category over time"),
    "heatmap": ("rp-fig-heatmap", "rp-csv-heatmap", "Where sightings were tagged"),
    "utilisation": ("rp-fig-utilisation", "rp-csv-utilisation", "Patrol utilisation"),
    "outcomes": ("rp-fig-outcomes", "rp-csv-outcomes", "Sightings by outcome"),
}

# ---- what the page offers ------------------------------------------------------------------------
CHOICES = (("shift", "This shift (last 8 h)"), ("hour", "Last hour"), ("custom", "Custom"))
SPEEDS = (1, 5, 15, 30, 60)
POLL_MS = 250  # progress of a load: four looks a second keep the bar moving
KEY_HELP = (("Space", "play / pause"), ("← →", "previous / next event"), ("[ ]", "slower / faster"))
# Under /api/: the sign-in guard answers these with JSON (401/403), never a redirect to a page.
API = {"status": "/api/replay/status", "window": "/api/replay/window", "frame": "/api/replay/frame",
       "track": "/api/replay/track"}


def page_config(settings: Settings) -> dict:
    """Everything the browser scripts need, JSON-ready; nothing secret (the page shows it)."""
    return {
        "site": settings.site,
        "timezone": settings.timezone,
        "poll_ms": POLL_MS,
        "speeds": list(SPEEDS),
        "api": {name: dash.get_relative_path(path) for name, path in API.items()},
        "map": L.map_rules(settings),
        "map_class": MAP_CLASS,
        "ids": {name.lower(): value for name, value in globals().items()
                if name.isupper() and isinstance(value, str) and value.startswith("rp-")},
    }


def layout(**_query) -> html.Div:
    settings = context().settings
    return html.Div(id=ROOT, className="replay staff-page", children=[
        html.Div(className="rp-screen", children=[  # the first screenful: exactly the viewport
            _header(settings),
            _progress(),
            html.Div(id=MESSAGE, className="rp-message", role="status", **{"aria-live": "polite"}),
            html.Main(className="rp-body", children=[
                html.Section(className="rp-map-area", children=[_map(settings.tile_url), _legend()]),
                html.Aside(className="rp-side", children=[
                    html.Div(className="panel-head", children=[
                        html.H2("Events"), html.Span("", id=EVENTS_COUNT, className="panel-count")]),
                    html.Div(id=EVENTS, className="rp-events", role="list",
                             children=html.Div("Choose a window and press Load.", className="rp-empty")),
                ]),
            ]),
            _transport(),
        ]),
        _figures(),
        _exports(),
        dcc.Store(id=CONFIG, data=page_config(settings)),
        dcc.Store(id=STARTED),
        dcc.Store(id=WATCHER, data=uuid.uuid4().hex),
        dcc.Store(id=CLIENT_SINK),
        dcc.Store(id=OPEN_RESULT),
        dcc.Store(id=CANCEL_RESULT),
        dcc.Store(id=JUMP_RESULT),
        dcc.Store(id=READY),
    ])


def _header(settings: Settings) -> html.Header:
    start, end = _default_custom(settings.timezone)
    return html.Header(className="topbar rp-top", children=[
        html.Div(className="brand", children=[
            html.Span(settings.site.upper(), className="site"),
            html.Span("replay", className="brand-sub"),
        ]),
        html.Div(className="rp-window", children=[
            dcc.RadioItems(id=CHOICE, options=[{"label": label, "value": value} for value, label in CHOICES],
                           value="shift", inline=True, className="rp-choice", inputClassName="rp-choice-input",
                           labelClassName="rp-choice-label"),
            html.Span(className="rp-custom", children=[
                html.Label(title="from (local time)", children=dcc.Input(
                    id=CUSTOM_FROM, type="datetime-local", value=start, className="rp-time-input")),
                html.Span("→", className="muted"),
                html.Label(title="to (local time)", children=dcc.Input(
                    id=CUSTOM_TO, type="datetime-local", value=end, className="rp-time-input")),
            ]),
            html.Button("Load", id=LOAD, className="btn btn-load", n_clicks=0),
        ]),
        html.Div(className="rp-instant-box", children=[
            html.Div("--:--:--", id=INSTANT, className="rp-instant"),
            html.Div("", id=INSTANT_DATE, className="rp-instant-date"),
        ]),
        nav.page_links("/replay"),
        nav.identity_form(),
    ])


def _progress() -> html.Div:
    return html.Div(id=PROGRESS, className="rp-progress hidden", role="progressbar", children=[
        html.Div(className="rp-progress-track", children=html.Div(id=PROGRESS_BAR, className="rp-progress-bar")),
        html.Span("", id=PROGRESS_TEXT, className="rp-progress-text"),
        html.Button("Cancel", id=CANCEL, className="btn btn-cancel-load", n_clicks=0),
    ])


def _map(tile_url: str) -> dl.MapContainer:
    children = []
    if tile_url:  # empty: no base map (offline networks, tests); the units still show
        attribution = OSM_ATTRIBUTION if "openstreetmap" in tile_url else ""
        children.append(dl.TileLayer(url=tile_url, attribution=attribution, maxZoom=19))
    children.append(dl.ScaleControl(position="bottomright", imperial=False))
    # Units, trails, lines and zones are raw Leaflet layers drawn by assets/replay_map.js.
    return dl.MapContainer(id=MAP, className=MAP_CLASS, center=list(RENNES), zoom=ZOOM, children=children,
                           keyboard=False,  # the arrow keys step through events
                           style={"width": "100%", "height": "100%"})


def _legend() -> html.Div:
    return html.Div(id=LEGEND, className="legend rp-legend", children=[
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
    return html.Div(id=TRANSPORT, className="rp-transport is-disabled", children=[
        html.Button("◀◀", id=PREV, className="rp-step", title="Previous event (←)"),
        html.Button("▶", id=PLAY, className="rp-play", title="Play / pause (space)", **{"aria-pressed": "false"}),
        html.Button("▶▶", id=NEXT, className="rp-step", title="Next event (→)"),
        html.Div(speeds, id=SPEEDS_BOX, className="rp-speeds", role="group", **{"aria-label": "speed"}),
        html.Div(id=SLIDER_BOX, className="rp-slider"),  # the scripts put a native range input here
        html.Label(title="jump to a time (local), then Enter", className="rp-jump-box", children=dcc.Input(
            id=JUMP, type="text", placeholder="go to 21:35:00", debounce=True, n_submit=0, className="rp-jump")),
        html.Div(keys, className="rp-keys"),
    ])


def _figures() -> html.Section:
    cards = []
    for name, (graph_id, csv_id, title) in FIGURES.items():
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
                                                       html.Span("", id=FIGURES_NOTE, className="muted")]),
        html.Div(cards, className="rp-figure-grid"),
        dcc.Download(id=FIGURE_DOWNLOAD),
    ])


def _exports() -> html.Section:
    return html.Section(className="rp-section rp-exports", children=[
        html.Div(className="rp-section-head", children=[html.H2("Export this window")]),
        html.P("Tracks of drones and patrols and the sightings, without notes or operator codes. "
               "Every export is recorded in the audit trail.", className="muted"),
        html.Div(className="rp-export-row", children=[
            html.Button("GeoJSON (tracks and sightings)", id=EXPORT_GEOJSON, className="btn", n_clicks=0,
                        disabled=True),
            html.Button("CSV (every position)", id=EXPORT_CSV, className="btn", n_clicks=0, disabled=True),
            html.Button("KML (Google Earth)", id=EXPORT_KML, className="btn", n_clicks=0, disabled=True),
            html.Span(className="busy", id=EXPORT_BUSY, children=[html.Span(className="busy-spinner"),
                                                                  "Preparing the file… a full shift takes ~15 s"]),
            html.Span("", id=EXPORT_MESSAGE, className="rp-export-message", role="status"),
        ]),
        dcc.Download(id=EXPORT_DOWNLOAD),
    ])


def _default_custom(tz: str) -> tuple[str, str]:
    """The last 8 hours in local time, to the minute, as datetime-local inputs want them."""
    end = datetime.fromtimestamp(time.time(), timezone.utc).astimezone(ZoneInfo(tz)).replace(second=0, microsecond=0)
    start = datetime.fromtimestamp(end.timestamp() - 8 * 3600, timezone.utc).astimezone(ZoneInfo(tz))
    return start.strftime("%Y-%m-%dT%H:%M"), end.strftime("%Y-%m-%dT%H:%M")
