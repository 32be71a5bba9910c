"""Geodesy helpers against known distances and against each other (round trips)."""

from __future__ import annotations

import numpy as np
import pytest

from dispatch.domain.geo import (
    contains, destination, haversine_m, initial_bearing_deg, interpolate_along, path_length_m,
)

RENNES = (48.1173, -1.6778)  # Hôtel de Ville
PARIS = (48.8566, 2.3522)  # Notre-Dame


def test_rennes_to_paris_is_about_308_km():
    assert haversine_m(*RENNES, *PARIS) == pytest.approx(308_000, rel=0.01)


def test_distance_is_symmetric_and_zero_for_the_same_point():
    assert haversine_m(*RENNES, *PARIS) == pytest.approx(haversine_m(*PARIS, *RENNES))
    assert haversine_m(*RENNES, *RENNES) == 0.0


def test_one_degree_of_latitude_is_about_111_km():
    assert haversine_m(48.0, -1.68, 49.0, -1.68) == pytest.approx(111_195, rel=0.001)


def test_short_distances_keep_their_precision():
    # One metre east at Rennes' latitude: the law of cosines would round this to 0 or 1.4 m.
    lat, lon = destination(*RENNES, 1.0, 90.0)
    assert haversine_m(*RENNES, lat, lon) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize(
    "target, expected",
    [((49.0, -1.6778), 0.0), ((47.0, -1.6778), 180.0), ((0.0, 1.0), None)],
)
def test_bearing_along_meridians(target, expected):
    bearing = initial_bearing_deg(*RENNES, *target)
    if expected is None:  # towards the equator and east: somewhere in the south-east quadrant
        assert 90.0 < bearing < 180.0
    else:
        assert bearing == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("target, expected", [((0.0, 1.0), 90.0), ((0.0, -1.0), 270.0)])
def test_bearing_along_the_equator(target, expected):
    assert initial_bearing_deg(0.0, 0.0, *target) == pytest.approx(expected, abs=1e-9)


def test_bearing_stays_below_360_for_a_hair_west_of_north():
    bearing = initial_bearing_deg(48.0, -1.6, 49.0, -1.6 - 1e-13)
    assert 0.0 <= bearing < 360.0


@pytest.mark.parametrize("distance_m", [1.0, 250.0, 5_000.0, 300_000.0])
@pytest.mark.parametrize("bearing_deg", [0.0, 45.0, 90.0, 135.0, 180.0, 225.0, 270.0, 359.0])
def test_destination_round_trips_through_distance_and_bearing(distance_m, bearing_deg):
    lat, lon = destination(*RENNES, distance_m, bearing_deg)
    assert haversine_m(*RENNES, lat, lon) == pytest.approx(distance_m, rel=1e-9, abs=1e-6)
    back = initial_bearing_deg(*RENNES, lat, lon)
    assert min(abs(back - bearing_deg), 360 - abs(back - bearing_deg)) == pytest.approx(0.0, abs=1e-6)


def test_destination_wraps_longitude_across_the_antimeridian():
    lat, lon = destination(0.0, 179.99, 10_000.0, 90.0)
    assert -180.0 <= lon < -179.9
    assert lat == pytest.approx(0.0, abs=1e-9)


def test_functions_broadcast_over_arrays_like_over_floats():
    lats = np.array([48.10, 48.11, 48.12])
    lons = np.array([-1.70, -1.68, -1.66])
    distances = haversine_m(lats, lons, *RENNES)
    bearings = initial_bearing_deg(*RENNES, lats, lons)
    assert distances.shape == bearings.shape == (3,)
    for index in range(3):
        assert distances[index] == pytest.approx(haversine_m(lats[index], lons[index], *RENNES))
        assert bearings[index] == pytest.approx(initial_bearing_deg(*RENNES, lats[index], lons[index]))
    ends = destination(*RENNES, np.array([100.0, 200.0]), 90.0)
    assert ends[0].shape == (2,)
    assert haversine_m(*RENNES, ends[0], ends[1]) == pytest.approx([100.0, 200.0])


PATH = [(48.1000, -1.6800), (48.1010, -1.6800), (48.1010, -1.6780)]


def test_path_length_is_the_sum_of_its_legs():
    legs = haversine_m(*PATH[0], *PATH[1]) + haversine_m(*PATH[1], *PATH[2])
    assert path_length_m(PATH) == pytest.approx(legs)
    assert path_length_m(PATH[:1]) == 0.0
    assert path_length_m([]) == 0.0


def test_interpolation_is_clamped_to_the_ends():
    assert interpolate_along(PATH, -5.0) == PATH[0]
    assert interpolate_along(PATH, 0.0) == PATH[0]
    assert interpolate_along(PATH, path_length_m(PATH) + 100) == PATH[-1]


def test_interpolation_walks_the_right_leg():
    first_leg = haversine_m(*PATH[0], *PATH[1])
    on_first = interpolate_along(PATH, first_leg / 2)
    assert haversine_m(*PATH[0], *on_first) == pytest.approx(first_leg / 2, rel=1e-9)
    assert on_first[1] == pytest.approx(-1.6800, abs=1e-9)  # still due north of the start
    on_second = interpolate_along(PATH, first_leg + 30.0)
    assert haversine_m(*PATH[1], *on_second) == pytest.approx(30.0, rel=1e-9)
    assert on_second[0] == pytest.approx(48.1010, abs=1e-6)  # heading east along the parallel


def test_interpolation_skips_repeated_points():
    path = [PATH[0], PATH[0], PATH[1], PATH[1], PATH[2]]
    distance = path_length_m(PATH) * 0.7
    assert interpolate_along(path, distance) == pytest.approx(interpolate_along(PATH, distance))
    assert interpolate_along([PATH[0]], 50.0) == PATH[0]


def test_interpolation_needs_a_point():
    with pytest.raises(ValueError):
        interpolate_along([], 1.0)


SQUARE = [(48.10, -1.70), (48.10, -1.66), (48.12, -1.66), (48.12, -1.70)]


@pytest.mark.parametrize(
    "point, inside",
    [
        ((48.11, -1.68), True),
        ((48.1001, -1.6999), True),
        ((48.09, -1.68), False),
        ((48.11, -1.71), False),
        ((48.13, -1.65), False),
        ((48.11, -1.65), False),
    ],
)
def test_contains(point, inside):
    assert contains(SQUARE, *point) is inside
    assert contains([*SQUARE, SQUARE[0]], *point) is inside  # closed ring, same answer
    assert contains(list(reversed(SQUARE)), *point) is inside  # either winding


def test_contains_handles_a_concave_polygon():
    # An L shape: the notch at the top right is outside.
    l_shape = [(48.10, -1.70), (48.10, -1.66), (48.11, -1.66), (48.11, -1.68), (48.12, -1.68), (48.12, -1.70)]
    assert contains(l_shape, 48.115, -1.69)
    assert not contains(l_shape, 48.115, -1.67)
