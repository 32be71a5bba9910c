"""The top-bar pieces every staff page shares: links to the other pages the signed-in role may open,
and who is signed in with the way out.

Links are full page loads (plain <a>, not dcc.Link): each page's scripts then
start and stop with their own document. A link is shown only when the role
may open its page (domain/auth.py decides), so nobody is offered a door that
answers 403.
"""

from __future__ import annotations

import dash
from dash import dcc, html

from ..web import auth as webauth
from ..domain import pages
from ..domain.auth import may, page_permission

# (path, label, tooltip), in the order they appear.
PAGES = (
    (pages.SCREEN, "Live", "Live wall screen"),
    (pages.REPLAY, "Replay", "After-action replay"),
    (pages.AUDIT, "Audit", "Audit trail"),
    (pages.ACCOUNTS, "Accounts", "Staff accounts"),
    (pages.ZONES, "Zones", "Authorised flight zones"),
)


def page_links(current: str) -> html.Nav:
    """Links to the pages the signed-in role may open, except `current`."""
    identity = webauth.current_identity()
    role = identity.role if identity else None
    links = [html.A(label, href=dash.get_relative_path(path), title=tooltip, className="nav-link")
             for path, label, tooltip in PAGES
             if path != current and may(role, page_permission(path) or "")]
    return html.Nav(links, className="page-links", **{"aria-label": "Pages"})


def identity_form() -> html.Form:
    """Who is signed in on this screen, and the way out (a POST with the session's CSRF token)."""
    identity = webauth.current_identity()
    return html.Form(className="identity", method="post", action=dash.get_relative_path(pages.SIGNOUT), children=[
        html.Span(identity.user_id if identity else "?", className="identity-user"),
        dcc.Input(type="hidden", name="csrf_token", value=identity.csrf_token if identity else ""),
        html.Button("Sign out", type="submit", className="signout-button"),
    ])
