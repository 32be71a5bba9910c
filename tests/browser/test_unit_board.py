"""The unit status board of the wall screen in real Chromium (issue 11, item 4).

Every patrol with its status (word and shape), time in status, current sighting's number and last
report age; sorted by a column, filtered by status, searched by call sign; a unit found by id is
centred on the map. At 1920x1080 the board is a toggle (button and "u"); on a 3840x2160 wall it is
a column of its own beside the map, shown without asking.
"""

from __future__ import annotations

import pytest

from tests.browser.chromium import WALL_SCREEN, set_viewport
from tests.browser.screen import Screen, patrol, sighting, telemetry
from tests.support.processes import wait_until
from dispatch.ui.pages.screen import ids as screen_ids

pytestmark = pytest.mark.browser

RENNES = (48.111, -1.680)

ROWS = """
return Array.from(document.querySelectorAll('#sup-board-rows .b-row')).map(row => ({
  id: row.dataset.patrolId, status: row.dataset.status,
  status_text: row.querySelector('.b-status').innerText.trim(),
  shape: !!row.querySelector('.b-status .glyph.glyph-patrol.is-' + row.dataset.status),
  since: row.querySelector('.b-since').textContent, sighting: row.querySelector('.b-sighting').textContent,
  report: row.querySelector('.b-report').textContent}));
"""

BOX = """
const box = el => { const r = document.querySelector(el).getBoundingClientRect();
  return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, height: r.height}; };
return {board: box('#sup-board'), map: box('.map-area'), side: box('.side'),
        toggle: box('#sup-board-toggle')};
"""


@pytest.fixture
def page(browser, screen) -> Screen:
    return Screen(browser, screen.url)


def rows(page: Screen) -> list[dict]:
    return page.js(ROWS)


def board_visible(page: Screen) -> bool:
    return page.js(f"return document.getElementById('{screen_ids.BOARD}').offsetParent !== null")


def add_patrols(screen, redis_client) -> None:
    lat, lon = RENNES
    for name, north, status in (("BAC-1", 0.002, "available"), ("BAC-12", 0.004, "en_route"),
                                ("BAC-2", 0.006, "unavailable"), ("CYN-5", 0.008, "on_scene")):
        redis_client.xadd(screen.keys.in_patrols, patrol(name, lat + north, lon, status=status))


def test_the_board_is_a_toggle_at_1080p_listing_every_patrol_with_status_and_ages(page, screen, redis_client):
    add_patrols(screen, redis_client)
    page.open()
    assert not board_visible(page)
    page.press("u")
    wait_until(lambda: board_visible(page) and len(rows(page)) == 4, timeout=10, what="four patrols on the board")
    listed = {row["id"]: row for row in rows(page)}
    assert listed["BAC-12"]["status"] == "en_route" and listed["BAC-12"]["status_text"] == "En route"
    assert all(row["shape"] for row in listed.values()), listed
    assert all(row["report"].endswith(" s ago") for row in listed.values()), listed
    assert all(row["since"].endswith(" s") for row in listed.values()), listed
    # Statuses held before the page heard of them read "≥"; a change seen here is timed exactly.
    assert all(row["since"].startswith("≥ ") for row in listed.values()), listed
    redis_client.xadd(screen.keys.in_patrols, patrol("BAC-1", RENNES[0], RENNES[1], status="on_scene"))
    wait_until(lambda: [(r["status"], r["since"][0].isdigit()) for r in rows(page) if r["id"] == "BAC-1"]
               == [("on_scene", True)], timeout=5, what="BAC-1 on scene, timed from the change")
    boxes = page.js(BOX)
    assert boxes["board"]["left"] >= boxes["map"]["right"] - 1 and boxes["board"]["right"] <= boxes["side"]["left"] + 1
    page.js(f"document.getElementById('{screen_ids.BOARD_TOGGLE}').click()")
    wait_until(lambda: not board_visible(page), timeout=2, what="the board hidden again by its button")


def test_sort_filter_and_type_ahead_search_by_call_sign(page, screen, redis_client):
    add_patrols(screen, redis_client)
    page.open()
    page.press("u")
    wait_until(lambda: len(rows(page)) == 4, timeout=10, what="four patrols on the board")
    assert [row["id"] for row in rows(page)] == ["BAC-1", "BAC-2", "BAC-12", "CYN-5"]  # call sign, numeric order

    page.js(f"document.querySelector('#{screen_ids.BOARD} th[data-sort=status]').click()")
    assert [row["status"] for row in rows(page)] == ["available", "en_route", "on_scene", "unavailable"]
    page.js(f"document.querySelector('#{screen_ids.BOARD} th[data-sort=status]').click()")
    assert [row["status"] for row in rows(page)] == ["unavailable", "on_scene", "en_route", "available"]

    page.js(f"const f = document.getElementById('{screen_ids.BOARD_FILTER}'); f.value = 'on_scene';"
            " f.dispatchEvent(new Event('change'))")
    assert [row["id"] for row in rows(page)] == ["CYN-5"]
    page.js(f"const f = document.getElementById('{screen_ids.BOARD_FILTER}'); f.value = '';"
            " f.dispatchEvent(new Event('change'))")

    page.press("/")  # focuses the search; typing filters as one types
    page.press("bac-1")
    wait_until(lambda: sorted(row["id"] for row in rows(page)) == ["BAC-1", "BAC-12"], timeout=2,
               what="the search to keep BAC-1 and BAC-12")
    page.press("2")
    wait_until(lambda: [row["id"] for row in rows(page)] == ["BAC-12"], timeout=2, what="only BAC-12")


def test_a_unit_found_by_id_is_centred_on_the_map(page, screen, redis_client):
    far = (RENNES[0] + 0.03, RENNES[1] + 0.04)
    redis_client.xadd(screen.keys.in_telemetry, telemetry("DR-44", *far))
    redis_client.xadd(screen.keys.in_patrols, patrol("BAC-7", RENNES[0] - 0.03, RENNES[1] - 0.03))
    page.open()
    page.wait_marker("DR-44")
    page.wait_marker("BAC-7")
    centre = "const c = dispatchScreen.mapView.map.getCenter(); return [c.lat, c.lng];"
    page.press("/")
    page.press("dr-44\n")
    lat, lon = page.js(centre)
    assert abs(lat - far[0]) < 1e-4 and abs(lon - far[1]) < 1e-4, (lat, lon)
    assert page.js("return dispatchScreen.mapView.map.getZoom()") >= 16
    page.marker("DR-44")  # still drawn
    page.press("\ue00c")  # Escape clears the search: every patrol listed again
    wait_until(lambda: [row["id"] for row in rows(page)] == ["BAC-7"], timeout=2, what="BAC-7 listed again")
    # A click on a patrol's row centres on it too.
    page.js("document.querySelector('#sup-board-rows [data-patrol-id=\"BAC-7\"]').click()")
    lat, lon = page.js(centre)
    assert abs(lat - (RENNES[0] - 0.03)) < 1e-4 and abs(lon - (RENNES[1] - 0.03)) < 1e-4, (lat, lon)
    # An id that matches nothing leaves the map where it is and says so.
    page.js(f"document.getElementById('{screen_ids.BOARD_SEARCH}').focus()")
    page.press("ZZZ-9\n")
    assert page.js(f"return document.getElementById('{screen_ids.BOARD_SEARCH}').classList.contains('is-miss')")


def test_the_board_names_a_patrols_current_sighting_by_its_number(page, screen, redis_client):
    lat, lon = RENNES
    redis_client.xadd(screen.keys.in_patrols, patrol("BAC-1", lat + 0.002, lon))
    target = sighting(lat, lon)
    redis_client.xadd(screen.keys.in_sightings, target)
    page.open()
    page.press("u")
    page.select(target["sighting_id"])
    page.click_candidate("BAC-1")
    assert page.wait_message()["ok"] is True
    wait_until(lambda: [(row["status"], row["sighting"]) for row in rows(page)] == [("assigned", "S-0001")],
               timeout=5, what="BAC-1 assigned to S-0001 on the board")


def test_on_a_4k_wall_the_board_is_a_column_of_its_own_beside_the_map(page, screen, redis_client):
    add_patrols(screen, redis_client)
    try:
        set_viewport(page.driver, 3840, 2160)
        page.open()
        wait_until(lambda: board_visible(page) and len(rows(page)) == 4, timeout=10,
                   what="the board shown without asking at 4K")
        boxes = page.js(BOX)
        assert boxes["toggle"]["width"] == 0  # no toggle: the column is always there
        assert boxes["map"]["width"] >= 1600 and boxes["board"]["width"] >= 700, boxes
        assert boxes["map"]["right"] <= boxes["board"]["left"] + 1 <= boxes["side"]["left"] + 2, boxes
        assert boxes["board"]["height"] >= 1500, boxes
        # 4K shows more: the board's rows are smaller than the 1080p layout doubled.
        row_height = page.js(f"return document.querySelector('#{screen_ids.BOARD_ROWS} .b-row').getBoundingClientRect().height")
        assert row_height < 60, row_height
    finally:
        set_viewport(page.driver, *WALL_SCREEN)


def test_the_open_board_cuts_nothing_on_a_1280_px_desk_monitor(page, screen, redis_client):
    from tests.browser.test_layout import PROBLEMS
    add_patrols(screen, redis_client)
    try:
        set_viewport(page.driver, 1280, 800)
        page.open()
        page.press("u")
        wait_until(lambda: board_visible(page) and len(rows(page)) == 4, timeout=10, what="the board open")
        assert page.js(PROBLEMS) == []
        boxes = page.js(BOX)
        assert boxes["map"]["width"] >= 400 and boxes["board"]["width"] >= 250, boxes
    finally:
        set_viewport(page.driver, *WALL_SCREEN)
