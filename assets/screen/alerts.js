/*
 * Supervisor wall screen: the alerts panel (see main.js for the file map; panels.js
 * calls `alertBoard.render()` whenever the alerts change).
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
import { el, append } from "../common/dom.js";
import { age as timeAgo } from "../common/time.js";
import { byId, clock, gatewayNow } from "./state.js";
import { glyph } from "./glyph.js";
import { knownOr } from "./words.js";
import { twoClickButton } from "./confirm.js";
import { ALERT_KIND_WORDS, SEVERITY_RANK, arrange } from "./alert_rules.js";
import { model } from "./model.js";
import { panels } from "./panels.js";

var BULK_REQUEST_ID = "sup-alert-bulk-request"; // dispatch/ui/alert_actions.BULK_REQUEST
var GROUP_FOLDED = 3; // a group longer than this shows its first lines until unfolded
var ACTION_TIMEOUT_MS = 10000;

var unfolded = {}; // kind -> true once the supervisor unfolded it
var bulkNonce = 0;
var bulkPending = null;
var bulkMessage = null; // {ok, text} of the last answer, shown at the panel's top

// ---- drawing ---------------------------------------------------------------------------------
/* Draw the panel; returns the age elements for the panel's tick to refresh. */
function render() {
  var box = byId("alerts");
  var alerts = Array.from(model.units.alerts.values());
  var arranged = arrange(alerts, model.units.assignments);
  var now = gatewayNow();
  var ages = [];
  var top = el("div", "a-pinned");
  if (bulkMessage) {
    top.appendChild(el("div", "a-bulk-msg " + (bulkMessage.ok ? "is-ok" : "is-refused"), bulkMessage.text));
  }
  arranged.pinned.forEach(function (line) { top.appendChild(lineRow(line, now, ages, true)); });
  if (arranged.morePinned > 0) {
    top.appendChild(el("div", "a-more", "+" + arranged.morePinned + " older ones to see first, in their groups below"));
  }
  var parts = top.childNodes.length ? [top] : [];
  arranged.groups.forEach(function (group) { parts.push(groupBlock(group, now, ages)); });
  box.replaceChildren.apply(box, parts.length ? parts : [el("div", "q-empty", "No open alert")]);
  box.classList.toggle("has-pinned", arranged.pinned.length > 0);
  if (box.parentElement) box.parentElement.classList.toggle("has-pinned", arranged.pinned.length > 0);
  var critical = alerts.filter(function (a) { return a.severity === "critical" && a.state !== "acknowledged"; }).length;
  var count = byId("alerts_count");
  count.textContent = alerts.length + " open" + (arranged.lines.length !== alerts.length ? " · " + arranged.lines.length + " lines" : "") +
    (critical ? " · " + critical + " critical" : "");
  count.classList.toggle("warn", critical > 0);
  return ages;
}

function groupBlock(group, now, ages) {
  var block = el("div", "a-group");
  block.dataset.kind = group.kind;
  var label = knownOr(group.kind, ALERT_KIND_WORDS, null) ? ALERT_KIND_WORDS[group.kind] : String(group.kind);
  var counted = group.open.length + " to see" +
    (group.lines.length ? " · " + group.lines.length + (group.lines.length === 1 ? " line" : " lines") : " · pinned above");
  var head = append(el("div", "a-group-head"), el("span", "a-group-name", label),
                      el("span", "a-group-count", counted));
  if (group.open.length > 0) head.appendChild(bulkButton(group));
  block.appendChild(head);
  var folded = !unfolded[group.kind] && group.lines.length > GROUP_FOLDED;
  var shown = folded ? group.lines.slice(0, GROUP_FOLDED) : group.lines;
  shown.forEach(function (line) { block.appendChild(lineRow(line, now, ages, false)); });
  if (group.lines.length > GROUP_FOLDED) {
    var toggle = el("button", "btn a-fold", folded ? "Show all " + group.lines.length : "Show fewer");
    toggle.dataset.action = "fold";
    toggle.addEventListener("click", function () {
      unfolded[group.kind] = folded;
      panels.renderAlerts();
    });
    block.appendChild(toggle);
  }
  return block;
}

function bulkButton(group) {
  var n = group.open.length;
  // Two clicks: one stray click must not clear a whole kind.
  var button = twoClickButton("btn btn-ack-all", "Acknowledge all " + n, "Click again: acknowledge " + n,
                              "acknowledge-kind", function () { acknowledgeKind(group.kind, group.open); });
  button.disabled = !!bulkPending;
  return button;
}

function lineRow(line, now, ages, pinned) {
  var alert = line.head;
  var severity = knownOr(alert.severity, SEVERITY_RANK, "info");
  var acknowledged = alert.state === "acknowledged";
  var row = el("div", "a-row is-" + severity + (acknowledged ? " is-acknowledged" : "") + (pinned ? " is-pinned" : ""));
  row.dataset.alertId = alert.alert_id;
  row.dataset.subject = line.subject;
  row.dataset.kind = alert.kind;
  var age = el("span", "a-age", timeAgo(now - alert.since_ms));
  age.ts = alert.since_ms;
  ages.push(age);
  var meta = append(el("div", "a-meta"), el("span", "a-since", "since " + clock(alert.since_ms)), age,
    acknowledged ? el("span", "a-ack", "acknowledged by " + alert.acknowledged_by + " " +
                        clock(alert.acknowledged_ms)) : null);
  line.others.forEach(function (other) {
    var word = knownOr(other.kind, ALERT_KIND_WORDS, null) ? ALERT_KIND_WORDS[other.kind].toLowerCase() : String(other.kind);
    var text = "also " + word + (other.state === "acknowledged" ? " (acknowledged by " + other.acknowledged_by + ")" : "");
    meta.appendChild(el("span", "a-also", text));
  });
  var message = append(el("div", "a-msg"), el("span", "a-sev-word", severity.toUpperCase()),
                         document.createTextNode(alert.message));
  message.title = alert.message; // the whole text on hover when it is cut
  var main = append(el("div", "a-main"), message, meta);
  var sev = append(el("span", "a-sev"), glyph("glyph-ring is-" + severity));
  append(row, sev, main);
  if (!acknowledged) {
    var button = el("button", "btn btn-ack", "Acknowledge");
    button.dataset.action = "acknowledge";
    button.addEventListener("click", function (event) {
      event.stopPropagation();
      panels.act({ action: "acknowledge", alert_id: alert.alert_id });
    });
    row.appendChild(button);
  }
  row.addEventListener("click", function () { panels.focusAlert(alert); });
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
  panels.renderAlerts();
}

/** The answer to "acknowledge all" (dispatch/ui/alert_actions.py, main.js's bridge). */
export function onBulk(answer) {
  if (!answer || !bulkPending || answer.nonce !== bulkPending.nonce) return;
  clearTimeout(bulkPending.timer);
  bulkPending = null;
  showBulk(!!answer.ok, answer.message || (answer.ok ? "Done" : "Refused"));
}

function showBulk(ok, text) {
  bulkMessage = { ok: ok, text: text };
  panels.renderAlerts();
  setTimeout(function () {
    if (bulkMessage && bulkMessage.text === text) {
      bulkMessage = null;
      panels.renderAlerts();
    }
  }, 20000);
}

/** The panel: drawn again by panels.js whenever the alerts change. */
export const alertBoard = { render: render };
