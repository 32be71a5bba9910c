"""Real processes for tests: the product's workers, started as a user would start them.

Integration and browser tests run `python -m dispatch.<module>` in a child
process with the test's settings as environment, so signals (SIGKILL included),
restarts and logs behave as in production.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from dispatch.store import acl
from dispatch.domain.acl import RedisUser
from dispatch.settings import Settings

ROOT = Path(__file__).resolve().parent.parent.parent


def wait_until(predicate: Callable[[], object], timeout: float = 10.0, interval: float = 0.05, what: str = "condition"):
    """Poll `predicate` until it returns something truthy; fail with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex((host, port)) == 0


class Service:
    """One child process with its output captured to a file (read it when a test fails)."""

    def __init__(self, name: str, args: list[str], env: dict[str, str]):
        self.name = name
        self.args = args
        self.env = env
        self.process: subprocess.Popen | None = None
        self.log = tempfile.NamedTemporaryFile(prefix=f"{name}-", suffix=".log", delete=False)

    def start(self) -> "Service":
        self.process = subprocess.Popen(
            self.args, env=self.env, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT
        )
        return self

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, signum: int) -> None:
        if self.running:
            self.process.send_signal(signum)

    def kill(self) -> None:
        """SIGKILL: no cleanup, no goodbye, as when a machine dies."""
        self.signal(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=10)

    def stop(self, timeout: float = 10.0) -> int | None:
        if self.process is None:
            return None
        if self.running:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")


# The test session's Redis passwords, one per role: every process a test starts signs in as its role
# (issue 10), as the launcher's children do; tests themselves keep the default user to look at everything.
ACL_PASSWORDS = acl.generate_passwords()


def role_url(settings: Settings, role: RedisUser | str) -> str:
    """REDIS_URL of `role` on the test's server for the test's site, whose ACL users are created (or
    replaced, and saved to the server's ACL file so they survive a restart) first. Sites differ per
    test, so users are made on demand here rather than once per session."""
    acl.apply_users_at(settings.redis_url, settings.site, ACL_PASSWORDS)
    return acl.redis_url_for(role, settings.redis_url, settings.site, ACL_PASSWORDS)


def python_module(name: str, module: str, settings: Settings, *args: str, role: RedisUser | None = None,
                  **extra_env: str) -> Service:
    """`python -m module args` with `settings` as its environment, signed in to Redis as the module's role
    (`role`, else by module: dispatch.store.acl.ROLE_OF_MODULE; none for the proxy) unless `extra_env` sets
    REDIS_URL itself."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DISPATCH_", "REDIS_URL"))}
    env.update(settings.as_env())
    role = role or acl.ROLE_OF_MODULE.get(module)
    if role is not None and settings.redis_url:
        env["REDIS_URL"] = role_url(settings, role)
    elif module in acl.WITHOUT_REDIS:
        env.pop("REDIS_URL", None)  # the nginx proxy: as the launcher starts it, with no way into Redis
    env.update(extra_env)
    env["PYTHONUNBUFFERED"] = "1"
    return Service(name, [sys.executable, "-m", module, *args], env)
