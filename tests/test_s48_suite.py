"""Session 48, the suite's wall time: what was made faster gives the same results, to the bit.

Speed is measured in the commit messages, never asserted here; each test compares the faster code with a reference
built the way the code was before (a control where the old code passes too)."""

from __future__ import annotations

import numpy as np
import pandas as pd

import tracekit as tk
from tracekit.analysis import skew
from tracekit.core.stats import balanced_median, percentile


def _solve_reference(sn, cn, off, k, weights, max_rounds, trace):
    """skew._solve as it was before session 48: each clock's samples gathered, and balanced_median called, per round."""
    who = np.concatenate([sn, cn])
    other = np.concatenate([cn, sn])
    sign = np.concatenate([np.ones(len(sn)), -np.ones(len(sn))])
    o2 = np.concatenate([off, off])
    t2 = np.concatenate([trace, trace]).astype(np.int64)
    cell = pd.factorize(who.astype(np.int64) * (int(t2.max()) + 1 if len(t2) else 1) + t2)[0]
    w2 = 1.0 / np.bincount(cell)[cell]
    est = skew._edge_fit(sn, cn, off, k)
    order = np.argsort(who, kind="stable")
    bounds = np.searchsorted(who[order], np.arange(k + 1))
    n_pairs = np.bincount(who, minlength=k)
    used = np.flatnonzero(n_pairs)
    visit = used[np.argsort(-n_pairs[used], kind="stable")]
    for _ in range(max_rounds):
        before = est.copy()
        for node_ in visit:
            idx = order[bounds[node_]:bounds[node_ + 1]]
            est[node_] = balanced_median(est[other[idx]] + sign[idx] * o2[idx], w2[idx])
        est[used] -= percentile(est[used], 0.5, weights=weights[used]) if len(used) else 0.0
        if np.max(np.abs(est - before)) < 1e-6:
            break
    return est, who, other, sign, o2


def test_clock_skew_median_rounds_equal_the_per_round_gathering_to_the_bit():
    """Control (passes on the old code too): _solve's median rounds, with each clock's samples gathered once, give the
    offsets of the code that gathered them every round, exactly, on 60 random clock graphs (ties on a 0.5 ms grid,
    clocks called from 1 to 40 times, several pairs of a clock in one trace, rounds cut at 1, 3 and 50)."""
    for seed in range(60):
        rng = np.random.default_rng(seed)
        k = int(rng.integers(2, 12))
        n = int(rng.integers(1, 120))
        sn = rng.integers(0, k, n)
        cn = (sn + rng.integers(1, k, n)) % k
        truth = rng.normal(0, 20, k)
        off = np.round((truth[sn] - truth[cn] + rng.normal(0, 3, n)) * 2) / 2
        trace = rng.integers(0, max(n // 3, 1), n)
        weights = np.bincount(np.r_[sn, cn], minlength=k).astype(np.float64)
        for rounds in (1, 3, 50):
            want = _solve_reference(sn, cn, off, k, weights, rounds, trace)
            got = skew._solve(sn, cn, off, k, weights, rounds, trace)
            for a, b in zip(got, want, strict=True):
                np.testing.assert_array_equal(a, b, err_msg=f"seed {seed}, {rounds} rounds")


def test_detect_clock_skew_on_the_bundled_clock_skew_data_is_the_reference_solver_s(monkeypatch):
    """Control: detect_clock_skew on datasets/clock-skew by service gives the same frame, cell for cell, with
    _solve replaced by the reference (per-round gathering)."""
    from .conftest import read_dataset

    spans = read_dataset("clock-skew")
    got = tk.detect_clock_skew(spans)
    monkeypatch.setattr(skew, "_solve", _solve_reference)
    want = tk.detect_clock_skew(spans)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert len(got) > 0
