"""Administrators' changes to staff accounts: create, reset a password, delete, lift a sign-in delay. Each is audited in its
transaction, and deleting an account or resetting its password ends every session it has.

The change, its audit entry and the end of the sessions commit together: a
session indexed (`{site}:sessions:user:<id>`, see store/accounts.py) before the
change commits cannot outlive it. A refused attempt is recorded with its
reason, never with the password; a code that is no staff code (it may be a
name) is recorded as `invalid`.
"""

from __future__ import annotations

import re
from typing import Callable

import orjson
import redis

from .. import clock
from ..domain.audit import INTERNAL_ORIGIN, INVALID_TARGET, Action, AuditRole, make_entry
from ..domain.auth import STAFF_CODE, Role, hash_secret, password_problem, staff_code_problem, staff_role
from ..keys import Keys
from . import audit
from .accounts import Account, AccountError, throttle_key


def delete_account(client: redis.Redis, keys: Keys, user_id: str) -> bool:
    """Unaudited removal (scripts, tests): ends the account's sessions too. Administrators use
    remove_account. False if there was no such account."""
    found = []

    def apply(stored: dict):
        found.append(user_id in stored)
        return lambda pipe: pipe.hdel(keys.accounts, user_id)

    if not isinstance(user_id, str) or not user_id:
        return False
    _change_ending_sessions(client, keys, user_id, apply)
    return found[-1]


def admin_create_account(client: redis.Redis, keys: Keys, *, user_id: str, role: Role | str, password: str,
                         actor: str, origin: str = INTERNAL_ORIGIN, now_ms: int | None = None) -> Account:
    """An administrator creates a staff account: recorded as `account_created` (role, never the password)
    in the same transaction. Refused (AccountError, recorded as refused) for a code that does not match
    the role, a password the rule refuses, or a code that already has an account."""
    now = clock.now_ms(now_ms)
    with _refusal_audited(client, keys, Action.ACCOUNT_CREATED, actor, user_id, origin, now):
        problem = staff_code_problem(user_id, role) or password_problem(password)
        if problem:
            raise AccountError(problem[0].upper() + problem[1:])
        account = Account(user_id, Role(role), now)
        value = orjson.dumps({"role": account.role.value, "hash": hash_secret(password), "created_ms": now})
        entry = make_entry(ts=now, actor=actor, role=AuditRole.ADMINISTRATOR, action=Action.ACCOUNT_CREATED,
                           target=user_id, origin=origin, details={"role": account.role.value})

        def apply(stored: dict):
            if user_id in stored:
                raise AccountError(f"{user_id} already has an account")
            return lambda pipe: (pipe.hset(keys.accounts, user_id, value), audit.record(pipe, keys, entry))

        _change_ending_sessions(client, keys, user_id, apply, end_sessions=False)
    return account


def reset_password(client: redis.Redis, keys: Keys, *, user_id: str, password: str, actor: str,
                   origin: str = INTERNAL_ORIGIN, now_ms: int | None = None) -> int:
    """An administrator sets a new password: every session of the account ends in the same transaction
    as the change and its `account_password_reset` entry. Returns how many sessions ended."""
    now = clock.now_ms(now_ms)
    with _refusal_audited(client, keys, Action.ACCOUNT_PASSWORD_RESET, actor, user_id, origin, now):
        problem = password_problem(password)
        if problem:
            raise AccountError(problem[0].upper() + problem[1:])
        new_hash = hash_secret(password)  # before the transaction: scrypt takes a tenth of a second

        def apply(stored: dict):
            account = _existing(stored, user_id)
            value = orjson.dumps({**account, "hash": new_hash})
            entry = make_entry(ts=now, actor=actor, role=AuditRole.ADMINISTRATOR, target=user_id, origin=origin,
                               action=Action.ACCOUNT_PASSWORD_RESET)
            return lambda pipe: (pipe.hset(keys.accounts, user_id, value), audit.record(pipe, keys, entry))

        return _change_ending_sessions(client, keys, user_id, apply)


def remove_account(client: redis.Redis, keys: Keys, *, user_id: str, actor: str, origin: str = INTERNAL_ORIGIN,
                   now_ms: int | None = None) -> int:
    """An administrator deletes a staff account: its sessions end in the same transaction as the removal
    and its `account_deleted` entry. Refused for one's own account and for the last administrator
    (either would leave nobody able to manage accounts). Returns how many sessions ended."""
    now = clock.now_ms(now_ms)
    with _refusal_audited(client, keys, Action.ACCOUNT_DELETED, actor, user_id, origin, now):
        if user_id == actor:
            raise AccountError("You cannot delete your own account: another administrator must do it")

        def apply(stored: dict):
            role = _existing(stored, user_id)["role"]
            if role == Role.ADMINISTRATOR.value and [a["role"] for a in stored.values()].count(role) <= 1:
                raise AccountError(f"{user_id} is the last administrator: create another administrator first")
            entry = make_entry(ts=now, actor=actor, role=AuditRole.ADMINISTRATOR, target=user_id, origin=origin,
                               action=Action.ACCOUNT_DELETED, details={"role": role})
            return lambda pipe: (pipe.hdel(keys.accounts, user_id), audit.record(pipe, keys, entry))

        return _change_ending_sessions(client, keys, user_id, apply)


def unlock_account(client: redis.Redis, keys: Keys, *, user_id: str, actor: str, origin: str = INTERNAL_ORIGIN,
                   now_ms: int | None = None) -> int:
    """An administrator lifts an account's sign-in delay (the counts of failed sign-ins, its known devices'
    included): cleared in the same transaction as its `account_unlocked` entry, which says how many
    failures were counted. Refused (and recorded) for a code with no account. Returns that count."""
    now = clock.now_ms(now_ms)
    with _refusal_audited(client, keys, Action.ACCOUNT_UNLOCKED, actor, user_id, origin, now):
        if not isinstance(user_id, str) or not staff_role(user_id):
            _existing({}, user_id)  # refused: no such account
        key = throttle_key(keys, user_id)
        with client.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(keys.accounts, key)
                    _existing({user_id: {}} if pipe.hexists(keys.accounts, user_id) else {}, user_id)
                    failures = int(pipe.hget(key, "f") or 0) if pipe.type(key) == b"hash" else 0
                    entry = make_entry(ts=now, actor=actor, role=AuditRole.ADMINISTRATOR, target=user_id,
                                       origin=origin, action=Action.ACCOUNT_UNLOCKED, details={"failures": failures})
                    pipe.multi()
                    pipe.delete(key)
                    audit.record(pipe, keys, entry)
                    pipe.execute()
                    return failures
                except redis.WatchError:
                    continue


def _existing(stored: dict, user_id: str) -> dict:
    if user_id not in stored:
        shown = user_id if staff_role(user_id) else f"{user_id!r:.40}"
        raise AccountError(f"{shown} has no account")
    return stored[user_id]


def _change_ending_sessions(client: redis.Redis, keys: Keys, user_id: str, apply: Callable[[dict], Callable], *,
                            end_sessions: bool = True) -> int:
    """One transaction: `apply(accounts)` checks (raising AccountError to refuse) and returns the writes
    (the change and its audit entry); with `end_sessions`, every session of `user_id` ends with them
    (_END_SESSIONS). Returns how many sessions ended. Only the accounts are WATCHed (they change only
    through administrators): sign-ins never make a change start again, so they cannot hold it off."""
    with client.pipeline(transaction=True) as pipe:
        while True:
            try:
                pipe.watch(keys.accounts)
                write = apply({k.decode(): orjson.loads(v) for k, v in pipe.hgetall(keys.accounts).items()})
                pipe.multi()
                write(pipe)
                if end_sessions:
                    pipe.execute_command("EVAL", _END_SESSIONS, 1, keys.sessions_of(user_id), keys.sessions)  # cluster too
                replies = pipe.execute()
                return int(replies[-1]) if end_sessions else 0
            except redis.WatchError:
                continue


# Every session a user's index names ends, and the index, inside the change's transaction: a session
# indexed before it commits cannot survive it. The session keys are built here from the index's digests,
# which a script may do on a cluster only because every key of the site shares its {hash tag} slot.
_END_SESSIONS = """
local ended = 0
for _, digest in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  ended = ended + redis.call('DEL', ARGV[1] .. ':' .. digest)
end
redis.call('DEL', KEYS[1])
return ended
"""


def _refusal_audited(client: redis.Redis, keys: Keys, action: Action, actor: str, user_id: object, origin: str,
                     now: int):
    """Records an AccountError as a refused `action`; a target that is no staff code (it may be a name)
    is recorded as `invalid` and taken out of the reason."""
    target = user_id if isinstance(user_id, str) and re.match(STAFF_CODE, user_id) else INVALID_TARGET
    return audit.refusal_audited(client, keys, AccountError, ts=now, actor=actor, role=AuditRole.ADMINISTRATOR,
                                 action=action, target=target, origin=origin, untrusted=[(user_id, STAFF_CODE)])
