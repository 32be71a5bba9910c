"""A full shift's CSV export, as the replay page asked for it before (one Dash answer) and now (a stream).

    .venv/bin/python bench/export.py [--hours 8] [--drones 50] [--patrols 500] [--runs 3] [--format csv]

Writes bench/replay.py's shift (1.73 M positions by default) into a private redis-server, then, for each
run, starts one fresh web process per path (a child of this script: create_app, a signed-in supervisor,
the window loaded through the page's own ReplayCache, shared through files like gunicorn's workers) and
measures in it:
- before: the Dash callback's work, `export_download` (still in ui/pages/replay/logic.py, unchanged: the
  path the page used until issue 15), then the callback's JSON answer carrying the file (dcc.Download);
  nothing leaves before all of it is built, so time to first byte = total time;
- after: GET /api/replay/export through Flask's test client with buffered=False, reading the streamed
  pieces as a browser's download would: time to the first non-empty piece, total time, bytes.
Peak memory is the web process's peak RSS during the export (VmHWM, reset before it through
/proc/self/clear_refs) minus its RSS just before: what the export adds to a worker that holds the
window already. Each path runs in its own process, so neither inherits the other's heap.
Medians over --runs; the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import orjson  # noqa: E402

from bench.common import web_stack_settings  # noqa: E402
from bench.replay import add_shift_arguments  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def rss_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(field)


def child(args) -> None:
    """One web process, one export; prints one JSON line."""
    from dispatch.keys import Keys
    from dispatch.store import accounts
    from dispatch.store.connection import connect
    from dispatch.ui.pages.replay import handlers, logic
    from dispatch.web.app import create_app
    from dispatch.web.auth import CSRF_COOKIE, SESSION_COOKIE
    from dispatch.web.replay_cache import Window

    settings = dataclasses.replace(web_stack_settings(args.redis_url, args.data_dir),
                                   retention_days=3650.0)  # the bench's shift is dated March 2026: keep it "retained"
    app = create_app(settings)
    redis_client = connect(args.redis_url)
    window = Window(settings.site, args.from_ms, args.to_ms)
    with app.server.test_request_context("/"):
        cache = handlers.cache()
        cache.open(window, "bench")
        status = cache.wait(window, 600)
        assert status is not None and status.state == "ready", status
        history = cache.history(window)
    client = app.server.test_client()
    keys = Keys(settings.site)
    session_id, identity = accounts.create_session(redis_client, keys, user_id="SUP-1", role="supervisor")
    client.set_cookie(SESSION_COOKIE, session_id, domain="localhost")
    client.set_cookie(CSRF_COOKIE, identity.csrf_token, domain="localhost")
    gc.collect()
    before_kb = rss_kb("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
    started = time.perf_counter()
    if args.child == "before":
        download, _ = logic.export_download(redis_client, keys, history, args.format,
                                            logic.Actor("SUP-1"), site=settings.site, tz=settings.timezone,
                                            now_ms=int(time.time() * 1000))
        answer = orjson.dumps({"multi": True, "response": {"rp-export-download": {"data": download}}})
        first = rows_at = total = time.perf_counter() - started
        size, raw = len(answer), len(download["content"])
    else:
        reply = client.get(f"/api/replay/export?fmt={args.format}&from={args.from_ms}&to={args.to_ms}",
                           buffered=False)
        assert reply.status_code == 200, reply.data[:300]
        first, size, rows_at = None, 0, None
        for piece in reply.response:
            if piece and first is None:
                first = time.perf_counter() - started
            elif piece and rows_at is None:
                rows_at = time.perf_counter() - started  # the header came first: here the first positions
            size += len(piece)
        total = time.perf_counter() - started
        reply.close()
        raw = size
    peak_kb = rss_kb("VmHWM")
    print(json.dumps({"first_s": first, "rows_s": rows_at or total, "total_s": total, "bytes": size, "file_bytes": raw,
                      "peak_mb": (peak_kb - before_kb) / 1024, "rss_mb": before_kb / 1024}))


def main() -> None:
    parser = argparse.ArgumentParser(description="Full-shift export: before (Dash answer) and after (stream).")
    add_shift_arguments(parser)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--format", choices=("csv", "geojson", "kml"), default="csv")
    parser.add_argument("--child", choices=("before", "after"))
    parser.add_argument("--redis-url")
    parser.add_argument("--data-dir")
    parser.add_argument("--from-ms", type=int)
    parser.add_argument("--to-ms", type=int)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    from bench.replay import SHIFT_START, fill
    from dispatch.keys import Keys
    from dispatch.store.connection import connect
    from dispatch.store.embedded import EmbeddedRedis

    from_ms, to_ms = SHIFT_START, SHIFT_START + int(args.hours * 3_600_000)
    data_dir = tempfile.mkdtemp(prefix="bench-export-data-")
    with EmbeddedRedis(Path(tempfile.mkdtemp(prefix="bench-export-")), persistent=False) as server:
        shift = fill(connect(server.url), Keys("bench"), args)
        print(f"shift: {args.hours:g} h, {shift['telemetry']:,} drone positions, {shift['patrols']:,} patrol "
              f"reports; written in {shift['written_s']:.1f} s")
        results: dict[str, list[dict]] = {"before": [], "after": []}
        for run in range(args.runs):
            for path in ("before", "after"):
                command = [sys.executable, __file__, "--child", path, "--format", args.format,
                           "--redis-url", server.url, "--data-dir", data_dir, "--from-ms", str(from_ms),
                           "--to-ms", str(to_ms)]
                done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                                      env={**os.environ, "PYTHONHASHSEED": "0"})
                if done.returncode:
                    sys.exit(f"{path} failed:\n{done.stderr[-3000:]}")
                out = done.stdout
                result = json.loads(out.strip().splitlines()[-1])
                results[path].append(result)
                print(f"run {run + 1} {path}: first byte {result['first_s']:.2f} s, first rows {result['rows_s']:.2f} s, total {result['total_s']:.2f} s, "
                      f"{result['bytes'] / 1e6:.0f} MB sent ({result['file_bytes'] / 1e6:.0f} MB file), "
                      f"peak +{result['peak_mb']:.0f} MB over the worker's {result['rss_mb']:.0f} MB", flush=True)
        for path, label in (("before", "before (Dash callback, dcc.Download)"),
                            ("after", "after (GET /api/replay/export, streamed)")):
            rows = results[path]
            med = {k: statistics.median(r[k] for r in rows) for k in ("first_s", "rows_s", "total_s", "bytes", "peak_mb")}
            print(f"{args.format} {label}: median of {len(rows)}: first byte {med['first_s']:.2f} s, first rows "
                  f"{med['rows_s']:.2f} s, total "
                  f"{med['total_s']:.2f} s, {med['bytes'] / 1e6:.0f} MB sent, peak memory +{med['peak_mb']:.0f} MB")


if __name__ == "__main__":
    main()
