"""CoT out, the pure part: every event is well-formed CoT, the note never leaves, and what is sent when."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch.domain import cot
from dispatch.domain.models import DRONE_ID, EVENT_ID, OPERATOR_ID, PATROL_ID, Sighting, SightingCategory

NOW = 1_767_225_600_000  # 2026-01-01T00:00:00Z
SITE = "rennes"
REQUIRED_EVENT = ("version", "uid", "type", "time", "start", "stale", "how")
REQUIRED_POINT = ("lat", "lon", "hae", "ce", "le")


def parse_time(text: str) -> float:
    assert text.endswith("Z"), text
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000


def check_event(xml: bytes) -> ET.Element:
    """The CoT event schema's required attributes (event and point), as a TAK client reads them."""
    root = ET.fromstring(xml)
    assert root.tag == "event"
    for name in REQUIRED_EVENT:
        assert root.get(name), f"event/@{name} missing in {xml!r}"
    assert root.get("version") == "2.0"
    point = root.find("point")
    assert point is not None
    for name in REQUIRED_POINT:
        float(point.get(name))
    assert -90 <= float(point.get("lat")) <= 90 and -180 <= float(point.get("lon")) <= 180
    start, stale = parse_time(root.get("start")), parse_time(root.get("stale"))
    assert stale > start
    parse_time(root.get("time"))
    return root


ids = {name: st.from_regex(pattern, fullmatch=True) for name, pattern in
       {"drone": DRONE_ID, "patrol": PATROL_ID, "event": EVENT_ID, "operator": OPERATOR_ID}.items()}
lats = st.floats(-90, 90, allow_nan=False)
lons = st.floats(-180, 180, allow_nan=False)
times = st.integers(NOW - 3_600_000, NOW + 60_000)
notes = st.text(max_size=140)

drones = st.builds(lambda d, ts, lat, lon: {
    "drone_id": d, "ts": ts, "lat": lat, "lon": lon, "alt_m": 80.0, "heading_deg": 12.5, "speed_mps": 4.0,
    "battery_pct": 71.0}, ids["drone"], times, lats, lons)
patrols = st.builds(lambda p, ts, lat, lon, status: {"patrol_id": p, "ts": ts, "lat": lat, "lon": lon,
                                                       "status": status},
                    ids["patrol"], times, lats, lons, st.sampled_from(list(cot.STATUS_WORDS)))
sightings = st.builds(
    lambda sid, ts, d, op, cat, lat, lon, prio, number, note: {
        **Sighting(sighting_id=sid, ts=ts, drone_id=d, operator_id=op, category=cat, lat=lat, lon=lon,
                   priority=prio, note=note).model_dump(mode="json"), "number": number},
    ids["event"], times, ids["drone"], ids["operator"], st.sampled_from(SightingCategory), lats, lons,
    st.integers(1, 3), st.from_regex(r"S-[0-9]{4}", fullmatch=True), st.just(""))


@st.composite
def pictures(draw) -> dict:
    patrol_list = draw(st.lists(patrols, max_size=4, unique_by=lambda p: p["patrol_id"]))
    sighting_list = draw(st.lists(sightings, max_size=4, unique_by=lambda s: s["sighting_id"]))
    assignments = []
    for patrol, sighting in zip(patrol_list, sighting_list):
        if draw(st.booleans()):
            assignments.append({"assignment_id": f"as-{sighting['sighting_id']}", "sighting_id": sighting["sighting_id"],
                                "patrol_id": patrol["patrol_id"], "supervisor_id": "SUP-1", "ts": NOW,
                                "state": draw(st.sampled_from(list(cot.ASSIGNMENT_WORDS)))})
    return {"site": SITE, "drones": draw(st.lists(drones, max_size=4, unique_by=lambda d: d["drone_id"])),
            "patrols": patrol_list, "sightings": sighting_list, "assignments": assignments}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pictures(), st.integers(NOW, NOW + 120_000))
def test_every_event_is_well_formed_cot(picture, now_ms):
    events = cot.picture_events(picture, now_ms)
    for uid, event in events.items():
        root = check_event(cot.to_xml(event))
        assert root.get("uid") == uid
        assert parse_time(root.get("stale")) > now_ms, "nothing already stale is sent"


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pictures(), st.lists(notes, min_size=4, max_size=4), st.integers(NOW, NOW + 120_000))
def test_the_note_changes_nothing_that_is_sent(picture, some_notes, now_ms):
    """Stronger than "the note's text is absent" (a short note could match any word): with any notes, the
    bytes are exactly those without notes."""
    with_notes = {**picture, "sightings": [{**s, "note": n} for s, n in zip(picture["sightings"], some_notes)]}
    plain = {uid: cot.to_xml(e) for uid, e in cot.picture_events(picture, now_ms).items()}
    noted = {uid: cot.to_xml(e) for uid, e in cot.picture_events(with_notes, now_ms).items()}
    assert noted == plain


def test_a_telling_note_is_not_in_any_event():
    sighting = {"sighting_id": "sight-0001", "ts": NOW, "drone_id": "DR-07", "operator_id": "OP-3",
                "category": "lookout", "lat": 48.11, "lon": -1.68, "priority": 1, "number": "S-0142",
                "note": "tall man red jacket Zorglub"}
    picture = {"site": SITE, "sightings": [sighting], "patrols": [], "drones": [], "assignments": []}
    feed = cot.CotFeed()
    sent = b"".join(cot.encode_all(feed.due(picture, NOW)))
    sent += b"".join(cot.encode_all(feed.due({**picture, "sightings": []}, NOW + 1_000)))
    assert b"Zorglub" not in sent and b"jacket" not in sent
    assert b"S-0142 P1 lookout" in sent


def test_kinds_types_and_how():
    picture = {"site": SITE,
               "patrols": [{"patrol_id": "BAC-12", "ts": NOW, "lat": 48.1, "lon": -1.6, "status": "en_route"}],
               "drones": [{"drone_id": "DR-07", "ts": NOW, "lat": 48.2, "lon": -1.7, "alt_m": 120.0,
                           "heading_deg": 275.0, "speed_mps": 12.4, "battery_pct": 81.0}],
               "sightings": [{"sighting_id": "sight-0001", "ts": NOW - 5_000, "drone_id": "DR-07",
                              "operator_id": "OP-3", "category": "vehicle", "lat": 48.11, "lon": -1.68,
                              "priority": 2, "number": "S-0007", "note": ""}],
               "assignments": [{"assignment_id": "as-000001", "sighting_id": "sight-0001", "patrol_id": "BAC-12",
                                "supervisor_id": "SUP-1", "ts": NOW, "state": "acknowledged"}]}
    roots = {uid: check_event(cot.to_xml(e)) for uid, e in cot.picture_events(picture, NOW).items()}
    patrol = roots["dispatch.rennes.patrol.BAC-12"]
    drone = roots["dispatch.rennes.drone.DR-07"]
    sighting = roots["dispatch.rennes.sighting.sight-0001"]
    assert (patrol.get("type"), patrol.get("how")) == ("a-f-G-U-C", "m-g")
    assert patrol.find("detail/contact").get("callsign") == "BAC-12"
    link = patrol.find("detail/link")
    assert link.get("uid") == "dispatch.rennes.sighting.sight-0001" and link.get("type") == "a-u-G-E-V"
    assert "S-0007 P2 vehicle (acknowledged)" in patrol.find("detail/remarks").text
    assert (drone.get("type"), drone.get("how")) == ("a-f-A-M-F-Q", "m-g")
    assert drone.find("detail/track").attrib == {"course": "275.0", "speed": "12.4"}
    assert (sighting.get("type"), sighting.get("how")) == ("a-u-G-E-V", "h-e")
    assert sighting.find("detail/contact").get("callsign") == "S-0007 P2 vehicle"
    assert sighting.get("start") == "2025-12-31T23:59:55.000Z" and sighting.get("time") == "2026-01-01T00:00:00.000Z"
    assert sighting.find("point").get("ce") == "9999999.0"
    assert patrol.get("stale") == cot.cot_time(NOW + cot.PATROL_STALE_MS)


def _picture(patrol_ts=NOW, status="available", sightings=()):
    return {"site": SITE, "drones": [], "assignments": [], "sightings": list(sightings),
            "patrols": [{"patrol_id": "BAC-12", "ts": patrol_ts, "lat": 48.1, "lon": -1.6, "status": status}]}


def test_sent_on_change_and_kept_alive_before_stale():
    feed = cot.CotFeed(keepalive_ms=30_000)
    assert [e.uid for e in feed.due(_picture(), NOW)] == ["dispatch.rennes.patrol.BAC-12"]
    assert feed.due(_picture(), NOW + 1_000) == [], "unchanged: nothing"
    moved = feed.due(_picture(patrol_ts=NOW + 2_000, status="unavailable"), NOW + 2_000)
    assert len(moved) == 1 and "unavailable" in moved[0].remarks
    assert feed.due(_picture(patrol_ts=NOW + 2_000, status="unavailable"), NOW + 31_000) == []
    again = feed.due(_picture(patrol_ts=NOW + 2_000, status="unavailable"), NOW + 32_000)
    assert len(again) == 1 and again[0].stale_ms > NOW + 32_000, "keep-alive, before stale"


def test_a_sighting_is_renewed_before_its_stale_and_deleted_when_it_ends():
    sighting = {"sighting_id": "sight-0001", "ts": NOW, "drone_id": "DR-07", "operator_id": "OP-3",
                "category": "deal", "lat": 48.11, "lon": -1.68, "priority": 3, "number": "S-0001"}
    feed = cot.CotFeed()
    first = [e for e in feed.due(_picture(sightings=[sighting]), NOW) if "sighting" in e.uid][0]
    renewed = [e for e in feed.due(_picture(sightings=[sighting]), NOW + cot.KEEPALIVE_MS) if "sighting" in e.uid]
    assert renewed and renewed[0].stale_ms > first.stale_ms and NOW + cot.KEEPALIVE_MS < first.stale_ms
    gone = feed.due(_picture(), NOW + cot.KEEPALIVE_MS + 1_000)
    assert [e.type for e in gone] == ["t-x-d-d"]
    root = check_event(cot.to_xml(gone[0]))
    assert root.find("detail/link").get("uid") == "dispatch.rennes.sighting.sight-0001"
    assert root.find("detail/__forcedelete") is not None
    assert feed.due(_picture(), NOW + cot.KEEPALIVE_MS + 2_000) == [], "deleted once"


def test_a_unit_that_stops_reporting_goes_stale_without_a_delete():
    feed = cot.CotFeed()
    feed.due(_picture(), NOW)
    later = NOW + cot.PATROL_STALE_MS + 1
    assert feed.due(_picture(), later) == [], "past stale: TAK dropped it already; nothing to send"
    assert feed.sent == {}


def test_reset_sends_everything_again():
    feed = cot.CotFeed()
    feed.due(_picture(), NOW)
    feed.reset()
    assert len(feed.due(_picture(), NOW + 1)) == 1


def test_times_are_iso_utc_with_milliseconds():
    assert cot.cot_time(NOW + 123) == "2026-01-01T00:00:00.123Z"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pictures(), pictures(), st.integers(NOW, NOW + 60_000), st.integers(0, 120_000))
def test_whatever_the_feed_sends_over_two_pictures_is_well_formed(first, second, now_ms, later_ms):
    """Updates, keep-alives and deletes (objects of the first picture gone from the second) alike."""
    feed = cot.CotFeed()
    for picture, at in ((first, now_ms), (second, now_ms + later_ms)):
        for event in feed.due(picture, at):
            root = check_event(cot.to_xml(event))
            assert parse_time(root.get("stale")) > at
            if event.type == "t-x-d-d":
                assert root.find("detail/link").get("uid") in {e.uid for e in cot.picture_events(first, now_ms).values()}
