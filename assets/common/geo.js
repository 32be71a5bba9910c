/* Distances on the map, as dispatch/domain/geo.py computes them: pure (tests/js/common/geo.test.js).
 * The wall screen ranks and labels with it; the tablet words its targets with it. */

export const EARTH_RADIUS_M = 6371008.8; // the mean radius, as dispatch/domain/geo.py haversine_m

/** Great-circle distance in metres (haversine; the square root's argument clamped, so antipodes are
 * half the circumference, never NaN). */
export function haversineM(lat1, lon1, lat2, lon2, radiusM = EARTH_RADIUS_M) {
  const rad = Math.PI / 180;
  const h = Math.sin((lat2 - lat1) * rad / 2) ** 2 +
    Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin((lon2 - lon1) * rad / 2) ** 2;
  return 2 * radiusM * Math.asin(Math.sqrt(Math.min(1, Math.max(0, h))));
}

/** Great-circle distance in metres between two {lat, lon}. */
export function distanceM(a, b) {
  return haversineM(a.lat, a.lon, b.lat, b.lon);
}
