/*
 * Patrol tablet: the map.
 *
 * Three markers at most, raw Leaflet layers on the dash-leaflet map (Dash never re-renders it): the
 * patrol itself, its target (the assigned sighting) and the drone that reported it, with a line from
 * the patrol to the target. Nothing else is drawn: the tablet knows nothing of other units.
 *
 * The view centres on the patrol; when an assignment arrives it fits the patrol and the target
 * together, once. After that the officer may pan and zoom freely; the view follows the patrol again
 * only when it would leave the screen.
 *
 * Marker roots carry data-kind and data-unit-id (the browser tests find them by those).
 */
import { el } from "../common/dom.js";
import { page } from "./page.js";
import { assignment, drone as droneOverTarget, sighting as targetSighting, status } from "./picture.js";
import { here as whereWeAre } from "./position.js";

let map = null;
let mapClass = "tablet-map"; // config.ids.map_class (dispatch/ui/tablet.py MAP_CLASS)
const markers = { self: null, target: null, drone: null };
let line = null;
let fittedFor = null; // the assignment the view was last fitted to
let centred = false;

// Leaflet calls this for every map it creates: catch ours. Dash-leaflet creates it after the modules
// ran (the renderer starts after them), so the hook is in place in time.
L.Map.addInitHook(function () {
  const container = this.getContainer();
  if (container && container.classList && container.classList.contains(mapClass)) map = this;
});

export const tabletMap = {
  init: function (config) { mapClass = config.ids.map_class; },
  update: update,
  get map() { return map; },
  marker: function (kind) { return markers[kind]; }
};

function icon(kind, id, label, extraClass) {
  const root = el("div", "tab-unit tab-unit-" + kind + (extraClass ? " " + extraClass : ""));
  root.dataset.kind = kind;
  root.dataset.unitId = id;
  root.appendChild(el("span", "tab-unit-glyph"));
  root.appendChild(el("span", "tab-unit-label", label));
  return L.divIcon({ className: "tab-unit-icon", html: root, iconSize: [0, 0] });
}

function place(kind, position, id, label, extraClass) {
  if (!position) {
    if (markers[kind]) { markers[kind].remove(); markers[kind] = null; }
    return;
  }
  const latlng = [position.lat, position.lon];
  const current = markers[kind];
  const key = id + "|" + label + "|" + (extraClass || "");
  if (current && current.dispatchKey === key) {
    current.setLatLng(latlng);
    return;
  }
  if (current) current.remove();
  const marker = L.marker(latlng, { icon: icon(kind, id, label, extraClass), keyboard: false, interactive: false,
                                  zIndexOffset: kind === "self" ? 1000 : 0 });
  marker.dispatchKey = key;
  markers[kind] = marker.addTo(map);
}

function update() {
  if (map === null) return;
  const here = whereWeAre();
  const open = assignment();
  const sighting = targetSighting();
  const drone = droneOverTarget();
  place("self", here, page.config.patrol_id, page.config.patrol_id, "status-" + status());
  place("target", sighting ? { lat: sighting.lat, lon: sighting.lon } : null, sighting ? sighting.sighting_id : "",
        "TARGET", sighting ? "prio-" + sighting.priority : "");
  place("drone", drone ? { lat: drone.lat, lon: drone.lon } : null, drone ? drone.drone_id : "",
        drone ? drone.drone_id : "");
  if (here && sighting) {
    const points = [[here.lat, here.lon], [sighting.lat, sighting.lon]];
    if (line === null) line = L.polyline(points, { className: "tab-line", interactive: false }).addTo(map);
    else line.setLatLngs(points);
  } else if (line !== null) {
    line.remove();
    line = null;
  }
  frame(here, open, sighting);
}

function frame(here, open, sighting) {
  const assignmentId = open ? open.unit.assignment_id : null;
  if (assignmentId && sighting && fittedFor !== assignmentId) {
    fittedFor = assignmentId;
    const points = [[sighting.lat, sighting.lon]];
    if (here) points.push([here.lat, here.lon]);
    map.fitBounds(points, { padding: [60, 60], maxZoom: 17 });
    return;
  }
  if (!assignmentId) fittedFor = null;
  if (!here) return;
  if (!centred) {
    centred = true;
    map.setView([here.lat, here.lon], map.getZoom());
  } else if (!map.getBounds().pad(-0.1).contains([here.lat, here.lon])) {
    map.panTo([here.lat, here.lon]);
  }
}
