"""Supervisor screen latency: from the XADD of a drone position to that position drawn on the map.

    .venv/bin/python bench/latency.py [--probes 100] [--drones 200] [--patrols 1000]

Starts a private redis-server and the real processes (ingest, gateway, web under
gunicorn), opens the supervisor page in a real headless Chromium, and keeps a
background load on the input streams: `--drones` drones at 2 Hz and `--patrols`
patrols at 1 Hz (about 1,400 XADDs a second with the defaults). A probe drone
is then XADDed five times a second; the page's own hook,
`dispatchScreen.rendered`, says when each version was drawn (Date.now() in the
page, time.time() here: the same machine clock). A probe's latency is from its
XADD to the first drawing of that version or a newer one. The live run also says
where that time goes (issue 15): XADD -> the live entry ingest wrote (its id's
time), live entry -> the message parsed in the page (gateway, socket), message ->
drawn (the page: it draws on the next animation frame).

Two runs in one go: with the live socket (snapshot then gateway deltas), then
with the gateway stopped, so that the page falls back to polling /api/snapshot
every 2 s (the dcc.Interval fallback): the cost of the same update by polling.
Also measured under the same load: selecting a sighting -> its nearest patrols
listed (a Dash server callback), and long tasks (> 50 ms) on the page's main
thread, the stutter a supervisor would see.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402
import redis  # noqa: E402

from bench.common import summary, web_stack_settings  # noqa: E402
from dispatch.keys import Keys  # noqa: E402
from dispatch.store.embedded import EmbeddedRedis, free_port  # noqa: E402
from tests.browser.screen import Screen, patrol, sighting, telemetry  # noqa: E402
from tests.browser.chromium import WALL_SCREEN, start_chromium, sign_in_browser  # noqa: E402
from tests.support.processes import port_open, python_module, wait_until  # noqa: E402

RENNES = (48.1113, -1.6800)
PROBE = "DR-PROBE"
PROBE_HZ = 5
TARGET_MEDIAN_MS, TARGET_P95_MS = 60, 150  # issue 15

# Every version of the probe drawn by the page, in order: the page keeps only the latest.
RECORD_PROBE = """
const log = window.__probeLog = [];
const rendered = dispatchScreen.rendered;
const set = rendered.set.bind(rendered);
rendered.set = (key, value) => { if (key === arguments[0]) log.push(value); return set(key, value); };
window.__longTasks = [];
// Where the time goes: when each probe version arrived in the page (parsed off the socket), by its ts.
const probeId = arguments[0].split(":")[1];
const arrivals = window.__probeArrivals = [];
const parse = JSON.parse;
JSON.parse = function (text, reviver) {
  const value = parse(text, reviver);
  if (typeof text === "string" && text.indexOf(probeId) >= 0 && value && Array.isArray(value.drones)) {
    const now = Date.now();
    value.drones.forEach(d => { if (d && d.drone_id === probeId) arrivals.push({ts: d.ts, at: now}); });
  }
  return value;
};
new PerformanceObserver(list => list.getEntries().forEach(e => __longTasks.push(e.duration)))
  .observe({type: 'longtask', buffered: false});
// What the long frames ran (Long Animation Frames API): script time by where it came from, and the rest
// (style, layout, paint) of those frames.
window.__longFrames = [];
new PerformanceObserver(list => list.getEntries().forEach(e => {
  if (e.duration <= 50) return;
  __longFrames.push({duration: e.duration, render: e.renderStart ? e.startTime + e.duration - e.renderStart : 0,
                     layout: e.styleAndLayoutStart ? e.startTime + e.duration - e.styleAndLayoutStart : 0,
                     scripts: e.scripts.map(s => ({duration: s.duration, forcedLayout: s.forcedStyleAndLayoutDuration,
                       where: `${s.invoker} ${(s.sourceFunctionName || '')} ${(s.sourceURL || '').split('/').pop()}`}))});
})).observe({type: 'long-animation-frame', buffered: false});
"""


class Load(threading.Thread):
    """Drones circling at 2 Hz and patrols jittering at 1 Hz, XADDed in small pipelined batches."""

    TICK_S = 0.05

    def __init__(self, url: str, keys: Keys, drones: int, patrols: int):
        super().__init__(daemon=True)
        self.client = redis.Redis.from_url(url)
        self.keys, self.drones, self.patrols = keys, drones, patrols
        self.done = threading.Event()
        self.sent = 0
        rng = random.Random(7)
        self.drone_centres = [(RENNES[0] + rng.uniform(-0.05, 0.05), RENNES[1] + rng.uniform(-0.08, 0.08))
                              for _ in range(drones)]
        self.patrol_spots = [(RENNES[0] + rng.uniform(-0.06, 0.06), RENNES[1] + rng.uniform(-0.09, 0.09))
                             for _ in range(patrols)]

    def drone(self, n: int, t: float) -> dict:
        lat, lon = self.drone_centres[n]
        angle = t / 30 + n
        return telemetry(f"DR-{n:04d}", lat + 0.003 * math.sin(angle), lon + 0.004 * math.cos(angle),
                         heading=math.degrees(angle) % 360)

    def patrol(self, n: int, t: float) -> dict:
        lat, lon = self.patrol_spots[n]
        return patrol(f"P-{n:04d}", lat + 0.0005 * math.sin(t + n), lon + 0.0005 * math.cos(t + n))

    def seed(self) -> None:
        pipe = self.client.pipeline(transaction=False)
        for n in range(self.drones):
            pipe.xadd(self.keys.in_telemetry, self.drone(n, 0))
        for n in range(self.patrols):
            pipe.xadd(self.keys.in_patrols, self.patrol(n, 0))
        pipe.execute()

    def run(self) -> None:
        tick = 0
        started = time.monotonic()
        while not self.done.is_set():
            t = time.time()
            pipe = self.client.pipeline(transaction=False)
            # Each unit once per period: drones every 0.5 s (10 ticks), patrols every 1 s (20 ticks).
            for n in range(tick % 10, self.drones, 10):
                pipe.xadd(self.keys.in_telemetry, self.drone(n, t))
            for n in range(tick % 20, self.patrols, 20):
                pipe.xadd(self.keys.in_patrols, self.patrol(n, t))
            self.sent += len(pipe.execute())
            tick += 1
            time.sleep(max(0.0, started + tick * self.TICK_S - time.monotonic()))


def probe_run(page: Screen, client: redis.Redis, keys: Keys, count: int) -> list[float]:
    """XADD `count` probe positions at PROBE_HZ; returns each one's XADD -> drawn latency in ms."""
    page.js("window.__probeLog.length = 0; window.__longTasks.length = 0; window.__probeArrivals.length = 0;"
            "window.__longFrames.length = 0;")
    sent: list[tuple[float, int]] = []  # (XADD time in ms, ts of the version)
    next_at = time.monotonic()
    for n in range(count):
        ts = int(time.time() * 1000)
        position = telemetry(PROBE, RENNES[0] + 0.001 * math.sin(n), RENNES[1] + 0.001 * math.cos(n), ts=ts)
        written = time.time() * 1000
        client.xadd(keys.in_telemetry, position)
        sent.append((written, ts))
        next_at += 1 / PROBE_HZ
        time.sleep(max(0.0, next_at - time.monotonic()))
    last_ts = sent[-1][1]
    wait_until(lambda: any(entry["ts"] >= last_ts for entry in page.js("return window.__probeLog")), timeout=10,
               what="the last probe to be drawn")
    drawn = page.js("return window.__probeLog")
    latencies = []
    for written, ts in sent:
        first = next(entry for entry in drawn if entry["ts"] >= ts)
        latencies.append(first["at"] - written)
    SPLITS.clear()
    SPLITS.extend(split(client, keys, sent, page.js("return window.__probeArrivals"), drawn))
    return latencies


SPLITS: list[tuple[float, float, float]] = []


def split(client: redis.Redis, keys: Keys, sent, arrived, drawn) -> list[tuple[float, float, float]]:
    """Per probe: (XADD -> live entry, live entry -> parsed in the page, parsed -> drawn), in ms."""
    live: dict[int, int] = {}  # probe ts -> ms of the first live entry carrying it
    start = f"{int(sent[0][0]) - 1_000}-0"
    while True:
        batch = client.xrange(keys.live, min=start, max="+", count=5_000)
        for entry_id, fields in batch:
            raw = fields.get(b"drones", b"")
            if PROBE.encode() in raw:
                for unit in orjson.loads(raw):
                    if unit.get("drone_id") == PROBE:
                        live.setdefault(unit["ts"], int(entry_id.split(b"-")[0]))
        if len(batch) < 5_000:
            break
        ms, seq = batch[-1][0].decode().split("-")
        start = f"{ms}-{int(seq) + 1}"
    parts = []
    for written, ts in sent:
        entry_ms = live.get(ts)
        came = next((a["at"] for a in arrived if a["ts"] >= ts), None)
        shown = next((d["at"] for d in drawn if d["ts"] >= ts), None)
        if entry_ms is None or came is None or shown is None:
            continue
        parts.append((entry_ms - written, came - entry_ms, shown - came))
    return parts


def hot_functions(profile: dict, top: int) -> list[tuple[float, str]]:
    """The page's functions by self time in a CDP CPU profile (Profiler.stop): (ms, "name file:line")."""
    nodes = {node["id"]: node for node in profile["nodes"]}
    self_us: dict[str, float] = {}
    for node_id, delta in zip(profile["samples"], profile["timeDeltas"]):
        frame = nodes[node_id]["callFrame"]
        where = f"{frame['functionName'] or '(anonymous)'} {frame['url'].rsplit('/', 1)[-1]}:{frame['lineNumber'] + 1}"
        self_us[where] = self_us.get(where, 0.0) + delta
    return sorted(((us / 1000, where) for where, us in self_us.items()), reverse=True)[:top]


def print_long_frames(frames: list[dict], top: int = 8) -> None:
    """What the page's long animation frames (> 50 ms) spent their time on, summed over the live run."""
    if not frames:
        return
    by_script: dict[str, list[float]] = {}
    for frame in frames:
        for script in frame["scripts"]:
            total = by_script.setdefault(script["where"], [0.0, 0.0, 0])
            total[0] += script["duration"]
            total[1] += script["forcedLayout"] or 0
            total[2] += 1
    total_ms = sum(frame["duration"] for frame in frames)
    render_ms = sum(frame["render"] for frame in frames)
    print(f"  long animation frames: {len(frames)}, {total_ms:.0f} ms in all, of which {render_ms:.0f} ms "
          f"rendering (style, layout, paint after the scripts); scripts in them (ms, forced layout ms, count):")
    for where, (ms, forced, count) in sorted(by_script.items(), key=lambda item: -item[1][0])[:top]:
        print(f"    {ms:8.0f} {forced:6.0f} {count:5d}  {where}")


def nearest_run(page: Screen, client: redis.Redis, keys: Keys, count: int) -> list[int]:
    """Select a sighting `count` times; the page's own timing from the click to the list drawn."""
    target = sighting(*RENNES, priority=1)
    client.xadd(keys.in_sightings, target)
    wait_until(lambda: any(row["id"] == target["sighting_id"] for row in page.queue()), timeout=10,
               what="the bench sighting in the queue")
    for _ in range(count):
        page.press("\ue00c")  # Esc
        page.select(target["sighting_id"])
    return page.js("return dispatchScreen.panels.nearestTimings")[-count:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probes", type=int, default=100)
    parser.add_argument("--drones", type=int, default=200)
    parser.add_argument("--patrols", type=int, default=1_000)
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="also take a CPU profile of the page during the live run and list its N hottest functions")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(Path(tmp) / "redis", port=free_port(), persistent=False).start()
        settings = web_stack_settings(server.url, tmp)
        keys = Keys(settings.site)
        web_url = f"http://127.0.0.1:{settings.web_port}"
        services = []
        client = redis.Redis.from_url(server.url)
        load = Load(server.url, keys, args.drones, args.patrols)
        driver = None
        try:
            ingest = python_module("ingest", "dispatch.services.ingest", settings).start()
            services.append(ingest)
            gateway = python_module("gateway", "dispatch.services.gateway", settings).start()
            services.append(gateway)
            web = python_module("web", "gunicorn", settings, "app:server", "-b", web_url.removeprefix("http://"),
                                "--workers", "1", "--threads", "8", "--no-control-socket").start()
            services.append(web)
            wait_until(lambda: "following" in gateway.output() and port_open(settings.gateway_port), timeout=20,
                       what=f"the gateway\n{gateway.output()}")
            wait_until(lambda: port_open(int(web_url.rsplit(":", 1)[1])), timeout=30, what=f"the web\n{web.output()}")
            load.seed()
            driver, profile = start_chromium(WALL_SCREEN, log_console=False)
            driver.get(web_url + "/healthz")  # cookies are set for the site's origin
            sign_in_browser(driver, settings, user_id="SUP-1", role="supervisor")
            page = Screen(driver, web_url).open()
            units = args.drones + args.patrols
            wait_until(lambda: page.js("return dispatchScreen.model.units.drones.size + "
                                       "dispatchScreen.model.units.patrols.size") >= units,
                       timeout=30, what="every unit on the page")
            page.js(RECORD_PROBE, f"drones:{PROBE}")
            load.start()
            time.sleep(3)  # the load reaches its steady state
            print(f"Supervisor screen under load: {args.drones} drones at 2 Hz + {args.patrols} patrols at 1 Hz "
                  f"(~{2 * args.drones + args.patrols} XADD/s), probe drone at {PROBE_HZ} Hz, {args.probes} probes",
                  flush=True)
            started_sent, started = load.sent, time.monotonic()
            if args.profile:
                driver.execute_cdp_cmd("Profiler.enable", {})
                driver.execute_cdp_cmd("Profiler.setSamplingInterval", {"interval": 500})
                driver.execute_cdp_cmd("Profiler.start", {})
            live = probe_run(page, client, keys, args.probes)
            hot = hot_functions(driver.execute_cdp_cmd("Profiler.stop", {})["profile"], args.profile) \
                if args.profile else []
            parts = list(SPLITS)
            rate = (load.sent - started_sent) / (time.monotonic() - started)
            long_tasks = page.js("return window.__longTasks")
            long_frames = page.js("return window.__longFrames")
            nearest = nearest_run(page, client, keys, 20)

            gateway.stop()
            wait_until(lambda: page.link()["polling"], timeout=15, what="the page to fall back to polling")
            time.sleep(2.5)
            polled = probe_run(page, client, keys, args.probes)
            load.done.set()
        finally:
            load.done.set()
            if driver is not None:
                driver.quit()
                shutil.rmtree(profile, ignore_errors=True)
            for service in reversed(services):
                service.stop()
            client.close()
            server.stop()
    print(f"\nmeasured background load: {rate:.0f} XADD/s; page long tasks (> 50 ms) during the live run: "
          f"{len(long_tasks)} (longest {max(long_tasks, default=0):.0f} ms)")
    live_median, live_p95 = summary("live socket (gateway deltas): XADD -> drawn", live)
    if parts:
        print(f"  where it goes ({len(parts)} probes, median / p95 ms):")
        for index, name in enumerate(("XADD -> live entry (ingest)", "live entry -> parsed in the page (gateway)",
                                      "parsed -> drawn (browser)")):
            values = sorted(part[index] for part in parts)
            print(f"    {name:45s} {statistics.median(values):6.1f} / {values[int(len(values) * 0.95)]:6.1f}")
    if hot:
        print("  the page's hottest functions during the live run (self time, ms):")
        for ms, where in hot:
            print(f"    {ms:8.1f}  {where}")
    print_long_frames(long_frames)
    poll_median, poll_p95 = summary("polling fallback (/api/snapshot every 2 s)", polled)
    summary("select a sighting -> nearest patrols listed", nearest)
    print(f"  polling costs {poll_median / live_median:.1f}x the live median, {poll_p95 / live_p95:.1f}x at p95")
    met = live_median < TARGET_MEDIAN_MS and live_p95 < TARGET_P95_MS
    print(f"  targets (median < {TARGET_MEDIAN_MS} ms, p95 < {TARGET_P95_MS} ms): {'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
