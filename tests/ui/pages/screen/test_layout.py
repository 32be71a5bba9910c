"""The supervisor page's layout and the configuration it hands to the browser scripts.

No Redis and no browser: the app is built without REDIS_URL (as the launcher
builds it) and the layout is rendered inside a request context.
"""

from __future__ import annotations

import dataclasses

import orjson
import pytest

from dispatch.settings import Settings
from dispatch.ui.pages.screen import ids
from dispatch.ui.pages.screen import layout as supervisor
from dispatch.web.app import create_app


@pytest.fixture(scope="module")
def layout():
    app = create_app(Settings.from_env({"DISPATCH_GATEWAY_PORT": "9123", "DISPATCH_SITE": "lyon"}))
    with app.server.test_request_context("/"):
        return supervisor.layout()


def component_ids(component) -> set[str]:
    return {node.id for node in _walk(component) if getattr(node, "id", None)}


def _walk(component):
    """Every component of a layout tree, depth first."""
    stack = [component]
    while stack:
        node = stack.pop()
        if isinstance(node, (list, tuple)):
            stack.extend(node)
            continue
        yield node
        children = getattr(node, "children", None)
        if children is not None and not isinstance(children, str):
            stack.append(children)


def find(layout, component_id: str):
    (node,) = [node for node in _walk(layout) if getattr(node, "id", None) == component_id]
    return node


def config_of(layout) -> dict:
    return find(layout, ids.CONFIG).data


def test_every_id_the_scripts_are_given_exists_in_the_layout(layout):
    config = config_of(layout)
    present = component_ids(layout)
    given = {name: value for name, value in config["ids"].items() if name != "map_class"}
    assert set(given.values()) <= present, set(given.values()) - present
    assert config["ids"]["map_class"] == ids.MAP_CLASS


def test_config_carries_the_gateway_port_site_and_rules_from_settings(layout):
    config = config_of(layout)
    assert config["gateway"] == {"port": 9123, "path": "/live"}
    assert config["site"] == "lyon"
    assert config["snapshot_url"] == "/api/snapshot"
    assert config["fallback_after_ms"] >= 1_000 and config["poll_ms"] == 2_000
    assert config["map"]["link_lost_ms"] == 5_000


def test_config_never_carries_the_redis_url_or_its_password():
    settings = dataclasses.replace(Settings(), redis_url="redis://:s3cret@db.internal:6379/0")
    text = orjson.dumps(supervisor.screen_config(settings)).decode()
    assert "s3cret" not in text and "db.internal" not in text


def test_the_map_has_no_dash_layers_for_units(layout):
    # Units are raw Leaflet layers managed by the scripts: Dash must not rebuild them.
    the_map = find(layout, ids.MAP)
    kinds = {type(child).__name__ for child in the_map.children}
    assert kinds <= {"TileLayer", "ScaleControl"}
    assert the_map.className == ids.MAP_CLASS and the_map.keyboard is False


def test_no_tile_layer_without_a_tile_url():
    app = create_app(Settings.from_env({"DISPATCH_TILE_URL": ""}))
    with app.server.test_request_context("/"):
        the_map = find(supervisor.layout(), ids.MAP)
    assert [type(child).__name__ for child in the_map.children] == ["ScaleControl"]


def test_fallback_polling_starts_disabled(layout):
    tick = find(layout, ids.POLL_TICK)
    assert tick.disabled is True and tick.interval == supervisor.POLL_MS


def test_key_help_documents_every_shortcut(layout):
    text = " ".join(str(node.children) for node in _walk(layout) if type(node).__name__ in ("Kbd", "Span"))
    for shortcut in ("1–5", "↑ ↓ j k", "Esc"):
        assert shortcut in text
