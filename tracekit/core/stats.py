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

__all__ = ["percentile", "balanced_median", "balanced_medians_grouped", "quantiles_along", "interval_ends", "quantiles_with_zeros", "average_ranks", "quantile_draws", "quantile_draws_grouped", "exceed_chance", "upper_limits", "normal_slices", "share_beyond_chance", "ROBUST_SPREAD", "PERCENTILE_METHOD", "QUANTILES",
           "DEFAULT_N_BOOT", "DEFAULT_CI"]

#: numpy quantile method used for every percentile
PERCENTILE_METHOD = "inverted_cdf"
#: the quantiles reported as p50_ms / p95_ms / p99_ms
QUANTILES = (0.5, 0.95, 0.99)
#: fewest values of a slice for its q-quantile to enter the median slice limit (upper_limits' ``slices``)
MIN_SLICE_VALUES = 5
#: fewest such slices of a group for its abnormal slices to be looked for
MIN_SLICES = 3
#: family-wise rate at which a normal slice of a group is taken for an abnormal one
SLICE_ALPHA = 0.01

#: bootstrap resamples used by every interval unless ``n_boot=`` says otherwise
DEFAULT_N_BOOT = 1000
#: coverage of every interval unless ``ci=`` says otherwise
DEFAULT_CI = 0.95


def _levels(q: Any, func: str) -> np.ndarray:
    """``q`` as float64 quantile levels in [0, 1], or an ArgumentError naming ``func`` (one check for every
    function here: a level above 1 read past the end of its values, an IndexError or another group's value)."""
    qa = _floats(q, "q")
    if ((qa < 0) | (qa > 1) | np.isnan(qa)).any():
        raise ArgumentError(f"{func}: q must be within [0, 1] (0.95 for p95), got {q!r}")
    return qa


def _floats(a: Any, what: str) -> np.ndarray:
    """``a`` as float64, or an ArgumentError naming the argument (numpy raised a bare ValueError on text)."""
    try:
        return np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ArgumentError(f"percentile: {what} must be numbers, got {str(a)[:80]}") from exc


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
        ``q`` outside [0, 1], values, ``q`` or weights that are not numbers, or weights of another length,
        negative or infinite.

    Examples
    --------
    >>> percentile([1.0, 2.0, 3.0], 0.5, weights=[1.0, 1.0, 8.0])
    3.0
    >>> percentile([], 0.5)
    nan
    """
    qa = _levels(q, "percentile")
    x = _floats(values, "values").ravel()
    ok = ~np.isnan(x)
    if weights is not None:
        w = _floats(weights, "weights").ravel()
        if len(w) != len(x):
            raise ArgumentError(f"percentile: {len(w)} weights for {len(x)} values")
        if (w[~np.isnan(w)] < 0).any():
            raise ArgumentError("percentile: weights must not be negative")
        if np.isinf(w).any():  # numpy's own ValueError, naming nothing, before
            raise ArgumentError("percentile: weights must be finite, got an infinite weight")
        ok &= ~np.isnan(w) & (w > 0)
        if not ok.any():
            return np.full(qa.shape, np.nan) if qa.ndim else float("nan")
        r = _weighted_inverted_cdf(x[ok], qa, w[ok])
    else:
        if not ok.any():
            return np.full(qa.shape, np.nan) if qa.ndim else float("nan")
        r = np.quantile(x[ok], qa, method=PERCENTILE_METHOD)
    return float(r) if np.ndim(r) == 0 else np.asarray(r, dtype=np.float64)


#: cumulative weights within this part of the total of q·W count as reaching it (float sums of weights that meet it
#: exactly land a few ulps either side: 1, 4, 1, 6 scaled to a largest of 1 summed to just under half at the third)
WEIGHT_TOLERANCE = 1e-9


def _weighted_inverted_cdf(x: np.ndarray, qa: np.ndarray, w: np.ndarray) -> Any:
    """The inverse of the weighted empirical CDF of ``x`` at ``qa`` (positive finite weights ``w``, at least one): the
    smallest value whose cumulative weight reaches ``q`` of the total, within :data:`WEIGHT_TOLERANCE` of it — what
    numpy's weighted ``inverted_cdf`` answers in exact arithmetic, and the expanded sample of integer weights. numpy's
    own compares float sums exactly: the weights 1, 4, 1, 6 gave p50 4.0 scaled by their largest (3.0 unscaled: the
    third cumulates to 6 of 12), and 650 of 140,000 small integer-weighted samples moved one value up.

    >>> _weighted_inverted_cdf(np.array([1.0, 2.0, 3.0, 4.0]), np.array(0.5), np.array([1.0, 4.0, 1.0, 6.0]))
    3.0
    """
    o = np.argsort(x, kind="stable")
    xs = x[o]
    # scaled to a largest weight of 1 (the quantile is the same): weights summing past the float range (three of
    # 1e308) overflowed to inf
    cw = np.cumsum(w[o] / w.max())
    total = cw[-1]
    at = np.searchsorted(cw, qa * total - WEIGHT_TOLERANCE * total, side="left")
    at = np.where(qa >= 1, len(xs) - 1, at)  # the largest value, however little it weighs
    r = xs[np.clip(at, 0, len(xs) - 1)]
    return float(r) if np.ndim(r) == 0 else np.asarray(r, dtype=np.float64)


def balanced_median(values: Any, weights: Any) -> float:
    """Weighted median of ``values`` whose two middle values are averaged where the cumulative weight meets half the
    total exactly (within 1e-9 of it), so that equal weights give exactly ``np.median`` (the mean of the two middle
    values), not :func:`percentile`'s observed lower one. Each value weighs its weight (positive); NaN when empty.

    Parameters
    ----------
    values : array-like of float
        Observations (e.g. offsets in ms).
    weights : array-like of float
        Positive weights, one per value.

    Returns
    -------
    float
        The balanced weighted median.

    Examples
    --------
    >>> balanced_median([1.0, 2.0, 3.0, 4.0], [1, 1, 1, 1]), balanced_median([1.0, 2.0, 3.0], [1, 1, 8])
    (2.5, 3.0)
    """
    x = _floats(values, "values").ravel()
    w = _floats(weights, "weights").ravel()
    if len(w) != len(x):
        raise ArgumentError(f"balanced_median: {len(w)} weights for {len(x)} values")
    if not len(x):
        return float("nan")
    return balanced_median_of(x, w)


def balanced_median_of(x: np.ndarray, w: np.ndarray) -> float:
    """:func:`balanced_median` of float64 arrays of one length, at least one value: the kernel, without the checks
    (clock skew's median rounds call it ~40k times a postmortem).

    >>> balanced_median_of(np.array([4.0, 1.0, 3.0, 2.0]), np.ones(4))
    2.5
    """
    o = x.argsort(kind="stable")
    xs, cw = x[o], w[o].cumsum()
    half = cw[-1] / 2.0
    tol = 1e-9 * cw[-1]
    lo = int(cw.searchsorted(half - tol))
    hi = int(cw.searchsorted(half + tol, side="right"))
    return float((xs[lo] + xs[min(hi, len(xs) - 1)]) / 2.0)


def balanced_medians_grouped(group: np.ndarray, x: np.ndarray, w: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`balanced_median` of ``x`` per group: ``group`` holds each value's group (int, 0..k-1), ``w`` its
    positive weight. Returns the medians (NaN for a group with no value) and the values per group. Sorted once: linear
    after sorting (clock skew's per-neighbour medians, a few thousand groups a frame).

    >>> m, n = balanced_medians_grouped(np.array([0, 0, 1, 1, 1, 0]), np.array([4.0, 1.0, 5.0, 7.0, 6.0, 9.0]),
    ...                                 np.ones(6), 3)
    >>> m.tolist()[:2], bool(np.isnan(m[2])), n.tolist()
    ([4.0, 6.0], True, [3, 3, 0])
    """
    group = np.asarray(group, dtype=np.int64)
    out, n = np.full(k, np.nan), np.bincount(group, minlength=k)
    if not len(group):
        return out, n
    o = np.lexsort((x, group))
    g, xs, cw = group[o], np.asarray(x, dtype=float)[o], np.cumsum(np.asarray(w, dtype=float)[o])
    start = np.searchsorted(g, np.arange(k))
    stop = np.searchsorted(g, np.arange(k), side="right")
    has = stop > start
    base = np.where(start > 0, cw[np.maximum(start - 1, 0)], 0.0)
    total = cw[np.maximum(stop - 1, 0)] - base
    half, tol = base + total / 2.0, 1e-9 * total  # balanced_median_of's rule, each group's cumulative weight from 0
    lo = np.minimum(np.searchsorted(cw, half - tol), stop - 1)
    hi = np.minimum(np.searchsorted(cw, half + tol, side="right"), stop - 1)
    out[has] = (xs[lo[has]] + xs[hi[has]]) / 2.0
    return out, n


def quantiles_along(values: Any, q: float | Sequence[float], axis: int = -1) -> float | np.ndarray:
    """The ``q``-quantile(s) of ``values`` along ``axis``, as :func:`percentile` takes them (``inverted_cdf``:
    each an observed value, the ⌈q·n⌉-th smallest of a slice's n), each slice's NaN values dropped.

    Vectorised over the slices (a partition, or one sort when a NaN is present: numpy's ``nanquantile`` loops
    in Python over every slice then). The kernel of every bootstrap or permutation interval (:func:`interval_ends`).

    Parameters
    ----------
    values : array-like of float
        E.g. a matrix of bootstrap draws, one row per key.
    q : float or sequence of float
        Quantile(s) in [0, 1].
    axis : int
        The axis the quantiles are taken along.

    Returns
    -------
    float or numpy.ndarray
        Shape ``q``'s shape + ``values``' shape without ``axis`` (as :func:`numpy.quantile`); a float for one
        ``q`` of a 1-D array. NaN for a slice with no value.

    Raises
    ------
    ArgumentError
        ``q`` outside [0, 1], values that are not numbers, or an axis ``values`` does not have.

    Examples
    --------
    Draws [1, 2, 3, 4]: the ends of a 95 % interval are draws (numpy's default linear rule gave 1.075 and 3.925).

    >>> quantiles_along([1.0, 2.0, 3.0, 4.0], [0.025, 0.975]).tolist()
    [1.0, 4.0]
    >>> quantiles_along([[1.0, 9.0, 2.0], [5.0, float("nan"), float("nan")]], 0.5).tolist()
    [2.0, 5.0]
    """
    qa = _levels(q, "quantiles_along")
    x = _floats(values, "values")
    if x.ndim == 0:
        x = x.reshape(1)
    try:
        x = np.moveaxis(x, axis, -1)
    except (ValueError, IndexError, TypeError) as exc:  # numpy's AxisError
        raise ArgumentError(f"quantiles_along: axis {axis!r} is not an axis of values of shape {x.shape}") from exc
    m = x.shape[-1]
    nan = np.isnan(x)
    n = m - nan.sum(axis=-1)
    if m == 0:
        return _shaped(np.full(qa.shape + n.shape, np.nan))
    k = np.maximum(np.ceil(qa.reshape(qa.shape + (1,) * n.ndim) * n), 1).astype(np.int64) - 1
    k = np.minimum(k, m - 1)  # a slice without values (n = 0): any index, NaN below
    if nan.any():
        xs = np.sort(x, axis=-1)  # NaN last: the k-th smallest of the values kept
    else:
        xs = np.partition(x, np.unique(k), axis=-1)
    out = np.take_along_axis(np.broadcast_to(xs, qa.shape + xs.shape), k[..., None], axis=-1)[..., 0]
    return _shaped(np.where(n > 0, out, np.nan))


def _shaped(r: np.ndarray) -> float | np.ndarray:
    return float(r) if r.ndim == 0 else np.asarray(r, dtype=np.float64)


def interval_ends(draws: Any, ci: float, axis: int = -1) -> tuple[Any, Any]:
    """The two ends of a ``ci`` interval from bootstrap or permutation ``draws``: their (1 − ci)/2 and
    (1 + ci)/2 quantiles along ``axis`` (:func:`quantiles_along`: each an observed draw, NaN draws dropped).

    The levels are rounded to 12 decimals first: 1 − 0.95 is 0.05000000000000004 in binary, and the lower end
    of 1,000 draws was their 26th smallest, not the 25th (⌈0.025 · 1000⌉).

    Parameters
    ----------
    draws : array-like of float
        Draws of one statistic (1-D), or a matrix of them.
    ci : float
        Coverage, strictly in (0, 1).
    axis : int
        The axis the draws are along.

    Returns
    -------
    (float, float) or (numpy.ndarray, numpy.ndarray)
        Low and high end (NaN where no draw is a number).

    Examples
    --------
    >>> interval_ends([4.0, 1.0, 3.0, 2.0], 0.95)
    (1.0, 4.0)
    >>> lo, hi = interval_ends(np.arange(1.0, 1001.0), 0.95)
    >>> lo, hi
    (25.0, 975.0)
    """
    if isinstance(ci, bool) or not isinstance(ci, (int, float, np.number)) or not 0 < ci < 1:
        raise ArgumentError(f"interval_ends: ci must be one number strictly between 0 and 1 (0.95), got {ci!r}")
    a = float(ci)
    lo, hi = quantiles_along(draws, [round((1 - a) / 2, 12), round((1 + a) / 2, 12)], axis=axis)
    return (float(lo), float(hi)) if np.ndim(lo) == 0 else (lo, hi)


def average_ranks(values: Any) -> np.ndarray:
    """Ranks 1..n of ``values``, ties given the mean of the ranks they span (``scipy.stats.rankdata``'s
    default, to the bit); all NaN when a value is NaN (as rankdata's ``nan_policy="propagate"``).

    >>> average_ranks([10.0, 30.0, 20.0, 20.0]).tolist()
    [1.0, 4.0, 2.5, 2.5]
    """
    x = np.asarray(values, dtype=float).ravel()
    if np.isnan(x).any():
        return np.full(len(x), np.nan)
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    new = np.r_[True, xs[1:] != xs[:-1]] if len(x) else np.zeros(0, dtype=bool)
    dense = np.cumsum(new)
    count = np.r_[np.flatnonzero(new), len(x)]
    out = np.empty(len(x))
    out[order] = 0.5 * (count[dense] + count[dense - 1] + 1)
    return out


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

    if not (isinstance(q, (int, float, np.number)) and 0.0 <= q <= 1.0):  # 1.5: a bare IndexError; NaN: ValueError
        raise ArgumentError(f"quantile_draws: q must be one number within [0, 1] (0.95 for p95), got {q!r}")
    sorted_values = np.asarray(sorted_values, dtype=np.float64)  # a list was a bare TypeError
    m = len(sorted_values)
    if m == 0:
        return float("nan"), np.full(len(u), np.nan)
    k = max(int(np.ceil(q * m)), 1)
    j = np.arange(1, m + 1)
    cdf = bdtrc(k - 1, m, j / m)  # P(Binom(m, j/m) >= k)
    cdf[-1] = 1.0
    idx = np.minimum(np.searchsorted(cdf, u, side="left"), m - 1)
    return float(sorted_values[k - 1]), sorted_values[idx]


def quantile_draws_grouped(sorted_values: np.ndarray, bounds: np.ndarray, q: float,
                           u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`quantile_draws` of many groups at once, to the bit: numpy passes over all groups, not one call a group.

    Group ``g`` is ``sorted_values[bounds[g]:bounds[g + 1]]`` (sorted ascending, no NaN) and draws with the uniform
    numbers of row ``g`` of ``u``. The binomial CDFs of every group are laid end to end and each group's uniforms
    are found in its own CDF by one search of (group, value) pairs (complex numbers, ordered by their real then
    imaginary part): 186k groups of 300k values cost 0.3 s, not 8 s of 186k calls.

    Parameters
    ----------
    sorted_values : numpy.ndarray
        The values of every group, each group's sorted ascending, no NaN.
    bounds : numpy.ndarray
        Group edges (non-decreasing, ``n_groups + 1`` of them, the first 0 and the last ``len(sorted_values)``).
    q : float
        Quantile in [0, 1].
    u : numpy.ndarray
        Uniform random numbers in [0, 1), ``(n_groups, n_draws)``.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Each group's point estimate (``n_groups``) and draws (``n_groups`` x ``n_draws``); NaN for an empty group.

    Examples
    --------
    >>> import numpy as np
    >>> points, draws = quantile_draws_grouped(np.array([1.0, 2.0, 3.0, 4.0, 7.0]), np.array([0, 4, 4, 5]), 0.5,
    ...                                         np.array([[0.0, 0.999], [0.5, 0.5], [0.2, 0.9]]))
    >>> points.tolist(), draws.tolist()
    ([2.0, nan, 7.0], [[1.0, 4.0], [nan, nan], [7.0, 7.0]])
    """
    from scipy.special import bdtrc

    if not (isinstance(q, (int, float, np.number)) and 0.0 <= q <= 1.0):
        raise ArgumentError(f"quantile_draws_grouped: q must be one number within [0, 1] (0.95 for p95), got {q!r}")
    v = np.asarray(sorted_values, dtype=np.float64)
    bounds = np.asarray(bounds, dtype=np.int64)
    u = np.asarray(u, dtype=np.float64)
    n_g = len(bounds) - 1
    if n_g < 0 or u.ndim != 2 or u.shape[0] != n_g or (n_g and (bounds[0] != 0 or bounds[-1] != len(v)
                                                                 or (np.diff(bounds) < 0).any())):
        raise ArgumentError("quantile_draws_grouped: bounds must be n_groups + 1 non-decreasing edges from 0 to "
                            f"len(sorted_values) ({len(v)}) and u (n_groups, n_draws), got {len(bounds)} edges, "
                            f"u of shape {u.shape}")
    m = np.diff(bounds)
    points = np.full(n_g, np.nan)
    draws = np.full(u.shape, np.nan)
    ne = np.flatnonzero(m > 0)
    if not len(ne):
        return points, draws
    m_ne = m[ne]
    k = np.maximum(np.ceil(q * m_ne).astype(np.int64), 1)  # as quantile_draws: max(ceil(q m), 1)
    points[ne] = v[bounds[ne] + k - 1]
    # every value's rank j (1..m) in its group, and its group's m and k, end to end
    grp = np.repeat(np.arange(len(ne)), m_ne)
    start = bounds[ne]
    j = np.arange(len(grp), dtype=np.int64) - np.repeat(np.cumsum(m_ne) - m_ne, m_ne) + 1
    mm = m_ne[grp]
    cdf = bdtrc((k - 1)[grp].astype(np.float64), mm, j / mm)  # P(Binom(m, j/m) >= k), quantile_draws' loop
    cdf[np.cumsum(m_ne) - 1] = 1.0
    # the search of each group's uniforms in its own CDF: (group, value) pairs sorted group first
    keyed = grp + 1j * cdf
    uu = u[ne]
    pos = np.searchsorted(keyed, (np.arange(len(ne))[:, None] + 1j * uu).ravel(), side="left").reshape(uu.shape)
    off = (np.cumsum(m_ne) - m_ne)[:, None]
    idx = np.minimum(pos - off, (m_ne - 1)[:, None])
    draws[ne] = v[start[:, None] + idx]
    return points, draws


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
    _levels(q, "exceed_chance")  # q = 1.5 gave chances of -0.5 (negative) without a word
    n = np.asarray(n, dtype=float)
    kk = np.maximum(np.ceil(q * n), 1.0) if k is None else np.asarray(k, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (n - kk + 1.0) / (n + 1.0), 1.0 - q)


#: robust standard deviations above the median that :func:`upper_limits` caps a group's quantile at
ROBUST_SPREAD = 3.0
#: median absolute deviation → standard deviation of a normal distribution
_MAD_TO_SD = 1.4826


def upper_limits(group: Any, values: Any, n_groups: int, q: float, spread: float | None = ROBUST_SPREAD,
                 slices: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per group of baseline values: the limit a new value must exceed to count as abnormal, the values, and
    how many of them lie at or below the limit (the ``k`` of :func:`exceed_chance`).

    The limit is the group's ``q``-quantile (:func:`percentile`'s order statistic, the k-th smallest, k = ⌈q·n⌉),
    or — when lower — its median plus ``spread`` robust standard deviations (1.4826 × the median absolute
    deviation). A baseline that holds a stretch of another incident (a fault on the same component minutes
    earlier) has its upper quantiles at that incident's level as soon as more than 1 − q of its values come
    from it, and nothing the new incident does can exceed them; the median and the median absolute
    deviation stay at the normal values' level until half the baseline is abnormal. The chance of
    exceeding either limit is counted from the baseline itself (``k``: the values at or below it), so a
    limit inside a heavy tail is matched by a larger chance rate. NaN values are left out.

    With ``slices`` (each value's time slice, e.g. its minute), a group's **abnormal slices** are left out
    first (:func:`normal_slices`: a slice holding far more values above the median of the group's slice
    ``q``-quantiles than chance allows, while such slices hold fewer than half the group's values); the
    limit is then the ``q``-quantile of the rest, and the values and ``k`` count the rest (the order
    statistics of the normal values). This keeps the quantile and its tail, where the robust limit would
    cut a heavy but steady tail: a value's own time varies with the request, so only a burst in time says
    the baseline held another incident. A group without an abnormal slice keeps its limit as without
    ``slices``.

    Parameters
    ----------
    group : array-like of int
        Group code (0 .. n_groups − 1) of each value.
    values : array-like of float
        Baseline values (NaN: left out).
    n_groups : int
        Number of groups.
    q : float
        The quantile (0.95).
    spread : float or None
        Robust standard deviations above the median (:data:`ROBUST_SPREAD`); None: the quantile alone.
    slices : array-like of int, optional
        Time slice (≥ 0) of each value: abnormal slices are left out of their group first (above).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, numpy.ndarray)
        Limit per group (NaN without values), values per group, values at or below the limit per group
        (⌈q·n⌉ where the quantile is the limit, the count where the robust limit is lower); with ``slices``,
        of the values kept.

    Examples
    --------
    A baseline whose last 40 % came from an earlier incident (values near 3,000): its p95 is that
    incident's level, the robust limit stays near the normal values, and its chance is the 40 % above it.

    >>> v = [5.0, 6.0, 5.5, 6.5, 7.0, 5.0, 6.0, 2900.0, 3100.0, 3000.0]
    >>> lim, n, k = upper_limits([0] * 10, v, 1, 0.95)
    >>> round(float(lim[0]), 1), int(n[0]), int(k[0]), round(float(exceed_chance(n, 0.95, k)[0]), 2)
    (10.4, 10, 7, 0.36)
    >>> upper_limits([0] * 10, v, 1, 0.95, spread=None)[0].tolist()
    [3100.0]

    Five one-minute slices of 10 values, the first minute an earlier incident's: it is left out.

    >>> v = [30.0 + i for i in range(10)] + [float(i % 7) for i in range(40)]
    >>> minute = [i // 10 for i in range(50)]
    >>> lim, n, k = upper_limits([0] * 50, v, 1, 0.95, spread=None, slices=minute)
    >>> float(lim[0]), int(n[0]), int(k[0])
    (6.0, 40, 38)
    >>> upper_limits([0] * 50, v, 1, 0.95, spread=None)[0].tolist()
    [37.0]
    """
    _levels(q, "upper_limits")  # q = 1.5 read past a group's values: a bare IndexError, or the next group's value
    g_all = np.asarray(group, dtype=np.int64).ravel()
    v_all = np.asarray(values, dtype=np.float64).ravel()
    if slices is not None:
        v_all = np.where(normal_slices(g_all, v_all, slices, n_groups, q), v_all, np.nan)
    ok = ~np.isnan(v_all)
    g, v = g_all[ok], v_all[ok]
    cnt = np.bincount(g, minlength=n_groups)[:n_groups] if len(g) else np.zeros(n_groups, np.int64)
    lim = np.full(n_groups, np.nan)
    k = np.maximum(np.ceil(q * cnt), 1.0)
    if not len(v):
        return lim, cnt, k
    off = np.r_[0, np.cumsum(cnt)[:-1]]
    has = cnt > 0

    def kth(sorted_v: np.ndarray, frac: float) -> np.ndarray:  # inverted_cdf order statistic per group
        out = np.full(n_groups, np.nan)
        out[has] = sorted_v[off[has] + np.maximum(np.ceil(frac * cnt[has]).astype(np.int64) - 1, 0)]
        return out

    sv = v[np.lexsort((v, g))]
    lim = kth(sv, q)
    if spread is None:
        return lim, cnt, k
    med = kth(sv, 0.5)
    dev = np.abs(v - med[g])
    mad = kth(dev[np.lexsort((dev, g))], 0.5)
    robust = med + spread * _MAD_TO_SD * mad
    lower = has & (robust < lim)
    if lower.any():
        lim = np.where(lower, robust, lim)
        at_or_below = np.bincount(g, weights=(v <= lim[g]).astype(np.float64), minlength=n_groups)[:n_groups]
        k = np.where(lower, at_or_below, k)
    return lim, cnt, k


def normal_slices(group: Any, values: Any, slices: Any, n_groups: int, q: float) -> np.ndarray:
    """Which values are in a normal slice of their group: False for a value in one of its group's abnormal
    slices (:func:`upper_limits`' ``slices``), True otherwise (NaN values too).

    A slice is abnormal when it holds more values above the (lower) median of its group's slice ``q``-quantiles
    than a slice of the group's typical size would by chance (binomial, one-sided, at :data:`SLICE_ALPHA`
    over the group's slices, Bonferroni), where at least :data:`MIN_SLICES` slices of
    :data:`MIN_SLICE_VALUES` or more values give that median; and its group's abnormal slices are left out
    only while they hold fewer than half of its values.

    Parameters
    ----------
    group : array-like of int
        Group code (0 .. n_groups − 1) of each value.
    values : array-like of float
        Values (NaN: not counted).
    slices : array-like of int
        Time slice (≥ 0) of each value, e.g. its minute.
    n_groups : int
        Number of groups.
    q : float
        The quantile (0.95).

    Returns
    -------
    numpy.ndarray of bool
        One per value.

    Examples
    --------
    >>> v = [30.0 + i for i in range(10)] + [float(i % 7) for i in range(40)]
    >>> keep = normal_slices([0] * 50, v, [i // 10 for i in range(50)], 1, 0.95)
    >>> int(keep.sum()), bool(keep[:10].any())
    (40, False)
    """
    from .distributions import binom_sf

    g_all = np.asarray(group, dtype=np.int64).ravel()
    v_all = np.asarray(values, dtype=np.float64).ravel()
    sl_all = np.asarray(slices, dtype=np.int64).ravel()
    if not (len(g_all) == len(v_all) == len(sl_all)):
        raise ArgumentError("normal_slices: group, values and slices need one entry per value")
    keep = np.ones(len(v_all), dtype=bool)
    ok_v = ~np.isnan(v_all)
    g, v, sl = g_all[ok_v], v_all[ok_v], sl_all[ok_v]
    if not len(v):
        return keep
    if sl.min() < 0:
        raise ArgumentError("normal_slices: slices must be >= 0")
    n_sl = int(sl.max()) + 1
    code, inv = np.unique(g * n_sl + sl, return_inverse=True)
    lim_s, cnt_s, _ = upper_limits(inv, v, len(code), q, spread=None)
    gq = code // n_sl
    use = cnt_s >= MIN_SLICE_VALUES
    ok = np.bincount(gq[use], minlength=n_groups)[:n_groups] >= MIN_SLICES
    if not ok.any():
        return keep
    # the (lower) median per group is its inverted_cdf 0.5-quantile: upper_limits without the spread
    med_lim = np.where(ok, upper_limits(gq[use], lim_s[use], n_groups, 0.5, spread=None)[0], np.nan)
    # each slice's values above its group's median slice limit, against the chance that a value exceeds the
    # q-quantile of a slice of the group's typical size (order statistics)
    rate = exceed_chance(np.nan_to_num(upper_limits(gq[use], cnt_s[use], n_groups, 0.5, spread=None)[0]), q)
    above = np.bincount(inv, weights=(v > med_lim[g]).astype(np.float64), minlength=len(code))
    n_slices = np.bincount(gq, minlength=n_groups)[:n_groups]
    bad = ok[gq] & (binom_sf(above - 1, cnt_s, rate[gq]) < SLICE_ALPHA / np.maximum(n_slices[gq], 1))
    bad_values = np.bincount(gq, weights=np.where(bad, cnt_s, 0), minlength=n_groups)[:n_groups]
    n_values = np.bincount(g, minlength=n_groups)[:n_groups]
    cut = (bad_values > 0) & (2 * bad_values < n_values)
    keep[np.flatnonzero(ok_v)[bad[inv] & cut[g]]] = False
    return keep


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
    >>> float(share_beyond_chance(0, 0, 0.05, 0.0))  # no observation and no prior: nothing beyond chance
    0.0
    """
    d = n + prior
    if np.ndim(d) == 0:
        return (x + chance * prior) / d - chance if d else 0.0 * chance
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (x + chance * prior) / d - chance
    return np.where(d == 0, 0.0, out)  # (prior 0 is allowed: a key with no observation has no share)


def quantiles_with_zeros(group: np.ndarray, values: np.ndarray, n_groups: int, n_total: int, qs: Sequence[float]) -> np.ndarray:
    """Quantiles (inverted_cdf, :func:`tracekit.core.percentile`) per group of ``values`` padded with
    zeros up to ``n_total`` values, without building the padded arrays.

    Returns an array (n_groups, len(qs)). ``values`` are assumed non-negative. The per-request contribution
    of a key (0 where it is absent) in critical_path_breakdown and saving_potential.

    >>> quantiles_with_zeros(np.array([0, 0, 1]), np.array([5.0, 7.0, 3.0]), 2, 4, [0.5, 1.0]).tolist()
    [[0.0, 7.0], [0.0, 3.0]]
    >>> percentile([0, 0, 5, 7], [0.5, 1.0]).tolist()  # group 0 padded with zeros to 4 values: the same
    [0.0, 7.0]
    """
    _levels(qs, "quantiles_with_zeros")  # a q above 1 read the next group's values
    o = np.lexsort((values, group))
    g, v = group[o], values[o]
    cnt = np.bincount(g, minlength=n_groups)
    off = np.r_[0, np.cumsum(cnt)[:-1]]
    zeros = n_total - cnt
    res = np.zeros((n_groups, len(qs)))
    if n_total == 0:
        return res
    for k, q in enumerate(qs):
        i = max(int(np.ceil(q * n_total)), 1) - 1  # the observed value inverted_cdf takes
        j = i - zeros  # its index within the group's positive values
        idx = np.clip(off + np.maximum(j, 0), 0, max(len(v) - 1, 0))
        res[:, k] = np.where(j >= 0, v[idx] if len(v) else 0.0, 0.0)
    return res
