/*
 * Patrol tablet (dispatch/ui/tablet.py), browser side. Seven files, one namespace, window.dispatchTablet ("T"):
 *
 *   tablet_core.js      this file: start-up, the patrol's picture and its optimistic view, taking an action
 *   tablet_render.js    drawing that view: status, target, buttons, messages, the link's state
 *   tablet_text.js      distance and direction, ages, clock: the same texts as dispatch/domain/tablet.py
 *   tablet_outbox.js    actions kept in localStorage and sent in order, each once (action ids)
 *   tablet_alert.js     the new-assignment banner and beep, and the tap that enables sound
 *   tablet_map.js       the Leaflet markers: the patrol, its target, the drone over it
 *   tablet_position.js  geolocation, and position reports every 5 s (2 s en route)
 *
 * What the server knows comes from the push gateway (filtered to this patrol by the gateway, and
 * filtered again here), from the page's first picture, and while the socket is down from polling
 * /api/patrol/view. What the officer sees is that picture with the actions still waiting in the
 * outbox, and the answers not yet reflected in it, applied on top: a tap shows at once, online or not.
 *
 * User text (the sighting note, ids) only ever reaches the page through textContent, never innerHTML.
 * Dash serves every asset on every page: nothing runs until the page's start-up callback.
 */
(function () {
  "use strict";

  var T = (window.dispatchTablet = window.dispatchTablet || {});

  var PROGRESS = { assigned: 0, acknowledged: 1, en_route: 2, on_scene: 3, cleared: 4, cancelled: 4 };
  var STEP_STATE = { acknowledge: "acknowledged", en_route: "en_route", on_scene: "on_scene", clear: "cleared" };
  var STATUS_ACTIONS = { available: true, unavailable: true };
  // dispatch/domain/lifecycle.py patrol_status_for (open states only).
  var STATUS_OF_STATE = { assigned: "assigned", acknowledged: "assigned", en_route: "en_route", on_scene: "on_scene" };

  T.started = false;
  T.config = null;
  T.STEP_STATE = STEP_STATE;
  T.STATUS_ACTIONS = STATUS_ACTIONS;

  // ---- DOM helpers: text only -------------------------------------------------------------------------------
  T.el = function (tag, className, text) {
    var element = document.createElement(tag);
    if (className) element.className = className;
    if (text !== undefined && text !== null) element.textContent = String(text);
    return element;
  };
  T.byId = function (name) { return document.getElementById(T.config.ids[name]); };

  // ---- the server's picture, as far as it concerns this patrol ---------------------------------------------
  var server = { patrol: null, assignments: new Map(), sightings: new Map(), drones: new Map() };
  // Answers already received that the picture may not show yet.
  var confirmed = { states: new Map(), status: null };
  T.server = server;

  function me() { return T.config.patrol_id; }

  /* collections: {patrols: [...], assignments: [...], ...}; whole: the complete picture (snapshot, poll). */
  T.ingest = function (collections, whole) {
    if (whole) {
      server.patrol = null;
      server.assignments.clear();
      server.sightings.clear();
      server.drones.clear();
    }
    (collections.patrols || []).forEach(function (unit) {
      if (!unit || unit.patrol_id !== me()) return; // never keep another patrol
      if (unit.closed === true) server.patrol = null;
      else if (!server.patrol || !(unit.ts < server.patrol.ts)) server.patrol = unit;
    });
    (collections.assignments || []).forEach(function (unit) {
      if (!unit || typeof unit.assignment_id !== "string") return;
      var mine = unit.patrol_id === me();
      if (unit.closed === true || !mine) {
        if (server.assignments.delete(unit.assignment_id) && mine) closedByServer(unit);
        return;
      }
      if (!seenAssignments.has(unit.assignment_id)) newAssignment(unit);
      server.assignments.set(unit.assignment_id, unit);
    });
    [["sightings", "sighting_id"], ["drones", "drone_id"]].forEach(function (pair) {
      (collections[pair[0]] || []).forEach(function (unit) {
        var id = unit && unit[pair[1]];
        if (typeof id !== "string") return;
        var before = server[pair[0]].get(id);
        if (unit.closed === true) server[pair[0]].delete(id);
        else if (!before || !(unit.ts < before.ts)) server[pair[0]].set(id, unit); // a late copy never wins
      });
    });
    fillIn();
    T.render();
  };

  /* What the feed cannot bring: a sighting already in the picture when the assignment came (a filter
     passes a unit only when it changes), and so the positions of the drone that reported it. Ask the
     server for this patrol's view then: at once for a new assignment, else every REFRESH_MS while
     the drone's position is older than DRONE_STALE_MS (drones report every second). */
  var REFRESH_MS = 3000;
  var DRONE_STALE_MS = 3000;
  var filling = false;
  var filled = { assignmentId: null, at: 0 };
  function fillIn() {
    var open = serverAssignment();
    if (open === null || filling) return;
    var sighting = server.sightings.get(open.sighting_id);
    var drone = sighting && sighting.drone_id ? server.drones.get(sighting.drone_id) : null;
    var fresh = filled.assignmentId !== open.assignment_id;
    var stale = !sighting || (sighting.drone_id && (!drone || T.now() - drone.ts > DRONE_STALE_MS));
    if (!stale || (!fresh && Date.now() - filled.at < REFRESH_MS)) return;
    filling = true;
    filled = { assignmentId: open.assignment_id, at: Date.now() };
    T.outbox.request("GET", T.config.api.view, null).then(function (reply) {
      filling = false;
      var view = reply.body;
      if (reply.status === 200 && view && view.ok) T.ingest({ sightings: view.sightings, drones: view.drones }, false);
    });
  }
  T.fillIn = fillIn;

  /* The supervisor took the assignment back (cancelled, or gave the sighting to another crew): said
     plainly, with the sighting's number, until the next assignment or action. */
  function closedByServer(unit) {
    confirmed.states.delete(unit.assignment_id);
    if (unit.state !== "cancelled") return;
    var sighting = server.sightings.get(unit.sighting_id);
    var number = sighting && typeof sighting.number === "string" && sighting.number ? sighting.number : "";
    T.say(false, "Assignment " + (number ? "to " + number + " " : "") +
      "cancelled by the supervisor: do not go there, you are no longer sent");
  }

  /* A new assignment starts with a clean slate: the previous one's answers ("Cleared (dispersed)",
     "cancelled by the supervisor") are about another sighting and would be read as about this one. */
  var seenAssignments = new Set();
  function newAssignment(unit) {
    seenAssignments.add(unit.assignment_id);
    T.say(null, "");
  }

  // ---- the view: the picture, plus answers and waiting actions --------------------------------------------
  function serverAssignment() {
    var found = null;
    server.assignments.forEach(function (unit) {
      if (found === null || (unit.assigned_ts || unit.ts) > (found.assigned_ts || found.ts)) found = unit;
    });
    return found;
  }

  function later(state, candidate) {
    return candidate && PROGRESS[candidate] > PROGRESS[state] ? candidate : state;
  }

  /* The open assignment as the officer should see it now: {unit, state}, or null. */
  T.assignment = function () {
    var unit = serverAssignment();
    if (unit === null) return null;
    var state = later(unit.state, confirmed.states.get(unit.assignment_id));
    T.outbox.items().forEach(function (item) {
      if (item.assignment_id === unit.assignment_id) state = later(state, STEP_STATE[item.action]);
    });
    return PROGRESS[state] >= PROGRESS.cleared ? null : { unit: unit, state: state };
  };

  /* The crew's own status (available / unavailable), as the tablet holds it; null if it has none yet. */
  T.selfStatus = function () {
    var status = server.patrol ? server.patrol.status : null;
    if (status !== "available" && status !== "unavailable") status = status ? "available" : null; // just freed
    var answer = confirmed.status;
    if (answer && (!server.patrol || server.patrol.ts < answer.ts)) status = answer.status;
    T.outbox.items().forEach(function (item) { if (STATUS_ACTIONS[item.action]) status = item.action; });
    return status;
  };

  T.status = function () {
    var open = T.assignment();
    return open ? STATUS_OF_STATE[open.state] : T.selfStatus() || "unknown";
  };

  T.enabledActions = function () {
    var open = T.assignment();
    var key = open ? open.state : "free:" + (T.selfStatus() || "none");
    return T.config.rules[key] || [];
  };

  T.sighting = function () {
    var open = T.assignment();
    return open ? server.sightings.get(open.unit.sighting_id) || null : null;
  };
  T.drone = function () {
    var sighting = T.sighting();
    return sighting && sighting.drone_id ? server.drones.get(sighting.drone_id) || null : null;
  };
  /* Where the patrol is: its own fix when the browser gives one, else its last report. */
  T.here = function () {
    if (T.position && T.position.fix) return T.position.fix;
    return server.patrol ? { lat: server.patrol.lat, lon: server.patrol.lon } : null;
  };

  // ---- actions ----------------------------------------------------------------------------------------------
  function uuid4() { // crypto.randomUUID exists only on https pages; getRandomValues everywhere
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    var b = window.crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  /* Take an action: queued (kept across reloads), shown at once, sent when the link allows.
     options.force sends it even when the lifecycle does not allow it (the server refuses it). */
  T.act = function (action, options) {
    options = options || {};
    if (!options.force && T.enabledActions().indexOf(action) < 0) return null;
    var open = T.assignment();
    var item = { action_id: uuid4(), action: action, tapped_ms: Date.now() };
    if (STEP_STATE[action]) {
      item.assignment_id = options.assignment_id || (open ? open.unit.assignment_id : null);
      if (!item.assignment_id) return null;
    }
    if (options.outcome) item.outcome = options.outcome;
    var here = T.position && T.position.fix;
    if (here) { item.lat = here.lat; item.lon = here.lon; }
    T.say(null, "");
    T.outbox.push(item);
    return item.action_id;
  };

  /* The server's answer to one of our actions (fresh, or the recorded answer to an earlier copy). */
  T.onAnswer = function (item, answer) {
    if (answer.ok) {
      if (answer.assignment_id && answer.state) confirmed.states.set(answer.assignment_id, answer.state);
      if (answer.status && STATUS_ACTIONS[item.action]) confirmed.status = { status: answer.status, ts: answer.ts };
    }
    T.say(!!answer.ok, answer.message || (answer.ok ? "Done" : "Refused"));
    T.render();
  };


  // ---- polling, only while the socket is down -----------------------------------------------------------------
  var polling = false;
  function poll() {
    var link = T.linkState();
    if (polling || link.socketDownFor < T.config.offline_after_ms) return;
    polling = true;
    T.outbox.request("GET", T.config.api.view, null).then(function (reply) {
      if (reply.status === 200 && reply.body && reply.body.ok) T.ingest(reply.body, true);
    }).finally(function () { polling = false; });
  }

  // ---- start-up -----------------------------------------------------------------------------------------------
  function gatewayUrl(config) {
    return (location.protocol === "https:" ? "wss://" : "ws://") + location.hostname + ":" + config.gateway.port +
      config.gateway.path;
  }

  /* Sign out (POST /logout with the CSRF header), after a warning if actions have not been sent yet:
     they stay in this tablet's storage for this patrol, and go when it signs in again. */
  function signOut() {
    var waiting = T.outbox.items().length;
    if (waiting && !window.confirm(waiting + " action" + (waiting === 1 ? " has" : "s have") +
        " not reached the server yet. They will be sent when " + T.config.patrol_id +
        " signs in again on this tablet. Sign out anyway?")) return;
    window.dispatchLive.close();
    T.outbox.request("POST", T.config.api.sign_out, {}).then(function () {
      window.location.assign("/login/patrol?signed_out=1");
    });
  }

  function start(config) {
    if (T.started || !config) return window.dash_clientside.no_update;
    T.config = config;
    T.serverOffsetMs = config.server_ms - Date.now();
    T.started = true;
    ["outbox", "alert", "map", "position"].forEach(function (part) {
      if (T[part] && typeof T[part].init === "function") T[part].init(config);
    });
    T.byId("actions").addEventListener("click", T.onTap);
    T.byId("outcomes").addEventListener("click", T.onTap);
    T.byId("sign_out").addEventListener("click", signOut);
    if (config.initial) T.ingest(config.initial, true);
    else T.render();
    var live = window.dispatchLive;
    live.on("snapshot", function (event) {
      var picture = {};
      Object.keys(event.picture).forEach(function (name) { picture[name] = Array.from(event.picture[name].values()); });
      T.ingest(picture, true);
    });
    live.on("delta", function (event) { T.ingest(event.changes, false); });
    // The session ended: sign in again; actions still queued stay in the outbox and go after that.
    live.on("ended", function () { window.location.assign("/login/patrol?ended=1"); });
    live.on("status", function (status) {
      T.renderLink();
      if (status.state === "live") T.outbox.flush(); // the link is back: send what waits
    });
    live.connect(gatewayUrl(config));
    setInterval(function () { T.render(); poll(); fillIn(); }, 1000);
    return { started_ms: Date.now() };
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside);
  window.dash_clientside.dispatchTablet = { start: start };
})();
