"""Redis ACL users for the processes of one site: apply them, hand each process its own REDIS_URL.

The rules themselves (who may touch which key with which command, and what remains possible on
Redis 6.2) are pure, in dispatch/domain/acl.py. This module is the thin part around them:

- `apply_users(admin_client, site, passwords)`: `ACL SETUSER` for every role (idempotent: each rule
  starts with `reset`), then `ACL SAVE` when the server keeps its users in an ACL file, so they
  survive a restart (the embedded Redis always has one); on a Redis Cluster, on every node, replicas
  included, since ACL users are per node (issue 14);
- `redis_url_for(role, base_url, site, passwords)`: the base URL with the role's user and password,
  scheme, host, port, database and options unchanged: what the launcher gives each child;
- passwords: `demo_passwords(data_dir)` creates them once, at random, in a 0600 file of the data dir;
  `passwords_from_env()` reads `DISPATCH_REDIS_PASSWORD_<ROLE>` for an operator;
- `python -m dispatch acl`: prints the `ACL SETUSER` lines for a production Redis (passwords from the
  environment, as SHA-256; a role without one cannot sign in yet), or writes an ACL file (`--acl-file`).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from pathlib import Path
from typing import Mapping
from urllib.parse import quote, urlsplit, urlunsplit

import redis
import redis.cluster

from ..domain.acl import ADMIN_USER, RESIDUAL_RISKS, RedisUser, password_hash, rules
from ..settings import Settings, SettingsError

PASSWORDS_FILE = "redis-users.json"  # in the data dir, 0600
ENV_PREFIX = "DISPATCH_REDIS_PASSWORD_"

# The role of each process the launcher and the Procfile start (their names), and of each module.
ROLE_OF_PROCESS: dict[str, RedisUser] = {
    "ingest": RedisUser.INGEST,
    "watch": RedisUser.WATCH,
    "gateway": RedisUser.GATEWAY,
    "retention": RedisUser.RETENTION,
    "web": RedisUser.WEB,
    "simulator": RedisUser.SIMULATOR,
    "sim": RedisUser.SIMULATOR,
    # Bridges (issue 13): every kind signs in as the bridge role.
    "bridge": RedisUser.BRIDGE,
    "cot": RedisUser.COT,  # but CoT out, which only reads (Procfile name `cot`)
}
ROLE_OF_MODULE: dict[str, RedisUser] = {
    "dispatch.services.ingest": RedisUser.INGEST,
    "dispatch.services.watch": RedisUser.WATCH,
    "dispatch.services.gateway": RedisUser.GATEWAY,
    "dispatch.services.retention": RedisUser.RETENTION,
    "dispatch.demo.simulator": RedisUser.SIMULATOR,
    "gunicorn": RedisUser.WEB,
    # Bridges (issue 13).
    "dispatch.services.bridges": RedisUser.BRIDGE,
    "dispatch.services.bridges.cli": RedisUser.BRIDGE,
}
# Processes with no business with Redis: they get no REDIS_URL at all.
WITHOUT_REDIS = ("proxy", "dispatch.services.proxy")
PROCESS_ROLES = tuple(role for role in RedisUser if role is not RedisUser.ADMIN)


def generate_passwords() -> dict[RedisUser, str]:
    """A fresh random password per role (192 bits each)."""
    return {role: secrets.token_urlsafe(24) for role in RedisUser}


def demo_passwords(data_dir: Path) -> dict[RedisUser, str]:
    """The demo's passwords: read from `data_dir/redis-users.json`, created at random (mode 0600) the first
    time. Kept across starts, so the embedded Redis's ACL file and the children's URLs agree."""
    path = Path(data_dir) / PASSWORDS_FILE
    if path.exists():
        stored = json.loads(path.read_text())
        found = {role: stored[role.value] for role in RedisUser if role.value in stored}
        if len(found) == len(RedisUser):
            return found
    path.parent.mkdir(parents=True, exist_ok=True)
    passwords = generate_passwords()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump({role.value: password for role, password in passwords.items()}, file, indent=1)
    path.chmod(0o600)
    return passwords


def passwords_from_env(env: Mapping[str, str] | None = None) -> dict[RedisUser, str]:
    """`DISPATCH_REDIS_PASSWORD_INGEST` etc.: the roles whose password the operator set."""
    env = os.environ if env is None else env
    found = {role: env.get(ENV_PREFIX + role.value.upper(), "").strip() for role in RedisUser}
    return {role: password for role, password in found.items() if password}


def redis_url_for(role: RedisUser | str, base_url: str, site: str, passwords: Mapping[RedisUser, str]) -> str:
    """`base_url` signed in as the role's user: `redis://127.0.0.1:6380/0` becomes
    `redis://rennes.ingest:<password>@127.0.0.1:6380/0` (rediss://, the database and query kept)."""
    role = RedisUser(role)
    parts = urlsplit(base_url)
    host = parts.netloc.rpartition("@")[2]
    user = ADMIN_USER if role is RedisUser.ADMIN else f"{site}.{role.value}"
    netloc = f"{quote(user, safe='')}:{quote(passwords[role], safe='')}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def child_redis_url(name: str, base_url: str, site: str, passwords: Mapping[RedisUser, str]) -> str | None:
    """The REDIS_URL of the launcher's child `name`: its role's user on `base_url`; None for a child that
    has no business with Redis (the nginx proxy), which then gets no REDIS_URL at all."""
    role = ROLE_OF_PROCESS.get(name)
    return None if role is None else redis_url_for(role, base_url, site, passwords)


def redacted_url(url: str) -> str:
    """`url` without its password, for banners and logs: `redis://rennes.web:***@127.0.0.1:6380/0`."""
    parts = urlsplit(url)
    user, _, host = parts.netloc.rpartition("@")
    if not user:
        return url
    name = user.partition(":")[0]
    return urlunsplit((parts.scheme, f"{name}:***@{host}", parts.path, parts.query, parts.fragment))


def apply_users_at(admin_url: str, site: str, passwords: Mapping[RedisUser, str]) -> list[str]:
    """`apply_users` through a short-lived client of `admin_url` (the launcher, the test harness)."""
    from .connection import is_cluster

    options = dict(socket_connect_timeout=2.0, socket_timeout=5.0)
    if is_cluster(admin_url):
        client = redis.cluster.RedisCluster.from_url(admin_url, **options)
    else:
        client = redis.Redis.from_url(admin_url, **options)
    try:
        return apply_users(client, site, passwords)
    finally:
        client.close()


def apply_users(
    client: redis.Redis, site: str, passwords: Mapping[RedisUser, str], *, roles: tuple[RedisUser, ...] = PROCESS_ROLES
) -> list[str]:
    """Create or replace the users of `roles` for `site` (the admin user only if asked), then save them
    to the server's ACL file if it has one. `client` must be allowed ACL SETUSER (the default user, or
    the admin). Returns the user names.

    On a Redis Cluster (a `RedisCluster` client) ACL users are per node: they are set, and saved, on
    every node, replicas included (a replica promoted by a failover must let the processes in)."""
    if isinstance(client, redis.cluster.RedisCluster):
        applied = []
        for node in client.get_nodes():
            applied = apply_users(client.get_redis_connection(node), site, passwords, roles=roles)
        return applied
    applied = []
    for rule in rules(site):
        if rule.role in roles:
            client.execute_command("ACL", "SETUSER", rule.user, *rule.setuser_args(f">{passwords[rule.role]}"))
            applied.append(rule.user)
    if _has_acl_file(client):
        client.execute_command("ACL", "SAVE")
    return applied


def _has_acl_file(client: redis.Redis) -> bool:
    reply = client.config_get("aclfile")
    value = reply.get("aclfile") or reply.get(b"aclfile") or ""
    return bool(value)


def setuser_lines(site: str, passwords: Mapping[RedisUser, str]) -> list[str]:
    """One `ACL SETUSER` line per role (admin last), with the SHA-256 of the role's password. A role without
    one gets `resetpass`: its user exists but nobody can sign in as it until the operator gives it a
    password (`ACL SETUSER rennes.ingest '>...'`); a guessable placeholder piped as-is would be a hole."""
    return [
        rule.setuser_line(password_hash(passwords[rule.role]) if rule.role in passwords else "resetpass")
        for rule in rules(site)
    ]


def acl_file_text(site: str, passwords: Mapping[RedisUser, str], *, default_off: bool = True) -> str:
    """A Redis ACL file: every role's user (hashed passwords) and the default user switched off, so
    every client must sign in as a role."""
    lines = [rule.acl_file_line(passwords[rule.role]) for rule in rules(site)]
    if default_off:
        lines.append("user default off resetkeys resetchannels -@all")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dispatch acl",
        description="Print the Redis ACL users of one site (ACL SETUSER lines for redis-cli), or write an ACL "
        f"file. Passwords from {ENV_PREFIX}<ROLE> (hashed in the output); a role without one cannot sign in "
        "until given a password.",
    )
    parser.add_argument("--site", help="site (default: DISPATCH_SITE, else rennes)")
    parser.add_argument("--acl-file", type=Path, help="write a Redis ACL file here (every password must be set)")
    args = parser.parse_args(argv)
    try:
        site = args.site or Settings.from_env().site
        Settings.from_env({"DISPATCH_SITE": site})  # the same check of the site's name
    except SettingsError as error:
        print(f"acl: {error}", file=sys.stderr)
        return 2
    passwords = passwords_from_env()
    if args.acl_file:
        missing = [f"{ENV_PREFIX}{role.value.upper()}" for role in RedisUser if role not in passwords]
        if missing:
            print(f"acl: set {', '.join(missing)} to write an ACL file", file=sys.stderr)
            return 2
        descriptor = os.open(args.acl_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(acl_file_text(site, passwords))
        print(f"wrote {args.acl_file} (aclfile in redis.conf, then ACL LOAD)", file=sys.stderr)
        return 0
    # Only the commands on stdout, so they can be piped into `redis-cli -u <admin URL>`; the rest on stderr.
    print(
        f"# Redis ACL users of site {site!r}: one per process; give each its REDIS_URL "
        f"(redis://{site}.<role>:<password>@host:port/0).",
        file=sys.stderr,
    )
    print("\n".join(setuser_lines(site, passwords)))
    missing = [role.value for role in RedisUser if role not in passwords]
    if missing:
        print(
            f"# No password for {', '.join(missing)} ({ENV_PREFIX}<ROLE>): those users cannot sign in until "
            "you give each one (ACL SETUSER <user> '>password').",
            file=sys.stderr,
        )
    print(
        "# Once the admin user works: ACL SETUSER default off   (then ACL SAVE if you use an aclfile)", file=sys.stderr
    )
    for risk in RESIDUAL_RISKS:
        print(f"# Residual risk: {risk}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
