"""The Dash app and its small HTTP API, built by `create_app(settings)`.

One Redis client per process, created on first use: with `--preload` gunicorn
imports the app in its master before forking workers, and a client opened there
would be shared across processes. The app can be built without REDIS_URL (so
`python app.py` imports it before the launcher has started Redis); a request
then gets a clear 503 saying what to set.

Redis calls are guarded by a short circuit breaker: with Redis gone, a call
takes seconds (the client retries with backoff), and every screen whose live
socket is down polls /api/snapshot; without the breaker, those reads would
occupy every gunicorn thread, health checks included.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import dash
import flask
import redis
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from ..keys import Keys
from ..settings import Settings
from ..store.connection import connect
from ..store.state import read_snapshot
from . import page_scripts, patrol_api, auth as webauth
from ..errors import PictureUnavailable
from .context import UiContext, install
from ..ui.pages import accounts, audit, replay, screen, signin, tablet, zones

ROOT = Path(__file__).resolve().parent.parent.parent
ASSETS = ROOT / "assets"

# After a failed read, answer from the failure for this long before trying Redis again.
BREAKER_OPEN_S = 2.0

# The largest request the app expects is a zone file import on /admin/zones: at most 1 MB of GeoJSON, sent
# by Dash as a base64 data URL (4/3 of it) with the page's other values. Anything much larger is refused
# before it is read, so one client cannot make a worker thread parse megabytes.
MAX_REQUEST_BYTES = 4 * 1024 * 1024


class RedisPicture:
    """The process's access to the current picture: lazy client, breaker, readable errors."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.keys = Keys(settings.site)
        self._client: redis.Redis | None = None
        self._lock = threading.Lock()
        self._failed_until = 0.0
        self._failure = ""

    def client(self) -> redis.Redis:
        if not self.settings.redis_url:
            raise PictureUnavailable(
                "REDIS_URL is not set: start the demo with `python app.py` (it starts a private "
                "Redis), or set REDIS_URL to your Redis, e.g. redis://127.0.0.1:6379/0"
            )
        with self._lock:
            if self._client is None:
                self._client = connect(self.settings.redis_url)
            return self._client

    def run(self, operation):
        """`operation(client)` behind the breaker: a Redis failure becomes PictureUnavailable."""
        return self._guarded(operation)

    def _guarded(self, operation):
        if time.monotonic() < self._failed_until:
            raise PictureUnavailable(self._failure)
        client = self.client()
        try:
            result = operation(client)
        except redis.RedisError as error:
            self._failure = f"Redis unavailable: {error.__class__.__name__}: {error}"
            self._failed_until = time.monotonic() + BREAKER_OPEN_S
            raise PictureUnavailable(self._failure) from error
        self._failed_until = 0.0
        return result

    def snapshot(self) -> dict:
        return self._guarded(lambda client: read_snapshot(client, self.keys))

    def ping(self) -> None:
        self._guarded(lambda client: client.ping())


def create_app(settings: Settings) -> dash.Dash:
    """A new, independent app (tests build several per process)."""
    picture = RedisPicture(settings)
    app = dash.Dash(
        __name__,
        use_pages=True,
        pages_folder="",
        assets_folder=str(ASSETS),
        assets_ignore=page_scripts.ASSETS_IGNORE,  # each page loads its own scripts (page_scripts.py)
        title="Patrol dispatch",
        update_title=None,  # no "Updating..." flicker in the tab on every callback
        serve_locally=True,  # no internet on police networks: never a CDN
    )
    install(app.server, UiContext(settings=settings, snapshot=picture.snapshot, redis=picture.run))
    screen.register(app)  # the supervisors' wall screen, /
    tablet.register(app)  # the patrol tablet page, /patrol
    patrol_api.register(app.server)  # the tablet's /api/patrol/* routes
    replay.register(app)  # the after-action replay page, /replay
    accounts.register(app)  # the administrator's accounts page, /admin
    zones.register(app)  # authorised zones, /admin/zones
    audit.register(app)  # the auditor's page, /audit
    app.layout = dash.page_container
    page_scripts.install(app, ASSETS)
    _add_routes(app.server, picture)
    _limit_request_bodies(app.server)
    webauth.install(app, settings)  # guards, CSRF, headers
    signin.register(app)  # /login, /login/patrol, /logout, /api/patrol-codes
    _set_up_now(app)
    if settings.behind_proxy:  # the audited address is the browser's, given by our own nginx
        app.server.wsgi_app = ProxyFix(app.server.wsgi_app, x_for=1, x_proto=1, x_host=1)
    return app


def _limit_request_bodies(server: flask.Flask) -> None:
    """Werkzeug refuses a body over MAX_CONTENT_LENGTH when it is first read (Content-Length or not); the
    answer says what happened, in JSON like the rest of the API, instead of Werkzeug's HTML page."""
    server.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES

    def too_large(_error):
        megabytes = MAX_REQUEST_BYTES / 1024 / 1024
        return webauth.json_response({"error": f"request too large: at most {megabytes:g} MiB"}, 413)

    server.register_error_handler(RequestEntityTooLarge, too_large)

    @server.after_request
    def drain_unread_body(response: flask.Response) -> flask.Response:
        """A refusal answered before the body is read (401 to a signed-out upload) would close the
        connection with bytes unread: the kernel then resets it, and nginx, still sending the body,
        answers 502 instead of ours. Bodies within the limit are read to the end and dropped."""
        length = flask.request.content_length
        if length and length <= MAX_REQUEST_BYTES:
            flask.request.stream.exhaust()
        return response


def _set_up_now(app: dash.Dash) -> None:
    """Let Dash finish its set-up before the first real request, not during it.

    Dash sets itself up on the first request of each process, and marks that
    done before doing it: under gunicorn's threads, a page's parallel script
    requests then race the set-up and some get a 500 ("dash is not a registered
    library"), leaving the page blank. One request made here, before the
    server takes any, closes that window. The path matches no route: only
    Dash's before-request set-up runs (no Redis call, no layout).
    """
    app.server.test_client().get("/_dispatch-warm-up")


def _add_routes(server: flask.Flask, picture: RedisPicture) -> None:
    @server.get("/api/snapshot")
    def snapshot():
        try:
            return webauth.json_response(picture.snapshot())
        except PictureUnavailable as error:
            return webauth.json_response({"error": str(error)}, 503)

    @server.get("/healthz")
    def healthz():
        try:
            picture.ping()
        except PictureUnavailable as error:
            response = flask.Response(f"unavailable: {error}\n", status=503, mimetype="text/plain")
        else:
            response = flask.Response("ok", status=200, mimetype="text/plain")
        response.headers["Cache-Control"] = "no-store"
        return response
