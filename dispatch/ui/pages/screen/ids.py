"""Every component id of the wall screen ("/"), in one place (each page has its own ids.py).

Callbacks, layouts, CSS, the browser scripts and the browser tests all name
components; a typo in a string id fails silently in Dash (the callback never
fires), a typo in a constant fails at import. The browser scripts receive these
ids in the page's configuration (`layout.screen_config`) instead of
repeating them.
"""

# Supervisor wall screen ("/"): frame.
SCREEN = "sup-root"
CONFIG = "sup-config"
STARTED = "sup-started"  # written once by the clientside start-up: proves the scripts ran

# Header.
SITE = "sup-site"
LINK_STATUS = "sup-link"
CLOCK = "sup-clock"
COUNT_DRONES = "sup-count-drones"
COUNT_PATROLS = "sup-count-patrols"
COUNT_SIGHTINGS = "sup-count-sightings"
COUNT_ALERTS = "sup-count-alerts"

# Map and its overlays.
MAP = "sup-map"
LAYER_TOGGLES = "sup-layers"
LEGEND = "sup-legend"
FIT_ALL = "sup-fit-all"  # frames every unit and open sighting (issue 11, map legibility)
KEY_HELP = "sup-keys"

# Right column.
QUEUE = "sup-queue"
QUEUE_COUNT = "sup-queue-count"
SOUND = "sup-sound"
ENDED = "sup-ended"  # the sightings that just left the queue and how (assets/screen_endings.js)
DETAIL = "sup-detail"
CANDIDATES = "sup-candidates"
MESSAGE = "sup-message"
ALERTS = "sup-alerts"
ALERTS_COUNT = "sup-alerts-count"

# Unit status board (assets/screen_board.js): a toggle at 1080p, a column of its own on a 4K wall.
BOARD = "sup-board"
BOARD_TOGGLE = "sup-board-toggle"
BOARD_SEARCH = "sup-board-search"
BOARD_FILTER = "sup-board-filter"
BOARD_COUNT = "sup-board-count"
BOARD_ROWS = "sup-board-rows"

# Browser <-> server: the page writes a request (dash_clientside.set_props), a
# server callback answers in the matching result store.
NEAREST_REQUEST = "sup-nearest-request"
NEAREST_RESULT = "sup-nearest-result"
ACTION_REQUEST = "sup-action-request"
ACTION_RESULT = "sup-action-result"
# Units (assets/screen_units.js): any available patrol for a sighting, a patrol's detail, time in status.
UNITS_REQUEST = "sup-units-request"
UNITS_RESULT = "sup-units-result"
ASSIGN_ANY = "sup-assign-any"  # the typed call sign under the nearest patrols
UNIT_DETAIL = "sup-unit-detail"  # a patrol's detail card
BOARD_DRONES = "sup-board-drones"  # the board's drone rows
CLIENT_SINK = "sup-client-sink"  # output of the clientside callbacks that only hand data to the scripts

# Fallback polling of /api/snapshot, enabled only while the live socket is down.
POLL_TICK = "sup-poll"

# Class of the map container: the browser scripts recognise the map by it when Leaflet creates it.
MAP_CLASS = "dispatch-map"

# Alerts panel: "acknowledge all of this kind" (alert_handlers.py).
ALERT_BULK_REQUEST = "sup-alert-bulk-request"
ALERT_BULK_RESULT = "sup-alert-bulk-result"
ALERT_BULK_SINK = "sup-alert-bulk-sink"

# The tablet-code panel (codes.py): a supervisor issues a crew its one-time sign-in code.
CODES_PANEL = "codes-panel"
CODES_PATROL = "codes-patrol"
CODES_ISSUE = "codes-issue"
CODES_RESULT = "codes-result"
