/*
 * Patrol tablet: what the officer sees, from what the server said and what the tablet did since.
 *
 * The server's picture may lag: an answer already received (confirmed) or an action still waiting in
 * the outbox is applied on top of it, so a tap shows at once, online or not. An assignment only ever
 * moves forward here: a late copy of the picture never takes a step back.
 *
 * Pure: tested under Node (tests/js/tablet/view.test.js).
 */

// Lifecycle order of an assignment's states (dispatch/domain/lifecycle.py); the closed ones last.
export const PROGRESS = { assigned: 0, acknowledged: 1, en_route: 2, on_scene: 3, cleared: 4, cancelled: 4 };
// The state each assignment step moves to (dispatch/domain/tablet.py ASSIGNMENT_STEPS).
export const STEP_STATE = { acknowledge: "acknowledged", en_route: "en_route", on_scene: "on_scene", clear: "cleared" };
// The crew's own status reports (dispatch/domain/tablet.py STATUS_REPORTS).
export const STATUS_ACTIONS = { available: true, unavailable: true };

/** `candidate` if it is further along than `state`, else `state`. */
export function later(state, candidate) {
  return candidate && PROGRESS[candidate] > PROGRESS[state] ? candidate : state;
}

/** The patrol's most recently assigned unit among `assignments` (an iterable), or null. */
export function newestAssignment(assignments) {
  let found = null;
  for (const unit of assignments) {
    if (found === null || (unit.assigned_ts || unit.ts) > (found.assigned_ts || found.ts)) found = unit;
  }
  return found;
}

/** The open assignment as the officer should see it: {unit, state}, or null once it is closed.
 *  unit: the picture's; confirmedState: the last answer's state for it; waiting: the outbox, oldest first. */
export function openAssignment(unit, confirmedState, waiting) {
  if (unit === null) return null;
  let state = later(unit.state, confirmedState);
  for (const item of waiting) {
    if (item.assignment_id === unit.assignment_id) state = later(state, STEP_STATE[item.action]);
  }
  return PROGRESS[state] >= PROGRESS.cleared ? null : { unit, state };
}

/** The crew's own status (available / unavailable) as the tablet holds it; null if it has none yet.
 *  patrol: the picture's unit; confirmed: {status, ts} from the last answer; waiting: the outbox. */
export function ownStatus(patrol, confirmed, waiting) {
  let status = patrol ? patrol.status : null;
  if (status !== "available" && status !== "unavailable") status = status ? "available" : null; // just freed
  if (confirmed && (!patrol || patrol.ts < confirmed.ts)) status = confirmed.status;
  for (const item of waiting) if (STATUS_ACTIONS[item.action]) status = item.action; // the last one wins
  return status;
}

/** Which buttons are live: the server's rules (config.rules, domain button_rules) for this situation. */
export function enabledActions(rules, open, own) {
  const key = open ? open.state : "free:" + (own || "none");
  return rules[key] || [];
}
