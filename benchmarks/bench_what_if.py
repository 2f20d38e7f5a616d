"""Benchmark what_if re-timing every trace against the JSON read of the same spans (target <= 1x).

    python benchmarks/bench_what_if.py            # ~160,000 spans
    python benchmarks/bench_what_if.py --quick    # ~20,000 spans

The simulator's baseline scenario written as OTLP JSON lines; ``tk.read`` of the file, then
``tk.what_if`` halving the service of the request roots (so every trace is re-timed), with the
default bootstrap of the summary and with ``n_boot=0``; best CPU time of ``--rounds`` rounds,
alternating, in one process. Prints one markdown table of ratios to the read.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tracekit as tk  # noqa: E402
from tracekit.io.write import write_otlp  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--traces", type=int, default=8000)
    ap.add_argument("--quick", action="store_true", help="1,000 traces")
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args(argv)
    sim = tk.simulate.simulate("baseline", n_traces=1000 if a.quick else a.traces, seed=1).spans
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / "spans.jsonl"
        write_otlp(sim, src)
        spans = tk.read(src)
        root = spans.loc[spans["parent_id"].isna(), "service"].value_counts().index[0]
        best: dict[str, float] = {}
        out = None
        for _ in range(a.rounds):
            for name, fn in (("read", lambda: tk.read(src)),
                             ("what_if", lambda: tk.what_if(spans, {root: "x0.5"})),
                             ("what_if n_boot=0", lambda: tk.what_if(spans, {root: "x0.5"}, n_boot=0))):
                gc.collect()
                t = time.process_time()
                out = fn()
                best[name] = min(best.get(name, 1e18), time.process_time() - t)
        r = tk.what_if(spans, {root: "x0.5"}, n_boot=0)
        del out
    print("| spans | traces re-timed | read s | what_if s (ratio) | what_if n_boot=0 s (ratio) |")
    print("|---|---|---|---|---|")
    j = best["read"]
    print(f"| {len(spans):,} | {r.changed_traces:,} of {spans['trace_id'].nunique():,} | {j:.2f} | {best['what_if']:.2f} "
          f"({best['what_if'] / j:.2f}x) | {best['what_if n_boot=0']:.2f} ({best['what_if n_boot=0'] / j:.2f}x) |")
    print(f"\nbest CPU time of {a.rounds} rounds, alternating, one process; change: {root!r} x0.5")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
