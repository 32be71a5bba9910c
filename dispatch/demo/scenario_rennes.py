"""The demo's Rennes: drone zones, the streets and the patrols driving them, call signs, crew wording.

Mostly data, placed by hand on real places to within a few tens of metres:
believable on a map, not fit for navigation. The zones are meant to be reused
by the zones feature (hence one module-level list, `ZONES`). The patrols live
here with the street graph they drive; drones and crews, tied to the zones,
live in dispatch/demo/simulator.py, which also schedules everyone.

Zones are convex on purpose: a drone flying a straight line between two points
of its zone then never leaves it, which is what the authorisation requires.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from ..domain.geo import LatLon, destination, haversine_m, interpolate_along, path_length_m
from ..domain.models import PatrolStatus

Message = tuple[str, dict[str, str]]
"""(kind, fields): kind is a key of `Keys.inputs`, fields the raw stream fields."""


@dataclass(frozen=True)
class Zone:
    """An authorised flight perimeter and what the crews watch for inside it."""

    zone_id: str
    name: str
    purpose: str  # "deal_point" or "event": drives which sightings the crews tag
    vertices: tuple[LatLon, ...]  # convex, counter-clockwise, not closed
    launch: LatLon  # where the crew parks and swaps batteries, inside the zone
    hotspots: tuple[LatLon, ...]  # where most of the activity is seen
    landmarks: tuple[str, ...]  # wording for notes, so they read like an operator's

    @property
    def centre(self) -> LatLon:
        """Vertex mean: for a convex polygon this is an inside point, all the orbit needs."""
        count = len(self.vertices)
        return (
            sum(lat for lat, _ in self.vertices) / count,
            sum(lon for _, lon in self.vertices) / count,
        )


ZONES: list[Zone] = [
    Zone(
        zone_id="Z-VILLEJEAN",
        name="Villejean – Dalle Kennedy",
        purpose="deal_point",
        vertices=(
            (48.1188, -1.7120), (48.1195, -1.7055), (48.1228, -1.7050),
            (48.1248, -1.7085), (48.1245, -1.7140), (48.1212, -1.7160),
        ),
        launch=(48.1200, -1.7072),
        hotspots=((48.1219, -1.7104), (48.1229, -1.7092)),
        landmarks=("the dalle", "the metro exit", "the car park", "the shopping arcade", "the bus stop"),
    ),
    Zone(
        zone_id="Z-BLOSNE",
        name="Le Blosne – Place de Zagreb",
        purpose="deal_point",
        vertices=(
            (48.0850, -1.6585), (48.0855, -1.6525), (48.0885, -1.6512),
            (48.0908, -1.6540), (48.0905, -1.6598), (48.0872, -1.6612),
        ),
        launch=(48.0862, -1.6540),
        hotspots=((48.0879, -1.6558), (48.0889, -1.6575)),
        landmarks=("the square", "the metro exit", "the tower entrance", "the car park", "the footbridge"),
    ),
    Zone(
        zone_id="Z-CENTRE-EVENT",
        name="Sainte-Anne – République event perimeter",
        purpose="event",
        vertices=(
            (48.1082, -1.6815), (48.1088, -1.6752), (48.1120, -1.6745),
            (48.1162, -1.6772), (48.1165, -1.6835), (48.1150, -1.6858), (48.1110, -1.6860),
        ),
        launch=(48.1093, -1.6800),
        hotspots=((48.1143, -1.6801), (48.1101, -1.6787), (48.1125, -1.6832)),
        landmarks=("Place Sainte-Anne", "Place de la République", "Place des Lices",
                   "the town hall", "Rue Saint-Michel", "the metro entrance"),
    ),
    Zone(
        zone_id="Z-MAUREPAS",
        name="Maurepas – Gros-Chêne",
        purpose="deal_point",
        vertices=(
            (48.1228, -1.6585), (48.1232, -1.6520), (48.1262, -1.6505),
            (48.1285, -1.6535), (48.1282, -1.6600), (48.1250, -1.6615),
        ),
        launch=(48.1240, -1.6530),
        hotspots=((48.1257, -1.6558), (48.1268, -1.6575)),
        landmarks=("the Gros-Chêne square", "the library", "the car park", "the shops", "the stairwell"),
    ),
]

# Street graph: named junctions and squares, joined by the main roads between
# them. Patrols drive it edge by edge; routes are shortest paths over it.
NODES: dict[str, LatLon] = {
    "republique": (48.1101, -1.6786),
    "sainte_anne": (48.1143, -1.6801),
    "lices": (48.1125, -1.6832),
    "bretagne": (48.1093, -1.6858),
    "hotel_police": (48.1072, -1.6866),
    "colombier": (48.1056, -1.6830),
    "charles_de_gaulle": (48.1057, -1.6776),
    "gare": (48.1040, -1.6722),
    "saint_helier": (48.1050, -1.6640),
    "thabor": (48.1137, -1.6706),
    "hoche": (48.1156, -1.6772),
    "anatole_france": (48.1185, -1.6870),
    "pontchaillou": (48.1212, -1.6935),
    "villejean_universite": (48.1213, -1.7040),
    "kennedy": (48.1219, -1.7105),
    "jeanne_darc": (48.1195, -1.6655),
    "patton": (48.1265, -1.6685),
    "gros_chene": (48.1255, -1.6560),
    "alma": (48.0985, -1.6745),
    "henri_freville": (48.0876, -1.6745),
    "triangle": (48.0918, -1.6612),
    "zagreb": (48.0880, -1.6560),
    "italie": (48.0955, -1.6565),
    "brequigny": (48.0905, -1.6890),
    "cleunay": (48.1030, -1.7080),
    "arsenal": (48.1050, -1.6935),
}

ROADS: list[tuple[str, str]] = [
    ("republique", "sainte_anne"), ("republique", "bretagne"), ("republique", "charles_de_gaulle"),
    ("republique", "thabor"), ("sainte_anne", "lices"), ("sainte_anne", "hoche"),
    ("sainte_anne", "anatole_france"), ("lices", "bretagne"), ("bretagne", "hotel_police"),
    ("bretagne", "arsenal"), ("bretagne", "anatole_france"), ("hotel_police", "colombier"),
    ("hotel_police", "arsenal"), ("colombier", "charles_de_gaulle"), ("colombier", "alma"),
    ("charles_de_gaulle", "gare"), ("gare", "saint_helier"), ("gare", "alma"),
    ("saint_helier", "thabor"), ("saint_helier", "italie"), ("thabor", "hoche"),
    ("thabor", "jeanne_darc"), ("hoche", "jeanne_darc"), ("hoche", "patton"),
    ("anatole_france", "pontchaillou"), ("pontchaillou", "villejean_universite"),
    ("villejean_universite", "kennedy"), ("kennedy", "cleunay"), ("jeanne_darc", "gros_chene"),
    ("jeanne_darc", "patton"), ("patton", "gros_chene"), ("alma", "henri_freville"),
    ("alma", "brequigny"), ("henri_freville", "triangle"), ("henri_freville", "brequigny"),
    ("triangle", "zagreb"), ("triangle", "italie"), ("zagreb", "italie"),
    ("brequigny", "cleunay"), ("cleunay", "arsenal"),
]

POLICE_STATION = "hotel_police"  # where unavailable patrols drive back to


def neighbours() -> dict[str, tuple[str, ...]]:
    """Adjacency of the street graph; roads are two-way."""
    adjacency: dict[str, list[str]] = {name: [] for name in NODES}
    for a, b in ROADS:
        adjacency[a].append(b)
        adjacency[b].append(a)
    return {name: tuple(sorted(ends)) for name, ends in adjacency.items()}


def nearest_node(point: LatLon) -> str:
    """Where a unit off the graph (on a scene, at a sighting) joins the roads again."""
    return min(sorted(NODES), key=lambda name: float(haversine_m(*point, *NODES[name])))


@lru_cache(maxsize=1024)
def shortest_route(start: str, goal: str) -> tuple[str, ...]:
    """Node names from start to goal by road distance (Dijkstra; the graph is tiny)."""
    adjacency = neighbours()
    best = {start: 0.0}
    previous: dict[str, str] = {}
    queue = [(0.0, start)]
    while queue:
        cost, node = heapq.heappop(queue)
        if node == goal:
            break
        if cost > best[node]:
            continue
        for other in adjacency[node]:
            candidate = cost + float(haversine_m(*NODES[node], *NODES[other]))
            if candidate < best.get(other, float("inf")):
                best[other] = candidate
                previous[other] = node
                heapq.heappush(queue, (candidate, other))
    if goal != start and goal not in previous:
        raise ValueError(f"no road from {start} to {goal}")
    route = [goal]
    while route[-1] != start:
        route.append(previous[route[-1]])
    return tuple(reversed(route))


# Call-sign prefixes in the order units are created, so that any fleet size has
# a plausible mix: police secours most, then BAC, then the rarer units.
CALL_SIGN_CYCLE = ("PS", "BAC", "PS", "BST", "BAC", "PS", "UPQ", "BAC", "PS", "BST", "MO", "CYN")
CALL_SIGN_FIRST_NUMBER = {"PS": 1, "BAC": 11, "BST": 21, "UPQ": 31, "MO": 41, "CYN": 51}


def call_signs(count: int) -> list[str]:
    """`count` distinct call signs, e.g. PS-1, BAC-11, PS-2, BST-21..."""
    issued = {prefix: 0 for prefix in CALL_SIGN_FIRST_NUMBER}
    signs = []
    for index in range(count):
        prefix = CALL_SIGN_CYCLE[index % len(CALL_SIGN_CYCLE)]
        signs.append(f"{prefix}-{CALL_SIGN_FIRST_NUMBER[prefix] + issued[prefix]}")
        issued[prefix] += 1
    return signs


# What crews tag, by zone purpose: weights of each category.
CATEGORY_WEIGHTS = {
    "deal_point": {"lookout": 35, "deal": 30, "vehicle": 20, "gathering": 5, "other": 10},
    "event": {"lookout": 5, "deal": 5, "vehicle": 15, "gathering": 50, "other": 25},
}

# Weights of priority 1, 2, 3 (1 is the most urgent) by category.
PRIORITY_WEIGHTS = {
    "lookout": (10, 40, 50), "deal": (30, 50, 20), "vehicle": (20, 50, 30),
    "gathering": (25, 45, 30), "other": (15, 35, 50),
}

# Note wording. Behaviour, places and directions only: never anything that
# describes who a person is or what they look like (privacy by design).
NOTE_TEMPLATES = {
    "lookout": ("lookout at the corner of {landmark}", "lookout posted near {landmark}",
                "lookout moved {direction}", "two lookouts near {landmark}", "lookout watching {landmark}"),
    "deal": ("exchange near {landmark}", "hand-to-hand near {landmark}", "brief visits to {landmark}",
             "queue forming near {landmark}", "exchange, buyers leaving {direction}"),
    "vehicle": ("vehicle leaving {direction}", "vehicle parked at {landmark}, engine running",
                "scooter circling near {landmark}", "car stopping briefly at {landmark}",
                "vehicle heading {direction} at speed"),
    "gathering": ("crowd forming near {landmark}", "group moving {direction}", "gathering growing at {landmark}",
                  "crowd dispersing {direction}", "flares lit near {landmark}"),
    "other": ("object left near {landmark}", "fire in a bin near {landmark}", "access blocked at {landmark}",
              "smoke {direction} of {landmark}", "view partial, camera repositioning"),
}

DIRECTIONS = ("north", "north-east", "east", "south-east", "south", "south-west", "west", "north-west")


def random_ms(rng: random.Random, low_s: float, high_s: float) -> int:
    """A duration drawn between two bounds given in seconds, in whole milliseconds."""
    return int(rng.uniform(low_s, high_s) * 1000)


def fixed(value: float, digits: int) -> str:
    """A number as a stream field: fixed decimals, never "-0.0"."""
    return f"{round(float(value), digits) + 0.0:.{digits}f}"


def as_sent(lat: float, lon: float) -> LatLon:
    """A position rounded as it will be written (6 decimals, about 0.1 m), so checks judge what is sent."""
    return round(float(lat), 6), round(float(lon), 6)


# Patrols. ----------------------------------------------------------------------

AVAILABLE, EN_ROUTE, ON_SCENE, UNAVAILABLE = (
    PatrolStatus.AVAILABLE.value, PatrolStatus.EN_ROUTE.value,
    PatrolStatus.ON_SCENE.value, PatrolStatus.UNAVAILABLE.value,
)
# How status is spread when the demo starts, close to how it settles afterwards.
INITIAL_STATUS_WEIGHTS = {AVAILABLE: 55, EN_ROUTE: 12, ON_SCENE: 15, UNAVAILABLE: 18}


class Scenes(Protocol):
    def pick_scene(self, now_ms: int, here: LatLon, rng: random.Random) -> LatLon | None:
        """Where something was tagged lately that a patrol could respond to, if anywhere."""


class Patrol:
    """One car (or bike) on the street graph: patrols, responds to sightings, goes off duty."""

    ADJACENCY = neighbours()

    def __init__(self, patrol_id: str, board: Scenes, rng: random.Random, start_ms: int):
        self.patrol_id, self.board, self.rng = patrol_id, board, rng
        self.node: str | None = rng.choice(sorted(NODES))
        self.came_from: str | None = None
        self.position = NODES[self.node]
        self.path: list[LatLon] | None = None
        self.path_nodes: list[str] = []
        self.path_len = self.travelled = self.speed = 0.0
        self.until_ms = start_ms
        self.last_ms = start_ms
        status = rng.choices(list(INITIAL_STATUS_WEIGHTS), list(INITIAL_STATUS_WEIGHTS.values()))[0]
        if status == AVAILABLE:
            self._patrol(start_ms)
            self.travelled = rng.uniform(0, self.path_len)
        elif status == EN_ROUTE:
            self._respond(start_ms)
        else:
            self.status = status
            self.position = self._near(NODES[POLICE_STATION] if status == UNAVAILABLE and rng.random() < 0.5
                                       else self.position)
            self.node = None
            self.until_ms = start_ms + random_ms(rng, 60, 420)
        self.next_ms = start_ms + self.rng.randrange(self._report_gap_ms())

    # Dispatch by a supervisor (the simulator plays the crew's tablet). ----------

    assigned = False  # holding an assignment: no self-dispatch, no standing down

    def hold_for_assignment(self) -> None:
        """Assigned, not yet rolling: carry on the beat, take no other call."""
        self.assigned = True

    def dispatch_to(self, scene: LatLon, now_ms: int) -> None:
        """En route to the assigned sighting, lights on."""
        self._advance(now_ms)
        self.assigned = True
        start = self.node or nearest_node(self.position)
        route = list(shortest_route(start, nearest_node(scene)))
        self.status = EN_ROUTE
        self._drive([self.position, *(NODES[name] for name in route), scene], route, self.rng.uniform(11, 15))
        self.path_nodes = []  # the scene is off the roads

    def arrive_at(self, scene: LatLon, now_ms: int) -> None:
        """Already on the assigned scene (a restarted simulator picking up where the crew was)."""
        self._advance(now_ms)
        self.assigned = True
        self.path, self.node, self.position = None, None, as_sent(*scene)
        self.status, self.until_ms = ON_SCENE, now_ms + random_ms(self.rng, 180, 480)

    def release(self, now_ms: int) -> None:
        """The assignment is over (cleared or cancelled): back to the beat."""
        self.assigned = False
        if self.status in (EN_ROUTE, ON_SCENE):
            self._patrol(now_ms)

    def report(self, now_ms: int) -> Message:
        self._advance(now_ms)
        self.next_ms = now_ms + self._report_gap_ms()
        lat, lon = self.position
        return "patrol", {
            "patrol_id": self.patrol_id, "ts": str(now_ms),
            "lat": fixed(lat, 6), "lon": fixed(lon, 6), "status": self.status,
        }

    def _report_gap_ms(self) -> int:
        """Tablets report often while driving to a scene (tactical), rarely when parked."""
        if self.path is None:
            return random_ms(self.rng, 8, 10)
        return random_ms(self.rng, 2, 3) if self.status == EN_ROUTE else random_ms(self.rng, 3, 6)

    def _advance(self, now_ms: int) -> None:
        dt = (now_ms - self.last_ms) / 1000
        self.last_ms = now_ms
        if self.path is None:
            if now_ms >= self.until_ms:
                self._leave_scene(now_ms)
            return
        self.travelled += self.speed * dt
        while self.path is not None and self.travelled >= self.path_len:
            overshoot = self.travelled - self.path_len
            self._arrive(now_ms)
            if self.path is not None and self.status == AVAILABLE:
                self.travelled = overshoot
        if self.path is not None:
            self.position = as_sent(*interpolate_along(self.path, self.travelled))

    def _arrive(self, now_ms: int) -> None:
        self.position = self.path[-1]
        self.node = self.path_nodes[-1] if self.path_nodes else None
        self.came_from = self.path_nodes[-2] if len(self.path_nodes) > 1 else None
        self.path = None
        if self.status == EN_ROUTE:
            self.status, self.until_ms = ON_SCENE, now_ms + random_ms(self.rng, 180, 480)
        elif self.status == UNAVAILABLE:
            self.until_ms = now_ms + random_ms(self.rng, 180, 480)
        elif now_ms < self.until_ms or self.assigned:
            self._drive_on()
        else:
            draw = self.rng.random()
            if draw < 0.35:
                self._respond(now_ms)
            elif draw < 0.50:
                self._stand_down(now_ms)
            else:
                self._patrol(now_ms)

    def _leave_scene(self, now_ms: int) -> None:
        if self.status == ON_SCENE and self.rng.random() < 0.25:
            self.status, self.until_ms = UNAVAILABLE, now_ms + random_ms(self.rng, 120, 300)  # paperwork
        else:
            self._patrol(now_ms)

    def _patrol(self, now_ms: int) -> None:
        self.status, self.until_ms = AVAILABLE, now_ms + random_ms(self.rng, 120, 360)
        if self.node is None:  # off the roads (a scene): rejoin them at the nearest junction
            joint = nearest_node(self.position)
            self._drive([self.position, NODES[joint]], [joint], self.rng.uniform(5, 9))
        else:
            self._drive_on()

    def _drive_on(self) -> None:
        """One more block of the beat: any road but the one just driven, unless a dead end."""
        roads = self.ADJACENCY[self.node]
        ahead = self.rng.choice([name for name in roads if name != self.came_from] or roads)
        self._drive([NODES[self.node], NODES[ahead]], [self.node, ahead], self.rng.uniform(5, 9))

    def _respond(self, now_ms: int) -> None:
        scene = self.board.pick_scene(now_ms, self.position, self.rng)
        if scene is None:  # nothing tagged lately: an ordinary call elsewhere in town
            far = [name for name in sorted(NODES) if float(haversine_m(*self.position, *NODES[name])) > 800]
            scene = self._near(NODES[self.rng.choice(far)])
        route = list(shortest_route(self.node or nearest_node(self.position), nearest_node(scene)))
        self.status = EN_ROUTE
        self._drive([self.position, *(NODES[name] for name in route), scene], route, self.rng.uniform(11, 15))
        self.path_nodes = []  # the scene is off the roads

    def _stand_down(self, now_ms: int) -> None:
        """Unavailable: half the time driving back to the station, else stopped where they are."""
        self.status = UNAVAILABLE
        if self.node != POLICE_STATION and self.rng.random() < 0.5:
            route = list(shortest_route(self.node, POLICE_STATION))
            self._drive([NODES[name] for name in route], route, self.rng.uniform(7, 10))
        else:
            self.until_ms = now_ms + random_ms(self.rng, 120, 360)

    def _drive(self, path: list[LatLon], path_nodes: list[str], speed: float) -> None:
        self.path, self.path_nodes, self.speed = path, path_nodes, speed
        self.path_len, self.travelled, self.node = path_length_m(path), 0.0, None

    def _near(self, point: LatLon) -> LatLon:
        return as_sent(*destination(*point, self.rng.uniform(5, 40), self.rng.uniform(0, 360)))
