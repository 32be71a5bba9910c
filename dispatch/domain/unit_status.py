"""A patrol's status over time, from the record; and the choice of any available patrol for a sighting.

Status history. The live picture holds only a patrol's latest status, so "how
long has BAC-12 been on scene" and "what has it done this shift" are rebuilt
from what is kept: the patrol's own reports ({site}:in:patrols, judged as
ingest judges them) and the assignment events ({site}:assignments). The rule
is the live one, as replay applies it (domain/replay/history.py, store/assignments.py):

- of a patrol's reports, the one with the greatest ts at or before t holds
  (of two with the same ts, the first received);
- while an assignment of the patrol is open at t, the patrol shows the status
  that assignment implies (lifecycle.patrol_status_for), whatever it reports;
- once the assignment is closed (cleared, cancelled, reassigned away), the
  patrol is available until a report newer than the closing.

`timeline` folds one patrol's reports and events into the list of status
changes; `run_start` says when the current status began, and whether that is
exact or only "at least" (the status was already held when the record read
begins).

Choosing any available patrol. `choices` ranks every available patrol with the
ranking rules of the nearest-five list (ranking.rank: great-circle distance,
ETA with the detour factor and start-up time), marks the ones the five-nearest
list already shows, and narrows them to a typed call sign (`match_call_sign`).

Pure: no Redis, no Dash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Sequence

from .lifecycle import OPEN_STATES, patrol_status_for
from .ranking import Candidate, rank

AVAILABLE = "available"
_OPEN = {state.value for state in OPEN_STATES}


@dataclass(frozen=True)
class Report:
    """One accepted report of the patrol, as received (in arrival order)."""

    ts: int
    status: str


@dataclass(frozen=True)
class Event:
    """One event of an assignment of the patrol, in stream order."""

    ts: int
    state: str
    sighting_id: str = ""
    assignment_id: str = ""


@dataclass(frozen=True)
class Change:
    """The patrol entered `status` at `ts`, because of `cause`: "report" (its own report), or the
    assignment state that set it ("assigned", "en_route", ..., "cleared", "cancelled")."""

    ts: int
    status: str
    cause: str
    sighting_id: str = ""


@dataclass(frozen=True)
class RunStart:
    """When the current status began; `exact` False: it was already held when the record read begins."""

    status: str
    since_ms: int
    exact: bool


def timeline(reports: Sequence[Report], events: Sequence[Event]) -> list[Change]:
    """The patrol's status changes, oldest first (consecutive equal statuses merged).

    `reports` in arrival order, `events` in stream order. Instants before the
    first report have no status (the patrol was not in the picture), except
    under an open assignment, which sets it anyway.
    """
    kept: dict[int, Report] = {}
    for report in reports:  # of equal ts, the first received holds
        kept.setdefault(int(report.ts), report)
    by_ts = [kept[ts] for ts in sorted(kept)]
    ordered = sorted(enumerate(events), key=lambda pair: (int(pair[1].ts), pair[0]))  # equal ts: stream order
    instants = sorted(set(kept) | {int(event.ts) for _, event in ordered})
    changes: list[Change] = []
    r = e = -1
    for t in instants:
        while r + 1 < len(by_ts) and by_ts[r + 1].ts <= t:
            r += 1
        while e + 1 < len(ordered) and int(ordered[e + 1][1].ts) <= t:
            e += 1
        report = by_ts[r] if r >= 0 else None
        event = ordered[e][1] if e >= 0 else None
        if event is not None and event.state in _OPEN:
            status, cause, sighting = patrol_status_for(event.state).value, event.state, event.sighting_id
        elif event is not None and report is not None and int(event.ts) > report.ts:
            status, cause, sighting = AVAILABLE, event.state, event.sighting_id
        elif report is not None:
            status, cause, sighting = report.status, "report", ""
        else:
            continue
        if not changes or changes[-1].status != status:
            changes.append(Change(t, status, cause, sighting))
    return changes


def run_start(changes: Sequence[Change], current_status: str | None = None) -> RunStart | None:
    """When the last status of `changes` began; None if there is none, or if it is not `current_status`
    (the record read disagrees with the picture: better no figure than a wrong one)."""
    if not changes:
        return None
    last = changes[-1]
    if current_status is not None and last.status != current_status:
        return None
    return RunStart(last.status, last.ts, exact=len(changes) > 1)


def settled(changes: Sequence[Change], reports: Iterable[Report], earliest_unread_ts: int) -> bool:
    """Whether reading older entries could still move the current status's start.

    A report not yet read has a ts at most `earliest_unread_ts`. Once a report
    that was read lies strictly between that bound and the current status's
    start, every unread report is superseded by it at every instant from there
    on (an open assignment does not look at reports at all, and a closing
    compares with the newest report), so the status from that report's ts on,
    and the change that starts the current status, are settled. Reading
    backwards stops there.
    """
    if len(changes) < 2:
        return False
    start = changes[-1].ts
    return any(earliest_unread_ts < report.ts < start for report in reports)


def recent(changes: Sequence[Change], limit: int) -> tuple[list[Change], int]:
    """The `limit` most recent changes, newest first, and how many older ones were left out."""
    limit = max(0, int(limit))
    kept = list(changes[-limit:]) if limit else []
    return kept[::-1], len(changes) - len(kept)


# ----------------------------------------------------------------------------- any available patrol

MAX_QUERY_CHARS = 16
_NUMBERS = re.compile(r"(\d+)")


def normalise_query(text: object) -> str:
    """A typed call sign as compared: trimmed, upper case, at most MAX_QUERY_CHARS."""
    return str(text or "").strip().upper()[:MAX_QUERY_CHARS]


def _natural(call_sign: str) -> list:
    """BAC-2 before BAC-12."""
    return [int(part) if part.isdigit() else part for part in _NUMBERS.split(call_sign.upper())]


def match_call_sign(query: str, call_signs: Iterable[str]) -> list[str]:
    """Call signs matching a typed `query`, best first: the exact one, then those starting with it, then
    those containing it (each group in natural order). An empty query matches everything."""
    wanted = normalise_query(query)
    exact, starts, contains = [], [], []
    for sign in call_signs:
        upper = sign.upper()
        if not wanted:
            starts.append(sign)
        elif upper == wanted:
            exact.append(sign)
        elif upper.startswith(wanted):
            starts.append(sign)
        elif wanted in upper:
            contains.append(sign)
    return exact + sorted(starts, key=_natural) + sorted(contains, key=_natural)


@dataclass(frozen=True)
class Choice:
    """An available patrol offered for a sighting: its distance and ETA (ranking rules), its place by
    distance among all available patrols (1 = nearest), and whether the five-nearest list shows it."""

    candidate: Candidate
    place: int
    among_nearest: bool


def choices(lat: float, lon: float, patrols: Iterable[tuple[str, float, float]], *, query: str = "",
            nearest_count: int = 5, limit: int | None = None) -> list[Choice]:
    """Every available patrol (patrol_id, lat, lon) for a sighting at (lat, lon), ranked as the nearest
    list ranks them, narrowed to `query` (match_call_sign order: an exact call sign first, then by
    distance within each match group), at most `limit`."""
    rows = list(patrols)
    ranked = rank(lat, lon, rows, k=len(rows))
    places = {c.patrol_id: (i + 1, c) for i, c in enumerate(ranked)}
    wanted = normalise_query(query)
    if wanted:
        group = {sign: (0 if sign.upper() == wanted else 1 if sign.upper().startswith(wanted) else 2)
                 for sign in match_call_sign(wanted, places)}
        order = sorted(group, key=lambda sign: (group[sign], places[sign][0]))
    else:
        order = [c.patrol_id for c in ranked]
    found = [Choice(places[sign][1], places[sign][0], places[sign][0] <= nearest_count) for sign in order]
    return found if limit is None else found[:max(0, limit)]
