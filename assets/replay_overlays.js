/*
 * Replay page: what the map draws besides units (see replay_core.js for the file map).
 *
 * - Open assignments: a line from the patrol to its sighting, coloured by the patrol's status
 *   (dashed until it is on scene).
 * - Alerts open at the instant: a ring around their unit (double for critical, dashed for a
 *   warning, dim once acknowledged), as on the wall screen.
 * - Authorised zones as they were stored at the frame's instant (GET /api/replay/window gives every
 *   version stored during the window, with stored_from_ms / stored_until_ms, null when unbounded):
 *   a version is on the map, label included, only while stored_from <= t < stored_until, so an edited
 *   zone shows its old perimeter and name before the edit and the new ones after, never both. A
 *   version shown is solid while valid (decree period) at t, dashed grey before and after.
 * - A unit's whole track, when it is clicked (GET /api/replay/track: downsampled for display,
 *   always through its exact position at the instant shown); clicking it again, or another
 *   unit, takes it off.
 *
 * Units are drawn by replay_map.js, which hands this file its layer groups and positions.
 */
(function () {
  "use strict";

  var R = (window.dispatchReplay = window.dispatchReplay || {});
  var ZONE_STYLE = {
    active: { dashArray: null, weight: 3, fillOpacity: 0.07, opacity: 0.9 },
    upcoming: { dashArray: "10 8", weight: 2, fillOpacity: 0.02, opacity: 0.8 },
    expired: { dashArray: "4 8", weight: 2, fillOpacity: 0.0, opacity: 0.7 }
  };

  var view = null; // replay_map.js's drawing context
  var lines = new Map(); // assignment id -> polyline
  var rings = new Map(); // alert id -> {root, marker}
  var zones = [];
  var tracked = null; // {kind, id, line, points} of the unit whose whole track is drawn

  // ---- assignment lines and alert rings ---------------------------------------------------------
  function drawLines(a) {
    var seen = new Set();
    for (var i = 0; i < a.id.length; i++) {
      var from = view.position("patrols", a.patrol_id[i]);
      var to = view.position("sightings", a.sighting_id[i]);
      if (!from || !to) continue;
      seen.add(a.id[i]);
      var line = lines.get(a.id[i]);
      var status = a.state[i] === "en_route" || a.state[i] === "on_scene" ? a.state[i] : "assigned";
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

  var ALERT_UNIT = { link_lost: "drones", low_battery: "drones", outside_zone: "drones", patrol_stale: "patrols",
                     sighting_unassigned: "sightings" };

  function drawRings(alerts) {
    var seen = new Set();
    for (var i = 0; i < alerts.id.length; i++) {
      var kind = ALERT_UNIT[alerts.kind[i]];
      var where = (kind && view.position(kind, alerts.unit_id[i])) ||
        (view.valid(alerts.lat[i], alerts.lon[i]) ? [alerts.lat[i], alerts.lon[i]] : null);
      if (!where) continue;
      var severity = alerts.severity[i] === "critical" ? "critical" : alerts.severity[i] === "warning" ? "warning"
        : "info";
      var className = "ring is-" + severity + (alerts.state[i] === "acknowledged" ? " is-acknowledged" : "");
      seen.add(alerts.id[i]);
      var ring = rings.get(alerts.id[i]);
      if (!ring) {
        var root = R.el("div", className);
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
  function instantOrNull(value) {
    return typeof value === "number" && isFinite(value) ? value : null;
  }

  /* Each version is built off the map; styleZones adds it (and so its permanent tooltip, which
     Leaflet opens on add and closes on remove) only at the instants it was stored. */
  function setZones(features) {
    view.groups.zones.clearLayers();
    zones = (features || []).map(function (zone) {
      var ring = zone.geometry && zone.geometry.coordinates && zone.geometry.coordinates[0];
      if (!Array.isArray(ring)) return null;
      var polygon = L.polygon(ring.map(function (p) { return [Number(p[1]), Number(p[0])]; }),
                              { pane: "rp-zones", interactive: false });
      var p = zone.properties || {};
      var label = R.el("div", "zone-name", p.name || zone.id);
      label.dataset.zoneId = String(p.zone_id || zone.id || "");
      polygon.bindTooltip(label, { permanent: true, direction: "center", className: "zone-label",
                                   interactive: false });
      return { polygon: polygon, from: p.valid_from_ms, until: p.valid_until_ms, status: null, shown: false,
               storedFrom: instantOrNull(p.stored_from_ms), storedUntil: instantOrNull(p.stored_until_ms) };
    }).filter(Boolean);
  }

  function storedAt(zone, t) {
    return (zone.storedFrom === null || zone.storedFrom <= t) && (zone.storedUntil === null || t < zone.storedUntil);
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
      var status = t < zone.from ? "upcoming" : t < zone.until ? "active" : "expired";
      if (status === zone.status) return;
      zone.status = status;
      var colour = view.colour(status === "active" ? "--c-zone" : "--c-muted-zone");
      zone.polygon.setStyle(Object.assign({ color: colour, fillColor: colour }, ZONE_STYLE[status]));
    });
  }

  // ---- a unit's whole track ---------------------------------------------------------------------
  function toggleTrack(kind, id) {
    var same = tracked && tracked.kind === kind && tracked.id === id;
    clearTrack();
    if (same) return;
    tracked = { kind: kind, id: id, line: null };
    var mine = tracked;
    var entry = view.entry(kind, id);
    if (entry && entry.root) entry.root.classList.add("is-tracked");
    var generation = R.generation();
    var t = R.state.t;
    R.getJson(R.api("track", { kind: kind === "drones" ? "drone" : "patrol", id: id, t: t })).then(function (reply) {
      if (tracked !== mine || generation !== R.generation()) return;
      if (reply.status !== 200) {
        R.message((reply.body && reply.body.error) || "No track", "refused");
        return;
      }
      var latlngs = reply.body.coordinates.map(function (p) { return [p[1], p[0]]; });
      mine.points = latlngs.length;
      mine.line = L.polyline(latlngs, { pane: "rp-lines", color: view.colour("--c-line"), weight: 3, opacity: 0.8,
                                        dashArray: "2 6", lineCap: "round", interactive: false }).addTo(view.groups.track);
    });
  }

  function clearTrack() {
    if (!tracked) return;
    if (tracked.line) tracked.line.remove();
    var entry = view.entry(tracked.kind, tracked.id);
    if (entry && entry.root) entry.root.classList.remove("is-tracked");
    tracked = null;
  }

  R.overlays = {
    setUp: function (mapView) { view = mapView; },
    draw: function (frame) {
      drawLines(frame.assignments);
      drawRings(frame.alerts);
      styleZones(frame.t);
    },
    setZones: setZones,
    clear: function () {
      clearTrack();
      lines.clear();
      rings.clear();
      zones = [];
    },
    zoneBounds: function () {
      if (!zones.length) return null;
      var bounds = L.latLngBounds([]);
      zones.forEach(function (zone) { bounds.extend(zone.polygon.getBounds()); });
      return bounds;
    },
    toggleTrack: toggleTrack,
    count: function (what) {
      if (what === "lines") return lines.size;
      if (what === "rings") return rings.size;
      return zones.filter(function (zone) { return zone.shown; }).length; // zone versions on the map now
    },
    get tracked() { return tracked ? { kind: tracked.kind, id: tracked.id, points: tracked.points || 0 } : null; }
  };
})();
