"""CoT in end to end: markers encoded by pytak (a real CoT encoder, shaped as ATAK drops a point) reach the real
bridge process over a real UDP socket and from a TCP server; the real ingest worker turns them into sightings of
the mapped operator; markers of unknown devices and device positions are counted and go nowhere; deleting the
marker in ATAK ends the sighting."""

from __future__ import annotations

import socket
import threading

from dispatch.domain.acl import RedisUser
from dispatch.store.assignments import sighting_endings
from dispatch.store.state import read_snapshot
from tests.domain.test_cot_in import DEVICE, delete, marker
from tests.services.bridges.test_cot import RunningIngest
from tests.support.processes import python_module, wait_until

MARKER = "4f1e3a5c-1111-4a2b-9c3d-0123456789ab"


def cot_in(settings, tmp_path, *args: str):
    senders = tmp_path / "senders.csv"
    senders.write_text(f"tak_uid,operator_id,drone_id\n{DEVICE},OP-3,DR-07\n")
    return python_module("bridge-cot-in", "dispatch", settings, "bridge", "cot-in", "--senders", str(senders),
                         *args, role=RedisUser.BRIDGE).start()


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def sightings(redis_client, keys) -> dict[str, dict]:
    return {s["sighting_id"]: s for s in read_snapshot(redis_client, keys)["sightings"]}


def stats(redis_client, keys) -> dict[str, int]:
    return {k.decode(): int(v) for k, v in redis_client.hgetall(keys.bridge_stats).items()}


def test_a_marker_over_udp_becomes_a_sighting_and_its_delete_ends_it(settings, keys, redis_client, tmp_path):
    port = free_udp_port()
    with RunningIngest(settings):
        service = cot_in(settings, tmp_path, "--listen", f"udp://127.0.0.1:{port}")
        try:
            wait_until(lambda: "receiving from" in service.output(), timeout=10, what="the bridge to listen")
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tak:
                tak.sendto(marker(uid=MARKER, callsign="vehicle P1", remarks="homme grand, veste rouge"),
                           ("127.0.0.1", port))
                tak.sendto(marker(uid="abcdef-999", producer="ANDROID-not-ours"), ("127.0.0.1", port))
                tak.sendto(b"<event><point", ("127.0.0.1", port))
                wait_until(lambda: MARKER in sightings(redis_client, keys), timeout=10, what="the sighting")
                sighting = sightings(redis_client, keys)[MARKER]
                assert (sighting["operator_id"], sighting["drone_id"], sighting["category"], sighting["priority"]) == (
                    "OP-3", "DR-07", "vehicle", 1)
                assert sighting["note"] == "" and sighting["number"].startswith("S-")
                assert "abcdef-999" not in sightings(redis_client, keys)
                wait_until(lambda: stats(redis_client, keys).get("cot-in:out") == 1 and
                           stats(redis_client, keys).get("cot-in:dropped:unknown_sender") == 1 and
                           stats(redis_client, keys).get("cot-in:dropped:not_xml") == 1, timeout=10,
                           what="the counters in Redis")
                tak.sendto(delete(MARKER), ("127.0.0.1", port))
                wait_until(lambda: MARKER not in sightings(redis_client, keys), timeout=10, what="the sighting to end")
            (ending,) = sighting_endings(redis_client, keys, MARKER)
            assert (ending["disposition"], ending["actor"], ending["reason"]) == ("ended_by_operator", "OP-3", "left")
        finally:
            assert service.stop() == 0, service.output()


def test_markers_from_a_tak_server_stream(settings, keys, redis_client, tmp_path):
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    sent = threading.Event()

    def serve():
        conn, _ = server.accept()
        with conn:  # a TAK server relays what its clients send, events back to back
            conn.sendall(marker(uid=MARKER, callsign="gathering") + b"\n" + marker(uid="abcdef-777", callsign="P3"))
            sent.set()
            conn.recv(1)  # hold the connection until the bridge closes it

    threading.Thread(target=serve, daemon=True).start()
    with RunningIngest(settings):
        service = cot_in(settings, tmp_path, "--from", f"tcp://127.0.0.1:{port}")
        try:
            wait_until(lambda: {MARKER, "abcdef-777"} <= set(sightings(redis_client, keys)), timeout=10,
                       what="both sightings")
            found = sightings(redis_client, keys)
            assert (found[MARKER]["category"], found["abcdef-777"]["priority"]) == ("gathering", 3)
        finally:
            assert service.stop() == 0, service.output()
            server.close()


def test_a_bad_senders_file_stops_the_bridge_with_a_reason(settings, tmp_path):
    senders = tmp_path / "senders.csv"
    senders.write_text("ANDROID-1,Jean Dupont,DR-07\n")
    service = python_module("bridge-cot-in", "dispatch", settings, "bridge", "cot-in", "--senders", str(senders),
                            "--listen", "udp://127.0.0.1:6969", role=RedisUser.BRIDGE).start()
    assert service.process.wait(20) == 2
    assert "not an operator code" in service.output()
