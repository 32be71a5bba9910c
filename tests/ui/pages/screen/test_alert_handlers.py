"""'Acknowledge all of this kind' against the real Redis: the store step, the page's action, the Dash callback.

The alerts are written by the store as the watcher writes them (apply_diff); what is checked is
what Redis holds afterwards (open hash, alerts stream, live delta, audit trail) and what the
supervisor reads.
"""

from __future__ import annotations

import threading

import orjson
import pytest

from dispatch.clock import now_ms
from dispatch.domain.alerts import AlertError, AlertKind, new_alert
from dispatch.domain.audit import Action, AuditOutcome
from dispatch.store import audit as audit_store
from dispatch.store.alerts import acknowledge, acknowledge_kind, alert_events, apply_diff
from dispatch.ui.pages.screen import alert_handlers as alert_actions
from dispatch.ui.pages.screen import ids
from dispatch.web.app import create_app
from tests.ui.pages.screen.test_handlers import call, signed_in_client

SUP = "SUP-1"


def unassigned(n: int, first: int = 0) -> list:
    return [new_alert(AlertKind.SIGHTING_UNASSIGNED, f"s-{i:04d}", f"sighting s-{i:04d} has no patrol",
                      now_ms() - 90_000, 48.11, -1.68) for i in range(first, first + n)]


@pytest.fixture
def open_alerts(redis_client, keys):
    """Five unassigned sightings, one stale patrol, one lost drone: three kinds."""
    alerts = unassigned(5) + [new_alert(AlertKind.PATROL_STALE, "BAC-3", "BAC-3 position not updated", now_ms() - 200_000),
                              new_alert(AlertKind.LINK_LOST, "DR-07", "DR-07 link lost", now_ms() - 9_000)]
    apply_diff(redis_client, keys, alerts, [], now_ms())
    return alerts


def stored(client, keys) -> dict:
    return {k.decode(): orjson.loads(v) for k, v in client.hgetall(keys.alerts_open).items()}


def test_acknowledge_kind_acknowledges_every_alert_of_that_kind_only_in_one_step(open_alerts, redis_client, keys):
    acknowledge(redis_client, keys, "sighting_unassigned:s-0002", "SUP-2", now_ms())
    live_before = redis_client.xlen(keys.live)
    done = acknowledge_kind(redis_client, keys, "sighting_unassigned", SUP, now_ms())
    assert sorted(a.alert_id for a in done.acknowledged) == [f"sighting_unassigned:s-{i:04d}" for i in (0, 1, 3, 4)]
    assert done.already == {"sighting_unassigned:s-0002": "SUP-2"}
    assert done.summary() == "4 sighting unassigned alerts acknowledged; 1 already acknowledged (by SUP-2)"
    after = stored(redis_client, keys)
    assert {a["acknowledged_by"] for i, a in after.items() if i.startswith("sighting_unassigned:")} == {SUP, "SUP-2"}
    assert after["patrol_stale:BAC-3"]["state"] == "raised" and after["link_lost:DR-07"]["state"] == "raised"
    assert redis_client.xlen(keys.live) == live_before + 1, "one live delta for the whole kind"
    delta = orjson.loads(redis_client.xrevrange(keys.live, count=1)[0][1][b"alerts"])
    assert len(delta) == 4 and {a["state"] for a in delta} == {"acknowledged"}
    events = [e for e in alert_events(redis_client, keys) if e["event"] == "acknowledged" and e["by"] == SUP]
    assert len(events) == 4, "each alert's history says who acknowledged it"
    trail = [e for e in audit_store.iter_entries(redis_client, keys)
             if e.action is Action.ALERT_ACKNOWLEDGED and e.actor == SUP]
    assert sorted(e.target for e in trail) == sorted(a.alert_id for a in done.acknowledged)
    assert {e.details["bulk"] for e in trail} == {4} and {e.outcome for e in trail} == {AuditOutcome.OK}


def test_only_the_alerts_the_screen_showed_and_the_resolved_ones_are_named(open_alerts, redis_client, keys):
    shown = [f"sighting_unassigned:s-{i:04d}" for i in (0, 1, 9)]  # s-0009 was resolved meanwhile
    done = acknowledge_kind(redis_client, keys, "sighting_unassigned", SUP, now_ms(), alert_ids=shown)
    assert [a.alert_id for a in done.acknowledged] == shown[:2]
    assert done.not_open == ["sighting_unassigned:s-0009"]
    assert "1 already resolved" in done.summary()
    assert stored(redis_client, keys)["sighting_unassigned:s-0003"]["state"] == "raised", "not shown: not acknowledged"


@pytest.mark.parametrize("kind, ids, reason", [
    ("link_lost", ["link_lost:DR-99"], "Nothing to acknowledge: 0 link lost alerts acknowledged; 1 already resolved"),
    ("launch", None, "unknown alert kind 'launch'"),
    ("link_lost", ["patrol_stale:BAC-3"], "1 alert id(s) are not of kind link_lost"),
])
def test_refusals_are_readable_change_nothing_and_are_audited(open_alerts, redis_client, keys, kind, ids, reason):
    before = stored(redis_client, keys)
    with pytest.raises(AlertError) as refused:
        acknowledge_kind(redis_client, keys, kind, SUP, now_ms(), alert_ids=ids)
    assert str(refused.value).startswith(reason)
    assert stored(redis_client, keys) == before
    last = list(audit_store.iter_entries(redis_client, keys, newest_first=True))[0]
    assert last.outcome is AuditOutcome.REFUSED and last.action is Action.ALERT_ACKNOWLEDGED


def test_a_second_acknowledge_all_finds_nothing_left(open_alerts, redis_client, keys):
    acknowledge_kind(redis_client, keys, "sighting_unassigned", SUP, now_ms())
    with pytest.raises(AlertError, match="Nothing to acknowledge: 0 .* 5 already acknowledged \\(by SUP-1\\)"):
        acknowledge_kind(redis_client, keys, "sighting_unassigned", "SUP-2", now_ms())


def test_racing_the_watcher_never_resurrects_a_resolved_alert(redis_client, keys):
    """Acknowledge-all while the watcher resolves alerts of the same kind: every alert ends either
    resolved (gone from the open hash) or acknowledged, never acknowledged after its resolution."""
    alerts = unassigned(200)
    apply_diff(redis_client, keys, alerts, [], now_ms())
    resolver = threading.Thread(target=lambda: [apply_diff(redis_client, keys, [], [a], now_ms())
                                                for a in alerts[::2]])
    resolver.start()
    try:
        done = acknowledge_kind(redis_client, keys, "sighting_unassigned", SUP, now_ms())
    finally:
        resolver.join()
    left = stored(redis_client, keys)
    assert set(left) == {a.alert_id for a in alerts[1::2]}, "resolved ones stay resolved"
    assert {a["state"] for a in left.values()} == {"acknowledged"}
    assert len(done.acknowledged) >= 100


# ---------------------------------------------------------------------------------------------- the page's action


def test_the_action_answers_in_words(open_alerts, redis_client, keys):
    answer = alert_actions.acknowledge_all(redis_client, keys, {"kind": "sighting_unassigned", "nonce": 4},
                                           supervisor_id=SUP)
    assert answer["ok"] is True and answer["nonce"] == 4 and len(answer["acknowledged"]) == 5
    assert answer["message"] == "5 sighting unassigned alerts acknowledged"
    for bad in ({}, {"kind": ["x"]}, {"kind": "link_lost", "alert_ids": "link_lost:DR-07"},
                {"kind": "link_lost", "alert_ids": [3]}):
        refused = alert_actions.acknowledge_all(redis_client, keys, bad, supervisor_id=SUP)
        assert refused["ok"] is False and refused["message"].startswith("bad request")
    assert stored(redis_client, keys)["link_lost:DR-07"]["state"] == "raised"


def test_acknowledge_all_through_the_dash_callback(settings, open_alerts, redis_client, keys):
    client = signed_in_client(create_app(settings), redis_client, keys)
    ids_shown = [f"sighting_unassigned:s-{i:04d}" for i in range(5)]
    answer = call(client, ids.ALERT_BULK_RESULT, ids.ALERT_BULK_REQUEST,
                  {"kind": "sighting_unassigned", "alert_ids": ids_shown, "nonce": 7})
    assert answer["ok"] is True and answer["nonce"] == 7 and answer["acknowledged"] == ids_shown
    assert {stored(redis_client, keys)[i]["acknowledged_by"] for i in ids_shown} == {SUP}
    again = call(client, ids.ALERT_BULK_RESULT, ids.ALERT_BULK_REQUEST,
                 {"kind": "sighting_unassigned", "alert_ids": ids_shown, "nonce": 8})
    assert again["ok"] is False and "5 already acknowledged (by SUP-1)" in again["message"]


def test_the_callback_is_refused_without_the_csrf_token(settings, open_alerts, redis_client, keys):
    client = signed_in_client(create_app(settings), redis_client, keys)
    client.csrf_token = "wrong"
    from tests.ui.pages.screen.test_handlers import post
    response = post(client, ids.ALERT_BULK_RESULT, ids.ALERT_BULK_REQUEST, {"kind": "link_lost"})
    assert response.status_code == 403
    assert stored(redis_client, keys)["link_lost:DR-07"]["state"] == "raised"
