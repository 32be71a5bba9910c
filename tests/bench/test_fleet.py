"""bench/fleet.py's own parts that could silently skew its figures: entries that the contract rejects
(a load that is all dead letters measures nothing), sites piled on one shard, a plan that miscounts."""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

from dispatch.domain.validate import ClockLimits, Rejection, validate

ROOT = Path(__file__).resolve().parent.parent.parent


def fleet_bench():
    spec = importlib.util.spec_from_file_location("bench_fleet", ROOT / "bench" / "fleet.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def judged(kind: str, fields: dict):
    now = int(time.time() * 1000)
    return validate(kind, {k: str(v) for k, v in fields.items()}, now, ClockLimits())


def test_the_benchs_entries_pass_the_contract_and_its_malformed_ones_do_not():
    bench = fleet_bench()
    t = time.time()
    for n in (0, 1, 999, 9_999, 10_000, 99_999):
        assert not isinstance(judged("patrol", bench.patrol(bench.patrol_name(n), t, n)), Rejection), n
        assert isinstance(judged("patrol", bench.patrol(bench.patrol_name(n), t, n, bad=True)), Rejection)
    assert len({bench.patrol_name(n) for n in range(100_000)}) == 100_000
    for n in (0, 7, 1999):
        assert not isinstance(judged("telemetry", bench.telemetry(f"DR-{n:04d}", t, n)), Rejection)
        assert isinstance(judged("telemetry", bench.telemetry(f"DR-{n:04d}", t, n, bad=True)), Rejection)


def test_sites_spread_evenly_over_the_shards(tmp_path):
    bench = fleet_bench()
    for masters in (1, 2, 3):
        sites = bench.pick_sites(7, masters)  # by the slot ranges of a new cluster alone
        assert [bench.shard_of(site, masters) for site in sites] == [k % masters for k in range(7)]
        assert len(set(sites)) == 7


def test_the_plan_counts_entries_memory_and_shards(capsys):
    bench = fleet_bench()
    args = argparse.Namespace(plan_sites=100, plan_patrols=100_000, plan_drones=2_000, plan_screens=10,
                              retention_days=7.0, shard_memory_gb=64.0, target_utilisation=0.5,
                              live_maxlen=100_000)
    measured = dict(bench.MEASURED, redis_us=40.0, telemetry_bytes=100.0, patrol_bytes=50.0)
    bench.plan(measured, args)
    out = capsys.readouterr().out
    assert "entries/s: 104,000 (4,000 telemetry + 100,000 patrol), 1,040 per site" in out
    # 104,000 entries/s x 40 us = 4.16 cores of Redis work -> 9 shards at 50 %
    assert "Redis CPU: 4.2 cores of work -> 9 shards at 50 % busy" in out
    # 604,800 s x (4,000 x 100 B + 100,000 x 50 B) = 3.27 TB
    assert "memory for 7 days of input streams: 3.27 TB" in out
