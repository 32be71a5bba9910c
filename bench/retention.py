"""Retention and audit costs, on a private redis-server (never the machine's): prints medians.

    .venv/bin/python bench/retention.py

1. assign(): latency with the audit entry in the same Lua script vs the HEAD version without it.
2. One retention run: removing a week-old backlog of N entries, approximate vs exact; steady state.
3. Picture cleanup of 10,000 old units.
4. Reading the audit trail and exporting it as CSV; the auditor's page's list.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent if (Path(__file__).parent / "dispatch").exists() else Path("/work/main")
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402

from bench.common import module_at  # noqa: E402
from dispatch.domain.audit import make_entry, to_fields  # noqa: E402
from dispatch.domain.batch import RawEntry, plan_batch  # noqa: E402
from dispatch.domain.retention import DAY_MS, retention_table  # noqa: E402
from dispatch.keys import Keys  # noqa: E402
from dispatch.settings import Settings  # noqa: E402
from dispatch.store import assignments  # noqa: E402
from dispatch.store.audit import export_csv, read  # noqa: E402
from dispatch.store.connection import connect  # noqa: E402
from dispatch.store.embedded import EmbeddedRedis  # noqa: E402
from dispatch.store.retention import apply_retention  # noqa: E402
from dispatch.store.scripts import IngestScript  # noqa: E402

REPEATS = 5


def now_ms() -> int:
    return int(time.time() * 1000)


def scene(client, keys, patrols: int, sightings: int) -> None:
    received = now_ms()
    entries = [RawEntry("patrol", f"{received}-{i}", {b"patrol_id": f"BAC-{i}".encode(), b"ts": str(received - 5000).encode(),
                                                       b"lat": b"48.11", b"lon": b"-1.68", b"status": b"available"})
               for i in range(patrols)]
    entries += [RawEntry("sighting", f"{received}-{patrols + i}", {
        b"sighting_id": f"sight-{i:06d}".encode(), b"ts": str(received - 5000).encode(), b"drone_id": b"DR-07",
        b"operator_id": b"OP-1", b"category": b"deal", b"lat": b"48.11", b"lon": b"-1.68", b"priority": b"1"})
        for i in range(sightings)]
    IngestScript(client, keys, live_maxlen=100_000)(plan_batch(entries))


def bench_assign(client, site_number: int, repeats: int = 9) -> None:
    """HEAD and the audited version alternate run by run, so drift on a shared machine hits both."""
    head = module_at("HEAD", "dispatch/store/assignments.py")
    n = 2_000
    variants = (("HEAD (no audit)", head), ("with audit", assignments))
    medians: dict[str, list[float]] = {label: [] for label, _ in variants}
    for repeat in range(repeats):
        for label, module in variants:
            keys = Keys(f"bench-assign-{site_number}-{label[:4]}-{repeat}")
            scene(client, keys, n, n)
            times = []
            for i in range(n):
                start = time.perf_counter()
                module.assign(client, keys, sighting_id=f"sight-{i:06d}", patrol_id=f"BAC-{i}", supervisor_id="SUP-1")
                times.append(time.perf_counter() - start)
            medians[label].append(statistics.median(times) * 1e6)
    for label, runs in medians.items():
        print(f"  assign, {label:16s}: median {statistics.median(runs):7.1f} µs per call "
              f"(runs: {', '.join(f'{m:.0f}' for m in runs)})")
    diffs = [b - a for a, b in zip(*medians.values())]
    print(f"  audit cost per assign, median of paired differences: {statistics.median(diffs):+.1f} µs")


def fill_streams(client, keys, settings, entries: int) -> None:
    base = now_ms() - settings.retention_ms - DAY_MS
    pipe = client.pipeline(transaction=False)
    for i in range(entries):
        pipe.xadd(keys.in_telemetry, {"drone_id": "DR-07", "ts": base + i, "lat": 48.11, "lon": -1.68},
                  id=f"{base + i // 10}-{i % 10}")
        if len(pipe) >= 5_000:
            pipe.execute()
    for i in range(1_000):
        pipe.xadd(keys.in_telemetry, {"drone_id": "DR-07", "ts": 1, "lat": 48.11, "lon": -1.68}, id=f"{now_ms() - 60_000 + i}-0")
    pipe.execute()


def bench_retention(client, settings) -> None:
    for entries in (100_000, 1_000_000):
        for exact in (False, True):
            results = []
            for repeat in range(REPEATS if entries <= 100_000 else 3):
                keys = Keys(f"bench-ret-{entries}-{exact}-{repeat}")
                fill_streams(client, keys, settings, entries)
                rules = retention_table(keys, settings)
                start = time.perf_counter()
                report = apply_retention(client, keys, rules, now_ms(), exact=exact)
                results.append((time.perf_counter() - start, report.counts["in_telemetry"], client.xlen(keys.in_telemetry)))
                client.delete(*[rule.key for rule in rules])
            seconds = statistics.median(r[0] for r in results)
            print(f"  run removing {entries:>9,} old entries, {'exact' if exact else 'approximate':11s}: "
                  f"median {seconds * 1000:8.1f} ms; removed {results[0][1]:,}, left {results[0][2]:,} (1,000 young)")
    # The longest single command: one approximate XTRIM call vs one exact XTRIM.
    for exact in (False, True):
        keys = Keys(f"bench-one-{exact}")
        fill_streams(client, keys, settings, 1_000_000)
        cutoff = now_ms() - settings.retention_ms
        start = time.perf_counter()
        if exact:
            client.xtrim(keys.in_telemetry, minid=cutoff, approximate=False)
        else:
            client.xtrim(keys.in_telemetry, minid=cutoff, approximate=True, limit=10_000)
        print(f"  one XTRIM over a 1,000,000 backlog, {'exact' if exact else 'approximate, LIMIT 10000'}: "
              f"{(time.perf_counter() - start) * 1000:.1f} ms (Redis blocked that long)")
        client.delete(keys.in_telemetry)
    steady = []
    keys = Keys("bench-steady")
    scene(client, keys, 200, 5_000)
    rules = retention_table(keys, settings)
    for _ in range(REPEATS * 4):
        start = time.perf_counter()
        apply_retention(client, keys, rules, now_ms())
        steady.append(time.perf_counter() - start)
    print(f"  steady-state run (nothing to remove; 200 patrols, 5,000 sightings): median "
          f"{statistics.median(steady) * 1000:.1f} ms")


def bench_picture(client, settings) -> None:
    times = []
    for repeat in range(REPEATS):
        keys = Keys(f"bench-pic-{repeat}")
        old = now_ms() - settings.retention_ms - DAY_MS
        pipe = client.pipeline(transaction=False)
        for i in range(10_000):
            unit = {"sighting_id": f"sight-{i:06d}", "ts": old}
            pipe.hset(keys.sightings, unit["sighting_id"], orjson.dumps(unit))
            pipe.hset(keys.sightings_ts, unit["sighting_id"], old)
        pipe.execute()
        rules = retention_table(keys, settings)
        start = time.perf_counter()
        report = apply_retention(client, keys, rules, now_ms(), exact=True)
        times.append(time.perf_counter() - start)
        assert report.counts["sightings"] == 10_000
    print(f"  dropping 10,000 old sightings (+ ts, tombstones): median {statistics.median(times) * 1000:.1f} ms")


def bench_audit_read(client) -> None:
    keys = Keys("bench-audit")
    base = now_ms() - 100_000
    pipe = client.pipeline(transaction=False)
    for i in range(100_000):
        entry = make_entry(ts=base + i, actor=f"SUP-{i % 7}", role="supervisor", action="assignment_created",
                           target=f"asg-{i:08d}", origin="10.0.0.1", details={"patrol_id": "BAC-12", "sighting_id": "sight-000001"})
        pipe.xadd(keys.audit, to_fields(entry), id=f"{base + i}-0")
        if len(pipe) >= 5_000:
            pipe.execute()
    pipe.execute()
    reads, exports, filtered = [], [], []
    for _ in range(REPEATS):
        start = time.perf_counter()
        got = len(read(client, keys, limit=200_000))
        assert got == client.xlen(keys.audit) >= 100_000  # + one export entry per repeat
        reads.append(time.perf_counter() - start)
        start = time.perf_counter()
        out = export_csv(client, keys, actor="AUD-1", role="auditor", to_ms=base + 100_000)
        exports.append(time.perf_counter() - start)
        assert out.rows == 100_000, out.rows
        start = time.perf_counter()
        read(client, keys, filters=__import__("dispatch.domain.audit", fromlist=["AuditFilter"]).AuditFilter.of(actor="SUP-3"), limit=200_000)
        filtered.append(time.perf_counter() - start)
    from dispatch.domain.audit import AuditFilter
    from dispatch.ui.pages.audit.logic import Viewer, show_entries, table_rows

    pages, rare = [], []
    viewer = Viewer("AUD-1", "auditor", "10.0.0.2")
    for _ in range(REPEATS):
        start = time.perf_counter()
        shown = show_entries(client, keys, AuditFilter(), viewer, now_ms=now_ms())
        table_rows(shown.entries, now_ms=now_ms(), tz="Europe/Paris")
        pages.append(time.perf_counter() - start)
        start = time.perf_counter()
        show_entries(client, keys, AuditFilter.of(target="asg-00000042"), viewer, now_ms=now_ms())
        rare.append(time.perf_counter() - start)
    print(f"  auditor's page, newest 500 rows of 100,000 (read, audit_viewed entry, rows): median "
          f"{statistics.median(pages) * 1000:.1f} ms; one rare target (scans the whole trail): "
          f"{statistics.median(rare) * 1000:.0f} ms")
    print(f"  read 100,000 audit entries: median {statistics.median(reads) * 1000:.0f} ms; "
          f"filtered by actor (scan all): {statistics.median(filtered) * 1000:.0f} ms; "
          f"CSV export of all: {statistics.median(exports) * 1000:.0f} ms ({len(out.text) / 1e6:.1f} MB)")


def main() -> None:
    settings = Settings()
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(Path(tmp), persistent=False).start()
        try:
            client = connect(server.url)
            print("1. assign() latency, 2,000 calls per run, median of runs")
            bench_assign(client, 1)
            print("2. retention run")
            bench_retention(client, settings)
            print("3. picture cleanup")
            bench_picture(client, settings)
            print("4. audit trail reading")
            bench_audit_read(client)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
