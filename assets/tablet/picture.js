/*
 * Patrol tablet: the server's picture, as far as it concerns this patrol, and the view read from it.
 *
 * It comes from the push gateway (filtered to this patrol by the gateway, and filtered again here),
 * from the page's first picture, and while the socket is down from polling /api/patrol/view. The
 * view (view.js) is that picture with the answers received and the actions still waiting applied.
 */
import { now, page } from "./page.js";
import { say } from "./message.js";
import { outbox } from "./outbox.js";
import { STATUS_ACTIONS, enabledActions as rulesFor, newestAssignment, openAssignment, ownStatus } from "./view.js";

export const server = { patrol: null, assignments: new Map(), sightings: new Map(), drones: new Map() };
// Answers already received that the picture may not show yet.
const confirmed = { states: new Map(), status: null };
const seenAssignments = new Set();
let changed = function () {};

/** Called after every change of the picture (main.js: redraw). */
export function onChange(listener) { changed = listener; }

function me() { return page.config.patrol_id; }

/* collections: {patrols: [...], assignments: [...], ...}; whole: the complete picture (snapshot, poll). */
export function ingest(collections, whole) {
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
    const mine = unit.patrol_id === me();
    if (unit.closed === true || !mine) {
      if (server.assignments.delete(unit.assignment_id) && mine) closedByServer(unit);
      return;
    }
    if (!seenAssignments.has(unit.assignment_id)) newAssignment(unit);
    server.assignments.set(unit.assignment_id, unit);
  });
  [["sightings", "sighting_id"], ["drones", "drone_id"]].forEach(function ([name, idField]) {
    (collections[name] || []).forEach(function (unit) {
      const id = unit && unit[idField];
      if (typeof id !== "string") return;
      const before = server[name].get(id);
      if (unit.closed === true) server[name].delete(id);
      else if (!before || !(unit.ts < before.ts)) server[name].set(id, unit); // a late copy never wins
    });
  });
  fillIn();
  changed();
}

/* What the feed cannot bring: a sighting already in the picture when the assignment came (a filter
   passes a unit only when it changes), and so the positions of the drone that reported it. Ask the
   server for this patrol's view then: at once for a new assignment, else every REFRESH_MS while
   the drone's position is older than DRONE_STALE_MS (drones report every second). */
const REFRESH_MS = 3000;
const DRONE_STALE_MS = 3000;
let filling = false;
let filled = { assignmentId: null, at: 0 };
export function fillIn() {
  const open = newestAssignment(server.assignments.values());
  if (open === null || filling) return;
  const sighting = server.sightings.get(open.sighting_id);
  const drone = sighting && sighting.drone_id ? server.drones.get(sighting.drone_id) : null;
  const fresh = filled.assignmentId !== open.assignment_id;
  const stale = !sighting || (sighting.drone_id && (!drone || now() - drone.ts > DRONE_STALE_MS));
  if (!stale || (!fresh && Date.now() - filled.at < REFRESH_MS)) return;
  filling = true;
  filled = { assignmentId: open.assignment_id, at: Date.now() };
  outbox.request("GET", page.config.api.view, null).then(function (reply) {
    filling = false;
    const view = reply.body;
    if (reply.status === 200 && view && view.ok) ingest({ sightings: view.sightings, drones: view.drones }, false);
  });
}

/* The supervisor took the assignment back (cancelled, or gave the sighting to another crew): said
   plainly, with the sighting's number, until the next assignment or action. */
function closedByServer(unit) {
  confirmed.states.delete(unit.assignment_id);
  if (unit.state !== "cancelled") return;
  const sighting = server.sightings.get(unit.sighting_id);
  const number = sighting && typeof sighting.number === "string" && sighting.number ? sighting.number : "";
  say(false, "Assignment " + (number ? "to " + number + " " : "") +
    "cancelled by the supervisor: do not go there, you are no longer sent");
}

/* A new assignment starts with a clean slate: the previous one's answers ("Cleared (dispersed)",
   "cancelled by the supervisor") are about another sighting and would be read as about this one. */
function newAssignment(unit) {
  seenAssignments.add(unit.assignment_id);
  say(null, "");
}

/** The server's answer to one of our actions, kept until the picture shows it. */
export function confirm(item, answer) {
  if (!answer.ok) return;
  if (answer.assignment_id && answer.state) confirmed.states.set(answer.assignment_id, answer.state);
  if (answer.status && STATUS_ACTIONS[item.action]) {
    confirmed.status = { status: answer.status, ts: answer.ts };
  }
}

// ---- the view ------------------------------------------------------------------------------------------------

/** The open assignment as the officer should see it now: {unit, state}, or null. */
export function assignment() {
  const unit = newestAssignment(server.assignments.values());
  return openAssignment(unit, unit && confirmed.states.get(unit.assignment_id), outbox.items());
}

/** The crew's own status (available / unavailable), as the tablet holds it; null if it has none yet. */
export function selfStatus() {
  return ownStatus(server.patrol, confirmed.status, outbox.items());
}

/** The status the header shows: the open assignment's, else the crew's own. */
export function status() {
  const open = assignment();
  return open ? page.config.status_of_state[open.state] : selfStatus() || "unknown";
}

export function enabledActions() {
  return rulesFor(page.config.rules, assignment(), selfStatus());
}

export function sighting() {
  const open = assignment();
  return open ? server.sightings.get(open.unit.sighting_id) || null : null;
}

export function drone() {
  const seen = sighting();
  return seen && seen.drone_id ? server.drones.get(seen.drone_id) || null : null;
}
