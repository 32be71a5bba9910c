"""What the auditor's page asks the server, as plain functions: handlers.py only adds the request.

- the form: `parse_form` turns what was typed (local times, a code, an id,
  the choices) into an AuditFilter, or refuses with every problem in words a
  person can act on (`FilterRefused.problems`); nothing typed can crash it;
- the list: `show_entries` reads the newest matching entries and records the
  viewing itself (`audit_viewed`) before anything is shown: no entry, no list;
- the rows: `table_rows` turns entries into the texts the table shows (local
  time and age, a refused marker, `key=value` details);
- the file: `export_file` is store.audit.export_csv (which records its own
  `export` entry) packaged for dcc.Download.

The filter the list was shown with travels through the browser (a dcc.Store)
to the export; `applied_json` / `filter_from_applied` write and re-check it,
so a forged store gets the same checks as the form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable
from zoneinfo import ZoneInfo

import orjson
import redis

from ....domain.audit import (
    ACTION_MEANING, ANONYMOUS_ACTOR, SYSTEM_ACTOR, TARGET_ID, Action, AuditEntry, AuditError, AuditFilter,
    AuditOutcome, AuditRole, DetailValue, is_pseudonymous, make_entry,
)
from ....keys import Keys
from ....store import audit as audit_store

LIST_LIMIT = 500  # rows on screen; more means the filter is too wide to read anyway
ANY = "any"
HOUR_MS = 3_600_000
# Quick windows: (button label, length). Each ends now.
QUICK_WINDOWS: dict[str, tuple[str, int]] = {
    "hour": ("Last hour", HOUR_MS),
    "day": ("Last 24 h", 24 * HOUR_MS),
    "week": ("Last 7 days", 7 * 24 * HOUR_MS),
}
DEFAULT_QUICK = "day"
AGE_SHOWN_BELOW_MS = 48 * HOUR_MS  # older rows: the date says enough
SKEW_SHOWN_ABOVE_MS = 60_000  # when the action's time and the trail's differ more, show both
MAX_TYPED = 200  # longer than any code or id: the rest is not looked at
_LOCAL_DATETIME = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})[T ](\d{1,2}):(\d{2})(?::(\d{2}))?\s*$")
_INPUT_FORMAT = "%Y-%m-%dT%H:%M"  # what a datetime-local input holds

ACTOR_HINT = ("type a code exactly as recorded, e.g. SUP-1, AUD-2, ADM-1, OP-3, a call sign such as BAC-12, "
              "or system; the trail holds no names, so a name finds nothing")
TARGET_HINT = ("an id as recorded (assignment, alert, zone, call sign, site): at most 80 letters, digits "
               "and _ : . @ -")


class FilterRefused(ValueError):
    """A filter the page cannot apply; `problems` says what to fix, one sentence per field."""

    def __init__(self, problems: list[str]):
        super().__init__(" ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Viewer:
    """Who looks, for the trail: a pseudonymous code, the role acted in, the client's address."""

    user_id: str
    role: str
    origin: str = "internal"


@dataclass(frozen=True)
class Listing:
    entries: list[AuditEntry]
    truncated: bool  # more matched than were shown
    audit_id: str | None  # the audit_viewed entry this listing recorded


@dataclass(frozen=True)
class AuditRow:
    """One entry as the table shows it: every value a plain string, rendered as text."""

    entry_id: str
    time_text: str
    age_text: str
    recorded_note: str  # "recorded …" when the trail's clock differs from the action's time
    actor: str
    role: str
    action: str
    action_meaning: str
    target: str
    outcome: str
    refused: bool
    origin: str
    reason: str
    details_text: str
    classes: tuple[str, ...] = field(default=())


# ----------------------------------------------------------------------------- the form


def parse_form(from_text: object, to_text: object, actor: object, role: object, actions: object, target: object,
               outcome: object, *, tz: str, now_ms: int) -> AuditFilter:
    """The form as a filter, or FilterRefused listing every problem. An empty From means "from the oldest
    entry kept", an empty To "until now" (resolved to `now_ms`, so an export later covers the same window)."""
    problems: list[str] = []
    from_ms = _local_or_problem(from_text, "From", tz, problems)
    to_ms = _local_or_problem(to_text, "To", tz, problems)
    if to_ms is None and not problems:
        to_ms = now_ms + 1  # the window is half-open: this instant included
    if from_ms is not None and to_ms is not None and from_ms >= to_ms:
        until = local_minute(to_ms, tz) if _text(to_text) else "now"
        problems.append(f"From ({local_minute(from_ms, tz)}) is not before To ({until}): swap them, or change one.")
    actors = _actor_or_problem(actor, problems)
    targets = _target_or_problem(target, problems)
    roles = _choice_or_problem(role, AuditRole, "Role", problems)
    outcomes = _choice_or_problem(outcome, AuditOutcome, "Outcome", problems)
    chosen_actions = _actions_or_problem(actions, problems)
    if problems:
        raise FilterRefused(problems)
    return AuditFilter.of(from_ms=from_ms, to_ms=to_ms, actor=actors, role=roles, action=chosen_actions,
                          target=targets, outcome=outcomes)


def parse_local(value: object, tz: str) -> int | None:
    """"2026-03-14T21:00" (a datetime-local input; a space and seconds are accepted too) on the site's
    clock -> ms; None for an empty value; ValueError with a reason otherwise."""
    text = _text(value)
    if not text:
        return None
    found = _LOCAL_DATETIME.match(text)
    if not found:
        raise ValueError("give a date and a time, e.g. 2026-03-14 21:00, or leave it empty")
    year, month, day, hour, minute, second = (int(part) if part else 0 for part in found.groups())
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=ZoneInfo(tz))
    except ValueError:
        raise ValueError(f"{text[:20]} is not a real date and time") from None
    return max(0, int(moment.timestamp() * 1000))  # before 1970: from the start


def quick_from(choice: str, *, now_ms: int, tz: str) -> str:
    """The From a quick window puts in the form (To is left empty: now), to the minute."""
    return input_value(now_ms - QUICK_WINDOWS[choice][1], tz)


def input_value(ms: int, tz: str) -> str:
    return _local(ms, tz).strftime(_INPUT_FORMAT)


def _local_or_problem(value: object, name: str, tz: str, problems: list[str]) -> int | None:
    try:
        return parse_local(value, tz)
    except ValueError as error:
        problems.append(f"{name}: {error}.")
        return None


def _actor_or_problem(value: object, problems: list[str]) -> list[str]:
    text = _text(value)
    if not text:
        return []
    if text.lower() in (SYSTEM_ACTOR, ANONYMOUS_ACTOR):
        return [text.lower()]
    code = text.upper()
    if len(code) > MAX_TYPED or not is_pseudonymous(code):
        problems.append(f"Actor: {ACTOR_HINT}.")  # the typed text is not repeated: it may be a name
        return []
    return [code]


def _target_or_problem(value: object, problems: list[str]) -> list[str]:
    text = _text(value)
    if not text:
        return []
    if len(text) > MAX_TYPED or not re.match(TARGET_ID, text):
        problems.append(f"Target: {TARGET_HINT}.")
        return []
    return [text]


def _choice_or_problem(value: object, kind, name: str, problems: list[str]) -> list[str]:
    if value in (None, "", ANY):
        return []
    if not isinstance(value, str) or value not in {member.value for member in kind}:
        problems.append(f"{name}: choose one from the list.")
        return []
    return [value]


def _actions_or_problem(value: object, problems: list[str]) -> list[str]:
    chosen = [] if value in (None, "") else [value] if isinstance(value, str) else value
    if not isinstance(chosen, (list, tuple)) or any(not isinstance(a, str) or a not in ACTION_VALUES for a in chosen):
        problems.append("Actions: choose them from the list.")
        return []
    return list(chosen)


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


ACTION_VALUES = frozenset(action.value for action in Action)


# ----------------------------------------------------------------------------- the applied filter


def applied_json(audit_filter: AuditFilter) -> dict:
    """The filter a list was shown with, for the page's store (the export takes it from there)."""
    return {"from_ms": audit_filter.from_ms, "to_ms": audit_filter.to_ms,
            **{name: sorted(str(getattr(v, "value", v)) for v in getattr(audit_filter, name))
               for name in ("actors", "roles", "actions", "targets", "outcomes")}}


def filter_from_applied(data: object) -> AuditFilter:
    """The store back as a filter, checked like the form (it came through the browser)."""
    if not isinstance(data, dict):
        raise FilterRefused(["Show a list first: the export takes the list's filter."])
    bounds = [data.get("from_ms"), data.get("to_ms")]
    lists = {name: data.get(name) or [] for name in ("actors", "roles", "actions", "targets", "outcomes")}
    if (any(b is not None and (not isinstance(b, int) or isinstance(b, bool) or not 0 <= b < 2**53) for b in bounds)
            or any(not isinstance(v, list) or not all(isinstance(i, str) for i in v) for v in lists.values())
            or not all(a in (SYSTEM_ACTOR, ANONYMOUS_ACTOR) or is_pseudonymous(a) for a in lists["actors"])
            or not all(re.match(TARGET_ID, t) for t in lists["targets"])):
        raise FilterRefused(["The list's filter could not be read back: press Show, then Export."])
    try:
        return AuditFilter.of(from_ms=bounds[0], to_ms=bounds[1], actor=lists["actors"], role=lists["roles"],
                              action=lists["actions"], target=lists["targets"], outcome=lists["outcomes"])
    except AuditError:
        raise FilterRefused(["The list's filter could not be read back: press Show, then Export."]) from None


# ----------------------------------------------------------------------------- reading and recording


def show_entries(client: redis.Redis, keys: Keys, audit_filter: AuditFilter, viewer: Viewer, *, now_ms: int,
                 limit: int = LIST_LIMIT) -> Listing:
    """The newest `limit` entries the filter admits, and one `audit_viewed` entry saying who looked at
    what; the entry is written before the list is returned (a listing nobody recorded is not shown)."""
    found = audit_store.read(client, keys, filters=audit_filter, limit=limit + 1, newest_first=True)
    entries, truncated = found[:limit], len(found) > limit
    audit_id = audit_store.record(client, keys, viewed_entry(viewer, audit_filter, len(entries), truncated, now_ms))
    return Listing(entries, truncated, audit_id)


def viewed_entry(viewer: Viewer, audit_filter: AuditFilter, rows: int, truncated: bool, now_ms: int) -> AuditEntry:
    return make_entry(ts=now_ms, actor=viewer.user_id, role=viewer.role, action=Action.AUDIT_VIEWED, target="audit",
                      origin=viewer.origin, details={**audit_filter.describe(), "rows": rows, "truncated": truncated})


def export_file(client: redis.Redis, keys: Keys, audit_filter: AuditFilter, viewer: Viewer, *, site: str, tz: str,
                now_ms: int, limit: int = audit_store.DEFAULT_EXPORT_LIMIT) -> tuple[dict, str]:
    """The filtered trail as a CSV file for dcc.Download, and a line for the page saying what is in it.
    store.audit.export_csv records the `export` entry before the file exists."""
    export = audit_store.export_csv(client, keys, actor=viewer.user_id, role=viewer.role, origin=viewer.origin,
                                    filters=audit_filter, limit=limit, tz=tz, now_ms=now_ms)
    filename = export_filename(site, now_ms, tz)
    what = f"{export.rows:,} entr{'y' if export.rows == 1 else 'ies'}"
    message = (f"{filename}: the oldest {what} only — more matched; narrow the filter to export the rest."
               if export.truncated else f"{filename}: {what}.")
    return {"content": export.text, "filename": filename, "type": "text/csv", "base64": False}, message


def export_filename(site: str, now_ms: int, tz: str) -> str:
    return f"audit-{site}-{_local(now_ms, tz):%Y-%m-%d}.csv"


# ----------------------------------------------------------------------------- rows and texts


def table_rows(entries: Iterable[AuditEntry], *, now_ms: int, tz: str) -> list[AuditRow]:
    return [table_row(entry, now_ms=now_ms, tz=tz) for entry in entries]


def table_row(entry: AuditEntry, *, now_ms: int, tz: str) -> AuditRow:
    refused = _value(entry.outcome) == AuditOutcome.REFUSED.value  # a stored entry may not validate any more
    action = _value(entry.action)
    recorded = entry.recorded_ms
    skewed = abs(recorded - entry.ts) > SKEW_SHOWN_ABOVE_MS
    return AuditRow(
        entry_id=entry.entry_id or "", time_text=local_second(entry.ts, tz), age_text=age_text(now_ms - entry.ts),
        recorded_note=f"recorded {local_second(recorded, tz)}" if skewed else "",
        actor=str(entry.actor), role=_value(entry.role), action=action,
        action_meaning=_meaning(action), target=str(entry.target), outcome=outcome_text(refused), refused=refused,
        origin=str(entry.origin), reason=str(entry.reason), details_text=details_text(entry.details, tz),
        classes=("au-row", "au-row-refused") if refused else ("au-row",))


def outcome_text(refused: bool) -> str:
    """A word and a shape, not only a colour: the refused mark reads on any screen and in greyscale."""
    return "✖ refused" if refused else "✓ ok"


def age_text(age_ms: int) -> str:
    """"42 s ago", "12 min ago", "3 h ago" below two days; "" otherwise (or for a time in the future)."""
    if age_ms < -5_000 or age_ms >= AGE_SHOWN_BELOW_MS:
        return ""
    seconds = max(0, age_ms) // 1000
    if seconds < 60:
        return f"{seconds} s ago"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"


def details_text(details: object, tz: str) -> str:
    """Compact `key=value` pairs in key order; instants (`*_ms` keys) in local time."""
    if not isinstance(details, dict):
        return str(details)
    return " · ".join(f"{key}={_detail_value(key, details[key], tz)}" for key in sorted(details, key=str))


def _detail_value(key: object, value: DetailValue, tz: str) -> str:
    if isinstance(value, bool) or value is None:
        return orjson.dumps(value).decode()
    if isinstance(value, int) and str(key).endswith("_ms") and 10**12 <= value < 10**14:
        return local_second(value, tz)
    if isinstance(value, (int, float, str)):
        return str(value)
    return orjson.dumps(value, default=str).decode()


def summary_text(shown: int, truncated: bool, audit_filter: AuditFilter, *, tz: str, open_end: bool) -> str:
    start = local_minute(audit_filter.from_ms, tz) if audit_filter.from_ms is not None else "the oldest entry kept"
    end = "now" if open_end or audit_filter.to_ms is None else local_minute(audit_filter.to_ms, tz)
    window = f"{start} → {end} ({tz})"
    if truncated:
        return f"Showing the newest {shown} of more — narrow the filter. {window}"
    if shown == 0:
        return f"No entry matches this filter. {window}"
    return f"{shown} entr{'y' if shown == 1 else 'ies'}, newest first. {window}"


def local_second(ms: int, tz: str) -> str:
    return f"{_local(ms, tz):%Y-%m-%d %H:%M:%S}"


def local_minute(ms: int, tz: str) -> str:
    return f"{_local(ms, tz):%Y-%m-%d %H:%M}"


def _local(ms: int, tz: str) -> datetime:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).astimezone(ZoneInfo(tz))


def _value(member: object) -> str:
    return str(getattr(member, "value", member))


def _meaning(action: str) -> str:
    try:
        return ACTION_MEANING.get(Action(action), "")
    except ValueError:
        return ""
