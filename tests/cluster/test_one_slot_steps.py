"""Every multi-key store step runs on a real cluster for any site name: no CROSSSLOT, no MOVED (issue 14).

A Lua script, a MULTI/EXEC, a WATCH and a multi-stream read are refused by a cluster when their keys
span slots; a pipeline of a cluster client splits by node. Each step below touches one site's slot
only, whatever the site is called (hypothesis draws the names, so their slots fall on every master),
through the cluster client the processes get from `connect()`. `run_every_step` walks the steps a
site's processes take: ingest's script, the snapshot transaction, zones, alerts, accounts (WATCH),
patrol codes, sign-in throttling, assignments, a tablet's action, retention, a replay window, the
unit history and the consumer group's upkeep.
"""

from __future__ import annotations

import dataclasses
import time

import orjson
import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from dispatch.domain.auth import Throttle
from dispatch.domain.retention import retention_table
from dispatch.keys import Keys
from dispatch.settings import SITE_PATTERN
from dispatch.store import (account_changes, accounts, alerts, assignments, history, patrol_actions, retention,
                            state, streams, unit_history, zones)
from dispatch.store.connection import connect
from dispatch.demo.zones import seed_demo_zones
from dispatch.services.watch import AlertWatcher
from tests.store.test_assignments import ingest, patrol, sighting

from .conftest import site_slot

site_names = st.from_regex(SITE_PATTERN.replace("{0,31}", "{2,12}"), fullmatch=True)


def now_ms() -> int:
    return int(time.time() * 1000)


@pytest.fixture(scope="module")
def cluster_client(redis_server):
    client = connect(redis_server.url)
    yield client
    client.close()


@hypothesis_settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=site_names)
def test_every_multi_key_step_stays_in_the_sites_slot(name, cluster_client, settings, redis_server):
    site = f"{name}-{now_ms() % 100_000}"[:32]  # fresh keys for each example
    run_every_step(cluster_client, dataclasses.replace(settings, site=site))
    # and the site's keys are all on the master that serves its slot
    master = redis_server.master_for_slot(site_slot(site))
    with redis_server.client(master) as node:
        found = set(node.scan_iter(match=f"{{{site}}}:*", count=1000))
    assert Keys(site).accounts.encode() in found and Keys(site).live.encode() in found


def test_the_steps_cover_every_master(redis_server, cluster_client, settings):
    """One site per master, explicitly (hypothesis might draw them all on one)."""
    from .conftest import sites_on_different_masters

    for site in sites_on_different_masters(redis_server, 3):
        run_every_step(cluster_client, dataclasses.replace(settings, site=site))


def run_every_step(client, settings) -> None:
    keys = Keys(settings.site)
    t = now_ms()
    # ingest's script (every input kind), the consumer group's upkeep
    streams.ensure_groups(client, keys)
    ingest(client, keys, patrols=[patrol("BAC-12"), patrol("GN-4", lat=48.105, lon=-1.69)],
           sightings=[sighting("sight-0001"), sighting("sight-0002", lat=48.12, lon=-1.66)])
    streams.remove_idle_consumers(client, keys, min_idle_ms=0)
    assert state.read_snapshot(client, keys)["patrols"], "the snapshot transaction"
    # zones (4-key scripts) and the watcher's alert script, acknowledgement, old positions (WATCH/MULTI)
    seed_demo_zones(client, keys, t)
    client.hset(keys.drones, "DR-07", orjson.dumps({"drone_id": "DR-07", "ts": t, "lat": 48.1040, "lon": -1.6722,
                                                      "alt_m": 80.0, "heading_deg": 0.0, "speed_mps": 5.0,
                                                      "battery_pct": 80.0}))
    watcher = AlertWatcher(settings, clock=lambda: t, client=client)
    assert watcher.tick().raised
    alerts.acknowledge(client, keys, "outside_zone:DR-07", "SUP-1", t + 100)
    alerts.forget_old_positions(client, keys, t + 10_000_000)
    zone = zones.load_zones(client, keys)[0]
    assert zones.delete_zone(client, keys, zone.zone_id, now_ms=t)
    # accounts: create, sessions, a patrol code (its stale ones consumed in the MULTI), throttling, changes
    accounts.create_account(client, keys, user_id="ADM-1", role="administrator", password="a long enough password 1")
    accounts.create_account(client, keys, user_id="SUP-1", role="supervisor", password="a long enough password 2")
    assert accounts.verify_password(client, keys, user_id="SUP-1", password="a long enough password 2")
    accounts.create_session(client, keys, user_id="SUP-1", role="supervisor")
    accounts.issue_patrol_code(client, keys, patrol_id="BAC-12", issued_by="SUP-1", ttl_s=0.001)
    time.sleep(0.002)
    accounts.issue_patrol_code(client, keys, patrol_id="GN-4", issued_by="SUP-1")
    attempt = accounts.attempt_for("10.0.0.1", "SUP-1")
    assert accounts.gate(client, keys, attempt, Throttle()).scope == "ok"
    accounts.succeeded(client, keys, attempt)
    accounts.throttle_states(client, keys, ["SUP-1", "ADM-1"])
    account_changes.reset_password(client, keys, user_id="SUP-1", password="another long password 3", actor="ADM-1")
    # assignments: assign, a tablet's steps, cancel, close
    made = assignments.assign(client, keys, sighting_id="sight-0001", patrol_id="BAC-12", supervisor_id="SUP-1")
    patrol_actions.situation(client, keys, "BAC-12")
    assignments.cancel(client, keys, assignment_id=made.assignment_id, supervisor_id="SUP-1")
    assignments.close_sighting(client, keys, sighting_id="sight-0002", supervisor_id="SUP-1", reason="false_alarm")
    # reading back: a replay window, the unit history, retention
    window = history.load_window(client, keys, t - 60_000, now_ms() + 1_000)
    assert "BAC-12" in window.patrol_ids
    unit_history.read_status_record(client, keys, now_ms())
    retention.apply_retention(client, keys, retention_table(keys, settings), now_ms() + 10 * settings.retention_ms,
                              exact=True)
    account_changes.delete_account(client, keys, "SUP-1")
