"""Atomic steps as Lua scripts: each runs whole or not at all.

The ingest script applies one `BatchPlan`: update the picture, publish the live
delta, dead-letter, count, acknowledge. Because acknowledging is part of the
same atomic step, a worker killed at any moment leaves each entry either fully
applied and acked, or untouched and pending; and because effects depend on the
entry still being pending (an entry already acked by someone else changes no
counter and is not dead-lettered twice) and on the newer-ts rule, applying a
plan twice changes nothing. All keys share the site's hash tag, so this runs on
a cluster.

A Lua script that errors is not rolled back: writes made before the error stay.
So the script first reads and checks everything that can fail, then writes,
acknowledging after every effect, and it never unpacks a list whose length the
input decides (see the script's header). Should a step fail anyway, the worker bisects the
batch to find the entry at fault (dispatch/services/ingest.py).
"""

from __future__ import annotations

import orjson
import redis

from ..domain import numbers
from ..domain.batch import DEADLETTER_MAX_FIELDS, BatchPlan
from ..keys import INGEST_GROUP, Keys
from .assignments import ENDING_LUA

_INGEST_LUA = r"""
-- KEYS: live, deadletter, stats, drones, drones:ts, patrols, patrols:ts,
--       patrols:available, sightings, sightings:ts, patrols:assignment,
--       assignments:open, sightings:endings,
--       then the input streams, then the day counters of incident numbers.
-- ARGV: group, live maxlen, most fields copied to a dead letter, number of
--       day counters, number prefix, number digits, counter TTL ms, then the plan.
--
-- A script that errors is not rolled back. So phase 1 reads and computes,
-- writing nothing: which rejected entries are still pending, which units are
-- newer than stored, the JSON to store, and that every key to be written holds
-- the right type and every counter is an integer. An error there, however
-- unforeseen, leaves Redis untouched. Phase 2 only writes, on keys phase 1 has
-- checked (and Redis refuses a script for lack of memory only at its first
-- write): the live delta, the units (idempotent by ts), the dead letters, then
-- XACK. Counters come after XACK because they count what XACK acknowledged
-- (an entry already acked by another consumer is not counted twice); phase 1
-- has checked that they can be incremented.
-- Incident numbers: a sighting newer than stored keeps the number of the one
-- stored; one not in the picture takes the next number of its day's counter
-- (phase 1 reads and checks the counter, computes every number and the JSON
-- carrying it; phase 2 adds to the counter what was taken). A redelivered
-- entry is not newer, so it takes no number; scripts run one at a time, so
-- two workers never take the same one.
-- Operators' ends (after the batch's sighting writes): each entry still pending ends an open,
-- unassigned sighting its own operator reported, through the ending steps every ending shares
-- (assignments.ENDING_LUA: phase 1 computes the ended JSON, phase 2 records it); anything else is
-- counted `ignored:<reason>`, never applied. An end for a sighting never received leaves its id's ts
-- in sightings:ts, so that its report arriving late (another worker's batch) does not open it.
-- Lua's unpack() is bounded by the C stack (about 8000 values): it is never
-- given a list whose length depends on the input; variadic calls go by chunks.
local LIVE, DEADLETTER, STATS = KEYS[1], KEYS[2], KEYS[3]
local SIGHTINGS, OPEN, ENDINGS = KEYS[9], KEYS[12], KEYS[13]
""" + ENDING_LUA + r"""
local group, maxlen, letter_fields = ARGV[1], ARGV[2], tonumber(ARGV[3])
local ndays, prefix, digits, counter_ttl = tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6]), ARGV[7]
local streams = #KEYS - 13 - ndays
local day_base = 13 + streams
local at = 8

local function take()
  local value = ARGV[at]
  at = at + 1
  return value
end

-- Variadic commands in chunks of whole rows. Returns the sum of integer replies.
local function chunked(command, key, extra, values, stride)
  -- The chunk is unpacked in place: copying it into a fresh argument table cost a table write per value.
  local total, size = 0, 999 * stride
  for first = 1, #values, size do
    local last = math.min(first + size - 1, #values)
    local reply
    if extra then
      reply = redis.call(command, key, extra, unpack(values, first, last))
    else
      reply = redis.call(command, key, unpack(values, first, last))
    end
    if type(reply) == 'number' then total = total + reply end
  end
  return total
end

-- Phase 1: read, compute, check; write nothing ------------------------------

-- Accepted entries, per input stream: kind, count, ids. The ids stay where they are in ARGV (a range):
-- copying each into a table cost the script a function call and a table write per entry.
local accepted = {}
for s = 1, streams do
  local kind, n = take(), tonumber(take())
  accepted[s] = {kind = kind, first = at, last = at + n - 1}
  at = at + n
end

-- XACK of ARGV[first..last], in chunks. Returns how many were acknowledged.
local function ack_range(key, first, last)
  local total = 0
  for a = first, last, 999 do
    total = total + redis.call('XACK', key, group, unpack(ARGV, a, math.min(a + 998, last)))
  end
  return total
end

-- Rejected entries: stream index, kind, id, reason, truncated, field count,
-- fields. The plan bounds the fields already; only the first letter_fields
-- are copied whatever it sends, so one XADD has a bounded argument list.
-- An entry no longer pending (another consumer processed it) is not
-- dead-lettered twice. No group (lost with an unpersisted Redis): nothing
-- is pending, as XACK would say.
local letters, rejected_ids, rejected_counts, rejected_kinds = {}, {}, {}, {}
for r = 1, tonumber(take()) do
  local s, kind, id, reason, truncated, nfields = tonumber(take()), take(), take(), take(), take(), tonumber(take())
  local letter = {'source', kind, 'entry_id', id, 'reason', reason}
  if truncated ~= '' then letter[7], letter[8] = 'truncated', truncated end
  for f = 1, nfields do
    local name, value = take(), take()
    if f <= letter_fields then
      letter[#letter + 1], letter[#letter + 2] = 'f:' .. name, value
    end
  end
  local pending = redis.pcall('XPENDING', KEYS[13 + s], group, id, id, 1)
  if not pending.err and #pending > 0 then
    letters[#letters + 1] = letter
    rejected_ids[s] = rejected_ids[s] or {}
    table.insert(rejected_ids[s], id)
    if not rejected_counts[kind] then rejected_kinds[#rejected_kinds + 1] = kind end
    rejected_counts[kind] = (rejected_counts[kind] or 0) + 1
  end
end

-- Units: keep a value only if its ts is strictly newer than the stored one.
local function newer_units(ts_key, width)
  local n = tonumber(take())
  local rows, ids, stored, newer = {}, {}, {}, {}
  for u = 1, n do
    local row = {}
    for c = 1, width do row[c] = take() end
    rows[u], ids[u] = row, row[1]
  end
  for first = 1, n, 999 do
    local part = redis.call('HMGET', ts_key, unpack(ids, first, math.min(first + 998, n)))
    for i = 1, #part do stored[first + i - 1] = part[i] end
  end
  for u = 1, n do
    if not stored[u] or tonumber(stored[u]) < tonumber(rows[u][2]) then newer[#newer + 1] = rows[u] end
  end
  return newer
end

local drones = newer_units(KEYS[5], 3)
local patrols = newer_units(KEYS[7], 6)
local sightings = newer_units(KEYS[10], 4)

-- A sighting that has ended (cleared, closed, merged, expired) left the picture but kept its ts in
-- sightings:ts: an operator's later update must not bring it back. It is counted, not applied.
-- An update from another operator than the one stored is dead-lettered by the plan; should two workers
-- race a sighting's first report, it is counted here (ignored:operator_mismatch), never applied.
local function operator_of(raw)
  local ok, decoded = pcall(cjson.decode, raw)
  return ok and type(decoded) == 'table' and decoded.operator_id or nil
end
local ended_updates, mismatched_updates = 0, 0
if #sightings > 0 then
  local kept = {}
  for first = 1, #sightings, 999 do
    local ids = {}
    for u = first, math.min(first + 998, #sightings) do ids[#ids + 1] = sightings[u][1] end
    local in_picture = redis.call('HMGET', KEYS[9], unpack(ids))
    local known = redis.call('HMGET', KEYS[10], unpack(ids))
    for i = 1, #ids do
      if known[i] and not in_picture[i] then
        ended_updates = ended_updates + 1
      elseif in_picture[i] and operator_of(in_picture[i])
          and operator_of(in_picture[i]) ~= operator_of(sightings[first + i - 1][3]) then
        mismatched_updates = mismatched_updates + 1
      else
        kept[#kept + 1] = sightings[first + i - 1]
      end
    end
  end
  sightings = kept
end

-- Incident numbers (see the header): counters read and checked, numbers computed.
local counters, taken = {}, {}
for d = 1, ndays do
  local value = redis.call('GET', KEYS[day_base + d])
  if value and not string.match(value, '^%d+$') then
    error('counter ' .. KEYS[day_base + d] .. ' is not a whole number')
  end
  counters[d], taken[d] = tonumber(value or '0'), 0
end
local stored_sightings = {}
for first = 1, #sightings, 999 do
  local ids = {}
  for u = first, math.min(first + 998, #sightings) do ids[#ids + 1] = sightings[u][1] end
  local part = redis.call('HMGET', KEYS[9], unpack(ids))
  for i = 1, #part do stored_sightings[first + i - 1] = part[i] end
end
for u, row in ipairs(sightings) do
  local number = nil
  if stored_sightings[u] then
    local ok, stored = pcall(cjson.decode, stored_sightings[u])
    if ok and type(stored) == 'table' and type(stored.number) == 'string' then number = stored.number end
  end
  if not number then
    local d = tonumber(row[4])
    counters[d], taken[d] = counters[d] + 1, taken[d] + 1
    number = prefix .. string.format('%0' .. digits .. 'd', counters[d])
  end
  row[3] = '{"number":' .. cjson.encode(number) .. ',' .. string.sub(row[3], 2)
end

-- Operators' ends (see the header); the plan's own ignored entries first.
local ignored, ignored_names = {}, {}
local function ignore(reason, n)
  if n <= 0 then return end
  if not ignored[reason] then ignored_names[#ignored_names + 1] = reason end
  ignored[reason] = (ignored[reason] or 0) + n
end
for _ = 1, tonumber(take()) do
  local reason, n = take(), tonumber(take())
  ignore(reason, n)
end
ignore('sighting_ended', ended_updates)
ignore('operator_mismatch', mismatched_updates)
local endings, ended_now, tombstones = {}, {}, {}
local nends, end_stream = tonumber(take()), tonumber(take())
if nends > 0 then
  local written = {}
  for u, row in ipairs(sightings) do written[row[1]] = u end
  local assigned = assigned_sightings()
  for _ = 1, nends do
    local id, sighting_id, operator, ts, reason, nfields = take(), take(), take(), take(), take(), tonumber(take())
    local ending = {}
    for i = 1, 2 * nfields do ending[i] = take() end
    local pending = redis.pcall('XPENDING', KEYS[13 + end_stream], group, id, id, 1)
    if not pending.err and #pending > 0 then
      local raw = nil
      if not ended_now[sighting_id] then
        raw = (written[sighting_id] and sightings[written[sighting_id]][3]) or redis.call('HGET', SIGHTINGS, sighting_id)
      end
      if ended_now[sighting_id] or (not raw and redis.call('HEXISTS', KEYS[10], sighting_id) == 1) then
        ignore('sighting_ended', 1)
      elseif not raw then
        ignore('sighting_unknown', 1)
        tombstones[#tombstones + 1], tombstones[#tombstones + 2] = sighting_id, ts
      elseif assigned[sighting_id] then
        ignore('sighting_assigned', 1)
      elseif operator_of(raw) ~= operator then
        ignore('operator_mismatch', 1)
      else
        ended_now[sighting_id] = ended_json(raw, 'ended_by_operator', '', reason)
        endings[#endings + 1] = {sighting_id, ending}
      end
    end
  end
end

-- A patrol with an open assignment keeps the status its assignment implies
-- (set by the assignment scripts) and stays out of the available set: its
-- report moves it on the map, nothing more.
local available, unavailable = {}, {}
for _, row in ipairs(patrols) do
  if redis.call('HEXISTS', KEYS[11], row[1]) == 1 then
    unavailable[#unavailable + 1] = row[1]
    local current = redis.call('HGET', KEYS[6], row[1])
    if current then
      local report = cjson.decode(row[3])
      report.status = cjson.decode(current).status
      row[3] = cjson.encode(report)
    end
  elseif row[6] == '1' then
    available[#available + 1], available[#available + 2], available[#available + 3] = row[4], row[5], row[1]
  else
    unavailable[#unavailable + 1] = row[1]
  end
end

-- Every key phase 2 writes: a read that fails now (WRONGTYPE) rather than half-way.
for _, key in ipairs({KEYS[4], KEYS[6], KEYS[9], KEYS[10], STATS}) do redis.call('HLEN', key) end
for _, key in ipairs({LIVE, DEADLETTER, ENDINGS, unpack(KEYS, 14, day_base)}) do redis.call('XLEN', key) end
redis.call('ZCARD', KEYS[8])
local counter_names = {}
for s = 1, streams do counter_names[#counter_names + 1] = 'accepted:' .. accepted[s].kind end
for _, kind in ipairs(rejected_kinds) do counter_names[#counter_names + 1] = 'rejected:' .. kind end
for _, reason in ipairs(ignored_names) do counter_names[#counter_names + 1] = 'ignored:' .. reason end
for _, name in ipairs(counter_names) do
  local value = redis.call('HGET', STATS, name)
  if value and not string.match(value, '^%-?%d+$') then
    error('counter ' .. name .. ' of ' .. STATS .. ' is not an integer')
  end
end

-- Phase 2: write -------------------------------------------------------------

local function json_list(rows)
  local parts = {}
  for i, row in ipairs(rows) do parts[i] = row[3] end
  return '[' .. table.concat(parts, ',') .. ']'
end

local delta = {}
if #drones > 0 then delta[#delta + 1], delta[#delta + 2] = 'drones', json_list(drones) end
if #patrols > 0 then delta[#delta + 1], delta[#delta + 2] = 'patrols', json_list(patrols) end
-- A sighting ended in this batch is published once, ended (written just before, if new or updated).
local sighting_rows = {}
for _, row in ipairs(sightings) do
  if not ended_now[row[1]] then sighting_rows[#sighting_rows + 1] = row end
end
for _, ended in ipairs(endings) do sighting_rows[#sighting_rows + 1] = {ended[1], '', ended_now[ended[1]]} end
if #sighting_rows > 0 then delta[#delta + 1], delta[#delta + 2] = 'sightings', json_list(sighting_rows) end
local live_id = false
if #delta > 0 then
  live_id = redis.call('XADD', LIVE, 'MAXLEN', '~', maxlen, '*', unpack(delta))
end

local function write_units(data_key, ts_key, rows)
  local ts_pairs, data_pairs = {}, {}
  for _, row in ipairs(rows) do
    ts_pairs[#ts_pairs + 1], ts_pairs[#ts_pairs + 2] = row[1], row[2]
    data_pairs[#data_pairs + 1], data_pairs[#data_pairs + 2] = row[1], row[3]
  end
  chunked('HSET', ts_key, nil, ts_pairs, 2)
  chunked('HSET', data_key, nil, data_pairs, 2)
end

write_units(KEYS[4], KEYS[5], drones)
write_units(KEYS[6], KEYS[7], patrols)
chunked('GEOADD', KEYS[8], nil, available, 3)
chunked('ZREM', KEYS[8], nil, unavailable, 1)
for d = 1, ndays do
  if taken[d] > 0 then
    redis.call('INCRBY', KEYS[day_base + d], taken[d])
    redis.call('PEXPIRE', KEYS[day_base + d], counter_ttl)
  end
end
write_units(KEYS[9], KEYS[10], sightings)
for _, ended in ipairs(endings) do record_ending(ended[1], ended_now[ended[1]], ended[2]) end
chunked('HSET', KEYS[10], nil, tombstones, 2)
for _, letter in ipairs(letters) do redis.call('XADD', DEADLETTER, '*', unpack(letter)) end

for s = 1, streams do
  local acked = ack_range(KEYS[13 + s], accepted[s].first, accepted[s].last)
  if acked > 0 then redis.call('HINCRBY', STATS, 'accepted:' .. accepted[s].kind, acked) end
  chunked('XACK', KEYS[13 + s], group, rejected_ids[s] or {}, 1)
end
for _, kind in ipairs(rejected_kinds) do redis.call('HINCRBY', STATS, 'rejected:' .. kind, rejected_counts[kind]) end
for _, reason in ipairs(ignored_names) do redis.call('HINCRBY', STATS, 'ignored:' .. reason, ignored[reason]) end
return {#letters, #drones, #patrols, #sightings, live_id, #endings}
"""


class IngestScript:
    """The ingest step for one site, bound to a client (EVALSHA, reloaded after a Redis restart)."""

    def __init__(self, client: redis.Redis, keys: Keys, *, live_maxlen: int, group: str = INGEST_GROUP):
        self._script = client.register_script(_INGEST_LUA)
        self._kinds = list(keys.inputs)
        self._keys = [
            keys.live, keys.deadletter, keys.stats,
            keys.drones, keys.drones_ts,
            keys.patrols, keys.patrols_ts, keys.patrols_available,
            keys.sightings, keys.sightings_ts, keys.patrol_assignment,
            keys.assignments_open, keys.sighting_endings,
            *keys.inputs.values(),
        ]
        self._group = group
        self._live_maxlen = live_maxlen
        self._day_key = keys.sighting_number

    def __call__(self, plan: BatchPlan, client: redis.Redis | None = None) -> list:
        """Apply the plan; returns [rejected, drones, patrols, sightings changed, live id or None]."""
        days = list(dict.fromkeys(unit.day for unit in plan.sightings))  # a batch spans one day, or two
        keys = [*self._keys, *(self._day_key(day) for day in days)]
        return self._script(keys=keys, args=self._args(plan, days), client=client)

    def command(self, plan: BatchPlan) -> list:
        """The EVALSHA that applies the plan, for a caller that sends it itself (store/ingest_pipe.py); a
        NOSCRIPT reply means nothing was applied: apply the plan with `__call__`, which loads the script."""
        days = list(dict.fromkeys(unit.day for unit in plan.sightings))
        keys = [*self._keys, *(self._day_key(day) for day in days)]
        return ["EVALSHA", self._script.sha, len(keys), *keys, *self._args(plan, days)]

    def _args(self, plan: BatchPlan, days: list[str]) -> list:
        day_index = {day: i for i, day in enumerate(days, start=1)}
        args: list = [self._group, self._live_maxlen, DEADLETTER_MAX_FIELDS,
                      len(days), numbers.PREFIX, numbers.DIGITS, numbers.COUNTER_TTL_MS]
        for kind in self._kinds:
            ids = plan.accepted.get(kind, [])
            args += [kind, len(ids), *ids]
        args.append(len(plan.rejected))
        for rejected in plan.rejected:
            args += [self._kinds.index(rejected.kind) + 1, rejected.kind, rejected.entry_id,
                     rejected.reason, rejected.truncated, len(rejected.fields)]
            for name, value in rejected.fields.items():
                args += [name, value]
        args.append(len(plan.drones))
        for unit in plan.drones:
            args += [unit.unit_id, unit.ts, unit.json]
        args.append(len(plan.patrols))
        for unit in plan.patrols:
            args += [unit.unit_id, unit.ts, unit.json, repr(unit.lon), repr(unit.lat), int(unit.available)]
        args.append(len(plan.sightings))
        for unit in plan.sightings:
            args += [unit.unit_id, unit.ts, unit.json, day_index[unit.day]]
        args.append(len(plan.ignored))
        for reason, count in plan.ignored.items():
            args += [reason, count]
        args += [len(plan.ends), self._kinds.index("sighting") + 1]
        for end in plan.ends:
            fields = end.ending.fields()
            args += [end.entry_id, end.ending.sighting_id, end.operator_id, end.ending.ts,
                     fields.get("reason", ""), len(fields)]
            for name, value in fields.items():
                args += [name, value]
        return args


def sighting_reporters(client: redis.Redis, keys: Keys, entries) -> dict[str, str]:
    """Sighting id -> the operator who reported it, for the open sightings a batch of raw entries names:
    what `plan_batch(reported_by=...)` checks updates and ends against. Ids that are not plain text, or
    not in the picture, are left out (validation judges the entry; ingest's step checks again)."""
    ids = sorted({entry.fields[b"sighting_id"] for entry in entries
                  if entry.kind == "sighting" and entry.fields and isinstance(entry.fields.get(b"sighting_id"), bytes)
                  and 6 <= len(entry.fields[b"sighting_id"]) <= 40})
    found: dict[str, str] = {}
    for first in range(0, len(ids), 1000):
        part = ids[first:first + 1000]
        for sighting_id, raw in zip(part, client.hmget(keys.sightings, part)):
            try:
                operator = orjson.loads(raw).get("operator_id") if raw else None
                found[sighting_id.decode()] = operator if isinstance(operator, str) else None
            except (orjson.JSONDecodeError, AttributeError, UnicodeDecodeError):
                continue
    return {sighting_id: operator for sighting_id, operator in found.items() if operator}
