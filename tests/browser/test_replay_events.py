"""Issue 15: a window of thousands of events in a real Chromium: the event list virtualised, the figures
asked for one at a time.

3,000 sightings in the last 50 minutes, written to the input stream as a bridge would (ids = arrival =
their own time; the replay loader judges what ingest has not, store/history.py), and one drone. The list
must hold only a bounded number of rows whatever the window's length, and still scroll to the end, take
a click, the keyboard and the instant, and say to a screen reader where each row stands.
"""

from __future__ import annotations

import pytest

from dispatch.clock import now_ms
from dispatch.ui.pages.replay import ids as P
from tests.browser.test_replay import ReplayPage
from tests.support.processes import wait_until

pytestmark = pytest.mark.browser
S = 1000
EVENTS = 3000
ROWS_AT_MOST = 120  # a 1080 px screen shows about 30 rows; the margin adds 20 either side

ROWS = """
const box = document.getElementById('rp-events');
const view = box.getBoundingClientRect();
return Array.from(box.querySelectorAll('.rp-ev')).map(row => {
  const r = row.getBoundingClientRect();
  return {index: Number(row.dataset.index), ts: Number(row.dataset.ts), classes: row.className,
          current: row.getAttribute('aria-current'), pos: Number(row.getAttribute('aria-posinset')),
          size: Number(row.getAttribute('aria-setsize')), role: row.getAttribute('role'),
          seen: r.bottom > view.top + 1 && r.top < view.bottom - 1};
});
"""


@pytest.fixture
def many_events(redis_client, keys):
    """EVENTS sightings a second apart, ending a minute ago, and DR-7 flying over them."""
    end = now_ms() // 1000 * 1000 - 60 * S
    start = end - (EVENTS - 1) * S
    pipe = redis_client.pipeline(transaction=False)
    for k in range(0, EVENTS, 10):
        ts = start + k * S
        pipe.xadd(keys.in_telemetry, {"drone_id": "DR-7", "ts": ts, "lat": 48.1, "lon": -1.68, "alt_m": 90,
                                      "heading_deg": 0, "speed_mps": 9, "battery_pct": 80}, id=f"{ts}-0")
    for k in range(EVENTS):
        ts = start + k * S
        pipe.xadd(keys.in_sightings, {
            "sighting_id": f"sight-{k:05d}", "ts": ts, "drone_id": "DR-7", "operator_id": "OP-3",
            "category": "deal", "lat": 48.1 + k * 1e-5, "lon": -1.68, "priority": 2, "note": f"note {k}"},
            id=f"{ts}-0")
    pipe.execute()
    return [start + k * S for k in range(EVENTS)]


def rows(page):
    return page.js(ROWS)


def scroll_events(page, top) -> None:
    page.js("const box = document.getElementById('rp-events'); box.scrollTop = arguments[0];"
            "box.dispatchEvent(new Event('scroll'));", top)
    page.js("return new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")


def test_thousands_of_events_keep_a_bounded_list_that_scrolls_clicks_and_follows_the_instant(
        browser, web, many_events):
    stamps = many_events
    page = ReplayPage(browser, web).open()
    page.load("hour")
    assert page.js(f"return document.getElementById('{P.EVENTS_COUNT}').textContent") == f"{EVENTS} events"
    shown = rows(page)
    assert 10 < len(shown) <= ROWS_AT_MOST, len(shown)
    assert [r["index"] for r in shown] == list(range(len(shown))), "the first rows, in order"
    assert {(r["role"], r["size"]) for r in shown} == {("listitem", EVENTS)}
    assert [r["pos"] for r in shown[:3]] == [1, 2, 3]
    assert page.js("return document.getElementById('rp-events').getAttribute('role')") == "list"
    height = page.js("return dispatchReplay.events.list.rowHeight")
    assert page.js("return document.getElementById('rp-events').scrollHeight") >= EVENTS * height - 1, \
        "the scroll bar is the whole list's"

    # Scrolled to the end: the last event is there, in view, and the DOM still holds a bounded number of rows.
    scroll_events(page, 10**9)
    shown = rows(page)
    assert len(shown) <= ROWS_AT_MOST
    last = shown[-1]
    assert (last["index"], last["ts"], last["pos"], last["seen"]) == (EVENTS - 1, stamps[-1], EVENTS, True)

    # A click on a row near the end jumps to its instant; it becomes current, those before it past.
    target = EVENTS - 5
    browser.find_element("css selector", f'#rp-events .rp-ev[data-index="{target}"]').click()  # a real click
    page.wait_drawn(stamps[target])
    by_index = {r["index"]: r for r in rows(page)}
    assert "is-current" in by_index[target]["classes"] and by_index[target]["current"] == "true"
    assert "is-past" in by_index[target - 1]["classes"] and "is-past" not in by_index[target + 1]["classes"]
    assert [r["index"] for r in rows(page) if "is-current" in r["classes"]] == [target]

    # The keyboard: the clicked row has the focus; ↓ moves it, End to the last, Enter jumps there.
    assert page.js("return document.activeElement.dataset.index") == str(target)
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys as Key
    ActionChains(browser).send_keys(Key.ARROW_DOWN).perform()
    assert page.js("return document.activeElement.dataset.index") == str(target + 1)
    ActionChains(browser).send_keys(Key.HOME).perform()
    assert page.js("return document.activeElement.dataset.index") == "0"
    assert next(r for r in rows(page) if r["index"] == 0)["seen"], "Home scrolled the first row into view"
    ActionChains(browser).send_keys(Key.END).perform()
    assert page.js("return document.activeElement.dataset.index") == str(EVENTS - 1)
    ActionChains(browser).send_keys(Key.ENTER).perform()
    page.wait_drawn(stamps[-1])
    assert page.js("return dispatchReplay.events.current") == EVENTS - 1
    # ← (the transport's previous event) from a focused row: the row before becomes current.
    ActionChains(browser).send_keys(Key.ARROW_LEFT).perform()
    page.wait_drawn(stamps[-2])
    assert [r["index"] for r in rows(page) if "is-current" in r["classes"]] == [EVENTS - 2]

    # Scrolled far from the focused row: the rows go, but the focused one stays (the focus is not lost).
    scroll_events(page, 0)
    indexes = [r["index"] for r in rows(page)]
    assert len(indexes) <= ROWS_AT_MOST + 1 and indexes[0] == 0 and EVENTS - 1 in indexes
    assert page.js("return document.activeElement.dataset.index") == str(EVENTS - 1)

    # Playing from the start: the current event follows the instant, on screen.
    page.js("document.activeElement.blur()")
    page.js("dispatchReplay.setInstant(arguments[0], 'test')", stamps[100])
    page.wait_drawn(stamps[100])
    page.js("document.querySelector('#rp-speeds [data-speed=\"60\"]').click()")
    page.js("dispatchReplay.play()")
    wait_until(lambda: page.js("return dispatchReplay.events.current") > 200, timeout=15, what="playing past 200")
    page.js("dispatchReplay.pause()")
    current = page.js("return dispatchReplay.events.current")
    (row,) = [r for r in rows(page) if "is-current" in r["classes"]]
    assert row["index"] == current and row["seen"], "the current event is highlighted and scrolled into view"
    assert len(rows(page)) <= ROWS_AT_MOST
    assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def test_the_figures_come_one_at_a_time_and_appear_when_scrolled_to(browser, web, many_events):
    page = ReplayPage(browser, web).open()
    page.js("""window.figureAsks = [];
               const setProps = window.dash_clientside.set_props;
               window.dash_clientside.set_props = function (id, props) {
                 if (String(id).startsWith('rp-want-')) window.figureAsks.push(
                   {id: id, drawn: dispatchReplay.figures.state.drawn.length});
                 return setProps.apply(this, arguments);
               };""")
    page.load("hour")
    assert page.js("return dispatchReplay.figures.state.window.from_ms") == page.js(
        "return dispatchReplay.state.window.from_ms")

    def traces(graph_id: str, what: str = "name"):
        return page.js("""const plot = document.querySelector(`#${arguments[0]} .js-plotly-plot`);
                          return plot && plot.data ? plot.data.map(t => t[arguments[1]]) : null;""", graph_id, what)

    page.js(f"document.getElementById('{P.FIGURES['heatmap'][0]}').scrollIntoView()")
    wait_until(lambda: traces(P.FIGURES["heatmap"][0], "type") == ["heatmap"], timeout=20, what="the heat map")
    wait_until(lambda: len(page.js("return dispatchReplay.figures.state.drawn")) == len(P.FIGURES), timeout=30,
               what="every figure, in the end")
    assert traces(P.FIGURES["response_times"][0]) == ["patrol sent", "acknowledged", "on scene"]
    asks = page.js("return window.figureAsks")
    assert sorted(a["id"] for a in asks) == sorted(P.FIGURE_WANTED.values()), "each asked for once"
    assert [a["drawn"] for a in asks] == list(range(len(P.FIGURES))), "one at a time: each after the previous came"

    # A chart of an older window answered late (Load pressed again meanwhile): blanked, and this window's asked again.
    page.js("window.dash_clientside.set_props(arguments[0], {data: {name: 'heatmap', ok: true, from_ms: 1, to_ms: 2, "
            "nonce: -1}})", P.FIGURE_DONE)
    wait_until(lambda: page.js("return window.figureAsks.length") == len(P.FIGURES) + 1, timeout=10,
               what="the heat map asked for again")
    assert page.js("return window.figureAsks[window.figureAsks.length - 1].id") == P.FIGURE_WANTED["heatmap"]
    wait_until(lambda: traces(P.FIGURES["heatmap"][0], "type") == ["heatmap"]
               and len(page.js("return dispatchReplay.figures.state.drawn")) == len(P.FIGURES), timeout=20,
               what="this window's heat map drawn again")
    assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
