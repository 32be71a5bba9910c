"""MAVLink in: PX4 and ArduPilot drones, or a ground station forwarding them, -> drone telemetry.

    python -m dispatch bridge mavlink --listen udpin:0.0.0.0:14550
    python -m dispatch bridge mavlink --listen tcp:192.168.1.20:5760
    python -m dispatch bridge mavlink --listen /dev/ttyUSB0 --baud 57600 --drone-ids drones.csv

Reads HEARTBEAT, GLOBAL_POSITION_INT, SYS_STATUS and BATTERY_STATUS (pymavlink decodes them: any
MAVLink 1 or 2 packet with a good checksum), writes one telemetry entry per drone at most --max-rate
times a second to {site}:in:telemetry as the `bridge` Redis user. Drone id DR-<system id> unless
--drone-ids maps it. docs/bridges.md says what is refused and why.
"""

from __future__ import annotations

import argparse
import logging
import socket
import time
from typing import Iterable

from ...domain.drone_fix import Drop
from ...domain.drone_ids import mavlink_drone_id
from ...domain.mavlink_drones import MavlinkDrones
from .telemetry_out import Reading, SourceError, add_telemetry_arguments, run_telemetry_bridge

READ = ("HEARTBEAT", "GLOBAL_POSITION_INT", "SYS_STATUS", "BATTERY_STATUS")
MAX_PER_POLL = 500  # messages read before the rate limiter's tick gets its turn
UDP_RECEIVE_BUFFER = 4 * 1024 * 1024


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--listen", required=True, metavar="CONNECTION",
                        help="pymavlink connection string: udpin:HOST:PORT (listen for UDP), tcp:HOST:PORT "
                             "(connect to a TCP server, e.g. SITL or a telemetry radio bridge), tcpin:HOST:PORT, "
                             "or a serial device such as /dev/ttyUSB0")
    parser.add_argument("--baud", type=int, default=57600, help="serial speed (default 57600)")
    parser.add_argument("--heartbeat-timeout", metavar="S", type=float, default=5.0,
                        help="stop sending a drone's positions after S seconds without its heartbeat "
                             "(default 5: MAVLink's 4-5 missed heartbeats)")
    add_telemetry_arguments(parser, "mavlink")


class MavlinkSource:
    """A pymavlink connection turned into Fix/Drop readings."""

    def __init__(self, connection: str, baud: int, drone_ids: dict[str, str], heartbeat_timeout_s: float,
                 counters_add, log: logging.Logger, clock=time.time) -> None:
        self.connection, self.baud, self.drone_ids = connection, baud, drone_ids
        self.drones = MavlinkDrones(heartbeat_timeout_ms=int(heartbeat_timeout_s * 1000))
        self.count = counters_add
        self.log, self.clock = log, clock
        self.link = None

    def describe(self) -> str:
        return f"MAVLink {self.connection}"

    def open(self) -> None:
        from pymavlink import mavutil  # imported here: only this bridge needs it

        self.close()
        try:
            # source_system 255 is a ground station's id: the bridge never sends, but pymavlink needs one.
            self.link = mavutil.mavlink_connection(self.connection, baud=self.baud, source_system=255,
                                                   autoreconnect=False, retries=0)
        except Exception as error:  # pymavlink raises OSError, serial.SerialException, ValueError...
            raise SourceError(f"cannot open: {error}") from error
        if hasattr(self.link, "handle_eof"):  # TCP: pymavlink would print and read an empty socket forever
            self.link.handle_eof = self.link.handle_disconnect = self._peer_closed
        port = getattr(self.link, "port", None)
        if isinstance(port, socket.socket) and port.type == socket.SOCK_DGRAM:
            # A burst of small datagrams (200 drones' heartbeats) overflows Linux's default 208 KiB buffer
            # while the bridge writes to Redis: ask for more (the kernel caps it at net.core.rmem_max).
            port.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_RECEIVE_BUFFER)

    def _peer_closed(self) -> None:
        raise SourceError("the peer closed the connection")

    def close(self) -> None:
        if self.link is not None:
            try:
                self.link.close()
            except Exception:  # already closed, or never opened its port
                pass
            self.link = None

    def poll(self, timeout_s: float) -> Iterable[Reading]:
        readings = []
        try:
            message = self.link.recv_match(blocking=True, timeout=timeout_s)
            for _ in range(MAX_PER_POLL):
                if message is None:
                    break
                reading = self._read(message)
                if reading is not None:
                    readings.append(reading)
                message = self.link.recv_match(blocking=False)
        except SourceError:
            raise
        except OSError as error:
            raise SourceError(f"read failed: {error}") from error
        return readings

    def _read(self, message) -> Reading | None:
        kind = message.get_type()
        if kind == "BAD_DATA":
            self.count("in")
            return Drop("bad_packet", None, "a packet that is not valid MAVLink (checksum or length)")
        if kind not in READ:
            return None  # the dozens of other messages an autopilot streams: not ours, not counted
        self.count("in")
        system_id = message.get_srcSystem()
        now_ms = int(self.clock() * 1000)
        if kind == "HEARTBEAT":
            self.drones.heartbeat(system_id, message.type, message.autopilot, now_ms)
        elif kind in ("SYS_STATUS", "BATTERY_STATUS"):
            self.drones.battery(system_id, message.battery_remaining)
        else:
            return self.drones.position(
                system_id, mavlink_drone_id(system_id, self.drone_ids),
                lat_e7=message.lat, lon_e7=message.lon, relative_alt_mm=message.relative_alt,
                hdg_cdeg=message.hdg, vx_cms=message.vx, vy_cms=message.vy, now_ms=now_ms)
        return None


def run(args: argparse.Namespace) -> int:
    def make_source(args, drone_ids, log, counters):
        return MavlinkSource(args.listen, args.baud, drone_ids, args.heartbeat_timeout, counters.add, log)

    return run_telemetry_bridge("mavlink", args, make_source)
