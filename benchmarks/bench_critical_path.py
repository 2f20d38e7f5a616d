"""Benchmark critical_path, critical_path_breakdown and service_graph next to reading the same file.

    python benchmarks/bench_critical_path.py           # simulated shop, ~1,000,000 spans
    python benchmarks/bench_critical_path.py --quick   # ~40,000 spans

Simulates the ``db-lock`` scenario (about 20 spans per trace: gateway, frontend, catalog N+1,
checkout, payments, DynamoDB, SQS → fulfillment), writes it once as OTLP JSON lines (and as an
X-Ray BatchGetTraces file with ``--xray``), then, in one process, one after the other: reads the
file, and runs ``critical_path``, ``critical_path_breakdown`` (by service and by call path),
``service_graph``, ``compare`` (window vs. the rest) and ``find_repeated_calls`` on what was read.
Prints one markdown table: wall and CPU seconds, spans per CPU second, and the ratio to the read
time (CPU, so that a shared machine does not skew it).
"""

from __future__ import annotations

import argparse
import gc
import resource
import tempfile
import time
from pathlib import Path


class _T(float):
    """Wall seconds (the float value) with the process CPU seconds alongside (``.cpu``)."""

    cpu: float


def _timed(fn):
    gc.collect()
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    wall = _T(time.perf_counter() - t)
    wall.cpu = time.process_time() - c
    return out, wall


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small size (~2,000 traces)")
    ap.add_argument("--traces", type=int, default=None, help="number of simulated traces (default 50,000 ≈ 1M spans)")
    ap.add_argument("--xray", action="store_true", help="also write and read the X-Ray file")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)

    import tracekit as tk
    from tracekit.io.write import write_otlp, write_xray

    n_traces = args.traces or (2_000 if args.quick else 50_000)
    sim, t_sim = _timed(lambda: tk.simulate.simulate("db-lock", n_traces=n_traces, seed=args.seed))
    rows = []
    with tempfile.TemporaryDirectory() as d:
        otlp = Path(d) / "spans.jsonl"
        _, t_write = _timed(lambda: write_otlp(sim.spans, otlp))
        size_mb = otlp.stat().st_size / 1e6
        truth = sim.truth
        sim = None  # free the simulated frame before reading
        spans, t_read = _timed(lambda: tk.read_otlp(otlp))
        n = len(spans)
        n_tr = spans["trace_id"].nunique()
        rows.append(("read_otlp (the file)", t_read, f"{size_mb:.0f} MB JSON lines"))
        if args.xray:
            xr = Path(d) / "spans.xray.json"
            _, t_wx = _timed(lambda: write_xray(spans, xr))
            xs, t_rx = _timed(lambda: tk.read_xray(xr))
            rows.append(("read_xray (same traces)", t_rx, f"{xr.stat().st_size / 1e6:.0f} MB, {len(xs):,} spans with inferred"))
            del xs
        cp, t_cp = _timed(lambda: tk.critical_path(spans))
        rows.append(("critical_path", t_cp, f"{len(cp):,} sections, {len(cp.attrs['failures'])} failures"))
        bd, t_bd = _timed(lambda: tk.critical_path_breakdown(cp, by="service"))
        rows.append(("critical_path_breakdown by service", t_bd, f"top: {bd['service'].iloc[0]} {bd['share'].iloc[0]:.0%}"))
        bdc, t_bdc = _timed(lambda: tk.critical_path_breakdown(cp, by="call_path"))
        rows.append(("critical_path_breakdown by call_path", t_bdc, f"{len(bdc):,} call paths"))
        both = _T(t_cp + t_bd)
        both.cpu = t_cp.cpu + t_bd.cpu
        rows.append(("critical_path + breakdown (service)", both, "the issue's target: <= read time"))
        G, t_g = _timed(lambda: tk.service_graph(spans))
        rows.append(("service_graph", t_g, f"{G.number_of_nodes()} nodes, {G.number_of_edges()} edges"))
        roots = spans[spans["parent_id"].isna()]
        inwin = roots["trace_id"][(roots["start"] >= truth.window_start) & (roots["start"] < truth.window_end)]
        mask = spans["trace_id"].isin(set(inwin))
        a, b = spans[mask], spans[~mask]
        cmp_, t_cmp = _timed(lambda: tk.compare(a, b, n_boot=1000, seed=0))
        rows.append(("compare window vs rest (1000 resamples)", t_cmp, f"top: {cmp_.table['service'].iloc[0]}"))
        rep, t_rep = _timed(lambda: tk.find_repeated_calls(spans))
        rows.append(("find_repeated_calls", t_rep, f"{len(rep):,} groups"))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n{n:,} spans, {n_tr:,} traces (simulated db-lock, seed {args.seed}; simulate {t_sim:.1f} s, "
          f"write_otlp {t_write:.1f} s); peak RSS {rss:,.0f} MB\n")
    print("CPU seconds are the process's own (the machine may be shared; wall time then includes waiting).\n")
    print("| step | wall s | CPU s | spans/s (CPU) | CPU × read | notes |")
    print("|---|---:|---:|---:|---:|---|")
    for name, t, note in rows:
        print(f"| {name} | {t:.2f} | {t.cpu:.2f} | {n / max(t.cpu, 1e-9):,.0f} | {t.cpu / t_read.cpu:.2f} | {note} |")


if __name__ == "__main__":
    main()
