// assets/replay/figure_order.js: the figures in view first, then, when idle, the others in page order.
import { test } from "node:test";
import assert from "node:assert/strict";

import { pickFigure } from "../../../assets/replay/figure_order.js";

const cards = [{ name: "a", visible: false }, { name: "b", visible: true }, { name: "c", visible: true },
  { name: "d", visible: false }];

test("a figure in view comes first, in page order", () => {
  assert.equal(pickFigure(cards, new Set(), false).name, "b");
  assert.equal(pickFigure(cards, new Set(["b"]), false).name, "c");
  assert.equal(pickFigure(cards, new Set(["b"]), true).name, "c", "in view before out of view");
});

test("out of view only when asked for, and never one drawn already", () => {
  assert.equal(pickFigure(cards, new Set(["b", "c"]), false), null);
  assert.equal(pickFigure(cards, new Set(["b", "c"]), true).name, "a");
  assert.equal(pickFigure(cards, new Set(["a", "b", "c"]), true).name, "d");
  assert.equal(pickFigure(cards, new Set(["a", "b", "c", "d"]), true), null, "all drawn");
});
