/* Replay page: which rows of the virtualised event list are in the DOM (events.js). A shift has
 * thousands of events: building a row for each costs a main-thread task of several hundred ms, so only
 * the rows in view, plus a margin either side, exist; every row has the same height, so a scroll
 * offset is enough to know them. Pure (tests/js/replay/event_window.test.js). */

/** Rows built beyond each edge of the view: scrolling a little never shows a blank. */
export const MARGIN_ROWS = 20;

/**
 * The rows to keep in the DOM, {first, last} (inclusive; last < first when there are none), for a
 * list of `count` rows of `rowHeight` px scrolled to `scrollTop` in a view `viewHeight` px tall.
 */
export function visibleRows(scrollTop, viewHeight, rowHeight, count, margin = MARGIN_ROWS) {
  if (count <= 0 || !(rowHeight > 0)) return { first: 0, last: -1 };
  const top = Math.max(0, scrollTop);
  const first = Math.max(0, Math.floor(top / rowHeight) - margin);
  const last = Math.min(count - 1, Math.ceil((top + Math.max(0, viewHeight)) / rowHeight) - 1 + margin);
  return { first: Math.min(first, count - 1), last: Math.max(last, Math.min(first, count - 1)) };
}

/**
 * The scroll offset that brings row `index` into view with the least movement (as scrollIntoView's
 * block "nearest" would), or null when it is already wholly in view.
 */
export function scrollToShow(index, scrollTop, viewHeight, rowHeight) {
  const top = index * rowHeight;
  const bottom = top + rowHeight;
  if (top < scrollTop) return top;
  if (bottom > scrollTop + viewHeight) return Math.max(0, bottom - viewHeight);
  return null;
}

/** The row a navigation key moves to from row `index` (-1 for none) in a list of `count` rows, `page`
 * rows per screenful; null for a key the list does not answer. */
export function rowAfterKey(key, index, count, page) {
  if (count <= 0) return null;
  const from = Math.max(0, index);
  const moves = { ArrowDown: index < 0 ? 0 : from + 1, ArrowUp: from - 1, Home: 0, End: count - 1,
    PageDown: from + Math.max(1, page), PageUp: from - Math.max(1, page) };
  if (!Object.prototype.hasOwnProperty.call(moves, key)) return null;
  return Math.max(0, Math.min(count - 1, moves[key]));
}
