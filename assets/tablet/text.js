/*
 * Patrol tablet: how far and which way to the target ("650 m north-east"), from the patrol's own fix.
 *
 * dispatch/domain/tablet.py owns these texts. The page computes them itself, because they change
 * with every fix, without a server round trip; it is sent the rules' words and values (config.texts:
 * the compass points, the "here" radius, the Earth's radius, from domain text_rules) and restates
 * only the arithmetic, which tests/domain/tablet_texts.json pins for both languages
 * (tests/domain/test_tablet.py, tests/js/tablet/text.test.js).
 *
 * Pure: no window, no document.
 */

import { haversineM } from "../common/geo.js";

const RAD = Math.PI / 180;

/** The texts for these rules ({compass_points, here_m, earth_radius_m}, config.texts). */
export function tabletTexts(rules) {
  const points = rules.compass_points;
  const sector = 360 / points.length;

  /** One of the points: the bearing's sector, edges going clockwise ("22.5" is north-east). */
  function compassPoint(bearing) {
    const b = ((Number(bearing) % 360) + 360) % 360;
    return points[Math.floor((b + sector / 2) / sector) % points.length];
  }

  /** "40 m", "650 m", "1.2 km", "12 km": halves round up, as in Python (toFixed would not). */
  function distanceWords(metres) {
    const m = Math.max(0, Number(metres));
    if (m < 995) return Math.floor(m / 10 + 0.5) * 10 + " m";
    if (m < 9950) {
      const tenths = Math.floor(m / 100 + 0.5);
      return Math.floor(tenths / 10) + "." + (tenths % 10) + " km";
    }
    return Math.floor(m / 1000 + 0.5) + " km";
  }

  /** Great-circle distance, on the Earth's radius the server sends (the same as common/geo.js's). */
  function metres(lat1, lon1, lat2, lon2) {
    return haversineM(lat1, lon1, lat2, lon2, rules.earth_radius_m);
  }

  /** The direction to set off in, degrees clockwise from north in [0, 360). */
  function bearing(lat1, lon1, lat2, lon2) {
    const p1 = lat1 * RAD, p2 = lat2 * RAD, dl = (lon2 - lon1) * RAD;
    const y = Math.sin(dl) * Math.cos(p2);
    const x = Math.cos(p1) * Math.sin(p2) - Math.sin(p1) * Math.cos(p2) * Math.cos(dl);
    return ((Math.atan2(y, x) / RAD) % 360 + 360) % 360;
  }

  /** "650 m north-east"; "here" within the radius, where a direction means nothing. */
  function target(lat1, lon1, lat2, lon2) {
    const m = metres(lat1, lon1, lat2, lon2);
    if (m < rules.here_m) return "here";
    return distanceWords(m) + " " + compassPoint(bearing(lat1, lon1, lat2, lon2));
  }

  return { compassPoint, distanceWords, metres, bearing, target };
}
