// assets/screen/queue_rules.js under Node's built-in test runner.
import { test } from "node:test";
import assert from "node:assert/strict";

import { compareSightings, priorityOf, probableDuplicates } from "../../../assets/screen/queue_rules.js";

const RULES = { duplicate_window_ms: 10 * 60_000, duplicate_radius_m: 150 };
const M_PER_DEG_LAT = 111_195; // metres per degree of latitude on the mean-radius sphere

function sighting(id, { category = "lookout", ts = 0, north_m = 0, priority = 2 } = {}) {
  return { sighting_id: id, category, ts, lat: 48.11 + north_m / M_PER_DEG_LAT, lon: -1.68, priority };
}

test("the queue: most urgent first, then the longest waiting, then by id; an unknown priority counts as 3", () => {
  const s = (id, priority, ts) => ({ sighting_id: id, priority, ts });
  const order = [s("c", 2, 5), s("a", 1, 9), s("b", 2, 1), s("d", 7, 0), s("e", 1, 9), s("f", 3, 0)]
    .sort(compareSightings).map((x) => x.sighting_id);
  assert.deepEqual(order, ["a", "e", "b", "c", "d", "f"]);
  assert.equal(priorityOf({ priority: "1" }), 3, "a priority that is text is not trusted");
  assert.equal(priorityOf({}), 3);
});

test("a later sighting of the same category, near in place and time, repeats the earlier one", () => {
  const found = probableDuplicates([sighting("late", { ts: 60_000, north_m: 100 }), sighting("first")], RULES);
  assert.deepEqual(Object.fromEntries(found), { late: "first" });
});

test("the limits are inclusive, and past them nothing is flagged", () => {
  const at = (ts, north_m) => probableDuplicates([sighting("a"), sighting("b", { ts, north_m })], RULES).size;
  assert.equal(at(RULES.duplicate_window_ms, 0), 1, "exactly the window");
  assert.equal(at(RULES.duplicate_window_ms + 1, 0), 0, "one ms past the window");
  assert.equal(at(0, 149), 1);
  assert.equal(at(0, 151), 0, "just past the radius");
});

test("another category is never a duplicate, however close", () => {
  const found = probableDuplicates([sighting("a"), sighting("b", { category: "fire", ts: 1 })], RULES);
  assert.equal(found.size, 0);
});

test("a chain points at its first report, never at a sighting already flagged", () => {
  const found = probableDuplicates([sighting("c", { ts: 2 }), sighting("b", { ts: 1 }), sighting("a", { ts: 0 })], RULES);
  assert.deepEqual(Object.fromEntries(found), { b: "a", c: "a" });
});

test("at the same instant the smaller id is the original, whatever the order given", () => {
  const one = probableDuplicates([sighting("y"), sighting("x")], RULES);
  const other = probableDuplicates([sighting("x"), sighting("y")], RULES);
  assert.deepEqual(Object.fromEntries(one), { y: "x" });
  assert.deepEqual(Object.fromEntries(other), { y: "x" });
});
