// assets/screen/batch.js under Node's built-in test runner, on a hand-driven clock.
import { test } from "node:test";
import assert from "node:assert/strict";

import { batched } from "../../../assets/screen/batch.js";

function fakeTimers() {
  const timers = { at: 1_000, queue: [] };
  timers.now = () => timers.at;
  timers.setTimeout = (fn, ms) => { const t = { fn, due: timers.at + ms }; timers.queue.push(t); return t; };
  timers.clearTimeout = (t) => { timers.queue = timers.queue.filter((x) => x !== t); };
  timers.advance = (ms) => {
    timers.at += ms;
    const due = timers.queue.filter((t) => t.due <= timers.at);
    timers.queue = timers.queue.filter((t) => t.due > timers.at);
    due.forEach((t) => t.fn());
  };
  return timers;
}

test("the first request runs on the next turn, then at most once per period however often requested", () => {
  const timers = fakeTimers();
  let runs = 0;
  const batch = batched(250, () => { runs += 1; }, timers);
  batch.request();
  batch.request();
  assert.equal(runs, 0, "never inside the caller's task");
  timers.advance(0);
  assert.equal(runs, 1);
  for (let i = 0; i < 10; i += 1) { batch.request(); timers.advance(20); }
  assert.equal(runs, 1, "200 ms after the last run: still waiting");
  timers.advance(50);
  assert.equal(runs, 2, "250 ms after the last run");
  timers.advance(1_000);
  assert.equal(runs, 2, "nothing requested, nothing run");
  batch.request();
  timers.advance(0);
  assert.equal(runs, 3, "a period has passed: at once");
});

test("now() runs the pending work at once and cancels the timer", () => {
  const timers = fakeTimers();
  let runs = 0;
  const batch = batched(500, () => { runs += 1; }, timers);
  batch.request();
  timers.advance(0);
  batch.request();
  assert.equal(batch.pending, true);
  batch.now();
  assert.equal(runs, 2);
  assert.equal(batch.pending, false);
  timers.advance(1_000);
  assert.equal(runs, 2, "the cancelled timer does not run it again");
});
