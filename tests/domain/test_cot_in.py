"""CoT in, the pure part: markers dropped on ATAK (encoded here by pytak, a real CoT encoder, the way ATAK
shapes a dropped point) become validated sighting entries; everything else is ignored with a reason."""

from __future__ import annotations

import time
import warnings
import xml.etree.ElementTree as ET

import pytest

from dispatch.domain import cot_in
from dispatch.domain.cot_in import CotIntake, Ignored, Sender, SendersError, parse_senders, read_event

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import pytak

DEVICE = "ANDROID-5a1f2c3d4e5f6a7b"
SENDERS = {DEVICE: Sender("OP-3", "DR-07")}


def marker(uid="4f1e3a5c-1111-4a2b-9c3d-0123456789ab", callsign="lookout P1", cot_type="a-h-G", producer=DEVICE,
           lat=48.1105, lon=-1.6801, remarks="red jacket, tall") -> bytes:
    """A point dropped on ATAK: its uid, a `p-p` link to the device that made it, a call sign, remarks."""
    detail = pytak.cot_detail(flow_tag=False)
    if producer:
        ET.SubElement(detail, "link", {"uid": producer, "type": "a-f-G-U-C", "relation": "p-p",
                                       "parent_callsign": "OPS-3", "production_time": pytak.cot_time()})
    ET.SubElement(detail, "archive")
    pytak.add_remarks(detail, [remarks])
    event = pytak.cot_event(lat=lat, lon=lon, uid=uid, cot_type=cot_type, how="h-g-i-g-o", stale=3600,
                            detail=detail, callsign=callsign)
    point = event.find("point")
    point.set("lat", str(lat))  # pytak truncates to 4 decimals by default; ATAK sends full precision
    point.set("lon", str(lon))
    return pytak.serialize_cot(event)


def delete(target: str) -> bytes:
    detail = pytak.cot_detail(flow_tag=False)
    ET.SubElement(detail, "link", {"uid": target, "relation": "none", "type": "none"})
    ET.SubElement(detail, "__forcedelete")
    return pytak.serialize_cot(pytak.cot_event(uid="del-1", cot_type="t-x-d-d", how="h-g-i-g-o", detail=detail))


def now_ms() -> int:
    return int(time.time() * 1000)


def take(data: bytes, intake: CotIntake | None = None):
    intake = intake or CotIntake(SENDERS)
    root = read_event(data)
    return root if isinstance(root, Ignored) else intake.take(root, now_ms())


def test_a_dropped_marker_becomes_a_sighting_without_its_remarks():
    fields = take(marker())
    assert fields["sighting_id"] == "4f1e3a5c-1111-4a2b-9c3d-0123456789ab"
    assert (fields["operator_id"], fields["drone_id"]) == ("OP-3", "DR-07")
    assert (fields["category"], fields["priority"]) == ("lookout", "1")
    assert (fields["lat"], fields["lon"]) == ("48.1105000", "-1.6801000")
    assert abs(int(fields["ts"]) - now_ms()) < 5_000
    assert "note" not in fields and "red jacket" not in str(fields), "TAK remarks are not carried"


@pytest.mark.parametrize("callsign, cot_type, category, priority", [
    ("Deal p3", "a-u-G", "deal", "3"), ("U.03.142233", "a-u-G-E-V-C", "vehicle", "2"),
    ("Gathering!", "b-m-p-s-m", "gathering", "2"), ("Point 7", "a-n-G", "other", "2"),
])
def test_category_and_priority_from_the_name_or_the_type(callsign, cot_type, category, priority):
    fields = take(marker(callsign=callsign, cot_type=cot_type))
    assert (fields["category"], fields["priority"]) == (category, priority)


@pytest.mark.parametrize("data, reason", [
    (marker(producer=""), "not_a_marker"),
    (marker(producer="ANDROID-someone-else"), "unknown_sender"),
    (marker(uid="dispatch.rennes.sighting.x"), "own_event"),
    (marker(cot_type="u-d-f"), "not_a_point"),
    (marker(lat=0.0, lon=0.0), "no_position"),
    (b"<event", "not_xml"),
    (b"<?xml version='1.0'?><!DOCTYPE e [<!ENTITY a 'aaaa'>]><event>&a;</event>", "doctype"),
    (b"<html/>", "not_an_event"),
    (b"<event>" + b" " * cot_in.MAX_EVENT_BYTES + b"</event>", "too_large"),
])
def test_what_is_not_a_marker_of_a_known_sender_is_ignored_with_a_reason(data, reason):
    result = take(data)
    assert isinstance(result, Ignored) and result.reason == reason


def test_a_marker_past_its_stale_or_with_a_bad_time_is_ignored():
    old = ET.fromstring(marker())
    old.set("stale", "2020-01-01T00:00:00Z")
    assert CotIntake(SENDERS).take(old, now_ms()).reason == "stale"
    wrong = ET.fromstring(marker())
    wrong.set("time", "yesterday")
    assert CotIntake(SENDERS).take(wrong, now_ms()).reason == "bad_time"
    far = ET.fromstring(marker())
    far.set("time", "2020-01-01T00:00:00Z")
    assert CotIntake(SENDERS).take(far, now_ms()).reason == "invalid", "the contract's clock limits apply"


def test_a_device_position_report_is_not_a_sighting():
    sa = pytak.serialize_cot(pytak.cot_event(lat=48.1, lon=-1.6, uid=DEVICE, cot_type="a-f-G-U-C", how="m-g",
                                             callsign="OPS-3"))
    assert take(sa).reason == "not_a_marker"


def test_deleting_a_marker_it_passed_on_ends_the_sighting_as_its_operator():
    intake = CotIntake(SENDERS)
    uid = "4f1e3a5c-1111-4a2b-9c3d-0123456789ab"
    assert take(delete(uid), intake).reason == "delete_of_unknown_marker"
    take(marker(uid=uid), intake)
    end = take(delete(uid), intake)
    assert end["sighting_id"] == uid and end["ended"] == "left" and end["operator_id"] == "OP-3"
    assert take(delete(uid), intake).reason == "delete_of_unknown_marker", "once"


def test_a_uid_that_is_no_valid_id_is_hashed_stably():
    a, b = take(marker(uid="weird uid/with spaces")), take(marker(uid="weird uid/with spaces"))
    assert a["sighting_id"] == b["sighting_id"] and a["sighting_id"].startswith("tak-")


def test_senders_files_json_and_csv_and_their_mistakes():
    assert parse_senders('{"ANDROID-1": {"operator_id": "OP-3", "drone_id": "DR-07"}}') == {
        "ANDROID-1": Sender("OP-3", "DR-07")}
    assert parse_senders("tak_uid,operator_id,drone_id\n# a comment\nANDROID-1,OP-3,DR-07\n") == {
        "ANDROID-1": Sender("OP-3", "DR-07")}
    for text, words in (("ANDROID-1,Jean Dupont,DR-07", "operator code"), ("ANDROID-1,OP-3,drone7", "drone id"),
                        ("ANDROID-1,OP-3,DR-07\nANDROID-1,OP-4,DR-08", "twice"), ("ANDROID-1,OP-3", "expected"),
                        ("{not json", "not JSON")):
        with pytest.raises(SendersError, match=words):
            parse_senders(text)


def test_a_tcp_stream_is_split_into_events():
    events, rest = cot_in.split_stream(marker() + b"\n" + marker(uid="abcdef-2") + b"<event uid='x'")
    assert len(events) == 2 and rest == b"<event uid='x'"
    assert all(isinstance(read_event(e), ET.Element) for e in events)
    events, rest = cot_in.split_stream(b"x" * (cot_in.MAX_EVENT_BYTES + 1))
    assert rest == b"" and read_event(events[0]).reason == "too_large"
