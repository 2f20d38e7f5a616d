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


@pytest.mark.slow
def test_a_rule_switched_off_on_the_command_line_scores_the_code_without_it(tmp_path):
    """``--rule-off`` reproduces the guide's side-by-side figures by a command: the fault lab's seed 16, a CPU fault in
    catalog with a CPU fault of the same operation in its baseline's first minute, ranks catalog first with the
    abnormal-minutes rule and out of the top three without it (tests/test_cause_shapes.py pins the same window in
    process). An unknown rule is refused by name."""
    import subprocess
    import sys

    import pandas as pd

    def rank(*extra: str) -> pd.DataFrame:
        out = tmp_path / f"lab{len(extra)}.csv"
        r = subprocess.run([sys.executable, str(BENCH / "bench_fault_lab.py"), "--seeds", "1", "--first-seed", "16",
                            "--kinds", "cpu_consumed", "--baseline-fault", "cpu_consumed", "--baseline-fault-on", "same",
                            "--out", str(out), *extra], capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr
        assert ("rules off: abnormal_minutes" in r.stdout) == bool(extra)
        return pd.read_csv(out).set_index("signals")["rank"]

    on, off = rank(), rank("--rule-off", "abnormal_minutes")
    assert on["traces"] == 1 and off["traces"] > 3, (on.to_dict(), off.to_dict())
    r = subprocess.run([sys.executable, str(BENCH / "bench_fault_lab.py"), "--rule-off", "nosuch"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "abnormal_minutes" in r.stderr and "nosuch" in r.stderr
