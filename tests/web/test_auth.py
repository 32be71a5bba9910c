"""The web app's guard against the real Redis: every page, /api route and Dash callback, refused per role.

The app is the real one (`create_app`), driven with Flask's test client. The
lists of pages, routes and callbacks are read from the app itself, so a page,
route or callback added later is covered without touching this file; a
refused request is checked to change nothing in Redis (only the audit trail
gains its `access_denied` entry), and the same request made by the right role
is checked to get through, so the refusals are the guard's doing.
"""

from __future__ import annotations

import dataclasses
import re
import time

import dash
import orjson
import pytest
from dash import Input, Output, html

from dispatch.domain.audit import Action, AuditOutcome
from dispatch.domain.auth import PAGE_PERMISSIONS, Role, may
from dispatch.domain.batch import RawEntry, plan_batch
from dispatch.store import accounts
from dispatch.store import audit as audit_store
from dispatch.store.embedded import free_port
from dispatch.store.scripts import IngestScript
from dispatch.ui.pages.screen import ids
from dispatch.web.app import create_app
from dispatch.web.auth import (
    CSRF_COOKIE, CSRF_HEADER, PAGES_ROUTER_OUTPUT, ROUTE_PERMISSIONS, SESSION_COOKIE,
    CallbackRefused, guard_callback, install, requires,
)

PASSWORD = "correct horse battery"
USERS = {Role.SUPERVISOR: ("SUP-1", None), Role.PATROL: ("BAC-12", "BAC-12"), Role.AUDITOR: ("AUD-1", None),
         Role.ADMINISTRATOR: ("ADM-1", None)}
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def ingest(client, keys, *, patrols=(), sightings=()):
    """The picture as the real ingest step writes it."""
    received = int(time.time() * 1000)
    rows = [("patrol", p) for p in patrols] + [("sighting", s) for s in sightings]
    entries = [RawEntry(kind, f"{received}-{i}", {n.encode(): str(v).encode() for n, v in fields.items()})
               for i, (kind, fields) in enumerate(rows)]
    IngestScript(client, keys, live_maxlen=10_000)(plan_batch(entries))


def patrol(patrol_id, lat, lon):
    return {"patrol_id": patrol_id, "ts": int(time.time() * 1000) - 5_000, "lat": lat, "lon": lon,
            "status": "available"}


def sighting(sighting_id):
    return {"sighting_id": sighting_id, "ts": int(time.time() * 1000) - 5_000, "drone_id": "DR-07",
            "operator_id": "OP-1", "category": "deal", "lat": 48.1105, "lon": -1.6801, "priority": 1}


def open_assignment_of(client, keys, patrol_id) -> dict | None:
    assignment_id = client.hget(keys.patrol_assignment, patrol_id)
    return orjson.loads(client.hget(keys.assignments_open, assignment_id)) if assignment_id else None


@pytest.fixture
def app(settings):
    return create_app(settings)


def signed_in(app, redis_client, keys, role: Role | None, *, csrf: bool = True):
    """A test client holding a fresh session of `role` (None: no cookie), and its CSRF header."""
    client = app.server.test_client()
    if role is None:
        return client, {}
    user_id, patrol_id = USERS[role]
    session_id, identity = accounts.create_session(redis_client, keys, user_id=user_id, role=role, patrol_id=patrol_id)
    client.set_cookie(SESSION_COOKIE, session_id)
    client.set_cookie(CSRF_COOKIE, identity.csrf_token)
    return client, ({CSRF_HEADER: identity.csrf_token} if csrf else {})


def state_of(redis_client, keys) -> dict:
    """Every key of the site but the audit trail and the sessions, dumped: what a refusal must not change."""
    skip = (keys.audit, keys.sessions)
    return {key: redis_client.dump(key) for key in sorted(redis_client.scan_iter(match=f"{{{keys.site}}}:*"))
            if not key.decode().startswith(skip)}


def refusals_only(redis_client, keys) -> None:
    for entry in audit_store.read(redis_client, keys):
        assert entry.action is Action.ACCESS_DENIED and entry.outcome is AuditOutcome.REFUSED, entry


# --- Pages ------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", sorted(PAGE_PERMISSIONS))
def test_every_page_needs_a_session_then_its_permission(app, redis_client, keys, path):
    anonymous, _ = signed_in(app, redis_client, keys, None)
    response = anonymous.get(path)
    assert response.status_code == 303 and response.headers["Location"] == f"/login?next={path}"
    for role in Role:
        client, _ = signed_in(app, redis_client, keys, role)
        response = client.get(path)
        if may(role, PAGE_PERMISSIONS[path]):
            assert response.status_code == 200, (role, path)
            assert b'id="_dash-config"' in response.data
        else:
            assert response.status_code == 403, (role, path)
            page = response.get_data(as_text=True)
            assert "Signed in as <strong>" + USERS[role][0] in page and f"({role.value})" in page
            assert 'action="/logout"' in page and 'name="csrf_token"' in page
    denied = [e for e in audit_store.read(redis_client, keys) if e.action is Action.ACCESS_DENIED]
    assert len(denied) == sum(not may(role, PAGE_PERMISSIONS[path]) for role in Role)
    assert {e.origin for e in denied} <= {"127.0.0.1"} and all(e.target.startswith("page:") for e in denied)


def test_the_pages_router_callback_refuses_a_page_the_role_may_not_see(app, redis_client, keys):
    """dcc.Link navigation never GETs the page: the router callback must apply the same rule."""
    output = next(key for key in app.callback_map if PAGES_ROUTER_OUTPUT in key)
    for path, permission in PAGE_PERMISSIONS.items():
        body = {"output": output, "outputs": [{"id": "_pages_content", "property": "children"},
                                              {"id": "_pages_store", "property": "data"}],
                "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                           {"id": "_pages_location", "property": "search", "value": ""}],
                "changedPropIds": ["_pages_location.pathname"], "state": []}
        for role in Role:
            client, csrf = signed_in(app, redis_client, keys, role)
            status = client.post("/_dash-update-component", json=body, headers=csrf).status_code
            assert (status == 403) is (not may(role, permission)), (path, role, status)
            assert status not in (401, 500), (path, role, status)


# --- /api routes -------------------------------------------------------------------------------

def api_routes(app) -> list[tuple[str, str, str]]:
    """(path, method, permission) of every /api route of the app."""
    found = []
    for rule in app.server.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        view = app.server.view_functions[rule.endpoint]
        permission = getattr(view, "_dispatch_permission", None) or ROUTE_PERMISSIONS.get(rule.rule)
        path = re.sub(r"<[^>]+>", "x", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((path, method, permission))
    return found


def test_every_api_route_declares_a_permission(app):
    routes = api_routes(app)
    assert ("/api/snapshot", "GET", "live_view") in routes and ("/api/patrol-codes", "POST", "dispatch") in routes
    assert [r for r in routes if r[2] is None] == []


def test_every_api_route_is_refused_without_session_to_wrong_roles_and_without_csrf(app, redis_client, keys):
    ingest(redis_client, keys, patrols=[patrol("BAC-1", 48.11, -1.68)], sightings=[sighting("sight-0001")])
    before = state_of(redis_client, keys)
    for path, method, permission in api_routes(app):
        body = {"patrol_id": "BAC-1", "action_id": "act-000001", "action": "acknowledge", "lat": 48.1, "lon": -1.6}
        anonymous, _ = signed_in(app, redis_client, keys, None)
        assert anonymous.open(path, method=method, json=body).status_code == 401, (path, method)
        for role in Role:
            if not may(role, permission):
                client, csrf = signed_in(app, redis_client, keys, role)
                response = client.open(path, method=method, json=body, headers=csrf)
                assert response.status_code == 403, (path, method, role)
                assert response.mimetype == "application/json"
            elif method in STATE_CHANGING:
                no_csrf, _ = signed_in(app, redis_client, keys, role, csrf=False)
                refused = no_csrf.open(path, method=method, json=body)
                assert refused.status_code == 403 and b"CSRF" in refused.data, (path, method, role)
                wrong = no_csrf.open(path, method=method, json=body, headers={CSRF_HEADER: "forged"})
                assert wrong.status_code == 403, (path, method, role)
    assert state_of(redis_client, keys) == before  # the allowed calls above were GETs or refused
    refusals_only(redis_client, keys)


def test_allowed_api_calls_get_through(app, redis_client, keys):
    client, csrf = signed_in(app, redis_client, keys, Role.SUPERVISOR)
    assert client.get("/api/snapshot").status_code == 200
    issued = client.post("/api/patrol-codes", json={"patrol_id": "BAC-12"}, headers=csrf)
    assert issued.status_code == 200, issued.data
    code = orjson.loads(issued.data)["code"]
    assert accounts.use_patrol_code(redis_client, keys, patrol_id="BAC-12", code=code)
    bad = client.post("/api/patrol-codes", json={"patrol_id": "<b>"}, headers=csrf)
    assert bad.status_code == 400 and b"call sign" in bad.data


# --- Dash callbacks --------------------------------------------------------------------------

def callback_body(output: str, entry: dict, values: dict | None = None) -> dict:
    values = values or {}
    inputs = [{"id": i["id"], "property": i["property"], "value": values.get(i["id"])} for i in entry["inputs"]]
    state = [{"id": s["id"], "property": s["property"], "value": values.get(s["id"])} for s in entry["state"]]
    outputs = [{"id": part.split(".")[0], "property": part.split(".")[1].split("@")[0]}
               for part in output.strip(".").split("...")]
    return {"output": output, "outputs": outputs if output.startswith("..") else outputs[0], "inputs": inputs,
            "state": state, "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"] if inputs else []}


def callback_permission(output: str, entry: dict) -> str | None:
    return getattr(entry.get("callback"), "_dispatch_permission", None)


ASSIGN = {"action": "assign", "sighting_id": "sight-0001", "patrol_id": "BAC-1", "nonce": 7}


def server_callbacks(app) -> dict[str, dict]:
    return {output: entry for output, entry in app.callback_map.items()
            if "callback" in entry and PAGES_ROUTER_OUTPUT not in output}


def test_every_server_callback_declares_a_permission(app):
    callbacks = server_callbacks(app)
    assert {f"{ids.NEAREST_RESULT}.data", f"{ids.ACTION_RESULT}.data"} <= set(callbacks)
    assert {output for output, entry in callbacks.items() if callback_permission(output, entry) is None} == set()


def test_every_callback_is_refused_without_session_to_wrong_roles_and_without_csrf(app, redis_client, keys):
    ingest(redis_client, keys, patrols=[patrol("BAC-1", 48.111, -1.680)], sightings=[sighting("sight-0001")])
    before = state_of(redis_client, keys)
    values = {ids.ACTION_REQUEST: ASSIGN, ids.NEAREST_REQUEST: {"sighting_id": "sight-0001", "nonce": 1}}
    checked = 0
    for output, entry in app.callback_map.items():
        if PAGES_ROUTER_OUTPUT in output:
            continue  # its permission depends on the path asked for: tested above
        body = callback_body(output, entry, values)
        permission = callback_permission(output, entry) if "callback" in entry else None
        anonymous, _ = signed_in(app, redis_client, keys, None)
        assert anonymous.post("/_dash-update-component", json=body).status_code == 401, output
        for role in Role:
            client, csrf = signed_in(app, redis_client, keys, role)
            if permission is None or not may(role, permission):  # clientside ones never run on the server
                assert client.post("/_dash-update-component", json=body, headers=csrf).status_code == 403, (
                    output, role)
            else:
                no_csrf, _ = signed_in(app, redis_client, keys, role, csrf=False)
                assert no_csrf.post("/_dash-update-component", json=body).status_code == 403, (output, role)
                forged = no_csrf.post("/_dash-update-component", json=body, headers={CSRF_HEADER: "forged"})
                assert forged.status_code == 403, (output, role)
        checked += 1
    assert checked >= 6
    assert state_of(redis_client, keys) == before, "a refused callback changed something"
    refusals_only(redis_client, keys)
    # The same assign, by a supervisor with the token, does change the picture: the refusals were the guard's.
    client, csrf = signed_in(app, redis_client, keys, Role.SUPERVISOR)
    output = f"{ids.ACTION_RESULT}.data"
    done = client.post("/_dash-update-component", json=callback_body(output, app.callback_map[output], values),
                       headers=csrf)
    assert done.status_code == 200 and orjson.loads(done.data)["response"][ids.ACTION_RESULT]["data"]["ok"]
    assert open_assignment_of(redis_client, keys, "BAC-1")["sighting_id"] == "sight-0001"
    assert state_of(redis_client, keys) != before


def test_guard_callback_runs_before_the_function_and_wins_over_on_error(settings, redis_client, keys):
    ran = []
    app = dash.Dash(__name__, on_error=lambda error: "swallowed by on_error")
    app.layout = html.Div([html.Button(id="go"), html.Div(id="out"), html.Div(id="open-out")])

    @app.callback(Output("out", "children"), Input("go", "n_clicks"), prevent_initial_call=True)
    @guard_callback("dispatch")
    def guarded(clicks):
        ran.append(clicks)
        return f"done {clicks}"

    @app.callback(Output("open-out", "children"), Input("go", "n_clicks"), prevent_initial_call=True)
    def undeclared(clicks):
        ran.append(("undeclared", clicks))
        return "ran"

    install(app, settings)
    body = {"output": "out.children", "outputs": {"id": "out", "property": "children"},
            "inputs": [{"id": "go", "property": "n_clicks", "value": 1}], "changedPropIds": ["go.n_clicks"],
            "state": []}
    auditor, csrf = signed_in(app, redis_client, keys, Role.AUDITOR)
    assert auditor.post("/_dash-update-component", json=body, headers=csrf).status_code == 403
    supervisor, csrf = signed_in(app, redis_client, keys, Role.SUPERVISOR)
    answer = supervisor.post("/_dash-update-component", json=body, headers=csrf)
    assert answer.status_code == 200 and b"done 1" in answer.data
    undeclared_body = {**body, "output": "open-out.children", "outputs": {"id": "open-out", "property": "children"}}
    closed = supervisor.post("/_dash-update-component", json=undeclared_body, headers=csrf)
    assert closed.status_code == 403 and b"declares no permission" in closed.data
    assert ran == [1]
    # The guard itself, without the app-wide check in front of it (e.g. a callback reached another way):
    session_id, identity = accounts.create_session(redis_client, keys, user_id="AUD-1", role=Role.AUDITOR)
    headers = {"Cookie": f"{SESSION_COOKIE}={session_id}", CSRF_HEADER: identity.csrf_token}
    with app.server.test_request_context("/_dash-update-component", method="POST", headers=headers):
        with pytest.raises(CallbackRefused) as refused:
            guarded(2)
        assert refused.value.status == 403 and ran == [1]
    denied = [e for e in audit_store.read(redis_client, keys) if e.target == "callback:guarded"]
    assert [(e.actor, e.action.value, e.outcome.value, e.reason) for e in denied] == [
        ("AUD-1", "access_denied", "refused", "auditor lacks dispatch")], "the guard's own refusal is audited"
    with app.server.test_request_context("/_dash-update-component", method="POST"):
        with pytest.raises(CallbackRefused) as refused:
            guarded(3)
        assert refused.value.status == 401


def test_requires_refuses_by_itself_too(settings, redis_client, keys):
    app = dash.Dash(__name__)
    app.layout = html.Div()
    view = requires("export")(lambda: "exported")
    assert view._dispatch_permission == "export"
    install(app, settings)
    with pytest.raises(ValueError, match="unknown permission"):
        requires("export_everything")
    for role, status in ((Role.PATROL, 403), (Role.AUDITOR, None)):
        session_id, _ = accounts.create_session(redis_client, keys, user_id=USERS[role][0], role=role,
                                                patrol_id=USERS[role][1])
        with app.server.test_request_context("/api/export", headers={"Cookie": f"{SESSION_COOKIE}={session_id}"}):
            answer = view()
            assert (answer == "exported") if status is None else answer.status_code == status
    with app.server.test_request_context("/api/export"):
        assert view().status_code == 401


# --- Sign-in, sign-out, sessions ----------------------------------------------------------------

def form_token(response) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True)).group(1)


def sign_in(client, user_id: str, password: str, next_path: str = "", path: str = "/login", field="password"):
    token = form_token(client.get(path))
    who = "user_id" if path == "/login" else "patrol_id"
    return client.post(path, data={who: user_id, field: password, "csrf_token": token, "next": next_path})


def cookie_header(response, name: str) -> str:
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}="))


def test_staff_sign_in_sets_strict_cookies_and_is_audited(app, redis_client, keys):
    accounts.create_account(redis_client, keys, user_id="SUP-1", role="supervisor", password=PASSWORD)
    client = app.server.test_client()
    form = client.get("/login?next=/replay")
    assert form.status_code == 200 and form.headers["Cache-Control"] == "no-store"
    assert "HttpOnly" in cookie_header(form, "dispatch_signin") and "SameSite=Strict" in cookie_header(
        form, "dispatch_signin")
    response = sign_in(client, "SUP-1", PASSWORD, "/replay")
    assert response.status_code == 303 and response.headers["Location"] == "/replay"
    session = cookie_header(response, SESSION_COOKIE)
    assert "HttpOnly" in session and "SameSite=Strict" in session and "Path=/" in session and "Secure" not in session
    csrf = cookie_header(response, CSRF_COOKIE)
    assert "HttpOnly" not in csrf and "SameSite=Strict" in csrf
    assert client.get("/").status_code == 200
    (entry,) = audit_store.read(redis_client, keys)
    assert (entry.action, entry.actor, entry.role.value, entry.origin, entry.details) == (
        Action.SIGN_IN, "SUP-1", "supervisor", "127.0.0.1", {"screen": "staff", "known_device": False})


def test_over_https_the_cookies_are_secure(app, redis_client, keys):
    accounts.create_account(redis_client, keys, user_id="SUP-1", role="supervisor", password=PASSWORD)
    client = app.server.test_client()
    token = form_token(client.get("/login", base_url="https://localhost"))
    response = client.post("/login", base_url="https://localhost",
                           data={"user_id": "SUP-1", "password": PASSWORD, "csrf_token": token})
    assert "Secure" in cookie_header(response, SESSION_COOKIE) and "Secure" in cookie_header(response, CSRF_COOKIE)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_wrong_passwords_forged_forms_and_open_redirects(app, redis_client, keys):
    accounts.create_account(redis_client, keys, user_id="SUP-1", role="supervisor", password=PASSWORD)
    client = app.server.test_client()
    wrong = sign_in(client, "SUP-1", "not the password")
    assert wrong.status_code == 401 and b"Unknown code or wrong password" in wrong.data
    assert SESSION_COOKIE not in " ".join(wrong.headers.getlist("Set-Cookie"))
    named = sign_in(client, "Jean Dupont", "whatever")
    assert named.status_code == 401
    forged = client.post("/login", data={"user_id": "SUP-1", "password": PASSWORD, "csrf_token": "x.y"})
    assert forged.status_code == 400 and b"expired" in forged.data
    away = sign_in(client, "SUP-1", PASSWORD, "//evil.example/phish")
    assert away.status_code == 303 and away.headers["Location"] == "/"
    failed = [e for e in audit_store.read(redis_client, keys) if e.action is Action.SIGN_IN_FAILED]
    assert [e.actor for e in failed] == ["SUP-1", "anonymous"], "a name typed as a code is never recorded"
    assert all(e.outcome is AuditOutcome.REFUSED and e.origin == "127.0.0.1" for e in failed)
    assert all("Jean" not in e.reason for e in failed)


def test_patrol_sign_in_with_an_issued_code(app, redis_client, keys):
    code = accounts.issue_patrol_code(redis_client, keys, patrol_id="BAC-12", issued_by="SUP-1")
    client = app.server.test_client()
    response = sign_in(client, "bac-12", code, path="/login/patrol", field="code")
    assert response.status_code == 303 and response.headers["Location"] == "/patrol"
    assert client.get("/patrol").status_code == 200 and client.get("/").status_code == 403
    again = sign_in(app.server.test_client(), "BAC-12", code, path="/login/patrol", field="code")
    assert again.status_code == 401 and b"already used" in again.data
    signed = [e for e in audit_store.read(redis_client, keys) if e.action is Action.SIGN_IN]
    assert [(e.actor, e.role.value, e.details["screen"]) for e in signed] == [("BAC-12", "patrol", "patrol")]


def test_sign_out_needs_the_token_ends_the_session_and_is_audited(app, redis_client, keys):
    client, csrf = signed_in(app, redis_client, keys, Role.AUDITOR)
    session_id = client.get_cookie(SESSION_COOKIE).value
    assert client.post("/logout").status_code == 403
    assert accounts.get_session(redis_client, keys, session_id) is not None
    response = client.post("/logout", data={"csrf_token": csrf[CSRF_HEADER]})
    assert response.status_code == 303 and response.headers["Location"] == "/login?signed_out=1"
    assert "Expires=Thu, 01 Jan 1970" in cookie_header(response, SESSION_COOKIE)
    assert accounts.get_session(redis_client, keys, session_id) is None
    replay = app.server.test_client()
    replay.set_cookie(SESSION_COOKIE, session_id)
    assert replay.get("/audit").status_code == 303, "the old cookie opens nothing"
    (entry,) = [e for e in audit_store.read(redis_client, keys) if e.action is Action.SIGN_OUT]
    assert (entry.actor, entry.details) == ("AUD-1", {"why": "signed_out"})


def test_an_expired_session_is_signed_out(app, redis_client, keys):
    session_id, _ = accounts.create_session(redis_client, keys, user_id="SUP-1", role="supervisor", ttl_s=0.3)
    client = app.server.test_client()
    client.set_cookie(SESSION_COOKIE, session_id)
    assert client.get("/api/snapshot").status_code == 200
    time.sleep(0.4)
    assert client.get("/api/snapshot").status_code == 401
    assert client.get("/").status_code == 303


def test_without_redis_nobody_is_let_in(settings):
    nowhere = dataclasses.replace(settings, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    client = create_app(nowhere).server.test_client()
    client.set_cookie(SESSION_COOKIE, "some-session")
    assert client.get("/api/snapshot").status_code == 503
    token = form_token(client.get("/login"))
    refused = client.post("/login", data={"user_id": "SUP-1", "password": PASSWORD, "csrf_token": token})
    assert refused.status_code == 503 and b"unavailable" in refused.data


def test_a_missing_csrf_cookie_is_given_back(app, redis_client, keys):
    session_id, identity = accounts.create_session(redis_client, keys, user_id="SUP-1", role="supervisor")
    client = app.server.test_client()
    client.set_cookie(SESSION_COOKIE, session_id)
    response = client.get("/")
    assert cookie_header(response, CSRF_COOKIE).startswith(f"{CSRF_COOKIE}={identity.csrf_token};")


# --- Security headers ---------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/login", "/login/patrol", "/healthz", "/", "/api/snapshot", "/assets/signin/signin.css",
                                  "/no-such-page", "/_dash-layout"])
def test_every_response_has_the_security_headers(app, settings, path):
    response = app.server.test_client().get(path)
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    policy = dict(part.split(" ", 1) for part in headers["Content-Security-Policy"].split("; "))
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert "unsafe-eval" not in headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert f"ws://localhost:{settings.gateway_port}" in policy["connect-src"]


def test_the_csp_allows_exactly_dashs_inline_scripts_and_the_tile_server(app, redis_client, keys):
    client, _ = signed_in(app, redis_client, keys, Role.SUPERVISOR)
    page = client.get("/")
    policy = page.headers["Content-Security-Policy"]
    inline = re.findall(r"<script(?: [^>]*)?>(.+?)</script>", page.get_data(as_text=True), re.S)
    executable = [s for s in inline if "application/json" not in s]
    assert executable and all(h in policy for h in app.csp_hashes())
    assert "https://tile.openstreetmap.org" in policy.split("img-src ")[1].split(";")[0]
