"""Protocol bridges (issue 13): one process per bridge, `python -m dispatch bridge <kind> [options]`.

Each kind is a module exposing `add_arguments(parser)` and `run(args) -> int`, imported only when that
kind is run (a MAVLink site need not install the MQTT client's needs, and the CLI's --help stays quick).
The shared machinery: counters.py (in, out, dropped by reason, in Redis and the log), telemetry_out.py
(sanity, per-drone rate, validated XADD under the bridge's Redis user, reconnection with backoff),
cli.py (the command line). The pure rules are in dispatch/domain (drone_fix, telemetry_rate, drone_ids).
"""

# kind -> (module, what it does). Add a kind here and nowhere else.
BRIDGES: dict[str, tuple[str, str]] = {
    "mavlink": ("dispatch.services.bridges.mavlink", "MAVLink in (PX4, ArduPilot, ground stations) -> telemetry"),
    "dji": ("dispatch.services.bridges.dji", "DJI Cloud API in (docks, Pilot 2) over MQTT -> telemetry"),
    "cot": ("dispatch.services.bridges.cot", "the picture out as Cursor-on-Target to TAK devices"),
    "cot-in": ("dispatch.services.bridges.cot_in", "markers dropped on ATAK by the unit's operators -> sightings"),
}
