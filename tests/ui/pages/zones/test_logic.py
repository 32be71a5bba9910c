"""The zones page's plain functions: the form, the drawing and the uploaded file -> zones, with the exact
words an administrator reads when something must be fixed; the table's text and the map's looks.

Times are Paris times (the product's default zone): 30 November is in winter time (UTC+1); 25 October
2026 is the night clocks go back (a 25-hour day), 29 March 2026 the night they go forward (23 hours).
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone

import pytest

from dispatch.domain.zones import make_zone
from dispatch.ui.pages.zones import logic as C
from dispatch.ui.pages.zones.layout import table_rows, zone_grid

TZ = "Europe/Paris"
SQUARE = [[-1.70, 48.10], [-1.66, 48.10], [-1.66, 48.12], [-1.70, 48.12]]
HOUR = 3_600_000


def utc_ms(*args) -> int:
    return int(datetime(*args, tzinfo=timezone.utc).timestamp() * 1000)


def form(**changes) -> dict:
    values = dict(zone_id="Z-VILLEJEAN", name="Villejean - Kennedy", decree_ref="2026-11-035-PREF35",
                  valid_from="2026-11-30T08:00", valid_until="2026-11-30", polygon=SQUARE, tz=TZ)
    values.update(changes)
    return values


def refusal(**changes) -> str:
    with pytest.raises(C.ZoneRefused) as caught:
        C.zone_from_form(**form(**changes))
    return str(caught.value)


def data_url(content: str | bytes, mime: str = "application/geo+json") -> str:
    raw = content.encode() if isinstance(content, str) else content
    return f"data:{mime};base64,{base64.b64encode(raw).decode()}"


def feature(coordinates=None, geometry_type="Polygon", **properties) -> dict:
    return {"type": "Feature", "properties": properties,
            "geometry": {"type": geometry_type, "coordinates": coordinates or [SQUARE + [SQUARE[0]]]}}


FULL = dict(zone_id="Z-GARE", name="Gare", decree_ref="2026-11-036-PREF35", valid_from_ms=utc_ms(2026, 11, 1),
            valid_until_ms=utc_ms(2026, 12, 1))


# ----------------------------------------------------------------------------- the form


def test_a_good_form_is_a_zone_valid_through_the_end_of_its_last_local_day():
    zone = C.zone_from_form(**form(zone_id="  z-villejean "))
    assert zone.zone_id == "Z-VILLEJEAN", "typed in lower case with blanks: still the one id"
    assert zone.valid_from_ms == utc_ms(2026, 11, 30, 7, 0), "08:00 in Paris is 07:00 UTC in winter"
    assert zone.valid_until_ms == utc_ms(2026, 11, 30, 23, 0), "through 23:59:59.999 in Paris, midnight exclusive"
    assert len(zone.polygon) == 4 and zone.decree_ref == "2026-11-035-PREF35"


@pytest.mark.parametrize("changes, message", [
    (dict(zone_id="VILLEJEAN"),
     "zone id: bad format 'VILLEJEAN', expected Z- then capitals, digits or '-', e.g. Z-VILLEJEAN"),
    (dict(zone_id="Z-VILLE JEAN"),
     "zone id: bad format 'Z-VILLE JEAN', expected Z- then capitals, digits or '-', e.g. Z-VILLEJEAN"),
    (dict(zone_id=""), "zone id: required, e.g. Z-VILLEJEAN"),
    (dict(name="   "), "name: required, e.g. Villejean - Kennedy"),
    (dict(name=None), "name: required, e.g. Villejean - Kennedy"),
    (dict(decree_ref=""), "decree reference: required, e.g. 2026-11-035-PREF35"),
    (dict(decree_ref="2026-11\x07"),
     "decree reference: bad format '2026-11\\x07', expected one line of text without leading or trailing blanks"),
    (dict(name="x" * 61), "name: String should have at most 60 characters"),
    (dict(valid_from=""), "valid from: required (date and time the decree starts)"),
    (dict(valid_until=None), "valid until: required (the decree's last day)"),
    (dict(valid_from="30/11/2026 08:00"),
     "valid from: '30/11/2026 08:00' is not a date and time: pick one, e.g. 30/11/2026 08:00"),
    (dict(valid_until="2026-02-30"),
     "valid until: '2026-02-30' is not a date: pick the decree's last day, e.g. 30/11/2026"),
    (dict(valid_until="2026-11-29"),
     "valid until: 29/11/2026 23:59 is not after valid from (30/11/2026 08:00): give the decree's last day"),
    (dict(valid_from="2026-03-29T02:30", valid_until="2026-03-30"),
     "valid from: 29/03/2026 02:30 does not exist on the local clock (the clocks go forward then): "
     "give a time after the change"),
    (dict(polygon=None), "draw the perimeter on the map or import a GeoJSON file first"),
    (dict(polygon=[[-1.70, 48.10], [-1.66, 48.12], [-1.66, 48.10], [-1.70, 48.12]]),
     "polygon: not a simple polygon (Self-intersection[-1.68 48.11]): edges must not cross or touch, "
     "and it must enclose an area"),
])
def test_a_bad_form_is_refused_saying_what_to_fix(changes, message):
    assert refusal(**changes) == message


def test_the_night_clocks_go_back_the_last_day_lasts_25_hours():
    zone = C.zone_from_form(**form(valid_from="2026-10-25T00:00", valid_until="2026-10-25"))
    assert zone.valid_from_ms == utc_ms(2026, 10, 24, 22, 0), "midnight is still summer time (UTC+2)"
    assert zone.valid_until_ms == utc_ms(2026, 10, 25, 23, 0), "the next midnight is winter time (UTC+1)"
    assert zone.valid_until_ms - zone.valid_from_ms == 25 * HOUR
    twice = C.zone_from_form(**form(valid_from="2026-10-25T02:30", valid_until="2026-10-25"))
    assert twice.valid_from_ms == utc_ms(2026, 10, 25, 0, 30), "02:30 shown twice: the first, in summer time"


def test_the_night_clocks_go_forward_the_last_day_lasts_23_hours():
    zone = C.zone_from_form(**form(valid_from="2026-03-29T00:00", valid_until="2026-03-29"))
    assert zone.valid_until_ms - zone.valid_from_ms == 23 * HOUR


def test_a_decree_starting_late_in_the_evening_runs_past_midnight_to_the_end_of_its_last_day():
    zone = C.zone_from_form(**form(valid_from="2026-11-30T23:30", valid_until="2026-12-01"))
    assert zone.valid_from_ms == utc_ms(2026, 11, 30, 22, 30)
    assert zone.valid_until_ms == utc_ms(2026, 12, 1, 23, 0), "24 h 30 min: through the end of 1 December"
    same_day = C.zone_from_form(**form(valid_from="2026-11-30T23:30", valid_until="2026-11-30"))
    assert same_day.valid_until_ms - same_day.valid_from_ms == 30 * 60_000, "its last half hour still counts"


def test_editing_keeps_exact_instants_the_form_cannot_show_unless_they_are_changed():
    zone = make_zone(**{**FULL, "valid_from_ms": utc_ms(2026, 11, 1, 7, 0, 30), "valid_until_ms":
                        utc_ms(2026, 11, 30, 17, 0) + 500}, polygon=SQUARE)
    state = C.editing_state(zone, TZ)
    assert (state["from_text"], state["until_text"]) == ("2026-11-01T08:00", "2026-11-30")
    fields = dict(zone_id=state["zone_id"], name="Gare (renamed)", decree_ref=state["decree_ref"],
                  valid_from=state["from_text"], valid_until=state["until_text"], tz=TZ)
    kept = C.zone_from_form(**fields, polygon=state["polygon"], editing=state)
    assert (kept.valid_from_ms, kept.valid_until_ms, kept.polygon) == (zone.valid_from_ms, zone.valid_until_ms,
                                                                       zone.polygon)
    assert kept.name == "Gare (renamed)"
    moved = C.zone_from_form(**{**fields, "valid_until": "2026-12-31"}, polygon=state["polygon"], editing=state)
    assert moved.valid_until_ms == utc_ms(2026, 12, 31, 23, 0) and moved.valid_from_ms == zone.valid_from_ms


def test_form_defaults_are_only_the_fields_filled_and_bad_dates_are_refused():
    assert C.form_defaults(zone_id="", name=" Gare ", decree_ref=None, valid_from="2026-11-30T08:00",
                           valid_until="", tz=TZ) == {"name": "Gare", "valid_from_ms": utc_ms(2026, 11, 30, 7)}
    with pytest.raises(C.ZoneRefused, match="valid until: 'soon' is not a date"):
        C.form_defaults(zone_id="", name="", decree_ref="", valid_from="", valid_until="soon", tz=TZ)


# ----------------------------------------------------------------------------- the drawing


def drawn(*rings) -> dict:
    """What dash-leaflet's EditControl reports after shapes are drawn (closed rings, leaflet properties)."""
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"type": "polygon", "_leaflet_id": 60 + n},
         "geometry": {"type": "Polygon", "coordinates": [ring + [ring[0]]]}} for n, ring in enumerate(rings)]}


def test_the_last_shape_drawn_is_the_perimeter():
    triangle = SQUARE[:3]
    assert C.perimeter(drawn(SQUARE)) == (SQUARE + [SQUARE[0]], "polygon: 4 vertices drawn")
    ring, note = C.perimeter(drawn(SQUARE, triangle))
    assert ring == triangle + [triangle[0]] and note == "polygon: 3 vertices drawn (the last of 2 shapes drawn is used)"


def test_without_a_drawing_the_edited_zone_keeps_its_perimeter_else_the_form_asks_for_one():
    editing = {"zone_id": "Z-GARE", "polygon": SQUARE}
    assert C.perimeter({"features": []}, editing) == (
        SQUARE, "polygon: 4 vertices, kept from Z-GARE (draw a new one to replace it)")
    assert C.perimeter(drawn(SQUARE[:3]), editing)[1] == "polygon: 3 vertices drawn", "a new drawing wins"
    for nothing in (None, {}, {"features": []}, {"features": [{"geometry": {"type": "Point"}}]}, "junk"):
        assert C.perimeter(nothing) == (None, C.DRAW_HINT)


# ----------------------------------------------------------------------------- the uploaded file


def test_a_feature_with_every_property_is_one_zone():
    [zone] = C.zones_from_upload(data_url(json.dumps(feature(**FULL))), "gare.geojson")
    assert (zone.zone_id, zone.name, zone.valid_until_ms) == ("Z-GARE", "Gare", FULL["valid_until_ms"])


def test_a_feature_collection_takes_what_its_features_lack_from_the_form():
    collection = {"type": "FeatureCollection", "features": [
        feature(zone_id="Z-A", name="A"), feature(zone_id="Z-B", name="B", decree_ref="OWN-DECREE")]}
    defaults = C.form_defaults(zone_id="", name="ignored", decree_ref="2026-11-035-PREF35",
                               valid_from="2026-11-30T08:00", valid_until="2026-12-31", tz=TZ)
    zones = C.zones_from_upload(data_url(json.dumps(collection), "application/json"), "rennes.json", defaults)
    assert [(z.zone_id, z.name, z.decree_ref) for z in zones] == [("Z-A", "A", "2026-11-035-PREF35"),
                                                                 ("Z-B", "B", "OWN-DECREE")]
    assert {z.valid_until_ms for z in zones} == {utc_ms(2026, 12, 31, 23)}


MULTI = [[SQUARE + [SQUARE[0]]], [[[-1.6, 48.1], [-1.59, 48.1], [-1.59, 48.11], [-1.6, 48.1]]]]
HOLE = [SQUARE + [SQUARE[0]], [[-1.69, 48.105], [-1.68, 48.105], [-1.68, 48.11], [-1.69, 48.105]]]


@pytest.mark.parametrize("content, message", [
    (json.dumps({"type": "FeatureCollection", "features": [feature(**FULL), feature(MULTI, "MultiPolygon",
                                                                                   **{**FULL, "zone_id": "Z-B"})]}),
     "zones.geojson refused, nothing imported: feature 2 of 2 (Z-B): geometry must be a Polygon, got MultiPolygon; "
     "make one zone per polygon"),
    (json.dumps(feature(HOLE, **FULL)),
     "zones.geojson refused, nothing imported: the feature (Z-GARE): the polygon has 1 hole(s); holes are not "
     "supported, describe the authorised area without them"),
    (json.dumps({"type": "FeatureCollection", "features": [feature(**FULL), feature(**FULL)]}),
     "zones.geojson refused, nothing imported: features 1 and 2 are both Z-GARE: give each feature its own zone_id "
     "(the second would replace the first)"),
    (json.dumps({"type": "FeatureCollection", "features": [feature(zone_id="Z-A", name="A"), feature(**FULL)]}),
     "zones.geojson refused, nothing imported: feature 1 of 2 (Z-A): decree_ref, valid_from_ms, valid_until_ms "
     "missing: put them in the feature's properties or fill it in the form"),
    (json.dumps(feature(**{**FULL, "decree_ref": " padded"})),
     "zones.geojson refused, nothing imported: the feature (Z-GARE): decree reference: bad format ' padded', "
     "expected one line of text without leading or trailing blanks"),
    (json.dumps({"type": "FeatureCollection", "features": []}),
     "zones.geojson refused, nothing imported: the FeatureCollection holds no feature"),
    (json.dumps({"type": "Polygon", "coordinates": [SQUARE]}),
     "zones.geojson refused, nothing imported: expected a GeoJSON Feature or FeatureCollection, got a bare "
     "Polygon: wrap it in a Feature"),
    (json.dumps([feature(**FULL)]),
     "zones.geojson refused, nothing imported: expected a GeoJSON Feature or FeatureCollection, got a list"),
    ('{"type": "Feature" "geometry": {}}', "zones.geojson is not valid JSON: Expecting ',' delimiter at line 1, "
                                          "column 20"),
    ('{"type": "Feature", "properties": {"valid_from_ms": NaN}}',
     "zones.geojson is not valid JSON: NaN is not a number JSON allows"),
    ("  \n", "zones.geojson is empty: choose the GeoJSON file of the zones"),
])
def test_a_bad_file_is_refused_whole_naming_the_feature_and_the_problem(content, message):
    with pytest.raises(C.ZoneRefused) as caught:
        C.zones_from_upload(data_url(content), "zones.geojson")
    assert str(caught.value) == message


def test_an_oversized_or_unreadable_file_is_refused_before_parsing():
    big = json.dumps(feature(**FULL, padding="x" * 1_200_000))
    with pytest.raises(C.ZoneRefused) as caught:
        C.zones_from_upload(data_url(big), "big.geojson")
    assert str(caught.value) == "big.geojson is 1.2 MB: at most 1 MB. Simplify the perimeters or split the file."
    just_under = json.dumps(feature(**FULL, padding="x" * (C.MAX_UPLOAD_BYTES - 600)))
    assert len(just_under) <= C.MAX_UPLOAD_BYTES and C.zones_from_upload(data_url(just_under), "ok.geojson")
    for contents, reason in (("not a data url", "could not be read: choose the file again"),
                             ("data:application/json;base64,@@@@", "could not be read: choose the file again"),
                             (data_url(b"\xff\xfe\x00G"), "is not a text file: export the zones as GeoJSON (UTF-8)")):
        with pytest.raises(C.ZoneRefused, match=reason.replace("(", r"\(").replace(")", r"\)")):
            C.zones_from_upload(contents, "z.geojson")
    with pytest.raises(C.ZoneRefused, match="^the file could not be read"):
        C.zones_from_upload(None, None)


def test_a_utf8_file_with_a_byte_order_mark_is_read():
    [zone] = C.zones_from_upload(data_url(b"\xef\xbb\xbf" + json.dumps(feature(**{**FULL, "name": "Gare Sud-Est"}),
                                                                       ensure_ascii=False).encode()), "bom.geojson")
    assert zone.name == "Gare Sud-Est"


# ----------------------------------------------------------------------------- what the page says


NOW = utc_ms(2026, 11, 15, 12)


def zone(valid_from_ms, valid_until_ms, **changes):
    return make_zone(**{**FULL, "valid_from_ms": valid_from_ms, "valid_until_ms": valid_until_ms, **changes},
                     polygon=SQUARE)


@pytest.mark.parametrize("valid_from_ms, valid_until_ms, replaced, message", [
    (utc_ms(2026, 11, 1), utc_ms(2026, 11, 30, 23), False, "Z-GARE saved: active until 30/11 23:59"),
    (utc_ms(2026, 11, 1), utc_ms(2026, 11, 30, 17), True, "Z-GARE replaced: active until 30/11 18:00"),
    (utc_ms(2026, 11, 20, 7), utc_ms(2027, 1, 31, 23), False,
     "Z-GARE saved: not yet valid: from 20/11/2026 08:00 until 31/01/2027 23:59"),
    (utc_ms(2026, 10, 1), utc_ms(2026, 11, 10, 23), False,
     "Z-GARE saved: expired since 10/11 23:59: drones are not authorised there"),
])
def test_saved_messages_say_the_status_in_local_time(valid_from_ms, valid_until_ms, replaced, message):
    assert C.saved_message(zone(valid_from_ms, valid_until_ms), NOW, TZ, replaced=replaced) == message


def test_imported_message_lists_each_zone_new_or_replaced():
    zones = [zone(utc_ms(2026, 11, 1), utc_ms(2026, 11, 30, 23)),
             zone(utc_ms(2026, 10, 1), utc_ms(2026, 11, 10, 23), zone_id="Z-OLD")]
    assert C.imported_message(zones, {"Z-OLD"}, "rennes.geojson", NOW, TZ) == (
        "2 zones imported from rennes.geojson: Z-GARE (new, active until 30/11 23:59), "
        "Z-OLD (replaced, expired since 10/11 23:59)")


def test_table_rows_are_text_in_local_time_with_a_status_word():
    rows = C.zone_rows([zone(utc_ms(2026, 11, 1, 7), utc_ms(2026, 11, 30, 23)),
                        zone(utc_ms(2026, 10, 1), utc_ms(2026, 11, 10, 23), zone_id="Z-OLD")], NOW, TZ)
    assert rows[0] == C.ZoneRow("Z-GARE", "Gare", "2026-11-036-PREF35", "01/11/2026 08:00", "30/11/2026 23:59",
                                "active", "active", 4)
    assert (rows[1].status, rows[1].status_text) == ("expired", "expired")


def test_the_map_draws_each_status_with_its_own_dash_pattern_and_words():
    hostile = '<img src=x onerror="window.__xss=1">'
    active = C.zone_layer(zone(utc_ms(2026, 11, 1), utc_ms(2026, 11, 30, 23), name=hostile), NOW, TZ)
    expired = C.zone_layer(zone(utc_ms(2026, 10, 1), utc_ms(2026, 11, 10, 23)), NOW, TZ)
    upcoming = C.zone_layer(zone(utc_ms(2026, 11, 20, 7), utc_ms(2026, 11, 30, 23)), NOW, TZ)
    styles = [layer.pathOptions for layer in (active, upcoming, expired)]
    assert [s["dashArray"] for s in styles] == [None, "10 8", "4 8"], "never colour alone"
    assert active.positions[0] == [48.10, -1.70], "Leaflet wants [lat, lon]"
    label = active.children.children
    assert label.children[0].children == hostile, "the name stays a text child (React escapes it)"
    assert label.children[1].children == "Z-GARE · authorised until 30/11 23:59"
    assert expired.children.children.children[1].children == "Z-GARE · EXPIRED · 10/11 23:59"
    assert upcoming.children.children.children[1].children == "Z-GARE · NOT YET VALID · from 20/11 08:00"
    assert active.id != C.zone_layer(zone(utc_ms(2026, 11, 1), utc_ms(2026, 11, 30, 23)), utc_ms(2026, 12, 2), TZ).id


def test_the_table_has_edit_and_delete_per_zone_and_a_sentence_when_empty():
    [row] = table_rows(C.zone_rows([zone(utc_ms(2026, 11, 1), utc_ms(2026, 11, 30, 23))], NOW, TZ))
    assert [(b["label"], b["action"], b["ariaLabel"]) for b in row["buttons"]] == [
        ("Edit", "edit", "Edit Z-GARE"), ("Delete", "delete", "Delete Z-GARE")]
    assert row["zone_id"] == "Z-GARE" and table_rows([]) == []
    assert zone_grid().dashGridOptions["localeText"]["noRowsToShow"] == (
        "No zone yet: draw one on the map or import a GeoJSON file.")


def test_the_viewport_frames_every_zone():
    far = [[2.30, 48.85], [2.31, 48.85], [2.31, 48.86]]
    viewport = C.fit_viewport([zone(1, 2), make_zone(**{**FULL, "zone_id": "Z-PARIS"}, polygon=far)])
    assert viewport["bounds"] == [[48.10, -1.70], [48.86, 2.31]]


@pytest.mark.parametrize("size, text", [(1_000_000, "1 MB"), (1_240_000, "1.2 MB"), (350_400, "350 kB"),
                                        (99_600, "100 kB"), (12, "1 kB")])
def test_sizes_read_naturally(size, text):
    assert C.size_text(size) == text
