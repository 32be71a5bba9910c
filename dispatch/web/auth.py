"""Sessions, CSRF and security headers of the web app: `install(app, settings)`; the sign-in routes
that make sessions are ui/pages/signin/handlers.py's (`add_routes`), on top of this module's helpers.

One `before_request` guard decides every request before any view or Dash
callback runs, so nothing is open by omission:

- static files (assets, Dash's component bundles) and /healthz are open; the
  sign-in forms and /logout check their own tokens;
- everything else needs a session (cookie `dispatch_session`);
- every POST/PUT/PATCH/DELETE must carry the session's CSRF token in the
  `X-CSRFToken` header. Dash's renderer sends the `_csrf_token` cookie's value
  there on its own; page scripts calling `fetch` do the same:
  `headers: {"X-CSRFToken": document.cookie.match(/(?:^|; )_csrf_token=([^;]*)/)[1]}`;
- pages need their permission (domain/auth.py PAGE_PERMISSIONS), and so does
  the Dash pages router callback for the path it is asked to render (a client
  navigating with dcc.Link never GETs the page);
- /api/* routes and Dash callbacks need the permission they declare (`requires`,
  `guard_callback`, or the route table below for a route that predates them). One that
  declares none is refused: a new route or callback is closed until someone
  decides who may use it.

Paths are put in one canonical form before any decision (domain/auth.py
canonical_path: percent-decoded, `//` collapsed, no trailing slash, lower
case), for requests and for the pages router's pathname alike.

Refusals: 401 without a session (pages redirect to /login?next=...), 403 for
the wrong role (pages show who is signed in, with a sign-out button), a
missing or wrong CSRF token, or a route that declares no permission. Every
refusal of a signed-in user is audited as `access_denied` (who, what was
asked, why). A refused request never reaches its view or callback, so it
changes nothing.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import threading
from typing import Callable
from urllib.parse import quote

import dash
import flask
import jinja2
import orjson
import redis
from dash.exceptions import PreventUpdate

from .. import clock
from ..domain import pages
from ..domain.audit import Action, AuditRole
from ..domain.auth import (
    HOME_PAGE, SESSION_COOKIE,
    PERMISSIONS, Identity, Throttle, canonical_path, content_security_policy, may, new_token,
    page_permission, signin_form_token, signin_form_token_valid, tile_source, tokens_equal,
)
from ..keys import Keys
from ..settings import Settings
from ..store import accounts
from ..store import audit as audit_store
from ..store.connection import connect
from ..errors import PictureUnavailable

log = logging.getLogger(__name__)

CSRF_COOKIE = "_csrf_token"  # the name Dash's renderer reads (dash 4.4 getCSRFHeader)
CSRF_HEADER = "X-CSRFToken"
CSRF_FORM_FIELD = "csrf_token"
SIGNIN_COOKIE = "dispatch_signin"
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
OPEN_PATHS = frozenset({pages.SIGNIN, pages.PATROL_SIGNIN, pages.SIGNOUT, "/healthz", "/favicon.ico"})
STATIC_PREFIXES = ("/assets/", "/_dash-component-suites/", "/_favicon.ico")
CALLBACK_PATH = "/_dash-update-component"
PAGES_ROUTER_OUTPUT = "_pages_content.children"
PAGES_LOCATION = "_pages_location"
# Routes written before `requires` existed, with what they need.
ROUTE_PERMISSIONS: dict[str, str] = {"/api/snapshot": "live_view"}
_EXTENSION = "dispatch_auth"


class CallbackRefused(PreventUpdate):
    """A guarded Dash callback refused. A PreventUpdate, so Dash re-raises it past any on_error
    handler (nothing can turn a refusal into an update); our error handler answers with `status`."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


# --- The process's state ----------------------------------------------------------------

class _Auth:
    def __init__(self, app: dash.Dash, settings: Settings):
        self.app, self.settings, self.keys = app, settings, Keys(settings.site)
        self.throttle = throttle_from(settings)
        self._client: redis.Redis | None = None
        self._lock = threading.Lock()
        self._csp: tuple[int, tuple[str, ...]] = (-1, ())

    def run(self, operation: Callable[[redis.Redis], object]):
        """`operation(client)` with the app's breaker when the UI installed one; PictureUnavailable if Redis
        cannot answer (then nobody is let in: sign-in fails closed)."""
        ui = flask.current_app.extensions.get("dispatch")
        if ui is not None:
            return ui.redis(operation)
        if not self.settings.redis_url:
            raise PictureUnavailable("REDIS_URL is not set")
        with self._lock:
            if self._client is None:
                self._client = connect(self.settings.redis_url)
        try:
            return operation(self._client)
        except redis.RedisError as error:
            raise PictureUnavailable(f"Redis unavailable: {error.__class__.__name__}: {error}") from error

    def script_hashes(self) -> tuple[str, ...]:
        """Dash's inline scripts (renderer start-up, inline clientside callbacks), hashed once per set."""
        count = len(self.app._inline_scripts)
        if self._csp[0] != count:
            self._csp = (count, tuple(self.app.csp_hashes()))
        return self._csp[1]


def throttle_from(settings: Settings) -> Throttle:
    """The sign-in throttle the settings describe (domain/auth.py Throttle says what each part does)."""
    return Throttle(free_failures=settings.signin_max_failures, max_delay_ms=int(settings.signin_lock_minutes * 60_000),
                    forget_ms=int(settings.signin_forget_hours * 3_600_000),
                    address_max_failures=settings.signin_address_max_failures,
                    address_window_ms=int(settings.signin_address_window_minutes * 60_000))


def auth_state() -> _Auth:
    """This app's sign-in state (settings, keys, throttle, Redis access)."""
    return flask.current_app.extensions[_EXTENSION]


# --- Public API -------------------------------------------------------------------------

def current_identity() -> Identity | None:
    """Who sent this request (session cookie), None if nobody. Raises PictureUnavailable when Redis
    cannot say (callers refuse then: unknown is not signed in)."""
    if not flask.has_request_context():
        return None
    if "dispatch_identity" in flask.g:
        return flask.g.dispatch_identity
    session_id = flask.request.cookies.get(SESSION_COOKIE)
    identity = None
    if session_id:
        auth = auth_state()
        identity = auth.run(lambda client: accounts.get_session(client, auth.keys, session_id))
    flask.g.dispatch_identity = identity
    return identity


def requires(permission: str):
    """Decorator for Flask views: 401/403 (JSON under /api/, redirect or page otherwise) unless the
    signed-in role has `permission`. Put it below `@server.route` (closest to the function)."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}; known: {', '.join(PERMISSIONS)}")

    def decorate(view):
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            refusal = _refuse_unless(permission, target=_target("route", flask.request.path))
            return refusal if refusal is not None else view(*args, **kwargs)

        guarded._dispatch_permission = permission
        return guarded

    return decorate


def guard_callback(permission: str):
    """Decorator for Dash callback functions: refused with 401/403 unless the signed-in role has
    `permission` and the request carries the session's CSRF token. Put it below `@app.callback`
    (closest to the function): the guard runs before the function, so a refused call changes nothing."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}; known: {', '.join(PERMISSIONS)}")

    def decorate(func):
        @functools.wraps(func)
        def guarded(*args, **kwargs):
            try:
                identity = current_identity()
            except PictureUnavailable as error:
                raise CallbackRefused(503, str(error)) from None
            if identity is None:
                raise CallbackRefused(401, "not signed in")
            if not tokens_equal(flask.request.headers.get(CSRF_HEADER), identity.csrf_token):
                audit_refusal(identity, _target("callback", func.__name__), _csrf_problem())
                raise CallbackRefused(403, "missing or wrong CSRF token")
            if not may(identity.role, permission):
                _audit_denied(identity, permission, _target("callback", func.__name__))
                raise CallbackRefused(403, f"{identity.role.value} may not {permission}")
            return func(*args, **kwargs)

        guarded._dispatch_permission = permission
        return guarded

    return decorate


def install(app: dash.Dash, settings: Settings) -> None:
    """Guard every request of `app` and add the security headers. Call it once, after the pages and
    routes are registered (web.create_app does, then adds the sign-in page's routes)."""
    server = app.server
    auth = _Auth(app, settings)
    server.extensions[_EXTENSION] = auth
    server.before_request(_guard)
    server.after_request(_security_headers)
    server.register_error_handler(CallbackRefused, _callback_refused)


# --- The guard ---------------------------------------------------------------------------

def _guard():
    """Decide the request. Paths are put in their canonical form once, here (domain/auth.py
    canonical_path), and every check below uses that form: `//admin`, `/admin/`, `/ADMIN` and
    `/%61dmin` are all the accounts page."""
    request = flask.request
    raw = request.path
    if _open(raw):
        return None
    path = canonical_path(raw)
    api = path.startswith("/api/") or path.startswith("/_")
    try:
        identity = current_identity()
    except PictureUnavailable as error:
        return json_response({"error": f"sign-in unavailable: {error}"}, 503) if api else (
            flask.Response(f"Sign-in is unavailable right now: {error}\n", 503, mimetype="text/plain"))
    if identity is None:
        if api or request.method not in ("GET", "HEAD") or not _wants_html(request):
            return json_response({"error": "not signed in", "sign_in": pages.SIGNIN}, 401)
        return flask.redirect(f"{pages.SIGNIN}?next={quote(request.full_path.rstrip('?'), safe='/?=&')}", 303)
    if request.method in STATE_CHANGING and not tokens_equal(request.headers.get(CSRF_HEADER), identity.csrf_token):
        audit_refusal(identity, _asked(request, path), _csrf_problem())
        return json_response({"error": "missing or wrong CSRF token: send the _csrf_token cookie's value "
                               "in the X-CSRFToken header"}, 403)
    if path == CALLBACK_PATH:
        permission, target = _callback_permission(request)
    elif path.startswith("/api/") or raw.startswith("/api/"):  # `/api/x/..` is still routed to an API view
        if request.url_rule is None:
            return None  # no such route: Flask answers 404
        view = flask.current_app.view_functions.get(request.endpoint)
        permission = getattr(view, "_dispatch_permission", None) or ROUTE_PERMISSIONS.get(request.url_rule.rule)
        target = _target("api", path)
    elif path.startswith("/_"):
        return None  # Dash's own layout and dependency routes: any signed-in user
    else:
        permission, target = page_permission(path) or "", _target("page", path)
    if permission is None:
        log.error("refused %s %s: it declares no permission (use requires / guard_callback)", request.method,
                  target)
        audit_refusal(identity, target, "declares no permission")
        return json_response({"error": f"{target} declares no permission: closed until it does"}, 403)
    if permission and not may(identity.role, permission):
        return _denied(identity, permission, target, api=api)
    return None


def _open(raw: str) -> bool:
    """Static files and the sign-in routes need no session: matched on the raw path, exactly as Flask
    routes it, and only when it has nothing to normalise (`/assets/../admin` is not open)."""
    if raw in OPEN_PATHS:
        return True
    odd = "//" in raw or "/./" in raw or "/../" in raw or raw.endswith(("/.", "/..")) or "\\" in raw or "%" in raw
    return raw.startswith(STATIC_PREFIXES) and not odd


def _asked(request, path: str) -> str:
    """What a request asked for, as an audit target: the callback's component, the route or the page."""
    if path == CALLBACK_PATH:
        return _callback_permission(request)[1]
    return _target("api" if path.startswith("/api/") else "route" if path.startswith("/_") else "page", path)


def _csrf_problem() -> str:
    return "missing CSRF token" if not flask.request.headers.get(CSRF_HEADER) else "wrong CSRF token"


def _callback_permission(request) -> tuple[str | None, str]:
    body = request.get_json(silent=True)
    output = body.get("output") if isinstance(body, dict) else None
    entry = auth_state().app.callback_map.get(output) if isinstance(output, str) else None
    if entry is None:
        return None, "callback:unknown"
    if PAGES_ROUTER_OUTPUT in output:
        pathname = next((item.get("value") for item in body.get("inputs") or [] if isinstance(item, dict)
                         and item.get("id") == PAGES_LOCATION and item.get("property") == "pathname"), None)
        path = canonical_path(pathname if isinstance(pathname, str) else "/")
        return page_permission(path) or "", _target("page", path)
    permission = getattr(entry.get("callback"), "_dispatch_permission", None)
    components = {part.split(".")[0] for part in output.strip(".").split("...")}
    return permission, _target("callback", sorted(components)[0])


def _refuse_unless(permission: str, *, target: str):
    try:
        identity = current_identity()
    except PictureUnavailable as error:
        return json_response({"error": f"sign-in unavailable: {error}"}, 503)
    api = flask.request.path.startswith("/api/")
    if identity is None:
        if api:
            return json_response({"error": "not signed in", "sign_in": pages.SIGNIN}, 401)
        return flask.redirect(f"{pages.SIGNIN}?next={quote(flask.request.path)}", 303)
    if not may(identity.role, permission):
        return _denied(identity, permission, target, api=api)
    return None


def _audit_denied(identity: Identity, permission: str, target: str) -> None:
    """Record a signed-in user's request refused for their role as `access_denied`."""
    audit_refusal(identity, target, f"{identity.role.value} lacks {permission}")


def audit_refusal(identity: Identity, target: str, reason: str) -> None:
    """Record a signed-in user's refused request (who, what was asked, why) as `access_denied`; never
    raises (the refusal stands; record_refusal logs what it could not write)."""
    auth = auth_state()
    try:
        auth.run(lambda client: audit_store.record_refusal(
            client, auth.keys, ts=clock.now_ms(), actor=identity.user_id, role=AuditRole(identity.role.value),
            action=Action.ACCESS_DENIED, target=target, reason=reason, origin=client_origin()))
    except PictureUnavailable:
        pass


def _denied(identity: Identity, permission: str, target: str, *, api: bool):
    _audit_denied(identity, permission, target)
    if api:
        return json_response({"error": f"{identity.role.value} may not use this ({permission} needed)",
                      "signed_in_as": identity.user_id}, 403)
    html = forbidden_page(identity, what=_describe(target), csrf_token=identity.csrf_token)
    return flask.Response(html, 403, mimetype="text/html")


def _callback_refused(error: CallbackRefused):
    return json_response({"error": error.message}, error.status)


# --- Pages of the sign-in family --------------------------------------------------------------

# Jinja2 templates in dispatch/templates/signin/ (jinja2 ships with Flask): every value is escaped
# (autoescape), the files' last newline kept.
_TEMPLATES = jinja2.Environment(loader=jinja2.PackageLoader("dispatch", "templates"), autoescape=True,
                                keep_trailing_newline=True, undefined=jinja2.StrictUndefined)


def html_page(name: str, **values) -> str:
    """A page of the sign-in family (sign-in forms, the forbidden page): no Dash, no script."""
    return _TEMPLATES.get_template(f"signin/{name}.html").render(**values)


def forbidden_page(identity: Identity, *, what: str, csrf_token: str) -> str:
    """Who is signed in, what they asked for, and a way out: their own page or signing out."""
    return html_page("forbidden", who=identity.patrol_id or identity.user_id, role=identity.role.value, what=what,
                     home=HOME_PAGE[identity.role], token=csrf_token)


# --- Headers and cookies -------------------------------------------------------------------

def _security_headers(response: flask.Response) -> flask.Response:
    auth = auth_state()
    request = flask.request
    host = request.host.rsplit(":", 1)[0] if not request.host.endswith("]") else request.host
    gateway = f"{host}:{auth.settings.gateway_port}"
    connect_sources = (f"ws://{gateway}", f"wss://{gateway}")
    images = tuple(filter(None, [tile_source(auth.settings.tile_url)]))
    headers = response.headers
    headers["Content-Security-Policy"] = content_security_policy(
        script_hashes=auth.script_hashes(), connect=connect_sources, images=images)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(self), payment=()"
    if request.is_secure:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    identity = flask.g.get("dispatch_identity")
    if identity is not None and request.cookies.get(CSRF_COOKIE) != identity.csrf_token:
        set_session_cookies(response, identity)
    return response


def set_session_cookies(response: flask.Response, identity: Identity) -> None:
    """The session cookie (HttpOnly: scripts never see it) and the CSRF cookie (readable: Dash's renderer
    copies it into X-CSRFToken). SameSite=Strict: no other site's page can make the browser send them."""
    secure = flask.request.is_secure
    expires = identity.expires_ms / 1000
    response.set_cookie(SESSION_COOKIE, identity.session_id, expires=expires, path="/", secure=secure,
                        httponly=True, samesite="Strict")
    response.set_cookie(CSRF_COOKIE, identity.csrf_token, expires=expires, path="/", secure=secure,
                        httponly=False, samesite="Strict")


def clear_session_cookies(response: flask.Response) -> None:
    for name, httponly in ((SESSION_COOKIE, True), (CSRF_COOKIE, False)):
        response.delete_cookie(name, path="/", secure=flask.request.is_secure, httponly=httponly,
                               samesite="Strict")


def signin_form(response_html: Callable[[str], str], status: int = 200) -> flask.Response:
    """A sign-in page with its form token: a nonce in a cookie, and signed in the form. The nonce is
    kept while the browser has one, so two sign-in pages (two tabs, a reload) never void each other."""
    nonce = flask.request.cookies.get(SIGNIN_COOKIE, "")
    if not (40 <= len(nonce) <= 64 and nonce.replace("-", "").replace("_", "").isalnum()):
        nonce = new_token()
    token = signin_form_token(auth_state().settings.secret_key, nonce)
    response = flask.Response(response_html(token), status, mimetype="text/html")
    response.set_cookie(SIGNIN_COOKIE, nonce, max_age=3600, path=pages.SIGNIN, secure=flask.request.is_secure,
                        httponly=True, samesite="Strict")
    response.headers["Cache-Control"] = "no-store"
    return response


def signin_form_ok() -> bool:
    return signin_form_token_valid(auth_state().settings.secret_key, flask.request.cookies.get(SIGNIN_COOKIE),
                                   flask.request.form.get(CSRF_FORM_FIELD))


def client_origin() -> str:
    """The client's address for the audit trail ('internal' when there is none). Behind a reverse proxy,
    wrap the app in werkzeug's ProxyFix so that this is the browser's address, not the proxy's."""
    address = flask.request.remote_addr or ""
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return "internal"


# --- Small helpers --------------------------------------------------------------------------

def json_response(body: object, status: int = 200) -> flask.Response:
    """The JSON answer of every route of the web app (orjson: NaN as null, numpy and datetimes as Dash
    serialises them), never cached."""
    response = flask.Response(orjson.dumps(body), status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def _wants_html(request) -> bool:
    """A page navigation (redirected to sign in), not a fetch of an image or data (answered 401)."""
    accept = request.headers.get("Accept", "")
    return not accept or "text/html" in accept or "*/*" == accept.strip()


def _target(kind: str, name: str) -> str:
    """An audit target for what was asked: `page:admin`, `api:snapshot`, `callback:nearest-result`."""
    cleaned = "".join(c if c.isascii() and (c.isalnum() or c in "_.-") else ":" for c in name.strip("/"))
    return f"{kind}:{cleaned or 'home'}"[:80]


def _describe(target: str) -> str:
    kind, _, name = target.partition(":")
    return f"the {name.replace(':', '/')} {kind}" if kind != "page" else f"the page /{'' if name == 'home' else name}"
