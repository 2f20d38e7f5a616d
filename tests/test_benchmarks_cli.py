"""The benchmarks keep the command line README.md and benchmarks/run.py give them.

``python benchmarks/run.py --quick`` passes ``--quick`` to every ``benchmarks/bench_*.py``: a benchmark without it
stops at argparse and its table is missing from the run (bench_read_metrics was such a one).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
SCRIPTS = sorted(BENCH.glob("bench_*.py"))


def _options(path: Path) -> set[str]:
    """The ``--options`` a script's argparse parsers declare (read from its syntax tree)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "add_argument":
            found |= {a.value for a in node.args if isinstance(a, ast.Constant) and str(a.value).startswith("--")}
    return found


def test_there_are_benchmarks():
    assert len(SCRIPTS) >= 20


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.stem)
def test_every_benchmark_takes_quick(path):
    assert "--quick" in _options(path), f"{path.name}: benchmarks/run.py --quick passes --quick; declare it"


def test_the_option_reader_sees_a_missing_option(tmp_path):
    """Ground truth for the check above."""
    p = tmp_path / "bench_x.py"
    p.write_text("import argparse\nap = argparse.ArgumentParser()\nap.add_argument('--points', type=int)\n")
    assert _options(p) == {"--points"}
