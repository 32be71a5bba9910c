"""`python -m dispatch bridge <kind> [options]`: one bridge per process, kinds listed in BRIDGES.

Only the chosen kind's module is imported, so `bridge --help` lists every kind even where one kind's
library is missing, and each kind's `--help` shows its own options.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from ...subcommands import choose
from . import BRIDGES

PROG = "python -m dispatch bridge"


MORE = f"`{PROG} <kind> --help` shows the kind's own options. docs/bridges.md says more."


def parser_for(kind: str):
    """The kind's module and its argument parser."""
    module_name, about = BRIDGES[kind]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(prog=f"{PROG} {kind}", description=(module.__doc__ or about).strip(),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    module.add_arguments(parser)
    return module, parser


def main(argv: list[str] | None = None) -> int:
    chosen = choose(list(sys.argv[1:] if argv is None else argv), PROG, "kind", BRIDGES, MORE, "bridge")
    if isinstance(chosen, int):
        return chosen
    kind, rest = chosen
    try:
        module, parser = parser_for(kind)
    except ImportError as error:
        print(f"{PROG} {kind}: cannot load {BRIDGES[kind][0]} ({error})", file=sys.stderr)
        return 2
    args = parser.parse_args(rest)
    return module.run(args) or 0


if __name__ == "__main__":
    sys.exit(main())
