"""`python -m dispatch bridge <kind> [options]`: one bridge per process, kinds listed in BRIDGES.

Only the chosen kind's module is imported, so `bridge --help` lists every kind even where one kind's
library is missing, and each kind's `--help` shows its own options.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from . import BRIDGES

PROG = "python -m dispatch bridge"


def usage() -> str:
    width = max(len(kind) for kind in BRIDGES)
    lines = [f"usage: {PROG} <kind> [options]", "", "kinds:"]
    lines += [f"  {kind.ljust(width)}  {about}" for kind, (_, about) in BRIDGES.items()]
    lines += ["", f"`{PROG} <kind> --help` shows the kind's own options. docs/bridges.md says more."]
    return "\n".join(lines)


def parser_for(kind: str):
    """The kind's module and its argument parser."""
    module_name, about = BRIDGES[kind]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(prog=f"{PROG} {kind}", description=(module.__doc__ or about).strip(),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    module.add_arguments(parser)
    return module, parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    kind, rest = argv[0], argv[1:]
    if kind not in BRIDGES:
        print(f"{PROG}: no bridge called {kind!r}\n\n{usage()}", file=sys.stderr)
        return 2
    try:
        module, parser = parser_for(kind)
    except ImportError as error:
        print(f"{PROG} {kind}: cannot load {BRIDGES[kind][0]} ({error})", file=sys.stderr)
        return 2
    args = parser.parse_args(rest)
    return module.run(args) or 0


if __name__ == "__main__":
    sys.exit(main())
