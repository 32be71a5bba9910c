"""Issue 10, defect 2: slow HTTP clients must not take the web app down.

gunicorn's threaded worker gives a thread to each connection while it reads the headers: 8 clients
sending theirs one byte every 2 s held all 8 threads and /healthz stopped answering. Served as the demo
serves it now (nginx in front, dispatch/services/proxy.py), 500 such clients leave /healthz answering with a
p99 under 200 ms. The second test keeps the measurement honest: the same harness does see the old
serving fail, with only 8 slow clients.
"""

from __future__ import annotations

import pytest

from tests.support import served
from tests.support.slow_clients import measure

P99_BOUND_MS = 200  # the bound


@pytest.fixture
def behind_proxy(settings, tmp_path):
    stack = served.behind_proxy(settings, tmp_path / "var")
    yield stack
    stack.stop()


@pytest.fixture
def bare_gunicorn(settings):
    stack = served.bare_gunicorn(settings)
    yield stack
    stack.stop()


@pytest.mark.timeout(120)
def test_healthz_answers_within_200_ms_at_p99_while_500_slow_clients_hold_connections(behind_proxy):
    figures = measure("127.0.0.1", behind_proxy.port, slow=500)
    print(figures.summary())
    assert figures.slow_opened >= 500
    assert len(figures.times_s) >= 100, figures.summary()
    assert figures.timeouts == 0 and figures.failures == 0, figures.summary()
    assert figures.percentile_ms(99) < P99_BOUND_MS, f"{figures.summary()}\n{behind_proxy.logs()}"
    for service in behind_proxy.services:
        assert service.running, service.output()


@pytest.mark.timeout(60)
def test_the_same_measure_sees_bare_gunicorn_starve_with_8_slow_clients(bare_gunicorn):
    figures = measure("127.0.0.1", bare_gunicorn.port, slow=8, probes=20, timeout_s=1.0, measure_s=4.0)
    print(figures.summary())
    assert figures.timeouts > 0
    assert figures.percentile_ms(99) >= P99_BOUND_MS
