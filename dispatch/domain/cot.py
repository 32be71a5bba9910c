"""Cursor-on-Target (CoT) out: the picture as CoT events, and which of them to send now. Pure.

ATAK, WinTAK and TAK servers speak CoT: one XML `<event>` per object, with a stable `uid`, a `type` from
the CoT type tree (`a-f-G-U-C` is "atom, friendly, ground, unit, combat"), three times (`time` the event
was made, `start` its information is valid from, `stale` after which a TAK client greys it out and drops
it) and a `<point>`. The bridge (dispatch/services/bridges/cot.py) only moves these bytes; every choice is
here:

- patrols: `a-f-G-U-C`, call sign as `<contact callsign>`, `how="m-g"` (machine, GPS: the tablet's fix);
  their open assignment as a remark and a `<link>` to the sighting's uid;
- drones: `a-f-A-M-F-Q` (friendly air, military fixed-wing drone, the UAV branch of the tree), `m-g`,
  `<track course speed>`;
- open sightings: `a-u-G` (unknown affiliation, ground), `a-u-G-E-V` for a vehicle; `how="h-e"` (human
  entered: an operator tagged it). Unknown, not hostile: a drone saw a lookout or a car, nobody knows who
  it is, and TAK draws unknown as a yellow marker apart from the blue friendly units. The call sign is
  what the wall screen says ("S-0142 P1 vehicle"); the remarks add category, priority, incident number
  and the reporting drone. **The sighting's free-text note never leaves**: it is the one field where an
  operator could have described a person (docs/streams.md, section 6), and TAK devices are outside the
  dispatch room. No function here reads it.

Times: a position's `start` is its report's `ts` and its `stale` is `ts` plus a horizon per kind (drones
`DRONE_STALE_MS`, patrols `PATROL_STALE_MS`: the watch process's link-lost and stale-patrol thresholds,
rounded up), so a unit whose reports stop goes stale on every TAK device even while this bridge keeps
running. A sighting has no reports: it is valid while open, so its `stale` is `time + SIGHTING_STALE_MS`
and a keep-alive renews it before then; when it ends a delete event (`t-x-d-d`) removes it at once, and if
that UDP datagram is lost the marker still goes stale within SIGHTING_STALE_MS.

Positions: `hae`, `ce`, `le` are `UNKNOWN` (9999999.0, the CoT convention): the contract carries no fix
accuracy, and a drone's `alt_m` is above take-off, not above the ellipsoid (it goes in the remarks).

Why xml.etree and not pytak's `cot_event`: pytak stamps `time`/`start`/`stale` from the wall clock and
truncates lat/lon to 4 decimals (11 m); here every time comes from the caller (pure, testable) and
positions keep 6 decimals (0.1 m). pytak carries the bytes (the bridge's transport, TLS to a TAK server).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Iterable, Mapping

from .numbers import sighting_label

UNKNOWN = 9999999.0  # CoT: hae/ce/le not known
DECIMALS = 6  # 0.1 m

PATROL_TYPE = "a-f-G-U-C"
DRONE_TYPE = "a-f-A-M-F-Q"
SIGHTING_TYPE = "a-u-G"
SIGHTING_TYPES = {"vehicle": "a-u-G-E-V"}  # category -> a more precise branch, where the tree has one
DELETE_TYPE = "t-x-d-d"  # TAK's "delete this uid" tasking
ASSIGNED_RELATION = "t"  # CoT leaves link/@relation open; no TAK code means "tasked to": ours, documented

HOW_GPS = "m-g"
HOW_HUMAN = "h-e"

DRONE_STALE_MS = 15_000  # drones report >= 1 Hz; watch calls a link lost after 5 s
PATROL_STALE_MS = 180_000  # tablets report every 2-60 s; watch calls a patrol stale after 120 s
SIGHTING_STALE_MS = 90_000  # open sightings: renewed by the keep-alive (three chances before stale)
DELETE_STALE_MS = 60_000
KEEPALIVE_MS = 30_000  # an unchanged object is sent again this often (late joiners, lost datagrams)

STATUS_WORDS = {"available": "available", "assigned": "assigned", "en_route": "en route",
                "on_scene": "on scene", "unavailable": "unavailable"}
ASSIGNMENT_WORDS = {"assigned": "assigned", "acknowledged": "acknowledged", "en_route": "en route",
                    "on_scene": "on scene"}


@dataclass(frozen=True)
class Link:
    uid: str
    type: str
    relation: str


@dataclass(frozen=True)
class CotEvent:
    """One CoT event, times in ms since the epoch (UTC)."""

    uid: str
    type: str
    how: str
    time_ms: int
    start_ms: int
    stale_ms: int
    lat: float
    lon: float
    hae: float = UNKNOWN
    ce: float = UNKNOWN
    le: float = UNKNOWN
    callsign: str = ""
    remarks: str = ""
    links: tuple[Link, ...] = ()
    course: float | None = None
    speed: float | None = None
    force_delete: bool = False

    def content(self) -> "CotEvent":
        """The event without its clock: two events with the same content say the same thing."""
        return replace(self, time_ms=0, stale_ms=0)


def cot_time(ms: int) -> str:
    """ISO 8601 in UTC with milliseconds and `Z`, as CoT wants: 2026-12-03T14:02:11.123Z."""
    moment = datetime.fromtimestamp(ms / 1000, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def uid_of(site: str, kind: str, unit_id: str) -> str:
    """`dispatch.rennes.patrol.BAC-12`: stable per object, so every update replaces the same marker."""
    return f"dispatch.{site}.{kind}.{unit_id}"


def to_xml(event: CotEvent) -> bytes:
    """The event as CoT XML (UTF-8, with declaration)."""
    root = ET.Element("event", {
        "version": "2.0", "uid": event.uid, "type": event.type, "how": event.how,
        "time": cot_time(event.time_ms), "start": cot_time(event.start_ms), "stale": cot_time(event.stale_ms),
    })
    ET.SubElement(root, "point", {
        "lat": _fixed(event.lat), "lon": _fixed(event.lon),
        "hae": _number(event.hae), "ce": _number(event.ce), "le": _number(event.le),
    })
    detail = ET.SubElement(root, "detail")
    if event.callsign:
        ET.SubElement(detail, "contact", {"callsign": event.callsign})
    if event.course is not None or event.speed is not None:
        ET.SubElement(detail, "track", {"course": _number(event.course or 0.0), "speed": _number(event.speed or 0.0)})
    for link in event.links:
        ET.SubElement(detail, "link", {"uid": link.uid, "type": link.type, "relation": link.relation})
    if event.remarks:
        ET.SubElement(detail, "remarks").text = event.remarks
    if event.force_delete:
        ET.SubElement(detail, "__forcedelete")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _fixed(value: float) -> str:
    return f"{value:.{DECIMALS}f}"


def _number(value: float) -> str:
    return f"{float(value):.1f}"


# --- The picture as events -------------------------------------------------------------------------------

def sighting_type(category: str) -> str:
    return SIGHTING_TYPES.get(category, SIGHTING_TYPE)


def sighting_callsign(sighting: Mapping) -> str:
    """What the wall screen calls it, plus the category: `S-0142 P1 vehicle`."""
    return f"{sighting_label(sighting)} P{sighting.get('priority')} {sighting.get('category')}"


def sighting_event(site: str, sighting: Mapping, now_ms: int) -> CotEvent:
    """An open sighting: the note is deliberately not read (module docstring)."""
    ts = int(sighting["ts"])
    remarks = (f"Sighting {sighting_label(sighting)}: {sighting['category']}, priority {sighting['priority']} "
               f"(1 most urgent), reported by {sighting['drone_id']} at {cot_time(ts)}.")
    return CotEvent(
        uid=uid_of(site, "sighting", sighting["sighting_id"]), type=sighting_type(sighting["category"]),
        how=HOW_HUMAN, time_ms=now_ms, start_ms=min(ts, now_ms), stale_ms=now_ms + SIGHTING_STALE_MS,
        lat=float(sighting["lat"]), lon=float(sighting["lon"]),
        callsign=sighting_callsign(sighting), remarks=remarks,
    )


def drone_event(site: str, drone: Mapping, now_ms: int) -> CotEvent:
    ts = int(drone["ts"])
    remarks = (f"Drone {drone['drone_id']}: {float(drone['alt_m']):.0f} m above take-off, "
               f"battery {float(drone['battery_pct']):.0f}%.")
    return CotEvent(
        uid=uid_of(site, "drone", drone["drone_id"]), type=DRONE_TYPE, how=HOW_GPS,
        time_ms=now_ms, start_ms=min(ts, now_ms), stale_ms=ts + DRONE_STALE_MS,
        lat=float(drone["lat"]), lon=float(drone["lon"]), callsign=drone["drone_id"], remarks=remarks,
        course=float(drone["heading_deg"]), speed=float(drone["speed_mps"]),
    )


def patrol_event(site: str, patrol: Mapping, now_ms: int, assignment: Mapping | None = None,
                 sighting: Mapping | None = None) -> CotEvent:
    """A patrol; with its open assignment, a remark naming the sighting and a link to the sighting's uid."""
    ts = int(patrol["ts"])
    status = STATUS_WORDS.get(str(patrol["status"]), str(patrol["status"]))
    remarks = f"Patrol {patrol['patrol_id']}: {status}."
    links: tuple[Link, ...] = ()
    if assignment is not None:
        target = sighting or {"sighting_id": assignment["sighting_id"]}
        label = sighting_callsign(target) if sighting else sighting_label(target)
        state = ASSIGNMENT_WORDS.get(str(assignment["state"]), str(assignment["state"]))
        remarks += f" Assigned to {label} ({state})."
        category = str(sighting.get("category")) if sighting else ""
        links = (Link(uid_of(site, "sighting", assignment["sighting_id"]), sighting_type(category),
                      ASSIGNED_RELATION),)
    return CotEvent(
        uid=uid_of(site, "patrol", patrol["patrol_id"]), type=PATROL_TYPE, how=HOW_GPS,
        time_ms=now_ms, start_ms=min(ts, now_ms), stale_ms=ts + PATROL_STALE_MS,
        lat=float(patrol["lat"]), lon=float(patrol["lon"]), callsign=patrol["patrol_id"], remarks=remarks,
        links=links,
    )


def delete_event(gone: CotEvent, now_ms: int) -> CotEvent:
    """TAK's delete tasking for an object that left the picture (a sighting ended, a unit dropped)."""
    return CotEvent(
        uid=f"{gone.uid}.delete", type=DELETE_TYPE, how="h-g-i-g-o", time_ms=now_ms, start_ms=now_ms,
        stale_ms=now_ms + DELETE_STALE_MS, lat=gone.lat, lon=gone.lon,
        links=(Link(gone.uid, gone.type, "none"),), force_delete=True,
    )


def picture_events(picture: Mapping, now_ms: int) -> dict[str, CotEvent]:
    """Every object of a snapshot (store/state.py read_snapshot) as an event, by uid, except units whose
    reports are too old to show (stale already: a TAK client would drop them on arrival)."""
    site = str(picture["site"])
    sightings = {s["sighting_id"]: s for s in picture.get("sightings", ()) if _placed(s)}
    assignment_of = {a["patrol_id"]: a for a in sorted(picture.get("assignments", ()), key=lambda a: a["ts"])}
    events: list[CotEvent] = [sighting_event(site, s, now_ms) for s in sightings.values()]
    events += [drone_event(site, d, now_ms) for d in picture.get("drones", ()) if _placed(d)]
    for patrol in picture.get("patrols", ()):
        if _placed(patrol):
            assignment = assignment_of.get(patrol["patrol_id"])
            sighting = sightings.get(assignment["sighting_id"]) if assignment else None
            events.append(patrol_event(site, patrol, now_ms, assignment, sighting))
    return {event.uid: event for event in events if event.stale_ms > now_ms}


def _placed(unit: Mapping) -> bool:
    """A position worth sending: finite, in range (the store holds only validated units; belt and braces)."""
    try:
        lat, lon = float(unit["lat"]), float(unit["lon"])
    except (KeyError, TypeError, ValueError):
        return False
    return math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180


# --- What to send now ------------------------------------------------------------------------------------

@dataclass
class _Sent:
    event: CotEvent
    sent_ms: int


@dataclass
class CotFeed:
    """What to send, given the picture now and what was sent before: an object when it changes, again
    every `keepalive_ms` while unchanged (TAK devices that joined since, lost datagrams, the sighting's
    stale renewed), and a delete when it leaves the picture while still shown (its stale not yet past).

    `reset()` after a reconnection: the new TCP peer has seen nothing, so everything is sent again."""

    keepalive_ms: int = KEEPALIVE_MS
    sent: dict[str, _Sent] = field(default_factory=dict)

    def due(self, picture: Mapping, now_ms: int) -> list[CotEvent]:
        wanted = picture_events(picture, now_ms)
        out: list[CotEvent] = []
        for uid, event in wanted.items():
            before = self.sent.get(uid)
            if (before is None or before.event.content() != event.content()
                    or now_ms - before.sent_ms >= self.keepalive_ms):
                out.append(event)
                self.sent[uid] = _Sent(event, now_ms)
        for uid in [uid for uid in self.sent if uid not in wanted]:
            gone = self.sent.pop(uid).event
            if gone.stale_ms > now_ms:
                out.append(delete_event(gone, now_ms))
        return out

    def reset(self) -> None:
        self.sent.clear()


def encode_all(events: Iterable[CotEvent]) -> list[bytes]:
    return [to_xml(event) for event in events]
