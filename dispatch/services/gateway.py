"""The push gateway: `python -m dispatch gateway` (a Procfile process).

Browsers open `ws://<host>:<gateway_port>/live[?since=<live id>]` and receive
the picture as a snapshot, then deltas, and a heartbeat every second
(docs/live-protocol.md). A delta leaves as soon as the tailer has read its entry,
unless that client was sent one less than 1 / DISPATCH_GATEWAY_MAX_MESSAGES_PER_S
ago: then what arrives meanwhile is coalesced into its next allowed delta (issue 15:
a fixed 150 ms tick made every update wait 75 ms on average). Every decision is taken by the pure hub
(dispatch/domain/live.py); this module only moves bytes between it, Redis and
the sockets, with one task per duty so that none waits on another:

- one tailer follows `{site}:live` with XREAD BLOCK (its own connection, a
  socket timeout longer than BLOCK), feeds the hub and flushes it at once;
- a timer flushes the clients whose next allowed delta is due, and one ticker
  queues heartbeats (and flushes too, a fallback) every tick;
- one snapshotter reads the picture when some client needs it (one read
  serves every client waiting at that moment);
- one writer per client drains that client's bounded queue, so a slow client
  only ever blocks its own writer, never the broadcast.

Run as many gateways as you like behind a load balancer: each follows the
stream on its own and clients resume on any of them with `?since=`
(docs/live-protocol.md section 9; `GET /health` is the balancer's check).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import inspect
import ipaddress
import logging
import resource
import signal
import socket
import sys
import weakref
from dataclasses import dataclass
from typing import Awaitable, Callable
from urllib.parse import parse_qs, urlsplit

import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import MultipleValuesError
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request

from ..domain.backoff import Backoff
from .. import clock
from ..domain.audit import INTERNAL_ORIGIN, Action, AuditError, refused_entry, to_fields
from ..domain.auth import SESSION_COOKIE, PatrolScope, cookie_value, may
from ..domain.auth import Role as AuthRole
from ..domain.live import EVERYTHING, Hub, Limits, LiveEntry, Origin, Snapshot, Subscription, decode_entry
from ..domain.live import default_origins, origin_allowed, parse_origins, parse_stream_id, resumable
from ..keys import Keys
from ..settings import Settings, SettingsError
from ..store import accounts
from ..store.batched_reads import BatchedReads
from ..store.connection import connect, connect_async, is_cluster
from ..store.state import read_snapshot

log = logging.getLogger("dispatch.services.gateway")

PATH = "/live"
HEALTH_PATH = "/health"  # plain HTTP GET for load balancers: 200 while following the stream, else 503
MAX_INCOMING_BYTES = 64 * 1024  # clients send nothing but control frames
# Kernel send buffer per client. Linux would grow it to megabytes for a client
# that stopped reading; kept small, such a client reaches the hub's queue bound
# (and its slow-client policy) in seconds, with little memory held for it.
SEND_BUFFER_BYTES = 128 * 1024
TAIL_BLOCK_MS = 1_000
TAIL_COUNT = 1_000
CLOSE_TIMEOUT_S = 3.0  # a client that stopped reading cannot answer a close either
# How often open sockets' sessions are looked at again: a sign-out, an expiry, or an account deleted or
# given a new password (which ends its sessions) closes the socket within this time. One pipelined
# EXISTS per socket: nothing, even for hundreds of screens.
SESSION_CHECK_S = 2.0
SESSION_ENDED = 4401
AUDIT_TARGET = "live"  # what a refused handshake asked for, in the audit trail  # close code: the page signs in again instead of reconnecting for ever
DEFAULT_ORIGINS = parse_origins(default_origins("127.0.0.1", 8050))
# A reconnect storm (every screen and tablet at once after a restart or a network blip) arrives as
# hundreds of SYNs in a few milliseconds. asyncio's default listen backlog (100) drops the rest, and a
# dropped SYN is retried by the client only after 1 s, then 3 s: the kernel caps this at somaxconn.
LISTEN_BACKLOG = 4096
# Handshakes wait this long for a free Redis connection of the lookup pool before a 503.
LOOKUP_POOL_WAIT_S = 5.0
# A resume arriving before the tailer has found its starting point waits this long for it (then gets a
# snapshot): a gateway that just started serves `since=` exactly, as the one that was running does.
FOLLOW_WAIT_S = 3.0


@dataclass(frozen=True)
class SocketOwner:
    """Who holds the socket (from the session, never from anything the client says), and for a
    patrol what concerned it when it connected, so its first snapshot is complete."""

    name: str
    patrol_id: str | None = None
    user_id: str | None = None
    expires_ms: int | None = None
    assignments: tuple[tuple[str, str], ...] = ()  # open (assignment_id, sighting_id)
    sightings: tuple[tuple[str, str | None], ...] = ()  # (sighting_id, drone_id) of those
    session_key: str | None = None  # the Redis key of its session: the socket lives only while it does


@dataclass(frozen=True)
class Refusal:
    """A handshake refused: 401 not signed in, 403 wrong role, 503 cannot tell now. `actor` and `role`:
    who was refused, when the handshake carried a valid session (such a refusal is audited)."""

    status: int
    reason: str
    actor: str | None = None
    role: str | None = None


SUPERVISOR = SocketOwner("supervisor")
# The socket feeds the supervisor screens (live_view) and the tablets (patrol_actions); nobody else.
LIVE_PERMISSIONS = ("live_view", "patrol_actions")


async def authorise(request: Request, *, redis_client: redis.asyncio.Redis | BatchedReads,
                    keys: Keys) -> SocketOwner | Refusal:
    """The role behind this handshake, from its session cookie; a Refusal otherwise. `redis_client`
    needs `hgetall` and `hget` only."""
    session_id = cookie_value(request.headers.get_all("Cookie"), SESSION_COOKIE)
    key = accounts.session_key(keys, session_id)
    if key is None:
        return Refusal(401, "Not signed in")
    try:
        identity = accounts.identity_from_stored(session_id, await redis_client.hgetall(key), clock.now_ms())
        if identity is None:
            return Refusal(401, "Session expired or ended: sign in again")
        if not any(may(identity.role, permission) for permission in LIVE_PERMISSIONS):
            return Refusal(403, f"The {identity.role.value} role has no live view", identity.user_id,
                           identity.role.value)
        if identity.role is not AuthRole.PATROL:
            return SocketOwner(identity.role.value, None, identity.user_id, identity.expires_ms, session_key=key)
        assignments, sightings = await accounts.patrol_scope_seed(redis_client, keys, identity.patrol_id)
    except (RedisError, OSError) as error:
        return Refusal(503, f"Cannot check the session now ({type(error).__name__})")
    return SocketOwner(identity.role.value, identity.patrol_id, identity.user_id, identity.expires_ms,
                assignments, sightings, key)


_session_authorise = authorise  # the Gateway's default, under a name its `authorise` argument does not hide


def subscription_for(role: SocketOwner) -> Subscription:
    """What a role may see: a patrol, only what concerns it (domain.auth.PatrolScope); the live
    view's roles, everything."""
    if role.name == AuthRole.PATROL.value and role.patrol_id:
        return PatrolScope(role.patrol_id, expires_ms=role.expires_ms, assignments=dict(role.assignments),
                           sightings=dict(role.sightings)).subscription()
    return EVERYTHING


def min_interval_ms(max_messages_per_s: int) -> int:
    """The least time between two deltas to one client for at most `max_messages_per_s` a second."""
    return -(-1000 // max(1, max_messages_per_s))


@dataclass(frozen=True)
class GatewayOptions:
    host: str
    port: int
    tick_ms: int = 150
    allowed_origins: tuple[Origin, ...] = DEFAULT_ORIGINS
    limits: Limits = Limits(min_interval_ms=min_interval_ms(20))  # issue 15: at most 20 deltas a second per client
    redis_connections: int = 32

    @classmethod
    def from_settings(cls, settings: Settings) -> "GatewayOptions":
        """SettingsError for an allowed origin that is not one (`scheme://host[:port]`)."""
        configured = settings.allowed_origins or default_origins(settings.web_host, settings.web_port)
        try:
            origins = parse_origins(configured)
        except ValueError as error:
            raise SettingsError(f"DISPATCH_ALLOWED_ORIGINS: {error}") from None
        return cls(
            host=settings.gateway_host or settings.web_host,
            port=settings.gateway_port,
            tick_ms=settings.gateway_tick_ms,
            allowed_origins=origins,
            limits=Limits(queue_messages=settings.gateway_queue_messages, queue_bytes=settings.gateway_queue_bytes,
                          min_interval_ms=min_interval_ms(settings.gateway_max_messages_per_s)),
            redis_connections=settings.gateway_redis_connections,
        )


def lookup_client(url: str, connections: int) -> redis.asyncio.Redis:
    """The client of the handshakes' session lookups (and the session checks).

    redis-py's asyncio pool refuses at once (MaxConnectionsError) when its 100 connections are
    taken, and 200 screens reconnecting at once take them all. This pool is bounded (Redis and
    this process stay within `connections` sockets) but a lookup *waits* for a free connection
    (up to LOOKUP_POOL_WAIT_S) instead of failing; each lookup takes well under a millisecond, so
    a few dozen connections serve a thousand handshakes in a fraction of a second. A connection
    lost mid-storm is retried with exponential backoff, not turned into a 503.
    """
    if is_cluster(url):  # issue 14 (cluster): a pool per node, `connections` each, lookups waiting their turn
        return connect_async(url, max_connections=connections,
                             retry=Retry(ExponentialBackoff(cap=0.5, base=0.02), retries=3))
    pool = redis.asyncio.BlockingConnectionPool.from_url(
        url, max_connections=connections, timeout=LOOKUP_POOL_WAIT_S,
        socket_connect_timeout=2.0, socket_timeout=5.0, health_check_interval=15,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.02), retries=3),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )
    return redis.asyncio.Redis(connection_pool=pool)


def raise_open_files_limit() -> None:
    """Each socket is a file descriptor: lift the soft limit (often 1,024) to the hard one, so a
    storm of a thousand screens is not refused by the kernel with EMFILE."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 65_536)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (ValueError, OSError) as error:
            log.warning("cannot raise the open files limit from %d: %s", soft, error)


class Gateway:
    def __init__(
        self,
        settings: Settings,
        options: GatewayOptions,
        *,
        authorise: Callable[[Request], SocketOwner | Refusal | None | Awaitable] | None = None,
        subscribe: Callable[[SocketOwner], Subscription] = subscription_for,
    ):
        self.options = options
        self.keys = Keys(settings.site)
        self.hub = Hub(options.limits)
        self._subscribe = subscribe
        # The tailer's XREAD BLOCK holds a connection for a second at a time: it gets a client of its own,
        # and its own reconnection loop (with backoff) handles failures, no hidden retries.
        self._redis = connect_async(settings.redis_url, socket_timeout=TAIL_BLOCK_MS / 1000 + 5.0,
                                    retry=Retry(NoBackoff(), 0))
        self._lookups = lookup_client(settings.redis_url, options.redis_connections)
        # A storm's session reads go to Redis a pipeline at a time, not one round trip each.
        self._authorise = authorise or functools.partial(_session_authorise, redis_client=BatchedReads(self._lookups),
                                                         keys=self.keys)
        self._snapshot_client = connect(settings.redis_url)  # sync: read_snapshot runs in a thread
        self._roles: weakref.WeakKeyDictionary[ServerConnection, SocketOwner] = weakref.WeakKeyDictionary()
        self._clients: dict[int, tuple[ServerConnection, asyncio.Event]] = {}
        self._sessions: dict[int, tuple[str, int | None]] = {}  # client id -> (session key, expires_ms)
        self._snapshot_wanted = asyncio.Event()
        self._flush_timer: asyncio.TimerHandle | None = None  # the next deferred flush (Limits.min_interval_ms)
        self._tail_backoff = Backoff()
        # Set once the tailer knows where it follows the stream from (the hub has a floor): a resume that
        # arrives before (a restarted gateway, a balancer sending clients to a gateway that just started)
        # waits for it, instead of reading a backlog that the tailer's first reset would void.
        self._following = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        duties = [asyncio.create_task(duty(), name=duty.__name__)
                  for duty in (self._tail_forever, self._tick_forever, self._snapshots_forever,
                               self._sessions_forever)]
        try:
            async with serve(
                self._connection, self.options.host, self.options.port,
                process_request=self._check_request, max_size=MAX_INCOMING_BYTES,
                close_timeout=CLOSE_TIMEOUT_S, backlog=LISTEN_BACKLOG,
            ):
                log.info("gateway listening on ws://%s:%d%s for site %s; pages allowed: %s",
                         self.options.host, self.options.port, PATH, self.keys.site,
                         ", ".join(f"{s}://{h}:{p}" for s, h, p in self.options.allowed_origins))
                stopping = asyncio.create_task(stop.wait())
                await asyncio.wait([stopping, *duties], return_when=asyncio.FIRST_COMPLETED)
                stopping.cancel()  # a duty only ends by crashing; its error is raised below
                log.info("stopping: closing %d connections", len(self._clients))
        finally:
            for duty in duties:
                duty.cancel()
            results = await asyncio.gather(*duties, return_exceptions=True)
            await self._redis.aclose()
            await self._lookups.aclose()
            self._snapshot_client.close()
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                raise result

    # Connections.
    async def _check_request(self, connection: ServerConnection, request: Request):
        if urlsplit(request.path).path == HEALTH_PATH:
            # For a load balancer's health check (HAProxy `option httpchk GET /health`): a gateway that
            # cannot reach Redis keeps its sockets open but should not be given new clients while
            # another one can serve them. Says nothing but whether it follows the stream.
            if self.hub.upstream_ok and self._following.is_set():
                return connection.respond(200, "ok: following the live stream\n")
            return connection.respond(503, "Redis unreachable: not following the live stream\n")
        if urlsplit(request.path).path != PATH:
            return connection.respond(404, "Not found: the live feed is at /live\n")
        try:
            origin = request.headers.get("Origin")
        except MultipleValuesError:  # more than one Origin: a forged request
            return connection.respond(400, "Bad request\n")
        if not origin_allowed(origin, self.options.allowed_origins):
            log.warning("refused %s: origin %r not allowed", _peer(connection), origin)
            # A page of another site riding a signed-in user's cookie: on the record under that user.
            await self._audit(connection, await self._verdict(request), f"page origin {origin!r:.80} not allowed")
            return connection.respond(403, "Forbidden origin\n")
        verdict = await self._verdict(request)
        if not isinstance(verdict, SocketOwner):
            refusal = verdict if isinstance(verdict, Refusal) else Refusal(403, "Not authorised")
            log.warning("refused %s: %s", _peer(connection), refusal.reason)
            await self._audit(connection, refusal, refusal.reason)
            return connection.respond(refusal.status, f"{refusal.reason}\n")
        self._roles[connection] = verdict
        return None

    async def _verdict(self, request: Request) -> SocketOwner | Refusal | None:
        verdict = self._authorise(request)
        return await verdict if inspect.isawaitable(verdict) else verdict

    async def _audit(self, connection: ServerConnection, verdict: SocketOwner | Refusal | None, reason: str) -> None:
        """Record a signed-in user's refused handshake as `access_denied` on the live feed (the README
        promises every refusal is recorded). Anonymous refusals (no or an ended session) name nobody
        and are only logged. Never raises: the refusal is the answer, a trail that cannot take the
        entry is logged instead."""
        if isinstance(verdict, SocketOwner):
            actor, role = verdict.user_id, verdict.name
        elif isinstance(verdict, Refusal):
            actor, role = verdict.actor, verdict.role
        else:
            return
        if not actor or not role:
            return
        try:
            entry = refused_entry(ts=clock.now_ms(), actor=actor, role=role, action=Action.ACCESS_DENIED,
                                  target=AUDIT_TARGET, reason=reason, origin=_peer_address(connection))
            await self._lookups.xadd(self.keys.audit, to_fields(entry))
        except (AuditError, RedisError, OSError) as error:
            log.error("refusal of %s not audited (%s: %s)", actor, type(error).__name__, error)

    async def _connection(self, ws: ServerConnection) -> None:
        role = self._roles.pop(ws, None)
        if role is None:  # never happens while process_request runs first; fail closed if it does
            await ws.close(1008, "not authorised")
            return
        since = asked = _query_value(ws.request.path, "since")
        subscription = self._subscribe(role)
        if not resumable(subscription):
            since = None  # what a filtered client was shown died with its connection: a snapshot of its scope
        if since is not None and not self._following.is_set():
            try:
                await asyncio.wait_for(self._following.wait(), FOLLOW_WAIT_S)
            except asyncio.TimeoutError:  # Redis is away: the client waits for a snapshot like a new one
                pass
        backlog, epoch, how = None, self.hub.epoch, "from memory"
        if since is not None and self.hub.needs_backlog(since):
            backlog = await self._read_backlog(since)
            how = f"from Redis ({len(backlog)} entries)" if backlog is not None else how
        client_id, resumed = self.hub.attach(subscription, since=since, backlog=backlog, epoch=epoch,
                                             now_ms=clock.now_ms())
        wake = asyncio.Event()
        wake.set()  # a resumed client has its first heartbeat queued already
        self._clients[client_id] = (ws, wake)
        if role.session_key is not None:
            self._sessions[client_id] = (role.session_key, role.expires_ms)
        if resumed:
            self._tick()  # its backlog (entries after `since`) at once, not at the next tick
        writer = asyncio.create_task(self._write(client_id, ws, wake))
        try:
            _limit_send_buffer(ws)
            log.info("client %d connected from %s as %s: %s", client_id, _peer(ws), role.name,
                     f"resumed after {since} {how}" if resumed
                     else "snapshot" if asked is None
                     else f"snapshot (a filtered client does not resume after {asked!r})" if since is None
                     else f"snapshot (cannot resume after {since!r})")
            if not resumed:
                self._snapshot_wanted.set()
            async for _ in ws:  # nothing expected; reading keeps pings and the close handshake going
                pass
        except ConnectionClosed:
            pass
        finally:
            writer.cancel()
            self._clients.pop(client_id, None)
            self._sessions.pop(client_id, None)
            self.hub.detach(client_id)
            log.info("client %d disconnected (code %s)", client_id, ws.close_code)

    async def _write(self, client_id: int, ws: ServerConnection, wake: asyncio.Event) -> None:
        try:
            while True:
                await wake.wait()
                wake.clear()
                while (data := self.hub.take(client_id)) is not None:
                    await ws.send(data, text=True)
        except ConnectionClosed:
            pass

    def _wake(self, client_ids) -> None:
        for client_id in client_ids:
            if client_id in self._clients:
                self._clients[client_id][1].set()

    async def _read_backlog(self, since: str) -> list[LiveEntry] | None:
        """The entries after `since` if `since` is still in the stream (and not too far back)."""
        limit = self.options.limits.backlog_entries
        try:
            raw = await self._lookups.xrange(self.keys.live, min=since, max="+", count=limit + 1)
        except (RedisError, OSError) as error:
            log.warning("cannot read %s after %s: %s", self.keys.live, since, error)
            return None
        if not raw or parse_stream_id(raw[0][0]) != parse_stream_id(since) or len(raw) > limit:
            return None
        return self._decode(raw[1:])

    def _decode(self, raw) -> list[LiveEntry]:
        entries = []
        for entry_id, fields in raw:
            entry, problems = decode_entry(entry_id, fields)
            for problem in problems:
                log.error("skipped part of a live entry: %s", problem)
            entries.append(entry)
        return entries

    # Duties.
    async def _tail_forever(self) -> None:
        while True:
            try:
                await self._follow()
            except (RedisError, OSError) as error:
                if self.hub.upstream_ok or not self._tail_backoff.failures:
                    log.warning("Redis unavailable (%s: %s); retrying with backoff", type(error).__name__, error)
                self.hub.upstream_ok = False
                await asyncio.sleep(self._tail_backoff.failed())

    async def _follow(self) -> None:
        last = self.hub.last_id
        if last is None:
            start = await self._latest_id()
            self.hub.reset(start)
            log.info("following %s after %s", self.keys.live, start)
        elif last != "0-0" and not await self._redis.xrange(self.keys.live, min=last, max=last, count=1):
            start = await self._latest_id()
            self.hub.reset(start)
            log.warning("%s no longer holds %s (Redis restarted without its data?): "
                        "following after %s, every client gets a snapshot", self.keys.live, last, start)
        elif self._tail_backoff.failures:
            log.info("Redis is back: %s continues after %s, no gap", self.keys.live, last)
        self.hub.upstream_ok = True
        self._following.set()
        self._tail_backoff.succeeded()
        self._snapshot_wanted.set()
        while True:
            last = self.hub.last_id
            reply = await self._redis.xread({self.keys.live: last}, count=TAIL_COUNT, block=TAIL_BLOCK_MS)
            # Is `last` still in the stream once the read is done? A tailer that fell more than
            # DISPATCH_LIVE_MAXLEN entries behind (a stalled process, a gateway behind the others) would
            # otherwise take the entries after a trimmed stretch as if they followed `last`: a gap for
            # every client. Trimming cuts from the front, so `last` present after the read means nothing
            # after it was cut before it. (From "0-0", an empty stream at start, there is nothing to ask.)
            # Asked after the read, not pipelined with it: only the order matters, and this way the check
            # needs nothing of the client (a cluster client's pipeline included). Only when the read brought
            # entries: a stream trimmed past `last` holds MAXLEN entries after it, so the read is not empty.
            if reply and last != "0-0" and not await self._redis.xrange(self.keys.live, min=last, max=last, count=1):
                start = await self._latest_id()
                self.hub.reset(start)
                log.warning("%s was trimmed past %s before this gateway read on (it fell behind): "
                            "following after %s, every client gets a snapshot", self.keys.live, last, start)
                self._snapshot_wanted.set()
                continue
            for _stream, raw in reply or ():
                self.hub.receive(self._decode(raw))
            if reply:
                self._tick()  # out at once to every client not sent a delta within its minimum interval

    async def _latest_id(self) -> str:
        last = await self._redis.xrevrange(self.keys.live, count=1)
        return last[0][0].decode() if last else "0-0"

    async def _tick_forever(self) -> None:
        loop = asyncio.get_running_loop()
        period = self.options.tick_ms / 1000
        due = loop.time()
        while True:
            due += period
            await asyncio.sleep(max(0.0, due - loop.time()))
            if loop.time() - due > period:
                due = loop.time()  # after a stall, go on from now instead of bursting to catch up
            self._tick()

    def _tick(self) -> None:
        now = clock.now_ms()
        result = self.hub.tick(now)
        if result.next_ms is not None:
            self._flush_at(result.next_ms - now)
        for client_id in result.resynced:
            log.info("client %d fell behind: queued messages dropped, a snapshot follows", client_id)
        for client_id in result.too_slow:
            self._drop_too_slow(client_id)
        self._wake(result.ready)
        if self.hub.wants_snapshot():
            self._snapshot_wanted.set()

    def _flush_at(self, delay_ms: int) -> None:
        """One timer for the earliest deferred flush; an earlier one replaces a later one."""
        loop = asyncio.get_running_loop()
        when = loop.time() + max(0, delay_ms) / 1000
        if self._flush_timer is not None:
            if not self._flush_timer.cancelled() and self._flush_timer.when() <= when and \
                    self._flush_timer.when() >= loop.time():
                return
            self._flush_timer.cancel()
        self._flush_timer = loop.call_at(when, self._timer_flush)

    def _timer_flush(self) -> None:
        self._flush_timer = None
        self._tick()

    def _drop_too_slow(self, client_id: int) -> None:
        connection = self._clients.get(client_id)
        log.warning("client %d disconnected: too slow (fell behind again before taking its snapshot)", client_id)
        if connection is not None:
            # It reads nothing, so a close handshake would only wait for the timeout.
            connection[0].transport.abort()

    async def _sessions_forever(self) -> None:
        """Close the sockets whose session has ended (signed out, expired, account changed)."""
        while True:
            await asyncio.sleep(SESSION_CHECK_S)
            watched = list(self._sessions.items())
            if not watched:
                continue
            try:
                async with self._lookups.pipeline(transaction=False) as pipe:
                    for _, (key, _) in watched:
                        pipe.exists(key)
                    alive = await pipe.execute()
            except (RedisError, OSError):
                continue  # cannot tell now: the tailer reports Redis down; look again next time
            now = clock.now_ms()
            for (client_id, (_, expires_ms)), exists in zip(watched, alive):
                if not exists or (expires_ms is not None and expires_ms <= now):
                    await self._end(client_id)

    async def _end(self, client_id: int) -> None:
        self._sessions.pop(client_id, None)
        connection = self._clients.get(client_id)
        if connection is not None:
            log.info("client %d: its session ended, closing", client_id)
            await connection[0].close(SESSION_ENDED, "session ended: sign in again")

    async def _snapshots_forever(self) -> None:
        backoff = Backoff()
        while True:
            await self._snapshot_wanted.wait()
            self._snapshot_wanted.clear()
            if not self.hub.wants_snapshot() or not self.hub.upstream_ok:
                continue  # the tailer asks again once Redis is back
            epoch = self.hub.epoch
            try:
                picture = await asyncio.to_thread(read_snapshot, self._snapshot_client, self.keys)
            except (RedisError, OSError) as error:
                delay = backoff.failed()
                log.warning("cannot read a snapshot (%s); retrying in %.1f s", error, delay)
                await asyncio.sleep(delay)
                self._snapshot_wanted.set()
                continue
            backoff.succeeded()
            given = self.hub.deliver_snapshot(Snapshot.from_store(picture), epoch)
            self._wake(given)
            if given:
                self._tick()  # entries read since the snapshot's id: at once, not at the next tick
            if not given and self.hub.wants_snapshot():
                await asyncio.sleep(0.05)  # the stream was reset meanwhile: read again
                self._snapshot_wanted.set()


def _query_value(path: str, name: str) -> str | None:
    values = parse_qs(urlsplit(path).query).get(name)
    return values[0] if values else None


def _peer_address(connection: ServerConnection) -> str:
    """The client's IP address for the audit trail ('internal' when there is none)."""
    address = connection.remote_address
    try:
        return str(ipaddress.ip_address(address[0])) if address else INTERNAL_ORIGIN
    except ValueError:
        return INTERNAL_ORIGIN


def _peer(connection: ServerConnection) -> str:
    address = connection.remote_address
    return f"{address[0]}:{address[1]}" if address else "?"


def _limit_send_buffer(ws: ServerConnection) -> None:
    sock = ws.transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
        except OSError:  # already gone: the read loop will notice
            pass


async def _serve_until_signalled(settings: Settings, options: GatewayOptions) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await Gateway(settings, options).run(stop)
    except OSError as error:  # the port is taken, the host does not exist
        log.error("cannot serve on %s:%d: %s", options.host, options.port, error)
        return 1
    log.info("gateway stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("websockets").setLevel(logging.WARNING)  # our own line per connection event
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"gateway: {error}", file=sys.stderr)
        return 2
    if not settings.redis_url:
        print("gateway: REDIS_URL is not set. Run the whole demo with `make run`, "
              "or point REDIS_URL at your Redis.", file=sys.stderr)
        return 2
    try:
        options = GatewayOptions.from_settings(settings)
    except SettingsError as error:
        print(f"gateway: {error}", file=sys.stderr)
        return 2
    if not settings.allowed_origins and settings.web_host.strip() in ("0.0.0.0", "::", "[::]"):
        log.warning("the web app listens on every address (%s) but DISPATCH_ALLOWED_ORIGINS is not set: only "
                    "pages opened as 127.0.0.1, localhost or [::1] may use the live feed; set it to the "
                    "address users type (e.g. https://dispatch.example)", settings.web_host)
    raise_open_files_limit()
    return asyncio.run(_serve_until_signalled(settings, options))


if __name__ == "__main__":
    sys.exit(main())
