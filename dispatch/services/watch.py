"""The alert watcher: picture + zones + the clock -> alerts raised, resolved, streamed.

`python -m dispatch watch` (a Procfile process; run one per site). Every
interval it reads the snapshot, the open assignments and the zones, asks the
pure `domain.alerts.evaluate` which conditions hold now, and records the
difference with the open alerts in one atomic step. Alerts depend on time
passing, not only on new messages (a drone falling silent sends nothing), which
is why this is a clock-driven loop and not part of ingest.

For the same reason it also ends unassigned sightings past their category's
horizon ("expired, nobody sent"), through the store's atomic ending step:
one assigned a moment earlier is refused there and stays open. They are
expired before alerts are evaluated, so an expired sighting raises nothing.

A second watcher started by mistake does no harm: recording a diff is
idempotent (store/alerts.py). Redis going away is waited out with capped
exponential backoff, as ingest does; SIGTERM or SIGINT stops it between ticks.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import orjson
import redis

from ..domain.backoff import Backoff
from ..clock import now_ms
from ..domain.alerts import Alert, Thresholds, diff, escalations, evaluate, zone_audit_entries
from ..domain.sightings import DEFAULT_HORIZONS_MS, due_to_expire
from ..domain.lifecycle import DISPLAY_TIMEZONE
from ..keys import Keys
from . import process
from ..settings import Settings
from ..store.alerts import Applied, AlertStore
from ..store.assignments import AssignmentRefused, expire_sighting
from ..store.connection import RETRYABLE, connect
from ..store.state import read_snapshot
from ..store.zones import load_zones

log = logging.getLogger("dispatch.services.watch")


@dataclass(frozen=True)
class WatchOptions:
    """How often to look and what counts as an alert; from Settings when it has them, else the environment."""

    interval_ms: int = 1_000
    thresholds: Thresholds = field(default_factory=Thresholds)
    tz: str = DISPLAY_TIMEZONE.key
    horizons_ms: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_HORIZONS_MS))

    @classmethod
    def from_settings(cls, settings: Settings) -> "WatchOptions":
        return cls(
            interval_ms=settings.watch_interval_ms,
            thresholds=Thresholds(
                link_lost_ms=round(settings.alert_link_lost_s * 1000),
                low_battery_pct=settings.alert_low_battery_pct,
                patrol_stale_ms=round(settings.alert_patrol_stale_s * 1000),
                sighting_unassigned_ms=round(settings.alert_sighting_unassigned_s * 1000),
                urgent_sighting_unassigned_ms=round(settings.alert_urgent_sighting_unassigned_s * 1000),
                assignment_unacknowledged_ms=round(settings.alert_unacknowledged_s * 1000),
                urgent_sighting_critical_ms=round(settings.alert_urgent_sighting_critical_s * 1000),
            ),
            tz=settings.timezone,
            horizons_ms=settings.sighting_horizons_ms,
        )


class AlertWatcher:
    def __init__(self, settings: Settings, options: WatchOptions = WatchOptions(), *,
                 clock: Callable[[], int] = now_ms, client: redis.Redis | None = None):
        self.settings = settings
        self.options = options
        self.keys = Keys(settings.site)
        self.clock = clock
        self.client = client or connect(settings.redis_url)
        self.store = AlertStore(self.client, self.keys, live_maxlen=settings.live_maxlen,
                                retention_ms=settings.retention_ms)
        self.ticks = 0
        self.expired = 0
        self._backoff = Backoff()

    def tick(self) -> Applied:
        """Look once: evaluate the picture at the clock's now and record what changed."""
        now_ms = self.clock()
        snapshot = read_snapshot(self.client, self.keys)
        if "assignments" not in snapshot:
            snapshot = {**snapshot, "assignments": read_open_assignments(self.client, self.keys)}
        gone = self.expire(snapshot, now_ms)
        if gone:
            snapshot = {**snapshot, "sightings": [s for s in snapshot["sightings"] if s["sighting_id"] not in gone]}
        zones = load_zones(self.client, self.keys)
        current = evaluate(snapshot, zones, now_ms, self.options.thresholds, tz=self.options.tz)
        open_alerts = self.store.read_open()
        raised, resolved = diff(open_alerts, current)
        applied = self.store.apply(raised, resolved, now_ms, zone_audit_entries(raised, resolved, zones, now_ms))
        for alert_id in self.store.escalate(escalations(open_alerts, current), now_ms):
            log.info("escalated %s to critical", alert_id)
        self.ticks += 1
        _log_changes(applied, raised)
        return applied

    def expire(self, snapshot: dict, now_ms: int) -> set[str]:
        """End the unassigned sightings past their horizon; the ids actually expired."""
        assigned = {a["sighting_id"] for a in snapshot.get("assignments", [])}
        gone = set()
        for sighting_id in due_to_expire(snapshot.get("sightings", []), assigned, now_ms, self.options.horizons_ms):
            try:
                expire_sighting(self.client, self.keys, sighting_id=sighting_id, now_ms=now_ms,
                                live_maxlen=self.settings.live_maxlen)
            except AssignmentRefused as refused:  # assigned or ended since the snapshot: not ours to end
                log.info("not expired: %s", refused.reason)
                continue
            gone.add(sighting_id)
            log.info("expired sighting %s (nobody sent)", sighting_id)
        self.expired += len(gone)
        return gone

    def run(self, stop: threading.Event) -> None:
        log.info("alert watcher on site %s, every %d ms", self.settings.site, self.options.interval_ms)
        interval_s = self.options.interval_ms / 1000
        while not stop.is_set():
            started = time.monotonic()
            try:
                self.tick()
                self._backoff.succeeded()
            except RETRYABLE as error:
                process.wait_after_error(stop, self._backoff,
                                         f"Redis unavailable ({error.__class__.__name__}: {error})", log)
                continue
            stop.wait(max(0.0, interval_s - (time.monotonic() - started)))



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
    parser = argparse.ArgumentParser(prog="python -m dispatch watch", description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    settings = process.start("watch")
    if settings is None:
        return 2
    options = WatchOptions.from_settings(settings)
    stop = process.stop_event()
    watcher = AlertWatcher(settings, options)
    watcher.run(stop)
    log.info("alert watcher stopped after %d ticks", watcher.ticks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
