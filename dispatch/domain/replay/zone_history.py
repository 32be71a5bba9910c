"""Which versions of the authorised zones were stored when: the after-action replay's zones.

A legal review asks "was this drone inside its authorised perimeter at
14:02?", and the answer must use the perimeter stored at 14:02, not the one
stored now: a zone edited or deleted since the shift would otherwise be drawn
wrongly or not at all. Every change to a zone appends one entry to the zone
log (`{site}:zones:log`) in the same atomic step as the change, so the log
says exactly which value the zones hash held at each instant.

A version is stored over the half-open interval [stored_from_ms,
stored_until_ms): it starts at its `saved` event and ends at the next `saved`
or `deleted` event of the same zone_id, so at the instant of an edit the new
version is the one stored, and two versions of one zone never overlap.
`None` means unbounded: stored since before the log began (from), or still
stored now (until).

Zones stored now whose log holds no `saved` event (stored before the log
existed, or whose entries were trimmed) count as stored since forever, until
their first logged event. Pure: the store (store/zones.py) reads the log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Iterable

from ..zones import Zone

log = logging.getLogger(__name__)

SAVED = "saved"
DELETED = "deleted"
EVENTS = (SAVED, DELETED)

LogEntry = tuple[int, str, str, "Zone | None"]  # (stored_ms, event, zone_id, zone for saved)


@dataclass(frozen=True)
class ZoneVersion:
    """One stored value of a zone and the half-open interval it was stored over (None: unbounded)."""

    zone: Zone
    stored_from_ms: int | None
    stored_until_ms: int | None

    def stored_at(self, t_ms: int) -> bool:
        return ((self.stored_from_ms is None or self.stored_from_ms <= t_ms)
                and (self.stored_until_ms is None or t_ms < self.stored_until_ms))

    def overlaps(self, from_ms: int, to_ms: int) -> bool:
        """Stored at some instant of the closed window [from_ms, to_ms]."""
        return ((self.stored_from_ms is None or self.stored_from_ms <= to_ms)
                and (self.stored_until_ms is None or from_ms < self.stored_until_ms))


def versions_in_window(entries: Iterable[LogEntry], current: Iterable[Zone], from_ms: int,
                       to_ms: int) -> list[ZoneVersion]:
    """Every zone version stored at some instant of [from_ms, to_ms], by zone_id then stored_from_ms.

    `entries` are the zone log's entries, (stored_ms, event, zone_id, zone), in
    any order (sorted here, stably: entries sharing a millisecond keep their
    log order); `zone` is the saved value, None for a deletion. An entry that
    does not make sense is logged and skipped (see `_readable`): one bad entry
    must not hide the other zones from a review. `current` are the zones
    stored now.
    """
    by_zone: dict[str, list[tuple[int, str, Zone | None]]] = {}
    for entry in sorted(_readable(entries), key=lambda item: item[0]):
        stored_ms, event, zone_id, zone = entry
        by_zone.setdefault(zone_id, []).append((stored_ms, event, zone))
    versions: list[ZoneVersion] = []
    for zone in current:
        events = by_zone.get(zone.zone_id, [])
        if not any(event == SAVED for _, event, _ in events):  # stored before the log, or trimmed since
            versions.append(ZoneVersion(zone, None, events[0][0] if events else None))
    for events in by_zone.values():
        for index, (stored_ms, event, zone) in enumerate(events):
            if event != SAVED or zone is None:
                continue
            until = events[index + 1][0] if index + 1 < len(events) else None
            versions.append(ZoneVersion(zone, stored_ms, until))
    kept = [version for version in versions if _nonempty(version) and version.overlaps(from_ms, to_ms)]
    return sorted(kept, key=lambda v: (v.zone.zone_id, -1 if v.stored_from_ms is None else v.stored_from_ms))


def _nonempty(version: ZoneVersion) -> bool:
    """False for a version replaced within the same millisecond: it was never the stored value at any instant."""
    return (version.stored_from_ms is None or version.stored_until_ms is None
            or version.stored_from_ms < version.stored_until_ms)


def _readable(entries: Iterable[LogEntry]) -> Iterable[LogEntry]:
    """The entries that say when which zone changed. A save whose zone is unreadable still marks a
    change (the version before it ends there) but gives no version to draw; an entry without a usable
    instant, event or zone_id is dropped."""
    for entry in entries:
        try:
            stored_ms, event, zone_id, zone = entry
        except (TypeError, ValueError):
            log.error("zone log entry %.200r is not (stored_ms, event, zone_id, zone), skipped", entry)
            continue
        problem = _problem(stored_ms, event, zone_id)
        if problem:
            log.error("zone log entry at %r for %.60r skipped: %s", stored_ms, zone_id, problem)
            continue
        if event == SAVED and not (isinstance(zone, Zone) and zone.zone_id == zone_id):
            log.error("zone log entry at %r for %.60r: the saved zone is unreadable or another zone's, "
                      "not drawn", stored_ms, zone_id)
            zone = None
        yield int(stored_ms), event, zone_id, zone if event == SAVED else None


def _problem(stored_ms, event, zone_id) -> str:
    if isinstance(stored_ms, bool) or not isinstance(stored_ms, int) or stored_ms < 0:
        return f"stored_ms {stored_ms!r:.40} is not an instant in ms"
    if event not in EVENTS:
        return f"unknown event {event!r:.40}, expected 'saved' or 'deleted'"
    if not isinstance(zone_id, str) or not zone_id:
        return "no zone_id"
    return ""
