/*
 * After-action replay page (dispatch/ui/replay/layout.py), browser side. Three files, one namespace,
 * window.dispatchReplay ("R" below):
 *
 *   replay_core.js    this file: start-up, loading a window (progress polled every 250 ms), the
 *                     transport (instant, play/pause, speed, slider, keyboard) and frame fetching
 *   replay_events.js  the event list beside the map, kept in step with the instant
 *   replay_map.js     the frame drawn into raw Leaflet layers: drones and trails, patrols,
 *                     sightings, assignment lines, alert rings, zones
 *
 * Frames come from the server (GET /replay/api/frame?t=), at most one request in flight: while
 * one is out, later instants only overwrite `wanted`, and when it returns the newest wanted
 * instant is fetched. Playing at 60x, the map shows as many instants as the round trip allows
 * and never queues stale ones.
 *
 * Dash serves every asset on every page; nothing here runs until the page's clientside start-up
 * callback calls dash_clientside.dispatchReplay.start(config). Text from the network only ever
 * reaches the page through textContent (R.el), never innerHTML.
 */
(function () {
  "use strict";

  var R = (window.dispatchReplay = window.dispatchReplay || {});
  var PLAY_TICK_MS = 50;
  var STREAM_WORDS = { deadletter: "rejected entries", telemetry: "drone positions", patrol: "patrol reports",
                       sighting: "sightings", assignments: "assignments", alerts: "alerts", done: "indexing" };

  R.config = null;
  R.started = false;
  R.state = { window: null, ready: false, t: null, playing: false, speedIndex: 0 };
  // Test and benchmark hooks: frames drawn, and the last one ({t, requested_at, drawn_at}).
  R.frames = { drawn: 0, last: null };

  var generation = 0; // bumped whenever the window changes: late answers about an older one are dropped
  var frameInFlight = false;
  var wantedT = null;
  var playTimer = null;
  var lastTick = 0;
  var slider = null;
  var ticks = null;

  // ---- helpers -----------------------------------------------------------------------------------
  R.el = function (tag, className, text) {
    var element = document.createElement(tag);
    if (className) element.className = className;
    if (text !== undefined && text !== null) element.textContent = String(text);
    return element;
  };
  R.byId = function (name) { return document.getElementById(R.config.ids[name]); };
  var formats = {};
  function format(name, options) {
    if (!formats[name]) {
      try {
        formats[name] = new Intl.DateTimeFormat("en-GB", Object.assign({ timeZone: R.config.timezone }, options));
      } catch (error) {
        formats[name] = new Intl.DateTimeFormat("en-GB", options);
      }
    }
    return formats[name];
  }
  R.clock = function (ms) {
    return typeof ms === "number" && isFinite(ms)
      ? format("clock", { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" }).format(new Date(ms))
      : "--:--:--";
  };
  R.day = function (ms) {
    return format("day", { weekday: "short", day: "numeric", month: "short", year: "numeric" }).format(new Date(ms));
  };
  function api(name, params) {
    var query = Object.keys(params).map(function (key) {
      return encodeURIComponent(key) + "=" + encodeURIComponent(params[key]);
    }).join("&");
    return R.config.api[name] + "?" + query;
  }
  function windowParams(extra) {
    return Object.assign({ from: R.state.window.from_ms, to: R.state.window.to_ms }, extra || {});
  }
  function getJson(url) {
    return fetch(url, { credentials: "same-origin", cache: "no-store" }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        return { status: response.status, body: body };
      });
    });
  }
  R.api = function (name, extra) { return api(name, windowParams(extra)); };
  R.getJson = getJson;
  R.generation = function () { return generation; };
  R.message = function (text, kind) {
    var box = R.byId("message");
    box.textContent = text || "";
    box.className = "rp-message" + (kind ? " is-" + kind : "");
    box.dataset.kind = kind || "";
  };
  function setProps(idName, props) { window.dash_clientside.set_props(R.config.ids[idName], props); }

  // ---- loading a window --------------------------------------------------------------------------
  function onOpened(answer) {
    if (!answer || !R.started) return;
    if (!answer.ok) {
      R.message(answer.message, "refused");
      return;
    }
    pause();
    generation += 1;
    R.state.window = { from_ms: answer.from_ms, to_ms: answer.to_ms, label: answer.label };
    R.state.ready = false;
    R.byId("transport").classList.add("is-disabled");
    setProps("ready", { data: null }); // the figures and exports of the previous window go
    if (R.events) R.events.clear();
    if (R.map) R.map.clear();
    R.message("Loading " + answer.label + (answer.note ? " (" + answer.note + ")" : "") + "…", "info");
    showProgress(answer.status);
    poll(generation);
  }

  function poll(mine) {
    if (mine !== generation) return;
    getJson(api("status", windowParams())).then(function (reply) {
      if (mine !== generation) return;
      var status = reply.body || {};
      if (reply.status !== 200) status = { state: "failed", error: status.error || "the server lost this window" };
      showProgress(status);
      if (status.state === "queued" || status.state === "loading") {
        setTimeout(function () { poll(mine); }, R.config.poll_ms);
      } else if (status.state === "ready") {
        onReady(mine, status);
      } else {
        hideProgress();
        R.message(status.state === "cancelled" ? "Loading cancelled" : status.error || "Loading failed", "refused");
      }
    }).catch(function (error) {
      if (mine !== generation) return;
      R.message("Cannot reach the server (" + error.message + "); trying again", "refused");
      setTimeout(function () { poll(mine); }, 1000);
    });
  }

  function showProgress(status) {
    if (!status) return;
    var box = R.byId("progress");
    box.classList.remove("hidden");
    var fraction = Math.max(0, Math.min(1, Number(status.fraction) || 0));
    R.byId("progress_bar").style.width = (fraction * 100).toFixed(1) + "%";
    box.setAttribute("aria-valuenow", String(Math.round(fraction * 100)));
    box.dataset.state = status.state || "";
    box.dataset.read = String(status.entries_read || 0);
    var text;
    if (status.state === "queued") text = "Queued: other windows are loading, this one starts next…";
    else if (status.state === "ready") text = "Loaded";
    else {
      text = "Reading " + (STREAM_WORDS[status.stream] || "recordings") + ": " +
        Number(status.entries_read || 0).toLocaleString("en-GB") + " of ~" +
        Number(status.entries_estimated || 0).toLocaleString("en-GB") + " entries (" + Math.round(fraction * 100) +
        " %) · " + Number(status.elapsed_s || 0).toFixed(1) + " s";
    }
    R.byId("progress_text").textContent = text;
  }

  function hideProgress() { R.byId("progress").classList.add("hidden"); }

  function cancelLoad() {
    if (!R.state.window || R.state.ready) return;
    generation += 1; // stop polling at once; the server callback tells the cache
    hideProgress();
    R.message("Loading cancelled", "refused");
  }

  function onReady(mine, status) {
    getJson(api("window", windowParams())).then(function (reply) {
      if (mine !== generation) return;
      if (reply.status !== 200) {
        hideProgress();
        R.message((reply.body && reply.body.error) || "The window could not be read", "refused");
        return;
      }
      var summary = reply.body;
      hideProgress();
      R.state.ready = true;
      R.events.set(summary.events);
      R.map.setWindow(summary.zones);
      setUpSlider(summary);
      R.byId("transport").classList.remove("is-disabled");
      var counts = summary.counts;
      R.message(R.state.window.label + " · " + counts.drones + " drones, " + counts.patrols + " patrols, " +
                counts.sightings + " sightings, " + counts.events + " events · loaded in " +
                Number(status.elapsed_s || 0).toFixed(1) + " s" + (summary.warning ? " · " + summary.warning : ""),
                summary.warning ? "refused" : "ok");
      setProps("ready", { data: { from_ms: summary.from_ms, to_ms: summary.to_ms } });
      setInstant(summary.from_ms, "load");
    });
  }

  // ---- the instant ---------------------------------------------------------------------------------
  function setInstant(t, source) {
    if (!R.state.ready) return;
    var w = R.state.window;
    t = Math.round(Math.max(w.from_ms, Math.min(w.to_ms, Number(t))));
    if (!isFinite(t)) return;
    R.state.t = t;
    R.byId("instant").textContent = R.clock(t);
    R.byId("instant").dataset.t = String(t);
    R.byId("instant_date").textContent = R.day(t);
    if (source !== "slider") slider.value = String(t);
    R.events.highlight(t);
    requestFrame(t);
  }
  R.setInstant = setInstant;

  function requestFrame(t) {
    wantedT = t;
    if (!frameInFlight) fetchFrame(t, generation);
  }

  function fetchFrame(t, mine) {
    frameInFlight = true;
    var requestedAt = performance.now();
    getJson(api("frame", windowParams({ t: t }))).then(function (reply) {
      frameInFlight = false;
      if (mine !== generation) return;
      if (reply.status !== 200) {
        pause();
        R.message((reply.body && reply.body.error) || "Frame not available", "refused");
        return;
      }
      R.map.draw(reply.body);
      R.frames.drawn += 1;
      R.frames.last = { t: reply.body.t, requested_at: requestedAt, drawn_at: performance.now(),
                        server_ms: reply.body.server_ms };
      if (wantedT !== t) fetchFrame(wantedT, mine); // only the newest instant wanted meanwhile
    }).catch(function () {
      frameInFlight = false;
      if (mine === generation && wantedT !== null) setTimeout(function () { requestFrame(wantedT); }, 500);
    });
  }

  // ---- transport ---------------------------------------------------------------------------------
  function play() {
    if (!R.state.ready || R.state.playing) return;
    if (R.state.t >= R.state.window.to_ms) setInstant(R.state.window.from_ms, "play");
    R.state.playing = true;
    lastTick = performance.now();
    playTimer = setInterval(tick, PLAY_TICK_MS);
    showPlaying();
  }

  function pause() {
    if (playTimer !== null) clearInterval(playTimer);
    playTimer = null;
    R.state.playing = false;
    if (R.config) showPlaying();
  }

  function tick() {
    var now = performance.now();
    var t = R.state.t + (now - lastTick) * R.config.speeds[R.state.speedIndex];
    lastTick = now;
    if (t >= R.state.window.to_ms) {
      setInstant(R.state.window.to_ms, "play");
      pause();
      return;
    }
    setInstant(t, "play");
  }

  function showPlaying() {
    var button = R.byId("play");
    button.textContent = R.state.playing ? "❚❚" : "▶";
    button.setAttribute("aria-pressed", R.state.playing ? "true" : "false");
    R.byId("transport").classList.toggle("is-playing", R.state.playing);
  }

  function setSpeed(index) {
    R.state.speedIndex = Math.max(0, Math.min(R.config.speeds.length - 1, index));
    R.byId("speeds_box").querySelectorAll("[data-speed]").forEach(function (button) {
      var on = Number(button.dataset.speed) === R.config.speeds[R.state.speedIndex];
      button.classList.toggle("is-on", on);
      button.setAttribute("aria-pressed", on ? "true" : "false");
    });
  }

  function step(direction) {
    if (!R.state.ready) return;
    var target = direction > 0 ? R.events.nextAfter(R.state.t) : R.events.prevBefore(R.state.t);
    if (target !== null) {
      pause();
      setInstant(target, "step");
    }
  }

  function setUpSlider(summary) {
    slider.min = String(summary.from_ms);
    slider.max = String(summary.to_ms);
    slider.step = "1000";
    slider.value = String(summary.from_ms);
    drawTicks(summary);
  }

  /* One mark per event under the slider: where the shift was busy, at a glance. */
  function drawTicks(summary) {
    var width = ticks.clientWidth || 600;
    ticks.width = width;
    ticks.height = 10;
    var context = ticks.getContext("2d");
    context.clearRect(0, 0, width, 10);
    var span = Math.max(1, summary.to_ms - summary.from_ms);
    var colours = { sighting: "#ff5a1f", assignment: "#4aa8ff", alert: "#ffb020" };
    summary.events.ts.forEach(function (ts, i) {
      context.fillStyle = colours[summary.events.kind[i]] || "#9fb0c0";
      context.fillRect(Math.round((ts - summary.from_ms) / span * (width - 1)), 0, 1, 10);
    });
  }

  function onKey(event) {
    if (!R.state.ready || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    var typing = target && (target.tagName === "TEXTAREA" || target.isContentEditable ||
                            (target.tagName === "INPUT" && target.type !== "range" && target.type !== "radio"));
    // A focused button answers Space and Enter itself (its click): handling the key too would act twice.
    var pressing = target && target.tagName === "BUTTON" && (event.key === " " || event.key === "Enter");
    if (typing || pressing) return;
    var handled = true;
    if (event.key === " " || event.key === "Spacebar") {
      if (R.state.playing) pause(); else play();
    } else if (event.key === "ArrowRight") step(1);
    else if (event.key === "ArrowLeft") step(-1);
    else if (event.key === "]") setSpeed(R.state.speedIndex + 1);
    else if (event.key === "[") setSpeed(R.state.speedIndex - 1);
    else handled = false;
    if (handled) event.preventDefault();
  }

  function bindTransport() {
    R.byId("play").addEventListener("click", function () { if (R.state.playing) pause(); else play(); });
    R.byId("prev").addEventListener("click", function () { step(-1); });
    R.byId("next").addEventListener("click", function () { step(1); });
    R.byId("cancel").addEventListener("click", cancelLoad);
    R.byId("speeds_box").addEventListener("click", function (event) {
      var button = event.target.closest("[data-speed]");
      if (button) setSpeed(R.config.speeds.indexOf(Number(button.dataset.speed)));
    });
    slider = R.el("input", "rp-range");
    slider.type = "range";
    slider.min = "0";
    slider.max = "0";
    slider.setAttribute("aria-label", "instant in the window");
    slider.addEventListener("input", function () { setInstant(Number(slider.value), "slider"); });
    ticks = R.el("canvas", "rp-ticks");
    R.byId("slider_box").replaceChildren(slider, ticks);
    document.addEventListener("keydown", onKey);
  }

  // ---- start-up ----------------------------------------------------------------------------------
  function start(config) {
    if (R.started || !config) return window.dash_clientside.no_update;
    R.config = config;
    R.started = true;
    bindTransport();
    R.events.init(config);
    R.map.init(config);
    setSpeed(0);
    return { started_ms: Date.now() };
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside);
  window.dash_clientside.dispatchReplay = {
    start: start,
    onOpened: function (answer) {
      onOpened(answer);
      return window.dash_clientside.no_update;
    },
    onJump: function (answer) {
      if (answer && answer.ok) {
        pause();
        setInstant(answer.t, "jump");
      } else if (answer) {
        R.message(answer.message, "refused");
      }
      return window.dash_clientside.no_update;
    }
  };
  R.play = play;
  R.pause = pause;
  R.step = step;
  R.setSpeed = setSpeed;
})();
