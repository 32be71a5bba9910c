"""Authorised flight zones: where and when a prefect's decree lets the drones fly.

French law authorises police drones by prefectoral decree, for a perimeter and
a period. Everything the product says about legality (the outside_zone alert
now, refusing an unlawful flight later) rests on the few functions here, so
their conventions are fixed once:

- **Coordinates are GeoJSON order, [lon, lat]** (WGS84 degrees) in `Zone.polygon`,
  because zones arrive as and leave as GeoJSON and shapely's x is the longitude.
  Functions that take one point take it as `lat, lon`, like the rest of the
  product (telemetry fields, dispatch.domain.geo). Degrees are treated as a
  plane: exact enough for city perimeters away from the poles and the
  antimeridian (see geo.contains).
- **The ring is stored open and counter-clockwise** (the last vertex is not the
  first repeated), whatever the input's closure and winding, so one zone has one
  representation and GeoJSON output follows RFC 7946's right-hand rule.
- **The border is inside.** A drone exactly on the decree's line is within it.
  A point computed on an edge (a midpoint) is off the exact line by float
  rounding, around 1e-15 degree, and shapely's `covers` says no for about a third
  of such points; so a point within `BORDER_TOLERANCE_DEG` (about 0.1 mm) of the
  zone counts as covered. That is far below any GNSS precision: no real
  position is let in by it.
- **Validity is the half-open interval [valid_from_ms, valid_until_ms)** in ms
  since the epoch (UTC): at valid_until_ms the zone has expired. A decree
  written "until the end of 30 November" in local time is
  `valid_until_ms=end_of_local_day_ms(date(…, 11, 30))`, which handles the day
  lengths of 23 and 25 hours at DST changes.
- **zone_id is a short slug**, `Z-` then capitals, digits or `-` (at most 40
  characters), e.g. `Z-VILLEJEAN`: readable on the wall screen and in the alert
  messages, and free of any personal data.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import Enum
from functools import lru_cache
from typing import Annotated, Iterable, Mapping
from zoneinfo import ZoneInfo

import shapely
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from .lifecycle import DISPLAY_TIMEZONE
from .models import Latitude, Longitude, Timestamp
from .text import check_visible

ZONE_ID = r"^Z-[0-9A-Z][0-9A-Z-]{0,37}$"
LABEL_MAX_CHARS = 60
MAX_VERTICES = 1_000  # a decree's perimeter has tens of vertices; this bounds untrusted input
BORDER_TOLERANCE_DEG = 1e-9  # about 0.1 mm: absorbs float rounding, nothing a GNSS can resolve

_PRINTABLE = r"[^\x00-\x1f\x7f-\x9f\u2028\u2029]"
_VISIBLE = r"[^\s\x00-\x1f\x7f-\x9f\u2028\u2029]"
# One line of text, no control characters, no leading or trailing blank, nothing invisible (text.py).
Label = Annotated[
    str,
    StringConstraints(min_length=1, max_length=LABEL_MAX_CHARS, pattern=f"^{_VISIBLE}(?:{_PRINTABLE}*{_VISIBLE})?$"),
    AfterValidator(check_visible),
]
Vertex = tuple[Longitude, Latitude]


class ZoneError(ValueError):
    """A zone definition that cannot be used; the message says what to fix."""


class ZoneStatus(str, Enum):
    UPCOMING = "upcoming"
    ACTIVE = "active"
    EXPIRED = "expired"


class Zone(BaseModel):
    """One authorised perimeter and its validity period. Immutable: a new decree is a new zone value."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    zone_id: Annotated[str, StringConstraints(pattern=ZONE_ID)]
    name: Label
    decree_ref: Label  # the prefect's decree reference, e.g. "2026-11-035-PREF35"
    polygon: tuple[Vertex, ...]  # [lon, lat], open ring, counter-clockwise (see module docstring)
    valid_from_ms: Timestamp
    valid_until_ms: Timestamp

    @field_validator("polygon")
    @classmethod
    def _normalised_ring(cls, polygon: tuple[Vertex, ...]) -> tuple[Vertex, ...]:
        ring = tuple((float(lon), float(lat)) for lon, lat in polygon)
        if len(ring) > 1 and ring[0] == ring[-1]:
            ring = ring[:-1]
        if len(ring) > MAX_VERTICES:
            raise ValueError(f"{len(ring)} vertices, at most {MAX_VERTICES}")
        if len(set(ring)) < 3:
            raise ValueError(f"needs at least 3 distinct vertices, got {len(set(ring))}")
        shape = shapely.Polygon(ring)
        if not shape.is_valid:
            raise ValueError(f"not a simple polygon ({shapely.is_valid_reason(shape)}): "
                             "edges must not cross or touch, and it must enclose an area")
        if not shape.exterior.is_ccw:
            ring = (ring[0], *reversed(ring[1:]))
        return ring

    @model_validator(mode="after")
    def _period_is_forward(self) -> "Zone":
        if self.valid_until_ms <= self.valid_from_ms:
            raise ValueError(
                f"valid_until_ms ({self.valid_until_ms}) must be after valid_from_ms ({self.valid_from_ms})"
            )
        return self


def make_zone(**fields) -> Zone:
    """Build a zone, turning pydantic's errors into one readable `ZoneError`."""
    try:
        return Zone(**fields)
    except ValidationError as error:
        raise ZoneError(_describe(error)) from None


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors(include_url=False)[:3]:
        where = _location(item["loc"])
        if item["type"] == "string_pattern_mismatch":
            expected = ("Z- then capitals, digits or '-', e.g. Z-VILLEJEAN" if item["loc"] == ("zone_id",)
                        else "one line of text without leading or trailing blanks")
            parts.append(f"{where}: bad format {str(item.get('input'))[:60]!r}, expected {expected}")
        else:
            parts.append(f"{where}: {item['msg'].removeprefix('Value error, ')}")
    if error.error_count() > 3:
        parts.append(f"and {error.error_count() - 3} more")
    return "; ".join(parts)


def _location(loc: tuple) -> str:
    if len(loc) == 3 and loc[0] == "polygon":  # ("polygon", vertex index, 0 or 1)
        return f"polygon vertex {loc[1]} {('lon', 'lat')[loc[2]] if loc[2] in (0, 1) else loc[2]}"
    return ".".join(str(part) for part in loc) or "zone"


# --- GeoJSON in and out ---------------------------------------------------

_PROPERTIES = ("zone_id", "name", "decree_ref", "valid_from_ms", "valid_until_ms")


def zone_from_geojson(feature: Mapping, **overrides) -> Zone:
    """A zone from a GeoJSON Feature whose geometry is one Polygon without holes.

    The properties may carry zone_id, name, decree_ref, valid_from_ms and
    valid_until_ms; keyword arguments supply or replace them (a polygon drawn
    on the map, the rest typed in a form). A third coordinate (elevation) is
    ignored. Holes are refused rather than dropped, since dropping an excluded
    area would authorise flying over it; a MultiPolygon is refused too: make one
    zone per part.
    """
    unknown = set(overrides) - set(_PROPERTIES)
    if unknown:
        raise TypeError(f"unknown zone fields: {', '.join(sorted(unknown))}")
    if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
        raise ZoneError("expected a GeoJSON Feature")
    geometry = feature.get("geometry")
    if not isinstance(geometry, Mapping) or geometry.get("type") != "Polygon":
        kind = geometry.get("type") if isinstance(geometry, Mapping) else type(geometry).__name__
        raise ZoneError(f"geometry must be a Polygon, got {kind}"
                        + ("; make one zone per polygon" if kind == "MultiPolygon" else ""))
    rings = geometry.get("coordinates")
    if not isinstance(rings, list) or not rings:
        raise ZoneError("Polygon coordinates must be a list of rings")
    if len(rings) > 1:
        raise ZoneError(f"the polygon has {len(rings) - 1} hole(s); holes are not supported, "
                        "describe the authorised area without them")
    if not isinstance(rings[0], list) or not all(isinstance(p, (list, tuple)) and len(p) >= 2 for p in rings[0]):
        raise ZoneError("each position must be [lon, lat]")
    properties = feature.get("properties") or {}
    if not isinstance(properties, Mapping):
        raise ZoneError("properties must be an object")
    fields = {name: properties[name] for name in _PROPERTIES if name in properties}
    fields.update(overrides)
    return make_zone(polygon=[position[:2] for position in rings[0]], **fields)


def zone_to_geojson(zone: Zone, now_ms: int | None = None) -> dict:
    """The zone as a GeoJSON Feature (closed ring, RFC 7946), `status` added when `now_ms` is given."""
    properties: dict = {name: getattr(zone, name) for name in _PROPERTIES}
    if now_ms is not None:
        properties["status"] = status_at(zone, now_ms).value
    ring = [list(vertex) for vertex in zone.polygon]
    return {
        "type": "Feature",
        "id": zone.zone_id,
        "geometry": {"type": "Polygon", "coordinates": [ring + [ring[0]]]},
        "properties": properties,
    }


# --- Time ----------------------------------------------------------------

def status_at(zone: Zone, t_ms: int) -> ZoneStatus:
    if t_ms < zone.valid_from_ms:
        return ZoneStatus.UPCOMING
    if t_ms < zone.valid_until_ms:
        return ZoneStatus.ACTIVE
    return ZoneStatus.EXPIRED


def zones_valid_at(zones: Iterable[Zone], t_ms: int) -> list[Zone]:
    return [zone for zone in zones if zone.valid_from_ms <= t_ms < zone.valid_until_ms]


def start_of_local_day_ms(day: date, tz: str = DISPLAY_TIMEZONE.key) -> int:
    """The first instant of `day` on the local clock, in ms UTC.

    Where a DST change skips midnight (clocks jump from 00:00 to 01:00, as in
    Chile), zoneinfo's fold=0 reading of the missing 00:00 lands exactly on the
    jump, which is when that day starts.
    """
    start = datetime.combine(day, time(0), tzinfo=ZoneInfo(tz))
    return _utc_ms(start)


def end_of_local_day_ms(day: date, tz: str = DISPLAY_TIMEZONE.key) -> int:
    """The exclusive end of `day` on the local clock (the start of the next day), in ms UTC.

    Used as valid_until_ms, it makes a zone valid through the last millisecond
    of that local day, on days of 23, 24 or 25 hours alike.
    """
    return start_of_local_day_ms(day + timedelta(days=1), tz)


def local_date(t_ms: int, tz: str = DISPLAY_TIMEZONE.key) -> date:
    """The calendar date on the local clock at instant `t_ms`."""
    return datetime.fromtimestamp(t_ms / 1000, tz=ZoneInfo(tz)).date()


def _utc_ms(moment: datetime) -> int:
    # Exact integer arithmetic: timestamp() goes through a float.
    return (moment - datetime(1970, 1, 1, tzinfo=ZoneInfo("UTC"))) // timedelta(milliseconds=1)


# --- Space ---------------------------------------------------------------

@lru_cache(maxsize=4_096)
def _shape(polygon: tuple[Vertex, ...]) -> shapely.Polygon:
    """Prepared shapely polygon of a ring, built once per distinct ring (zones are immutable)."""
    shape = shapely.Polygon(polygon)
    shapely.prepare(shape)
    return shape


def zone_covers(zone: Zone, lat: float, lon: float) -> bool:
    """Whether the point lies inside the zone or on its border (time is not considered)."""
    shape = _shape(zone.polygon)
    point = shapely.Point(lon, lat)
    return bool(shape.covers(point) or shapely.dwithin(shape, point, BORDER_TOLERANCE_DEG))


def covering_zones(zones: Iterable[Zone], lat: float, lon: float, t_ms: int) -> list[Zone]:
    """The zones valid at `t_ms` whose perimeter (border included) holds the point."""
    return [zone for zone in zones_valid_at(zones, t_ms) if zone_covers(zone, lat, lon)]


def is_authorised(zones: Iterable[Zone], lat: float, lon: float, t_ms: int) -> bool:
    """Whether a drone may be at (lat, lon) at instant `t_ms`: inside at least one valid zone."""
    return any(zone_covers(zone, lat, lon) for zone in zones_valid_at(zones, t_ms))


# --- Several zones at once, and wall-clock times ------------------------------

MAX_ZONES_PER_DOCUMENT = 200  # a département's decrees at once; bounds untrusted input


def zones_from_geojson(document: object, defaults: Mapping | None = None, *,
                       defaults_from: str = "give it for the whole document") -> list[Zone]:
    """Every zone of a GeoJSON Feature or FeatureCollection of Polygons, or none at all.

    A document is taken whole or refused whole: the first bad feature refuses
    it, the message naming that feature ("feature 2 of 3 (Z-GARE): ...") and
    the problem, so an administrator fixes the file and imports it again rather
    than wondering which half went in. `defaults` supplies the zone fields a
    feature's properties lack (a form's values); the properties win.
    `defaults_from` ends the message about a field given nowhere ("fill it in
    the form"). Two features with one zone_id are refused: the second would
    silently replace the first.
    """
    defaults = dict(defaults or {})
    unknown = set(defaults) - set(_PROPERTIES)
    if unknown:
        raise TypeError(f"unknown zone fields: {', '.join(sorted(unknown))}")
    features = _features_of(document)
    zones: list[Zone] = []
    first_of: dict[str, int] = {}
    for number, feature in enumerate(features, start=1):
        where = _feature_label(feature, number, len(features))
        properties = feature.get("properties") if isinstance(feature, Mapping) else None
        given = properties if isinstance(properties, Mapping) else {}
        missing = [name for name in _PROPERTIES if name not in given and name not in defaults]
        if missing and isinstance(feature, Mapping) and feature.get("type") == "Feature":
            raise ZoneError(f"{where}: {', '.join(missing)} missing: put {'it' if len(missing) == 1 else 'them'} "
                            f"in the feature's properties or {defaults_from}")
        try:
            zone = zone_from_geojson(feature, **{k: v for k, v in defaults.items() if k not in given})
        except ZoneError as error:
            raise ZoneError(f"{where}: {error}") from None
        if zone.zone_id in first_of:
            raise ZoneError(f"features {first_of[zone.zone_id]} and {number} are both {zone.zone_id}: "
                            "give each feature its own zone_id (the second would replace the first)")
        first_of[zone.zone_id] = number
        zones.append(zone)
    return zones


def _features_of(document: object) -> list:
    kind = document.get("type") if isinstance(document, Mapping) else None
    if kind == "Feature":
        return [document]
    if kind == "FeatureCollection":
        features = document.get("features")
        if not isinstance(features, list):
            raise ZoneError("the FeatureCollection's \"features\" must be a list")
        if not features:
            raise ZoneError("the FeatureCollection holds no feature")
        if len(features) > MAX_ZONES_PER_DOCUMENT:
            raise ZoneError(f"{len(features)} features, at most {MAX_ZONES_PER_DOCUMENT} at once: split the file")
        return features
    if kind in ("Polygon", "MultiPolygon"):
        raise ZoneError(f"expected a GeoJSON Feature or FeatureCollection, got a bare {kind}: wrap it in a Feature")
    got = f"type {str(kind)[:40]!r}" if isinstance(document, Mapping) else _json_kind(document)
    raise ZoneError(f"expected a GeoJSON Feature or FeatureCollection, got {got}")


def _feature_label(feature: object, number: int, total: int) -> str:
    where = "the feature" if total == 1 else f"feature {number} of {total}"
    properties = feature.get("properties") if isinstance(feature, Mapping) else None
    if isinstance(properties, Mapping):
        for name in ("zone_id", "name"):
            value = properties.get(name)
            if isinstance(value, str) and value.strip():
                return f"{where} ({value.strip()[:40]})"
    return where


def _json_kind(value: object) -> str:
    names = {list: "a list", str: "a string", bool: "true or false", int: "a number", float: "a number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def local_time_ms(moment: datetime, tz: str = DISPLAY_TIMEZONE.key) -> int:
    """A time read on the local clock (naive `moment`, e.g. typed in a form), in ms UTC.

    A time the clock skips (02:30 on the night clocks go forward) is refused
    rather than silently moved by an hour; a time the clock shows twice (02:30
    on the night clocks go back) is its first occurrence, in summer time.
    """
    if moment.tzinfo is not None:
        raise ValueError("expected a wall-clock time without a time zone")
    zone = ZoneInfo(tz)
    aware = moment.replace(tzinfo=zone, fold=0)
    if aware.astimezone(ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None) != moment:
        raise ZoneError(f"{moment:%d/%m/%Y %H:%M} does not exist on the local clock (the clocks go "
                        "forward then): give a time after the change")
    return _utc_ms(aware)
