"""The retention job: removes what outlived its legal period, and says so on the audit trail.

`python -m dispatch retention` (a Procfile process; one per site is enough, a
second one does no harm: every step is idempotent). It runs once at start, then
every `DISPATCH_RETENTION_INTERVAL_S` seconds (600 by default): recordings are
kept at most `DISPATCH_RETENTION_DAYS`, so a run every ten minutes keeps
nothing more than ten minutes past its limit, at the cost of a few cheap XTRIM
calls. Each run records one `retention_trimmed` audit entry with what it
removed per key.

`--once` runs one pass and exits (cron, or an operator after changing the
period); `--exact` trims streams exactly instead of by whole macro-nodes;
`--table` prints the retention table as Markdown (for the README) without
touching Redis. Redis going away is waited out with capped exponential backoff,
as ingest does; SIGTERM or SIGINT stops it between runs.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from typing import Callable

import redis

from ..domain.backoff import Backoff
from ..clock import now_ms
from . import process
from ..domain.retention import markdown_table, retention_table
from ..keys import Keys
from ..settings import Settings
from ..store.connection import RETRYABLE, connect
from ..store.retention import RetentionReport, apply_retention

log = logging.getLogger("dispatch.services.retention")


class RetentionJob:
    def __init__(self, settings: Settings, *, interval_s: float = Settings.retention_interval_s, exact: bool = False,
                 clock: Callable[[], int] = now_ms, client: redis.Redis | None = None):
        self.settings = settings
        self.keys = Keys(settings.site)
        self.rules = retention_table(self.keys, settings)
        self.interval_s = interval_s
        self.exact = exact
        self.clock = clock
        self.client = client or connect(settings.redis_url)
        self.runs = 0
        self._backoff = Backoff()

    def run_once(self) -> RetentionReport:
        report = apply_retention(self.client, self.keys, self.rules, self.clock(), exact=self.exact,
                                 live_maxlen=self.settings.live_maxlen)
        self.runs += 1
        removed = {name: count for name, count in report.counts.items() if count}
        log.info("retention run %d: removed %s%s", self.runs, removed or "nothing",
                 f"; FAILED on {', '.join(report.failed)}" if report.failed else "")
        return report

    def run(self, stop: threading.Event) -> None:
        log.info("retention on site %s every %g s: recordings %s ms, audit %s ms, %s trimming",
                 self.settings.site, self.interval_s, self.settings.retention_ms, self.settings.audit_retention_ms,
                 "exact" if self.exact else "approximate")
        while not stop.is_set():
            try:
                self.run_once()
                self._backoff.succeeded()
            except RETRYABLE as error:
                process.wait_after_error(stop, self._backoff,
                                         f"Redis unavailable ({error.__class__.__name__}: {error})", log)
                continue
            stop.wait(self.interval_s)



def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dispatch retention", description=__doc__.splitlines()[0])
    parser.add_argument("--once", action="store_true", help="one run, then exit")
    parser.add_argument("--exact", action="store_true", help="trim streams exactly (slower on a long backlog)")
    parser.add_argument("--table", action="store_true", help="print the retention table (Markdown) and exit")
    args = parser.parse_args(argv)
    if args.table:
        settings = Settings.from_env()
        print(markdown_table(retention_table(Keys(settings.site), settings), site_tag="{site}"), end="")
        return 0
    settings = process.start("retention")
    if settings is None:
        return 2
    job = RetentionJob(settings, interval_s=settings.retention_interval_s, exact=args.exact)
    if args.once:
        try:
            job.run_once()
        except RETRYABLE as error:
            log.error("Redis unavailable (%s: %s)", error.__class__.__name__, error)
            return 1
        return 0
    stop = process.stop_event()
    job.run(stop)
    log.info("retention stopped after %d runs", job.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
