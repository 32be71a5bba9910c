/* The sighting queue's rules: its order and the probable-duplicate rule. Pure (tested under Node,
 * tests/js/screen/queue_rules.test.js; the duplicate rule is also checked against the Python one in
 * tests/browser/test_duplicate_rule.py). */
import { distanceM } from "../common/geo.js";

/** 1, 2 or 3; anything else, "1" as text included, counts as 3 (the least urgent): the queue, the map's
 * pins and the detail panel read a priority alike (class names are built from it). */
export function priorityOf(sighting) {
  return [1, 2, 3].indexOf(sighting.priority) >= 0 ? sighting.priority : 3;
}

/** Most urgent first, then the one waiting longest; the id keeps two screens in the same order. */
export function compareSightings(a, b) {
  return priorityOf(a) - priorityOf(b) || a.ts - b.ts || (a.sighting_id < b.sighting_id ? -1 : 1);
}

/** dispatch/domain/sightings.py `probable_duplicates`: sighting id -> the earlier sighting it probably
 * repeats (same category, within rules.duplicate_window_ms and rules.duplicate_radius_m). An earlier
 * sighting already flagged as a duplicate is never the original of another. */
export function probableDuplicates(sightings, rules) {
  var found = new Map();
  var ordered = sightings.slice().sort(function (a, b) {
    return a.ts - b.ts || (a.sighting_id < b.sighting_id ? -1 : 1);
  });
  ordered.forEach(function (later, index) {
    for (var i = 0; i < index; i++) {
      var earlier = ordered[i];
      if (found.has(earlier.sighting_id) || earlier.category !== later.category) continue;
      if (Math.abs(later.ts - earlier.ts) > rules.duplicate_window_ms) continue;
      if (distanceM(earlier, later) > rules.duplicate_radius_m) continue;
      found.set(later.sighting_id, earlier.sighting_id);
      break;
    }
  });
  return found;
}
