"""Mapping files (JSON or CSV) and the default drone ids of each link."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatch.domain.drone_ids import DroneIdError, dji_drone_id, is_drone_id, mavlink_drone_id, parse_mapping


def test_json_and_csv_give_the_same_mapping():
    from_json = parse_mapping('{"1": "DR-07", "1581f5fhd23400a": "DR-12"}')
    from_csv = parse_mapping("system_id,drone_id\n# the unit's airframes\n1,DR-07\n\n1581F5FHD23400A, DR-12\n")
    assert from_json == from_csv == {"1": "DR-07", "1581F5FHD23400A": "DR-12"}


@pytest.mark.parametrize("text, words", [
    ('{"1": "DR-7x"}', "'DR-7x' is not a drone id"),
    ('{"1": 7}', "must be a string"),
    ('["DR-1"]', "must be an object"),
    ("{nope", "not valid JSON"),
    ("1,DR-07\n2,DR-07\n", "DR-07 is given to both"),
    ("1,DR-07\n1,DR-08\n", "'1' is mapped twice"),
    ("1,DR-07,extra\n", "expected two columns"),
    ("1,DR-07\n2,drone two\n", "line 2: 'drone two' is not a drone id"),
    ("1,DR-123456789\n", "is not a drone id"),
    (",DR-1\n", "empty system id"),
])
def test_a_bad_mapping_is_refused_saying_where(text, words):
    with pytest.raises(DroneIdError, match=words.replace("(", r"\(")):
        parse_mapping(text, source="ids.csv")


def test_an_empty_file_maps_nothing():
    assert parse_mapping("  \n") == {}


def test_mavlink_ids_default_to_the_system_id():
    assert mavlink_drone_id(1, {}) == "DR-1"
    assert mavlink_drone_id(255, {"1": "DR-07"}) == "DR-255"
    assert mavlink_drone_id(1, {"1": "DR-07"}) == "DR-07"


def test_dji_ids_default_to_the_last_8_characters_of_the_serial():
    assert dji_drone_id("1581f5fhd23400ab", {}) == "DR-D23400AB"
    assert dji_drone_id("1581F5FHD23400AB", {"1581F5FHD23400AB": "DR-12"}) == "DR-12"
    assert dji_drone_id("ABC", {}) == "DR-ABC"
    with pytest.raises(DroneIdError, match="map it in --drone-ids"):
        dji_drone_id("5YSZK8-0001", {})


@given(st.integers(1, 255))
def test_every_mavlink_system_id_gives_a_valid_drone_id(system_id):
    assert is_drone_id(mavlink_drone_id(system_id, {}))


@given(st.text("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", min_size=1, max_size=30))
def test_every_alphanumeric_serial_gives_a_valid_drone_id(serial):
    assert is_drone_id(dji_drone_id(serial, {}))
