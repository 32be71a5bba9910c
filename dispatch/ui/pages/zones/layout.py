"""What the zones page shows: the map with its drawing tools, the zone form, the file import, the zone table."""

from __future__ import annotations

import dataclasses
import json

import dash_ag_grid as dag
import dash_leaflet as dl
from dash import dcc, html

from .... import clock
from ....domain.pages import ZONES
from ....settings import Settings
from ....web.context import context
from ... import grid, nav
from ... import layers as L
from ...maps import OSM_ATTRIBUTION, RENNES, ZOOM
from . import ids
from . import logic as C

REFRESH_MS = 30_000  # validity ends with time alone: statuses are looked at again this often
DRAW_STYLE = {"color": "#f0a020", "weight": 3, "fillOpacity": 0.15}
DRAW_OPTIONS = {"polygon": {"allowIntersection": False, "showArea": False, "shapeOptions": DRAW_STYLE},
                "rectangle": {"showArea": False, "shapeOptions": DRAW_STYLE},
                "polyline": False, "circle": False, "marker": False, "circlemarker": False}


def layout(**_query) -> html.Div:
    settings = context().settings
    return html.Div(id=ids.ROOT, className="adz staff-page", **{"data-ids": json.dumps(ids.SCRIPT_IDS)}, children=[
        html.Header(className="topbar adz-top", children=[
            html.Div(className="brand", children=[html.Span(settings.site.upper(), className="site"),
                                                  html.Span("authorised flight zones", className="brand-sub")]),
            html.Span(f"times in {settings.timezone}", className="muted adz-tz"),
            nav.page_links(ZONES),
            nav.identity_form(),
        ]),
        html.Div(id=ids.MESSAGE, className="adz-message", role="status", **{"aria-live": "polite"}),
        html.Main(className="adz-body", children=[
            html.Section(className="adz-map-area", children=[_map(settings), _legend()]),
            _form(settings),
        ]),
        _table_section(),
        dcc.Store(id=ids.PENDING), dcc.Store(id=ids.EDITING), dcc.Store(id=ids.VERSION), dcc.Store(id=ids.DIGEST),
        dcc.Interval(id=ids.TICK, interval=REFRESH_MS),
    ])


def _map(settings: Settings) -> dl.MapContainer:
    children = []
    if settings.tile_url:  # empty: no base map (offline networks, tests); the zones still show
        attribution = OSM_ATTRIBUTION if "openstreetmap" in settings.tile_url else ""
        children.append(dl.TileLayer(url=settings.tile_url, attribution=attribution, maxZoom=19))
    children += [
        dl.ScaleControl(position="bottomright", imperial=False),
        dl.LayerGroup(id=ids.ZONES_LAYER),
        dl.FeatureGroup(id=ids.DRAWN, children=[dl.EditControl(id=ids.EDIT_CONTROL, position="topright",
                                                           draw=DRAW_OPTIONS, edit={"edit": {}, "remove": True})]),
    ]
    return dl.MapContainer(id=ids.MAP, className="adz-map", center=list(RENNES), zoom=ZOOM, children=children,
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

    return html.Section(className="adz-form", **{"aria-labelledby": ids.FORM_TITLE}, children=[
        html.H2("New zone", id=ids.FORM_TITLE),
        _field("Zone id", "Z- then capitals, digits or '-'. An existing id is replaced.",
               text(ids.ZONE_ID, "Z-VILLEJEAN", 40)),
        _field("Name", "As the decree names the area", text(ids.NAME, "Villejean - Kennedy", 60)),
        _field("Decree reference", "The prefectoral decree", text(ids.DECREE, "2026-11-035-PREF35", 60)),
        html.Div(className="adz-dates", children=[
            _field("Valid from", "local date and time", dcc.Input(
                id=ids.VALID_FROM, type="datetime-local", n_submit=0, className="adz-input",
                value=C.default_from_text(clock.now_ms(), settings.timezone))),
            _field("Valid until", "through the end of this local day", dcc.Input(
                id=ids.VALID_UNTIL, type="date", n_submit=0, className="adz-input")),
        ]),
        html.Div(C.DRAW_HINT, id=ids.PERIMETER, className="adz-perimeter", role="status"),
        html.Div(className="adz-actions", children=[
            html.Button("Save zone", id=ids.SAVE, className="btn adz-save", n_clicks=0),
            html.Button("Clear form", id=ids.CLEAR, className="btn adz-clear", n_clicks=0),
        ]),
        dcc.Upload(id=ids.UPLOAD, className="adz-upload", max_size=C.MAX_UPLOAD_BYTES, accept=".geojson,.json",
                   children=[html.Button("Import GeoJSON…", className="btn adz-import"),  # a focusable way in
                             html.Span("or drop a file here", className="muted")]),
        html.Div(className="adz-hint", children=[
            f"A Feature or FeatureCollection of Polygons, at most {C.size_text(C.MAX_UPLOAD_BYTES)}. Properties "
            "zone_id, name, decree_ref, valid_from_ms, valid_until_ms; those missing are taken from the form. "
            "A file with an error is refused whole."]),
        html.Div(id=ids.UPLOAD_NOTE, className="adz-upload-note", role="alert",
                 **{"data-max-bytes": str(C.MAX_UPLOAD_BYTES)}),
    ])


def _table_section() -> html.Section:
    return html.Section(className="adz-list", children=[
        html.Div(className="adz-list-head", children=[html.H2("Zones"), html.Span("", id=ids.COUNT, className="muted")]),
        html.Div(id=ids.CONFIRM_BOX, className="adz-confirm hidden", role="alertdialog",
                 **{"aria-labelledby": ids.CONFIRM_TEXT}, children=[
                     html.Span("", id=ids.CONFIRM_TEXT, className="adz-confirm-text"),
                     html.Button("Yes, delete it", id=ids.CONFIRM_YES, className="btn adz-danger", n_clicks=0),
                     html.Button("Keep it", id=ids.CONFIRM_NO, className="btn", n_clicks=0),
                 ]),
        html.Div(id=ids.TABLE_ERROR, className="adz-table-error", role="alert"),
        zone_grid(),
    ])


# Field of each column in logic.COLUMNS order (the last, the row's buttons, has no title) and its cell classes.
GRID_FIELDS = (("zone_id", "adz-id"), ("name", "adz-name"), ("decree_ref", "adz-decree"), ("valid_from", ""),
               ("valid_until", ""), ("status_text", "adz-status"), ("vertices", "adz-num"))
STATUS_CLASSES = {f"is-{status}": f"params.data.status === '{status}'" for status in ("active", "expired", "upcoming")}
NO_ZONE = "No zone yet: draw one on the map or import a GeoJSON file."


def zone_grid() -> dag.AgGrid:
    """The zones as an AG Grid: sortable, filterable columns; Edit and Delete drawn by RowButtons (ui/grid.py)."""
    columns = [{"field": field, "headerName": title, "cellClass": classes,
                **({"cellClassRules": STATUS_CLASSES} if field == "status_text" else {}),
                **({"type": "numericColumn", "maxWidth": 120} if field == "vertices" else {})}
               for title, (field, classes) in zip(C.COLUMNS, GRID_FIELDS)]
    columns.append(grid.buttons_column("Actions", cellClass="grid-buttons-cell adz-row-actions", minWidth=200))
    return dag.AgGrid(
        id=ids.TABLE, className="adz-grid", style=grid.GRID_STYLE, columnDefs=columns, rowData=None,
        getRowId="params.data.zone_id", rowClass="adz-row", rowClassRules=STATUS_CLASSES,
        defaultColDef={"sortable": True, "filter": True, "resizable": True, "wrapText": True, "autoHeight": True,
                       "flex": 1, "minWidth": 110},
        dashGridOptions={"domLayout": "autoHeight", "ensureDomOrder": True, "suppressColumnVirtualisation": True,
                         "enableCellTextSelection": True,
                         "localeText": grid.overlay_text(NO_ZONE, "Loading the zones…")},
    )


def table_rows(rows: list[C.ZoneRow]) -> list[dict]:
    """The grid's rows: the zone's values (shown as text, never markup) and its Edit and Delete buttons."""
    return [{**dataclasses.asdict(row), "buttons": [
        grid.row_button(ids.EDIT, "Edit", class_name="btn", title=f"Load {row.zone_id} into the form",
                        aria_label=f"Edit {row.zone_id}"),
        grid.row_button(ids.DELETE, "Delete", class_name="btn adz-danger-outline", title=f"Delete {row.zone_id}",
                        aria_label=f"Delete {row.zone_id}"),
    ]} for row in rows]
