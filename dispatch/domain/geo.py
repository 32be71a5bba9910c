"""Distances, bearings and movement on the Earth's surface, for city-scale work.

Positions are WGS84 (lat, lon) in degrees, distances in metres, bearings in
degrees clockwise from true north in [0, 360). The Earth is taken as a sphere:
against the ellipsoid that is off by at most about 0.5 %, far below what a
patrol ETA or a "nearest unit" ranking can notice, and it keeps every function
a few lines of closed-form trigonometry.

`haversine_m`, `initial_bearing_deg` and `destination` are written with numpy
ufuncs, so they take plain floats or arrays (broadcast against each other):
ranking a few hundred patrols against one sighting is a single call. The
polyline and polygon helpers are inherently sequential and take plain floats.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

EARTH_RADIUS_M = 6_371_008.8
"""Mean Earth radius (IUGG): the sphere that best fits the ellipsoid on average."""

LatLon = tuple[float, float]


def haversine_m(lat1, lon1, lat2, lon2):
    """Great-circle distance in metres; floats in, float out, arrays in, array out.

    The haversine form rather than the spherical law of cosines, because the
    latter loses precision for the short (metres to kilometres) distances
    dispatch deals with.
    """
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = np.radians(np.subtract(lon2, lon1)) / 2
    a = np.sin(half_dphi) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(half_dlambda) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def initial_bearing_deg(lat1, lon1, lat2, lon2):
    """Direction to set off in, from point 1 towards point 2, in [0, 360).

    "Initial" because on a great circle the bearing changes along the way; over
    a city block the difference is negligible. Identical points give 0.
    """
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    dlambda = np.radians(np.subtract(lon2, lon1))
    y = np.sin(dlambda) * np.cos(phi2)
    x = np.cos(phi1) * np.sin(phi2) - np.sin(phi1) * np.cos(phi2) * np.cos(dlambda)
    return _wrap_degrees(np.degrees(np.arctan2(y, x)))


def destination(lat, lon, distance_m, bearing_deg):
    """The (lat, lon) reached after `distance_m` along a great circle at `bearing_deg`."""
    phi1, lambda1 = np.radians(lat), np.radians(lon)
    theta = np.radians(bearing_deg)
    delta = np.divide(distance_m, EARTH_RADIUS_M)
    sin_phi2 = np.sin(phi1) * np.cos(delta) + np.cos(phi1) * np.sin(delta) * np.cos(theta)
    phi2 = np.arcsin(np.clip(sin_phi2, -1.0, 1.0))
    lambda2 = lambda1 + np.arctan2(
        np.sin(theta) * np.sin(delta) * np.cos(phi1),
        np.cos(delta) - np.sin(phi1) * np.sin(phi2),
    )
    # Longitude back into [-180, 180), leaving one already there bit for bit unchanged.
    lon2 = np.degrees(lambda2)
    return np.degrees(phi2), lon2 - 360.0 * np.floor((lon2 + 180.0) / 360.0)


def path_length_m(path: Sequence[LatLon]) -> float:
    """Length of a polyline: the sum of its legs. Fewer than two points: 0."""
    return float(sum(haversine_m(*a, *b) for a, b in zip(path, path[1:])))


def interpolate_along(path: Sequence[LatLon], distance_m: float) -> LatLon:
    """The point `distance_m` metres along a polyline, clamped to its ends.

    This is how a simulated or predicted vehicle moves along its route: the
    position after t seconds at v m/s is `interpolate_along(route, v * t)`.
    Zero-length legs (repeated points) are allowed and skipped.
    """
    if not path:
        raise ValueError("interpolate_along needs at least one point")
    remaining = max(0.0, float(distance_m))
    for start, end in zip(path, path[1:]):
        if remaining <= 0.0:  # exactly on a vertex: return it as given, not recomputed
            return float(start[0]), float(start[1])
        leg = float(haversine_m(*start, *end))
        if remaining < leg:
            lat, lon = destination(*start, remaining, initial_bearing_deg(*start, *end))
            return float(lat), float(lon)
        remaining -= leg
    return float(path[-1][0]), float(path[-1][1])


def contains(polygon: Sequence[LatLon], lat: float, lon: float) -> bool:
    """Whether a point lies inside a polygon given as (lat, lon) vertices (ray casting).

    Treats degrees as a flat plane, which is exact enough for perimeters of a
    few kilometres away from the poles and the antimeridian: an edge's true
    (great-circle) course departs from the straight line in degrees by
    centimetres at that size. The polygon may be open or closed, either winding.
    """
    inside = False
    count = len(polygon)
    for index in range(count):
        lat_a, lon_a = polygon[index]
        lat_b, lon_b = polygon[(index + 1) % count]
        if (lat_a > lat) != (lat_b > lat):
            crossing_lon = lon_a + (lat - lat_a) * (lon_b - lon_a) / (lat_b - lat_a)
            if lon < crossing_lon:
                inside = not inside
    return inside


def _wrap_degrees(angle):
    # The second modulo folds the -0.0 % 360 -> 360.0 float edge back into [0, 360).
    return np.mod(np.mod(angle, 360.0), 360.0)
