"""Which airframe code (`DR-07`) a drone gets on the picture, from what its link calls it.

A MAVLink drone names itself by its system id (1-255), a DJI aircraft by its serial number. By default
the bridges derive the code (`DR-<system id>`, `DR-` + the last 8 characters of the serial); a unit
whose airframes already have codes painted on them gives a mapping file (`--drone-ids FILE`), JSON
(`{"1": "DR-07", "1581F5FHD23400A": "DR-12"}`) or CSV (`1,DR-07` per line, `#` comments, an optional
header). Every code is checked against the contract's drone id rule (dispatch/domain/models.py
DRONE_ID) when the file is read, so a typo stops the bridge at start-up instead of dead-lettering every
message of that drone. Pure: the caller reads the file.
"""

from __future__ import annotations

import csv
import io
import json
import re

from .models import DRONE_ID

_DRONE_ID = re.compile(DRONE_ID)
_SERIAL_TAIL = 8


class DroneIdError(ValueError):
    """A mapping file, or a code derived from a link's id, that does not give a valid drone id."""


def is_drone_id(text: str) -> bool:
    return bool(_DRONE_ID.fullmatch(text))


def parse_mapping(text: str, *, source: str = "mapping") -> dict[str, str]:
    """Link id (system id or serial, as text) -> drone id, from JSON (an object) or CSV (two columns)."""
    stripped = text.strip()
    if not stripped:
        return {}
    pairs = _json_pairs(stripped, source) if stripped.startswith(("{", "[")) else _csv_pairs(stripped, source)
    mapping: dict[str, str] = {}
    for line, (link_id, drone_id) in pairs:
        where = f"{source}, {line}"
        link_id, drone_id = link_id.strip(), drone_id.strip()
        if not link_id:
            raise DroneIdError(f"{where}: empty system id or serial")
        if not is_drone_id(drone_id):
            raise DroneIdError(f"{where}: {drone_id!r} is not a drone id (DR- then 1 to 8 capitals or digits, "
                               "e.g. DR-07)")
        key = link_id.upper()
        if key in mapping:
            raise DroneIdError(f"{where}: {link_id!r} is mapped twice")
        mapping[key] = drone_id
    taken: dict[str, str] = {}
    for link_id, drone_id in mapping.items():
        if drone_id in taken:
            raise DroneIdError(f"{source}: {drone_id} is given to both {taken[drone_id]!r} and {link_id!r}")
        taken[drone_id] = link_id
    return mapping


def mavlink_drone_id(system_id: int, mapping: dict[str, str]) -> str:
    """`DR-<system id>` unless mapped (system ids are 1-255: always a valid code)."""
    return mapping.get(str(system_id)) or f"DR-{system_id}"


def dji_drone_id(serial: str, mapping: dict[str, str]) -> str:
    """`DR-` + the last 8 characters of the serial (upper case) unless mapped; DroneIdError if the serial
    cannot make a code (a character other than a letter or digit in its tail)."""
    mapped = mapping.get(serial.strip().upper())
    if mapped:
        return mapped
    derived = "DR-" + serial.strip().upper()[-_SERIAL_TAIL:]
    if not is_drone_id(derived):
        raise DroneIdError(f"serial {serial!r} gives no valid drone id ({derived!r}); map it in --drone-ids")
    return derived


def _json_pairs(text: str, source: str) -> list[tuple[str, tuple[str, str]]]:
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError as error:
        raise DroneIdError(f"{source}: not valid JSON ({error})") from None
    if not isinstance(loaded, dict):
        raise DroneIdError(f"{source}: JSON must be an object of system id or serial -> drone id")
    pairs = []
    for key, value in loaded.items():
        if not isinstance(value, str):
            raise DroneIdError(f"{source}, key {key!r}: the drone id must be a string, not {value!r}")
        pairs.append((f"key {key!r}", (key, value)))
    return pairs


def _csv_pairs(text: str, source: str) -> list[tuple[str, tuple[str, str]]]:
    pairs = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [cell.strip() for cell in row]
        if not cells or not any(cells) or cells[0].startswith("#"):
            continue
        if len(cells) != 2:
            raise DroneIdError(f"{source}, line {number}: expected two columns (system id or serial, drone id), "
                               f"got {len(cells)}")
        if number == 1 and not cells[1].upper().startswith("DR-"):
            continue  # a header line ("system_id,drone_id")
        pairs.append((f"line {number}", (cells[0], cells[1])))
    return pairs
