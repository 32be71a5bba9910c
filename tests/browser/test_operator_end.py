"""An operator ends its sighting through the sightings stream, in real Chromium against real Redis and the real
ingest worker: the wall screen's queue drops it and says how it ended; another operator's end is dead-lettered
and changes nothing; the replay lists the ending with its number and counts it in the figures."""

from __future__ import annotations

import orjson
import pytest

from dispatch.store.assignments import sighting_endings
from dispatch.store.state import read_stats
from tests.browser.screen import Screen, now_ms, sighting
from tests.browser.test_replay import S, ReplayPage, recorded  # noqa: F401 (the fixture is used by name)
from tests.browser.test_replay_endings import (
    assert_ends_in_the_replay, ending_number, outcome_bars, replayed_hour, report_lookout,
)
from tests.support.processes import wait_until

pytestmark = pytest.mark.browser

RENNES = (48.111, -1.680)


def operator_end(sighting_id: str, operator: str = "OP-3", ended: str = "left", **extra) -> dict:
    return {"sighting_id": sighting_id, "ts": now_ms(), "operator_id": operator, "ended": ended, **extra}


def test_an_operator_end_leaves_the_queue_and_the_screen_says_how_it_ended(browser, screen, redis_client):
    lookout = sighting(*RENNES, category="lookout")
    other = sighting(RENNES[0] + 0.02, RENNES[1], category="vehicle")
    for item in (lookout, other):
        redis_client.xadd(screen.keys.in_sightings, item)
    page = Screen(browser, screen.url).open()
    wait_until(lambda: len(page.queue()) == 2, timeout=10, what="two sightings in the queue")
    number = orjson.loads(redis_client.hget(screen.keys.sightings, lookout["sighting_id"]))["number"]
    page.js("document.querySelector(`#sup-queue [data-sighting-id='${arguments[0]}']`).click()",
            lookout["sighting_id"])
    wait_until(lambda: page.js("return dispatchScreen.panels.selected") == lookout["sighting_id"], timeout=3)

    # Another operator may not end OP-3's sighting: dead-lettered, the queue keeps it.
    redis_client.xadd(screen.keys.in_sightings, operator_end(other["sighting_id"], operator="OP-9"))
    wait_until(lambda: read_stats(redis_client, screen.keys).get("rejected:sighting") == 1, timeout=10,
               what="the impostor's end dead-lettered")
    (_, letter), = redis_client.xrevrange(screen.keys.deadletter, count=1)
    assert b"OP-9 may not update or end sighting" in letter[b"reason"]

    redis_client.xadd(screen.keys.in_sightings, operator_end(lookout["sighting_id"], note="plus personne"))
    wait_until(lambda: all(row["id"] != lookout["sighting_id"] for row in page.queue()), timeout=5,
               what="the ended sighting to leave the queue")
    answer = page.wait_message()
    assert answer["ok"] is True and answer["text"].endswith(f"{number} ended by the operator: left, situation over")
    assert page.js("return dispatchScreen.panels.selected") in (None, "")
    assert [row["id"] for row in page.queue()] == [other["sighting_id"]], "the other one stays"
    assert page.marker(lookout["sighting_id"]) is None, "off the map too"

    (ending,) = sighting_endings(redis_client, screen.keys)
    assert (ending["disposition"], ending["actor"], ending["reason"], ending["text"]) == (
        "ended_by_operator", "OP-3", "left", "plus personne")
    assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]


@pytest.fixture
def ended_by_operator(recorded, keys, redis_client):  # noqa: F811
    """`recorded`, plus sight-0044 tagged by OP-3 at +35 s and ended by OP-3 through the stream at +50 s."""
    base = recorded
    before = read_stats(redis_client, keys).get("accepted:sighting", 0)
    report_lookout(redis_client, keys, "sight-0044", base + 35 * S)
    redis_client.xadd(keys.in_sightings, {"sighting_id": "sight-0044", "ts": base + 50 * S, "operator_id": "OP-3",
                                          "ended": "left"})
    wait_until(lambda: read_stats(redis_client, keys).get("accepted:sighting", 0) == before + 2, timeout=20,
               what="ingest")
    return base, ending_number(redis_client, keys, "sight-0044")


def test_the_replay_lists_the_operator_end_and_counts_it(browser, web, ended_by_operator):
    base, number = ended_by_operator
    page = replayed_hour(browser, web)
    assert_ends_in_the_replay(page, "sight-0044", number, at=base + 50 * S, event="ended_by_operator",
                              text=f"{number} ended by the operator OP-3: left, situation over")

    assert outcome_bars(page)["ended by the operator who reported it"] == "1"
    assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
