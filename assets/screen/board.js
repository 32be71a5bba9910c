/*
 * The unit status board of the wall screen (issue 11, item 4): every patrol with its status (shape
 * and word, never colour alone), time in status, current sighting's number and last report age;
 * sortable by column, filtered by status, searched by call sign as one types. Enter in the search
 * centres the map on the unit found (patrol or drone), as does a click on a row.
 *
 * Drones have their own section below the patrols: id, battery, in or out of every authorised zone
 * (the watcher's outside_zone alert), last report age. With a sighting selected, each available
 * patrol shows its distance and ETA to it (the server's figures, units.js) and an Assign
 * button; a click elsewhere on a patrol's row centres the map on it and opens its detail. Time in
 * status comes from the server's record once per page load (units.js), then from the changes
 * this page sees.
 *
 * Built from the screen's live model (S.model, model.js): no server round trip. At 1080p the
 * board is a toggle (its button, or the "u" key); on a 4K wall (style: min-width 3000px) it is a
 * column of its own, always shown. Its key listener is its own and ignores keys while an input,
 * a dialog or another handler has them.
 */
import { el, append } from "../common/dom.js";
import { age as timeAgo, span } from "../common/time.js";
import { S, byId, gatewayNow } from "./state.js";
import { glyph } from "./glyph.js";
import { PATROL_STATUS_WORDS, knownOr } from "./words.js";
import { compareBoardRows } from "./board_rules.js";
import { linkNow } from "./feed.js";
import { model, onPictureChange, onSecond, sightingLabelOf } from "./model.js";
import { mapView } from "./map.js";
import { panels } from "./panels.js";
import { queue } from "./queue.js";
import { units } from "./units.js";
import { patrolDetail } from "./patrol_detail.js";

var LABELS = PATROL_STATUS_WORDS;

var since = new Map(); // patrol_id -> {status, at}: when this screen saw the status begin
var state = { sort: "callsign", desc: false, filter: "", query: "", open: false };
var parts = null;

export const board = {
  init: function () {
    parts = {
      root: byId("board"), rows: byId("board_rows"), search: byId("board_search"),
      filter: byId("board_filter"), count: byId("board_count"), toggle: byId("board_toggle"),
      drones: byId("board_drones")
    };
    if (!parts.root) return;
    onPictureChange(onChange);
    onSecond(function () { if (shown()) { schedule(); renderDrones(gatewayNow()); } });
    parts.search.addEventListener("input", function () { state.query = parts.search.value.trim(); render(); });
    parts.search.addEventListener("keydown", onSearchKey);
    parts.filter.addEventListener("change", function () { state.filter = parts.filter.value; render(); });
    parts.root.addEventListener("click", onClick);
    if (parts.toggle) parts.toggle.addEventListener("click", function () { board.toggle(); });
    document.addEventListener("keydown", onKey);
  },
  get state() { return state; },
  /* When each patrol entered its current status, from the server's record: {id: {status, since_ms, exact}}.
     A status this page saw change keeps its own time. */
  applySince: function (found) {
    Object.keys(found).forEach(function (id) {
      var server = found[id];
      var patrol = model.units.patrols.get(id);
      var known = since.get(id);
      if (!patrol || !server || server.status !== patrol.status || typeof server.since_ms !== "number") return;
      if (known && known.observed && known.status === server.status) return;
      since.set(id, { status: server.status, at: server.since_ms, exact: server.exact === true, observed: false });
    });
    if (shown()) render();
  },
  refresh: function () { if (shown()) schedule(); },
  toggle: function (open) {
    state.open = typeof open === "boolean" ? open : !state.open;
    shownCache.at = -Infinity;
    document.getElementById(S.config.ids.screen).classList.toggle("board-open", state.open);
    if (parts.toggle) parts.toggle.setAttribute("aria-pressed", String(state.open));
    if (state.open) render();
    // The map's box changed: Leaflet must measure it again.
    if (mapView.map) setTimeout(function () { mapView.map.invalidateSize(); }, 0);
  },
  /* Centre the map on a patrol or a drone by its id (exact, else the only one starting so). */
  find: function (text) {
    var hit = lookup(text);
    if (!hit) return null;
    return mapView.centreOn(hit.kind, hit.id) ? hit : null;
  }
};

/* Whether the board is on screen. offsetParent makes the browser lay the page out: with deltas
   arriving twenty times a second that was a forced layout each (issue 15), so the answer is kept
   for SHOWN_FOR_MS; board.toggle forgets it at once. */
var SHOWN_FOR_MS = 250;
var shownCache = { value: false, at: -Infinity };
function shown() {
  var now = Date.now();
  if (now - shownCache.at >= SHOWN_FOR_MS) {
    shownCache.value = !!(parts && parts.root && parts.root.offsetParent !== null);
    shownCache.at = now;
  }
  return shownCache.value;
}

function onChange(changes) {
  if (changes.patrols) {
    changes.patrols.changed.forEach(function (id) { note(id, model.units.patrols.get(id)); });
    changes.patrols.removed.forEach(function (id) { since.delete(id); });
  }
  // Drones move several times a second: their section is redrawn with the one-second tick, and when
  // one comes or goes; the patrols only for what their rows show.
  if ((changes.patrols || changes.assignments || changes.sightings) && shown()) schedule();
  else if (changes.drones && shown() && (changes.drones.removed.length || changes.drones.changed.some(function (id) {
    return !parts.drones.querySelector('[data-drone-id="' + CSS.escape(id) + '"]');
  }))) renderDrones(gatewayNow());
}

/* At most one redraw per 200 ms: a busy feed brings many deltas a second, the eye needs one. */
var pending = false;
function schedule() {
  if (pending) return;
  pending = true;
  setTimeout(function () { pending = false; render(); }, 200);
}

function note(id, patrol) {
  var status = patrol && patrol.status;
  var known = since.get(id);
  if (known && known.status === status) return;
  var at = patrol && typeof patrol.ts === "number" ? patrol.ts : gatewayNow();
  // A status already held when this page first heard of the patrol began before `at`: shown as "≥"
  // (until the server's record says when it began: applySince).
  since.set(id, { status: status, at: known ? Math.max(at, known.at) : at, exact: !!known, observed: !!known });
}

function lookup(text) {
  var query = String(text || "").trim().toUpperCase();
  if (!query) return null;
  var kinds = ["patrols", "drones"];
  for (var i = 0; i < kinds.length; i++) {
    var exact = null;
    model.units[kinds[i]].forEach(function (_, id) { if (id.toUpperCase() === query) exact = id; });
    if (exact) return { kind: kinds[i], id: exact };
  }
  var starts = [];
  kinds.forEach(function (kind) {
    model.units[kind].forEach(function (_, id) {
      if (id.toUpperCase().indexOf(query) === 0) starts.push({ kind: kind, id: id });
    });
  });
  return starts.length === 1 ? starts[0] : null;
}

function rowsOf(now, reach) {
  var query = state.query.toUpperCase();
  var list = [];
  model.units.patrols.forEach(function (patrol, id) {
    var status = knownOr(patrol.status, LABELS, "unavailable");
    if (state.filter && status !== state.filter) return;
    if (query && id.toUpperCase().indexOf(query) < 0) return;
    var known = since.get(id);
    var assignment = model.assignmentByPatrol.get(id);
    var number = assignment ? sightingLabelOf(assignment.sighting_id) : "";
    list.push({ id: id, status: status, inStatus: known ? Math.max(0, now - known.at) : 0,
                reach: reach && status === "available" ? reach.byPatrol.get(id) || null : null,
                atLeast: !(known && known.exact), sighting: number,
                report: typeof patrol.ts === "number" ? Math.max(0, now - patrol.ts) : Infinity });
  });
  return list.sort(compareBoardRows(state.sort, state.desc));
}

function render() {
  var now = gatewayNow();
  var reach = panels.selected ? units.reachFor() : null;
  var list = rowsOf(now, reach);
  var body = document.createDocumentFragment();
  list.forEach(function (row) {
    var tr = el("tr", "b-row is-" + row.status);
    tr.dataset.patrolId = row.id;
    tr.dataset.status = row.status;
    var status = append(el("td", "b-status"), glyph("glyph-patrol is-" + row.status),
                          el("span", "b-status-text", LABELS[row.status]));
    append(tr, el("td", "b-call", row.id), status, el("td", "b-since", (row.atLeast ? "≥ " : "") + span(row.inStatus)),
             row.reach ? reachCell(row.reach, reach.number) : el("td", "b-sighting", row.sighting || "–"),
             el("td", "b-report", isFinite(row.report) ? timeAgo(row.report) : "–"));
    body.appendChild(tr);
  });
  parts.rows.replaceChildren(body);
  parts.count.textContent = list.length + " / " + model.units.patrols.size;
  renderDrones(now);
  parts.root.querySelectorAll("th[data-sort]").forEach(function (th) {
    var on = th.dataset.sort === state.sort;
    th.setAttribute("aria-sort", on ? (state.desc ? "descending" : "ascending") : "none");
  });
}

/* An available patrol's distance and ETA to the selected sighting, and the button that sends it. */
function reachCell(figures, number) {
  var cell = el("td", "b-sighting b-reach");
  var taken = panels && model.assignmentBySighting.has(panels.selected); // then it reassigns (and may confirm)
  var button = el("button", "btn btn-assign b-assign", taken ? "Reassign" : "Assign");
  button.type = "button";
  button.dataset.action = "assign-any";
  button.title = (taken ? "Reassign " : "Assign to ") + number + " (" + figures.distance + ", " + figures.eta + ")";
  button.setAttribute("aria-label", button.title);
  return append(cell, button, el("span", "b-dist", figures.distance), el("span", "b-eta", figures.eta));
}

/* The drones: id, battery, in or out of every authorised zone (the watcher's alert), last report. */
function renderDrones(now) {
  if (!parts.drones || !shown()) return;
  var query = state.query.toUpperCase();
  var lostAfter = S.config.map.link_lost_ms;
  var lowBelow = S.config.map.low_battery_pct;
  var ids = [];
  model.units.drones.forEach(function (_, id) { if (!query || id.toUpperCase().indexOf(query) >= 0) ids.push(id); });
  ids.sort(function (a, b) { return a.localeCompare(b, undefined, { numeric: true }); });
  var body = document.createDocumentFragment();
  ids.forEach(function (id) {
    var drone = model.units.drones.get(id);
    var battery = Number(drone.battery_pct);
    var outside = model.units.alerts.has("outside_zone:" + id);
    var age = typeof drone.ts === "number" ? Math.max(0, linkNow(now) - drone.ts) : Infinity;
    var state = age > lostAfter ? "lost" : battery < lowBelow ? "low_battery" : "ok";
    var tr = el("tr", "b-drone is-" + state + (outside ? " is-outside" : ""));
    tr.dataset.droneId = id;
    tr.dataset.zone = outside ? "outside" : "inside";
    var zone = append(el("td", "b-zone"), el("span", "b-zone-mark", outside ? "▲" : "●"),
                        document.createTextNode(outside ? " OUT OF ZONE" : " in zone"));
    append(tr, el("td", "b-call", id),
             el("td", "b-battery" + (state === "low_battery" ? " warn" : ""), isFinite(battery) ? Math.round(battery) + " %" : "–"),
             zone, el("td", "b-report", isFinite(age) ? (state === "lost" ? "LINK LOST · " : "") + timeAgo(age) : "–"));
    body.appendChild(tr);
  });
  parts.drones.replaceChildren(body);
}

function onClick(event) {
  var assign = event.target.closest("button[data-action=assign-any]");
  if (assign) {
    var figures = units.reachFor();
    var chosen = figures && figures.byPatrol.get(assign.closest("tr[data-patrol-id]").dataset.patrolId);
    if (chosen) units.send(chosen);
    return;
  }
  var drone = event.target.closest("tr[data-drone-id]");
  if (drone) {
    mapView.centreOn("drones", drone.dataset.droneId);
    return;
  }
  var th = event.target.closest("th[data-sort]");
  if (th) {
    if (state.sort === th.dataset.sort) state.desc = !state.desc;
    else { state.sort = th.dataset.sort; state.desc = false; }
    render();
    return;
  }
  var row = event.target.closest("tr[data-patrol-id]");
  if (!row) return;
  mapView.centreOn("patrols", row.dataset.patrolId);
  patrolDetail.open(row.dataset.patrolId);
}

function onSearchKey(event) {
  if (event.key === "Enter") {
    event.preventDefault();
    var hit = board.find(parts.search.value);
    parts.search.dataset.found = hit ? hit.kind + ":" + hit.id : "";
    parts.search.classList.toggle("is-miss", !hit);
    if (hit && hit.kind === "patrols") patrolDetail.open(hit.id);
  } else if (event.key === "Escape") {
    parts.search.value = "";
    state.query = "";
    parts.search.blur();
    render();
  }
}

function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
  var target = event.target;
  if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
  if (queue.dialogOpen()) return;
  if (document.querySelector("dialog[open], [role=dialog]:not([hidden])")) return;
  if (event.key === "u") {
    board.toggle();
  } else if (event.key === "/") {
    if (!state.open && !shown()) board.toggle(true);
    parts.search.focus();
  } else {
    return;
  }
  event.preventDefault();
}
