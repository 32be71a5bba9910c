"""A bridge's counters: messages in, telemetry out, dropped by reason; in Redis and in the log.

Why Redis: whoever runs the site must see a bridge that drops everything (a drone with no GPS fix, a
wrong mapping file) without a shell on the relay box where it runs. The counts go to the hash
`{site}:bridges:stats` (docs/streams.md), field `<bridge>:<counter>` (`mavlink:in`, `mavlink:out`,
`mavlink:dropped:no_fix`), by HINCRBY: the bridge's Redis user may do that and XADD, nothing else, and
several bridges of one kind (`--name`) add up without reading. The web role can read the hash. They are
also logged every minute, so a bridge that cannot reach Redis still says what it did.
Flushed every few seconds, not per message: one round trip for all counters.
"""

from __future__ import annotations

import logging
from collections import Counter

import redis

from ...store.connection import RETRYABLE

DROPPED = "dropped"


class Counters:
    def __init__(self, bridge: str, log: logging.Logger | None = None) -> None:
        self.bridge = bridge
        self.totals: Counter[str] = Counter()  # since start, for the log
        self._unflushed: Counter[str] = Counter()
        self._log = log or logging.getLogger(f"dispatch.bridge.{bridge}")

    def add(self, name: str, count: int = 1) -> None:
        if count:
            self.totals[name] += count
            self._unflushed[name] += count

    def dropped(self, reason: str, count: int = 1) -> None:
        self.add(f"{DROPPED}:{reason}", count)

    def field(self, name: str) -> str:
        return f"{self.bridge}:{name}"

    def flush(self, client: redis.Redis, key: str) -> bool:
        """Add what was counted since the last flush to the hash; kept for the next flush if Redis is away."""
        if not self._unflushed:
            return True
        pending = dict(self._unflushed)
        try:
            pipe = client.pipeline(transaction=False)
            for name, count in pending.items():
                pipe.hincrby(key, self.field(name), count)
            pipe.execute()
        except RETRYABLE as error:
            self._log.warning("counters not stored (Redis: %s); kept for the next flush", error)
            return False
        self._unflushed.subtract(pending)
        self._unflushed = +self._unflushed  # drop zeros
        return True

    def summary(self) -> str:
        """One log line: `in=120 out=40 dropped:no_fix=3`."""
        return " ".join(f"{name}={count}" for name, count in sorted(self.totals.items())) or "nothing yet"
