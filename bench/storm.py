"""Reconnect storm: N websocket handshakes with valid sessions, all at the same instant.

    .venv/bin/python bench/storm.py [--clients 1000] [--runs 3] [--patrols 0.5] [--workers 2]

After a gateway restart or a network blip every wall screen and tablet reconnects at once.
Each run starts a private redis-server and one `python -m dispatch gateway` process
(as in production), creates one real session per client (a share of them patrols, whose
handshake also reads their assignment), then opens every socket at the same wall-clock
instant from `--workers` client processes (the clients of a real storm are on other
machines; here they share the gateway's 2 cores). It prints, per run: opened, refused
(by HTTP status), failed otherwise, time from the start until the last socket is open, and
the p50 / p95 handshake time (connect to 101); then the medians over the runs.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from websockets.asyncio.client import connect  # noqa: E402
from websockets.exceptions import InvalidStatus  # noqa: E402

from dispatch.domain.auth import Role  # noqa: E402
from dispatch.keys import Keys  # noqa: E402
from dispatch.settings import Settings  # noqa: E402
from dispatch.store import accounts  # noqa: E402
from dispatch.store.connection import connect as redis_connect  # noqa: E402
from dispatch.store.embedded import EmbeddedRedis, free_port  # noqa: E402
from dispatch.web.auth import SESSION_COOKIE  # noqa: E402
from tests.support.processes import port_open, python_module, wait_until  # noqa: E402

ORIGIN = "http://127.0.0.1:8050"
TICKS = os.sysconf("SC_CLK_TCK")
HOLD_S = 8.0  # every socket is held open this long after the start (heartbeats flow to all of them)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def make_sessions(settings: Settings, clients: int, patrol_share: float) -> list[str]:
    """One real session per client; the first `patrol_share` of them patrols (each its own patrol)."""
    client, keys = redis_connect(settings.redis_url), Keys(settings.site)
    patrols = int(clients * patrol_share)
    try:
        return [
            accounts.create_session(client, keys, user_id=f"BAC-{i}", role=Role.PATROL, patrol_id=f"BAC-{i}")[0]
            if i < patrols
            else accounts.create_session(client, keys, user_id=f"SUP-{i}", role=Role.SUPERVISOR)[0]
            for i in range(clients)
        ]
    finally:
        client.close()


async def _one(url: str, session_id: str, start_at: float, hold: asyncio.Event) -> tuple[str, float, float]:
    """(outcome, seconds from the storm's start to open, handshake seconds)."""
    await asyncio.sleep(max(0.0, start_at - time.time()))
    began = time.time()
    try:
        async with connect(
            url, open_timeout=30, additional_headers={"Origin": ORIGIN, "Cookie": f"{SESSION_COOKIE}={session_id}"}
        ):
            opened = time.time()
            await hold.wait()  # keep every socket open until the whole storm is through
            return "opened", opened - start_at, opened - began
    except InvalidStatus as error:
        return f"refused {error.response.status_code}", 0.0, time.time() - began
    except Exception as error:  # noqa: BLE001 - a bench counts every kind of failure
        return f"failed {type(error).__name__}", 0.0, time.time() - began


async def _worker_storm(url: str, sessions: list[str], start_at: float, hold_s: float):
    hold = asyncio.Event()
    tasks = [asyncio.create_task(_one(url, s, start_at, hold)) for s in sessions]
    await asyncio.sleep(max(0.0, start_at - time.time()) + hold_s)
    hold.set()
    return await asyncio.gather(*tasks)


def worker(url: str, sessions: list[str], start_at: float, hold_s: float):
    return asyncio.run(_worker_storm(url, sessions, start_at, hold_s))


def storm(url: str, sessions: list[str], workers: int, hold_s: float = HOLD_S) -> dict:
    """Open every session's socket at once from `workers` processes; the figures of that storm."""
    start_at = time.time() + 1.5  # every worker is up and waiting by then
    shares = [sessions[i::workers] for i in range(workers)]
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        results = [r for part in pool.starmap(worker, [(url, s, start_at, hold_s) for s in shares]) for r in part]
    outcomes = Counter(outcome for outcome, _, _ in results)
    handshakes = sorted(took for outcome, _, took in results if outcome == "opened")
    opened = [at for outcome, at, _ in results if outcome == "opened"]
    return {
        "opened": outcomes.pop("opened", 0),
        "refused": sum(n for o, n in outcomes.items() if o.startswith("refused")),
        "other": dict(outcomes),
        "all_open_s": max(opened) if len(opened) == len(sessions) else float("nan"),
        "p50_ms": 1000 * statistics.median(handshakes) if handshakes else float("nan"),
        "p95_ms": 1000 * handshakes[int(len(handshakes) * 0.95) - 1] if handshakes else float("nan"),
    }


def one_run(server: EmbeddedRedis, run: int, args) -> dict:
    settings = Settings.from_env({"REDIS_URL": server.url, "DISPATCH_SITE": f"storm{run}"})
    sessions = make_sessions(settings, args.clients, args.patrols)
    port = free_port()
    gateway = python_module(
        "gateway", "dispatch.services.gateway", settings, DISPATCH_GATEWAY_PORT=str(port), DISPATCH_ALLOWED_ORIGINS=ORIGIN
    ).start()
    try:
        wait_until(lambda: "following" in gateway.output() and port_open(port), timeout=15, what="the gateway")
        before = cpu_seconds(gateway.process.pid)
        figures = storm(f"ws://127.0.0.1:{port}/live", sessions, args.workers)
        # Over the storm and the seconds the sockets are held open (heartbeats to every one of them).
        figures["gateway_cpu_s"] = cpu_seconds(gateway.process.pid) - before
        return figures
    finally:
        gateway.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--patrols", type=float, default=0.5, help="share of the clients that are patrols")
    parser.add_argument("--workers", type=int, default=2, help="client processes")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(Path(tmp) / "redis", persistent=False).start()
        try:
            for run in range(args.runs):
                r = one_run(server, run, args)
                rows.append(r)
                print(
                    f"run {run + 1}: {args.clients} handshakes: opened {r['opened']}, refused {r['refused']}, "
                    f"other {r['other'] or 0}; all open after {r['all_open_s']:.2f} s; "
                    f"handshake p50 {r['p50_ms']:.0f} ms, p95 {r['p95_ms']:.0f} ms; "
                    f"gateway CPU {r['gateway_cpu_s']:.2f} s (storm + {HOLD_S:.0f} s held open)",
                    flush=True,
                )
        finally:
            server.stop()
    print(
        f"\nmedians over {args.runs} runs of {args.clients} simultaneous handshakes "
        f"({args.patrols:.0%} patrols, {args.workers} client processes):"
    )
    print(
        f"  opened {statistics.median(r['opened'] for r in rows):.0f}, "
        f"refused {statistics.median(r['refused'] for r in rows):.0f}, "
        f"time to all open {statistics.median(r['all_open_s'] for r in rows):.2f} s, "
        f"handshake p50 {statistics.median(r['p50_ms'] for r in rows):.0f} ms, "
        f"p95 {statistics.median(r['p95_ms'] for r in rows):.0f} ms, "
        f"gateway CPU {statistics.median(r['gateway_cpu_s'] for r in rows):.2f} s"
    )
    return 0 if all(r["refused"] == 0 and not r["other"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
