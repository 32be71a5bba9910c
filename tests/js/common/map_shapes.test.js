// assets/common/map_shapes.js: the outline of each status shape, traced on a recording context.
import { test } from "node:test";
import assert from "node:assert/strict";

import { traceShape } from "../../../assets/common/map_shapes.js";

function recorder() {
  const calls = [];
  const record = (name) => (...args) => calls.push([name, ...args]);
  return { calls, moveTo: record("moveTo"), lineTo: record("lineTo"), rect: record("rect"),
           arc: record("arc"), closePath: record("closePath") };
}

function traced(shape) {
  const ctx = recorder();
  traceShape(ctx, shape, 100, 50, 10);
  return ctx.calls;
}

test("each shape is a closed path with its own number of corners", () => {
  const corners = (calls) => calls.filter(([name]) => name === "moveTo" || name === "lineTo").length;
  assert.equal(corners(traced("diamond")), 4);
  assert.equal(corners(traced("hexagon")), 6);
  assert.equal(corners(traced("cross")), 12);
  for (const shape of ["diamond", "hexagon", "cross", "square", "circle"]) {
    assert.deepEqual(traced(shape).at(-1), ["closePath"], shape);
  }
});

test("a square is centred on the unit, an unknown shape is a circle of the marker's radius", () => {
  assert.deepEqual(traced("square")[0], ["rect", 91.5, 41.5, 17, 17]);
  assert.deepEqual(traced("anything else")[0], ["arc", 100, 50, 10, 0, Math.PI * 2, false]);
});

test("every corner stays within the marker's reach, so shapes do not overlap their neighbours", () => {
  for (const shape of ["diamond", "hexagon", "cross"]) {
    for (const [, x, y] of traced(shape).filter(([name]) => name !== "closePath")) {
      assert.ok(Math.hypot(x - 100, y - 50) <= 10 * 1.45, `${shape} corner at ${x},${y}`);
    }
  }
});
