"""The sign-in pages (/login, /login/patrol), sign-out (/logout) and the patrol codes' route (POST
/api/patrol-codes): plain Flask views rendering Jinja2 templates (dispatch/templates/signin/), not Dash
(handlers.py says why). Their form fields are named in the templates, the only place that renders them."""

from __future__ import annotations

import dash

from .handlers import add_routes


def register(app: dash.Dash) -> None:
    """Add the routes to the app's server (web.create_app calls it after webauth.install)."""
    add_routes(app.server)
