"""Raw stream entries -> replay frames: the fast path agrees with the plain one, bad rows are counted, never guessed."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.domain.replay.frames import (
    PositionColumns, alert_frame, assignment_frame, patrol_frame, sighting_frame, telemetry_frame,
)
from dispatch.domain.models import PatrolReport, Sighting, Telemetry

T0 = 1_767_225_600_000


def raw(fields: dict) -> list[bytes]:
    """Fields as XRANGE returns them undecoded: [name, value, name, value, ...]."""
    flat = []
    for name, value in fields.items():
        flat += [name.encode(), value if isinstance(value, bytes) else str(value).encode()]
    return flat


def telemetry_fields(i: int, **change) -> dict:
    fields = {"drone_id": f"DR-{i % 3}", "ts": T0 + i, "lat": f"{48.1 + i / 1e6:.6f}", "lon": "-1.677812",
              "alt_m": "120.5", "heading_deg": "275", "speed_mps": "12.4", "battery_pct": "81"}
    fields.update(change)
    return fields


def test_a_chunk_in_one_field_order_converts_exactly():
    columns = PositionColumns("telemetry")
    assert columns.add([raw(telemetry_fields(i)) for i in range(100)]) == 0
    frame, outside = columns.frame()
    assert outside == 0 and len(frame) == 100
    assert list(frame.columns) == ["drone_id", "ts", "lat", "lon", "alt_m", "heading_deg", "speed_mps",
                                   "battery_pct", "seq"]
    assert isinstance(frame["drone_id"].dtype, pd.CategoricalDtype)
    assert frame["ts"].dtype == np.int64 and frame["ts"].tolist() == [T0 + i for i in range(100)]
    assert frame["lat"].tolist() == [float(f"{48.1 + i / 1e6:.6f}") for i in range(100)], "bit for bit as float()"
    assert frame["seq"].tolist() == list(range(100))


def test_fields_in_another_order_give_the_same_frame():
    rows = [raw(telemetry_fields(i)) for i in range(50)]
    shuffled = [raw(dict(reversed(list(telemetry_fields(i).items())))) if i % 2 else raw(telemetry_fields(i))
                for i in range(50)]
    fast, plain = PositionColumns("telemetry"), PositionColumns("telemetry")
    fast.add(rows)
    plain.add(shuffled)
    pd.testing.assert_frame_equal(fast.frame()[0], plain.frame()[0])


def test_unparsable_rows_are_counted_and_dropped_whatever_the_path():
    bad = [telemetry_fields(1, lat="48,11"), telemetry_fields(2, battery_pct="nan"), telemetry_fields(3, ts="12.5"),
           telemetry_fields(4, lat="1e400"), {k: v for k, v in telemetry_fields(5).items() if k != "lon"},
           telemetry_fields(6, drone_id=b"")]
    good = [telemetry_fields(i) for i in range(10, 20)]
    columns = PositionColumns("telemetry")
    assert columns.add([raw(f) for f in good[:5] + bad + good[5:]]) == len(bad)
    frame, _ = columns.frame()
    assert frame["ts"].tolist() == [T0 + i for i in range(10, 20)]
    assert columns.unparsable == len(bad)
    assert frame["seq"].tolist() == [0, 1, 2, 3, 4, 11, 12, 13, 14, 15], "arrival order kept across the drop"


def test_a_line_break_or_separator_inside_a_value_cannot_shift_columns():
    rows = [raw(telemetry_fields(0, lat="48.1\n1767225600000")), raw(telemetry_fields(1, lon="-1.6\x1f9")),
            raw(telemetry_fields(2))]
    columns = PositionColumns("telemetry")
    assert columns.add(rows) == 2
    frame, _ = columns.frame()
    assert frame[["ts", "lat", "lon"]].values.tolist() == [[T0 + 2, 48.100002, -1.677812]]


def test_patrol_status_outside_the_contract_is_unparsable():
    rows = [raw({"patrol_id": "BAC-1", "ts": T0, "lat": "48.1", "lon": "-1.6", "status": status})
            for status in ("available", "free", "en_route")]
    columns = PositionColumns("patrol")
    assert columns.add(rows) == 1
    frame, _ = columns.frame()
    assert frame["status"].astype(str).tolist() == ["available", "en_route"]


def test_frame_keeps_the_ts_window_and_counts_the_rest():
    columns = PositionColumns("telemetry")
    columns.add([raw(telemetry_fields(i)) for i in range(10)])
    columns.add([raw(telemetry_fields(i)) for i in range(10, 20)])
    frame, outside = columns.frame(T0 + 5, T0 + 14)
    assert frame["ts"].tolist() == [T0 + i for i in range(5, 15)] and outside == 10
    assert set(frame["drone_id"].cat.categories) == {"DR-0", "DR-1", "DR-2"}


def test_nothing_read_gives_an_empty_typed_frame():
    frame, outside = PositionColumns("patrol").frame()
    assert (len(frame), outside) == (0, 0)
    assert list(frame.columns) == ["patrol_id", "ts", "lat", "lon", "status", "seq"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.floats(-90, 90, allow_nan=False),
                          st.floats(-180, 180, allow_nan=False), st.integers(1, 10**13)), min_size=1, max_size=30))
def test_bulk_conversion_agrees_with_the_models(rows):
    messages = [Telemetry(drone_id=f"DR-{d}", ts=ts, lat=lat, lon=lon, alt_m=1.5, heading_deg=0, speed_mps=0,
                          battery_pct=50) for d, lat, lon, ts in rows]
    columns = PositionColumns("telemetry")
    columns.add([raw({k: repr(v) if isinstance(v, float) else v for k, v in m.model_dump().items()})
                 for m in messages])
    frame, _ = columns.frame()
    expected = telemetry_frame(messages)
    assert frame["lat"].tolist() == expected["lat"].tolist()
    assert frame["lon"].tolist() == expected["lon"].tolist()
    assert frame["ts"].tolist() == expected["ts"].tolist()
    assert frame["drone_id"].astype(str).tolist() == expected["drone_id"].astype(str).tolist()


def test_exact_constructors_type_their_columns():
    patrols = patrol_frame([PatrolReport(patrol_id="BAC-1", ts=T0, lat=48.1, lon=-1.6, status="on_scene")])
    assert patrols["status"].astype(str).tolist() == ["on_scene"] and patrols["ts"].dtype == np.int64
    sightings = sighting_frame([Sighting(sighting_id="sight-0001", ts=T0, drone_id="DR-1", operator_id="OP-1",
                                         category="vehicle", lat=48.1, lon=-1.6, priority=1)])
    assert sightings[["category", "priority", "note"]].astype(str).values.tolist() == [["vehicle", "1", ""]]


def test_assignment_and_alert_events_are_flattened():
    events = assignment_frame([
        {"assignment_id": "asg-000001", "sighting_id": "sight-0001", "patrol_id": "BAC-1", "supervisor_id": "SUP-1",
         "ts": str(T0), "state": "assigned", "assigned_ts": str(T0), "actor": "SUP-1", "role": "supervisor",
         "event": "created"},
        {"assignment_id": "asg-000001", "sighting_id": "sight-0001", "patrol_id": "BAC-1", "supervisor_id": "SUP-1",
         "ts": str(T0 + 5), "state": "cleared", "outcome": "arrest", "actor": "BAC-1", "role": "patrol",
         "event": "cleared"},
    ])
    assert events["state"].astype(str).tolist() == ["assigned", "cleared"]
    assert events["ts"].tolist() == [T0, T0 + 5] and math.isnan(events["assigned_ts"].iloc[1])
    assert events["outcome"].tolist() == [None, "arrest"]
    alerts = alert_frame([{"event": "raised", "alert_id": "link_lost:DR-1", "ts": str(T0),
                           "alert": b'{"kind":"link_lost","unit_id":"DR-1","lat":48.1,"lon":-1.6,"message":"m"}'}])
    assert alerts[["kind", "unit_id", "lat"]].values.tolist() == [["link_lost", "DR-1", 48.1]]
