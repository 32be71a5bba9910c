"""The wall screen flags probable duplicates with its own copy of `sightings.probable_duplicates` (the queue
must flag them between two server answers): a property test holds the page's copy, running in real Chromium,
against the Python rule on the same generated sightings, so the two can never drift apart unnoticed."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.domain.sightings import probable_duplicates
from tests.browser.screen import Screen

pytestmark = pytest.mark.browser

T0 = 1_767_225_600_000
RENNES = (48.111, -1.680)

one_sighting = st.fixed_dictionaries({
    "category": st.sampled_from(["lookout", "vehicle"]),
    "ts": st.integers(T0, T0 + 12 * 60_000),
    # up to ~450 m apart: around the 150 m radius, both sides
    "lat": st.floats(RENNES[0] - 0.004, RENNES[0] + 0.004),
    "lon": st.floats(RENNES[1] - 0.006, RENNES[1] + 0.006),
    "priority": st.integers(1, 3),
})


def numbered(sightings: list[dict]) -> list[dict]:
    return [dict(s, sighting_id=f"s-{i:04d}", drone_id="DR-07", operator_id="OP-3", note="")
            for i, s in enumerate(sightings)]


@pytest.fixture
def page(browser, screen) -> Screen:
    return Screen(browser, screen.url).open()


def test_the_pages_duplicate_rule_is_the_domains(page):
    sizes = []

    @settings(max_examples=150, deadline=None, derandomize=True)
    @given(st.lists(one_sighting, min_size=2, max_size=9))
    def agrees(drawn):
        sightings = numbered(drawn)
        on_page = page.js("""
            const S = window.dispatchScreen;
            S.model.replace({sightings: arguments[0]}, "test");
            return Object.fromEntries(arguments[0].map(s => [s.sighting_id, S.queue.duplicateOf(s.sighting_id)])
                                                  .filter(pair => pair[1] !== null));""", sightings)
        expected = probable_duplicates(sightings)
        assert on_page == expected
        sizes.append(len(expected))

    agrees()
    assert sum(1 for n in sizes if n) >= 20 and 0 in sizes, f"both sides of the rule were tried: {sizes}"
    flagged = page.js("""
        const S = window.dispatchScreen;
        const near = (id, dlat, age) => ({sighting_id: id, category: "lookout", ts: Date.now() - age, lat: 48.111 + dlat,
                                          lon: -1.68, priority: 2, drone_id: "DR-07", operator_id: "OP-3", note: ""});
        S.model.replace({sightings: [near("s-a", 0, 60000), near("s-b", 0.0005, 10000)]}, "test");
        return S.queue.duplicateOf("s-b");""")
    assert flagged == "s-a", "the property above ran against a rule that flags something"
