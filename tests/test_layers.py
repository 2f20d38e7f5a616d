"""Layers import downward only (LAYERS.md)."""

from __future__ import annotations

import ast
import functools
import re

import pytest

from .conftest import REPO

PKG = REPO / "tracekit"


@functools.cache
def _tree(path) -> ast.Module:
    """The parsed module (each file parsed once for all the tests here)."""
    return ast.parse(path.read_text())


@functools.cache
def _imports_of(path) -> tuple[ast.AST, ...]:
    """Every import statement of the module, at any depth."""
    return tuple(n for n, _ in _import_nodes(path))


@functools.cache
def _import_nodes(path) -> tuple[tuple[ast.AST, bool], ...]:
    """Every import statement of the module, at any depth, and whether it is under ``if TYPE_CHECKING:``
    (one walk of the tree, shared by the tests here)."""
    out, todo = [], [(_tree(path), False)]
    while todo:
        node, typing_only = todo.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            out.append((node, typing_only))
            continue
        if _is_type_checking(node):
            todo.extend((c, True) for c in node.body)
            todo.extend((c, typing_only) for c in node.orelse)
            continue
        if isinstance(node, ast.expr):
            continue  # no statement (so no import) below an expression
        todo.extend((c, typing_only) for c in ast.iter_child_nodes(node))
    return tuple(sorted(out, key=lambda x: (x[0].lineno, x[0].col_offset)))


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


@pytest.mark.slow  # 1.1 s in the fast lane (2 loaded cores, issue 28)
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
        for node in _imports_of(path):
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
        for node in _imports_of(path):
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


@pytest.mark.slow  # 2.0 s in the fast lane (2 loaded cores, issue 28)
def test_no_private_names_imported_across_modules_except_from_the_kernel():
    found = _private_imports()
    new = found - KNOWN_PRIVATE_IMPORTS
    assert not new, f"import these from tracekit.core (or make them public): {sorted(new)}"
    gone = KNOWN_PRIVATE_IMPORTS - found
    assert not gone, f"remove from KNOWN_PRIVATE_IMPORTS, they are fixed: {sorted(gone)}"


def _module_files() -> dict[str, object]:
    """Module name (``io.otlp``, ``analysis`` for a package's ``__init__``) -> its path."""
    files = {}
    for path in PKG.rglob("*.py"):
        parts = [p for p in path.relative_to(PKG).with_suffix("").parts if p != "__init__"]
        if parts:
            files[".".join(parts)] = path
    return files


def _is_type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


@functools.lru_cache(maxsize=1)
def _import_graph():
    """Every import between tracekit's modules, at module level or inside a function (a deferred import
    is still a loop: it only hides it), except under ``if TYPE_CHECKING:``. ``from pkg import x``
    points at ``pkg.x`` when that is a module, else at ``pkg``."""
    import networkx as nx

    files = _module_files()
    g = nx.DiGraph()
    for mod, path in files.items():
        g.add_node(mod)
        is_pkg = path.name == "__init__.py"
        parts = mod.split(".")
        for node, typing_only in _import_nodes(path):
            if typing_only:
                continue
            targets = []
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = parts[: len(parts) - node.level + (1 if is_pkg else 0)]
                    m = ".".join(base + (node.module.split(".") if node.module else []))
                elif node.module and node.module.startswith("tracekit."):
                    m = node.module[len("tracekit."):]
                else:
                    continue
                for a in node.names:
                    sub = f"{m}.{a.name}" if m else a.name
                    targets.append(sub if sub in files else m)
            elif isinstance(node, ast.Import):
                targets += [a.name[len("tracekit."):] for a in node.names if a.name.startswith("tracekit.")]
            for t in targets:
                if t in files and t != mod:
                    g.add_edge(mod, t)
    return g


def test_no_import_cycle_between_modules():
    import networkx as nx

    g = _import_graph()
    assert g.number_of_edges() > 100, "the import graph looks empty: the parser above is broken"
    loops = [sorted(c) for c in nx.strongly_connected_components(g) if len(c) > 1]
    assert not loops, f"import loops (move the shared pieces down into a module both import): {loops}"


def test_the_cycle_check_sees_deferred_imports():
    """Ground truth for the check above: a deferred (function-level) import is an edge."""
    g = _import_graph()
    assert g.has_edge("io.readers", "io.otlp_fast") and g.has_edge("io.otlp_fast", "io.otlp")
    assert g.has_edge("analysis.critical_paths", "analysis.workflows")
