"""Nearest available patrols to a point, from the GEO set ingest keeps up to date.

GEOSEARCH without ANY sorts every member inside the radius before cutting to
COUNT, so the cost grows with how many patrols the circle holds, not with how
many are asked for. The search therefore starts with a modest circle (a
district) and widens it fourfold only when it holds fewer than k patrols: in a
city the first circle nearly always answers, and a quiet night still finds the
few patrols out on the ring road.
"""

from __future__ import annotations

import redis

from ..domain.geo import haversine_m
from ..domain.ranking import Candidate, eta_seconds
from ..keys import Keys

WIDENING_FACTOR = 4


def nearest_available(
    client: redis.Redis,
    keys: Keys,
    lat: float,
    lon: float,
    k: int = 5,
    *,
    first_radius_m: float = 3_000,
    max_radius_m: float = 60_000,
) -> list[Candidate]:
    """Up to `k` available patrols within `max_radius_m` of (lat, lon), nearest first.

    Distances are recomputed with geo.haversine_m from the stored positions (so
    they agree with ranking.rank to the metre; Redis uses a slightly different
    Earth radius), and equal distances are ordered by patrol id.
    """
    if k <= 0:
        return []
    radius = min(float(first_radius_m), float(max_radius_m))
    while True:
        found = client.geosearch(
            keys.patrols_available, longitude=lon, latitude=lat, radius=radius, unit="m",
            sort="ASC", count=k, withdist=True, withcoord=True,
        )
        if len(found) >= k or radius >= max_radius_m:
            break
        radius = min(radius * WIDENING_FACTOR, float(max_radius_m))
    candidates = []
    for member, _redis_distance, (member_lon, member_lat) in found:
        distance = float(haversine_m(lat, lon, member_lat, member_lon))
        patrol_id = member.decode() if isinstance(member, bytes) else member
        candidates.append(Candidate(patrol_id, member_lat, member_lon, distance, eta_seconds(distance)))
    candidates.sort(key=lambda c: (c.distance_m, c.patrol_id))
    return candidates
