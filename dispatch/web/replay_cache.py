"""Replay windows loaded in the background, with progress, shared by every web worker of a host.

Loading an 8-hour shift takes seconds (bench/replay.py: about 5-8 s for 1.7 M
positions) and its History holds about 100-150 MiB; seeking in it afterwards takes
milliseconds. So a window is loaded once, off the request threads, and kept:
a page asks for it (`open`), polls `status` every quarter of a second to draw
its progress bar, and once it is ready every frame, figure and export of that
window is served from the same History.

Shared by the host's processes (issue 14, many web workers). gunicorn runs
`DISPATCH_WEB_WORKERS` processes and a page's requests land on any of them (no
sticky sessions), so the cache's state lives in files under one directory
(`DISPATCH_DATA_DIR/replay-cache`), not in a process:

- `<key>.json` a window's state (queued, loading with its progress, ready,
  failed, cancelled), its watchers and its owner; written whole and renamed
  into place, so a reader never sees half of it;
- `<key>.<job>.load` held with `flock` by the process running (or queueing) the
  load: if that process dies the kernel drops the lock, and the others report
  the load as failed instead of waiting for ever;
- `<key>.prefix` while a window loads, the newest History of what is read so far
  (a prefix, exact up to its `loaded_until_ms`: domain/replay/progressive.py), pickled
  like the whole one; the state names its generation, so each process unpickles a
  generation once. Deleted when the whole History lands or the load ends otherwise,
  counted in `max_bytes`, swept like the rest (issue 15: a first frame in seconds);
- `<key>.history` the loaded History, pickled (bench/replay_workers.py: an 8-h
  shift is ~240 MiB on disk, unpickled in ~0.2 s by a worker that did not load
  it); each process keeps the last `in_memory` it used, unpickled;
- `lock` (one `flock` serialising every change of state, held microseconds) and
  `slot-<i>.lock` (a load holds one of `workers` slots: the host's bound).

The behaviour is the one-process cache's, now per host:

- **One load per window.** Windows are keyed by (site, from, to); a second
  request for a window being loaded (by any worker) joins that load instead of
  starting another, so two supervisors replaying last night's shift cost one load.
- **Cancellation.** Each request names its watcher (one per open page); a
  watcher may give up (`cancel`, on any worker), and the load stops at its next
  chunk once no watcher wants it any more. `load_window` has no cancel switch,
  but it calls its progress callback after every chunk: raising there unwinds it.
- **Bounded.** At most `workers` loads run at once on the host (each peaks at a
  few hundred MiB while it converts); others wait, shown as queued. At most
  `capacity` loaded windows and `max_bytes` of files are kept, least recently
  used (file mtime, touched on every use) evicted first.
- **Failures stay readable.** A load that failed, was cancelled or whose worker
  died is reported as such to whoever polls it, and the next `open` tries again.

Legal frame (recordings are kept `DISPATCH_RETENTION_DAYS`, at most 7 days): a
cached window is a copy of positions, so it must not outlive them. A window
expires `ttl_s` after it was loaded, and in any case when its oldest position
leaves retention (`retention_ms` after that position's ts); an expired window
is never served and its files are deleted by a sweep run on every open, by a
sweeper thread every `sweep_s` in every process, and at start-up. Histories
kept in a process's memory are dropped as soon as their file is gone. The
directory is 0700 and every file 0600 (pickles are only ever read from there:
whoever can write that directory already runs as the web app). Context rows
(sightings and dispatch events before the window, read to know what was open
at its start) were retained when the window loaded and are kept at most
`ttl_s` longer.

No Dash, no Redis here: the page hands in the `loader` that reads the window.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import pickle
import shutil
import tempfile
import threading
import time
import uuid
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import orjson

from ..domain.replay.history import History
from ..store.history import LoadProgress, ProgressCallback

log = logging.getLogger(__name__)

DEFAULT_CAPACITY = 3
DEFAULT_WORKERS = 2
DEFAULT_IN_MEMORY = 2  # per process: every worker may hold this many unpickled Histories
DEFAULT_TTL_S = 1_800.0
DEFAULT_MAX_BYTES = 2 * 2**30
FINISHED_KEPT_S = 600.0  # how long a failed or cancelled load stays reportable
SWEEP_S = 60.0
SLOT_WAIT_S = 0.05
DIRECTORY = "replay-cache"

QUEUED, LOADING, READY, FAILED, CANCELLED = "queued", "loading", "ready", "failed", "cancelled"
_UNDER_WAY = (QUEUED, LOADING)


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
    loaded_until_ms: int | None = None  # frames up to here can be served (a prefix, or the whole window)

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
                "elapsed_s": round(self.elapsed_s, 2), "loaded_until_ms": self.loaded_until_ms}


def window_key(window: Window) -> str:
    """A file name for a window: no site name or number reaches the file system unhashed."""
    return hashlib.sha256(f"{window.site}\0{window.from_ms}\0{window.to_ms}".encode()).hexdigest()[:32]


def oldest_position_ms(history: History) -> int | None:
    """The ts of the oldest position a History holds: when it leaves retention, so must the copy."""
    stamps = [int(frame["ts"].min()) for frame in (history.telemetry, history.patrol_reports) if len(frame)]
    return min(stamps, default=None)


class ReplayCache:
    """Background loads and an LRU of loaded Histories, shared through `directory` by every process of a
    host (thread-safe too). Without a directory it uses a private one, deleted on close (tests, scripts)."""

    def __init__(self, loader: Loader, *, capacity: int = DEFAULT_CAPACITY, workers: int = DEFAULT_WORKERS,
                 directory: Path | str | None = None, in_memory: int = DEFAULT_IN_MEMORY,
                 ttl_s: float = DEFAULT_TTL_S, max_bytes: int = DEFAULT_MAX_BYTES,
                 retention_ms: int | None = None, sweep_s: float = SWEEP_S,
                 clock: Callable[[], float] = time.time):
        if capacity < 1 or workers < 1 or in_memory < 1 or ttl_s <= 0 or max_bytes < 1:
            raise ValueError("capacity, workers, in_memory, ttl_s and max_bytes must be positive")
        self._loader = loader
        self._capacity = capacity
        self._workers = workers
        self._in_memory = in_memory
        self._ttl_s = ttl_s
        self._max_bytes = max_bytes
        self._retention_ms = retention_ms
        self._clock = clock
        self._private = directory is None
        self._root = Path(tempfile.mkdtemp(prefix="replay-cache-")) if directory is None else Path(directory)
        _private_directory(self._root)
        self._thread_lock = threading.Lock()
        self._lock_fd = _open_private(self._root / "lock")
        self._memory: OrderedDict[Window, tuple[str, History]] = OrderedDict()  # (job, History), LRU first
        self._memory_lock = threading.Lock()
        self._unpickling: dict[Window, threading.Lock] = {}
        self._local: dict[str, threading.Event] = {}  # job -> cancel, for this process's jobs
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="replay-load")
        self._closed = threading.Event()
        self.sweep()
        self._sweeper = threading.Thread(target=self._sweep_every, args=(sweep_s,), name="replay-sweep",
                                         daemon=True)
        self._sweeper.start()

    @property
    def directory(self) -> Path:
        return self._root

    # ------------------------------------------------------------------ what pages call

    def open(self, window: Window, watcher: str) -> LoadStatus:
        """Start loading `window` for `watcher`, join a load under way (in any process), or find it loaded."""
        self.sweep()
        with self._locked():
            state = self._current(window)
            if state is not None and state["state"] == READY:
                self._touch(window)
                return self._status(state)
            if state is not None and state["state"] in _UNDER_WAY:
                state["watchers"] = sorted(set(state["watchers"]) | {watcher})
                state["cancel"] = False  # not cancelled yet (the loader writes CANCELLED when it stops): joined
                self._write(window, state)
                return self._status(state)
            job = uuid.uuid4().hex
            load_fd = _open_private(self._root / f"{window_key(window)}.{job}.load")
            fcntl.flock(load_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a fresh file: nobody else has it
            now = self._clock()
            state = {"window": [window.site, window.from_ms, window.to_ms], "job": job, "state": QUEUED,
                     "watchers": [watcher], "cancel": False, "pid": os.getpid(), "queued_at": now,
                     "started_at": None, "finished_at": None, "entries_read": 0, "entries_estimated": 0,
                     "stream": "", "error": ""}
            self._write(window, state)
            self._local[job] = threading.Event()
        self._pool.submit(self._run, window, job, load_fd)
        return self._status(state)

    def status(self, window: Window) -> LoadStatus | None:
        """The window's state, or None if it was never asked for (or evicted or expired since)."""
        state = self._current(window)
        return None if state is None else self._status(state)

    def history(self, window: Window) -> History | None:
        """The newest History published for the window: the whole one once ready, else the newest prefix
        of a load under way (`History.complete` tells them apart), or None; counts as a use for the LRU.
        Unpickled once per process and generation."""
        state = self._current(window)
        if state is not None and state["state"] == READY:
            tag, path = state["job"], self._history_path(window)
            self._touch(window)
        elif state is not None and state["state"] == LOADING and state.get("prefix"):
            tag, path = f"{state['job']}:{state['prefix']}", self._prefix_path(window)
        else:
            self._forget(window)
            return None
        with self._memory_lock:
            found = self._memory.get(window)
            if found is not None and found[0] == tag:
                self._memory.move_to_end(window)
                return found[1]
            reading = self._unpickling.setdefault(window, threading.Lock())
        with reading:  # one thread per process unpickles a window; the others wait for it
            with self._memory_lock:
                found = self._memory.get(window)
                if found is not None and found[0] == tag:
                    return found[1]
            try:
                with open(path, "rb") as file:
                    history = pickle.load(file)
            except FileNotFoundError:  # evicted, expired or (a prefix) replaced by the whole one meanwhile
                return None
            self._remember(window, tag, history)
            return history

    def _remember(self, window: Window, tag: str, history: History) -> None:
        with self._memory_lock:
            self._memory[window] = (tag, history)
            self._memory.move_to_end(window)
            while len(self._memory) > self._in_memory:
                self._memory.popitem(last=False)

    def cancel(self, window: Window, watcher: str) -> LoadStatus | None:
        """`watcher` no longer wants the window; its load stops once no watcher is left."""
        with self._locked():
            state = self._current(window)
            if state is None or state["state"] not in _UNDER_WAY:
                return self._status(state) if state is not None and state["state"] == READY else None
            state["watchers"] = [w for w in state["watchers"] if w != watcher]
            if not state["watchers"]:
                state["cancel"] = True
                if state["state"] == QUEUED:  # never started: it ends here, its owner will skip it
                    self._end(state, CANCELLED, "cancelled before it started")
            self._write(window, state)
            return self._status(state)

    def wait(self, window: Window, timeout: float | None = None) -> LoadStatus | None:
        """Block until the window's load has finished (tests, scripts); its status then."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            found = self.status(window)
            if found is None or found.state not in _UNDER_WAY:
                return found
            if deadline is not None and time.monotonic() >= deadline:
                return found
            time.sleep(0.02)

    def loaded(self) -> list[Window]:
        """Windows loaded on this host, least recently used first (under the lock: a load that has just
        finished has evicted what it displaced)."""
        with self._locked():
            return [window for window, _, _ in self._ready_files()]

    def close(self) -> None:
        self._closed.set()
        with self._locked():
            for cancel in self._local.values():
                cancel.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
        with self._memory_lock:
            self._memory.clear()
        os.close(self._lock_fd)
        if self._private:
            shutil.rmtree(self._root, ignore_errors=True)

    # ------------------------------------------------------------------ retention and bounds

    def sweep(self) -> None:
        """Delete what expired, what no live process owns any more, and what is past the bounds."""
        now = self._clock()
        with self._locked():
            for path in self._root.glob("*.json"):
                state = _read_json(path)
                if state is None:
                    continue
                window = Window(*state["window"])
                if state["state"] == READY and now >= state.get("expires_at", 0):
                    self._delete(window)
                elif state["state"] in _UNDER_WAY and not self._owner_alive(window, state):
                    self._end(state, FAILED, "the worker loading it stopped: press Load again")
                    self._write(window, state)
                elif state["state"] in (FAILED, CANCELLED) and now - (state["finished_at"] or now) > FINISHED_KEPT_S:
                    self._delete(window)
            for path in self._root.glob("*.load"):  # a dead owner's lock file (its state said so above)
                key, job = path.name.split(".")[:2]
                state = _read_json(self._root / f"{key}.json")
                if (state is None or state.get("job") != job or state["state"] not in _UNDER_WAY) and _free(path):
                    path.unlink(missing_ok=True)
            for path in self._root.glob("*.prefix"):  # a prefix outlives no load
                state = _read_json(path.with_suffix(".json"))
                if state is None or state["state"] != LOADING or not self._owner_alive(Window(*state["window"]), state):
                    path.unlink(missing_ok=True)
            for path in [*self._root.glob("*.tmp"), *self._root.glob("*.part")]:
                if now - path.stat().st_mtime > 3_600:  # a pickle its writer never finished
                    path.unlink(missing_ok=True)
            self._bound()
        with self._memory_lock:
            gone = [w for w in self._memory if not self._history_path(w).exists()]
        for window in gone:
            self._forget(window)

    def _sweep_every(self, period: float) -> None:
        while not self._closed.wait(period):
            try:
                self.sweep()
            except Exception:  # the sweeper must outlive a bad file
                log.exception("sweeping the replay cache failed")

    def _bound(self) -> None:
        """Evict least recently used windows beyond `capacity` or `max_bytes` (lock held)."""
        ready = self._ready_files()
        total = sum(size for _, _, size in ready) + sum(_size(path) for path in self._root.glob("*.prefix"))
        while ready and (len(ready) > self._capacity or (total > self._max_bytes and len(ready) > 1)):
            window, _, size = ready.pop(0)
            log.info("replay window %s evicted (capacity %d, %d bytes)", window, self._capacity, total)
            self._delete(window)
            total -= size

    def _ready_files(self) -> list[tuple[Window, float, int]]:
        """(window, last use, bytes) of every ready window, least recently used first."""
        found = []
        for path in self._root.glob("*.history"):
            state = _read_json(path.with_suffix(".json"))
            try:
                info = path.stat()
            except FileNotFoundError:
                continue
            if state is not None and state["state"] == READY:
                found.append((Window(*state["window"]), info.st_mtime_ns, info.st_size))
        found.sort(key=lambda item: item[1])
        return found

    # ------------------------------------------------------------------ the load itself

    def _run(self, window: Window, job: str, load_fd: int) -> None:
        slot = None
        cancel = self._local[job]
        try:
            slot = self._slot(window, job, cancel)
            if slot is None:
                return
            with self._locked():
                state = self._current(window)
                if state is None or state["job"] != job or state["state"] != QUEUED:
                    return
                if state["cancel"] or cancel.is_set():
                    self._end(state, CANCELLED, "cancelled before it started")
                    self._write(window, state)
                    return
                state["state"], state["started_at"] = LOADING, self._clock()
                self._write(window, state)

            def progress(report: LoadProgress) -> None:
                if report.prefix is not None:
                    self._publish(window, job, report.prefix)
                with self._locked():
                    state = self._current(window)
                    if state is None or state["job"] != job:
                        raise LoadCancelled()
                    state.update(entries_read=report.entries_read, entries_estimated=report.entries_estimated,
                                 stream=report.stream)
                    if state["cancel"] or cancel.is_set():
                        self._end(state, CANCELLED, "cancelled")
                        self._write(window, state)
                        raise LoadCancelled()
                    self._write(window, state)

            self._load(window, job, progress)
        finally:
            if slot is not None:
                os.close(slot)
            with self._locked():
                self._local.pop(job, None)
                (self._root / f"{window_key(window)}.{job}.load").unlink(missing_ok=True)
            os.close(load_fd)

    def _load(self, window: Window, job: str, progress: ProgressCallback) -> None:
        try:
            history = self._loader(window, progress)
            kept_until = self._clock() + self._ttl_s
            oldest = oldest_position_ms(history)
            if self._retention_ms is not None and oldest is not None:
                kept_until = min(kept_until, (oldest + self._retention_ms) / 1000)
            written = self._pickle(window, job, history)
        except LoadCancelled:
            return  # the progress callback wrote CANCELLED
        except WindowUnavailable as refusal:
            self._finish(window, job, FAILED, str(refusal))
            return
        except Exception as error:  # a load must never take the thread pool down with it
            log.exception("loading replay window %s failed", window)
            self._finish(window, job, FAILED, f"loading failed: {error.__class__.__name__}: {error}")
            return
        with self._locked():
            state = self._current(window)
            if state is None or state["job"] != job:
                written.unlink(missing_ok=True)
                return
            os.replace(written, self._history_path(window))
            read = sum(v for k, v in history.stats.items() if k.startswith("read:")) or state["entries_read"]
            state.update(entries_read=read, entries_estimated=read, stream="done", expires_at=kept_until,
                         loaded_until_ms=window.to_ms, prefix=None)
            self._end(state, READY, "")
            self._write(window, state)
            self._remember(window, job, history)  # the loading process keeps what it built: no unpickling here
            self._bound()

    def _publish(self, window: Window, job: str, prefix: History) -> None:
        """A prefix of a load under way: pickled (outside the lock: it takes a while), then named in the state
        under a new generation, so that every worker serves frames up to its loaded_until_ms."""
        written = self._pickle(window, job, prefix)
        with self._locked():
            state = self._current(window)
            if state is None or state["job"] != job or state["state"] != LOADING:
                written.unlink(missing_ok=True)
                return
            os.replace(written, self._prefix_path(window))
            state.update(prefix=(state.get("prefix") or 0) + 1, loaded_until_ms=prefix.loaded_until_ms)
            self._write(window, state)
            self._remember(window, f"{job}:{state['prefix']}", prefix)

    def _pickle(self, window: Window, job: str, history: History) -> Path:
        path = self._root / f"{window_key(window)}.{job}.tmp"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as file:
                pickle.dump(history, file, protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return path

    def _finish(self, window: Window, job: str, outcome: str, error: str) -> None:
        with self._locked():
            state = self._current(window)
            if state is not None and state["job"] == job:
                self._end(state, outcome, error)
                self._write(window, state)

    def _slot(self, window: Window, job: str, cancel: threading.Event) -> int | None:
        """One of the host's `workers` load slots (a held flock), waiting while all are taken; None once the
        job was cancelled or replaced while it waited."""
        while True:
            for i in range(self._workers):
                fd = _open_private(self._root / f"slot-{i}.lock")
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return fd
                except BlockingIOError:
                    os.close(fd)
            state = self._current(window)
            if cancel.is_set() or state is None or state["job"] != job or state["state"] != QUEUED:
                return None
            time.sleep(SLOT_WAIT_S)

    # ------------------------------------------------------------------ files

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._thread_lock:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _state_path(self, window: Window) -> Path:
        return self._root / f"{window_key(window)}.json"

    def _history_path(self, window: Window) -> Path:
        return self._root / f"{window_key(window)}.history"

    def _prefix_path(self, window: Window) -> Path:
        return self._root / f"{window_key(window)}.prefix"

    def _current(self, window: Window) -> dict | None:
        """The window's state, None if absent or expired; a load whose owner died reads as failed."""
        state = _read_json(self._state_path(window))
        if state is None or state.get("window") != [window.site, window.from_ms, window.to_ms]:
            return None
        if state["state"] == READY and (self._clock() >= state.get("expires_at", 0)
                                        or not self._history_path(window).exists()):
            return None
        if state["state"] in _UNDER_WAY and not self._owner_alive(window, state):
            # The owner writes its last state before it lets go of the lock file: read again to tell a load
            # that just ended from one whose worker died.
            again = _read_json(self._state_path(window))
            if again is not None and again.get("job") != state["job"]:
                return self._current(window)
            if again is not None and again["state"] not in _UNDER_WAY:
                return None if again["state"] == READY and not self._history_path(window).exists() else again
            self._end(state, FAILED, "the worker loading it stopped: press Load again")
        return state

    def _owner_alive(self, window: Window, state: dict) -> bool:
        if state["job"] in self._local:
            return True
        return not _free(self._root / f"{window_key(window)}.{state['job']}.load")

    def _write(self, window: Window, state: dict) -> None:
        path = self._state_path(window)
        temporary = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.part")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(orjson.dumps(state))
        os.replace(temporary, path)

    def _end(self, state: dict, outcome: str, error: str) -> None:
        state.update(state=outcome, error=error, finished_at=self._clock(), prefix=None)
        if outcome != READY:
            state["loaded_until_ms"] = None
        self._prefix_path(Window(*state["window"])).unlink(missing_ok=True)  # whole, or nothing to show

    def _touch(self, window: Window) -> None:
        try:
            os.utime(self._history_path(window))
        except FileNotFoundError:
            pass

    def _delete(self, window: Window) -> None:
        self._history_path(window).unlink(missing_ok=True)
        self._prefix_path(window).unlink(missing_ok=True)
        self._state_path(window).unlink(missing_ok=True)
        self._forget(window)

    def _forget(self, window: Window) -> None:
        with self._memory_lock:
            self._memory.pop(window, None)

    def _status(self, state: dict) -> LoadStatus:
        end = state["finished_at"] if state["finished_at"] is not None else self._clock()
        began = state["started_at"] if state["started_at"] is not None else state["queued_at"]
        return LoadStatus(Window(*state["window"]), state["state"], entries_read=state["entries_read"],
                          entries_estimated=state["entries_estimated"], stream=state["stream"],
                          error=state["error"], elapsed_s=max(0.0, end - began),
                          loaded_until_ms=state["window"][2] if state["state"] == READY else state.get("loaded_until_ms"))


def _private_directory(path: Path) -> None:
    """The cache's directory, 0700: copies of recordings are for this service's user only."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def _open_private(path: Path) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.fchmod(fd, 0o600)
    return fd


def _free(path: Path) -> bool:
    """Whether nobody holds `path`'s flock (a missing file: nobody does)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _read_json(path: Path) -> dict | None:
    try:
        return orjson.loads(path.read_bytes())
    except (FileNotFoundError, orjson.JSONDecodeError):
        return None
