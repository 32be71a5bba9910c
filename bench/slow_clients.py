"""/healthz under slow HTTP clients: bare gunicorn (gthread, 8 threads) vs behind the private nginx.

    .venv/bin/python bench/slow_clients.py [--runs 3] [--slow 0 8 500]

For each serving and each count of slow clients (each sends its headers one byte every 2 s and never
finishes them; tests/support/slow_clients.py), GET /healthz is probed on a fresh connection about every 20 ms,
up to 300 probes or 10 s: printed are the median, p95 and p99 of the probe times (a probe that timed
out after 1 s counts as 1000 ms) and the number of timeouts, each the median over the runs. A real
redis-server (private, free port) answers the health check's PING. Loopback only.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dispatch.settings import Settings  # noqa: E402
from dispatch.store.embedded import EmbeddedRedis  # noqa: E402
from tests.support import served  # noqa: E402
from tests.support.slow_clients import measure  # noqa: E402

SERVINGS = {
    "bare gunicorn": lambda settings, folder: served.bare_gunicorn(settings),
    "behind nginx": served.behind_proxy,
}


def _figures(port: int, slow: int) -> tuple[float, float, float, int]:
    figures = measure("127.0.0.1", port, slow=slow, probes=300, timeout_s=1.0, measure_s=10.0)
    return figures.median_ms, figures.percentile_ms(95), figures.percentile_ms(99), figures.timeouts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--slow", type=int, nargs="+", default=[0, 8, 500])
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="bench-slow-") as tmp,
        EmbeddedRedis(Path(tmp) / "redis", persistent=False) as redis,
    ):
        settings = Settings.from_env(
            {"REDIS_URL": redis.url, "DISPATCH_SITE": "bench", "DISPATCH_DATA_DIR": str(Path(tmp) / "var")}
        )
        print(f"/healthz probe times (ms), median of {args.runs} runs; timeouts after 1 s count 1000 ms")
        print(f"{'serving':<14} {'slow':>5} {'median':>8} {'p95':>8} {'p99':>8} {'timeouts':>9}")
        for name, serve in SERVINGS.items():
            stack = serve(settings, Path(tmp) / name.replace(" ", "-"))
            try:
                for slow in args.slow:
                    runs = [_figures(stack.port, slow) for _ in range(args.runs)]
                    median, p95, p99, timeouts = (statistics.median(column) for column in zip(*runs))
                    print(f"{name:<14} {slow:>5} {median:>8.1f} {p95:>8.1f} {p99:>8.1f} {timeouts:>9g}", flush=True)
                    _wait_for_recovery(stack)
            finally:
                stack.stop()
    return 0


def _wait_for_recovery(stack) -> None:
    """Bare gunicorn stays stuck until its slow connections close: give it time before the next row."""
    from tests.support.processes import wait_until

    try:
        wait_until(lambda: served.status(f"{stack.url}/healthz", timeout=1) == 200, timeout=30, interval=0.2)
    except AssertionError:
        print(f"  ({stack.url} did not recover within 30 s)")


if __name__ == "__main__":
    raise SystemExit(main())
