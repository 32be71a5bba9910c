"""Authorised flight zones in Redis: the `{site}:zones` hash, and their live deltas.

Each zone is stored as its model's JSON under its zone_id. Every change is
published on the live stream in the same atomic step, field `zones`: a JSON
array of GeoJSON Features (with `zone_id` at the top, like every unit in a
delta), or `{"zone_id": …, "closed": true}` for a zone deleted, so the map
redraws its zone layer without reloading the picture.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import orjson
import redis
from pydantic import ValidationError

from ..domain.zones import LOCAL_TZ, Zone, end_of_local_day_ms, local_date, make_zone, zone_to_geojson
from ..keys import Keys
from ..scenario_rennes import ZONES as DEMO_ZONES
from ..settings import Settings

log = logging.getLogger(__name__)

DEMO_VALIDITY_DAYS = 30

# Delete only what exists, and publish only a deletion that happened.
_DELETE_LUA = r"""
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return false end
return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'zones', ARGV[3])
"""

# Seed only an empty hash, so two launchers starting at once seed once, and a
# zone edited by an administrator is never overwritten by the demo's.
_SEED_LUA = r"""
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], '*', 'zones', ARGV[2])
"""


def live_item(zone: Zone) -> dict:
    """A zone as it appears in a live delta: its GeoJSON Feature, keyed by zone_id."""
    return {"zone_id": zone.zone_id, **zone_to_geojson(zone)}


def save_zone(client: redis.Redis, keys: Keys, zone: Zone, *, live_maxlen: int = Settings.live_maxlen) -> str:
    """Create or replace a zone; returns the id of its live delta."""
    pipe = client.pipeline(transaction=True)
    pipe.hset(keys.zones, zone.zone_id, zone.model_dump_json())
    pipe.xadd(keys.live, {"zones": orjson.dumps([live_item(zone)])}, maxlen=live_maxlen, approximate=True)
    _, live_id = pipe.execute()
    return live_id.decode()


def delete_zone(client: redis.Redis, keys: Keys, zone_id: str, *, live_maxlen: int = Settings.live_maxlen) -> bool:
    """Remove a zone; False if there was none by that id (then nothing is published)."""
    closed = orjson.dumps([{"zone_id": zone_id, "closed": True}])
    return bool(client.eval(_DELETE_LUA, 2, keys.zones, keys.live, zone_id, live_maxlen, closed))


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


def demo_zones(now_ms: int, tz: str = LOCAL_TZ) -> list[Zone]:
    """The demo's zones (scenario_rennes.ZONES), valid from an hour ago to the end of the local day + 30 days."""
    valid_until_ms = end_of_local_day_ms(local_date(now_ms, tz) + timedelta(days=DEMO_VALIDITY_DAYS), tz)
    return [
        make_zone(
            zone_id=zone.zone_id,
            name=zone.name,
            decree_ref=f"DEMO-PREF35-{number:02d}",  # not a real decree: the demo says so
            polygon=[(lon, lat) for lat, lon in zone.vertices],
            valid_from_ms=now_ms - 3_600_000,
            valid_until_ms=valid_until_ms,
        )
        for number, zone in enumerate(DEMO_ZONES, start=1)
    ]


def seed_demo_zones(client: redis.Redis, keys: Keys, now_ms: int, *, tz: str = LOCAL_TZ,
                    live_maxlen: int = Settings.live_maxlen) -> list[Zone]:
    """Store the demo zones if no zone is stored yet; returns the zones seeded (none if there were zones)."""
    zones = demo_zones(now_ms, tz)
    args: list = [live_maxlen, orjson.dumps([live_item(zone) for zone in zones])]
    for zone in zones:
        args += [zone.zone_id, zone.model_dump_json()]
    seeded = client.eval(_SEED_LUA, 2, keys.zones, keys.live, *args)
    return zones if seeded else []
