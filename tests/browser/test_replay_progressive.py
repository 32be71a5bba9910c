"""A replay window drawn while it loads (issue 15), in a real Chromium against gunicorn.

An hour of positions (tens of thousands, written as bridges write them, never judged by ingest so the
loader validates each) loaded with a small chunk size and a prefix every 0.3 s: the load takes
seconds, observably progressive. The first frame must be drawn while the status still says "loading",
the "loaded" bar under the slider must say how far, and an instant beyond it must say "loading up to …"
and be drawn once loaded.
"""

from __future__ import annotations

import dataclasses

import pytest

from dispatch.clock import now_ms
from tests.browser.test_replay import ReplayPage
from tests.support.processes import wait_until
from dispatch.ui.pages.replay import ids as replay_ids

pytestmark = pytest.mark.browser
S = 1000
POSITIONS = 60_000


@pytest.fixture
def settings(settings):
    return dataclasses.replace(settings, replay_chunk=200, replay_prefix_s=0.3)


@pytest.fixture
def hour_recorded(settings, keys, redis_client):
    """DR-0..DR-9 and BAC-0..BAC-4 over the last hour, arriving when stamped; whole-second ts at the end."""
    end = (now_ms() // S - 20) * S
    start = end - 3_660 * S
    step = (end - start) // POSITIONS
    pipe = redis_client.pipeline(transaction=False)
    for k in range(POSITIONS):
        ts = start + k * step
        if k % 7 == 0:
            pipe.xadd(keys.in_patrols, {"patrol_id": f"BAC-{k % 5}", "ts": ts, "lat": 48.1 + (k % 100) / 10_000,
                                        "lon": -1.67, "status": "available"}, id=f"{ts}-{k + 1}")
        else:
            pipe.xadd(keys.in_telemetry, {"drone_id": f"DR-{k % 10}", "ts": ts, "lat": 48.1 + (k % 100) / 10_000,
                                          "lon": -1.68, "alt_m": 90, "heading_deg": 0, "speed_mps": 9,
                                          "battery_pct": 80}, id=f"{ts}-{k + 1}")
        if k % 5_000 == 0:
            pipe.execute()
    pipe.execute()
    return end


def buffered(page):
    return page.js("""const box = document.querySelector('#rp-slider .rp-buffered');
                      return {until: box.dataset.until, waiting: box.dataset.waiting,
                              words: box.querySelector('.rp-buffered-text').textContent,
                              says: box.querySelector('.rp-waiting').textContent,
                              width: box.querySelector('.rp-buffered-bar').style.width};""")


def test_the_first_frame_is_drawn_while_the_window_loads_and_later_instants_once_loaded(browser, web,
                                                                                         hour_recorded):
    end = hour_recorded
    page = ReplayPage(browser, web).open()
    page.js(f"document.querySelector(`#{replay_ids.CHOICE} input[value='hour']`).click()")
    page.js(f"document.getElementById('{replay_ids.LOAD}').click()")
    wait_until(lambda: page.js("return dispatchReplay.frames.drawn > 0"), timeout=30,
               what="the first frame")
    status = page.js("return fetch(dispatchReplay.api('status', {})).then(r => r.json())")
    assert page.js("return dispatchReplay.state.ready") is False and status["state"] == "loading", \
        "drawn while the rest still loads"
    window = page.js("return dispatchReplay.state.window")
    assert page.drawn_t() == window["from_ms"]
    shown = buffered(page)
    assert int(shown["until"]) < window["to_ms"] and shown["words"].startswith("Loaded to ")
    assert shown["width"] not in ("", "100.00%")
    assert not page.js(f"return document.getElementById('{replay_ids.TRANSPORT}').classList.contains('is-disabled')")

    target = (end // S - 60) * S  # near the end: read last
    page.slide_to(target)
    waiting = buffered(page)
    assert waiting["waiting"] == str(target) and waiting["says"].startswith("loading up to ")
    assert page.drawn_t() != target, "never a picture of an instant not loaded yet"
    wait_until(lambda: page.drawn_t() == target, timeout=90, what="the instant drawn once loaded")
    assert buffered(page)["says"] == ""
    wait_until(lambda: page.js("return dispatchReplay.state.ready"), timeout=60, what="the whole window")
    assert buffered(page)["words"] == "Loaded"
    timing = page.js("return dispatchReplay.timing")
    assert timing["opened_at"] <= timing["first_frame_at"] <= timing["ready_at"]
