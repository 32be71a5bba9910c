/*
 * After-action replay page (dispatch/ui/replay/layout.py), browser side: the entry module
 * (dispatch/web/page_scripts.py loads it on "/replay" only).
 *
 *   page.js       the state the modules share, component lookup, the message line, the API
 *   loading.js    loading a window (its progress polled), then its events, zones and first instant
 *   transport.js  the instant, play/pause, speed, previous/next event, slider, keyboard; frames.js asks
 *                 for the frames, one request in flight
 *   events.js     the event list beside the map, kept in step with the instant, virtualised
 *                 (event_index.js, event_window.js, event_words.js)
 *   figures.js    the shift figures, asked for one at a time as they come into view (figure_order.js)
 *   map.js        the frame drawn into raw Leaflet layers: drones and trails, patrols, sightings
 *                 (map_rules.js); overlays.js: assignment lines, alert rings, zones, a unit's track
 *   progress.js, playback.js: the pure rules and words (tests/js/replay/)
 *
 * Nothing runs until the page's clientside start-up callback calls
 * dash_clientside.dispatchReplay.start(config). Text from the network only ever reaches the page
 * through textContent (common/dom.js el), never innerHTML.
 */
import { currentEvent, eventListState, initEvents } from "./events.js";
import { figureState, initFigures, onFigureDone, onReadyFigures } from "./figures.js";
import { cancelLoad, onOpened } from "./loading.js";
import { initMap, leafletMap, mapCount, mapPosition } from "./map.js";
import { trackedUnit } from "./overlays.js";
import { api, configure, message, replay } from "./page.js";
import { bindTransport, pause, play, setInstant, setSpeed, step } from "./transport.js";

function start(config) {
  if (replay.started || !config) return window.dash_clientside.no_update;
  configure(config);
  replay.started = true;
  bindTransport(cancelLoad);
  initEvents(function (t) {
    pause();
    setInstant(t, "event");
  });
  initMap(config);
  initFigures(config);
  setSpeed(0);
  return { started_ms: Date.now() };
}

window.dash_clientside = Object.assign(window.dash_clientside || {}, {
  dispatchReplay: {
    start: start,
    onOpened: function (answer) {
      onOpened(answer);
      return window.dash_clientside.no_update;
    },
    onReadyFigures: function (ready) {
      if (replay.started) onReadyFigures(ready, replay.config.figure_blank);
      return window.dash_clientside.no_update;
    },
    onFigureDone: function (done) {
      onFigureDone(done);
      return window.dash_clientside.no_update;
    },
    onJump: function (answer) {
      if (answer && answer.ok) {
        pause();
        setInstant(answer.t, "jump");
      } else if (answer) {
        message(answer.message, "refused");
      }
      return window.dash_clientside.no_update;
    }
  }
});

// The page's one inspection handle, for tests and benchmarks (tests/browser/test_replay*.py): the state
// they read (started, state, frames), what the map shows, the API's URLs and the transport.
window.dispatchReplay = {
  get started() { return replay.started; },
  get config() { return replay.config; },
  state: replay.state,
  timing: replay.timing, // performance.now() of Load answered, first frame drawn, whole window loaded
  frames: replay.frames,
  map: {
    count: mapCount,
    position: mapPosition,
    get tracked() { return trackedUnit(); },
    get map() { return leafletMap(); }
  },
  events: { get current() { return currentEvent(); }, get list() { return eventListState(); } },
  figures: { get state() { return figureState(); } },
  api: api,
  setInstant: setInstant,
  play: play,
  pause: pause,
  step: step,
  setSpeed: setSpeed
};
