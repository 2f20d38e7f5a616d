"""Every module the notebooks import is installed by the README's install command (issue 29: notebook 04
failed after `pip install -e ".[all]"`, moto being only in the test extra).

The README's first ``pip install -e ".[…]"`` line gives the extras; pyproject.toml gives what they require
(extras that name tracekit's own extras are followed); the installed packages' metadata gives what those
require in turn. Each third-party top-level module a notebook imports must come from a distribution in that
closure.
"""

from __future__ import annotations

import ast
import json
import re
import sys
import tomllib
from importlib import metadata

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .conftest import REPO


def readme_extras() -> set[str]:
    for line in (REPO / "README.md").read_text(encoding="utf-8").splitlines():
        m = re.search(r'pip install -e "\.\[([^\]]*)\]"', line)
        if m:
            return {x.strip() for x in m.group(1).split(",")}
    raise AssertionError("README.md has no pip install -e \".[…]\" line")


def project_requirements(extras: set[str]) -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    name = canonicalize_name(project["name"])
    out = [Requirement(r) for r in project["dependencies"]]
    todo, seen = list(extras), set()
    while todo:
        e = todo.pop()
        if e in seen:
            continue
        seen.add(e)
        for r in map(Requirement, project["optional-dependencies"][e]):
            if canonicalize_name(r.name) == name:
                todo += list(r.extras)
            else:
                out.append(r)
    return out


def closure(reqs: list[Requirement]) -> set[str]:
    """Canonical names of the distributions ``reqs`` install, with their own requirements (markers and
    extras honoured), from the installed metadata."""
    got: set[str] = set()
    todo = [(r, frozenset(r.extras)) for r in reqs]
    done: set[tuple[str, frozenset]] = set()
    while todo:
        r, extras = todo.pop()
        key = (canonicalize_name(r.name), extras)
        if key in done:
            continue
        done.add(key)
        try:
            dist = metadata.distribution(r.name)
        except metadata.PackageNotFoundError:
            continue  # not installed here: its own requirements cannot be followed
        got.add(key[0])
        for spec in dist.requires or ():
            sub = Requirement(spec)
            envs = [{"extra": e} for e in extras] or [{"extra": ""}]
            if sub.marker is None or any(sub.marker.evaluate(env) for env in envs):
                todo.append((sub, frozenset(sub.extras)))
    return got


def notebook_imports(path) -> set[str]:
    mods: set[str] = set()
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code":
            continue
        src = "\n".join(ln for ln in "".join(cell["source"]).splitlines() if not ln.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.Import):
                mods |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                mods.add(node.module.split(".")[0])
    return {m for m in mods if m not in sys.stdlib_module_names and m != "tracekit"}


NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def test_readme_installs_the_notebook_extra_with_moto():
    assert "all" in readme_extras()
    names = {canonicalize_name(r.name) for r in project_requirements({"all"})}
    assert "moto" in names  # notebook 04's local X-Ray endpoint
    assert any("server" in r.extras for r in project_requirements({"all"}) if canonicalize_name(r.name) == "moto")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_import_is_installed_by_the_readme_extras(notebook):
    have = closure(project_requirements(readme_extras()))
    providers = metadata.packages_distributions()
    missing = []
    for mod in sorted(notebook_imports(notebook)):
        dists = {canonicalize_name(d) for d in providers.get(mod, [])}
        if not dists & have:
            missing.append(f"{mod} (from {', '.join(sorted(dists)) or 'no installed distribution'})")
    assert not missing, f"{notebook.name} imports modules the README's install does not give: {missing}"
