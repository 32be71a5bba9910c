"""The replay page in a real Chromium: a shift recorded through ingest, loaded, scrubbed, stepped, exported.

The shift is written as bridges write it (XADD to the input streams, the real
ingest process) and dispatched with the real assignment steps, in the last two
minutes; the page then loads "the last hour" like a supervisor would, served
by gunicorn, signed in as SUP-1. Everything checked is what is on screen: the
markers' data attributes (assets/replay/map.js), the event rows, the big clock.
"""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from dispatch.clock import now_ms
from dispatch.domain.audit import Action
from dispatch.store.assignments import assign, transition
from dispatch.store.audit import read as read_audit
from dispatch.store.state import read_stats
from dispatch.ui.pages.replay import ids as P
from tests.support.processes import wait_until
from dispatch.ui.pages.replay import ids as replay_ids

pytestmark = pytest.mark.browser
S = 1000

MARKER = """
const unit = document.querySelector(`.replay-map .leaflet-marker-pane [data-unit-id="${arguments[0]}"]`);
return unit ? {lat: Number(unit.dataset.lat), lon: Number(unit.dataset.lon), status: unit.dataset.status,
               kind: unit.dataset.kind, label: unit.querySelector('.unit-label').textContent} : null;
"""
EVENTS = """
return Array.from(document.querySelectorAll('#rp-events .rp-ev')).map(row => ({
  ts: Number(row.dataset.ts), kind: row.dataset.kind, event: row.dataset.event, classes: row.className,
  text: row.innerText}));
"""
# Seen by a MutationObserver from before Load is pressed: the load can be quicker than a screenshot.
WATCH_PROGRESS = """
window.progressSeen = [];
const box = document.getElementById('rp-progress');
new MutationObserver(() => window.progressSeen.push({hidden: box.classList.contains('hidden'),
  state: box.dataset.state, text: document.getElementById('rp-progress-text').textContent}))
  .observe(box, {attributes: true, subtree: true, childList: true, characterData: true});
"""


def local(ms: int) -> str:
    return f"{datetime.fromtimestamp(ms / 1000, ZoneInfo('Europe/Paris')):%H:%M:%S}"


@pytest.fixture
def recorded(ingest, settings, keys, redis_client):
    """DR-7 flying north every 5 s; a sighting at +30 s; BAC-12 sent at +40 s, en route at +60 s.

    Instants are whole seconds, so the page's 1 s slider lands on them exactly."""
    base = now_ms() // 1000 * 1000 - 100 * S
    sent = 0
    for k in range(19):
        redis_client.xadd(keys.in_telemetry, {
            "drone_id": "DR-7", "ts": base + k * 5 * S, "lat": 48.100 + k * 0.001, "lon": -1.680, "alt_m": 90,
            "heading_deg": 0, "speed_mps": 9, "battery_pct": 80})
        sent += 1
    redis_client.xadd(keys.in_patrols, {"patrol_id": "BAC-12", "ts": base, "lat": 48.105, "lon": -1.670,
                                        "status": "available"})
    redis_client.xadd(keys.in_sightings, {
        "sighting_id": "sight-0042", "ts": base + 30 * S, "drone_id": "DR-7", "operator_id": "OP-3",
        "category": "deal", "lat": 48.1151, "lon": -1.6801, "priority": 1, "note": "<b>échanges</b> au hall B"})
    sent += 2
    wait_until(lambda: sum(read_stats(redis_client, keys).values()) == sent, timeout=20, what="ingest")
    done = assign(redis_client, keys, sighting_id="sight-0042", patrol_id="BAC-12", supervisor_id="SUP-1",
                  now_ms=base + 40 * S, assignment_id="asg-browser-1")
    transition(redis_client, keys, assignment_id=done.assignment_id, new_state="en_route", actor_id="BAC-12",
               actor_role="patrol", now_ms=base + 60 * S)
    return base


class ReplayPage:
    def __init__(self, driver, url: str):
        self.driver = driver
        self.url = url

    def js(self, script: str, *args):
        return self.driver.execute_script(script, *args)

    def open(self) -> "ReplayPage":
        self.driver.get(self.url + "/replay")
        wait_until(lambda: self.js("return !!(window.dispatchReplay && dispatchReplay.started)"), timeout=15,
                   what="the replay scripts to start")
        return self

    def load(self, choice: str = "hour") -> None:
        self.js("document.querySelector(`#rp-choice input[value='${arguments[0]}']`).click()", choice)
        self.js(WATCH_PROGRESS)
        self.js(f"document.getElementById('{replay_ids.LOAD}').click()")
        wait_until(lambda: self.js("return dispatchReplay.state.ready && dispatchReplay.frames.drawn > 0"),
                   timeout=30, what="the window to load and its first frame to be drawn")

    def marker(self, unit_id: str):
        return self.js(MARKER, unit_id)

    def events(self) -> list[dict]:
        return self.js(EVENTS)

    def instant(self) -> str:
        return self.js(f"return document.getElementById('{replay_ids.INSTANT}').textContent")

    def drawn_t(self):
        return self.js("return dispatchReplay.frames.last && dispatchReplay.frames.last.t")

    def wait_drawn(self, t: int) -> None:
        wait_until(lambda: self.drawn_t() == t, timeout=10, what=f"the frame at {t} drawn (last: {self.drawn_t()})")

    def slide_to(self, t: int) -> None:
        self.js("""const range = document.querySelector('#rp-slider input[type=range]');
                   range.value = String(arguments[0]);
                   range.dispatchEvent(new Event('input', {bubbles: true}));""", t)

    def press(self, key: str) -> None:
        from selenium.webdriver.common.action_chains import ActionChains
        self.js("document.activeElement && document.activeElement.blur()")
        ActionChains(self.driver).send_keys(key).perform()


def test_scrub_step_and_jump_through_a_recorded_shift(browser, web, recorded, redis_client, keys):
    base = recorded
    page = ReplayPage(browser, web).open()
    page.load("hour")

    seen = page.js("return window.progressSeen")
    assert any(not s["hidden"] and s["state"] in ("queued", "loading") for s in seen), seen
    assert page.js(f"return document.getElementById('{replay_ids.PROGRESS}').classList.contains('hidden')"), "gone once loaded"
    assert "loaded in" in page.js(f"return document.getElementById('{replay_ids.MESSAGE}').textContent")
    rows = page.events()
    assert [(r["kind"], r["event"]) for r in rows] == [("sighting", "created"), ("assignment", "created"),
                                                       ("assignment", "en_route")]
    assert [r["ts"] for r in rows] == [base + 30 * S, base + 40 * S, base + 60 * S]
    assert "<b>" not in " ".join(r["text"] for r in rows), "no note, no markup"
    start = page.js("return dispatchReplay.state.window.from_ms")
    assert page.instant() == local(start)
    assert page.marker("DR-7") is None, "an hour ago, nothing was flying yet"

    # The slider to +32 s: DR-7 at its +30 s fix, the sighting just tagged, its event current.
    page.slide_to(base + 32 * S)
    page.wait_drawn(base + 32 * S)
    drone = page.marker("DR-7")
    assert (drone["lat"], drone["lon"]) == (pytest.approx(48.106), pytest.approx(-1.680))
    assert page.marker("sight-0042")["kind"] == "sighting"
    assert page.instant() == local(base + 32 * S)
    rows = page.events()
    assert "is-current" in rows[0]["classes"] and "is-past" not in rows[1]["classes"]
    assert page.js("return dispatchReplay.map.count('lines')") == 0

    # Back before the sighting: gone from the map, no event current.
    page.slide_to(base + 20 * S)
    page.wait_drawn(base + 20 * S)
    assert page.marker("sight-0042") is None
    assert page.marker("DR-7")["lat"] == pytest.approx(48.104)
    assert not any("is-past" in r["classes"] for r in page.events())

    # Clicking an event jumps to its instant: BAC-12 en route, a line to its sighting.
    page.js(f"document.querySelectorAll('#{replay_ids.EVENTS} .rp-ev')[2].click()")
    page.wait_drawn(base + 60 * S)
    assert page.instant() == local(base + 60 * S)
    assert page.marker("BAC-12")["status"] == "en_route"
    assert "BAC-12" in page.marker("sight-0042")["label"]
    assert page.js("return dispatchReplay.map.count('lines')") == 1
    assert "is-current" in page.events()[2]["classes"]

    # Clicking the drone draws its whole track, through where it is now.
    page.js("""document.querySelector('.replay-map [data-unit-id="DR-7"] .glyph')
                 .dispatchEvent(new MouseEvent('click', {bubbles: true}));""")
    wait_until(lambda: (page.js("return dispatchReplay.map.tracked") or {}).get("points") == 19, timeout=10,
               what="DR-7's track (19 fixes) drawn")

    # Keyboard: ← to the previous event (the assignment), → back to the last one.
    page.press("\ue012")  # ArrowLeft
    page.wait_drawn(base + 40 * S)
    assert page.marker("BAC-12")["status"] == "assigned"
    page.press("\ue014")  # ArrowRight
    page.wait_drawn(base + 60 * S)

    # A typed time, then Enter.
    jump = browser.find_element("id", P.JUMP)
    jump.clear()
    jump.send_keys(local(base + 45 * S) + "\n")
    page.wait_drawn(base + 45 * S)
    assert page.instant() == local(base + 45 * S)
    assert page.marker("DR-7")["lat"] == pytest.approx(48.109)

    # Play at 60x: the instant moves forward by itself, and space pauses it.
    page.js("document.querySelector('#rp-speeds [data-speed=\"60\"]').click()")
    page.press(" ")
    wait_until(lambda: page.js("return dispatchReplay.state.t") > base + 50 * S, timeout=5, what="playing")
    page.press(" ")
    assert page.js("return dispatchReplay.state.playing") is False
    paused_at = page.js("return dispatchReplay.state.t")
    time.sleep(0.3)
    assert page.js("return dispatchReplay.state.t") == paused_at

    opened = [e for e in read_audit(redis_client, keys) if e.action is Action.REPLAY_OPENED]
    assert [(e.actor, e.details["choice"]) for e in opened] == [("SUP-1", "hour")]
    assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def test_figures_render_and_an_export_is_audited(browser, web, recorded, redis_client, keys):
    page = ReplayPage(browser, web).open()
    page.load("hour")

    def traces(graph_id: str):
        return page.js("""const plot = document.querySelector(`#${arguments[0]} .js-plotly-plot`);
                          return plot && plot.data ? plot.data.map(t => t.name) : null;""", graph_id)

    wait_until(lambda: traces(P.FIGURES["response_times"][0]) == ["patrol sent", "acknowledged", "on scene"],
               timeout=15, what="the response-time chart")
    # Issue 15: the charts come one at a time (in view first, the others when the page is idle).
    wait_until(lambda: (traces(P.FIGURES["utilisation"][0]) or [None])[0] == "available", timeout=15,
               what="the utilisation chart")
    buttons = page.js("""return Array.from(document.querySelectorAll('#rp-fig-response .modebar-btn'))
                             .map(b => b.getAttribute('data-title'));""")
    assert "Download plot as a PNG" in buttons, "PNG from the chart's own toolbar"
    assert not [b for b in buttons if "Share" in b], "nothing is uploaded to Plotly's cloud"
    wait_until(lambda: page.js(f"return !document.getElementById('{P.EXPORT_GEOJSON}').disabled"), timeout=10,
               what="exports enabled once loaded")
    page.js(f"document.getElementById('{P.EXPORT_GEOJSON}').click()")
    wait_until(lambda: ".geojson" in page.js(f"return document.getElementById('{P.EXPORT_MESSAGE}').textContent"),
               timeout=15, what="the export to be prepared")
    wait_until(lambda: page.js(f"return !document.getElementById('{P.EXPORT_KML}').disabled"), timeout=10,
               what="exports enabled again")
    page.js(f"document.getElementById('{P.EXPORT_KML}').click()")
    wait_until(lambda: ".kml" in page.js(f"return document.getElementById('{P.EXPORT_MESSAGE}').textContent"),
               timeout=15, what="the KML export to be prepared")
    # Issue 15 (exports): the file is a form's GET to /api/replay/export, streamed and recorded there, in
    # parallel with the page's line: wait for the entries rather than read them at once.
    def exported():
        found = [(e.actor, e.details["format"]) for e in read_audit(redis_client, keys) if e.action is Action.EXPORT]
        return found if len(found) >= 2 else None

    assert wait_until(exported, timeout=15, what="both exports recorded") == [("SUP-1", "geojson"), ("SUP-1", "kml")]
    assert page.js("return location.pathname") == "/replay", "a download: the page stays where it is"
    assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def test_a_long_load_shows_its_progress_and_can_be_cancelled(browser, web, settings, keys, redis_client):
    """400,000 fixes nobody has ingested yet: the loader validates each one (store/history.py), about
    4 s here (1.8 s for 200,000), long enough to watch the bar move and to give up."""
    start = now_ms() - 450_000
    pipe = redis_client.pipeline(transaction=False)
    for k in range(400_000):
        pipe.xadd(keys.in_telemetry, {"drone_id": "DR-9", "ts": start + k, "lat": 48.1, "lon": -1.68, "alt_m": 90,
                                      "heading_deg": 0, "speed_mps": 9, "battery_pct": 80})
        if len(pipe) >= 10_000:
            pipe.execute()
    pipe.execute()
    page = ReplayPage(browser, web).open()
    page.js(f"document.querySelector(`#{replay_ids.CHOICE} input[value='hour']`).click()")
    page.js(f"document.getElementById('{replay_ids.LOAD}').click()")

    def progress():
        return page.js("""const box = document.getElementById('rp-progress');
                          return {hidden: box.classList.contains('hidden'), state: box.dataset.state,
                                  read: Number(box.dataset.read), width: document.getElementById('rp-progress-bar')
                                  .style.width, text: document.getElementById('rp-progress-text').textContent};""")

    moving = wait_until(lambda: (p := progress())["state"] == "loading" and p["read"] > 0 and p,
                        timeout=15, what="the bar to show entries read")
    assert not moving["hidden"] and "entries" in moving["text"] and moving["width"] not in ("", "0%")
    page.js(f"document.getElementById('{replay_ids.CANCEL}').click()")
    wait_until(lambda: page.js(f"return document.getElementById('{replay_ids.MESSAGE}').textContent") == "Loading cancelled",
               timeout=5, what="the page to say it gave up")
    assert progress()["hidden"]
    status = page.js("""return fetch(dispatchReplay.api('status', {})).then(r => r.json());""")
    wait_until(lambda: page.js("return fetch(dispatchReplay.api('status', {})).then(r => r.json())")["state"]
               == "cancelled", timeout=15, what=f"the server to stop loading (was {status['state']})")
    assert page.js("return dispatchReplay.state.ready") is False


def test_the_csv_export_is_saved_by_the_browser_as_it_streams(browser, web, recorded, redis_client, keys,
                                                              tmp_path):
    """Issue 15 (exports): the CSV button's form GET reaches /api/replay/export, Chromium saves the
    attachment under its name, and the file holds as many positions as the audit entry says."""
    browser.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    try:
        page = ReplayPage(browser, web).open()
        page.load("hour")
        wait_until(lambda: page.js(f"return !document.getElementById('{P.EXPORT_CSV}').disabled"), timeout=15,
                   what="exports enabled once loaded")
        page.js(f"document.getElementById('{P.EXPORT_CSV}').click()")

        def saved():
            files = [f for f in tmp_path.iterdir() if f.name.endswith("-positions.csv")]
            return files[0] if files else None

        file = wait_until(saved, timeout=15, what="the CSV saved by the browser")
        (entry,) = [e for e in read_audit(redis_client, keys) if e.action is Action.EXPORT]
        lines = file.read_text().splitlines()
        assert lines[0].startswith("kind,unit_id,ts,time_utc,lat,lon") and len(lines) - 1 == entry.details["rows"] > 0
        assert entry.details["file"] == file.name and entry.details["streamed"] is True
        assert page.js("return location.pathname") == "/replay"
    finally:  # the session's Chromium is shared with the next tests
        browser.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "default"})
