"""How a sighting ends: every sighting reaches exactly one recorded outcome.

A sighting's life, next to its assignments' (lifecycle.py):

    open ──assign──► assigned … cleared ─────────────► ended "dispatched"
    open ──close (supervisor, reason code)──────────► ended "closed"
    open ──merge into another open one (supervisor)─► ended "merged"
    open ──past its category's horizon (system)─────► ended "expired"
    open ──`ended` entry from its own operator──────► ended "ended_by_operator"

Decisions, and why:
- Only an *unassigned* sighting can be closed, merged or expired. Once a
  patrol has been sent, the crew's clearing is the ending: a supervisor who
  wants to stop it cancels the assignment first (the crew's tablet hears of
  that), so a sighting is never closed behind a patrol's back.
- Drone sightings are short-lived observations: a lookout seen 20 minutes ago
  is not where the drone saw it. Each category therefore has a horizon after
  which an unassigned sighting leaves the queue as "expired, nobody sent".
  Assigned sightings never expire (a crew is on it).
- A merge keeps both sightings on the record: the duplicate ends as "merged"
  with a link to the sighting that stays open.
- The operator who reported a sighting may update it (position, priority,
  note) or end it ("lookout left") through the sightings stream; another
  operator may not (the entry is dead-lettered, `check_operator`). An end
  obeys the same rule as a supervisor's close: only an open, unassigned
  sighting ends; once a patrol is on it, the operator's end is refused and
  counted (`ignored:sighting_assigned`): the crew's clearing is the ending.
- Nothing is deleted: an ending takes the sighting off the current picture and
  writes it on the record (the store does both in one atomic step).

Every check returns None when allowed, else one readable sentence the screen
shows as is. Pure: no Redis, no clock (times are passed in).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import Enum
from typing import Iterable, Mapping

from .geo import haversine_m
from .models import OperatorEndReason, SightingCategory
from .text import invisible_character

MAX_REASON_TEXT = 80
"""An "other" reason is a short label on a queue row and in the audit details (which cap text at 120)."""

DUPLICATE_RADIUS_M = 150.0
DUPLICATE_WINDOW_MS = 5 * 60_000


class Disposition(str, Enum):
    """How a sighting ended."""

    DISPATCHED = "dispatched"  # a patrol was sent and cleared it
    CLOSED = "closed"  # closed by a supervisor without sending anyone, with a reason
    MERGED = "merged"  # a duplicate of another sighting, which stays open
    EXPIRED = "expired"  # unassigned past its category's horizon: nobody sent
    ENDED_BY_OPERATOR = "ended_by_operator"  # the operator who reported it ended it ("lookout left")


class CloseReason(str, Enum):
    FALSE_ALARM = "false_alarm"
    DUPLICATE = "duplicate"
    DRONE_ONLY = "drone_only"
    REFERRED = "referred"
    OTHER = "other"


REASON_LABELS: dict[CloseReason, str] = {
    CloseReason.FALSE_ALARM: "false alarm",
    CloseReason.DUPLICATE: "duplicate of another sighting",
    CloseReason.DRONE_ONLY: "watched by the drone only",
    CloseReason.REFERRED: "referred to another service",
    CloseReason.OTHER: "other",
}

OPERATOR_END_LABELS: dict[OperatorEndReason, str] = {
    OperatorEndReason.LEFT: "left, situation over",
    OperatorEndReason.LOST_SIGHT: "drone lost sight",
    OperatorEndReason.MISTAKE: "reported by mistake",
}
"""How an operator's `ended` code reads on the screens and in replay ("ended by the operator: left, ...")."""

DISPOSITION_WORDS: dict[str, str] = {
    Disposition.DISPATCHED.value: "dispatched",
    Disposition.CLOSED.value: "closed",
    Disposition.MERGED.value: "merged",
    Disposition.EXPIRED.value: "expired, nobody sent",
    Disposition.ENDED_BY_OPERATOR.value: "ended by the operator",
}
"""Each disposition in words, for event lists and messages."""

# Why an operator's end (or update) changed nothing: the `ignored:<reason>` counters of {site}:stats.
IGNORED_ENDED = "sighting_ended"  # the sighting had already ended (an update, or a second end)
IGNORED_UNKNOWN = "sighting_unknown"  # an end for a sighting never received (or already dropped by retention)
IGNORED_ASSIGNED = "sighting_assigned"  # an end for a sighting a patrol is on: the crew's clearing ends it
IGNORED_OPERATOR = "operator_mismatch"  # only when two workers race a sighting's first report (else dead-lettered)
IGNORED_REASONS = (IGNORED_ENDED, IGNORED_UNKNOWN, IGNORED_ASSIGNED, IGNORED_OPERATOR)

DEFAULT_HORIZONS_MS: dict[SightingCategory, int] = {
    SightingCategory.VEHICLE: 5 * 60_000,
    SightingCategory.LOOKOUT: 10 * 60_000,
    SightingCategory.DEAL: 20 * 60_000,
    SightingCategory.GATHERING: 30 * 60_000,
    SightingCategory.OTHER: 10 * 60_000,
}
"""A vehicle moves on within minutes, a gathering lasts; settings.py may override each."""


@dataclass(frozen=True)
class Ending:
    """One sighting's recorded outcome (what the record stream holds, as plain values)."""

    sighting_id: str
    disposition: Disposition
    ts: int
    actor: str
    reason: CloseReason | OperatorEndReason | None = None
    text: str = ""
    merged_into: str | None = None

    def fields(self) -> dict[str, str]:
        """Stream fields: unset ones left out."""
        found = {"event": f"sighting_{self.disposition.value}", "sighting_id": self.sighting_id,
                 "disposition": self.disposition.value, "ts": str(self.ts), "actor": self.actor}
        if self.reason is not None:
            found["reason"] = self.reason.value
        if self.text:
            found["text"] = self.text
        if self.merged_into:
            found["merged_into"] = self.merged_into
        return found


def check_reason(reason: CloseReason | str | None, text: str | None) -> str | None:
    """None if (`reason`, `text`) closes a sighting, else why not.

    "other" needs a short visible text; the named reasons take none (a free
    text beside a code would soon be the only thing anyone reads).
    """
    choices = ", ".join(r.value for r in CloseReason)
    try:
        reason = CloseReason(reason)
    except ValueError:
        return f"unknown reason {reason!r}: expected one of {choices}"
    text = text or ""
    if reason is not CloseReason.OTHER:
        return f"a text is given only with the reason 'other', not with {reason.value}" if text.strip() else None
    if not text.strip():
        return "closing for an 'other' reason needs a short text saying why"
    if len(text) > MAX_REASON_TEXT:
        return f"the reason text is {len(text)} characters long: at most {MAX_REASON_TEXT}"
    for char in text:
        if unicodedata.category(char) == "Cc":
            return f"the reason text contains U+{ord(char):04X}, a control character"
    found = invisible_character(text)
    if found is not None:
        return f"the reason text contains {found}, an invisible character that can disguise text on screen"
    return None


def check_can_end(sighting_id: str, *, is_open: bool, assigned_to: str | None) -> str | None:
    """None if an open, unassigned sighting may be closed, merged or expired now, else why not."""
    if not is_open:
        return explain_not_open(sighting_id)
    if assigned_to:
        return explain_assigned(sighting_id, assigned_to)
    return None


def check_operator(sighting_id: str, *, reported_by: str | None, operator_id: str) -> str | None:
    """None if `operator_id` may update or end `sighting_id`, reported by `reported_by` (None: not known yet,
    so this entry reports it); else a dead letter's reason."""
    if reported_by is None or reported_by == operator_id:
        return None
    return (f"operator_id: {operator_id} may not update or end sighting {sighting_id}: it was reported by "
            f"{reported_by}, and only the operator who reported a sighting may update or end it")


def operator_end_words(ending: Mapping) -> str:
    """"ended by the operator OP-3: left, situation over (note)", from an ending's stream fields."""
    try:
        label = OPERATOR_END_LABELS[OperatorEndReason(ending.get("reason") or "")]
    except ValueError:
        label = str(ending.get("reason") or "")
    words = DISPOSITION_WORDS[Disposition.ENDED_BY_OPERATOR.value]
    words += (f" {ending['actor']}" if ending.get("actor") else "") + (f": {label}" if label else "")
    return words + (f" ({ending['text']})" if ending.get("text") else "")


def check_merge(source_id: str, target_id: str, *, target_open: bool) -> str | None:
    """None if `source_id` may be merged into `target_id` (the one that stays open)."""
    if source_id == target_id:
        return f"sighting {source_id} cannot be merged into itself"
    if not target_open:
        return f"cannot merge into sighting {target_id}: it is not open (ended, or never received)"
    return None


def explain_not_open(sighting_id: str) -> str:
    return f"sighting {sighting_id} is not open: it has already ended (or was never received)"


def explain_assigned(sighting_id: str, patrol_id: str) -> str:
    return (f"sighting {sighting_id} is assigned to {patrol_id}: it ends when the crew clears it "
            "(cancel the assignment first to close it)")


def horizon_ms(category: SightingCategory | str, horizons: Mapping[SightingCategory, int] | None = None) -> int:
    """How long an unassigned sighting of `category` stays in the queue; unknown categories get "other"'s."""
    horizons = DEFAULT_HORIZONS_MS if horizons is None else horizons
    try:
        return horizons[SightingCategory(category)]
    except (ValueError, KeyError):
        return horizons.get(SightingCategory.OTHER, DEFAULT_HORIZONS_MS[SightingCategory.OTHER])


def due_to_expire(sightings: Iterable[Mapping], assigned: set[str] | frozenset[str], now_ms: int,
                  horizons: Mapping[SightingCategory, int] | None = None) -> list[str]:
    """Ids of open sightings, not assigned, whose ts is older than their category's horizon; oldest first."""
    due = [s for s in sightings
           if s["sighting_id"] not in assigned and now_ms - int(s["ts"]) > horizon_ms(s.get("category"), horizons)]
    return [s["sighting_id"] for s in sorted(due, key=lambda s: (int(s["ts"]), s["sighting_id"]))]


def is_probable_duplicate(a: Mapping, b: Mapping, *, radius_m: float = DUPLICATE_RADIUS_M,
                          window_ms: int = DUPLICATE_WINDOW_MS) -> bool:
    """Same category, within `radius_m` and `window_ms` of each other: probably the same thing seen twice."""
    if a["sighting_id"] == b["sighting_id"] or a.get("category") != b.get("category"):
        return False
    if abs(int(a["ts"]) - int(b["ts"])) > window_ms:
        return False
    return haversine_m(a["lat"], a["lon"], b["lat"], b["lon"]) <= radius_m


def probable_duplicates(sightings: Iterable[Mapping], **limits) -> dict[str, str]:
    """For each sighting that looks like a duplicate, the earlier sighting it would merge into.

    The earliest of a group stays (the first report); each later one points at
    the earliest probable original, so merging never goes round in a circle.
    """
    ordered = sorted(sightings, key=lambda s: (int(s["ts"]), s["sighting_id"]))
    found: dict[str, str] = {}
    for index, later in enumerate(ordered):
        for earlier in ordered[:index]:
            if earlier["sighting_id"] not in found and is_probable_duplicate(earlier, later, **limits):
                found[later["sighting_id"]] = earlier["sighting_id"]
                break
    return found


OUTCOME_ORDER = ("dispatched", *(f"closed:{reason.value}" for reason in CloseReason), "merged",
                 Disposition.ENDED_BY_OPERATOR.value, "expired")
"""The shift figure's rows: dispatched, closed without dispatch by reason, merged, ended by operator, expired."""


def outcome_counts(endings: Iterable[Mapping]) -> dict[str, int]:
    """Sightings by outcome, from recorded endings (stream fields): every row of OUTCOME_ORDER, zeros included.

    One ending per sighting is what the store guarantees; a repeated id is still counted once (its first
    ending), so a hand-edited stream cannot inflate the figure.
    """
    counts = dict.fromkeys(OUTCOME_ORDER, 0)
    seen: set[str] = set()
    for ending in endings:
        if ending.get("sighting_id") in seen:
            continue
        seen.add(ending.get("sighting_id"))
        row = ending.get("disposition", "")
        if row == Disposition.CLOSED.value:
            row = f"closed:{ending.get('reason', CloseReason.OTHER.value)}"
        if row in counts:
            counts[row] += 1
    return counts
