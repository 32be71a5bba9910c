/* The map's colours, read once from style.css's custom properties: Leaflet paths (canvas patrols,
 * trails, zones, lines) take colours as values, not classes. Shared by the wall screen and the replay. */

export const MAP_COLOURS = ["--c-available", "--c-assigned", "--c-en-route", "--c-on-scene", "--c-unavailable",
                            "--c-trail", "--c-zone", "--c-muted-zone", "--c-line"];

/** {"--c-zone": "#56b4e9", ...} as the page's style sheets define them. */
export function readMapColours() {
  var style = getComputedStyle(document.documentElement);
  var colours = {};
  MAP_COLOURS.forEach(function (name) { colours[name] = style.getPropertyValue(name).trim(); });
  return colours;
}
