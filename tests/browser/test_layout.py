"""Every staff page keeps its controls whole from a 1280 px desk monitor to a 4K wall screen, in Chromium.

A person under stress must not hunt for a button hidden under the clock. At each width the page is
checked for what went wrong here before: top-bar items drawn over one another (the replay's window
choice under its clock), buttons cut by a box that hides its overflow (the replay's 30× and 60×),
a button's text cut (the accounts page's "Create the account"), a one-word button broken over lines
(the zones table's "Edi" above "t"), a count hidden off the wall screen's header, and a page that
scrolls sideways. The pages hold realistic content: three-digit counts, zones in the table.
"""

from __future__ import annotations

import time

import pytest

from dispatch.domain.zones import make_zone
from dispatch.store.state import read_stats
from dispatch.store.zones import save_zone
from tests.browser.chromium import WALL_SCREEN, sign_in_browser
from tests.browser.screen import patrol, sighting, telemetry
from tests.support.processes import wait_until

pytestmark = pytest.mark.browser

WIDTHS = ((1280, 800), (1600, 900), (1920, 1080), (3840, 2160))

PROBLEMS = """
const problems = [];
const visible = el => { const r = el.getBoundingClientRect(), s = getComputedStyle(el);
  return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none' && s.opacity !== '0'; };
const name = el => (el.id ? '#' + el.id : el.tagName.toLowerCase() + '.' + String(el.className).split(' ')[0])
  + ' "' + (el.innerText || '').trim().replace(/\\s+/g, ' ').slice(0, 30) + '"';
const extent = el => [el, ...el.querySelectorAll('*')].filter(visible).map(e => e.getBoundingClientRect())
  .reduce((u, r) => ({left: Math.min(u.left, r.left), right: Math.max(u.right, r.right),
                      top: Math.min(u.top, r.top), bottom: Math.max(u.bottom, r.bottom)}));
const root = document.scrollingElement;
if (root.scrollWidth > innerWidth + 1) problems.push('the page scrolls sideways: ' + root.scrollWidth + ' px');
document.querySelectorAll('.staff-page, .ad-body, .au-main').forEach(box => {
  if (box.scrollWidth > box.clientWidth + 1) problems.push(name(box) + ' scrolls sideways');
});
document.querySelectorAll('.topbar').forEach(bar => {
  const items = Array.from(bar.children).filter(visible);
  for (let i = 0; i < items.length; i++) for (let j = i + 1; j < items.length; j++) {
    const a = extent(items[i]), b = extent(items[j]);
    if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1)
      problems.push('top bar: ' + name(items[i]) + ' drawn over ' + name(items[j]));
  }
});
document.querySelectorAll('.counts').forEach(counts => {
  if (counts.scrollWidth > counts.clientWidth + 1) problems.push('counts cut: ' + name(counts));
});
document.querySelectorAll('button, .btn').forEach(el => {
  if (!visible(el)) return;
  const text = (el.innerText || '').trim();
  if (text && el.scrollWidth > el.clientWidth + 1) problems.push('text cut in ' + name(el));
  const r = el.getBoundingClientRect();
  for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
    const overflow = getComputedStyle(p).overflowX;
    if (overflow === 'visible') continue;
    const q = p.getBoundingClientRect();
    if (overflow === 'hidden' || overflow === 'clip') {
      if (r.right > q.right + 1 || r.left < q.left - 1) problems.push(name(el) + ' cut by ' + name(p));
    }
    break;
  }
  if (text && !/\\s/.test(text) && el.children.length === 0) {
    const range = document.createRange();
    range.selectNodeContents(el);
    const lines = new Set(Array.from(range.getClientRects()).map(c => Math.round(c.top))).size;
    if (lines > 1) problems.push('the word in ' + name(el) + ' is broken over ' + lines + ' lines');
  }
});
return problems;
"""


@pytest.fixture
def busy_site(screen, redis_client):
    """The stack's site with three-digit counts, two drones and zones with long names."""
    keys = screen.keys
    now = int(time.time() * 1000)
    for number in range(3):
        save_zone(redis_client, keys, make_zone(
            zone_id=f"Z-LONG-NAME-{number}", name=f"Sainte-Anne – République event perimeter {number}",
            decree_ref="2026-11-035-PREF35", valid_from_ms=now - 3_600_000, valid_until_ms=now + 86_400_000,
            polygon=[(-1.70, 48.10 + number / 100), (-1.66, 48.10 + number / 100), (-1.66, 48.105 + number / 100),
                     (-1.70, 48.105 + number / 100)]))
    pipe = redis_client.pipeline(transaction=False)
    for number in range(140):
        pipe.xadd(keys.in_sightings, sighting(48.10 + number / 2000, -1.68, priority=1 + number % 3))
    for number in range(120):
        pipe.xadd(keys.in_patrols, patrol(f"BAC-{number}", 48.11, -1.70 + number / 2000))
    for number in range(2):
        pipe.xadd(keys.in_telemetry, telemetry(f"DR-{number}", 48.11, -1.68))
    pipe.execute()
    wait_until(lambda: sum(read_stats(redis_client, keys).values()) >= 262, timeout=20, what="ingest")
    return screen


PAGES = [("/", "supervisor", "SUP-1"), ("/replay", "supervisor", "SUP-1"), ("/audit", "auditor", "AUD-1"),
         ("/admin", "administrator", "ADM-1"), ("/admin/zones", "administrator", "ADM-1")]


@pytest.mark.parametrize("path, role, user_id", PAGES, ids=[path for path, _, _ in PAGES])
def test_nothing_is_hidden_cut_or_drawn_over_at_any_width(browser, busy_site, path, role, user_id):
    if role != "supervisor":
        sign_in_browser(browser, busy_site.settings, user_id=user_id, role=role)
    found = {}
    try:
        for width, height in WIDTHS:
            browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                    {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
            browser.get(busy_site.url + path)
            wait_until(lambda: browser.execute_script(
                "return document.readyState === 'complete' && !!document.querySelector('.topbar')"
                " && !document.querySelector('._dash-loading')"), timeout=15, what=f"{path} to render")
            if path == "/":
                wait_until(lambda: browser.execute_script(
                    "return (document.getElementById('sup-count-sightings') || {}).textContent || ''"
                ).startswith("140"), timeout=15, what="the counts (sightings: " + browser.execute_script(
                    "return (document.getElementById('sup-count-sightings') || {}).textContent || 'none'") + ")")
            if path == "/admin/zones":
                wait_until(lambda: browser.execute_script(
                    "return document.querySelectorAll('.adz-row-actions .btn').length") >= 6,
                    timeout=15, what="the zones table")
            if path == "/admin":
                wait_until(lambda: browser.execute_script("return !!document.querySelector('.ad-table')"),
                           timeout=15, what="the accounts table")
            time.sleep(0.3)  # web fonts and the last layout pass
            problems = browser.execute_script(PROBLEMS)
            if problems:
                found[width] = problems
    finally:
        width, height = WALL_SCREEN
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
    assert found == {}
