"""Input streams read through the "ingest" consumer group.

Raw redis-py replies become `RawEntry` values here and nowhere else. Recovery
follows the usual stream discipline: a consumer first re-reads its own pending
entries (id "0"), then new ones (">"); entries left pending by a dead consumer
are taken over with XAUTOCLAIM once idle long enough, and the consumers they
leave behind are removed once idle long enough with nothing pending; a group
lost with an unpersisted Redis is recreated.
"""

from __future__ import annotations

import re

import redis
from redis import exceptions
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
    # Raised by a command, or by one inside a script ("Error running script ...: NOGROUP ...").
    return isinstance(error, ResponseError) and bool(re.search(r"(^|: )NOGROUP\b", str(error)))


# Redis refusing work whatever the entries (memory, replica, ACL, persistence, cluster state),
# whether raised by a command or by one inside a script.
_SERVER_REFUSALS = re.compile(
    r"(^|: )(NOGROUP|OOM|READONLY|NOPERM|NOSCRIPT|BUSY|LOADING|MASTERDOWN|MISCONF|NOREPLICAS|CLUSTERDOWN|"
    r"TRYAGAIN|MOVED|ASK)\b"
)


# The same refusals raised outside a script: redis-py maps the code to a class and drops it from the text.
_SERVER_REFUSAL_CLASSES = (
    exceptions.OutOfMemoryError, exceptions.ReadOnlyError, exceptions.NoPermissionError, exceptions.NoScriptError,
    exceptions.ClusterError, exceptions.MasterDownError, exceptions.TryAgainError, exceptions.AskError,
    exceptions.MovedError, exceptions.ExecAbortError, exceptions.AuthenticationError,
)  # fmt: skip


def is_entry_failure(error: Exception) -> bool:
    """Could the entries of the step be at fault? Not when Redis refuses the work itself."""
    return (
        isinstance(error, ResponseError)
        and not isinstance(error, _SERVER_REFUSAL_CLASSES)
        and not _SERVER_REFUSALS.search(str(error))
    )


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


_REMOVE_IDLE_CONSUMERS_LUA = r"""
-- KEYS[1]: an input stream. ARGV: group, min idle (ms), the caller's own name (kept).
-- Checking "nothing pending" and deleting in one atomic step: a consumer that
-- reads an entry between the two would otherwise lose it (DELCONSUMER drops
-- the consumer's pending entries from the group for good).
local consumers = redis.pcall('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
if consumers.err then return {} end
local removed = {}
for _, row in ipairs(consumers) do
  local info = {}
  for i = 1, #row, 2 do info[row[i]] = row[i + 1] end
  if info.pending == 0 and info.idle >= tonumber(ARGV[2]) and info.name ~= ARGV[3] then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], info.name)
    removed[#removed + 1] = info.name
  end
end
return removed
"""


def remove_idle_consumers(
    client: redis.Redis, keys: Keys, *, min_idle_ms: int, keep: str = "", group: str = INGEST_GROUP
) -> list[str]:
    """Remove consumers idle for min_idle_ms with nothing pending: workers that crashed.

    One with pending entries stays until XAUTOCLAIM has taken them all over.
    Removing a live one that merely idled is harmless: XREADGROUP recreates it.
    """
    script = client.register_script(_REMOVE_IDLE_CONSUMERS_LUA)
    removed: list[str] = []
    for stream in keys.inputs.values():
        removed += [_text(name) for name in script(keys=[stream], args=[group, min_idle_ms, keep])]
    return removed


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
