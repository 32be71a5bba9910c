"""The web app's front door: a private nginx that reads whole requests before gunicorn sees them.

Why: gunicorn's threaded worker gives a thread to each connection while it reads the request; eight
clients sending their headers a byte at a time hold eight threads and nothing else is answered, not
even /healthz. nginx reads thousands of connections on one event loop, passes a request on only once
it is complete (headers and body), and takes the answer at once, trickling it out to a slow reader
itself: gunicorn's threads only ever see whole requests from a fast local client.

`python -m dispatch proxy` writes its configuration under `DISPATCH_DATA_DIR/nginx/` and becomes
nginx (exec), in the foreground: the demo launcher and the Procfile's `proxy` line run it that way,
the tests too. It listens on DISPATCH_WEB_HOST:DISPATCH_WEB_PORT and forwards to gunicorn on
127.0.0.1:DISPATCH_APP_PORT. Pid file, logs and buffers stay in that folder; Debian's /etc/nginx is
neither read nor written, and nginx runs as the user who starts it.

Only the web app goes through it: the push gateway keeps its own port (an asyncio server, it is not
starved by slow clients, and the pages build its address from their own host name and that port).
"""

from __future__ import annotations

import grp
import os
import pwd
import resource
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from ..settings import Settings, SettingsError

# The web app refuses a body over 4 MiB (dispatch/web/app.py, MAX_REQUEST_BYTES); nginx refuses the same
# bodies before buffering them, with the same JSON answer.
MAX_BODY_BYTES = 4 * 1024 * 1024
# A request's headers must all arrive within this (nginx's timer is not reset by each byte).
HEADER_TIMEOUT_S = 10
# A body, or an answer being read, may pause this long between two reads or writes.
BODY_TIMEOUT_S = 30
# File descriptors nginx asks for (each proxied request takes two); bounded by the hard limit.
WANTED_FILES = 16_384
TEMP_FOLDERS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


class ProxyError(RuntimeError):
    """nginx cannot be started as configured; the message says what to do."""


@dataclass(frozen=True)
class ProxyConfig:
    listen_host: str
    listen_port: int
    app_port: int
    folder: Path  # absolute: pid file, logs, temp buffers, the generated nginx.conf

    @classmethod
    def from_settings(cls, settings: Settings) -> "ProxyConfig":
        return cls(settings.web_host, settings.web_port, settings.app_port, (settings.data_dir / "nginx").resolve())

    @property
    def conf_path(self) -> Path:
        return self.folder / "nginx.conf"

    @property
    def error_log(self) -> Path:
        return self.folder / "error.log"


def nginx_binary(configured: str = "") -> str:
    """DISPATCH_NGINX, else `nginx` on PATH, else Debian's /usr/sbin/nginx (not on a user's PATH)."""
    found = shutil.which(configured) if configured else shutil.which("nginx") or shutil.which("/usr/sbin/nginx")
    if not found:
        raise ProxyError(
            f"nginx is not installed ({configured or 'nginx'} not found): `make run` installs "
            "Debian's package (apt-get install nginx), or set DISPATCH_NGINX to its path"
        )
    return found


def _quoted(path: Path) -> str:
    text = str(path)
    if any(c in text for c in '"\\$;{}') or not text.isprintable():
        raise ProxyError(
            f"DISPATCH_DATA_DIR cannot hold nginx's files: {text!r} has a character nginx "
            "would misread (quote, backslash, $, ;, braces or a control character)"
        )
    return f'"{text}"'


def _listen(host: str, port: int) -> str:
    return f"[{host.strip('[]')}]:{port}" if ":" in host else f"{host}:{port}"


def file_limits(hard: int) -> tuple[int, int]:
    """(worker_rlimit_nofile, worker_connections) within the process's hard limit of open files."""
    files = WANTED_FILES if hard in (resource.RLIM_INFINITY, -1) else min(WANTED_FILES, hard)
    return files, max(256, files // 2)


def _user_line() -> str:
    """As root, nginx would hand its workers to `nobody`: keep the current user (who owns the folder)."""
    if os.geteuid() != 0:
        return ""  # nginx cannot switch users anyway, and warns if told to
    return f"user {pwd.getpwuid(os.geteuid()).pw_name} {grp.getgrgid(os.getegid()).gr_name};\n"


def render(config: ProxyConfig, *, user_line: str = "", hard_files: int = WANTED_FILES) -> str:
    """The whole nginx.conf. Pure but for the folder names it quotes."""
    folder = config.folder
    files, connections = file_limits(hard_files)
    temp = "\n".join(f"    {name}_temp_path {_quoted(folder / 'temp' / name)};" for name in TEMP_FOLDERS)
    megabytes = MAX_BODY_BYTES // (1024 * 1024)
    return f"""# Written by dispatch/services/proxy.py at every start: edit that file, not this one.
daemon off;
master_process on;
worker_processes 1;
{user_line}pid {_quoted(folder / "nginx.pid")};
error_log {_quoted(config.error_log)} warn;
worker_rlimit_nofile {files};

events {{
    worker_connections {connections};
}}

http {{
    server_tokens off;
    access_log off;
{temp}
    # Slow clients: headers complete within {HEADER_TIMEOUT_S} s, no pause over {BODY_TIMEOUT_S} s in a body or answer.
    client_header_timeout {HEADER_TIMEOUT_S}s;
    client_body_timeout {BODY_TIMEOUT_S}s;
    send_timeout {BODY_TIMEOUT_S}s;
    keepalive_timeout 30s;
    reset_timedout_connection on;
    client_max_body_size {MAX_BODY_BYTES};
    client_body_buffer_size 128k;

    server {{
        listen {_listen(config.listen_host, config.listen_port)} backlog=4096;

        location / {{
            proxy_pass http://127.0.0.1:{config.app_port};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            # Overwritten, never appended: the app (DISPATCH_BEHIND_PROXY) trusts exactly one hop.
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_request_buffering on;
            proxy_buffering on;
            proxy_connect_timeout 5s;
            proxy_read_timeout 60s;
        }}

        error_page 413 @too_large;
        location @too_large {{
            default_type application/json;
            add_header Cache-Control no-store always;
            add_header X-Content-Type-Options nosniff always;
            return 413 '{{"error":"request too large: at most {megabytes} MiB"}}';
        }}

        error_page 502 504 @app_down;
        location @app_down {{
            default_type text/plain;
            add_header Cache-Control no-store always;
            add_header X-Content-Type-Options nosniff always;
            return 502 'unavailable: the web app is not answering (restarting?)\\n';
        }}
    }}
}}
"""


def prepare(config: ProxyConfig) -> Path:
    """Create the folder and its temp folders, write nginx.conf; return its path."""
    for name in TEMP_FOLDERS:
        (config.folder / "temp" / name).mkdir(parents=True, exist_ok=True)
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    config.conf_path.write_text(render(config, user_line=_user_line(), hard_files=hard))
    return config.conf_path


def command(config: ProxyConfig, binary: str, *, test: bool = False) -> list[str]:
    """nginx's arguments: its prefix, our config, and our error log from the very first message
    (-e: otherwise nginx opens /var/log/nginx/error.log before reading the config)."""
    args = [binary, "-p", f"{config.folder}/", "-c", str(config.conf_path), "-e", str(config.error_log)]
    return args + ["-t", "-q"] if test else args


def main() -> int:
    try:
        settings = Settings.from_env()
        config = ProxyConfig.from_settings(settings)
        binary = nginx_binary(settings.nginx)
        prepare(config)
    except (SettingsError, ProxyError, OSError) as error:
        print(f"proxy: {error}", file=sys.stderr)
        return 2
    print(
        f"proxy: nginx on {_listen(config.listen_host, config.listen_port)} -> 127.0.0.1:{config.app_port} "
        f"(config and logs in {config.folder})",
        flush=True,
    )
    os.execv(binary, command(config, binary))
    return 1  # not reached: exec replaces this process


if __name__ == "__main__":
    raise SystemExit(main())
