"""The simulated crews follow assignments through the whole lifecycle, in simulated time."""

from __future__ import annotations

from dispatch.domain.geo import haversine_m
from dispatch.domain.lifecycle import AssignmentActor, check_transition
from dispatch.domain.models import AssignmentState
from dispatch.demo.simulated_tablets import SimulatedTablets
from dispatch.demo.simulator import Scenario

START = 1_790_000_000_000


def lifecycle_of_one_assignment(seed: int, minutes: int = 20):
    scenario = Scenario(seed, START, drones=1, patrols=15)
    tablets = SimulatedTablets(scenario.patrols)
    patrol = scenario.patrols[0]
    scene = (48.1105, -1.6750)  # Place de la Mairie
    assignment = {"assignment_id": "a-000001", "sighting_id": "s-000001", "patrol_id": patrol.patrol_id,
                  "state": "assigned"}
    states = [(START, AssignmentState.ASSIGNED)]
    positions = {}
    for now in range(START, START + minutes * 60_000, 500):
        scenario.step(now)
        open_now = [assignment] if assignment["state"] not in ("cleared", "cancelled") else []
        for step in tablets.follow(open_now, {"s-000001": scene}, now):
            current = AssignmentState(assignment["state"])
            assert check_transition(current, step.new_state, actor_role=AssignmentActor.PATROL) is None
            assignment = {**assignment, "state": step.new_state.value}
            states.append((now, step.new_state))
            positions[step.new_state] = patrol.position
            if step.new_state is AssignmentState.CLEARED:
                assert step.outcome is not None, "clearing needs an outcome"
    return states, patrol, positions


def test_a_crew_acknowledges_goes_arrives_and_clears():
    states, patrol, _ = lifecycle_of_one_assignment(seed=7)
    assert [state for _, state in states] == [
        AssignmentState.ASSIGNED, AssignmentState.ACKNOWLEDGED, AssignmentState.EN_ROUTE,
        AssignmentState.ON_SCENE, AssignmentState.CLEARED,
    ]
    times = dict((state, ts) for ts, state in states)
    assert 3_000 <= times[AssignmentState.ACKNOWLEDGED] - START <= 12_500
    assert 1_000 <= times[AssignmentState.EN_ROUTE] - times[AssignmentState.ACKNOWLEDGED] <= 5_500
    assert times[AssignmentState.ON_SCENE] > times[AssignmentState.EN_ROUTE]
    assert not patrol.assigned, "released once the assignment is over"


def test_the_crew_drives_to_the_scene():
    for seed in (11, 12, 13):
        _, _, positions = lifecycle_of_one_assignment(seed=seed, minutes=15)
        assert float(haversine_m(*positions[AssignmentState.EN_ROUTE], 48.1105, -1.6750)) > 50, "it had to drive"
        assert float(haversine_m(*positions[AssignmentState.ON_SCENE], 48.1105, -1.6750)) < 1.0


def test_a_cancelled_assignment_releases_the_crew():
    scenario = Scenario(3, START, drones=1, patrols=15)
    tablets = SimulatedTablets(scenario.patrols)
    patrol = scenario.patrols[1]
    assignment = {"assignment_id": "a-000002", "sighting_id": "s-2", "patrol_id": patrol.patrol_id,
                  "state": "en_route"}
    tablets.follow([{**assignment, "state": "assigned"}], {"s-2": (48.12, -1.67)}, START)
    patrol.dispatch_to((48.12, -1.67), START)
    assert patrol.assigned and patrol.status == "en_route"
    assert tablets.follow([], {}, START + 1_000) == []
    assert not patrol.assigned and patrol.status == "available"


def test_assignments_of_other_patrols_or_unknown_sightings_are_left_alone():
    scenario = Scenario(3, START, drones=1, patrols=15)
    tablets = SimulatedTablets(scenario.patrols)
    other = {"assignment_id": "a-000003", "sighting_id": "s-3", "patrol_id": "ZZ-999", "state": "assigned"}
    unknown_scene = {"assignment_id": "a-000004", "sighting_id": "s-4",
                     "patrol_id": scenario.patrols[0].patrol_id, "state": "assigned"}
    for now in range(START, START + 60_000, 1_000):
        assert tablets.follow([other, unknown_scene], {"s-3": (48.1, -1.6)}, now) == []


def run_until_it_ends(tablets, scenario, assignment, scene, minutes=25):
    """Steps the crew through simulated time; returns (state changes, minutes until it ended or None)."""
    changes = []
    for now in range(START, START + minutes * 60_000, 1_000):
        scenario.step(now)
        open_now = [assignment] if assignment["state"] not in ("cleared", "cancelled") else []
        for step in tablets.follow(open_now, {assignment["sighting_id"]: scene}, now):
            assert check_transition(AssignmentState(assignment["state"]), step.new_state,
                                    actor_role=AssignmentActor.PATROL) is None
            assignment = {**assignment, "state": step.new_state.value}
            changes.append(step.new_state)
            if step.new_state is AssignmentState.CLEARED:
                return changes, (now - START) / 60_000
    return changes, None


def test_every_assignment_ends_within_a_quarter_of_an_hour():
    """Realistic pace: read in seconds, a drive across town, 3 to 8 minutes on scene, then clear."""
    durations = []
    for seed in range(5):
        scenario = Scenario(seed, START, drones=1, patrols=15)
        tablets = SimulatedTablets(scenario.patrols)
        assignment = {"assignment_id": f"a-{seed:06d}", "sighting_id": "s-000009",
                      "patrol_id": scenario.patrols[seed].patrol_id, "state": "assigned"}
        _, minutes = run_until_it_ends(tablets, scenario, assignment, (48.0880, -1.6560))  # Le Blosne
        assert minutes is not None, f"seed {seed}: never cleared"
        durations.append(minutes)
    assert all(3 <= minutes <= 16 for minutes in durations), durations


def test_a_restarted_simulator_takes_up_assignments_under_way_and_ends_them():
    # The tablets' plans live in the simulator's memory: after a restart, an assignment found en
    # route or on scene used to wait forever for an arrival or a departure that never came.
    for state, expected in (("en_route", [AssignmentState.ON_SCENE, AssignmentState.CLEARED]),
                            ("on_scene", [AssignmentState.CLEARED])):
        scenario = Scenario(5, START, drones=1, patrols=15)
        tablets = SimulatedTablets(scenario.patrols)
        assignment = {"assignment_id": "a-000010", "sighting_id": "s-000010",
                      "patrol_id": scenario.patrols[2].patrol_id, "state": state}
        changes, minutes = run_until_it_ends(tablets, scenario, assignment, (48.1105, -1.6750))
        assert changes == expected, state
        assert minutes is not None and minutes <= 16, state
