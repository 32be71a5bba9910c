"""The live map in a real Chromium: units written to the input streams show up, move, restyle.

Everything runs as in production: entries are XADDed to the input streams, the
ingest process builds the picture, gunicorn serves the app, the page polls it.
Markers are found by their data-unit-id attribute (assets/map_render.js).
"""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from tests.processes import wait_until

pytestmark = pytest.mark.browser

# Where a unit's glyph is on screen, or null while it is not drawn. Queried fresh
# each time: a layer update replaces the marker elements.
_GLYPH = """
const unit = document.querySelector(`[data-unit-id="${arguments[0]}"]`);
if (!unit) return null;
const glyph = unit.querySelector('.glyph');
const box = glyph.getBoundingClientRect();
return {x: box.left + box.width / 2, y: box.top + box.height / 2,
        status: unit.dataset.status, lat: Number(unit.dataset.lat), lon: Number(unit.dataset.lon),
        classes: glyph.className, style: glyph.getAttribute('style') || ''};
"""


def now_ms() -> int:
    return int(time.time() * 1000)


def telemetry(drone_id: str, lat: float, lon: float, heading: float = 90.0, battery: float = 81.0) -> dict:
    return {"drone_id": drone_id, "ts": now_ms(), "lat": lat, "lon": lon, "alt_m": 80,
            "heading_deg": heading, "speed_mps": 6.5, "battery_pct": battery}


def patrol(patrol_id: str, lat: float, lon: float, status: str = "available") -> dict:
    return {"patrol_id": patrol_id, "ts": now_ms(), "lat": lat, "lon": lon, "status": status}


def glyph(browser, unit_id: str) -> dict | None:
    return browser.execute_script(_GLYPH, unit_id)


def wait_for(browser, unit_id: str, check=lambda g: True, timeout: float = 15.0, what: str = "") -> dict:
    return wait_until(
        lambda: (g := glyph(browser, unit_id)) is not None and check(g) and g,
        timeout=timeout, interval=0.1, what=what or f"marker {unit_id} on the map",
    )


def text_of(browser, element_id: str) -> str:
    return browser.execute_script("return document.getElementById(arguments[0])?.innerText || ''", element_id)


def test_drone_and_patrol_appear_then_the_drone_moves(browser, web, ingest, redis_client, keys):
    redis_client.xadd(keys.inputs["telemetry"], telemetry("DR-07", 48.111, -1.680, heading=90))
    redis_client.xadd(keys.inputs["patrol"], patrol("BAC-12", 48.105, -1.670))
    browser.get(web + "/")

    drone = wait_for(browser, "DR-07")
    bac = wait_for(browser, "BAC-12")
    assert "glyph-drone" in drone["classes"] and "rotate(90deg)" in drone["style"]
    assert bac["status"] == "available" and "is-available" in bac["classes"]
    wait_until(lambda: text_of(browser, "live-count-drones") == "1 drone", what="header count of drones")
    assert text_of(browser, "live-count-patrols").startswith("1 patrol")
    assert text_of(browser, "live-updated").startswith("last update ")

    # About 550 m north and 600 m east: tens of pixels at zoom 13.
    redis_client.xadd(keys.inputs["telemetry"], telemetry("DR-07", 48.116, -1.672, heading=45))
    moved = wait_for(browser, "DR-07", lambda g: g["lat"] != drone["lat"], what="DR-07 to move")
    assert moved["lat"] == pytest.approx(48.116) and moved["lon"] == pytest.approx(-1.672)
    assert moved["y"] < drone["y"] - 20, "north is up the screen"
    assert moved["x"] > drone["x"] + 20, "east is right"
    assert "rotate(45deg)" in moved["style"]
    assert glyph(browser, "BAC-12")["x"] == pytest.approx(bac["x"], abs=1), "the patrol did not move"


def test_patrol_status_changes_shape_and_sighting_text_is_never_html(browser, web, ingest, redis_client, keys):
    redis_client.xadd(keys.inputs["patrol"], patrol("BAC-12", 48.105, -1.670, "available"))
    redis_client.xadd(keys.inputs["sighting"], {
        "sighting_id": "sight-0001", "ts": now_ms(), "drone_id": "DR-07", "operator_id": "OP-3",
        "category": "deal", "lat": 48.112, "lon": -1.681, "priority": 1,
        "note": '<img id="injected" src="x" onerror="document.title=1">',
    })
    browser.get(web + "/")
    wait_for(browser, "BAC-12", lambda g: g["status"] == "available")
    pin = wait_for(browser, "sight-0001")
    assert "glyph-sighting" in pin["classes"] and "prio-1" in pin["classes"]
    assert browser.execute_script("return document.getElementById('injected')") is None
    assert "1 P1" in text_of(browser, "live-count-sightings")

    redis_client.xadd(keys.inputs["patrol"], patrol("BAC-12", 48.105, -1.670, "en_route"))
    en_route = wait_for(browser, "BAC-12", lambda g: g["status"] == "en_route", what="BAC-12 en route")
    assert "is-en_route" in en_route["classes"]


def test_api_snapshot_returns_the_drone(web, ingest, redis_client, keys):
    redis_client.xadd(keys.inputs["telemetry"], telemetry("DR-07", 48.111, -1.680))

    def snapshot_with_drone():
        with urllib.request.urlopen(f"{web}/api/snapshot", timeout=5) as response:
            body = json.loads(response.read())
            assert response.headers["Cache-Control"] == "no-store"
            assert response.headers["Content-Type"].startswith("application/json")
        return body if body["drones"] else None

    body = wait_until(snapshot_with_drone, timeout=15, interval=0.1, what="the drone in /api/snapshot")
    assert [d["drone_id"] for d in body["drones"]] == ["DR-07"]
    assert body["drones"][0]["lat"] == pytest.approx(48.111)
    assert body["site"] == keys.site
