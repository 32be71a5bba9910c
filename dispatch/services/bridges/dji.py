"""DJI Cloud API in: DJI docks and the DJI Pilot 2 app, through their MQTT broker, -> drone telemetry.

    python -m dispatch bridge dji --mqtt mqtt://broker.local:1883 --username dispatch --password-file pw
    python -m dispatch bridge dji --mqtt mqtts://broker.local:8883 --ca-file ca.pem

Subscribes to thing/product/+/osd (each device's state, JSON), turns each aircraft's state into one
telemetry entry per drone at most --max-rate times a second on {site}:in:telemetry, as the `bridge` Redis
user. Drone id DR- + the last 8 characters of the serial unless --drone-ids maps it. A dock's own state
(no aircraft position) is skipped and counted. docs/bridges.md says what is refused and why.
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from pathlib import Path
from typing import Iterable
from urllib.parse import urlsplit

from ...domain.dji_osd import OSD_TOPIC, osd_reading
from .telemetry_out import Reading, SourceError, add_telemetry_arguments, run_telemetry_bridge

MAX_BUFFERED = 10_000  # messages between two polls; beyond, counted dropped:overflow
MAX_PER_POLL = 500  # messages read before the rate limiter's tick gets its turn


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mqtt", required=True, metavar="URL",
                        help="the broker: mqtt://HOST:PORT, or mqtts://HOST:PORT for TLS (port 1883 / 8883 "
                             "by default)")
    parser.add_argument("--username", help="MQTT user name")
    password = parser.add_mutually_exclusive_group()
    password.add_argument("--password", help="MQTT password (visible in the process list: prefer --password-file)")
    password.add_argument("--password-file", type=Path, metavar="FILE", help="file holding the MQTT password")
    parser.add_argument("--tls", action="store_true", help="TLS even with an mqtt:// URL")
    parser.add_argument("--ca-file", type=Path, metavar="FILE",
                        help="CA certificate(s) of the broker (PEM; default: the system's)")
    parser.add_argument("--topic", default=OSD_TOPIC, help=f"topic filter (default {OSD_TOPIC})")
    add_telemetry_arguments(parser, "dji")


class DjiSource:
    """A paho-mqtt client driven from the bridge's own loop (no paho thread): a dropped connection is a
    SourceError, reopened by `pump` with the bridge's backoff."""

    def __init__(self, url: str, *, username: str | None, password: str | None, tls: bool, ca_file: Path | None,
                 topic: str, client_id: str, drone_ids: dict[str, str], counters_add, log: logging.Logger,
                 clock=time.time) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl") or not parts.hostname:
            raise ValueError(f"--mqtt {url!r}: expected mqtt://HOST:PORT or mqtts://HOST:PORT")
        self.tls = tls or parts.scheme in ("mqtts", "ssl")
        self.host, self.port = parts.hostname, parts.port or (8883 if self.tls else 1883)
        self.username, self.password, self.ca_file = username, password, ca_file
        self.topic, self.client_id, self.drone_ids = topic, client_id, drone_ids
        self.count, self.log, self.clock = counters_add, log, clock
        self.client = None
        self._received: list[Reading] = []
        self._refused: str | None = None

    def describe(self) -> str:
        return f"MQTT {'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port} {self.topic}"

    def open(self) -> None:
        import paho.mqtt.client as mqtt  # imported here: only this bridge needs it

        self.close()
        self._refused = None
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id, clean_session=True)
        if self.username:
            client.username_pw_set(self.username, self.password)
        if self.tls:
            client.tls_set(ca_certs=str(self.ca_file) if self.ca_file else None)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        self.client = client
        try:
            client.connect(self.host, self.port, keepalive=30)
        except (OSError, ValueError) as error:
            raise SourceError(f"cannot connect: {error}") from error

    def _on_connect(self, client, _userdata, _flags, reason_code, _properties) -> None:
        if reason_code.is_failure:
            self._refused = f"the broker refused the connection: {reason_code}"
            return
        client.subscribe(self.topic, qos=0)  # on every (re)connection: clean sessions keep no subscription

    def _on_subscribe(self, _client, _userdata, _mid, reason_codes, _properties) -> None:
        if any(code.is_failure for code in reason_codes):
            self._refused = f"the broker refused the subscription to {self.topic}: {reason_codes[0]}"
        else:
            self.log.info("subscribed to %s", self.topic)

    def _on_message(self, _client, _userdata, message) -> None:
        self.count("in")
        if len(self._received) >= MAX_BUFFERED:
            self.count("dropped:overflow")
            return
        self._received.append(osd_reading(message.topic, message.payload, self.drone_ids, int(self.clock() * 1000)))

    def poll(self, timeout_s: float) -> Iterable[Reading]:
        import paho.mqtt.client as mqtt

        result = self.client.loop(timeout=timeout_s)  # waits for the socket, reads one packet, pings, writes
        for _ in range(MAX_PER_POLL):  # paho reads one packet per call: drain what has arrived
            if result != mqtt.MQTT_ERR_SUCCESS or self._refused:
                break
            before = len(self._received)
            result = self.client.loop_read()
            if len(self._received) == before:
                break
        if self._refused:
            raise SourceError(self._refused)
        if result != mqtt.MQTT_ERR_SUCCESS:
            raise SourceError(f"connection lost ({mqtt.error_string(result)})")
        readings, self._received = self._received, []
        return readings

    def close(self) -> None:
        if self.client is not None:
            try:
                self.client.disconnect()
            except Exception:  # not connected: nothing to say goodbye to
                pass
            self.client = None


def run(args: argparse.Namespace) -> int:
    def make_source(args, drone_ids, log, counters):
        password = args.password
        if args.password_file is not None:
            password = args.password_file.read_text(encoding="utf-8").strip()
        return DjiSource(args.mqtt, username=args.username, password=password, tls=args.tls, ca_file=args.ca_file,
                         topic=args.topic, client_id=f"dispatch-{args.name}-{os.getpid()}", drone_ids=drone_ids,
                         counters_add=counters.add, log=log)

    return run_telemetry_bridge("dji", args, make_source)
