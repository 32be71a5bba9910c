/*
 * Patrol tablet: the link's state as the header says it ("Live", "Offline — 2 actions waiting"...).
 *
 * Pure: tested under Node (tests/js/tablet/link.test.js).
 */

/** "offline" (the API does not answer), "sending" (live, actions waiting), "live", "polling" (the feed
 *  has been down for offlineAfterMs: the page polls), or "connecting". */
export function linkState({ live, waiting, unreachable, socketDownFor, offlineAfterMs }) {
  if (unreachable) return "offline";
  if (live) return waiting ? "sending" : "live";
  return socketDownFor >= offlineAfterMs ? "polling" : "connecting";
}

function actions(n) {
  return n + " action" + (n === 1 ? "" : "s");
}

/** The header's words for a link `state` with `waiting` actions, polling every pollMs. */
export function linkText(state, waiting, pollMs) {
  const tail = waiting ? " — " + actions(waiting) + " waiting" : "";
  switch (state) {
    case "offline": return "Offline" + tail;
    case "sending": return "Sending " + actions(waiting) + "…";
    case "live": return "Live";
    case "polling": return "Live feed down, updating every " + Math.round(pollMs / 1000) + " s" + tail;
    default: return "Connecting…" + tail;
  }
}
