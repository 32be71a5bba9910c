/*
 * Supervisor wall screen: the map's units (see main.js for the file map).
 *
 * Raw Leaflet layers on the dash-leaflet map, never Dash components: Dash would rebuild a layer
 * whenever its data changed. One marker per unit, created once and then updated in place:
 * setLatLng when the unit moved, a class swap when its status changed, a text node for its
 * label. Changes from the feed are collected and drawn once per animation frame.
 *
 * Drones: an arrow turned to the heading, call sign, battery and link age, a trail of their
 * last positions. Patrols: shape AND colour by status, call sign; beyond
 * rules.patrols_on_canvas_above they move to one canvas (same shapes and colours, call sign
 * on hover) so that thousands stay smooth. Sightings: a pin with the category letter, sized
 * and coloured by priority, fading with age. Zones, alert rings and the lines to the nearest
 * patrols are in overlays.js.
 *
 * Marker roots carry data-unit-id, data-kind, data-status, data-lat and data-lon: the browser
 * tests (and a curious supervisor's devtools) find units by them.
 *
 * Legibility at density (issue 11, item 6):
 * - Patrols and sightings share one Leaflet.markercluster group (assets/vendor/leaflet.markercluster.js,
 *   vendored): zoomed out (below rules.cluster_below_zoom) nearby units become one icon with
 *   their counts and the worst inside (most urgent priority, free patrols, ALERT), in shape and
 *   word; at the demo's zoom and closer nothing is clustered. Markers are added in batches and
 *   moved in place (refiled in the plugin's index at the next zoom change, see cluster_kind.js); only
 *   clusters whose members changed status or alert are redrawn (refreshClusters), never the whole
 *   index.
 * - Labels are boxes placed by the declutter pass (labels.js): never one over
 *   another, lower-priority ones hidden first; sighting pins read their incident number.
 * - fitAll() frames every unit and open sighting (the "Fit all" button, key f).
 */
import { el, append } from "../common/dom.js";
import { S, gatewayNow } from "./state.js";
import { glyph } from "./glyph.js";
import { knownOr, sightingLabel } from "./words.js";
import { priorityOf } from "./queue_rules.js";
import { shapeMarker } from "../common/map_shapes.js";
import { readMapColours } from "../common/overlays.js";
import { ClusterKind } from "./cluster_kind.js";
import { batched } from "./batch.js";
import { linkNow } from "./feed.js";
import { model, onPictureChange, onSecond } from "./model.js";
import { labels } from "./labels.js";
import { overlays } from "./overlays.js";
import { panels } from "./panels.js";

var MAP_CLASS = "dispatch-map"; // dispatch/ui/ids.py MAP_CLASS
var KINDS = ["drones", "patrols", "sightings"];
var CLUSTERED = { patrols: true, sightings: true };
var PATROL_SHAPES = { available: "circle", assigned: "diamond", en_route: "hexagon", on_scene: "square",
                      unavailable: "cross" };

var map = null;
var rules = null;
var ready = false;
var groups = {}; // layer name -> L.LayerGroup
var drawn = { drones: new Map(), patrols: new Map(), sightings: new Map() }; // id -> entry
var dirty = { drones: new Set(), patrols: new Set(), sightings: new Set() };
var adding = { drones: [], patrols: [], sightings: [] }; // markers created this frame, added in one batch
var restyled = { patrols: new Set(), sightings: new Set() }; // members whose cluster icon must be redrawn
var extrasDirty = false;
var scheduled = false;
// Canvases redraw every shape in the region that changed, and moves all over the map make that the
// whole canvas: drawn on every frame that brought a delta (twenty a second under load), the trails'
// and the canvas patrols' redraws were most of the wall screen's long tasks (issue 15). They are
// batched instead (the DOM markers, drones first, still move on the next frame): a canvas patrol is
// drawn where it is at most CANVAS_MOVES_EVERY_MS late, a trail catches up with its drone at most
// TRAILS_EVERY_MS late.
var CANVAS_MOVES_EVERY_MS = 250;
var TRAILS_EVERY_MS = 500;
var canvasMoves = new Map(); // canvas patrol entry -> its kind, batched
var trailsDirty = new Set(); // drone entries whose trail has new points
var slow = { canvas: batched(CANVAS_MOVES_EVERY_MS, moveCanvasPatrols), trails: batched(TRAILS_EVERY_MS, redrawTrails) };
var patrolMode = "dom";
var trailRenderer = null;
var patrolRenderer = null;
var colours = {};

// Leaflet calls this for every map it creates: catch ours before it is even shown.
L.Map.addInitHook(function () {
  var container = this.getContainer();
  if (container && container.classList && container.classList.contains(MAP_CLASS)) {
    map = this;
    setUp();
  }
});

const view = {
  get map() { return map; },
  groups: groups,
  colour: function (name) { return colours[name]; },
  init: function (config) {
    rules = config.map;
    onPictureChange(onChange);
    onSecond(onTick);
    setUp();
  },
  /* Where a unit is drawn now ([lat, lon]) or null. */
  position: function (kind, id) {
    var entry = drawn[kind] && drawn[kind].get(id);
    return entry ? [entry.lat, entry.lon] : null;
  },
  schedule: schedule,
  /* Draw what is pending now rather than at the next frame: a layer shown again must show its
     units where they are now, not where they were when it was hidden, even for one frame. */
  drawNow: function () {
    flush();
    if (canvasMoves.size) slow.canvas.now();
    if (trailsDirty.size) slow.trails.now();
  },
  /* Centre the map on a unit (the status board's search and rows): true when it is drawn.
     Zooms in to at least street level, never out; the unit's marker is flashed. */
  centreOn: function (kind, id) {
    var entry = drawn[kind] && drawn[kind].get(id);
    if (!map || !entry) return false;
    map.setView([entry.lat, entry.lon], Math.max(map.getZoom(), 16), { animate: false });
    view.centred = { kind: kind, id: id };
    return true;
  },
  centred: null,
  setSelected: function (sightingId) {
    drawn.sightings.forEach(function (entry, id) { styleSighting(entry, id === sightingId); });
    labels.request();
  },
  /* Frame every unit and open sighting ("Fit all", key f): true when there was something to frame. */
  fitAll: function () {
    if (!map) return false;
    var bounds = L.latLngBounds([]);
    KINDS.forEach(function (kind) { drawn[kind].forEach(function (entry) { bounds.extend([entry.lat, entry.lon]); }); });
    if (!bounds.isValid()) return false;
    // Room for the labels, the layer buttons (top right) and the zoom and fit buttons (left).
    map.fitBounds(bounds, { paddingTopLeft: [70, 90], paddingBottomRight: [70, 70], maxZoom: 16, animate: false });
    return true;
  },
  /* Units whose alert ring changed ("patrols:BAC-12"): the clusters holding them show the worst alert. */
  alertsChanged: function (keys) {
    keys.forEach(function (key) {
      var at = key.indexOf(":");
      var kind = key.slice(0, at);
      var entry = restyled[kind] && drawn[kind].get(key.slice(at + 1));
      if (entry) restyled[kind].add(entry.marker);
    });
    refreshClusters();
  }
};
export { view as mapView };

function setUp() {
  if (ready || map === null || rules === null) return;
  ready = true;
  colours = readMapColours(getComputedStyle(document.documentElement));
  // Panes fix the stacking whatever the order of creation: zones, trails, lines, canvas patrols, rings, markers.
  [["dz-zones", 350], ["dz-trails", 380], ["dz-lines", 390], ["dz-zone-labels", 395], ["dz-patrols", 420],
   ["dz-rings", 590], ["dz-rings-critical", 595]]
    .forEach(function (pane) { map.createPane(pane[0]).style.zIndex = pane[1]; });
  map.getPane("dz-trails").style.pointerEvents = "none";
  map.getPane("dz-rings").style.pointerEvents = "none";
  map.getPane("dz-rings-critical").style.pointerEvents = "none"; // critical rings above warnings, always
  map.getPane("dz-zone-labels").style.pointerEvents = "none";
  trailRenderer = L.canvas({ pane: "dz-trails" });
  patrolRenderer = L.canvas({ pane: "dz-patrols", tolerance: 4 });
  var shared = L.MarkerClusterGroup ? clusterGroup().addTo(map) : null;
  rules.layers.forEach(function (name) {
    groups[name] = (CLUSTERED[name] && shared ? new ClusterKind(shared, rules.cluster_below_zoom) : L.layerGroup()).addTo(map);
  });
  groups.lines = L.layerGroup().addTo(map);
  KINDS.forEach(function (kind) { model.units[kind].forEach(function (_, id) { dirty[kind].add(id); }); });
  extrasDirty = true;
  overlays.setUp(map);
  labels.setUp(map, labelledUnits);
  schedule();
}

function onChange(changes) {
  KINDS.forEach(function (kind) {
    var change = changes[kind];
    if (!change) return;
    change.changed.forEach(function (id) { dirty[kind].add(id); });
    change.removed.forEach(function (id) { dirty[kind].add(id); });
  });
  if (changes.assignments) { // a sighting's label names its patrol
    model.units.sightings.forEach(function (_, id) { dirty.sightings.add(id); });
  }
  extrasDirty = true;
  overlays.onChange(changes);
  schedule();
}

/* Once per frame; a hidden page gets no frames, so a timer stands in after 250 ms. */
function schedule() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(flush);
  setTimeout(flush, 250);
}

function flush() {
  if (!scheduled) return;
  scheduled = false;
  if (!ready) return;
  choosePatrolMode();
  var versions = [];
  KINDS.forEach(function (kind) {
    dirty[kind].forEach(function (id) {
      var unit = model.units[kind].get(id);
      DRAW[kind](id, unit);
      if (unit) versions.push([kind + ":" + id, unit.ts]);
      else S.rendered.delete(kind + ":" + id);
    });
    dirty[kind].clear();
    addBatch(kind);
  });
  if (extrasDirty) overlays.draw();
  extrasDirty = false;
  refreshClusters();
  map.getContainer().classList.toggle("many-drones", drawn.drones.size > rules.drone_labels_up_to);
  map.getContainer().classList.toggle("many-sightings", drawn.sightings.size > rules.sighting_labels_up_to);
  labels.update();
  var at = Date.now();
  versions.forEach(function (version) { S.rendered.set(version[0], { ts: version[1], at: at }); });
}

function validPosition(unit) {
  return unit && typeof unit.lat === "number" && typeof unit.lon === "number" && isFinite(unit.lat) &&
    isFinite(unit.lon) && Math.abs(unit.lat) <= 90 && Math.abs(unit.lon) <= 180;
}

/* Common to every unit: create, move, or remove the marker; returns the entry or null. */
function place(kind, id, unit, create) {
  var entry = drawn[kind].get(id);
  if (!validPosition(unit)) {
    if (entry) remove(kind, id, entry);
    return null;
  }
  if (!entry) {
    entry = create(id, unit);
    entry.lat = unit.lat;
    entry.lon = unit.lon;
    entry.marker.dzUnit = { kind: kind, id: id, entry: entry }; // what the cluster icons read
    adding[kind].push(entry.marker);
    drawn[kind].set(id, entry);
  } else if (entry.lat !== unit.lat || entry.lon !== unit.lon) {
    entry.lat = unit.lat;
    entry.lon = unit.lon;
    if (!entry.root) {
      canvasMoves.set(entry, kind);
      slow.canvas.request();
    } else moveMarker(kind, entry);
  }
  if (entry.root && entry.root.dataset.lat !== String(unit.lat)) entry.root.dataset.lat = String(unit.lat);
  if (entry.root && entry.root.dataset.lon !== String(unit.lon)) entry.root.dataset.lon = String(unit.lon);
  return entry;
}

function moveMarker(kind, entry) {
  if (typeof groups[kind].move === "function") groups[kind].move(entry.marker, [entry.lat, entry.lon]);
  else entry.marker.setLatLng([entry.lat, entry.lon]);
}

function moveCanvasPatrols() {
  canvasMoves.forEach(function (kind, entry) { if (drawn[kind].get(entry.marker.dzUnit.id) === entry) moveMarker(kind, entry); });
  canvasMoves.clear();
  refreshClusters();
}

function redrawTrails() {
  trailsDirty.forEach(function (entry) { if (drawn.drones.get(entry.marker.dzUnit.id) === entry) entry.trail.setLatLngs(entry.points); });
  trailsDirty.clear();
}

// Through the group, not marker.remove(): a group (and a cluster group's index) would keep the
// marker and show it again when its layer is toggled back on.
function remove(kind, id, entry) {
  var pending = adding[kind].indexOf(entry.marker);
  if (pending >= 0) adding[kind].splice(pending, 1);
  else groups[kind].removeLayer(entry.marker);
  if (entry.trail) groups.trails.removeLayer(entry.trail);
  canvasMoves.delete(entry);
  trailsDirty.delete(entry);
  if (restyled[kind]) restyled[kind].delete(entry.marker);
  drawn[kind].delete(id);
}

/* The markers created this frame, into their layer at once (a cluster group files them in one pass). */
function addBatch(kind) {
  var markers = adding[kind];
  if (!markers.length) return;
  adding[kind] = [];
  var group = groups[kind];
  if (typeof group.addLayers === "function") group.addLayers(markers);
  else markers.forEach(function (marker) { group.addLayer(marker); });
}

// ---- clusters ----------------------------------------------------------------------------------
/* One cluster group for patrols and sightings together: two groups would draw their clusters over
   each other at the same place. Zoomed out only: from rules.cluster_below_zoom on, every unit is
   its own marker. No animation (a wall screen should not swim; canvas patrols cannot be animated
   by the plugin), no spiderfy, every marker kept in the page whether in view or not (the tests
   and the labels read them). */
function clusterGroup() {
  return L.markerClusterGroup({
    disableClusteringAtZoom: rules.cluster_below_zoom, maxClusterRadius: rules.cluster_radius_px,
    animate: false, animateAddingMarkers: false, spiderfyOnMaxZoom: false, showCoverageOnHover: false,
    zoomToBoundsOnClick: true, removeOutsideVisibleBounds: false, iconCreateFunction: clusterIcon
  });
}

function ringOf(kind, id) {
  return overlays.ringSeverity(kind + ":" + id);
}

/* Per kind inside, its count and the worst: how many patrols are free, the most urgent priority
   of the sightings; ALERT (double frame) or WARN (dashed) when a member has an open alert.
   Shape and word, never colour alone. data-* attributes carry the figures (tests, devtools). */
function clusterIcon(cluster) {
  var members = cluster.getAllChildMarkers();
  var count = { patrols: 0, sightings: 0 };
  var best = 3;
  var free = 0;
  var alert = null;
  members.forEach(function (marker) {
    var unit = marker.dzUnit;
    if (!unit) return;
    count[unit.kind] += 1;
    if (unit.kind === "sightings") best = Math.min(best, unit.entry.priority || 3);
    else if (unit.entry.status === "available") free += 1;
    var ring = ringOf(unit.kind, unit.id);
    if (ring === "critical" || (ring === "warning" && alert === null)) alert = ring;
  });
  var root = el("div", "dz-cluster" + (alert ? " has-" + alert : ""));
  root.dataset.count = String(members.length);
  root.dataset.patrols = String(count.patrols);
  root.dataset.sightings = String(count.sightings);
  if (count.patrols) {
    root.dataset.free = String(free);
    root.appendChild(append(el("div", "dz-cluster-row is-patrols"),
      glyph("glyph-patrol is-" + (free ? "available" : "unavailable"), ""),
      el("b", "dz-cluster-count", count.patrols), el("span", "dz-cluster-sub", free + " free")));
  }
  if (count.sightings) {
    root.dataset.worst = "prio-" + best;
    root.appendChild(append(el("div", "dz-cluster-row is-sightings"),
      glyph("glyph-sighting prio-" + best, ""),
      el("b", "dz-cluster-count", count.sightings), el("span", "dz-cluster-sub", "P" + best)));
  }
  if (alert) {
    root.dataset.alert = alert;
    root.appendChild(el("div", "dz-cluster-alert", alert === "critical" ? "ALERT" : "WARN"));
  }
  return L.divIcon({ className: "dz-cluster-icon", html: root, iconSize: [0, 0] });
}

/* Redraw only the clusters holding members that changed (status, alert), and, while clusters are
   shown, file the moves of this frame. */
function refreshClusters() {
  Object.keys(restyled).forEach(function (kind) {
    if (groups[kind] && groups[kind].isClustered) { if (groups[kind].isClustered()) groups[kind].fileMoves(); }
  });
  Object.keys(restyled).forEach(function (kind) {
    var markers = restyled[kind];
    if (!markers.size) return;
    var group = groups[kind];
    if (group && typeof group.refreshClusters === "function") group.refreshClusters(Array.from(markers));
    markers.clear();
  });
}

// ---- labels ------------------------------------------------------------------------------------
/* What the declutter pass places (labels.js): every DOM unit with its label, and how much
   its label matters. The selected sighting first, then units with a critical alert, sightings
   by priority, units with a warning, drones, busy patrols, other patrols. */
function labelledUnits() {
  var list = [];
  KINDS.forEach(function (kind) {
    drawn[kind].forEach(function (entry, id) {
      if (!entry.label) return; // canvas patrols: no label (call sign on hover)
      var ring = ringOf(kind, id);
      var priority = kind === "sightings" && entry.selected ? 100 : ring === "critical" ? 90
        : kind === "sightings" ? 80 - (entry.priority || 3) : ring ? 70
        : kind === "drones" ? (entry.status === "ok" ? 50 : 60)
        : entry.status === "available" || entry.status === "unavailable" ? 30 : 40;
      list.push({ root: entry.root, glyph: entry.glyph, label: entry.label, key: kind + ":" + id, priority: priority,
                  mustShow: kind === "sightings" && entry.selected === true });
    });
  });
  return list;
}

function markerRoot(kind, id, glyphClasses, letter) {
  var root = el("div", "unit unit-" + kind);
  root.dataset.unitId = id;
  root.dataset.kind = kind;
  var wrap = glyph(glyphClasses, letter);
  var name = el("span", "unit-name", id);
  var detail = el("span", "unit-detail");
  // Hidden until the declutter pass (labels.js) has found it a free spot.
  var label = append(el("span", "unit-label is-pending"), name,
                       document.createTextNode(" "), detail);
  append(root, wrap, label);
  return { root: root, wrap: wrap, glyph: wrap.firstChild, label: label, name: name, detail: detail };
}

function domMarker(latlng, root, zIndexOffset, interactive) {
  // iconSize [0, 0]: the icon element sits exactly on the point; style.css centres the glyph on it.
  var icon = L.divIcon({ className: "unit-icon", html: root, iconSize: [0, 0] });
  return L.marker(latlng, { icon: icon, zIndexOffset: zIndexOffset, keyboard: false, interactive: interactive,
                            bubblingMouseEvents: false });
}

function setClass(entry, key, value, element, prefix) {
  if (entry[key] === value) return;
  if (entry[key] !== undefined) element.classList.remove(prefix + entry[key]);
  element.classList.add(prefix + value);
  entry[key] = value;
}

// ---- drones -----------------------------------------------------------------------------------
function drawDrone(id, unit) {
  var entry = place("drones", id, unit, function (droneId, first) {
    var parts = markerRoot("drone", droneId, "glyph-drone", "");
    parts.marker = domMarker([first.lat, first.lon], parts.root, 1000, false);
    parts.points = [];
    parts.trail = L.polyline([], { renderer: trailRenderer, color: colours["--c-trail"], weight: 3, opacity: 0.55,
                                   interactive: false }).addTo(groups.trails);
    return parts;
  });
  if (!entry) return;
  entry.unit = unit;
  var last = entry.points[entry.points.length - 1];
  if (!last || last[0] !== unit.lat || last[1] !== unit.lon) {
    entry.points.push([unit.lat, unit.lon]);
    if (entry.points.length > rules.trail_points) entry.points.shift();
    trailsDirty.add(entry);
    slow.trails.request();
  }
  var heading = Number(unit.heading_deg) || 0; // a number, never text, in the style
  if (entry.heading !== heading) { // writes only what changed: each write costs the page a style pass
    entry.heading = heading;
    entry.glyph.style.transform = "rotate(" + heading + "deg)";
  }
  refreshDrone(entry, gatewayNow());
}

/* Status and label of a drone: they change with time alone (the link ages). */
function refreshDrone(entry, now) {
  var unit = entry.unit;
  var ageMs = linkNow(now) - unit.ts; // feed time: a feed outage is not a link loss (model.js)
  var battery = Number(unit.battery_pct);
  // The watcher's rules exactly (strictly older, strictly below), on the raw figures; rounding is for display.
  var status = ageMs > rules.link_lost_ms ? "lost" : battery < rules.low_battery_pct ? "low_battery" : "ok";
  if (entry.status !== status) {
    setClass(entry, "status", status, entry.glyph, "is-");
    entry.root.dataset.status = status;
    entry.root.classList.toggle("is-warn", status !== "ok");
  }
  var link = Math.max(0, Math.round(ageMs / 1000)) + " s";
  var text = status === "lost" ? "LINK LOST · " + link : (status === "low_battery" ? "LOW " : "") +
    Math.round(battery) + "% · " + link;
  if (entry.detailText !== text) {
    entry.detailText = text;
    entry.detail.textContent = text;
  }
}

// ---- patrols -----------------------------------------------------------------------------------

function patrolColour(status) {
  return colours["--c-" + status.replace("_", "-")] || colours["--c-unavailable"];
}

/* DOM markers up to the threshold, one canvas beyond (with a margin, so it does not flip-flop). */
function choosePatrolMode() {
  var count = model.units.patrols.size;
  var limit = rules.patrols_on_canvas_above;
  var wanted = count > limit ? "canvas" : count < limit * 0.8 ? "dom" : patrolMode;
  if (wanted === patrolMode) return;
  patrolMode = wanted;
  groups.patrols.clearLayers(); // all at once: cheaper than one by one in a cluster group
  drawn.patrols.clear();
  canvasMoves.clear();
  restyled.patrols.clear();
  model.units.patrols.forEach(function (_, id) { dirty.patrols.add(id); });
}

function drawPatrol(id, unit) {
  var entry = place("patrols", id, unit, patrolMode === "dom" ? createDomPatrol : createCanvasPatrol);
  if (!entry) return;
  var status = knownOr(unit.status, PATROL_SHAPES, "unavailable");
  if (entry.status === status) return;
  if (entry.status !== undefined) restyled.patrols.add(entry.marker); // its cluster counts the free ones
  if (entry.root) {
    setClass(entry, "status", status, entry.glyph, "is-");
    entry.root.dataset.status = status;
  } else {
    entry.status = status;
    entry.marker.options.shape = PATROL_SHAPES[status];
    entry.marker.setStyle({ fillColor: patrolColour(status) });
  }
}

function createDomPatrol(id, unit) {
  var parts = markerRoot("patrol", id, "glyph-patrol", "");
  parts.marker = domMarker([unit.lat, unit.lon], parts.root, 2000, false);
  return parts;
}

function createCanvasPatrol(id, unit) {
  var marker = shapeMarker([unit.lat, unit.lon], {
    renderer: patrolRenderer, radius: 6, shape: "circle", weight: 1.5, color: "#000", opacity: 0.9,
    fillColor: patrolColour("unavailable"), fillOpacity: 0.95, bubblingMouseEvents: false
  });
  marker.bindTooltip(function () { return el("span", "unit-name", id); }, { direction: "top", offset: [0, -6] });
  return { marker: marker };
}

// ---- sightings ---------------------------------------------------------------------------------
function drawSighting(id, unit) {
  var entry = place("sightings", id, unit, function (sightingId, first) {
    var priority = priorityOf(first);
    var letter = rules.category_letters[first.category] || "?";
    var parts = markerRoot("sighting", sightingId, "glyph-sighting prio-" + priority, letter);
    parts.priority = priority;
    parts.root.classList.add("prio-" + priority);
    parts.root.dataset.status = "prio-" + priority;
    parts.marker = domMarker([first.lat, first.lon], parts.root, 3000 + (4 - priority) * 100, true);
    parts.marker.on("click", function () { panels.select(sightingId); });
    return parts;
  });
  if (!entry) return;
  entry.unit = unit;
  var assignment = model.assignmentBySighting.get(id);
  entry.name.textContent = sightingLabel(unit);
  // Short: the pin already shows the category letter; the label must fit between its neighbours.
  entry.detail.textContent = "P" + entry.priority + (assignment ? " → " + assignment.patrol_id : "");
  entry.root.classList.toggle("is-assigned", !!assignment);
  styleSighting(entry, panels.selected === id);
  fade(entry, gatewayNow());
}

function styleSighting(entry, selected) {
  if (entry.selected === selected) return;
  entry.selected = selected;
  entry.root.classList.toggle("is-selected", selected);
  entry.marker.setZIndexOffset(3000 + (4 - entry.priority) * 100 + (selected ? 1000 : 0));
  if (entry.unit) fade(entry, gatewayNow());
}

/* Fresh calls catch the eye; old ones stay visible, dimmer (they are still open). */
function fade(entry, now) {
  var age = Math.max(0, now - entry.unit.ts);
  var opacity = Math.max(rules.fade_min_opacity, 1 - (1 - rules.fade_min_opacity) * age / rules.sighting_fade_ms);
  entry.root.style.opacity = entry.selected ? "1" : opacity.toFixed(2);
}

var DRAW = { drones: drawDrone, patrols: drawPatrol, sightings: drawSighting };

function onTick(now) {
  if (!ready) return;
  drawn.drones.forEach(function (entry) { refreshDrone(entry, now); });
  if (Math.floor(now / 1000) % 5 === 0) drawn.sightings.forEach(function (entry) { fade(entry, now); });
  overlays.tick(now);
  // Drone labels change width with their link age: placed again in the same task, before any paint.
  if (drawn.drones.size) labels.run();
}
