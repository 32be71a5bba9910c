"""Cost of one alert-watcher tick: evaluate() alone, and a whole tick against a real Redis. Prints medians.

    .venv/bin/python bench/watch.py
"""
from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import orjson

from bench.common import median_ms
from dispatch.domain.alerts import evaluate
from dispatch.keys import Keys
from dispatch.settings import Settings
from dispatch.store.connection import connect
from dispatch.store.embedded import EmbeddedRedis
from dispatch.store.zones import save_zone
from dispatch.demo.zones import demo_zones
from dispatch.domain.zones import make_zone
from dispatch.services.watch import AlertWatcher

NOW = int(time.time() * 1000)


def picture(rng, drones, patrols, sightings, assignments):
    def unit(i):
        return 48.09 + rng.random() * 0.04, -1.72 + rng.random() * 0.07
    snap = {"drones": [], "patrols": [], "sightings": [], "assignments": []}
    for i in range(drones):
        lat, lon = unit(i)
        snap["drones"].append({"drone_id": f"DR-{i}", "ts": NOW - rng.randint(0, 8000), "lat": lat, "lon": lon,
                               "alt_m": 80.0, "heading_deg": 0.0, "speed_mps": 5.0, "battery_pct": rng.uniform(10, 100)})
    for i in range(patrols):
        lat, lon = unit(i)
        snap["patrols"].append({"patrol_id": f"P-{i}", "ts": NOW - rng.randint(0, 200_000), "lat": lat, "lon": lon,
                                "status": rng.choice(["available", "en_route", "unavailable"])})
    for i in range(sightings):
        lat, lon = unit(i)
        snap["sightings"].append({"sighting_id": f"sighting-{i:06d}", "ts": NOW - rng.randint(0, 120_000),
                                  "drone_id": "DR-1", "operator_id": "OP-1", "category": "deal", "lat": lat,
                                  "lon": lon, "priority": rng.randint(1, 3), "note": ""})
    for i in range(assignments):
        snap["assignments"].append({"assignment_id": f"asg-{i:06d}", "sighting_id": f"sighting-{i:06d}",
                                    "patrol_id": f"P-{i}", "supervisor_id": "SUP-1",
                                    "state": rng.choice(["assigned", "en_route"]), "ts": NOW - rng.randint(0, 60_000)})
    return snap


def many_zones(count):
    zones = list(demo_zones(NOW))
    for i in range(count - len(zones)):
        lat, lon = 48.0 + (i % 20) * 0.01, -1.8 + (i // 20) * 0.01
        ring = [(lon + 0.004 * __import__("math").cos(a / 12 * 6.283), lat + 0.003 * __import__("math").sin(a / 12 * 6.283))
                for a in range(12)]
        zones.append(make_zone(zone_id=f"Z-B{i}", name=f"Zone {i}", decree_ref="BENCH", polygon=ring,
                               valid_from_ms=NOW - 1, valid_until_ms=NOW + 86_400_000))
    return zones


SIZES = {"demo (3 drones, 24 patrols, 20 sightings, 4 zones)": (3, 24, 20, 10, 4),
         "city (200 drones, 1000 patrols, 500 sightings, 100 zones)": (200, 1000, 500, 100, 100)}


def main():
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp, EmbeddedRedis(Path(tmp), persistent=False) as server:
        client = connect(server.url)
        for n, (label, (d, p, s, a, z)) in enumerate(SIZES.items()):
            snap = picture(rng, d, p, s, a)
            zones = many_zones(z)
            pure = median_ms(lambda: evaluate(snap, zones, NOW), 50)
            site = f"bench{n}"
            keys = Keys(site)
            for zone in zones:
                save_zone(client, keys, zone)
            pipe = client.pipeline(transaction=False)
            for name, idf, hkey in (("drones", "drone_id", keys.drones), ("patrols", "patrol_id", keys.patrols),
                                    ("sightings", "sighting_id", keys.sightings),
                                    ("assignments", "assignment_id", keys.assignments_open)):
                for u in snap[name]:
                    pipe.hset(hkey, u[idf], orjson.dumps(u))
            pipe.execute()
            settings = Settings.from_env({"REDIS_URL": server.url, "DISPATCH_SITE": site})
            watcher = AlertWatcher(settings, clock=lambda: NOW, client=client)
            first = watcher.tick()
            tick = median_ms(watcher.tick, 30)
            print(f"{label}: evaluate {pure:.2f} ms, whole tick {tick:.2f} ms (median); "
                  f"{len(first.raised)} alerts open")
        client.close()


if __name__ == "__main__":
    main()
