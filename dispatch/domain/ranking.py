"""Which patrols are closest to a sighting, and roughly how soon each could be there.

The ranking is by straight-line (great-circle) distance, not by road: the
supervisor wants a short list in well under a second, and at city scale the
nearest few by distance are the nearest few by road often enough that the
supervisor's local knowledge settles the rest. The ETA shown next to each
candidate is an honest order of magnitude, not a routing result.

The same rule serves the Redis path (store/nearest.py, which lets GEOSEARCH do
the spatial filtering) and any in-memory list (replay, tests): best first,
ties broken by patrol id so that two screens never show the same list in a
different order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

from .geo import haversine_m

DETOUR_FACTOR = 1.4
"""Road distance over straight-line distance in a European city centre.

Street networks make a trip 1.2 to 1.6 times its crow-flies length (one-way
systems, river crossings, ring roads); 1.4 is the usual middle figure.
"""

URBAN_SPEED_MPS = 9.0
"""Average speed of a patrol car with blue lights in town, about 32 km/h.

Faster than ordinary traffic (about 5-6 m/s door to door in French city
centres) but far from the limit: crossings are taken carefully, bus lanes and
pedestrian zones slow it down.
"""

STARTUP_S = 30.0
"""Time from the order to the car moving: reading the tablet, getting in, pulling out."""


@dataclass(frozen=True)
class Candidate:
    """One patrol proposed for a sighting, as shown to the supervisor."""

    patrol_id: str
    lat: float
    lon: float
    distance_m: float
    eta_s: float


def eta_seconds(distance_m: float) -> float:
    """Rough time for a patrol `distance_m` away (straight line) to arrive, in seconds.

    A patrol already on the spot still needs STARTUP_S, which is why the
    estimate never goes below it.
    """
    return STARTUP_S + max(0.0, float(distance_m)) * DETOUR_FACTOR / URBAN_SPEED_MPS


def rank(lat: float, lon: float, patrols: Iterable[tuple[str, float, float]], k: int = 5) -> list[Candidate]:
    """The `k` patrols nearest to (lat, lon), best first, from (patrol_id, lat, lon) rows.

    One vectorised haversine over all rows; fine for the tens of thousands of
    patrols an in-memory caller has. Equal distances are ordered by patrol id.
    """
    rows = list(patrols)
    if k <= 0 or not rows:
        return []
    ids = np.array([row[0] for row in rows], dtype=str)
    lats = np.array([row[1] for row in rows], dtype=float)
    lons = np.array([row[2] for row in rows], dtype=float)
    distances = np.atleast_1d(haversine_m(lat, lon, lats, lons))
    order = np.lexsort((ids, distances))[:k]  # last key is the primary one
    return [
        Candidate(str(ids[i]), float(lats[i]), float(lons[i]), float(distances[i]), eta_seconds(distances[i]))
        for i in order
    ]
