/*
 * Supervisor wall screen: label decluttering on the live map (issue 11, item 6).
 *
 * Every unit label is a box (style.css .dispatch-map .unit-label). This pass places them so that
 * no box is drawn over another box or over a cluster icon: labels are taken in priority order
 * (the selected sighting, units with a critical alert, sightings by priority, warned units,
 * drones, busy patrols, other patrols), each tries a few spots around its own glyph (right, left,
 * above, below, the corners), preferring one that covers no other unit's glyph; a label with no
 * free spot is hidden (class is-crowded; its unit stays drawn, and the queue, board and hover
 * still name it). Two labels can therefore never merge into one text ("CYN-5" + "14" reading
 * "CYN-514"): each has its own box, padding and border, and boxes never touch.
 *
 * Written here rather than taken from a plugin (see notes/issue11-map-legibility.md): the
 * candidates (labelgun 6.1, Leaflet.LayerGroup.Collision 0.3) hide whole markers or labels by
 * weight but do not try other positions, and both bring rbush; a greedy pass over a uniform
 * grid is about a hundred lines and runs in a few milliseconds for hundreds of labels.
 *
 * Runs on zoom, pan, resize and after the units are redrawn, at most once per MIN_INTERVAL_MS
 * (hundreds of units may change every tick): all reads first (one layout), then all writes.
 */
(function () {
  "use strict";

  var S = (window.dispatchScreen = window.dispatchScreen || {});
  var MIN_INTERVAL_MS = 200;
  var GAP = 3; // px between a glyph and its label
  var MARGIN = 2; // px kept free around every label box
  var CELL = 96; // px, grid cell of the spatial index
  var OFFSCREEN = 120; // px beyond the map's edge still considered

  var map = null;
  var source = null; // () -> [{root, wrap, label, priority, key}]
  var timer = null;
  var lastRun = 0;
  var stats = { runs: 0, placed: 0, hidden: 0, ms: 0 };

  S.labels = {
    /* source() lists the labelled units; called by screen_map.js once its map exists. */
    setUp: function (leafletMap, listLabels) {
      map = leafletMap;
      source = listLabels;
      map.on("zoomend moveend resize", request);
      request();
    },
    request: request,
    run: run,
    stats: stats
  };

  function request() {
    if (map === null || timer !== null) return;
    var wait = Math.max(0, lastRun + MIN_INTERVAL_MS - Date.now());
    timer = setTimeout(function () { timer = null; run(); }, wait);
  }

  // ---- a uniform grid of rectangles ----------------------------------------------------------------
  function Grid() { this.cells = new Map(); }
  Grid.prototype.each = function (r, visit) {
    for (var cx = Math.floor(r.left / CELL); cx <= Math.floor(r.right / CELL); cx++) {
      for (var cy = Math.floor(r.top / CELL); cy <= Math.floor(r.bottom / CELL); cy++) visit(cx + ":" + cy);
    }
  };
  Grid.prototype.add = function (r) {
    var cells = this.cells;
    this.each(r, function (key) {
      var list = cells.get(key);
      if (list) list.push(r); else cells.set(key, [r]);
    });
  };
  /* True when r overlaps a rectangle of the grid other than those owned by `owner` (undefined: any). */
  Grid.prototype.hits = function (r, owner) {
    var cells = this.cells;
    var hit = false;
    this.each(r, function (key) {
      if (hit) return;
      var list = cells.get(key);
      if (!list) return;
      for (var i = 0; i < list.length; i++) {
        var o = list[i];
        if (o.owner !== owner && o.left < r.right && r.left < o.right && o.top < r.bottom && r.top < o.bottom) {
          hit = true;
          return;
        }
      }
    });
    return hit;
  };

  function rect(left, top, width, height, owner) {
    return { left: left, top: top, right: left + width, bottom: top + height, owner: owner };
  }

  /* Spots for a w x h label around glyph box g, best first: beside, above/below, then the corners. */
  function candidates(g, w, h) {
    var cy = (g.top + g.bottom) / 2 - h / 2;
    var cx = (g.left + g.right) / 2 - w / 2;
    return [
      [g.right + GAP, cy], [g.left - GAP - w, cy], [cx, g.top - GAP - h], [cx, g.bottom + GAP],
      [g.right + GAP, g.top - h], [g.right + GAP, g.bottom], [g.left - GAP - w, g.top - h], [g.left - GAP - w, g.bottom]
    ];
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
      var g = item.wrap.getBoundingClientRect();
      if (!g.width && !g.height) return;
      var glyph = rect(g.left, g.top, g.width, g.height, item.key);
      if (g.right < frame.left - OFFSCREEN || g.left > frame.right + OFFSCREEN ||
          g.bottom < frame.top - OFFSCREEN || g.top > frame.bottom + OFFSCREEN) return;
      glyphs.add(glyph);
      if (!w || !h) return; // no label shown for this unit (crowded-map rules, style.css)
      var at = item.root.getBoundingClientRect();
      items.push({ item: item, w: w, h: h, g: glyph, x0: at.left, y0: at.top });
    });
    map.getContainer().querySelectorAll(".dz-cluster").forEach(function (cluster) {
      var c = cluster.getBoundingClientRect();
      if (c.width && c.height) taken.add(rect(c.left - MARGIN, c.top - MARGIN, c.width + 2 * MARGIN, c.height + 2 * MARGIN, null));
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
      // Over another unit's glyph only for what must stay readable (sightings, critical units).
      if (entry.spot === null && entry.item.mustShow) entry.spot = fallback;
      if (entry.spot !== null) {
        taken.add(rect(entry.spot[0] - MARGIN, entry.spot[1] - MARGIN, entry.w + 2 * MARGIN, entry.h + 2 * MARGIN, entry.item.key));
        placed += 1;
      }
    });
    // Writes.
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
  }
})();
