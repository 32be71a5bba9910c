"""Every way a sighting leaves the wall screen's queue is named under it ("recently ended"), in real Chromium:
each close reason by keys, and an expiry by the real watcher ("expired, nobody sent")."""

from __future__ import annotations

import orjson
import pytest

from dispatch.domain.sightings import REASON_LABELS, CloseReason
from dispatch.store.assignments import sighting_endings
from tests.browser.screen import Screen, sighting
from tests.support.processes import python_module, wait_until
from dispatch.ui.pages.screen import ids as screen_ids

pytestmark = pytest.mark.browser

RENNES = (48.111, -1.680)
KEY_OF_REASON = {reason: str(i) for i, reason in enumerate(REASON_LABELS, start=1)}


@pytest.fixture
def page(browser, screen) -> Screen:
    return Screen(browser, screen.url)


def ended_line(page: Screen) -> list[dict]:
    return page.js("return dispatchScreen.endings.list()")


def numbered(redis_client, keys, sighting_id: str) -> str:
    """The incident number ingest gave the sighting (S-0001), once it is in the picture."""
    def number():
        raw = redis_client.hget(keys.sightings, sighting_id)
        return orjson.loads(raw).get("number") if raw else None
    return wait_until(number, timeout=5, what=f"{sighting_id} to be ingested with a number")


@pytest.mark.parametrize("reason", [CloseReason.DUPLICATE, CloseReason.DRONE_ONLY, CloseReason.REFERRED])
def test_closing_with_each_reason_by_keys_is_recorded_and_named_under_the_queue(page, screen, redis_client, reason):
    item = sighting(*RENNES, category="lookout")
    redis_client.xadd(screen.keys.in_sightings, item)
    number = numbered(redis_client, screen.keys, item["sighting_id"])
    page.open()
    wait_until(lambda: len(page.queue()) == 1, timeout=10, what="the sighting in the queue")
    assert page.js("return document.getElementById(arguments[0]).hidden", screen_ids.ENDED) is True, "nothing ended yet"
    page.js("document.querySelector(`#sup-queue [data-sighting-id='${arguments[0]}']`).click()", item["sighting_id"])
    wait_until(lambda: page.js("return dispatchScreen.panels.selected") == item["sighting_id"], timeout=3)
    page.press("x")
    page.press(KEY_OF_REASON[reason])
    assert page.js("return document.querySelector(`#end-dialog [data-reason=${arguments[0]}]`).classList"
                   ".contains('is-chosen')", reason.value) is True
    page.press("\ue007")  # Enter
    wait_until(lambda: page.queue() == [], timeout=5, what="the sighting to leave the queue")
    (ending,) = sighting_endings(redis_client, screen.keys, item["sighting_id"])
    assert (ending["disposition"], ending["reason"]) == ("closed", reason.value)
    wait_until(lambda: ended_line(page) == [{"label": number, "words": f"closed: {REASON_LABELS[reason]}"}],
               timeout=3, what="the ending named under the queue")
    assert f"closed: {REASON_LABELS[reason]}" in page.text(screen_ids.ENDED)


def test_an_unassigned_sighting_past_its_horizon_expires_by_the_watcher_and_says_nobody_was_sent(
        page, screen, redis_client):
    vehicle = sighting(*RENNES, category="vehicle", age_s=2)
    gathering = sighting(RENNES[0] + 0.01, RENNES[1], category="gathering")
    for item in (vehicle, gathering):
        redis_client.xadd(screen.keys.in_sightings, item)
    number = numbered(redis_client, screen.keys, vehicle["sighting_id"])
    page.open()
    wait_until(lambda: len(page.queue()) == 2, timeout=10, what="two sightings in the queue")
    # A vehicle's horizon of 6 s, the shortest allowed (the default is 5 min); a gathering keeps its 30 min.
    watcher = python_module("watch", "dispatch.services.watch", screen.settings, DISPATCH_HORIZON_VEHICLE_MIN="0.1",
                            DISPATCH_WATCH_INTERVAL_MS="250").start()
    screen.services.append(watcher)  # its log goes with a failure report
    try:
        wait_until(lambda: [row["id"] for row in page.queue()] == [gathering["sighting_id"]], timeout=15,
                   what="the vehicle sighting to expire and leave the queue")
        (ending,) = sighting_endings(redis_client, screen.keys, vehicle["sighting_id"])
        assert (ending["disposition"], ending["actor"]) == ("expired", "system")
        wait_until(lambda: ended_line(page) == [{"label": number, "words": "expired, nobody sent"}], timeout=3,
                   what="the expiry named under the queue")
        assert sighting_endings(redis_client, screen.keys, gathering["sighting_id"]) == []
    finally:
        watcher.stop()
        screen.services.remove(watcher)
