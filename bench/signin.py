"""Sign-in and session costs through the real web app, on a private redis-server: prints medians.

    .venv/bin/python bench/signin.py [--runs 5] [--n 20]

1. POST /login accepted, refused for a wrong password, and refused for an unknown code. The three should
   cost the same (one scrypt check each): otherwise the time would tell which codes exist. Printed with
   the ratio of each refusal to the accepted sign-in.
2. The session lookup every guarded request makes (accounts.get_session), and a whole signed-in
   GET /api/snapshot of an empty picture for scale.
3. The throttle (issue 10): the cost of its atomic gate step (one Lua call per attempt), a held-back
   answer (429) for an existing and for an unknown id (they must cost the same too), and, computed
   from the default settings, how many guesses an attacker gets per account in 12 h (a patrol code's
   life) when they try as soon as they may, and the longest the rightful user can be made to wait.

Flask's test client calls the app in process: no HTTP server, so the figures are the app's own cost.
Each request comes from its own client address, so the per-address limit never trips; the free
failures per account are raised to 1,000 for parts 1 and 2, so no attempt waits.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dispatch.domain.auth import Throttle  # noqa: E402
from dispatch.keys import Keys  # noqa: E402
from dispatch.settings import Settings  # noqa: E402
from dispatch.store import accounts  # noqa: E402
from dispatch.store.connection import connect  # noqa: E402
from dispatch.store.embedded import EmbeddedRedis  # noqa: E402
from dispatch.web.app import create_app  # noqa: E402
from dispatch.web.auth import SESSION_COOKIE  # noqa: E402

PASSWORD = "bench-password-1234"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def sign_in_once(client, user_id: str, password: str, address: str) -> tuple[float, int]:
    """(seconds for the POST alone, status); the form's GET is not timed."""
    page = client.get("/login", environ_overrides={"REMOTE_ADDR": address})
    token = TOKEN.search(page.get_data(as_text=True)).group(1)
    start = time.perf_counter()
    response = client.post("/login", data={"user_id": user_id, "password": password, "csrf_token": token},
                           environ_overrides={"REMOTE_ADDR": address})
    return time.perf_counter() - start, response.status_code


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--n", type=int, default=20, help="sign-ins of each kind per run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(Path(tmp), persistent=False).start()
        try:
            settings = Settings.from_env({"REDIS_URL": server.url, "DISPATCH_SITE": "bench-signin",
                                          "DISPATCH_DATA_DIR": str(Path(tmp) / "var"),
                                          "DISPATCH_SIGNIN_MAX_FAILURES": "1000"})
            redis_client = connect(server.url)
            keys = Keys(settings.site)
            accounts.create_account(redis_client, keys, user_id="SUP-1", role="supervisor", password=PASSWORD)
            app = create_app(settings)
            run(app, redis_client, keys, args.runs, args.n)
            throttle_costs(app, redis_client, keys, args.runs)
        finally:
            server.stop()


def run(app, redis_client, keys: Keys, runs: int, n: int) -> None:
    kinds = {"accepted": ("SUP-1", PASSWORD, 303), "wrong password": ("SUP-1", "not-the-password", 401),
             "unknown code": ("SUP-999", PASSWORD, 401)}
    per_run: dict[str, list[float]] = {kind: [] for kind in kinds}
    address = 0
    for _ in range(runs):
        samples: dict[str, list[float]] = {kind: [] for kind in kinds}
        for _ in range(n):
            for kind, (user_id, password, expected) in kinds.items():  # interleaved: drift hits all three
                address += 1
                client = app.server.test_client()
                seconds, status = sign_in_once(client, user_id, password, f"127.1.{address // 250}.{address % 250}")
                if status != expected:
                    raise SystemExit(f"{kind}: status {status}, expected {expected}")
                samples[kind].append(seconds)
        for kind in kinds:
            per_run[kind].append(median_ms(samples[kind]))
    print(f"1. POST /login, {n} of each kind per run, {runs} runs (median of run medians, range)")
    accepted = statistics.median(per_run["accepted"])
    for kind, medians in per_run.items():
        ratio = statistics.median(medians) / accepted
        print(f"   {kind:15s} {statistics.median(medians):7.1f} ms  ({min(medians):.1f}-{max(medians):.1f})"
              f"  ratio to accepted {ratio:.2f}")

    session_id, _ = accounts.create_session(redis_client, keys, user_id="SUP-1", role="supervisor")
    signed = app.server.test_client()
    signed.set_cookie(SESSION_COOKIE, session_id, domain="localhost")
    lookups: dict[str, list[float]] = {"lookup": [], "snapshot": []}
    for _ in range(runs):
        samples: dict[str, list[float]] = {label: [] for label in lookups}
        for _ in range(200):
            start = time.perf_counter()
            if accounts.get_session(redis_client, keys, session_id) is None:
                raise SystemExit("the session is gone")
            samples["lookup"].append(time.perf_counter() - start)
            start = time.perf_counter()
            status = signed.get("/api/snapshot").status_code
            samples["snapshot"].append(time.perf_counter() - start)
            if status != 200:
                raise SystemExit(f"GET /api/snapshot: status {status}, expected 200")
        for label in lookups:
            lookups[label].append(median_ms(samples[label]))
    lookup, snapshot = (statistics.median(lookups[label]) for label in ("lookup", "snapshot"))
    print(f"2. session lookup (accounts.get_session, what the guard reads), 200 per run, {runs} runs: "
          f"{lookup * 1000:.0f} µs; a whole guarded GET /api/snapshot (empty picture): {snapshot * 1000:.0f} µs")


def throttle_costs(app, redis_client, keys: Keys, runs: int) -> None:
    throttle = Throttle()  # the defaults
    gates = []
    for run_number in range(runs):
        samples = []
        for n in range(200):
            attempt = accounts.attempt_for(f"127.2.{run_number}.{n % 250}", f"SUP-{n}")
            start = time.perf_counter()
            accounts.gate(redis_client, keys, attempt, throttle)
            samples.append(time.perf_counter() - start)
            accounts.succeeded(redis_client, keys, attempt)
        gates.append(median_ms(samples))
    hour = Throttle(free_failures=0, first_delay_ms=3_600_000, max_delay_ms=3_600_000)
    for user_id in ("SUP-1", "SUP-998"):  # one failure each under this rule: an hour's wait
        accounts.gate(redis_client, keys, accounts.attempt_for("127.3.0.1", user_id), hour)
    held: dict[str, list[float]] = {"SUP-1": [], "SUP-998": []}
    for _ in range(runs):
        samples = {user_id: [] for user_id in held}
        for n in range(20):
            for user_id in held:
                seconds, status = sign_in_once(app.server.test_client(), user_id, PASSWORD, f"127.3.1.{n}")
                if status != 429:
                    raise SystemExit(f"held back: status {status}, expected 429")
                samples[user_id].append(seconds)
        for user_id in held:
            held[user_id].append(median_ms(samples[user_id]))
    known, unknown = (statistics.median(held[u]) for u in ("SUP-1", "SUP-998"))
    print(f"3. throttle gate (one Lua step), 200 per run, {runs} runs: {statistics.median(gates) * 1000:.0f} µs; "
          f"a held-back POST /login (429): existing id {known:.1f} ms, unknown id {unknown:.1f} ms "
          f"(ratio {unknown / known:.2f})")
    guesses = guesses_within(throttle, 12 * 3_600_000)
    print(f"   defaults: {throttle.free_failures} free failures, then 1 s doubling to "
          f"{throttle.max_delay_ms // 60_000} min: at most {guesses} guesses per account in 12 h "
          f"(1 in {10**6 // guesses:,} for a 6-digit patrol code); the rightful user on an unknown device waits "
          f"at most {throttle.max_delay_ms // 60_000} min, on a known device not at all; per address "
          f"{throttle.address_max_failures} failures per {throttle.address_window_ms // 60_000} min = "
          f"{throttle.address_max_failures * 3_600_000 // throttle.address_window_ms} sprayed guesses per hour")


def guesses_within(throttle: Throttle, window_ms: int) -> int:
    """Attempts an attacker gets on one account in `window_ms`, trying as soon as each wait ends."""
    now, failures = 0, 0
    while now <= window_ms:
        failures += 1
        now += max(1, throttle.delay_ms(failures))
    return failures


if __name__ == "__main__":
    main()
