"""The current picture as stored in Redis: read it whole (snapshots) or in part.

Writing happens in one place only, the ingest script (store/scripts.py), so
that every change to the picture also produces its live delta.
"""

from __future__ import annotations

import orjson
import redis

from ..keys import Keys


def read_snapshot(client: redis.Redis, keys: Keys) -> dict:
    """Every drone, patrol and open sighting as plain JSON-ready dicts, read atomically.

    `live_id` is the id of the last live delta at the time of the snapshot, so a
    reader can apply the deltas after it without gap or overlap.
    """
    pipe = client.pipeline(transaction=True)
    pipe.hgetall(keys.drones)
    pipe.hgetall(keys.patrols)
    pipe.hgetall(keys.sightings)
    pipe.xrevrange(keys.live, count=1)
    drones, patrols, sightings, last_live = pipe.execute()
    return {
        "site": keys.site,
        "live_id": last_live[0][0].decode() if last_live else "0-0",
        "drones": _decode_all(drones),
        "patrols": _decode_all(patrols),
        "sightings": _decode_all(sightings),
    }


def _decode_all(values: dict[bytes, bytes]) -> list[dict]:
    return sorted((orjson.loads(raw) for raw in values.values()), key=_unit_id)


def _unit_id(unit: dict) -> str:
    return unit.get("sighting_id") or unit.get("patrol_id") or unit.get("drone_id") or ""


def read_stats(client: redis.Redis, keys: Keys) -> dict[str, int]:
    """Ingest counters: accepted:<kind> and rejected:<kind>."""
    return {name.decode(): int(value) for name, value in client.hgetall(keys.stats).items()}
