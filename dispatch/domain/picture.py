"""The current picture and the one rule that updates it.

`apply` is the single meaning of "an event changes the picture": the ingest
worker folds each batch with it before writing (coalescing), the Redis script
applies the same newer-wins rule against what is stored, and replay folds the
retained streams with it.

The rule: a unit's value is replaced only by a message with a strictly newer
`ts`. Strictly, so that applying the same message twice changes nothing and
out-of-order arrivals never move a unit back in time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from .models import PatrolReport, Sighting, Telemetry
from .validate import Message


@dataclass
class Picture:
    drones: dict[str, Telemetry] = field(default_factory=dict)
    patrols: dict[str, PatrolReport] = field(default_factory=dict)
    sightings: dict[str, Sighting] = field(default_factory=dict)


def unit_of(message: Message) -> tuple[str, str] | None:
    """(collection, unit id) a message updates, or None if it updates no unit."""
    if isinstance(message, Telemetry):
        return "drones", message.drone_id
    if isinstance(message, PatrolReport):
        return "patrols", message.patrol_id
    if isinstance(message, Sighting):
        return "sightings", message.sighting_id
    return None


def apply(picture: Picture, message: Message) -> bool:
    """Update the picture in place; True if it changed."""
    unit = unit_of(message)
    if unit is None:
        return False
    collection = getattr(picture, unit[0])
    current = collection.get(unit[1])
    if current is not None and current.ts >= message.ts:
        return False
    collection[unit[1]] = message
    return True


def fold(messages: Iterable[Message], picture: Picture | None = None) -> Picture:
    """Apply messages in order; with no picture given, the latest of each unit among them."""
    picture = Picture() if picture is None else picture
    for message in messages:
        apply(picture, message)
    return picture
