"""nginx's configuration as dispatch/services/proxy.py writes it (pure: no nginx started; see
tests/services/test_proxy_served.py and test_slow_clients.py for the real one)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dispatch.services import proxy
from dispatch.web import app as web
from dispatch.settings import Settings

FOLDER = Path("/srv/dispatch/var/nginx")


def _conf(**changes) -> str:
    values = {"listen_host": "127.0.0.1", "listen_port": 8050, "app_port": 8051, "folder": FOLDER, **changes}
    return proxy.render(proxy.ProxyConfig(**values))


def test_the_body_limit_is_the_apps():
    assert proxy.MAX_BODY_BYTES == web.MAX_REQUEST_BYTES
    assert f"client_max_body_size {web.MAX_REQUEST_BYTES};" in _conf()


def test_it_runs_in_the_foreground_and_writes_only_in_its_folder():
    conf = _conf()
    assert "daemon off;" in conf
    paths = re.findall(r'"(/[^"]*)"', conf)
    assert paths and all(path.startswith(str(FOLDER)) for path in paths)
    for directive in ("pid", "error_log", *(f"{name}_temp_path" for name in proxy.TEMP_FOLDERS)):
        assert re.search(rf'^\s*{directive} "{FOLDER}', conf, re.M), directive
    assert "/etc/nginx" not in conf and "include" not in conf


def test_it_forwards_to_gunicorn_on_loopback_and_overwrites_x_forwarded_for():
    conf = _conf(app_port=9123)
    assert "proxy_pass http://127.0.0.1:9123;" in conf
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in conf  # never $proxy_add_x_forwarded_for
    assert "proxy_request_buffering on;" in conf and "proxy_buffering on;" in conf


def test_headers_must_arrive_within_the_header_timeout():
    assert f"client_header_timeout {proxy.HEADER_TIMEOUT_S}s;" in _conf()


@pytest.mark.parametrize(
    "host, listen",
    [("127.0.0.1", "127.0.0.1:8050"), ("0.0.0.0", "0.0.0.0:8050"), ("::1", "[::1]:8050"), ("[::]", "[::]:8050")],
)
def test_listen_addresses(host, listen):
    assert f"listen {listen} " in _conf(listen_host=host)


@pytest.mark.parametrize("folder", ['/tmp/a"b', "/tmp/$x", "/tmp/a;b", "/tmp/a\nb"])
def test_a_folder_nginx_would_misread_is_refused(folder):
    with pytest.raises(proxy.ProxyError, match="DISPATCH_DATA_DIR"):
        _conf(folder=Path(folder))


def test_file_limits_stay_within_the_hard_limit():
    assert proxy.file_limits(1024) == (1024, 512)
    assert proxy.file_limits(10**6) == (proxy.WANTED_FILES, proxy.WANTED_FILES // 2)


def test_the_user_line_comes_first_when_given():
    assert "user alice staff;\npid" in proxy.render(
        proxy.ProxyConfig("127.0.0.1", 1, 2, FOLDER), user_line="user alice staff;\n"
    )


def test_settings_give_the_public_address_the_app_port_and_a_folder_in_the_data_dir(tmp_path):
    settings = Settings.from_env(
        {
            "DISPATCH_WEB_HOST": "0.0.0.0",
            "DISPATCH_WEB_PORT": "80",
            "DISPATCH_APP_PORT": "9000",
            "DISPATCH_DATA_DIR": str(tmp_path),
        }
    )
    config = proxy.ProxyConfig.from_settings(settings)
    assert (config.listen_host, config.listen_port, config.app_port) == ("0.0.0.0", 80, 9000)
    assert config.folder == tmp_path.resolve() / "nginx"


def test_a_missing_nginx_says_how_to_get_it():
    with pytest.raises(proxy.ProxyError, match="apt-get install nginx"):
        proxy.nginx_binary("/nonexistent/nginx")
