/*
 * Supervisor wall screen: every unit at hand (issue 11, item 4; see main.js for the file map).
 *
 * - Any available patrol, not only the five nearest: the board's available rows show their distance
 *   and ETA to the selected sighting with an Assign button, and under the nearest patrols a call sign
 *   typed ("a" focuses it) lists the matching available patrols, Enter or a click sends the first
 *   (↑/↓ choose). Distances and ETAs are the server's (dispatch/ui/actions.py `units_for`: the ranking
 *   rules of the nearest list); the assignment itself is the candidate list's (panels.js
 *   sendPatrol: same action, same refusals, same reassign confirmation).
 * - Time in status on the board: once per page load the server says when every patrol entered its
 *   current status (from the record), so a reload shows the true time, not "≥ since the page opened".
 *
 * A patrol's detail is patrol_detail.js's. Questions to the server go through unit_questions.js.
 */
import { el, append } from "../common/dom.js";
import { byId } from "./state.js";
import { glyph } from "./glyph.js";
import { model, onPictureChange } from "./model.js";
import { board } from "./board.js";
import { panels } from "./panels.js";
import { queue } from "./queue.js";
import { ask } from "./unit_questions.js";

var TYPE_DELAY_MS = 120;
var REACH_REFRESH_MS = 3000; // the board's distances, asked again at most this often while patrols move

var reach = null; // {sightingId, number, byPatrol: Map, at}
var reachAskedAt = 0;
var typed = { text: "", rows: [], at: 0, timer: null, sightingId: null, message: "" };
var parts = {};

export const units = {
  init: function () {
    parts.any = byId("assign_any");
    buildAssignAny();
    onPictureChange(onChange);
    document.addEventListener("keydown", onKey, true); // capture, after the patrol detail's Esc
  },
  onSelect: onSelect,
  /* The board's distances to the selected sighting: {number, byPatrol} or null (asked when missing or old). */
  reachFor: function () {
    var selected = panels.selected;
    if (!selected) return null;
    if (!reach || reach.sightingId !== selected || Date.now() - reach.at > REACH_REFRESH_MS) askReach();
    return reach && reach.sightingId === selected ? reach : null;
  },
  get typed() { return typed; }
};

// ---- keeping up -----------------------------------------------------------------------------------
function onChange(changes, info) {
  if (info && info.first) ask({ query: "since" }, onSince);
  if ((changes.patrols || changes.assignments) && panels.selected && typed.text) {
    scheduleTyped(1000); // a listed patrol taken meanwhile leaves the matches
  }
}

/* When every patrol entered its current status, from the record (once per page load). */
function onSince(answer) {
  if (answer.ok) board.applySince(answer.since || {});
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
  ask({ query: "available", sighting_id: selected }, onReach);
}

function onReach(answer, request) {
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
  ask({ query: "available", sighting_id: selected, text: text }, onTyped);
}

function onTyped(answer, request) {
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

// ---- keys ---------------------------------------------------------------------------------------------
/* "a" focuses the call sign field while a sighting is selected and no confirm step is open. */
function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key !== "a" || event.defaultPrevented || queue.dialogOpen() || panels.confirmOpen()) return;
  var field = event.target;
  if (field && (field.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(field.tagName))) return;
  if (!panels.selected || !parts.input) return;
  event.preventDefault();
  parts.input.focus();
}
