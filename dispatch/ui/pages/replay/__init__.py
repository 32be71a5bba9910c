"""The after-action replay page ("/replay"): registration of the page, its callbacks and its JSON API.

What goes where: layout.py what the page shows, ids.py its component ids, handlers.py the
callbacks and routes, logic.py the plain functions behind them, figures.py the charts. And why:
- Dash callbacks carry the actions a person takes: open a window (recorded
  as `replay_opened`), cancel its load, jump to a typed time, the figures of
  a loaded window, and the figures' CSV downloads (each recorded as `export`).
- The window's exports (GeoJSON, CSV, KML) stream from `/api/replay/export`, a GET the page's export form
  submits: written as read, recorded as `export` before the first byte (issue 15).
- Three small GET routes carry what the browser asks for many times a
  second, where a Dash round trip (renderer queue, JSON of every input)
  would only add latency: the load's progress (`/api/replay/status`, polled
  every 250 ms), the window's events and zones once (`/api/replay/window`),
  and one frame per instant shown (`/api/replay/frame`); the page asks for at
  most one frame at a time and skips the instants it no longer needs. A
  unit's whole track is fetched when it is clicked (`/api/replay/track`).
- Windows are loaded off the request threads by the host's ReplayCache
  (dispatch/web/replay_cache.py: files under DISPATCH_DATA_DIR shared by every
  gunicorn worker, so a page's requests may land on any worker); every request
  of a window is then served from memory, after one unpickling per worker.

Sign-in: `callback_guard` and `view_guard` enforce the "replay" and "export"
permissions (dispatch/web/auth.py); `acting()` names the signed-in identity
for the audit trail.
"""

from __future__ import annotations

import dash
from dash import ClientsideFunction, Input, Output, State

from ....domain.auth import page_permission
from ....domain.pages import REPLAY
from . import ids
from .handlers import (
    add_routes, answer_cancel, answer_export, answer_export_window, answer_figure, answer_figure_csv, answer_figures, answer_jump, answer_open,
    callback_guard,
)
from . import layout


def register(app: dash.Dash) -> None:
    """Register the page, its callbacks and its routes on `app` (see dispatch/ui/__init__.py)."""
    dash.register_page(__name__, path=REPLAY, name="Replay", title="Replay · Patrol dispatch",
                       layout=layout.layout, order=2)
    add_routes(app.server)
    app.clientside_callback(ClientsideFunction("dispatchReplay", "start"),
                            Output(ids.STARTED, "data"), Input(ids.CONFIG, "data"))
    for handler, source in (("onOpened", ids.OPEN_RESULT), ("onJump", ids.JUMP_RESULT)):
        app.clientside_callback(ClientsideFunction("dispatchReplay", handler),
                                Output(ids.CLIENT_SINK, "data", allow_duplicate=True), Input(source, "data"),
                                prevent_initial_call=True)
    guard = callback_guard(page_permission(REPLAY))
    app.callback(Output(ids.OPEN_RESULT, "data"), Input(ids.LOAD, "n_clicks"), State(ids.CHOICE, "value"),
                 State(ids.CUSTOM_FROM, "value"), State(ids.CUSTOM_TO, "value"), State(ids.WATCHER, "data"),
                 State(ids.OPEN_RESULT, "data"), prevent_initial_call=True)(guard(answer_open))
    app.callback(Output(ids.CANCEL_RESULT, "data"), Input(ids.CANCEL, "n_clicks"), State(ids.OPEN_RESULT, "data"),
                 State(ids.WATCHER, "data"), prevent_initial_call=True)(guard(answer_cancel))
    app.callback(Output(ids.JUMP_RESULT, "data"), Input(ids.JUMP, "n_submit"), State(ids.JUMP, "value"),
                 State(ids.READY, "data"), prevent_initial_call=True)(guard(answer_jump))
    app.callback([Output(ids.FIGURES_NOTE, "children"), Output(ids.EXPORT_GEOJSON, "disabled"),
                    Output(ids.EXPORT_CSV, "disabled"), Output(ids.EXPORT_KML, "disabled")],
                 Input(ids.READY, "data"), prevent_initial_call=True)(guard(answer_figures))
    # Issue 15 (figures): the page asks for each chart as it comes into view, one at a time (figures.js).
    app.clientside_callback(ClientsideFunction("dispatchReplay", "onReadyFigures"),
                            Output(ids.CLIENT_SINK, "data", allow_duplicate=True), Input(ids.READY, "data"),
                            prevent_initial_call=True)
    app.clientside_callback(ClientsideFunction("dispatchReplay", "onFigureDone"),
                            Output(ids.CLIENT_SINK, "data", allow_duplicate=True), Input(ids.FIGURE_DONE, "data"),
                            prevent_initial_call=True)
    for name, (graph, _, _) in ids.FIGURES.items():
        app.callback(Output(graph, "figure"), Output(ids.FIGURE_DONE, "data", allow_duplicate=True),
                     Input(ids.FIGURE_WANTED[name], "data"), prevent_initial_call=True)(guard(answer_figure(name)))
    export_guard = callback_guard("export")
    app.callback(Output(ids.FIGURE_DOWNLOAD, "data"), Output(ids.FIGURES_NOTE, "children", allow_duplicate=True),
                 [Input(csv, "n_clicks") for _, csv, _ in ids.FIGURES.values()], State(ids.READY, "data"),
                 prevent_initial_call=True)(export_guard(answer_figure_csv))
    # Issue 15 (exports): the file itself comes from /api/replay/export (the form's GET); these only fill the
    # form's window and say on the page what is being downloaded.
    app.callback(Output(ids.EXPORT_FROM, "value"), Output(ids.EXPORT_TO, "value"), Input(ids.READY, "data"),
                 prevent_initial_call=True)(guard(answer_export_window))
    app.callback(Output(ids.EXPORT_MESSAGE, "children"),
                 Input(ids.EXPORT_GEOJSON, "n_clicks"), Input(ids.EXPORT_CSV, "n_clicks"),
                 Input(ids.EXPORT_KML, "n_clicks"), State(ids.READY, "data"),
                 prevent_initial_call=True)(export_guard(answer_export))
