"""Shift figures from hand-built metric frames: the right traces, values, local times and fallbacks."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from dispatch.domain.replay.metrics import response_summary
from dispatch.domain.replay.history import STATUSES
from dispatch.ui.pages.replay import figures as F

T0 = 1_767_225_600_000  # 2026-01-01 00:00 UTC = 01:00 in Paris (winter, UTC+1)
MIN = 60_000
TZ = "Europe/Paris"


def local(values) -> list[str]:
    """Plotly stores datetimes as ISO text; the wall-clock time is what the chart shows."""
    return [str(pd.Timestamp(value)) for value in values]


def times_frame() -> pd.DataFrame:
    """Three sightings: served (30 s / 45 s / 5 min), reassigned (1 / 3 / 9 min), never served."""
    nan = math.nan
    return pd.DataFrame({
        "sighting_id": ["sight-0001", "sight-0002", "sight-0003"],
        "ts": [T0, T0 + MIN, T0 + 20 * MIN],
        "category": pd.Categorical(["deal", "vehicle", "deal"],
                                   categories=["lookout", "deal", "vehicle", "gathering", "other"]),
        "priority": [1, 2, 3],
        "to_assigned_s": [30.0, 60.0, nan],
        "to_acknowledged_s": [45.0, 180.0, nan],
        "to_on_scene_s": [300.0, 540.0, nan],
        "to_cleared_s": [900.0, nan, nan],
    })


def test_local_times_follow_the_site_clock_across_daylight_saving():
    summer = 1_782_864_000_000  # 2026-07-01 00:00 UTC
    local = F.local_times([T0, summer], TZ)
    assert [str(t) for t in local] == ["2026-01-01 01:00:00", "2026-07-01 02:00:00"]
    assert local.dt.tz is None, "plotly.js has no time zones: naive wall-clock times"


def test_response_times_per_sighting_one_trace_per_step_in_minutes():
    figure = F.response_times_figure(times_frame(), TZ)
    assert [trace.name for trace in figure.data] == ["patrol sent", "acknowledged", "on scene"]
    sent, acknowledged, on_scene = figure.data
    assert list(sent.y[:2]) == [0.5, 1.0] and math.isnan(sent.y[2])
    assert list(on_scene.y[:2]) == [5.0, 9.0]
    assert local(sent.x) == ["2026-01-01 01:00:00", "2026-01-01 01:01:00", "2026-01-01 01:20:00"]
    symbols = {trace.marker.symbol for trace in figure.data}
    colours = {trace.marker.color for trace in figure.data}
    assert len(symbols) == 3 and len(colours) == 3, "each step by shape AND colour"
    assert sent.text[0].startswith("sight-00") and "deal" in sent.text[0] and "P1" in sent.text[0]
    assert figure.layout.paper_bgcolor == F.BACKGROUND


def test_distribution_boxes_labelled_with_the_summary_medians():
    times = times_frame()
    figure = F.response_distribution_figure(times, response_summary(times))
    assert [trace.type for trace in figure.data] == ["box"] * 3
    assigned = figure.data[0]
    assert sorted(assigned.y) == [0.5, 1.0], "the sighting never served has no point"
    assert assigned.name.startswith("patrol sent") and "(2 of 3)" in assigned.name
    notes = [annotation.text for annotation in figure.layout.annotations]
    assert notes == ["median 0.8 min", "median 1.9 min", "median 7.0 min"]


def test_distribution_says_never_for_a_step_nobody_reached():
    times = times_frame().assign(to_on_scene_s=math.nan)
    figure = F.response_distribution_figure(times, response_summary(times))
    assert figure.layout.annotations[2].text == "never"
    assert len(figure.data[2].y) == 0


def test_sightings_per_category_stacked_bars_in_local_time():
    buckets = [T0, T0 + 15 * MIN]
    categories = ["lookout", "deal", "vehicle", "gathering", "other"]
    counts = pd.DataFrame({
        "bucket_start_ms": np.repeat(buckets, 5),
        "category": pd.Categorical(categories * 2, categories=categories),
        "count": [0, 2, 1, 0, 0, 1, 0, 0, 0, 3],
    })
    figure = F.sightings_per_category_figure(counts, TZ, 900)
    assert [trace.name for trace in figure.data] == categories
    assert figure.layout.barmode == "stack"
    deal = figure.data[1]
    assert list(deal.y) == [2, 0] and local(deal.x) == ["2026-01-01 01:00:00", "2026-01-01 01:15:00"]
    assert list(figure.data[4].y) == [0, 3]
    assert "15 min" in figure.layout.title.text
    assert len({trace.marker.pattern.shape for trace in figure.data}) == 5, "categories by pattern too"


def heat_grid(cells: list[tuple[int, int, int]], cell_deg: float = 0.0025) -> pd.DataFrame:
    rows = pd.DataFrame(cells, columns=["row", "col", "count"])
    rows["lat_min"], rows["lat_max"] = rows["row"] * cell_deg, (rows["row"] + 1) * cell_deg
    rows["lon_min"], rows["lon_max"] = rows["col"] * cell_deg, (rows["col"] + 1) * cell_deg
    rows["lat_center"] = (rows["lat_min"] + rows["lat_max"]) / 2
    rows["lon_center"] = (rows["lon_min"] + rows["lon_max"]) / 2
    rows["urgent"] = 0
    return rows


def test_heatmap_fills_the_spanned_rectangle_with_gaps_blank():
    grid = heat_grid([(19244, -672, 3), (19246, -670, 1)])
    figure = F.heatmap_figure(grid, 250)
    (trace,) = figure.data
    assert trace.type == "heatmap"
    z = np.array(trace.z, dtype=float)
    assert z.shape == (3, 3)
    assert z[0, 0] == 3 and z[2, 2] == 1
    assert np.isnan(z).sum() == 7, "cells without sightings stay blank, not zero"
    assert trace.y[0] == pytest.approx(19244.5 * 0.0025) and trace.x[2] == pytest.approx(-669.5 * 0.0025)
    assert figure.layout.yaxis.scaleanchor == "x", "metres stay square"


def test_heatmap_too_spread_for_a_matrix_falls_back_to_square_markers():
    grid = heat_grid([(0, 0, 2), (1000, 1000, 5)])
    (trace,) = F.heatmap_figure(grid, 250).data
    assert trace.type == "scatter" and trace.marker.symbol == "square"
    assert list(trace.text) == [2, 5]


def utilisation_frame(patrols: int) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    shares = rng.dirichlet(np.ones(len(STATUSES)), patrols)
    frame = pd.DataFrame(shares, columns=STATUSES)
    frame.insert(0, "patrol_id", [f"BAC-{n}" for n in range(patrols)])
    frame["busy"] = frame[["assigned", "en_route", "on_scene"]].sum(axis=1)
    frame["busy_s"] = frame["busy"] * 3600
    return frame


def test_utilisation_stacked_percentages_busiest_on_top():
    frame = utilisation_frame(5)
    figure = F.utilisation_figure(frame)
    assert [trace.name for trace in figure.data] == [F.STATUS_WORDS[s] for s in STATUSES]
    assert figure.layout.barmode == "stack" and figure.data[0].orientation == "h"
    busiest = frame.sort_values("busy", ascending=False)["patrol_id"].tolist()
    assert list(figure.data[0].y) == busiest[::-1], "plotly draws the first row at the bottom"
    totals = sum(np.array(trace.x) for trace in figure.data)
    assert totals == pytest.approx(np.full(5, 100.0))
    assert len({trace.marker.pattern.shape for trace in figure.data}) == len(STATUSES), "status by pattern too"
    assert figure.layout.title.text == "Patrol utilisation"


def test_utilisation_of_a_big_fleet_shows_the_busiest_and_says_so():
    frame = utilisation_frame(500)
    figure = F.utilisation_figure(frame, max_patrols=40)
    assert len(figure.data[0].y) == 40
    assert "40 busiest of 500" in figure.layout.title.text
    shown = set(figure.data[0].y)
    threshold = frame["busy"].nlargest(40).min()
    assert shown == set(frame.loc[frame["busy"] >= threshold, "patrol_id"])


@pytest.mark.parametrize("build", [
    lambda: F.response_times_figure(times_frame().iloc[0:0], TZ),
    lambda: F.response_distribution_figure(times_frame().iloc[0:0], response_summary(times_frame().iloc[0:0])),
    lambda: F.sightings_per_category_figure(pd.DataFrame({"bucket_start_ms": [T0], "category": ["deal"],
                                                          "count": [0]}), TZ, 900),
    lambda: F.heatmap_figure(heat_grid([]), 250),
    lambda: F.utilisation_figure(utilisation_frame(0)),
])
def test_nothing_to_draw_says_why_in_the_chart(build):
    figure = build()
    assert not figure.data
    (note,) = figure.layout.annotations
    assert note.text.startswith("No ")
