"""Benchmark bubble_up / version_regressions / cold_starts at two sizes, to show they scale linearly,
and the dict-column explosion against a naive pandas one.

    python benchmarks/bench_attribution.py           # ~250,000 and ~500,000 spans
    python benchmarks/bench_attribution.py --quick   # ~10,000 and ~20,000 spans

Spans come from the simulator (``bad-host`` scenario: 8 services, ~20 spans per trace, OTLP-style
attributes and shared resource dicts). Each step is timed once per size in this one process, one
after the other; wall and CPU time side by side (the machine is shared: compare CPU time).
The naive explosion is ``pd.DataFrame(list_of_dicts).stack()`` per dict column (a wide frame of
every key, then a long one), which is what one writes first; ``_explode`` flattens each distinct
dict object once (resources are shared by many spans) and expands them with numpy.
Prints one markdown table: milliseconds per step at both sizes, the ratio and ns per span.
"""

from __future__ import annotations

import argparse
import gc
import time

import pandas as pd

import tracekit as tk
from tracekit.analysis.attribution.bubble import _explode


def _time(fn):
    """(wall ms, CPU ms) of one call; CPU time is what to compare on a shared machine."""
    gc.collect()
    t, c = time.perf_counter(), time.process_time()
    fn()
    return (time.perf_counter() - t) * 1e3, (time.process_time() - c) * 1e3


def _naive_explode(spans: pd.DataFrame) -> int:
    n = 0
    for col in ("attributes", "resource"):
        wide = pd.DataFrame([d if isinstance(d, dict) else {} for d in spans[col].tolist()])
        n += len(wide.stack())
    return n


def measure(n_traces: int, seed: int = 1) -> tuple[int, dict[str, tuple[float, float]]]:
    spans = tk.simulate.simulate("bad-host", n_traces=n_traces, seed=seed).spans
    summ = tk.trace_summary(spans)
    slow = set(summ.trace_id[summ.request_ms > summ.request_ms.quantile(0.9)])
    res: dict[str, tuple[float, float]] = {}
    res["explode attributes+resource: tracekit _explode"] = _time(
        lambda: (_explode(spans["attributes"], ""), _explode(spans["resource"], "resource.")))
    res["explode attributes+resource: naive DataFrame(dicts).stack()"] = _time(lambda: _naive_explode(spans))
    res["bubble_up (trace level, slowest 10 %)"] = _time(lambda: tk.bubble_up(spans, slow))
    res["bubble_up (span level, slow catalog spans)"] = _time(
        lambda: tk.bubble_up(spans, lambda s: (s.service == "catalog") & (s.duration_ms > 60), level="span"))
    res["version_regressions (n_boot=1000)"] = _time(lambda: tk.version_regressions(spans))
    res["cold_starts (n_boot=1000)"] = _time(lambda: tk.cold_starts(spans))
    return len(spans), res


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (~10k and ~20k spans)")
    args = ap.parse_args(argv)
    small, large = (500, 1_000) if args.quick else (12_500, 25_000)
    import scipy.stats  # noqa: F401  (import cost out of the first timing)

    n1, r1 = measure(small)
    n2, r2 = measure(large)
    print(f"| step | {n1:,} spans: wall / CPU ms | {n2:,} spans: wall / CPU ms | CPU ratio (sizes: {n2 / n1:.2f}) "
          f"| CPU ns/span at {n2:,} |")
    print("|---|---:|---:|---:|---:|")
    for k in r1:
        (w1, c1), (w2, c2) = r1[k], r2[k]
        ratio = c2 / c1 if c1 > 0 else float("nan")
        print(f"| {k} | {w1:,.0f} / {c1:,.0f} | {w2:,.0f} / {c2:,.0f} | {ratio:.2f} | {c2 * 1e6 / n2:,.0f} |")


if __name__ == "__main__":
    main()
