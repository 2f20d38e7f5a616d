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

__all__ = ["percentile", "quantile_draws", "exceed_chance", "share_beyond_chance", "PERCENTILE_METHOD", "QUANTILES",
           "DEFAULT_N_BOOT", "DEFAULT_CI"]

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


def exceed_chance(n: Any, q: float, k: Any = None) -> np.ndarray:
    """Chance that a new value, exchangeable with ``n`` baseline values, exceeds the k-th smallest of them.

    The inverted_cdf ``q``-quantile of ``n`` values (:func:`percentile`) is the k-th smallest, k = ⌈q·n⌉
    (at least 1), and a new value of an exchangeable sample lies above it with probability
    (n − k + 1) / (n + 1) — 1/6, not 1 − q = 0.05, for n = 5 (order statistics). A threshold at or
    above the k-th smallest value (a histogram's bucket edge holding k of the n values) is exceeded
    with at most that probability. ``rank_causes``' ``slower`` / ``waiting`` evidence and
    ``metric_evidence``'s histogram requests count shares above such thresholds against this chance.

    Parameters
    ----------
    n : array-like of float
        Baseline values per group (0: no baseline, the chance is 1 − q).
    q : float
        The quantile the threshold is (0.95).
    k : array-like of float, optional
        Values at or below the threshold per group (default ⌈q·n⌉, at least 1).

    Returns
    -------
    numpy.ndarray
        One chance per group, in [0, 1].

    Examples
    --------
    >>> exceed_chance([5, 0], 0.95).round(3).tolist()
    [0.167, 0.05]
    >>> exceed_chance([99], 0.95, k=[99]).tolist()
    [0.01]
    """
    n = np.asarray(n, dtype=float)
    kk = np.maximum(np.ceil(q * n), 1.0) if k is None else np.asarray(k, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (n - kk + 1.0) / (n + 1.0), 1.0 - q)


def share_beyond_chance(x: Any, n: Any, chance: Any, prior: float) -> Any:
    """A share ``x / n`` shrunk with ``prior`` pseudo-observations at the ``chance`` rate, minus that chance.

    ``(x + chance · prior) / (n + prior) − chance``: 0 when the observed share is the chance rate, near
    ``x / n − chance`` when ``n`` is much larger than ``prior``, and small for a share of few observations
    (a share measured on 2 spans weighs less than one measured on hundreds). Each evidence share of
    ``rank_causes`` (spans above a baseline quantile, unseen child counts, errors) and of
    ``metric_evidence`` (points outside the baseline's reach, histogram requests above its p95 edge)
    is this.

    Parameters
    ----------
    x : float or numpy.ndarray
        Observations that count (may be weighted: a sum of weights).
    n : float or numpy.ndarray
        Observations (the same weights).
    chance : float or numpy.ndarray
        The share expected by chance (e.g. :func:`exceed_chance`).
    prior : float
        Pseudo-observations at the chance rate (≥ 0).

    Returns
    -------
    float or numpy.ndarray
        The shrunk share beyond chance, in [−chance, 1 − chance].

    Examples
    --------
    >>> round(share_beyond_chance(20, 20, 0.05, 10.0), 4)
    0.6333
    >>> share_beyond_chance(0, 0, 0.05, 10.0)
    0.0
    """
    return (x + chance * prior) / (n + prior) - chance
