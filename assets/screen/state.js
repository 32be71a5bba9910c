/* The wall screen's shared state: S, the object main.js exposes as window.dispatchScreen for tests and
 * benchmarks, and the few things every part needs once the page's configuration is known (its
 * components, the site's clock, the gateway's time). */
import { idLookup } from "../common/dom.js";
import { siteClock } from "../common/time.js";
import { live } from "../common/live_client.js";

export const S = {
  config: null, // the page's configuration (dispatch/ui/supervisor.py), given to start()
  started: false,
  // Latency hook (bench/latency.py, browser tests): "drones:DR-07" -> {ts, at} once that
  // version of the unit is on the map; `at` is this machine's Date.now().
  rendered: new Map()
};

/** byId("queue"): a Dash component of the page by its name in config.ids. */
export let byId = function () { return null; };
/** clock(ms) -> "HH:MM:SS" on the site's wall clock (config.timezone), whatever the screen's zone. */
export let clock = siteClock("UTC");

export function configure(config) {
  S.config = config;
  byId = idLookup(config.ids);
  clock = siteClock(config.timezone);
}

/** Now on the gateway's clock when known: ages stay right on a screen whose clock is off. */
export function gatewayNow() {
  var offset = live.status.serverOffsetMs;
  return Date.now() + (typeof offset === "number" ? offset : 0);
}

/** Write a prop of a Dash component from a script (it triggers the callbacks that listen to it). */
export function setProps(idName, props) {
  window.dash_clientside.set_props(S.config.ids[idName], props);
}
