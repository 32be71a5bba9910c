"""Properties of validate(): whatever arrives on an input stream, it never raises.

Every input yields either a model of the kind's class whose fields respect the
contract bounds, or a Rejection whose reason is a non-empty line of text that
can be written back to Redis (valid UTF-8). The bounds are checked here with
independent formulations (Python's re.fullmatch, unicodedata, plain
comparisons), not by re-running the models.
"""

from __future__ import annotations

import math
import re
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch.domain.models import (
    DRONE_ID,
    EVENT_ID,
    MESSAGE_MODELS,
    NOTE_MAX_CHARS,
    OPERATOR_ID,
    PATROL_ID,
    SUPERVISOR_ID,
    Assignment,
    AssignmentState,
    OperatorEndReason,
    PatrolReport,
    PatrolStatus,
    Sighting,
    SightingCategory,
    SightingEnd,
    Telemetry,
)
from dispatch.domain.validate import MAX_FIELDS, ClockLimits, Rejection, validate

# docs/streams.md section 3, written again here: "plain decimal notation with a dot".
CONTRACT_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?", re.ASCII)
NUMERIC_FIELDS = {"ts", "lat", "lon", "alt_m", "heading_deg", "speed_mps", "battery_pct", "priority", "assigned_ts"}
# Characters that draw nothing though they are letters or marks (docs/streams.md section 4).
_BLANK_LOOKING = set("\u034f\u115f\u1160\u2800\u3164\uffa0")

RECEIVED = 1_767_225_600_000  # 2026-01-01T00:00:00Z
LIMITS = ClockLimits()
KINDS = sorted(MESSAGE_MODELS)
FIELD_NAMES = sorted({name for model in MESSAGE_MODELS.values() for name in model.model_fields})

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --------------------------------------------------------------------------- raw material

# Characters: anything Python allows in a str, lone surrogates included, plus the
# troublemakers (controls, separators, digits and signs that look like numbers).
_chars = st.one_of(
    st.characters(),
    st.characters(categories=["Cs", "Cc", "Zl", "Zp", "Cf"]),
    st.sampled_from(list("0123456789.-+eE _,naif\x85\u2028é😀")),
)
any_text = st.text(alphabet=_chars, max_size=60)
long_text = st.text(alphabet=_chars, min_size=100, max_size=700)
numberish = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.integers(min_value=RECEIVED - 10**8, max_value=RECEIVED + 10**8).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=6).map(str),
)
text_value = st.one_of(any_text, numberish, long_text)
raw_value = st.one_of(text_value, text_value.map(lambda s: s.encode("utf-8", "surrogatepass")), st.binary(max_size=600))
raw_name = st.one_of(
    st.sampled_from(FIELD_NAMES),
    any_text,
    st.binary(max_size=40),
    st.sampled_from(FIELD_NAMES).map(str.encode),
)
kind = st.sampled_from(KINDS)

# --------------------------------------------------------------------------- valid entries

_ts = st.integers(min_value=RECEIVED - LIMITS.max_past_ms, max_value=RECEIVED + LIMITS.max_future_ms)
_lat = st.floats(min_value=-90, max_value=90)
_lon = st.floats(min_value=-180, max_value=180)
_drone = st.from_regex(r"DR-[0-9A-Z]{1,8}", fullmatch=True)
_patrol = st.from_regex(r"[A-Z]{1,5}-[0-9]{1,4}", fullmatch=True)
_operator = st.from_regex(r"OP-[0-9A-Z]{1,8}", fullmatch=True)
_supervisor = st.from_regex(r"SUP-[0-9A-Z]{1,8}", fullmatch=True)
_event = st.from_regex(r"[A-Za-z0-9_-]{6,40}", fullmatch=True)
_note = st.text(
    alphabet=st.characters(exclude_categories=["Cc", "Cs", "Zl", "Zp", "Cf", "Co"], max_codepoint=0xFFFF).filter(
        lambda ch: ch not in _BLANK_LOOKING
    ),
    max_size=NOTE_MAX_CHARS,
).filter(lambda s: len(s.encode()) <= 512)


def _num(strategy):
    return strategy.map(repr)


VALID = {
    "telemetry": st.fixed_dictionaries(
        {
            "drone_id": _drone,
            "ts": _ts.map(str),
            "lat": _num(_lat),
            "lon": _num(_lon),
            "alt_m": _num(st.floats(min_value=-100, max_value=1000)),
            "heading_deg": _num(st.floats(min_value=0, max_value=360, exclude_max=True)),
            "speed_mps": _num(st.floats(min_value=0, max_value=100)),
            "battery_pct": _num(st.floats(min_value=0, max_value=100)),
        }
    ),
    "sighting": st.fixed_dictionaries(
        {
            "sighting_id": _event,
            "ts": _ts.map(str),
            "drone_id": _drone,
            "operator_id": _operator,
            "category": st.sampled_from([c.value for c in SightingCategory]),
            "lat": _num(_lat),
            "lon": _num(_lon),
            "priority": st.integers(1, 3).map(str),
        },
        optional={"note": _note},
    ),
    "sighting_end": st.fixed_dictionaries(
        {
            "sighting_id": _event,
            "ts": _ts.map(str),
            "operator_id": _operator,
            "ended": st.sampled_from([r.value for r in OperatorEndReason]),
        },
        optional={"drone_id": _drone, "note": _note},
    ),
    "patrol": st.fixed_dictionaries(
        {
            "patrol_id": _patrol,
            "ts": _ts.map(str),
            "lat": _num(_lat),
            "lon": _num(_lon),
            "status": st.sampled_from([s.value for s in PatrolStatus]),
        }
    ),
    "assignment": st.fixed_dictionaries(
        {
            "assignment_id": _event,
            "sighting_id": _event,
            "patrol_id": _patrol,
            "supervisor_id": _supervisor,
            "ts": _ts.map(str),
            "state": st.sampled_from([s.value for s in AssignmentState]),
        }
    ),
}

# --------------------------------------------------------------------------- the invariant


def _fits(pattern: str, value) -> bool:
    return isinstance(value, str) and re.fullmatch(pattern.strip("^$"), value) is not None


def _finite_in(value, low, high, *, high_open=False) -> bool:
    return (
        isinstance(value, float)
        and math.isfinite(value)
        and low <= value
        and (value < high if high_open else value <= high)
    )


def _one_printable_line(note: str) -> bool:
    return (
        len(note) <= NOTE_MAX_CHARS
        and note.splitlines() in ([], [note])
        and not any(unicodedata.category(ch) in ("Cc", "Cs", "Cf", "Co") for ch in note)
        and not _BLANK_LOOKING.intersection(note)
    )


def assert_within_contract(message, received: int = RECEIVED) -> None:
    assert isinstance(message.ts, int) and not isinstance(message.ts, bool)
    assert -LIMITS.max_past_ms <= message.ts - received <= LIMITS.max_future_ms
    if isinstance(message, (Telemetry, Sighting, PatrolReport)):
        assert _finite_in(message.lat, -90, 90) and _finite_in(message.lon, -180, 180)
    if isinstance(message, Telemetry):
        assert _fits(DRONE_ID, message.drone_id)
        assert _finite_in(message.alt_m, -100, 1000)
        assert _finite_in(message.heading_deg, 0, 360, high_open=True)
        assert _finite_in(message.speed_mps, 0, 100)
        assert _finite_in(message.battery_pct, 0, 100)
    elif isinstance(message, Sighting):
        assert _fits(EVENT_ID, message.sighting_id)
        assert _fits(DRONE_ID, message.drone_id) and _fits(OPERATOR_ID, message.operator_id)
        assert isinstance(message.category, SightingCategory)
        assert type(message.priority) is int and 1 <= message.priority <= 3
        assert _one_printable_line(message.note), repr(message.note)
    elif isinstance(message, SightingEnd):
        assert _fits(EVENT_ID, message.sighting_id) and _fits(OPERATOR_ID, message.operator_id)
        assert message.drone_id is None or _fits(DRONE_ID, message.drone_id)
        assert isinstance(message.ended, OperatorEndReason)
        assert _one_printable_line(message.note), repr(message.note)
    elif isinstance(message, PatrolReport):
        assert _fits(PATROL_ID, message.patrol_id)
        assert isinstance(message.status, PatrolStatus)
    elif isinstance(message, Assignment):
        assert _fits(EVENT_ID, message.assignment_id) and _fits(EVENT_ID, message.sighting_id)
        assert _fits(PATROL_ID, message.patrol_id) and _fits(SUPERVISOR_ID, message.supervisor_id)
        assert isinstance(message.state, AssignmentState)
    else:  # pragma: no cover - a new model must get its bounds here
        raise AssertionError(f"unexpected model {type(message)}")


def judge(kind_name: str, fields, received: int = RECEIVED):
    """validate() must not raise; its result must be a contract-abiding model or a usable Rejection."""
    result = validate(kind_name, fields, received)
    if isinstance(result, Rejection):
        assert isinstance(result.reason, str) and result.reason.strip()
        assert "\n" not in result.reason and "\r" not in result.reason
        result.reason.encode("utf-8")  # written to the dead-letter stream as is
    else:
        assert type(result) is MESSAGE_MODELS[kind_name], type(result)
        assert_within_contract(result, received)
        for name, value in fields.items():
            name = name.decode() if isinstance(name, bytes) else name
            if name in NUMERIC_FIELDS:
                text = value.decode() if isinstance(value, bytes) else value
                assert CONTRACT_NUMBER.fullmatch(text), (name, text)
    assert validate(kind_name, fields, received) == result  # deterministic
    return result


# --------------------------------------------------------------------------- properties


@FAST
@given(kind, st.dictionaries(raw_name, raw_value, max_size=MAX_FIELDS + 4))
def test_arbitrary_maps_never_raise(kind_name, fields):
    judge(kind_name, fields)


@FAST
@given(
    kind,
    st.dictionaries(st.sampled_from(FIELD_NAMES), text_value, max_size=len(FIELD_NAMES)),
    st.integers(min_value=1, max_value=2 * RECEIVED),
)
def test_maps_of_known_names_never_raise(kind_name, fields, received):
    judge(kind_name, fields, received)


@FAST
@given(st.data())
def test_valid_entries_are_accepted_with_their_values(data):
    kind_name = data.draw(kind)
    fields = data.draw(VALID[kind_name])
    as_bytes = data.draw(st.booleans())
    raw = {k.encode(): v.encode() for k, v in fields.items()} if as_bytes else fields
    result = judge(kind_name, raw)
    assert not isinstance(result, Rejection), (fields, result)
    for name, value in fields.items():
        got = getattr(result, name)
        if isinstance(got, float):
            assert got == float(value)
        elif isinstance(got, int):
            assert got == int(value)
        else:
            assert getattr(got, "value", got) == value


@FAST
@given(st.data())
def test_mutated_valid_entries_never_raise(data):
    kind_name = data.draw(kind)
    fields = dict(data.draw(VALID[kind_name]))
    mutation = data.draw(st.sampled_from(["replace", "drop", "add", "replace-bytes"]))
    name = data.draw(st.sampled_from(sorted(fields)))
    if mutation == "replace":
        fields[name] = data.draw(text_value)
    elif mutation == "replace-bytes":
        fields[name] = data.draw(st.binary(max_size=80))
    elif mutation == "drop":
        del fields[name]
    else:
        fields[data.draw(raw_name)] = data.draw(raw_value)
    result = judge(kind_name, fields)
    optional = {"sighting": ("note",), "sighting_end": ("note", "drone_id")}.get(kind_name, ())
    if mutation == "drop" and name not in optional:
        assert isinstance(result, Rejection) and repr(name) in result.reason


@FAST
@given(st.one_of(any_text, st.sampled_from(["Telemetry", "sightings", "patrols", "zone", ""])), st.dictionaries(raw_name, raw_value, max_size=4))
def test_unknown_kinds_are_rejected(kind_name, fields):
    if kind_name in MESSAGE_MODELS:
        return
    result = judge_unknown(kind_name, fields)
    assert "unknown message kind" in result.reason


def judge_unknown(kind_name, fields):
    result = validate(kind_name, fields, RECEIVED)
    assert isinstance(result, Rejection) and result.reason.strip()
    result.reason.encode("utf-8")
    return result


# --------------------------------------------------------------------------- numbers, as the contract writes them

_plain_numbers = st.one_of(
    st.floats(min_value=-90, max_value=90).map(repr),
    st.floats(min_value=-90, max_value=90).map(lambda f: f"{f:.7f}"),
    st.floats(min_value=-90, max_value=90).map(lambda f: f"{f:e}"),
    st.floats(min_value=-90, max_value=90).map(lambda f: f"{f:E}"),
    st.integers(min_value=-90, max_value=90).map(str),
)
_unicode_digits = st.characters(categories=["Nd"]).filter(lambda ch: not ch.isascii())


def _sighting(**changes) -> dict[str, str]:
    base = {"sighting_id": "sight-01", "ts": str(RECEIVED), "drone_id": "DR-07", "operator_id": "OP-3",
            "category": "deal", "lat": "48.1", "lon": "-1.6", "priority": "2"}
    return {**base, **changes}


@FAST
@given(_plain_numbers)
def test_numbers_in_plain_decimal_notation_are_accepted(text):
    result = judge("sighting", _sighting(lat=text))
    assert not isinstance(result, Rejection), (text, result)
    assert result.lat == float(text)


@FAST
@given(_plain_numbers, st.data())
def test_numbers_beyond_the_contract_are_refused(text, data):
    """What Python's float() or pydantic's lax mode would take, and the contract does not."""
    digits = [i for i, ch in enumerate(text) if ch.isdigit()]
    at = data.draw(st.sampled_from(digits))
    mutated = data.draw(st.sampled_from([
        text[:at] + "_" + text[at:] if at > 0 and text[at - 1].isdigit() else "+" + text.lstrip("-"),
        "+" + text.lstrip("-"),
        data.draw(st.sampled_from([" ", "\t", "\n", "\u00a0", "\u2003"])) + text,
        text + data.draw(st.sampled_from([" ", "\n", "\r\n", "\x00"])),
        text[:at] + data.draw(_unicode_digits) + text[at + 1:],
        "." + text.lstrip("-").split(".")[-1].split("e")[0].split("E")[0],
        text.split(".")[0].split("e")[0].split("E")[0] + ".",
    ]))
    result = judge("sighting", _sighting(lat=mutated))
    assert isinstance(result, Rejection), (mutated, result)
    assert "lat: not a number" in result.reason


@FAST
@given(st.integers(min_value=1, max_value=3), st.data())
def test_whole_numbers_beyond_the_contract_are_refused(priority, data):
    mutated = data.draw(st.sampled_from([f"+{priority}", f"{priority}\n", f" {priority}", f"{priority}_0",
                                         f"0_{priority}", chr(0x0660 + priority), chr(0xFF10 + priority)]))
    result = judge("sighting", _sighting(priority=mutated))
    assert isinstance(result, Rejection), (mutated, result)
    assert "priority: not a whole number" in result.reason


@FAST
@given(st.sampled_from(["\u202e", "\u202d", "\u2066", "\u2067", "\u2068", "\u2069", "\u200b", "\u200c",
                        "\u200d", "\u200e", "\u200f", "\u2060", "\ufeff", "\u061c", "\u00ad", "\u3164",
                        "\ue000"]),
       st.text(alphabet=st.characters(categories=["L", "N", "Zs", "P"]).filter(lambda ch: ch not in _BLANK_LOOKING),
               max_size=40), st.data())
def test_notes_with_invisible_characters_are_refused_naming_the_character(char, text, data):
    at = data.draw(st.integers(min_value=0, max_value=len(text)))
    note = text[:at] + char + text[at:]
    result = judge("sighting", _sighting(note=note))
    assert isinstance(result, Rejection), (note, result)
    assert result.reason.startswith("note: contains ") and f"U+{ord(char):04X}" in result.reason
