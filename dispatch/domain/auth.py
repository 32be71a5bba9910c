"""Who may do what, and the secrets that prove who someone is. Pure: no Redis, no Flask.

Roles and permissions are one table (`PERMISSIONS`) so that every guard in the
product (page, API route, Dash callback, live socket) asks the same question,
`may(role, permission)`, and a change of policy is one line.

Secrets:
- Passwords are hashed with scrypt (RFC 7914) by werkzeug's `generate_password_hash`
  (werkzeug ships with Flask; pure functions, no web app involved),
  a random 130-bit salt per hash, N=2**15, r=8, p=1: 32 MiB and about 0.1 s
  per hash, OWASP's minimum for scrypt being N=2**17 with r=8 p=1 or an
  equivalent cost; we keep N at 2**15 because every sign-in attempt costs one
  hash on a web worker. The parameters are stored with each hash, so raising
  them later only needs new hashes, never a migration: a hash in an older
  format or with other parameters is replaced at the next successful sign-in.
- Patrol codes (6 digits) are hashed the same way: they live 12 h at most,
  are used once, and sign-in attempts are rate limited, so the small code
  space is guarded online; offline, the hash costs an attacker ~1e6 scrypt runs.
- Session ids and CSRF tokens are 256-bit random values (`secrets`).
  Redis keys hold the SHA-256 of a session id, never the id itself: someone
  reading a Redis dump cannot take over a live session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import re
import secrets
import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Callable
from urllib.parse import unquote, urlsplit

from werkzeug.http import parse_cookie
from werkzeug.security import check_password_hash, generate_password_hash

from . import pages
from .backoff import capped_exponential
from .lifecycle import CLOSED_STATES
from .live import Subscription
from .models import PATROL_ID, SUPERVISOR_ID

# The session cookie: set by the web app (web/auth.py), read by it and by the live gateway (same host).
SESSION_COOKIE = "dispatch_session"
AUDITOR_ID = r"^AUD-[0-9A-Z]{1,8}$"
ADMINISTRATOR_ID = r"^ADM-[0-9A-Z]{1,8}$"


class Role(str, Enum):
    SUPERVISOR = "supervisor"
    PATROL = "patrol"
    AUDITOR = "auditor"
    ADMINISTRATOR = "administrator"


@dataclass(frozen=True)
class Identity:
    """Who is behind a request. `session_id` is the secret cookie value: never render or log it."""

    user_id: str
    role: Role
    patrol_id: str | None
    session_id: str = field(repr=False)
    expires_ms: int
    # The session's CSRF token: state-changing requests must echo it in X-CSRFToken.
    csrf_token: str = field(default="", repr=False, compare=False)


PERMISSIONS: dict[str, frozenset[Role]] = {
    "live_view": frozenset({Role.SUPERVISOR, Role.ADMINISTRATOR}),
    # assign, cancel, reassign, acknowledge alerts, issue patrol codes
    "dispatch": frozenset({Role.SUPERVISOR}),
    # acknowledge and move one's own assignment along, report status
    "patrol_actions": frozenset({Role.PATROL}),
    "replay": frozenset({Role.SUPERVISOR, Role.AUDITOR}),
    "audit_view": frozenset({Role.AUDITOR, Role.ADMINISTRATOR}),
    "export": frozenset({Role.SUPERVISOR, Role.AUDITOR}),
    "manage_users": frozenset({Role.ADMINISTRATOR}),
    "manage_zones": frozenset({Role.ADMINISTRATOR}),
}


def may(role: Role | str | None, permission: str) -> bool:
    """Unknown roles and unknown permissions are refused: a typo in a guard must fail closed."""
    if role is None:
        return False
    try:
        role = Role(role)
    except ValueError:
        return False
    return role in PERMISSIONS.get(permission, frozenset())


# Pages and the permission each needs. A page not listed still needs a signed-in user.
PAGE_PERMISSIONS: dict[str, str] = {
    pages.SCREEN: "live_view",
    pages.TABLET: "patrol_actions",
    pages.REPLAY: "replay",
    pages.AUDIT: "audit_view",
    pages.ACCOUNTS: "manage_users",
    pages.ZONES: "manage_zones",
}
# Where each role lands after signing in when no (allowed) page was asked for.
HOME_PAGE: dict[Role, str] = {
    Role.SUPERVISOR: pages.SCREEN,
    Role.PATROL: pages.TABLET,
    Role.AUDITOR: pages.AUDIT,
    Role.ADMINISTRATOR: pages.ACCOUNTS,
}

# Any staff code: anything else typed as one may be a name, and is kept off the audit trail.
STAFF_CODE = r"^(SUP|AUD|ADM)-[0-9A-Z]{1,8}$"
STAFF_PREFIX = {Role.SUPERVISOR: "SUP", Role.AUDITOR: "AUD", Role.ADMINISTRATOR: "ADM"}
# Staff sign in with a pseudonymous code whose prefix says their role.
STAFF_ID_FORMATS: dict[Role, str] = {
    Role.SUPERVISOR: SUPERVISOR_ID,
    Role.AUDITOR: AUDITOR_ID,
    Role.ADMINISTRATOR: ADMINISTRATOR_ID,
}


def staff_code_problem(user_id: object, role: object) -> str | None:
    """What is wrong with `user_id` as the code of a `role` account, in words an administrator can act on."""
    try:
        role = Role(role)
    except ValueError:
        return "Choose a role: supervisor, auditor or administrator"
    if role is Role.PATROL:
        return "Patrols have no account: a supervisor issues them a sign-in code"
    if not isinstance(user_id, str) or not user_id:
        return f"Type the code of the account, e.g. {STAFF_PREFIX[role]}-3"
    if staff_role(user_id) is role:
        return None
    shown = user_id if staff_role(user_id) else f"{user_id!r:.40}"
    article = "an" if role.value[0] in "aeiou" else "a"
    return f"{shown} is not {article} {role.value} code: {role.value} codes are {STAFF_PREFIX[role]}-n"


def canonical_path(raw: object) -> str:
    """The one form of a path every permission check uses: percent-decoded (repeatedly: `%2561` is
    `a` too), backslashes as slashes, `//` collapsed, `.` and `..` resolved, no trailing slash, lower
    case. Dash's pages router strips slashes on its own (`//admin` renders /admin) and browsers turn
    `\\` into `/`: checking the raw string let `//admin` through (a hole found by an adversarial review)."""
    path = raw if isinstance(raw, str) else ""
    for _ in range(4):
        decoded = unquote(path)
        if decoded == path:
            break
        path = decoded
    segments: list[str] = []
    for part in path.replace("\\", "/").lower().split("/"):
        if part == "..":
            if segments:
                segments.pop()
        elif part not in ("", "."):
            segments.append(part)
    return "/" + "/".join(segments)


def page_permission(path: str) -> str | None:
    """The permission a page needs, looked up by its canonical path; None if the page is not listed."""
    return PAGE_PERMISSIONS.get(canonical_path(path))


def staff_role(user_id: str) -> Role | None:
    """The role a staff code belongs to (SUP-n, AUD-n, ADM-n), None if it is none of them."""
    for role, pattern in STAFF_ID_FORMATS.items():
        if isinstance(user_id, str) and re.match(pattern, user_id):
            return role
    return None


def is_call_sign(patrol_id: object) -> bool:
    return isinstance(patrol_id, str) and re.match(PATROL_ID, patrol_id) is not None


def safe_next(next_path: str | None, role: Role) -> str:
    """Where to go after signing in: the page asked for if it is ours and the role may see it,
    else the role's home. Only local paths: `next=//evil.example` or `https://...` is an open redirect."""
    home = HOME_PAGE[role]
    if not next_path or not next_path.startswith("/") or next_path.startswith("//") or "\\" in next_path:
        return home
    parts = urlsplit(next_path)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in next_path):
        return home
    needed = page_permission(parts.path)
    if needed is None or not may(role, needed):
        return home
    return next_path


# --- Passwords and codes -------------------------------------------------------------

SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
SALT_CHARS = 22  # werkzeug draws the salt from 62 letters and digits: 22 of them carry 130 bits
_MAXMEM = 256 * 1024 * 1024  # room for N up to 2**17 at r=8 (128 MiB); OpenSSL's default is 32 MiB
PASSWORD_MIN_CHARS = 12
PASSWORD_MAX_CHARS = 256  # scrypt hashes any length; a bound keeps a megabyte "password" out
PATROL_CODE_DIGITS = 6


class PasswordRejected(ValueError):
    """A password the product will not store; the message says why, for the administrator."""


def password_problem(password: object) -> str | None:
    if not isinstance(password, str):
        return "the password must be text"
    if len(password) < PASSWORD_MIN_CHARS:
        return f"the password must have at least {PASSWORD_MIN_CHARS} characters"
    if len(password) > PASSWORD_MAX_CHARS:
        return f"the password must have at most {PASSWORD_MAX_CHARS} characters"
    return None


def hash_secret(secret: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """werkzeug's `scrypt:N:r:p$salt$hash`: self-describing, so parameters can change later."""
    return generate_password_hash(secret, method=f"scrypt:{n}:{r}:{p}", salt_length=SALT_CHARS)


def secret_matches(encoded: str | None, secret: str) -> bool:
    """Constant-time check of `secret` against a stored hash; anything malformed is a mismatch.

    Reads werkzeug's format and the one stored before it (`scrypt$N$r$p$salt$hash`, base64).
    With `encoded=None` (unknown user) a hash is still computed, so the answer
    takes as long as for a known user: the time does not tell which ids exist.
    """
    if not isinstance(secret, str) or len(secret) > PASSWORD_MAX_CHARS:
        secret = ""
    parameters = _scrypt_parameters(encoded)
    if parameters is None:
        hash_secret(secret)
        return False
    n, r, p = parameters
    if not (2 <= n <= 2**17 and n & (n - 1) == 0 and 1 <= r <= 32 and 1 <= p <= 16 and 128 * n * r <= _MAXMEM):
        return False
    try:
        if encoded.startswith("scrypt:"):
            return check_password_hash(encoded, secret)
        _, _, _, _, salt, expected = encoded.split("$")  # the format before werkzeug's
        digest = hashlib.scrypt(secret.encode("utf-8"), salt=_unb64(salt), n=n, r=r, p=p,
                                dklen=len(_unb64(expected)), maxmem=_MAXMEM)
        return hmac.compare_digest(digest, _unb64(expected))
    except (ValueError, TypeError):
        return False


def needs_rehash(encoded: str) -> bool:
    """True for a hash stored before werkzeug's format or with other parameters: rehash it at the next
    successful sign-in, while the password is at hand."""
    return not encoded.startswith(f"scrypt:{SCRYPT_N}:{SCRYPT_R}:{SCRYPT_P}$")


def _scrypt_parameters(encoded: object) -> tuple[int, int, int] | None:
    """N, r and p of a stored scrypt hash in either format; None for anything else."""
    if not isinstance(encoded, str):
        return None
    if encoded.startswith("scrypt:") and encoded.count("$") == 2:
        fields = encoded.split("$", 1)[0].split(":")[1:]
    elif encoded.startswith("scrypt$") and encoded.count("$") == 5:
        fields = encoded.split("$")[1:4]
    else:
        return None
    if len(fields) != 3 or not all(f.isascii() and f.isdigit() for f in fields):
        return None
    return int(fields[0]), int(fields[1]), int(fields[2])


def new_patrol_code() -> str:
    """Six digits, uniformly drawn, leading zeros kept."""
    return f"{secrets.randbelow(10**PATROL_CODE_DIGITS):0{PATROL_CODE_DIGITS}d}"


def is_patrol_code(code: object) -> bool:
    return isinstance(code, str) and len(code) == PATROL_CODE_DIGITS and code.isascii() and code.isdigit()


def new_token() -> str:
    """A session id or CSRF token: 256 random bits, URL- and cookie-safe."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What Redis keys hold instead of a session id (see the module docstring)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def cookie_value(headers: list[str], name: str) -> str | None:
    """A cookie from raw Cookie headers (the gateway has no cookie jar), parsed by werkzeug as Flask
    parses the web app's; None if absent or empty."""
    return parse_cookie("; ".join(headers)).get(name) or None


def tokens_equal(given: str | None, expected: str | None) -> bool:
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def signin_form_token(secret_key: str, nonce: str) -> str:
    """The sign-in forms' CSRF token: the nonce (also in a cookie) signed with the secret key, so a
    page elsewhere can neither read nor forge a pair that matches."""
    signature = hmac.new(secret_key.encode("utf-8"), b"signin:" + nonce.encode("utf-8"), hashlib.sha256)
    return f"{nonce}.{signature.hexdigest()}"


def signin_form_token_valid(secret_key: str, cookie_nonce: str | None, form_token: str | None) -> bool:
    if not cookie_nonce or not form_token:
        return False
    return tokens_equal(form_token, signin_form_token(secret_key, cookie_nonce))


# --- Sign-in throttling ----------------------------------------------------------------
#
# Threat model and figures: README, Security, "Sign-in throttling". In short: online guessing
# against one account is slowed per account (a delay that doubles with each failure, capped), never
# locked, so an attacker cannot lock the rightful user out; a browser that already signed in to the
# account (a signed known-device cookie) is not held back by the account's delay, only by its own;
# password spraying (one password over many accounts, one try each) is bounded per client address,
# with a limit high enough for a dispatch room whose staff and tablets share one NAT address.

FIRST_DELAY_MS = 1_000


@dataclass(frozen=True)
class Throttle:
    """How sign-in attempts are slowed. Pure rules; store/accounts.py keeps the counts in Redis.

    - Per account (any well-formed id, existing or not, so the answer never says which exist): the
      first `free_failures` failures cost nothing; then each further failure makes the next attempt
      wait `first_delay_ms`, doubling, at most `max_delay_ms`. A success clears it; so does an
      administrator (staff) or a new patrol code. Forgotten `forget_ms` after the last failure.
    - Per known device (this browser signed in to this account before): the same rule, counted for the
      device alone; such a device is not held back by the account's delay nor by the address limit.
    - Per client address: at most `address_max_failures` failures per `address_window_ms`.
    """

    free_failures: int = 5
    first_delay_ms: int = FIRST_DELAY_MS
    max_delay_ms: int = 15 * 60_000
    forget_ms: int = 24 * 3_600_000
    address_max_failures: int = 100
    address_window_ms: int = 15 * 60_000

    def delay_ms(self, failures: int) -> int:
        """How long the next attempt waits after `failures` counted failures (0, then 1 s, 2 s, 4 s...)."""
        return capped_exponential(int(failures) - self.free_failures, base=self.first_delay_ms,
                                  cap=self.max_delay_ms)

    def state_ttl_ms(self) -> int:
        """How long an account's counts live after its last failure (its delay, then the forgetting time)."""
        return self.max_delay_ms + self.forget_ms


def wait_text(wait_ms: int) -> str:
    """"40 s", "3 min": how long to wait, rounded up, as a person reads it."""
    seconds = max(1, -(-int(wait_ms) // 1000))
    if seconds < 120:
        return f"{seconds} s"
    return f"{-(-seconds // 60)} min"


def throttled_message(scope: str, wait_ms: int) -> str:
    """For the sign-in page when an attempt is held back. The same words whether the id exists or not
    (every well-formed id is counted alike), so they reveal no account."""
    if scope == "address":
        return (f"Too many failed sign-ins from this network address: try again in {wait_text(wait_ms)}. "
                "A device already used to sign in to your account is not affected.")
    if scope == "device":
        return f"Too many attempts from this device for this account: try again in {wait_text(wait_ms)}."
    return (f"Too many attempts for this account: try again in {wait_text(wait_ms)}, "
            "or sign in from a device you used before. An administrator can lift the wait.")


def next_attempt_note(wait_ms: int) -> str:
    """Added to a wrong-password message when the failure makes the next attempt wait."""
    return f" Too many attempts for this account: the next one is possible in {wait_text(wait_ms)}." if wait_ms else ""


def address_subject(address: str | None) -> str | None:
    """What the per-address limit counts: the IPv4 address, or the /64 of an IPv6 address (one host
    usually owns a whole /64, and could otherwise change address at every attempt)."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.version == 6:
        return "addr:" + str(ipaddress.ip_network(f"{ip}/64", strict=False).network_address) + "/64"
    return f"addr:{ip}"


# --- Known devices ---------------------------------------------------------------------
#
# A browser that signed in to an account is given a signed cookie naming that account and a random
# device nonce (HMAC-SHA256 with the app's secret key): it cannot be forged nor moved to another
# account. It carries no session and grants nothing by itself; it only lets a correct password
# through while the account is slowed by someone else's failures.

KNOWN_DEVICE_COOKIE = "dispatch_device"
KNOWN_DEVICE_MAX_ACCOUNTS = 8  # a shared workstation remembers at most this many accounts
_DEVICE_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,43}$")


def known_device_entry(secret_key: str, user_id: str, nonce: str, expires_s: int) -> str:
    payload = f"{user_id}.{nonce}.{int(expires_s)}"
    signature = hmac.new(secret_key.encode("utf-8"), b"device:" + payload.encode("utf-8"), hashlib.sha256)
    return f"{payload}.{signature.hexdigest()}"


def known_devices(secret_key: str, cookie: str | None, now_s: float) -> dict[str, tuple[str, int]]:
    """The accounts this browser signed in to: {user_id: (nonce, expires_s)}, valid signatures and
    unexpired entries only; anything malformed or forged is ignored."""
    found: dict[str, tuple[str, int]] = {}
    for entry in (cookie or "")[:4096].split("~")[: KNOWN_DEVICE_MAX_ACCOUNTS * 2]:
        parts = entry.split(".")
        if len(parts) != 4 or not parts[2].isdigit() or not _DEVICE_NONCE.match(parts[1]):
            continue
        user_id, nonce, expires_s = parts[0], parts[1], int(parts[2])
        if not (staff_role(user_id) or is_call_sign(user_id)) or expires_s <= now_s or user_id in found:
            continue
        if tokens_equal(entry, known_device_entry(secret_key, user_id, nonce, expires_s)):
            found[user_id] = (nonce, expires_s)
    return found


def remember_device(secret_key: str, cookie: str | None, user_id: str, now_s: float, days: float) -> str:
    """The cookie value after `user_id` signed in from this browser: its entry first (same nonce if it
    had one, so its count stays its own), then the others still valid, at most KNOWN_DEVICE_MAX_ACCOUNTS."""
    known = known_devices(secret_key, cookie, now_s)
    nonce = known.pop(user_id, (secrets.token_urlsafe(16), 0))[0]
    entries = [known_device_entry(secret_key, user_id, nonce, int(now_s + days * 86_400))]
    entries += [known_device_entry(secret_key, other, n, e) for other, (n, e) in known.items()]
    return "~".join(entries[:KNOWN_DEVICE_MAX_ACCOUNTS])


def session_expiry_ms(now_ms: int, hours: float) -> int:
    return int(now_ms + hours * 3_600_000)


# --- Content-Security-Policy -----------------------------------------------------------

def tile_source(tile_url: str) -> str | None:
    """The CSP source of the tile server: its scheme and host, `{s}` subdomains as a wildcard."""
    if not tile_url:
        return None
    parts = urlsplit(tile_url.replace("{s}", "tiles-subdomain"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.replace("tiles-subdomain", "*")
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def content_security_policy(*, script_hashes: tuple[str, ...] = (), connect: tuple[str, ...] = (),
                            images: tuple[str, ...] = ()) -> str:
    """As strict as Dash 4 allows: scripts only from us or with a known hash (Dash's inline
    renderer start-up and clientside callbacks), no eval, no plugins, no framing, no foreign forms.

    Styles allow 'unsafe-inline': React, Leaflet and Dash's components set style attributes,
    and Dash injects <style> for some components. Styles cannot run code.
    """
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *(h if h.startswith("'") else f"'{h}'" for h in script_hashes)],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:", *images],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'", *connect],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(dict.fromkeys(values))}" for name, values in directives.items())


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


# --- What a patrol's live socket may carry ----------------------------------------------



class PatrolScope:
    """The units that concern one patrol, followed as the live feed goes by.

    A patrol sees its own unit, its open assignment(s), the sighting(s) those
    are about and the drone(s) that reported them; nothing else (no other
    patrol, no alert, no zone). The feed itself says when the scope changes:
    an assignment for this patrol brings its sighting in, closing it takes the
    sighting out; a sighting brings its drone. `seed` is what was open when the
    socket connected (read from Redis by the gateway), so the first snapshot is
    complete. After `expires_ms` (the session's end) nothing matches any more.

    Limits of a filter: a unit entering the scope is only sent when it next
    changes (drones report every second; a sighting may not change again), so
    the tablet fetches a sighting it does not have yet (the tablet's own view
    route) when an assignment names one.
    """

    def __init__(self, patrol_id: str, *, expires_ms: int | None = None,
                 assignments: dict[str, str] | None = None, sightings: dict[str, str | None] | None = None,
                 clock: Callable[[], float] | None = None):
        self.patrol_id = patrol_id
        self.expires_ms = expires_ms
        self.assignment_sighting: dict[str, str] = dict(assignments or {})  # open assignment -> sighting
        self.sighting_drone: dict[str, str | None] = dict(sightings or {})  # sighting in scope -> drone
        self._clock = clock or (lambda: time.time() * 1000)

    @property
    def sightings(self) -> set[str]:
        return set(self.assignment_sighting.values())

    @property
    def drones(self) -> set[str]:
        return {d for s, d in self.sighting_drone.items() if d and s in self.sightings}

    def live(self) -> bool:
        return self.expires_ms is None or self._clock() < self.expires_ms

    def admits_patrol(self, unit: dict) -> bool:
        return self.live() and unit.get("patrol_id") == self.patrol_id

    def admits_assignment(self, unit: dict) -> bool:
        if not self.live():
            return False
        assignment_id, sighting_id = unit.get("assignment_id"), unit.get("sighting_id")
        if unit.get("patrol_id") != self.patrol_id:
            self._forget(assignment_id)  # handed to another patrol
            return False
        if unit.get("closed") is True or unit.get("state") in CLOSED_STATES:
            self._forget(assignment_id)
        elif isinstance(sighting_id, str):
            self.assignment_sighting[assignment_id] = sighting_id
        return True

    def admits_sighting(self, unit: dict) -> bool:
        sighting_id = unit.get("sighting_id")
        if not self.live() or sighting_id not in self.sightings:
            return False
        self.sighting_drone[sighting_id] = unit.get("drone_id")
        return True

    def admits_drone(self, unit: dict) -> bool:
        return self.live() and unit.get("drone_id") in self.drones

    def _forget(self, assignment_id: object) -> None:
        sighting_id = self.assignment_sighting.pop(assignment_id, None)
        if sighting_id is not None and sighting_id not in self.sightings:
            self.sighting_drone.pop(sighting_id, None)

    def subscription(self) -> Subscription:
        return Subscription(filters={"patrols": self.admits_patrol, "assignments": self.admits_assignment,
                                     "sightings": self.admits_sighting, "drones": self.admits_drone},
                            others=False)
