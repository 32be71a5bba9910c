// assets/replay/frames.js: at most one frame request in flight, the newest instant wanted fetched next.
import { test } from "node:test";
import assert from "node:assert/strict";

import { frameRequester } from "../../../assets/replay/frames.js";

/* A server whose answers the test releases one by one. */
function harness() {
  const asked = [];
  const drawn = [];
  const refused = [];
  const timers = [];
  const requester = frameRequester({
    fetchFrame: (t) => new Promise((resolve, reject) => asked.push({ t, resolve, reject })),
    onFrame: (body) => drawn.push(body.t),
    onRefused: (reply) => refused.push(reply.status),
    later: (fn, ms) => timers.push({ fn, ms }),
    clock: () => 0
  });
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  const answer = async (i, status = 200) => {
    asked[i].resolve({ status, body: { t: asked[i].t } });
    await settle();
  };
  return { requester, asked, drawn, refused, timers, answer, settle };
}

test("instants wanted while a frame is out are not queued: only the newest is fetched next", async () => {
  const h = harness();
  h.requester.request(1000);
  h.requester.request(2000);
  h.requester.request(3000);
  assert.deepEqual(h.asked.map((a) => a.t), [1000], "one request in flight");
  await h.answer(0);
  assert.deepEqual(h.drawn, [1000]);
  assert.deepEqual(h.asked.map((a) => a.t), [1000, 3000], "2000 was never asked for");
  await h.answer(1);
  assert.deepEqual(h.drawn, [1000, 3000]);
  assert.equal(h.asked.length, 2, "nothing more wanted");
  assert.equal(h.requester.inFlight, false);
});

test("an answer that is not a frame is told once, and nothing more is fetched", async () => {
  const h = harness();
  h.requester.request(1000);
  h.requester.request(2000);
  await h.answer(0, 404);
  assert.deepEqual(h.refused, [404]);
  assert.deepEqual(h.drawn, []);
  assert.equal(h.asked.length, 1);
});

test("a failed request is retried later with the instant wanted then", async () => {
  const h = harness();
  h.requester.request(1000);
  h.asked[0].reject(new Error("network"));
  await h.settle();
  assert.equal(h.timers.length, 1);
  assert.equal(h.timers[0].ms, 500);
  h.requester.request(4000); // the slider moved meanwhile: fetched at once, nothing is out
  assert.deepEqual(h.asked.map((a) => a.t), [1000, 4000]);
  h.timers[0].fn(); // the retry only overwrites what is wanted while 4000 is out
  assert.equal(h.asked.length, 2);
  await h.answer(1);
  assert.deepEqual(h.drawn, [4000]);
});

test("after a new window, a late answer about the previous one is dropped and the new instant fetched", async () => {
  const h = harness();
  h.requester.request(1000);
  h.requester.reset();
  h.requester.request(50_000); // the new window's first instant, while the old frame is still out
  assert.equal(h.asked.length, 1);
  await h.answer(0);
  assert.deepEqual(h.drawn, [], "the old window's frame is not drawn");
  assert.deepEqual(h.asked.map((a) => a.t), [1000, 50_000]);
  await h.answer(1);
  assert.deepEqual(h.drawn, [50_000]);
});

test("a late answer after a reset with nothing wanted fetches nothing", async () => {
  const h = harness();
  h.requester.request(1000);
  h.requester.reset();
  h.asked[0].reject(new Error("network"));
  await h.settle();
  assert.equal(h.asked.length, 1);
  assert.equal(h.timers.length, 0);
  assert.deepEqual(h.drawn, []);
});
