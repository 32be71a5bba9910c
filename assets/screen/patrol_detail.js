/*
 * Supervisor wall screen: a patrol's detail (issue 11, item 4; see main.js for the file map), opened by
 * clicking the patrol on the map or on the board (or Enter in the board's search): status and time in
 * status, current assignment with the sighting's number, last report, and its status changes this
 * shift, read by the server from the record. Esc or × closes it.
 */
import { el, append } from "../common/dom.js";
import { age as timeAgo, span } from "../common/time.js";
import { S, byId, clock, gatewayNow } from "./state.js";
import { glyph } from "./glyph.js";
import { ASSIGNMENT_WORDS, PATROL_STATUS_WORDS, knownOr } from "./words.js";
import { model, onPictureChange, onSecond } from "./model.js";
import { mapView } from "./map.js";
import { panels } from "./panels.js";
import { queue } from "./queue.js";
import { ask } from "./unit_questions.js";

var DETAIL_REFRESH_MS = 1000;
var CLICK_TOLERANCE_PX = 14;
var LABELS = PATROL_STATUS_WORDS;
var CAUSES = { report: "crew report", assigned: "assigned", acknowledged: "acknowledged", en_route: "en route",
               on_scene: "on scene", cleared: "cleared", cancelled: "cancelled" };

var detail = null; // {patrolId, answer, askedAt, status}
var parts = {};
var down = null;

export const patrolDetail = {
  init: function () {
    parts.card = byId("unit_detail");
    onPictureChange(onChange);
    onSecond(function (now) { if (detail && parts.report) renderReport(now); });
    document.addEventListener("keydown", onKey, true); // capture: Esc closes the card before anything else
    document.addEventListener("mousedown", function (event) { down = [event.clientX, event.clientY]; }, true);
    document.addEventListener("click", onMapClick, true);
  },
  open: openDetail,
  close: closeDetail,
  get detail() { return detail; }
};

function onChange(changes) {
  if (!detail || !(changes.patrols || changes.assignments)) return;
  var patrol = model.units.patrols.get(detail.patrolId);
  var touched = changes.assignments || (changes.patrols.changed.concat(changes.patrols.removed)
    .indexOf(detail.patrolId) >= 0 && (!patrol || patrol.status !== detail.status));
  if (touched && Date.now() - detail.askedAt > DETAIL_REFRESH_MS) askDetail();
  else if (touched) setTimeout(function () { if (detail) askDetail(); }, DETAIL_REFRESH_MS);
}

function onDetail(answer, request) {
  if (detail && detail.patrolId === request.patrol_id) {
    detail.answer = answer;
    renderDetail();
  }
}

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
  ask({ query: "detail", patrol_id: detail.patrolId }, onDetail);
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
  if (event.key !== "Escape" || !detail || queue.dialogOpen() || panels.confirmOpen()) return;
  var target = event.target;
  if (target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) return; // Esc there clears the field
  closeDetail();
  event.preventDefault();
  event.stopPropagation();
}
