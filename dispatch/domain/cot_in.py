"""Cursor-on-Target in: a marker an ATAK/WinTAK user drops becomes a sighting on the input stream. Pure.

What is a marker: an event whose `<link relation="p-p" uid=...>` names the device that produced it (ATAK
puts its own uid there when a user drops a point), of a point type (`a-…` atoms, `b-m-p-…` map points).
A device's own position report (SA) has no such link and is ignored, as are shapes, routes, chat, and
this product's own CoT out (`dispatch.` uids), so the two bridges can share a multicast group.

Who: the producing device's uid must be in the senders file (`--senders FILE`, TAK uid -> operator code
and drone), or the marker is ignored (`unknown_sender`): a TAK network is shared, and only the unit's
drone operators may report. The sighting then goes through the contract's own validator, as every input.

What: the category is the first category word in the marker's name ("lookout P1", "Deal"), else
`vehicle` for a vehicle type (`a-?-G-E-V…`), else `other`; the priority is `P1`-`P3` in the name, else 2.
The marker's uid is the sighting id (hashed when it is not a valid id), so moving the marker updates the
sighting, and deleting it in ATAK (`t-x-d-d`) ends it (`ended: left`) when this process saw who made it.
The marker's remarks are **not** carried into the note: TAK remarks are free text typed on a tablet in
the field, exactly where a description of a person would be written (docs/streams.md, section 6).

Parsing: untrusted XML. A DOCTYPE is refused outright (no entity can be declared, so none expanded;
Python's expat also limits amplification), and sizes are bounded by the caller (MAX_EVENT_BYTES).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
import xml.etree.ElementTree as ET
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from .models import DRONE_ID, EVENT_ID, OPERATOR_ID, SightingCategory
from .validate import ClockLimits, Rejection, validate

MAX_EVENT_BYTES = 64 * 1024
OWN_UID_PREFIX = "dispatch."
DEFAULT_PRIORITY = 2
REMEMBERED_MARKERS = 10_000  # marker uid -> sender, to attribute ATAK's deletes (which name no sender)
ENDED_BY_DELETE = "left"

_EVENT_ID = re.compile(EVENT_ID)
_PRIORITY = re.compile(r"\bP([1-3])\b", re.IGNORECASE)
_VEHICLE_TYPE = re.compile(r"^a-[a-z]-G-E-V")
_CATEGORY_WORDS = [category.value for category in SightingCategory]


@dataclass(frozen=True)
class Sender:
    """A TAK device allowed to report: the operator who carries it and the drone they fly."""

    operator_id: str
    drone_id: str


@dataclass(frozen=True)
class Ignored:
    """An event that becomes no input entry, and why (a reason code, counted by the bridge)."""

    reason: str
    detail: str = ""


class SendersError(ValueError):
    """A senders file that does not give valid operator codes and drone ids."""


def parse_senders(text: str, *, source: str = "senders") -> dict[str, Sender]:
    """TAK uid -> Sender, from JSON (`{"ANDROID-1a2b": {"operator_id": "OP-3", "drone_id": "DR-07"}}`) or CSV
    (`tak_uid,operator_id,drone_id` per line, `#` comments, an optional header)."""
    stripped = text.strip()
    if not stripped:
        return {}
    if stripped.startswith("{"):
        try:
            loaded = json.loads(stripped)
        except ValueError as error:
            raise SendersError(f"{source}: not JSON ({error})") from None
        rows = [(f"entry {uid!r}", uid, (value or {}).get("operator_id", ""), (value or {}).get("drone_id", ""))
                if isinstance(value, dict) else (f"entry {uid!r}", uid, "", "") for uid, value in loaded.items()]
    else:
        rows = []
        for number, row in enumerate(csv.reader(io.StringIO(stripped)), start=1):
            if not row or row[0].strip().startswith("#") or (number == 1 and row[0].strip().lower() == "tak_uid"):
                continue
            if len(row) != 3:
                raise SendersError(f"{source}, line {number}: expected tak_uid,operator_id,drone_id")
            rows.append((f"line {number}", *row))
    senders: dict[str, Sender] = {}
    for where, uid, operator_id, drone_id in rows:
        uid, operator_id, drone_id = str(uid).strip(), str(operator_id).strip(), str(drone_id).strip()
        if not uid:
            raise SendersError(f"{source}, {where}: empty TAK uid")
        if not re.fullmatch(OPERATOR_ID, operator_id):
            raise SendersError(f"{source}, {where}: {operator_id!r} is not an operator code (e.g. OP-3)")
        if not re.fullmatch(DRONE_ID, drone_id):
            raise SendersError(f"{source}, {where}: {drone_id!r} is not a drone id (e.g. DR-07)")
        if uid in senders:
            raise SendersError(f"{source}, {where}: {uid!r} is given twice")
        senders[uid] = Sender(operator_id, drone_id)
    return senders


def read_event(data: bytes) -> ET.Element | Ignored:
    """One CoT event from untrusted bytes."""
    if len(data) > MAX_EVENT_BYTES:
        return Ignored("too_large", f"{len(data)} bytes")
    if b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper():
        return Ignored("doctype")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as error:
        return Ignored("not_xml", str(error)[:80])
    if root.tag != "event":
        return Ignored("not_an_event", root.tag[:40])
    return root


def cot_ms(text: str | None) -> int | None:
    """Milliseconds of a CoT time (ISO 8601, `Z` or an offset), None if it is not one."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return int(moment.timestamp() * 1000)


def sighting_id_for(uid: str) -> str:
    """The marker's uid when it is a valid sighting id (ATAK's are UUIDs), else a stable hash of it."""
    return uid if _EVENT_ID.fullmatch(uid) else "tak-" + hashlib.sha256(uid.encode()).hexdigest()[:32]


def category_of(name: str, cot_type: str) -> str:
    words = re.findall(r"[a-z]+", name.lower())
    for word in words:
        if word in _CATEGORY_WORDS:
            return word
    return "vehicle" if _VEHICLE_TYPE.match(cot_type) else "other"


def priority_of(name: str) -> int:
    found = _PRIORITY.search(name)
    return int(found.group(1)) if found else DEFAULT_PRIORITY


class CotIntake:
    """Events in, input entries for `{site}:in:sightings` out (or Ignored). Remembers who made each marker it
    passed on, so ATAK's delete of that marker (which names no sender) can end the sighting as its operator."""

    def __init__(self, senders: dict[str, Sender], limits: ClockLimits = ClockLimits()) -> None:
        self.senders = senders
        self.limits = limits
        self.made_by: OrderedDict[str, Sender] = OrderedDict()

    def take(self, root: ET.Element, now_ms: int) -> dict[str, str] | Ignored:
        uid, cot_type = root.get("uid") or "", root.get("type") or ""
        if uid.startswith(OWN_UID_PREFIX):
            return Ignored("own_event")
        if cot_type == "t-x-d-d":
            return self._delete(root, now_ms)
        if not (cot_type.startswith("a-") or cot_type.startswith("b-m-p-")):
            return Ignored("not_a_point")
        producer = next((link.get("uid") for link in root.iter("link")
                         if link.get("relation") == "p-p" and link.get("uid") and link.get("uid") != uid), None)
        if producer is None:
            return Ignored("not_a_marker")  # a device's own position, or a point nobody claims
        sender = self.senders.get(producer)
        if sender is None:
            return Ignored("unknown_sender", producer[:60])
        ts = cot_ms(root.get("time"))
        stale = cot_ms(root.get("stale"))
        if ts is None:
            return Ignored("bad_time", (root.get("time") or "")[:40])
        if stale is not None and stale <= now_ms:
            return Ignored("stale")
        point = root.find("point")
        try:
            lat, lon = float(point.get("lat")), float(point.get("lon"))
        except (AttributeError, TypeError, ValueError):
            return Ignored("no_position")
        if not (math.isfinite(lat) and math.isfinite(lon)) or (abs(lat) < 1e-6 and abs(lon) < 1e-6):
            return Ignored("no_position", f"{lat},{lon}")
        contact = root.find("detail/contact")
        name = (contact.get("callsign") if contact is not None else "") or ""
        fields = {"sighting_id": sighting_id_for(uid), "ts": str(ts), "drone_id": sender.drone_id,
                  "operator_id": sender.operator_id, "category": category_of(name, cot_type),
                  "lat": f"{lat:.7f}", "lon": f"{lon:.7f}", "priority": str(priority_of(name))}
        verdict = validate("sighting", fields, now_ms, self.limits)
        if isinstance(verdict, Rejection):
            return Ignored("invalid", verdict.reason[:120])
        self._remember(uid, sender)
        return fields

    def _delete(self, root: ET.Element, now_ms: int) -> dict[str, str] | Ignored:
        target = next((link.get("uid") for link in root.iter("link") if link.get("uid")), None)
        sender = self.made_by.get(target or "")
        if sender is None:
            return Ignored("delete_of_unknown_marker")
        ts = cot_ms(root.get("time")) or now_ms
        fields = {"sighting_id": sighting_id_for(target), "ts": str(ts), "operator_id": sender.operator_id,
                  "ended": ENDED_BY_DELETE, "drone_id": sender.drone_id}
        verdict = validate("sighting_end", fields, now_ms, self.limits)
        if isinstance(verdict, Rejection):
            return Ignored("invalid", verdict.reason[:120])
        del self.made_by[target]
        return fields

    def _remember(self, uid: str, sender: Sender) -> None:
        self.made_by[uid] = sender
        self.made_by.move_to_end(uid)
        while len(self.made_by) > REMEMBERED_MARKERS:
            self.made_by.popitem(last=False)


def split_stream(buffer: bytes) -> tuple[list[bytes], bytes]:
    """Whole `<event>…</event>` chunks of a TCP stream, and the rest to keep for the next read. A rest longer
    than MAX_EVENT_BYTES with no end in sight is given as one chunk, which read_event refuses as too large."""
    events = []
    while True:
        end = buffer.find(b"</event>")
        if end < 0:
            break
        events.append(buffer[: end + len(b"</event>")].strip())
        buffer = buffer[end + len(b"</event>"):]
    if len(buffer) > MAX_EVENT_BYTES:
        events.append(buffer)
        buffer = b""
    return events, buffer
