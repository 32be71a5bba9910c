"""After-action replay of a big shift: load, seek, payload, memory, against a naive full scan.

    .venv/bin/python bench/replay.py [--hours 8] [--drones 50] [--patrols 500] [--patrol-interval-s 50]
                                     [--before <git revision>]

Starts a private redis-server (no persistence) and writes a shift into the
real streams, in time order, with explicit ids equal to each message's ts
(`<ms>-<seq>`), by pipelined XADD: drones orbiting their zones at 1 Hz,
patrols moving about and reporting every `--patrol-interval-s`, sightings
about one a minute, each dispatched through the whole assignment lifecycle
(some cancelled and reassigned), low-battery alerts, and 0.1 % malformed
telemetry dead-lettered as ingest would. The ingest group is then created at
the end of each input stream: everything counts as judged, as after a
normal shift.

Defaults give 8 h x 50 drones x 3600 = 1.44 M drone positions and 500 patrols
x 576 = 0.29 M patrol reports (1.73 M positions, the issue's figure; a patrol
reporting every 5 s would be 2.88 M on its own: try --patrol-interval-s 5).

Reports: load time of the whole window (XRANGE + conversion + index), the
time to compute the picture at random instants (target: median under 50 ms),
the frame payload's JSON size (target: under 300 kB), memory (tracemalloc
peak of one load, and the History's frames), the same seeks by a naive fold
of every message up to t (picture.apply, as replay would without an index),
and the figures and exports. Medians and 95th percentiles; the machine is noisy.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib.util
import subprocess
import pickle
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import orjson  # noqa: E402

from bench.common import p95  # noqa: E402
from dispatch.domain.models import PatrolReport, Sighting, Telemetry  # noqa: E402
from dispatch.domain.replay.history import History, frame_payload, naive_picture_at  # noqa: E402
from dispatch.domain.replay.export import export_csv, export_geojson  # noqa: E402
from dispatch.domain.replay.metrics import (  # noqa: E402
    heatmap, response_summary, response_times, sightings_per_category, utilisation,
)
from dispatch.keys import INGEST_GROUP, Keys  # noqa: E402
from dispatch.store.connection import connect  # noqa: E402
from dispatch.store.embedded import EmbeddedRedis  # noqa: E402
from dispatch.store import history as history_store  # noqa: E402
from dispatch.store.history import load_window  # noqa: E402
from dispatch.domain.replay.progressive import Checkpoints  # noqa: E402

SHIFT_START = 1_773_518_400_000  # 2026-03-14 20:00 UTC
RENNES = (48.1113, -1.6800)
M_PER_DEG = 111_320.0
TARGET_SEEK_MS = 50.0
TARGET_PAYLOAD_KB = 300.0
CATEGORIES = ["lookout", "deal", "vehicle", "gathering", "other"]
NOTES = ["Groupe devant l'entrée du hall B", "Véhicule stationné moteur allumé", "Échanges répétés au pied de l'escalier",
         "Guetteur à l'angle de la rue", ""]
OUTCOMES = ["nothing_found", "dispersed", "vehicle_checked", "arrest", "other"]


# ----------------------------------------------------------------------------- the shift, vectorised


def drone_rows(args, rng: np.random.Generator) -> dict[str, np.ndarray]:
    seconds = np.arange(int(args.hours * 3600))
    n = args.drones
    center_lat = RENNES[0] + rng.uniform(-0.06, 0.06, n)
    center_lon = RENNES[1] + rng.uniform(-0.09, 0.09, n)
    radius = rng.uniform(150, 600, n)
    speed = rng.uniform(8, 14, n)
    phase = rng.uniform(0, 2 * np.pi, n)
    theta = phase[:, None] + (speed / radius)[:, None] * seconds[None, :]
    cos_lat = np.cos(np.radians(center_lat))[:, None]
    cycle = (seconds[None, :] + rng.integers(0, 2400, n)[:, None]) % 2400  # a battery swap every 40 min
    return {
        "drone": np.repeat(np.arange(n), len(seconds)),
        "ts": (SHIFT_START + seconds[None, :] * 1000 + (np.arange(n) * 20)[:, None]).ravel(),
        "lat": (center_lat[:, None] + radius[:, None] * np.cos(theta) / M_PER_DEG).ravel(),
        "lon": (center_lon[:, None] + radius[:, None] * np.sin(theta) / (M_PER_DEG * cos_lat)).ravel(),
        "alt": np.repeat(rng.uniform(80, 120, n), len(seconds)),
        "heading": ((np.degrees(theta) + 90) % 360).ravel(),
        "speed": np.repeat(speed, len(seconds)),
        "battery": (100 - 80 * cycle / 2400).ravel(),
    }


def dispatch_plan(args, rng: np.random.Generator, drones: dict) -> tuple[list, list, list]:
    """Sightings and their assignment events, patrols picked among the free ones."""
    shift_ms = int(args.hours * 3_600_000)
    count = int(args.hours * args.sightings_per_hour)
    sightings, events = [], []
    busy_until = np.zeros(args.patrols, dtype=np.int64)
    intervals: list[tuple[int, int, int, list]] = []  # patrol, start, end, [(ts, status)]
    for ts in np.sort(rng.integers(SHIFT_START + 60_000, SHIFT_START + shift_ms - 60_000, count)):
        ts = int(ts)
        drone = int(rng.integers(args.drones))
        row = drone * (len(drones["ts"]) // args.drones) + (ts - SHIFT_START) // 1000
        sighting_id = uuid.UUID(int=int(rng.integers(2**62))).hex
        priority = int(rng.choice([1, 2, 3], p=[0.2, 0.5, 0.3]))
        sightings.append({
            "sighting_id": sighting_id, "ts": ts, "drone_id": f"DR-{drone}", "operator_id": f"OP-{drone % 12}",
            "category": str(rng.choice(CATEGORIES, p=[0.25, 0.3, 0.2, 0.15, 0.1])),
            "lat": float(drones["lat"][row] + rng.normal(0, 0.001)), "lon": float(drones["lon"][row] + rng.normal(0, 0.0015)),
            "priority": priority, "note": str(rng.choice(NOTES)),
        })
        t = ts + int(rng.uniform(15, 90 if priority == 1 else 240) * 1000)
        for attempt in range(2):
            free = np.flatnonzero(busy_until < t)
            if not len(free):
                break
            patrol = int(rng.choice(free))
            asg = {"assignment_id": uuid.UUID(int=int(rng.integers(2**62))).hex, "sighting_id": sighting_id,
                   "patrol_id": f"BAC-{patrol}", "supervisor_id": f"SUP-{patrol % 3 + 1}", "assigned_ts": t}
            steps = [("assigned", t, "SUP", "created")]
            cancel = attempt == 0 and rng.random() < 0.1
            if cancel:
                end = t + int(rng.uniform(30, 300) * 1000)
                steps.append(("cancelled", end, "SUP", "cancelled"))
            else:
                now = t
                if rng.random() < 0.95:
                    now += int(rng.uniform(5, 40) * 1000)
                    steps.append(("acknowledged", now, "PATROL", "acknowledged"))
                now += int(rng.uniform(5, 60) * 1000)
                steps.append(("en_route", now, "PATROL", "en_route"))
                now += int(rng.uniform(120, 600) * 1000)
                steps.append(("on_scene", now, "PATROL", "on_scene"))
                end = now + int(rng.uniform(300, 1200) * 1000)
                steps.append(("cleared", end, "PATROL", "cleared"))
            busy_until[patrol] = end
            status_steps = []
            for state, step_ts, who, event in steps:
                fields = {**asg, "ts": step_ts, "state": state,
                          "actor": asg["supervisor_id"] if who == "SUP" else asg["patrol_id"],
                          "role": "supervisor" if who == "SUP" else "patrol", "event": event}
                if state == "cleared":
                    fields["outcome"] = str(rng.choice(OUTCOMES))
                events.append(fields)
                status_steps.append((step_ts, {"acknowledged": "assigned", "cleared": "available",
                                               "cancelled": "available"}.get(state, state)))
            intervals.append((patrol, t, end, status_steps))
            if not cancel:
                break
            t = end  # reassigned at the very instant of the cancellation
    return sightings, events, intervals


def patrol_rows(args, rng: np.random.Generator, intervals: list) -> dict[str, np.ndarray]:
    step_ms = int(args.patrol_interval_s * 1000)
    times = np.arange(0, int(args.hours * 3_600_000), step_ms)
    n = args.patrols
    base_lat = RENNES[0] + rng.uniform(-0.07, 0.07, n)
    base_lon = RENNES[1] + rng.uniform(-0.1, 0.1, n)
    fx, fy = rng.uniform(1e-4, 4e-4, n), rng.uniform(1e-4, 4e-4, n)
    ts = SHIFT_START + times[None, :] + (np.arange(n) * (step_ms // n or 1))[:, None]
    seconds = (ts - SHIFT_START) / 1000
    status = np.zeros(ts.shape, dtype=np.int64)  # 0 available
    breaks = rng.integers(SHIFT_START, SHIFT_START + int(args.hours * 3_600_000), n)
    status[(ts >= breaks[:, None]) & (ts < breaks[:, None] + 1_800_000)] = 4  # 30 min unavailable
    names = ["available", "assigned", "en_route", "on_scene", "unavailable"]
    for patrol, _, _, steps in intervals:  # while assigned, the tablet reports what the assignment implies
        for (step_ts, shown), (next_ts, _) in zip(steps, steps[1:]):
            status[patrol, (ts[patrol] >= step_ts) & (ts[patrol] < next_ts)] = names.index(shown)
    return {
        "patrol": np.repeat(np.arange(n), len(times)), "ts": ts.ravel(),
        "lat": (base_lat[:, None] + 0.004 * np.sin(fx[:, None] * seconds)).ravel(),
        "lon": (base_lon[:, None] + 0.006 * np.cos(fy[:, None] * seconds)).ravel(),
        "status": np.array(names)[status.ravel()],
    }


def alert_rows(drones: dict, n_drones: int) -> list[dict]:
    """Low battery raised when a drone crosses 25 %, resolved at its battery swap."""
    alerts = []
    battery, ts = drones["battery"].reshape(n_drones, -1), drones["ts"].reshape(n_drones, -1)
    for drone in range(n_drones):
        low = battery[drone] < 25
        edges = np.flatnonzero(np.diff(low.astype(np.int8)))
        for edge in edges:
            raised = bool(low[edge + 1])
            alert = {"alert_id": f"low_battery:DR-{drone}", "kind": "low_battery", "unit_id": f"DR-{drone}",
                     "severity": "warning", "message": f"DR-{drone} battery low", "since_ms": int(ts[drone, edge + 1]),
                     "state": "raised"}
            alerts.append({"event": "raised" if raised else "resolved", "alert_id": alert["alert_id"],
                           "ts": int(ts[drone, edge + 1]), "alert": orjson.dumps(alert)})
    return sorted(alerts, key=lambda a: a["ts"])


def stream_ids(ts: np.ndarray) -> list[str]:
    """`<ms>-<seq>` ids for rows sorted by ts: seq counts rows sharing a millisecond."""
    ts = np.asarray(ts, dtype=np.int64)
    starts = np.r_[0, np.flatnonzero(np.diff(ts)) + 1]
    seq = np.arange(len(ts)) - np.repeat(starts, np.diff(np.r_[starts, len(ts)]))
    return [f"{t}-{s}" for t, s in zip(ts.tolist(), seq.tolist())]


def write(client, key: str, ids: list[str], rows: list[list], batch: int = 5_000) -> None:
    pipe = client.pipeline(transaction=False)
    for entry_id, fields in zip(ids, rows):
        pipe.execute_command("XADD", key, entry_id, *fields)
        if len(pipe) >= batch:
            pipe.execute()
    pipe.execute()


def add_shift_arguments(parser) -> None:
    """The shift `fill` writes: bench/replay.py, bench/replay_workers.py and bench/export.py take the same."""
    parser.add_argument("--hours", type=float, default=8)
    parser.add_argument("--drones", type=int, default=50)
    parser.add_argument("--patrols", type=int, default=500)
    parser.add_argument("--patrol-interval-s", type=float, default=50)
    parser.add_argument("--sightings-per-hour", type=float, default=60)


def fill(client, keys: Keys, args) -> dict:
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    drones = drone_rows(args, rng)
    sightings, events, intervals = dispatch_plan(args, rng, drones)
    patrols = patrol_rows(args, rng, intervals)
    alerts = alert_rows(drones, args.drones)
    generated = time.perf_counter() - started

    order = np.argsort(drones["ts"], kind="stable")
    bad = set(rng.choice(len(order), len(order) // 1000, replace=False).tolist())
    rows, dead = [], []
    ids = stream_ids(drones["ts"][order])
    columns = [drones[name][order].tolist() for name in ("drone", "ts", "lat", "lon", "alt", "heading", "speed",
                                                           "battery")]
    for i, (d, ts, lat, lon, alt, heading, speed, battery) in enumerate(zip(*columns)):
        lat_text = f"{lat:.6f}".replace(".", ",") if i in bad else f"{lat:.6f}"
        fields = ["drone_id", f"DR-{d}", "ts", ts, "lat", lat_text, "lon", f"{lon:.6f}", "alt_m", f"{alt:.1f}",
                  "heading_deg", f"{heading:.1f}", "speed_mps", f"{speed:.1f}", "battery_pct", f"{battery:.1f}"]
        rows.append(fields)
        if i in bad:
            dead.append(["source", "telemetry", "entry_id", ids[i], "reason", f"lat: not a number: '{lat_text}'",
                         *[f"f:{v}" if j % 2 == 0 else v for j, v in enumerate(fields)]])
    write(client, keys.in_telemetry, ids, rows)
    # Ingest dead-letters an entry a few milliseconds after it arrives.
    write(client, keys.deadletter, stream_ids([int(ids[b].split("-")[0]) + 5 for b in sorted(bad)]), dead)

    order = np.argsort(patrols["ts"], kind="stable")
    columns = [patrols[name][order].tolist() for name in ("patrol", "ts", "lat", "lon", "status")]
    write(client, keys.in_patrols, stream_ids(patrols["ts"][order]),
          [["patrol_id", f"BAC-{p}", "ts", ts, "lat", f"{lat:.6f}", "lon", f"{lon:.6f}", "status", status]
           for p, ts, lat, lon, status in zip(*columns)])
    write(client, keys.in_sightings, stream_ids([s["ts"] for s in sightings]),
          [[x for name, value in s.items() for x in (name, value)] for s in sightings])
    events.sort(key=lambda e: e["ts"])
    write(client, keys.assignments, stream_ids([e["ts"] for e in events]),
          [[x for name, value in e.items() for x in (name, value)] for e in events])
    write(client, keys.alerts, stream_ids([a["ts"] for a in alerts]),
          [[x for name, value in a.items() for x in (name, value)] for a in alerts])
    for stream in keys.inputs.values():
        client.xgroup_create(stream, INGEST_GROUP, id="$")
    return {"generated_s": generated, "written_s": time.perf_counter() - started - generated,
            "telemetry": len(drones["ts"]), "patrols": len(patrols["ts"]), "sightings": len(sightings),
            "assignment_events": len(events), "alerts": len(alerts), "malformed": len(bad),
            "drones": drones, "patrol_rows": patrols, "sighting_rows": sightings, "bad": bad, "order": order}


def naive_messages(shift: dict, args) -> list:
    """Every accepted position and sighting as a model, in arrival order (ids = ts: sorted by ts)."""
    d, p = shift["drones"], shift["patrol_rows"]
    order = np.argsort(d["ts"], kind="stable")
    bad = shift["bad"]
    messages = []
    for i, (drone, ts, lat, lon, alt, heading, speed, battery) in enumerate(zip(
            *[d[name][order].tolist() for name in ("drone", "ts", "lat", "lon", "alt", "heading", "speed",
                                                    "battery")])):
        if i not in bad:
            messages.append(Telemetry.model_construct(
                drone_id=f"DR-{drone}", ts=ts, lat=float(f"{lat:.6f}"), lon=float(f"{lon:.6f}"),
                alt_m=float(f"{alt:.1f}"), heading_deg=float(f"{heading:.1f}"), speed_mps=float(f"{speed:.1f}"),
                battery_pct=float(f"{battery:.1f}")))
    for patrol, ts, lat, lon, status in zip(*[p[name].tolist() for name in ("patrol", "ts", "lat", "lon", "status")]):
        messages.append(PatrolReport.model_construct(patrol_id=f"BAC-{patrol}", ts=ts, lat=float(f"{lat:.6f}"),
                                                     lon=float(f"{lon:.6f}"), status=status))
    messages.extend(Sighting.model_construct(**s) for s in shift["sighting_rows"])
    messages.sort(key=lambda m: m.ts)  # stable: equal ts keep stream order
    return messages


def loader_at(revision: str):
    """store/history.py as at `revision`, importable beside today's (its dataclasses need it in sys.modules)."""
    source = subprocess.run(["git", "show", f"{revision}:dispatch/store/history.py"], cwd=Path(__file__).parent,
                            check=True, capture_output=True, text=True).stdout
    name = f"dispatch.store.history_at_{revision}"
    spec = importlib.util.spec_from_loader(name, loader=None)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "dispatch.store"
    sys.modules[name] = module
    exec(compile(source, f"<{revision}:dispatch/store/history.py>", "exec"), module.__dict__)
    return module


def progressive_load(client, keys: Keys, from_ms: int, to_ms: int) -> dict:
    """One load with prefixes at the page's pace (Checkpoints()), each pickled as web/replay_cache.py does."""
    started = time.perf_counter()
    prefixes = []

    def follow(report) -> None:
        if report.prefix is not None:
            began = time.perf_counter()
            pickle.dumps(report.prefix, protocol=pickle.HIGHEST_PROTOCOL)
            prefixes.append((began - started, time.perf_counter() - began, report.prefix.loaded_until_ms))

    history = load_window(client, keys, from_ms, to_ms, progress=follow, prefixes=Checkpoints())
    total = time.perf_counter() - started
    first = prefixes[0] if prefixes else (total, 0.0, to_ms)
    return {"first_ms": (first[0] + first[1]) * 1000, "first_until_ms": first[2] - from_ms, "total_ms": total * 1000,
            "prefixes": len(prefixes),
            "prefix_ms": history.stats.get("prefix_ms", 0)}  # (building and handing over: the pickling included)


def timed(call):
    started = time.perf_counter()
    result = call()
    return (time.perf_counter() - started) * 1000, result


def main() -> None:
    parser = argparse.ArgumentParser(description="After-action replay of a big shift.")
    add_shift_arguments(parser)
    parser.add_argument("--loads", type=int, default=3)
    parser.add_argument("--seeks", type=int, default=200)
    parser.add_argument("--naive-seeks", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--before", default="", help="a git revision: its load_window measured too, interleaved")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    from_ms, to_ms = SHIFT_START, SHIFT_START + int(args.hours * 3_600_000)

    # --before REV: the loader as it was at REV, loads interleaved with today's (the machine is noisy)
    before = loader_at(args.before) if args.before else None
    with EmbeddedRedis(Path(tempfile.mkdtemp(prefix="bench-replay-")), persistent=False) as server:
        client = connect(server.url)
        keys = Keys("bench")
        shift = fill(client, keys, args)
        print(f"shift: {args.hours:g} h, {shift['telemetry']:,} drone positions ({args.drones} drones at 1 Hz), "
              f"{shift['patrols']:,} patrol reports ({args.patrols} patrols every {args.patrol_interval_s:g} s), "
              f"{shift['sightings']} sightings, {shift['assignment_events']} assignment events, "
              f"{shift['alerts']} alert events, {shift['malformed']} malformed (dead-lettered)")
        print(f"generated in {shift['generated_s']:.1f} s, written (pipelined XADD) in {shift['written_s']:.1f} s; "
              f"redis used_memory {client.info('memory')['used_memory_human']}")

        load_ms, calls, before_ms = [], [], []
        for _ in range(args.loads):
            if before is not None:
                gc.collect()
                before_ms.append(timed(lambda: before.load_window(client, keys, from_ms, to_ms))[0])
            gc.collect()
            progress = []
            elapsed, history = timed(lambda: load_window(client, keys, from_ms, to_ms, progress=progress.append))
            load_ms.append(elapsed)
            calls.append(progress)
        stats = history.stats
        prefix_runs = []
        for _ in range(args.loads):  # issue 15: the page's first frame comes from the first prefix
            gc.collect()
            prefix_runs.append(progressive_load(client, keys, from_ms, to_ms))
        pause = history_store._cyclic_gc_paused
        history_store._cyclic_gc_paused = contextlib.nullcontext  # the same load, the cyclic GC left running
        try:
            gc.collect()
            with_gc, _ = timed(lambda: load_window(client, keys, from_ms, to_ms))
        finally:
            history_store._cyclic_gc_paused = pause
        index_ms = [timed(lambda: History(history.telemetry, history.patrol_reports, history.sightings,
                                          history.assignments, history.alerts, history.bounds))[0]
                    for _ in range(3)]
        print(f"load_window (XRANGE in chunks + conversion + index), whole window: median {statistics.median(load_ms) / 1000:.2f} s "
              f"(runs: {', '.join(f'{m / 1000:.2f}' for m in load_ms)}); {len(calls[-1])} progress calls, "
              f"fractions {calls[-1][0].fraction:.3f} .. {calls[-1][-1].fraction:.3f}, "
              f"estimate {calls[-1][0].entries_estimated:,} vs read {calls[-1][-1].entries_read:,}")
        if before_ms:
            print(f"load_window as at {args.before}, interleaved: median {statistics.median(before_ms) / 1000:.2f} s "
                  f"(runs: {', '.join(f'{m / 1000:.2f}' for m in before_ms)})")
        print(f"  of which building the index (History from the frames): median "
              f"{statistics.median(index_ms) / 1000:.2f} s; the same load with the cyclic GC left running: "
              f"{with_gc / 1000:.2f} s")
        print("  load stats: " + ", ".join(f"{k} {v:,}" for k, v in sorted(stats.items())))
        firsts = [run["first_ms"] for run in prefix_runs]
        print(f"progressive load (prefixes published and pickled as the web cache does, issue 15): first prefix "
              f"(the window's start) after median {statistics.median(firsts) / 1000:.2f} s (runs: "
              f"{', '.join(f'{m / 1000:.2f}' for m in firsts)}); whole load median "
              f"{statistics.median(r['total_ms'] for r in prefix_runs) / 1000:.2f} s with "
              f"{statistics.median(r['prefixes'] for r in prefix_runs):g} prefixes costing median "
              f"{statistics.median(r['prefix_ms'] for r in prefix_runs) / 1000:.2f} s (build + pickle); "
              f"loaded_until of the first: window start + "
              f"{statistics.median(r['first_until_ms'] for r in prefix_runs) / 1000:.0f} s")

        gc.collect()
        tracemalloc.start()
        load_window(client, keys, from_ms, to_ms)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        frames = sum(f.memory_usage(deep=True).sum() for f in (history.telemetry, history.patrol_reports,
                                                             history.sightings, history.assignments))
        print(f"memory: tracemalloc peak of one load {peak / 2**20:.0f} MiB; History frames {frames / 2**20:.0f} MiB")

        instants = [rng.randint(from_ms, to_ms) for _ in range(args.seeks)]
        history.picture_at(instants[0])
        seek_ms = [timed(lambda: history.picture_at(t))[0] for t in instants]
        page_ms, sizes = [], []
        for t in instants:
            elapsed, body = timed(lambda: orjson.dumps(frame_payload(history.picture_at(t))))
            page_ms.append(elapsed)
            sizes.append(len(body))
        seek = statistics.median(seek_ms)
        print(f"picture_at(t) at {args.seeks} random instants: median {seek:.2f} ms   p95 {p95(seek_ms):.2f} ms   "
              f"(target median under {TARGET_SEEK_MS:g} ms: {'met' if seek < TARGET_SEEK_MS else 'NOT met'})")
        print(f"picture_at + frame_payload + orjson.dumps: median {statistics.median(page_ms):.2f} ms   "
              f"p95 {p95(page_ms):.2f} ms")
        size_kb = statistics.median(sizes) / 1000
        print(f"frame payload (JSON): median {size_kb:.1f} kB   max {max(sizes) / 1000:.1f} kB   "
              f"(target under {TARGET_PAYLOAD_KB:g} kB: {'met' if max(sizes) / 1000 < TARGET_PAYLOAD_KB else 'NOT met'})")

        elapsed, messages = timed(lambda: naive_messages(shift, args))
        naive_ms, mismatches = [], 0
        for t in instants[:args.naive_seeks]:
            spent, folded = timed(lambda: naive_picture_at(messages, t))
            naive_ms.append(spent)
            picture = history.picture_at(t)
            got = {d["drone_id"]: (d["ts"], d["lat"], d["lon"]) for d in picture["drones"]}
            got |= {p["patrol_id"]: (p["ts"], p["lat"], p["lon"]) for p in picture["patrols"]}
            want = {k: (m.ts, m.lat, m.lon) for k, m in (folded.drones | folded.patrols).items()}
            mismatches += got != want
        naive = statistics.median(naive_ms)
        print(f"naive fold of every message up to t ({len(messages):,} models built in {elapsed / 1000:.1f} s, not "
              f"counted): median {naive:.0f} ms over {len(naive_ms)} seeks; ratio naive / picture_at "
              f"(medians) {naive / seek:,.0f}; pictures agree at {len(naive_ms) - mismatches}/{len(naive_ms)} instants")
        messages = None  # about a gigabyte of models: free it before the figures
        gc.collect()

        figures = {
            "response_times": lambda: response_times(history),
            "response_summary": lambda: response_summary(response_times(history), by="priority"),
            "sightings_per_category(15 min)": lambda: sightings_per_category(history, 900),
            "heatmap(250 m)": lambda: heatmap(history, 250),
            "utilisation": lambda: utilisation(history),
            "events": lambda: history.events(),
        }
        for name, call in figures.items():
            runs = [timed(call) for _ in range(3)]
            print(f"{name}: median {statistics.median(r[0] for r in runs):.0f} ms, {len(runs[0][1])} rows")
        elapsed, geojson = timed(lambda: orjson.dumps(export_geojson(history, max_points_per_track=2_000)))
        print(f"export_geojson (2,000 points per track) + dumps: {elapsed:.0f} ms, {len(geojson) / 1e6:.1f} MB")
        elapsed, geojson = timed(lambda: orjson.dumps(export_geojson(history)))
        print(f"export_geojson (every point) + dumps: {elapsed:.0f} ms, {len(geojson) / 1e6:.1f} MB")
        elapsed, csv = timed(lambda: export_csv(history))
        print(f"export_csv (every position): {elapsed / 1000:.1f} s, {len(csv) / 1e6:.0f} MB")
        client.close()


if __name__ == "__main__":
    main()
