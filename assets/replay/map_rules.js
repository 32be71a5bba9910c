/* Replay page: how a unit looks at the frame's instant, by the rules the page's configuration carries
 * (dispatch/ui/layers.py; the alert watcher's thresholds). Pure (tests/js/replay/map_rules.test.js). */

// A patrol's status by shape and colour (never colour alone), as on the wall screen.
export const PATROL_SHAPES = { available: "circle", assigned: "diamond", en_route: "hexagon", on_scene: "square",
  unavailable: "cross" };

/** A known patrol status; "unavailable" for anything else. */
export function patrolStatus(value) {
  return Object.prototype.hasOwnProperty.call(PATROL_SHAPES, value) ? value : "unavailable";
}

/** A latitude and longitude that Leaflet can place. */
export function validPosition(lat, lon) {
  return typeof lat === "number" && typeof lon === "number" && isFinite(lat) && isFinite(lon);
}

/**
 * A drone at instant t, last heard at `ts` with `battery` %: {status: "ok" | "low_battery" | "lost", detail}.
 * Link lost beyond rules.link_lost_ms without a report, whatever the battery; detail "LOW 12% · 3 s".
 */
export function droneLook(t, ts, battery, rules) {
  const ageMs = t - ts;
  const percent = Number(battery);
  const status = ageMs > rules.link_lost_ms ? "lost" : percent < rules.low_battery_pct ? "low_battery" : "ok";
  const link = Math.max(0, Math.round(ageMs / 1000)) + " s";
  const detail = status === "lost" ? "LINK LOST · " + link
    : (status === "low_battery" ? "LOW " : "") + Math.round(percent) + "% · " + link;
  return { status: status, detail: detail };
}

/** A sighting's pin: priority 1, 2 or 3 (anything else reads 3), and a category the page has a letter for ("other" if not). */
export function sightingLook(priority, category, letters) {
  return {
    priority: priority === 1 || priority === 2 ? priority : 3,
    category: Object.prototype.hasOwnProperty.call(letters, category) ? category : "other"
  };
}

/** The label's detail: "2026-00042 deal → BAC-12" (the incident number when it has one, the patrol sent). */
export function sightingDetail(number, category, patrol) {
  return (number ? number + " " : "") + category + (patrol ? " → " + patrol : "");
}

/** A stored instant, or null (unbounded) for anything that is not a number. */
export function instantOrNull(value) {
  return typeof value === "number" && isFinite(value) ? value : null;
}

/** Whether a zone version ({storedFrom, storedUntil}, null when unbounded) was the one stored at t. */
export function storedAt(version, t) {
  return (version.storedFrom === null || version.storedFrom <= t) && (version.storedUntil === null || t < version.storedUntil);
}
