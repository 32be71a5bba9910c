"""Every Dash component id, in one place.

Callbacks, layouts, CSS and the browser tests all name components; a typo in a
string id fails silently in Dash (the callback never fires), a typo in a
constant fails at import.
"""

# Live map page ("/").
LIVE_ROOT = "live-root"
LIVE_MAP = "live-map"
LIVE_DRONES = "live-drones"
LIVE_PATROLS = "live-patrols"
LIVE_SIGHTINGS = "live-sightings"
LIVE_TICK = "live-tick"
LIVE_STATUS = "live-status"
LIVE_FINGERPRINTS = "live-fingerprints"
LIVE_SITE = "live-site"
LIVE_COUNT_DRONES = "live-count-drones"
LIVE_COUNT_PATROLS = "live-count-patrols"
LIVE_COUNT_SIGHTINGS = "live-count-sightings"
LIVE_UPDATED = "live-updated"
LIVE_ALERT = "live-alert"
LIVE_LEGEND = "live-legend"
