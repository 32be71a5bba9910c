"""User text is inert on every page: script, image-error and SVG-load payloads in the places a person can
type text that others see (sighting notes, zone names and decrees, ids typed into forms, query strings).

Each test plants the payloads through the product's own way in (the input streams, the zone store, a
form), opens the page in Chromium, and checks three things: the text is shown literally, no element the
payloads would create exists, and none of their scripts ran (`window.__xss` stays undefined). The audit
and administration pages have the same checks in their own test modules (test_audit_page.py,
test_admin_accounts.py, test_admin_zones.py); the tablet's in test_tablet.py.
"""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest
from selenium.webdriver.common.by import By

from dispatch.domain.zones import make_zone
from dispatch.store.state import read_stats
from dispatch.store.zones import save_zone
from tests.browser.screen import Screen, sighting
from tests.browser.test_replay import ReplayPage
from tests.support.processes import wait_until

pytestmark = pytest.mark.browser

SCRIPT = "<script>window.__xss=1</script>"
IMAGE = '<img id="xss-img" src="x" onerror="window.__xss=2">'
SVG = '<svg id="xss-svg" onload="window.__xss=3"></svg>'
INJECTED = """return document.querySelectorAll('#xss-img, #xss-svg').length
  + Array.from(document.scripts).filter(s => s.textContent.includes('__xss')).length"""
SQUARE = [(-1.70, 48.10), (-1.66, 48.10), (-1.66, 48.12), (-1.70, 48.12)]


def assert_inert(driver) -> None:
    assert driver.execute_script("return typeof window.__xss") == "undefined", "a payload's script ran"
    assert driver.execute_script(INJECTED) == 0, "a payload became an element"


def body_text(driver) -> str:
    return driver.execute_script("return document.body ? document.body.innerText : ''") or ""


def refused_sign_in(driver, url: str, refusal: str, **typed: str) -> None:
    """Open the sign-in form at `url`, type `typed` into its fields by name, submit, and wait for `refusal`;
    then nothing typed may have run or become an element."""
    driver.get(url)
    for name, text in typed.items():
        driver.find_element(By.NAME, name).send_keys(text)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait_until(lambda: refusal in body_text(driver), timeout=10, what="the refusal")
    assert_inert(driver)


def hostile_zone(keys, redis_client) -> None:
    now = int(time.time() * 1000)
    save_zone(redis_client, keys, make_zone(zone_id="Z-XSS", name=f"Gare {IMAGE}"[:60], decree_ref=SCRIPT,
                                            polygon=SQUARE, valid_from_ms=now - 3_600_000,
                                            valid_until_ms=now + 3_600_000))


def test_the_wall_screen_shows_notes_and_zone_names_as_text(browser, screen, redis_client):
    hostile_zone(screen.keys, redis_client)
    page = Screen(browser, screen.url).open()
    notes = [f"{SCRIPT} lookout", f"{SVG} crowd", f"{IMAGE}"]
    for number, note in enumerate(notes):
        redis_client.xadd(screen.keys.in_sightings, sighting(48.11 + number * 0.002, -1.68, note=note))
    rows = wait_until(lambda: len(q := page.queue()) == 3 and q, timeout=10, what="three sightings")
    assert sorted(row["note"] for row in rows) == sorted(notes)
    zone_text = wait_until(lambda: page.js("const z = document.querySelector('[data-zone-id=\"Z-XSS\"]');"
                                           "return z && z.innerText"), timeout=5, what="the zone's label")
    assert zone_text.startswith(f"Gare {IMAGE}"[:60])
    assert_inert(browser)


def test_the_replay_page_shows_zone_names_as_text(browser, web, ingest, keys, redis_client):
    hostile_zone(keys, redis_client)
    now = int(time.time() * 1000)
    redis_client.xadd(keys.in_telemetry, {"drone_id": "DR-7", "ts": now - 60_000, "lat": 48.11, "lon": -1.68,
                                          "alt_m": 90, "heading_deg": 0, "speed_mps": 9, "battery_pct": 80})
    wait_until(lambda: sum(read_stats(redis_client, keys).values()) == 1, timeout=20, what="ingest")
    # The window ends at "now" cut to the second (replay logic.resolve_window): load it once that second is past
    # the zone's saving, or a zone saved in the same second falls just after the window's end.
    wait_until(lambda: int(time.time()) * 1000 > now, timeout=3, what="the next whole second")
    page = ReplayPage(browser, web).open()
    page.load("hour")
    page.slide_to(page.js("return dispatchReplay.state.window.to_ms"))  # the zone is stored since just now
    label = wait_until(lambda: page.js("const l = document.querySelector('.replay-map .zone-name');"
                                       "return l && l.textContent"), timeout=10, what="the zone's label")
    assert label == f"Gare {IMAGE}"[:60]
    assert_inert(browser)


def test_the_sign_in_pages_echo_typed_ids_and_the_next_path_as_text(anonymous_browser, web):
    driver = anonymous_browser
    refused_sign_in(driver, f"{web}/login?next={quote(chr(34) + '>' + SCRIPT)}", "Unknown code or wrong password",
                    user_id='"><svg/onload=window.__xss=4>', password="not the password")
    assert driver.execute_script("return document.querySelectorAll('svg').length") == 0
    assert driver.find_element(By.NAME, "user_id").get_attribute("value").startswith('"><SVG'), "echoed as a value"
    assert driver.find_element(By.NAME, "next").get_attribute("value") in ("", f'">{SCRIPT}'), "an attribute, not markup"

    refused_sign_in(driver, f"{web}/login/patrol?next={quote(IMAGE)}", "Wrong call sign or code",
                    patrol_id="<img src=x onerror=window.__xss=5>", code="123456")
