"""One real 3-master Redis Cluster for the whole session (issue 14), and sites placed on its shards.

`redis_server` is the cluster here, so the root fixtures (`settings`, `redis_client`, `role_client`, the
ACL LOG check of every node) work unchanged on it: the product is given one node's URL, as an operator
would give it. No replicas: failover is tested elsewhere.
"""

from __future__ import annotations

import dataclasses
import itertools
import os

import pytest
from redis.crc import key_slot

from dispatch.settings import Settings
from dispatch.store.embedded_cluster import EmbeddedCluster

_names = itertools.count(1)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    with EmbeddedCluster(tmp_path_factory.mktemp("cluster"), masters=3, replicas=0) as cluster:
        yield cluster


def site_slot(site: str) -> int:
    """The slot of every key of `site`: its keys are `{site}:...`, so only the hash tag counts."""
    return key_slot(site.encode())


def sites_on_different_masters(cluster: EmbeddedCluster, count: int = 2) -> list[str]:
    """`count` fresh site names whose slots are served by `count` different masters."""
    chosen, masters = [], set()
    while len(chosen) < count:
        name = f"c{os.getpid() % 10000}-{next(_names)}"
        master = cluster.master_for_slot(site_slot(name)).port
        if master not in masters:
            chosen.append(name)
            masters.add(master)
    return chosen


@pytest.fixture
def two_sites(redis_server, settings) -> list[Settings]:
    """Settings of two sites on different masters (the test's data folder, short timings)."""
    return [dataclasses.replace(settings, site=name) for name in sites_on_different_masters(redis_server)]
