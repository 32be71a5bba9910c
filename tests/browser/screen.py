"""Reading and driving the supervisor screen from a test, as a supervisor sees it.

Shared by the browser tests of the screen. Everything is read from the DOM
(what is on screen), through the data attributes the scripts put there, except
`dispatchScreen.rendered` and `panels.nearestTimings`, the screen's own timing
hooks. Messages are written as the bridges write them: XADD to the input streams.
"""

from __future__ import annotations

import uuid

from dispatch.clock import now_ms
from tests.support.processes import wait_until

MARKER = """
const unit = document.querySelector(`.leaflet-marker-pane [data-unit-id="${arguments[0]}"]`);
if (!unit) return null;
const glyph = unit.querySelector('.glyph');
const box = glyph.getBoundingClientRect();
const label = unit.querySelector('.unit-label');
return {x: box.left + box.width / 2, y: box.top + box.height / 2, kind: unit.dataset.kind,
        status: unit.dataset.status, lat: Number(unit.dataset.lat), lon: Number(unit.dataset.lon),
        classes: glyph.className, style: glyph.getAttribute('style') || '', label: label ? label.textContent : '',
        rootClasses: unit.className, opacity: unit.style.opacity};
"""

QUEUE = """
return Array.from(document.querySelectorAll('#sup-queue .q-row')).map(row => ({
  id: row.dataset.sightingId, classes: row.className, text: row.innerText,
  age: row.querySelector('.q-age').textContent, note: row.querySelector('.q-note').textContent,
  state: row.querySelector('.q-state').innerText}));
"""

CANDIDATES = """
return Array.from(document.querySelectorAll('#sup-candidates .cand')).map(row => ({
  patrol_id: row.dataset.patrolId, rank: Number(row.dataset.rank), text: row.innerText,
  action: row.querySelector('button').dataset.action, disabled: row.querySelector('button').disabled}));
"""

ALERTS = """
return Array.from(document.querySelectorAll('#sup-alerts .a-row')).map(row => ({
  id: row.dataset.alertId, classes: row.className, text: row.innerText,
  button: !!row.querySelector('button[data-action=acknowledge]')}));
"""


def telemetry(drone_id: str, lat: float, lon: float, heading: float = 90.0, battery: float = 81.0,
              ts: int | None = None) -> dict:
    return {"drone_id": drone_id, "ts": ts or now_ms(), "lat": lat, "lon": lon, "alt_m": 80,
            "heading_deg": heading, "speed_mps": 6.5, "battery_pct": battery}


def patrol(patrol_id: str, lat: float, lon: float, status: str = "available") -> dict:
    return {"patrol_id": patrol_id, "ts": now_ms(), "lat": lat, "lon": lon, "status": status}


def sighting(lat: float, lon: float, *, priority: int = 2, category: str = "deal", note: str = "",
             sighting_id: str | None = None, age_s: float = 0) -> dict:
    return {"sighting_id": sighting_id or f"s-{uuid.uuid4().hex[:12]}", "ts": now_ms() - int(age_s * 1000),
            "drone_id": "DR-07", "operator_id": "OP-3", "category": category, "lat": lat, "lon": lon,
            "priority": priority, "note": note}


class Screen:
    """One browser on the supervisor page."""

    def __init__(self, driver, url: str):
        self.driver = driver
        self.url = url

    def open(self, wait_live: bool = True) -> "Screen":
        self.driver.get(self.url + "/")
        wait_until(lambda: self.js("return !!(window.dispatchScreen && dispatchScreen.started)"), timeout=15,
                   interval=0.05, what="the screen's scripts to start")
        if wait_live:
            wait_until(lambda: self.link()["state"] == "live" and self.js("return dispatchScreen.model.loaded"),
                       timeout=10, interval=0.05, what="the screen to be live with its snapshot")
        return self

    def js(self, script: str, *args):
        return self.driver.execute_script(script, *args)

    def marker(self, unit_id: str) -> dict | None:
        return self.js(MARKER, unit_id)

    def wait_marker(self, unit_id: str, check=lambda m: True, timeout: float = 10.0, what: str = "") -> dict:
        return wait_until(lambda: (m := self.marker(unit_id)) is not None and check(m) and m,
                          timeout=timeout, interval=0.05, what=what or f"marker {unit_id} on the map")

    def queue(self) -> list[dict]:
        return self.js(QUEUE)

    def candidates(self) -> list[dict]:
        return self.js(CANDIDATES)

    def alerts(self) -> list[dict]:
        return self.js(ALERTS)

    def link(self) -> dict:
        return self.js("""const box = document.getElementById('sup-link');
                          return {state: box.dataset.state, polling: box.dataset.polling === 'true',
                                  text: box.innerText};""")

    def message(self) -> dict:
        return self.js("""const box = document.getElementById('sup-message');
                          return {ok: box.dataset.ok === undefined ? null : box.dataset.ok === 'true',
                                  text: box.innerText};""")

    def text(self, element_id: str) -> str:
        return self.js("return document.getElementById(arguments[0])?.innerText || ''", element_id)

    def select(self, sighting_id: str) -> list[dict]:
        """Click the sighting's row in the queue; returns its nearest patrols once listed."""
        wait_until(lambda: any(row["id"] == sighting_id for row in self.queue()), timeout=10,
                   what=f"sighting {sighting_id} in the queue")
        self.js("document.querySelector(`#sup-queue [data-sighting-id='${arguments[0]}']`).click()", sighting_id)
        return self.wait_candidates(sighting_id)

    def wait_candidates(self, sighting_id: str, check=lambda rows: bool(rows), timeout: float = 5.0) -> list[dict]:
        def listed():
            if self.js("return dispatchScreen.panels.selected") != sighting_id:
                return None
            rows = self.candidates()
            return rows if check(rows) and not any(row["disabled"] for row in rows) else None
        return wait_until(listed, timeout=timeout, interval=0.05, what=f"nearest patrols of {sighting_id}")

    def click_candidate(self, patrol_id: str) -> None:
        self.js("document.querySelector(`#sup-candidates [data-patrol-id='${arguments[0]}'] button`).click()",
                patrol_id)

    def wait_message(self, timeout: float = 5.0) -> dict:
        return wait_until(lambda: (m := self.message())["ok"] is not None and m, timeout=timeout, interval=0.05,
                          what="the action's answer on screen")

    def press(self, key: str) -> None:
        from selenium.webdriver.common.action_chains import ActionChains
        ActionChains(self.driver).send_keys(key).perform()
