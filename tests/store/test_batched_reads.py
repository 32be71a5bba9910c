"""dispatch/store/batched_reads.py against the real Redis: many concurrent reads, few round trips."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio
from redis.exceptions import ResponseError

from dispatch.store.batched_reads import BatchedReads


def test_concurrent_reads_each_get_their_own_answer_in_a_few_pipelines(redis_server, redis_client, site):
    for i in range(1_200):
        redis_client.hset(f"{site}:h:{i}", mapping={"n": str(i), "site": site})
    redis_client.set(f"{site}:not-a-hash", "x")

    async def run():
        client = redis.asyncio.Redis.from_url(redis_server.url)
        reads = BatchedReads(client, max_batch=500)
        sent = []
        original = client.pipeline

        def counting_pipeline(*args, **kwargs):
            sent.append(1)
            return original(*args, **kwargs)

        client.pipeline = counting_pipeline
        try:
            hashes = [reads.hgetall(f"{site}:h:{i}") for i in range(1_200)]
            fields = [reads.hget(f"{site}:h:{i}", "n") for i in range(0, 1_200, 7)]
            wrong = reads.hgetall(f"{site}:not-a-hash")
            missing = reads.hgetall(f"{site}:nothing")
            results = await asyncio.gather(*hashes, *fields, wrong, missing, return_exceptions=True)
        finally:
            await client.aclose()
        return results, len(sent)

    results, pipelines = asyncio.run(run())
    hashes, fields, (wrong, missing) = results[:1_200], results[1_200:-2], results[-2:]
    assert hashes == [{b"n": str(i).encode(), b"site": site.encode()} for i in range(1_200)]
    assert fields == [str(i).encode() for i in range(0, 1_200, 7)]
    assert isinstance(wrong, ResponseError) and "WRONGTYPE" in str(wrong), "an error goes to its own caller only"
    assert missing == {}
    assert pipelines <= 4, f"{pipelines} round trips for 1,374 reads"


def test_a_failed_round_trip_fails_every_read_waiting_on_it_with_its_error(redis_server, redis_client, site):
    redis_client.hset(f"{site}:h", "n", "1")

    async def run():
        broken = redis.asyncio.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)  # nothing listens
        failed = await asyncio.gather(
            *(BatchedReads(broken).hget(f"{site}:h", "n") for _ in range(3)), return_exceptions=True
        )
        working = redis.asyncio.Redis.from_url(redis_server.url)
        try:
            reads = BatchedReads(working)
            return failed, await reads.hget(f"{site}:h", "n")
        finally:
            await working.aclose()
            await broken.aclose()

    failed, value = asyncio.run(run())
    assert all(isinstance(error, (OSError, redis.exceptions.ConnectionError)) for error in failed), failed
    assert value == b"1"


@pytest.mark.parametrize("max_batch", [1, 3])
def test_small_batches_still_serve_everyone(redis_server, redis_client, site, max_batch):
    redis_client.hset(f"{site}:h", "n", "1")

    async def run():
        client = redis.asyncio.Redis.from_url(redis_server.url)
        try:
            reads = BatchedReads(client, max_batch=max_batch, flushers=2)
            return await asyncio.gather(*(reads.hget(f"{site}:h", "n") for _ in range(20)))
        finally:
            await client.aclose()

    assert asyncio.run(run()) == [b"1"] * 20
