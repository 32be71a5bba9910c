/*
 * Patrol tablet: the new-assignment alert.
 *
 * While the patrol's assignment waits to be acknowledged, a full-width banner flashes and the tablet
 * beeps every config.beep_every_ms (and vibrates where it can), until the officer taps Acknowledge
 * (or En route, which acknowledges by driving). Browsers only let a page make sound after a user
 * gesture: the "Tap to enable sound" button in the header (shown from sign-in on), or any first tap
 * on the page, unlocks it. Until then the banner still flashes and the button says sound is off.
 *
 * Test hooks: alert.active, alert.soundOn, alert.beeps (beeps played), alert.rings (beeps due).
 */
import { page } from "./page.js";

let context = null;
let timer = null;

export const alert = {
  active: false,
  soundOn: false,
  beeps: 0,
  rings: 0,
  init: function (config) {
    alert.everyMs = config.beep_every_ms;
    page.byId("sound").addEventListener("click", function () { unlock(true); });
    document.addEventListener("pointerdown", function () { unlock(false); }, { capture: true, once: true });
    render();
  },
  set: function (active) {
    if (active === alert.active) return;
    alert.active = active;
    if (active) {
      ring();
      timer = setInterval(ring, alert.everyMs);
    } else if (timer !== null) {
      clearInterval(timer);
      timer = null;
    }
    render();
  },
  unlock: unlock
};

function unlock(confirm) {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return;
  if (context === null) {
    try { context = new Context(); } catch (error) { return; }
  }
  const resumed = context.state === "running" ? Promise.resolve() : context.resume();
  resumed.then(function () {
    alert.soundOn = context.state === "running";
    if (alert.soundOn && confirm) tone(660, 0, 0.12); // the officer hears that it works
    render();
  }, function () { render(); });
}

function tone(frequency, at, seconds) {
  const start = context.currentTime + at;
  const oscillator = context.createOscillator();
  const gain = context.createGain();
  oscillator.type = "square";
  oscillator.frequency.value = frequency;
  gain.gain.setValueAtTime(0.0001, start);
  gain.gain.exponentialRampToValueAtTime(0.5, start + 0.02);
  gain.gain.exponentialRampToValueAtTime(0.0001, start + seconds);
  oscillator.connect(gain).connect(context.destination);
  oscillator.start(start);
  oscillator.stop(start + seconds + 0.05);
}

function ring() {
  alert.rings += 1;
  if (navigator.vibrate) {
    try { navigator.vibrate([300, 120, 300]); } catch (error) { /* not allowed before a tap */ }
  }
  if (context === null || context.state !== "running") return;
  tone(880, 0, 0.22); // two high tones: heard over an engine and a radio
  tone(1175, 0.28, 0.3);
  alert.beeps += 1;
}

function render() {
  if (!page.started) return;
  const banner = page.byId("alert");
  banner.hidden = !alert.active;
  page.byId("root").classList.toggle("is-alerting", alert.active);
  const button = page.byId("sound");
  button.setAttribute("aria-pressed", String(alert.soundOn));
  button.textContent = alert.soundOn ? "Sound on" : "Tap to enable sound";
  button.classList.toggle("is-on", alert.soundOn);
}
