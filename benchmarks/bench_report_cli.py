"""Benchmark the README's first command: ``python -m tracekit report`` of the bundled incident, as a whole process.

    python benchmarks/bench_report_cli.py                        # 3 runs of each process
    python benchmarks/bench_report_cli.py --quick                # 1 run
    python benchmarks/bench_report_cli.py --against ../old-tree  # side by side with another checkout (a git worktree)

A user pays the whole process: Python and its imports, reading both folders, the postmortem and the page. Each run
is a fresh interpreter (wall seconds, and the child's CPU seconds from the OS); with ``--against``, the other
checkout's process runs right after this one in each round (``PYTHONPATH`` set to it), so the two columns are
side by side on the same machine phase. Also measured once per checkout: the seconds its analysing imports
take in a fresh interpreter (``tracekit`` and its report module), the first postmortem there (a small simulated
incident: the imports analyses make lazily are in it) and whether ``scipy.stats`` came with it. Prints one markdown table.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "datasets"

_IMPORTS = r"""
import sys, time
t = time.perf_counter()
import tracekit as tk
import tracekit.reporting
t_import = time.perf_counter() - t
s = tk.simulate.simulate("db-lock", 150, seed=1).spans
t = time.perf_counter()
tk.postmortem(s)
print(f"{t_import:.3f} {time.perf_counter() - t:.3f} {'scipy.stats' in sys.modules}")
"""


def _run(tree: Path, out: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one report process running ``tree``'s tracekit."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "tracekit", "report", str(DATA / "checkout-incident"), "--baseline",
                    str(DATA / "checkout-baseline"), "-o", str(out), "--title", "bench"],
                   check=True, capture_output=True, env=env, cwd=tree)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _imports(tree: Path) -> str:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    r = subprocess.run([sys.executable, "-c", _IMPORTS], check=True, capture_output=True, text=True, env=env, cwd=tree)
    t_import, t_pm, stats = r.stdout.split()
    return (f"imports {float(t_import):.2f} s; first postmortem (150 simulated traces, its lazy imports included) "
            f"{float(t_pm):.2f} s; scipy.stats imported by it: {stats.lower()}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one run of each process")
    ap.add_argument("--runs", type=int, default=None)
    ap.add_argument("--against", type=Path, default=None, help="another checkout, run after this one in each round")
    a = ap.parse_args(argv)
    runs = a.runs or (1 if a.quick else 3)
    trees = {"this": REPO, **({"against": a.against.resolve()} if a.against else {})}
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in trees}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(runs):
            for name, tree in trees.items():
                times[name].append(_run(tree, Path(tmp) / f"{name}-{i}.html"))
    print("| checkout | runs | wall s (each) | CPU s (each) | best wall | fresh interpreter |")
    print("|---|---|---|---|---|---|")
    for name, tree in trees.items():
        w = [x for x, _ in times[name]]
        c = [y for _, y in times[name]]
        print(f"| {name} ({tree.name}) | {runs} | {' / '.join(f'{x:.2f}' for x in w)} | "
              f"{' / '.join(f'{y:.2f}' for y in c)} | {min(w):.2f} | {_imports(tree)} |")
    if a.against:
        ratio = [x / y for (x, _), (y, _) in zip(times["this"], times["against"], strict=True)]
        print(f"\nthis / against, wall, round by round: {' / '.join(f'{r:.2f}' for r in ratio)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
