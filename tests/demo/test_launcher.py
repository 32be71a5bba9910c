"""What the demo launcher starts, and with which environment (no process started here; the real
launcher is driven in tests/demo/test_launcher_run.py)."""

from __future__ import annotations

from pathlib import Path

from dispatch.demo.launcher import child_commands, child_env, children
from dispatch.settings import Settings

ROOT = Path(__file__).resolve().parent.parent.parent


def _args(name: str, settings: Settings) -> list[str]:
    return dict(child_commands(settings))[name]


def test_gunicorn_listens_on_loopback_only_behind_nginx():
    settings = Settings.from_env({"DISPATCH_WEB_HOST": "0.0.0.0", "DISPATCH_APP_PORT": "9051"})
    web = _args("web", settings)
    assert web[web.index("--bind") + 1] == "127.0.0.1:9051"
    assert _args("proxy", settings)[-3:] == ["-m", "dispatch", "proxy"]


def test_only_the_web_app_trusts_the_proxys_forwarded_headers():
    settings = Settings()
    assert child_env(settings, "web")["DISPATCH_BEHIND_PROXY"] == "1"
    assert Settings.from_env(child_env(settings, "web")).behind_proxy
    assert not Settings.from_env(child_env(settings, "ingest")).behind_proxy


def test_every_child_gets_the_settings():
    settings = Settings.from_env({"DISPATCH_SITE": "lyon", "REDIS_URL": "redis://127.0.0.1:7000/0"})
    for name, _ in child_commands(settings):
        env = child_env(settings, name)
        assert (env["DISPATCH_SITE"], env["REDIS_URL"], env["PYTHONUNBUFFERED"]) == ("lyon", settings.redis_url, "1")


def test_start_order_puts_the_proxy_after_the_web_app_and_the_simulator_last():
    names = [child.name for child in children(Settings())]
    assert names == ["ingest", "watch", "gateway", "retention", "web", "proxy", "simulator"]


def test_the_procfile_serves_gunicorn_on_loopback_behind_the_proxy():
    lines = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    assert "--bind 127.0.0.1:" in lines["web"] and "0.0.0.0" not in lines["web"]
    assert "DISPATCH_BEHIND_PROXY=1" in lines["web"]
    assert "python -m dispatch proxy" in lines["proxy"]


def test_each_procfile_process_but_the_proxy_takes_its_own_redis_url():
    """Production: each process signs in as its own ACL user (REDIS_URL_<ROLE>), falling back to REDIS_URL."""
    lines = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    roles = {"web": "WEB", "ingest": "INGEST", "watch": "WATCH", "gateway": "GATEWAY", "retention": "RETENTION",
             "sim": "SIMULATOR"}
    for name, role in roles.items():
        assert f"REDIS_URL=${{REDIS_URL_{role}:-$REDIS_URL}}" in lines[name], name
    assert "REDIS_URL" not in lines["proxy"]


def test_with_the_embedded_redis_each_child_gets_its_own_redis_user_and_the_proxy_none():
    from urllib.parse import urlsplit

    from dispatch.store import acl

    settings = Settings.from_env({"DISPATCH_SITE": "lyon", "REDIS_URL": "redis://:admin@127.0.0.1:7000/0"})
    passwords = acl.generate_passwords()
    for name, _ in child_commands(settings):
        url = child_env(settings, name, passwords).get("REDIS_URL")
        if name == "proxy":
            assert url is None
        else:
            parts = urlsplit(url)
            assert (parts.username, parts.port) == (f"lyon.{acl.ROLE_OF_PROCESS[name].value}", 7000), name
    assert child_env(settings, "ingest")["REDIS_URL"] == settings.redis_url  # an external Redis: as given


# issue 14 (replay-workers)
def test_the_web_worker_count_is_a_setting_in_the_demo_and_the_procfile():
    """Replay windows are shared by a host's workers (web/replay_cache.py), so any count works."""
    web = _args("web", Settings(web_workers=3))
    assert web[web.index("--workers") + 1] == "3"
    default = _args("web", Settings())
    assert default[default.index("--workers") + 1] == str(Settings().web_workers)
    lines = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    assert f"--workers ${{DISPATCH_WEB_WORKERS:-{Settings().web_workers}}}" in lines["web"]
