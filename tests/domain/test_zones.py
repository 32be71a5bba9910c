"""Authorised zones: real perimeters (the demo's Rennes zones), borders, validity periods, local days."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
import shapely

from dispatch.domain.geo import destination, haversine_m, initial_bearing_deg
from dispatch.domain.zones import (
    MAX_VERTICES, MAX_ZONES_PER_DOCUMENT, Zone, ZoneError, ZoneStatus, covering_zones, end_of_local_day_ms,
    is_authorised, local_date, local_time_ms, make_zone, start_of_local_day_ms, status_at, zone_covers,
    zone_from_geojson, zone_to_geojson, zones_from_geojson, zones_valid_at,
)
from dispatch.demo.scenario_rennes import ZONES as DEMO

FROM = 1_780_000_000_000
UNTIL = FROM + 86_400_000


def utc_ms(*args) -> int:
    return int(datetime(*args, tzinfo=timezone.utc).timestamp() * 1000)


def demo_zone(index: int, valid_from_ms: int = FROM, valid_until_ms: int = UNTIL) -> Zone:
    zone = DEMO[index]
    return make_zone(zone_id=zone.zone_id, name=zone.name, decree_ref="2026-11-035-PREF35",
                     polygon=[(lon, lat) for lat, lon in zone.vertices],
                     valid_from_ms=valid_from_ms, valid_until_ms=valid_until_ms)


def zone(polygon, **fields) -> Zone:
    values = dict(zone_id="Z-TEST", name="Test zone", decree_ref="2026-01-001-PREF35", polygon=polygon,
                  valid_from_ms=FROM, valid_until_ms=UNTIL)
    values.update(fields)
    return make_zone(**values)


ALL_DEMO = [demo_zone(i) for i in range(len(DEMO))]


def edges(z: Zone):
    """(lat, lon) of each edge's ends, in the stored counter-clockwise order."""
    ring = [(lat, lon) for lon, lat in z.polygon]
    return list(zip(ring, ring[1:] + ring[:1]))


def offset(point, start, end, metres: float):
    """`point` moved `metres` to the right of the edge start->end: outside, for a counter-clockwise ring."""
    bearing = float(initial_bearing_deg(*start, *end))
    lat, lon = destination(*point, metres, bearing + 90.0)
    return float(lat), float(lon)


# --- Geometry on the real perimeters ------------------------------------------

@pytest.mark.parametrize("z", ALL_DEMO, ids=lambda z: z.zone_id)
def test_every_vertex_of_a_demo_zone_is_inside(z):
    for lon, lat in z.polygon:
        assert zone_covers(z, lat, lon)


@pytest.mark.parametrize("fraction", [0.5, 0.25, 1 / 3, 0.1, 0.9])
@pytest.mark.parametrize("z", ALL_DEMO, ids=lambda z: z.zone_id)
def test_points_computed_on_an_edge_are_inside(z, fraction):
    for (lat_a, lon_a), (lat_b, lon_b) in edges(z):
        lat, lon = lat_a + (lat_b - lat_a) * fraction, lon_a + (lon_b - lon_a) * fraction
        assert zone_covers(z, lat, lon), (z.zone_id, lat, lon)


def test_shapely_alone_misses_points_on_an_edge_which_is_why_there_is_a_tolerance():
    misses = 0
    for z in ALL_DEMO:
        shape = shapely.Polygon(z.polygon)
        for (lat_a, lon_a), (lat_b, lon_b) in edges(z):
            for fraction in (0.5, 0.25, 1 / 3, 0.1, 0.9):
                point = shapely.Point(lon_a + (lon_b - lon_a) * fraction, lat_a + (lat_b - lat_a) * fraction)
                misses += not shape.covers(point)
    assert misses > 0


@pytest.mark.parametrize("metres, inside", [(1.0, False), (0.01, False), (-1.0, True), (-0.01, True)])
@pytest.mark.parametrize("z", ALL_DEMO, ids=lambda z: z.zone_id)
def test_a_centimetre_across_an_edge_decides(z, metres, inside):
    for start, end in edges(z):
        midpoint = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
        assert zone_covers(z, *offset(midpoint, start, end, metres)) is inside, (z.zone_id, start, end)


@pytest.mark.parametrize("z", ALL_DEMO, ids=lambda z: z.zone_id)
def test_just_beyond_a_vertex_is_outside(z):
    centre_lat = sum(lat for _, lat in z.polygon) / len(z.polygon)
    centre_lon = sum(lon for lon, _ in z.polygon) / len(z.polygon)
    for lon, lat in z.polygon:
        away = float(initial_bearing_deg(centre_lat, centre_lon, lat, lon))
        beyond = destination(lat, lon, 0.5, away)
        assert not zone_covers(z, float(beyond[0]), float(beyond[1]))


def test_demo_launch_points_and_hotspots_are_inside_their_zone_only():
    for source in DEMO:
        for point in (source.launch, *source.hotspots):
            assert [z.zone_id for z in covering_zones(ALL_DEMO, *point, FROM)] == [source.zone_id]


def test_between_zones_is_outside_every_zone():
    rennes_station = (48.1040, -1.6722)
    assert covering_zones(ALL_DEMO, *rennes_station, FROM) == []
    assert not is_authorised(ALL_DEMO, *rennes_station, FROM)


# A "C" open to the east over Villejean: the notch is inside the hull but not the zone.
C_SHAPE = [(-1.7160, 48.1180), (-1.7050, 48.1180), (-1.7050, 48.1195), (-1.7130, 48.1195),
           (-1.7130, 48.1235), (-1.7050, 48.1235), (-1.7050, 48.1250), (-1.7160, 48.1250)]


@pytest.mark.parametrize("lat, lon, inside", [
    (48.1215, -1.7090, False),  # in the notch
    (48.1215, -1.7145, True),  # in the back of the C
    (48.1187, -1.7070, True),  # lower arm
    (48.1242, -1.7070, True),  # upper arm
    (48.1215, -1.7130, True),  # on the notch's back edge
    (48.1195, -1.7130, True),  # the reflex vertex
    (48.1195, -1.7090, True),  # on the notch's lower edge
    (48.1215, -1.71299, False),  # a metre into the notch
    (48.1215, -1.7161, False),  # 7 m west of the back
])
def test_a_concave_zone(lat, lon, inside):
    assert zone_covers(zone(C_SHAPE), lat, lon) is inside
    assert zone(C_SHAPE).polygon[0] == C_SHAPE[0]


def test_the_notch_point_is_inside_the_convex_hull_so_the_test_means_something():
    hull = shapely.Polygon(C_SHAPE).convex_hull
    assert hull.covers(shapely.Point(-1.7090, 48.1215))


# --- Validation ---------------------------------------------------------------

TRIANGLE = [(-1.70, 48.10), (-1.69, 48.10), (-1.695, 48.11)]


@pytest.mark.parametrize("changes, reason", [
    ({"polygon": [(-1.70, 48.10), (-1.69, 48.11), (-1.69, 48.10), (-1.70, 48.11)]}, "Self-intersection"),
    ({"polygon": [(-1.70, 48.10), (-1.69, 48.10)]}, "at least 3 distinct vertices, got 2"),
    ({"polygon": [(-1.70, 48.10), (-1.69, 48.10), (-1.70, 48.10), (-1.69, 48.10)]}, "at least 3 distinct"),
    ({"polygon": [(-1.70, 48.10), (-1.69, 48.10), (-1.68, 48.10)]}, "not a simple polygon"),  # collinear
    ({"polygon": [(-1.70, 91.0), (-1.69, 48.10), (-1.695, 48.11)]}, "polygon vertex 0 lat"),
    ({"polygon": [(181.0, 48.1), (-1.69, 48.10), (-1.695, 48.11)]}, "polygon vertex 0 lon"),
    ({"polygon": [(-1.70, float("nan")), (-1.69, 48.10), (-1.695, 48.11)]}, "finite"),
    ({"polygon": [(-1.70, 48.10, 3.0), (-1.69, 48.10), (-1.695, 48.11)]}, "polygon"),
    ({"polygon": [(-1.7 + i * 1e-5, 48.1 + (i % 2) * 1e-5) for i in range(MAX_VERTICES + 2)]}, "at most 1000"),
    ({"valid_until_ms": FROM}, "must be after valid_from_ms"),
    ({"valid_until_ms": FROM - 1}, "must be after valid_from_ms"),
    ({"valid_from_ms": 0}, "valid_from_ms"),
    ({"zone_id": "villejean"}, "zone_id: bad format 'villejean', expected Z-"),
    ({"zone_id": "Z-"}, "zone_id: bad format"),
    ({"name": "x" * 61}, "name: String should have at most 60 characters"),
    ({"name": "ligne 1\nligne 2"}, "name: bad format"),
    ({"name": " padded"}, "name: bad format"),
    ({"decree_ref": ""}, "decree_ref"),
    ({"decree_ref": "2026\t035"}, "decree_ref: bad format"),
    ({"surface_m2": 12}, "surface_m2: Extra inputs are not permitted"),
])
def test_a_bad_zone_is_refused_with_a_reason(changes, reason):
    fields = dict(zone_id="Z-TEST", name="Test", decree_ref="2026-11-035-PREF35", polygon=TRIANGLE,
                  valid_from_ms=FROM, valid_until_ms=UNTIL)
    fields.update(changes)
    with pytest.raises(ZoneError) as refused:
        make_zone(**fields)
    assert reason in str(refused.value)
    assert "\n" not in str(refused.value)


def test_limits_are_inclusive():
    assert zone(TRIANGLE, name="x" * 60, decree_ref="y" * 60, zone_id="Z-" + "A" * 38).name == "x" * 60
    assert zone(TRIANGLE, valid_until_ms=FROM + 1).valid_until_ms == FROM + 1


def test_closed_or_open_either_winding_is_one_and_the_same_zone():
    ccw = zone(TRIANGLE)
    closed = zone(TRIANGLE + [TRIANGLE[0]])
    clockwise = zone([TRIANGLE[0], TRIANGLE[2], TRIANGLE[1]])
    assert ccw == closed == clockwise
    assert ccw.polygon == tuple(TRIANGLE)
    assert shapely.LinearRing(ccw.polygon).is_ccw


# --- GeoJSON ------------------------------------------------------------------

def test_geojson_round_trip_of_every_demo_zone():
    for z in ALL_DEMO:
        feature = zone_to_geojson(z)
        assert zone_from_geojson(feature) == z
        ring = feature["geometry"]["coordinates"][0]
        assert ring[0] == ring[-1] and len(ring) == len(z.polygon) + 1, "GeoJSON rings are closed"
        assert shapely.LinearRing(ring).is_ccw, "RFC 7946 right-hand rule"
        assert feature["id"] == z.zone_id and feature["properties"]["decree_ref"] == "2026-11-035-PREF35"


def test_geojson_status_is_added_only_when_asked():
    z = demo_zone(0)
    assert "status" not in zone_to_geojson(z)["properties"]
    assert zone_to_geojson(z, now_ms=FROM - 1)["properties"]["status"] == "upcoming"
    assert zone_to_geojson(z, now_ms=FROM)["properties"]["status"] == "active"


def test_geojson_drawn_on_a_map_with_the_rest_typed_in_a_form():
    drawn = {"type": "Feature", "properties": {},
             "geometry": {"type": "Polygon", "coordinates": [[[*p, 35.0] for p in TRIANGLE] + [[*TRIANGLE[0], 35.0]]]}}
    z = zone_from_geojson(drawn, zone_id="Z-DRAWN", name="Drawn", decree_ref="2026-12-001-PREF35",
                          valid_from_ms=FROM, valid_until_ms=UNTIL)
    assert z.polygon == tuple(TRIANGLE), "elevation is dropped"
    overridden = zone_from_geojson(zone_to_geojson(z), name="Renamed")
    assert overridden.name == "Renamed" and overridden.zone_id == "Z-DRAWN"


@pytest.mark.parametrize("feature, reason", [
    ({"type": "Polygon", "coordinates": [TRIANGLE]}, "expected a GeoJSON Feature"),
    ({"type": "Feature", "geometry": {"type": "MultiPolygon", "coordinates": [[TRIANGLE]]}},
     "make one zone per polygon"),
    ({"type": "Feature", "geometry": {"type": "Point", "coordinates": TRIANGLE[0]}}, "got Point"),
    ({"type": "Feature", "geometry": None}, "got NoneType"),
    ({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [
        [[-1.71, 48.09], [-1.68, 48.09], [-1.68, 48.12], [-1.71, 48.12], [-1.71, 48.09]],
        [[-1.70, 48.10], [-1.69, 48.10], [-1.69, 48.11], [-1.70, 48.10]]]}}, "holes are not supported"),
    ({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[1, 2, 3]]}}, "[lon, lat]"),
    ({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": []}}, "list of rings"),
    ({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [TRIANGLE]}, "properties": {}},
     "zone_id: Field required"),
])
def test_bad_geojson_is_refused_with_a_reason(feature, reason):
    with pytest.raises(ZoneError) as refused:
        zone_from_geojson(feature)
    assert reason in str(refused.value)


# --- Time ---------------------------------------------------------------------

@pytest.mark.parametrize("t_ms, status", [
    (FROM - 1, ZoneStatus.UPCOMING), (FROM, ZoneStatus.ACTIVE), (UNTIL - 1, ZoneStatus.ACTIVE),
    (UNTIL, ZoneStatus.EXPIRED), (UNTIL + 10**9, ZoneStatus.EXPIRED),
])
def test_validity_is_half_open(t_ms, status):
    z = demo_zone(0)
    assert status_at(z, t_ms) is status
    assert (zones_valid_at([z], t_ms) == [z]) is (status is ZoneStatus.ACTIVE)
    assert is_authorised([z], *DEMO[0].launch, t_ms) is (status is ZoneStatus.ACTIVE)


def test_an_inside_point_is_covered_only_by_the_zones_valid_then():
    old = demo_zone(0, valid_from_ms=FROM - 10_000, valid_until_ms=FROM)
    new = make_zone(**{**demo_zone(0).model_dump(), "zone_id": "Z-VILLEJEAN-2"})
    launch = DEMO[0].launch
    assert covering_zones([old, new], *launch, FROM - 1) == [old]
    assert covering_zones([old, new], *launch, FROM) == [new]
    assert covering_zones([old, new], *launch, FROM - 10_001) == []


def test_a_decree_until_the_end_of_30_november_paris_time():
    until = end_of_local_day_ms(date(2026, 11, 30))
    assert until == utc_ms(2026, 11, 30, 23, 0)  # midnight in Paris is 23:00 UTC in winter
    z = demo_zone(0, valid_from_ms=utc_ms(2026, 11, 29, 19, 0), valid_until_ms=until)
    launch = DEMO[0].launch
    assert is_authorised([z], *launch, utc_ms(2026, 11, 30, 22, 59, 59) + 999), "23:59:59.999 in Paris"
    assert not is_authorised([z], *launch, until), "00:00 on 1 December in Paris"
    late_fix = utc_ms(2026, 11, 30, 23, 30)
    assert datetime.fromtimestamp(late_fix / 1000, timezone.utc).day == 30, "still 30 November in UTC..."
    assert local_date(late_fix) == date(2026, 12, 1), "...but already 1 December in Paris"
    assert not is_authorised([z], *launch, late_fix)


@pytest.mark.parametrize("day, until_utc, hours", [
    (date(2026, 3, 29), (2026, 3, 29, 22, 0), 23),  # clocks go forward at 02:00
    (date(2026, 10, 25), (2026, 10, 25, 23, 0), 25),  # clocks go back at 03:00
    (date(2026, 7, 14), (2026, 7, 14, 22, 0), 24),  # summer time: UTC+2
    (date(2026, 1, 15), (2026, 1, 15, 23, 0), 24),  # winter time: UTC+1
])
def test_local_days_across_dst_changes(day, until_utc, hours):
    assert end_of_local_day_ms(day) == utc_ms(*until_utc)
    assert end_of_local_day_ms(day) - start_of_local_day_ms(day) == hours * 3_600_000


def test_a_zone_whose_last_day_is_25_hours_long_keeps_its_last_hour():
    until = end_of_local_day_ms(date(2026, 10, 25))
    z = demo_zone(0, valid_from_ms=start_of_local_day_ms(date(2026, 10, 25)), valid_until_ms=until)
    naive_until = start_of_local_day_ms(date(2026, 10, 25)) + 86_400_000  # "a day is 24 h": wrong today
    assert is_authorised([z], *DEMO[0].launch, naive_until + 30 * 60_000), "23:30 local is still 25 October"
    assert not is_authorised([z], *DEMO[0].launch, until)


def test_a_day_starts_when_a_dst_change_skips_its_midnight():
    # Chile, 11 September 2022: 00:00 did not exist, clocks went from 23:59:59 to 01:00.
    assert start_of_local_day_ms(date(2022, 9, 11), "America/Santiago") == utc_ms(2022, 9, 11, 4, 0)
    assert end_of_local_day_ms(date(2022, 9, 10), "America/Santiago") == utc_ms(2022, 9, 11, 4, 0)


def test_local_date_follows_the_local_clock():
    assert local_date(utc_ms(2026, 6, 30, 22, 30)) == date(2026, 7, 1)
    assert local_date(utc_ms(2026, 6, 30, 21, 59)) == date(2026, 6, 30)
    assert local_date(utc_ms(2026, 6, 30, 22, 30), "UTC") == date(2026, 6, 30)


def test_demo_zones_are_convex_and_a_few_hundred_metres_wide():
    for z in ALL_DEMO:
        shape = shapely.Polygon(z.polygon)
        assert shape.convex_hull.area == pytest.approx(shape.area)
        lon_a, lat_a, lon_b, lat_b = shape.bounds
        assert 200 < haversine_m(lat_a, lon_a, lat_b, lon_b) < 2_000


# --- Several zones at once, and wall-clock times ------------------------------

def _feature(zone_id, **properties):
    ring = [[-1.70, 48.10], [-1.69, 48.10], [-1.695, 48.11], [-1.70, 48.10]]
    return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": {"zone_id": zone_id, **properties}}


def test_a_feature_collection_is_every_zone_with_properties_winning_over_defaults():
    defaults = dict(name="From the form", decree_ref="2026-01-001-PREF35", valid_from_ms=FROM, valid_until_ms=UNTIL)
    zones = zones_from_geojson({"type": "FeatureCollection",
                                "features": [_feature("Z-A"), _feature("Z-B", name="Own name")]}, defaults)
    assert [(z.zone_id, z.name) for z in zones] == [("Z-A", "From the form"), ("Z-B", "Own name")]
    assert zones_from_geojson(_feature("Z-C", **defaults))[0].zone_id == "Z-C", "a lone Feature is one zone"


@pytest.mark.parametrize("document, reason", [
    ({"type": "FeatureCollection", "features": [_feature("Z-A"), {"type": "Feature", "properties": {"zone_id": "Z-B"},
                                                                  "geometry": {"type": "MultiPolygon"}}]},
     "feature 2 of 2 (Z-B): geometry must be a Polygon, got MultiPolygon"),
    ({"type": "FeatureCollection", "features": [_feature("Z-A"), _feature("Z-A")]}, "features 1 and 2 are both Z-A"),
    ({"type": "FeatureCollection", "features": [_feature("Z-A")] * (MAX_ZONES_PER_DOCUMENT + 1)},
     f"{MAX_ZONES_PER_DOCUMENT + 1} features, at most {MAX_ZONES_PER_DOCUMENT} at once"),
    ({"type": "FeatureCollection", "features": {}}, "\"features\" must be a list"),
    ({"type": "Topology"}, "expected a GeoJSON Feature or FeatureCollection, got type 'Topology'"),
    ("Z-A", "expected a GeoJSON Feature or FeatureCollection, got a string"),
    ({"type": "FeatureCollection", "features": [["not", "a", "feature"]]},
     "the feature: expected a GeoJSON Feature"),
])
def test_a_document_with_one_bad_feature_is_refused_whole(document, reason):
    defaults = dict(name="Zone", decree_ref="2026-01-001-PREF35", valid_from_ms=FROM, valid_until_ms=UNTIL)
    with pytest.raises(ZoneError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        zones_from_geojson(document, defaults)


def test_a_field_given_nowhere_is_named_with_where_to_give_it():
    with pytest.raises(ZoneError, match=r"^the feature \(Z-A\): name, valid_until_ms missing: put them in the "
                                        r"feature's properties or fill it in the form$"):
        zones_from_geojson(_feature("Z-A", decree_ref="D", valid_from_ms=FROM), defaults_from="fill it in the form")
    with pytest.raises(TypeError):
        zones_from_geojson(_feature("Z-A"), {"colour": "red"})


@pytest.mark.parametrize("wall_clock, expected_utc", [
    (datetime(2026, 11, 30, 8, 0), utc_ms(2026, 11, 30, 7, 0)),
    (datetime(2026, 7, 1, 8, 0), utc_ms(2026, 7, 1, 6, 0)),
    (datetime(2026, 10, 25, 2, 30), utc_ms(2026, 10, 25, 0, 30)),  # shown twice: the first (summer time)
    (datetime(2026, 10, 25, 3, 0), utc_ms(2026, 10, 25, 2, 0)),
    (datetime(2026, 3, 29, 3, 0), utc_ms(2026, 3, 29, 1, 0)),
])
def test_local_wall_clock_times_in_ms(wall_clock, expected_utc):
    assert local_time_ms(wall_clock) == expected_utc


def test_a_wall_clock_time_the_clock_skips_is_refused():
    with pytest.raises(ZoneError, match="29/03/2026 02:30 does not exist on the local clock"):
        local_time_ms(datetime(2026, 3, 29, 2, 30))
    with pytest.raises(ValueError):
        local_time_ms(datetime(2026, 3, 29, 2, 30, tzinfo=timezone.utc))
