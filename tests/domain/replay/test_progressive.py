"""The pure rules of a window drawn while it loads: how far it is exact, the slices, the checkpoints."""

from dispatch.domain.replay.progressive import Checkpoints, loaded_until, slice_ends


def test_loaded_until_is_what_arrived_less_the_late_margin_within_the_window():
    assert loaded_until(10_000, 6_000, 20_000, 5_000) is None  # not even the start is exact yet
    assert loaded_until(11_000, 6_000, 20_000, 5_000) == 6_000
    assert loaded_until(17_000, 6_000, 20_000, 5_000) == 12_000
    assert loaded_until(99_000, 6_000, 20_000, 5_000) == 20_000


def test_slices_cover_the_span_once_and_stop_at_the_head():
    ends = slice_ends(0, 99_999, entries=1_000, per_slice=100, head_ms=12_345)
    assert ends[-1] == 99_999 and ends == sorted(set(ends)) and 12_345 in ends
    assert len(ends) == 11  # ten slices of about 100 entries, and the head
    assert slice_ends(0, 5_000, entries=10**9, per_slice=1) == [999, 1_999, 2_999, 3_999, 4_999, 5_000]
    assert slice_ends(10, 5, entries=1, per_slice=1) == []


def test_checkpoints_publish_the_head_then_at_a_bounded_pace():
    points = Checkpoints(min_interval_s=1.5, max_share=0.2)
    assert not points.due(0.0, None, 100)  # the start is not exact yet
    assert points.due(0.0, 10, 100)  # the head: at once
    points.done(0.0, 0.1)
    assert not points.due(1.0, 20, 100)
    assert points.due(1.6, 20, 100)
    points.done(1.6, 2.6)  # a prefix that took 1 s: the next one waits 5 s (20 % of the time)
    assert not points.due(6.0, 30, 100) and points.due(7.6, 30, 100)
    assert not points.due(99.0, 100, 100)  # the whole window is next anyway
    assert points.published == 2 and abs(points.spent_s - 1.1) < 1e-9
