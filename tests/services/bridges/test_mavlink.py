"""The MAVLink bridge, as a real process, fed real MAVLink: pymavlink encodes the packets and sends them
over UDP, as an autopilot or a ground station forwarding one would."""

from __future__ import annotations

import json
import socket
import time

import pytest
from pymavlink import mavutil
from pymavlink.dialects.v20 import common as mavlink2

from tests.services.bridges.conftest import bridge_counters, free_port, telemetry_entries
from tests.support.processes import python_module, wait_until

RENNES = (48.1173, -1.6778)


class Autopilot:
    """One drone's MAVLink, sent with pymavlink to the bridge's UDP port."""

    def __init__(self, port: int, system_id: int):
        self.link = mavutil.mavlink_connection(f"udpout:127.0.0.1:{port}", source_system=system_id,
                                               source_component=1, dialect="common")
        self.boot = time.monotonic()

    def ms(self) -> int:
        return int((time.monotonic() - self.boot) * 1000)

    def heartbeat(self, mav_type=mavlink2.MAV_TYPE_QUADROTOR, autopilot=mavlink2.MAV_AUTOPILOT_PX4):
        self.link.mav.heartbeat_send(mav_type, autopilot, 0, 0, mavlink2.MAV_STATE_ACTIVE)

    def battery(self, remaining: int):
        self.link.mav.sys_status_send(0, 0, 0, 500, 15_800, -1, remaining, 0, 0, 0, 0, 0, 0)

    def battery_status(self, remaining: int):
        self.link.mav.battery_status_send(0, mavlink2.MAV_BATTERY_FUNCTION_ALL, mavlink2.MAV_BATTERY_TYPE_LIPO,
                                          2500, [4000] * 10, 1200, -1, -1, remaining)

    def position(self, lat: float, lon: float, *, relative_alt_m=120.0, hdg_cdeg=27_500, vx=1240, vy=0):
        self.link.mav.global_position_int_send(self.ms(), round(lat * 1e7), round(lon * 1e7), 160_000,
                                               round(relative_alt_m * 1000), vx, vy, 0, hdg_cdeg)

    def close(self):
        self.link.close()


@pytest.fixture
def port():
    return free_port(socket.SOCK_DGRAM)


@pytest.fixture
def autopilots(port):
    opened = []

    def open_one(system_id: int) -> Autopilot:
        opened.append(Autopilot(port, system_id))
        return opened[-1]

    yield open_one
    for autopilot in opened:
        autopilot.close()


def test_positions_become_telemetry_per_the_contract_and_reach_the_picture(
        settings, keys, redis_client, start_bridge, port, autopilots, tmp_path):
    ids = tmp_path / "drones.csv"
    ids.write_text("system_id,drone_id\n7,DR-07\n")
    bridge = start_bridge("mavlink", "--listen", f"udpin:127.0.0.1:{port}", "--drone-ids", str(ids))
    ingest = python_module("ingest", "dispatch.services.ingest", settings).start()
    try:
        mapped, unmapped = autopilots(7), autopilots(42)
        for drone in (mapped, unmapped):
            drone.heartbeat()
            drone.battery(81)
        mapped.position(*RENNES, relative_alt_m=120.5, hdg_cdeg=27_500, vx=1240, vy=0)
        unmapped.position(48.11, -1.68, hdg_cdeg=65_535, vx=0, vy=-300)  # unknown heading: from the velocity
        entries = wait_until(lambda: len(telemetry_entries(redis_client, keys)) >= 2 and
                             telemetry_entries(redis_client, keys), what="two telemetry entries")
        by_drone = {entry.drone_id: entry for entry in entries}
        assert set(by_drone) == {"DR-07", "DR-42"}
        seven = by_drone["DR-07"]
        assert (seven.lat, seven.lon, seven.alt_m) == (pytest.approx(48.1173), pytest.approx(-1.6778), 120.5)
        assert (seven.heading_deg, seven.speed_mps, seven.battery_pct) == (275.0, 12.4, 81)
        assert abs(seven.ts - time.time() * 1000) < 5_000  # the time of receipt, not the autopilot's boot clock
        assert by_drone["DR-42"].heading_deg == 270.0 and by_drone["DR-42"].speed_mps == 3.0
        stored = wait_until(lambda: redis_client.hget(keys.drones, "DR-07"), what="DR-07 in the picture")
        assert json.loads(stored)["battery_pct"] == 81
        counters = wait_until(lambda: bridge_counters(redis_client, keys).get("mavlink:out", 0) >= 2 and
                              bridge_counters(redis_client, keys), what="the counters in Redis")
        assert counters["mavlink:in"] >= 6
        assert not any(name.startswith("rejected") for name in map(bytes.decode, redis_client.hkeys(keys.stats)))
    finally:
        ingest.stop()
    assert bridge.running, bridge.output()


def test_at_most_the_rate_and_the_newest_position_always_out(redis_client, keys, start_bridge, port, autopilots):
    start_bridge("mavlink", "--listen", f"udpin:127.0.0.1:{port}", "--max-rate", "2")
    drone = autopilots(3)
    drone.heartbeat()
    drone.battery(90)
    sent_lat = []
    started = time.monotonic()
    for step in range(30):  # 20 Hz for 1.5 s, a few metres apart: no change that matters
        lat = 48.11 + step * 0.00001
        sent_lat.append(lat)
        drone.position(lat, -1.68)
        if step % 20 == 0:
            drone.heartbeat()
        time.sleep(0.05)
    sending_s = time.monotonic() - started  # 1.5 s, more on a busy machine
    time.sleep(1.0)
    entries = telemetry_entries(redis_client, keys)
    assert 2 <= len(entries) <= 2 * sending_s + 2, [entry.lat for entry in entries]
    assert entries[0].lat == pytest.approx(sent_lat[0])
    assert entries[-1].lat == pytest.approx(sent_lat[-1])  # held, then sent once due: nothing is lost
    gaps = [later.ts - earlier.ts for earlier, later in zip(entries, entries[1:])]
    assert all(gap >= 400 for gap in gaps), gaps  # about 500 ms, the received time of each fix
    counters = wait_until(lambda: bridge_counters(redis_client, keys).get("mavlink:dropped:rate_limited")
                          and bridge_counters(redis_client, keys), what="the rate-limited count")
    assert counters["mavlink:dropped:rate_limited"] >= 20


def test_nonsense_is_refused_and_counted_by_reason(redis_client, keys, start_bridge, port, autopilots):
    bridge = start_bridge("mavlink", "--listen", f"udpin:127.0.0.1:{port}")
    no_fix, no_battery, silent, camera = autopilots(9), autopilots(10), autopilots(11), autopilots(12)
    no_fix.heartbeat()
    no_fix.battery(70)
    no_fix.position(0.0, 0.0)  # what autopilots send before a GPS fix
    no_battery.heartbeat()
    no_battery.battery(-1)  # "unknown"
    no_battery.position(*RENNES)
    silent.battery(70)
    silent.position(*RENNES)  # never a heartbeat
    camera.heartbeat(mav_type=mavlink2.MAV_TYPE_CAMERA, autopilot=mavlink2.MAV_AUTOPILOT_INVALID)
    camera.battery_status(50)
    camera.position(*RENNES)  # a camera's heartbeat keeps no drone alive
    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"\xfe\x09garbage-not-mavlink", ("127.0.0.1", port))
    counters = wait_until(
        lambda: (c := bridge_counters(redis_client, keys)).get("mavlink:dropped:no_heartbeat", 0) >= 2 and c,
        what="the drops counted")
    assert counters["mavlink:dropped:no_fix"] == 1
    assert counters["mavlink:dropped:battery_unknown"] == 1
    assert counters["mavlink:dropped:no_heartbeat"] == 2
    assert counters["mavlink:dropped:bad_packet"] >= 1
    assert telemetry_entries(redis_client, keys) == []
    assert "dropped (DR-9): no_fix" in bridge.output()


def test_a_drone_whose_heartbeats_stop_stops_being_sent(redis_client, keys, start_bridge, port, autopilots):
    """So the watch process's link-lost alert (telemetry older than 5 s) fires for it."""
    start_bridge("mavlink", "--listen", f"udpin:127.0.0.1:{port}", "--heartbeat-timeout", "1", "--max-rate", "5")
    drone = autopilots(5)
    drone.heartbeat()
    drone.battery(60)
    drone.position(*RENNES)
    wait_until(lambda: telemetry_entries(redis_client, keys), what="a first entry")
    time.sleep(1.3)
    drone.position(48.12, -1.67)
    wait_until(lambda: bridge_counters(redis_client, keys).get("mavlink:dropped:no_heartbeat"), what="a drop")
    assert len(telemetry_entries(redis_client, keys)) == 1
    drone.heartbeat()
    drone.position(48.12, -1.67)
    wait_until(lambda: len(telemetry_entries(redis_client, keys)) == 2, what="the drone back")


def test_a_bad_mapping_file_stops_the_bridge_at_start(settings, tmp_path):
    from dispatch.domain.acl import RedisUser

    ids = tmp_path / "drones.json"
    ids.write_text('{"7": "DR-7x"}')
    bridge = python_module("bridge", "dispatch", settings, "bridge", "mavlink", "--listen", "udpin:127.0.0.1:9",
                           "--drone-ids", str(ids), role=RedisUser.BRIDGE).start()
    assert bridge.process.wait(timeout=20) == 2
    assert "'DR-7x' is not a drone id" in bridge.output()




def test_over_tcp_the_bridge_reconnects_when_the_peer_goes(redis_client, keys, start_bridge):
    """`--listen tcp:HOST:PORT` connects to a TCP server (SITL, a radio's network bridge); when that server
    closes the connection the bridge connects again after a wait."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(15)
    port = server.getsockname()[1]
    encoder = mavlink2.MAVLink(None, srcSystem=21, srcComponent=1)

    def packets(lat: float) -> bytes:
        return b"".join(message.pack(encoder) for message in (
            encoder.heartbeat_encode(mavlink2.MAV_TYPE_FIXED_WING, mavlink2.MAV_AUTOPILOT_ARDUPILOTMEGA, 0, 0, 4),
            encoder.sys_status_encode(0, 0, 0, 500, 15_800, -1, 55, 0, 0, 0, 0, 0, 0),
            encoder.global_position_int_encode(1000, round(lat * 1e7), round(-1.68 * 1e7), 90_000, 80_000,
                                               1500, 0, 0, 9000),
        ))

    try:
        bridge = start_bridge("mavlink", "--listen", f"tcp:127.0.0.1:{port}")
        first, _ = server.accept()
        first.sendall(packets(48.11))
        wait_until(lambda: telemetry_entries(redis_client, keys), what="telemetry over TCP")
        first.close()
        wait_until(lambda: "reopening in" in bridge.output(), what="the bridge to see the peer gone")
        second, _ = server.accept()
        second.sendall(packets(48.12))
        entries = wait_until(lambda: len(telemetry_entries(redis_client, keys)) == 2 and
                             telemetry_entries(redis_client, keys), what="telemetry after reconnecting")
        assert [entry.lat for entry in entries] == [48.11, 48.12]
        assert (entries[0].drone_id, entries[0].alt_m, entries[0].heading_deg) == ("DR-21", 80.0, 90.0)
        second.close()
    finally:
        server.close()
