/* Replay page: what the loading progress and the loaded window say, in words. Pure (tests/js/replay). */

// Which recording the server is reading (History's load order), as a reviewer calls it.
const STREAM_WORDS = { deadletter: "rejected entries", telemetry: "drone positions", patrol: "patrol reports",
  sighting: "sightings", assignments: "assignments", alerts: "alerts", endings: "endings", positions: "positions",
  done: "indexing" };

/** The share loaded, 0 to 1, whatever the server sent. */
export function progressFraction(status) {
  return Math.max(0, Math.min(1, Number(status && status.fraction) || 0));
}

function entries(count) {
  return Number(count || 0).toLocaleString("en-GB");
}

/** The line under the progress bar: "Reading drone positions: 1,200 of ~5,000 entries (24 %) · 1.5 s". */
export function progressText(status) {
  if (status.state === "queued") return "Queued: other windows are loading, this one starts next…";
  if (status.state === "ready") return "Loaded";
  return "Reading " + (STREAM_WORDS[status.stream] || "recordings") + ": " + entries(status.entries_read) + " of ~" +
    entries(status.entries_estimated) + " entries (" + Math.round(progressFraction(status) * 100) + " %) · " +
    Number(status.elapsed_s || 0).toFixed(1) + " s";
}

/** The message once a window is loaded: what it holds, how long it took, and the server's warning if any. */
export function loadedText(label, summary, elapsedSeconds) {
  const counts = summary.counts;
  return label + " · " + counts.drones + " drones, " + counts.patrols + " patrols, " + counts.sightings +
    " sightings, " + counts.events + " events · loaded in " + Number(elapsedSeconds || 0).toFixed(1) + " s" +
    (summary.warning ? " · " + summary.warning : "");
}

/** The message while a window loads: "Loading the last hour (capped at 24 h)…". */
export function loadingText(answer) {
  return "Loading " + answer.label + (answer.note ? " (" + answer.note + ")" : "") + "…";
}

/* ---- a window drawn while it loads (issue 15): the part already loaded, as a video player's buffer ---- */

/** The instant up to which frames can be shown, or null when not even the window's start is loaded. */
export function loadedUntil(status, window) {
  if (!status || !window) return null;
  if (status.state === "ready") return window.to_ms;
  const until = Number(status.loaded_until_ms);
  return status.loaded_until_ms !== null && isFinite(until) && until >= window.from_ms ? Math.min(until, window.to_ms) : null;
}

/** The loaded share of the window, 0 to 1, for the bar under the slider. */
export function bufferedFraction(until, window) {
  if (until === null || !window) return 0;
  return Math.max(0, Math.min(1, (until - window.from_ms) / Math.max(1, window.to_ms - window.from_ms)));
}

/** The words beside that bar: "Loaded to 14:32:05 (37 %)", or "Loaded" once the whole window is. */
export function bufferedText(until, window, clockText) {
  if (until !== null && window && until >= window.to_ms) return "Loaded";
  if (until === null) return "Loading…";
  return "Loaded to " + clockText(until) + " (" + Math.round(bufferedFraction(until, window) * 100) + " %)";
}

/** Whether instant t is beyond what is loaded: its frame must wait. */
export function beyondLoaded(t, until) {
  return until === null || t > until;
}

/** What the page says while an instant beyond the loaded part waits: "loading up to 14:32:05…". */
export function waitingText(clockText, t) {
  return "loading up to " + clockText(t) + "…";
}

/** The message while a window is shown but still loading: what it holds so far, what waits for the rest. */
export function partialText(label, summary) {
  const counts = summary.counts;
  return label + " · " + counts.events + " events · " + counts.drones + " drones, " + counts.patrols +
    " patrols so far · still loading: figures and exports once loaded" + (summary.warning ? " · " + summary.warning : "");
}
