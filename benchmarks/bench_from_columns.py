"""Benchmark the column builders a CSV export goes through: spans_from_columns, logs_from_columns, metrics_from_columns.

    python benchmarks/bench_from_columns.py            # 300k spans, 300k log records, 800k metric points
    python benchmarks/bench_from_columns.py --quick    # a tenth of that

Each builder gets the columns a user hands over from an export such as Nezha's (spans: ids, service, name, start,
end; logs: time and body; metrics: time, name, value, service), the rest left to its defaults, and is timed as
the best of three in one process. Beside it, the same columns' plain pandas frame (``pd.DataFrame(columns)``): what
building a frame costs before any checking. Prints one markdown table.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tracekit as tk  # noqa: E402


def _best(fn, rounds: int = 3) -> float:
    best = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a tenth of the sizes")
    a = ap.parse_args(argv)
    scale = 10 if a.quick else 1
    n_spans, n_logs, n_points = 300_000 // scale, 300_000 // scale, 800_000 // scale
    t0 = 1_700_000_000 * 10**9
    spans = {"trace_id": [f"{i // 10:032x}" for i in range(n_spans)], "span_id": [f"{i:016x}" for i in range(n_spans)],
             "parent_id": [None if i % 10 == 0 else f"{i - 1:016x}" for i in range(n_spans)],
             "service": [f"service-{i % 20}" for i in range(n_spans)], "name": [f"op{i % 50}" for i in range(n_spans)],
             "start": t0 + np.arange(n_spans) * 1000, "end": t0 + np.arange(n_spans) * 1000 + 500}
    logs = {"time": t0 + np.arange(n_logs) * 10**6, "body": [f"user {i} logged in from 10.0.{i % 250}.7" for i in range(n_logs)]}
    points = {"time": t0 + np.arange(n_points) * 10**9, "name": np.array(["cpu", "memory", "rx_bytes", "latency"] * (n_points // 4)),
              "value": np.random.default_rng(1).random(n_points),
              "service": np.array([f"service-{i % 40}" for i in range(n_points)], dtype=object)}
    rows = []
    for what, n, build, cols in (("spans_from_columns", n_spans, tk.spans_from_columns, spans),
                                 ("logs_from_columns", n_logs, tk.logs_from_columns, logs),
                                 ("metrics_from_columns", n_points, tk.metrics_from_columns, points)):
        t_build = _best(lambda build=build, cols=cols: build(cols))
        t_plain = _best(lambda cols=cols: pd.DataFrame(cols))
        rows.append((what, n, len(cols), t_build, t_plain))
    print("| builder | rows | columns given | seconds (best of 3) | plain pd.DataFrame of them | ratio |")
    print("|---|---|---|---|---|---|")
    for what, n, k, t, p in rows:
        print(f"| {what} | {n:,} | {k} | {t:.2f} | {p:.3f} | {t / p:.1f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
