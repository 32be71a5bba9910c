"""The overlapped drain on a real 3-master cluster (issue 15): the pipe talks to the node holding the site's
slot, for sites on every master."""

from __future__ import annotations

import dataclasses

from dispatch.keys import Keys
from dispatch.store import streams
from tests.services.test_ingest import RunningWorker
from tests.services.test_ingest_overlap import BATCH, assert_in_order_exactly_once, processed, write_equal_ts_load
from tests.support.processes import wait_until

from .conftest import sites_on_different_masters


def test_a_backlog_is_drained_with_overlapped_steps_on_every_master(redis_server, settings, redis_client):
    for site in sites_on_different_masters(redis_server, 3):
        site_settings = dataclasses.replace(settings, site=site, ingest_batch=BATCH)
        keys = Keys(site)
        total = 12 * BATCH
        bad, expected = write_equal_ts_load(redis_client, keys, total)
        with RunningWorker(site_settings) as worker:
            wait_until(lambda: processed(redis_client, keys) >= total, timeout=30, what=f"the backlog of {site}")
        assert worker.processed == total
        assert streams.pending_count(redis_client, keys) == 0
        assert_in_order_exactly_once(redis_client, keys, total, bad, expected)
