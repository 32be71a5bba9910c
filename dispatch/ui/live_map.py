"""The plain live map ("/"): drones, patrols and open sightings over Rennes, for a wall screen.

Refreshed by polling (`dcc.Interval`, 1 s), the stop-gap until the websocket
push arrives. All drawing decisions live in pure code: `layers.py` turns the
snapshot into GeoJSON, assets/map_render.js turns each feature into a marker
and assets/style.css gives each status its colour and its shape. This module
only wires them: layout, and one server callback that sends a layer again only
when it changed (dash-leaflet rebuilds every marker of a layer whose `data` is set).

The "last update" indicator is computed in the browser (clientside callback),
so it shows the screen's local time and keeps counting while the server is
silent: a frozen picture shows up as a growing age and a STALE flag.
"""

from __future__ import annotations

import time

import dash
import dash_leaflet as dl
from dash import ClientsideFunction, Input, Output, Patch, State, dcc, html, no_update

from . import PictureUnavailable, context, ids
from . import layers as L

RENNES = (48.111, -1.680)
ZOOM = 13
REFRESH_MS = 1_000
OSM_ATTRIBUTION = "© OpenStreetMap contributors"

# Marker renderer, resolved by dash-leaflet on `window` (assets/map_render.js).
POINT_TO_LAYER = {"variable": "dispatchMap.pointToLayer"}

# Legend rows: (glyph classes, inner letter, label). The same classes as the
# markers, so the legend cannot drift from what the map draws.
_LEGEND = [
    ("Drones", [
        ("glyph-drone is-ok", "", "flying"),
        ("glyph-drone is-low_battery", "", "low battery"),
        ("glyph-drone is-lost", "", "link lost (> 5 s)"),
    ]),
    ("Patrols", [
        ("glyph-patrol is-available", "", "available"),
        ("glyph-patrol is-assigned", "", "assigned"),
        ("glyph-patrol is-en_route", "", "en route"),
        ("glyph-patrol is-on_scene", "", "on scene"),
        ("glyph-patrol is-unavailable", "", "unavailable"),
    ]),
    ("Sightings", [
        ("glyph-sighting prio-1", "D", "priority 1"),
        ("glyph-sighting prio-2", "V", "priority 2"),
        ("glyph-sighting prio-3", "L", "priority 3"),
    ]),
]
_CATEGORY_KEY = "L lookout · D deal · V vehicle · G gathering · O other"


def register(app: dash.Dash) -> None:
    """Register the page and bind its callbacks to `app` (see dispatch/ui/__init__.py)."""
    dash.register_page(
        __name__, path="/", name="Live map", title="Live map · Patrol dispatch", layout=layout, order=0
    )
    app.callback(
        Output(ids.LIVE_DRONES, "data"),
        Output(ids.LIVE_PATROLS, "data"),
        Output(ids.LIVE_SIGHTINGS, "data"),
        Output(ids.LIVE_FINGERPRINTS, "data"),
        Output(ids.LIVE_COUNT_DRONES, "children"),
        Output(ids.LIVE_COUNT_PATROLS, "children"),
        Output(ids.LIVE_COUNT_SIGHTINGS, "children"),
        Output(ids.LIVE_STATUS, "data"),
        Input(ids.LIVE_TICK, "n_intervals"),
        State(ids.LIVE_FINGERPRINTS, "data"),
    )(refresh)
    app.clientside_callback(
        ClientsideFunction(namespace="dispatchMap", function_name="lastUpdate"),
        Output(ids.LIVE_UPDATED, "children"),
        Output(ids.LIVE_UPDATED, "className"),
        Output(ids.LIVE_ALERT, "children"),
        Output(ids.LIVE_ALERT, "className"),
        Input(ids.LIVE_TICK, "n_intervals"),
        Input(ids.LIVE_STATUS, "data"),
    )


def refresh(_n_intervals, fingerprints):
    """One poll: read the picture, resend only the layers that changed."""
    now_ms = int(time.time() * 1000)
    try:
        snapshot = context().snapshot()
    except PictureUnavailable as error:
        # Keep what is on screen; the header shows the reason and the age grows.
        status = Patch()
        status["error"] = str(error)
        status["server_ms"] = now_ms
        return (no_update,) * 7 + (status,)
    built = L.layers(snapshot, now_ms)
    previous = fingerprints or {}
    current = {kind: L.fingerprint(collection) for kind, collection in built.items()}
    data = [built[k] if current[k] != previous.get(k) else no_update for k in ("drones", "patrols", "sightings")]
    figures = L.counts(snapshot, now_ms)
    return (
        *data,
        current,
        _count(figures["drones"], "drone", figures["drones_lost"], "lost"),
        _count(figures["patrols"], "patrol", figures["patrols_available"], "available", warn=False),
        _count(figures["sightings"], "sighting", figures["sightings_urgent"], "P1"),
        {"latest_ts": L.latest_ts(snapshot), "server_ms": now_ms, "error": None},
    )


def _count(total: int, noun: str, part: int, part_label: str, *, warn: bool = True) -> list:
    children = [html.B(str(total)), f" {noun}{'' if total == 1 else 's'}"]
    if part:
        children.append(html.Span(f" · {part} {part_label}", className="count-part warn" if warn else "count-part"))
    return children


def layout(**_query) -> html.Div:
    settings = context().settings
    return html.Div(
        id=ids.LIVE_ROOT,
        className="live",
        children=[
            _header(settings.site),
            html.Div(id=ids.LIVE_ALERT, className="alert hidden"),
            html.Div(className="live-body", children=[_map(settings.tile_url), _legend()]),
            dcc.Interval(id=ids.LIVE_TICK, interval=REFRESH_MS),
            dcc.Store(id=ids.LIVE_FINGERPRINTS, data={}),
            dcc.Store(id=ids.LIVE_STATUS, data={"latest_ts": None, "server_ms": None, "error": None}),
        ],
    )


def _header(site: str) -> html.Header:
    return html.Header(className="topbar", children=[
        html.Div(className="brand", children=[
            html.Span(site.upper(), id=ids.LIVE_SITE, className="site"),
            html.Span("live map", className="brand-sub"),
        ]),
        html.Div(className="counts", children=[
            html.Span(className="count", children=[
                _glyph("glyph-drone is-ok"), html.Span(id=ids.LIVE_COUNT_DRONES, children="–")]),
            html.Span(className="count", children=[
                _glyph("glyph-patrol is-available"), html.Span(id=ids.LIVE_COUNT_PATROLS, children="–")]),
            html.Span(className="count", children=[
                _glyph("glyph-sighting prio-1", "!"), html.Span(id=ids.LIVE_COUNT_SIGHTINGS, children="–")]),
        ]),
        html.Div(id=ids.LIVE_UPDATED, className="updated", children="waiting for data…"),
    ])


def _map(tile_url: str) -> dl.MapContainer:
    children = []
    if tile_url:  # Empty: no base map (offline networks, tests); the units still show.
        attribution = OSM_ATTRIBUTION if "openstreetmap" in tile_url else ""
        children.append(dl.TileLayer(url=tile_url, attribution=attribution, maxZoom=19))
    # One layer per kind: each is replaced on its own when its data changes.
    # Stacking is set per marker (zIndexOffset in map_render.js), not by layer order.
    for layer_id in (ids.LIVE_SIGHTINGS, ids.LIVE_PATROLS, ids.LIVE_DRONES):
        children.append(dl.GeoJSON(id=layer_id, data=L.feature_collection([]), pointToLayer=POINT_TO_LAYER))
    children.append(dl.ScaleControl(position="bottomright", imperial=False))
    return dl.MapContainer(
        id=ids.LIVE_MAP,
        className="live-map",
        center=list(RENNES),
        zoom=ZOOM,
        children=children,
        style={"width": "100%", "height": "100%"},
    )


def _glyph(classes: str, letter: str = "") -> html.Span:
    inner = [html.Span(letter, className="pin-letter")] if letter else []
    return html.Span(className="glyph-wrap", children=html.Span(inner, className=f"glyph {classes}"))


def _legend() -> html.Div:
    sections = []
    for title, rows in _LEGEND:
        sections.append(html.Div(title, className="legend-title"))
        sections.extend(
            html.Div(className="legend-row", children=[_glyph(classes, letter), html.Span(label)])
            for classes, letter, label in rows
        )
    sections.append(html.Div(_CATEGORY_KEY, className="legend-note"))
    return html.Div(id=ids.LIVE_LEGEND, className="legend", children=sections)
