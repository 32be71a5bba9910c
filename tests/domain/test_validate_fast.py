"""The telemetry fast path (validate.fast_telemetry) agrees with the pydantic reference on any field map.

It may decline (None) whatever it likes; when it answers, its answer is the reference's: the same model
(values, types, fields set, JSON) or the same clock rejection. Inputs are mutations of the common valid
shape, since that is where the two could disagree, plus arbitrary field maps.
"""

from __future__ import annotations

from unittest import mock

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import dispatch.domain.validate as validate_module
from dispatch.domain import batch
from dispatch.domain.batch import RawEntry, plan_batch
from dispatch.domain.models import Telemetry
from dispatch.domain.validate import ClockLimits, Rejection, fast_telemetry, validate, validate_reference

RECEIVED = 1_767_225_600_000  # 2026-01-01T00:00:00Z
LIMITS = ClockLimits()
MANY = settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])

VALID = {b"drone_id": b"DR-07", b"ts": str(RECEIVED - 500).encode(), b"lat": b"48.117300", b"lon": b"-1.677900",
         b"alt_m": b"95.0", b"heading_deg": b"120", b"speed_mps": b"8.5", b"battery_pct": b"88.0"}

_number_text = st.one_of(
    st.from_regex(r"\A-?[0-9]{1,8}(\.[0-9]{0,17})?\Z"),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-10**20, 10**20).map(str),
    st.sampled_from(["-0", "-0.0", "0", "00.5", "360", "359.999999999999999", "100.0000000000000001",
                     "-90.000000000000001", "90", "1e2", " 1", "1 ", "+1", "1_0", "nan", "٣", "1.", ".5", "1\x002", "\x00"]),
)
_ts_text = st.one_of(
    st.integers(RECEIVED - 7 * 3_600_000, RECEIVED + 60_000).map(str),
    st.integers(-10**25, 10**25).map(str),
    st.from_regex(r"\A[0-9]{1,20}\Z"),
    st.sampled_from(["0", "01767225600000", "1767225600000.0", "1e12", " 1767225600000"]),
)
_drone_text = st.one_of(st.from_regex(r"\ADR-[0-9A-Za-z]{0,10}\Z"), st.text(max_size=12),
                        st.sampled_from(["DR-1\n", "DR-Ａ1", "DR-１", "dr-1"]))
_values = {b"drone_id": _drone_text, b"ts": _ts_text}
_raw = st.one_of(st.binary(max_size=24), st.text(max_size=24))


@st.composite
def mutated(draw) -> dict:
    fields = dict(VALID)
    for name in draw(st.lists(st.sampled_from(sorted(VALID)), max_size=4, unique=True)):
        text = draw(_values.get(name, _number_text))
        fields[name] = draw(st.sampled_from([text.encode("utf-8", "surrogatepass"), text]))
    if draw(st.booleans()) and draw(st.booleans()):
        del fields[draw(st.sampled_from(sorted(fields)))]
    if draw(st.booleans()) and draw(st.booleans()):
        fields[draw(_raw)] = draw(_raw)
    names = [name for name in sorted(VALID) if name in fields]
    if names and draw(st.booleans()) and draw(st.booleans()):
        name = draw(st.sampled_from(names))
        fields[name.decode()] = fields.pop(name)
    return fields


def _same(fast, reference) -> None:
    if isinstance(fast, Rejection):
        assert fast == reference
        return
    assert type(fast) is Telemetry and type(reference) is Telemetry
    assert fast == reference
    assert fast.__getstate__() == reference.__getstate__()
    assert [type(v) for v in fast.__dict__.values()] == [type(v) for v in reference.__dict__.values()]
    assert fast.model_dump_json() == reference.model_dump_json()
    assert fast.model_fields_set == reference.model_fields_set


@MANY
@given(fields=st.one_of(mutated(), st.dictionaries(_raw, _raw, max_size=10)),
       received=st.sampled_from([RECEIVED, RECEIVED + 40_000, RECEIVED - 30_000, RECEIVED + 7 * 3_600_000]))
@example(fields=VALID, received=RECEIVED)
def test_fast_path_agrees_with_the_reference(fields, received) -> None:
    fast = fast_telemetry(fields, received, LIMITS)
    reference = validate_reference("telemetry", fields, received, LIMITS)
    if fast is not None:
        _same(fast, reference)
    _same_or_reason(validate("telemetry", fields, received, LIMITS), reference)


def _same_or_reason(verdict, reference) -> None:
    if isinstance(reference, Rejection):
        assert verdict == reference
    else:
        _same(verdict, reference)


def test_the_common_shape_takes_the_fast_path() -> None:
    """Otherwise the benchmark measures nothing: bench/ingest.py's entries are this shape."""
    assert type(fast_telemetry(VALID, RECEIVED, LIMITS)) is Telemetry
    assert fast_telemetry({**VALID, b"battery_pct": b"140"}, RECEIVED, LIMITS) is None


def test_clock_rejections_are_the_references() -> None:
    future = {**VALID, b"ts": str(RECEIVED + 31_000).encode()}
    assert fast_telemetry(future, RECEIVED, LIMITS) == validate_reference("telemetry", future, RECEIVED, LIMITS)
    assert isinstance(fast_telemetry(future, RECEIVED, LIMITS), Rejection)


@MANY
@given(st.lists(st.tuples(st.sampled_from(["DR-1", "DR-2", "DR-3"]), st.integers(0, 5), mutated()), max_size=12))
def test_plan_batch_is_the_same_with_and_without_the_fast_path(rows) -> None:
    """plan_batch's inline picture rule for drones is `apply`'s: the newest ts wins, the first of equals."""
    entries = []
    for i, (drone, age, fields) in enumerate(rows):
        if fields.get(b"drone_id") == VALID[b"drone_id"]:
            fields = {**fields, b"drone_id": drone.encode(), b"ts": str(RECEIVED - 1000 * age).encode()}
        entries.append(RawEntry("telemetry", f"{RECEIVED}-{i}", fields))
    fast = plan_batch(entries, LIMITS)
    with mock.patch.object(batch, "telemetry_values", lambda *args: None), \
            mock.patch.object(validate_module, "fast_telemetry", lambda *args: None):
        reference = plan_batch(entries, LIMITS)
    assert fast.accepted == reference.accepted
    assert [(r.entry_id, r.reason) for r in fast.rejected] == [(r.entry_id, r.reason) for r in reference.rejected]
    assert fast.drones == reference.drones
    assert fast.rejected == reference.rejected
