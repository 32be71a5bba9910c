"""Human incident numbers: `S-0142`, unique per site and local day.

A sighting id ("sim-da1d…", a UUID) is for machines; a supervisor reads a number
out over the radio. The ingest step allocates one, atomically, the first time a
sighting id reaches the picture (store/scripts.py): from a per-day counter key
(`Keys.sighting_number(day)`), so two workers never hand out the same number.
Updates of the sighting keep it; a redelivered entry changes nothing.

Which day: the local date, in DISPATCH_TIMEZONE, at which Redis received the
sighting's first entry (the millisecond part of its stream id), not the
operator's `ts`. Arrival is Redis's own clock, so a bridge with a wrong clock
cannot number a sighting into another day; and a shift that crosses local
midnight starts again at S-0001, as the people on duty expect.

Pure: formatting and the choice of day only.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Mapping
from zoneinfo import ZoneInfo

PREFIX = "S-"
DIGITS = 4  # S-0001 … S-9999, then S-10000: a number is never cut
# A day's counter outlives its day by one more, so a sighting ingested just after
# midnight (received just before it) is still counted against a living counter.
COUNTER_TTL_MS = 2 * 86_400_000
SHORT_ID = 8  # what is shown of a sighting id when it has no number (before numbering existed)


def local_day(received_ms: int, zone: str = "UTC") -> str:
    """The local date (YYYY-MM-DD) of an instant in `zone`: the day a sighting is numbered in."""
    return datetime.fromtimestamp(received_ms / 1000, timezone.utc).astimezone(ZoneInfo(zone)).date().isoformat()


def format_number(n: int) -> str:
    """`S-0007`: the form the ingest script writes (string.format('%s%0<DIGITS>d'))."""
    return f"{PREFIX}{n:0{DIGITS}d}"


def sighting_label(sighting: Mapping | None, sighting_id: str = "") -> str:
    """What a person reads for a sighting: its number, else the start of its id."""
    sighting = sighting or {}
    number = sighting.get("number")
    if isinstance(number, str) and number:
        return number
    return str(sighting.get("sighting_id") or sighting_id)[:SHORT_ID]
