"""Replay through the store with recorded endings: a sighting closed, merged or expired during the window
leaves the rebuilt picture at its ending, the event list shows the ending with its incident number, and
the outcome counts match the record (real ingest, real Redis, the real ending scripts)."""

from __future__ import annotations

from dispatch.store.assignments import close_sighting, expire_sighting, merge_sighting, sighting_endings
from dispatch.store.history import LoadProgress, load_window
from dispatch.store.state import read_stats
from tests.store.test_history import now_ms, patrol, sighting
from tests.support.assignments import walk_to_cleared
from tests.support.processes import python_module, wait_until


def test_endings_close_sightings_in_the_replay_and_are_listed_and_counted(settings, keys, redis_client):
    base, s = now_ms() - 120_000, 1000
    names = ["sight-0001", "sight-0002", "sight-0003", "sight-0004", "sight-0005"]
    for k, sighting_id in enumerate(names):
        redis_client.xadd(keys.in_sightings, sighting(sighting_id, base + (k + 1) * s))
    redis_client.xadd(keys.in_patrols, patrol("BAC-1", base))
    worker = python_module("ingest", "dispatch.services.ingest", settings).start()
    try:
        wait_until(lambda: sum(read_stats(redis_client, keys).values()) == len(names) + 1, timeout=20,
                   what="ingest")
    finally:
        worker.stop()
    close_sighting(redis_client, keys, sighting_id="sight-0001", supervisor_id="SUP-1", reason="false_alarm",
                   now_ms=base + 20 * s)
    merge_sighting(redis_client, keys, sighting_id="sight-0002", into="sight-0004", supervisor_id="SUP-1",
                   now_ms=base + 30 * s)
    expire_sighting(redis_client, keys, sighting_id="sight-0003", now_ms=base + 40 * s)
    walk_to_cleared(redis_client, keys, sighting_id="sight-0005", patrol_id="BAC-1", assignment_id="asg-end-0005",
                    at=[base + t * s for t in (50, 52, 54, 56, 60)])
    recorded = {e["sighting_id"]: e for e in sighting_endings(redis_client, keys)}
    assert set(recorded) == {"sight-0001", "sight-0002", "sight-0003", "sight-0005"}

    seen: list[LoadProgress] = []
    history = load_window(redis_client, keys, base, base + 100 * s, progress=seen.append, chunk=2)

    def open_at(dt_s):
        return sorted(x["sighting_id"] for x in history.picture_at(base + dt_s * s)["sightings"])

    assert open_at(19.9) == names
    assert open_at(20) == ["sight-0002", "sight-0003", "sight-0004", "sight-0005"]
    assert open_at(45) == ["sight-0004", "sight-0005"]
    assert open_at(99) == ["sight-0004"], "ended sightings stay gone until the window's end"
    numbers = {x["sighting_id"]: x.get("number") for x in history.picture_at(base + 10 * s)["sightings"]}
    assert numbers["sight-0001"] == recorded["sight-0001"]["sighting"]["number"]  # from its ending's record
    assert numbers["sight-0004"] and numbers["sight-0004"].startswith("S-")  # still open: from the hash
    assert len(set(numbers.values())) == len(names)
    assert "endings" in {p.stream for p in seen} and seen[-1].stream == "done"
    assert history.stats["read:endings"] == 4

    events = history.events()
    ended = events[(events["kind"] == "sighting") & (events["event"] != "created")]
    assert ended["event"].tolist() == ["closed", "merged", "expired", "dispatched"]
    number = recorded["sight-0001"]["sighting"].get("number")
    assert number, "ingest allocated an incident number; the ending's record carries it"
    assert ended["detail"].iloc[0] == f"{number} closed: false alarm"

    counts = history.outcome_counts()
    assert {k: v for k, v in counts.items() if v} == {"dispatched": 1, "closed:false_alarm": 1, "merged": 1,
                                                       "expired": 1}
