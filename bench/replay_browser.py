"""Replay in the browser (issue 15): Load -> first frame drawn, and Load -> whole window loaded, for an 8-h shift.

    .venv/bin/python bench/replay_browser.py [--runs 5] [--workers 2] [--before-root DIR] [shift options of bench/replay.py]

Writes bench/replay.py's shift (1.73 M positions by default) into a private
redis-server, ending now, starts the real web app under gunicorn (`--workers`
processes sharing the replay cache, as in production) and a real headless
Chromium signed in as a supervisor, and clicks "This shift (last 8 h)" then
Load, `--runs` times (the window ends at the click's second, so each run is a
new load). Measured in the page (performance.now(), the same clock): from the
click to the first frame drawn on the map (dispatchReplay.frames.drawn turning
positive, seen by a requestAnimationFrame watcher installed before the click), and
from the click to the whole window loaded (dispatchReplay.state.ready). Medians.

`--before-root DIR` also serves the app from another checkout (e.g. `git archive` of the commit before
issue 15's progressive load, unpacked in DIR), on its own port and cache, against the same Redis, and
alternates the runs between the two (the machine is noisy: interleaving keeps the comparison fair). The
same page-side watcher measures both.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bench.replay as shift_bench  # noqa: E402
from bench.common import web_stack_settings  # noqa: E402
from dispatch.clock import now_ms  # noqa: E402
from dispatch.keys import Keys  # noqa: E402
from dispatch.store.connection import connect  # noqa: E402
from dispatch.store.embedded import EmbeddedRedis, free_port  # noqa: E402
from tests.browser.chromium import WALL_SCREEN, sign_in_browser, start_chromium  # noqa: E402
from tests.support.processes import port_open, python_module, wait_until  # noqa: E402

# Installed before each click: when the first frame is drawn and when the window is whole, on the page's clock.
WATCH = """
const seen = window.__replayRun = {clicked: null, first: null, ready: null, drawn0: dispatchReplay.frames.drawn,
                                   generation: null};
function look() {
  if (seen.clicked !== null && seen.first === null && dispatchReplay.frames.drawn > seen.drawn0 &&
      dispatchReplay.state.window && dispatchReplay.frames.last) seen.first = performance.now();
  if (seen.clicked !== null && seen.ready === null && seen.first !== null && dispatchReplay.state.ready)
    seen.ready = performance.now();
  if (seen.ready === null) requestAnimationFrame(look);
}
requestAnimationFrame(look);
document.querySelector("#rp-choice input[value='shift']").click();
seen.clicked = performance.now();
document.getElementById(arguments[0]).click();
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    shift_bench.add_shift_arguments(parser)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--before-root", default="")
    parser.add_argument("--timeout-s", type=float, default=180)
    args = parser.parse_args()
    from dispatch.ui.pages.replay import ids as replay_ids

    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(Path(tmp) / "redis", port=free_port(), persistent=False).start()
        settings = web_stack_settings(server.url, tmp)
        keys = Keys(settings.site)
        client = connect(server.url)
        # The shift ends a few seconds ago: "This shift (last 8 h)" then covers it (retention keeps 7 days).
        shift_bench.SHIFT_START = (now_ms() // 1000 - 20) * 1000 - int(args.hours * 3_600_000)
        shift = shift_bench.fill(client, keys, args)
        print(f"shift: {args.hours:g} h, {shift['telemetry']:,} drone positions + {shift['patrols']:,} patrol "
              f"reports, {shift['sightings']} sightings; written in {shift['written_s']:.0f} s", flush=True)
        apps = {"today": ROOT} | ({"before": Path(args.before_root)} if args.before_root else {})
        webs, urls, drivers = [], {}, []
        try:
            for name, root in apps.items():
                port = free_port()
                app_settings = dataclasses.replace(settings, data_dir=Path(tmp) / name)
                urls[name] = f"http://127.0.0.1:{port}"
                webs.append(python_module(f"web-{name}", "gunicorn", app_settings, "app:server", "--chdir", str(root),
                                          "-b", f"127.0.0.1:{port}", "--workers", str(args.workers), "--threads",
                                          "8", "--timeout", "300", "--no-control-socket").start())
                wait_until(lambda: port_open(port), timeout=60, what=f"the web app ({name})\n{webs[-1].output()}")
            driver, profile = start_chromium(WALL_SCREEN, log_console=False)
            drivers.append((driver, profile))
            firsts = {name: [] for name in apps}
            readies = {name: [] for name in apps}
            for run in range(args.runs):
                for name, url in urls.items():
                    driver.get(url + "/healthz")
                    sign_in_browser(driver, settings, user_id="SUP-1", role="supervisor")
                    driver.get(url + "/replay")
                    wait_until(lambda: driver.execute_script(
                        "return !!(window.dispatchReplay && dispatchReplay.started)"), timeout=30, what="the page")
                    time.sleep(1.1)  # a new second: a new window, a new load
                    driver.execute_script(WATCH, replay_ids.LOAD)
                    seen = wait_until(lambda: (s := driver.execute_script("return window.__replayRun")) and
                                      s["ready"] is not None and s, timeout=args.timeout_s, interval=0.1,
                                      what=f"run {run + 1} ({name}): the whole window")
                    first, ready = seen["first"] - seen["clicked"], seen["ready"] - seen["clicked"]
                    firsts[name].append(first)
                    readies[name].append(ready)
                    print(f"run {run + 1} ({name}): Load -> first frame {first / 1000:.2f} s, "
                          f"Load -> ready {ready / 1000:.2f} s", flush=True)
            for name, root in apps.items():
                print(f"{name} (app from {root}), {args.workers} web workers, {args.runs} runs: Load -> first frame "
                      f"median {statistics.median(firsts[name]) / 1000:.2f} s; Load -> whole window median "
                      f"{statistics.median(readies[name]) / 1000:.2f} s")
        finally:
            for driver, profile in drivers:
                driver.quit()
                shutil.rmtree(profile, ignore_errors=True)
            for web in webs:
                web.stop()
            client.close()
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
