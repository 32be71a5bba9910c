/*
 * Patrol tablet: the new-assignment alert (see tablet_core.js for the file map).
 *
 * While the patrol's assignment waits to be acknowledged, a full-width banner flashes and the tablet
 * beeps every config.beep_every_ms (and vibrates where it can), until the officer taps Acknowledge
 * (or En route, which acknowledges by driving). Browsers only let a page make sound after a user
 * gesture: the "Tap to enable sound" button in the header (shown from sign-in on), or any first tap
 * on the page, unlocks it. Until then the banner still flashes and the button says sound is off.
 *
 * Test hooks: T.alert.active, T.alert.soundOn, T.alert.beeps (beeps played), T.alert.rings (beeps due).
 */
(function () {
  "use strict";

  var T = (window.dispatchTablet = window.dispatchTablet || {});
  var context = null;
  var timer = null;

  var A = {
    active: false,
    soundOn: false,
    beeps: 0,
    rings: 0,
    init: function (config) {
      A.everyMs = config.beep_every_ms;
      T.byId("sound").addEventListener("click", function () { unlock(true); });
      document.addEventListener("pointerdown", function () { unlock(false); }, { capture: true, once: true });
      render();
    },
    set: function (active) {
      if (active === A.active) return;
      A.active = active;
      if (active) {
        ring();
        timer = setInterval(ring, A.everyMs);
      } else if (timer !== null) {
        clearInterval(timer);
        timer = null;
      }
      render();
    },
    unlock: unlock
  };
  T.alert = A;

  function unlock(confirm) {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    if (context === null) {
      try { context = new Context(); } catch (error) { return; }
    }
    var resumed = context.state === "running" ? Promise.resolve() : context.resume();
    resumed.then(function () {
      A.soundOn = context.state === "running";
      if (A.soundOn && confirm) tone(660, 0, 0.12); // the officer hears that it works
      render();
    }, function () { render(); });
  }

  function tone(frequency, at, seconds) {
    var start = context.currentTime + at;
    var oscillator = context.createOscillator();
    var gain = context.createGain();
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
    A.rings += 1;
    if (navigator.vibrate) {
      try { navigator.vibrate([300, 120, 300]); } catch (error) { /* not allowed before a tap */ }
    }
    if (context === null || context.state !== "running") return;
    tone(880, 0, 0.22); // two high tones: heard over an engine and a radio
    tone(1175, 0.28, 0.3);
    A.beeps += 1;
  }

  function render() {
    if (!T.started) return;
    var banner = T.byId("alert");
    banner.hidden = !A.active;
    T.byId("root").classList.toggle("is-alerting", A.active);
    var button = T.byId("sound");
    button.setAttribute("aria-pressed", String(A.soundOn));
    button.textContent = A.soundOn ? "Sound on" : "Tap to enable sound";
    button.classList.toggle("is-on", A.soundOn);
  }
})();
