"""Ending a process that a test kept running through a Redis outage on a private server."""

from __future__ import annotations

import signal


def stop_after_outage(process, client, server) -> int:
    """SIGTERM to `process` and its exit code (the caller asserts it: a clean stop is part of surviving),
    then `client` closed and the private `server` stopped."""
    process.signal(signal.SIGTERM)
    code = process.stop()
    client.close()
    server.stop()
    return code
