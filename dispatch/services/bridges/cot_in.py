"""Cursor-on-Target in: markers dropped by the unit's operators on ATAK/WinTAK become sightings.

    python -m dispatch bridge cot-in --listen udp://239.2.3.1:6969 --senders senders.csv   # SA multicast
    python -m dispatch bridge cot-in --listen udp://0.0.0.0:4242 --senders senders.csv     # unicast
    python -m dispatch bridge cot-in --from tcp://takserver:8087 --senders senders.csv     # a TAK server
    python -m dispatch bridge cot-in --from tls://takserver:8089 --senders senders.csv     # PYTAK_TLS_* as for cot

The senders file maps each operator's TAK device uid to their operator code and drone (JSON or CSV:
`tak_uid,operator_id,drone_id`); markers from any other device are ignored. What a marker becomes is
decided in dispatch/domain/cot_in.py; this module reads the link (pytak's: UDP unicast or multicast,
TCP or TLS to a TAK server, reopened with backoff) and XADDs the entries to `{site}:in:sightings` as the
`bridge` Redis user, like any bridge; ingest validates them again. Entries that Redis cannot take now
are kept (at most MAX_PENDING) and written when it is back: a sighting is not a position that the next
second replaces. Counters (`cot-in:in`, `cot-in:out`, `cot-in:dropped:<reason>`) go to
`{site}:bridges:stats` and the log.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import ssl
import sys
import time
from collections import deque
from pathlib import Path
from urllib.parse import urlsplit

from ... import clock
from ...domain.backoff import Backoff
from ...domain.cot_in import CotIntake, Ignored, SendersError, parse_senders, read_event, split_stream
from ...keys import Keys
from ...store.connection import RETRYABLE, connect
from .cot import _pytak, check_destination, pytak_config
from .counters import Counters

MAX_PENDING = 1_000
FLUSH_EVERY_S = 2.0
READ_TIMEOUT_S = 1.0

log = logging.getLogger("dispatch.bridge.cot-in")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--listen", metavar="URL", help="udp://HOST:PORT to listen on (a multicast group is joined)")
    source.add_argument("--from", dest="source", metavar="URL", help="tcp://HOST:PORT or tls://HOST:PORT of a TAK server")
    parser.add_argument("--senders", metavar="FILE", type=Path, required=True,
                        help="TAK device uid -> operator code and drone, JSON or CSV (tak_uid,operator_id,drone_id)")
    parser.add_argument("--name", default="cot-in", help="the bridge's name in its counters and logs")
    parser.add_argument("--stats-every", metavar="S", type=float, default=60.0,
                        help="log the counters every S seconds (default 60); Redis gets them every 2 s")


class Writer:
    """Entries to `{site}:in:sightings`, kept while Redis is away; counters flushed every few seconds."""

    def __init__(self, client, keys: Keys, counters: Counters, stats_every_s: float) -> None:
        self.client, self.keys, self.counters = client, keys, counters
        self.pending: deque[dict[str, str]] = deque()
        self.backoff = Backoff(base=0.5, cap=10.0)
        self.retry_at = 0.0
        self.flushed_at = self.logged_at = time.monotonic()
        self.stats_every_s = stats_every_s

    def add(self, fields: dict[str, str]) -> None:
        if len(self.pending) >= MAX_PENDING:
            self.pending.popleft()
            self.counters.dropped("redis_unavailable")
        self.pending.append(fields)

    def tick(self) -> None:
        now = time.monotonic()
        if self.pending and now >= self.retry_at:
            try:
                pipe = self.client.pipeline(transaction=False)
                for fields in self.pending:
                    pipe.xadd(self.keys.in_sightings, fields)
                pipe.execute()
            except RETRYABLE as error:
                wait = self.backoff.failed()
                self.retry_at = now + wait
                log.warning("Redis unavailable (%s); %d entries kept, retrying in %.1f s",
                            error, len(self.pending), wait)
            else:
                self.backoff.succeeded()
                self.counters.add("out", len(self.pending))
                self.pending.clear()
        if now - self.flushed_at >= FLUSH_EVERY_S and now >= self.retry_at:
            self.flushed_at = now
            self.counters.flush(self.client, self.keys.bridge_stats)
        if now - self.logged_at >= self.stats_every_s:
            self.logged_at = now
            log.info("counters: %s", self.counters.summary())


class CotInBridge:
    def __init__(self, url: str, intake: CotIntake, writer: Writer, stop) -> None:
        self.url, self.intake, self.writer, self.stop = url, intake, writer, stop
        self.scheme = urlsplit(url).scheme
        self.backoff = Backoff(base=0.5, cap=15.0)
        self._told: dict[str, float] = {}

    async def run(self) -> None:
        while not self.stop.is_set():
            reader = writer = None
            try:
                try:
                    reader, writer = await _pytak().protocol_factory(pytak_config(self._pytak_url()))
                except (SyntaxError, ValueError) as error:
                    raise OSError(str(error.__cause__ or error)) from error
                log.info("receiving from %s", self.url)
                self.backoff.succeeded()
                await (self._datagrams(reader) if self.scheme == "udp" else self._stream(reader))
            except (OSError, ssl.SSLError, EOFError) as error:
                wait = self.backoff.failed()
                self.writer.counters.add("reconnects")
                log.warning("%s: %s; again in %.1f s", self.url, error or type(error).__name__, wait)
                await self._sleep(wait)
            finally:
                for end in (reader, writer):
                    if end is not None and hasattr(end, "close"):
                        end.close()
        self.writer.tick()
        self.writer.counters.flush(self.writer.client, self.writer.keys.bridge_stats)
        log.info("counters: %s", self.writer.counters.summary())

    def _pytak_url(self) -> str:
        return self.url.replace("udp://", "udp+ro://", 1) if self.scheme == "udp" else self.url

    async def _datagrams(self, reader) -> None:
        while not self.stop.is_set():
            try:
                data, _ = await asyncio.wait_for(reader.recv(), READ_TIMEOUT_S)
            except asyncio.TimeoutError:
                await asyncio.to_thread(self.writer.tick)
                continue
            self._take(data)
            await asyncio.to_thread(self.writer.tick)

    async def _stream(self, reader) -> None:
        buffer = b""
        while not self.stop.is_set():
            try:
                data = await asyncio.wait_for(reader.read(65536), READ_TIMEOUT_S)
            except asyncio.TimeoutError:
                await asyncio.to_thread(self.writer.tick)
                continue
            if not data:
                raise ConnectionResetError("the server closed the connection")
            events, buffer = split_stream(buffer + data)
            for event in events:
                self._take(event)
            await asyncio.to_thread(self.writer.tick)

    def _take(self, data: bytes) -> None:
        self.writer.counters.add("in")
        root = read_event(data)
        result = root if isinstance(root, Ignored) else self.intake.take(root, clock.now_ms())
        if isinstance(result, Ignored):
            self.writer.counters.dropped(result.reason)
            if time.monotonic() - self._told.get(result.reason, -1e9) >= 60.0 and result.reason not in (
                    "not_a_marker", "own_event"):  # every device's position, our own CoT out: normal traffic
                self._told[result.reason] = time.monotonic()
                log.warning("ignored: %s%s (logged once a minute per reason)", result.reason,
                            f": {result.detail}" if result.detail else "")
            return
        self.writer.add(result)

    async def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stop.is_set() and time.monotonic() < deadline:
            await asyncio.to_thread(self.writer.tick)
            await asyncio.to_thread(self.stop.wait, min(0.5, max(0.0, deadline - time.monotonic())))


def run(args: argparse.Namespace) -> int:
    from .. import process

    settings = process.start("bridge cot-in")
    if settings is None:
        return 2
    url = args.listen or args.source
    refusal = check_destination(url)
    if refusal is None and args.listen and not url.startswith("udp://"):
        refusal = "--listen takes udp://HOST:PORT; use --from for a TAK server over tcp:// or tls://"
    if refusal is None and args.source and url.startswith("udp://"):
        refusal = "--from takes tcp:// or tls://; use --listen for udp://"
    try:
        senders = parse_senders(args.senders.read_text(encoding="utf-8"), source=str(args.senders))
    except OSError as error:
        refusal = refusal or f"{args.senders}: {error.strerror or error}"
    except SendersError as error:
        refusal = refusal or str(error)
    if refusal:
        print(f"bridge cot-in: {refusal.replace('--to', '--listen/--from')}", file=sys.stderr, flush=True)
        return 2
    log.info("senders: %d TAK devices from %s", len(senders), args.senders)
    client = connect(settings.redis_url)
    stop = process.stop_event()
    writer = Writer(client, Keys(settings.site), Counters(args.name, log), args.stats_every)
    try:
        asyncio.run(CotInBridge(url, CotIntake(senders), writer, stop).run())
    finally:
        client.close()
    return 0
