"""Figures as the supervisor reads them: rounded to what the straight-line estimate can honestly claim."""

from __future__ import annotations

import pytest

from dispatch.domain.ranking import eta_seconds
from dispatch.ui.format import distance_text, eta_text


@pytest.mark.parametrize(
    "metres, text",
    [(0, "0 m"), (4, "0 m"), (6, "10 m"), (84, "80 m"), (850, "850 m"), (994, "990 m"),
     (995, "1.0 km"), (1_234, "1.2 km"), (9_949, "9.9 km"), (9_950, "10 km"), (23_600, "24 km"),
     (-5, "0 m")],
)
def test_distance_text(metres, text):
    assert distance_text(metres) == text


@pytest.mark.parametrize(
    "seconds, text",
    [(0, "≈ 1 min"), (30, "≈ 1 min"), (60, "≈ 1 min"), (61, "≈ 2 min"), (179.2, "≈ 3 min"),
     (3_540, "≈ 59 min"), (3_541, "≈ 1 h 00"), (3_900, "≈ 1 h 05"), (7_260, "≈ 2 h 01"), (-10, "≈ 1 min")],
)
def test_eta_text_rounds_minutes_up(seconds, text):
    assert eta_text(seconds) == text


def test_a_patrol_on_the_spot_is_still_a_minute_away():
    # The ranking's ETA includes getting the car moving; the text never says "0 min".
    assert eta_text(eta_seconds(0)) == "≈ 1 min"
