"""Export of a replay window as KML, for Google Earth (many units review their flights there). Pure.

Built from the GeoJSON export (export.py), so exactly the same things leave, and nothing more: tracks of
drones and patrols, sightings with category, priority, number, times and outcome; never the note nor the
operator's code. Each track is a `gx:Track` (one `<when>` per `<gx:coord>`), so Google Earth's time slider
plays the window back; each sighting a Placemark with a `TimeSpan` from tagged to closed.

xml.etree rather than simplekml: four element kinds and one extension namespace do not justify a
dependency last released in 2021.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from typing import Iterator

from .export import export_geojson, iter_features
from .history import History

KML_NS = "http://www.opengis.net/kml/2.2"
GX_NS = "http://www.google.com/kml/ext/2.2"
ET.register_namespace("", KML_NS)
ET.register_namespace("gx", GX_NS)

# KML colours are aabbggrr. Drones blue, patrols green, sightings orange (the wall screen's families).
STYLES = {"drone": "ffd08a2e", "patrol": "ff3cb44b", "sighting": "ff1e90ff"}
FOLDERS = (("drone", "Drones"), ("patrol", "Patrols"), ("sighting", "Sightings"))


def kml_time(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def export_kml(history: History, *, name: str = "Replay") -> bytes:
    """The window as a KML document (UTF-8 bytes): a folder of tracks per kind, a folder of sightings."""
    features = export_geojson(history)["features"]
    root = ET.Element(_k("kml"))
    document = ET.SubElement(root, _k("Document"))
    _text(document, "name", name)
    for kind, colour in STYLES.items():
        style = ET.SubElement(document, _k("Style"), id=kind)
        _text(ET.SubElement(style, _k("IconStyle")), "color", colour)  # KML's order: Icon before Line
        _text(ET.SubElement(style, _k("LineStyle")), "color", colour)
    for kind, title in FOLDERS:
        folder = ET.SubElement(document, _k("Folder"))
        _text(folder, "name", title)
        for feature in features:
            if feature["properties"]["kind"] == kind:
                (_sighting if kind == "sighting" else _track)(folder, feature)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def iter_kml(history: History, *, name: str = "Replay") -> Iterator[bytes]:
    """export_kml's exact bytes, one placemark at a time (one track's coordinates in memory, not every track's).

    The document's skeleton (declaration, styles, folder names) is serialised by ElementTree with a comment
    marking where each folder's placemarks go; each placemark is serialised alone, minus the namespace
    declarations ElementTree puts on a lone element (the whole document declares them once, on <kml>).
    """
    root = ET.Element(_k("kml"))
    document = ET.SubElement(root, _k("Document"))
    _text(document, "name", name)
    for kind, colour in STYLES.items():
        style = ET.SubElement(document, _k("Style"), id=kind)
        _text(ET.SubElement(style, _k("IconStyle")), "color", colour)
        _text(ET.SubElement(style, _k("LineStyle")), "color", colour)
    for _kind, title in FOLDERS:
        folder = ET.SubElement(document, _k("Folder"))
        _text(folder, "name", title)
        folder.append(ET.Comment(_MARK))
    skeleton = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    if _has_tracks(history):  # ElementTree declares gx only where a gx:Track is used
        bare = f'<kml xmlns="{KML_NS}">'.encode()
        skeleton = skeleton.replace(bare, f'<kml xmlns="{KML_NS}" xmlns:gx="{GX_NS}">'.encode(), 1)
    pieces = skeleton.split(f"<!--{_MARK}-->".encode())
    yield pieces[0]
    features = iter_features(history)  # drones, then patrols, then sightings: the folders' order
    pending = next(features, None)
    for (kind, _), after in zip(FOLDERS, pieces[1:]):
        while pending is not None and pending["properties"]["kind"] == kind:
            yield _alone(pending)
            pending = next(features, None)
        yield after


_MARK = "placemarks"


def _has_tracks(history: History) -> bool:
    from_ms, to_ms = history.bounds
    return any(bool(((frame["ts"] >= from_ms) & (frame["ts"] <= to_ms)).any())
               for frame in (history.telemetry, history.patrol_reports))


def _alone(feature: dict) -> bytes:
    folder = ET.Element(_k("Folder"))
    (_sighting if feature["properties"]["kind"] == "sighting" else _track)(folder, feature)
    text = ET.tostring(folder[0], encoding="utf-8")
    head, rest = text.split(b">", 1)
    head = head.replace(f' xmlns="{KML_NS}"'.encode(), b"").replace(f' xmlns:gx="{GX_NS}"'.encode(), b"")
    return head + b">" + rest


def _track(folder: ET.Element, feature: dict) -> None:
    props = feature["properties"]
    placemark = _placemark(folder, props["id"], f"{props['kind']} {props['id']}: {props['points']} positions",
                           props["kind"], props["start_ms"], props["end_ms"])
    track = ET.SubElement(placemark, _g("Track"))
    geometry = feature["geometry"]
    coordinates = geometry["coordinates"] if geometry["type"] == "LineString" else [geometry["coordinates"]]
    for ms in props["times_ms"]:
        _text(track, "when", kml_time(ms))
    for lon, lat in coordinates:
        ET.SubElement(track, _g("coord")).text = f"{lon} {lat} 0"


def _sighting(folder: ET.Element, feature: dict) -> None:
    props = feature["properties"]
    label = props.get("number") or props["id"][:8]
    lines = [f"Category: {props['category']}", f"Priority: {props['priority']} (1 most urgent)",
             f"Tagged: {kml_time(props['ts'])}",
             f"Closed: {kml_time(props['closed_ms'])}" if props["closed_ms"] is not None else "Still open",
             *([f"Outcome: {props['outcome']}"] if props.get("outcome") else []), f"Id: {props['id']}"]
    placemark = _placemark(folder, f"{label} P{props['priority']} {props['category']}", "\n".join(lines),
                           "sighting", props["ts"], props["closed_ms"])
    lon, lat = feature["geometry"]["coordinates"]
    _text(ET.SubElement(placemark, _k("Point")), "coordinates", f"{lon},{lat}")


def _placemark(folder: ET.Element, name: str, description: str, style: str, begin_ms: int,
               end_ms: int | None) -> ET.Element:
    """A Placemark's common part, in the order KML's schema wants (name, description, time, style)."""
    placemark = ET.SubElement(folder, _k("Placemark"))
    _text(placemark, "name", name)
    _text(placemark, "description", description)
    span = ET.SubElement(placemark, _k("TimeSpan"))
    _text(span, "begin", kml_time(begin_ms))
    if end_ms is not None:
        _text(span, "end", kml_time(end_ms))
    _text(placemark, "styleUrl", f"#{style}")
    return placemark


def _text(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, _k(tag))
    element.text = text
    return element


def _k(tag: str) -> str:
    return f"{{{KML_NS}}}{tag}"


def _g(tag: str) -> str:
    return f"{{{GX_NS}}}{tag}"
