"""The alert watcher against a real Redis: in-process with a controlled clock, then as real processes
behind the real ingest worker (python -m dispatch ingest, python -m dispatch watch)."""

from __future__ import annotations

import signal
import threading
import time

import orjson
import pytest

from dispatch.clock import now_ms
from dispatch.domain.alerts import AlertError, AlertState, diff, evaluate, zone_audit_entries
from dispatch.domain.audit import Action
from dispatch.keys import Keys
from dispatch.settings import Settings
from dispatch.store.alerts import AlertStore, acknowledge, alert_events, read_open_alerts
from dispatch.store.audit import read as read_audit
from dispatch.store.connection import connect
from dispatch.demo.scenario_rennes import ZONES as DEMO
from dispatch.store.embedded import EmbeddedRedis
from dispatch.store.state import read_snapshot
from dispatch.store.zones import load_zones
from dispatch.demo.zones import seed_demo_zones
from dispatch.services.watch import AlertWatcher, WatchOptions
from tests.support.processes import python_module, wait_until

INSIDE = DEMO[0].launch
OUTSIDE = (48.1040, -1.6722)  # the railway station, in no zone


def telemetry(drone_id: str, ts: int, at: tuple[float, float], battery: float = 80.0) -> dict:
    return {"drone_id": drone_id, "ts": ts, "lat": at[0], "lon": at[1], "alt_m": 80.0, "heading_deg": 0.0,
            "speed_mps": 5.0, "battery_pct": battery}


def live_alerts(client, keys) -> list[dict]:
    return [item for _, fields in client.xrange(keys.live) if b"alerts" in fields
            for item in orjson.loads(fields[b"alerts"])]


def events(client, keys) -> list[tuple[str, str]]:
    return [(event["event"], event["alert_id"]) for event in alert_events(client, keys)]


class Clock:
    def __init__(self, t_ms: int):
        self.t_ms = t_ms

    def __call__(self) -> int:
        return self.t_ms


# --- In-process, controlled clock ------------------------------------------------

@pytest.fixture
def world(settings, keys, redis_client):
    """A watcher on a clock the test moves, the demo zones, and a way to place units in the picture."""
    clock = Clock(now_ms())
    seed_demo_zones(redis_client, keys, clock.t_ms)
    watcher = AlertWatcher(settings, clock=clock, client=redis_client)

    def put(hash_key: str, unit_id: str, unit: dict) -> None:
        redis_client.hset(hash_key, unit_id, orjson.dumps(unit))

    return watcher, clock, put


def test_lifecycle_raise_acknowledge_keep_resolve(world, keys, redis_client):
    watcher, clock, put = world
    put(keys.drones, "DR-07", telemetry("DR-07", clock.t_ms, OUTSIDE))
    assert watcher.tick().raised == ["outside_zone:DR-07"]
    assert watcher.tick().raised == [], "raised once"

    acked = acknowledge(redis_client, keys, "outside_zone:DR-07", "SUP-1", clock.t_ms + 100)
    assert acked.state is AlertState.ACKNOWLEDGED
    for _ in range(3):
        clock.t_ms += 1_000
        put(keys.drones, "DR-07", telemetry("DR-07", clock.t_ms, OUTSIDE))
        watcher.tick()
    assert read_open_alerts(redis_client, keys)["outside_zone:DR-07"] == acked, "acknowledgement kept"

    clock.t_ms += 1_000
    put(keys.drones, "DR-07", telemetry("DR-07", clock.t_ms, INSIDE))
    assert watcher.tick().resolved == ["outside_zone:DR-07"]
    assert read_open_alerts(redis_client, keys) == {}

    assert events(redis_client, keys) == [("raised", "outside_zone:DR-07"), ("acknowledged", "outside_zone:DR-07"),
                                          ("resolved", "outside_zone:DR-07")]
    raised, acknowledged, resolved = alert_events(redis_client, keys)
    assert acknowledged["by"] == "SUP-1" and acknowledged["ts"] == clock.t_ms - 3_900
    assert resolved["alert"]["acknowledged_by"] == "SUP-1", "the record says who had acknowledged it"
    assert resolved["ts"] == clock.t_ms
    assert [(a["alert_id"], a.get("state"), a.get("closed")) for a in live_alerts(redis_client, keys)] == [
        ("outside_zone:DR-07", "raised", None), ("outside_zone:DR-07", "acknowledged", None),
        ("outside_zone:DR-07", None, True)]

    with pytest.raises(AlertError, match="already resolved"):
        acknowledge(redis_client, keys, "outside_zone:DR-07", "SUP-1", clock.t_ms)


def test_a_drone_leaving_its_zones_is_on_the_audit_trail_once_with_its_end(world, keys, redis_client):
    watcher, clock, put = world
    left_at = clock.t_ms
    put(keys.drones, "DR-07", telemetry("DR-07", left_at, OUTSIDE))
    put(keys.drones, "DR-08", telemetry("DR-08", left_at - 6_000, INSIDE))  # link lost: not a legal fact
    watcher.tick()
    second = AlertWatcher(watcher.settings, clock=clock, client=redis_client)  # one started by mistake
    zones = load_zones(redis_client, keys)
    raised, resolved = diff({}, evaluate(read_snapshot(redis_client, keys), zones, clock.t_ms))
    assert second.store.apply(raised, resolved, clock.t_ms,
                              zone_audit_entries(raised, resolved, zones, clock.t_ms)).raised == []
    clock.t_ms += 42_000
    put(keys.drones, "DR-07", telemetry("DR-07", clock.t_ms, INSIDE))
    watcher.tick()

    trail = [entry for entry in read_audit(redis_client, keys) if entry.actor == "system"
             and entry.action in (Action.DRONE_LEFT_ZONES, Action.DRONE_BACK_IN_ZONE)]
    assert [(e.action, e.target, e.role.value) for e in trail] == [
        (Action.DRONE_LEFT_ZONES, "DR-07", "system"), (Action.DRONE_BACK_IN_ZONE, "DR-07", "system")]
    left, back = trail
    valid = sorted(zone.zone_id for zone in load_zones(redis_client, keys))
    assert left.details == {"alert_id": "outside_zone:DR-07", "fix_ms": left_at, "zones_valid": ",".join(valid)}
    assert "lat" not in left.details and "lon" not in left.details, "no position on a trail kept a year"
    assert back.details["outside_ms"] == 42_000 and back.ts == clock.t_ms


def test_acknowledging_is_refused_readably(world, keys, redis_client):
    watcher, clock, put = world
    put(keys.drones, "DR-07", telemetry("DR-07", clock.t_ms - 6_000, INSIDE))
    watcher.tick()
    with pytest.raises(AlertError, match="unknown alert 'bogus'"):
        acknowledge(redis_client, keys, "bogus", "SUP-1", clock.t_ms)
    with pytest.raises(AlertError, match="not open"):
        acknowledge(redis_client, keys, "link_lost:DR-99", "SUP-1", clock.t_ms)
    with pytest.raises(AlertError, match="supervisor_id: bad format"):
        acknowledge(redis_client, keys, "link_lost:DR-07", "Martin", clock.t_ms)
    acknowledge(redis_client, keys, "link_lost:DR-07", "SUP-1", clock.t_ms)
    with pytest.raises(AlertError, match="already acknowledged by SUP-1"):
        acknowledge(redis_client, keys, "link_lost:DR-07", "SUP-2", clock.t_ms)
    assert [e for e, _ in events(redis_client, keys)] == ["raised", "acknowledged"], "refusals record nothing"


def test_silence_and_time_passing_alone_raise_alerts(world, keys, redis_client):
    watcher, clock, put = world
    put(keys.drones, "DR-07", telemetry("DR-07", clock.t_ms, INSIDE))
    put(keys.patrols, "BAC-12", {"patrol_id": "BAC-12", "ts": clock.t_ms, "lat": 48.11, "lon": -1.68,
                                 "status": "available"})
    assert watcher.tick().raised == []
    clock.t_ms += 5_001
    assert watcher.tick().raised == ["link_lost:DR-07"]
    clock.t_ms += 115_000
    assert watcher.tick().raised == ["patrol_stale:BAC-12"]


def test_open_assignments_are_read_when_the_snapshot_lacks_them(world, keys, redis_client):
    watcher, clock, put = world
    put(keys.sightings, "sighting-0001", {"sighting_id": "sighting-0001", "ts": clock.t_ms, "drone_id": "DR-07",
                                          "operator_id": "OP-3", "category": "deal", "lat": 48.12, "lon": -1.71,
                                          "priority": 1, "note": ""})
    put(keys.sightings, "sighting-0002", {"sighting_id": "sighting-0002", "ts": clock.t_ms, "drone_id": "DR-07",
                                          "operator_id": "OP-3", "category": "deal", "lat": 48.12, "lon": -1.71,
                                          "priority": 1, "note": ""})
    put(keys.assignments_open, "asg-000001", {"assignment_id": "asg-000001", "sighting_id": "sighting-0001",
                                              "patrol_id": "BAC-12", "supervisor_id": "SUP-1",
                                              "state": "assigned", "ts": clock.t_ms})
    clock.t_ms += 30_001
    assert watcher.tick().raised == ["assignment_unacknowledged:asg-000001", "sighting_unassigned:sighting-0002"]


def test_two_watchers_by_mistake_record_each_event_once(world, settings, keys, redis_client):
    watcher, clock, put = world
    twin = AlertStore(redis_client, keys)
    put(keys.drones, "DR-07", telemetry("DR-07", clock.t_ms, OUTSIDE))
    # The twin judged the same picture against the same open set, but records second.
    stale_current = evaluate(read_snapshot(redis_client, keys), load_zones(redis_client, keys), clock.t_ms)
    stale_raised, _ = diff(read_open_alerts(redis_client, keys), stale_current)
    assert [a.alert_id for a in stale_raised] == ["outside_zone:DR-07"]
    assert watcher.tick().raised == ["outside_zone:DR-07"]
    assert twin.apply(stale_raised, [], clock.t_ms).raised == [], "already open: not raised again"

    clock.t_ms += 1_000
    put(keys.drones, "DR-07", telemetry("DR-07", clock.t_ms, INSIDE))
    assert watcher.tick().resolved == ["outside_zone:DR-07"]
    assert twin.apply([], stale_raised, clock.t_ms).resolved == [], "already resolved: not resolved again"
    assert events(redis_client, keys) == [("raised", "outside_zone:DR-07"), ("resolved", "outside_zone:DR-07")]
    assert len(live_alerts(redis_client, keys)) == 2


# --- Real processes ----------------------------------------------------------------

class Feeder:
    """A drone bridge: XADDs one drone's telemetry every 200 ms at `position`, until paused."""

    def __init__(self, client, keys, drone_id="DR-07", position=OUTSIDE):
        self.client, self.keys, self.drone_id, self.position = client, keys, drone_id, position
        self.sent_at: float | None = None
        self.paused = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self.paused.is_set():
                self.client.xadd(self.keys.in_telemetry, telemetry(self.drone_id, now_ms(), self.position))
            self._stop.wait(0.2)

    def move(self, position) -> float:
        self.position = position
        return time.monotonic()

    def __enter__(self) -> "Feeder":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


@pytest.fixture
def processes(settings, keys, redis_client):
    """The real ingest worker and a watcher factory; everything stopped at the end."""
    seed_demo_zones(redis_client, keys, now_ms())
    started = [python_module("ingest", "dispatch.services.ingest", settings).start()]

    def start_watcher(**env: str):
        watcher = python_module("watch", "dispatch.services.watch", settings, **env).start()
        started.append(watcher)
        return watcher

    yield start_watcher
    for service in reversed(started):
        service.stop()


def is_open(client, keys, alert_id: str) -> bool:
    return client.hexists(keys.alerts_open, alert_id)


def test_outside_zone_is_raised_within_2_s_and_resolved_when_the_drone_is_back(processes, keys, redis_client):
    watcher = processes()  # default 1 s interval, as in production
    with Feeder(redis_client, keys, position=INSIDE) as feeder:
        wait_until(lambda: redis_client.hexists(keys.drones, "DR-07"), timeout=5, what="ingest running")
        time.sleep(1.2)
        assert read_open_alerts(redis_client, keys) == {}, watcher.output()

        moved = feeder.move(OUTSIDE)
        wait_until(lambda: is_open(redis_client, keys, "outside_zone:DR-07"), timeout=2.5,
                   what=f"outside_zone raised\n{watcher.output()}")
        raised_after = time.monotonic() - moved

        moved = feeder.move(INSIDE)
        wait_until(lambda: not is_open(redis_client, keys, "outside_zone:DR-07"), timeout=2.5,
                   what=f"outside_zone resolved\n{watcher.output()}")
        resolved_after = time.monotonic() - moved

    assert events(redis_client, keys) == [("raised", "outside_zone:DR-07"), ("resolved", "outside_zone:DR-07")]
    [raised, resolved] = [a for a in live_alerts(redis_client, keys)]
    assert raised["severity"] == "critical" and "outside every authorised zone" in raised["message"]
    assert (raised["lat"], raised["lon"]) == OUTSIDE
    assert resolved == {"alert_id": "outside_zone:DR-07", "kind": "outside_zone", "unit_id": "DR-07",
                        "closed": True}
    assert "raised outside_zone:DR-07" in watcher.output()
    print(f"outside_zone raised after {raised_after:.2f} s, resolved after {resolved_after:.2f} s")


def test_link_lost_after_silence_then_resolved_when_telemetry_resumes(processes, keys, redis_client):
    watcher = processes(DISPATCH_ALERT_LINK_LOST_S="1", DISPATCH_WATCH_INTERVAL_MS="200")
    with Feeder(redis_client, keys, position=INSIDE) as feeder:
        wait_until(lambda: redis_client.hexists(keys.drones, "DR-07"), timeout=5, what="ingest running")
        time.sleep(1.5)
        assert not is_open(redis_client, keys, "link_lost:DR-07"), "fed every 200 ms: never lost"

        feeder.paused.set()
        silent = time.monotonic()
        wait_until(lambda: is_open(redis_client, keys, "link_lost:DR-07"), timeout=3,
                   what=f"link_lost raised\n{watcher.output()}")
        assert time.monotonic() - silent > 0.8, "not before the threshold"

        feeder.paused.clear()
        wait_until(lambda: not is_open(redis_client, keys, "link_lost:DR-07"), timeout=3,
                   what=f"link_lost resolved\n{watcher.output()}")
    assert events(redis_client, keys) == [("raised", "link_lost:DR-07"), ("resolved", "link_lost:DR-07")]
    [alert] = [e["alert"] for e in alert_events(redis_client, keys) if e["event"] == "raised"]
    assert alert["severity"] == "critical" and alert["message"].startswith("DR-07 link lost: no telemetry since")


def test_an_acknowledgement_persists_across_ticks_and_is_streamed(processes, keys, redis_client):
    watcher = processes(DISPATCH_WATCH_INTERVAL_MS="200")
    with Feeder(redis_client, keys, position=OUTSIDE) as feeder:
        wait_until(lambda: is_open(redis_client, keys, "outside_zone:DR-07"), timeout=5,
                   what=f"outside_zone raised\n{watcher.output()}")
        acknowledge(redis_client, keys, "outside_zone:DR-07", "SUP-4", now_ms())
        time.sleep(1.0)  # five ticks of the watcher while the condition holds
        stored = read_open_alerts(redis_client, keys)["outside_zone:DR-07"]
        assert (stored.state, stored.acknowledged_by) == (AlertState.ACKNOWLEDGED, "SUP-4")

        feeder.move(INSIDE)
        wait_until(lambda: not is_open(redis_client, keys, "outside_zone:DR-07"), timeout=3,
                   what=f"outside_zone resolved\n{watcher.output()}")
    assert [e for e, _ in events(redis_client, keys)] == ["raised", "acknowledged", "resolved"]
    acknowledged = alert_events(redis_client, keys)[1]
    assert acknowledged["by"] == "SUP-4" and acknowledged["alert"]["state"] == "acknowledged"
    assert [a.get("state") for a in live_alerts(redis_client, keys)] == ["raised", "acknowledged", None]


def test_the_watcher_survives_redis_restarting_and_stops_cleanly_on_sigterm(tmp_path, site):
    server = EmbeddedRedis(tmp_path / "redis", persistent=False).start()
    settings = Settings.from_env({"REDIS_URL": server.url, "DISPATCH_SITE": site})
    keys = Keys(site)
    client = connect(server.url)
    watcher = python_module("watch", "dispatch.services.watch", settings, DISPATCH_WATCH_INTERVAL_MS="200").start()
    try:
        client.hset(keys.drones, "DR-07", orjson.dumps(telemetry("DR-07", now_ms(), OUTSIDE)))
        wait_until(lambda: is_open(client, keys, "outside_zone:DR-07"), timeout=5, what="first alert")

        server.stop()
        time.sleep(1.5)  # longer than the client's own retries: the watcher must back off and reconnect
        server.start()  # without persistence: everything is gone, including the Lua script cache
        assert watcher.running, watcher.output()

        client.hset(keys.drones, "DR-08", orjson.dumps(telemetry("DR-08", now_ms(), OUTSIDE)))
        wait_until(lambda: is_open(client, keys, "outside_zone:DR-08"), timeout=10,
                   what=f"alert after the restart\n{watcher.output()}")
        assert "Redis unavailable" in watcher.output()
    finally:
        watcher.signal(signal.SIGTERM)
        code = watcher.process.wait(timeout=10)  # one SIGTERM, as systemd or Kubernetes send
        watcher.stop()
        client.close()
        server.stop()
    assert code == 0, "the watcher stops cleanly on SIGTERM"
    assert "alert watcher stopped after" in watcher.output()


def test_a_repeated_sigterm_does_not_turn_a_clean_stop_into_a_kill(settings, redis_client, keys):
    watcher = python_module("watch", "dispatch.services.watch", settings, DISPATCH_WATCH_INTERVAL_MS="200").start()
    try:
        wait_until(lambda: "alert watcher on site" in watcher.output(), timeout=10, what="watcher started")
        for _ in range(5):
            watcher.signal(signal.SIGTERM)
            time.sleep(0.01)
        assert watcher.process.wait(timeout=10) == 0, watcher.output()
    finally:
        watcher.stop()


@pytest.mark.parametrize("variable, value", [
    ("DISPATCH_ALERT_LINK_LOST_S", "soon"), ("DISPATCH_ALERT_LOW_BATTERY_PCT", "120"),
    ("DISPATCH_WATCH_INTERVAL_MS", "0"), ("DISPATCH_TIMEZONE", "Mars/Olympus"),
])
def test_a_bad_setting_stops_the_watcher_with_a_reason(settings, variable, value):
    watcher = python_module("watch", "dispatch.services.watch", settings, **{variable: value}).start()
    assert watcher.process.wait(timeout=20) == 2
    assert variable in watcher.output()


def test_options_come_from_the_settings(settings):
    env = {**settings.as_env(), "DISPATCH_ALERT_LINK_LOST_S": "1.5", "DISPATCH_ALERT_UNACKNOWLEDGED_S": "45",
           "DISPATCH_WATCH_INTERVAL_MS": "500", "DISPATCH_TIMEZONE": "Europe/Brussels"}
    options = WatchOptions.from_settings(Settings.from_env(env))
    assert options.thresholds.link_lost_ms == 1_500
    assert options.thresholds.assignment_unacknowledged_ms == 45_000
    assert options.thresholds.patrol_stale_ms == 120_000
    assert (options.interval_ms, options.tz) == (500, "Europe/Brussels")
