"""Issue 10, defect 12: the demo (`python app.py`) supervises its processes.

The real launcher, with its embedded Redis, nginx, gunicorn and every worker, on free ports and its
own data folder. Killing ingest or Redis used to stop the whole demo or leave /healthz 503 forever:
now each comes back (with backoff) and the demo goes on; Ctrl-C stops every process, Redis last.
The tests run in order on one launcher (starting one costs about 10 s); the last one stops it.
"""

from __future__ import annotations

import os
import re
import signal
import sys
from pathlib import Path

import pytest

from dispatch.store import acl
from dispatch.domain.acl import RedisUser
from dispatch.keys import Keys
from dispatch.store.connection import connect
from dispatch.store.embedded import free_port
from tests.support.processes import Service, wait_until
from tests.support.served import status

SITE = "rennes"
# "bridge": issue 13, the MAVLink bridge the simulator's DR-01 goes through.
NAMES = ("redis", "ingest", "watch", "gateway", "retention", "web", "proxy", "bridge", "simulator")


class Demo:
    def __init__(self, service: Service, web_port: int, redis_port: int, data_dir: Path):
        self.service = service
        self.url = f"http://127.0.0.1:{web_port}"
        self.redis_port = redis_port
        self.data_dir = data_dir

    @property
    def redis_url(self) -> str:
        """The embedded Redis's default user, behind the demo's admin password (made at the first start)."""
        return f"redis://:{acl.demo_passwords(self.data_dir)[RedisUser.ADMIN]}@127.0.0.1:{self.redis_port}/0"

    def pids(self) -> dict[str, int]:
        """Each process's current pid: the banner's, then any restart's."""
        output = self.service.output()
        banner = re.search(r"Processes \(pid\): (.*)", output)
        pids = {name: int(pid) for name, pid in re.findall(r"(\w+) (\d+)", banner.group(1))} if banner else {}
        for name, pid in re.findall(r"patrol dispatch: (\w+) restarted \(pid (\d+)", output):
            pids[name] = int(pid)
        return pids

    def accepted(self) -> int:
        client = connect(self.redis_url)
        try:
            return int(client.hget(Keys(SITE).stats, "accepted:telemetry") or 0)
        finally:
            client.close()

    def healthy(self) -> bool:
        return status(f"{self.url}/healthz", timeout=1) == 200


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _group_members(pgid: int) -> list[int]:
    """Live processes whose process group is `pgid` (a child's workers: gunicorn's, nginx's)."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(entry.name))
    return members


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    web_port, redis_port, gateway_port, app_port = (free_port() for _ in range(4))
    data_dir = tmp_path_factory.mktemp("demo") / "var"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DISPATCH_", "REDIS_URL"))}
    env.update(
        {
            "DISPATCH_DATA_DIR": str(data_dir),
            "DISPATCH_WEB_PORT": str(web_port),
            "DISPATCH_APP_PORT": str(app_port),
            "DISPATCH_EMBEDDED_REDIS_PORT": str(redis_port),
            "DISPATCH_GATEWAY_PORT": str(gateway_port),
            "DISPATCH_ALLOWED_ORIGINS": f"http://127.0.0.1:{web_port}",
            "DISPATCH_TILE_URL": "",
            "DISPATCH_SIM_PATROLS": "4",
            "DISPATCH_SIM_DRONES": "2",
            "PYTHONUNBUFFERED": "1",
        }
    )
    service = Service("launcher", [sys.executable, "app.py"], env).start()
    started = Demo(service, web_port, redis_port, data_dir)
    try:
        wait_until(
            lambda: not service.running or "Press Ctrl-C to stop" in service.output(),
            timeout=90,
            what="the demo's banner",
        )
        assert service.running, service.output()
        assert set(started.pids()) == set(NAMES), service.output()
        yield started
    finally:
        if service.running:
            service.signal(signal.SIGINT)
        service.stop(timeout=40)
        for pid in started.pids().values():  # never leave a process behind, whatever failed
            for member in _group_members(pid):
                os.kill(member, signal.SIGKILL)


@pytest.mark.timeout(90)
def test_each_child_signs_in_to_redis_as_its_own_acl_user(demo):
    """Issue 10, defect 8: the demo runs with ACLs on. Nobody gets in without a password; each child's
    connections are its role's user; the proxy has no REDIS_URL at all."""
    wait_until(lambda: demo.accepted() > 0, timeout=30, what="the simulator's telemetry to be ingested")
    anonymous = connect(f"redis://127.0.0.1:{demo.redis_port}/0")
    with pytest.raises(Exception, match="(?i)auth"):
        anonymous.ping()
    anonymous.close()
    client = connect(demo.redis_url)
    try:
        wanted = {f"{SITE}.{name}" for name in ("ingest", "watch", "gateway", "retention", "web", "simulator",
                                                 "bridge")}
        wait_until(lambda: wanted <= {c["user"] for c in client.client_list()}, timeout=30,
                   what=f"every child connected as its user\n{client.client_list()}")
        users = {c["user"] for c in client.client_list()}
        assert users <= wanted | {"default"}, users  # default: only this test's own connection
        assert not client.execute_command("ACL", "LOG"), "a child was refused by its ACL user"
    finally:
        client.close()
    proxy_env = Path(f"/proc/{demo.pids()['proxy']}/environ").read_bytes().split(b"\0")
    assert not [item for item in proxy_env if item.startswith(b"REDIS_URL=")]


@pytest.mark.timeout(90)
def test_a_killed_ingest_worker_is_restarted_and_the_demo_goes_on(demo):
    wait_until(lambda: demo.accepted() > 0, timeout=30, what="the simulator's telemetry to be ingested")
    old = demo.pids()["ingest"]
    os.kill(old, signal.SIGKILL)
    wait_until(lambda: demo.pids()["ingest"] != old, timeout=20, what=f"ingest restarted\n{demo.service.output()}")
    assert re.search(
        r"ingest exited \(killed by SIGKILL\) after [\d.]+ s; restarting in [\d.]+ s", demo.service.output()
    )
    assert _alive(demo.pids()["ingest"]) and demo.service.running
    before = demo.accepted()
    wait_until(lambda: demo.accepted() > before, timeout=30, what="telemetry ingested by the new worker")
    assert demo.healthy()


@pytest.mark.timeout(90)
def test_a_killed_embedded_redis_is_restarted_and_healthz_recovers(demo):
    assert demo.healthy()
    old = demo.pids()["redis"]
    os.kill(old, signal.SIGKILL)
    wait_until(lambda: demo.pids()["redis"] != old, timeout=20, what=f"redis restarted\n{demo.service.output()}")
    assert "redis exited (killed by SIGKILL)" in demo.service.output()
    wait_until(demo.healthy, timeout=30, what=f"/healthz 200 again\n{demo.service.output()}")
    before = demo.accepted()  # the data survived (append-only file) and ingest goes on
    assert before > 0
    wait_until(lambda: demo.accepted() > before, timeout=30, what="telemetry ingested after Redis came back")


@pytest.mark.timeout(90)
def test_sigint_stops_every_process_and_redis_last(demo):
    pids = demo.pids()
    groups = {name: _group_members(pid) for name, pid in pids.items()}
    assert all(groups.values()), groups
    demo.service.signal(signal.SIGINT)
    demo.service.process.wait(timeout=60)
    output = demo.service.output()
    assert demo.service.process.returncode == 0, output
    stopped = re.findall(r"patrol dispatch: stopped (\w+)", output)
    assert stopped == list(reversed(NAMES)), output  # reverse start order: the proxy before the app, Redis last
    for name, members in groups.items():
        assert not [pid for pid in members if _alive(pid)], f"{name} left processes behind"
