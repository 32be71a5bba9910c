"""Cursor-on-Target out: the picture to ATAK/WinTAK devices or a TAK server.

    python -m dispatch bridge cot --to udp://239.2.3.1:6969     # the TAK SA multicast group (or unicast)
    python -m dispatch bridge cot --to tcp://takserver:8087
    python -m dispatch bridge cot --to tls://takserver:8089     # client certificate: PYTAK_TLS_* below

What goes out and when is decided in dispatch/domain/cot.py (patrols, drones, open sightings without
their note, assignments; on change, a keep-alive before stale, a delete when a sighting ends). This
module moves bytes:

- it follows the picture by reading it whole (drones, patrols, sightings, open assignments: a few hundred
  units, one MULTI/EXEC) and then waiting on `{site}:live` with XREAD BLOCK from the id the read came
  with: any change wakes it at once (at most every MIN_READ_S, so a busy second costs a few reads), and
  with no change it reads again after a second anyway, which drives keep-alives and stale. Reading the
  picture rather than applying the live deltas means no delta logic to get wrong (assignments are not in
  the live stream at all) and nothing to resynchronise after a Redis restart;
- the link is pytak's (`protocol_factory`): UDP unicast or multicast (write-only; TTL 1 unless
  PYTAK_MULTICAST_TTL), TCP, and TLS with the TAK server's client certificate as pytak configures it
  from the environment (PYTAK_TLS_CLIENT_CERT, PYTAK_TLS_CLIENT_KEY, PYTAK_TLS_CLIENT_CAFILE,
  PYTAK_TLS_CLIENT_PASSWORD, PYTAK_TLS_DONT_VERIFY...; a .p12 needs pytak[with-crypto]). A TCP or TLS
  link that fails or that the server closes is opened again after a capped exponential wait
  (domain/backoff.py), and everything is sent again on the new link;
- Redis unreachable: counted, retried with backoff; the TAK link stays up and TAK devices grey out
  what they have when its stale passes.

Runs as the read-only `cot` Redis user (dispatch/domain/acl.py). Its counters (events out by kind,
reconnections, Redis failures) are logged every --stats-every seconds, not stored: that user may write
nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import configparser
import logging
import os
import ssl
import sys
import threading
import time
import warnings
from urllib.parse import urlsplit

from ... import clock
from ...domain.backoff import Backoff
from ...domain.cot import KEEPALIVE_MS, CotEvent, CotFeed, to_xml
from ...keys import Keys
from ...store.connection import RETRYABLE, connect
from ...store.state import read_collections
from .counters import Counters

SCHEMES = ("udp", "tcp", "tls")
COLLECTIONS = ("drones", "patrols", "sightings", "assignments")
MIN_READ_S = 0.25  # a busy stream wakes the bridge often; the picture is read at most this often
BLOCK_MS = 1_000  # with no change, read the picture again after this long (keep-alive, stale)
SEND_TIMEOUT_S = 10.0  # a TCP peer that stops reading is a lost link, not a reason to stop following Redis
TLS_VARIABLES = ("PYTAK_TLS_CLIENT_CERT", "PYTAK_TLS_CLIENT_KEY", "PYTAK_TLS_CLIENT_CAFILE",
                 "PYTAK_TLS_CLIENT_PASSWORD", "PYTAK_TLS_DONT_VERIFY", "PYTAK_TLS_DONT_CHECK_HOSTNAME",
                 "PYTAK_TLS_SERVER_EXPECTED_HOSTNAME", "PYTAK_TLS_CLIENT_CIPHERS", "PYTAK_MULTICAST_TTL",
                 "PYTAK_MULTICAST_LOCAL_ADDR")

log = logging.getLogger("dispatch.bridge.cot")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--to", required=True, metavar="URL",
                        help="udp://HOST:PORT (unicast or multicast), tcp://HOST:PORT or tls://HOST:PORT")
    parser.add_argument("--keepalive", metavar="S", type=float, default=KEEPALIVE_MS / 1000,
                        help=f"send an unchanged object again every S seconds (default {KEEPALIVE_MS // 1000})")
    parser.add_argument("--name", default="cot", help="the bridge's name in its logs (default cot)")
    parser.add_argument("--stats-every", metavar="S", type=float, default=60.0,
                        help="log the counters every S seconds (default 60)")


def check_destination(url: str) -> str | None:
    """Why `url` cannot be a destination, or None."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        return f"--to {url!r}: the scheme must be one of {', '.join(s + '://' for s in SCHEMES)}"
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or not port:
        return f"--to {url!r}: give a host and a port, e.g. {parts.scheme}://239.2.3.1:6969"
    if parts.scheme == "tls" and not os.environ.get("PYTAK_TLS_CLIENT_CERT"):
        return ("--to tls://...: a TAK server wants a client certificate: set PYTAK_TLS_CLIENT_CERT "
                "(and PYTAK_TLS_CLIENT_KEY, PYTAK_TLS_CLIENT_CAFILE)")
    return None


def pytak_config(url: str) -> configparser.SectionProxy:
    """pytak's configuration for `url`: our udp:// is its write-only udp+wo:// (plain udp:// would also bind
    the destination port to listen, which fails when a receiver on this host holds it)."""
    parts = urlsplit(url)
    cot_url = url.replace("udp://", "udp+wo://", 1) if parts.scheme == "udp" else url
    values = {"COT_URL": cot_url}
    values.update({name: os.environ[name] for name in TLS_VARIABLES if os.environ.get(name)})
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # pytak's keys are upper case
    parser["cot"] = values
    return parser["cot"]


def _pytak():
    # pytak warns at import that its optional extras (cryptography, aiohttp) are missing: only .p12
    # certificates and enrolment need them.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pytak
    return pytak


class Link:
    """The open connection to TAK: a writer, and for TCP/TLS a task that sees the server hang up."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.scheme = urlsplit(url).scheme
        self.writer = None
        self._closed: asyncio.Task | None = None

    async def open(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pytak warns on PYTAK_TLS_DONT_VERIFY; we log the setting once
            reader, self.writer = await _pytak().protocol_factory(pytak_config(self.url))
        if reader is not None and self.scheme != "udp":
            self._closed = asyncio.create_task(_drain(reader))

    @property
    def lost(self) -> bool:
        return self._closed is not None and self._closed.done()

    async def send(self, data: bytes) -> None:
        if self.lost:
            raise ConnectionResetError("the server closed the connection")
        if hasattr(self.writer, "send"):  # pytak's datagram client
            await self.writer.send(data)
        else:
            self.writer.write(data)
            await asyncio.wait_for(self.writer.drain(), SEND_TIMEOUT_S)  # TimeoutError is an OSError

    async def close(self) -> None:
        if self._closed is not None:
            self._closed.cancel()
        writer, self.writer = self.writer, None
        if writer is None:
            return
        try:
            writer.close()
            if hasattr(writer, "wait_closed"):
                await asyncio.wait_for(writer.wait_closed(), 2.0)
        except (OSError, asyncio.TimeoutError, ssl.SSLError):
            pass


async def _drain(reader) -> None:
    """Read and drop what the server sends (other clients' positions: CoT in is another bridge) until it
    hangs up."""
    try:
        while await reader.read(65536):
            pass
    except (OSError, ssl.SSLError):
        pass


def payload(event: CotEvent, scheme: str) -> bytes:
    """One event per datagram with its XML declaration; on a stream, events back to back without it (a TAK
    server's stream parser reads `<event>...</event>` one after the other)."""
    xml = to_xml(event)
    return xml if scheme == "udp" else xml.split(b"?>", 1)[1].lstrip() + b"\n"


class CotBridge:
    def __init__(self, client, keys: Keys, url: str, counters: Counters, stop: threading.Event, *,
                 keepalive_s: float = KEEPALIVE_MS / 1000, stats_every_s: float = 60.0) -> None:
        self.client, self.keys, self.url, self.counters, self.stop = client, keys, url, counters, stop
        self.feed = CotFeed(keepalive_ms=int(keepalive_s * 1000))
        self.stats_every_s = stats_every_s
        self.link_backoff = Backoff(base=0.5, cap=15.0)
        self.redis_backoff = Backoff(base=0.1, cap=5.0)
        self.live_id: str | None = None
        self._logged_at = time.monotonic()

    async def run(self) -> None:
        while not self.stop.is_set():
            link = Link(self.url)
            try:
                try:
                    await link.open()
                except (SyntaxError, ValueError) as error:  # pytak's words for a certificate it cannot use
                    raise OSError(str(error.__cause__ or error)) from error
                log.info("connected to %s", self.url)
                self.link_backoff.succeeded()
                self.feed.reset()  # a new peer has seen nothing
                await self._serve(link)
            except (OSError, ssl.SSLError, EOFError) as error:
                wait = self.link_backoff.failed()
                self.counters.add("reconnects")
                log.warning("%s: %s; connecting again in %.1f s", self.url, error or type(error).__name__, wait)
                await self._sleep(wait)
            finally:
                await link.close()
        log.info("counters: %s", self.counters.summary())

    async def _serve(self, link: Link) -> None:
        last_read = 0.0
        while not self.stop.is_set():
            await self._sleep(MIN_READ_S - (time.monotonic() - last_read))
            last_read = time.monotonic()
            try:
                picture = await asyncio.to_thread(read_collections, self.client, self.keys, COLLECTIONS)
            except RETRYABLE as error:
                wait = self.redis_backoff.failed()
                self.counters.dropped("redis_unavailable")
                log.warning("Redis unavailable (%s); reading again in %.1f s", error, wait)
                await self._sleep(wait)
                continue
            self.redis_backoff.succeeded()
            for event in self.feed.due(picture, clock.now_ms()):
                await link.send(payload(event, link.scheme))
                self.counters.add(f"out:{event.type}")
            self._log_counters()
            await self._wait_for_change(picture["live_id"], link)

    async def _wait_for_change(self, since: str, link: Link) -> None:
        """Until `{site}:live` has an entry after `since`, at most BLOCK_MS (or the link drops)."""
        if link.lost:
            raise ConnectionResetError("the server closed the connection")
        try:
            await asyncio.to_thread(self.client.xread, {self.keys.live: since}, count=1, block=BLOCK_MS)
        except RETRYABLE:
            pass  # the next read of the picture counts it and waits

    async def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            await asyncio.to_thread(self.stop.wait, seconds)

    def _log_counters(self) -> None:
        if time.monotonic() - self._logged_at >= self.stats_every_s:
            self._logged_at = time.monotonic()
            log.info("counters: %s", self.counters.summary())


def run(args: argparse.Namespace) -> int:
    from .. import process

    settings = process.start("bridge cot")
    if settings is None:
        return 2
    refusal = check_destination(args.to)
    if refusal or args.keepalive <= 0:
        print(f"bridge cot: {refusal or '--keepalive must be positive'}", file=sys.stderr, flush=True)
        return 2
    if os.environ.get("PYTAK_TLS_DONT_VERIFY"):
        log.warning("PYTAK_TLS_DONT_VERIFY is set: the TAK server's certificate is not checked")
    client = connect(settings.redis_url, blocking_ms=BLOCK_MS)
    stop = process.stop_event()
    bridge = CotBridge(client, Keys(settings.site), args.to, Counters(args.name, log), stop,
                       keepalive_s=args.keepalive, stats_every_s=args.stats_every)
    log.info("sending the picture of site %s to %s", settings.site, args.to)
    try:
        asyncio.run(bridge.run())
    finally:
        client.close()
    return 0
