"""Benchmark every analysis on hostile tree shapes: one very deep chain and one very wide fan-out.

    python benchmarks/bench_hostile.py            # 100,000-span chain and 100,000-span fan-out
    python benchmarks/bench_hostile.py --quick    # 10,000 spans each
    python benchmarks/bench_hostile.py --spans 20000 --only critical_path

A chain is one trace where every span is the only child of the previous one (depth = spans);
a fan-out is one root with every other span as its direct child. Real traces are neither, but
hostile or broken instrumentation produces both (a recursive call that never returns, a batch
job that opens a span per item), and memory must stay linear in spans for either.

Each (shape, analysis) runs in its own process so that peak memory is that analysis' own:
the table gives wall and CPU seconds and the peak resident memory added by the analysis
(``ru_maxrss`` after it minus ``ru_maxrss`` after building the frame). A run that exceeds
``--limit-gb`` of address space or ``--timeout`` seconds is reported as such, not waited for.

Measured 2026-11-22 on the shared 2-core box (CPU s / peak MB added; wall times were 2-5x CPU
because other jobs ran), 100,000 spans, before (main 2678760: call paths as strings) → after:

=====================  ==========================  =====================  ================
analysis               chain before                chain after            fan-out after
=====================  ==========================  =====================  ================
critical_path          killed at 90 s wall         12.6 s / 253 MB        3.3 s / 70 MB
critical_path_tree     killed at 90 s wall         14.5 s / 383 MB        3.5 s / 93 MB
waterfall_data         killed at 90 s wall         14.4 s / 346 MB        5.0 s / 195 MB
compare (by call_path) killed at 90 s wall         36.9 s / 975 MB        6.0 s / 89 MB
diff_traces            killed at 90 s wall         24.6 s / 379 MB        8.5 s / 157 MB
health_report          out of memory (> 4 GB)      9.4 s / 60 MB          2.8 s / 38 MB
=====================  ==========================  =====================  ================

At 5,000 spans the chain before peaked at 1,071 MB (critical_path), 2,395 MB (compare by call
path), 227 MB (health_report), and critical_path_tree did not finish in 120 s; after: 15, 74, 5 MB
and 0.7 s.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

ANALYSES = (
    "span_tree", "critical_path", "critical_path_breakdown", "critical_path_tree", "waterfall_data", "compare",
    "compare_call_path", "diff_traces", "what_if", "health_report", "trace_summary", "self_time", "service_graph",
    "find_repeated_calls", "timeline", "find_pii", "redact",
)


def build(shape: str, n: int):
    import numpy as np

    import tracekit as tk

    ids = [f"{i + 1:016x}" for i in range(n)]
    ms = 1_000_000
    if shape == "chain":
        parents = [None, *ids[:-1]]
        start = np.arange(n, dtype=np.int64) * 10
        end = 10 * ms * 1000 - start
    else:
        parents = [None] + [ids[0]] * (n - 1)
        start = np.r_[0, np.arange(1, n, dtype=np.int64) * 1000]
        end = np.r_[n * 1000 + ms, start[1:] + 500]
    svc = np.array(["api", "db", "cache", "queue"], dtype=object)[np.arange(n) % 4]
    return tk.spans_from_columns({
        "trace_id": ["ab" * 16] * n, "span_id": ids, "parent_id": parents, "service": svc,
        "name": np.array(["GET /x", "query", "get", "send"], dtype=object)[np.arange(n) % 4],
        "kind": ["server"] + ["client"] * (n - 1), "start": start, "end": end,
        "attributes": [{"k": i % 7, "user.email": "a@b.co" if i % 1000 == 0 else "x"} for i in range(n)],
    })


def run_one(shape: str, n: int, name: str) -> dict:
    import gc

    import numpy as np

    import tracekit as tk
    from tracekit.core import span_tree

    spans = build(shape, n)
    half = spans.iloc[: n // 2]
    gc.collect()
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    calls = {
        "span_tree": lambda: span_tree(spans.copy()),
        "critical_path": lambda: tk.critical_path(spans),
        "critical_path_breakdown": lambda: tk.critical_path_breakdown(tk.critical_path(spans), by="call_path"),
        "critical_path_tree": lambda: tk.critical_path_tree(tk.critical_path(spans)),
        "waterfall_data": lambda: tk.waterfall_data(spans, critical_path=True),
        "compare": lambda: tk.compare(spans, half, n_boot=20),
        "compare_call_path": lambda: tk.compare(spans, half, by="call_path", n_boot=20),
        "diff_traces": lambda: tk.diff_traces(spans, half),
        "what_if": lambda: tk.what_if(spans, {"db": -0.001}, n_boot=0),
        "health_report": lambda: tk.health_report(spans),
        "trace_summary": lambda: tk.trace_summary(spans),
        "self_time": lambda: tk.self_time(spans),
        "service_graph": lambda: tk.service_graph(spans),
        "find_repeated_calls": lambda: tk.find_repeated_calls(spans),
        "timeline": lambda: tk.timeline(spans),
        "find_pii": lambda: tk.find_pii(spans),
        "redact": lambda: tk.redact(spans, ["user.email"], salt="x"),
    }
    t, c = time.perf_counter(), time.process_time()
    calls[name]()
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    del np
    return {"wall": wall, "cpu": cpu, "mb": max(peak - base, 0) / 1024}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10,000 spans per shape")
    ap.add_argument("--spans", type=int, default=None, help="spans per shape (default 100,000)")
    ap.add_argument("--only", default="", help="comma-separated analyses to run")
    ap.add_argument("--shapes", default="chain,fanout")
    ap.add_argument("--limit-gb", type=float, default=6.0, help="address-space limit per run")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per run")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        shape, n, name = args.child
        print(json.dumps(run_one(shape, int(n), name)))
        return
    n = args.spans or (10_000 if args.quick else 100_000)
    names = [a for a in args.only.split(",") if a] or list(ANALYSES)
    limit = int(args.limit_gb * 2**30)

    def _limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    print(f"{n:,} spans per shape; limits {args.limit_gb:g} GB address space, {args.timeout:g} s per run\n")
    print("| analysis | chain wall s | chain CPU s | chain peak MB | fan-out wall s | fan-out CPU s | fan-out peak MB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in names:
        cells = []
        for shape in ("chain", "fanout"):
            if shape not in args.shapes.split(","):
                cells += ["", "", ""]
                continue
            try:
                p = subprocess.run([sys.executable, __file__, "--child", shape, str(n), name], capture_output=True,
                                   text=True, timeout=args.timeout, preexec_fn=_limit)
            except subprocess.TimeoutExpired:
                cells += [f"> {args.timeout:g}", "", ""]
                continue
            if p.returncode != 0:
                err = (p.stderr.strip().splitlines() or ["?"])[-1]
                what = "out of memory" if "MemoryError" in err or p.returncode < 0 else err[:60]
                cells += [what, "", f"> {args.limit_gb * 1024:,.0f}" if what == "out of memory" else ""]
                continue
            r = json.loads(p.stdout.strip().splitlines()[-1])
            cells += [f"{r['wall']:.2f}", f"{r['cpu']:.2f}", f"{r['mb']:,.0f}"]
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
