"""One drone position as a bridge decoded it, and whether it is fit to become telemetry.

Why a check of our own before the contract's validator: autopilots and the DJI app send zeros before a
GPS fix, NaN when a sensor fails, an unknown heading as 65535 centidegrees. Sent on, (0, 0) would put a
drone in the Gulf of Guinea on the wall screen (the contract accepts it: it is a valid position), and
the others would become dead letters nobody reads at the bridge. Each is refused here with a short
reason code that the bridge counts (`dropped:<reason>`) and logs. Pure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# The contract's ranges (dispatch/domain/models.py Telemetry), repeated as data so a reason can name them.
ALT_RANGE_M = (-100.0, 1_000.0)
SPEED_MAX_MPS = 100.0
NO_FIX_DEGREES = 1e-6  # |lat| and |lon| both below this: the (0, 0) an autopilot sends before a fix


@dataclass(frozen=True)
class Fix:
    """A drone position with everything the telemetry contract requires."""

    drone_id: str
    ts: int  # ms since the epoch, UTC
    lat: float
    lon: float
    alt_m: float
    heading_deg: float
    speed_mps: float
    battery_pct: float


@dataclass(frozen=True)
class Drop:
    """A message the bridge will not turn into telemetry, and why (a reason code, counted)."""

    reason: str
    drone_id: str | None = None
    detail: str = ""


def normalise_heading(degrees: float) -> float:
    """Any finite angle to [0, 360): DJI's -180..180 and 360 itself (the contract refuses 360)."""
    heading = math.fmod(degrees, 360.0)
    if heading < 0:
        heading += 360.0
    return 0.0 if heading >= 360.0 else heading + 0.0  # + 0.0 turns -0.0 into 0.0


def refusal(fix: Fix) -> str | None:
    """The reason code for which `fix` must not be sent, or None if it is fit."""
    numbers = (fix.lat, fix.lon, fix.alt_m, fix.heading_deg, fix.speed_mps, fix.battery_pct)
    if not all(isinstance(value, (int, float)) and math.isfinite(value) for value in numbers):
        return "not_finite"
    if abs(fix.lat) < NO_FIX_DEGREES and abs(fix.lon) < NO_FIX_DEGREES:
        return "no_fix"
    if not (-90.0 <= fix.lat <= 90.0 and -180.0 <= fix.lon <= 180.0):
        return "position_out_of_range"
    if not ALT_RANGE_M[0] <= fix.alt_m <= ALT_RANGE_M[1]:
        return "altitude_out_of_range"
    if not 0.0 <= fix.speed_mps <= SPEED_MAX_MPS:
        return "speed_out_of_range"
    if not 0.0 <= fix.battery_pct <= 100.0:
        return "battery_out_of_range"
    if not 0.0 <= fix.heading_deg < 360.0:
        return "heading_out_of_range"
    if fix.ts <= 0:
        return "bad_time"
    return None


def telemetry_fields(fix: Fix) -> dict[str, str]:
    """The stream entry (docs/streams.md, telemetry): plain decimals, never exponent notation or NaN.
    7 decimals of a degree is about 1 cm; more would be noise."""
    return {
        "drone_id": fix.drone_id,
        "ts": str(int(fix.ts)),
        "lat": f"{fix.lat:.7f}",
        "lon": f"{fix.lon:.7f}",
        "alt_m": f"{fix.alt_m:.1f}",
        "heading_deg": f"{fix.heading_deg:.1f}" if fix.heading_deg < 359.95 else "0.0",
        "speed_mps": f"{fix.speed_mps:.2f}",
        "battery_pct": f"{fix.battery_pct:.0f}" if fix.battery_pct == int(fix.battery_pct) else f"{fix.battery_pct:.1f}",
    }
