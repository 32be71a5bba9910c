"""Prefix Histories (issue 15): a window drawn while it loads must show, up to its loaded_until_ms, exactly
what the whole window shows. Through the real loader on a real redis-server: messages written with chosen
arrival ids (late, early and tied ones), read in small chunks so that many prefixes are published."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch.domain.replay.progressive import Checkpoints
from dispatch.domain.validate import ClockLimits
from dispatch.keys import Keys
from dispatch.store.history import LoadProgress, load_window

FROM_MS = 1_700_000_000_000
TO_MS = FROM_MS + 40_000
LATE_MS = 4_000
LEAD_IN_MS = 2_000
LIMITS = ClockLimits(max_future_ms=1_500, max_past_ms=3_600_000)
_sites = itertools.count(1)

message = st.fixed_dictionaries({
    "kind": st.sampled_from(["telemetry", "patrol"]),
    "unit": st.integers(1, 4),
    "ts": st.integers(FROM_MS - LEAD_IN_MS, TO_MS),
    # arrival - ts: up to max_future early, up to late_ms late (the tolerance the load has anyway)
    "delay": st.one_of(st.integers(-LIMITS.max_future_ms, LATE_MS), st.sampled_from([LATE_MS, LATE_MS - 1])),
    "lat": st.integers(0, 999),
})


def fields(m: dict) -> dict:
    lat = 48.1 + m["lat"] / 10_000
    if m["kind"] == "telemetry":
        return {"drone_id": f"DR-{m['unit']}", "ts": m["ts"], "lat": lat, "lon": -1.68, "alt_m": 90,
                "heading_deg": 45, "speed_mps": 9.5, "battery_pct": 70}
    status = ["available", "en_route", "on_scene", "unavailable"][m["lat"] % 4]
    return {"patrol_id": f"BAC-{m['unit']}", "ts": m["ts"], "lat": lat, "lon": -1.675, "status": status}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(messages=st.lists(message, min_size=1, max_size=60), data=st.data())
def test_a_prefix_shows_what_the_whole_window_shows_up_to_where_it_is_loaded(redis_client, messages, data):
    keys = Keys(f"prefix{next(_sites)}")
    arrivals = sorted(((m["ts"] + m["delay"], i, m) for i, m in enumerate(messages)), key=lambda a: a[:2])
    for sequence, (arrival, _, m) in enumerate(arrivals):
        stream = keys.in_telemetry if m["kind"] == "telemetry" else keys.in_patrols
        redis_client.xadd(stream, fields(m), id=f"{arrival}-{sequence + 1}")
    prefixes = []

    def progress(report: LoadProgress) -> None:
        if report.prefix is not None:
            prefixes.append(report.prefix)

    full = load_window(redis_client, keys, FROM_MS, TO_MS, progress=progress, limits=LIMITS, lead_in_ms=LEAD_IN_MS,
                       late_ms=LATE_MS, chunk=3, prefixes=Checkpoints(min_interval_s=0, max_share=float("inf")))
    assert full.loaded_until_ms == TO_MS and full.complete
    assert prefixes, "the window's start is published before the whole window"
    assert prefixes[0].loaded_until_ms >= FROM_MS
    assert [p.loaded_until_ms for p in prefixes] == sorted({p.loaded_until_ms for p in prefixes})
    for prefix in prefixes:
        assert not prefix.complete and prefix.bounds == full.bounds
        assert prefix.events().equals(full.events())
        instants = data.draw(st.lists(st.integers(FROM_MS, prefix.loaded_until_ms), min_size=1, max_size=4))
        for t in [FROM_MS, prefix.loaded_until_ms, *instants]:
            assert prefix.picture_at(t) == full.picture_at(t), t


def test_without_prefixes_asked_none_is_built(redis_client, keys):
    redis_client.xadd(keys.in_telemetry, fields({"kind": "telemetry", "unit": 1, "ts": FROM_MS, "lat": 1}),
                      id=f"{FROM_MS}-1")
    reports = []
    history = load_window(redis_client, keys, FROM_MS, TO_MS, progress=reports.append, limits=LIMITS, chunk=3)
    assert all(report.prefix is None for report in reports) and reports[-1].stream == "done"
    assert len(history.telemetry) == 1 and "prefixes" not in history.stats
