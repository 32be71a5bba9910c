"""validate(): raw stream fields -> a model, or a Rejection a bridge developer can act on.

Long tables in the style of arq's cron tests: per message kind, a valid
baseline, then one row per rule. A rejected row names the fragments its reason
must contain (the field, and the bad value where one can be shown); an accepted
row names the parsed values. Every row is judged twice: validation is
deterministic.
"""

from __future__ import annotations

import pytest

from dispatch.domain.models import (
    DRONE_ID,
    EVENT_ID,
    ID_FORMATS,
    NOTE_MAX_CHARS,
    OPERATOR_ID,
    PATROL_ID,
    SUPERVISOR_ID,
    Assignment,
    AssignmentState,
    PatrolReport,
    PatrolStatus,
    Sighting,
    SightingCategory,
    Telemetry,
)
from dispatch.domain.validate import MAX_FIELDS, MAX_NAME_BYTES, MAX_VALUE_BYTES, ClockLimits, Rejection, validate
from dispatch.settings import Settings

RECEIVED = 1_767_225_600_000  # 2026-01-01T00:00:00Z, when Redis received the entry
TS = RECEIVED - 250  # the message's own ts: a quarter second of transit
MAX_FUTURE = 30_000
MAX_PAST = 6 * 3_600_000
SIGHTING_ID = "7f9c2d1e-4b3a-4c5d-9e8f-0a1b2c3d4e5f"
NOTE = "Groupe rassemblé devant l'entrée du hall B, va-et-vient"

BASE: dict[str, dict[str, str]] = {
    "telemetry": {
        "drone_id": "DR-07",
        "ts": str(TS),
        "lat": "48.1173",
        "lon": "-1.6778",
        "alt_m": "120.5",
        "heading_deg": "275",
        "speed_mps": "12.4",
        "battery_pct": "81",
    },
    "sighting": {
        "sighting_id": SIGHTING_ID,
        "ts": str(TS),
        "drone_id": "DR-07",
        "operator_id": "OP-3",
        "category": "gathering",
        "lat": "48.1102",
        "lon": "-1.6712",
        "priority": "2",
        "note": NOTE,
    },
    "patrol": {
        "patrol_id": "BAC-12",
        "ts": str(TS),
        "lat": "48.1051",
        "lon": "-1.6803",
        "status": "available",
    },
    "assignment": {
        "assignment_id": "asg_0001",
        "sighting_id": SIGHTING_ID,
        "patrol_id": "BAC-12",
        "supervisor_id": "SUP-1",
        "ts": str(TS),
        "state": "assigned",
    },
}
KINDS = list(BASE)
MODEL = {"telemetry": Telemetry, "sighting": Sighting, "patrol": PatrolReport, "assignment": Assignment}
POSITIONED = ["telemetry", "sighting", "patrol"]

DROP = object()  # a change that removes the field


def entry(kind: str, changes: dict | None = None) -> dict:
    fields = dict(BASE[kind])
    for name, value in (changes or {}).items():
        if value is DROP:
            del fields[name]
        else:
            fields[name] = value
    return fields


def judged(kind: str, fields, received: int = RECEIVED, limits: ClockLimits = ClockLimits()):
    """validate() twice: the two results must be equal (determinism)."""
    first = validate(kind, fields, received, limits)
    second = validate(kind, fields, received, limits)
    assert first == second
    return first


def assert_rejected(result, *fragments: str) -> str:
    assert isinstance(result, Rejection), f"accepted, expected a rejection: {result!r}"
    reason = result.reason
    assert isinstance(reason, str) and reason.strip()
    # Readable: one line (it is logged and shown in the dead-letter view), short.
    assert "\n" not in reason and "\r" not in reason, reason
    assert len(reason) <= 300, reason
    for fragment in fragments:
        assert fragment in reason, f"{fragment!r} not in reason {reason!r}"
    return reason


def assert_accepted(result, kind: str, expected: dict) -> None:
    assert not isinstance(result, Rejection), f"rejected: {result.reason}"
    assert type(result) is MODEL[kind]
    for name, value in expected.items():
        got = getattr(result, name)
        assert got == value and type(got) is type(value), f"{name}: {got!r} != {value!r}"


# --------------------------------------------------------------------------- baselines

BASELINE_VALUES = {
    "telemetry": {
        "drone_id": "DR-07",
        "ts": TS,
        "lat": 48.1173,
        "lon": -1.6778,
        "alt_m": 120.5,
        "heading_deg": 275.0,
        "speed_mps": 12.4,
        "battery_pct": 81.0,
    },
    "sighting": {
        "sighting_id": SIGHTING_ID,
        "ts": TS,
        "drone_id": "DR-07",
        "operator_id": "OP-3",
        "category": SightingCategory.GATHERING,
        "lat": 48.1102,
        "lon": -1.6712,
        "priority": 2,
        "note": NOTE,
    },
    "patrol": {
        "patrol_id": "BAC-12",
        "ts": TS,
        "lat": 48.1051,
        "lon": -1.6803,
        "status": PatrolStatus.AVAILABLE,
    },
    "assignment": {
        "assignment_id": "asg_0001",
        "sighting_id": SIGHTING_ID,
        "patrol_id": "BAC-12",
        "supervisor_id": "SUP-1",
        "ts": TS,
        "state": AssignmentState.ASSIGNED,
    },
}


@pytest.mark.parametrize("kind", KINDS)
def test_baseline_is_accepted_with_its_values(kind):
    assert_accepted(judged(kind, entry(kind)), kind, BASELINE_VALUES[kind])


@pytest.mark.parametrize("kind", KINDS)
def test_bytes_str_and_mixed_inputs_give_the_same_model(kind):
    text = entry(kind)
    raw = {name.encode(): value.encode() for name, value in text.items()}
    mixed = {(name.encode() if i % 2 else name): (value if i % 2 else value.encode())
             for i, (name, value) in enumerate(text.items())}
    from_text = judged(kind, text)
    assert_accepted(from_text, kind, BASELINE_VALUES[kind])
    assert judged(kind, raw) == from_text
    assert judged(kind, mixed) == from_text


@pytest.mark.parametrize("kind", KINDS)
def test_bytes_and_str_rejections_are_the_same(kind):
    text = entry(kind, {"ts": "yesterday"})
    raw = {name.encode(): value.encode() for name, value in text.items()}
    assert judged(kind, raw) == judged(kind, text)
    assert_rejected(judged(kind, raw), "ts", "'yesterday'")


# --------------------------------------------------------------------------- numeric ranges
# (field, raw value, parsed value or None for "refused")

_RANGES = {
    "lat": [
        ("90", 90.0), ("-90", -90.0), ("0", 0.0), ("89.9999", 89.9999), ("-89.9999", -89.9999),
        ("90.0001", None), ("-90.0001", None), ("91", None), ("180", None), ("-1000", None),
    ],
    "lon": [
        ("180", 180.0), ("-180", -180.0), ("0", 0.0), ("179.99999", 179.99999),
        ("180.0001", None), ("-180.0001", None), ("181", None), ("360", None),
    ],
    "alt_m": [
        ("-100", -100.0), ("1000", 1000.0), ("0", 0.0), ("999.9", 999.9),
        ("-100.1", None), ("1000.1", None), ("10000", None),
    ],
    "heading_deg": [
        ("0", 0.0), ("359.999", 359.999), ("180", 180.0),
        ("360", None), ("360.5", None), ("-0.1", None), ("-90", None), ("720", None),
    ],
    "speed_mps": [
        ("0", 0.0), ("100", 100.0), ("33.3", 33.3),
        ("-0.1", None), ("100.01", None), ("343", None),
    ],
    "battery_pct": [
        ("0", 0.0), ("100", 100.0), ("4.5", 4.5),
        ("-1", None), ("100.5", None), ("255", None),
    ],
    "priority": [
        ("1", 1), ("2", 2), ("3", 3),
        ("0", None), ("4", None), ("-1", None), ("10", None),
    ],
}
_FIELDS_OF = {kind: set(BASE[kind]) for kind in KINDS}

RANGE_CASES = [
    pytest.param(kind, name, raw, parsed, id=f"{kind}-{name}={raw}")
    for name, rows in _RANGES.items()
    for kind in KINDS
    if name in _FIELDS_OF[kind]
    for raw, parsed in rows
]


@pytest.mark.parametrize("kind, name, raw, parsed", RANGE_CASES)
def test_numeric_range(kind, name, raw, parsed):
    result = judged(kind, entry(kind, {name: raw}))
    if parsed is None:
        assert_rejected(result, name, repr(raw))
    else:
        assert_accepted(result, kind, {name: parsed})


# --------------------------------------------------------------------------- not a (finite) number

NOT_NUMBERS = ["abc", "", " ", "48,1173", "0x10", "1e", "true", "None", "12°", "٤٨"]
NON_FINITE = ["nan", "NaN", "inf", "-inf", "Infinity", "-Infinity", "1e999", "-1e999"]
NUMERIC_FIELDS = ["lat", "lon", "alt_m", "heading_deg", "speed_mps", "battery_pct"]



def numeric_field_cases(raws: list[str]) -> list:
    """Each raw value in each numeric field of each message kind that has positions."""
    return [pytest.param(kind, name, raw, id=f"{kind}-{name}={raw!r}")
            for kind in POSITIONED for name in NUMERIC_FIELDS if name in _FIELDS_OF[kind] for raw in raws]


NOT_NUMBER_CASES = numeric_field_cases(NOT_NUMBERS)


@pytest.mark.parametrize("kind, name, raw", NOT_NUMBER_CASES)
def test_non_numeric_value_is_refused(kind, name, raw):
    assert_rejected(judged(kind, entry(kind, {name: raw})), f"{name}: not a number", repr(raw))


NON_FINITE_CASES = numeric_field_cases(NON_FINITE)


@pytest.mark.parametrize("kind, name, raw", NON_FINITE_CASES)
def test_nan_and_infinity_are_refused(kind, name, raw):
    assert_rejected(judged(kind, entry(kind, {name: raw})), name, "finite", repr(raw))


@pytest.mark.parametrize(
    "raw, fragments",
    [
        ("1.5", ("priority", "whole number", "'1.5'")),
        ("high", ("priority", "whole number", "'high'")),
        ("", ("priority", "whole number")),
        ("nan", ("priority", "'nan'")),
        ("1e0", ("priority", "'1e0'")),
    ],
)
def test_priority_must_be_a_whole_number(raw, fragments):
    assert_rejected(judged("sighting", entry("sighting", {"priority": raw})), *fragments)


# --------------------------------------------------------------------------- timestamps

TS_CASES = [
    # (raw ts, limits, parsed or None, fragments of the reason)
    pytest.param(str(RECEIVED), ClockLimits(), RECEIVED, (), id="same-ms"),
    pytest.param(str(RECEIVED + MAX_FUTURE), ClockLimits(), RECEIVED + MAX_FUTURE, (), id="future-limit-exact"),
    pytest.param(str(RECEIVED + MAX_FUTURE + 1), ClockLimits(), None, ("ts", "future", "30 s"), id="future-limit+1ms"),
    pytest.param(str(RECEIVED + 3_600_000), ClockLimits(), None, ("ts", "3600.0 s in the future"), id="future-1h"),
    pytest.param(str(RECEIVED - MAX_PAST), ClockLimits(), RECEIVED - MAX_PAST, (), id="past-limit-exact"),
    pytest.param(str(RECEIVED - MAX_PAST - 1), ClockLimits(), None, ("ts", "past", "21600 s"), id="past-limit-1ms"),
    pytest.param(str(RECEIVED - 86_400_000), ClockLimits(), None, ("ts", "86400 s in the past"), id="past-1day"),
    pytest.param(str(RECEIVED // 1000), ClockLimits(), None, ("ts", "past", "milliseconds"), id="seconds-not-ms"),
    pytest.param(str(RECEIVED * 1000), ClockLimits(), None, ("ts", "future", "milliseconds"), id="microseconds-not-ms"),
    pytest.param(str(RECEIVED) + ".0", ClockLimits(), RECEIVED, (), id="integral-float-text"),
    pytest.param(str(RECEIVED) + ".5", ClockLimits(), None, ("ts", "whole number", f"'{RECEIVED}.5'"), id="fraction-of-ms"),
    pytest.param("1.767e12", ClockLimits(), None, ("ts", "whole number", "'1.767e12'"), id="exponent"),
    pytest.param("2026-01-01T00:00:00Z", ClockLimits(), None, ("ts", "whole number", "'2026-01-01T00:00:00Z'"), id="iso-8601"),
    pytest.param("0", ClockLimits(), None, ("ts", "greater than 0", "'0'"), id="zero"),
    pytest.param("-1767225600000", ClockLimits(), None, ("ts", "greater than 0", "'-1767225600000'"), id="negative"),
    pytest.param("9" * 400, ClockLimits(), None, ("ts", "future"), id="hundreds-of-digits"),
    pytest.param("nan", ClockLimits(), None, ("ts", "'nan'"), id="nan"),
    pytest.param("inf", ClockLimits(), None, ("ts", "'inf'"), id="inf"),
    # Custom limits: ClockLimits is honoured, both bounds inclusive.
    pytest.param(str(RECEIVED + 1), ClockLimits(max_future_ms=0, max_past_ms=1_000), None, ("ts", "future", "0 s"), id="custom-future"),
    pytest.param(str(RECEIVED - 1_000), ClockLimits(max_future_ms=0, max_past_ms=1_000), RECEIVED - 1_000, (), id="custom-past-exact"),
    pytest.param(str(RECEIVED - 1_001), ClockLimits(max_future_ms=0, max_past_ms=1_000), None, ("ts", "past", "1 s"), id="custom-past+1ms"),
    pytest.param(str(RECEIVED + 60_000), ClockLimits(max_future_ms=120_000), RECEIVED + 60_000, (), id="custom-generous-future"),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("raw, limits, parsed, fragments", TS_CASES)
def test_timestamp(kind, raw, limits, parsed, fragments):
    result = judged(kind, entry(kind, {"ts": raw}), RECEIVED, limits)
    if parsed is None:
        assert_rejected(result, *fragments)
    else:
        assert_accepted(result, kind, {"ts": parsed})


def test_default_clock_limits_are_the_documented_settings_defaults():
    defaults = Settings()
    assert ClockLimits().max_future_ms == int(defaults.max_future_s * 1000) == MAX_FUTURE
    assert ClockLimits().max_past_ms == int(defaults.max_past_s * 1000) == MAX_PAST


def test_clock_is_judged_against_received_ms_not_the_wall_clock():
    # The same entry judged as received in 2026 and as received a day later.
    fields = entry("patrol")
    assert not isinstance(judged("patrol", fields, RECEIVED), Rejection)
    assert_rejected(judged("patrol", fields, RECEIVED + 86_400_000), "ts", "past")


# --------------------------------------------------------------------------- enumerations

ENUM_CASES = [
    pytest.param("sighting", "category", raw, parsed, id=f"category={raw!r}")
    for raw, parsed in [
        *[(c.value, c) for c in SightingCategory],
        ("robbery", None), ("Deal", None), ("DEAL", None), (" deal", None), ("", None), ("deals", None),
        ("1", None), ("personne", None),
    ]
] + [
    pytest.param("patrol", "status", raw, parsed, id=f"status={raw!r}")
    for raw, parsed in [
        *[(s.value, s) for s in PatrolStatus],
        ("free", None), ("AVAILABLE", None), ("en route", None), ("en-route", None), ("", None),
        ("cleared", None),
    ]
] + [
    pytest.param("assignment", "state", raw, parsed, id=f"state={raw!r}")
    for raw, parsed in [
        *[(s.value, s) for s in AssignmentState],
        ("done", None), ("Cleared", None), ("available", None), ("canceled", None), ("", None),
    ]
]


@pytest.mark.parametrize("kind, name, raw, parsed", ENUM_CASES)
def test_enumerations(kind, name, raw, parsed):
    result = judged(kind, entry(kind, {name: raw}))
    if parsed is None:
        # The reason lists what is expected, so the sender can fix the value.
        first_expected = {"category": "'lookout'", "status": "'available'", "state": "'assigned'"}[name]
        assert_rejected(result, name, "unknown value", repr(raw), first_expected)
    else:
        assert_accepted(result, kind, {name: parsed})


# --------------------------------------------------------------------------- identifiers

ID_CASES = [
    # (kind, field, pattern, raw, accepted)
    *[("telemetry", "drone_id", DRONE_ID, raw, ok) for raw, ok in [
        ("DR-1", True), ("DR-A", True), ("DR-12345678", True), ("DR-ABC123", True),
        ("DR-", False), ("DR-123456789", False), ("dr-07", False), ("DR07", False), ("DR-07 ", False),
        (" DR-07", False), ("DR-07\n", False), ("DR-0_7", False), ("DR-é", False), ("Jean Dupont", False),
        ("", False), ("DR-07;DROP", False),
    ]],
    *[("sighting", "drone_id", DRONE_ID, raw, ok) for raw, ok in [("DR-9", True), ("DRONE-9", False)]],
    *[("sighting", "operator_id", OPERATOR_ID, raw, ok) for raw, ok in [
        ("OP-3", True), ("OP-ABCDEFGH", True), ("OP-", False), ("OP-ABCDEFGHI", False), ("op-3", False),
        ("SUP-1", False), ("Martin", False), ("OP-3\n", False),
    ]],
    *[("sighting", "sighting_id", EVENT_ID, raw, ok) for raw, ok in [
        ("abcdef", True), ("a" * 40, True), ("A_b-9_z", True), (SIGHTING_ID.upper(), True),
        ("abcde", False), ("a" * 41, False), ("abc def", False), ("abc/def/ghi", False), ("abc.def", False),
        ("abcdéf", False), ("abcdef\n", False), ("", False),
    ]],
    *[("patrol", "patrol_id", PATROL_ID, raw, ok) for raw, ok in [
        ("BAC-12", True), ("A-1", True), ("PSIGR-9999", True), ("BAC-0", True),
        ("BAC12", False), ("BAC-12345", False), ("ABCDEF-1", False), ("bac-12", False), ("BAC-1a", False),
        ("-12", False), ("BAC-", False), ("BAC-12\n", False), ("BAC 12", False),
    ]],
    *[("assignment", "patrol_id", PATROL_ID, raw, ok) for raw, ok in [("GN-4", True), ("G N-4", False)]],
    *[("assignment", "supervisor_id", SUPERVISOR_ID, raw, ok) for raw, ok in [
        ("SUP-1", True), ("SUP-ZZ99", True), ("SUP-", False), ("SUP-123456789", False), ("sup-1", False),
        ("OP-1", False), ("Cdt Durand", False),
    ]],
    *[("assignment", "assignment_id", EVENT_ID, raw, ok) for raw, ok in [
        ("asg_0001", True), ("asg01", False), ("asg 0001", False),
    ]],
    *[("assignment", "sighting_id", EVENT_ID, raw, ok) for raw, ok in [
        (SIGHTING_ID, True), ("{rennes}", False),
    ]],
]


@pytest.mark.parametrize(
    "kind, name, pattern, raw, ok",
    [pytest.param(*case, id=f"{case[0]}-{case[1]}={case[3]!r}") for case in ID_CASES],
)
def test_identifier_formats(kind, name, pattern, raw, ok):
    result = judged(kind, entry(kind, {name: raw}))
    if ok:
        assert_accepted(result, kind, {name: raw})
    else:
        # The reason quotes the value and explains the expected format in words.
        assert_rejected(result, name, "bad format", repr(raw), ID_FORMATS[pattern])


# --------------------------------------------------------------------------- the sighting note

NOTE_CASES = [
    pytest.param("", "", id="empty"),
    pytest.param(DROP, "", id="absent"),
    pytest.param("x" * NOTE_MAX_CHARS, "x" * NOTE_MAX_CHARS, id="140-ascii"),
    pytest.param("é" * NOTE_MAX_CHARS, "é" * NOTE_MAX_CHARS, id="140-accented"),  # 280 bytes, fine
    pytest.param("Véhicule à l'arrêt, feux de détresse, 2 occupants", None, id="french-text"),
    pytest.param("Rassemblement ~15 pers. / musique forte / 2h du matin !", None, id="punctuation"),
]


@pytest.mark.parametrize("raw, parsed", NOTE_CASES)
def test_note_accepted(raw, parsed):
    result = judged("sighting", entry("sighting", {"note": raw}))
    assert_accepted(result, "sighting", {"note": raw if parsed is None else parsed})


NOTE_REJECTED = [
    pytest.param("x" * (NOTE_MAX_CHARS + 1), ("note", "too long", "141 characters", "140"), id="141-chars"),
    pytest.param("é" * 200, ("note", "too long", "200 characters"), id="200-accented"),
    # 140 emoji are 140 characters but 560 bytes: over the per-value byte limit.
    pytest.param("😀" * NOTE_MAX_CHARS, ("oversized field 'note'", "560 bytes", str(MAX_VALUE_BYTES)), id="140-emoji-too-many-bytes"),
    *[
        pytest.param(f"deal en cours{ch}hall B", ("note", "one line of plain text", repr(f"deal en cours{ch}hall B")), id=f"control-{ord(ch):#x}")
        for ch in ["\n", "\r", "\t", "\x00", "\x07", "\x1b", "\x1f", "\x7f", "\x85", "\x9b", "\u2028", "\u2029"]
    ],
    pytest.param("\x1b[31mALERTE\x1b[0m", ("note", "one line of plain text", "\\x1b"), id="ansi-escape"),
    pytest.param("ok\r\n2026-01-01 INFO forged log line", ("note", "one line of plain text"), id="log-forging"),
]


@pytest.mark.parametrize("raw, fragments", NOTE_REJECTED)
def test_note_refused(raw, fragments):
    assert_rejected(judged("sighting", entry("sighting", {"note": raw})), *fragments)


# --------------------------------------------------------------------------- missing and unknown fields

MISSING_CASES = [
    pytest.param(kind, name, id=f"{kind}-no-{name}")
    for kind in KINDS
    for name in BASE[kind]
    if not (kind == "sighting" and name == "note")
]


@pytest.mark.parametrize("kind, name", MISSING_CASES)
def test_missing_field(kind, name):
    assert_rejected(judged(kind, entry(kind, {name: DROP})), f"missing field {name!r}")


UNKNOWN_FIELD_CASES = [
    pytest.param("telemetry", {"lng": "-1.6778"}, "lng", id="telemetry-lng"),
    pytest.param("telemetry", {"lon": DROP, "lng": "-1.6778"}, "lng", id="telemetry-lng-instead-of-lon"),
    pytest.param("telemetry", {"Lat": "48.1"}, "Lat", id="telemetry-Lat"),
    pytest.param("telemetry", {"battery": "80"}, "battery", id="telemetry-battery"),
    pytest.param("telemetry", {"pilot_name": "Durand"}, "pilot_name", id="telemetry-pilot-name"),
    pytest.param("sighting", {"notes": "x"}, "notes", id="sighting-notes"),
    pytest.param("sighting", {"plate": "AB-123-CD"}, "plate", id="sighting-plate"),
    pytest.param("sighting", {"face_id": "42"}, "face_id", id="sighting-face-id"),
    pytest.param("patrol", {"state": "available"}, "state", id="patrol-state-not-status"),
    pytest.param("patrol", {"timestamp": str(TS)}, "timestamp", id="patrol-timestamp"),
    pytest.param("assignment", {"status": "assigned"}, "status", id="assignment-status-not-state"),
    pytest.param("assignment", {"": "x"}, "''", id="assignment-empty-name"),
]


@pytest.mark.parametrize("kind, changes, shown", UNKNOWN_FIELD_CASES)
def test_unknown_field(kind, changes, shown):
    name = shown if shown == "''" else repr(shown)
    assert_rejected(judged(kind, entry(kind, changes)), "unknown field", name)


@pytest.mark.parametrize("kind", KINDS)
def test_empty_entry_reports_the_first_errors_and_a_count(kind):
    reason = assert_rejected(judged(kind, {}), "missing field 'ts'" if kind == "patrol" else "missing field")
    first = next(iter(BASE[kind]))
    assert f"missing field {first!r}" in reason
    required = len(BASE[kind]) - (kind == "sighting")
    assert f"and {required - 3} more" in reason


def test_several_errors_are_all_named():
    reason = assert_rejected(
        judged("telemetry", entry("telemetry", {"lat": "north", "lon": "999", "lng": "1"})),
    )
    assert "lat: not a number: 'north'" in reason
    assert "lon" in reason and "'999'" in reason
    assert "unknown field 'lng'" in reason


# --------------------------------------------------------------------------- encoding and sizes

ENCODING_CASES = [
    pytest.param(kind, {name: b"\xff\xfe" + BASE[kind][name].encode()}, (name, "not valid UTF-8", "\\xff\\xfe"), id=f"{kind}-{name}-bad-bytes")
    for kind, name in [("telemetry", "drone_id"), ("telemetry", "lat"), ("sighting", "note"),
                       ("patrol", "status"), ("assignment", "supervisor_id")]
] + [
    pytest.param("sighting", {"note": "caf\xe9".encode("latin-1")}, ("note", "not valid UTF-8", "caf\\xe9"), id="latin-1-note"),
    pytest.param("sighting", {"note": b"\xc3"}, ("note", "not valid UTF-8"), id="truncated-utf8"),
    pytest.param("sighting", {"note": b"\xed\xa0\x80"}, ("note", "not valid UTF-8"), id="encoded-surrogate"),
    pytest.param("patrol", {"status": "avail\ud800able"}, ("status", "not valid UTF-8", "\\ud800"), id="lone-surrogate-str-value"),
    pytest.param("patrol", {b"\xffstatus": b"available"}, ("field name", "not valid UTF-8", "\\xff"), id="bad-bytes-name"),
    pytest.param("telemetry", {"l\udc80at": "48"}, ("field name", "not valid UTF-8", "\\udc80"), id="lone-surrogate-str-name"),
    # An unknown name with a line break and a bad value: the reason quotes the name, on one line.
    pytest.param("assignment", {"x\r\nforged": b"\x80"}, ("field 'x\\r\\nforged'", "not valid UTF-8"), id="crlf-name-bad-bytes"),
]


@pytest.mark.parametrize("kind, changes, fragments", ENCODING_CASES)
def test_non_utf8(kind, changes, fragments):
    assert_rejected(judged(kind, entry(kind, changes)), *fragments)


SIZE_CASES = [
    pytest.param("telemetry", {f"x{i}": "1" for i in range(MAX_FIELDS - 8 + 1)}, ("oversized entry", f"{MAX_FIELDS + 1} fields", f"at most {MAX_FIELDS}"), id="telemetry-17-fields"),
    pytest.param("patrol", {f"x{i}": "1" for i in range(100)}, ("oversized entry", "105 fields"), id="patrol-105-fields"),
    pytest.param("telemetry", {"lat": "4" * (MAX_VALUE_BYTES + 1)}, ("oversized field 'lat'", f"{MAX_VALUE_BYTES + 1} bytes", f"at most {MAX_VALUE_BYTES}"), id="value-513-bytes"),
    pytest.param("telemetry", {"lat": "48." + "1" * 100_000}, ("oversized field 'lat'", "100003 bytes"), id="value-100kB"),
    pytest.param("sighting", {"note": b"x" * (MAX_VALUE_BYTES + 1)}, ("oversized field 'note'",), id="bytes-value-513"),
    pytest.param("telemetry", {"n" * (MAX_NAME_BYTES + 1): "1"}, ("oversized field name", "'" + "n" * 33, f"at most {MAX_NAME_BYTES} bytes"), id="name-33-bytes"),
    pytest.param("telemetry", {"é" * 17: "1"}, ("oversized field name", "at most 32 bytes"), id="name-34-bytes-17-chars"),
    pytest.param("telemetry", {b"n" * 10_000: b"1"}, ("oversized field name",), id="bytes-name-10kB"),
]


@pytest.mark.parametrize("kind, changes, fragments", SIZE_CASES)
def test_size_limits(kind, changes, fragments):
    assert_rejected(judged(kind, entry(kind, changes)), *fragments)


def test_size_limits_are_inclusive():
    # Exactly MAX_FIELDS fields: judged on content (here: unknown fields), not refused for size.
    fields = entry("telemetry", {f"x{i}": "1" for i in range(MAX_FIELDS - 8)})
    assert len(fields) == MAX_FIELDS
    reason = assert_rejected(judged("telemetry", fields), "unknown field 'x0'")
    assert "oversized" not in reason
    # A 32-byte name and a 512-byte value are judged on content too.
    reason = assert_rejected(judged("telemetry", entry("telemetry", {"n" * MAX_NAME_BYTES: "1"})), "unknown field")
    assert "oversized" not in reason
    value = "48." + "1" * (MAX_VALUE_BYTES - 3)
    assert len(value.encode()) == MAX_VALUE_BYTES
    result = judged("telemetry", entry("telemetry", {"lat": value}))
    assert not isinstance(result, Rejection) and abs(result.lat - 48.1111) < 1e-4


# --------------------------------------------------------------------------- message kind

@pytest.mark.parametrize(
    "kind",
    ["", "Telemetry", "telemetrie", "sightings", "patrols", "assignments", "zone", "in:telemetry", "telemetry "],
)
def test_unknown_message_kind(kind):
    fields = entry("telemetry")
    assert_rejected(judged(kind, fields), "unknown message kind", repr(kind))


def test_the_kind_decides_the_model():
    # A valid patrol report sent as telemetry is refused for the telemetry contract.
    reason = assert_rejected(judged("telemetry", entry("patrol")), "missing field 'drone_id'")
    assert "unknown field" in reason or "and " in reason


# --------------------------------------------------------------------------- determinism

@pytest.mark.parametrize("kind", KINDS)
def test_equal_inputs_give_equal_results_across_calls(kind):
    results = {validate(kind, entry(kind), RECEIVED) for _ in range(3)}
    assert len(results) == 1  # frozen models: hashable and equal
    rejections = {validate(kind, entry(kind, {"ts": "soon"}), RECEIVED) for _ in range(3)}
    assert len(rejections) == 1 and isinstance(rejections.pop(), Rejection)


def test_validate_does_not_modify_its_input():
    fields = {name.encode(): value.encode() for name, value in entry("sighting").items()}
    before = dict(fields)
    judged("sighting", fields)
    assert fields == before
