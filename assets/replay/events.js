/*
 * Replay page: the event list beside the map, kept in step with the instant.
 *
 * One row per event of the window, built once per window. As the instant moves, the events up to it
 * are marked as past, the latest one as current and scrolled into view; only the rows between the
 * old and the new current one are touched (event_index.js), so a shift's thousands of events cost
 * nothing per frame. Clicking a row asks for its instant (onPick).
 */
import { el } from "../common/dom.js";
import { indexAt, nextAfter, prevBefore, pastChange } from "./event_index.js";
import { KIND_WORDS, describe, eventCount } from "./event_words.js";
import { byId, clock } from "./page.js";

let box = null;
let count = null;
let rows = [];
let stamps = new Float64Array(0);
let current = -1;

/** Binds the list; onPick(t) is called with the instant of a clicked row. */
export function initEvents(onPick) {
  box = byId("events");
  count = byId("events_count");
  box.addEventListener("click", function (event) {
    const row = event.target.closest("[data-index]");
    if (row) onPick(stamps[Number(row.dataset.index)]);
  });
}

export function clearEvents() {
  rows = [];
  stamps = new Float64Array(0);
  current = -1;
  box.replaceChildren(el("div", "rp-empty", "Loading…"));
  count.textContent = "";
}

/** The window's events, as the server sends them: columns (ts, kind, event, id, sighting_id, patrol_id, detail, actor). */
export function setEvents(columns) {
  const n = columns.ts.length;
  stamps = Float64Array.from(columns.ts);
  rows = new Array(n);
  current = -1;
  const fragment = document.createDocumentFragment();
  for (let i = 0; i < n; i++) {
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
    row.append(el("span", "rp-ev-time", clock(columns.ts[i])),
      el("span", "rp-ev-kind", KIND_WORDS[kind] || kind),
      el("span", "rp-ev-what", describe(kind, event, fields)),
      el("span", "rp-ev-actor", columns.actor[i] || ""));
    rows[i] = row;
    fragment.appendChild(row);
  }
  box.replaceChildren(n ? fragment : el("div", "rp-empty", "Nothing happened in this window."));
  count.textContent = eventCount(n);
}

/** Marks the events up to t as past and the last of them as current. */
export function highlightEvents(t) {
  const next = indexAt(stamps, t);
  const change = pastChange(current, next);
  if (change === null) return;
  let i;
  if (change.past) for (i = change.past[0]; i <= change.past[1]; i++) rows[i].classList.add("is-past");
  else for (i = change.notPast[0]; i <= change.notPast[1]; i++) rows[i].classList.remove("is-past");
  if (current >= 0 && rows[current]) rows[current].classList.remove("is-current");
  current = next;
  if (current >= 0) {
    rows[current].classList.add("is-current");
    rows[current].scrollIntoView({ block: "nearest" });
  } else if (rows.length) {
    box.scrollTop = 0;
  }
}

/** The instant of the next (direction > 0) or previous event from t, null if none. */
export function eventFrom(t, direction) {
  return direction > 0 ? nextAfter(stamps, t) : prevBefore(stamps, t);
}

/** The index of the current event (-1 for none). */
export function currentEvent() {
  return current;
}
