"""Retention against a real Redis: every stream trimmed by age, the picture cleaned, the audit trail kept
longer, the job's own audit entry; then the job as a real process (python -m dispatch retention)."""

from __future__ import annotations

import signal
import time

import orjson
import pytest

from dispatch.clock import now_ms
from dispatch.domain.audit import AuditFilter, make_entry, to_fields
from dispatch.domain.retention import DAY_MS, Treatment, retention_table
from dispatch.keys import Keys
from dispatch.settings import Settings
from dispatch.store.audit import read
from dispatch.store.connection import connect
from dispatch.store.embedded import EmbeddedRedis
from dispatch.store.retention import apply_retention, drop_old_units, trim_stream
from dispatch.store.state import read_snapshot
from tests.support.outage import stop_after_outage
from tests.support.processes import python_module, wait_until

HOUR_MS = 3_600_000


def stream_rules(settings, keys):
    return [rule for rule in retention_table(keys, settings) if rule.treatment is Treatment.TRIM_STREAM]


def ms_of(entry_id: bytes) -> int:
    return int(entry_id.split(b"-")[0])


def put_unit(client, keys, kind: str, unit_id: str, ts: int, *, json_ts: int | None = None, available=False):
    """A picture unit as ingest stores it: JSON in the hash, its ts in the side hash, maybe in the GEO set."""
    id_field = {"drones": "drone_id", "patrols": "patrol_id", "sightings": "sighting_id"}[kind]
    unit = {id_field: unit_id, "ts": ts if json_ts is None else json_ts, "lat": 48.11, "lon": -1.68}
    client.hset(getattr(keys, kind), unit_id, orjson.dumps(unit))
    client.hset(getattr(keys, f"{kind}_ts"), unit_id, ts)
    if available:
        client.geoadd(keys.patrols_available, (-1.68, 48.11, unit_id))


@pytest.fixture
def aged(redis_client, keys, settings):
    """In every stream: entries just past the recordings' limit and entries well within it; in the audit
    stream also entries past the audit limit. In the picture: old and young units of each kind."""
    now = now_ms()
    old, young = now - settings.retention_ms - HOUR_MS, now - HOUR_MS
    audit_old, audit_young = now - settings.audit_retention_ms - HOUR_MS, now - 30 * DAY_MS
    for rule in stream_rules(settings, keys):
        kept_as_audit = rule.period_ms == settings.audit_retention_ms  # the trail, and the zone log with it
        stamps = [audit_old, audit_young, young] if kept_as_audit else [old - 1, old, young, young + 1]
        for seq, ms in enumerate(stamps):
            redis_client.xadd(rule.key, {"n": seq}, id=f"{ms}-{seq}")
    for kind in ("drones", "patrols", "sightings"):
        put_unit(redis_client, keys, kind, f"{kind[:2].upper()}-OLD", old, available=kind == "patrols")
        put_unit(redis_client, keys, kind, f"{kind[:2].upper()}-NEW", young, available=kind == "patrols")
    redis_client.hset(keys.sightings_ts, "closed-long-ago", old)  # a sighting closed: only its ts stays
    redis_client.geoadd(keys.patrols_available, (-1.67, 48.12, "PA-GHOST"))  # in the GEO set, no patrol
    return now, old, young, audit_old, audit_young


def test_an_exact_run_removes_exactly_what_is_past_each_limit(redis_client, keys, settings, aged):
    now, old, young, audit_old, audit_young = aged
    report = apply_retention(redis_client, keys, retention_table(keys, settings), now, exact=True)

    for rule in stream_rules(settings, keys):
        kept = [ms_of(entry_id) for entry_id, _ in redis_client.xrange(rule.key, max=young + 1)]  # not the run's own
        if rule.period_ms == settings.audit_retention_ms:  # the audit trail, and the zone log kept as long
            assert kept[:2] == [audit_young, young], "a month-old audit entry outlives the recordings"
            assert audit_old not in kept
            assert report.counts[rule.name] == 1, rule.name
        else:
            assert kept == [young, young + 1], rule.name
            assert report.counts[rule.name] == 2, rule.name
    assert report.counts["audit"] == 1
    assert report.cutoff_ms == now - settings.retention_ms
    assert report.audit_cutoff_ms == now - settings.audit_retention_ms
    assert report.failed == []


def test_old_units_leave_the_picture_with_their_ts_and_geo_entries(redis_client, keys, settings, aged):
    now, *_ = aged
    report = apply_retention(redis_client, keys, retention_table(keys, settings), now, exact=True)

    assert set(redis_client.hkeys(keys.drones)) == set(redis_client.hkeys(keys.drones_ts)) == {b"DR-NEW"}
    assert set(redis_client.hkeys(keys.patrols)) == set(redis_client.hkeys(keys.patrols_ts)) == {b"PA-NEW"}
    assert set(redis_client.hkeys(keys.sightings)) == set(redis_client.hkeys(keys.sightings_ts)) == {b"SI-NEW"}
    assert redis_client.zrange(keys.patrols_available, 0, -1) == [b"PA-NEW"], "old and orphan members gone"
    assert {name: report.counts[name] for name in (
        "drones", "drones_ts", "patrols", "patrols_ts", "patrols_available", "sightings", "sightings_ts")} == {
        "drones": 1, "drones_ts": 1, "patrols": 1, "patrols_ts": 1, "patrols_available": 2, "sightings": 1,
        "sightings_ts": 2}
    snapshot = read_snapshot(redis_client, keys)
    assert [d["drone_id"] for d in snapshot["drones"]] == ["DR-NEW"]


def test_map_clients_are_told_the_units_that_left(redis_client, keys, settings, aged):
    now, *_ = aged
    redis_client.delete(keys.live)
    apply_retention(redis_client, keys, retention_table(keys, settings), now, exact=True)
    deltas = {name.decode(): orjson.loads(value) for _, fields in redis_client.xrange(keys.live)
              for name, value in fields.items()}
    assert deltas == {"drones": [{"drone_id": "DR-OLD", "closed": True}],
                      "patrols": [{"patrol_id": "PA-OLD", "closed": True}],
                      "sightings": [{"sighting_id": "SI-OLD", "closed": True}]}


def test_each_run_records_one_audit_entry_with_its_counts(redis_client, keys, settings, aged):
    now, *_ = aged
    report = apply_retention(redis_client, keys, retention_table(keys, settings), now, exact=True)
    [entry] = read(redis_client, keys, filters=AuditFilter.of(action="retention_trimmed"))
    assert entry.entry_id == report.audit_id
    assert (entry.actor, entry.role, entry.target, entry.origin, entry.outcome, entry.ts) == (
        "system", "system", keys.site, "internal", "ok", now)
    assert entry.details == {**report.counts, "mode": "exact", "cutoff_ms": report.cutoff_ms,
                             "audit_cutoff_ms": report.audit_cutoff_ms}
    assert entry.details["in_telemetry"] == 2 and entry.details["drones"] == 1

    again = apply_retention(redis_client, keys, retention_table(keys, settings), now, exact=True)
    assert not any(again.counts.values()), "a second run finds nothing left to remove"
    assert len(read(redis_client, keys, filters=AuditFilter.of(action="retention_trimmed"))) == 2


def test_a_unit_reported_again_since_the_scan_is_kept(redis_client, keys, settings):
    """The script decides on the ts it reads itself: a stale ts hash alone does not drop a fresh unit."""
    now = now_ms()
    cutoff = now - settings.retention_ms
    put_unit(redis_client, keys, "drones", "DR-1", cutoff - 1, json_ts=now)
    rule = next(r for r in retention_table(keys, settings) if r.name == "drones")
    assert drop_old_units(redis_client, rule, cutoff, live_key=keys.live, live_maxlen=1_000)[keys.drones] == 0
    assert redis_client.hexists(keys.drones, "DR-1")


def test_a_unit_whose_age_cannot_be_read_is_kept(redis_client, keys, settings):
    redis_client.hset(keys.drones, "DR-2", b"not json")
    redis_client.geoadd(keys.patrols_available, (-1.67, 48.12, "PA-3"))
    redis_client.hset(keys.patrols, "PA-3", b"{broken")
    apply_retention(redis_client, keys, retention_table(keys, settings), now_ms(), exact=True)
    assert redis_client.hexists(keys.drones, "DR-2")
    assert redis_client.zscore(keys.patrols_available, "PA-3") is not None


def test_a_key_of_the_wrong_type_is_reported_and_the_others_still_cleaned(redis_client, keys, settings, aged):
    now, *_ = aged
    redis_client.delete(keys.deadletter)
    redis_client.set(keys.deadletter, "written by hand")
    report = apply_retention(redis_client, keys, retention_table(keys, settings), now, exact=True)
    assert report.failed == ["deadletter"]
    assert report.counts["in_telemetry"] == 2
    [entry] = read(redis_client, keys, filters=AuditFilter.of(action="retention_trimmed"))
    assert entry.details["failed"] == "deadletter"


def test_approximate_trimming_keeps_young_entries_and_at_most_one_node_of_old_ones(redis_client, keys):
    node = int(redis_client.config_get("stream-node-max-entries")["stream-node-max-entries"])
    base = now_ms() - 10 * DAY_MS
    pipe = redis_client.pipeline(transaction=False)
    for i in range(25 * node + 7):
        pipe.xadd(keys.live, {"n": i}, id=f"{base + i}-0")
    for i in range(10):
        pipe.xadd(keys.live, {"n": i}, id=f"{base + DAY_MS + i}-0")
    pipe.execute()
    cutoff = base + DAY_MS

    removed = trim_stream(redis_client, keys.live, cutoff, limit=3 * node)  # several calls: one would stop at 3 nodes
    left = [ms_of(entry_id) for entry_id, _ in redis_client.xrange(keys.live)]
    left_old = [ms for ms in left if ms < cutoff]
    assert len(left_old) < node, f"{len(left_old)} old entries left, at most one node ({node})"
    assert removed == 25 * node + 7 - len(left_old) and removed >= 24 * node
    assert left[-10:] == [cutoff + i for i in range(10)], "every young entry kept"

    assert trim_stream(redis_client, keys.live, cutoff, exact=True) == len(left_old)
    assert [ms_of(entry_id) for entry_id, _ in redis_client.xrange(keys.live)] == [cutoff + i for i in range(10)]


def test_the_audit_entries_the_app_writes_are_trimmed_by_their_recorded_time(redis_client, keys, settings):
    now = now_ms()
    long_ago = now - settings.audit_retention_ms - DAY_MS
    entry = make_entry(ts=now, actor="SUP-1", role="supervisor", action="sign_in")  # ts says now...
    redis_client.xadd(keys.audit, to_fields(entry), id=f"{long_ago}-0")  # ...but it was recorded long ago
    apply_retention(redis_client, keys, retention_table(keys, settings), now, exact=True)
    assert [e.action for e in read(redis_client, keys)] == ["retention_trimmed"]


# --- The process --------------------------------------------------------------------

def retention_entries(client, keys):
    return read(client, keys, filters=AuditFilter.of(action="retention_trimmed"))


def test_the_job_runs_at_start_then_every_interval_and_stops_on_sigterm(redis_client, keys, settings, aged):
    job = python_module("retention", "dispatch.services.retention", settings, "--exact",
                        DISPATCH_RETENTION_INTERVAL_S="1").start()
    try:
        first = wait_until(lambda: retention_entries(redis_client, keys), timeout=15, what="the first run")
        assert first[0].details["in_telemetry"] == 2 and first[0].details["mode"] == "exact"
        assert redis_client.hkeys(keys.drones) == [b"DR-NEW"]
        wait_until(lambda: len(retention_entries(redis_client, keys)) >= 3, timeout=15, what="runs every second")
        job.signal(signal.SIGTERM)
        assert job.stop() == 0, job.output()
    finally:
        job.stop()
    assert "retention stopped after" in job.output()


def test_the_job_runs_once_and_exits(redis_client, keys, settings, aged):
    job = python_module("retention-once", "dispatch.services.retention", settings, "--once", "--exact").start()
    job.process.wait(timeout=30)
    assert job.process.returncode == 0, job.output()
    assert len(retention_entries(redis_client, keys)) == 1


def test_the_job_refuses_an_unusable_interval(settings):
    job = python_module("retention-bad", "dispatch.services.retention", settings, DISPATCH_RETENTION_INTERVAL_S="0").start()
    job.process.wait(timeout=30)
    assert job.process.returncode == 2
    assert "DISPATCH_RETENTION_INTERVAL_S must be at least 1" in job.output()


def test_the_job_survives_redis_going_away(tmp_path, site):
    server = EmbeddedRedis(tmp_path / "redis", persistent=False).start()
    settings = Settings.from_env({"REDIS_URL": server.url, "DISPATCH_SITE": site})
    keys = Keys(site)
    job = python_module("retention", "dispatch.services.retention", settings, DISPATCH_RETENTION_INTERVAL_S="1").start()
    client = connect(server.url)
    try:
        wait_until(lambda: retention_entries(client, keys), timeout=15, what="the first run")
        server.stop()
        time.sleep(2.5)  # longer than the client's own retries: the job must back off and reconnect
        server.start()
        assert job.running, job.output()
        wait_until(lambda: retention_entries(client, keys), timeout=20, what="a run after the restart")
        assert "Redis unavailable" in job.output()
    finally:
        code = stop_after_outage(job, client, server)
    assert code == 0, job.output()


def test_an_open_alert_keeps_no_position_past_the_recordings_period(redis_client, keys, settings):
    """An assignment nobody acknowledges keeps its alert open for days; its position goes at the legal limit."""
    from dispatch.domain.alerts import AlertKind, new_alert
    from dispatch.store.alerts import AlertStore, acknowledge, read_open_alerts

    now = now_ms()
    old, young = now - settings.retention_ms - HOUR_MS, now - HOUR_MS
    store = AlertStore(redis_client, keys, retention_ms=settings.retention_ms)
    stale = new_alert(AlertKind.ASSIGNMENT_UNACKNOWLEDGED, "asg-old-01", "BAC-12 has not acknowledged", old,
                      48.11, -1.68, old)
    fresh_alert_old_fix = new_alert(AlertKind.ASSIGNMENT_UNACKNOWLEDGED, "asg-new-01", "BAC-13 ...", young,
                                    48.12, -1.67, old)
    recent = new_alert(AlertKind.LINK_LOST, "DR-07", "DR-07 link lost", young, 48.13, -1.66)
    store.apply([stale, fresh_alert_old_fix, recent], [], old)
    acknowledge(redis_client, keys, stale.alert_id, "SUP-1", now - 2 * HOUR_MS)
    live_before = redis_client.xlen(keys.live)

    report = apply_retention(redis_client, keys, retention_table(keys, settings), now, exact=True)

    after = read_open_alerts(redis_client, keys)
    assert set(after) == {stale.alert_id, fresh_alert_old_fix.alert_id, recent.alert_id}, "still open"
    for gone in (stale.alert_id, fresh_alert_old_fix.alert_id):
        assert (after[gone].lat, after[gone].lon) == (None, None), gone
    assert after[stale.alert_id].acknowledged_by == "SUP-1", "everything but the position stays"
    assert (after[recent.alert_id].lat, after[recent.alert_id].lon) == (48.13, -1.66)
    assert b"48.11" not in b"".join(redis_client.hvals(keys.alerts_open))
    assert report.counts["alerts_open"] == 2
    [(_, delta)] = redis_client.xrange(keys.live, "-", "+")[live_before:][:1]
    published = {item["alert_id"]: item for item in orjson.loads(delta[b"alerts"])}
    assert set(published) == {stale.alert_id, fresh_alert_old_fix.alert_id}
    assert all(item["lat"] is None for item in published.values()), "screens drop the marker"

    again = apply_retention(redis_client, keys, retention_table(keys, settings), now, exact=True)
    assert again.counts["alerts_open"] == 0, "idempotent"
