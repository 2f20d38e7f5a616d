"""tracekit.core.distributions computes what scipy.stats computes, to the bit, without importing it.

scipy.stats is the oracle here (tests may import it); the analyses must not (a test below makes it unimportable
and runs two reports and a ranking)."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tracekit.core import distributions as d

RNG = np.random.default_rng(20261126)


def _same(got, want) -> None:
    """Equal values, NaN where NaN, and a scalar where scipy gives a scalar."""
    assert np.shape(got) == np.shape(want), (np.shape(got), np.shape(want))
    np.testing.assert_array_equal(np.asarray(got, dtype=float), np.asarray(want, dtype=float))


#: quantiles, edges and invalid ones
Q = np.array([0.0, 1e-300, 1e-12, 0.001, 0.025, 0.3, 0.5, 0.7, 0.975, 0.999, 1 - 1e-12, 1.0, -0.1, 1.1, np.nan])


def test_normal_quantile_and_tail_equal_scipy():
    _same(d.normal_ppf(Q), stats.norm.ppf(Q))
    x = np.array([-np.inf, -40.0, -3.0, -1.0, 0.0, 0.5, 1.96, 8.0, 40.0, np.inf, np.nan])
    _same(d.normal_sf(x), stats.norm.sf(x))
    for v in (0.975, 0.5):
        _same(d.normal_ppf(v), stats.norm.ppf(v))
    _same(d.normal_sf(1.0), stats.norm.sf(1.0))


@pytest.mark.filterwarnings("ignore:Error in function boost")  # both sides, at q = 1e-300 with a = 1e5
def test_beta_quantile_equals_scipy_over_a_grid_with_edges_and_bad_shapes():
    q, a, b = np.meshgrid(Q, [0.5, 1.0, 3.5, 120.5, 1e5, 0.0, -1.0, np.nan],
                          [0.5, 2.0, 7.0, 5000.5, 0.0, np.nan], indexing="ij")
    _same(d.beta_ppf(q, a, b), stats.beta.ppf(q, a, b))
    _same(d.beta_ppf(0.025, 3.5, 10.5), stats.beta.ppf(0.025, 3.5, 10.5))
    # broadcasting a scalar against arrays, as timeline's intervals do
    x = RNG.uniform(0, 50, 200)
    _same(d.beta_ppf(0.975, x + 0.5, 60 - x + 0.5), stats.beta.ppf(0.975, x + 0.5, 60 - x + 0.5))


def test_binomial_tail_equals_scipy_inside_outside_the_support_and_for_bad_parameters():
    k = np.array([-np.inf, -5, -1, -0.5, 0, 0.5, 1, 2, 3.7, 9, 10, 11, 1e9, np.inf, np.nan])
    n = np.array([0, 1, 10, 10.5, -1, 1000, np.nan])
    p = np.array([0.0, 1e-9, 0.1, 0.5, 0.999, 1.0, -0.1, 1.5, np.nan])
    kk, nn, pp = np.meshgrid(k, n, p, indexing="ij")
    _same(d.binom_sf(kk, nn, pp), stats.binom.sf(kk, nn, pp))
    _same(d.binom_sf(3, 10, 0.2), stats.binom.sf(3, 10, 0.2))
    # many random draws of the shapes the analyses pass (counts, a rate per group)
    n = RNG.integers(0, 3000, 500)
    k = np.floor(RNG.uniform(-2, 1.1, 500) * n)
    p = RNG.uniform(0, 1, 500)
    _same(d.binom_sf(k, n, p), stats.binom.sf(k, n, p))


def test_binomial_quantile_equals_scipy():
    q, n, p = np.meshgrid(Q, [0, 1, 7, 200, 10.5, -1, np.nan], [0.0, 0.05, 0.5, 0.95, 1.0, 1.2], indexing="ij")
    _same(d.binom_ppf(q, n, p), stats.binom.ppf(q, n, p))
    _same(d.binom_ppf(0.025, 100, 0.95), stats.binom.ppf(0.025, 100, 0.95))


@pytest.mark.parametrize("fn", ["sf", "cdf"])
def test_hypergeometric_tails_equal_scipy_inside_outside_the_support_and_for_bad_parameters(fn):
    ours = {"sf": d.hypergeom_sf, "cdf": d.hypergeom_cdf}[fn]
    theirs = getattr(stats.hypergeom, fn)
    k = np.array([-np.inf, -3, -1, 0, 1, 2, 4, 6, 7, 12, 13, 30, np.inf, np.nan])
    big_m = np.array([0, 1, 20, 20.5, 40, np.nan])
    n = np.array([0, 7, 20, 21, -1])
    big_n = np.array([0, 12, 20, 25])
    grid = np.meshgrid(k, big_m, n, big_n, indexing="ij")
    _same(ours(*grid), theirs(*grid))
    _same(ours(4, 20, 7, 12), theirs(4, 20, 7, 12))
    # the sizes course_changes and bubble_up pass: thousands of spans, tails down to 1e-300
    big_m = RNG.integers(1, 40_000, 400)
    n = (RNG.uniform(0, 1, 400) * big_m).astype(int)
    big_n = (RNG.uniform(0, 1, 400) * big_m).astype(int)
    k = (RNG.uniform(-0.1, 1.1, 400) * np.minimum(n, big_n)).astype(int)
    _same(ours(k - 1, big_m, n, big_n), theirs(k - 1, big_m, n, big_n))


def test_the_one_sided_tests_equal_scipy():
    for k, n, p in [(0, 10, 0.3), (1, 1, 0.5), (7, 10, 0.5), (40, 50, 0.2), (3, 1000, 0.001), (5, 5, 1.0)]:
        assert d.binom_test_greater(k, n, p) == stats.binomtest(k, n, p, alternative="greater").pvalue
    tables = [[[8, 2], [1, 5]], [[0, 0], [3, 4]], [[0, 5], [0, 7]], [[3, 0], [0, 4]], [[1, 2], [3, 4]],
              *[RNG.integers(0, 400, (2, 2)).tolist() for _ in range(200)]]
    for t in tables:
        assert d.fisher_exact_greater(t) == stats.fisher_exact(t, alternative="greater").pvalue, t
    with pytest.raises(ValueError, match="2x2 table of counts"):
        d.fisher_exact_greater([[1, -1], [2, 3]])


def test_the_chi_square_test_of_two_mixes_equals_scipy():
    """The postmortem's traffic-mix check (route counts of incident and baseline) without scipy.stats."""
    for _ in range(300):
        t = RNG.integers(0, 60, (int(RNG.integers(2, 4)), int(RNG.integers(2, 7))))
        t[:, t.sum(axis=0) == 0] = 1  # scipy refuses a zero column; ours leaves it out (the same test)
        assert d.chi2_contingency_p(t) == stats.chi2_contingency(t, correction=False)[1], t.tolist()
    x = np.r_[-1.0, 0.0, RNG.uniform(0, 40, 50)]
    for df in (1, 2, 7):
        assert np.array_equal(d.chi2_sf(x, df), stats.chi2.sf(x, df))
    assert d.chi2_contingency_p([[3, 0], [5, 0]]) == 1.0 and d.chi2_contingency_p([[1, 2]]) == 1.0


@pytest.mark.slow  # two reports and a ranking with logs and metrics (~5 s on two loaded cores)
def test_a_report_never_imports_scipy_stats(monkeypatch):
    """``import scipy.stats`` took 0.9-1.4 s of every process that ranked causes or wrote a report (a tenth of
    the CLI report of the bundled incident). With it made unimportable, the reports of a Lambda shop against its
    baseline and of a sampled one, and a ranking with logs and metrics, run, and between them call every function
    of tracekit.core.distributions and average_ranks (the analyses import them where scipy.stats was imported)."""
    import collections

    import scipy

    import tracekit as tk
    import tracekit.analysis.changes as changes
    from tracekit.reporting import collect_report
    from tracekit.simulate_faults import fault_window

    monkeypatch.setitem(sys.modules, "scipy.stats", None)  # `import scipy.stats` raises ImportError now
    monkeypatch.delattr(scipy, "stats", raising=False)  # and `from scipy import stats` (scipy's __getattr__) too
    with pytest.raises(ImportError):
        from scipy import stats as _  # noqa: F401
    calls: collections.Counter = collections.Counter()

    def spy(name, f):
        return lambda *a, **k: (calls.update([name]), f(*a, **k))[1]

    for name in d.__all__:
        monkeypatch.setattr(d, name, spy(name, getattr(d, name)))
    monkeypatch.setattr(changes, "average_ranks", spy("average_ranks", changes.average_ranks))
    incident, baseline = (tk.simulate.simulate("cold-starts", 300, seed=s).spans for s in (1, 2))
    collect_report(incident, baseline=baseline)
    mid = incident["start"].min() + pd.Timedelta("20min")  # ten minutes with no span: the no-data rule's rate bound
    tk.timeline(incident[(incident["start"] < mid) | (incident["start"] >= mid + pd.Timedelta("10min"))])
    collect_report(tk.simulate.simulate("error-undersampling", 300, seed=3).spans)
    w = fault_window("return", 3)
    tk.rank_causes(w.incident, w.baseline, logs=w.logs, metrics=w.metrics)
    assert set(calls) == {*d.__all__, "average_ranks"}, calls


def test_average_ranks_equal_rankdata_with_ties_and_nan():
    from tracekit.core.stats import average_ranks

    for x in ([], [3.0], [2.0, 2.0, 2.0], [1, 2, 1, 3, 2, 1, 2, 9, 8, 9, 9, 8], RNG.integers(0, 20, 500),
              RNG.normal(size=300), [1.0, np.nan, 2.0], [np.inf, -np.inf, 0.0, np.inf]):
        _same(average_ranks(x), stats.rankdata(x))


def test_gamma_quantile_equals_scipy_over_a_grid_with_edges_and_bad_shapes():
    """(no_data_buckets' lower bound of a Poisson rate: gamma_ppf(0.1, count))"""
    q, a = np.meshgrid(Q, [0.5, 1.0, 3.0, 20.0, 200.0, 1e5, 0.0, -1.0, np.nan], indexing="ij")
    _same(d.gamma_ppf(q, a), stats.gamma.ppf(q, a))
    _same(d.gamma_ppf(0.1, 20.0), stats.gamma.ppf(0.1, 20.0))


def test_betabinomial_tail_equals_scipy_and_is_the_law_of_exceeding_a_baseline_order_statistic():
    """betabinom_sf against scipy.stats.betabinom.sf over drawn shapes (to 1e-9 relative where scipy's 1 - cdf is
    exact enough to compare), and against a simulation of what it stands for in the postmortem: how many of n new
    values exceed the j-th largest of m others, all drawn alike."""
    for _ in range(300):
        n = int(RNG.integers(0, 400))
        k = int(RNG.integers(-2, n + 2))
        a, b = RNG.uniform(0.2, 40), RNG.uniform(0.2, 400)
        got, want = d.betabinom_sf(k, n, a, b), float(stats.betabinom.sf(k, n, a, b))
        if want > 1e-6:
            assert got == pytest.approx(want, rel=1e-9), (k, n, a, b)
        else:
            assert got == pytest.approx(want, abs=1e-9), (k, n, a, b)
    assert np.isnan(d.betabinom_sf(1, 10, 0.0, 1.0)) and np.isnan(d.betabinom_sf(1, 10.5, 1.0, 1.0))
    # the law it is used for: 20 new values against the largest of 8 (a = 1, b = 8) and the 2nd largest of 30
    for m, j in ((8, 1), (30, 2)):
        x = RNG.standard_normal((20000, m + 20))
        base = np.sort(x[:, :m], axis=1)[:, m - j]
        above = (x[:, m:] > base[:, None]).sum(axis=1)
        for k in (2, 5, 9):
            assert (above > k).mean() == pytest.approx(d.betabinom_sf(k, 20, j, m - j + 1), abs=0.012), (m, j, k)
