/*
 * Replay page: loading a window. The server answers Load at once (dispatch/ui/replay/page.py) and reads
 * the recordings in the background; the page polls the load's progress (config.poll_ms), then reads the
 * window's events and zones once, and shows its first instant. Cancel stops polling at once (the server
 * callback tells the cache).
 */
import { clearEvents, setEvents } from "./events.js";
import { clearMap, setMapWindow } from "./map.js";
import { api, byId, getJson, message, replay, setProps } from "./page.js";
import { loadedText, loadingText, progressFraction, progressText } from "./progress.js";
import { forgetFrames, pause, setInstant, setUpSlider } from "./transport.js";

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
      setTimeout(function () { poll(mine); }, replay.config.poll_ms);
    } else if (status.state === "ready") {
      onReady(mine, status);
    } else {
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
  hideProgress();
  message("Loading cancelled", "refused");
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
    setEvents(summary.events);
    setMapWindow(summary.zones);
    setUpSlider(summary);
    byId("transport").classList.remove("is-disabled");
    message(loadedText(replay.state.window.label, summary, status.elapsed_s), summary.warning ? "refused" : "ok");
    setProps("ready", { data: { from_ms: summary.from_ms, to_ms: summary.to_ms } });
    setInstant(summary.from_ms, "load");
  });
}
