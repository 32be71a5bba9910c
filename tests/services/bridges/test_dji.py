"""The DJI Cloud API bridge, as a real process, subscribed to a real mosquitto broker; real payloads
published with paho-mqtt, as a DJI dock or the Pilot 2 app publishes them."""

from __future__ import annotations

import json
import time

import paho.mqtt.client as mqtt
import pytest

from tests.services.bridges.conftest import bridge_counters, telemetry_entries
from tests.support.mosquitto import Mosquitto
from tests.support.processes import wait_until

SERIAL = "1581F5FHD23400AB"
DOCK = "5YSZK8T00A0001"


def osd(serial: str, **data) -> tuple[str, str]:
    body = {"latitude": 48.1173, "longitude": -1.6778, "height": 165.2, "elevation": 120.4, "attitude_head": -90.5,
            "horizontal_speed": 8.3, "vertical_speed": 0.2, "mode_code": 5, "battery": {"capacity_percent": 76},
            **data}
    envelope = {"tid": "6a7bfe89-c386-4043-b600-b518e10096cc", "bid": "42a19f36-5117-4520-bd13-fd61d818d52e",
                "timestamp": int(time.time() * 1000), "gateway": DOCK, "data": body}
    return f"thing/product/{serial}/osd", json.dumps(envelope)


def dock_osd() -> tuple[str, str]:
    envelope = {"tid": "t", "bid": "b", "timestamp": int(time.time() * 1000), "gateway": DOCK,
                "data": {"mode_code": 1, "latitude": 48.1, "longitude": -1.6, "height": 40.0, "drone_in_dock": 1,
                         "drone_charge_state": {"capacity_percent": 100, "state": 0}, "network_state": {"type": 2}}}
    return f"thing/product/{DOCK}/osd", json.dumps(envelope)


class Publisher:
    def __init__(self, port: int):
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-dock-{time.monotonic_ns()}")
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def publish(self, message: tuple[str, str]) -> None:
        self.client.publish(*message, qos=1).wait_for_publish(timeout=5)

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def publisher(mosquitto):
    made = []

    def make(port=mosquitto.port):
        made.append(Publisher(port))
        return made[-1]

    yield make
    for client in made:
        client.close()


def test_aircraft_states_become_telemetry_and_dock_states_are_skipped(
        redis_client, keys, start_bridge, mosquitto, publisher, tmp_path):
    ids = tmp_path / "drones.json"
    ids.write_text(json.dumps({"1581F5FHD23400CD": "DR-12"}))
    bridge = start_bridge("dji", "--mqtt", mosquitto.url, "--drone-ids", str(ids), ready="subscribed to")
    dock = publisher()
    dock.publish(osd(SERIAL))
    dock.publish(osd("1581F5FHD23400CD", attitude_head=179.9, battery={"capacity_percent": 12}))
    dock.publish(dock_osd())
    dock.publish(osd("1581F5FHD23400EF", latitude=0.0, longitude=0.0))  # no fix yet
    dock.publish(("thing/product/1581F5FHD23400EF/osd", "{garbage"))
    entries = wait_until(lambda: len(telemetry_entries(redis_client, keys)) >= 2 and
                         telemetry_entries(redis_client, keys), what="two telemetry entries")
    by_drone = {entry.drone_id: entry for entry in entries}
    assert set(by_drone) == {"DR-D23400AB", "DR-12"}
    first = by_drone["DR-D23400AB"]
    assert (first.lat, first.lon, first.alt_m, first.heading_deg, first.speed_mps, first.battery_pct) == (
        pytest.approx(48.1173), pytest.approx(-1.6778), 120.4, 269.5, 8.3, 76)
    assert by_drone["DR-12"].heading_deg == 179.9 and by_drone["DR-12"].battery_pct == 12
    counters = wait_until(lambda: (c := bridge_counters(redis_client, keys)).get("dji:in", 0) >= 5 and c,
                          what="the counters")
    assert counters["dji:out"] == 2
    assert counters["dji:dropped:no_position"] == 1
    assert counters["dji:dropped:no_fix"] == 1
    assert counters["dji:dropped:bad_payload"] == 1
    assert "dropped: bad_payload" in bridge.output()


def test_the_bridge_comes_back_after_the_broker_restarts(redis_client, keys, start_bridge, publisher, tmp_path):
    broker = Mosquitto(tmp_path / "broker").start()
    try:
        bridge = start_bridge("dji", "--mqtt", broker.url, ready="subscribed to")
        broker.stop()
        wait_until(lambda: "reopening in" in bridge.output(), what="the bridge to see the broker gone")
        broker.start()
        wait_until(lambda: bridge.output().count("subscribed to") >= 2, timeout=20, what="the bridge back")
        dock = publisher(broker.port)
        dock.publish(osd(SERIAL))
        wait_until(lambda: telemetry_entries(redis_client, keys), what="telemetry after the restart")
        counters = wait_until(lambda: (c := bridge_counters(redis_client, keys)).get("dji:reconnects") and c,
                              what="the reconnection counted")
        assert counters["dji:reconnects"] >= 1
    finally:
        broker.stop()


def test_a_broker_that_is_not_there_yet_is_waited_for(redis_client, keys, start_bridge, publisher, tmp_path):
    broker = Mosquitto(tmp_path / "late")
    try:
        bridge = start_bridge("dji", "--mqtt", broker.url, ready="reopening in")
        broker.start()
        wait_until(lambda: "subscribed to" in bridge.output(), timeout=20, what="the bridge connected")
        publisher(broker.port).publish(osd(SERIAL))
        wait_until(lambda: telemetry_entries(redis_client, keys), what="telemetry")
    finally:
        broker.stop()
