"""What the accounts page shows: the account table, the confirmation panel, the creation form, who may do what."""

from __future__ import annotations

from dash import dcc, html

from ....web.context import context
from ... import nav
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
                html.Div(id=ids.TABLE, className="ad-table-box", children=html.P("Loading the accounts…",
                                                                              className="ad-note")),
            ]),
            _create_form(),
            _roles(),
        ]),
        dcc.Store(id=ids.VERSION, data=0),
        dcc.Store(id=ids.PENDING),
        dcc.Location(id=ids.LOCATION, refresh=True),
    ])


def table(rows: list[C.AccountRow]) -> html.Table | html.P:
    if not rows:
        return html.P("No account yet: create one below.", className="ad-note")
    head = html.Thead(html.Tr([html.Th("Code"), html.Th("Role"), html.Th("Created"), html.Th("Sign-in"),
                               html.Th("Actions")]))
    body = []
    for row in rows:
        you = row.is_you
        body.append(html.Tr(className="ad-row", **{"data-user": row.user_id}, children=[
            html.Td([html.Span(row.user_id, className="ad-code-text"),
                     html.Span(" (you)", className="ad-you") if you else None]),
            html.Td(_badge(row.role)),
            html.Td([html.Span(row.created), html.Span(row.age, className="ad-age")]),
            html.Td(html.Span(row.signin, className="ad-signin" if row.slowed else "ad-signin ad-age"),
                    **{"data-slowed": "yes" if row.slowed else "no"}),
            html.Td(className="ad-actions", children=[
                html.Button("Lift sign-in delay", id={"type": ids.ROW_UNLOCK, "user": row.user_id}, n_clicks=0,
                            className="btn ad-btn ad-btn-go",
                            title=f"Let {row.user_id} sign in again at once (clears its failed attempts)")
                if row.slowed else None,
                html.Button("Reset password", id={"type": ids.ROW_RESET, "user": row.user_id}, n_clicks=0,
                            className="btn ad-btn", title=f"Give {row.user_id} a new password"),
                html.Button("Delete", id={"type": ids.ROW_DELETE, "user": row.user_id}, n_clicks=0,
                            className="btn ad-btn ad-btn-danger", disabled=you,
                            title="You cannot delete your own account" if you else f"Delete {row.user_id}"),
            ]),
        ]))
    return html.Table(className="ad-table", children=[head, html.Tbody(body)])


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
