/*
 * Patrol tablet (dispatch/ui/tablet.py), browser side: the entry module (dispatch/web/page_scripts.py).
 *
 *   main.js          this file: start-up, the live feed, polling while it is down, the inspection handle
 *   page.js          the page's configuration and the server's clock
 *   picture.js       the server's picture of this patrol, and the view read from it
 *   view.js          the view's rules: answers and waiting actions on top of the picture (pure)
 *   actions.js       taking an action, the server's answer, the buttons' taps, signing out
 *   outbox.js        actions kept in localStorage and sent in order, each once (action ids)
 *   outbox_rules.js  what each answer means for the waiting action, the backoff (pure)
 *   render.js        drawing the view: status, target, buttons, the link's state
 *   link.js          the link's state and its words (pure)
 *   message.js       the line that answers the officer
 *   text.js          distance and direction to the target, with the server's words (pure)
 *   alert.js         the new-assignment banner and beep, and the tap that enables sound
 *   map.js           the Leaflet markers: the patrol, its target, the drone over it
 *   position.js      geolocation, and position reports every 5 s (2 s en route)
 *
 * What the server knows comes from the push gateway, from the page's first picture, and while the
 * socket is down from polling /api/patrol/view. What the officer sees is that picture with the actions
 * still waiting in the outbox, and the answers not yet reflected in it, applied on top: a tap shows at
 * once, online or not.
 *
 * User text (the sighting note, ids) only ever reaches the page through textContent, never innerHTML.
 * Nothing runs until the page's start-up callback (Dash calls it with the page's config).
 */
import { live } from "../common/live_client.js";
import { age } from "../common/time.js";
import { act, onAnswer, onTap, signOut } from "./actions.js";
import { alert } from "./alert.js";
import { tabletMap } from "./map.js";
import { outbox } from "./outbox.js";
import { page, startPage } from "./page.js";
import { drone, enabledActions, fillIn, ingest, onChange, server } from "./picture.js";
import { position } from "./position.js";
import { link, render, renderLink } from "./render.js";

// ---- polling, only while the socket is down -----------------------------------------------------------------
let polling = false;
function poll() {
  if (polling || link().socketDownFor < page.config.offline_after_ms) return;
  polling = true;
  outbox.request("GET", page.config.api.view, null).then(function (reply) {
    if (reply.status === 200 && reply.body && reply.body.ok) ingest(reply.body, true);
  }).finally(function () { polling = false; });
}

function gatewayUrl(config) {
  return (location.protocol === "https:" ? "wss://" : "ws://") + location.hostname + ":" + config.gateway.port +
    config.gateway.path;
}

function start(config) {
  if (page.started || !config) return window.dash_clientside.no_update;
  startPage(config);
  onChange(render);
  outbox.init(config, { answer: onAnswer, change: render, link: renderLink });
  alert.init(config);
  tabletMap.init(config);
  position.init(render);
  page.byId("actions").addEventListener("click", onTap);
  page.byId("outcomes").addEventListener("click", onTap);
  page.byId("sign_out").addEventListener("click", signOut);
  if (config.initial) ingest(config.initial, true);
  else render();
  live.on("snapshot", function (event) {
    const picture = {};
    Object.keys(event.picture).forEach(function (name) { picture[name] = Array.from(event.picture[name].values()); });
    ingest(picture, true);
  });
  live.on("delta", function (event) { ingest(event.changes, false); });
  // The session ended: sign in again; actions still queued stay in the outbox and go after that.
  live.on("ended", function () { window.location.assign("/login/patrol?ended=1"); });
  live.on("status", function (status) {
    renderLink();
    if (status.state === "live") outbox.flush(); // the link is back: send what waits
  });
  live.connect(gatewayUrl(config));
  setInterval(function () { render(); poll(); fillIn(); }, 1000);
  return { started_ms: Date.now() };
}

/* For tests and benchmarks (tests/browser/test_tablet.py, bench/tablet.py): the page's one inspection
   handle. Nothing of the page reads it. */
window.dispatchTablet = {
  get started() { return page.started; },
  /** The texts as the page computes them, compared with the server's by the browser test. */
  get text() { return page.texts && Object.assign({ age: age }, page.texts); },
  server: server,
  alert: alert,
  outbox: outbox,
  position: position,
  map: tabletMap,
  act: act,
  drone: drone,
  enabledActions: enabledActions
};

window.dash_clientside = Object.assign(window.dash_clientside || {}, { dispatchTablet: { start: start } });
