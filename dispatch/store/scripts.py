"""Atomic steps as Lua scripts: each runs whole or not at all.

The ingest script applies one `BatchPlan`: acknowledge, dead-letter, update the
picture, publish the live delta, count. Because acknowledging is part of the
same atomic step, a worker killed at any moment leaves each entry either fully
applied and acked, or untouched and pending; and because effects depend on
XACK's answer (an entry already acked by someone else changes no counter and
is not dead-lettered twice) and on the newer-ts rule, applying a plan twice
changes nothing. All keys share the site's hash tag, so this runs on a cluster.
"""

from __future__ import annotations

import redis

from ..domain.batch import BatchPlan
from ..keys import INGEST_GROUP, Keys

_INGEST_LUA = r"""
-- KEYS: live, deadletter, stats, drones, drones:ts, patrols, patrols:ts,
--       patrols:available, sightings, sightings:ts, patrols:assignment,
--       then the input streams.
local LIVE, DEADLETTER, STATS = KEYS[1], KEYS[2], KEYS[3]
local group, maxlen = ARGV[1], ARGV[2]
local at = 3

local function take()
  local value = ARGV[at]
  at = at + 1
  return value
end

-- Variadic commands in chunks of whole rows: Lua's unpack is bounded by the C
-- stack (about 8000 values). Returns the sum of integer replies.
local function chunked(command, key, extra, values, stride)
  local total, size = 0, 999 * stride
  for first = 1, #values, size do
    local args = {key}
    if extra then args[2] = extra end
    for i = first, math.min(first + size - 1, #values) do args[#args + 1] = values[i] end
    local reply = redis.call(command, unpack(args))
    if type(reply) == 'number' then total = total + reply end
  end
  return total
end

local function ack_all(stream, ids)
  return chunked('XACK', stream, group, ids, 1)
end

-- Accepted entries, per input stream: kind, count, ids.
for s = 1, #KEYS - 11 do
  local kind, n = take(), tonumber(take())
  if n > 0 then
    local ids = {}
    for j = 1, n do ids[j] = take() end
    local acked = ack_all(KEYS[11 + s], ids)
    if acked > 0 then redis.call('HINCRBY', STATS, 'accepted:' .. kind, acked) end
  end
end

-- Rejected entries: stream index, kind, id, reason, field count, fields.
local rejected = 0
for r = 1, tonumber(take()) do
  local s, kind, id, reason, nfields = tonumber(take()), take(), take(), take(), tonumber(take())
  local entry = {'source', kind, 'entry_id', id, 'reason', reason}
  for f = 1, nfields do
    entry[#entry + 1] = 'f:' .. take()
    entry[#entry + 1] = take()
  end
  if redis.call('XACK', KEYS[11 + s], group, id) == 1 then
    redis.call('XADD', DEADLETTER, '*', unpack(entry))
    redis.call('HINCRBY', STATS, 'rejected:' .. kind, 1)
    rejected = rejected + 1
  end
end

-- Units: keep a value only if its ts is strictly newer than the stored one.
-- Returns the JSON of the units that changed, for the live delta.
local function write_units(data_key, ts_key, width, on_change)
  local n = tonumber(take())
  if n == 0 then return {} end
  local rows, ids = {}, {}
  for u = 1, n do
    local row = {}
    for c = 1, width do row[c] = take() end
    rows[u], ids[u] = row, row[1]
  end
  local stored = {}
  for first = 1, n, 999 do
    local part = redis.call('HMGET', ts_key, unpack(ids, first, math.min(first + 998, n)))
    for i = 1, #part do stored[first + i - 1] = part[i] end
  end
  local ts_pairs, data_pairs, changed = {}, {}, {}
  for u = 1, n do
    local row = rows[u]
    if not stored[u] or tonumber(stored[u]) < tonumber(row[2]) then
      if on_change then row[3] = on_change(row) or row[3] end
      ts_pairs[#ts_pairs + 1], ts_pairs[#ts_pairs + 2] = row[1], row[2]
      data_pairs[#data_pairs + 1], data_pairs[#data_pairs + 2] = row[1], row[3]
      changed[#changed + 1] = row[3]
    end
  end
  if #changed > 0 then
    chunked('HSET', ts_key, nil, ts_pairs, 2)
    chunked('HSET', data_key, nil, data_pairs, 2)
  end
  return changed
end

local drones = write_units(KEYS[4], KEYS[5], 3)
local available, unavailable = {}, {}
-- A patrol with an open assignment keeps the status its assignment implies
-- (set by the assignment scripts) and stays out of the available set: its
-- report moves it on the map, nothing more.
local patrols = write_units(KEYS[6], KEYS[7], 6, function(row)
  if redis.call('HEXISTS', KEYS[11], row[1]) == 1 then
    unavailable[#unavailable + 1] = row[1]
    local current = redis.call('HGET', KEYS[6], row[1])
    if current then
      local report = cjson.decode(row[3])
      report.status = cjson.decode(current).status
      return cjson.encode(report)
    end
    return row[3]
  end
  if row[6] == '1' then
    available[#available + 1], available[#available + 2], available[#available + 3] = row[4], row[5], row[1]
  else
    unavailable[#unavailable + 1] = row[1]
  end
end)
chunked('GEOADD', KEYS[8], nil, available, 3)
chunked('ZREM', KEYS[8], nil, unavailable, 1)
local sightings = write_units(KEYS[9], KEYS[10], 3)

local delta = {}
if #drones > 0 then delta[#delta + 1], delta[#delta + 2] = 'drones', '[' .. table.concat(drones, ',') .. ']' end
if #patrols > 0 then delta[#delta + 1], delta[#delta + 2] = 'patrols', '[' .. table.concat(patrols, ',') .. ']' end
if #sightings > 0 then delta[#delta + 1], delta[#delta + 2] = 'sightings', '[' .. table.concat(sightings, ',') .. ']' end
local live_id = false
if #delta > 0 then
  live_id = redis.call('XADD', LIVE, 'MAXLEN', '~', maxlen, '*', unpack(delta))
end
return {rejected, #drones, #patrols, #sightings, live_id}
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
            *keys.inputs.values(),
        ]
        self._group = group
        self._live_maxlen = live_maxlen

    def __call__(self, plan: BatchPlan, client: redis.Redis | None = None) -> list:
        """Apply the plan; returns [rejected, drones, patrols, sightings changed, live id or None]."""
        return self._script(keys=self._keys, args=self._args(plan), client=client)

    def _args(self, plan: BatchPlan) -> list:
        args: list = [self._group, self._live_maxlen]
        for kind in self._kinds:
            ids = plan.accepted.get(kind, [])
            args += [kind, len(ids), *ids]
        args.append(len(plan.rejected))
        for rejected in plan.rejected:
            args += [self._kinds.index(rejected.kind) + 1, rejected.kind, rejected.entry_id,
                     rejected.reason, len(rejected.fields)]
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
            args += [unit.unit_id, unit.ts, unit.json]
        return args
