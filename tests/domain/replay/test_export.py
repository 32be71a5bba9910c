"""Window exports: GeoJSON tracks and sightings, CSV of positions; nothing personal leaves."""

from __future__ import annotations

import io

import orjson
import pandas as pd

from dispatch.domain.replay.history import History
from dispatch.domain.replay.export import CSV_COLUMNS, export_csv, export_geojson, positions_frame
from tests.domain.replay.test_history import T0, drone, lifecycle, patrol, sighting


def window() -> History:
    messages = [drone("DR-1", T0 - 60_000, lat=47.0)]  # lead-in: before the window, not exported
    messages += [drone("DR-1", T0 + s * 1000, lat=48.0 + s * 1e-4) for s in range(100)]
    messages += [drone("DR-2", T0 + 50_000)]
    messages += [patrol("BAC-1", T0 + s * 10_000, lat=48.1 + s * 1e-4) for s in range(10)]
    messages += [sighting("sight-0001", T0 + 5000, note="Groupe devant le hall B"),
                 sighting("sight-0001", T0 + 8000, lat=48.2),  # corrected position
                 sighting("sight-0002", T0 + 200_000)]  # after the window
    return History.from_messages(messages, lifecycle("asg-000001", T0 + 10_000), bounds=(T0, T0 + 100_000))


def features(collection: dict, kind: str) -> dict[str, dict]:
    return {f["properties"]["id"]: f for f in collection["features"] if f["properties"]["kind"] == kind}


def test_geojson_has_a_track_per_unit_and_a_point_per_sighting():
    collection = export_geojson(window())
    assert collection["type"] == "FeatureCollection"
    drones = features(collection, "drone")
    track = drones["DR-1"]
    assert track["geometry"]["type"] == "LineString" and len(track["geometry"]["coordinates"]) == 100
    assert track["geometry"]["coordinates"][0] == [-1.68, 48.0], "GeoJSON order: lon, lat"
    props = track["properties"]
    assert (props["start_ms"], props["end_ms"], props["points"]) == (T0, T0 + 99_000, 100)
    assert props["times_ms"] == [T0 + s * 1000 for s in range(100)]
    assert drones["DR-2"]["geometry"] == {"type": "Point", "coordinates": [-1.68, 48.11]}, "seen once"
    assert features(collection, "patrol")["BAC-1"]["properties"]["points"] == 10
    (point,) = features(collection, "sighting").values()
    assert point["geometry"]["coordinates"] == [-1.675, 48.2], "the latest position in the window"
    assert point["properties"] == {"kind": "sighting", "id": "sight-0001", "category": "deal", "priority": 2,
                                   "ts": T0 + 5000, "closed_ms": T0 + 130_000}


def test_geojson_carries_no_free_text_and_serialises():
    body = orjson.dumps(export_geojson(window()))
    assert b"Groupe" not in body and b"note" not in body and b"OP-1" not in body


def test_geojson_tracks_can_be_thinned():
    collection = export_geojson(window(), max_points_per_track=10)
    track = features(collection, "drone")["DR-1"]
    assert len(track["geometry"]["coordinates"]) <= 10
    assert (track["properties"]["start_ms"], track["properties"]["end_ms"]) == (T0, T0 + 99_000)


def test_csv_lists_every_position_of_the_window_by_time():
    text = export_csv(window())
    rows = pd.read_csv(io.StringIO(text))
    assert list(rows.columns) == CSV_COLUMNS
    assert len(rows) == 100 + 1 + 10
    assert rows["ts"].is_monotonic_increasing and rows["ts"].min() == T0
    assert rows["time_utc"].iloc[0] == "2026-01-01T00:00:00.000000Z"
    patrols = rows[rows["kind"] == "patrol"].set_index("ts")
    assert patrols.loc[T0 + 10_000, "status"] == "assigned" and patrols.loc[T0 + 10_000, "reported_status"] == (
        "available"), "shown status against what the tablet sent"
    assert patrols.loc[T0 + 90_000, "status"] == "on_scene"
    assert rows[rows["kind"] == "drone"]["status"].isna().all()


def test_positions_frame_of_an_empty_window():
    frame = positions_frame(History.from_messages([], bounds=(T0, T0 + 1)))
    assert list(frame.columns) == CSV_COLUMNS and len(frame) == 0


# ----------------------------------------------------------------------------- streamed (issue 15: exports)


def drones_only() -> History:
    """Drones only: every slice without the patrols' columns beside them."""
    messages = [drone("DR-1", T0 + s * 700, lat=48.0 + s * 1.3e-4) for s in range(60)]
    return History.from_messages(messages, [], bounds=(T0, T0 + 100_000))


def empty() -> History:
    return History.from_messages([], [], bounds=(T0, T0 + 100_000))


def test_the_streamed_csv_is_the_built_csv_byte_for_byte_whatever_the_chunk():
    from dispatch.domain.replay.export import iter_csv, position_count
    for history in (window(), drones_only(), empty()):
        built = export_csv(history).encode()
        for chunk_rows in (1, 7, 50, 10_000):
            pieces = list(iter_csv(history, chunk_rows=chunk_rows))
            assert b"".join(pieces) == built, chunk_rows
        assert position_count(history) == built.count(b"\n") - 1
    assert len(list(iter_csv(window(), chunk_rows=7))) > 10, "written in pieces, not at once"


def test_the_streamed_geojson_is_orjsons_bytes_and_counts_its_features():
    from dispatch.domain.replay.export import feature_count, iter_geojson
    for history in (window(), drones_only(), empty()):
        collection = export_geojson(history)
        assert b"".join(iter_geojson(history)) == orjson.dumps(collection)
        assert feature_count(history) == len(collection["features"])


def test_the_streamed_kml_is_the_built_kml_byte_for_byte():
    from dispatch.domain.replay.kml import export_kml, iter_kml
    for history in (window(), drones_only(), empty()):
        assert b"".join(iter_kml(history, name="replay-x")) == export_kml(history, name="replay-x")
