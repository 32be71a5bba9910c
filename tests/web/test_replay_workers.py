"""The replay page served by gunicorn with three workers and no sticky sessions (issue 14, part 3).

A signed-in supervisor's requests each take a fresh connection, so the kernel hands them to whichever
worker accepts first; gunicorn's access log names the worker of every request (its pid,
tests/support/served.py). The window is opened on one worker, its progress polled and its frames asked
for on the others, and every answer is the same: one load on the host, read by every worker.
"""

from __future__ import annotations

import http.client
import re
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import orjson
import pytest

from dispatch.store import accounts
from dispatch.ui.pages.replay import ids as P
from dispatch.web.auth import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE
from dispatch.web.replay_cache import DIRECTORY
from tests.support import served
from tests.support.processes import wait_until
from tests.ui.pages.replay.test_page import S, shift  # noqa: F401 (the recorded shift, a fixture)

WORKERS = 3
ACCESS = re.compile(r"^<(\d+)> (GET|POST) (\S+) (\d{3})$", re.MULTILINE)


@pytest.fixture
def web(settings):
    running = served.bare_gunicorn(settings, workers=WORKERS, log_pids=True)
    yield running
    running.stop()


class Supervisor:
    """A signed-in supervisor whose every request opens a new connection (no affinity to any worker)."""

    def __init__(self, web, redis_client, keys):
        self.port = web.port
        session_id, identity = accounts.create_session(redis_client, keys, user_id="SUP-1", role="supervisor")
        self.csrf = identity.csrf_token
        self.cookies = f"{SESSION_COOKIE}={session_id}; {CSRF_COOKIE}={identity.csrf_token}"

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            headers = {"Cookie": self.cookies, "Connection": "close"}
            payload = None
            if body is not None:
                headers |= {"Content-Type": "application/json", CSRF_HEADER: self.csrf}
                payload = orjson.dumps(body)
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            return response.status, orjson.loads(response.read())
        finally:
            connection.close()

    def callback(self, output: str, inputs: list, state: list) -> dict:
        body = {"output": output, "outputs": dict(zip(("id", "property"), output.split("."))),
                "inputs": inputs, "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"],
                "state": state}
        status, answer = self.request("POST", "/_dash-update-component", body)
        assert status == 200, answer
        return answer["response"]

    def figures(self, window: dict) -> dict:
        """What the renderer sends once the page has a window ready: the figures' note and the exports (issue 15:
        each chart is asked for on its own, as it comes into view)."""
        outputs = ([{"id": P.FIGURES_NOTE, "property": "children"}]
                   + [{"id": button, "property": "disabled"}
                      for button in (P.EXPORT_GEOJSON, P.EXPORT_CSV, P.EXPORT_KML)])
        body = {"output": ".." + "...".join(f"{o['id']}.{o['property']}" for o in outputs) + "..",
                "outputs": outputs, "inputs": [{"id": P.READY, "property": "data", "value": window}],
                "changedPropIds": [f"{P.READY}.data"], "state": []}
        status, answer = self.request("POST", "/_dash-update-component", body)
        assert status == 200, answer
        return answer["response"]

    def open(self, watcher: str) -> dict:
        """What Dash's renderer sends when Load is pressed (the last hour)."""
        return self.callback(f"{P.OPEN_RESULT}.data", [{"id": P.LOAD, "property": "n_clicks", "value": 1}], [
            {"id": P.CHOICE, "property": "value", "value": "hour"},
            {"id": P.CUSTOM_FROM, "property": "value", "value": None},
            {"id": P.CUSTOM_TO, "property": "value", "value": None},
            {"id": P.WATCHER, "property": "data", "value": watcher},
            {"id": P.OPEN_RESULT, "property": "data", "value": None}])[P.OPEN_RESULT]["data"]


def pids_by_path(web) -> dict[str, list[int]]:
    found = defaultdict(list)
    for pid, _, path, _ in ACCESS.findall(web.services[0].output()):
        found[path].append(int(pid))
    return found


def test_a_supervisors_requests_on_three_workers_see_one_load_and_the_same_frames(
        web, shift, redis_client, keys, settings):  # noqa: F811 (shift is the fixture)
    supervisor = Supervisor(web, redis_client, keys)
    opened = supervisor.open("page-1")
    assert opened["ok"], opened
    query = f"from={opened['from_ms']}&to={opened['to_ms']}"

    def poll(_=None):
        status, answer = supervisor.request("GET", f"/api/replay/status?{query}")
        assert status == 200 and answer["state"] in ("queued", "loading", "ready"), answer
        return answer

    def ready():
        with ThreadPoolExecutor(4) as pool:  # a few at once: the workers all get some
            answers = list(pool.map(poll, range(4)))
        return all(a["state"] == "ready" for a in answers) and answers

    answers = wait_until(ready, timeout=60, interval=0.05, what="every worker to see the window ready")
    assert {(a["entries_read"], a["fraction"]) for a in answers} == {(answers[0]["entries_read"], 1.0)}
    assert answers[0]["entries_read"] > 0

    def frame(_=None):
        status, answer = supervisor.request("GET", f"/api/replay/frame?{query}&t={shift + 55 * S}")
        assert status == 200, answer
        answer.pop("server_ms")
        return answer

    def frames_everywhere():
        with ThreadPoolExecutor(6) as pool:
            bodies = list(pool.map(frame, range(12)))
        assert all(body == bodies[0] for body in bodies), "every worker serves the same frame"
        return len(set(pids_by_path(web)["/api/replay/frame"])) == WORKERS and bodies[0]

    body = wait_until(frames_everywhere, timeout=60, interval=0, what="frames served by all three workers")
    assert set(body["sightings"]["id"]) == {"sight-0001", "sight-0002"}
    summary_status, summary = supervisor.request("GET", f"/api/replay/window?{query}")
    assert summary_status == 200 and summary["counts"]["events"] == 9

    (opener,) = pids_by_path(web)["/_dash-update-component"]
    window = {"from_ms": opened["from_ms"], "to_ms": opened["to_ms"]}

    def figures(_=None):
        answer = supervisor.figures(window)
        # Issue 15: the charts come one at a time as the page asks (answer_figure); this one says the window is here.
        assert answer[P.FIGURES_NOTE]["children"] == "drawn as you come to them", answer[P.FIGURES_NOTE]
        return answer[P.EXPORT_CSV]["disabled"]

    def figures_elsewhere():
        with ThreadPoolExecutor(3) as pool:
            assert not any(pool.map(figures, range(3))), "exports enabled: the window is loaded there"
        return set(pids_by_path(web)["/_dash-update-component"]) - {opener}

    wait_until(figures_elsewhere, timeout=60, interval=0, what="figures computed by another worker")

    seen = pids_by_path(web)
    assert len(set(seen["/api/replay/status"])) >= 2, "progress polls landed on several workers"
    assert set(seen["/api/replay/frame"]) - {opener}, "frames served by workers that did not load the window"
    cache = settings.data_dir / DIRECTORY
    (state_file,) = cache.glob("*.json")
    state = orjson.loads(state_file.read_bytes())
    assert (state["state"], state["pid"]) == ("ready", opener), "loaded once, by the worker that was asked"
    assert len(list(cache.glob("*.history"))) == 1


def test_every_worker_tells_the_same_end_of_a_cancelled_load(web, shift, redis_client, keys, settings):  # noqa: F811
    supervisor = Supervisor(web, redis_client, keys)
    opened = supervisor.open("page-1")
    previous = {"from_ms": opened["from_ms"], "to_ms": opened["to_ms"]}
    for _ in range(6):  # several cancels, each on whichever worker takes it; the first one ends it
        answer = supervisor.callback(f"{P.CANCEL_RESULT}.data", [{"id": P.CANCEL, "property": "n_clicks",
                                                                   "value": 1}], [
            {"id": P.OPEN_RESULT, "property": "data", "value": previous},
            {"id": P.WATCHER, "property": "data", "value": "page-1"}])[P.CANCEL_RESULT]["data"]
        assert answer["state"] in ("loading", "cancelled", "queued", "ready", "unknown"), answer
    query = f"from={opened['from_ms']}&to={opened['to_ms']}"
    final = wait_until(lambda: (a := supervisor.request("GET", f"/api/replay/status?{query}")[1])["state"]
                       in ("cancelled", "ready") and a, timeout=30, what="the load to end")
    # The shift is small: the load may have finished before the first cancel arrived. Either way every
    # worker now says the same thing.
    states = {supervisor.request("GET", f"/api/replay/status?{query}")[1]["state"] for _ in range(9)}
    assert states == {final["state"]}
