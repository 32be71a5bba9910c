"""Bridges: messages a second each drone bridge handles on one core, and the end-to-end delay from a
MAVLink packet to the websocket client.

    .venv/bin/python bench/bridges.py [--seconds 5] [--drones 200] [--probes 60]

Throughput: a private redis-server and one bridge process (`python -m dispatch bridge mavlink` on UDP,
`... bridge dji` on a private mosquitto); this process sends real MAVLink (pymavlink-encoded
GLOBAL_POSITION_INT, plus a heartbeat and SYS_STATUS per drone every second) or publishes real DJI OSD
JSON (paho-mqtt, QoS 0) from `--drones` drones, at a fixed offered rate for `--seconds`, rising until the
bridge no longer keeps up. Each bridge is one thread (it runs its protocol client in its own loop), so
"on one core" is its own: reported are the offered rate, the share the bridge counted in (`<name>:in`
in {site}:bridges:stats), its CPU (user + system from /proc) and messages per CPU-second, the rate one
fully busy core would handle. The sustained rate is the highest offered rate with >= 99 % counted in.

End-to-end: redis, ingest, the gateway and the MAVLink bridge as real processes, one signed-in websocket
client; background load of `--drones` drones at 10 Hz through the bridge; a probe drone sends one
position a second (under the 2 Hz rate: never held back), each 30 m from the last; the delay is from the
probe's sendto() to the websocket client parsing the first delta that carries it (the gateway's 100 ms
tick included). Same machine, same clock.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402
import paho.mqtt.client as mqtt  # noqa: E402
import redis  # noqa: E402
from pymavlink.dialects.v20 import common as mavlink2  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402

from dispatch.domain.acl import RedisUser  # noqa: E402
from dispatch.keys import Keys  # noqa: E402
from dispatch.settings import Settings  # noqa: E402
from dispatch.store.embedded import EmbeddedRedis, free_port  # noqa: E402
from tests.browser.chromium import session_cookie_header  # noqa: E402
from tests.support.mosquitto import Mosquitto  # noqa: E402
from tests.support.processes import port_open, python_module, wait_until  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
RATES = (2_000, 5_000, 10_000, 20_000, 40_000, 80_000)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def counted_in(client: redis.Redis, keys: Keys, name: str) -> int:
    return int(client.hget(keys.bridge_stats, f"{name}:in") or 0)


def settle(client, keys, name, timeout=15.0) -> int:
    """The bridge's `in` counter once it stops moving (counters are stored every 2 s)."""
    last, stable_since = -1, time.monotonic()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = counted_in(client, keys, name)
        if now != last:
            last, stable_since = now, time.monotonic()
        elif time.monotonic() - stable_since > 3.0:
            break
        time.sleep(0.2)
    return last


class MavlinkDrones:
    """Pre-encoded MAVLink of N drones (system ids 1..N), packets for one second at a time."""

    def __init__(self, drones: int):
        self.encoders = [mavlink2.MAVLink(None, srcSystem=i + 1, srcComponent=1) for i in range(drones)]

    def housekeeping(self) -> list[bytes]:
        packets = []
        for mav in self.encoders:
            packets.append(mav.heartbeat_encode(2, 12, 0, 0, 4).pack(mav))
            packets.append(mav.sys_status_encode(0, 0, 0, 500, 15_800, -1, 77, 0, 0, 0, 0, 0, 0).pack(mav))
        return packets

    def positions(self, count: int) -> list[bytes]:
        """`count` positions, drone after drone, encoded beforehand: the sender's own cost stays out of it."""
        return [self.position(n % len(self.encoders), n // len(self.encoders)) for n in range(count)]

    def position(self, index: int, step: int, lat: float | None = None) -> bytes:
        mav = self.encoders[index]
        lat = lat if lat is not None else 48.10 + index * 0.0005 + (step % 100) * 0.000002
        return mav.global_position_int_encode(step, round(lat * 1e7), round(-1.68 * 1e7), 90_000, 80_000,
                                              500, 0, 0, 9000).pack(mav)


def paced(rate: int, seconds: float, send_one) -> int:
    """Call send_one(n) `rate` times a second for `seconds`, in 10 ms slices; returns how many were sent."""
    sent, start = 0, time.monotonic()
    while (elapsed := time.monotonic() - start) < seconds:
        due = int(elapsed * rate)
        while sent < due:
            send_one(sent)
            sent += 1
        time.sleep(0.005)
    return sent


def offer(kind: str, bridge, client: redis.Redis, site: str, rate: int, seconds: float, send_one,
          also_sent=lambda: 0) -> tuple:
    """Offer `rate` messages a second to a running bridge for `seconds` (plus `also_sent()` others, e.g.
    heartbeats); print and return its row: (kind, rate, sent, counted in, bridge CPU seconds, seconds)."""
    cpu0 = cpu_seconds(bridge.process.pid)
    sent = paced(rate, seconds, send_one) + also_sent()
    busy = (cpu_seconds(bridge.process.pid) - cpu0) / seconds
    got = settle(client, Keys(site), kind)
    cpu = cpu_seconds(bridge.process.pid) - cpu0
    print(f"  {kind:<7} offered {rate:6d}/s: counted in {got / sent:6.1%}, bridge CPU while offered {busy:6.1%}, "
          f"{got / cpu if cpu else 0:8.0f} messages per CPU-second", flush=True)
    return kind, rate, sent, got, cpu, seconds


def bench_mavlink(server: EmbeddedRedis, args) -> list[tuple]:
    rows = []
    drones = MavlinkDrones(args.drones)
    packets = drones.positions(int(max(RATES) * args.seconds) + 1)
    for rate in RATES:
        site = f"bm{rate}"
        settings = Settings.from_env({"REDIS_URL": server.url, "DISPATCH_SITE": site})
        port = free_port()
        bridge = python_module("bridge", "dispatch", settings, "bridge", "mavlink", "--listen",
                               f"udpin:127.0.0.1:{port}", role=RedisUser.BRIDGE).start()
        client = redis.Redis.from_url(server.url)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            wait_until(lambda: "listening:" in bridge.output(), timeout=15, what="the MAVLink bridge")
            extra = 0
            for packet in drones.housekeeping():
                sock.sendto(packet, ("127.0.0.1", port))
                extra += 1

            def send_one(n: int) -> None:
                nonlocal extra
                if n % rate == 0 and n:  # heartbeats and battery every second, as autopilots do
                    for packet in drones.housekeeping():
                        sock.sendto(packet, ("127.0.0.1", port))
                        extra += 1
                sock.sendto(packets[n], ("127.0.0.1", port))

            row = offer("mavlink", bridge, client, site, rate, args.seconds, send_one, lambda: extra)
        finally:
            sock.close()
            bridge.stop()
            client.close()
        rows.append(row)
        if row[3] < 0.9 * row[2]:
            break
    return rows


def osd_payload(serial: str, lat: float) -> bytes:
    return json.dumps({"tid": "t", "bid": "b", "timestamp": int(time.time() * 1000), "gateway": "5YSZK8T00A0001",
                       "data": {"latitude": lat, "longitude": -1.68, "height": 160.0, "elevation": 80.0,
                                "attitude_head": -45.0, "horizontal_speed": 6.0, "vertical_speed": 0.0,
                                "mode_code": 5, "battery": {"capacity_percent": 70}}}).encode()


def bench_dji(server: EmbeddedRedis, args, tmp: Path) -> list[tuple]:
    rows = []
    broker = Mosquitto(tmp / "mosquitto").start()
    serials = [f"1581F5FHD{i:07d}" for i in range(args.drones)]
    payloads = [osd_payload(serial, 48.10 + i * 0.0005) for i, serial in enumerate(serials)]
    topics = [f"thing/product/{serial}/osd" for serial in serials]
    try:
        for rate in RATES:
            site = f"bd{rate}"
            settings = Settings.from_env({"REDIS_URL": server.url, "DISPATCH_SITE": site})
            bridge = python_module("bridge", "dispatch", settings, "bridge", "dji", "--mqtt", broker.url,
                                   role=RedisUser.BRIDGE).start()
            client = redis.Redis.from_url(server.url)
            publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-{rate}")
            publisher.max_queued_messages_set(0)
            publisher.connect("127.0.0.1", broker.port)
            publisher.loop_start()
            try:
                wait_until(lambda: "subscribed to" in bridge.output(), timeout=15, what="the DJI bridge")
                row = offer("dji", bridge, client, site, rate, args.seconds,
                            lambda n: publisher.publish(topics[n % args.drones], payloads[n % args.drones], qos=0))
            finally:
                publisher.loop_stop()
                publisher.disconnect()
                bridge.stop()
                client.close()
            rows.append(row)
            if row[3] < 0.9 * row[2]:
                break
    finally:
        broker.stop()
    return rows


async def websocket_delays(url: str, headers: dict, probes: int, send_probe) -> list[float]:
    """Send `probes` probe positions a second apart; the delay of each to the client parsing it."""
    sent_at: dict[int, float] = {}
    delays: dict[int, float] = {}
    to_bridge: dict[int, float] = {}
    async with connect(url, max_size=None, additional_headers=headers) as ws:
        await ws.recv()  # the snapshot

        async def receive():
            while len(delays) < probes:
                message = orjson.loads(await ws.recv())
                now = time.time()
                for unit in message.get("drones", ()):
                    if unit.get("drone_id") == "DR-250":
                        index = round((unit["lat"] - 47.0) / 0.0003)
                        if index in sent_at and index not in delays:
                            delays[index] = (now - sent_at[index]) * 1000
                            to_bridge[index] = unit["ts"] - sent_at[index] * 1000  # ts: when the bridge got it

        receiver = asyncio.create_task(receive())
        for index in range(probes):
            sent_at[index] = time.time()
            send_probe(index)
            await asyncio.sleep(1.0)
        try:
            await asyncio.wait_for(receiver, 5)
        except TimeoutError:
            receiver.cancel()
    return [delays[i] for i in sorted(delays)], [to_bridge[i] for i in sorted(to_bridge)]


def bench_end_to_end(server: EmbeddedRedis, args) -> tuple[list[float], list[float]]:
    site = "be2e"
    settings = Settings.from_env({"REDIS_URL": server.url, "DISPATCH_SITE": site})
    udp, ws_port = free_port(), free_port()
    processes = [
        python_module("ingest", "dispatch.services.ingest", settings),
        python_module("gateway", "dispatch.services.gateway", settings, DISPATCH_GATEWAY_PORT=str(ws_port)),
        python_module("bridge", "dispatch", settings, "bridge", "mavlink", "--listen", f"udpin:127.0.0.1:{udp}",
                      role=RedisUser.BRIDGE),
    ]
    for process in processes:
        process.start()
    stop = threading.Event()
    drones = MavlinkDrones(max(args.drones, 250))
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    lock = threading.Lock()

    def send(packet: bytes) -> None:
        with lock:
            sock.sendto(packet, ("127.0.0.1", udp))

    def load() -> None:  # args.drones drones at 10 Hz, heartbeats and battery every second (probe's too)
        step = 0
        while not stop.is_set():
            if step % 10 == 0:
                for packet in drones.housekeeping():
                    send(packet)
            for index in range(args.drones):
                send(drones.position(index, step))
            step += 1
            stop.wait(0.1)

    try:
        wait_until(lambda: "listening:" in processes[2].output() and "following" in processes[1].output()
                   and port_open(ws_port), timeout=20, what="bridge and gateway")
        loader = threading.Thread(target=load, daemon=True)
        loader.start()
        time.sleep(2.0)
        headers = session_cookie_header(settings)
        delays = asyncio.run(websocket_delays(
            f"ws://127.0.0.1:{ws_port}/live", headers, args.probes,
            lambda i: send(drones.position(249, i, lat=47.0 + i * 0.0003))))
    finally:
        stop.set()
        sock.close()
        for process in reversed(processes):
            process.stop()
    return delays


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--drones", type=int, default=200)
    parser.add_argument("--probes", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(Path(tmp) / "redis", persistent=False).start()
        try:
            print(f"throughput ({args.drones} drones, {args.seconds:g} s per offered rate):")
            rows = bench_mavlink(server, args) + bench_dji(server, args, Path(tmp))
            print(f"\nend to end: MAVLink packet -> websocket client ({args.drones} drones at 10 Hz of load, "
                  f"{args.probes} probes at 1 Hz):")
            delays, to_bridge = bench_end_to_end(server, args)
        finally:
            server.stop()
    print("\nsummary:")
    for kind in ("mavlink", "dji"):
        mine = [row for row in rows if row[0] == kind]
        kept = [row for row in mine if row[3] >= 0.99 * row[2]]
        best = max((row[1] for row in kept), default=0)
        per_cpu = statistics.median(row[3] / row[4] for row in mine if row[4])
        print(f"  {kind}: sustained {best} messages/s offered with >= 99 % counted in; "
              f"{per_cpu:.0f} messages per CPU-second (median over rates)")
    if delays:
        delays.sort()
        print(f"  MAVLink -> websocket: median {statistics.median(delays):.1f} ms, "
              f"p95 {delays[int(len(delays) * 0.95) - 1]:.1f} ms over {len(delays)} of {args.probes} probes; "
              f"of which sendto -> received by the bridge: median {statistics.median(to_bridge):.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
