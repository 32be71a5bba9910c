"""Nearest available patrols from the GEO set, against a real Redis."""

from __future__ import annotations

import random
import time

import pytest

from dispatch.domain.batch import RawEntry, plan_batch
from dispatch.domain.geo import destination, haversine_m
from dispatch.domain.ranking import eta_seconds, rank
from dispatch.store.nearest import nearest_available
from dispatch.store.scripts import IngestScript

RENNES = (48.1113, -1.6800)


def at(distance_m: float, bearing_deg: float) -> tuple[float, float]:
    lat, lon = destination(*RENNES, distance_m, bearing_deg)
    return float(lat), float(lon)


def place(client, keys, patrols: dict[str, tuple[float, float]]) -> None:
    """Put patrols into the available set, as ingest does for an available report."""
    values = []
    for patrol_id, (lat, lon) in patrols.items():
        values += [lon, lat, patrol_id]
    client.geoadd(keys.patrols_available, values)


def test_nearest_first_with_distances_that_agree_with_haversine(redis_client, keys):
    rng = random.Random(3)
    patrols = {f"BAC-{i}": at(rng.uniform(50, 2_900), rng.uniform(0, 360)) for i in range(40)}
    place(redis_client, keys, patrols)
    found = nearest_available(redis_client, keys, *RENNES, k=5)
    assert len(found) == 5
    expected = sorted(patrols, key=lambda p: haversine_m(*RENNES, *patrols[p]))[:5]
    assert [c.patrol_id for c in found] == expected
    distances = [c.distance_m for c in found]
    assert distances == sorted(distances)
    for candidate in found:
        true_distance = float(haversine_m(*RENNES, *patrols[candidate.patrol_id]))
        assert candidate.distance_m == pytest.approx(true_distance, rel=0.005)
        assert candidate.eta_s == pytest.approx(eta_seconds(candidate.distance_m))
        # GEO sets store a 52-bit geohash: positions come back within about a metre.
        assert haversine_m(candidate.lat, candidate.lon, *patrols[candidate.patrol_id]) < 1.0


@pytest.mark.parametrize("k", [1, 3, 7])
def test_exactly_k_come_back_when_there_are_more(redis_client, keys, k):
    place(redis_client, keys, {f"GN-{i}": at(100 * (i + 1), 37 * i) for i in range(10)})
    found = nearest_available(redis_client, keys, *RENNES, k=k)
    assert [c.patrol_id for c in found] == [f"GN-{i}" for i in range(k)]


def test_k_zero_asks_nothing(redis_client, keys):
    place(redis_client, keys, {"GN-1": at(100, 0)})
    assert nearest_available(redis_client, keys, *RENNES, k=0) == []


def test_the_radius_widens_until_k_are_found_and_stops_at_the_maximum(redis_client, keys):
    place(redis_client, keys, {
        "BAC-1": at(1_000, 0),      # in the first 3 km circle
        "BAC-2": at(10_000, 90),    # needs 12 km
        "BAC-3": at(40_000, 180),   # needs 48 km
        "BAC-4": at(59_000, 270),   # needs the 60 km cap
        "BAC-5": at(70_000, 45),    # beyond the cap: never proposed
    })
    assert [c.patrol_id for c in nearest_available(redis_client, keys, *RENNES, k=1)] == ["BAC-1"]
    assert [c.patrol_id for c in nearest_available(redis_client, keys, *RENNES, k=2)] == ["BAC-1", "BAC-2"]
    assert [c.patrol_id for c in nearest_available(redis_client, keys, *RENNES, k=5)] == [
        "BAC-1", "BAC-2", "BAC-3", "BAC-4"]
    narrow = nearest_available(redis_client, keys, *RENNES, k=5, first_radius_m=500, max_radius_m=5_000)
    assert [c.patrol_id for c in narrow] == ["BAC-1"]


def test_a_near_patrol_found_only_after_widening_still_comes_first(redis_client, keys):
    """Widening replaces the answer, it does not append to it: order stays by distance."""
    place(redis_client, keys, {"BAC-1": at(2_500, 0), "BAC-2": at(4_000, 90), "BAC-3": at(3_500, 200)})
    assert [c.patrol_id for c in nearest_available(redis_client, keys, *RENNES, k=3)] == [
        "BAC-1", "BAC-3", "BAC-2"]


def test_an_empty_site_gives_an_empty_list(redis_client, keys):
    assert nearest_available(redis_client, keys, *RENNES) == []


def test_equal_distances_are_ordered_by_patrol_id(redis_client, keys):
    station = at(700, 30)
    place(redis_client, keys, {"GN-2": station, "BAC-9": station, "BAC-10": station})
    assert [c.patrol_id for c in nearest_available(redis_client, keys, *RENNES, k=3)] == [
        "BAC-10", "BAC-9", "GN-2"]


def test_only_patrols_whose_latest_report_is_available_are_proposed(redis_client, keys):
    """Through the real ingest step: an unavailable or busy report takes a patrol out of the set."""
    now = int(time.time() * 1000)
    reports = [("BAC-1", 300, "available"), ("BAC-2", 100, "unavailable"), ("BAC-3", 200, "en_route"),
               ("BAC-4", 400, "available"), ("BAC-5", 50, "on_scene")]
    entries = []
    for i, (patrol_id, distance, status) in enumerate(reports):
        lat, lon = at(distance, 72 * i)
        fields = {"patrol_id": patrol_id, "ts": now - 1_000, "lat": lat, "lon": lon, "status": status}
        entries.append(RawEntry("patrol", f"{now}-{i}", {n.encode(): str(v).encode() for n, v in fields.items()}))
    IngestScript(redis_client, keys, live_maxlen=1_000)(plan_batch(entries))
    assert [c.patrol_id for c in nearest_available(redis_client, keys, *RENNES)] == ["BAC-1", "BAC-4"]


def test_agrees_with_the_in_memory_ranking(redis_client, keys):
    rng = random.Random(11)
    patrols = {f"P-{i}": (RENNES[0] + rng.uniform(-0.05, 0.05), RENNES[1] + rng.uniform(-0.08, 0.08))
               for i in range(500)}
    place(redis_client, keys, patrols)
    stored = {p: pos for p, pos in zip(patrols, redis_client.geopos(keys.patrols_available, *patrols))}
    for _ in range(50):
        target = (RENNES[0] + rng.uniform(-0.04, 0.04), RENNES[1] + rng.uniform(-0.06, 0.06))
        in_memory = rank(*target, [(p, lat, lon) for p, (lon, lat) in stored.items()], k=5)
        from_redis = nearest_available(redis_client, keys, *target, k=5)
        assert [c.patrol_id for c in from_redis] == [c.patrol_id for c in in_memory]
        assert [c.distance_m for c in from_redis] == pytest.approx([c.distance_m for c in in_memory], abs=1e-6)
