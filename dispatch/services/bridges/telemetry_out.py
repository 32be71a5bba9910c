"""What every drone bridge does with the positions it decodes: refuse nonsense, limit the rate, write
validated telemetry under the bridge's Redis user, and keep its link up with backoff.

A bridge kind supplies a `Source` (open, poll, close) that turns its protocol into `Fix` (a position
fit for the contract) or `Drop` (a message not turned into telemetry, with a reason). `pump` runs it:
each Fix passes `drone_fix.refusal` (NaN, (0, 0) before a fix, out of range: counted, never sent),
the per-drone rate (`telemetry_rate`), and the contract's own validator (`domain.validate`: a fix that
ingest would dead-letter is counted `dropped:invalid` here, where the bridge's operator looks). A lost
link (serial unplugged, TCP peer gone, broker down) is reopened after a capped exponential wait
(domain/backoff.py); Redis being away drops the fixes of that moment, counted `redis_unavailable` (the
next fix is newer anyway: a bridge has no business replaying a backlog of positions), and retries
after the same kind of wait.

A drone that falls silent is not reported here: the bridge sends nothing more for it, and the watch
process raises its "link lost" alert when its telemetry is older than 5 s (domain/alerts.py).
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from pathlib import Path
from typing import Iterable, Protocol

import redis

from ...domain.backoff import Backoff
from ...domain.drone_fix import Drop, Fix, refusal, telemetry_fields
from ...domain.drone_ids import DroneIdError, parse_mapping
from ...domain.telemetry_rate import RatePolicy, TelemetryRate
from ...domain.validate import ClockLimits, Rejection, validate
from ...keys import Keys
from ...store.connection import RETRYABLE
from .counters import Counters

Reading = Fix | Drop


class SourceError(Exception):
    """The link to the drones failed (closed, unreachable, refused): reopen it after a wait."""


class Source(Protocol):
    def open(self) -> None: ...
    def poll(self, timeout_s: float) -> Iterable[Reading]: ...
    def close(self) -> None: ...
    def describe(self) -> str: ...


def add_telemetry_arguments(parser: argparse.ArgumentParser, kind: str) -> None:
    """The options every drone bridge has."""
    parser.add_argument("--drone-ids", metavar="FILE", type=Path,
                        help="mapping of the link's ids to drone ids, JSON or CSV (docs/bridges.md)")
    parser.add_argument("--max-rate", metavar="HZ", type=float, default=2.0,
                        help="at most this many messages a second per drone (at least 1; default 2)")
    parser.add_argument("--name", default=kind,
                        help=f"the bridge's name in its counters and logs (default {kind}; one per process "
                             "when several run)")
    parser.add_argument("--stats-every", metavar="S", type=float, default=60.0,
                        help="log the counters every S seconds (default 60); Redis gets them every 2 s")


def load_drone_ids(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    try:
        return parse_mapping(path.read_text(encoding="utf-8"), source=str(path))
    except OSError as error:
        raise DroneIdError(f"{path}: {error.strerror or error}") from None


class TelemetryOut:
    """Fixes in, validated telemetry out to `{site}:in:telemetry`; counts everything."""

    FLUSH_EVERY_S = 2.0

    def __init__(self, client: redis.Redis, keys: Keys, counters: Counters, rate: TelemetryRate, *,
                 stats_every_s: float = 60.0, clock=time.time, log: logging.Logger | None = None) -> None:
        self.client, self.keys, self.counters, self.rate = client, keys, counters, rate
        self.stats_every_s = stats_every_s
        self.clock = clock
        self.log = log or logging.getLogger(f"dispatch.bridge.{counters.bridge}")
        self.limits = ClockLimits()
        self._backoff = Backoff(base=0.5, cap=10.0)
        self._redis_back_at = 0.0
        self._flushed_at = self._logged_at = clock()
        self._superseded = 0
        self._outbox: list[Fix] = []  # taken, to be written at the next tick
        self._told: dict[str, float] = {}  # reason -> when last logged (once a minute per reason)

    def take(self, reading: Reading) -> None:
        if isinstance(reading, Drop):
            self._drop(reading.reason, reading.drone_id, reading.detail)
            return
        reason = refusal(reading)
        if reason is not None:
            self._drop(reason, reading.drone_id, _describe(reading))
            return
        send = self.rate.offer(reading, self._now_ms())
        self._count_superseded()
        if send is not None:
            self._outbox.append(send)

    def tick(self) -> None:
        """Write what was taken since the last tick and what the rate held and is now due, in one round
        trip; flush and log the counters when it is time. `pump` ticks after each read of the link."""
        ready, self._outbox = self._outbox + self.rate.due(self._now_ms()), []
        if ready:
            self._write(ready)
        now = self.clock()
        if now - self._flushed_at >= self.FLUSH_EVERY_S:
            self._flush()
        if now - self._logged_at >= self.stats_every_s:
            self._logged_at = now
            self.log.info("counters: %s", self.counters.summary())

    def close(self) -> None:
        # Whatever is taken or held goes out before the process ends.
        ready, self._outbox = self._outbox + self.rate.due(self._now_ms() + 10_000), []
        if ready:
            self._write(ready)
        self._flush()
        self.log.info("counters: %s", self.counters.summary())

    def _flush(self) -> None:
        self._flushed_at = self.clock()
        if self.clock() >= self._redis_back_at:
            self.counters.flush(self.client, self.keys.bridge_stats)

    def _write(self, fixes: list[Fix]) -> None:
        now = self.clock()
        if now < self._redis_back_at:
            self.counters.dropped("redis_unavailable", len(fixes))
            return
        entries = []
        for fix in fixes:
            fields = telemetry_fields(fix)
            verdict = validate("telemetry", fields, int(now * 1000), self.limits)
            if isinstance(verdict, Rejection):
                self._drop("invalid", fix.drone_id, verdict.reason)
            else:
                entries.append(fields)
        if not entries:
            return
        try:
            pipe = self.client.pipeline(transaction=False)
            for fields in entries:
                pipe.xadd(self.keys.in_telemetry, fields)
            pipe.execute()
        except RETRYABLE as error:
            wait = self._backoff.failed()
            self._redis_back_at = self.clock() + wait
            self.counters.dropped("redis_unavailable", len(entries))
            self.log.warning("Redis unavailable (%s); dropping telemetry for %.1f s", error, wait)
            return
        self._backoff.succeeded()
        self.counters.add("out", len(entries))

    def _drop(self, reason: str, drone_id: str | None, detail: str) -> None:
        self.counters.dropped(reason)
        now = self.clock()
        if now - self._told.get(reason, -1e9) >= 60.0:
            self._told[reason] = now
            who = f" ({drone_id})" if drone_id else ""
            self.log.warning("dropped%s: %s%s (logged once a minute per reason; counted as dropped:%s)",
                             who, reason, f": {detail}" if detail else "", reason)

    def _count_superseded(self) -> None:
        superseded = self.rate.superseded - self._superseded
        if superseded:
            self._superseded = self.rate.superseded
            self.counters.dropped("rate_limited", superseded)

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)


def _describe(fix: Fix) -> str:
    return (f"lat={fix.lat} lon={fix.lon} alt_m={fix.alt_m} heading_deg={fix.heading_deg} "
            f"speed_mps={fix.speed_mps} battery_pct={fix.battery_pct}")


def pump(source: Source, out: TelemetryOut, stop: threading.Event, *, poll_s: float = 0.1,
         backoff: Backoff | None = None) -> None:
    """Run `source` into `out` until `stop` is set, reopening the source after each failure."""
    backoff = backoff or Backoff(base=0.5, cap=15.0)
    log = out.log
    try:
        while not stop.is_set():
            try:
                source.open()
                log.info("listening: %s", source.describe())
                backoff.succeeded()
                while not stop.is_set():
                    for reading in source.poll(poll_s):
                        out.take(reading)
                    out.tick()
            except (SourceError, OSError) as error:
                wait = backoff.failed()
                out.counters.add("reconnects")
                log.warning("%s: %s; reopening in %.1f s", source.describe(), error, wait)
                source.close()
                deadline = time.monotonic() + wait
                while not stop.is_set() and time.monotonic() < deadline:
                    out.tick()
                    stop.wait(min(poll_s, max(0.0, deadline - time.monotonic())))
    finally:
        source.close()
        out.close()


def run_telemetry_bridge(kind: str, args: argparse.Namespace, make_source) -> int:
    """A drone bridge's main: settings, mapping file, Redis as the bridge user, then `pump` until SIGTERM.
    `make_source(args, drone_ids, log, counters)` builds the kind's Source (which counts messages in)."""
    from ...store.connection import connect
    from .. import process

    settings = process.start(f"bridge {kind}")
    if settings is None:
        return 2
    log = logging.getLogger(f"dispatch.bridge.{args.name}")
    counters = Counters(args.name, log)
    try:
        drone_ids = load_drone_ids(args.drone_ids)
        rate = TelemetryRate(RatePolicy(max_hz=args.max_rate))
        source = make_source(args, drone_ids, log, counters)
    except (DroneIdError, ValueError, OSError) as error:  # a bad option or file: say which, exit 2
        print(f"bridge {kind}: {error}", file=sys.stderr, flush=True)
        return 2
    if drone_ids:
        log.info("drone ids: %d mapped from %s", len(drone_ids), args.drone_ids)
    client = connect(settings.redis_url)
    out = TelemetryOut(client, Keys(settings.site), counters, rate, stats_every_s=args.stats_every, log=log)
    stop = process.stop_event()
    try:
        pump(source, out, stop)
    finally:
        client.close()
    return 0
