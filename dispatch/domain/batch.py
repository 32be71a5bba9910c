"""Turn one batch of raw input entries into the writes the store must make.

Pure: the ingest worker reads entries from Redis, asks `plan_batch` what to do,
and hands the plan to one atomic Redis script. Keeping the decision here means
it is tested without Redis and the script stays a dumb executor.

Within a batch, units are coalesced: only the latest message of each drone,
patrol and sighting is written (the picture rule of picture.py), which is what
makes ingest cheap when drones report several times a second.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

from .models import PatrolReport, PatrolStatus, Sighting, Telemetry
from .picture import Picture, apply
from .validate import ClockLimits, Rejection, validate


GEO_MAX_LATITUDE = 85.05112878


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
    kind: str
    entry_id: str
    reason: str
    fields: Mapping[bytes, bytes]


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


@dataclass
class BatchPlan:
    accepted: dict[str, list[str]] = field(default_factory=dict)  # kind -> entry ids
    rejected: list[RejectedEntry] = field(default_factory=list)
    drones: list[UnitWrite] = field(default_factory=list)
    patrols: list[PatrolWrite] = field(default_factory=list)
    sightings: list[UnitWrite] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(len(ids) for ids in self.accepted.values()) + len(self.rejected)


def plan_batch(entries: Iterable[RawEntry], limits: ClockLimits = ClockLimits()) -> BatchPlan:
    plan = BatchPlan()
    latest = Picture()
    for entry in entries:
        verdict = _judge(entry, limits)
        if isinstance(verdict, Rejection):
            plan.rejected.append(RejectedEntry(entry.kind, entry.entry_id, verdict.reason, entry.fields or {}))
            continue
        plan.accepted.setdefault(entry.kind, []).append(entry.entry_id)
        apply(latest, verdict)
    plan.drones = [_unit_write(drone_id, m) for drone_id, m in latest.drones.items()]
    plan.sightings = [_unit_write(sighting_id, m) for sighting_id, m in latest.sightings.items()]
    plan.patrols = [_patrol_write(patrol_id, m) for patrol_id, m in latest.patrols.items()]
    return plan


def _judge(entry: RawEntry, limits: ClockLimits):
    if entry.fields is None:
        return Rejection("entry was trimmed from the stream before ingest could read it")
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
