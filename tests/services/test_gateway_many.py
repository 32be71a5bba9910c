"""Many gateways behind a TCP load balancer: real gateway processes, real Redis, clients moving between them.

Two `python -m dispatch gateway` processes follow the same `{site}:live` stream; a round-robin TCP
balancer (tests/support/balancer.py, as HAProxy or nginx `stream {}` would) spreads clients over them
with no sticky sessions. A client that resumes with `since=` on the other gateway, started later or
lagging, or after its own gateway was killed, gets exactly the entries after `since`: every drone id
written is seen once, in order, and the only snapshot is the first.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
import urllib.error
import urllib.request

import orjson
import pytest
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from dispatch.domain.live import Hub
from dispatch.keys import Keys
from tests.services.test_gateway import Client, RunningGateway, _open_clients, drone, publish, sign_in, units_of
from tests.support.balancer import Balancer
from dispatch.store.embedded import free_port
from tests.support.processes import port_open, python_module, wait_until


@pytest.fixture(autouse=True)
def _signed_in_clients(redis_client, keys):
    sign_in(redis_client, keys)
    yield
    while _open_clients:
        try:
            _open_clients.pop().close()
        except Exception:  # a follower's connection closed under it already
            pass


@pytest.fixture
def gateways(settings):
    running = [RunningGateway(settings).start(), RunningGateway(settings)]  # the second starts when a test says
    yield running
    for gateway in running:
        gateway.stop()
    for number, gateway in enumerate(running):
        print(f"--- gateway {'AB'[number]}:\n{gateway.output()[-10_000:]}")  # shown when a test fails


@pytest.fixture
def balancer(gateways):
    front = Balancer([gateway.port for gateway in gateways]).start()
    yield front
    front.stop()


class Writer(threading.Thread):
    """Live entries keep arriving: entry n carries drone DR-n only, so coalescing never hides one."""

    def __init__(self, redis_client, keys: Keys, count: int, pause_s: float = 0.003):
        super().__init__(daemon=True)
        self.redis_client, self.keys, self.count, self.pause_s = redis_client, keys, count, pause_s
        self.written: list[str] = []

    def run(self) -> None:
        for n in range(1, self.count + 1):
            self.written.append(publish(self.redis_client, self.keys, drones=[drone(f"DR-{n}", n)]))
            time.sleep(self.pause_s)

    def expected(self) -> list[str]:
        return [f"DR-{n}" for n in range(1, self.count + 1)]


class Follower(threading.Thread):
    """A wall screen: follows the feed at `url`, and whenever its connection drops, reconnects there with
    `since=` its last id (as assets/common/live_client.js does). Records every drone it is given."""

    def __init__(self, url: str, balancer: Balancer | None = None):
        super().__init__(daemon=True)
        self.url, self.balancer = url, balancer
        self.seen: list[str] = []  # drone ids of every delta, in order
        self.kinds: list[str] = []  # message types other than heartbeats
        self.backends: list[int] = []  # the gateway port of each connection, through the balancer
        self.last_id: str | None = None
        self.done = threading.Event()
        self.first_connection = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            try:
                client = Client(self.url, since=self.last_id)
            except (OSError, InvalidHandshake, TimeoutError, ConnectionClosed):
                time.sleep(0.1)  # no gateway up, or it died during the handshake: try again
                continue
            try:
                if self.balancer is not None:
                    self.backends.append(self.balancer.backend_of(client.local_port))
                self.first_connection.set()
                while not self.done.is_set():
                    try:
                        message = client.next(timeout=0.3, heartbeats=True)
                    except TimeoutError:
                        continue
                    self._apply(message)
            except (ConnectionClosed, OSError):
                continue  # its gateway went away: reconnect
            finally:
                client.close()

    def _apply(self, message: dict) -> None:
        if message["type"] != "heartbeat":
            self.kinds.append(message["type"])
        if message["type"] == "delta":
            self.seen.extend(d["drone_id"] for d in message.get("drones", []))
        if message.get("id") is not None:
            self.last_id = message["id"]


def test_clients_through_the_balancer_land_on_both_gateways_and_each_is_served(gateways, balancer,
                                                                                redis_client, keys):
    gateways[1].start()
    clients = [Client(balancer.url) for _ in range(4)]
    assert all(client.next()["type"] == "snapshot" for client in clients)
    landed = [balancer.backend_of(client.local_port) for client in clients]
    assert sorted(landed) == sorted([gateways[0].port, gateways[1].port] * 2), "round robin, no stickiness"
    last = publish(redis_client, keys, drones=[drone("DR-1", 1)])
    for client in clients:
        message = client.next()
        assert message["id"] == last and message["drones"] == [drone("DR-1", 1)]


def test_a_client_hopping_between_gateways_gets_every_entry_once_while_they_keep_arriving(gateways, redis_client,
                                                                                         keys):
    """Gateway B starts while the client is on A and entries are flowing: B's memory begins after the
    client's position (its first resume on B is read from Redis), then A and B alternate."""
    a, b = gateways
    client = Client(a.url)
    assert client.next()["type"] == "snapshot"
    writer = Writer(redis_client, keys, count=600)
    writer.start()
    seen, kinds = [], []

    def follow(connection: Client, seconds: float) -> None:
        for message in connection.collect(seconds):
            kinds.append(message["type"])
            seen.extend(d["drone_id"] for d in message.get("drones", []))

    follow(client, 0.3)
    client.close()
    b.start()  # about a second: the writer goes on meanwhile
    hops = [b, a, b, a, b]
    for gateway in hops:
        client = Client(gateway.url, since=client.last_id)
        follow(client, 0.3)
        client.close()
    writer.join(timeout=30)
    last = Client(a.url, since=client.last_id)
    wait_until(lambda: follow(last, 0.2) or last.last_id == writer.written[-1], timeout=15,
               what="the client to reach the last entry")
    assert kinds.count("snapshot") == 0, "every resume was served with deltas"
    assert seen == writer.expected(), "no gap, no duplicate, in order"
    assert b.output().count("resumed after") == 3 and a.output().count("resumed after") == 3
    assert "from Redis" in b.output(), "B started after the client's position: its first resume came from Redis"


def test_clients_of_a_gateway_killed_under_them_resume_exactly_on_the_other(gateways, balancer, redis_client, keys):
    a, b = gateways
    b.start()
    followers = [Follower(balancer.url, balancer) for _ in range(4)]
    for follower in followers:
        follower.start()
        assert follower.first_connection.wait(timeout=10)
    assert {f.backends[0] for f in followers} == {a.port, b.port}
    wait_until(lambda: all(f.kinds[:1] == ["snapshot"] for f in followers), what="every first snapshot")
    writer = Writer(redis_client, keys, count=800)
    writer.start()
    wait_until(lambda: all(len(f.seen) >= 100 for f in followers), timeout=15, what="entries flowing to all")
    a.service.kill()  # SIGKILL: no close frame, its sockets reset by the kernel
    writer.join(timeout=30)
    try:
        wait_until(lambda: all(f.last_id == writer.written[-1] for f in followers), timeout=30,
                   what="every follower to reach the last entry")
    except AssertionError as error:
        states = [f"alive {f.is_alive()}, at {f.last_id}, {len(f.seen)} seen, via {f.backends}" for f in followers]
        raise AssertionError(f"{error}; last written {writer.written[-1]}; followers: {states}") from None
    finally:
        for follower in followers:
            follower.done.set()
        for follower in followers:
            follower.join(timeout=5)
    moved = [f for f in followers if f.backends[0] == a.port]
    assert len(moved) == 2
    for follower in moved:
        assert len(follower.backends) >= 2 and follower.backends[-1] == b.port, "reconnected to the survivor"
    for follower in followers:
        assert follower.kinds.count("snapshot") == 1, "only the first connection needed a snapshot"
        assert follower.seen == writer.expected(), "no gap, no duplicate across the failover"
    assert b.output().count("resumed after") >= 2


def test_a_gateway_that_fell_behind_a_trimmed_stream_sends_a_snapshot_not_a_gap(gateways, redis_client, keys):
    """Stopped (SIGSTOP) while the stream moved on and was trimmed past its position, a gateway must not
    hand its clients what follows the trimmed stretch as if it followed what they have."""
    a = gateways[0]
    client = Client(a.url)
    assert client.next()["type"] == "snapshot"
    publish(redis_client, keys, drones=[drone("DR-0", 0)])
    assert client.next()["drones"] == [drone("DR-0", 0)]
    a.service.signal(signal.SIGSTOP)
    try:
        written = [redis_client.xadd(keys.live, {"drones": orjson.dumps([drone(f"DR-{n}", n)])},
                                     maxlen=100, approximate=False).decode() for n in range(1, 301)]
    finally:
        a.service.signal(signal.SIGCONT)
    messages = []
    wait_until(lambda: messages.extend(client.collect(0.2)) or any(m["type"] == "snapshot" for m in messages),
               timeout=10, what="a snapshot")
    before = messages[:[m["type"] for m in messages].index("snapshot")]
    given = [d["drone_id"] for d in units_of(before)]
    assert given == [f"DR-{n}" for n in range(1, len(given) + 1)], "deltas before the snapshot leave no gap"
    snapshot = next(m for m in messages if m["type"] == "snapshot")
    assert snapshot["id"] == written[-1]
    assert "trimmed past" in a.output()


def test_a_resume_reaching_a_gateway_before_its_tailer_has_started_is_served_exactly(settings, redis_client, keys):
    """In-process: a gateway just (re)started behind the balancer takes connections before its tailer has
    found where it follows the stream from. A `since=` arriving then waits for it, rather than being
    attached on a backlog that the tailer's first step voids (a needless snapshot for every screen of a
    restart storm)."""
    from websockets.asyncio.client import connect as async_connect

    from dispatch.services.gateway import SUPERVISOR, Gateway, GatewayOptions

    since = publish(redis_client, keys, drones=[drone("DR-0", 0)])
    for n in (1, 2):
        publish(redis_client, keys, drones=[drone(f"DR-{n}", n)])

    class SlowToFollow(Gateway):
        """Its tailer's first look at the stream waits for the test (a slow Redis, a busy machine)."""

        release: asyncio.Event

        async def _latest_id(self) -> str:
            await self.release.wait()
            return await super()._latest_id()

    async def scenario():
        gateway = SlowToFollow(settings, GatewayOptions("127.0.0.1", free_port()), authorise=lambda _: SUPERVISOR)
        gateway.release = asyncio.Event()
        stop = asyncio.Event()
        running = asyncio.create_task(gateway.run(stop))
        url = f"ws://127.0.0.1:{gateway.options.port}/live?since={since}"
        try:
            while not port_open(gateway.options.port):
                await asyncio.sleep(0.05)
            async with async_connect(url) as ws:
                await asyncio.sleep(0.3)  # the resume is now waiting (before the fix: attached on a backlog)
                publish(redis_client, keys, drones=[drone("DR-3", 3)])
                gateway.release.set()
                kinds, seen = [], []
                while "DR-3" not in seen and "snapshot" not in kinds:
                    message = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
                    if message["type"] != "heartbeat":
                        kinds.append(message["type"])
                        seen.extend(d["drone_id"] for d in message.get("drones", []))
                assert "snapshot" not in kinds and seen == ["DR-1", "DR-2", "DR-3"]
        finally:
            stop.set()
            await running

    asyncio.run(scenario())


def test_the_health_check_tells_the_balancer_whether_a_gateway_follows_the_stream(gateways, settings):
    """HAProxy `option httpchk GET /health`: a gateway that cannot reach Redis keeps its sockets but should
    get no new clients while another one can serve them."""
    with urllib.request.urlopen(f"http://127.0.0.1:{gateways[0].port}/health", timeout=5) as response:
        assert response.status == 200
    port = free_port()
    cut_off = python_module("gateway-cut-off", "dispatch.services.gateway", settings, DISPATCH_GATEWAY_PORT=str(port),
                            REDIS_URL=f"redis://127.0.0.1:{free_port()}/0").start()  # nothing listens there
    try:
        wait_until(lambda: port_open(port), timeout=15, what="the cut-off gateway to listen")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5)
        assert refused.value.code == 503
    finally:
        cut_off.stop()


def test_a_tablet_reconnecting_on_another_gateway_gets_its_scope_afresh(gateways, redis_client, keys):
    """What a filtered client was shown lives in the connection it lost: resumed, an assignment handed to
    another patrol while it was away would stay on the tablet. It gets a snapshot of its scope instead."""
    from dispatch.domain.auth import Role
    from tests.services.test_gateway_auth import ids, messages, open_socket, put, session, snapshot_of

    a, b = gateways
    b.start()
    mine = {"assignment_id": "asg-000001", "sighting_id": "sight-0001", "patrol_id": "BAC-12", "state": "assigned"}
    put(redis_client, keys, "patrols", "patrol_id", {"patrol_id": "BAC-12", "ts": 1})
    put(redis_client, keys, "assignments", "assignment_id", mine)
    redis_client.hset(keys.patrol_assignment, "BAC-12", "asg-000001")
    position = publish(redis_client, keys, patrols=[{"patrol_id": "BAC-12", "ts": 1}])
    tablet = session(redis_client, keys, Role.PATROL, "BAC-12", "BAC-12")
    with open_socket(a.url, tablet) as ws:
        assert ids(snapshot_of(ws), "assignments") == ["asg-000001"]
    handed = {**mine, "patrol_id": "BAC-13"}  # while the tablet is away
    put(redis_client, keys, "assignments", "assignment_id", handed)
    redis_client.hdel(keys.patrol_assignment, "BAC-12")
    redis_client.hset(keys.patrol_assignment, "BAC-13", "asg-000001")
    publish(redis_client, keys, assignments=[handed])
    with open_socket(f"{b.url}?since={position}", tablet) as ws:
        got = messages(ws, 1.5)  # resumed, it would get nothing at all: as-1 no longer concerns it
    assert [m["type"] for m in got] == ["snapshot"] and ids(got[0], "assignments") == []
    assert "a filtered client does not resume" in b.output()


class HeldHub(Hub):
    """A hub whose tailer is held back (an overloaded gateway): what it reads waits until `release`."""

    def __init__(self, limits):
        super().__init__(limits)
        self.holding, self.held = True, []

    def receive(self, entries) -> None:
        if self.holding:
            self.held.extend(entries)
        else:
            super().receive(entries)

    def release(self) -> None:
        self.holding = False
        super().receive(self.held)


def test_a_resume_on_a_gateway_that_has_not_read_up_to_since_yet_is_exact(gateways, settings, redis_client, keys):
    """A real gateway A and an in-process gateway B whose tailer is held back: the client's position, got
    from A, is ahead of everything B has read. B must vouch for it from Redis and then send exactly what
    follows it, once its tailer catches up: no snapshot, no duplicate of what A gave."""
    from dispatch.services.gateway import SUPERVISOR, Gateway, GatewayOptions

    b = Gateway(settings, GatewayOptions("127.0.0.1", free_port()), authorise=lambda _: SUPERVISOR)
    b.hub = HeldHub(b.options.limits)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    thread = threading.Thread(target=loop.run_until_complete, args=(b.run(stop),), daemon=True)
    thread.start()
    try:
        wait_until(lambda: port_open(b.options.port) and b.hub.floor is not None, what="B to follow the stream")
        client = Client(gateways[0].url)
        assert client.next()["type"] == "snapshot"
        written = [publish(redis_client, keys, drones=[drone(f"DR-{n}", n)]) for n in range(1, 6)]
        seen = []
        wait_until(lambda: seen.extend(units_of(client.collect(0.2))) or client.last_id == written[-1],
                   what="A to deliver DR-1..DR-5")
        client.close()
        assert b.hub.last_id not in written, "B has read none of them"
        resumed = Client(f"ws://127.0.0.1:{b.options.port}/live", since=client.last_id)
        written += [publish(redis_client, keys, drones=[drone(f"DR-{n}", n)]) for n in (6, 7)]
        loop.call_soon_threadsafe(b.hub.release)
        got = []
        wait_until(lambda: got.extend(resumed.collect(0.2)) or resumed.last_id == written[-1],
                   what="B to deliver DR-6 and DR-7")
        assert [m["type"] for m in got] == ["delta"] * len(got)
        assert [d["drone_id"] for d in seen + units_of(got)] == [f"DR-{n}" for n in range(1, 8)]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)
