"""The replay page in Chromium with an 8-h shift: the longest main-thread tasks (issue 15, event list and figures).

    .venv/bin/python bench/replay_page.py [--runs 3] [--before REV] [--hours 8] [--drones 50] [--patrols 500]

Writes bench/replay.py's shift, moved to end now (so that the page's "This shift (last 8 h)" is it), into
a private redis-server, serves the app with gunicorn and opens /replay in a real headless Chromium at
1920x1080, signed in as a supervisor. Each run is a fresh page: Load "This shift", then, once the first
frame is drawn, the figures' section scrolled into view (a person opening the figures) until all six
are drawn. A PerformanceObserver ('longtask', > 50 ms) in the page records every main-thread task:

- "to first frame": Load pressed -> first frame drawn (the window's events and zones are set in
  there: the event list);
- "after": first frame drawn -> every figure drawn, +0.5 s (the figures, and the rest of the list);
- the events in the list and the rows in the DOM; Load -> first frame; first frame -> figures drawn.
- then the event list scrolled to its end in 20 steps: the longest task while scrolling;
- then (issue 15's page only) each figure asked for again, alone, the page otherwise idle: the longest
  task while that one chart is drawn.
With `--profile`, the first run's CPU profile (CDP) from Load to the figures drawn: functions by self time.

With `--before REV` the same runs are made first against the app as it was at REV (`git archive` into a
temporary directory, gunicorn --chdir there), on the same Redis: before and after in one go. Medians of
`--runs`; the machine is noisy (2 cores shared).
"""

from __future__ import annotations

import argparse
import io
import shutil
import statistics
import subprocess
import sys
import tarfile
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
from dispatch.ui.pages.replay import ids as P  # noqa: E402
from tests.browser.chromium import WALL_SCREEN, sign_in_browser, start_chromium  # noqa: E402
from tests.support.processes import port_open, python_module, wait_until  # noqa: E402

WATCH_TASKS = """
window.__tasks = [];
new PerformanceObserver(list => list.getEntries().forEach(e => window.__tasks.push(
  {start: e.startTime, duration: e.duration}))).observe({type: 'longtask', buffered: true});
// When the page asks for each figure (issue 15's figures.js; none before it): the tasks that follow are its.
window.__asks = [];
if (!window.__asksWatched) {
  window.__asksWatched = true;
  const setProps = window.dash_clientside.set_props;
  window.dash_clientside.set_props = function (id, props) {
    if (String(id).startsWith('rp-want-')) window.__asks.push({id: String(id), at: performance.now()});
    return setProps.apply(this, arguments);
  };
  const replay = window.dash_clientside.dispatchReplay;
  if (replay && replay.onFigureDone) {  // the server's answers about figures, seen here too
    const done = replay.onFigureDone;
    replay.onFigureDone = function (answer) { window.__done = answer; return done.apply(this, arguments); };
  }
}
"""
# Every chart holds its window's figure: traces, or a "nothing to draw" note, not the blank of a load.
FIGURES_DRAWN = """
return arguments[0].every(id => {
  const plot = document.querySelector(`#${id} .js-plotly-plot`);
  if (!plot || !plot.data || !plot.layout) return false;
  const notes = plot.layout.annotations || [];
  return plot.data.length > 0 || (notes.length > 0 && !String(notes[0].text).startsWith('Load a window'));
});
"""
GRAPHS = [graph for graph, _, _ in P.FIGURES.values()]


def export_revision(revision: str) -> Path:
    """The app's files at `revision`, in a directory of their own (no git worktree: nothing in the repo changes)."""
    archive = subprocess.run(["git", "archive", revision], cwd=ROOT, check=True, capture_output=True).stdout
    directory = Path(tempfile.mkdtemp(prefix=f"replay-page-{revision[:8]}-"))
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(directory, filter="data")
    return directory


def top_functions(profile: dict, count: int = 15) -> list[tuple[str, float]]:
    """Self time (ms) per function of a CDP CPU profile, the largest first: where a long task goes."""
    nodes = {node["id"]: node for node in profile["nodes"]}
    spent: dict[str, float] = {}
    for node_id, delta in zip(profile["samples"], profile["timeDeltas"]):
        frame = nodes[node_id]["callFrame"]
        name = f"{frame['functionName'] or '(anonymous)'} {frame['url'].rsplit('/', 1)[-1].split('?')[0]}:{frame['lineNumber'] + 1}"
        spent[name] = spent.get(name, 0.0) + delta / 1000
    return sorted(spent.items(), key=lambda item: -item[1])[:count]


def redraw_each_figure(driver) -> dict[str, int]:
    """Each figure asked for again, alone, the page otherwise idle: the longest task while it is drawn."""
    js = driver.execute_script
    found = {}
    for name, wanted in P.FIGURE_WANTED.items():
        nonce = 10**6 + len(found)
        asked = js("""const w = dispatchReplay.figures.state.window; const t = performance.now();
                      window.dash_clientside.set_props(arguments[0], {data: {from_ms: w.from_ms, to_ms: w.to_ms,
                                                                             nonce: arguments[1]}});
                      return t;""", wanted, nonce)
        wait_until(lambda: js("return (window.__done || {}).nonce") == nonce, timeout=60, interval=0.05,
                   what=f"{name} redrawn")
        time.sleep(0.4)
        found[name] = round(max([t["duration"] for t in js("return window.__tasks") if t["start"] >= asked],
                                default=0.0))
    return found


def one_run(driver, web_url: str, profile: bool = False) -> dict:
    driver.get(web_url + "/replay")
    wait_until(lambda: driver.execute_script("return !!(window.dispatchReplay && dispatchReplay.started)"),
               timeout=30, what="the replay scripts")
    js = driver.execute_script
    js(WATCH_TASKS)
    js(f"document.querySelector(`#{P.CHOICE} input[value='shift']`).click()")
    if profile:
        driver.execute_cdp_cmd("Profiler.enable", {})
        driver.execute_cdp_cmd("Profiler.setSamplingInterval", {"interval": 500})
        driver.execute_cdp_cmd("Profiler.start", {})
    started = js(f"const t = performance.now(); document.getElementById('{P.LOAD}').click(); return t;")
    wait_until(lambda: js("return dispatchReplay.state.ready && dispatchReplay.frames.drawn > 0"), timeout=180,
               interval=0.02, what="the window loaded and its first frame drawn")
    first_frame = js("return dispatchReplay.frames.last.drawn_at")  # the page's own clock, when it was drawn
    js(f"document.getElementById('{GRAPHS[0]}').scrollIntoView()")  # the figures opened
    wait_until(lambda: js(FIGURES_DRAWN, GRAPHS), timeout=180, interval=0.05, what="every figure drawn")
    figures_drawn = js("return performance.now()")
    if profile:
        found = driver.execute_cdp_cmd("Profiler.stop", {})["profile"]
        driver.execute_cdp_cmd("Profiler.disable", {})
        for name, ms in top_functions(found):
            print(f"    {ms:8.0f} ms  {name}", flush=True)
    time.sleep(0.5)
    events = js(f"return document.getElementById('{P.EVENTS_COUNT}').textContent")
    rows = js(f"return document.querySelectorAll('#{P.EVENTS} .rp-ev').length")
    js(f"document.getElementById('{P.EVENTS}').scrollIntoView()")
    scrolled_from = js("return performance.now()")
    for step in range(1, 21):
        js(f"const box = document.getElementById('{P.EVENTS}'); box.scrollTop = box.scrollHeight * {step} / 20;")
        js("return new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    time.sleep(0.3)
    scrolled_to = js("return performance.now()")
    redrawn = redraw_each_figure(driver) if js("return !!(dispatchReplay.figures)") else {}
    tasks = js("return window.__tasks")
    asks = [ask for ask in js("return window.__asks") if ask["at"] < scrolled_from]
    per_figure = {}
    for ask, following in zip(asks, asks[1:] + [{"at": scrolled_from}]):
        name = ask["id"].removeprefix("rp-want-")
        per_figure[name] = round(max([t["duration"] for t in tasks if ask["at"] <= t["start"] < following["at"]],
                                     default=0.0))

    def longest(start, end=float("inf")):
        return max([t["duration"] for t in tasks if start <= t["start"] < end], default=0.0)

    return {"to_first_frame": longest(started, first_frame), "after": longest(first_frame, scrolled_from),
            "scrolling": longest(scrolled_from, scrolled_to), "load_ms": first_frame - started,
            "figures_ms": figures_drawn - first_frame, "events": events, "rows": rows,
            "tasks": sorted(round(t["duration"]) for t in tasks if t["start"] >= started)[-6:],
            "per_figure": per_figure, "redrawn": redrawn}


def measure(label: str, app_dir: Path, settings, runs: int, cpu_profile: bool = False) -> list[dict]:
    web_url = f"http://127.0.0.1:{free_port()}"
    web = python_module("web", "gunicorn", settings, "app:server", "-b", web_url.removeprefix("http://"),
                        "--workers", "1", "--threads", "4", "--no-control-socket")
    # Started in app_dir (Service starts in this checkout): `python -m` imports the app found there.
    web.process = subprocess.Popen(web.args, env=web.env, cwd=app_dir, stdout=web.log, stderr=subprocess.STDOUT)
    driver = profile = None
    results = []
    try:
        wait_until(lambda: port_open(int(web_url.rsplit(":", 1)[1])), timeout=60, what=f"the web\n{web.output()}")
        driver, profile = start_chromium(WALL_SCREEN, log_console=False)
        driver.get(web_url + "/healthz")  # cookies are set for the site's origin
        sign_in_browser(driver, settings, user_id="SUP-1", role="supervisor")
        for run in range(runs):
            result = one_run(driver, web_url, cpu_profile and run == 0)
            results.append(result)
            print(f"  {label} run {run + 1}: longest task to first frame {result['to_first_frame']:.0f} ms, "
                  f"after it {result['after']:.0f} ms, scrolling the list {result['scrolling']:.0f} ms; "
                  f"Load -> first frame {result['load_ms'] / 1000:.1f} s, -> figures +{result['figures_ms'] / 1000:.1f} s; "
                  f"{result['events']}, {result['rows']} rows in the DOM; longest tasks {result['tasks']}"
                  + (f"; longest task after asking for each figure {result['per_figure']}, each redrawn alone "
                     f"{result['redrawn']}" if result["per_figure"] else ""),
                  flush=True)
    finally:
        if driver is not None:
            driver.quit()
            shutil.rmtree(profile, ignore_errors=True)
        web.stop()
    return results


def report(label: str, results: list[dict]) -> None:
    def median(name):
        return statistics.median(r[name] for r in results)

    print(f"{label}: medians of {len(results)} runs: longest main-thread task Load -> first frame "
          f"{median('to_first_frame'):.0f} ms, first frame -> figures drawn {median('after'):.0f} ms, "
          f"scrolling the list {median('scrolling'):.0f} ms; Load -> first frame {median('load_ms') / 1000:.1f} s, "
          f"figures drawn {median('figures_ms') / 1000:.1f} s after it; rows in the DOM {median('rows'):.0f} "
          f"({results[0]['events']})", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    shift_bench.add_shift_arguments(parser)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--before", help="a git revision to measure first, e.g. the branch's base")
    parser.add_argument("--profile", action="store_true", help="the first run's CPU profile: top functions by self time")
    args = parser.parse_args()
    # The shift ends now: the page's "This shift (last 8 h)" is this window.
    shift_bench.SHIFT_START = now_ms() // 1000 * 1000 - int(args.hours * 3_600_000) + 60_000
    with tempfile.TemporaryDirectory() as tmp:
        with EmbeddedRedis(Path(tmp) / "redis", port=free_port(), persistent=False) as server:
            settings = web_stack_settings(server.url, tmp)
            client = connect(server.url)
            shift = shift_bench.fill(client, Keys(settings.site), args)
            print(f"shift: {args.hours:g} h, {shift['telemetry']:,} drone positions, {shift['patrols']:,} patrol "
                  f"reports, {shift['sightings']} sightings, {shift['assignment_events']} assignment events, "
                  f"{shift['alerts']} alert events; written in {shift['written_s']:.0f} s", flush=True)
            variants = []
            if args.before:
                variants.append((f"before ({args.before})", export_revision(args.before)))
            variants.append(("now", ROOT))
            measured = [(label, measure(label, app_dir, settings, args.runs, args.profile)) for label, app_dir in variants]
            for label, results in measured:
                report(label, results)
            for _, app_dir in variants:
                if app_dir != ROOT:
                    shutil.rmtree(app_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
