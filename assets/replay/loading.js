/*
 * Replay page: loading a window. The server answers Load at once (dispatch/ui/replay/page.py) and reads
 * the recordings in the background; the page polls the load's progress (config.poll_ms), then reads the
 * window's events and zones once, and shows its first instant. Cancel stops polling at once (the server
 * callback tells the cache).
 *
 * Issue 15: the server publishes what it has read so far (exact up to status.loaded_until_ms), the
 * window's start first. As soon as that is out the page fetches the summary (the events are complete in
 * it), draws the first instant and enables the transport, then keeps polling and moves the "loaded" bar
 * under the slider (transport.setLoaded); figures and exports wait for "ready".
 * performance marks: replay-opened, replay-first-frame (transport.js), replay-ready.
 */
import { clearEvents, highlightEvents, setEvents } from "./events.js";
import { clearMap, setMapWindow } from "./map.js";
import { api, byId, getJson, message, replay, setProps } from "./page.js";
import { loadedText, loadedUntil, loadingText, partialText, progressFraction, progressText } from "./progress.js";
import { forgetFrames, pause, setInstant, setLoaded, setSliderWindow, setTicks, setUpSlider } from "./transport.js";

let summaryAsked = -1; // the generation whose summary was asked for while it loads
let summaryShown = -1; // the generation whose events, zones and marks are on the page

/** The server's answer to Load ({ok, from_ms, to_ms, label, note, status} or {ok: false, message}). */
export function onOpened(answer) {
  if (!answer || !replay.started) return;
  if (!answer.ok) {
    message(answer.message, "refused");
    return;
  }
  pause();
  replay.generation += 1;
  forgetFrames();
  replay.state.window = { from_ms: answer.from_ms, to_ms: answer.to_ms, label: answer.label };
  replay.state.ready = false;
  replay.state.showing = false;
  Object.assign(replay.timing, { opened_at: performance.now(), first_frame_at: null, ready_at: null });
  performance.mark("replay-opened");
  setLoaded(null);
  byId("transport").classList.add("is-disabled");
  setProps("ready", { data: null }); // the figures and exports of the previous window go
  clearEvents();
  clearMap();
  message(loadingText(answer), "info");
  showProgress(answer.status);
  poll(replay.generation);
}

function poll(mine) {
  if (mine !== replay.generation) return;
  getJson(api("status")).then(function (reply) {
    if (mine !== replay.generation) return;
    let status = reply.body || {};
    if (reply.status !== 200) status = { state: "failed", error: status.error || "the server lost this window" };
    showProgress(status);
    if (status.state === "queued" || status.state === "loading") {
      const until = loadedUntil(status, replay.state.window);
      if (until !== null && replay.state.showing) setLoaded(until);
      else if (until !== null && summaryAsked !== mine) showPartial(mine, status);
      setTimeout(function () { poll(mine); }, replay.config.poll_ms);
    } else if (status.state === "ready") {
      onReady(mine, status);
    } else {
      replay.state.showing = false; // the server keeps no part of a load that failed or was cancelled
      byId("transport").classList.add("is-disabled");
      hideProgress();
      message(status.state === "cancelled" ? "Loading cancelled" : status.error || "Loading failed", "refused");
    }
  }).catch(function (error) {
    if (mine !== replay.generation) return;
    message("Cannot reach the server (" + error.message + "); trying again", "refused");
    setTimeout(function () { poll(mine); }, 1000);
  });
}

function showProgress(status) {
  if (!status) return;
  const box = byId("progress");
  box.classList.remove("hidden");
  const fraction = progressFraction(status);
  byId("progress_bar").style.width = (fraction * 100).toFixed(1) + "%";
  box.setAttribute("aria-valuenow", String(Math.round(fraction * 100)));
  box.dataset.state = status.state || "";
  box.dataset.read = String(status.entries_read || 0);
  byId("progress_text").textContent = progressText(status);
}

function hideProgress() { byId("progress").classList.add("hidden"); }

/** The Cancel button: only while a window is loading. */
export function cancelLoad() {
  if (!replay.state.window || replay.state.ready) return;
  replay.generation += 1; // stop polling at once
  pause();
  replay.state.showing = false; // what was shown of it goes with the load
  byId("transport").classList.add("is-disabled");
  hideProgress();
  message("Loading cancelled", "refused");
}

/* The window's start is loaded: its first instant asked for at once (the slider spans the window Load
 * answered), its events, zones and marks as soon as the summary is in (both requests run together), the
 * rest of the window as it comes. */
function showPartial(mine, status) {
  summaryAsked = mine;
  replay.state.showing = true;
  setSliderWindow(replay.state.window);
  setLoaded(loadedUntil(status, replay.state.window));
  byId("transport").classList.remove("is-disabled");
  setInstant(replay.state.window.from_ms, "load");
  getJson(api("window")).then(function (reply) {
    if (mine !== replay.generation || summaryShown === mine) return; // a newer window, or ready meanwhile
    if (reply.status !== 200) return; // onReady asks again
    showSummary(mine, reply.body);
    message(partialText(replay.state.window.label, reply.body), reply.body.warning ? "refused" : "info");
  });
}

function showSummary(mine, summary) {
  summaryShown = mine;
  setEvents(summary.events);
  setMapWindow(summary.zones);
  setTicks(summary);
  highlightEvents(replay.state.t);
}

function showWindow(mine, summary) {
  replay.state.showing = true;
  summaryShown = mine;
  setEvents(summary.events);
  setMapWindow(summary.zones);
  setUpSlider(summary);
  setLoaded(summary.to_ms);
  byId("transport").classList.remove("is-disabled");
  setInstant(summary.from_ms, "load");
}

function onReady(mine, status) {
  getJson(api("window")).then(function (reply) {
    if (mine !== replay.generation) return;
    if (reply.status !== 200) {
      hideProgress();
      message((reply.body && reply.body.error) || "The window could not be read", "refused");
      return;
    }
    const summary = reply.body;
    hideProgress();
    replay.state.ready = true;
    replay.timing.ready_at = performance.now();
    performance.mark("replay-ready");
    if (!replay.state.showing) showWindow(mine, summary);
    else { // drawn while it loaded: the instant shown stays
      if (summaryShown !== mine) showSummary(mine, summary);
      setLoaded(summary.to_ms);
    }
    message(loadedText(replay.state.window.label, summary, status.elapsed_s), summary.warning ? "refused" : "ok");
    setProps("ready", { data: { from_ms: summary.from_ms, to_ms: summary.to_ms } });
  });
}
