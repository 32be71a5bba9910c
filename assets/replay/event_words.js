/* Replay page: an event of the window in words (History.events(): sightings tagged and ended, each
 * assignment step, alerts raised, acknowledged, resolved). Built from known values and ids, shown as
 * text (textContent). Pure (tests/js/replay/event_words.test.js). */

export const KIND_WORDS = { sighting: "SIGHTING", assignment: "PATROL", alert: "ALERT" };
const STEP_WORDS = { acknowledged: "acknowledged", en_route: "en route", on_scene: "on scene", cleared: "cleared",
  cancelled: "withdrawn" };

/** A long generated id (a UUID) cut to its first 8 characters; "?" when there is none. */
export function shortId(id) {
  return typeof id === "string" && id.length > 12 ? id.slice(0, 8) : id || "?";
}

/** What happened: kind "sighting" | "assignment" | "alert", its event, and the fields {id, sighting_id, patrol_id, detail}. */
export function describe(kind, event, e) {
  if (kind === "sighting" && event !== "created") {
    // An ending (dispatched, closed with its reason, merged, ended by the operator, expired): its number leads the detail when recorded.
    return "Sighting " + (e.detail || event) + " · " + shortId(e.sighting_id);
  }
  if (kind === "sighting") return "Sighting: " + (e.detail || "") + " · " + shortId(e.sighting_id);
  if (kind === "assignment") {
    if (event === "created") return e.patrol_id + " sent to sighting " + shortId(e.sighting_id);
    const word = STEP_WORDS[event] || event;
    return e.patrol_id + " " + word + (e.detail ? ": " + e.detail : "");
  }
  if (event === "raised") return e.detail || "alert raised";
  return "Alert " + (event === "resolved" ? "resolved" : event) + ": " + (e.detail || e.id);
}

/** "1 event", "12 events". */
export function eventCount(n) {
  return n + " event" + (n === 1 ? "" : "s");
}
