"""The simulator's pure core, in simulated time: believable, contract-valid, reproducible.

Everything here steps `Scenario` with made-up clock values, so ten simulated
minutes take a fraction of a second and no Redis is involved.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict

import pytest

from dispatch.domain.geo import contains, haversine_m
from dispatch.domain.models import MESSAGE_MODELS, NOTE_MAX_CHARS, PATROL_ID
from dispatch.domain.validate import Rejection, validate
from dispatch.demo.scenario_rennes import (
    DIRECTIONS, NODES, NOTE_TEMPLATES, ROADS, ZONES, call_signs, neighbours, shortest_route,
)
from dispatch.demo.simulator import Scenario, orbit_radius_m

START_MS = 1_764_000_000_000  # a fixed instant: simulated time, not the wall clock
TICK_MS = 250
REPUBLIQUE = (48.1101, -1.6786)


def simulate(seed=42, minutes=10.0, tick_ms=TICK_MS, start_ms=START_MS, **sizes):
    scenario = Scenario(seed, start_ms, **sizes)
    messages = []
    for now in range(start_ms + tick_ms, start_ms + int(minutes * 60_000) + 1, tick_ms):
        for kind, fields in scenario.step(now):
            messages.append((kind, fields, now))
    return scenario, messages


@pytest.fixture(scope="module")
def ten_minutes():
    """Default demo (3 drones, 24 patrols) for 10 simulated minutes: (scenario, [(kind, fields, stepped_at)])."""
    return simulate()


def by_unit(messages, kind, unit_field):
    units = defaultdict(list)
    for message_kind, fields, _ in messages:
        if message_kind == kind:
            units[fields[unit_field]].append(fields)
    return units


def position(fields):
    return float(fields["lat"]), float(fields["lon"])


def speeds_between_reports(reports):
    """Apparent speed (m/s) between consecutive reports of one unit: a lower bound of its real speed."""
    return [
        haversine_m(*position(a), *position(b)) / ((int(b["ts"]) - int(a["ts"])) / 1000)
        for a, b in zip(reports, reports[1:])
    ]


# Determinism --------------------------------------------------------------------------------------

def test_same_seed_and_start_give_the_same_messages():
    _, first = simulate(seed=7, minutes=3)
    _, again = simulate(seed=7, minutes=3)
    assert first == again
    assert len(first) > 500


def test_the_messages_do_not_depend_on_how_finely_time_is_stepped():
    _, fine = simulate(seed=7, minutes=3, tick_ms=100)
    _, coarse = simulate(seed=7, minutes=3, tick_ms=3_000)
    assert [(kind, fields) for kind, fields, _ in fine] == [(kind, fields) for kind, fields, _ in coarse]


def test_another_seed_gives_another_scenario():
    _, first = simulate(seed=7, minutes=3)
    _, other = simulate(seed=8, minutes=3)
    positions = lambda messages: [(f["lat"], f["lon"]) for _, f, _ in messages if "lat" in f]  # noqa: E731
    assert positions(first) != positions(other)


def test_sighting_ids_differ_between_two_runs_started_at_different_times():
    # A demo restarted on a persistent Redis must not reuse the ids of the previous run.
    _, first = simulate(seed=7, minutes=1)
    _, later = simulate(seed=7, minutes=1, start_ms=START_MS + 3_600_000)
    ids = lambda messages: {f["sighting_id"] for kind, f, _ in messages if kind == "sighting"}  # noqa: E731
    assert ids(first) and ids(later)
    assert not ids(first) & ids(later)


def test_more_patrols_do_not_change_what_the_drones_do():
    _, small = simulate(seed=7, minutes=2, patrols=15)
    _, large = simulate(seed=7, minutes=2, patrols=30)
    telemetry = lambda messages: [f for kind, f, _ in messages if kind == "telemetry"]  # noqa: E731
    assert telemetry(small) == telemetry(large)


# The contract ---------------------------------------------------------------------------------------

def test_every_message_validates_against_the_contract(ten_minutes):
    _, messages = ten_minutes
    rejected = []
    for kind, fields, stepped_at in messages:
        for received_ms in (int(fields["ts"]), stepped_at):  # own ts, and when the tick sent it
            verdict = validate(kind, fields, received_ms=received_ms)
            if isinstance(verdict, Rejection):
                rejected.append((kind, fields, verdict.reason))
    assert rejected == []
    assert {kind for kind, _, _ in messages} == {"telemetry", "sighting", "patrol"}


def test_every_message_carries_every_field_as_a_string(ten_minutes):
    _, messages = ten_minutes
    for kind, fields, _ in messages:
        if "ended" in fields:  # an operator's end: optional note, no position
            assert set(fields) - {"note"} == set(MESSAGE_MODELS["sighting_end"].model_fields) - {"note"}
            assert all(isinstance(value, str) for value in fields.values())
            continue
        assert set(fields) == set(MESSAGE_MODELS[kind].model_fields), kind
        assert all(isinstance(value, str) for value in fields.values())
        assert re.fullmatch(r"-?\d+\.\d{6}", fields["lat"]) and re.fullmatch(r"-?\d+\.\d{6}", fields["lon"])


def test_messages_come_out_in_time_order_and_never_ahead_of_the_clock(ten_minutes):
    _, messages = ten_minutes
    stamps = [int(fields["ts"]) for _, fields, _ in messages]
    assert stamps == sorted(stamps)
    assert all(0 <= stepped_at - int(fields["ts"]) < TICK_MS for _, fields, stepped_at in messages)


# Drones -------------------------------------------------------------------------------------------

def test_zones_are_convex_and_hold_their_launch_point_hotspots_and_an_orbit():
    for zone in ZONES:
        vertices = zone.vertices
        turns = [
            (b[1] - a[1]) * (c[0] - b[0]) - (b[0] - a[0]) * (c[1] - b[1])
            for a, b, c in zip(vertices, vertices[1:] + vertices[:1], vertices[2:] + vertices[:2])
        ]
        assert all(turn < 0 for turn in turns) or all(turn > 0 for turn in turns), zone.zone_id
        for point in (zone.launch, *zone.hotspots):
            assert contains(vertices, *point), zone.zone_id
        assert orbit_radius_m(zone) >= 100, zone.zone_id
    assert len({zone.zone_id for zone in ZONES}) == len(ZONES)


def test_each_drone_reports_at_one_or_two_hertz_while_airborne(ten_minutes):
    _, messages = ten_minutes
    drones = by_unit(messages, "telemetry", "drone_id")
    assert sorted(drones) == ["DR-01", "DR-02", "DR-03"]
    for drone_id, reports in drones.items():
        gaps = [int(b["ts"]) - int(a["ts"]) for a, b in zip(reports, reports[1:])]
        period = statistics.mode(gaps)
        assert period in (500, 1000), drone_id
        # Any other gap is a battery swap on the ground, when the link is quiet.
        assert all(gap == period or gap >= 60_000 for gap in gaps), drone_id


def test_drones_stay_inside_their_zone_below_120_m_at_drone_speeds(ten_minutes):
    scenario, messages = ten_minutes
    zones = scenario.drone_zones
    for drone_id, reports in by_unit(messages, "telemetry", "drone_id").items():
        outside = [f for f in reports if not contains(zones[drone_id].vertices, *position(f))]
        assert outside == [], drone_id
        assert all(0 <= float(f["alt_m"]) <= 120 for f in reports)
        assert max(speeds_between_reports(reports)) <= 15.0
        assert max(float(f["speed_mps"]) for f in reports) <= 15.0


def test_batteries_drain_and_a_low_drone_comes_back_with_a_fresh_one(ten_minutes):
    _, messages = ten_minutes
    swaps = 0
    for drone_id, reports in by_unit(messages, "telemetry", "drone_id").items():
        levels = [float(f["battery_pct"]) for f in reports]
        first_five_minutes = [float(f["battery_pct"]) for f in reports if int(f["ts"]) < START_MS + 300_000]
        assert first_five_minutes[0] - first_five_minutes[-1] >= 8.0, drone_id  # about 3 % a minute
        for before, after, report in zip(levels, levels[1:], reports[1:]):
            if after > before:  # only a battery swap raises the level
                swaps += 1
                assert before <= 25.0 and after >= 97.0, drone_id
                assert float(report["alt_m"]) == 0.0  # taking off again from the ground
        assert min(levels) >= 15.0, drone_id  # home before the battery is critical
    assert swaps >= 1  # the staggered start has one drone low enough to swap within ten minutes


def test_the_landing_drone_reports_touchdown_then_goes_quiet(ten_minutes):
    _, messages = ten_minutes
    for reports in by_unit(messages, "telemetry", "drone_id").values():
        for before, after in zip(reports, reports[1:]):
            if int(after["ts"]) - int(before["ts"]) >= 60_000:
                assert float(before["alt_m"]) == 0.0 and float(before["speed_mps"]) == 0.0
                assert haversine_m(*position(before), *position(after)) < 1.0  # same launch point


# Sightings ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def half_hour():
    """Default demo for 30 simulated minutes, the length of the unattended shift bench."""
    return simulate(minutes=30)


def first_tags(messages):
    """The first message of each sighting id, in time order: what an operator tagged as new."""
    seen, tags = set(), []
    for kind, fields, _ in messages:
        if kind == "sighting" and fields["sighting_id"] not in seen:
            seen.add(fields["sighting_id"])
            tags.append(fields)
    return tags


def test_each_crew_tags_something_new_every_two_to_four_minutes(half_hour):
    # Issue 11: the demo used to tag one sighting every few seconds (194 open after 16 minutes).
    _, messages = half_hour
    tags = first_tags(messages)
    assert len(tags) <= 60, "about one a minute for three drones over 30 minutes"
    for operator in ("OP-1", "OP-2", "OP-3"):
        stamps = [int(f["ts"]) for f in tags if f["operator_id"] == operator]
        gaps_s = [(b - a) / 1000 for a, b in zip(stamps, stamps[1:])]
        assert 6 <= len(stamps) <= 20, operator
        assert 60 <= statistics.median(gaps_s) <= 240, operator
        assert max(gaps_s) <= 600, operator  # a battery swap at most skips a tag or two


def test_operators_update_some_of_their_own_sightings_through_the_contract(half_hour):
    scenario, messages = half_hour
    first = {f["sighting_id"]: f for f in first_tags(messages)}
    updates = [f for kind, f, _ in messages
               if kind == "sighting" and first[f["sighting_id"]] is not f and "ended" not in f]
    assert 0.1 <= len({f["sighting_id"] for f in updates}) / len(first) <= 0.5
    for update in updates:
        original = first[update["sighting_id"]]
        for same in ("drone_id", "operator_id", "category"):
            assert update[same] == original[same]
        after_s = (int(update["ts"]) - int(original["ts"])) / 1000
        assert 30 <= after_s <= 150, "newer ts, and long before any validity horizon (5 min)"
        assert 5 <= haversine_m(*position(original), *position(update)) <= 65
    assert any(u["priority"] != first[u["sighting_id"]]["priority"] for u in updates)
    assert any(u["note"] != first[u["sighting_id"]]["note"] for u in updates)


def test_operators_end_some_of_their_own_sightings_through_the_contract(half_hour):
    """Issue 11: "lookout left". Some sightings (not most) are ended by the operator who tagged them, after
    any update of theirs and before the shortest validity horizon (5 min), once each."""
    _, messages = half_hour
    first = {f["sighting_id"]: f for f in first_tags(messages)}
    ends = [(f, at) for kind, f, at in messages if kind == "sighting" and "ended" in f]
    ended_ids = [f["sighting_id"] for f, _ in ends]
    assert len(ended_ids) == len(set(ended_ids)), "each sighting ended once"
    assert 0.1 <= len(ended_ids) / len(first) <= 0.45, (len(ended_ids), len(first))
    assert {f["ended"] for f, _ in ends} >= {"left"}
    for end, at in ends:
        original = first[end["sighting_id"]]
        assert end["operator_id"] == original["operator_id"] and end["drone_id"] == original["drone_id"]
        assert 30 <= (int(end["ts"]) - int(original["ts"])) / 1000 <= 300
        assert not isinstance(validate("sighting", end, received_ms=at), Rejection)
        later = [f for kind, f, _ in messages if kind == "sighting" and f["sighting_id"] == end["sighting_id"]
                 and int(f["ts"]) > int(end["ts"])]
        assert later == [], "nothing about a sighting after its end"


def test_some_sightings_are_probable_duplicates_of_another(half_hour):
    _, messages = half_hour
    tags = first_tags(messages)
    pairs = [(a, b) for i, a in enumerate(tags) for b in tags[i + 1:]
             if a["category"] == b["category"] and haversine_m(*position(a), *position(b)) <= 150
             and int(b["ts"]) - int(a["ts"]) <= 300_000]
    assert len(pairs) >= 2
    assert len({b["sighting_id"] for _, b in pairs}) <= len(tags) / 2, "some, not most"


def test_operators_leave_alone_the_sightings_a_patrol_has():
    scenario = Scenario(42, START_MS)
    seen, repeated = set(), []
    for now in range(START_MS + TICK_MS, START_MS + 30 * 60_000 + 1, TICK_MS):
        for kind, fields in scenario.step(now):
            if kind == "sighting":
                if fields["sighting_id"] in seen:
                    repeated.append(fields)
                seen.add(fields["sighting_id"])
        scenario.board.mark_taken(seen)  # a patrol is sent to every sighting at once
    assert len(seen) >= 20
    assert repeated == []


def test_a_sighting_stays_taken_once_its_assignment_is_over():
    # An update with a newer ts would put a cleared sighting back in the picture: never send one.
    scenario = Scenario(42, START_MS)
    scenario.board.mark_taken(["sim-0000-000001"])
    scenario.board.mark_taken([])  # the assignment was cleared
    assert scenario.board.is_taken("sim-0000-000001")


def test_sightings_are_inside_the_zone_of_the_drone_that_sees_them_and_near_it(ten_minutes):
    scenario, messages = ten_minutes
    zones = scenario.drone_zones
    drones = by_unit(messages, "telemetry", "drone_id")
    seen_at = {drone_id: position(reports[0]) for drone_id, reports in drones.items()}
    sightings = 0
    for kind, fields, _ in messages:
        if kind == "telemetry":
            seen_at[fields["drone_id"]] = position(fields)
        elif kind == "sighting":
            sightings += 1
            assert contains(zones[fields["drone_id"]].vertices, *position(fields)), fields
            assert haversine_m(*seen_at[fields["drone_id"]], *position(fields)) <= 500, fields
    assert sightings > 0


def test_sightings_are_varied_and_uniquely_identified(half_hour):
    _, messages = half_hour
    sightings = [fields for kind, fields, _ in messages if kind == "sighting" and "ended" not in fields]
    assert len({(f["sighting_id"], f["ts"]) for f in sightings}) == len(sightings)
    assert {f["category"] for f in sightings} == {"lookout", "deal", "vehicle", "gathering", "other"}
    assert {f["priority"] for f in sightings} == {"1", "2", "3"}
    assert {f["operator_id"] for f in sightings} == {"OP-1", "OP-2", "OP-3"}
    assert len({f["note"] for f in sightings}) >= 15


# Words that would describe who someone is or what they look like: notes must never need them.
IDENTIFYING_WORDS = re.compile(
    r"\b(man|men|woman|women|boy|girl|male|female|kid|teen\w*|young|old|tall|short|black|white|arab\w*|"
    r"african|asian|hair|beard|skin|wearing|jacket|hood\w*|cap|name[ds]?|known|aged?)\b",
    re.IGNORECASE,
)


def test_every_possible_note_is_short_and_neutral():
    longest_landmark = max((landmark for zone in ZONES for landmark in zone.landmarks), key=len)
    for templates in NOTE_TEMPLATES.values():
        for template in templates:
            for direction in DIRECTIONS:
                note = template.format(landmark=longest_landmark, direction=direction)
                assert len(note) <= NOTE_MAX_CHARS
                assert not IDENTIFYING_WORDS.search(note), note
    for zone in ZONES:
        for landmark in zone.landmarks:
            assert not IDENTIFYING_WORDS.search(landmark), landmark


# Patrols ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("count", [15, 24, 30])
def test_every_patrol_reports_every_2_to_10_seconds(count):
    _, messages = simulate(minutes=3, patrols=count)
    patrols = by_unit(messages, "patrol", "patrol_id")
    assert sorted(patrols) == sorted(call_signs(count))
    for patrol_id, reports in patrols.items():
        assert re.fullmatch(PATROL_ID, patrol_id)
        stamps = [START_MS] + [int(f["ts"]) for f in reports]
        gaps_s = [(b - a) / 1000 for a, b in zip(stamps, stamps[1:])]
        assert max(gaps_s) <= 10.0, patrol_id
        assert min(gaps_s[1:]) >= 2.0, patrol_id


def test_call_signs_are_distinct_french_looking_and_mixed():
    signs = call_signs(30)
    assert len(set(signs)) == 30
    assert all(re.fullmatch(PATROL_ID, sign) for sign in signs)
    prefixes = Counter(sign.split("-")[0] for sign in signs)
    assert prefixes.most_common(1)[0][0] == "PS"
    assert {"PS", "BAC", "BST"} <= set(prefixes)


def test_patrols_drive_at_street_speeds(ten_minutes):
    _, messages = ten_minutes
    all_speeds = []
    for reports in by_unit(messages, "patrol", "patrol_id").values():
        all_speeds += speeds_between_reports(reports)
    assert max(all_speeds) <= 15.0 + 0.1
    moving = [speed for speed in all_speeds if speed > 1.0]
    assert len(moving) > len(all_speeds) / 3
    assert statistics.median(moving) >= 5.0


def test_patrol_status_mix_is_plausible_and_changes(ten_minutes):
    _, messages = ten_minutes
    patrols = by_unit(messages, "patrol", "patrol_id")
    # Each patrol's status at every minute, as a supervisor's screen would show it.
    shown = Counter()
    for reports in patrols.values():
        for minute in range(1, 11):
            latest = [f for f in reports if int(f["ts"]) <= START_MS + minute * 60_000][-1]
            shown[latest["status"]] += 1
    share = {status: count / sum(shown.values()) for status, count in shown.items()}
    assert set(share) == {"available", "en_route", "on_scene", "unavailable"}
    assert 0.35 <= share["available"] <= 0.75
    assert max(share, key=share.get) == "available"
    assert all(0.03 <= share[status] <= 0.35 for status in ("en_route", "on_scene", "unavailable"))
    changed = [p for p, reports in patrols.items() if len({f["status"] for f in reports}) > 1]
    assert len(changed) >= len(patrols) / 2


def test_patrols_respond_to_what_the_crews_tag(ten_minutes):
    _, messages = ten_minutes
    sighting_spots = [position(f) for kind, f, _ in messages if kind == "sighting"]
    scenes = {position(f) for kind, f, _ in messages if kind == "patrol" and f["status"] == "on_scene"}
    at_a_sighting = [scene for scene in scenes if any(haversine_m(*scene, *spot) < 1.0 for spot in sighting_spots)]
    assert len(at_a_sighting) >= 1


def test_everything_stays_in_rennes(ten_minutes):
    _, messages = ten_minutes
    farthest = max(haversine_m(*REPUBLIQUE, *position(fields)) for _, fields, _ in messages)
    assert farthest <= 6_000


def test_the_street_graph_is_connected_with_roads_of_city_length():
    adjacency = neighbours()
    assert all(adjacency.values())
    assert all(set(shortest_route("republique", name)) <= set(NODES) for name in NODES)
    across_town = shortest_route("kennedy", "zagreb")
    assert across_town[0] == "kennedy" and across_town[-1] == "zagreb"
    lengths = [haversine_m(*NODES[a], *NODES[b]) for a, b in ROADS]
    assert 150 <= min(lengths) and max(lengths) <= 2_500


# Other fleet sizes -----------------------------------------------------------------------------------

@pytest.mark.parametrize("drones", [1, 5])
def test_other_drone_counts_work(drones):
    scenario, messages = simulate(minutes=2, drones=drones, patrols=15)
    seen = set(by_unit(messages, "telemetry", "drone_id"))
    assert seen == {f"DR-{index:02d}" for index in range(1, drones + 1)}
    assert all(not isinstance(validate(kind, f, int(f["ts"])), Rejection) for kind, f, _ in messages)
    assert any(kind == "sighting" for kind, _, _ in messages)
