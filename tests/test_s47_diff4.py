"""Sampling, reviewed (s47, diff4): the weight readers on legacy and disagreeing OTel tracestate values, and
sampling_bias's findings on few sampled traces (tracekit.analysis.sampling).

Truth is by construction: tracestate values whose probability is known from the spec (th: thresholds, the legacy
OTEP 168 p-value 2**-p), and samples whose stratum counts give an exact binomial p-value computed here by hand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import tracekit as tk

MS = 10**6
T0 = 1_767_225_600 * 10**9


def _traces(states, *, child_states=None, services=None):
    """One root span per trace (and a child when ``child_states``), tracestates as given."""
    n = len(states)
    tid = ["%032x" % (i + 1) for i in range(n)]
    rows = {"trace_id": tid, "span_id": ["%016x" % (i + 1) for i in range(n)], "parent_id": [None] * n,
            "service": services or ["api"] * n, "name": ["GET /"] * n, "kind": ["server"] * n,
            "start": [T0 + i * 10**9 for i in range(n)], "end": [T0 + i * 10**9 + 10 * MS for i in range(n)],
            "status": ["ok"] * n, "trace_state": list(states)}
    if child_states is not None:
        rows = {k: v + v for k, v in rows.items()}
        rows["span_id"] = ["%016x" % (i + 1) for i in range(2 * n)]
        rows["parent_id"] = [None] * n + ["%016x" % (i + 1) for i in range(n)]
        rows["service"] = rows["service"][:n] + ["db"] * n
        rows["trace_state"] = list(states) + list(child_states)
    return tk.spans_from_columns(rows)


# ----------------------------------------------------------------------------------------- 1. interval coverage

def test_weighted_summary_intervals_cover_the_population_in_200_samples():
    """Control (passes before and after): 200 samples of 600-request populations, two routes kept with probability
    1/2 and 1/8 (the slow, failing one the rarer); the 95 % intervals of the request count, the failed share, the
    p50 and the p95 hold the population's own figure in at least 90 % of samples (the full measurement, with more
    samplers: benchmarks/coverage_sampling.py)."""
    from tracekit.analysis.sampling import weighted_summary
    from tracekit.core import percentile

    held = dict.fromkeys(("est_requests", "error_rate", "p50_ms", "p95_ms"), 0)
    n_pop, samples = 600, 200
    for seed in range(samples):
        rng = np.random.default_rng(seed)
        slow = rng.random(n_pop) < 0.25
        err = rng.random(n_pop) < np.where(slow, 0.12, 0.02)
        dur = rng.lognormal(np.log(np.where(slow, 200.0, 50.0)), 0.5)
        p = np.where(slow, 1 / 8, 1 / 2)
        keep = rng.random(n_pop) < p
        truth = {"est_requests": float(n_pop), "error_rate": float(err.mean()),
                 "p50_ms": float(percentile(dur, 0.5)), "p95_ms": float(percentile(dur, 0.95))}
        k = np.flatnonzero(keep)
        tid = ["%032x" % (seed * 10_000 + i + 1) for i in k]
        spans = tk.spans_from_columns({
            "trace_id": tid, "span_id": ["%016x" % (i + 1) for i in k], "service": ["api"] * len(k),
            "name": ["GET /"] * len(k), "kind": ["server"] * len(k), "start": [T0] * len(k),
            "end": (T0 + np.round(dur[k] * MS)).astype(np.int64), "status": np.where(err[k], "error", "ok")})
        w = pd.Series(1 / p[k], index=tid)
        r = weighted_summary(spans, w, n_boot=100, seed=seed).iloc[0]
        for q in held:
            held[q] += bool(r[f"{q}_lo"] <= truth[q] <= r[f"{q}_hi"])
    assert all(v >= 0.90 * samples for v in held.values()), held
