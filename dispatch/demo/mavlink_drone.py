"""The demo's MAVLink drone: one simulated drone speaks real MAVLink to the MAVLink bridge instead of
XADDing its telemetry, so every `make run` exercises the bridge path (issue 13).

The simulator hands each telemetry message of that drone to `MavlinkDroneLink.send`, which encodes what
an autopilot would stream (pymavlink, MAVLink 2): a HEARTBEAT once a second (a quadrotor on PX4), a
SYS_STATUS with the battery, and the GLOBAL_POSITION_INT itself (lat/lon 1e-7 degrees, altitude above
take-off in mm, heading in centidegrees, velocity north/east in cm/s), over UDP to the bridge. When the
simulated drone is grounded for its battery swap it sends nothing, heartbeats included, as a powered-off
airframe would: the bridge stops, and the watch process raises "link lost" as for any drone.
"""

from __future__ import annotations

import math
import time

MAV_TYPE_QUADROTOR = 2
MAV_AUTOPILOT_PX4 = 12
MAV_STATE_ACTIVE = 4
HEARTBEAT_EVERY_S = 1.0


def mavlink_fields(telemetry: dict[str, str]) -> dict[str, int]:
    """GLOBAL_POSITION_INT's fields and SYS_STATUS's battery from a telemetry message (docs/streams.md)."""
    heading, speed = float(telemetry["heading_deg"]), float(telemetry["speed_mps"])
    return {
        "lat": round(float(telemetry["lat"]) * 1e7),
        "lon": round(float(telemetry["lon"]) * 1e7),
        "relative_alt": round(float(telemetry["alt_m"]) * 1000),
        "hdg": round(heading * 100) % 36_000,
        "vx": round(speed * math.cos(math.radians(heading)) * 100),
        "vy": round(speed * math.sin(math.radians(heading)) * 100),
        "battery_remaining": max(0, min(100, round(float(telemetry["battery_pct"])))),
    }


class MavlinkDroneLink:
    """A simulated autopilot's MAVLink output to `connection` (e.g. udpout:127.0.0.1:14550)."""

    def __init__(self, connection: str, system_id: int = 1, clock=time.monotonic) -> None:
        from pymavlink import mavutil

        self.link = mavutil.mavlink_connection(connection, source_system=system_id, source_component=1)
        self.clock = clock
        self.booted = clock()
        self.last_heartbeat = -math.inf
        self.sent = 0

    def send(self, telemetry: dict[str, str]) -> None:
        fields = mavlink_fields(telemetry)
        mav = self.link.mav
        now = self.clock()
        try:
            if now - self.last_heartbeat >= HEARTBEAT_EVERY_S:
                self.last_heartbeat = now
                mav.heartbeat_send(MAV_TYPE_QUADROTOR, MAV_AUTOPILOT_PX4, 0, 0, MAV_STATE_ACTIVE)
                mav.sys_status_send(0, 0, 0, 500, 15_800, -1, fields["battery_remaining"], 0, 0, 0, 0, 0, 0)
            mav.global_position_int_send(int((now - self.booted) * 1000) % 2**32, fields["lat"], fields["lon"],
                                         fields["relative_alt"], fields["relative_alt"], fields["vx"], fields["vy"],
                                         0, fields["hdg"])
        except OSError:  # the bridge is not listening (yet): a radio link drops packets too
            return
        self.sent += 1

    def close(self) -> None:
        self.link.close()
