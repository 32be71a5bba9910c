"""The request Dash's page router answers when a browser opens a page: for tests that render a page, or check
its guard, through the real callback without a browser."""

from __future__ import annotations

from dispatch.web.auth import PAGES_ROUTER_OUTPUT


def router_body(app, pathname: str) -> dict:
    """The JSON body of the router callback's POST to /_dash-update-component for `pathname`."""
    output = next(key for key in app.callback_map if PAGES_ROUTER_OUTPUT in key)
    return {"output": output, "outputs": [{"id": "_pages_content", "property": "children"},
                                          {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": pathname},
                       {"id": "_pages_location", "property": "search", "value": ""}],
            "changedPropIds": ["_pages_location.pathname"], "state": []}
