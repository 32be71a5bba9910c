"""The administrator's accounts page in a real Chromium, served by gunicorn, signed in as ADM-1.

What is checked is what a person sees and does: the form typed into and
submitted with Enter or a click, the table's rows, the messages, the
confirmation step before a deletion; then what that did (Redis, and a deleted
user's other browser session refused). A code carrying an HTML payload is
refused with the message shown literally, creating no element and running
nothing.
"""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys as Key

from dispatch.domain.audit import Action
from dispatch.domain.auth import Throttle
from dispatch.store import accounts
from dispatch.store import audit as audit_store
from dispatch.ui.pages.accounts import ids as A
from dispatch.web.auth import SESSION_COOKIE
from tests.browser.chromium import WALL_SCREEN, sign_in_browser
from tests.browser.test_layout import PROBLEMS
from tests.support.processes import wait_until
from dispatch.ui.pages.accounts import ids as accounts_ids

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
PAYLOAD = "<img src=x onerror=window.__xss=1>"


@pytest.fixture
def admin(anonymous_browser, web, settings, redis_client, keys):
    """Chromium on /admin, signed in as ADM-1 (who has an account: the last administrator stays)."""
    accounts.create_account(redis_client, keys, user_id="ADM-1", role="administrator", password=PASSWORD)
    accounts.create_account(redis_client, keys, user_id="SUP-5", role="supervisor", password=PASSWORD)
    driver = anonymous_browser
    sign_in_browser(driver, settings, user_id="ADM-1", role="administrator")
    driver.get(f"{web}/admin")
    wait_until(lambda: row(driver, "SUP-5"), timeout=15, what="the accounts table")
    return driver


def row(driver, user_id: str):
    """The account's row of the grid (AG Grid names each row by its row-id: the account's code)."""
    found = driver.find_elements(By.CSS_SELECTOR, f'#{A.TABLE} div[role="row"][row-id="{user_id}"]')
    return found[0] if found else None


def text_of(driver, element_id: str) -> str:
    return driver.execute_script(f"const e = document.getElementById('{element_id}'); return e ? e.textContent : ''")


def fill(driver, element_id: str, value: str) -> None:
    """Replace a field's text as a person does (select all, type): React keeps a controlled input's value
    through selenium's clear()."""
    field = driver.find_element(By.ID, element_id)
    field.send_keys(Key.CONTROL, "a")
    field.send_keys(Key.BACK_SPACE)
    field.send_keys(value)


def status(url: str, session_id: str) -> int:
    request = urllib.request.Request(url, headers={"Cookie": f"{SESSION_COOKIE}={session_id}"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_an_account_created_with_the_form_appears_in_the_table(admin, redis_client, keys):
    fill(admin, A.CODE, "SUP-3")
    fill(admin, A.PASSWORD, PASSWORD)
    fill(admin, A.PASSWORD_CONFIRM, PASSWORD + Key.ENTER)  # Enter submits
    wait_until(lambda: text_of(admin, A.CREATE_MESSAGE).startswith("SUP-3 can now sign in as supervisor"),
               timeout=10, what="the confirmation")
    new = wait_until(lambda: row(admin, "SUP-3"), timeout=10, what="the new row")
    assert "supervisor" in new.text and "just now" in new.text
    for field in (A.PASSWORD, A.PASSWORD_CONFIRM):
        element = admin.find_element(By.ID, field)
        assert element.get_attribute("type") == "password" and element.get_attribute("value") == ""
    assert accounts.verify_password(redis_client, keys, user_id="SUP-3", password=PASSWORD)

    fill(admin, A.CODE, "SUP-4")
    fill(admin, A.PASSWORD, "short")
    fill(admin, A.PASSWORD_CONFIRM, "short")
    admin.find_element(By.ID, A.CREATE).click()
    wait_until(lambda: text_of(admin, A.CREATE_MESSAGE) == "The password must have at least 12 characters",
               timeout=10, what="the password rule")
    assert admin.find_element(By.ID, A.CODE).get_attribute("value") == "SUP-4", "kept, to be corrected"
    assert admin.find_element(By.ID, A.PASSWORD).get_attribute("value") == ""
    assert accounts.get_account(redis_client, keys, "SUP-4") is None


def test_an_html_payload_as_a_code_is_refused_and_shown_as_text(admin, redis_client, keys):
    fill(admin, A.CODE, PAYLOAD)
    fill(admin, A.PASSWORD, PASSWORD)
    fill(admin, A.PASSWORD_CONFIRM, PASSWORD)
    admin.find_element(By.ID, A.CREATE).click()
    expected = f"{PAYLOAD!r} is not a supervisor code: supervisor codes are SUP-n"
    wait_until(lambda: text_of(admin, A.CREATE_MESSAGE) == expected, timeout=10, what="the refusal, as text")
    assert admin.execute_script("return typeof window.__xss") == "undefined", "the payload's script ran"
    assert admin.execute_script(f"return document.querySelectorAll('#{A.ROOT} img').length") == 0
    assert [a.user_id for a in accounts.list_accounts(redis_client, keys)] == ["ADM-1", "SUP-5"]


def test_deleting_needs_the_code_typed_again_and_ends_the_users_sessions(admin, web, redis_client, keys):
    elsewhere, _ = accounts.create_session(redis_client, keys, user_id="SUP-5", role="supervisor")
    assert status(f"{web}/api/snapshot", elsewhere) == 200
    assert row(admin, "ADM-1").find_element(By.CSS_SELECTOR, ".ad-btn-danger").get_attribute("disabled"), (
        "one's own account offers no Delete")

    row(admin, "SUP-5").find_element(By.CSS_SELECTOR, ".ad-btn-danger").click()
    panel = admin.find_element(By.ID, A.PANEL)
    wait_until(panel.is_displayed, timeout=10, what="the confirmation panel")
    assert text_of(admin, A.PANEL_TITLE) == "Delete SUP-5?"
    fill(admin, A.CONFIRM_CODE, "SUP-6" + Key.ENTER)
    wait_until(lambda: text_of(admin, A.PANEL_MESSAGE) == "Type SUP-5 in the box to confirm the deletion",
               timeout=10, what="the code to be typed")
    assert row(admin, "SUP-5") and accounts.get_account(redis_client, keys, "SUP-5")

    fill(admin, A.CONFIRM_CODE, "SUP-5")
    admin.find_element(By.ID, A.DELETE_GO).click()
    wait_until(lambda: row(admin, "SUP-5") is None, timeout=10, what="the row to go")
    assert text_of(admin, A.MESSAGE) == "SUP-5 is deleted; its open session ended."
    assert not panel.is_displayed()
    assert status(f"{web}/api/snapshot", elsewhere) == 401, "the deleted user's session is refused"
    assert accounts.get_account(redis_client, keys, "SUP-5") is None


def test_an_administrator_lifts_a_sign_in_delay_with_one_click(admin, web, redis_client, keys):
    """Issue 10: an account slowed by someone's guesses is shown as such, and one click gives it back."""
    guessing = accounts.attempt_for("10.0.0.66", "SUP-5")
    throttle = Throttle(free_failures=0, first_delay_ms=600_000)
    accounts.gate(redis_client, keys, guessing, throttle)
    assert accounts.gate(redis_client, keys, guessing, throttle).scope == "account"
    admin.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                          {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False})
    try:  # the narrowest staff screen
        admin.get(f"{web}/admin")
        slowed = wait_until(lambda: row(admin, "SUP-5"), timeout=15, what="the accounts table")
        assert "slowed: 1 failed attempt, next attempt in 10 min" in slowed.text
        assert admin.execute_script(PROBLEMS) == [], "the new column fits at 1280 px"
    finally:  # back to the wall screen's viewport the shared browser is pinned to (clearing would leave
        # the window's own, smaller by its frame, to the next test module)
        admin.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": WALL_SCREEN[0], "height": WALL_SCREEN[1],
                                                                    "deviceScaleFactor": 1, "mobile": False})
    assert row(admin, "ADM-1").find_elements(By.CSS_SELECTOR, f"button[data-action='{accounts_ids.UNLOCK}']") == []
    slowed.find_element(By.XPATH, ".//button[normalize-space()='Lift sign-in delay']").click()
    wait_until(lambda: text_of(admin, A.MESSAGE) == "SUP-5 can sign in again at once: 1 failed attempt cleared.",
               timeout=10, what="the confirmation")
    wait_until(lambda: "normal" in row(admin, "SUP-5").text, timeout=10, what="the row drawn again")
    assert accounts.gate(redis_client, keys, guessing, throttle).allowed
    (entry,) = [e for e in audit_store.read(redis_client, keys) if e.action is Action.ACCOUNT_UNLOCKED]
    assert (entry.actor, entry.target) == ("ADM-1", "SUP-5")


def test_the_row_buttons_are_reached_and_pressed_with_the_keyboard(admin):
    """The grid's buttons are real buttons: Tab goes from one to the next (a disabled one skipped), Enter
    presses it, and when the panel closes the focus is back on the table's first button."""
    first = row(admin, "ADM-1").find_element(By.CSS_SELECTOR, "button[data-action]")
    assert first.get_attribute("aria-label") == "Reset the password of ADM-1"
    assert first.size["height"] >= 44, "a large touch target"
    admin.execute_script("arguments[0].focus()", first)
    admin.switch_to.active_element.send_keys(Key.TAB)  # ADM-1's own Delete is disabled: SUP-5's Reset is next
    assert admin.switch_to.active_element.get_attribute("aria-label") == "Reset the password of SUP-5"
    admin.switch_to.active_element.send_keys(Key.ENTER)
    wait_until(lambda: text_of(admin, A.PANEL_TITLE) == "New password for SUP-5", timeout=10, what="the panel")
    panel = admin.find_element(By.ID, A.PANEL)
    assert panel.is_displayed()
    admin.find_element(By.ID, A.CANCEL).send_keys(Key.ENTER)
    wait_until(lambda: not panel.is_displayed(), timeout=10, what="the panel closed")
    wait_until(lambda: admin.switch_to.active_element.get_attribute("aria-label") == "Reset the password of ADM-1",
               timeout=5, what="the focus back on the table")
    problems = [entry for entry in admin.get_log("browser") if entry["level"] == "SEVERE"]
    assert problems == [], problems
