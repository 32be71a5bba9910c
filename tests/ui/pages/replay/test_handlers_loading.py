"""The replay routes while a window is still loading (issue 15): the page gets the summary and the frames the
published prefix answers exactly, a 202 "pending" beyond it (never a wrong picture), and exports and the
figures' files only once the whole window has loaded.

The small shift of test_page.py, loaded through the page's own loader against the real redis-server, held
at its first prefix until the test lets it go on.
"""

from __future__ import annotations

import threading

import orjson
import pytest

from dispatch.ui.pages.replay import handlers
from dispatch.ui.pages.replay import logic as C
from dispatch.web.app import create_app
from dispatch.web.replay_cache import ReplayCache
from tests.support.processes import wait_until
from tests.ui.pages.replay.test_page import S, open_window, shift, signed_in  # noqa: F401 (shift: a fixture)


@pytest.fixture
def held(shift, settings, keys, redis_client):  # noqa: F811
    """(client, query, release, shift base): the hour's window loading, held once its first prefix is out."""
    release = threading.Event()

    def loader(window, progress):
        def held_progress(report):
            progress(report)
            if report.prefix is not None:
                assert release.wait(30), "the test never let the load go on"
        return C.load_history(redis_client, keys, window, held_progress, settings=settings)

    app = create_app(settings)
    cache = app.server.extensions[handlers.CACHE_EXTENSION] = ReplayCache(loader)
    client, csrf = signed_in(app, settings, redis_client, keys)
    answer = orjson.loads(open_window(client, csrf).data)["response"]["rp-open-result"]["data"]
    query = f"from={answer['from_ms']}&to={answer['to_ms']}"
    yield app, client, query, release, answer
    release.set()
    cache.close()


def status_of(client, query):
    return orjson.loads(client.get(f"/api/replay/status?{query}").data)


def test_a_loading_window_serves_what_its_prefix_answers_and_nothing_beyond(held, shift):  # noqa: F811
    app, client, query, release, answer = held
    status = wait_until(lambda: (s := status_of(client, query))["loaded_until_ms"] is not None and s,
                        timeout=30, interval=0.05, what="the first prefix")
    assert status["state"] == "loading" and status["loaded_until_ms"] == answer["from_ms"]
    summary = orjson.loads(client.get(f"/api/replay/window?{query}").data)
    assert summary["complete"] is False and summary["loaded_until_ms"] == answer["from_ms"]
    assert summary["counts"]["events"] == 9, "events are complete in the first prefix: context is read first"
    first = client.get(f"/api/replay/frame?{query}&t={answer['from_ms']}")
    assert first.status_code == 200 and orjson.loads(first.data)["t"] == answer["from_ms"]
    later = client.get(f"/api/replay/frame?{query}&t={shift + 55 * S}")
    assert later.status_code == 202
    assert orjson.loads(later.data) == {"pending": True, "loaded_until_ms": answer["from_ms"], "t": shift + 55 * S}
    track = orjson.loads(client.get(f"/api/replay/track?{query}&kind=patrol&id=BAC-1&t={shift}").data)
    assert track["coordinates"] == [] and track["loaded_until_ms"] == answer["from_ms"], "the track so far"

    refused = client.get(f"/api/replay/export?fmt=csv&{query}", headers={"Accept": "text/html"})
    assert refused.status_code == 409 and b"available once the window has loaded" in refused.data
    with app.server.test_request_context(f"/api/replay/frame?{query}"):
        ready = {"from_ms": answer["from_ms"], "to_ms": answer["to_ms"]}
        _, words = handlers._audited_download(ready, "heatmap", lambda *_: pytest.fail("no file while loading"))
        assert words.endswith("available once the window has loaded"), "the figures' files wait too"

    release.set()
    wait_until(lambda: status_of(client, query)["state"] == "ready", timeout=30, interval=0.05, what="the load")
    assert status_of(client, query)["loaded_until_ms"] == answer["to_ms"]
    frame = client.get(f"/api/replay/frame?{query}&t={shift + 55 * S}")
    assert frame.status_code == 200
    assert set(orjson.loads(frame.data)["sightings"]["id"]) == {"sight-0001", "sight-0002"}
    assert client.get(f"/api/replay/export?fmt=csv&{query}").status_code == 200
