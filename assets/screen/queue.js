/*
 * Supervisor wall screen: the sighting queue (see main.js for the file map).
 *
 * Every open sighting, most urgent first (priority, then the longest waiting), with an age
 * that ticks every second. Unassigned ones stand out (a warning mark, the word UNASSIGNED
 * and a heavy border, not only a colour); assigned ones name their patrol and its state.
 * A sighting that arrives while the screen is up flashes, and beeps if the supervisor
 * turned the sound on (off by default: a wall screen must not startle a room by itself).
 * One row element per sighting, reused and moved, never rebuilt from scratch.
 *
 * Ending a sighting (dispatch/domain/sightings.py): an unassigned row has a "Close" button
 * (key x on the selected row) that opens a confirm step with the reason codes (keys 1-5, a
 * short text for "other", Enter confirms, Esc goes back). A row that looks like a duplicate
 * of an earlier one (same category, within the configured distance and time: the Python rule
 * `probable_duplicates`, mirrored here) is flagged and has "Merge into …" (key m), also
 * confirmed. The server re-checks everything in the same atomic step as assigning.
 */
import { el, append } from "../common/dom.js";
import { age as timeAgo } from "../common/time.js";
import { S, byId, clock, gatewayNow } from "./state.js";
import { glyph } from "./glyph.js";
import { ASSIGNMENT_WORDS, knownOr, sightingLabel } from "./words.js";
import { compareSightings, priorityOf, probableDuplicates } from "./queue_rules.js";
import { buildConfirmDialog } from "./confirm.js";
import { model, onPictureChange, onSecond, sightingLabelOf } from "./model.js";
import { panels } from "./panels.js";

var ASSIGNMENT_GLYPHS = { assigned: "assigned", acknowledged: "assigned", en_route: "en_route",
                          on_scene: "on_scene" };
var FLASH_MS = 6000;

var box = null;
var countEl = null;
var rows = new Map(); // sighting id -> row parts
var order = [];
var seen = new Set(); // sightings already shown once: anything else is new
var soundOn = false;
var audio = null;
var duplicateOf = new Map(); // sighting id -> the earlier sighting it probably repeats
var dialog = null; // the confirm step: {root, mode, sightingId, into, reason, text}

export const queue = {
  init: function () {
    box = byId("queue");
    countEl = byId("queue_count");
    box.setAttribute("role", "listbox");
    onPictureChange(onChange);
    onSecond(tick);
    bindSound();
    buildDialog();
    render([]);
  },
  /* The confirm step (keys): open for the selected sighting, and whether it is open. */
  openClose: function (sightingId) { openDialog("close", sightingId); },
  openMerge: function (sightingId) {
    if (duplicateOf.has(sightingId)) openDialog("merge", sightingId);
  },
  dialogOpen: function () { return !!(dialog && dialog.mode); },
  dialogKey: dialogKey,
  duplicateOf: function (sightingId) { return duplicateOf.get(sightingId) || null; },
  /* Sighting ids in the order shown. */
  order: function () { return order.slice(); },
  setSelected: function (selectedId) {
    rows.forEach(function (row, id) {
      var selected = id === selectedId;
      row.root.classList.toggle("is-selected", selected);
      row.root.setAttribute("aria-selected", selected ? "true" : "false");
      if (selected) row.root.scrollIntoView({ block: "nearest" });
    });
  },
  beep: beep,
  get soundOn() { return soundOn; }
};

queue.compare = compareSightings; // the queue's order (browser tests)

function onChange(changes, info) {
  if (!changes.sightings && !changes.assignments && !info.first) return;
  var fresh = [];
  if (changes.sightings) {
    changes.sightings.changed.forEach(function (id) {
      if (seen.has(id)) return;
      seen.add(id);
      if (!info.first) fresh.push(id);
    });
    changes.sightings.removed.forEach(function (id) { seen.delete(id); });
  }
  render(fresh);
}

function render(fresh) {
  var sightings = Array.from(model.units.sightings.values()).sort(compareSightings);
  order = sightings.map(function (s) { return s.sighting_id; });
  duplicateOf = probableDuplicates(sightings, S.config.endings);
  if (dialog && dialog.mode && !model.units.sightings.has(dialog.sightingId)) closeDialog();
  var wanted = new Set(order);
  rows.forEach(function (row, id) {
    if (!wanted.has(id)) {
      row.root.remove();
      rows.delete(id);
    }
  });
  var unassigned = 0;
  var now = gatewayNow();
  sightings.forEach(function (sighting, index) {
    var id = sighting.sighting_id;
    var row = rows.get(id) || createRow(id);
    var assignment = model.assignmentBySighting.get(id);
    if (!assignment) unassigned += 1;
    fill(row, sighting, assignment, now);
    if (box.children[index] !== row.root) box.insertBefore(row.root, box.children[index] || null);
  });
  var empty = box.querySelector(".q-empty");
  if (!order.length && !empty) box.appendChild(el("div", "q-empty", "No open sighting"));
  if (order.length && empty) empty.remove();
  countEl.textContent = order.length + " open · " + unassigned + " unassigned";
  countEl.classList.toggle("warn", unassigned > 0);
  fresh.forEach(function (id) { announce(rows.get(id)); });
  queue.setSelected(panels.selected);
}

function createRow(id) {
  var row = { root: el("div", "q-row") };
  row.root.dataset.sightingId = id;
  row.root.setAttribute("role", "option");
  row.pin = el("span", "q-pin");
  row.number = el("span", "q-num");
  row.prio = el("span", "q-prio");
  row.category = el("span", "q-cat");
  row.time = el("span", "q-time");
  row.age = el("span", "q-age");
  row.note = el("span", "q-note");
  row.state = el("div", "q-state");
  row.ending = el("div", "q-ending");
  // The age first (it ticks, and matters most), the clock time and the note on the line below.
  var top = append(el("div", "q-top"), row.number, row.prio, row.category, row.age);
  var sub = append(el("div", "q-sub"), row.time, row.note);
  append(row.root, row.pin, append(el("div", "q-main"), top, sub), row.state, row.ending);
  row.root.addEventListener("click", function () { panels.select(id); });
  rows.set(id, row);
  return row;
}

function fill(row, sighting, assignment, now) {
  var priority = priorityOf(sighting);
  var letter = S.config.map.category_letters[sighting.category] || "?";
  var original = duplicateOf.get(sighting.sighting_id) || "";
  var signature = [sightingLabel(sighting), priority, letter, sighting.ts, sighting.note,
                   assignment && assignment.patrol_id, assignment && assignment.state, original].join("|");
  row.sighting = sighting;
  if (row.signature !== signature) {
    row.signature = signature;
    [1, 2, 3].forEach(function (p) { row.root.classList.toggle("prio-" + p, p === priority); });
    row.root.classList.toggle("is-assigned", !!assignment);
    row.root.classList.toggle("is-unassigned", !assignment);
    row.pin.replaceChildren(glyph("glyph-sighting prio-" + priority, letter));
    row.number.textContent = sightingLabel(sighting);
    row.prio.textContent = "P" + priority;
    row.category.textContent = S.config.map.category_letters[sighting.category] ? sighting.category : "other";
    row.time.textContent = clock(sighting.ts);
    row.note.textContent = sighting.note || "";
    if (assignment) {
      var state = knownOr(assignment.state, ASSIGNMENT_WORDS, "assigned");
      row.state.replaceChildren(glyph("glyph-patrol is-" + ASSIGNMENT_GLYPHS[state]),
                                el("span", "q-patrol", assignment.patrol_id),
                                el("span", "q-assignment", ASSIGNMENT_WORDS[state]));
    } else {
      row.state.replaceChildren(el("span", "warn-mark", "!"), el("span", "q-unassigned", "UNASSIGNED"));
    }
    fillEnding(row, sighting.sighting_id, assignment, original);
  }
  row.age.textContent = timeAgo(now - sighting.ts);
}

/* Close (and merge, when flagged) buttons: only an unassigned sighting can end from here. */
function fillEnding(row, id, assignment, original) {
  row.root.classList.toggle("is-duplicate", !!original);
  row.ending.replaceChildren();
  if (assignment) return;
  if (original) {
    row.ending.appendChild(el("span", "q-dup", "DUPLICATE? of " + sightingLabelOf(original)));
    row.ending.appendChild(button("q-merge", "Merge", "merge", function () { openDialog("merge", id); }));
  }
  row.ending.appendChild(button("q-close", "Close", "close", function () { openDialog("close", id); }));
}

function button(className, label, action, onClick) {
  var element = el("button", "q-btn " + className, label);
  element.type = "button";
  element.dataset.action = action;
  element.addEventListener("click", function (event) {
    event.stopPropagation(); // not a click on the row (that selects)
    onClick();
  });
  return element;
}

// ---- the confirm step -------------------------------------------------------------------------
function buildDialog() {
  var reasons = el("div", "end-reasons");
  S.config.endings.reasons.forEach(function (pair, index) {
    var choice = el("button", "end-reason", (index + 1) + " · " + pair[1]);
    choice.type = "button";
    choice.dataset.reason = pair[0];
    choice.addEventListener("click", function () { chooseReason(pair[0]); });
    reasons.appendChild(choice);
  });
  var text = el("input", "end-text");
  text.type = "text";
  text.maxLength = S.config.endings.max_text;
  text.placeholder = "why (a few words)";
  text.addEventListener("keydown", function (event) {
    if (event.key === "Enter" || event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      dialogKey(event.key);
    }
  });
  var hint = el("div", "end-hint");
  var parts = buildConfirmDialog({ id: "end-dialog", confirmLabel: "Confirm (Enter)", backLabel: "Back (Esc)",
                                   onConfirm: confirmDialog, onBack: closeDialog, parts: [reasons, text, hint] });
  dialog = { root: parts.root, title: parts.title, reasons: reasons, text: text, hint: hint, confirm: parts.confirm,
             mode: null };
}

function openDialog(mode, sightingId) {
  if (!dialog || !model.units.sightings.has(sightingId)) return;
  if (model.assignmentBySighting.get(sightingId)) return; // the server would refuse: no button either
  dialog.mode = mode;
  dialog.sightingId = sightingId;
  dialog.into = mode === "merge" ? duplicateOf.get(sightingId) : null;
  dialog.reason = null;
  dialog.text.value = "";
  dialog.root.dataset.mode = mode;
  dialog.reasons.hidden = mode !== "close";
  dialog.title.textContent = mode === "close"
    ? "Close sighting " + sightingLabelOf(sightingId) + " without sending anyone: why?"
    : "Merge sighting " + sightingLabelOf(sightingId) + " into " + sightingLabelOf(dialog.into) +
      "? Both stay on the record, " + sightingLabelOf(dialog.into) + " stays open.";
  showReason();
  dialog.root.hidden = false;
}

function closeDialog() {
  if (!dialog) return;
  dialog.mode = null;
  dialog.root.hidden = true;
}

function chooseReason(reason) {
  dialog.reason = reason;
  showReason();
  if (reason === "other") dialog.text.focus();
}

function showReason() {
  var other = dialog.reason === "other";
  Array.prototype.forEach.call(dialog.reasons.children, function (choice) {
    var chosen = choice.dataset.reason === dialog.reason;
    choice.classList.toggle("is-chosen", chosen);
    choice.setAttribute("aria-pressed", chosen ? "true" : "false");
  });
  dialog.text.hidden = !other;
  var ready = dialog.mode === "merge" || !!dialog.reason;
  dialog.confirm.disabled = !ready;
  dialog.hint.textContent = dialog.mode === "close" && !dialog.reason ? "Choose a reason (1-5)" : "";
}

function confirmDialog() {
  if (!dialog.mode) return;
  if (dialog.mode === "close") {
    if (!dialog.reason) return;
    var request = { action: "close", sighting_id: dialog.sightingId, reason: dialog.reason };
    if (dialog.reason === "other") request.text = dialog.text.value;
    panels.act(request);
  } else {
    panels.act({ action: "merge", sighting_id: dialog.sightingId, into: dialog.into });
  }
  closeDialog();
}

/* Keys while the confirm step is open: 1-5 choose a reason, Enter confirms, Esc goes back. */
function dialogKey(key) {
  if (!dialog || !dialog.mode) return false;
  var reasons = S.config.endings.reasons;
  if (dialog.mode === "close" && key.length === 1 && key >= "1" && key <= String(reasons.length)) {
    chooseReason(reasons[Number(key) - 1][0]);
  } else if (key === "Enter") {
    confirmDialog();
  } else if (key === "Escape") {
    closeDialog();
  }
  return true; // every other key is swallowed while the step is open
}

function tick(now) {
  rows.forEach(function (row) { row.age.textContent = timeAgo(now - row.sighting.ts); });
}

function announce(row) {
  if (!row) return;
  row.root.classList.add("is-new");
  setTimeout(function () { row.root.classList.remove("is-new"); }, FLASH_MS);
  if (soundOn) beep(priorityOf(row.sighting));
}

// ---- sound: off by default, WebAudio, no file to load ----------------------------------------
function bindSound() {
  var button = byId("sound");
  button.addEventListener("click", function () {
    soundOn = !soundOn;
    button.setAttribute("aria-pressed", soundOn ? "true" : "false");
    button.textContent = soundOn ? "Sound on" : "Sound off";
    button.classList.toggle("is-on", soundOn);
    if (soundOn) {
      // Browsers allow audio only after a gesture: this click is one.
      var Context = window.AudioContext || window.webkitAudioContext;
      if (!audio && Context) audio = new Context();
      if (audio && audio.state === "suspended") audio.resume();
      beep(3);
    }
  });
}

/* One short tone; two, higher, for a priority 1. */
function beep(priority) {
  if (!audio) return;
  var count = priority === 1 ? 2 : 1;
  for (var i = 0; i < count; i++) {
    var start = audio.currentTime + i * 0.22;
    var oscillator = audio.createOscillator();
    var gain = audio.createGain();
    oscillator.frequency.value = priority === 1 ? 1046 : 784;
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.exponentialRampToValueAtTime(0.25, start + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.16);
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start(start);
    oscillator.stop(start + 0.18);
  }
}
