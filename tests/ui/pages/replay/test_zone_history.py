"""Zone history against a real Redis: every change to a zone is logged in its own atomic step
(store/zones.py), the log gives back the versions stored during a window (domain/replay/zone_history.py), and
the replay's window route hands the page the zones as they were stored, not as they are now.

Log entries are stamped by the Redis server ('*'), so these tests make real changes at real instants
and read the instants back from the entry ids.
"""

from __future__ import annotations

import time

import orjson
import pytest

from dispatch.domain.replay.zone_history import versions_in_window
from dispatch.domain.zones import make_zone
from dispatch.store.zones import delete_zone, load_zones, save_zone, zone_log
from dispatch.demo.zones import demo_zones, seed_demo_zones
from dispatch.ui.pages.replay import ids as P
from dispatch.web.app import create_app
from tests.ui.pages.replay.test_page import open_window, shift, signed_in  # noqa: F401 (shift: a fixture)
from tests.support.processes import wait_until

S = 1000
SQUARE = [(-1.68, 48.10), (-1.66, 48.10), (-1.66, 48.12), (-1.68, 48.12)]
BIGGER = [(-1.69, 48.09), (-1.65, 48.09), (-1.65, 48.13), (-1.69, 48.13)]


def gare(name="Gare", polygon=SQUARE, zone_id="Z-GARE"):
    now = int(time.time() * 1000)
    return make_zone(zone_id=zone_id, name=name, decree_ref="2026-03-035-PREF35", polygon=polygon,
                     valid_from_ms=now - 86_400_000, valid_until_ms=now + 86_400_000)


def log_entries(client, keys) -> list[tuple[int, dict]]:
    return [(int(entry_id.split(b"-")[0]), {k.decode(): v.decode() for k, v in fields.items()})
            for entry_id, fields in client.xrange(keys.zones_log)]


def pause() -> None:
    """Let the server clock move on, so two changes land on different milliseconds."""
    time.sleep(0.005)


def test_every_change_is_logged_with_the_change(redis_client, keys):
    old, new = gare(), gare("Gare sud", BIGGER)
    first_live = save_zone(redis_client, keys, old)
    pause()
    save_zone(redis_client, keys, new)
    pause()
    assert delete_zone(redis_client, keys, "Z-GARE") is True
    assert delete_zone(redis_client, keys, "Z-GARE") is False, "nothing to delete: nothing logged"

    entries = log_entries(redis_client, keys)
    assert [(fields["event"], fields["zone_id"]) for _, fields in entries] == [
        ("saved", "Z-GARE"), ("saved", "Z-GARE"), ("deleted", "Z-GARE")]
    assert [orjson.loads(fields["zone"])["name"] for _, fields in entries[:2]] == ["Gare", "Gare sud"]
    assert "zone" not in entries[2][1]
    stamps = [ms for ms, _ in entries]
    assert stamps == sorted(stamps) and len(set(stamps)) == 3
    # Stamped by the server in the same step as the live delta: Redis 7 freezes its clock for a whole
    # transaction, the 6.2 server of the tests does not, so a loaded machine can put them 1 ms apart.
    assert 0 <= int(first_live.split("-")[0]) - stamps[0] <= 1, "stamped in the same step as the live delta"

    log = zone_log(redis_client, keys)
    assert [(ms, event, zone_id) for ms, event, zone_id, _ in log] == [
        (stamps[0], "saved", "Z-GARE"), (stamps[1], "saved", "Z-GARE"), (stamps[2], "deleted", "Z-GARE")]
    assert [zone for *_, zone in log] == [old, new, None], "the stored model comes back identical"


def test_a_refused_save_logs_nothing(redis_client, keys):
    from dispatch.domain.audit import AuditError
    with pytest.raises(AuditError):
        save_zone(redis_client, keys, gare(), actor="not an actor code")
    assert redis_client.xlen(keys.zones_log) == 0 and load_zones(redis_client, keys) == []


def test_seeding_logs_each_demo_zone_once(redis_client, keys):
    now = int(time.time() * 1000)
    seeded = seed_demo_zones(redis_client, keys, now)
    assert seeded == demo_zones(now)
    assert seed_demo_zones(redis_client, keys, now) == [], "zones already there: no second seeding"
    log = zone_log(redis_client, keys)
    assert [(event, zone) for _, event, _, zone in log] == [("saved", zone) for zone in seeded]
    assert versions_in_window(log, load_zones(redis_client, keys), now, now + S)


def test_the_log_is_read_in_chunks_up_to_an_instant(redis_client, keys):
    for k in range(5):
        save_zone(redis_client, keys, gare(f"Gare {k}"))
        pause()
    everything = zone_log(redis_client, keys, chunk=2)
    assert [zone.name for *_, zone in everything] == [f"Gare {k}" for k in range(5)]
    assert zone_log(redis_client, keys) == everything
    third = everything[2][0]
    assert [zone.name for *_, zone in zone_log(redis_client, keys, third, chunk=2)] == ["Gare 0", "Gare 1", "Gare 2"]


def test_an_unreadable_logged_zone_ends_the_version_before_it_and_is_not_drawn(redis_client, keys, caplog):
    save_zone(redis_client, keys, gare())
    pause()
    redis_client.xadd(keys.zones_log, {"event": "saved", "zone_id": "Z-GARE", "zone": '{"zone_id": "Z-GARE"}'})
    pause()
    redis_client.xadd(keys.zones_log, {"event": "renamed", "zone_id": "Z-GARE"})
    log = zone_log(redis_client, keys)
    assert log[1][3] is None and "unreadable" in caplog.text
    [version] = versions_in_window(log, load_zones(redis_client, keys), 0, 2**50)
    assert version.zone.name == "Gare" and version.stored_until_ms == log[1][0]


def test_versions_over_a_window_spanning_an_edit(redis_client, keys):
    save_zone(redis_client, keys, gare())
    pause()
    save_zone(redis_client, keys, gare("Gare sud", BIGGER))
    (saved_ms, *_), (edited_ms, *_) = zone_log(redis_client, keys)
    versions = versions_in_window(zone_log(redis_client, keys), load_zones(redis_client, keys),
                                  saved_ms - 60 * S, edited_ms + 60 * S)
    assert [(v.zone.name, v.zone.polygon == gare(polygon=p).polygon, v.stored_from_ms, v.stored_until_ms)
            for v, p in zip(versions, (SQUARE, BIGGER))] == [
        ("Gare", True, saved_ms, edited_ms), ("Gare sud", True, edited_ms, None)]
    only_after = versions_in_window(zone_log(redis_client, keys), load_zones(redis_client, keys), edited_ms,
                                    edited_ms + 60 * S)
    assert [v.zone.name for v in only_after] == ["Gare sud"], "the old version ends exactly at the edit"


# ----------------------------------------------------------------------------- the replay's window route


def load_hour(client, csrf) -> str:
    """Open "the last hour" as the page does and wait for it; returns the routes' query string."""
    response = open_window(client, csrf)
    assert response.status_code == 200, response.data
    answer = orjson.loads(response.data)["response"][P.OPEN_RESULT]["data"]
    assert answer["ok"], answer
    query = f"from={answer['from_ms']}&to={answer['to_ms']}"
    wait_until(lambda: orjson.loads(client.get(f"/api/replay/status?{query}").data)["state"] == "ready",
               timeout=30, interval=0.1, what="the window to load")
    return query


def zone_features(client, query) -> list[dict]:
    reply = client.get(f"/api/replay/window?{query}")
    assert reply.status_code == 200, reply.data
    body = orjson.loads(reply.data)
    assert body["warning"] == ""
    return body["zones"]


@pytest.mark.usefixtures("shift")
def test_the_window_route_gives_the_versions_stored_during_the_window(settings, keys, redis_client):
    save_zone(redis_client, keys, gare())
    pause()
    save_zone(redis_client, keys, gare("Gare sud", BIGGER))
    save_zone(redis_client, keys, gare("Port", zone_id="Z-PORT"))
    (saved_ms, *_), (edited_ms, *_), (port_ms, *_) = zone_log(redis_client, keys)
    time.sleep(1.1)  # the window ends now, to the second: every change so far falls inside it

    app = create_app(settings)
    client, csrf = signed_in(app, settings, redis_client, keys)
    query = load_hour(client, csrf)
    assert delete_zone(redis_client, keys, "Z-PORT"), "deleted after the window"
    save_zone(redis_client, keys, gare("Gare nord"))  # edited after the window: not part of it

    features = zone_features(client, query)
    assert [(f["properties"]["zone_id"], f["properties"]["name"], f["properties"]["stored_from_ms"],
             f["properties"]["stored_until_ms"]) for f in features] == [
        ("Z-GARE", "Gare", saved_ms, edited_ms),
        ("Z-GARE", "Gare sud", edited_ms, (later := zone_log(redis_client, keys)[-1][0])),
        ("Z-PORT", "Port", port_ms, zone_log(redis_client, keys)[-2][0])]
    assert later > edited_ms
    assert features[1]["geometry"]["coordinates"][0][0] == [-1.69, 48.09], "the edited perimeter, as GeoJSON"
    assert "Z-PORT" not in {zone.zone_id for zone in load_zones(redis_client, keys)}, "gone now, shown for then"


@pytest.mark.usefixtures("shift")
def test_zones_stored_before_the_log_existed_still_show(settings, keys, redis_client):
    # Written straight into the hash, as a deployment from before the log holds its zones.
    old = gare("Gare ancienne")
    redis_client.hset(keys.zones, old.zone_id, old.model_dump_json())
    client, csrf = signed_in(create_app(settings), settings, redis_client, keys)
    query = load_hour(client, csrf)
    [feature] = zone_features(client, query)
    assert feature["properties"]["name"] == "Gare ancienne"
    assert feature["properties"]["stored_from_ms"] is None and feature["properties"]["stored_until_ms"] is None
