"""The pure plan stays bounded whatever the entries (issue 10, defect 1).

What reaches the atomic Redis step is decided here: an entry beyond the size
limits is refused before parsing, and a rejected entry carries only a bounded
copy of its fields, so no input shape can make the step's arguments grow
with the input.
"""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch.domain.batch import (
    DEADLETTER_MAX_FIELDS,
    DEADLETTER_MAX_NAME_BYTES,
    DEADLETTER_MAX_REASON_BYTES,
    DEADLETTER_MAX_VALUE_BYTES,
    MAX_ENTRY_BYTES,
    RawEntry,
    entry_bytes,
    plan_batch,
    reject,
)

NOW = int(time.time() * 1000)
ENTRY_ID = f"{NOW}-0"


def valid_telemetry(**extra) -> dict[bytes, bytes]:
    fields = {"drone_id": "DR-07", "ts": NOW, "lat": 48.11, "lon": -1.68, "alt_m": 80, "heading_deg": 90,
              "speed_mps": 6.5, "battery_pct": 81, **extra}  # fmt: skip
    return {str(k).encode(): str(v).encode() for k, v in fields.items()}


def assert_bounded(rejected) -> None:
    assert len(rejected.fields) <= DEADLETTER_MAX_FIELDS
    assert all(len(name) <= DEADLETTER_MAX_NAME_BYTES for name in rejected.fields)
    assert all(len(value) <= DEADLETTER_MAX_VALUE_BYTES for value in rejected.fields.values())
    assert 0 < len(rejected.reason.encode()) <= DEADLETTER_MAX_REASON_BYTES


def test_the_issue_entry_is_refused_by_its_field_count_and_copied_in_part():
    entry = RawEntry("telemetry", ENTRY_ID, valid_telemetry(**{f"x{i}": 1 for i in range(10_000)}))
    (rejected,) = plan_batch([entry]).rejected
    assert rejected.reason == "oversized entry: 10008 fields, at most 16"
    assert list(rejected.fields)[:8] == list(valid_telemetry()), "the first fields, in order"
    assert len(rejected.fields) == DEADLETTER_MAX_FIELDS
    assert (
        rejected.truncated
        == f"kept 16 of 10008 fields, {entry_bytes(rejected.fields)} of {entry_bytes(entry.fields)} bytes"
    )


def test_an_entry_over_the_byte_limit_is_refused_before_parsing():
    fields = {b"note%d" % i: b"n" * 600 for i in range(14)}  # 14 fields, each over 512, total over 8 KiB
    (rejected,) = plan_batch([RawEntry("sighting", ENTRY_ID, fields)]).rejected
    assert rejected.reason == f"oversized entry: {entry_bytes(fields)} bytes, at most {MAX_ENTRY_BYTES}"
    assert_bounded(rejected)


def test_a_rejected_entry_within_the_limits_is_kept_whole():
    fields = valid_telemetry(lat="48,11")
    (rejected,) = plan_batch([RawEntry("telemetry", ENTRY_ID, fields)]).rejected
    assert rejected.fields == fields and rejected.truncated == ""


def test_a_huge_reason_is_cut_on_a_character_boundary():
    rejected = reject(RawEntry("telemetry", ENTRY_ID, {}), "é" * 5_000)
    assert rejected.reason == "é" * (DEADLETTER_MAX_REASON_BYTES // 2)


@st.composite
def any_fields(draw) -> dict[bytes, bytes]:
    """0 to 20,000 fields, up to 1 MB in all, any bytes (sizes drawn, contents from a seeded source)."""
    shape = draw(st.sampled_from(["small", "wide", "huge"]))
    if shape == "small":
        return draw(st.dictionaries(st.binary(max_size=40), st.binary(max_size=600), max_size=20))
    fill = draw(st.binary(min_size=1, max_size=64))
    if shape == "wide":
        count = draw(st.integers(0, 20_000))
        size = draw(st.integers(0, min(600, 1_000_000 // max(count, 1))))
        return {fill[:8] + b"%d" % i: (fill * (size // len(fill) + 1))[:size] for i in range(count)}
    sizes = draw(st.lists(st.integers(0, 333_333), min_size=1, max_size=3))
    return {b"f%d" % i: (fill * (size // len(fill) + 1))[:size] for i, size in enumerate(sizes)}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(kind=st.sampled_from(["telemetry", "patrol", "sighting", "nonsense"]), fields=any_fields())
def test_every_rejected_entry_is_bounded_and_every_entry_judged(kind, fields):
    plan = plan_batch([RawEntry(kind, ENTRY_ID, fields), RawEntry("telemetry", f"{NOW}-1", valid_telemetry())])
    assert plan.size == 2, "every entry is accepted or rejected"
    assert plan.accepted.get("telemetry", [None])[-1] == f"{NOW}-1", "the valid neighbour is accepted"
    for rejected in plan.rejected:
        assert_bounded(rejected)
        whole = rejected.fields == fields
        assert (rejected.truncated == "") == whole
