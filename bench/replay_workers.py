"""Replay with several web workers: what the shared cache (dispatch/web/replay_cache.py) costs.

    .venv/bin/python bench/replay_workers.py [--hours 8] [--drones 50] [--patrols 500] [--runs 3]

Writes bench/replay.py's shift into a private redis-server, then, with the
cache's directory in a temporary folder:

- worker A (this process) opens the whole window through a ReplayCache with
  the page's loader: the time until it is ready (load_window + pickling the
  History to the shared file), against load_window alone;
- while it loads, worker B (another process, spawned like a gunicorn worker)
  polls `status` and counts the progress reports it saw;
- then `--runs` fresh processes each serve the first frame of that window
  (unpickle + picture_at + payload + JSON), then 50 more frames: the time a
  worker that did not load the window needs to answer its first request;
- disk used by the window's files and the resident memory a worker gains by
  unpickling it (VmRSS before and after).

Medians; the machine is noisy (2 cores shared).
"""

from __future__ import annotations

import argparse
import multiprocessing
import pickle
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import orjson  # noqa: E402

from bench.replay import SHIFT_START, add_shift_arguments, fill  # noqa: E402
from dispatch.keys import Keys  # noqa: E402
from dispatch.store.connection import connect  # noqa: E402
from dispatch.store.embedded import EmbeddedRedis  # noqa: E402
from dispatch.store.history import load_window  # noqa: E402
from dispatch.web.replay_cache import READY, ReplayCache, Window  # noqa: E402

SPAWN = multiprocessing.get_context("spawn")


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def unused_loader(window, progress):
    raise AssertionError("a reading worker must never load")


def poller(directory: str, window: Window, stop, report) -> None:
    """Worker B while A loads: polls status as a page does (every 0.25 s) and reports what it saw."""
    cache = ReplayCache(unused_loader, directory=directory)
    seen, states = set(), []
    while not stop.is_set():
        status = cache.status(window)
        if status is not None:
            seen.add(status.entries_read)
            states.append(status.state)
        time.sleep(0.25)
    final = cache.status(window)
    report.put((len(seen), final.state if final else None))
    cache.close()


def reader(directory: str, window: Window, instants: list[int], report) -> None:
    """A worker that did not load the window: its first frame, then more."""
    from dispatch.ui.pages.replay.logic import frame_at

    cache = ReplayCache(unused_loader, directory=directory)
    before = rss_mib()
    started = time.perf_counter()
    history = cache.history(window)
    orjson.dumps(frame_at(history, instants[0]))
    first_ms = (time.perf_counter() - started) * 1000
    after = rss_mib()
    more = []
    for t in instants[1:]:
        began = time.perf_counter()
        orjson.dumps(frame_at(cache.history(window), t))
        more.append((time.perf_counter() - began) * 1000)
    report.put((first_ms, statistics.median(more), after - before))
    cache.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="Replay shared by several web workers.")
    add_shift_arguments(parser)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    from_ms, to_ms = SHIFT_START, SHIFT_START + int(args.hours * 3_600_000)

    with EmbeddedRedis(Path(tempfile.mkdtemp(prefix="bench-replay-workers-")), persistent=False) as server:
        client = connect(server.url)
        keys = Keys("bench")
        shift = fill(client, keys, args)
        print(f"shift: {args.hours:g} h, {shift['telemetry']:,} drone positions, {shift['patrols']:,} patrol reports")

        bare = []
        for _ in range(args.runs):
            started = time.perf_counter()
            load_window(client, keys, from_ms, to_ms)
            bare.append(time.perf_counter() - started)

        def loader(window, progress):
            return load_window(client, keys, window.from_ms, window.to_ms, progress=progress)

        shared, polled, firsts, nexts, grown, disk = [], [], [], [], [], 0
        instants = [rng.randint(from_ms, to_ms) for _ in range(51)]
        for run in range(args.runs):
            directory = tempfile.mkdtemp(prefix="replay-cache-")
            window = Window("bench", from_ms, to_ms)
            stop, report = SPAWN.Event(), SPAWN.Queue()
            watcher = SPAWN.Process(target=poller, args=(directory, window, stop, report))
            watcher.start()
            time.sleep(2)  # let it import and start polling before the load begins
            cache = ReplayCache(loader, directory=directory)
            started = time.perf_counter()
            cache.open(window, "bench")
            status = cache.wait(window, 600)
            shared.append(time.perf_counter() - started)
            assert status.state == READY, status
            stop.set()
            polled.append(report.get(timeout=60))
            watcher.join()
            disk = sum(p.stat().st_size for p in Path(directory).iterdir())
            child = SPAWN.Process(target=reader, args=(directory, window, instants, report))
            child.start()
            first_ms, next_ms, rss = report.get(timeout=600)
            child.join()
            firsts.append(first_ms)
            nexts.append(next_ms)
            grown.append(rss)
            if run == 0:
                history = cache.history(window)
                began = time.perf_counter()
                with open(Path(directory) / "again.pickle", "wb") as file:
                    pickle.dump(history, file, protocol=pickle.HIGHEST_PROTOCOL)
                pickled_s = time.perf_counter() - began
                history = None
            cache.close()
            print(f"run {run + 1}: ready after {shared[-1]:.2f} s; first frame on another worker {first_ms:.0f} ms; "
                  f"next frames median {next_ms:.1f} ms; its RSS +{rss:.0f} MiB; poller saw {polled[-1][0]} "
                  f"progress values, last state {polled[-1][1]}")

        print(f"load_window alone: median {statistics.median(bare):.2f} s "
              f"(runs: {', '.join(f'{b:.2f}' for b in bare)})")
        print(f"shared cache, open -> ready (load + progress files + pickle to disk): median "
              f"{statistics.median(shared):.2f} s (runs: {', '.join(f'{s:.2f}' for s in shared)})")
        print(f"first frame on a worker that did not load it (unpickle + frame + JSON): median "
              f"{statistics.median(firsts):.0f} ms (runs: {', '.join(f'{f:.0f}' for f in firsts)}); "
              f"then frames median {statistics.median(nexts):.1f} ms")
        print(f"of which pickling the History to the shared file: {pickled_s:.2f} s")
        print(f"disk: {disk / 2**20:.0f} MiB for the window's files; a reading worker's RSS grows by "
              f"median {statistics.median(grown):.0f} MiB once it has unpickled the window")
        client.close()


if __name__ == "__main__":
    main()
