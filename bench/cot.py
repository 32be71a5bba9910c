"""Cost of CoT out and CoT in on one core, the pure parts (no sockets, no Redis), and CoT out end to end.

    .venv/bin/python bench/cot.py [--units 1000] [--runs 7] [--probes 40]

Out: a picture of `units` objects (a quarter drones, half patrols, a quarter open sightings, every patrol
with a position change each round) through CotFeed.due and to_xml, as the bridge does once a second: events
per second a core can build. In: pytak-encoded ATAK markers through read_event and CotIntake.take
(validation included): markers per second. End to end: a private redis-server, the real ingest and
`bridge cot` processes and a UDP socket; a patrol is moved `--probes` times (XADD to its input stream)
and the delay to the CoT event carrying the new position is measured (median, p95).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dispatch.domain.cot import CotFeed, to_xml  # noqa: E402
from dispatch.domain.cot_in import CotIntake, Sender, read_event  # noqa: E402


def picture(units: int, now_ms: int, round_: int) -> dict:
    quarter = units // 4
    return {
        "site": "rennes",
        "drones": [{"drone_id": f"DR-{i}", "ts": now_ms, "lat": 48.1 + i * 1e-4, "lon": -1.68 + round_ * 1e-5,
                    "alt_m": 80.0, "heading_deg": 90.0, "speed_mps": 5.0, "battery_pct": 70.0} for i in range(quarter)],
        "patrols": [{"patrol_id": f"P-{i}", "ts": now_ms, "lat": 48.1 + i * 1e-4, "lon": -1.67 + round_ * 1e-5,
                     "status": "available"} for i in range(2 * quarter)],
        "sightings": [{"sighting_id": f"sight-{i:06d}", "ts": now_ms - 60_000, "drone_id": "DR-1",
                       "operator_id": "OP-1", "category": "lookout", "lat": 48.11, "lon": -1.68, "priority": 2,
                       "number": f"S-{i:04d}", "note": "x"} for i in range(quarter)],
        "assignments": [],
    }


def bench_out(units: int, runs: int) -> float:
    rates = []
    for _ in range(runs):
        feed = CotFeed()
        now = int(time.time() * 1000)
        feed.due(picture(units, now, 0), now)  # first round: everything; then only changes (drones, patrols)
        started, sent = time.perf_counter(), 0
        for round_ in range(1, 6):
            now += 1_000
            sent += sum(len(to_xml(e)) > 0 for e in feed.due(picture(units, now, round_), now))
        rates.append(sent / (time.perf_counter() - started))
    return statistics.median(rates)


def bench_in(count: int, runs: int) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from tests.domain.test_cot_in import DEVICE, marker
    markers = [marker(uid=f"marker-{i:06d}") for i in range(count)]
    rates = []
    for _ in range(runs):
        intake = CotIntake({DEVICE: Sender("OP-3", "DR-07")})
        started = time.perf_counter()
        now = int(time.time() * 1000)
        taken = [intake.take(read_event(m), now) for m in markers]
        rates.append(len(taken) / (time.perf_counter() - started))
    return statistics.median(rates)


def bench_end_to_end(probes: int) -> list[float]:
    import socket
    import tempfile
    import xml.etree.ElementTree as ET

    from dispatch.domain.acl import RedisUser
    from dispatch.keys import Keys
    from dispatch.settings import Settings
    from dispatch.store.connection import connect
    from dispatch.store.embedded import EmbeddedRedis, free_port
    from tests.support.processes import python_module, wait_until

    delays = []
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(Path(tmp) / "redis", port=free_port(), persistent=False).start()
        settings = Settings.from_env({"REDIS_URL": server.url, "DISPATCH_SITE": "bench", "DISPATCH_DATA_DIR": tmp})
        keys, client = Keys("bench"), connect(server.url)
        receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        receiver.bind(("127.0.0.1", 0))
        receiver.settimeout(5)
        ingest = python_module("ingest", "dispatch.services.ingest", settings).start()
        cot = python_module("cot", "dispatch", settings, "bridge", "cot", "--to",
                            f"udp://127.0.0.1:{receiver.getsockname()[1]}", role=RedisUser.COT).start()
        try:
            def move(lat: float) -> None:
                client.xadd(keys.in_patrols, {"patrol_id": "BAC-1", "ts": int(time.time() * 1000), "lat": lat,
                                              "lon": -1.68, "status": "available"})

            move(48.0)
            wait_until(lambda: b"BAC-1" in receiver.recv(65536), timeout=30, what="the first event")
            for probe in range(1, probes + 1):
                lat = f"{48.0 + probe * 1e-3:.6f}"
                started = time.perf_counter()
                move(float(lat))
                while True:
                    root = ET.fromstring(receiver.recv(65536))
                    if root.get("uid").endswith("BAC-1") and root.find("point").get("lat") == lat:
                        delays.append((time.perf_counter() - started) * 1000)
                        break
                time.sleep(0.3)
        finally:
            cot.stop()
            ingest.stop()
            receiver.close()
            client.close()
            server.stop()
    return delays


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--probes", type=int, default=40)
    args = parser.parse_args()
    print(f"CoT out: {bench_out(args.units, args.runs):,.0f} events/s built (picture of {args.units} objects)")
    print(f"CoT in:  {bench_in(2000, args.runs):,.0f} markers/s parsed and validated")
    if args.probes:
        delays = sorted(bench_end_to_end(args.probes))
        p95 = delays[min(len(delays) - 1, int(0.95 * len(delays)))]
        print(f"CoT out end to end (XADD of a patrol -> its CoT event on UDP): median "
              f"{statistics.median(delays):.0f} ms, p95 {p95:.0f} ms over {len(delays)} moves")


if __name__ == "__main__":
    main()
