"""Session 44, changes3: the permutation count of detect_changes' Holm family (holm_permutations).

With 4 / (alpha / n_tests) permutations a series passed the first Holm step only when at most 3 permuted maxima
reached it: the Monte Carlo resolution, not the evidence, decided series whose exact p-value was a fraction of the
threshold. 20 / (alpha / n_tests) lets 19 reach it; the test stays exact (its level does not rise)."""
import numpy as np
import pandas as pd

import tracekit as tk
from tracekit.analysis.changes import epidemic_tests, holm_permutations
from tracekit.core import holm
from tracekit.simulate import AppConfig


def test_a_nine_minute_lock_in_four_hours_is_found_at_one_minute():
    """db-lock injected in 16:00-16:09 of 4 hours (seed 5): its /checkout p95 window's exact p-value is about 0.00075
    against the 0.00125 of the first Holm step (4 series at alpha 0.005); at 3,200 permutations 4 permuted maxima
    reached it (p 0.0016) and no change was reported. The truth is the injected window."""
    t0 = pd.Timestamp("2026-03-02T16:00:00Z")
    sim = tk.simulate.simulate("db-lock", 4000, seed=5, config=AppConfig(duration_s=4 * 3600),
                               window_start=t0, window_end=t0 + pd.Timedelta(minutes=9))
    ch = tk.detect_changes(sim.spans, by="route", metric=("p95_ms", "error_rate"), freq="1min", alpha=0.005)
    row = ch[(ch["route"] == "/checkout") & (ch["metric"] == "p95_ms")]
    assert len(row) == 1
    assert abs(row["onset"].iloc[0] - t0) <= pd.Timedelta("2min")


def test_the_level_on_exchangeable_series_holds():
    """Control (passes on both): 150 calls of 7 iid series of 60 buckets, Holm at alpha 0.05: calls with any series
    passing stay within the binomial bound of 0.05 (at most 15 of 150, P about 0.93 under the nominal rate)."""
    rng = np.random.default_rng(11)
    n = holm_permutations(7, 0.05)
    hits = 0
    for c in range(150):
        vals = [rng.lognormal(0, 0.3, 60) for _ in range(7)]
        res = epidemic_tests(vals, n_perm=n, seed=c, direction="up")
        hits += bool((holm(np.array([r[3] for r in res])) <= 0.05).any())
    assert hits <= 15
