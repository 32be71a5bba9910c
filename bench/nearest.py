"""Nearest available patrols: GEOSEARCH through store.nearest against a pandas scan.

    .venv/bin/python bench/nearest.py [--patrols 10000] [--targets 2000] [--k 5]

Starts a private redis-server, puts N available patrols uniformly over a 12 km
disc around Rennes (Rennes Métropole is about 700 km²), then for random
sighting positions over the inner 10 km times `nearest_available(..., k)` (one
GEOSEARCH round trip, more only if the first 3 km circle holds fewer than k)
and, in the same run, a plain pandas scan: haversine over a DataFrame of the
same patrols at the positions Redis stores (its 52-bit geohash cells), then
`nsmallest(k)`. Both must give the same patrols in the same order. Medians and
95th percentiles are quoted; the machine is noisy.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd  # noqa: E402

from bench.common import p95  # noqa: E402
from dispatch.domain.geo import destination, haversine_m  # noqa: E402
from dispatch.keys import Keys  # noqa: E402
from dispatch.store.connection import connect  # noqa: E402
from dispatch.store.embedded import EmbeddedRedis  # noqa: E402
from dispatch.store.nearest import nearest_available  # noqa: E402

RENNES = (48.1113, -1.6800)
PATROL_DISC_M = 12_000
TARGET_DISC_M = 10_000
TARGET_MEDIAN_MS = 2.0


def uniform_in_disc(rng: random.Random, radius_m: float) -> tuple[float, float]:
    lat, lon = destination(*RENNES, radius_m * math.sqrt(rng.random()), rng.uniform(0, 360))
    return float(lat), float(lon)


def load(client, keys: Keys, count: int, rng: random.Random) -> pd.DataFrame:
    ids = [f"P-{i}" for i in range(count)]
    values = []
    for patrol_id in ids:
        lat, lon = uniform_in_disc(rng, PATROL_DISC_M)
        values += [lon, lat, patrol_id]
    client.geoadd(keys.patrols_available, values)
    stored = client.geopos(keys.patrols_available, *ids)
    return pd.DataFrame({"patrol_id": ids, "lat": [p[1] for p in stored], "lon": [p[0] for p in stored]})


def pandas_nearest(frame: pd.DataFrame, lat: float, lon: float, k: int) -> list[str]:
    distances = frame.assign(distance_m=haversine_m(lat, lon, frame["lat"], frame["lon"]))
    return distances.nsmallest(k, "distance_m")["patrol_id"].tolist()


def timed(call) -> tuple[float, object]:
    start = time.perf_counter()
    result = call()
    return (time.perf_counter() - start) * 1000, result


def main() -> None:
    parser = argparse.ArgumentParser(description="nearest_available (GEOSEARCH) against a pandas scan.")
    parser.add_argument("--patrols", type=int, default=10_000)
    parser.add_argument("--targets", type=int, default=2_000)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    with EmbeddedRedis(Path(tempfile.mkdtemp(prefix="bench-redis-")), persistent=False) as server:
        client = connect(server.url)
        keys = Keys("bench")
        frame = load(client, keys, args.patrols, rng)
        targets = [uniform_in_disc(rng, TARGET_DISC_M) for _ in range(args.targets)]
        for lat, lon in targets[:50]:  # warm up: script cache, connection, numpy
            nearest_available(client, keys, lat, lon, k=args.k)
            pandas_nearest(frame, lat, lon, args.k)

        # One pass per method, so that neither runs with caches the other just filled or flushed.
        geo_ms, found = zip(*(timed(lambda: nearest_available(client, keys, lat, lon, k=args.k))
                              for lat, lon in targets))
        scan_ms, scanned = zip(*(timed(lambda: pandas_nearest(frame, lat, lon, args.k)) for lat, lon in targets))
        mismatches = sum([c.patrol_id for c in geo] != scan for geo, scan in zip(found, scanned))
        client.close()

    geo, scan = statistics.median(geo_ms), statistics.median(scan_ms)
    print(f"redis-server {server.url}: {args.patrols:,} available patrols over a {PATROL_DISC_M / 1000:g} km "
          f"disc around Rennes, {args.targets:,} targets, k={args.k}")
    print(f"nearest_available (GEOSEARCH): median {geo:.3f} ms   p95 {p95(geo_ms):.3f} ms")
    print(f"pandas haversine + nsmallest:  median {scan:.3f} ms   p95 {p95(scan_ms):.3f} ms")
    print(f"ratio pandas / GEOSEARCH (medians): {scan / geo:.1f}")
    print(f"same {args.k} patrols in the same order: {args.targets - mismatches}/{args.targets}")
    print(f"target median under {TARGET_MEDIAN_MS:g} ms: {'met' if geo < TARGET_MEDIAN_MS else 'NOT met'}")
    if mismatches:
        raise SystemExit(f"{mismatches} targets got different patrols from the two methods")


if __name__ == "__main__":
    main()
