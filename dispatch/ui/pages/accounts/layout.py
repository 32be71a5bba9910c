"""What the accounts page shows: the account table, the confirmation panel, the creation form, who may do what."""

from __future__ import annotations

import dash_ag_grid as dag
from dash import dcc, html

from ....web.context import context
from ... import grid, nav
from ....domain.pages import ACCOUNTS
from . import ids
from . import logic as C

SHOWN, HIDDEN = "ad-panel", "ad-panel hidden"


def layout(**_query) -> html.Div:
    settings = context().settings
    return html.Div(id=ids.ROOT, className="ad-page staff-page", children=[
        html.Header(className="topbar ad-top", children=[
            html.Div(className="brand", children=[
                html.Span(settings.site.upper(), className="site"), html.Span("accounts", className="brand-sub")]),
            html.Span(className="ad-spacer"),
            nav.page_links(ACCOUNTS),
            nav.identity_form(),
        ]),
        html.Main(className="ad-body", children=[
            html.Div(id=ids.MESSAGE, className="ad-msg", role="status", **{"aria-live": "polite"}),
            _panel(),
            html.Section(className="ad-card ad-accounts", children=[
                html.Div(className="ad-card-head", children=[
                    html.H2("Staff accounts"), html.Span("", id=ids.COUNT, className="ad-count")]),
                html.P("Deleting an account or giving it a new password signs it out everywhere at once.",
                       className="ad-note"),
                html.P(id=ids.TABLE_ERROR, className="ad-msg is-refused hidden", role="alert"),
                table(),
            ]),
            _create_form(),
            _roles(),
        ]),
        dcc.Store(id=ids.VERSION, data=0),
        dcc.Store(id=ids.PENDING),
        dcc.Location(id=ids.LOCATION, refresh=True),
    ])


def table() -> dag.AgGrid:
    """The accounts as an AG Grid: sortable columns, row buttons drawn by RowButtons (grid.py); the rows come
    from `table_rows`."""
    roles = {f"ad-role-{role.value}": f"params.value === '{role.value}'" for role in C.STAFF_ROLES}
    columns = [
        {"field": "code", "headerName": "Code", "cellClass": "ad-code-text", "minWidth": 130},
        {"field": "role", "headerName": "Role", "cellClass": "ad-role-cell", "cellClassRules": roles, "minWidth": 150},
        {"field": "created", "headerName": "Created", "minWidth": 200},
        {"field": "signin", "headerName": "Sign-in", "minWidth": 220,
         "cellClassRules": {"ad-signin-normal": "!params.data.slowed"}},
        grid.buttons_column(minWidth=330, flex=2),
    ]
    return dag.AgGrid(
        id=ids.TABLE, className="ad-grid", style={**grid.GRID_STYLE, "--ag-font-size": "1.05rem"}, columnDefs=columns, rowData=None,
        getRowId="params.data.user",
        defaultColDef={"sortable": True, "resizable": True, "wrapText": True, "autoHeight": True, "flex": 1},
        dashGridOptions={"domLayout": "autoHeight", "ensureDomOrder": True, "suppressColumnVirtualisation": True,
                         "enableCellTextSelection": True,
                         "localeText": grid.overlay_text(NO_ACCOUNT, "Loading the accounts…")},
    )


NO_ACCOUNT = "No account yet: create one below."


def table_rows(rows: list[C.AccountRow]) -> list[dict]:
    """The grid's rows: plain values (shown as text) and each row's buttons."""
    return [{"user": row.user_id, "you": row.is_you, "code": row.user_id + (" (you)" if row.is_you else ""),
             "role": row.role, "created": f"{row.created} · {row.age}", "signin": row.signin, "slowed": row.slowed,
             "buttons": _buttons(row)} for row in rows]


def _buttons(row: C.AccountRow) -> list[dict]:
    user = row.user_id
    buttons = [grid.row_button(ids.UNLOCK, "Lift sign-in delay", class_name="btn ad-btn ad-btn-go",
                               title=f"Let {user} sign in again at once (clears its failed attempts)",
                               aria_label=f"Lift the sign-in delay of {user}")] if row.slowed else []
    return buttons + [
        grid.row_button(ids.RESET, "Reset password", class_name="btn ad-btn", title=f"Give {user} a new password",
                        aria_label=f"Reset the password of {user}"),
        grid.row_button(ids.DELETE, "Delete", class_name="btn ad-btn ad-btn-danger", disabled=row.is_you,
                        title="You cannot delete your own account" if row.is_you else f"Delete {user}",
                        aria_label=f"Delete {user}"),
    ]


def _badge(role: str) -> html.Span:
    """The role by a shape and a word (colour alone would not do)."""
    return html.Span(className=f"ad-badge ad-role-{role}", children=[
        html.Span(className="ad-shape", **{"aria-hidden": "true"}), html.Span(role)])


def _panel() -> html.Section:
    """The confirmation step of a reset or a deletion; hidden until a row's button opens it."""
    return html.Section(id=ids.PANEL, className=HIDDEN, role="dialog", **{"aria-labelledby": ids.PANEL_TITLE}, children=[
        html.H2("", id=ids.PANEL_TITLE),
        html.Div(id=ids.DELETE_PART, className="hidden", children=[
            html.P("The account and its open sessions end at once. Type its code to confirm.", className="ad-note"),
            _field("Code",
                dcc.Input(id=ids.CONFIRM_CODE, type="text", autoComplete="off", className="ad-input")),
            html.Button("Delete the account", id=ids.DELETE_GO, className="btn ad-btn ad-btn-danger", n_clicks=0),
        ]),
        html.Div(id=ids.RESET_PART, className="hidden", children=[
            html.P(["Its open sessions end at once. ", C.PASSWORD_HINT], className="ad-note"),
            _field("New password",
                dcc.Input(id=ids.RESET_PASSWORD, type="password", autoComplete="new-password", className="ad-input")),
            _field("The same again",
                dcc.Input(id=ids.RESET_CONFIRM, type="password", autoComplete="new-password", className="ad-input")),
            html.Button("Set the new password", id=ids.RESET_GO, className="btn ad-btn ad-btn-go", n_clicks=0),
        ]),
        html.P("", id=ids.PANEL_MESSAGE, className="ad-msg is-refused ad-panel-message", role="alert"),
        html.Button("Cancel", id=ids.CANCEL, className="btn ad-btn", n_clicks=0),
    ])


def _field(label: str, control) -> html.Label:
    return html.Label(className="ad-label", children=[html.Span(label), control])


def _create_form() -> html.Section:
    return html.Section(className="ad-card ad-create", children=[
        html.H2("New account"),
        html.Div(className="ad-form", children=[
            _field("Code",
                dcc.Input(id=ids.CODE, type="text", placeholder="SUP-3", autoComplete="off", className="ad-input")),
            html.Div(className="ad-label", children=[
                html.Span("Role"),
                dcc.RadioItems(id=ids.ROLE, value="supervisor", className="ad-roles", inputClassName="ad-role-input",
                               labelClassName="ad-role-label",
                               options=[{"label": role.value, "value": role.value} for role in C.STAFF_ROLES]),
            ]),
            _field("Password",
                dcc.Input(id=ids.PASSWORD, type="password", autoComplete="new-password", className="ad-input")),
            _field("The same again",
                dcc.Input(id=ids.PASSWORD_CONFIRM, type="password", autoComplete="new-password", className="ad-input")),
            html.Button("Create the account", id=ids.CREATE, className="btn ad-btn ad-btn-go", n_clicks=0),
        ]),
        html.P([C.CODE_HINT, " ", C.PASSWORD_HINT], className="ad-note ad-hint"),
        html.P("", id=ids.CREATE_MESSAGE, className="ad-msg", role="status", **{"aria-live": "polite"}),
    ])


def _roles() -> html.Section:
    return html.Section(className="ad-card ad-who", children=[
        html.H2("Who may do what"),
        html.Table(className="ad-table ad-roles-table", children=[
            html.Thead(html.Tr([html.Th("Role"), html.Th("May")])),
            html.Tbody([html.Tr([html.Td(_badge(role)), html.Td(what)]) for role, what in C.roles_note()]),
        ]),
        html.P("Patrols have no account: a supervisor issues each crew a one-time code for its shift. "
               "Every change on this page is on the audit trail: who, when, from which address; never a password.",
               className="ad-note"),
    ])
