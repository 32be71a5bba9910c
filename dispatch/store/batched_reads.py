"""Small reads of many concurrent callers, sent to Redis together (asyncio).

A reconnect storm is a thousand handshakes each reading a session (and, for a
patrol, its assignment) in the same few milliseconds. Sent one by one, that is
thousands of round trips, a syscall and a pooled connection each; here every
read asked for while the previous batch is on the wire goes in the next
pipeline, so a storm costs a few dozen round trips. The object offers the
asyncio client's read methods that the handshake uses (`hgetall`, `hget`), so
code written for a client (store/accounts.py) takes it as is.
"""

from __future__ import annotations

import asyncio

import redis.asyncio

MAX_BATCH = 500  # reads per pipeline: a bounded reply, and other callers are not held up for long
FLUSHERS = 4  # pipelines in flight at once


class BatchedReads:
    def __init__(self, client: redis.asyncio.Redis, *, max_batch: int = MAX_BATCH, flushers: int = FLUSHERS):
        self._client = client
        self._max_batch = max_batch
        self._flushers = flushers
        self._queue: list[tuple[tuple, asyncio.Future]] = []
        self._running: set[asyncio.Task] = set()

    async def hgetall(self, key: str) -> dict:
        return await self._submit("HGETALL", key)

    async def hget(self, key: str, field: str) -> bytes | None:
        return await self._submit("HGET", key, field)

    def _submit(self, *command) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.append((command, future))
        if len(self._running) < self._flushers:
            # Runs at the next turn of the loop: every read asked for until then goes in its pipeline.
            task = loop.create_task(self._flush())
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        return future

    async def _flush(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
            batch = [(command, future) for command, future in batch if not future.done()]  # caller gone
            if not batch:
                continue
            try:
                async with self._client.pipeline(transaction=False) as pipe:
                    for command, _ in batch:
                        pipe.execute_command(*command)
                    replies = await pipe.execute(raise_on_error=False)
            except (asyncio.CancelledError, Exception) as error:  # the round trip failed: every caller is told
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                if isinstance(error, asyncio.CancelledError):
                    raise
                continue
            for (_, future), reply in zip(batch, replies):
                if future.done():
                    continue
                if isinstance(reply, Exception):
                    future.set_exception(reply)
                else:
                    future.set_result(reply)
