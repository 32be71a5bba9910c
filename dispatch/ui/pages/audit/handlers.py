"""The audit page's Dash callbacks: read the form, list or export through logic.py, say what went wrong."""

from __future__ import annotations

from dash import ctx, html, no_update

from .... import clock
from ....web import auth as webauth
from ....errors import PictureUnavailable
from ....web.context import context
from . import ids
from . import logic as C
from .layout import table_rows


def answer_list(_show, *args) -> tuple:
    """Read the trail with the form's filter; a quick window first rewrites From/To (To empty: now)."""
    from_text, to_text, actor, role, actions, target, outcome = args[-7:]
    ui = context()
    tz, now = ui.settings.timezone, clock.now_ms()
    new_from = new_to = no_update
    quick = next((choice for choice, button in ids.QUICK.items() if button == ctx.triggered_id), None)
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
    return (table_rows(rows), html.Span(summary, className="au-summary-text" + (" is-truncated" * listing.truncated)),
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
