"""domain/auth.py: the permission table, redirects after sign-in, hashing, tokens, CSP, a patrol's live scope."""

from __future__ import annotations

import re

import pytest

from dispatch.domain.auth import (
    HOME_PAGE, KNOWN_DEVICE_MAX_ACCOUNTS, PAGE_PERMISSIONS, PERMISSIONS, Identity, PatrolScope, Role, Throttle,
    address_subject, canonical_path, content_security_policy, cookie_value, hash_secret, is_call_sign,
    is_patrol_code, known_device_entry, known_devices, may, new_patrol_code, new_token, next_attempt_note,
    needs_rehash, page_permission, password_problem, remember_device, safe_next, secret_matches, signin_form_token,
    signin_form_token_valid, staff_role, throttled_message, tile_source, token_digest, tokens_equal, wait_text,
)
from dispatch.domain.live import Hub, LiveEntry, Snapshot, parse_stream_id

S, P, A, ADM = Role.SUPERVISOR, Role.PATROL, Role.AUDITOR, Role.ADMINISTRATOR

# The brief's table, written out: a change of policy must change this test too.
EXPECTED = {
    "live_view": {S, ADM},
    "dispatch": {S},
    "patrol_actions": {P},
    "replay": {S, A},
    "audit_view": {A, ADM},
    "export": {S, A},
    "manage_users": {ADM},
    "manage_zones": {ADM},
}


@pytest.mark.parametrize("permission", sorted(EXPECTED))
@pytest.mark.parametrize("role", list(Role))
def test_may_follows_the_table(role, permission):
    assert may(role, permission) is (role in EXPECTED[permission])
    assert may(role.value, permission) is (role in EXPECTED[permission])


def test_the_table_has_exactly_the_documented_permissions():
    assert {name: set(roles) for name, roles in PERMISSIONS.items()} == EXPECTED


@pytest.mark.parametrize("role, permission", [(None, "live_view"), ("root", "live_view"), (S, "livе_view"),
                                              (S, ""), (ADM, "manage_everything"), ("", "dispatch")])
def test_unknown_roles_and_permissions_are_refused(role, permission):
    assert may(role, permission) is False


def test_role_values_are_the_documented_strings():
    assert [r.value for r in Role] == ["supervisor", "patrol", "auditor", "administrator"]
    assert Role("patrol") is P and isinstance(P, str)


def test_identity_never_shows_its_secrets():
    identity = Identity("SUP-1", S, None, "the-session-secret", 1, "the-csrf-secret")
    assert "the-session-secret" not in repr(identity) and "the-csrf-secret" not in repr(identity)
    assert Identity("BAC-1", P, "BAC-1", "s", 1).csrf_token == ""  # five fields, as the interface says


@pytest.mark.parametrize("path, permission", [
    ("/", "live_view"), ("/patrol", "patrol_actions"), ("/patrol/", "patrol_actions"), ("/replay", "replay"),
    ("/audit", "audit_view"), ("/admin", "manage_users"), ("/elsewhere", None), ("/admin/users", None),
])
def test_page_permissions(path, permission):
    assert page_permission(path) == permission


def test_every_role_has_a_home_it_may_see():
    for role, home in HOME_PAGE.items():
        assert may(role, PAGE_PERMISSIONS[home]), role


@pytest.mark.parametrize("next_path, role, expected", [
    ("/replay?from=1", S, "/replay?from=1"),
    ("/audit", S, "/"),  # not allowed for the role: its home instead of a 403 right after signing in
    ("/patrol", P, "/patrol"),
    ("/", P, "/patrol"),
    ("", A, "/audit"),
    (None, ADM, "/admin"),
    ("//evil.example/", S, "/"),
    ("https://evil.example/", S, "/"),
    ("/\\evil.example", S, "/"),
    ("javascript:alert(1)", S, "/"),
    ("/\t/evil.example", S, "/"),
    ("/unknown-page", S, "/"),
])
def test_safe_next_only_goes_to_our_pages_the_role_may_see(next_path, role, expected):
    assert safe_next(next_path, role) == expected


@pytest.mark.parametrize("user_id, role", [("SUP-1", S), ("AUD-7", A), ("ADM-A1", ADM), ("OP-1", None),
                                           ("BAC-12", None), ("sup-1", None), ("SUP-", None), ("Jean Dupont", None),
                                           ("SUP-123456789", None)])
def test_staff_role_from_the_code(user_id, role):
    assert staff_role(user_id) is role


def test_call_signs_and_codes():
    assert is_call_sign("BAC-12") and not is_call_sign("bac-12") and not is_call_sign(None)
    codes = {new_patrol_code() for _ in range(300)}
    assert all(is_patrol_code(code) for code in codes) and len(codes) > 250
    assert not is_patrol_code("12345") and not is_patrol_code("1234567") and not is_patrol_code("１２３４５６")


# --- Hashing ----------------------------------------------------------------------------------

def test_password_hash_round_trip_and_format():
    stored = hash_secret("correct horse battery")
    assert secret_matches(stored, "correct horse battery")
    assert not secret_matches(stored, "correct horse batterY")
    assert not secret_matches(stored, "")
    method, salt, digest = stored.split("$")
    assert method == f"scrypt:{2**15}:8:1" and len(salt) >= 22 and not needs_rehash(stored)
    assert "correct horse battery" not in stored


def test_each_hash_has_its_own_salt():
    assert hash_secret("same password") != hash_secret("same password")


def test_a_stored_hash_keeps_working_with_other_parameters():
    cheap = hash_secret("a long enough password", n=2**10, r=4, p=1)
    assert secret_matches(cheap, "a long enough password") and needs_rehash(cheap)


# Stored before werkzeug's format (scrypt$N$r$p$salt$hash, base64): accounts created then still sign in.
HASH_BEFORE = "scrypt$32768$8$1$MDEyMzQ1Njc4OWFiY2RlZg==$xxaWgqTSKTdh7WrfWLps/DMbPoovZsowrLVRbAkJkjA="


def test_a_hash_stored_before_werkzeugs_format_still_verifies_and_asks_for_a_rehash():
    assert secret_matches(HASH_BEFORE, "correct horse battery")
    assert not secret_matches(HASH_BEFORE, "correct horse batterY")
    assert needs_rehash(HASH_BEFORE)


@pytest.mark.parametrize("stored", [None, "", "plain-password", "scrypt$16384$8$1$notbase64$x",
                                    "bcrypt$1$2$3$4$5", "scrypt$3$8$1$AAAA$AAAA", "scrypt$1048576$8$1$AAAA$AAAA",
                                    "scrypt$16384$8$1$AAAA", "pbkdf2:sha256:1000$salt$00",
                                    "scrypt:16384:8$salt$00", "scrypt:1048576:8:1$salt$00", "scrypt:16384:8:1$a$b$c"])
def test_malformed_or_unknown_hashes_never_match(stored):
    assert secret_matches(stored, "plain-password") is False


@pytest.mark.parametrize("password, problem", [("short", "at least 12"), ("x" * 257, "at most 256"),
                                               (None, "text"), ("twelve chars", None)])
def test_password_rules(password, problem):
    found = password_problem(password)
    assert (found is None) if problem is None else (problem in found)


def test_tokens():
    token = new_token()
    assert len(token) >= 43 and re.fullmatch(r"[A-Za-z0-9_-]+", token) and token != new_token()
    assert token_digest(token) != token and len(token_digest(token)) == 64
    assert tokens_equal(token, token) and not tokens_equal(token, new_token())
    assert not tokens_equal("", "") and not tokens_equal(None, token)


def test_signin_form_token_is_bound_to_its_nonce_and_key():
    token = signin_form_token("key-one", "nonce-1")
    assert signin_form_token_valid("key-one", "nonce-1", token)
    assert not signin_form_token_valid("key-two", "nonce-1", token)
    assert not signin_form_token_valid("key-one", "nonce-2", token)
    assert not signin_form_token_valid("key-one", None, token)
    assert not signin_form_token_valid("key-one", "nonce-1", "nonce-1")


@pytest.mark.parametrize("headers, expected", [
    (["dispatch_session=abc; _csrf_token=def"], "abc"),
    (["_csrf_token=def;dispatch_session=abc"], "abc"),
    (["a=1", "dispatch_session=\"q\""], "q"),
    (["xdispatch_session=abc"], None),
    (["dispatch_session="], None),
    (["dispatch_session=a=b; x=1"], "a=b"),
    ([], None),
])
def test_cookie_value(headers, expected):
    assert cookie_value(headers, "dispatch_session") == expected


def test_the_throttle_slows_with_a_doubling_capped_delay_and_never_locks():
    throttle = Throttle(free_failures=3, first_delay_ms=1_000, max_delay_ms=60_000)
    assert [throttle.delay_ms(n) for n in range(0, 11)] == [0, 0, 0, 0, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000,
                                                            60_000]
    assert throttle.delay_ms(10**9) == 60_000, "capped: the rightful user waits at most the cap"
    assert Throttle().delay_ms(5) == 0 and Throttle().delay_ms(6) == 1_000 and Throttle().delay_ms(99) == 15 * 60_000
    assert throttle.state_ttl_ms() > throttle.max_delay_ms


def test_throttle_messages_say_how_long_and_why():
    assert wait_text(40_000) == "40 s" and wait_text(1) == "1 s" and wait_text(118_001) == "119 s" and wait_text(119_001) == "2 min"
    assert wait_text(14 * 60_000 + 1) == "15 min"
    assert "Too many attempts for this account: try again in 40 s" in throttled_message("account", 40_000)
    assert "from this network address: try again in 12 min" in throttled_message("address", 12 * 60_000)
    assert "from this device" in throttled_message("device", 3_000)
    assert next_attempt_note(0) == "" and "possible in 2 s" in next_attempt_note(2_000)


def test_address_subjects_group_an_ipv6_host_by_its_64():
    assert address_subject("10.0.0.7") == "addr:10.0.0.7"
    assert address_subject("::ffff:10.0.0.7") == "addr:10.0.0.7"
    assert address_subject("2001:db8:1:2:aaaa::1") == address_subject("2001:db8:1:2:bbbb::9") == "addr:2001:db8:1:2::/64"
    assert address_subject("internal") is None and address_subject(None) is None


def test_known_device_cookies_are_signed_per_account_and_expire():
    key = "secret"
    cookie = remember_device(key, None, "SUP-1", now_s=1_000, days=1)
    (nonce, expires) = known_devices(key, cookie, 1_000)["SUP-1"]
    assert expires == 1_000 + 86_400
    assert known_devices("another key", cookie, 1_000) == {}, "signed with the app's secret"
    assert known_devices(key, cookie, 1_000 + 86_400) == {}, "expired"
    moved = cookie.replace("SUP-1.", "SUP-2.", 1)
    assert known_devices(key, moved, 1_000) == {}, "an entry cannot be moved to another account"
    forged = known_device_entry("guess", "ADM-1", "A" * 22, 10**10)
    assert known_devices(key, forged, 1_000) == {}
    both = remember_device(key, cookie, "ADM-1", now_s=1_000, days=1)
    assert set(known_devices(key, both, 1_000)) == {"SUP-1", "ADM-1"}
    again = remember_device(key, both, "SUP-1", now_s=2_000, days=1)
    assert known_devices(key, again, 2_000)["SUP-1"][0] == nonce, "the same device keeps its nonce"
    many = None
    for n in range(KNOWN_DEVICE_MAX_ACCOUNTS + 3):
        many = remember_device(key, many, f"SUP-{n}", now_s=1_000, days=1)
    assert len(known_devices(key, many, 1_000)) == KNOWN_DEVICE_MAX_ACCOUNTS
    assert known_devices(key, "garbage~a.b.c.d~" + "x" * 5000, 1_000) == {}
    assert known_devices(key, "Jean Dupont." + "A" * 22 + ".99999999999.00", 1_000) == {}


@pytest.mark.parametrize("raw", ["/admin", "//admin", "/admin/", "//admin//", "/ADMIN", "/Admin/", "/%61dmin",
                                 "/%2561dmin", "/%2F%2Fadmin", "/x/../admin", "/./admin", "\\admin", "///ADMIN///"])
def test_every_spelling_of_a_page_is_one_canonical_path(raw):
    assert canonical_path(raw) == "/admin"
    assert page_permission(raw) == "manage_users"


def test_canonical_paths_of_the_other_pages():
    assert canonical_path("//admin/zones") == "/admin/zones" and page_permission("//admin//ZONES/") == "manage_zones"
    assert canonical_path("") == canonical_path("//") == "/" and page_permission("/..") == "live_view"
    assert page_permission("//replay") == "replay" and page_permission("/AUDIT/") == "audit_view"
    assert canonical_path(None) == "/"


# --- CSP ------------------------------------------------------------------------------------

@pytest.mark.parametrize("url, source", [
    ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"),
    ("https://{s}.tiles.example/{z}/{x}/{y}.png", "https://*.tiles.example"),
    ("http://10.1.2.3:8080/tiles/{z}/{x}/{y}.png", "http://10.1.2.3:8080"),
    ("", None), ("javascript:alert(1)", None),
])
def test_tile_source(url, source):
    assert tile_source(url) == source


def test_content_security_policy_is_strict():
    policy = content_security_policy(script_hashes=("'sha256-AAA='", "sha256-BBB="),
                                     connect=("ws://host:8765", "wss://host:8765"), images=("https://t.example",))
    directives = {part.split()[0]: part.split()[1:] for part in policy.split("; ")}
    assert directives["script-src"] == ["'self'", "'sha256-AAA='", "'sha256-BBB='"]
    assert "'unsafe-inline'" not in directives["script-src"] and "'unsafe-eval'" not in policy
    assert directives["frame-ancestors"] == ["'none'"] and directives["object-src"] == ["'none'"]
    assert directives["connect-src"] == ["'self'", "ws://host:8765", "wss://host:8765"]
    assert "https://t.example" in directives["img-src"]
    assert directives["default-src"] == ["'self'"] and directives["form-action"] == ["'self'"]


# --- A patrol's live scope, through the real hub -----------------------------------------------

def entry(n: int, **changes) -> LiveEntry:
    return LiveEntry(f"{n}-0", parse_stream_id(f"{n}-0"), changes)


def received(hub: Hub, client_id: int) -> list[dict]:
    import orjson

    out = []
    while (data := hub.take(client_id)) is not None:
        message = orjson.loads(data)
        if message["type"] != "heartbeat":
            out.append(message)
    return out


PICTURE = {
    "drones": [{"drone_id": "DR-1", "ts": 1}, {"drone_id": "DR-2", "ts": 1}],
    "patrols": [{"patrol_id": "BAC-12", "ts": 1}, {"patrol_id": "BAC-13", "ts": 1}],
    "sightings": [{"sighting_id": "sight-1", "drone_id": "DR-1"}, {"sighting_id": "sight-2", "drone_id": "DR-2"}],
    "assignments": [{"assignment_id": "asg-1", "sighting_id": "sight-1", "patrol_id": "BAC-12", "state": "assigned"},
                    {"assignment_id": "asg-2", "sighting_id": "sight-2", "patrol_id": "BAC-13", "state": "assigned"}],
    "alerts": [{"alert_id": "link_lost:DR-2"}],
    "zones": [{"zone_id": "Z-1"}],
}


def patrol_hub(scope: PatrolScope) -> tuple[Hub, int]:
    hub = Hub()
    hub.reset("1-0")
    client_id, _ = hub.attach(scope.subscription())
    hub.deliver_snapshot(Snapshot("1-0", PICTURE), hub.epoch)
    return hub, client_id


def ids_of(message: dict) -> dict[str, list]:
    return {name: sorted(next(v for k, v in unit.items() if k.endswith("_id")) for unit in units)
            for name, units in message.items() if isinstance(units, list)}


def test_a_patrol_snapshot_holds_only_what_concerns_it():
    scope = PatrolScope("BAC-12", assignments={"asg-1": "sight-1"}, sightings={"sight-1": "DR-1"})
    hub, client = patrol_hub(scope)
    (snapshot,) = received(hub, client)
    assert ids_of(snapshot) == {"drones": ["DR-1"], "patrols": ["BAC-12"], "sightings": ["sight-1"],
                                "assignments": ["asg-1"], "alerts": [], "zones": []}


def test_a_patrol_follows_its_scope_as_it_changes():
    scope = PatrolScope("BAC-12")
    hub, client = patrol_hub(scope)
    received(hub, client)
    # A new assignment for BAC-12 brings its sighting in; then the sighting brings its drone.
    hub.receive([entry(2, assignments=[{"assignment_id": "asg-3", "sighting_id": "sight-2", "patrol_id": "BAC-12",
                                        "state": "assigned"}], patrols=[{"patrol_id": "BAC-13", "ts": 2}])])
    hub.receive([entry(3, sightings=[{"sighting_id": "sight-2", "drone_id": "DR-2"}])])
    hub.receive([entry(4, drones=[{"drone_id": "DR-2", "ts": 4}, {"drone_id": "DR-1", "ts": 4}])])
    hub.tick(10)
    (delta,) = received(hub, client)
    assert ids_of(delta) == {"assignments": ["asg-3"], "sightings": ["sight-2"], "drones": ["DR-2"]}
    # Handed to another patrol: a tombstone, and its sighting and drone stop coming.
    hub.receive([entry(5, assignments=[{"assignment_id": "asg-3", "sighting_id": "sight-2", "patrol_id": "BAC-13",
                                        "state": "assigned"}])])
    hub.receive([entry(6, sightings=[{"sighting_id": "sight-2", "drone_id": "DR-2", "ts": 6}],
                       drones=[{"drone_id": "DR-2", "ts": 6}])])
    hub.tick(2_000)
    (delta,) = received(hub, client)
    assert delta["assignments"] == [{"assignment_id": "asg-3", "closed": True}]
    assert delta["sightings"] == [{"sighting_id": "sight-2", "closed": True}]
    assert delta["drones"] == [{"drone_id": "DR-2", "closed": True}]


def test_a_cleared_assignment_is_shown_closing_then_its_sighting_leaves():
    scope = PatrolScope("BAC-12", assignments={"asg-1": "sight-1"}, sightings={"sight-1": "DR-1"})
    hub, client = patrol_hub(scope)
    received(hub, client)
    closed = {"assignment_id": "asg-1", "sighting_id": "sight-1", "patrol_id": "BAC-12", "state": "cleared",
              "closed": True}
    hub.receive([entry(2, assignments=[closed], sightings=[{"sighting_id": "sight-1", "drone_id": "DR-1",
                                                            "closed": True}])])
    hub.tick(10)
    (delta,) = received(hub, client)
    assert delta["assignments"] == [closed]
    assert delta["sightings"] == [{"sighting_id": "sight-1", "closed": True}]
    assert scope.sightings == set() and scope.drones == set()


def test_after_the_session_ends_nothing_matches():
    now = [1_000.0]
    scope = PatrolScope("BAC-12", expires_ms=2_000, assignments={"asg-1": "sight-1"}, sightings={"sight-1": "DR-1"},
                        clock=lambda: now[0])
    unit = {"patrol_id": "BAC-12"}
    assert scope.admits_patrol(unit) and scope.admits_drone({"drone_id": "DR-1"})
    now[0] = 2_000.0
    assert not scope.admits_patrol(unit) and not scope.admits_drone({"drone_id": "DR-1"})
    assert not scope.admits_sighting({"sighting_id": "sight-1"})
