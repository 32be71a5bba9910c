"""A patrol's status record read from the retained streams, and what the screen asks about units, against
real Redis: any available patrol with distance and ETA, a patrol's detail, time in status for every patrol.

Reports are written as a bridge writes them (XADD to {site}:in:patrols) and put in the picture by the
real ingest step; assignments are made by the real supervisor action.
"""

from __future__ import annotations

import itertools
import time

import orjson
import pytest

from dispatch.domain.batch import RawEntry, plan_batch
from dispatch.store.scripts import IngestScript
from dispatch.store.unit_history import read_status_record
from dispatch.ui.pages.screen import handlers as actions

SIGHTING = (48.1105, -1.6801)


def now_ms() -> int:
    return int(time.time() * 1000)


_SEQ = itertools.count()


def report(client, keys, patrol_id, status="available", *, age_s=0.0, lat=SIGHTING[0] + 0.01, lon=SIGHTING[1]):
    """One patrol report: on the input stream, received at its own ts (the stream id says when: call in
    time order), then through the ingest step into the picture."""
    ts = now_ms() - int(age_s * 1000)
    fields = {"patrol_id": patrol_id, "ts": ts, "lat": lat, "lon": lon, "status": status}
    raw = {n.encode(): str(v).encode() for n, v in fields.items()}
    entry_id = client.xadd(keys.in_patrols, raw, id=f"{ts}-{next(_SEQ)}").decode()
    IngestScript(client, keys, live_maxlen=10_000)(plan_batch([RawEntry("patrol", entry_id, raw)]))


def open_sighting(client, keys, sighting_id="sight-0001"):
    fields = {"sighting_id": sighting_id, "ts": now_ms(), "drone_id": "DR-07", "operator_id": "OP-1",
              "category": "deal", "lat": SIGHTING[0], "lon": SIGHTING[1], "priority": 1, "note": ""}
    raw = {n.encode(): str(v).encode() for n, v in fields.items()}
    entry_id = client.xadd(keys.in_sightings, raw).decode()
    IngestScript(client, keys, live_maxlen=10_000)(plan_batch([RawEntry("sighting", entry_id, raw)]))
    return orjson.loads(client.hget(keys.sightings, sighting_id))["number"]


def units(client, keys, request, **kwargs):
    return actions.units_for(client, keys, request, **kwargs)


# ----------------------------------------------------------------------------- any available patrol


@pytest.fixture
def seven(redis_client, keys):
    for n in (7, 3, 1, 6, 2, 5, 4):
        report(redis_client, keys, f"BAC-{n}", lat=SIGHTING[0] + 0.002 * n)
    report(redis_client, keys, "GN-1", "unavailable", lat=SIGHTING[0] + 0.0001)
    open_sighting(redis_client, keys)
    return redis_client


def test_every_available_patrol_is_offered_with_the_nearest_lists_figures(seven, keys):
    answer = units(seven, keys, {"query": "available", "sighting_id": "sight-0001", "nonce": 4})
    assert answer["ok"] is True and answer["nonce"] == 4 and answer["query"] == "available"
    rows = answer["patrols"]
    assert [row["patrol_id"] for row in rows] == [f"BAC-{n}" for n in range(1, 8)]  # GN-1 is off duty
    nearest = actions.nearest_for(seven, keys, {"sighting_id": "sight-0001"})["candidates"]
    assert [(r["patrol_id"], r["distance"], r["eta"]) for r in rows[:5]] == \
        [(c["patrol_id"], c["distance"], c["eta"]) for c in nearest]
    assert [row["among_nearest"] for row in rows] == [True] * 5 + [False] * 2
    assert (rows[6]["distance"], rows[6]["eta"], rows[6]["place"]) == ("1.6 km", "≈ 5 min", 7)
    assert answer["number"].startswith("S-") and answer["available"] == 7


def test_a_typed_call_sign_narrows_the_list_and_a_miss_says_so(seven, keys):
    answer = units(seven, keys, {"query": "available", "sighting_id": "sight-0001", "text": " bac-7"})
    assert [(r["patrol_id"], r["place"]) for r in answer["patrols"]] == [("BAC-7", 7)] and answer["text"] == "BAC-7"
    answer = units(seven, keys, {"query": "available", "sighting_id": "sight-0001", "text": "gn"})
    assert answer["ok"] is True and answer["patrols"] == [] and answer["message"] == "No available patrol matches 'GN'"


def test_the_patrol_chosen_that_way_goes_through_the_one_assign_path(seven, keys):
    number = orjson.loads(seven.hget(keys.sightings, "sight-0001"))["number"]
    done = actions.perform(seven, keys, {"action": "assign", "sighting_id": "sight-0001", "patrol_id": "BAC-7"},
                           supervisor_id="SUP-1")
    assert done["ok"] is True and done["message"] == f"BAC-7 sent to {number}"
    open_sighting(seven, keys, "sight-0002")
    again = actions.perform(seven, keys, {"action": "assign", "sighting_id": "sight-0002", "patrol_id": "BAC-7"},
                            supervisor_id="SUP-1")
    assert again["ok"] is False and again["message"].startswith("BAC-7 is already assigned")  # the store's refusal
    answer = units(seven, keys, {"query": "available", "sighting_id": "sight-0001"})
    assert "BAC-7" not in [row["patrol_id"] for row in answer["patrols"]]


@pytest.mark.parametrize("request_, message", [
    ({"query": "available"}, "bad request: sighting_id missing or malformed"),
    ({"query": "available", "sighting_id": "sight-0001", "text": 12}, "bad request: text malformed or too long"),
    ({"query": "available", "sighting_id": "sight-0001", "text": "B" * 17}, "bad request: text too long for a call sign"),
    ({"query": "detail", "patrol_id": ""}, "bad request: patrol_id missing or malformed"),
    ({"query": "drop"}, "unknown query 'drop': expected one of available, detail, since"),
    ({}, "no query given: expected one of available, detail, since"),
    (None, "no query given: expected one of available, detail, since"),
])
def test_malformed_questions_are_refused_in_words(seven, keys, request_, message):
    answer = units(seven, keys, request_)
    assert answer["ok"] is False and answer["message"] == message


def test_a_closed_sighting_and_an_unknown_patrol_are_said_plainly(seven, keys):
    answer = units(seven, keys, {"query": "available", "sighting_id": "sight-9999"})
    assert answer["ok"] is False and answer["message"].startswith("sighting sight-9999 is not open")
    answer = units(seven, keys, {"query": "detail", "patrol_id": "BAC-99"})
    assert answer["ok"] is False and answer["message"] == "BAC-99 is not in the picture: off duty, or it never reported"


# ----------------------------------------------------------------------------- detail and time in status


def test_a_patrols_detail_reads_its_status_history_and_assignment_from_the_record(redis_client, keys):
    report(redis_client, keys, "BAC-1", "unavailable", age_s=600)
    report(redis_client, keys, "BAC-1", "available", age_s=300)
    redis_client.xadd(keys.in_patrols, {"patrol_id": "BAC-1", "ts": now_ms() - 200_000, "lat": 95, "lon": 0,
                                        "status": "on_scene"},
                      id=f"{now_ms() - 200_000}-0")  # refused by ingest (lat): not on the record either
    report(redis_client, keys, "BAC-1", "available", age_s=60)
    number = open_sighting(redis_client, keys)
    assigned = actions.perform(redis_client, keys, {"action": "assign", "sighting_id": "sight-0001",
                                                    "patrol_id": "BAC-1"}, supervisor_id="SUP-1")
    answer = units(redis_client, keys, {"query": "detail", "patrol_id": "BAC-1"})
    assert answer["ok"] is True and answer["status"] == "assigned"
    assert [(h["status"], h["cause"], h["sighting"]) for h in answer["history"]] == [
        ("assigned", "assigned", number), ("available", "report", ""), ("unavailable", "report", "")]
    assert answer["assignment"]["number"] == number and answer["assignment"]["state"] == "assigned"
    assert answer["assignment"]["assignment_id"] == assigned["assignment_id"]
    since = answer["since"]
    assert since["status"] == "assigned" and since["exact"] is True
    assert abs(since["since_ms"] - now_ms()) < 5_000 and answer["older"] == 0 and answer["complete"] is True


def test_time_in_status_for_every_patrol_stops_reading_once_each_start_is_known(redis_client, keys):
    for age in range(1500, 0, -10):  # a busy shift: both report every 10 s
        report(redis_client, keys, "BAC-1", "available" if age <= 600 else "unavailable", age_s=age)
        report(redis_client, keys, "BAC-2", "available" if age <= 390 else "on_scene", age_s=age)
    answer = units(redis_client, keys, {"query": "since"})
    assert answer["ok"] is True
    one, two = answer["since"]["BAC-1"], answer["since"]["BAC-2"]
    assert one["status"] == "available" and one["exact"] is True and abs(one["since_ms"] - (now_ms() - 600_000)) < 3_000
    assert two["status"] == "available" and two["exact"] is True and abs(two["since_ms"] - (now_ms() - 390_000)) < 3_000
    # Read backwards in chunks, it stops soon after the older status shows, not at the window's start.
    total = redis_client.xlen(keys.in_patrols)
    record = read_status_record(redis_client, keys, now_ms(), current={"BAC-1": "available", "BAC-2": "available"},
                                chunk=10)
    assert 120 <= record.entries_read <= 140 < total, (record.entries_read, total)
    assert record.changes("BAC-1")[-1].ts == one["since_ms"]


def test_a_status_held_longer_than_what_is_read_is_only_at_least(redis_client, keys):
    report(redis_client, keys, "BAC-1", "unavailable", age_s=900)
    for age in range(600, 0, -30):
        report(redis_client, keys, "BAC-1", "available", age_s=age)
    bounded = units(redis_client, keys, {"query": "since"}, max_entries=5)
    assert bounded["since"]["BAC-1"]["exact"] is False  # the change is older than the 5 entries read
    assert units(redis_client, keys, {"query": "since"})["since"]["BAC-1"]["exact"] is True
    record = read_status_record(redis_client, keys, now_ms(), patrol_ids=["BAC-1"], max_entries=5)
    assert record.complete is False and record.entries_read == 5
    assert record.read_from_ms > now_ms() - 200_000
    window = read_status_record(redis_client, keys, now_ms(), patrol_ids=["BAC-1"], window_ms=300_000)
    assert min(r.ts for r in window.reports["BAC-1"]) >= now_ms() - 330_000  # only the window's reports


def test_reports_ingest_refused_are_skipped_by_the_dead_letters_once_ingest_has_judged_them(redis_client, keys):
    report(redis_client, keys, "BAC-1", "available", age_s=300)
    bad = {b"patrol_id": b"BAC-1", b"ts": str(now_ms() - 200_000).encode(), b"lat": b"95", b"lon": b"0",
           b"status": b"on_scene"}
    entry_id = redis_client.xadd(keys.in_patrols, bad, id=f"{now_ms() - 200_000}-0").decode()
    # What ingest writes when it refuses it (the script writes it only for an entry its group delivered).
    redis_client.xadd(keys.deadletter, {"source": "patrol", "entry_id": entry_id, "reason": "lat: must be <= 90"})
    report(redis_client, keys, "BAC-1", "available", age_s=100)
    redis_client.xgroup_create(keys.in_patrols, "ingest", id="$")  # ingest has judged every entry
    record = read_status_record(redis_client, keys, now_ms(), patrol_ids=["BAC-1"])
    assert [r.status for r in record.reports["BAC-1"]] == ["available", "available"]
    # One not judged yet (after the group's last-delivered id) is judged here as ingest will judge it.
    redis_client.xadd(keys.in_patrols, {**bad, b"ts": str(now_ms()).encode()})
    record = read_status_record(redis_client, keys, now_ms(), patrol_ids=["BAC-1"])
    assert [r.status for r in record.reports["BAC-1"]] == ["available", "available"]
    redis_client.xadd(keys.in_patrols, {**bad, b"ts": str(now_ms()).encode(), b"lat": b"48.1"})
    record = read_status_record(redis_client, keys, now_ms(), patrol_ids=["BAC-1"])
    assert [r.status for r in record.reports["BAC-1"]] == ["available", "available", "on_scene"]
