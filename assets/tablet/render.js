/*
 * Patrol tablet: drawing the view.
 *
 * Everything is redrawn from the view (picture.js) on every change and once a second (ages, the link):
 * a few dozen elements, cheaper than tracking what changed. Text only ever goes in through textContent.
 */
import { el } from "../common/dom.js";
import { live } from "../common/live_client.js";
import { age } from "../common/time.js";
import { alert } from "./alert.js";
import { linkState, linkText } from "./link.js";
import { tabletMap } from "./map.js";
import { renderMessage } from "./message.js";
import { outbox } from "./outbox.js";
import { now, page } from "./page.js";
import { assignment, drone as droneOverTarget, enabledActions, sighting as targetSighting, status } from "./picture.js";
import { here as whereWeAre } from "./position.js";
import { STATUS_ACTIONS, STEP_STATE } from "./view.js";

const STATUS_WORDS = { available: "AVAILABLE", assigned: "ASSIGNED", en_route: "EN ROUTE", on_scene: "ON SCENE",
                       unavailable: "UNAVAILABLE", unknown: "NO STATUS" };
const STATE_WORDS = { assigned: "New assignment", acknowledged: "Acknowledged", en_route: "En route",
                      on_scene: "On scene" };
const CATEGORY_WORDS = { lookout: "Look-out", deal: "Deal", vehicle: "Vehicle", gathering: "Gathering",
                         other: "Other" };
const PRIORITY_WORDS = { 1: "PRIORITY 1 · URGENT", 2: "PRIORITY 2", 3: "PRIORITY 3" };

export function render() {
  if (!page.started) return;
  const open = assignment();
  const root = page.byId("root");
  root.dataset.state = "ready";
  root.dataset.assignmentId = open ? open.unit.assignment_id : "";
  root.dataset.assignmentState = open ? open.state : "";
  renderStatus();
  renderTarget(open);
  renderButtons(open);
  renderMessage();
  renderLink();
  alert.set(open !== null && open.state === "assigned");
  tabletMap.update();
}

function renderStatus() {
  const shown = status();
  const box = page.byId("status");
  box.dataset.status = shown;
  box.textContent = STATUS_WORDS[shown] || shown.toUpperCase();
}

function renderTarget(open) {
  const box = page.byId("target");
  box.textContent = "";
  const direction = page.byId("direction");
  if (open === null) {
    box.appendChild(el("div", "tab-target-empty", "No assignment"));
    direction.textContent = "";
    return;
  }
  const unit = open.unit, sighting = targetSighting(), drone = droneOverTarget();
  box.appendChild(el("div", "tab-state", STATE_WORDS[open.state] || open.state));
  if (sighting === null) {
    box.appendChild(el("div", "tab-muted", "Sighting details not received yet"));
  } else {
    const head = el("div", "tab-target-head");
    // The incident number the supervisor reads out on the radio (S-0142, given at ingest).
    if (typeof sighting.number === "string" && sighting.number) {
      head.appendChild(el("span", "tab-number", sighting.number));
    }
    head.appendChild(el("span", "tab-category", CATEGORY_WORDS[sighting.category] || "Other"));
    head.appendChild(el("span", "tab-priority prio-" + (PRIORITY_WORDS[sighting.priority] ? sighting.priority : 3),
                        PRIORITY_WORDS[sighting.priority] || ""));
    box.appendChild(head);
    const seen = el("div", "tab-age");
    seen.appendChild(el("span", "tab-age-rel", age(now() - sighting.ts)));
    seen.appendChild(el("span", "tab-age-abs", " · seen " + page.clock(sighting.ts)));
    box.appendChild(seen);
    if (sighting.note) box.appendChild(el("blockquote", "tab-note", sighting.note));
    box.appendChild(el("div", "tab-drone", drone ? drone.drone_id + " over the scene" : (sighting.drone_id ?
      "Drone " + sighting.drone_id + ": no position" : "")));
  }
  box.appendChild(el("div", "tab-muted tab-assigned-by", "Sent by " + unit.supervisor_id + " at " +
    page.clock(unit.assigned_ts || unit.ts)));
  const here = whereWeAre();
  if (sighting && here) {
    direction.textContent = "";
    const arrow = el("span", "tab-arrow", "↑");
    const bearing = page.texts.bearing(here.lat, here.lon, sighting.lat, sighting.lon);
    arrow.style.transform = "rotate(" + Math.round(bearing) + "deg)";
    direction.appendChild(arrow);
    direction.appendChild(el("span", "tab-direction-text",
      page.texts.target(here.lat, here.lon, sighting.lat, sighting.lon)));
    direction.dataset.bearing = String(Math.round(bearing));
  } else {
    direction.textContent = sighting ? "Position unknown" : "";
  }
}

let outcomesOpen = false;
function renderButtons(open) {
  const enabled = enabledActions();
  page.byId("actions").querySelectorAll("button[data-action]").forEach(function (button) {
    const action = button.dataset.action;
    button.hidden = !(open ? STEP_STATE[action] : STATUS_ACTIONS[action]);
    button.disabled = enabled.indexOf(action) < 0;
  });
  if (!open || enabled.indexOf("clear") < 0) outcomesOpen = false;
  page.byId("outcomes").hidden = !outcomesOpen;
  page.byId("actions").hidden = outcomesOpen;
}

/** Clear first asks for the outcome: the outcome buttons replace the others until one is tapped. */
export function showOutcomes(open) {
  outcomesOpen = open;
  render();
}

// ---- the link: socket, API, waiting actions ---------------------------------------------------------------------
let socketDownSince = Date.now();

/** The link's state (link.js); socketDownFor also tells main.js when to poll. */
export function link() {
  const isLive = live.status.state === "live";
  if (isLive) socketDownSince = null;
  else if (socketDownSince === null) socketDownSince = Date.now();
  const socketDownFor = isLive ? 0 : Date.now() - socketDownSince;
  const waiting = outbox.items().length;
  const state = linkState({ live: isLive, waiting: waiting, unreachable: outbox.reachable === false,
                            socketDownFor: socketDownFor, offlineAfterMs: page.config.offline_after_ms });
  return { state: state, waiting: waiting, socketDownFor: socketDownFor };
}

export function renderLink() {
  if (!page.started) return;
  const current = link();
  const box = page.byId("link");
  box.dataset.state = current.state;
  box.dataset.waiting = String(current.waiting);
  box.textContent = linkText(current.state, current.waiting, page.config.poll_ms);
  page.byId("root").classList.toggle("is-offline", current.state === "offline");
}
