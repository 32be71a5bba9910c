/*
 * Supervisor wall screen: the header and the keyboard (see main.js for the file map).
 *
 * Header: the link status (shape + word + colour: ● LIVE, ▲ RECONNECTING, ■ OFFLINE, and
 * "polling every 2 s" while the fallback runs), the counts, the site's wall clock.
 *
 * Keyboard (documented on screen, dispatch/ui/supervisor.py KEY_HELP): 1-5 sends the n-th
 * nearest patrol, ↑/↓ or j/k move in the queue, Esc clears the selection, x closes the
 * selected sighting and m merges it into the sighting it probably repeats (each then asks
 * to confirm: while that step is open, its keys are queue.js's), f fits the map to every
 * unit and open sighting, l opens or closes the legend. A key that would reassign
 * opens panels.js's confirm step (Enter reassigns, Esc keeps the crew). Keys typed with a
 * modifier, or into a form field, are left alone.
 */
import { el } from "../common/dom.js";
import { S, byId, clock, gatewayNow } from "./state.js";
import { knownOr } from "./words.js";
import { model, onPictureChange, onSecond } from "./model.js";
import { feed, linkNow } from "./feed.js";
import { mapView } from "./map.js";
import { overlays } from "./overlays.js";
import { panels } from "./panels.js";
import { queue } from "./queue.js";

var STATE_WORDS = { connecting: "CONNECTING", live: "LIVE", reconnecting: "RECONNECTING", offline: "OFFLINE" };

var countsScheduled = false;

export const header = {
  init: function () {
    feed.onStatus(showLink);
    onPictureChange(function () {
      if (countsScheduled) return;
      countsScheduled = true;
      requestAnimationFrame(function () { countsScheduled = false; showCounts(gatewayNow()); });
    });
    onSecond(function (now) {
      byId("clock").textContent = clock(now);
      showCounts(now);
    });
    byId("clock").textContent = clock(gatewayNow());
    showCounts(gatewayNow());
  }
};

function showLink(status) {
  var box = byId("link_status");
  var state = knownOr(status.state, STATE_WORDS, "offline");
  box.className = "link is-" + state + (status.polling ? " is-polling" : "") +
    (state === "live" && status.upstream === "lost" ? " is-upstream-lost" : "");
  box.dataset.state = state;
  box.dataset.polling = status.polling ? "true" : "false";
  box.querySelector(".link-text").textContent = STATE_WORDS[state];
  var detail = "";
  if (state === "live" && status.upstream === "lost") detail = "gateway has lost Redis: picture frozen";
  else if (status.polling && status.pollError) detail = "polling failed: " + status.pollError;
  else if (status.polling) detail = "polling every " + Math.round(S.config.poll_ms / 1000) + " s";
  box.querySelector(".link-detail").textContent = detail;
}

function setCount(name, total, noun, part, partLabel) {
  var element = byId(name);
  var text = total + " " + noun + (total === 1 ? "" : "s");
  element.replaceChildren(el("b", null, String(total)), document.createTextNode(text.slice(String(total).length)));
  if (part) element.appendChild(el("span", "count-part warn", part + " " + partLabel));
}

function showCounts(now) {
  var units = model.units;
  var lost = 0;
  var lostAfter = S.config.map.link_lost_ms;
  var judgedAt = linkNow(now); // feed time: a feed outage is not a link loss (model.js)
  units.drones.forEach(function (drone) { if (judgedAt - drone.ts > lostAfter) lost += 1; });
  var available = 0;
  units.patrols.forEach(function (patrol) { if (patrol.status === "available") available += 1; });
  var unassigned = 0;
  units.sightings.forEach(function (_, id) { if (!model.assignmentBySighting.has(id)) unassigned += 1; });
  var critical = 0;
  units.alerts.forEach(function (alert) { if (alert.severity === "critical" && alert.state !== "acknowledged") critical += 1; });
  setCount("count_sightings", units.sightings.size, "sighting", unassigned, "unassigned");
  setCount("count_patrols", units.patrols.size, "patrol", 0, "");
  byId("count_patrols").appendChild(el("span", "count-part", available + " available"));
  setCount("count_drones", units.drones.size, "drone", lost, "lost");
  setCount("count_alerts", units.alerts.size, "alert", critical, "critical");
}

// ---- keyboard ----------------------------------------------------------------------------------
export const keys = {
  init: function () { document.addEventListener("keydown", onKey); }
};

function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
  var target = event.target;
  if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
  var key = event.key;
  if (queue.dialogOpen()) {
    queue.dialogKey(key);
  } else if (panels.confirmOpen()) {
    panels.confirmKey(key); // the reassign confirm step: Enter or Esc, nothing else
  } else if (key === "x" && panels.selected) {
    queue.openClose(panels.selected);
  } else if (key === "m" && panels.selected) {
    queue.openMerge(panels.selected);
  } else if (key >= "1" && key <= "5" && key.length === 1) {
    panels.pick(Number(key));
  } else if (key === "ArrowDown" || key === "j") {
    move(1);
  } else if (key === "ArrowUp" || key === "k") {
    move(-1);
  } else if (key === "Escape") {
    panels.clear();
  } else if (key === "f") {
    mapView.fitAll();
  } else if (key === "l") {
    overlays.toggleLegend();
  } else {
    return;
  }
  event.preventDefault();
}

function move(step) {
  var order = queue.order();
  if (!order.length) return;
  var at = order.indexOf(panels.selected);
  var next = at < 0 ? (step > 0 ? 0 : order.length - 1) : Math.min(order.length - 1, Math.max(0, at + step));
  panels.select(order[next]);
}
