"""What the administrator's accounts page asks the server, as plain functions: handlers.py adds the request.

- `unlock`: lift the sign-in delay of an account slowed by failed sign-ins,
  audited, and its count of failures cleared.
- `create`, `reset`, `delete`: check what was typed the way a person reads it
  (codes typed in lower case are accepted, the two passwords must agree, a
  deletion needs the code typed again), then call the audited store step
  (store/account_changes.py), which refuses the rest and records every attempt.
  Each returns an `Outcome`: ok or not, and one sentence saying what happened
  or what to fix. No password is ever part of a message.
- `account_rows`: the accounts as the table shows them (local time and age).
- `roles_note`: who may do what, from the one permission table
  (domain/auth.PERMISSIONS), for the page's note and a data-protection officer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable
from zoneinfo import ZoneInfo

import redis

from ....domain.auth import PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS, PERMISSIONS, Role, staff_role, wait_text
from ....keys import Keys
from ....store import account_changes
from ....store.accounts import Account, AccountError, ThrottleState

MAX_TYPED_CHARS = 200  # longer than any code; a longer value is cut before it goes anywhere
STAFF_ROLES = (Role.SUPERVISOR, Role.AUDITOR, Role.ADMINISTRATOR)
PASSWORD_HINT = (f"At least {PASSWORD_MIN_CHARS} characters (at most {PASSWORD_MAX_CHARS}). "
                 "A phrase of a few words is easiest to pass on and to type.")
CODE_HINT = "Codes say the role: SUP-n supervisor, AUD-n auditor, ADM-n administrator (e.g. SUP-3)."
# What each permission lets a role do, in the words of the page's note. A permission added to
# domain/auth.py without a line here is still listed, under its own name.
PERMISSION_MEANING = {
    "live_view": "see the live wall screen (positions of drones, patrols, sightings)",
    "dispatch": "send, cancel and reassign patrols; acknowledge alerts; issue patrol sign-in codes",
    "patrol_actions": "use the patrol tablet: acknowledge and report on its own assignment",
    "replay": "replay the recordings still kept (after-action review)",
    "audit_view": "read the audit trail",
    "export": "export recordings and the audit trail as files",
    "manage_users": "create, reset and delete staff accounts, lift a sign-in delay (this page)",
    "manage_zones": "draw, import and delete authorised flight zones",
}


@dataclass(frozen=True)
class Outcome:
    ok: bool
    message: str
    ended_own_session: bool = False  # the administrator reset their own password: signed out


@dataclass(frozen=True)
class Actor:
    user_id: str
    origin: str


@dataclass(frozen=True)
class AccountRow:
    user_id: str
    role: str
    created: str  # local time
    age: str
    is_you: bool
    signin: str = "normal"  # its sign-in throttle, in words
    slowed: bool = False  # failed sign-ins are counted: the administrator may lift them


def typed_code(value: object) -> str:
    """A code as typed: trimmed, and upper-cased when that makes it a staff code ('sup-3' -> 'SUP-3')."""
    text = value.strip()[:MAX_TYPED_CHARS] if isinstance(value, str) else ""
    return text.upper() if staff_role(text.upper()) else text


def _password(value: object) -> str:
    return value if isinstance(value, str) else ""


def create(client: redis.Redis, keys: Keys, *, code: object, role: object, password: object, confirm: object,
           actor: Actor) -> Outcome:
    user_id = typed_code(code)
    if not user_id:
        return Outcome(False, "Type the code of the new account, e.g. SUP-3")
    if not _password(password):
        return Outcome(False, "Type a password for the new account, twice")
    if _password(password) != _password(confirm):
        return Outcome(False, "Passwords differ: type the same password in both fields")
    try:
        account = account_changes.admin_create_account(client, keys, user_id=user_id, role=str(role or ""),
                                                password=_password(password), actor=actor.user_id,
                                                origin=actor.origin)
    except AccountError as refusal:
        return Outcome(False, str(refusal))
    return Outcome(True, f"{account.user_id} can now sign in as {account.role.value}. "
                         f"Give them the password in person, never by e-mail.")


def reset(client: redis.Redis, keys: Keys, *, user_id: object, password: object, confirm: object,
          actor: Actor) -> Outcome:
    target = typed_code(user_id)
    if not _password(password):
        return Outcome(False, f"Type the new password for {target}, twice")
    if _password(password) != _password(confirm):
        return Outcome(False, "Passwords differ: type the same password in both fields")
    try:
        ended = account_changes.reset_password(client, keys, user_id=target, password=_password(password),
                                        actor=actor.user_id, origin=actor.origin)
    except AccountError as refusal:
        return Outcome(False, str(refusal))
    own = target == actor.user_id
    after = " You must sign in again with it." if own else ""
    return Outcome(True, f"{target} has a new password; {_sessions(ended)} ended.{after}", ended_own_session=own)


def delete(client: redis.Redis, keys: Keys, *, user_id: object, typed: object, actor: Actor) -> Outcome:
    target = typed_code(user_id)
    if typed_code(typed) != target:
        return Outcome(False, f"Type {target} in the box to confirm the deletion")
    try:
        ended = account_changes.remove_account(client, keys, user_id=target, actor=actor.user_id, origin=actor.origin)
    except AccountError as refusal:
        return Outcome(False, str(refusal))
    return Outcome(True, f"{target} is deleted; {_sessions(ended)} ended.")


def unlock(client: redis.Redis, keys: Keys, *, user_id: object, actor: Actor) -> Outcome:
    """Lift an account's sign-in delay (audited as `account_unlocked`, with the failures it had)."""
    target = typed_code(user_id)
    try:
        failures = account_changes.unlock_account(client, keys, user_id=target, actor=actor.user_id,
                                                  origin=actor.origin)
    except AccountError as refusal:
        return Outcome(False, str(refusal))
    return Outcome(True, f"{target} can sign in again at once: {_attempts(failures)} cleared.")


def _attempts(count: int) -> str:
    return "1 failed attempt" if count == 1 else f"{count} failed attempts"


def signin_text(state: ThrottleState | None) -> str:
    """An account's sign-in throttle as the table shows it."""
    if state is None:
        return "normal"
    wait = f"next attempt in {wait_text(state.wait_ms)}" if state.wait_ms > 0 else "no wait now"
    return f"slowed: {_attempts(state.failures)}, {wait}"


def _sessions(count: int) -> str:
    return {0: "no open session", 1: "its open session"}.get(count, f"its {count} open sessions")


def account_rows(found: Iterable[Account], *, tz: str, now_ms: int, you: str | None,
                 throttled: dict[str, ThrottleState] | None = None) -> list[AccountRow]:
    """Administrators first, then supervisors, then auditors; by code within a role. `throttled`: the
    accounts with failed sign-ins counted (store/accounts.throttle_states)."""
    throttled = throttled or {}
    order = {role: rank for rank, role in enumerate((Role.ADMINISTRATOR, Role.SUPERVISOR, Role.AUDITOR))}
    rows = []
    for account in sorted(found, key=lambda a: (order.get(a.role, 9), len(a.user_id), a.user_id)):
        created = datetime.fromtimestamp(account.created_ms / 1000, timezone.utc).astimezone(ZoneInfo(tz))
        state = throttled.get(account.user_id)
        rows.append(AccountRow(account.user_id, account.role.value, f"{created:%a %d %b %Y %H:%M}",
                               age_text(now_ms - account.created_ms), account.user_id == you,
                               signin_text(state), state is not None))
    return rows


def age_text(elapsed_ms: int) -> str:
    """"just now", "12 min ago", "5 h ago", "3 days ago": how long ago, as a person says it."""
    minutes = max(0, int(elapsed_ms)) // 60_000
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min ago"
    if minutes < 48 * 60:
        return f"{minutes // 60} h ago"
    return f"{minutes // 1440} days ago"


def roles_note() -> list[tuple[str, str]]:
    """(role, what it may do) for each role, from PERMISSIONS: one sentence per role."""
    note = []
    for role in Role:
        may_do = [PERMISSION_MEANING.get(name, name) for name, roles in PERMISSIONS.items() if role in roles]
        note.append((role.value, "; ".join(may_do) if may_do else "nothing"))
    return note
