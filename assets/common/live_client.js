/*
 * Browser side of the live feed (docs/live-protocol.md), without any framework.
 *
 *   import { live } from "../common/live_client.js";
 *   live.connect("ws://host:8765/live", {backoffMaxMs: 1000});
 *   live.on("delta", function (d) { ... d.changes.drones ... });
 *
 * It keeps the picture (live.picture: collection name -> Map(id -> unit)),
 * applies the gateway's snapshots and deltas, and reconnects by itself with
 * exponential backoff and jitter, resuming with ?since=<last id> so that a
 * short outage costs neither a gap nor a new snapshot. Pages render from its
 * events: "snapshot" (the whole picture was replaced), "delta" (these units
 * changed; a unit with closed: true was removed), "status", and "ended" (the
 * session behind the socket ended: it stops, and the page signs in again).
 *
 * Status: "live" (open, and a message, heartbeats included, arrived within
 * staleAfterMs), "reconnecting" (trying, for less than offlineAfterMs),
 * "offline" (trying for longer, the browser says it is offline, or close() was
 * called). status.lastMessageAt tells the screen how fresh it is; status.upstream
 * is "lost" while the gateway itself has lost Redis (the socket is fine, the
 * data is not flowing).
 *
 * An ES module shared by the wall screen and the tablet (dispatch/web/page_scripts.py): nothing
 * happens until a page calls connect(). The id-field table is dispatch/domain/live.py's ID_FIELDS;
 * tests/web/test_page_scripts.py checks that the two agree.
 */

// Which field identifies a unit in each collection: the same table as
// ID_FIELDS in dispatch/domain/live.py. Unknown collections use "id".
export const ID_FIELDS = {
  drones: "drone_id",
  patrols: "patrol_id",
  sightings: "sighting_id",
  assignments: "assignment_id",
  alerts: "alert_id",
  zones: "zone_id"
};
var FALLBACK_ID_FIELD = "id";
var MESSAGE_KEYS = { type: true, id: true, server_ms: true, upstream: true };

// Reconnection: a screen must be LIVE within 2 s of the gateway's return, so the wait between
// attempts is capped at 1 s (a refused attempt to a gateway that is down costs next to nothing).
// Every wait is jittered (half fixed, half random): a thousand screens that lost the gateway
// together come back spread over that second rather than in one burst.
var DEFAULTS = {
  backoffBaseMs: 250, // first retry after 125-250 ms
  backoffMaxMs: 1000, // then every 0.5-1 s while the gateway is away
  staleAfterMs: 3500, // heartbeats come every second: 3 missed ones mean a dead link
  offlineAfterMs: 30000,
  watchEveryMs: 500
};

var picture = Object.create(null); // collection -> Map(id -> unit); ids never meet Object.prototype
var listeners = { snapshot: [], delta: [], status: [], ended: [] };
// The gateway closes with this code when the socket's session ended (signed out, expired, account
// deleted or given a new password): reconnecting cannot help, the page must sign in again.
var SESSION_ENDED = 4401;
var status = {
  state: "offline",
  lastMessageAt: null, // Date.now() of the last message of any kind
  lastId: null, // the live id the picture is at: sent back as ?since= on reconnection
  upstream: null, // "ok" | "lost", from the last heartbeat
  serverOffsetMs: null, // server clock minus ours, from heartbeats
  attempts: 0 // failed connection attempts in a row
};

var url = null;
var options = DEFAULTS;
var socket = null;
var wanted = false; // connect() called and close() not since
var retryTimer = null;
var watchTimer = null;
var troubleSince = null; // when the link was last seen healthy, if it is not now
var openedAt = 0; // when the current socket was created

function unitId(collection, unit) {
  var value = unit[ID_FIELDS[collection] || FALLBACK_ID_FIELD];
  return typeof value === "string" && value !== "" ? value : null;
}

function emit(event, detail) {
  listeners[event].slice().forEach(function (listener) {
    try {
      listener(detail);
    } catch (error) {
      console.error("dispatchLive " + event + " listener failed", error); // one bad page widget must not stop the feed
    }
  });
}

function collectionsOf(message) {
  return Object.keys(message).filter(function (key) {
    return !MESSAGE_KEYS[key] && Array.isArray(message[key]);
  });
}

function applySnapshot(message) {
  Object.keys(picture).forEach(function (name) { delete picture[name]; });
  collectionsOf(message).forEach(function (name) {
    var units = new Map();
    message[name].forEach(function (unit) {
      var id = unitId(name, unit);
      if (id !== null && unit.closed !== true) units.set(id, unit);
    });
    picture[name] = units;
  });
  emit("snapshot", { id: message.id, picture: picture });
}

function applyDelta(message) {
  var changes = {};
  collectionsOf(message).forEach(function (name) {
    var units = picture[name] || (picture[name] = new Map());
    message[name].forEach(function (unit) {
      var id = unitId(name, unit);
      if (id === null) return; // no id: passed on in the event, nothing to keep
      if (unit.closed === true) units.delete(id);
      else units.set(id, unit);
    });
    changes[name] = message[name];
  });
  emit("delta", { id: message.id, changes: changes });
}

function onMessage(event) {
  var message;
  try {
    message = JSON.parse(event.data);
  } catch (error) {
    return;
  }
  status.lastMessageAt = Date.now();
  // A heartbeat's id is the position too: for a filtered client it moves on
  // even when nothing of its own changed, so a resume starts later.
  if (typeof message.id === "string") status.lastId = message.id;
  status.attempts = 0;
  if (message.type === "snapshot") applySnapshot(message);
  else if (message.type === "delta") applyDelta(message);
  else if (message.type === "heartbeat") {
    status.upstream = message.upstream;
    if (typeof message.server_ms === "number") status.serverOffsetMs = message.server_ms - Date.now();
  }
  refreshStatus();
}

function open() {
  retryTimer = null;
  var target = url;
  if (status.lastId !== null) {
    target += (url.indexOf("?") < 0 ? "?" : "&") + "since=" + encodeURIComponent(status.lastId);
  }
  var ws;
  try {
    ws = new WebSocket(target);
  } catch (error) { // a malformed URL: keep trying, the status says so
    scheduleRetry();
    return;
  }
  socket = ws;
  openedAt = Date.now();
  ws.onmessage = function (event) { if (socket === ws) onMessage(event); };
  ws.onclose = function (event) {
    if (socket !== ws) return;
    socket = null;
    if (event.code === SESSION_ENDED) {
      close();
      emit("ended", { reason: event.reason });
      return;
    }
    scheduleRetry();
  };
  refreshStatus();
}

// Exponential backoff with "equal jitter": half the delay fixed, half random,
// so that every wall screen does not come back at the same instant.
function scheduleRetry() {
  if (!wanted || retryTimer !== null) return;
  var ceiling = Math.min(options.backoffMaxMs, options.backoffBaseMs * Math.pow(2, status.attempts));
  status.attempts += 1;
  retryTimer = setTimeout(open, ceiling / 2 + Math.random() * ceiling / 2);
  refreshStatus();
}

function dropSocket() {
  if (socket === null) return;
  var dead = socket;
  socket = null; // its late events are ignored
  dead.onmessage = dead.onclose = null;
  try { dead.close(); } catch (error) { /* already closing */ }
}

function refreshStatus() {
  var now = Date.now();
  var isOpen = socket !== null && socket.readyState === 1;
  var fresh = status.lastMessageAt !== null && now - status.lastMessageAt < options.staleAfterMs;
  var state;
  if (isOpen && fresh) {
    state = "live";
    troubleSince = null;
  } else {
    if (troubleSince === null) troubleSince = now;
    var offline = !wanted || navigator.onLine === false || now - troubleSince >= options.offlineAfterMs;
    state = offline ? "offline" : "reconnecting";
  }
  var upstreamChanged = status.reportedUpstream !== status.upstream;
  if (state !== status.state || upstreamChanged) {
    status.state = state;
    status.reportedUpstream = status.upstream;
    emit("status", copyStatus());
  }
}

// The watchdog: a link that went silent (a dead TCP connection can stay
// "open" for minutes) is dropped and retried; the status follows the clock.
function watch() {
  var now = Date.now();
  var silentFor = now - Math.max(status.lastMessageAt || 0, openedAt);
  if (socket !== null && silentFor >= options.staleAfterMs * (socket.readyState === 1 ? 1 : 3)) {
    dropSocket(); // connected but silent, or still connecting after ~10 s
    scheduleRetry();
  }
  refreshStatus();
}

function copyStatus() {
  return {
    state: status.state,
    lastMessageAt: status.lastMessageAt,
    lastId: status.lastId,
    upstream: status.upstream,
    serverOffsetMs: status.serverOffsetMs,
    attempts: status.attempts
  };
}

function defaultUrl() {
  return (location.protocol === "https:" ? "wss://" : "ws://") + location.hostname + ":8765/live";
}

function connect(target, opts) {
  close();
  url = target || defaultUrl();
  options = Object.assign({}, DEFAULTS, opts || {});
  wanted = true;
  troubleSince = Date.now();
  status.attempts = 0;
  watchTimer = setInterval(watch, options.watchEveryMs);
  open();
  return live;
}

function close() {
  wanted = false;
  if (retryTimer !== null) clearTimeout(retryTimer);
  if (watchTimer !== null) clearInterval(watchTimer);
  retryTimer = watchTimer = null;
  dropSocket();
  refreshStatus();
}

window.addEventListener("online", function () {
  if (wanted && socket === null) { // the network is back: do not wait out the backoff
    if (retryTimer !== null) clearTimeout(retryTimer);
    status.attempts = 0;
    open();
  }
});

export const live = {
  connect: connect,
  close: close,
  picture: picture,
  get status() { return copyStatus(); },
  /** Subscribe to "snapshot", "delta", "status" or "ended"; returns the function that unsubscribes. */
  on: function (event, listener) {
    if (!listeners[event]) throw new Error("dispatchLive: unknown event " + event);
    listeners[event].push(listener);
    return function () {
      var at = listeners[event].indexOf(listener);
      if (at >= 0) listeners[event].splice(at, 1);
    };
  },
  /** The units of one collection as an array (a copy). */
  units: function (collection) {
    return picture[collection] ? Array.from(picture[collection].values()) : [];
  },
  idField: function (collection) {
    return ID_FIELDS[collection] || FALLBACK_ID_FIELD;
  }
};
