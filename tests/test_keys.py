"""Every Redis key of a site carries the {site} hash tag: one Redis Cluster slot per site.

The slot is computed as Redis Cluster does, by redis-py's `redis.crc.key_slot` (CRC16-XMODEM of
the hash tag, modulo 16384), so the test checks the property a cluster relies on, not just a
string prefix.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from redis.crc import key_slot

from dispatch.domain.models import MESSAGE_MODELS
from dispatch.keys import Keys

ROOT = Path(__file__).resolve().parent.parent


def hash_slot(key: str) -> int:
    return key_slot(key.encode())


def all_keys(keys: Keys) -> dict[str, str]:
    """Every key a Keys object names, by attribute (the inputs map's values included)."""
    found: dict[str, str] = {}
    for name, member in vars(Keys).items():
        if not isinstance(member, property):
            continue
        value = getattr(keys, name)
        if isinstance(value, dict):
            found.update({f"{name}[{kind}]": key for kind, key in value.items()})
        else:
            found[name] = value
    return found


SITES = ["rennes", "paris-15", "a", "marseille", "lille", "z" + "9" * 31, "saint-malo"]
site_names = st.from_regex(r"[a-z][a-z0-9-]{0,31}", fullmatch=True)


# --------------------------------------------------------------------------- the keys


def test_keys_of_rennes_are_the_documented_names():
    expected = {
        "in_telemetry": "{rennes}:in:telemetry",
        "in_sightings": "{rennes}:in:sightings",
        "in_patrols": "{rennes}:in:patrols",
        "inputs[telemetry]": "{rennes}:in:telemetry",
        "inputs[sighting]": "{rennes}:in:sightings",
        "inputs[patrol]": "{rennes}:in:patrols",
        "live": "{rennes}:live",
        "deadletter": "{rennes}:deadletter",
        "drones": "{rennes}:drones",
        "patrols": "{rennes}:patrols",
        "patrols_available": "{rennes}:patrols:available",
        "sightings": "{rennes}:sightings",
        "stats": "{rennes}:stats",
    }
    # Keys added later are covered by the generic tests below; these must not move.
    assert expected.items() <= all_keys(Keys("rennes")).items()


@pytest.mark.parametrize("site", SITES)
def test_every_key_carries_the_site_hash_tag(site):
    for name, key in all_keys(Keys(site)).items():
        assert key.startswith(f"{{{site}}}:"), f"{name}: {key}"
        # Nothing after the tag opens another brace: the first {...} is the tag.
        assert key.count("{") == 1 and key.count("}") == 1, f"{name}: {key}"


@pytest.mark.parametrize("site", SITES)
def test_all_keys_of_a_site_are_in_one_cluster_slot(site):
    slots = {name: hash_slot(key) for name, key in all_keys(Keys(site)).items()}
    assert set(slots.values()) == {hash_slot(site)}, slots


@settings(max_examples=200, deadline=None)
@given(site_names)
def test_all_keys_of_any_valid_site_share_a_slot(site):
    assert {hash_slot(key) for key in all_keys(Keys(site)).values()} == {hash_slot(site)}


def test_sites_spread_over_slots():
    # The tag is the site, so different sites land on different slots (and shards).
    slots = {hash_slot(Keys(site).live) for site in SITES}
    assert len(slots) == len(SITES)


@pytest.mark.parametrize("site", SITES)
def test_keys_of_a_site_are_distinct_except_the_inputs_map(site):
    keys = all_keys(Keys(site))
    plain = {name: key for name, key in keys.items() if not name.startswith("inputs[")}
    assert len(set(plain.values())) == len(plain), plain


def test_inputs_map_has_the_three_input_streams():
    k = Keys("rennes")
    assert k.inputs == {
        "telemetry": k.in_telemetry,
        "sighting": k.in_sightings,
        "patrol": k.in_patrols,
    }
    assert list(k.inputs) == ["telemetry", "sighting", "patrol"]  # the order ingest reads them
    assert len(set(k.inputs.values())) == 3
    # Each input kind is a message kind validate() knows.
    assert set(k.inputs) <= set(MESSAGE_MODELS)
    # Input streams are all under {site}:in:, nothing else is.
    assert {key for key in all_keys(k).values() if key.startswith("{rennes}:in:")} == set(k.inputs.values())


@pytest.mark.parametrize("a, b", list(itertools.combinations(SITES + ["rennes-2", "rennes2", "aa"], 2)))
def test_different_sites_never_share_a_key(a, b):
    assert not set(all_keys(Keys(a)).values()) & set(all_keys(Keys(b)).values())


@settings(max_examples=200, deadline=None)
@given(site_names, site_names)
def test_different_sites_never_share_a_key_property(a, b):
    if a == b:
        return
    assert not set(all_keys(Keys(a)).values()) & set(all_keys(Keys(b)).values())


def test_every_key_is_documented_in_the_stream_contract():
    doc = (ROOT / "docs" / "streams.md").read_text(encoding="utf-8")
    for name, key in all_keys(Keys("site")).items():
        assert key in doc, f"{name} ({key}) is not in docs/streams.md"
