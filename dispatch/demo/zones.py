"""The demo's authorised zones: the Rennes scenario's perimeters as zones valid for the demo's month.

The store knows how to seed zones (store/zones.py `seed_zones`); which zones, and for how long, is the
demo's business, so it lives here and the store never imports the demo.
"""

from __future__ import annotations

from datetime import timedelta

import redis

from ..domain.lifecycle import DISPLAY_TIMEZONE
from ..domain.zones import Zone, end_of_local_day_ms, local_date, make_zone
from ..keys import Keys
from ..settings import Settings
from ..store.zones import seed_zones
from .scenario_rennes import ZONES as DEMO_ZONES

DEMO_VALIDITY_DAYS = 30


def demo_zones(now_ms: int, tz: str = DISPLAY_TIMEZONE.key) -> list[Zone]:
    """The demo's zones (scenario_rennes.ZONES), valid from an hour ago to the end of the local day + 30 days."""
    valid_until_ms = end_of_local_day_ms(local_date(now_ms, tz) + timedelta(days=DEMO_VALIDITY_DAYS), tz)
    return [
        make_zone(
            zone_id=zone.zone_id,
            name=zone.name,
            decree_ref=f"DEMO-PREF35-{number:02d}",  # not a real decree: the demo says so
            polygon=[(lon, lat) for lat, lon in zone.vertices],
            valid_from_ms=now_ms - 3_600_000,
            valid_until_ms=valid_until_ms,
        )
        for number, zone in enumerate(DEMO_ZONES, start=1)
    ]


def seed_demo_zones(client: redis.Redis, keys: Keys, now_ms: int, *, tz: str = DISPLAY_TIMEZONE.key,
                    live_maxlen: int = Settings.live_maxlen) -> list[Zone]:
    """Store the demo zones if no zone is stored yet; returns the zones seeded (none if there were zones)."""
    return seed_zones(client, keys, demo_zones(now_ms, tz), now_ms=now_ms, live_maxlen=live_maxlen, demo=True)
