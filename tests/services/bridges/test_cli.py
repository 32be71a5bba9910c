"""`python -m dispatch bridge <kind>`: every kind explains itself; a wrong kind or option is refused readably."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dispatch.services.bridges import BRIDGES
from tests.support.processes import ROOT


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dispatch", "bridge", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})


def test_without_a_kind_it_lists_every_kind():
    done = run()
    assert done.returncode == 0
    for kind in BRIDGES:
        assert f"  {kind} " in done.stdout


@pytest.mark.parametrize("kind", ["mavlink", "dji"])
def test_each_kind_explains_its_options(kind):
    done = run(kind, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: python -m dispatch bridge {kind}")
    assert "--drone-ids FILE" in done.stdout and "--max-rate HZ" in done.stdout


def test_an_unknown_kind_is_refused_readably():
    done = run("mavlnk")
    assert done.returncode == 2
    assert "no bridge called 'mavlnk'" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("args, words", [
    (["mavlink"], "the following arguments are required: --listen"),
    (["dji", "--mqtt", "http://broker:1883"], "expected mqtt://HOST:PORT"),
    (["mavlink", "--listen", "udpin:127.0.0.1:9", "--max-rate", "0.5"], "at least 1 message a second"),
    (["mavlink", "--listen", "udpin:127.0.0.1:9", "--drone-ids", "/nonexistent/ids.csv"], "No such file"),
])
def test_bad_options_stop_the_bridge_saying_why(args, words):
    done = subprocess.run([sys.executable, "-m", "dispatch", "bridge", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env={"PATH": "/usr/bin:/bin", "REDIS_URL": "redis://127.0.0.1:9/0"})
    assert done.returncode == 2
    assert words in done.stderr and "Traceback" not in done.stderr
