"""The administrator's accounts page ("/admin"): staff accounts listed, created, given a new password, deleted,
and an account slowed by failed sign-ins given its normal sign-in back.

Every change goes through the audited store steps (store/accounts.py): the
change, the end of the account's sessions and its audit entry commit together,
and a refusal is recorded with its reason. The page adds the request (who acts,
from where) and the words.

- layout.py: what the page shows; ids.py: its component ids;
- handlers.py: the Dash callbacks (who acts, from where, which answer);
- logic.py: the plain logic behind them (checks, store calls, table rows), tested without Dash.

How the page works: the table, an AG Grid (dash-ag-grid), is drawn by one
callback that follows a version store; creating, resetting and deleting bump
that version. Resetting and deleting open a confirmation panel first (a new
password typed twice, or the code typed again), so no click alone changes an
account. The rows' buttons are drawn in the browser (assets/common/grid_buttons.js)
and come back as the grid's `cellRendererData`, one input for every row. Passwords are only
ever in `type=password` inputs, emptied by every answer, and never in a message.
"""

from __future__ import annotations

import dash
from dash import Input, Output, State

from ....web import auth as webauth
from ....domain.auth import page_permission
from ....domain.pages import ACCOUNTS as PAGE
from . import ids
from .handlers import answer_confirm, answer_create, answer_pick, answer_table, answer_unlock
from . import layout

PERMISSION = page_permission(PAGE)


def register(app: dash.Dash) -> None:
    """Register the page and its callbacks on `app` (web.create_app calls it)."""
    dash.register_page(__name__, path=PAGE, name="Accounts", title="Accounts · Patrol dispatch", layout=layout.layout,
                       order=4)
    guard = webauth.guard_callback(PERMISSION)
    app.callback(Output(ids.TABLE, "rowData"), Output(ids.COUNT, "children"), Output(ids.TABLE_ERROR, "children"),
                 Output(ids.TABLE_ERROR, "className"), Input(ids.VERSION, "data"))(guard(answer_table))
    app.callback(Output(ids.CREATE_MESSAGE, "children"), Output(ids.CREATE_MESSAGE, "className"), Output(ids.CODE, "value"),
                 Output(ids.PASSWORD, "value"), Output(ids.PASSWORD_CONFIRM, "value"), Output(ids.VERSION, "data"),
                 Input(ids.CREATE, "n_clicks"), Input(ids.CODE, "n_submit"), Input(ids.PASSWORD, "n_submit"),
                 Input(ids.PASSWORD_CONFIRM, "n_submit"), State(ids.CODE, "value"), State(ids.ROLE, "value"),
                 State(ids.PASSWORD, "value"), State(ids.PASSWORD_CONFIRM, "value"),
                 running=[(Output(ids.CREATE, "disabled"), True, False)],
                 prevent_initial_call=True)(guard(answer_create))
    app.callback(Output(ids.PENDING, "data"), Output(ids.PANEL, "className"), Output(ids.PANEL_TITLE, "children"),
                 Output(ids.DELETE_PART, "className"), Output(ids.RESET_PART, "className"), Output(ids.CONFIRM_CODE, "value"),
                 Output(ids.RESET_PASSWORD, "value"), Output(ids.RESET_CONFIRM, "value"), Output(ids.PANEL_MESSAGE, "children"),
                 Output(ids.MESSAGE, "children"),
                 Input(ids.TABLE, "cellRendererData"), Input(ids.CANCEL, "n_clicks"), prevent_initial_call=True)(guard(answer_pick))
    app.callback(Output(ids.MESSAGE, "children", allow_duplicate=True), Output(ids.MESSAGE, "className"),
                 Output(ids.VERSION, "data", allow_duplicate=True), Output(ids.PENDING, "data", allow_duplicate=True),
                 Output(ids.PANEL, "className", allow_duplicate=True),
                 Output(ids.PANEL_MESSAGE, "children", allow_duplicate=True),
                 Output(ids.CONFIRM_CODE, "value", allow_duplicate=True),
                 Output(ids.RESET_PASSWORD, "value", allow_duplicate=True),
                 Output(ids.RESET_CONFIRM, "value", allow_duplicate=True), Output(ids.LOCATION, "href"),
                 Input(ids.DELETE_GO, "n_clicks"), Input(ids.CONFIRM_CODE, "n_submit"), Input(ids.RESET_GO, "n_clicks"),
                 Input(ids.RESET_CONFIRM, "n_submit"), Input(ids.RESET_PASSWORD, "n_submit"), State(ids.PENDING, "data"),
                 State(ids.CONFIRM_CODE, "value"), State(ids.RESET_PASSWORD, "value"), State(ids.RESET_CONFIRM, "value"),
                 running=[(Output(ids.DELETE_GO, "disabled"), True, False), (Output(ids.RESET_GO, "disabled"), True, False)],
                 prevent_initial_call=True)(guard(answer_confirm))
    app.callback(Output(ids.MESSAGE, "children", allow_duplicate=True),
                 Output(ids.MESSAGE, "className", allow_duplicate=True),
                 Output(ids.VERSION, "data", allow_duplicate=True),
                 Input(ids.TABLE, "cellRendererData"), prevent_initial_call=True)(guard(answer_unlock))


# ----------------------------------------------------------------------------- callbacks
