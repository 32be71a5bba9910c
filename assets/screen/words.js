/* The words the wall screen shows for its units: pure, no window, document or L (tested under Node,
 * tests/js/screen/words.test.js). */

/** An assignment's state as read on the screen. */
export const ASSIGNMENT_WORDS = { assigned: "assigned", acknowledged: "acknowledged", en_route: "en route",
                                  on_scene: "on scene" };

/** A patrol's status as read on the board and the patrol's detail. */
export const PATROL_STATUS_WORDS = { available: "Available", assigned: "Assigned", en_route: "En route",
                                     on_scene: "On scene", unavailable: "Unavailable" };

/** `value` when it is one of `allowed`'s keys (class names are built from known values only), else `fallback`. */
export function knownOr(value, allowed, fallback) {
  return Object.prototype.hasOwnProperty.call(allowed, value) ? value : fallback;
}

/** The incident number people read out (S-0142, given at ingest); the start of the id before numbering existed. */
export function sightingLabel(sighting) {
  return sighting && typeof sighting.number === "string" && sighting.number ? sighting.number
    : String((sighting && sighting.sighting_id) || "").slice(0, 8);
}

/** How one ending reads, for the recently-ended line and the detail panel's message alike: "expired,
 * nobody sent", "closed: false alarm", "ended by the operator: left, situation over", "merged into S-0139".
 * `rules` is config.endings (the domain's DISPOSITION_WORDS and reason labels); `labelOfId(id)` names
 * the sighting a merged one went into. */
export function endingWords(sighting, rules, labelOfId) {
  rules = rules || {};
  var disposition = sighting && typeof sighting.disposition === "string" ? sighting.disposition : "";
  if (!disposition) return "closed";
  var words = (rules.dispositions || {})[disposition] || disposition;
  var reason = "";
  if (disposition === "ended_by_operator") {
    reason = (rules.operator_reasons || {})[sighting.reason] || "";
  } else if (disposition === "closed") {
    (rules.reasons || []).forEach(function (pair) { if (pair[0] === sighting.reason) reason = pair[1]; });
  } else if (disposition === "merged" && typeof sighting.merged_into === "string" && sighting.merged_into) {
    return words + " into " + labelOfId(sighting.merged_into);
  }
  return words + (reason ? ": " + reason : "");
}
