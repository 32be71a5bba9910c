"""The web app served as the demo serves it, for tests and benchmarks: gunicorn on 127.0.0.1 behind a
private nginx (`python -m dispatch proxy`, the way tests start Redis: own config, own files, free
ports), or gunicorn alone (the old way, to compare).
"""

from __future__ import annotations

import dataclasses
import urllib.error
import urllib.request
from pathlib import Path

from dispatch.settings import Settings
from dispatch.store.embedded import free_port
from tests.support.processes import Service, python_module, wait_until

GUNICORN_THREADS = "8"  # as `make run` and the Procfile serve it


@dataclasses.dataclass
class Served:
    """A running web app: its base URL, its settings and its processes (stop() stops them all)."""

    url: str
    settings: Settings
    services: list[Service]

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()

    def logs(self) -> str:
        return "\n".join(f"--- {s.name}\n{s.output()[-5_000:]}" for s in self.services)


def status(url: str, timeout: float = 2.0) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


# gunicorn's access log with the worker's pid first ("<1234> GET /api/replay/frame 200"): tests see which
# worker answered each request without the app telling anyone its pids.
PID_LOG = ("--access-logfile", "-", "--access-logformat", "%(p)s %(m)s %(U)s %(s)s")


def _gunicorn(settings: Settings, bind: str, *, workers: int = 1, log_pids: bool = False,
              **extra_env: str) -> Service:
    return python_module(
        "web",
        "gunicorn",
        settings,
        "app:server",
        "--bind",
        bind,
        "--workers",
        str(workers),
        "--threads",
        GUNICORN_THREADS,
        "--graceful-timeout",
        "3",
        "--no-control-socket",
        *(PID_LOG if log_pids else ()),
        DISPATCH_TILE_URL="",
        **extra_env,
    )


def _wait_healthy(served: Served) -> Served:
    def healthy():
        for service in served.services:
            if not service.running:
                raise AssertionError(f"{service.name} exited ({service.process.returncode}):\n{service.output()}")
        return status(f"{served.url}/healthz") == 200

    try:
        wait_until(healthy, timeout=45, interval=0.1, what=f"{served.url}/healthz to answer 200")
    except BaseException:
        served.stop()
        raise
    return served


def behind_proxy(settings: Settings, data_dir: Path, *, workers: int = 1, log_pids: bool = False) -> Served:
    """gunicorn (`workers` processes) on 127.0.0.1:<free port>, nginx on 127.0.0.1:<another>, files under
    `data_dir`."""
    settings = dataclasses.replace(
        settings, web_host="127.0.0.1", web_port=free_port(), app_port=free_port(), data_dir=data_dir
    )
    web = _gunicorn(settings, f"127.0.0.1:{settings.app_port}", workers=workers, log_pids=log_pids,
                    DISPATCH_BEHIND_PROXY="1").start()
    proxy = python_module("proxy", "dispatch.services.proxy", settings).start()
    return _wait_healthy(Served(f"http://127.0.0.1:{settings.web_port}", settings, [web, proxy]))


def bare_gunicorn(settings: Settings, *, workers: int = 1, log_pids: bool = False) -> Served:
    """gunicorn alone (`workers` processes), as the Procfile served the app before issue 10."""
    port = free_port()
    web = _gunicorn(settings, f"127.0.0.1:{port}", workers=workers, log_pids=log_pids).start()
    return _wait_healthy(Served(f"http://127.0.0.1:{port}", settings, [web]))
