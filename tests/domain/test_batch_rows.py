"""plan_rows (the ingest hot path, on entries as Redis returns them) makes plan_batch's plan.

The row path may decline whatever it likes (validate.telemetry_row returns None and the entry is judged as a
field map); when it accepts, the model is the pydantic reference's, and a whole batch plans the same either
way: accepted ids, dead letters and their reasons, each drone's newest value, patrols.
"""

from __future__ import annotations

import orjson
from hypothesis import example, given
from hypothesis import strategies as st

from dispatch.domain.batch import RawEntry, plan_batch, plan_rows
from dispatch.domain.validate import ClockLimits, telemetry_model, telemetry_row, telemetry_row_values, validate_reference
from tests.domain.test_validate_fast import LIMITS, MANY, RECEIVED, VALID, _number_text, _same, mutated


NUMBERS = [b"lat", b"lon", b"alt_m", b"heading_deg", b"speed_mps", b"battery_pct"]
NO_CLOCK = ClockLimits(max_future_ms=10**30, max_past_ms=10**30)  # telemetry_row leaves the clock to its caller


def flat(fields: dict) -> list:
    return [item for pair in fields.items() for item in pair]


def test_the_common_shape_takes_the_row_path() -> None:
    """Otherwise the benchmark measures nothing: bench/ingest.py's entries are this shape."""
    assert telemetry_row(flat(VALID)) == flat(VALID)
    assert telemetry_row(flat({**VALID, b"battery_pct": b"140"})) is None
    assert telemetry_row(flat({**VALID, b"heading_deg": b"359.999999999999999"})) is None, "rounds to 360.0"
    assert telemetry_row(flat({**VALID, b"heading_deg": b"359.999999999999"})) is not None
    assert telemetry_row(flat(dict(reversed(VALID.items())))) is None, "another field order: the dict path"
    assert telemetry_row(None) is None and telemetry_row([]) is None


@MANY
@given(fields=mutated(), number=_number_text, name=st.sampled_from(NUMBERS))
@example(fields=VALID, number="89.9999999999999999", name=b"lat")
@example(fields=VALID, number="359.999999999999", name=b"heading_deg")
@example(fields=VALID, number="-99.9999999999999999", name=b"alt_m")
@example(fields=VALID, number="0.0000001", name=b"speed_mps")
@example(fields=VALID, number="123456.5", name=b"alt_m")
def test_the_row_path_agrees_with_the_reference(fields, number, name) -> None:
    for candidate in (fields, {**VALID, name: number.encode("utf-8", "surrogatepass")}):
        values = telemetry_row(flat(candidate))
        if values is None:
            continue
        reference = validate_reference("telemetry", candidate, RECEIVED, NO_CLOCK)
        _same(telemetry_model(telemetry_row_values(values)), reference)
        assert orjson.dumps(telemetry_row_values(values)) == reference.model_dump_json().encode(), "as stored"


_other_fields = st.one_of(
    st.none(), st.just({}),
    st.dictionaries(st.binary(max_size=12), st.binary(max_size=12), max_size=6),
    st.just({b"patrol_id": b"PT-1", b"ts": str(RECEIVED - 100).encode(), b"lat": b"48.1", b"lon": b"-1.6",
             b"status": b"available"}),
)


@st.composite
def batches(draw) -> list[tuple[str, list]]:
    """An XREADGROUP reply: per stream, [id, flat fields or None]; telemetry near the common shape, some of it
    with a field written twice (Redis keeps both, redis-py's dict the last), patrols and junk. Arrival times
    spread over up to 200 s, ts around them: the clock limits (30 s ahead) cut through a batch."""
    reply = []
    for kind in draw(st.lists(st.sampled_from(["telemetry", "patrol"]), min_size=1, max_size=2, unique=True)):
        messages, received = [], RECEIVED
        for i in range(draw(st.integers(0, 10))):
            received += draw(st.sampled_from([0, 1, 999, 5_000, 20_000]))  # ids rise, as Redis returns them
            if kind == "telemetry":
                fields = draw(st.one_of(mutated(), _other_fields))
                if isinstance(fields, dict) and fields.get(b"drone_id") == VALID[b"drone_id"]:
                    fields = {**fields, b"drone_id": draw(st.sampled_from([b"DR-1", b"DR-2", b"DR-3"])),
                              b"ts": str(RECEIVED - 1000 * draw(st.integers(-40, 5))).encode()}
            else:
                fields = draw(_other_fields)
            row = flat(fields) if fields is not None else None
            if row and draw(st.booleans()) and draw(st.booleans()):
                row = row + row[:2]  # a field named twice
            messages.append([f"{received}-{i}".encode(), row])
        reply.append((kind, messages))
    return reply


def as_entries(reply) -> list[RawEntry]:
    """What streams.read_group makes of the reply (redis-py's pairs_to_dict; no fields: None)."""
    entries = []
    for kind, messages in reply:
        for raw_id, row in messages:
            fields = dict(zip(row[0::2], row[1::2])) if row else None
            entries.append(RawEntry(kind, raw_id.decode(), fields or None))
    return entries


@MANY
@given(reply=batches())
def test_plan_rows_is_plan_batch(reply) -> None:
    rows, entries = plan_rows(reply, LIMITS), plan_batch(as_entries(reply), LIMITS)
    assert rows.accepted == entries.accepted
    assert rows.rejected == entries.rejected
    assert rows.drones == entries.drones
    assert rows.patrols == entries.patrols
