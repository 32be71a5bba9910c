"""How a DJI Cloud API aircraft state message becomes a telemetry fix.

DJI docks and the DJI Pilot 2 app publish each device's state ("OSD") as JSON on the MQTT topic
`thing/product/{device_sn}/osd`: an envelope `{tid, bid, timestamp, gateway, data}` whose `data`, for an
aircraft, has `latitude`, `longitude`, `height` (above the ellipsoid), `elevation` (above the take-off
point), `attitude_head` (-180..180, clockwise from north), `horizontal_speed` and `vertical_speed` (m/s),
`mode_code` and `battery.capacity_percent`. A dock publishes its own OSD on its own serial number, with
no aircraft attitude, speed or battery: that is not a drone position and is skipped (`no_position`).

Mapping: `alt_m` is `elevation` (above the take-off point, as the MAVLink bridge's `relative_alt`: one
reference for both bridges), heading normalised to 0-360, `ts` the envelope's `timestamp` (ms, the time
of the state) or the time of receipt when it has none. The drone id: `DR-` + the last 8 characters of
the serial, unless mapped. Zeros before a GPS fix are drone_fix.refusal's business (`no_fix`).
Pure: the caller gives the topic, the bytes and the time.
"""

from __future__ import annotations

import json
import math

from .drone_fix import Drop, Fix, normalise_heading
from .drone_ids import DroneIdError, dji_drone_id

OSD_TOPIC = "thing/product/+/osd"
MAX_PAYLOAD_BYTES = 65_536  # an aircraft OSD is 2-4 KiB; far larger is not one (and deep JSON is costly)
AIRCRAFT_FIELDS = ("elevation", "attitude_head", "horizontal_speed", "battery.capacity_percent")


def device_serial(topic: str) -> str | None:
    """The serial number in `thing/product/{device_sn}/osd`, None for any other topic."""
    parts = topic.split("/")
    if len(parts) == 4 and parts[:2] == ["thing", "product"] and parts[3] == "osd" and parts[2]:
        return parts[2]
    return None


def osd_reading(topic: str, payload: bytes, drone_ids: dict[str, str], now_ms: int) -> Fix | Drop:
    serial = device_serial(topic)
    if serial is None:
        return Drop("bad_topic", None, f"not an OSD topic: {topic[:100]!r}")
    if len(payload) > MAX_PAYLOAD_BYTES:
        return Drop("bad_payload", None, f"{serial}: {len(payload)} bytes, more than {MAX_PAYLOAD_BYTES}")
    try:
        envelope = json.loads(payload)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        return Drop("bad_payload", None, f"{serial}: not JSON ({error})")
    data = envelope.get("data") if isinstance(envelope, dict) else None
    if not isinstance(data, dict):
        return Drop("bad_payload", None, f"{serial}: no `data` object")
    try:
        drone_id = dji_drone_id(serial, drone_ids)
    except DroneIdError as error:
        return Drop("bad_drone_id", None, str(error))
    values = {name: _number(data, name) for name in ("latitude", "longitude", *AIRCRAFT_FIELDS)}
    if values["latitude"] is None or values["longitude"] is None or all(
            values[name] is None for name in AIRCRAFT_FIELDS):
        return Drop("no_position", drone_id, f"{serial}: no aircraft position (a dock's own state?)")
    missing = [name for name, value in values.items() if value is None]
    if missing:
        return Drop("missing_field", drone_id, f"{serial}: no number in {', '.join(missing)}")
    heading = values["attitude_head"]
    return Fix(
        drone_id=drone_id,
        ts=_timestamp(envelope.get("timestamp"), now_ms),
        lat=values["latitude"],
        lon=values["longitude"],
        alt_m=values["elevation"],
        heading_deg=normalise_heading(heading) if math.isfinite(heading) else heading,
        speed_mps=values["horizontal_speed"],
        battery_pct=values["battery.capacity_percent"],
    )


def _number(data: dict, path: str) -> float | None:
    value: object = data
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _timestamp(value: object, now_ms: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        return now_ms
    return int(value)
