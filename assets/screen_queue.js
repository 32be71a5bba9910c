/*
 * Supervisor wall screen: the sighting queue (see screen_core.js for the file map).
 *
 * Every open sighting, most urgent first (priority, then the longest waiting), with an age
 * that ticks every second. Unassigned ones stand out (a warning mark, the word UNASSIGNED
 * and a heavy border, not only a colour); assigned ones name their patrol and its state.
 * A sighting that arrives while the screen is up flashes, and beeps if the supervisor
 * turned the sound on (off by default: a wall screen must not startle a room by itself).
 * One row element per sighting, reused and moved, never rebuilt from scratch.
 */
(function () {
  "use strict";

  var S = (window.dispatchScreen = window.dispatchScreen || {});
  var PRIORITIES = { 1: true, 2: true, 3: true };
  var ASSIGNMENT_WORDS = { assigned: "assigned", acknowledged: "acknowledged", en_route: "en route",
                           on_scene: "on scene" };
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

  var queue = {
    init: function () {
      box = S.byId("queue");
      countEl = S.byId("queue_count");
      box.setAttribute("role", "listbox");
      S.onChange(onChange);
      S.onTick(tick);
      bindSound();
      render([]);
    },
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
  S.queue = queue;

  function priorityOf(sighting) {
    return PRIORITIES[sighting.priority] ? sighting.priority : 3;
  }

  /* Most urgent first, then the one waiting longest; the id keeps two screens in the same order. */
  queue.compare = function (a, b) {
    return priorityOf(a) - priorityOf(b) || a.ts - b.ts || (a.sighting_id < b.sighting_id ? -1 : 1);
  };

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
    var sightings = Array.from(S.model.units.sightings.values()).sort(queue.compare);
    order = sightings.map(function (s) { return s.sighting_id; });
    var wanted = new Set(order);
    rows.forEach(function (row, id) {
      if (!wanted.has(id)) {
        row.root.remove();
        rows.delete(id);
      }
    });
    var unassigned = 0;
    var now = S.now();
    sightings.forEach(function (sighting, index) {
      var id = sighting.sighting_id;
      var row = rows.get(id) || createRow(id);
      var assignment = S.model.assignmentBySighting.get(id);
      if (!assignment) unassigned += 1;
      fill(row, sighting, assignment, now);
      if (box.children[index] !== row.root) box.insertBefore(row.root, box.children[index] || null);
    });
    var empty = box.querySelector(".q-empty");
    if (!order.length && !empty) box.appendChild(S.el("div", "q-empty", "No open sighting"));
    if (order.length && empty) empty.remove();
    countEl.textContent = order.length + " open · " + unassigned + " unassigned";
    countEl.classList.toggle("warn", unassigned > 0);
    fresh.forEach(function (id) { announce(rows.get(id)); });
    if (S.panels) queue.setSelected(S.panels.selected);
  }

  function createRow(id) {
    var row = { root: S.el("div", "q-row") };
    row.root.dataset.sightingId = id;
    row.root.setAttribute("role", "option");
    row.pin = S.el("span", "q-pin");
    row.number = S.el("span", "q-num");
    row.prio = S.el("span", "q-prio");
    row.category = S.el("span", "q-cat");
    row.time = S.el("span", "q-time");
    row.age = S.el("span", "q-age");
    row.note = S.el("span", "q-note");
    row.state = S.el("div", "q-state");
    // The age first (it ticks, and matters most), the clock time and the note on the line below.
    var top = S.append(S.el("div", "q-top"), row.number, row.prio, row.category, row.age);
    var sub = S.append(S.el("div", "q-sub"), row.time, row.note);
    S.append(row.root, row.pin, S.append(S.el("div", "q-main"), top, sub), row.state);
    row.root.addEventListener("click", function () { if (S.panels) S.panels.select(id); });
    rows.set(id, row);
    return row;
  }

  function fill(row, sighting, assignment, now) {
    var priority = priorityOf(sighting);
    var letter = S.config.map.category_letters[sighting.category] || "?";
    var signature = [sightingLabel(sighting), priority, letter, sighting.ts, sighting.note, assignment && assignment.patrol_id,
                     assignment && assignment.state].join("|");
    row.sighting = sighting;
    if (row.signature !== signature) {
      row.signature = signature;
      [1, 2, 3].forEach(function (p) { row.root.classList.toggle("prio-" + p, p === priority); });
      row.root.classList.toggle("is-assigned", !!assignment);
      row.root.classList.toggle("is-unassigned", !assignment);
      row.pin.replaceChildren(S.glyph("glyph-sighting prio-" + priority, letter));
      row.number.textContent = sightingLabel(sighting);
      row.prio.textContent = "P" + priority;
      row.category.textContent = S.config.map.category_letters[sighting.category] ? sighting.category : "other";
      row.time.textContent = S.clock(sighting.ts);
      row.note.textContent = sighting.note || "";
      if (assignment) {
        var state = S.known(assignment.state, ASSIGNMENT_WORDS, "assigned");
        row.state.replaceChildren(S.glyph("glyph-patrol is-" + ASSIGNMENT_GLYPHS[state]),
                                  S.el("span", "q-patrol", assignment.patrol_id),
                                  S.el("span", "q-assignment", ASSIGNMENT_WORDS[state]));
      } else {
        row.state.replaceChildren(S.el("span", "warn-mark", "!"), S.el("span", "q-unassigned", "UNASSIGNED"));
      }
    }
    row.age.textContent = S.age(now - sighting.ts);
  }

  // The incident number people read out (S-0142, given at ingest); the start of the id before numbering existed.
  function sightingLabel(sighting) {
    return typeof sighting.number === "string" && sighting.number ? sighting.number
      : String(sighting.sighting_id || "").slice(0, 8);
  }

  function tick(now) {
    rows.forEach(function (row) { row.age.textContent = S.age(now - row.sighting.ts); });
  }

  function announce(row) {
    if (!row) return;
    row.root.classList.add("is-new");
    setTimeout(function () { row.root.classList.remove("is-new"); }, FLASH_MS);
    if (soundOn) beep(priorityOf(row.sighting));
  }

  // ---- sound: off by default, WebAudio, no file to load ----------------------------------------
  function bindSound() {
    var button = S.byId("sound");
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
})();
