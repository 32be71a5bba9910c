/*
 * Supervisor wall screen: every unit at hand (issue 11, item 4; see main.js for the file map).
 *
 * - Any available patrol, not only the five nearest: the board's available rows show their distance
 *   and ETA to the selected sighting with an Assign button, and under the nearest patrols a call sign
 *   typed ("a" focuses it) lists the matching available patrols, Enter or a click sends the first
 *   (↑/↓ choose). Distances and ETAs are the server's (dispatch/ui/actions.py `units_for`: the ranking
 *   rules of the nearest list); the assignment itself is the candidate list's (panels.js
 *   sendPatrol: same action, same refusals, same reassign confirmation).
 * - A patrol's detail, opened by clicking it on the map or on the board (or Enter in the board's
 *   search): status and time in status, current assignment with the sighting's number, last report,
 *   and its status changes this shift, read by the server from the record. Esc or × closes it.
 * - Time in status on the board: once per page load the server says when every patrol entered its
 *   current status (from the record), so a reload shows the true time, not "≥ since the page opened".
 *
 * Questions go one at a time through one Dash store (units_request -> units_result), the latest of
 * each kind waiting its turn; an answer is matched to its question by nonce. Text only (S.el).
 */
import { el, append } from "../common/dom.js";
import { age as timeAgo, span } from "../common/time.js";
import { S, byId, clock, gatewayNow, setProps } from "./state.js";
import { glyph } from "./glyph.js";
import { ASSIGNMENT_WORDS, PATROL_STATUS_WORDS, knownOr } from "./words.js";
import { model, onPictureChange, onSecond } from "./model.js";
import { board } from "./board.js";
import { mapView } from "./map.js";
import { panels } from "./panels.js";
import { queue } from "./queue.js";

var TIMEOUT_MS = 10000;
var TYPE_DELAY_MS = 120;
var REACH_REFRESH_MS = 3000; // the board's distances, asked again at most this often while patrols move
var DETAIL_REFRESH_MS = 1000;
var CLICK_TOLERANCE_PX = 14;
var LABELS = PATROL_STATUS_WORDS;
var CAUSES = { report: "crew report", assigned: "assigned", acknowledged: "acknowledged", en_route: "en route",
               on_scene: "on scene", cleared: "cleared", cancelled: "cancelled" };

var nonce = 0;
var inFlight = null;
var queued = {}; // query kind -> the latest request waiting
var reach = null; // {sightingId, number, byPatrol: Map, at}
var reachAskedAt = 0;
var typed = { text: "", rows: [], at: 0, timer: null, sightingId: null, message: "" };
var detail = null; // {patrolId, answer, askedAt, status}
var parts = {};
var down = null;

export const units = {
  init: function () {
    parts.any = byId("assign_any");
    parts.card = byId("unit_detail");
    buildAssignAny();
    onPictureChange(onChange);
    onSecond(onTick);
    document.addEventListener("keydown", onKey, true); // capture: Esc closes the card before anything else
    document.addEventListener("mousedown", function (event) { down = [event.clientX, event.clientY]; }, true);
    document.addEventListener("click", onMapClick, true);
  },
  onAnswer: onAnswer,
  onSelect: onSelect,
  /* The board's distances to the selected sighting: {number, byPatrol} or null (asked when missing or old). */
  reachFor: function () {
    var selected = panels.selected;
    if (!selected) return null;
    if (!reach || reach.sightingId !== selected || Date.now() - reach.at > REACH_REFRESH_MS) askReach();
    return reach && reach.sightingId === selected ? reach : null;
  },
  openDetail: openDetail,
  closeDetail: closeDetail,
  get detail() { return detail; },
  get typed() { return typed; }
};

// ---- questions ----------------------------------------------------------------------------------
function ask(request) {
  queued[request.query] = request;
  pump();
}

function pump() {
  if (inFlight) return;
  var kinds = Object.keys(queued);
  if (!kinds.length) return;
  var request = queued[kinds[0]];
  delete queued[kinds[0]];
  nonce += 1;
  inFlight = { nonce: nonce, request: request };
  inFlight.timer = setTimeout(function () { inFlight = null; pump(); }, TIMEOUT_MS);
  setProps("units_request", { data: Object.assign({ nonce: nonce }, request) });
}

function onAnswer(answer) {
  if (!inFlight || answer.nonce !== inFlight.nonce) return;
  var request = inFlight.request;
  clearTimeout(inFlight.timer);
  inFlight = null;
  try {
    if (request.query === "since") {
      if (answer.ok) board.applySince(answer.since || {});
    } else if (request.query === "available" && request.text) {
      onTyped(request, answer);
    } else if (request.query === "available") {
      onReach(request, answer);
    } else if (request.query === "detail") {
      if (detail && detail.patrolId === request.patrol_id) {
        detail.answer = answer;
        renderDetail();
      }
    }
  } finally {
    pump();
  }
}

// ---- keeping up -----------------------------------------------------------------------------------
function onChange(changes, info) {
  if (info && info.first) ask({ query: "since" });
  if (detail && (changes.patrols || changes.assignments)) {
    var patrol = model.units.patrols.get(detail.patrolId);
    var touched = changes.assignments || (changes.patrols.changed.concat(changes.patrols.removed)
      .indexOf(detail.patrolId) >= 0 && (!patrol || patrol.status !== detail.status));
    if (touched && Date.now() - detail.askedAt > DETAIL_REFRESH_MS) askDetail();
    else if (touched) setTimeout(function () { if (detail) askDetail(); }, DETAIL_REFRESH_MS);
  }
  if ((changes.patrols || changes.assignments) && panels.selected && typed.text) {
    scheduleTyped(1000); // a listed patrol taken meanwhile leaves the matches
  }
}

function onTick(now) {
  if (detail && parts.report) renderReport(now);
}

function onSelect(sightingId) {
  if (typed.sightingId !== sightingId) {
    typed.sightingId = sightingId;
    typed.text = "";
    typed.rows = [];
    typed.message = "";
    if (parts.input) parts.input.value = "";
    renderTyped();
  }
  parts.any.hidden = !sightingId;
  if (reach && reach.sightingId !== sightingId) reach = null;
  if (sightingId) board.refresh();
}

// ---- the board's distances ----------------------------------------------------------------------
function askReach() {
  var selected = panels.selected;
  if (!selected || Date.now() - reachAskedAt < 500) return;
  reachAskedAt = Date.now();
  ask({ query: "available", sighting_id: selected });
}

function onReach(request, answer) {
  if (!panels || request.sighting_id !== panels.selected) return;
  var byPatrol = new Map();
  (answer.ok && Array.isArray(answer.patrols) ? answer.patrols : []).forEach(function (row) {
    byPatrol.set(row.patrol_id, row);
  });
  reach = { sightingId: request.sighting_id, number: answer.number || "", byPatrol: byPatrol, at: Date.now() };
  board.refresh();
}

// ---- a typed call sign ----------------------------------------------------------------------------
function buildAssignAny() {
  if (!parts.any) return;
  var label = el("label", "any-label", "Any available patrol");
  var input = el("input", "any-input");
  input.type = "text";
  input.autocomplete = "off";
  input.spellcheck = false;
  input.maxLength = 16;
  input.placeholder = "type a call sign (a)";
  input.setAttribute("aria-label", "Assign any available patrol: type its call sign");
  label.appendChild(input);
  parts.input = input;
  parts.list = el("div", "any-list");
  parts.note = el("div", "any-note");
  append(parts.any, label, parts.list, parts.note);
  input.addEventListener("input", function () { scheduleTyped(TYPE_DELAY_MS); });
  input.addEventListener("keydown", onTypedKey);
}

function scheduleTyped(delayMs) {
  clearTimeout(typed.timer);
  typed.timer = setTimeout(askTyped, delayMs);
}

function askTyped() {
  if (typed.sendWhenIn && parts.input && parts.input.value.trim() === "") typed.sendWhenIn = false;
  var text = parts.input ? parts.input.value.trim() : "";
  var selected = panels.selected;
  typed.text = text;
  if (!text || !selected) {
    typed.rows = [];
    typed.message = "";
    renderTyped();
    return;
  }
  ask({ query: "available", sighting_id: selected, text: text });
}

function onTyped(request, answer) {
  if (!panels || request.sighting_id !== panels.selected || request.text !== typed.text) return; // late
  typed.rows = answer.ok && Array.isArray(answer.patrols) ? answer.patrols : [];
  typed.message = answer.message || "";
  typed.highlight = 0;
  typed.at = Date.now();
  renderTyped();
  if (typed.sendWhenIn) { // Enter was pressed before this answer came in
    typed.sendWhenIn = false;
    if (typed.rows.length) send(typed.rows[0]);
  }
}

function renderTyped() {
  if (!parts.list) return;
  var assigned = panels.selected && model.assignmentBySighting.get(panels.selected);
  var list = document.createDocumentFragment();
  typed.rows.forEach(function (row, i) {
    var line = el("div", "any-row" + (i === (typed.highlight || 0) ? " is-highlighted" : ""));
    line.dataset.patrolId = row.patrol_id;
    line.dataset.place = String(row.place);
    var button = el("button", "btn btn-assign", assigned ? "Reassign" : "Assign");
    button.type = "button";
    button.dataset.action = assigned ? "reassign" : "assign";
    button.addEventListener("click", function () { send(row); });
    var where = row.among_nearest ? "nearest #" + row.place : "#" + row.place + " by distance";
    append(line, glyph("glyph-patrol is-available"), el("span", "any-id", row.patrol_id),
             el("span", "any-dist", row.distance), el("span", "any-eta", row.eta),
             el("span", "any-place", where), button);
    list.appendChild(line);
  });
  parts.list.replaceChildren(list);
  parts.note.textContent = typed.message;
}

function onTypedKey(event) {
  if (event.key === "Enter") {
    event.preventDefault();
    clearTimeout(typed.timer);
    var current = parts.input.value.trim();
    if (current !== typed.text) { // the answer for what is typed is not in yet: ask, then send
      typed.sendWhenIn = true;
      askTyped();
      return;
    }
    var row = typed.rows[typed.highlight || 0];
    if (row) send(row);
  } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    event.preventDefault();
    if (!typed.rows.length) return;
    var step = event.key === "ArrowDown" ? 1 : -1;
    typed.highlight = Math.min(typed.rows.length - 1, Math.max(0, (typed.highlight || 0) + step));
    renderTyped();
  } else if (event.key === "Escape") {
    event.preventDefault();
    parts.input.value = "";
    askTyped();
    parts.input.blur();
  }
}

function send(row) {
  if (!panels || !panels.selected) return;
  panels.sendPatrol({ patrol_id: row.patrol_id, distance: row.distance, eta: row.eta,
                        distance_m: row.distance_m, rank: row.place });
  if (parts.input) parts.input.value = "";
  typed.text = "";
  typed.rows = [];
  typed.message = "";
  renderTyped();
}
units.send = send;

// ---- a patrol's detail ------------------------------------------------------------------------------
function openDetail(patrolId) {
  if (!patrolId || !model.units.patrols.has(patrolId)) return false;
  detail = { patrolId: patrolId, answer: null, askedAt: 0, status: null };
  parts.card.hidden = false;
  parts.card.dataset.patrolId = patrolId;
  renderDetail();
  askDetail();
  return true;
}

function askDetail() {
  if (!detail) return;
  detail.askedAt = Date.now();
  ask({ query: "detail", patrol_id: detail.patrolId });
}

function closeDetail() {
  detail = null;
  parts.report = null;
  if (!parts.card) return;
  parts.card.hidden = true;
  delete parts.card.dataset.patrolId;
  delete parts.card.dataset.loaded;
  parts.card.replaceChildren();
}

function renderDetail() {
  var card = parts.card;
  var answer = detail.answer;
  var close = el("button", "ud-close", "×");
  close.type = "button";
  close.title = "Close (Esc)";
  close.setAttribute("aria-label", "Close the patrol's detail");
  close.addEventListener("click", closeDetail);
  var patrol = model.units.patrols.get(detail.patrolId) || {};
  var status = knownOr(answer && answer.ok ? answer.status : patrol.status, LABELS, "unavailable");
  detail.status = answer && answer.ok ? answer.status : null;
  var head = append(el("div", "ud-head"), glyph("glyph-patrol is-" + status),
                      el("span", "ud-call", detail.patrolId), statusWord(status), close);
  parts.report = el("div", "ud-report");
  if (!answer) {
    card.replaceChildren(head, el("div", "ud-note", "Reading the record…"), parts.report);
    renderReport(gatewayNow());
    return;
  }
  if (!answer.ok) {
    card.replaceChildren(head, el("div", "ud-note is-refused", answer.message || "Not available"));
    return;
  }
  card.dataset.loaded = "true";
  card.replaceChildren(head, sinceLine(answer), assignmentLine(answer.assignment), parts.report,
                       historyBlock(answer));
  renderReport(gatewayNow());
}

function statusWord(status) {
  var word = el("span", "ud-status", LABELS[status]);
  word.dataset.status = status;
  return word;
}

function sinceLine(answer) {
  var line = el("div", "ud-since");
  var since = answer.since;
  if (!since) {
    line.textContent = "Time in status: not in the record read";
    return line;
  }
  line.dataset.sinceMs = String(since.since_ms);
  line.dataset.exact = since.exact ? "true" : "false";
  var held = span(gatewayNow() - since.since_ms);
  line.textContent = LABELS[knownOr(since.status, LABELS, "unavailable")] + " for " + (since.exact ? "" : "≥ ") +
    held + (since.exact ? " (since " : " (already at ") + clock(since.since_ms) + ")";
  return line;
}

function assignmentLine(assignment) {
  var line = el("div", "ud-assignment");
  if (!assignment) {
    line.textContent = "No assignment";
    return line;
  }
  line.dataset.number = assignment.number || "";
  line.dataset.assignmentId = assignment.assignment_id || "";
  var state = ASSIGNMENT_WORDS[assignment.state] || "assigned";
  var sent = typeof assignment.assigned_ts === "number" ? assignment.assigned_ts : assignment.ts;
  append(line, el("span", "ud-label", "Sighting "), el("b", "ud-number", assignment.number || ""),
           document.createTextNode(" · " + state + " · sent " + clock(sent) + " by " + (assignment.supervisor_id || "?")));
  return line;
}

function renderReport(now) {
  var patrol = model.units.patrols.get(detail && detail.patrolId);
  if (!parts.report) return;
  parts.report.textContent = patrol && typeof patrol.ts === "number"
    ? "Last report " + timeAgo(now - patrol.ts) + " (" + clock(patrol.ts) + ")"
    : "No report in the picture";
}

function historyBlock(answer) {
  var block = el("div", "ud-history-block");
  var list = el("ol", "ud-history");
  (answer.history || []).forEach(function (change) {
    var status = knownOr(change.status, LABELS, "unavailable");
    var item = el("li", "ud-change is-" + status);
    item.dataset.status = status;
    item.dataset.ts = String(change.ts);
    var cause = CAUSES[change.cause] || "";
    append(item, el("span", "ud-time", clock(change.ts)), glyph("glyph-patrol is-" + status),
             el("span", "ud-word", LABELS[status]),
             el("span", "ud-cause", cause + (change.sighting ? " · " + change.sighting : "")));
    list.appendChild(item);
  });
  append(block, el("h4", "ud-subhead", "Status this shift"), list);
  if (!(answer.history || []).length) block.appendChild(el("div", "ud-note", "No status change in the record"));
  if (answer.older) block.appendChild(el("div", "ud-note", answer.older + " earlier change" + (answer.older === 1 ? "" : "s") + " not listed"));
  if (!answer.complete) block.appendChild(el("div", "ud-note", "Record read from " + clock(answer.read_from_ms)));
  return block;
}

// ---- clicking a patrol on the map (no hook in map.js: the click is placed on the drawn units) ----
function onMapClick(event) {
  var mapBox = S.config && byId("map");
  if (!mapBox || !mapBox.contains(event.target) || !mapView.map) return;
  if (event.target.closest(".leaflet-control, .legend, .layer-toggles")) return;
  if (down && Math.abs(down[0] - event.clientX) + Math.abs(down[1] - event.clientY) > 6) return; // a drag
  var unit = event.target.closest("[data-unit-id]");
  if (unit && unit.dataset.kind !== "patrol") return; // a sighting selects itself, a drone has no card
  var id = unit ? unit.dataset.unitId : nearestPatrolTo(event);
  if (id) openDetail(id);
}

function nearestPatrolTo(event) {
  var map = mapView.map;
  var point = map.mouseEventToContainerPoint(event);
  var best = null;
  var bestPx = CLICK_TOLERANCE_PX;
  model.units.patrols.forEach(function (_, id) {
    var at = mapView.position("patrols", id);
    if (!at) return;
    var px = map.latLngToContainerPoint(at).distanceTo(point);
    if (px <= bestPx) { bestPx = px; best = id; }
  });
  return best;
}

// ---- keys ---------------------------------------------------------------------------------------------
function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === "Escape" && detail && !modalOpen()) {
    var target = event.target;
    if (target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) return; // Esc there clears the field
    closeDetail();
    event.preventDefault();
    event.stopPropagation();
    return;
  }
  if (event.key !== "a" || event.defaultPrevented || modalOpen()) return;
  var field = event.target;
  if (field && (field.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(field.tagName))) return;
  if (!panels || !panels.selected || !parts.input) return;
  event.preventDefault();
  parts.input.focus();
}

function modalOpen() {
  return queue.dialogOpen() || panels.confirmOpen();
}
