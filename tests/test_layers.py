"""Layers import downward only (LAYERS.md)."""

from __future__ import annotations

import ast
import re

from .conftest import REPO

PKG = REPO / "tracekit"


def _layers() -> dict[str, int]:
    table = {}
    for line in (REPO / "LAYERS.md").read_text().splitlines():
        m = re.match(r"\|\s*(\d+)\s*\|(.*?)\|", line)
        if m:
            for mod in re.findall(r"`([\w.*]+)`", m.group(2)):
                table[mod.rstrip(".*")] = int(m.group(1))
    return table


def _layer_of(module: str, table: dict[str, int]) -> int | None:
    parts = module.split(".")
    for i in range(len(parts), 0, -1):
        key = ".".join(parts[:i])
        if key in table:
            return table[key]
    return None


def test_every_module_is_in_a_layer_and_imports_downward_only():
    table = _layers()
    assert table, "LAYERS.md has no layer table"
    problems = []
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG).with_suffix("")
        parts = [p for p in rel.parts if p != "__init__"]
        if not parts:
            continue  # tracekit/__init__.py re-exports lazily
        mod = ".".join(parts)
        top = parts[0].lstrip("_") if parts[0] != "_version" else None
        own = _layer_of(mod if parts[0] != "io" else "io", table) if top else None
        if own is None:
            problems.append(f"{mod} is not listed in LAYERS.md")
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.ImportFrom) and node.level:
                base = parts[: len(parts) - node.level] if path.name != "__init__.py" else parts[: len(parts) - node.level + 1]
                if node.module:
                    targets.append(".".join(base + node.module.split(".")))
                else:
                    targets += [".".join(base + [a.name]) for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tracekit."):
                targets.append(node.module[len("tracekit."):])
            elif isinstance(node, ast.Import):
                targets += [a.name[len("tracekit."):] for a in node.names if a.name.startswith("tracekit.")]
            for t in targets:
                lt = _layer_of(t if not t.startswith("io") else "io", table)
                if lt is not None and lt > own:
                    problems.append(f"{mod} (layer {own}) imports {t} (layer {lt})")
    assert not problems, problems


#: private names still imported across modules (importing module, imported module, name): none left;
#: shared building blocks live in tracekit.core or are public names of their module
KNOWN_PRIVATE_IMPORTS: set[tuple[str, str, str]] = set()


def _private_imports() -> set[tuple[str, str, str]]:
    found = set()
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG).with_suffix("")
        parts = [p for p in rel.parts if p != "__init__"]
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level:
                base = parts[: len(parts) - node.level] if path.name != "__init__.py" else parts[: len(parts) - node.level + 1]
                target = ".".join(base + (node.module.split(".") if node.module else []))
            elif node.module and node.module.startswith("tracekit."):
                target = node.module[len("tracekit."):]
            else:
                continue
            for a in node.names:
                private = a.name.startswith("_") and not a.name.startswith("__")
                if private and not target.startswith("core") and target != ".".join(parts):
                    found.add((".".join(parts), target, a.name))
    return found


def test_no_private_names_imported_across_modules_except_from_the_kernel():
    found = _private_imports()
    new = found - KNOWN_PRIVATE_IMPORTS
    assert not new, f"import these from tracekit.core (or make them public): {sorted(new)}"
    gone = KNOWN_PRIVATE_IMPORTS - found
    assert not gone, f"remove from KNOWN_PRIVATE_IMPORTS, they are fixed: {sorted(gone)}"
