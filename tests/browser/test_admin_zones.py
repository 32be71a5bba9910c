"""The zones page in a real Chromium, served by gunicorn, signed in as administrator ADM-1.

What an administrator does, checked on screen and in Redis:
- draws a perimeter with leaflet-draw's polygon tool (real mouse clicks on the map, through Selenium's
  ActionChains: this works in headless Chromium, so no scripted stand-in is needed), fills the form
  and presses Enter: the zone is listed, drawn with its label, stored and audited under ADM-1; then
  drags a rectangle, and Clear form takes it off;
- imports a GeoJSON file through the upload's file input: an active and an expired zone appear in the
  table and on the map, each with its own dash pattern and words; a file over the size limit and a
  file with a bad feature are refused with a sentence saying why;
- loads a zone into the form with Edit, and deletes one through the confirmation, by keyboard;
- zone names and decrees carrying markup show as literal text in the table and the map's labels, and
  nothing in them runs.
Every test ends with the browser console free of errors (a CSP violation would show there: the
drawing toolbar's icons are data: images from dash-leaflet's bundle, which the CSP allows).

The date input is set through the DOM (the native value setter, then an input event, as React
expects): typing into <input type="date"> depends on the browser's locale, and is the browser's code.
"""

from __future__ import annotations

import json
import time

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys as Key

from dispatch.clock import now_ms
from dispatch.domain.audit import Action
from dispatch.store.audit import read as read_audit
from dispatch.store.zones import load_zones
from dispatch.ui.pages.zones import ids as P
from tests.browser.conftest import _attach, sign_in_browser
from tests.support.processes import wait_until
from dispatch.ui.pages.zones import ids as zones_ids

pytestmark = pytest.mark.browser

SET_VALUE = """
const input = document.getElementById(arguments[0]);
Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(input, arguments[1]);
input.dispatchEvent(new Event('input', {bubbles: true}));
"""
# The grid's rows in their shown order: id from AG Grid's row-id, status from the row's class, cells by col-id.
ROWS = """
return Array.from(document.querySelectorAll('#adz-table div[role="row"][row-id]'))
  .sort((a, b) => Number(a.getAttribute('row-index')) - Number(b.getAttribute('row-index')))
  .map(row => ({id: row.getAttribute('row-id'), status: (/\\bis-(active|expired|upcoming)\\b/.exec(row.className) || [])[1],
    cells: Array.from(row.querySelectorAll('div[col-id]')).map(cell => cell.textContent)}));
"""
LABELS = """
return Array.from(document.querySelectorAll('.adz-map .zone-label-body')).map(label => ({
  id: label.dataset.zoneId, status: label.dataset.status, name: label.querySelector('.zone-name').textContent,
  state: label.querySelector('.zone-state').textContent}));
"""
PATHS = """
return Array.from(document.querySelectorAll('.adz-map path.adz-zone-path')).map(path => ({
  classes: path.getAttribute('class'), dash: path.getAttribute('stroke-dasharray')}));
"""
DRAWN_PATHS = "return document.querySelectorAll('.adz-map path[stroke=\"#f0a020\"]').length"
SQUARE = [[-1.70, 48.10], [-1.66, 48.10], [-1.66, 48.12], [-1.70, 48.12], [-1.70, 48.10]]
IMAGE = '<img src=x onerror="window.__xss=1">'
SCRIPT = "<script>window.__xss=2</script>"


@pytest.fixture
def admin(chrome, request, settings, web):
    """The session's Chromium signed in as ADM-1, on the zones page, its failures reported with its console."""
    driver = _attach(request, chrome)
    sign_in_browser(driver, settings, user_id="ADM-1", role="administrator")
    driver.get(f"{web}/admin/zones")
    wait_until(lambda: driver.find_elements(By.CSS_SELECTOR, ".adz-map .leaflet-draw-draw-polygon"), timeout=15,
               what="the drawing toolbar")
    wait_until(lambda: driver.find_elements(By.CSS_SELECTOR, f"#{zones_ids.COUNT}") and
               driver.find_element(By.ID, zones_ids.COUNT).text.endswith(("zone", "zones")), timeout=10,
               what="the list of zones")
    yield driver
    problems = [entry for entry in driver.get_log("browser")
                if entry["level"] == "SEVERE" or "Content Security Policy" in entry["message"]]
    assert problems == [], problems


def message(driver) -> str:
    return driver.find_element(By.ID, P.MESSAGE).text


def wait_for_message(driver, start: str) -> str:
    return wait_until(lambda: message(driver).startswith(start) and message(driver), timeout=10,
                      what=f"a message starting {start!r} (now {message(driver)!r})")


def row_of(zone_id: str) -> str:
    """The CSS selector of a zone's row in the grid (AG Grid names each row by its row-id: the zone id)."""
    return f"#{P.TABLE} div[role='row'][row-id='{zone_id}']"


def rows(driver) -> list[dict]:
    return driver.execute_script(ROWS)


def upload(driver, path) -> None:
    driver.find_element(By.CSS_SELECTOR, f"#{P.UPLOAD} input[type=file]").send_keys(str(path))


def zone_file(tmp_path, name: str, *features) -> str:
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": list(features)}))
    return str(path)


def feature(zone_id, name, decree_ref, valid_from_ms, valid_until_ms, ring=SQUARE):
    return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": dict(zone_id=zone_id, name=name, decree_ref=decree_ref, valid_from_ms=valid_from_ms,
                               valid_until_ms=valid_until_ms)}


def test_a_perimeter_drawn_on_the_map_is_saved_with_the_form(admin, redis_client, keys):
    assert admin.find_element(By.CSS_SELECTOR, ".leaflet-draw-draw-polygon").is_displayed()
    assert not admin.find_elements(By.CSS_SELECTOR, ".leaflet-draw-draw-circle, .leaflet-draw-draw-marker, "
                                                    ".leaflet-draw-draw-polyline"), "polygons and rectangles only"
    assert admin.find_element(By.ID, P.PERIMETER).text.startswith("draw the perimeter on the map")
    admin.find_element(By.CSS_SELECTOR, ".leaflet-draw-draw-polygon").click()
    the_map = admin.find_element(By.ID, P.MAP)
    corners = [(-200, -100), (100, -120), (150, 100), (-150, 120)]
    for x, y in corners + corners[:1]:  # clicking the first vertex again closes the polygon
        ActionChains(admin).move_to_element_with_offset(the_map, x, y).click().perform()
        time.sleep(0.15)
    wait_until(lambda: admin.find_element(By.ID, P.PERIMETER).text == "polygon: 4 vertices drawn", timeout=5,
               what="the form to see the drawn polygon")
    admin.find_element(By.ID, P.ZONE_ID).send_keys("z-drawn")
    admin.find_element(By.ID, P.NAME).send_keys("Drawn on the map")
    admin.find_element(By.ID, P.DECREE).send_keys("2026-11-035-PREF35")
    admin.execute_script(SET_VALUE, P.VALID_UNTIL, "2099-12-31")
    admin.find_element(By.ID, P.DECREE).send_keys(Key.ENTER)

    assert wait_for_message(admin, "Z-DRAWN saved") == "Z-DRAWN saved: active until 31/12/2099 23:59"
    wait_until(lambda: [r["id"] for r in rows(admin)] == ["Z-DRAWN"], timeout=10, what="the zone in the list")
    assert rows(admin)[0]["status"] == "active" and rows(admin)[0]["cells"][6] == "4"
    [label] = wait_until(lambda: admin.execute_script(LABELS), timeout=5, what="the zone's label on the map")
    assert label["name"] == "Drawn on the map" and label["state"] == "Z-DRAWN · authorised until 31/12/2099 23:59"
    wait_until(lambda: admin.execute_script(DRAWN_PATHS) == 0, timeout=5, what="the drawing to be cleared")
    wait_until(lambda: admin.find_element(By.ID, P.PERIMETER).text.startswith("draw the perimeter on the map"),
               timeout=5, what="the form to forget the saved perimeter")  # a server callback: a moment later
    assert admin.find_element(By.ID, P.ZONE_ID).get_attribute("value") == ""

    [zone] = load_zones(redis_client, keys)
    assert zone.zone_id == "Z-DRAWN" and len(zone.polygon) == 4
    lats = sorted(lat for _, lat in zone.polygon)
    assert 48.0 < lats[0] < lats[-1] < 48.2, "clicked around the map's centre (Rennes)"
    [saved] = [e for e in read_audit(redis_client, keys) if e.action is Action.ZONE_SAVED]
    assert (saved.actor, saved.role.value, saved.origin) == ("ADM-1", "administrator", "127.0.0.1")

    admin.find_element(By.CSS_SELECTOR, ".leaflet-draw-draw-rectangle").click()  # a rectangle: one drag
    ActionChains(admin).move_to_element_with_offset(the_map, -100, -100).click_and_hold().move_by_offset(
        100, 50).move_by_offset(100, 50).release().perform()
    wait_until(lambda: admin.find_element(By.ID, P.PERIMETER).text == "polygon: 4 vertices drawn", timeout=5,
               what="the form to see the rectangle")
    admin.find_element(By.ID, P.CLEAR).click()
    assert wait_for_message(admin, "Form cleared") == "Form cleared: a new zone."
    wait_until(lambda: admin.execute_script(DRAWN_PATHS) == 0, timeout=5, what="Clear form to clear the drawing")
    # The note follows the cleared drawing through a server callback: it may come a moment later.
    wait_until(lambda: admin.find_element(By.ID, P.PERIMETER).text.startswith("draw the perimeter on the map"),
               timeout=5, what="the form to forget the perimeter")


def test_an_imported_file_shows_each_zone_in_the_list_and_on_the_map_as_active_or_expired(admin, tmp_path,
                                                                                          redis_client, keys):
    now = now_ms()
    path = zone_file(tmp_path, "rennes.geojson",
                     feature("Z-GARE", "Gare", "2026-11-036-PREF35", now - 3_600_000, now + 86_400_000),
                     feature("Z-OLD", "Ancienne zone", "2025-01-001-PREF35", now - 86_400_000, now - 3_600_000,
                             ring=[[-1.65, 48.10], [-1.64, 48.10], [-1.64, 48.11], [-1.65, 48.10]]))
    upload(admin, path)
    assert wait_for_message(admin, "2 zones imported").startswith(
        "2 zones imported from rennes.geojson: Z-GARE (new, active until")
    wait_until(lambda: len(rows(admin)) == 2, timeout=10, what="two zones in the list")
    by_id = {row["id"]: row for row in rows(admin)}
    assert by_id["Z-GARE"]["status"] == "active" and by_id["Z-GARE"]["cells"][5] == "active"
    assert by_id["Z-OLD"]["status"] == "expired" and by_id["Z-OLD"]["cells"][5] == "expired"
    labels = {label["id"]: label for label in admin.execute_script(LABELS)}
    assert labels["Z-OLD"]["state"].startswith("Z-OLD · EXPIRED · ") and labels["Z-OLD"]["status"] == "expired"
    assert labels["Z-GARE"]["state"].startswith("Z-GARE · authorised until ")
    paths = sorted(admin.execute_script(PATHS), key=lambda p: p["classes"])
    assert [(p["classes"].split()[:2], p["dash"]) for p in paths] == [
        (["adz-zone-path", "is-active"], None), (["adz-zone-path", "is-expired"], "4 8")], "not colour alone"
    assert len(load_zones(redis_client, keys)) == 2

    big = tmp_path / "big.geojson"
    big.write_text(json.dumps(feature("Z-BIG", "Big", "D", 1, 2)) + " " * 1_100_000)
    upload(admin, big)
    wait_until(lambda: admin.find_element(By.ID, P.UPLOAD_NOTE).text == (
        "Not imported: big.geojson is 1.1 MB: at most 1 MB. Simplify the perimeters or split the file."),
        timeout=5, what="the size refusal")
    bad = zone_file(tmp_path, "bad.geojson", feature("Z-NEW", "New", "D", now, now + 1000),
                    {**feature("Z-MULTI", "Multi", "D", now, now + 1000), "geometry": {"type": "MultiPolygon",
                                                                                     "coordinates": []}})
    upload(admin, bad)
    assert wait_for_message(admin, "Not imported") == (
        "Not imported: bad.geojson refused, nothing imported: feature 2 of 2 (Z-MULTI): geometry must be a "
        "Polygon, got MultiPolygon; make one zone per polygon")
    assert admin.find_element(By.ID, P.UPLOAD_NOTE).text == "", "the browser's note gave way to the server's"
    assert sorted(z.zone_id for z in load_zones(redis_client, keys)) == ["Z-GARE", "Z-OLD"]


def test_edit_loads_a_zone_and_delete_asks_before_deleting(admin, tmp_path, redis_client, keys):
    now = now_ms()
    upload(admin, zone_file(tmp_path, "one.geojson",
                            feature("Z-GARE", "Gare", "2026-11-036-PREF35", now - 3_600_000, now + 86_400_000)))
    wait_until(lambda: len(rows(admin)) == 1, timeout=10, what="the zone in the list")
    admin.find_element(By.CSS_SELECTOR, f"{row_of('Z-GARE')} button[title^='Load']").click()
    wait_until(lambda: admin.find_element(By.ID, P.ZONE_ID).get_attribute("value") == "Z-GARE", timeout=5,
               what="the form filled")
    assert admin.find_element(By.ID, P.NAME).get_attribute("value") == "Gare"
    assert admin.find_element(By.ID, P.FORM_TITLE).text == "Editing Z-GARE"
    assert admin.find_element(By.ID, P.PERIMETER).text.startswith("polygon: 4 vertices, kept from Z-GARE")

    admin.find_element(By.CSS_SELECTOR, f"{row_of('Z-GARE')} button[title^='Delete']").click()
    confirm = admin.find_element(By.ID, P.CONFIRM_BOX)
    wait_until(confirm.is_displayed, timeout=5, what="the confirmation")
    assert confirm.text.startswith("Delete Z-GARE? Drones will no longer be authorised there.")
    wait_until(lambda: admin.switch_to.active_element.get_attribute("id") == P.CONFIRM_YES, timeout=5,
               what="the focus on the confirmation")
    assert len(load_zones(redis_client, keys)) == 1, "nothing deleted before the confirmation"
    admin.switch_to.active_element.send_keys(Key.ENTER)
    assert wait_for_message(admin, "Z-GARE deleted") == "Z-GARE deleted."
    wait_until(lambda: rows(admin) == [] and not confirm.is_displayed(), timeout=10, what="the list emptied")
    assert load_zones(redis_client, keys) == [] and admin.execute_script(LABELS) == []
    [deleted] = [e for e in read_audit(redis_client, keys) if e.action is Action.ZONE_DELETED]
    assert (deleted.actor, deleted.target) == ("ADM-1", "Z-GARE")


def test_names_and_decrees_with_markup_show_as_text_and_run_nothing(admin, tmp_path):
    now = now_ms()
    upload(admin, zone_file(tmp_path, "hostile.geojson",
                            feature("Z-XSS", IMAGE, SCRIPT, now - 3_600_000, now + 3_600_000)))
    wait_until(lambda: len(rows(admin)) == 1, timeout=10, what="the zone in the list")
    cells = rows(admin)[0]["cells"]
    assert (cells[1], cells[2]) == (IMAGE, SCRIPT)
    [label] = admin.execute_script(LABELS)
    assert label["name"] == IMAGE
    assert admin.execute_script("return typeof window.__xss") == "undefined", "a payload's script ran"
    injected = admin.execute_script("""return document.querySelectorAll('#adz-root img').length
      + Array.from(document.scripts).filter(s => s.textContent.includes('__xss')).length""")
    assert injected == 0, "a payload became an element"
    admin.find_element(By.CSS_SELECTOR, f"{row_of('Z-XSS')} button[title^='Load']").click()
    wait_until(lambda: admin.find_element(By.ID, P.NAME).get_attribute("value") == IMAGE, timeout=5,
               what="the name in the form, as typed")
    assert admin.find_element(By.ID, P.DECREE).get_attribute("value") == SCRIPT
    assert admin.execute_script("return typeof window.__xss") == "undefined"


