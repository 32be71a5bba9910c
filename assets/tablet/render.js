/*
 * Patrol tablet: drawing the view (see tablet_core.js for the file map).
 *
 * Everything is redrawn from T's view on every change and once a second (ages, the link): a few dozen
 * elements, cheaper than tracking what changed. Text only ever goes in through textContent.
 */
(function () {
  "use strict";

  var T = (window.dispatchTablet = window.dispatchTablet || {});
  var STATUS_WORDS = { available: "AVAILABLE", assigned: "ASSIGNED", en_route: "EN ROUTE", on_scene: "ON SCENE",
                       unavailable: "UNAVAILABLE", unknown: "NO STATUS" };
  var STATE_WORDS = { assigned: "New assignment", acknowledged: "Acknowledged", en_route: "En route",
                      on_scene: "On scene" };
  var CATEGORY_WORDS = { lookout: "Look-out", deal: "Deal", vehicle: "Vehicle", gathering: "Gathering",
                         other: "Other" };
  var PRIORITY_WORDS = { 1: "PRIORITY 1 · URGENT", 2: "PRIORITY 2", 3: "PRIORITY 3" };

  var message = { ok: null, text: "" };
  /* ok: true (done), false (refused), null (nothing to say). */
  T.say = function (ok, text) { message = { ok: ok, text: text || "" }; renderMessage(); };

  // ---- rendering ----------------------------------------------------------------------------------------------
  T.render = function () {
    if (!T.started) return;
    var open = T.assignment();
    var root = T.byId("root");
    root.dataset.state = "ready";
    root.dataset.assignmentId = open ? open.unit.assignment_id : "";
    root.dataset.assignmentState = open ? open.state : "";
    renderStatus();
    renderTarget(open);
    renderButtons(open);
    renderMessage();
    T.renderLink();
    if (T.alert) T.alert.set(open !== null && open.state === "assigned");
    if (T.map) T.map.update();
  };

  function renderStatus() {
    var status = T.status();
    var box = T.byId("status");
    box.dataset.status = status;
    box.textContent = STATUS_WORDS[status] || status.toUpperCase();
  }

  function renderTarget(open) {
    var box = T.byId("target");
    box.textContent = "";
    var direction = T.byId("direction");
    if (open === null) {
      box.appendChild(T.el("div", "tab-target-empty", "No assignment"));
      direction.textContent = "";
      return;
    }
    var unit = open.unit, sighting = T.sighting(), drone = T.drone();
    box.appendChild(T.el("div", "tab-state", STATE_WORDS[open.state] || open.state));
    if (sighting === null) {
      box.appendChild(T.el("div", "tab-muted", "Sighting details not received yet"));
    } else {
      var head = T.el("div", "tab-target-head");
      // The incident number the supervisor reads out on the radio (S-0142, given at ingest).
      if (typeof sighting.number === "string" && sighting.number) {
        head.appendChild(T.el("span", "tab-number", sighting.number));
      }
      head.appendChild(T.el("span", "tab-category", CATEGORY_WORDS[sighting.category] || "Other"));
      var priority = T.el("span", "tab-priority prio-" + (PRIORITY_WORDS[sighting.priority] ? sighting.priority : 3),
                          PRIORITY_WORDS[sighting.priority] || "");
      head.appendChild(priority);
      box.appendChild(head);
      var age = T.el("div", "tab-age");
      age.appendChild(T.el("span", "tab-age-rel", T.text.age(T.now() - sighting.ts)));
      age.appendChild(T.el("span", "tab-age-abs", " · seen " + T.clock(sighting.ts)));
      box.appendChild(age);
      if (sighting.note) box.appendChild(T.el("blockquote", "tab-note", sighting.note));
      box.appendChild(T.el("div", "tab-drone", drone ? drone.drone_id + " over the scene" : (sighting.drone_id ?
        "Drone " + sighting.drone_id + ": no position" : "")));
    }
    box.appendChild(T.el("div", "tab-muted tab-assigned-by", "Sent by " + unit.supervisor_id + " at " +
      T.clock(unit.assigned_ts || unit.ts)));
    var here = T.here();
    if (sighting && here) {
      direction.textContent = "";
      var arrow = T.el("span", "tab-arrow", "↑");
      var bearing = T.text.bearing(here.lat, here.lon, sighting.lat, sighting.lon);
      arrow.style.transform = "rotate(" + Math.round(bearing) + "deg)";
      direction.appendChild(arrow);
      direction.appendChild(T.el("span", "tab-direction-text",
        T.text.target(here.lat, here.lon, sighting.lat, sighting.lon)));
      direction.dataset.bearing = String(Math.round(bearing));
    } else {
      direction.textContent = sighting ? "Position unknown" : "";
    }
  }

  var outcomesOpen = false;
  function renderButtons(open) {
    var enabled = T.enabledActions();
    var buttons = T.byId("actions").querySelectorAll("button[data-action]");
    Array.prototype.forEach.call(buttons, function (button) {
      var action = button.dataset.action;
      var relevant = open ? !!T.STEP_STATE[action] : !!T.STATUS_ACTIONS[action];
      button.hidden = !relevant;
      button.disabled = enabled.indexOf(action) < 0;
    });
    if (!open || enabled.indexOf("clear") < 0) outcomesOpen = false;
    T.byId("outcomes").hidden = !outcomesOpen;
    T.byId("actions").hidden = outcomesOpen;
  }

  function renderMessage() {
    if (!T.started) return;
    var box = T.byId("message");
    box.textContent = message.text;
    if (message.ok === null) delete box.dataset.ok;
    else box.dataset.ok = String(message.ok);
  }

  // ---- the link: socket, API, waiting actions ---------------------------------------------------------------
  var socketDownSince = Date.now();
  T.linkState = function () {
    var live = window.dispatchLive && window.dispatchLive.status.state === "live";
    if (live) socketDownSince = null;
    else if (socketDownSince === null) socketDownSince = Date.now();
    var waiting = T.outbox.items().length;
    var unreachable = T.outbox.reachable === false;
    var socketLong = !live && Date.now() - socketDownSince >= T.config.offline_after_ms;
    var state = unreachable ? "offline" : live ? (waiting ? "sending" : "live") : socketLong ? "polling" : "connecting";
    return { state: state, waiting: waiting, socketDownFor: live ? 0 : Date.now() - socketDownSince };
  };

  T.renderLink = function () {
    if (!T.started) return;
    var link = T.linkState();
    var box = T.byId("link");
    var n = link.waiting;
    var waiting = n ? " — " + n + " action" + (n === 1 ? "" : "s") + " waiting" : "";
    var words = {
      offline: "Offline" + waiting,
      sending: "Sending " + n + " action" + (n === 1 ? "" : "s") + "…",
      live: "Live",
      polling: "Live feed down, updating every " + Math.round(T.config.poll_ms / 1000) + " s" + waiting,
      connecting: "Connecting…" + waiting
    };
    box.dataset.state = link.state;
    box.dataset.waiting = String(n);
    box.textContent = words[link.state];
    T.byId("root").classList.toggle("is-offline", link.state === "offline");
  };

  /* Taps on the buttons (one listener per group, set up by start). Clear first asks for the outcome. */
  T.onTap = function (event) {
    var button = event.target.closest("button");
    if (!button || button.disabled) return;
    if (button.dataset.action) {
      if (button.dataset.action === "clear") { outcomesOpen = true; T.render(); return; }
      T.act(button.dataset.action);
    } else if (button.dataset.outcome !== undefined) {
      outcomesOpen = false;
      if (button.dataset.outcome) T.act("clear", { outcome: button.dataset.outcome });
      else T.render();
    }
  };
})();
