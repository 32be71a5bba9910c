"""Text typed by people (sighting notes, zone names, decree references): what you see is what was sent.

A wall screen shows these strings to supervisors who act on them. Beyond the
control characters the contract already refuses (line breaks, escapes, C1), a
few invisible characters can make a string *look* like something else:

- bidirectional controls (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C)
  reorder what follows, so a note can be displayed as different words than it holds;
- zero-width characters (U+200B–U+200D, U+2060, U+FEFF) and the other Unicode
  *format* characters (general category Cf, e.g. the soft hyphen U+00AD, the
  Mongolian vowel separator U+180E, tag characters) hide inside words, so two
  notes or zone names that look the same differ, and a search misses one;
- private-use characters (category Co) render as whatever a font decides;
- letters that draw nothing at all (Hangul fillers, the combining grapheme
  joiner, the Braille blank).

These are **refused, not stripped**: stripping would change a message behind its
author's back, and the refusal names the character so the sender can fix it.
The cost is that emoji built with a zero-width joiner (a family, a flag with a
tag sequence) are refused in a note; a neutral description needs neither.
"""

from __future__ import annotations

import unicodedata

# Letters and marks that draw nothing, though their category is not Cf.
_BLANK_LOOKING = frozenset("\u034f\u115f\u1160\u2800\u3164\uffa0")


def invisible_character(text: str) -> str | None:
    """The first invisible or reordering character of `text`, described for a person; None if there is none."""
    for char in text:
        if char in _BLANK_LOOKING or unicodedata.category(char) in ("Cf", "Co"):
            name = unicodedata.name(char, "unnamed character")
            return f"U+{ord(char):04X} {name}"
    return None


def check_visible(text: str) -> str:
    """For a pydantic AfterValidator: the text unchanged, or a ValueError naming the character."""
    found = invisible_character(text)
    if found is not None:
        raise ValueError(
            f"contains {found}, an invisible character that can disguise text on screen "
            "(bidi controls, zero-width and format characters are refused)"
        )
    return text
