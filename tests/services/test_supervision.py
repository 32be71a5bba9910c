"""The launcher's restart policy (dispatch/services/supervision.py): capped exponential backoff."""

from __future__ import annotations

import signal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatch.services.supervision import (
    RESTART_CAP_S,
    STABLE_AFTER_S,
    describe_exit,
    failures_after_exit,
    restart_delay_s,
)


def test_delays_double_from_half_a_second_up_to_the_cap():
    assert [restart_delay_s(n) for n in range(1, 9)] == [0.5, 1, 2, 4, 8, 15, 15, 15]


def test_no_failure_no_delay():
    assert restart_delay_s(0) == 0.0


@given(st.integers(min_value=1, max_value=10**6))
def test_the_delay_never_exceeds_the_cap_and_never_shrinks(failures):
    assert 0 < restart_delay_s(failures) <= RESTART_CAP_S
    assert restart_delay_s(failures + 1) >= restart_delay_s(failures)


def test_a_quick_exit_counts_as_one_more_failure():
    assert failures_after_exit(3, uptime_s=2.0) == 4


def test_an_exit_after_a_stable_run_starts_a_fresh_count():
    assert failures_after_exit(6, uptime_s=STABLE_AFTER_S) == 1
    assert restart_delay_s(failures_after_exit(6, uptime_s=3600)) == 0.5


@pytest.mark.parametrize(
    "code, text",
    [
        (0, "code 0"),
        (1, "code 1"),
        (-signal.SIGKILL, "killed by SIGKILL"),
        (-signal.SIGTERM, "killed by SIGTERM"),
        (-99, "killed by signal 99"),
    ],
)
def test_exits_are_described_as_a_person_reads_them(code, text):
    assert describe_exit(code) == text
