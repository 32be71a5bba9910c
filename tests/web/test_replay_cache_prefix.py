"""A window still loading is served from its newest prefix (issue 15), by every web worker of the host:
the prefix is published by the worker loading (here a real other process), read from its file by this
one, replaced by the whole window when it lands, and gone with a cancelled load."""

from __future__ import annotations

import multiprocessing

import pytest

from dispatch.domain.replay.history import History
from dispatch.store.history import LoadProgress
from dispatch.web.replay_cache import CANCELLED, LOADING, READY, ReplayCache, Window, window_key
from tests.domain.replay.test_history import T0, drone
from tests.support.processes import wait_until

W1 = Window("rennes", T0, T0 + 3_600_000)
HEAD = T0 + 60_000
TIMEOUT = 20
SPAWN = multiprocessing.get_context("spawn")


def prefix_history(window: Window, until: int) -> History:
    history = History.from_messages([drone(ts=window.from_ms + 1_000)], bounds=(window.from_ms, window.to_ms))
    history.loaded_until_ms = until
    return history


class PrefixLoader:
    """Publishes a prefix exact up to HEAD, then waits for `release` and returns the whole window."""

    def __init__(self, release, published):
        self.release = release
        self.published = published

    def __call__(self, window: Window, progress) -> History:
        progress(LoadProgress("positions", 100, 300, prefix=prefix_history(window, HEAD)))
        self.published.set()
        assert self.release.wait(TIMEOUT), "the test never released the load"
        progress(LoadProgress("positions", 200, 300))
        progress(LoadProgress("done", 300, 300))
        return History.from_messages([drone(ts=window.from_ms + 1_000), drone(ts=window.to_ms - 1_000)],
                                     bounds=(window.from_ms, window.to_ms))


def loading_worker(directory, release, published, report):
    cache = ReplayCache(PrefixLoader(release, published), directory=directory)
    cache.open(W1, "page-a")
    final = cache.wait(W1, TIMEOUT)
    report.put(final.state if final else None)
    cache.close()


@pytest.fixture
def other_worker(tmp_path):
    directory = tmp_path / "replay-cache"
    release, published, report = SPAWN.Event(), SPAWN.Event(), SPAWN.Queue()
    child = SPAWN.Process(target=loading_worker, args=(directory, release, published, report))
    child.start()
    assert published.wait(60), "the other worker never published its prefix"
    yield directory, release, report
    release.set()
    child.join(10)
    if child.is_alive():
        child.kill()


def never(window, progress):
    raise AssertionError("this worker must not load the window itself")


def test_a_prefix_published_by_another_worker_is_served_until_the_whole_window_lands(other_worker):
    directory, release, report = other_worker
    cache = ReplayCache(never, directory=directory)
    try:
        status = cache.status(W1)
        assert status.state == LOADING and status.loaded_until_ms == HEAD
        assert status.as_json()["loaded_until_ms"] == HEAD
        prefix = cache.history(W1)
        assert prefix is not None and not prefix.complete and prefix.loaded_until_ms == HEAD
        assert [d["drone_id"] for d in prefix.picture_at(HEAD)["drones"]] == ["DR-1"]
        assert cache.history(W1) is prefix, "a generation is unpickled once per process"
        assert (directory / f"{window_key(W1)}.prefix").exists()
        release.set()
        assert report.get(timeout=TIMEOUT) == READY
        whole = wait_until(lambda: (h := cache.history(W1)) is not None and h.complete and h, timeout=TIMEOUT,
                           what="the whole window")
        assert len(whole.telemetry) == 2 and cache.status(W1).loaded_until_ms == W1.to_ms
        assert not (directory / f"{window_key(W1)}.prefix").exists(), "the prefix goes when the whole one lands"
    finally:
        cache.close()


def test_a_cancelled_load_takes_its_prefix_with_it(other_worker):
    directory, release, report = other_worker
    cache = ReplayCache(never, directory=directory)
    try:
        assert cache.history(W1) is not None
        cache.cancel(W1, "page-a")
        release.set()
        assert report.get(timeout=TIMEOUT) == CANCELLED
        assert cache.history(W1) is None and cache.status(W1).loaded_until_ms is None
        assert not (directory / f"{window_key(W1)}.prefix").exists()
    finally:
        cache.close()


def test_prefix_files_count_in_the_bytes_bound(other_worker):
    directory, release, report = other_worker
    older, newer = Window("rennes", T0 - 7_200_000, T0 - 3_600_000), Window("rennes", T0 - 3_600_000, T0)

    def whole(window, progress):
        return prefix_history(window, window.to_ms)

    first = ReplayCache(whole, directory=directory)
    try:
        first.open(older, "page-b")
        assert first.wait(older, TIMEOUT).state == READY
        one = (directory / f"{window_key(older)}.history").stat().st_size
        prefix = (directory / f"{window_key(W1)}.prefix").stat().st_size
        # two loaded windows fit without the other worker's prefix, not with it
        second = ReplayCache(whole, directory=directory, max_bytes=2 * one + prefix // 2)
        try:
            second.open(newer, "page-c")
            assert second.wait(newer, TIMEOUT).state == READY
            assert second.loaded() == [newer], "the prefix counts: the least recently used window goes"
            assert second.status(W1).state == LOADING, "a load under way is not evicted"
        finally:
            second.close()
    finally:
        first.close()
