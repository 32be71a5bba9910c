"""A master killed under load (issue 14): its replica takes over, the processes carry on by themselves,
and nothing is lost, counted twice or left pending.

One site on a 3-master cluster with one replica per master (its own module-scoped cluster: the shared
session cluster of tests/cluster/conftest.py has no replicas). Real processes, signed in as their ACL
users: ingest, watch, and a gateway with one websocket screen. A writer XADDs telemetry continuously, one entry
in 10 malformed, and SIGKILL hits the master holding the site's slot.

What "sent" means. Replication is asynchronous: an XADD the master acknowledged may die with it before
its replica has it. So the writer follows each pipelined batch of XADDs with `WAIT 1 <ms>` on the same
connection: a batch the replica has acknowledged is *confirmed* and must survive the failover; a batch
whose XADD or WAIT failed, or that no replica acknowledged in time, is *unconfirmed*: it may or may not
exist. After recovery the test reads the input stream itself: every confirmed entry is there, the stream
holds nothing the writer did not write, and ingest accounts for exactly what the stream holds
(accepted + dead-lettered = entries in the stream, dead letters = the malformed ones among them),
with nothing pending in the group. The killed node is started again once the replica has taken over (as
an operator would restart the machine): it rejoins as the new master's replica, so WAIT confirms again.

Recovery times (kill -> the first XADD the new master takes, -> an entry written after the kill in the picture,
-> on the screen) are printed (`pytest -s`) and recorded as junit properties; the test asserts
correctness, not timing (bench/fleet.py and docs/scaling.md quote them).
"""

from __future__ import annotations

import threading
import time

import orjson
import pytest
import redis
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.sync.client import connect as ws_connect

from dispatch.keys import INGEST_GROUP, Keys
from dispatch.settings import Settings
from dispatch.store.embedded import free_port
from dispatch.store.embedded_cluster import EmbeddedCluster
from tests.browser.chromium import session_cookie_header
from tests.support.processes import port_open, python_module, wait_until

SITE = "failover"
DRONES = 5
BAD_EVERY = 10
BATCH = 5
WAIT_MS = 500


@pytest.fixture(scope="module")
def replicated_cluster(tmp_path_factory):
    """3 masters, one replica each, node timeout 1 s (a failover in a few seconds)."""
    with EmbeddedCluster(tmp_path_factory.mktemp("failover"), masters=3, replicas=1, node_timeout_ms=1000) as cluster:
        yield cluster


def telemetry(n: int) -> dict:
    fields = {"drone_id": f"DR-{n % DRONES}", "ts": int(time.time() * 1000), "lat": f"{48.11 + n % 97 / 10_000:.6f}",
              "lon": f"{-1.68 + n % 89 / 10_000:.6f}", "alt_m": "90", "heading_deg": "45", "speed_mps": "7",
              "battery_pct": "80"}
    if n % BAD_EVERY == 3:
        fields["battery_pct"] = "140"  # out of range: dead-lettered
    return fields


class Writer(threading.Thread):
    """Batches of XADDs to the site's current master, each batch followed by WAIT on the same connection."""

    def __init__(self, cluster: EmbeddedCluster, stream: str):
        super().__init__(daemon=True)
        self.cluster, self.stream = cluster, stream
        self.confirmed: list[bytes] = []  # entry ids a replica acknowledged
        self.attempted = 0  # entries the writer tried (an upper bound of what the stream may hold)
        self.errors = 0
        self.first_accepted_after: dict[str, float] = {}  # the first XADDs the new master took
        self.kill_at: float | None = None
        self.done = threading.Event()

    def run(self) -> None:
        client = None
        n = 0
        while not self.done.is_set():
            try:
                if client is None:
                    client = redis.Redis.from_url(self.cluster.url_of(self.cluster.node_for_key(self.stream)),
                                                  socket_connect_timeout=0.5, socket_timeout=2.0)
                pipe = client.pipeline(transaction=False)
                for _ in range(BATCH):
                    pipe.xadd(self.stream, telemetry(n))
                    n += 1
                self.attempted += BATCH
                pipe.execute_command("WAIT", 1, WAIT_MS)
                *ids, replicas = pipe.execute()
                if self.kill_at is not None and "accepted" not in self.first_accepted_after:
                    self.first_accepted_after["accepted"] = time.monotonic()
                if replicas >= 1:
                    self.confirmed += ids
            except (redis.RedisError, LookupError, RuntimeError):
                # Refused (MOVED, CLUSTERDOWN: nothing written) or cut (written or not: unconfirmed).
                self.errors += 1
                if client is not None:
                    client.close()
                client = None
                time.sleep(0.05)
                continue
            time.sleep(0.02)
        if client is not None:
            client.close()


class ScreenWatcher(threading.Thread):
    """A supervisor's screen on the gateway: records when it first sees a drone report newer than a mark,
    reconnecting with `since=` (as the page does) if the socket closes."""

    def __init__(self, url: str, headers: dict):
        super().__init__(daemon=True)
        self.url, self.headers = url, headers
        self.mark_ms: int | None = None
        self.seen_after_mark: float | None = None
        self.newest_ts = 0
        self.reconnects = 0
        self.done = threading.Event()

    def run(self) -> None:
        since = None
        while not self.done.is_set():
            try:
                url = self.url + (f"?since={since}" if since else "")
                with ws_connect(url, additional_headers=self.headers, open_timeout=3, max_size=None) as ws:
                    while not self.done.is_set():
                        try:
                            message = orjson.loads(ws.recv(timeout=0.5))
                        except TimeoutError:
                            continue
                        since = message.get("id", since)
                        drones = message.get("drones") or ()
                        if isinstance(drones, dict):
                            drones = drones.values()
                        for drone in drones:
                            if isinstance(drone, dict) and isinstance(drone.get("ts"), int):
                                self.newest_ts = max(self.newest_ts, drone["ts"])
                        if self.mark_ms is not None and self.seen_after_mark is None and self.newest_ts > self.mark_ms:
                            self.seen_after_mark = time.monotonic()
            except (ConnectionClosed, InvalidHandshake, OSError, TimeoutError):
                self.reconnects += 1
                time.sleep(0.25)


def newest_drone_ts(client, keys: Keys) -> int:
    """The newest report in the picture; 0 while the cluster cannot answer (mid-failover)."""
    try:
        return max((orjson.loads(raw)["ts"] for raw in client.hvals(keys.drones)), default=0)
    except redis.RedisError:
        return 0


def test_master_killed_under_load_nothing_lost_nothing_pending(replicated_cluster, tmp_path, record_property):
    cluster = replicated_cluster
    settings = Settings.from_env({
        "REDIS_URL": cluster.url, "DISPATCH_SITE": SITE, "DISPATCH_DATA_DIR": str(tmp_path),
        "DISPATCH_INGEST_BLOCK_MS": "100", "DISPATCH_CLAIM_IDLE_MS": "500",
        "DISPATCH_GATEWAY_PORT": str(free_port()), "DISPATCH_TILE_URL": "",
    })
    keys = Keys(SITE)
    admin = redis.cluster.RedisCluster.from_url(cluster.url)
    victim = cluster.node_for_key(keys.in_telemetry)
    replica = cluster.replicas_of(victim)[0]
    services = [python_module("ingest", "dispatch.services.ingest", settings),
                python_module("gateway", "dispatch.services.gateway", settings),
                python_module("watch", "dispatch.services.watch", settings)]
    writer = Writer(cluster, keys.in_telemetry)
    screen = None
    try:
        for service in services:
            service.start()
        ingest, gateway, watch = services
        wait_until(lambda: "following" in gateway.output() and port_open(settings.gateway_port), timeout=30,
                   what=f"the gateway\n{gateway.output()}")
        screen = ScreenWatcher(f"ws://127.0.0.1:{settings.gateway_port}/live", session_cookie_header(settings))
        screen.start()
        writer.start()
        wait_until(lambda: len(writer.confirmed) >= 100 and screen.newest_ts, timeout=20,
                   what="the load to reach the picture and the screen")

        killed_ms = int(time.time() * 1000)
        writer.kill_at = killed_at = time.monotonic()
        screen.mark_ms = killed_ms
        cluster.kill(victim)

        picture_at = wait_until(lambda: newest_drone_ts(admin, keys) > killed_ms and time.monotonic(),
                                timeout=30, interval=0.02, what=f"a report written after the kill in the picture\n"
                                f"{ingest.output()[-3000:]}")
        assert cluster.node_for_key(keys.in_telemetry) is replica, "the replica took the slot over"
        cluster.restart(victim)  # the old master comes back as the new master's replica
        cluster.wait_ok(30)
        confirmed_before = len(writer.confirmed)
        wait_until(lambda: len(writer.confirmed) > confirmed_before + 50 and screen.seen_after_mark, timeout=30,
                   what=f"writes confirmed again and the screen updated\n{gateway.output()[-3000:]}")
        time.sleep(1.0)  # more load after the recovery
        writer.done.set()
        writer.join(10)

        stored = admin.xrange(keys.in_telemetry)
        stored_ids = [entry_id for entry_id, _ in stored]
        wait_until(lambda: sum(int(v) for v in admin.hvals(keys.stats)) >= len(stored), timeout=20,
                   what="ingest to account for every stored entry")
        time.sleep(0.3)  # a double count would show now
        for service in services:
            assert service.running, f"{service.name} exited: nobody restarts it here\n{service.output()[-3000:]}"
    finally:
        writer.done.set()
        if screen is not None:
            screen.done.set()
        for service in reversed(services):
            service.stop()

    stats = {k.decode(): int(v) for k, v in admin.hgetall(keys.stats).items()}
    malformed = sum(1 for _, fields in stored if fields[b"battery_pct"] == b"140")
    missing = set(writer.confirmed) - set(stored_ids)
    assert not missing, f"{len(missing)} entries confirmed by a replica were lost"
    assert len(writer.confirmed) <= len(stored) <= writer.attempted
    assert stats.get("accepted:telemetry", 0) + stats.get("rejected:telemetry", 0) == len(stored), stats
    assert stats.get("rejected:telemetry", 0) == malformed == admin.xlen(keys.deadletter)
    group = next(g for g in admin.xinfo_groups(keys.in_telemetry) if g["name"] == INGEST_GROUP.encode())
    assert group["pending"] == 0
    assert group["last-delivered-id"] == stored_ids[-1]
    valid = {}
    for _, fields in stored:
        if fields[b"battery_pct"] != b"140":
            valid[fields[b"drone_id"].decode()] = max(int(fields[b"ts"]), valid.get(fields[b"drone_id"].decode(), 0))
    assert {d: orjson.loads(raw)["ts"] for d, raw in admin.hgetall(keys.drones).items()
            } == {d.encode(): ts for d, ts in valid.items()}, "each drone holds its newest valid report"

    recovery = {
        "write_accepted_s": writer.first_accepted_after["accepted"] - killed_at,
        "picture_s": picture_at - killed_at,
        "screen_s": screen.seen_after_mark - killed_at,
    }
    for name, seconds in recovery.items():
        record_property(f"failover_{name}", round(seconds, 3))
    print(f"\nfailover: kill -> entry written after the kill in the picture {recovery['picture_s']:.2f} s, "
          f"-> on the screen {recovery['screen_s']:.2f} s, -> XADD accepted again "
          f"{recovery['write_accepted_s']:.2f} s; {len(stored)} entries stored, "
          f"{len(writer.confirmed)} confirmed, {writer.attempted - len(stored)} attempted but absent (refused during the outage, or lost unconfirmed), "
          f"{writer.errors} writer errors, {screen.reconnects} screen reconnects; {stats}")
    denials = []
    for node in cluster.nodes:
        with cluster.client(node) as client:
            denials += client.execute_command("ACL", "LOG")
            client.execute_command("ACL", "LOG", "RESET")
    assert not denials, f"a process was refused by its ACL user (on the promoted replica?): {denials}"
    admin.close()
