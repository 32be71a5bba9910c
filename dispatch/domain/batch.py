"""Turn one batch of raw input entries into the writes the store must make.

Pure: the ingest worker reads entries from Redis, asks `plan_batch` what to do,
and hands the plan to one atomic Redis script. Keeping the decision here means
it is tested without Redis and the script stays a dumb executor.

Within a batch, units are coalesced: only the latest message of each drone,
patrol and sighting is written (the picture rule of picture.py), which is what
makes ingest cheap when drones report several times a second.

Whatever a bridge writes, the plan stays bounded, so the atomic step that
applies it cannot be made to fail by the shape of an entry: an entry with more
than `MAX_FIELDS` fields or `MAX_ENTRY_BYTES` bytes is refused before it is
parsed, and a rejected entry carries only a truncated copy of its fields to
the dead letter (`DEADLETTER_*` limits below; docs/streams.md, "Size limits").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

import orjson

from .numbers import local_day
from .models import PatrolReport, PatrolStatus, Sighting, SightingEnd, Telemetry
from .picture import Picture, apply
from .sightings import Disposition, Ending, check_operator
from .validate import (MAX_FIELDS, MAX_NAME_BYTES, MAX_VALUE_BYTES, ClockLimits, Rejection,
                       telemetry_row, telemetry_row_values, telemetry_values, validate, within_clock)


GEO_MAX_LATITUDE = 85.05112878

# An entry's total size (names and values): the largest valid message is well
# under 1 KiB; 8 KiB leaves room for every field at its own limit but one.
MAX_ENTRY_BYTES = 8_192
# What a dead letter keeps of a rejected entry: its first fields, each cut to
# the contract's own limits, so an entry within the size limits is kept whole
# and the largest dead letter is about 9 KiB whatever was sent.
DEADLETTER_MAX_FIELDS = MAX_FIELDS
DEADLETTER_MAX_NAME_BYTES = MAX_NAME_BYTES
DEADLETTER_MAX_VALUE_BYTES = MAX_VALUE_BYTES
DEADLETTER_MAX_REASON_BYTES = 1_024


@dataclass(frozen=True)
class RawEntry:
    """One input stream entry exactly as read: untrusted bytes."""

    kind: str
    entry_id: str
    fields: Mapping[bytes, bytes] | None  # None: the entry was trimmed before it was read

    @property
    def received_ms(self) -> int:
        """When Redis received the entry: the millisecond part of its id."""
        return int(self.entry_id.split("-", 1)[0])


@dataclass(frozen=True)
class RejectedEntry:
    """What goes to the dead letter: build it with `reject`, which bounds it."""

    kind: str
    entry_id: str
    reason: str
    fields: Mapping[bytes, bytes]
    truncated: str = ""  # empty when the fields are the whole entry, else what was cut


def reject(entry: RawEntry, reason: str) -> RejectedEntry:
    """A bounded dead letter for `entry`: reason and fields cut to the DEADLETTER_* limits."""
    fields = entry.fields or {}
    kept: dict[bytes, bytes] = {}
    for name, value in fields.items():
        if len(kept) == DEADLETTER_MAX_FIELDS:
            break
        kept[_cut(name, DEADLETTER_MAX_NAME_BYTES)] = _cut(value, DEADLETTER_MAX_VALUE_BYTES)
    total, kept_bytes = entry_bytes(fields), entry_bytes(kept)
    truncated = ""
    if len(kept) < len(fields) or kept_bytes < total:
        truncated = f"kept {len(kept)} of {len(fields)} fields, {kept_bytes} of {total} bytes"
    reason_bytes = reason.encode("utf-8", "replace")[:DEADLETTER_MAX_REASON_BYTES]
    return RejectedEntry(entry.kind, entry.entry_id, reason_bytes.decode("utf-8", "ignore"), kept, truncated)


def entry_bytes(fields: Mapping[bytes | str, bytes | str]) -> int:
    """Bytes of every name and value, as Redis stores them."""
    return sum(len(_raw(name)) + len(_raw(value)) for name, value in fields.items())


def _raw(text: bytes | str) -> bytes:
    return text if isinstance(text, bytes) else str(text).encode("utf-8", "surrogatepass")


def _cut(text: bytes | str, limit: int) -> bytes:
    return _raw(text)[:limit]


@dataclass(frozen=True)
class UnitWrite:
    """The latest value of one unit, serialised once, as stored and as published."""

    unit_id: str
    ts: int
    json: bytes


@dataclass(frozen=True)
class PatrolWrite(UnitWrite):
    lon: float = 0.0
    lat: float = 0.0
    available: bool = False


@dataclass(frozen=True)
class SightingWrite(UnitWrite):
    """A sighting also carries the local day its number comes from, should it be new (domain/numbers.py):
    the day Redis received its first entry in the batch."""

    day: str = ""


@dataclass(frozen=True)
class EndWrite:
    """An operator ending its sighting: the entry (its acknowledgement decides whether it still counts), who
    sent it, and the ending record's fields. Whether it ends anything is decided in the atomic step, against
    the stored state: open, unassigned, reported by this operator (store/scripts.py)."""

    entry_id: str
    operator_id: str
    ending: Ending


@dataclass
class BatchPlan:
    accepted: dict[str, list[str]] = field(default_factory=dict)  # kind -> entry ids
    rejected: list[RejectedEntry] = field(default_factory=list)
    drones: list[UnitWrite] = field(default_factory=list)
    patrols: list[PatrolWrite] = field(default_factory=list)
    sightings: list[SightingWrite] = field(default_factory=list)
    ends: list[EndWrite] = field(default_factory=list)  # operators' ends, after the batch's sighting writes
    ignored: dict[str, int] = field(default_factory=dict)  # reason -> accepted entries that change nothing
    # (none today: the atomic step counts its own `ignored:<reason>`; the plan may add counted ignores here)

    @property
    def size(self) -> int:
        return sum(len(ids) for ids in self.accepted.values()) + len(self.rejected)


def plan_batch(entries: Iterable[RawEntry], limits: ClockLimits = ClockLimits(), zone: str = "UTC",
               reported_by: Mapping[str, str] | None = None) -> BatchPlan:
    """`zone`: DISPATCH_TIMEZONE, whose local day numbers new sightings.

    `reported_by`: sighting id -> operator who reported it, for the open sightings this batch names (the
    worker reads them first). An update or an end from another operator is dead-lettered
    (sightings.check_operator); a sighting's operator never changes, so a stale read can only miss a
    sighting reported meanwhile, which the atomic step checks again.

    The atomic step applies a batch's sighting writes before its ends, so nothing about a sighting may
    follow its end in one batch: the worker cuts batches there first (`split_at_ends`).
    """
    planner = _Planner(limits, zone, reported_by)
    for entry in entries:
        planner.add(entry)
    return planner.plan()


def plan_rows(reply: Iterable[tuple[str, list]], limits: ClockLimits = ClockLimits(), zone: str = "UTC",
              reported_by: Mapping[str, str] | None = None) -> BatchPlan:
    """`plan_batch` of entries as Redis returns them: (kind, [[id, [name, value, ...] or None], ...]) per
    stream, ids and fields as bytes, ids rising within a stream. The same plan, without a RawEntry or a dict per entry: the ingest hot
    path (issue 15). Telemetry in the common shape is judged by `validate.telemetry_row` alone (no float()
    unless it wins its drone); any other entry becomes the RawEntry that redis-py's parsing would have made
    (a field named twice: the last value) and is judged by `plan_batch`'s own steps, in stream order."""
    planner = _Planner(limits, zone, reported_by)
    drones, add = planner.drones, planner.add
    max_future, max_past = limits.max_future_ms, limits.max_past_ms
    for kind, messages in reply:
        fast = kind == "telemetry" and messages
        accept = planner.accepted(kind).append
        # A stream's ids rise: a ts within the clock limits of both the first and the last entry's arrival
        # is within those of every entry between (validate.within_clock), checked without reading the id.
        earliest = _received_ms(messages[0][0]) if fast else 0
        latest = _received_ms(messages[-1][0]) if fast else 0
        for raw_id, flat in messages:
            values = telemetry_row(flat) if fast else None
            if values is not None:
                ts = int(values[3])
                if ts - earliest <= max_future and latest - ts <= max_past:
                    skew = 0
                else:
                    skew = ts - _received_ms(raw_id)
                if skew <= max_future and -skew <= max_past:  # validate.within_clock
                    accept(raw_id.decode())
                    current = drones.get(values[1])
                    if current is None or current[0] < ts:
                        drones[values[1]] = (ts, values)
                    continue
            add(RawEntry(kind, raw_id.decode(), row_fields(flat)))
    return planner.plan()


def _received_ms(raw_id: bytes) -> int:
    return int(raw_id[:raw_id.index(b"-")])


def row_fields(flat: list | None) -> dict | None:
    """What streams.read_group makes of an entry's field list: redis-py's pairs_to_dict, empty as None."""
    if not flat:
        return None
    pairs = iter(flat)
    return dict(zip(pairs, pairs)) or None


class _Planner:
    """One batch's plan, built entry by entry in stream order (`plan_batch`, `plan_rows`)."""

    def __init__(self, limits: ClockLimits, zone: str, reported_by: Mapping[str, str] | None):
        self.limits, self.zone = limits, zone
        self.result = BatchPlan()
        self.latest = Picture()
        self.arrived: dict[str, int] = {}  # sighting id -> when Redis received its first entry of the batch
        self.owners = dict(reported_by or {})
        # The hot path, telemetry: what `apply` does for a drone, inline, on (ts, values or model); a model
        # is built only for each drone's newest entry (validate.telemetry_values, telemetry_row: the common
        # shape, judged fast), keyed by the drone id's bytes.
        self.drones: dict[bytes, tuple[int, Telemetry | dict | list]] = {}

    def accepted(self, kind: str) -> list[str]:
        """The ids of the kind accepted so far (the list itself, to append to)."""
        return self.result.accepted.setdefault(kind, [])

    def accept(self, kind: str, entry_id: str) -> None:
        self.accepted(kind).append(entry_id)

    def add(self, entry: RawEntry) -> None:
        plan, limits = self.result, self.limits
        if entry.kind == "telemetry" and entry.fields is not None:
            values = telemetry_values(entry.fields)
            if values is not None and within_clock(values["ts"], entry.received_ms, limits):
                self.accept(entry.kind, entry.entry_id)
                self._coalesce(values["drone_id"], values["ts"], values)
                return
        verdict = _judge(entry, limits)
        if type(verdict) is Telemetry:
            self.accept(entry.kind, entry.entry_id)
            self._coalesce(verdict.drone_id, verdict.ts, verdict)
            return
        if isinstance(verdict, (Sighting, SightingEnd)):
            refusal = check_operator(verdict.sighting_id, reported_by=self.owners.get(verdict.sighting_id),
                                     operator_id=verdict.operator_id)
            verdict = Rejection(refusal) if refusal else verdict
        if isinstance(verdict, Rejection):
            plan.rejected.append(reject(entry, verdict.reason))
            return
        self.accept(entry.kind, entry.entry_id)
        if isinstance(verdict, SightingEnd):
            plan.ends.append(EndWrite(entry.entry_id, verdict.operator_id, Ending(
                verdict.sighting_id, Disposition.ENDED_BY_OPERATOR, verdict.ts, verdict.operator_id,
                reason=verdict.ended, text=verdict.note)))
            return
        if isinstance(verdict, Sighting):
            self.owners.setdefault(verdict.sighting_id, verdict.operator_id)
        apply(self.latest, verdict)
        if isinstance(verdict, Sighting):
            arrived = self.arrived
            arrived[verdict.sighting_id] = min(arrived.get(verdict.sighting_id, entry.received_ms),
                                               entry.received_ms)

    def _coalesce(self, drone_id: str, ts: int, message) -> None:
        # Keyed by the id's bytes, as the row path reads it: a drone seen both ways is one drone.
        drones, key = self.drones, drone_id.encode("utf-8", "surrogatepass")
        current = drones.get(key)
        if current is None or current[0] < ts:
            drones[key] = (ts, message)

    def plan(self) -> BatchPlan:
        plan, zone = self.result, self.zone
        plan.accepted = {kind: ids for kind, ids in plan.accepted.items() if ids}
        plan.drones = [_drone_write(message) for _, message in self.drones.values()]
        plan.sightings = [
            SightingWrite(sighting_id, m.ts, m.model_dump_json().encode(),
                          day=local_day(self.arrived[sighting_id], zone))
            for sighting_id, m in self.latest.sightings.items()
        ]
        plan.patrols = [_patrol_write(patrol_id, m) for patrol_id, m in self.latest.patrols.items()]
        return plan


def _drone_write(message: Telemetry | dict | list) -> UnitWrite:
    """A drone's newest value as stored. Values judged by a fast path (a dict of final values, or a row) are
    serialised by orjson, byte for byte what the model's model_dump_json writes for them (same field order,
    same shortest float form: tests/domain/test_batch_rows.py), at a fraction of building the model."""
    if type(message) is list:
        message = telemetry_row_values(message)
    if type(message) is dict:
        return UnitWrite(message["drone_id"], message["ts"], orjson.dumps(message))
    return _unit_write(message.drone_id, message)


def split_at_ends(entries: list[RawEntry]) -> list[list[RawEntry]]:
    """Consecutive batches, in order, such that no entry about a sighting follows that sighting's end in the
    same batch (an end, from its raw `ended` field, validated or not). Ends are rare: nearly always one batch.
    Whether the end takes effect is decided by its own atomic step; what follows is then judged against it
    (applied if it was refused, counted `ignored:sighting_ended` if it ended the sighting)."""
    batches: list[list[RawEntry]] = [[]]
    ended: set[bytes] = set()
    for entry in entries:
        fields = entry.fields or {}
        sighting_id = fields.get(b"sighting_id") if entry.kind == "sighting" else None
        if sighting_id is not None and sighting_id in ended:
            batches.append([])
            ended = set()
        batches[-1].append(entry)
        if sighting_id is not None and b"ended" in fields:
            ended.add(sighting_id)
    return [batch for batch in batches if batch]


def _judge(entry: RawEntry, limits: ClockLimits):
    if entry.fields is None:
        return Rejection("entry was trimmed from the stream before ingest could read it")
    # The cheap bounds first: a 20,000-field entry is refused without looking at any field.
    if len(entry.fields) > MAX_FIELDS:
        return Rejection(f"oversized entry: {len(entry.fields)} fields, at most {MAX_FIELDS}")
    size = entry_bytes(entry.fields)
    if size > MAX_ENTRY_BYTES:
        return Rejection(f"oversized entry: {size} bytes, at most {MAX_ENTRY_BYTES}")
    return validate(entry.kind, entry.fields, entry.received_ms, limits)


def _unit_write(unit_id: str, message: Telemetry | Sighting) -> UnitWrite:
    return UnitWrite(unit_id, message.ts, message.model_dump_json().encode())


def _patrol_write(patrol_id: str, message: PatrolReport) -> PatrolWrite:
    return PatrolWrite(
        patrol_id,
        message.ts,
        message.model_dump_json().encode(),
        lon=message.lon,
        lat=message.lat,
        # Redis GEO sets only hold latitudes within the Web Mercator range.
        available=message.status is PatrolStatus.AVAILABLE and abs(message.lat) <= GEO_MAX_LATITUDE,
    )
