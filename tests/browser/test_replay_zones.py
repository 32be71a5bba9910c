"""The replay map draws each authorised zone as it was stored at the instant shown, in a real Chromium.

A short shift is recorded (test_replay.py's `recorded`), then a zone is saved and, a couple of seconds
later, renamed and reshaped with the same zone_id, as an administrator would on /admin/zones. The page
loads "the last hour"; sliding to before the zone existed, between the save and the edit, and after
the edit shows no zone, then only the old name, then only the new one: never both, label and perimeter
alike (the permanent tooltip goes with its polygon). Leaflet hides a removed tooltip at once (opacity 0)
and takes it out of the page 200 ms later (its fade): `labels` counts the visible ones, and the test
then waits for the hidden one to leave the page.
"""

from __future__ import annotations

import math
import time

import pytest

from dispatch.domain.zones import make_zone
from dispatch.store.zones import save_zone, zone_log
from tests.browser.test_replay import ReplayPage, recorded  # noqa: F401 (recorded: a fixture)
from tests.support.processes import wait_until

pytestmark = pytest.mark.browser
S = 1000

ZONES_SHOWN = """
const map = document.querySelector('.replay-map');
const visible = label => getComputedStyle(label.closest('.zone-label')).opacity !== '0';
return {labels: Array.from(map.querySelectorAll('.zone-label .zone-name')).filter(visible)
                     .map(label => label.textContent),
        inPage: map.querySelectorAll('.zone-label .zone-name').length,
        perimeters: map.querySelectorAll('.leaflet-rp-zones-pane path').length,
        counted: dispatchReplay.map.count('zones')};
"""


def zone(name: str, half_side: float):
    now = int(time.time() * 1000)
    return make_zone(zone_id="Z-GARE", name=name, decree_ref="2026-035-PREF35",
                     polygon=[(-1.68 - half_side, 48.11 - half_side), (-1.68 + half_side, 48.11 - half_side),
                              (-1.68 + half_side, 48.11 + half_side), (-1.68 - half_side, 48.11 + half_side)],
                     valid_from_ms=now - 3_600_000, valid_until_ms=now + 3_600_000)


def next_second(ms: int) -> int:
    return math.ceil(ms / S) * S


def test_an_edited_zone_shows_its_old_name_before_the_edit_and_its_new_one_after(
        browser, web, redis_client, keys, recorded):  # noqa: F811 (the fixture imported above)
    save_zone(redis_client, keys, zone("Gare <b>ancienne</b>", 0.01))
    time.sleep(2.2)
    save_zone(redis_client, keys, zone("Gare nouvelle", 0.02))
    time.sleep(2.2)  # the window ends now, to the second: the edit is well inside it
    (saved_ms, *_), (edited_ms, *_) = zone_log(redis_client, keys)

    page = ReplayPage(browser, web).open()
    page.load("hour")

    def shown_at(t: int) -> dict:
        page.slide_to(t)
        page.wait_drawn(t)
        shown = page.js(ZONES_SHOWN)
        in_page = shown.pop("inPage")
        assert in_page >= len(shown["labels"])
        wait_until(lambda: page.js(ZONES_SHOWN)["inPage"] == len(shown["labels"]), timeout=2,
                   what="a hidden label to leave the page after Leaflet's fade")
        return shown

    before = shown_at(recorded + 32 * S)
    assert before == {"labels": [], "perimeters": 0, "counted": 0}, "the zone was not stored yet"

    old_t = next_second(saved_ms)
    assert old_t < edited_ms
    assert shown_at(old_t) == {"labels": ["Gare <b>ancienne</b>"], "perimeters": 1, "counted": 1}, \
        "the name stored then, as text"

    new_t = next_second(edited_ms)
    after = shown_at(new_t)
    assert after == {"labels": ["Gare nouvelle"], "perimeters": 1, "counted": 1}

    # Back again: the old version comes back, the new one goes, label included.
    assert shown_at(old_t)["labels"] == ["Gare <b>ancienne</b>"]
    assert shown_at(new_t)["labels"] == ["Gare nouvelle"]
    wait_until(lambda: page.js("return document.querySelectorAll('.replay-map .zone-name b').length") == 0,
               timeout=1, what="no markup from a zone name")
