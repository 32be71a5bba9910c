/*
 * Supervisor wall screen: the selected sighting, its nearest patrols, the actions, the alerts
 * (see screen_core.js for the file map).
 *
 * Selecting a sighting asks the server for the nearest available patrols (a Dash callback:
 * the page writes {sighting_id, nonce} into a dcc.Store with set_props, the answer comes
 * back through a clientside callback, dispatch/ui/actions.py); only the answer to the
 * latest question is shown. The list is asked again after every action and when patrols
 * change, so a patrol taken by another supervisor leaves it within a second or two.
 *
 * Actions (assign, reassign, cancel, acknowledge) go one at a time through the same kind of
 * store; the answer says done or why not, in words, shown as text. What the action changed
 * reaches this screen, and every other one, through the gateway's deltas like anything else.
 */
(function () {
  "use strict";

  var S = (window.dispatchScreen = window.dispatchScreen || {});
  var ASSIGNMENT_WORDS = { assigned: "assigned", acknowledged: "acknowledged", en_route: "en route",
                           on_scene: "on scene" };
  var SEVERITY_RANK = { critical: 0, warning: 1, info: 2 };
  var ACTION_TIMEOUT_MS = 10000;
  var CONFIRM_MS = 4000;
  var MESSAGE_MS = 20000;

  var nearestNonce = 0;
  var nearestAskedAt = 0;
  var nearestMessage = "";
  var refreshTimer = null;
  var refreshDue = 0;
  var actionNonce = 0;
  var pending = null; // the action waiting for its answer
  var messageTimer = null;
  var detailAge = null;
  var alertAges = [];

  var panels = {
    selected: null,
    candidates: [],
    nearestTimings: [], // ms from asking to the list drawn: the "feels instant" figure
    init: function () {
      S.onChange(onChange);
      S.onTick(tick);
      renderDetail();
      renderCandidates();
      renderAlerts();
    },
    select: function (sightingId) {
      if (!S.model.units.sightings.has(sightingId)) return;
      if (panels.selected !== sightingId) {
        panels.selected = sightingId;
        panels.candidates = [];
        nearestMessage = "Finding the nearest available patrols…";
        if (S.overlays) S.overlays.clearCandidates();
      }
      askNearest();
      showSelection();
    },
    clear: function () {
      panels.selected = null;
      panels.candidates = [];
      nearestNonce += 1; // a late answer is for nobody now
      if (S.overlays) S.overlays.clearCandidates();
      showSelection();
    },
    /* The n-th candidate's button (keys 1-5): assign, or reassign when the sighting has a patrol. */
    pick: function (rank) {
      var candidate = panels.candidates.filter(function (c) { return c.rank === rank; })[0];
      if (candidate) sendToCandidate(candidate);
    },
    onNearest: onNearest,
    onAction: onAction,
    act: function (request) { act(request); } // the queue's close and merge (screen_queue.js)
  };
  S.panels = panels;

  function showSelection() {
    renderDetail();
    renderCandidates();
    if (S.queue) S.queue.setSelected(panels.selected);
    if (S.mapView) S.mapView.setSelected(panels.selected);
  }

  // ---- nearest patrols --------------------------------------------------------------------------
  function askNearest() {
    if (!panels.selected) return;
    clearTimeout(refreshTimer);
    refreshTimer = null;
    nearestNonce += 1;
    nearestAskedAt = performance.now();
    S.setProps("nearest_request", { data: { sighting_id: panels.selected, nonce: nearestNonce } });
  }

  /* Ask again in `delayMs`, unless a sooner refresh is already due. */
  function refreshSoon(delayMs) {
    var due = Date.now() + delayMs;
    if (refreshTimer !== null && refreshDue <= due) return;
    clearTimeout(refreshTimer);
    refreshDue = due;
    refreshTimer = setTimeout(askNearest, delayMs);
  }

  function onNearest(answer) {
    if (answer.nonce !== nearestNonce || answer.sighting_id !== panels.selected) return; // a late answer
    panels.candidates = answer.ok && Array.isArray(answer.candidates) ? answer.candidates : [];
    nearestMessage = answer.message || "";
    renderCandidates();
    if (S.overlays) S.overlays.showCandidates(panels.selected, panels.candidates);
    panels.nearestTimings.push(Math.round(performance.now() - nearestAskedAt));
  }

  // ---- actions -------------------------------------------------------------------------------------
  function act(request) {
    if (pending) {
      showMessage(false, "Still waiting for the previous action's answer");
      return;
    }
    actionNonce += 1;
    pending = { nonce: actionNonce, request: request };
    pending.timer = setTimeout(function () {
      pending = null;
      showMessage(false, "No answer from the server: the action may not have been done, check the map");
      renderCandidates();
    }, ACTION_TIMEOUT_MS);
    S.setProps("action_request", { data: Object.assign({ nonce: actionNonce }, request) });
    renderCandidates();
  }

  function onAction(answer) {
    if (!pending || answer.nonce !== pending.nonce) return;
    clearTimeout(pending.timer);
    pending = null;
    showMessage(answer.ok, answer.message || (answer.ok ? "Done" : "Refused"));
    renderCandidates();
    renderDetail();
    askNearest(); // the patrol just sent, or just refused, is no longer a candidate
  }

  function sendToCandidate(candidate) {
    var assignment = panels.selected && S.model.assignmentBySighting.get(panels.selected);
    if (assignment) act({ action: "reassign", assignment_id: assignment.assignment_id, patrol_id: candidate.patrol_id });
    else act({ action: "assign", sighting_id: panels.selected, patrol_id: candidate.patrol_id });
  }

  function showMessage(ok, text) {
    var box = S.byId("message");
    box.className = "message " + (ok ? "is-ok" : "is-refused");
    box.dataset.ok = ok ? "true" : "false";
    box.replaceChildren(S.el("span", "message-mark", ok ? "✓" : "✕"), S.el("span", "message-text", text));
    clearTimeout(messageTimer);
    messageTimer = setTimeout(function () {
      box.replaceChildren();
      box.className = "message";
      delete box.dataset.ok;
    }, MESSAGE_MS);
  }

  // ---- the selected sighting -------------------------------------------------------------------
  function renderDetail() {
    var box = S.byId("detail");
    var sighting = panels.selected && S.model.units.sightings.get(panels.selected);
    detailAge = null;
    if (!sighting) {
      box.replaceChildren(S.el("div", "detail-empty",
        "No sighting selected: click one in the queue or on the map, or press ↓ / j"));
      return;
    }
    var priority = [1, 2, 3].indexOf(sighting.priority) >= 0 ? sighting.priority : 3;
    var letters = S.config.map.category_letters;
    var category = letters[sighting.category] ? sighting.category : "other";
    detailAge = S.el("span", "d-age", S.age(S.now() - sighting.ts));
    detailAge.ts = sighting.ts;
    var head = S.append(S.el("div", "d-head prio-" + priority), S.glyph("glyph-sighting prio-" + priority, letters[category]),
                        S.el("span", "d-title", sightingLabel(sighting) + " · P" + priority + " · " + category),
                        S.el("span", "d-time", S.clock(sighting.ts)), detailAge);
    var note = sighting.note ? S.el("div", "d-note", sighting.note) : null;
    var meta = S.el("div", "d-meta", "drone " + sighting.drone_id + " · operator " + sighting.operator_id +
                    " · id " + sighting.sighting_id);
    box.replaceChildren(head, note || S.el("div", "d-note muted", "no note"), meta, assignmentBlock(sighting));
  }

  // The incident number people read out (S-0142, given at ingest); the start of the id before numbering existed.
  function sightingLabel(sighting) {
    return typeof sighting.number === "string" && sighting.number ? sighting.number
      : String(sighting.sighting_id || "").slice(0, 8);
  }

  function assignmentBlock(sighting) {
    var assignment = S.model.assignmentBySighting.get(sighting.sighting_id);
    var block = S.el("div", "d-assignment");
    if (!assignment) {
      block.classList.add("is-unassigned");
      return S.append(block, S.el("span", "warn-mark", "!"), S.el("span", "d-unassigned", "No patrol assigned"));
    }
    var state = S.known(assignment.state, ASSIGNMENT_WORDS, "assigned");
    var glyphState = state === "acknowledged" ? "assigned" : state;
    block.dataset.assignmentId = assignment.assignment_id;
    var cancel = S.el("button", "btn btn-cancel", "Cancel assignment");
    cancel.dataset.action = "cancel";
    cancel.disabled = !!pending;
    cancel.addEventListener("click", function () {
      if (cancel.dataset.confirm !== "1") { // two clicks: a cancellation sends a crew back to the queue
        cancel.dataset.confirm = "1";
        cancel.textContent = "Click again to cancel";
        cancel.classList.add("is-confirm");
        setTimeout(function () {
          cancel.dataset.confirm = "";
          cancel.textContent = "Cancel assignment";
          cancel.classList.remove("is-confirm");
        }, CONFIRM_MS);
        return;
      }
      act({ action: "cancel", assignment_id: assignment.assignment_id });
    });
    var since = assignment.assigned_ts || assignment.ts;
    return S.append(block, S.glyph("glyph-patrol is-" + glyphState), S.el("span", "d-patrol", assignment.patrol_id),
                    S.el("span", "d-state", ASSIGNMENT_WORDS[state]),
                    S.el("span", "d-since", "since " + S.clock(since) + " by " + assignment.supervisor_id), cancel);
  }

  function renderCandidates() {
    var box = S.byId("candidates");
    if (!panels.selected) {
      box.replaceChildren();
      return;
    }
    var reassigning = !!S.model.assignmentBySighting.get(panels.selected);
    var title = S.el("h3", "c-title", reassigning ? "Reassign to a nearer patrol" : "Nearest available patrols");
    var list = S.el("div", "c-list");
    panels.candidates.forEach(function (candidate) {
      var row = S.el("div", "cand");
      row.dataset.patrolId = candidate.patrol_id;
      row.dataset.rank = String(candidate.rank);
      var button = S.el("button", "btn btn-assign", reassigning ? "Reassign" : "Assign");
      button.dataset.action = reassigning ? "reassign" : "assign";
      button.disabled = !!pending;
      button.addEventListener("click", function () { sendToCandidate(candidate); });
      S.append(row, S.el("kbd", "c-rank", String(candidate.rank)), S.glyph("glyph-patrol is-available"),
               S.el("span", "c-id", candidate.patrol_id), S.el("span", "c-dist", candidate.distance),
               S.el("span", "c-eta", candidate.eta), button);
      list.appendChild(row);
    });
    var note = nearestMessage ? S.el("div", "c-note", nearestMessage) : null;
    box.replaceChildren(title, list);
    if (note) box.appendChild(note);
    if (pending) box.appendChild(S.el("div", "c-note", "Sending…"));
  }

  // ---- alerts --------------------------------------------------------------------------------------
  /* Still to be seen first, then the most severe, then the oldest. */
  function compareAlerts(a, b) {
    return (a.state === "acknowledged") - (b.state === "acknowledged") ||
      SEVERITY_RANK[S.known(a.severity, SEVERITY_RANK, "info")] - SEVERITY_RANK[S.known(b.severity, SEVERITY_RANK, "info")] ||
      a.since_ms - b.since_ms || (a.alert_id < b.alert_id ? -1 : 1);
  }
  panels.compareAlerts = compareAlerts;

  /* The panel is drawn by screen_alerts.js (one line per subject, pinned, grouped by kind). */
  function renderAlerts() {
    alertAges = S.alertBoard.render();
  }
  panels.renderAlerts = renderAlerts;
  panels.act = act;
  panels.focusAlert = focusAlert;

  function focusAlert(alert) {
    if (alert.kind === "sighting_unassigned" && S.model.units.sightings.has(alert.unit_id)) {
      panels.select(alert.unit_id);
      return;
    }
    var where = S.overlays && S.overlays.alertPosition(alert);
    if (where) S.overlays.reveal(where.latlng[0], where.latlng[1]);
  }

  // ---- keeping up -----------------------------------------------------------------------------------
  function onChange(changes) {
    var selected = panels.selected;
    if (selected && changes.sightings && changes.sightings.removed.indexOf(selected) >= 0) {
      panels.clear();
      showMessage(true, "The selected sighting was closed");
    } else if (changes.sightings || changes.assignments) {
      renderDetail();
      if (changes.assignments) renderCandidates(); // "Assign" becomes "Reassign", or back
    }
    if (changes.alerts) renderAlerts();
    if (panels.selected && changes.patrols) {
      var candidateIds = panels.candidates.map(function (c) { return c.patrol_id; });
      var candidateChanged = changes.patrols.changed.concat(changes.patrols.removed).some(function (id) {
        var patrol = S.model.units.patrols.get(id);
        return candidateIds.indexOf(id) >= 0 && (!patrol || patrol.status !== "available");
      });
      refreshSoon(candidateChanged ? 200 : 2000); // a candidate gone: now; patrols moving: every 2 s at most
    }
  }

  function tick(now) {
    if (detailAge) detailAge.textContent = S.age(now - detailAge.ts);
    alertAges.forEach(function (age) { age.textContent = S.age(now - age.ts); });
  }
})();
