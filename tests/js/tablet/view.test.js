// assets/tablet/view.js: what the officer sees, from the server's picture, its answers and the waiting actions.
import { test } from "node:test";
import assert from "node:assert/strict";

import { enabledActions, later, newestAssignment, openAssignment, ownStatus } from "../../../assets/tablet/view.js";

const OPEN = { assignment_id: "a1", state: "assigned", assigned_ts: 1000, ts: 1000 };
const step = (action, assignmentId = "a1") => ({ action_id: action, action, assignment_id: assignmentId });
const report = (action) => ({ action_id: action, action });

test("a state only moves forward: a late or unknown candidate never takes it back", () => {
  assert.equal(later("en_route", "acknowledged"), "en_route");
  assert.equal(later("acknowledged", "on_scene"), "on_scene");
  assert.equal(later("en_route", undefined), "en_route");
  assert.equal(later("on_scene", "on_scene"), "on_scene");
});

test("the newest assignment is by assignment time, falling back to the unit's time", () => {
  const older = { assignment_id: "old", assigned_ts: 1000, ts: 9000 };
  const newer = { assignment_id: "new", assigned_ts: 2000, ts: 2000 };
  assert.equal(newestAssignment([older, newer]).assignment_id, "new");
  assert.equal(newestAssignment([newer, { assignment_id: "bare", ts: 3000 }]).assignment_id, "bare");
  assert.equal(newestAssignment([]), null);
  assert.equal(newestAssignment(new Map([["x", older]]).values()).assignment_id, "old");
});

test("a waiting action shows at once, and only on its own assignment", () => {
  assert.equal(openAssignment(OPEN, undefined, [step("acknowledge")]).state, "acknowledged");
  assert.equal(openAssignment(OPEN, undefined, [step("en_route", "other")]).state, "assigned");
  assert.equal(openAssignment(OPEN, undefined, [step("acknowledge"), step("en_route")]).state, "en_route");
});

test("an answer the picture does not show yet counts, but not one behind it", () => {
  assert.equal(openAssignment(OPEN, "on_scene", []).state, "on_scene");
  assert.equal(openAssignment({ ...OPEN, state: "on_scene" }, "acknowledged", []).state, "on_scene");
});

test("cleared, by the picture, an answer or a waiting tap, is no open assignment; none is null", () => {
  assert.equal(openAssignment({ ...OPEN, state: "cancelled" }, undefined, []), null);
  assert.equal(openAssignment(OPEN, "cleared", []), null);
  assert.equal(openAssignment({ ...OPEN, state: "on_scene" }, undefined, [step("clear")]), null);
  assert.equal(openAssignment(null, "cleared", [step("clear")]), null);
  assert.deepEqual(openAssignment(OPEN, undefined, []), { unit: OPEN, state: "assigned" });
});

test("the crew's own status: the picture's, a newer answer over it, the last waiting report over both", () => {
  const patrol = { status: "available", ts: 2000 };
  assert.equal(ownStatus(patrol, null, []), "available");
  assert.equal(ownStatus(patrol, { status: "unavailable", ts: 3000 }, []), "unavailable");
  assert.equal(ownStatus(patrol, { status: "unavailable", ts: 1000 }, []), "available", "an older answer loses");
  assert.equal(ownStatus(null, { status: "unavailable", ts: 1 }, []), "unavailable");
  assert.equal(ownStatus(patrol, null, [report("unavailable"), step("en_route"), report("available"),
                                        report("unavailable")]), "unavailable");
});

test("a patrol just freed from an assignment reads as available; none at all as no status", () => {
  assert.equal(ownStatus({ status: "on_scene", ts: 1 }, null, []), "available");
  assert.equal(ownStatus(null, null, []), null);
  assert.equal(ownStatus({ status: "", ts: 1 }, null, []), null);
});

test("the buttons are the server's rules for the open state, else for the crew's own status", () => {
  const rules = { assigned: ["acknowledge", "en_route"], "free:available": ["unavailable"],
                  "free:none": ["available", "unavailable"] };
  assert.deepEqual(enabledActions(rules, { state: "assigned" }, "available"), ["acknowledge", "en_route"]);
  assert.deepEqual(enabledActions(rules, null, "available"), ["unavailable"]);
  assert.deepEqual(enabledActions(rules, null, null), ["available", "unavailable"]);
  assert.deepEqual(enabledActions(rules, { state: "on_scene" }, null), [], "a state without rules: no button");
});
