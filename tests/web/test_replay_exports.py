"""GET /api/replay/export (issue 15, exports): the loaded window's file streamed as it is written, the
`export` audit entry first, and refused without a session, for a role without "export", for a window not
loaded, or one whose start has left retention.

Against the small shift of tests/ui/pages/replay/test_page.py, recorded through the real ingest and
loaded through the page's own Load callback, over Flask's test client.
"""

from __future__ import annotations

from types import SimpleNamespace

import orjson
import pytest

from dispatch.domain.audit import Action
from dispatch.domain.replay.export import export_csv, export_geojson
from dispatch.domain.replay.kml import export_kml
from dispatch.store import accounts
from dispatch.store.audit import read as read_audit
from dispatch.ui.pages.replay import handlers
from dispatch.web.app import create_app
from dispatch.web.auth import CSRF_COOKIE, SESSION_COOKIE
from tests.support.processes import wait_until
from tests.ui.pages.replay.test_page import open_window, shift, signed_in  # noqa: F401 (shift: a fixture)


@pytest.fixture
def opened(shift, settings, keys, redis_client):  # noqa: F811
    """(app, signed-in supervisor's client, query of the loaded window), the window loaded as the page loads it."""
    app = create_app(settings)
    client, csrf = signed_in(app, settings, redis_client, keys)
    answer = orjson.loads(open_window(client, csrf).data)["response"]["rp-open-result"]["data"]
    query = f"from={answer['from_ms']}&to={answer['to_ms']}"
    wait_until(lambda: orjson.loads(client.get(f"/api/replay/status?{query}").data)["state"] == "ready",
               timeout=30, interval=0.1, what="the window to load")
    return app, client, query


def history_of(app, query):
    with app.server.test_request_context(f"/api/replay/export?{query}"):
        return handlers.cache().history(handlers._query_window())


def exports(redis_client, keys):
    return [e for e in read_audit(redis_client, keys) if e.action is Action.EXPORT]


def test_each_format_streams_the_built_files_bytes_and_is_audited_first(opened, redis_client, keys):
    app, client, query = opened
    history = history_of(app, query)
    built = {"csv": export_csv(history).encode(), "geojson": orjson.dumps(export_geojson(history))}
    for fmt in ("csv", "geojson", "kml"):
        reply = client.get(f"/api/replay/export?fmt={fmt}&{query}", buffered=False)
        assert reply.status_code == 200 and reply.is_streamed, fmt
        assert exports(redis_client, keys)[-1].details["format"] == fmt, "recorded before the first byte"
        disposition = reply.headers["Content-Disposition"]
        assert disposition.startswith('attachment; filename="replay-') and reply.headers["Cache-Control"] == "no-store"
        pieces = list(reply.response)
        body = b"".join(pieces)
        reply.close()
        name = disposition.split('"')[1]
        if fmt == "kml":
            assert body == export_kml(history, name=name.removesuffix(".kml")), "the old builder's bytes"
        else:
            assert body == built[fmt], "the old builder's bytes"
        assert b"\xc3\xa9changes" not in body and b"OP-1" not in body, "never the note nor the operator"
    entries = exports(redis_client, keys)
    assert [(e.actor, e.role.value, e.details["format"], e.details["streamed"]) for e in entries] == [
        ("SUP-1", "supervisor", "csv", True), ("SUP-1", "supervisor", "geojson", True),
        ("SUP-1", "supervisor", "kml", True)]
    assert entries[0].details["rows"] == built["csv"].count(b"\n") - 1
    assert entries[1].details["rows"] == entries[2].details["rows"] == 5, "two sightings, one drone, two patrols"
    assert all((e.details["from_ms"], e.details["to_ms"]) == history.bounds for e in entries)
    assert entries[0].details["file"].endswith("-positions.csv")


def test_the_csv_comes_in_pieces(opened, monkeypatch):
    _, client, query = opened
    from dispatch.domain.replay import export
    monkeypatch.setattr(export, "CSV_CHUNK_ROWS", 2)
    monkeypatch.setattr(export.iter_csv, "__kwdefaults__", {"chunk_rows": 2})
    reply = client.get(f"/api/replay/export?fmt=csv&{query}", buffered=False)
    assert len([piece for piece in reply.response if piece]) > 3, "written as read, not at once"
    reply.close()


def test_refused_without_a_session_or_the_export_permission(opened, redis_client, keys):
    app, _, query = opened
    url = f"/api/replay/export?fmt=csv&{query}"
    assert app.server.test_client().get(url).status_code == 401
    patrol = app.server.test_client()
    session_id, identity = accounts.create_session(redis_client, keys, user_id="BAC-1", role="patrol",
                                                   patrol_id="BAC-1")
    patrol.set_cookie(SESSION_COOKIE, session_id, domain="localhost")
    patrol.set_cookie(CSRF_COOKIE, identity.csrf_token, domain="localhost")
    assert patrol.get(url).status_code == 403
    assert not exports(redis_client, keys), "a refused request exports nothing"
    denied = [e for e in read_audit(redis_client, keys) if e.action is Action.ACCESS_DENIED]
    assert denied and denied[-1].actor == "BAC-1", "the refusal itself is recorded"


def test_a_window_not_loaded_unknown_format_or_past_retention_is_refused_readably(opened, settings, redis_client,
                                                                                   keys, monkeypatch):
    _, client, query = opened
    reply = client.get("/api/replay/export?fmt=csv&from=1000&to=2000", headers={"Accept": "text/html"})
    assert reply.status_code == 404 and b"press Load" in reply.data and b'href="/replay"' in reply.data
    reply = client.get("/api/replay/export?fmt=csv&from=1000&to=2000")
    assert reply.status_code == 404 and "press Load" in orjson.loads(reply.data)["error"]
    assert client.get(f"/api/replay/export?fmt=xlsx&{query}").status_code == 400
    from_ms = int(query.split("&")[0].removeprefix("from="))
    later = from_ms + settings.retention_ms + 1  # this route's clock only: the session's stays valid
    monkeypatch.setattr(handlers, "clock", SimpleNamespace(now_ms=lambda: later))
    reply = client.get(f"/api/replay/export?fmt=csv&{query}")
    assert reply.status_code == 410 and "retention" in orjson.loads(reply.data)["error"]
    assert not exports(redis_client, keys)
