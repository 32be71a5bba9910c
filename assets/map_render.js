/*
 * Client side of the live map.
 *
 * 1. dispatchMap.pointToLayer: dash-leaflet's GeoJSON calls it for every point
 *    feature built by dispatch/ui/layers.py. It returns a Leaflet marker whose
 *    HTML only picks CSS classes (shape and colour live in style.css, shared
 *    with the legend) and writes a short label. Every value written into HTML
 *    is escaped or checked against a list of known values first: properties
 *    come from the network.
 * 2. dash_clientside.dispatchMap.lastUpdate: the header's "last update" text,
 *    in the screen's local time, ticking even when the server is silent.
 *
 * Each marker's root element carries data-unit-id, data-kind, data-status,
 * data-lat and data-lon: the browser tests (and a curious supervisor's devtools)
 * find units by them.
 */
(function () {
  "use strict";

  var ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  function esc(value) {
    return String(value === undefined || value === null ? "" : value).replace(/[&<>"']/g, function (c) {
      return ESCAPES[c];
    });
  }

  // Only known enum values become CSS classes; anything else is drawn as "unknown".
  var DRONE_STATUS = ["ok", "low_battery", "lost"];
  var PATROL_STATUS = ["available", "assigned", "en_route", "on_scene", "unavailable"];
  var CATEGORY_LETTER = { lookout: "L", deal: "D", vehicle: "V", gathering: "G", other: "O" };
  function known(value, allowed) {
    return allowed.indexOf(value) >= 0 ? value : "unknown";
  }

  function glyph(classes, style, inner) {
    return '<span class="glyph-wrap"><span class="glyph ' + classes + '" style="' + style + '">' +
      (inner || "") + "</span></span>";
  }

  function label(main, detail, detailClass) {
    var small = detail ? ' <span class="unit-detail ' + (detailClass || "") + '">' + esc(detail) + "</span>" : "";
    return '<span class="unit-label">' + esc(main) + small + "</span>";
  }

  // Each returns [status used for classes, inner HTML, z-index offset].
  function drone(p) {
    var status = known(p.status, DRONE_STATUS);
    var heading = Number(p.heading) || 0; // a number, never text, in the style attribute
    var battery = Math.round(Number(p.battery));
    var detail = status === "lost" ? "LOST" : (status === "low_battery" ? "LOW " : "") + battery + "%";
    var body = glyph("glyph-drone is-" + status, "transform: rotate(" + heading + "deg)") +
      label(p.id, detail, status === "ok" ? "" : "warn");
    return [status, body, 1000];
  }

  function patrol(p) {
    var status = known(p.status, PATROL_STATUS);
    return [status, glyph("glyph-patrol is-" + status, "") + label(p.id), 2000];
  }

  function sighting(p) {
    var priority = [1, 2, 3].indexOf(Number(p.priority)) >= 0 ? Number(p.priority) : 3;
    var letter = CATEGORY_LETTER[p.category] || "?";
    var category = CATEGORY_LETTER[p.category] ? p.category : "unknown";
    var body = glyph("glyph-sighting prio-" + priority, "", '<span class="pin-letter">' + letter + "</span>") +
      label("P" + priority, category, priority === 1 ? "warn" : "");
    // Sightings above patrols above drones, the most urgent on top of the pile.
    return ["prio-" + priority, body, 3000 + (4 - priority) * 100];
  }

  var RENDERERS = { drone: drone, patrol: patrol, sighting: sighting };

  function pointToLayer(feature, latlng) {
    var p = feature.properties || {};
    var kind = RENDERERS[p.kind] ? p.kind : "patrol";
    var drawn = RENDERERS[kind](p);
    var html =
      '<div class="unit unit-' + kind + " is-" + drawn[0] + '" data-unit-id="' + esc(p.id) +
      '" data-kind="' + kind + '" data-status="' + esc(drawn[0]) +
      '" data-lat="' + Number(latlng.lat) + '" data-lon="' + Number(latlng.lng) + '">' + drawn[1] + "</div>";
    // iconSize [0, 0]: the icon element sits exactly on the point; style.css centres the glyph on it.
    var icon = L.divIcon({ className: "unit-icon", html: html, iconSize: [0, 0] });
    return L.marker(latlng, { icon: icon, zIndexOffset: drawn[2], keyboard: false, title: "" });
  }

  // ---- "last update HH:MM:SS (N s ago)" ----------------------------------
  var STALE_AFTER_S = 15;
  var seen = { serverMs: null, at: 0 }; // when this browser received the latest status

  function age(seconds) {
    return seconds < 120 ? seconds + " s ago" : Math.floor(seconds / 60) + " min ago";
  }

  function lastUpdate(_nIntervals, status) {
    status = status || {};
    if (status.server_ms !== seen.serverMs) {
      seen = { serverMs: status.server_ms, at: Date.now() };
    }
    // Children are set as text by React: no escaping needed here.
    var alert = status.error ? ["Picture not updating: " + status.error, "alert"] : ["", "alert hidden"];
    if (!status.latest_ts) {
      return ["waiting for data…", "updated", alert[0], alert[1]];
    }
    // Age measured on the server's clock, plus the time since this browser heard from it:
    // a screen with a wrong clock still shows the right age.
    var ageS = Math.max(0, Math.round((status.server_ms - status.latest_ts + Date.now() - seen.at) / 1000));
    var time = new Date(status.latest_ts).toLocaleTimeString([], {
      hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23", // not hour12:false: it can print 24:05
    });
    var stale = ageS > STALE_AFTER_S;
    var text = "last update " + time + " (" + age(ageS) + ")" + (stale ? " · STALE" : "");
    return [text, stale ? "updated stale" : "updated", alert[0], alert[1]];
  }

  window.dispatchMap = Object.assign({}, window.dispatchMap, { pointToLayer: pointToLayer });
  window.dash_clientside = Object.assign({}, window.dash_clientside);
  window.dash_clientside.dispatchMap = Object.assign({}, window.dash_clientside.dispatchMap, {
    lastUpdate: lastUpdate,
  });
})();
