"""The replay cache: one load per window, progress while it runs, cancellation, LRU, failures kept readable.

The loader is a plain function standing in for store/history.load_window: it
reports progress the way load_window does and blocks on events the test
controls, so every interleaving below is forced, not hoped for.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from dispatch.domain.replay.history import History
from dispatch.web.replay_cache import (
    CANCELLED, FAILED, LOADING, QUEUED, READY, LoadStatus, ReplayCache, Window, WindowUnavailable,
)
from dispatch.store.history import LoadProgress
from tests.domain.replay.test_history import T0, drone

W1 = Window("rennes", T0, T0 + 3_600_000)
W2 = Window("rennes", T0 + 3_600_000, T0 + 7_200_000)
W3 = Window("rennes", T0 + 7_200_000, T0 + 10_800_000)
TIMEOUT = 10


class ScriptedLoader:
    """Counts loads per window; each load reports `steps` chunks, and waits for `release` before the last."""

    def __init__(self, steps: int = 3, estimate: int = 300, blocking: bool = True):
        self.steps = steps
        self.estimate = estimate
        self.calls: dict[Window, int] = {}
        self.release = threading.Event()
        self.started = threading.Event()
        self.lock = threading.Lock()
        if not blocking:
            self.release.set()

    def __call__(self, window: Window, progress) -> History:
        with self.lock:
            self.calls[window] = self.calls.get(window, 0) + 1
        for step in range(1, self.steps + 1):
            progress(LoadProgress("telemetry", step * 100, self.estimate))
            if step == 1:
                self.started.set()
                assert self.release.wait(TIMEOUT), "the test never released the load"
        progress(LoadProgress("done", self.steps * 100, self.steps * 100))
        return History.from_messages([drone(ts=window.from_ms)], bounds=(window.from_ms, window.to_ms))


@pytest.fixture
def make_cache():
    made = []

    def make(loader, **options) -> ReplayCache:
        cache = ReplayCache(loader, **options)
        made.append(cache)
        return cache

    yield make
    for cache in made:
        cache.close()


def test_a_window_loads_in_the_background_and_is_then_served(make_cache):
    loader = ScriptedLoader(blocking=False)
    cache = make_cache(loader)
    first = cache.open(W1, "page-a")
    assert first.state in (QUEUED, LOADING, READY)
    done = cache.wait(W1, TIMEOUT)
    assert done.state == READY and done.fraction == 1.0
    history = cache.history(W1)
    assert history is not None and history.bounds == (W1.from_ms, W1.to_ms)
    assert cache.open(W1, "page-b").state == READY, "a loaded window is served as it is"
    assert loader.calls == {W1: 1}


def test_progress_is_visible_while_the_load_runs(make_cache):
    loader = ScriptedLoader(steps=4, estimate=400)
    cache = make_cache(loader)
    cache.open(W1, "page-a")
    assert loader.started.wait(TIMEOUT)
    status = cache.status(W1)
    assert (status.state, status.entries_read, status.entries_estimated, status.stream) == (
        LOADING, 100, 400, "telemetry")
    assert status.fraction == 0.25
    assert status.as_json()["fraction"] == 0.25 and status.as_json()["state"] == "loading"
    assert cache.history(W1) is None, "nothing served before the load ends"
    loader.release.set()
    assert cache.wait(W1, TIMEOUT).state == READY


def test_concurrent_requests_for_the_same_window_load_it_once(make_cache):
    loader = ScriptedLoader()
    cache = make_cache(loader, workers=4)
    barrier = threading.Barrier(8)

    def ask(n: int) -> LoadStatus:
        barrier.wait()
        return cache.open(W1, f"page-{n}")

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(ask, range(8)))
    assert all(answer.window == W1 for answer in answers)
    assert loader.started.wait(TIMEOUT)
    loader.release.set()
    assert cache.wait(W1, TIMEOUT).state == READY
    assert loader.calls == {W1: 1}
    assert len({id(cache.history(W1)) for _ in range(3)}) == 1


def test_least_recently_used_window_is_evicted(make_cache):
    cache = make_cache(ScriptedLoader(blocking=False), capacity=2)
    for window in (W1, W2):
        cache.open(window, "page")
        assert cache.wait(window, TIMEOUT).state == READY
    assert cache.history(W1) is not None  # W1 used last: W2 is now the oldest
    cache.open(W3, "page")
    assert cache.wait(W3, TIMEOUT).state == READY
    assert cache.loaded() == [W1, W3]
    assert cache.history(W2) is None and cache.status(W2) is None


def test_a_load_stops_only_when_every_watcher_has_given_up(make_cache):
    loader = ScriptedLoader()
    cache = make_cache(loader)
    cache.open(W1, "page-a")
    cache.open(W1, "page-b")
    assert loader.started.wait(TIMEOUT)
    assert cache.cancel(W1, "page-a").state == LOADING, "page-b still wants it"
    assert cache.cancel(W1, "page-b").state == LOADING, "stops at its next chunk"
    loader.release.set()
    stopped = cache.wait(W1, TIMEOUT)
    assert stopped.state == CANCELLED and cache.history(W1) is None
    assert stopped.entries_read == 200, "stopped at the chunk after the cancel, not at the end"
    again = cache.open(W1, "page-a")
    assert again.state in (QUEUED, LOADING, READY), "asking again starts a new load"
    assert cache.wait(W1, TIMEOUT).state == READY
    assert loader.calls == {W1: 2}


def test_a_queued_load_cancelled_never_runs(make_cache):
    loader = ScriptedLoader()
    cache = make_cache(loader, workers=1)
    cache.open(W1, "page-a")
    assert loader.started.wait(TIMEOUT)
    assert cache.open(W2, "page-b").state == QUEUED, "one worker, busy with W1"
    assert cache.cancel(W2, "page-b").state == CANCELLED
    loader.release.set()
    assert cache.wait(W1, TIMEOUT).state == READY
    assert cache.status(W2).state == CANCELLED
    assert W2 not in loader.calls


def test_failures_are_reported_readably_and_retried_on_the_next_open(make_cache):
    attempts = []

    def loader(window, progress):
        attempts.append(window)
        progress(LoadProgress("telemetry", 10, 10))
        if len(attempts) == 1:
            raise WindowUnavailable("Nothing was recorded in this window")
        if len(attempts) == 2:
            raise ConnectionError("Redis went away")
        return History.from_messages([], bounds=(window.from_ms, window.to_ms))

    cache = make_cache(loader)
    cache.open(W1, "page")
    failed = cache.wait(W1, TIMEOUT)
    assert (failed.state, failed.error) == (FAILED, "Nothing was recorded in this window")
    assert cache.status(W1).state == FAILED, "still reportable to a page that polls late"
    cache.open(W1, "page")
    crashed = cache.wait(W1, TIMEOUT)
    assert crashed.state == FAILED and crashed.error == "loading failed: ConnectionError: Redis went away"
    cache.open(W1, "page")
    assert cache.wait(W1, TIMEOUT).state == READY


def test_different_windows_load_side_by_side(make_cache):
    loader = ScriptedLoader()
    cache = make_cache(loader, workers=2)
    cache.open(W1, "page-a")
    cache.open(W2, "page-b")

    def both_loading():
        return {cache.status(W1).state, cache.status(W2).state} == {LOADING}

    deadline = threading.Event()
    for _ in range(200):
        if both_loading():
            break
        deadline.wait(0.02)
    assert both_loading(), "two workers: neither waits for the other"
    loader.release.set()
    assert cache.wait(W1, TIMEOUT).state == READY and cache.wait(W2, TIMEOUT).state == READY


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError):
        ReplayCache(ScriptedLoader(), capacity=0)
