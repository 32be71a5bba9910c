"""The watcher escalates an urgent sighting nobody was sent to, in place, once; and an alert whose
sighting ends resolves itself. Real Redis, the watcher's own tick on a clock the test moves."""

from __future__ import annotations

import orjson

from dispatch.store.alerts import acknowledge, alert_events, escalate, read_open_alerts
from dispatch.services.watch import AlertWatcher
from tests.services.test_watch import Clock, now_ms

SID = "s-urgent-0001"
ALERT = f"sighting_unassigned:{SID}"


def sighting(ts: int, priority: int = 1) -> dict:
    return {"sighting_id": SID, "ts": ts, "drone_id": "DR-07", "operator_id": "OP-3", "category": "deal",
            "lat": 48.111, "lon": -1.68, "priority": priority, "note": ""}


def test_an_urgent_sighting_escalates_in_place_once_then_resolves_when_it_ends(settings, keys, redis_client):
    clock = Clock(now_ms())
    watcher = AlertWatcher(settings, clock=clock, client=redis_client)
    second = AlertWatcher(settings, clock=clock, client=redis_client)  # one started by mistake
    redis_client.hset(keys.sightings, SID, orjson.dumps(sighting(clock.t_ms)))

    clock.t_ms += 31_000
    assert watcher.tick().raised == [ALERT]
    assert read_open_alerts(redis_client, keys)[ALERT].severity.value == "warning"
    acknowledge(redis_client, keys, ALERT, "SUP-1", clock.t_ms)

    clock.t_ms += 150_000  # 181 s without a patrol
    live_before = redis_client.xlen(keys.live)
    watcher.tick()
    second.tick()
    escalated = read_open_alerts(redis_client, keys)[ALERT]
    assert (escalated.severity.value, escalated.state.value) == ("critical", "raised"), "to be seen again"
    assert escalated.since_ms == clock.t_ms - 181_000
    assert [e["event"] for e in alert_events(redis_client, keys)] == ["raised", "acknowledged", "escalated"], "once"
    assert redis_client.xlen(keys.live) == live_before + 1
    delta = orjson.loads(redis_client.xrevrange(keys.live, count=1)[0][1][b"alerts"])
    assert [(a["alert_id"], a["severity"]) for a in delta] == [(ALERT, "critical")]

    redis_client.hdel(keys.sightings, SID)  # the sighting ended
    clock.t_ms += 1_000
    assert watcher.tick().resolved == [ALERT]
    assert read_open_alerts(redis_client, keys) == {}


def test_escalating_an_alert_resolved_meanwhile_does_nothing(keys, redis_client):
    from dispatch.domain.alerts import AlertKind, Severity, new_alert
    gone = new_alert(AlertKind.SIGHTING_UNASSIGNED, SID, "gone", now_ms()).model_copy(
        update={"severity": Severity.CRITICAL})
    assert escalate(redis_client, keys, [gone], now_ms()) == []
    assert read_open_alerts(redis_client, keys) == {} and redis_client.xlen(keys.alerts) == 0
