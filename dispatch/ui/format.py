"""Figures as a supervisor reads them from three metres: short, rounded, with their unit.

A distance to the metre or an ETA to the second would claim a precision the
straight-line ranking does not have (domain/ranking.py: the ETA is an order of
magnitude), and would make two candidates look different when they are not.
Pure functions; the browser shows the strings as they are (as text).
"""

from __future__ import annotations

import math


def distance_text(metres: float) -> str:
    """"80 m", "850 m", "1.2 km", "12 km": tens of metres below 1 km, then 2-3 significant figures."""
    metres = max(0.0, float(metres))
    if metres < 995:  # 995 m would round to "1000 m": say "1.0 km" instead
        return f"{round(metres, -1):.0f} m"
    if metres < 9_950:
        return f"{metres / 1000:.1f} km"
    return f"{metres / 1000:.0f} km"


def eta_text(seconds: float) -> str:
    """"≈ 1 min", "≈ 4 min", "≈ 1 h 05": whole minutes, rounded up (never promise earlier than likely)."""
    minutes = max(1, math.ceil(max(0.0, float(seconds)) / 60))
    if minutes < 60:
        return f"≈ {minutes} min"
    return f"≈ {minutes // 60} h {minutes % 60:02d}"
