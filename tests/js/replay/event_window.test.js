// assets/replay/event_window.js: the rows of the virtualised event list kept in the DOM, and its keys.
import { test } from "node:test";
import assert from "node:assert/strict";

import { MARGIN_ROWS, rowAfterKey, scrollToShow, visibleRows } from "../../../assets/replay/event_window.js";

test("at the top, the rows in view and a margin below them", () => {
  assert.deepEqual(visibleRows(0, 300, 30, 4126, 5), { first: 0, last: 14 }); // 10 in view, 5 more
  assert.deepEqual(visibleRows(0, 300, 30, 4126), { first: 0, last: 9 + MARGIN_ROWS });
});

test("scrolled, a margin either side, and a row cut by the view's edge counts as in view", () => {
  assert.deepEqual(visibleRows(3000, 300, 30, 4126, 5), { first: 95, last: 114 });
  assert.deepEqual(visibleRows(3015, 300, 30, 4126, 5), { first: 95, last: 115 });
});

test("at the end the last row is in, and never a row past the end", () => {
  const count = 4126;
  const end = count * 30 - 300;
  assert.deepEqual(visibleRows(end, 300, 30, count, 5), { first: count - 15, last: count - 1 });
  assert.deepEqual(visibleRows(end + 10_000, 300, 30, count, 5).last, count - 1, "overscrolled");
});

test("the number of rows kept is bounded by the view, whatever the list's length", () => {
  for (const count of [10, 4126, 1_000_000]) {
    const { first, last } = visibleRows(150_000, 600, 30, count, 20);
    assert.ok(last - first + 1 <= 600 / 30 + 1 + 40, `${count}: ${first}..${last}`);
    assert.ok(first >= 0 && last <= count - 1 && first <= last);
  }
});

test("no rows, or no height known yet: nothing to build", () => {
  assert.deepEqual(visibleRows(0, 300, 30, 0), { first: 0, last: -1 });
  assert.deepEqual(visibleRows(0, 300, 0, 10), { first: 0, last: -1 });
});

test("a view of no height (hidden) still keeps the margin's rows", () => {
  assert.deepEqual(visibleRows(0, 0, 30, 100, 5), { first: 0, last: 4 });
});

test("bringing a row into view moves the least: up to its top, down to its bottom, or not at all", () => {
  assert.equal(scrollToShow(105, 3000, 300, 30), null, "wholly in view");
  assert.equal(scrollToShow(40, 3000, 300, 30), 1200, "above: its top at the view's top");
  assert.equal(scrollToShow(200, 3000, 300, 30), 200 * 30 + 30 - 300, "below: its bottom at the view's bottom");
  assert.equal(scrollToShow(109, 3000, 300, 30), null, "the last one in view");
  assert.equal(scrollToShow(110, 3010, 300, 30), 3030, "cut at the bottom");
  assert.equal(scrollToShow(0, 0, 300, 30), null);
});

test("keys move through the rows, within the list", () => {
  assert.equal(rowAfterKey("ArrowDown", -1, 10, 5), 0, "from none, the first");
  assert.equal(rowAfterKey("ArrowDown", 3, 10, 5), 4);
  assert.equal(rowAfterKey("ArrowDown", 9, 10, 5), 9);
  assert.equal(rowAfterKey("ArrowUp", 0, 10, 5), 0);
  assert.equal(rowAfterKey("ArrowUp", 4, 10, 5), 3);
  assert.equal(rowAfterKey("Home", 4, 10, 5), 0);
  assert.equal(rowAfterKey("End", 4, 10, 5), 9);
  assert.equal(rowAfterKey("PageDown", 4, 10, 5), 9);
  assert.equal(rowAfterKey("PageUp", 7, 10, 5), 2);
  assert.equal(rowAfterKey("Enter", 4, 10, 5), null, "not a move");
  assert.equal(rowAfterKey("ArrowDown", -1, 0, 5), null, "no rows");
});
