"""Replay windows loaded in the background, with progress, and the last few kept in memory.

Loading an 8-hour shift takes seconds (bench/replay.py: about 8 s for 1.7 M
positions) and its History holds about 100 MiB; seeking in it afterwards takes
milliseconds. So a window is loaded once, off the request threads, and kept:
a page asks for it (`open`), polls `status` every quarter of a second to draw
its progress bar, and once it is ready every frame, figure and export of that
window is served from the same History.

- **One load per window.** Windows are keyed by (site, from, to); a second
  request for a window being loaded joins that load instead of starting
  another, so two supervisors replaying last night's shift cost one load.
- **Cancellation.** Each request names its watcher (one per open page); a
  watcher may give up (`cancel`), and the load stops at its next chunk once no
  watcher wants it any more. `load_window` has no cancel switch, but it calls
  its progress callback after every chunk: raising there unwinds it cleanly.
- **Bounded.** At most `workers` loads run at once (each peaks at a few
  hundred MiB while it converts); others wait, shown as queued. At most
  `capacity` loaded windows are kept, least recently used evicted first.
- **Failures stay readable.** A load that failed or was cancelled is reported
  as such to whoever polls it, and the next `open` of that window tries again.

Per process: the web app runs one gunicorn worker with 8 threads (Procfile),
so every request of every page meets the same cache. A deployment with
several workers, or several machines, must route a page's requests to the
process that loaded its window (sticky sessions, e.g. by cookie at the load
balancer); otherwise each process loads the window again and frames may
arrive before that process has it.

No Dash, no Redis here: the page hands in the `loader` that reads the window.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

from ..domain.replay.history import History
from ..store.history import LoadProgress, ProgressCallback

log = logging.getLogger(__name__)

DEFAULT_CAPACITY = 3
DEFAULT_WORKERS = 2
FINISHED_KEPT_S = 600.0  # how long a failed or cancelled load stays reportable

QUEUED, LOADING, READY, FAILED, CANCELLED = "queued", "loading", "ready", "failed", "cancelled"


@dataclass(frozen=True, order=True)
class Window:
    """One replay window of one site, [from_ms, to_ms] in ms since the epoch (UTC)."""

    site: str
    from_ms: int
    to_ms: int


class LoadCancelled(Exception):
    """Raised inside a load, from its progress callback, once nobody wants the window any more."""


class WindowUnavailable(Exception):
    """The loader's way to refuse a window with a reason for a person (e.g. nothing recorded in it)."""


Loader = Callable[[Window, ProgressCallback], History]


@dataclass(frozen=True)
class LoadStatus:
    """Where a window's load stands, as a page shows it."""

    window: Window
    state: str
    entries_read: int = 0
    entries_estimated: int = 0
    stream: str = ""
    error: str = ""
    elapsed_s: float = 0.0

    @property
    def fraction(self) -> float:
        if self.state == READY:
            return 1.0
        if self.entries_estimated <= 0:
            return 0.0
        return min(1.0, self.entries_read / self.entries_estimated)

    def as_json(self) -> dict:
        return {"state": self.state, "from_ms": self.window.from_ms, "to_ms": self.window.to_ms,
                "entries_read": self.entries_read, "entries_estimated": self.entries_estimated,
                "fraction": round(self.fraction, 4), "stream": self.stream, "error": self.error,
                "elapsed_s": round(self.elapsed_s, 2)}


@dataclass
class _Job:
    window: Window
    watchers: set[str]
    state: str = QUEUED
    progress: LoadProgress | None = None
    error: str = ""
    queued_at: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)


class ReplayCache:
    """Background loads and an LRU of loaded Histories; thread-safe, one per process."""

    def __init__(self, loader: Loader, *, capacity: int = DEFAULT_CAPACITY, workers: int = DEFAULT_WORKERS,
                 clock: Callable[[], float] = time.monotonic):
        if capacity < 1 or workers < 1:
            raise ValueError("capacity and workers must be at least 1")
        self._loader = loader
        self._capacity = capacity
        self._clock = clock
        self._lock = threading.Lock()
        self._ready: OrderedDict[Window, tuple[History, float]] = OrderedDict()  # least recently used first
        self._jobs: dict[Window, _Job] = {}
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="replay-load")

    def open(self, window: Window, watcher: str) -> LoadStatus:
        """Start loading `window` for `watcher`, join a load under way, or find it loaded."""
        with self._lock:
            if window in self._ready:
                self._ready.move_to_end(window)
                return self._ready_status(window)
            job = self._jobs.get(window)
            if job is not None and job.state in (QUEUED, LOADING) and not job.cancel.is_set():
                job.watchers.add(watcher)
                return self._job_status(job)
            self._forget_old_failures()
            job = _Job(window, {watcher}, queued_at=self._clock())
            self._jobs[window] = job
        self._pool.submit(self._run, job)
        return self._job_status(job)

    def status(self, window: Window) -> LoadStatus | None:
        """The window's state, or None if it was never asked for (or evicted since)."""
        with self._lock:
            if window in self._ready:
                return self._ready_status(window)
            job = self._jobs.get(window)
            return None if job is None else self._job_status(job)

    def history(self, window: Window) -> History | None:
        """The loaded History, or None; counts as a use for the LRU."""
        with self._lock:
            found = self._ready.get(window)
            if found is None:
                return None
            self._ready.move_to_end(window)
            return found[0]

    def cancel(self, window: Window, watcher: str) -> LoadStatus | None:
        """`watcher` no longer wants the window; its load stops once no watcher is left."""
        with self._lock:
            job = self._jobs.get(window)
            if job is None or job.state not in (QUEUED, LOADING):
                return self._ready_status(window) if window in self._ready else None
            job.watchers.discard(watcher)
            if not job.watchers:
                job.cancel.set()
                if job.state == QUEUED:  # never started: it ends here, the pool will skip it
                    self._finish(job, CANCELLED, "cancelled before it started")
            return self._job_status(job)

    def wait(self, window: Window, timeout: float | None = None) -> LoadStatus | None:
        """Block until the window's load has finished (tests, scripts); its status then."""
        with self._lock:
            job = self._jobs.get(window)
        if job is not None:
            job.done.wait(timeout)
        return self.status(window)

    def loaded(self) -> list[Window]:
        """Windows in memory, least recently used first."""
        with self._lock:
            return list(self._ready)

    def close(self) -> None:
        with self._lock:
            for job in self._jobs.values():
                job.cancel.set()
        self._pool.shutdown(wait=True, cancel_futures=True)

    # ------------------------------------------------------------------ the load itself

    def _run(self, job: _Job) -> None:
        with self._lock:
            if job.cancel.is_set():
                if job.state == QUEUED:
                    self._finish(job, CANCELLED, "cancelled before it started")
                return
            job.state = LOADING
            job.started_at = self._clock()

        def progress(report: LoadProgress) -> None:
            job.progress = report  # one reference swap: readers see the old or the new report
            if job.cancel.is_set():
                raise LoadCancelled()

        try:
            history = self._loader(job.window, progress)
        except LoadCancelled:
            with self._lock:
                self._finish(job, CANCELLED, "cancelled")
            return
        except WindowUnavailable as refusal:
            with self._lock:
                self._finish(job, FAILED, str(refusal))
            return
        except Exception as error:  # a load must never take the thread pool down with it
            log.exception("loading replay window %s failed", job.window)
            with self._lock:
                self._finish(job, FAILED, f"loading failed: {error.__class__.__name__}: {error}")
            return
        with self._lock:
            self._ready[job.window] = (history, self._clock() - (job.started_at or job.queued_at))
            self._ready.move_to_end(job.window)
            while len(self._ready) > self._capacity:
                evicted, _ = self._ready.popitem(last=False)
                log.info("replay window %s evicted (capacity %d)", evicted, self._capacity)
            if self._jobs.get(job.window) is job:  # not a newer load of the same window, started meanwhile
                del self._jobs[job.window]
            job.state = READY
            job.finished_at = self._clock()
            job.done.set()

    # ------------------------------------------------------------------ bookkeeping (lock held)

    def _finish(self, job: _Job, state: str, error: str) -> None:
        job.state = state
        job.error = error
        job.finished_at = self._clock()
        job.done.set()

    def _forget_old_failures(self) -> None:
        now = self._clock()
        for window, job in list(self._jobs.items()):
            if job.finished_at is not None and now - job.finished_at > FINISHED_KEPT_S:
                del self._jobs[window]

    def _ready_status(self, window: Window) -> LoadStatus:
        history, took = self._ready[window]
        read = sum(v for k, v in history.stats.items() if k.startswith("read:"))
        return LoadStatus(window, READY, read, read, "done", elapsed_s=took)

    def _job_status(self, job: _Job) -> LoadStatus:
        report = job.progress
        end = job.finished_at if job.finished_at is not None else self._clock()
        return LoadStatus(
            job.window, job.state,
            entries_read=report.entries_read if report else 0,
            entries_estimated=report.entries_estimated if report else 0,
            stream=report.stream if report else "", error=job.error,
            elapsed_s=max(0.0, end - (job.started_at if job.started_at is not None else job.queued_at)))
