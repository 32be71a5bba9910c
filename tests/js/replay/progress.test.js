// assets/replay/progress.js: what loading says.
import { test } from "node:test";
import assert from "node:assert/strict";

import { loadedText, loadingText, progressFraction, progressText } from "../../../assets/replay/progress.js";

test("the share loaded stays between 0 and 1 whatever the server sent", () => {
  assert.equal(progressFraction({ fraction: 0.25 }), 0.25);
  assert.equal(progressFraction({ fraction: 1.7 }), 1);
  assert.equal(progressFraction({ fraction: -0.1 }), 0);
  assert.equal(progressFraction({ fraction: "nope" }), 0);
  assert.equal(progressFraction({}), 0);
  assert.equal(progressFraction(null), 0);
});

test("while loading: which recording, entries read of the estimate, the share and the time", () => {
  assert.equal(progressText({ state: "loading", stream: "telemetry", entries_read: 1234, entries_estimated: 56789,
    fraction: 0.216, elapsed_s: 1.25 }),
  "Reading drone positions: 1,234 of ~56,789 entries (22 %) · 1.3 s");
  assert.equal(progressText({ state: "loading", stream: "something new" }),
    "Reading recordings: 0 of ~0 entries (0 %) · 0.0 s", "an unknown stream, nothing counted yet");
  assert.equal(progressText({ state: "loading", stream: "done", fraction: 0.999 }),
    "Reading indexing: 0 of ~0 entries (100 %) · 0.0 s");
});

test("queued and ready say so", () => {
  assert.match(progressText({ state: "queued", fraction: 0.5 }), /^Queued: /);
  assert.equal(progressText({ state: "ready" }), "Loaded");
});

test("the loading and loaded messages", () => {
  assert.equal(loadingText({ label: "the last hour" }), "Loading the last hour…");
  assert.equal(loadingText({ label: "a custom window", note: "capped at 24 h" }), "Loading a custom window (capped at 24 h)…");
  const summary = { counts: { drones: 3, patrols: 24, sightings: 7, events: 120 } };
  assert.equal(loadedText("the last hour", summary, 2.04),
    "the last hour · 3 drones, 24 patrols, 7 sightings, 120 events · loaded in 2.0 s");
  assert.equal(loadedText("the last hour", { ...summary, warning: "telemetry trimmed" }, undefined),
    "the last hour · 3 drones, 24 patrols, 7 sightings, 120 events · loaded in 0.0 s · telemetry trimmed");
});

test("how far a loading window can be shown, from its status", async () => {
  const { loadedUntil } = await import("../../../assets/replay/progress.js");
  const window = { from_ms: 1000, to_ms: 9000 };
  assert.equal(loadedUntil({ state: "loading", loaded_until_ms: 4000 }, window), 4000);
  assert.equal(loadedUntil({ state: "loading", loaded_until_ms: null }, window), null);
  assert.equal(loadedUntil({ state: "loading" }, window), null, "an older server says nothing");
  assert.equal(loadedUntil({ state: "loading", loaded_until_ms: 500 }, window), null, "not the start yet");
  assert.equal(loadedUntil({ state: "loading", loaded_until_ms: 99000 }, window), 9000);
  assert.equal(loadedUntil({ state: "ready", loaded_until_ms: null }, window), 9000);
  assert.equal(loadedUntil({ state: "queued", loaded_until_ms: null }, window), null);
  assert.equal(loadedUntil(null, window), null);
});

test("the buffered bar and its words, and which instants must wait", async () => {
  const { beyondLoaded, bufferedFraction, bufferedText, waitingText } = await import(
    "../../../assets/replay/progress.js");
  const window = { from_ms: 0, to_ms: 1000 };
  const clockText = function (t) { return "T" + t; };
  assert.equal(bufferedFraction(250, window), 0.25);
  assert.equal(bufferedFraction(null, window), 0);
  assert.equal(bufferedFraction(5000, window), 1);
  assert.equal(bufferedText(250, window, clockText), "Loaded to T250 (25 %)");
  assert.equal(bufferedText(1000, window, clockText), "Loaded");
  assert.equal(bufferedText(null, window, clockText), "Loading…");
  assert.equal(beyondLoaded(251, 250), true);
  assert.equal(beyondLoaded(250, 250), false);
  assert.equal(beyondLoaded(0, null), true);
  assert.equal(waitingText(clockText, 700), "loading up to T700…");
});

test("while shown but still loading, the counts of units say so far", async () => {
  const { partialText } = await import("../../../assets/replay/progress.js");
  assert.equal(partialText("The last hour", { counts: { events: 9, drones: 2, patrols: 1, sightings: 2 } }),
    "The last hour · 9 events · 2 drones, 1 patrols so far · still loading: figures and exports once loaded");
});
