"""The auditor's page ("/audit"): the audit trail listed, filtered and exported as CSV; never edited.

Who may: `audit_view` (auditors, administrators) for the page and the list;
the CSV export also needs `export` (auditors): data leaving the system. The
list loads once with the default window when the page opens, then only on an
explicit Show (the button, a quick window, or Enter in a field): each load is
one `audit_viewed` entry on the trail, recorded before the rows are shown.

Everything a person typed or an entry holds is rendered as text (children
strings): reasons and details are written by other people and may hold markup.
The plain functions behind the callbacks are in audit_callbacks.py; component
ids live here and start with "au-".
"""

from __future__ import annotations


import dash
from dash import Input, Output, State, ctx, dcc, html, no_update

from .. import clock
from ..web import auth as webauth
from ..domain.audit import ACTION_MEANING, AuditOutcome, AuditRole
from ..domain.auth import may
from ..settings import Settings
from . import PictureUnavailable, context, nav
from . import audit_callbacks as C

# ---- component ids -------------------------------------------------------------------------------
ROOT = "au-root"
FROM = "au-from"
TO = "au-to"
QUICK = {choice: f"au-quick-{choice}" for choice in C.QUICK_WINDOWS}
ACTOR = "au-actor"
ROLE = "au-role"
ACTIONS = "au-actions"
TARGET = "au-target"
OUTCOME = "au-outcome"
SHOW = "au-show"
BUSY = "au-busy"
ERRORS = "au-errors"
SUMMARY = "au-summary"
TABLE = "au-table"
TABLE_BODY = "au-table-body"
APPLIED = "au-applied"  # the filter the list on screen was shown with: the export takes it
EXPORT = "au-export"
EXPORT_BUSY = "au-export-busy"
EXPORT_MESSAGE = "au-export-message"
DOWNLOAD = "au-download"

COLUMNS = ("Time", "Actor", "Role", "Action", "Target", "Outcome", "Origin", "Reason", "Details")
SUBMITTING_FIELDS = (FROM, TO, ACTOR, TARGET)  # Enter in any of them shows the list


def register(app: dash.Dash) -> None:
    """Register the page and its two callbacks on `app` (see dispatch/ui/__init__.py)."""
    dash.register_page(__name__, path="/audit", name="Audit", title="Audit trail · Patrol dispatch",
                       layout=layout, order=3)
    view = webauth.guard_callback("audit_view")
    app.callback(
        Output(TABLE_BODY, "children"), Output(SUMMARY, "children"), Output(ERRORS, "children"),
        Output(FROM, "value"), Output(TO, "value"), Output(APPLIED, "data"),
        Input(SHOW, "n_clicks"), *(Input(button, "n_clicks") for button in QUICK.values()),
        *(Input(field, "n_submit") for field in SUBMITTING_FIELDS),
        State(FROM, "value"), State(TO, "value"), State(ACTOR, "value"), State(ROLE, "value"),
        State(ACTIONS, "value"), State(TARGET, "value"), State(OUTCOME, "value"),
        running=[(Output(SHOW, "disabled"), True, False), (Output(BUSY, "className"), "au-busy is-on", "au-busy")]
        + [(Output(button, "disabled"), True, False) for button in QUICK.values()],
    )(view(answer_list))  # also on page load: the default window, recorded like any other viewing
    # Outermost guard: what the app-wide check (and its access_denied entry) applies; inner: also `export`.
    app.callback(
        Output(DOWNLOAD, "data"), Output(EXPORT_MESSAGE, "children"), Input(EXPORT, "n_clicks"),
        State(APPLIED, "data"),
        running=[(Output(EXPORT, "disabled"), True, False),
                 (Output(EXPORT_BUSY, "className"), "au-busy is-on", "au-busy")],
        prevent_initial_call=True,
    )(view(webauth.guard_callback("export")(answer_export)))


# ----------------------------------------------------------------------------- callbacks


def answer_list(_show, *args) -> tuple:
    """Read the trail with the form's filter; a quick window first rewrites From/To (To empty: now)."""
    from_text, to_text, actor, role, actions, target, outcome = args[-7:]
    ui = context()
    tz, now = ui.settings.timezone, clock.now_ms()
    new_from = new_to = no_update
    quick = next((choice for choice, button in QUICK.items() if button == ctx.triggered_id), None)
    if quick is not None:
        from_text = new_from = C.quick_from(quick, now_ms=now, tz=tz)
        to_text = new_to = ""
    try:
        audit_filter = C.parse_form(from_text, to_text, actor, role, actions, target, outcome, tz=tz, now_ms=now)
    except C.FilterRefused as refusal:
        return no_update, no_update, _problems(refusal.problems), new_from, new_to, no_update
    viewer = _viewer()
    try:
        listing = ui.redis(lambda client: C.show_entries(client, ui.keys, audit_filter, viewer, now_ms=now))
    except PictureUnavailable as error:
        return no_update, no_update, _problems([f"The trail cannot be read now (and reading it must be "
                                                f"recorded on it): {error}"]), new_from, new_to, no_update
    rows = C.table_rows(listing.entries, now_ms=now, tz=tz)
    summary = C.summary_text(len(rows), listing.truncated, audit_filter, tz=tz,
                             open_end=not (isinstance(to_text, str) and to_text.strip()))
    return (_table_body(rows), html.Span(summary, className="au-summary-text" + (" is-truncated" * listing.truncated)),
            [], new_from, new_to, C.applied_json(audit_filter))


def answer_export(_clicks, applied) -> tuple:
    """The list's filter as a CSV file (its `export` entry is recorded by store.audit.export_csv)."""
    try:
        audit_filter = C.filter_from_applied(applied)
    except C.FilterRefused as refusal:
        return no_update, " ".join(refusal.problems)
    ui = context()
    viewer = _viewer()
    try:
        return ui.redis(lambda client: C.export_file(client, ui.keys, audit_filter, viewer, site=ui.settings.site,
                                                     tz=ui.settings.timezone, now_ms=clock.now_ms()))
    except PictureUnavailable as error:
        return no_update, f"Not exported (the audit trail must record it): {error}"


def _viewer() -> C.Viewer:
    """Who looks: the signed-in identity (the guards let no one else through)."""
    identity = webauth.current_identity()
    return C.Viewer(identity.user_id, identity.role.value, webauth.client_origin())


def _problems(problems: list[str]) -> list:
    return [html.P("Not shown — please fix:", className="au-errors-title"),
            html.Ul([html.Li(problem) for problem in problems])]


# ----------------------------------------------------------------------------- layout


def layout(**_query) -> html.Div:
    settings = context().settings
    identity = webauth.current_identity()
    may_export = identity is not None and may(identity.role, "export")
    return html.Div(id=ROOT, className="au-root staff-page", children=[
        _header(settings),
        html.Main(className="au-main", children=[
            html.P(className="au-note", children=[
                html.Strong("The trail is append-only; entries cannot be changed or deleted here. "),
                f"Retention: {settings.audit_retention_days:g} days. Times are local ({settings.timezone}). "
                "Every list shown and every export is itself recorded on the trail."]),
            _filters(settings),
            _legend(),
            _results(may_export),
        ]),
        dcc.Store(id=APPLIED),
        dcc.Download(id=DOWNLOAD),
    ])


def _header(settings: Settings) -> html.Header:
    return html.Header(className="topbar au-top", children=[
        html.Div(className="brand", children=[
            html.Span(settings.site.upper(), className="site"),
            html.Span("audit trail", className="brand-sub"),
        ]),
        html.Div(className="au-top-fill"),
        nav.page_links("/audit"),
        nav.identity_form(),
    ])


def _field(label: str, control, *, hint: str = "", wide: bool = False) -> html.Div:
    control_id = getattr(control, "id", None)
    children = [html.Label(label, htmlFor=control_id, className="au-label"), control]
    if hint:
        children.append(html.Div(hint, className="au-hint"))
    return html.Div(children, className="au-field" + (" au-field-wide" if wide else ""))


def _text_input(component_id: str, placeholder: str) -> dcc.Input:
    return dcc.Input(id=component_id, type="text", placeholder=placeholder, value="", n_submit=0,
                     maxLength=120, autoComplete="off", spellCheck=False, className="au-input")


def _filters(settings: Settings) -> html.Section:
    tz = settings.timezone
    default_from = C.quick_from(C.DEFAULT_QUICK, now_ms=clock.now_ms(), tz=tz)
    roles = [{"label": "any role", "value": C.ANY}] + [{"label": r.value, "value": r.value} for r in AuditRole]
    actions = [{"label": action.value, "value": action.value, "title": meaning}
               for action, meaning in ACTION_MEANING.items()]
    outcomes = [{"label": "any", "value": C.ANY}] + [{"label": o.value, "value": o.value} for o in AuditOutcome]
    return html.Section(className="au-filters", role="search", **{"aria-label": "Filter the audit trail"}, children=[
        html.Div(className="au-quick", role="group", **{"aria-label": "Quick windows, ending now"}, children=[
            html.Button(label, id=QUICK[choice], className="au-btn au-quick-btn", n_clicks=0, type="button",
                        title=f"{label}, ending now: shows the list at once")
            for choice, (label, _) in C.QUICK_WINDOWS.items()]),
        html.Div(className="au-fields", children=[
            _field("From", dcc.Input(id=FROM, type="datetime-local", value=default_from, n_submit=0,
                                     className="au-input au-time-input"), hint="local time; empty: the oldest kept"),
            _field("To", dcc.Input(id=TO, type="datetime-local", value="", n_submit=0,
                                   className="au-input au-time-input"), hint="empty: now"),
            _field("Actor", _text_input(ACTOR, "e.g. SUP-1"), hint="exact code; empty: anyone"),
            _field("Role", dcc.Dropdown(id=ROLE, options=roles, value=C.ANY, clearable=False, searchable=False,
                                        className="au-dropdown")),
            _field("Target", _text_input(TARGET, "e.g. asg-000123"), hint="exact id; empty: any"),
        ]),
        html.Div(className="au-fields-row", children=[
            _field("Actions", dcc.Dropdown(id=ACTIONS, options=actions, value=[], multi=True, searchable=True,
                                           placeholder="any action", maxHeight=420, className="au-dropdown"),
                   hint="several may be chosen; hover one for its meaning, or see the list below", wide=True),
            _field("Outcome", dcc.RadioItems(id=OUTCOME, options=outcomes, value=C.ANY, inline=True,
                                             className="au-choice", inputClassName="au-choice-input")),
        ]),
        html.Div(className="au-form-actions", children=[
            html.Button("Show", id=SHOW, className="au-btn au-btn-show", n_clicks=0, type="button"),
            html.Span(id=BUSY, className="au-busy", children=[html.Span(className="au-spinner"), "Reading the trail…"]),
            html.Span("Enter in a field shows the list too.", className="au-muted"),
        ]),
        html.Div(id=ERRORS, className="au-errors", role="alert"),
    ])


def _legend() -> html.Details:
    rows = []
    for action, meaning in ACTION_MEANING.items():
        rows += [html.Dt(action.value), html.Dd(meaning)]
    return html.Details(className="au-legend", children=[
        html.Summary("What each action means"), html.Dl(rows, className="au-legend-list")])


def _results(may_export: bool) -> html.Section:
    export_title = ("The list's filter as CSV (oldest first); the export is recorded on the trail" if may_export
                    else "Exporting needs the export permission (auditors)")
    return html.Section(className="au-results", children=[
        html.Div(className="au-results-head", children=[
            html.Div(id=SUMMARY, className="au-summary", role="status", **{"aria-live": "polite"}),
            html.Div(className="au-export-box", children=[
                html.Button("Export CSV", id=EXPORT, className="au-btn", n_clicks=0, type="button",
                            disabled=not may_export, title=export_title),
                html.Span(id=EXPORT_BUSY, className="au-busy",
                          children=[html.Span(className="au-spinner"), "Preparing the file…"]),
                html.Span(id=EXPORT_MESSAGE, className="au-export-message", role="status"),
            ]),
        ]),
        html.Div(className="au-table-wrap", children=html.Table(id=TABLE, className="au-table", children=[
            html.Thead(html.Tr([html.Th(column, scope="col") for column in COLUMNS])),
            html.Tbody(id=TABLE_BODY, children=_message_row("Reading the trail…")),
        ])),
    ])


def _table_body(rows: list[C.AuditRow]) -> list[html.Tr]:
    if not rows:
        return [_message_row("No entry matches this filter in this window.")]
    return [_row(row) for row in rows]


def _message_row(text: str) -> html.Tr:
    return html.Tr(html.Td(text, colSpan=len(COLUMNS), className="au-empty"))


def _row(row: C.AuditRow) -> html.Tr:
    time_cell = [html.Div(row.time_text, className="au-time")]
    if row.age_text:
        time_cell.append(html.Div(row.age_text, className="au-age"))
    if row.recorded_note:
        time_cell.append(html.Div(row.recorded_note, className="au-age"))
    outcome_class = "au-outcome is-refused" if row.refused else "au-outcome is-ok"
    return html.Tr(className=" ".join(row.classes), **{"data-entry-id": row.entry_id, "data-action": row.action,
                                                       "data-outcome": "refused" if row.refused else "ok"}, children=[
        html.Td(time_cell, className="au-c-time"),
        html.Td(row.actor, className="au-c-code"),
        html.Td(row.role),
        html.Td(html.Span(row.action, title=row.action_meaning, className="au-action"), className="au-c-action"),
        html.Td(row.target, className="au-c-code"),
        html.Td(html.Span(row.outcome, className=outcome_class), className="au-c-outcome"),
        html.Td(row.origin, className="au-c-code"),
        html.Td(row.reason, className="au-c-reason"),
        html.Td(row.details_text, className="au-c-details"),
    ])
