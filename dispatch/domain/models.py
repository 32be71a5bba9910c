"""The message contract: what drones, operators, tablets and supervisors send.

Times are milliseconds since the epoch (UTC); positions are WGS84 degrees.
docs/streams.md is the same contract written for people building a bridge;
keep the two in step.

Privacy by design: no field names or describes a person. Units are known by
call sign (patrols), airframe code (drones) or a pseudonymous code (operators,
supervisors); the only free text is a short sighting note.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from .text import check_visible

# Identifier formats. Kept strict so that a typo or a name typed into an id
# field is caught at the door instead of spreading through the picture.
DRONE_ID = r"^DR-[0-9A-Z]{1,8}$"
PATROL_ID = r"^[A-Z]{1,5}-[0-9]{1,4}$"
OPERATOR_ID = r"^OP-[0-9A-Z]{1,8}$"
SUPERVISOR_ID = r"^SUP-[0-9A-Z]{1,8}$"
EVENT_ID = r"^[A-Za-z0-9_-]{6,40}$"

ID_FORMATS = {
    DRONE_ID: "DR- then 1 to 8 capitals or digits, e.g. DR-07",
    PATROL_ID: "1 to 5 capitals, '-', 1 to 4 digits, e.g. BAC-12",
    OPERATOR_ID: "OP- then 1 to 8 capitals or digits, e.g. OP-3",
    SUPERVISOR_ID: "SUP- then 1 to 8 capitals or digits, e.g. SUP-1",
    EVENT_ID: "6 to 40 letters, digits, '-' or '_', e.g. a UUID",
}

NOTE_MAX_CHARS = 140

DroneId = Annotated[str, StringConstraints(pattern=DRONE_ID)]
PatrolId = Annotated[str, StringConstraints(pattern=PATROL_ID)]
OperatorId = Annotated[str, StringConstraints(pattern=OPERATOR_ID)]
SupervisorId = Annotated[str, StringConstraints(pattern=SUPERVISOR_ID)]
EventId = Annotated[str, StringConstraints(pattern=EVENT_ID)]
# One line of printable text: no control characters (C0, DEL, C1) nor Unicode line or
# paragraph separators, so nothing can forge log lines; and nothing invisible that could
# disguise it on screen (bidi controls, zero-width characters: text.py).
Note = Annotated[
    str,
    StringConstraints(max_length=NOTE_MAX_CHARS, pattern=r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]*$"),
    AfterValidator(check_visible),
]

# A number as docs/streams.md section 3 writes it: ASCII digits, an optional leading minus,
# an optional fraction after a dot, an optional exponent. Python's float() and pydantic's lax
# mode accept more ("4_8.1", "+48.1", " 48.1\n", ".5", "5."): a bridge relying on that would
# break the day another reader of the streams parses by the contract. Only text is checked;
# numbers built in Python (replay, tests) are numbers already.
DECIMAL_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")


def _plain_decimal(kind: str):
    def check(value: object) -> object:
        if isinstance(value, str) and not DECIMAL_NUMBER.fullmatch(value):
            if value.strip().lstrip("+-").lower() in ("nan", "inf", "infinity"):
                raise PydanticCustomError("finite_number", "must be a finite number")
            raise PydanticCustomError(kind, "not a number in plain decimal notation")
        return value

    return BeforeValidator(check)


Number = Annotated[float, _plain_decimal("number_format")]
WholeNumber = Annotated[int, _plain_decimal("whole_number_format")]

Timestamp = Annotated[WholeNumber, Field(gt=0, description="ms since the epoch, UTC")]
Latitude = Annotated[Number, Field(ge=-90, le=90)]
Longitude = Annotated[Number, Field(ge=-180, le=180)]


class SightingCategory(str, Enum):
    LOOKOUT = "lookout"
    DEAL = "deal"
    VEHICLE = "vehicle"
    GATHERING = "gathering"
    OTHER = "other"


class PatrolStatus(str, Enum):
    AVAILABLE = "available"
    ASSIGNED = "assigned"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    UNAVAILABLE = "unavailable"


class AssignmentState(str, Enum):
    ASSIGNED = "assigned"
    ACKNOWLEDGED = "acknowledged"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    CLEARED = "cleared"
    CANCELLED = "cancelled"


class Outcome(str, Enum):
    """What the patrol found, reported when it clears: feeds review and statistics, names nobody."""

    NOTHING_FOUND = "nothing_found"
    DISPERSED = "dispersed"
    VEHICLE_CHECKED = "vehicle_checked"
    ARREST = "arrest"
    OTHER = "other"


class OperatorEndReason(str, Enum):
    """Why an operator ends a sighting it reported (docs/streams.md, `sighting` end entries): codes, not
    free text, so that the queue, replay and the shift figures read the same words; a short `note` may add
    a neutral detail under the note rules."""

    LEFT = "left"  # the situation is over: the lookout left, the group dispersed, the vehicle drove off
    LOST_SIGHT = "lost_sight"  # the drone lost sight of it and cannot say more
    MISTAKE = "mistake"  # reported by mistake (wrong place or category): report it anew if needed


class _Message(BaseModel):
    # extra="forbid": a misspelt field ("lng") is refused, not silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Telemetry(_Message):
    drone_id: DroneId
    ts: Timestamp
    lat: Latitude
    lon: Longitude
    alt_m: Annotated[Number, Field(ge=-100, le=1_000)]
    heading_deg: Annotated[Number, Field(ge=0, lt=360)]
    speed_mps: Annotated[Number, Field(ge=0, le=100)]
    battery_pct: Annotated[Number, Field(ge=0, le=100)]


class Sighting(_Message):
    sighting_id: EventId
    ts: Timestamp
    drone_id: DroneId
    operator_id: OperatorId
    category: SightingCategory
    lat: Latitude
    lon: Longitude
    priority: Annotated[WholeNumber, Field(ge=1, le=3, description="1 is the most urgent")]
    note: Note = ""


class SightingEnd(_Message):
    """The operator who reported a sighting ends it ("lookout left"): an entry on the sightings stream with an
    `ended` field instead of a category and a position. `drone_id` is optional (the drone may have moved on)."""

    sighting_id: EventId
    ts: Timestamp
    operator_id: OperatorId
    ended: OperatorEndReason
    drone_id: DroneId | None = None
    note: Note = ""


class PatrolReport(_Message):
    patrol_id: PatrolId
    ts: Timestamp
    lat: Latitude
    lon: Longitude
    status: PatrolStatus


class Assignment(_Message):
    """A supervisor sending a patrol to a sighting, as of its latest state.

    `ts` is when it entered `state`; `assigned_ts` keeps when it was created, so
    a refusal can still say "assigned by SUP-2 at 14:02:11" after later changes.
    Both new fields are optional so that the first contract's assignments stay
    valid. `outcome` is set once, when the patrol clears (lifecycle.py requires it).
    """

    assignment_id: EventId
    sighting_id: EventId
    patrol_id: PatrolId
    supervisor_id: SupervisorId
    ts: Timestamp
    state: AssignmentState
    assigned_ts: Timestamp | None = None
    outcome: Outcome | None = None


MESSAGE_MODELS: dict[str, type[_Message]] = {
    "telemetry": Telemetry,
    "sighting": Sighting,
    "sighting_end": SightingEnd,  # on the sightings stream: an entry with an `ended` field (validate.py)
    "patrol": PatrolReport,
    "assignment": Assignment,
}
"""Model of each message kind, by the name used for its input stream and in deltas."""
