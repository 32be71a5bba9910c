"""Snapshot -> map layers. Units are built from the real message models, so a renamed
field in the contract breaks these tests rather than silently emptying the map."""

from __future__ import annotations

import math

import orjson
import pytest

from dispatch.domain.models import PatrolReport, Sighting, Telemetry
from dispatch.ui import layers as L

NOW = 1_760_000_000_000


def drone(drone_id="DR-07", *, ts=NOW, lat=48.11, lon=-1.68, heading=90.0, battery=80.0) -> dict:
    return Telemetry(
        drone_id=drone_id, ts=ts, lat=lat, lon=lon, alt_m=120.0,
        heading_deg=heading, speed_mps=12.34, battery_pct=battery,
    ).model_dump(mode="json")


def patrol(patrol_id="BAC-12", *, status="available", ts=NOW, lat=48.10, lon=-1.67) -> dict:
    return PatrolReport(patrol_id=patrol_id, ts=ts, lat=lat, lon=lon, status=status).model_dump(mode="json")


def sighting(sighting_id="sight-0001", *, priority=2, note="", ts=NOW) -> dict:
    return Sighting(
        sighting_id=sighting_id, ts=ts, drone_id="DR-07", operator_id="OP-3",
        category="deal", lat=48.112, lon=-1.681, priority=priority, note=note,
    ).model_dump(mode="json")


def snapshot(drones=(), patrols=(), sightings=()) -> dict:
    return {"site": "rennes", "live_id": "0-0", "drones": list(drones),
            "patrols": list(patrols), "sightings": list(sightings)}


def only(collection: dict) -> dict:
    assert collection["type"] == "FeatureCollection"
    assert len(collection["features"]) == 1
    return collection["features"][0]


def test_drone_feature_is_a_geojson_point_in_lon_lat_order():
    feature = only(L.drone_features([drone(lat=48.1234567, lon=-1.6789012)], NOW))
    assert feature["type"] == "Feature"
    assert feature["geometry"] == {"type": "Point", "coordinates": [-1.678901, 48.123457]}


def test_drone_properties_carry_what_the_renderer_draws():
    props = only(L.drone_features([drone(heading=271.6, battery=54.5)], NOW))["properties"]
    assert props == {
        "id": "DR-07", "kind": "drone", "status": "ok", "heading": 272,
        "battery": 54, "speed": 12.3, "alt": 120, "ts": NOW,
    }


def test_heading_rounding_up_to_360_wraps_to_north():
    assert only(L.drone_features([drone(heading=359.7)], NOW))["properties"]["heading"] == 0


@pytest.mark.parametrize(
    "age_ms, battery, expected",
    [
        (0, 80.0, "ok"),
        (L.DRONE_LOST_AFTER_MS, 80.0, "ok"),  # exactly at the limit: still heard
        (L.DRONE_LOST_AFTER_MS + 1, 80.0, "lost"),
        (0, L.LOW_BATTERY_PCT, "ok"),
        (0, L.LOW_BATTERY_PCT - 0.5, "low_battery"),
        (60_000, 5.0, "lost"),  # lost beats low battery: the figure is stale
        (-2_000, 80.0, "ok"),  # a sender clock slightly ahead is not "lost"
    ],
)
def test_drone_status(age_ms, battery, expected):
    assert L.drone_status(drone(ts=NOW - age_ms, battery=battery), NOW) == expected


@pytest.mark.parametrize("status", ["available", "assigned", "en_route", "on_scene", "unavailable"])
def test_patrol_status_reaches_the_renderer_unchanged(status):
    props = only(L.patrol_features([patrol(status=status)]))["properties"]
    assert props == {"id": "BAC-12", "kind": "patrol", "status": status, "ts": NOW}


def test_sighting_carries_category_and_priority_but_never_the_note():
    unit = sighting(priority=1, note='<img src=x onerror="alert(1)"> suspect near the bar')
    layer = L.sighting_features([unit])
    props = only(layer)["properties"]
    assert props == {
        "id": "sight-0001", "kind": "sighting", "category": "deal", "priority": 1,
        "drone_id": "DR-07", "ts": NOW,
    }
    assert b"onerror" not in orjson.dumps(layer)
    assert b"suspect" not in orjson.dumps(layer)


@pytest.mark.parametrize(
    "lat, lon",
    [(None, -1.68), (48.1, None), (math.nan, -1.68), (48.1, math.inf), (91.0, -1.68), (48.1, 181.0),
     (True, -1.68), ("48.1", "-1.68")],
)
def test_unit_without_a_usable_position_is_left_off_the_map(lat, lon):
    bad = {**drone(), "lat": lat, "lon": lon}
    collection = L.drone_features([bad, drone("DR-08")], NOW)
    assert [f["properties"]["id"] for f in collection["features"]] == ["DR-08"]


def test_layers_returns_one_collection_per_kind():
    built = L.layers(snapshot([drone()], [patrol(), patrol("PS-3")], [sighting()]), NOW)
    assert set(built) == {"drones", "patrols", "sightings"}
    assert [len(built[k]["features"]) for k in ("drones", "patrols", "sightings")] == [1, 2, 1]
    orjson.dumps(built)  # goes to the browser as JSON


def test_empty_snapshot_gives_empty_layers_and_zero_counts():
    empty = snapshot()
    built = L.layers(empty, NOW)
    assert all(collection["features"] == [] for collection in built.values())
    assert set(L.counts(empty, NOW).values()) == {0}
    assert L.latest_ts(empty) is None


def test_counts():
    snap = snapshot(
        drones=[drone("DR-1"), drone("DR-2", ts=NOW - 60_000)],
        patrols=[patrol("A-1"), patrol("A-2", status="assigned"), patrol("A-3")],
        sightings=[sighting("sight-0001", priority=1), sighting("sight-0002", priority=3)],
    )
    assert L.counts(snap, NOW) == {
        "drones": 2, "drones_lost": 1,
        "patrols": 3, "patrols_available": 2,
        "sightings": 2, "sightings_urgent": 1,
    }


def test_latest_ts_is_the_newest_message_of_any_kind():
    snap = snapshot([drone(ts=NOW - 5_000)], [patrol(ts=NOW - 100)], [sighting(ts=NOW - 9_000)])
    assert L.latest_ts(snap) == NOW - 100


def test_fingerprint_follows_content_not_key_order():
    one = L.patrol_features([patrol()])
    reordered = {"features": one["features"], "type": "FeatureCollection"}
    assert L.fingerprint(one) == L.fingerprint(reordered)
    assert L.fingerprint(one) != L.fingerprint(L.patrol_features([patrol(status="assigned")]))

