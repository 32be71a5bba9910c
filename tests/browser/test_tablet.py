"""The patrol tablet in real headless Chromium at tablet size, against real ingest, gateway and web processes.

Tablets sign in as crews do (a code issued for their call sign, typed into
/login/patrol). Reports are XADDed to the input streams as bridges write them;
assignments are made through dispatch.store.assignments, as the supervisor
screen makes them. What is checked is what each screen shows, and what
Redis recorded.

Cutting the link (test_actions_taken_offline...): the gateway process is
stopped (the socket goes down for real) and the page's requests to
/api/patrol/* are blocked in the browser with the DevTools protocol
(Network.setBlockedURLs), so the page itself can still be reloaded from the
web process. Both are undone to bring the link back.
"""

from __future__ import annotations

import time
import uuid

import orjson
import pytest
from selenium.webdriver.common.by import By

from dispatch.domain import geo
from dispatch.domain.tablet import age_text, compass_point, distance_words, target_text
from dispatch.store import accounts
from dispatch.store.assignments import assign
from tests.browser.screen import Screen, patrol, sighting, telemetry
from tests.support.processes import wait_until
from dispatch.ui.pages.screen import ids as screen_ids
from dispatch.ui.pages.tablet import ids as tablet_ids

pytestmark = pytest.mark.browser

RENNES = (48.111, -1.680)
LANDSCAPE = (1280, 800)
PORTRAIT = (800, 1280)
WALL = (1920, 1080)

STATE = """
const root = document.getElementById('tab-root');
if (!root || !window.dispatchTablet || !dispatchTablet.started) return null;
const text = id => (document.getElementById(id) || {}).innerText || '';
const alert = document.getElementById('tab-alert');
const buttons = Array.from(document.querySelectorAll('#tab-actions button[data-action]')).filter(b => !b.hidden);
return {assignment: root.dataset.assignmentId, state: root.dataset.assignmentState,
        status: document.getElementById('tab-status').dataset.status, statusText: text('tab-status'),
        link: document.getElementById('tab-link').dataset.state, linkText: text('tab-link'),
        waiting: Number(document.getElementById('tab-link').dataset.waiting),
        alerting: !alert.hidden && root.classList.contains('is-alerting'), target: text('tab-target'),
        direction: (document.querySelector('.tab-direction-text') || {}).innerText || '', message: text('tab-message'),
        ok: document.getElementById('tab-message').dataset.ok,
        enabled: buttons.filter(b => !b.disabled).map(b => b.dataset.action),
        shown: buttons.map(b => b.dataset.action),
        markers: Array.from(document.querySelectorAll('.tab-unit')).map(m => m.dataset.kind + ':' + m.dataset.unitId)};
"""


class Tablet:
    """One browser, signed in as one patrol, on /patrol at a tablet's size."""

    def __init__(self, driver, stack, redis_client, size):
        self.driver, self.stack, self.redis = driver, stack, redis_client
        self.size = size

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def cdp(self, command, **params):
        return self.driver.execute_cdp_cmd(command, params)

    def resize(self, size):
        self.size = size
        self.cdp("Emulation.setDeviceMetricsOverride", width=size[0], height=size[1], deviceScaleFactor=1,
                 mobile=False)

    def forget(self):
        """A fresh tablet: no cookies, no stored outbox, no blocked URLs, no emulated position or theme."""
        self.cdp("Network.enable")
        self.cdp("Network.setBlockedURLs", urls=[])
        self.cdp("Network.clearBrowserCookies")
        self.cdp("Storage.clearDataForOrigin", origin=self.stack.url, storageTypes="local_storage")
        self.cdp("Emulation.clearGeolocationOverride")
        self.cdp("Emulation.setEmulatedMedia", media="", features=[])

    def sign_in(self, patrol_id, code=None):
        """As a crew does: the code its supervisor issued, typed into /login/patrol with the call sign."""
        self.patrol_id = patrol_id
        code = code or accounts.issue_patrol_code(self.redis, self.stack.keys, patrol_id=patrol_id,
                                                  issued_by="SUP-1")
        self.resize(self.size)
        # Workaround, see the report: the browser's own /favicon.ico request is redirected to /login,
        # whose fresh sign-in nonce voids the form just loaded ("This form has expired").
        self.cdp("Network.setBlockedURLs", urls=["*/favicon.ico"])
        self.driver.get(self.stack.url + "/login/patrol")
        self.driver.find_element(By.ID, "patrol_id").send_keys(patrol_id)
        self.driver.find_element(By.ID, "code").send_keys(code)
        self.driver.find_element(By.ID, "signin-submit").click()
        self.wait_started()
        self.cdp("Network.setBlockedURLs", urls=[])
        return self

    def wait_started(self, live=True):
        wait_until(lambda: self.state() is not None, timeout=15, what=f"{self.patrol_id}'s tablet to start")
        if live:
            self.wait(lambda s: s["link"] == "live", what=f"{self.patrol_id}'s tablet to be live")
        return self

    def state(self):
        return self.js(STATE)

    def wait(self, check, timeout=10.0, what="the tablet"):
        return wait_until(lambda: (s := self.state()) is not None and check(s) and s, timeout=timeout,
                          interval=0.03, what=what)

    def tap(self, action):
        self.js("document.querySelector(`#tab-actions button[data-action='${arguments[0]}']`).click()", action)

    def tap_outcome(self, outcome):
        self.js("document.querySelector(`#tab-outcomes button[data-outcome='${arguments[0]}']`).click()", outcome)


def fresh_tablet(browser, screen, redis_client, size):
    """A tablet that remembers nothing before its test, nor after it, and gives the browser back at wall size."""
    made = Tablet(browser, screen, redis_client, size)
    made.forget()
    yield made
    made.forget()
    made.resize(WALL)


@pytest.fixture
def tablet(browser, screen, redis_client):
    yield from fresh_tablet(browser, screen, redis_client, LANDSCAPE)


@pytest.fixture
def other_tablet(second_browser, screen, redis_client):
    yield from fresh_tablet(second_browser, screen, redis_client, PORTRAIT)


def report(redis_client, keys, patrol_id, lat, lon, status="available"):
    redis_client.xadd(keys.in_patrols, patrol(patrol_id, lat, lon, status))


def scene(redis_client, keys, *, note="Groupe devant le hall B", priority=1, drone_id="DR-07",
          at=(48.1155, -1.6735)) -> dict:
    """A drone and an open sighting it reported, in the picture."""
    redis_client.xadd(keys.in_telemetry, telemetry(drone_id, at[0] + 0.0004, at[1]))
    seen = sighting(*at, priority=priority, note=note, category="gathering")
    seen["drone_id"] = drone_id
    redis_client.xadd(keys.in_sightings, seen)
    wait_until(lambda: redis_client.hexists(keys.sightings, seen["sighting_id"]), what="the sighting ingested")
    return seen


def available(redis_client, keys, *patrol_ids):
    wait_until(lambda: all(redis_client.zscore(keys.patrols_available, p) is not None for p in patrol_ids),
               what=f"{patrol_ids} available in the picture")


def on_duty(redis_client, keys) -> None:
    """BAC-12 reports in at RENNES, and the picture has it available."""
    report(redis_client, keys, "BAC-12", *RENNES)
    available(redis_client, keys, "BAC-12")


def assign_to_tablet(tablet, redis_client, keys, sighting: dict, timeout: float = 10.0):
    """SUP-1 sends BAC-12 to `sighting`; returns the assignment and the tablet's state once it shows it."""
    created = assign(redis_client, keys, sighting_id=sighting["sighting_id"], patrol_id="BAC-12", supervisor_id="SUP-1")
    shown = tablet.wait(lambda s: s["assignment"] == created.assignment_id, timeout=timeout, what="the assignment")
    return created, shown


def sent_on_a_sighting(tablet, redis_client, keys):
    """BAC-12 on duty and signed in on `tablet`, then sent to a fresh sighting: (assignment, tablet state)."""
    on_duty(redis_client, keys)
    seen = scene(redis_client, keys)
    tablet.sign_in("BAC-12")
    return assign_to_tablet(tablet, redis_client, keys, seen)


def states(redis_client, keys, assignment_id) -> list[str]:
    return [fields[b"state"].decode() for _, fields in redis_client.xrange(keys.assignments)
            if fields[b"assignment_id"].decode() == assignment_id]


# ----------------------------------------------------------------------------- push, right tablet only

def test_an_assignment_reaches_its_tablet_within_a_second_and_no_other(tablet, other_tablet, screen, redis_client):
    keys = screen.keys
    report(redis_client, keys, "BAC-12", *RENNES)
    report(redis_client, keys, "GN-4", RENNES[0] - 0.01, RENNES[1])
    available(redis_client, keys, "BAC-12", "GN-4")
    note = '<img id="injected" src="x" onerror="document.title=1"> devant le hall B'
    seen = scene(redis_client, keys, note=note)
    tablet.sign_in("BAC-12")  # landscape, 1280x800
    other_tablet.sign_in("GN-4")  # portrait, 800x1280
    assert tablet.state()["status"] == "available" and tablet.state()["enabled"] == ["unavailable"]
    tablet.js(f"document.getElementById('{tablet_ids.SOUND}').click()")
    wait_until(lambda: tablet.js("return dispatchTablet.alert.soundOn"), what="sound enabled by the tap")

    sent = time.monotonic()
    created = assign(redis_client, keys, sighting_id=seen["sighting_id"], patrol_id="BAC-12", supervisor_id="SUP-1")
    shown = tablet.wait(lambda s: s["assignment"] == created.assignment_id, timeout=3, what="the assignment")
    elapsed = time.monotonic() - sent
    assert elapsed < 1.0, f"the assignment took {elapsed:.2f} s to show"
    assert shown["alerting"] and shown["state"] == "assigned" and shown["status"] == "assigned"
    assert shown["enabled"] == ["acknowledge", "en_route"] and shown["shown"] == [
        "acknowledge", "en_route", "on_scene", "clear"]
    shown = tablet.wait(lambda s: "drone:DR-07" in s["markers"] and s["direction"], what="target and drone on map")
    assert "Gathering" in shown["target"] and "PRIORITY 1" in shown["target"] and note in shown["target"]
    assert tablet.js("return document.getElementById('injected')") is None, "the note is text, never HTML"
    assert sorted(shown["markers"]) == sorted(["self:BAC-12", f"target:{seen['sighting_id']}", "drone:DR-07"])
    expected = target_text(*RENNES, seen["lat"], seen["lon"])
    assert shown["direction"] == expected and expected.endswith("north-east")
    wait_until(lambda: tablet.js("return dispatchTablet.alert.beeps") >= 1, what="a beep")
    redis_client.xadd(keys.in_telemetry, telemetry("DR-07", seen["lat"] + 0.002, seen["lon"]))
    wait_until(lambda: tablet.js("return dispatchTablet.drone().lat") == seen["lat"] + 0.002, timeout=6,
               what="the drone over the scene to move on the tablet")

    time.sleep(1.0)  # time for a wrong delivery to show, if there were one
    other = other_tablet.state()
    assert other["assignment"] == "" and other["status"] == "available" and not other["alerting"]
    assert other["markers"] == ["self:GN-4"] and seen["note"] not in other["target"]
    leaked = other_tablet.js("""const s = dispatchTablet.server;
        return {assignments: s.assignments.size, patrols: s.patrol ? [s.patrol.patrol_id] : []}""")
    assert leaked == {"assignments": 0, "patrols": ["GN-4"]}

    tablet.tap("acknowledge")
    acknowledged = tablet.wait(lambda s: s["state"] == "acknowledged" and not s["alerting"], timeout=2,
                               what="acknowledged, alert stopped")
    assert acknowledged["enabled"] == ["en_route"]
    beeps = tablet.js("return dispatchTablet.alert.beeps")
    time.sleep(2.5)
    assert tablet.js("return dispatchTablet.alert.beeps") == beeps, "no beep once acknowledged"
    assert states(redis_client, keys, created.assignment_id) == ["assigned", "acknowledged"]


# ----------------------------------------------------------------------------- the supervisor sees each step

def supervisor_screen(driver, stack) -> Screen:
    """The supervisor's wall screen; `second_browser` is signed in as SUP-2 by the harness."""
    return Screen(driver, stack.url).open()


def test_each_step_from_the_tablet_shows_on_the_supervisor_screen(tablet, second_browser, screen, redis_client):
    keys = screen.keys
    on_duty(redis_client, keys)
    seen = scene(redis_client, keys)
    supervisor = supervisor_screen(second_browser, screen)
    tablet.sign_in("BAC-12")
    created, _ = assign_to_tablet(tablet, redis_client, keys, seen)

    def queue_state():
        rows = [row for row in supervisor.queue() if row["id"] == seen["sighting_id"]]
        return rows[0]["state"].lower() if rows else None

    for action, state, words, status in [("acknowledge", "acknowledged", "acknowledged", "assigned"),
                                         ("en_route", "en_route", "en route", "en_route"),
                                         ("on_scene", "on_scene", "on scene", "on_scene")]:
        tablet.tap(action)
        tablet.wait(lambda s: s["state"] == state and s["ok"] == "true", what=f"{action} confirmed")
        wait_until(lambda: words in (queue_state() or ""), timeout=3, what=f"{words} on the supervisor's queue")
        supervisor.wait_marker("BAC-12", lambda m: m["status"] == status, timeout=3,
                               what=f"BAC-12 {status} on the supervisor's map")
    tablet.tap("clear")
    assert tablet.js(f"return document.getElementById('{tablet_ids.OUTCOMES}').hidden") is False, "outcomes asked first"
    assert states(redis_client, keys, created.assignment_id)[-1] == "on_scene"
    tablet.tap_outcome("dispersed")
    cleared = tablet.wait(lambda s: s["assignment"] == "" and s["status"] == "available" and s["ok"] == "true",
                          what="cleared, and the server's answer")
    assert cleared["enabled"] == ["unavailable"] and "Cleared (dispersed)" in cleared["message"]
    wait_until(lambda: queue_state() is None, timeout=3, what="the sighting to leave the supervisor's queue")
    supervisor.wait_marker("BAC-12", lambda m: m["status"] == "available", timeout=3, what="BAC-12 available again")
    assert states(redis_client, keys, created.assignment_id) == [
        "assigned", "acknowledged", "en_route", "on_scene", "cleared"]


def test_an_illegal_step_sent_anyway_is_refused_with_the_rule(tablet, screen, redis_client):
    keys = screen.keys
    created, shown = sent_on_a_sighting(tablet, redis_client, keys)
    assert "on_scene" not in shown["enabled"]
    tablet.tap("on_scene")  # disabled: the tap does nothing
    time.sleep(0.3)
    assert tablet.js("return dispatchTablet.outbox.sent") == 0
    tablet.js("dispatchTablet.act('on_scene', {force: true})")  # as a stale or tampered page would send it
    refused = tablet.wait(lambda s: s["ok"] == "false", what="the refusal")
    assert refused["message"] == "cannot go from assigned to on_scene: report en route first"
    assert refused["state"] == "assigned" and refused["waiting"] == 0
    assert states(redis_client, keys, created.assignment_id) == ["assigned"]


def test_a_status_change_and_the_tablets_own_position(tablet, screen, redis_client):
    keys = screen.keys
    on_duty(redis_client, keys)
    here = (48.1172, -1.6655)
    tablet.cdp("Browser.grantPermissions", origin=screen.url, permissions=["geolocation"])
    tablet.cdp("Emulation.setGeolocationOverride", latitude=here[0], longitude=here[1], accuracy=8)
    since = f"{int(time.time() * 1000)}-0"  # the input stream outlives each test's picture
    tablet.sign_in("BAC-12")
    tablet.tap("unavailable")
    shown = tablet.wait(lambda s: s["status"] == "unavailable" and s["ok"] == "true", what="unavailable")
    assert shown["enabled"] == ["available"]
    wait_until(lambda: redis_client.zscore(keys.patrols_available, "BAC-12") is None, timeout=3,
               what="BAC-12 out of the available set")

    def reports():
        return [{k.decode(): v.decode() for k, v in fields.items()} for _, fields in redis_client.xrange(keys.in_patrols, min=since)
                if fields[b"patrol_id"] == b"BAC-12" and fields[b"lat"] == str(here[0]).encode()]

    sent = wait_until(reports, timeout=10, what="a position report from the tablet's geolocation")
    assert set(sent[-1]) == {"patrol_id", "ts", "lat", "lon", "status"}
    assert (sent[-1]["lon"], sent[-1]["status"]) == (str(here[1]), "unavailable")
    wait_until(lambda: tablet.js("return dispatchTablet.position.reports") >= 1, what="the report accepted")


# ----------------------------------------------------------------------------- offline, then exactly once

def test_actions_taken_offline_wait_survive_a_reload_and_apply_once(tablet, screen, redis_client):
    keys = screen.keys
    created, _ = sent_on_a_sighting(tablet, redis_client, keys)

    screen.stop_gateway()  # the socket goes down for real
    tablet.cdp("Network.setBlockedURLs", urls=["*/api/patrol/*"])  # and the API is unreachable from the page
    tablet.tap("acknowledge")
    tablet.wait(lambda s: s["state"] == "acknowledged", timeout=2, what="acknowledged at once, offline")
    tablet.tap("en_route")
    offline = tablet.wait(lambda s: s["link"] == "offline" and s["waiting"] == 2, what="offline, two waiting")
    assert offline["linkText"] == "Offline — 2 actions waiting"
    assert offline["state"] == "en_route" and offline["status"] == "en_route" and not offline["alerting"]
    assert states(redis_client, keys, created.assignment_id) == ["assigned"], "nothing reached the server"
    queued = tablet.js("return dispatchTablet.outbox.items()")
    assert [item["action"] for item in queued] == ["acknowledge", "en_route"]

    tablet.driver.refresh()  # the page loads (only /api/patrol/* is blocked); the outbox is in localStorage
    reloaded = tablet.wait_started(live=False).wait(lambda s: s["link"] == "offline", what="offline after reload")
    assert reloaded["waiting"] == 2 and reloaded["state"] == "en_route"
    assert reloaded["linkText"] == "Offline — 2 actions waiting"
    assert states(redis_client, keys, created.assignment_id) == ["assigned"]

    tablet.cdp("Network.setBlockedURLs", urls=[])
    screen.start_gateway()
    back = tablet.wait(lambda s: s["link"] == "live" and s["waiting"] == 0, timeout=25, what="back online, sent")
    assert back["state"] == "en_route"
    assert states(redis_client, keys, created.assignment_id) == ["assigned", "acknowledged", "en_route"]

    # A reply lost on its way back looks like this to the tablet: the same actions, still to be sent.
    sent = tablet.js("return dispatchTablet.outbox.sent")
    tablet.js("arguments[0].forEach(item => dispatchTablet.outbox.push(item))", queued)
    tablet.wait(lambda s: s["waiting"] == 0, what="the copies answered")
    assert tablet.js("return dispatchTablet.outbox.sent") == sent + 2
    assert tablet.js("return dispatchTablet.outbox.lastAnswer")["replayed"] is True
    assert states(redis_client, keys, created.assignment_id) == ["assigned", "acknowledged", "en_route"]
    assert tablet.state()["state"] == "en_route"


def test_waiting_actions_stay_with_their_patrol_across_sign_out_and_another_crew(tablet, screen, redis_client):
    keys = screen.keys
    for patrol_id, lat in (("BAC-12", RENNES[0]), ("GN-4", RENNES[0] - 0.01)):
        report(redis_client, keys, patrol_id, lat, RENNES[1])
    available(redis_client, keys, "BAC-12", "GN-4")
    since = f"{int(time.time() * 1000)}-0"  # the input stream outlives each test's picture

    def unavailable_reports():
        return [f[b"patrol_id"] for _, f in redis_client.xrange(keys.in_patrols, min=since)
                if f[b"status"] == b"unavailable"]

    tablet.sign_in("BAC-12")
    tablet.cdp("Network.setBlockedURLs", urls=["*/api/patrol/*"])
    tablet.tap("unavailable")
    tablet.wait(lambda s: s["waiting"] == 1 and s["status"] == "unavailable", what="queued offline")
    tablet.js(f"document.getElementById('{tablet_ids.SIGN_OUT}').click()")
    warning = wait_until(lambda: _alert(tablet.driver), what="the warning about the waiting action")
    assert "1 action has not reached the server yet" in warning.text
    warning.accept()
    wait_until(lambda: "/login/patrol" in tablet.driver.current_url, what="the sign-in page after signing out")
    tablet.cdp("Network.setBlockedURLs", urls=[])

    tablet.sign_in("GN-4")  # another crew on the same tablet: BAC-12's action is not theirs to send
    assert tablet.state()["waiting"] == 0 and tablet.state()["status"] == "available"
    time.sleep(1.0)
    assert unavailable_reports() == []

    tablet.js(f"document.getElementById('{tablet_ids.SIGN_OUT}').click()")
    wait_until(lambda: "/login/patrol" in tablet.driver.current_url, what="GN-4 signed out")
    tablet.sign_in("BAC-12")  # its own crew back: the action goes, once
    tablet.wait(lambda s: s["waiting"] == 0 and s["status"] == "unavailable", what="BAC-12's action sent")
    wait_until(lambda: redis_client.zscore(keys.patrols_available, "BAC-12") is None, what="BAC-12 unavailable")
    assert unavailable_reports() == [b"BAC-12"]


def _alert(driver):
    from selenium.common.exceptions import NoAlertPresentException
    try:
        return driver.switch_to.alert
    except NoAlertPresentException:
        return None


# ----------------------------------------------------------------------------- layout and texts

@pytest.mark.parametrize("size", [LANDSCAPE, PORTRAIT])
def test_touch_targets_and_layout_at_tablet_size(tablet, screen, redis_client, size):
    keys = screen.keys
    on_duty(redis_client, keys)
    seen = scene(redis_client, keys)
    tablet.size = size
    tablet.sign_in("BAC-12")
    assign_to_tablet(tablet, redis_client, keys, seen)
    boxes = tablet.js("""return Array.from(document.querySelectorAll('.tablet button')).filter(b => b.offsetParent)
        .map(b => { const r = b.getBoundingClientRect(); return {text: b.innerText, w: r.width, h: r.height}; })""")
    assert len(boxes) >= 5
    assert all(b["w"] >= 64 and b["h"] >= 64 for b in boxes), boxes
    page = tablet.js("""const m = document.querySelector('.tablet-map').getBoundingClientRect();
        const p = document.querySelector('.tab-panel').getBoundingClientRect();
        return {scrollW: document.documentElement.scrollWidth, innerW: innerWidth, map: [m.left, m.top, m.width, m.height],
                panel: [p.left, p.top, p.width, p.height],
                font: parseFloat(getComputedStyle(document.querySelector('.tab-callsign')).fontSize)}""")
    assert page["scrollW"] <= page["innerW"], "no sideways scrolling"
    assert page["font"] >= 40, "the call sign reads from arm's length"
    if size == LANDSCAPE:
        assert page["panel"][0] >= page["map"][0] + page["map"][2] - 1, "map left, panel right"
    else:
        assert page["panel"][1] >= page["map"][1] + page["map"][3] - 1, "map above, panel below"
    assert page["map"][2] > 300 and page["map"][3] > 300


@pytest.mark.parametrize("scheme, dark", [("dark", True), ("light", False)])
def test_it_follows_the_devices_light_or_dark_mode(tablet, screen, redis_client, scheme, dark):
    report(redis_client, screen.keys, "BAC-12", *RENNES)
    tablet.cdp("Emulation.setEmulatedMedia", media="", features=[{"name": "prefers-color-scheme", "value": scheme}])
    tablet.sign_in("BAC-12")
    colours = tablet.js("""const s = getComputedStyle(document.querySelector('.tablet'));
        return [s.backgroundColor, s.color].map(c => c.match(/\\d+/g).slice(0, 3).map(Number))""")
    background, text = (sum(rgb) / 3 for rgb in colours)
    assert (background < 60 and text > 200) if dark else (background > 230 and text < 40), colours


def test_the_pages_texts_match_the_servers(tablet, screen, redis_client):
    report(redis_client, screen.keys, "BAC-12", *RENNES)
    tablet.sign_in("BAC-12")
    bearings = [0, 22.49, 22.5, 67.5, 90, 181, 247.4, 292.6, 337.49, 337.5, 359.99, -10, 725]
    distances = [0, 44, 45, 649, 994, 995, 1_240, 1_250, 9_949, 9_950, 12_500]
    ages = [0, 999, 42_000, 60_000, 239_000, 3_600_000, 3_900_000, -4_000]
    targets = [tuple(float(x) for x in geo.destination(*RENNES, m, b)) for m, b in
               [(650, 45), (1_200, 180), (19, 90), (3_000, 290), (25, 0), (8_000, 135)]]
    page = tablet.js("""const [bs, ds, as, ts, here] = arguments; const t = dispatchTablet.text;
        return {b: bs.map(t.compassPoint), d: ds.map(t.distanceWords), a: as.map(t.age),
                t: ts.map(p => t.target(here[0], here[1], p[0], p[1]))}""",
                     bearings, distances, ages, targets, list(RENNES))
    assert page == {"b": [compass_point(b) for b in bearings], "d": [distance_words(d) for d in distances],
                    "a": [age_text(a) for a in ages], "t": [target_text(*RENNES, *p) for p in targets]}


def test_an_unsigned_visitor_is_sent_to_sign_in(browser, screen):
    browser.execute_cdp_cmd("Network.clearBrowserCookies", {})
    browser.get(screen.url + "/patrol")
    wait_until(lambda: "/login" in browser.current_url, what="the redirect to sign-in")
    assert browser.find_elements(By.ID, "patrol_id") or browser.find_elements(By.ID, "user_id")


def test_a_supervisor_issues_a_tablet_code_that_signs_the_tablet_in(tablet, second_browser, screen, redis_client):
    report(redis_client, screen.keys, "BAC-12", *RENNES)
    supervisor = supervisor_screen(second_browser, screen)
    supervisor.js(f"document.getElementById('{screen_ids.CODES_PANEL}').open = true")
    second_browser.find_element(By.ID, screen_ids.CODES_PATROL).send_keys("bac-12")
    second_browser.find_element(By.ID, screen_ids.CODES_ISSUE).click()
    code = wait_until(lambda: supervisor.js(f"return document.querySelector('#{screen_ids.CODES_RESULT} [data-code]')?.dataset.code"),
                      what="the code on the supervisor's screen")
    assert len(code) == 6 and code.isdigit()
    assert "Tablet code for BAC-12" in supervisor.text(screen_ids.CODES_RESULT)
    assert tablet.sign_in("BAC-12", code=code).state()["statusText"] == "AVAILABLE"


def test_ids_are_unguessable(tablet, screen, redis_client):
    report(redis_client, screen.keys, "BAC-12", *RENNES)
    tablet.sign_in("BAC-12")
    made = tablet.js("return [dispatchTablet.act('unavailable'), dispatchTablet.act('available')]")
    assert all(uuid.UUID(value).version == 4 for value in made) and made[0] != made[1]
    tablet.wait(lambda s: s["waiting"] == 0 and s["status"] == "available", what="both applied")


# ----------------------------------------------------------------------------- taken back, then a new one

def test_a_reassignment_is_said_with_the_number_and_a_new_assignment_clears_old_lines(tablet, screen, redis_client):
    from dispatch.store.assignments import reassign
    keys = screen.keys
    report(redis_client, keys, "BAC-12", *RENNES)
    report(redis_client, keys, "GN-4", RENNES[0] - 0.01, RENNES[1])
    available(redis_client, keys, "BAC-12", "GN-4")
    first = scene(redis_client, keys)
    number = orjson.loads(redis_client.hget(keys.sightings, first["sighting_id"]))["number"]
    tablet.sign_in("BAC-12")
    created = assign(redis_client, keys, sighting_id=first["sighting_id"], patrol_id="BAC-12", supervisor_id="SUP-1")
    tablet.wait(lambda s: s["assignment"] == created.assignment_id and number in s["target"], timeout=5,
                what="the first assignment with its number")
    tablet.tap("acknowledge")
    tablet.wait(lambda s: s["state"] == "acknowledged" and s["ok"] == "true" and s["message"], what="an answer line")

    reassign(redis_client, keys, assignment_id=created.assignment_id, new_patrol_id="GN-4", supervisor_id="SUP-1")
    taken = tablet.wait(lambda s: s["assignment"] == "" and s["ok"] == "false", timeout=3,
                        what="the crew told the assignment was taken back")
    assert taken["message"] == (f"Assignment to {number} cancelled by the supervisor: "
                                "do not go there, you are no longer sent")

    second = scene(redis_client, keys, drone_id="DR-08", at=(48.1175, -1.6755))
    available(redis_client, keys, "BAC-12")
    _, shown = assign_to_tablet(tablet, redis_client, keys, second, timeout=3)
    assert shown["message"] == "" and shown["ok"] is None, shown
