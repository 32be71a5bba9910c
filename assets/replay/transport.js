/*
 * Replay page: the instant and the transport: play/pause, speed, previous/next event, the slider with
 * one mark per event, the keyboard (Space, arrows, [ and ]). Each instant shown asks for its frame
 * (frames.js: one request in flight, the newest instant wins).
 */
import { el } from "../common/dom.js";
import { eventFrom, highlightEvents } from "./events.js";
import { frameRequester } from "./frames.js";
import { drawFrame } from "./map.js";
import { api, byId, clock, day, getJson, message, replay } from "./page.js";
import { advance, clampInstant, keyAction, speedIndexWithin, tickX } from "./playback.js";

const PLAY_TICK_MS = 50;
const TICK_COLOURS = { sighting: "#ff5a1f", assignment: "#4aa8ff", alert: "#ffb020" };

let playTimer = null;
let lastTick = 0;
let slider = null;
let ticks = null;

const frames = frameRequester({
  fetchFrame: function (t) { return getJson(api("frame", { t: t })); },
  onFrame: function (body, requestedAt) {
    drawFrame(body);
    replay.frames.drawn += 1;
    replay.frames.last = { t: body.t, requested_at: requestedAt, drawn_at: performance.now(), server_ms: body.server_ms };
  },
  onRefused: function (reply) {
    pause();
    message((reply.body && reply.body.error) || "Frame not available", "refused");
  }
});

/** Shows instant t (clamped to the window): the big clock, the slider, the event list, the map. */
export function setInstant(t, source) {
  if (!replay.state.ready) return;
  const instant = clampInstant(t, replay.state.window);
  if (instant === null) return;
  replay.state.t = instant;
  byId("instant").textContent = clock(instant);
  byId("instant").dataset.t = String(instant);
  byId("instant_date").textContent = day(instant);
  if (source !== "slider") slider.value = String(instant);
  highlightEvents(instant);
  frames.request(instant);
}

/** A new window is on its way: frames still out for the previous one are dropped. */
export function forgetFrames() {
  frames.reset();
}

export function play() {
  if (!replay.state.ready || replay.state.playing) return;
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
  if (replay.config) showPlaying();
}

function tick() {
  const now = performance.now();
  const next = advance(replay.state.t, now - lastTick, replay.config.speeds[replay.state.speedIndex],
    replay.state.window.to_ms);
  lastTick = now;
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
  if (!replay.state.ready) return;
  const target = eventFrom(replay.state.t, direction);
  if (target !== null) {
    pause();
    setInstant(target, "step");
  }
}

/** The slider spans the loaded window, one mark per event under it. */
export function setUpSlider(summary) {
  slider.min = String(summary.from_ms);
  slider.max = String(summary.to_ms);
  slider.step = "1000";
  slider.value = String(summary.from_ms);
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
  if (!replay.state.ready) return;
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
  byId("slider_box").replaceChildren(slider, ticks);
  document.addEventListener("keydown", onKey);
}
