"""Ending sightings from the wall screen in real Chromium: close with a reason (click and keys), merge a flagged
probable duplicate; the record and the queue agree."""

from __future__ import annotations

import pytest

from dispatch.store.assignments import sighting_endings
from tests.browser.screen import Screen, sighting
from tests.support.processes import wait_until

pytestmark = pytest.mark.browser

RENNES = (48.111, -1.680)


@pytest.fixture
def page(browser, screen) -> Screen:
    return Screen(browser, screen.url)


def row_buttons(page: Screen, sighting_id: str) -> list[str]:
    return page.js("""return Array.from(document.querySelectorAll(
        `#sup-queue [data-sighting-id='${arguments[0]}'] .q-ending button`)).map(b => b.dataset.action)""",
                   sighting_id)


def gone_from_queue(page: Screen, sighting_id: str) -> None:
    wait_until(lambda: all(row["id"] != sighting_id for row in page.queue()), timeout=5,
               what=f"{sighting_id} to leave the queue")


def test_close_with_other_reason_by_click_then_false_alarm_by_keys(page, screen, redis_client):
    first = sighting(*RENNES, category="deal")
    second = sighting(RENNES[0] + 0.02, RENNES[1], category="vehicle")
    for item in (first, second):
        redis_client.xadd(screen.keys.in_sightings, item)
    page.open()
    wait_until(lambda: len(page.queue()) == 2, timeout=10, what="two sightings in the queue")
    assert row_buttons(page, first["sighting_id"]) == ["close"]

    page.js("document.querySelector(`#sup-queue [data-sighting-id='${arguments[0]}'] .q-close`).click()",
            first["sighting_id"])
    assert page.js("return document.getElementById('end-dialog').hidden") is False
    assert page.js("return document.querySelector('#end-dialog .end-confirm').disabled") is True, "reason first"
    page.js("document.querySelector('#end-dialog [data-reason=other]').click()")
    page.js("const t = document.querySelector('#end-dialog .end-text'); t.value = 'lookout left';")
    page.js("document.querySelector('#end-dialog .end-confirm').click()")
    answer = page.wait_message()
    assert answer["ok"] is True and "closed: lookout left" in answer["text"], answer
    gone_from_queue(page, first["sighting_id"])

    page.js("document.querySelector(`#sup-queue [data-sighting-id='${arguments[0]}']`).click()",
            second["sighting_id"])
    wait_until(lambda: page.js("return dispatchScreen.panels.selected") == second["sighting_id"], timeout=3)
    page.press("x")
    page.press("1")  # false alarm, not "send patrol 1": the confirm step has the keys
    assert page.js("return document.querySelector('#end-dialog [data-reason=false_alarm]').classList"
                   ".contains('is-chosen')") is True
    page.press("\ue007")  # Enter
    gone_from_queue(page, second["sighting_id"])
    endings = {e["sighting_id"]: e for e in sighting_endings(redis_client, screen.keys)}
    assert endings[first["sighting_id"]]["reason"] == "other" and endings[first["sighting_id"]]["text"] == "lookout left"
    assert endings[second["sighting_id"]]["reason"] == "false_alarm"


def test_a_probable_duplicate_is_flagged_and_merged_after_confirming(page, screen, redis_client):
    original = sighting(*RENNES, category="lookout", age_s=60)
    repeat = sighting(RENNES[0] + 0.0005, RENNES[1], category="lookout", age_s=10)  # ~55 m, 50 s later
    elsewhere = sighting(RENNES[0] + 0.01, RENNES[1], category="lookout", age_s=5)
    for item in (original, repeat, elsewhere):
        redis_client.xadd(screen.keys.in_sightings, item)
    page.open()
    wait_until(lambda: len(page.queue()) == 3, timeout=10, what="three sightings in the queue")
    assert row_buttons(page, repeat["sighting_id"]) == ["merge", "close"]
    assert row_buttons(page, original["sighting_id"]) == ["close"]
    assert row_buttons(page, elsewhere["sighting_id"]) == ["close"]

    page.js("document.querySelector(`#sup-queue [data-sighting-id='${arguments[0]}'] .q-merge`).click()",
            repeat["sighting_id"])
    assert "Both stay on the record" in page.text("end-dialog")
    page.press("\ue00c")  # Esc: back, nothing done
    assert page.js("return document.getElementById('end-dialog').hidden") is True
    assert len(page.queue()) == 3

    page.js("document.querySelector(`#sup-queue [data-sighting-id='${arguments[0]}'] .q-merge`).click()",
            repeat["sighting_id"])
    page.js("document.querySelector('#end-dialog .end-confirm').click()")
    assert page.wait_message()["ok"] is True
    gone_from_queue(page, repeat["sighting_id"])
    (ending,) = sighting_endings(redis_client, screen.keys, repeat["sighting_id"])
    assert ending["disposition"] == "merged" and ending["merged_into"] == original["sighting_id"]
