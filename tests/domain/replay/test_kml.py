"""KML export of a window: a gx:Track per unit with its times, a Placemark per sighting; nothing personal leaves."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from dispatch.domain.replay.history import History
from dispatch.domain.replay.kml import GX_NS, KML_NS, export_kml, kml_time
from tests.domain.replay.test_export import window

NS = {"k": KML_NS, "gx": GX_NS}


def folders(document: bytes) -> dict[str, list[ET.Element]]:
    root = ET.fromstring(document)
    assert root.tag == f"{{{KML_NS}}}kml"
    return {folder.findtext("k:name", namespaces=NS): folder.findall("k:Placemark", NS)
            for folder in root.findall("k:Document/k:Folder", NS)}


def test_a_track_per_unit_with_a_time_per_position():
    found = folders(export_kml(window(), name="replay-test"))
    drones = {p.findtext("k:name", namespaces=NS): p for p in found["Drones"]}
    track = drones["DR-1"].find("gx:Track", NS)
    whens = [w.text for w in track.findall("k:when", NS)]
    coords = [c.text for c in track.findall("gx:coord", NS)]
    assert len(whens) == len(coords) == 100
    assert whens[0] == "2026-01-01T00:00:00.000Z" and whens[-1] == "2026-01-01T00:01:39.000Z"
    assert coords[0] == "-1.68 48.0 0", "KML order: lon lat alt"
    assert drones["DR-1"].findtext("k:TimeSpan/k:begin", namespaces=NS) == whens[0]
    assert drones["DR-1"].findtext("k:styleUrl", namespaces=NS) == "#drone"
    single = drones["DR-2"].find("gx:Track", NS)
    assert len(single.findall("gx:coord", NS)) == 1, "a unit seen once is a one-point track"
    (patrol,) = found["Patrols"]
    assert len(patrol.find("gx:Track", NS).findall("k:when", NS)) == 10


def test_sightings_are_placemarks_with_their_span_and_no_free_text():
    document = export_kml(window())
    (sighting,) = folders(document)["Sightings"]
    assert sighting.findtext("k:Point/k:coordinates", namespaces=NS) == "-1.675,48.2"
    assert sighting.findtext("k:name", namespaces=NS).endswith("P2 deal")
    span = sighting.find("k:TimeSpan", NS)
    assert span.findtext("k:begin", namespaces=NS) == kml_time(1_767_225_605_000)
    assert span.findtext("k:end", namespaces=NS) == kml_time(1_767_225_730_000), "closed"
    assert "Priority: 2" in sighting.findtext("k:description", namespaces=NS)
    assert b"Groupe" not in document and b"note" not in document and b"OP-1" not in document


def test_an_empty_window_is_a_valid_empty_document():
    found = folders(export_kml(History.from_messages([], bounds=(0 + 1, 2))))
    assert found == {"Drones": [], "Patrols": [], "Sightings": []}
