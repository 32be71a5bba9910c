"""Authorised flight zones in Redis: the `{site}:zones` hash, and their live deltas.

Each zone is stored as its model's JSON under its zone_id. Every change is
published on the live stream in the same atomic step, field `zones`: a JSON
array of GeoJSON Features (with `zone_id` at the top, like every unit in a
delta), or `{"zone_id": …, "closed": true}` for a zone deleted, so the map
redraws its zone layer without reloading the picture. The same step appends
the change's audit entry (zone_saved, zone_deleted): the legality of every
flight rests on these zones, so who changed one, when and from where, is on
record with the change itself. Deleting a zone that does not exist changes
nothing and is audited as refused.

The same step also appends the change to the zone log (`{site}:zones:log`):
`event` saved (with the zone's JSON in `zone`) or deleted, and `zone_id`, at
server time, so the after-action replay draws the zones as they were stored
at each instant (domain/replay/zone_history.py), not as they are now.
"""

from __future__ import annotations

import logging

import orjson
import redis
from pydantic import ValidationError

from .. import clock
from ..domain.audit import (
    INTERNAL_ORIGIN, SYSTEM_ACTOR, TARGET_ID, Action, AuditEntry, AuditRole, id_or_invalid, make_entry,
)
from ..domain.replay.zone_history import SAVED, LogEntry
from ..domain.zones import Zone, zone_to_geojson
from ..keys import Keys
from ..settings import Settings
from .audit import AUDIT_LUA, audit_argv, record, record_refusal

log = logging.getLogger(__name__)

LOG_CHUNK = 1_000  # zone log entries per XRANGE: a few per zone change, so one or two reads in practice

# Delete only what exists, and publish, log and audit only a deletion that happened.
# KEYS: zones, live, audit, zones log. ARGV: zone_id, live maxlen, closed delta, audit fields.
_DELETE_LUA = AUDIT_LUA + r"""
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return false end
redis.call('XADD', KEYS[4], '*', 'event', 'deleted', 'zone_id', ARGV[1])
record_audit(KEYS[3], audit_fields_at(4))
return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'zones', ARGV[3])
"""

# Seed only an empty hash, so two launchers starting at once seed once, and a
# zone edited by an administrator is never overwritten by the demo's.
# KEYS: zones, live, audit, zones log. ARGV: live maxlen, delta, zone count, (id, json)*, then audit
# fields per zone.
_SEED_LUA = AUDIT_LUA + r"""
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local count = tonumber(ARGV[3])
for i = 4, 3 + 2 * count, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  redis.call('XADD', KEYS[4], '*', 'event', 'saved', 'zone_id', ARGV[i], 'zone', ARGV[i + 1])
end
local at = 4 + 2 * count
for _ = 1, count do
  local fields
  fields, at = audit_fields_at(at)
  record_audit(KEYS[3], fields)
end
return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], '*', 'zones', ARGV[2])
"""


def live_item(zone: Zone) -> dict:
    """A zone as it appears in a live delta: its GeoJSON Feature, keyed by zone_id."""
    return {"zone_id": zone.zone_id, **zone_to_geojson(zone)}


def save_zone(client: redis.Redis, keys: Keys, zone: Zone, *, live_maxlen: int = Settings.live_maxlen,
              actor: str = SYSTEM_ACTOR, role: str = AuditRole.SYSTEM.value, origin: str = INTERNAL_ORIGIN,
              now_ms: int | None = None) -> str:
    """Create or replace a zone; returns the id of its live delta. `actor`, `role` and `origin` say who
    did it for the audit trail (an administrator's code and client IP; "system" for a process); a
    malformed one raises AuditError before anything is written."""
    audit = _zone_audit(zone, actor=actor, role=role, origin=origin, now_ms=now_ms)
    stored = zone.model_dump_json()
    pipe = client.pipeline(transaction=True)
    pipe.hset(keys.zones, zone.zone_id, stored)
    pipe.xadd(keys.zones_log, {"event": SAVED, "zone_id": zone.zone_id, "zone": stored})
    pipe.xadd(keys.live, {"zones": orjson.dumps([live_item(zone)])}, maxlen=live_maxlen, approximate=True)
    record(pipe, keys, audit)
    _, _, live_id, _ = pipe.execute()
    return live_id.decode()


def delete_zone(client: redis.Redis, keys: Keys, zone_id: str, *, live_maxlen: int = Settings.live_maxlen,
                actor: str = SYSTEM_ACTOR, role: str = AuditRole.SYSTEM.value, origin: str = INTERNAL_ORIGIN,
                now_ms: int | None = None) -> bool:
    """Remove a zone; False if there was none by that id (then nothing is published, and the attempt
    is audited as refused)."""
    ts = clock.now_ms(now_ms)
    closed = orjson.dumps([{"zone_id": zone_id, "closed": True}])
    audit = make_entry(ts=ts, actor=actor, role=role, action=Action.ZONE_DELETED,
                       target=id_or_invalid(zone_id, TARGET_ID), origin=origin)
    if client.eval(_DELETE_LUA, 4, keys.zones, keys.live, keys.audit, keys.zones_log, zone_id, live_maxlen, closed,
                   *audit_argv(audit)):
        return True
    record_refusal(client, keys, ts=ts, actor=actor, role=role, action=Action.ZONE_DELETED, target=zone_id,
                   origin=origin, reason=f"no zone {zone_id!r:.60} to delete")
    return False


def load_zones(client: redis.Redis, keys: Keys) -> list[Zone]:
    """Every stored zone, in zone_id order.

    A stored value that no longer parses (written by hand, or by an older
    version) is logged and left out rather than stopping the reader: a zone
    missing can only make the watcher raise outside_zone alerts, never hide one.
    """
    zones = []
    for zone_id, raw in client.hgetall(keys.zones).items():
        try:
            zones.append(Zone.model_validate_json(raw))
        except ValidationError as error:
            log.error("zone %r in %s is unreadable, ignored: %s", zone_id, keys.zones, error)
    return sorted(zones, key=lambda zone: zone.zone_id)


def zone_log(client: redis.Redis, keys: Keys, to_ms: int | None = None, *,
             chunk: int = LOG_CHUNK) -> list[LogEntry]:
    """The zone log up to `to_ms` included (None: all of it), oldest first: (stored_ms, event, zone_id,
    zone or None).

    Read from the start, because the version stored at a window's start may
    have been saved long before it. Replay reads it all (to_ms None): whether
    a zone stored now was changed after the window decides whether its current
    value may stand for the window (domain/replay/zone_history.py). A saved zone that
    no longer parses is passed on as None, so the version before it still ends
    there; the domain logs and skips what it cannot use.
    """
    entries: list[LogEntry] = []
    low: bytes | str = "-"
    while True:
        batch = client.xrange(keys.zones_log, min=low, max="+" if to_ms is None else int(to_ms), count=chunk)
        for entry_id, fields in batch:
            entries.append(_log_entry(keys, entry_id, fields))
        if len(batch) < chunk:
            return entries
        low = b"(" + _bytes(batch[-1][0])


def _log_entry(keys: Keys, entry_id, fields: dict) -> LogEntry:
    text = {_text(name): _text(value) for name, value in fields.items()}
    stored_ms = int(_text(entry_id).split("-", 1)[0])
    event, zone_id, zone = text.get("event", ""), text.get("zone_id", ""), None
    if event == SAVED:
        try:
            zone = Zone.model_validate_json(text.get("zone", ""))
        except ValidationError as error:
            log.error("zone log entry %s in %s: zone %r unreadable: %s", _text(entry_id), keys.zones_log,
                      zone_id, error)
    return stored_ms, event, zone_id, zone


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _bytes(value) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()


def seed_zones(client: redis.Redis, keys: Keys, zones: list[Zone], *, now_ms: int,
               live_maxlen: int = Settings.live_maxlen, **audit_details) -> list[Zone]:
    """Store `zones` if no zone is stored yet, in one atomic step; returns them (none if there were zones).

    Two launchers starting at once seed once, and an administrator's zones are never overwritten.
    """
    args: list = [live_maxlen, orjson.dumps([live_item(zone) for zone in zones]), len(zones)]
    for zone in zones:
        args += [zone.zone_id, zone.model_dump_json()]
    for zone in zones:
        args += audit_argv(_zone_audit(zone, actor=SYSTEM_ACTOR, role=AuditRole.SYSTEM.value,
                                       origin=INTERNAL_ORIGIN, now_ms=now_ms, **audit_details))
    seeded = client.eval(_SEED_LUA, 4, keys.zones, keys.live, keys.audit, keys.zones_log, *args)
    return zones if seeded else []


def _zone_audit(zone: Zone, *, actor: str, role: str, origin: str, now_ms: int | None, **extra) -> AuditEntry:
    return make_entry(ts=clock.now_ms(now_ms), actor=actor, role=role, action=Action.ZONE_SAVED, target=zone.zone_id,
                      origin=origin, details={"decree_ref": zone.decree_ref, "valid_from_ms": zone.valid_from_ms,
                                              "valid_until_ms": zone.valid_until_ms,
                                              "vertices": len(zone.polygon), **extra})
