"""Data flows one way through dispatch/: domain <- store <- services / web <- ui, and the app factory
(web/app.py) alone puts the pages together. Every module's imports are read (ast, nothing is run) and
an import against that direction fails here, naming the module, the line and the rule.

The rules, per top-level package of dispatch/ (what it may import besides itself):
- domain: pure rules, nothing of store, services, web, ui or demo (keys and settings are names and
  configuration, no I/O);
- store: Redis adapters, only domain and the shared names (keys, settings, clock, errors);
- services: the long-running processes, on top of store and domain (and the command-line shape);
- web: the shell (sessions, guards, JSON APIs, the pages' context); only its app factory imports the UI;
- ui: the pages, on top of web's session and context, store and domain, never the app factory;
- demo: may use anything but the UI (it starts the web app as a process, never imports it).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "dispatch"
SHARED = {"keys", "settings", "clock", "errors"}
ALLOWED: dict[str, set[str]] = {
    "domain": {"keys", "settings"},
    "store": {"domain"} | SHARED,
    "services": {"domain", "store", "subcommands"} | SHARED,  # subcommands: the bridge command line's shape
    "web": {"domain", "store"} | SHARED,
    "ui": {"domain", "store", "web"} | SHARED,
    "demo": {"domain", "store", "services", "web"} | SHARED,
}
# (importing module, imported package or module): the exceptions, each with its reason.
EXCEPTIONS = {
    ("dispatch.web.app", "ui"): "the app factory builds the app from the pages",
}
FORBIDDEN_MODULES = {
    "ui": {"dispatch.web.app"},  # a page importing the app factory would close the circle
}


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, root: Path = ROOT) -> list[tuple[int, str]]:
    """(line, absolute module name) of every dispatch import in the file, relative ones resolved."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if node.module:
                found.append((node.lineno, module))
            else:  # `from .. import clock`: each name is a module
                found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return [(line, target) for line, target in found if target == "dispatch" or target.startswith("dispatch.")]


def violations(root: Path = ROOT) -> list[str]:
    wrong = []
    for path in sorted(root.rglob("*.py")):
        name = module_name(path, root)
        layer = name.split(".")[1] if name.count(".") else ""
        if layer not in ALLOWED:
            continue  # dispatch/__init__.py, __main__.py and the shared modules: the command line sees everything
        for line, target in imported(path, root):
            parts = target.split(".")
            other = parts[1] if len(parts) > 1 else ""
            if other == layer or not other:
                continue
            where = f"{path.relative_to(root.parent)}:{line} imports {target}"
            if target in FORBIDDEN_MODULES.get(layer, set()):
                wrong.append(f"{where}: {layer} must not import it")
            elif other not in ALLOWED[layer] and (name, other) not in EXCEPTIONS:
                wrong.append(f"{where}: {layer} may import only {', '.join(sorted(ALLOWED[layer]))}")
    return wrong


def test_every_import_goes_with_the_flow():
    assert violations() == []


def test_the_check_sees_a_wrong_import(tmp_path):
    """The walker resolves relative imports: a store module importing the UI would be caught."""
    fake = tmp_path / "dispatch" / "store"
    fake.mkdir(parents=True)
    (tmp_path / "dispatch" / "__init__.py").write_text("")
    (fake / "__init__.py").write_text("")
    (fake / "bad.py").write_text("from ..ui.pages.screen import ids\nfrom .. import clock\n")
    assert violations(tmp_path / "dispatch") == ["dispatch/store/bad.py:1 imports dispatch.ui.pages.screen: store may import only "
                     "clock, domain, errors, keys, settings"]
