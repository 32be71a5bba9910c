"""The after-action replay page ("/replay"): registration, Dash callbacks and the page's JSON API.

What goes where, and why:
- Dash callbacks carry the actions a person takes: open a window (recorded
  as `replay_opened`), cancel its load, jump to a typed time, the figures of
  a loaded window, and the downloads (each recorded as `export`).
- Three small GET routes carry what the browser asks for many times a
  second, where a Dash round trip (renderer queue, JSON of every input)
  would only add latency: the load's progress (`/api/replay/status`, polled
  every 250 ms), the window's events and zones once (`/api/replay/window`),
  and one frame per instant shown (`/api/replay/frame`); the page asks for at
  most one frame at a time and skips the instants it no longer needs. A
  unit's whole track is fetched when it is clicked (`/api/replay/track`).
- Windows are loaded off the request threads by the process's ReplayCache
  (dispatch/web/replay_cache.py), created on first use; every request of a
  window is then served from memory.

Sign-in: `callback_guard` and `view_guard` enforce the "replay" and "export"
permissions (dispatch/web/auth.py); `acting()` names the signed-in identity
for the audit trail.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

import dash
import flask
from dash import ClientsideFunction, Input, Output, State, ctx, no_update

from ... import clock
from ...web import auth as webauth
from ...web.replay_cache import DEFAULT_CAPACITY, DEFAULT_WORKERS, ReplayCache, Window, WindowUnavailable
from ...domain.replay.zone_history import versions_in_window
from ...store.zones import load_zones, zone_log
from .. import PictureUnavailable, context
from . import figures
from . import layout as P
from .handlers import (
    DEFAULT_MAX_WINDOW_HOURS, Actor, WindowRefused, build_figures, export_download, figure_download, frame_at,
    load_history, metric_frames, parse_instant, record_opened, resolve_window, track_of, window_summary,
)

CACHE_EXTENSION = "dispatch.replay"
MAX_WATCHER_CHARS = 64
MAX_ID_CHARS = 64  # longer than any valid unit id
_cache_lock = threading.Lock()


def register(app: dash.Dash) -> None:
    """Register the page, its callbacks and its routes on `app` (see dispatch/ui/__init__.py)."""
    dash.register_page(__name__, path="/replay", name="Replay", title="Replay · Patrol dispatch",
                       layout=P.layout, order=2)
    _add_routes(app.server)
    app.clientside_callback(ClientsideFunction("dispatchReplay", "start"),
                            Output(P.STARTED, "data"), Input(P.CONFIG, "data"))
    for handler, source in (("onOpened", P.OPEN_RESULT), ("onJump", P.JUMP_RESULT)):
        app.clientside_callback(ClientsideFunction("dispatchReplay", handler),
                                Output(P.CLIENT_SINK, "data", allow_duplicate=True), Input(source, "data"),
                                prevent_initial_call=True)
    guard = callback_guard("replay")
    app.callback(Output(P.OPEN_RESULT, "data"), Input(P.LOAD, "n_clicks"), State(P.CHOICE, "value"),
                 State(P.CUSTOM_FROM, "value"), State(P.CUSTOM_TO, "value"), State(P.WATCHER, "data"),
                 State(P.OPEN_RESULT, "data"), prevent_initial_call=True)(guard(answer_open))
    app.callback(Output(P.CANCEL_RESULT, "data"), Input(P.CANCEL, "n_clicks"), State(P.OPEN_RESULT, "data"),
                 State(P.WATCHER, "data"), prevent_initial_call=True)(guard(answer_cancel))
    app.callback(Output(P.JUMP_RESULT, "data"), Input(P.JUMP, "n_submit"), State(P.JUMP, "value"),
                 State(P.READY, "data"), prevent_initial_call=True)(guard(answer_jump))
    app.callback([Output(graph, "figure") for graph, _, _ in P.FIGURES.values()]
                 + [Output(P.FIGURES_NOTE, "children"), Output(P.EXPORT_GEOJSON, "disabled"),
                    Output(P.EXPORT_CSV, "disabled"), Output(P.EXPORT_KML, "disabled")],
                 Input(P.READY, "data"), prevent_initial_call=True)(guard(answer_figures))
    export_guard = callback_guard("export")
    app.callback(Output(P.FIGURE_DOWNLOAD, "data"), Output(P.FIGURES_NOTE, "children", allow_duplicate=True),
                 [Input(csv, "n_clicks") for _, csv, _ in P.FIGURES.values()], State(P.READY, "data"),
                 prevent_initial_call=True)(export_guard(answer_figure_csv))
    app.callback(Output(P.EXPORT_DOWNLOAD, "data"), Output(P.EXPORT_MESSAGE, "children"),
                 Input(P.EXPORT_GEOJSON, "n_clicks"), Input(P.EXPORT_CSV, "n_clicks"),
                 Input(P.EXPORT_KML, "n_clicks"), State(P.READY, "data"),
                 running=[(Output(P.EXPORT_GEOJSON, "disabled"), True, False),
                          (Output(P.EXPORT_CSV, "disabled"), True, False),
                          (Output(P.EXPORT_KML, "disabled"), True, False),
                          (Output(P.EXPORT_BUSY, "className"), "busy is-on", "busy")],
                 prevent_initial_call=True)(export_guard(answer_export))


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
    """This process's replay cache, created on first use (never at import: it owns threads)."""
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

            # Optional settings (not in settings.py yet): how many windows stay loaded, how many load at once.
            found = app.extensions[CACHE_EXTENSION] = ReplayCache(
                loader, capacity=DEFAULT_CAPACITY, workers=DEFAULT_WORKERS)
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
    if ready is None:  # the page is loading another window: its figures would be the old one's
        blank = figures.empty_figure("Load a window to see its figures")
        return [blank] * len(P.FIGURES) + ["", True, True, True]
    window = _window(ready)
    history = cache().history(window) if window else None
    if history is None:
        return [no_update] * len(P.FIGURES) + ["The window is no longer loaded: press Load again", True, True, True]
    started = time.perf_counter()
    built = build_figures(metric_frames(history), history.bounds, context().settings.timezone)
    note = f"computed in {time.perf_counter() - started:.1f} s"
    return [built[name] for name in P.FIGURES] + [note, False, False, False]


def answer_figure_csv(*args) -> tuple:
    ready = args[-1]
    names = {csv: name for name, (_, csv, _) in P.FIGURES.items()}
    name = names.get(ctx.triggered_id)
    window = _window(ready)
    history = cache().history(window) if window and name else None
    if history is None:
        return no_update, "Load a window first"
    ui = context()
    actor = acting()
    try:
        download = ui.redis(lambda client: figure_download(client, ui.keys, history, name, actor,
                                                           site=ui.settings.site, tz=ui.settings.timezone,
                                                           now_ms=clock.now_ms()))
    except PictureUnavailable as error:
        return no_update, f"Not exported (the audit trail must record it): {error}"
    return download, no_update


def answer_export(_geojson, _csv, _kml, ready) -> tuple:
    fmt = {P.EXPORT_GEOJSON: "geojson", P.EXPORT_CSV: "csv", P.EXPORT_KML: "kml"}.get(ctx.triggered_id)
    window = _window(ready)
    history = cache().history(window) if window and fmt else None
    if history is None:
        return no_update, "Load a window first"
    ui = context()
    actor = acting()
    try:
        download, message = ui.redis(lambda client: export_download(
            client, ui.keys, history, fmt, actor, site=ui.settings.site, tz=ui.settings.timezone,
            now_ms=clock.now_ms()))
    except PictureUnavailable as error:
        return no_update, f"Not exported (the audit trail must record it): {error}"
    return download, message


# ----------------------------------------------------------------------------- JSON API


def _query_window() -> Window | None:
    return _window({"from_ms": flask.request.args.get("from"), "to_ms": flask.request.args.get("to")})


def _add_routes(server: flask.Flask) -> None:
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
        return webauth.json_response({**window_summary(history, versions), "warning": warning})

    def frame():
        window = _query_window()
        history = cache().history(window) if window else None
        if history is None:
            return webauth.json_response({"error": "This window is not loaded: press Load"}, 404)
        try:
            instant = int(flask.request.args.get("t", ""))
        except ValueError:
            return webauth.json_response({"error": "t must be an instant in ms"}, 400)
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

    for path, view in ((P.API["status"], status), (P.API["window"], summary), (P.API["frame"], frame),
                       (P.API["track"], track)):
        server.add_url_rule(path, endpoint=f"replay_{view.__name__}", view_func=guard(view), methods=["GET"])
