"""What several benchmarks share: figures (median and p95 as quoted in the notes), the settings of a
private web stack, and a module as it was at an earlier commit (the reference a change is measured
against, in the same run)."""

from __future__ import annotations

import importlib.util
import math
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from types import ModuleType

from dispatch.settings import Settings
from dispatch.store.embedded import free_port

ROOT = Path(__file__).resolve().parent.parent


def p95(values: list[float]) -> float:
    """The nearest-rank 95th percentile: a value that was measured, never an interpolation."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


def median_ms(fn, runs: int) -> float:
    """The median wall time of `runs` calls of `fn`, in ms."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def summary(name: str, values: list[float], width: int = 44) -> tuple[float, float]:
    """Prints and returns (median, p95) of `values` in ms."""
    median, high = statistics.median(values), p95(values)
    print(f"  {name:<{width}} median {median:7.1f} ms   p95 {high:7.1f} ms   ({len(values)} samples)")
    return median, high


def web_stack_settings(redis_url: str, data_dir: str) -> Settings:
    """Settings for a private gateway + web app on free ports, without a base map (no internet here)."""
    return Settings.from_env({
        "REDIS_URL": redis_url, "DISPATCH_SITE": "bench", "DISPATCH_DATA_DIR": data_dir,
        "DISPATCH_GATEWAY_PORT": str(free_port()), "DISPATCH_TILE_URL": "",
        "DISPATCH_WEB_PORT": str(free_port()),  # the gateway accepts the web app's own origin only
    })


def module_at(revision: str, path: str) -> ModuleType:
    """The module at `path` (e.g. dispatch/store/scripts.py) as it was at `revision`, imported under a
    name of its own beside today's, so that both can be measured in one run."""
    source = subprocess.run(["git", "show", f"{revision}:{path}"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    file = Path(tempfile.mkdtemp()) / Path(path).name
    file.write_text(source)
    name = path.removesuffix(".py").replace("/", ".") + f"_at_{revision}"
    spec = importlib.util.spec_from_file_location(name, file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
