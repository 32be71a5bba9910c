"""Input streams read through the "ingest" consumer group.

Raw redis-py replies become `RawEntry` values here and nowhere else. Recovery
follows the usual stream discipline: a consumer first re-reads its own pending
entries (id "0"), then new ones (">"); entries left pending by a dead consumer
are taken over with XAUTOCLAIM once idle long enough; a group lost with an
unpersisted Redis is recreated.
"""

from __future__ import annotations

import redis
from redis.exceptions import ResponseError

from ..domain.batch import RawEntry
from ..keys import INGEST_GROUP, Keys


def ensure_groups(client: redis.Redis, keys: Keys, group: str = INGEST_GROUP) -> None:
    """Create the group on every input stream (and the stream itself) if missing.

    Starting at id 0: entries written before the first worker ever ran are
    ingested too.
    """
    for stream in keys.inputs.values():
        try:
            client.xgroup_create(stream, group, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise


def is_missing_group(error: Exception) -> bool:
    return isinstance(error, ResponseError) and str(error).startswith("NOGROUP")


def read_group(
    client: redis.Redis,
    keys: Keys,
    consumer: str,
    *,
    count: int,
    block_ms: int | None,
    pending: bool = False,
    group: str = INGEST_GROUP,
) -> list[RawEntry]:
    """New entries of every input stream (or, with pending=True, this consumer's own unacked ones)."""
    start = "0" if pending else ">"
    streams = {stream: start for stream in keys.inputs.values()}
    reply = client.xreadgroup(group, consumer, streams, count=count, block=None if pending else block_ms)
    return _entries(keys, reply)


def claim_stale(
    client: redis.Redis,
    keys: Keys,
    consumer: str,
    *,
    min_idle_ms: int,
    count: int,
    group: str = INGEST_GROUP,
) -> tuple[list[RawEntry], int]:
    """Take over entries another (presumably dead) consumer left pending for min_idle_ms.

    Returns the entries and how many claimed entries had been trimmed meanwhile:
    Redis 6.2 returns those as bare nils, yet they become ours; reading our own
    pending entries (`read_group(..., pending=True)`) then yields them with their ids.
    """
    kinds = {stream: kind for kind, stream in keys.inputs.items()}
    claimed: list[RawEntry] = []
    trimmed = 0
    for stream, kind in kinds.items():
        start = "0-0"
        while len(claimed) + trimmed < count:
            next_start, messages = client.xautoclaim(stream, group, consumer, min_idle_ms, start_id=start, count=count)[:2]
            for entry_id, fields in messages:
                if entry_id is None:
                    trimmed += 1
                else:
                    claimed.append(_entry(kind, entry_id, fields))
            if next_start in (b"0-0", "0-0") or not messages:
                break
            start = next_start
    return claimed, trimmed


def delivery_counts(client: redis.Redis, keys: Keys, entries: list[RawEntry], group: str = INGEST_GROUP) -> dict[str, int]:
    """How many times each entry has been delivered (entries no longer pending are absent)."""
    counts: dict[str, int] = {}
    by_kind: dict[str, list[str]] = {}
    for entry in entries:
        by_kind.setdefault(entry.kind, []).append(entry.entry_id)
    for kind, ids in by_kind.items():
        first, last = min(ids, key=_id_order), max(ids, key=_id_order)
        rows = client.xpending_range(keys.inputs[kind], group, min=first, max=last, count=len(ids) * 4 + 100)
        wanted = set(ids)
        for row in rows:
            entry_id = _text(row["message_id"])
            if entry_id in wanted:
                counts[entry_id] = int(row["times_delivered"])
    return counts


def pending_count(client: redis.Redis, keys: Keys, group: str = INGEST_GROUP) -> int:
    """Entries delivered but not yet acknowledged, over all input streams."""
    total = 0
    for stream in keys.inputs.values():
        try:
            total += int(client.xpending(stream, group)["pending"])
        except ResponseError as error:
            if not is_missing_group(error):
                raise
    return total


def _entries(keys: Keys, reply) -> list[RawEntry]:
    kinds = {stream: kind for kind, stream in keys.inputs.items()}
    entries: list[RawEntry] = []
    for stream, messages in reply or []:
        kind = kinds[_text(stream)]
        entries.extend(_entry(kind, entry_id, fields) for entry_id, fields in messages)
    return entries


def _entry(kind: str, entry_id, fields) -> RawEntry:
    # A pending entry trimmed from its stream comes back with no fields.
    return RawEntry(kind, _text(entry_id), fields if fields else None)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _id_order(entry_id: str) -> tuple[int, int]:
    millis, _, sequence = entry_id.partition("-")
    return int(millis), int(sequence or 0)
