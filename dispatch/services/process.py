"""What every long-running process of the product does before its real work.

Logging in one format, settings loaded with a readable refusal (exit code 2)
instead of a traceback, and a stop event set by SIGTERM or SIGINT.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading

import redis

from ..domain.backoff import Backoff
from ..settings import Settings, SettingsError

LOG_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"


def start(name: str) -> Settings | None:
    """Configure logging and load settings; None (after saying why on stderr) if the process cannot run."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format=LOG_FORMAT)
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"{name}: {error}", file=sys.stderr)
        return None
    if not settings.redis_url:
        print(f"{name}: REDIS_URL is not set. Run the whole demo with `make run`, which starts an "
              "embedded Redis, or point REDIS_URL at your Redis (e.g. redis://127.0.0.1:6380/0).",
              file=sys.stderr)
        return None
    try:
        redis.Redis.from_url(settings.redis_url).close()  # checks the URL's shape (connect() would ask the server)
    except ValueError as error:
        print(f"{name}: REDIS_URL: {error}", file=sys.stderr)
        return None
    return settings


def stop_event() -> threading.Event:
    """An event set by the first SIGTERM or SIGINT.

    Repeats are ignored: Python puts the default (deadly) handler back while the
    interpreter shuts down, so a second SIGTERM arriving then would turn a clean
    exit into death by signal.
    """
    stop = threading.Event()

    def request_stop(signum, _frame) -> None:
        signal.signal(signum, signal.SIG_IGN)
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, request_stop)
    return stop


def wait_after_error(stop: threading.Event, backoff: Backoff, why: str, log: logging.Logger) -> None:
    """A retry loop's pause after a failed step: says why and for how long, then waits (a stop ends it)."""
    wait_s = backoff.failed()
    log.warning("%s; retrying in %.1f s", why, wait_s)
    stop.wait(wait_s)

