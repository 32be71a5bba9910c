"""Incident numbers on the wall screen in real Chromium: the queue and the selected sighting show S-0001."""

from __future__ import annotations

import pytest

from tests.browser.screen import Screen, sighting
from tests.support.processes import wait_until

pytestmark = pytest.mark.browser

RENNES = (48.111, -1.680)


@pytest.fixture
def page(browser, screen) -> Screen:
    return Screen(browser, screen.url)


def numbers_shown(page: Screen) -> dict:
    return page.js("var out = {}; document.querySelectorAll('.q-row').forEach(function (row) {"
                   " out[row.dataset.sightingId] = row.querySelector('.q-num').textContent; }); return out;")


def test_the_queue_and_the_detail_show_each_sightings_number(page, screen, redis_client):
    page.open()
    first = sighting(*RENNES, priority=2, age_s=20)
    redis_client.xadd(screen.keys.in_sightings, first)
    wait_until(lambda: len(page.queue()) == 1, timeout=10, what="the first sighting in the queue")
    second = sighting(RENNES[0] + 0.01, RENNES[1], priority=1, age_s=5)
    redis_client.xadd(screen.keys.in_sightings, second)
    wait_until(lambda: len(page.queue()) == 2, timeout=10, what="two sightings in the queue")

    assert numbers_shown(page) == {first["sighting_id"]: "S-0001", second["sighting_id"]: "S-0002"}
    page.js("document.querySelector('.q-row[data-sighting-id=\"' + arguments[0] + '\"]').click()",
            first["sighting_id"])
    title = wait_until(lambda: page.js("var t = document.querySelector('.d-title'); return t && t.textContent"),
                       timeout=5, what="the selected sighting's detail")
    assert title.startswith("S-0001 · P2"), title
