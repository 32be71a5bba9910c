// assets/common/geo.js under Node's built-in test runner.
import { test } from "node:test";
import assert from "node:assert/strict";

import { distanceM } from "../../../assets/common/geo.js";

test("a degree of latitude is 111.2 km on the mean-radius sphere, and the same point is 0 m away", () => {
  assert.equal(Math.round(distanceM({ lat: 48, lon: -1.68 }, { lat: 49, lon: -1.68 })), 111_195);
  assert.equal(distanceM({ lat: 48.11, lon: -1.68 }, { lat: 48.11, lon: -1.68 }), 0);
});

test("a degree of longitude shrinks with latitude, and the distance is the same both ways", () => {
  const a = { lat: 60, lon: 10 };
  const b = { lat: 60, lon: 11 };
  assert.ok(Math.abs(distanceM(a, b) - 111_195 / 2) < 100, "cos(60°) = 1/2");
  assert.equal(distanceM(a, b), distanceM(b, a));
});

test("antipodes are half the circumference, not NaN (the square root is clamped)", () => {
  assert.equal(Math.round(distanceM({ lat: 0, lon: 0 }, { lat: 0, lon: 180 })), Math.round(Math.PI * 6_371_008.8));
});
