"""A dispatch-feed outage on the supervisor screen, in a real Chromium against the real processes.

Issue 10, defect 14: when the feed went down, every drone on the wall screen turned LINK LOST
(its link was judged against the screen's clock while no data could arrive), and after the
gateway came back screens took 14-17 s to show LIVE (reconnection backoff up to 10 s). Now an
outage is shown once, as what it is (a banner over the map); drones are judged against feed
time, so they keep the state they had; and a screen is LIVE within 2 s of the gateway's return.

The outage is the whole feed: the gateway process is stopped (SIGTERM) and, so that the screen's
fallback polling of /api/snapshot cannot bring fresh data either, the browser's network blocks
that URL (Chromium's own request blocking, as when the web app is unreachable too).
"""

from __future__ import annotations

import time

import pytest

from tests.browser.screen import Screen, now_ms, telemetry
from tests.support.processes import wait_until
from dispatch.ui.pages.screen import ids as screen_ids

pytestmark = pytest.mark.browser

RENNES = (48.111, -1.680)
LINK_LOST_S = 5.0  # DISPATCH_ALERT_LINK_LOST_S, the stack's default


@pytest.fixture
def page(browser, screen) -> Screen:
    return Screen(browser, screen.url)


def banner(page: Screen) -> dict:
    return page.js("""const box = document.getElementById('feed-outage');
                      return box ? {shown: !box.hidden && box.offsetParent !== null, text: box.innerText,
                                    cause: box.dataset.cause} : {shown: false, text: '', cause: null};""")


def block_polls(page: Screen, blocked: bool) -> None:
    page.driver.execute_cdp_cmd("Network.enable", {})
    page.driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/api/snapshot*"] if blocked else []})


def test_a_feed_outage_shows_a_banner_not_lost_drones_and_the_screen_is_live_within_2_s_of_the_return(
    page, screen, redis_client
):
    keys = screen.keys
    redis_client.xadd(keys.in_telemetry, telemetry("DR-SILENT", 48.120, -1.690, ts=now_ms() - 20_000))
    page.open()
    redis_client.xadd(keys.in_telemetry, telemetry("DR-07", *RENNES))
    fresh = page.wait_marker("DR-07", lambda m: m["status"] == "ok")
    last_report = time.monotonic()
    # Judged while the feed is up: a drone silent for 20 s is lost, and stays so during the outage.
    page.wait_marker("DR-SILENT", lambda m: m["status"] == "lost", what="DR-SILENT lost while the feed is up")
    assert not banner(page)["shown"]
    try:
        block_polls(page, True)
        screen.stop_gateway()
        shown = wait_until(lambda: (b := banner(page))["shown"] and b, timeout=5, what="the feed-outage banner")
        assert "DISPATCH FEED DOWN" in shown["text"] and shown["cause"] == "gateway"
        # Well past the link-loss threshold since DR-07's last report: the screen cannot know, so it does
        # not say its link is lost (the old screen did, for every drone).
        time.sleep(max(0.0, last_report + LINK_LOST_S + 2.5 - time.monotonic()))
        during = page.marker("DR-07")
        assert during["status"] == "ok" and "LINK LOST" not in during["label"], during
        assert (during["lat"], during["lon"]) == (fresh["lat"], fresh["lon"])
        assert page.marker("DR-SILENT")["status"] == "lost", "what was judged lost before the outage stays lost"
        assert "1 lost" in page.text(screen_ids.COUNT_DRONES), page.text(screen_ids.COUNT_DRONES)
        assert banner(page)["shown"]
        assert page.link()["state"] in ("reconnecting", "offline")
    finally:
        block_polls(page, False)
        screen.start_gateway()  # returns once the gateway listens and follows the live stream
    back = time.monotonic()
    wait_until(
        lambda: page.link()["state"] == "live",
        timeout=2.0,
        interval=0.02,
        what="the screen LIVE within 2 s of the gateway's return",
    )
    print(f"LIVE {1000 * (time.monotonic() - back):.0f} ms after the gateway was back")
    wait_until(lambda: not banner(page)["shown"], timeout=1.0, what="the banner gone once the feed is back")
    redis_client.xadd(keys.in_telemetry, telemetry("DR-07", RENNES[0] + 0.004, RENNES[1]))
    page.wait_marker(
        "DR-07",
        lambda m: m["lat"] > RENNES[0] + 0.003 and m["status"] == "ok",
        timeout=3,
        what="DR-07 moving again through the feed",
    )
