"""How long each Redis key keeps what it holds: the one table, built from Keys and Settings.

French law keeps police drone recordings at most 7 days. Everything that
records positions or what happened (input streams, the live stream, dead
letters, assignment and alert histories, and the picture itself) is therefore
kept `settings.retention_ms`; the audit trail, which holds no positions and
answers inquiries, `settings.audit_retention_ms`. Keys that hold only what is
current (open assignments, authorised zones, counters) have no age limit: what
they hold leaves them when it closes, and the history of it is in a stream that
is trimmed. Open alerts are current state too, but they show a position, and an
alert may stay open longer than the period (an assignment nobody acknowledges):
their positions age out like every other recording, the alert itself stays.

Every key of dispatch/keys.py has exactly one rule here (`unruled_keys` says
which do not, and a test keeps that empty), so a key added without deciding its
retention fails the tests. Consumer-group metadata is not a key: it lives
inside the input streams and goes with their entries.

Streams are trimmed by stream id (`XTRIM MINID`), which is the time Redis
received the entry. Picture units are dropped when their latest report's `ts`
is older than the cutoff. Pure: the store (store/retention.py) does the work.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Iterable, Mapping

from ..keys import Keys
from ..settings import Settings
from .live import ID_FIELDS
from .numbers import COUNTER_TTL_MS
from .tablet import ACTION_RECORD_TTL_MS

DAY_MS = 86_400_000


class Treatment(str, Enum):
    TRIM_STREAM = "trim_stream"  # XTRIM MINID <now - period>
    DROP_OLD_UNITS = "drop_old_units"  # picture hash: units whose latest ts is older than the cutoff go
    WITH_UNITS = "with_units"  # side key of a picture hash (its :ts hash, the GEO set): cleaned with it
    WHILE_OPEN = "while_open"  # current state: an item leaves when it closes
    POSITIONS_AGE_OUT = "positions_age_out"  # current state kept while open; positions older than the period go
    UNTIL_DELETED = "until_deleted"  # reference data, changed by an administrator, audited
    COUNTERS = "counters"  # numbers only
    EXPIRES = "expires"  # a family of keys under a prefix, each removed by Redis at its own TTL


@dataclass(frozen=True)
class RetentionRule:
    name: str  # the Keys attribute, also the key's name in the job's audit details
    key: str
    treatment: Treatment
    period_ms: int | None  # None: no age limit (see treatment)
    why: str
    part_of: str | None = None  # WITH_UNITS: the picture hash it goes with
    ts_key: str | None = None  # DROP_OLD_UNITS: the side hash unit -> ts
    geo_key: str | None = None  # DROP_OLD_UNITS: the GEO set its units may be in
    live_field: str | None = None  # DROP_OLD_UNITS: the live delta field of its units


def retention_table(keys: Keys, settings: Settings) -> tuple[RetentionRule, ...]:
    """Every key of the site and what happens to it over time."""
    recordings, audit = settings.retention_ms, settings.audit_retention_ms

    def stream(name: str, why: str, period: int = recordings) -> RetentionRule:
        return RetentionRule(name, getattr(keys, name), Treatment.TRIM_STREAM, period, why)

    def picture(name: str, holds: str, geo: str | None = None) -> list[RetentionRule]:
        main = RetentionRule(name, getattr(keys, name), Treatment.DROP_OLD_UNITS, recordings, holds,
                             ts_key=getattr(keys, f"{name}_ts"), geo_key=geo and getattr(keys, geo), live_field=name)
        sides = [RetentionRule(f"{name}_ts", main.ts_key, Treatment.WITH_UNITS, recordings,
                               f"ts of each unit in `{name}`, kept for the newer-wins check", part_of=name)]
        if geo:
            sides.append(RetentionRule(geo, main.geo_key, Treatment.WITH_UNITS, recordings,
                                       "positions of available patrols", part_of=name))
        return [main, *sides]

    return (
        stream("in_telemetry", "raw drone positions as received"),
        stream("in_sightings", "raw sightings as received (position, note)"),
        stream("in_patrols", "raw patrol positions as received"),
        stream("live", "deltas of the picture (positions)"),
        stream("deadletter", "rejected entries with their original fields (positions, notes)"),
        stream("assignments", "every assignment event: who was sent where, when"),
        stream("alerts", "every alert event, with drone and sighting positions"),
        stream("sighting_endings", "how each sighting ended, with the sighting as it was (position, note)"),
        *picture("drones", "latest telemetry of each drone (position, battery)"),
        *picture("patrols", "latest report of each patrol (position, status)", geo="patrols_available"),
        *picture("sightings", "open sightings (position, category, note)"),
        stream("audit", "who did what, when, from where: answers inquiries; no positions", audit),
        stream("zones_log", "every version of every authorised zone, and when it was stored: public acts, no "
               "personal data; replay and the audit trail refer to them", audit),
        RetentionRule("assignments_open", keys.assignments_open, Treatment.WHILE_OPEN, None,
                      "assignments not yet cleared or cancelled (ids and states, no positions)"),
        RetentionRule("patrol_assignment", keys.patrol_assignment, Treatment.WHILE_OPEN, None,
                      "which patrol holds which open assignment"),
        RetentionRule("alerts_open", keys.alerts_open, Treatment.POSITIONS_AGE_OUT, recordings,
                      "alerts whose condition still holds, with the unit's position when raised; resolved when "
                      "their unit leaves the picture, and an open one loses its position once that is older"),
        RetentionRule("zones", keys.zones, Treatment.UNTIL_DELETED, None,
                      "authorised flight zones (prefectoral decrees): public acts, no personal data"),
        RetentionRule("stats", keys.stats, Treatment.COUNTERS, None, "accepted and rejected counts per kind"),
        RetentionRule("accounts", keys.accounts, Treatment.UNTIL_DELETED, None,
                      "staff accounts: pseudonymous code, role, scrypt hash of the password (never the password)"),
        RetentionRule("patrol_codes", keys.patrol_codes, Treatment.WHILE_OPEN, int(settings.patrol_code_hours * 3_600_000),
                      "each patrol's current sign-in code, hashed; removed when used or replaced, "
                      "an expired one when the next code is issued"),
        RetentionRule("sessions", keys.sessions, Treatment.EXPIRES, int(settings.session_hours * 3_600_000),
                      "signed-in sessions: who, role, expiry, CSRF token (keyed by the SHA-256 of the session id)"),
        RetentionRule("user_sessions", keys.user_sessions, Treatment.EXPIRES, int(settings.session_hours * 3_600_000),
                      "each user's open sessions (SHA-256 digests only), so deleting an account or resetting "
                      "its password ends them; expires with the user's last session"),
        RetentionRule("signin_failures", keys.signin_failures, Treatment.EXPIRES,
                      int(settings.signin_lock_minutes * 60_000 + settings.signin_forget_hours * 3_600_000),
                      "failed sign-in counts per id (and per known device of it, a random nonce) and per "
                      "client address, to slow guessing; no password, no name"),
        RetentionRule("patrol_actions", keys.patrol_actions, Treatment.EXPIRES, ACTION_RECORD_TTL_MS,
                      "the answer to each tablet action, so a resend is not applied twice (ids, states; "
                      "no positions)"),
        RetentionRule("sighting_numbers", keys.sighting_numbers, Treatment.EXPIRES, COUNTER_TTL_MS,
                      "the last incident number (S-0142) given on each local day: one integer per day, "
                      "no positions"),
        # Bridges (issue 13).
        RetentionRule("bridge_stats", keys.bridge_stats, Treatment.COUNTERS, None,
                      "each bridge's counts: messages in, telemetry out, dropped by reason; no positions"),
    )


def site_keys(keys: Keys) -> dict[str, str]:
    """Every key Keys names, by attribute (dict-valued properties such as `inputs` only regroup others)."""
    found = {}
    for name, member in vars(type(keys)).items():
        if isinstance(member, property):
            value = getattr(keys, name)
            if isinstance(value, str):
                found[name] = value
    return found


def unruled_keys(keys: Keys, rules: Iterable[RetentionRule]) -> set[str]:
    """Keys of the site that no rule covers: should always be empty."""
    covered = {rule.key for rule in rules}
    return {name for name, key in site_keys(keys).items() if key not in covered}


def cutoff_ms(now_ms: int, period_ms: int) -> int:
    """The oldest time still kept: anything strictly before it goes. Never before the epoch."""
    return max(0, now_ms - period_ms)


def expired_units(ts_by_unit: Mapping[str, int], cutoff: int) -> list[str]:
    """Units whose latest ts is strictly before the cutoff, in id order."""
    return sorted(unit for unit, ts in ts_by_unit.items() if ts < cutoff)


def tombstone(rule: RetentionRule, unit_id: str) -> dict:
    """What the live stream says about a unit that left the picture (clients remove `closed` units)."""
    return {ID_FIELDS[rule.live_field or rule.name]: unit_id, "closed": True}


def run_details(counts: Mapping[str, int], *, exact: bool, cutoff: int, audit_cutoff: int) -> dict[str, int | str]:
    """The retention job's audit details: entries or units removed per key name, and how it trimmed."""
    return {**dict(sorted(counts.items())), "mode": "exact" if exact else "approximate",
            "cutoff_ms": cutoff, "audit_cutoff_ms": audit_cutoff}


def describe_period(period_ms: int | None) -> str:
    if period_ms is None:
        return "no age limit"
    days = period_ms / DAY_MS
    if days >= 1 and days == int(days):
        return f"{int(days)} day{'s' if days != 1 else ''}"
    return f"{period_ms / 3_600_000:g} h"


_HOW = {
    Treatment.TRIM_STREAM: "stream trimmed by age (XTRIM MINID)",
    Treatment.DROP_OLD_UNITS: "units whose latest report is older are removed",
    Treatment.WITH_UNITS: "cleaned with `{part_of}`",
    Treatment.WHILE_OPEN: "kept while open; removed on closing",
    Treatment.POSITIONS_AGE_OUT: "kept while open; positions older than this are removed",
    Treatment.UNTIL_DELETED: "until deleted (audited)",
    Treatment.COUNTERS: "kept (numbers only)",
    Treatment.EXPIRES: "one key per item under this prefix, expired by Redis (TTL)",
}


def markdown_table(rules: Iterable[RetentionRule], site_tag: str | None = None) -> str:
    """The table as Markdown, for the README's Data protection section. `site_tag` replaces each key's
    site (e.g. "{site}") so the table reads the same for every deployment."""
    lines = ["| key | holds | kept | how |", "|---|---|---|---|"]
    for rule in rules:
        key = rule.key if site_tag is None else site_tag + rule.key[rule.key.index("}") + 1:]
        how = _HOW[rule.treatment].format(part_of=rule.part_of)
        lines.append(f"| `{key}` | {rule.why} | {describe_period(rule.period_ms)} | {how} |")
    return "\n".join(lines) + "\n"
