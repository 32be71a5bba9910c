"""connect() on a cluster node: the cluster client, its raw replies, its asyncio twin (issue 14)."""

from __future__ import annotations

import asyncio

import redis.asyncio.cluster
import redis.cluster

from dispatch.domain.acl import RedisUser
from dispatch.keys import Keys
from dispatch.store.connection import connect, connect_async, is_cluster, raw_client
from tests.support.processes import role_url

from .conftest import sites_on_different_masters


def test_any_node_url_gives_a_cluster_client_that_finds_every_master(redis_server):
    for node in redis_server.nodes:
        url = redis_server.url_of(node)
        assert is_cluster(url)
        client = connect(url)
        try:
            assert isinstance(client, redis.cluster.RedisCluster)
            assert {n.port for n in client.get_primaries()} == {n.port for n in redis_server.nodes}
        finally:
            client.close()


def test_every_role_signs_in_on_every_node_and_is_detected(redis_server, settings):
    """ACL users are per node: applied to all, each role may ask CLUSTER SLOTS and COMMAND (the ACL LOG
    of every node is checked after the test)."""
    for role in RedisUser:
        if role is RedisUser.ADMIN:
            continue
        client = connect(role_url(settings, role))
        try:
            assert isinstance(client, redis.cluster.RedisCluster)
            for node in client.get_nodes():
                assert client.get_redis_connection(node).ping()
        finally:
            client.close()


def test_raw_replies_come_from_the_sites_master(redis_server, redis_client):
    for site in sites_on_different_masters(redis_server, 3):
        keys = Keys(site)
        entry_id = redis_client.xadd(keys.live, {"a": "1"})
        raw = raw_client(redis_client)
        assert raw.execute_command("XRANGE", keys.live, "-", "+") == [[entry_id, [b"a", b"1"]]]
        pipe = raw.pipeline(transaction=False)
        pipe.xlen(keys.live)
        pipe.execute_command("XREVRANGE", keys.live, "+", "-", "COUNT", 1)
        assert pipe.execute() == [1, [[entry_id, [b"a", b"1"]]]]


def test_the_async_client_is_a_cluster_client_too(redis_server):
    sites = sites_on_different_masters(redis_server, 3)

    async def run():
        client = connect_async(redis_server.url, max_connections=4)
        try:
            assert isinstance(client, redis.asyncio.cluster.RedisCluster)
            for site in sites:
                await client.set(Keys(site).session("x"), site)
            async with client.pipeline(transaction=False) as pipe:
                for site in sites:
                    pipe.get(Keys(site).session("x"))
                return await pipe.execute()
        finally:
            await client.aclose()

    assert asyncio.run(run()) == [site.encode() for site in sites]
