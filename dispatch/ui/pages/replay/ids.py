"""Component ids of the replay page ("/replay"), in one place; they all start with "rp-".

The browser scripts receive them in the page's configuration (layout.page_config).
"""

ROOT = "rp-root"
CONFIG = "rp-config"
STARTED = "rp-started"
WATCHER = "rp-watcher"  # one per page view: the cache counts who still wants a window being loaded
CLIENT_SINK = "rp-client-sink"

CHOICE = "rp-choice"
CUSTOM_FROM = "rp-from"
CUSTOM_TO = "rp-to"
LOAD = "rp-load"
OPEN_RESULT = "rp-open-result"
CANCEL = "rp-cancel"
CANCEL_RESULT = "rp-cancel-result"
PROGRESS = "rp-progress"
PROGRESS_BAR = "rp-progress-bar"
PROGRESS_TEXT = "rp-progress-text"
MESSAGE = "rp-message"
WINDOW_LABEL = "rp-window-label"

MAP = "rp-map"
MAP_CLASS = "replay-map"  # not the wall screen's "dispatch-map": its scripts claim maps by that class
LEGEND = "rp-legend"
INSTANT = "rp-instant"
INSTANT_DATE = "rp-instant-date"
EVENTS = "rp-events"
EVENTS_COUNT = "rp-events-count"

TRANSPORT = "rp-transport"
PREV = "rp-prev"
PLAY = "rp-play"
NEXT = "rp-next"
SPEEDS_BOX = "rp-speeds"
SLIDER_BOX = "rp-slider"
JUMP = "rp-jump"
JUMP_RESULT = "rp-jump-result"

READY = "rp-ready"  # written by the scripts once a window is loaded: the figures follow it
FIGURES_NOTE = "rp-figures-note"
FIGURE_DOWNLOAD = "rp-figure-download"
EXPORT_GEOJSON = "rp-export-geojson"
EXPORT_CSV = "rp-export-csv"
EXPORT_KML = "rp-export-kml"  # tracks and sightings for Google Earth (issue 13)
EXPORT_MESSAGE = "rp-export-message"
# Issue 15 (exports): the buttons submit a GET form to /api/replay/export, which streams the file.
EXPORT_FORM = "rp-export-form"
EXPORT_FROM = "rp-export-from"
EXPORT_TO = "rp-export-to"

# name -> (graph id, CSV button id, title of its card)
FIGURES = {
    "response_times": ("rp-fig-response", "rp-csv-response", "Time to respond, per sighting"),
    "response_distribution": ("rp-fig-distribution", "rp-csv-distribution", "Response times: distribution"),
    "sightings_per_category": ("rp-fig-categories", "rp-csv-categories", "Sightings per category over time"),
    "heatmap": ("rp-fig-heatmap", "rp-csv-heatmap", "Where sightings were tagged"),
    "utilisation": ("rp-fig-utilisation", "rp-csv-utilisation", "Patrol utilisation"),
    "outcomes": ("rp-fig-outcomes", "rp-csv-outcomes", "Sightings by outcome"),
}

# Issue 15 (figures): each figure is built when the page asks for it (as its card comes into view, one at a
# time): the page writes the window into the figure's own store, the server answers its chart and FIGURE_DONE.
FIGURE_WANTED = {name: f"rp-want-{graph.removeprefix('rp-fig-')}" for name, (graph, _, _) in FIGURES.items()}
FIGURE_DONE = "rp-figure-done"
