/*
 * Patrol tablet: the page's configuration (dispatch/ui/tablet.py tablet_config) and the server's clock,
 * set once at start-up (main.js) and read by the other modules.
 */
import { idLookup } from "../common/dom.js";
import { siteClock } from "../common/time.js";
import { live } from "../common/live_client.js";
import { tabletTexts } from "./text.js";

export const page = {
  started: false,
  config: null,
  serverOffsetMs: 0, // from the page's own server_ms, until the feed's heartbeats say better
  /** The page's element called `name` in config.ids. */
  byId: null,
  /** HH:MM:SS on the site's clock (config.timezone), whatever the tablet's zone. */
  clock: null,
  /** Distance and direction to the target (text.js), with the server's words (config.texts). */
  texts: null
};

export function startPage(config) {
  page.config = config;
  page.serverOffsetMs = config.server_ms - Date.now();
  page.byId = idLookup(config.ids);
  page.clock = siteClock(config.timezone);
  page.texts = tabletTexts(config.texts);
  page.started = true;
}

/** Now on the server's clock when known: ages stay right on a tablet whose clock is off. */
export function now() {
  const offset = live.status.serverOffsetMs;
  return Date.now() + (typeof offset === "number" ? offset : page.serverOffsetMs);
}
