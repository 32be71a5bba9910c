"""The shape of a command that names a subcommand first: `python -m dispatch <process>` and
`python -m dispatch bridge <kind>` list, choose and refuse theirs alike."""

from __future__ import annotations

import sys
from typing import Mapping


def usage(prog: str, noun: str, table: Mapping[str, tuple[str, str]], more: str) -> str:
    """`usage: <prog> <noun> [options]`, then each name with what it does (table: name -> (module, about))."""
    width = max(len(name) for name in table)
    plural = noun + ("es" if noun.endswith("s") else "s")  # processes, kinds
    lines = [f"usage: {prog} <{noun}> [options]", "", f"{plural}:"]
    lines += [f"  {name.ljust(width)}  {about}" for name, (_, about) in table.items()]
    return "\n".join([*lines, "", more])


def choose(argv: list[str], prog: str, noun: str, table: Mapping, more: str,
           thing: str | None = None) -> tuple[str, list[str]] | int:
    """(name, its arguments), or the exit code once the usage is printed: 0 when asked for, 2 for an
    unknown name (on stderr, with the list: "no <thing> called 'x'", the thing being the noun by default)."""
    text = usage(prog, noun, table, more)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(text)
        return 0
    if argv[0] not in table:
        print(f"{prog}: no {thing or noun} called {argv[0]!r}\n\n{text}", file=sys.stderr)
        return 2
    return argv[0], argv[1:]
