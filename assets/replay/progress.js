/* Replay page: what the loading progress and the loaded window say, in words. Pure (tests/js/replay). */

// Which recording the server is reading (History's load order), as a reviewer calls it.
const STREAM_WORDS = { deadletter: "rejected entries", telemetry: "drone positions", patrol: "patrol reports",
  sighting: "sightings", assignments: "assignments", alerts: "alerts", done: "indexing" };

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
