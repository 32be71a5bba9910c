/*
 * Supervisor wall screen: the selected sighting, its nearest patrols, the actions, the alerts
 * (see main.js for the file map).
 *
 * Selecting a sighting asks the server for the nearest available patrols (a Dash callback:
 * the page writes {sighting_id, nonce} into a dcc.Store with set_props, the answer comes
 * back through a clientside callback, dispatch/ui/actions.py); only the answer to the
 * latest question is shown. The list is asked again after every action and when patrols
 * change, so a patrol taken by another supervisor leaves it within a second or two.
 *
 * Actions (assign, reassign, cancel, acknowledge) go one at a time through the same kind of
 * store; the answer says done or why not, in words, shown as text. What the action changed
 * reaches this screen, and every other one, through the gateway's deltas like anything else.
 */
import { el, append } from "../common/dom.js";
import { age as timeAgo } from "../common/time.js";
import { S, byId, clock, gatewayNow, setProps } from "./state.js";
import { glyph } from "./glyph.js";
import { ASSIGNMENT_WORDS, knownOr, sightingLabel } from "./words.js";
import { compareAlerts } from "./alert_rules.js";
import { priorityOf } from "./queue_rules.js";
import { distanceM } from "../common/geo.js";
import { endingText } from "./endings.js";
import { buildConfirmDialog, twoClickButton } from "./confirm.js";
import { model, onPictureChange, onSecond } from "./model.js";
import { alertBoard } from "./alerts.js";
import { mapView } from "./map.js";
import { overlays } from "./overlays.js";
import { queue } from "./queue.js";
import { units } from "./units.js";

var ACTION_TIMEOUT_MS = 10000;
var MESSAGE_MS = 20000;

var nearestNonce = 0;
var nearestAskedAt = 0;
var nearestMessage = "";
var refreshTimer = null;
var refreshDue = 0;
var actionNonce = 0;
var pending = null; // the action waiting for its answer
var messageTimer = null;
var detailAge = null;
var alertAges = [];
var CREW_MOVING = { en_route: "en route", on_scene: "on scene" }; // taking a sighting from them asks first
var confirmStep = null; // the reassign confirm step: {root, title, open, sightingId, assignmentId, patrolId}

export const panels = {
  selected: null,
  candidates: [],
  nearestTimings: [], // ms from asking to the list drawn: the "feels instant" figure
  init: function () {
    onPictureChange(onChange);
    onSecond(tick);
    renderDetail();
    renderCandidates();
    renderAlerts();
  },
  select: function (sightingId) {
    if (!model.units.sightings.has(sightingId)) return;
    if (panels.selected !== sightingId) {
      panels.selected = sightingId;
      panels.candidates = [];
      nearestMessage = "Finding the nearest available patrols…";
      overlays.clearCandidates();
    }
    askNearest();
    showSelection();
  },
  clear: function () {
    panels.selected = null;
    panels.candidates = [];
    nearestNonce += 1; // a late answer is for nobody now
    overlays.clearCandidates();
    showSelection();
  },
  /* The n-th candidate's button (keys 1-5): assign, or reassign when the sighting has a patrol
     (a key never reassigns without the confirm step: a second press of the same key, after the list
     has moved up, would otherwise take the sighting from the crew just sent). */
  pick: function (rank) {
    var candidate = panels.candidates.filter(function (c) { return c.rank === rank; })[0];
    if (candidate) sendToCandidate(candidate, true);
  },
  /* Any available patrol chosen on the board or by its typed call sign (units.js), as a click
     on a candidate: assign, or reassign (confirmed first when the crew is en route or on scene). */
  sendPatrol: function (candidate) {
    if (panels.selected && candidate && candidate.patrol_id) sendToCandidate(candidate, false);
  },
  confirmOpen: function () { return !!(confirmStep && confirmStep.open); },
  confirmKey: confirmKey,
  onNearest: onNearest,
  onAction: onAction,
  act: function (request) { act(request); } // the queue's close and merge (queue.js)
};

function showSelection() {
  renderDetail();
  renderCandidates();
  queue.setSelected(panels.selected);
  mapView.setSelected(panels.selected);
  units.onSelect(panels.selected); // any available patrol, by board or typed call sign
}

// ---- nearest patrols --------------------------------------------------------------------------
function askNearest() {
  if (!panels.selected) return;
  clearTimeout(refreshTimer);
  refreshTimer = null;
  nearestNonce += 1;
  nearestAskedAt = performance.now();
  setProps("nearest_request", { data: { sighting_id: panels.selected, nonce: nearestNonce } });
}

/* Ask again in `delayMs`, unless a sooner refresh is already due. */
function refreshSoon(delayMs) {
  var due = Date.now() + delayMs;
  if (refreshTimer !== null && refreshDue <= due) return;
  clearTimeout(refreshTimer);
  refreshDue = due;
  refreshTimer = setTimeout(askNearest, delayMs);
}

function onNearest(answer) {
  if (answer.nonce !== nearestNonce || answer.sighting_id !== panels.selected) return; // a late answer
  panels.candidates = answer.ok && Array.isArray(answer.candidates) ? answer.candidates : [];
  nearestMessage = answer.message || "";
  renderCandidates();
  overlays.showCandidates(panels.selected, panels.candidates);
  panels.nearestTimings.push(Math.round(performance.now() - nearestAskedAt));
}

// ---- actions -------------------------------------------------------------------------------------
function act(request) {
  if (pending) {
    showMessage(false, "Still waiting for the previous action's answer");
    return;
  }
  actionNonce += 1;
  pending = { nonce: actionNonce, request: request };
  pending.timer = setTimeout(function () {
    pending = null;
    showMessage(false, "No answer from the server: the action may not have been done, check the map");
    renderCandidates();
  }, ACTION_TIMEOUT_MS);
  setProps("action_request", { data: Object.assign({ nonce: actionNonce }, request) });
  renderCandidates();
}

function onAction(answer) {
  if (!pending || answer.nonce !== pending.nonce) return;
  clearTimeout(pending.timer);
  pending = null;
  showMessage(answer.ok, answer.message || (answer.ok ? "Done" : "Refused"));
  renderCandidates();
  renderDetail();
  askNearest(); // the patrol just sent, or just refused, is no longer a candidate
}

function sendToCandidate(candidate, byKey) {
  var assignment = panels.selected && model.assignmentBySighting.get(panels.selected);
  if (!assignment) {
    act({ action: "assign", sighting_id: panels.selected, patrol_id: candidate.patrol_id });
  } else if (byKey || CREW_MOVING[assignment.state]) {
    openConfirm(assignment, candidate);
  } else {
    act({ action: "reassign", assignment_id: assignment.assignment_id, patrol_id: candidate.patrol_id });
  }
}

// ---- the reassign confirm step (the look of the queue's close/merge step, queue.js) ------
function buildConfirm() {
  var parts = buildConfirmDialog({ id: "reassign-dialog", className: "reassign-dialog", confirmLabel: "Reassign (Enter)",
                                   backLabel: "Keep the crew (Esc)", confirmAction: "confirm-reassign",
                                   onConfirm: confirmReassign, onBack: closeConfirm });
  return { root: parts.root, title: parts.title, open: false };
}

function openConfirm(assignment, candidate) {
  confirmStep = confirmStep || buildConfirm();
  var sighting = model.units.sightings.get(assignment.sighting_id) || { sighting_id: assignment.sighting_id };
  var state = knownOr(assignment.state, ASSIGNMENT_WORDS, "assigned");
  confirmStep.sightingId = assignment.sighting_id;
  confirmStep.assignmentId = assignment.assignment_id;
  confirmStep.patrolId = candidate.patrol_id;
  confirmStep.title.textContent = "Take sighting " + sightingLabel(sighting) + " from " + assignment.patrol_id +
    " (" + ASSIGNMENT_WORDS[state] + ") and send " + candidate.patrol_id + " (" + candidate.distance + ", " +
    candidate.eta + ")?";
  confirmStep.open = true;
  confirmStep.root.hidden = false;
}

function closeConfirm() {
  if (!confirmStep) return;
  confirmStep.open = false;
  confirmStep.root.hidden = true;
}

/* Sends the reassignment seen in the step, unless the sighting's assignment changed meanwhile. */
function confirmReassign() {
  if (!confirmStep || !confirmStep.open) return;
  var step = confirmStep;
  closeConfirm();
  var now = model.assignmentBySighting.get(step.sightingId);
  if (!now || now.assignment_id !== step.assignmentId) {
    showMessage(false, "Not reassigned: the sighting's assignment changed meanwhile, look again");
    return;
  }
  act({ action: "reassign", assignment_id: step.assignmentId, patrol_id: step.patrolId, confirmed: true });
}

/* Keys while the step is open: Enter confirms, Esc keeps the crew, every other key is swallowed. */
function confirmKey(key) {
  if (key === "Enter") confirmReassign();
  else if (key === "Escape") closeConfirm();
}

function showMessage(ok, text) {
  var box = byId("message");
  box.className = "message " + (ok ? "is-ok" : "is-refused");
  box.dataset.ok = ok ? "true" : "false";
  box.replaceChildren(el("span", "message-mark", ok ? "✓" : "✕"), el("span", "message-text", text));
  clearTimeout(messageTimer);
  messageTimer = setTimeout(function () {
    box.replaceChildren();
    box.className = "message";
    delete box.dataset.ok;
  }, MESSAGE_MS);
}

// ---- the selected sighting -------------------------------------------------------------------
function renderDetail() {
  var box = byId("detail");
  var sighting = panels.selected && model.units.sightings.get(panels.selected);
  detailAge = null;
  if (!sighting) {
    box.replaceChildren(el("div", "detail-empty",
      "No sighting selected: click one in the queue or on the map, or press ↓ / j"));
    return;
  }
  var priority = priorityOf(sighting);
  var letters = S.config.map.category_letters;
  var category = letters[sighting.category] ? sighting.category : "other";
  detailAge = el("span", "d-age", timeAgo(gatewayNow() - sighting.ts));
  detailAge.ts = sighting.ts;
  var head = append(el("div", "d-head prio-" + priority), glyph("glyph-sighting prio-" + priority, letters[category]),
                      el("span", "d-title", sightingLabel(sighting) + " · P" + priority + " · " + category),
                      el("span", "d-time", clock(sighting.ts)), detailAge);
  var note = sighting.note ? el("div", "d-note", sighting.note) : null;
  var meta = el("div", "d-meta", "drone " + sighting.drone_id + " · operator " + sighting.operator_id +
                  " · id " + sighting.sighting_id);
  box.replaceChildren(head, note || el("div", "d-note muted", "no note"), meta, assignmentBlock(sighting));
}

function assignmentBlock(sighting) {
  var assignment = model.assignmentBySighting.get(sighting.sighting_id);
  var block = el("div", "d-assignment");
  if (!assignment) {
    block.classList.add("is-unassigned");
    return append(block, el("span", "warn-mark", "!"), el("span", "d-unassigned", "No patrol assigned"));
  }
  var state = knownOr(assignment.state, ASSIGNMENT_WORDS, "assigned");
  var glyphState = state === "acknowledged" ? "assigned" : state;
  block.dataset.assignmentId = assignment.assignment_id;
  // Two clicks: a cancellation sends a crew back to the queue.
  var cancel = twoClickButton("btn btn-cancel", "Cancel assignment", "Click again to cancel", "cancel",
                              function () { act({ action: "cancel", assignment_id: assignment.assignment_id }); });
  cancel.disabled = !!pending;
  var since = assignment.assigned_ts || assignment.ts;
  return append(block, glyph("glyph-patrol is-" + glyphState), el("span", "d-patrol", assignment.patrol_id),
                  el("span", "d-state", ASSIGNMENT_WORDS[state]),
                  el("span", "d-since", "since " + clock(since) + " by " + assignment.supervisor_id), cancel);
}

function renderCandidates() {
  var box = byId("candidates");
  if (!panels.selected) {
    box.replaceChildren();
    return;
  }
  var assignment = model.assignmentBySighting.get(panels.selected);
  var reassigning = !!assignment;
  var title = candidatesTitle(assignment);
  var list = el("div", "c-list");
  panels.candidates.forEach(function (candidate) {
    var row = el("div", "cand");
    row.dataset.patrolId = candidate.patrol_id;
    row.dataset.rank = String(candidate.rank);
    var button = el("button", "btn btn-assign", reassigning ? "Reassign" : "Assign");
    button.dataset.action = reassigning ? "reassign" : "assign";
    button.disabled = !!pending;
    button.addEventListener("click", function () { sendToCandidate(candidate); });
    append(row, el("kbd", "c-rank", String(candidate.rank)), glyph("glyph-patrol is-available"),
             el("span", "c-id", candidate.patrol_id), el("span", "c-dist", candidate.distance),
             el("span", "c-eta", candidate.eta), button);
    list.appendChild(row);
  });
  var note = nearestMessage ? el("div", "c-note", nearestMessage) : null;
  box.replaceChildren(title, list);
  if (note) box.appendChild(note);
  if (pending) box.appendChild(el("div", "c-note", "Sending…"));
}

/* A heading that is true: "nearer" only when every patrol listed is nearer than the one assigned. */
function candidatesTitle(assignment) {
  var kind = "nearest";
  var words = "Nearest available patrols";
  if (assignment) {
    var current = currentDistanceM(assignment);
    var nearer = current !== null && panels.candidates.length > 0 &&
      panels.candidates.every(function (c) { return c.distance_m < current; });
    kind = nearer ? "nearer" : "other";
    words = nearer ? "Reassign to a nearer patrol" : "Reassign to another available patrol";
  }
  var title = el("h3", "c-title", words);
  title.dataset.kind = kind;
  return title;
}

function currentDistanceM(assignment) {
  var patrol = model.units.patrols.get(assignment.patrol_id);
  var sighting = model.units.sightings.get(assignment.sighting_id);
  if (!patrol || !sighting || typeof patrol.lat !== "number" || typeof sighting.lat !== "number") return null;
  return distanceM(patrol, sighting);
}

// ---- alerts --------------------------------------------------------------------------------------
panels.compareAlerts = compareAlerts; // the alerts' order (browser tests)

/* The panel is drawn by alerts.js (one line per subject, pinned, grouped by kind). */
function renderAlerts() {
  alertAges = alertBoard.render();
}
panels.renderAlerts = renderAlerts;
panels.act = act;
panels.focusAlert = focusAlert;

function focusAlert(alert) {
  if (alert.kind === "sighting_unassigned" && model.units.sightings.has(alert.unit_id)) {
    panels.select(alert.unit_id);
    return;
  }
  var where = overlays.alertPosition(alert);
  if (where) overlays.reveal(where.latlng[0], where.latlng[1]);
}

// ---- keeping up -----------------------------------------------------------------------------------
/* "S-0012 ended by the operator: left, situation over": how the selected sighting ended, from its delta. */
function endingMessage(unit) {
  var name = unit && typeof unit.number === "string" ? unit.number : "The selected sighting";
  return name + " " + endingText(unit);
}

function onChange(changes) {
  var selected = panels.selected;
  if (selected && changes.sightings && changes.sightings.removed.indexOf(selected) >= 0) {
    panels.clear();
    var ended = (changes.sightings.ended || []).filter(function (unit) { return unit.sighting_id === selected; });
    showMessage(true, endingMessage(ended[0]));
  } else if (changes.sightings || changes.assignments) {
    renderDetail();
    if (changes.assignments) renderCandidates(); // "Assign" becomes "Reassign", or back
  }
  if (changes.alerts) renderAlerts();
  if (panels.selected && changes.patrols) {
    var candidateIds = panels.candidates.map(function (c) { return c.patrol_id; });
    var candidateChanged = changes.patrols.changed.concat(changes.patrols.removed).some(function (id) {
      var patrol = model.units.patrols.get(id);
      return candidateIds.indexOf(id) >= 0 && (!patrol || patrol.status !== "available");
    });
    refreshSoon(candidateChanged ? 200 : 2000); // a candidate gone: now; patrols moving: every 2 s at most
  }
}

function tick(now) {
  if (detailAge) detailAge.textContent = timeAgo(now - detailAge.ts);
  alertAges.forEach(function (age) { age.textContent = timeAgo(now - age.ts); });
}
