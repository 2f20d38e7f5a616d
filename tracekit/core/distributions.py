"""The probability distributions the analyses use, without importing ``scipy.stats``.

``import scipy.stats`` takes 0.9-1.4 s (it loads every distribution, test and their docstrings), and a
postmortem used ten of its functions, so every process that ranked causes or wrote a report paid it: a
tenth of ``python -m tracekit report`` on the bundled incident. Each function here computes what the named
``scipy.stats`` method computes, with the same kernel (the ``scipy.special`` ufuncs that ``scipy.stats``
itself calls: Boost's binomial, hypergeometric and beta functions, Cephes' normal) and the same answer
outside the support or for invalid parameters, so the numbers are identical (pinned by a test against
``scipy.stats`` on grids of values, edges and invalid arguments). Where this scipy lacks one of those private
kernels, the function calls ``scipy.stats`` (the same numbers, at the import's cost).

>>> float(binom_sf(2, 10, 0.1)), float(normal_ppf(0.975))
(0.0701908264, 1.959963984540054)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import special

try:  # the kernels scipy.stats' binom, hypergeom and beta call (private names: scipy 1.17 has them)
    from scipy.special._ufuncs import (  # type: ignore[attr-defined]
        _beta_ppf,
        _binom_ppf,
        _binom_sf,
        _hypergeom_cdf,
        _hypergeom_sf,
    )
except ImportError:  # pragma: no cover - depends on the installed scipy
    _beta_ppf = _binom_ppf = _binom_sf = _hypergeom_cdf = _hypergeom_sf = None

__all__ = ["normal_ppf", "normal_sf", "beta_ppf", "binom_sf", "binom_ppf", "hypergeom_sf",
           "hypergeom_cdf", "betabinom_sf", "binom_test_greater", "fisher_exact_greater", "gamma_ppf", "chi2_sf", "chi2_contingency_p"]


def _out(output: np.ndarray) -> Any:
    return output[()] if output.ndim == 0 else output


def _integral(x: np.ndarray) -> np.ndarray:
    return x == np.round(x)


def normal_ppf(q: Any) -> Any:
    """``scipy.stats.norm.ppf(q)``: the standard normal quantile.

    >>> float(normal_ppf(0.5)), float(normal_ppf(0.0))
    (0.0, -inf)
    """
    return special.ndtri(np.asarray(q, dtype=float))[()]


def normal_sf(x: Any) -> Any:
    """``scipy.stats.norm.sf(x)``: P(Z > x) for a standard normal Z.

    >>> round(float(normal_sf(1.959963984540054)), 6)
    0.025
    """
    return special.ndtr(-np.asarray(x, dtype=float))[()]


def beta_ppf(q: Any, a: Any, b: Any) -> Any:
    """``scipy.stats.beta.ppf(q, a, b)``: the quantile of Beta(a, b); 0 at q = 0, 1 at q = 1, NaN for
    q outside [0, 1] or a, b not positive.

    >>> round(float(beta_ppf(0.5, 2.0, 2.0)), 12)
    0.5
    """
    if _beta_ppf is None:  # pragma: no cover - depends on the installed scipy
        from scipy.stats import beta

        return beta.ppf(q, a, b)
    q, a, b = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (q, a, b)))
    ok = (a > 0) & (b > 0)
    inner = ok & (q > 0) & (q < 1)
    output = np.full(q.shape, np.nan)
    output[ok & (q == 0)] = 0.0
    output[ok & (q == 1)] = 1.0
    if inner.any():
        output[inner] = _beta_ppf(q[inner], a[inner], b[inner])
    return _out(output)


def _discrete(x: Any, shapes: tuple, check: np.ndarray, low: np.ndarray, high: np.ndarray,
              kernel: Callable, side: str) -> Any:
    """scipy.stats' ``rv_discrete.cdf`` / ``.sf`` around ``kernel`` (support [low, high])."""
    x = np.asarray(x, dtype=float)
    x, check, low, high, *shapes = np.broadcast_arrays(x, check, low, high, *shapes)
    inner = check & (x >= low) & (x < high) & np.isfinite(x)
    output = np.zeros(x.shape)
    if side == "cdf":
        output[x >= high] = 1.0
        output[np.isneginf(x)] = 0.0
    else:
        output[((x < low) | np.isneginf(x)) & check] = 1.0
    output[~check | np.isnan(x)] = np.nan
    if inner.any():
        output[inner] = np.clip(kernel(x[inner], *(s[inner] for s in shapes)), 0, 1)
    return _out(output)


def _binom_args(n: Any, p: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n, p = np.asarray(n, dtype=float), np.asarray(p, dtype=float)
    return n, p, (n >= 0) & _integral(n) & (p >= 0) & (p <= 1)


def binom_sf(k: Any, n: Any, p: Any) -> Any:
    """``scipy.stats.binom.sf(k, n, p)``: P(X > k) for X ~ Binomial(n, p).

    >>> float(binom_sf(-1, 5, 0.3)), float(binom_sf(5, 5, 0.3))
    (1.0, 0.0)
    """
    if _binom_sf is None:  # pragma: no cover - depends on the installed scipy
        from scipy.stats import binom

        return binom.sf(k, n, p)
    n, p, check = _binom_args(n, p)
    return _discrete(k, (n, p), check, np.zeros(()), n, lambda x, n, p: _binom_sf(np.floor(x), n, p), "sf")


def binom_ppf(q: Any, n: Any, p: Any) -> Any:
    """``scipy.stats.binom.ppf(q, n, p)``: the least k with P(X ≤ k) ≥ q; −1 at q = 0, n at q = 1.

    >>> float(binom_ppf(0.5, 10, 0.5)), float(binom_ppf(0.0, 10, 0.5))
    (5.0, -1.0)
    """
    if _binom_ppf is None:  # pragma: no cover - depends on the installed scipy
        from scipy.stats import binom

        return binom.ppf(q, n, p)
    n, p, check = _binom_args(n, p)
    q, n, p, check = np.broadcast_arrays(np.asarray(q, dtype=float), n, p, check)
    inner = check & (q > 0) & (q < 1)
    output = np.full(q.shape, np.nan)
    output[(q == 0) & check] = -1.0
    output[(q == 1) & check] = n[(q == 1) & check]
    if inner.any():
        output[inner] = _binom_ppf(q[inner], n[inner], p[inner])
    return _out(output)


def _hypergeom(side: str, k: Any, big_m: Any, n: Any, big_n: Any) -> Any:
    """scipy.stats' ``hypergeom.sf`` or ``.cdf`` (``side``) with its support and parameter checks."""
    kernel = _hypergeom_sf if side == "sf" else _hypergeom_cdf
    if kernel is None:  # pragma: no cover - depends on the installed scipy
        from scipy.stats import hypergeom

        return getattr(hypergeom, side)(k, big_m, n, big_n)
    big_m, n, big_n = (np.asarray(v, dtype=float) for v in (big_m, n, big_n))
    check = (big_m > 0) & (n >= 0) & (big_n >= 0) & (n <= big_m) & (big_n <= big_m)
    check &= _integral(big_m) & _integral(n) & _integral(big_n)
    low, high = np.maximum(big_n - (big_m - n), 0), np.minimum(n, big_n)
    return _discrete(k, (big_m, n, big_n), check, low, high, lambda x, m_, n_, d_: kernel(x, n_, d_, m_), side)


def hypergeom_sf(k: Any, big_m: Any, n: Any, big_n: Any) -> Any:
    """``scipy.stats.hypergeom.sf(k, M, n, N)``: P(X > k) when drawing ``N`` of ``M`` objects of which ``n``
    are marked, X the marked ones drawn.

    >>> round(float(hypergeom_sf(4, 20, 7, 12)), 12)
    0.391640866873
    """
    return _hypergeom("sf", k, big_m, n, big_n)


def hypergeom_cdf(k: Any, big_m: Any, n: Any, big_n: Any) -> Any:
    """``scipy.stats.hypergeom.cdf(k, M, n, N)``: P(X ≤ k), as :func:`hypergeom_sf`.

    >>> round(float(hypergeom_cdf(4, 20, 7, 12)), 12)
    0.608359133127
    """
    return _hypergeom("cdf", k, big_m, n, big_n)


def betabinom_sf(k: int, n: int, a: float, b: float) -> float:
    """``scipy.stats.betabinom.sf(k, n, a, b)``: P(X > k) for X ~ BetaBinomial(n, a, b), summed over the
    upper tail's terms (scipy.stats' value to 1e-9 relative; deep in the tail this sum is the more exact, scipy taking 1 - cdf). NaN for
    ``n`` not a count or ``a``, ``b`` not positive.

    It is the exact law of how many of ``n`` new values exceed the ``j``-th largest of ``m`` others when all
    ``n + m`` are exchangeable (``a = j``, ``b = m - j + 1``): how many incident requests would be above a
    baseline's p95 by chance, the baseline's p95 being itself one of its values. With 300 baseline requests that
    is close to a binomial of 16/301; with 8 the p95 is their largest, exceeded by a new one with probability 1/9,
    not 5 %, and the count spreads wider still (the largest may sit low).

    >>> round(betabinom_sf(13, 120, 1.0, 8.0), 4)  # 14 or more of 120 above the largest of 8
    0.3849
    >>> round(betabinom_sf(-1, 5, 2.0, 3.0), 6), betabinom_sf(5, 5, 2.0, 3.0)
    (1.0, 0.0)
    """
    n_, a_, b_ = float(n), float(a), float(b)
    if not (n_ >= 0 and n_ == np.floor(n_) and a_ > 0 and b_ > 0) or np.isnan(float(k)):
        return float("nan")
    k_ = np.floor(float(k))
    if k_ < 0:
        return 1.0
    if k_ >= n_:
        return 0.0
    x = np.arange(k_ + 1, n_ + 1)
    log_pmf = (special.gammaln(n_ + 1) - special.gammaln(x + 1) - special.gammaln(n_ - x + 1)
               + special.betaln(x + a_, n_ - x + b_) - special.betaln(a_, b_))
    return float(min(np.exp(log_pmf).sum(), 1.0))


def binom_test_greater(k: int, n: int, p: float) -> float:
    """``scipy.stats.binomtest(k, n, p, alternative="greater").pvalue``: P(X ≥ k), X ~ Binomial(n, p).

    >>> round(binom_test_greater(7, 10, 0.5), 6)
    0.171875
    """
    return float(binom_sf(k - 1, n, p))


def fisher_exact_greater(table: Any) -> float:
    """``scipy.stats.fisher_exact(table, alternative="greater").pvalue`` of a 2×2 table of counts: 1 when a
    row or column sums to 0.

    >>> round(fisher_exact_greater([[8, 2], [1, 5]]), 6)
    0.024476
    """
    c = np.asarray(table, dtype=np.int64)
    if c.shape != (2, 2) or (c < 0).any():
        raise ValueError(f"fisher_exact_greater: a 2x2 table of counts (>= 0) is needed, got {c.tolist()}")
    if 0 in c.sum(axis=0) or 0 in c.sum(axis=1):
        return 1.0
    n1, n2 = c[0, 0] + c[0, 1], c[1, 0] + c[1, 1]
    return min(float(hypergeom_cdf(c[0, 1], n1 + n2, n1, c[0, 1] + c[1, 1])), 1.0)


def gamma_ppf(q: Any, a: Any) -> Any:
    """``scipy.stats.gamma.ppf(q, a)``: the quantile of Gamma(a, 1) (Cephes' ``gammaincinv``, which scipy.stats
    calls); 0 at q = 0, inf at q = 1, NaN for q outside [0, 1] or a not positive. Of a Poisson count ``c``, the lower
    end of the one-sided interval of its rate at level ``1 - q`` is ``gamma_ppf(q, c)`` (Garwood's).

    >>> round(float(gamma_ppf(0.1, 20.0)), 4), float(gamma_ppf(0.0, 3.0))
    (14.5253, 0.0)
    """
    q, a = np.broadcast_arrays(np.asarray(q, dtype=float), np.asarray(a, dtype=float))
    ok = (a > 0) & (q >= 0) & (q <= 1)
    output = np.full(q.shape, np.nan)
    output[ok & (q == 0)] = 0.0
    output[ok & (q == 1)] = np.inf
    inner = ok & (q > 0) & (q < 1)
    if inner.any():
        output[inner] = special.gammaincinv(a[inner], q[inner])
    return _out(output)


def chi2_sf(x: Any, df: Any) -> Any:
    """``scipy.stats.chi2.sf(x, df)`` (Cephes' ``chdtrc``, which scipy.stats calls).

    >>> round(float(chi2_sf(3.841458820694124, 1)), 6)
    0.05
    """
    x, df = np.asarray(x, dtype=float), np.asarray(df, dtype=float)
    return _out(np.where(x < 0, 1.0, special.chdtrc(df, np.maximum(x, 0))))


def chi2_contingency_p(table: Any) -> float:
    """The p-value of ``scipy.stats.chi2_contingency(table, correction=False)``: Pearson's chi-square test that the
    rows of a table of counts are one distribution (columns summing to 0 left out; 1.0 with fewer than two rows or
    columns).

    >>> round(chi2_contingency_p([[30, 70], [50, 50]]), 6)
    0.003892
    """
    c = np.asarray(table, dtype=float)
    c = c[:, c.sum(axis=0) > 0]
    c = c[c.sum(axis=1) > 0]
    if c.ndim != 2 or c.shape[0] < 2 or c.shape[1] < 2:
        return 1.0
    expected = np.outer(c.sum(axis=1), c.sum(axis=0)) / c.sum()
    stat = float(((c - expected) ** 2 / expected).sum())
    return float(chi2_sf(stat, (c.shape[0] - 1) * (c.shape[1] - 1)))
