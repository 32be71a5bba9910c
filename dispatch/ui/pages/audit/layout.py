"""What the audit page shows: the filter form, the legend of actions, the list and its export."""

from __future__ import annotations

import dash_ag_grid as dag
from dash import dcc, html

from .... import clock
from ....domain.audit import ACTION_MEANING, AuditOutcome, AuditRole
from ....domain.auth import may
from ....domain.pages import AUDIT
from ....settings import Settings
from ....web import auth as webauth
from ....web.context import context
from ... import grid, nav
from . import ids
from . import logic as C

COLUMNS = ("Time", "Actor", "Role", "Action", "Target", "Outcome", "Origin", "Reason", "Details")


def layout(**_query) -> html.Div:
    settings = context().settings
    identity = webauth.current_identity()
    may_export = identity is not None and may(identity.role, "export")
    return html.Div(id=ids.ROOT, className="au-root staff-page", children=[
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
        dcc.Store(id=ids.APPLIED),
        dcc.Download(id=ids.DOWNLOAD),
    ])


def _header(settings: Settings) -> html.Header:
    return html.Header(className="topbar au-top", children=[
        html.Div(className="brand", children=[
            html.Span(settings.site.upper(), className="site"),
            html.Span("audit trail", className="brand-sub"),
        ]),
        html.Div(className="au-top-fill"),
        nav.page_links(AUDIT),
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
            html.Button(label, id=ids.QUICK[choice], className="au-btn au-quick-btn", n_clicks=0, type="button",
                        title=f"{label}, ending now: shows the list at once")
            for choice, (label, _) in C.QUICK_WINDOWS.items()]),
        html.Div(className="au-fields", children=[
            _field("From", dcc.Input(id=ids.FROM, type="datetime-local", value=default_from, n_submit=0,
                                     className="au-input au-time-input"), hint="local time; empty: the oldest kept"),
            _field("To", dcc.Input(id=ids.TO, type="datetime-local", value="", n_submit=0,
                                   className="au-input au-time-input"), hint="empty: now"),
            _field("Actor", _text_input(ids.ACTOR, "e.g. SUP-1"), hint="exact code; empty: anyone"),
            _field("Role", dcc.Dropdown(id=ids.ROLE, options=roles, value=C.ANY, clearable=False, searchable=False,
                                        className="au-dropdown")),
            _field("Target", _text_input(ids.TARGET, "e.g. asg-000123"), hint="exact id; empty: any"),
        ]),
        html.Div(className="au-fields-row", children=[
            _field("Actions", dcc.Dropdown(id=ids.ACTIONS, options=actions, value=[], multi=True, searchable=True,
                                           placeholder="any action", maxHeight=420, className="au-dropdown"),
                   hint="several may be chosen; hover one for its meaning, or see the list below", wide=True),
            _field("Outcome", dcc.RadioItems(id=ids.OUTCOME, options=outcomes, value=C.ANY, inline=True,
                                             className="au-choice", inputClassName="au-choice-input")),
        ]),
        html.Div(className="au-form-actions", children=[
            html.Button("Show", id=ids.SHOW, className="au-btn au-btn-show", n_clicks=0, type="button"),
            html.Span(id=ids.BUSY, className="au-busy", children=[html.Span(className="au-spinner"), "Reading the trail…"]),
            html.Span("Enter in a field shows the list too.", className="au-muted"),
        ]),
        html.Div(id=ids.ERRORS, className="au-errors", role="alert"),
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
            html.Div(id=ids.SUMMARY, className="au-summary", role="status", **{"aria-live": "polite"}),
            html.Div(className="au-export-box", children=[
                html.Button("Export CSV", id=ids.EXPORT, className="au-btn", n_clicks=0, type="button",
                            disabled=not may_export, title=export_title),
                html.Span(id=ids.EXPORT_BUSY, className="au-busy",
                          children=[html.Span(className="au-spinner"), "Preparing the file…"]),
                html.Span(id=ids.EXPORT_MESSAGE, className="au-export-message", role="status"),
            ]),
        ]),
        trail_grid(),
    ])


# The list: AG Grid (dash-ag-grid) sorts, filters and pages the rows the server sent, and moves through them with
# the keyboard (arrows, Page Up/Down, Enter on a header sorts); every value is rendered as text, never as markup.
GRID_PAGE_ROWS = 100
# Field of each column, in COLUMNS order, and the classes audit.css gives its cells.
GRID_FIELDS = (("time", "au-c-time"), ("actor", "au-c-code"), ("role", ""), ("action", "au-c-action"),
               ("target", "au-c-code"), ("outcome", "au-c-outcome au-outcome"), ("origin", "au-c-code"),
               ("reason", "au-c-reason"), ("details", "au-c-details"))


def trail_grid() -> dag.AgGrid:
    columns = [{"field": field, "headerName": name, "cellClass": classes,
                **({"tooltipField": "action_meaning"} if field == "action" else {}),
                **({"cellClassRules": {"is-refused": "params.data.refused", "is-ok": "!params.data.refused"}}
                   if field == "outcome" else {})}
               for name, (field, classes) in zip(COLUMNS, GRID_FIELDS)]
    return dag.AgGrid(
        id=ids.TABLE, className="au-table-wrap au-grid", style={**grid.GRID_STYLE, "height": "70vh"}, columnDefs=columns, rowData=None,
        getRowId="params.data.entry_id", rowClass="au-row", rowClassRules={"au-row-refused": "params.data.refused"},
        defaultColDef={"sortable": True, "filter": True, "resizable": True, "wrapText": True, "autoHeight": True,
                       "flex": 1, "minWidth": 110},
        dashGridOptions={"pagination": True, "paginationPageSize": GRID_PAGE_ROWS,
                         "paginationPageSizeSelector": False, "ensureDomOrder": True,
                         "suppressColumnVirtualisation": True,
                         "enableCellTextSelection": True, "tooltipShowDelay": 300,
                         "localeText": grid.overlay_text(NO_ENTRY, "Reading the trail…")},
    )


NO_ENTRY = "No entry matches this filter in this window."


def table_rows(rows: list[C.AuditRow]) -> list[dict]:
    """The grid's rows: one plain dict per entry, every value a string (the grid shows them as text)."""
    return [{"entry_id": row.entry_id, "refused": row.refused, "action_meaning": row.action_meaning,
             "time": "\n".join(part for part in (row.time_text, row.age_text, row.recorded_note) if part),
             "actor": row.actor, "role": row.role, "action": row.action, "target": row.target,
             "outcome": row.outcome, "origin": row.origin, "reason": row.reason, "details": row.details_text}
            for row in rows]
