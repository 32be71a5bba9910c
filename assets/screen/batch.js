/* Work done at most once per period (map.js: the canvases' redraws, issue 15). Pure but for the
 * timer and clock it is given (tests/js/screen/batch.test.js). */

/** A batch of `work`: request() runs it as soon as `everyMs` have passed since it last ran (at once if
 * they have), however many times it is requested meanwhile; now() runs it at once. `timers` is
 * {setTimeout, clearTimeout, now} (the page's by default). */
export function batched(everyMs, work, timers) {
  var clock = timers || { setTimeout: setTimeout.bind(globalThis), clearTimeout: clearTimeout.bind(globalThis),
                          now: Date.now };
  var last = -Infinity;
  var timer = null;
  function run() {
    timer = null;
    last = clock.now();
    work();
  }
  return {
    request: function () {
      if (timer === null) timer = clock.setTimeout(run, Math.max(0, last + everyMs - clock.now()));
    },
    now: function () {
      if (timer !== null) clock.clearTimeout(timer);
      run();
    },
    get pending() { return timer !== null; }
  };
}
