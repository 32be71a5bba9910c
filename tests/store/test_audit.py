"""The audit trail against a real Redis: one entry per action of assignments, alerts and zones, written in
the same atomic step as the action; refused attempts recorded as such; reading, filters and CSV export."""

from __future__ import annotations

import csv
import io

import orjson
import pytest

from dispatch.clock import now_ms
from dispatch.domain.alerts import AlertError, AlertKind, new_alert
from dispatch.domain.audit import CSV_COLUMNS, AuditEntry, AuditError, AuditFilter, make_entry, to_fields
from dispatch.domain.models import AssignmentState
from dispatch.domain.zones import make_zone
from dispatch.store import assignments as assignment_store
from dispatch.store import audit as audit_store
from dispatch.store.alerts import AlertStore, acknowledge
from dispatch.store.assignments import AssignmentRefused, assign, cancel, reassign, transition
from dispatch.store.audit import export_csv, read, record
from dispatch.store.zones import delete_zone, save_zone
from dispatch.demo.zones import demo_zones, seed_demo_zones


def trail(client, keys, **filters) -> list[AuditEntry]:
    return read(client, keys, filters=AuditFilter.of(**filters) if filters else None, limit=10_000)


def only(client, keys) -> AuditEntry:
    entries = trail(client, keys)
    assert len(entries) == 1, entries
    return entries[0]


# --- Assignments --------------------------------------------------------------------

def test_an_assignment_is_audited_once_with_who_what_where(scene, keys):
    made = assign(scene, keys, sighting_id="sight-0001", patrol_id="BAC-12", supervisor_id="SUP-1",
                  origin="10.1.2.3")
    entry = only(scene, keys)
    assert (entry.actor, entry.role, entry.action, entry.target, entry.origin, entry.outcome) == (
        "SUP-1", "supervisor", "assignment_created", made.assignment_id, "10.1.2.3", "ok")
    assert entry.details == {"sighting_id": "sight-0001", "patrol_id": "BAC-12", "state": "assigned",
                             "number": "S-0001"}, "the sighting's incident number, as people read it"
    assert entry.ts == made.ts and entry.entry_id


def test_origin_defaults_to_internal(scene, keys):
    assign(scene, keys, sighting_id="sight-0001", patrol_id="BAC-12", supervisor_id="SUP-1")
    assert only(scene, keys).origin == "internal"


def test_each_step_of_the_lifecycle_is_one_entry_by_the_one_who_took_it(scene, keys):
    made = assign(scene, keys, sighting_id="sight-0001", patrol_id="BAC-12", supervisor_id="SUP-1")
    for state in ("acknowledged", "en_route", "on_scene"):
        transition(scene, keys, assignment_id=made.assignment_id, new_state=state, actor_id="BAC-12",
                   actor_role="patrol", origin="10.9.9.9")
    transition(scene, keys, assignment_id=made.assignment_id, new_state="cleared", actor_id="BAC-12",
               actor_role="patrol", outcome="dispersed", origin="10.9.9.9")
    created, *steps = trail(scene, keys)
    assert created.action == "assignment_created"
    assert [(e.actor, e.role, e.action, e.target, e.details["from"], e.details["to"]) for e in steps] == [
        ("BAC-12", "patrol", "assignment_state_changed", made.assignment_id, "assigned", "acknowledged"),
        ("BAC-12", "patrol", "assignment_state_changed", made.assignment_id, "acknowledged", "en_route"),
        ("BAC-12", "patrol", "assignment_state_changed", made.assignment_id, "en_route", "on_scene"),
        ("BAC-12", "patrol", "assignment_state_changed", made.assignment_id, "on_scene", "cleared"),
    ]
    assert steps[-1].details["outcome"] == "dispersed" and "outcome" not in steps[0].details
    assert {e.origin for e in steps} == {"10.9.9.9"}
    assert {e.details["number"] for e in steps} == {"S-0001"}, "every step names the sighting as people read it"


def test_the_audit_trail_and_the_assignment_history_never_disagree(scene, keys):
    made = assign(scene, keys, sighting_id="sight-0001", patrol_id="BAC-12", supervisor_id="SUP-1")
    transition(scene, keys, assignment_id=made.assignment_id, new_state="acknowledged", actor_id="BAC-12",
               actor_role="patrol")
    cancel(scene, keys, assignment_id=made.assignment_id, supervisor_id="SUP-2")
    events = [f for _, f in scene.xrange(keys.assignments)]
    entries = trail(scene, keys)
    assert [(e[b"actor"].decode(), e[b"event"].decode()) for e in events] == [
        ("SUP-1", "created"), ("BAC-12", "acknowledged"), ("SUP-2", "cancelled")]
    assert [(e.actor, e.action) for e in entries] == [
        ("SUP-1", "assignment_created"), ("BAC-12", "assignment_state_changed"), ("SUP-2", "assignment_cancelled")]


def test_a_cancellation_is_audited_as_such(scene, keys):
    made = assign(scene, keys, sighting_id="sight-0001", patrol_id="BAC-12", supervisor_id="SUP-1")
    cancel(scene, keys, assignment_id=made.assignment_id, supervisor_id="SUP-2", origin="10.0.0.2")
    entry = trail(scene, keys, action="assignment_cancelled")[0]
    assert (entry.actor, entry.role, entry.target, entry.origin) == ("SUP-2", "supervisor", made.assignment_id,
                                                                     "10.0.0.2")
    assert entry.details["from"] == "assigned" and entry.details["to"] == "cancelled"
    assert entry.details["number"] == "S-0001"
    assert len(trail(scene, keys)) == 2


def test_a_reassignment_is_one_entry(scene, keys):
    made = assign(scene, keys, sighting_id="sight-0001", patrol_id="BAC-12", supervisor_id="SUP-1")
    replacement = reassign(scene, keys, assignment_id=made.assignment_id, new_patrol_id="GN-4",
                           supervisor_id="SUP-1", origin="10.0.0.1")
    created, reassigned = trail(scene, keys)
    assert (reassigned.actor, reassigned.action, reassigned.target, reassigned.origin) == (
        "SUP-1", "assignment_reassigned", made.assignment_id, "10.0.0.1")
    assert reassigned.details == {"sighting_id": "sight-0001", "patrol_id": "BAC-12", "to_patrol": "GN-4",
                                  "new_assignment_id": replacement.assignment_id, "from_state": "assigned",
                                  "number": "S-0001"}


def test_a_refused_assignment_is_audited_as_refused_with_its_reason(scene, keys):
    with pytest.raises(AssignmentRefused) as refused:
        assign(scene, keys, sighting_id="sight-0001", patrol_id="BAC-7", supervisor_id="SUP-1",
               assignment_id="asg-refused", origin="10.1.2.3")
    entry = only(scene, keys)
    assert (entry.actor, entry.action, entry.target, entry.outcome, entry.origin) == (
        "SUP-1", "assignment_created", "asg-refused", "refused", "10.1.2.3")
    assert entry.reason == refused.value.reason and "BAC-7" in entry.reason
    assert entry.details == {"sighting_id": "sight-0001", "patrol_id": "BAC-7"}
    assert scene.xlen(keys.assignments) == 0, "the refusal wrote nothing else"


def test_the_loser_of_a_race_is_audited_as_refused(scene, keys):
    assign(scene, keys, sighting_id="sight-0001", patrol_id="BAC-12", supervisor_id="SUP-1")
    with pytest.raises(AssignmentRefused):
        assign(scene, keys, sighting_id="sight-0002", patrol_id="BAC-12", supervisor_id="SUP-2")
    assert [(e.actor, e.outcome) for e in trail(scene, keys)] == [("SUP-1", "ok"), ("SUP-2", "refused")]


def test_a_refused_step_by_the_wrong_patrol_is_audited(scene, keys):
    made = assign(scene, keys, sighting_id="sight-0001", patrol_id="BAC-12", supervisor_id="SUP-1")
    with pytest.raises(AssignmentRefused) as refused:
        transition(scene, keys, assignment_id=made.assignment_id, new_state="en_route", actor_id="GN-4",
                   actor_role="patrol")
    entry = trail(scene, keys, outcome="refused")[0]
    assert (entry.actor, entry.role, entry.action, entry.target) == (
        "GN-4", "patrol", "assignment_state_changed", made.assignment_id)
    assert entry.reason == refused.value.reason and entry.details == {"to": "en_route"}


def test_refused_cancel_and_reassign_are_audited_once_each(scene, keys):
    with pytest.raises(AssignmentRefused):
        cancel(scene, keys, assignment_id="asg-unknown", supervisor_id="SUP-1")
    with pytest.raises(AssignmentRefused):
        reassign(scene, keys, assignment_id="asg-unknown", new_patrol_id="GN-4", supervisor_id="SUP-1")
    assert [(e.action, e.target, e.outcome) for e in trail(scene, keys)] == [
        ("assignment_cancelled", "asg-unknown", "refused"), ("assignment_reassigned", "asg-unknown", "refused")]


def test_a_name_typed_as_an_id_never_reaches_the_trail(scene, keys):
    with pytest.raises(AssignmentRefused):
        assign(scene, keys, sighting_id="sight-0001", patrol_id="Brigadier Durand", supervisor_id="Jean Dupont")
    with pytest.raises(AssignmentRefused):
        transition(scene, keys, assignment_id="Madame Martin", new_state="on_scene", actor_id="Paul Durand",
                   actor_role="patrol")
    with pytest.raises(AssignmentRefused):
        transition(scene, keys, assignment_id="asg-000001", new_state="Jean Dupont", actor_id="BAC-12",
                   actor_role="patrol")
    with pytest.raises(AssignmentRefused):
        reassign(scene, keys, assignment_id="asg-000001", new_patrol_id="Capitaine Durand", supervisor_id="SUP-1")
    raw = b"".join(value for _, fields in scene.xrange(keys.audit) for value in fields.values())
    for name in (b"Jean", b"Dupont", b"Durand", b"Martin"):
        assert name not in raw, raw
    first, second, third, fourth = trail(scene, keys)
    assert (first.actor, first.details["patrol_id"]) == ("anonymous", "invalid")
    assert (second.actor, second.target) == ("anonymous", "invalid")
    assert (third.actor, third.details, third.reason.startswith("unknown state <not recorded>")) == (
        "BAC-12", {"to": "invalid"}, True)
    assert fourth.details == {"to_patrol": "invalid"}


def test_a_step_refused_inside_the_script_writes_no_audit_entry(scene, keys):
    made = assign(scene, keys, sighting_id="sight-0001", patrol_id="BAC-12", supervisor_id="SUP-1")
    transition(scene, keys, assignment_id=made.assignment_id, new_state="en_route", actor_id="BAC-12",
               actor_role="patrol")
    checked_too_early = made.model_copy(update={"state": AssignmentState.ACKNOWLEDGED})
    before = scene.xlen(keys.audit)
    with pytest.raises(assignment_store._Stale):
        assignment_store._apply_transition(scene, keys, made, checked_too_early, actor_id="BAC-12",
                                           actor_role="patrol", live_maxlen=1_000)
    assert scene.xlen(keys.audit) == before


def test_a_bad_origin_stops_the_action_before_anything_is_written(scene, keys):
    with pytest.raises(AuditError, match="origin"):
        assign(scene, keys, sighting_id="sight-0001", patrol_id="BAC-12", supervisor_id="SUP-1", origin="somewhere")
    assert scene.xlen(keys.assignments) == 0 and scene.xlen(keys.audit) == 0
    assert scene.zscore(keys.patrols_available, "BAC-12") is not None, "the patrol is still available"


# --- Alerts -------------------------------------------------------------------------

@pytest.fixture
def alert_store(redis_client, keys):
    store = AlertStore(redis_client, keys)
    store.apply([new_alert(AlertKind.LINK_LOST, "DR-07", "link lost", now_ms())], [], now_ms())
    return store


def test_an_acknowledgement_is_audited_once(alert_store, redis_client, keys):
    at = now_ms()
    alert_store.acknowledge("link_lost:DR-07", "SUP-1", at, origin="10.4.4.4")
    entry = only(redis_client, keys)
    assert (entry.ts, entry.actor, entry.role, entry.action, entry.target, entry.origin, entry.outcome) == (
        at, "SUP-1", "supervisor", "alert_acknowledged", "link_lost:DR-07", "10.4.4.4", "ok")
    assert entry.details == {"kind": "link_lost", "unit_id": "DR-07"}


@pytest.mark.parametrize("alert_id, supervisor_id, actor, target, reason_has", [
    ("link_lost:DR-99", "SUP-2", "SUP-2", "link_lost:DR-99", "not open"),
    ("bogus", "SUP-2", "SUP-2", "bogus", "unknown alert"),
    ("link_lost:DR-07", "Martin", "anonymous", "link_lost:DR-07", "bad format <not recorded>"),
])
def test_refused_acknowledgements_are_audited(alert_store, redis_client, keys, alert_id, supervisor_id, actor,
                                              target, reason_has):
    with pytest.raises(AlertError):
        acknowledge(redis_client, keys, alert_id, supervisor_id, now_ms())
    entry = only(redis_client, keys)
    assert (entry.actor, entry.action, entry.target, entry.outcome) == (actor, "alert_acknowledged", target,
                                                                         "refused")
    assert reason_has in entry.reason and "Martin" not in entry.reason


def test_a_second_acknowledgement_is_refused_and_audited(alert_store, redis_client, keys):
    alert_store.acknowledge("link_lost:DR-07", "SUP-1", now_ms())
    with pytest.raises(AlertError):
        alert_store.acknowledge("link_lost:DR-07", "SUP-2", now_ms())
    assert [(e.actor, e.outcome, e.reason) for e in trail(redis_client, keys)] == [
        ("SUP-1", "ok", ""), ("SUP-2", "refused", "alert link_lost:DR-07 was already acknowledged by SUP-1")]


# --- Zones --------------------------------------------------------------------------

def triangle(zone_id="Z-TEST"):
    at = now_ms()
    return make_zone(zone_id=zone_id, name="Test zone", decree_ref="2026-11-035-PREF35",
                     polygon=[(-1.70, 48.10), (-1.69, 48.10), (-1.695, 48.11)],
                     valid_from_ms=at, valid_until_ms=at + 3_600_000)


def test_saving_and_deleting_a_zone_are_audited_with_who(redis_client, keys):
    zone = triangle()
    save_zone(redis_client, keys, zone, actor="ADM-1", role="administrator", origin="10.5.5.5")
    assert delete_zone(redis_client, keys, "Z-TEST", actor="ADM-2", role="administrator", origin="10.5.5.6")
    saved, deleted = trail(redis_client, keys)
    assert (saved.actor, saved.role, saved.action, saved.target, saved.origin) == (
        "ADM-1", "administrator", "zone_saved", "Z-TEST", "10.5.5.5")
    assert saved.details == {"decree_ref": "2026-11-035-PREF35", "valid_from_ms": zone.valid_from_ms,
                             "valid_until_ms": zone.valid_until_ms, "vertices": 3}
    assert (deleted.actor, deleted.action, deleted.target, deleted.outcome) == ("ADM-2", "zone_deleted", "Z-TEST",
                                                                                "ok")


def test_zone_changes_by_a_process_are_audited_as_system(redis_client, keys):
    save_zone(redis_client, keys, triangle())
    entry = only(redis_client, keys)
    assert (entry.actor, entry.role, entry.origin) == ("system", "system", "internal")


def test_deleting_a_zone_that_does_not_exist_is_audited_as_refused(redis_client, keys):
    assert not delete_zone(redis_client, keys, "Z-NONE", actor="ADM-1", role="administrator")
    entry = only(redis_client, keys)
    assert (entry.action, entry.target, entry.outcome) == ("zone_deleted", "Z-NONE", "refused")
    assert "Z-NONE" in entry.reason
    assert redis_client.xlen(keys.live) == 0


def test_seeding_the_demo_zones_is_audited_once_per_zone_and_only_once(redis_client, keys):
    at = now_ms()
    seeded = seed_demo_zones(redis_client, keys, at)
    assert seed_demo_zones(redis_client, keys, at) == []
    entries = trail(redis_client, keys)
    assert [e.target for e in entries] == [z.zone_id for z in demo_zones(at)] == [z.zone_id for z in seeded]
    assert {(e.actor, e.action, e.details["demo"]) for e in entries} == {("system", "zone_saved", True)}


# --- Reading, filters, export -------------------------------------------------------

def write_at(client, keys, ms: int, **fields) -> str:
    """An entry recorded at a chosen time (explicit stream id), as the store would have written it then."""
    base = dict(ts=ms, actor="SUP-1", role="supervisor", action="alert_acknowledged", target="link_lost:DR-07")
    entry = make_entry(**{**base, **fields})
    return client.xadd(keys.audit, to_fields(entry), id=f"{ms}-0").decode()


@pytest.fixture
def history(redis_client, keys):
    t0 = now_ms() - 10_000
    ids = [write_at(redis_client, keys, t0 + i * 100, actor=f"SUP-{i % 3}",
                    action="sign_in" if i % 2 else "alert_acknowledged") for i in range(20)]
    return t0, ids


def test_read_in_chunks_returns_everything_in_order(redis_client, keys, history):
    _, ids = history
    assert [e.entry_id for e in read(redis_client, keys, chunk=3, limit=100)] == ids
    assert [e.entry_id for e in read(redis_client, keys, chunk=3, limit=100, newest_first=True)] == ids[::-1]


def test_read_window_filters_and_limit(redis_client, keys, history):
    t0, ids = history
    window = read(redis_client, keys, from_ms=t0 + 500, to_ms=t0 + 1_000, chunk=2)
    assert [e.entry_id for e in window] == ids[5:10], "half-open: the entry at to_ms is out"
    by_actor = read(redis_client, keys, filters=AuditFilter.of(actor="SUP-1", action="sign_in"), chunk=4)
    assert [e.entry_id for e in by_actor] == [ids[i] for i in range(20) if i % 3 == 1 and i % 2]
    assert [e.entry_id for e in read(redis_client, keys, limit=3, newest_first=True, chunk=2)] == ids[:-4:-1]
    narrowed = read(redis_client, keys, from_ms=t0 + 1_000, filters=AuditFilter.of(to_ms=t0 + 1_200))
    assert [e.entry_id for e in narrowed] == ids[10:12]
    assert read(redis_client, keys, from_ms=t0 + 5_000, to_ms=t0) == []


def test_export_csv_writes_the_matching_rows_and_records_who_exported(redis_client, keys, history):
    t0, ids = history
    exported = export_csv(redis_client, keys, actor="AUD-1", role="auditor", origin="10.7.7.7",
                          from_ms=t0, to_ms=t0 + 1_000, filters=AuditFilter.of(action="sign_in"))
    rows = list(csv.reader(io.StringIO(exported.text, newline="")))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [row[0] for row in rows[1:]] == [ids[i] for i in (1, 3, 5, 7, 9)]
    assert (exported.rows, exported.truncated) == (5, False)
    export = trail(redis_client, keys, action="export")[0]
    assert export.entry_id == exported.audit_id
    assert (export.actor, export.role, export.origin, export.target) == ("AUD-1", "auditor", "10.7.7.7", "audit")
    assert export.details == {"from_ms": t0, "to_ms": t0 + 1_000, "actions": "sign_in", "format": "csv",
                              "rows": 5, "truncated": False}


def test_a_truncated_export_says_so(redis_client, keys, history):
    exported = export_csv(redis_client, keys, actor="AUD-1", role="auditor", limit=4)
    assert (exported.rows, exported.truncated) == (4, True)
    assert exported.text.count("\r\n") == 5
    assert trail(redis_client, keys, action="export")[0].details["truncated"] is True


def test_an_export_by_a_malformed_actor_is_refused_before_reading(redis_client, keys, history):
    with pytest.raises(AuditError):
        export_csv(redis_client, keys, actor="Jean Dupont", role="auditor")
    assert trail(redis_client, keys, action="export") == []


def test_hostile_stored_values_are_neutralised_in_the_export(redis_client, keys):
    write_at(redis_client, keys, now_ms() - 1_000, target="@SUM:A1", outcome="refused", reason="=cmd|'/C calc'!A0")
    row = dict(zip(CSV_COLUMNS, list(csv.reader(io.StringIO(
        export_csv(redis_client, keys, actor="AUD-1", role="auditor").text, newline="")))[1]))
    assert (row["target"], row["reason"]) == ("'@SUM:A1", "'=cmd|'/C calc'!A0")


def test_record_in_a_pipeline_commits_with_the_transaction(redis_client, keys):
    entry = make_entry(ts=now_ms(), actor="SUP-1", role="supervisor", action="sign_in")
    pipe = redis_client.pipeline(transaction=True)
    assert record(pipe, keys, entry) is None
    assert redis_client.xlen(keys.audit) == 0, "queued, not written"
    pipe.execute()
    assert only(redis_client, keys).action == "sign_in"


def test_the_store_offers_no_way_to_edit_or_delete_an_entry():
    verbs = ("update", "delete", "edit", "remove", "trim", "clear", "set", "modify")
    public = [name for name in dir(audit_store) if not name.startswith("_") and callable(getattr(audit_store, name))]
    assert not [name for name in public if name.lower().startswith(verbs)], public


def test_live_deltas_of_audited_actions_are_unchanged(scene, keys):
    """The audit entry goes to its own stream; what map clients receive stays as it was."""
    assign(scene, keys, sighting_id="sight-0001", patrol_id="BAC-12", supervisor_id="SUP-1")
    (_, fields), = scene.xrevrange(keys.live, count=1)
    assert set(fields) == {b"assignments", b"patrols"}
    assert orjson.loads(fields[b"assignments"])[0]["state"] == "assigned"
