"""Every unit at hand, in real Chromium against real Redis (issue 11, item 4).

Any available patrol can be sent, not only the five nearest: from the unit board (an Assign button
on each available patrol, with its distance and ETA to the selected sighting) and by typing its call
sign under the nearest patrols. Clicking a patrol (map or board) shows its detail: status history
this shift, current assignment with the sighting's number, last report; its time in status comes
from the record, so a reload shows the true time. The board lists the drones; "/" finds them.
"""

from __future__ import annotations

import time

import orjson
import pytest

from dispatch.domain.alerts import AlertKind, new_alert
from dispatch.store import assignments as assignment_store
from dispatch.store.alerts import apply_diff
from tests.browser.chromium import WALL_SCREEN
from tests.browser.screen import Screen, now_ms, sighting, telemetry
from tests.support.processes import wait_until
from dispatch.ui.pages.screen import ids as screen_ids

pytestmark = pytest.mark.browser

RENNES = (48.111, -1.680)
VIEWPORTS = {"1080p": WALL_SCREEN, "4k": (3840, 2160)}

BOARD_ROWS = """
return Array.from(document.querySelectorAll('#sup-board-rows .b-row')).map(row => {
  const button = row.querySelector('button[data-action=assign-any]');
  const box = button ? button.getBoundingClientRect() : null;
  const cell = button ? button.closest('td').getBoundingClientRect() : null;
  return {id: row.dataset.patrolId, status: row.dataset.status, since: row.querySelector('.b-since').textContent,
          sighting: row.querySelector('.b-sighting').textContent,
          dist: row.querySelector('.b-dist')?.textContent || null, eta: row.querySelector('.b-eta')?.textContent || null,
          button: box ? {width: box.width, left: box.left, right: box.right, cellRight: cell.right} : null};
});
"""

TYPED = """
return Array.from(document.querySelectorAll('#sup-assign-any .any-row')).map(row => ({
  id: row.dataset.patrolId, place: Number(row.dataset.place), text: row.innerText,
  dist: row.querySelector('.any-dist').textContent, eta: row.querySelector('.any-eta').textContent,
  highlighted: row.classList.contains('is-highlighted')}));
"""

DETAIL = """
const card = document.getElementById('sup-unit-detail');
if (card.hidden || card.dataset.loaded !== 'true') return null;
const since = card.querySelector('.ud-since'), assignment = card.querySelector('.ud-assignment');
return {patrol: card.dataset.patrolId, status: card.querySelector('.ud-status').dataset.status,
        since_ms: since.dataset.sinceMs ? Number(since.dataset.sinceMs) : null, exact: since.dataset.exact,
        since_text: since.textContent, assignment: assignment.textContent, number: assignment.dataset.number || null,
        report: card.querySelector('.ud-report').textContent,
        history: Array.from(card.querySelectorAll('.ud-change')).map(li => [li.dataset.status, Number(li.dataset.ts)])};
"""

DRONES = """
return Array.from(document.querySelectorAll('#sup-board-drones .b-drone')).map(row => ({
  id: row.dataset.droneId, zone: row.dataset.zone, battery: row.querySelector('.b-battery').textContent,
  zone_text: row.querySelector('.b-zone').textContent, report: row.querySelector('.b-report').textContent}));
"""


@pytest.fixture
def page(browser, screen) -> Screen:
    return Screen(browser, screen.url)


def viewport(page: Screen, size: tuple[int, int]) -> None:
    page.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                {"width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": False})


def report(patrol_id: str, lat: float, lon: float, status: str = "available", age_s: float = 0) -> dict:
    return {"patrol_id": patrol_id, "ts": now_ms() - int(age_s * 1000), "lat": lat, "lon": lon, "status": status}


def seven_patrols(screen, redis_client, prefix: str) -> dict:
    """Seven available patrols 220 m apart going north of a new sighting; returns the sighting."""
    lat, lon = RENNES
    for n in range(1, 8):
        redis_client.xadd(screen.keys.in_patrols, report(f"{prefix}-{n}", lat + 0.002 * n, lon))
    target = sighting(lat, lon)
    redis_client.xadd(screen.keys.in_sightings, target)
    return target


def board_rows(page: Screen) -> list[dict]:
    return page.js(BOARD_ROWS)


def open_board(page: Screen) -> None:
    if not page.js(f"return document.getElementById('{screen_ids.BOARD}').offsetParent !== null"):
        page.press("u")


def number_of(redis_client, screen, sighting_id: str) -> str:
    return orjson.loads(redis_client.hget(screen.keys.sightings, sighting_id))["number"]


def assigned_patrol(redis_client, screen, patrol_id: str) -> dict | None:
    assignment_id = redis_client.hget(screen.keys.patrol_assignment, patrol_id)
    return orjson.loads(redis_client.hget(screen.keys.assignments_open, assignment_id)) if assignment_id else None


@pytest.mark.parametrize("size", ["1080p", "4k"])
def test_any_available_patrol_is_assigned_from_the_board_with_its_distance_and_eta(page, screen, redis_client,
                                                                                  size):
    prefix = {"1080p": "BDA", "4k": "BDK"}[size]
    target = seven_patrols(screen, redis_client, prefix)
    try:
        viewport(page, VIEWPORTS[size])
        page.open()
        open_board(page)
        nearest = page.select(target["sighting_id"])
        assert [row["patrol_id"] for row in nearest] == [f"{prefix}-{n}" for n in range(1, 6)]
        far = f"{prefix}-7"  # not among the five nearest
        row = wait_until(lambda: next((r for r in board_rows(page) if r["id"] == far and r["dist"]), None),
                         timeout=5, what="the seventh patrol's distance on the board")
        assert (row["dist"], row["eta"]) == ("1.6 km", "≈ 5 min"), row  # 1,557 m x 1.4 at 9 m/s + 30 s: 272 s
        button = row["button"]
        assert button["width"] > 20 and button["right"] <= button["cellRight"] + 1, button  # shown whole
        # Every available patrol has one, the five nearest too.
        assert sum(1 for r in board_rows(page) if r["button"]) == 7
        page.js("document.querySelector(`#sup-board-rows [data-patrol-id='${arguments[0]}'] "
                "button[data-action=assign-any]`).click()", far)
        number = number_of(redis_client, screen, target["sighting_id"])
        assert page.wait_message() == {"ok": True, "text": f"✓\n{far} sent to {number}"}
        stored = assigned_patrol(redis_client, screen, far)
        assert stored["sighting_id"] == target["sighting_id"] and stored["state"] == "assigned"
        wait_until(lambda: [(r["status"], r["sighting"]) for r in board_rows(page) if r["id"] == far]
                   == [("assigned", number)], timeout=5, what="the board showing the patrol sent")
        # The same refusals as the candidate list: the patrol just sent cannot be sent again.
        answer = page.js("""return new Promise(done => {
            const before = document.getElementById('sup-message').innerText;
            dispatchScreen.panels.sendPatrol({patrol_id: arguments[0], distance: '', eta: ''});
            const t = setInterval(() => { const now = document.getElementById('sup-message');
              if (now.innerText !== before) { clearInterval(t); done(now.innerText); } }, 20); })""", far)
        assert "confirm" in answer.lower() or "already" in answer.lower() or "not available" in answer.lower(), answer
    finally:
        viewport(page, WALL_SCREEN)


def test_a_patrol_is_assigned_by_typing_its_call_sign(page, screen, redis_client):
    target = seven_patrols(screen, redis_client, "TY")
    page.open()
    page.select(target["sighting_id"])
    assert page.js(f"return document.getElementById('{screen_ids.ASSIGN_ANY}').hidden") is False
    page.press("a")  # focuses the call sign field
    assert page.js("return document.activeElement.classList.contains('any-input')")
    page.press("ty-")
    rows = wait_until(lambda: (r := page.js(TYPED)) and len(r) == 7 and r, timeout=5, what="seven matches")
    assert [r["id"] for r in rows] == [f"TY-{n}" for n in range(1, 8)]  # by distance
    page.press("6")
    rows = wait_until(lambda: (r := page.js(TYPED)) and [x["id"] for x in r] == ["TY-6"] and r, timeout=5,
                      what="TY-6 alone")
    assert rows[0]["place"] == 6 and rows[0]["dist"] == "1.3 km" and rows[0]["eta"] == "≈ 4 min", rows
    assert "#6 by distance" in rows[0]["text"], rows
    page.press("\ue007")  # Enter sends it
    number = number_of(redis_client, screen, target["sighting_id"])
    assert page.wait_message() == {"ok": True, "text": f"✓\nTY-6 sent to {number}"}
    assert assigned_patrol(redis_client, screen, "TY-6")["sighting_id"] == target["sighting_id"]
    assert page.js(f"return document.querySelector('#{screen_ids.ASSIGN_ANY} .any-input').value") == ""
    # A call sign that matches nothing says so, and Enter sends nobody.
    page.js(f"document.querySelector('#{screen_ids.ASSIGN_ANY} .any-input').focus()")
    page.press("zz-9")
    wait_until(lambda: "No available patrol matches 'ZZ-9'" in page.text(screen_ids.ASSIGN_ANY), timeout=5,
               what="the no-match note")


def test_clicking_a_patrol_shows_its_detail_and_time_in_status_survives_a_reload(page, screen, redis_client):
    lat, lon = RENNES
    keys = screen.keys
    # DT-1's shift so far: off duty 10 min ago, available 5 min ago (and reporting since).
    for age_s, status in ((600, "unavailable"), (450, "unavailable"), (300, "available"), (120, "available"),
                          (5, "available")):
        redis_client.xadd(keys.in_patrols, report("DT-1", lat + 0.004, lon + 0.004, status, age_s=age_s))
    redis_client.xadd(keys.in_patrols, report("DT-2", lat - 0.004, lon - 0.004, "available"))
    target = sighting(lat, lon)
    redis_client.xadd(keys.in_sightings, target)
    began = now_ms() - 300_000
    page.open()
    open_board(page)

    def since_of(patrol_id):
        return next((r["since"] for r in board_rows(page) if r["id"] == patrol_id), None)

    wait_until(lambda: since_of("DT-1") == "5 min", timeout=10, what="DT-1 available for 5 min, exactly")
    # Clicking its row opens the detail: status, since when, history, last report.
    page.js("document.querySelector('#sup-board-rows [data-patrol-id=\"DT-1\"] .b-call').click()")
    detail = wait_until(lambda: page.js(DETAIL), timeout=5, what="DT-1's detail")
    assert detail["patrol"] == "DT-1" and detail["status"] == "available" and detail["exact"] == "true"
    assert abs(detail["since_ms"] - began) < 2_000, detail
    assert detail["since_text"].startswith("Available for 5 min (since "), detail
    assert [status for status, _ in detail["history"]] == ["available", "unavailable"], detail
    assert detail["assignment"] == "No assignment" and detail["report"].startswith("Last report "), detail
    assert detail["report"].split("Last report ")[1].startswith(("5 s ago", "6 s ago", "7 s ago", "8 s ago",
                                                                   "9 s ago", "10 s ago")), detail
    # Sent to the sighting: the detail follows, naming the sighting's number.
    page.select(target["sighting_id"])
    page.click_candidate("DT-1")
    number = number_of(redis_client, screen, target["sighting_id"])
    assert page.wait_message()["text"] == f"✓\nDT-1 sent to {number}"
    detail = wait_until(lambda: (d := page.js(DETAIL)) and d["status"] == "assigned" and d, timeout=5,
                        what="DT-1's detail showing the assignment")
    assert detail["number"] == number and detail["assignment"].startswith(f"Sighting {number} · assigned · sent ")
    assert [status for status, _ in detail["history"]][:2] == ["assigned", "available"], detail
    page.press("\ue00c")  # Esc closes the card
    wait_until(lambda: page.js(f"return document.getElementById('{screen_ids.UNIT_DETAIL}').hidden"), timeout=2,
               what="the card closed")
    assigned_at = assigned_patrol(redis_client, screen, "DT-1")["ts"]

    # A reload: time in status is read from the record, not restarted at the page's opening.
    time.sleep(1.5)
    page.open()
    open_board(page)
    wait_until(lambda: (s := since_of("DT-1")) is not None and not s.startswith("≥") and s.endswith(" s")
               and int(s.split()[0]) >= 1, timeout=10, what="DT-1's time assigned, exact after the reload")
    seconds = int(since_of("DT-1").split()[0])
    assert abs(seconds - (now_ms() - assigned_at) / 1000) <= 2, seconds
    # A patrol on the map opens its detail too (a click on its marker).
    marker = page.wait_marker("DT-2")
    page.js("""const [x, y] = arguments; const target = document.elementFromPoint(x, y);
               for (const type of ['mousedown', 'mouseup', 'click'])
                 target.dispatchEvent(new MouseEvent(type, {bubbles: true, cancelable: true, clientX: x, clientY: y}));""",
            marker["x"], marker["y"])
    detail = wait_until(lambda: (d := page.js(DETAIL)) and d["patrol"] == "DT-2" and d, timeout=5,
                        what="DT-2's detail from the map")
    assert detail["status"] == "available" and detail["history"][0][0] == "available"


def test_drones_are_listed_on_the_board_and_found_by_search(page, screen, redis_client):
    lat, lon = RENNES
    keys = screen.keys
    redis_client.xadd(keys.in_telemetry, telemetry("DR-61", lat + 0.01, lon, battery=81.0))
    redis_client.xadd(keys.in_telemetry, telemetry("DR-62", lat - 0.02, lon + 0.03, battery=12.0))
    apply_diff(redis_client, keys, [new_alert(AlertKind.OUTSIDE_ZONE, "DR-62", "DR-62 outside every authorised zone",
                                              now_ms(), lat - 0.02, lon + 0.03)], [], now_ms())
    page.open()
    open_board(page)
    drones = wait_until(lambda: (d := page.js(DRONES)) and len(d) == 2 and d, timeout=10, what="two drones listed")
    by_id = {d["id"]: d for d in drones}
    assert by_id["DR-61"]["battery"] == "81 %" and by_id["DR-61"]["zone"] == "inside"
    assert by_id["DR-62"]["battery"] == "12 %" and by_id["DR-62"]["zone"] == "outside"
    assert "OUT OF ZONE" in by_id["DR-62"]["zone_text"] and "in zone" in by_id["DR-61"]["zone_text"]
    assert all(d["report"].endswith(" s ago") for d in drones), drones
    # "/" finds a drone by id and centres the map on it.
    page.press("/")
    page.press("dr-62\n")
    centre = page.js("const c = dispatchScreen.mapView.map.getCenter(); return [c.lat, c.lng];")
    assert abs(centre[0] - (lat - 0.02)) < 1e-4 and abs(centre[1] - (lon + 0.03)) < 1e-4, centre
    assert page.js(f"return document.getElementById('{screen_ids.BOARD_SEARCH}').dataset.found") == "drones:DR-62"
    # The search narrows the drone rows as it narrows the patrols.
    assert [d["id"] for d in page.js(DRONES)] == ["DR-62"]


@pytest.mark.parametrize("size", [(1280, 800), WALL_SCREEN, (3840, 2160)])
def test_with_everything_open_nothing_is_cut(page, screen, redis_client, size):
    from tests.browser.test_layout import PROBLEMS
    target = seven_patrols(screen, redis_client, "LY")
    try:
        viewport(page, size)
        page.open()
        open_board(page)
        page.select(target["sighting_id"])
        page.press("a")
        page.press("ly")
        wait_until(lambda: len(page.js(TYPED)) == 7, timeout=5, what="seven typed matches")
        wait_until(lambda: sum(1 for r in board_rows(page) if r["button"]) == 7, timeout=5,
                   what="the board's Assign buttons")
        page.js("document.querySelector('#sup-board-rows [data-patrol-id=\"LY-7\"] .b-call').click()")
        wait_until(lambda: page.js(DETAIL), timeout=5, what="LY-7's detail")
        assert page.js(PROBLEMS) == []
        card = page.js(f"const r = document.getElementById('{screen_ids.UNIT_DETAIL}').getBoundingClientRect();"
                       " const m = document.querySelector('.map-area').getBoundingClientRect();"
                       f" const l = document.getElementById('{screen_ids.LEGEND}').getBoundingClientRect();"
                       " return {inside: r.left >= m.left && r.right <= m.right && r.bottom <= m.bottom,"
                       " overLegend: r.bottom > l.top && r.left < l.right && l.left < r.right && l.height > 0};")
        assert card == {"inside": True, "overLegend": False}, card
    finally:
        viewport(page, WALL_SCREEN)


def test_reassigning_from_the_board_away_from_a_moving_crew_asks_first_and_is_audited(page, screen, redis_client):
    target = seven_patrols(screen, redis_client, "RA")
    keys = screen.keys
    page.open()
    open_board(page)
    page.select(target["sighting_id"])
    page.click_candidate("RA-1")
    assert page.wait_message()["ok"] is True
    # The crew sets off (its tablet's step, written as the store writes it).
    assignment_id = redis_client.hget(keys.patrol_assignment, "RA-1").decode()
    assignment_store.transition(redis_client, keys, assignment_id=assignment_id, new_state="acknowledged",
                                actor_id="RA-1", actor_role="patrol", now_ms=now_ms())
    assignment_store.transition(redis_client, keys, assignment_id=assignment_id, new_state="en_route",
                                actor_id="RA-1", actor_role="patrol", now_ms=now_ms())
    wait_until(lambda: page.js("return dispatchScreen.model.assignmentBySighting.get(arguments[0])?.state",
                               target["sighting_id"]) == "en_route", timeout=5, what="the crew en route on screen")
    row = wait_until(lambda: next((r for r in board_rows(page) if r["id"] == "RA-7" and r["button"]), None),
                     timeout=5, what="RA-7's Reassign button")
    assert page.js(f"return document.querySelector(`#{screen_ids.BOARD_ROWS} [data-patrol-id='RA-7'] button`).textContent") \
        == "Reassign", row
    page.js(f"document.querySelector(`#{screen_ids.BOARD_ROWS} [data-patrol-id='RA-7'] button`).click()")
    dialog = wait_until(lambda: page.js("const d = document.getElementById('reassign-dialog');"
                                        " return d && !d.hidden && d.innerText"), timeout=3, what="the confirm step")
    number = number_of(redis_client, screen, target["sighting_id"])
    assert f"Take sighting {number} from RA-1 (en route) and send RA-7 (1.6 km, ≈ 5 min)?" in dialog, dialog
    assert redis_client.hget(keys.patrol_assignment, "RA-1") is not None  # nothing done before the answer
    page.press("\ue007")
    expected = {"ok": True, "text": f"✓\nReassigned: RA-7 sent to {number}"}
    wait_until(lambda: page.message() == expected, timeout=5, what="the reassignment's answer")  # not the assign's
    assert redis_client.hget(keys.patrol_assignment, "RA-1") is None
    audited = [f for _, f in redis_client.xrange(keys.audit)
               if f.get(b"action") == b"assignment_reassigned" and f.get(b"outcome") == b"ok"]
    assert len(audited) == 1 and b"RA-7" in b" ".join(audited[0].values()), audited


def tap(page: Screen, selector: str) -> None:
    """A finger's tap on the element's centre (touch events; the browser makes the click)."""
    x, y = page.js("const r = document.querySelector(arguments[0]).getBoundingClientRect();"
                   " return [r.left + r.width / 2, r.top + r.height / 2];", selector)
    for kind in ("touchStart", "touchEnd"):
        points = [{"x": x, "y": y}] if kind == "touchStart" else []
        page.driver.execute_cdp_cmd("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})


def test_a_tap_opens_a_patrols_detail_and_sends_any_patrol(page, screen, redis_client):
    target = seven_patrols(screen, redis_client, "TP")
    try:
        page.driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 5})
        page.open()
        open_board(page)
        page.select(target["sighting_id"])
        wait_until(lambda: any(r["id"] == "TP-6" and r["button"] for r in board_rows(page)), timeout=5,
                   what="TP-6's Assign button")
        tap(page, f"#{screen_ids.BOARD_ROWS} [data-patrol-id='TP-6'] .b-call")
        assert wait_until(lambda: page.js(DETAIL), timeout=5, what="TP-6's detail by a tap")["patrol"] == "TP-6"
        tap(page, f"#{screen_ids.BOARD_ROWS} [data-patrol-id='TP-6'] button[data-action=assign-any]")
        number = number_of(redis_client, screen, target["sighting_id"])
        assert page.wait_message() == {"ok": True, "text": f"✓\nTP-6 sent to {number}"}
    finally:
        page.driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": False})
