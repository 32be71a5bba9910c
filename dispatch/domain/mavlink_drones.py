"""What a MAVLink bridge knows of each drone, and how a GLOBAL_POSITION_INT becomes a telemetry fix.

MAVLink spreads what the contract wants over several messages: the position and velocity in
GLOBAL_POSITION_INT (lat/lon in 1e-7 degrees, `relative_alt` in mm above the home position, `hdg` in
centidegrees with 65535 for unknown, vx/vy/vz in cm/s north/east/down), the battery in SYS_STATUS or
BATTERY_STATUS (`battery_remaining` in %, -1 unknown), the link's life in HEARTBEAT (1 Hz). This keeps
the latest of each per system id and gives a `Fix` for each position, or a `Drop` saying why not:

- `no_heartbeat`: no vehicle heartbeat from that system for `heartbeat_timeout_ms` (5 s: MAVLink calls a
  link lost after 4-5 missed 1 Hz heartbeats). Its positions stop, so the watch process's "link lost"
  alert (telemetry older than 5 s) fires as for any silent drone; a ground station's or a camera's
  heartbeat (MAV_TYPE_GCS, MAV_AUTOPILOT_INVALID) does not keep a drone alive;
- `battery_unknown`: no battery level received yet (or only -1). The contract requires one, and a
  made-up level would hide a low battery or raise a false alert;
- the position's own checks (NaN, (0, 0) before a fix, ranges) are drone_fix.refusal's, after this.

`ts` is the time the bridge received the position (ms, UTC): `time_boot_ms` counts from the autopilot's
boot, not from the epoch. `alt_m` is `relative_alt` (above the take-off point). An unknown heading is
taken from the velocity when the drone moves (0.5 m/s or more), else the last known one, else 0.
Pure: the caller gives the time and the decoded fields.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .drone_fix import Drop, Fix, normalise_heading

HEADING_UNKNOWN = 65535  # GLOBAL_POSITION_INT.hdg when the autopilot does not know it
BATTERY_UNKNOWN = -1
MAV_TYPE_GCS = 6
MAV_AUTOPILOT_INVALID = 8  # "not a flight controller": gimbals, cameras, companion computers
MOVING_MPS = 0.5


@dataclass
class _System:
    heartbeat_ms: int | None = None
    battery_pct: float | None = None
    heading_deg: float | None = None


@dataclass
class MavlinkDrones:
    heartbeat_timeout_ms: int = 5_000
    _systems: dict[int, _System] = field(default_factory=dict)

    def _system(self, system_id: int) -> _System:
        return self._systems.setdefault(system_id, _System())

    def heartbeat(self, system_id: int, mav_type: int, autopilot: int, now_ms: int) -> bool:
        """A HEARTBEAT; True if it comes from a vehicle (and so keeps its positions flowing)."""
        if mav_type == MAV_TYPE_GCS or autopilot == MAV_AUTOPILOT_INVALID:
            return False
        self._system(system_id).heartbeat_ms = now_ms
        return True

    def battery(self, system_id: int, remaining_pct: int) -> None:
        """SYS_STATUS or BATTERY_STATUS `battery_remaining`; -1 (unknown) keeps the last known level."""
        if remaining_pct != BATTERY_UNKNOWN and 0 <= remaining_pct <= 100:
            self._system(system_id).battery_pct = float(remaining_pct)

    def position(self, system_id: int, drone_id: str, *, lat_e7: int, lon_e7: int, relative_alt_mm: int,
                 hdg_cdeg: int, vx_cms: int, vy_cms: int, now_ms: int) -> Fix | Drop:
        system = self._system(system_id)
        if system.heartbeat_ms is None or now_ms - system.heartbeat_ms > self.heartbeat_timeout_ms:
            return Drop("no_heartbeat", drone_id, f"no vehicle heartbeat from system {system_id} for "
                        f"{self.heartbeat_timeout_ms / 1000:g} s")
        if system.battery_pct is None:
            return Drop("battery_unknown", drone_id, f"no battery level from system {system_id} yet")
        speed = math.hypot(vx_cms, vy_cms) / 100.0
        if hdg_cdeg != HEADING_UNKNOWN:
            system.heading_deg = normalise_heading(hdg_cdeg / 100.0)
        elif speed >= MOVING_MPS:
            system.heading_deg = normalise_heading(math.degrees(math.atan2(vy_cms, vx_cms)))
        return Fix(
            drone_id=drone_id,
            ts=now_ms,
            lat=lat_e7 / 1e7,
            lon=lon_e7 / 1e7,
            alt_m=relative_alt_mm / 1000.0,
            heading_deg=system.heading_deg if system.heading_deg is not None else 0.0,
            speed_mps=speed,
            battery_pct=system.battery_pct,
        )
