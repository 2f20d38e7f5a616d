"""Percentiles: one definition everywhere (numpy's ``inverted_cdf``: always an observed value).

Every p50/p95/p99 in tracekit — trace summaries, health, graphs, comparisons, sampling estimates,
reports, the command line and Dask — is :func:`percentile`. With weights it is the inverse of
the weighted empirical CDF, so uniform weights give exactly the unweighted value.

>>> percentile([101, 102, 103, 104], 0.95)
104.0
>>> percentile([101, 102, 103, 104], [0.5, 0.95], weights=[1, 1, 1, 1]).tolist()
[102.0, 104.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import ArgumentError

__all__ = ["percentile", "quantile_draws", "PERCENTILE_METHOD", "QUANTILES", "DEFAULT_N_BOOT", "DEFAULT_CI"]

#: numpy quantile method used for every percentile
PERCENTILE_METHOD = "inverted_cdf"
#: the quantiles reported as p50_ms / p95_ms / p99_ms
QUANTILES = (0.5, 0.95, 0.99)
#: bootstrap resamples used by every interval unless ``n_boot=`` says otherwise
DEFAULT_N_BOOT = 1000
#: coverage of every interval unless ``ci=`` says otherwise
DEFAULT_CI = 0.95


def percentile(values: Any, q: float | Sequence[float], weights: Any = None) -> float | np.ndarray:
    """The ``q``-quantile(s) of ``values`` (``inverted_cdf``); NaN values (and their weights) are dropped.

    Parameters
    ----------
    values : array-like of float
        Observations (e.g. request latencies in ms).
    q : float or sequence of float
        Quantile(s) in [0, 1] (0.95 for p95).
    weights : array-like of float, optional
        Non-negative weights (e.g. inverse inclusion probabilities); ``None`` for equal weights.

    Returns
    -------
    float or numpy.ndarray
        One value per ``q`` (NaN when no value is left).

    Raises
    ------
    ArgumentError
        ``q`` outside [0, 1], or weights of another length or negative.

    Examples
    --------
    >>> percentile([1.0, 2.0, 3.0], 0.5, weights=[1.0, 1.0, 8.0])
    3.0
    >>> percentile([], 0.5)
    nan
    """
    qa = np.asarray(q, dtype=np.float64)
    if ((qa < 0) | (qa > 1) | np.isnan(qa)).any():
        raise ArgumentError(f"percentile: q must be within [0, 1] (0.95 for p95), got {q!r}")
    x = np.asarray(values, dtype=np.float64).ravel()
    ok = ~np.isnan(x)
    if weights is not None:
        w = np.asarray(weights, dtype=np.float64).ravel()
        if len(w) != len(x):
            raise ArgumentError(f"percentile: {len(w)} weights for {len(x)} values")
        if (w[~np.isnan(w)] < 0).any():
            raise ArgumentError("percentile: weights must not be negative")
        ok &= ~np.isnan(w) & (w > 0)
        if not ok.any():
            return np.full(qa.shape, np.nan) if qa.ndim else float("nan")
        r = np.quantile(x[ok], qa, weights=w[ok], method=PERCENTILE_METHOD)
    else:
        if not ok.any():
            return np.full(qa.shape, np.nan) if qa.ndim else float("nan")
        r = np.quantile(x[ok], qa, method=PERCENTILE_METHOD)
    return float(r) if np.ndim(r) == 0 else np.asarray(r, dtype=np.float64)


def quantile_draws(sorted_values: np.ndarray, q: float, u: np.ndarray) -> tuple[float, np.ndarray]:
    """Point estimate (:func:`percentile`) and bootstrap draws of the ``q``-quantile of sorted values.

    The draws come from the exact distribution of the bootstrap quantile (the k-th order
    statistic of a resample is at most the j-th value with a binomial probability), one per
    uniform number in ``u``; no resampling of the values is needed.

    Parameters
    ----------
    sorted_values : numpy.ndarray
        Values sorted ascending, no NaN.
    q : float
        Quantile in [0, 1].
    u : numpy.ndarray
        Uniform random numbers in [0, 1), one per draw.

    Returns
    -------
    (float, numpy.ndarray)
        The point estimate and the draws (NaN when there are no values).

    Examples
    --------
    >>> import numpy as np
    >>> point, draws = quantile_draws(np.array([1.0, 2.0, 3.0, 4.0]), 0.5, np.array([0.0, 0.999]))
    >>> point, draws.tolist()
    (2.0, [1.0, 4.0])
    """
    from scipy.special import bdtrc

    m = len(sorted_values)
    if m == 0:
        return float("nan"), np.full(len(u), np.nan)
    k = max(int(np.ceil(q * m)), 1)
    j = np.arange(1, m + 1)
    cdf = bdtrc(k - 1, m, j / m)  # P(Binom(m, j/m) >= k)
    cdf[-1] = 1.0
    idx = np.minimum(np.searchsorted(cdf, u, side="left"), m - 1)
    return float(sorted_values[k - 1]), sorted_values[idx]


def holm(p: Any) -> np.ndarray:
    """Holm's step-down adjustment of p-values (family-wise error rate), in the input order.

    >>> holm([0.01, 0.04, 0.03]).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p, dtype=float)
    m = len(p)
    if not m:
        return p
    order = np.argsort(p, kind="stable")
    adj = np.minimum(1.0, np.maximum.accumulate(p[order] * (m - np.arange(m))))
    out = np.empty(m)
    out[order] = adj
    return out
