"""Benchmark the time axis: timeline + detect_changes against read_otlp of the same data; false positives.

    python benchmarks/bench_timeline.py                # ~1,000,000 spans (~49,000 traces, one hour)
    python benchmarks/bench_timeline.py --quick        # ~50,000 spans
    python benchmarks/bench_timeline.py --fpr 100      # false-positive rate over 100 stationary hours

Speed: simulates one hour of the shop (``simulate("baseline")``), writes it as collector OTLP JSON
lines, then times, alternately (best of ``--rounds``, the machine may be shared): ``read_otlp`` of
the file, and ``timeline(by="service")`` + ``detect_changes(by="service")`` (all three metrics,
``freq="1min"``) on the spans read. The issue asks for the analysis to take at most the read time.

False positives: ``--fpr N`` simulates N stationary hours (``simulate("baseline", 1200, seed)``,
seeds ``--seed0`` (1000)…) and counts the hours where ``detect_changes`` reports any change at ``--alpha``, by
service and by route; prints the rate with its exact (Clopper–Pearson) 95 % upper bound.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import tracekit as tk


def _best(fn, rounds: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(rounds):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def speed(n_traces: int, rounds: int) -> None:
    spans = tk.simulate.simulate("baseline", n_traces, seed=7).spans
    with tempfile.TemporaryDirectory() as d:
        path = tk.write_otlp(spans, Path(d) / "spans.jsonl")
        t_read = t_tl = t_dc = float("inf")
        read = None
        for _ in range(rounds):  # alternate, best of each
            a, read = _best(lambda: tk.read_otlp(path), 1)
            t_read = min(t_read, a)
            b, _ = _best(lambda read=read: tk.timeline(read, by="service"), 1)
            t_tl = min(t_tl, b)
            c, ch = _best(lambda read=read: tk.detect_changes(read, by="service"), 1)
            t_dc = min(t_dc, c)
    n = len(read)
    print("| spans | traces | read_otlp s | timeline s | detect_changes s | (timeline + detect) / read |")
    print("|---|---|---|---|---|---|")
    print(f"| {n:,} | {n_traces:,} | {t_read:.2f} | {t_tl:.2f} | {t_dc:.2f} | {(t_tl + t_dc) / t_read:.2f} |")
    print(f"\nchanges found on the stationary hour: {len(ch)}; series tested: {ch.attrs['params']['n_series']}")


def fpr(hours: int, alpha: float, seed0: int = 1000) -> None:
    from scipy.stats import beta

    hits = {"service": 0, "route": 0}
    t0 = time.perf_counter()
    for seed in range(seed0, seed0 + hours):
        spans = tk.simulate.simulate("baseline", 1200, seed=seed).spans
        for by in hits:
            ch = tk.detect_changes(spans, by=by, alpha=alpha)
            hits[by] += bool(len(ch))
            if len(ch):
                print(f"  seed {seed} by {by}: {ch.iloc[:, :4].to_dict('records')}")
    dt = time.perf_counter() - t0
    print("| by | hours | hours with a change | rate | 95 % upper bound | alpha |")
    print("|---|---|---|---|---|---|")
    for by, k in hits.items():
        ub = float(beta.ppf(0.975, k + 1, hours - k)) if k < hours else 1.0
        print(f"| {by} | {hours} | {k} | {k / hours:.3f} | {ub:.3f} | {alpha} |")
    print(f"\n({dt:.0f} s)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="~50,000 spans instead of ~1,000,000")
    ap.add_argument("--traces", type=int, default=None, help="traces to simulate (overrides the size)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--fpr", type=int, default=0, metavar="HOURS", help="measure the false-positive rate instead")
    ap.add_argument("--alpha", type=float, default=0.01)
    ap.add_argument("--seed0", type=int, default=1000, help="first simulation seed of --fpr")
    args = ap.parse_args()
    if args.fpr:
        fpr(args.fpr, args.alpha, args.seed0)
        return
    n = args.traces or (2_500 if args.quick else 49_000)
    speed(n, args.rounds)


if __name__ == "__main__":
    main()
