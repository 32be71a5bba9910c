"""Raw stream fields (untrusted bytes) -> a message model, or a precise reason why not.

Validation never raises: every input, however malformed, yields either a model
or a `Rejection` whose reason a bridge developer can act on. It is also
deterministic: "now" is the time Redis received the entry (its stream id), not
the wall clock, so ingest and replay judge an entry the same way, and judging it
twice gives the same answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Union

from pydantic import ValidationError

from .models import ID_FORMATS, MESSAGE_MODELS, Assignment, PatrolReport, Sighting, SightingEnd, Telemetry

Message = Union[Telemetry, Sighting, SightingEnd, PatrolReport, Assignment]

END_FIELD = "ended"
"""A `sighting` entry with this field is the operator ending the sighting (models.SightingEnd)."""

# Size limits: an entry beyond them is refused before any parsing.
MAX_FIELDS = 16
MAX_NAME_BYTES = 32
MAX_VALUE_BYTES = 512
_MAX_ERRORS_REPORTED = 3


@dataclass(frozen=True)
class Rejection:
    """Why an entry was refused. Goes to the dead-letter stream with the original fields."""

    reason: str


@dataclass(frozen=True)
class ClockLimits:
    """How far a message's own ts may stray from the time Redis received it."""

    max_future_ms: int = 30_000
    max_past_ms: int = 6 * 3_600_000


def validate(
    kind: str,
    fields: Mapping[bytes | str, bytes | str],
    received_ms: int,
    limits: ClockLimits = ClockLimits(),
) -> Message | Rejection:
    """Judge one stream entry of the given kind ("telemetry", "sighting", ...)."""
    if kind == "telemetry":
        fast = fast_telemetry(fields, received_ms, limits)
        if fast is not None:
            return fast
    return validate_reference(kind, fields, received_ms, limits)


def validate_reference(
    kind: str,
    fields: Mapping[bytes | str, bytes | str],
    received_ms: int,
    limits: ClockLimits = ClockLimits(),
) -> Message | Rejection:
    """`validate` through the pydantic models alone: the reference the fast path must agree with."""
    model = MESSAGE_MODELS.get(kind)
    if model is None:
        return Rejection(f"unknown message kind {kind!r}")
    decoded = _decode(fields)
    if isinstance(decoded, Rejection):
        return decoded
    if kind == "sighting" and END_FIELD in decoded:
        model = SightingEnd
    try:
        message = model.model_validate(decoded)
    except ValidationError as error:
        reason = describe(error)
        if model is SightingEnd and "unknown field" in reason:
            reason += ("; an entry with 'ended' ends the sighting: it carries only sighting_id, ts, operator_id, "
                       "ended and optionally drone_id, note")
        return Rejection(reason)
    return _check_clock(message, received_ms, limits)


# The ingest hot path: a telemetry entry in its common shape, judged without pydantic (issue 15: pydantic took
# about 6 µs of the 16 µs an entry cost). "Common shape" is deliberately narrow: a dict of exactly the eight
# fields as bytes, each value in a plain form (ASCII digits, bounded lengths) on which Python's int()/float()
# and pydantic's parsing agree, every bound of models.Telemetry met. Anything else, however harmless, returns
# None and takes the reference path (`validate_reference`: the pydantic models), which alone writes reasons. So an entry
# the fast path accepts is exactly the model pydantic would build (tests/domain/test_validate_fast.py checks
# the two agree on arbitrary field maps), and every rejection keeps its reason.
#
# The eight values joined by NUL (which none of them may contain), checked by one regex.
_FAST_TELEMETRY = re.compile(
    rb"DR-[0-9A-Z]{1,8}\0[1-9][0-9]{0,17}(?:\0-?[0-9]{1,6}(?:\.[0-9]{1,15})?){6}"
).fullmatch
_TELEMETRY_FIELDS = frozenset(("drone_id", "ts", "lat", "lon", "alt_m", "heading_deg", "speed_mps", "battery_pct"))
_new_object, _set_attribute = object.__new__, object.__setattr__


def fast_telemetry(fields: Mapping[bytes | str, bytes | str], received_ms: int,
                   limits: ClockLimits = ClockLimits()) -> Telemetry | Rejection | None:
    """The verdict on a telemetry entry in its common shape (see above), or None: judge it with `validate`.

    A Rejection only ever comes from the clock check, which is the reference's own (`_check_clock`)."""
    values = telemetry_values(fields)
    return None if values is None else _check_clock(telemetry_model(values), received_ms, limits)


def telemetry_values(fields: Mapping[bytes | str, bytes | str]) -> dict | None:
    """The field values of a telemetry entry in its common shape, clock not checked (`within_clock`), or None.

    batch.plan_batch builds a model only for the entry that wins its drone's coalescing (`telemetry_model`)."""
    if type(fields) is not dict or len(fields) != 8:
        return None
    try:
        drone_id, ts, lat, lon = fields[b"drone_id"], fields[b"ts"], fields[b"lat"], fields[b"lon"]
        alt, heading, speed, battery = fields[b"alt_m"], fields[b"heading_deg"], fields[b"speed_mps"], fields[b"battery_pct"]
    except (KeyError, TypeError):
        return None
    if not (bytes is type(drone_id) is type(ts) is type(lat) is type(lon) is type(alt) is type(heading)
            is type(speed) is type(battery)):
        return None
    if not _FAST_TELEMETRY(b"\0".join((drone_id, ts, lat, lon, alt, heading, speed, battery))):
        return None
    lat, lon, alt, heading = float(lat), float(lon), float(alt), float(heading)
    speed, battery = float(speed), float(battery)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180 and -100 <= alt <= 1_000 and 0 <= heading < 360
            and 0 <= speed <= 100 and 0 <= battery <= 100):
        return None
    return {"drone_id": drone_id.decode(), "ts": int(ts), "lat": lat, "lon": lon, "alt_m": alt,
            "heading_deg": heading, "speed_mps": speed, "battery_pct": battery}


def telemetry_model(values: dict) -> Telemetry:
    """The model of `telemetry_values`' result: what model_construct does, without its per-field loop (the
    values are final, checked already)."""
    message = _new_object(Telemetry)
    _set_attribute(message, "__dict__", values)
    _set_attribute(message, "__pydantic_fields_set__", set(_TELEMETRY_FIELDS))
    _set_attribute(message, "__pydantic_extra__", None)
    _set_attribute(message, "__pydantic_private__", None)
    return message


# The same common shape as Redis returns an entry (a flat list: name, value, name, value...), judged by one
# regex that also holds every bound of models.Telemetry, so an entry that loses its drone's coalescing costs no
# float() at all (batch.plan_rows; issue 15). Each number's range is written so that no decimal it accepts can
# round onto a bound it must stay off: the only open bound, heading_deg < 360, gets at most 12 decimals (the
# nearest double to 359.999999999999 is below 360); the closed ones may round onto their bound, which is valid.
# Narrower than `telemetry_values`, never wider: what it declines takes that path, then the reference.
_DECIMALS = rb"(?:\.[0-9]{1,15})?"
_FAST_TELEMETRY_ROW = re.compile(
    rb"drone_id\0DR-[0-9A-Z]{1,8}\0ts\0[1-9][0-9]{0,17}"
    rb"\0lat\0-?(?:[1-8]?[0-9])" + _DECIMALS                                  # |lat| < 90
    + rb"\0lon\0-?(?:1[0-7][0-9]|[1-9]?[0-9])" + _DECIMALS                   # |lon| < 180
    + rb"\0alt_m\0(?:-[1-9]?[0-9]|[1-9]?[0-9]|[1-9][0-9]{2})" + _DECIMALS    # -100 < alt < 1000
    + rb"\0heading_deg\0(?:3[0-5][0-9]|[12][0-9]{2}|[1-9]?[0-9])(?:\.[0-9]{1,12})?"  # 0 <= heading < 360
    + rb"\0speed_mps\0[1-9]?[0-9]" + _DECIMALS                               # 0 <= speed < 100
    + rb"\0battery_pct\0[1-9]?[0-9]" + _DECIMALS                             # 0 <= battery < 100
).fullmatch


def telemetry_row(flat) -> list | None:
    """A telemetry entry given as Redis returns it (a flat name/value list), itself, if it is in the common
    shape (the eight fields in contract order) with every bound met, else None: judge it as a field map
    (`telemetry_values`, `validate`). Never raises. Names and values are checked at once, joined: the drone
    id is flat[1], ts flat[3]; `telemetry_row_values` converts the one that wins its drone."""
    if type(flat) is not list or len(flat) != 16:
        return None
    try:
        return flat if _FAST_TELEMETRY_ROW(b"\0".join(flat)) else None
    except TypeError:  # an item that is not bytes
        return None


def telemetry_row_values(flat: list) -> dict:
    """`telemetry_values`' result for a `telemetry_row` (the same dict, for `telemetry_model`)."""
    drone_id, ts, lat, lon, alt, heading, speed, battery = flat[1::2]
    return {"drone_id": drone_id.decode(), "ts": int(ts), "lat": float(lat), "lon": float(lon),
            "alt_m": float(alt), "heading_deg": float(heading), "speed_mps": float(speed),
            "battery_pct": float(battery)}


def within_clock(ts: int, received_ms: int, limits: ClockLimits) -> bool:
    """Whether `_check_clock` lets a message with this ts through."""
    skew = ts - received_ms
    return skew <= limits.max_future_ms and -skew <= limits.max_past_ms


def _decode(fields: Mapping[bytes | str, bytes | str]) -> dict[str, str] | Rejection:
    if len(fields) > MAX_FIELDS:
        return Rejection(f"oversized entry: {len(fields)} fields, at most {MAX_FIELDS}")
    # Fast path, the ingest hot path: all bytes, all UTF-8, all within limits
    # (a byte count bounds the UTF-8 length). Anything else takes the careful
    # path below, which names the field at fault.
    try:
        if max(map(len, fields)) <= MAX_NAME_BYTES and max(map(len, fields.values())) <= MAX_VALUE_BYTES:
            return {name.decode(): value.decode() for name, value in fields.items()}
    except (AttributeError, UnicodeDecodeError, ValueError):
        pass
    decoded: dict[str, str] = {}
    for raw_name, raw_value in fields.items():
        name = _text(raw_name)
        if name is None:
            return Rejection(f"a field name is not valid UTF-8: {raw_name!r:.60}")
        if len(name.encode()) > MAX_NAME_BYTES:
            return Rejection(f"oversized field name {name[:40]!r}: at most {MAX_NAME_BYTES} bytes")
        value = _text(raw_value)
        if value is None:
            # repr: the name is untrusted too, and a reason must stay one line.
            return Rejection(f"field {name!r}: not valid UTF-8: {raw_value!r:.60}")
        if len(value.encode()) > MAX_VALUE_BYTES:
            return Rejection(f"oversized field {name!r}: {len(value.encode())} bytes, at most {MAX_VALUE_BYTES}")
        decoded[name] = value
    return decoded


def _text(raw: bytes | str) -> str | None:
    try:
        if isinstance(raw, str):
            raw.encode("utf-8")  # a lone surrogate ("\ud800") is a str but not UTF-8
            return raw
        return raw.decode("utf-8")
    except UnicodeError:
        return None


def _check_clock(message: Message, received_ms: int, limits: ClockLimits) -> Message | Rejection:
    skew = message.ts - received_ms
    if skew > limits.max_future_ms:
        return Rejection(
            f"ts: {_seconds(skew, 1)} s in the future (at most {limits.max_future_ms / 1000:g} s); "
            "is the sender's clock right, and is ts in milliseconds?"
        )
    if -skew > limits.max_past_ms:
        return Rejection(
            f"ts: {_seconds(-skew, 0)} s in the past (at most {limits.max_past_ms / 1000:g} s); "
            "is ts in milliseconds since the epoch?"
        )
    return message


def _seconds(ms: int, decimals: int) -> str:
    # ts is an unbounded int: hundreds of digits would overflow a float division.
    if ms >= 10**18:
        return "over 10^15"
    return f"{ms / 1000:.{decimals}f}"


def describe(error: ValidationError) -> str:
    """Pydantic's errors, rewritten for a bridge developer: field, problem, value received."""
    parts = [_describe_one(item) for item in error.errors(include_url=False)[:_MAX_ERRORS_REPORTED]]
    hidden = error.error_count() - len(parts)
    if hidden > 0:
        parts.append(f"and {hidden} more")
    return "; ".join(parts)


def _describe_one(item: dict) -> str:
    # Only an error about the whole entry has no location; a field named "" is still a field.
    field = ".".join(str(part) for part in item["loc"]) if item["loc"] else "entry"
    kind = item["type"]
    given = item.get("input")
    shown = repr(given)[:60] if isinstance(given, str) else ""
    if kind == "missing":
        return f"missing field {field!r}"
    if kind == "extra_forbidden":
        return f"unknown field {field!r}"
    if kind == "number_format":
        return f"{field}: not a number: {shown}; write plain decimal digits with a dot, e.g. 48.1173 or -1.5e-3"
    if kind == "whole_number_format":
        return f"{field}: not a whole number: {shown}; write plain decimal digits, e.g. 2"
    if kind == "value_error" and "invisible character" in item["msg"]:
        return f"{field}: {item['msg'].removeprefix('Value error, ')}"
    if kind in ("float_parsing", "float_type"):
        return f"{field}: not a number: {shown}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"{field}: not a whole number: {shown}"
    if kind == "finite_number":
        return f"{field}: must be a finite number, got {shown}"
    if kind == "string_pattern_mismatch":
        expected = ID_FORMATS.get(item.get("ctx", {}).get("pattern"), "one line of plain text")
        return f"{field}: bad format {shown}, expected {expected}"
    if kind == "string_too_long":
        limit = item.get("ctx", {}).get("max_length")
        return f"{field}: too long ({len(given)} characters, at most {limit})"
    if kind == "enum":
        expected = item.get("ctx", {}).get("expected", "")
        return f"{field}: unknown value {shown}, expected {expected}"
    message = item["msg"].removeprefix("Input should be ").removeprefix("Value error, ")
    return f"{field}: must be {message}, got {shown}" if shown else f"{field}: {item['msg']}"
