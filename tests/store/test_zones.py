"""Zones in a real Redis: round trip, live deltas, deletion, seeding the demo zones once."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta, timezone

import orjson

from dispatch.domain.zones import end_of_local_day_ms, is_authorised, make_zone, zone_from_geojson
from dispatch.demo.scenario_rennes import ZONES as DEMO
from dispatch.store.zones import delete_zone, load_zones, save_zone
from dispatch.demo.zones import demo_zones, seed_demo_zones

NOW = int(datetime(2026, 11, 30, 22, 30, tzinfo=timezone.utc).timestamp() * 1000)  # 23:30 in Paris


def live_zone_deltas(client, keys) -> list[list[dict]]:
    return [orjson.loads(fields[b"zones"]) for _, fields in client.xrange(keys.live) if b"zones" in fields]


def triangle(zone_id="Z-TEST", name="Test zone"):
    return make_zone(zone_id=zone_id, name=name, decree_ref="2026-11-035-PREF35",
                     polygon=[(-1.70, 48.10), (-1.69, 48.10), (-1.695, 48.11)],
                     valid_from_ms=NOW, valid_until_ms=NOW + 3_600_000)


def test_a_saved_zone_loads_back_identical_and_is_published_as_geojson(redis_client, keys):
    zone = triangle()
    live_id = save_zone(redis_client, keys, zone)

    assert load_zones(redis_client, keys) == [zone]
    [(entry_id, fields)] = redis_client.xrange(keys.live)
    assert entry_id.decode() == live_id and set(fields) == {b"zones"}
    [item] = orjson.loads(fields[b"zones"])
    assert item["zone_id"] == "Z-TEST" and item["type"] == "Feature"
    assert item["properties"]["decree_ref"] == "2026-11-035-PREF35"
    assert zone_from_geojson(item) == zone, "the delta is enough to rebuild the zone"


def test_saving_again_replaces_and_publishes_again(redis_client, keys):
    save_zone(redis_client, keys, triangle(name="First"))
    save_zone(redis_client, keys, triangle(name="Second"))
    save_zone(redis_client, keys, triangle("Z-OTHER"))
    assert [(z.zone_id, z.name) for z in load_zones(redis_client, keys)] == [("Z-OTHER", "Test zone"),
                                                                            ("Z-TEST", "Second")]
    assert [[item["properties"]["name"] for item in delta] for delta in live_zone_deltas(redis_client, keys)] == [
        ["First"], ["Second"], ["Test zone"]]


def test_deleting_publishes_a_closed_zone_once(redis_client, keys):
    save_zone(redis_client, keys, triangle())
    assert delete_zone(redis_client, keys, "Z-TEST") is True
    assert delete_zone(redis_client, keys, "Z-TEST") is False
    assert delete_zone(redis_client, keys, "Z-NEVER") is False
    assert load_zones(redis_client, keys) == []
    assert live_zone_deltas(redis_client, keys)[-1] == [{"zone_id": "Z-TEST", "closed": True}]
    assert len(live_zone_deltas(redis_client, keys)) == 2, "a deletion that deleted nothing publishes nothing"


def test_demo_zones_are_seeded_once_valid_from_an_hour_ago_to_30_local_days_ahead(redis_client, keys):
    seeded = seed_demo_zones(redis_client, keys, NOW)

    assert [z.zone_id for z in seeded] == [z.zone_id for z in DEMO]
    assert load_zones(redis_client, keys) == sorted(seeded, key=lambda z: z.zone_id)
    # 23:30 on 30 November in Paris: the end of that local day, 30 days later.
    expected_until = end_of_local_day_ms(date(2026, 11, 30) + timedelta(days=30))
    assert {(z.valid_from_ms, z.valid_until_ms) for z in seeded} == {(NOW - 3_600_000, expected_until)}
    assert datetime.fromtimestamp(expected_until / 1000, timezone.utc) == datetime(2026, 12, 30, 23, 0,
                                                                                     tzinfo=timezone.utc)
    for source in DEMO:
        assert is_authorised(seeded, *source.launch, NOW)
    [delta] = live_zone_deltas(redis_client, keys)
    assert sorted(item["zone_id"] for item in delta) == sorted(z.zone_id for z in DEMO)

    assert seed_demo_zones(redis_client, keys, NOW + 60_000) == [], "idempotent"
    assert load_zones(redis_client, keys)[0].valid_from_ms == NOW - 3_600_000, "nothing overwritten"
    assert len(live_zone_deltas(redis_client, keys)) == 1, "nothing published the second time"


def test_the_local_date_decides_the_demo_validity(redis_client, keys):
    after_midnight_paris = int(datetime(2026, 11, 30, 23, 30, tzinfo=timezone.utc).timestamp() * 1000)
    [zone, *_] = demo_zones(after_midnight_paris)
    assert zone.valid_until_ms == end_of_local_day_ms(date(2026, 12, 31)), "1 December in Paris, + 30 days"


def test_seeding_never_overwrites_zones_an_administrator_entered(redis_client, keys):
    save_zone(redis_client, keys, triangle())
    assert seed_demo_zones(redis_client, keys, NOW) == []
    assert [z.zone_id for z in load_zones(redis_client, keys)] == ["Z-TEST"]


def test_an_unreadable_stored_zone_is_skipped_and_logged(redis_client, keys, caplog):
    save_zone(redis_client, keys, triangle())
    redis_client.hset(keys.zones, "Z-BROKEN", b'{"zone_id": "Z-BROKEN", "polygon": []}')
    with caplog.at_level(logging.ERROR, logger="dispatch.store.zones"):
        assert [z.zone_id for z in load_zones(redis_client, keys)] == ["Z-TEST"]
    assert "Z-BROKEN" in caplog.text
