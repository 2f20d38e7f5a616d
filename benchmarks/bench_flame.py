"""Benchmark critical_path_tree, critical_path_tree_diff, saving_potential, what_if and diff_traces
next to reading the same data.

    python benchmarks/bench_flame.py           # simulated shop, ~1,000,000 spans (50,000 traces)
    python benchmarks/bench_flame.py --quick   # ~40,000 spans

Simulates ``db-lock`` (about 20 spans per trace), writes it as OTLP JSON lines, then in one
process: reads the file, computes the critical path (its cost is :mod:`bench_critical_path`'s),
then times ``critical_path_tree``, ``critical_path_tree_diff`` (200 resamples), ``saving_potential``,
``what_if`` (the lock wait removed from every trace of the window) and ``diff_traces`` of 100
trace pairs. Prints wall and CPU seconds and each one's ratio to the read (CPU). Targets
(issue 19): tree ≤ 0.5× the read, what_if ≤ 1× the read.
"""

from __future__ import annotations

import argparse
import gc
import os
import tempfile
import time
from pathlib import Path


def _timed(fn):
    gc.collect()
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t, time.process_time() - c


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--traces", type=int, default=None)
    args = ap.parse_args(argv)

    import pandas as pd

    import tracekit as tk
    from tracekit.core import trace_outcomes
    from tracekit.io.write import write_otlp

    n = args.traces or (2_000 if args.quick else 50_000)
    sim = tk.simulate.simulate("db-lock", n_traces=n, seed=1)
    truth = sim.truth
    rows = []
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "spans.jsonl"
        write_otlp(sim.spans, path)
        sim = None
        spans, w, c = _timed(lambda: tk.read_otlp(path))
        read_cpu = c
        rows.append(("read_otlp", w, c))
    cp, w, c = _timed(lambda: tk.critical_path(spans))
    rows.append(("critical_path (for reference)", w, c))
    _, w, c = _timed(lambda: tk.critical_path_tree(cp, spans=spans))
    rows.append(("critical_path_tree", w, c))
    o = trace_outcomes(spans)
    ws, we = pd.Timestamp(truth.window_start), pd.Timestamp(truth.window_end)
    inwin = (o["start"] >= ws) & (o["start"] < we)
    cpa = cp[cp["trace_id"].isin(set(o.loc[inwin, "trace_id"]))]
    cpb = cp[~cp["trace_id"].isin(set(o.loc[inwin, "trace_id"]))]
    _, w, c = _timed(lambda: tk.critical_path_tree_diff(cpa, cpb, n_boot=200))
    rows.append(("critical_path_tree_diff (200 resamples)", w, c))
    _, w, c = _timed(lambda: tk.saving_potential(cp, spans=spans))
    rows.append(("saving_potential", w, c))
    _, w, c = _timed(lambda: tk.what_if(spans, {"checkout:SELECT orders": -250, "checkout:INSERT orders": -250},
                                        traces=o.loc[inwin, "trace_id"], n_boot=0))
    rows.append((f"what_if ({int(inwin.sum())} traces re-timed)", w, c))
    _, w, c = _timed(lambda: tk.what_if(spans, {"checkout": "x0.9"}, n_boot=0))
    rows.append(("what_if (every checkout span x0.9)", w, c))
    groups = dict(tuple(spans[spans["trace_id"].isin(set(o["trace_id"].head(200)))].groupby("trace_id", sort=False)))
    ids = list(groups)
    _, w, c = _timed(lambda: [tk.diff_traces(groups[ids[i]], groups[ids[i + 1]]) for i in range(0, min(200, len(ids)) - 1, 2)])
    rows.append(("diff_traces x100", w, c))
    print(f"{len(spans):,} spans, {n:,} traces; load average {os.getloadavg()[0]:.2f}\n")
    print("| step | wall s | CPU s | CPU / read |\n|---|---|---|---|")
    for name, w, c in rows:
        print(f"| {name} | {w:.2f} | {c:.2f} | {c / read_cpu:.2f}× |")


if __name__ == "__main__":
    main()
