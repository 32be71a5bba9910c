"""The auditor's page ("/audit"): the audit trail listed, filtered and exported as CSV; never edited.

Who may: `audit_view` (auditors, administrators) for the page and the list;
the CSV export also needs `export` (auditors): data leaving the system. The
list loads once with the default window when the page opens, then only on an
explicit Show (the button, a quick window, or Enter in a field): each load is
one `audit_viewed` entry on the trail, recorded before the rows are shown.

Everything a person typed or an entry holds is rendered as text (children
strings): reasons and details are written by other people and may hold markup.
Here: registration; layout.py what it shows, ids.py its component ids ("au-"),
handlers.py the callbacks, logic.py the plain functions behind them.
"""

from __future__ import annotations

import dash
from dash import Input, Output, State

from ....domain.auth import page_permission
from ....domain.pages import AUDIT
from ....web import auth as webauth
from . import ids
from .handlers import answer_export, answer_list
from . import layout


def register(app: dash.Dash) -> None:
    """Register the page and its two callbacks on `app` (see dispatch/ui/__init__.py)."""
    dash.register_page(__name__, path=AUDIT, name="Audit", title="Audit trail · Patrol dispatch",
                       layout=layout.layout, order=3)
    view = webauth.guard_callback(page_permission(AUDIT))
    app.callback(
        Output(ids.TABLE, "rowData"), Output(ids.SUMMARY, "children"), Output(ids.ERRORS, "children"),
        Output(ids.FROM, "value"), Output(ids.TO, "value"), Output(ids.APPLIED, "data"),
        Input(ids.SHOW, "n_clicks"), *(Input(button, "n_clicks") for button in ids.QUICK.values()),
        *(Input(field, "n_submit") for field in ids.SUBMITTING_FIELDS),
        State(ids.FROM, "value"), State(ids.TO, "value"), State(ids.ACTOR, "value"), State(ids.ROLE, "value"),
        State(ids.ACTIONS, "value"), State(ids.TARGET, "value"), State(ids.OUTCOME, "value"),
        running=[(Output(ids.SHOW, "disabled"), True, False), (Output(ids.BUSY, "className"), "au-busy is-on", "au-busy")]
        + [(Output(button, "disabled"), True, False) for button in ids.QUICK.values()],
    )(view(answer_list))  # also on page load: the default window, recorded like any other viewing
    # Outermost guard: what the app-wide check (and its access_denied entry) applies; inner: also `export`.
    app.callback(
        Output(ids.DOWNLOAD, "data"), Output(ids.EXPORT_MESSAGE, "children"), Input(ids.EXPORT, "n_clicks"),
        State(ids.APPLIED, "data"),
        running=[(Output(ids.EXPORT, "disabled"), True, False),
                 (Output(ids.EXPORT_BUSY, "className"), "au-busy is-on", "au-busy")],
        prevent_initial_call=True,
    )(view(webauth.guard_callback("export")(answer_export)))


# ----------------------------------------------------------------------------- callbacks
