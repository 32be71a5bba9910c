"""The alert watcher: picture + zones + the clock -> alerts raised, resolved, streamed.

`python -m dispatch.watch` (a Procfile process; run one per site). Every
interval it reads the snapshot, the open assignments and the zones, asks the
pure `domain.alerts.evaluate` which conditions hold now, and records the
difference with the open alerts in one atomic step. Alerts depend on time
passing, not only on new messages (a drone falling silent sends nothing), which
is why this is a clock-driven loop and not part of ingest.

A second watcher started by mistake does no harm: recording a diff is
idempotent (store/alerts.py). Redis going away is waited out with capped
exponential backoff, as ingest does; SIGTERM or SIGINT stops it between ticks.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
import redis

from .domain.alerts import Alert, Thresholds, diff, evaluate
from .domain.zones import LOCAL_TZ
from .keys import Keys
from .settings import Settings, SettingsError
from .store.alerts import Applied, AlertStore
from .store.connection import RETRYABLE, connect
from .store.state import read_snapshot
from .store.zones import load_zones

log = logging.getLogger("dispatch.watch")


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class WatchOptions:
    """How often to look and what counts as an alert; from Settings when it has them, else the environment."""

    interval_ms: int = 1_000
    thresholds: Thresholds = field(default_factory=Thresholds)
    tz: str = LOCAL_TZ

    @classmethod
    def from_env(cls, settings: Settings, env: Mapping[str, str] | None = None) -> "WatchOptions":
        env = os.environ if env is None else env
        defaults = Thresholds()

        def seconds_ms(attribute: str, variable: str, default_ms: int) -> int:
            return round(_setting(settings, env, attribute, variable, default_ms / 1000, minimum=0.001) * 1000)

        thresholds = Thresholds(
            link_lost_ms=seconds_ms("alert_link_lost_s", "DISPATCH_ALERT_LINK_LOST_S", defaults.link_lost_ms),
            low_battery_pct=_setting(settings, env, "alert_low_battery_pct", "DISPATCH_ALERT_LOW_BATTERY_PCT",
                                     defaults.low_battery_pct, minimum=0, maximum=100),
            patrol_stale_ms=seconds_ms("alert_patrol_stale_s", "DISPATCH_ALERT_PATROL_STALE_S",
                                       defaults.patrol_stale_ms),
            sighting_unassigned_ms=seconds_ms("alert_sighting_unassigned_s", "DISPATCH_ALERT_SIGHTING_UNASSIGNED_S",
                                              defaults.sighting_unassigned_ms),
            urgent_sighting_unassigned_ms=seconds_ms(
                "alert_urgent_sighting_unassigned_s", "DISPATCH_ALERT_URGENT_SIGHTING_UNASSIGNED_S",
                defaults.urgent_sighting_unassigned_ms),
            assignment_unacknowledged_ms=seconds_ms("alert_unacknowledged_s", "DISPATCH_ALERT_UNACKNOWLEDGED_S",
                                                    defaults.assignment_unacknowledged_ms),
        )
        interval_ms = _setting(settings, env, "watch_interval_ms", "DISPATCH_WATCH_INTERVAL_MS",
                               cls.interval_ms, minimum=10, maximum=60_000)
        tz = getattr(settings, "timezone", None) or env.get("DISPATCH_TIMEZONE", "").strip() or LOCAL_TZ
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingsError(f"DISPATCH_TIMEZONE must be an IANA time zone such as Europe/Paris, got {tz!r}")
        return cls(interval_ms=int(interval_ms), thresholds=thresholds, tz=tz)


def _setting(settings: Settings, env: Mapping[str, str], attribute: str, variable: str, default: float, *,
             minimum: float, maximum: float | None = None) -> float:
    """A number from Settings once it has the field, until then from the environment variable."""
    if hasattr(settings, attribute):
        return getattr(settings, attribute)
    raw = env.get(variable, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{variable} must be a number, got {raw!r}") from None
    if not math.isfinite(value) or value < minimum or (maximum is not None and value > maximum):
        bounds = f"from {minimum:g}" + (f" to {maximum:g}" if maximum is not None else "")
        raise SettingsError(f"{variable} must be a finite number {bounds}, got {raw!r}")
    return value


class AlertWatcher:
    def __init__(self, settings: Settings, options: WatchOptions = WatchOptions(), *,
                 clock: Callable[[], int] = wall_clock_ms, client: redis.Redis | None = None):
        self.settings = settings
        self.options = options
        self.keys = Keys(settings.site)
        self.clock = clock
        self.client = client or connect(settings.redis_url)
        self.store = AlertStore(self.client, self.keys, live_maxlen=settings.live_maxlen,
                                retention_ms=settings.retention_ms)
        self.ticks = 0
        self._backoff = 0.0

    def tick(self) -> Applied:
        """Look once: evaluate the picture at the clock's now and record what changed."""
        now_ms = self.clock()
        snapshot = read_snapshot(self.client, self.keys)
        if "assignments" not in snapshot:
            snapshot = {**snapshot, "assignments": read_open_assignments(self.client, self.keys)}
        current = evaluate(snapshot, load_zones(self.client, self.keys), now_ms,
                           self.options.thresholds, tz=self.options.tz)
        raised, resolved = diff(self.store.read_open(), current)
        applied = self.store.apply(raised, resolved, now_ms)
        self.ticks += 1
        _log_changes(applied, raised)
        return applied

    def run(self, stop: threading.Event) -> None:
        log.info("alert watcher on site %s, every %d ms", self.settings.site, self.options.interval_ms)
        interval_s = self.options.interval_ms / 1000
        while not stop.is_set():
            started = time.monotonic()
            try:
                self.tick()
                self._backoff = 0.0
            except RETRYABLE as error:
                self._wait_after_error(stop, f"Redis unavailable ({error.__class__.__name__}: {error})")
                continue
            stop.wait(max(0.0, interval_s - (time.monotonic() - started)))

    def _wait_after_error(self, stop: threading.Event, why: str) -> None:
        self._backoff = min(max(self._backoff * 2, 0.1), 5.0)
        log.warning("%s; retrying in %.1f s", why, self._backoff)
        stop.wait(self._backoff)


def read_open_assignments(client: redis.Redis, keys: Keys) -> list[dict]:
    """Open assignments, until read_snapshot carries them itself."""
    return [orjson.loads(raw) for raw in client.hgetall(keys.assignments_open).values()]


def _log_changes(applied: Applied, raised: list[Alert]) -> None:
    messages = {alert.alert_id: alert.message for alert in raised}
    for alert_id in applied.raised:
        log.info("raised %s: %s", alert_id, messages.get(alert_id, ""))
    for alert_id in applied.resolved:
        log.info("resolved %s", alert_id)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dispatch.watch", description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        settings = Settings.from_env()
        options = WatchOptions.from_env(settings)
    except SettingsError as error:
        print(f"watch: {error}", file=sys.stderr)
        return 2
    if not settings.redis_url:
        print("watch: REDIS_URL is not set. Run the whole demo with `make run`, "
              "or point REDIS_URL at your Redis.", file=sys.stderr)
        return 2
    stop = threading.Event()

    def request_stop(signum, _frame) -> None:
        # A stop under way ends within one tick. Ignoring repeats matters: Python puts the default
        # (deadly) handler back while the interpreter shuts down, so a second SIGTERM arriving then
        # would turn a clean exit into death by signal.
        signal.signal(signum, signal.SIG_IGN)
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, request_stop)
    watcher = AlertWatcher(settings, options)
    watcher.run(stop)
    log.info("alert watcher stopped after %d ticks", watcher.ticks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
