"""The whole product in one command (`make run`, i.e. `python app.py`).

Starts, in order: an embedded Redis when REDIS_URL is unset, the ingest worker,
the alert watcher, the push gateway, the retention job, the web app under gunicorn, and the simulator feeding the
Rennes scenario (whose zones it authorises first, if none are stored);
prints where to look; stops everything cleanly on Ctrl-C. The same processes
are listed in the Procfile for a real deployment, where something else
(systemd, a PaaS, Kubernetes) supervises them and REDIS_URL points at a real
Redis.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, replace

from .settings import Settings, SettingsError
from .keys import Keys
from .store.connection import connect
from .store.embedded import EmbeddedRedis, free_port
from .store.zones import seed_demo_zones
from .domain.auth import Role
from .scenario_rennes import call_signs
from .store import accounts

# The demo's staff: new passwords at every start, printed in the banner (never stored in clear).
DEMO_STAFF = (("SUP-1", Role.SUPERVISOR), ("SUP-2", Role.SUPERVISOR), ("AUD-1", Role.AUDITOR),
              ("ADM-1", Role.ADMINISTRATOR))


@dataclass
class Child:
    name: str
    args: list[str]
    process: subprocess.Popen | None = None


def children(settings: Settings) -> list[Child]:
    python = sys.executable
    bind = f"{settings.web_host}:{settings.web_port}"
    return [
        Child("ingest", [python, "-m", "dispatch.ingest"]),
        Child("watch", [python, "-m", "dispatch.watch"]),
        Child("gateway", [python, "-m", "dispatch.gateway"]),
        Child("retention", [python, "-m", "dispatch.retention"]),
        Child("web", [python, "-m", "gunicorn", "app:server", "--bind", bind,
                      "--workers", "1", "--threads", "8", "--log-level", "warning",
                      "--no-control-socket"]),
        Child("simulator", [python, "-m", "dispatch.simulator"]),
    ]


def start_redis(settings: Settings) -> tuple[EmbeddedRedis | None, Settings]:
    if settings.redis_url:
        return None, settings
    port = settings.embedded_redis_port
    if _port_taken(port):
        port = free_port()
        print(f"  port {settings.embedded_redis_port} is taken; embedded Redis uses {port} instead")
    server = EmbeddedRedis(settings.data_dir / "redis", port=port, persistent=True).start()
    return server, replace(settings, redis_url=server.url)


def seed_zones(settings: Settings) -> None:
    """The demo flies over the scenario's zones: authorise them (only if no zone is stored yet)."""
    client = connect(settings.redis_url)
    try:
        seeded = seed_demo_zones(client, Keys(settings.site), int(time.time() * 1000),
                                 tz=settings.timezone, live_maxlen=settings.live_maxlen)
    finally:
        client.close()
    if seeded:
        print(f"  authorised demo zones: {', '.join(zone.zone_id for zone in seeded)}")


def create_demo_accounts(settings: Settings) -> list[tuple[str, str, str]]:
    """The demo's sign-ins as (who, role, secret): staff accounts with fresh random passwords, and a
    one-time code for the first simulated patrol. Refused in production, where accounts are created
    by an administrator and nothing is printed."""
    if settings.production:
        raise SettingsError("demo accounts are refused in production (DISPATCH_ENV=production)")
    client = connect(settings.redis_url)
    keys = Keys(settings.site)
    created = []
    try:
        for user_id, role in DEMO_STAFF:
            password = secrets.token_urlsafe(12)
            accounts.create_account(client, keys, user_id=user_id, role=role, password=password, replace=True)
            created.append((user_id, role.value, password))
        patrol_id = call_signs(max(1, settings.sim_patrols))[0]
        code = accounts.issue_patrol_code(client, keys, patrol_id=patrol_id, issued_by=DEMO_STAFF[0][0],
                                          ttl_s=settings.patrol_code_hours * 3600)
        created.append((patrol_id, "patrol", code))
    finally:
        client.close()
    return created


def demo_banner(demo_accounts: list[tuple[str, str, str]]) -> str:
    lines = ["  Demo sign-ins (new passwords at every start; the patrol code works once):"]
    for who, role, secret in demo_accounts:
        kind = "code" if role == "patrol" else "password"
        lines.append(f"    {who:<7} {role:<14} {kind} {secret}")
    return "\n".join(lines) + "\n"


def _port_taken(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _wait_for_web(settings: Settings, running: list[Child], timeout_s: float = 30.0) -> bool:
    url = f"http://{settings.web_host}:{settings.web_port}/healthz"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(child.process.poll() is not None for child in running):
            return False
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def _stop(running: list[Child]) -> None:
    for child in reversed(running):
        if child.process.poll() is None:
            child.process.terminate()
    for child in reversed(running):
        try:
            child.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.process.kill()


def main() -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"patrol dispatch: {error}", file=sys.stderr)
        return 2
    if settings.production:
        print("patrol dispatch: `make run` is the demo (simulator, demo accounts printed in clear) and is "
              "refused with DISPATCH_ENV=production; run the Procfile's processes instead", file=sys.stderr)
        return 2
    print("Patrol dispatch: starting the demo")
    server, settings = start_redis(settings)
    if server:
        print(f"  embedded Redis: {server.url} (data in {server.data_dir.resolve()})")
    seed_zones(settings)
    demo_accounts = create_demo_accounts(settings)
    env = {**os.environ, **settings.as_env(), "PYTHONUNBUFFERED": "1"}
    running: list[Child] = []
    interrupted = False

    def interrupt(*_):
        nonlocal interrupted
        interrupted = True

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    try:
        for child in children(settings):
            # Own session: Ctrl-C reaches only this launcher, which stops children in order.
            child.process = subprocess.Popen(child.args, env=env, start_new_session=True)
            running.append(child)
        if not _wait_for_web(settings, running):
            print("patrol dispatch: the web app did not start; see the messages above", file=sys.stderr)
            return 1
        url = f"http://{settings.web_host}:{settings.web_port}/"
        print(f"\n  Supervisor screen: {url}\n  Snapshot API:      {url}api/snapshot\n"
              f"  Staff sign-in:     {url}login\n  Patrol sign-in:    {url}login/patrol\n"
              f"{demo_banner(demo_accounts)}"
              f"  Site: {settings.site}. Press Ctrl-C to stop.\n", flush=True)
        while not interrupted:
            for child in running:
                if child.process.poll() is not None:
                    print(f"patrol dispatch: {child.name} exited with code {child.process.returncode}; stopping",
                          file=sys.stderr)
                    return 1
            time.sleep(0.3)
        print("\nPatrol dispatch: stopping")
        return 0
    finally:
        _stop(running)
        if server:
            server.stop()
