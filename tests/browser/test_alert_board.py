"""The supervisor's alerts panel at a shift's volume, in real headless Chromium at 1920x1080.

After 16 minutes of the demo there were 185 open alerts and the one that mattered (a crew that had
not acknowledged its assignment) was row 71 of 73, out of sight. These tests load the panel the same
way (alerts written by the store, reaching the page through the gateway) and check what a supervisor
sees: the alert that matters on screen, one line per subject, groups with counts, acknowledge all.
"""

from __future__ import annotations

import time

import orjson
import pytest

from dispatch.domain.alerts import AlertKind, new_alert
from dispatch.store.alerts import apply_diff
from tests.browser.chromium import WALL_SCREEN, set_viewport
from tests.browser.screen import Screen, now_ms, patrol, sighting
from tests.support.processes import wait_until
from dispatch.ui.pages.screen import ids as screen_ids

pytestmark = pytest.mark.browser

RENNES = (48.111, -1.680)

# Where the row is, whether its centre is on screen (1920x1080), and whether what the browser draws
# at that point is the row itself: not scrolled out of its panel, not covered by anything.
VISIBLE = """
const row = document.querySelector(`#sup-alerts [data-alert-id="${arguments[0]}"]`);
if (!row) return null;
const r = row.getBoundingClientRect();
const x = r.left + r.width / 2, y = r.top + r.height / 2;
const onScreen = r.top >= 0 && r.bottom <= window.innerHeight && r.left >= 0 && r.right <= window.innerWidth;
const hit = onScreen ? document.elementFromPoint(x, y) : null;
return {top: r.top, bottom: r.bottom, height: r.height, viewport: [window.innerWidth, window.innerHeight],
        onScreen, drawn: !!hit && row.contains(hit), pinned: row.classList.contains('is-pinned')};
"""


@pytest.fixture
def page(browser, screen) -> Screen:
    # The 1080p wall screen these bounds are about, whatever an earlier module left.
    set_viewport(browser, *WALL_SCREEN)
    return Screen(browser, screen.url)


def warnings(n: int) -> list:
    """`n` sightings nobody was sent to, spread around the centre, oldest first."""
    return [new_alert(AlertKind.SIGHTING_UNASSIGNED, f"s-{i:04d}", f"Priority 2 sighting (deal) s-{i:04d} has no patrol",
                      now_ms() - 600_000 + i * 1000, RENNES[0] + 0.0005 * (i % 10), RENNES[1] + 0.0005 * (i // 10))
            for i in range(n)]


def test_with_100_open_warnings_a_new_unacknowledged_assignment_is_on_screen_within_a_second(page, screen,
                                                                                            redis_client):
    page.open()
    assert page.js("return [window.innerWidth, window.innerHeight]") == [1920, 1080]
    apply_diff(redis_client, screen.keys, warnings(100), [], now_ms())
    wait_until(lambda: page.js("return dispatchScreen.model.units.alerts.size") == 100, timeout=10,
               what="100 alerts on the page")
    counts = page.js("""return Array.from(document.querySelectorAll('#sup-alerts .a-group')).map(g =>
        [g.dataset.kind, g.querySelector('.a-group-count').innerText, g.querySelectorAll('.a-row').length])""")
    assert counts == [["sighting_unassigned", "100 to see · 100 lines", 3]], "one group, counted, folded"

    late = new_alert(AlertKind.ASSIGNMENT_UNACKNOWLEDGED, "a-99", "BAC-99 has not acknowledged assignment a-99",
                     now_ms() - 31_000, *RENNES)
    started = time.monotonic()
    apply_diff(redis_client, screen.keys, [late], [], now_ms())
    seen = wait_until(lambda: (v := page.js(VISIBLE, late.alert_id)) and v["drawn"] and v, timeout=3,
                      interval=0.02, what="the unacknowledged assignment drawn on screen")
    elapsed = time.monotonic() - started
    assert elapsed < 1.0, f"visible after {elapsed:.2f} s"
    assert seen["pinned"] and seen["onScreen"] and seen["bottom"] <= 1080

    # Scrolling the panel to its end (the supervisor reading the warnings) does not take it away.
    page.js(f"document.querySelector('#{screen_ids.ALERTS} .a-fold').click()")
    wait_until(lambda: page.js(f"return document.querySelectorAll('#{screen_ids.ALERTS} .a-row').length") == 101, timeout=3,
               what="the warnings unfolded")
    page.js(f"const box = document.getElementById('{screen_ids.ALERTS}'); box.scrollTop = box.scrollHeight;")
    assert page.js(VISIBLE, late.alert_id)["drawn"], "pinned: still drawn with the panel scrolled to its end"


def test_one_line_per_subject_headed_by_the_most_severe_alert(page, screen, redis_client):
    lat, lon = RENNES
    page.open()
    apply_diff(redis_client, screen.keys, [
        new_alert(AlertKind.LOW_BATTERY, "DR-07", "DR-07 battery at 12 %", now_ms() - 90_000, lat, lon),
        new_alert(AlertKind.LINK_LOST, "DR-07", "DR-07 link lost", now_ms() - 6_000, lat, lon),
        new_alert(AlertKind.LOW_BATTERY, "DR-08", "DR-08 battery at 20 %", now_ms() - 60_000, lat, lon),
    ], [], now_ms())
    rows = wait_until(lambda: page.js("return dispatchScreen.model.units.alerts.size") == 3 and page.alerts(),
                      timeout=5, what="the alerts drawn")
    assert [row["id"] for row in rows] == ["link_lost:DR-07", "low_battery:DR-08"], "DR-07 is one line"
    assert "CRITICAL" in rows[0]["text"] and "also drone battery low" in rows[0]["text"]


def test_acknowledge_all_of_a_kind_takes_two_clicks_and_acknowledges_each_alert(page, screen, redis_client):
    page.open()
    apply_diff(redis_client, screen.keys, warnings(12), [], now_ms())
    wait_until(lambda: page.js("return dispatchScreen.model.units.alerts.size") == 12, timeout=10,
               what="12 alerts on the page")
    button = f"#{screen_ids.ALERTS} .a-group[data-kind=sighting_unassigned] button[data-action=acknowledge-kind]"
    page.js(f"document.querySelector('{button}').click()")
    assert "Click again" in page.js(f"return document.querySelector('{button}').innerText")
    assert all(not orjson.loads(v).get("acknowledged_by") for v in redis_client.hvals(screen.keys.alerts_open))
    page.js(f"document.querySelector('{button}').click()")
    wait_until(lambda: "12 sighting unassigned alerts acknowledged" in page.text(screen_ids.ALERTS), timeout=5,
               what="the answer in the panel")
    stored = [orjson.loads(v) for v in redis_client.hvals(screen.keys.alerts_open)]
    assert [a["acknowledged_by"] for a in stored] == ["SUP-1"] * 12
    wait_until(lambda: all("is-acknowledged" in row["classes"] for row in page.alerts()), timeout=3,
               what="every line dimmed")


def test_with_ten_criticals_the_newest_pinned_lines_are_all_on_screen(page, screen, redis_client):
    # A sighting selected with its five nearest patrols: the detail panel at its tallest.
    for n in range(6):
        redis_client.xadd(screen.keys.in_patrols, patrol(f"BAC-{n + 1}", RENNES[0] + 0.002 * n, RENNES[1]))
    chosen = sighting(*RENNES, note="a long note " * 8)
    redis_client.xadd(screen.keys.in_sightings, chosen)
    page.open()
    page.select(chosen["sighting_id"])
    criticals = [new_alert(AlertKind.LINK_LOST, f"DR-{i:02d}", f"DR-{i:02d} link lost", now_ms() - 300_000 + i * 1000,
                           *RENNES) for i in range(10)]
    apply_diff(redis_client, screen.keys, warnings(100) + criticals, [], now_ms())
    wait_until(lambda: page.js("return dispatchScreen.model.units.alerts.size") == 110, timeout=10,
               what="110 alerts on the page")
    late = new_alert(AlertKind.ASSIGNMENT_UNACKNOWLEDGED, "a-99", "BAC-99 has not acknowledged assignment a-99",
                     now_ms() - 31_000, *RENNES)
    apply_diff(redis_client, screen.keys, [late], [], now_ms())
    wait_until(lambda: (v := page.js(VISIBLE, late.alert_id)) and v["drawn"], timeout=1, interval=0.02,
               what="the unacknowledged assignment drawn among ten criticals")
    pinned = page.js(f"return Array.from(document.querySelectorAll('#{screen_ids.ALERTS} .a-row.is-pinned'))"
                     ".map(r => r.dataset.alertId)")
    assert len(pinned) == 6 and pinned[-1] == late.alert_id, "criticals first, then the assignment"
    assert pinned[:5] == [f"link_lost:DR-{i:02d}" for i in range(5, 10)], "the five newest criticals"
    for alert_id in pinned:
        assert page.js(VISIBLE, alert_id)["drawn"], f"{alert_id} drawn on screen"
    assert "+5 older ones" in page.text(screen_ids.ALERTS)
    # The side column still fits: its last item (the key help) is on screen.
    assert page.js(f"return document.getElementById('{screen_ids.KEY_HELP}').getBoundingClientRect().bottom") <= 1080
    group = page.js(f"return document.querySelector('#{screen_ids.ALERTS} .a-group-head').getBoundingClientRect().height")
    assert group > 0
