"""The demo's MAVLink drone: the simulator sends DR-01 as real MAVLink through the real MAVLink bridge,
the other units as before; the launcher wires the two together."""

from __future__ import annotations

import json
import socket

import pytest

from dispatch.demo.launcher import DEMO_DRONE_IDS, child_commands, demo_mavlink_port
from dispatch.demo.mavlink_drone import mavlink_fields
from dispatch.domain.acl import RedisUser
from dispatch.settings import Settings
from tests.services.bridges.conftest import free_port, telemetry_entries
from tests.support.processes import python_module, wait_until


def test_telemetry_becomes_autopilot_units():
    fields = mavlink_fields({"drone_id": "DR-01", "ts": "1", "lat": "48.1173", "lon": "-1.6778", "alt_m": "95.5",
                             "heading_deg": "90.0", "speed_mps": "8.0", "battery_pct": "80.6"})
    assert fields == {"lat": 481_173_000, "lon": -16_778_000, "relative_alt": 95_500, "hdg": 9000, "vx": 0,
                      "vy": 800, "battery_remaining": 81}


def test_the_launcher_runs_the_bridge_before_the_simulator_on_one_port(tmp_path):
    settings = Settings.from_env({"DISPATCH_DATA_DIR": str(tmp_path / "var")})
    port = demo_mavlink_port(settings)
    assert json.loads((tmp_path / "var" / DEMO_DRONE_IDS).read_text()) == {"1": "DR-01"}
    commands = dict(child_commands(settings, port))
    names = [name for name, _ in child_commands(settings, port)]
    assert names[-2:] == ["bridge", "simulator"]
    assert commands["bridge"][-4:] == ["--listen", f"udpin:127.0.0.1:{port}", "--drone-ids",
                                       str(tmp_path / "var" / DEMO_DRONE_IDS)]
    assert commands["simulator"][-4:] == ["--mavlink", f"udpout:127.0.0.1:{port}", "--mavlink-drone", "DR-01"]
    assert "bridge" not in dict(child_commands(settings))  # without a port: the simulator XADDs everything


def test_the_simulated_drone_reaches_the_stream_through_the_bridge(settings, keys, redis_client, tmp_path):
    port = free_port(socket.SOCK_DGRAM)
    ids = tmp_path / "ids.json"
    ids.write_text('{"1": "DR-01"}')
    bridge = python_module("bridge", "dispatch", settings, "bridge", "mavlink", "--listen",
                           f"udpin:127.0.0.1:{port}", "--drone-ids", str(ids), role=RedisUser.BRIDGE).start()
    simulator = None
    try:
        wait_until(lambda: "listening:" in bridge.output(), timeout=15, what="the bridge")
        simulator = python_module("simulator", "dispatch.demo.simulator", settings, "--duration", "6",
                                  "--mavlink", f"udpout:127.0.0.1:{port}").start()
        assert simulator.process.wait(timeout=30) == 0, simulator.output()
        wait_until(lambda: any(entry.drone_id == "DR-01" for entry in telemetry_entries(redis_client, keys)),
                   what="DR-01 through the bridge")
    finally:
        bridge.stop()
        if simulator is not None:
            simulator.stop()
    drones = {entry.drone_id for entry in telemetry_entries(redis_client, keys)}
    assert {"DR-01", "DR-02"} <= drones
    assert "DR-01 speaks MAVLink" in simulator.output()
    assert "WARNING" not in bridge.output(), bridge.output()  # nothing refused (held positions are no refusal)
    assert int(redis_client.hget(keys.bridge_stats, "mavlink:out")) >= 2  # DR-01 came through the bridge


@pytest.mark.parametrize("heading", ["0.0", "359.9"])
def test_headings_stay_in_centidegrees(heading):
    fields = mavlink_fields({"lat": "1", "lon": "1", "alt_m": "1", "heading_deg": heading, "speed_mps": "0",
                             "battery_pct": "50"})
    assert 0 <= fields["hdg"] < 36_000
