"""The wall-screen map stays legible at density (issue 11, item 6), in a real Chromium at 1920x1080.

A dense picture (40 patrols with the demo's call signs, 20 sightings and 8 drones within 2 km of
the Rennes centre) on the demo's zones, so the page opens at the demo's default view
(the zones fitted, zoom 14). Everything reaches the page as in production: input streams, ingest,
gateway. What a supervisor sees is read from the DOM: label boxes (getBoundingClientRect), cluster
icons and their counts, the map's bounds, the legend's box, the alert rings' panes.
"""

from __future__ import annotations

import random
import re
import time

import pytest
from selenium.webdriver.common.by import By

from dispatch.domain.alerts import AlertKind, Severity, new_alert
from dispatch.demo.scenario_rennes import call_signs
from dispatch.store.alerts import apply_diff, escalate
from dispatch.demo.zones import seed_demo_zones
from tests.browser.chromium import WALL_SCREEN, set_viewport
from tests.browser.screen import Screen, now_ms, patrol, sighting, telemetry
from tests.support.processes import python_module, wait_until
from dispatch.ui.pages.screen import ids as screen_ids

pytestmark = pytest.mark.browser

CENTRE = (48.111, -1.680)
PATROLS, SIGHTINGS, DRONES = 40, 20, 8
STATUSES = ("available", "available", "assigned", "en_route", "on_scene", "unavailable")

# Every unit label drawn on screen: shown (not hidden by the declutter pass or the crowded-map
# rules) and at least partly inside the map. With its box, border and background.
LABELS = """
const frame = document.querySelector('.dispatch-map').getBoundingClientRect();
const glyphs = Array.from(document.querySelectorAll('.dispatch-map [data-unit-id]')).map(unit =>
  [unit.dataset.unitId, unit.querySelector('.glyph').getBoundingClientRect()]);
return Array.from(document.querySelectorAll('.dispatch-map .unit-label')).filter(label => {
  const s = getComputedStyle(label), r = label.getBoundingClientRect();
  return s.visibility === 'visible' && s.display !== 'none' && r.width > 0 && r.height > 0 &&
         r.right > frame.left && r.left < frame.right && r.bottom > frame.top && r.top < frame.bottom;
}).map(label => {
  const r = label.getBoundingClientRect(), s = getComputedStyle(label);
  const unit = label.closest('[data-unit-id]');
  const glyph = unit.querySelector('.glyph').getBoundingClientRect();
  return {id: unit.dataset.unitId, kind: unit.dataset.kind, text: label.textContent,
          left: r.left, right: r.right, top: r.top, bottom: r.bottom,
          glyph: {left: glyph.left, right: glyph.right, top: glyph.top, bottom: glyph.bottom},
          border: parseFloat(s.borderTopWidth), background: s.backgroundColor, padding: parseFloat(s.paddingLeft),
          over: glyphs.filter(([id, g]) => id !== unit.dataset.unitId && g.left < r.right && r.left < g.right &&
                                           g.top < r.bottom && r.top < g.bottom).map(([id]) => id)};
});
"""

# The cluster icons on the map (their counts per kind, what they say) and the unit markers drawn on their
# own (not inside a cluster); the zone names shown, with the cluster icons' boxes.
CLUSTERS = """
const box = el => { const r = el.getBoundingClientRect(); return {left: r.left, right: r.right, top: r.top, bottom: r.bottom,
                                                                  text: el.innerText.replace(/\\s+/g, ' ').trim()}; };
const icons = Array.from(document.querySelectorAll('.dispatch-map .dz-cluster'));
return {
  clusters: icons.map(c => ({
    count: Number(c.dataset.count), patrols: Number(c.dataset.patrols), sightings: Number(c.dataset.sightings),
    free: c.dataset.free === undefined ? null : Number(c.dataset.free), worst: c.dataset.worst || null,
    alert: c.dataset.alert || null, text: c.innerText.replace(/\\s+/g, ' ').trim(),
    rows: Array.from(c.querySelectorAll('.dz-cluster-row')).map(r => r.innerText.replace(/\\s+/g, ' ').trim())})),
  alone: Array.from(document.querySelectorAll('.dispatch-map .leaflet-marker-pane [data-unit-id]'))
    .map(u => u.dataset.kind),
  boxes: icons.map(box).concat(Array.from(document.querySelectorAll('.dispatch-map .zone-label'))
    .filter(z => getComputedStyle(z).visibility === 'visible').map(box))
};
"""


def overlapping(labels: list[dict]) -> list[tuple[str, str]]:
    pairs = []
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            if a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]:
                pairs.append((a["text"], b["text"]))
    return pairs


def place(rng: random.Random) -> tuple[float, float]:
    """A point within 1.8 km north-south and 2.4 km east-west of the centre: the middle of the map at zoom 14."""
    return CENTRE[0] + rng.uniform(-0.016, 0.016), CENTRE[1] + rng.uniform(-0.032, 0.032)


@pytest.fixture
def dense(screen, redis_client):
    """The demo's zones and a dense picture around the centre; returns (patrol ids, sightings, drone ids)."""
    keys = screen.keys
    seed_demo_zones(redis_client, keys, now_ms(), tz=screen.settings.timezone)
    rng = random.Random(11)
    pipe = redis_client.pipeline(transaction=False)
    patrol_ids = call_signs(PATROLS)  # PS-1, BAC-11, ... CYN-51: the ones that could run into a false call sign
    for number, patrol_id in enumerate(patrol_ids):
        pipe.xadd(keys.in_patrols, patrol(patrol_id, *place(rng), STATUSES[number % len(STATUSES)]))
    sightings = [sighting(*place(rng), priority=1 + number % 3, category=("deal", "lookout", "vehicle")[number % 3])
                 for number in range(SIGHTINGS)]
    for unit in sightings:
        pipe.xadd(keys.in_sightings, unit)
    drone_ids = [f"DR-{number:02d}" for number in range(1, DRONES + 1)]
    for drone_id in drone_ids:
        pipe.xadd(keys.in_telemetry, telemetry(drone_id, *place(rng), heading=rng.uniform(0, 360)))
    pipe.execute()
    return patrol_ids, sightings, drone_ids


@pytest.fixture
def page(browser, screen) -> Screen:
    # The 1080p wall screen these boxes are about, whatever an earlier module left.
    set_viewport(browser, *WALL_SCREEN)
    return Screen(browser, screen.url)


def open_dense(page: Screen) -> None:
    page.open()
    wait_until(lambda: page.js("""const u = dispatchScreen.model.units;
        return u.patrols.size === arguments[0] && u.sightings.size === arguments[1] && u.drones.size === arguments[2]
               && u.zones.size > 0 && Array.from(u.sightings.values()).every(s => s.number)""",
                               PATROLS, SIGHTINGS, DRONES), timeout=20, what="the dense picture on the page")
    settle(page)


def settle(page: Screen) -> None:
    """Wait for the declutter pass to run after the last change, and for nothing to be left unplaced."""
    runs = page.js("return dispatchScreen.labels.stats.runs")
    wait_until(lambda: page.js("return dispatchScreen.labels.stats.runs") > runs, timeout=5,
               what="the declutter pass to run again")
    time.sleep(0.45)  # past the throttle: the last requested pass has run


def zoom(page: Screen) -> int:
    return page.js("return dispatchScreen.mapView.map.getZoom()")


def set_zoom(page: Screen, level: int) -> None:
    page.js("dispatchScreen.mapView.map.setView(arguments[0], arguments[1], {animate: false})", list(CENTRE), level)
    wait_until(lambda: zoom(page) == level, timeout=5, what=f"zoom {level}")
    settle(page)


def assert_legible(page: Screen, at_least: int) -> list[dict]:
    labels = page.js(LABELS)
    assert overlapping(labels) == [], "label boxes drawn over one another"
    assert len(labels) >= at_least, f"only {len(labels)} labels shown: decluttering must not hide them all"
    # Nor over another unit's glyph: a pin drawn over "S-0142" would leave "S-01".
    assert [(label["text"], label["over"]) for label in labels if label["over"]] == []
    for label in labels:
        assert label["border"] >= 1 and label["padding"] >= 2, f"{label['text']}: a box with padding"
        alpha = re.fullmatch(r"rgba?\((\d+), (\d+), (\d+)(?:, ([\d.]+))?\)", label["background"])
        assert alpha and float(alpha.group(4) or 1) >= 0.8, f"{label['text']}: an opaque background"
        # Next to its own glyph, not drifted off to another unit.
        g = label["glyph"]
        gap = max(g["left"] - label["right"], label["left"] - g["right"], g["top"] - label["bottom"],
                  label["top"] - g["bottom"])
        assert gap <= 8, f"{label['text']} is {gap:.0f} px from its unit"
    return labels


def test_at_the_default_zoom_no_label_box_is_drawn_over_another(page, screen, dense, redis_client):
    patrol_ids, sightings, _ = dense
    open_dense(page)
    assert zoom(page) == 14, "the demo's default view: its zones fitted"
    assert page.js("return document.querySelectorAll('.dispatch-map .dz-cluster').length") == 0, \
        "nothing clustered at the demo's zoom"
    labels = assert_legible(page, at_least=20)
    shown = {label["id"]: label for label in labels}
    # Sighting pins read their incident number, and they are kept before patrols (lower priority).
    numbers = [shown[s["sighting_id"]]["text"] for s in sightings if s["sighting_id"] in shown]
    assert len(numbers) >= SIGHTINGS / 2, f"{len(numbers)} of {SIGHTINGS} sighting numbers shown"
    assert all(re.fullmatch(r"S-\d{4} P[123]", text) for text in numbers), numbers
    patrols_shown = sum(1 for label in labels if label["kind"] == "patrol")
    assert len(numbers) / SIGHTINGS > patrols_shown / PATROLS, "sightings' labels kept first"
    # Whatever is hidden is a whole label: each label shown is exactly one unit's own text.
    for label in labels:
        if label["kind"] == "patrol":
            assert label["text"].strip() == label["id"] and label["id"] in patrol_ids

    # Re-placed when the view changes and when units move.
    hidden = page.js("return dispatchScreen.labels.stats.hidden")
    assert hidden > 0, "a picture dense enough that some labels must give way"
    set_zoom(page, 15)  # closer: more room, fewer labels hidden
    assert_legible(page, at_least=20)
    assert page.js("return dispatchScreen.labels.stats.hidden") < hidden
    set_zoom(page, 14)
    rng = random.Random(12)
    pipe = redis_client.pipeline(transaction=False)
    for patrol_id in patrol_ids:
        pipe.xadd(screen.keys.in_patrols, patrol(patrol_id, *place(rng), "en_route"))
    pipe.execute()
    wait_until(lambda: page.js("""return Array.from(dispatchScreen.model.units.patrols.values())
                                  .every(p => p.status === 'en_route')"""), timeout=10, what="the patrols to move")
    settle(page)
    assert_legible(page, at_least=20)
    stats = page.js("return dispatchScreen.labels.stats")
    assert stats["ms"] < 50, f"the declutter pass took {stats['ms']} ms"


def test_the_demo_scenario_stays_legible(page, screen, redis_client):
    """The demo itself: its simulator's patrols and drones over its zones, at its default view."""
    seed_demo_zones(redis_client, screen.keys, now_ms(), tz=screen.settings.timezone)
    simulator = python_module("simulator", "dispatch.demo.simulator", screen.settings).start()
    try:
        page.open()
        wait_until(lambda: page.js("return dispatchScreen.model.units.patrols.size") == screen.settings.sim_patrols
                   and page.js("return dispatchScreen.model.units.drones.size") > 0, timeout=20,
                   what="the demo's patrols and drones")
        settle(page)
        assert zoom(page) == 14
        # The patrols drive all the time: check what every pass of the page's own leaves on screen,
        # in the same task (a label may trail its moving unit for a frame or two between passes).
        page.js("""window.labelChecks = []; const measure = new Function(arguments[0]);
                   dispatchScreen.labels.onRun = () => window.labelChecks.push(measure());""", LABELS)
        time.sleep(4)
        checks = page.js("dispatchScreen.labels.onRun = null; return window.labelChecks")
        assert len(checks) >= 5, "the labels are placed again as the units move"
        for labels in checks:
            assert overlapping(labels) == [], "label boxes drawn over one another"
            assert [(label["text"], label["over"]) for label in labels if label["over"]] == []
            assert len(labels) >= 10
    finally:
        simulator.stop()


def test_zoomed_out_units_are_clustered_with_counts_that_add_up(page, screen, dense, redis_client):
    patrol_ids, sightings, _ = dense
    # A critical alert on one patrol: its cluster says so (shape and word).
    alert = new_alert(AlertKind.PATROL_STALE, patrol_ids[0], f"{patrol_ids[0]} silent", now_ms(), *CENTRE)
    apply_diff(redis_client, screen.keys, [alert.model_copy(update={"severity": Severity.CRITICAL})], [], now_ms())
    open_dense(page)
    wait_until(lambda: page.js("return dispatchScreen.model.units.alerts.size") == 1, timeout=10, what="the alert")
    # One patrol drives 13 km north while zoomed in (where its moves are not filed in the cluster index
    # until the zoom changes): zoomed out, it is on its own, where it is now.
    far = patrol_ids[1]
    redis_client.xadd(screen.keys.in_patrols, patrol(far, CENTRE[0] + 0.12, CENTRE[1], "available"))
    page.wait_marker(far, lambda m: m["lat"] == pytest.approx(CENTRE[0] + 0.12), what=f"{far} north")

    set_zoom(page, 11)
    seen = page.js(CLUSTERS)
    clusters = seen["clusters"]
    assert clusters, "clusters when zoomed out"
    for kind, total, alone_kind in (("patrols", PATROLS, "patrol"), ("sightings", SIGHTINGS, "sighting")):
        counted = sum(c[kind] for c in clusters)
        alone = seen["alone"].count(alone_kind)
        assert counted + alone == total, f"{kind}: {counted} in clusters + {alone} alone"
        assert counted > total / 2, f"{kind}: most of them clustered at zoom 11"
    for cluster in clusters:
        assert cluster["count"] == cluster["patrols"] + cluster["sightings"]
        # A row per kind: its count written, with the worst inside in a word.
        expected = ([rf"{cluster['patrols']} {cluster['free']} free"] if cluster["patrols"] else []) + \
            ([rf"{cluster['sightings']} P[123]"] if cluster["sightings"] else [])
        assert len(cluster["rows"]) == len(expected)
        assert all(re.fullmatch(pattern, row) for pattern, row in zip(expected, cluster["rows"])), cluster["rows"]
    biggest = max(clusters, key=lambda c: c["sightings"])
    assert biggest["worst"] == "prio-1" and "P1" in biggest["text"], "the most urgent priority inside, in a word"
    assert [c["alert"] for c in clusters].count("critical") == 1, "the patrol's critical alert, on its cluster"
    assert all("ALERT" in c["text"] for c in clusters if c["alert"] == "critical")
    assert overlapping(page.js(LABELS) + seen["boxes"]) == [], "zoomed out too, no label or cluster over another"
    assert page.marker(far) is not None, "the patrol that drove away is alone, not in the cluster it left"

    # A layer switched off stays off while its units move; back on, they are where they are now.
    toggle = f"document.querySelector(`#{screen_ids.LAYER_TOGGLES} [data-layer='patrols']`).click()"
    page.js(toggle)
    assert page.js(CLUSTERS)["alone"].count("patrol") == 0
    assert sum(c["patrols"] for c in page.js(CLUSTERS)["clusters"]) == 0
    redis_client.xadd(screen.keys.in_patrols, patrol(far, CENTRE[0] + 0.10, CENTRE[1], "available"))
    wait_until(lambda: page.js("return dispatchScreen.model.units.patrols.get(arguments[0]).lat", far)
               == pytest.approx(CENTRE[0] + 0.10), timeout=10, what="the hidden patrol's move")
    time.sleep(0.3)
    assert page.marker(far) is None and page.js(CLUSTERS)["alone"].count("patrol") == 0, "still off"
    page.js(toggle)
    assert page.wait_marker(far)["lat"] == pytest.approx(CENTRE[0] + 0.10)

    # Units keep coming while clustered: the counts follow without rebuilding the groups.
    group_ids = page.js("""const g = dispatchScreen.mapView.groups;
                           return [g.patrols._leaflet_id, g.sightings._leaflet_id, g.patrols._shared._leaflet_id]""")
    redis_client.xadd(screen.keys.in_patrols, patrol("BAC-99", CENTRE[0], CENTRE[1] + 0.001))
    def patrols_counted():
        now = page.js(CLUSTERS)
        return sum(c["patrols"] for c in now["clusters"]) + now["alone"].count("patrol")

    wait_until(lambda: patrols_counted() == PATROLS + 1, timeout=10, what="the new patrol counted")
    assert page.js("""const g = dispatchScreen.mapView.groups;
                      return [g.patrols._leaflet_id, g.sightings._leaflet_id, g.patrols._shared._leaflet_id]""") == group_ids

    # Back at the demo's zoom, every unit is its own marker again.
    set_zoom(page, 14)
    seen = page.js(CLUSTERS)
    assert seen["clusters"] == []
    assert seen["alone"].count("patrol") == PATROLS + 1 and seen["alone"].count("sighting") == SIGHTINGS


def test_fit_all_shows_every_unit_within_the_map(page, screen, dense):
    open_dense(page)
    inside = """const map = dispatchScreen.mapView.map, b = map.getBounds(), u = dispatchScreen.model.units;
                const out = [];
                ['drones', 'patrols', 'sightings'].forEach(k => u[k].forEach((v, id) => {
                  if (!b.contains([v.lat, v.lon])) out.push(id); }));
                return out;"""
    button = page.driver.find_element(By.ID, screen_ids.FIT_ALL)
    size = button.size
    assert size["width"] >= 48 and size["height"] >= 48, f"a large touch target: {size}"

    for how in ("button", "key"):
        page.js("dispatchScreen.mapView.map.setView([48.20, -1.50], 16, {animate: false})")
        assert len(page.js(inside)) == PATROLS + SIGHTINGS + DRONES, "looking elsewhere"
        if how == "button":
            button.click()
        else:
            page.driver.find_element(By.TAG_NAME, "body").send_keys("f")
        wait_until(lambda: page.js(inside) == [], timeout=5, what=f"every unit in view after fit all ({how})")
        assert 12 <= zoom(page) <= 16


def test_the_legend_collapses_and_never_covers_a_unit(page, screen, dense):
    open_dense(page)
    legend = """const l = document.getElementById('sup-legend'), r = l.getBoundingClientRect();
                const m = document.querySelector('.dispatch-map').getBoundingClientRect();
                const covered = Array.from(document.querySelectorAll('.dispatch-map [data-unit-id] .glyph-wrap'))
                  .map(g => g.getBoundingClientRect())
                  .filter(g => g.left < r.right && r.left < g.right && g.top < r.bottom && r.top < g.bottom).length;
                return {shown: !l.classList.contains('hidden') && r.height > 0, top: r.top, mapBottom: m.bottom,
                        mapHeight: m.height, covered: covered,
                        pressed: document.querySelector('#sup-layers [data-layer=legend]').getAttribute('aria-pressed')};"""
    closed = page.js(legend)
    assert not closed["shown"] and closed["pressed"] == "false", "collapsed by default"
    body = page.driver.find_element(By.TAG_NAME, "body")

    body.send_keys("l")
    opened = wait_until(lambda: (v := page.js(legend))["shown"] and v, timeout=3, what="the legend open (key l)")
    assert opened["pressed"] == "true"
    assert opened["mapBottom"] <= opened["top"] + 1, "under the map, not over it"
    assert opened["covered"] == 0, "no unit under the legend"
    assert opened["mapHeight"] < closed["mapHeight"], "it took its room from the map"
    wait_until(lambda: page.js("""const m = dispatchScreen.mapView.map;
                                  return m.getSize().y === Math.round(m.getContainer().getBoundingClientRect().height)"""),
               timeout=3, what="Leaflet to know the map's new size")

    page.js(f"document.querySelector('#{screen_ids.LAYER_TOGGLES} [data-layer=legend]').click()")
    again = page.js(legend)
    assert not again["shown"] and again["pressed"] == "false" and again["mapHeight"] == closed["mapHeight"]


def test_a_critical_ring_is_drawn_above_a_warning(page, screen, dense, redis_client):
    patrol_ids, sightings, drone_ids = dense
    open_dense(page)
    here = page.js("const u = dispatchScreen.model.units.drones.get(arguments[0]); return [u.lat, u.lon]", drone_ids[0])
    warning = new_alert(AlertKind.LOW_BATTERY, drone_ids[0], "low battery", now_ms(), *here)
    critical = new_alert(AlertKind.SIGHTING_UNASSIGNED, sightings[0]["sighting_id"], "nobody sent", now_ms(), *here)
    critical = critical.model_copy(update={"severity": Severity.CRITICAL})
    apply_diff(redis_client, screen.keys, [warning, critical], [], now_ms())
    rings = """return Array.from(document.querySelectorAll('.dispatch-map [data-ring-for]')).map(r => {
                 const pane = r.closest('.leaflet-pane');
                 return {for: r.dataset.ringFor, classes: r.className, pane: pane.className,
                         z: Number(getComputedStyle(pane).zIndex), parent: pane.parentElement.className};
               });"""
    found = wait_until(lambda: len(v := page.js(rings)) == 2 and v, timeout=10, what="two alert rings")
    by_kind = {("critical" if "is-critical" in ring["classes"] else "warning"): ring for ring in found}
    assert by_kind["critical"]["z"] > by_kind["warning"]["z"], by_kind
    assert by_kind["critical"]["parent"] == by_kind["warning"]["parent"], "sibling panes: z-index decides"

    # A warning that escalates to critical moves above the other warnings, in place.
    escalated = warning.model_copy(update={"severity": Severity.CRITICAL})
    escalate(redis_client, screen.keys, [escalated], now_ms())
    wait_until(lambda: all("is-critical" in r["classes"] and "critical" in r["pane"] for r in page.js(rings)),
               timeout=10, what="the escalated ring in the critical pane")
