"""Benchmark tracekit.analysis.sampling on a generated sampled population.

    python benchmarks/bench_sampling.py           # 200,000 population traces (600,000 spans)
    python benchmarks/bench_sampling.py --quick   # 20,000 population traces

Builds a population (3 spans per trace: root, child, grandchild; errors concentrated in a traffic
spike), then measures in one process, one after the other: simulate_sampling with the X-Ray SDK
default rule (1/s + 5 %) and with a 10 % probability sampler, sampling_weights from the thresholds
of the probability-sampled spans, weighted_summary (400 Poisson-bootstrap resamples, overall and by
service), the same bootstrap done the obvious way (a Python loop of np.quantile per resample) on the
same data as a reference, and sampling_bias against the population. Prints one markdown table.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

import tracekit as tk
from tracekit.analysis.sampling import (
    sampling_bias,
    sampling_weights,
    simulate_sampling,
    weighted_summary,
)
from tracekit.analysis.sampling.traces import trace_table

T0 = 1_767_225_600 * 10**9
SDK_DEFAULT = {"version": 2, "default": {"fixed_target": 1, "rate": 0.05}, "rules": []}


def population(n_traces: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    seconds = max(60, n_traces // 20)
    t = rng.uniform(0, seconds, n_traces)
    spike = (t > seconds * 0.4) & (t < seconds * 0.5)
    err = rng.random(n_traces) < np.where(spike, 0.3, 0.02)
    dur = rng.lognormal(np.log(50), 0.6, n_traces) * np.where(err, 3, 1) + 5
    services = np.array(["checkout", "catalog", "cart", "search"])[rng.integers(0, 4, n_traces)]
    tids = [f"{a:016x}{b:016x}" for a, b in zip(rng.integers(0, 2**63, n_traces), rng.integers(0, 2**63, n_traces), strict=False)]
    start = (T0 + t * 1e9).astype(np.int64)
    end = start + (dur * 1e6).astype(np.int64)
    n = n_traces
    ids = [f"{i + 1:016x}" for i in range(3 * n)]
    empty_d, empty_l = {}, []
    return tk.spans_from_columns({
        "trace_id": tids * 3, "span_id": ids, "parent_id": [None] * n + ids[:n] + ids[n:2 * n],
        "service": np.concatenate([services, np.full(n, "db"), np.full(n, "disk")]),
        "name": ["GET /"] * n + ["query"] * n + ["read"] * n,
        "start": np.concatenate([start, start + 1_000_000, start + 2_000_000]),
        "end": np.concatenate([end, end - 1_000_000, end - 2_000_000]),
        "status": np.concatenate([np.full(n, "ok"), np.where(err, "error", "ok"), np.full(n, "ok")]),
        "fault": np.concatenate([np.zeros(n, bool), err, np.zeros(n, bool)]),
        "attributes": [empty_d] * (3 * n), "resource": [empty_d] * (3 * n),
        "events": [empty_l] * (3 * n), "links": [empty_l] * (3 * n)})


def loop_bootstrap(spans: pd.DataFrame, w: pd.DataFrame, n_boot: int, seed: int) -> np.ndarray:
    """Reference: one resample at a time, np.quantile with weights, Python loop."""
    tt = trace_table(spans)
    weights = tt["trace_id"].map(pd.Series(w["weight"].to_numpy(), index=w["trace_id"].to_numpy())).to_numpy(float)
    d = tt["request_ms"].to_numpy(float)
    rng = np.random.default_rng(seed)
    out = np.empty(n_boot)
    for b in range(n_boot):
        m = rng.poisson(1.0, len(d))
        ww = m * weights
        keep = ww > 0
        out[b] = np.quantile(d[keep], 0.95, weights=ww[keep], method="inverted_cdf")
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20,000 population traces")
    args = ap.parse_args(argv)
    n = 20_000 if args.quick else 200_000
    import scipy.stats  # noqa: F401  (imported once up front, not inside a timed step)

    t = time.perf_counter()
    pop = population(n)
    rows = [("build population (spans_from_columns)", n, len(pop), time.perf_counter() - t, "")]

    def timed(label, fn, traces, spans, note=""):
        t0 = time.perf_counter()
        res = fn()
        rows.append((label, traces, spans, time.perf_counter() - t0, note))
        return res

    sim_x = timed("simulate_sampling, X-Ray 1/s + 5 %", lambda: simulate_sampling(pop, SDK_DEFAULT), n, len(pop))
    rows[-1] = rows[-1][:4] + (f"kept {int(sim_x.traces['kept'].sum())} traces",)
    sim_p = timed("simulate_sampling, probability 0.1", lambda: simulate_sampling(pop, probability=0.1), n, len(pop))
    sample = sim_p.spans
    k = int(sim_p.traces["kept"].sum())
    rows[-1] = rows[-1][:4] + (f"kept {k} traces",)
    w = timed("sampling_weights (ot=th thresholds)", lambda: sampling_weights(sample), k, len(sample))
    est = timed("weighted_summary, 400 resamples", lambda: weighted_summary(sample, w, n_boot=400), k, len(sample))
    timed("weighted_summary by service, 400 resamples",
          lambda: weighted_summary(sample, w, by="service", n_boot=400), k, len(sample))
    ref = timed("reference: p95 bootstrap as a Python loop, 400 resamples",
                lambda: loop_bootstrap(sample, w, 400, 0), k, len(sample))
    rows[-1] = rows[-1][:4] + (f"p95 interval {np.quantile(ref, 0.025):.1f}-{np.quantile(ref, 0.975):.1f} ms vs "
                               f"{est['p95_ms_lo'].iloc[0]:.1f}-{est['p95_ms_hi'].iloc[0]:.1f} ms vectorised",)
    timed("sampling_bias vs population spans", lambda: sampling_bias(sample, pop, by="service", weights=w),
          k, len(sample))
    print(f"\n### tracekit.analysis.sampling, {n:,} population traces ({len(pop):,} spans)\n")
    print("| step | traces | spans | seconds | traces/s | note |")
    print("|---|---:|---:|---:|---:|---|")
    for label, tr, sp, sec, note in rows:
        print(f"| {label} | {tr:,} | {sp:,} | {sec:.3f} | {tr / sec:,.0f} | {note} |")


if __name__ == "__main__":
    main()
