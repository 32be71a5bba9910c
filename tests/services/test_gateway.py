"""The push gateway as a real process: real Redis, real websocket clients, real failures.

`python -m dispatch gateway` runs with the test's settings on a free port;
live entries are XADDed to `{site}:live` (or produced by the real ingest from
the input streams) and read back through websockets' sync client, or through a
raw socket that never reads, to play a stalled wall screen.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import os
import re
import signal
import socket
import statistics
import threading
import time

import orjson
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from dispatch.clock import now_ms
from dispatch.keys import Keys
from dispatch.settings import Settings
from dispatch.store import accounts
from dispatch.store.connection import connect as redis_connect
from dispatch.store.embedded import EmbeddedRedis, free_port
from tests.support.processes import Service, port_open, python_module, wait_until


class RunningGateway:
    """One gateway process; `restart` keeps the port, as a supervisor would."""

    def __init__(self, settings: Settings, port: int | None = None):
        self.settings = settings
        self.port = port or free_port()
        self.service: Service | None = None
        self.runs: list[Service] = []

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/live"

    def start(self) -> "RunningGateway":
        self.service = python_module(f"gateway-{len(self.runs)}", "dispatch.services.gateway", self.settings,
                                     DISPATCH_GATEWAY_PORT=str(self.port)).start()
        self.runs.append(self.service)
        wait_until(lambda: not self.service.running or ("following" in self.service.output()
                                                         and port_open(self.port)),
                   timeout=15, what="the gateway to listen and follow the live stream")
        assert self.service.running, f"gateway exited:\n{self.service.output()}"
        return self

    def stop(self) -> int | None:
        return self.service.stop() if self.service else None

    def output(self) -> str:
        return "\n".join(run.output() for run in self.runs)


@pytest.fixture
def gateway(settings):
    running = RunningGateway(settings).start()
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def _show_gateway_log_on_failure(request):
    yield
    # pytest shows captured output of failed tests only: the gateway's log is printed for them.
    gateway = request.node.funcargs.get("gateway")
    if gateway is not None:
        print(gateway.output()[-20_000:])


_open_clients: list["Client"] = []
_signed_in: dict[str, str] = {}  # the Cookie header of the current test's session


def sign_in(client, keys: Keys) -> None:
    """The live socket needs a signed-in session (dispatch/web/auth.py): every Client below sends this one."""
    session_id, _ = accounts.create_session(client, keys, user_id="SUP-1", role="supervisor")
    _signed_in["Cookie"] = f"dispatch_session={session_id}"


@pytest.fixture(autouse=True)
def _supervisor_session(redis_client, keys):
    sign_in(redis_client, keys)


@pytest.fixture(autouse=True)
def _close_clients():
    yield
    while _open_clients:
        _open_clients.pop().close()


class Client:
    """A websocket client that parses messages and can skip heartbeats; closed after each test."""

    def __init__(self, url: str, since: str | None = None, **options):
        options.setdefault("additional_headers", dict(_signed_in))
        self.ws = connect(url + (f"?since={since}" if since else ""), open_timeout=5, legacy=True, **options)
        self.last_id: str | None = None
        _open_clients.append(self)

    def next(self, timeout: float = 3.0, heartbeats: bool = False) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            message = orjson.loads(self.ws.recv(timeout=max(0.01, deadline - time.monotonic())))
            if message.get("id") is not None:
                self.last_id = message["id"]
            if heartbeats or message["type"] != "heartbeat":
                return message

    def collect(self, seconds: float, heartbeats: bool = False) -> list[dict]:
        messages = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                messages.append(self.next(timeout=left, heartbeats=True))
            except TimeoutError:
                break
        return [m for m in messages if heartbeats or m["type"] != "heartbeat"]

    @property
    def local_port(self) -> int:
        return self.ws.socket.getsockname()[1]

    def close(self) -> None:
        self.ws.close()


def publish(redis_client, keys: Keys, **collections: list[dict]) -> str:
    """One live entry, as the ingest script writes it."""
    return redis_client.xadd(keys.live, {name: orjson.dumps(units) for name, units in collections.items()}).decode()


def drone(drone_id: str, ts: int, **extra) -> dict:
    return {"drone_id": drone_id, "ts": ts, "lat": 48.11, "lon": -1.68, "alt_m": 80.0,
            "heading_deg": 90.0, "speed_mps": 6.5, "battery_pct": 81.0, **extra}


def units_of(messages: list[dict], collection: str = "drones") -> list[dict]:
    return [unit for m in messages for unit in m.get(collection, [])]


def client_number(gateway: RunningGateway, local_port: int) -> str:
    found = re.search(rf"client (\d+) connected from 127\.0\.0\.1:{local_port} ", gateway.output())
    assert found, f"no connection line for port {local_port}"
    return found.group(1)


# --- Snapshot and deltas ---------------------------------------------------------------------

def test_a_client_gets_the_picture_built_by_ingest_then_its_changes(settings, gateway, redis_client, keys):
    ingest = python_module("ingest", "dispatch.services.ingest", settings).start()
    try:
        base = now_ms()
        redis_client.xadd(keys.in_telemetry, {k: v for k, v in drone("DR-1", base).items()})
        wait_until(lambda: redis_client.hexists(keys.drones, "DR-1"), what="ingest to store DR-1")
        client = Client(gateway.url)
        snapshot = client.next()
        assert snapshot["type"] == "snapshot"
        assert [d["drone_id"] for d in snapshot["drones"]] == ["DR-1"]
        assert snapshot["patrols"] == [] and snapshot["sightings"] == []
        assert snapshot["id"] == redis_client.xrevrange(keys.live, count=1)[0][0].decode()

        for i in range(1, 31):
            redis_client.xadd(keys.in_telemetry, drone("DR-2", base + i, battery_pct=100 - i))
        received = []
        wait_until(lambda: received.extend(client.collect(0.2)) or
                   any(d["drone_id"] == "DR-2" and d["battery_pct"] == 70 for d in units_of(received)),
                   timeout=10, what="DR-2's last telemetry")
        assert all(m["type"] == "delta" for m in received)
        assert len(received) < 30, "ingest batches and gateway ticks coalesce"
        client.close()
    finally:
        ingest.stop()


def test_entries_written_together_arrive_as_one_coalesced_delta_per_tick(gateway, redis_client, keys):
    client = Client(gateway.url)
    assert client.next()["type"] == "snapshot"
    pipe = redis_client.pipeline(transaction=False)
    for i in range(20):
        pipe.xadd(keys.live, {"drones": orjson.dumps([drone("DR-1", i), drone(f"DR-{100 + i}", i)])})
    last_id = pipe.execute()[-1].decode()
    received = client.collect(1.0)
    assert 1 <= len(received) <= 2, "20 entries written within a millisecond span at most two ticks"
    assert received[-1]["id"] == last_id
    for message in received:
        ids = [d["drone_id"] for d in message["drones"]]
        assert ids.count("DR-1") == 1 and len(ids) == len(set(ids))
    assert [d for d in units_of(received) if d["drone_id"] == "DR-1"][-1]["ts"] == 19
    assert {d["drone_id"] for d in units_of(received)} == {"DR-1"} | {f"DR-{100 + i}" for i in range(20)}


def test_closed_units_and_unknown_collections_pass_through(gateway, redis_client, keys):
    client = Client(gateway.url)
    client.next()
    last = publish(redis_client, keys, sightings=[{"sighting_id": "sg-000001", "closed": True}],
                   weather=[{"id": "W-1", "wind_kmh": 30}])
    message = client.next()
    assert message == {"type": "delta", "id": last,
                       "sightings": [{"sighting_id": "sg-000001", "closed": True}],
                       "weather": [{"id": "W-1", "wind_kmh": 30}]}


def test_heartbeats_flow_every_second(gateway):
    client = Client(gateway.url)
    beats = [m for m in client.collect(3.3, heartbeats=True) if m["type"] == "heartbeat"]
    assert 3 <= len(beats) <= 4
    gaps = [b["server_ms"] - a["server_ms"] for a, b in zip(beats, beats[1:])]
    assert all(900 <= gap <= 1400 for gap in gaps), gaps
    assert abs(beats[-1]["server_ms"] - now_ms()) < 1_500
    assert all(b["upstream"] == "ok" and b["id"] is not None for b in beats[1:])


# --- Resume ----------------------------------------------------------------------------------

def test_a_client_resumes_after_its_last_id_with_no_gap_and_no_duplicate(gateway, redis_client, keys):
    client = Client(gateway.url)
    client.next()
    publish(redis_client, keys, drones=[drone("DR-0", 0)])
    assert client.next()["drones"] == [drone("DR-0", 0)]
    last_seen = client.last_id
    client.close()

    written = [publish(redis_client, keys, drones=[drone(f"DR-{i}", i)]) for i in range(1, 6)]
    again = Client(gateway.url, since=last_seen)
    received = again.collect(1.0)
    assert [m["type"] for m in received] == ["delta"], "resumed: no snapshot"
    assert [d["drone_id"] for d in units_of(received)] == [f"DR-{i}" for i in range(1, 6)]
    assert received[-1]["id"] == written[-1]
    again.close()

    third = Client(gateway.url, since=written[-1])
    assert third.collect(0.6) == [], "nothing after the last id: nothing sent, not even a snapshot"
    publish(redis_client, keys, drones=[drone("DR-9", 9)])
    assert third.next()["drones"] == [drone("DR-9", 9)]


def test_after_a_gateway_restart_clients_resume_from_redis(gateway, redis_client, keys):
    client = Client(gateway.url)
    client.next()
    publish(redis_client, keys, drones=[drone("DR-0", 0)])
    client.next()
    last_seen = client.last_id
    client.close()
    gateway.stop()

    written = [publish(redis_client, keys, drones=[drone(f"DR-{i}", i)]) for i in range(1, 4)]
    gateway.start()  # a new process: its memory starts after the entries written while it was down
    written.append(publish(redis_client, keys, drones=[drone("DR-4", 4)]))  # in memory and in Redis
    again = Client(gateway.url, since=last_seen)
    received = again.collect(1.0)
    assert [m["type"] for m in received] == ["delta"]
    assert [d["drone_id"] for d in units_of(received)] == ["DR-1", "DR-2", "DR-3", "DR-4"]
    assert received[-1]["id"] == written[-1]
    assert f"resumed after {last_seen} from Redis (4 entries)" in gateway.output()


@pytest.mark.parametrize("since", ["1-0", "not-an-id", "99999999999999-0"])
def test_a_resume_from_an_id_no_longer_or_never_in_the_stream_gets_a_snapshot(gateway, redis_client, keys, since):
    publish(redis_client, keys, drones=[drone("DR-1", 1)])
    client = Client(gateway.url, since=since)
    assert client.next()["type"] == "snapshot"


def test_a_resume_from_a_trimmed_id_gets_a_snapshot(gateway, redis_client, keys):
    first = publish(redis_client, keys, drones=[drone("DR-1", 1)])
    for i in range(2, 5):
        publish(redis_client, keys, drones=[drone(f"DR-{i}", i)])
    redis_client.xtrim(keys.live, maxlen=1, approximate=False)
    gateway.stop()
    gateway.start()  # memory no longer vouches for it either
    client = Client(gateway.url, since=first)
    assert client.next()["type"] == "snapshot"


# --- Slow clients ---------------------------------------------------------------------------

def stalled_socket(port: int) -> socket.socket:
    """A websocket client that completes the handshake and then never reads again."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: sets the window
    sock.connect(("127.0.0.1", port))
    sock.sendall(
        f"GET /live HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Cookie: {_signed_in['Cookie']}\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def test_a_stalled_client_does_not_delay_the_others_and_is_eventually_dropped(gateway, redis_client, keys):
    fast = Client(gateway.url)
    fast.next()
    stalled = stalled_socket(gateway.port)
    stalled_port = stalled.getsockname()[1]
    latencies: list[float] = []
    stop = threading.Event()

    def read_fast():
        while not stop.is_set():
            try:
                message = fast.next(timeout=0.5)
            except TimeoutError:
                continue
            except ConnectionClosed:
                return
            arrived = time.time() * 1000
            latencies.extend(arrived - unit["sent_ms"] for unit in message.get("drones", []))

    reader = threading.Thread(target=read_fast, daemon=True)
    reader.start()
    # 20 entries a second of 20 distinct drones carrying 1 KB of incompressible padding:
    # about 400 KB/s, which the stalled client's buffers and queue cannot absorb for long.
    started = time.monotonic()
    number = 0
    try:
        while "too slow" not in gateway.output() and time.monotonic() - started < 40:
            pad = base64.b64encode(os.urandom(768)).decode()
            units = [drone(f"DR-{number}-{k}", number, sent_ms=time.time() * 1000, pad=pad) for k in range(20)]
            publish(redis_client, keys, drones=units)
            number += 1
            time.sleep(0.05)
        dropped_after = time.monotonic() - started
        for after in range(10):  # the fast client keeps going after the drop
            publish(redis_client, keys, drones=[drone(f"DR-after-{after}", 0, sent_ms=time.time() * 1000)])
            time.sleep(0.05)
        time.sleep(0.5)
    finally:
        stop.set()
        reader.join(timeout=5)
        stalled.close()

    log = gateway.output()
    victim = client_number(gateway, stalled_port)
    survivor = client_number(gateway, fast.local_port)
    assert f"client {victim} fell behind" in log, "first: its deltas dropped, a snapshot queued"
    assert f"client {victim} disconnected: too slow" in log
    assert log.index(f"client {victim} fell behind") < log.index(f"client {victim} disconnected: too slow")
    assert f"client {survivor} fell behind" not in log and f"client {survivor} disconnected" not in log
    assert len(latencies) == 20 * number + 10, "the fast client got every unit"
    median, worst = statistics.median(latencies), max(latencies)
    print(f"stalled client dropped after {dropped_after:.1f} s, {number} entries; fast client latency "
          f"median {median:.0f} ms, max {worst:.0f} ms over {len(latencies)} units")
    assert worst < 500, f"fast client delayed: max {worst:.0f} ms"


# --- Handshake ------------------------------------------------------------------------------

def test_a_page_from_another_origin_is_refused(gateway):
    with pytest.raises(InvalidStatus) as refused, connect(gateway.url, origin="http://evil.example", open_timeout=5):
        pass
    assert refused.value.response.status_code == 403
    assert "origin 'http://evil.example' not allowed" in gateway.output()


@pytest.mark.parametrize("origin", ["http://127.0.0.1:8050", "http://localhost:8050", "http://[::1]:8050", None])
def test_the_web_apps_own_origins_are_accepted_by_default(gateway, origin):
    client = Client(gateway.url, origin=origin)
    assert client.next()["type"] == "snapshot"


# Issue 10: a page on the same host name but another port or scheme (a developer tool on :9999, a file://
# page, an https variant) used to be accepted: the browser sends the session cookie whatever the port.
@pytest.mark.parametrize("origin", ["http://127.0.0.1:9999", "http://127.0.0.1:5173", "file://127.0.0.1",
                                    "https://127.0.0.1:8050", "https://localhost:8050", "http://127.0.0.1", "null"])
def test_a_page_on_the_same_host_with_another_port_or_scheme_is_refused(gateway, origin):
    with pytest.raises(InvalidStatus) as refused, connect(gateway.url, origin=origin, open_timeout=5,
                                                          additional_headers=dict(_signed_in)):
        pass
    assert refused.value.response.status_code == 403
    assert f"origin {origin!r} not allowed" in gateway.output()


def test_the_allowed_origins_are_configured_exactly(settings):
    configured = RunningGateway(dataclasses.replace(settings, allowed_origins="https://dispatch.example")).start()
    try:
        assert Client(configured.url, origin="https://dispatch.example").next()["type"] == "snapshot"
        assert Client(configured.url, origin="https://dispatch.example:443").next()["type"] == "snapshot"
        for origin in ("http://dispatch.example", "https://dispatch.example:8443", "http://127.0.0.1:8050"):
            with pytest.raises(InvalidStatus) as refused, connect(configured.url, origin=origin, open_timeout=5,
                                                                  additional_headers=dict(_signed_in)):
                pass
            assert refused.value.response.status_code == 403, origin
    finally:
        configured.stop()


def test_a_configured_origin_that_is_not_one_stops_the_gateway_with_a_reason(settings):
    service = python_module("gateway", "dispatch.services.gateway", settings, DISPATCH_ALLOWED_ORIGINS="dispatch.example:443")
    assert service.start().process.wait(timeout=15) == 2
    assert "DISPATCH_ALLOWED_ORIGINS: 'dispatch.example:443' is not an origin" in service.output()


def test_only_the_live_path_is_served(gateway):
    with pytest.raises(InvalidStatus) as refused, connect(gateway.url.replace("/live", "/other"), open_timeout=5):
        pass
    assert refused.value.response.status_code == 404


def test_clients_may_not_send_large_messages(gateway):
    client = Client(gateway.url)
    client.next()
    client.ws.send("x" * 100_000)
    with pytest.raises(ConnectionClosed) as closed:
        client.collect(3.0) and client.next(timeout=3.0)
    assert closed.value.rcvd.code == 1009  # message too big


# --- Failures ---------------------------------------------------------------------------------

@pytest.mark.parametrize("persistent", [True, False], ids=["persistent", "not-persistent"])
def test_the_gateway_survives_redis_restarting_under_it(tmp_path, site, persistent):
    server = EmbeddedRedis(tmp_path / "redis", persistent=persistent).start()
    settings = Settings.from_env({"REDIS_URL": server.url, "DISPATCH_SITE": site})
    keys = Keys(site)
    writer = redis_connect(server.url)
    sign_in(writer, keys)
    gateway = RunningGateway(settings).start()
    try:
        client = Client(gateway.url)
        assert client.next()["type"] == "snapshot"
        publish(writer, keys, drones=[drone("DR-1", 1)])
        assert client.next()["drones"] == [drone("DR-1", 1)]

        # A Redis restarted without its data has lost the sessions too, and the gateway rightly closes sockets
        # whose session is gone (4401): the session is put back at once, as a persistent session store would
        # have kept it, so that what is tested here is the live stream's recovery.
        session = accounts.session_key(keys, _signed_in["Cookie"].split("=", 1)[1])
        saved = writer.dump(session)
        server.stop()
        wait_until(lambda: client.next(heartbeats=True).get("upstream") == "lost", timeout=10,
                   what="a heartbeat telling Redis is lost")
        server.start()
        if not persistent:
            writer.restore(session, 3_600_000, saved, replace=True)
        received: list[dict] = []  # everything from the restart on, in order
        wait_until(lambda: received.append(client.next(heartbeats=True)) or received[-1].get("upstream") == "ok",
                   timeout=15, what="a heartbeat telling Redis is back")
        after = publish(writer, keys, drones=[drone("DR-2", 2)])
        wait_until(lambda: received.extend(client.collect(0.3)) or any(m["id"] == after for m in received),
                   timeout=10, what="the entry written after the restart")
        received = [m for m in received if m["type"] != "heartbeat"]
        if persistent:
            assert [m["type"] for m in received] == ["delta"], "the stream kept its entries: no gap, no snapshot"
            assert "continues after" in gateway.output()
        else:
            assert [m["type"] for m in received] == ["snapshot", "delta"], "the stream was lost: a snapshot first"
            assert received[0]["drones"] == [], "the picture was lost with it"
            assert "every client gets a snapshot" in gateway.output()
        assert received[-1]["drones"] == [drone("DR-2", 2)]
        assert gateway.service.running
    finally:
        print(gateway.output())
        gateway.stop()
        writer.close()
        server.stop()


def test_sigterm_closes_clients_cleanly_and_exits(gateway):
    client = Client(gateway.url)
    client.next()
    started = time.monotonic()
    gateway.service.signal(signal.SIGTERM)
    with pytest.raises(ConnectionClosed) as closed:
        client.next(timeout=5)
    assert closed.value.rcvd.code == 1001  # going away
    assert gateway.service.process.wait(timeout=5) == 0
    assert time.monotonic() - started < 5
    assert "gateway stopped" in gateway.output()


def test_two_origin_headers_are_refused(gateway):
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=5) as sock:
        sock.sendall(
            f"GET /live HTTP/1.1\r\nHost: 127.0.0.1:{gateway.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Cookie: {_signed_in['Cookie']}\r\n"
            "Origin: http://127.0.0.1:8050\r\nOrigin: http://evil.example\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        assert sock.recv(100).startswith(b"HTTP/1.1 400")


# --- The hooks the roles issue will fill in -------------------------------------------------------

def test_the_authorise_and_subscription_hooks_decide_who_connects_and_what_they_see(settings, redis_client, keys):
    """In-process: the roles issue plugs its functions into Gateway; here, stand-ins."""
    from websockets.asyncio.client import connect as async_connect

    from dispatch.domain.live import Subscription
    from dispatch.services.gateway import Gateway, GatewayOptions, SocketOwner

    def authorise(request):
        token = request.headers.get("Authorization")
        return SocketOwner("patrol", patrol_id="BAC-12") if token == "Bearer tablet-bac-12" else None

    def subscribe(role):
        return Subscription(filters={"patrols": lambda unit: unit["patrol_id"] == role.patrol_id}, others=False)

    async def scenario():
        gateway = Gateway(settings, GatewayOptions("127.0.0.1", free_port()), authorise=authorise, subscribe=subscribe)
        stop = asyncio.Event()
        running = asyncio.create_task(gateway.run(stop))
        url = f"ws://127.0.0.1:{gateway.options.port}/live"
        await asyncio.sleep(0.3)
        try:
            with pytest.raises(InvalidStatus) as refused:
                async with async_connect(url):
                    pass
            assert refused.value.response.status_code == 403
            async with async_connect(url, additional_headers={"Authorization": "Bearer tablet-bac-12"}) as ws:
                assert orjson.loads(await ws.recv())["type"] == "snapshot"
                publish(redis_client, keys, patrols=[{"patrol_id": "BAC-13", "ts": 1}], drones=[drone("DR-1", 1)])
                last = publish(redis_client, keys, patrols=[{"patrol_id": "BAC-12", "ts": 2}])
                while (message := orjson.loads(await asyncio.wait_for(ws.recv(), 3)))["type"] != "delta":
                    pass
                assert message == {"type": "delta", "id": last, "patrols": [{"patrol_id": "BAC-12", "ts": 2}]}
        finally:
            stop.set()
            await running

    asyncio.run(scenario())
