"""store/accounts.py against a real Redis: accounts, patrol codes, sessions, throttling, demo accounts."""

from __future__ import annotations

import threading
import time

import orjson
import pytest

from dispatch.domain.audit import Action
from dispatch.domain.auth import Role, Throttle, token_digest
from dispatch.launcher import DEMO_STAFF, create_demo_accounts
from dispatch.settings import Settings, SettingsError
from dispatch.store import accounts
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


# --- Accounts -----------------------------------------------------------------------------

def test_an_account_verifies_its_password_and_stores_no_clear_password(redis_client, keys):
    account = accounts.create_account(redis_client, keys, user_id="SUP-1", role="supervisor", password=PASSWORD)
    assert (account.user_id, account.role) == ("SUP-1", Role.SUPERVISOR)
    assert accounts.verify_password(redis_client, keys, user_id="SUP-1", password=PASSWORD) == account
    assert accounts.verify_password(redis_client, keys, user_id="SUP-1", password=PASSWORD + " ") is None
    assert accounts.verify_password(redis_client, keys, user_id="SUP-2", password=PASSWORD) is None
    stored = orjson.loads(redis_client.hget(keys.accounts, "SUP-1"))
    assert set(stored) == {"role", "hash", "created_ms"} and stored["hash"].startswith("scrypt$")
    assert PASSWORD.encode() not in everything_stored(redis_client, keys)


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
    assert accounts.delete_account(redis_client, keys, "ADM-1") and accounts.get_account(redis_client, keys,
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
    assert set(entry.details) == {"expires_ms"}
    assert not redis_client.hexists(keys.patrol_codes, "BAC-12"), "used: gone"
    again = accounts.issue_patrol_code(redis_client, keys, patrol_id="BAC-12", issued_by="SUP-1")
    stored = orjson.loads(redis_client.hget(keys.patrol_codes, "BAC-12"))
    assert set(stored) == {"hash", "expires_ms", "issued_by", "issued_ms"} and stored["hash"].startswith("scrypt$")
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

        threads = [threading.Thread(target=attempt) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
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

def test_failures_lock_after_the_limit_for_the_lock_time(redis_client, keys):
    throttle = Throttle(max_failures=3, lock_ms=400)
    subjects = accounts.throttle_subjects("10.0.0.1", "SUP-1")
    assert subjects == ["addr:10.0.0.1", "user:SUP-1"]
    assert accounts.record_failure(redis_client, keys, subjects, throttle) == [1, 1]
    accounts.record_failure(redis_client, keys, subjects, throttle)
    assert accounts.locked_for_ms(redis_client, keys, subjects, throttle) == 0
    assert accounts.record_failure(redis_client, keys, subjects, throttle) == [3, 3]
    assert 0 < accounts.locked_for_ms(redis_client, keys, subjects, throttle) <= 400
    assert accounts.locked_for_ms(redis_client, keys, ["addr:10.0.0.2"], throttle) == 0
    time.sleep(0.45)
    assert accounts.locked_for_ms(redis_client, keys, subjects, throttle) == 0
    assert accounts.record_failure(redis_client, keys, subjects, throttle) == [1, 1], "a new window after the lock"
    accounts.clear_failures(redis_client, keys, ["user:SUP-1"])
    assert accounts.record_failure(redis_client, keys, subjects, throttle) == [2, 1]


def test_malformed_ids_are_never_put_in_a_key():
    assert accounts.throttle_subjects("10.0.0.1", "Jean Dupont") == ["addr:10.0.0.1"]
    assert accounts.throttle_subjects(None, "BAC-12") == ["user:BAC-12"]


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
