"""The simulator's I/O loop against a real, private redis-server (never the machine's 6379)."""

from __future__ import annotations

import threading
import time

from dispatch.domain.validate import Rejection, validate
from dispatch.settings import Settings
from dispatch.demo.simulator import run
from dispatch.store.connection import connect
from dispatch.store.embedded import EmbeddedRedis, free_port


def received_ms(entry_id: bytes) -> int:
    return int(entry_id.split(b"-")[0])


def test_run_writes_valid_entries_to_the_three_input_streams(settings, redis_client, keys):
    started_ms = time.time_ns() // 1_000_000
    sent = run(settings, duration_s=2.5)

    for kind, stream in keys.inputs.items():
        entries = redis_client.xrange(stream)
        assert entries, f"nothing on {stream}"
        assert sent[kind] == len(entries)
        for entry_id, fields in entries:
            verdict = validate(kind, fields, received_ms(entry_id))
            assert not isinstance(verdict, Rejection), (kind, fields, verdict)
            # Written as it happens: each entry lands within a tick or two of its own ts.
            assert 0 <= received_ms(entry_id) - verdict.ts < 1_000
            assert verdict.ts >= started_ms
    telemetry = redis_client.xrange(keys.in_telemetry)
    assert {fields[b"drone_id"] for _, fields in telemetry} == {b"DR-01", b"DR-02", b"DR-03"}
    assert len(telemetry) >= 3 * 2  # three drones at 1-2 Hz for 2.5 s


def test_run_stops_when_asked(settings):
    stop = threading.Event()
    worker = threading.Thread(target=run, args=(settings,), kwargs={"stop": stop})
    worker.start()
    time.sleep(0.5)
    asked = time.monotonic()
    stop.set()
    worker.join(timeout=5)
    assert not worker.is_alive()
    assert time.monotonic() - asked < 1.0


def test_run_keeps_what_it_produced_while_redis_was_down_and_sends_it_later(tmp_path, site, keys):
    port = free_port()
    settings = Settings.from_env({"REDIS_URL": f"redis://127.0.0.1:{port}/0", "DISPATCH_SITE": site})
    outcome = {}
    worker = threading.Thread(target=lambda: outcome.update(sent=run(settings, duration_s=4.0)))
    run_started_ms = time.time_ns() // 1_000_000
    worker.start()
    time.sleep(1.5)  # the simulator runs against nothing at all for a while
    server = EmbeddedRedis(tmp_path / "late-redis", port=port, persistent=False)
    try:
        server.start()
        redis_up_ms = time.time_ns() // 1_000_000
        worker.join(timeout=30)
        assert not worker.is_alive()
        client = connect(server.url)
        try:
            telemetry = client.xrange(keys.in_telemetry)
            all_entries = {kind: client.xrange(stream) for kind, stream in keys.inputs.items()}
        finally:
            client.close()
    finally:
        server.stop()

    assert outcome["sent"]["telemetry"] == len(telemetry) > 0
    stamps = [int(fields[b"ts"]) for _, fields in telemetry]
    # What was produced during the outage arrived afterwards, in order, nothing skipped at the start.
    assert min(stamps) < redis_up_ms - 1_000
    assert min(stamps) - run_started_ms < 1_000
    assert stamps == sorted(stamps)
    for kind, entries in all_entries.items():
        for entry_id, fields in entries:
            assert not isinstance(validate(kind, fields, received_ms(entry_id)), Rejection)


def test_simulated_crews_follow_a_supervisors_assignment(settings, redis_client, keys):
    """The simulator plays the tablets: an assigned crew acknowledges and heads for the sighting."""
    from dispatch.domain.models import AssignmentState
    from dispatch.store.assignments import assign, open_assignments
    from dispatch.store.state import read_snapshot
    from tests.support.processes import python_module, wait_until

    ingest = python_module("ingest", "dispatch.services.ingest", settings).start()
    stop = threading.Event()
    simulator = threading.Thread(target=run, args=(settings,), kwargs={"stop": stop}, daemon=True)
    simulator.start()
    try:
        def available_patrol_and_sighting():
            snapshot = read_snapshot(redis_client, keys)
            patrols = [p["patrol_id"] for p in snapshot["patrols"] if p["status"] == "available"]
            return (patrols[0], snapshot["sightings"][0]["sighting_id"]) if patrols and snapshot["sightings"] else None

        patrol_id, sighting_id = wait_until(available_patrol_and_sighting, timeout=30,
                                            what="an available patrol and a sighting")
        made = assign(redis_client, keys, sighting_id=sighting_id, patrol_id=patrol_id, supervisor_id="SUP-1")

        def state():
            current = [a for a in open_assignments(redis_client, keys) if a["assignment_id"] == made.assignment_id]
            return current[0]["state"] if current else None

        wait_until(lambda: state() == AssignmentState.EN_ROUTE.value, timeout=25,
                   what="the crew to acknowledge and head out (3-12 s + 1-5 s)")
        events = [fields[b"state"].decode() for _, fields in redis_client.xrange(keys.assignments)
                  if fields[b"assignment_id"].decode() == made.assignment_id]
        assert events == ["assigned", "acknowledged", "en_route"]
        (patrol,) = [p for p in read_snapshot(redis_client, keys)["patrols"] if p["patrol_id"] == patrol_id]
        assert patrol["status"] == "en_route"
    finally:
        stop.set()
        simulator.join(timeout=10)
        ingest.stop()
