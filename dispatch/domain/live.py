"""The push gateway's core, sans I/O: live entries in, messages per client out.

Like python-websockets' protocol core, nothing here touches a socket or Redis.
The gateway process feeds the `Hub` what its tailer read from `{site}:live`,
snapshots it read from the picture and the clock; the hub decides what each
client gets, so every rule of the transport (coalescing, resume without gap or
duplicate, what to do with a client that falls behind, per-connection filters)
is tested with plain values.

Positions: every client has one, the id of the last live entry whose effect it
has been given (by a delta or a snapshot). The hub keeps a recent history of
entries in memory; `floor` is the id after which that history is complete. A
client positioned at or after the floor is served from memory; one before it
needs the missing entries from Redis (its `backlog`) or a snapshot.
"""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping
from urllib.parse import urlsplit

import orjson

# The one place that says which field identifies a unit of each collection.
ID_FIELDS: dict[str, str] = {
    "drones": "drone_id",
    "patrols": "patrol_id",
    "sightings": "sighting_id",
    "assignments": "assignment_id",
    "alerts": "alert_id",
    "zones": "zone_id",
}
FALLBACK_ID_FIELD = "id"  # collections we do not know yet still coalesce if their units carry one
# Top-level names of a message: a collection with one of these names would overwrite them.
RESERVED_NAMES = frozenset({"type", "id", "server_ms", "upstream"})

StreamId = tuple[int, int]
Unit = dict
Changes = dict[str, list[Unit]]


def parse_stream_id(text: str | bytes | None) -> StreamId | None:
    """`<ms>-<seq>` as a comparable pair; None for anything else (a client may send garbage)."""
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    if not text or len(text) > 41:
        return None
    ms, sep, seq = text.partition("-")
    if not (ms.isdigit() and ms.isascii() and (not sep or (seq.isdigit() and seq.isascii()))):
        return None
    key = int(ms), int(seq or 0)
    return key if max(key) < 1 << 64 else None  # Redis ids are two unsigned 64-bit numbers


def id_field(collection: str) -> str:
    return ID_FIELDS.get(collection, FALLBACK_ID_FIELD)


def unit_key(collection: str, unit: Unit) -> str | None:
    """The unit's id within its collection, or None when it has none (then it is never coalesced)."""
    value = unit.get(id_field(collection))
    return value if isinstance(value, str) and value else None


def is_closed(unit: Unit) -> bool:
    return unit.get("closed") is True


@dataclass(frozen=True)
class LiveEntry:
    id: str
    key: StreamId
    changes: Changes


def decode_entry(entry_id: str | bytes, fields: Mapping[bytes | str, bytes | str]) -> tuple[LiveEntry, list[str]]:
    """A raw `{site}:live` entry as values, and what had to be skipped in it.

    The live stream is written by our own scripts, but a bad field (or a
    collection named like a message key) must cost that field, not the tailer.
    """
    text_id = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    key = parse_stream_id(text_id)
    if key is None:
        raise ValueError(f"not a stream id: {text_id!r}")
    changes: Changes = {}
    problems: list[str] = []
    for raw_name, raw_value in fields.items():
        name = raw_name.decode(errors="replace") if isinstance(raw_name, bytes) else raw_name
        if name in RESERVED_NAMES:
            problems.append(f"{text_id}: collection name {name!r} is reserved")
            continue
        try:
            units = orjson.loads(raw_value)
        except orjson.JSONDecodeError as error:
            problems.append(f"{text_id}: {name}: not JSON ({error})")
            continue
        if not isinstance(units, list) or not all(isinstance(unit, dict) for unit in units):
            problems.append(f"{text_id}: {name}: not a JSON array of objects")
            continue
        changes[name] = units
    return LiveEntry(text_id, key, changes), problems


def coalesce(entries: Iterable[LiveEntry]) -> Changes:
    """Only the last version of each unit per collection, in order of first appearance."""
    latest: dict[str, dict[object, Unit]] = {}
    for entry in entries:
        for collection, units in entry.changes.items():
            kept = latest.setdefault(collection, {})
            for unit in units:
                key = unit_key(collection, unit)
                kept[key if key is not None else object()] = unit
    return {collection: list(kept.values()) for collection, kept in latest.items() if kept}


@dataclass(frozen=True)
class Snapshot:
    """The whole picture as of live entry `id`: each collection is complete."""

    id: str
    collections: Changes

    @classmethod
    def from_store(cls, picture: Mapping) -> "Snapshot":
        """From dispatch.store.state.read_snapshot: every list-valued key is a collection."""
        collections = {name: value for name, value in picture.items()
                       if isinstance(value, list) and name not in RESERVED_NAMES}
        return cls(str(picture["live_id"]), collections)


# --- Messages (docs/live-protocol.md) -------------------------------------------------

def delta_message(last_id: str, changes: Changes) -> bytes:
    return orjson.dumps({"type": "delta", "id": last_id, **changes})


def snapshot_message(snapshot_id: str, collections: Changes) -> bytes:
    return orjson.dumps({"type": "snapshot", "id": snapshot_id, **collections})


def heartbeat_message(position: str | None, server_ms: int, upstream_ok: bool) -> bytes:
    return orjson.dumps({"type": "heartbeat", "id": position, "server_ms": server_ms,
                         "upstream": "ok" if upstream_ok else "lost"})


# --- Per-connection filter -------------------------------------------------------------

@dataclass(frozen=True)
class Subscription:
    """What one connection may see: a predicate per collection, `others` for the rest.

    Tablets will see only what concerns their patrol, so a unit may stop
    matching (an assignment handed to another patrol): the hub then sends that
    client a `closed` tombstone for it, instead of leaving a stale unit behind.
    """

    filters: Mapping[str, Callable[[Unit], bool]] = field(default_factory=dict)
    others: bool = True

    @property
    def everything(self) -> bool:
        return not self.filters and self.others

    def admits(self, collection: str, unit: Unit) -> bool:
        predicate = self.filters.get(collection)
        if predicate is None:
            return self.others
        try:
            return bool(predicate(unit))
        except Exception:  # a unit the predicate did not expect: hidden (fail closed), the feed goes on
            return False


EVERYTHING = Subscription()


def resumable(subscription: Subscription) -> bool:
    """May a reconnecting client with this subscription resume with `since=`? Only an unfiltered one.

    For a filtered client (a tablet) the hub remembers which units it was shown, to send a `closed`
    tombstone when one stops matching; that memory belongs to the connection it lost, on whichever gateway
    held it. Resumed without it, a unit that left its scope while it was away (an assignment handed to
    another patrol) would stay on its screen: it gets a fresh snapshot of its scope instead (a few units).
    """
    return subscription.everything


Origin = tuple[str, str, int]  # (scheme, host, port), as a browser's Origin header names a page

_DEFAULT_PORTS = {"http": 80, "https": 443}
# Names under which a page served on a loopback or wildcard address is reached from this machine.
_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
_WILDCARD_HOSTS = ("0.0.0.0", "::", "[::]", "")


def parse_origin(text: str | None) -> Origin | None:
    """`scheme://host[:port]` as (scheme, host, port) with the scheme's default port made explicit and
    names lower-cased; None for anything a page served over http(s) would not send: `null` (sandboxed
    iframes, file:// pages), other schemes, a path, credentials, a malformed port."""
    if not text:
        return None
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or parts.username is not None or parts.password is not None:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    return scheme, parts.hostname.lower(), port if port is not None else _DEFAULT_PORTS[scheme]


def parse_origins(text: str) -> tuple[Origin, ...]:
    """A comma-separated list of origins (DISPATCH_ALLOWED_ORIGINS); ValueError names the first bad one."""
    origins = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        origin = parse_origin(item)
        if origin is None:
            raise ValueError(f"{item!r} is not an origin such as https://dispatch.example or http://127.0.0.1:8050")
        origins.append(origin)
    return tuple(origins)


def default_origins(web_host: str, web_port: int) -> str:
    """The pages the web app itself serves, when no origin is configured: `http://<web host>:<web port>`;
    a loopback or wildcard bind is reached from this machine as 127.0.0.1, localhost or [::1]. Behind a
    proxy, or under a public name, set DISPATCH_ALLOWED_ORIGINS to the address users type."""
    host = web_host.strip().lower()
    if host in _WILDCARD_HOSTS or host in ("127.0.0.1", "localhost", "::1", "[::1]"):
        names = _LOOPBACK_NAMES
    else:
        names = (f"[{host}]" if ":" in host and not host.startswith("[") else host,)
    return ",".join(f"http://{name}:{web_port}" for name in names)


def origin_allowed(origin: str | None, allowed: Iterable[Origin]) -> bool:
    """Cross-site websocket hijacking guard: may a page from `origin` open a socket here?

    Scheme, host and port must equal one allowed origin: a page on the same machine name but another
    port or scheme is another site (a developer's tool, a file:// page, anything on that host), and
    must not ride the session cookie, which browsers send whatever the port. No Origin header means no
    browser (browsers always send it on a websocket handshake), so nothing to guard against; such a
    client still needs a valid session.
    """
    if origin is None:
        return True
    parsed = parse_origin(origin)
    return parsed is not None and parsed in set(allowed)


# --- The hub ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Limits:
    queue_messages: int = 64  # pending deltas + heartbeats (about 10 s of ticks)
    queue_bytes: int = 1 << 20
    history_entries: int = 2_000  # entries kept in memory for resumes and late snapshots
    history_window_ms: int = 60_000
    backlog_entries: int = 5_000  # a resume needing more from Redis gets a snapshot instead
    heartbeat_ms: int = 1_000
    # Adaptive coalescing: a client is flushed as soon as the hub is asked (the tailer asks after every
    # read), unless it was flushed less than this long ago; then what arrived meanwhile waits for its next
    # allowed flush and goes as one coalesced delta. 0: every call flushes (a fixed-tick hub, as tests drive
    # it). The gateway sets 1000 / DISPATCH_GATEWAY_MAX_MESSAGES_PER_S: at most that many deltas a second.
    min_interval_ms: int = 0


@dataclass
class _Client:
    subscription: Subscription
    position: StreamId | None = None  # None: waiting for a snapshot
    position_text: str | None = None
    backlog: list[LiveEntry] = field(default_factory=list)
    queue: deque = field(default_factory=deque)  # (kind, bytes)
    pending: int = 0  # deltas and heartbeats queued (a snapshot is not counted)
    pending_bytes: int = 0
    visible: dict[str, set[str]] | None = None  # filtered clients: ids each collection shows
    next_flush_ms: int | None = None  # not flushed again before this (Limits.min_interval_ms); None: at once

    @property
    def snapshot_queued(self) -> bool:
        return any(kind == "snapshot" for kind, _ in self.queue)


@dataclass
class TickResult:
    ready: list[int] = field(default_factory=list)  # clients with something queued
    resynced: list[int] = field(default_factory=list)  # fell behind: queue dropped, snapshot coming
    too_slow: list[int] = field(default_factory=list)  # fell behind again before taking a snapshot: detached
    next_ms: int | None = None  # a client has entries waiting for its next allowed flush: call tick() then


class Hub:
    def __init__(self, limits: Limits = Limits()):
        self.limits = limits
        self.floor: StreamId | None = None  # None until the tailer has found its starting point
        self.last_id: str | None = None  # the last entry received: where the tailer goes on from
        self.epoch = 0  # bumped on reset: snapshots and backlogs read before it are void
        self.upstream_ok = False
        self._history: list[LiveEntry] = []
        self._keys: list[StreamId] = []
        self._clients: dict[int, _Client] = {}
        self._next_client = 1
        self._next_heartbeat_ms = 0

    # The tailer's side.
    def reset(self, start_id: str) -> None:
        """Follow the stream from `start_id`, forgetting the past: every client needs a snapshot."""
        self.floor = parse_stream_id(start_id)
        self.last_id = start_id
        self.epoch += 1
        self._history.clear()
        self._keys.clear()
        for client in self._clients.values():
            self._await_snapshot(client)

    def receive(self, entries: Iterable[LiveEntry]) -> None:
        for entry in entries:
            if self._keys and entry.key <= self._keys[-1] or self.floor is None or entry.key <= self.floor:
                continue  # already have it (a re-read after a reconnection)
            self._history.append(entry)
            self._keys.append(entry.key)
            self.last_id = entry.id

    # The connections' side.
    def needs_backlog(self, since: str) -> bool:
        """Must the entries after `since` come from Redis (memory does not reach back so far)?"""
        key = parse_stream_id(since)
        if key is None:
            return False
        if self.floor is None or key < self.floor:
            return True
        return key > (self._keys[-1] if self._keys else self.floor)  # the tailer may lag Redis

    def attach(self, subscription: Subscription = EVERYTHING, *, since: str | None = None,
               backlog: list[LiveEntry] | None = None, epoch: int | None = None,
               now_ms: int | None = None) -> tuple[int, bool]:
        """A new connection; returns (client id, resumed). Not resumed: it waits for a snapshot.

        `backlog`: the entries after `since` read from Redis (with `since` itself
        verified present), when `needs_backlog(since)` said so. `now_ms`: a resumed
        client is sent a heartbeat at once (its position and the upstream state), so
        a screen coming back after an outage with nothing new to apply is live in
        milliseconds rather than at the next round of heartbeats (up to a second).
        """
        client_id = self._next_client
        self._next_client += 1
        client = self._clients[client_id] = _Client(subscription)
        if not subscription.everything:
            client.visible = {}
        key = parse_stream_id(since)
        if key is not None and backlog is not None and epoch == self.epoch:
            client.position, client.position_text, client.backlog = key, since, list(backlog)
        elif key is not None and backlog is None and self._in_history(key):
            client.position, client.position_text = key, since
        if client.position is not None and now_ms is not None:
            self._enqueue(client_id, client, "heartbeat",
                          heartbeat_message(client.position_text, now_ms, self.upstream_ok), TickResult())
        return client_id, client.position is not None

    def detach(self, client_id: int) -> None:
        self._clients.pop(client_id, None)

    def take(self, client_id: int) -> bytes | None:
        """The next message for this client's writer, oldest first."""
        client = self._clients.get(client_id)
        if client is None or not client.queue:
            return None
        kind, data = client.queue.popleft()
        if kind != "snapshot":
            client.pending -= 1
            client.pending_bytes -= len(data)
        return data

    def wants_snapshot(self) -> bool:
        return any(client.position is None for client in self._clients.values())

    def deliver_snapshot(self, snapshot: Snapshot, epoch: int) -> list[int]:
        """Give `snapshot` to every client waiting for one; returns them (empty if it is too old)."""
        key = parse_stream_id(snapshot.id)
        if epoch != self.epoch or key is None or self.floor is None or key < self.floor:
            return []
        waiting = [cid for cid, client in self._clients.items() if client.position is None]
        shared: bytes | None = None
        for client_id in waiting:
            client = self._clients[client_id]
            if client.subscription.everything:
                if shared is None:
                    shared = snapshot_message(snapshot.id, _open_units(snapshot.collections))
                data = shared
            else:
                data = snapshot_message(snapshot.id, self._filter_snapshot(client, snapshot.collections))
            client.queue.append(("snapshot", data))
            client.position, client.position_text = key, snapshot.id
        return waiting

    def tick(self, now_ms: int) -> TickResult:
        """Flush what arrived since each client's last flush; heartbeats when due.

        Called on every batch the tailer reads (and by a timer): an idle client gets an entry at once;
        one flushed less than `min_interval_ms` ago is left for its next allowed flush (`next_ms`), when
        everything that arrived meanwhile goes as one coalesced delta. Clients flushed together stay in
        step, so one coalesced, serialised delta keeps serving all of them.
        """
        result = TickResult()
        shared: dict[StreamId, tuple[str, Changes, bytes | None]] = {}
        newest = self._keys[-1] if self._keys else None
        for client_id, client in self._clients.items():
            if client.position is None:
                continue
            if client.next_flush_ms is not None and now_ms < client.next_flush_ms:
                if client.backlog or (newest is not None and client.position < newest):
                    result.next_ms = client.next_flush_ms if result.next_ms is None \
                        else min(result.next_ms, client.next_flush_ms)
                continue
            moved_from = client.position
            self._flush(client_id, client, shared, result)
            if self.limits.min_interval_ms and client.position is not None and client.position != moved_from:
                # Whether or not a message went (a filtered client may see none of it), the work was done:
                # a client costs the hub at most one flush per interval, whatever the stream's rate.
                client.next_flush_ms = now_ms + self.limits.min_interval_ms
        if now_ms >= self._next_heartbeat_ms:
            self._next_heartbeat_ms = now_ms + self.limits.heartbeat_ms
            for client_id, client in self._clients.items():
                self._enqueue(client_id, client, "heartbeat",
                              heartbeat_message(client.position_text, now_ms, self.upstream_ok), result)
        for client_id in result.too_slow:
            self._clients.pop(client_id, None)
        self._trim_history()
        result.ready = [cid for cid, client in self._clients.items() if client.queue]
        return result

    # Internals.
    def _in_history(self, key: StreamId) -> bool:
        if self.floor is not None and key == self.floor:
            return True
        index = bisect.bisect_left(self._keys, key)
        return index < len(self._keys) and self._keys[index] == key

    def _after(self, key: StreamId) -> list[LiveEntry]:
        return self._history[bisect.bisect_right(self._keys, key):]

    def _flush(self, client_id: int, client: _Client, shared: dict, result: TickResult) -> None:
        covered = client.backlog[-1].key if client.backlog else client.position
        if self.floor is None or covered < self.floor:
            self._await_snapshot(client)  # memory no longer reaches back to it: a gap
            result.resynced.append(client_id)
            return
        if client.backlog:
            entries = client.backlog + self._after(covered)
            client.backlog = []
            if not entries:
                return
            last_id, changes, everyone = entries[-1].id, coalesce(entries), None
        else:
            if client.position not in shared:
                entries = self._after(client.position)
                shared[client.position] = (entries[-1].id, coalesce(entries), None) if entries else None
            if shared[client.position] is None:
                return
            last_id, changes, everyone = shared[client.position]
            if client.subscription.everything and everyone is None:
                everyone = delta_message(last_id, changes)
                shared[client.position] = (last_id, changes, everyone)
        client.position, client.position_text = parse_stream_id(last_id), last_id
        if client.subscription.everything:
            data = everyone if everyone is not None else delta_message(last_id, changes)
        else:
            visible_changes = self._filter_delta(client, changes)
            if not visible_changes:
                return  # nothing for this client; its position moved on all the same
            data = delta_message(last_id, visible_changes)
        self._enqueue(client_id, client, "delta", data, result)

    def _enqueue(self, client_id: int, client: _Client, kind: str, data: bytes, result: TickResult) -> None:
        """Queue a message, applying the slow-client policy when the queue is over its bounds."""
        client.queue.append((kind, data))
        client.pending += 1
        client.pending_bytes += len(data)
        if client.pending <= self.limits.queue_messages and client.pending_bytes <= self.limits.queue_bytes:
            return
        if client.snapshot_queued:
            if client_id not in result.too_slow:  # it did not even take the snapshot it was given
                result.too_slow.append(client_id)
            client.queue.clear()
            client.pending = client.pending_bytes = 0
        else:
            self._await_snapshot(client)
            result.resynced.append(client_id)

    def _await_snapshot(self, client: _Client) -> None:
        """Drop what is queued (a snapshot supersedes it) and wait for the next snapshot."""
        client.queue.clear()
        client.pending = client.pending_bytes = 0
        client.position = client.position_text = None
        client.backlog = []

    def _trim_history(self) -> None:
        if not self._keys:
            return
        newest_ms = self._keys[-1][0]
        cut = bisect.bisect_left(self._keys, (newest_ms - self.limits.history_window_ms, 0))
        cut = max(cut, len(self._keys) - self.limits.history_entries)
        if cut > 0:
            self.floor = self._keys[cut - 1]
            del self._history[:cut]
            del self._keys[:cut]

    def _filter_snapshot(self, client: _Client, collections: Changes) -> Changes:
        client.visible = {}
        shown: Changes = {}
        for collection, units in collections.items():
            kept = [u for u in units if not is_closed(u) and client.subscription.admits(collection, u)]
            client.visible[collection] = {k for u in kept if (k := unit_key(collection, u)) is not None}
            shown[collection] = kept
        return shown

    def _filter_delta(self, client: _Client, changes: Changes) -> Changes:
        """The changes this client may see, with tombstones for units it saw that no longer match."""
        shown: Changes = {}
        for collection, units in changes.items():
            visible = client.visible.setdefault(collection, set())
            kept: list[Unit] = []
            for unit in units:
                key = unit_key(collection, unit)
                if client.subscription.admits(collection, unit):
                    kept.append(unit)
                    if key is not None:
                        (visible.discard if is_closed(unit) else visible.add)(key)
                elif key is not None and key in visible:
                    visible.discard(key)
                    kept.append({id_field(collection): key, "closed": True})
            if kept:
                shown[collection] = kept
        return shown


def _open_units(collections: Changes) -> Changes:
    return {name: [u for u in units if not is_closed(u)] for name, units in collections.items()}
