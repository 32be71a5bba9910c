// assets/screen/alert_rules.js under Node's built-in test runner.
import { test } from "node:test";
import assert from "node:assert/strict";

import { arrange, compareAlerts, subjectOf } from "../../../assets/screen/alert_rules.js";

let serial = 0;
function alert(kind, unit_id, { severity = "warning", since_ms = 0, state = "raised" } = {}) {
  serial += 1;
  return { alert_id: `${kind}:${unit_id}:${serial}`, kind, unit_id, severity, since_ms, state };
}

test("still to be seen first, then the most severe, then the oldest", () => {
  const a = (id, severity, since_ms, state) => ({ alert_id: id, severity, since_ms, state });
  const order = [a("w-old", "warning", 1, "raised"), a("c-new", "critical", 9, "raised"),
                 a("c-ack", "critical", 0, "acknowledged"), a("c-old", "critical", 2, "raised"),
                 a("odd", "shouting", 0, "raised")].sort(compareAlerts).map((x) => x.alert_id);
  assert.deepEqual(order, ["c-old", "c-new", "w-old", "odd", "c-ack"], "an unknown severity ranks as info");
});

test("an unacknowledged assignment is about its sighting; an unknown kind about 'other'", () => {
  const assignments = new Map([["A-1", { assignment_id: "A-1", sighting_id: "S-1" }]]);
  assert.equal(subjectOf(alert("assignment_unacknowledged", "A-1"), assignments), "sightings:S-1");
  assert.equal(subjectOf(alert("assignment_unacknowledged", "A-gone"), assignments), "assignments:A-gone");
  assert.equal(subjectOf(alert("link_lost", "DR-07"), assignments), "drones:DR-07");
  assert.equal(subjectOf(alert("hail", "X"), assignments), "other:X");
});

test("one line per subject, headed by its most urgent alert, the others named on it", () => {
  const battery = alert("low_battery", "DR-07", { since_ms: 1 });
  const lost = alert("link_lost", "DR-07", { severity: "critical", since_ms: 5 });
  const arranged = arrange([battery, lost, alert("patrol_stale", "BAC-1")], new Map());
  assert.equal(arranged.lines.length, 2);
  const drone = arranged.lines.find((line) => line.subject === "drones:DR-07");
  assert.equal(drone.head, lost);
  assert.deepEqual(drone.others, [battery]);
});

test("criticals and unacknowledged assignments are pinned, not listed again in their group", () => {
  const critical = alert("outside_zone", "DR-01", { severity: "critical" });
  const unacknowledged = alert("assignment_unacknowledged", "A-1");
  const seen = alert("outside_zone", "DR-02", { severity: "critical", state: "acknowledged" });
  const arranged = arrange([critical, unacknowledged, seen], new Map());
  assert.deepEqual(arranged.pinned.map((line) => line.head), [critical, unacknowledged]);
  const zone = arranged.groups.find((group) => group.kind === "outside_zone");
  assert.deepEqual(zone.lines.map((line) => line.head), [seen]);
  assert.deepEqual(zone.open, [critical.alert_id], "acknowledge all still covers the pinned one, not the seen one");
});

test("beyond six pinned lines the newest six stay pinned, in order, and the rest are counted", () => {
  const criticals = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => alert("link_lost", `DR-${i}`, { severity: "critical", since_ms: i }));
  const arranged = arrange(criticals, new Map());
  assert.deepEqual(arranged.pinned.map((line) => line.head.since_ms), [2, 3, 4, 5, 6, 7]);
  assert.equal(arranged.morePinned, 2);
  assert.deepEqual(arranged.groups[0].lines.map((line) => line.head.since_ms), [0, 1], "the oldest stay in their group");
});

test("groups: the worst severity inside first, then the kinds' reading order", () => {
  const arranged = arrange([alert("low_battery", "DR-1", { severity: "info" }), alert("patrol_stale", "BAC-1"),
                            alert("link_lost", "DR-2"), alert("hail", "X", { severity: "critical",
                                                                              state: "acknowledged" })], new Map());
  assert.deepEqual(arranged.groups.map((group) => group.kind), ["hail", "link_lost", "patrol_stale", "low_battery"]);
});
