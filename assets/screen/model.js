/* The picture as this screen knows it (S.model), and its change events and one-second tick.
 *
 * The feed (feed.js) gives it whole pictures (replace) and deltas (apply); every part of the page
 * listens: onPictureChange(listener) for what changed, onSecond(listener) for what changes with time
 * alone (ages, "link lost", fading). */
import { ID_FIELDS } from "../common/live_client.js";
import { gatewayNow } from "./state.js";
import { sightingLabel } from "./words.js";

var COLLECTIONS = Object.keys(ID_FIELDS);

var units = {};
COLLECTIONS.forEach(function (name) { units[name] = new Map(); });
var changeListeners = [];
var tickListeners = [];
var loaded = false;

export const model = {
  units: units,
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
          if (current.delete(id)) {
            change.removed.push(id);
            (change.ended = change.ended || []).push(unit); // how it ended (disposition): endings.js, panels.js
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

/** A sighting's label (words.js sightingLabel) by its id, whether or not it is still open. */
export function sightingLabelOf(id) {
  return sightingLabel(units.sightings.get(id) || { sighting_id: id });
}

function unitId(collection, unit) {
  var value = unit && unit[ID_FIELDS[collection]];
  return typeof value === "string" && value !== "" ? value : null;
}

function reindexAssignments() {
  model.assignmentBySighting.clear();
  model.assignmentByPatrol.clear();
  units.assignments.forEach(function (assignment) {
    model.assignmentBySighting.set(assignment.sighting_id, assignment);
    model.assignmentByPatrol.set(assignment.patrol_id, assignment);
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

/** listener(changes, info): changes.<collection> = {changed: [ids], removed: [ids]} and, in a delta,
 * ended: [the closed units as they left, e.g. a sighting with its disposition];
 * info = {kind: "snapshot"|"delta", source: "live"|"poll", first: the first picture of this page}. */
export function onPictureChange(listener) { changeListeners.push(listener); }

/** listener(now): once a second, for what changes with time alone (ages, "link lost", fading). */
export function onSecond(listener) { tickListeners.push(listener); }

/** Called once a second by main.js. */
export function tick() {
  var now = gatewayNow();
  tickListeners.forEach(function (listener) {
    try { listener(now); } catch (error) { console.error("dispatchScreen tick listener failed", error); }
  });
}
