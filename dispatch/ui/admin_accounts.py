"""The administrator's accounts page ("/admin"): staff accounts listed, created, given a new password, deleted,
and an account slowed by failed sign-ins given its normal sign-in back.

Every change goes through the audited store steps (store/accounts.py): the
change, the end of the account's sessions and its audit entry commit together,
and a refusal is recorded with its reason. The page adds the request (who acts,
from where) and the words: admin_accounts_callbacks.py holds the plain logic.

How the page works: the table is drawn by one callback that follows a version
store; creating, resetting and deleting bump that version. Resetting and
deleting open a confirmation panel first (a new password typed twice, or the
code typed again), so no click alone changes an account. Passwords are only
ever in `type=password` inputs, emptied by every answer, and never in a message.

Component ids all start with "ad-" (the zones page uses "adz-"); styles are in
assets/admin/admin.css.
"""

from __future__ import annotations


import dash
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from .. import clock
from ..web import auth as webauth
from . import PictureUnavailable, context, nav
from ..store import accounts
from . import admin_accounts_callbacks as C

PATH = "/admin"
PERMISSION = "manage_users"

# ---- component ids ---------------------------------------------------------------------------
ROOT = "ad-root"
LOCATION = "ad-location"  # sends an administrator who reset their own password to the sign-in page
VERSION = "ad-version"  # bumped by every change: the table follows it
TABLE = "ad-table"
COUNT = "ad-count"
MESSAGE = "ad-message"

CODE = "ad-code"
ROLE = "ad-role"
PASSWORD = "ad-password"
PASSWORD_CONFIRM = "ad-password-confirm"
CREATE = "ad-create"
CREATE_MESSAGE = "ad-create-message"

ROW_RESET = "ad-row-reset"  # pattern-matching ids {"type": ROW_RESET, "user": code}
ROW_DELETE = "ad-row-delete"
ROW_UNLOCK = "ad-row-unlock"  # lifts the row's sign-in delay
PENDING = "ad-pending"  # {"action": "reset" | "delete", "user": code} while the panel is open
PANEL = "ad-panel"
PANEL_TITLE = "ad-panel-title"
PANEL_MESSAGE = "ad-panel-message"
DELETE_PART = "ad-delete-part"
CONFIRM_CODE = "ad-confirm-code"
DELETE_GO = "ad-delete-go"
RESET_PART = "ad-reset-part"
RESET_PASSWORD = "ad-reset-password"
RESET_CONFIRM = "ad-reset-confirm"
RESET_GO = "ad-reset-go"
CANCEL = "ad-cancel"

SHOWN, HIDDEN = "ad-panel", "ad-panel hidden"


def register(app: dash.Dash) -> None:
    """Register the page and its callbacks on `app` (web.create_app calls it)."""
    dash.register_page(__name__, path=PATH, name="Accounts", title="Accounts · Patrol dispatch", layout=layout,
                       order=4)
    guard = webauth.guard_callback(PERMISSION)
    app.callback(Output(TABLE, "children"), Output(COUNT, "children"), Input(VERSION, "data"))(guard(answer_table))
    app.callback(Output(CREATE_MESSAGE, "children"), Output(CREATE_MESSAGE, "className"), Output(CODE, "value"),
                 Output(PASSWORD, "value"), Output(PASSWORD_CONFIRM, "value"), Output(VERSION, "data"),
                 Input(CREATE, "n_clicks"), Input(CODE, "n_submit"), Input(PASSWORD, "n_submit"),
                 Input(PASSWORD_CONFIRM, "n_submit"), State(CODE, "value"), State(ROLE, "value"),
                 State(PASSWORD, "value"), State(PASSWORD_CONFIRM, "value"),
                 running=[(Output(CREATE, "disabled"), True, False)],
                 prevent_initial_call=True)(guard(answer_create))
    app.callback(Output(PENDING, "data"), Output(PANEL, "className"), Output(PANEL_TITLE, "children"),
                 Output(DELETE_PART, "className"), Output(RESET_PART, "className"), Output(CONFIRM_CODE, "value"),
                 Output(RESET_PASSWORD, "value"), Output(RESET_CONFIRM, "value"), Output(PANEL_MESSAGE, "children"),
                 Output(MESSAGE, "children"),
                 Input({"type": ROW_RESET, "user": ALL}, "n_clicks"), Input({"type": ROW_DELETE, "user": ALL}, "n_clicks"),
                 Input(CANCEL, "n_clicks"), prevent_initial_call=True)(guard(answer_pick))
    app.callback(Output(MESSAGE, "children", allow_duplicate=True), Output(MESSAGE, "className"),
                 Output(VERSION, "data", allow_duplicate=True), Output(PENDING, "data", allow_duplicate=True),
                 Output(PANEL, "className", allow_duplicate=True),
                 Output(PANEL_MESSAGE, "children", allow_duplicate=True),
                 Output(CONFIRM_CODE, "value", allow_duplicate=True),
                 Output(RESET_PASSWORD, "value", allow_duplicate=True),
                 Output(RESET_CONFIRM, "value", allow_duplicate=True), Output(LOCATION, "href"),
                 Input(DELETE_GO, "n_clicks"), Input(CONFIRM_CODE, "n_submit"), Input(RESET_GO, "n_clicks"),
                 Input(RESET_CONFIRM, "n_submit"), Input(RESET_PASSWORD, "n_submit"), State(PENDING, "data"),
                 State(CONFIRM_CODE, "value"), State(RESET_PASSWORD, "value"), State(RESET_CONFIRM, "value"),
                 running=[(Output(DELETE_GO, "disabled"), True, False), (Output(RESET_GO, "disabled"), True, False)],
                 prevent_initial_call=True)(guard(answer_confirm))
    app.callback(Output(MESSAGE, "children", allow_duplicate=True),
                 Output(MESSAGE, "className", allow_duplicate=True),
                 Output(VERSION, "data", allow_duplicate=True),
                 Input({"type": ROW_UNLOCK, "user": ALL}, "n_clicks"), prevent_initial_call=True)(guard(answer_unlock))


# ----------------------------------------------------------------------------- callbacks


def _actor() -> C.Actor:
    identity = webauth.current_identity()  # the guard let only a signed-in administrator through
    return C.Actor(identity.user_id, webauth.client_origin())


def _message(outcome: C.Outcome) -> tuple[str, str]:
    return outcome.message, "ad-msg is-ok" if outcome.ok else "ad-msg is-refused"


def answer_table(_version) -> tuple:
    ui = context()
    identity = webauth.current_identity()
    try:
        found = ui.redis(lambda client: accounts.list_accounts(client, ui.keys))
        throttled = ui.redis(lambda client: accounts.throttle_states(client, ui.keys, [a.user_id for a in found]))
    except PictureUnavailable as error:
        return html.P(f"The accounts cannot be read now ({error}). Try again in a moment.",
                      className="ad-msg is-refused"), ""
    rows = C.account_rows(found, tz=ui.settings.timezone, now_ms=clock.now_ms(), you=identity and identity.user_id,
                          throttled=throttled)
    return _table(rows), f"{len(rows)} account{'s' if len(rows) != 1 else ''}"


def answer_create(_clicks, _submit_code, _submit_password, _submit_confirm, code, role, password, confirm) -> tuple:
    ui, actor = context(), _actor()
    try:
        outcome = ui.redis(lambda client: C.create(client, ui.keys, code=code, role=role, password=password,
                                                   confirm=confirm, actor=actor))
    except PictureUnavailable as error:
        outcome = C.Outcome(False, f"Not created: the accounts cannot be written now ({error})")
    text, classes = _message(outcome)
    return text, classes, "" if outcome.ok else no_update, "", "", clock.now_ms() if outcome.ok else no_update


def answer_pick(_resets, _deletes, _cancel) -> tuple:
    if not any(item.get("value") for item in ctx.triggered):
        raise PreventUpdate  # a row (re)drawn, not a click
    picked = ctx.triggered_id
    closed = (None, HIDDEN, "", "hidden", "hidden", "", "", "", "", no_update)
    if not isinstance(picked, dict) or not isinstance(picked.get("user"), str):
        return closed  # Cancel
    user = picked["user"]
    if picked.get("type") == ROW_DELETE:
        return ({"action": "delete", "user": user}, SHOWN, f"Delete {user}?", "ad-part", "hidden", "", "", "", "",
                "")
    return ({"action": "reset", "user": user}, SHOWN, f"New password for {user}", "hidden", "ad-part", "", "", "",
            "", "")


def answer_unlock(_unlocks) -> tuple:
    """A row's "Lift the sign-in delay": one click (it only gives the account back its normal sign-in)."""
    if not any(item.get("value") for item in ctx.triggered):
        raise PreventUpdate  # a row (re)drawn, not a click
    picked = ctx.triggered_id
    if not isinstance(picked, dict) or not isinstance(picked.get("user"), str):
        raise PreventUpdate
    ui, actor = context(), _actor()
    try:
        outcome = ui.redis(lambda client: C.unlock(client, ui.keys, user_id=picked["user"], actor=actor))
    except PictureUnavailable as error:
        outcome = C.Outcome(False, f"Nothing changed: the accounts cannot be written now ({error})")
    text, classes = _message(outcome)
    return text, classes, clock.now_ms() if outcome.ok else no_update


def answer_confirm(_delete, _submit_code, _reset, _submit_confirm, _submit_password, pending, typed, password,
                   confirm) -> tuple:
    if not isinstance(pending, dict) or pending.get("action") not in ("delete", "reset"):
        raise PreventUpdate
    triggered = {ctx.triggered_id}
    deleting = pending["action"] == "delete"
    if (deleting and not triggered & {DELETE_GO, CONFIRM_CODE}) or (
            not deleting and not triggered & {RESET_GO, RESET_CONFIRM, RESET_PASSWORD}):
        raise PreventUpdate  # Enter in the other part's field
    ui, actor = context(), _actor()
    user = pending.get("user")
    try:
        if deleting:
            outcome = ui.redis(lambda client: C.delete(client, ui.keys, user_id=user, typed=typed, actor=actor))
        else:
            outcome = ui.redis(lambda client: C.reset(client, ui.keys, user_id=user, password=password,
                                                      confirm=confirm, actor=actor))
    except PictureUnavailable as error:
        outcome = C.Outcome(False, f"Nothing changed: the accounts cannot be written now ({error})")
    away = dash.get_relative_path("/login") if outcome.ended_own_session else no_update
    if not outcome.ok:  # the panel stays open with what to fix; the passwords are emptied all the same
        return no_update, no_update, no_update, no_update, no_update, outcome.message, no_update, "", "", away
    text, classes = _message(outcome)
    return text, classes, clock.now_ms(), None, HIDDEN, "", "", "", "", away


# ----------------------------------------------------------------------------- layout


def layout(**_query) -> html.Div:
    settings = context().settings
    return html.Div(id=ROOT, className="ad-page staff-page", children=[
        html.Header(className="topbar ad-top", children=[
            html.Div(className="brand", children=[
                html.Span(settings.site.upper(), className="site"), html.Span("accounts", className="brand-sub")]),
            html.Span(className="ad-spacer"),
            nav.page_links(PATH),
            nav.identity_form(),
        ]),
        html.Main(className="ad-body", children=[
            html.Div(id=MESSAGE, className="ad-msg", role="status", **{"aria-live": "polite"}),
            _panel(),
            html.Section(className="ad-card ad-accounts", children=[
                html.Div(className="ad-card-head", children=[
                    html.H2("Staff accounts"), html.Span("", id=COUNT, className="ad-count")]),
                html.P("Deleting an account or giving it a new password signs it out everywhere at once.",
                       className="ad-note"),
                html.Div(id=TABLE, className="ad-table-box", children=html.P("Loading the accounts…",
                                                                              className="ad-note")),
            ]),
            _create_form(),
            _roles(),
        ]),
        dcc.Store(id=VERSION, data=0),
        dcc.Store(id=PENDING),
        dcc.Location(id=LOCATION, refresh=True),
    ])


def _table(rows: list[C.AccountRow]) -> html.Table | html.P:
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
                html.Button("Lift sign-in delay", id={"type": ROW_UNLOCK, "user": row.user_id}, n_clicks=0,
                            className="btn ad-btn ad-btn-go",
                            title=f"Let {row.user_id} sign in again at once (clears its failed attempts)")
                if row.slowed else None,
                html.Button("Reset password", id={"type": ROW_RESET, "user": row.user_id}, n_clicks=0,
                            className="btn ad-btn", title=f"Give {row.user_id} a new password"),
                html.Button("Delete", id={"type": ROW_DELETE, "user": row.user_id}, n_clicks=0,
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
    return html.Section(id=PANEL, className=HIDDEN, role="dialog", **{"aria-labelledby": PANEL_TITLE}, children=[
        html.H2("", id=PANEL_TITLE),
        html.Div(id=DELETE_PART, className="hidden", children=[
            html.P("The account and its open sessions end at once. Type its code to confirm.", className="ad-note"),
            _field("Code",
                dcc.Input(id=CONFIRM_CODE, type="text", autoComplete="off", className="ad-input")),
            html.Button("Delete the account", id=DELETE_GO, className="btn ad-btn ad-btn-danger", n_clicks=0),
        ]),
        html.Div(id=RESET_PART, className="hidden", children=[
            html.P(["Its open sessions end at once. ", C.PASSWORD_HINT], className="ad-note"),
            _field("New password",
                dcc.Input(id=RESET_PASSWORD, type="password", autoComplete="new-password", className="ad-input")),
            _field("The same again",
                dcc.Input(id=RESET_CONFIRM, type="password", autoComplete="new-password", className="ad-input")),
            html.Button("Set the new password", id=RESET_GO, className="btn ad-btn ad-btn-go", n_clicks=0),
        ]),
        html.P("", id=PANEL_MESSAGE, className="ad-msg is-refused ad-panel-message", role="alert"),
        html.Button("Cancel", id=CANCEL, className="btn ad-btn", n_clicks=0),
    ])


def _field(label: str, control) -> html.Label:
    return html.Label(className="ad-label", children=[html.Span(label), control])


def _create_form() -> html.Section:
    return html.Section(className="ad-card ad-create", children=[
        html.H2("New account"),
        html.Div(className="ad-form", children=[
            _field("Code",
                dcc.Input(id=CODE, type="text", placeholder="SUP-3", autoComplete="off", className="ad-input")),
            html.Div(className="ad-label", children=[
                html.Span("Role"),
                dcc.RadioItems(id=ROLE, value="supervisor", className="ad-roles", inputClassName="ad-role-input",
                               labelClassName="ad-role-label",
                               options=[{"label": role.value, "value": role.value} for role in C.STAFF_ROLES]),
            ]),
            _field("Password",
                dcc.Input(id=PASSWORD, type="password", autoComplete="new-password", className="ad-input")),
            _field("The same again",
                dcc.Input(id=PASSWORD_CONFIRM, type="password", autoComplete="new-password", className="ad-input")),
            html.Button("Create the account", id=CREATE, className="btn ad-btn ad-btn-go", n_clicks=0),
        ]),
        html.P([C.CODE_HINT, " ", C.PASSWORD_HINT], className="ad-note ad-hint"),
        html.P("", id=CREATE_MESSAGE, className="ad-msg", role="status", **{"aria-live": "polite"}),
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
