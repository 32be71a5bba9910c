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
- `{site}:signin_failures:<subject>`: a counter per address and per user id,
  expiring with its lock.

Administrators' changes to accounts (audited, ending sessions) are in
store/account_changes.py.

The rules (roles, hashing, throttle) are in domain/auth.py; this module only
keeps their state.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Iterable

import orjson
import redis

from ..domain.audit import Action, AuditRole, make_entry
from ..domain.auth import (
    Identity, Role, Throttle, hash_secret, is_call_sign, is_patrol_code, new_patrol_code, new_token,
    password_problem, secret_matches, staff_role, token_digest,
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


def _now_ms(now_ms: int | None) -> int:
    return int(time.time() * 1000) if now_ms is None else int(now_ms)


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
    account = Account(user_id, role, _now_ms(now_ms))
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
    stored = _stored_account(client, keys, user_id) if staff_role(user_id) else None
    if not secret_matches(stored["hash"] if stored else None, password) or stored is None:
        return None
    return Account(user_id, Role(stored["role"]), int(stored.get("created_ms", 0)), stored["hash"])


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
    clear once, for the supervisor to read out; stored hashed. Recorded on the audit trail (who issued
    it, for whom, until when; never the code) in the same transaction."""
    if not is_call_sign(patrol_id):
        raise AccountError(f"{patrol_id!r:.40} is not a call sign (e.g. BAC-12)")
    if not isinstance(issued_by, str) or not re.match(SUPERVISOR_ID, issued_by):
        raise AccountError(f"{issued_by!r:.40} is not a supervisor code (SUP-n)")
    now = _now_ms(now_ms)
    expires_ms = now + int(1000 * (DEFAULT_PATROL_CODE_TTL_S if ttl_s is None else ttl_s))
    code = new_patrol_code()
    value = orjson.dumps({"hash": hash_secret(code), "expires_ms": expires_ms, "issued_by": issued_by,
                          "issued_ms": now})
    entry = make_entry(ts=now, actor=issued_by, role=AuditRole.SUPERVISOR, action=Action.PATROL_CODE_ISSUED,
                       target=patrol_id, origin=origin, details={"expires_ms": expires_ms})
    stale = _expired_codes(client, keys, now)
    with client.pipeline(transaction=True) as pipe:
        pipe.hset(keys.patrol_codes, patrol_id, value)
        for other, raw in stale.items():
            if other != patrol_id:  # compare-and-delete: a code re-issued meanwhile stays
                pipe.eval(_CONSUME_CODE, 1, keys.patrol_codes, other, raw)
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
    if int(stored["expires_ms"]) <= _now_ms(now_ms):
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
    expires_ms = _now_ms(now_ms) + int(ttl_s * 1000)
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
    return identity_from_stored(session_id, client.hgetall(key), _now_ms(now_ms))


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

# Count a failure for each subject. The counter lives `lock_ms` from the first failure, and again
# from the failure that reaches the limit: that one starts the lock.
_RECORD_FAILURE = """
local counts = {}
for i, key in ipairs(KEYS) do
  local n = redis.call('INCR', key)
  if n == 1 or n == tonumber(ARGV[1]) then redis.call('PEXPIRE', key, ARGV[2]) end
  counts[i] = n
end
return counts
"""


def throttle_subjects(address: str | None, user_id: str | None) -> list[str]:
    """What a sign-in attempt is counted against: its client address, and the id it tried when that is
    a well-formed id (anything else could be a name, and is never put in a key)."""
    subjects = []
    if address:
        subjects.append(f"addr:{address[:64]}")
    if user_id and (staff_role(user_id) or is_call_sign(user_id)):
        subjects.append(f"user:{user_id}")
    return subjects


def record_failure(client: redis.Redis, keys: Keys, subjects: Iterable[str], throttle: Throttle) -> list[int]:
    names = [keys.signin_failure(subject) for subject in subjects]
    if not names:
        return []
    return [int(n) for n in client.eval(_RECORD_FAILURE, len(names), *names, throttle.max_failures,
                                        throttle.lock_ms)]


def locked_for_ms(client: redis.Redis, keys: Keys, subjects: Iterable[str], throttle: Throttle) -> int:
    """How long sign-in stays locked for the most locked of these subjects; 0 if none is."""
    names = [keys.signin_failure(subject) for subject in subjects]
    if not names:
        return 0
    with client.pipeline(transaction=False) as pipe:
        for name in names:
            pipe.get(name)
            pipe.pttl(name)
        replies = pipe.execute()
    remaining = 0
    for count, ttl in zip(replies[::2], replies[1::2]):
        if count is not None and throttle.locked(int(count)) and ttl > 0:
            remaining = max(remaining, int(ttl))
    return remaining


def clear_failures(client: redis.Redis, keys: Keys, subjects: Iterable[str]) -> None:
    names = [keys.signin_failure(subject) for subject in subjects]
    if names:
        client.delete(*names)
