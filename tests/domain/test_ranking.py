"""Ranking patrols by distance to a sighting, and the ETA shown next to each."""

from __future__ import annotations

import random

import pytest

from dispatch.domain.geo import destination, haversine_m
from dispatch.domain.ranking import (
    DETOUR_FACTOR,
    STARTUP_S,
    URBAN_SPEED_MPS,
    Candidate,
    eta_seconds,
    rank,
)

RENNES = (48.1113, -1.6800)


def at(distance_m: float, bearing_deg: float) -> tuple[float, float]:
    lat, lon = destination(*RENNES, distance_m, bearing_deg)
    return float(lat), float(lon)


def test_eta_is_the_start_up_time_plus_the_detoured_drive():
    assert eta_seconds(0) == STARTUP_S
    assert eta_seconds(1_000) == pytest.approx(30 + 1_000 * 1.4 / 9.0)
    assert eta_seconds(1_000) == pytest.approx(STARTUP_S + 1_000 * DETOUR_FACTOR / URBAN_SPEED_MPS)
    assert eta_seconds(-5) == STARTUP_S, "a rounding error below zero is not a negative drive"


def test_eta_figures_are_plausible_for_a_city():
    assert 2 * 60 < eta_seconds(1_000) < 4 * 60, "1 km as the crow flies: a few minutes with blue lights"
    assert 10 * 60 < eta_seconds(5_000) < 20 * 60
    assert eta_seconds(2_000) > eta_seconds(1_999)


def test_rank_returns_the_k_nearest_best_first_with_their_distance_and_eta():
    patrols = [("BAC-3", *at(3_000, 10)), ("BAC-1", *at(1_000, 200)), ("BAC-2", *at(2_000, 95)),
               ("BAC-5", *at(5_000, 300)), ("BAC-4", *at(4_000, 45))]
    ranked = rank(*RENNES, patrols, k=3)
    assert [c.patrol_id for c in ranked] == ["BAC-1", "BAC-2", "BAC-3"]
    for candidate, expected in zip(ranked, [1_000, 2_000, 3_000]):
        assert candidate.distance_m == pytest.approx(expected, abs=0.01)
        assert candidate.eta_s == pytest.approx(eta_seconds(expected), abs=0.01)
    assert isinstance(ranked[0], Candidate) and isinstance(ranked[0].distance_m, float)
    assert (ranked[0].lat, ranked[0].lon) == patrols[1][1:]


def test_equal_distances_are_ordered_by_patrol_id():
    """Crews parked together at the station are exactly as far: the order must not depend on input order."""
    station = at(500, 120)
    patrols = [("GN-9", *station), ("BAC-7", *station), ("BAC-10", *station), ("AB-1", *at(800, 0))]
    assert [c.patrol_id for c in rank(*RENNES, patrols, k=4)] == ["BAC-10", "BAC-7", "GN-9", "AB-1"]
    shuffled = list(reversed(patrols))
    assert [c.patrol_id for c in rank(*RENNES, shuffled, k=4)] == ["BAC-10", "BAC-7", "GN-9", "AB-1"]


def test_fewer_patrols_than_k_none_and_k_zero():
    one = [("BAC-1", *at(100, 0))]
    assert [c.patrol_id for c in rank(*RENNES, one, k=5)] == ["BAC-1"]
    assert rank(*RENNES, [], k=5) == []
    assert rank(*RENNES, one, k=0) == []
    assert rank(*RENNES, iter(one), k=1)[0].patrol_id == "BAC-1", "any iterable, read once"


def test_rank_agrees_with_a_plain_sort_on_random_patrols():
    rng = random.Random(7)
    patrols = [(f"P-{i}", RENNES[0] + rng.uniform(-0.1, 0.1), RENNES[1] + rng.uniform(-0.15, 0.15))
               for i in range(2_000)]
    target = (48.12, -1.66)
    expected = sorted(patrols, key=lambda p: (float(haversine_m(*target, p[1], p[2])), p[0]))[:5]
    assert [c.patrol_id for c in rank(*target, patrols, k=5)] == [p[0] for p in expected]
