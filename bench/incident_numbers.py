"""Cost of incident numbers in the ingest step, on a private redis-server (never the machine's): prints medians.

    .venv/bin/python bench/incident_numbers.py [--batches 40] [--runs 5]

Each run ingests batches of 500 entries through the real ingest step (IngestScript), alternating
the step before numbers existed (git e9a5641, the branch's base) and the numbered one, on fresh
sites, so drift on a shared machine hits both. Two mixes: all new sightings (every one takes a
number: worst case) and the demo's shape (telemetry with one new sighting in 100).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import module_at  # noqa: E402
from dispatch.domain.batch import RawEntry, plan_batch  # noqa: E402
from dispatch.keys import Keys  # noqa: E402
from dispatch.store import scripts  # noqa: E402
from dispatch.store.connection import connect  # noqa: E402
from dispatch.store.embedded import EmbeddedRedis  # noqa: E402

BASE = "e9a5641"
BATCH = 500


def batches(count: int, sighting_every: int) -> list:
    """Plans of BATCH entries; one entry in `sighting_every` a new sighting, the others telemetry."""
    plans, n, received = [], 0, int(time.time() * 1000)
    for b in range(count):
        entries = []
        for i in range(BATCH):
            n += 1
            ts = str(received).encode()
            if n % sighting_every == 0:
                entries.append(RawEntry("sighting", f"{received}-{n}", {
                    b"sighting_id": f"sight-{n:08d}".encode(), b"ts": ts, b"drone_id": b"DR-07",
                    b"operator_id": b"OP-1", b"category": b"deal", b"lat": b"48.11", b"lon": b"-1.68",
                    b"priority": b"1"}))
            else:
                entries.append(RawEntry("telemetry", f"{received}-{n}", {
                    b"drone_id": f"DR-{i % 200:02d}".encode(), b"ts": str(received + b).encode(), b"lat": b"48.11",
                    b"lon": b"-1.68", b"alt_m": b"80", b"heading_deg": b"90", b"speed_mps": b"6", b"battery_pct": b"80"}))
        plans.append(plan_batch(entries, zone="Europe/Paris"))
    return plans


def run(client, module, site: str, plans) -> float:
    """Median ms per batch."""
    step = module.IngestScript(client, Keys(site), live_maxlen=100_000)
    times = []
    for plan in plans:
        start = time.perf_counter()
        step(plan)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    variants = (("before numbers", module_at(BASE, "dispatch/store/scripts.py")), ("with numbers", scripts))
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(Path(tmp), persistent=False).start()
        try:
            client = connect(server.url)
            for mix, every in (("all new sightings", 1), ("telemetry + 1 % new sightings", 100)):
                plans = batches(args.batches, every)
                medians = {label: [] for label, _ in variants}
                for r in range(args.runs):
                    for label, module in variants:
                        medians[label].append(run(client, module, f"bench-{every}-{label[:4]}-{r}", plans))
                for label, values in medians.items():
                    print(f"{mix:32s} {label:15s} {statistics.median(values):7.2f} ms per batch of {BATCH} "
                          f"(median of {args.runs} runs)")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
