"""Browser-test harness: a real headless Chromium against the real app served by gunicorn.

Reused by every screen's tests. Fixtures:
- `chrome`: one headless Chromium for the session (starting one costs ~1 s).
- `web`: the app (`gunicorn app:server`) on a free port with the test's settings;
  yields its base URL once /healthz answers 200.
- `ingest`: the ingest worker (`python -m dispatch.ingest`), so tests write to the
  input streams exactly as a drone bridge would.
- `services`: start any other `python -m` process with the test's settings.
When a test fails, the logs of its services and the browser's console are
attached to the report.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.error
import urllib.request

import pytest

from dispatch.store.embedded import free_port
from tests.processes import Service, python_module, wait_until

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
_SERVICES = pytest.StashKey[list]()
_BROWSER = pytest.StashKey[object]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Attach service logs and browser console to a failed test, while they still exist."""
    report = yield
    if report.when == "call" and report.failed:
        for service in item.stash.get(_SERVICES, []):
            report.sections.append((f"{service.name} log", service.output()[-20_000:] or "(empty)"))
        driver = item.stash.get(_BROWSER, None)
        if driver is not None:
            try:
                console = "\n".join(f"{e['level']} {e['message']}" for e in driver.get_log("browser"))
            except Exception as error:  # a crashed browser must not hide the real failure
                console = f"(browser log unavailable: {error})"
            report.sections.append(("browser console", console or "(empty)"))
    return report


@pytest.fixture(scope="session")
def chrome():
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if missing:
        pytest.fail(
            f"browser tests need {' and '.join(missing)}: run `make test`, which installs "
            "Debian's chromium and chromium-driver (apt-get install -y chromium chromium-driver)",
            pytrace=False,
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service as DriverService

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--window-size=1920,1080", "--force-device-scale-factor=1",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=DriverService(CHROMEDRIVER), options=options)
    # --window-size counts the (invisible) window frame: pin the viewport itself to a wall screen's.
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False}
    )
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def browser(chrome, request):
    """The session's Chromium, attached to this test's failure report."""
    request.node.stash[_BROWSER] = chrome
    chrome.get("about:blank")
    chrome.get_log("browser")  # drop the previous test's console messages
    return chrome


@pytest.fixture
def services(request, settings):
    """Start `python -m module args` processes for this test; all are stopped after it."""
    started: list[Service] = []
    request.node.stash[_SERVICES] = started

    def start(name: str, module: str, *args: str, **extra_env: str) -> Service:
        service = python_module(name, module, settings, *args, **extra_env).start()
        started.append(service)
        return service

    yield start
    for service in reversed(started):
        service.stop()


def _status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


@pytest.fixture
def web(services) -> str:
    """Base URL of the real app served by gunicorn, as in production (`gunicorn app:server`)."""
    port = free_port()
    service = services(
        "web", "gunicorn", "app:server",
        "-b", f"127.0.0.1:{port}", "--workers", "1", "--threads", "4", "--graceful-timeout", "3",
        "--no-control-socket",  # its default path is per user: parallel gunicorns would fight over it
        DISPATCH_TILE_URL="",  # no internet in tests: the map must work without tiles
    )
    base = f"http://127.0.0.1:{port}"

    def healthy():
        if not service.running:
            raise AssertionError(f"gunicorn exited ({service.process.returncode}):\n{service.output()}")
        return _status(f"{base}/healthz") == 200

    wait_until(healthy, timeout=30, interval=0.1, what=f"{base}/healthz to answer 200")
    return base


@pytest.fixture
def ingest(services) -> Service:
    service = services("ingest", "dispatch.ingest")
    # Not needed for correctness (the group starts at id 0, so earlier entries are
    # ingested too), but a worker that crashes at start fails here, with its log.
    wait_until(lambda: not service.running or "ingest consumer" in service.output(),
               timeout=15, what="the ingest worker to start")
    assert service.running, f"ingest exited:\n{service.output()}"
    return service
