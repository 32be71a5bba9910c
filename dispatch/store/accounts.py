"""Accounts, patrol sign-in codes, sessions and sign-in throttling, in Redis.

- `{site}:accounts`: staff accounts (supervisors, auditors, administrators),
  one JSON value per pseudonymous code: role and scrypt hash. No clear
  password is ever written anywhere, nor a name.
- `{site}:patrol_codes`: the current sign-in code of each patrol, hashed, with
  its expiry and who issued it. Patrols have no password: a supervisor issues
  a 6-digit code for a shift; it works once (consumed atomically at sign-in,
  so two tablets racing with it cannot both get in), and a new code replaces
  the previous one.
- `{site}:sessions:<sha256 of the id>`: one hash per signed-in session, which
  Redis expires with the session (PEXPIREAT), so an abandoned session costs
  nothing and needs no clean-up job.
- `{site}:sessions:user:<user_id>`: the digests of one user's sessions, so
  deleting an account or resetting its password ends them all in the same
  transaction as the change and its audit entry; expires with the last one.
- `{site}:signin_failures:user:<id>`: one hash per well-formed id that failed
  to sign in: its failure count and when its next attempt may come, and the
  same per known device of it (domain/auth.py Throttle); forgotten a day after
  the last failure. `{site}:signin_failures:addr:<address>`: failures from one
  client address (an IPv6 /64) in the current 15-minute window.

Administrators' changes to accounts (audited, ending sessions) are in
store/account_changes.py.

The rules (roles, hashing, throttle) are in domain/auth.py; this module only
keeps their state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

import orjson
import redis

from .. import clock
from ..domain.audit import Action, AuditRole, make_entry
from ..domain.auth import (
    Identity, Role, Throttle, address_subject, hash_secret, is_call_sign, is_patrol_code, new_patrol_code, new_token,
    needs_rehash, password_problem, secret_matches, staff_role, token_digest,
)
from ..domain.models import SUPERVISOR_ID
from ..keys import Keys
from . import audit

DEFAULT_PATROL_CODE_TTL_S = 12 * 3600
DEFAULT_SESSION_TTL_S = 12 * 3600
MAX_SESSION_ID_CHARS = 128  # ours are 43; anything longer is not ours and never reaches Redis


class AccountError(ValueError):
    """An account or code that cannot be created as asked; the message says why."""


@dataclass(frozen=True)
class Account:
    user_id: str
    role: Role
    created_ms: int
    # The stored hash, from verify_password only: a session made from this check is refused if the
    # account changed since (reset or deleted between the check and the session).
    password_hash: str = field(default="", repr=False, compare=False)


# --- Staff accounts ---------------------------------------------------------------------

def create_account(client: redis.Redis, keys: Keys, *, user_id: str, role: Role | str, password: str,
                   replace: bool = False, now_ms: int | None = None) -> Account:
    """A staff account. The id's prefix must match the role (SUP-n supervisor, AUD-n auditor, ADM-n
    administrator): the audit trail reads roles from ids. Patrols have no account (see issue_patrol_code).
    An existing account is kept unless `replace` (then its password and role change)."""
    role = Role(role)
    if role is Role.PATROL:
        raise AccountError("patrols have no account: a supervisor issues them a sign-in code")
    if staff_role(user_id) is not role:
        raise AccountError(f"{user_id!r:.40} is not a {role.value} code "
                           f"(SUP-n supervisor, AUD-n auditor, ADM-n administrator)")
    problem = password_problem(password)
    if problem:
        raise AccountError(problem)
    account = Account(user_id, role, clock.now_ms(now_ms))
    value = orjson.dumps({"role": role.value, "hash": hash_secret(password), "created_ms": account.created_ms})
    if replace:
        client.hset(keys.accounts, user_id, value)
    elif not client.hsetnx(keys.accounts, user_id, value):
        raise AccountError(f"{user_id} already has an account")
    return account


def get_account(client: redis.Redis, keys: Keys, user_id: str) -> Account | None:
    stored = _stored_account(client, keys, user_id)
    if stored is None:
        return None
    return Account(user_id, Role(stored["role"]), int(stored.get("created_ms", 0)))


def list_accounts(client: redis.Redis, keys: Keys) -> list[Account]:
    accounts = []
    for raw_id, raw in sorted(client.hgetall(keys.accounts).items()):
        stored = orjson.loads(raw)
        accounts.append(Account(raw_id.decode(), Role(stored["role"]), int(stored.get("created_ms", 0))))
    return accounts


def verify_password(client: redis.Redis, keys: Keys, *, user_id: str, password: str) -> Account | None:
    """The account if `password` is its password, else None. Takes as long for an unknown id as for a
    known one (a hash is computed either way), so timing does not reveal which ids exist."""
    raw = client.hget(keys.accounts, user_id) if staff_role(user_id) and len(user_id) <= 64 else None
    stored = orjson.loads(raw) if raw else None
    if not secret_matches(stored["hash"] if stored else None, password) or stored is None:
        return None
    if needs_rehash(stored["hash"]):
        upgraded = {**stored, "hash": hash_secret(password)}
        if client.eval(_REPLACE_IF_SAME, 1, keys.accounts, user_id, raw, orjson.dumps(upgraded)):
            stored = upgraded
    return Account(user_id, Role(stored["role"]), int(stored.get("created_ms", 0)), stored["hash"])


# A hash in an older format is replaced at a successful sign-in only if the account is still the one
# that was checked: a reset or a deletion meanwhile stays.
_REPLACE_IF_SAME = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) + 1
end
return 0
"""


def _stored_account(client: redis.Redis, keys: Keys, user_id: str) -> dict | None:
    if not isinstance(user_id, str) or len(user_id) > 64:
        return None
    raw = client.hget(keys.accounts, user_id)
    return orjson.loads(raw) if raw else None


# --- Patrol codes -----------------------------------------------------------------------

# Consume a code only if it is still the one that was checked: a code replaced or used meanwhile stays.
_CONSUME_CODE = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0
"""


def issue_patrol_code(client: redis.Redis, keys: Keys, *, patrol_id: str, issued_by: str,
                      now_ms: int | None = None, ttl_s: float | None = None, origin: str = "internal") -> str:
    """A new 6-digit code for `patrol_id`, valid `ttl_s` (12 h), replacing any previous one. Returned in
    clear once, for the supervisor to read out; stored hashed. Clears the call sign's sign-in delay (failed
    attempts were against the old code). Recorded on the audit trail (who issued it, for whom, until when,
    whether a delay was cleared; never the code) in the same transaction."""
    if not is_call_sign(patrol_id):
        raise AccountError(f"{patrol_id!r:.40} is not a call sign (e.g. BAC-12)")
    if not isinstance(issued_by, str) or not re.match(SUPERVISOR_ID, issued_by):
        raise AccountError(f"{issued_by!r:.40} is not a supervisor code (SUP-n)")
    now = clock.now_ms(now_ms)
    expires_ms = now + int(1000 * (DEFAULT_PATROL_CODE_TTL_S if ttl_s is None else ttl_s))
    code = new_patrol_code()
    value = orjson.dumps({"hash": hash_secret(code), "expires_ms": expires_ms, "issued_by": issued_by,
                          "issued_ms": now})
    slowed = bool(client.exists(throttle_key(keys, patrol_id)))
    entry = make_entry(ts=now, actor=issued_by, role=AuditRole.SUPERVISOR, action=Action.PATROL_CODE_ISSUED,
                       target=patrol_id, origin=origin, details={"expires_ms": expires_ms, "throttle_cleared": slowed})
    stale = _expired_codes(client, keys, now)
    with client.pipeline(transaction=True) as pipe:
        pipe.hset(keys.patrol_codes, patrol_id, value)
        pipe.delete(throttle_key(keys, patrol_id))  # the new code is not slowed by guesses at the old one
        for other, raw in stale.items():
            if other != patrol_id:  # compare-and-delete: a code re-issued meanwhile stays
                # EVAL by name: redis-py's cluster pipeline refuses pipe.eval() (issue 14), not the command
                pipe.execute_command("EVAL", _CONSUME_CODE, 1, keys.patrol_codes, other, raw)
        audit.record(pipe, keys, entry)
        pipe.execute()
    return code


def _expired_codes(client: redis.Redis, keys: Keys, now: int) -> dict[str, bytes]:
    """Codes past their expiry (patrol -> stored value), cleaned whenever another is issued: the hash
    holds one code per patrol at most, and no expired one outlives the next issue."""
    expired = {}
    for raw_id, raw in client.hgetall(keys.patrol_codes).items():
        try:
            if int(orjson.loads(raw)["expires_ms"]) <= now:
                expired[raw_id.decode()] = raw
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            expired[raw_id.decode()] = raw
    return expired


def patrol_code_expiry(client: redis.Redis, keys: Keys, patrol_id: str) -> int | None:
    """When the patrol's current code expires (ms), None if it has none; for the supervisor's screen."""
    raw = client.hget(keys.patrol_codes, patrol_id) if is_call_sign(patrol_id) else None
    return int(orjson.loads(raw)["expires_ms"]) if raw else None


def use_patrol_code(client: redis.Redis, keys: Keys, *, patrol_id: str, code: str,
                    now_ms: int | None = None) -> bool:
    """True if `code` is the patrol's current, unexpired code; it is then used up. A wrong code leaves the
    right one valid (a typo must not cost the crew a call to the supervisor)."""
    if not is_call_sign(patrol_id) or not is_patrol_code(code):
        secret_matches(None, "")  # same cost as a real check
        return False
    raw = client.hget(keys.patrol_codes, patrol_id)
    stored = orjson.loads(raw) if raw else None
    if not secret_matches(stored["hash"] if stored else None, code) or stored is None:
        return False
    if int(stored["expires_ms"]) <= clock.now_ms(now_ms):
        client.eval(_CONSUME_CODE, 1, keys.patrol_codes, patrol_id, raw)
        return False
    return bool(client.eval(_CONSUME_CODE, 1, keys.patrol_codes, patrol_id, raw))


# --- Sessions ---------------------------------------------------------------------------

def create_session(client: redis.Redis, keys: Keys, *, user_id: str, role: Role | str, patrol_id: str | None = None,
                   ttl_s: float = DEFAULT_SESSION_TTL_S, now_ms: int | None = None,
                   checked: Account | None = None) -> tuple[str, Identity]:
    """A new session; returns its id (the cookie value, shown nowhere else) and who it is. With
    `checked` (verify_password's account), the session is made only if the account still has the
    password that was checked, in the same step: a reset or a deletion landing between the check and
    this leaves no session behind (AccountError)."""
    role = Role(role)
    if (role is Role.PATROL) != (patrol_id is not None):
        raise AccountError("a patrol session names its patrol, and only a patrol session does")
    session_id, csrf = new_token(), new_token()
    expires_ms = clock.now_ms(now_ms) + int(ttl_s * 1000)
    identity = Identity(user_id, role, patrol_id, session_id, expires_ms, csrf)
    digest = token_digest(session_id)
    fields = {"user_id": user_id, "role": role.value, "patrol_id": patrol_id or "", "expires_ms": expires_ms,
              "csrf": csrf}
    indexes = _session_indexes(keys, user_id, patrol_id)
    made = client.eval(_CREATE_SESSION, 2 + len(indexes), keys.session(digest), keys.accounts, *indexes,
                       expires_ms, digest, user_id, checked.password_hash if checked else "",
                       *(str(part) for pair in fields.items() for part in pair))
    if made == -1:
        raise AccountError(f"the account {user_id} changed while signing in (new password or deleted): "
                           "sign in again")
    return session_id, identity


# The session hash and its entry in each index of its user, in one step, if the account still has the
# password hash that was checked (ARGV[4], when given); an index lives as long as its longest session
# (Redis 6.2 has no PEXPIREAT GT: compared with the server's clock here).
# KEYS: session, accounts, indexes... ARGV: expires_ms, digest, user_id, checked hash or '', fields...
_CREATE_SESSION = """
if ARGV[4] ~= '' then
  local raw = redis.call('HGET', KEYS[2], ARGV[3])
  if not raw or cjson.decode(raw)['hash'] ~= ARGV[4] then return -1 end
end
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local expires = tonumber(ARGV[1])
if expires <= now then return 0 end
for i = 3, #KEYS do
  redis.call('SADD', KEYS[i], ARGV[2])
  local left = redis.call('PTTL', KEYS[i])
  if left < 0 or now + left < expires then redis.call('PEXPIREAT', KEYS[i], ARGV[1]) end
end
return 1
"""


def _session_indexes(keys: Keys, *ids: str | None) -> list[str]:
    """The index keys of a session: its user and its patrol, when they are well-formed ids (anything
    else could be a name and is never put in a key)."""
    return [keys.sessions_of(i) for i in dict.fromkeys(ids) if i and (staff_role(i) or is_call_sign(i))]


def get_session(client: redis.Redis, keys: Keys, session_id: str | None, *,
                now_ms: int | None = None) -> Identity | None:
    """Who holds this session, or None if it does not exist, has expired or was ended."""
    key = session_key(keys, session_id)
    if key is None:
        return None
    return identity_from_stored(session_id, client.hgetall(key), clock.now_ms(now_ms))


def session_key(keys: Keys, session_id: str | None) -> str | None:
    """The Redis key of a session id, None for a value that cannot be one of ours."""
    if not session_id or not isinstance(session_id, str) or len(session_id) > MAX_SESSION_ID_CHARS:
        return None
    return keys.session(token_digest(session_id))


def identity_from_stored(session_id: str, stored: dict, now_ms: int) -> Identity | None:
    """A session hash (HGETALL reply, sync or asyncio client) as an Identity; None if empty or expired."""
    fields = {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
              for k, v in stored.items()}
    try:
        identity = Identity(fields["user_id"], Role(fields["role"]), fields["patrol_id"] or None, session_id,
                            int(fields["expires_ms"]), fields["csrf"])
    except (KeyError, ValueError):
        return None
    if identity.expires_ms <= now_ms:  # Redis expires it too; this covers clock skew and tests
        return None
    return identity


async def patrol_scope_seed(client, keys: Keys, patrol_id: str) -> tuple[tuple, tuple]:
    """For the gateway (asyncio client): the patrol's open assignment as ((assignment_id, sighting_id),)
    and its sighting as ((sighting_id, drone_id),), as stored now; empty tuples if it has none."""
    assignment_id = await client.hget(keys.patrol_assignment, patrol_id)
    raw = await client.hget(keys.assignments_open, assignment_id) if assignment_id else None
    assignment = orjson.loads(raw) if raw else {}
    sighting_id = assignment.get("sighting_id")
    if not isinstance(sighting_id, str) or assignment.get("patrol_id") != patrol_id:
        return (), ()
    raw_sighting = await client.hget(keys.sightings, sighting_id)
    drone_id = orjson.loads(raw_sighting).get("drone_id") if raw_sighting else None
    return ((assignment["assignment_id"], sighting_id),), ((sighting_id, drone_id),)


def end_session(client: redis.Redis, keys: Keys, session_id: str | None) -> Identity | None:
    """Sign out: the session is gone at once. Returns who it was (for the audit trail), None if none."""
    identity = get_session(client, keys, session_id, now_ms=0)
    if identity is not None:
        digest = token_digest(session_id)
        with client.pipeline(transaction=True) as pipe:
            pipe.delete(keys.session(digest))
            for index in _session_indexes(keys, identity.user_id, identity.patrol_id):
                pipe.srem(index, digest)
            pipe.execute()
    return identity


# --- Sign-in throttling -------------------------------------------------------------------

@dataclass(frozen=True)
class Attempt:
    """What one sign-in attempt is counted against (see domain/auth.py Throttle): its client address
    (None if unknown), the id it tried when that is a well-formed id (anything else could be a name,
    and is never put in a key), and this browser's device nonce for that id when it is a known device."""

    address: str | None
    user_id: str | None
    device: str | None = None


@dataclass(frozen=True)
class Gate:
    """The answer before a password is checked: let through, or held back by `scope` for `wait_ms`.
    When let through, `next_wait_ms` is how long the next attempt waits if this one fails."""

    scope: str  # "ok", "account", "device" or "address"
    wait_ms: int
    next_wait_ms: int = 0

    @property
    def allowed(self) -> bool:
        return self.scope == "ok"


def attempt_for(address: str | None, user_id: str | None, device: str | None = None) -> Attempt:
    well_formed = bool(user_id) and bool(staff_role(user_id) or is_call_sign(user_id))
    return Attempt(address_subject(address), user_id if well_formed else None, device if well_formed else None)


def throttle_key(keys: Keys, user_id: str) -> str:
    """The hash of an account's counts: `f` failures and `next` (ms) for the account, `d:<nonce>:f`
    and `d:<nonce>:next` for each known device of it; one key, so clearing it is one DEL."""
    return keys.signin_failure(f"user:{user_id}")


def _gate_keys(keys: Keys, attempt: Attempt) -> list[str]:
    unused = keys.signin_failure("none")  # never written: declared so the script's keys are fixed
    return [keys.signin_failure(attempt.address) if attempt.address else unused,
            throttle_key(keys, attempt.user_id) if attempt.user_id else unused]


# Held back, or let through and counted as a failure at once (the outcome settles it): parallel
# attempts cannot all pass before the first one fails. Times are the server's (TIME), so every web
# process agrees. A key of another type (the counters of older versions) is replaced.
# KEYS: address counts, account counts. ARGV: has address, has account, device nonce or '', free
# failures, first delay, longest delay, account state ttl, address limit, address window.
_GATE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local has_addr, has_acct, device = ARGV[1] == '1', ARGV[2] == '1', ARGV[3]
local free, first, cap, ttl = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local limit, window = tonumber(ARGV[8]), tonumber(ARGV[9])
local addr, acct = KEYS[1], KEYS[2]
for _, key in ipairs(KEYS) do
  local kind = redis.call('TYPE', key)['ok']
  if kind ~= 'none' and kind ~= 'hash' then redis.call('DEL', key) end
end
local mine = ''
if device ~= '' then mine = 'd:' .. device .. ':' end
if has_acct then
  local nxt = tonumber(redis.call('HGET', acct, mine .. 'next') or '0')
  if nxt > now then
    if device ~= '' then return {'device', nxt - now, 0} end
    return {'account', nxt - now, 0}
  end
end
if has_addr and device == '' then
  if tonumber(redis.call('HGET', addr, 'f') or '0') >= limit then
    local left = redis.call('PTTL', addr)
    if left > 0 then return {'address', left, 0} end
    redis.call('DEL', addr)
  end
end
local function delay(failures)
  local extra = failures - free
  if extra <= 0 then return 0 end
  if extra > 40 then return cap end
  return math.floor(math.min(cap, first * 2 ^ (extra - 1)))
end
local wait = 0
if has_acct then
  wait = delay(redis.call('HINCRBY', acct, 'f', 1))
  redis.call('HSET', acct, 'next', now + wait)
  if device ~= '' then
    wait = delay(redis.call('HINCRBY', acct, mine .. 'f', 1))
    redis.call('HSET', acct, mine .. 'next', now + wait)
  end
  redis.call('PEXPIRE', acct, ttl)
end
if has_addr and redis.call('HINCRBY', addr, 'f', 1) == 1 then redis.call('PEXPIRE', addr, window) end
return {'ok', 0, wait}
"""

# A correct password: the account's counts (and this device's) are cleared, and the address gets back
# the failure the gate counted in advance.
_SUCCEEDED = """
if ARGV[2] == '1' then
  redis.call('HDEL', KEYS[2], 'f', 'next')
  if ARGV[3] ~= '' then redis.call('HDEL', KEYS[2], 'd:' .. ARGV[3] .. ':f', 'd:' .. ARGV[3] .. ':next') end
end
if ARGV[1] == '1' and tonumber(redis.call('HGET', KEYS[1], 'f') or '0') > 0 then
  redis.call('HINCRBY', KEYS[1], 'f', -1)
end
return 1
"""


def gate(client: redis.Redis, keys: Keys, attempt: Attempt, throttle: Throttle) -> Gate:
    """Before checking a password: held back (nothing counted), or let through and counted as a failure
    until `succeeded` says otherwise. One atomic step."""
    flags = ("1" if attempt.address else "0", "1" if attempt.user_id else "0", attempt.device or "")
    scope, wait, next_wait = client.eval(
        _GATE, 2, *_gate_keys(keys, attempt), *flags, throttle.free_failures, throttle.first_delay_ms,
        throttle.max_delay_ms, throttle.state_ttl_ms(), throttle.address_max_failures, throttle.address_window_ms)
    return Gate(scope.decode() if isinstance(scope, bytes) else scope, int(wait), int(next_wait))


def succeeded(client: redis.Redis, keys: Keys, attempt: Attempt) -> None:
    flags = ("1" if attempt.address else "0", "1" if attempt.user_id else "0", attempt.device or "")
    client.eval(_SUCCEEDED, 2, *_gate_keys(keys, attempt), *flags)


@dataclass(frozen=True)
class ThrottleState:
    """An account's sign-in counts as the administrator's page shows them."""

    failures: int
    wait_ms: int


def throttle_states(client: redis.Redis, keys: Keys, user_ids: Iterable[str]) -> dict[str, ThrottleState]:
    """The accounts among `user_ids` that have failed sign-ins counted (others are left out)."""
    ids = list(user_ids)
    with client.pipeline(transaction=False) as pipe:
        # The clock of the server holding the site's keys (on a cluster, the site's master: redis-py's cluster
        # pipeline refuses TIME, which names no key, so a script with the site's key asks it, issue 14).
        pipe.execute_command("EVAL", "return redis.call('TIME')", 1, keys.accounts)
        for user_id in ids:
            pipe.hmget(throttle_key(keys, user_id), "f", "next")
        replies = pipe.execute()
    seconds, micros = map(int, replies[0])
    now = seconds * 1000 + micros // 1000
    states = {}
    for user_id, (failures, next_ms) in zip(ids, replies[1:]):
        if failures is not None and int(failures) > 0:
            states[user_id] = ThrottleState(int(failures), max(0, int(next_ms or 0) - now))
    return states
