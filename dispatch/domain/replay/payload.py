"""One replay instant as the browser gets it: compact, columnar, rounded, no free text. Pure."""

from __future__ import annotations

from typing import Mapping

_DECIMALS = 6  # a tenth of a metre


def frame_payload(picture: Mapping) -> dict:
    """The JSON-ready dict a page sends to the browser for one instant: columnar, rounded, no free text.

    Columnar (one array per field): a shift holds hundreds of units, and field
    names are sent once rather than once per unit. Positions keep 6
    decimals (0.1 m), headings and battery whole numbers.
    The sighting note is left out: free text goes to the browser only escaped,
    by a page that means to show it (dash-leaflet binds popups as HTML).

    Shape: {t, drones: {id, ts, lat, lon, alt, heading, speed, battery, trail},
    patrols: {id, ts, lat, lon, status}, sightings: {id, ts, lat, lon,
    category, priority, drone_id, number}, assignments: {id, sighting_id, patrol_id,
    state, ts, assigned_ts}, alerts: {id, kind, severity, unit_id, state, lat,
    lon}}; `trail` holds, per drone, its recent positions as [[lon, lat], ...]
    (GeoJSON order), ending at the drone's position.
    """
    drones = picture.get("drones", [])
    trails = picture.get("trails", {})
    return {
        "t": picture.get("t"),
        "drones": {
            "id": [d["drone_id"] for d in drones],
            "ts": [d["ts"] for d in drones],
            "lat": [round(d["lat"], _DECIMALS) for d in drones],
            "lon": [round(d["lon"], _DECIMALS) for d in drones],
            "alt": [round(d["alt_m"]) for d in drones],
            "heading": [round(d["heading_deg"]) % 360 for d in drones],
            "speed": [round(d["speed_mps"], 1) for d in drones],
            "battery": [round(d["battery_pct"]) for d in drones],
            "trail": [_trail(trails.get(d["drone_id"])) for d in drones],
        },
        "patrols": _columns(picture.get("patrols", []), id="patrol_id", ts="ts", lat="lat", lon="lon",
                            status="status"),
        "sightings": _columns(picture.get("sightings", []), id="sighting_id", ts="ts", lat="lat", lon="lon",
                              category="category", priority="priority", drone_id="drone_id", number="number"),
        "assignments": _columns(picture.get("assignments", []), id="assignment_id", sighting_id="sighting_id",
                                patrol_id="patrol_id", state="state", ts="ts", assigned_ts="assigned_ts"),
        "alerts": _columns(picture.get("alerts", []), id="alert_id", kind="kind", severity="severity",
                           unit_id="unit_id", state="state", lat="lat", lon="lon"),
    }


def _columns(units: list[dict], **names: str) -> dict[str, list]:
    out = {}
    for short, name in names.items():
        values = [unit.get(name) for unit in units]
        if name in ("lat", "lon"):
            values = [None if v is None else round(v, _DECIMALS) for v in values]
        out[short] = values
    return out


def _trail(trail: Mapping | None) -> list[list[float]]:
    if not trail:
        return []
    return [[round(lon, _DECIMALS), round(lat, _DECIMALS)] for lat, lon in zip(trail["lat"], trail["lon"])]
