"""Replay in real Chromium with a recorded ending: a sighting closed as a false alarm leaves the replayed map
at its ending, the event list shows the ending with its incident number and reason, and the figures count it."""

from __future__ import annotations

import pytest

from dispatch.store.assignments import close_sighting, sighting_endings
from dispatch.store.state import read_stats
from dispatch.ui.pages.replay import ids as P
from tests.browser.test_replay import S, ReplayPage, recorded  # noqa: F401 (the fixture is used by name)
from tests.support.processes import wait_until

pytestmark = pytest.mark.browser


def report_lookout(redis_client, keys, sighting_id: str, at: int) -> None:
    """OP-3's drone DR-7 reports a lookout at `at`, the sighting whose ending the replay is to show."""
    redis_client.xadd(keys.in_sightings, {
        "sighting_id": sighting_id, "ts": at, "drone_id": "DR-7", "operator_id": "OP-3",
        "category": "lookout", "lat": 48.1181, "lon": -1.6821, "priority": 2, "note": "guetteur"})


def outcome_bars(page: ReplayPage) -> dict[str, str]:
    """The outcomes chart's bars as {outcome: count text}, once the chart is drawn."""
    def bars():
        return page.js("""const plot = document.querySelector(`#${arguments[0]} .js-plotly-plot`);
                          return plot && plot.data && plot.data[0] && plot.data[0].y
                            ? Object.fromEntries(plot.data[0].y.map((y, i) => [y, plot.data[0].text[i]])) : null;""",
                       P.FIGURES["outcomes"][0])

    wait_until(lambda: bars() is not None, timeout=15, what="the outcomes chart")
    return bars()


def ending_number(redis_client, keys, sighting_id: str) -> str:
    """The incident number in the one ending recorded for `sighting_id`."""
    (record,) = sighting_endings(redis_client, keys, sighting_id)
    return record["sighting"]["number"]


def replayed_hour(browser, web) -> ReplayPage:
    """The replay page, open, with the last hour loaded."""
    page = ReplayPage(browser, web).open()
    page.load("hour")
    return page


def assert_ends_in_the_replay(page: ReplayPage, sighting_id: str, number: str, *, at: int, event: str,
                              text: str) -> None:
    """The event list has the sighting's one `event`, at `at`, saying `text`; on the map the sighting is open
    5 s before, named by its incident `number`, and gone 5 s after (at its ending, not at the window's end)."""
    (row,) = [r for r in page.events() if r["kind"] == "sighting" and r["event"] == event]
    assert row["ts"] == at
    assert text in row["text"]

    page.slide_to(at - 5 * S)
    page.wait_drawn(at - 5 * S)
    assert page.marker(sighting_id) is not None, "open before its ending"
    assert number in page.marker(sighting_id)["label"], "the map names it by its incident number"
    page.slide_to(at + 5 * S)
    page.wait_drawn(at + 5 * S)
    assert page.marker(sighting_id) is None, "gone from its ending on, not at the window's end"


@pytest.fixture
def ended(recorded, keys, redis_client):  # noqa: F811
    """`recorded`, plus sight-0043 tagged at +35 s and closed as a false alarm at +50 s."""
    base = recorded
    before = sum(read_stats(redis_client, keys).values())
    report_lookout(redis_client, keys, "sight-0043", base + 35 * S)
    wait_until(lambda: sum(read_stats(redis_client, keys).values()) == before + 1, timeout=20, what="ingest")
    close_sighting(redis_client, keys, sighting_id="sight-0043", supervisor_id="SUP-1", reason="false_alarm",
                   now_ms=base + 50 * S)
    return base, ending_number(redis_client, keys, "sight-0043")


def test_a_closed_sighting_ends_in_the_replay_its_event_and_its_figure(browser, web, ended):
    base, number = ended
    page = replayed_hour(browser, web)
    assert_ends_in_the_replay(page, "sight-0043", number, at=base + 50 * S, event="closed",
                              text=f"{number} closed: false alarm")
    assert page.marker("sight-0042") is not None

    assert outcome_bars(page)["closed: false alarm"] == "1"
    assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
