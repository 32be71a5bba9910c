/* Distances on the map: pure (tests/js/screen/geo.test.js). */

var EARTH_RADIUS_M = 6371008.8; // the mean radius, as dispatch/domain/geo.py haversine_m

/** Great-circle distance in metres between two {lat, lon}. */
export function distanceM(a, b) {
  var rad = Math.PI / 180;
  var h = Math.pow(Math.sin((b.lat - a.lat) * rad / 2), 2) +
    Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.pow(Math.sin((b.lon - a.lon) * rad / 2), 2);
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}
