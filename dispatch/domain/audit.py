"""The audit trail's entries: who did what, to what, from where, when, and whether it was allowed.

French law wants every action on the dispatch system traceable, and wants the
trail itself free of personal data. Both are enforced here, on the value, so no
caller can write an entry that breaks either:

- **Who** is a pseudonymous code (`SUP-1`, a call sign, `OP-3`, `ADM-2`,
  `AUD-1`) or `system`, never a name. A value that fails every format may be a
  name typed into an id field, so it is never written: `anonymous_if_invalid`
  puts `anonymous` in its place, and `redact` takes it out of refusal reasons.
- **What was acted on** (`target`) is an id (assignment, alert, zone, site),
  checked the same way; a malformed one is recorded as `invalid`.
- **Details** are a small flat JSON object of ids, states, counts and flags:
  bounded in keys and bytes, strings one short line, and keys that invite
  personal data (`note`, `name`, `plate`...) or secrets (`password`, `token`)
  refused outright.
- **Refusals are entries too** (`outcome=refused` with its reason): an attempt
  that changed nothing is still an action someone took.

Times: `ts` is when the action happened, as the application saw it (ms since
the epoch, UTC). Once stored, an entry also has its stream id, whose
millisecond part is when Redis recorded it: the trail's own clock, monotonic,
and what retention trims by. Time windows (`AuditFilter`) apply to that
recorded time, falling back to `ts` for an entry not stored yet.

Pure: no Redis, no clock. `store/audit.py` writes and reads these values.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from typing import Iterable, Mapping
from zoneinfo import ZoneInfo

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .lifecycle import DISPLAY_TIMEZONE
from .models import OPERATOR_ID, PATROL_ID, SUPERVISOR_ID

ADMINISTRATOR_ID = r"^ADM-[0-9A-Z]{1,8}$"
AUDITOR_ID = r"^AUD-[0-9A-Z]{1,8}$"
SYSTEM_ACTOR = "system"
ANONYMOUS_ACTOR = "anonymous"  # stands for an id that failed its format (it may be a name)
INVALID_TARGET = "invalid"
INTERNAL_ORIGIN = "internal"  # done by a process of the product, not through a client

PSEUDONYMOUS_IDS = (SUPERVISOR_ID, PATROL_ID, OPERATOR_ID, ADMINISTRATOR_ID, AUDITOR_ID)
TARGET_ID = r"^[A-Za-z0-9_:.@-]{0,80}$"  # assignment, alert ('kind:unit'), zone, site ids
DETAIL_KEY = r"^[a-z][a-z0-9_]{0,31}$"

MAX_DETAIL_KEYS = 24
MAX_DETAILS_BYTES = 1_024
MAX_DETAIL_TEXT = 120
MAX_REASON = 300
# Keys whose values would be personal data or secrets whatever the caller meant by them.
FORBIDDEN_DETAIL_KEYS = frozenset({
    "note", "name", "first_name", "last_name", "surname", "nickname", "email", "phone", "plate",
    "registration", "address", "description", "password", "token", "secret", "cookie", "session",
})

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


class AuditError(ValueError):
    """An entry that must not be written; the message says which field and why."""


class AuditRole(str, Enum):
    """The role the actor acted in. Recorded, never inferred: 'SUP-1' is also a valid call sign."""

    SUPERVISOR = "supervisor"
    PATROL = "patrol"
    AUDITOR = "auditor"
    ADMINISTRATOR = "administrator"
    SYSTEM = "system"


class Action(str, Enum):
    SIGN_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"
    SIGN_OUT = "sign_out"
    ACCESS_DENIED = "access_denied"
    ASSIGNMENT_CREATED = "assignment_created"
    ASSIGNMENT_STATE_CHANGED = "assignment_state_changed"
    ASSIGNMENT_CANCELLED = "assignment_cancelled"
    ASSIGNMENT_REASSIGNED = "assignment_reassigned"
    ALERT_ACKNOWLEDGED = "alert_acknowledged"
    ZONE_SAVED = "zone_saved"
    ZONE_DELETED = "zone_deleted"
    EXPORT = "export"
    AUDIT_VIEWED = "audit_viewed"
    REPLAY_OPENED = "replay_opened"
    RETENTION_TRIMMED = "retention_trimmed"
    PATROL_CODE_ISSUED = "patrol_code_issued"
    PATROL_STATUS_REPORTED = "patrol_status_reported"
    ACCOUNT_CREATED = "account_created"
    ACCOUNT_PASSWORD_RESET = "account_password_reset"
    ACCOUNT_DELETED = "account_deleted"
    DRONE_LEFT_ZONES = "drone_left_zones"
    DRONE_BACK_IN_ZONE = "drone_back_in_zone"
    ACCOUNT_UNLOCKED = "account_unlocked"
    SIGHTING_CLOSED = "sighting_closed"
    SIGHTING_MERGED = "sighting_merged"


ACTION_MEANING: dict[Action, str] = {
    Action.SIGN_IN: "a user opened a session (target: empty; details: the screen signed in to)",
    Action.SIGN_IN_FAILED: "a sign-in was refused (actor: the code tried, or anonymous if it was malformed)",
    Action.SIGN_OUT: "a user closed a session, or it expired (details: why)",
    Action.ACCESS_DENIED: "a page or action was refused for the actor's role (target: what was asked)",
    Action.ASSIGNMENT_CREATED: "a supervisor sent a patrol to a sighting (target: assignment id; "
                               "details: sighting_id, patrol_id)",
    Action.ASSIGNMENT_STATE_CHANGED: "an assignment moved along its lifecycle, usually by its patrol "
                                     "(target: assignment id; details: from, to, outcome once cleared)",
    Action.ASSIGNMENT_CANCELLED: "a supervisor withdrew a patrol from its assignment (target: assignment id)",
    Action.ASSIGNMENT_REASSIGNED: "a supervisor gave a sighting to another patrol in one step (target: the "
                                  "cancelled assignment; details: new_assignment_id, from_patrol, to_patrol)",
    Action.ALERT_ACKNOWLEDGED: "a supervisor acknowledged an alert (target: alert id; details: kind, unit_id)",
    Action.ZONE_SAVED: "an authorised flight zone was created or replaced (target: zone id; details: decree "
                       "reference, validity period)",
    Action.ZONE_DELETED: "an authorised flight zone was removed (target: zone id)",
    Action.EXPORT: "data left the system as a file, e.g. the audit trail as CSV (details: window, rows)",
    Action.AUDIT_VIEWED: "someone read the audit trail on screen (details: window and filters)",
    Action.REPLAY_OPENED: "someone replayed recordings (details: the window replayed)",
    Action.RETENTION_TRIMMED: "the retention job removed what outlived its period (target: site; "
                              "details: entries or units removed per key)",
    Action.PATROL_CODE_ISSUED: "a supervisor issued a patrol's one-time sign-in code, replacing any previous "
                               "one (target: call sign; details: expires_ms; never the code)",
    Action.PATROL_STATUS_REPORTED: "a patrol's crew reported its own status from its tablet, available or "
                                   "unavailable (target: call sign; details: status, action_id)",
    Action.ACCOUNT_CREATED: "an administrator created a staff account (target: its code; details: role; "
                            "never the password)",
    Action.ACCOUNT_PASSWORD_RESET: "an administrator set a new password on a staff account, ending its "
                                   "sessions (target: its code; never the password)",
    Action.ACCOUNT_DELETED: "an administrator removed a staff account, ending its sessions (target: its code)",
    Action.DRONE_LEFT_ZONES: "the watcher saw a drone outside every authorised zone valid at that instant "
                             "(actor: system; target: drone id; details: alert id, fix time, the zones "
                             "valid then; no position: the trail outlives the recordings)",
    Action.DRONE_BACK_IN_ZONE: "a drone's outside_zone alert ended: back in a valid zone, or no longer "
                               "reporting (actor: system; target: drone id; details: how long it lasted)",
    Action.ACCOUNT_UNLOCKED: "an administrator lifted the sign-in delay of a staff account slowed by failed "
                             "sign-ins (target: its code; details: failures counted until then)",
    Action.SIGHTING_CLOSED: "a supervisor closed an unassigned sighting without sending anyone (target: "
                            "sighting id; details: reason code; an 'other' text stays on the recordings only)",
    Action.SIGHTING_MERGED: "a supervisor merged a duplicate sighting into another that stays open (target: "
                            "the duplicate; details: merged_into)",
}


class AuditOutcome(str, Enum):
    OK = "ok"
    REFUSED = "refused"


DetailValue = str | int | float | bool | None


class AuditEntry(BaseModel):
    """One action on the record. Immutable, and the store offers no way to change or delete one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ts: int = Field(gt=0)
    actor: str
    role: AuditRole
    action: Action
    target: str = ""
    origin: str = INTERNAL_ORIGIN
    details: dict[str, DetailValue] = Field(default_factory=dict)
    outcome: AuditOutcome = AuditOutcome.OK
    reason: str = ""
    entry_id: str | None = None  # the stream id, once stored

    @field_validator("actor")
    @classmethod
    def _pseudonymous(cls, actor: str) -> str:
        if actor in (SYSTEM_ACTOR, ANONYMOUS_ACTOR) or is_pseudonymous(actor):
            return actor
        raise ValueError(f"{actor!r:.60} is not a pseudonymous code (SUP-n, call sign, OP-n, ADM-n, AUD-n), "
                         f"{SYSTEM_ACTOR!r} or {ANONYMOUS_ACTOR!r}")

    @field_validator("target")
    @classmethod
    def _identifier(cls, target: str) -> str:
        if not re.match(TARGET_ID, target):
            raise ValueError(f"{target!r:.60} is not an identifier (at most 80 of A-Z a-z 0-9 _ : . @ -)")
        return target

    @field_validator("origin")
    @classmethod
    def _address_or_internal(cls, origin: str) -> str:
        if origin == INTERNAL_ORIGIN:
            return origin
        try:
            return str(ipaddress.ip_address(origin))
        except ValueError:
            raise ValueError(f"{origin!r:.60} is neither an IP address nor {INTERNAL_ORIGIN!r}") from None

    @field_validator("details")
    @classmethod
    def _small_and_flat(cls, details: dict[str, DetailValue]) -> dict[str, DetailValue]:
        if len(details) > MAX_DETAIL_KEYS:
            raise ValueError(f"{len(details)} keys, at most {MAX_DETAIL_KEYS}")
        for key, value in details.items():
            if not re.match(DETAIL_KEY, key):
                raise ValueError(f"key {key!r:.40}: expected lower-case letters, digits and '_'")
            if key in FORBIDDEN_DETAIL_KEYS:
                raise ValueError(f"key {key!r}: would hold personal data or a secret")
            if isinstance(value, str) and (len(value) > MAX_DETAIL_TEXT or _CONTROL.search(value)):
                raise ValueError(f"{key}: text must be one line of at most {MAX_DETAIL_TEXT} characters")
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"{key}: must be a finite number")
        size = len(details_json(details))
        if size > MAX_DETAILS_BYTES:
            raise ValueError(f"{size} bytes of JSON, at most {MAX_DETAILS_BYTES}")
        return details

    @field_validator("reason")
    @classmethod
    def _one_line(cls, reason: str) -> str:
        if len(reason) > MAX_REASON or _CONTROL.search(reason):
            raise ValueError(f"must be one line of at most {MAX_REASON} characters (see bounded_reason)")
        return reason

    @model_validator(mode="after")
    def _consistent(self) -> "AuditEntry":
        if (self.role is AuditRole.SYSTEM) != (self.actor == SYSTEM_ACTOR):
            raise ValueError(f"actor {SYSTEM_ACTOR!r} goes with role 'system', and only with it")
        if (self.outcome is AuditOutcome.REFUSED) != bool(self.reason):
            raise ValueError("a refused entry needs its reason, and only a refused one has one")
        return self

    @property
    def recorded_ms(self) -> int:
        """When the trail recorded it (its stream id), or `ts` if it is not stored yet."""
        if self.entry_id:
            millis = self.entry_id.partition("-")[0]
            if millis.isdigit():
                return int(millis)
        return self.ts


def make_entry(**fields) -> AuditEntry:
    """Build an entry, turning pydantic's errors into one readable `AuditError`."""
    try:
        return AuditEntry(**fields)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'entry'}: {e['msg']}" for e in error.errors())
        raise AuditError(problems) from None


def refused_entry(*, ts: int, actor: str, role: AuditRole | str, action: Action, target: str, reason: str,
                  origin: str = INTERNAL_ORIGIN, details: Mapping[str, DetailValue] | None = None,
                  untrusted: Iterable[tuple[object, str]] = ()) -> AuditEntry:
    """A refused attempt, from untrusted values: a malformed actor or target is replaced, and removed
    from the reason, so a name typed into an id field never reaches the trail. `untrusted` lists the
    attempt's other inputs with their formats, (value, pattern): any that fails its format is removed
    from the reason too (refusal messages quote the bad value)."""
    safe_actor = anonymous_if_invalid(actor)
    safe_target = id_or_invalid(target, TARGET_ID)
    checks = [(actor, safe_actor), (target, safe_target),
              *((value, id_or_invalid(value, pattern)) for value, pattern in untrusted)]
    for raw, safe in checks:
        if raw != safe:
            reason = redact(reason, raw)
    return make_entry(ts=ts, actor=safe_actor, role=role, action=action, target=safe_target, origin=origin,
                      outcome=AuditOutcome.REFUSED, reason=bounded_reason(reason), details=dict(details or {}))


def id_or_invalid(value: object, pattern: str) -> str:
    """An id for audit details: as given if it has its format, else INVALID_TARGET (it may be a name)."""
    return value if isinstance(value, str) and re.match(pattern, value) else INVALID_TARGET


def is_pseudonymous(actor: object) -> bool:
    return isinstance(actor, str) and any(re.match(pattern, actor) for pattern in PSEUDONYMOUS_IDS)


def anonymous_if_invalid(actor: object) -> str:
    if actor == SYSTEM_ACTOR or is_pseudonymous(actor):
        return actor  # type: ignore[return-value]
    return ANONYMOUS_ACTOR


def redact(text: str, secret: object) -> str:
    """`text` without `secret`: as typed, and as messages quote it (`{value!r}`, or cut by `{value!r:.60}`)."""
    if not isinstance(secret, str) or not secret:
        return text
    quoted = repr(secret)
    for form in (quoted, *(quoted[:width] for width in (80, 60, 40)), secret):
        text = text.replace(form, "<not recorded>")
    return text


def bounded_reason(text: str) -> str:
    """One line of at most MAX_REASON characters, whatever the refusal's message was."""
    line = " ".join(_CONTROL.sub(" ", str(text)).split())
    return line if len(line) <= MAX_REASON else line[: MAX_REASON - 1] + "…"


def details_json(details: Mapping[str, DetailValue]) -> bytes:
    return orjson.dumps(dict(details), option=orjson.OPT_SORT_KEYS)


# --- Stream fields ---------------------------------------------------------------

FIELD_ORDER = ("ts", "actor", "role", "action", "target", "origin", "outcome", "reason", "details")


def to_fields(entry: AuditEntry) -> dict[str, str]:
    """The entry as stream fields, always all of them, in FIELD_ORDER (redis-cli readers see one shape)."""
    return {
        "ts": str(entry.ts), "actor": entry.actor, "role": entry.role.value, "action": entry.action.value,
        "target": entry.target, "origin": entry.origin, "outcome": entry.outcome.value, "reason": entry.reason,
        "details": details_json(entry.details).decode(),
    }


def from_fields(entry_id: str, fields: Mapping[str, str]) -> AuditEntry:
    """A stored entry back as a value. One that no longer validates (written by hand, or by an older
    version) is returned as stored rather than hidden: an audit trail must not lose lines on reading."""
    raw = {name: fields.get(name, "") for name in FIELD_ORDER}
    try:
        details = orjson.loads(raw["details"] or "{}")
    except orjson.JSONDecodeError:
        details = {"unreadable": raw["details"][:MAX_DETAIL_TEXT]}
    values = {**raw, "details": details, "entry_id": entry_id}
    try:
        return AuditEntry(**{**values, "ts": int(raw["ts"])})
    except (ValueError, ValidationError):
        ts = int(raw["ts"]) if raw["ts"].isdigit() else 0
        return AuditEntry.model_construct(**{**values, "ts": ts})


# --- Filtering -------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilter:
    """Which entries to keep. Empty sets mean "any"; the window is half-open [from_ms, to_ms) on the
    recorded time (see the module docstring)."""

    from_ms: int | None = None
    to_ms: int | None = None
    actors: frozenset[str] = frozenset()
    roles: frozenset[AuditRole] = frozenset()
    actions: frozenset[Action] = frozenset()
    targets: frozenset[str] = frozenset()
    outcomes: frozenset[AuditOutcome] = frozenset()

    @classmethod
    def of(cls, *, from_ms: int | None = None, to_ms: int | None = None, actor: str | Iterable[str] = (),
           role: AuditRole | str | Iterable = (), action: Action | str | Iterable = (),
           target: str | Iterable[str] = (), outcome: AuditOutcome | str | Iterable = ()) -> "AuditFilter":
        """Build from single values or iterables; unknown roles, actions or outcomes raise AuditError."""
        try:
            return cls(from_ms=from_ms, to_ms=to_ms, actors=_set(actor), targets=_set(target),
                       roles=frozenset(map(AuditRole, _set(role))), actions=frozenset(map(Action, _set(action))),
                       outcomes=frozenset(map(AuditOutcome, _set(outcome))))
        except ValueError as error:
            raise AuditError(str(error)) from None

    def within(self, from_ms: int | None, to_ms: int | None) -> "AuditFilter":
        """This filter, its window narrowed to the intersection with [from_ms, to_ms)."""
        lower = [t for t in (self.from_ms, from_ms) if t is not None]
        upper = [t for t in (self.to_ms, to_ms) if t is not None]
        return AuditFilter(max(lower) if lower else None, min(upper) if upper else None, self.actors, self.roles,
                           self.actions, self.targets, self.outcomes)

    def admits(self, entry: AuditEntry) -> bool:
        when = entry.recorded_ms
        return ((self.from_ms is None or when >= self.from_ms)
                and (self.to_ms is None or when < self.to_ms)
                and (not self.actors or entry.actor in self.actors)
                and (not self.roles or entry.role in self.roles)
                and (not self.actions or entry.action in self.actions)
                and (not self.targets or entry.target in self.targets)
                and (not self.outcomes or entry.outcome in self.outcomes))

    def admits_fields(self, recorded_ms: int, fields: Mapping[str, str]) -> bool:
        """`admits` on raw stream fields, without building the entry: lets a reader skip non-matching
        entries cheaply (building one validates it, the bulk of a read's cost)."""
        return ((self.from_ms is None or recorded_ms >= self.from_ms)
                and (self.to_ms is None or recorded_ms < self.to_ms)
                and (not self.actors or fields.get("actor") in self.actors)
                and (not self.roles or fields.get("role") in self.roles)
                and (not self.actions or fields.get("action") in self.actions)
                and (not self.targets or fields.get("target") in self.targets)
                and (not self.outcomes or fields.get("outcome") in self.outcomes))

    def describe(self) -> dict[str, DetailValue]:
        """The filter as audit details (for the export or audit_viewed entry that records its use)."""
        described: dict[str, DetailValue] = {"from_ms": self.from_ms, "to_ms": self.to_ms}
        for name in ("actors", "roles", "actions", "targets", "outcomes"):
            values = sorted(str(getattr(v, "value", v)) for v in getattr(self, name))
            if values:
                described[name] = ",".join(values)[:MAX_DETAIL_TEXT]
        return described


def _set(value) -> frozenset:
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset({value})
    return frozenset(value)


def select(entries: Iterable[AuditEntry], audit_filter: AuditFilter, limit: int | None = None) -> list[AuditEntry]:
    """The entries the filter admits, in the given order, at most `limit` of them."""
    kept: list[AuditEntry] = []
    for entry in entries:
        if limit is not None and len(kept) >= limit:
            break
        if audit_filter.admits(entry):
            kept.append(entry)
    return kept


# --- CSV -------------------------------------------------------------------------

CSV_COLUMNS = ("entry_id", "time_utc", "time_local", "actor", "role", "action", "target", "origin", "outcome",
               "reason", "details")


def neutralise_cell(value: str) -> str:
    """A cell a spreadsheet will show as text: one starting with = + - @ tab or CR is a formula to
    Excel and LibreOffice (CSV injection), so it gets a leading quote."""
    return "'" + value if value.startswith(CSV_TRIGGERS) else value


def utc_iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def local_iso(ms: int, tz: str = DISPLAY_TIMEZONE.key) -> str:
    return datetime.fromtimestamp(ms / 1000, ZoneInfo(tz)).isoformat(timespec="milliseconds")


def csv_row(entry: AuditEntry, tz: str = DISPLAY_TIMEZONE.key) -> list[str]:
    cells = [entry.entry_id or "", utc_iso(entry.ts), local_iso(entry.ts, tz), entry.actor,
             _text(entry.role), _text(entry.action), entry.target, entry.origin, _text(entry.outcome),
             entry.reason, details_json(entry.details).decode()]
    return [neutralise_cell(str(cell)) for cell in cells]


def to_csv(entries: Iterable[AuditEntry], tz: str = DISPLAY_TIMEZONE.key) -> str:
    """RFC 4180 CSV (CRLF line ends), a header then one row per entry, columns in CSV_COLUMNS order.
    `ts` is given twice: UTC, and the local time supervisors and inquiries read."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        writer.writerow(csv_row(entry, tz))
    return out.getvalue()


def _text(value) -> str:
    return str(getattr(value, "value", value))
