"""Exit 0 when this checkout is installed editable with every requirement of ``.[all,test]`` met, else 1.

``.ci/run`` runs ``pip install -e ".[all,test]"`` only when this says 1: on a machine where it is all there,
pip still builds tracekit again in an isolated environment (downloading setuptools) and reinstalls it (about
90 s on two loaded cores, 9 s of it CPU). Run with ``python3 -P`` so the checkout's own ``tracekit.egg-info``
(left by setuptools in the working tree) is not taken for the installed distribution. Any doubt (no
``packaging``, unreadable metadata) says 1, and pip decides.
"""

from __future__ import annotations

import importlib.metadata as md
import json
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXTRAS = ("all", "test")


def main() -> int:
    try:
        from packaging.requirements import Requirement
        from packaging.utils import canonicalize_name
    except ImportError:
        return 1
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    name = canonicalize_name(project["name"])
    try:
        dist = md.distribution(project["name"])
        url = json.loads(dist.read_text("direct_url.json") or "{}")
    except (md.PackageNotFoundError, ValueError):
        return 1
    if not url.get("dir_info", {}).get("editable") or url.get("url") != ROOT.as_uri():
        return 1  # not installed, or installed from another checkout or as a copy
    scripts = {ep.name: ep.value for ep in dist.entry_points if ep.group == "console_scripts"}
    if scripts != project.get("scripts", {}):
        return 1

    optional = project.get("optional-dependencies", {})
    todo = [(Requirement(r), None) for r in project["dependencies"]]
    todo += [(Requirement(r), e) for e in EXTRAS for r in optional.get(e, [])]
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        req, extra = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": extra or ""}):
            continue
        key = (canonicalize_name(req.name), frozenset(req.extras))
        if key in seen:
            continue
        seen.add(key)
        if key[0] == name:  # tracekit[jupyter] inside an extra: those extras' requirements
            todo += [(Requirement(r), e) for e in req.extras for r in optional.get(e, [])]
            continue
        try:
            have = md.distribution(req.name)
        except md.PackageNotFoundError:
            return 1
        if not req.specifier.contains(have.version, prereleases=True):
            return 1
        # what it requires in turn, and what the extras asked of it (dask[dataframe]) require
        todo += [(Requirement(r), e) for e in ("", *sorted(req.extras)) for r in (have.requires or [])]
    return 0


if __name__ == "__main__":
    sys.exit(main())
