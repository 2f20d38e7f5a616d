"""Latency distributions: :func:`latency_histogram` (counts over bins shared by every group) and :func:`latency_ecdf`
(the fraction of values at or below each latency, with the line's p50 / p95), per group and period.

The data steps of :func:`~tracekit.plot_latency` and :func:`~tracekit.plot_latency_ecdf`: the figures render these
tables and compute nothing (DESIGN.md, "each figure has a data step and a render step").

What is measured (``of``):

- ``"spans"`` — each span's ``duration_ms`` (a span exported twice once: the kernel tree's copy), grouped by ``by`` (spans columns and/or the named keys of
  :func:`tracekit.core.key_frame`, e.g. ``"route"``; ``None``: one group ``"all"``); ``roots_only`` keeps spans
  without a parent;
- ``"requests"`` — each request's latency, ``request_ms`` of :func:`tracekit.core.trace_outcomes` (the request
  root's duration; an async tail does not count), one group ``"all"``; ``spans`` may then also be latencies already
  computed (a Series or array of milliseconds).

Values that cannot be drawn are left out and counted in ``attrs["left_out"]`` (per period): a missing value (a span
or request still in progress) and, on a log axis (``log_x``), a value of 0 or less.

>>> import tracekit as tk
>>> spans = tk.simulate.simulate("baseline", 50, seed=1).spans
>>> h = latency_histogram(spans, by=None, bins=5)
>>> int(h["count"].sum()) == int(spans["duration_ms"].notna().sum()) - h.attrs["left_out"]["spans"]
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..core import count_arg, percentile, result_table, span_tree, trace_outcomes
from ..core.keys import key_frame
from ..core.words import plural
from ..errors import ArgumentError
from ..schema import shared_attr

__all__ = ["latency_histogram", "latency_ecdf", "LATENCY_HISTOGRAM", "LATENCY_ECDF", "PERIODS"]

#: the two periods of a distribution table: the spans given, and the baseline
PERIODS = ("spans", "baseline")

_LINE = [
    ("group", "string", "", "the group: the ``by`` key values joined with `` · `` (``<NA>`` for a missing one); "
                            "``all`` with ``by=None`` or ``of='requests'``"),
    ("period", "string", "", "``spans`` (the frame given) or ``baseline``"),
]

LATENCY_HISTOGRAM = result_table("latency_histogram", "one row per (group, period, latency bin): the bins are shared "
                                 "by every group and period; groups most frequent first (at most n), each with its "
                                 "spans' period then its baseline's", [
    *_LINE,
    ("latency_lo_ms", "float64", "ms", "lower edge of the bin (linear or log-spaced from the smallest to the largest "
                                       "value of both periods; a value on an inner edge is in the bin above it, up to the "
                                       "float rounding of log-spaced edges)"),
    ("latency_hi_ms", "float64", "ms", "upper edge of the bin (the largest value is in the top bin)"),
    ("count", "int64", "values", "values of the group and period in the bin: spans (root spans with roots_only) or "
                                 "requests, as ``of`` says"),
])

LATENCY_ECDF = result_table("latency_ecdf", "one row per point of a (group, period) empirical CDF, in ascending "
                            "latency; groups most frequent first (at most n), each with its spans' period then its "
                            "baseline's", [
    *_LINE,
    ("latency_ms", "float64", "ms", "a value of the line (at most max_points of them, evenly spaced in rank)"),
    ("fraction", "float64", "share", "share of the line's values at or below ``latency_ms`` (rank / count)"),
    ("count", "int64", "values", "values in the line (spans, root spans or requests, as ``of`` says): every value "
                                 "of the group and period that can be drawn"),
    ("p50_ms", "float64", "ms", "median of the line's values (core.percentile, inverted_cdf: an observed value)"),
    ("p95_ms", "float64", "ms", "95th percentile of the line's values (core.percentile)"),
])


def _groups(spans: pd.DataFrame, by: str | Sequence[str] | None, who: str) -> pd.Series:
    """Each span's group: the ``by`` key values joined with `` · `` (``"all"`` with ``by=None``)."""
    if by is None:
        return pd.Series("all", index=spans.index)
    spans, keys = key_frame(spans, by, what=who)
    parts = [spans[k].astype(object).where(spans[k].notna(), "<NA>").astype(str) for k in keys]
    out = parts[0]
    for p in parts[1:]:
        out = out + " · " + p
    return out


def _no_request_words(outcomes: pd.DataFrame) -> str:
    """Why the traces of ``outcomes`` (:func:`tracekit.core.trace_outcomes`) give no request latency: a root still
    in progress is a request of unknown latency, not a missing root."""
    if not len(outcomes):
        return "no spans"
    req = outcomes["request"].to_numpy(dtype=bool, na_value=False)
    root = outcomes["has_root"].to_numpy(dtype=bool, na_value=False)
    lat = outcomes["request_ms"].to_numpy(dtype=float, na_value=np.nan)
    parts = [f"{plural(int(n), 'trace')} {w}" for n, w in (
        ((~root).sum(), "of fragments only, without a request root"),
        ((root & ~req).sum(), "of asynchronous work, not a request"),
        ((req & ~np.isfinite(lat)).sum(), "whose request root has not ended"),
        ((req & np.isfinite(lat) & (lat <= 0)).sum(), "whose request took 0 ms"),
    ) if n]
    return "; ".join(parts) or "no spans"


def _values(x: Any, of: str, by: Any, roots_only: bool, what: str, who: str) -> tuple[pd.Series, pd.Series | None, dict]:
    """(values indexed by group, their times or None, facts): the values of one period, before any is left out."""
    if of == "requests":
        if isinstance(x, pd.DataFrame):
            o = trace_outcomes(x)
            req = o["request"].to_numpy(dtype=bool, na_value=False)
            v = pd.Series(o["request_ms"].to_numpy(dtype=float, na_value=np.nan)[req], index=["all"] * int(req.sum()))
            t = pd.Series(o["start"].to_numpy()[req], index=v.index)
            # why no request is drawn: computed here, said by the figure (outcomes of every trace, not only requests)
            return v, t, {"outcomes": o}
        try:
            arr = np.asarray(x, dtype=float).reshape(-1)
        except (TypeError, ValueError) as exc:
            raise ArgumentError(f"{who}: {what} must be spans or latencies in ms, got {type(x).__name__}") from exc
        return pd.Series(arr, index=["all"] * len(arr)), None, {}
    if not isinstance(x, pd.DataFrame) or "duration_ms" not in x.columns:
        raise ArgumentError(f"{who}: {what} must be a spans DataFrame with a duration_ms column")
    # a span exported twice is one value: the kernel tree's copy (a duplicate export read as two spans of its length)
    one = ~span_tree(x).duplicate if len(x) and {"trace_id", "span_id", "parent_id"} <= set(x.columns) else np.ones(len(x), dtype=bool)
    sel = x[one & x["parent_id"].isna().to_numpy(dtype=bool)] if roots_only else x[one]
    d = sel["duration_ms"].to_numpy(dtype=float, na_value=np.nan)
    g = _groups(sel, by, who).to_numpy(dtype=object)
    t = pd.Series(sel["start"].to_numpy(), index=g) if "start" in sel.columns else None
    return pd.Series(d, index=g), t, {}


def _auto_log(values: np.ndarray) -> bool:
    """Log x when the positive values span more than two decades (a linear axis would put nearly everything in the
    first bins)."""
    pos = values[np.isfinite(values) & (values > 0)]
    return bool(len(pos)) and float(pos.max()) > 100.0 * float(pos.min())


def _prepare(spans: Any, baseline: Any, by: Any, of: str, n: int, roots_only: bool, log_x: bool | None,
             who: str) -> tuple[dict[str, pd.Series], list[str], bool, dict]:
    """The periods' drawable values by group, the groups drawn (most values first, at most n), log_x and attrs."""
    if of not in ("spans", "requests"):
        raise ArgumentError(f"{who}: of must be 'spans' or 'requests', got {of!r}")
    if of == "requests" and by is not None:
        raise ArgumentError(f"{who}: by= groups span durations (of='spans'); request latency is one group")
    if of == "spans" and (not isinstance(spans, pd.DataFrame) or (baseline is not None and not isinstance(baseline, pd.DataFrame))):
        if isinstance(spans, pd.DataFrame) or by is not None:
            raise ArgumentError(f"{who}: of='spans' needs spans DataFrames (span durations are grouped)")
    n = count_arg(n, "n", who, minimum=1)
    given = {"spans": spans} if baseline is None else {"spans": spans, "baseline": baseline}
    raw, times, facts = {}, {}, {}
    for period, x in given.items():
        raw[period], times[period], facts[period] = _values(x, of, by, roots_only, period, who)
    if log_x is None:
        log_x = _auto_log(np.concatenate([v.to_numpy(dtype=float) for v in raw.values()]))
    vals, left_out, window = {}, {}, {}
    for period, v in raw.items():
        a = v.to_numpy(dtype=float)
        ok = np.isfinite(a) & ((a > 0) if log_x else (a >= 0))
        vals[period] = v[ok]
        left_out[period] = int((~ok).sum())
        t = times[period]
        window[period] = ((t[ok].min(), t[ok].max()) if ok.any() else (pd.NaT, pd.NaT)) if t is not None else (None, None)
    counts = pd.Series(vals["spans"].index).value_counts(sort=False)
    # request latency is one group, drawn for the baseline too when the spans give no request
    order = ["all"] if of == "requests" else sorted(counts.index, key=lambda g: (-counts[g], g))[:n]
    sv = vals["spans"].to_numpy(dtype=float)
    attrs = {"log_x": bool(log_x), "left_out": left_out, "window": window,
             "drawn_range": (float(sv.min()), float(sv.max())) if len(sv) else (),
             "counts": {p: int(len(v)) for p, v in vals.items()},
             # every group of the spans, drawn or not, in the order first seen (colours are given over all of them)
             "groups": [str(g) for g in counts.index], "given": {p: len(x) if hasattr(x, "__len__") else 0 for p, x in given.items()}}
    if of == "requests":
        outs = [f["outcomes"] for f in facts.values() if "outcomes" in f]
        attrs["why_none"] = _no_request_words(pd.concat(outs, ignore_index=True)) if outs else "no spans"
    return vals, order, bool(log_x), attrs


def latency_histogram(spans: pd.DataFrame, by: str | Sequence[str] | None = "service", *,
                      baseline: pd.DataFrame | None = None, bins: int = 40, log_x: bool | None = None, n: int = 10,
                      roots_only: bool = False, of: str = "spans") -> pd.DataFrame:
    """Counts of latencies over bins shared by every group and period: the data of :func:`~tracekit.plot_latency`.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame.
    by : str or sequence of str or None
        Grouping of span durations: spans columns and/or named keys (``"route"``…); ``None`` for one group.
    baseline : pandas.DataFrame, optional
        Spans of a normal period, counted over the same bins for the groups drawn.
    bins : int
        Bins shared by all groups.
    log_x : bool, optional
        Log-spaced bins (values of 0 or less left out); by default when the values span more than two decades.
    n : int
        Most groups (the most frequent in ``spans``).
    roots_only : bool
        Only spans without a parent.
    of : {"spans", "requests"}
        Span durations, or request latency (``request_ms``, one group; ``by`` must be None).

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`LATENCY_HISTOGRAM`. ``attrs``: ``params``, ``log_x`` (as decided), ``left_out`` (per
        period, values not drawn: missing, or not positive on a log axis), ``counts`` (per period, values drawn, of
        every group), ``groups`` (every group of ``spans``), ``window`` (per period, the first and last start of the
        values drawn: NaT without one, None for latencies given as numbers), ``drawn_range`` (the smallest and
        largest value of ``spans`` drawn, of every group; empty without one).

    Raises
    ------
    ArgumentError
        A bad ``of``, ``by``, ``bins`` or ``n``; spans without ``duration_ms``.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({"trace_id": ["ab" * 16] * 3, "span_id": [c * 16 for c in "abc"],
    ...     "service": ["api", "api", "db"], "name": ["x"] * 3, "start": [0] * 3,
    ...     "end": [1_000_000, 3_000_000, 2_000_000]})
    >>> h = latency_histogram(spans, bins=2)
    >>> h[["group", "latency_lo_ms", "latency_hi_ms", "count"]].values.tolist()
    [['api', 1.0, 2.0, 1], ['api', 2.0, 3.0, 1], ['db', 1.0, 2.0, 0], ['db', 2.0, 3.0, 1]]
    """
    bins = count_arg(bins, "bins", "latency_histogram", minimum=1, maximum=10_000)
    vals, order, log_x, attrs = _prepare(spans, baseline, by, of, n, roots_only, log_x, "latency_histogram")
    both = np.concatenate([v.to_numpy(dtype=float) for v in vals.values()])
    parts = []
    if len(vals["spans"]):
        lo, hi = float(both.min()), float(both.max())
        if hi <= lo:
            hi = lo + 1.0
        edges = np.logspace(np.log10(lo), np.log10(hi), bins + 1) if log_x else np.linspace(lo, hi, bins + 1)
        edges[0], edges[-1] = lo, hi  # exact ends, so the extremes are always counted
        for g in order:
            for period, v in vals.items():
                x = v.to_numpy(dtype=float)[v.index.to_numpy(dtype=object) == g]
                if not len(x):
                    continue
                c, _ = np.histogram(x, bins=edges)
                parts.append(pd.DataFrame({"group": g, "period": period, "latency_lo_ms": edges[:-1],
                                           "latency_hi_ms": edges[1:], "count": c.astype("int64")}))
    out = (pd.concat(parts, ignore_index=True) if parts else
           pd.DataFrame({c.name: pd.Series(dtype=c.dtype) for c in LATENCY_HISTOGRAM.columns}))
    out = out.astype({c.name: c.dtype for c in LATENCY_HISTOGRAM.columns})[LATENCY_HISTOGRAM.column_names]
    out.attrs = {"params": shared_attr(dict(by=by, bins=bins, log_x=log_x, n=n, roots_only=roots_only, of=of,
                                            baseline=baseline is not None)), **attrs}
    return out


def latency_ecdf(spans: pd.DataFrame | Sequence[float] | np.ndarray,
                 baseline: pd.DataFrame | Sequence[float] | np.ndarray | None = None, *,
                 by: str | Sequence[str] | None = None, n: int = 10, max_points: int = 2000, roots_only: bool = False,
                 log_x: bool | None = True, of: str = "requests") -> pd.DataFrame:
    """Empirical CDF of latency per group and period, with each line's count, p50 and p95: the data of
    :func:`~tracekit.plot_latency_ecdf` and :func:`~tracekit.plot_latency` (``kind="ecdf"``).

    Parameters
    ----------
    spans : pandas.DataFrame or pandas.Series or array-like
        Spans; with ``of="requests"`` also request latencies in ms.
    baseline : pandas.DataFrame or pandas.Series or array-like, optional
        The same of a normal period.
    by : str or sequence of str, optional
        Grouping of span durations (``of="spans"``); ``None`` for one group.
    n : int
        Most groups (the most frequent in ``spans``).
    max_points : int
        Most points per line (evenly spaced in rank, the first and last kept).
    roots_only : bool
        Only spans without a parent (``of="spans"``).
    log_x : bool, optional
        Leave out values of 0 or less (a log axis cannot show them); None: when the values span more than two
        decades. Missing values are always left out.
    of : {"requests", "spans"}
        Request latency (``request_ms`` of :func:`tracekit.core.trace_outcomes`, one group) or span durations.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`LATENCY_ECDF`. ``attrs`` as :func:`latency_histogram`'s, and with
        ``of="requests"`` ``why_none``: why the traces give no request latency, in words.

    Raises
    ------
    ArgumentError
        A bad ``of``, ``by``, ``n`` or ``max_points``; ``by`` with latencies given as numbers.

    Examples
    --------
    >>> import pandas as pd
    >>> e = latency_ecdf(pd.Series([10.0, 20.0, 400.0]), pd.Series([10.0, 12.0]))
    >>> e[["period", "latency_ms", "fraction"]].round(3).values.tolist()
    [['spans', 10.0, 0.333], ['spans', 20.0, 0.667], ['spans', 400.0, 1.0], ['baseline', 10.0, 0.5], ['baseline', 12.0, 1.0]]
    >>> e.groupby("period", sort=False)["p50_ms"].first().tolist()
    [20.0, 10.0]
    """
    max_points = count_arg(max_points, "max_points", "latency_ecdf", minimum=1)
    vals, order, log_x, attrs = _prepare(spans, baseline, by, of, n, roots_only, log_x, "latency_ecdf")
    parts = []
    for g in order:
        for period, v in vals.items():
            x = np.sort(v.to_numpy(dtype=float)[v.index.to_numpy(dtype=object) == g])
            k = len(x)
            if not k:
                continue
            p50, p95 = (float(q) for q in percentile(x, (0.5, 0.95)))
            frac = np.arange(1, k + 1) / k
            if k > max_points:
                idx = np.unique(np.linspace(0, k - 1, max_points).round().astype(np.int64))
                x, frac = x[idx], frac[idx]
            parts.append(pd.DataFrame({"group": g, "period": period, "latency_ms": x, "fraction": frac, "count": k,
                                       "p50_ms": p50, "p95_ms": p95}))
    out = (pd.concat(parts, ignore_index=True) if parts else
           pd.DataFrame({c.name: pd.Series(dtype=c.dtype) for c in LATENCY_ECDF.columns}))
    out = out.astype({c.name: c.dtype for c in LATENCY_ECDF.columns})[LATENCY_ECDF.column_names]
    out.attrs = {"params": shared_attr(dict(by=by, n=n, max_points=max_points, roots_only=roots_only, log_x=log_x,
                                            of=of, baseline=baseline is not None)), **attrs}
    return out
