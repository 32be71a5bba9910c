"""The crew reads the sighting's incident number (S-0001) on its tablet, as the supervisor says it on the radio."""

from __future__ import annotations

import orjson
import pytest

from dispatch.store.assignments import assign
from tests.browser.test_tablet import RENNES, available, report, scene, tablet  # noqa: F401 (the fixture)

pytestmark = pytest.mark.browser


def test_the_tablet_shows_the_sightings_number(tablet, screen, redis_client):  # noqa: F811
    keys = screen.keys
    report(redis_client, keys, "BAC-12", *RENNES)
    available(redis_client, keys, "BAC-12")
    seen = scene(redis_client, keys)
    number = orjson.loads(redis_client.hget(keys.sightings, seen["sighting_id"]))["number"]
    assert number.startswith("S-") and len(number) == 6
    tablet.sign_in("BAC-12")

    created = assign(redis_client, keys, sighting_id=seen["sighting_id"], patrol_id="BAC-12", supervisor_id="SUP-1")
    shown = tablet.wait(lambda s: s["assignment"] == created.assignment_id and "Gathering" in s["target"],
                        timeout=5, what="the assignment with its sighting")
    assert f"{number}\nGathering" in shown["target"], shown["target"]
