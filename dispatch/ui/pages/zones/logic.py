"""What the zones page asks, as plain functions: the Dash glue (handlers.py) only adds the request.

- the form -> a Zone (`zone_from_form`): times typed on the local clock
  (settings.timezone); "valid from" is a date and time, "valid until" a date,
  meaning through the end of that local day (a decree's "until 30 November"),
  whatever the day's length at a DST change. Every refusal says which field and
  what to type instead;
- the shapes drawn on the map -> the perimeter (`perimeter`): the last polygon
  or rectangle drawn, else the perimeter of the zone being edited;
- an uploaded GeoJSON file -> zones (`zones_from_upload`): at most
  MAX_UPLOAD_BYTES, a Feature or FeatureCollection of Polygons, refused whole
  with the feature and the problem named (domain.zones.zones_from_geojson);
- zones -> table rows and the sentences the page says (`zone_rows`, `saved_message`), and the
  components that show them (`zone_table`, `zone_layer`: the map's perimeters styled as on the wall
  screen, solid while valid, dashed grey with the word otherwise).

Editing a zone loads its exact instants along with the texts shown in the
form: a field left as shown keeps the exact instant (an imported zone may end
at 18:00:00.500, which the form's minute or day could not say), a field
changed is read from its text.

Pure: no request, no Redis, no clock (the instant is passed in); components are built, not served.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable, Mapping
from zoneinfo import ZoneInfo

import dash_leaflet as dl
from dash import html

from ....domain.zones import (
    Zone, ZoneError, ZoneStatus, end_of_local_day_ms, local_date, local_time_ms, make_zone, status_at,
    zones_from_geojson,
)
from . import ids

MAX_UPLOAD_BYTES = 1_000_000
NO_PERIMETER = "draw the perimeter on the map or import a GeoJSON file first"
DRAW_HINT = "draw the perimeter on the map (polygon or rectangle tool, top right of the map)"
STATUS_WORDS = {ZoneStatus.ACTIVE: "active", ZoneStatus.UPCOMING: "not yet valid", ZoneStatus.EXPIRED: "expired"}
FROM_FORMAT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> holds
UNTIL_FORMAT = "%Y-%m-%d"  # what <input type="date"> holds
_REQUIRED = {
    "zone_id": "zone id: required, e.g. Z-VILLEJEAN",
    "name": "name: required, e.g. Villejean - Kennedy",
    "decree_ref": "decree reference: required, e.g. 2026-11-035-PREF35",
    "valid_from": "valid from: required (date and time the decree starts)",
    "valid_until": "valid until: required (the decree's last day)",
}


class ZoneRefused(ValueError):
    """What the administrator typed or sent cannot make a zone; the message says what to fix."""


# ----------------------------------------------------------------------------- the form


def zone_from_form(*, zone_id, name, decree_ref, valid_from, valid_until, polygon, tz: str,
                   editing: Mapping | None = None) -> Zone:
    """The zone the form describes, or ZoneRefused naming the first thing to fix."""
    values = {"zone_id": _clean(zone_id).upper(), "name": _clean(name), "decree_ref": _clean(decree_ref),
              "valid_from": _clean(valid_from), "valid_until": _clean(valid_until)}
    for field, text in values.items():
        if not text:
            raise ZoneRefused(_REQUIRED[field])
    if not polygon:
        raise ZoneRefused(NO_PERIMETER)
    from_ms = valid_from_ms(values["valid_from"], tz, editing)
    until_ms = valid_until_ms(values["valid_until"], tz, editing)
    if until_ms <= from_ms:
        raise ZoneRefused(f"valid until: {until_text(until_ms, tz, year=True)} is not after valid from "
                          f"({moment_text(from_ms, tz, year=True)}): give the decree's last day")
    try:
        return make_zone(zone_id=values["zone_id"], name=values["name"], decree_ref=values["decree_ref"],
                         polygon=polygon, valid_from_ms=from_ms, valid_until_ms=until_ms)
    except ZoneError as error:
        raise ZoneRefused(_field_names(str(error))) from None


def form_defaults(*, zone_id, name, decree_ref, valid_from, valid_until, tz: str) -> dict:
    """The zone fields filled in the form, for the features of an imported file that lack them."""
    defaults: dict = {}
    for field, value in (("zone_id", _clean(zone_id).upper()), ("name", _clean(name)),
                         ("decree_ref", _clean(decree_ref))):
        if value:
            defaults[field] = value
    if _clean(valid_from):
        defaults["valid_from_ms"] = valid_from_ms(_clean(valid_from), tz)
    if _clean(valid_until):
        defaults["valid_until_ms"] = valid_until_ms(_clean(valid_until), tz)
    return defaults


def valid_from_ms(text: str, tz: str, editing: Mapping | None = None) -> int:
    """The start typed as a local date and time ("2026-11-30T08:00"), or the edited zone's exact start."""
    kept = _kept(editing, "from_text", "valid_from_ms", text)
    if kept is not None:
        return kept
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T"))
    except ValueError:
        raise ZoneRefused(f"valid from: {text[:40]!r} is not a date and time: pick one, e.g. "
                          "30/11/2026 08:00") from None
    if moment.tzinfo is not None:
        raise ZoneRefused("valid from: give the local time without a time zone")
    try:
        return local_time_ms(moment, tz)
    except ZoneError as error:
        raise ZoneRefused(f"valid from: {error}") from None


def valid_until_ms(text: str, tz: str, editing: Mapping | None = None) -> int:
    """The end of the local day typed ("2026-11-30": valid through 23:59:59.999 that day), or the edited
    zone's exact end."""
    kept = _kept(editing, "until_text", "valid_until_ms", text)
    if kept is not None:
        return kept
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ZoneRefused(f"valid until: {text[:40]!r} is not a date: pick the decree's last day, "
                          "e.g. 30/11/2026") from None
    return end_of_local_day_ms(day, tz)


def editing_state(zone: Zone, tz: str) -> dict:
    """What the form shows for a zone being edited, and the exact values it stands for (a dcc.Store)."""
    return {"zone_id": zone.zone_id, "name": zone.name, "decree_ref": zone.decree_ref,
            "polygon": [list(vertex) for vertex in zone.polygon],
            "valid_from_ms": zone.valid_from_ms, "valid_until_ms": zone.valid_until_ms,
            "from_text": _local(zone.valid_from_ms, tz).strftime(FROM_FORMAT),
            "until_text": _local(zone.valid_until_ms - 1, tz).strftime(UNTIL_FORMAT)}


def default_from_text(now_ms: int, tz: str) -> str:
    """"Now" for the valid-from input, to the minute."""
    return _local(now_ms, tz).strftime(FROM_FORMAT)


def _kept(editing: Mapping | None, text_key: str, ms_key: str, text: str) -> int | None:
    if not isinstance(editing, Mapping) or editing.get(text_key) != text:
        return None
    value = editing.get(ms_key)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _clean(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def _field_names(message: str) -> str:
    """The model's field names as the form labels them."""
    for field, label in (("decree_ref", "decree reference"), ("zone_id", "zone id")):
        message = message.replace(f"{field}:", f"{label}:")
    return message


# ----------------------------------------------------------------------------- the map's drawing


def drawn_polygons(geojson) -> list[list[list[float]]]:
    """The rings ([lon, lat], closed or not) of the polygons and rectangles drawn, oldest first."""
    features = geojson.get("features") if isinstance(geojson, Mapping) else None
    rings = []
    for feature in features if isinstance(features, list) else []:
        geometry = feature.get("geometry") if isinstance(feature, Mapping) else None
        if isinstance(geometry, Mapping) and geometry.get("type") == "Polygon":
            coordinates = geometry.get("coordinates")
            if isinstance(coordinates, list) and coordinates and isinstance(coordinates[0], list):
                rings.append([p[:2] for p in coordinates[0] if isinstance(p, list) and len(p) >= 2])
    return rings


def perimeter(geojson, editing: Mapping | None = None) -> tuple[list | None, str]:
    """The perimeter to save, and what the form says about it: the last shape drawn wins, else the
    edited zone's own perimeter, else none."""
    rings = drawn_polygons(geojson)
    if rings:
        ring = rings[-1]
        count = _vertex_count(ring)
        note = f"polygon: {count} vertices drawn"
        if len(rings) > 1:
            note += f" (the last of {len(rings)} shapes drawn is used)"
        return ring, note
    kept = editing.get("polygon") if isinstance(editing, Mapping) else None
    if isinstance(kept, list) and kept:
        return kept, (f"polygon: {_vertex_count(kept)} vertices, kept from {editing.get('zone_id')} "
                      "(draw a new one to replace it)")
    return None, DRAW_HINT


def _vertex_count(ring: list) -> int:
    points = [tuple(p) if isinstance(p, list) else p for p in ring]
    return len(points) - 1 if len(points) > 1 and points[0] == points[-1] else len(points)


# ----------------------------------------------------------------------------- importing a file


def zones_from_upload(contents, filename, defaults: Mapping | None = None, *,
                      max_bytes: int = MAX_UPLOAD_BYTES) -> list[Zone]:
    """The zones of an uploaded GeoJSON file (dcc.Upload's data URL), all of them or ZoneRefused."""
    document = decode_upload(contents, filename, max_bytes=max_bytes)
    try:
        return zones_from_geojson(document, defaults, defaults_from="fill it in the form")
    except ZoneError as error:
        raise ZoneRefused(f"{file_label(filename)} refused, nothing imported: {_field_names(str(error))}") from None


def decode_upload(contents, filename, *, max_bytes: int = MAX_UPLOAD_BYTES):
    """The JSON document in dcc.Upload's `data:<type>;base64,<data>`, refused when too big or not JSON."""
    label = file_label(filename)
    if not isinstance(contents, str) or not contents.startswith("data:") or ";base64," not in contents[:200]:
        raise ZoneRefused(f"{label} could not be read: choose the file again")
    data = contents.split(";base64,", 1)[1]
    size = len(data) * 3 // 4 - data[-2:].count("=")
    if size > max_bytes:
        raise ZoneRefused(f"{label} is {size_text(size)}: at most {size_text(max_bytes)}. "
                          "Simplify the perimeters or split the file.")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ZoneRefused(f"{label} could not be read: choose the file again") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ZoneRefused(f"{label} is not a text file: export the zones as GeoJSON (UTF-8)") from None
    if not text.strip():
        raise ZoneRefused(f"{label} is empty: choose the GeoJSON file of the zones")
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise ZoneRefused(f"{label} is not valid JSON: {error.msg} at line {error.lineno}, "
                          f"column {error.colno}") from None
    except ValueError as error:
        raise ZoneRefused(f"{label} is not valid JSON: {error}") from None


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def file_label(filename) -> str:
    return f"{filename.strip()[:60]}" if isinstance(filename, str) and filename.strip() else "the file"


def size_text(size: int) -> str:
    """"1 MB", "1.4 MB", "350 kB"."""
    if size >= 999_500:
        return f"{size / 1_000_000:.1f}".removesuffix(".0") + " MB"
    return f"{max(1, round(size / 1000))} kB"


# ----------------------------------------------------------------------------- what the page shows


@dataclass(frozen=True)
class ZoneRow:
    """One zone as the table shows it: every value a string or a number, ready to be shown as text."""

    zone_id: str
    name: str
    decree_ref: str
    valid_from: str
    valid_until: str
    status: str  # ZoneStatus value: the badge's shape and the map's style
    status_text: str
    vertices: int


def zone_rows(zones: Iterable[Zone], now_ms: int, tz: str) -> list[ZoneRow]:
    return [ZoneRow(zone.zone_id, zone.name, zone.decree_ref, moment_text(zone.valid_from_ms, tz, year=True),
                    until_text(zone.valid_until_ms, tz, year=True), status_at(zone, now_ms).value,
                    STATUS_WORDS[status_at(zone, now_ms)], len(zone.polygon))
            for zone in zones]


def validity_text(zone: Zone, now_ms: int, tz: str, *, warn: bool = True) -> str:
    """"active until 30/11 23:59", "not yet valid: from 01/12 08:00 until 31/12 23:59", "expired since …"."""
    year = _needs_year(zone, now_ms, tz)
    status = status_at(zone, now_ms)
    until = until_text(zone.valid_until_ms, tz, year=year)
    if status is ZoneStatus.ACTIVE:
        return f"active until {until}"
    if status is ZoneStatus.UPCOMING:
        return f"not yet valid: from {moment_text(zone.valid_from_ms, tz, year=year)} until {until}"
    return f"expired since {until}" + (": drones are not authorised there" if warn else "")


def saved_message(zone: Zone, now_ms: int, tz: str, *, replaced: bool) -> str:
    return f"{zone.zone_id} {'replaced' if replaced else 'saved'}: {validity_text(zone, now_ms, tz)}"


def imported_message(zones: list[Zone], replaced: set[str], filename, now_ms: int, tz: str) -> str:
    parts = [f"{zone.zone_id} ({'replaced' if zone.zone_id in replaced else 'new'}, "
             f"{validity_text(zone, now_ms, tz, warn=False)})" for zone in zones]
    count = f"{len(zones)} zone{'s' if len(zones) > 1 else ''}"
    return f"{count} imported from {file_label(filename)}: " + ", ".join(parts)


def _needs_year(zone: Zone, now_ms: int, tz: str) -> bool:
    """Dates are shown without their year when both ends of the validity fall in the current year."""
    this_year = _local(now_ms, tz).year
    return {_local(zone.valid_from_ms, tz).year, _local(zone.valid_until_ms - 1, tz).year} != {this_year}


def moment_text(t_ms: int, tz: str, *, year: bool = False) -> str:
    return _local(t_ms, tz).strftime("%d/%m/%Y %H:%M" if year else "%d/%m %H:%M")


def until_text(until_ms: int, tz: str, *, year: bool = False) -> str:
    """The end of a validity as people say it: "30/11 23:59" for the end of a local day (the last
    minute that is still valid), else the instant it expires ("30/11 18:00")."""
    last_day = local_date(until_ms - 1, tz)
    if end_of_local_day_ms(last_day, tz) == until_ms:
        return last_day.strftime("%d/%m/%Y 23:59" if year else "%d/%m 23:59")
    return moment_text(until_ms, tz, year=year)


def _local(t_ms: int, tz: str) -> datetime:
    return datetime.fromtimestamp(t_ms / 1000, ZoneInfo(tz))


# ----------------------------------------------------------------------------- components

# As the wall screen draws them (assets/screen_overlays.js ZONE_STYLE, style.css --c-zone / --c-muted-zone).
ZONE_PATHS = {
    ZoneStatus.ACTIVE.value: {"color": "#56c7e8", "fillColor": "#56c7e8", "dashArray": None, "weight": 3,
                              "fillOpacity": 0.07, "opacity": 0.9},
    ZoneStatus.UPCOMING.value: {"color": "#8c96a0", "fillColor": "#8c96a0", "dashArray": "10 8", "weight": 2,
                                "fillOpacity": 0.02, "opacity": 0.8},
    ZoneStatus.EXPIRED.value: {"color": "#8c96a0", "fillColor": "#8c96a0", "dashArray": "4 8", "weight": 2,
                               "fillOpacity": 0.0, "opacity": 0.7},
}
MAP_LABELS = {ZoneStatus.ACTIVE.value: "authorised until", ZoneStatus.UPCOMING.value: "NOT YET VALID · from",
              ZoneStatus.EXPIRED.value: "EXPIRED ·"}
COLUMNS = ("Zone id", "Name", "Decree", "Valid from", "Valid until", "Status", "Vertices", "")


def zone_glyph(status: str) -> html.Span:
    """The legend's zone glyph (style.css): solid for active, dashed for the others."""
    return html.Span(className="glyph-wrap", children=html.Span(className=f"glyph glyph-zone is-{status}"))


def zone_layer(zone: Zone, now_ms: int, tz: str) -> dl.Polygon:
    """A stored zone on the map, with its name and validity as a permanent label (text, never HTML)."""
    status = status_at(zone, now_ms).value
    year = _needs_year(zone, now_ms, tz)
    when = (moment_text(zone.valid_from_ms, tz, year=year) if status == ZoneStatus.UPCOMING.value
            else until_text(zone.valid_until_ms, tz, year=year))
    label = html.Div(className=f"zone-label-body is-{status}", **{"data-zone-id": zone.zone_id, "data-status": status},
                     children=[html.Div(zone.name, className="zone-name"),
                               html.Div(f"{zone.zone_id} · {MAP_LABELS[status]} {when}", className="zone-state")])
    # The status is in the id: Dash keys children by id, so a zone changing status gets a new Leaflet
    # layer (a path's className is only set when Leaflet creates it).
    return dl.Polygon(id=f"{ids.ZONE_SHAPE}-{status}-{zone.zone_id}", positions=[[lat, lon] for lon, lat in zone.polygon],
                      pathOptions=ZONE_PATHS[status], className=f"adz-zone-path is-{status}", interactive=False,
                      children=dl.Tooltip(label, permanent=True, direction="center", className="zone-label"))


def fit_viewport(zones: list[Zone]) -> dict:
    """The map's viewport framing `zones` (dash-leaflet's `viewport` property)."""
    lons = [lon for zone in zones for lon, _ in zone.polygon]
    lats = [lat for zone in zones for _, lat in zone.polygon]
    return {"bounds": [[min(lats), min(lons)], [max(lats), max(lons)]], "transition": "fitBounds",
            "options": {"padding": [40, 40], "maxZoom": 16, "animate": False}}
