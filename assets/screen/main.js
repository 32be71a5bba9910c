/*
 * Supervisor wall screen (dispatch/ui/supervisor.py), browser side: the page's entry module.
 *
 *   state.js     S (the page's state, inspected by tests), its configuration, clock and gateway time
 *   model.js     the screen's copy of the picture, its change events, the one-second tick
 *   feed.js      where the picture comes from: the push gateway (common/live_client.js), or, only
 *                while the socket is down, polling /api/snapshot
 *   map.js       the Leaflet layers of the units: one marker per unit, updated in place (batch.js: the
 *                canvases redrawn at most every few hundred ms)
 *   overlays.js  zones, alert rings, lines to the nearest patrols, layer toggles
 *   labels.js    where each unit's label goes (label_places.js: the pure placement rules)
 *   queue.js     the sighting queue (queue_rules.js: its order and the probable-duplicate rule)
 *   endings.js   the sightings that just left the queue, and how each ended
 *   panels.js    the selected sighting, its nearest patrols, the actions
 *   alerts.js    the alerts panel (alert_rules.js: lines, pins and groups)
 *   keys.js      the header (link status, counts, clock) and the keyboard
 *   board.js     the unit status board (patrols and drones)
 *   units.js     any available patrol for a sighting, time in status on the board
 *   patrol_detail.js  a patrol's detail card (map or board click)
 *   unit_questions.js the one-at-a-time questions about units to the server
 *
 * Nothing runs until the page's clientside start-up callback calls
 * dash_clientside.dispatchScreen.start(config). User text (sighting notes, call signs, zone names,
 * alert messages) only ever reaches the page through textContent (common/dom.js el), never innerHTML:
 * it comes from the network.
 */
import { age } from "../common/time.js";
import { live } from "../common/live_client.js";
import { S, configure } from "./state.js";
import { model, tick } from "./model.js";
import { feed } from "./feed.js";
import { mapView } from "./map.js";
import { overlays } from "./overlays.js";
import { labels } from "./labels.js";
import { queue } from "./queue.js";
import { endings } from "./endings.js";
import { panels } from "./panels.js";
import { alertBoard, onBulk } from "./alerts.js";
import { header, keys } from "./keys.js";
import { board } from "./board.js";
import { units } from "./units.js";
import { patrolDetail } from "./patrol_detail.js";
import { onAnswer as onUnitsAnswer } from "./unit_questions.js";

var PARTS = [mapView, queue, endings, panels, header, keys, board, patrolDetail, units, feed]; // the feed last: it brings data

function start(config) {
  if (S.started || !config) return window.dash_clientside.no_update;
  configure(config);
  S.started = true;
  PARTS.forEach(function (part) { part.init(config); });
  setInterval(tick, 1000);
  return { started_ms: Date.now() };
}

function answered(handle) {
  return function (answer) {
    if (answer) handle(answer);
    return window.dash_clientside.no_update;
  };
}

// The bridge from Dash (clientside callbacks: supervisor.register, alert_actions.register).
window.dash_clientside = Object.assign(window.dash_clientside || {}, {
  dispatchScreen: {
    start: start,
    onNearest: answered(panels.onNearest),
    onAction: answered(panels.onAction),
    onUnits: answered(onUnitsAnswer),
    poll: function () {
      feed.poll();
      return window.dash_clientside.no_update;
    }
  },
  dispatchAlerts: { onBulk: answered(onBulk) }
});

// For tests and benchmarks (tests/browser/*.py, bench/latency.py): the page's one inspection handle,
// and the live feed's. Nothing of the page reads them.
Object.assign(S, { model: model, mapView: mapView, overlays: overlays, labels: labels, queue: queue,
                   endings: endings, panels: panels, alertBoard: alertBoard, board: board, units: units, age: age });
window.dispatchScreen = S;
window.dispatchLive = live;
