/* How an authorised zone is drawn, by its validity at the instant shown: the wall screen (now) and the
 * replay (the frame's instant) alike. Pure (tests/js/common/zone_style.test.js). */

/** Leaflet path options by status: solid while valid, dashed and faint before and after. */
export const ZONE_STYLE = {
  active: { dashArray: null, weight: 3, fillOpacity: 0.07, opacity: 0.9 },
  upcoming: { dashArray: "10 8", weight: 2, fillOpacity: 0.02, opacity: 0.8 },
  expired: { dashArray: "4 8", weight: 2, fillOpacity: 0.0, opacity: 0.7 }
};

/** "upcoming" before validFrom, "active" from validFrom until (not including) validUntil, "expired" after.
 * A bound that is not a number never holds: such a zone reads as expired. */
export function zoneStatus(validFrom, validUntil, t) {
  return t < validFrom ? "upcoming" : t < validUntil ? "active" : "expired";
}
