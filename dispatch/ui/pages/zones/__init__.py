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
text) in logic.py; the layout in layout.py, the ids in ids.py, the callbacks' glue (who is
signed in, Redis, what to refresh) in handlers.py. Times are typed and
shown on the local clock (settings.timezone). Component ids start with "adz-".
"""

from __future__ import annotations

import dash
from dash import Input, Output, State

from ....domain.auth import page_permission
from ....domain.pages import ZONES as PAGE
from ....web import auth as webauth
from . import ids
from .handlers import (
    answer_ask_delete, answer_clear, answer_delete, answer_edit, answer_import, answer_perimeter, answer_refresh,
    answer_save,
)
from . import layout

PERMISSION = page_permission(PAGE)


def register(app: dash.Dash) -> None:
    dash.register_page(__name__, path=PAGE, name="Zones", title="Zones · Patrol dispatch", layout=layout.layout, order=5)
    guard = webauth.guard_callback(PERMISSION)
    form = [State(ids.ZONE_ID, "value"), State(ids.NAME, "value"), State(ids.DECREE, "value"), State(ids.VALID_FROM, "value"),
            State(ids.VALID_UNTIL, "value")]
    say = Output(ids.MESSAGE, "children", allow_duplicate=True)
    redraw = Output(ids.VERSION, "data", allow_duplicate=True)
    fill = [Output(i, "value", allow_duplicate=True) for i in (ids.ZONE_ID, ids.NAME, ids.DECREE, ids.VALID_FROM, ids.VALID_UNTIL)]
    app.callback(Output(ids.TABLE, "rowData"), Output(ids.ZONES_LAYER, "children"), Output(ids.COUNT, "children"),
                 Output(ids.DIGEST, "data"), Output(ids.MAP, "viewport"), Output(ids.TABLE_ERROR, "children"),
                 Input(ids.VERSION, "data"), Input(ids.TICK, "n_intervals"), State(ids.DIGEST, "data"))(guard(answer_refresh))
    app.callback(Output(ids.PERIMETER, "children"), Output(ids.FORM_TITLE, "children"),
                 Input(ids.EDIT_CONTROL, "geojson"), Input(ids.EDITING, "data"))(guard(answer_perimeter))
    app.callback(say, redraw, Output(ids.EDIT_CONTROL, "editToolbar", allow_duplicate=True),
                 Output(ids.EDITING, "data", allow_duplicate=True), *fill[:3],
                 Input(ids.SAVE, "n_clicks"), *[Input(i, "n_submit") for i in (ids.ZONE_ID, ids.NAME, ids.DECREE, ids.VALID_FROM,
                                                                            ids.VALID_UNTIL)],
                 *form, State(ids.EDIT_CONTROL, "geojson"), State(ids.EDITING, "data"),
                 running=[(Output(ids.SAVE, "disabled"), True, False)],
                 prevent_initial_call=True)(guard(answer_save))
    app.callback(say, redraw, Output(ids.UPLOAD, "contents"), Input(ids.UPLOAD, "contents"), State(ids.UPLOAD, "filename"),
                 *form, running=[(Output(ids.UPLOAD, "disabled"), True, False)],
                 prevent_initial_call=True)(guard(answer_import))
    app.callback(say, *fill, Output(ids.EDITING, "data", allow_duplicate=True),
                 Output(ids.MAP, "viewport", allow_duplicate=True),
                 Input(ids.TABLE, "cellRendererData"), prevent_initial_call=True)(guard(answer_edit))
    app.callback(say, *fill, Output(ids.EDITING, "data", allow_duplicate=True),
                 Output(ids.EDIT_CONTROL, "editToolbar", allow_duplicate=True),
                 Input(ids.CLEAR, "n_clicks"), State(ids.EDIT_CONTROL, "geojson"),
                 prevent_initial_call=True)(guard(answer_clear))
    app.callback(Output(ids.PENDING, "data"), Output(ids.CONFIRM_TEXT, "children"), Output(ids.CONFIRM_BOX, "className"),
                 Input(ids.TABLE, "cellRendererData"),
                 prevent_initial_call=True)(guard(answer_ask_delete))
    app.callback(say, redraw, Output(ids.PENDING, "data", allow_duplicate=True),
                 Output(ids.CONFIRM_BOX, "className", allow_duplicate=True),
                 Input(ids.CONFIRM_YES, "n_clicks"), Input(ids.CONFIRM_NO, "n_clicks"), State(ids.PENDING, "data"),
                 prevent_initial_call=True)(guard(answer_delete))

