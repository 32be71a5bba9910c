/*
 * Supervisor wall screen: what the map draws besides units (see main.js for the file map).
 *
 * - Authorised zones: solid outline while valid; dashed grey with the word "EXPIRED" or
 *   "NOT YET VALID" otherwise (re-evaluated every 10 s: validity ends with time alone).
 * - Alert rings around the unit an alert is about, following it as it moves: double and
 *   pulsing for critical, dashed for warnings, dim once acknowledged. A critical ring still to be
 *   seen is in a pane of its own above the others (dz-rings-critical): never under a warning.
 * - Lines from the selected sighting to its nearest patrols, with the rank (the key 1-5).
 * - The layer toggle buttons, the "Fit all" button (key f), the legend's toggle (key l), and
 *   fitting the view to the zones once they are known. The legend sits under the map, outside
 *   it, collapsed by default: opened, it takes its room from the map and never covers a unit.
 *
 * Labels are DOM elements filled with textContent (zone names come from administrators,
 * Leaflet would bind a string tooltip as HTML).
 */
import { el, append } from "../common/dom.js";
import { S, byId, gatewayNow } from "./state.js";
import { ALERT_UNIT, severityRank } from "./alert_rules.js";
import { zoneStatus, zoneStyle } from "../common/overlays.js";
import { formatIn } from "../common/time.js";
import { model } from "./model.js";
import { mapView } from "./map.js";


var map = null;
var zones = new Map(); // zone id -> {polygon, state, name, status}
var zonesDirty = new Set();
var rings = new Map(); // "kind:id" of the unit -> {marker, root, pane, open: severity not yet seen or null}
var candidates = null; // {sightingId, list}
var fitted = false;
var dateFormat = null;

export const overlays = {
  setUp: function (leafletMap) {
    map = leafletMap;
    model.units.zones.forEach(function (_, id) { zonesDirty.add(id); });
    bindToggles();
    bindFitAll();
  },
  onChange: function (changes) {
    if (!changes.zones) return;
    changes.zones.changed.concat(changes.zones.removed).forEach(function (id) { zonesDirty.add(id); });
  },
  draw: function () {
    zonesDirty.forEach(drawZone);
    zonesDirty.clear();
    drawRings();
    drawLines();
    if (!fitted && zones.size) fitToZones();
  },
  tick: function (now) {
    if (Math.floor(now / 1000) % 10 === 0) zones.forEach(function (entry) { styleZone(entry, now); });
  },
  showCandidates: function (sightingId, list) {
    candidates = { sightingId: sightingId, list: list };
    drawLines();
  },
  clearCandidates: function () {
    candidates = null;
    drawLines();
  },
  /* Bring a point into view (an alert clicked in the panel) without changing the zoom. */
  reveal: function (lat, lon) {
    if (map && typeof lat === "number" && typeof lon === "number" && !map.getBounds().pad(-0.1).contains([lat, lon])) {
      map.panTo([lat, lon]);
    }
  },
  alertPosition: alertPosition,
  /* The severity of the unit's alert ring still to be seen ("critical", "warning", "info") or null. */
  ringSeverity: function (key) {
    var ring = rings.get(key);
    return ring ? ring.open : null;
  },
  /* Open or close the legend (its button, key l); returns whether it is now open. */
  toggleLegend: function (open) {
    var button = document.querySelector("#" + S.config.ids.layer_toggles + " [data-layer='legend']");
    var legend = byId("legend");
    if (!legend) return false;
    var on = typeof open === "boolean" ? open : legend.classList.contains("hidden");
    legend.classList.toggle("hidden", !on);
    if (button) {
      button.setAttribute("aria-pressed", on ? "true" : "false");
      button.classList.toggle("is-on", on);
    }
    // The map gets smaller or larger: Leaflet must know, or it draws for its old size.
    if (map) map.invalidateSize({ pan: false });
    return on;
  }
};

// ---- zones -------------------------------------------------------------------------------------
function dateTime(ms) {
  dateFormat = dateFormat || formatIn(S.config.timezone,
    { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  return dateFormat.format(new Date(ms));
}

function drawZone(id) {
  var zone = model.units.zones.get(id);
  var entry = zones.get(id);
  if (entry) {
    entry.polygon.remove();
    zones.delete(id);
  }
  var ring = zone && zone.geometry && zone.geometry.type === "Polygon" && zone.geometry.coordinates[0];
  if (!Array.isArray(ring)) return;
  var latlngs = ring.map(function (position) { return [Number(position[1]), Number(position[0])]; });
  var polygon = L.polygon(latlngs, { pane: "dz-zones", interactive: false, color: mapView.colour("--c-zone") });
  var name = el("div", "zone-name", (zone.properties && zone.properties.name) || id);
  var state = el("div", "zone-state");
  var label = append(el("div", "zone-label-body"), name, state);
  // Labels under the units (their own pane): a zone's name must never hide a patrol.
  polygon.bindTooltip(label, { permanent: true, direction: "center", className: "zone-label", interactive: false,
                               pane: "dz-zone-labels" });
  entry = { polygon: polygon, zone: zone, state: state, label: label, status: null };
  label.dataset.zoneId = id;
  zones.set(id, entry);
  polygon.addTo(mapView.groups.zones);
  styleZone(entry, gatewayNow());
}

function styleZone(entry, now) {
  var p = entry.zone.properties || {};
  var status = zoneStatus(now, p.valid_from_ms, p.valid_until_ms);
  entry.state.textContent = status === "active" ? "authorised until " + dateTime(p.valid_until_ms)
    : status === "upcoming" ? "NOT YET VALID · from " + dateTime(p.valid_from_ms)
    : "EXPIRED · " + dateTime(p.valid_until_ms);
  if (entry.status === status) return;
  entry.status = status;
  entry.label.dataset.status = status;
  entry.label.className = "zone-label-body is-" + status;
  entry.polygon.setStyle(zoneStyle(status, mapView.colour));
}

function fitToZones() {
  var bounds = null;
  zones.forEach(function (entry) {
    bounds = bounds ? bounds.extend(entry.polygon.getBounds()) : L.latLngBounds(entry.polygon.getBounds());
  });
  if (bounds && bounds.isValid()) map.fitBounds(bounds, { padding: [60, 60], maxZoom: 15, animate: false });
  fitted = true;
}

// ---- alert rings -------------------------------------------------------------------------------
/* The unit an alert is about ("drones:DR-07"), and where it is now. */
function alertPosition(alert) {
  var kind = ALERT_UNIT[alert.kind];
  var id = alert.unit_id;
  if (kind === "assignments") {
    var assignment = model.units.assignments.get(id);
    kind = "patrols";
    id = assignment ? assignment.patrol_id : null;
  }
  var position = kind && id ? mapView.position(kind, id) : null;
  if (!position && typeof alert.lat === "number" && typeof alert.lon === "number") position = [alert.lat, alert.lon];
  return position ? { key: kind + ":" + id, latlng: position } : null;
}

function drawRings() {
  // One ring per unit: the worst alert still to be seen, or, once all are acknowledged, the worst one dimmed.
  var wanted = new Map(); // unit key -> {latlng, rank, open: worst rank not acknowledged}
  model.units.alerts.forEach(function (alert) {
    var where = alertPosition(alert);
    if (!where) return;
    var rank = severityRank(alert);
    var seen = wanted.get(where.key) || { latlng: where.latlng, rank: 9, open: 9 };
    seen.rank = Math.min(seen.rank, rank);
    if (alert.state !== "acknowledged") seen.open = Math.min(seen.open, rank);
    wanted.set(where.key, seen);
  });
  wanted.forEach(function (want) {
    want.acknowledged = want.open === 9;
    if (!want.acknowledged) want.rank = want.open;
  });
  var changed = []; // units whose ring still to be seen changed: their cluster shows it
  rings.forEach(function (ring, key) {
    if (!wanted.has(key)) {
      mapView.groups.alerts.removeLayer(ring.marker);
      rings.delete(key);
      if (ring.open) changed.push(key);
    }
  });
  wanted.forEach(function (want, key) {
    var severity = want.rank === 0 ? "critical" : want.rank === 1 ? "warning" : "info";
    var className = "ring is-" + severity + (want.acknowledged ? " is-acknowledged" : "");
    var open = want.acknowledged ? null : severity;
    var pane = open === "critical" ? "dz-rings-critical" : "dz-rings";
    var ring = rings.get(key);
    if (ring && ring.pane !== pane) { // escalated or acknowledged: into the other pane
      mapView.groups.alerts.removeLayer(ring.marker);
      ring = null;
    }
    if (!ring) {
      var root = el("div", className);
      root.dataset.ringFor = key;
      ring = { root: root, pane: pane, open: null, marker: L.marker(want.latlng, {
        icon: L.divIcon({ className: "ring-icon", html: root, iconSize: [0, 0] }), pane: pane,
        interactive: false, keyboard: false }).addTo(mapView.groups.alerts) };
      rings.set(key, ring);
    } else {
      var at = ring.marker.getLatLng();
      if (at.lat !== want.latlng[0] || at.lng !== want.latlng[1]) ring.marker.setLatLng(want.latlng);
    }
    if (ring.root.className !== className) ring.root.className = className;
    if (ring.open !== open) {
      changed.push(key);
      ring.open = open;
    }
  });
  if (changed.length && mapView.alertsChanged) mapView.alertsChanged(changed);
}

// ---- lines to the nearest patrols --------------------------------------------------------------
function drawLines() {
  var group = mapView.groups.lines;
  if (!group) return;
  group.clearLayers();
  if (!candidates) return;
  var from = mapView.position("sightings", candidates.sightingId);
  if (!from) return;
  candidates.list.forEach(function (candidate) {
    var to = mapView.position("patrols", candidate.patrol_id) || [candidate.lat, candidate.lon];
    L.polyline([from, to], { pane: "dz-lines", color: mapView.colour("--c-line"), weight: candidate.rank === 1 ? 5 : 3,
                             opacity: candidate.rank === 1 ? 0.95 : 0.7, dashArray: candidate.rank === 1 ? null : "8 8",
                             interactive: false }).addTo(group);
    var badge = el("div", "rank-badge", String(candidate.rank));
    badge.dataset.rankFor = candidate.patrol_id;
    L.marker(to, { icon: L.divIcon({ className: "rank-icon", html: badge, iconSize: [0, 0] }), interactive: false,
                   keyboard: false, zIndexOffset: 5000 }).addTo(group);
  });
}

// ---- fit all -----------------------------------------------------------------------------------
function bindFitAll() {
  var button = byId("fit_all");
  if (!button || button.dataset.bound) return;
  button.dataset.bound = "1";
  button.addEventListener("click", function () { mapView.fitAll(); });
}

// ---- layer toggles -----------------------------------------------------------------------------
function bindToggles() {
  var box = byId("layer_toggles");
  if (!box || box.dataset.bound) return;
  box.dataset.bound = "1";
  box.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-layer]");
    if (!button) return;
    var on = button.getAttribute("aria-pressed") !== "true";
    button.setAttribute("aria-pressed", on ? "true" : "false");
    button.classList.toggle("is-on", on);
    var name = button.dataset.layer;
    if (name === "legend") {
      overlays.toggleLegend(on);
      return;
    }
    var group = mapView.groups[name];
    if (!group) return;
    if (on) {
      mapView.drawNow();
      group.addTo(map);
    } else group.remove();
    if (name === "sightings") mapView.groups.lines[on ? "addTo" : "remove"](map);
  });
}
