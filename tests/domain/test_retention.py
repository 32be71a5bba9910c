"""The retention table: one rule for every key, the right period for each, and the job's interval."""

from __future__ import annotations


import pytest

from dispatch.domain.retention import (
    DAY_MS, Treatment, cutoff_ms, describe_period, expired_units, markdown_table, retention_table, run_details,
    site_keys, tombstone, unruled_keys,
)
from dispatch.keys import Keys
from dispatch.settings import Settings

KEYS = Keys("rennes")
SETTINGS = Settings()
TABLE = retention_table(KEYS, SETTINGS)
BY_NAME = {rule.name: rule for rule in TABLE}

RECORDINGS = ["in_telemetry", "in_sightings", "in_patrols", "live", "deadletter", "assignments", "alerts",
              "drones", "drones_ts", "patrols", "patrols_ts", "patrols_available", "sightings", "sightings_ts"]


def test_every_key_of_keys_py_has_a_rule():
    assert unruled_keys(KEYS, TABLE) == set()
    assert set(site_keys(KEYS)) == set(BY_NAME), "rules are named after the Keys attribute they cover"


def test_a_key_added_without_a_rule_is_caught():
    class MoreKeys(Keys):
        @property
        def faces(self) -> str:
            return self._key("faces")

    more = MoreKeys("rennes")
    assert unruled_keys(more, retention_table(more, SETTINGS)) == {"faces"}


def test_each_key_has_exactly_one_rule():
    assert len({rule.key for rule in TABLE}) == len(TABLE)


@pytest.mark.parametrize("name", RECORDINGS)
def test_recordings_are_kept_the_recordings_period(name):
    assert BY_NAME[name].period_ms == SETTINGS.retention_ms == 7 * DAY_MS


def test_the_audit_trail_has_its_own_period():
    assert BY_NAME["audit"].treatment is Treatment.TRIM_STREAM
    assert BY_NAME["audit"].period_ms == SETTINGS.audit_retention_ms == 365 * DAY_MS


def test_periods_follow_the_settings():
    settings = Settings.from_env({"DISPATCH_RETENTION_DAYS": "2", "DISPATCH_AUDIT_RETENTION_DAYS": "1825"})
    table = {rule.name: rule for rule in retention_table(KEYS, settings)}
    assert {table[name].period_ms for name in RECORDINGS} == {2 * DAY_MS}
    assert table["audit"].period_ms == 1825 * DAY_MS


@pytest.mark.parametrize("name, treatment", [
    ("in_telemetry", Treatment.TRIM_STREAM), ("deadletter", Treatment.TRIM_STREAM),
    ("drones", Treatment.DROP_OLD_UNITS), ("patrols_available", Treatment.WITH_UNITS),
    ("assignments_open", Treatment.WHILE_OPEN), ("patrol_assignment", Treatment.WHILE_OPEN),
    ("alerts_open", Treatment.POSITIONS_AGE_OUT), ("zones", Treatment.UNTIL_DELETED), ("stats", Treatment.COUNTERS),
    ("bridge_stats", Treatment.COUNTERS),
])
def test_treatments(name, treatment):
    assert BY_NAME[name].treatment is treatment


def test_only_current_state_has_no_age_limit():
    unlimited = {rule.name for rule in TABLE if rule.period_ms is None}
    assert unlimited == {"assignments_open", "patrol_assignment", "zones", "stats", "accounts", "bridge_stats"}


def test_every_key_that_holds_positions_has_the_recordings_period():
    """A position is a recording wherever it is kept, open alerts included (they may stay open for days)."""
    holding = {rule.name for rule in TABLE if "position" in rule.why and "no position" not in rule.why}
    assert {"alerts_open", "alerts", "drones", "patrols", "sightings", "live"} <= holding
    assert {name: BY_NAME[name].period_ms for name in holding} == dict.fromkeys(holding, SETTINGS.retention_ms)


def test_picture_hashes_name_their_side_keys_and_side_keys_their_hash():
    for rule in TABLE:
        if rule.treatment is Treatment.DROP_OLD_UNITS:
            assert BY_NAME[f"{rule.name}_ts"].key == rule.ts_key
            assert rule.live_field == rule.name
        if rule.treatment is Treatment.WITH_UNITS:
            main = BY_NAME[rule.part_of]
            assert rule.key in (main.ts_key, main.geo_key) and rule.period_ms == main.period_ms
    assert BY_NAME["patrols"].geo_key == KEYS.patrols_available
    assert BY_NAME["drones"].geo_key is None


@pytest.mark.parametrize("now, period, expected", [
    (10 * DAY_MS, 7 * DAY_MS, 3 * DAY_MS), (1_000, 7 * DAY_MS, 0), (5, 5, 0),
])
def test_cutoff(now, period, expected):
    assert cutoff_ms(now, period) == expected


def test_a_unit_exactly_at_the_cutoff_is_kept():
    assert expired_units({"DR-2": 999, "DR-1": 998, "DR-3": 1_000, "DR-4": 5_000}, 1_000) == ["DR-1", "DR-2"]


def test_tombstones_use_the_collections_id_field():
    assert tombstone(BY_NAME["drones"], "DR-07") == {"drone_id": "DR-07", "closed": True}
    assert tombstone(BY_NAME["sightings"], "sight-0001") == {"sighting_id": "sight-0001", "closed": True}


def test_run_details_fit_an_audit_entry():
    from dispatch.domain.audit import make_entry
    applied = (Treatment.TRIM_STREAM, Treatment.DROP_OLD_UNITS, Treatment.WITH_UNITS, Treatment.POSITIONS_AGE_OUT)
    counts = {rule.name: 123_456 for rule in TABLE if rule.treatment in applied}  # what a run counts
    details = run_details(counts, exact=False, cutoff=1, audit_cutoff=0)
    assert details["mode"] == "approximate" and details["in_telemetry"] == 123_456
    make_entry(ts=1, actor="system", role="system", action="retention_trimmed", target="rennes", details=details)


@pytest.mark.parametrize("period, text", [
    (7 * DAY_MS, "7 days"), (DAY_MS, "1 day"), (365 * DAY_MS, "365 days"), (DAY_MS // 2, "12 h"), (None, "no age limit"),
])
def test_describe_period(period, text):
    assert describe_period(period) == text


def test_the_markdown_table_lists_every_key_once_without_the_site():
    table = markdown_table(TABLE, site_tag="{site}")
    lines = table.splitlines()
    assert len(lines) == 2 + len(TABLE)
    assert "rennes" not in table
    for rule in TABLE:
        assert sum(f"`{{site}}{rule.key[len('{rennes}'):]}`" in line for line in lines) == 1
    assert "| `{site}:audit` |" in table and "365 days" in table


