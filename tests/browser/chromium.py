"""Headless Debian Chromium and sign-in without the form: shared by the browser tests' fixtures
(tests/browser/conftest.py) and the benchmarks that measure in a browser (bench/latency.py, bench/tablet.py).

Tools that download their own browser do not work on these machines: this is Debian's chromium and
chromium-driver, which `make test` installs (scripts/ensure-browser).
"""

from __future__ import annotations

import os
import tempfile

from dispatch.keys import Keys
from dispatch.settings import Settings
from dispatch.store import accounts
from dispatch.store.connection import connect
from dispatch.web.auth import CSRF_COOKIE, SESSION_COOKIE

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WALL_SCREEN = (1920, 1080)
TABLET = (1280, 800)


class ChromiumMissing(RuntimeError):
    """chromium or chromedriver is not installed; the message says how to get them."""


def start_chromium(viewport: tuple[int, int] = WALL_SCREEN, *, log_console: bool = True):
    """A headless Chromium with its own profile directory, the viewport pinned to `viewport`.
    Returns (driver, profile directory); quit the driver and remove the directory when done."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if missing:
        raise ChromiumMissing(
            f"browser tests need {' and '.join(missing)}: run `make test`, which installs "
            "Debian's chromium and chromium-driver (apt-get install -y chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service as DriverService

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", f"--window-size={viewport[0]},{viewport[1]}", "--force-device-scale-factor=1",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    if log_console:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=DriverService(CHROMEDRIVER), options=options)
    # --window-size counts the (invisible) window frame: pin the viewport itself.
    set_viewport(driver, *viewport)
    driver.set_page_load_timeout(30)
    return driver, profile


def set_viewport(driver, width: int, height: int) -> None:
    """Pin the page's viewport to width x height CSS pixels (scale 1, not mobile). A test that changes it puts
    WALL_SCREEN back when done: the browser is shared."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})


def new_session(settings: Settings, *, user_id: str, role: str, patrol_id: str | None = None):
    """A session created in Redis as the sign-in form would: (session id, Identity)."""
    client = connect(settings.redis_url)
    try:
        return accounts.create_session(client, Keys(settings.site), user_id=user_id, role=role, patrol_id=patrol_id)
    finally:
        client.close()


def sign_in_browser(driver, settings: Settings, *, user_id: str, role: str, patrol_id: str | None = None):
    """Sign `driver` in without the form: a session created in Redis (as the form would), its cookies
    set for 127.0.0.1 on every port (cookies ignore ports: the web app and the gateway both get them).
    Returns the Identity. tests/browser/test_signin.py covers the form itself."""
    session_id, identity = new_session(settings, user_id=user_id, role=role, patrol_id=patrol_id)
    driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    for name, value, http_only in ((SESSION_COOKIE, session_id, True), (CSRF_COOKIE, identity.csrf_token, False)):
        driver.execute_cdp_cmd("Network.setCookie", {"name": name, "value": value, "domain": "127.0.0.1",
                                                     "path": "/", "httpOnly": http_only, "sameSite": "Strict"})
    return identity


def session_cookie_header(settings: Settings, *, user_id: str = "SUP-1", role: str = "supervisor",
                          patrol_id: str | None = None) -> dict[str, str]:
    """Headers that sign a plain HTTP request (urllib) in: a fresh session's Cookie."""
    session_id, _ = new_session(settings, user_id=user_id, role=role, patrol_id=patrol_id)
    return {"Cookie": f"{SESSION_COOKIE}={session_id}"}
