"""MAVLink state per system: heartbeats keep a drone's positions flowing, the battery and heading are the
latest known, units converted."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatch.domain.drone_fix import Drop, Fix
from dispatch.domain.mavlink_drones import HEADING_UNKNOWN, MAV_AUTOPILOT_INVALID, MAV_TYPE_GCS, MavlinkDrones

T0 = 1_767_225_600_000
QUADROTOR, PX4 = 2, 12


def position(drones, now_ms=T0, system_id=7, hdg=27_500, vx=1240, vy=0, **more):
    fields = dict(lat_e7=481_173_000, lon_e7=-16_778_000, relative_alt_mm=120_500, hdg_cdeg=hdg, vx_cms=vx,
                  vy_cms=vy, now_ms=now_ms)
    fields.update(more)
    return drones.position(system_id, f"DR-{system_id}", **fields)


def alive(system_id=7, battery=81) -> MavlinkDrones:
    drones = MavlinkDrones()
    drones.heartbeat(system_id, QUADROTOR, PX4, T0)
    drones.battery(system_id, battery)
    return drones


def test_a_position_with_heartbeat_and_battery_is_a_fix_in_contract_units():
    assert position(alive()) == Fix("DR-7", T0, 48.1173, -1.6778, 120.5, 275.0, 12.4, 81.0)


def test_without_a_recent_vehicle_heartbeat_positions_are_dropped():
    drones = MavlinkDrones(heartbeat_timeout_ms=5_000)
    drones.battery(7, 50)
    assert position(drones).reason == "no_heartbeat"
    assert drones.heartbeat(7, MAV_TYPE_GCS, PX4, T0) is False
    assert drones.heartbeat(7, 30, MAV_AUTOPILOT_INVALID, T0) is False  # a camera
    assert position(drones).reason == "no_heartbeat"
    assert drones.heartbeat(7, QUADROTOR, PX4, T0) is True
    assert isinstance(position(drones, now_ms=T0 + 5_000), Fix)
    assert position(drones, now_ms=T0 + 5_001).reason == "no_heartbeat"


def test_without_a_battery_level_positions_are_dropped_and_unknown_keeps_the_last():
    drones = MavlinkDrones()
    drones.heartbeat(7, QUADROTOR, PX4, T0)
    drones.battery(7, -1)
    reading = position(drones)
    assert isinstance(reading, Drop) and reading.reason == "battery_unknown" and reading.drone_id == "DR-7"
    drones.battery(7, 40)
    drones.battery(7, -1)
    assert position(drones).battery_pct == 40


@pytest.mark.parametrize("vx, vy, expected", [(0, 300, 90.0), (-300, 0, 180.0), (0, -300, 270.0), (300, 0, 0.0)])
def test_an_unknown_heading_is_the_direction_of_motion(vx, vy, expected):
    assert position(alive(), hdg=HEADING_UNKNOWN, vx=vx, vy=vy).heading_deg == pytest.approx(expected)


def test_an_unknown_heading_while_hovering_keeps_the_last_known_else_0():
    drones = alive()
    assert position(drones, hdg=HEADING_UNKNOWN, vx=10, vy=10).heading_deg == 0.0
    position(drones, hdg=4_500)
    assert position(drones, hdg=HEADING_UNKNOWN, vx=0, vy=0).heading_deg == 45.0


def test_systems_are_kept_apart():
    drones = alive(system_id=1, battery=90)
    assert position(drones, system_id=2).reason == "no_heartbeat"
    assert position(drones, system_id=1).battery_pct == 90


@given(st.integers(0, 35_999))
def test_every_known_heading_is_in_0_360(hdg):
    assert 0 <= position(alive(), hdg=hdg).heading_deg < 360
