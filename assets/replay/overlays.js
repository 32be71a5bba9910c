/*
 * Replay page: what the map draws besides units.
 *
 * - Open assignments: a line from the patrol to its sighting, coloured by the patrol's status
 *   (dashed until it is on scene).
 * - Alerts open at the instant: a ring around their unit (double for critical, dashed for a
 *   warning, dim once acknowledged), as on the wall screen (common/overlays.js).
 * - Authorised zones as they were stored at the frame's instant (GET /api/replay/window gives every
 *   version stored during the window, with stored_from_ms / stored_until_ms, null when unbounded):
 *   a version is on the map, label included, only while stored_from <= t < stored_until, so an edited
 *   zone shows its old perimeter and name before the edit and the new ones after, never both. A
 *   version shown is solid while valid (decree period) at t, dashed grey before and after.
 * - A unit's whole track, when it is clicked (GET /api/replay/track: downsampled for display,
 *   always through its exact position at the instant shown); clicking it again, or another
 *   unit, takes it off.
 *
 * Units are drawn by map.js, which hands this module its layer groups and positions (setUpOverlays).
 */
import { el } from "../common/dom.js";
import { ALERT_UNIT, ringClassName, severityOf, zoneLatLngs, zoneStatus, zoneStyle } from "../common/overlays.js";
import { instantOrNull, storedAt, validPosition } from "./map_rules.js";
import { api, getJson, message, replay } from "./page.js";

let view = null; // map.js's drawing context
const lines = new Map(); // assignment id -> polyline
const rings = new Map(); // alert id -> {root, marker}
let zones = [];
let tracked = null; // {kind, id, line, points} of the unit whose whole track is drawn

export function setUpOverlays(mapView) {
  view = mapView;
}

// ---- assignment lines and alert rings ---------------------------------------------------------
function drawLines(a) {
  const seen = new Set();
  for (let i = 0; i < a.id.length; i++) {
    const from = view.position("patrols", a.patrol_id[i]);
    const to = view.position("sightings", a.sighting_id[i]);
    if (!from || !to) continue;
    seen.add(a.id[i]);
    let line = lines.get(a.id[i]);
    const status = a.state[i] === "en_route" || a.state[i] === "on_scene" ? a.state[i] : "assigned";
    if (!line) {
      line = L.polyline([from, to], { pane: "rp-lines", weight: 3, opacity: 0.85, dashArray: "10 6",
        interactive: false }).addTo(view.groups.lines);
      lines.set(a.id[i], line);
    } else {
      line.setLatLngs([from, to]);
    }
    line.setStyle({ color: view.patrolColour(status), dashArray: status === "on_scene" ? null : "10 6" });
  }
  lines.forEach(function (line, id) {
    if (!seen.has(id)) {
      line.remove();
      lines.delete(id);
    }
  });
}

function drawRings(alerts) {
  const seen = new Set();
  for (let i = 0; i < alerts.id.length; i++) {
    const kind = ALERT_UNIT[alerts.kind[i]];
    const where = (kind && view.position(kind, alerts.unit_id[i])) ||
      (validPosition(alerts.lat[i], alerts.lon[i]) ? [alerts.lat[i], alerts.lon[i]] : null);
    if (!where) continue;
    const className = ringClassName(severityOf(alerts.severity[i]), alerts.state[i] === "acknowledged");
    seen.add(alerts.id[i]);
    let ring = rings.get(alerts.id[i]);
    if (!ring) {
      const root = el("div", className);
      root.dataset.ringFor = alerts.id[i];
      ring = { root: root, marker: L.marker(where, { icon: L.divIcon({ className: "ring-icon", html: root,
        iconSize: [0, 0] }), pane: "rp-rings", interactive: false, keyboard: false }).addTo(view.groups.rings) };
      rings.set(alerts.id[i], ring);
    } else {
      ring.marker.setLatLng(where);
    }
    if (ring.root.className !== className) ring.root.className = className;
  }
  rings.forEach(function (ring, id) {
    if (!seen.has(id)) {
      ring.marker.remove();
      rings.delete(id);
    }
  });
}

// ---- zones ----------------------------------------------------------------------------------------
/* Each version is built off the map; styleZones adds it (and so its permanent tooltip, which
   Leaflet opens on add and closes on remove) only at the instants it was stored. */
export function setZones(features) {
  view.groups.zones.clearLayers();
  zones = (features || []).map(function (zone) {
    const latlngs = zoneLatLngs(zone);
    if (latlngs === null) return null;
    const polygon = L.polygon(latlngs, { pane: "rp-zones", interactive: false });
    const p = zone.properties || {};
    const label = el("div", "zone-name", p.name || zone.id);
    label.dataset.zoneId = String(p.zone_id || zone.id || "");
    polygon.bindTooltip(label, { permanent: true, direction: "center", className: "zone-label", interactive: false });
    return { polygon: polygon, from: p.valid_from_ms, until: p.valid_until_ms, status: null, shown: false,
      storedFrom: instantOrNull(p.stored_from_ms), storedUntil: instantOrNull(p.stored_until_ms) };
  }).filter(Boolean);
}

function styleZones(t) {
  // Hide first, then show: the map never holds two versions of one zone, even for one call.
  zones.forEach(function (zone) {
    if (zone.shown && !storedAt(zone, t)) {
      view.groups.zones.removeLayer(zone.polygon);
      zone.shown = false;
    }
  });
  zones.forEach(function (zone) {
    if (!storedAt(zone, t)) return;
    if (!zone.shown) {
      view.groups.zones.addLayer(zone.polygon);
      zone.shown = true;
    }
    const status = zoneStatus(t, zone.from, zone.until);
    if (status === zone.status) return;
    zone.status = status;
    zone.polygon.setStyle(zoneStyle(status, view.colour));
  });
}

/** The zones' extent, null when there are none: the first frame is fitted to it and the units. */
export function zoneBounds() {
  if (!zones.length) return null;
  const bounds = L.latLngBounds([]);
  zones.forEach(function (zone) { bounds.extend(zone.polygon.getBounds()); });
  return bounds;
}

// ---- a unit's whole track ---------------------------------------------------------------------
/** Draws the whole track of a drone or patrol ("drones" / "patrols"), or takes it off if it is drawn. */
export function toggleTrack(kind, id) {
  const same = tracked && tracked.kind === kind && tracked.id === id;
  clearTrack();
  if (same) return;
  tracked = { kind: kind, id: id, line: null };
  const mine = tracked;
  const entry = view.entry(kind, id);
  if (entry && entry.root) entry.root.classList.add("is-tracked");
  const generation = replay.generation;
  getJson(api("track", { kind: kind === "drones" ? "drone" : "patrol", id: id, t: replay.state.t })).then(function (reply) {
    if (tracked !== mine || generation !== replay.generation) return;
    if (reply.status !== 200) {
      message((reply.body && reply.body.error) || "No track", "refused");
      return;
    }
    const latlngs = reply.body.coordinates.map(function (p) { return [p[1], p[0]]; });
    mine.points = latlngs.length;
    mine.line = L.polyline(latlngs, { pane: "rp-lines", color: view.colour("--c-line"), weight: 3, opacity: 0.8,
      dashArray: "2 6", lineCap: "round", interactive: false }).addTo(view.groups.track);
  });
}

function clearTrack() {
  if (!tracked) return;
  if (tracked.line) tracked.line.remove();
  const entry = view.entry(tracked.kind, tracked.id);
  if (entry && entry.root) entry.root.classList.remove("is-tracked");
  tracked = null;
}

/** The frame's lines, rings and zones. */
export function drawOverlays(frame) {
  drawLines(frame.assignments);
  drawRings(frame.alerts);
  styleZones(frame.t);
}

export function clearOverlays() {
  clearTrack();
  lines.clear();
  rings.clear();
  zones = [];
}

/** How many "lines", "rings" or zone versions ("zones") are on the map now. */
export function overlayCount(what) {
  if (what === "lines") return lines.size;
  if (what === "rings") return rings.size;
  return zones.filter(function (zone) { return zone.shown; }).length;
}

/** The unit whose track is drawn: {kind, id, points}, or null. */
export function trackedUnit() {
  return tracked ? { kind: tracked.kind, id: tracked.id, points: tracked.points || 0 } : null;
}
