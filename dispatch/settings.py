"""Every setting of the product, read once from the environment (12-factor).

One frozen object, built by `Settings.from_env()`; nothing here does I/O at import.
The README's "Configuration" table lists each variable; keep the two in step.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_SITE_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,31}$")


class SettingsError(ValueError):
    """A variable of the environment has a value the product cannot use."""


def _text(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip()
    return value or default


def _number(
    env: Mapping[str, str], name: str, default: float, *, minimum: float, maximum: float | None = None
) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if not math.isfinite(value):  # float() accepts "nan" and "inf"
        raise SettingsError(f"{name} must be a finite number, got {raw!r}")
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum:g}, got {raw!r}")
    if maximum is not None and value > maximum:
        raise SettingsError(f"{name} must be at most {maximum:g}, got {raw!r}")
    return value


def _integer(
    env: Mapping[str, str], name: str, default: int, *, minimum: int, maximum: int | None = None
) -> int:
    value = _number(env, name, default, minimum=minimum, maximum=maximum)
    if value != int(value):
        raise SettingsError(f"{name} must be a whole number, got {env.get(name)!r}")
    try:
        return int(env.get(name, "").strip())  # exact: a float loses digits beyond 2**53
    except ValueError:
        return int(value)  # unset, or written as "1e6" or "8000.0"


_MAX_PORT = 65_535

ENVIRONMENTS = ("development", "production")
# Known to everyone who reads this file: fine on a laptop, refused in production.
DEVELOPMENT_SECRET_KEY = "development-only-secret-key-never-use-in-production"
MIN_SECRET_KEY_CHARS = 32


def _environment(env: Mapping[str, str]) -> str:
    name = _text(env, "DISPATCH_ENV", "development").lower()
    if name not in ENVIRONMENTS:
        raise SettingsError(f"DISPATCH_ENV must be development or production, got {name!r}")
    return name


def _secret_key(env: Mapping[str, str], environment: str) -> str:
    key = env.get("DISPATCH_SECRET_KEY", "").strip()
    if environment != "production":
        return key or DEVELOPMENT_SECRET_KEY
    if not key or key == DEVELOPMENT_SECRET_KEY:
        raise SettingsError("DISPATCH_SECRET_KEY must be set in production (and not to the development "
                            "value): e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))'")
    if len(key) < MIN_SECRET_KEY_CHARS:
        raise SettingsError(f"DISPATCH_SECRET_KEY must have at least {MIN_SECRET_KEY_CHARS} characters "
                            f"in production, got {len(key)}")
    return key


# serving
def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be 1 or 0 (true/false, yes/no, on/off), got {env.get(name)!r}")


def _timezone(env: Mapping[str, str]) -> str:
    name = _text(env, "DISPATCH_TIMEZONE", "Europe/Paris")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"DISPATCH_TIMEZONE must be an IANA time zone such as Europe/Paris, got {name!r}") from None
    return name


# sighting horizons
_HORIZON_CATEGORIES = ("vehicle", "lookout", "deal", "gathering", "other")  # models.SightingCategory values


@dataclass(frozen=True)
class Settings:
    """Typed view of the environment. Field comments name the variable and why the default."""

    # REDIS_URL: unset means "start a private embedded Redis" (demo and development).
    redis_url: str | None = None
    # DISPATCH_SITE: one deployment per site; every Redis key carries it as a cluster hash tag.
    site: str = "rennes"
    # DISPATCH_DATA_DIR: where the embedded Redis keeps its files.
    data_dir: Path = Path("var")
    # DISPATCH_EMBEDDED_REDIS_PORT: port of the embedded Redis (not 6379, often taken).
    embedded_redis_port: int = 6380
    # DISPATCH_RETENTION_DAYS: the legal maximum for recordings is 7 days.
    retention_days: float = 7.0
    # DISPATCH_AUDIT_RETENTION_DAYS: the audit trail outlives recordings, to answer inquiries.
    audit_retention_days: float = 365.0
    # DISPATCH_RETENTION_INTERVAL_S: how often the retention job runs (a limit may be overrun by this much).
    retention_interval_s: float = 600.0
    # DISPATCH_LIVE_MAXLEN: bound of the live delta stream (approximate MAXLEN).
    live_maxlen: int = 100_000
    # DISPATCH_INGEST_BATCH: entries read per stream per XREADGROUP call.
    ingest_batch: int = 500
    # DISPATCH_INGEST_BLOCK_MS: how long one read waits for new entries.
    ingest_block_ms: int = 1_000
    # DISPATCH_CLAIM_IDLE_MS: an entry pending this long on a consumer is taken over.
    claim_idle_ms: int = 30_000
    # DISPATCH_MAX_DELIVERIES: an entry delivered this often is dead-lettered as poison.
    max_deliveries: int = 5
    # DISPATCH_MAX_FUTURE_S / DISPATCH_MAX_PAST_S: accepted clock skew of a message's ts
    # against the time Redis received it. Past is generous: bridges buffer through link loss.
    max_future_s: float = 30.0
    max_past_s: float = 6 * 3600.0
    # DISPATCH_WEB_HOST / DISPATCH_WEB_PORT: the Dash app.
    web_host: str = "127.0.0.1"
    web_port: int = 8050
    # Serving. The demo serves the app through a private nginx listening on WEB_HOST:WEB_PORT,
    # which buffers whole requests before gunicorn sees them (slow clients cannot hold its threads).
    # DISPATCH_APP_PORT: gunicorn's own port behind the proxy, on 127.0.0.1 only (the demo picks a free
    # one if it is taken).
    app_port: int = 8051
    # DISPATCH_BEHIND_PROXY: trust the proxy's X-Forwarded-For/-Proto/-Host (one hop). Off by default:
    # with it on and the app reachable directly, any client could choose its audited address.
    behind_proxy: bool = False
    # DISPATCH_NGINX: the nginx binary; empty = `nginx` on PATH, else /usr/sbin/nginx (Debian's).
    nginx: str = ""
    # DISPATCH_GATEWAY_PORT: the websockets push gateway.
    gateway_port: int = 8765
    # DISPATCH_GATEWAY_HOST: bind address of the gateway; empty = same as the web app.
    gateway_host: str = ""
    # DISPATCH_GATEWAY_TICK_MS: deltas are coalesced and pushed once per tick (0.1 s feels instantaneous).
    gateway_tick_ms: int = 150
    # DISPATCH_ALLOWED_ORIGINS: pages allowed to open the live socket, comma-separated `scheme://host[:port]`,
    # compared exactly (scheme, host and port). Empty: the web app's own address, from
    # DISPATCH_WEB_HOST / DISPATCH_WEB_PORT (a loopback or wildcard bind: 127.0.0.1, localhost and [::1]).
    allowed_origins: str = ""
    # DISPATCH_GATEWAY_QUEUE_MESSAGES / _BYTES: a client further behind gets a fresh snapshot instead.
    gateway_queue_messages: int = 64
    gateway_queue_bytes: int = 1_048_576
    # DISPATCH_TILE_URL: police networks run their own tile server; empty means no base map.
    tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    # DISPATCH_TIMEZONE: supervisors read local time; decrees end at local midnight.
    timezone: str = "Europe/Paris"
    # DISPATCH_WATCH_INTERVAL_MS: how often the alert watcher looks (1 s keeps the user's flow).
    watch_interval_ms: int = 1_000
    # DISPATCH_ALERT_LINK_LOST_S: drones report >= 1 Hz; MAVLink calls a link lost after 4-5 missed heartbeats.
    alert_link_lost_s: float = 5.0
    # DISPATCH_ALERT_LOW_BATTERY_PCT: below this a drone must head home soon.
    alert_low_battery_pct: float = 25.0
    # DISPATCH_ALERT_PATROL_STALE_S: patrol terminals report every 2-60 s; 120 s is two missed parked reports.
    alert_patrol_stale_s: float = 120.0
    # DISPATCH_ALERT_SIGHTING_UNASSIGNED_S / ..._URGENT_...: nobody sent yet (priority 1 sooner).
    alert_sighting_unassigned_s: float = 60.0
    alert_urgent_sighting_unassigned_s: float = 30.0
    # DISPATCH_ALERT_UNACKNOWLEDGED_S: the tablet shows an assignment at once; 30 s unacknowledged = not seen.
    alert_unacknowledged_s: float = 30.0
    # alerts escalation
    # DISPATCH_ALERT_URGENT_SIGHTING_CRITICAL_S: a priority-1 sighting still without a patrol after this
    # long escalates from warning to critical (pinned on the wall screen). Default 180 s.
    alert_urgent_sighting_critical_s: float = 180.0
    # DISPATCH_SIM_SEED / DISPATCH_SIM_PATROLS / DISPATCH_SIM_DRONES: the demo scenario.
    sim_seed: int = 42
    sim_patrols: int = 24
    sim_drones: int = 3
    # DISPATCH_ENV: production refuses the development secret key and the demo accounts.
    env: str = "development"
    # DISPATCH_SECRET_KEY: signs the sign-in forms' tokens; never shown (repr=False).
    secret_key: str = field(default=DEVELOPMENT_SECRET_KEY, repr=False)
    # DISPATCH_SESSION_HOURS: a session lasts one shift, then its holder signs in again.
    session_hours: float = 12.0
    # DISPATCH_PATROL_CODE_HOURS: a patrol's sign-in code is valid for one shift (and used once).
    patrol_code_hours: float = 12.0
    # DISPATCH_SIGNIN_MAX_FAILURES / DISPATCH_SIGNIN_LOCK_MINUTES: failed sign-ins per account before each
    # further attempt waits (1 s, doubling), and the longest that wait gets (nothing is locked:
    # domain/auth.py Throttle).
    signin_max_failures: int = 5
    signin_lock_minutes: float = 15.0
    # sign-in throttling
    # DISPATCH_SIGNIN_FORGET_HOURS: an account's failed sign-ins are forgotten this long after the last one (24).
    signin_forget_hours: float = 24.0
    # DISPATCH_SIGNIN_ADDRESS_MAX_FAILURES / DISPATCH_SIGNIN_ADDRESS_WINDOW_MINUTES: failed sign-ins from one
    # client address (an IPv6 /64) per window (100 per 15 min): high enough for a dispatch room behind one
    # NAT address, low enough to bound password spraying from one address.
    signin_address_max_failures: int = 100
    signin_address_window_minutes: float = 15.0
    # DISPATCH_KNOWN_DEVICE_DAYS: how long a browser stays a known device of an account it signed in to (90).
    known_device_days: float = 90.0
    # gateway storm
    # DISPATCH_GATEWAY_REDIS_CONNECTIONS: the gateway's pool for session lookups; a handshake waits for a free
    # connection rather than being refused, and a lookup takes well under a millisecond: 32 serve a storm of 1,000.
    gateway_redis_connections: int = 32
    # ingest
    # DISPATCH_CONSUMER_IDLE_REMOVE_S: a consumer of the ingest group idle this long with nothing
    # pending (its entries taken over) is a crashed worker: removed from the group. 10 min: far above
    # a live worker's idle (one BLOCK, 1 s); never less than DISPATCH_CLAIM_IDLE_MS in effect.
    consumer_idle_remove_s: float = 600.0
    # sighting horizons
    # DISPATCH_HORIZON_<CATEGORY>_MIN: an unassigned sighting of that category older than this leaves the queue
    # as "expired, nobody sent" (assigned ones never expire). A drone sighting is an observation of a moment:
    # a vehicle moves on within minutes (5), a lookout changes corner (10), other (10), a deal moves within
    # the quarter of an hour (20), a gathering lasts (30).
    horizon_vehicle_min: float = 5.0
    horizon_lookout_min: float = 10.0
    horizon_deal_min: float = 20.0
    horizon_gathering_min: float = 30.0
    horizon_other_min: float = 10.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        site = _text(env, "DISPATCH_SITE", cls.site)
        if not _SITE_PATTERN.match(site):
            raise SettingsError(
                f"DISPATCH_SITE must be lowercase letters, digits or '-', "
                f"starting with a letter (at most 32), got {site!r}"
            )
        environment = _environment(env)
        return cls(
            redis_url=env.get("REDIS_URL", "").strip() or None,
            site=site,
            data_dir=Path(_text(env, "DISPATCH_DATA_DIR", str(cls.data_dir))),
            embedded_redis_port=_integer(
                env, "DISPATCH_EMBEDDED_REDIS_PORT", cls.embedded_redis_port, minimum=1, maximum=_MAX_PORT
            ),
            retention_days=_number(env, "DISPATCH_RETENTION_DAYS", cls.retention_days, minimum=0.001),
            audit_retention_days=_number(
                env, "DISPATCH_AUDIT_RETENTION_DAYS", cls.audit_retention_days, minimum=0.001
            ),
            retention_interval_s=_number(env, "DISPATCH_RETENTION_INTERVAL_S", cls.retention_interval_s,
                                         minimum=1, maximum=86_400),
            live_maxlen=_integer(env, "DISPATCH_LIVE_MAXLEN", cls.live_maxlen, minimum=100),
            ingest_batch=_integer(env, "DISPATCH_INGEST_BATCH", cls.ingest_batch, minimum=1),
            ingest_block_ms=_integer(env, "DISPATCH_INGEST_BLOCK_MS", cls.ingest_block_ms, minimum=1),
            claim_idle_ms=_integer(env, "DISPATCH_CLAIM_IDLE_MS", cls.claim_idle_ms, minimum=1),
            max_deliveries=_integer(env, "DISPATCH_MAX_DELIVERIES", cls.max_deliveries, minimum=1),
            max_future_s=_number(env, "DISPATCH_MAX_FUTURE_S", cls.max_future_s, minimum=0),
            max_past_s=_number(env, "DISPATCH_MAX_PAST_S", cls.max_past_s, minimum=0),
            web_host=_text(env, "DISPATCH_WEB_HOST", cls.web_host),
            web_port=_integer(env, "DISPATCH_WEB_PORT", cls.web_port, minimum=1, maximum=_MAX_PORT),
            # serving
            app_port=_integer(env, "DISPATCH_APP_PORT", cls.app_port, minimum=1, maximum=_MAX_PORT),
            behind_proxy=_flag(env, "DISPATCH_BEHIND_PROXY", cls.behind_proxy),
            nginx=env.get("DISPATCH_NGINX", "").strip(),
            gateway_port=_integer(env, "DISPATCH_GATEWAY_PORT", cls.gateway_port, minimum=1, maximum=_MAX_PORT),
            gateway_host=env.get("DISPATCH_GATEWAY_HOST", "").strip(),
            gateway_tick_ms=_integer(env, "DISPATCH_GATEWAY_TICK_MS", cls.gateway_tick_ms, minimum=10, maximum=5_000),
            allowed_origins=_text(env, "DISPATCH_ALLOWED_ORIGINS", cls.allowed_origins),
            gateway_queue_messages=_integer(env, "DISPATCH_GATEWAY_QUEUE_MESSAGES", cls.gateway_queue_messages,
                                            minimum=1),
            gateway_queue_bytes=_integer(env, "DISPATCH_GATEWAY_QUEUE_BYTES", cls.gateway_queue_bytes,
                                         minimum=1_024),
            tile_url=env.get("DISPATCH_TILE_URL", cls.tile_url).strip(),
            timezone=_timezone(env),
            watch_interval_ms=_integer(env, "DISPATCH_WATCH_INTERVAL_MS", cls.watch_interval_ms,
                                       minimum=10, maximum=60_000),
            alert_link_lost_s=_number(env, "DISPATCH_ALERT_LINK_LOST_S", cls.alert_link_lost_s, minimum=0.001),
            alert_low_battery_pct=_number(env, "DISPATCH_ALERT_LOW_BATTERY_PCT", cls.alert_low_battery_pct,
                                          minimum=0, maximum=100),
            alert_patrol_stale_s=_number(env, "DISPATCH_ALERT_PATROL_STALE_S", cls.alert_patrol_stale_s,
                                         minimum=0.001),
            alert_sighting_unassigned_s=_number(env, "DISPATCH_ALERT_SIGHTING_UNASSIGNED_S",
                                                cls.alert_sighting_unassigned_s, minimum=0.001),
            alert_urgent_sighting_unassigned_s=_number(env, "DISPATCH_ALERT_URGENT_SIGHTING_UNASSIGNED_S",
                                                       cls.alert_urgent_sighting_unassigned_s, minimum=0.001),
            alert_unacknowledged_s=_number(env, "DISPATCH_ALERT_UNACKNOWLEDGED_S", cls.alert_unacknowledged_s,
                                           minimum=0.001),
            # alerts escalation
            alert_urgent_sighting_critical_s=_number(env, "DISPATCH_ALERT_URGENT_SIGHTING_CRITICAL_S",
                                                     cls.alert_urgent_sighting_critical_s, minimum=0.001),
            sim_seed=_integer(env, "DISPATCH_SIM_SEED", cls.sim_seed, minimum=0),
            sim_patrols=_integer(env, "DISPATCH_SIM_PATROLS", cls.sim_patrols, minimum=1),
            sim_drones=_integer(env, "DISPATCH_SIM_DRONES", cls.sim_drones, minimum=1),
            env=environment,
            secret_key=_secret_key(env, environment),
            session_hours=_number(env, "DISPATCH_SESSION_HOURS", cls.session_hours, minimum=0.01, maximum=24 * 7),
            patrol_code_hours=_number(env, "DISPATCH_PATROL_CODE_HOURS", cls.patrol_code_hours, minimum=0.01,
                                      maximum=48),
            signin_max_failures=_integer(env, "DISPATCH_SIGNIN_MAX_FAILURES", cls.signin_max_failures, minimum=1,
                                         maximum=1_000),
            signin_lock_minutes=_number(env, "DISPATCH_SIGNIN_LOCK_MINUTES", cls.signin_lock_minutes,
                                        minimum=0.01, maximum=24 * 60),
            # sign-in throttling
            signin_forget_hours=_number(env, "DISPATCH_SIGNIN_FORGET_HOURS", cls.signin_forget_hours, minimum=0.01,
                                        maximum=24 * 30),
            signin_address_max_failures=_integer(env, "DISPATCH_SIGNIN_ADDRESS_MAX_FAILURES",
                                                 cls.signin_address_max_failures, minimum=1, maximum=1_000_000),
            signin_address_window_minutes=_number(env, "DISPATCH_SIGNIN_ADDRESS_WINDOW_MINUTES",
                                                  cls.signin_address_window_minutes, minimum=0.01, maximum=24 * 60),
            known_device_days=_number(env, "DISPATCH_KNOWN_DEVICE_DAYS", cls.known_device_days, minimum=0.01,
                                      maximum=400),
            # gateway storm
            gateway_redis_connections=_integer(env, "DISPATCH_GATEWAY_REDIS_CONNECTIONS",
                                               cls.gateway_redis_connections, minimum=1, maximum=10_000),
            # ingest
            consumer_idle_remove_s=_number(env, "DISPATCH_CONSUMER_IDLE_REMOVE_S", cls.consumer_idle_remove_s,
                                           minimum=0.1),
            # sighting horizons
            **{f"horizon_{category}_min": _number(env, f"DISPATCH_HORIZON_{category.upper()}_MIN",
                                                  getattr(cls, f"horizon_{category}_min"), minimum=0.1,
                                                  maximum=24 * 60)
               for category in _HORIZON_CATEGORIES},
        )

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
        names = {
            "redis_url": "REDIS_URL",
            "site": "DISPATCH_SITE",
            "data_dir": "DISPATCH_DATA_DIR",
            "embedded_redis_port": "DISPATCH_EMBEDDED_REDIS_PORT",
            "retention_days": "DISPATCH_RETENTION_DAYS",
            "audit_retention_days": "DISPATCH_AUDIT_RETENTION_DAYS",
            "retention_interval_s": "DISPATCH_RETENTION_INTERVAL_S",
            "live_maxlen": "DISPATCH_LIVE_MAXLEN",
            "ingest_batch": "DISPATCH_INGEST_BATCH",
            "ingest_block_ms": "DISPATCH_INGEST_BLOCK_MS",
            "claim_idle_ms": "DISPATCH_CLAIM_IDLE_MS",
            "max_deliveries": "DISPATCH_MAX_DELIVERIES",
            "max_future_s": "DISPATCH_MAX_FUTURE_S",
            "max_past_s": "DISPATCH_MAX_PAST_S",
            "web_host": "DISPATCH_WEB_HOST",
            "web_port": "DISPATCH_WEB_PORT",
            # serving
            "app_port": "DISPATCH_APP_PORT",
            "behind_proxy": "DISPATCH_BEHIND_PROXY",
            "nginx": "DISPATCH_NGINX",
            "gateway_port": "DISPATCH_GATEWAY_PORT",
            "gateway_host": "DISPATCH_GATEWAY_HOST",
            "gateway_tick_ms": "DISPATCH_GATEWAY_TICK_MS",
            "allowed_origins": "DISPATCH_ALLOWED_ORIGINS",
            "gateway_queue_messages": "DISPATCH_GATEWAY_QUEUE_MESSAGES",
            "gateway_queue_bytes": "DISPATCH_GATEWAY_QUEUE_BYTES",
            "tile_url": "DISPATCH_TILE_URL",
            "timezone": "DISPATCH_TIMEZONE",
            "watch_interval_ms": "DISPATCH_WATCH_INTERVAL_MS",
            "alert_link_lost_s": "DISPATCH_ALERT_LINK_LOST_S",
            "alert_low_battery_pct": "DISPATCH_ALERT_LOW_BATTERY_PCT",
            "alert_patrol_stale_s": "DISPATCH_ALERT_PATROL_STALE_S",
            "alert_sighting_unassigned_s": "DISPATCH_ALERT_SIGHTING_UNASSIGNED_S",
            "alert_urgent_sighting_unassigned_s": "DISPATCH_ALERT_URGENT_SIGHTING_UNASSIGNED_S",
            "alert_unacknowledged_s": "DISPATCH_ALERT_UNACKNOWLEDGED_S",
            "alert_urgent_sighting_critical_s": "DISPATCH_ALERT_URGENT_SIGHTING_CRITICAL_S",  # alerts escalation
            "sim_seed": "DISPATCH_SIM_SEED",
            "sim_patrols": "DISPATCH_SIM_PATROLS",
            "sim_drones": "DISPATCH_SIM_DRONES",
            "env": "DISPATCH_ENV",
            "secret_key": "DISPATCH_SECRET_KEY",
            "session_hours": "DISPATCH_SESSION_HOURS",
            "patrol_code_hours": "DISPATCH_PATROL_CODE_HOURS",
            "signin_max_failures": "DISPATCH_SIGNIN_MAX_FAILURES",
            "signin_lock_minutes": "DISPATCH_SIGNIN_LOCK_MINUTES",
            # sign-in throttling
            "signin_forget_hours": "DISPATCH_SIGNIN_FORGET_HOURS",
            "signin_address_max_failures": "DISPATCH_SIGNIN_ADDRESS_MAX_FAILURES",
            "signin_address_window_minutes": "DISPATCH_SIGNIN_ADDRESS_WINDOW_MINUTES",
            "known_device_days": "DISPATCH_KNOWN_DEVICE_DAYS",
            # gateway storm
            "gateway_redis_connections": "DISPATCH_GATEWAY_REDIS_CONNECTIONS",
            # ingest
            "consumer_idle_remove_s": "DISPATCH_CONSUMER_IDLE_REMOVE_S",
            # sighting horizons
            **{f"horizon_{c}_min": f"DISPATCH_HORIZON_{c.upper()}_MIN" for c in _HORIZON_CATEGORIES},
        }
        assert set(names) == {f.name for f in fields(self)}, "as_env is missing a setting"
        return {
            var: str(getattr(self, attr))
            for attr, var in names.items()
            if getattr(self, attr) is not None
        }
