"""Reading a patrol's status record over a bounded window: its reports and its assignment events.

The live picture keeps only each patrol's latest report; how long it has held
its status, and what it did this shift, are read from the retained streams
(domain/unit_status.py folds them):

- `{site}:in:patrols`, read backwards from now (XREVRANGE, in chunks); a
  report ingest refused changes nothing: as in replay (store/history.py), the
  entries the dead-letter stream names are skipped, and only those ingest has
  not judged yet are validated here (validate.py, against their own arrival
  time), which spares validating every report again;
- `{site}:assignments` over the same window (a few thousand entries a day).

Bounded three ways: the window (`DEFAULT_WINDOW_MS`, 12 h: a shift), the
number of input entries read (`DEFAULT_MAX_ENTRIES`), and, when the caller
says which status each patrol holds now, reading stops as soon as every
patrol's current status has a known start (`unit_status.settled`). What was
read is said (`read_from_ms`, `complete`), so a figure taken from it can be
shown as "at least". Writes nothing, takes no lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

import redis

from ..domain import unit_status
from ..domain.models import PatrolStatus
from ..domain.unit_status import Event, Report
from ..domain.validate import ClockLimits, Rejection, validate
from ..keys import INGEST_GROUP, Keys
from .raw_replies import raw_client
from .history import _cyclic_gc_paused, _unjudged_from  # replay's own rules for what ingest judged

_STATUSES = {status.value.encode(): status.value for status in PatrolStatus}

DEFAULT_WINDOW_MS = 12 * 3_600_000  # "this shift": no shift is longer
DEFAULT_MAX_ENTRIES = 100_000  # about 20 s of a 5,000-patrol city, hours of a city's two dozen
DEFAULT_CHUNK = 5_000


@dataclass
class StatusRecord:
    """What was read: reports (arrival order) and assignment events (stream order) by patrol."""

    reports: dict[str, list[Report]] = field(default_factory=dict)
    events: dict[str, list[Event]] = field(default_factory=dict)
    read_from_ms: int = 0  # reports received from this instant on were all read
    complete: bool = True  # the whole window was read (not cut short by the entry bound)
    entries_read: int = 0

    def changes(self, patrol_id: str) -> list[unit_status.Change]:
        return unit_status.timeline(self.reports.get(patrol_id, []), self.events.get(patrol_id, []))


def read_status_record(
    client: redis.Redis, keys: Keys, now_ms: int, *, patrol_ids: Iterable[str] | None = None,
    current: Mapping[str, str] | None = None, window_ms: int = DEFAULT_WINDOW_MS,
    max_entries: int = DEFAULT_MAX_ENTRIES, chunk: int = DEFAULT_CHUNK, limits: ClockLimits = ClockLimits(),
) -> StatusRecord:
    """The record of `patrol_ids` (None: every patrol) over the `window_ms` before `now_ms`.

    `current` (patrol_id -> status in the picture now), when given, lets reading
    stop once each of those patrols' current status has a settled start.
    """
    wanted = None if patrol_ids is None else {str(p) for p in patrol_ids}
    start_ms = max(0, int(now_ms) - int(window_ms))
    record = StatusRecord(read_from_ms=start_ms)
    raw = raw_client(client)  # replies left as bytes lists (one server or a cluster's master: issue 14)
    with _cyclic_gc_paused():  # many short-lived reply lists, no cycles: see store/history.py
        _read_events(raw, keys, start_ms, wanted, record, chunk)
        refused = _refused(raw, keys, start_ms, max_entries, chunk)
        unjudged = _unjudged_from(client, keys.in_patrols, INGEST_GROUP)
        _read_reports(raw, keys, start_ms, wanted, current, record, max_entries, chunk, limits, refused, unjudged)
    return record


def _refused(raw: redis.Redis, keys: Keys, start_ms: int, max_entries: int, chunk: int) -> set[bytes]:
    """Ids of the patrol reports ingest dead-lettered since `start_ms` (written after their entry)."""
    refused: set[bytes] = set()
    low, read = f"{start_ms}-0", 0
    while read < max_entries:
        entries = raw.execute_command("XRANGE", keys.deadletter, low, "+", "COUNT", chunk)
        read += len(entries)
        for _, fields in entries:
            found = dict(zip(fields[0::2], fields[1::2]))
            if found.get(b"source") == b"patrol" and b"entry_id" in found:
                refused.add(found[b"entry_id"])
        if len(entries) < chunk:
            break
        low = b"(" + entries[-1][0]
    return refused


def _read_events(raw: redis.Redis, keys: Keys, start_ms: int, wanted: set[str] | None, record: StatusRecord,
                 chunk: int) -> None:
    low = f"{start_ms}-0"
    while True:
        entries = raw.execute_command("XRANGE", keys.assignments, low, "+", "COUNT", chunk)
        for _, fields in entries:
            event = {n.decode(): v.decode("utf-8", "replace") for n, v in zip(fields[0::2], fields[1::2])}
            patrol_id = event.get("patrol_id", "")
            if not patrol_id or (wanted is not None and patrol_id not in wanted):
                continue
            try:
                ts = int(event.get("ts", ""))
            except ValueError:
                continue
            record.events.setdefault(patrol_id, []).append(
                Event(ts, event.get("state", ""), event.get("sighting_id", ""), event.get("assignment_id", "")))
        if len(entries) < chunk:
            return
        low = b"(" + entries[-1][0]


def _read_reports(raw: redis.Redis, keys: Keys, start_ms: int, wanted: set[str] | None,
                  current: Mapping[str, str] | None, record: StatusRecord, max_entries: int, chunk: int,
                  limits: ClockLimits, refused: set[bytes], unjudged: tuple[int, int]) -> None:
    backwards: dict[str, list[Report]] = {}
    unsettled = None if current is None else {p for p in current if wanted is None or p in wanted}
    high: bytes | str = "+"
    while True:
        count = max(1, min(chunk, max_entries - record.entries_read))
        entries = raw.execute_command("XREVRANGE", keys.in_patrols, high, f"{start_ms}-0", "COUNT", count)
        record.entries_read += len(entries)
        for entry_id, fields in entries:
            found = dict(zip(fields[0::2], fields[1::2]))
            patrol_id = found.get(b"patrol_id", b"").decode("utf-8", "replace")
            if (wanted is not None and patrol_id not in wanted) or entry_id in refused:
                continue
            ms, _, seq = entry_id.partition(b"-")
            status = _STATUSES.get(found.get(b"status", b""))
            ts = found.get(b"ts", b"")
            if (int(ms), int(seq or 0)) >= unjudged or status is None or not ts.isdigit():
                # Not judged by ingest yet, or written in a form the contract allows but not plainly
                # (e.g. "1.7e12"): judged here exactly as ingest judges it.
                verdict = validate("patrol", found, int(ms), limits)
                if isinstance(verdict, Rejection):
                    continue
                status, ts = verdict.status.value, verdict.ts
            backwards.setdefault(patrol_id, []).append(Report(int(ts), status))
        if len(entries) < count:
            break  # the window's start (or the stream's) is reached: all read
        oldest = int(entries[-1][0].split(b"-")[0])
        high = b"(" + entries[-1][0]
        if record.entries_read >= max_entries:
            record.read_from_ms, record.complete = oldest, False
            break
        if unsettled is not None:
            bound = oldest + limits.max_future_ms  # no report older than what was read has a greater ts
            # A patrol whose reports read so far all say the same, with no assignment event, has one status
            # only: nothing settled yet, and no need to fold its reports again to know it.
            changing = {p for p in unsettled
                        if p in record.events or len({r.status for r in backwards.get(p, ())}) > 1}
            record.reports = {p: backwards[p][::-1] for p in changing if p in backwards}
            unsettled = {p for p in unsettled
                         if p not in changing
                         or not unit_status.settled(record.changes(p), record.reports.get(p, []), bound)}
            if not unsettled:
                record.read_from_ms, record.complete = oldest, False
                break
    record.reports = {p: reports[::-1] for p, reports in backwards.items()}
