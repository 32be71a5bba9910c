"""Snapshot -> map layers: GeoJSON FeatureCollections the browser renders.

Pure (no Dash, no Redis, no clock of its own: "now" is an argument), so the
live page, the coming websocket push and replay all draw the same picture from
the same data, and tests need nothing but dicts.

Each feature's properties carry only what the client renderer
(assets/map_render.js) needs: ids, enums and numbers. Free text (a sighting's
note) is left out on purpose: dash-leaflet binds `properties.popup` and
`properties.tooltip` as HTML, and the renderer builds marker HTML from
properties, so user text must never get there unescaped. When a note is shown
one day, pass it through `html.escape` here and escape again in the renderer.
"""

from __future__ import annotations

import hashlib
import math
from typing import Iterable

import orjson

# Drones send telemetry at least once a second; a link is considered lost after
# 4-5 missed 1 Hz heartbeats (MAVLink practice).
DRONE_LOST_AFTER_MS = 5_000
# Below this a drone must head home soon: the supervisor should see it coming.
LOW_BATTERY_PCT = 25.0
# 6 decimals of a degree is about 0.1 m: enough on a map, smaller payloads.
_DECIMALS = 6

DroneStatus = str  # "ok" | "low_battery" | "lost"


def feature_collection(features: Iterable[dict]) -> dict:
    return {"type": "FeatureCollection", "features": list(features)}


def _position(unit: dict) -> tuple[float, float] | None:
    """(lon, lat) if the unit has a usable position, else None (the unit is not drawn)."""
    lat, lon = unit.get("lat"), unit.get("lon")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in (lat, lon)):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return round(float(lon), _DECIMALS), round(float(lat), _DECIMALS)


def _point(position: tuple[float, float], properties: dict) -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": list(position)},
        "properties": properties,
    }


def drone_status(drone: dict, now_ms: int) -> DroneStatus:
    """Lost beats low battery: a silent drone's battery figure is stale anyway."""
    if now_ms - drone.get("ts", 0) > DRONE_LOST_AFTER_MS:
        return "lost"
    if drone.get("battery_pct", 100.0) < LOW_BATTERY_PCT:
        return "low_battery"
    return "ok"


def drone_features(drones: Iterable[dict], now_ms: int) -> dict:
    features = []
    for drone in drones:
        position = _position(drone)
        if position is None:
            continue
        features.append(_point(position, {
            "id": drone["drone_id"],
            "kind": "drone",
            "status": drone_status(drone, now_ms),
            # Whole degrees and percents: finer values would only make every refresh differ.
            "heading": round(drone.get("heading_deg", 0.0)) % 360,
            "battery": round(drone.get("battery_pct", 0.0)),
            "speed": round(drone.get("speed_mps", 0.0), 1),
            "alt": round(drone.get("alt_m", 0.0)),
            "ts": drone["ts"],
        }))
    return feature_collection(features)


def patrol_features(patrols: Iterable[dict]) -> dict:
    features = []
    for patrol in patrols:
        position = _position(patrol)
        if position is None:
            continue
        features.append(_point(position, {
            "id": patrol["patrol_id"],
            "kind": "patrol",
            "status": patrol["status"],
            "ts": patrol["ts"],
        }))
    return feature_collection(features)


def sighting_features(sightings: Iterable[dict]) -> dict:
    features = []
    for sighting in sightings:
        position = _position(sighting)
        if position is None:
            continue
        # No "note" here: free text, see the module docstring.
        features.append(_point(position, {
            "id": sighting["sighting_id"],
            "kind": "sighting",
            "category": sighting["category"],
            "priority": sighting["priority"],
            "drone_id": sighting.get("drone_id"),
            "ts": sighting["ts"],
        }))
    return feature_collection(features)


def layers(snapshot: dict, now_ms: int) -> dict[str, dict]:
    """One FeatureCollection per kind: each kind is its own map layer, refreshed on its own."""
    return {
        "drones": drone_features(snapshot.get("drones", []), now_ms),
        "patrols": patrol_features(snapshot.get("patrols", [])),
        "sightings": sighting_features(snapshot.get("sightings", [])),
    }


def counts(snapshot: dict, now_ms: int) -> dict[str, int]:
    """The figures of the header: what a supervisor checks at a glance."""
    drones = snapshot.get("drones", [])
    patrols = snapshot.get("patrols", [])
    sightings = snapshot.get("sightings", [])
    return {
        "drones": len(drones),
        "drones_lost": sum(drone_status(d, now_ms) == "lost" for d in drones),
        "patrols": len(patrols),
        "patrols_available": sum(p.get("status") == "available" for p in patrols),
        "sightings": len(sightings),
        "sightings_urgent": sum(s.get("priority") == 1 for s in sightings),
    }


def latest_ts(snapshot: dict) -> int | None:
    """Time of the newest message in the picture: how fresh what the screen shows is."""
    stamps = [
        unit["ts"]
        for kind in ("drones", "patrols", "sightings")
        for unit in snapshot.get(kind, [])
        if isinstance(unit.get("ts"), int)
    ]
    return max(stamps, default=None)


def fingerprint(collection: dict) -> str:
    """Short digest of a layer: the page resends a layer only when it changed.

    Worth it because dash-leaflet clears and re-adds every feature when `data`
    changes, and patrols and sightings change far less often than once a second.
    """
    return hashlib.blake2b(orjson.dumps(collection, option=orjson.OPT_SORT_KEYS), digest_size=12).hexdigest()
