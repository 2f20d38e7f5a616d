"""Benchmark TraceQL against the time to read the same spans.

    python benchmarks/bench_traceql.py           # ~1,000,000 spans
    python benchmarks/bench_traceql.py --quick   # ~50,000 spans

The spans come from the simulator (``tracekit.simulate``, baseline scenario), written as OTLP
JSON lines by ``tracekit.io.write.write_otlp`` (as benchmarks/bench_read_otlp.py makes its
inputs). In one process, one run each: ``tk.read`` of the file, then (after building the
grammar once, as any first query in a process does) on the frame it returned (span tree not yet built) the queries below, each timed on its first call (cold: the structural
query includes building the span tree) and again (warm: tree cached). Prints one markdown table
with each query's time over the read time; targets: the filter <= 0.1x, the structural query
<= 0.5x. The simulator has no "orders" service, so the issue's filter is run as written (it
matches nothing but computes every mask) and with "checkout", which matches.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

QUERIES = [
    ("filter (issue's)", '{ resource.service.name = "orders" && duration > 100ms }', 0.1),
    ("filter", '{ resource.service.name = "checkout" && duration > 100ms }', 0.1),
    ("attribute filter", '{ span.http.request.method = "POST" && status = error }', None),
    ("structural >>", '{ resource.service.name = "frontend" } >> { status = error }', 0.5),
    ("structural >> (regex)", '{ name =~ "POST .*" } >> { kind = client && duration > 50ms }', 0.5),
    ("pipeline", '{ status = error } | count() > 1', None),
]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="50,000 spans instead of 1,000,000")
    ap.add_argument("--spans", type=int, default=None)
    args = ap.parse_args(argv)
    n_spans = args.spans or (50_000 if args.quick else 1_000_000)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import tracekit as tk
    from tracekit.io.write import write_otlp

    probe = tk.simulate.simulate("baseline", n_traces=200, seed=7).spans
    per_trace = len(probe) / 200
    sim = tk.simulate.simulate("baseline", n_traces=max(1, round(n_spans / per_trace)), seed=7).spans
    with tempfile.TemporaryDirectory() as tmp:
        path = write_otlp(sim, Path(tmp) / "spans.jsonl", lines=True, batch=512)
        del sim
        t0 = time.perf_counter()
        spans = tk.read(path)
        read_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    tk.traceql(spans.head(0), "{ true }")  # builds the lark grammar once per process
    grammar_s = time.perf_counter() - t0
    print(f"{len(spans):,} spans in {spans['trace_id'].nunique():,} traces; read (tk.read, OTLP JSON lines): "
          f"{read_s:.2f} s; grammar built once per process: {grammar_s:.2f} s (not counted below)\n")
    print("| query | spans matched | cold s | cold / read | warm s | warm / read | target |")
    print("|---|---:|---:|---:|---:|---:|---|")
    ok = True
    for label, q, target in QUERIES:
        t0 = time.perf_counter()
        out = tk.traceql(spans, q)
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        tk.traceql(spans, q)
        warm = time.perf_counter() - t0
        verdict = ""
        if target is not None:
            met = cold / read_s <= target
            ok &= met
            verdict = f"<= {target}x: {'met' if met else 'MISSED'}"
        print(f"| `{q}` ({label}) | {len(out):,} | {cold:.3f} | {cold / read_s:.3f} | {warm:.3f} | "
              f"{warm / read_s:.3f} | {verdict} |")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
