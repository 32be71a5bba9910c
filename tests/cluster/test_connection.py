"""connect() on a cluster node: the cluster client, its raw replies, its asyncio twin (issue 14)."""

from __future__ import annotations

import asyncio

import redis.asyncio.cluster
import redis.cluster

from dispatch.domain.acl import RedisUser
from dispatch.keys import Keys
from dispatch.store.connection import WaitingCluster, connect, connect_async, is_cluster
from tests.support.processes import role_url
from tests.support.raw_replies import assert_raw_replies

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
        assert_raw_replies(redis_client, Keys(site).live)


def test_the_async_client_is_a_cluster_client_too_and_waits_for_a_free_connection(redis_server):
    """One connection per node, 60 reads at once: each waits its turn (redis-py alone refuses at once)."""
    sites = sites_on_different_masters(redis_server, 3)

    async def run():
        client = connect_async(redis_server.url, max_connections=1)
        try:
            assert isinstance(client, WaitingCluster) and isinstance(client.client, redis.asyncio.cluster.RedisCluster)
            for site in sites:
                await client.set(Keys(site).session("x"), site)
            async with client.pipeline(transaction=False) as pipe:
                for site in sites:
                    pipe.get(Keys(site).session("x"))
                piped = await pipe.execute()
            many = await asyncio.gather(*(client.get(Keys(sites[i % 3]).session("x")) for i in range(60)))
            return piped, many
        finally:
            await client.aclose()

    piped, many = asyncio.run(run())
    assert piped == [site.encode() for site in sites]
    assert many == [sites[i % 3].encode() for i in range(60)]


def test_the_users_are_saved_in_every_nodes_acl_file(redis_server, settings):
    """A node restarted (or a replica promoted) must still let the processes in: ACL SAVE on each node."""
    role_url(settings, RedisUser.INGEST)  # applies the site's users
    for node in redis_server.nodes:
        saved = (node.data_dir / "users.acl").read_text()
        assert f"user {settings.site}.ingest on" in saved and f"user {settings.site}.web on" in saved


def test_a_cluster_started_after_its_client_is_found_once_up(tmp_path):
    from dispatch.store import connection
    from dispatch.store.embedded_cluster import EmbeddedCluster, free_cluster_ports

    ports = free_cluster_ports(3)
    client = connect(f"redis://127.0.0.1:{ports[0]}/0")
    assert isinstance(client, connection.Undecided)
    with EmbeddedCluster(tmp_path, masters=3, ports=ports):
        client._next_ask = 0.0
        sites = [f"s{i}" for i in range(12)]  # over every master
        for site in sites:
            client.set(Keys(site).session("x"), site)
        assert isinstance(client.current(), redis.cluster.RedisCluster)
        assert [client.get(Keys(site).session("x")) for site in sites] == [site.encode() for site in sites]
    client.close()
