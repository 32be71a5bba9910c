"""Every page's path, in one place: the pages register under them, the top bar links to them, and the
sign-in rules (domain/auth.py) say who may open each and where each role lands.

Paths are in their canonical form (domain/auth.py canonical_path): lower case, no trailing slash.
"""

SCREEN = "/"  # the supervisors' live wall screen
TABLET = "/patrol"  # a patrol's tablet
REPLAY = "/replay"  # after-action replay
AUDIT = "/audit"  # the audit trail
ACCOUNTS = "/admin"  # staff accounts
ZONES = "/admin/zones"  # authorised flight zones

# The sign-in routes (flask views, not Dash pages).
SIGNIN = "/login"
PATROL_SIGNIN = "/login/patrol"
SIGNOUT = "/logout"
