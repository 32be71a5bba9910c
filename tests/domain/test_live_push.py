"""Adaptive coalescing (issue 15): a delta leaves at once for an idle client, under load at most
`1000 / min_interval_ms` a second, and the deltas still add up to exactly the entries.

Plain values, as in test_live.py: entries, the clock and the calls the gateway makes (a `tick` after
every batch the tailer reads, and at the `next_ms` the hub asks for).
"""

from __future__ import annotations

import orjson
from hypothesis import given, settings, strategies as st

from dispatch.domain.live import Hub, Limits, LiveEntry, Snapshot, Subscription, coalesce, decode_entry, unit_key


def entry(number: int, **collections: list[dict]) -> LiveEntry:
    decoded, problems = decode_entry(f"{number}-0", {k.encode(): orjson.dumps(v) for k, v in collections.items()})
    assert problems == []
    return decoded


def drone(drone_id: str, ts: int) -> dict:
    return {"drone_id": drone_id, "ts": ts}


def started_hub(min_interval_ms: int, **limits) -> Hub:
    hub = Hub(Limits(min_interval_ms=min_interval_ms, **limits))
    hub.reset("0-0")
    hub.upstream_ok = True
    return hub


def deltas(hub: Hub, client: int) -> list[dict]:
    out = []
    while (data := hub.take(client)) is not None:
        message = orjson.loads(data)
        if message["type"] == "delta":
            out.append(message)
    return out


def test_an_idle_client_gets_an_entry_at_the_first_tick_after_it_arrives():
    hub = started_hub(50)
    client, resumed = hub.attach(since="0-0")
    assert resumed
    hub.tick(1_000)
    deltas(hub, client)
    hub.receive([entry(1, drones=[drone("DR-1", 1)])])
    result = hub.tick(1_001)
    assert result.ready == [client] and result.next_ms is None
    assert [m["id"] for m in deltas(hub, client)] == ["1-0"]


def test_under_load_entries_wait_for_the_next_allowed_delta_and_go_as_one():
    hub = started_hub(50)
    client, _ = hub.attach(since="0-0")
    hub.receive([entry(1, drones=[drone("DR-1", 1)])])
    hub.tick(1_000)
    assert len(deltas(hub, client)) == 1
    for number, now in ((2, 1_010), (3, 1_020), (4, 1_049)):
        hub.receive([entry(number, drones=[drone("DR-1", number), drone(f"DR-{number}", number)])])
        result = hub.tick(now)
        assert result.next_ms == 1_050, "deferred to the end of its minimum interval"
        assert deltas(hub, client) == []
    result = hub.tick(1_050)
    assert result.next_ms is None
    [message] = deltas(hub, client)
    assert message["id"] == "4-0"
    assert message["drones"] == [drone("DR-1", 4), drone("DR-2", 2), drone("DR-3", 3), drone("DR-4", 4)]


def test_nothing_waiting_asks_for_no_timer():
    hub = started_hub(50)
    client, _ = hub.attach(since="0-0")
    hub.receive([entry(1, drones=[drone("DR-1", 1)])])
    hub.tick(1_000)
    assert hub.tick(1_010).next_ms is None  # flushed at 1_000, nothing new since


def test_a_filtered_client_that_saw_nothing_is_still_flushed_at_most_once_per_interval():
    hub = started_hub(50)
    only_dr1 = Subscription(filters={"drones": lambda unit: unit["drone_id"] == "DR-1"}, others=False)
    client, _ = hub.attach(only_dr1)
    hub.deliver_snapshot(Snapshot("0-0", {"drones": []}), hub.epoch)
    hub.take(client)
    hub.receive([entry(1, drones=[drone("DR-9", 1)])])
    hub.tick(1_000)  # nothing for it, but its position moved on: its next flush is at 1_050
    hub.receive([entry(2, drones=[drone("DR-1", 2)])])
    assert hub.tick(1_010).next_ms == 1_050
    assert deltas(hub, client) == []
    hub.tick(1_050)
    assert [m["drones"] for m in deltas(hub, client)] == [[drone("DR-1", 2)]]


# --- Properties ---------------------------------------------------------------------------------

DRONES = [f"DR-{n}" for n in range(4)]
# A step: entries arriving (drone ids, one entry each) and a tick `gap` ms after the previous step.
steps = st.lists(st.tuples(st.lists(st.lists(st.sampled_from(DRONES), min_size=1, max_size=3), max_size=4),
                           st.integers(min_value=0, max_value=120)), min_size=1, max_size=60)


@settings(max_examples=300, deadline=None)
@given(steps, st.sampled_from([1, 20, 50, 100]))
def test_the_deltas_add_up_to_the_entries_one_version_per_unit_and_never_above_the_rate(script, interval):
    hub = started_hub(interval)
    late_joiner, late_start = None, 0
    clients = [hub.attach(since="0-0")[0]]
    received: dict[int, list[tuple[int, dict]]] = {clients[0]: []}
    written: list[LiveEntry] = []
    now, number, asked = 10_000, 0, None
    for index, (batch, gap) in enumerate(script):
        # The gateway's timer: a tick at the time the hub asked for, if that comes before this step.
        if asked is not None and asked <= now + gap:
            now = max(now, asked)
            asked = hub.tick(now).next_ms
            for client in clients:
                received[client] += [(now, m) for m in deltas(hub, client)]
        now += gap
        for ids in batch:
            number += 1
            written.append(entry(number, drones=[drone(d, number) for d in ids]))
        hub.receive(written[len(written) - len(batch):])
        if index == len(script) // 2 and late_joiner is None and written:
            late_joiner, _ = hub.attach(since=written[-1].id)
            late_start = len(written)
            clients.append(late_joiner)
            received[late_joiner] = []
        asked = hub.tick(now).next_ms
        for client in clients:
            received[client] += [(now, m) for m in deltas(hub, client)]
    while asked is not None:  # the timer fires until nothing waits
        now = asked
        asked = hub.tick(now).next_ms
        for client in clients:
            received[client] += [(now, m) for m in deltas(hub, client)]

    for client in clients:
        start = 0 if client == clients[0] else late_start
        expected = coalesce(written[start:]).get("drones", [])
        got: dict[str, dict] = {}
        ids = []
        for _, message in received[client]:
            units = message["drones"]
            keys = [unit_key("drones", u) for u in units]
            assert len(keys) == len(set(keys)), "one version of a unit per message"
            got.update(zip(keys, units))
            ids.append(tuple(map(int, message["id"].split("-"))))
        assert ids == sorted(set(ids)), "ids only go forward"
        assert got == {unit_key("drones", u): u for u in expected}, "every unit's last version, nothing else"
        if written[start:]:
            assert received[client][-1][1]["id"] == written[-1].id, "caught up to the last entry"
        times = [t for t, _ in received[client]]
        assert all(b - a >= interval for a, b in zip(times, times[1:])), "at least min_interval_ms apart"
        per_second = 1000 // interval + (1000 % interval > 0)
        assert all(sum(1 for t in times if s <= t < s + 1000) <= per_second for s in times), "the rate bound"

