"""How often a bridge sends each drone's telemetry: at least once a second, at most the configured rate,
and never late with a change that matters.

Why: a PX4 autopilot streams GLOBAL_POSITION_INT at 10-50 Hz, a DJI dock at 0.5-10 Hz; the wall screen
redraws a drone at most a few times a second and ingest keeps only the newest message of each unit per
batch, so the surplus is only load on Redis and retention. But the contract wants at least 1 Hz (the
link-lost alert fires after 5 s without telemetry), so the limiter's interval is at most one second,
and a held message is never lost: the newest held fix of each drone goes out as soon as its interval
has passed (`due`), even if the drone sends nothing more. A change that matters goes out at once, within
a hard floor against a flood: the first fix of a drone, a jump of `jump_m` or more since the last sent
position (a drone crossing into a zone must not wait), a battery step of `battery_step_pct`.
Pure: the caller gives the time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .drone_fix import Fix
from .geo import EARTH_RADIUS_M


@dataclass(frozen=True)
class RatePolicy:
    max_hz: float = 2.0  # at most this many messages a second per drone (at least 1)
    jump_m: float = 25.0  # a move of this much since the last sent position goes out at once
    battery_step_pct: float = 1.0  # so does a battery change of this much
    floor_ms: int = 100  # ...but never two messages of one drone closer than this

    def __post_init__(self) -> None:
        if not self.max_hz >= 1.0:
            raise ValueError(f"the rate must be at least 1 message a second per drone (the contract), not {self.max_hz}")
        if self.jump_m <= 0 or self.battery_step_pct <= 0 or self.floor_ms < 0:
            raise ValueError("jump_m and battery_step_pct must be positive, floor_ms not negative")

    @property
    def interval_ms(self) -> float:
        return 1000.0 / self.max_hz


@dataclass
class _Drone:
    sent: Fix
    sent_at_ms: int
    held: Fix | None = None


@dataclass
class TelemetryRate:
    """Per-drone decisions: `offer` a fix as it arrives, call `due` regularly (every 100-200 ms)."""

    policy: RatePolicy = field(default_factory=RatePolicy)
    superseded: int = 0  # fixes never sent: replaced by a newer one of the same drone, or older than the last sent
    _drones: dict[str, _Drone] = field(default_factory=dict)

    def offer(self, fix: Fix, now_ms: int) -> Fix | None:
        """The fix to send now, or None if it is held (it replaces any fix held before for this drone)."""
        drone = self._drones.get(fix.drone_id)
        if drone is None:
            self._drones[fix.drone_id] = _Drone(fix, now_ms)
            return fix
        elapsed = now_ms - drone.sent_at_ms
        if fix.ts < drone.sent.ts:  # older than what was sent (a reordered packet): nothing to say
            self.superseded += 1
            return None
        if drone.held is not None:
            self.superseded += 1
        if elapsed >= self.policy.interval_ms or (elapsed >= self.policy.floor_ms and self.matters(drone.sent, fix)):
            self._drones[fix.drone_id] = _Drone(fix, now_ms)
            return fix
        drone.held = fix
        return None

    def due(self, now_ms: int) -> list[Fix]:
        """Held fixes whose interval has passed, now marked sent: send them."""
        ready = []
        for drone in self._drones.values():
            if drone.held is not None and now_ms - drone.sent_at_ms >= self._wait_ms(drone):
                ready.append(drone.held)
                drone.sent, drone.sent_at_ms, drone.held = drone.held, now_ms, None
        return ready

    def forget(self, drone_id: str) -> None:
        self._drones.pop(drone_id, None)

    def matters(self, sent: Fix, fix: Fix) -> bool:
        """Would the picture be wrong if `fix` waited for the interval?"""
        return (
            _distance_m(sent.lat, sent.lon, fix.lat, fix.lon) >= self.policy.jump_m
            or abs(fix.battery_pct - sent.battery_pct) >= self.policy.battery_step_pct
        )

    def _wait_ms(self, drone: _Drone) -> float:
        if drone.held is not None and self.matters(drone.sent, drone.held):
            return self.policy.floor_ms
        return self.policy.interval_ms


def _distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """geo.haversine_m's formula on plain floats: it runs for every position a bridge receives (thousands a
    second), and numpy on scalars costs about 30 times more per call."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((phi2 - phi1) / 2) ** 2
         + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, max(0.0, a))))
