from __future__ import annotations

from dispatch.domain.backoff import Backoff, capped_exponential


def test_the_wait_doubles_from_base_up_to_the_cap():
    assert [capped_exponential(n, base=0.5, cap=15.0) for n in range(0, 9)] == [0, 0.5, 1, 2, 4, 8, 15, 15, 15]
    assert [capped_exponential(n, base=1_000, cap=60_000) for n in (1, 2, 7, 8)] == [1_000, 2_000, 60_000, 60_000]
    assert isinstance(capped_exponential(3, base=1_000, cap=60_000), int)


def test_a_count_of_any_size_stays_at_the_cap():
    assert capped_exponential(10**9, base=0.1, cap=5.0) == 5.0


def test_a_retry_loop_waits_longer_after_each_failure_and_starts_again_after_a_success():
    backoff = Backoff()
    assert [backoff.failed() for _ in range(8)] == [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0]
    backoff.succeeded()
    assert backoff.failed() == 0.1
