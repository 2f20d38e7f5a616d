"""Change windows of metric series: :func:`~tracekit.detect_changes`' statistic on each (key, name) series.

:func:`detect_metric_changes` cuts the metrics into series (:func:`~tracekit.metric_series`) and runs
the rank epidemic change-point test with its permutation p-value
(:func:`tracekit.analysis.changes.epidemic_test`) on each, with Holm's adjustment over all series of
the call — the statistic :func:`~tracekit.detect_changes` uses on request latency and errors — which says
*whether* a series changed. *Where* is the window whose bucket values' mean differs most from the rest's
(:func:`tracekit.analysis.changes.scan_window`): a bucket mean is a level, and the rank scan's window took in a
step's neighbours above the median, or, for a step at an edge of the data, a run of the other regime's lowest
ranks (10 → 90 in the last 6 of 30 buckets, noise ±1: the window was exact in 22 of 40 seeds, elsewhere in 13;
now exact in 40). ``before`` / ``during`` are means of bucket values (there are no requests to resample).

>>> import tracekit as tk
>>> t = pd.date_range("2024-01-01 00:01", periods=30, freq="1min", tz="UTC")  # each stamp ends its minute
>>> cpu = [10.0] * 12 + [90.0] * 6 + [10.0] * 12
>>> m = tk.metrics_from_columns({"time": t, "name": "cpu", "value": cpu, "service": "cart", "host": "cart-1"})
>>> ch = tk.detect_metric_changes(m)
>>> ch[["service", "name", "onset", "recovery"]].iloc[0].astype(str).tolist()
['cart', 'cpu', '2024-01-01 00:12:00+00:00', '2024-01-01 00:18:00+00:00']
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..core import count_arg, holm, ns, result_table, share_arg
from ..schema import shared_attr
from .changes import (
    IncidentPeriods,
    epidemic_tests,
    found_baseline,
    holm_permutations,
    incident_periods,
    permutation_seed,
    scan_window,
    scan_windows,
    split_by_change,
    untested_text,
)
from .metric_series import metric_keys, metric_series

__all__ = ["detect_metric_changes", "METRIC_CHANGES", "metric_incident_periods"]

METRIC_CHANGES = result_table("detect_metric_changes", "one row per metric series (key columns first)", [
    ("name", "string", "", "metric name"),
    ("changed", "bool", "", "p_value ≤ alpha: the series has a change window"),
    ("onset", "datetime64[ns, UTC]", "ns, UTC", "first bucket of the window whose bucket values' mean differs most from the rest's (NaT when the series is too short or constant)"),
    ("recovery", "datetime64[ns, UTC]", "ns, UTC", "first bucket after the window; NaT while it runs to the end of the data"),
    ("before", "float64", "metric unit", "mean bucket value outside the window"),
    ("during", "float64", "metric unit", "mean bucket value inside the window"),
    ("delta", "float64", "metric unit", "during − before"),
    ("relative", "float64", "", "delta / |before| (NaN when before is 0)"),
    ("buckets", "int64", "buckets", "non-empty buckets of the series"),
    ("unit", "string", "", "unit of before, during and delta: the series' (metric_series'; <NA> when its points gave none)"),
    ("p_value", "float64", "", "Holm-adjusted permutation p-value of the rank test that the series has a change window (over all series of the call); 1 for a constant series, NaN for one too short to be tested (fewer than 2 · min_buckets + 1 buckets: attrs['untested'])"),
])


def detect_metric_changes(metrics: pd.DataFrame, names: str | Sequence[str] | None = None, *,
                          by: str | Sequence[str] | None = "service", freq: str = "1min", alpha: float = 0.01,
                          min_buckets: int = 2, n_perm: int | None = None, seed: int = 0,
                          all_series: bool = False) -> pd.DataFrame:
    """Change windows of metric series: :func:`~tracekit.detect_changes`' test on each (key, name) series.

    Parameters
    ----------
    metrics : pandas.DataFrame
        A metrics frame.
    names : str or list of str, optional
        Metric names to watch (default: all).
    by : {"service", "host"}, list of them, or None
        Key(s) of a series.
    freq : str
        Bucket length.
    alpha : float
        Family-wise error rate over all series (Holm), for buckets that are exchangeable when nothing changes;
        each series is prewhitened first (:func:`prewhitened`), which brings a wandering gauge's rate near it, not
        to it (at a lag-1 autocorrelation of 0.8, 5 of 40 stationary hours are called changed at 0.01).
    min_buckets : int
        Fewest buckets inside a window and outside it. A window this short is allowed, not found: a change must hold
        about :data:`~tracekit.analysis.changes.SHORTEST_CHANGE` (6) buckets to be found reliably, whatever its
        size (a 100 σ spike of 3 one-minute buckets in 40: 1 of 20 seeds). For shorter ones, a finer ``freq``.
    n_perm : int, optional
        Most permutations per series (default: enough for the Holm threshold over the series tested, ≥ 999,
        as :func:`~tracekit.detect_changes`; a fixed 999 could never pass alpha 0.01 past 10 series).
    seed : int
        Seed of the permutations.
    all_series : bool
        Return every series (``changed`` says which moved): a metric that did not move is evidence too.

    Returns
    -------
    pandas.DataFrame
        Key columns then :data:`METRIC_CHANGES`; the changed series only unless ``all_series``; most
        significant first. ``attrs["untested"]`` says how many series had too few buckets to be tested
        (:func:`tracekit.analysis.changes.untested_text`; "" when none): their ``p_value`` is NaN, not "unchanged".

    Warns
    -----
    UserWarning
        No series could be tested: the empty result says nothing of a change.

    Raises
    ------
    ArgumentError
        Bad ``by``, ``freq``, ``alpha`` or name.

    Examples
    --------
    >>> import tracekit as tk
    >>> t = pd.date_range("2024-01-01 00:01", periods=20, freq="1min", tz="UTC")  # each stamp ends its minute
    >>> m = tk.metrics_from_columns({"time": t, "name": "mem", "value": np.r_[np.ones(14), 5 * np.ones(6)],
    ...                               "host": "pod-1"})
    >>> r = detect_metric_changes(m, by="host")
    >>> r["host"].tolist(), str(r["onset"].iloc[0].time()), r["recovery"].isna().tolist(), float(r["delta"].iloc[0])
    (['pod-1'], '00:14:00', [True], 4.0)
    """
    alpha = share_arg(alpha, "alpha", "detect_metric_changes")
    min_buckets = count_arg(min_buckets, "min_buckets", "detect_metric_changes", minimum=1)
    n_perm = count_arg(n_perm, "n_perm", "detect_metric_changes", minimum=1, allow_none=True)
    keys = metric_keys(by)
    series = metric_series(metrics, names, by=by, freq=freq)
    groups = [(k if isinstance(k, tuple) else (k,), g) for k, g in series.groupby([*keys, "name"], sort=True, dropna=False)]
    # a constant or too short series cannot show a change: not tested, so not in the Holm family (detect_changes')
    testable = np.array([len(g) >= 2 * min_buckets + 1 and np.ptp(g["value"].to_numpy(dtype=float)) > 0
                         for _k, g in groups], dtype=bool)
    # a too short series is no answer: its p-value is NaN (1.0 said "tested, unchanged"), said in attrs["untested"], and
    # warned of when no series could be tested (a constant series is unchanged whatever the test: p 1)
    short = np.array([len(g) < 2 * min_buckets + 1 for _k, g in groups], dtype=bool)
    untested = untested_text([len(g) for (_k, g), s in zip(groups, short, strict=True) if s], len(groups), str(freq),
                             min_buckets)
    if short.any() and not testable.any():
        warnings.warn(f"detect_metric_changes: no series could be tested ({untested}): the empty result says nothing "
                      "of a change (attrs['untested'])", UserWarning, stacklevel=2)
    n_perm_ = int(n_perm) if n_perm is not None else holm_permutations(int(testable.sum()), alpha)
    values = [g["value"].to_numpy(dtype=float) for _k, g in groups]
    # the call's permutations are seeded by seed and its values (permutation_seed): one stream for every call held
    # that stream's level, not alpha
    # a gauge's minutes are not exchangeable (each resembles the last): its AR(1) innovations are (prewhitened)
    windows = scan_windows(values, min_len=min_buckets)  # every series' best window, all at once
    white = [prewhitened(v, min_buckets, w)[0] for v, w in zip(values, windows, strict=True)]
    tested = epidemic_tests(white, min_len=min_buckets, n_perm=n_perm_, seed=permutation_seed(seed, values))
    rows = []
    for (key, g), (a, b, _, p), window in zip(groups, tested, windows, strict=True):
        t = g["time"].to_numpy()
        v = g["value"].to_numpy(dtype=float)
        if a >= 0:  # the ranks say whether; the values say where (a bucket mean is a level: changes.scan_window)
            a, b = window  # (scan_window's, computed above)
        row = dict(zip([*keys, "name"], key, strict=True))
        unit = g["unit"].dropna()  # (one unit per series: metric_series refuses two)
        row.update(buckets=len(v), p_raw=p, onset=pd.NaT, recovery=pd.NaT, before=np.nan, during=np.nan,
                   unit=str(unit.iloc[0]) if len(unit) else None)
        if a >= 0:
            inside = np.zeros(len(v), dtype=bool)
            inside[a:b] = True
            row.update(onset=pd.Timestamp(t[a]), recovery=pd.Timestamp(t[b]) if b < len(v) else pd.NaT,
                       before=float(v[~inside].mean()), during=float(v[inside].mean()))
        rows.append(row)
    cols = [*keys, *METRIC_CHANGES.column_names]
    if not rows:
        out = pd.DataFrame({c: pd.Series(dtype=d.dtype if d.dtype != "string" else "string")
                            for c, d in zip(METRIC_CHANGES.column_names, METRIC_CHANGES.columns, strict=True)})
        for k in reversed(keys):
            out.insert(0, k, pd.Series(dtype="string"))
        out = out[cols]
        out.attrs["params"] = shared_attr(dict(names=names, by=by, freq=freq, alpha=alpha, min_buckets=min_buckets, n_perm=n_perm_,
                                   seed=seed))
        # no series, but maybe points: those with no value to average (all NaN) are said, not lost (metric_series)
        out.attrs["points_without_value"] = series.attrs.get("points_without_value", {})
        out.attrs["untested"] = untested
        return out
    out = pd.DataFrame(rows)
    p_value = np.ones(len(out))
    p_value[testable] = holm(out["p_raw"].to_numpy(dtype=float)[testable])
    p_value[short] = np.nan
    out["p_value"] = p_value
    out["changed"] = out["p_value"] <= alpha
    out["delta"] = out["during"] - out["before"]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["relative"] = np.where(out["before"].abs() > 0, out["delta"] / out["before"].abs(), np.nan)
    for c in ("onset", "recovery"):
        out[c] = pd.to_datetime(out[c], utc=True).astype("datetime64[ns, UTC]")
    for k in [*keys, "name", "unit"]:
        out[k] = out[k].astype(object).where(out[k].notna(), None).astype("string")
    out["buckets"] = out["buckets"].astype("int64")
    if not all_series:
        out = out[out["changed"]]
    out = out.iloc[np.lexsort((-out["delta"].abs().fillna(0).to_numpy(), out["p_value"].to_numpy()))]
    out = out[cols].reset_index(drop=True)
    out.attrs["params"] = shared_attr(dict(names=names, by=by, freq=freq, alpha=alpha, min_buckets=min_buckets, n_perm=n_perm_,
                               seed=seed))
    out.attrs["points_without_value"] = series.attrs.get("points_without_value", {})  # not in any series (metric_series)
    out.attrs["untested"] = untested
    return out


#: the largest lag-1 autocorrelation taken out of a series (:func:`prewhitened`): nearer 1, the innovations of a
#: random walk would be tested, and a step's height after its first bucket would be nearly nothing
MAX_AUTOCORRELATION = 0.95


def _lag1(r: np.ndarray) -> float:
    """Lag-1 autocorrelation of the residuals ``r`` (0 when they are all 0)."""
    den = float(r @ r)
    return float(r[1:] @ r[:-1]) / den if den > 0 else 0.0


def prewhitened(values: np.ndarray, min_len: int, window: tuple[int, int] | None = None) -> tuple[np.ndarray, float]:
    """``values`` with their lag-1 autocorrelation taken out, and that autocorrelation (0 when none is taken out).

    The rank test's permutations hold its level only where the buckets are exchangeable when nothing changes. A
    metric's buckets are not: CPU, memory and queue depth each resemble the minute before (AR(1) noise, φ 0.5 / 0.8:
    a stationary hour was called changed in 10 / 16 of 20 seeds at alpha 0.01, and 11 of 12 pods' memory in two
    fault-free hours of Nezha's TrainTicket). Their innovations ``e[t] = v[t] − φ·v[t−1]`` are. φ is the lag-1
    autocorrelation of the residuals around the best change window (:func:`~tracekit.analysis.changes.scan_window`),
    and of the series around its mean, averaged: the first is low when nothing changed (the window takes in a
    wandering stretch), the second high when something did (a step reads as autocorrelation); clipped to
    [0, :data:`MAX_AUTOCORRELATION`]. The first bucket is kept (Prais-Winsten), so the series keeps its length. A step
    of height Δ stays a window of height (1 − φ)·Δ after a first bucket of Δ: a series whose minutes follow each
    other holds less evidence per minute, and the test now says so. Measured side by side on 40 seeds of an hour of
    1-minute buckets at alpha 0.01: stationary AR(1) noise at φ 0 / 0.3 / 0.5 / 0.8 was called changed 1 / 8 / 18 /
    33 times before, 1 / 1 / 3 / 5 now (still above alpha where φ is high: it is estimated from the hour itself);
    independent noise with a step of 3 σ for 20 minutes, at the start or the end, found 40 of 40 before and now; a
    step of 1.5 σ for 20 minutes 35 → 27, of 2 σ for 10 minutes 30 → 17 (the price of not calling wandering gauges
    changed).

    >>> v = np.array([0.0, 1.0, 2.0, 3.0, 2.0, 1.0, 0.0, 1.0, 2.0, 3.0, 2.0, 1.0])
    >>> e, phi = prewhitened(v, 2)
    >>> len(e), round(phi, 2)
    (12, 0.37)
    """
    v = np.asarray(values, dtype=np.float64)
    n = len(v)
    if n < 2 * min_len + 1 or not np.ptp(v) > 0:
        return v, 0.0
    a, b = scan_window(v, min_len=min_len) if window is None else window  # (given: scan_windows', the same)
    fit = np.full(n, v.mean())
    if a >= 0:
        inside = np.zeros(n, dtype=bool)
        inside[a:b] = True
        fit[inside], fit[~inside] = v[inside].mean(), v[~inside].mean()
    phi = (_lag1(v - v.mean()) + _lag1(v - fit)) / 2
    phi = min(max(phi, 0.0), MAX_AUTOCORRELATION)
    if phi <= 0:
        return v, 0.0
    # the first bucket kept (Prais-Winsten): its innovation's level and spread as the others', around the fitted level
    # (dropped, a step in the first 6 of 30 buckets lost one of them: p 0.007-0.012, above alpha 0.01 in 2 of 8 seeds)
    first = (1 - phi) * fit[0] + math.sqrt(1 - phi * phi) * (v[0] - fit[0])
    return np.r_[first, v[1:] - phi * v[:-1]], phi


def metric_incident_periods(spans: pd.DataFrame, baseline: pd.DataFrame | None = None, *, freq: str | None = None,
                            alpha: float = 0.01, weights: Any = None, min_baseline: int = 30,
                            metrics: pd.DataFrame | None = None) -> IncidentPeriods:
    """:func:`~tracekit.incident_periods`, and where the requests show no change and no baseline is given, the
    window of the ``metrics``' headline change (:func:`metric_headline`) cutting the incident and the found baseline
    as a request change would (``metric_change``, ``metric_changes``): a CPU-starved pod among several can leave every
    route's p95 within chance while its own CPU steps. The one rule postmortem and rank_causes (no baseline) share.

    >>> import tracekit as tk
    >>> from tracekit.simulate_faults import fault_window
    >>> w = fault_window("cpu_contention", 0)
    >>> both = pd.concat([w.baseline, w.incident], ignore_index=True)
    >>> p = metric_incident_periods(both, metrics=w.metrics)
    >>> p.change is None, p.metric_change["host"] == w.truth.pod, p.window[0] == w.truth.time
    (True, True, True)
    """
    p = incident_periods(spans, baseline, freq=freq, alpha=alpha, weights=weights, min_baseline=min_baseline)
    if p.change is not None or baseline is not None or metrics is None:
        return p
    # fault lab, incident and baseline as one frame: a pod's CPU stepping 0.02 -> 0.38 from 14:05:00, found to the
    # bucket, while every route's p95 stayed within chance ("No baseline to compare with, so no cause can be ranked")
    m_head, m_found = metric_headline(spans, metrics, p.freq, alpha)
    if m_head is None:
        return p
    split = split_by_change(spans, (m_head["onset"], m_head["recovery"]))
    base, source, rejected, _ = found_baseline(spans, split, p.changes, p.freq, alpha, weights, min_baseline)
    return IncidentPeriods(split.incident, base, source, None, p.changes, p.freq, rejected, p.given_changed, None,
                           m_head, m_found)


def metric_headline(spans: pd.DataFrame, metrics: pd.DataFrame, freq: str, alpha: float
                    ) -> tuple[pd.Series | None, pd.DataFrame | None]:
    """The headline change of ``metrics`` in the spans' time, for :func:`metric_incident_periods`:
    :func:`detect_metric_changes` by service and host at the requests' bucket ``freq`` and family-wise rate ``alpha``,
    over the points from the spans' first start to their last end; the most significant change whose window holds a
    trace's start, then the largest relative one (units differ between series; the absolute delta does not compare),
    and every change found. (None, None) when no point falls in that time; (None, found) when no series changed with
    a trace started in its window."""
    from .metric_series import require_metrics_frame

    metrics = require_metrics_frame(metrics, "incident_periods")
    t0, t1 = spans["start"].min(), spans["end"].max()
    if pd.isna(t0) or pd.isna(t1) or not len(metrics):
        return None, None
    # a point's time ends its interval: the one just after the last span still measures the spans' time
    t = metrics["time"]
    m = metrics[((t >= t0) & (t <= t1 + pd.Timedelta(freq))).to_numpy(dtype=bool, na_value=False)]
    if not len(m):
        return None, None
    with warnings.catch_warnings():  # "no series could be tested": no change, said by the caller's own words
        warnings.simplefilter("ignore", UserWarning)
        found = detect_metric_changes(m, by=["service", "host"], freq=freq, alpha=alpha)
    if not len(found):
        return None, found
    starts = np.sort(ns(spans["start"].dropna()))
    onset = ns(found["onset"])
    rec = found["recovery"]
    end = np.where(rec.isna().to_numpy(), np.iinfo(np.int64).max, ns(rec.fillna(pd.Timestamp(0, tz="UTC"))))
    holds = np.searchsorted(starts, end, side="left") > np.searchsorted(starts, onset, side="left")
    if not holds.any():
        return None, found
    cand = found[holds]
    rel = cand["relative"].abs().to_numpy(dtype=float, na_value=np.nan)
    order = np.lexsort((-np.nan_to_num(rel, nan=0.0), cand["p_value"].to_numpy(dtype=float)))
    return cand.iloc[order[0]], found
