"""Push gateway fan-out: delivery latency and gateway CPU for N websocket clients.

    .venv/bin/python bench/gateway.py [--clients 1,50,200] [--seconds 8] [--runs 3] [--gateways 1]
                                      [--background 1400]

Each run starts a private redis-server and one `python -m dispatch gateway`
process, connects N asyncio websocket clients (all in this process), then
publishes live entries as the ingest script does: 20 entries a second of 20
drones each (400 unit updates a second, about 100 drones at 1 Hz plus patrols
would be a busy site). Every unit carries the wall-clock time it was written;
each client records, for every unit it receives, the time from XADD to the
message being parsed by the client (one tick of coalescing, 150 ms, included):
"entry delay" is, for every entry, XADD to the first delta covering it; "age"
is how old the newest version of a unit is when it arrives.
Gateway CPU is read from /proc (user + system time over the run). Every run
checks that every client received every unit. Medians over runs are quoted;
clients run in this single process, so at high N part of the latency is the
clients' own parsing.

`--gateways G` starts G gateway processes on the same stream and spreads the
clients over them (client i on gateway i mod G, as a round-robin balancer
would); CPU is then the sum over the gateways, and per gateway.

`--background R` adds R more live entries a second (one unit each, 1,000 other
drones in turn, XADDed by a separate process in pipelined batches every 5 ms),
the load of a busy site's ingest (issue 15's "1,400 XADD/s background"). The
clients parse those too; only the probe entries above are timed.
"""

from __future__ import annotations

import argparse
import bisect
import asyncio
import os
import statistics
import sys
import multiprocessing
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if not (ROOT / "dispatch").is_dir():
    ROOT = Path("/work/main")
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402
import redis  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402

from dispatch.keys import Keys  # noqa: E402
from dispatch.settings import Settings  # noqa: E402
from tests.browser.chromium import session_cookie_header  # noqa: E402
from dispatch.store.embedded import EmbeddedRedis, free_port  # noqa: E402
from tests.support.processes import port_open, python_module, wait_until  # noqa: E402

ENTRIES_PER_S = 20
UNITS_PER_ENTRY = 20
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


HEADERS: dict[str, str] = {}
BACKGROUND_EVERY_S = 0.005
BACKGROUND_UNITS = 1_000


def background(url: str, stream: str, per_s: int, stop) -> None:
    """R entries a second of one unit each, in a pipeline every 5 ms (a separate process: no GIL shared)."""
    client = redis.Redis.from_url(url)
    number = 0
    due = time.monotonic()
    while not stop.is_set():
        due += BACKGROUND_EVERY_S
        batch = round(per_s * BACKGROUND_EVERY_S) or 1
        pipe = client.pipeline(transaction=False)
        for _ in range(batch):
            unit = {"drone_id": f"BG-{number % BACKGROUND_UNITS}", "ts": number, "lat": 48.1, "lon": -1.6,
                    "alt_m": 80.0, "heading_deg": 90.0, "speed_mps": 6.5, "battery_pct": 81.0}
            pipe.xadd(stream, {"drones": orjson.dumps([unit])})
            number += 1
        pipe.execute()
        time.sleep(max(0.0, due - time.monotonic()))


def key(entry_id: str) -> tuple[int, int]:
    ms, seq = entry_id.split("-")
    return int(ms), int(seq)


async def client(url: str, latencies: list[float], counts: list[int], index: int, ready: asyncio.Event, done,
                 arrivals: list[tuple[tuple[int, int], float]]):
    async with connect(url, max_size=None, additional_headers=HEADERS) as ws:
        await ws.recv()  # the snapshot
        ready.set()
        while not done.is_set():
            try:
                raw = await asyncio.wait_for(ws.recv(), 0.5)
            except TimeoutError:
                continue
            now = time.time() * 1000
            message = orjson.loads(raw)
            if message["type"] == "delta":
                arrivals.append((key(message["id"]), now))
            for unit in message.get("drones", ()):
                if "sent_ms" not in unit:
                    continue  # background load
                latencies.append(now - unit["sent_ms"])
                counts[index] += 1


async def one_run(urls: list[str], writer: redis.Redis, keys: Keys, clients: int, seconds: float,
                  gateway_pids: list[int]):
    latencies: list[float] = []
    counts = [0] * clients
    done = asyncio.Event()
    readies = [asyncio.Event() for _ in range(clients)]
    arrivals: list[list] = [[] for _ in range(clients)]
    published: list[tuple[tuple[int, int], float]] = []
    tasks = [asyncio.create_task(client(urls[i % len(urls)], latencies, counts, i, readies[i], done, arrivals[i]))
             for i in range(clients)]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 30)
    await asyncio.sleep(0.5)
    cpu_before, wall_before = sum(map(cpu_seconds, gateway_pids)), time.monotonic()
    sent = 0
    number = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        units = [{"drone_id": f"DR-{k}", "ts": number, "lat": 48.11, "lon": -1.68, "alt_m": 80.0,
                  "heading_deg": 90.0, "speed_mps": 6.5, "battery_pct": 81.0, "sent_ms": time.time() * 1000,
                  "seq": number}
                 for k in range(UNITS_PER_ENTRY)]
        # Distinct drones per entry would defeat coalescing; real drones repeat, so do these:
        # each tick coalesces ~3 entries into one update per drone.
        written_at = time.time() * 1000
        entry_id = writer.xadd(keys.live, {"drones": orjson.dumps(units)}).decode()
        published.append((key(entry_id), written_at))
        sent += 1
        number += 1
        await asyncio.sleep(1 / ENTRIES_PER_S)
    await asyncio.sleep(1.0)
    cpu = (sum(map(cpu_seconds, gateway_pids)) - cpu_before) / (time.monotonic() - wall_before)
    done.set()
    await asyncio.gather(*tasks)
    # An entry's delay: from its XADD to the first delta that covers it (tick wait included).
    delays = []
    for received in arrivals:
        ids = [k for k, _ in received]
        for entry_key, written_at in published:
            at = bisect.bisect_left(ids, entry_key)
            assert at < len(ids), "an entry never reached a client"
            delays.append(received[at][1] - written_at)
    return latencies, delays, cpu, sent, counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="1,50,200")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--gateways", type=int, default=1, help="gateway processes sharing the clients")
    parser.add_argument("--background", type=int, default=0, help="more live entries a second (one unit each)")
    args = parser.parse_args()
    sizes = [int(n) for n in args.clients.split(",")]
    results: dict[int, list[tuple[float, float, float, float]]] = {n: [] for n in sizes}
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(Path(tmp) / "redis", persistent=False).start()
        try:
            for run in range(args.runs):
                for n in sizes:
                    site = f"bench{run}-{n}"
                    settings = Settings.from_env({"REDIS_URL": server.url, "DISPATCH_SITE": site})
                    HEADERS.update(session_cookie_header(settings))  # the gateway lets only signed-in users in
                    ports = [free_port() for _ in range(args.gateways)]
                    gateways = [python_module(f"gateway-{g}", "dispatch.services.gateway", settings,
                                              DISPATCH_GATEWAY_PORT=str(port)).start() for g, port in enumerate(ports)]
                    try:
                        for gateway, port in zip(gateways, ports):
                            wait_until(lambda: "following" in gateway.output() and port_open(port), timeout=15,
                                       what="the gateway")
                        writer = redis.Redis.from_url(server.url)
                        stop_load = multiprocessing.Event()
                        load = multiprocessing.Process(target=background, daemon=True, args=(
                            server.url, Keys(site).live, args.background, stop_load)) if args.background else None
                        if load:
                            load.start()
                        latencies, delays, cpu, sent, counts = asyncio.run(one_run(
                            [f"ws://127.0.0.1:{port}/live" for port in ports], writer, Keys(site), n, args.seconds,
                            [gateway.process.pid for gateway in gateways]))
                        writer.close()
                        if load:
                            stop_load.set()
                            load.join(5)
                    finally:
                        for gateway in gateways:
                            gateway.stop()
                    latencies.sort()
                    delays.sort()
                    age = statistics.median(latencies)
                    p50, p99 = statistics.median(delays), delays[int(len(delays) * 0.99)]
                    p95 = delays[int(len(delays) * 0.95)]
                    per_client = statistics.median(counts)
                    results[n].append((p50, p99, cpu * 100, age, p95))
                    print(f"run {run + 1}: {n:4d} clients  entry delay p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  p99 {p99:6.1f} ms  "
                          f"age of newest version on arrival p50 {age:5.1f} ms  gateway CPU {cpu * 100:5.1f} %  "
                          f"{sent} entries -> {per_client:.0f} unit updates per client", flush=True)
        finally:
            server.stop()
    print(f"\nmedians over {args.runs} runs, {args.gateways} gateway(s) ({ENTRIES_PER_S} entries/s x {UNITS_PER_ENTRY} drones; "
          f"delay = XADD -> parsed by the client; "
          f"background {args.background} entries/s):")
    for n in sizes:
        rows = results[n]
        print(f"  {n:4d} clients: entry delay p50 {statistics.median(r[0] for r in rows):6.1f} ms, "
              f"p95 {statistics.median(r[4] for r in rows):6.1f} ms, "
              f"p99 {statistics.median(r[1] for r in rows):6.1f} ms; newest-version age "
              f"{statistics.median(r[3] for r in rows):5.1f} ms; "
              f"gateway CPU {statistics.median(r[2] for r in rows):5.1f} % of one core"
              + (f" ({statistics.median(r[2] for r in rows) / args.gateways:5.1f} % each)" if args.gateways > 1 else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
