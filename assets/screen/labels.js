/*
 * Supervisor wall screen: label decluttering on the live map (issue 11, item 6).
 *
 * Every unit label is a box (style.css .dispatch-map .unit-label). This pass places them so that
 * no box is drawn over another box, over a cluster icon or over another unit's glyph (a glyph
 * drawn over a label can cut "S-0142" to "S-01"): labels are taken in priority order (the selected
 * sighting, units with a critical alert, sightings by priority, warned units, drones, busy
 * patrols, other patrols), each tries a few spots around its own glyph (right, left, above,
 * below, the corners); a label with no free spot is hidden (class is-crowded; its unit stays
 * drawn, and the queue, the board and the tooltip still name it). Only the selected sighting's
 * label may lie over other glyphs (its marker is drawn above them all). Two labels can therefore
 * never merge into one text ("CYN-5" + "14" reading "CYN-514"): each has its own box, padding and
 * border, and boxes never touch.
 *
 * Cluster icons (zoomed out) are placed first: one that would cover another is moved aside by up to
 * its own size. Zone names (tooltips in their own pane, under the units) stay put; one that would run into another
 * zone's name or a cluster icon is hidden.
 *
 * Written here rather than taken from a plugin (see the README, "Running a shift"): the
 * candidates (labelgun 6.1, Leaflet.LayerGroup.Collision 0.3) hide whole markers or labels by
 * weight but do not try other positions, and both bring rbush; a greedy pass over a uniform
 * grid is about a hundred lines and runs in a few milliseconds for hundreds of labels.
 *
 * Runs on zoom, pan, resize and after the units are redrawn, at most once per MIN_INTERVAL_MS
 * (hundreds of units may change every tick): all reads first (one layout), then all writes. While
 * units move faster than that, a label may trail its unit for up to MIN_INTERVAL_MS.
 */

import { GAP, Grid, rect, candidates } from "./label_places.js";

var MIN_INTERVAL_MS = 200;
var MARGIN = 2; // px kept free around every label box
var OFFSCREEN = 120; // px beyond the map's edge still considered

var map = null;
var source = null; // () -> [{root, glyph, label, priority, key, mustShow}]
var timer = null;
var lastRun = 0;
var stats = { runs: 0, placed: 0, hidden: 0, ms: 0 };

export const labels = {
  /* source() lists the labelled units; called by map.js once its map exists. */
  setUp: function (leafletMap, listLabels) {
    map = leafletMap;
    source = listLabels;
    map.on("zoomend moveend resize", request);
    request();
  },
  request: request,
  /* After the units were redrawn: now if the last pass is old enough (before the frame is painted,
     so moved labels are never shown misplaced), else as soon as it is. */
  update: function () {
    if (timer === null && Date.now() - lastRun >= MIN_INTERVAL_MS) run(); else request();
  },
  run: run,
  stats: stats,
  onRun: null // a test's hook, called after each pass
};

function request() {
  if (map === null || timer !== null) return;
  var wait = Math.max(0, lastRun + MIN_INTERVAL_MS - Date.now());
  timer = setTimeout(function () { timer = null; run(); }, wait);
}

function run() {
  if (timer !== null) { clearTimeout(timer); timer = null; }
  if (map === null || source === null) return;
  if (map._animatingZoom) { request(); return; } // positions settle at zoomend
  var started = performance.now();
  lastRun = Date.now();
  var frame = map.getContainer().getBoundingClientRect();
  var items = [];
  var glyphs = new Grid();
  var taken = new Grid();
  // Reads: every box at once (one layout).
  source().forEach(function (item) {
    if (!item.root.isConnected) return;
    var w = item.label.offsetWidth;
    var h = item.label.offsetHeight;
    var g = item.glyph.getBoundingClientRect(); // turned pins and arrows included
    if (!g.width && !g.height) return;
    var glyph = rect(g.left, g.top, g.width, g.height, item.key);
    if (g.right < frame.left - OFFSCREEN || g.left > frame.right + OFFSCREEN ||
        g.bottom < frame.top - OFFSCREEN || g.top > frame.bottom + OFFSCREEN) return;
    glyphs.add(glyph);
    if (!w || !h) return; // no label shown for this unit (crowded-map rules, style.css)
    var at = item.root.getBoundingClientRect();
    items.push({ item: item, w: w, h: h, g: glyph, x0: at.left, y0: at.top });
  });
  var context = new Grid(); // cluster icons, then the zone names kept
  // Cluster icons first, the largest where the plugin put them; one that would cover another is moved
  // by up to its own size (clusters are centred on their members' mean: they may come close).
  var clusters = Array.from(map.getContainer().querySelectorAll(".dz-cluster")).map(function (element) {
    var c = element.getBoundingClientRect();
    var dx = Number(element.dataset.dx) || 0;
    var dy = Number(element.dataset.dy) || 0;
    return { element: element, count: Number(element.dataset.count) || 0, w: c.width, h: c.height,
             left: c.left - dx, top: c.top - dy, dx: 0, dy: 0 };
  }).filter(function (c) { return c.w && c.h; });
  clusters.sort(function (a, b) { return b.count - a.count || a.left - b.left; });
  clusters.forEach(function (c) {
    var sx = c.w / 2 + GAP;
    var sy = c.h / 2 + GAP;
    var moves = [[0, 0], [0, -sy], [0, sy], [sx, 0], [-sx, 0], [sx, -sy], [-sx, -sy], [sx, sy], [-sx, sy],
                 [0, -2 * sy], [0, 2 * sy], [2 * sx, 0], [-2 * sx, 0]];
    var box = null;
    for (var i = 0; i < moves.length; i++) {
      var candidate = rect(c.left + moves[i][0] - MARGIN, c.top + moves[i][1] - MARGIN, c.w + 2 * MARGIN, c.h + 2 * MARGIN, null);
      if (i === 0) box = candidate;
      if (!context.hits(candidate)) {
        box = candidate;
        c.dx = moves[i][0];
        c.dy = moves[i][1];
        break;
      }
    }
    taken.add(box);
    context.add(box);
  });
  // Zone names stay where Leaflet puts them (their zone's centre), under the units and their labels;
  // one that would run into another zone's name or a cluster is hidden (zoomed out, mostly).
  var zoneLabels = Array.from(map.getContainer().querySelectorAll(".zone-label")).map(function (element) {
    var z = element.getBoundingClientRect();
    return { element: element, box: z.width ? rect(z.left - MARGIN, z.top - MARGIN, z.width + 2 * MARGIN, z.height + 2 * MARGIN) : null };
  });
  items.sort(function (a, b) {
    return b.item.priority - a.item.priority || (a.item.key < b.item.key ? -1 : a.item.key > b.item.key ? 1 : 0);
  });
  // Placement: greedy, in priority order.
  var placed = 0;
  items.forEach(function (entry) {
    var spots = candidates(entry.g, entry.w, entry.h);
    var fallback = null;
    entry.spot = null;
    for (var i = 0; i < spots.length; i++) {
      var box = rect(spots[i][0] - MARGIN, spots[i][1] - MARGIN, entry.w + 2 * MARGIN, entry.h + 2 * MARGIN, entry.item.key);
      if (taken.hits(box)) continue;
      if (!glyphs.hits(box, entry.item.key)) { entry.spot = spots[i]; break; }
      if (fallback === null) fallback = spots[i];
    }
    // Over other glyphs only for the label that must stay readable (the selected sighting's).
    if (entry.spot === null && entry.item.mustShow) entry.spot = fallback;
    if (entry.spot !== null) {
      taken.add(rect(entry.spot[0] - MARGIN, entry.spot[1] - MARGIN, entry.w + 2 * MARGIN, entry.h + 2 * MARGIN, entry.item.key));
      placed += 1;
    }
  });
  zoneLabels.forEach(function (zone) {
    zone.shown = zone.box !== null && !context.hits(zone.box);
    if (zone.shown) context.add(zone.box);
  });
  // Writes.
  clusters.forEach(function (c) {
    if ((Number(c.element.dataset.dx) || 0) === c.dx && (Number(c.element.dataset.dy) || 0) === c.dy) return;
    c.element.dataset.dx = String(c.dx);
    c.element.dataset.dy = String(c.dy);
    c.element.style.transform = "translate(-50%, -50%) translate(" + Math.round(c.dx) + "px, " + Math.round(c.dy) + "px)";
  });
  zoneLabels.forEach(function (zone) { zone.element.classList.toggle("is-crowded", !zone.shown); });
  items.forEach(function (entry) {
    var label = entry.item.label;
    label.classList.remove("is-pending");
    if (entry.spot === null) {
      label.classList.add("is-crowded");
      return;
    }
    label.classList.remove("is-crowded");
    label.style.left = Math.round(entry.spot[0] - entry.x0) + "px";
    label.style.top = Math.round(entry.spot[1] - entry.y0) + "px";
  });
  stats.runs += 1;
  stats.placed = placed;
  stats.hidden = items.length - placed;
  stats.ms = Math.round((performance.now() - started) * 10) / 10;
  if (typeof labels.onRun === "function") labels.onRun(stats);
}
