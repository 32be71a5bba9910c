"""The administrator's zones page ("/admin/zones"): authorised flight zones drawn or imported, listed,
replaced and deleted, every change on the audit trail.

The drones' legality rests on these zones (the watcher's outside_zone alert, the
wall screen's perimeters), so the page is built to make mistakes hard: the
perimeter is drawn on the same map the supervisors watch, with the same styles
(solid while valid, dashed grey with the word otherwise: never colour alone);
a file is imported whole or not at all; deleting takes a second, explicit
click; and each save or deletion goes through store/zones.py, which writes the
change, its audit entry (who, from which address) and the live delta that
redraws the wall screen in one atomic step.

What goes where: plain functions (the form, the drawing, the file, the table's
text) in admin_zones_callbacks.py; here the layout, the callbacks' glue (who is
signed in, Redis, what to refresh) and the components. Times are typed and
shown on the local clock (settings.timezone). Component ids start with "adz-".
"""

from __future__ import annotations

import hashlib
import json
import time

import dash
import dash_leaflet as dl
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

from .. import clock
from ..web import auth as webauth
from ..settings import Settings
from ..store.zones import delete_zone, load_zones, save_zone
from . import PictureUnavailable, context, nav
from . import admin_zones_callbacks as C
from . import layers as L
from .supervisor import OSM_ATTRIBUTION, RENNES, ZOOM

PATH = "/admin/zones"
PERMISSION = "manage_zones"

# ---- component ids -------------------------------------------------------------------------------
ROOT = "adz-root"
MESSAGE = "adz-message"
MAP = "adz-map"
ZONES_LAYER = "adz-zones"
DRAWN = "adz-drawn"
EDIT_CONTROL = "adz-edit-control"
FORM_TITLE = "adz-form-title"
ZONE_ID = "adz-zone-id"
NAME = "adz-name"
DECREE = "adz-decree"
VALID_FROM = "adz-from"
VALID_UNTIL = "adz-until"
PERIMETER = "adz-perimeter"
SAVE = "adz-save"
CLEAR = "adz-clear"
UPLOAD = "adz-upload"
UPLOAD_NOTE = "adz-upload-note"  # written by assets/admin_zones/main.js when the browser refuses a file
COUNT = "adz-count"
TABLE = "adz-table"
CONFIRM_BOX = "adz-confirm"
CONFIRM_TEXT = "adz-confirm-text"
CONFIRM_YES = "adz-confirm-yes"
CONFIRM_NO = "adz-confirm-no"
PENDING = "adz-pending"  # the zone whose deletion awaits confirmation
EDITING = "adz-editing"  # the zone loaded into the form (admin_zones_callbacks.editing_state)
VERSION = "adz-version"  # changed after every save or deletion: the table and the map redraw
DIGEST = "adz-digest"  # what the table shows, so a periodic look redraws only when something changed
TICK = "adz-tick"
EDIT_BUTTON = "adz-edit-button"  # pattern id: {"type": EDIT_BUTTON, "zone": zone_id}
DELETE_BUTTON = "adz-delete-button"

REFRESH_MS = 30_000  # validity ends with time alone: statuses are looked at again this often
DRAW_STYLE = {"color": "#f0a020", "weight": 3, "fillOpacity": 0.15}
DRAW_OPTIONS = {"polygon": {"allowIntersection": False, "showArea": False, "shapeOptions": DRAW_STYLE},
                "rectangle": {"showArea": False, "shapeOptions": DRAW_STYLE},
                "polyline": False, "circle": False, "marker": False, "circlemarker": False}


def register(app: dash.Dash) -> None:
    dash.register_page(__name__, path=PATH, name="Zones", title="Zones · Patrol dispatch", layout=layout, order=5)
    guard = webauth.guard_callback(PERMISSION)
    form = [State(ZONE_ID, "value"), State(NAME, "value"), State(DECREE, "value"), State(VALID_FROM, "value"),
            State(VALID_UNTIL, "value")]
    say = Output(MESSAGE, "children", allow_duplicate=True)
    redraw = Output(VERSION, "data", allow_duplicate=True)
    fill = [Output(i, "value", allow_duplicate=True) for i in (ZONE_ID, NAME, DECREE, VALID_FROM, VALID_UNTIL)]
    app.callback(Output(TABLE, "children"), Output(ZONES_LAYER, "children"), Output(COUNT, "children"),
                 Output(DIGEST, "data"), Output(MAP, "viewport"),
                 Input(VERSION, "data"), Input(TICK, "n_intervals"), State(DIGEST, "data"))(guard(answer_refresh))
    app.callback(Output(PERIMETER, "children"), Output(FORM_TITLE, "children"),
                 Input(EDIT_CONTROL, "geojson"), Input(EDITING, "data"))(guard(answer_perimeter))
    app.callback(say, redraw, Output(EDIT_CONTROL, "editToolbar", allow_duplicate=True),
                 Output(EDITING, "data", allow_duplicate=True), *fill[:3],
                 Input(SAVE, "n_clicks"), *[Input(i, "n_submit") for i in (ZONE_ID, NAME, DECREE, VALID_FROM,
                                                                            VALID_UNTIL)],
                 *form, State(EDIT_CONTROL, "geojson"), State(EDITING, "data"),
                 running=[(Output(SAVE, "disabled"), True, False)],
                 prevent_initial_call=True)(guard(answer_save))
    app.callback(say, redraw, Output(UPLOAD, "contents"), Input(UPLOAD, "contents"), State(UPLOAD, "filename"),
                 *form, running=[(Output(UPLOAD, "disabled"), True, False)],
                 prevent_initial_call=True)(guard(answer_import))
    app.callback(say, *fill, Output(EDITING, "data", allow_duplicate=True),
                 Output(MAP, "viewport", allow_duplicate=True),
                 Input({"type": EDIT_BUTTON, "zone": ALL}, "n_clicks"), prevent_initial_call=True)(guard(answer_edit))
    app.callback(say, *fill, Output(EDITING, "data", allow_duplicate=True),
                 Output(EDIT_CONTROL, "editToolbar", allow_duplicate=True),
                 Input(CLEAR, "n_clicks"), State(EDIT_CONTROL, "geojson"),
                 prevent_initial_call=True)(guard(answer_clear))
    app.callback(Output(PENDING, "data"), Output(CONFIRM_TEXT, "children"), Output(CONFIRM_BOX, "className"),
                 Input({"type": DELETE_BUTTON, "zone": ALL}, "n_clicks"),
                 prevent_initial_call=True)(guard(answer_ask_delete))
    app.callback(say, redraw, Output(PENDING, "data", allow_duplicate=True),
                 Output(CONFIRM_BOX, "className", allow_duplicate=True),
                 Input(CONFIRM_YES, "n_clicks"), Input(CONFIRM_NO, "n_clicks"), State(PENDING, "data"),
                 prevent_initial_call=True)(guard(answer_delete))


# ----------------------------------------------------------------------------- layout


# The ids assets/admin_zones/main.js looks up (name -> id), given to it as JSON in the root's data-ids.
SCRIPT_IDS = {"upload": UPLOAD, "upload_note": UPLOAD_NOTE, "confirm": CONFIRM_BOX, "confirm_yes": CONFIRM_YES,
              "table": TABLE}


def layout(**_query) -> html.Div:
    settings = context().settings
    return html.Div(id=ROOT, className="adz staff-page", **{"data-ids": json.dumps(SCRIPT_IDS)}, children=[
        html.Header(className="topbar adz-top", children=[
            html.Div(className="brand", children=[html.Span(settings.site.upper(), className="site"),
                                                  html.Span("authorised flight zones", className="brand-sub")]),
            html.Span(f"times in {settings.timezone}", className="muted adz-tz"),
            nav.page_links(PATH),
            nav.identity_form(),
        ]),
        html.Div(id=MESSAGE, className="adz-message", role="status", **{"aria-live": "polite"}),
        html.Main(className="adz-body", children=[
            html.Section(className="adz-map-area", children=[_map(settings), _legend()]),
            _form(settings),
        ]),
        _table_section(),
        dcc.Store(id=PENDING), dcc.Store(id=EDITING), dcc.Store(id=VERSION), dcc.Store(id=DIGEST),
        dcc.Interval(id=TICK, interval=REFRESH_MS),
    ])


def _map(settings: Settings) -> dl.MapContainer:
    children = []
    if settings.tile_url:  # empty: no base map (offline networks, tests); the zones still show
        attribution = OSM_ATTRIBUTION if "openstreetmap" in settings.tile_url else ""
        children.append(dl.TileLayer(url=settings.tile_url, attribution=attribution, maxZoom=19))
    children += [
        dl.ScaleControl(position="bottomright", imperial=False),
        dl.LayerGroup(id=ZONES_LAYER),
        dl.FeatureGroup(id=DRAWN, children=[dl.EditControl(id=EDIT_CONTROL, position="topright",
                                                           draw=DRAW_OPTIONS, edit={"edit": {}, "remove": True})]),
    ]
    return dl.MapContainer(id=MAP, className="adz-map", center=list(RENNES), zoom=ZOOM, children=children,
                           style={"width": "100%", "height": "100%"})


def _legend() -> html.Div:
    return html.Div(className="adz-legend", children=[
        *[html.Span(className="adz-legend-item", children=[C.zone_glyph(look.state), html.Span(look.label)])
          for look in L.ZONE_LOOKS],
        html.Span("orange: the perimeter being drawn", className="muted"),
    ])


def _field(label: str, hint: str, control) -> html.Label:
    return html.Label(className="adz-field", children=[
        html.Span(label, className="adz-label"), control, html.Span(hint, className="adz-hint")])


def _form(settings: Settings) -> html.Section:
    def text(id_, placeholder, max_length):
        return dcc.Input(id=id_, type="text", placeholder=placeholder, maxLength=max_length, n_submit=0,
                         className="adz-input", autoComplete="off", debounce=False)

    return html.Section(className="adz-form", **{"aria-labelledby": FORM_TITLE}, children=[
        html.H2("New zone", id=FORM_TITLE),
        _field("Zone id", "Z- then capitals, digits or '-'. An existing id is replaced.",
               text(ZONE_ID, "Z-VILLEJEAN", 40)),
        _field("Name", "As the decree names the area", text(NAME, "Villejean - Kennedy", 60)),
        _field("Decree reference", "The prefectoral decree", text(DECREE, "2026-11-035-PREF35", 60)),
        html.Div(className="adz-dates", children=[
            _field("Valid from", "local date and time", dcc.Input(
                id=VALID_FROM, type="datetime-local", n_submit=0, className="adz-input",
                value=C.default_from_text(clock.now_ms(), settings.timezone))),
            _field("Valid until", "through the end of this local day", dcc.Input(
                id=VALID_UNTIL, type="date", n_submit=0, className="adz-input")),
        ]),
        html.Div(C.DRAW_HINT, id=PERIMETER, className="adz-perimeter", role="status"),
        html.Div(className="adz-actions", children=[
            html.Button("Save zone", id=SAVE, className="btn adz-save", n_clicks=0),
            html.Button("Clear form", id=CLEAR, className="btn adz-clear", n_clicks=0),
        ]),
        dcc.Upload(id=UPLOAD, className="adz-upload", max_size=C.MAX_UPLOAD_BYTES, accept=".geojson,.json",
                   children=[html.Button("Import GeoJSON…", className="btn adz-import"),  # a focusable way in
                             html.Span("or drop a file here", className="muted")]),
        html.Div(className="adz-hint", children=[
            f"A Feature or FeatureCollection of Polygons, at most {C.size_text(C.MAX_UPLOAD_BYTES)}. Properties "
            "zone_id, name, decree_ref, valid_from_ms, valid_until_ms; those missing are taken from the form. "
            "A file with an error is refused whole."]),
        html.Div(id=UPLOAD_NOTE, className="adz-upload-note", role="alert",
                 **{"data-max-bytes": str(C.MAX_UPLOAD_BYTES)}),
    ])


def _table_section() -> html.Section:
    return html.Section(className="adz-list", children=[
        html.Div(className="adz-list-head", children=[html.H2("Zones"), html.Span("", id=COUNT, className="muted")]),
        html.Div(id=CONFIRM_BOX, className="adz-confirm hidden", role="alertdialog",
                 **{"aria-labelledby": CONFIRM_TEXT}, children=[
                     html.Span("", id=CONFIRM_TEXT, className="adz-confirm-text"),
                     html.Button("Yes, delete it", id=CONFIRM_YES, className="btn adz-danger", n_clicks=0),
                     html.Button("Keep it", id=CONFIRM_NO, className="btn", n_clicks=0),
                 ]),
        html.Div(id=TABLE, className="adz-table-box", children=html.Div("Loading the zones…", className="muted")),
    ])


# ----------------------------------------------------------------------------- callbacks


def _message(text: str, kind: str) -> html.Div:
    """kind: ok, refused or info; the words say it too."""
    return html.Div(text, className=f"adz-msg is-{kind}")


def _version(fit: bool = False) -> dict:
    return {"at": time.monotonic_ns(), "fit": fit}


def _saving(operation):
    """Run `operation(client, keys, who)` with the signed-in administrator as the audit trail's actor."""
    ui = context()
    identity = webauth.current_identity()
    who = {"actor": identity.user_id, "role": identity.role.value, "origin": webauth.client_origin(),
           "live_maxlen": ui.settings.live_maxlen}
    return ui.redis(lambda client: operation(client, ui.keys, who))


def answer_refresh(version, _tick, digest):
    ui = context()
    now = clock.now_ms()
    try:
        zones = ui.redis(lambda client: load_zones(client, ui.keys))
    except PictureUnavailable as error:
        return (_message(f"The zones cannot be read now: {error}", "refused"), no_update, "", no_update,
                no_update)
    tz = ui.settings.timezone
    rows = C.zone_rows(zones, now, tz)
    seen = hashlib.sha256(repr((rows, [z.polygon for z in zones])).encode()).hexdigest()
    # Frame the zones on the page's first look (nothing shown yet) and after an import, not after every save.
    fit = bool(zones) and (digest is None or (isinstance(version, dict) and version.get("fit") is True))
    if seen == digest and not fit:
        return no_update, no_update, no_update, no_update, no_update
    count = f"{len(zones)} zone{'s' if len(zones) != 1 else ''}"
    return (C.zone_table(rows, EDIT_BUTTON, DELETE_BUTTON), [C.zone_layer(zone, now, tz) for zone in zones], count,
            seen, C.fit_viewport(zones) if fit else no_update)


def answer_perimeter(geojson, editing):
    _, note = C.perimeter(geojson, editing)
    editing_id = editing.get("zone_id") if isinstance(editing, dict) else None
    return note, f"Editing {editing_id}" if isinstance(editing_id, str) else "New zone"


def answer_save(_clicks, _s1, _s2, _s3, _s4, _s5, zone_id, name, decree_ref, valid_from, valid_until, geojson,
                editing):
    ui = context()
    tz = ui.settings.timezone
    ring, _ = C.perimeter(geojson, editing)
    try:
        zone = C.zone_from_form(zone_id=zone_id, name=name, decree_ref=decree_ref, valid_from=valid_from,
                                valid_until=valid_until, polygon=ring, tz=tz, editing=editing)
    except C.ZoneRefused as refusal:
        return (_message(f"Not saved: {refusal}", "refused"), no_update, no_update, no_update, no_update,
                no_update, no_update)

    def save(client, keys, who):
        replaced = bool(client.hexists(keys.zones, zone.zone_id))
        save_zone(client, keys, zone, **who)
        return replaced

    try:
        replaced = _saving(save)
    except PictureUnavailable as error:
        return (_message(f"Not saved: {error}", "refused"), no_update, no_update, no_update, no_update, no_update,
                no_update)
    clear_drawn = {"mode": "remove", "action": "clear all", "n_clicks": clock.now_ms()} if C.drawn_polygons(geojson) \
        else no_update
    return (_message(C.saved_message(zone, clock.now_ms(), tz, replaced=replaced), "ok"), _version(), clear_drawn, None,
            "", "", "")


def answer_import(contents, filename, zone_id, name, decree_ref, valid_from, valid_until):
    if not contents:
        raise dash.exceptions.PreventUpdate
    ui = context()
    tz = ui.settings.timezone
    try:
        defaults = C.form_defaults(zone_id=zone_id, name=name, decree_ref=decree_ref, valid_from=valid_from,
                                   valid_until=valid_until, tz=tz)
        zones = C.zones_from_upload(contents, filename, defaults)
    except C.ZoneRefused as refusal:
        return _message(f"Not imported: {refusal}", "refused"), no_update, None

    def save_all(client, keys, who):
        existing = {zone.zone_id for zone in zones if client.hexists(keys.zones, zone.zone_id)}
        for zone in zones:
            save_zone(client, keys, zone, **who)
        return existing

    try:
        replaced = _saving(save_all)
    except PictureUnavailable as error:
        return _message(f"Not imported: {error}", "refused"), no_update, None
    return _message(C.imported_message(zones, replaced, filename, clock.now_ms(), tz), "ok"), _version(fit=True), None


def _clicked() -> bool:
    """A button of a pattern was really clicked (not merely drawn again with the table)."""
    return bool(ctx.triggered) and bool(ctx.triggered[0].get("value")) and isinstance(ctx.triggered_id, dict)


def answer_edit(_clicks):
    if not _clicked():
        raise dash.exceptions.PreventUpdate
    zone_id = ctx.triggered_id.get("zone")
    ui = context()
    try:
        found = [z for z in ui.redis(lambda client: load_zones(client, ui.keys)) if z.zone_id == zone_id]
    except PictureUnavailable as error:
        return (_message(f"Cannot load {zone_id}: {error}", "refused"), *[no_update] * 7)
    if not found:
        return (_message(f"{zone_id} no longer exists (deleted meanwhile?)", "refused"), *[no_update] * 7)
    state = C.editing_state(found[0], ui.settings.timezone)
    return (_message(f"Editing {zone_id}: change the fields, draw a new perimeter to replace it, then Save. "
                     "Saving with the same id replaces the zone.", "info"),
            state["zone_id"], state["name"], state["decree_ref"], state["from_text"], state["until_text"], state,
            C.fit_viewport(found))


def answer_clear(_clicks, geojson):
    now_text = C.default_from_text(clock.now_ms(), context().settings.timezone)
    clear_drawn = {"mode": "remove", "action": "clear all", "n_clicks": clock.now_ms()} if C.drawn_polygons(geojson) \
        else no_update
    return _message("Form cleared: a new zone.", "info"), "", "", "", now_text, "", None, clear_drawn


def answer_ask_delete(_clicks):
    if not _clicked():
        raise dash.exceptions.PreventUpdate
    zone_id = ctx.triggered_id.get("zone")
    return ({"zone_id": zone_id},
            f"Delete {zone_id}? Drones will no longer be authorised there. This cannot be undone "
            "(the deletion is recorded on the audit trail).", "adz-confirm")


def answer_delete(_yes, _no, pending):
    zone_id = pending.get("zone_id") if isinstance(pending, dict) else None
    if ctx.triggered_id != CONFIRM_YES or not isinstance(zone_id, str):
        return _message("Nothing deleted.", "info"), no_update, None, "adz-confirm hidden"
    try:
        deleted = _saving(lambda client, keys, who: delete_zone(client, keys, zone_id, **who))
    except PictureUnavailable as error:
        return _message(f"Not deleted: {error}", "refused"), no_update, no_update, no_update
    if not deleted:
        return (_message(f"{zone_id} was already gone: nothing deleted.", "refused"), _version(), None,
                "adz-confirm hidden")
    return _message(f"{zone_id} deleted.", "ok"), _version(), None, "adz-confirm hidden"
