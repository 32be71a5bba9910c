"""Many gateways, one stream: a client moving between hubs that follow `{site}:live` at their own pace.

Each gateway process has its own hub (its own memory of recent entries, started at its own moment,
its tailer ahead of or behind the others'); the only thing they share is the stream, whose ids are
the positions clients carry. This model check plays the gateway's resume step (dispatch/services/
gateway.py `_connection`: memory if it reaches back to `since=`, else the backlog read from Redis,
which vouches for `since` being an entry of the stream) against two hubs in any interleaving, and
checks every message the client gets against the stream itself: each delta is exactly the stream's
entries since the client's previous message, coalesced (no gap, no duplicate, one version per unit),
and a resume is never answered with a snapshot while the stream still holds `since`.
"""

from __future__ import annotations

import itertools

import orjson
from hypothesis import example, given, settings, strategies as st

from dispatch.domain.live import (
    EVERYTHING, Hub, Limits, LiveEntry, Snapshot, Subscription, coalesce, decode_entry, parse_stream_id, resumable,
    unit_key,
)


def entry(entry_id: str, **collections: list[dict]) -> LiveEntry:
    decoded, problems = decode_entry(entry_id, {name.encode(): orjson.dumps(units) for name, units in collections.items()})
    assert problems == []
    return decoded


class Stream:
    """`{site}:live` and the picture it describes, as Redis holds them (trimmed from the front)."""

    def __init__(self):
        self.entries: list[LiveEntry] = []  # what Redis still holds
        self.everything: list[LiveEntry] = []  # what was ever written: the reference for every delta
        self.picture: dict[str, dict[str, dict]] = {}
        self.versions = itertools.count(1)

    def write(self, units: list[tuple[str, int, bool]]) -> None:
        changes: dict[str, list[dict]] = {}
        for collection, number, closed in units:
            field = {"drones": "drone_id", "sightings": "sighting_id"}[collection]
            unit = {field: f"u{number}", "closed": True} if closed else {field: f"u{number}", "v": next(self.versions)}
            changes.setdefault(collection, []).append(unit)
            if closed:
                self.picture.get(collection, {}).pop(f"u{number}", None)
            else:
                self.picture.setdefault(collection, {})[f"u{number}"] = unit
        new = entry(f"{len(self.everything) + 1}-0", **changes)
        self.entries.append(new)
        self.everything.append(new)

    def trim(self, keep: int) -> None:
        del self.entries[:max(0, len(self.entries) - max(1, keep))]

    @property
    def last_id(self) -> str:
        return self.entries[-1].id if self.entries else "0-0"

    def backlog_after(self, since: str, limit: int) -> list[LiveEntry] | None:
        """As the gateway's `_read_backlog`: XRANGE from `since`, None unless `since` is its first entry."""
        key = parse_stream_id(since)
        found = [e for e in self.entries if e.key >= key] if key is not None else []
        if not found or found[0].key != key or len(found) > limit + 1:
            return None
        return found[1:]

    def between(self, after: str, upto: str) -> list[LiveEntry]:
        low, high = parse_stream_id(after), parse_stream_id(upto)
        return [e for e in self.everything if low < e.key <= high]


class Gateway:
    """One gateway's hub and its tailer's position in the stream (it may lag, or not have started)."""

    def __init__(self, stream: Stream, limits: Limits):
        self.stream = stream
        self.hub = Hub(limits)
        self.started = False

    def start(self) -> None:
        """The tailer's first step: follow after the newest entry (gateway `_follow`)."""
        self.hub.reset(self.stream.last_id)
        self.hub.upstream_ok = True
        self.started = True

    def tail(self, count: int) -> None:
        if not self.started:
            return
        last = self.hub.last_id
        read = [e for e in self.stream.entries if e.key > parse_stream_id(last)][:count]  # XREAD after last
        if not any(e.id == last for e in self.stream.entries):  # trimmed past it: what follows is not next
            self.hub.reset(self.stream.last_id)
            return
        self.hub.receive(read)

    def connect(self, since: str | None) -> tuple[int, bool]:
        """The gateway's `_connection`: it waits for its tailer to have started before resuming anyone."""
        if not self.started:
            self.start()
        backlog = None
        if since is not None and self.hub.needs_backlog(since):
            backlog = self.stream.backlog_after(since, self.hub.limits.backlog_entries)
        return self.hub.attach(since=since, backlog=backlog, epoch=self.hub.epoch)

    def serve_snapshot(self) -> None:
        if self.started and self.hub.wants_snapshot():
            picture = {c: list(units.values()) for c, units in self.stream.picture.items()}
            self.hub.deliver_snapshot(Snapshot(self.stream.last_id, picture), self.hub.epoch)


units = st.lists(st.tuples(st.sampled_from(["drones", "sightings"]), st.integers(0, 4), st.booleans()),
                 min_size=1, max_size=3)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("write"), units),
        st.tuples(st.just("tail"), st.tuples(st.integers(0, 1), st.integers(1, 8))),
        st.tuples(st.just("tick"), st.integers(0, 1)),
        st.tuples(st.just("switch"), st.none()),  # disconnect, reconnect with since= on the other gateway
        st.tuples(st.just("trim"), st.integers(1, 12)),  # MAXLEN trims the stream's oldest entries
    ),
    max_size=80,
)


@settings(max_examples=400, deadline=None)
@given(steps, st.booleans())
@example([("write", [("drones", 1, False)]), ("tail", (0, 8)), ("tick", 0), ("write", [("drones", 2, False)]),
          ("write", [("drones", 3, False)]), ("trim", 1), ("tail", (0, 8)), ("tick", 0)], False)  # tailer trimmed past
@example([("tick", 0), ("write", [("drones", 1, False)]), ("switch", None), ("write", [("drones", 2, False)]),
          ("switch", None), ("tail", (1, 1)), ("switch", None), ("tick", 1)], True)  # resume ahead of a lagging one
def test_a_client_moving_between_gateways_gets_exactly_the_stream(script, b_starts_late):
    stream = Stream()
    stream.write([("drones", 0, False)])  # gateways start on a stream that has entries (see gateway `_follow`)
    limits = Limits(history_entries=6, backlog_entries=20)
    gateways = [Gateway(stream, limits), Gateway(stream, limits)]
    gateways[0].start()
    if not b_starts_late:
        gateways[1].start()
    on = 0
    client, _ = gateways[on].connect(None)
    picture: dict[str, dict[str, dict]] = {}
    position: str | None = None  # the id of the last message applied (heartbeats included)

    def read() -> None:
        nonlocal position
        while (data := gateways[on].hub.take(client)) is not None:
            message = orjson.loads(data)
            if message["type"] == "snapshot":
                picture.clear()
            elif message["type"] == "delta":
                assert position is not None, "a delta before any snapshot"
                sent = {c: u for c, u in message.items() if c not in ("type", "id")}
                assert sent == coalesce(stream.between(position, message["id"])), \
                    f"delta {message['id']} after {position} is not exactly the stream's entries in between"
            if message["type"] in ("snapshot", "delta"):
                for collection, units_sent in message.items():
                    if collection in ("type", "id"):
                        continue
                    kept = picture.setdefault(collection, {})
                    for unit in units_sent:
                        if unit.get("closed"):
                            kept.pop(unit_key(collection, unit), None)
                        else:
                            kept[unit_key(collection, unit)] = unit
            if message["id"] is not None:
                position = message["id"]

    def step_clock(gateway: Gateway) -> None:
        result = gateway.hub.tick(len(stream.everything) * 1000)
        assert result.too_slow == [] and result.resynced == [] or gateway is not gateways[on], \
            "the default queue bounds are never reached here"
        gateway.serve_snapshot()
        if gateway is gateways[on]:
            read()

    for action, payload in script:
        if action == "write":
            stream.write(payload)
        elif action == "tail":
            number, count = payload
            gateways[number].tail(count)
        elif action == "tick":
            step_clock(gateways[payload])
        elif action == "trim":
            stream.trim(payload)
        elif action == "switch":
            gateways[on].hub.detach(client)
            on = 1 - on
            since = position
            held = since is not None and any(e.id == since for e in stream.entries)
            behind = len([e for e in stream.entries if since is not None and e.key > parse_stream_id(since)])
            client, resumed = gateways[on].connect(since)
            if held and behind <= limits.backlog_entries:
                assert resumed, f"resume after {since} on gateway {on} answered with a snapshot"
            gateways[on].serve_snapshot()
            read()
    # Settle: both tailers catch up, the client's gateway ticks.
    for gateway in gateways:
        gateway.tail(len(stream.everything))
    step_clock(gateways[on])
    step_clock(gateways[on])
    assert {c: u for c, u in picture.items() if u} == {c: u for c, u in stream.picture.items() if u}
    assert position == stream.last_id


def test_only_an_unfiltered_client_resumes_since_a_filtered_ones_memory_dies_with_its_connection():
    """Why `resumable`: the hub sends a filtered client a `closed` tombstone for a unit it was shown that
    stops matching, and knows what it was shown only on the connection that showed it. A tablet resumed on
    another gateway (or a new connection of the same one) would never hear that its assignment was handed
    to another patrol."""
    def tablet():
        return Subscription(filters={"assignments": lambda u: u.get("patrol_id") == "BAC-12"}, others=False)

    given = entry("101-0", assignments=[{"assignment_id": "as-1", "patrol_id": "BAC-12"}])
    handed = entry("102-0", assignments=[{"assignment_id": "as-1", "patrol_id": "BAC-40"}])
    first, second = Hub(), Hub()
    for hub in (first, second):
        hub.reset("100-0")
    on_first, _ = first.attach(tablet(), since="100-0")
    first.receive([given])
    first.tick(0)
    assert b"as-1" in first.take(on_first)
    second.receive([given, handed])
    on_second, resumed = second.attach(tablet(), since="101-0")  # as the gateway no longer does
    assert resumed
    second.tick(1)
    assert [orjson.loads(m)["type"] for m in iter(lambda: second.take(on_second), None)] == ["heartbeat"], \
        "no tombstone: as-1 would stay on the tablet"
    assert not resumable(tablet()) and resumable(EVERYTHING)
