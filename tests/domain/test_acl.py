"""The Redis ACL rules (dispatch/domain/acl.py) and their thin adapter's pure parts (dispatch/store/acl.py).

What is checked on a real Redis (that the server enforces these rules, and that each process runs under
its role) is in tests/store/test_acl.py; here, what the rules say.
"""

from __future__ import annotations

import stat
from urllib.parse import unquote, urlsplit

import pytest

from dispatch.store import acl
from dispatch.domain.acl import (
    ADMIN_USER,
    CONNECTION,
    DESTRUCTIVE,
    RedisUser,
    audit_exposure,
    password_hash,
    rule_for,
    rules,
    username,
)
from dispatch.domain.retention import retention_table, site_keys
from dispatch.keys import Keys
from dispatch.settings import Settings

SITE = "rennes"
KEYS = Keys(SITE)


def test_a_bridge_may_only_xadd_to_its_sites_three_input_streams_and_count_in_its_hash():
    bridge = rule_for(SITE, RedisUser.BRIDGE)
    assert bridge.user == "rennes.bridge"
    assert set(bridge.key_patterns) == {"{rennes}:in:telemetry", "{rennes}:in:sightings", "{rennes}:in:patrols",
                                        "{rennes}:bridges:stats"}
    assert set(bridge.commands) - set(CONNECTION) == {"xadd", "hincrby"}
    for name, key in site_keys(KEYS).items():
        assert bridge.may_touch(key) == (name.startswith("in_") or name == "bridge_stats"), name
    assert not bridge.may_touch("{lyon}:in:telemetry")


def test_nobody_but_retention_may_trim_or_delete_entries_of_the_audit_trail():
    exposure = audit_exposure(SITE)
    assert set(exposure) == {RedisUser.SIMULATOR, RedisUser.WATCH, RedisUser.GATEWAY, RedisUser.WEB, RedisUser.RETENTION}
    assert "xtrim" in exposure[RedisUser.RETENTION]
    for rule in rules(SITE):
        if rule.role is RedisUser.ADMIN:
            continue
        assert "xdel" not in rule.commands, rule.role
        assert ("xtrim" in rule.commands) == (rule.role is RedisUser.RETENTION), rule.role
    assert not rule_for(SITE, RedisUser.BRIDGE).may_touch(KEYS.audit)
    assert not rule_for(SITE, RedisUser.INGEST).may_touch(KEYS.audit)


def test_the_residual_exposure_on_redis_6_2_is_what_the_readme_says():
    """On 6.2 a command works on every key of its user: the roles that append to the trail could also
    trim it through XADD MAXLEN, and web could DEL, SET or expire it. The README's table says exactly this."""
    exposure = audit_exposure(SITE)
    assert exposure[RedisUser.WATCH] == ("xadd",)
    assert exposure[RedisUser.GATEWAY] == ("xadd",)
    assert exposure[RedisUser.SIMULATOR] == ("xadd",)
    assert exposure[RedisUser.RETENTION] == ("xtrim", "xadd")
    assert exposure[RedisUser.WEB] == ("del", "set", "pexpire", "pexpireat", "xadd")


def test_only_the_web_app_may_touch_accounts_patrol_codes_and_sign_in_records():
    private = [
        KEYS.accounts,
        KEYS.patrol_codes,
        KEYS.signin_failure("addr:10.0.0.1"),
        KEYS.signin_failure("user:SUP-1"),
    ]
    for rule in rules(SITE):
        for key in private:
            assert rule.may_touch(key) == (rule.role in (RedisUser.WEB, RedisUser.ADMIN)), (rule.role, key)


def test_sessions_are_read_by_the_gateway_and_kept_by_the_web_app_only():
    session = KEYS.session("ab" * 32)
    assert {rule.role for rule in rules(SITE) if rule.may_touch(session)} == {RedisUser.GATEWAY, RedisUser.WEB, RedisUser.ADMIN}
    gateway = rule_for(SITE, RedisUser.GATEWAY)
    assert not set(gateway.commands) & set(DESTRUCTIVE)
    assert not {"hset", "hdel", "sadd", "srem"} & set(gateway.commands)


def test_no_role_but_the_admin_has_dangerous_or_administrative_commands():
    forbidden = {
        "flushall",
        "flushdb",
        "keys",
        "config",
        "acl",
        "debug",
        "shutdown",
        "module",
        "save",
        "bgsave",
        "bgrewriteaof",
        "replicaof",
        "slaveof",
        "migrate",
        "monitor",
        "script|flush",
        "script|kill",
        "function",
        "xdel",
        "unlink",
        "rename",
        "restore",
        "publish",
        "subscribe",
    }
    for rule in rules(SITE):
        if rule.role is not RedisUser.ADMIN:
            assert not forbidden & set(rule.commands), rule.role


def test_every_key_of_the_site_is_granted_to_some_process():
    """A key nobody may touch is a key the product cannot use: the retention table names every key, and
    each is someone's (the web app's, except ingest's bookkeeping)."""
    process_rules = [rule for rule in rules(SITE) if rule.role is not RedisUser.ADMIN]
    for rule in retention_table(KEYS, Settings()):
        assert any(r.may_touch(rule.key) or r.may_touch(f"{rule.key}:x") for r in process_rules), rule.name


def test_the_web_app_never_touches_ingest_bookkeeping():
    web = rule_for(SITE, RedisUser.WEB)
    for key in (KEYS.stats, KEYS.drones_ts, KEYS.patrols_ts, KEYS.sightings_ts):
        assert not web.may_touch(key)


def test_users_are_per_site_and_fit_in_a_url():
    assert username("lyon-2", RedisUser.INGEST) == "lyon-2.ingest"
    assert username("lyon-2", RedisUser.ADMIN) == ADMIN_USER
    for rule in rules("lyon-2"):
        assert ":" not in rule.user and "@" not in rule.user
        if rule.role is not RedisUser.ADMIN:
            assert all(pattern.startswith("{lyon-2}:") for pattern in rule.key_patterns)


def test_setuser_args_start_from_nothing_and_close_pub_sub():
    args = rule_for(SITE, RedisUser.INGEST).setuser_args(">secret")
    assert args[:3] == ["reset", "on", ">secret"]
    assert "resetchannels" in args
    assert "+xreadgroup" in args and "~{rennes}:in:telemetry" in args
    admin = rule_for(SITE, RedisUser.ADMIN).setuser_args(">x")
    assert admin == ["reset", "on", ">x", "allkeys", "allchannels", "+@all"]


def test_an_acl_file_line_carries_the_passwords_hash_never_the_password():
    line = rule_for(SITE, RedisUser.BRIDGE).acl_file_line("s3cret-password")
    assert "s3cret-password" not in line
    assert line.startswith("user rennes.bridge on #")
    assert password_hash("s3cret-password") in line


def test_redis_url_for_signs_in_as_the_role_and_keeps_the_rest_of_the_url():
    passwords = {RedisUser.WEB: "p@ss:w/rd#1", RedisUser.ADMIN: "admin"}
    url = acl.redis_url_for(RedisUser.WEB, "rediss://:old@redis.internal:6390/2?ssl_cert_reqs=required", "rennes", passwords)
    parts = urlsplit(url)
    assert (parts.scheme, parts.hostname, parts.port, parts.path, parts.query) == (
        "rediss",
        "redis.internal",
        6390,
        "/2",
        "ssl_cert_reqs=required",
    )
    assert unquote(parts.username) == "rennes.web"
    assert unquote(parts.password) == "p@ss:w/rd#1"
    assert (
        acl.redis_url_for("ingest", "redis://127.0.0.1:6380/0", "t1", {RedisUser.INGEST: "x"})
        == "redis://t1.ingest:x@127.0.0.1:6380/0"
    )


def test_every_process_of_the_launcher_and_procfile_has_a_role():
    for name in ("ingest", "watch", "gateway", "retention", "web", "simulator", "sim"):
        assert acl.ROLE_OF_PROCESS[name] in RedisUser
    assert acl.ROLE_OF_MODULE["gunicorn"] is RedisUser.WEB


def test_demo_passwords_are_made_once_private_and_kept(tmp_path):
    first = acl.demo_passwords(tmp_path / "var")
    path = tmp_path / "var" / acl.PASSWORDS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert set(first) == set(RedisUser) and len(set(first.values())) == len(RedisUser)
    assert all(len(password) >= 32 for password in first.values())
    assert acl.demo_passwords(tmp_path / "var") == first


def test_operator_passwords_come_from_the_environment():
    found = acl.passwords_from_env({"DISPATCH_REDIS_PASSWORD_INGEST": " abc ", "DISPATCH_REDIS_PASSWORD_WEB": ""})
    assert found == {RedisUser.INGEST: "abc"}


def test_the_cli_prints_a_setuser_line_per_role_hashed_or_with_no_password_yet(capsys, monkeypatch):
    monkeypatch.setenv("DISPATCH_REDIS_PASSWORD_BRIDGE", "bridge-secret-value")
    assert acl.main(["--site", "lyon"]) == 0
    printed = capsys.readouterr()
    out = printed.out
    lines = out.splitlines()
    assert len(lines) == len(RedisUser) and all(line.startswith("ACL SETUSER ") for line in lines)
    assert "bridge-secret-value" not in out
    assert f"'{password_hash('bridge-secret-value')}'" in lines[0]
    assert "ACL SETUSER rennes.ingest" not in out
    ingest = next(line for line in lines if line.startswith("ACL SETUSER lyon.ingest "))
    assert ingest.startswith("ACL SETUSER lyon.ingest reset on resetpass ")  # no guessable placeholder
    assert "ingest" in printed.err
    assert "Residual risk" in printed.err


def test_the_cli_writes_an_acl_file_only_with_every_password(tmp_path, monkeypatch, capsys):
    target = tmp_path / "users.acl"
    assert acl.main(["--site", "lyon", "--acl-file", str(target)]) == 2
    assert not target.exists()
    for role in RedisUser:
        monkeypatch.setenv(f"DISPATCH_REDIS_PASSWORD_{role.value.upper()}", f"pw-{role.value}-0123456789")
    assert acl.main(["--site", "lyon", "--acl-file", str(target)]) == 0
    text = target.read_text()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert "pw-" not in text
    assert text.splitlines()[-1].startswith("user default off")


@pytest.mark.parametrize("site", ["Bad", "a" * 40, "x:y"])
def test_the_cli_refuses_a_bad_site(site, capsys):
    assert acl.main(["--site", site]) == 2


def test_the_launchers_children_get_their_roles_url_and_the_proxy_none():
    passwords = acl.generate_passwords()
    url = acl.child_redis_url("retention", "redis://127.0.0.1:6380/0", "rennes", passwords)
    assert urlsplit(url).username == "rennes.retention"
    assert acl.child_redis_url("proxy", "redis://127.0.0.1:6380/0", "rennes", passwords) is None


def test_a_redacted_url_keeps_the_user_and_hides_the_password():
    assert acl.redacted_url("redis://rennes.web:s3cret@127.0.0.1:6380/0") == "redis://rennes.web:***@127.0.0.1:6380/0"
    assert acl.redacted_url("redis://:s3cret@127.0.0.1:6380/0") == "redis://:***@127.0.0.1:6380/0"
    assert acl.redacted_url("redis://127.0.0.1:6380/0") == "redis://127.0.0.1:6380/0"
