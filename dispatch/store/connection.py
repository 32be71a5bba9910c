"""Redis connections that survive a restart of the server.

Every process gets its clients here, so reconnection policy lives in one place:
exponential backoff with a cap, health checks on idle connections, and bytes
in and out (decoding is validation's job, so a non-UTF-8 entry is rejected
with a reason instead of crashing the reader).
"""

from __future__ import annotations

import redis
from redis.backoff import ExponentialBackoff
from redis.exceptions import BusyLoadingError, ConnectionError, TimeoutError
from redis.retry import Retry

RETRYABLE = (ConnectionError, TimeoutError, BusyLoadingError)


def connect(url: str, *, blocking_ms: int = 0) -> redis.Redis:
    """A client for `url` (redis://, rediss:// for TLS, password in the URL).

    `blocking_ms` is the longest BLOCK this client will issue: its socket
    timeout is set above it, because a BLOCK longer than the socket timeout
    makes redis-py raise TimeoutError (redis-py #2807).
    """
    return redis.Redis.from_url(
        url,
        decode_responses=False,
        socket_connect_timeout=2.0,
        socket_timeout=5.0 + blocking_ms / 1000,
        health_check_interval=15,
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=3),
        retry_on_error=list(RETRYABLE),
    )
