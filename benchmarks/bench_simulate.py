"""Benchmark the simulator and the two writers.

    python benchmarks/bench_simulate.py           # 100,000 traces (about 2,000,000 spans)
    python benchmarks/bench_simulate.py --quick   # 5,000 traces

Measures, in one run and one process: ``simulate("baseline")`` (spans per second), then
``write_otlp`` and ``write_xray`` of the same frame to gzip files in a temp dir (seconds, spans
per second, bytes per span), then ``simulate_faults.fault_window`` (a fault-lab window: incident and baseline spans
with their logs and metrics; seconds per window over the six kinds of two seeds, after one warm-up window). Prints
one markdown table. The machine's load matters: run it on a
quiet machine and compare rows of one run, not runs.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tracekit.io.write import write_otlp, write_xray  # noqa: E402
from tracekit.simulate import simulate  # noqa: E402
from tracekit.simulate_faults import FAULT_KINDS, fault_window, random_system  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="5,000 traces instead of 100,000")
    ap.add_argument("--traces", type=int, default=None)
    a = ap.parse_args(argv)
    n = a.traces or (5_000 if a.quick else 100_000)
    rows = []
    t = time.perf_counter()
    sim = simulate("baseline", n_traces=n, seed=1)
    dt = time.perf_counter() - t
    spans = sim.spans
    m = len(spans)
    rows.append(("simulate (baseline)", dt, m / dt, ""))
    with tempfile.TemporaryDirectory() as d:
        for label, fn, name in (("write_otlp (.jsonl.gz)", write_otlp, "t.jsonl.gz"),
                                ("write_xray (.json.gz)", write_xray, "t.json.gz")):
            p = Path(d) / name
            t = time.perf_counter()
            fn(spans, p)
            dt = time.perf_counter() - t
            rows.append((label, dt, m / dt, f"{os.path.getsize(p) / m:.0f} B/span gz"))
    fault_window("null", 99)  # imports and first-call costs out of the timing
    specs = [(k, s) for s in (10, 11) for k in (*FAULT_KINDS, "null")]
    t, lab = time.perf_counter(), 0
    for kind, seed in specs:
        w = fault_window(kind, seed, system=random_system(seed), status=seed % 2 == 0)
        lab += len(w.incident) + len(w.baseline)
    dt = time.perf_counter() - t
    rows.append((f"fault_window (a lab window, logs and metrics included; {dt / len(specs):.3f} s each)", dt, lab / dt,
                 f"{len(specs)} windows, {lab:,} spans"))
    print(f"{n:,} traces, {m:,} spans\n")
    print("| step | seconds | spans/s | output |")
    print("|---|---|---|---|")
    for label, dt, rate, extra in rows:
        print(f"| {label} | {dt:.2f} | {rate:,.0f} | {extra} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
