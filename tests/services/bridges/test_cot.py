"""CoT out end to end: the real bridge process, signed in as the read-only `cot` Redis user, sends the picture
that the real ingest worker built to a real UDP socket, a real TCP listener and a TLS server that checks its
client certificate; events are parsed as XML and checked against the CoT event schema's required
attributes; changes, keep-alives, deletes and reconnections are observed on the wire."""

from __future__ import annotations

import dataclasses
import socket
import ssl
import threading
import time
import xml.etree.ElementTree as ET
from datetime import datetime

import pytest

from dispatch.domain.acl import RedisUser
from dispatch.services.bridges.cot import check_destination
from dispatch.store.assignments import assign, close_sighting
from tests.services.test_ingest import RunningWorker
from tests.support.processes import python_module, role_url, wait_until
from tests.support.tls import make_authority

REQUIRED_EVENT = ("version", "uid", "type", "time", "start", "stale", "how")
REQUIRED_POINT = ("lat", "lon", "hae", "ce", "le")
NOTE = "grand homme veste rouge Zorglub"


def now_ms() -> int:
    return int(time.time() * 1000)


def cot_ms(text: str) -> float:
    assert text.endswith("Z"), text
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000


def parse(xml: bytes) -> ET.Element:
    """One event as a TAK client reads it: the schema's required attributes, stale after start."""
    root = ET.fromstring(xml)
    assert root.tag == "event" and root.get("version") == "2.0"
    for name in REQUIRED_EVENT:
        assert root.get(name), f"event/@{name} missing: {xml!r}"
    point = root.find("point")
    for name in REQUIRED_POINT:
        float(point.get(name))
    assert -90 <= float(point.get("lat")) <= 90 and -180 <= float(point.get("lon")) <= 180
    assert cot_ms(root.get("stale")) > cot_ms(root.get("start"))
    cot_ms(root.get("time"))
    return root


class Received:
    """Events received, in order, with the monotonic time each arrived."""

    def __init__(self) -> None:
        self.events: list[tuple[float, ET.Element, bytes]] = []
        self.lock = threading.Lock()

    def add(self, xml: bytes) -> None:
        root = parse(xml)
        with self.lock:
            self.events.append((time.monotonic(), root, xml))

    def of(self, uid_end: str, since: float = 0.0) -> list[ET.Element]:
        with self.lock:
            return [root for at, root, _ in self.events if at >= since and root.get("uid").endswith(uid_end)]

    def raw(self) -> bytes:
        with self.lock:
            return b"".join(xml for _, _, xml in self.events)


def until_stopped(stop: threading.Event, wait):
    """What `wait()` returns, each time, until `stop` is set or its socket is closed; a timeout only checks
    `stop` again (the sockets wait 0.2 s at a time, so `close` is seen quickly)."""
    while not stop.is_set():
        try:
            got = wait()
        except socket.timeout:
            continue
        except OSError:
            return
        yield got


class UdpReceiver:
    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.received = Received()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for data in until_stopped(self._stop, lambda: self.sock.recv(65536)):
            self.received.add(data)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


class StreamReceiver:
    """A TCP (optionally TLS) listener like a TAK server's input: events back to back on one stream. Each
    accepted connection's events are kept apart, so a reconnection's full resend can be seen."""

    def __init__(self, context: ssl.SSLContext | None = None, port: int = 0) -> None:
        self.listener = socket.create_server(("127.0.0.1", port))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.context = context
        self.connections: list[Received] = []
        self.current: socket.socket | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for conn, _ in until_stopped(self._stop, self.listener.accept):
            try:
                conn.settimeout(5)
                if self.context is not None:
                    conn = self.context.wrap_socket(conn, server_side=True)
                conn.settimeout(0.2)
            except (OSError, ssl.SSLError):
                conn.close()
                continue
            received = Received()
            self.connections.append(received)
            self.current = conn
            self._read(conn, received)

    def _read(self, conn: socket.socket, received: Received) -> None:
        buffer = b""
        while not self._stop.is_set():
            try:
                data = conn.recv(65536)
            except (socket.timeout, ssl.SSLWantReadError):
                continue
            except OSError:
                break
            if not data:
                break
            buffer += data
            while b"</event>" in buffer:
                event, buffer = buffer.split(b"</event>", 1)
                received.add(event.strip() + b"</event>")
        conn.close()

    def hang_up(self) -> None:
        """The server drops the bridge's connection, as a TAK server restarting does."""
        if self.current is not None:
            self.current.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._stop.set()
        self.listener.close()
        self._thread.join(3)


def bridge(settings, url: str, *args: str, **env: str):
    """`python -m dispatch bridge cot --to url ...`, signed in as the read-only cot user."""
    return python_module("bridge-cot", "dispatch", settings, "bridge", "cot", "--to", url, *args,
                         role=RedisUser.COT, **env).start()


def test_the_picture_reaches_a_udp_receiver_as_cot_without_the_note(settings, keys, redis_client):
    receiver = UdpReceiver()
    with RunningIngest(settings) as _:
        write_picture(redis_client, keys)
        service = bridge(settings, f"udp://127.0.0.1:{receiver.port}", "--keepalive", "2")
        try:
            got = receiver.received
            wait_until(lambda: got.of("patrol.BAC-12") and got.of("drone.DR-07") and got.of("sighting.sight-0001")
                       and got.of("sighting.sight-0002"), timeout=15, what="every object over UDP")
            patrol = got.of("patrol.BAC-12")[0]
            assert patrol.get("uid") == f"dispatch.{keys.site}.patrol.BAC-12"
            assert (patrol.get("type"), patrol.get("how")) == ("a-f-G-U-C", "m-g")
            assert patrol.find("detail/contact").get("callsign") == "BAC-12"
            link = patrol.find("detail/link")
            assert link.get("uid") == f"dispatch.{keys.site}.sighting.sight-0001"
            assert "Assigned to S-0001 P1 vehicle (assigned)" in patrol.find("detail/remarks").text
            drone = got.of("drone.DR-07")[0]
            assert drone.get("type") == "a-f-A-M-F-Q" and drone.find("detail/track").get("course") == "275.0"
            sighting = got.of("sighting.sight-0002")[0]
            assert (sighting.get("type"), sighting.get("how")) == ("a-u-G", "h-e")
            assert sighting.find("detail/contact").get("callsign") == "S-0002 P2 lookout"
            assert float(sighting.find("point").get("lat")) == pytest.approx(48.1105)
            assert b"Zorglub" not in got.raw() and b"veste" not in got.raw(), "the note never leaves"

            # A change goes out at once; the unchanged sighting only with its keep-alive (every 2 s here).
            moved_at = time.monotonic()
            redis_client.xadd(keys.in_patrols, {"patrol_id": "BAC-12", "ts": now_ms(), "lat": 48.2, "lon": -1.6803,
                                                "status": "available"})
            wait_until(lambda: any(p.find("point").get("lat") == "48.200000" for p in got.of("patrol.BAC-12", moved_at)),
                       timeout=5, what="the moved patrol")
            assert time.monotonic() - moved_at < 2.0, "a change is sent within the read period, not the keep-alive"
            watched = time.monotonic()
            time.sleep(4.6)
            renewals = got.of("sighting.sight-0002", watched)
            assert 2 <= len(renewals) <= 3, f"keep-alive every 2 s, not every read: {len(renewals)} in 4.6 s"
            stales = [cot_ms(e.get("stale")) for e in renewals]
            assert stales == sorted(stales) and stales[-1] > now_ms(), "each keep-alive renews the stale"

            # A sighting that ends is deleted on the devices.
            closed_at = time.monotonic()
            close_sighting(redis_client, keys, sighting_id="sight-0002", supervisor_id="SUP-1", reason="false_alarm")
            wait_until(lambda: got.of("sighting.sight-0002.delete", closed_at), timeout=5, what="the delete event")
            delete = got.of("sighting.sight-0002.delete", closed_at)[0]
            assert delete.get("type") == "t-x-d-d"
            assert delete.find("detail/link").get("uid") == f"dispatch.{keys.site}.sighting.sight-0002"
            time.sleep(2.5)
            assert not [e for e in got.of("sighting.sight-0002", closed_at) if e.get("type") != "t-x-d-d"], \
                "an ended sighting is not sent again"
        finally:
            assert service.stop() == 0, service.output()
            receiver.close()


def test_tcp_events_on_one_stream_and_everything_again_after_the_server_hangs_up(settings, keys, redis_client):
    receiver = StreamReceiver()
    with RunningIngest(settings):
        write_picture(redis_client, keys)
        service = bridge(settings, f"tcp://127.0.0.1:{receiver.port}")
        try:
            wait_until(lambda: receiver.connections and len({e.get("uid") for _, e, _ in
                                                             receiver.connections[0].events}) == 4,
                       timeout=15, what="four objects over TCP")
            receiver.hang_up()
            wait_until(lambda: len(receiver.connections) == 2 and len({e.get("uid") for _, e, _ in
                                                                       receiver.connections[1].events}) == 4,
                       timeout=15, what="a new connection with the whole picture again")
            assert b"Zorglub" not in receiver.connections[1].raw()
            assert "connecting again" in service.output()
        finally:
            assert service.stop() == 0, service.output()
            receiver.close()


def test_a_tcp_server_down_at_start_is_retried_with_backoff(settings, keys, redis_client):
    with socket.socket() as probe:  # a port with nobody listening (yet)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with RunningIngest(settings):
        write_picture(redis_client, keys)
        service = bridge(settings, f"tcp://127.0.0.1:{port}")
        receiver = None
        try:
            wait_until(lambda: service.output().count("connecting again") >= 2, timeout=10,
                       what="two refused connections")
            assert "connecting again in 0.5 s" in service.output() and "connecting again in 1.0 s" in service.output()
            receiver = StreamReceiver(port=port)
            wait_until(lambda: receiver.connections and len({e.get("uid") for _, e, _ in
                                                             receiver.connections[0].events}) == 4,
                       timeout=15, what="the picture once the server is up")
        finally:
            assert service.stop() == 0, service.output()
            if receiver is not None:
                receiver.close()


def test_tls_to_a_server_that_checks_the_client_certificate(settings, keys, redis_client, tmp_path):
    server_side = make_authority(tmp_path / "server", "tak")
    client_side = make_authority(tmp_path / "client", "tak-client")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(server_side.server_cert, server_side.server_key)
    context.verify_mode = ssl.CERT_REQUIRED  # as a TAK server on 8089: no client certificate, no stream
    context.load_verify_locations(client_side.ca_cert)
    receiver = StreamReceiver(context)
    with RunningIngest(settings):
        write_picture(redis_client, keys)
        service = bridge(settings, f"tls://127.0.0.1:{receiver.port}",
                         PYTAK_TLS_CLIENT_CERT=str(client_side.server_cert),
                         PYTAK_TLS_CLIENT_KEY=str(client_side.server_key),
                         PYTAK_TLS_CLIENT_CAFILE=str(server_side.ca_cert))
        try:
            wait_until(lambda: receiver.connections and len({e.get("uid") for _, e, _ in
                                                             receiver.connections[0].events}) == 4,
                       timeout=20, what="four objects over TLS")
        finally:
            assert service.stop() == 0, service.output()
            receiver.close()


def test_nonsense_destinations_are_refused_with_a_reason(settings, monkeypatch):
    monkeypatch.delenv("PYTAK_TLS_CLIENT_CERT", raising=False)
    for url, words in (("http://127.0.0.1:80", "scheme"), ("udp://127.0.0.1", "port"), ("udp://:6969", "host"),
                       ("tls://127.0.0.1:8089", "PYTAK_TLS_CLIENT_CERT")):
        assert words in check_destination(url)
    assert check_destination("udp://239.2.3.1:6969") is None
    service = bridge(settings, "tls://127.0.0.1:8089")  # the process says it and stops: exit 2
    assert service.process.wait(20) == 2
    assert "PYTAK_TLS_CLIENT_CERT" in service.output(), service.output()


class RunningIngest:
    """The real ingest worker, signed in as the ingest role, for the length of a test."""

    def __init__(self, settings) -> None:
        self.running = RunningWorker(dataclasses.replace(settings, redis_url=role_url(settings, RedisUser.INGEST)))

    def __enter__(self):
        self.running.__enter__()
        return self

    def __exit__(self, *exc):
        self.running.__exit__(*exc)


def write_picture(redis_client, keys) -> None:
    """A patrol sent to a sighting, another sighting open, a drone: through the input streams (ingest builds
    the picture), the assignment by the web app's store function."""
    ts = now_ms()
    redis_client.xadd(keys.in_patrols, {"patrol_id": "BAC-12", "ts": ts, "lat": 48.1051, "lon": -1.6803,
                                        "status": "available"})
    redis_client.xadd(keys.in_telemetry, {"drone_id": "DR-07", "ts": ts, "lat": 48.1173, "lon": -1.6778,
                                          "alt_m": 120.5, "heading_deg": 275.0, "speed_mps": 12.4,
                                          "battery_pct": 81.0})
    for sighting_id, category, priority in (("sight-0001", "vehicle", 1), ("sight-0002", "lookout", 2)):
        redis_client.xadd(keys.in_sightings, {"sighting_id": sighting_id, "ts": ts - 2_000, "drone_id": "DR-07",
                                              "operator_id": "OP-3", "category": category, "lat": 48.1105,
                                              "lon": -1.6801, "priority": priority, "note": NOTE})
    wait_until(lambda: redis_client.hlen(keys.sightings) == 2 and redis_client.hexists(keys.patrols, "BAC-12")
               and redis_client.hexists(keys.drones, "DR-07"), what="ingest to build the picture")
    assign(redis_client, keys, sighting_id="sight-0001", patrol_id="BAC-12", supervisor_id="SUP-1")


def _multicast_receiver(group: str, port: int) -> socket.socket | None:
    """A socket joined to `group`, if this machine delivers multicast to itself (a probe datagram comes back)."""
    import struct

    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    receiver.bind((group, port))
    receiver.settimeout(1.0)
    try:
        receiver.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                            struct.pack("4s4s", socket.inet_aton(group), socket.inet_aton("0.0.0.0")))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.sendto(b"probe", (group, port))
        receiver.recv(100)
    except OSError:
        receiver.close()
        return None
    return receiver


def test_multicast_is_udp_to_a_group(settings, keys, redis_client):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as free:  # a free port number for the group
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    receiver = _multicast_receiver("239.2.3.1", port)
    if receiver is None:
        pytest.skip("this machine has no multicast route (no default route or loopback multicast)")
    with RunningIngest(settings):
        write_picture(redis_client, keys)
        service = bridge(settings, f"udp://239.2.3.1:{port}")
        try:
            uids = set()
            deadline = time.monotonic() + 15
            while len(uids) < 4 and time.monotonic() < deadline:
                try:
                    uids.add(parse(receiver.recv(65536)).get("uid"))
                except socket.timeout:
                    pass
            assert len(uids) == 4, uids
        finally:
            assert service.stop() == 0, service.output()
            receiver.close()


def test_the_bridge_survives_redis_restarting_under_it(tmp_path, site):
    from dispatch.keys import Keys
    from dispatch.settings import Settings
    from dispatch.store.connection import connect
    from dispatch.store.embedded import EmbeddedRedis

    server = EmbeddedRedis(tmp_path / "redis", persistent=True).start()
    settings = Settings.from_env({"REDIS_URL": server.url, "DISPATCH_SITE": site, "DISPATCH_INGEST_BLOCK_MS": "100"})
    keys, client = Keys(site), connect(server.url)
    receiver = UdpReceiver()
    ingest = python_module("ingest", "dispatch.services.ingest", settings).start()
    service = bridge(settings, f"udp://127.0.0.1:{receiver.port}")
    got = receiver.received

    def move(lat: float) -> None:
        client.xadd(keys.in_patrols, {"patrol_id": "BAC-12", "ts": now_ms(), "lat": lat, "lon": -1.68,
                                      "status": "available"})
    try:
        move(48.1)
        wait_until(lambda: got.of("patrol.BAC-12"), timeout=15, what="the patrol before the restart")
        server.stop()
        time.sleep(2.0)  # past the client's own retries: the bridge must back off and read again
        server.start()
        assert service.running, service.output()
        after = time.monotonic()
        move(48.3)
        wait_until(lambda: any(p.find("point").get("lat") == "48.300000" for p in got.of("patrol.BAC-12", after)),
                   timeout=20, what="the patrol moved after the restart")
        assert "Redis unavailable" in service.output()
    finally:
        assert service.stop() == 0, service.output()
        ingest.stop()
        receiver.close()
        client.close()
        server.stop()
