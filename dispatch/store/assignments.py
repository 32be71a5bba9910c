"""Assigning patrols and moving assignments along their lifecycle, each as one atomic step.

Two supervisors clicking the same patrol at the same instant must not both
succeed, and a patrol must never hold two open assignments. Each step is
therefore one Lua script that re-checks, inside Redis, what it depends on
(the patrol is still available and free, the sighting still open, the
assignment still in the state the rules were checked against) and then makes
every write: the open-assignment hashes, the patrol's status and its place in
the available GEO set, the event on {site}:assignments, the live delta, and
the action's entry on the audit trail ({site}:audit): an action is never on
record without its audit entry, nor the reverse. A refused attempt changes
nothing; it is audited after the refusal (outcome "refused", with the reason).

The rules themselves (what may follow what, who may do it) live in
domain/lifecycle.py and are checked here in Python against the stored state;
the script enforces that this state has not changed meanwhile (optimistic
check-and-set on the state). The machine has no cycles, so a state seen twice
is the same step, never a state that left and came back. A stale check is
simply re-read and re-checked a few times.

The patrol's JSON keeps its own report's ts and position: the assignment only
rewrites its status. Ingest, for its part, keeps that status while the patrol
has an open assignment (store/scripts.py). All keys share the site's hash
tag, so these scripts run on a cluster.
"""

from __future__ import annotations

import re
import uuid
from datetime import tzinfo

import orjson
import redis
from pydantic import ValidationError

from ..domain import lifecycle, sightings
from ..domain.audit import INTERNAL_ORIGIN, SYSTEM_ACTOR, Action, AuditEntry, id_or_invalid, make_entry
from ..domain.lifecycle import AssignmentActor
from ..domain.models import EVENT_ID, PATROL_ID, SUPERVISOR_ID, Assignment, AssignmentState, Outcome
from ..domain.sightings import CloseReason, Disposition, Ending
from ..domain.validate import describe
from ..clock import now_ms as clock_now_ms
from ..keys import Keys
from .audit import AUDIT_LUA, audit_argv, refusal_audited

DEFAULT_LIVE_MAXLEN = 100_000
STALE_RETRIES = 3
_REASONS = "^(" + "|".join(reason.value for reason in CloseReason) + ")$"

ENDING_LUA = r"""
-- Every ending's steps, shared by the assignment and ending scripts here and by ingest's operator ends
-- (store/scripts.py). The including script defines SIGHTINGS, OPEN (open assignments) and ENDINGS first.

-- Open sighting id -> the patrol an open assignment sends to it: such a sighting is never ended behind the
-- crew's back. Reads only.
local function assigned_sightings()
  local found = {}
  local open = redis.call('HGETALL', OPEN)
  for i = 2, #open, 2 do
    local assignment = cjson.decode(open[i])
    if type(assignment.sighting_id) == 'string' then found[assignment.sighting_id] = assignment.patrol_id or '?' end
  end
  return found
end

-- What the live delta says of a sighting that ends (`raw`, its stored JSON): marked closed, with how it
-- ended (disposition, the reason code if any, the sighting it was merged into). Writes nothing.
local function ended_json(raw, disposition, merged_into, reason)
  local sighting = cjson.decode(raw)
  sighting.closed = true
  sighting.disposition = disposition
  if merged_into and merged_into ~= '' then sighting.merged_into = merged_into end
  if reason and reason ~= '' then sighting.reason = reason end
  return cjson.encode(sighting)
end

-- The sighting leaves the picture (its ts stays in sightings:ts, so a late copy of a report cannot reopen
-- it) and its ending goes on the record: `ending` (flat name/value list) plus the sighting as it was.
local function record_ending(sighting_id, ended, ending)
  redis.call('HDEL', SIGHTINGS, sighting_id)
  ending[#ending + 1] = 'sighting'
  ending[#ending + 1] = ended
  return redis.call('XADD', ENDINGS, '*', unpack(ending))
end
"""

_HELPERS = r"""local at = 1

local function take()
  local value = ARGV[at]
  at = at + 1
  return value
end

local function take_fields()
  local fields = {}
  for i = 1, 2 * tonumber(take()) do fields[i] = take() end
  return fields
end

-- The value of `name` in a flat name/value list (an event's fields).
local function field_of(fields, name)
  for i = 1, #fields, 2 do
    if fields[i] == name then return fields[i + 1] end
  end
  return ''
end

local function append(list, value)
  if value then list[#list + 1] = value end
end

-- One live delta; each field is a JSON array, and an empty one is left out.
local function publish(maxlen, delta)
  local args = {}
  for _, field in ipairs(delta) do
    if #field[2] > 0 then
      args[#args + 1] = field[1]
      args[#args + 1] = '[' .. table.concat(field[2], ',') .. ']'
    end
  end
  return redis.call('XADD', LIVE, 'MAXLEN', '~', maxlen, '*', unpack(args))
end

""" + ENDING_LUA

_PRELUDE = AUDIT_LUA + r"""
local SIGHTINGS, PATROLS, AVAILABLE, PATROL_ASSIGNMENT, OPEN, EVENTS, LIVE, AUDIT, ENDINGS =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
local GEO_MAX_LATITUDE = 85.05112878
""" + _HELPERS + r"""
-- Why patrol_id cannot be sent to sighting_id now, as {code, detail}; nil if it can.
-- Checked before any write, so a refused step changes nothing.
local function refusal(sighting_id, patrol_id, assignment_id)
  if redis.call('HEXISTS', SIGHTINGS, sighting_id) == 0 then return {'sighting_closed', ''} end
  local busy = redis.call('HGET', PATROL_ASSIGNMENT, patrol_id)
  if busy then return {'busy', redis.call('HGET', OPEN, busy) or ''} end
  if not redis.call('ZSCORE', AVAILABLE, patrol_id) then
    return {'unavailable', redis.call('HGET', PATROLS, patrol_id) or ''}
  end
  if redis.call('HEXISTS', OPEN, assignment_id) == 1 then return {'duplicate_id', ''} end
  return nil
end

-- The stored assignment must still be in the state the rules were checked against.
local function state_refusal(assignment_id, expected)
  local raw = redis.call('HGET', OPEN, assignment_id)
  if not raw then return {'closed', ''} end
  if cjson.decode(raw).state ~= expected then return {'stale', raw} end
  return nil
end

-- Rewrites the patrol's status and its membership of the available set, at its
-- last reported position. Returns its new JSON, or nil if it never reported.
local function set_patrol_status(patrol_id, status)
  local raw = redis.call('HGET', PATROLS, patrol_id)
  local patrol = raw and cjson.decode(raw)
  if status == 'available' then
    if patrol and math.abs(patrol.lat) <= GEO_MAX_LATITUDE then
      redis.call('GEOADD', AVAILABLE, patrol.lon, patrol.lat, patrol_id)
    end
  else
    redis.call('ZREM', AVAILABLE, patrol_id)
  end
  if not patrol then return nil end
  patrol.status = status
  local json = cjson.encode(patrol)
  redis.call('HSET', PATROLS, patrol_id, json)
  return json
end

local function open_assignment(assignment_id, patrol_id, json, event)
  redis.call('HSET', PATROL_ASSIGNMENT, patrol_id, assignment_id)
  redis.call('HSET', OPEN, assignment_id, json)
  redis.call('XADD', EVENTS, '*', unpack(event))
  return set_patrol_status(patrol_id, 'assigned')
end

local function close_assignment(assignment_id, patrol_id, event)
  redis.call('HDEL', OPEN, assignment_id)
  if redis.call('HGET', PATROL_ASSIGNMENT, patrol_id) == assignment_id then
    redis.call('HDEL', PATROL_ASSIGNMENT, patrol_id)
  end
  redis.call('XADD', EVENTS, '*', unpack(event))
  return set_patrol_status(patrol_id, 'available')
end


"""

_ASSIGN_LUA = _PRELUDE + r"""
local maxlen, sighting_id, patrol_id, assignment_id, json = take(), take(), take(), take(), take()
local event, audit = take_fields(), take_fields()
local refused = refusal(sighting_id, patrol_id, assignment_id)
if refused then return {'refused', refused[1], refused[2]} end
record_audit(AUDIT, audit)
local patrols = {}
append(patrols, open_assignment(assignment_id, patrol_id, json, event))
return {'ok', publish(maxlen, {{'assignments', {json}}, {'patrols', patrols}})}
"""

_TRANSITION_LUA = _PRELUDE + r"""
local maxlen, assignment_id, expected, patrol_id, sighting_id = take(), take(), take(), take(), take()
local mode, patrol_status, json = take(), take(), take()
local event, audit = take_fields(), take_fields()
local refused = state_refusal(assignment_id, expected)
if refused then return {'refused', refused[1], refused[2]} end
record_audit(AUDIT, audit)
local patrols, sightings = {}, {}
if mode == 'open' then
  redis.call('HSET', OPEN, assignment_id, json)
  redis.call('XADD', EVENTS, '*', unpack(event))
  append(patrols, set_patrol_status(patrol_id, patrol_status))
else
  append(patrols, close_assignment(assignment_id, patrol_id, event))
  -- The sighting ends when its last crew clears: a backup patrol still on it keeps it open.
  local raw = mode == 'clear' and redis.call('HGET', SIGHTINGS, sighting_id)
  if raw and not assigned_sightings()[sighting_id] then
    local ended = ended_json(raw, 'dispatched')
    append(sightings, ended)
    record_ending(sighting_id, ended, {'event', 'sighting_dispatched', 'sighting_id', sighting_id,
                  'disposition', 'dispatched', 'ts', field_of(event, 'ts'), 'actor', field_of(event, 'actor'),
                  'assignment_id', assignment_id})
  end
end
return {'ok', publish(maxlen, {{'assignments', {json}}, {'patrols', patrols}, {'sightings', sightings}})}
"""

_REASSIGN_LUA = _PRELUDE + r"""
local maxlen, old_id, expected, old_patrol, old_json = take(), take(), take(), take(), take()
local old_event = take_fields()
local sighting_id, new_patrol, new_id, new_json = take(), take(), take(), take()
local new_event, audit = take_fields(), take_fields()
local refused = state_refusal(old_id, expected) or refusal(sighting_id, new_patrol, new_id)
if refused then return {'refused', refused[1], refused[2]} end
record_audit(AUDIT, audit)
local patrols = {}
append(patrols, close_assignment(old_id, old_patrol, old_event))
append(patrols, open_assignment(new_id, new_patrol, new_json, new_event))
return {'ok', publish(maxlen, {{'assignments', {old_json, new_json}}, {'patrols', patrols}})}
"""


# Ending an unassigned sighting (closed, merged, expired): the same atomic family
# as assigning, so whichever of "assign" and "end" runs first wins and the other
# is refused. Its own keys only: the watcher, which expires sightings, needs no
# grant on patrols or assignment events.
_END_LUA = AUDIT_LUA + r"""
local SIGHTINGS, OPEN, ENDINGS, LIVE, AUDIT = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
""" + _HELPERS + r"""
local maxlen, sighting_id, disposition, merged_into = take(), take(), take(), take()
local ending, audit = take_fields(), take_fields()
local raw = redis.call('HGET', SIGHTINGS, sighting_id)
if not raw then return {'refused', 'not_open', ''} end
local patrol = assigned_sightings()[sighting_id]
if patrol then return {'refused', 'assigned', patrol} end
if merged_into ~= '' and not redis.call('HGET', SIGHTINGS, merged_into) then
  return {'refused', 'target_not_open', ''}
end
if #audit > 0 then record_audit(AUDIT, audit) end
local ended = ended_json(raw, disposition, merged_into, field_of(ending, 'reason'))
record_ending(sighting_id, ended, ending)
return {'ok', publish(maxlen, {{'sightings', {ended}}})}
"""

class AssignmentRefused(Exception):
    """A step the rules or the current state do not allow; `reason` is shown to the user as is."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class _Stale(Exception):
    """The assignment changed between the check and the script: read and check again."""


def assign(
    client: redis.Redis, keys: Keys, *, sighting_id: str, patrol_id: str, supervisor_id: str,
    now_ms: int | None = None, assignment_id: str | None = None,
    live_maxlen: int = DEFAULT_LIVE_MAXLEN, tz: tzinfo = lifecycle.DISPLAY_TIMEZONE,
    origin: str = INTERNAL_ORIGIN,
) -> Assignment:
    """Send an available, free patrol to an open sighting; raises AssignmentRefused otherwise.

    `origin` (the supervisor's client IP, or "internal") goes on the audit entry, as for every step here.
    """
    ts = clock_now_ms(now_ms)
    assignment_id = assignment_id or generate_assignment_id()
    inputs = ((sighting_id, EVENT_ID), (patrol_id, PATROL_ID), (assignment_id, EVENT_ID))
    details = {"sighting_id": id_or_invalid(sighting_id, EVENT_ID), "patrol_id": id_or_invalid(patrol_id, PATROL_ID)}
    with refusal_audited(client, keys, AssignmentRefused, ts=ts, actor=supervisor_id, role=AssignmentActor.SUPERVISOR.value,
                         action=Action.ASSIGNMENT_CREATED, target=assignment_id, origin=origin, details=details,
                         untrusted=inputs):
        created = _model(
            assignment_id=assignment_id, sighting_id=sighting_id, patrol_id=patrol_id,
            supervisor_id=supervisor_id, ts=ts, assigned_ts=ts, state=AssignmentState.ASSIGNED,
        )
        json = created.model_dump_json()
        audit = _audit(created, Action.ASSIGNMENT_CREATED, supervisor_id, AssignmentActor.SUPERVISOR, origin, state="assigned",
                       **_sighting_number(client, keys, sighting_id))
        args = [live_maxlen, sighting_id, patrol_id, created.assignment_id, json,
                *_flat(_event(created, actor=supervisor_id, role=AssignmentActor.SUPERVISOR, event="created")),
                *audit_argv(audit)]
        reply = _run(client, _ASSIGN_LUA, keys, args)
        if reply[0] != b"ok":
            raise AssignmentRefused(_explain(reply, created, tz))
        return created


def transition(
    client: redis.Redis, keys: Keys, *, assignment_id: str, new_state: AssignmentState | str,
    actor_id: str, actor_role: AssignmentActor | str, outcome: Outcome | str | None = None,
    now_ms: int | None = None, live_maxlen: int = DEFAULT_LIVE_MAXLEN, origin: str = INTERNAL_ORIGIN,
) -> Assignment:
    """Move an open assignment to `new_state` if the lifecycle rules let `actor_id` do it.

    Returns the assignment as stored afterwards; raises AssignmentRefused with
    the rule's own sentence otherwise. Audited as assignment_cancelled when the
    new state is cancelled, else assignment_state_changed.
    """
    states = "^(" + "|".join(state.value for state in AssignmentState) + ")$"
    wanted = id_or_invalid(getattr(new_state, "value", new_state), states)
    action = Action.ASSIGNMENT_CANCELLED if wanted == AssignmentState.CANCELLED else Action.ASSIGNMENT_STATE_CHANGED
    with refusal_audited(client, keys, AssignmentRefused, ts=clock_now_ms(now_ms), actor=actor_id, role=actor_role,
                         action=action, target=assignment_id, origin=origin, details={"to": wanted},
                         untrusted=((new_state, states), (assignment_id, EVENT_ID))):
        try:
            new_state = AssignmentState(new_state)
        except ValueError:
            choices = ", ".join(s.value for s in AssignmentState)
            raise AssignmentRefused(f"unknown state {new_state!r}: expected one of {choices}") from None
        _check_actor(actor_id, actor_role)
        for _ in range(STALE_RETRIES):
            current = _read_open(client, keys, assignment_id)
            if actor_role == AssignmentActor.PATROL and actor_id != current.patrol_id:
                raise AssignmentRefused(lifecycle.explain_not_owner(actor_id, current))
            refusal = lifecycle.check_transition(current.state, new_state, actor_role=actor_role)
            refusal = refusal or lifecycle.check_outcome(new_state, outcome)
            if refusal:
                raise AssignmentRefused(refusal)
            updated = current.model_copy(update={
                "state": new_state, "ts": max(clock_now_ms(now_ms), current.ts),
                "outcome": None if outcome is None else Outcome(outcome),
            })
            try:
                _apply_transition(client, keys, current, updated, actor_id=actor_id, actor_role=actor_role,
                                  live_maxlen=live_maxlen, origin=origin)
                return updated
            except _Stale:
                continue
        raise AssignmentRefused(f"{assignment_id} kept changing while being updated: try again")


def cancel(
    client: redis.Redis, keys: Keys, *, assignment_id: str, supervisor_id: str,
    now_ms: int | None = None, live_maxlen: int = DEFAULT_LIVE_MAXLEN, origin: str = INTERNAL_ORIGIN,
) -> Assignment:
    """The supervisor withdraws the patrol: it becomes available again, the sighting stays open."""
    return transition(
        client, keys, assignment_id=assignment_id, new_state=AssignmentState.CANCELLED,
        actor_id=supervisor_id, actor_role=AssignmentActor.SUPERVISOR, now_ms=now_ms, live_maxlen=live_maxlen, origin=origin,
    )


def reassign(
    client: redis.Redis, keys: Keys, *, assignment_id: str, new_patrol_id: str, supervisor_id: str,
    now_ms: int | None = None, new_assignment_id: str | None = None,
    live_maxlen: int = DEFAULT_LIVE_MAXLEN, tz: tzinfo = lifecycle.DISPLAY_TIMEZONE,
    origin: str = INTERNAL_ORIGIN, confirmed: bool = False,
) -> Assignment:
    """Cancel an open assignment and give its sighting to another patrol, in one step.

    If the new patrol cannot take it, nothing changes (the first patrol keeps
    the call). Taking it from a crew en route or on scene needs `confirmed`:
    the rule is checked against the state the script then requires, so a crew
    setting off meanwhile makes the step re-read and refuse. Returns the new assignment; the events link the two
    (`replaced_by` on the cancellation, `replaces` on the creation). One audit
    entry, assignment_reassigned, targets the cancelled assignment.
    """
    with refusal_audited(client, keys, AssignmentRefused, ts=clock_now_ms(now_ms), actor=supervisor_id,
                         role=AssignmentActor.SUPERVISOR.value, action=Action.ASSIGNMENT_REASSIGNED, target=assignment_id,
                         origin=origin, details={"to_patrol": id_or_invalid(new_patrol_id, PATROL_ID)},
                         untrusted=((new_patrol_id, PATROL_ID), (assignment_id, EVENT_ID))):
        _check_actor(supervisor_id, AssignmentActor.SUPERVISOR)
        for _ in range(STALE_RETRIES):
            current = _read_open(client, keys, assignment_id)
            number = _sighting_number(client, keys, current.sighting_id)
            refusal = lifecycle.check_transition(current.state, AssignmentState.CANCELLED,
                                                 actor_role=AssignmentActor.SUPERVISOR)
            refusal = refusal or lifecycle.check_reassign(current, confirmed, number.get("number"))
            if refusal:
                raise AssignmentRefused(refusal)
            ts = max(clock_now_ms(now_ms), current.ts)
            cancelled = current.model_copy(update={"state": AssignmentState.CANCELLED, "ts": ts})
            created = _model(
                assignment_id=new_assignment_id or generate_assignment_id(), sighting_id=current.sighting_id,
                patrol_id=new_patrol_id, supervisor_id=supervisor_id, ts=ts, assigned_ts=ts,
                state=AssignmentState.ASSIGNED,
            )
            audit = _audit(cancelled, Action.ASSIGNMENT_REASSIGNED, supervisor_id, AssignmentActor.SUPERVISOR, origin,
                           new_assignment_id=created.assignment_id, to_patrol=created.patrol_id,
                           from_state=current.state.value, **number)
            args = [
                live_maxlen, current.assignment_id, current.state.value, current.patrol_id, _closed_json(cancelled),
                *_flat(_event(cancelled, actor=supervisor_id, role=AssignmentActor.SUPERVISOR, event="cancelled",
                               replaced_by=created.assignment_id)),
                created.sighting_id, created.patrol_id, created.assignment_id, created.model_dump_json(),
                *_flat(_event(created, actor=supervisor_id, role=AssignmentActor.SUPERVISOR, event="created",
                               replaces=current.assignment_id)),
                *audit_argv(audit),
            ]
            reply = _run(client, _REASSIGN_LUA, keys, args)
            if reply[0] == b"ok":
                return created
            if reply[1] not in (b"stale", b"closed"):
                raise AssignmentRefused(_explain(reply, created, tz))
        raise AssignmentRefused(f"{assignment_id} kept changing while being reassigned: try again")


def close_sighting(
    client: redis.Redis, keys: Keys, *, sighting_id: str, supervisor_id: str, reason: CloseReason | str,
    text: str = "", now_ms: int | None = None, live_maxlen: int = DEFAULT_LIVE_MAXLEN,
    origin: str = INTERNAL_ORIGIN,
) -> Ending:
    """A supervisor closes an open, unassigned sighting without sending anyone, with a reason code.

    Raises AssignmentRefused (a readable sentence) if the reason does not fit,
    or if the sighting has ended or been assigned meanwhile: a sighting a patrol
    was sent to a millisecond earlier is never closed behind the crew's back.
    """
    ts = clock_now_ms(now_ms)
    with refusal_audited(client, keys, AssignmentRefused, ts=ts, actor=supervisor_id, role=AssignmentActor.SUPERVISOR.value,
                         action=Action.SIGHTING_CLOSED, target=sighting_id, origin=origin,
                         details={"reason": id_or_invalid(getattr(reason, "value", reason), _REASONS)},
                         untrusted=((sighting_id, EVENT_ID), (reason, _REASONS))):
        _check_actor(supervisor_id, AssignmentActor.SUPERVISOR)
        _check_sighting_id(sighting_id)
        refusal = sightings.check_reason(reason, text)
        if refusal:
            raise AssignmentRefused(refusal)
        reason = CloseReason(reason)
        ending = Ending(sighting_id, Disposition.CLOSED, ts, supervisor_id, reason, (text or "").strip())
        audit = make_entry(ts=ts, actor=supervisor_id, role=AssignmentActor.SUPERVISOR.value, action=Action.SIGHTING_CLOSED,
                           target=sighting_id, origin=origin, details={"reason": reason.value})
        return _end(client, keys, ending, audit, live_maxlen)


def merge_sighting(
    client: redis.Redis, keys: Keys, *, sighting_id: str, into: str, supervisor_id: str,
    now_ms: int | None = None, live_maxlen: int = DEFAULT_LIVE_MAXLEN, origin: str = INTERNAL_ORIGIN,
) -> Ending:
    """A supervisor merges a duplicate (open, unassigned) into another open sighting, which stays open.

    Both stay on the record: the duplicate's ending names the one it went into.
    """
    ts = clock_now_ms(now_ms)
    with refusal_audited(client, keys, AssignmentRefused, ts=ts, actor=supervisor_id, role=AssignmentActor.SUPERVISOR.value,
                         action=Action.SIGHTING_MERGED, target=sighting_id, origin=origin,
                         details={"merged_into": id_or_invalid(into, EVENT_ID)},
                         untrusted=((sighting_id, EVENT_ID), (into, EVENT_ID))):
        _check_actor(supervisor_id, AssignmentActor.SUPERVISOR)
        _check_sighting_id(sighting_id)
        _check_sighting_id(into)
        refusal = sightings.check_merge(sighting_id, into, target_open=True)
        if refusal:
            raise AssignmentRefused(refusal)
        ending = Ending(sighting_id, Disposition.MERGED, ts, supervisor_id, merged_into=into)
        audit = make_entry(ts=ts, actor=supervisor_id, role=AssignmentActor.SUPERVISOR.value, action=Action.SIGHTING_MERGED,
                           target=sighting_id, origin=origin, details={"merged_into": into})
        return _end(client, keys, ending, audit, live_maxlen)


def expire_sighting(
    client: redis.Redis, keys: Keys, *, sighting_id: str, now_ms: int | None = None,
    live_maxlen: int = DEFAULT_LIVE_MAXLEN,
) -> Ending:
    """The watcher ends an unassigned sighting past its horizon ("expired, nobody sent").

    No audit entry: nobody did it; the ending is on the record (actor "system").
    Refused like a close if it was assigned or ended meanwhile.
    """
    ending = Ending(sighting_id, Disposition.EXPIRED, clock_now_ms(now_ms), SYSTEM_ACTOR)
    return _end(client, keys, ending, None, live_maxlen)


def sighting_endings(client: redis.Redis, keys: Keys, sighting_id: str | None = None, *,
                     from_ms: int | None = None, to_ms: int | None = None) -> list[dict]:
    """The recorded endings (decoded stream fields, the sighting JSON parsed), oldest first.

    `from_ms`/`to_ms` bound the stream ids (when each ending was recorded), e.g. one shift.
    """
    found = []
    low = "-" if from_ms is None else str(int(from_ms))
    high = "+" if to_ms is None else str(int(to_ms))
    for stream_id, fields in client.xrange(keys.sighting_endings, low, high):
        event = {k.decode(): v.decode() for k, v in fields.items()}
        event["stream_id"] = stream_id.decode()
        event["sighting"] = orjson.loads(event["sighting"]) if event.get("sighting") else None
        if sighting_id is None or event["sighting_id"] == sighting_id:
            found.append(event)
    return found


def open_assignments(client: redis.Redis, keys: Keys) -> list[dict]:
    """Every open assignment as a JSON-ready dict, oldest first."""
    found = [orjson.loads(raw) for raw in client.hvals(keys.assignments_open)]
    return sorted(found, key=lambda a: (a.get("assigned_ts") or a["ts"], a["assignment_id"]))


def generate_assignment_id() -> str:
    """32 hex digits: unique without coordination between web workers, fits models.EVENT_ID."""
    return uuid.uuid4().hex


# ----------------------------------------------------------------------------- internals


def _apply_transition(
    client: redis.Redis, keys: Keys, current: Assignment, updated: Assignment, *,
    actor_id: str, actor_role: AssignmentActor | str, live_maxlen: int, origin: str = INTERNAL_ORIGIN,
) -> None:
    """Run the transition script, expecting `current.state` to still be stored."""
    closing = not lifecycle.is_open(updated.state)
    mode = "open" if not closing else ("clear" if updated.state is AssignmentState.CLEARED else "close")
    cancelling = updated.state is AssignmentState.CANCELLED
    outcome = {"outcome": updated.outcome.value} if updated.outcome is not None else {}
    audit = _audit(updated, Action.ASSIGNMENT_CANCELLED if cancelling else Action.ASSIGNMENT_STATE_CHANGED,
                   actor_id, actor_role, origin, **{"from": current.state.value, "to": updated.state.value}, **outcome,
                   **_sighting_number(client, keys, current.sighting_id))
    args = [
        live_maxlen, current.assignment_id, current.state.value, current.patrol_id, current.sighting_id,
        mode, lifecycle.patrol_status_for(updated.state).value,
        _closed_json(updated) if closing else updated.model_dump_json(),
        *_flat(_event(updated, actor=actor_id, role=actor_role, event=updated.state.value)),
        *audit_argv(audit),
    ]
    reply = _run(client, _TRANSITION_LUA, keys, args)
    if reply[0] != b"ok":
        raise _Stale()


def _end(client: redis.Redis, keys: Keys, ending: Ending, audit: AuditEntry | None, live_maxlen: int) -> Ending:
    """Run the ending script; its refusal codes become the domain's sentences."""
    args = [live_maxlen, ending.sighting_id, ending.disposition.value, ending.merged_into or "",
            *_flat(ending.fields()), *(audit_argv(audit) if audit is not None else ["0"])]
    script = client.register_script(_END_LUA)
    reply = script(keys=[keys.sightings, keys.assignments_open, keys.sighting_endings, keys.live, keys.audit],
                   args=args, client=client)
    if reply[0] == b"ok":
        return ending
    code, detail = reply[1].decode(), reply[2].decode()
    if code == "assigned":
        raise AssignmentRefused(sightings.explain_assigned(ending.sighting_id, detail))
    if code == "target_not_open":
        raise AssignmentRefused(sightings.check_merge(ending.sighting_id, ending.merged_into or "",
                                                      target_open=False))
    raise AssignmentRefused(sightings.explain_not_open(ending.sighting_id))


def _check_sighting_id(sighting_id: object) -> None:
    if not isinstance(sighting_id, str) or not re.match(EVENT_ID, sighting_id):
        raise AssignmentRefused(f"{sighting_id!r} is not a sighting id")


def _run(client: redis.Redis, source: str, keys: Keys, args: list) -> list:
    script = client.register_script(source)  # only hashes the text; EVALSHA, loaded once per server
    return script(keys=_script_keys(keys), args=args, client=client)


def _script_keys(keys: Keys) -> list[str]:
    return [keys.sightings, keys.patrols, keys.patrols_available, keys.patrol_assignment,
            keys.assignments_open, keys.assignments, keys.live, keys.audit, keys.sighting_endings]


def _read_open(client: redis.Redis, keys: Keys, assignment_id: str) -> Assignment:
    raw = client.hget(keys.assignments_open, assignment_id)
    if raw is None:
        raise AssignmentRefused(f"assignment {assignment_id} is not open (cleared, cancelled or unknown)")
    return Assignment.model_validate_json(raw)


def _check_actor(actor_id: str, actor_role: AssignmentActor | str) -> None:
    try:
        role = AssignmentActor(actor_role)
    except ValueError:
        raise AssignmentRefused(f"unknown role {actor_role!r}: expected 'supervisor' or 'patrol'") from None
    pattern = SUPERVISOR_ID if role is AssignmentActor.SUPERVISOR else PATROL_ID
    if not isinstance(actor_id, str) or not re.match(pattern, actor_id):
        raise AssignmentRefused(f"{actor_id!r} is not a {role.value} id")


def _model(**fields) -> Assignment:
    try:
        return Assignment(**fields)
    except ValidationError as error:
        raise AssignmentRefused(describe(error)) from None


def _explain(reply: list, created: Assignment, tz: tzinfo) -> str:
    code, detail = reply[1].decode(), reply[2]
    if code == "sighting_closed":
        return lifecycle.explain_sighting_closed(created.sighting_id)
    if code == "busy":
        holder = Assignment.model_validate_json(detail) if detail else None
        return lifecycle.explain_busy(created.patrol_id, holder, tz)
    if code == "unavailable":
        return lifecycle.explain_unavailable(created.patrol_id, orjson.loads(detail)["status"] if detail else None)
    if code == "duplicate_id":
        return f"assignment id {created.assignment_id} is already in use"
    return f"assignment refused ({code})"


def _event(assignment: Assignment, *, actor: str, role: AssignmentActor, event: str, **extra: str) -> dict[str, str]:
    """Stream fields of one event: the assignment's fields (unset ones left out), who, what.

    The role is recorded, not inferred from the id: "SUP-1" is also a valid call sign.
    """
    fields = {name: str(value) for name, value in assignment.model_dump(mode="json").items() if value is not None}
    return {**fields, "actor": actor, "role": AssignmentActor(role).value, "event": event, **extra}


def _audit(assignment: Assignment, action: Action, actor: str, role: AssignmentActor | str, origin: str,
           **details: str) -> AuditEntry:
    """The audit entry of a step on `assignment` (its id, patrol and sighting), ts of the step."""
    return make_entry(ts=assignment.ts, actor=actor, role=AssignmentActor(role).value, action=action,
                      target=assignment.assignment_id, origin=origin,
                      details={"sighting_id": assignment.sighting_id, "patrol_id": assignment.patrol_id, **details})


def _sighting_number(client: redis.Redis, keys: Keys, sighting_id: str) -> dict[str, str]:
    """`{"number": "S-0142"}` for the audit entry, read before the step: a sighting's number never changes.
    Empty when the sighting has none (or is gone: the step then refuses)."""
    try:
        number = orjson.loads(client.hget(keys.sightings, sighting_id) or b"{}").get("number")
    except (orjson.JSONDecodeError, AttributeError):
        return {}
    return {"number": number} if isinstance(number, str) else {}


def _flat(fields: dict[str, str]) -> list[str]:
    flat: list[str] = [str(len(fields))]
    for name, value in fields.items():
        flat += [name, value]
    return flat


def _closed_json(assignment: Assignment) -> bytes:
    """What the live delta says about an assignment that just closed."""
    return orjson.dumps({**assignment.model_dump(mode="json"), "closed": True})

