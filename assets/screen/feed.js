/*
 * Supervisor wall screen: where the picture comes from (see main.js for the file map).
 *
 * Normally from the push gateway through the live client (common/live_client.js): one snapshot,
 * then deltas, applied to S.model without any request to the web server. Only when the
 * socket has not been live for config.fallback_after_ms does the page poll /api/snapshot,
 * every config.poll_ms, through a dcc.Interval that is otherwise disabled; it stops as soon
 * as the socket is live again (the live client resumes with ?since=, so nothing is missed).
 * One poll at a time: a slow server never gets a pile of them.
 *
 * Feed time (issue 10): feed.currentAt() is the moment, on the gateway's clock, up to which the
 * picture is known to be current: now while the socket is live and the gateway has Redis; frozen
 * at the last such moment (or the last successful poll) while the feed is down. A drone's link is
 * judged against it (linkNow), so an outage of the dispatch feed never reads as every drone
 * losing its link: it is shown once, as what it is, by the feed-outage banner.
 */
import { el } from "../common/dom.js";
import { span } from "../common/time.js";
import { live } from "../common/live_client.js";
import { S, clock, gatewayNow, setProps } from "./state.js";
import { model } from "./model.js";

var WATCH_EVERY_MS = 500;
// A reconnection after a gateway restart takes about a second: the banner waits that long, so a
// blip does not flash it on every screen of the room.
var BANNER_AFTER_MS = 1500;

var currentAt = null; // gatewayNow() when the picture was last known current (null: never yet)
var outageSince = null; // gatewayNow() when it stopped being current
var banner = null;

var config = null;
var notLiveSince = null;
var polling = false;
var pollInFlight = false;
var statusListeners = [];

/* The session ended (the socket or a poll says so): the sign-in page, then back here. */
function signInAgain() {
  window.location.assign("/login?ended=1&next=" + encodeURIComponent(window.location.pathname));
}

export const feed = {
  lastPollAt: null, // Date.now() of the last successful poll
  pollError: null, // why the last poll failed, for the header
  get polling() { return polling; },

  init: function (cfg) {
    config = cfg;
    live.on("snapshot", function (event) { model.replace(pictureOf(event.picture), "live"); });
    live.on("delta", function (event) { model.apply(event.changes, "live"); });
    live.on("status", function () { watch(); });
    live.on("ended", signInAgain);
    live.connect(gatewayUrl(cfg.gateway));
    notLiveSince = Date.now();
    setInterval(watch, WATCH_EVERY_MS);
    watch();
  },

  /* Called by the dcc.Interval's clientside callback (and once when polling starts). */
  poll: function () {
    if (!polling || pollInFlight) return;
    pollInFlight = true;
    fetch(config.snapshot_url, { cache: "no-store", credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 401) signInAgain();
        return response.json().then(function (body) {
          if (!response.ok) throw new Error(body && body.error ? body.error : "HTTP " + response.status);
          return body;
        });
      })
      .then(function (body) {
        feed.pollError = null;
        feed.lastPollAt = Date.now();
        if (polling) {
          model.replace(body, "poll"); // the socket may have come back meanwhile
          currentAt = gatewayNow(); // read from the store just now: current, if slower
        }
      })
      .catch(function (error) { feed.pollError = String(error && error.message ? error.message : error); })
      .then(function () {
        pollInFlight = false;
        notify();
      });
  },

  /* What the header shows: the socket's state, and whether the fallback is running. */
  describe: function () {
    var status = live.status;
    return {
      state: S.started ? status.state : "connecting",
      upstream: status.upstream,
      lastMessageAt: status.lastMessageAt,
      polling: polling,
      lastPollAt: feed.lastPollAt,
      pollError: feed.pollError
    };
  },

  onStatus: function (listener) { statusListeners.push(listener); },

  /* Up to when (gateway clock) the picture is known current; null before it ever was. */
  currentAt: function () {
    if (isCurrent()) currentAt = gatewayNow();
    return currentAt;
  },

  /* Since when (gateway clock) the feed is down, or null while it is current. */
  get outageSince() { return isCurrent() ? null : outageSince; }
};

/* The socket is live and the gateway reads Redis: what the screen shows is what the store holds. */
function isCurrent() {
  var status = live.status;
  return status.state === "live" && status.upstream !== "lost";
}

function gatewayUrl(gateway) {
  var scheme = location.protocol === "https:" ? "wss://" : "ws://";
  var host = location.hostname.indexOf(":") >= 0 ? "[" + location.hostname + "]" : location.hostname; // IPv6
  return scheme + host + ":" + Number(gateway.port) + gateway.path;
}

/* The live client's picture (collection -> Map) as the arrays model.replace takes. */
function pictureOf(picture) {
  var collections = {};
  Object.keys(picture).forEach(function (name) { collections[name] = Array.from(picture[name].values()); });
  return collections;
}

function watch() {
  var isLive = live.status.state === "live";
  if (isLive) notLiveSince = null;
  else if (notLiveSince === null) notLiveSince = Date.now();
  setPolling(!isLive && Date.now() - notLiveSince >= config.fallback_after_ms);
  feed.currentAt();
  if (isCurrent()) outageSince = null;
  else if (outageSince === null) outageSince = currentAt !== null ? currentAt : gatewayNow();
  showBanner();
  notify();
}

/* The feed-outage banner: one message for the whole screen, instead of a fault on every unit. */
function showBanner() {
  var since = feed.outageSince;
  var down = since !== null && gatewayNow() - since >= BANNER_AFTER_MS;
  if (!down) {
    if (banner !== null) banner.hidden = true;
    return;
  }
  if (banner === null) {
    banner = el("div", "feed-outage");
    banner.id = "feed-outage";
    banner.setAttribute("role", "alert");
    banner.appendChild(el("strong", "feed-outage-title"));
    banner.appendChild(el("span", "feed-outage-detail"));
    (document.querySelector(".map-area") || document.body).appendChild(banner); // over the map
  }
  var status = live.status;
  var gatewayUp = status.state === "live";
  banner.hidden = false;
  banner.dataset.cause = gatewayUp ? "upstream" : "gateway";
  banner.firstChild.textContent = "DISPATCH FEED DOWN since " + clock(since) + " (" +
    span(gatewayNow() - since) + ")";
  banner.lastChild.textContent = (gatewayUp ? "the gateway has lost Redis" : "the live gateway cannot be reached") +
    (polling && !feed.pollError ? " · picture refreshed from the server every " + Math.round(config.poll_ms / 1000) +
      " s" : " · picture frozen at " + clock(currentAt)) +
    " · drone links are judged on the last data received, not on this outage";
}

function setPolling(on) {
  if (on === polling) return;
  polling = on;
  setProps("poll_tick", { disabled: !on });
  if (on) feed.poll(); // at once, not one interval later
}

var lastReported = "";
function notify() {
  var state = feed.describe();
  var signature = [state.state, state.upstream, state.polling, state.pollError, state.lastPollAt].join("|");
  if (signature === lastReported) return;
  lastReported = signature;
  statusListeners.forEach(function (listener) { listener(state); });
}


/** The time a drone's link is judged at (issue 10): now while the feed is current, else the moment it
 * last was. A screen that stops hearing from the gateway cannot tell whether drones still report, so it
 * must not call them lost: the feed-outage banner says what is down. */
export function linkNow(now) {
  var at = feed.currentAt();
  return typeof at === "number" ? Math.min(now, at) : now;
}
