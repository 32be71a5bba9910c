"""What the supervisor map draws and how each state looks: one vocabulary for the legend and the markers.

The markers are drawn in the browser (assets/screen_map.js), from the live
picture, without a server round trip. What they may show is decided here, once:
which states exist, the word and the glyph (CSS classes, assets/style.css) of
each, the map's layers, and the thresholds that make a drone "lost" or "low".
The legend (built by maps.py) and the rules handed to the browser
(`map_rules`, in the page configuration) both come from these tables, so the
legend cannot drift from the map, and the map cannot disagree with the alert
watcher: its thresholds are the watcher's settings.

Status is never told by colour alone: every state has its own shape and its own
word. Pure: no Dash, no Redis, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.alerts import Severity
from ..domain.models import PatrolStatus, SightingCategory
from ..domain.zones import ZoneStatus
from ..settings import Settings

# Positions kept per drone for its trail: at 1-2 Hz, the last 15-30 seconds.
TRAIL_POINTS = 30
# Above this many patrols, they are drawn on one canvas (shape and colour, no
# label) instead of one DOM element each: a thousand labelled DOM markers make
# every pan and zoom stutter, a canvas redraws them in a few milliseconds.
PATROLS_ON_CANVAS_ABOVE = 400
# Beyond this many drones their labels (call sign, battery, link age) would bury the map:
# the arrows stay, and the alerts panel still names any drone in trouble.
DRONE_LABELS_UP_TO = 40
# The same for sightings (the selected one keeps its label): pins stay sized and coloured by
# priority, and the queue spells each one out.
SIGHTING_LABELS_UP_TO = 30
# A sighting's pin fades from full strength to FADE_MIN_OPACITY over this long:
# fresh calls catch the eye, old ones stay visible (they are still open).
SIGHTING_FADE_MS = 15 * 60_000
FADE_MIN_OPACITY = 0.45
# Patrols and sightings are grouped into counted clusters only when zoomed out, below this zoom
# (assets/screen_map.js, Leaflet.markercluster). The demo's zones fit the wall screen at zoom 14,
# the page opens at 13 before they arrive: at either, every unit is its own marker.
CLUSTER_BELOW_ZOOM = 13
# How close (screen pixels) units must be to share a cluster when zoomed out.
CLUSTER_RADIUS_PX = 90
CLUSTER_NOTE = ("Zoomed out, nearby units are grouped: the count, then the most urgent priority (sightings) "
                "or how many patrols are free, and ALERT or WARN when one of them has an alert.")


@dataclass(frozen=True)
class Look:
    """How one state is drawn: its enum value, the word shown, the glyph's CSS classes."""

    state: str
    label: str
    glyph: str
    letter: str = ""


DRONE_LOOKS = (
    Look("ok", "flying", "glyph-drone is-ok"),
    Look("low_battery", "low battery", "glyph-drone is-low_battery"),
    Look("lost", "link lost", "glyph-drone is-lost"),
)

_PATROL_LABELS = {
    PatrolStatus.AVAILABLE: "available",
    PatrolStatus.ASSIGNED: "assigned",
    PatrolStatus.EN_ROUTE: "en route",
    PatrolStatus.ON_SCENE: "on scene",
    PatrolStatus.UNAVAILABLE: "unavailable",
}
PATROL_LOOKS = tuple(Look(s.value, label, f"glyph-patrol is-{s.value}") for s, label in _PATROL_LABELS.items())

PRIORITY_LOOKS = (
    Look("1", "priority 1 · urgent", "glyph-sighting prio-1", "1"),
    Look("2", "priority 2", "glyph-sighting prio-2", "2"),
    Look("3", "priority 3", "glyph-sighting prio-3", "3"),
)

CATEGORY_LETTERS = {
    SightingCategory.LOOKOUT.value: "L",
    SightingCategory.DEAL.value: "D",
    SightingCategory.VEHICLE.value: "V",
    SightingCategory.GATHERING.value: "G",
    SightingCategory.OTHER.value: "O",
}

ZONE_LOOKS = (
    Look(ZoneStatus.ACTIVE.value, "authorised zone", "glyph-zone is-active"),
    Look(ZoneStatus.UPCOMING.value, "zone not yet valid", "glyph-zone is-upcoming"),
    Look(ZoneStatus.EXPIRED.value, "zone expired", "glyph-zone is-expired"),
)

ALERT_LOOKS = (
    Look(Severity.CRITICAL.value, "critical alert", "glyph-ring is-critical"),
    Look(Severity.WARNING.value, "warning", "glyph-ring is-warning"),
    Look("acknowledged", "acknowledged", "glyph-ring is-acknowledged"),
)

# The map's layers, in the order of their toggle buttons: (name, button text).
LAYERS = (
    ("zones", "Zones"),
    ("sightings", "Sightings"),
    ("patrols", "Patrols"),
    ("drones", "Drones"),
    ("trails", "Trails"),
    ("alerts", "Alert rings"),
)


def legend_sections() -> list[tuple[str, tuple[Look, ...]]]:
    """(title, looks) for each block of the legend, in reading order."""
    return [
        ("Patrols", PATROL_LOOKS),
        ("Sightings", PRIORITY_LOOKS),
        ("Drones", DRONE_LOOKS),
        ("Zones", ZONE_LOOKS),
        ("Alerts", ALERT_LOOKS),
    ]


def category_key() -> str:
    """One line explaining the letters on the sighting pins: "L lookout · D deal · …"."""
    return " · ".join(f"{letter} {category}" for category, letter in CATEGORY_LETTERS.items())


def map_rules(settings: Settings) -> dict:
    """What the browser renderer needs to draw states exactly as the legend and the watcher say.

    JSON-ready; the thresholds are the alert watcher's settings, so a drone turns
    "lost" on the map when the link_lost alert is raised, not at another moment.
    """
    return {
        "link_lost_ms": round(settings.alert_link_lost_s * 1000),
        "low_battery_pct": settings.alert_low_battery_pct,
        "trail_points": TRAIL_POINTS,
        "patrols_on_canvas_above": PATROLS_ON_CANVAS_ABOVE,
        "drone_labels_up_to": DRONE_LABELS_UP_TO,
        "sighting_labels_up_to": SIGHTING_LABELS_UP_TO,
        "sighting_fade_ms": SIGHTING_FADE_MS,
        "fade_min_opacity": FADE_MIN_OPACITY,
        "cluster_below_zoom": CLUSTER_BELOW_ZOOM,
        "cluster_radius_px": CLUSTER_RADIUS_PX,
        "category_letters": dict(CATEGORY_LETTERS),
        "drone_states": {look.state: look.label for look in DRONE_LOOKS},
        "patrol_states": {look.state: look.label for look in PATROL_LOOKS},
        "zone_states": {look.state: look.label for look in ZONE_LOOKS},
        "layers": [name for name, _ in LAYERS],
    }
