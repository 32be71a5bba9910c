"""The private Redis Cluster of the cluster tests (issue 14): formed, mapped, and one node killed."""

from __future__ import annotations

import redis
import pytest
from redis.crc import key_slot

from dispatch.store.connection import connect, is_cluster
from dispatch.store.embedded_cluster import HIGHEST_PORT, EmbeddedCluster, slot_ranges


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with EmbeddedCluster(tmp_path_factory.mktemp("cluster"), masters=3, replicas=1) as started:
        yield started


def test_three_masters_each_with_a_replica_cover_every_slot(cluster):
    ranges = cluster.slot_map()
    assert ranges[0][0] == 0 and ranges[-1][1] == 16383
    assert all(previous[1] + 1 == following[0] for previous, following in zip(ranges, ranges[1:]))
    assert len(cluster.master_nodes) == 3
    assert all(len(cluster.replicas_of(master)) == 1 for master in cluster.master_nodes)
    assert all(node.port <= HIGHEST_PORT for node in cluster.nodes)


def test_every_node_listens_on_loopback_only_and_says_ok(cluster):
    for node in cluster.nodes:
        with cluster.client(node) as client:
            assert client.cluster("info")["cluster_state"] == "ok"
            assert client.config_get("bind")["bind"] == "127.0.0.1"


def test_the_url_names_one_node_and_the_product_finds_the_rest(cluster):
    assert is_cluster(cluster.url)
    client = connect(cluster.url)
    try:
        assert isinstance(client, redis.cluster.RedisCluster)
        keys = [f"{{site{i}}}:drones" for i in range(30)]
        for key in keys:
            client.hset(key, "d1", b"x")
        owners = {cluster.node_for_key(key).port for key in keys}
        assert len(owners) == 3  # 30 sites spread over the three masters
        for key in keys:  # each key is on the master the slot map names
            with cluster.client(cluster.node_for_key(key)) as node:
                assert node.hget(key, "d1") == b"x"
        assert cluster.master_for_slot(key_slot(b"{site0}:drones")) is cluster.node_for_key("{site0}:drones")
    finally:
        client.close()


def test_a_plain_client_of_one_node_is_redirected(cluster):
    """What issue 14 found: a single-node client on a cluster fails on another shard's key."""
    master = cluster.master_nodes[0]
    other = next(f"{{s{i}}}:x" for i in range(100) if cluster.node_for_key(f"{{s{i}}}:x") is not master)
    with cluster.client(master) as client, pytest.raises(redis.exceptions.MovedError):
        client.get(other)


def test_each_master_has_its_own_replica(cluster):
    replicas = [replica.port for master in cluster.master_nodes for replica in cluster.replicas_of(master)]
    assert len(set(replicas)) == 3 and not set(replicas) & {master.port for master in cluster.master_nodes}


def test_one_master_serves_every_slot_and_is_still_a_cluster(tmp_path):
    """bench/fleet.py's 1-shard baseline: the product must still take it for a cluster."""
    with EmbeddedCluster(tmp_path, masters=1) as single:
        assert [(first, last) for first, last, _, _ in single.slot_map()] == [(0, 16383)] == slot_ranges(1)
        assert is_cluster(single.url)


def test_slot_ranges_cover_every_slot_once():
    for masters in (1, 2, 3, 5):
        ranges = slot_ranges(masters)
        assert ranges[0][0] == 0 and ranges[-1][1] == 16383
        assert all(a[1] + 1 == b[0] for a, b in zip(ranges, ranges[1:]))


def test_a_killed_replica_is_a_dead_process(tmp_path):
    with EmbeddedCluster(tmp_path, masters=3, replicas=0) as small:
        node = small.nodes[1]
        small.kill(node)
        assert not node.running
        assert small.url == small.url_of(small.nodes[0])
    assert not any(node.running for node in small.nodes)


def test_acl_users_go_to_every_node_replicas_included_and_into_each_acl_file(cluster):
    from dispatch.store import acl

    passwords = acl.generate_passwords()
    applied = acl.apply_users_at(cluster.url, "acl-site", passwords)
    assert "acl-site.ingest" in applied
    assert len(cluster.nodes) == 6
    for node in cluster.nodes:
        with cluster.client(node) as client:
            assert b"acl-site.ingest" in client.execute_command("ACL", "USERS")
        assert "user acl-site.web on" in (node.data_dir / "users.acl").read_text()
