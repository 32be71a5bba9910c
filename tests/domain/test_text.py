"""Free text people type: invisible characters are found and named, visible text passes unchanged."""

from __future__ import annotations

import pytest

from dispatch.domain.text import check_visible, invisible_character
from dispatch.domain.zones import ZoneError, make_zone


@pytest.mark.parametrize("text", ["", "Groupe devant l'entrée du hall B", "Véhicule 😀 ∆ 北京", "a\u00a0b"])
def test_visible_text_passes_unchanged(text):
    assert invisible_character(text) is None
    assert check_visible(text) == text


@pytest.mark.parametrize("char, named", [
    ("\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE"), ("\u2067", "U+2067 RIGHT-TO-LEFT ISOLATE"),
    ("\u200b", "U+200B ZERO WIDTH SPACE"), ("\u200d", "U+200D ZERO WIDTH JOINER"),
    ("\ufeff", "U+FEFF ZERO WIDTH NO-BREAK SPACE"), ("\u00ad", "U+00AD SOFT HYPHEN"),
    ("\u3164", "U+3164 HANGUL FILLER"), ("\ue000", "U+E000"),
])
def test_invisible_characters_are_named(char, named):
    assert invisible_character(f"hall {char}B").startswith(named)
    with pytest.raises(ValueError, match="invisible character"):
        check_visible(f"hall {char}B")


def test_a_zone_name_with_a_bidi_override_is_refused_with_the_character():
    with pytest.raises(ZoneError, match=r"name: contains U\+202E"):
        make_zone(zone_id="Z-TEST", name="Villejean \u202eZ", decree_ref="2026-11-035-PREF35",
                  polygon=[(-1.70, 48.12), (-1.69, 48.12), (-1.69, 48.13)], valid_from_ms=1, valid_until_ms=2)
