"""Incident numbers, the pure part: the day a sighting is numbered in, the form, the label people read."""

from __future__ import annotations

from datetime import datetime, timezone

from dispatch.domain.batch import RawEntry, plan_batch
from dispatch.domain.numbers import format_number, local_day, sighting_label
from dispatch.domain.validate import validate


def ms(*args) -> int:
    return int(datetime(*args, tzinfo=timezone.utc).timestamp() * 1000)


def test_the_day_is_the_local_day_of_arrival():
    assert local_day(ms(2026, 1, 15, 22, 59, 59), "Europe/Paris") == "2026-01-15"
    assert local_day(ms(2026, 1, 15, 23, 0, 1), "Europe/Paris") == "2026-01-16"
    assert local_day(ms(2026, 7, 15, 22, 0, 1), "Europe/Paris") == "2026-07-16", "summer time: UTC+2"
    assert local_day(ms(2026, 1, 15, 23, 0, 1), "UTC") == "2026-01-15"


def test_numbers_have_four_digits_and_are_never_cut():
    assert format_number(7) == "S-0007"
    assert format_number(142) == "S-0142"
    assert format_number(10_000) == "S-10000"


def test_a_label_is_the_number_else_the_short_id():
    assert sighting_label({"sighting_id": "da1d6f6e-aaaa", "number": "S-0003"}) == "S-0003"
    assert sighting_label({"sighting_id": "da1d6f6e-aaaa"}) == "da1d6f6e"
    assert sighting_label(None, "sim-da1d6f6e") == "sim-da1d"


def _sighting(sighting_id: str, ts: int) -> dict[bytes, bytes]:
    fields = {"sighting_id": sighting_id, "ts": ts, "drone_id": "DR-07", "operator_id": "OP-1",
              "category": "deal", "lat": 48.11, "lon": -1.68, "priority": 1}
    return {k.encode(): str(v).encode() for k, v in fields.items()}


def test_the_plan_numbers_a_sighting_in_the_day_of_its_first_entry_of_the_batch():
    before, after = ms(2026, 1, 15, 22, 59, 59), ms(2026, 1, 15, 23, 0, 1)
    entries = [
        RawEntry("sighting", f"{before}-0", _sighting("sight-1", before)),
        RawEntry("sighting", f"{after}-0", _sighting("sight-1", after)),
        RawEntry("sighting", f"{after}-1", _sighting("sight-2", after)),
    ]
    plan = plan_batch(entries, zone="Europe/Paris")
    days = {unit.unit_id: unit.day for unit in plan.sightings}
    assert days == {"sight-1": "2026-01-15", "sight-2": "2026-01-16"}
    assert [unit.ts for unit in plan.sightings if unit.unit_id == "sight-1"] == [after], "the latest message is kept"


def test_an_operator_cannot_send_a_number():
    fields = _sighting("sight-1", ms(2026, 1, 15, 12))
    fields[b"number"] = b"S-0001"
    verdict = validate("sighting", fields, ms(2026, 1, 15, 12))
    assert "number" in getattr(verdict, "reason", "")
