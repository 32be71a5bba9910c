"""Stream reads with raw replies (nested lists of bytes, no dict per entry), on one server or a cluster.

History (store/history.py) and the unit history (store/unit_history.py) read long windows in chunks; redis-py's
XRANGE parsing into tuples and dicts would cost more than the rest. On a single server this is a sibling
`redis.Redis` on the same connection pool with those callbacks removed; on a Redis Cluster (issue 14) each
command goes to its key's master through such a sibling of that node's client.
"""

from __future__ import annotations

import time

import redis
import redis.cluster
from redis.crc import key_slot

from .connection import RETRYABLE, Undecided

RAW_COMMANDS = ("XRANGE", "XREVRANGE")


def _raw_callbacks(client: redis.Redis) -> redis.Redis:
    for command in RAW_COMMANDS:
        client.set_response_callback(command, lambda response, **options: response)
    return client


def raw_client(client):
    """A client of the same server(s) whose XRANGE and XREVRANGE replies skip redis-py's parsing (nested
    lists of bytes, no dict per entry): history's chunked reads, cheaper on a long window. It offers
    `execute_command` and `pipeline(transaction=False)`.

    A single server's: a `redis.Redis` on the same connection pool (same retry policy). A cluster's: each
    command goes to its key's master through such a sibling of that node's client; a MOVED or a lost
    node (a failover) refreshes the cluster client's slot map and the command is tried again."""
    if isinstance(client, Undecided):
        client = client.current()
    if isinstance(client, redis.cluster.RedisCluster):
        return _RawCluster(client)
    return _raw_callbacks(redis.Redis(connection_pool=client.connection_pool))


class _RawCluster:
    ATTEMPTS = 3

    def __init__(self, client: redis.cluster.RedisCluster):
        self.client = client
        self._siblings: dict[int, redis.Redis] = {}

    def node_client(self, key) -> redis.Redis:
        node_client = self.client.get_redis_connection(self.client.get_node_from_key(key))
        pool = node_client.connection_pool
        if id(pool) not in self._siblings:
            self._siblings[id(pool)] = _raw_callbacks(redis.Redis(connection_pool=pool))
        return self._siblings[id(pool)]

    def execute_command(self, *args, **options):
        return self._with_retries(lambda: self.node_client(args[1]).execute_command(*args, **options))

    def pipeline(self, transaction: bool = False) -> "_RawClusterPipeline":
        return _RawClusterPipeline(self)

    def _with_retries(self, call):
        for attempt in range(self.ATTEMPTS):
            try:
                return call()
            except (redis.exceptions.MovedError, redis.exceptions.AskError, *RETRYABLE):
                if attempt == self.ATTEMPTS - 1:
                    raise
                time.sleep(0.25 * (attempt + 1))
                self.client.nodes_manager.initialize()
                self._siblings.clear()


class _RawClusterPipeline:
    """Commands of one slot (a site's keys) sent in one round trip to its master."""

    def __init__(self, raw: _RawCluster):
        self.raw = raw
        self.commands: list[tuple] = []

    def execute_command(self, *args, **options):
        self.commands.append(args)
        return self

    def xlen(self, key):
        return self.execute_command("XLEN", key)

    def execute(self) -> list:
        if not self.commands:
            return []
        slots = {key_slot(key if isinstance(key, bytes) else str(key).encode()) for _, key, *_ in self.commands}
        if len(slots) > 1:
            raise redis.cluster.RedisClusterException(f"a raw pipeline spans {len(slots)} slots: one site's keys only")

        def send():
            pipe = self.raw.node_client(self.commands[0][1]).pipeline(transaction=False)
            for args in self.commands:
                pipe.execute_command(*args)
            return pipe.execute()

        return self.raw._with_retries(send)
