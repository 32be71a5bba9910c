"""Shift figures: response times, distributions, sightings over time and space, patrol utilisation."""

from __future__ import annotations

import io
import math

import pandas as pd
import pytest

from dispatch.domain.geo import haversine_m
from dispatch.domain.replay.history import STATUSES, History
from dispatch.domain.replay.metrics import (
    figure_csv, heatmap, response_summary, response_times, sightings_per_category, utilisation,
)
from tests.domain.replay.test_history import T0, event, lifecycle, patrol, sighting

MIN = 60_000


@pytest.fixture
def shift() -> History:
    """Three sightings: one served normally, one cancelled then served by another patrol, one never served."""
    served = lifecycle("asg-000001", T0 + 30_000, steps={"assigned": 0, "acknowledged": 15_000, "en_route": 30_000,
                                                          "on_scene": 270_000, "cleared": 870_000})
    reassigned = [
        event("asg-000002", "assigned", T0 + 2 * MIN, sighting_id="sight-0002", patrol_id="BAC-2"),
        event("asg-000002", "cancelled", T0 + 3 * MIN, sighting_id="sight-0002", patrol_id="BAC-2",
              event_name="cancelled", replaced_by="asg-000003", assigned_ts=T0 + 2 * MIN),
        event("asg-000003", "assigned", T0 + 3 * MIN, sighting_id="sight-0002", patrol_id="BAC-3"),
        event("asg-000003", "en_route", T0 + 4 * MIN, sighting_id="sight-0002", patrol_id="BAC-3"),
        event("asg-000003", "on_scene", T0 + 10 * MIN, sighting_id="sight-0002", patrol_id="BAC-3"),
    ]
    messages = [patrol("BAC-1", T0), patrol("BAC-2", T0), patrol("BAC-3", T0 + 30 * MIN // 2),
                sighting("sight-0001", T0, category="deal", priority=1),
                sighting("sight-0002", T0 + MIN, category="vehicle", priority=2, lat=48.1051, lon=-1.6751),
                sighting("sight-0003", T0 + 20 * MIN, category="deal", priority=3, lat=48.2, lon=-1.5)]
    return History.from_messages(messages, served + reassigned, bounds=(T0, T0 + 30 * MIN))


def test_response_times_per_sighting(shift):
    times = response_times(shift).set_index("sighting_id")
    first = times.loc["sight-0001"]
    assert (first["to_assigned_s"], first["to_acknowledged_s"], first["to_on_scene_s"], first["to_cleared_s"]) == (
        30.0, 45.0, 300.0, 900.0)
    assert (first["assignments"], first["cancelled"], first["outcome"]) == (1, 0, "dispersed")
    second = times.loc["sight-0002"]
    assert second["to_assigned_s"] == 60.0, "the first patrol sent counts"
    assert second["to_acknowledged_s"] == 180.0, "driving off without tapping acknowledges"
    assert second["to_on_scene_s"] == 540.0 and math.isnan(second["to_cleared_s"])
    assert (second["assignments"], second["cancelled"], second["outcome"]) == (2, 1, None)
    never = times.loc["sight-0003"]
    assert all(math.isnan(never[f"to_{step}_s"]) for step in ("assigned", "acknowledged", "on_scene", "cleared"))
    assert never["assignments"] == 0
    assert list(times.index) == ["sight-0001", "sight-0002", "sight-0003"]


def test_steps_after_the_window_did_not_happen_in_it(shift):
    short = History.from_messages([], shift.assignments.to_dict("records"), bounds=(T0, T0 + 10 * MIN))
    assert response_times(short).empty, "no sighting was tagged in it"
    cut = History(shift.telemetry, shift.patrol_reports, shift.sightings, shift.assignments, shift.alerts,
                  bounds=(T0, T0 + 5 * MIN))
    first = response_times(cut).set_index("sighting_id").loc["sight-0001"]
    assert first["to_on_scene_s"] == 300.0 and math.isnan(first["to_cleared_s"])


def test_response_summary_gives_medians_and_p90(shift):
    summary = response_summary(response_times(shift)).set_index("step")
    assert summary.loc["assigned", "sightings"] == 3 and summary.loc["assigned", "happened"] == 2
    assert summary.loc["assigned", "median_s"] == 45.0
    assert summary.loc["assigned", "p90_s"] == pytest.approx(57.0)
    assert summary.loc["cleared", "happened"] == 1 and summary.loc["cleared", "max_s"] == 900.0
    by_priority = response_summary(response_times(shift), by="priority")
    row = by_priority[(by_priority["step"] == "assigned") & (by_priority["priority"] == 3)].iloc[0]
    assert row["happened"] == 0 and math.isnan(row["median_s"])


def test_sightings_per_category_fills_every_bucket(shift):
    counts = sightings_per_category(shift, bucket_s=600)
    assert list(counts.columns) == ["bucket_start_ms", "category", "count"]
    assert len(counts) == 3 * 5, "buckets 0-10, 10-20, 20-30 min, five categories"
    table = counts.pivot(index="bucket_start_ms", columns="category", values="count")
    assert table.loc[T0, "deal"] == 1 and table.loc[T0, "vehicle"] == 1
    assert table.loc[T0 + 20 * MIN, "deal"] == 1
    assert counts["count"].sum() == 3


def test_heatmap_counts_on_a_grid_of_the_asked_size(shift):
    grid = heatmap(shift, cell_m=500)
    assert grid["count"].sum() == 3
    assert sorted(grid["count"].tolist()) == [1, 2], "the two close sightings share a cell"
    cell = grid.iloc[0]
    height = haversine_m(cell["lat_min"], cell["lon_min"], cell["lat_max"], cell["lon_min"])
    width = haversine_m(cell["lat_min"], cell["lon_min"], cell["lat_min"], cell["lon_max"])
    assert height == pytest.approx(500, rel=0.01) and width == pytest.approx(500, rel=0.02)
    assert grid["urgent"].sum() == 1
    assert heatmap(History.from_messages([], bounds=(T0, T0 + 1))).empty


def test_utilisation_shares_the_window_between_statuses(shift):
    table = utilisation(shift).set_index("patrol_id")
    assert list(table.columns) == [*STATUSES, "busy", "busy_s"]
    assert table[STATUSES].sum(axis=1).tolist() == pytest.approx([1.0, 1.0, 1.0])
    first = table.loc["BAC-1"]  # assigned 0:30-1:00, en route to 5:00, on scene to 15:00, then available
    assert first["assigned"] == pytest.approx(30 / 1800)
    assert first["en_route"] == pytest.approx(240 / 1800)
    assert first["on_scene"] == pytest.approx(600 / 1800)
    assert first["available"] == pytest.approx((30 + 900) / 1800)
    assert first["busy_s"] == pytest.approx(870.0)
    third = table.loc["BAC-3"]  # first report at 15:00; assigned 3:00, en route 4:00, on scene from 10:00
    assert third["no_data"] == pytest.approx(180 / 1800)
    assert third["assigned"] == pytest.approx(60 / 1800), "an open assignment gives its status before any report"
    assert third["on_scene"] == pytest.approx(20 * 60 / 1800)
    second = table.loc["BAC-2"]  # assigned 2:00-3:00, then the cancellation frees it
    assert (second["assigned"], second["available"]) == (pytest.approx(60 / 1800), pytest.approx(1740 / 1800))


def test_figures_export_as_csv(shift):
    for frame in (response_times(shift), sightings_per_category(shift), heatmap(shift), utilisation(shift)):
        text = figure_csv(frame)
        back = pd.read_csv(io.StringIO(text))
        assert list(back.columns) == [str(c) for c in frame.columns] and len(back) == len(frame)
