"""Component ids of the patrol tablet ("/patrol"), in one place; they all start with "tab-".

The browser scripts receive them in the page's configuration (layout.tablet_config).
"""

ROOT = "tab-root"
CONFIG = "tab-config"
STARTED = "tab-started"
MAP = "tab-map"
MAP_CLASS = "tablet-map"  # not the wall screen's MAP_CLASS: the wall screen's map script must not take this map
CALL_SIGN = "tab-callsign"
STATUS = "tab-status"
LINK = "tab-link"
SOUND = "tab-sound"
SIGN_OUT = "tab-signout"
ALERT = "tab-alert"
TARGET = "tab-target"
DIRECTION = "tab-direction"
ACTIONS = "tab-actions"
OUTCOMES = "tab-outcomes"
MESSAGE = "tab-message"
