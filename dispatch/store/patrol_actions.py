"""Applying a patrol tablet's actions exactly once, and its position reports.

A tablet may send the same action several times: it queues taps while
offline and resends any whose answer it did not get. Each action carries an
id the tablet generated; the record of that id (`Keys.patrol_action`) makes
the second copy harmless:

1. `SET key <pending> NX PX lease` claims the id. Only one copy wins.
2. The winner applies the action (store/assignments.transition, or an XADD
   to `{site}:in:patrols`), then overwrites the claim with the answer, kept
   `ACTION_RECORD_TTL_MS` (24 h).
3. A copy that loses the claim reads the record: the recorded answer (changes
   nothing), "in progress" while the winner is still at it (the tablet asks
   again shortly), or a conflict if the id came with a different action.

Failures that say nothing about the action (Redis unreachable) release the
claim, so the resend gets a real try. The one window left open is a process
dying between applying and recording (microseconds, no I/O wait but the
record's own SET): the claim then lapses after its lease and a resend applies
again. That second try is still harmless: the assignment lifecycle never
repeats a state (it is refused as "assignment already en_route"), and a
repeated status report is the status the patrol already has. Making record
and action one atomic step would mean putting the record inside the
assignment scripts (store/assignments.py).

Keys are per patrol (`{site}:patrol-actions:<patrol_id>:<action_id>`): a
tablet can only ever meet the records of its own actions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import orjson
import redis
from pydantic import ValidationError

from .. import clock
from ..domain.audit import Action, AuditRole, make_entry
from ..domain.lifecycle import AssignmentActor, patrol_status_for
from ..domain.models import Assignment, PatrolReport, PatrolStatus
from ..domain.tablet import (
    ACTION_RECORD_TTL_MS, ActionRecord, AssignmentStep, ClientAction, Refusal, StatusReport, Verdict,
    TabletAction, conflict_reason, effective_ms, fingerprint, plan, report_status, verdict,
)
from ..domain.validate import describe
from ..keys import Keys
from . import assignments as assignment_store
from . import audit as audit_store
from .audit import record_refusal

LEASE_MS = 30_000
"""How long a claim holds without an answer: far longer than an action takes, short enough that a
claim left by a dead process does not block the tablet's resends for long."""

DEFAULT_LIVE_MAXLEN = assignment_store.DEFAULT_LIVE_MAXLEN

_RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class ActionInProgress(Exception):
    """Another copy of this action is being applied right now: ask again in a moment."""


@dataclass(frozen=True)
class Applied:
    result: dict  # ok, message, action_id, action, and what changed (state, status, assignment_id)
    replayed: bool  # True: the recorded answer to an earlier copy; nothing was applied now


@dataclass(frozen=True)
class PatrolSituation:
    """What the server knows of one patrol: its latest report and its open assignment, if any."""

    patrol: dict | None
    assignment: dict | None

    @property
    def status(self) -> str | None:
        return self.patrol.get("status") if self.patrol else None

    @property
    def open_state(self) -> str | None:
        return self.assignment.get("state") if self.assignment else None

    @property
    def assignment_id(self) -> str | None:
        return self.assignment.get("assignment_id") if self.assignment else None


def apply_once(client: redis.Redis, keys: Keys, *, patrol_id: str, action: ClientAction,
               apply: Callable[[], dict], ttl_ms: int = ACTION_RECORD_TTL_MS, lease_ms: int = LEASE_MS) -> Applied:
    """Run `apply` for the first copy of `action` only; every copy gets the first one's answer.

    `apply` returns the answer (a JSON-ready dict) to record. Raises ActionInProgress while another
    copy holds the claim; lets Redis errors through after releasing the claim.
    """
    key = keys.patrol_action(patrol_id, action.action_id)
    claim = ActionRecord(fingerprint(action)).encode()
    if not client.set(key, claim, nx=True, px=lease_ms):
        raw = client.get(key)
        record = ActionRecord.decode(raw) if raw is not None else None
        found = verdict(record, action)
        if found is Verdict.REPLAY:
            return Applied(record.result, replayed=True)
        if found is Verdict.CONFLICT:
            return Applied(_answer(action, ok=False, message=conflict_reason(action.action_id)), replayed=False)
        if found is Verdict.IN_PROGRESS or not client.set(key, claim, nx=True, px=lease_ms):
            raise ActionInProgress(action.action_id)
    try:
        result = apply()
    except BaseException:
        _release(client, key, claim)
        raise
    client.set(key, ActionRecord(fingerprint(action), result).encode(), px=ttl_ms)
    return Applied(result, replayed=False)


def perform(client: redis.Redis, keys: Keys, *, patrol_id: str, action: ClientAction, now_ms: int | None = None,
            live_maxlen: int = DEFAULT_LIVE_MAXLEN, origin: str = "internal",
            ttl_ms: int = ACTION_RECORD_TTL_MS) -> Applied:
    """Apply one tablet action for `patrol_id` (from the session, never from the request), once."""
    return apply_once(client, keys, patrol_id=patrol_id, action=action, ttl_ms=ttl_ms, apply=lambda: _apply(
        client, keys, patrol_id=patrol_id, action=action, now_ms=clock.now_ms(now_ms), live_maxlen=live_maxlen,
        origin=origin))


def situation(client: redis.Redis, keys: Keys, patrol_id: str) -> PatrolSituation:
    pipe = client.pipeline(transaction=True)
    pipe.hget(keys.patrols, patrol_id)
    pipe.hget(keys.patrol_assignment, patrol_id)
    raw_patrol, assignment_id = pipe.execute()
    raw_assignment = client.hget(keys.assignments_open, assignment_id) if assignment_id else None
    return PatrolSituation(_json(raw_patrol), _json(raw_assignment))


def patrol_view(client: redis.Redis, keys: Keys, patrol_id: str) -> dict:
    """What this patrol's tablet may show, in the shape of a gateway snapshot: its own report, its
    open assignment, that assignment's sighting and the drone that reported it. Nothing else."""
    now = situation(client, keys, patrol_id)
    sighting = drone = None
    if now.assignment:
        sighting = _json(client.hget(keys.sightings, now.assignment["sighting_id"]))
        if sighting and sighting.get("drone_id"):
            drone = _json(client.hget(keys.drones, sighting["drone_id"]))
    return {"patrols": _listed(now.patrol), "assignments": _listed(now.assignment),
            "sightings": _listed(sighting), "drones": _listed(drone)}


def report_position(client: redis.Redis, keys: Keys, *, patrol_id: str, lat: float, lon: float,
                    fix_ms: int | None, claimed_status: PatrolStatus | str | None,
                    now_ms: int | None = None) -> dict:
    """XADD the tablet's position to {site}:in:patrols, as a car terminal would; returns the fields sent.

    The status is report_status's (domain/tablet.py): the assignment's while one is open, else the
    crew's own. Raises ValueError (readable) if the report would not pass ingest's validation.
    """
    now = situation(client, keys, patrol_id)
    status = report_status(now.open_state, claimed_status, now.status)
    return _xadd_report(client, keys, patrol_id=patrol_id, ts=effective_ms(fix_ms, clock.now_ms(now_ms)), lat=lat, lon=lon,
                        status=status)


# ----------------------------------------------------------------------------- internals


STATUS_ACTIONS = frozenset({TabletAction.AVAILABLE, TabletAction.UNAVAILABLE})


def _apply(client: redis.Redis, keys: Keys, *, patrol_id: str, action: ClientAction, now_ms: int,
           live_maxlen: int, origin: str) -> dict:
    now = situation(client, keys, patrol_id)
    step = plan(action, patrol_status=now.status, open_state=now.open_state)
    if isinstance(step, Refusal):
        if action.action in STATUS_ACTIONS:  # an assignment step's refusal is audited by its store
            record_refusal(client, keys, ts=now_ms, actor=patrol_id, role=AuditRole.PATROL,
                           action=Action.PATROL_STATUS_REPORTED, target=patrol_id, reason=step.reason,
                           origin=origin, details={"status": action.action.value})
        return _answer(action, ok=False, message=step.reason)
    if isinstance(step, AssignmentStep):
        try:
            done = assignment_store.transition(
                client, keys, assignment_id=step.assignment_id, new_state=step.new_state, actor_id=patrol_id,
                actor_role=AssignmentActor.PATROL, outcome=step.outcome, now_ms=effective_ms(action.tapped_ms, now_ms),
                live_maxlen=live_maxlen, origin=origin)
        except assignment_store.AssignmentRefused as refusal:
            return _answer(action, ok=False, message=refusal.reason, assignment_id=step.assignment_id)
        return _answer(action, ok=True, message=_done_message(done), assignment_id=done.assignment_id,
                       state=done.state.value, status=_status_after(done))
    return _report_status(client, keys, patrol_id, action, step, now, now_ms, origin)


def _report_status(client: redis.Redis, keys: Keys, patrol_id: str, action: ClientAction, step: StatusReport,
                   now: PatrolSituation, now_ms: int, origin: str) -> dict:
    """The crew's own status, reported through the input stream like any position report (ingest owns
    the picture), with its audit entry in the same transaction: a status change is an action."""
    lat, lon = action.lat, action.lon
    if lat is None and now.patrol:
        lat, lon = now.patrol.get("lat"), now.patrol.get("lon")
    if lat is None:
        return _answer(action, ok=False, message="no position known for this tablet yet: allow location access, "
                                                 "then report your status again")
    # Newer wins in the picture: a status tapped offline must still beat the reports it queued behind.
    stored_ts = int(now.patrol.get("ts", 0)) if now.patrol else 0
    ts = max(effective_ms(action.tapped_ms, now_ms), stored_ts + 1)
    entry = make_entry(ts=now_ms, actor=patrol_id, role=AuditRole.PATROL, action=Action.PATROL_STATUS_REPORTED,
                       target=patrol_id, origin=origin,
                       details={"status": step.status.value, "action_id": action.action_id[:64]})
    try:
        with client.pipeline(transaction=True) as pipe:
            _xadd_report(pipe, keys, patrol_id=patrol_id, ts=ts, lat=lat, lon=lon, status=step.status)
            audit_store.record(pipe, keys, entry)
            pipe.execute()
    except ValueError as error:
        return _answer(action, ok=False, message=str(error))
    return _answer(action, ok=True, message=f"Status reported: {step.status.value}", status=step.status.value, ts=ts)


def _xadd_report(client: redis.Redis | redis.client.Pipeline, keys: Keys, *, patrol_id: str, ts: int, lat: float, lon: float,
                 status: PatrolStatus) -> dict:
    try:
        report = PatrolReport(patrol_id=patrol_id, ts=ts, lat=lat, lon=lon, status=status)
    except ValidationError as error:
        raise ValueError(describe(error)) from None
    fields = {name: str(value) for name, value in report.model_dump(mode="json").items()}
    client.xadd(keys.in_patrols, fields)
    return fields


def _release(client: redis.Redis, key: str, claim: bytes) -> None:
    try:
        client.eval(_RELEASE_LUA, 1, key, claim)
    except redis.RedisError:
        pass  # Redis is what failed: the claim lapses with its lease


def _answer(action: ClientAction, *, ok: bool, message: str, **fields) -> dict:
    return {"ok": ok, "action_id": action.action_id, "action": action.action.value, "message": message,
            **{name: value for name, value in fields.items() if value is not None}}


def _done_message(done: Assignment) -> str:
    words = {"acknowledged": "Acknowledged", "en_route": "En route", "on_scene": "On scene", "cleared": "Cleared"}
    text = words.get(done.state.value, done.state.value)
    return f"{text} ({done.outcome.value.replace('_', ' ')})" if done.outcome else text


def _status_after(done: Assignment) -> str:
    return patrol_status_for(done.state).value


def _json(raw: bytes | None) -> dict | None:
    return None if raw is None else orjson.loads(raw)


def _listed(unit: dict | None) -> list[dict]:
    return [] if unit is None else [unit]
