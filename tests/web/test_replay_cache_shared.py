"""The replay cache shared by the web workers of a host (issue 14): two caches over one directory, the
other one in a real process, as two gunicorn workers are.

Progress, the loaded History, cancellation and the bounds are seen the same from either side, a window
loads once per host, a dead loader is reported instead of waited for, and nothing outlives its TTL or
its positions' retention. The child's loader blocks on an event the test sets, so every interleaving
is forced.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import stat
import time

import pytest

from dispatch.domain.replay.history import History
from dispatch.store.history import LoadProgress
from dispatch.web.replay_cache import (
    CANCELLED, FAILED, LOADING, QUEUED, READY, ReplayCache, Window, window_key,
)
from tests.domain.replay.test_history import T0, drone
from tests.support.processes import wait_until

W1 = Window("rennes", T0, T0 + 3_600_000)
W2 = Window("rennes", T0 + 3_600_000, T0 + 7_200_000)
TIMEOUT = 20
SPAWN = multiprocessing.get_context("spawn")  # a fresh interpreter, as a gunicorn worker is


class BlockingLoader:
    """Reports 100 of 300 entries, waits for `release` (a process-shared event), then finishes."""

    def __init__(self, release=None, started=None):
        self.release = release
        self.started = started
        self.calls = 0

    def __call__(self, window: Window, progress) -> History:
        self.calls += 1
        progress(LoadProgress("telemetry", 100, 300))
        if self.started is not None:
            self.started.set()
        if self.release is not None:
            assert self.release.wait(TIMEOUT), "the test never released the load"
        progress(LoadProgress("telemetry", 200, 300))
        progress(LoadProgress("done", 300, 300))
        return History.from_messages([drone(ts=window.from_ms + 1_000)], bounds=(window.from_ms, window.to_ms))


def other_worker(directory, window, watcher, release, started, report, workers=2):
    """A second web worker: opens `window` with a blocking loader and reports how its load ended."""
    loader = BlockingLoader(release, started)
    cache = ReplayCache(loader, directory=directory, workers=workers)
    cache.open(window, watcher)
    final = cache.wait(window, TIMEOUT)
    report.put((final.state if final else None, loader.calls))
    cache.close()


@pytest.fixture
def shared(tmp_path):
    """(directory, make_cache, start_worker): caches in this process and workers in others, one directory."""
    directory = tmp_path / "var" / "replay-cache"
    caches, children = [], []

    def make(loader=None, **options) -> ReplayCache:
        cache = ReplayCache(loader or BlockingLoader(), directory=directory, **options)
        caches.append(cache)
        return cache

    def start(window=W1, watcher="page-a", workers=2):
        release, started, report = SPAWN.Event(), SPAWN.Event(), SPAWN.Queue()
        child = SPAWN.Process(target=other_worker, args=(directory, window, watcher, release, started, report,
                                                         workers))
        child.start()
        children.append(child)
        assert started.wait(60), "the other worker never started its load"
        return child, release, report

    yield directory, make, start
    for child in children:
        if child.is_alive():
            child.kill()
        child.join(10)
    for cache in caches:
        cache.close()


def test_progress_and_the_history_are_shared_and_the_window_loads_once(shared):
    directory, make, start = shared
    child, release, report = start(W1, "page-a")
    here = BlockingLoader()
    cache = make(here)
    status = cache.status(W1)
    assert (status.state, status.entries_read, status.entries_estimated) == (LOADING, 100, 300), \
        "the other worker's progress, seen from this one"
    assert cache.open(W1, "page-b").state == LOADING, "joins the other worker's load"
    assert cache.history(W1) is None, "nothing served before the load ends"
    release.set()
    assert report.get(timeout=TIMEOUT) == (READY, 1)
    done = cache.wait(W1, TIMEOUT)
    assert done.state == READY and done.fraction == 1.0 and done.entries_read == 300
    history = cache.history(W1)
    assert history is not None and history.bounds == (W1.from_ms, W1.to_ms)
    assert list(history.telemetry["ts"]) == [W1.from_ms + 1_000]
    assert here.calls == 0, "this worker read the other's result instead of loading again"
    assert cache.history(W1) is history, "unpickled once per process"
    assert cache.open(W1, "page-c").state == READY


def test_a_cancel_on_another_worker_stops_the_load_once_nobody_wants_it(shared):
    _, make, start = shared
    child, release, report = start(W1, "page-a")
    cache = make()
    assert cache.open(W1, "page-b").state == LOADING
    assert cache.cancel(W1, "page-a").state == LOADING, "page-b still wants it"
    assert cache.cancel(W1, "page-b").state == LOADING, "stops at its next chunk"
    release.set()
    assert report.get(timeout=TIMEOUT) == (CANCELLED, 1)
    stopped = cache.status(W1)
    assert stopped.state == CANCELLED and stopped.entries_read == 200 and cache.history(W1) is None
    assert cache.open(W1, "page-b").state in (QUEUED, LOADING, READY), "asking again starts a new load"
    assert cache.wait(W1, TIMEOUT).state == READY


def test_a_worker_that_dies_while_loading_is_reported_and_the_next_open_loads_again(shared):
    directory, make, start = shared
    child, _, _ = start(W1, "page-a")
    cache = make()
    assert cache.status(W1).state == LOADING
    (lock_file,) = directory.glob(f"{window_key(W1)}.*.load")
    os.kill(child.pid, signal.SIGKILL)
    child.join(10)
    dead = wait_until(lambda: (s := cache.status(W1)) and s.state == FAILED and s, timeout=TIMEOUT,
                      what="the dead worker's load to read as failed")
    assert "stopped" in dead.error and "press Load" in dead.error
    assert cache.open(W1, "page-a").state in (QUEUED, LOADING, READY)
    assert cache.wait(W1, TIMEOUT).state == READY
    cache.sweep()
    assert not lock_file.exists(), "the dead worker's lock file is swept"


def test_at_most_workers_loads_run_on_the_host(shared):
    _, make, start = shared
    child, release, report = start(W1, "page-a", workers=1)
    cache = make(workers=1)
    assert cache.open(W2, "page-b").state == QUEUED
    time.sleep(0.3)  # not a timing assertion: it gives a wrong implementation the time to start W2
    assert cache.status(W2).state == QUEUED, "the other worker holds the host's only load slot"
    release.set()
    assert report.get(timeout=TIMEOUT) == (READY, 1)
    assert cache.wait(W2, TIMEOUT).state == READY


def test_the_least_recently_used_window_is_evicted_for_every_worker(shared):
    _, make, _ = shared
    first, second = make(capacity=1), make(capacity=1)
    first.open(W1, "page")
    assert first.wait(W1, TIMEOUT).state == READY and first.history(W1) is not None
    second.open(W2, "page")
    assert second.wait(W2, TIMEOUT).state == READY
    assert first.loaded() == second.loaded() == [W2]
    assert first.history(W1) is None and first.status(W1) is None, "the copy in memory went with the file"


def test_files_are_private(shared):
    directory, make, _ = shared
    cache = make()
    cache.open(W1, "page")
    assert cache.wait(W1, TIMEOUT).state == READY
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    files = list(directory.iterdir())
    assert {p.suffix for p in files} >= {".json", ".history", ".lock"}
    assert {oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {oct(0o600)}


def test_a_window_expires_after_its_ttl_and_its_files_are_swept(shared):
    directory, make, _ = shared
    now = [1_000_000.0]
    cache = make(ttl_s=60, clock=lambda: now[0])
    cache.open(W1, "page")
    assert cache.wait(W1, TIMEOUT).state == READY
    assert (directory / f"{window_key(W1)}.history").exists()
    now[0] += 59
    assert cache.history(W1) is not None
    now[0] += 2
    assert cache.status(W1) is None and cache.history(W1) is None, "expired: never served"
    cache.sweep()
    assert not list(directory.glob(f"{window_key(W1)}.*"))


def test_a_window_never_outlives_its_positions_retention(shared):
    directory, make, _ = shared
    oldest_s = (W1.from_ms + 1_000) / 1000  # the one position the loader returns
    now = [oldest_s + 3_000]
    cache = make(ttl_s=3_600, retention_ms=3_600_000, clock=lambda: now[0])  # one hour of retention
    cache.open(W1, "page")
    assert cache.wait(W1, TIMEOUT).state == READY
    now[0] = oldest_s + 3_599
    assert cache.history(W1) is not None
    now[0] = oldest_s + 3_600  # the position leaves retention well before the TTL ends
    assert cache.history(W1) is None
    cache.sweep()
    assert not (directory / f"{window_key(W1)}.history").exists()
