"""Reading a window of the retained streams for replay, never the live picture.

`load_window` reads, with XRANGE in chunks (resuming after the last id), the
input streams, the assignment, alert and sighting-ending streams and the dead letters, and
hands them to domain/replay/history.py as a `History`. It works on any window still
retained, while the live system runs: it writes nothing and takes no lock.

What it keeps, and why:
- Positions (telemetry, patrol reports) whose *message* ts is in
  [from_ms - lead_in_ms, to_ms]. Stream ids are arrival times, and ingest
  accepts a ts up to `max_future` ahead of arrival and `max_past` behind it,
  so the id range is padded by `max_future` before and by `late_ms` after
  (not by the 6 h of max_past: that would read most of another shift). A
  message arriving more than `late_ms` after its own ts is missed only if its
  ts falls in the window's last `late_ms`. The lead-in (5 min by default,
  beyond a parked patrol's 30-60 s report interval) places every unit at the
  window's start.
- Sightings, assignments, alerts and sighting endings from `context_from_ms`
  (default: the start of what is retained, a few thousand entries a day): a
  sighting left open yesterday is still open at the window's start, and one
  closed, merged or expired before it is not.
- Incident numbers ("S-0142"): not in the input streams (ingest allocates
  them), so they come from each ending's record and, for sightings still
  open, from the sightings hash (HMGET of the number only: it never changes,
  so this is no read of the live picture's state).
- Entries ingest refused: the dead-letter stream lists them by source and
  entry id; they are skipped, which spares re-validating millions of
  positions (validation is deterministic, so the verdict would be the same).
  Entries ingest has not judged yet (after the consumer group's
  last-delivered id, or still pending) are validated here exactly as ingest
  will (validate.py, judged against their own arrival time). Sightings, a few
  thousand rows, are always validated. Any remaining unparsable position row
  is counted and dropped (History.stats).

Read order (issue 15: a first frame before the whole window is read): the dead
letters, then the small context streams (sightings, assignments, alerts,
endings), then both position streams together, slice by slice in arrival (id)
time, so that after each slice every position that arrived by its end is read.
With `prefixes`, a History of what is read so far (exact up to its
loaded_until_ms, domain/replay/progressive.py) goes to the progress callback once
the window's start is exact and then at the checkpoints' pace.

Progress: `progress(LoadProgress)` is called after every chunk with entries
read against an estimate (XLEN scaled by the share of the stream's id span the
window covers), so a page can show a bar while a long shift loads.
"""

from __future__ import annotations

import gc
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator

import orjson
import redis

from ..domain.replay.history import History
from ..domain.replay.progressive import Checkpoints, loaded_until, slice_ends
from ..domain.replay.frames import PositionColumns, alert_frame, assignment_frame, ending_frame, sighting_frame
from ..domain.models import SightingEnd
from ..domain.validate import ClockLimits, Rejection, validate
from ..keys import INGEST_GROUP, Keys
from .raw_replies import raw_client

DEFAULT_CHUNK = 10_000
DEFAULT_LEAD_IN_MS = 300_000
DEFAULT_LATE_MS = 300_000

StreamId = tuple[int, int]
_AFTER_EVERYTHING: StreamId = (2**64, 0)


@dataclass(frozen=True)
class LoadProgress:
    """How far loading is: `stream` being read ("deadletter", "telemetry", "patrol", "sighting",
    "assignments", "alerts", "endings", then "done"), entries read so far over all streams, and the estimate."""

    stream: str
    entries_read: int
    entries_estimated: int
    prefix: History | None = field(default=None, compare=False, repr=False)
    """A History of what is read so far, exact up to its loaded_until_ms (only with `prefixes`)."""

    @property
    def fraction(self) -> float:
        if self.entries_estimated <= 0:
            return 1.0
        return min(1.0, self.entries_read / self.entries_estimated)


ProgressCallback = Callable[[LoadProgress], None]


def clock_limits(max_future_s: float, max_past_s: float) -> ClockLimits:
    """The limits ingest judges with (settings.max_future_s / max_past_s): pass the same to load_window."""
    return ClockLimits(max_future_ms=int(max_future_s * 1000), max_past_ms=int(max_past_s * 1000))


def load_window(
    client: redis.Redis, keys: Keys, from_ms: int, to_ms: int, *,
    progress: ProgressCallback | None = None, limits: ClockLimits = ClockLimits(),
    lead_in_ms: int = DEFAULT_LEAD_IN_MS, late_ms: int = DEFAULT_LATE_MS, context_from_ms: int | None = None,
    chunk: int = DEFAULT_CHUNK, group: str = INGEST_GROUP, prefixes: Checkpoints | None = None,
) -> History:
    """Everything retained about [from_ms, to_ms], as a History ready to seek.

    With `prefixes` (and a `progress`), Histories of what is read so far are handed to `progress`
    (LoadProgress.prefix) at the window's start and then at the checkpoints' pace, while the load goes on.
    """
    if to_ms < from_ms:
        raise ValueError(f"window ends before it starts: {from_ms} > {to_ms}")
    with _cyclic_gc_paused():
        return _load(client, keys, from_ms, to_ms, progress=progress, limits=limits, lead_in_ms=lead_in_ms,
                     late_ms=late_ms, context_from_ms=context_from_ms, chunk=chunk, group=group,
                     checkpoints=prefixes)


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Millions of short-lived reply lists would trigger the cyclic collector over and over, each pass
    walking everything alive; none of them forms a cycle, reference counting frees them all."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _load(client: redis.Redis, keys: Keys, from_ms: int, to_ms: int, *, progress: ProgressCallback | None,
          limits: ClockLimits, lead_in_ms: int, late_ms: int, context_from_ms: int | None, chunk: int,
          group: str, checkpoints: Checkpoints | None) -> History:
    reader = _Reader(client, chunk, progress)
    position_start = max(0, from_ms - lead_in_ms - limits.max_future_ms)
    context_start = 0 if context_from_ms is None else max(0, context_from_ms - limits.max_future_ms)
    end = to_ms + late_ms
    ranges = {
        "telemetry": (keys.in_telemetry, position_start),
        "patrol": (keys.in_patrols, position_start),
        "sighting": (keys.in_sightings, context_start),
        "assignments": (keys.assignments, context_start),
        "alerts": (keys.alerts, context_start),
        "endings": (keys.sighting_endings, context_start),
    }
    estimates = reader.estimate({name: (key, start, end) for name, (key, start) in ranges.items()} | {
        "deadletter": (keys.deadletter, min(position_start, context_start), None)})
    dead = _dead_letters(reader, keys.deadletter, min(position_start, context_start))
    stats: dict[str, int] = {}

    # The context first (a few thousand entries a day): every prefix then has all of the window's events.
    key, start = ranges["sighting"]
    sightings = []
    skipped = dead.get("sighting", set())
    for entries in reader.chunks("sighting", key, start, end):
        for entry_id, fields in entries:
            if entry_id in skipped:
                _count(stats, "deadletter:sighting")
                continue
            verdict = validate("sighting", dict(zip(fields[0::2], fields[1::2])), _ms(entry_id), limits)
            if isinstance(verdict, Rejection):
                _count(stats, "rejected:sighting")
            elif isinstance(verdict, SightingEnd):
                continue  # an operator's end: what it ended (if anything) is on the endings' record
            elif verdict.ts <= to_ms and (context_from_ms is None or verdict.ts >= context_from_ms):
                sightings.append(verdict)
    _count(stats, "deadletter:sighting", 0)

    assignments = [event for event in _decoded(reader, "assignments", *ranges["assignments"], end)
                   if int(event["ts"]) <= to_ms]
    alerts = [event for event in _decoded(reader, "alerts", *ranges["alerts"], end) if int(event["ts"]) <= to_ms]
    endings = [event for event in _decoded(reader, "endings", *ranges["endings"], end) if int(event["ts"]) <= to_ms]
    numbers = _numbers(client, keys, {m.sighting_id for m in sightings})
    context = {"sightings": sighting_frame(sightings), "assignments": assignment_frame(assignments),
               "alerts": alert_frame(alerts), "endings": ending_frame(endings), "numbers": numbers}

    # Then the positions, both kinds slice by slice in arrival time: after a slice, every position that
    # arrived by its end is read, and the picture is exact up to that end less late_ms (progressive.py).
    columns = {kind: PositionColumns(kind) for kind in ("telemetry", "patrol")}
    unjudged = {kind: _unjudged_from(client, ranges[kind][0], group) for kind in columns}
    position_entries = estimates.get("telemetry", 0) + estimates.get("patrol", 0)
    low = position_start
    for high in slice_ends(position_start, end, position_entries, chunk, head_ms=from_ms + late_ms):
        for kind, found in columns.items():
            for rows in _judged(reader, kind, ranges[kind][0], low, high, dead.get(kind, set()), unjudged[kind],
                                limits, stats):
                found.add(rows)
        low = high + 1
        until = loaded_until(high, from_ms, to_ms, late_ms)
        if checkpoints is not None and progress is not None and checkpoints.due(time.monotonic(), until, to_ms):
            started = time.monotonic()
            positions = {kind: found.snapshot(from_ms - lead_in_ms, to_ms)[0] for kind, found in columns.items()}
            prefix = History(positions["telemetry"], positions["patrol"], context["sightings"],
                             context["assignments"], context["alerts"], bounds=(from_ms, to_ms),
                             stats={"prefix": 1}, endings=context["endings"], numbers=numbers,
                             loaded_until_ms=until)
            reader.prefix(prefix)
            checkpoints.done(started, time.monotonic())

    positions = {}
    for kind, found in columns.items():
        positions[kind], stats[f"outside:{kind}"] = found.frame(from_ms - lead_in_ms, to_ms)
        stats[f"unparsable:{kind}"] = found.unparsable
        _count(stats, f"deadletter:{kind}", 0)
    if checkpoints is not None:
        stats["prefixes"] = checkpoints.published
        stats["prefix_ms"] = round(checkpoints.spent_s * 1000)
    reader.done()
    stats.update({f"read:{name}": count for name, count in reader.read.items()})
    return History(positions["telemetry"], positions["patrol"], context["sightings"], context["assignments"],
                   context["alerts"], bounds=(from_ms, to_ms), stats=stats, endings=context["endings"],
                   numbers=numbers)


class _Reader:
    """XRANGE in chunks, replies left raw (lists of bytes: no dict per entry), with progress."""

    def __init__(self, client: redis.Redis, chunk: int, progress: ProgressCallback | None):
        # A sibling client on the same pool (same retry policy), whose XRANGE replies skip redis-py's
        # conversion to dicts: the conversion to columns happens once, in replay_frames.
        # (on a cluster, the same on the site's master: raw_replies.raw_client, issue 14)
        self.raw = raw_client(client)
        self.chunk = chunk
        self.progress = progress
        self.read: dict[str, int] = {}
        self.estimated = 0

    def estimate(self, ranges: dict[str, tuple[str, int, int | None]]) -> dict[str, int]:
        """Entries each range likely holds (XLEN scaled by the share of the stream's id span it covers)."""
        pipe = self.raw.pipeline(transaction=False)
        for key, _, _ in ranges.values():
            pipe.xlen(key)
            pipe.execute_command("XRANGE", key, "-", "+", "COUNT", 1)
            pipe.execute_command("XREVRANGE", key, "+", "-", "COUNT", 1)
        replies = pipe.execute()
        found = {}
        for i, (name, (_, start, end)) in enumerate(ranges.items()):
            length, first, last = replies[3 * i: 3 * i + 3]
            if not length:
                continue
            low, high = _ms(first[0][0]), _ms(last[0][0])
            covered = min(high, end if end is not None else high) - max(low, start)
            found[name] = length if high == low else max(0, round(length * min(1.0, (covered + 1) / (high - low + 1))))
        self.estimated = sum(found.values())
        return found

    def chunks(self, name: str, key: str, start_ms: int, end_ms: int | None) -> Iterator[list]:
        """The entries with ids in [start_ms, end_ms] (None: to the end), `chunk` at a time."""
        low, high = f"{start_ms}-0", "+" if end_ms is None else f"{end_ms}-{2**64 - 1}"
        while True:
            entries = self.raw.execute_command("XRANGE", key, low, high, "COUNT", self.chunk)
            if not entries:
                return
            self.read[name] = self.read.get(name, 0) + len(entries)
            self._report(name)
            yield entries
            if len(entries) < self.chunk:
                return
            low = b"(" + entries[-1][0]

    def _report(self, name: str) -> None:
        if self.progress is not None:
            read = sum(self.read.values())
            self.estimated = max(self.estimated, read)
            self.progress(LoadProgress(name, read, self.estimated))

    def prefix(self, history: History) -> None:
        """Hands a prefix History to whoever follows the load (the cache publishes it)."""
        if self.progress is not None:
            read = sum(self.read.values())
            self.progress(LoadProgress("positions", read, max(self.estimated, read), prefix=history))

    def done(self) -> None:
        if self.progress is not None:
            read = sum(self.read.values())
            self.progress(LoadProgress("done", read, read))


def _numbers(client: redis.Redis, keys: Keys, sighting_ids: set[str], chunk: int = 1000) -> dict[str, str]:
    """Incident numbers of the window's sightings still in the sightings hash (ended ones are not)."""
    ids, found = sorted(sighting_ids), {}
    for start in range(0, len(ids), chunk):
        part = ids[start:start + chunk]
        for sighting_id, raw in zip(part, client.hmget(keys.sightings, part)):
            number = orjson.loads(raw).get("number") if raw else None
            if isinstance(number, str):
                found[sighting_id] = number
    return found


def _dead_letters(reader: _Reader, key: str, start_ms: int) -> dict[str, set[bytes]]:
    """Entry ids ingest refused, by source. Dead letters are written after their entry, so from start_ms on."""
    dead: dict[str, set[bytes]] = {}
    for entries in reader.chunks("deadletter", key, start_ms, None):
        for _, fields in entries:
            found = dict(zip(fields[0::2], fields[1::2]))
            source, entry_id = found.get(b"source"), found.get(b"entry_id")
            if source is not None and entry_id is not None:
                dead.setdefault(source.decode("ascii", "replace"), set()).add(entry_id)
    return dead


def _unjudged_from(client: redis.Redis, key: str, group: str) -> StreamId:
    """First id ingest may not have judged yet: still pending, or never delivered. (0, 0) if no group."""
    try:
        groups = client.xinfo_groups(key)
    except redis.ResponseError:  # no such key: nothing to judge either way
        return _AFTER_EVERYTHING
    info = next((g for g in groups if g["name"] in (group, group.encode())), None)
    if info is None:
        return (0, 0)
    delivered = _id(info["last-delivered-id"])
    first = (delivered[0], delivered[1] + 1)
    if info["pending"]:
        pending = client.xpending(key, group)
        if pending.get("min"):
            first = min(first, _id(pending["min"]))
    return first


def _judged(reader: _Reader, kind: str, key: str, start: int, end: int, dead: set[bytes], unjudged: StreamId,
            limits: ClockLimits, stats: dict[str, int]) -> Iterator[list]:
    # (entries are skipped and counted per call: a load calls it once per slice)
    """Field lists of the entries ingest accepted, or would accept, chunk by chunk."""
    skipped = 0
    for entries in reader.chunks(kind, key, start, end):
        if dead:
            kept = [entry for entry in entries if entry[0] not in dead]
            skipped += len(entries) - len(kept)
            entries = kept
        if entries and _id(entries[-1][0]) >= unjudged:
            split = next(i for i, entry in enumerate(entries) if _id(entry[0]) >= unjudged)
            judged = [fields for _, fields in entries[:split]]
            for entry_id, fields in entries[split:]:
                _count(stats, f"unjudged:{kind}")
                verdict = validate(kind, dict(zip(fields[0::2], fields[1::2])), _ms(entry_id), limits)
                if isinstance(verdict, Rejection):
                    _count(stats, f"rejected:{kind}")
                else:
                    judged.append(fields)
            yield judged
        else:
            yield [fields for _, fields in entries]
    if skipped:
        _count(stats, f"deadletter:{kind}", skipped)


def _decoded(reader: _Reader, name: str, key: str, start: int, end: int) -> Iterator[dict]:
    for entries in reader.chunks(name, key, start, end):
        for _, fields in entries:
            event = {n.decode(): v.decode("utf-8", "replace") for n, v in zip(fields[0::2], fields[1::2])}
            if "alert" in event:
                event["alert"] = orjson.loads(event["alert"])
            yield event


def _id(entry_id: bytes | str) -> StreamId:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


def _ms(entry_id: bytes | str) -> int:
    return _id(entry_id)[0]


def _count(stats: dict[str, int], name: str, by: int = 1) -> None:
    stats[name] = stats.get(name, 0) + by
