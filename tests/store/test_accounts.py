"""store/accounts.py against a real Redis: accounts, patrol codes, sessions, throttling, demo accounts."""

from __future__ import annotations

import threading
import time

import orjson
import pytest

from dispatch.domain.audit import Action
from dispatch.domain.auth import Role, Throttle, token_digest
from dispatch.demo.launcher import DEMO_STAFF, create_demo_accounts
from dispatch.settings import Settings, SettingsError
from dispatch.store import account_changes, accounts
from dispatch.store import audit as audit_store

PASSWORD = "correct horse battery"


def everything_stored(client, keys) -> bytes:
    """Every key name and value of the site, as one blob, to look for secrets in."""
    blob = b""
    for key in client.scan_iter(match=f"{{{keys.site}}}:*"):
        blob += key
        kind = client.type(key)
        if kind == b"hash":
            blob += b"".join(k + v for k, v in client.hgetall(key).items())
        elif kind == b"string":
            blob += client.get(key)
        elif kind == b"stream":
            blob += b"".join(b"".join(k + v for k, v in fields.items()) for _, fields in client.xrange(key))
    return blob


def all_at_once(work, count: int) -> None:
    """`work` run by `count` threads started together; returns when every one has finished."""
    threads = [threading.Thread(target=work) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


# --- Accounts -----------------------------------------------------------------------------

def test_an_account_verifies_its_password_and_stores_no_clear_password(redis_client, keys):
    account = accounts.create_account(redis_client, keys, user_id="SUP-1", role="supervisor", password=PASSWORD)
    assert (account.user_id, account.role) == ("SUP-1", Role.SUPERVISOR)
    assert accounts.verify_password(redis_client, keys, user_id="SUP-1", password=PASSWORD) == account
    assert accounts.verify_password(redis_client, keys, user_id="SUP-1", password=PASSWORD + " ") is None
    assert accounts.verify_password(redis_client, keys, user_id="SUP-2", password=PASSWORD) is None
    stored = orjson.loads(redis_client.hget(keys.accounts, "SUP-1"))
    assert set(stored) == {"role", "hash", "created_ms"} and stored["hash"].startswith("scrypt:32768:8:1$")
    assert PASSWORD.encode() not in everything_stored(redis_client, keys)


# An account hashed before werkzeug's format (dispatch/domain/auth.py before issue 12), for PASSWORD_BEFORE.
PASSWORD_BEFORE = "correct horse battery"
HASH_BEFORE = "scrypt$32768$8$1$MDEyMzQ1Njc4OWFiY2RlZg==$xxaWgqTSKTdh7WrfWLps/DMbPoovZsowrLVRbAkJkjA="


def test_an_account_hashed_before_werkzeugs_format_signs_in_and_is_rehashed(redis_client, keys):
    redis_client.hset(keys.accounts, "SUP-1", orjson.dumps({"role": "supervisor", "hash": HASH_BEFORE,
                                                            "created_ms": 5}))
    assert accounts.verify_password(redis_client, keys, user_id="SUP-1", password=PASSWORD_BEFORE + "!") is None
    assert orjson.loads(redis_client.hget(keys.accounts, "SUP-1"))["hash"] == HASH_BEFORE, "no rehash on a miss"
    account = accounts.verify_password(redis_client, keys, user_id="SUP-1", password=PASSWORD_BEFORE)
    assert (account.user_id, account.role, account.created_ms) == ("SUP-1", Role.SUPERVISOR, 5)
    stored = orjson.loads(redis_client.hget(keys.accounts, "SUP-1"))
    assert stored["hash"].startswith("scrypt:32768:8:1$") and stored["role"] == "supervisor"
    accounts.create_session(redis_client, keys, user_id="SUP-1", role="supervisor", checked=account)
    assert accounts.verify_password(redis_client, keys, user_id="SUP-1", password=PASSWORD_BEFORE) == account
    assert orjson.loads(redis_client.hget(keys.accounts, "SUP-1"))["hash"] == stored["hash"], "rehashed once"


@pytest.mark.parametrize("user_id, role, message", [
    ("BAC-12", "patrol", "patrols have no account"),
    ("AUD-1", "supervisor", "not a supervisor code"),
    ("Jean Dupont", "auditor", "not a auditor code"),
    ("ADM-1", "root", None),
])
def test_accounts_are_refused_when_the_code_does_not_match_the_role(redis_client, keys, user_id, role, message):
    with pytest.raises(ValueError) as refused:
        accounts.create_account(redis_client, keys, user_id=user_id, role=role, password=PASSWORD)
    if message:
        assert message in str(refused.value)
    assert redis_client.hlen(keys.accounts) == 0


def test_a_short_password_is_refused_and_an_existing_account_kept_unless_replaced(redis_client, keys):
    with pytest.raises(accounts.AccountError, match="at least 12"):
        accounts.create_account(redis_client, keys, user_id="ADM-1", role="administrator", password="short")
    accounts.create_account(redis_client, keys, user_id="ADM-1", role="administrator", password=PASSWORD)
    with pytest.raises(accounts.AccountError, match="already has an account"):
        accounts.create_account(redis_client, keys, user_id="ADM-1", role="administrator", password="another password")
    assert accounts.verify_password(redis_client, keys, user_id="ADM-1", password=PASSWORD)
    accounts.create_account(redis_client, keys, user_id="ADM-1", role="administrator", password="another password",
                            replace=True)
    assert accounts.verify_password(redis_client, keys, user_id="ADM-1", password="another password")
    assert not accounts.verify_password(redis_client, keys, user_id="ADM-1", password=PASSWORD)
    assert [a.user_id for a in accounts.list_accounts(redis_client, keys)] == ["ADM-1"]
    assert account_changes.delete_account(redis_client, keys, "ADM-1") and accounts.get_account(redis_client, keys,
                                                                                         "ADM-1") is None


def test_an_unknown_id_costs_as_much_as_a_known_one(redis_client, keys):
    """No early exit: the time of a refusal does not tell which codes exist."""
    accounts.create_account(redis_client, keys, user_id="SUP-1", role="supervisor", password=PASSWORD)

    def median(user_id: str) -> float:
        times = []
        for _ in range(5):
            started = time.perf_counter()
            accounts.verify_password(redis_client, keys, user_id=user_id, password="wrong password!")
            times.append(time.perf_counter() - started)
        return sorted(times)[2]

    known, unknown, malformed = median("SUP-1"), median("SUP-9"), median("not a code")
    assert 0.5 < unknown / known < 2 and 0.5 < malformed / known < 2


# --- Patrol codes -------------------------------------------------------------------------

def test_a_patrol_code_works_once_and_is_audited_without_the_code(redis_client, keys):
    code = accounts.issue_patrol_code(redis_client, keys, patrol_id="BAC-12", issued_by="SUP-1", origin="10.0.0.7")
    assert len(code) == 6 and code.isdigit()
    assert not accounts.use_patrol_code(redis_client, keys, patrol_id="BAC-12", code=f"{(int(code) + 1) % 10**6:06d}")
    assert not accounts.use_patrol_code(redis_client, keys, patrol_id="BAC-13", code=code)
    assert accounts.use_patrol_code(redis_client, keys, patrol_id="BAC-12", code=code), "a typo must not burn it"
    assert not accounts.use_patrol_code(redis_client, keys, patrol_id="BAC-12", code=code), "used once"
    (entry,) = audit_store.read(redis_client, keys)
    assert (entry.action, entry.actor, entry.target, entry.origin) == (
        Action.PATROL_CODE_ISSUED, "SUP-1", "BAC-12", "10.0.0.7")
    assert entry.details["expires_ms"] > time.time() * 1000 + 11 * 3600_000
    assert set(entry.details) == {"expires_ms", "throttle_cleared"}
    assert not redis_client.hexists(keys.patrol_codes, "BAC-12"), "used: gone"
    again = accounts.issue_patrol_code(redis_client, keys, patrol_id="BAC-12", issued_by="SUP-1")
    stored = orjson.loads(redis_client.hget(keys.patrol_codes, "BAC-12"))
    assert set(stored) == {"hash", "expires_ms", "issued_by", "issued_ms"} and stored["hash"].startswith("scrypt:")
    assert accounts.use_patrol_code(redis_client, keys, patrol_id="BAC-12", code=again)


def test_a_new_code_replaces_the_previous_one(redis_client, keys):
    first = accounts.issue_patrol_code(redis_client, keys, patrol_id="BAC-12", issued_by="SUP-1")
    second = accounts.issue_patrol_code(redis_client, keys, patrol_id="BAC-12", issued_by="SUP-2")
    if first != second:
        assert not accounts.use_patrol_code(redis_client, keys, patrol_id="BAC-12", code=first)
    assert accounts.use_patrol_code(redis_client, keys, patrol_id="BAC-12", code=second)
    assert len(audit_store.read(redis_client, keys)) == 2


def test_an_expired_code_is_refused_and_cleaned_at_the_next_issue(redis_client, keys):
    now = int(time.time() * 1000)
    code = accounts.issue_patrol_code(redis_client, keys, patrol_id="BAC-12", issued_by="SUP-1", now_ms=now,
                                      ttl_s=60)
    assert not accounts.use_patrol_code(redis_client, keys, patrol_id="BAC-12", code=code, now_ms=now + 60_000)
    stale = accounts.issue_patrol_code(redis_client, keys, patrol_id="PS-1", issued_by="SUP-1", now_ms=now - 120_000,
                                       ttl_s=60)
    assert redis_client.hexists(keys.patrol_codes, "PS-1")
    accounts.issue_patrol_code(redis_client, keys, patrol_id="BAC-13", issued_by="SUP-1")
    assert not redis_client.hexists(keys.patrol_codes, "PS-1"), "the expired code went with the next issue"
    assert not accounts.use_patrol_code(redis_client, keys, patrol_id="PS-1", code=stale)


@pytest.mark.parametrize("patrol_id, issued_by", [("bac 12", "SUP-1"), ("BAC-12", "AUD-1"), ("BAC-12", "Jean")])
def test_codes_need_a_call_sign_and_a_supervisor(redis_client, keys, patrol_id, issued_by):
    with pytest.raises(accounts.AccountError):
        accounts.issue_patrol_code(redis_client, keys, patrol_id=patrol_id, issued_by=issued_by)
    assert redis_client.hlen(keys.patrol_codes) == 0 and redis_client.xlen(keys.audit) == 0


def test_two_tablets_racing_with_one_code_cannot_both_sign_in(redis_client, keys, redis_server):
    from dispatch.store.connection import connect

    wins = []
    for _ in range(5):
        code = accounts.issue_patrol_code(redis_client, keys, patrol_id="BAC-12", issued_by="SUP-1")
        barrier = threading.Barrier(4)

        def attempt():
            client = connect(redis_server.url)
            barrier.wait()
            wins.append(accounts.use_patrol_code(client, keys, patrol_id="BAC-12", code=code))
            client.close()

        all_at_once(attempt, 4)
    assert wins.count(True) == 5 and len(wins) == 20


# --- Sessions -----------------------------------------------------------------------------

def test_a_session_round_trip_expires_with_redis_and_ends_on_sign_out(redis_client, keys):
    session_id, identity = accounts.create_session(redis_client, keys, user_id="SUP-1", role="supervisor",
                                                   ttl_s=3600)
    assert accounts.get_session(redis_client, keys, session_id) == identity
    assert identity.csrf_token and identity.csrf_token != session_id
    key = keys.session(token_digest(session_id))
    assert 3_590_000 < redis_client.pttl(key) <= 3_600_000
    assert session_id.encode() not in everything_stored(redis_client, keys), "Redis holds only its digest"
    assert accounts.get_session(redis_client, keys, session_id, now_ms=identity.expires_ms) is None
    assert accounts.end_session(redis_client, keys, session_id) == identity
    assert accounts.get_session(redis_client, keys, session_id) is None
    assert accounts.end_session(redis_client, keys, session_id) is None


def test_redis_removes_an_expired_session(redis_client, keys):
    session_id, _ = accounts.create_session(redis_client, keys, user_id="AUD-1", role="auditor", ttl_s=0.2)
    assert accounts.get_session(redis_client, keys, session_id) is not None
    time.sleep(0.3)
    assert accounts.get_session(redis_client, keys, session_id) is None
    assert not redis_client.exists(keys.session(token_digest(session_id)))


def test_patrol_sessions_name_their_patrol(redis_client, keys):
    session_id, identity = accounts.create_session(redis_client, keys, user_id="BAC-12", role=Role.PATROL,
                                                   patrol_id="BAC-12")
    assert accounts.get_session(redis_client, keys, session_id).patrol_id == "BAC-12"
    with pytest.raises(accounts.AccountError):
        accounts.create_session(redis_client, keys, user_id="BAC-12", role=Role.PATROL)
    with pytest.raises(accounts.AccountError):
        accounts.create_session(redis_client, keys, user_id="SUP-1", role=Role.SUPERVISOR, patrol_id="BAC-12")


@pytest.mark.parametrize("session_id", [None, "", "x" * 500, "not-a-session", 12])
def test_anything_else_is_no_session(redis_client, keys, session_id):
    assert accounts.get_session(redis_client, keys, session_id) is None


# --- Throttling ---------------------------------------------------------------------------

def test_an_account_is_slowed_with_a_doubling_delay_never_locked(redis_client, keys):
    """Issue 10, defect 4: failures slow the account (1 s, 2 s, capped); nothing is ever locked for good."""
    throttle = Throttle(free_failures=2, first_delay_ms=200, max_delay_ms=400, forget_ms=60_000)
    attempt = accounts.attempt_for("10.0.0.1", "SUP-1")
    assert (attempt.address, attempt.user_id) == ("addr:10.0.0.1", "SUP-1")
    first = [accounts.gate(redis_client, keys, attempt, throttle) for _ in range(3)]
    assert [g.scope for g in first] == ["ok", "ok", "ok"] and [g.next_wait_ms for g in first] == [0, 0, 200]
    held = accounts.gate(redis_client, keys, attempt, throttle)
    assert held.scope == "account" and 0 < held.wait_ms <= 200, "held back, not counted"
    time.sleep(0.22)
    assert accounts.gate(redis_client, keys, attempt, throttle).next_wait_ms == 400
    time.sleep(0.42)
    assert accounts.gate(redis_client, keys, attempt, throttle).next_wait_ms == 400, "capped"
    other = accounts.gate(redis_client, keys, accounts.attempt_for("10.0.0.2", "SUP-2"), throttle)
    assert other.allowed, "another account is not slowed"
    time.sleep(0.42)
    accounts.gate(redis_client, keys, attempt, throttle)
    accounts.succeeded(redis_client, keys, attempt)
    assert accounts.gate(redis_client, keys, attempt, throttle).next_wait_ms == 0, "a success clears the count"


def test_a_known_device_is_gated_by_its_own_count_only(redis_client, keys):
    throttle = Throttle(free_failures=1, first_delay_ms=60_000, max_delay_ms=60_000)
    attacker = accounts.attempt_for("10.0.0.66", "SUP-1")
    accounts.gate(redis_client, keys, attacker, throttle)
    accounts.gate(redis_client, keys, attacker, throttle)
    assert accounts.gate(redis_client, keys, attacker, throttle).scope == "account"
    device = accounts.attempt_for("10.0.0.1", "SUP-1", device="n" * 22)
    assert accounts.gate(redis_client, keys, device, throttle).allowed, "the rightful user's browser goes through"
    accounts.gate(redis_client, keys, device, throttle)
    held = accounts.gate(redis_client, keys, device, throttle)
    assert held.scope == "device", "a device guessing is slowed too"
    accounts.succeeded(redis_client, keys, accounts.attempt_for("10.0.0.1", "SUP-1", device="m" * 22))
    assert accounts.gate(redis_client, keys, attacker, throttle).allowed, "a success clears the account's count"


def test_the_address_limit_counts_failures_not_successes(redis_client, keys):
    throttle = Throttle(address_max_failures=3, address_window_ms=60_000)
    for n in range(3):  # a spray: one try each on three accounts
        assert accounts.gate(redis_client, keys, accounts.attempt_for("10.0.0.1", f"SUP-{n}"), throttle).allowed
    held = accounts.gate(redis_client, keys, accounts.attempt_for("10.0.0.1", "SUP-9"), throttle)
    assert held.scope == "address" and 0 < held.wait_ms <= 60_000
    assert accounts.gate(redis_client, keys, accounts.attempt_for("10.0.0.2", "SUP-9"), throttle).allowed
    known = accounts.attempt_for("10.0.0.1", "SUP-9", device="k" * 22)
    assert accounts.gate(redis_client, keys, known, throttle).allowed, "a known device is not held by its address"
    room = Throttle(address_max_failures=2)
    for n in range(10):  # a room signing in all day: successes give their count back
        ok = accounts.attempt_for("10.9.9.9", f"SUP-{n}")
        assert accounts.gate(redis_client, keys, ok, room).allowed
        accounts.succeeded(redis_client, keys, ok)


def test_parallel_attempts_cannot_all_slip_through(redis_client, keys, redis_server):
    throttle = Throttle(free_failures=3, first_delay_ms=60_000, max_delay_ms=60_000)
    attempt = accounts.attempt_for("10.0.0.1", "BAC-12")
    answers, start = [], threading.Barrier(20)

    def guess():
        client = accounts_client(redis_server)
        start.wait()
        answers.append(accounts.gate(client, keys, attempt, throttle).scope)
        client.close()

    all_at_once(guess, 20)
    assert answers.count("ok") == 4, answers  # three free, the fourth sets the delay; the rest wait


def accounts_client(redis_server):
    from dispatch.store.connection import connect

    return connect(redis_server.url)


def test_malformed_ids_are_never_put_in_a_key(redis_client, keys):
    assert accounts.attempt_for("10.0.0.1", "Jean Dupont") == accounts.Attempt("addr:10.0.0.1", None, None)
    assert accounts.attempt_for(None, "BAC-12", device="d" * 22) == accounts.Attempt(None, "BAC-12", "d" * 22)
    assert accounts.gate(redis_client, keys, accounts.attempt_for(None, "Jean Dupont"), Throttle()).allowed
    assert not any(b"Jean" in key for key in redis_client.scan_iter(match=f"{{{keys.site}}}:*"))


def test_counters_of_the_old_format_are_replaced(redis_client, keys):
    redis_client.set(keys.signin_failure("user:SUP-1"), 99)
    assert accounts.gate(redis_client, keys, accounts.attempt_for("10.0.0.1", "SUP-1"), Throttle()).allowed


def test_a_new_patrol_code_clears_the_call_signs_delay_and_says_so(redis_client, keys):
    throttle = Throttle(free_failures=0, first_delay_ms=60_000)
    attempt = accounts.attempt_for("10.0.0.1", "BAC-12")
    accounts.gate(redis_client, keys, attempt, throttle)
    assert accounts.gate(redis_client, keys, attempt, throttle).scope == "account"
    accounts.issue_patrol_code(redis_client, keys, patrol_id="BAC-12", issued_by="SUP-1")
    assert accounts.gate(redis_client, keys, attempt, throttle).allowed
    accounts.issue_patrol_code(redis_client, keys, patrol_id="BAC-12", issued_by="SUP-1")
    accounts.issue_patrol_code(redis_client, keys, patrol_id="BAC-12", issued_by="SUP-1")
    cleared = [e.details["throttle_cleared"] for e in audit_store.read(redis_client, keys)]
    assert cleared == [True, True, False], "the attempt let through after the first new code was counted"


def test_an_administrator_lifts_a_delay_audited(redis_client, keys):
    accounts.create_account(redis_client, keys, user_id="SUP-1", role="supervisor", password=PASSWORD)
    throttle = Throttle(free_failures=0, first_delay_ms=60_000)
    attempt = accounts.attempt_for("10.0.0.1", "SUP-1")
    for _ in range(2):
        accounts.gate(redis_client, keys, attempt, throttle)
    assert accounts.throttle_states(redis_client, keys, ["SUP-1", "SUP-2"])["SUP-1"].failures == 1
    assert account_changes.unlock_account(redis_client, keys, user_id="SUP-1", actor="ADM-1", origin="10.0.0.5") == 1
    assert accounts.throttle_states(redis_client, keys, ["SUP-1"]) == {}
    assert accounts.gate(redis_client, keys, attempt, throttle).allowed
    with pytest.raises(accounts.AccountError, match="has no account"):
        account_changes.unlock_account(redis_client, keys, user_id="SUP-7", actor="ADM-1")
    unlocked, refused = [e for e in audit_store.read(redis_client, keys) if e.action is Action.ACCOUNT_UNLOCKED]
    assert (unlocked.actor, unlocked.target, unlocked.origin, unlocked.details) == (
        "ADM-1", "SUP-1", "10.0.0.5", {"failures": 1})
    assert refused.outcome.value == "refused" and refused.target == "SUP-7"


# --- Demo accounts --------------------------------------------------------------------------

def test_demo_accounts_are_created_with_fresh_passwords_and_a_patrol_code(settings, redis_client, keys):
    created = create_demo_accounts(settings)
    staff = {who: secret for who, role, secret in created if role != "patrol"}
    assert set(staff) == {user_id for user_id, _ in DEMO_STAFF}
    for user_id, password in staff.items():
        assert accounts.verify_password(redis_client, keys, user_id=user_id, password=password)
    (patrol_id, _, code), = [c for c in created if c[1] == "patrol"]
    again = create_demo_accounts(settings)
    assert dict((w, s) for w, _, s in again)["SUP-1"] != staff["SUP-1"], "new passwords at every start"
    assert not accounts.verify_password(redis_client, keys, user_id="SUP-1", password=staff["SUP-1"])
    assert accounts.use_patrol_code(redis_client, keys, patrol_id=patrol_id, code=again[-1][2])


def test_production_refuses_demo_accounts(settings, redis_client, keys):
    production = Settings.from_env({**settings.as_env(), "DISPATCH_ENV": "production",
                                    "DISPATCH_SECRET_KEY": "k" * 48})
    with pytest.raises(SettingsError, match="demo accounts are refused in production"):
        create_demo_accounts(production)
    assert redis_client.hlen(keys.accounts) == 0


# --- Administrators' changes: audited, and ending the account's sessions --------------------

NEW_PASSWORD = "a brand new passphrase"
ADMIN = {"actor": "ADM-1", "origin": "10.0.0.5"}


def account_entries(client, keys) -> list:
    changes = {Action.ACCOUNT_CREATED, Action.ACCOUNT_PASSWORD_RESET, Action.ACCOUNT_DELETED}
    return [e for e in audit_store.read(client, keys) if e.action in changes]


def test_create_reset_and_delete_are_audited_with_who_and_where_and_no_secret(redis_client, keys):
    accounts.create_account(redis_client, keys, user_id="ADM-1", role="administrator", password=PASSWORD)
    created = account_changes.admin_create_account(redis_client, keys, user_id="SUP-3", role="supervisor",
                                            password=PASSWORD, **ADMIN)
    assert (created.user_id, created.role) == ("SUP-3", Role.SUPERVISOR)
    assert accounts.verify_password(redis_client, keys, user_id="SUP-3", password=PASSWORD) == created
    accounts.create_session(redis_client, keys, user_id="SUP-3", role="supervisor")
    assert account_changes.reset_password(redis_client, keys, user_id="SUP-3", password=NEW_PASSWORD, **ADMIN) == 1
    assert accounts.verify_password(redis_client, keys, user_id="SUP-3", password=NEW_PASSWORD)
    assert not accounts.verify_password(redis_client, keys, user_id="SUP-3", password=PASSWORD)
    assert accounts.get_account(redis_client, keys, "SUP-3").created_ms == created.created_ms, "kept on reset"
    assert account_changes.remove_account(redis_client, keys, user_id="SUP-3", **ADMIN) == 0
    assert accounts.get_account(redis_client, keys, "SUP-3") is None

    entries = account_entries(redis_client, keys)
    assert [(e.action, e.actor, e.role.value, e.target, e.origin, e.outcome.value) for e in entries] == [
        (Action.ACCOUNT_CREATED, "ADM-1", "administrator", "SUP-3", "10.0.0.5", "ok"),
        (Action.ACCOUNT_PASSWORD_RESET, "ADM-1", "administrator", "SUP-3", "10.0.0.5", "ok"),
        (Action.ACCOUNT_DELETED, "ADM-1", "administrator", "SUP-3", "10.0.0.5", "ok"),
    ]
    assert [e.details for e in entries] == [{"role": "supervisor"}, {}, {"role": "supervisor"}]
    stored = everything_stored(redis_client, keys)
    assert PASSWORD.encode() not in stored and NEW_PASSWORD.encode() not in stored


@pytest.mark.parametrize("attempt, reason, target", [
    (lambda c, k: account_changes.admin_create_account(c, k, user_id="SUP-3", role="administrator", password=PASSWORD,
                                                **ADMIN),
     "SUP-3 is not an administrator code: administrator codes are ADM-n", "SUP-3"),
    (lambda c, k: account_changes.admin_create_account(c, k, user_id="SUP-3", role="supervisor", password="short", **ADMIN),
     "The password must have at least 12 characters", "SUP-3"),
    (lambda c, k: account_changes.admin_create_account(c, k, user_id="ADM-1", role="administrator", password=PASSWORD,
                                                **ADMIN),
     "ADM-1 already has an account", "ADM-1"),
    (lambda c, k: account_changes.admin_create_account(c, k, user_id="Jean Dupont", role="auditor", password=PASSWORD,
                                                **ADMIN),
     "is not an auditor code: auditor codes are AUD-n", "invalid"),
    (lambda c, k: account_changes.reset_password(c, k, user_id="SUP-9", password=NEW_PASSWORD, **ADMIN),
     "SUP-9 has no account", "SUP-9"),
    (lambda c, k: account_changes.reset_password(c, k, user_id="ADM-1", password="x" * 300, **ADMIN),
     "The password must have at most 256 characters", "ADM-1"),
    (lambda c, k: account_changes.remove_account(c, k, user_id="AUD-4", **ADMIN), "AUD-4 has no account", "AUD-4"),
])
def test_refused_changes_are_audited_with_a_readable_reason(redis_client, keys, attempt, reason, target):
    accounts.create_account(redis_client, keys, user_id="ADM-1", role="administrator", password=PASSWORD)
    before = redis_client.hgetall(keys.accounts)
    with pytest.raises(accounts.AccountError, match=reason):
        attempt(redis_client, keys)
    assert redis_client.hgetall(keys.accounts) == before, "a refusal changes nothing"
    (entry,) = account_entries(redis_client, keys)
    assert entry.outcome.value == "refused" and entry.actor == "ADM-1" and entry.origin == "10.0.0.5"
    assert entry.target == target and reason.split(":")[0].replace("SUP-3 ", "") in entry.reason
    assert "Jean" not in entry.reason and "Dupont" not in entry.reason, "a name typed as a code stays off the trail"
    assert PASSWORD not in entry.reason and "x" * 20 not in entry.reason


def test_deleting_or_resetting_ends_that_accounts_sessions_and_no_one_elses(redis_client, keys):
    for user_id, role in (("ADM-1", "administrator"), ("SUP-3", "supervisor"), ("AUD-2", "auditor")):
        accounts.create_account(redis_client, keys, user_id=user_id, role=role, password=PASSWORD)
    sup = [accounts.create_session(redis_client, keys, user_id="SUP-3", role="supervisor")[0] for _ in range(3)]
    aud = [accounts.create_session(redis_client, keys, user_id="AUD-2", role="auditor")[0] for _ in range(2)]
    other, _ = accounts.create_session(redis_client, keys, user_id="SUP-4", role="supervisor")  # no account

    assert account_changes.reset_password(redis_client, keys, user_id="SUP-3", password=NEW_PASSWORD, **ADMIN) == 3
    assert [accounts.get_session(redis_client, keys, s) for s in sup] == [None] * 3
    assert not redis_client.exists(keys.sessions_of("SUP-3"), *(keys.session(token_digest(s)) for s in sup))
    assert all(accounts.get_session(redis_client, keys, s) for s in aud + [other])
    again, _ = accounts.create_session(redis_client, keys, user_id="SUP-3", role="supervisor")
    assert accounts.get_session(redis_client, keys, again), "a sign-in after the reset works"

    assert account_changes.remove_account(redis_client, keys, user_id="AUD-2", **ADMIN) == 2
    assert [accounts.get_session(redis_client, keys, s) for s in aud] == [None, None]
    assert accounts.get_session(redis_client, keys, again) and accounts.get_session(redis_client, keys, other)
    assert account_changes.delete_account(redis_client, keys, "SUP-3"), "the unaudited removal ends sessions too"
    assert accounts.get_session(redis_client, keys, again) is None
    assert not account_changes.delete_account(redis_client, keys, "SUP-3")


def test_nobody_deletes_their_own_account_nor_the_last_administrator(redis_client, keys):
    accounts.create_account(redis_client, keys, user_id="ADM-1", role="administrator", password=PASSWORD)
    own, _ = accounts.create_session(redis_client, keys, user_id="ADM-1", role="administrator")
    with pytest.raises(accounts.AccountError, match="cannot delete your own account"):
        account_changes.remove_account(redis_client, keys, user_id="ADM-1", **ADMIN)
    # Another administrator's session without an account of its own cannot remove the only one either.
    with pytest.raises(accounts.AccountError, match="ADM-1 is the last administrator"):
        account_changes.remove_account(redis_client, keys, user_id="ADM-1", actor="ADM-2", origin="10.0.0.6")
    assert accounts.get_account(redis_client, keys, "ADM-1") and accounts.get_session(redis_client, keys, own)
    account_changes.admin_create_account(redis_client, keys, user_id="ADM-2", role="administrator", password=PASSWORD,
                                  **ADMIN)
    assert account_changes.remove_account(redis_client, keys, user_id="ADM-1", actor="ADM-2", origin="10.0.0.6") == 1
    assert accounts.get_session(redis_client, keys, own) is None
    refused = [e for e in account_entries(redis_client, keys) if e.outcome.value == "refused"]
    assert [(e.actor, e.target) for e in refused] == [("ADM-1", "ADM-1"), ("ADM-2", "ADM-1")]
    assert "own account" in refused[0].reason and "last administrator" in refused[1].reason


def test_the_session_index_lives_as_long_as_the_longest_session(redis_client, keys):
    long_id, _ = accounts.create_session(redis_client, keys, user_id="SUP-1", role="supervisor", ttl_s=3600)
    short_id, _ = accounts.create_session(redis_client, keys, user_id="SUP-1", role="supervisor", ttl_s=0.3)
    index = keys.sessions_of("SUP-1")
    assert redis_client.smembers(index) == {token_digest(long_id).encode(), token_digest(short_id).encode()}
    assert 3_590_000 < redis_client.pttl(index) <= 3_600_000, "a shorter session does not shorten the index"
    assert accounts.end_session(redis_client, keys, long_id)
    assert redis_client.smembers(index) == {token_digest(short_id).encode()}, "signing out leaves the index"
    only, _ = accounts.create_session(redis_client, keys, user_id="AUD-1", role="auditor", ttl_s=0.3)
    assert 0 < redis_client.pttl(keys.sessions_of("AUD-1")) <= 300
    time.sleep(0.4)
    assert not redis_client.exists(keys.sessions_of("AUD-1")), "the index expires with the last session"
    patrol, _ = accounts.create_session(redis_client, keys, user_id="BAC-12", role=Role.PATROL, patrol_id="BAC-12")
    assert redis_client.smembers(keys.sessions_of("BAC-12")) == {token_digest(patrol).encode()}
    accounts.create_session(redis_client, keys, user_id="Jean Dupont", role="supervisor")
    assert not list(redis_client.scan_iter(match=f"{keys.user_sessions}:Jean*")), "no name in a key"


def test_sign_ins_racing_resets_neither_hold_them_off_nor_survive_them(redis_client, keys, redis_server):
    """Sessions created by another client as fast as it can while resets run: the resets still commit
    (sign-ins never make them start again), and the last one leaves no session behind."""
    from dispatch.store.connection import connect

    accounts.create_account(redis_client, keys, user_id="SUP-3", role="supervisor", password=PASSWORD)
    stop, created = threading.Event(), []

    def sign_ins():
        client = connect(redis_server.url)
        while not stop.is_set():
            created.append(accounts.create_session(client, keys, user_id="SUP-3", role="supervisor")[0])
        client.close()

    racer = threading.Thread(target=sign_ins)
    racer.start()
    try:
        ended = [account_changes.reset_password(redis_client, keys, user_id="SUP-3", password=NEW_PASSWORD, **ADMIN)
                 for _ in range(20)]
    finally:
        stop.set()
        racer.join()
    ended.append(account_changes.reset_password(redis_client, keys, user_id="SUP-3", password=NEW_PASSWORD, **ADMIN))
    assert len(created) > 20 and sum(ended) == len(created), "each session was ended by exactly one reset"
    assert [s for s in created if accounts.get_session(redis_client, keys, s)] == []
    assert not redis_client.exists(keys.sessions_of("SUP-3"))


def test_a_session_from_a_password_check_is_refused_if_the_account_changed_since(redis_client, keys):
    accounts.create_account(redis_client, keys, user_id="SUP-7", role="supervisor", password=PASSWORD)
    accounts.create_account(redis_client, keys, user_id="ADM-1", role="administrator", password=PASSWORD)
    checked = accounts.verify_password(redis_client, keys, user_id="SUP-7", password=PASSWORD)
    assert "hash" not in repr(checked).lower(), "the stored hash never shows in logs"
    accounts.create_session(redis_client, keys, user_id="SUP-7", role="supervisor", checked=checked)  # unchanged

    account_changes.reset_password(redis_client, keys, user_id="SUP-7", password="another long password",
                                   actor="ADM-1")
    before = set(redis_client.scan_iter(f"{keys.sessions}:*"))
    with pytest.raises(accounts.AccountError, match="changed while signing in"):
        accounts.create_session(redis_client, keys, user_id="SUP-7", role="supervisor", checked=checked)
    assert set(redis_client.scan_iter(f"{keys.sessions}:*")) == before, "nothing was written"

    checked = accounts.verify_password(redis_client, keys, user_id="SUP-7", password="another long password")
    account_changes.remove_account(redis_client, keys, user_id="SUP-7", actor="ADM-1")
    with pytest.raises(accounts.AccountError):
        accounts.create_session(redis_client, keys, user_id="SUP-7", role="supervisor", checked=checked)
