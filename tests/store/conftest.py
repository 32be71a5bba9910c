"""The scene most store tests start from."""

import pytest

from tests.store.test_assignments import ingest, patrol, sighting


@pytest.fixture
def scene(redis_client, keys):
    """Two available patrols, one unavailable, two open sightings, through the real ingest step."""
    ingest(redis_client, keys,
           patrols=[patrol("BAC-12"), patrol("GN-4", lat=48.105, lon=-1.69), patrol("BAC-7", status="unavailable")],
           sightings=[sighting("sight-0001"), sighting("sight-0002", lat=48.12, lon=-1.66)])
    return redis_client
