"""`python -m dispatch <process>` (dispatch/__main__.py): every process by one name, each with --help."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dispatch.__main__ import PROCESSES

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dispatch", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)


def test_without_a_process_it_lists_every_process():
    done = run()
    assert done.returncode == 0
    for name in ("ingest", "watch", "gateway", "retention", "proxy", "simulator"):
        assert f"  {name} " in done.stdout


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_each_process_explains_itself_and_starts_nothing(name):
    done = run(name, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: python -m dispatch {name}")


def test_an_unknown_process_is_refused_readably():
    done = run("ingets")
    assert done.returncode == 2
    assert "no process called 'ingets'" in done.stderr and "usage: python -m dispatch" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_procfile_runs_every_process_through_it():
    procfile = (ROOT / "Procfile").read_text()
    for name in ("proxy", "ingest", "watch", "gateway", "retention", "simulator"):
        assert f"python -m dispatch {name}" in procfile
