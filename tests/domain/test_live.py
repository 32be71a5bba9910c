"""The gateway's pure core: coalescing, messages, resume, the slow-client policy, filters.

No socket and no Redis: entries, snapshots and the clock are plain values fed
to the hub, as the gateway process feeds them.
"""

from __future__ import annotations

import itertools

import orjson
import pytest
from hypothesis import given, settings, strategies as st

from dispatch.domain.live import (
    EVERYTHING, ID_FIELDS, Hub, Limits, LiveEntry, Snapshot, Subscription, coalesce, decode_entry,
    delta_message, heartbeat_message, is_closed, origin_allowed, parse_stream_id, snapshot_message, unit_key,
)
from dispatch.domain.live import default_origins, parse_origins


def entry(entry_id: str, **collections: list[dict]) -> LiveEntry:
    decoded, problems = decode_entry(entry_id, {name.encode(): orjson.dumps(units) for name, units in collections.items()})
    assert problems == []
    return decoded


def drone(drone_id: str, ts: int, **extra) -> dict:
    return {"drone_id": drone_id, "ts": ts, "lat": 48.1, "lon": -1.6, **extra}


def patrol(patrol_id: str, ts: int, status: str = "available", **extra) -> dict:
    return {"patrol_id": patrol_id, "ts": ts, "status": status, **extra}


def drain(hub: Hub, client_id: int) -> list[dict]:
    messages = []
    while (data := hub.take(client_id)) is not None:
        messages.append(orjson.loads(data))
    return messages


def started_hub(start: str = "100-0", **limits) -> Hub:
    hub = Hub(Limits(**limits))
    hub.reset(start)
    hub.upstream_ok = True
    return hub


def dr1_moves(hub: Hub, number: int, now: int | None = None, **extra):
    """DR-1's fix `number` arrives as entry `number`-0, then the hub ticks at `now` (by default `number`);
    returns the tick's result."""
    hub.receive([entry(f"{number}-0", drones=[drone("DR-1", number, **extra)])])
    return hub.tick(number if now is None else now)


def deltas(messages: list[dict]) -> list[dict]:
    return [m for m in messages if m["type"] == "delta"]


# --- Values --------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("1767225599751-0", (1767225599751, 0)),
    ("1767225599751-12", (1767225599751, 12)),
    (b"5-3", (5, 3)),
    ("0-0", (0, 0)),
    ("42", (42, 0)),  # Redis reads a bare millisecond time as <ms>-0
    ("", None), (None, None), ("-", None), ("1-", None), ("-1", None), ("a-1", None), ("1-b", None),
    ("1 -0", None), ("1-0 ", None), ("+", None), ("$", None), ("1.5-0", None), ("١٢-0", None),
    (f"{1 << 64}-0", None), (f"1-{1 << 64}", None), ("1" * 50, None),
])
def test_parse_stream_id(text, expected):
    assert parse_stream_id(text) == expected


def test_stream_ids_compare_numerically_not_as_text():
    assert parse_stream_id("9-0") < parse_stream_id("10-0")
    assert parse_stream_id("10-2") < parse_stream_id("10-10")


@pytest.mark.parametrize("collection, unit, key", [
    ("drones", {"drone_id": "DR-07"}, "DR-07"),
    ("patrols", {"patrol_id": "BAC-12"}, "BAC-12"),
    ("sightings", {"sighting_id": "abc123"}, "abc123"),
    ("assignments", {"assignment_id": "as-0001"}, "as-0001"),
    ("alerts", {"alert_id": "al-0001"}, "al-0001"),
    ("zones", {"zone_id": "Z-1"}, "Z-1"),
    ("drones", {"id": "DR-07"}, None),  # a known collection uses its own field only
    ("weather", {"id": "W-1"}, "W-1"),  # unknown: keyed by `id`
    ("weather", {"name": "W-1"}, None),
    ("drones", {"drone_id": 7}, None),
    ("drones", {"drone_id": ""}, None),
])
def test_unit_key(collection, unit, key):
    assert unit_key(collection, unit) == key


def test_every_collection_of_the_issue_has_an_id_field():
    assert set(ID_FIELDS) == {"drones", "patrols", "sightings", "assignments", "alerts", "zones"}


@pytest.mark.parametrize("unit, closed", [
    ({"closed": True}, True), ({"closed": False}, False), ({}, False), ({"closed": "true"}, False), ({"closed": 1}, False),
])
def test_only_a_json_true_closes_a_unit(unit, closed):
    assert is_closed(unit) is closed


def test_decode_entry_keeps_good_fields_and_reports_bad_ones():
    decoded, problems = decode_entry(b"5-1", {
        b"drones": b'[{"drone_id":"DR-1","ts":1}]',
        b"patrols": b"not json",
        b"sightings": b'{"sighting_id":"x"}',
        b"zones": b"[1, 2]",
        b"type": b"[]",
        b"weather": b'[{"id":"W"}]',
    })
    assert decoded.id == "5-1" and decoded.key == (5, 1)
    assert decoded.changes == {"drones": [{"drone_id": "DR-1", "ts": 1}], "weather": [{"id": "W"}]}
    assert len(problems) == 4
    assert any("patrols: not JSON" in p for p in problems)
    assert any("sightings: not a JSON array" in p for p in problems)
    assert any("zones: not a JSON array" in p for p in problems)
    assert any("'type' is reserved" in p for p in problems)


def test_decode_entry_refuses_an_id_that_is_not_a_stream_id():
    with pytest.raises(ValueError):
        decode_entry("nope", {})


# --- Coalescing ------------------------------------------------------------------------

def test_coalesce_keeps_the_last_version_of_each_unit_per_collection():
    changes = coalesce([
        entry("1-0", drones=[drone("DR-1", 1), drone("DR-2", 1)]),
        entry("2-0", drones=[drone("DR-1", 2)], patrols=[patrol("BAC-1", 2)]),
        entry("3-0", drones=[drone("DR-1", 3)], patrols=[patrol("BAC-1", 3, "assigned")]),
    ])
    assert changes == {
        "drones": [drone("DR-1", 3), drone("DR-2", 1)],
        "patrols": [patrol("BAC-1", 3, "assigned")],
    }


def test_coalesce_keeps_a_closing_as_the_last_word_and_a_reopening_after_it():
    closed = {"sighting_id": "s-0001", "closed": True}
    reopened = {"sighting_id": "s-0002", "ts": 9}
    changes = coalesce([
        entry("1-0", sightings=[{"sighting_id": "s-0001", "ts": 1}, {"sighting_id": "s-0002", "ts": 1}]),
        entry("2-0", sightings=[closed, {"sighting_id": "s-0002", "closed": True}]),
        entry("3-0", sightings=[reopened]),
    ])
    assert changes == {"sightings": [closed, reopened]}


def test_coalesce_passes_unknown_collections_through():
    changes = coalesce([
        entry("1-0", weather=[{"id": "W-1", "v": 1}, {"v": "no id"}]),
        entry("2-0", weather=[{"id": "W-1", "v": 2}, {"v": "no id"}]),
    ])
    assert changes == {"weather": [{"id": "W-1", "v": 2}, {"v": "no id"}, {"v": "no id"}]}


def test_coalesce_of_nothing_is_nothing():
    assert coalesce([]) == {}
    assert coalesce([entry("1-0", drones=[])]) == {}


# --- Messages --------------------------------------------------------------------------

def test_message_formats():
    assert orjson.loads(delta_message("7-0", {"drones": [drone("DR-1", 1)]})) == {
        "type": "delta", "id": "7-0", "drones": [drone("DR-1", 1)]}
    assert orjson.loads(snapshot_message("7-0", {"drones": [], "patrols": [patrol("P-1", 1)]})) == {
        "type": "snapshot", "id": "7-0", "drones": [], "patrols": [patrol("P-1", 1)]}
    assert orjson.loads(heartbeat_message("7-0", 1234, True)) == {
        "type": "heartbeat", "id": "7-0", "server_ms": 1234, "upstream": "ok"}
    assert orjson.loads(heartbeat_message(None, 1234, False))["upstream"] == "lost"


def test_snapshot_from_the_store_takes_every_collection():
    snapshot = Snapshot.from_store({
        "site": "rennes", "live_id": "9-0", "drones": [drone("DR-1", 1)], "patrols": [], "zones": [],
    })
    assert snapshot == Snapshot("9-0", {"drones": [drone("DR-1", 1)], "patrols": [], "zones": []})


# --- Origins ---------------------------------------------------------------------------

ALLOWED = parse_origins("http://127.0.0.1:8050,http://localhost:8050,https://dispatch.example")


@pytest.mark.parametrize("origin, allowed", [
    ("http://127.0.0.1:8050", True),
    ("http://localhost:8050", True),
    ("HTTP://LOCALHOST:8050", True),  # scheme and host names are case-insensitive
    ("https://dispatch.example", True),
    ("https://dispatch.example:443", True),  # the scheme's default port, written out
    (None, True),  # not a browser (it still needs a session)
    # Issue 10: the same host name is not enough; scheme, host and port are compared exactly.
    ("http://127.0.0.1:9999", False),
    ("http://127.0.0.1", False),
    ("https://127.0.0.1:8050", False),
    ("http://dispatch.example", False),
    ("https://dispatch.example:8443", False),
    ("file://127.0.0.1", False),
    ("null", False),  # sandboxed iframes, file:// pages
    ("", False),
    ("ws://127.0.0.1:8050", False),
    ("http://evil.example", False),
    ("http://127.0.0.1.evil.example:8050", False),
    ("http://user@127.0.0.1:8050", False),
    ("http://127.0.0.1:8050/page", False),
    ("http://[broken", False),
    ("http://127.0.0.1:99999", False),
])
def test_origin_allowed_compares_scheme_host_and_port(origin, allowed):
    assert origin_allowed(origin, ALLOWED) is allowed


def test_the_default_origins_are_the_web_apps_own_address():
    loopback = ("http://127.0.0.1:8050", "http://localhost:8050", "http://[::1]:8050")
    for host in ("127.0.0.1", "localhost", "0.0.0.0", "::"):
        assert default_origins(host, 8050) == ",".join(loopback)
    assert default_origins("dispatch.lan", 80) == "http://dispatch.lan:80"
    assert origin_allowed("http://dispatch.lan", parse_origins(default_origins("dispatch.lan", 80)))
    assert origin_allowed("http://[::1]:8050", parse_origins(default_origins("127.0.0.1", 8050)))
    assert not origin_allowed("http://localhost:8051", parse_origins(default_origins("127.0.0.1", 8050)))


@pytest.mark.parametrize("bad", ["127.0.0.1:8050", "file:///tmp", "null", "https://x.example/path", "http://a:b"])
def test_a_configured_origin_that_is_not_one_is_refused(bad):
    with pytest.raises(ValueError, match="is not an origin"):
        parse_origins(f"http://127.0.0.1:8050, {bad}")


# --- The hub: snapshots and deltas ---------------------------------------------------------

def test_a_new_client_gets_a_snapshot_then_only_what_follows_it():
    hub = started_hub()
    hub.receive([entry("101-0", drones=[drone("DR-1", 1)]), entry("102-0", drones=[drone("DR-2", 1)])])
    client, resumed = hub.attach()
    assert not resumed and hub.wants_snapshot()
    hub.tick(0)
    assert [m["type"] for m in drain(hub, client)] == ["heartbeat"]  # nothing else until its snapshot

    snapshot = Snapshot("102-0", {"drones": [drone("DR-1", 1), drone("DR-2", 1)],
                                  "sightings": [{"sighting_id": "gone-1", "closed": True}]})
    assert hub.deliver_snapshot(snapshot, hub.epoch) == [client]
    assert not hub.wants_snapshot()
    assert drain(hub, client) == [{"type": "snapshot", "id": "102-0",
                                   "drones": [drone("DR-1", 1), drone("DR-2", 1)], "sightings": []}]

    hub.receive([entry("103-0", drones=[drone("DR-1", 2)])])
    hub.tick(10)
    assert drain(hub, client) == [{"type": "delta", "id": "103-0", "drones": [drone("DR-1", 2)]}]


def test_a_snapshot_newer_than_the_tailer_skips_the_entries_it_already_contains():
    hub = started_hub()
    client, _ = hub.attach()
    hub.deliver_snapshot(Snapshot("105-0", {"drones": [drone("DR-1", 5)]}), hub.epoch)
    drain(hub, client)
    hub.receive([entry(f"10{i}-0", drones=[drone("DR-1", i)]) for i in range(1, 8)])
    hub.tick(0)
    assert deltas(drain(hub, client)) == [{"type": "delta", "id": "107-0", "drones": [drone("DR-1", 7)]}]


def test_one_tick_sends_one_coalesced_delta_with_the_last_id():
    hub = started_hub()
    client, _ = hub.attach(since="100-0")
    hub.receive([entry(f"{101 + i}-0", drones=[drone("DR-1", i), drone(f"DR-{i + 10}", i)]) for i in range(20)])
    hub.tick(0)
    sent = deltas(drain(hub, client))
    assert len(sent) == 1
    assert sent[0]["id"] == "120-0"
    assert [d["drone_id"] for d in sent[0]["drones"]].count("DR-1") == 1
    assert sent[0]["drones"][0] == drone("DR-1", 19)
    assert len(sent[0]["drones"]) == 21
    hub.tick(1)
    assert deltas(drain(hub, client)) == []  # nothing new, nothing sent


def test_clients_at_the_same_position_share_one_encoded_message():
    hub = started_hub()
    first, _ = hub.attach(since="100-0")
    second, _ = hub.attach(since="100-0")
    hub.receive([entry("101-0", drones=[drone("DR-1", 1)])])
    hub.tick(0)
    assert hub.take(first) is hub.take(second)


# --- The hub: resume -------------------------------------------------------------------------

def test_a_resumed_client_gets_a_heartbeat_at_once_so_its_screen_is_live_without_waiting():
    """Issue 10: after an outage, a screen with nothing new to apply used to wait for the next round of
    heartbeats (up to a second) before it could call itself live."""
    hub = started_hub()
    hub.tick(0)  # a round of heartbeats just went: the next is a second away
    hub.receive([entry("101-0", drones=[drone("DR-1", 1)])])
    client, resumed = hub.attach(since="101-0", now_ms=5_000)
    assert resumed
    assert drain(hub, client) == [{"type": "heartbeat", "id": "101-0", "server_ms": 5_000, "upstream": "ok"}]
    hub.upstream_ok = False
    waiting, resumed = hub.attach(since="bogus", now_ms=5_001)
    assert not resumed and drain(hub, waiting) == [], "a client waiting for its snapshot gets the snapshot first"
    lost, _ = hub.attach(since="101-0", now_ms=5_002)
    assert drain(hub, lost)[0]["upstream"] == "lost"


def test_resume_from_memory_gives_exactly_the_entries_after_since():
    hub = started_hub()
    hub.receive([entry(f"{101 + i}-0", drones=[drone(f"DR-{i}", i)]) for i in range(10)])
    assert not hub.needs_backlog("105-0")
    client, resumed = hub.attach(since="105-0")
    assert resumed
    hub.tick(0)
    sent = deltas(drain(hub, client))
    assert [d["drone_id"] for d in sent[0]["drones"]] == [f"DR-{i}" for i in range(5, 10)]


def test_resume_from_the_start_of_memory():
    hub = started_hub("100-0")
    hub.receive([entry("101-0", drones=[drone("DR-1", 1)])])
    client, resumed = hub.attach(since="100-0")
    assert resumed


@pytest.mark.parametrize("since", ["104-5", "garbage", "", "0-0"])
def test_resume_from_an_id_the_stream_never_had_gives_a_snapshot(since):
    hub = started_hub()
    hub.receive([entry(f"{101 + i}-0", drones=[drone("DR-1", i)]) for i in range(10)])
    if since == "0-0":
        assert hub.needs_backlog(since)  # older than memory: Redis must say
    else:
        assert not hub.needs_backlog(since)
    _, resumed = hub.attach(since=since)
    assert not resumed and hub.wants_snapshot()


def test_resume_from_before_memory_uses_the_backlog_read_from_redis_without_duplicates():
    hub = started_hub("103-0")  # the gateway started after 101..103 were written
    hub.receive([entry("104-0", drones=[drone("DR-4", 4)]), entry("105-0", drones=[drone("DR-5", 5)])])
    assert hub.needs_backlog("101-0")
    # What Redis holds after 101-0 when the client reconnects: overlaps memory.
    backlog = [entry(f"{i}-0", drones=[drone(f"DR-{i - 100}", i - 100)]) for i in (102, 103, 104, 105)]
    client, resumed = hub.attach(since="101-0", backlog=backlog, epoch=hub.epoch)
    assert resumed
    hub.receive([entry("106-0", drones=[drone("DR-6", 6)])])
    hub.tick(0)
    sent = deltas(drain(hub, client))
    assert len(sent) == 1 and sent[0]["id"] == "106-0"
    assert [d["drone_id"] for d in sent[0]["drones"]] == ["DR-2", "DR-3", "DR-4", "DR-5", "DR-6"]
    hub.receive([entry("107-0", drones=[drone("DR-7", 7)])])
    hub.tick(1)
    assert [d["drones"] for d in deltas(drain(hub, client))] == [[drone("DR-7", 7)]]


def test_a_backlog_read_before_a_reset_is_void():
    hub = started_hub("103-0")
    epoch = hub.epoch
    hub.reset("500-0")  # Redis came back without its data while the backlog was being read
    _, resumed = hub.attach(since="101-0", backlog=[entry("102-0", drones=[drone("DR-2", 2)])], epoch=epoch)
    assert not resumed


def test_a_client_ahead_of_the_tailer_needs_redis_to_vouch_for_its_id():
    hub = started_hub()
    hub.receive([entry("101-0", drones=[])])
    assert hub.needs_backlog("150-0")


def test_resume_from_an_id_trimmed_out_of_memory_needs_redis():
    hub = started_hub(history_entries=3)
    hub.receive([entry(f"{101 + i}-0", drones=[drone("DR-1", i)]) for i in range(10)])
    hub.tick(0)
    assert hub.floor == (107, 0)
    assert hub.needs_backlog("102-0")
    assert not hub.needs_backlog("108-0")


def test_history_is_kept_for_a_time_window():
    hub = started_hub("0-0", history_window_ms=1_000)
    hub.receive([entry("1000-0", drones=[]), entry("1500-0", drones=[]), entry("2200-0", drones=[])])
    hub.tick(0)
    assert hub.floor == (1000, 0)  # 1500 and 2200 are within 1 s of the newest
    assert not hub.needs_backlog("1500-0") and hub.needs_backlog("999-0")


def test_entries_received_twice_are_ignored():
    hub = started_hub()
    client, _ = hub.attach(since="100-0")
    hub.receive([entry("101-0", drones=[drone("DR-1", 1)])])
    hub.receive([entry("101-0", drones=[drone("DR-1", 1)]), entry("100-0", drones=[drone("DR-0", 0)])])
    hub.tick(0)
    assert deltas(drain(hub, client)) == [{"type": "delta", "id": "101-0", "drones": [drone("DR-1", 1)]}]


# --- The hub: resets and heartbeats ------------------------------------------------------------

def test_a_reset_sends_every_client_to_a_snapshot_and_voids_older_snapshots():
    hub = started_hub()
    first, _ = hub.attach(since="100-0")
    epoch = hub.epoch
    hub.reset("900-0")
    assert hub.wants_snapshot()
    assert hub.deliver_snapshot(Snapshot("100-0", {"drones": []}), epoch) == []
    assert hub.deliver_snapshot(Snapshot("901-0", {"drones": []}), hub.epoch) == [first]


def test_a_snapshot_older_than_memory_is_refused():
    hub = started_hub("200-0")
    hub.attach()
    assert hub.deliver_snapshot(Snapshot("150-0", {"drones": []}), hub.epoch) == []
    assert hub.wants_snapshot()


def test_heartbeats_are_due_every_period_and_carry_the_position():
    hub = started_hub(heartbeat_ms=1_000)
    client, _ = hub.attach(since="100-0")
    waiting, _ = hub.attach()
    hub.tick(5_000)
    hub.tick(5_150)
    hub.upstream_ok = False
    hub.tick(6_000)
    beats = [m for m in drain(hub, client) if m["type"] == "heartbeat"]
    assert beats == [
        {"type": "heartbeat", "id": "100-0", "server_ms": 5_000, "upstream": "ok"},
        {"type": "heartbeat", "id": "100-0", "server_ms": 6_000, "upstream": "lost"},
    ]
    assert [m["id"] for m in drain(hub, waiting)] == [None, None]  # no position before its snapshot


# --- The hub: slow clients ---------------------------------------------------------------------

def test_a_client_that_falls_behind_loses_its_deltas_and_gets_a_snapshot_others_do_not_notice():
    hub = started_hub(queue_messages=5)
    fast, _ = hub.attach(since="100-0")
    slow, _ = hub.attach(since="100-0")
    received = []
    resynced = []
    for number in range(101, 110):
        result = dr1_moves(hub, number)
        resynced += result.resynced
        received += deltas(drain(hub, fast))
    assert [m["id"] for m in received] == [f"{n}-0" for n in range(101, 110)]
    assert resynced == [slow]  # once: 1 heartbeat + 5 deltas > 5
    assert hub.wants_snapshot()
    assert [m["type"] for m in drain(hub, slow)] == []  # its deltas were dropped
    given = hub.deliver_snapshot(Snapshot("109-0", {"drones": [drone("DR-1", 109)]}), hub.epoch)
    assert given == [slow]


def test_the_queue_bound_counts_bytes_too():
    hub = started_hub(queue_messages=1_000, queue_bytes=5_000)
    client, _ = hub.attach(since="100-0")
    resynced = []
    for number in range(101, 110):
        resynced += dr1_moves(hub, number, pad="x" * 1_000).resynced
    assert resynced == [client]


def test_a_client_that_drains_its_queue_is_never_resynced():
    hub = started_hub(queue_messages=3)
    client, _ = hub.attach(since="100-0")
    for number in range(101, 200):
        assert dr1_moves(hub, number, now=number * 10).resynced == []
        drain(hub, client)


def test_a_client_that_does_not_even_take_its_snapshot_is_too_slow():
    hub = started_hub(queue_messages=3)
    slow, _ = hub.attach(since="100-0")
    too_slow = []
    resynced = []
    for number in range(101, 120):
        result = dr1_moves(hub, number)
        resynced += result.resynced
        too_slow += result.too_slow
        if hub.wants_snapshot():
            hub.deliver_snapshot(Snapshot(f"{number}-0", {"drones": [drone("DR-1", number)]}), hub.epoch)
    assert resynced == [slow] and too_slow == [slow]
    assert hub.take(slow) is None and not hub.wants_snapshot()  # forgotten: the gateway closes its socket


def test_a_client_that_took_its_snapshot_gets_another_chance():
    hub = started_hub(queue_messages=3)
    slow, _ = hub.attach(since="100-0")
    resyncs = too_slow = 0
    for number in range(101, 140):
        result = dr1_moves(hub, number)
        resyncs += len(result.resynced)
        too_slow += len(result.too_slow)
        if hub.wants_snapshot():
            hub.deliver_snapshot(Snapshot(f"{number}-0", {"drones": []}), hub.epoch)
            hub.take(slow)  # the writer starts sending the snapshot, then blocks again
    assert resyncs >= 2 and too_slow == 0


def test_a_large_snapshot_does_not_count_against_the_queue_bound():
    hub = started_hub(queue_bytes=1_000)
    client, _ = hub.attach()
    hub.deliver_snapshot(Snapshot("100-0", {"drones": [drone(f"DR-{i}", i) for i in range(100)]}), hub.epoch)
    hub.receive([entry("101-0", drones=[drone("DR-1", 1)])])
    result = hub.tick(0)
    assert result.resynced == [] and result.too_slow == []
    assert [m["type"] for m in drain(hub, client)] == ["snapshot", "delta", "heartbeat"]


def test_a_detached_client_is_forgotten():
    hub = started_hub()
    client, _ = hub.attach()
    hub.detach(client)
    assert not hub.wants_snapshot()
    assert hub.take(client) is None
    hub.detach(client)  # twice is harmless


# --- The hub: filters -----------------------------------------------------------------------

def bac_12_only() -> Subscription:
    return Subscription(filters={"patrols": lambda u: u["patrol_id"] == "BAC-12",
                                 "assignments": lambda u: u.get("patrol_id") == "BAC-12"},
                        others=False)


def test_a_filtered_client_sees_only_its_units():
    hub = started_hub()
    tablet, _ = hub.attach(bac_12_only())
    wall, _ = hub.attach(EVERYTHING)
    snapshot = Snapshot("100-0", {"patrols": [patrol("BAC-12", 1), patrol("BAC-13", 1)],
                                  "drones": [drone("DR-1", 1)]})
    hub.deliver_snapshot(snapshot, hub.epoch)
    assert drain(hub, tablet) == [{"type": "snapshot", "id": "100-0", "patrols": [patrol("BAC-12", 1)], "drones": []}]
    assert drain(hub, wall)[0]["patrols"] == [patrol("BAC-12", 1), patrol("BAC-13", 1)]

    hub.receive([entry("101-0", drones=[drone("DR-1", 2)], patrols=[patrol("BAC-13", 2)])])
    hub.tick(0)
    assert deltas(drain(hub, tablet)) == []  # nothing of its own: no delta at all
    hub.receive([entry("102-0", patrols=[patrol("BAC-12", 3, "assigned")])])
    hub.tick(1)
    assert [m["type"] for m in drain(hub, tablet)] == ["delta"]


def test_a_unit_that_stops_matching_is_closed_for_the_filtered_client():
    hub = started_hub()
    tablet, _ = hub.attach(bac_12_only(), since="100-0")
    hub.receive([entry("101-0", assignments=[{"assignment_id": "as-0001", "patrol_id": "BAC-12"}])])
    hub.tick(0)
    assert deltas(drain(hub, tablet))[0]["assignments"] == [{"assignment_id": "as-0001", "patrol_id": "BAC-12"}]
    hub.receive([entry("102-0", assignments=[{"assignment_id": "as-0001", "patrol_id": "BAC-40"},
                                             {"assignment_id": "as-0002", "patrol_id": "BAC-40"}])])
    hub.tick(1)
    assert deltas(drain(hub, tablet)) == [
        {"type": "delta", "id": "102-0", "assignments": [{"assignment_id": "as-0001", "closed": True}]}]
    hub.receive([entry("103-0", assignments=[{"assignment_id": "as-0001", "patrol_id": "BAC-99"}])])
    hub.tick(2)
    assert deltas(drain(hub, tablet)) == []  # already closed for it: said once


def test_closing_a_visible_unit_reaches_the_filtered_client():
    hub = started_hub()
    tablet, _ = hub.attach(bac_12_only())
    hub.deliver_snapshot(Snapshot("100-0", {"patrols": [patrol("BAC-12", 1)]}), hub.epoch)
    drain(hub, tablet)
    hub.receive([entry("101-0", patrols=[{"patrol_id": "BAC-12", "closed": True}])])
    hub.tick(0)
    assert deltas(drain(hub, tablet))[0]["patrols"] == [{"patrol_id": "BAC-12", "closed": True}]


def test_a_filter_without_others_hides_unlisted_collections():
    hub = started_hub()
    only_drones = Subscription(filters={"drones": lambda u: True}, others=False)
    everything_but = Subscription(filters={"drones": lambda u: False}, others=True)
    nothing = Subscription(others=False)
    a, _ = hub.attach(only_drones, since="100-0")
    b, _ = hub.attach(everything_but, since="100-0")
    c, _ = hub.attach(nothing, since="100-0")
    hub.receive([entry("101-0", drones=[drone("DR-1", 1)], weather=[{"id": "W"}])])
    hub.tick(0)
    assert [set(d) - {"type", "id"} for d in deltas(drain(hub, a))] == [{"drones"}]
    assert [set(d) - {"type", "id"} for d in deltas(drain(hub, b))] == [{"weather"}]
    assert deltas(drain(hub, c)) == []
    assert [m["id"] for m in drain(hub, c)] == []  # heartbeats come from tick(0) above: already drained


def test_a_failing_filter_hides_the_unit_and_nothing_else():
    hub = started_hub()
    picky = Subscription(filters={"patrols": lambda u: u["patrol_id"] == "BAC-12"})
    tablet, _ = hub.attach(picky, since="100-0")
    hub.receive([entry("101-0", patrols=[{"no_id": True}, patrol("BAC-12", 1)])])
    hub.tick(0)
    assert deltas(drain(hub, tablet))[0]["patrols"] == [patrol("BAC-12", 1)]


def test_everything_is_the_default_subscription():
    assert EVERYTHING.everything
    assert EVERYTHING.admits("anything", {})
    assert not bac_12_only().everything


# --- A model check: whatever the interleaving, a client's picture is the stream's --------------

def apply(picture: dict, message: dict) -> None:
    if message["type"] == "snapshot":
        picture.clear()
    if message["type"] in ("snapshot", "delta"):
        for collection, units in message.items():
            if collection in ("type", "id"):
                continue
            kept = picture.setdefault(collection, {})
            for unit in units:
                key = unit_key(collection, unit)
                if unit.get("closed"):
                    kept.pop(key, None)
                else:
                    kept[key] = unit


steps = st.lists(
    st.one_of(
        st.tuples(st.just("write"), st.lists(st.tuples(st.sampled_from(["drones", "sightings"]),
                                                       st.integers(0, 4), st.booleans()), min_size=1, max_size=4)),
        st.tuples(st.just("tick"), st.none()),
        st.tuples(st.just("reconnect"), st.none()),
        st.tuples(st.just("away"), st.tuples(st.integers(0, 10), st.integers(0, 10))),
        st.tuples(st.just("stall"), st.none()),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(steps)
def test_a_client_always_ends_with_the_stream_picture(script):
    """Writes, ticks, reconnections with since= and stalls in any order: no gap, no stale unit."""
    hub = started_hub("0-0", queue_messages=4, history_entries=6)
    truth: dict[str, dict] = {}
    log: list[LiveEntry] = []
    numbers = itertools.count(1)
    client_picture: dict = {}
    last_id: str | None = None
    client, _ = hub.attach()
    stalled = False

    def serve_snapshot():
        if hub.wants_snapshot():
            current = log[-1].id if log else "0-0"
            hub.deliver_snapshot(Snapshot(current, {c: list(u.values()) for c, u in truth.items()}), hub.epoch)

    def reconnect(since):
        """As the gateway does: Redis vouches for ids memory does not know (the log is Redis)."""
        backlog = None
        if since is not None and hub.needs_backlog(since):
            key = parse_stream_id(since)
            if any(e.key == key for e in log):
                backlog = [e for e in log if e.key > key]
        return hub.attach(since=since, backlog=backlog, epoch=hub.epoch)

    def write(payload):
        units: dict[str, list] = {}
        for collection, number, closed in payload:
            field = ID_FIELDS[collection]
            unit = {field: f"u{number}", "closed": True} if closed else {field: f"u{number}", "v": next(numbers)}
            units.setdefault(collection, []).append(unit)
            if closed:
                truth.get(collection, {}).pop(f"u{number}", None)
            else:
                truth.setdefault(collection, {})[f"u{number}"] = unit
        new = entry(f"{len(log) + 1}-0", **units)
        log.append(new)
        hub.receive([new])

    def read(count=None):
        nonlocal last_id
        for _ in itertools.count() if count is None else range(count):
            data = hub.take(client)
            if data is None:
                return
            message = orjson.loads(data)
            if message["type"] == "delta" and last_id is not None:  # never twice, never backwards
                assert parse_stream_id(message["id"]) > parse_stream_id(last_id)
            apply(client_picture, message)
            last_id = message["id"] if message["id"] is not None else last_id

    for action, payload in script:
        if action == "write":
            write(payload)
        elif action == "tick":
            result = hub.tick(len(log) * 1000)
            if client in result.too_slow:  # disconnected: it comes back with since=
                client, _ = reconnect(last_id)
            serve_snapshot()
            if not stalled:
                read()
            stalled = False
        elif action == "reconnect":
            hub.detach(client)
            client, _ = reconnect(last_id)
            serve_snapshot()
        elif action == "away":  # offline a while, then the stream moves on while Redis is read
            away, during_read = payload
            hub.detach(client)
            for number in range(away):
                write([("sightings", number % 5, number % 3 == 0)])
                hub.tick(len(log) * 1000)
            since, epoch = last_id, hub.epoch
            backlog = None
            if since is not None and hub.needs_backlog(since):
                key = parse_stream_id(since)
                if any(e.key == key for e in log):
                    backlog = [e for e in log if e.key > key]
                for _ in range(during_read):
                    write([("drones", 100 + len(log), False)])  # units never rewritten: a gap shows
                    hub.tick(len(log) * 1000)
            client, _ = hub.attach(since=since, backlog=backlog, epoch=epoch)
            serve_snapshot()
        elif action == "stall":
            stalled = True
            read(count=1)
    # Settle: the client catches up.
    for _ in range(3):
        result = hub.tick(10**9 + len(log))
        if client in result.too_slow:
            client, _ = reconnect(last_id)
        serve_snapshot()
        read()
    expected = {c: u for c, u in truth.items() if u}
    assert {c: u for c, u in client_picture.items() if u} == expected
    if log:
        assert last_id == log[-1].id
