// assets/common/overlays.js: zone validity and styling, alert rings, shared by the wall screen and the replay.
import { test } from "node:test";
import assert from "node:assert/strict";

import {
  ALERT_UNIT, MAP_COLOUR_NAMES, ZONE_STYLE, readMapColours, ringClassName, severityOf, zoneLatLngs, zoneStatus, zoneStyle
} from "../../../assets/common/overlays.js";

test("a zone is valid from its first instant and no longer at its last", () => {
  assert.equal(zoneStatus(999, 1000, 2000), "upcoming");
  assert.equal(zoneStatus(1000, 1000, 2000), "active");
  assert.equal(zoneStatus(1999, 1000, 2000), "active");
  assert.equal(zoneStatus(2000, 1000, 2000), "expired");
});

test("a valid zone is solid in the zone colour; otherwise dashed in the muted one", () => {
  const colours = { "--c-zone": "#0f0", "--c-muted-zone": "#888" };
  const colourOf = (name) => colours[name];
  const active = zoneStyle("active", colourOf);
  assert.deepEqual(active, { color: "#0f0", fillColor: "#0f0", dashArray: null, weight: 3, fillOpacity: 0.07, opacity: 0.9 });
  for (const status of ["upcoming", "expired"]) {
    const style = zoneStyle(status, colourOf);
    assert.equal(style.color, "#888");
    assert.ok(style.dashArray, `${status} is dashed: never told by colour alone`);
    assert.notEqual(style.dashArray, active.dashArray);
  }
  assert.notEqual(ZONE_STYLE.upcoming.dashArray, ZONE_STYLE.expired.dashArray, "before and after look different");
});

test("styling does not change the shared style table", () => {
  zoneStyle("active", () => "#123");
  assert.equal(ZONE_STYLE.active.color, undefined);
});

test("a zone's ring becomes Leaflet's [lat, lon] order; a zone without a polygon has none", () => {
  const zone = { geometry: { type: "Polygon", coordinates: [[[-1.68, 48.11], ["-1.67", "48.12"], [-1.68, 48.11]]] } };
  assert.deepEqual(zoneLatLngs(zone), [[48.11, -1.68], [48.12, -1.67], [48.11, -1.68]]);
  assert.equal(zoneLatLngs({ geometry: { type: "Point", coordinates: [-1.68, 48.11] } }), null);
  assert.equal(zoneLatLngs({ geometry: { type: "Polygon", coordinates: [] } }), null);
  assert.equal(zoneLatLngs({}), null);
  assert.equal(zoneLatLngs(null), null);
});

test("an unknown severity reads as info, and the ring's classes say severity and acknowledgement", () => {
  assert.equal(severityOf("critical"), "critical");
  assert.equal(severityOf("warning"), "warning");
  assert.equal(severityOf("toString"), "info");
  assert.equal(severityOf(undefined), "info");
  assert.equal(ringClassName("critical", false), "ring is-critical");
  assert.equal(ringClassName("warning", true), "ring is-warning is-acknowledged");
  assert.equal(ringClassName("<script>", false), "ring is-info");
});

test("alerts are drawn around the unit they are about", () => {
  assert.equal(ALERT_UNIT.link_lost, "drones");
  assert.equal(ALERT_UNIT.patrol_stale, "patrols");
  assert.equal(ALERT_UNIT.sighting_unassigned, "sightings");
  assert.equal(ALERT_UNIT.unknown_kind, undefined);
});

test("the map's colours are read trimmed from the page's custom properties", () => {
  const style = { getPropertyValue: (name) => ` ${name.slice(4)} ` };
  const colours = readMapColours(style);
  assert.deepEqual(Object.keys(colours), MAP_COLOUR_NAMES);
  assert.equal(colours["--c-zone"], "zone");
});

test("a zone without bounds is never shown as authorised", () => {
  assert.equal(zoneStatus(150, undefined, undefined), "expired");
  assert.equal(zoneStatus(150, null, undefined), "expired");
});
