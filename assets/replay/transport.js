/*
 * Replay page: the instant and the transport: play/pause, speed, previous/next event, the slider with
 * one mark per event, the keyboard (Space, arrows, [ and ]). Each instant shown asks for its frame
 * (frames.js: one request in flight, the newest instant wins).
 *
 * While a window loads (issue 15) only the part loaded so far can be shown: a bar under the slider shows
 * how far, as a video player's buffer; an instant beyond it waits ("loading up to 14:32:05…") and is
 * drawn once loaded, and playing holds at the edge of the loaded part until more is.
 */
import { append, el } from "../common/dom.js";
import { eventFrom, highlightEvents } from "./events.js";
import { frameRequester } from "./frames.js";
import { drawFrame } from "./map.js";
import { api, byId, clock, day, getJson, message, replay } from "./page.js";
import { advance, clampInstant, keyAction, speedIndexWithin, tickX } from "./playback.js";
import { beyondLoaded, bufferedFraction, bufferedText, waitingText } from "./progress.js";

const PLAY_TICK_MS = 50;
const TICK_COLOURS = { sighting: "#ff5a1f", assignment: "#4aa8ff", alert: "#ffb020" };

let playTimer = null;
let lastTick = 0;
let slider = null;
let ticks = null;
let buffered = null; // {box, bar, words, waiting}: how far the window is loaded, and the instant waiting

const frames = frameRequester({
  fetchFrame: function (t) { return getJson(api("frame", { t: t })); },
  onFrame: function (body, requestedAt) {
    drawFrame(body);
    replay.frames.drawn += 1;
    if (replay.timing.first_frame_at === null) {
      replay.timing.first_frame_at = performance.now();
      performance.mark("replay-first-frame");
    }
    replay.frames.last = { t: body.t, requested_at: requestedAt, drawn_at: performance.now(), server_ms: body.server_ms };
  },
  onRefused: function (reply) {
    if (reply.status === 202) { // beyond what the server has loaded yet (it never guesses): drawn once it has
      wait(replay.state.t);
      return;
    }
    pause();
    message((reply.body && reply.body.error) || "Frame not available", "refused");
  }
});

/** Shows instant t (clamped to the window): the big clock, the slider, the event list, the map. */
export function setInstant(t, source) {
  if (!replay.state.showing) return;
  const instant = clampInstant(t, replay.state.window);
  if (instant === null) return;
  replay.state.t = instant;
  byId("instant").textContent = clock(instant);
  byId("instant").dataset.t = String(instant);
  byId("instant_date").textContent = day(instant);
  if (source !== "slider") slider.value = String(instant);
  highlightEvents(instant);
  if (beyondLoaded(instant, replay.state.loadedUntil)) {
    wait(instant);
    return;
  }
  showWaiting(null);
  frames.request(instant);
}

/* Instant t is beyond the loaded part: said under the slider, and asked for once setLoaded reaches it. */
function wait(t) {
  replay.state.waiting = t;
  showWaiting(t);
}

function showWaiting(t) {
  if (t === null) replay.state.waiting = null;
  buffered.waiting.textContent = t === null ? "" : waitingText(clock, t);
  buffered.box.dataset.waiting = t === null ? "" : String(t);
}

/**
 * How far the window is loaded (ms; null: not even its start): the bar under the slider, and the instant
 * waiting for it, if any, drawn now that it is loaded.
 */
export function setLoaded(until) {
  replay.state.loadedUntil = until;
  const window = replay.state.window;
  const fraction = bufferedFraction(until, window);
  buffered.bar.style.width = (fraction * 100).toFixed(2) + "%";
  buffered.words.textContent = bufferedText(until, window, clock);
  buffered.box.dataset.until = until === null ? "" : String(until);
  buffered.box.classList.toggle("is-complete", until !== null && window !== null && until >= window.to_ms);
  const waiting = replay.state.waiting;
  if (waiting !== null && !beyondLoaded(waiting, until)) {
    showWaiting(null);
    if (replay.state.t === waiting) frames.request(waiting);
  }
}

/** A new window is on its way: frames still out for the previous one are dropped. */
export function forgetFrames() {
  frames.reset();
}

export function play() {
  if (!replay.state.showing || replay.state.playing) return;
  if (replay.state.t >= replay.state.window.to_ms) setInstant(replay.state.window.from_ms, "play");
  replay.state.playing = true;
  lastTick = performance.now();
  playTimer = setInterval(tick, PLAY_TICK_MS);
  showPlaying();
}

export function pause() {
  if (playTimer !== null) clearInterval(playTimer);
  playTimer = null;
  replay.state.playing = false;
  if (buffered !== null && replay.state.waiting === null) showWaiting(null); // no longer held at the loaded edge
  if (replay.config) showPlaying();
}

function tick() {
  const now = performance.now();
  const next = advance(replay.state.t, now - lastTick, replay.config.speeds[replay.state.speedIndex],
    replay.state.window.to_ms);
  lastTick = now;
  const until = replay.state.loadedUntil;
  if (until !== null && next.t > until && until < replay.state.window.to_ms) { // hold at the loaded edge
    if (replay.state.t < until) setInstant(until, "play");
    showWaiting(next.t);
    return;
  }
  setInstant(next.t, "play");
  if (next.ended) pause();
}

function showPlaying() {
  const button = byId("play");
  button.textContent = replay.state.playing ? "❚❚" : "▶";
  button.setAttribute("aria-pressed", replay.state.playing ? "true" : "false");
  byId("transport").classList.toggle("is-playing", replay.state.playing);
}

export function setSpeed(index) {
  const speeds = replay.config.speeds;
  replay.state.speedIndex = speedIndexWithin(index, speeds);
  byId("speeds_box").querySelectorAll("[data-speed]").forEach(function (button) {
    const on = Number(button.dataset.speed) === speeds[replay.state.speedIndex];
    button.classList.toggle("is-on", on);
    button.setAttribute("aria-pressed", on ? "true" : "false");
  });
}

/** To the next (direction > 0) or previous event, paused there. */
export function step(direction) {
  if (!replay.state.showing) return;
  const target = eventFrom(replay.state.t, direction);
  if (target !== null) {
    pause();
    setInstant(target, "step");
  }
}

/** The slider spans the loaded window, one mark per event under it. */
export function setUpSlider(summary) {
  setSliderWindow(summary);
  drawTicks(summary);
}

/** The slider spans the window (known from Load's answer: the first frame need not wait for the summary). */
export function setSliderWindow(window) {
  slider.min = String(window.from_ms);
  slider.max = String(window.to_ms);
  slider.step = "1000";
  slider.value = String(window.from_ms);
}

/** The marks of the window's events under the slider, once its summary is in. */
export function setTicks(summary) {
  drawTicks(summary);
}

/* One mark per event under the slider: where the shift was busy, at a glance. */
function drawTicks(summary) {
  const width = ticks.clientWidth || 600;
  ticks.width = width;
  ticks.height = 10;
  const context = ticks.getContext("2d");
  context.clearRect(0, 0, width, 10);
  summary.events.ts.forEach(function (ts, i) {
    context.fillStyle = TICK_COLOURS[summary.events.kind[i]] || "#9fb0c0";
    context.fillRect(tickX(ts, summary.from_ms, summary.to_ms, width), 0, 1, 10);
  });
}

function onKey(event) {
  if (!replay.state.showing) return;
  const action = keyAction(event, event.target);
  if (action === null) return;
  if (action === "toggle") {
    if (replay.state.playing) pause(); else play();
  } else if (action === "next") step(1);
  else if (action === "previous") step(-1);
  else if (action === "faster") setSpeed(replay.state.speedIndex + 1);
  else if (action === "slower") setSpeed(replay.state.speedIndex - 1);
  event.preventDefault();
}

/** Binds the transport's buttons, builds the slider; cancelLoad is the Cancel button's. */
export function bindTransport(cancelLoad) {
  byId("play").addEventListener("click", function () { if (replay.state.playing) pause(); else play(); });
  byId("prev").addEventListener("click", function () { step(-1); });
  byId("next").addEventListener("click", function () { step(1); });
  byId("cancel").addEventListener("click", cancelLoad);
  byId("speeds_box").addEventListener("click", function (event) {
    const button = event.target.closest("[data-speed]");
    if (button) setSpeed(replay.config.speeds.indexOf(Number(button.dataset.speed)));
  });
  slider = el("input", "rp-range");
  slider.type = "range";
  slider.min = "0";
  slider.max = "0";
  slider.setAttribute("aria-label", "instant in the window");
  slider.addEventListener("input", function () { setInstant(Number(slider.value), "slider"); });
  ticks = el("canvas", "rp-ticks");
  buffered = { box: el("div", "rp-buffered"), bar: el("div", "rp-buffered-bar"),
    words: el("span", "rp-buffered-text"), waiting: el("span", "rp-waiting") };
  buffered.box.setAttribute("aria-live", "polite");
  const track = append(el("div", "rp-buffered-track"), buffered.bar);
  append(buffered.box, track, buffered.words, buffered.waiting);
  byId("slider_box").replaceChildren(slider, ticks, buffered.box);
  document.addEventListener("keydown", onKey);
}
