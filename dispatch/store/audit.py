"""The audit trail in Redis: the `{site}:audit` stream, appended to and read, never edited.

There is deliberately no function here that changes or deletes an entry: the
application can only append (`record`) and read. The one thing that removes
entries is the retention job (store/retention.py), by age, and it records that
it did.

An action and its audit entry must never be separated, so actions that are a
Lua script append their entry inside the same script (`AUDIT_LUA` and
`audit_argv`), and actions that are a MULTI transaction pass their pipeline to
`record`. Entries get the server's stream id ('*'): the trail's clock cannot be
set by a client, and ids only go forward.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterable, Iterator

import redis
import redis.cluster

from .. import clock
from ..domain.audit import (
    Action, AuditEntry, AuditError, AuditFilter, AuditRole, from_fields, make_entry, refused_entry, select, to_csv,
    to_fields,
)
from ..domain.lifecycle import DISPLAY_TIMEZONE
from ..keys import Keys

log = logging.getLogger(__name__)

READ_CHUNK = 500
DEFAULT_LIMIT = 1_000
DEFAULT_EXPORT_LIMIT = 100_000

# For Lua scripts that record an action: concatenate this before the script's own code.
# The entry's fields travel in ARGV as audit_argv() lays them out: a count, then name/value pairs.
AUDIT_LUA = r"""
-- The audit fields starting at ARGV[at]: returns them as a flat list, and the index after them.
local function audit_fields_at(at)
  local fields = {}
  for i = 1, 2 * tonumber(ARGV[at]) do fields[i] = ARGV[at + i] end
  return fields, at + #fields + 1
end

-- Appends one audit entry to the trail; returns its id.
local function record_audit(audit_key, fields)
  return redis.call('XADD', audit_key, '*', unpack(fields))
end
"""


def audit_argv(entry: AuditEntry) -> list[str]:
    """The entry as Lua script arguments: field count, then name/value pairs (see AUDIT_LUA)."""
    fields = to_fields(entry)
    flat = [str(len(fields))]
    for name, value in fields.items():
        flat += [name, value]
    return flat


def record(client_or_pipeline: redis.Redis | redis.client.Pipeline, keys: Keys, entry: AuditEntry) -> str | None:
    """Append `entry` to the trail. With a client, returns its stream id; with a pipeline (inside a
    MULTI, so the entry commits with the action) the XADD is queued and None is returned."""
    reply = client_or_pipeline.xadd(keys.audit, to_fields(entry))
    if isinstance(client_or_pipeline, (redis.client.Pipeline, redis.cluster.ClusterPipeline)):  # issue 14 (cluster)
        return None
    return reply.decode() if isinstance(reply, bytes) else reply


def record_quietly(client: redis.Redis, keys: Keys, entry: AuditEntry) -> str | None:
    """Record a refused attempt after the refusal. The refusal changed nothing, so if the trail cannot be
    written (Redis gone in between) the caller's answer matters more: logged loudly, not raised."""
    try:
        return record(client, keys, entry)
    except redis.RedisError as error:
        log.error("audit entry not recorded (%s: %s): %s", error.__class__.__name__, error, entry)
        return None


def iter_entries(client: redis.Redis, keys: Keys, *, from_ms: int | None = None, to_ms: int | None = None,
                 newest_first: bool = False, chunk: int = READ_CHUNK) -> Iterator[AuditEntry]:
    """Every entry recorded in [from_ms, to_ms), read in chunks of `chunk` (XRANGE or XREVRANGE),
    so a year of trail never sits in one reply."""
    for entry_id, fields in _raw_entries(client, keys, from_ms, to_ms, newest_first, chunk):
        yield from_fields(entry_id, fields)


def read(client: redis.Redis, keys: Keys, *, from_ms: int | None = None, to_ms: int | None = None,
         filters: AuditFilter | None = None, limit: int = DEFAULT_LIMIT, newest_first: bool = False,
         chunk: int = READ_CHUNK) -> list[AuditEntry]:
    """Entries recorded in [from_ms, to_ms) that `filters` admits (its own window narrows this one),
    oldest first unless `newest_first`, at most `limit`."""
    wanted = (filters or AuditFilter()).within(from_ms, to_ms)
    found: list[AuditEntry] = []
    for entry_id, fields in _raw_entries(client, keys, wanted.from_ms, wanted.to_ms, newest_first, chunk):
        if len(found) >= limit:
            break
        if wanted.admits_fields(int(entry_id.partition("-")[0]), fields):
            found.append(from_fields(entry_id, fields))
    return select(found, wanted)  # the same verdict on the values built (a hand-written field may normalise)


def _raw_entries(client: redis.Redis, keys: Keys, from_ms: int | None, to_ms: int | None, newest_first: bool,
                 chunk: int) -> Iterator[tuple[str, dict[str, str]]]:
    low = "-" if from_ms is None else f"{max(0, from_ms)}-0"
    high = "+" if to_ms is None else f"({max(0, to_ms)}-0"
    if to_ms is not None and to_ms <= max(0, from_ms or 0):
        return
    while True:
        if newest_first:
            batch = client.xrevrange(keys.audit, max=high, min=low, count=chunk)
        else:
            batch = client.xrange(keys.audit, min=low, max=high, count=chunk)
        for entry_id, fields in batch:
            yield entry_id.decode(), {n.decode(): v.decode("utf-8", "replace") for n, v in fields.items()}
        if len(batch) < chunk:
            return
        last = batch[-1][0].decode()
        if newest_first:
            high = f"({last}"
        else:
            low = f"({last}"


@dataclass(frozen=True)
class CsvExport:
    text: str
    rows: int
    truncated: bool  # more entries matched than the limit: the screen must say so
    audit_id: str | None  # the export's own audit entry


def export_csv(client: redis.Redis, keys: Keys, *, actor: str, role: AuditRole | str, origin: str = "internal",
               from_ms: int | None = None, to_ms: int | None = None, filters: AuditFilter | None = None,
               limit: int = DEFAULT_EXPORT_LIMIT, tz: str = DISPLAY_TIMEZONE.key, now_ms: int | None = None) -> CsvExport:
    """The matching entries as CSV (domain.audit.to_csv), oldest first, and an `export` entry saying who
    took them: data leaving the system is an action like any other. Who exports is checked as any
    entry's actor is (AuditError for a malformed one), before anything is read."""
    wanted = (filters or AuditFilter()).within(from_ms, to_ms)
    stamp = clock.now_ms(now_ms)
    make_entry(ts=stamp, actor=actor, role=role, action=Action.EXPORT, origin=origin)  # fail before reading
    entries = read(client, keys, filters=wanted, limit=limit + 1)
    truncated = len(entries) > limit
    entries = entries[:limit]
    audit_id = record(client, keys, make_entry(
        ts=stamp, actor=actor, role=role, action=Action.EXPORT, target="audit", origin=origin,
        details={**wanted.describe(), "format": "csv", "rows": len(entries), "truncated": truncated}))
    return CsvExport(to_csv(entries, tz), len(entries), truncated, audit_id)


def record_refusal(client: redis.Redis, keys: Keys, *, ts: int, actor: str, role: AuditRole | str, action: Action,
                   target: str, reason: str, origin: str = "internal", details: dict | None = None,
                   untrusted: Iterable[tuple[object, str]] = ()) -> str | None:
    """Record a refused attempt after the refusal (it changed nothing, so nothing to be atomic with).

    Values come from the attempt, untrusted: domain.audit.refused_entry keeps names out (pass the other
    inputs and their formats as `untrusted`). Never raises: the refusal is the caller's answer, a trail
    that cannot take the entry is logged instead.
    """
    try:
        entry = refused_entry(ts=ts, actor=actor, role=str(getattr(role, "value", role)), action=action,
                              target=target, reason=reason, origin=origin, details=details, untrusted=untrusted)
    except AuditError as error:  # e.g. an unknown role: a caller's bug, refused already for its own reason
        log.error("refused %s not audited: %s", action.value, error)
        return None
    return record_quietly(client, keys, entry)


@contextmanager
def refusal_audited(client: redis.Redis, keys: Keys, refusal: type[Exception], *, ts: int, actor: str,
                    role: AuditRole | str, action: Action, target: str, origin: str = "internal",
                    details: dict | None = None, untrusted: Iterable[tuple[object, str]] = ()) -> Iterator[None]:
    """Around an action: if it raises `refusal`, record it as refused (reason: the exception's `reason`,
    or its message) and let it propagate."""
    try:
        yield
    except refusal as error:
        record_refusal(client, keys, ts=ts, actor=actor, role=role, action=action, target=target,
                       reason=str(getattr(error, "reason", error)), origin=origin, details=details,
                       untrusted=untrusted)
        raise
