/*
 * Replay page: one frame drawn on the map (see replay_core.js for the file map).
 *
 * Raw Leaflet layers on the dash-leaflet map, as on the wall screen (screen_map.js), in the same
 * vocabulary (style.css glyphs, layers.py rules): a frame is the whole picture at one instant,
 * and each unit keeps its marker from one frame to the next, moved with setLatLng and restyled
 * with a class swap; only units that appear or vanish create or remove a marker. Dash never
 * re-renders the map.
 *
 * Drones: an arrow turned to the heading, with its trail (the last minute, as the server sent
 * it, ending exactly at the drone), "link lost" / "low battery" judged at the frame's instant
 * by the alert watcher's thresholds. Patrols: shape AND colour by status (beyond
 * rules.patrols_on_canvas_above on one canvas). Sightings open at that instant: pins by
 * priority with the category letter. Lines, rings, zones and tracks: replay_overlays.js.
 *
 * Marker roots carry data-unit-id, data-kind, data-status, data-lat and data-lon (the browser
 * tests read them); R.map.position(kind, id) answers for canvas patrols too.
 */
(function () {
  "use strict";

  var R = (window.dispatchReplay = window.dispatchReplay || {});
  var MAP_CLASS = "replay-map"; // dispatch/ui/replay/layout.py MAP_CLASS
  var PATROL_SHAPES = { available: "circle", assigned: "diamond", en_route: "hexagon", on_scene: "square",
                        unavailable: "cross" };
  var KINDS = ["drones", "patrols", "sightings"];

  var map = null;
  var rules = null;
  var ready = false;
  var groups = {};
  var drawn = { drones: new Map(), patrols: new Map(), sightings: new Map() };
  var colours = {};
  var trailRenderer = null;
  var patrolRenderer = null;
  var patrolMode = "dom";
  var fitted = false;

  L.Map.addInitHook(function () {
    var container = this.getContainer();
    if (container && container.classList && container.classList.contains(MAP_CLASS)) {
      map = this;
      setUp();
    }
  });

  function setUp() {
    if (ready || map === null || rules === null) return;
    ready = true;
    var style = getComputedStyle(document.documentElement);
    ["--c-available", "--c-assigned", "--c-en-route", "--c-on-scene", "--c-unavailable", "--c-trail", "--c-zone",
     "--c-muted-zone", "--c-line"].forEach(function (name) { colours[name] = style.getPropertyValue(name).trim(); });
    [["rp-zones", 350], ["rp-trails", 380], ["rp-lines", 390], ["rp-patrols", 420], ["rp-rings", 590]]
      .forEach(function (pane) { map.createPane(pane[0]).style.zIndex = pane[1]; });
    ["rp-trails", "rp-lines", "rp-rings"].forEach(function (pane) { map.getPane(pane).style.pointerEvents = "none"; });
    trailRenderer = L.canvas({ pane: "rp-trails" });
    patrolRenderer = L.canvas({ pane: "rp-patrols", tolerance: 4 });
    ["zones", "trails", "track", "lines", "patrols", "sightings", "drones", "rings"].forEach(function (name) {
      groups[name] = L.layerGroup().addTo(map);
    });
    R.overlays.setUp(view);
  }

  // ---- markers -------------------------------------------------------------------------------------
  function markerRoot(kind, id, glyphClasses, letter) {
    var root = R.el("div", "unit unit-" + kind);
    root.dataset.unitId = id;
    root.dataset.kind = kind;
    var wrap = R.el("span", "glyph-wrap");
    var glyph = R.el("span", "glyph " + glyphClasses);
    if (letter) glyph.appendChild(R.el("span", "pin-letter", letter));
    wrap.appendChild(glyph);
    var name = R.el("span", "unit-name", id);
    var detail = R.el("span", "unit-detail");
    var label = R.el("span", "unit-label");
    label.append(name, document.createTextNode(" "), detail);
    root.append(wrap, label);
    return { root: root, glyph: glyph, name: name, detail: detail };
  }

  function domMarker(latlng, root, zIndexOffset, group, onClick) {
    var icon = L.divIcon({ className: "unit-icon", html: root, iconSize: [0, 0] });
    var marker = L.marker(latlng, { icon: icon, zIndexOffset: zIndexOffset, keyboard: false, interactive: !!onClick,
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
    var entry = drawn[kind].get(id);
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

  function valid(lat, lon) {
    return typeof lat === "number" && typeof lon === "number" && isFinite(lat) && isFinite(lon);
  }

  // ---- drones ---------------------------------------------------------------------------------------
  function drawDrones(d, t) {
    for (var i = 0; i < d.id.length; i++) {
      if (!valid(d.lat[i], d.lon[i])) continue;
      var entry = place("drones", d.id[i], d.lat[i], d.lon[i], function (id, latlng) {
        var parts = markerRoot("drone", id, "glyph-drone", "");
        parts.marker = domMarker(latlng, parts.root, 1000, groups.drones, function () { R.overlays.toggleTrack("drones", id); });
        parts.trail = L.polyline([], { renderer: trailRenderer, color: colours["--c-trail"], weight: 3,
                                       opacity: 0.55, interactive: false }).addTo(groups.trails);
        return parts;
      });
      entry.trail.setLatLngs((d.trail[i] || []).map(function (p) { return [p[1], p[0]]; }));
      entry.glyph.style.transform = "rotate(" + (Number(d.heading[i]) || 0) + "deg)";
      var ageMs = t - d.ts[i];
      var battery = Number(d.battery[i]);
      var status = ageMs > rules.link_lost_ms ? "lost" : battery < rules.low_battery_pct ? "low_battery" : "ok";
      setStatus(entry, status);
      entry.root.classList.toggle("is-warn", status !== "ok");
      var link = Math.max(0, Math.round(ageMs / 1000)) + " s";
      entry.detail.textContent = status === "lost" ? "LINK LOST · " + link
        : (status === "low_battery" ? "LOW " : "") + Math.round(battery) + "% · " + link;
    }
    sweep("drones");
  }

  // ---- patrols --------------------------------------------------------------------------------------
  var ShapeMarker = window.dispatchShapes.ShapeMarker;  // assets/map_shapes.js

  function patrolColour(status) {
    return colours["--c-" + status.replace("_", "-")] || colours["--c-unavailable"];
  }

  function drawPatrols(p) {
    var wanted = p.id.length > rules.patrols_on_canvas_above ? "canvas" : "dom";
    if (wanted !== patrolMode) {
      drawn.patrols.forEach(function (entry) { entry.marker.remove(); });
      drawn.patrols.clear();
      patrolMode = wanted;
    }
    for (var i = 0; i < p.id.length; i++) {
      if (!valid(p.lat[i], p.lon[i])) continue;
      var status = Object.prototype.hasOwnProperty.call(PATROL_SHAPES, p.status[i]) ? p.status[i] : "unavailable";
      var entry = place("patrols", p.id[i], p.lat[i], p.lon[i], patrolMode === "dom" ? function (id, latlng) {
        var parts = markerRoot("patrol", id, "glyph-patrol", "");
        parts.marker = domMarker(latlng, parts.root, 2000, groups.patrols, function () { R.overlays.toggleTrack("patrols", id); });
        return parts;
      } : function (id, latlng) {
        var marker = new ShapeMarker(latlng, { renderer: patrolRenderer, radius: 6, shape: "circle", weight: 1.5,
                                               color: "#000", opacity: 0.9, fillOpacity: 0.95,
                                               bubblingMouseEvents: false });
        marker.bindTooltip(function () { return R.el("span", "unit-name", id); }, { direction: "top", offset: [0, -6] });
        marker.on("click", function () { R.overlays.toggleTrack("patrols", id); });
        return { marker: marker.addTo(groups.patrols) };
      });
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
    for (var i = 0; i < s.id.length; i++) {
      if (!valid(s.lat[i], s.lon[i])) continue;
      var priority = s.priority[i] === 1 || s.priority[i] === 2 ? s.priority[i] : 3;
      var category = Object.prototype.hasOwnProperty.call(rules.category_letters, s.category[i]) ? s.category[i]
        : "other";
      var entry = place("sightings", s.id[i], s.lat[i], s.lon[i], function (id, latlng) {
        var parts = markerRoot("sighting", id, "glyph-sighting prio-" + priority, rules.category_letters[category]);
        parts.name.textContent = "P" + priority;
        parts.root.classList.add("prio-" + priority);
        parts.root.dataset.status = "prio-" + priority;
        parts.marker = domMarker(latlng, parts.root, 3000 + (4 - priority) * 100, groups.sightings);
        return parts;
      });
      var patrol = assignedTo.get(s.id[i]);
      var number = s.number ? s.number[i] : null;  // the incident number, when the sighting has one
      entry.detail.textContent = (number ? number + " " : "") + category + (patrol ? " → " + patrol : "");
      entry.root.classList.toggle("is-assigned", !!patrol);
    }
    sweep("sightings");
  }

  function fitOnce() {
    if (fitted) return;
    var bounds = L.latLngBounds([]);
    KINDS.forEach(function (kind) { drawn[kind].forEach(function (e) { bounds.extend([e.lat, e.lon]); }); });
    var zones = R.overlays.zoneBounds();
    if (zones) bounds.extend(zones);
    if (bounds.isValid()) {
      map.fitBounds(bounds, { padding: [50, 50], maxZoom: 15, animate: false });
      fitted = true;
    }
  }

  function position(kind, id) {
    var entry = drawn[kind] && drawn[kind].get(id);
    return entry ? [entry.lat, entry.lon] : null;
  }

  /* What replay_overlays.js draws with. */
  var view = {
    groups: groups,
    get map() { return map; },
    colour: function (name) { return colours[name]; },
    patrolColour: patrolColour,
    position: position,
    valid: valid,
    entry: function (kind, id) { return drawn[kind] ? drawn[kind].get(id) : undefined; }
  };

  R.map = {
    init: function (config) {
      rules = config.map;
      setUp();
    },
    clear: function () {
      if (!ready) return;
      R.overlays.clear();
      KINDS.forEach(function (kind) { drawn[kind].clear(); });
      Object.keys(groups).forEach(function (name) { groups[name].clearLayers(); });
      fitted = false;
    },
    setWindow: function (features) {
      if (!ready) return;
      R.overlays.setZones(features);
    },
    draw: function (frame) {
      if (!ready || !frame) return;
      var assignedTo = new Map();
      frame.assignments.id.forEach(function (_, i) {
        assignedTo.set(frame.assignments.sighting_id[i], frame.assignments.patrol_id[i]);
      });
      drawPatrols(frame.patrols);
      drawSightings(frame.sightings, assignedTo);
      drawDrones(frame.drones, frame.t);
      R.overlays.draw(frame);
      var container = map.getContainer();
      container.classList.toggle("many-drones", drawn.drones.size > rules.drone_labels_up_to);
      container.classList.toggle("many-sightings", drawn.sightings.size > rules.sighting_labels_up_to);
      container.dataset.t = String(frame.t);
      fitOnce();
    },
    position: position,
    get tracked() { return R.overlays.tracked; },
    count: function (kind) { return drawn[kind] ? drawn[kind].size : R.overlays.count(kind); },
    get map() { return map; }
  };
})();
