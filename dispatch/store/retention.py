"""Applying the retention table (domain/retention.py) to one site's keys in Redis.

Streams are trimmed by stream id with `XTRIM key MINID ~ <cutoff>`. Approximate
trimming only frees whole macro-nodes of the stream's radix tree, so up to one
node of entries older than the cutoff may remain per stream (at most
`stream-node-max-entries`, 100 by default): they go on a later run, once the
node's newest entry is old enough too. Each approximate call evicts at most
`limit` entries (Redis's own default is 100 nodes' worth), so a long backlog is
trimmed in several short calls that never block Redis for long. Exact trimming
(`exact=True`) removes every entry before the cutoff in one call: tests use it,
and so can an operator who must prove a purge; it costs O(entries removed) in
one command.

Picture units are dropped one chunk at a time by a Lua script that re-reads
each candidate's ts before deleting it, so a report ingested between the scan
and the script keeps its unit. The script removes the unit from its hash, its
ts side hash and the GEO set together, and publishes a live delta with a
`closed` tombstone for each, as every other change of the picture does.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Iterable

import orjson
import redis

from ..domain.audit import SYSTEM_ACTOR, Action, AuditRole, make_entry
from ..domain.live import ID_FIELDS
from ..domain.retention import RetentionRule, Treatment, cutoff_ms, run_details
from ..keys import Keys
from .alerts import forget_old_positions
from .audit import record

log = logging.getLogger(__name__)

APPROXIMATE_LIMIT = 10_000  # entries per XTRIM ~ call: 100 nodes of 100, Redis's own default
DROP_CHUNK = 500
SCAN_COUNT = 1_000

_DROP_UNITS_LUA = r"""
-- KEYS: data hash, ts hash, live stream, [GEO set]
-- ARGV: cutoff ms, live maxlen, live field, id field, unit ids...
local DATA, TS, LIVE, GEO = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local cutoff, maxlen, field, id_field = tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4]
local data, stamps, geo, tombstones = 0, 0, 0, {}
for i = 5, #ARGV do
  local id = ARGV[i]
  local raw = redis.call('HGET', DATA, id)
  local latest = tonumber(redis.call('HGET', TS, id))
  if raw then
    local ok, unit = pcall(cjson.decode, raw)
    local ts = ok and type(unit) == 'table' and tonumber(unit.ts)
    if ts then latest = math.max(latest or ts, ts) end
  end
  -- Older than the cutoff; or nothing left of it but a GEO member. A unit whose age cannot be read stays.
  if (latest and latest < cutoff) or (not latest and not raw) then
    if raw then
      data = data + redis.call('HDEL', DATA, id)
      tombstones[#tombstones + 1] = cjson.encode({[id_field] = id, closed = true})
    end
    stamps = stamps + redis.call('HDEL', TS, id)
    if GEO then geo = geo + redis.call('ZREM', GEO, id) end
  end
end
if #tombstones > 0 then
  redis.call('XADD', LIVE, 'MAXLEN', '~', maxlen, '*', field, '[' .. table.concat(tombstones, ',') .. ']')
end
return {data, stamps, geo}
"""


_APPLIED = (Treatment.TRIM_STREAM, Treatment.DROP_OLD_UNITS, Treatment.POSITIONS_AGE_OUT)


@dataclass(frozen=True)
class RetentionReport:
    counts: dict[str, int]  # rule name -> stream entries or units removed
    cutoff_ms: int
    audit_cutoff_ms: int
    exact: bool
    failed: list[str] = field(default_factory=list)  # rule names whose key could not be cleaned
    audit_id: str | None = None


def trim_stream(client: redis.Redis, key: str, cutoff: int, *, exact: bool = False,
                limit: int = APPROXIMATE_LIMIT) -> int:
    """Remove entries whose id is before `cutoff` (ms); returns how many went."""
    if exact:
        return client.xtrim(key, minid=cutoff, approximate=False)
    removed = 0
    while True:
        step = client.xtrim(key, minid=cutoff, approximate=True, limit=limit)
        removed += step
        if step == 0:
            return removed


def drop_old_units(client: redis.Redis, rule: RetentionRule, cutoff: int, *, live_key: str, live_maxlen: int,
                   chunk: int = DROP_CHUNK) -> dict[str, int]:
    """Remove the picture units of `rule` (a DROP_OLD_UNITS rule) whose latest ts is before `cutoff`,
    with their ts and GEO entries; returns how many went from each key (the hash, its ts hash, its GEO set)."""
    candidates = sorted(_candidates(client, rule, cutoff))
    totals = [0, 0, 0]
    script = client.register_script(_DROP_UNITS_LUA)
    script_keys = [rule.key, rule.ts_key, live_key, *([rule.geo_key] if rule.geo_key else [])]
    for first in range(0, len(candidates), chunk):
        args = [cutoff, live_maxlen, rule.live_field, ID_FIELDS[rule.live_field], *candidates[first:first + chunk]]
        totals = [total + int(n) for total, n in zip(totals, script(keys=script_keys, args=args))]
    return {key: total for key, total in zip([rule.key, rule.ts_key, rule.geo_key], totals) if key}


def apply_retention(client: redis.Redis, keys: Keys, rules: Iterable[RetentionRule], now_ms: int, *,
                    exact: bool = False, live_maxlen: int = 100_000) -> RetentionReport:
    """Trim every stream and clean every picture hash of the table, then record one audit entry
    (retention_trimmed, by "system") with the counts. A key that cannot be cleaned (wrong type,
    written by hand) is logged and named in the entry; the others are still cleaned. Connection errors
    propagate: the caller retries the whole run, which is idempotent."""
    rules = list(rules)
    names = {rule.key: rule.name for rule in rules}
    counts: dict[str, int] = {}
    failed: list[str] = []
    for rule in rules:
        if rule.period_ms is None or rule.treatment not in _APPLIED:
            continue
        cutoff = cutoff_ms(now_ms, rule.period_ms)
        try:
            if rule.treatment is Treatment.TRIM_STREAM:
                counts[rule.name] = trim_stream(client, rule.key, cutoff, exact=exact)
            elif rule.treatment is Treatment.POSITIONS_AGE_OUT:
                counts[rule.name] = forget_old_positions(client, keys, cutoff, live_maxlen=live_maxlen)
            else:
                dropped = drop_old_units(client, rule, cutoff, live_key=keys.live, live_maxlen=live_maxlen)
                counts.update({names.get(key, key): n for key, n in dropped.items()})
        except redis.ResponseError as error:
            log.error("retention: %s (%s) not cleaned: %s", rule.name, rule.key, error)
            failed.append(rule.name)
    cutoff, audit_cutoff = _cutoff_of(rules, "live", now_ms), _cutoff_of(rules, "audit", now_ms)
    details = run_details(counts, exact=exact, cutoff=cutoff, audit_cutoff=audit_cutoff)
    if failed:
        details["failed"] = ",".join(failed)[:120]
    audit_id = record(client, keys, make_entry(ts=now_ms, actor=SYSTEM_ACTOR, role=AuditRole.SYSTEM,
                                               action=Action.RETENTION_TRIMMED, target=keys.site, details=details))
    return RetentionReport(counts, cutoff, audit_cutoff, exact, failed, audit_id)


def _candidates(client: redis.Redis, rule: RetentionRule, cutoff: int) -> set[str]:
    """Units that look expired: by their ts hash, by their stored JSON, and GEO members with no unit.
    Only a first sort: the script decides on what it reads itself."""
    found = {unit.decode() for unit, ts in client.hscan_iter(rule.ts_key, count=SCAN_COUNT) if _older(ts, cutoff)}
    for unit, raw in client.hscan_iter(rule.key, count=SCAN_COUNT):
        try:
            if _older(orjson.loads(raw).get("ts"), cutoff):
                found.add(unit.decode())
        except (orjson.JSONDecodeError, AttributeError):
            continue
    if rule.geo_key:
        members = [member for member, _ in client.zscan_iter(rule.geo_key, count=SCAN_COUNT)]
        for first in range(0, len(members), SCAN_COUNT):
            part = members[first:first + SCAN_COUNT]
            found.update(m.decode() for m, raw in zip(part, client.hmget(rule.key, part)) if raw is None)
    return found


def _older(ts: object, cutoff: int) -> bool:
    try:
        return int(ts) < cutoff
    except (TypeError, ValueError):
        return False


def _cutoff_of(rules: list[RetentionRule], name: str, now_ms: int) -> int:
    """The cutoff of the rule named `name`, for the report; 0 for a table without it (a test's subset)."""
    period = next((rule.period_ms for rule in rules if rule.name == name and rule.period_ms is not None), None)
    return 0 if period is None else cutoff_ms(now_ms, period)
