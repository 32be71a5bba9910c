/* Replay page: finding events by instant in the window's event times (ascending, as the server sends
 * them; several events may share an instant). Binary searches: a shift has thousands of events and the
 * instant moves every 50 ms while playing. Pure (tests/js/replay/event_index.test.js). */

/** Index of the last event at or before t, -1 if none. */
export function indexAt(stamps, t) {
  let low = 0;
  let high = stamps.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (stamps[mid] <= t) low = mid + 1; else high = mid;
  }
  return low - 1;
}

/** The instant of the first event after t (strictly), null if none: the "next event" button. */
export function nextAfter(stamps, t) {
  const i = indexAt(stamps, t) + 1;
  return i < stamps.length ? stamps[i] : null;
}

/** The instant of the last event before t (strictly), null if none: the "previous event" button. */
export function prevBefore(stamps, t) {
  let low = 0; // first index with ts >= t; the one before it is strictly earlier
  let high = stamps.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (stamps[mid] < t) low = mid + 1; else high = mid;
  }
  return low > 0 ? stamps[low - 1] : null;
}

/**
 * The rows to touch when the current event moves from `current` to `next` (indexes, -1 for none):
 * {past: [first, last]} rows to mark as past, or {notPast: [first, last]} rows to unmark; only the rows
 * between the two, so moving the instant costs nothing per frame. null when nothing changes.
 */
export function pastChange(current, next) {
  if (next === current) return null;
  if (next > current) return { past: [Math.max(0, current), next] };
  return { notPast: [next + 1, current] };
}
