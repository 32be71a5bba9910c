// assets/replay/event_index.js: finding the window's events by instant (times ascending, some shared).
import { test } from "node:test";
import assert from "node:assert/strict";

import { indexAt, nextAfter, pastChange, prevBefore } from "../../../assets/replay/event_index.js";

const stamps = Float64Array.from([1000, 2000, 2000, 2000, 5000]);

test("the current event is the last one at or before the instant, the last of several sharing it", () => {
  assert.equal(indexAt(stamps, 999), -1);
  assert.equal(indexAt(stamps, 1000), 0);
  assert.equal(indexAt(stamps, 1999), 0);
  assert.equal(indexAt(stamps, 2000), 3);
  assert.equal(indexAt(stamps, 4999), 3);
  assert.equal(indexAt(stamps, 5000), 4);
  assert.equal(indexAt(stamps, 1e15), 4);
  assert.equal(indexAt(new Float64Array(0), 1000), -1);
});

test("next goes past every event sharing the instant; previous goes to a strictly earlier one", () => {
  assert.equal(nextAfter(stamps, 0), 1000);
  assert.equal(nextAfter(stamps, 1000), 2000);
  assert.equal(nextAfter(stamps, 2000), 5000, "not to another event of the same instant: that would not move");
  assert.equal(nextAfter(stamps, 5000), null);
  assert.equal(prevBefore(stamps, 5000), 2000);
  assert.equal(prevBefore(stamps, 2000), 1000);
  assert.equal(prevBefore(stamps, 2001), 2000);
  assert.equal(prevBefore(stamps, 1000), null);
  assert.equal(prevBefore(new Float64Array(0), 1000), null);
});

test("moving the instant touches only the rows between the old and the new current event", () => {
  assert.equal(pastChange(3, 3), null);
  assert.deepEqual(pastChange(-1, 2), { past: [0, 2] });
  assert.deepEqual(pastChange(2, 4), { past: [2, 4] });
  assert.deepEqual(pastChange(4, 1), { notPast: [2, 4] });
  assert.deepEqual(pastChange(4, -1), { notPast: [0, 4] }, "back before the first event: none is past");
});
