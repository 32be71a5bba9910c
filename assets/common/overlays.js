/* What the wall screen and the replay map draw besides units, in one vocabulary (style.css colours,
 * dispatch/ui/layers.py rules): authorised zones styled by their validity at an instant, and alert
 * rings named by severity. Pure: nothing here touches window, document or Leaflet, so Node tests it
 * (tests/js/common/overlays.test.js); each page builds its own layers from these answers. */

/** The map's colours, read once from style.css's custom properties (--c-*) by each page's map. */
export const MAP_COLOUR_NAMES = ["--c-available", "--c-assigned", "--c-en-route", "--c-on-scene", "--c-unavailable",
  "--c-trail", "--c-zone", "--c-muted-zone", "--c-line"];

/** name -> colour, from a computed style (getComputedStyle(document.documentElement)). */
export function readMapColours(style) {
  const colours = {};
  MAP_COLOUR_NAMES.forEach(function (name) { colours[name] = style.getPropertyValue(name).trim(); });
  return colours;
}

// ---- zones ----------------------------------------------------------------------------------------
// A zone is solid while valid, dashed before (upcoming) and after (expired): never told by colour alone.
export const ZONE_STYLE = {
  active: { dashArray: null, weight: 3, fillOpacity: 0.07, opacity: 0.9 },
  upcoming: { dashArray: "10 8", weight: 2, fillOpacity: 0.02, opacity: 0.8 },
  expired: { dashArray: "4 8", weight: 2, fillOpacity: 0.0, opacity: 0.7 }
};

/** "upcoming", "active" or "expired" at instant t: valid from validFrom (included) until validUntil (excluded). */
export function zoneStatus(t, validFrom, validUntil) {
  return t < validFrom ? "upcoming" : t < validUntil ? "active" : "expired";
}

/** The Leaflet path style of a zone in this status; colourOf(name) answers for "--c-zone" and "--c-muted-zone". */
export function zoneStyle(status, colourOf) {
  const colour = colourOf(status === "active" ? "--c-zone" : "--c-muted-zone");
  return Object.assign({ color: colour, fillColor: colour }, ZONE_STYLE[status] || ZONE_STYLE.expired);
}

/** A GeoJSON Polygon feature's outer ring as Leaflet [lat, lon] pairs; null when it has none. */
export function zoneLatLngs(zone) {
  const geometry = zone && zone.geometry;
  const ring = geometry && geometry.type === "Polygon" && Array.isArray(geometry.coordinates) && geometry.coordinates[0];
  if (!Array.isArray(ring)) return null;
  return ring.map(function (position) { return [Number(position[1]), Number(position[0])]; });
}

// ---- alert rings ----------------------------------------------------------------------------------
/** Which collection holds the unit an alert is about, by alert kind (dispatch/domain/alerts.py). */
export const ALERT_UNIT = { link_lost: "drones", low_battery: "drones", outside_zone: "drones",
  patrol_stale: "patrols", sighting_unassigned: "sightings", assignment_unacknowledged: "assignments" };

export const SEVERITIES = ["critical", "warning", "info"]; // worst first

/** A known severity, "info" for anything else. */
export function severityOf(value) {
  return SEVERITIES.indexOf(value) >= 0 ? value : "info";
}

/** The ring's classes (style.css): double for critical, dashed for a warning, dim once acknowledged. */
export function ringClassName(severity, acknowledged) {
  return "ring is-" + severityOf(severity) + (acknowledged ? " is-acknowledged" : "");
}
