/*
 * Replay page: the event list beside the map, kept in step with the instant.
 *
 * Virtualised (issue 15): a shift has thousands of events, and building a row for each cost a
 * main-thread task of several hundred ms. Only the rows in view, plus a margin (event_window.js),
 * are in the DOM, absolutely placed in a box as tall as the whole list, so the scroll bar, scrolling
 * to the end and the browser's own scrolling behave as if every row were there. A row is built from
 * the window's columns when it comes into view, with its past/current state, so nothing per row is
 * kept for the rows out of view: moving the instant touches only the rows on screen.
 *
 * Clicking a row, or Enter on a focused one, asks for its instant (onPick). The list takes the focus
 * (one row at a time, a roving tabindex): ↑ ↓ Page Up/Down Home End move it, the row kept in the DOM
 * while focused. Screen readers get a list whose items say their place in the whole
 * (aria-setsize/aria-posinset) and which one is current (aria-current).
 */
import { el } from "../common/dom.js";
import { indexAt, nextAfter, prevBefore } from "./event_index.js";
import { rowAfterKey, scrollToShow, visibleRows } from "./event_window.js";
import { KIND_WORDS, describe, eventCount } from "./event_words.js";
import { byId, clock } from "./page.js";

const FALLBACK_ROW_PX = 31;

let box = null;
let count = null;
let sizer = null; // as tall as every row together; the built rows are placed in it
let columns = null;
let n = 0;
let stamps = new Float64Array(0);
let current = -1;
let focused = -1; // the row that has (or last had) the keyboard focus, -1 for none
let rowHeight = FALLBACK_ROW_PX;
let measured = false; // false while the list was hidden when its rows were measured: measured again when shown
let built = new Map(); // index -> row element, for the rows in the DOM
let pick = null;
let scheduled = false;

/** Binds the list; onPick(t) is called with the instant of a clicked row. */
export function initEvents(onPick) {
  box = byId("events");
  count = byId("events_count");
  pick = onPick;
  box.addEventListener("click", function (event) {
    const row = event.target.closest("[data-index]");
    if (!row) return;
    focused = Number(row.dataset.index);
    built.forEach(function (each, i) { markRow(each, i); });
    onPick(stamps[focused]);
  });
  box.addEventListener("keydown", onKey);
  box.addEventListener("scroll", scheduleRender, { passive: true });
  if (typeof ResizeObserver === "function") new ResizeObserver(scheduleRender).observe(box);
}

export function clearEvents() {
  columns = null;
  n = 0;
  stamps = new Float64Array(0);
  current = -1;
  focused = -1;
  built = new Map();
  sizer = null;
  box.replaceChildren(el("div", "rp-empty", "Loading…"));
  count.textContent = "";
}

/** The window's events, as the server sends them: columns (ts, kind, event, id, sighting_id, patrol_id, detail, actor). */
export function setEvents(eventColumns) {
  columns = eventColumns;
  n = columns.ts.length;
  stamps = Float64Array.from(columns.ts);
  current = -1;
  focused = -1;
  built = new Map();
  count.textContent = eventCount(n);
  if (!n) {
    sizer = null;
    box.replaceChildren(el("div", "rp-empty", "Nothing happened in this window."));
    return;
  }
  sizer = el("div", "rp-ev-sizer");
  box.replaceChildren(sizer);
  box.scrollTop = 0;
  measureRows();
  render();
}

/** Marks the events up to t as past and the last of them as current, scrolled into view. */
export function highlightEvents(t) {
  const next = indexAt(stamps, t);
  if (next === current) return;
  current = next;
  built.forEach(function (row, i) { markRow(row, i); });
  if (current >= 0) showRow(current);
  else if (n) box.scrollTop = 0;
  render();
}

/** The instant of the next (direction > 0) or previous event from t, null if none. */
export function eventFrom(t, direction) {
  return direction > 0 ? nextAfter(stamps, t) : prevBefore(stamps, t);
}

/** The index of the current event (-1 for none). */
export function currentEvent() {
  return current;
}

/** What the list holds, for tests and benchmarks: its events, the rows built, the row height. */
export function eventListState() {
  return { events: n, built: built.size, rowHeight: rowHeight, focused: focused };
}

/** One row's height, from a row built and measured once per window (the CSS fixes it; fonts may not). */
function measureRows() {
  const probe = buildRow(0);
  sizer.appendChild(probe);
  const height = probe.getBoundingClientRect().height;
  probe.remove();
  measured = height > 0;
  rowHeight = measured ? height : FALLBACK_ROW_PX;
  sizer.style.height = n * rowHeight + "px";
}

function scheduleRender() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(function () {
    scheduled = false;
    render();
  });
}

/** Builds the rows now in view (and the focused one), drops the others; the DOM keeps index order. */
function render() {
  if (!sizer || !n) return;
  if (!measured && box.clientHeight > 0) { // hidden when the window came: every row placed again
    built.forEach(function (row) { row.remove(); });
    built = new Map();
    measureRows();
  }
  const range = visibleRows(box.scrollTop, box.clientHeight, rowHeight, n);
  const keepFocused = focused >= 0 && box.contains(document.activeElement);
  const next = new Map();
  const inOrder = [];
  function keep(i) {
    const row = built.get(i) || buildRow(i);
    next.set(i, row);
    inOrder.push(row);
  }
  if (keepFocused && focused < range.first) keep(focused);
  for (let i = range.first; i <= range.last; i++) keep(i);
  if (keepFocused && focused > range.last) keep(focused);
  // Rows kept are never moved (a moved element loses the focus): the others go, the new ones are slotted in.
  built.forEach(function (row, i) { if (!next.has(i)) row.remove(); });
  built = next;
  let cursor = sizer.firstChild;
  for (const row of inOrder) {
    if (row === cursor) cursor = cursor.nextSibling;
    else sizer.insertBefore(row, cursor);
  }
}

function buildRow(i) {
  const kind = columns.kind[i];
  const event = columns.event[i];
  const fields = { id: columns.id[i], sighting_id: columns.sighting_id[i], patrol_id: columns.patrol_id[i],
    detail: columns.detail[i] };
  const row = el("div", "rp-ev is-" + kind + " ev-" + event);
  row.dataset.index = String(i);
  row.dataset.ts = String(columns.ts[i]);
  row.dataset.kind = kind;
  row.dataset.event = event;
  row.dataset.id = fields.id || "";
  row.setAttribute("role", "listitem");
  row.setAttribute("aria-setsize", String(n));
  row.setAttribute("aria-posinset", String(i + 1));
  row.style.transform = "translateY(" + i * rowHeight + "px)";
  row.append(el("span", "rp-ev-time", clock(columns.ts[i])),
    el("span", "rp-ev-kind", KIND_WORDS[kind] || kind),
    el("span", "rp-ev-what", describe(kind, event, fields)),
    el("span", "rp-ev-actor", columns.actor[i] || ""));
  markRow(row, i);
  return row;
}

function markRow(row, i) {
  row.classList.toggle("is-past", i <= current);
  row.classList.toggle("is-current", i === current);
  if (i === current) row.setAttribute("aria-current", "true");
  else row.removeAttribute("aria-current");
  // The roving tabindex: the focused row, else the current one, else the first, is the list's tab stop.
  const stop = focused >= 0 ? focused : Math.max(0, current);
  row.tabIndex = i === stop ? 0 : -1;
}

/** Scrolls the least that shows row i whole. */
function showRow(i) {
  const top = scrollToShow(i, box.scrollTop, box.clientHeight, rowHeight);
  if (top !== null) box.scrollTop = top;
}

function onKey(event) {
  if (!n || event.ctrlKey || event.metaKey || event.altKey) return;
  const row = event.target.closest ? event.target.closest("[data-index]") : null;
  const from = row ? Number(row.dataset.index) : focused;
  if (event.key === "Enter") {
    if (from >= 0) {
      focused = from;
      pick(stamps[from]);
      event.preventDefault();
    }
    return;
  }
  const page = Math.max(1, Math.floor(box.clientHeight / rowHeight) - 1);
  const to = rowAfterKey(event.key, from, n, page);
  if (to === null) return;
  event.preventDefault();
  focusRow(to);
}

function focusRow(i) {
  focused = i;
  showRow(i);
  render();
  built.forEach(function (row, index) { markRow(row, index); });
  const row = built.get(i);
  if (row) row.focus({ preventScroll: true });
}
