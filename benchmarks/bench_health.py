"""Benchmark the structure/health/skew/PII analyses at two sizes, to show they scale linearly.

    python benchmarks/bench_health.py           # ~500,000 and ~1,000,000 spans (clock-skew scenario)
    python benchmarks/bench_health.py --quick   # ~20,000 and ~40,000 spans

Spans come from the project's simulator (``clock-skew`` scenario: 8 services, ~20 spans per
trace, realistic attributes, one skewed host). Each step is timed once per size in this one
process, one after the other; ``health_report`` total is the public call (context + every
check). Prints one markdown table: milliseconds per step at both sizes, the ratio (≈ size ratio
when linear) and nanoseconds per span at the larger size.
"""

from __future__ import annotations

import argparse
import gc
import time

import tracekit as tk
from tracekit.analysis.health import CHECKS, health_context


def _time(fn):
    gc.collect()
    t = time.perf_counter()
    out = fn()
    return (time.perf_counter() - t) * 1e3, out


def measure(n_traces: int, seed: int = 1) -> tuple[int, dict[str, float]]:
    spans = tk.simulate.simulate("clock-skew", n_traces=n_traces, seed=seed).spans
    res: dict[str, float] = {}
    res["health_context (span_tree + trace summary)"], ctx = _time(lambda: health_context(spans))
    for name, check in CHECKS.items():
        res[f"check: {name}"], _ = _time(lambda check=check: check(ctx))
    res["health_report (total, public call)"], _ = _time(lambda: tk.health_report(spans))
    res["trace_summary"], _ = _time(lambda: tk.trace_summary(spans))
    res["self_time"], _ = _time(lambda: tk.self_time(spans))
    res["detect_clock_skew"], skew = _time(lambda: tk.detect_clock_skew(spans))
    res["adjust_clock_skew"], _ = _time(lambda: tk.adjust_clock_skew(spans, skew))
    res["find_pii"], _ = _time(lambda: tk.find_pii(spans))
    res["redact (2 key globs)"], _ = _time(lambda: tk.redact(spans, keys=["user.email", "http.request.header.*"]))
    return len(spans), res


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (~20k and ~40k spans)")
    args = ap.parse_args(argv)
    small, large = (1_000, 2_000) if args.quick else (25_000, 50_000)
    n1, r1 = measure(small)
    n2, r2 = measure(large)
    print(f"| step | {n1:,} spans (ms) | {n2:,} spans (ms) | ratio (sizes: {n2 / n1:.2f}) | ns/span at {n2:,} |")
    print("|---|---:|---:|---:|---:|")
    for k in r1:
        ratio = r2[k] / r1[k] if r1[k] > 0 else float("nan")
        print(f"| {k} | {r1[k]:,.1f} | {r2[k]:,.1f} | {ratio:.2f} | {r2[k] * 1e6 / n2:,.0f} |")


if __name__ == "__main__":
    main()
