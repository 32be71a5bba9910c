"""Ingest against hostile input, on a real Redis through the real Lua step (issue 10, defect 1).

No shape of entry may make the atomic step fail half-way: an entry too big is
dead-lettered with a bounded copy, the valid entries of its batch land, nothing
stays pending, counters are exact. Should a step fail anyway for a reason no
plan foresaw, only the entry at fault is dead-lettered (`step-failed`).
"""

from __future__ import annotations

import dataclasses
import itertools
import random
import time

import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings as hypothesis_settings
from hypothesis import strategies as st
from redis import exceptions
from redis.exceptions import ResponseError

from dispatch.domain.batch import (
    DEADLETTER_MAX_FIELDS,
    DEADLETTER_MAX_NAME_BYTES,
    DEADLETTER_MAX_VALUE_BYTES,
    BatchPlan,
    RejectedEntry,
)
from dispatch.keys import INGEST_GROUP, Keys
from dispatch.store import streams
from dispatch.store.scripts import IngestScript
from dispatch.store.state import read_stats
from tests.services.test_ingest import RunningWorker, now_ms, patrol, processed, sighting, telemetry
from tests.support.processes import python_module, wait_until

UNIT_FIELD = {"telemetry": b"drone_id", "patrol": b"patrol_id", "sighting": b"sighting_id"}
PICTURE = {"telemetry": "drones", "patrol": "patrols", "sighting": "sightings"}


def dead_letters(client, keys) -> dict[tuple[str, str], dict[bytes, bytes]]:
    return {(f[b"source"].decode(), f[b"entry_id"].decode()): f for _, f in client.xrange(keys.deadletter)}


def live_units(client, keys) -> set[str]:
    """Every unit id published on the live stream."""
    id_field = {b"drones": "drone_id", b"patrols": "patrol_id", b"sightings": "sighting_id"}
    return {
        unit[id_field[layer]]
        for _, fields in client.xrange(keys.live)
        for layer, value in fields.items()
        for unit in orjson.loads(value)
    }


def assert_bounded(letter: dict[bytes, bytes]) -> None:
    copied = {name: value for name, value in letter.items() if name.startswith(b"f:")}
    assert len(copied) <= DEADLETTER_MAX_FIELDS
    assert all(len(name) <= 2 + DEADLETTER_MAX_NAME_BYTES for name in copied)
    assert all(len(value) <= DEADLETTER_MAX_VALUE_BYTES for value in copied.values())
    assert letter[b"reason"], "every dead letter says why"


def test_the_issue_entry_with_ten_thousand_fields_is_dead_lettered_and_its_batch_lands(settings, keys, redis_client):
    """`XADD {site}:in:telemetry * drone_id DR-07 ts <now> ...valid fields... x0 1 ... x9999 1` among valid entries."""
    streams.ensure_groups(redis_client, keys)
    ts = now_ms()
    for n in range(3):
        redis_client.xadd(keys.in_telemetry, telemetry(f"DR-{n}", ts=ts))
    hostile = {**telemetry("DR-07", ts=ts), **{f"x{i}": 1 for i in range(10_000)}}
    hostile_id = redis_client.xadd(keys.in_telemetry, hostile).decode()
    for n in range(3, 6):
        redis_client.xadd(keys.in_telemetry, telemetry(f"DR-{n}", ts=ts))
    redis_client.xadd(keys.in_patrols, patrol(ts=ts))
    redis_client.xadd(keys.in_sightings, sighting(ts=ts))

    worker = python_module("ingest", "dispatch.services.ingest", settings).start()
    try:
        wait_until(lambda: processed(redis_client, keys) == 9 or not worker.running, what="the batch")
        assert worker.running, worker.output()[-3000:]
    finally:
        worker.stop()

    (letter,) = redis_client.xrange(keys.deadletter)
    letter = letter[1]
    assert letter[b"entry_id"].decode() == hostile_id
    assert letter[b"reason"] == b"oversized entry: 10008 fields, at most 16"
    assert_bounded(letter)
    assert letter[b"f:drone_id"] == b"DR-07", "the first fields are kept: they say who sent it"
    assert letter[b"truncated"].startswith(b"kept 16 of 10008 fields")
    assert read_stats(redis_client, keys) == {
        "accepted:telemetry": 6,
        "rejected:telemetry": 1,
        "accepted:patrol": 1,
        "accepted:sighting": 1,
    }
    drones = {d.decode() for d in redis_client.hkeys(keys.drones)}
    assert drones == {f"DR-{n}" for n in range(6)}
    assert live_units(redis_client, keys) == drones | {"BAC-12", "sight-0001"}
    assert streams.pending_count(redis_client, keys) == 0


def test_the_script_itself_copies_a_bounded_dead_letter_whatever_the_plan_holds(keys, redis_client):
    """Defence in depth: even a hand-made plan with 20,000 fields cannot make the script unpack them."""
    streams.ensure_groups(redis_client, keys)
    entry_id = redis_client.xadd(keys.in_telemetry, {"x": 1}).decode()
    streams.read_group(redis_client, keys, "c1", count=10, block_ms=None)
    huge = {f"x{i}".encode(): b"1" for i in range(20_000)}
    plan = BatchPlan(rejected=[RejectedEntry("telemetry", entry_id, "hand-made", huge)])

    assert IngestScript(redis_client, keys, live_maxlen=1_000)(plan)[0] == 1

    ((_, letter),) = redis_client.xrange(keys.deadletter)
    assert sum(name.startswith(b"f:") for name in letter) == DEADLETTER_MAX_FIELDS
    assert streams.pending_count(redis_client, keys) == 0


def test_a_step_failing_for_an_unforeseen_reason_dead_letters_only_its_culprit(settings, keys, redis_client):
    """A real Redis condition no plan can see: BAC-12 has an open assignment and its stored record is not JSON.

    Applying BAC-12's report then fails inside the script. Before the fix the
    entries acked earlier in the script were counted without their effects and
    the worker died; now the batch is bisected and only BAC-12's report is
    dead-lettered, with the error, while every other entry lands.
    """
    redis_client.hset(keys.patrol_assignment, "BAC-12", "assignment-0001")
    redis_client.hset(keys.patrols, "BAC-12", b"\x00 not json")
    ts = now_ms()
    for n in range(4):
        redis_client.xadd(keys.in_telemetry, telemetry(f"DR-{n}", ts=ts))
    culprit = redis_client.xadd(keys.in_patrols, patrol("BAC-12", ts=ts)).decode()
    redis_client.xadd(keys.in_patrols, patrol("PS-3", ts=ts))
    redis_client.xadd(keys.in_sightings, sighting(ts=ts))

    runner = RunningWorker(settings)
    with runner:
        wait_until(lambda: processed(redis_client, keys) == 7 or not runner.thread.is_alive(), what="the batch")
        assert runner.thread.is_alive(), "the worker survived the failing step"

    ((_, letter),) = redis_client.xrange(keys.deadletter)
    assert (letter[b"source"], letter[b"entry_id"].decode()) == (b"patrol", culprit)
    assert letter[b"reason"].startswith(b"step-failed: ")
    assert letter[b"f:patrol_id"] == b"BAC-12"
    assert read_stats(redis_client, keys) == {
        "accepted:telemetry": 4,
        "accepted:patrol": 1,
        "rejected:patrol": 1,
        "accepted:sighting": 1,
    }
    assert live_units(redis_client, keys) == {"DR-0", "DR-1", "DR-2", "DR-3", "PS-3", "sight-0001"}
    assert redis_client.hget(keys.patrols, "BAC-12") == b"\x00 not json", "the culprit changed nothing"
    assert redis_client.hexists(keys.patrols, "PS-3")
    assert streams.pending_count(redis_client, keys) == 0


# --------------------------------------------------------------------------- property test

KINDS = ("telemetry", "patrol", "sighting")


def _valid(kind: str, unit: int) -> dict:
    if kind == "telemetry":
        return telemetry(f"DR-{unit}")
    if kind == "patrol":
        return patrol(f"BAC-{unit}")
    return sighting(f"sight-{unit:04d}")


def _fields(fields: dict) -> dict[bytes, bytes]:
    return {str(k).encode(): v if isinstance(v, bytes) else str(v).encode() for k, v in fields.items()}


@st.composite
def hostile_entries(draw) -> tuple[str, dict[bytes, bytes] | None]:
    """Anything a bridge can XADD: 1 to 20,000 fields, up to 1 MB, any bytes.

    XADD needs one field at least: an entry reaches ingest with 0 fields only
    when it is trimmed while pending (None here, see `write_entries`).
    """
    kind = draw(st.sampled_from(KINDS))
    shape = draw(st.sampled_from(["valid", "valid+extra", "wide", "huge", "arbitrary", "trimmed"]))
    rnd = random.Random(draw(st.integers(0, 2**32)))
    if shape == "trimmed":
        return kind, None
    if shape == "valid":
        return kind, _fields(_valid(kind, draw(st.integers(0, 9))))
    if shape == "valid+extra":  # the issue's shape: a valid message, then x0 1 ... xN 1
        extra = {f"x{i}": 1 for i in range(draw(st.integers(1, 20_000)))}
        return kind, _fields({**_valid(kind, draw(st.integers(0, 9))), **extra})
    if shape == "wide":
        count = draw(st.integers(1, 20_000))
        name_bytes = draw(st.integers(0, 40))
        value_bytes = draw(st.integers(0, min(600, 1_000_000 // count)))
        return kind, {rnd.randbytes(name_bytes) + b"%d" % i: rnd.randbytes(value_bytes) for i in range(count)}
    if shape == "huge":
        sizes = draw(st.lists(st.integers(0, 1_000_000 // 3), min_size=1, max_size=3))
        return kind, {rnd.randbytes(8) + b"%d" % i: rnd.randbytes(size) for i, size in enumerate(sizes)}
    return kind, draw(st.dictionaries(st.binary(max_size=40), st.binary(max_size=600), min_size=1, max_size=20))


_examples = itertools.count(1)


@hypothesis_settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
@given(entries=st.lists(hostile_entries(), min_size=1, max_size=6))
@example(  # always: the issue's entry between valid ones, and an entry trimmed while pending
    entries=[
        ("telemetry", _fields(_valid("telemetry", 1))),
        ("telemetry", _fields({**_valid("telemetry", 7), **{f"x{i}": 1 for i in range(10_000)}})),
        ("telemetry", None),
        ("patrol", _fields(_valid("patrol", 2))),
    ]
)
def test_no_entry_can_break_the_atomic_step(settings, redis_client, entries):
    example_settings = dataclasses.replace(settings, site=f"{settings.site}-p{next(_examples)}")
    keys = Keys(example_settings.site)
    streams.ensure_groups(redis_client, keys)
    sent = write_entries(redis_client, keys, entries, consumer="test-worker")
    try:
        runner = RunningWorker(example_settings, consumer="test-worker")
        with runner:
            wait_until(
                lambda: processed(redis_client, keys) >= len(sent) or not runner.thread.is_alive(),
                what="every entry processed",
            )
            assert runner.thread.is_alive(), "the worker is alive"
        check_every_entry_accounted_for(redis_client, keys, sent)
    finally:
        redis_client.delete(
            *keys.inputs.values(),
            keys.deadletter,
            keys.live,
            keys.stats,
            keys.drones,
            keys.drones_ts,
            keys.patrols,
            keys.patrols_ts,
            keys.patrols_available,
            keys.sightings,
            keys.sightings_ts,
        )


def write_entries(client, keys, entries, consumer: str) -> list[tuple[str, str, dict | None]]:
    """XADD the entries; the 0-field ones first, delivered to `consumer` and deleted before it runs.

    As after a restart of a worker that had read them while a trim removed
    them: its own pending entries come back without fields.
    """
    sent = []
    trimmed = [kind for kind, fields in entries if fields is None]
    for kind in trimmed:
        entry_id = client.xadd(keys.inputs[kind], {"x": "1"})
        client.xreadgroup(INGEST_GROUP, consumer, {keys.inputs[kind]: ">"}, count=len(trimmed))
        client.xdel(keys.inputs[kind], entry_id)
        sent.append((kind, entry_id.decode(), None))
    for kind, fields in entries:
        if fields is not None:
            sent.append((kind, client.xadd(keys.inputs[kind], fields).decode(), fields))
    return sent


def check_every_entry_accounted_for(client, keys, sent) -> None:
    """Each entry either dead-lettered with a reason, or in the picture and the live stream; counters exact."""
    letters = dead_letters(client, keys)
    assert len(letters) == client.xlen(keys.deadletter), "no entry dead-lettered twice"
    assert set(letters) <= {(kind, entry_id) for kind, entry_id, _ in sent}
    for letter in letters.values():
        assert_bounded(letter)
    for kind, entry_id, fields in sent:
        if fields is None:
            assert b"trimmed" in letters[(kind, entry_id)][b"reason"]
    published = live_units(client, keys)
    stats = read_stats(client, keys)
    for kind in KINDS:
        of_kind = [(entry_id, fields) for k, entry_id, fields in sent if k == kind]
        accepted = [fields for entry_id, fields in of_kind if (kind, entry_id) not in letters]
        assert all(fields is not None for fields in accepted), "a trimmed entry is dead-lettered"
        assert stats.get(f"accepted:{kind}", 0) == len(accepted), stats
        assert stats.get(f"rejected:{kind}", 0) == len(of_kind) - len(accepted), stats
        stored = set(client.hkeys(getattr(keys, PICTURE[kind])))
        for fields in accepted:
            assert fields[UNIT_FIELD[kind]] in stored, "an accepted entry is in the picture"
            assert fields[UNIT_FIELD[kind]].decode() in published, "and on the live stream"
    assert streams.pending_count(client, keys) == 0, "nothing pending"


def test_a_broken_key_stalls_ingest_without_acking_anything_or_killing_the_worker(settings, keys, redis_client):
    """Every step fails (the counters' key is not a hash): nothing acked, nothing dead-lettered, worker alive.

    Before the fix the script acked the batch, then failed on the counters and
    the worker died: entries acknowledged without their effects.
    """
    redis_client.set(keys.stats, "not a hash")
    for n in range(3):
        redis_client.xadd(keys.in_telemetry, telemetry(f"DR-{n}"))

    runner = RunningWorker(settings)
    with runner:
        wait_until(lambda: streams.pending_count(redis_client, keys) == 3, what="the batch read")
        time.sleep(0.5)  # several failed steps and bisections
        assert runner.thread.is_alive()
        assert streams.pending_count(redis_client, keys) == 3, "nothing acknowledged"
        assert redis_client.xlen(keys.deadletter) == 0 and redis_client.hlen(keys.drones) == 0

        redis_client.delete(keys.stats)  # repaired: the stalled entries go through
        wait_until(lambda: processed(redis_client, keys) == 3, timeout=15, what="the stalled entries")
    assert streams.pending_count(redis_client, keys) == 0


SCRIPT = "Error running script (call to f_0123): @user_script:42: "


@pytest.mark.parametrize(
    "error, entry_at_fault",
    [
        (ResponseError(SCRIPT + "user_script:42: Expected value but found invalid token at character 1"), True),
        (ResponseError(SCRIPT + "WRONGTYPE Operation against a key holding the wrong kind of value"), True),
        (ResponseError(SCRIPT + "OOM command not allowed when used memory > 'maxmemory'."), False),
        (ResponseError(SCRIPT + "NOPERM this user has no permissions to run the 'xack' command"), False),
        (ResponseError("NOGROUP No such key '{x}:in:telemetry' or consumer group 'ingest'"), False),
        (exceptions.NoPermissionError("this user has no permissions to run the 'evalsha' command"), False),
        (exceptions.ReadOnlyError("You can't write against a read only replica."), False),
    ],
)
def test_only_errors_an_entry_may_cause_are_bisected(error, entry_at_fault):
    """Bisecting on a server refusal would dead-letter good entries one by one: those back off instead."""
    assert streams.is_entry_failure(error) is entry_at_fault
