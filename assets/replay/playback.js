/* Replay page: the transport's rules, without the page. Pure (tests/js/replay/playback.test.js). */

/** t as a whole millisecond inside the window, or null when it is not a number. */
export function clampInstant(t, window) {
  const clamped = Math.round(Math.max(window.from_ms, Math.min(window.to_ms, Number(t))));
  return isFinite(clamped) ? clamped : null;
}

/** Where playing at `speed` (x real time) takes instant t after elapsedMs of wall time; ended at the window's end. */
export function advance(t, elapsedMs, speed, toMs) {
  const next = t + elapsedMs * speed;
  return next >= toMs ? { t: toMs, ended: true } : { t: next, ended: false };
}

/** A speed index kept within the page's speeds. */
export function speedIndexWithin(index, speeds) {
  return Math.max(0, Math.min(speeds.length - 1, index));
}

/* The keys the transport answers (layout.py shows them under the slider). */
const KEYS = { " ": "toggle", Spacebar: "toggle", ArrowRight: "next", ArrowLeft: "previous", "]": "faster",
  "[": "slower" };

/**
 * What a key press asks of the transport ("toggle", "next", "previous", "faster", "slower"), or null.
 * `target` is the focused element (tagName, type, isContentEditable): keys typed into a field are the
 * field's, and a focused button answers Space and Enter itself (its click): handling them too would act twice.
 */
export function keyAction(event, target) {
  if (event.ctrlKey || event.metaKey || event.altKey) return null;
  if (target) {
    const typing = target.tagName === "TEXTAREA" || target.isContentEditable === true ||
      (target.tagName === "INPUT" && target.type !== "range" && target.type !== "radio");
    const pressing = target.tagName === "BUTTON" && (event.key === " " || event.key === "Enter");
    if (typing || pressing) return null;
  }
  return Object.prototype.hasOwnProperty.call(KEYS, event.key) ? KEYS[event.key] : null;
}

/** The pixel column of an event's mark under the slider, `width` pixels for the window [fromMs, toMs]. */
export function tickX(ts, fromMs, toMs, width) {
  return Math.round((ts - fromMs) / Math.max(1, toMs - fromMs) * (width - 1));
}
