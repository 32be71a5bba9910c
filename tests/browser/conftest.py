"""Browser-test harness: a real headless Chromium against the real app served by gunicorn.

Reused by every screen's tests. Fixtures:
- `chrome`: one headless Chromium for the session (starting one costs ~1 s);
  `second_chrome`: another one, a second supervisor's screen, started on first use.
- `browser` / `second_browser`: those, attached to the test's failure report.
- `web`: the app (`gunicorn app:server`) on a free port with the test's settings;
  yields its base URL once /healthz answers 200.
- `ingest`: the ingest worker (`python -m dispatch ingest`), so tests write to the
  input streams exactly as a drone bridge would.
- `services`: start any other `python -m` process with the test's settings.
- `stack` / `screen`: the processes a screen needs (ingest, gateway, web) started
  once per test module on the module's own site (`stack`), and per test that
  stack with the site's picture emptied (`screen`), so each test starts from a
  blank screen without paying for three process starts.
When a test fails, the logs of its services and the browsers' consoles are
attached to the report.
"""

from __future__ import annotations

import itertools
import os
import shutil
import urllib.error
import urllib.request

import pytest

from dispatch.keys import Keys
from dispatch.settings import Settings
from dispatch.store.connection import connect
from dispatch.store.embedded import free_port
from tests.browser.chromium import (  # noqa: F401 (sign-in helpers re-exported for the test modules)
    WALL_SCREEN, ChromiumMissing, session_cookie_header, sign_in_browser, start_chromium,
)
from tests.support.processes import Service, port_open, python_module, wait_until

_SERVICES = pytest.StashKey[list]()
_BROWSERS = pytest.StashKey[list]()
_module_sites = itertools.count(1)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Attach service logs and browser console to a failed test, while they still exist."""
    report = yield
    if report.when == "call" and report.failed:
        for service in item.stash.get(_SERVICES, []):
            report.sections.append((f"{service.name} log", service.output()[-20_000:] or "(empty)"))
        for number, driver in enumerate(item.stash.get(_BROWSERS, []), start=1):
            try:
                console = "\n".join(f"{e['level']} {e['message']}" for e in driver.get_log("browser"))
            except Exception as error:  # a crashed browser must not hide the real failure
                console = f"(browser log unavailable: {error})"
            report.sections.append((f"browser {number} console", console or "(empty)"))
    return report


def _chromium_for_the_session():
    """A Chromium at WALL_SCREEN size until the session ends, then quit and its profile removed."""
    try:
        driver, profile = start_chromium(WALL_SCREEN)
    except ChromiumMissing as error:
        pytest.fail(str(error), pytrace=False)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="session")
def chrome():
    yield from _chromium_for_the_session()


@pytest.fixture(scope="session")
def second_chrome():
    """A second, independent Chromium: another supervisor's screen (own cookies, own socket)."""
    yield from _chromium_for_the_session()


def _attach(request, driver):
    request.node.stash.setdefault(_BROWSERS, []).append(driver)
    driver.get("about:blank")
    driver.get_log("browser")  # drop the previous test's console messages
    return driver


@pytest.fixture
def browser(chrome, request):
    """The session's Chromium, attached to this test's failure report, signed in as supervisor SUP-1
    on the test's site (the module's `stack` when the test uses one, else `settings`)."""
    driver = _attach(request, chrome)
    sign_in_browser(driver, _site_settings(request), user_id="SUP-1", role="supervisor")
    return driver


@pytest.fixture
def second_browser(second_chrome, request):
    """Another supervisor's screen: signed in as SUP-2 (its own session, its own CSRF token)."""
    driver = _attach(request, second_chrome)
    sign_in_browser(driver, _site_settings(request), user_id="SUP-2", role="supervisor")
    return driver


@pytest.fixture
def anonymous_browser(chrome, request):
    """The session's Chromium with no cookie at all: for tests of signing in itself."""
    driver = _attach(request, chrome)
    driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    return driver


def _site_settings(request) -> Settings:
    if {"stack", "screen"} & set(request.fixturenames):
        return request.getfixturevalue("stack").settings
    return request.getfixturevalue("settings")


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
    wait_serving(service, base)
    return base


def wait_serving(web: Service, base: str) -> None:
    """Until gunicorn answers 200 on /healthz; one that exited fails at once, with its log."""
    def healthy():
        if not web.running:
            raise AssertionError(f"gunicorn exited ({web.process.returncode}):\n{web.output()}")
        return _status(f"{base}/healthz") == 200

    wait_until(healthy, timeout=30, interval=0.1, what=f"{base}/healthz to answer 200")


def wait_ingest_started(service: Service) -> None:
    """Not needed for correctness (the group starts at id 0, so earlier entries are ingested too), but a worker
    that crashes at start fails here, with its log."""
    wait_until(lambda: not service.running or "ingest consumer" in service.output(),
               timeout=15, what="the ingest worker to start")
    assert service.running, f"ingest exited:\n{service.output()}"


@pytest.fixture
def ingest(services) -> Service:
    service = services("ingest", "dispatch.services.ingest")
    wait_ingest_started(service)
    return service


# --- One stack of processes per test module ---------------------------------------------------------------

class Stack:
    """ingest, gateway and web (gunicorn) for one site, as `make run` starts them (without the simulator)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.keys = Keys(settings.site)
        self.services: list[Service] = []
        # The gateway accepts pages from the web app's own address only (DISPATCH_WEB_PORT, issue 10).
        self.url = f"http://127.0.0.1:{settings.web_port}"
        self.gateway: Service | None = None

    def _start(self, name: str, module: str, *args: str) -> Service:
        service = python_module(name, module, self.settings, *args).start()
        self.services.append(service)
        return service

    def start(self) -> "Stack":
        ingest = self._start("ingest", "dispatch.services.ingest")
        self.start_gateway(wait=False)
        web = self._start("web", "gunicorn", "app:server", "-b", self.url.removeprefix("http://"),
                          "--workers", "1", "--threads", "4", "--graceful-timeout", "3", "--no-control-socket")
        wait_ingest_started(ingest)
        self.wait_for_gateway()
        wait_serving(web, self.url)
        return self

    def start_gateway(self, wait: bool = True) -> Service:
        self.gateway = self._start("gateway", "dispatch.services.gateway")
        if wait:
            self.wait_for_gateway()
        return self.gateway

    def wait_for_gateway(self) -> None:
        port, gateway = self.settings.gateway_port, self.gateway
        wait_until(lambda: not gateway.running or ("following" in gateway.output() and port_open(port)),
                   timeout=15, what="the gateway to listen")
        assert gateway.running, gateway.output()

    def stop_gateway(self) -> None:
        self.gateway.stop()

    def reset_picture(self) -> None:
        """Empty the site's picture and dispatch state (input and live streams stay: the processes follow them)."""
        k = self.keys
        client = connect(self.settings.redis_url)
        try:
            client.delete(k.drones, k.patrols, k.sightings, k.drones_ts, k.patrols_ts, k.sightings_ts,
                          k.patrols_available, k.assignments, k.assignments_open, k.patrol_assignment,
                          k.alerts, k.alerts_open, k.zones)
        finally:
            client.close()

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()


@pytest.fixture(scope="module")
def stack(redis_server, tmp_path_factory):
    site = f"m{os.getpid()}-{next(_module_sites)}"
    settings = Settings.from_env({
        "REDIS_URL": redis_server.url,
        "DISPATCH_SITE": site,
        "DISPATCH_DATA_DIR": str(tmp_path_factory.mktemp("var")),
        "DISPATCH_INGEST_BLOCK_MS": "100",
        "DISPATCH_CLAIM_IDLE_MS": "500",
        "DISPATCH_GATEWAY_PORT": str(free_port()),
        "DISPATCH_WEB_PORT": str(free_port()),  # the gateway's allowed origin is derived from it
        "DISPATCH_TILE_URL": "",  # no internet in tests: the map must work without tiles
    })
    started = Stack(settings)
    try:
        yield started.start()
    finally:
        started.stop()


@pytest.fixture
def screen(stack, request) -> Stack:
    """The module's stack with an empty picture, its logs attached to this test's failure report."""
    request.node.stash[_SERVICES] = stack.services
    if stack.gateway is None or not stack.gateway.running:  # a previous test stopped it and failed
        stack.start_gateway()
    stack.reset_picture()
    return stack
