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


@pytest.fixture
def ended(recorded, keys, redis_client):  # noqa: F811
    """`recorded`, plus sight-0043 tagged at +35 s and closed as a false alarm at +50 s."""
    base = recorded
    before = sum(read_stats(redis_client, keys).values())
    report_lookout(redis_client, keys, "sight-0043", base + 35 * S)
    wait_until(lambda: sum(read_stats(redis_client, keys).values()) == before + 1, timeout=20, what="ingest")
    close_sighting(redis_client, keys, sighting_id="sight-0043", supervisor_id="SUP-1", reason="false_alarm",
                   now_ms=base + 50 * S)
    (record,) = sighting_endings(redis_client, keys, "sight-0043")
    return base, record["sighting"]["number"]


def test_a_closed_sighting_ends_in_the_replay_its_event_and_its_figure(browser, web, ended):
    base, number = ended
    page = ReplayPage(browser, web).open()
    page.load("hour")
    rows = page.events()
    (closed,) = [r for r in rows if r["kind"] == "sighting" and r["event"] == "closed"]
    assert closed["ts"] == base + 50 * S
    assert f"{number} closed: false alarm" in closed["text"]

    page.slide_to(base + 45 * S)
    page.wait_drawn(base + 45 * S)
    assert page.marker("sight-0043") is not None, "open before its ending"
    assert number in page.marker("sight-0043")["label"], "the map names it by its incident number"
    page.slide_to(base + 55 * S)
    page.wait_drawn(base + 55 * S)
    assert page.marker("sight-0043") is None, "closed at its ending, not at the window's end"
    assert page.marker("sight-0042") is not None

    assert outcome_bars(page)["closed: false alarm"] == "1"
    assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
