"""Signing in through the real forms in Chromium: a supervisor reaches a live screen, signs out; a patrol
signs in with the code a supervisor issued, at a tablet's size; the wrong page says who is signed in."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from dispatch.store import accounts
from tests.browser.screen import Screen
from tests.support.processes import wait_until

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
TABLET = {"width": 800, "height": 1280, "deviceScaleFactor": 1, "mobile": True}
WALL = {"width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False}


def path_of(driver) -> str:
    return driver.execute_script("return location.pathname + location.search")


def type_and_submit(driver, fields: dict[str, str]) -> None:
    for element_id, value in fields.items():
        box = driver.find_element(By.ID, element_id)
        box.clear()
        box.send_keys(value)
    driver.find_element(By.ID, "signin-submit").click()


def csp_violations(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser")
            if "Content Security Policy" in e["message"] or "Refused to" in e["message"]]


def test_a_supervisor_signs_in_through_the_form_sees_the_live_screen_then_signs_out(anonymous_browser, screen,
                                                                                    redis_client):
    driver = anonymous_browser
    accounts.create_account(redis_client, screen.keys, user_id="SUP-1", role="supervisor", password=PASSWORD,
                            replace=True)
    driver.get(screen.url + "/")
    wait_until(lambda: path_of(driver) == "/login?next=/", timeout=10, what="the redirect to sign in")
    type_and_submit(driver, {"user_id": "SUP-1", "password": "not the password"})
    wait_until(lambda: driver.find_elements(By.ID, "signin-error"), timeout=10, what="the refusal")
    assert "wrong password" in driver.find_element(By.ID, "signin-error").text
    assert driver.find_element(By.ID, "user_id").get_attribute("value") == "SUP-1"
    type_and_submit(driver, {"password": PASSWORD})
    wait_until(lambda: path_of(driver) == "/", timeout=10, what="the supervisor screen")
    page = Screen(driver, screen.url)
    wait_until(lambda: page.js("return !!(window.dispatchScreen && dispatchScreen.started)"), timeout=15,
               what="the screen's scripts")
    wait_until(lambda: page.link()["state"] == "live", timeout=10, what="the live socket (session cookie sent)")
    assert csp_violations(driver) == [], "the CSP blocked something the screen needs"
    # ...and it does block what an injected note would try (proves the check above can see a violation).
    page.js("const s = document.createElement('script'); s.textContent = 'window.injected = 1';"
            "document.body.appendChild(s);")
    assert page.js("return window.injected") is None
    wait_until(lambda: csp_violations(driver), timeout=5, what="the blocked inline script in the console")
    # Signing out from a page script, as documented: the _csrf_token cookie's value in X-CSRFToken.
    status = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const token = document.cookie.match(/(?:^|; )_csrf_token=([^;]*)/)[1];
        fetch('/logout', {method: 'POST', headers: {'X-CSRFToken': token}, redirect: 'manual'})
          .then(r => done(r.type === 'opaqueredirect' ? 303 : r.status));""")
    assert status == 303
    driver.get(screen.url + "/")
    wait_until(lambda: path_of(driver).startswith("/login"), timeout=10, what="the sign-in page again")


def test_a_patrol_signs_in_with_its_code_on_a_tablet_and_is_kept_off_the_supervisor_screen(anonymous_browser, screen,
                                                                                           redis_client):
    driver = anonymous_browser
    code = accounts.issue_patrol_code(redis_client, screen.keys, patrol_id="BAC-12", issued_by="SUP-1")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", TABLET)
    try:
        driver.get(screen.url + "/login/patrol")
        code_box = driver.find_element(By.ID, "code")
        assert code_box.get_attribute("inputmode") == "numeric"
        sizes = driver.execute_script("""
            const px = (el, prop) => parseFloat(getComputedStyle(el)[prop]);
            const box = document.getElementById('code'), button = document.getElementById('signin-submit');
            return {font: px(box, 'fontSize'), box: box.getBoundingClientRect().height,
                    button: button.getBoundingClientRect().height, width: button.getBoundingClientRect().width,
                    overflow: document.documentElement.scrollWidth > innerWidth};""")
        assert sizes["font"] >= 20 and sizes["box"] >= 56 and sizes["button"] >= 56, sizes
        assert sizes["width"] >= 400 and not sizes["overflow"], sizes
        type_and_submit(driver, {"patrol_id": "bac-12", "code": code})
        wait_until(lambda: path_of(driver) == "/patrol", timeout=10, what="the tablet page")
        driver.get(screen.url + "/")
        wait_until(lambda: driver.find_elements(By.ID, "forbidden-message"), timeout=10, what="the 403 page")
        assert "Signed in as BAC-12 (patrol)" in driver.find_element(By.ID, "signed-in-as").text
        driver.find_element(By.ID, "signout-submit").click()
        wait_until(lambda: path_of(driver) == "/login/patrol?signed_out=1", timeout=10, what="signed out")
        assert "Signed out" in driver.find_element(By.ID, "signin-notice").text
        type_and_submit(driver, {"patrol_id": "BAC-12", "code": code})
        wait_until(lambda: driver.find_elements(By.ID, "signin-error"), timeout=10, what="the used code refused")
        assert "already used" in driver.find_element(By.ID, "signin-error").text
    finally:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", WALL)
