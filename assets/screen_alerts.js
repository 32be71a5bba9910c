/*
 * Supervisor wall screen: the alerts panel (see screen_core.js for the file map; screen_panels.js
 * calls `S.alertBoard.render()` whenever the alerts change).
 *
 * Readable at a shift's volume (a hundred open warnings):
 * - one line per subject: every open alert about the same drone, patrol or sighting (an
 *   unacknowledged assignment counts as its sighting's) is one line, headed by the alert still to
 *   be seen that is most severe, the others named on the line;
 * - pinned on top, in a block that stays in place while the rest scrolls: every line whose head is
 *   an unacknowledged critical or an unacknowledged assignment (a crew that may not have seen its
 *   call), newest-first order never pushes them down;
 * - the rest grouped by kind, each group with its count and "Acknowledge all" (two clicks, one
 *   server action, dispatch/ui/alert_actions.py), long groups folded to their first lines.
 *
 * Alert messages are user-visible text only (textContent), never HTML.
 */
(function () {
  "use strict";

  var S = (window.dispatchScreen = window.dispatchScreen || {});
  var SEVERITY_RANK = { critical: 0, warning: 1, info: 2 };
  // Kinds in the order their groups are listed at equal severity, with what a supervisor reads.
  var KINDS = {
    outside_zone: "Outside authorised zones", link_lost: "Drone link lost",
    assignment_unacknowledged: "Assignment not acknowledged", sighting_unassigned: "Sighting without patrol",
    patrol_stale: "Patrol position stale", low_battery: "Drone battery low"
  };
  var KIND_ORDER = Object.keys(KINDS);
  // Which collection an alert's unit_id is in, by kind (dispatch/domain/alerts.py).
  var SUBJECT = { link_lost: "drones", low_battery: "drones", outside_zone: "drones", patrol_stale: "patrols",
                  sighting_unassigned: "sightings", assignment_unacknowledged: "assignments" };
  var BULK_REQUEST_ID = "sup-alert-bulk-request"; // dispatch/ui/alert_actions.BULK_REQUEST
  var PINNED_SHOWN = 6; // more pinned lines than fit at 1080p: the oldest say "+n more" and stay in their group
  var GROUP_FOLDED = 3; // a group longer than this shows its first lines until unfolded
  var CONFIRM_MS = 4000;
  var ACTION_TIMEOUT_MS = 10000;

  var unfolded = {}; // kind -> true once the supervisor unfolded it
  var bulkNonce = 0;
  var bulkPending = null;
  var bulkMessage = null; // {ok, text} of the last answer, shown at the panel's top

  /* Still to be seen first, then the most severe, then the oldest. */
  function compare(a, b) {
    return (a.state === "acknowledged") - (b.state === "acknowledged") ||
      rank(a) - rank(b) || a.since_ms - b.since_ms || (a.alert_id < b.alert_id ? -1 : 1);
  }

  function rank(alert) { return SEVERITY_RANK[S.known(alert.severity, SEVERITY_RANK, "info")]; }

  /* The subject an alert is about: an unacknowledged assignment is about its sighting. */
  function subjectOf(alert) {
    var kind = S.known(alert.kind, SUBJECT, null) ? SUBJECT[alert.kind] : null;
    if (kind === "assignments") {
      var assignments = S.model && S.model.units.assignments;
      var assignment = assignments && assignments.get(alert.unit_id);
      if (assignment && assignment.sighting_id) return "sightings:" + assignment.sighting_id;
    }
    return (kind || "other") + ":" + alert.unit_id;
  }

  function isPinned(line) {
    var head = line.head;
    return head.state !== "acknowledged" &&
      (head.severity === "critical" || head.kind === "assignment_unacknowledged");
  }

  /* Alerts -> {pinned: [line], groups: [{kind, lines, open}]}; a line is {subject, head, others}. */
  function arrange(alerts) {
    var bySubject = new Map();
    alerts.forEach(function (alert) {
      var key = subjectOf(alert);
      if (!bySubject.has(key)) bySubject.set(key, []);
      bySubject.get(key).push(alert);
    });
    var lines = [];
    bySubject.forEach(function (list, key) {
      list.sort(compare);
      lines.push({ subject: key, head: list[0], others: list.slice(1) });
    });
    lines.sort(function (a, b) { return compare(a.head, b.head); });
    var pinned = lines.filter(isPinned);
    // Too many to pin: the most recent ones stay pinned (a new one always shows), listed in order.
    var recent = pinned.slice().sort(function (a, b) { return b.head.since_ms - a.head.since_ms; })
      .slice(0, PINNED_SHOWN);
    var shownPinned = pinned.filter(function (line) { return recent.indexOf(line) >= 0; });
    var groups = new Map();
    lines.forEach(function (line) {
      var kind = line.head.kind;
      if (!groups.has(kind)) groups.set(kind, { kind: kind, lines: [], open: [] });
      var group = groups.get(kind);
      if (shownPinned.indexOf(line) < 0) group.lines.push(line);
    });
    alerts.forEach(function (alert) { // what "acknowledge all" of a kind covers: every one still to be seen
      if (alert.state !== "acknowledged" && groups.has(alert.kind)) groups.get(alert.kind).open.push(alert.alert_id);
      else if (alert.state !== "acknowledged") groups.set(alert.kind, { kind: alert.kind, lines: [], open: [alert.alert_id] });
    });
    var ordered = Array.from(groups.values()).sort(function (a, b) {
      return groupRank(a) - groupRank(b) || kindIndex(a.kind) - kindIndex(b.kind);
    });
    return { pinned: shownPinned, morePinned: pinned.length - shownPinned.length, groups: ordered, lines: lines };
  }

  function groupRank(group) {
    return group.lines.reduce(function (best, line) { return Math.min(best, rank(line.head)); }, 3);
  }

  function kindIndex(kind) {
    var i = KIND_ORDER.indexOf(kind);
    return i < 0 ? KIND_ORDER.length : i;
  }

  // ---- drawing ---------------------------------------------------------------------------------
  /* Draw the panel; returns the age elements for the panel's tick to refresh. */
  function render() {
    var box = S.byId("alerts");
    var alerts = Array.from(S.model.units.alerts.values());
    var arranged = arrange(alerts);
    var now = S.now();
    var ages = [];
    var top = S.el("div", "a-pinned");
    if (bulkMessage) {
      top.appendChild(S.el("div", "a-bulk-msg " + (bulkMessage.ok ? "is-ok" : "is-refused"), bulkMessage.text));
    }
    arranged.pinned.forEach(function (line) { top.appendChild(lineRow(line, now, ages, true)); });
    if (arranged.morePinned > 0) {
      top.appendChild(S.el("div", "a-more", "+" + arranged.morePinned + " older ones to see first, in their groups below"));
    }
    var parts = top.childNodes.length ? [top] : [];
    arranged.groups.forEach(function (group) { parts.push(groupBlock(group, now, ages)); });
    box.replaceChildren.apply(box, parts.length ? parts : [S.el("div", "q-empty", "No open alert")]);
    box.classList.toggle("has-pinned", arranged.pinned.length > 0);
    if (box.parentElement) box.parentElement.classList.toggle("has-pinned", arranged.pinned.length > 0);
    var critical = alerts.filter(function (a) { return a.severity === "critical" && a.state !== "acknowledged"; }).length;
    var count = S.byId("alerts_count");
    count.textContent = alerts.length + " open" + (arranged.lines.length !== alerts.length ? " · " + arranged.lines.length + " lines" : "") +
      (critical ? " · " + critical + " critical" : "");
    count.classList.toggle("warn", critical > 0);
    return ages;
  }

  function groupBlock(group, now, ages) {
    var block = S.el("div", "a-group");
    block.dataset.kind = group.kind;
    var label = S.known(group.kind, KINDS, null) ? KINDS[group.kind] : String(group.kind);
    var counted = group.open.length + " to see" +
      (group.lines.length ? " · " + group.lines.length + (group.lines.length === 1 ? " line" : " lines") : " · pinned above");
    var head = S.append(S.el("div", "a-group-head"), S.el("span", "a-group-name", label),
                        S.el("span", "a-group-count", counted));
    if (group.open.length > 0) head.appendChild(bulkButton(group));
    block.appendChild(head);
    var folded = !unfolded[group.kind] && group.lines.length > GROUP_FOLDED;
    var shown = folded ? group.lines.slice(0, GROUP_FOLDED) : group.lines;
    shown.forEach(function (line) { block.appendChild(lineRow(line, now, ages, false)); });
    if (group.lines.length > GROUP_FOLDED) {
      var toggle = S.el("button", "btn a-fold", folded ? "Show all " + group.lines.length : "Show fewer");
      toggle.dataset.action = "fold";
      toggle.addEventListener("click", function () {
        unfolded[group.kind] = folded;
        S.panels.renderAlerts();
      });
      block.appendChild(toggle);
    }
    return block;
  }

  function bulkButton(group) {
    var n = group.open.length;
    var button = S.el("button", "btn btn-ack-all", "Acknowledge all " + n);
    button.dataset.action = "acknowledge-kind";
    button.disabled = !!bulkPending;
    button.addEventListener("click", function () {
      if (button.dataset.confirm !== "1") { // two clicks: one stray click must not clear a whole kind
        button.dataset.confirm = "1";
        button.textContent = "Click again: acknowledge " + n;
        button.classList.add("is-confirm");
        setTimeout(function () {
          button.dataset.confirm = "";
          button.textContent = "Acknowledge all " + n;
          button.classList.remove("is-confirm");
        }, CONFIRM_MS);
        return;
      }
      acknowledgeKind(group.kind, group.open);
    });
    return button;
  }

  function lineRow(line, now, ages, pinned) {
    var alert = line.head;
    var severity = S.known(alert.severity, SEVERITY_RANK, "info");
    var acknowledged = alert.state === "acknowledged";
    var row = S.el("div", "a-row is-" + severity + (acknowledged ? " is-acknowledged" : "") + (pinned ? " is-pinned" : ""));
    row.dataset.alertId = alert.alert_id;
    row.dataset.subject = line.subject;
    row.dataset.kind = alert.kind;
    var age = S.el("span", "a-age", S.age(now - alert.since_ms));
    age.ts = alert.since_ms;
    ages.push(age);
    var meta = S.append(S.el("div", "a-meta"), S.el("span", "a-since", "since " + S.clock(alert.since_ms)), age,
      acknowledged ? S.el("span", "a-ack", "acknowledged by " + alert.acknowledged_by + " " +
                          S.clock(alert.acknowledged_ms)) : null);
    line.others.forEach(function (other) {
      var word = S.known(other.kind, KINDS, null) ? KINDS[other.kind].toLowerCase() : String(other.kind);
      var text = "also " + word + (other.state === "acknowledged" ? " (acknowledged by " + other.acknowledged_by + ")" : "");
      meta.appendChild(S.el("span", "a-also", text));
    });
    var message = S.append(S.el("div", "a-msg"), S.el("span", "a-sev-word", severity.toUpperCase()),
                           document.createTextNode(alert.message));
    message.title = alert.message; // the whole text on hover when it is cut
    var main = S.append(S.el("div", "a-main"), message, meta);
    var sev = S.append(S.el("span", "a-sev"), S.glyph("glyph-ring is-" + severity));
    S.append(row, sev, main);
    if (!acknowledged) {
      var button = S.el("button", "btn btn-ack", "Acknowledge");
      button.dataset.action = "acknowledge";
      button.addEventListener("click", function (event) {
        event.stopPropagation();
        S.panels.act({ action: "acknowledge", alert_id: alert.alert_id });
      });
      row.appendChild(button);
    }
    row.addEventListener("click", function () { S.panels.focusAlert(alert); });
    return row;
  }

  // ---- acknowledge all of a kind -------------------------------------------------------------------
  function acknowledgeKind(kind, alertIds) {
    if (bulkPending) return;
    bulkNonce += 1;
    bulkPending = { nonce: bulkNonce };
    bulkPending.timer = setTimeout(function () {
      bulkPending = null;
      showBulk(false, "No answer from the server: the alerts may not have been acknowledged");
    }, ACTION_TIMEOUT_MS);
    window.dash_clientside.set_props(BULK_REQUEST_ID, { data: { kind: kind, alert_ids: alertIds.slice(0, 500),
                                                                nonce: bulkNonce } });
    S.panels.renderAlerts();
  }

  function onBulk(answer) {
    if (!answer || !bulkPending || answer.nonce !== bulkPending.nonce) return;
    clearTimeout(bulkPending.timer);
    bulkPending = null;
    showBulk(!!answer.ok, answer.message || (answer.ok ? "Done" : "Refused"));
  }

  function showBulk(ok, text) {
    bulkMessage = { ok: ok, text: text };
    S.panels.renderAlerts();
    setTimeout(function () {
      if (bulkMessage && bulkMessage.text === text) {
        bulkMessage = null;
        S.panels.renderAlerts();
      }
    }, 20000);
  }

  S.alertBoard = { render: render, arrange: arrange, compare: compare, subjectOf: subjectOf, onBulk: onBulk };

  // The bridge from Dash (clientside callback, dispatch/ui/alert_actions.register).
  window.dash_clientside = Object.assign({}, window.dash_clientside);
  window.dash_clientside.dispatchAlerts = {
    onBulk: function (answer) {
      onBulk(answer);
      return window.dash_clientside.no_update;
    }
  };
})();
