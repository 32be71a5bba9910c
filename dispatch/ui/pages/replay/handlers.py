"""The replay page's Dash callbacks and JSON routes (what each carries and why: __init__.py); the plain work
is logic.py's."""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

import flask
from dash import ctx, no_update

from .... import clock
from ....web import auth as webauth
from ....web.replay_cache import DIRECTORY, ReplayCache, Window, WindowUnavailable
from ....domain.replay.zone_history import versions_in_window
from ....store.zones import load_zones, zone_log
from ....errors import PictureUnavailable
from ....web.context import context
from . import ids
from . import layout as P
from .logic import (
    DEFAULT_MAX_WINDOW_HOURS, EXPORT_FORMATS, Actor, WindowRefused, build_figure, export_filename, export_stream,
    figure_download, frame_at, frame_ready, load_history, parse_instant, record_opened, resolve_window, track_of,
    window_summary,
)
from ....domain.pages import REPLAY

CACHE_EXTENSION = "dispatch.replay"
NOT_LOADED_YET = "available once the window has loaded"
MAX_WATCHER_CHARS = 64
MAX_ID_CHARS = 64  # longer than any valid unit id
_cache_lock = threading.Lock()


# ----------------------------------------------------------------------------- sign-in hook


def callback_guard(permission: str) -> Callable[[Callable], Callable]:
    return webauth.guard_callback(permission)


def view_guard(permission: str) -> Callable[[Callable], Callable]:
    return webauth.requires(permission)


def acting() -> Actor:
    """Who acts, for the audit trail: the signed-in identity (the guards let no one else through)."""
    identity = webauth.current_identity()
    return Actor(identity.user_id, identity.role.value, webauth.client_origin())


# ----------------------------------------------------------------------------- the process's cache


def cache() -> ReplayCache:
    """This process's handle on the host's replay cache, created on first use (never at import, nor before
    gunicorn forks: it owns threads and file locks)."""
    app = flask.current_app
    with _cache_lock:
        found = app.extensions.get(CACHE_EXTENSION)
        if found is None:
            ui = context()

            def loader(window: Window, progress):
                try:
                    return ui.redis(lambda client: load_history(client, ui.keys, window, progress,
                                                                settings=ui.settings))
                except PictureUnavailable as error:
                    raise WindowUnavailable(f"The recordings cannot be read now: {error}") from error

            # Shared by the host's gunicorn workers through files under the data dir (issue 14): any worker
            # answers any request of a page, and a window loads once per host.
            settings = ui.settings
            found = app.extensions[CACHE_EXTENSION] = ReplayCache(
                loader, directory=settings.data_dir / DIRECTORY, ttl_s=settings.replay_cache_ttl_min * 60,
                max_bytes=settings.replay_cache_mb * 2**20, retention_ms=settings.retention_ms)
        return found


def _window(data: Any) -> Window | None:
    """The page's window from untrusted input (a store or query arguments), for this site only."""
    if not isinstance(data, dict):
        return None
    try:
        from_ms, to_ms = int(data["from_ms"]), int(data["to_ms"])
    except (KeyError, TypeError, ValueError):
        return None
    return Window(context().settings.site, from_ms, to_ms) if 0 <= from_ms < to_ms < 2**53 else None


def _watcher(value: Any) -> str:
    return value if isinstance(value, str) and 0 < len(value) <= MAX_WATCHER_CHARS else "anonymous"


# ----------------------------------------------------------------------------- callbacks


def answer_open(n_clicks, choice, custom_from, custom_to, watcher, previous=None) -> dict:
    ui = context()
    now = clock.now_ms()
    try:
        chosen = resolve_window(choice, custom_from, custom_to, site=ui.settings.site, now_ms=now,
                                tz=ui.settings.timezone, retention_ms=ui.settings.retention_ms,
                                max_hours=DEFAULT_MAX_WINDOW_HOURS)
    except WindowRefused as refusal:
        return {"nonce": n_clicks, "ok": False, "message": str(refusal)}
    actor = acting()
    try:
        ui.redis(lambda client: record_opened(client, ui.keys, chosen, actor, now))
    except PictureUnavailable as error:
        return {"nonce": n_clicks, "ok": False, "message": f"Not opened (the audit trail must record it): {error}"}
    replaced = _window(previous)
    if replaced is not None and replaced != chosen.window:  # this page no longer waits for its previous window
        cache().cancel(replaced, _watcher(watcher))
    status = cache().open(chosen.window, _watcher(watcher))
    return {"nonce": n_clicks, "ok": True, "from_ms": chosen.window.from_ms, "to_ms": chosen.window.to_ms,
            "label": chosen.label, "note": chosen.note, "status": status.as_json()}


def answer_cancel(_n_clicks, opened, watcher) -> dict:
    window = _window(opened)
    status = cache().cancel(window, _watcher(watcher)) if window else None
    return {"state": status.state if status else "unknown"}


def answer_jump(n_submit, text, ready) -> dict:
    window = _window(ready)
    if window is None:
        return {"nonce": n_submit, "ok": False, "message": "Load a window first"}
    try:
        instant = parse_instant(text, window, context().settings.timezone)
    except WindowRefused as refusal:
        return {"nonce": n_submit, "ok": False, "message": str(refusal)}
    return {"nonce": n_submit, "ok": True, "t": instant}


def answer_figures(ready) -> list:
    """The figures' section once a window is ready (or none): its note and the exports. The charts themselves
    come one at a time, as the page asks for each (answer_figure, issue 15), and the page blanks them while
    another window loads (figures.js): no chart is an output here, so that no chart waits on this answer."""
    if ready is None:  # the page is loading another window
        return ["", True, True, True]
    window = _window(ready)
    history = cache().history(window) if window else None
    if history is None:
        return ["The window is no longer loaded: press Load again", True, True, True]
    if not history.complete:  # (issue 15: a window still loading has only its prefix)
        return [f"Figures, their files and exports: {NOT_LOADED_YET}", True, True, True]
    return ["drawn as you come to them", False, False, False]


def answer_figure(name: str) -> Callable:
    """The callback of one figure: its chart for the window the page wrote into its store, and a word for the
    page (FIGURE_DONE) that it may ask for the next one. Built from only the numbers this chart needs."""
    def answer(wanted) -> tuple:
        window = _window(wanted)
        history = cache().history(window) if window else None
        if history is None or not history.complete:  # figures need the whole window (issue 15)
            return no_update, {"name": name, "ok": False, "nonce": (wanted or {}).get("nonce")}
        started = time.perf_counter()
        built = build_figure(name, history, context().settings.timezone)
        return built, {"name": name, "ok": True, "from_ms": window.from_ms, "to_ms": window.to_ms,
                       "nonce": wanted.get("nonce"), "ms": round((time.perf_counter() - started) * 1000, 1)}

    answer.__name__ = f"answer_figure_{name}"
    return answer


def answer_figure_csv(*args) -> tuple:
    names = {csv: name for name, (_, csv, _) in ids.FIGURES.items()}
    name = names.get(ctx.triggered_id)
    return _audited_download(args[-1], name, lambda client, ui, history, actor: (figure_download(
        client, ui.keys, history, name, actor, site=ui.settings.site, tz=ui.settings.timezone,
        now_ms=clock.now_ms()), no_update))


def answer_export_window(ready) -> tuple:
    """The export form's hidden fields: the loaded window, or nothing while none is."""
    window = _window(ready)
    return (str(window.from_ms), str(window.to_ms)) if window else ("", "")


def answer_export(_geojson, _csv, _kml, ready) -> str:
    """The page's line while the form's GET streams the file (the route records the export, not this)."""
    fmt = {ids.EXPORT_GEOJSON: "geojson", ids.EXPORT_CSV: "csv", ids.EXPORT_KML: "kml"}.get(ctx.triggered_id)
    window = _window(ready)
    history = cache().history(window) if window and fmt else None
    if history is None:
        return "Load a window first"
    if not history.complete:
        return f"Exports: {NOT_LOADED_YET}"
    settings = context().settings
    name = export_filename(settings.site, history.bounds, settings.timezone, fmt)
    return f"{name}: downloading, your browser saves it as it arrives (recorded in the audit trail)"


def _audited_download(ready, chosen, make) -> tuple:
    """(download, message) for the loaded window: `make(client, ui, history, actor)` builds the file and
    records the export; no file leaves unless the audit trail took its entry."""
    window = _window(ready)
    history = cache().history(window) if window and chosen else None
    if history is None:
        return no_update, "Load a window first"
    if not history.complete:
        return no_update, f"Figures' files: {NOT_LOADED_YET}"
    ui = context()
    actor = acting()
    try:
        return ui.redis(lambda client: make(client, ui, history, actor))
    except PictureUnavailable as error:
        return no_update, f"Not exported (the audit trail must record it): {error}"


# ----------------------------------------------------------------------------- JSON API


def _query_window() -> Window | None:
    return _window({"from_ms": flask.request.args.get("from"), "to_ms": flask.request.args.get("to")})


def add_routes(server: flask.Flask) -> None:
    guard = view_guard("replay")

    def status():
        window = _query_window()
        found = cache().status(window) if window else None
        if found is None:
            return webauth.json_response({"state": "unknown", "error": "This window is not loaded: press Load"}, 404)
        return webauth.json_response(found.as_json())

    def summary():
        window = _query_window()
        history = cache().history(window) if window else None
        if history is None:
            return webauth.json_response({"error": "This window is not loaded: press Load"}, 404)
        ui = context()
        # The zones as stored during the window, not as they are now (domain/replay/zone_history.py). The whole
        # log, not only up to the window's end: a zone changed since must not stand for the window as it is
        # now. Zones first, log second: a change in between is then in the log, which wins over them.
        def stored_versions(client):
            current = load_zones(client, ui.keys)
            return versions_in_window(zone_log(client, ui.keys), current, window.from_ms, window.to_ms)

        try:
            versions, warning = ui.redis(stored_versions), ""
        except PictureUnavailable as error:
            versions, warning = [], f"zones not shown: {error}"
        return webauth.json_response({**window_summary(history, versions), "warning": warning,
                                      "loaded_until_ms": history.loaded_until_ms, "complete": history.complete})

    def frame():
        window = _query_window()
        history = cache().history(window) if window else None
        if history is None:
            return webauth.json_response({"error": "This window is not loaded: press Load"}, 404)
        try:
            instant = int(flask.request.args.get("t", ""))
        except ValueError:
            return webauth.json_response({"error": "t must be an instant in ms"}, 400)
        if not frame_ready(history, instant):  # never a picture the rest of the window could still change
            return webauth.json_response({"pending": True, "loaded_until_ms": history.loaded_until_ms,
                                          "t": instant}, 202)
        started = time.perf_counter()
        payload = frame_at(history, instant)
        payload["server_ms"] = round((time.perf_counter() - started) * 1000, 1)
        return webauth.json_response(payload)

    def track():
        window = _query_window()
        history = cache().history(window) if window else None
        if history is None:
            return webauth.json_response({"error": "This window is not loaded: press Load"}, 404)
        args = flask.request.args
        unit_id = args.get("id", "")
        try:
            instant = int(args.get("t", ""))
            if not 0 < len(unit_id) <= MAX_ID_CHARS:
                raise WindowRefused("id missing or too long")
            return webauth.json_response(track_of(history, args.get("kind", ""), unit_id, instant))
        except (ValueError, WindowRefused) as error:
            return webauth.json_response({"error": str(error) if isinstance(error, WindowRefused) else "t must be an instant in ms"},
                         400)

    def export():
        return _export_response()

    for path, view in ((P.API["status"], status), (P.API["window"], summary), (P.API["frame"], frame),
                       (P.API["track"], track)):
        server.add_url_rule(path, endpoint=f"replay_{view.__name__}", view_func=guard(view), methods=["GET"])
    server.add_url_rule(P.API["export"], endpoint="replay_export", view_func=view_guard("export")(export),
                        methods=["GET"])


# ----------------------------------------------------------------------------- streamed exports (issue 15)


def _export_response() -> flask.Response:
    """GET /api/replay/export?fmt=csv|geojson|kml&from=<ms>&to=<ms>: the loaded window's file, streamed.

    A GET like the other /api/replay routes (a form cannot send the CSRF header, and the browser only
    saves a response it navigated to as it arrives): the session cookie is SameSite=Strict, so no other
    site's page can make a browser ask for it signed in; the guard wants the "export" permission. Read
    from this worker's copy of the cached window (the host's cache file when another worker loaded it):
    a window not loaded, or whose start has left retention, is refused with a page a person can read.
    The `export` entry is written before the response starts: no entry, no file.
    """
    fmt = flask.request.args.get("fmt", "")
    if fmt not in EXPORT_FORMATS:
        return _export_refused(f"Unknown export format: expected {' or '.join(EXPORT_FORMATS)}", 400)
    window = _query_window()
    history = cache().history(window) if window else None
    if history is None:
        return _export_refused("This window is not loaded (or no longer): go back to the replay page and press "
                               "Load, then export again", 404)
    if not history.complete:
        return _export_refused(f"This window is still loading: exports are {NOT_LOADED_YET}. Go back to the "
                               "replay page, wait for it, then export again", 409)
    ui = context()
    now = clock.now_ms()
    if history.bounds[0] < now - ui.settings.retention_ms:
        return _export_refused("This window starts before the retention period: its recordings are no longer "
                               "kept and cannot be exported. Choose a more recent window", 410)
    actor = acting()
    try:
        streamed = ui.redis(lambda client: export_stream(client, ui.keys, history, fmt, actor,
                                                         site=ui.settings.site, tz=ui.settings.timezone, now_ms=now))
    except PictureUnavailable as error:
        return _export_refused(f"Not exported (the audit trail must record it): {error}", 503)
    response = flask.Response(streamed.body, mimetype=streamed.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{streamed.filename}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"  # nginx passes each piece on instead of holding the file
    return response


def _export_refused(message: str, status: int) -> flask.Response:
    """A refusal a person can read: the form navigated here, so a page with a way back; JSON for scripts."""
    if "text/html" not in flask.request.headers.get("Accept", ""):
        return webauth.json_response({"error": message}, status)
    body = webauth.html_page("export_refused", message=message, back=REPLAY)
    return flask.Response(body, status=status, mimetype="text/html")
