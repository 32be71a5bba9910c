"""A reconnect storm against the real gateway process and the real Redis.

After a gateway restart or a network blip every wall screen and tablet reconnects at the same
instant. Each handshake looks its session up in Redis; redis-py's asyncio pool used to refuse
the 101st concurrent lookup at once (HTTP 503 "Cannot check the session now
(MaxConnectionsError)"). Here 1,000 sockets with valid sessions (half of them patrols, whose
handshake also reads their assignment) open at once, from this one test process; all must open,
none refused. bench/storm.py measures the same storm with its timings (the 3 s bound).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections import Counter

from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from dispatch.domain.auth import Role
from dispatch.store import accounts
from dispatch.web.auth import SESSION_COOKIE
from tests.services.test_gateway_auth import ORIGIN, gateway  # noqa: F401 (the real gateway process)

CLIENTS = 1_000


def sessions(redis_client, keys, count: int) -> list[str]:
    return [
        accounts.create_session(redis_client, keys, user_id=f"BAC-{i}", role=Role.PATROL, patrol_id=f"BAC-{i}")[0]
        if i % 2
        else accounts.create_session(redis_client, keys, user_id=f"SUP-{i}", role=Role.SUPERVISOR)[0]
        for i in range(count)
    ]


async def storm(url: str, session_ids: list[str]) -> tuple[Counter, float]:
    """Open every socket at once and hold them all until every handshake is through."""
    through = asyncio.Semaphore(0)
    everyone = asyncio.Event()

    async def one(session_id: str) -> str:
        try:
            async with connect(
                url, open_timeout=30, additional_headers={"Origin": ORIGIN, "Cookie": f"{SESSION_COOKIE}={session_id}"}
            ):
                through.release()
                await everyone.wait()
                return "opened"
        except InvalidStatus as error:
            through.release()
            return f"refused {error.response.status_code}: {error.response.body!r}"
        except Exception as error:  # noqa: BLE001 - every failure is counted and shown
            through.release()
            return f"failed {type(error).__name__}: {error}"

    async def release_when_all_through():
        for _ in session_ids:
            await through.acquire()
        everyone.set()

    started = time.monotonic()
    outcomes, _ = await asyncio.gather(asyncio.gather(*(one(s) for s in session_ids)), release_when_all_through())
    return Counter(outcomes), time.monotonic() - started


def test_a_thousand_simultaneous_handshakes_with_valid_sessions_all_open(gateway, redis_client, keys):  # noqa: F811
    session_ids = sessions(redis_client, keys, CLIENTS)
    outcomes, took = asyncio.run(storm(gateway.url, session_ids))
    print(f"{CLIENTS} simultaneous handshakes: {dict(outcomes)} in {took:.2f} s")
    assert outcomes == Counter({"opened": CLIENTS}), (dict(outcomes), gateway.output()[-3000:])
    assert "MaxConnectionsError" not in gateway.output()
    # The bound is 3 s (bench/storm.py measures it with the clients in other processes); here the
    # 1,000 clients share this machine's 2 cores with the gateway inside one test process, so the bound is loose.
    assert took < 15, f"{took:.1f} s to open {CLIENTS} sockets"


def test_with_a_tiny_lookup_pool_handshakes_wait_for_a_connection_instead_of_being_refused(settings, redis_client,
                                                                                          keys):
    """The pool is bounded (Redis and the gateway stay within DISPATCH_GATEWAY_REDIS_CONNECTIONS sockets), but
    a handshake that finds it busy waits its turn: redis-py's plain asyncio pool refused it at once."""
    from tests.services.test_gateway import RunningGateway

    small = RunningGateway(dataclasses.replace(settings, gateway_redis_connections=1)).start()
    try:
        outcomes, took = asyncio.run(storm(small.url, sessions(redis_client, keys, 300)))
    finally:
        small.stop()
    assert outcomes == Counter({"opened": 300}), dict(outcomes)
