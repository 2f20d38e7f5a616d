"""What rank_causes and detect_changes cost against reading the same data, in one run (ratios, median of --rounds).

    python benchmarks/bench_cause_cost.py            # small / medium rank_causes, surges of 10 / 20 / 40 keys
    python benchmarks/bench_cause_cost.py --quick    # small rank_causes, surges of 10 / 20 keys
    python benchmarks/bench_cause_cost.py --nezha    # + a Nezha window (TrainTicket 2023-01-29 10:04:34, logs, metrics)

**rank_causes.** ``simulate("db-lock", n)`` (incident) and ``simulate("baseline", n)`` (baseline), written as OTLP JSON
lines and read back with :func:`tracekit.read`; then ``rank_causes(incident, baseline, window=None)`` on fresh copies
(the per-frame caches cleared: a test or a notebook ranks new frames), default settings and the statistical tests'
(``n_boot=1, lift_rows=0``). Sizes: small (12 + 30 traces, ~250 + 700 spans) and medium (~10,000 spans a side).
Printed: seconds per call and the ratio to the read of both files.

**detect_changes.** A surge of every key's request rate (an hour at ``1min``, 10 -> 30 requests a minute for 20
minutes on every service; ``metric="requests"``): the permutation tests of tied series are the quadratic step
(tracekit.analysis.changes' docstring). Printed: seconds and the ratio to :func:`tracekit.timeline` of the same
spans. With ``--old PATH`` (a copy of an older tracekit/analysis/changes.py) both are timed side by side, alternating,
and their frames compared exactly.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import tracekit as tk
from tracekit.core.cache import clear_cache


def _median(fn, rounds: int) -> float:
    ts = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def surge(n_services: int, seed: int = 0) -> pd.DataFrame:
    """An hour of root spans at 10 a minute per service, 30 a minute from minute 30 to 50 (Poisson)."""
    rng = np.random.default_rng(seed)
    t0 = np.datetime64("2026-03-02T14:00:00", "ns").astype(np.int64)
    starts, svcs = [], []
    for s in range(n_services):
        for minute in range(60):
            k = rng.poisson(30 if 30 <= minute < 50 else 10)
            starts.append(t0 + minute * 60_000_000_000 + rng.integers(0, 60_000_000_000, k))
            svcs += [f"svc{s:03d}"] * k
    st = np.concatenate(starts)
    n = len(st)
    ids = rng.integers(0, 2**63, size=(n, 2))
    return tk.spans_from_columns({
        "trace_id": np.array([f"{a:016x}{b:016x}" for a, b in ids], dtype=object),
        "span_id": np.array([f"{a:016x}" for a in ids[:, 0]], dtype=object), "parent_id": np.full(n, None, dtype=object),
        "service": np.array(svcs, dtype=object), "name": np.full(n, "GET /", dtype=object),
        "start": st, "end": st + rng.integers(1_000_000, 50_000_000, n)})


def ranking(label: str, n_inc: int, n_base: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        paths = []
        for scenario, n, seed in (("db-lock", n_inc, 1), ("baseline", n_base, 2)):
            p = Path(d) / f"{scenario}.jsonl"
            tk.write_otlp(tk.simulate.simulate(scenario, n, seed=seed).spans, p)
            paths.append(p)
        t_read = _median(lambda: [tk.read(p) for p in paths], rounds)
        inc, base = (tk.read(p) for p in paths)
    for kw_label, kw in (("defaults", {}), ("n_boot=1, lift_rows=0", dict(n_boot=1, lift_rows=0))):
        def call(kw=kw):
            clear_cache()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tk.rank_causes(inc.copy(deep=True), base.copy(deep=True), window=None, **kw)
        call()
        t = _median(call, rounds)
        print(f"rank_causes {label} ({len(inc):,} + {len(base):,} spans, {kw_label}): {t:.3f} s a call, "
              f"{t / t_read:.2f} × the read ({t_read:.3f} s)", flush=True)


def nezha(rounds: int) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.nezha import nezha_window

    real = Path(os.environ.get("TRACEKIT_REAL_TRACES", Path(__file__).resolve().parents[2] / "shared" / "real-traces"))
    inc, base, logs, metrics = nezha_window(real, "2023-01-29", "10:04:34", logs=True)

    def call():
        clear_cache()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tk.rank_causes(inc.copy(deep=True), base.copy(deep=True), window=None, n_boot=50, logs=logs,
                           metrics=metrics)
    call()
    print(f"rank_causes Nezha TrainTicket 10:04:34 ({len(inc):,} + {len(base):,} spans, logs, metrics): "
          f"{_median(call, rounds):.2f} s a call", flush=True)


def changes(keys: list[int], rounds: int, old_path: str | None) -> None:
    import tracekit.analysis.changes as new

    old = None
    if old_path:
        spec = importlib.util.spec_from_file_location("tracekit.analysis._changes_old", old_path)
        old = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = old
        spec.loader.exec_module(old)
    for k in keys:
        spans = surge(k)
        t_tl = _median(lambda spans=spans: tk.timeline(spans, by="service", freq="1min"), rounds)
        t = {"new": [], "old": []}
        for _ in range(rounds):
            for name, mod in (("old", old), ("new", new)):
                if mod is None:
                    continue
                t0 = time.perf_counter()
                r = mod.detect_changes(spans, metric="requests")
                t[name].append(time.perf_counter() - t0)
                if name == "old":
                    r_old = r
                elif old is not None:
                    pd.testing.assert_frame_equal(r_old, r, check_exact=True)
        t_new = statistics.median(t["new"])
        side = (f"; old {statistics.median(t['old']):.2f} s (frames identical)" if old is not None else "")
        print(f"detect_changes, surge on {k} services ({len(spans):,} spans, {len(r)} changes): {t_new:.2f} s, "
              f"{t_new / t_tl:.1f} × the timeline ({t_tl:.3f} s){side}", flush=True)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--nezha", action="store_true")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--old", help="an older tracekit/analysis/changes.py, timed side by side")
    args = ap.parse_args(argv)
    ranking("small", 12, 30, args.rounds)
    if not args.quick:
        ranking("medium", 500, 500, args.rounds)
    if args.nezha:
        nezha(args.rounds)
    changes([10, 20] if args.quick else [10, 20, 40], args.rounds, args.old)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
