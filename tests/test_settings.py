"""Settings.from_env: defaults, parsing of every variable, clear errors, round trip."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.settings import Settings, SettingsError


def test_defaults_when_the_environment_is_empty():
    s = Settings.from_env({})
    assert s == Settings()
    assert s.redis_url is None
    assert s.site == "rennes"
    assert s.data_dir == Path("var")
    assert s.embedded_redis_port == 6380
    assert s.retention_days == 7.0
    assert s.audit_retention_days == 365.0
    assert s.live_maxlen == 100_000
    assert s.ingest_batch == 500
    assert s.ingest_block_ms == 1_000
    assert s.claim_idle_ms == 30_000
    assert s.max_deliveries == 5
    assert s.max_future_s == 30.0
    assert s.max_past_s == 21_600.0
    assert (s.web_host, s.web_port, s.gateway_port) == ("127.0.0.1", 8050, 8765)
    assert s.tile_url == "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    assert (s.sim_seed, s.sim_patrols, s.sim_drones) == (42, 24, 3)


def test_blank_values_mean_default():
    blank = {var: "   " for var in Settings().as_env() if var != "DISPATCH_TILE_URL"}
    assert Settings.from_env(blank) == Settings()


def test_from_env_without_argument_reads_the_process_environment(monkeypatch):
    monkeypatch.setenv("DISPATCH_SITE", "lyon")
    monkeypatch.setenv("DISPATCH_WEB_PORT", "9000")
    s = Settings.from_env()
    assert (s.site, s.web_port) == ("lyon", 9000)


PARSED = [
    # (variable, raw, attribute, expected)
    ("REDIS_URL", "redis://10.0.0.5:6379/0", "redis_url", "redis://10.0.0.5:6379/0"),
    ("REDIS_URL", "  rediss://user@redis.local:6380  ", "redis_url", "rediss://user@redis.local:6380"),
    ("REDIS_URL", "", "redis_url", None),
    ("DISPATCH_SITE", "marseille", "site", "marseille"),
    ("DISPATCH_SITE", "paris-15", "site", "paris-15"),
    ("DISPATCH_SITE", " lille ", "site", "lille"),
    ("DISPATCH_SITE", "a" * 32, "site", "a" * 32),
    ("DISPATCH_DATA_DIR", "/srv/dispatch", "data_dir", Path("/srv/dispatch")),
    ("DISPATCH_EMBEDDED_REDIS_PORT", "7000", "embedded_redis_port", 7000),
    ("DISPATCH_EMBEDDED_REDIS_PORT", "65535", "embedded_redis_port", 65535),
    ("DISPATCH_RETENTION_DAYS", "3", "retention_days", 3.0),
    ("DISPATCH_RETENTION_DAYS", "0.5", "retention_days", 0.5),
    ("DISPATCH_RETENTION_DAYS", "0.001", "retention_days", 0.001),
    ("DISPATCH_AUDIT_RETENTION_DAYS", "1825", "audit_retention_days", 1825.0),
    ("DISPATCH_LIVE_MAXLEN", "100", "live_maxlen", 100),
    ("DISPATCH_LIVE_MAXLEN", "1e6", "live_maxlen", 1_000_000),
    ("DISPATCH_INGEST_BATCH", "1", "ingest_batch", 1),
    ("DISPATCH_INGEST_BATCH", "2000", "ingest_batch", 2000),
    ("DISPATCH_INGEST_BLOCK_MS", "250", "ingest_block_ms", 250),
    ("DISPATCH_CLAIM_IDLE_MS", "60000", "claim_idle_ms", 60_000),
    ("DISPATCH_MAX_DELIVERIES", "3", "max_deliveries", 3),
    ("DISPATCH_MAX_FUTURE_S", "0", "max_future_s", 0.0),
    ("DISPATCH_MAX_FUTURE_S", "2.5", "max_future_s", 2.5),
    ("DISPATCH_MAX_PAST_S", "86400", "max_past_s", 86_400.0),
    ("DISPATCH_WEB_HOST", "0.0.0.0", "web_host", "0.0.0.0"),
    ("DISPATCH_WEB_PORT", "80", "web_port", 80),
    ("DISPATCH_WEB_PORT", "8000.0", "web_port", 8000),
    ("DISPATCH_GATEWAY_PORT", "9001", "gateway_port", 9001),
    # serving
    ("DISPATCH_APP_PORT", "9051", "app_port", 9051),
    # issue 14 (replay-workers)
    ("DISPATCH_WEB_WORKERS", "3", "web_workers", 3),
    ("DISPATCH_REPLAY_CACHE_TTL_MIN", "5", "replay_cache_ttl_min", 5.0),
    ("DISPATCH_REPLAY_CACHE_MB", "512", "replay_cache_mb", 512),
    # issue 15 (replay)
    ("DISPATCH_REPLAY_CHUNK", "500", "replay_chunk", 500),
    ("DISPATCH_REPLAY_PREFIX_S", "0", "replay_prefix_s", 0.0),
    ("DISPATCH_BEHIND_PROXY", "1", "behind_proxy", True),
    ("DISPATCH_BEHIND_PROXY", " Yes ", "behind_proxy", True),
    ("DISPATCH_BEHIND_PROXY", "off", "behind_proxy", False),
    ("DISPATCH_NGINX", " /opt/nginx/sbin/nginx ", "nginx", "/opt/nginx/sbin/nginx"),
    ("DISPATCH_TILE_URL", "https://tiles.interieur.gouv.fr/{z}/{x}/{y}.png", "tile_url", "https://tiles.interieur.gouv.fr/{z}/{x}/{y}.png"),
    ("DISPATCH_TILE_URL", "", "tile_url", ""),
    ("DISPATCH_TILE_URL", "   ", "tile_url", ""),
    ("DISPATCH_SIM_SEED", "0", "sim_seed", 0),
    ("DISPATCH_SIM_SEED", "20260101", "sim_seed", 20_260_101),
    ("DISPATCH_SIM_SEED", "9007199254740993", "sim_seed", 2**53 + 1),  # exact beyond float precision
    ("DISPATCH_SIM_PATROLS", "200", "sim_patrols", 200),
    ("DISPATCH_SIM_DRONES", "1", "sim_drones", 1),
    ("DISPATCH_TIMEZONE", "Europe/Brussels", "timezone", "Europe/Brussels"),
    ("DISPATCH_RETENTION_INTERVAL_S", "30", "retention_interval_s", 30.0),
    ("DISPATCH_GATEWAY_HOST", "0.0.0.0", "gateway_host", "0.0.0.0"),
    ("DISPATCH_GATEWAY_TICK_MS", "100", "gateway_tick_ms", 100),
    ("DISPATCH_GATEWAY_MAX_MESSAGES_PER_S", "10", "gateway_max_messages_per_s", 10),  # issue 15 (push)
    ("DISPATCH_INGEST_OVERLAP", "0", "ingest_overlap", False),  # issue 15 (ingest)
    ("DISPATCH_INGEST_OVERLAP", "on", "ingest_overlap", True),  # issue 15 (ingest)
    ("DISPATCH_ALLOWED_ORIGINS", "https://dispatch.example", "allowed_origins", "https://dispatch.example"),
    ("DISPATCH_GATEWAY_QUEUE_MESSAGES", "16", "gateway_queue_messages", 16),
    ("DISPATCH_GATEWAY_QUEUE_BYTES", "65536", "gateway_queue_bytes", 65_536),
    ("DISPATCH_WATCH_INTERVAL_MS", "250", "watch_interval_ms", 250),
    ("DISPATCH_ALERT_LINK_LOST_S", "1.5", "alert_link_lost_s", 1.5),
    ("DISPATCH_ALERT_LOW_BATTERY_PCT", "30", "alert_low_battery_pct", 30.0),
    ("DISPATCH_ALERT_PATROL_STALE_S", "90", "alert_patrol_stale_s", 90.0),
    ("DISPATCH_ALERT_SIGHTING_UNASSIGNED_S", "45", "alert_sighting_unassigned_s", 45.0),
    ("DISPATCH_ALERT_URGENT_SIGHTING_UNASSIGNED_S", "20", "alert_urgent_sighting_unassigned_s", 20.0),
    ("DISPATCH_ALERT_UNACKNOWLEDGED_S", "40", "alert_unacknowledged_s", 40.0),
    # alerts escalation
    ("DISPATCH_ALERT_URGENT_SIGHTING_CRITICAL_S", "240", "alert_urgent_sighting_critical_s", 240.0),
    ("DISPATCH_ENV", "production", "env", "production"),
    ("DISPATCH_ENV", " Development ", "env", "development"),
    ("DISPATCH_SECRET_KEY", "s" * 40, "secret_key", "s" * 40),
    ("DISPATCH_SESSION_HOURS", "8", "session_hours", 8.0),
    ("DISPATCH_PATROL_CODE_HOURS", "10", "patrol_code_hours", 10.0),
    ("DISPATCH_SIGNIN_MAX_FAILURES", "3", "signin_max_failures", 3),
    ("DISPATCH_SIGNIN_LOCK_MINUTES", "30", "signin_lock_minutes", 30.0),
    # sign-in throttling
    ("DISPATCH_SIGNIN_FORGET_HOURS", "6", "signin_forget_hours", 6.0),
    ("DISPATCH_SIGNIN_ADDRESS_MAX_FAILURES", "250", "signin_address_max_failures", 250),
    ("DISPATCH_SIGNIN_ADDRESS_WINDOW_MINUTES", "5", "signin_address_window_minutes", 5.0),
    ("DISPATCH_KNOWN_DEVICE_DAYS", "30", "known_device_days", 30.0),
    # gateway storm
    ("DISPATCH_GATEWAY_REDIS_CONNECTIONS", "8", "gateway_redis_connections", 8),
    # ingest
    ("DISPATCH_CONSUMER_IDLE_REMOVE_S", "3600", "consumer_idle_remove_s", 3600.0),
    ("DISPATCH_CONSUMER_IDLE_REMOVE_S", "0.5", "consumer_idle_remove_s", 0.5),
    # sighting horizons
    ("DISPATCH_HORIZON_VEHICLE_MIN", "3", "horizon_vehicle_min", 3.0),
    ("DISPATCH_HORIZON_LOOKOUT_MIN", "12", "horizon_lookout_min", 12.0),
    ("DISPATCH_HORIZON_DEAL_MIN", "25", "horizon_deal_min", 25.0),
    ("DISPATCH_HORIZON_GATHERING_MIN", "45", "horizon_gathering_min", 45.0),
    ("DISPATCH_HORIZON_OTHER_MIN", "7.5", "horizon_other_min", 7.5),
]

PRODUCTION_KEY = "p" * 48
# Variables that cannot be set alone: production refuses to start without its own secret key.
COMPANIONS = {("DISPATCH_ENV", "production"): {"DISPATCH_SECRET_KEY": PRODUCTION_KEY}}


@pytest.mark.parametrize("var, raw, attr, expected", PARSED, ids=[f"{v}={r!r}" for v, r, _, _ in PARSED])
def test_each_variable_is_parsed(var, raw, attr, expected):
    companions = COMPANIONS.get((var, raw), {})
    s = Settings.from_env({**companions, var: raw})
    got = getattr(s, attr)
    assert got == expected and type(got) is type(expected)
    # Only that setting (and its companions) moved.
    reset = {attr: getattr(Settings(), attr), **({"secret_key": Settings().secret_key} if companions else {})}
    assert dataclasses.replace(s, **reset) == Settings()


def test_every_setting_has_a_parsed_row():
    assert {attr for _, _, attr, _ in PARSED} == {f.name for f in dataclasses.fields(Settings)}


ERRORS = [
    # (variable, raw, fragments of the message)
    ("DISPATCH_RETENTION_INTERVAL_S", "0.5", ("DISPATCH_RETENTION_INTERVAL_S", "at least 1")),
    ("DISPATCH_RETENTION_INTERVAL_S", "86401", ("DISPATCH_RETENTION_INTERVAL_S", "at most 86400")),
    ("DISPATCH_TIMEZONE", "Mars/Olympus", ("DISPATCH_TIMEZONE", "IANA", "'Mars/Olympus'")),
    ("DISPATCH_ALERT_LOW_BATTERY_PCT", "120", ("DISPATCH_ALERT_LOW_BATTERY_PCT", "at most 100")),
    ("DISPATCH_WATCH_INTERVAL_MS", "0", ("DISPATCH_WATCH_INTERVAL_MS", "at least 10")),
    ("DISPATCH_WEB_PORT", "http", ("DISPATCH_WEB_PORT", "must be a number", "'http'")),
    ("DISPATCH_WEB_PORT", "80a", ("DISPATCH_WEB_PORT", "must be a number", "'80a'")),
    ("DISPATCH_WEB_PORT", "0", ("DISPATCH_WEB_PORT", "at least 1", "'0'")),
    ("DISPATCH_WEB_PORT", "-8050", ("DISPATCH_WEB_PORT", "at least 1", "'-8050'")),
    ("DISPATCH_WEB_PORT", "80.5", ("DISPATCH_WEB_PORT", "whole number", "'80.5'")),
    ("DISPATCH_WEB_PORT", "65536", ("DISPATCH_WEB_PORT", "at most 65535", "'65536'")),
    ("DISPATCH_GATEWAY_PORT", "100000", ("DISPATCH_GATEWAY_PORT", "at most 65535")),
    ("DISPATCH_EMBEDDED_REDIS_PORT", "70000", ("DISPATCH_EMBEDDED_REDIS_PORT", "at most 65535")),
    # serving
    ("DISPATCH_APP_PORT", "0", ("DISPATCH_APP_PORT", "at least 1")),
    ("DISPATCH_BEHIND_PROXY", "maybe", ("DISPATCH_BEHIND_PROXY", "1 or 0", "'maybe'")),
    ("DISPATCH_WEB_PORT", "inf", ("DISPATCH_WEB_PORT", "finite", "'inf'")),
    ("DISPATCH_WEB_PORT", "nan", ("DISPATCH_WEB_PORT", "finite", "'nan'")),
    ("DISPATCH_RETENTION_DAYS", "seven", ("DISPATCH_RETENTION_DAYS", "must be a number", "'seven'")),
    ("DISPATCH_RETENTION_DAYS", "7d", ("DISPATCH_RETENTION_DAYS", "must be a number", "'7d'")),
    ("DISPATCH_RETENTION_DAYS", "0", ("DISPATCH_RETENTION_DAYS", "at least 0.001", "'0'")),
    ("DISPATCH_RETENTION_DAYS", "-7", ("DISPATCH_RETENTION_DAYS", "at least 0.001")),
    ("DISPATCH_RETENTION_DAYS", "nan", ("DISPATCH_RETENTION_DAYS", "finite", "'nan'")),
    ("DISPATCH_RETENTION_DAYS", "inf", ("DISPATCH_RETENTION_DAYS", "finite", "'inf'")),
    ("DISPATCH_AUDIT_RETENTION_DAYS", "0", ("DISPATCH_AUDIT_RETENTION_DAYS", "at least 0.001")),
    ("DISPATCH_LIVE_MAXLEN", "99", ("DISPATCH_LIVE_MAXLEN", "at least 100", "'99'")),
    ("DISPATCH_LIVE_MAXLEN", "1e999", ("DISPATCH_LIVE_MAXLEN", "finite")),
    ("DISPATCH_INGEST_BATCH", "0", ("DISPATCH_INGEST_BATCH", "at least 1")),
    ("DISPATCH_INGEST_BATCH", "1.5", ("DISPATCH_INGEST_BATCH", "whole number", "'1.5'")),
    ("DISPATCH_INGEST_BLOCK_MS", "0", ("DISPATCH_INGEST_BLOCK_MS", "at least 1")),
    ("DISPATCH_CLAIM_IDLE_MS", "30s", ("DISPATCH_CLAIM_IDLE_MS", "must be a number", "'30s'")),
    ("DISPATCH_MAX_DELIVERIES", "0", ("DISPATCH_MAX_DELIVERIES", "at least 1")),
    ("DISPATCH_MAX_FUTURE_S", "-1", ("DISPATCH_MAX_FUTURE_S", "at least 0", "'-1'")),
    ("DISPATCH_MAX_PAST_S", "-0.5", ("DISPATCH_MAX_PAST_S", "at least 0")),
    ("DISPATCH_MAX_PAST_S", "inf", ("DISPATCH_MAX_PAST_S", "finite")),
    ("DISPATCH_SIM_SEED", "-1", ("DISPATCH_SIM_SEED", "at least 0")),
    ("DISPATCH_SIM_PATROLS", "0", ("DISPATCH_SIM_PATROLS", "at least 1")),
    ("DISPATCH_SIM_DRONES", "two", ("DISPATCH_SIM_DRONES", "must be a number")),
    # Site names: they become a Redis Cluster hash tag, {site}, in every key.
    ("DISPATCH_SITE", "Rennes", ("DISPATCH_SITE", "lowercase", "'Rennes'")),
    ("DISPATCH_SITE", "15e", ("DISPATCH_SITE", "starting with a letter", "'15e'")),
    ("DISPATCH_SITE", "-rennes", ("DISPATCH_SITE", "'-rennes'")),
    ("DISPATCH_SITE", "saint_malo", ("DISPATCH_SITE", "'saint_malo'")),
    ("DISPATCH_SITE", "saint malo", ("DISPATCH_SITE", "'saint malo'")),
    ("DISPATCH_SITE", "{rennes}", ("DISPATCH_SITE", "'{rennes}'")),
    ("DISPATCH_SITE", "rennes}x", ("DISPATCH_SITE", "'rennes}x'")),
    ("DISPATCH_SITE", "rennes:in", ("DISPATCH_SITE", "'rennes:in'")),
    ("DISPATCH_SITE", "orléans", ("DISPATCH_SITE", "'orléans'")),
    ("DISPATCH_SITE", "a" * 33, ("DISPATCH_SITE", "at most 32")),
    ("DISPATCH_SITE", "ren\nnes", ("DISPATCH_SITE", "'ren\\nnes'")),
    ("DISPATCH_ENV", "staging", ("DISPATCH_ENV", "development or production", "'staging'")),
    ("DISPATCH_ENV", "production", ("DISPATCH_SECRET_KEY", "must be set in production")),
    ("DISPATCH_SESSION_HOURS", "0", ("DISPATCH_SESSION_HOURS", "at least 0.01")),
    ("DISPATCH_SESSION_HOURS", "200", ("DISPATCH_SESSION_HOURS", "at most 168")),
    ("DISPATCH_PATROL_CODE_HOURS", "49", ("DISPATCH_PATROL_CODE_HOURS", "at most 48")),
    ("DISPATCH_SIGNIN_MAX_FAILURES", "0", ("DISPATCH_SIGNIN_MAX_FAILURES", "at least 1")),
    ("DISPATCH_SIGNIN_MAX_FAILURES", "2.5", ("DISPATCH_SIGNIN_MAX_FAILURES", "whole number")),
    ("DISPATCH_SIGNIN_LOCK_MINUTES", "-1", ("DISPATCH_SIGNIN_LOCK_MINUTES", "at least 0.01")),
    # issue 14 (replay-workers)
    ("DISPATCH_WEB_WORKERS", "0", ("DISPATCH_WEB_WORKERS", "at least 1")),
    ("DISPATCH_REPLAY_CACHE_TTL_MIN", "0", ("DISPATCH_REPLAY_CACHE_TTL_MIN", "at least 0.1")),
    # issue 15 (replay)
    ("DISPATCH_REPLAY_CHUNK", "5", ("DISPATCH_REPLAY_CHUNK", "at least 10")),
]


@pytest.mark.parametrize("var, raw, fragments", ERRORS, ids=[f"{v}={r!r}" for v, r, _ in ERRORS])
def test_bad_values_raise_a_clear_settings_error(var, raw, fragments):
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({var: raw})
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert "\n" not in message


def test_settings_error_is_a_value_error():
    assert issubclass(SettingsError, ValueError)


def test_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().site = "paris"  # type: ignore[misc]


# --------------------------------------------------------------------------- as_env


def test_as_env_of_the_defaults():
    env = Settings().as_env()
    assert "REDIS_URL" not in env  # None is "unset", not the string "None"
    assert env["DISPATCH_SITE"] == "rennes"
    assert env["DISPATCH_DATA_DIR"] == "var"
    assert env["DISPATCH_WEB_PORT"] == "8050"
    assert all(isinstance(value, str) for value in env.values())
    assert len(env) == len(dataclasses.fields(Settings)) - 1


def test_as_env_round_trips_the_defaults():
    s = Settings()
    assert Settings.from_env(s.as_env()) == s


def test_as_env_round_trips_every_changed_setting():
    # One non-default value for every setting, taken from the PARSED table.
    env = {}
    for variable, raw, attribute, expected in PARSED:
        if attribute not in env.values() and expected != getattr(Settings(), attribute):
            env.setdefault(variable, raw)
    s = Settings.from_env(env)
    assert all(getattr(s, f.name) != getattr(Settings(), f.name) for f in dataclasses.fields(Settings))
    assert Settings.from_env(s.as_env()) == s
    assert s.as_env()["REDIS_URL"] == env["REDIS_URL"]


@settings(max_examples=200, deadline=None)
@given(
    site=st.from_regex(r"[a-z][a-z0-9-]{0,31}", fullmatch=True),
    retention_days=st.floats(min_value=0.001, max_value=10_000),
    max_future_s=st.floats(min_value=0, max_value=1e6),
    max_past_s=st.floats(min_value=0, max_value=1e7),
    live_maxlen=st.integers(min_value=100, max_value=10**9),
    web_port=st.integers(min_value=1, max_value=65_535),
    sim_seed=st.integers(min_value=0, max_value=2**63),
)
def test_as_env_round_trips(site, retention_days, max_future_s, max_past_s, live_maxlen, web_port, sim_seed):
    s = Settings(
        site=site, retention_days=retention_days, max_future_s=max_future_s, max_past_s=max_past_s,
        live_maxlen=live_maxlen, web_port=web_port, sim_seed=sim_seed,
    )
    assert Settings.from_env(s.as_env()) == s


# --------------------------------------------------------------------------- derived values


@pytest.mark.parametrize(
    "days, ms",
    [("7", 604_800_000), ("1", 86_400_000), ("0.5", 43_200_000), ("0.001", 86_400), ("30", 2_592_000_000)],
)
def test_retention_ms(days, ms):
    s = Settings.from_env({"DISPATCH_RETENTION_DAYS": days, "DISPATCH_AUDIT_RETENTION_DAYS": days})
    assert s.retention_ms == ms and type(s.retention_ms) is int
    assert s.audit_retention_ms == ms


def test_default_retention_is_the_legal_seven_days_and_audit_one_year():
    assert Settings().retention_ms == 7 * 24 * 3600 * 1000
    assert Settings().audit_retention_ms == 365 * 24 * 3600 * 1000


# --------------------------------------------------------------------------- production


@pytest.mark.parametrize("key", ["", "   ", "development-only-secret-key-never-use-in-production"])
def test_production_refuses_to_start_without_its_own_secret_key(key):
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"DISPATCH_ENV": "production", "DISPATCH_SECRET_KEY": key})
    assert "DISPATCH_SECRET_KEY must be set in production" in str(caught.value)


def test_production_refuses_a_short_secret_key():
    with pytest.raises(SettingsError, match="at least 32 characters"):
        Settings.from_env({"DISPATCH_ENV": "production", "DISPATCH_SECRET_KEY": "x" * 31})
    assert Settings.from_env({"DISPATCH_ENV": "production", "DISPATCH_SECRET_KEY": "x" * 32}).production


def test_development_has_a_default_key_and_never_shows_it():
    s = Settings.from_env({})
    assert s.env == "development" and not s.production and s.secret_key
    assert s.secret_key not in repr(s)
    strong = Settings.from_env({"DISPATCH_ENV": "production", "DISPATCH_SECRET_KEY": PRODUCTION_KEY})
    assert PRODUCTION_KEY not in repr(strong)
    assert Settings.from_env(strong.as_env()) == strong
