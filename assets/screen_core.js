/*
 * Supervisor wall screen (dispatch/ui/supervisor.py), browser side. Seven files, one namespace,
 * window.dispatchScreen ("S" below):
 *
 *   screen_core.js    this file: start-up, the screen's copy of the picture (S.model) and its
 *                     change events, the one-second tick, text-only DOM helpers, time formats
 *   screen_feed.js    where the picture comes from: the push gateway (dispatchLive), or, only
 *                     while the socket is down, polling /api/snapshot
 *   screen_map.js     the Leaflet layers of the units: one marker per unit, updated in place
 *   screen_overlays.js  zones, alert rings, lines to the nearest patrols, layer toggles
 *   screen_queue.js   the sighting queue
 *   screen_endings.js the sightings that just left the queue, and how each ended
 *   screen_panels.js  the selected sighting, its nearest patrols, the actions, the alerts panel
 *   screen_keys.js    the header (link status, counts, clock) and the keyboard
 *   screen_board.js   the unit status board (patrols and drones)
 *   screen_units.js   any available patrol for a sighting, a patrol's detail, time in status
 *
 * Dash serves every asset on every page; nothing here runs until the page's clientside
 * start-up callback calls dash_clientside.dispatchScreen.start(config).
 *
 * User text (sighting notes, call signs, zone names, alert messages) only ever reaches the
 * page through textContent (S.el), never innerHTML: it comes from the network.
 */
(function () {
  "use strict";

  var S = (window.dispatchScreen = window.dispatchScreen || {});

  // The same table as dispatch/domain/live.py ID_FIELDS (and live_client.js).
  var ID_FIELDS = {
    drones: "drone_id", patrols: "patrol_id", sightings: "sighting_id",
    assignments: "assignment_id", alerts: "alert_id", zones: "zone_id"
  };
  var COLLECTIONS = Object.keys(ID_FIELDS);

  S.config = null;
  S.started = false;
  // Latency hook (bench/latency.py, browser tests): "drones:DR-07" -> {ts, at} once that
  // version of the unit is on the map; `at` is this machine's Date.now().
  S.rendered = new Map();

  // ---- DOM helpers: text only --------------------------------------------------------------
  S.el = function (tag, className, text) {
    var element = document.createElement(tag);
    if (className) element.className = className;
    if (text !== undefined && text !== null) element.textContent = String(text);
    return element;
  };
  S.append = function (parent) {
    for (var i = 1; i < arguments.length; i++) if (arguments[i]) parent.appendChild(arguments[i]);
    return parent;
  };
  S.byId = function (name) { // name: a key of config.ids, e.g. "queue"
    return document.getElementById(S.config.ids[name]);
  };
  /* A glyph from the legend's vocabulary; `classes` are built from known values only. */
  S.glyph = function (classes, letter) {
    var wrap = S.el("span", "glyph-wrap");
    var glyph = S.append(S.el("span", "glyph " + classes), letter ? S.el("span", "pin-letter", letter) : null);
    wrap.appendChild(glyph);
    return wrap;
  };
  S.known = function (value, allowed, fallback) {
    return Object.prototype.hasOwnProperty.call(allowed, value) ? value : fallback;
  };

  // ---- time -------------------------------------------------------------------------------
  /* Now on the gateway's clock when known: ages stay right on a screen whose clock is off. */
  S.now = function () {
    var offset = window.dispatchLive ? window.dispatchLive.status.serverOffsetMs : null;
    return Date.now() + (typeof offset === "number" ? offset : 0);
  };
  /* The time a drone's link is judged at (issue 10): now while the feed is current, else the moment
     it last was (screen_feed.js). A screen that stops hearing from the gateway cannot tell whether
     drones still report, so it must not call them lost: the feed-outage banner says what is down. */
  S.linkNow = function (now) {
    var at = S.feed && typeof S.feed.currentAt === "function" ? S.feed.currentAt() : null;
    return typeof at === "number" ? Math.min(now, at) : now;
  };
  var clockFormat = null;
  S.clock = function (ms) { // HH:MM:SS on the site's wall clock (config.timezone), whatever the screen's zone
    if (clockFormat === null) {
      var options = { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" };
      try {
        clockFormat = new Intl.DateTimeFormat("en-GB", Object.assign({ timeZone: S.config.timezone }, options));
      } catch (error) {
        clockFormat = new Intl.DateTimeFormat("en-GB", options);
      }
    }
    return typeof ms === "number" && isFinite(ms) ? clockFormat.format(new Date(ms)) : "--:--:--";
  };
  S.age = function (ms) { // "42 s ago", "3 min ago", "1 h 05 ago"
    var seconds = Math.max(0, Math.floor(ms / 1000));
    if (seconds < 60) return seconds + " s ago";
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + " min ago";
    var rest = minutes % 60;
    return Math.floor(minutes / 60) + " h " + (rest < 10 ? "0" : "") + rest + " ago";
  };

  // ---- the picture as this screen knows it --------------------------------------------------
  var units = {};
  COLLECTIONS.forEach(function (name) { units[name] = new Map(); });
  var changeListeners = [];
  var tickListeners = [];
  var loaded = false;

  var ended = new Map(); // sighting_id -> its last delta, closed: how it ended (the newest 50)

  S.model = {
    units: units,
    ended: ended,
    assignmentBySighting: new Map(), // sighting_id -> open assignment
    assignmentByPatrol: new Map(),
    idField: function (collection) { return ID_FIELDS[collection]; },
    get loaded() { return loaded; },

    /* The whole picture (a gateway snapshot or /api/snapshot); unchanged units are not reported. */
    replace: function (picture, source) {
      var changes = {};
      COLLECTIONS.forEach(function (name) {
        var incoming = new Map();
        (Array.isArray(picture[name]) ? picture[name] : []).forEach(function (unit) {
          var id = unitId(name, unit);
          if (id !== null && unit.closed !== true) incoming.set(id, unit);
        });
        var current = units[name];
        var change = { changed: [], removed: [] };
        current.forEach(function (_, id) { if (!incoming.has(id)) change.removed.push(id); });
        change.removed.forEach(function (id) { current.delete(id); });
        incoming.forEach(function (unit, id) {
          var before = current.get(id);
          if (before === undefined || JSON.stringify(before) !== JSON.stringify(unit)) {
            current.set(id, unit);
            change.changed.push(id);
          }
        });
        if (change.changed.length || change.removed.length) changes[name] = change;
      });
      var first = !loaded;
      loaded = true;
      publish(changes, { kind: "snapshot", source: source, first: first });
    },

    /* A delta: units replaced by id, "closed" ones removed; a strictly older version is ignored
       (after a spell of polling, a resumed socket replays versions the screen already passed). */
    apply: function (delta, source) {
      var changes = {};
      COLLECTIONS.forEach(function (name) {
        if (!Array.isArray(delta[name])) return;
        var current = units[name];
        var change = { changed: [], removed: [] };
        delta[name].forEach(function (unit) {
          var id = unitId(name, unit);
          if (id === null) return;
          if (unit.closed === true) {
            if (name === "sightings") {
              ended.set(id, unit);
              if (ended.size > 50) ended.delete(ended.keys().next().value);
            }
            if (current.delete(id)) {
              change.removed.push(id);
              (change.ended = change.ended || []).push(unit); // how it ended (disposition), for screen_endings.js
            }
            return;
          }
          var before = current.get(id);
          if (before && typeof before.ts === "number" && typeof unit.ts === "number" && unit.ts < before.ts) return;
          current.set(id, unit);
          change.changed.push(id);
        });
        if (change.changed.length || change.removed.length) changes[name] = change;
      });
      publish(changes, { kind: "delta", source: source, first: false });
    }
  };

  function unitId(collection, unit) {
    var value = unit && unit[ID_FIELDS[collection]];
    return typeof value === "string" && value !== "" ? value : null;
  }

  function reindexAssignments() {
    S.model.assignmentBySighting.clear();
    S.model.assignmentByPatrol.clear();
    units.assignments.forEach(function (assignment) {
      S.model.assignmentBySighting.set(assignment.sighting_id, assignment);
      S.model.assignmentByPatrol.set(assignment.patrol_id, assignment);
    });
  }

  function publish(changes, info) {
    if (changes.assignments) reindexAssignments();
    if (!Object.keys(changes).length && !info.first) return;
    changeListeners.forEach(function (listener) {
      try {
        listener(changes, info);
      } catch (error) {
        console.error("dispatchScreen change listener failed", error); // one panel must not stop the others
      }
    });
  }

  /* listener(changes, info): changes.<collection> = {changed: [ids], removed: [ids]} and, in a delta,
     ended: [the closed units as they left, e.g. a sighting with its disposition];
     info = {kind: "snapshot"|"delta", source: "live"|"poll", first: the first picture of this page}. */
  S.onChange = function (listener) { changeListeners.push(listener); };
  /* listener(now): once a second, for what changes with time alone (ages, "link lost", fading). */
  S.onTick = function (listener) { tickListeners.push(listener); };

  function tick() {
    var now = S.now();
    tickListeners.forEach(function (listener) {
      try { listener(now); } catch (error) { console.error("dispatchScreen tick listener failed", error); }
    });
  }

  // ---- start-up ------------------------------------------------------------------------------
  var PARTS = ["mapView", "queue", "endings", "panels", "header", "keys", "board", "units", "feed"]; // the feed last: it brings data

  function start(config) {
    if (S.started || !config) return window.dash_clientside.no_update;
    S.config = config;
    S.started = true;
    PARTS.forEach(function (name) {
      if (S[name] && typeof S[name].init === "function") S[name].init(config);
    });
    setInterval(tick, 1000);
    return { started_ms: Date.now() };
  }

  // The bridge from Dash (clientside callbacks, see supervisor.register).
  window.dash_clientside = Object.assign({}, window.dash_clientside);
  window.dash_clientside.dispatchScreen = {
    start: start,
    onNearest: function (answer) {
      if (S.panels && answer) S.panels.onNearest(answer);
      return window.dash_clientside.no_update;
    },
    onAction: function (answer) {
      if (S.panels && answer) S.panels.onAction(answer);
      return window.dash_clientside.no_update;
    },
    onUnits: function (answer) {
      if (S.units && answer) S.units.onAnswer(answer);
      return window.dash_clientside.no_update;
    },
    poll: function () {
      if (S.feed) S.feed.poll();
      return window.dash_clientside.no_update;
    }
  };

  /* Write a prop of a Dash component from a script (it triggers the callbacks that listen to it). */
  S.setProps = function (idName, props) {
    window.dash_clientside.set_props(S.config.ids[idName], props);
  };
})();
