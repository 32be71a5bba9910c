"""Slow HTTP clients ("slowloris") and a health probe measured meanwhile: shared by
tests/services/test_slow_clients.py and bench/slow_clients.py.

Each slow client opens a connection and sends a request's headers one byte every `drip_s` seconds,
never finishing them; when the server closes it (nginx gives headers 10 s), it connects again, so the
count stays up for the whole run. Meanwhile GET /healthz is asked again and again, each time on a new
connection as a load balancer's probe would, and its times are kept. Bounded: at most MAX_SLOW
connections, loopback only, and every run ends by its deadline.
"""

from __future__ import annotations

import asyncio
import http.client
import ipaddress
import math
import resource
import socket
import statistics
import time
from dataclasses import dataclass, field

MAX_SLOW = 2_000
# Headers that never end: one byte every drip_s would take hours to send them all.
SLOW_REQUEST = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow\r\nX-Padding: " + b"a" * 20_000


@dataclass
class Figures:
    """Times of the /healthz probes (s; a probe that timed out counts as its timeout)."""

    slow: int
    times_s: list[float] = field(default_factory=list)
    timeouts: int = 0
    failures: int = 0  # answered, but not 200
    slow_opened: int = 0  # slow connections opened in all (reconnections included)

    def percentile_ms(self, p: float) -> float:
        """Nearest rank: the smallest time at or above which lie (100 - p) % of the probes."""
        if not self.times_s:
            return math.inf
        ordered = sorted(self.times_s)
        return 1000 * ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]

    @property
    def median_ms(self) -> float:
        return 1000 * statistics.median(self.times_s) if self.times_s else math.inf

    def summary(self) -> str:
        return (
            f"{self.slow:>4} slow clients: /healthz median {self.median_ms:7.1f} ms, p95 "
            f"{self.percentile_ms(95):7.1f} ms, p99 {self.percentile_ms(99):7.1f} ms over {len(self.times_s)} "
            f"probes, {self.timeouts} timed out, {self.failures} not 200 ({self.slow_opened} slow connections)"
        )


def allow_open_files(wanted: int) -> None:
    """Raise this process's soft limit of open files to `wanted` (bounded by the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def measure(
    host: str,
    port: int,
    *,
    slow: int,
    settle_s: float = 3.0,
    probes: int = 300,
    probe_every_s: float = 0.02,
    timeout_s: float = 2.0,
    measure_s: float = 12.0,
    drip_s: float = 2.0,
) -> Figures:
    """/healthz times while `slow` slow clients hold connections to host:port.

    The probes start once every slow client is connected and has had `settle_s` to send its first
    bytes; they stop after `probes` probes or `measure_s` seconds, whichever comes first."""
    if not ipaddress.ip_address(socket.gethostbyname(host)).is_loopback:
        raise ValueError(f"slow clients are for loopback only, not {host!r}")
    if not 0 <= slow <= MAX_SLOW:
        raise ValueError(f"at most {MAX_SLOW} slow clients, not {slow}")
    allow_open_files(slow + 256)
    return asyncio.run(_run(host, port, slow, settle_s, probes, probe_every_s, timeout_s, measure_s, drip_s))


async def _run(host, port, slow, settle_s, probes, probe_every_s, timeout_s, measure_s, drip_s) -> Figures:
    figures = Figures(slow)
    connected: set[int] = set()
    deadline = time.monotonic() + 10.0 + settle_s + measure_s + timeout_s  # nothing outlives this
    tasks = [
        asyncio.create_task(_slow_client(n, host, port, drip_s, deadline, connected, figures)) for n in range(slow)
    ]
    try:
        while len(connected) < slow:
            if time.monotonic() > deadline - settle_s - measure_s:
                raise RuntimeError(f"only {len(connected)} of {slow} slow clients could connect")
            await asyncio.sleep(0.05)
        await asyncio.sleep(settle_s)
        await asyncio.to_thread(_probe, host, port, figures, probes, probe_every_s, timeout_s, measure_s)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return figures


async def _slow_client(
    n: int, host: str, port: int, drip_s: float, deadline: float, connected: set[int], figures: Figures
) -> None:
    await asyncio.sleep((n % 100) * 0.005)  # not 500 SYNs in one instant: the listen backlog is finite
    while time.monotonic() < deadline:
        try:
            _reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        figures.slow_opened += 1
        connected.add(n)
        try:
            for byte in SLOW_REQUEST:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(drip_s)
                if time.monotonic() > deadline:
                    break
        except OSError:  # the server gave up on it (header timeout): connect again, as an attacker would
            pass
        finally:
            writer.close()


def _probe(
    host: str, port: int, figures: Figures, probes: int, every_s: float, timeout_s: float, measure_s: float
) -> None:
    stop_at = time.monotonic() + measure_s
    while len(figures.times_s) < probes and time.monotonic() < stop_at:
        started = time.perf_counter()
        connection = http.client.HTTPConnection(host, port, timeout=timeout_s)
        try:
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            response.read()
            figures.failures += response.status != 200
            figures.times_s.append(time.perf_counter() - started)
        except (TimeoutError, socket.timeout):
            figures.timeouts += 1
            figures.times_s.append(timeout_s)
        except OSError:
            figures.failures += 1
            figures.times_s.append(time.perf_counter() - started)
        finally:
            connection.close()
        time.sleep(every_s)
