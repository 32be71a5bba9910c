"""A decoded position is refused with a reason (NaN, (0, 0) before a fix, out of range) or becomes entry
fields that the contract's own validator accepts."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatch.domain.drone_fix import Fix, normalise_heading, refusal, telemetry_fields
from dispatch.domain.models import Telemetry
from dispatch.domain.validate import validate

NOW_MS = 1_767_225_600_000
GOOD = Fix("DR-07", NOW_MS, 48.1173, -1.6778, 120.5, 275.0, 12.4, 81.0)


def fix(**changes) -> Fix:
    return Fix(**{**GOOD.__dict__, **changes})


def test_a_good_fix_is_sent_as_the_contract_wants():
    assert refusal(GOOD) is None
    fields = telemetry_fields(GOOD)
    assert fields == {"drone_id": "DR-07", "ts": str(NOW_MS), "lat": "48.1173000", "lon": "-1.6778000",
                      "alt_m": "120.5", "heading_deg": "275.0", "speed_mps": "12.40", "battery_pct": "81"}
    assert isinstance(validate("telemetry", fields, NOW_MS), Telemetry)


@pytest.mark.parametrize("changes, reason", [
    ({"lat": 0.0, "lon": 0.0}, "no_fix"),
    ({"lat": 0.0000001, "lon": -0.0}, "no_fix"),
    ({"lat": math.nan}, "not_finite"),
    ({"lon": math.inf}, "not_finite"),
    ({"battery_pct": math.nan}, "not_finite"),
    ({"lat": 90.5}, "position_out_of_range"),
    ({"lon": -180.01}, "position_out_of_range"),
    ({"alt_m": 1500.0}, "altitude_out_of_range"),
    ({"speed_mps": 150.0}, "speed_out_of_range"),
    ({"battery_pct": -1.0}, "battery_out_of_range"),
    ({"heading_deg": 360.0}, "heading_out_of_range"),
    ({"ts": 0}, "bad_time"),
])
def test_nonsense_is_refused_with_its_reason(changes, reason):
    assert refusal(fix(**changes)) == reason


def test_the_equator_or_the_meridian_alone_is_a_position():
    assert refusal(fix(lat=0.0, lon=9.4)) is None
    assert refusal(fix(lat=51.47, lon=0.0)) is None


@pytest.mark.parametrize("degrees, expected", [(-180, 180), (-90, 270), (-0.0, 0), (0, 0), (359.9, 359.9),
                                               (360, 0), (720.5, 0.5), (-360, 0)])
def test_headings_are_normalised_to_0_360(degrees, expected):
    assert normalise_heading(degrees) == pytest.approx(expected)


@given(st.floats(min_value=-1e6, max_value=1e6))
def test_any_finite_heading_lands_in_0_360(degrees):
    heading = normalise_heading(degrees)
    assert 0.0 <= heading < 360.0
    assert math.copysign(1.0, heading) == 1.0


finite = dict(allow_nan=False, allow_infinity=False)


@given(
    lat=st.floats(-90, 90, **finite), lon=st.floats(-180, 180, **finite), alt=st.floats(-100, 1000, **finite),
    heading=st.floats(0, 360, exclude_max=True, **finite), speed=st.floats(0, 100, **finite),
    battery=st.floats(0, 100, **finite),
)
def test_every_fix_not_refused_is_accepted_by_the_contract(lat, lon, alt, heading, speed, battery):
    candidate = Fix("DR-1", NOW_MS, lat, lon, alt, heading, speed, battery)
    if refusal(candidate) is None:
        assert isinstance(validate("telemetry", telemetry_fields(candidate), NOW_MS), Telemetry)
