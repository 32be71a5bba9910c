"""The current picture as stored in Redis: read it whole (snapshots) or in part.

Writing happens in one place only, the ingest script (store/scripts.py), so
that every change to the picture also produces its live delta.
"""

from __future__ import annotations

import orjson
import redis

from ..domain.zones import Zone
from ..keys import Keys
from .zones import live_item


def collections(keys: Keys) -> dict[str, str]:
    """Each collection of the picture and the hash holding it (unit id -> JSON)."""
    return {
        "drones": keys.drones,
        "patrols": keys.patrols,
        "sightings": keys.sightings,
        "assignments": keys.assignments_open,
        "alerts": keys.alerts_open,
        "zones": keys.zones,
    }


def read_snapshot(client: redis.Redis, keys: Keys) -> dict:
    """The whole current picture as JSON-ready dicts, read atomically.

    `live_id` is the id of the last live delta at the time of the snapshot, so a
    reader can apply the deltas after it without gap or overlap.
    """
    pipe = client.pipeline(transaction=True)
    for key in collections(keys).values():
        pipe.hgetall(key)
    pipe.xrevrange(keys.live, count=1)
    *hashes, last_live = pipe.execute()
    snapshot = {"site": keys.site, "live_id": last_live[0][0].decode() if last_live else "0-0"}
    for name, values in zip(collections(keys), hashes):
        snapshot[name] = _decode_all(values)
    # Zones are stored as models; readers get them as in live deltas (GeoJSON features).
    snapshot["zones"] = [live_item(Zone.model_validate(zone)) for zone in snapshot["zones"]]
    return snapshot


def _decode_all(values: dict[bytes, bytes]) -> list[dict]:
    return [orjson.loads(values[unit_id]) for unit_id in sorted(values)]


def read_stats(client: redis.Redis, keys: Keys) -> dict[str, int]:
    """Ingest counters: accepted:<kind> and rejected:<kind>."""
    return {name.decode(): int(value) for name, value in client.hgetall(keys.stats).items()}


def read_collections(client: redis.Redis, keys: Keys, names: tuple[str, ...]) -> dict:
    """Some collections of the picture (names from `collections`, zones excepted), read atomically with the
    live id as `read_snapshot` does: for a reader granted only those keys (the CoT bridge reads no alerts
    and no zones, dispatch/domain/acl.py)."""
    hashes = collections(keys)
    pipe = client.pipeline(transaction=True)
    for name in names:
        pipe.hgetall(hashes[name])
    pipe.xrevrange(keys.live, count=1)
    *values, last_live = pipe.execute()
    picture = {"site": keys.site, "live_id": last_live[0][0].decode() if last_live else "0-0"}
    picture.update({name: _decode_all(found) for name, found in zip(names, values)})
    return picture
