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
