// assets/replay/playback.js: the transport's rules.
import { test } from "node:test";
import assert from "node:assert/strict";

import { advance, clampInstant, keyAction, speedIndexWithin, tickX } from "../../../assets/replay/playback.js";

const window = { from_ms: 10_000, to_ms: 70_000 };

test("an instant is kept inside the window and rounded to the millisecond; not a number is refused", () => {
  assert.equal(clampInstant(5_000, window), 10_000);
  assert.equal(clampInstant(90_000, window), 70_000);
  assert.equal(clampInstant(12_345.6, window), 12_346);
  assert.equal(clampInstant("20000", window), 20_000, "the slider's value is a string");
  assert.equal(clampInstant("soon", window), null);
  assert.equal(clampInstant(undefined, window), null);
});

test("playing moves the instant by the wall time elapsed times the speed, and stops at the window's end", () => {
  assert.deepEqual(advance(10_000, 50, 60, 70_000), { t: 13_000, ended: false });
  assert.deepEqual(advance(10_000, 50, 1, 70_000), { t: 10_050, ended: false });
  assert.deepEqual(advance(68_000, 50, 60, 70_000), { t: 70_000, ended: true }, "never beyond the window");
  assert.deepEqual(advance(69_950, 50, 1, 70_000), { t: 70_000, ended: true }, "reaching the end exactly ends it");
});

test("the speed index stays on the page's speeds", () => {
  const speeds = [1, 10, 60];
  assert.equal(speedIndexWithin(3, speeds), 2);
  assert.equal(speedIndexWithin(-1, speeds), 0, "[ at the slowest, or a speed not offered (indexOf -1)");
  assert.equal(speedIndexWithin(1, speeds), 1);
});

test("keys drive the transport, but not while typing, with a modifier, or on a focused button's Space", () => {
  const body = { tagName: "BODY" };
  assert.equal(keyAction({ key: " " }, body), "toggle");
  assert.equal(keyAction({ key: "ArrowRight" }, body), "next");
  assert.equal(keyAction({ key: "ArrowLeft" }, body), "previous");
  assert.equal(keyAction({ key: "]" }, body), "faster");
  assert.equal(keyAction({ key: "[" }, body), "slower");
  assert.equal(keyAction({ key: "x" }, body), null);
  assert.equal(keyAction({ key: "toString" }, body), null);
  assert.equal(keyAction({ key: "ArrowRight", ctrlKey: true }, body), null, "Ctrl+arrow is the browser's");
  assert.equal(keyAction({ key: " " }, { tagName: "INPUT", type: "text" }), null);
  assert.equal(keyAction({ key: " " }, { tagName: "TEXTAREA" }), null);
  assert.equal(keyAction({ key: " " }, { tagName: "DIV", isContentEditable: true }), null);
  assert.equal(keyAction({ key: "ArrowRight" }, { tagName: "INPUT", type: "range" }), "next", "the slider keeps the keys");
  assert.equal(keyAction({ key: " " }, { tagName: "INPUT", type: "radio" }), "toggle");
  assert.equal(keyAction({ key: " " }, { tagName: "BUTTON" }), null, "the button's own click plays");
  assert.equal(keyAction({ key: "ArrowLeft" }, { tagName: "BUTTON" }), "previous");
  assert.equal(keyAction({ key: " " }, null), "toggle");
});

test("an event's mark under the slider: first and last pixel at the window's ends", () => {
  assert.equal(tickX(10_000, 10_000, 70_000, 601), 0);
  assert.equal(tickX(70_000, 10_000, 70_000, 601), 600);
  assert.equal(tickX(40_000, 10_000, 70_000, 601), 300);
  assert.equal(tickX(5, 5, 5, 100), 0, "an empty window does not divide by zero");
});
