"""What the wall screen shows, and the configuration its browser scripts start from (`screen_config`).

The page as a whole is described in __init__.py.
"""

from __future__ import annotations

import dash
import dash_leaflet as dl
from dash import dcc, html

from ....domain.sightings import (
    DISPOSITION_WORDS, DUPLICATE_RADIUS_M, DUPLICATE_WINDOW_MS, MAX_REASON_TEXT, OPERATOR_END_LABELS, REASON_LABELS,
)
from ....settings import Settings
from ....domain.pages import SCREEN
from ....web.context import context
from ... import maps, nav
from ... import layers as L
from . import alert_handlers, codes, handlers, ids

GATEWAY_PATH = "/live"
# How long the socket may be down before the page polls /api/snapshot, and how often it then does.
# A few seconds: the client reconnects within a second after a gateway restart, and polling
# every screen at once should be kept for real outages.
FALLBACK_AFTER_MS = 3_000
POLL_MS = 2_000

KEY_HELP = (
    ("1–5", "assign patrol n"),
    ("↑ ↓ j k", "move in the queue"),
    ("Esc", "clear"),
    ("x", "close sighting"),
    ("m", "merge duplicate"),
    ("u", "unit board"),
    ("/", "find a unit"),
    ("f", "fit all"),
    ("l", "legend"),
    ("a", "assign any patrol"),
)

BOARD_COLUMNS = (("callsign", "Call sign"), ("status", "Status"), ("since", "In status"),
                 ("sighting", "Sighting"), ("report", "Last report"))
DRONE_COLUMNS = ("Drone", "Battery", "Zone", "Last report")
BOARD_STATUSES = (("available", "Available"), ("assigned", "Assigned"), ("en_route", "En route"),
                  ("on_scene", "On scene"), ("unavailable", "Unavailable"))


def screen_config(settings: Settings, snapshot_url: str = "/api/snapshot") -> dict:
    """Everything the browser scripts need, JSON-ready. Secrets never go here: the page shows it."""
    return {
        "site": settings.site,
        # The page builds ws[s]://<its own host name>:<port><path>: the gateway runs beside the web app.
        "gateway": {"port": settings.gateway_port, "path": GATEWAY_PATH},
        "snapshot_url": snapshot_url,
        "timezone": settings.timezone,
        "nearest_count": handlers.NEAREST_COUNT,
        "fallback_after_ms": FALLBACK_AFTER_MS,
        "poll_ms": POLL_MS,
        "map": L.map_rules(settings),
        "endings": ending_rules(),
        "ids": {name.lower(): value for name, value in vars(ids).items() if name.isupper()},
    }


def ending_rules() -> dict:
    """The close reasons (code, label) in key order and the probable-duplicate rule, for screen_queue.js."""
    return {
        "reasons": [[reason.value, label] for reason, label in REASON_LABELS.items()],
        "max_text": MAX_REASON_TEXT,
        "duplicate_radius_m": DUPLICATE_RADIUS_M,
        "duplicate_window_ms": DUPLICATE_WINDOW_MS,
        # How an ending reads when the selected sighting ends (issue 11: an operator's end among them).
        "dispositions": DISPOSITION_WORDS,
        "operator_reasons": {reason.value: label for reason, label in OPERATOR_END_LABELS.items()},
    }


def layout(**_query) -> html.Div:
    settings = context().settings
    config = screen_config(settings, dash.get_relative_path("/api/snapshot"))
    return html.Div(id=ids.SCREEN, className="screen", children=[
        _header(settings.site),
        html.Main(className="screen-body", children=[
            # The legend is under the map, not over it: opened, it takes its room and never covers a unit.
            html.Section(className="map-area", children=[
                html.Div(className="map-frame", children=[_map(settings.tile_url), _layer_toggles(), _fit_all(),
                                                          _unit_detail()]),
                _legend(),
            ]),
            _board(),
            html.Aside(className="side", children=[_queue_panel(), _detail_panel(), _alerts_panel(), _key_help(), codes.panel()]),
        ]),
        dcc.Store(id=ids.CONFIG, data=config),
        dcc.Store(id=ids.STARTED),
        dcc.Store(id=ids.CLIENT_SINK),
        dcc.Store(id=ids.NEAREST_REQUEST),
        dcc.Store(id=ids.NEAREST_RESULT),
        dcc.Store(id=ids.ACTION_REQUEST),
        dcc.Store(id=ids.ACTION_RESULT),
        dcc.Store(id=ids.UNITS_REQUEST),
        dcc.Store(id=ids.UNITS_RESULT),
        dcc.Interval(id=ids.POLL_TICK, interval=POLL_MS, disabled=True),
        *alert_handlers.stores(),
    ])


def _header(site: str) -> html.Header:
    def count(element_id: str, glyph: str, letter: str = "") -> html.Span:
        return html.Span(className="count", children=[maps.glyph(glyph, letter), html.Span("–", id=element_id)])

    return html.Header(className="topbar", children=[
        html.Div(className="brand", children=[
            html.Span(site.upper(), id=ids.SITE, className="site"),
            html.Span("supervisor", className="brand-sub"),
        ]),
        html.Div(id=ids.LINK_STATUS, className="link is-connecting", role="status", **{"data-state": "connecting"},
                 children=[html.Span(className="link-glyph"), html.Span("CONNECTING", className="link-text"),
                           html.Span("", className="link-detail")]),
        html.Div(className="counts", children=[
            count(ids.COUNT_SIGHTINGS, "glyph-sighting prio-1", "!"),
            count(ids.COUNT_PATROLS, "glyph-patrol is-available"),
            count(ids.COUNT_DRONES, "glyph-drone is-ok"),
            count(ids.COUNT_ALERTS, "glyph-ring is-critical"),
        ]),
        nav.page_links(SCREEN),
        nav.identity_form(),
        html.Div("--:--:--", id=ids.CLOCK, className="clock"),
    ])


def _map(tile_url: str) -> dl.MapContainer:
    children = []
    if tile_url:  # Empty: no base map (offline networks, tests); everything else still shows.
        attribution = maps.OSM_ATTRIBUTION if "openstreetmap" in tile_url else ""
        children.append(dl.TileLayer(url=tile_url, attribution=attribution, maxZoom=maps.MAX_ZOOM))
    children.append(dl.ScaleControl(position="bottomright", imperial=False))
    # Units, zones and lines are raw Leaflet layers managed by assets/screen_map.js,
    # updated in place; Dash never re-renders this component.
    return dl.MapContainer(
        id=ids.MAP, className=ids.MAP_CLASS, center=list(maps.RENNES), zoom=maps.ZOOM, children=children,
        maxZoom=maps.MAX_ZOOM,  # the cluster groups need it, and without tiles nothing else sets it
        keyboard=False,  # the arrow keys move in the sighting queue, not the map
        style={"width": "100%", "height": "100%"},
    )


def _layer_toggles() -> html.Div:
    board = html.Button(id=ids.BOARD_TOGGLE, className="toggle board-toggle", **{"aria-pressed": "false"},
                        title="Unit status board (key u)", children="Units")
    return html.Div(id=ids.LAYER_TOGGLES, className="layer-toggles", children=[board] + [
        html.Button(className="toggle is-on", **{"data-layer": name, "aria-pressed": "true"},
                    children=[html.Span(className="toggle-box"), label])
        for name, label in L.LAYERS
    ] + [html.Button(className="toggle legend-toggle", **{"data-layer": "legend", "aria-pressed": "false"},
                     title="Open or close the legend (key l)", children=[html.Span(className="toggle-box"), "Legend"])])


def _fit_all() -> html.Button:
    """Frame every unit and open sighting (assets/screen_map.js fitAll): a large touch target, key f."""
    return html.Button("Fit all", id=ids.FIT_ALL, className="fit-all", title="Show every unit and open sighting (key f)")


def _legend() -> html.Div:
    return html.Div(id=ids.LEGEND, className="legend hidden", children=[
        html.Div(className="legend-blocks", children=maps.legend_blocks()),
        html.Div("Pin letters: " + L.category_key(), className="legend-note"),
        html.Div(L.CLUSTER_NOTE, className="legend-note"),
    ])


def _panel(title: str, body_id: str, *, extra=(), count_id: str | None = None, className: str = "") -> html.Section:
    head = [html.H2(title)]
    if count_id:
        head.append(html.Span("", id=count_id, className="panel-count"))
    return html.Section(className=f"panel {className}", children=[
        html.Div(className="panel-head", children=head + list(extra)),
        html.Div(id=body_id, className="panel-body"),
    ])


def _queue_panel() -> html.Section:
    sound = html.Button(id=ids.SOUND, className="sound", **{"aria-pressed": "false"},
                        title="Beep when a new sighting arrives", children="Sound off")
    panel = _panel("Sightings", ids.QUEUE, count_id=ids.QUEUE_COUNT, extra=[sound], className="queue")
    panel.children.append(html.Div(id=ids.ENDED, className="ended", role="log", **{"aria-live": "polite"}))
    return panel


def _detail_panel() -> html.Section:
    return html.Section(className="panel detail", children=[
        html.Div(id=ids.DETAIL, className="detail-body"),
        html.Div(id=ids.CANDIDATES, className="candidates"),
        html.Div(id=ids.ASSIGN_ANY, className="assign-any", hidden=True),
        html.Div(id=ids.MESSAGE, className="message", role="status", **{"aria-live": "polite"}),
    ])


def _alerts_panel() -> html.Section:
    return _panel("Alerts", ids.ALERTS, count_id=ids.ALERTS_COUNT, className="alerts")


def _key_help() -> html.Div:
    items = []
    for keys, what in KEY_HELP:
        items += [html.Kbd(keys), html.Span(what, className="key-what")]
    return html.Div(id=ids.KEY_HELP, className="key-help", children=items)


def _board() -> html.Section:
    """The unit status board, filled by assets/screen_board.js from the live model.

    Hidden at 1080p until toggled (the map needs the room); a column of its own on a 4K wall.
    """
    tools = html.Div(className="board-tools", children=[
        dcc.Input(id=ids.BOARD_SEARCH, type="text", className="board-search", debounce=False,
                  placeholder="Call sign or drone, Enter centres", autoComplete="off"),
        html.Select(id=ids.BOARD_FILTER, className="board-filter", **{"aria-label": "Filter by status"},
                    children=[html.Option("All statuses", value="")]
                    + [html.Option(label, value=value) for value, label in BOARD_STATUSES]),
    ])
    head = html.Tr([html.Th(label, **{"data-sort": key, "aria-sort": "none"}) for key, label in BOARD_COLUMNS])
    return html.Section(id=ids.BOARD, className="board panel", children=[
        html.Div(className="panel-head", children=[html.H2("Units"),
                                                   html.Span("", id=ids.BOARD_COUNT, className="panel-count")]),
        tools,
        html.Div(className="board-scroll", children=[
            html.Table(className="board-table", children=[html.Thead(head), html.Tbody(id=ids.BOARD_ROWS)]),
            html.H3("Drones", className="board-subhead"),
            html.Table(className="board-table board-drones", children=[
                html.Thead(html.Tr([html.Th(label) for label in DRONE_COLUMNS])), html.Tbody(id=ids.BOARD_DRONES)]),
        ]),
    ])


def _unit_detail() -> html.Section:
    """A patrol's detail (assets/screen_units.js): opened by clicking the patrol on the map or the board."""
    return html.Section(id=ids.UNIT_DETAIL, className="unit-card", hidden=True,
                        **{"aria-label": "Patrol detail", "aria-live": "polite"})
