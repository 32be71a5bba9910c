/* Replay page: the state its modules share (the configuration, the window, the instant) and the few
 * helpers every one of them uses: component lookup, the message line, the API. */
import { idLookup } from "../common/dom.js";
import { siteClock, siteDay } from "../common/time.js";

/** The page's state; main.js hands it to tests and benchmarks as window.dispatchReplay. */
export const replay = {
  config: null, // from dispatch/ui/replay/page.py: ids, api paths, speeds, poll_ms, timezone, map rules
  started: false,
  // ready: the whole window is loaded; showing: its frames can be shown, up to loadedUntil (ms), maybe while
  // the rest still loads (issue 15); waiting: an instant beyond loadedUntil, drawn once it is loaded
  state: { window: null, ready: false, showing: false, loadedUntil: null, waiting: null, t: null, playing: false,
    speedIndex: 0 },
  timing: { opened_at: null, first_frame_at: null, ready_at: null }, // performance.now() of each, per window
  frames: { drawn: 0, last: null }, // frames drawn, and the last one ({t, requested_at, drawn_at, server_ms})
  generation: 0 // bumped whenever the window changes: late answers about an older one are dropped
};

export let byId = function () { return null; };
export let clock = siteClock("UTC");
export let day = siteDay("UTC");

/** Called once by start(): the lookups and clocks that depend on the configuration. */
export function configure(config) {
  replay.config = config;
  byId = idLookup(config.ids);
  clock = siteClock(config.timezone);
  day = siteDay(config.timezone);
}

/** The line under the header; kind "ok", "info", "refused" or none. */
export function message(text, kind) {
  const box = byId("message");
  box.textContent = text || "";
  box.className = "rp-message" + (kind ? " is-" + kind : "");
  box.dataset.kind = kind || "";
}

/** The URL of an API call about the current window, with `extra` parameters. */
export function api(name, extra) {
  const w = replay.state.window;
  const params = Object.assign({ from: w.from_ms, to: w.to_ms }, extra || {});
  const query = Object.keys(params).map(function (key) {
    return encodeURIComponent(key) + "=" + encodeURIComponent(params[key]);
  }).join("&");
  return replay.config.api[name] + "?" + query;
}

/** {status, body} of a GET; body {} when the answer is not JSON. */
export function getJson(url) {
  return fetch(url, { credentials: "same-origin", cache: "no-store" }).then(function (response) {
    return response.json().catch(function () { return {}; }).then(function (body) {
      return { status: response.status, body: body };
    });
  });
}

/** Sets a Dash component's props from the browser (the figures follow "ready"). */
export function setProps(name, props) {
  window.dash_clientside.set_props(replay.config.ids[name], props);
}
