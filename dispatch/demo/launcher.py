"""The whole product in one command (`make run`, i.e. `python app.py`), kept running.

Starts, in order: an embedded Redis when REDIS_URL is unset, the ingest worker,
the alert watcher, the push gateway, the retention job, the web app under
gunicorn (on 127.0.0.1 only) with nginx in front of it (dispatch/services/proxy.py: it
buffers whole requests, so slow clients cannot hold gunicorn's threads), and the
simulator feeding the Rennes scenario (whose zones it authorises first, if none
are stored); prints where to look.

Then it supervises: a process that exits, the embedded Redis included, is
started again after a capped exponential backoff (dispatch/services/supervision.py), and
the launcher prints what happened. Ctrl-C or SIGTERM stops the processes in
reverse order, and Redis last, so nobody loses Redis while still writing. The
same processes are listed in the Procfile for a real deployment, where something
else (systemd, a PaaS, Kubernetes) supervises them and REDIS_URL points at a
real Redis.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, replace
from typing import Callable

from .. import clock
from ..store import acl
from ..domain.acl import RedisUser
from ..settings import Settings, SettingsError
from ..keys import Keys
from ..store.connection import connect
from ..store.embedded import EmbeddedRedis, free_port
from .zones import seed_demo_zones
from ..domain.auth import Role
from .scenario_rennes import call_signs
from ..store import accounts
from ..services.proxy import ProxyError, nginx_binary
from ..services.supervision import RESTART_BASE_S, RESTART_CAP_S, describe_exit, failures_after_exit, restart_delay_s

# The demo's staff: new passwords at every start, printed in the banner (never stored in clear).
DEMO_STAFF = (
    ("SUP-1", Role.SUPERVISOR),
    ("SUP-2", Role.SUPERVISOR),
    ("AUD-1", Role.AUDITOR),
    ("ADM-1", Role.ADMINISTRATOR),
)
LOOP_S = 0.2  # how often the supervisor looks at its processes
# Bridges (issue 13): the simulated drone that speaks MAVLink to the real bridge, and its mapping file.
DEMO_MAVLINK_DRONE = "DR-01"
DEMO_DRONE_IDS = "demo-drone-ids.json"
STOP_TIMEOUT_S = 10.0  # a process still there this long after SIGTERM is killed
READY_WARNING_S = 60.0  # the web app not answering /healthz by then: say so


def say(message: str) -> None:
    """The launcher's own log lines (restarts, stops): stderr, flushed, with the time."""
    print(f"{time.strftime('%H:%M:%S')} patrol dispatch: {message}", file=sys.stderr, flush=True)


@dataclass
class Child:
    """One supervised process: how to start and stop it, and its restart bookkeeping."""

    name: str
    launch: Callable[[], subprocess.Popen]
    halt: Callable[[subprocess.Popen], None] | None = None  # default: SIGTERM, then SIGKILL the group
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    failures: int = 0  # consecutive exits of a process that had not been up for long
    restart_at: float | None = None  # when a process that exited is due to start again
    restarts: int = 0

    def start(self, now: float) -> None:
        self.process = self.launch()
        self.started_at = now

    def check(self, now: float) -> None:
        """Notice an exit and schedule the restart; start it again when it is due."""
        if self.restart_at is None:
            if self.process is None or self.process.poll() is None:
                return
            _kill_group(self.process)  # what it left behind (an nginx or gunicorn worker) must go too
            uptime = now - self.started_at
            self._schedule(
                now, f"{self.name} exited ({describe_exit(self.process.returncode)}) after {uptime:.1f} s", uptime
            )
        elif now >= self.restart_at:
            self.restart_at = None
            try:
                self.start(now)
            except Exception as error:  # Redis not ready, a binary gone: try again later, say why
                self._schedule(now, f"{self.name} did not start ({error})", 0.0)
                return
            self.restarts += 1
            say(f"{self.name} restarted (pid {self.process.pid}; restart {self.restarts})")

    def _schedule(self, now: float, what: str, uptime: float) -> None:
        self.failures = failures_after_exit(self.failures, uptime)
        delay = restart_delay_s(self.failures)
        self.restart_at = now + delay
        say(f"{what}; restarting in {delay:g} s")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.halt is not None:
            self.halt(self.process)
        else:
            _terminate(self.process)
        say(f"stopped {self.name}")


def _kill_group(process: subprocess.Popen) -> None:
    """Each child leads its own process group (own session): SIGKILL whatever is left of it."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _terminate(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    _kill_group(process)


def child_env(settings: Settings, name: str, redis_passwords: dict | None = None) -> dict[str, str]:
    """The environment of the child called `name`: the one place where a child's environment is built
    (settings, and what that child alone needs). With `redis_passwords` (the embedded Redis), the child
    signs in to Redis as its own ACL user (dispatch/store/acl.py); a child with no role (the proxy) gets no
    REDIS_URL at all."""
    env = {**os.environ, **settings.as_env(), "PYTHONUNBUFFERED": "1"}
    if name == "web":
        env["DISPATCH_BEHIND_PROXY"] = "1"  # only our nginx reaches it: trust its X-Forwarded-For
    if redis_passwords is not None:
        env.pop("REDIS_URL", None)
        url = acl.child_redis_url(name, settings.redis_url, settings.site, redis_passwords)
        if url:
            env["REDIS_URL"] = url
    return env


def child_commands(settings: Settings, mavlink_port: int | None = None) -> list[tuple[str, list[str]]]:
    """(name, argv) of each process, in start order (stopped in the reverse order). With `mavlink_port`,
    the MAVLink bridge listens on it and the simulator sends one drone there (issue 13)."""
    python = sys.executable
    simulator = [python, "-m", "dispatch", "simulator"]
    bridges = []
    if mavlink_port is not None:  # Bridges (issue 13): one simulated drone through the real MAVLink bridge
        simulator += ["--mavlink", f"udpout:127.0.0.1:{mavlink_port}", "--mavlink-drone", DEMO_MAVLINK_DRONE]
        bridges = [("bridge", [python, "-m", "dispatch", "bridge", "mavlink", "--listen",
                               f"udpin:127.0.0.1:{mavlink_port}", "--drone-ids",
                               str(settings.data_dir / DEMO_DRONE_IDS)])]
    return [
        ("ingest", [python, "-m", "dispatch", "ingest"]),
        ("watch", [python, "-m", "dispatch", "watch"]),
        ("gateway", [python, "-m", "dispatch", "gateway"]),
        ("retention", [python, "-m", "dispatch", "retention"]),
        (
            "web",
            [
                python,
                "-m",
                "gunicorn",
                "app:server",
                "--bind",
                f"127.0.0.1:{settings.app_port}",
                "--workers",
                str(settings.web_workers),  # issue 14 (replay-workers): replay windows are shared per host
                "--threads",
                "8",
                "--graceful-timeout",
                "5",
                "--log-level",
                "warning",
                "--no-control-socket",
            ],
        ),
        ("proxy", [python, "-m", "dispatch", "proxy"]),
        *bridges,
        ("simulator", simulator),
    ]


def demo_mavlink_port(settings: Settings) -> int:
    """A free UDP port for the demo's MAVLink bridge, and its drone id mapping file (system id 1 is the
    simulator's DR-01), written in the data dir."""
    (settings.data_dir / DEMO_DRONE_IDS).parent.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / DEMO_DRONE_IDS).write_text(json.dumps({"1": DEMO_MAVLINK_DRONE}) + "\n")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def children(settings: Settings, redis_passwords: dict | None = None, mavlink_port: int | None = None) -> list[Child]:
    def launcher(name: str, args: list[str]) -> Callable[[], subprocess.Popen]:
        # Own session: Ctrl-C reaches only this launcher, which stops children in order.
        return lambda: subprocess.Popen(args, env=child_env(settings, name, redis_passwords), start_new_session=True)

    return [Child(name, launcher(name, args)) for name, args in child_commands(settings, mavlink_port)]


def redis_child(server: EmbeddedRedis) -> Child:
    """The embedded Redis, supervised like the others (same port and files: a restart keeps the data)."""

    def launch() -> subprocess.Popen:
        try:
            return server.start().process
        except Exception:
            server.stop(kill=True)  # half-started: never two on one port
            raise

    return Child("redis", launch, halt=lambda _process: server.stop())


def start_redis(settings: Settings) -> tuple[EmbeddedRedis | None, Settings]:
    if settings.redis_url:
        return None, settings
    port = settings.embedded_redis_port
    if _port_taken(port):
        port = free_port()
        print(f"  port {settings.embedded_redis_port} is taken; embedded Redis uses {port} instead")
    # Its default user is the admin (password in the data dir, 0600); each child gets its own ACL user,
    # kept in the server's ACL file so a restarted Redis still knows them.
    passwords = acl.demo_passwords(settings.data_dir)
    server = EmbeddedRedis(settings.data_dir / "redis", port=port, persistent=True, own_session=True,
                           password=passwords[RedisUser.ADMIN]).start()
    acl.apply_users_at(server.url, settings.site, passwords)
    return server, replace(settings, redis_url=server.url)


def choose_app_port(settings: Settings) -> Settings:
    """gunicorn's port behind nginx: DISPATCH_APP_PORT, or a free one when that is taken."""
    if not _port_taken(settings.app_port):
        return settings
    port = free_port()
    print(f"  port {settings.app_port} is taken; the web app listens on 127.0.0.1:{port} behind nginx instead")
    return replace(settings, app_port=port)


def seed_zones(settings: Settings) -> None:
    """The demo flies over the scenario's zones: authorise them (only if no zone is stored yet)."""
    client = connect(settings.redis_url)
    try:
        seeded = seed_demo_zones(
            client, Keys(settings.site), clock.now_ms(), tz=settings.timezone, live_maxlen=settings.live_maxlen
        )
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
        code = accounts.issue_patrol_code(
            client, keys, patrol_id=patrol_id, issued_by=DEMO_STAFF[0][0], ttl_s=settings.patrol_code_hours * 3600
        )
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


def _port_taken(port: int, host: str = "127.0.0.1") -> bool:
    """Something already answers there (a wildcard address is probed on loopback)."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host.strip("[]"), host.strip("[]"))
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _web_ready(settings: Settings) -> bool:
    try:
        with urllib.request.urlopen(f"{_base_url(settings)}/healthz", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def _base_url(settings: Settings) -> str:
    host = f"[{settings.web_host}]" if ":" in settings.web_host else settings.web_host
    return f"http://{host}:{settings.web_port}"


def _banner(settings: Settings, demo_accounts: list[tuple[str, str, str]], running: list[Child]) -> str:
    url = f"{_base_url(settings)}/"
    pids = ", ".join(f"{child.name} {child.process.pid}" for child in running if child.process)
    return (
        f"\n  Supervisor screen: {url}\n  Snapshot API:      {url}api/snapshot\n"
        f"  Staff sign-in:     {url}login\n  Patrol sign-in:    {url}login/patrol\n"
        f"{demo_banner(demo_accounts)}"
        f"  Processes (pid): {pids}\n"
        f"  A process that exits is restarted (after {RESTART_BASE_S:g} s, doubling to {RESTART_CAP_S:g} s "
        f"while it keeps failing).\n"
        f"  Site: {settings.site}. Press Ctrl-C to stop.\n"
    )


def _refuse(settings: Settings) -> str | None:
    """Why the demo cannot start at all, or None."""
    if settings.production:
        return (
            "`make run` is the demo (simulator, demo accounts printed in clear) and is refused with "
            "DISPATCH_ENV=production; run the Procfile's processes instead"
        )
    if _port_taken(settings.web_port, settings.web_host):
        return f"port {settings.web_port} is taken: stop what uses it or set DISPATCH_WEB_PORT"
    try:
        nginx_binary(settings.nginx)
    except ProxyError as error:
        return str(error)
    return None


def main() -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"patrol dispatch: {error}", file=sys.stderr)
        return 2
    refusal = _refuse(settings)
    if refusal:
        print(f"patrol dispatch: {refusal}", file=sys.stderr)
        return 2
    print("Patrol dispatch: starting the demo", flush=True)
    server, settings = start_redis(settings)
    redis = redis_child(server) if server else None
    running: list[Child] = []
    try:
        if redis:
            print(f"  embedded Redis: {acl.redacted_url(server.url)} (data in {server.data_dir.resolve()}; "
                  f"one ACL user per process, passwords in {settings.data_dir.resolve() / acl.PASSWORDS_FILE})")
            redis.process, redis.started_at = server.process, time.monotonic()
        settings = choose_app_port(settings)
        seed_zones(settings)
        demo_accounts = create_demo_accounts(settings)
        stop = _stop_on_signals()
        redis_passwords = acl.demo_passwords(settings.data_dir) if server else None
        for child in children(settings, redis_passwords, mavlink_port=demo_mavlink_port(settings)):
            child.start(time.monotonic())
            running.append(child)
        everything = [redis, *running] if redis else running
        supervise(
            everything,
            stop,
            ready=lambda: _web_ready(settings),
            announce=lambda: print(_banner(settings, demo_accounts, everything), flush=True),
        )
        print("\nPatrol dispatch: stopping", flush=True)
        return 0
    finally:
        for child in reversed(running):
            child.stop()
        if redis:
            redis.stop()


def _stop_on_signals() -> Callable[[], bool]:
    """Ctrl-C and SIGTERM ask the supervisor to stop (it then stops every process, Redis last)."""
    asked = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: asked.append(True))
    return lambda: bool(asked)


def supervise(
    processes: list[Child],
    stop_requested: Callable[[], bool],
    *,
    ready: Callable[[], bool],
    announce: Callable[[], None],
) -> None:
    """Until asked to stop: restart what exits; print the banner once the web app answers (and say so
    if it still does not after READY_WARNING_S: the messages above tell why)."""
    announced = warned = False
    started = next_probe = time.monotonic()
    while not stop_requested():
        now = time.monotonic()
        for child in processes:
            child.check(now)
        if not announced and now >= next_probe:
            announced = ready()
            if announced:
                announce()
            elif not warned and now - started > READY_WARNING_S:
                warned = True
                say(f"the web app does not answer after {READY_WARNING_S:g} s (see the messages above); still trying")
            next_probe = now + 0.5
        time.sleep(LOOP_S)
