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

import numpy as np
import pytest

import tracekit as tk
from tracekit.core import interval_ends, percentile, quantile_draws, quantiles_along, quantiles_with_zeros

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
