/* How the alerts panel arranges the open alerts, and where an alert's ring goes: pure (tested under
 * Node, tests/js/screen/alert_rules.test.js). */
import { ALERT_UNIT } from "../common/overlays.js";
import { knownOr } from "./words.js";

export const SEVERITY_RANK = { critical: 0, warning: 1, info: 2 };

// Kinds in the order their groups are listed at equal severity, with what a supervisor reads.
export const ALERT_KIND_WORDS = {
  outside_zone: "Outside authorised zones", link_lost: "Drone link lost",
  assignment_unacknowledged: "Assignment not acknowledged", sighting_unassigned: "Sighting without patrol",
  patrol_stale: "Patrol position stale", low_battery: "Drone battery low"
};
var KIND_ORDER = Object.keys(ALERT_KIND_WORDS);

// Which collection an alert's unit_id is in, by kind: one table with the replay (common/overlays.js).
export { ALERT_UNIT };

var PINNED_SHOWN = 6; // more pinned lines than fit at 1080p: the oldest say "+n more" and stay in their group

/** 0 critical, 1 warning, 2 info (an unknown severity reads as info). */
export function severityRank(alert) { return SEVERITY_RANK[knownOr(alert.severity, SEVERITY_RANK, "info")]; }

/** Still to be seen first, then the most severe, then the oldest; the id keeps two screens in one order. */
export function compareAlerts(a, b) {
  return (a.state === "acknowledged") - (b.state === "acknowledged") ||
    severityRank(a) - severityRank(b) || a.since_ms - b.since_ms || (a.alert_id < b.alert_id ? -1 : 1);
}

/** The subject an alert is about ("drones:DR-07"): an unacknowledged assignment is about its sighting.
 * `assignments`: assignment_id -> assignment. */
export function subjectOf(alert, assignments) {
  var kind = knownOr(alert.kind, ALERT_UNIT, null) ? ALERT_UNIT[alert.kind] : null;
  if (kind === "assignments") {
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

/** Alerts -> {pinned: [line], morePinned, groups: [{kind, lines, open: [alert ids to see]}], lines};
 * a line is {subject, head, others}: one per subject, headed by its most urgent alert. */
export function arrange(alerts, assignments) {
  var bySubject = new Map();
  alerts.forEach(function (alert) {
    var key = subjectOf(alert, assignments);
    if (!bySubject.has(key)) bySubject.set(key, []);
    bySubject.get(key).push(alert);
  });
  var lines = [];
  bySubject.forEach(function (list, key) {
    list.sort(compareAlerts);
    lines.push({ subject: key, head: list[0], others: list.slice(1) });
  });
  lines.sort(function (a, b) { return compareAlerts(a.head, b.head); });
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
  return group.lines.reduce(function (best, line) { return Math.min(best, severityRank(line.head)); }, 3);
}

function kindIndex(kind) {
  var i = KIND_ORDER.indexOf(kind);
  return i < 0 ? KIND_ORDER.length : i;
}
