"""dispatch/web/page_scripts.py: each page carries its own scripts, and only its own, in an order the
Dash renderer can rely on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dispatch.domain.live import ID_FIELDS
from dispatch.web import page_scripts
from dispatch.web.app import ASSETS, create_app
from dispatch.keys import Keys
from dispatch.store import accounts
from dispatch.store.connection import connect
from tests.web.test_app import signed_in

# Who may open each page (dispatch/domain/auth.py): role, patrol.
OPENER = {"/patrol": ("patrol", "BAC-12"), "/admin/zones": ("administrator", None), "/admin": ("administrator", None)}

SCRIPT = re.compile(r'<script(?P<attrs>[^>]*)>(?P<body>[^<]*)</script>')


def scripts_of(html: str) -> list[tuple[str, str]]:
    """(attributes, inline text) of every script tag, in document order."""
    return [(m["attrs"], m["body"]) for m in SCRIPT.finditer(html)]


def our_sources(html: str) -> list[str]:
    return [m for m in re.findall(r'src="/assets/([^"?]+)\?m=\d+"', html)]


@pytest.fixture
def client(settings):
    return signed_in(create_app(settings), settings)


def page_html(settings, path: str) -> str:
    role, patrol_id = OPENER.get(path, ("supervisor", None))
    redis = connect(settings.redis_url)
    try:
        session_id, _ = accounts.create_session(redis, Keys(settings.site), user_id="U-1", role=role,
                                                patrol_id=patrol_id)
    finally:
        redis.close()
    client = create_app(settings).server.test_client()
    client.set_cookie("dispatch_session", session_id)
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


@pytest.mark.parametrize("path", sorted(page_scripts.PAGES))
def test_a_page_loads_exactly_its_own_scripts(settings, path):
    html = page_html(settings, path)
    wanted = page_scripts.PAGES[path]
    assert our_sources(html) == [*wanted.classic, *wanted.modules]


def test_a_page_without_scripts_loads_none_of_ours(client):
    assert "/audit" not in page_scripts.PAGES
    assert our_sources(client.get("/audit").get_data(as_text=True)) == []


def test_the_renderer_starts_after_the_page_modules(client):
    """Deferred scripts run in document order: the renderer, an inline module placed after the page's
    modules, cannot call a clientside start-up that its module has not defined yet."""
    tags = scripts_of(client.get("/").get_data(as_text=True))
    renderer = [i for i, (attrs, body) in enumerate(tags) if "new DashRenderer" in body]
    modules = [i for i, (attrs, _) in enumerate(tags) if 'type="module"' in attrs and "src=" in attrs]
    assert len(renderer) == 1 and 'type="module"' in tags[renderer[0]][0]
    assert all(i < renderer[0] for i in modules)


def test_the_renderer_keeps_the_text_the_content_security_policy_hashes(client, settings):
    app = create_app(settings)
    page = signed_in(app, settings).get("/")
    policy = page.headers["Content-Security-Policy"]
    renderer_hash = app.csp_hashes()[-1]  # Dash hashes its renderer start-up last
    assert renderer_hash in policy


def test_a_page_is_named_by_its_path_whatever_the_slashes(settings):
    app = create_app(settings)
    assert page_scripts.page_path(app, "/replay/") == "/replay"
    assert page_scripts.page_path(app, "/admin/zones") == "/admin/zones"
    assert page_scripts.page_path(app, "/") == "/"


def test_every_listed_script_exists():
    for scripts in page_scripts.PAGES.values():
        for name in (*scripts.classic, *scripts.modules):
            assert (ASSETS / name).is_file(), name


def test_scripts_are_revalidated_by_browsers(client):
    """A module's imports carry no ?m= stamp: a stale cached import would mix two versions of a page."""
    response = client.get("/assets/common/time.js")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-cache"


def test_the_live_clients_id_fields_are_the_gateways():
    """The browser keys units by the same field as the gateway's coalescing (dispatch/domain/live.py)."""
    source = (Path(ASSETS) / "common" / "live_client.js").read_text()
    table = re.search(r"export const ID_FIELDS = \{(?P<body>[^}]*)\}", source)["body"]
    assert dict(re.findall(r"(\w+): \"(\w+)\"", table)) == ID_FIELDS


def test_every_script_in_assets_is_loaded_by_some_page():
    """Nothing orphaned: each .js file is a page's script or is imported, directly or not, by one."""
    reached: set[Path] = set()
    waiting = [ASSETS / name for scripts in page_scripts.PAGES.values() for name in (*scripts.classic, *scripts.modules)]
    while waiting:
        script = waiting.pop()
        if script in reached:
            continue
        reached.add(script)
        imports = re.findall(r'^\s*(?:import|export)\b[^;]*?from\s+"(\.{1,2}/[^"]+)"|^\s*import\s+"(\.{1,2}/[^"]+)"',
                             script.read_text(), re.M)
        waiting += [(script.parent / (a or b)).resolve() for a, b in imports]
    assert {p.relative_to(ASSETS) for p in Path(ASSETS).rglob("*.js")} == {p.relative_to(ASSETS) for p in reached}
