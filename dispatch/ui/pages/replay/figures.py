"""Shift figures for the replay page: the frames of domain/replay/metrics.py turned into plotly charts.

Pure: a DataFrame in, a `plotly.graph_objects.Figure` out; nothing is read
from Redis or the clock, so each chart is tested from a hand-built frame. The
page (logic.py) computes the frames once per window and offers each
one as CSV beside its chart; the chart's own modebar saves it as PNG in the
browser (no kaleido on the server).

Reading the charts from across a room on the wall screen's dark theme sets
the choices: large type, times in the site's local time (plotly.js has no
time zones, so instants are converted here to local wall-clock datetimes),
response times in minutes, and every status told by colour AND by a fill
pattern or marker shape, never by colour alone (the map's rule, layers.py).
The colours are the wall screen's (assets/style.css, Okabe-Ito based).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

# Statuses, in replay.STATUSES order: colour (style.css --c-*) and bar fill pattern.
STATUS_LOOKS = {
    "available": ("#1fbf8f", ""),
    "assigned": ("#f0a020", "/"),
    "en_route": ("#4aa8ff", "-"),
    "on_scene": ("#e07bc0", "x"),
    "unavailable": ("#8c96a0", "."),
    "no_data": ("#3a4654", "\\"),
}
STATUS_WORDS = {"available": "available", "assigned": "assigned", "en_route": "en route", "on_scene": "on scene",
                "unavailable": "unavailable", "no_data": "no report yet"}
# Response steps: colour and marker symbol. "cleared" is in the CSV; the charts stop at arrival.
STEP_LOOKS = {
    "assigned": ("#f0a020", "diamond", "patrol sent"),
    "acknowledged": ("#4aa8ff", "triangle-up", "acknowledged"),
    "on_scene": ("#e07bc0", "square", "on scene"),
}
CATEGORY_LOOKS = {
    "lookout": ("#e69f00", ""),
    "deal": ("#56b4e9", "/"),
    "vehicle": ("#009e73", "x"),
    "gathering": ("#f0e442", "."),
    "other": ("#cc79a7", "-"),
}
BACKGROUND = "#121922"
PLOT_BACKGROUND = "#0b0f14"
TEXT = "#e8edf2"
GRID = "#263241"
FONT_SIZE = 16
UTILISATION_PATROLS = 40  # bars beyond this would be too thin to read; the CSV has every patrol
DENSE_GRID_CELLS = 250_000  # above this a heat map matrix is too big to send: cells become markers


def local_times(ms: pd.Series | np.ndarray | list, tz: str) -> pd.Series:
    """Instants (ms since the epoch, UTC) as naive datetimes on the site's clock, as plotly.js shows them."""
    stamps = pd.to_datetime(pd.Series(ms, dtype="float64"), unit="ms", utc=True)
    return stamps.dt.tz_convert(tz).dt.tz_localize(None)


def empty_figure(message: str) -> go.Figure:
    """A chart with nothing to draw says why, in the chart, rather than showing empty axes."""
    figure = go.Figure()
    figure.add_annotation(text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
                          font={"size": FONT_SIZE + 2, "color": TEXT})
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    return _dark(figure, "")


def response_times_figure(times: pd.DataFrame, tz: str) -> go.Figure:
    """Per sighting (x: when it was tagged), minutes until a patrol was sent, acknowledged, on scene."""
    title = "Response per sighting"
    if times.empty:
        return empty_figure("No sighting was tagged in this window")
    when = local_times(times["ts"], tz)
    labels = [f"{str(sid)[:8]} · {category} · P{priority}"
              for sid, category, priority in zip(times["sighting_id"], times["category"].astype(str),
                                                 times["priority"])]
    figure = go.Figure()
    for step, (colour, symbol, word) in STEP_LOOKS.items():
        minutes = times[f"to_{step}_s"] / 60.0
        figure.add_trace(go.Scatter(
            x=when, y=minutes, name=word, mode="markers", text=labels,
            marker={"color": colour, "symbol": symbol, "size": 11, "line": {"width": 1, "color": "#000"}},
            hovertemplate="%{text}<br>%{x|%H:%M:%S}: " + word + " after %{y:.1f} min<extra></extra>",
        ))
    figure.update_xaxes(title_text="sighting tagged (local time)", tickformat="%H:%M")
    figure.update_yaxes(title_text="minutes after the sighting", rangemode="tozero")
    return _dark(figure, title)


def response_distribution_figure(times: pd.DataFrame, summary: pd.DataFrame) -> go.Figure:
    """One box per step (minutes), its median written above it: the shift's response in one look.

    `summary` is replay_metrics.response_summary(times) (no `by`): its medians
    label the boxes, so the chart and the CSV say the same number.
    """
    title = "Response times: distribution and median"
    if times.empty or summary.empty:
        return empty_figure("No sighting was tagged in this window")
    medians = summary.set_index("step")["median_s"]
    figure = go.Figure()
    for step, (colour, _, word) in STEP_LOOKS.items():
        minutes = (times[f"to_{step}_s"].dropna() / 60.0).to_numpy()
        median = medians.get(step, math.nan)
        label = f"{word}<br>({len(minutes)} of {len(times)})"
        figure.add_trace(go.Box(y=minutes, name=label, marker={"color": colour}, line={"color": colour},
                                boxpoints="outliers", hovertemplate="%{y:.1f} min<extra>" + word + "</extra>"))
        text = "never" if math.isnan(median) else f"median {median / 60:.1f} min"
        figure.add_annotation(x=label, y=1.0, yref="paper", yanchor="bottom", text=text, showarrow=False,
                              font={"size": FONT_SIZE, "color": colour})
    figure.update_yaxes(title_text="minutes after the sighting", rangemode="tozero")
    figure.update_layout(showlegend=False)
    return _dark(figure, title)


def sightings_per_category_figure(counts: pd.DataFrame, tz: str, bucket_s: float) -> go.Figure:
    """Stacked bars: sightings tagged per category in each time bucket (replay_metrics.sightings_per_category)."""
    title = f"Sightings per category, per {_duration(bucket_s)}"
    if counts.empty or int(counts["count"].sum()) == 0:
        return empty_figure("No sighting was tagged in this window")
    figure = go.Figure()
    for category, (colour, pattern) in CATEGORY_LOOKS.items():
        rows = counts[counts["category"].astype(str) == category]
        figure.add_trace(go.Bar(
            x=local_times(rows["bucket_start_ms"], tz), y=rows["count"].to_numpy(), name=category,
            marker={"color": colour, "pattern": {"shape": pattern, "fgcolor": "#000", "solidity": 0.25}},
            offsetgroup="all", hovertemplate="%{x|%H:%M}: %{y} " + category + "<extra></extra>",
        ))
    figure.update_layout(barmode="stack", bargap=0.1)
    figure.update_xaxes(title_text="time (local)", tickformat="%H:%M")
    figure.update_yaxes(title_text="sightings", rangemode="tozero")
    return _dark(figure, title)


def heatmap_figure(grid: pd.DataFrame, cell_m: float) -> go.Figure:
    """Where sightings were tagged: counts on the replay_metrics.heatmap grid, no map tiles needed.

    The grid lists only cells with sightings; the chart fills the rectangle
    they span (empty cells blank) so distances read true. A spread so wide the
    matrix would be huge falls back to one square marker per cell.
    """
    title = f"Where: sightings per {cell_m:g} m cell"
    if grid.empty:
        return empty_figure("No sighting was tagged in this window")
    rows = grid["row"].astype(np.int64).to_numpy()
    cols = grid["col"].astype(np.int64).to_numpy()
    height, width = int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)
    dlat = float((grid["lat_max"] - grid["lat_min"]).iloc[0])
    dlon = float((grid["lon_max"] - grid["lon_min"]).iloc[0])
    hover = "lat %{y:.4f}, lon %{x:.4f}: %{z} sightings<extra></extra>"
    # From zero, so that a cell with one sighting is already a visible blue on the dark background.
    colours = [[0.0, "#1d3b5c"], [0.3, "#4aa8ff"], [0.65, "#f0a020"], [1.0, "#ff5a1f"]]
    top = max(1, int(grid["count"].max()))
    figure = go.Figure()
    if height * width <= DENSE_GRID_CELLS:
        z = np.full((height, width), np.nan)
        z[rows - rows.min(), cols - cols.min()] = grid["count"].to_numpy()
        figure.add_trace(go.Heatmap(
            z=z, x=(cols.min() + np.arange(width) + 0.5) * dlon, y=(rows.min() + np.arange(height) + 0.5) * dlat,
            colorscale=colours, zmin=0, zmax=top, colorbar={"title": {"text": "sightings"}}, hoverongaps=False,
            hovertemplate=hover,
        ))
    else:
        figure.add_trace(go.Scatter(
            x=grid["lon_center"], y=grid["lat_center"], mode="markers", text=grid["count"],
            marker={"symbol": "square", "size": 9, "color": grid["count"], "colorscale": colours, "cmin": 0,
                    "cmax": top, "showscale": True},
            hovertemplate="lat %{y:.4f}, lon %{x:.4f}: %{text} sightings<extra></extra>",
        ))
    mid_lat = float(grid["lat_center"].mean())
    # Degrees of longitude are shorter than degrees of latitude: keep metres square on screen.
    figure.update_yaxes(title_text="latitude", scaleanchor="x", scaleratio=1 / max(math.cos(math.radians(mid_lat)),
                                                                                      1e-6))
    figure.update_xaxes(title_text="longitude")
    return _dark(figure, title)


def utilisation_figure(utilisation: pd.DataFrame, *, max_patrols: int = UTILISATION_PATROLS) -> go.Figure:
    """Stacked horizontal bars: share of the window each patrol spent in each status, busiest on top."""
    if utilisation.empty:
        return empty_figure("No patrol reported in this window")
    shown = utilisation.sort_values(["busy", "patrol_id"], ascending=[False, True]).head(max_patrols)
    total = len(utilisation)
    title = ("Patrol utilisation" if total <= max_patrols
             else f"Patrol utilisation: the {len(shown)} busiest of {total} (CSV: all)")
    patrols = shown["patrol_id"].astype(str).tolist()[::-1]  # plotly draws the first category at the bottom
    figure = go.Figure()
    for status, (colour, pattern) in STATUS_LOOKS.items():
        if status not in shown:
            continue
        share = (shown[status].to_numpy()[::-1] * 100.0)
        word = STATUS_WORDS[status]
        figure.add_trace(go.Bar(
            y=patrols, x=share, name=word, orientation="h",
            marker={"color": colour, "pattern": {"shape": pattern, "fgcolor": "#000", "solidity": 0.3}},
            hovertemplate="%{y}: %{x:.0f} % " + word + "<extra></extra>",
        ))
    figure.update_layout(barmode="stack", height=max(420, 26 * len(patrols) + 160))
    figure.update_xaxes(title_text="% of the window", range=[0, 100])
    figure.update_yaxes(type="category", automargin=True)
    return _dark(figure, title)


OUTCOME_COLOURS = {"dispatched": "#1fbf8f", "merged": "#4aa8ff", "ended_by_operator": "#b48cff", "expired": "#8c96a0"}
CLOSED_COLOUR = "#f0a020"


def outcomes_figure(outcomes: pd.DataFrame) -> go.Figure:
    """Horizontal bars, one per outcome (replay_metrics.outcomes), each labelled with its count: read as a
    table from across the room, every row shown even at zero so that an absent outcome is visible."""
    total = int(outcomes["count"].sum()) if len(outcomes) else 0
    if not total:
        return empty_figure("No sighting ended in this window")
    rows = outcomes.iloc[::-1]  # plotly draws the first category at the bottom
    colours = [OUTCOME_COLOURS.get(k, CLOSED_COLOUR) for k in rows["outcome"]]
    figure = go.Figure(go.Bar(
        y=rows["label"].tolist(), x=rows["count"].tolist(), orientation="h", name="sightings",
        text=[str(n) for n in rows["count"]], textposition="outside", cliponaxis=False,
        marker={"color": colours, "pattern": {"shape": ["" if k in OUTCOME_COLOURS else "/" for k in rows["outcome"]],
                                              "fgcolor": "#000", "solidity": 0.3}},
        hovertemplate="%{y}: %{x} sightings<extra></extra>",
    ))
    figure.update_layout(showlegend=False, height=max(420, 40 * len(rows) + 160))
    figure.update_xaxes(title_text="sightings", rangemode="tozero")
    figure.update_yaxes(type="category", automargin=True)
    return _dark(figure, f"Sightings by outcome: {total} ended")


def _duration(seconds: float) -> str:
    if seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


def _dark(figure: go.Figure, title: str) -> go.Figure:
    figure.update_layout(
        template="plotly_dark", paper_bgcolor=BACKGROUND, plot_bgcolor=PLOT_BACKGROUND,
        font={"size": FONT_SIZE, "color": TEXT, "family": "DejaVu Sans, Segoe UI, Roboto, Arial, sans-serif"},
        title={"text": title, "font": {"size": FONT_SIZE + 4}, "x": 0.01, "xanchor": "left"},
        margin={"l": 70, "r": 20, "t": 70, "b": 60},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1.0},
        hoverlabel={"font": {"size": FONT_SIZE}},
    )
    figure.update_xaxes(gridcolor=GRID, zerolinecolor=GRID)
    figure.update_yaxes(gridcolor=GRID, zerolinecolor=GRID)
    return figure
