"""One command line for every process: `python -m dispatch <process> [options]`.

    python -m dispatch --help            the processes
    python -m dispatch ingest --help     one process's own options

Each process is still its own module (dispatch/services/ingest.py, ...), runnable as before; this names
them in one place, so that the Procfile, the launcher, the README and the benchmarks spell them alike.
"""
from __future__ import annotations

import importlib
import inspect
import sys

from .subcommands import choose

# process name -> (module, what it does)
PROCESSES = {
    "ingest": ("dispatch.services.ingest", "validate the input streams and update the picture (the worker)"),
    "watch": ("dispatch.services.watch", "raise, escalate and resolve alerts; expire stale sightings"),
    "gateway": ("dispatch.services.gateway", "push the live picture to browsers over websockets"),
    "retention": ("dispatch.services.retention", "trim recordings and the audit trail by age"),
    "proxy": ("dispatch.services.proxy", "the private nginx in front of the web app (becomes nginx)"),
    "simulator": ("dispatch.demo.simulator", "the demo's drones, patrols and tablets"),
    "acl": ("dispatch.store.acl", "print or write the Redis ACL users of every process"),
    "demo": ("dispatch.demo.launcher", "start and supervise every process of the demo (`make run`)"),
    # Bridges (issue 13): `python -m dispatch bridge <kind>`, kinds in dispatch/services/bridges/__init__.py.
    "bridge": ("dispatch.services.bridges.cli", "a protocol bridge: MAVLink or DJI in, Cursor-on-Target out"),
}


MORE = "`python -m dispatch <process> --help` shows the process's own options."


def main(argv: list[str] | None = None) -> int:
    chosen = choose(list(sys.argv[1:] if argv is None else argv), "python -m dispatch", "process", PROCESSES, MORE)
    if isinstance(chosen, int):
        return chosen
    name, rest = chosen
    module = importlib.import_module(PROCESSES[name][0])
    sys.argv = [f"python -m dispatch {name}", *rest]
    if inspect.signature(module.main).parameters:
        return module.main(rest) or 0
    if rest in (["-h"], ["--help"]):  # a process without options of its own: its docstring says what it does
        print(f"usage: python -m dispatch {name}\n\n{module.__doc__.strip()}")
        return 0
    if rest:
        print(f"python -m dispatch {name}: takes no options (got {' '.join(rest)})", file=sys.stderr)
        return 2
    return module.main() or 0


if __name__ == "__main__":
    sys.exit(main())
