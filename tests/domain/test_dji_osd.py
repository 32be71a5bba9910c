"""DJI Cloud API OSD messages to fixes: mapping, heading normalised, dock messages and garbage dropped."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatch.domain.dji_osd import device_serial, osd_reading
from dispatch.domain.drone_fix import Drop, Fix, refusal

NOW = 1_767_225_600_000
SERIAL = "1581F5FHD23400AB"
TOPIC = f"thing/product/{SERIAL}/osd"


def aircraft(**data) -> bytes:
    body = {"latitude": 48.1173, "longitude": -1.6778, "height": 165.2, "elevation": 120.4, "attitude_head": -90.5,
            "horizontal_speed": 8.3, "vertical_speed": 0.2, "mode_code": 5, "battery": {"capacity_percent": 76},
            **data}
    return json.dumps({"tid": "t-1", "bid": "b-1", "timestamp": NOW - 250, "gateway": "5YSZK8T0001", "data": body}).encode()


def test_an_aircraft_state_becomes_a_fix():
    assert osd_reading(TOPIC, aircraft(), {}, NOW) == Fix("DR-D23400AB", NOW - 250, 48.1173, -1.6778, 120.4,
                                                          269.5, 8.3, 76.0)


def test_the_mapping_file_names_the_drone():
    assert osd_reading(TOPIC, aircraft(), {SERIAL: "DR-12"}, NOW).drone_id == "DR-12"


def test_zeros_before_a_fix_are_refused_as_no_fix():
    assert refusal(osd_reading(TOPIC, aircraft(latitude=0, longitude=0), {}, NOW)) == "no_fix"


def test_without_a_timestamp_the_time_of_receipt():
    payload = json.dumps({"data": json.loads(aircraft())["data"]}).encode()
    assert osd_reading(TOPIC, payload, {}, NOW).ts == NOW


@pytest.mark.parametrize("payload, reason", [
    (json.dumps({"tid": "t", "timestamp": NOW, "data": {"latitude": 48.1, "longitude": -1.6, "height": 50.0,
                                                          "mode_code": 1, "drone_in_dock": 1,
                                                          "drone_charge_state": {"capacity_percent": 90}}}).encode(),
     "no_position"),  # a dock's own state
    (json.dumps({"timestamp": NOW, "data": {"mode_code": 0}}).encode(), "no_position"),
    (aircraft(attitude_head=None), "missing_field"),
    (aircraft(battery={}), "missing_field"),
    (aircraft(horizontal_speed="8.3"), "missing_field"),
    (aircraft(elevation=True), "missing_field"),
    (b"{not json", "bad_payload"),
    (b"\xff\xfe", "bad_payload"),
    (b"[1, 2]", "bad_payload"),
    (json.dumps({"data": [1]}).encode(), "bad_payload"),
    (b"[" * 30_000 + b"]" * 30_000, "bad_payload"),  # too deep for json
    (aircraft(note="x" * 70_000), "bad_payload"),
])
def test_what_is_not_an_aircraft_position_is_dropped_with_its_reason(payload, reason):
    reading = osd_reading(TOPIC, payload, {}, NOW)
    assert isinstance(reading, Drop) and reading.reason == reason


def test_topics_and_serials():
    assert device_serial(TOPIC) == SERIAL
    assert device_serial("thing/product/x/state") is None
    assert device_serial("thing/product//osd") is None
    assert osd_reading("sys/product/X/osd", aircraft(), {}, NOW).reason == "bad_topic"
    assert osd_reading("thing/product/5Y-SZ.K8/osd", aircraft(), {}, NOW).reason == "bad_drone_id"


@given(st.floats(-180, 180))
def test_every_dji_heading_lands_in_0_360(head):
    reading = osd_reading(TOPIC, aircraft(attitude_head=head), {}, NOW)
    assert 0 <= reading.heading_deg < 360


@given(st.binary(max_size=200))
def test_any_bytes_give_a_reading_never_an_exception(payload):
    assert isinstance(osd_reading(TOPIC, payload, {}, NOW), (Fix, Drop))
