"""The simulator's stand-in for the patrol tablets: crews follow what supervisors assign.

When a supervisor assigns a simulated patrol, its crew acknowledges after a
few seconds, drives to the sighting, reports on scene when it arrives and
clears with an outcome when it leaves: the same lifecycle a real tablet drives.
`follow` is pure (open assignments in, steps out); the simulator's loop reads
the assignments and applies the steps through dispatch.store.assignments, as
the patrol, exactly as the tablet backend does.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ..domain.geo import LatLon
from ..domain.models import AssignmentState, Outcome
from .scenario_rennes import ON_SCENE, Patrol, random_ms

# How long a crew takes to read the tablet, and to get rolling after that.
ACKNOWLEDGE_AFTER_S = (3, 12)
ROLL_AFTER_S = (1, 5)
# What crews find, roughly as in the field.
OUTCOME_WEIGHTS = {
    Outcome.NOTHING_FOUND: 35, Outcome.DISPERSED: 30, Outcome.VEHICLE_CHECKED: 20,
    Outcome.ARREST: 5, Outcome.OTHER: 10,
}


@dataclass(frozen=True)
class Step:
    assignment_id: str
    patrol_id: str
    new_state: AssignmentState
    outcome: Outcome | None = None


@dataclass
class _Plan:
    acknowledge_ms: int
    roll_ms: int = 0


class SimulatedTablets:
    def __init__(self, patrols: list[Patrol]):
        self.patrols = {patrol.patrol_id: patrol for patrol in patrols}
        self._plans: dict[str, _Plan] = {}

    def follow(self, open_assignments: list[dict], scenes: dict[str, LatLon], now_ms: int) -> list[Step]:
        """The steps due now for the open assignments of simulated patrols.

        `scenes` gives the position of each assigned sighting; an assignment whose
        sighting is unknown is left alone.
        """
        steps: list[Step] = []
        current = set()
        for assignment in open_assignments:
            patrol = self.patrols.get(assignment["patrol_id"])
            scene = scenes.get(assignment["sighting_id"])
            if patrol is None or scene is None:
                continue
            current.add(assignment["assignment_id"])
            step = self._next_step(assignment, patrol, scene, now_ms)
            if step is not None:
                steps.append(step)
        for assignment_id in set(self._plans) - current:  # cleared or cancelled meanwhile
            del self._plans[assignment_id]
        busy = {a["patrol_id"] for a in open_assignments}
        for patrol in self.patrols.values():
            if patrol.assigned and patrol.patrol_id not in busy:
                patrol.release(now_ms)
        return steps

    def _next_step(self, assignment: dict, patrol: Patrol, scene: LatLon, now_ms: int) -> Step | None:
        assignment_id, state = assignment["assignment_id"], AssignmentState(assignment["state"])
        plan = self._plans.get(assignment_id)
        if plan is None:
            plan = self._plans[assignment_id] = _Plan(now_ms + random_ms(patrol.rng, *ACKNOWLEDGE_AFTER_S))
            _pick_up(patrol, state, scene, now_ms)

        def step(new_state: AssignmentState, outcome: Outcome | None = None) -> Step:
            return Step(assignment_id, patrol.patrol_id, new_state, outcome)

        if state is AssignmentState.ASSIGNED and now_ms >= plan.acknowledge_ms:
            plan.roll_ms = now_ms + random_ms(patrol.rng, *ROLL_AFTER_S)
            return step(AssignmentState.ACKNOWLEDGED)
        if state is AssignmentState.ACKNOWLEDGED and now_ms >= plan.roll_ms:
            patrol.dispatch_to(scene, now_ms)
            return step(AssignmentState.EN_ROUTE)
        if state is AssignmentState.EN_ROUTE and patrol.status == ON_SCENE:
            return step(AssignmentState.ON_SCENE)
        if state is AssignmentState.ON_SCENE and patrol.status != ON_SCENE:
            return step(AssignmentState.CLEARED, _outcome(patrol.rng))
        return None


def _pick_up(patrol: Patrol, state: AssignmentState, scene: LatLon, now_ms: int) -> None:
    """A crew meets an assignment for the first time: new, or (after a simulator restart) under way.

    Without this an assignment found en route or on scene would wait forever for an arrival or a
    departure that the fresh simulated car never makes, and would never end.
    """
    if state is AssignmentState.EN_ROUTE:
        patrol.dispatch_to(scene, now_ms)
    elif state is AssignmentState.ON_SCENE:
        patrol.arrive_at(scene, now_ms)
    else:
        patrol.hold_for_assignment()


def _outcome(rng: random.Random) -> Outcome:
    return rng.choices(list(OUTCOME_WEIGHTS), list(OUTCOME_WEIGHTS.values()))[0]
