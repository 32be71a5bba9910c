"""The replay page's server side against a real Redis: a small shift recorded through the real ingest
process and the assignment steps, then opened, loaded, seeked, charted and exported as the page does.

Three layers, each against the same recording:
- the plain functions behind the page (ui/pages/replay/logic.py), with the process's cache and its real loader;
- the page's HTTP surface through Flask's test client, signed in as a supervisor: the Dash callback
  that opens a window (POSTed as the renderer posts it, CSRF header included), the progress, window
  and frame routes, and the role checks in front of them;
- what opening and exporting leave in the audit trail.
Choosing a window (local times, retention, limits) is plain logic and is tested first, by table.
"""

from __future__ import annotations

import base64
import gzip
from datetime import datetime
from zoneinfo import ZoneInfo

import orjson
import pytest

from dispatch.clock import now_ms
from dispatch.domain.audit import Action
from dispatch.web.replay_cache import FAILED, READY, ReplayCache, Window
from dispatch.store import accounts
from dispatch.store.assignments import assign
from dispatch.store.audit import read as read_audit
from dispatch.store.state import read_stats
from dispatch.ui.pages.replay import logic as C
from dispatch.ui.pages.replay import ids as P
from dispatch.web.app import create_app
from dispatch.web.auth import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE
from tests.support.assignments import walk_to_cleared
from tests.support.processes import python_module, wait_until

TZ = "Europe/Paris"
S = 1000
DAY = 86_400_000
# 2026-03-14 21:30:00 in Paris (UTC+1 in March before the 29th).
NOW = int(datetime(2026, 3, 14, 21, 30, tzinfo=ZoneInfo(TZ)).timestamp() * 1000)
RETENTION = 7 * DAY


# ----------------------------------------------------------------------------- choosing a window


@pytest.mark.parametrize("choice, start, end, expected", [
    ("shift", None, None, (NOW - 8 * 3_600_000, NOW)),
    ("hour", None, None, (NOW - 3_600_000, NOW)),
    ("custom", "2026-03-14T20:00", "2026-03-14T21:00", (NOW - 90 * 60 * S, NOW - 30 * 60 * S)),
    ("custom", "2026-03-14 20:00:30", "2026-03-14 21:00:00", (NOW - 90 * 60 * S + 30 * S, NOW - 30 * 60 * S)),
])
def test_windows_in_local_time(choice, start, end, expected):
    chosen = C.resolve_window(choice, start, end, site="rennes", now_ms=NOW + 123, tz=TZ, retention_ms=RETENTION)
    assert (chosen.window.from_ms, chosen.window.to_ms) == expected
    assert chosen.window.site == "rennes" and chosen.note == ""


def test_window_summer_time_is_local_too():
    chosen = C.resolve_window("custom", "2026-07-01T20:00", "2026-07-01T22:00", site="rennes",
                              now_ms=NOW + 200 * DAY, tz=TZ, retention_ms=1000 * DAY)
    assert chosen.window.from_ms == int(datetime(2026, 7, 1, 18, 0, tzinfo=ZoneInfo("UTC")).timestamp() * 1000)
    assert chosen.label == "Wed 01 Jul 20:00:00 → 22:00:00"


@pytest.mark.parametrize("choice, start, end, reason", [
    ("custom", "2026-03-14T21:00", "2026-03-14T20:00", "ends (Sat 14 Mar 20:00) before it starts"),
    ("custom", "2026-03-14T22:00", "2026-03-14T23:00", "starts in the future"),
    ("custom", "2026-03-13T20:00", "2026-03-14T20:00", "At most 12 hours"),
    ("custom", "2026-03-01T20:00", "2026-03-01T22:00", "Recordings are kept 7 days: nothing before Sat 07 Mar 21:30"),
    ("custom", "14/03/2026 20:00", "2026-03-14T21:00", "Give the start as a date and a time"),
    ("custom", "2026-02-30T20:00", "2026-03-14T21:00", "is not a real date"),
    ("custom", None, "2026-03-14T21:00", "Give the start"),
    ("tomorrow", None, None, "Choose this shift, the last hour, or a custom window"),
])
def test_windows_refused_with_a_reason(choice, start, end, reason):
    with pytest.raises(C.WindowRefused, match=reason.replace("(", r"\(").replace(")", r"\)")):
        C.resolve_window(choice, start, end, site="rennes", now_ms=NOW, tz=TZ, retention_ms=RETENTION)


def test_windows_clipped_to_what_exists_say_so():
    ending_later = C.resolve_window("custom", "2026-03-14T21:00", "2026-03-14T23:00", site="rennes", now_ms=NOW,
                                    tz=TZ, retention_ms=RETENTION)
    assert ending_later.window.to_ms == NOW and ending_later.note == "ends now"
    old = C.resolve_window("custom", "2026-03-07T20:00", "2026-03-07T23:00", site="rennes", now_ms=NOW, tz=TZ,
                           retention_ms=RETENTION)
    assert old.window.from_ms == NOW - RETENTION
    assert "oldest instant still retained" in old.note


@pytest.mark.parametrize("text, expected_local", [
    ("21:35", "2026-03-14 21:35:00"),
    ("21h35", "2026-03-14 21:35:00"),
    ("01:05:30", "2026-03-15 01:05:30"),  # after midnight: the window's second date
    ("2026-03-15 02:00", "2026-03-15 02:00:00"),
])
def test_a_typed_instant_is_found_in_a_night_window(text, expected_local):
    window = Window("rennes", NOW - 3_600_000, NOW + 5 * 3_600_000)  # 20:30 -> 02:30 the next day
    instant = C.parse_instant(text, window, TZ)
    assert f"{datetime.fromtimestamp(instant / 1000, ZoneInfo(TZ)):%Y-%m-%d %H:%M:%S}" == expected_local


@pytest.mark.parametrize("text", ["", "noon", "25:00", "12:00", "2026-03-16 10:00"])
def test_a_typed_instant_outside_the_window_is_refused(text):
    window = Window("rennes", NOW - 3_600_000, NOW + 5 * 3_600_000)
    with pytest.raises(C.WindowRefused):
        C.parse_instant(text, window, TZ)


# ----------------------------------------------------------------------------- a recorded shift


def telemetry(ts, lat, **change):
    fields = {"drone_id": "DR-1", "ts": ts, "lat": lat, "lon": -1.68, "alt_m": 90, "heading_deg": 45,
              "speed_mps": 9.5, "battery_pct": 70}
    return {**fields, **change}


def patrol(patrol_id, ts, lat):
    return {"patrol_id": patrol_id, "ts": ts, "lat": lat, "lon": -1.675, "status": "available"}


def sighting(sighting_id, ts, category, priority, lat):
    return {"sighting_id": sighting_id, "ts": ts, "drone_id": "DR-1", "operator_id": "OP-1", "category": category,
            "lat": lat, "lon": -1.6801, "priority": priority, "note": "échanges au pied de l'escalier"}


@pytest.fixture
def shift(settings, keys, redis_client):
    """The last two minutes: DR-1 every 10 s (one fix malformed), two patrols, two sightings, the first
    served to the end (cleared at +95 s), the second assigned at +45 s and still open. Stamped close to
    when they are sent, as live bridges do: replay reads entries by arrival (store/history.py)."""
    base = now_ms() - 110 * S
    entries = {keys.in_telemetry: [telemetry(base + k * 10 * S, 48.100 + k / 1000) for k in range(11)]
               + [telemetry(base + 45 * S, "48,145")],
               keys.in_patrols: [patrol("BAC-1", base, 48.110), patrol("BAC-2", base, 48.120),
                                 patrol("BAC-1", base + 60 * S, 48.111)],
               keys.in_sightings: [sighting("sight-0001", base + 20 * S, "deal", 1, 48.1105),
                                   sighting("sight-0002", base + 40 * S, "vehicle", 2, 48.1205)]}
    pipe = redis_client.pipeline(transaction=False)
    for stream, messages in entries.items():
        for fields in messages:
            pipe.xadd(stream, fields)
    pipe.execute()
    sent = sum(len(messages) for messages in entries.values())
    worker = python_module("ingest", "dispatch.services.ingest", settings).start()
    try:
        wait_until(lambda: sum(read_stats(redis_client, keys).values()) == sent, timeout=20, what="ingest")
        assert read_stats(redis_client, keys)["rejected:telemetry"] == 1
        walk_to_cleared(redis_client, keys, sighting_id="sight-0001", patrol_id="BAC-1",
                        assignment_id="asg-first-1", at=[base + t * S for t in (30, 40, 50, 70, 95)])
        assign(redis_client, keys, sighting_id="sight-0002", patrol_id="BAC-2", supervisor_id="SUP-1",
               now_ms=base + 45 * S, assignment_id="asg-second-2")
    finally:
        worker.stop()
    return base


@pytest.fixture
def loaded(shift, settings, keys, redis_client):
    """The shift's window loaded through a cache with the page's own loader, as the page loads it."""
    cache = ReplayCache(lambda window, progress: C.load_history(redis_client, keys, window, progress,
                                                                settings=settings))
    window = Window(keys.site, shift - 60 * S, shift + 120 * S)
    cache.open(window, "test-page")
    status = cache.wait(window, 30)
    assert status.state == READY, status
    yield shift, cache.history(window)
    cache.close()


def by_id(columns: dict) -> dict:
    return {unit_id: {name: values[i] for name, values in columns.items()} for i, unit_id in enumerate(columns["id"])}


def test_frames_show_each_instant_of_the_shift(loaded):
    base, history = loaded
    early = C.frame_at(history, base + 25 * S)
    assert by_id(early["drones"])["DR-1"]["lat"] == 48.102
    assert list(by_id(early["sightings"])) == ["sight-0001"]
    assert early["assignments"]["id"] == []

    busy = C.frame_at(history, base + 55 * S)
    assert by_id(busy["drones"])["DR-1"]["lat"] == 48.105, "the malformed 45 s fix never counts"
    assert set(by_id(busy["sightings"])) == {"sight-0001", "sight-0002"}
    assert {a["patrol_id"]: a["state"] for a in by_id(busy["assignments"]).values()} == {
        "BAC-1": "en_route", "BAC-2": "assigned"}
    assert {p: v["status"] for p, v in by_id(busy["patrols"]).items()} == {"BAC-1": "en_route", "BAC-2": "assigned"}
    assert len(busy["drones"]["trail"][0]) >= 2 and busy["drones"]["trail"][0][-1] == [-1.68, 48.105]

    late = C.frame_at(history, base + 100 * S)
    assert list(by_id(late["sightings"])) == ["sight-0002"], "cleared at +95 s"
    assert by_id(late["patrols"])["BAC-1"]["status"] == "available"
    assert "note" not in late["sightings"], "free text never goes to the browser in a frame"

    clamped = C.frame_at(history, base + 10 * 60 * S)
    assert clamped["t"] == history.bounds[1], "an instant past the window shows its end"


def test_a_units_whole_track_passes_through_its_position_at_the_instant(loaded):
    base, history = loaded
    full = C.track_of(history, "drone", "DR-1", base + 55 * S)
    assert full["ts"] == [base + k * 10 * S for k in range(11)], "every fix in the window, the malformed one not"
    assert full["coordinates"][5] == [-1.68, 48.105]
    thin = C.track_of(history, "drone", "DR-1", base + 57 * S, max_points=4)
    assert len(thin["ts"]) <= 4 and base + 50 * S in thin["ts"], "the fix shown at +57 s is kept"
    assert thin["ts"][0] == base and thin["ts"][-1] == base + 100 * S
    patrol_track = C.track_of(history, "patrol", "BAC-1", base + 70 * S)
    assert patrol_track["coordinates"] == [[-1.675, 48.110], [-1.675, 48.111]]
    assert C.track_of(history, "drone", "DR-404", base)["coordinates"] == []
    with pytest.raises(C.WindowRefused, match="expected drone or patrol"):
        C.track_of(history, "sighting", "sight-0001", base)


def test_window_summary_lists_every_event_in_order(loaded, redis_client, keys):
    _, history = loaded
    summary = C.window_summary(history, [])
    events = summary["events"]
    assert list(zip(events["kind"], events["event"])) == [
        ("sighting", "created"), ("assignment", "created"), ("sighting", "created"), ("assignment", "acknowledged"),
        ("assignment", "created"), ("assignment", "en_route"), ("assignment", "on_scene"),
        ("assignment", "cleared"), ("sighting", "dispatched")]  # the clear ends the sighting, recorded
    assert events["ts"] == sorted(events["ts"])
    assert events["patrol_id"][1] == "BAC-1" and events["actor"][1] == "SUP-1"
    assert events["detail"][-2] == "dispersed"
    assert events["detail"][-1].endswith("dispatched") and events["sighting_id"][-1] == "sight-0001"
    assert summary["counts"] == {"drones": 1, "patrols": 2, "sightings": 2, "events": 9}
    assert orjson.loads(orjson.dumps(summary)) == summary, "JSON-ready as it is"


def test_figures_of_the_shift(loaded):
    _, history = loaded
    frames = C.metric_frames(history)
    assert set(frames) == set(P.FIGURES)
    times = frames["response_times"].set_index("sighting_id")
    assert times.loc["sight-0001", "to_assigned_s"] == 10.0 and times.loc["sight-0001", "to_on_scene_s"] == 50.0
    built = C.build_figures(frames, history.bounds, TZ)
    assert [trace.name for trace in built["response_times"].data] == ["patrol sent", "acknowledged", "on scene"]
    assert [trace.name for trace in built["utilisation"].data][:2] == ["available", "assigned"]
    # BAC-2 busy from +45 s to the end (75 s), BAC-1 from +30 s to +95 s (65 s): BAC-2 on top, drawn last.
    assert list(built["utilisation"].data[0].y) == ["BAC-1", "BAC-2"]
    assert built["heatmap"].data[0].type == "heatmap"
    assert frames["outcomes"].set_index("outcome")["count"].to_dict()["dispatched"] == 1
    assert dict(zip(built["outcomes"].data[0].y, built["outcomes"].data[0].text))[
        "dispatched (a patrol cleared it)"] == "1"


def test_each_figure_alone_is_the_one_built_with_all_the_others(loaded):
    """Issue 15: the page asks for one figure at a time; each is built from only its own numbers, and is the
    same chart as when all six were built together."""
    _, history = loaded
    together = C.build_figures(C.metric_frames(history), history.bounds, TZ)
    for name in P.FIGURES:
        assert C.build_figure(name, history, TZ).to_json() == together[name].to_json(), name
    with pytest.raises(C.WindowRefused):
        C.build_figure("passwords", history, TZ)
    assert set(P.FIGURE_WANTED) == set(P.FIGURES) and len(set(P.FIGURE_WANTED.values())) == len(P.FIGURES)


def test_an_empty_window_is_refused_readably(shift, settings, keys, redis_client):
    cache = ReplayCache(lambda window, progress: C.load_history(redis_client, keys, window, progress,
                                                                settings=settings))
    try:
        window = Window(keys.site, shift - 3 * 3_600_000, shift - 2 * 3_600_000)
        cache.open(window, "test-page")
        status = cache.wait(window, 30)
        assert status.state == FAILED
        assert status.error.startswith("Nothing was recorded in this window") and "no drone, patrol" in status.error
    finally:
        cache.close()


def test_exports_leave_with_an_audit_entry(loaded, redis_client, keys):
    _, history = loaded
    actor = C.Actor("AUD-1", "auditor", "192.0.2.7")
    download, message = C.export_download(redis_client, keys, history, "geojson", actor, site=keys.site, tz=TZ,
                                          now_ms=now_ms())
    collection = orjson.loads(download["content"])
    kinds = sorted((f["properties"]["kind"], f["properties"]["id"]) for f in collection["features"])
    assert kinds == [("drone", "DR-1"), ("patrol", "BAC-1"), ("patrol", "BAC-2"), ("sighting", "sight-0001"),
                     ("sighting", "sight-0002")]
    assert download["filename"].startswith(f"replay-{keys.site}-") and download["filename"].endswith(".geojson")
    assert "5 features" in message and download["base64"] is False

    csv_file, _ = C.export_download(redis_client, keys, history, "csv", actor, site=keys.site, tz=TZ,
                                    now_ms=now_ms())
    lines = csv_file["content"].splitlines()
    assert lines[0].startswith("kind,unit_id,ts,time_utc,lat,lon")
    assert "échanges" not in csv_file["content"] and "OP-1" not in csv_file["content"]

    figure_file = C.figure_download(redis_client, keys, history, "response_times", actor, site=keys.site, tz=TZ,
                                    now_ms=now_ms())
    assert figure_file["filename"].endswith("-response-times.csv")
    assert figure_file["content"].splitlines()[0].startswith("sighting_id,ts,category,priority")

    exports = [e for e in read_audit(redis_client, keys) if e.action is Action.EXPORT]
    assert [(e.actor, e.role.value, e.origin, e.details["format"]) for e in exports] == [
        ("AUD-1", "auditor", "192.0.2.7", "geojson"), ("AUD-1", "auditor", "192.0.2.7", "csv"),
        ("AUD-1", "auditor", "192.0.2.7", "csv")]
    assert exports[2].details["figure"] == "response_times"
    assert all(e.details["from_ms"] == history.bounds[0] and e.details["to_ms"] == history.bounds[1]
               for e in exports)
    assert exports[1].details["rows"] == len(lines) - 1


def test_the_kml_export_leaves_with_an_audit_entry_and_without_free_text(loaded, redis_client, keys):
    _, history = loaded
    download, message = C.export_download(redis_client, keys, history, "kml", C.Actor("SUP-1"), site=keys.site,
                                          tz=TZ, now_ms=now_ms())
    assert download["filename"].endswith(".kml") and download["type"] == "application/vnd.google-earth.kml+xml"
    assert download["content"].startswith("<?xml") and "<gx:Track>" in download["content"]
    assert "5 placemarks" in message, "two sightings, one drone and two patrols, as in the GeoJSON"
    assert "échanges" not in download["content"] and "OP-1" not in download["content"]
    (entry,) = [e for e in read_audit(redis_client, keys) if e.action is Action.EXPORT]
    assert (entry.actor, entry.details["format"], entry.details["rows"]) == ("SUP-1", "kml", 5)


def test_a_big_file_goes_out_compressed(loaded, redis_client, keys, monkeypatch):
    _, history = loaded
    monkeypatch.setattr(C, "GZIP_ABOVE_BYTES", 100)
    download, message = C.export_download(redis_client, keys, history, "csv", C.Actor("SUP-1"), site=keys.site,
                                          tz=TZ, now_ms=now_ms())
    assert download["base64"] is True and download["filename"].endswith("-positions.csv.gz")
    text = gzip.decompress(base64.b64decode(download["content"])).decode()
    assert text.startswith("kind,unit_id,ts") and "gzip" in message


# ----------------------------------------------------------------------------- through HTTP, signed in


def signed_in(app, settings, redis_client, keys, *, user_id="SUP-1", role="supervisor"):
    client = app.server.test_client()
    session_id, identity = accounts.create_session(redis_client, keys, user_id=user_id, role=role)
    client.set_cookie(SESSION_COOKIE, session_id, domain="localhost")
    client.set_cookie(CSRF_COOKIE, identity.csrf_token, domain="localhost")
    return client, identity.csrf_token


def open_window(client, csrf, choice="hour"):
    """The request Dash's renderer sends when Load is pressed."""
    body = {"output": f"{P.OPEN_RESULT}.data", "outputs": {"id": P.OPEN_RESULT, "property": "data"},
            "inputs": [{"id": P.LOAD, "property": "n_clicks", "value": 1}],
            "changedPropIds": [f"{P.LOAD}.n_clicks"],
            "state": [{"id": P.CHOICE, "property": "value", "value": choice},
                      {"id": P.CUSTOM_FROM, "property": "value", "value": None},
                      {"id": P.CUSTOM_TO, "property": "value", "value": None},
                      {"id": P.WATCHER, "property": "data", "value": "page-1"},
                      {"id": P.OPEN_RESULT, "property": "data", "value": None}]}
    return client.post("/_dash-update-component", json=body, headers={CSRF_HEADER: csrf})


def test_the_page_opens_loads_and_serves_a_window_over_http(shift, settings, keys, redis_client):
    app = create_app(settings)
    client, csrf = signed_in(app, settings, redis_client, keys)
    response = open_window(client, csrf)
    assert response.status_code == 200, response.data
    answer = orjson.loads(response.data)["response"][P.OPEN_RESULT]["data"]
    assert answer["ok"] and answer["to_ms"] - answer["from_ms"] == 3_600_000
    query = f"from={answer['from_ms']}&to={answer['to_ms']}"

    def loaded():
        reply = client.get(f"/api/replay/status?{query}")
        status = orjson.loads(reply.data)
        return status if status["state"] == "ready" else None

    status = wait_until(loaded, timeout=30, interval=0.1, what="the window to load")
    assert status["fraction"] == 1.0 and status["entries_read"] > 0
    summary = orjson.loads(client.get(f"/api/replay/window?{query}").data)
    assert summary["counts"]["events"] == 9 and summary["from_ms"] == answer["from_ms"]
    frame = client.get(f"/api/replay/frame?{query}&t={shift + 55 * S}")
    assert frame.status_code == 200 and frame.headers["Cache-Control"] == "no-store"
    assert set(orjson.loads(frame.data)["sightings"]["id"]) == {"sight-0001", "sight-0002"}
    assert client.get(f"/api/replay/frame?{query}&t=soon").status_code == 400
    track = orjson.loads(client.get(f"/api/replay/track?{query}&kind=patrol&id=BAC-1&t={shift}").data)
    assert track["coordinates"] == [[-1.675, 48.110], [-1.675, 48.111]]
    assert client.get(f"/api/replay/track?{query}&kind=zone&id=Z-1&t={shift}").status_code == 400

    opened = [e for e in read_audit(redis_client, keys) if e.action is Action.REPLAY_OPENED]
    assert [(e.actor, e.role.value, e.target) for e in opened] == [("SUP-1", "supervisor", keys.site)]
    assert opened[0].details["from_ms"] == answer["from_ms"] and opened[0].details["choice"] == "hour"


def test_a_window_nobody_loaded_is_not_served(settings, keys, redis_client):
    client, _ = signed_in(create_app(settings), settings, redis_client, keys)
    for route in ("status", "window", "frame"):
        reply = client.get(f"/api/replay/{route}?from=1000&to=2000&t=1500")
        assert reply.status_code == 404 and "press Load" in orjson.loads(reply.data)["error"]
    assert client.get("/api/replay/frame?from=x&to=2000&t=1").status_code == 404


def test_replay_needs_the_replay_permission(settings, keys, redis_client):
    app = create_app(settings)
    anonymous = app.server.test_client()
    assert anonymous.get("/api/replay/status?from=1&to=2").status_code == 401
    patrol_client = app.server.test_client()
    session_id, identity = accounts.create_session(redis_client, keys, user_id="BAC-1", role="patrol",
                                                   patrol_id="BAC-1")
    patrol_client.set_cookie(SESSION_COOKIE, session_id, domain="localhost")
    patrol_client.set_cookie(CSRF_COOKIE, identity.csrf_token, domain="localhost")
    assert patrol_client.get("/api/replay/status?from=1&to=2").status_code == 403
    assert open_window(patrol_client, identity.csrf_token).status_code == 403
    auditor, csrf = signed_in(app, settings, redis_client, keys, user_id="AUD-1", role="auditor")
    assert open_window(auditor, csrf).status_code == 200, "auditors review shifts too"
    assert not [e for e in read_audit(redis_client, keys)
                if e.action is Action.REPLAY_OPENED and e.actor == "BAC-1"], "a refused call changes nothing"
