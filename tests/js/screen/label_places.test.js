// assets/screen/label_places.js under Node's built-in test runner.
import { test } from "node:test";
import assert from "node:assert/strict";

import { GAP, Grid, candidates, rect } from "../../../assets/screen/label_places.js";

test("a label's spots around its glyph: right, left, above, below, then the four corners", () => {
  const glyph = { left: 100, top: 100, right: 120, bottom: 120 };
  const spots = candidates(glyph, 40, 10);
  assert.deepEqual(spots, [
    [120 + GAP, 105], [100 - GAP - 40, 105], [90, 100 - GAP - 10], [90, 120 + GAP],
    [120 + GAP, 90], [120 + GAP, 120], [100 - GAP - 40, 90], [100 - GAP - 40, 120]
  ]);
  spots.forEach(([x, y]) => {
    const box = rect(x, y, 40, 10);
    const overlaps = box.left < glyph.right && glyph.left < box.right && box.top < glyph.bottom && glyph.top < box.bottom;
    assert.equal(overlaps, false, `spot ${x},${y} covers its own glyph`);
  });
});

test("boxes that only touch do not collide; boxes that overlap by a pixel do", () => {
  const grid = new Grid();
  grid.add(rect(0, 0, 10, 10, "a"));
  assert.equal(grid.hits(rect(10, 0, 10, 10)), false, "edge to edge");
  assert.equal(grid.hits(rect(9, 9, 10, 10)), true);
});

test("a unit's own glyph is not in its label's way, another's is", () => {
  const grid = new Grid();
  grid.add(rect(0, 0, 10, 10, "drones:DR-07"));
  const label = rect(5, 5, 30, 10, "drones:DR-07");
  assert.equal(grid.hits(label, "drones:DR-07"), false);
  assert.equal(grid.hits(label, "patrols:BAC-12"), true);
  assert.equal(grid.hits(label), true, "no owner: every box counts");
});

test("boxes spanning several grid cells, and at negative coordinates (off the map's left edge), are found", () => {
  const grid = new Grid();
  grid.add(rect(-150, -20, 400, 40, "wide"));
  assert.equal(grid.hits(rect(200, 0, 5, 5)), true, "three cells to the right of where it starts");
  assert.equal(grid.hits(rect(-140, 0, 5, 5)), true);
  assert.equal(grid.hits(rect(300, 0, 5, 5)), false);
});
