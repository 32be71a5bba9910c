"""Every Redis key of a site carries the {site} hash tag: one Redis Cluster slot per site.

The slot is computed here as Redis Cluster does (CRC16-XMODEM of the hash tag,
modulo 16384), so the test checks the property a cluster relies on, not just a
string prefix.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from redis.crc import key_slot as redis_py_key_slot

from dispatch.domain.models import MESSAGE_MODELS
from dispatch.keys import INGEST_GROUP, Keys

ROOT = Path(__file__).resolve().parent.parent

SLOTS = 16_384


def crc16_xmodem(data: bytes) -> int:
    """CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0, no reflection."""
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def hash_slot(key: str) -> int:
    """Redis Cluster's rule: if the key has '{' then a '}' after it with something between,
    only that part is hashed."""
    raw = key.encode()
    start = raw.find(b"{")
    if start != -1:
        end = raw.find(b"}", start + 1)
        if end > start + 1:
            raw = raw[start + 1 : end]
    return crc16_xmodem(raw) % SLOTS


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


# --------------------------------------------------------------------------- the CRC itself


def test_crc16_xmodem_check_value():
    # The standard check value of CRC-16/XMODEM, also quoted in the Redis Cluster spec.
    assert crc16_xmodem(b"123456789") == 0x31C3
    assert crc16_xmodem(b"") == 0


def test_hash_slot_rule_on_documented_examples():
    assert hash_slot("foo") == 12182  # CLUSTER KEYSLOT foo
    assert hash_slot("{user1000}.following") == hash_slot("{user1000}.followers") == hash_slot("user1000")
    assert hash_slot("foo{}{bar}") == crc16_xmodem(b"foo{}{bar}") % SLOTS  # empty tag: whole key
    assert hash_slot("foo{{bar}}zap") == crc16_xmodem(b"{bar") % SLOTS
    assert hash_slot("foo{bar}{zap}") == hash_slot("bar")


@pytest.mark.parametrize("key", ["foo", "{rennes}:live", "{a}:x", "x{}y", "{{b}}", "nohash", "{paris-15}:in:sightings"])
def test_hash_slot_agrees_with_redis_py(key):
    assert hash_slot(key) == redis_py_key_slot(key.encode())


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
    assert set(slots.values()) == {redis_py_key_slot(site.encode())}


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


def test_keys_is_a_frozen_value():
    assert Keys("rennes") == Keys("rennes") and Keys("rennes") != Keys("lyon")
    assert hash(Keys("rennes")) == hash(Keys("rennes"))
    with pytest.raises(AttributeError):
        Keys("rennes").site = "lyon"  # type: ignore[misc]


def test_consumer_group_name():
    assert INGEST_GROUP == "ingest"


def test_every_key_is_documented_in_the_stream_contract():
    doc = (ROOT / "docs" / "streams.md").read_text(encoding="utf-8")
    for name, key in all_keys(Keys("site")).items():
        assert key in doc, f"{name} ({key}) is not in docs/streams.md"
