"""The watcher expires unassigned sightings past their category's horizon (real Redis, controlled clock)."""

from __future__ import annotations

import dataclasses

from dispatch.settings import Settings
from dispatch.store.alerts import read_open_alerts
from dispatch.store.assignments import assign, sighting_endings
from dispatch.services.watch import AlertWatcher, WatchOptions
from tests.store.test_assignments import ingest, now_ms, patrol, sighting
from tests.services.test_watch import Clock

MIN = 60_000


def categorised(sighting_id: str, category: str, ts: int) -> dict:
    return {**sighting(sighting_id, ts=ts), "category": category}


def test_unassigned_sightings_expire_at_their_horizon_assigned_ones_never(settings, keys, redis_client):
    start = now_ms()
    ingest(redis_client, keys, patrols=[patrol("BAC-12")],
           sightings=[categorised("vehicle-1", "vehicle", start), categorised("deal-1", "deal", start),
                      categorised("vehicle-2", "vehicle", start)])
    assign(redis_client, keys, sighting_id="vehicle-2", patrol_id="BAC-12", supervisor_id="SUP-1")
    clock = Clock(start + 4 * MIN)
    watcher = AlertWatcher(settings, WatchOptions.from_settings(settings), clock=clock, client=redis_client)
    watcher.tick()
    assert sighting_endings(redis_client, keys) == []

    clock.t_ms = start + 5 * MIN + 1
    watcher.tick()
    (ended,) = sighting_endings(redis_client, keys)
    assert (ended["sighting_id"], ended["disposition"], ended["actor"]) == ("vehicle-1", "expired", "system")
    assert redis_client.hget(keys.sightings, "vehicle-1") is None
    assert not any(a.unit_id == "vehicle-1" for a in read_open_alerts(redis_client, keys).values())

    clock.t_ms = start + 60 * MIN
    watcher.tick()
    assert [e["sighting_id"] for e in sighting_endings(redis_client, keys)] == ["vehicle-1", "deal-1"]
    assert redis_client.hget(keys.sightings, "vehicle-2") is not None, "assigned: never expires"
    assert watcher.expired == 2


def test_horizons_come_from_the_settings(settings):
    changed = dataclasses.replace(settings, horizon_vehicle_min=1.5)
    assert WatchOptions.from_settings(changed).horizons_ms["vehicle"] == 90_000
    assert Settings.from_env({"DISPATCH_HORIZON_GATHERING_MIN": "45"}).sighting_horizons_ms["gathering"] == 45 * MIN
    assert Settings().sighting_horizons_ms == {"vehicle": 5 * MIN, "lookout": 10 * MIN, "deal": 20 * MIN,
                                               "gathering": 30 * MIN, "other": 10 * MIN}


def test_the_watch_role_may_expire_and_the_web_role_may_close(settings, keys, redis_client, role_client):
    """Under their own Redis ACL users (no_acl_denials fails the test on any denial)."""
    from dispatch.domain.acl import RedisUser
    from dispatch.store.assignments import close_sighting

    old = now_ms() - 60 * MIN
    ingest(redis_client, keys, sightings=[categorised("vehicle-1", "vehicle", old), categorised("deal-1", "deal", old)])
    close_sighting(role_client(RedisUser.WEB), keys, sighting_id="deal-1", supervisor_id="SUP-1", reason="referred")
    AlertWatcher(settings, client=role_client(RedisUser.WATCH)).tick()
    assert [e["disposition"] for e in sighting_endings(redis_client, keys)] == ["closed", "expired"]


def test_the_unassigned_alert_of_a_closed_sighting_resolves_itself(settings, keys, redis_client):
    from dispatch.store.assignments import close_sighting

    start = now_ms()
    ingest(redis_client, keys, sightings=[categorised("deal-1", "deal", start - 2 * MIN)])
    watcher = AlertWatcher(settings, WatchOptions.from_settings(settings), clock=Clock(start), client=redis_client)
    assert watcher.tick().raised == ["sighting_unassigned:deal-1"]
    close_sighting(redis_client, keys, sighting_id="deal-1", supervisor_id="SUP-1", reason="drone_only")
    assert watcher.tick().resolved == ["sighting_unassigned:deal-1"]
    assert read_open_alerts(redis_client, keys) == {}
