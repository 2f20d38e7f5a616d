"""Percentiles and intervals: one rule everywhere (session 40, area "quantiles").

DESIGN.md: "percentiles: one function, ``inverted_cdf`` (an observed value), everywhere". Every interval end a
user reads (compare, what_if, critical_path_tree_diff, cold_starts, version_regressions, weighted_summary,
detect_changes) is now :func:`tracekit.core.interval_ends` of its draws, so it is one of the draws; a p50 column
(peer_outliers) is :func:`tracekit.core.percentile`. The draws of a quantile of integer-millisecond data are
integers (differences of observed values), and those of a mean of n integers are multiples of 1/n: numpy's
default linear rule put the ends between two draws, off that lattice. Also: :mod:`tracekit.core.stats` on
hostile input, and a scan of the package that keeps numpy's and pandas' own quantiles out of it.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.core import (
    exceed_chance,
    interval_ends,
    percentile,
    quantile_draws,
    quantiles_along,
    quantiles_with_zeros,
    upper_limits,
)

from .test_structure import mk, sid, tid

MS = 1_000_000
SEEDS = range(6)


def on_lattice(x, step: float) -> bool:
    """Every number of ``x`` (NaN left out, at least one) a multiple of ``step``."""
    x = np.asarray(x, dtype=float).ravel()
    x = x[~np.isnan(x)]
    return len(x) > 0 and bool(np.allclose(np.round(x / step) * step, x, atol=1e-9, rtol=0))


# ---------------------------------------------------------------------------------------------------------------
# the kernel


def test_interval_ends_are_observed_draws_not_numpys_linear_interpolation():
    draws = [4.0, 1.0, 3.0, 2.0]
    assert np.quantile(draws, [0.025, 0.975]).round(3).tolist() == [1.075, 3.925]  # what 15 places took
    assert interval_ends(draws, 0.95) == (1.0, 4.0)
    # 1,000 draws 1..1000: the 25th and the 975th (1 - 0.95 is 0.05000000000000004 in binary: not the 26th)
    assert interval_ends(np.arange(1.0, 1001.0), 0.95) == (25.0, 975.0)
    assert interval_ends(np.arange(1.0, 1001.0), 0.9) == (50.0, 950.0)


def test_quantiles_along_is_percentile_of_each_row_with_nan_dropped_and_vectorised_shapes():
    rng = np.random.default_rng(7)
    x = rng.integers(0, 30, size=(40, 13)).astype(float)
    x[rng.random(x.shape) < 0.25] = np.nan
    x[3] = np.nan  # a row with no value: NaN, no warning
    qs = [0.0, 0.025, 0.3, 0.5, 0.95, 0.975, 1.0]
    with np.errstate(all="raise"):
        got = quantiles_along(x, qs, axis=1)
    assert got.shape == (len(qs), 40)
    want = np.array([percentile(row, qs) for row in x]).T
    np.testing.assert_array_equal(got, want)
    assert np.isnan(got[:, 3]).all()
    np.testing.assert_array_equal(quantiles_along(x.T, qs, axis=0), got)  # the other axis: the same
    lo, hi = interval_ends(x, 0.95, axis=1)
    np.testing.assert_array_equal(lo, got[1])
    np.testing.assert_array_equal(hi, got[5])
    assert np.isnan(quantiles_along([], 0.5)) and np.isnan(quantiles_along([np.nan], 0.5))
    assert quantiles_along([-np.inf, 1.0, np.inf], [0.0, 0.5, 1.0]).tolist() == [-np.inf, 1.0, np.inf]


@pytest.mark.parametrize("call", [
    lambda: quantiles_along([1.0, 2.0], 1.5),
    lambda: quantiles_along([1.0, 2.0], 0.5, axis=2),
    lambda: quantiles_along(["a", "b"], 0.5),
    lambda: interval_ends([1.0, 2.0], 1.0),
    lambda: interval_ends([1.0, 2.0], "0.95"),
    lambda: quantile_draws(np.array([1.0, 2.0, 3.0]), 1.5, np.array([0.5])),  # was a bare IndexError
    lambda: quantile_draws(np.array([1.0, 2.0, 3.0]), float("nan"), np.array([0.5])),  # a bare ValueError
    lambda: quantile_draws(np.array([1.0, 2.0, 3.0]), "0.5", np.array([0.5])),  # a bare TypeError
    lambda: quantiles_with_zeros(np.array([0, 0, 1]), np.array([5.0, 7.0, 3.0]), 2, 4, [1.5]),  # group 1's 3.0
    lambda: upper_limits([0, 0, 1], [1.0, 2.0, 3.0], 2, 1.5),  # a bare IndexError
    lambda: exceed_chance([5, 0], 1.5),  # chances -0.33 and -0.5
])
def test_levels_outside_0_1_and_bad_arguments_are_argument_errors(call):
    with pytest.raises(tk.ArgumentError):
        call()


def test_stats_kernel_on_hostile_input():
    # weights whose sum passes the float range: the same quantile as any equal weights (numpy's bare ValueError)
    assert percentile([1.0, 2.0, 3.0], 0.5, weights=[1e308] * 3) == percentile([1.0, 2.0, 3.0], 0.5) == 2.0
    assert percentile([1.0, 2.0, 3.0], [0.5, 1.0], weights=[1e308, 1e308, 0.0]).tolist() == [1.0, 2.0]
    # a list of sorted values is taken as the array it is (a bare TypeError before)
    point, draws = quantile_draws([1.0, 2.0, 3.0, 4.0], 0.5, np.array([0.0, 0.999]))
    assert (point, draws.tolist()) == (2.0, [1.0, 4.0])
    assert quantile_draws(np.array([5.0]), 1.0, np.array([0.3]))[1].tolist() == [5.0]


# ---------------------------------------------------------------------------------------------------------------
# the analyses: every interval end on the lattice of its draws


def _requests(roots, childs, first: int) -> pd.DataFrame:
    """One request per entry: api root of ``roots[i]`` ms, its db call of ``childs[i]`` ms inside it."""
    rows = []
    for i, (r, c) in enumerate(zip(roots, childs, strict=True)):
        t, s = first + i, 1000 * i
        rows += [(t, 2 * t, None, "api", "GET /", "server", s, s + int(r)),
                 (t, 2 * t + 1, 2 * t, "db", "q", "client", s + 1, s + 1 + int(c))]
    return mk(rows)


N = 6


@pytest.fixture(scope="module")
def pair():
    rng = np.random.default_rng(3)
    ra, rb = rng.integers(20, 200, N), rng.integers(20, 100, N)
    # even db times: halved by what_if they stay whole milliseconds
    return _requests(ra, (ra - 2) // 4 * 2, first=1), _requests(rb, (rb - 2) // 4 * 2, first=100)


def test_compare_interval_ends_are_draws(pair):
    a, b = pair
    for seed in SEEDS:  # 9 draws, 90 %: numpy's linear ends sat between draws in 6 seeds of 6
        c = tk.compare(a, b, n_boot=9, ci=0.9, seed=seed)
        o = c.overall.set_index("stat")
        assert on_lattice(o.loc[["p50_ms", "p95_ms", "p99_ms"], ["delta_lo", "delta_hi"]], 1.0), seed
        assert on_lattice(o.loc[["mean_ms"], ["delta_lo", "delta_hi"]], 1 / N), seed
        assert on_lattice(c.table[["delta_p95_ms_lo", "delta_p95_ms_hi"]], 1.0), seed
        assert on_lattice(c.table[["delta_cp_ms_lo", "delta_cp_ms_hi"]], 1 / N), seed


def test_what_if_summary_interval_ends_are_draws(pair):
    a, _ = pair
    for seed in SEEDS:
        w = tk.what_if(a, {"db:q": "x0.5"}, n_boot=9, ci=0.9, seed=seed).summary.set_index("statistic")
        assert on_lattice(w.loc[["p50_ms", "p95_ms", "p99_ms"], ["delta_lo", "delta_hi"]], 1.0), seed
        assert on_lattice(w.loc[["mean_ms"], ["delta_lo", "delta_hi"]], 1 / N), seed


def test_critical_path_tree_diff_interval_ends_are_draws():
    def two(db_ms: int, first: int) -> pd.DataFrame:
        rows = []
        for i in range(2):
            t, s = first + i, 1000 * i
            rows += [(t, 2 * t, None, "api", "GET /", "server", s, s + 20 + db_ms),
                     (t, 2 * t + 1, 2 * t, "db", "q", "client", s + 10, s + 10 + db_ms)]
        return mk(rows)

    # every request's times are the same whole ms on a side: a Poisson resample's mean is that time, or 0 when
    # it drew no request, so every draw of a difference is a whole number of ms
    sa, sb = two(10, 1), two(4, 50)
    ca, cb = tk.critical_path(sa), tk.critical_path(sb)
    for seed in SEEDS:
        f = tk.critical_path_tree_diff(ca, cb, spans_a=sa, spans_b=sb, n_boot=19, ci=0.9, seed=seed)
        assert on_lattice(f[["delta_total_lo", "delta_total_hi", "delta_self_lo", "delta_self_hi"]], 1.0), seed


def test_version_regressions_and_weighted_summary_interval_ends_are_draws():
    rng = np.random.default_rng(0)
    d = [*rng.integers(10, 40, 8), *rng.integers(30, 90, 8)]
    n = len(d)
    spans = tk.spans_from_columns({
        "trace_id": [tid(i + 1) for i in range(n)], "span_id": [sid(i + 1) for i in range(n)],
        "service": ["pay"] * n, "name": ["GET /"] * n, "start": [i * 1000 * MS for i in range(n)],
        "end": [i * 1000 * MS + int(x) * MS for i, x in enumerate(d)],
        "resource": [{"service.version": "1.0" if i < 8 else "1.1"} for i in range(n)]})
    for seed in SEEDS:
        r = tk.version_regressions(spans, n_boot=9, ci=0.9, seed=seed)
        assert on_lattice(r[["delta_p50_ms_lo", "delta_p50_ms_hi", "delta_p95_ms_lo", "delta_p95_ms_hi"]], 1.0), seed
        # every trace weighs 2: an estimated count is twice a resample's count, a p50 an observed latency
        w = tk.weighted_summary(spans, 2.0, n_boot=9, ci=0.9, seed=seed, min_traces=1)
        assert on_lattice(w[["p50_ms_lo", "p50_ms_hi", "est_requests_lo", "est_requests_hi"]], 1.0), seed


def test_cold_starts_init_p50_interval_ends_are_observed_init_times():
    spans = tk.examples.load("cold-starts-small")
    for seed in SEEDS:
        c = tk.cold_starts(spans, n_boot=9, ci=0.9, seed=seed).iloc[0]
        assert c.cold_starts == 2
        # two cold starts: their p50 is the shorter init time, and their mean gives the other
        init = (c.init_p50_ms, 2 * c.init_mean_ms - c.init_p50_ms)
        for end in (c.init_p50_lo, c.init_p50_hi):
            assert min(abs(end - x) for x in init) < 1e-9, (seed, end, init)


# ---------------------------------------------------------------------------------------------------------------
# the rule, kept


#: (file, call) → why a quantile or median that is not core.percentile's is meant there
ALLOWED = {
    ("tracekit/analysis/attribution/bubble.py", "np.quantile("):
        "edges of equal-count buckets of a numeric key (like plotting bin edges): a grouping read as a range",
    ("tracekit/analysis/attribution/__init__.py", ".quantile("):
        "a user's own selection in a docstring example, not the package's",
    ("tracekit/analysis/metric_evidence.py", "np.median("):
        "the centre and robust spread of a metric series' two-sided reach (module docstring's rule)",
    ("tracekit/analysis/workflows.py", "np.median("): "a typical job length that sets the queue replay's slack",
    ("tracekit/analysis/metric_series.py", ".median("): "a series' typical step between points",
    ("tracekit/analysis/sampling/bias.py", "np.nanmedian("): "the typical sampling ratio of the windows",
    ("tracekit/analysis/skew.py", ".median("): "the offsets' robust spread",
}
_CALL = re.compile(r"\b(?:np|numpy)\.(?:nan)?(?:quantile|percentile|median)\(|\.quantile\(|\.median\(")


def test_no_quantile_of_numpy_or_pandas_outside_the_kernel():
    root = Path(tk.__file__).parent
    found = set()
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root.parent).as_posix()
        if rel == "tracekit/core/stats.py":
            continue
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for m in _CALL.finditer(line):
                call = m.group(0)
                key = (rel, call if call.startswith(".") else call.replace("numpy.", "np."))
                assert key in ALLOWED, (f"{rel}:{lineno}: {call} — every percentile a user reads is "
                                        "tracekit.core.percentile / quantiles_along / interval_ends (inverted_cdf)")
                found.add(key)
    assert found == set(ALLOWED)  # an allowance no longer used goes too
