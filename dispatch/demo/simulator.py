"""The demo scenario: drones orbiting their zones over Rennes, crews tagging sightings, patrols driving.

`python -m dispatch simulator` writes to the three input streams exactly what
real drone bridges, operator consoles and patrol tablets would: raw string
fields per the contract, so everything downstream, validation included, is
exercised for real.

The core, `Scenario`, touches no network and no clock: built from a seed and a
start time, `step(now_ms)` returns the messages due by then. The same seed and
start give the same messages however finely time is stepped, which makes the
demo reproducible and the core testable in simulated time. Each unit draws from
its own random stream, so a different number of patrols leaves the drones'
flights unchanged. `run` is the thin loop that feeds it the wall clock and
XADDs its output.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import heapq
import logging
import math
import random
import sys
import threading
import time
from collections import Counter, deque
from itertools import islice

import orjson

from ..domain.geo import LatLon, contains, destination, haversine_m, initial_bearing_deg
from ..domain.lifecycle import AssignmentActor
from ..clock import now_ms as clock_now_ms
from ..keys import Keys
from .simulated_tablets import SimulatedTablets
from ..store.assignments import AssignmentRefused, open_assignments, transition
from .scenario_rennes import (
    CATEGORY_WEIGHTS, DIRECTIONS, NOTE_TEMPLATES, PRIORITY_WEIGHTS, ZONES, Message, Patrol, Zone,
    as_sent, call_signs, fixed, random_ms,
)
from ..services import process
from ..settings import Settings
from ..store.connection import RETRYABLE, connect

log = logging.getLogger("dispatch.demo.simulator")

# Drones. Heading home at 25 % lands them with a little over 20 %, the usual low-battery floor.
RETURN_AT_PCT = 25.0
TRANSIT_SPEED_MPS = 12.0
CLIMB_RATE_MPS = 4.0
BATTERY_SWAP_S = (60.0, 120.0)
# Crews, at the pace of a person watching a camera: each tags something new every 2 to 4
# minutes, so a shift of 3 drones yields about one sighting a minute, not one every few seconds.
TAG_EVERY_S = (120.0, 240.0)
FIRST_TAG_S = (0.3, 1.5)  # something to see as soon as the demo opens
# Some sightings are updated by their operator through the contract (same sighting_id, newer
# ts): the scene moved, its urgency changed, a better note. Always well within the shortest
# validity horizon (5 min), so an update never lands on a sighting that has already ended.
UPDATE_SHARE = 0.3
UPDATE_AFTER_S = (30.0, 150.0)
# Some sightings are tagged twice, as happens when the orbit brings the camera back over the
# scene: same category, 20 to 120 m away, 1 to 4 minutes later (within the ~150 m / ~5 min
# that the queue flags as a probable duplicate).
DUPLICATE_SHARE = 0.15
DUPLICATE_AFTER_S = (60.0, 240.0)
# Some sightings are ended by their operator through the contract (an entry with `ended`, issue 11):
# the lookout left, or the orbit took the camera away ("lost_sight"), now and then a tagging mistake.
# Before the shortest validity horizon (5 min), and only while no patrol has it (a patrol's clearing
# is then the ending). A few updated sightings are ended after their update.
END_SHARE = 0.2
END_AFTER_S = (60.0, 270.0)
END_AFTER_UPDATE_SHARE = 0.3
MISTAKE_SHARE = 0.1  # of the ends while the scene is in view ("left" otherwise); out of view: "lost_sight"
END_NOTES = ("", "", "plus personne sur place", "groupe dispersé", "scène terminée")
DUPLICATE_OFFSET_M = (20.0, 120.0)
CAMERA_VIEW_M = 450.0  # an operator updates or re-tags only what the camera can see from where it is
RESPONSE_WINDOW_MS = 300_000  # sightings older than this no longer draw a patrol


def unit_random(seed: int, unit: str) -> random.Random:
    """A unit's own random stream: string seeds are hashed (SHA-512), stable across runs."""
    return random.Random(f"{seed}:{unit}")


def _heading(value: float) -> str:
    # Round first, then wrap: 359.97 must become "0.0", not "360.0" (out of [0, 360)).
    return fixed(round(float(value), 1) % 360.0, 1)


def orbit_radius_m(zone: Zone) -> float:
    """Largest circle round the zone's centre that stays inside it, with 30 m to spare."""
    for radius in range(800, 40, -10):
        ring = (destination(*zone.centre, radius, bearing) for bearing in range(0, 360, 10))
        if all(contains(zone.vertices, *point) for point in ring):
            return radius - 30.0
    return 20.0


class SightingBoard:
    """What the crews have tagged lately: it issues sighting ids and draws patrols to scenes."""

    def __init__(self, seed: int, start_ms: int):
        # The run tag keeps ids unique across restarts of the demo on a persistent Redis.
        self.run_tag = hashlib.blake2b(f"{seed}:{start_ms}".encode(), digest_size=4).hexdigest()
        self.issued = 0
        self.recent: deque[tuple[int, LatLon, int]] = deque()
        self.taken: set[str] = set()

    def mark_taken(self, sighting_ids) -> None:
        """Sightings a patrol has been assigned to (told by the I/O loop): operators stop updating them.

        Kept for good, not just while the assignment is open: today an update with a newer ts
        would put a cleared sighting back in the picture.
        """
        self.taken.update(sighting_ids)

    def is_taken(self, sighting_id: str) -> bool:
        return sighting_id in self.taken

    def record(self, ts: int, point: LatLon, priority: int) -> str:
        self.issued += 1
        self.recent.append((ts, point, priority))
        while self.recent and ts - self.recent[0][0] > RESPONSE_WINDOW_MS:
            self.recent.popleft()
        return f"sim-{self.run_tag}-{self.issued:06d}"

    def pick_scene(self, now_ms: int, here: LatLon, rng: random.Random) -> LatLon | None:
        """A recent sighting to respond to: urgent and nearby ones much likelier, as a dispatcher would."""
        scenes = [(point, priority) for ts, point, priority in self.recent if now_ms - ts <= RESPONSE_WINDOW_MS]
        if not scenes:
            return None
        weights = [(4 - priority) / (1 + float(haversine_m(*here, *point)) / 1000) ** 2
                   for point, priority in scenes]
        return rng.choices([point for point, _ in scenes], weights)[0]


class Drone:
    """One airframe: orbits its zone, hovers over urgent sightings, lands to swap batteries."""

    def __init__(self, index: int, zone: Zone, rng: random.Random, start_ms: int):
        self.drone_id, self.zone, self.rng = f"DR-{index + 1:02d}", zone, rng
        self.period_ms = 500 if index % 2 == 0 else 1000  # bridges broadcast at 1 or 2 Hz
        self.radius_m = orbit_radius_m(zone) * rng.uniform(0.7, 1.0)
        self.turn = rng.choice((1, -1))
        self.orbit_speed = rng.uniform(7.0, 10.0)
        self.cruise_alt_m = rng.uniform(80.0, 110.0)
        self.drain_pct_per_s = rng.uniform(2.6, 3.2) / 60
        self.battery = 98.0 - (index * 29) % 66  # staggered, so crews do not all land at once
        self.angle = rng.uniform(0.0, 360.0)
        self.lat, self.lon = as_sent(*destination(*zone.centre, self.radius_m, self.angle))
        self.alt, self.speed, self.heading = self.cruise_alt_m, self.orbit_speed, 0.0
        self.mode, self.after, self.target, self.until_ms = "orbit", "orbit", zone.centre, 0
        self.last_ms = start_ms
        self.next_ms = start_ms + rng.randrange(self.period_ms)

    @property
    def observing(self) -> bool:
        return self.mode in ("orbit", "loiter", "transit", "climbing")

    def watch(self, point: LatLon) -> None:
        """Break the orbit to hover over an urgent sighting, as an operator would ask."""
        if self.mode == "orbit":
            self._fly_to(point, then="loiter")

    def report(self, now_ms: int) -> Message | None:
        self.next_ms = now_ms + self.period_ms
        landed = self._advance(now_ms)
        if self.mode == "grounded" and not landed:
            return None  # powered off for the battery swap: the link goes quiet, as it would
        return "telemetry", {
            "drone_id": self.drone_id, "ts": str(now_ms),
            "lat": fixed(self.lat, 6), "lon": fixed(self.lon, 6),
            "alt_m": fixed(max(0.0, self.alt), 1), "heading_deg": _heading(self.heading),
            "speed_mps": fixed(max(0.0, self.speed), 1),
            "battery_pct": fixed(min(100.0, max(0.0, self.battery)), 1),
        }

    def _advance(self, now_ms: int) -> bool:
        """Move to now_ms; True when the drone touched down during this step."""
        dt = (now_ms - self.last_ms) / 1000
        self.last_ms = now_ms
        if self.mode == "grounded":
            if now_ms >= self.until_ms:
                self._take_off()
            return False
        landed = False
        if self.mode == "orbit":
            self.angle = (self.angle + self.turn * math.degrees(self.orbit_speed * dt / self.radius_m)) % 360
            self.lat, self.lon = as_sent(*destination(*self.zone.centre, self.radius_m, self.angle))
            self.heading = self.angle + self.turn * 90
            self.speed = self.orbit_speed + self.rng.uniform(-0.4, 0.4)
            self._climb_towards(self.cruise_alt_m, dt)
        elif self.mode in ("loiter", "climbing", "landing"):
            self.speed = self.rng.uniform(0.0, 0.6)
            self.heading += self.rng.uniform(-3.0, 3.0)
            if self.mode == "loiter":
                self._climb_towards(self.cruise_alt_m - 20, dt)  # lower, for a closer look
                if now_ms >= self.until_ms:
                    self._fly_to(self._orbit_point(self.lat, self.lon), then="orbit")
            elif self.mode == "climbing":
                self._climb_towards(self.cruise_alt_m, dt)
                if self.alt >= self.cruise_alt_m - 1:
                    self._fly_to(self._orbit_point(self.lat, self.lon), then="orbit")
            else:
                self._climb_towards(0.0, dt)
                if self.alt <= 0.0:
                    self.mode, self.alt, self.speed = "grounded", 0.0, 0.0
                    self.until_ms = now_ms + random_ms(self.rng, *BATTERY_SWAP_S)
                    landed = True
        else:
            self._fly(now_ms, dt)
        self.battery -= self.drain_pct_per_s * dt * (1.0 if self.mode in ("orbit", "loiter") else 1.2)
        homebound = self.mode in ("landing", "grounded") or (self.mode == "transit" and self.after == "landing")
        if self.battery <= RETURN_AT_PCT and not homebound:
            self._fly_to(self.zone.launch, then="landing")
        return landed

    def _fly(self, now_ms: int, dt: float) -> None:
        """Straight to the target; inside a convex zone the straight line never leaves it."""
        remaining = float(haversine_m(self.lat, self.lon, *self.target))
        step = TRANSIT_SPEED_MPS * dt
        self._climb_towards(self.cruise_alt_m, dt)
        if step < remaining:
            self.heading = float(initial_bearing_deg(self.lat, self.lon, *self.target))
            self.lat, self.lon = as_sent(*destination(self.lat, self.lon, step, self.heading))
            self.speed = TRANSIT_SPEED_MPS + self.rng.uniform(-0.5, 0.5)
            return
        self.lat, self.lon = self.target
        self.mode = self.after
        if self.mode == "orbit":
            self.angle = float(initial_bearing_deg(*self.zone.centre, self.lat, self.lon))
        elif self.mode == "loiter":
            self.until_ms = now_ms + random_ms(self.rng, 25, 50)

    def _fly_to(self, point: LatLon, *, then: str) -> None:
        self.mode, self.target, self.after = "transit", as_sent(*point), then

    def _take_off(self) -> None:
        """A fresh battery, the same airframe id: from the launch point back onto the orbit."""
        self.battery = self.rng.uniform(97.0, 100.0)
        self.mode, self.alt = "climbing", 0.0
        self.lat, self.lon = self.zone.launch

    def _orbit_point(self, lat: float, lon: float) -> LatLon:
        bearing = float(initial_bearing_deg(*self.zone.centre, lat, lon))
        return as_sent(*destination(*self.zone.centre, self.radius_m, bearing))

    def _climb_towards(self, altitude_m: float, dt: float) -> None:
        limit = CLIMB_RATE_MPS * dt
        self.alt += max(-limit, min(limit, altitude_m - self.alt))


class Crew:
    """The operator behind one drone's camera: tags what it sees, updates some of it, re-tags some.

    Besides the next new tag, a crew keeps a small agenda of follow-ups (updates of its own
    sightings, probable duplicates), each due at a fixed time drawn when the sighting was
    tagged: the messages therefore depend only on the seed and the start, never on stepping.
    """

    def __init__(self, index: int, drone: Drone, board: SightingBoard, rng: random.Random, start_ms: int):
        self.operator_id, self.drone, self.board, self.rng = f"OP-{index + 1}", drone, board, rng
        self.next_tag_ms = start_ms + random_ms(rng, *FIRST_TAG_S)
        self.agenda: list[tuple[int, int, str, dict[str, str]]] = []  # (due, order, what, sighting)
        self._order = 0
        self.next_ms = self.next_tag_ms

    def report(self, now_ms: int) -> Message | None:
        if self.agenda and self.agenda[0][0] <= now_ms:
            _, _, what, sighting = heapq.heappop(self.agenda)
            message = self._follow_up(what, sighting, now_ms)
        else:
            self.next_tag_ms = now_ms + random_ms(self.rng, *TAG_EVERY_S)
            message = self._tag(now_ms) if self.drone.observing else None
        self.next_ms = min(self.next_tag_ms, self.agenda[0][0]) if self.agenda else self.next_tag_ms
        return message

    def _tag(self, now_ms: int) -> Message:
        zone = self.drone.zone
        categories = CATEGORY_WEIGHTS[zone.purpose]
        category = self.rng.choices(list(categories), list(categories.values()))[0]
        priority = self.rng.choices((1, 2, 3), PRIORITY_WEIGHTS[category])[0]
        fields = self._sighting(now_ms, category, priority, self._spot(zone))
        if priority == 1 and self.rng.random() < 0.6:
            self.drone.watch((float(fields["lat"]), float(fields["lon"])))
        draw = self.rng.random()
        if draw < UPDATE_SHARE:
            self._plan(now_ms + random_ms(self.rng, *UPDATE_AFTER_S), "update", fields)
        elif draw < UPDATE_SHARE + DUPLICATE_SHARE:
            self._plan(now_ms + random_ms(self.rng, *DUPLICATE_AFTER_S), "duplicate", fields)
        elif draw < UPDATE_SHARE + DUPLICATE_SHARE + END_SHARE:
            self._plan(now_ms + random_ms(self.rng, *END_AFTER_S), "end", fields)
        return "sighting", fields

    def _follow_up(self, what: str, original: dict[str, str], now_ms: int) -> Message | None:
        """An update of an own sighting (same id, newer ts), its end, or a second tag of the same scene."""
        if not self.drone.observing or self.board.is_taken(original["sighting_id"]):
            return None  # camera down, or a patrol has it now: the operator leaves it be
        if what == "end":
            return self._end(original, now_ms)
        zone, here = self.drone.zone, (float(original["lat"]), float(original["lon"]))
        spot = self._near(zone, here, *(DUPLICATE_OFFSET_M if what == "duplicate" else (10.0, 60.0)))
        if float(haversine_m(self.drone.lat, self.drone.lon, *spot)) > CAMERA_VIEW_M:
            return None  # the orbit has taken the camera elsewhere
        if what == "duplicate":
            return "sighting", self._sighting(now_ms, original["category"], int(original["priority"]), spot)
        priority = int(original["priority"])
        change = self.rng.random()
        if change < 0.3:
            priority = max(1, priority - 1)  # it is getting worse
        elif change < 0.45:
            priority = min(3, priority + 1)  # calming down
        lat, lon = spot
        update = {**original, "ts": str(now_ms), "priority": str(priority),
                  "lat": fixed(lat, 6), "lon": fixed(lon, 6), "note": self._note(original["category"], zone)}
        if self.rng.random() < END_AFTER_UPDATE_SHARE:
            self._plan(now_ms + random_ms(self.rng, 30.0, 120.0), "end", update)  # still before 5 min
        return "sighting", update

    def _end(self, original: dict[str, str], now_ms: int) -> Message:
        """The operator ends its own sighting (docs/streams.md, "Updating and ending a sighting")."""
        in_view = float(haversine_m(self.drone.lat, self.drone.lon, float(original["lat"]),
                                    float(original["lon"]))) <= CAMERA_VIEW_M
        mistake = self.rng.random() < MISTAKE_SHARE
        ended = "lost_sight" if not in_view else "mistake" if mistake else "left"
        note = self.rng.choice(END_NOTES) if ended == "left" else ""
        fields = {"sighting_id": original["sighting_id"], "ts": str(now_ms), "operator_id": self.operator_id,
                  "drone_id": self.drone.drone_id, "ended": ended}
        if note:
            fields["note"] = note
        return "sighting", fields

    def _sighting(self, now_ms: int, category: str, priority: int, spot: LatLon) -> dict[str, str]:
        lat, lon = spot
        sighting_id = self.board.record(now_ms, spot, priority)
        return {
            "sighting_id": sighting_id, "ts": str(now_ms), "drone_id": self.drone.drone_id,
            "operator_id": self.operator_id, "category": category,
            "lat": fixed(lat, 6), "lon": fixed(lon, 6), "priority": str(priority),
            "note": self._note(category, self.drone.zone),
        }

    def _note(self, category: str, zone: Zone) -> str:
        return self.rng.choice(NOTE_TEMPLATES[category]).format(
            landmark=self.rng.choice(zone.landmarks), direction=self.rng.choice(DIRECTIONS)
        )

    def _plan(self, due_ms: int, what: str, sighting: dict[str, str]) -> None:
        self._order += 1
        heapq.heappush(self.agenda, (due_ms, self._order, what, sighting))

    def _near(self, zone: Zone, base: LatLon, low_m: float, high_m: float) -> LatLon:
        """A point low_m to high_m from base, inside the zone (else base itself)."""
        for _ in range(12):
            point = as_sent(*destination(*base, self.rng.uniform(low_m, high_m), self.rng.uniform(0, 360)))
            if contains(zone.vertices, *point):
                return point
        return base

    def _spot(self, zone: Zone) -> LatLon:
        """Near a hotspot when the camera can see one, else near the drone; always in the zone."""
        here = (self.drone.lat, self.drone.lon)
        hotspot = min(zone.hotspots, key=lambda spot: float(haversine_m(*here, *spot)))
        hotspot_in_view = float(haversine_m(*here, *hotspot)) < 400
        for _ in range(12):
            if hotspot_in_view and self.rng.random() < 0.55:
                base, distance = hotspot, self.rng.uniform(0, 50)
            else:
                base, distance = here, self.rng.uniform(20, 160)
            point = as_sent(*destination(*base, distance, self.rng.uniform(0, 360)))
            if contains(zone.vertices, *point):
                return point
        return here


class Scenario:
    """The whole demo world, advanced by `step`; deterministic for a given seed and start."""

    def __init__(self, seed: int, start_ms: int, *, drones: int = 3, patrols: int = 24):
        self.seed, self.start_ms = seed, start_ms
        self.board = SightingBoard(seed, start_ms)
        self.drones = [Drone(i, ZONES[i % len(ZONES)], unit_random(seed, f"drone-{i}"), start_ms)
                       for i in range(drones)]
        crews = [Crew(i, drone, self.board, unit_random(seed, f"crew-{i}"), start_ms)
                 for i, drone in enumerate(self.drones)]
        self.patrols = [Patrol(sign, self.board, unit_random(seed, f"patrol-{sign}"), start_ms)
                        for sign in call_signs(patrols)]
        # Units in a queue by next report time; the index breaks ties in a fixed order.
        units = [*self.drones, *crews, *self.patrols]
        self._due = [(unit.next_ms, order, unit) for order, unit in enumerate(units)]
        heapq.heapify(self._due)

    @classmethod
    def from_settings(cls, settings: Settings, start_ms: int) -> "Scenario":
        return cls(settings.sim_seed, start_ms, drones=settings.sim_drones, patrols=settings.sim_patrols)

    @property
    def drone_zones(self) -> dict[str, Zone]:
        return {drone.drone_id: drone.zone for drone in self.drones}

    def step(self, now_ms: int) -> list[Message]:
        """Every message due at or before now_ms, in time order."""
        messages = []
        while self._due and self._due[0][0] <= now_ms:
            due_ms, order, unit = heapq.heappop(self._due)
            message = unit.report(due_ms)
            if message is not None:
                messages.append(message)
            heapq.heappush(self._due, (unit.next_ms, order, unit))
        return messages


# The I/O loop. -----------------------------------------------------------------

TICK_S = 0.2
FOLLOW_EVERY_S = 1.0
SUMMARY_EVERY_S = 60.0
PIPELINE_BATCH = 1_000
MAX_KEPT = 100_000  # about three hours of demo traffic: beyond that, the oldest go


class Outbox:
    """Messages not yet in Redis, kept through an outage like a bridge buffers through link loss.

    A batch whose pipeline failed is sent again whole, so an entry may land
    twice; that is harmless, since a repeated message (same unit, same ts)
    changes nothing in the picture.
    """

    def __init__(self, client, streams: dict[str, str], limit: int = MAX_KEPT):
        self.client, self.streams, self.limit = client, streams, limit
        self.kept: deque[Message] = deque()
        self.sent: Counter[str] = Counter()
        self.dropped = 0
        self.failing_since: float | None = None

    def add(self, messages: list[Message]) -> None:
        self.kept.extend(messages)
        while len(self.kept) > self.limit:
            self.kept.popleft()
            self.dropped += 1

    def flush(self) -> bool:
        """Send everything kept, oldest first; False (and keep the rest) if Redis is unreachable."""
        while self.kept:
            batch = list(islice(self.kept, PIPELINE_BATCH))
            pipe = self.client.pipeline(transaction=False)
            for kind, fields in batch:
                pipe.xadd(self.streams[kind], fields)
            try:
                pipe.execute()
            except RETRYABLE as error:
                if self.failing_since is None:
                    self.failing_since = time.monotonic()
                    log.warning("Redis unreachable (%s); keeping messages and retrying", error)
                return False
            for kind, _ in batch:
                self.kept.popleft()
                self.sent[kind] += 1
        if self.failing_since is not None:
            log.info("Redis reachable again after %.0f s; kept messages sent (%d dropped as too old)",
                     time.monotonic() - self.failing_since, self.dropped)
            self.failing_since = None
        return True


def run(settings: Settings, *, duration_s: float | None = None, stop: threading.Event | None = None,
        tick_s: float = TICK_S, mavlink=None, mavlink_drone: str = "DR-01") -> Counter[str]:
    """Play the scenario in real time into the site's input streams, until stop is set or duration_s.

    With `mavlink` (a demo.mavlink_drone.MavlinkDroneLink), `mavlink_drone`'s telemetry goes as MAVLink
    to the MAVLink bridge instead (issue 13). Returns how many messages of each kind reached Redis.
    """
    if settings.redis_url is None:
        raise ValueError("the simulator needs settings.redis_url")
    stop = stop or threading.Event()
    client = connect(settings.redis_url)
    outbox = Outbox(client, Keys(settings.site).inputs)
    scenario = Scenario.from_settings(settings, start_ms=clock_now_ms())
    log.info("simulating %d drones, %d patrols over Rennes (seed %d) into site %r",
             settings.sim_drones, settings.sim_patrols, settings.sim_seed, settings.site)
    tablets = SimulatedTablets(scenario.patrols)
    keys = Keys(settings.site)
    started = next_tick = last_summary = next_follow = time.monotonic()
    reported: Counter[str] = Counter()
    try:
        while not stop.is_set():
            messages = scenario.step(clock_now_ms())
            if mavlink is not None:  # Bridges (issue 13): one drone through the MAVLink bridge
                messages = _through_mavlink(messages, mavlink, mavlink_drone)
            outbox.add(messages)
            outbox.flush()
            now = time.monotonic()
            if now >= next_follow:
                next_follow = now + FOLLOW_EVERY_S
                _follow_assignments(client, keys, tablets, settings.live_maxlen, scenario.board)
            if now - last_summary >= SUMMARY_EVERY_S:
                _log_summary(outbox.sent - reported, now - last_summary, len(outbox.kept))
                reported, last_summary = Counter(outbox.sent), now
            if duration_s is not None and now - started >= duration_s:
                break
            next_tick = max(next_tick + tick_s, now)
            stop.wait(next_tick - now)
    finally:
        outbox.flush()
        client.close()
        _log_summary(outbox.sent, time.monotonic() - started, len(outbox.kept), total=True)
    return outbox.sent


def _through_mavlink(messages: list[Message], link, drone_id: str) -> list[Message]:
    """Send `drone_id`'s telemetry over MAVLink; the other messages, for the outbox."""
    kept = []
    for kind, fields in messages:
        if kind == "telemetry" and fields["drone_id"] == drone_id:
            link.send(fields)
        else:
            kept.append((kind, fields))
    return kept


def _follow_assignments(client, keys: Keys, tablets: SimulatedTablets, live_maxlen: int,
                        board: SightingBoard) -> None:
    """Play the crews' tablets: acknowledge, go, arrive, clear what supervisors assigned.

    Also tells the operators which of their sightings a patrol now has, so they stop updating them.
    """
    try:
        open_now = open_assignments(client, keys)
        sighting_ids = sorted({a["sighting_id"] for a in open_now})
        board.mark_taken(sighting_ids)
        scenes = {}
        for sighting_id, raw in zip(sighting_ids, client.hmget(keys.sightings, sighting_ids) if sighting_ids else []):
            if raw:
                sighting = orjson.loads(raw)
                scenes[sighting_id] = (sighting["lat"], sighting["lon"])
        for step in tablets.follow(open_now, scenes, clock_now_ms()):
            try:
                transition(client, keys, assignment_id=step.assignment_id, new_state=step.new_state,
                           actor_id=step.patrol_id, actor_role=AssignmentActor.PATROL, outcome=step.outcome,
                           live_maxlen=live_maxlen)
            except AssignmentRefused as refused:  # e.g. a supervisor cancelled it meanwhile
                log.info("%s could not report %s: %s", step.patrol_id, step.new_state.value, refused.reason)
    except RETRYABLE:
        pass  # the outbox already reports the outage; try again next time


def _log_summary(sent: Counter[str], seconds: float, waiting: int, *, total: bool = False) -> None:
    counts = " ".join(f"{kind}={sent[kind]}" for kind in ("telemetry", "sighting", "patrol"))
    log.info("%s %.0f s: sent %s; %d waiting for Redis", "in all," if total else "last", seconds, counts, waiting)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dispatch simulator",
        description="Demo scenario over Rennes: drone telemetry, sightings and patrol reports "
                    "written to the site's input streams. Needs REDIS_URL (or use `make run`).",
    )
    parser.add_argument("--duration", type=float, metavar="SECONDS",
                        help="stop after this many seconds (default: until interrupted)")
    parser.add_argument("--seed", type=int, help="scenario seed (default: DISPATCH_SIM_SEED, else 42)")
    # Bridges (issue 13): the demo's launcher sends one drone through the MAVLink bridge.
    parser.add_argument("--mavlink", metavar="CONNECTION",
                        help="send one drone's telemetry as MAVLink to this pymavlink connection (e.g. "
                             "udpout:127.0.0.1:14550, a `bridge mavlink` listening) instead of XADDing it")
    parser.add_argument("--mavlink-drone", default="DR-01", metavar="DRONE_ID",
                        help="the drone sent as MAVLink, as system id 1 (default DR-01)")
    args = parser.parse_args(argv)
    if args.duration is not None and not args.duration > 0:
        parser.error("--duration must be more than 0")
    if args.seed is not None and args.seed < 0:
        parser.error("--seed must be 0 or more")
    settings = process.start("simulator")
    if settings is None:
        return 2
    if args.seed is not None:
        settings = dataclasses.replace(settings, sim_seed=args.seed)
    stop = process.stop_event()
    link = None
    if args.mavlink:
        from .mavlink_drone import MavlinkDroneLink

        link = MavlinkDroneLink(args.mavlink)
        log.info("%s speaks MAVLink to %s (system id 1)", args.mavlink_drone, args.mavlink)
    try:
        run(settings, duration_s=args.duration, stop=stop, mavlink=link, mavlink_drone=args.mavlink_drone)
    finally:
        if link is not None:
            link.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
