"""An operator ends (or updates) the sighting it reported through the sightings stream, against a real Redis and
a real ingest worker signed in as the ingest role: the ending is recorded like every other, refusals are dead
letters or counted ignores, and the close / assign / merge / operator-end race has exactly one winner."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import Counter

import orjson
import pytest

from dispatch.domain.acl import RedisUser
from dispatch.domain.sightings import outcome_counts
from dispatch.store.assignments import (
    AssignmentRefused, assign, close_sighting, merge_sighting, sighting_endings,
)
from dispatch.store.state import read_stats
from tests.store.test_assignments import patrol, race
from tests.services.test_ingest import RunningWorker
from tests.support.processes import role_url, wait_until


def now_ms() -> int:
    return int(time.time() * 1000)


def report(sighting_id="sight-0001", operator="OP-1", ts=None, **extra) -> dict:
    fields = {"sighting_id": sighting_id, "ts": ts or now_ms() - 5_000, "drone_id": "DR-07", "operator_id": operator,
              "category": "lookout", "lat": 48.1105, "lon": -1.6801, "priority": 2, "note": "guetteur à l'entrée"}
    fields.update(extra)
    return fields


def end(sighting_id="sight-0001", operator="OP-1", ts=None, ended="left", **extra) -> dict:
    fields = {"sighting_id": sighting_id, "ts": ts or now_ms() - 1_000, "operator_id": operator, "ended": ended}
    fields.update(extra)
    return fields


def total(client, keys) -> int:
    return sum(read_stats(client, keys).values())


@pytest.fixture
def ingest_settings(settings):
    """The worker signs in as the ingest role: every command its step uses must be granted (no ACL denials)."""
    return dataclasses.replace(settings, redis_url=role_url(settings, RedisUser.INGEST))


@pytest.fixture
def send(redis_client, keys, ingest_settings):
    """`send(*entries)`: XADD each to the sightings stream, then wait until a running ingest worker has
    counted them all (accepted, rejected, or ignored on top)."""
    worker = RunningWorker(ingest_settings)
    worker.__enter__()

    def send_entries(*entries):
        before = read_stats(redis_client, keys)
        for fields in entries:
            redis_client.xadd(keys.in_sightings, fields)
        wait_until(lambda: (read_stats(redis_client, keys).get("accepted:sighting", 0)
                            + read_stats(redis_client, keys).get("rejected:sighting", 0))
                   == before.get("accepted:sighting", 0) + before.get("rejected:sighting", 0) + len(entries),
                   timeout=10, what=f"{len(entries)} entries judged")
        return read_stats(redis_client, keys)

    yield send_entries
    worker.__exit__(None, None, None)


def dead_letters(client, keys) -> list[dict]:
    return [{k.decode(): v.decode() for k, v in fields.items()} for _, fields in client.xrange(keys.deadletter)]


def live_sightings(client, keys) -> list[dict]:
    found = []
    for _, fields in client.xrange(keys.live):
        if b"sightings" in fields:
            found += orjson.loads(fields[b"sightings"])
    return found


def test_the_operator_ends_its_sighting_off_the_picture_onto_the_record(send, redis_client, keys):
    send(report())
    number = orjson.loads(redis_client.hget(keys.sightings, "sight-0001"))["number"]
    stats = send(end(note="parti vers le nord"))
    assert redis_client.hget(keys.sightings, "sight-0001") is None
    (recorded,) = sighting_endings(redis_client, keys)
    assert recorded["disposition"] == "ended_by_operator" and recorded["event"] == "sighting_ended_by_operator"
    assert (recorded["actor"], recorded["reason"], recorded["text"]) == ("OP-1", "left", "parti vers le nord")
    assert recorded["sighting"]["number"] == number and recorded["sighting"]["category"] == "lookout"
    last = live_sightings(redis_client, keys)[-1]
    assert last["sighting_id"] == "sight-0001" and last["closed"] is True
    assert (last["disposition"], last["reason"], last["number"]) == ("ended_by_operator", "left", number)
    assert stats["accepted:sighting"] == 2 and not [k for k in stats if k.startswith(("rejected", "ignored"))]
    assert outcome_counts(sighting_endings(redis_client, keys))["ended_by_operator"] == 1


def test_only_the_reporting_operator_may_update_or_end_it(send, redis_client, keys):
    send(report(operator="OP-1"))
    stats = send(report(operator="OP-2", ts=now_ms() - 2_000, lat=48.2), end(operator="OP-2"))
    assert stats["rejected:sighting"] == 2
    reasons = [letter["reason"] for letter in dead_letters(redis_client, keys)]
    assert all("OP-2 may not update or end sighting sight-0001: it was reported by OP-1" in r for r in reasons)
    assert [letter["f:operator_id"] for letter in dead_letters(redis_client, keys)] == ["OP-2", "OP-2"]
    stored = orjson.loads(redis_client.hget(keys.sightings, "sight-0001"))
    assert stored["lat"] == 48.1105 and sighting_endings(redis_client, keys) == []
    send(report(operator="OP-1", ts=now_ms() - 1_500, lat=48.12, priority=1, note="deux guetteurs"))
    stored = orjson.loads(redis_client.hget(keys.sightings, "sight-0001"))
    assert (stored["lat"], stored["priority"], stored["note"]) == (48.12, 1, "deux guetteurs"), "its own update"


def test_an_end_is_refused_on_an_assigned_sighting_and_counted(send, redis_client, keys):
    redis_client.xadd(keys.in_patrols, patrol("BAC-12"))
    send(report())
    wait_until(lambda: redis_client.zscore(keys.patrols_available, "BAC-12") is not None, timeout=10)
    assign(redis_client, keys, sighting_id="sight-0001", patrol_id="BAC-12", supervisor_id="SUP-1")
    stats = send(end())
    assert stats["ignored:sighting_assigned"] == 1
    assert redis_client.hget(keys.sightings, "sight-0001") is not None, "never ended behind the crew's back"
    assert sighting_endings(redis_client, keys) == [] and dead_letters(redis_client, keys) == []


def test_an_end_for_an_ended_or_unknown_sighting_is_counted_never_applied(send, redis_client, keys):
    send(report())
    close_sighting(redis_client, keys, sighting_id="sight-0001", supervisor_id="SUP-1", reason="false_alarm")
    stats = send(end(), end("sight-0404"))
    assert (stats["ignored:sighting_ended"], stats["ignored:sighting_unknown"]) == (1, 1)
    (recorded,) = sighting_endings(redis_client, keys)
    assert recorded["disposition"] == "closed", "still one ending: the supervisor's"
    # The unknown one's report arriving late (another worker's batch) does not open it.
    stats = send(report("sight-0404", ts=now_ms() - 4_000))
    assert redis_client.hget(keys.sightings, "sight-0404") is None


def test_report_update_end_and_a_late_update_in_one_batch(redis_client, keys, ingest_settings):
    t = now_ms() - 10_000
    for fields in (report(ts=t), report(ts=t + 1_000, lat=48.115), end(ts=t + 2_000, ended="lost_sight"),
                   report(ts=t + 3_000, lat=48.2)):
        redis_client.xadd(keys.in_sightings, fields)
    with RunningWorker(ingest_settings):
        wait_until(lambda: read_stats(redis_client, keys).get("accepted:sighting") == 4, timeout=10)
    stats = read_stats(redis_client, keys)
    assert stats["ignored:sighting_ended"] == 1, "the update after the end, in the same batch"
    (recorded,) = sighting_endings(redis_client, keys)
    assert recorded["reason"] == "lost_sight" and recorded["sighting"]["lat"] == 48.115
    assert redis_client.hget(keys.sightings, "sight-0001") is None
    published = [s for s in live_sightings(redis_client, keys) if s["sighting_id"] == "sight-0001"]
    assert [s.get("closed", False) for s in published] == [True], "published once, ended"


@pytest.mark.parametrize("fields, why", [
    (end(ended="gone"), "ended: unknown value 'gone', expected 'left', 'lost_sight' or 'mistake'"),
    (end(operator="Martin"), "operator_id: bad format 'Martin'"),
    (end(category="deal"), "unknown field 'category'; an entry with 'ended' ends the sighting"),
    (end(note="a\u202eb"), "note: contains U+202E"),
    ({k: v for k, v in end().items() if k != "operator_id"}, "missing field 'operator_id'"),
])
def test_a_malformed_end_is_dead_lettered_with_its_reason(send, redis_client, keys, fields, why):
    send(report())
    stats = send(fields)
    assert stats["rejected:sighting"] == 1
    (letter,) = dead_letters(redis_client, keys)
    assert why in letter["reason"] and letter["f:ended"] == fields["ended"]
    assert redis_client.hget(keys.sightings, "sight-0001") is not None


@pytest.mark.parametrize("round_", range(4))
def test_close_assign_merge_and_operator_end_race_one_outcome_wins(redis_server, redis_client, keys,
                                                                   ingest_settings, round_):
    """Supervisors closing, assigning and merging from several clients while the operator's end entries go
    through the real ingest worker: exactly one outcome wins; every supervisor who lost gets a readable
    refusal, every end that lost is counted with its reason; the record holds at most one ending."""
    for fields in (report("sight-0001"), report("sight-0002", lat=48.111)):
        redis_client.xadd(keys.in_sightings, fields)
    redis_client.xadd(keys.in_patrols, patrol("BAC-0"))
    with RunningWorker(ingest_settings):
        wait_until(lambda: redis_client.zscore(keys.patrols_available, "BAC-0") is not None
                   and redis_client.hlen(keys.sightings) == 2, timeout=10, what="the scene")
        counter = iter(range(1000))
        sent = []
        lock = threading.Lock()

        def attempt(client):
            n = (next(counter) + round_) % 4
            if n == 0:
                close_sighting(client, keys, sighting_id="sight-0001", supervisor_id="SUP-1", reason="false_alarm")
            elif n == 1:
                assign(client, keys, sighting_id="sight-0001", patrol_id="BAC-0", supervisor_id="SUP-2")
            elif n == 2:
                merge_sighting(client, keys, sighting_id="sight-0001", into="sight-0002", supervisor_id="SUP-3")
            else:
                client.xadd(keys.in_sightings, end())
                with lock:
                    sent.append(1)
                raise AssignmentRefused("operator end sent")  # its outcome is the worker's, counted below

        before = read_stats(redis_client, keys).get("accepted:sighting", 0)
        results = race(redis_server, 12, attempt)
        wait_until(lambda: read_stats(redis_client, keys).get("accepted:sighting", 0) == before + len(sent),
                   timeout=10, what="every operator end judged")
    stats = read_stats(redis_client, keys)
    endings = sighting_endings(redis_client, keys, "sight-0001")
    opened = [orjson.loads(raw) for raw in redis_client.hvals(keys.assignments_open)]
    operator_won = [e for e in endings if e["disposition"] == "ended_by_operator"]
    supervisor_won = Counter(r == "ok" for r in results)[True]
    assert len(endings) + len(opened) == 1, (endings, opened)
    assert supervisor_won + len(operator_won) == 1, (results, endings)
    refusals = [r for r in results if r not in ("ok", "operator end sent")]
    assert all(r.startswith("sighting sight-0001 ") or r.startswith("BAC-") for r in refusals), refusals
    ignored = sum(n for name, n in stats.items() if name.startswith("ignored:"))
    assert ignored + len(operator_won) == len(sent) == 3, (stats, sent)
    assert set(name for name in stats if name.startswith("ignored:")) <= {
        "ignored:sighting_ended", "ignored:sighting_assigned"}, stats
    if opened:
        assert stats.get("ignored:sighting_assigned") == len(sent), "an assigned sighting refuses every end"


def test_the_ended_sightings_open_alert_resolves_as_for_every_ending(send, settings, redis_client, keys):
    from dispatch.store.alerts import read_open_alerts
    from dispatch.services.watch import AlertWatcher, WatchOptions
    from tests.services.test_watch import Clock

    send(report())
    clock = Clock(now_ms() + 2 * 60_000)  # past the unassigned alert's minute, well before the 10 min horizon
    watcher = AlertWatcher(settings, WatchOptions.from_settings(settings), clock=clock, client=redis_client)
    watcher.tick()
    assert [a.unit_id for a in read_open_alerts(redis_client, keys).values()] == ["sight-0001"]
    send(end())
    watcher.tick()
    assert read_open_alerts(redis_client, keys) == {}
    assert [e["disposition"] for e in sighting_endings(redis_client, keys)] == ["ended_by_operator"]


def test_an_end_applied_twice_is_recorded_and_counted_once(redis_client, keys):
    """A worker killed after its step but before it knew: the same plan applied again changes nothing (the end's
    entry is no longer pending), so the record never holds two endings and no counter moves."""
    from dispatch.domain.batch import plan_batch
    from dispatch.store import streams
    from dispatch.store.scripts import IngestScript, sighting_reporters

    streams.ensure_groups(redis_client, keys)
    redis_client.xadd(keys.in_sightings, report())
    redis_client.xadd(keys.in_sightings, end())
    redis_client.xadd(keys.in_sightings, end("sight-0404"))
    entries = streams.read_group(redis_client, keys, "c1", count=100, block_ms=None)
    plan = plan_batch(entries, reported_by=sighting_reporters(redis_client, keys, entries))
    script = IngestScript(redis_client, keys, live_maxlen=1000)
    assert script(plan)[5] == 1
    stats, live = read_stats(redis_client, keys), redis_client.xlen(keys.live)
    assert script(plan)[5] == 0
    assert len(sighting_endings(redis_client, keys)) == 1
    assert read_stats(redis_client, keys) == stats == {"accepted:sighting": 3, "ignored:sighting_unknown": 1}
    assert redis_client.xlen(keys.live) == live
