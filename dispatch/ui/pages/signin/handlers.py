"""The sign-in pages and their routes (/login, /login/patrol, /logout, POST /api/patrol-codes): plain
HTML from Jinja2 templates (dispatch/templates/signin/), no script at all. The page skeleton they
share and the "not for your role" page the guard answers with are web/auth.py's (`html_page`,
`forbidden_page`): this module uses webauth, never the reverse.

Plain server-rendered forms rather than Dash: they must work before anything
is trusted (no session, so no Dash callback may run), with scripts blocked by
the CSP, and on a tablet with gloves: one column, large fields and buttons,
the numeric keypad for the patrol code. Every value from the request is
escaped by the templates (autoescape), so a crafted `next` or id cannot
inject markup.
Styles are in assets/signin/signin.css, every rule scoped under `.signin` (Dash
serves every stylesheet of assets/ on its own pages too).
"""

from __future__ import annotations

import time

import flask

from .... import clock
from ....domain.audit import INVALID_TARGET, Action, AuditRole, make_entry
from ....domain import pages
from ....domain.models import PATROL_ID
from ....domain.auth import (
    KNOWN_DEVICE_COOKIE, PATROL_CODE_DIGITS, Identity, Role, is_call_sign, known_devices, next_attempt_note,
    remember_device, safe_next, staff_role, throttled_message, tokens_equal,
)
from ....store import accounts
from ....store import audit as audit_store
from ....web.auth import (
    CSRF_FORM_FIELD, CSRF_HEADER, SESSION_COOKIE, SIGNIN_COOKIE, audit_refusal, auth_state, clear_session_cookies,
    client_origin,
    current_identity, html_page, json_response, requires, set_session_cookies, signin_form, signin_form_ok,
)
from ....errors import PictureUnavailable


def _form(page: str, next_path: str, **typed):
    """The answer with sign-in page `page` ("staff" or "patrol"), keeping what was typed: `form(status,
    error=..., notice=...)`."""
    def form(status: int = 200, error: str | None = None, notice: str | None = None):
        return signin_form(lambda token: html_page(page, token=token, next_path=next_path, error=error, notice=notice,
                                                   digits=PATROL_CODE_DIGITS, **typed), status)

    return form


def _audit_sign_in(identity: Identity, screen: str, *, known_device: bool) -> None:
    auth = auth_state()
    entry = make_entry(ts=clock.now_ms(), actor=identity.user_id, role=AuditRole(identity.role.value),
                       action=Action.SIGN_IN, origin=client_origin(),
                       details={"screen": screen, "known_device": known_device})
    auth.run(lambda client: audit_store.record(client, auth.keys, entry))


def _audit_sign_in_failed(user_id: str, screen: str, reason: str) -> None:
    auth = auth_state()
    role = AuditRole.PATROL if screen == "patrol" else AuditRole((staff_role(user_id) or Role.SUPERVISOR).value)
    auth.run(lambda client: audit_store.record_refusal(
        client, auth.keys, ts=clock.now_ms(), actor=user_id, role=role, action=Action.SIGN_IN_FAILED, target="",
        reason=reason, origin=client_origin(), details={"screen": screen}))


# --- Routes ---------------------------------------------------------------------------------

def add_routes(server: flask.Flask) -> None:
    """The sign-in, sign-out and code-issuing routes (web.create_app adds them, after webauth.install)."""
    server.add_url_rule(pages.SIGNIN, "signin_staff", _staff_signin, methods=["GET", "POST"])
    server.add_url_rule(pages.PATROL_SIGNIN, "signin_patrol", _patrol_signin, methods=["GET", "POST"])
    server.add_url_rule(pages.SIGNOUT, "signout", _signout, methods=["POST"])
    server.add_url_rule("/api/patrol-codes", "issue_patrol_code", _issue_patrol_code, methods=["POST"])


def _notice(args) -> str | None:
    if args.get("signed_out"):
        return "Signed out."
    if args.get("ended"):
        return ("Your session has ended (it expired, was signed out elsewhere, or the account was changed). "
                "Please sign in again.")
    return None


def _staff_signin():
    user_id, next_path, form, shown = _opened("staff", "user_id")
    if shown is not None:
        return shown
    password = flask.request.form.get("password", "")

    def check(client, keys):
        account = accounts.verify_password(client, keys, user_id=user_id, password=password)
        return None if account is None else (account.user_id, account.role, None, account)

    return _sign_in(form, "staff", user_id, check, "Unknown code or wrong password.", next_path)


def _patrol_signin():
    patrol_id, next_path, form, shown = _opened("patrol", "patrol_id")
    if shown is not None:
        return shown
    code = flask.request.form.get("code", "").strip()

    def check(client, keys):
        used = accounts.use_patrol_code(client, keys, patrol_id=patrol_id, code=code)
        return (patrol_id, Role.PATROL, patrol_id, None) if used else None

    return _sign_in(form, "patrol", patrol_id, check,
                    "Wrong call sign or code, or the code has expired or was already used.", next_path)


def _opened(screen: str, id_field: str):
    """(the id typed, where to go next, the form, the page to show now): a GET shows the empty form
    (with a notice, e.g. "your session has ended"); a POST goes on to the check (page None)."""
    request = flask.request
    next_path = request.values.get("next", "")[:512]
    claimed_id = request.form.get(id_field, "").strip().upper()[:16]
    form = _form(screen, next_path, **{id_field: claimed_id})
    shown = form(notice=_notice(request.args)) if request.method == "GET" else None
    return claimed_id, next_path, form, shown


def _sign_in(form, screen: str, claimed_id: str, check, wrong: str, next_path: str):
    """The one sign-in flow: form token, throttle gate, check, then a fresh session (or a counted failure).

    The gate (store/accounts.py) holds the attempt back when the account, this device or this address
    must wait, or lets it through already counted as a failure; a correct password then clears the
    account's count. A browser that signed in to this account before (its known-device cookie) is
    gated by its own count only, so someone else's failures never keep the rightful user out."""
    auth = auth_state()
    if not signin_form_ok():
        return form(400, error="This form has expired. Please try again.")
    attempt = accounts.attempt_for(client_origin(), claimed_id, _known_device(claimed_id))
    try:
        gate = auth.run(lambda c: accounts.gate(c, auth.keys, attempt, auth.throttle))
        if not gate.allowed:
            _audit_sign_in_failed(claimed_id, screen, f"held back: too many failed sign-ins ({gate.scope})")
            response = form(429, error=throttled_message(gate.scope, gate.wait_ms))
            response.headers["Retry-After"] = str(max(1, -(-gate.wait_ms // 1000)))
            return response
        found = auth.run(lambda c: check(c, auth.keys))
        if found is None:
            _audit_sign_in_failed(claimed_id, screen, "wrong credentials")
            return form(401, error=wrong + next_attempt_note(gate.next_wait_ms))
        user_id, role, patrol_id, checked = found
        previous = flask.request.cookies.get(SESSION_COOKIE)
        if previous:
            auth.run(lambda c: accounts.end_session(c, auth.keys, previous))
        try:
            _, identity = auth.run(lambda c: accounts.create_session(
                c, auth.keys, user_id=user_id, role=role, patrol_id=patrol_id, checked=checked,
                ttl_s=auth.settings.session_hours * 3600))
        except accounts.AccountError:
            _audit_sign_in_failed(claimed_id, screen, "the account changed while signing in")
            return form(401, error=wrong)
        auth.run(lambda c: accounts.succeeded(c, auth.keys, attempt))
        _audit_sign_in(identity, screen, known_device=attempt.device is not None)
    except PictureUnavailable as error:
        return form(503, error=f"Sign-in is unavailable right now ({error}). Try again in a moment.")
    response = flask.redirect(safe_next(next_path, identity.role), 303)
    set_session_cookies(response, identity)
    response.delete_cookie(SIGNIN_COOKIE, path=pages.SIGNIN)
    _remember_device(response, user_id)
    return response


def _known_device(claimed_id: str) -> str | None:
    """This browser's device nonce for `claimed_id` if its known-device cookie names it (signed by us)."""
    known = known_devices(auth_state().settings.secret_key, flask.request.cookies.get(KNOWN_DEVICE_COOKIE),
                          time.time())
    return known[claimed_id][0] if claimed_id in known else None


def _remember_device(response: flask.Response, user_id: str) -> None:
    """Make (or keep) this browser a known device of `user_id`: an HttpOnly cookie sent to /login only."""
    settings = auth_state().settings
    value = remember_device(settings.secret_key, flask.request.cookies.get(KNOWN_DEVICE_COOKIE), user_id,
                            time.time(), settings.known_device_days)
    response.set_cookie(KNOWN_DEVICE_COOKIE, value, max_age=int(settings.known_device_days * 86_400), path=pages.SIGNIN,
                        secure=flask.request.is_secure, httponly=True, samesite="Strict")


def _signout():
    request = flask.request
    try:
        identity = current_identity()
    except PictureUnavailable as error:
        return json_response({"error": f"sign-out unavailable: {error}"}, 503)
    destination = pages.PATROL_SIGNIN if identity is not None and identity.role is Role.PATROL else pages.SIGNIN
    if identity is not None:
        token = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FORM_FIELD)
        if not tokens_equal(token, identity.csrf_token):
            audit_refusal(identity, "route:logout", "missing CSRF token" if not token else "wrong CSRF token")
            return json_response({"error": "missing or wrong CSRF token"}, 403)
        auth = auth_state()
        try:
            auth.run(lambda c: accounts.end_session(c, auth.keys, identity.session_id))
            entry = make_entry(ts=clock.now_ms(), actor=identity.user_id, role=AuditRole(identity.role.value),
                               action=Action.SIGN_OUT, origin=client_origin(), details={"why": "signed_out"})
            auth.run(lambda c: audit_store.record(c, auth.keys, entry))
        except PictureUnavailable as error:
            return json_response({"error": f"sign-out unavailable: {error}"}, 503)
        flask.g.dispatch_identity = None
    response = flask.redirect(f"{destination}?signed_out=1", 303)
    clear_session_cookies(response)
    return response


@requires("dispatch")
def _issue_patrol_code():
    """POST {"patrol_id": "BAC-12"} -> {"patrol_id", "code", "expires_ms"}: the code is shown once."""
    auth = auth_state()
    identity = current_identity()
    body = flask.request.get_json(silent=True)
    patrol_id = body.get("patrol_id") if isinstance(body, dict) else None
    ttl_s = auth.settings.patrol_code_hours * 3600
    try:
        code = auth.run(lambda c: accounts.issue_patrol_code(c, auth.keys, patrol_id=patrol_id,
                                                             issued_by=identity.user_id, ttl_s=ttl_s,
                                                             origin=client_origin()))
        expires_ms = auth.run(lambda c: accounts.patrol_code_expiry(c, auth.keys, patrol_id))
    except accounts.AccountError as error:
        _audit_code_refused(identity, patrol_id, str(error))
        return json_response({"error": str(error)}, 400)
    except PictureUnavailable as error:
        return json_response({"error": str(error)}, 503)
    return json_response({"patrol_id": patrol_id, "code": code, "expires_ms": expires_ms}, 200)


def _audit_code_refused(identity: Identity, patrol_id: object, reason: str) -> None:
    """A refused code request on the trail; a value that is no call sign (it may be a name) never is."""
    auth = auth_state()
    target = patrol_id if is_call_sign(patrol_id) else INVALID_TARGET
    try:
        auth.run(lambda c: audit_store.record_refusal(
            c, auth.keys, ts=clock.now_ms(), actor=identity.user_id, role=AuditRole.SUPERVISOR,
            action=Action.PATROL_CODE_ISSUED, target=target, reason=reason, origin=client_origin(),
            untrusted=[(patrol_id, PATROL_ID)]))
    except PictureUnavailable:
        pass  # the refusal stands
