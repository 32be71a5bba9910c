"""Redis connections that survive a restart of the server, on one node or on a Redis Cluster.

Every process gets its clients here, so reconnection policy lives in one place:
exponential backoff with a cap, health checks on idle connections, and bytes
in and out (decoding is validation's job, so a non-UTF-8 entry is rejected
with a reason instead of crashing the reader).

One Redis or a cluster (issue 14): the same REDIS_URL names either a single
server or any one node of a Redis Cluster. `connect()` asks the server once,
when the client is made: `CLUSTER SLOTS` answers the slot map on a cluster
node and "cluster support disabled" on a single server. A cluster gets a
`redis.cluster.RedisCluster`, which learns every other node from that map and
follows MOVED/ASK redirections and failovers; a single server keeps the plain
`redis.Redis`. Every key of a site carries the `{site}` hash tag
(dispatch/keys.py), so each Lua script, MULTI/EXEC and multi-stream read of a
site runs on one shard. The asyncio clients of the gateway are chosen the same
way (`connect_async`; the gateway's `lookup_client`).

Every role's ACL user may run `CLUSTER SLOTS` (this question, and the cluster
client's map) and `COMMAND` (the cluster client learns where each command's
keys are): dispatch/domain/acl.py CONNECTION.

A server that cannot be reached when the client is made (a process started
before its Redis, or during an outage): `connect()` does not wait, it returns
an `Undecided` client, a single server's meanwhile (its commands fail, and the
process backs off as it always did), which asks again at most twice a second
and becomes the right client as soon as the server answers. `connect_async()`
(the gateway, once at start) asks for up to DETECT_FOR_S seconds, then takes
the server for a single one and says so in the log.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
import time

import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.cluster
from redis.backoff import ExponentialBackoff
from redis.commands.core import Script
from redis.exceptions import (BusyLoadingError, ClusterDownError, ConnectionError, RedisClusterException, ResponseError,
                              SlotNotCoveredError, TimeoutError, TryAgainError)
from redis.retry import Retry

log = logging.getLogger(__name__)

CONNECTION_ERRORS = (ConnectionError, TimeoutError, BusyLoadingError)
# What a process treats as "Redis is away, try again later": lost connections, and on a cluster a shard
# without a master for a moment (a failover: CLUSTERDOWN, TRYAGAIN, a slot nobody serves yet).
RETRYABLE = (*CONNECTION_ERRORS, ClusterDownError, TryAgainError, SlotNotCoveredError)
DETECT_FOR_S = 5.0  # how long connect() keeps asking an unreachable server whether it is a cluster node
_known: dict[str, bool] = {}  # url -> is a cluster node: asked once per process
_gave_up: set[str] = set()  # urls that could not be reached within DETECT_FOR_S once already


def is_cluster(url: str, *, wait_s: float = DETECT_FOR_S) -> bool:
    """Whether `url` names a node of a Redis Cluster (CLUSTER SLOTS answers), remembered per URL.

    An unreachable server is asked again with backoff for `wait_s`, then taken for a single server
    (logged, not remembered; asked only once, without waiting, by later calls in this process)."""
    deadline = time.monotonic() + (0.0 if url in _gave_up else wait_s)
    pause = 0.05
    while True:
        answer = _ask(url)
        if answer is not None:
            return answer
        if time.monotonic() + pause > deadline:
            log.warning("Redis at %s not reachable: assuming a single server, not a cluster", _host(url))
            _gave_up.add(url)
            return False
        time.sleep(pause)
        pause = min(pause * 2, 1.0)


def _ask(url: str) -> bool | None:
    """One CLUSTER SLOTS: True (a cluster node), False (a single server), None (not reachable now)."""
    if url in _known:
        return _known[url]
    probe = redis.Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=2.0)
    try:
        probe.execute_command("CLUSTER SLOTS")
        answer = True
    except ResponseError as error:
        if "cluster support disabled" not in str(error).lower():
            raise  # NOPERM, wrong password: the caller must hear it, not a wrong guess
        answer = False
    except CONNECTION_ERRORS:
        return None
    finally:
        probe.close()
    _known[url] = answer
    return answer


def _host(url: str) -> str:
    return url.rpartition("@")[2]


def _retry() -> Retry:
    return Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=3)


def connect(url: str, *, blocking_ms: int = 0) -> redis.Redis | redis.cluster.RedisCluster:
    """A client for `url` (redis://, rediss:// for TLS, password in the URL): a cluster client if it
    names a cluster node, else a single server's; never waits: a server that cannot be reached now
    gets an `Undecided` client, which finds out later.

    `blocking_ms` is the longest BLOCK this client will issue: its socket
    timeout is set above it, because a BLOCK longer than the socket timeout
    makes redis-py raise TimeoutError (redis-py #2807).
    """
    options = dict(
        decode_responses=False,
        socket_connect_timeout=2.0,
        socket_timeout=5.0 + blocking_ms / 1000,
        health_check_interval=15,
        retry=_retry(),
        retry_on_error=list(CONNECTION_ERRORS),
    )

    def make(cluster: bool):
        return (redis.cluster.RedisCluster if cluster else redis.Redis).from_url(url, **options)

    answer = _ask(url)
    return Undecided(url, make) if answer is None else make(answer)


class Undecided:
    """The client of a server that could not be reached when it was made (a process started before its
    Redis, or during an outage): a single server's client meanwhile (whose commands fail as they did before
    issue 14, and the process backs off as usual), asking again at most every ASK_EVERY_S, then the right
    client for good. Lua scripts registered meanwhile run through whichever client it has become."""

    ASK_EVERY_S = 0.5

    def __init__(self, url: str, make):
        self._url = url
        self._make = make
        self._plain = make(False)
        self._decided = None
        self._next_ask = 0.0
        self._lock = threading.Lock()  # the web app's threads share one client

    def current(self):
        if self._decided is None and time.monotonic() >= self._next_ask:
            with self._lock:
                if self._decided is None and time.monotonic() >= self._next_ask:
                    self._next_ask = time.monotonic() + self.ASK_EVERY_S
                    self._decide()
        return self._decided if self._decided is not None else self._plain

    def _decide(self) -> None:
        answer = _ask(self._url)
        if answer is False:
            self._decided = self._plain
        elif answer:
            try:
                self._decided = self._make(True)  # reads the slot map: the cluster may not be ready yet
            except (RedisClusterException, *RETRYABLE) as error:
                log.info("cluster at %s not ready yet (%s)", _host(self._url), error)
                return
            self._plain.close()

    def __getattr__(self, name):
        return getattr(self.current(), name)

    def register_script(self, script) -> Script:
        return Script(self, script)


def connect_async(url: str, *, socket_timeout: float = 5.0, retry: Retry | None = None,
                  max_connections: int | None = None) -> redis.asyncio.Redis | redis.asyncio.cluster.RedisCluster:
    """An asyncio client for `url`, a cluster's when it names a cluster node (asked as `connect()` does,
    synchronously: call it while the process sets up, not on a busy event loop).

    On a cluster, `max_connections` bounds each node's pool, and the client waits for a free turn
    (WaitingCluster) instead of failing: redis-py's asyncio cluster pool raises MaxConnectionsError at once."""
    options = dict(socket_connect_timeout=2.0, socket_timeout=socket_timeout, health_check_interval=15,
                   retry=retry if retry is not None else _retry())
    if is_cluster(url):
        if max_connections:
            options["max_connections"] = max_connections
            return WaitingCluster(redis.asyncio.cluster.RedisCluster.from_url(url, **options), max_connections)
        return redis.asyncio.cluster.RedisCluster.from_url(url, **options)
    if max_connections:
        options["max_connections"] = max_connections
    return redis.asyncio.Redis.from_url(url, **options)


class WaitingCluster:
    """An asyncio RedisCluster that runs at most `turns` commands or pipelines at once, the others waiting
    their turn: so no node's pool (`turns` connections) is ever found full. Each pipeline holds at most one
    connection per node. Everything else is the wrapped client's."""

    def __init__(self, client: redis.asyncio.cluster.RedisCluster, turns: int):
        self.client = client
        self._turns = asyncio.Semaphore(turns)

    def __getattr__(self, name):
        attribute = getattr(self.client, name)
        if name in ("aclose", "close", "initialize") or not callable(attribute):
            return attribute

        def in_turn(*args, **kwargs):
            # redis-py's command methods are plain functions returning a coroutine (execute_command's)
            result = attribute(*args, **kwargs)
            return self._in_turn(result) if inspect.isawaitable(result) else result

        return in_turn

    async def _in_turn(self, awaitable):
        try:
            await self._turns.acquire()
        except BaseException:  # cancelled while waiting: the command never ran
            if inspect.iscoroutine(awaitable):
                awaitable.close()
            raise
        try:
            return await awaitable
        finally:
            self._turns.release()

    def pipeline(self, transaction: bool | None = None) -> "_WaitingPipeline":
        return _WaitingPipeline(self.client.pipeline(transaction=transaction), self._turns)


class _WaitingPipeline:
    def __init__(self, pipe, turns: asyncio.Semaphore):
        self._pipe = pipe
        self._turns = turns

    def __getattr__(self, name):
        return getattr(self._pipe, name)

    async def execute(self, *args, **kwargs):
        async with self._turns:
            return await self._pipe.execute(*args, **kwargs)

    async def __aenter__(self):
        await self._pipe.__aenter__()
        return self

    async def __aexit__(self, *exc):
        return await self._pipe.__aexit__(*exc)
