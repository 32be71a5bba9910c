"""Every spelling of a page path meets the same guard (issue 10, defects 5 and 7), through the real app.

Dash's pages router strips slashes before it matches a page (`//admin` renders
/admin); the guard used to look at the raw string, so a patrol asking the router
for `//admin` got the accounts page's layout, and nothing was audited. Now the
guard puts every path in one canonical form first (domain/auth.py
canonical_path), for page requests and for the router's pathname alike.

Every page is asked for under a doubled slash, a trailing slash, upper case,
percent-encoding and a mix, by every role, over HTTP (GET) and through the pages
router callback: refused (403) and audited for a role without the page's
permission, let through for a role with it.
"""

from __future__ import annotations

import pytest

from dispatch.domain.audit import Action, AuditOutcome
from dispatch.domain.auth import PAGE_PERMISSIONS, Role, may
from dispatch.store import accounts
from dispatch.store import audit as audit_store
from dispatch.web.app import create_app
from dispatch.web.auth import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE
from tests.support.pages_router import router_body

USERS = {Role.SUPERVISOR: ("SUP-1", None), Role.PATROL: ("BAC-12", "BAC-12"), Role.AUDITOR: ("AUD-1", None),
         Role.ADMINISTRATOR: ("ADM-1", None)}


def spellings(path: str) -> list[str]:
    """The ways a client can write `path` that Dash (or a browser) still takes for it."""
    if path == "/":
        return ["//", "///", "/%2F", "/./"]
    first = path[1]
    return ["/" + path, path + "/", "/" + path + "//", path.upper(), "/" + path.upper() + "/",
            f"/%{ord(first):02X}{path[2:]}", f"/%25{ord(first):02X}{path[2:]}", path.replace("/", "//"),
            "/x/.." + path]


def every_spelling_and_role(page: str):
    """(spelling, role, whether the role may see the page) for every spelling of `page` and every role."""
    for spelled in spellings(page):
        for role in Role:
            yield spelled, role, may(role, PAGE_PERMISSIONS[page])


@pytest.fixture
def app(settings):
    return create_app(settings)


def client_of(app, redis_client, keys, role: Role):
    user_id, patrol_id = USERS[role]
    session_id, identity = accounts.create_session(redis_client, keys, user_id=user_id, role=role,
                                                   patrol_id=patrol_id)
    client = app.server.test_client()
    client.set_cookie(SESSION_COOKIE, session_id)
    client.set_cookie(CSRF_COOKIE, identity.csrf_token)
    return client, {CSRF_HEADER: identity.csrf_token}


def get(client, raw_path: str):
    """GET with `raw_path` as the server hands it to the app (PATH_INFO, already percent-decoded once):
    the test client would read `//admin` as a host name."""
    return client.get("/", environ_overrides={"PATH_INFO": raw_path}, headers={"Accept": "text/html"})


def denied_entries(redis_client, keys) -> list:
    return [e for e in audit_store.read(redis_client, keys) if e.action is Action.ACCESS_DENIED]


@pytest.mark.parametrize("page", sorted(PAGE_PERMISSIONS))
def test_every_spelling_of_every_page_is_guarded_over_http(app, redis_client, keys, page):
    refused = 0
    for spelled, role, allowed in every_spelling_and_role(page):
        client, _ = client_of(app, redis_client, keys, role)
        response = get(client, spelled)
        if allowed:
            assert response.status_code in (200, 308), (spelled, role, response.status_code)
        else:
            assert response.status_code == 403, (spelled, role, response.status_code)
            assert b"This page is not for your role" in response.data
            refused += 1
    denied = denied_entries(redis_client, keys)
    assert len(denied) == refused
    expected_target = "page:" + (page.strip("/").replace("/", ":") or "home")
    assert {e.target for e in denied} <= {expected_target}, "recorded under the page's one name"
    assert all(e.outcome is AuditOutcome.REFUSED and e.origin == "127.0.0.1" for e in denied)


@pytest.mark.parametrize("page", sorted(PAGE_PERMISSIONS))
def test_every_spelling_of_every_page_is_guarded_in_the_pages_router(app, redis_client, keys, page):
    refused = 0
    for spelled, role, allowed in every_spelling_and_role(page):
        client, csrf = client_of(app, redis_client, keys, role)
        response = client.post("/_dash-update-component", json=router_body(app, spelled), headers=csrf)
        if allowed:
            assert response.status_code == 200, (spelled, role, response.status_code)
        else:
            # Before issue 10: 200 with the page's layout for `//admin`, `/admin/`, and no audit entry.
            assert response.status_code == 403, (spelled, role, response.status_code)
            refused += 1
    denied = denied_entries(redis_client, keys)
    assert len(denied) == refused
    assert all(e.reason.endswith(f"lacks {PAGE_PERMISSIONS[page]}") for e in denied)


def test_a_patrol_gets_no_staff_layout_under_a_double_slash(app, redis_client, keys):
    """The issue's own requests, checked on what comes back: no layout of the page, one entry each."""
    client, csrf = client_of(app, redis_client, keys, Role.PATROL)
    for spelled in ("//admin", "//audit", "//admin/zones", "//replay"):
        response = client.post("/_dash-update-component", json=router_body(app, spelled), headers=csrf)
        assert response.status_code == 403 and b"_pages_content" not in response.data, spelled
    assert [e.actor for e in denied_entries(redis_client, keys)] == ["BAC-12"] * 4
    ok = client.post("/_dash-update-component", json=router_body(app, "//patrol/"), headers=csrf)
    assert ok.status_code == 200, "its own page, however spelled"


def test_static_files_are_open_only_under_their_exact_path(app, redis_client, keys):
    anonymous = app.server.test_client()
    assert anonymous.get("/assets/signin/signin.css").status_code == 200
    for sneaky in ("/assets/../admin", "/assets/..%2Fadmin", "/assets//../admin"):
        response = anonymous.get("/", environ_overrides={"PATH_INFO": sneaky}, headers={"Accept": "text/html"})
        assert response.status_code in (303, 401), (sneaky, response.status_code)
