"""Every setting of the product, read once from the environment (12-factor).

One frozen object, built by `Settings.from_env()`; nothing here does I/O at import.
The README's "Configuration" table lists each variable; keep the two in step.

Parsing and bounds are pydantic's (a pydantic dataclass); this module only names the
variables (one rule, `env_name`) and words pydantic's errors as one readable sentence naming
the variable ("DISPATCH_WEB_PORT must be at most 65535, got '65536'"). Why not
pydantic-settings: its sources read `os.environ` itself, while the launcher, the tests and the
benchmarks build settings from an explicit mapping and hand them to child processes
(`as_env`), and a blank variable must mean "the default" (except DISPATCH_TILE_URL, where
blank means "no base map"): twenty lines here, no new dependency.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import fields
from pathlib import Path
from typing import Annotated, Literal, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic.dataclasses import dataclass

SITE_PATTERN = r"^[a-z][a-z0-9-]{0,31}$"
_MAX_PORT = 65_535

ENVIRONMENTS = ("development", "production")
# Known to everyone who reads this file: fine on a laptop, refused in production.
DEVELOPMENT_SECRET_KEY = "development-only-secret-key-never-use-in-production"
MIN_SECRET_KEY_CHARS = 32

# sighting horizons
_HORIZON_CATEGORIES = ("vehicle", "lookout", "deal", "gathering", "other")  # models.SightingCategory values

# Blank means "the default" for every variable but these, where blank is a value of its own.
_BLANK_IS_A_VALUE = frozenset({"tile_url"})


class SettingsError(ValueError):
    """A variable of the environment has a value the product cannot use."""


def _whole(raw: object) -> object:
    """Whole numbers as people write them ("8000.0", "1e6"), exactly beyond 2**53 ("9007199254740993")."""
    if not isinstance(raw, str):
        return raw
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        value = float(raw)
    except ValueError:
        raise ValueError("must be a number") from None
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    if value != int(value):
        raise ValueError("must be a whole number")
    return int(value)


def _site(name: str) -> str:
    if not re.match(SITE_PATTERN, name):
        raise ValueError("must be lowercase letters, digits or '-', starting with a letter (at most 32)")
    return name


def _timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("must be an IANA time zone such as Europe/Paris") from None
    return name


Whole = Annotated[int, BeforeValidator(_whole)]
Port = Annotated[Whole, Field(ge=1, le=_MAX_PORT)]
Flag = Annotated[bool, Field(description="1/0, true/false, yes/no, on/off")]
Site = Annotated[str, AfterValidator(_site)]
TimeZone = Annotated[str, AfterValidator(_timezone)]
Environment = Annotated[Literal["development", "production"], BeforeValidator(lambda raw: str(raw).lower())]
Horizon = Annotated[float, Field(ge=0.1, le=24 * 60)]


@dataclass(frozen=True, config=ConfigDict(allow_inf_nan=False, str_strip_whitespace=True))
class Settings:
    """Typed view of the environment. Field comments name the variable and why the default.

    A pydantic dataclass: pydantic checks every bound (`Field(ge=..., le=...)`) and type, and
    `dataclasses.replace` still works (it validates too). Each variable is named once, by the
    rule in `env_name` (DISPATCH_ + the field's name in capitals; REDIS_URL for redis_url).
    """

    # REDIS_URL: unset means "start a private embedded Redis" (demo and development).
    redis_url: str | None = None
    # DISPATCH_SITE: one deployment per site; every Redis key carries it as a cluster hash tag.
    site: Site = "rennes"
    # DISPATCH_DATA_DIR: where the embedded Redis keeps its files.
    data_dir: Path = Path("var")
    # DISPATCH_EMBEDDED_REDIS_PORT: port of the embedded Redis (not 6379, often taken).
    embedded_redis_port: Port = 6380
    # DISPATCH_RETENTION_DAYS: the legal maximum for recordings is 7 days.
    retention_days: Annotated[float, Field(ge=0.001)] = 7.0
    # DISPATCH_AUDIT_RETENTION_DAYS: the audit trail outlives recordings, to answer inquiries.
    audit_retention_days: Annotated[float, Field(ge=0.001)] = 365.0
    # DISPATCH_RETENTION_INTERVAL_S: how often the retention job runs (a limit may be overrun by this much).
    retention_interval_s: Annotated[float, Field(ge=1, le=86_400)] = 600.0
    # DISPATCH_LIVE_MAXLEN: bound of the live delta stream (approximate MAXLEN).
    live_maxlen: Annotated[Whole, Field(ge=100)] = 100_000
    # DISPATCH_INGEST_BATCH: entries read per stream per XREADGROUP call.
    ingest_batch: Annotated[Whole, Field(ge=1)] = 500
    # DISPATCH_INGEST_BLOCK_MS: how long one read waits for new entries.
    ingest_block_ms: Annotated[Whole, Field(ge=1)] = 1_000
    # issue 15 (ingest) ---------------------------------------------------------------
    # DISPATCH_INGEST_OVERLAP: on a backlog, plan the next batch while Redis runs this one's step.
    ingest_overlap: Flag = True
    # ------------------------------------------------------------------------------------
    # DISPATCH_CLAIM_IDLE_MS: an entry pending this long on a consumer is taken over.
    claim_idle_ms: Annotated[Whole, Field(ge=1)] = 30_000
    # DISPATCH_MAX_DELIVERIES: an entry delivered this often is dead-lettered as poison.
    max_deliveries: Annotated[Whole, Field(ge=1)] = 5
    # DISPATCH_MAX_FUTURE_S / DISPATCH_MAX_PAST_S: accepted clock skew of a message's ts
    # against the time Redis received it. Past is generous: bridges buffer through link loss.
    max_future_s: Annotated[float, Field(ge=0)] = 30.0
    max_past_s: Annotated[float, Field(ge=0)] = 6 * 3600.0
    # DISPATCH_WEB_HOST / DISPATCH_WEB_PORT: the Dash app.
    web_host: str = "127.0.0.1"
    web_port: Port = 8050
    # Serving. The demo serves the app through a private nginx listening on WEB_HOST:WEB_PORT,
    # which buffers whole requests before gunicorn sees them (slow clients cannot hold its threads).
    # DISPATCH_APP_PORT: gunicorn's own port behind the proxy, on 127.0.0.1 only (the demo picks a free
    # one if it is taken).
    app_port: Port = 8051
    # issue 14 (replay-workers)
    # DISPATCH_WEB_WORKERS: gunicorn worker processes (Procfile, demo), 8 threads each. Replay windows are
    # shared through files under DISPATCH_DATA_DIR (web/replay_cache.py), so any worker serves any request.
    # 2 for the 2 cores of a small host: each worker may hold two loaded shifts (~150 MiB each) in memory.
    web_workers: Annotated[Whole, Field(ge=1, le=64)] = 2
    # DISPATCH_REPLAY_CACHE_TTL_MIN: a loaded replay window is kept this long at most (and never past its
    # positions' retention); DISPATCH_REPLAY_CACHE_MB: the cache's files on the host at most (an 8-h shift
    # is ~240 MB on disk), least recently used evicted first.
    replay_cache_ttl_min: Annotated[float, Field(ge=0.1, le=1_440)] = 30.0
    replay_cache_mb: Annotated[Whole, Field(ge=1)] = 2_048
    # issue 15 (replay): DISPATCH_REPLAY_CHUNK: entries per XRANGE when a replay window loads (and about the
    # positions per arrival-time slice); DISPATCH_REPLAY_PREFIX_S: while it loads, the page is handed what is
    # read so far at the window's start, then at most this often (and at most ~10 % of the load's time).
    replay_chunk: Annotated[Whole, Field(ge=10, le=1_000_000)] = 10_000
    replay_prefix_s: Annotated[float, Field(ge=0, le=600)] = 1.5
    # DISPATCH_BEHIND_PROXY: trust the proxy's X-Forwarded-For/-Proto/-Host (one hop). Off by default:
    # with it on and the app reachable directly, any client could choose its audited address.
    behind_proxy: Flag = False
    # DISPATCH_NGINX: the nginx binary; empty = `nginx` on PATH, else /usr/sbin/nginx (Debian's).
    nginx: str = ""
    # DISPATCH_GATEWAY_PORT: the websockets push gateway.
    gateway_port: Port = 8765
    # DISPATCH_GATEWAY_HOST: bind address of the gateway; empty = same as the web app.
    gateway_host: str = ""
    # DISPATCH_GATEWAY_TICK_MS: the gateway's round of heartbeats (and a fallback flush); since issue 15 deltas
    # leave as soon as they are read (below), not on this tick.
    gateway_tick_ms: Annotated[Whole, Field(ge=10, le=5_000)] = 150
    # issue 15 (push): DISPATCH_GATEWAY_MAX_MESSAGES_PER_S: a delta leaves as soon as its entry is read, unless
    # that client had one less than 1/this ago; then the entries coalesce into its next allowed delta.
    gateway_max_messages_per_s: Annotated[Whole, Field(ge=1, le=1_000)] = 20
    # DISPATCH_ALLOWED_ORIGINS: pages allowed to open the live socket, comma-separated `scheme://host[:port]`,
    # compared exactly (scheme, host and port). Empty: the web app's own address, from
    # DISPATCH_WEB_HOST / DISPATCH_WEB_PORT (a loopback or wildcard bind: 127.0.0.1, localhost and [::1]).
    allowed_origins: str = ""
    # DISPATCH_GATEWAY_QUEUE_MESSAGES / _BYTES: a client further behind gets a fresh snapshot instead.
    gateway_queue_messages: Annotated[Whole, Field(ge=1)] = 64
    gateway_queue_bytes: Annotated[Whole, Field(ge=1_024)] = 1_048_576
    # DISPATCH_TILE_URL: police networks run their own tile server; empty means no base map.
    tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    # DISPATCH_TIMEZONE: supervisors read local time; decrees end at local midnight.
    timezone: TimeZone = "Europe/Paris"
    # DISPATCH_WATCH_INTERVAL_MS: how often the alert watcher looks (1 s keeps the user's flow).
    watch_interval_ms: Annotated[Whole, Field(ge=10, le=60_000)] = 1_000
    # DISPATCH_ALERT_LINK_LOST_S: drones report >= 1 Hz; MAVLink calls a link lost after 4-5 missed heartbeats.
    alert_link_lost_s: Annotated[float, Field(ge=0.001)] = 5.0
    # DISPATCH_ALERT_LOW_BATTERY_PCT: below this a drone must head home soon.
    alert_low_battery_pct: Annotated[float, Field(ge=0, le=100)] = 25.0
    # DISPATCH_ALERT_PATROL_STALE_S: patrol terminals report every 2-60 s; 120 s is two missed parked reports.
    alert_patrol_stale_s: Annotated[float, Field(ge=0.001)] = 120.0
    # DISPATCH_ALERT_SIGHTING_UNASSIGNED_S / ..._URGENT_...: nobody sent yet (priority 1 sooner).
    alert_sighting_unassigned_s: Annotated[float, Field(ge=0.001)] = 60.0
    alert_urgent_sighting_unassigned_s: Annotated[float, Field(ge=0.001)] = 30.0
    # DISPATCH_ALERT_UNACKNOWLEDGED_S: the tablet shows an assignment at once; 30 s unacknowledged = not seen.
    alert_unacknowledged_s: Annotated[float, Field(ge=0.001)] = 30.0
    # alerts escalation
    # DISPATCH_ALERT_URGENT_SIGHTING_CRITICAL_S: a priority-1 sighting still without a patrol after this
    # long escalates from warning to critical (pinned on the wall screen). Default 180 s.
    alert_urgent_sighting_critical_s: Annotated[float, Field(ge=0.001)] = 180.0
    # DISPATCH_SIM_SEED / DISPATCH_SIM_PATROLS / DISPATCH_SIM_DRONES: the demo scenario.
    sim_seed: Annotated[Whole, Field(ge=0)] = 42
    sim_patrols: Annotated[Whole, Field(ge=1)] = 24
    sim_drones: Annotated[Whole, Field(ge=1)] = 3
    # DISPATCH_ENV: production refuses the development secret key and the demo accounts.
    env: Environment = "development"
    # DISPATCH_SECRET_KEY: signs the sign-in forms' tokens; never shown (repr=False).
    secret_key: str = Field(default=DEVELOPMENT_SECRET_KEY, repr=False)
    # DISPATCH_SESSION_HOURS: a session lasts one shift, then its holder signs in again.
    session_hours: Annotated[float, Field(ge=0.01, le=24 * 7)] = 12.0
    # DISPATCH_PATROL_CODE_HOURS: a patrol's sign-in code is valid for one shift (and used once).
    patrol_code_hours: Annotated[float, Field(ge=0.01, le=48)] = 12.0
    # DISPATCH_SIGNIN_MAX_FAILURES / DISPATCH_SIGNIN_LOCK_MINUTES: failed sign-ins per account before each
    # further attempt waits (1 s, doubling), and the longest that wait gets (nothing is locked:
    # domain/auth.py Throttle).
    signin_max_failures: Annotated[Whole, Field(ge=1, le=1_000)] = 5
    signin_lock_minutes: Annotated[float, Field(ge=0.01, le=24 * 60)] = 15.0
    # sign-in throttling
    # DISPATCH_SIGNIN_FORGET_HOURS: an account's failed sign-ins are forgotten this long after the last one (24).
    signin_forget_hours: Annotated[float, Field(ge=0.01, le=24 * 30)] = 24.0
    # DISPATCH_SIGNIN_ADDRESS_MAX_FAILURES / DISPATCH_SIGNIN_ADDRESS_WINDOW_MINUTES: failed sign-ins from one
    # client address (an IPv6 /64) per window (100 per 15 min): high enough for a dispatch room behind one
    # NAT address, low enough to bound password spraying from one address.
    signin_address_max_failures: Annotated[Whole, Field(ge=1, le=1_000_000)] = 100
    signin_address_window_minutes: Annotated[float, Field(ge=0.01, le=24 * 60)] = 15.0
    # DISPATCH_KNOWN_DEVICE_DAYS: how long a browser stays a known device of an account it signed in to (90).
    known_device_days: Annotated[float, Field(ge=0.01, le=400)] = 90.0
    # gateway storm
    # DISPATCH_GATEWAY_REDIS_CONNECTIONS: the gateway's pool for session lookups; a handshake waits for a free
    # connection rather than being refused, and a lookup takes well under a millisecond: 32 serve a storm of 1,000.
    gateway_redis_connections: Annotated[Whole, Field(ge=1, le=10_000)] = 32
    # ingest
    # DISPATCH_CONSUMER_IDLE_REMOVE_S: a consumer of the ingest group idle this long with nothing
    # pending (its entries taken over) is a crashed worker: removed from the group. 10 min: far above
    # a live worker's idle (one BLOCK, 1 s); never less than DISPATCH_CLAIM_IDLE_MS in effect.
    consumer_idle_remove_s: Annotated[float, Field(ge=0.1)] = 600.0
    # sighting horizons
    # DISPATCH_HORIZON_<CATEGORY>_MIN: an unassigned sighting of that category older than this leaves the queue
    # as "expired, nobody sent" (assigned ones never expire). A drone sighting is an observation of a moment:
    # a vehicle moves on within minutes (5), a lookout changes corner (10), other (10), a deal moves within
    # the quarter of an hour (20), a gathering lasts (30).
    horizon_vehicle_min: Horizon = 5.0
    horizon_lookout_min: Horizon = 10.0
    horizon_deal_min: Horizon = 20.0
    horizon_gathering_min: Horizon = 30.0
    horizon_other_min: Horizon = 10.0

    @model_validator(mode="after")
    def _production_has_its_own_key(self) -> "Settings":
        if self.env == "production":
            if self.secret_key in ("", DEVELOPMENT_SECRET_KEY):
                raise ValueError("must be set in production (and not to the development value): "
                                 "e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))'")
            if len(self.secret_key) < MIN_SECRET_KEY_CHARS:
                raise ValueError(f"must have at least {MIN_SECRET_KEY_CHARS} characters in production, "
                                 f"got {len(self.secret_key)}")
        return self

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        """Settings from `env` (default: the process environment); SettingsError names what is wrong."""
        env = os.environ if env is None else env
        given = {}
        for setting in fields(cls):
            raw = env.get(env_name(setting.name))
            if raw is not None and (raw.strip() or setting.name in _BLANK_IS_A_VALUE):
                given[setting.name] = raw.strip()
        try:
            return cls(**given)
        except ValidationError as error:
            raise SettingsError(_explain(error, given)) from None

    # sighting horizons
    @property
    def sighting_horizons_ms(self) -> dict[str, int]:
        """Category -> horizon in ms, for domain/sightings.py."""
        return {c: round(getattr(self, f"horizon_{c}_min") * 60_000) for c in _HORIZON_CATEGORIES}

    @property
    def retention_ms(self) -> int:
        return int(self.retention_days * 86_400_000)

    @property
    def audit_retention_ms(self) -> int:
        return int(self.audit_retention_days * 86_400_000)

    @property
    def production(self) -> bool:
        return self.env == "production"

    def as_env(self) -> dict[str, str]:
        """The environment that reproduces these settings in a child process."""
        return {env_name(setting.name): str(getattr(self, setting.name))
                for setting in fields(self) if getattr(self, setting.name) is not None}


def env_name(setting: str) -> str:
    """The environment variable of a setting: REDIS_URL, else DISPATCH_ and the name in capitals."""
    return "REDIS_URL" if setting == "redis_url" else f"DISPATCH_{setting.upper()}"


_BOUNDS = {"greater_than_equal": ("at least", "ge"), "less_than_equal": ("at most", "le")}
_KINDS = {"float_parsing": "must be a number", "float_type": "must be a number",
          "finite_number": "must be a finite number", "int_parsing": "must be a whole number",
          "bool_parsing": "must be 1 or 0 (true/false, yes/no, on/off)",
          "literal_error": "must be development or production"}


def _explain(error: ValidationError, given: Mapping[str, str]) -> str:
    """pydantic's first error as one sentence: the variable, what it must be, what it got."""
    first = error.errors()[0]
    name = str(first["loc"][0]) if first["loc"] else ""
    if not name:  # the whole-object check (production's key)
        return f"DISPATCH_SECRET_KEY {_reason(first)}"
    if first["type"] in _BOUNDS:
        words, key = _BOUNDS[first["type"]]
        what = f"must be {words} {first['ctx'][key]:g}"
    else:
        what = _KINDS.get(first["type"]) or _reason(first)
    raw = given.get(name)
    return f"{env_name(name)} {what}, got {raw!r}" if raw is not None else f"{env_name(name)} {what}"


def _reason(detail: Mapping) -> str:
    message = str(detail.get("msg", ""))
    return message.removeprefix("Value error, ")
