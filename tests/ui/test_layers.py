"""The map's vocabulary: every state the contract knows has a look, and the rules follow the settings.

The browser draws from these tables (through `map_rules`) and the legend is
built from them, so a status added to the contract without a look here, or a
threshold that drifts from the alert watcher's, fails here first.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from dispatch.domain.alerts import Severity
from dispatch.domain.models import PatrolStatus, SightingCategory
from dispatch.domain.zones import ZoneStatus
from dispatch.settings import Settings
from dispatch.ui import layers as L

ASSETS_CSS = Path(__file__).resolve().parent.parent.parent / "assets" / "style.css"


def test_every_patrol_status_of_the_contract_has_its_own_glyph_and_word():
    assert [look.state for look in L.PATROL_LOOKS] == [status.value for status in PatrolStatus]
    assert len({look.glyph for look in L.PATROL_LOOKS}) == len(PatrolStatus)
    assert len({look.label for look in L.PATROL_LOOKS}) == len(PatrolStatus)


def test_every_category_has_a_distinct_capital_letter():
    assert set(L.CATEGORY_LETTERS) == {category.value for category in SightingCategory}
    letters = list(L.CATEGORY_LETTERS.values())
    assert len(set(letters)) == len(letters)
    assert all(len(letter) == 1 and letter.isupper() for letter in letters)


def test_category_key_spells_out_every_letter():
    assert L.category_key() == "L lookout · D deal · V vehicle · G gathering · O other"


def test_zone_and_alert_looks_cover_their_enums():
    assert {look.state for look in L.ZONE_LOOKS} == {status.value for status in ZoneStatus}
    assert {Severity.CRITICAL.value, Severity.WARNING.value} <= {look.state for look in L.ALERT_LOOKS}


def test_every_glyph_class_of_the_legend_is_styled():
    css = ASSETS_CSS.read_text(encoding="utf-8")
    for _title, looks in L.legend_sections():
        for look in looks:
            shape, state = look.glyph.split()
            assert f".{shape}" in css, look
            assert f".{shape}.{state} " in css or f".{shape}.{state}," in css, look


def test_legend_shows_every_look_once():
    shown = [look for _title, looks in L.legend_sections() for look in looks]
    assert len(shown) == len({(look.glyph, look.label) for look in shown})
    assert {look.state for look in shown} >= {s.value for s in PatrolStatus}


@pytest.mark.parametrize(
    "env, link_lost_ms, low_battery",
    [({}, 5_000, 25.0),
     ({"DISPATCH_ALERT_LINK_LOST_S": "2.5", "DISPATCH_ALERT_LOW_BATTERY_PCT": "40"}, 2_500, 40.0)],
)
def test_map_rules_take_the_alert_watchers_thresholds(env, link_lost_ms, low_battery):
    rules = L.map_rules(Settings.from_env(env))
    assert rules["link_lost_ms"] == link_lost_ms
    assert rules["low_battery_pct"] == low_battery


def test_map_rules_are_json_and_name_every_layer_and_state():
    rules = orjson.loads(orjson.dumps(L.map_rules(Settings())))
    assert rules["layers"] == ["zones", "sightings", "patrols", "drones", "trails", "alerts"]
    assert set(rules["patrol_states"]) == {status.value for status in PatrolStatus}
    assert rules["drone_states"] == {"ok": "flying", "low_battery": "low battery", "lost": "link lost"}
    assert rules["category_letters"] == L.CATEGORY_LETTERS
    assert 0 < rules["fade_min_opacity"] < 1 and rules["sighting_fade_ms"] > 0
    assert rules["trail_points"] == L.TRAIL_POINTS
    assert rules["drone_labels_up_to"] == L.DRONE_LABELS_UP_TO
    assert rules["sighting_labels_up_to"] == L.SIGHTING_LABELS_UP_TO


def test_canvas_threshold_leaves_the_demo_on_labelled_markers():
    # The demo's 24 patrols are drawn as DOM markers with call signs; a city-wide fleet goes to canvas.
    assert Settings().sim_patrols < L.PATROLS_ON_CANVAS_ABOVE < 1_000
