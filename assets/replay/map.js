/*
 * Replay page: one frame drawn on the map.
 *
 * Raw Leaflet layers on the dash-leaflet map, as on the wall screen, in the same vocabulary
 * (style.css glyphs, layers.py rules): a frame is the whole picture at one instant, and each unit
 * keeps its marker from one frame to the next, moved with setLatLng and restyled with a class swap;
 * only units that appear or vanish create or remove a marker. Dash never re-renders the map.
 *
 * Drones: an arrow turned to the heading, with its trail (the last minute, as the server sent
 * it, ending exactly at the drone), "link lost" / "low battery" judged at the frame's instant
 * by the alert watcher's thresholds (map_rules.js). Patrols: shape AND colour by status (beyond
 * rules.patrols_on_canvas_above on one canvas, common/map_shapes.js). Sightings open at that instant:
 * pins by priority with the category letter. Lines, rings, zones and tracks: overlays.js.
 *
 * Marker roots carry data-unit-id, data-kind, data-status, data-lat and data-lon (the browser
 * tests read them); mapPosition(kind, id) answers for canvas patrols too.
 */
import { el } from "../common/dom.js";
import { shapeMarker } from "../common/map_shapes.js";
import { readMapColours } from "../common/overlays.js";
import { PATROL_SHAPES, droneLook, patrolStatus, sightingDetail, sightingLook, validPosition } from "./map_rules.js";
import { clearOverlays, drawOverlays, overlayCount, setUpOverlays, setZones, toggleTrack, zoneBounds } from "./overlays.js";

const MAP_CLASS = "replay-map"; // dispatch/ui/replay/layout.py MAP_CLASS
const KINDS = ["drones", "patrols", "sightings"];

let map = null;
let rules = null;
let ready = false;
const groups = {};
const drawn = { drones: new Map(), patrols: new Map(), sightings: new Map() };
let colours = {};
let trailRenderer = null;
let patrolRenderer = null;
let patrolMode = "dom";
let fitted = false;

// dash-leaflet creates the map when Dash renders the page, after this module ran: claim it then.
L.Map.addInitHook(function () {
  const container = this.getContainer();
  if (container && container.classList && container.classList.contains(MAP_CLASS)) {
    map = this;
    setUp();
  }
});

function setUp() {
  if (ready || map === null || rules === null) return;
  ready = true;
  colours = readMapColours(getComputedStyle(document.documentElement));
  [["rp-zones", 350], ["rp-trails", 380], ["rp-lines", 390], ["rp-patrols", 420], ["rp-rings", 590]]
    .forEach(function (pane) { map.createPane(pane[0]).style.zIndex = pane[1]; });
  ["rp-trails", "rp-lines", "rp-rings"].forEach(function (pane) { map.getPane(pane).style.pointerEvents = "none"; });
  trailRenderer = L.canvas({ pane: "rp-trails" });
  patrolRenderer = L.canvas({ pane: "rp-patrols", tolerance: 4 });
  ["zones", "trails", "track", "lines", "patrols", "sightings", "drones", "rings"].forEach(function (name) {
    groups[name] = L.layerGroup().addTo(map);
  });
  setUpOverlays(view);
}

// ---- markers -------------------------------------------------------------------------------------
function markerRoot(kind, id, glyphClasses, letter) {
  const root = el("div", "unit unit-" + kind);
  root.dataset.unitId = id;
  root.dataset.kind = kind;
  const wrap = el("span", "glyph-wrap");
  const glyph = el("span", "glyph " + glyphClasses);
  if (letter) glyph.appendChild(el("span", "pin-letter", letter));
  wrap.appendChild(glyph);
  const name = el("span", "unit-name", id);
  const detail = el("span", "unit-detail");
  const label = el("span", "unit-label");
  label.append(name, document.createTextNode(" "), detail);
  root.append(wrap, label);
  return { root: root, glyph: glyph, name: name, detail: detail };
}

function domMarker(latlng, root, zIndexOffset, group, onClick) {
  const icon = L.divIcon({ className: "unit-icon", html: root, iconSize: [0, 0] });
  const marker = L.marker(latlng, { icon: icon, zIndexOffset: zIndexOffset, keyboard: false, interactive: !!onClick,
    bubblingMouseEvents: false });
  if (onClick) marker.on("click", onClick);
  return marker.addTo(group);
}

function setStatus(entry, status) {
  if (entry.status === status) return;
  if (entry.glyph) {
    if (entry.status !== undefined) entry.glyph.classList.remove("is-" + entry.status);
    entry.glyph.classList.add("is-" + status);
    entry.root.dataset.status = status;
  }
  entry.status = status;
}

/* Create, move or keep a unit's marker; `create(id, latlng)` returns a new entry. */
function place(kind, id, lat, lon, create) {
  let entry = drawn[kind].get(id);
  if (!entry) {
    entry = create(id, [lat, lon]);
    drawn[kind].set(id, entry);
  } else if (entry.lat !== lat || entry.lon !== lon) {
    entry.marker.setLatLng([lat, lon]);
  }
  entry.lat = lat;
  entry.lon = lon;
  entry.seen = true;
  if (entry.root) {
    entry.root.dataset.lat = String(lat);
    entry.root.dataset.lon = String(lon);
  }
  return entry;
}

function sweep(kind) {
  drawn[kind].forEach(function (entry, id) {
    if (entry.seen) {
      entry.seen = false;
      return;
    }
    entry.marker.remove();
    if (entry.trail) entry.trail.remove();
    drawn[kind].delete(id);
  });
}

// ---- drones ---------------------------------------------------------------------------------------
function drawDrones(d, t) {
  for (let i = 0; i < d.id.length; i++) {
    if (!validPosition(d.lat[i], d.lon[i])) continue;
    const entry = place("drones", d.id[i], d.lat[i], d.lon[i], function (id, latlng) {
      const parts = markerRoot("drone", id, "glyph-drone", "");
      parts.marker = domMarker(latlng, parts.root, 1000, groups.drones, function () { toggleTrack("drones", id); });
      parts.trail = L.polyline([], { renderer: trailRenderer, color: colours["--c-trail"], weight: 3,
        opacity: 0.55, interactive: false }).addTo(groups.trails);
      return parts;
    });
    entry.trail.setLatLngs((d.trail[i] || []).map(function (p) { return [p[1], p[0]]; }));
    entry.glyph.style.transform = "rotate(" + (Number(d.heading[i]) || 0) + "deg)";
    const look = droneLook(t, d.ts[i], d.battery[i], rules);
    setStatus(entry, look.status);
    entry.root.classList.toggle("is-warn", look.status !== "ok");
    entry.detail.textContent = look.detail;
  }
  sweep("drones");
}

// ---- patrols --------------------------------------------------------------------------------------
function patrolColour(status) {
  return colours["--c-" + status.replace("_", "-")] || colours["--c-unavailable"];
}

function domPatrol(id, latlng) {
  const parts = markerRoot("patrol", id, "glyph-patrol", "");
  parts.marker = domMarker(latlng, parts.root, 2000, groups.patrols, function () { toggleTrack("patrols", id); });
  return parts;
}

function canvasPatrol(id, latlng) {
  const marker = shapeMarker(latlng, { renderer: patrolRenderer, radius: 6, shape: "circle", weight: 1.5,
    color: "#000", opacity: 0.9, fillOpacity: 0.95, bubblingMouseEvents: false });
  marker.bindTooltip(function () { return el("span", "unit-name", id); }, { direction: "top", offset: [0, -6] });
  marker.on("click", function () { toggleTrack("patrols", id); });
  return { marker: marker.addTo(groups.patrols) };
}

function drawPatrols(p) {
  const wanted = p.id.length > rules.patrols_on_canvas_above ? "canvas" : "dom";
  if (wanted !== patrolMode) {
    drawn.patrols.forEach(function (entry) { entry.marker.remove(); });
    drawn.patrols.clear();
    patrolMode = wanted;
  }
  for (let i = 0; i < p.id.length; i++) {
    if (!validPosition(p.lat[i], p.lon[i])) continue;
    const status = patrolStatus(p.status[i]);
    const entry = place("patrols", p.id[i], p.lat[i], p.lon[i], patrolMode === "dom" ? domPatrol : canvasPatrol);
    if (entry.status !== status && !entry.root) {
      entry.marker.options.shape = PATROL_SHAPES[status];
      entry.marker.setStyle({ fillColor: patrolColour(status) });
    }
    setStatus(entry, status);
  }
  sweep("patrols");
}

// ---- sightings ------------------------------------------------------------------------------------
function drawSightings(s, assignedTo) {
  for (let i = 0; i < s.id.length; i++) {
    if (!validPosition(s.lat[i], s.lon[i])) continue;
    const look = sightingLook(s.priority[i], s.category[i], rules.category_letters);
    const entry = place("sightings", s.id[i], s.lat[i], s.lon[i], function (id, latlng) {
      const parts = markerRoot("sighting", id, "glyph-sighting prio-" + look.priority,
        rules.category_letters[look.category]);
      parts.name.textContent = "P" + look.priority;
      parts.root.classList.add("prio-" + look.priority);
      parts.root.dataset.status = "prio-" + look.priority;
      parts.marker = domMarker(latlng, parts.root, 3000 + (4 - look.priority) * 100, groups.sightings);
      return parts;
    });
    const patrol = assignedTo.get(s.id[i]);
    const number = s.number ? s.number[i] : null; // the incident number, when the sighting has one
    entry.detail.textContent = sightingDetail(number, look.category, patrol);
    entry.root.classList.toggle("is-assigned", !!patrol);
  }
  sweep("sightings");
}

function fitOnce() {
  if (fitted) return;
  const bounds = L.latLngBounds([]);
  KINDS.forEach(function (kind) { drawn[kind].forEach(function (e) { bounds.extend([e.lat, e.lon]); }); });
  const zones = zoneBounds();
  if (zones) bounds.extend(zones);
  if (bounds.isValid()) {
    map.fitBounds(bounds, { padding: [50, 50], maxZoom: 15, animate: false });
    fitted = true;
  }
}

/** Where a drone, patrol or sighting is drawn now ([lat, lon]), null if it is not. */
export function mapPosition(kind, id) {
  const entry = drawn[kind] && drawn[kind].get(id);
  return entry ? [entry.lat, entry.lon] : null;
}

/* What overlays.js draws with. */
const view = {
  groups: groups,
  colour: function (name) { return colours[name]; },
  patrolColour: patrolColour,
  position: mapPosition,
  entry: function (kind, id) { return drawn[kind] ? drawn[kind].get(id) : undefined; }
};

/** The map's rules (config.map: thresholds, letters, label limits); the map is set up once both it and they exist. */
export function initMap(config) {
  rules = config.map;
  setUp();
}

export function clearMap() {
  if (!ready) return;
  clearOverlays();
  KINDS.forEach(function (kind) { drawn[kind].clear(); });
  Object.keys(groups).forEach(function (name) { groups[name].clearLayers(); });
  fitted = false;
}

/** The window's zone versions (GeoJSON features with stored_from_ms / stored_until_ms). */
export function setMapWindow(features) {
  if (!ready) return;
  setZones(features);
}

/** The whole picture at the frame's instant. */
export function drawFrame(frame) {
  if (!ready || !frame) return;
  const assignedTo = new Map();
  frame.assignments.id.forEach(function (_, i) {
    assignedTo.set(frame.assignments.sighting_id[i], frame.assignments.patrol_id[i]);
  });
  drawPatrols(frame.patrols);
  drawSightings(frame.sightings, assignedTo);
  drawDrones(frame.drones, frame.t);
  drawOverlays(frame);
  const container = map.getContainer();
  container.classList.toggle("many-drones", drawn.drones.size > rules.drone_labels_up_to);
  container.classList.toggle("many-sightings", drawn.sightings.size > rules.sighting_labels_up_to);
  container.dataset.t = String(frame.t);
  fitOnce();
}

/** How many units of a kind are drawn; "lines", "rings" and "zones" are counted by overlays.js. */
export function mapCount(kind) {
  return drawn[kind] ? drawn[kind].size : overlayCount(kind);
}

/** The Leaflet map, once dash-leaflet created it. */
export function leafletMap() {
  return map;
}
