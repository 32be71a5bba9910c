"""Assignments against a real Redis: every write of each step, refusals that change nothing, races."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from datetime import datetime, timezone

import orjson
import pytest

from dispatch.domain.batch import RawEntry, plan_batch
from dispatch.domain.geo import haversine_m
from dispatch.domain.lifecycle import check_transition, is_open
from dispatch.domain.models import EVENT_ID, Assignment, AssignmentState
from dispatch.store import assignments as store
from dispatch.store.assignments import AssignmentRefused, assign, cancel, open_assignments, reassign, transition
from dispatch.store.connection import connect
from dispatch.store.scripts import IngestScript

T_14_02_11 = int(datetime(2026, 7, 14, 12, 2, 11, tzinfo=timezone.utc).timestamp() * 1000)  # Paris summer time


def now_ms() -> int:
    return int(time.time() * 1000)


def ingest(client, keys, *, patrols=(), sightings=()):
    """Write reports through the real ingest step, so the picture is exactly what ingest makes."""
    received = now_ms()
    entries = [RawEntry(kind, f"{received}-{i}", {n.encode(): str(v).encode() for n, v in fields.items()})
               for i, (kind, fields) in enumerate([("patrol", p) for p in patrols] + [("sighting", s) for s in sightings])]
    IngestScript(client, keys, live_maxlen=10_000)(plan_batch(entries))


def patrol(patrol_id="BAC-12", status="available", lat=48.112, lon=-1.675, ts=None):
    return {"patrol_id": patrol_id, "ts": ts or now_ms() - 5_000, "lat": lat, "lon": lon, "status": status}


def sighting(sighting_id="sight-0001", lat=48.1105, lon=-1.6801, ts=None):
    return {"sighting_id": sighting_id, "ts": ts or now_ms() - 5_000, "drone_id": "DR-07", "operator_id": "OP-1",
            "category": "deal", "lat": lat, "lon": lon, "priority": 1, "note": "échanges au pied de l'escalier"}


def stored_patrol(client, keys, patrol_id="BAC-12") -> dict:
    return orjson.loads(client.hget(keys.patrols, patrol_id))


def last_live(client, keys) -> dict[str, list]:
    (_, fields), = client.xrevrange(keys.live, count=1)
    return {name.decode(): orjson.loads(value) for name, value in fields.items()}


def events(client, keys) -> list[dict[str, str]]:
    return [{n.decode(): v.decode() for n, v in fields.items()} for _, fields in client.xrange(keys.assignments)]


def everything(client, keys) -> dict:
    """Every key an assignment step may write, to prove that a refused step wrote none."""
    return {
        "patrols": client.hgetall(keys.patrols),
        "sightings": client.hgetall(keys.sightings),
        "available": client.zrange(keys.patrols_available, 0, -1, withscores=True),
        "patrol_assignment": client.hgetall(keys.patrol_assignment),
        "open": client.hgetall(keys.assignments_open),
        "events": client.xlen(keys.assignments),
        "live": client.xlen(keys.live),
    }


# ----------------------------------------------------------------------------- assign


def test_assign_writes_every_key_and_publishes_one_delta(scene, keys):
    client = scene
    before = stored_patrol(client, keys)
    live_before = client.xlen(keys.live)
    made = assign(client, keys, sighting_id="sight-0001", patrol_id="BAC-12", supervisor_id="SUP-2",
                  now_ms=T_14_02_11)

    assert (made.sighting_id, made.patrol_id, made.supervisor_id) == ("sight-0001", "BAC-12", "SUP-2")
    assert (made.state, made.ts, made.assigned_ts, made.outcome) == ("assigned", T_14_02_11, T_14_02_11, None)
    assert EVENT_ID and Assignment.model_validate(made.model_dump()) == made
    assert len(made.assignment_id) == 32

    assert Assignment.model_validate_json(client.hget(keys.assignments_open, made.assignment_id)) == made
    assert client.hgetall(keys.patrol_assignment) == {b"BAC-12": made.assignment_id.encode()}
    assert client.zscore(keys.patrols_available, "BAC-12") is None
    assert client.zscore(keys.patrols_available, "GN-4") is not None, "the other patrol is untouched"
    assert stored_patrol(client, keys) == {**before, "status": "assigned"}, "status only: ts and position kept"
    assert client.hexists(keys.sightings, "sight-0001"), "the sighting stays open while a patrol is on it"

    (event,) = events(client, keys)
    assert event == {"assignment_id": made.assignment_id, "sighting_id": "sight-0001", "patrol_id": "BAC-12",
                     "supervisor_id": "SUP-2", "ts": str(T_14_02_11), "state": "assigned",
                     "assigned_ts": str(T_14_02_11), "actor": "SUP-2", "role": "supervisor",
                     "event": "created"}

    assert client.xlen(keys.live) == live_before + 1
    delta = last_live(client, keys)
    assert set(delta) == {"assignments", "patrols"}
    assert [Assignment.model_validate(a) for a in delta["assignments"]] == [made]
    assert delta["patrols"] == [{**before, "status": "assigned"}]
    assert open_assignments(client, keys) == [orjson.loads(made.model_dump_json())]


def test_a_given_assignment_id_is_used_and_a_duplicate_open_one_refused(scene, keys):
    made = assign(scene, keys, sighting_id="sight-0001", patrol_id="BAC-12", supervisor_id="SUP-1",
                  assignment_id="asg-fixed-01")
    assert made.assignment_id == "asg-fixed-01"
    with pytest.raises(AssignmentRefused, match="assignment id asg-fixed-01 is already in use"):
        assign(scene, keys, sighting_id="sight-0002", patrol_id="GN-4", supervisor_id="SUP-1",
               assignment_id="asg-fixed-01")


def test_an_already_assigned_patrol_is_refused_with_who_and_when_and_nothing_changes(scene, keys):
    first = assign(scene, keys, sighting_id="sight-0001", patrol_id="BAC-12", supervisor_id="SUP-2",
                   now_ms=T_14_02_11)
    transition(scene, keys, assignment_id=first.assignment_id, new_state="acknowledged", actor_id="BAC-12",
               actor_role="patrol", now_ms=T_14_02_11 + 60_000)
    before = everything(scene, keys)
    with pytest.raises(AssignmentRefused) as refused:
        assign(scene, keys, sighting_id="sight-0002", patrol_id="BAC-12", supervisor_id="SUP-1")
    assert refused.value.reason == "BAC-12 is already assigned to sighting sight-0001 (by SUP-2, 14:02:11)"
    assert str(refused.value) == refused.value.reason
    assert everything(scene, keys) == before


@pytest.mark.parametrize("patrol_id, reason", [
    ("BAC-7", "BAC-7 is not available (unavailable)"),
    ("CRS-1", "CRS-1 is not available (no report received from it)"),
])
def test_a_patrol_that_is_not_available_is_refused_and_nothing_changes(scene, keys, patrol_id, reason):
    before = everything(scene, keys)
    with pytest.raises(AssignmentRefused) as refused:
        assign(scene, keys, sighting_id="sight-0001", patrol_id=patrol_id, supervisor_id="SUP-1")
    assert refused.value.reason == reason
    assert everything(scene, keys) == before


def test_an_unknown_sighting_or_a_malformed_id_is_refused(scene, keys):
    before = everything(scene, keys)
    with pytest.raises(AssignmentRefused, match="sighting sight-9999 is not open"):
        assign(scene, keys, sighting_id="sight-9999", patrol_id="BAC-12", supervisor_id="SUP-1")
    with pytest.raises(AssignmentRefused, match="supervisor_id: bad format 'Martin'"):
        assign(scene, keys, sighting_id="sight-0001", patrol_id="BAC-12", supervisor_id="Martin")
    assert everything(scene, keys) == before


# ----------------------------------------------------------------------------- lifecycle


def test_full_lifecycle_frees_the_patrol_at_its_last_position_and_closes_the_sighting(scene, keys):
    client = scene
    made = assign(client, keys, sighting_id="sight-0001", patrol_id="BAC-12", supervisor_id="SUP-1")
    # The crew drives: its reports move it but, while assigned, never make it available.
    ingest(client, keys, patrols=[patrol("BAC-12", lat=48.1101, lon=-1.6799, ts=now_ms() - 1_000)])
    assert stored_patrol(client, keys)["status"] == "assigned"
    assert client.zscore(keys.patrols_available, "BAC-12") is None

    steps = [("acknowledged", "assigned"), ("en_route", "en_route"), ("on_scene", "on_scene")]
    for state, patrol_status in steps:
        moved = transition(client, keys, assignment_id=made.assignment_id, new_state=state,
                           actor_id="BAC-12", actor_role="patrol")
        assert moved.state == state
        assert Assignment.model_validate_json(client.hget(keys.assignments_open, made.assignment_id)) == moved
        assert stored_patrol(client, keys)["status"] == patrol_status
        assert last_live(client, keys)["patrols"][0]["status"] == patrol_status
        assert client.zscore(keys.patrols_available, "BAC-12") is None

    cleared = transition(client, keys, assignment_id=made.assignment_id, new_state="cleared",
                         actor_id="BAC-12", actor_role="patrol", outcome="dispersed")
    assert (cleared.state, cleared.outcome) == ("cleared", "dispersed")
    assert not client.hexists(keys.assignments_open, made.assignment_id)
    assert not client.hexists(keys.patrol_assignment, "BAC-12")
    assert open_assignments(client, keys) == []

    (lon, lat), = client.geopos(keys.patrols_available, "BAC-12")
    assert haversine_m(lat, lon, 48.1101, -1.6799) < 1.0, "back in the set at its last reported position"
    assert (stored_patrol(client, keys)["status"], stored_patrol(client, keys)["lat"]) == ("available", 48.1101)

    assert not client.hexists(keys.sightings, "sight-0001")
    assert client.hexists(keys.sightings_ts, "sight-0001"), "kept, so an old copy cannot reopen it"
    delta = last_live(client, keys)
    assert delta["assignments"] == [{**orjson.loads(cleared.model_dump_json()), "closed": True}]
    assert delta["sightings"][0]["sighting_id"] == "sight-0001" and delta["sightings"][0]["closed"] is True
    assert delta["sightings"][0]["note"] == "échanges au pied de l'escalier"
    assert delta["patrols"][0]["status"] == "available"

    history = events(client, keys)
    assert [e["event"] for e in history] == ["created", "acknowledged", "en_route", "on_scene", "cleared"]
    assert [e["actor"] for e in history] == ["SUP-1", "BAC-12", "BAC-12", "BAC-12", "BAC-12"]
    assert [e["role"] for e in history] == ["supervisor", "patrol", "patrol", "patrol", "patrol"]
    assert history[-1]["outcome"] == "dispersed" and "outcome" not in history[0]
    assert [int(e["ts"]) for e in history] == sorted(int(e["ts"]) for e in history)

    # A late copy of the sighting (same ts) does not reopen it.
    ingest(client, keys, sightings=[sighting("sight-0001", ts=int(orjson.loads(
        client.hget(keys.sightings, "sight-0002"))["ts"]))])
    assert not client.hexists(keys.sightings, "sight-0001")


def test_a_crew_that_drives_off_before_acknowledging_is_not_blocked(scene, keys):
    made = assign(scene, keys, sighting_id="sight-0001", patrol_id="BAC-12", supervisor_id="SUP-1")
    moved = transition(scene, keys, assignment_id=made.assignment_id, new_state="en_route",
                       actor_id="BAC-12", actor_role="patrol")
    assert moved.state == "en_route" and stored_patrol(scene, keys)["status"] == "en_route"


@pytest.mark.parametrize("steps, state, actor, role, outcome, reason", [
    ([], "on_scene", "BAC-12", "patrol", None, "cannot go from assigned to on_scene: report en route first"),
    ([], "en_route", "SUP-1", "supervisor", None, "only the assigned patrol can report en_route"),
    ([], "cancelled", "BAC-12", "patrol", None, "only a supervisor can cancel an assignment"),
    (["en_route", "on_scene"], "cleared", "BAC-12", "patrol", None, "clearing needs an outcome"),
    (["en_route"], "cleared", "BAC-12", "patrol", "arrest", "cannot go from en_route to cleared"),
    (["en_route"], "en_route", "BAC-12", "patrol", None, "assignment already en_route"),
    (["en_route"], "acknowledged", "BAC-12", "patrol", None, "cannot go back from en_route to acknowledged"),
    (["acknowledged"], "en_route", "BAC-12", "patrol", "arrest", "an outcome is given only when clearing"),
    ([], "parked", "BAC-12", "patrol", None, "unknown state 'parked'"),
    ([], "en_route", "BAC12", "patrol", None, "'BAC12' is not a patrol id"),
    ([], "en_route", "BAC-12", "driver", None, "unknown role 'driver'"),
])
def test_illegal_transitions_are_refused_and_change_nothing(scene, keys, steps, state, actor, role, outcome, reason):
    made = assign(scene, keys, sighting_id="sight-0001", patrol_id="BAC-12", supervisor_id="SUP-1")
    for step in steps:
        transition(scene, keys, assignment_id=made.assignment_id, new_state=step, actor_id="BAC-12",
                   actor_role="patrol")
    before = everything(scene, keys)
    with pytest.raises(AssignmentRefused) as refused:
        transition(scene, keys, assignment_id=made.assignment_id, new_state=state, actor_id=actor,
                   actor_role=role, outcome=outcome)
    assert reason in refused.value.reason
    assert everything(scene, keys) == before


def test_a_patrol_cannot_act_on_another_patrols_assignment(scene, keys):
    made = assign(scene, keys, sighting_id="sight-0001", patrol_id="BAC-12", supervisor_id="SUP-1")
    before = everything(scene, keys)
    with pytest.raises(AssignmentRefused) as refused:
        transition(scene, keys, assignment_id=made.assignment_id, new_state="acknowledged",
                   actor_id="GN-4", actor_role="patrol")
    assert refused.value.reason == f"GN-4 cannot act on assignment {made.assignment_id}: it was given to BAC-12"
    assert everything(scene, keys) == before


def test_a_closed_assignment_cannot_change_any_more(scene, keys):
    made = assign(scene, keys, sighting_id="sight-0001", patrol_id="BAC-12", supervisor_id="SUP-1")
    cancel(scene, keys, assignment_id=made.assignment_id, supervisor_id="SUP-1")
    for state, actor, role in [("en_route", "BAC-12", "patrol"), ("cancelled", "SUP-1", "supervisor")]:
        with pytest.raises(AssignmentRefused, match=f"assignment {made.assignment_id} is not open"):
            transition(scene, keys, assignment_id=made.assignment_id, new_state=state, actor_id=actor,
                       actor_role=role)


def test_cancel_frees_the_patrol_and_leaves_the_sighting_open(scene, keys):
    made = assign(scene, keys, sighting_id="sight-0001", patrol_id="BAC-12", supervisor_id="SUP-1")
    transition(scene, keys, assignment_id=made.assignment_id, new_state="en_route", actor_id="BAC-12",
               actor_role="patrol")
    cancelled = cancel(scene, keys, assignment_id=made.assignment_id, supervisor_id="SUP-3")
    assert cancelled.state == "cancelled" and cancelled.supervisor_id == "SUP-1", "the assigner stays on record"
    assert scene.zscore(keys.patrols_available, "BAC-12") is not None
    assert stored_patrol(scene, keys)["status"] == "available"
    assert scene.hexists(keys.sightings, "sight-0001")
    assert not scene.hexists(keys.patrol_assignment, "BAC-12")
    delta = last_live(scene, keys)
    assert set(delta) == {"assignments", "patrols"} and delta["assignments"][0]["closed"] is True
    assert events(scene, keys)[-1]["actor"] == "SUP-3" and events(scene, keys)[-1]["event"] == "cancelled"
    again = assign(scene, keys, sighting_id="sight-0001", patrol_id="BAC-12", supervisor_id="SUP-3")
    assert again.assignment_id != made.assignment_id


def test_the_script_refuses_a_check_made_against_a_state_that_has_changed(scene, keys):
    """The optimistic check-and-set itself: a transition checked against 'assigned' after it moved on."""
    made = assign(scene, keys, sighting_id="sight-0001", patrol_id="BAC-12", supervisor_id="SUP-1")
    transition(scene, keys, assignment_id=made.assignment_id, new_state="en_route", actor_id="BAC-12",
               actor_role="patrol")
    before = everything(scene, keys)
    checked_too_early = made.model_copy(update={"state": AssignmentState.ACKNOWLEDGED})
    with pytest.raises(store._Stale):
        store._apply_transition(scene, keys, made, checked_too_early, actor_id="BAC-12", actor_role="patrol",
                                live_maxlen=1_000)
    assert everything(scene, keys) == before


def test_concurrent_taps_on_the_same_step_succeed_once(redis_server, scene, keys):
    made = assign(scene, keys, sighting_id="sight-0001", patrol_id="BAC-12", supervisor_id="SUP-1")
    outcomes = race(redis_server, 8, lambda client: transition(
        client, keys, assignment_id=made.assignment_id, new_state="acknowledged", actor_id="BAC-12",
        actor_role="patrol"))
    assert outcomes.count("ok") == 1
    assert all(o == "assignment already acknowledged" for o in outcomes if o != "ok")
    assert [e["event"] for e in events(scene, keys)] == ["created", "acknowledged"]


# ----------------------------------------------------------------------------- reassign


def test_reassign_gives_the_sighting_to_the_new_patrol_in_one_step(scene, keys):
    old = assign(scene, keys, sighting_id="sight-0001", patrol_id="BAC-12", supervisor_id="SUP-1")
    live_before = scene.xlen(keys.live)
    new = reassign(scene, keys, assignment_id=old.assignment_id, new_patrol_id="GN-4", supervisor_id="SUP-2")
    assert (new.sighting_id, new.patrol_id, new.supervisor_id, new.state) == (
        "sight-0001", "GN-4", "SUP-2", "assigned")
    assert [a["assignment_id"] for a in open_assignments(scene, keys)] == [new.assignment_id]
    assert scene.hgetall(keys.patrol_assignment) == {b"GN-4": new.assignment_id.encode()}
    assert scene.zscore(keys.patrols_available, "BAC-12") is not None
    assert scene.zscore(keys.patrols_available, "GN-4") is None
    assert (stored_patrol(scene, keys, "BAC-12")["status"], stored_patrol(scene, keys, "GN-4")["status"]) == (
        "available", "assigned")
    assert scene.xlen(keys.live) == live_before + 1, "one delta for the whole step"
    delta = last_live(scene, keys)
    assert [(a["assignment_id"], a["state"], a.get("closed")) for a in delta["assignments"]] == [
        (old.assignment_id, "cancelled", True), (new.assignment_id, "assigned", None)]
    assert {p["patrol_id"]: p["status"] for p in delta["patrols"]} == {"BAC-12": "available", "GN-4": "assigned"}
    cancelled, created = events(scene, keys)[-2:]
    assert (cancelled["event"], cancelled["replaced_by"]) == ("cancelled", new.assignment_id)
    assert (created["event"], created["replaces"]) == ("created", old.assignment_id)


@pytest.mark.parametrize("new_patrol_id, reason", [
    ("BAC-7", "BAC-7 is not available (unavailable)"),
    ("BAC-12", "BAC-12 is already assigned to sighting sight-0001"),
])
def test_reassign_to_a_patrol_that_cannot_take_it_changes_nothing(scene, keys, new_patrol_id, reason):
    old = assign(scene, keys, sighting_id="sight-0001", patrol_id="BAC-12", supervisor_id="SUP-1")
    before = everything(scene, keys)
    with pytest.raises(AssignmentRefused) as refused:
        reassign(scene, keys, assignment_id=old.assignment_id, new_patrol_id=new_patrol_id, supervisor_id="SUP-2")
    assert refused.value.reason.startswith(reason)
    assert everything(scene, keys) == before


@pytest.mark.parametrize("state, words", [("en_route", "en route to"), ("on_scene", "on scene at")])
def test_reassign_away_from_a_moving_crew_needs_confirmation_and_changes_nothing_without_it(scene, keys, state, words):
    old = assign(scene, keys, sighting_id="sight-0001", patrol_id="BAC-12", supervisor_id="SUP-1")
    for step in ["acknowledged", "en_route"] + (["on_scene"] if state == "on_scene" else []):
        transition(scene, keys, assignment_id=old.assignment_id, new_state=step, actor_id="BAC-12",
                   actor_role="patrol")
    before = everything(scene, keys)
    with pytest.raises(AssignmentRefused) as refused:
        reassign(scene, keys, assignment_id=old.assignment_id, new_patrol_id="GN-4", supervisor_id="SUP-2")
    assert refused.value.reason == f"BAC-12 is {words} sighting S-0001: confirm to take it from the crew"
    assert everything(scene, keys) == before
    new = reassign(scene, keys, assignment_id=old.assignment_id, new_patrol_id="GN-4", supervisor_id="SUP-2",
                   confirmed=True)
    assert [a["assignment_id"] for a in open_assignments(scene, keys)] == [new.assignment_id]


def test_with_two_patrols_on_a_sighting_it_ends_when_the_last_one_clears(scene, keys):
    first = assign(scene, keys, sighting_id="sight-0001", patrol_id="BAC-12", supervisor_id="SUP-1")
    backup = assign(scene, keys, sighting_id="sight-0001", patrol_id="GN-4", supervisor_id="SUP-1")
    for made, crew in ((first, "BAC-12"), (backup, "GN-4")):
        for state in ("acknowledged", "en_route", "on_scene"):
            transition(scene, keys, assignment_id=made.assignment_id, new_state=state, actor_id=crew,
                       actor_role="patrol")
    transition(scene, keys, assignment_id=first.assignment_id, new_state="cleared", actor_id="BAC-12",
               actor_role="patrol", outcome="dispersed")
    assert scene.hexists(keys.sightings, "sight-0001"), "GN-4 is still on it: not ended behind its back"
    assert store.sighting_endings(scene, keys, "sight-0001") == []
    transition(scene, keys, assignment_id=backup.assignment_id, new_state="cleared", actor_id="GN-4",
               actor_role="patrol", outcome="dispersed")
    (ending,) = store.sighting_endings(scene, keys, "sight-0001")
    assert (ending["disposition"], ending["assignment_id"]) == ("dispatched", backup.assignment_id)
    assert not scene.hexists(keys.sightings, "sight-0001")


class _CrewSetsOffAfterTheRead:
    """A real client whose first read of the open assignment is followed, before the step, by the crew
    reporting en route from another connection: the interleaving a stale screen meets."""

    def __init__(self, client, keys, assignment_id):
        self._client, self._keys, self._assignment_id, self.fired = client, keys, assignment_id, False

    def hget(self, name, key):
        value = self._client.hget(name, key)
        if not self.fired and name == self._keys.assignments_open and key == self._assignment_id:
            self.fired = True
            transition(self._client, self._keys, assignment_id=self._assignment_id, new_state="en_route",
                       actor_id="BAC-12", actor_role="patrol")
        return value

    def __getattr__(self, name):
        return getattr(self._client, name)


def test_a_crew_setting_off_between_the_check_and_the_step_is_not_stripped_of_its_sighting(scene, keys):
    old = assign(scene, keys, sighting_id="sight-0001", patrol_id="BAC-12", supervisor_id="SUP-1")
    transition(scene, keys, assignment_id=old.assignment_id, new_state="acknowledged", actor_id="BAC-12",
               actor_role="patrol")
    racing = _CrewSetsOffAfterTheRead(scene, keys, old.assignment_id)
    with pytest.raises(AssignmentRefused) as refused:
        reassign(racing, keys, assignment_id=old.assignment_id, new_patrol_id="GN-4", supervisor_id="SUP-2")
    assert racing.fired, "the crew's step ran between the read and the script"
    assert refused.value.reason == "BAC-12 is en route to sighting S-0001: confirm to take it from the crew"
    (kept,) = open_assignments(scene, keys)
    assert (kept["assignment_id"], kept["patrol_id"], kept["state"]) == (old.assignment_id, "BAC-12", "en_route")


# ----------------------------------------------------------------------------- races


def race(redis_server, threads: int, attempt, attempts_per_thread: int = 1) -> list[str]:
    """Run `attempt(client)` from several threads at once, each with its own client: 'ok' or the refusal."""
    results: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def worker(number: int):
        client = connect(redis_server.url)
        rng = random.Random(number)
        start.wait()
        try:
            for _ in range(attempts_per_thread):
                try:
                    attempt(client) if attempt.__code__.co_argcount == 1 else attempt(client, rng)
                    outcome = "ok"
                except AssignmentRefused as refused:
                    outcome = refused.reason
                with lock:
                    results.append(outcome)
        finally:
            client.close()

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in pool)
    return results


def fill(client, keys, patrol_count: int, sighting_count: int) -> tuple[list[str], list[str]]:
    patrols = [f"BAC-{i}" for i in range(patrol_count)]
    sightings = [f"sight-{i:04d}" for i in range(sighting_count)]
    ingest(client, keys, patrols=[patrol(p, lat=48.10 + i / 1000, lon=-1.68) for i, p in enumerate(patrols)],
           sightings=[sighting(s) for s in sightings])
    return patrols, sightings


def assert_one_open_assignment_per_patrol(client, keys) -> Counter:
    pipe = client.pipeline(transaction=True)
    pipe.hgetall(keys.assignments_open)
    pipe.hgetall(keys.patrol_assignment)
    open_raw, by_patrol = pipe.execute()
    opened = [orjson.loads(raw) for raw in open_raw.values()]
    per_patrol = Counter(a["patrol_id"] for a in opened)
    assert all(count == 1 for count in per_patrol.values()), per_patrol.most_common(3)
    assert {p.decode(): a.decode() for p, a in by_patrol.items()} == {a["patrol_id"]: a["assignment_id"] for a in opened}
    return per_patrol


def assert_no_overlap_in_the_history(client, keys) -> None:
    """Replay the event stream: no patrol is ever given a second assignment before the first closes,
    and each assignment's steps follow the lifecycle rules."""
    holder: dict[str, str] = {}
    state: dict[str, str | None] = {}
    for event in events(client, keys):
        assignment_id, patrol_id = event["assignment_id"], event["patrol_id"]
        assert check_transition(state.get(assignment_id), event["state"], actor_role=event["role"]) is None, event
        state[assignment_id] = event["state"]
        if event["event"] == "created":
            assert patrol_id not in holder, f"{patrol_id} given {assignment_id} while holding {holder.get(patrol_id)}"
            holder[patrol_id] = assignment_id
        elif not is_open(event["state"]):
            assert holder.pop(patrol_id) == assignment_id


def test_a_thousand_concurrent_assignments_never_give_a_patrol_two(redis_server, redis_client, keys):
    patrols, sightings = fill(redis_client, keys, 20, 50)
    stop = threading.Event()
    samples, broken = [], []

    def watch():  # "at no moment": check the invariant continuously while the race runs
        client = connect(redis_server.url)
        try:
            while not stop.is_set():
                samples.append(assert_one_open_assignment_per_patrol(client, keys))
        except AssertionError as error:
            broken.append(error)
        finally:
            client.close()

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        outcomes = race(redis_server, 8, lambda client, rng: assign(
            client, keys, sighting_id=rng.choice(sightings), patrol_id=rng.choice(patrols),
            supervisor_id=f"SUP-{rng.randrange(4)}"), attempts_per_thread=125)
    finally:
        stop.set()
        watcher.join()

    assert len(outcomes) == 1_000
    per_patrol = assert_one_open_assignment_per_patrol(redis_client, keys)
    successes = outcomes.count("ok")
    assert successes == len(per_patrol) == 20, "each patrol is assigned once, and only once"
    assert all(o.startswith("BAC-") and " is already assigned to sighting " in o for o in outcomes if o != "ok")
    assert redis_client.xlen(keys.assignments) == successes
    assert redis_client.zcard(keys.patrols_available) == 0
    assert not broken, broken[0]
    assert len(samples) > 1
    assert_no_overlap_in_the_history(redis_client, keys)


def test_assign_cancel_and_reassign_churn_never_overlaps(redis_server, redis_client, keys):
    """Patrols are freed and taken again all the time: the history must still never overlap."""
    patrols, sightings = fill(redis_client, keys, 10, 30)

    def step(client, rng):
        mine = open_assignments(client, keys)
        roll = rng.random()
        if mine and roll < 0.3:
            target = rng.choice(mine)
            cancel(client, keys, assignment_id=target["assignment_id"], supervisor_id="SUP-1")
        elif mine and roll < 0.5:
            target = rng.choice(mine)
            reassign(client, keys, assignment_id=target["assignment_id"], new_patrol_id=rng.choice(patrols),
                     supervisor_id="SUP-2")
        elif mine and roll < 0.65:
            target = rng.choice(mine)
            transition(client, keys, assignment_id=target["assignment_id"], new_state="en_route",
                       actor_id=target["patrol_id"], actor_role="patrol")
        else:
            assign(client, keys, sighting_id=rng.choice(sightings), patrol_id=rng.choice(patrols),
                   supervisor_id="SUP-3")

    outcomes = race(redis_server, 8, step, attempts_per_thread=100)
    assert len(outcomes) == 800 and outcomes.count("ok") > 100
    history = events(redis_client, keys)
    assert Counter(e["event"] for e in history)["cancelled"] > 20
    assert_one_open_assignment_per_patrol(redis_client, keys)
    assert_no_overlap_in_the_history(redis_client, keys)
    busy = set(assert_one_open_assignment_per_patrol(redis_client, keys))
    available = {m.decode() for m in redis_client.zrange(keys.patrols_available, 0, -1)}
    assert busy.isdisjoint(available) and busy | available == set(patrols)
