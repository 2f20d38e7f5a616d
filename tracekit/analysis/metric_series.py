"""Metrics on the requests' time axis: series per bucket and key, their changes, the traces behind a spike.

:func:`metric_series` cuts a metrics frame into the buckets :func:`~tracekit.timeline` uses (``freq``
from the epoch, so the same ``time`` values) per key — ``service`` or ``host``, the keys both frames
share — and metric name. A point goes to the bucket holding the middle of the interval its value describes
(:func:`described_times`: a scraped gauge stamped 10:01:10 describes 10:00:10–10:01:10, bucket 10:00), so a CPU
rise lines up with the latency it caused; :func:`~tracekit.analysis.metric_evidence.metric_evidence` cuts its
windows the same way. A bucket's value is the mean of its points' values; a histogram or
summary point contributes its mean (``sum / count``); cumulative sums should be turned into rates
first (:func:`tracekit.metric_rates`), and a cumulative sum given as is is refused.

:func:`~tracekit.detect_metric_changes` (:mod:`tracekit.analysis.metric_changes`) runs
:func:`~tracekit.detect_changes`' statistic on these series. :func:`metric_exemplars`
lists the exemplars recorded in a window: the trace and span ids behind a spike, to open with
:func:`~tracekit.waterfall_data` or select in the spans frame.

>>> import tracekit as tk
>>> m = tk.metrics_from_columns({"time": ["2024-01-01 00:00:10", "2024-01-01 00:01:10"], "name": "cpu",
...     "value": [10.0, 90.0], "host": "cart-1"})
>>> metric_series(m, by="host")["value"].tolist()
[10.0, 90.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..core import duration_arg, result_table
from ..core.deprecation import renamed
from ..core.streams import stream_codes, stream_steps
from ..errors import ArgumentError
from ..metrics_schema import MetricsSchemaError, validate_metrics

__all__ = ["metric_series", "point_values", "AGGREGATE_KINDS", "metric_exemplars", "join_metric_series", "known_names", "require_metrics_frame", "METRIC_SERIES", "METRIC_EXEMPLARS", "METRIC_KEYS",
           "metric_keys", "metric_step", "described_times", "series_codes", "require_one_measure"]

#: keys a metric series can be cut by: the keys metrics share with spans
METRIC_KEYS = ("service", "host")

METRIC_SERIES = result_table("metric_series", "one row per (time bucket, key, metric name) with points", [
    ("time", "datetime64[ns, UTC]", "ns, UTC", "start of the time bucket (``freq`` long, aligned as timeline's)"),
    ("name", "string", "", "metric name"),
    ("value", "float64", "metric unit", "mean over the key's streams of each one's bucket mean of its point values; histograms, summaries and statistics with a count: sum / count, weighted by their counts within and across streams (a CloudWatch statistic without a count: its value)"),
    ("points", "int64", "points", "data points in the bucket (measured ones: a carried value is not a point)"),
    ("streams", "int64", "streams", "streams averaged: the key's sources of the metric (a host, a process, a set of point attributes) with a value in the bucket, measured or carried"),
    ("carried", "int64", "streams", "of those streams, how many missed the bucket and gave their previous bucket's value (a scrape missed within the stream's first and last point)"),
    ("unit", "string", "", "unit of the metric (the first one seen)"),
])

METRIC_EXEMPLARS = result_table("metric_exemplars", "one row per exemplar recorded in the window", [
    ("time", "datetime64[ns, UTC]", "ns, UTC", "time of the exemplar's measurement (else of its data point)"),
    ("name", "string", "", "metric name"),
    ("service", "string", "", "service of the data point"),
    ("host", "string", "", "host of the data point"),
    ("value", "float64", "metric unit", "the measurement the exemplar records"),
    ("trace_id", "string", "", "trace of the measurement (32 lower-case hex, as the spans' trace_id)"),
    ("span_id", "string", "", "span of the measurement (16 lower-case hex), <NA> when not recorded"),
])


def metric_keys(by: str | Sequence[str] | None) -> list[str]:
    """The key columns of ``by`` (``service`` / ``host``); ArgumentError otherwise.

    >>> metric_keys("host"), metric_keys(None)
    (['host'], [])
    """
    if by is None:
        return []
    keys = [by] if isinstance(by, str) else list(by)
    bad = [k for k in keys if k not in METRIC_KEYS]
    if bad:
        raise ArgumentError(f"metric series: by must be None or among {METRIC_KEYS} (the keys metrics share with "
                            f"spans), got {by!r}")
    return keys


def metric_step(freq: str, what: str) -> pd.Timedelta:
    """``freq`` as a positive Timedelta; ArgumentError otherwise.

    >>> metric_step("5min", "x")
    Timedelta('0 days 00:05:00')
    """
    return duration_arg(freq, "freq", what)  # the one rule for a duration (core.args)


def series_codes(metrics: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """One int64 code per row for its joint value of ``columns`` (a missing value is a value of its own), 0 .. k − 1:
    the series a point belongs to, by factorizing each column apart (a MultiIndex of object arrays is 5× slower).

    >>> import tracekit as tk
    >>> m = tk.metrics_from_columns({"time": [0, 0, 0], "name": ["cpu", "cpu", "mem"], "value": [1.0, 2.0, 3.0],
    ...     "service": ["a", "b", "a"]})
    >>> series_codes(m, ("service", "name")).tolist()
    [0, 1, 2]
    """
    code = np.zeros(len(metrics), dtype=np.int64)
    for c in columns:
        cc, uniq = pd.factorize(metrics[c], use_na_sentinel=True)
        code = pd.factorize(code * (len(uniq) + 1) + (cc + 1))[0].astype(np.int64)
    return code


def _mixed_series(labels: pd.Series, codes: np.ndarray) -> np.ndarray | None:
    """Rows of the first series (``codes``) holding more than one distinct non-missing label, or None."""
    has = labels.notna().to_numpy()
    lab, uniq = pd.factorize(labels, use_na_sentinel=True)
    if len(uniq) < 2:  # one label in the whole frame (the common case): nothing to compare
        return None
    code = codes[has]
    pairs = np.unique(code * len(uniq) + lab[has])  # the distinct (series, label) pairs
    per = np.bincount(pairs // len(uniq))
    if not (per > 1).any():
        return None
    return np.flatnonzero(has)[code == int(np.flatnonzero(per > 1)[0])]


def require_one_measure(metrics: pd.DataFrame, columns: Sequence[str], who: str) -> None:
    """Raise an :class:`~tracekit.errors.ArgumentError` naming ``who`` when a series (one value of ``columns``) has
    points in more than one unit, or of more than one CloudWatch statistic (``attributes["cloudwatch.stat"]``: one
    metric fetched as its Average and its Maximum): their mean (100 ms and 0.1 s averaged to "50.05 ms"; an Average
    of 10 and a Maximum of 90 to 50) is no quantity. Points without a unit (a statistic) are not counted against one.

    >>> import tracekit as tk
    >>> m = tk.metrics_from_columns({"time": [0, 0], "name": "lat", "value": [100.0, 0.1], "unit": ["ms", "s"],
    ...                              "host": ["a", "b"]})
    >>> require_one_measure(m, ["host", "name"], "f")  # one unit per host: fine
    >>> require_one_measure(m, ["name"], "f")
    Traceback (most recent call last):
    ...
    tracekit.errors.ArgumentError: f: metric 'lat' has points in 2 units (ms, s) in one series; keep one unit (metrics[metrics["unit"] == ...]) or convert them first
    """
    if not len(metrics):
        return
    unit = metrics["unit"]
    cw = (metrics["source"] == "cloudwatch").to_numpy(dtype=bool, na_value=False)
    if not unit.notna().any() and not cw.any():
        return
    codes = series_codes(metrics, columns)
    rows = _mixed_series(unit, codes)
    if rows is not None:
        units = sorted({str(x) for x in unit.iloc[rows]})
        raise ArgumentError(f"{who}: metric {metrics['name'].iloc[rows[0]]!r} has points in {len(units)} units "
                            f"({', '.join(units[:5])}) in one series; keep one unit (metrics[metrics[\"unit\"] == ...]) "
                            "or convert them first")
    if cw.any():
        # (the CloudWatch rows' cells only: attributes is a lazy column, and building every cell is the cost)
        stat = pd.Series([a.get("cloudwatch.stat") if isinstance(a, dict) else None
                          for a in metrics["attributes"].iloc[np.flatnonzero(cw)].to_numpy(dtype=object)], dtype=object)
        rows = _mixed_series(stat, codes[cw])
        if rows is not None:
            stats = sorted({str(x) for x in stat.iloc[rows]})
            raise ArgumentError(f"{who}: CloudWatch metric {metrics['name'].to_numpy(dtype=object)[cw][rows[0]]!r} has "
                                f"points of {len(stats)} statistics ({', '.join(stats[:5])}) in one series; keep one "
                                "(by its points' attributes['cloudwatch.stat']) or give each its own name")


def described_times(metrics: pd.DataFrame) -> np.ndarray:
    """The middle of the interval each data point's value describes, in ns since the epoch (int64).

    A point is stamped at one instant but its value stands for an interval, and which one depends on the source:

    - a **delta** sum or histogram (OTLP) covers ``[start_time, time]``: its middle;
    - a **CloudWatch** datapoint is stamped at the *start* of its period: ``time`` plus half the series' step;
    - anything else — gauges, summaries, long-form columns (Prometheus scrapes, Kubernetes metrics-server, a
      ``rate()``) — describes the scrape interval that *ends* at its stamp: ``time`` minus half the step.

    The step is the median gap between a series' distinct stamps (a series: service, host and name); a series
    of one point, or a point without a time, keeps its stamp (NaT stays the NaT integer). Cutting a window by
    these times instead of the stamps puts a CPU rise where it happened: on Nezha's TrainTicket day a pod's
    CPU, scraped every minute, shows a stressor injected at 13:31:54 in the point stamped 13:33:09 — after the
    last of the 2-minute incident's spans ended (13:33:07) — whose minute lies inside it.

    >>> import tracekit as tk
    >>> t = pd.date_range("2024-01-01", periods=3, freq="1min", tz="UTC")
    >>> m = tk.metrics_from_columns({"time": t, "name": "cpu", "value": [1.0, 2.0, 3.0], "service": "a"})
    >>> pd.to_datetime(described_times(m), utc=True).strftime("%H:%M:%S").tolist()
    ['23:59:30', '00:00:30', '00:01:30']
    """
    t = metrics["time"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    out = t.copy()
    if not len(t):
        return out
    nat = np.iinfo(np.int64).min
    st = metrics["start_time"].to_numpy(dtype="datetime64[ns]").astype(np.int64) if "start_time" in metrics \
        else np.full(len(t), nat)
    delta = (metrics["temporality"] == "delta").to_numpy(dtype=bool, na_value=False) & metrics["kind"].isin(
        ["sum", "histogram", "exponential_histogram"]).to_numpy(dtype=bool, na_value=False) & (st != nat) & \
        (t != nat) & (st < t)
    cw = (metrics["source"] == "cloudwatch").to_numpy(dtype=bool, na_value=False) & ~delta & (t != nat)
    other = ~delta & ~cw & (t != nat)
    # each series' step: the median gap between its distinct stamps
    code = series_codes(metrics, ("service", "host", "name"))
    ok = t != nat
    k, tt = code[ok], t[ok]
    o = np.lexsort((tt, k))
    k, tt = k[o], tt[o]
    same = np.r_[False, k[1:] == k[:-1]]
    gap = np.diff(tt, prepend=0)
    distinct = same & (gap > 0)  # repeated stamps of a series (points of other attributes) are one stamp
    steps = pd.Series(gap[distinct]).groupby(k[distinct]).median()
    half = np.zeros(int(code.max()) + 1 if len(code) else 0)
    half[steps.index.to_numpy()] = steps.to_numpy(dtype=float) / 2
    half = half[code].astype(np.int64)
    out[delta] = st[delta] + (t[delta] - st[delta]) // 2
    out[cw] = t[cw] + half[cw]
    out[other] = t[other] - half[other]
    return out


def require_metrics_frame(metrics: Any, who: str) -> pd.DataFrame:
    """Raise an :class:`~tracekit.errors.ArgumentError` naming ``who`` unless ``metrics`` is a metrics frame
    (a logs or spans frame given as ``metrics=`` is said to be one); return it as
    :func:`~tracekit.validate_metrics` does (a copy with the declared dtypes when a column has another dtype
    of the same values, e.g. pandas 3's ``str``).

    >>> require_metrics_frame(pd.DataFrame({"time": [0], "body": ["x"], "severity_text": ["INFO"]}), "f")
    Traceback (most recent call last):
    ...
    tracekit.errors.ArgumentError: f: metrics is not a metrics frame; it is a logs frame: pass it as logs=
    """
    cols = set(metrics.columns) if isinstance(metrics, pd.DataFrame) else set()
    if {"body", "severity_text"} <= cols:
        raise ArgumentError(f"{who}: metrics is not a metrics frame; it is a logs frame: pass it as logs=")
    if {"parent_id", "duration_ms"} <= cols:
        raise ArgumentError(f"{who}: metrics is not a metrics frame; it is a spans frame")
    try:
        return validate_metrics(metrics)
    except MetricsSchemaError as exc:
        raise ArgumentError(f"{who}: metrics is not a metrics frame ({exc}); read it with tk.read_metrics or "
                            "tk.metrics_from_columns") from None


def known_names(metrics: pd.DataFrame, names: str | Sequence[str] | None, what: str = "metric series") -> list[str] | None:
    """``names`` as a list (None stays None), each a metric name of ``metrics``: a misspelt name is an
    error, not an empty result that would read as "no metric moved".

    >>> import tracekit as tk
    >>> known_names(tk.metrics_from_columns({"time": [0], "name": "cpu", "value": [1.0]}), "cpu")
    ['cpu']
    """
    if names is None:
        return None
    ns = [names] if isinstance(names, str) else list(names) if isinstance(names, (list, tuple, set, pd.Index,
                                                                                  pd.Series, np.ndarray)) else None
    bad = [n for n in ns if not isinstance(n, str)] if ns is not None else [names]
    if bad:
        raise ArgumentError(f"{what}: metric names must be a name or a list of names (str), got {names!r:.80}")
    have = set(metrics["name"].dropna().unique())
    missing = [n for n in ns if n not in have]
    if missing:
        raise ArgumentError(f"{what}: no metric named {missing[0]!r} (have e.g. {sorted(have)[:5]})")
    return ns


def _host_means(series: np.ndarray, stream: np.ndarray, bucket: np.ndarray, v: np.ndarray, gauge: np.ndarray,
                w: np.ndarray) -> dict[str, np.ndarray]:
    """Per (series, time bucket): the mean over the series' streams of each stream's bucket mean.

    Where every point of a bucket is a mean of counted measurements (a histogram, a summary, a statistic with its
    SampleCount: ``w``, :func:`point_measurements`), the means are weighted by those counts, within a stream and
    across streams: a host that served 1,000 requests at 10 ms and one that served 1 at 1 s are 11 ms, not 505.

    A stream is one OTLP stream of the series (:func:`~tracekit.core.streams.stream_codes`: a service, host, resource
    and point attributes). A gauge stream (a level: CPU, memory, a rate from
    :func:`~tracekit.metric_rates`) with no point in a bucket that another stream of its series has, between its own
    first and last bucket, gives its previous bucket's mean: a missed scrape is not the host leaving. Otherwise the mean
    of two hosts at 10 % and 90 % CPU read 10 % while one missed its scrapes, a change of −80 % that nothing made.
    Before its first or after its last point a stream is not averaged (a pod replaced, a host added); nor is a
    histogram, summary or sum stream in a bucket it has no point in (no point may mean no measurement).

    Parameters: per point, its ``series`` and ``stream`` codes (int64), its ``bucket`` (int64 ns), its finite value
    ``v``, whether it is a ``gauge`` and its measurement count ``w`` (NaN: none). Returns the columns ``series``, ``time`` (int64 ns), ``value``, ``points``,
    ``streams`` and ``carried``, in series then time order.
    """
    if not len(v):  # no point with a value (an empty frame, or every value NaN / ±Inf): no bucket
        none = np.zeros(0, dtype=np.int64)
        return {"series": none, "time": none, "value": np.zeros(0), "points": none, "streams": none, "carried": none}
    # one row per (stream, bucket): its mean and points (stream codes nest in series codes: a stream has one series)
    ub, b_rank = np.unique(bucket, return_inverse=True)
    nb = max(len(ub), 1)
    sb = stream.astype(np.int64) * nb + b_rank
    key, inv, pts = np.unique(sb, return_inverse=True, return_counts=True)
    hv, hw = _weighted_means(inv, len(key), v, w, pts)
    h_stream, h_rank = key // nb, key % nb  # sorted by stream, then bucket
    s_of = np.zeros(int(stream.max()) + 1 if len(stream) else 0, dtype=np.int64)
    s_of[stream] = series
    g_of = np.zeros(len(s_of), dtype=bool)
    g_of[stream] = gauge
    h_series = s_of[h_stream]
    # the output buckets: each (series, bucket) some stream measured
    ob = np.unique(h_series * nb + h_rank)
    o_rank = ob % nb
    first_pos = np.r_[0, np.flatnonzero(np.diff(h_stream)) + 1]  # each stream's first row in the sorted table
    streams_u = h_stream[first_pos]
    life_first, life_last = h_rank[first_pos], h_rank[np.r_[first_pos[1:] - 1, len(h_stream) - 1]]
    fill = g_of[streams_u] & (life_last - life_first + 1 > np.diff(np.r_[first_pos, len(h_stream)]))  # gauges with gaps
    rows_s, rows_t, rows_v, rows_w, rows_p = [h_series], [h_rank], [hv], [hw], [pts]
    rows_c = [np.zeros(len(hv), dtype=np.int64)]
    if fill.any():
        # candidates: the output buckets of a gappy gauge stream's series inside its life that it did not measure
        fs, ff, fl = streams_u[fill], life_first[fill], life_last[fill]
        o_start = np.searchsorted(ob, s_of[fs] * nb + ff)
        o_end = np.searchsorted(ob, s_of[fs] * nb + fl, "right")
        n = o_end - o_start
        owner = np.repeat(np.arange(len(fs)), n)
        pos = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n) + np.repeat(o_start, n)
        c_stream, c_rank = fs[owner], o_rank[pos]
        want = c_stream * nb + c_rank
        at = np.searchsorted(key, want)
        missed = (at >= len(key)) | (key[np.minimum(at, len(key) - 1)] != want)
        c_stream, c_rank, at = c_stream[missed], c_rank[missed], at[missed]
        # the stream's previous measured bucket: the row before the insertion point (its first bucket is earlier)
        rows_s.append(s_of[c_stream])
        rows_t.append(c_rank)
        rows_v.append(hv[at - 1])
        rows_w.append(np.full(len(at), np.nan))  # a gauge's: no counts
        rows_p.append(np.zeros(len(at), dtype=np.int64))
        rows_c.append(np.ones(len(at), dtype=np.int64))
    ls, lt, lv, lw, lp, lc = (np.concatenate(x) for x in (rows_s, rows_t, rows_v, rows_w, rows_p, rows_c))
    okey, oinv, ostreams = np.unique(ls * nb + lt, return_inverse=True, return_counts=True)
    return {"series": okey // nb, "time": ub[okey % nb] if len(ub) else okey,
            "value": _weighted_means(oinv, len(okey), lv, lw, ostreams)[0],
            "points": np.bincount(oinv, weights=lp, minlength=len(okey)).astype(np.int64),
            "streams": ostreams.astype(np.int64),
            "carried": np.bincount(oinv, weights=lc, minlength=len(okey)).astype(np.int64)}


def _weighted_means(group: np.ndarray, n: int, v: np.ndarray, w: np.ndarray, size: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Per group (0 .. n − 1): the mean of ``v`` weighted by ``w`` where every ``w`` of the group is finite (and the
    weights' sum), else the plain mean (and NaN)."""
    plain = np.bincount(group, weights=v, minlength=n) / size
    has = np.isfinite(w)
    complete = np.bincount(group, weights=(~has).astype(float), minlength=n) == 0
    wf = np.where(has, w, 0.0)
    total_w = np.bincount(group, weights=wf, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        weighted = np.bincount(group, weights=v * wf, minlength=n) / total_w
    ok = complete & (total_w > 0)
    return np.where(ok, weighted, plain), np.where(ok, total_w, np.nan)


def metric_series(metrics: pd.DataFrame, names: str | Sequence[str] | None = None, *,
                  by: str | Sequence[str] | None = "service", freq: str = "1min") -> pd.DataFrame:
    """Metric values per time bucket, key and name, on the buckets of :func:`~tracekit.timeline`.

    Parameters
    ----------
    metrics : pandas.DataFrame
        A metrics frame (:func:`tracekit.read_metrics`, :func:`tracekit.metrics_from_columns`).
    names : str or list of str, optional
        Metric names to keep (default: all).
    by : {"service", "host"}, list of them, or None
        Key(s) of a series; None: every point of a name in one series.
    freq : str
        Bucket length (pandas offset alias).

    Returns
    -------
    pandas.DataFrame
        ``time``, the key columns, then :data:`METRIC_SERIES`'s other columns; only buckets with
        points; sorted by key, name and time. A key's value is the mean over its streams (each service, host,
        resource and set of point attributes of it) of each one's bucket mean, so a host weighs as much as another whatever its scrape rate; a gauge host
        that missed a bucket between its first and last point gives its previous bucket's mean (``carried``), so a
        missed scrape does not read as a change. A point with no finite value (:func:`point_values`: an OTLP histogram
        without its optional sum; an infinite double) is in no bucket: ``attrs["points_without_value"]`` counts them
        per name.

    Raises
    ------
    MetricsSchemaError
        ``metrics`` is not a metrics frame.
    ArgumentError
        Bad ``by``, ``freq`` or name; a cumulative sum (turn it into a rate first); a series with points in more
        than one unit (:func:`require_one_measure`).

    Examples
    --------
    >>> import tracekit as tk
    >>> # scraped every 30 s: each point describes the 30 s before its stamp (00:00:40–00:01:10 for the first)
    >>> m = tk.metrics_from_columns({"time": ["2024-01-01 00:01:10", "2024-01-01 00:01:40", "2024-01-01 00:02:10"],
    ...     "name": "cpu", "value": [1.0, 3.0, 5.0], "service": "a"})
    >>> metric_series(m)[["time", "value", "points"]].astype(str).values.tolist()
    [['2024-01-01 00:00:00+00:00', '1.0', '1'], ['2024-01-01 00:01:00+00:00', '4.0', '2']]
    """
    metrics = validate_metrics(metrics)  # (a copy with the declared dtypes when a column has another of the same values)
    keys = metric_keys(by)
    step = metric_step(freq, "metric_series")
    ns = known_names(metrics, names)
    m = metrics if ns is None else metrics[metrics["name"].isin(ns).to_numpy(dtype=bool)]
    cum = ((m["kind"] == "sum") & (m["temporality"] == "cumulative")).to_numpy(dtype=bool, na_value=False)
    if cum.any():
        raise ArgumentError(f"metric_series: {m['name'][cum].iloc[0]!r} is a cumulative sum; turn it into a rate "
                            "first (tk.metric_rates(metrics))")
    # a sum that says no temporality may be a running total (a CSV's counter): its mean would be no level either
    unsaid = ((m["kind"] == "sum").to_numpy(dtype=bool, na_value=False)
              & (m["temporality"] != "delta").to_numpy(dtype=bool, na_value=True))
    if unsaid.any():
        raise ArgumentError(f"metric_series: {m['name'][unsaid].iloc[0]!r} is a sum that gives no temporality: a "
                            "running total is no level; say it (temporality='cumulative' or 'delta' in "
                            "tk.metrics_from_columns), then tk.metric_rates(metrics)")
    require_one_measure(m, [*keys, "name"], "metric_series")  # a bucket's mean of 100 ms and 0.1 s is no quantity
    v, w = point_measurements(m)
    t = described_times(m)  # the bucket holding the middle of the interval each point describes, not its stamp
    s = step.value
    none = ~np.isfinite(v)  # NaN, and ±Inf (OTLP doubles may be infinite): no mean to take
    ok = ~none
    series = series_codes(m, [*keys, "name"])[ok]
    # a stream is one OTLP stream (core.streams: name, service, host, resource, point attributes), as the column's
    # definition says: two processes of a host, or a point attribute's values (cpu="0", cpu="1"), were one stream, so a
    # scrape one of them missed moved the bucket's mean (10 and 90 read 10) instead of carrying its previous value
    stream = stream_codes(m)[ok]
    gauge = (m["kind"] == "gauge").to_numpy(dtype=bool, na_value=False)[ok]
    got = _host_means(series, stream, (t // s * s)[ok], v[ok], gauge, w[ok])
    # each series' labels and unit (its first point's; the first unit given, "" kept as given)
    mk = m[ok]
    lab = pd.DataFrame({c: mk[c].to_numpy(dtype=object) for c in [*keys, "name"]}).groupby(series, sort=True).first()
    units = pd.Series(mk["unit"].to_numpy(dtype=object)).groupby(series, sort=True).first()
    out = pd.DataFrame({"time": pd.to_datetime(got["time"], utc=True)})
    for c in [*keys, "name"]:
        out[c] = pd.array(lab[c].reindex(got["series"]).to_numpy(), dtype="string")
    out["value"] = got["value"]
    for c in ("points", "streams", "carried"):
        out[c] = got[c]
    out["unit"] = pd.array(units.reindex(got["series"]).to_numpy(), dtype="string")
    out["time"] = out["time"].astype("datetime64[ns, UTC]")
    # sorted by key, name and time (a missing key first)
    out = out.sort_values([*keys, "name", "time"], kind="stable", na_position="first").reset_index(drop=True)
    # points with no finite value to average (NaN, ±Inf; a histogram with neither sum nor value): left out, counted
    names_none = m["name"].to_numpy(dtype=object)[none]
    out.attrs["points_without_value"] = {str(k): int(c) for k, c in pd.Series(names_none).value_counts(sort=False).items()}
    return out


#: the kinds whose point is many measurements: their value is the measurements' mean
AGGREGATE_KINDS = ("histogram", "exponential_histogram", "summary")


def point_values(metrics: pd.DataFrame) -> np.ndarray:
    """One number per data point, what :func:`metric_series` averages: a gauge's or sum's ``value``; a histogram's
    or summary's mean, ``sum / count``, else its ``value`` (CloudWatch statistics: the Average, else the one
    statistic asked, such as a Sum or a Maximum, with no count); NaN when there is none (an OTLP histogram
    without its optional sum).

    A **cumulative** histogram (the OTel SDKs' default) counts since its start: its ``sum / count`` is the mean
    over the process's life, which a rise of the last minutes barely moves. So does a summary whose ``start_time`` is
    before its time (OTLP: a summary's "count and sum … are assumed to be cumulative"; a CloudWatch statistic is of
    its period alone, its start its time). Its point's mean is over the interval
    since the stream's previous point instead (:func:`tracekit.core.streams.stream_codes`): Δsum / Δcount; after a
    reset (the count went down, or ``start_time`` moved past the previous point) and at a stream's first point,
    since its start.

    >>> import tracekit as tk
    >>> m = tk.metrics_from_columns({"time": [0, 0, 0], "name": "x", "kind": "summary", "value": [1.0, 2.0, None],
    ...                              "sum": [10.0, None, None], "count": [4.0, None, 3.0]})
    >>> point_values(m).tolist()
    [2.5, 2.0, nan]
    >>> c = tk.metrics_from_columns({"time": [60e9, 120e9, 180e9], "name": "lat", "kind": "histogram",
    ...     "temporality": "cumulative", "start_time": 0, "count": [10.0, 20.0, 30.0], "sum": [1.0, 2.0, 5.0]})
    >>> point_values(c).round(2).tolist()  # since start: 0.1, 0.1, 0.17
    [0.1, 0.1, 0.3]
    >>> point_values(c.assign(kind="summary", temporality=pd.NA)).round(2).tolist()  # OTLP summaries: the same
    [0.1, 0.1, 0.3]
    """
    return point_measurements(metrics)[0]


def point_measurements(metrics: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """:func:`point_values` and, per point, how many measurements its value is the mean of: a histogram's or
    summary's count over the interval the value describes (since its stream's previous point when cumulative);
    NaN where the value is no mean of counted measurements (a gauge, a sum, a statistic without a count).

    >>> import tracekit as tk
    >>> h = tk.metrics_from_columns({"time": [0, 0], "name": "lat", "kind": "histogram", "count": [1000.0, 1.0],
    ...                              "sum": [10_000.0, 1000.0]})
    >>> [a.tolist() for a in point_measurements(h)]
    [[10.0, 1000.0], [1000.0, 1.0]]
    """
    agg = metrics["kind"].isin(AGGREGATE_KINDS).to_numpy(dtype=bool, na_value=False)
    v = metrics["value"].to_numpy(dtype=float, na_value=np.nan).copy()
    total = metrics["sum"].to_numpy(dtype=float, na_value=np.nan).copy()
    count = metrics["count"].to_numpy(dtype=float, na_value=np.nan).copy()
    summary = (metrics["kind"] == "summary").to_numpy(dtype=bool, na_value=False)
    st = metrics["start_time"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    since = (st < metrics["time"].to_numpy(dtype="datetime64[ns]").astype(np.int64)) & ~metrics["start_time"].isna().to_numpy()
    cum = agg & np.where(summary, since, (metrics["temporality"] == "cumulative").to_numpy(dtype=bool, na_value=False)) \
        & np.isfinite(total) & np.isfinite(count)
    if cum.any():  # each cumulative point as the interval since its stream's previous point
        rows = np.flatnonzero(cum)
        o, first, restarted = stream_steps(metrics.iloc[rows], count[rows])  # a count going down: a restart
        c, s = count[rows][o], total[rows][o]
        prev_c, prev_s = np.r_[0.0, c[:-1]], np.r_[0.0, s[:-1]]
        since_start = first | restarted
        count[rows[o]] = np.where(since_start, c, c - prev_c)
        total[rows[o]] = np.where(since_start, s, s - prev_s)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count
    use = agg & np.isfinite(mean)
    v[use] = mean[use]
    sc_count = metrics["count"].to_numpy(dtype=float, na_value=np.nan)  # a statistic's SampleCount, with no sum
    n = np.where(use, count, np.where(agg & ~np.isfinite(total) & np.isfinite(sc_count), sc_count, np.nan))
    return v, np.where(np.isfinite(n) & (n > 0), n, np.nan)


@renamed(name="names")
def metric_exemplars(metrics: pd.DataFrame, time: tuple[Any, Any] | None = None, *,
                     names: str | Sequence[str] | None = None, service: str | None = None,
                     host: str | None = None) -> pd.DataFrame:
    """The exemplars recorded in a window: the traces behind a spike.

    Parameters
    ----------
    metrics : pandas.DataFrame
        A metrics frame (OTLP points carry exemplars).
    time : (start, end), optional
        Keep exemplars whose time (else their point's) is in ``[start, end)``; naive times are UTC.
    names, service, host : optional
        Keep the points of these metric name(s), this service, this host (``name=`` is the old,
        deprecated spelling of ``names=``).

    Returns
    -------
    pandas.DataFrame
        :data:`METRIC_EXEMPLARS`'s columns, highest value first (the slowest measurement of a
        latency histogram first), exemplars without a trace id left out.

    Raises
    ------
    ArgumentError
        A window that is not two times, or ends before it starts; a ``names``, ``service`` or ``host`` no point has.

    Examples
    --------
    >>> import tracekit as tk
    >>> m = tk.metrics_from_columns({"time": [0, 60_000_000_000], "name": "lat", "kind": "histogram",
    ...     "count": [1.0, 1.0], "sum": [5.0, 900.0], "service": "api", "exemplars": [
    ...         [{"time": 1, "value": 5.0, "trace_id": "a" * 32, "span_id": None, "attributes": {}}],
    ...         [{"time": 60_000_000_001, "value": 900.0, "trace_id": "b" * 32, "span_id": "c" * 16, "attributes": {}}]]})
    >>> metric_exemplars(m, ("1970-01-01 00:00:30", "1970-01-01 00:02"))["trace_id"].tolist() == ["b" * 32]
    True
    """
    m = validate_metrics(metrics)
    sel = np.ones(len(m), dtype=bool)
    if names is not None:
        sel &= m["name"].isin(known_names(m, names, "metric_exemplars")).to_numpy(dtype=bool)
    for col, want in (("service", service), ("host", host)):
        if want is None:
            continue
        hit = (m[col] == want).to_numpy(dtype=bool, na_value=False)
        if not hit.any():  # a misspelt key is an error, not "no exemplars" (as a misspelt name: known_names)
            have = sorted(m[col].dropna().unique().tolist())
            raise ArgumentError(f"metric_exemplars: no point has {col} {want!r} (have e.g. {have[:5]})")
        sel &= hit
    t0 = t1 = None
    if time is not None:
        try:
            t0, t1 = (pd.Timestamp(x) for x in time)
        except (TypeError, ValueError, OverflowError) as e:  # a bare Timestamp, a 3-tuple, an unreadable date
            raise ArgumentError(f"metric_exemplars: time must be (start, end), two times, got {time!r:.200} ({e})") from None
        if pd.isna(t0) or pd.isna(t1):
            raise ArgumentError(f"metric_exemplars: time must be (start, end), two times, got {time!r:.200}")
        t0, t1 = (t if t.tzinfo is not None else t.tz_localize("UTC") for t in (t0, t1))
        if t1 < t0:
            raise ArgumentError(f"metric_exemplars: time=({t0}, {t1}) ends before it starts")
        t0, t1 = t0.value, t1.value
    rows = []
    pt = m["time"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    at = np.flatnonzero(sel)
    for i, exs in zip(at.tolist(), m["exemplars"].iloc[at].to_numpy(dtype=object), strict=True):  # (a lazy column: these cells only)
        if not exs:
            continue
        for e in exs:
            if not e.get("trace_id"):
                continue
            et = e.get("time") if e.get("time") is not None else int(pt[i])
            if t0 is not None and not (t0 <= et < t1):
                continue
            rows.append((et, m["name"].iat[i], m["service"].iat[i], m["host"].iat[i], e.get("value"), e["trace_id"],
                         e.get("span_id")))
    out = pd.DataFrame(rows, columns=METRIC_EXEMPLARS.column_names)
    out["time"] = pd.to_datetime(out["time"].astype("int64"), unit="ns", utc=True)
    for c in ("name", "service", "host", "trace_id", "span_id"):
        out[c] = out[c].astype(object).where(out[c].notna(), None).astype("string")
    out["value"] = out["value"].astype(float)
    return out.sort_values(["value", "time"], ascending=[False, True], kind="stable").reset_index(drop=True)


def join_metric_series(table: pd.DataFrame, metrics: pd.DataFrame, names: str | Sequence[str] | None, keys: list[str],
                       freq: str) -> pd.DataFrame:
    """A :func:`~tracekit.timeline` table with one column ``metric.<name>`` per metric beside its buckets.

    Parameters
    ----------
    table : pandas.DataFrame
        The timeline (``time`` and its key columns).
    metrics : pandas.DataFrame
        A metrics frame.
    names : str or list of str, optional
        Metric names (default: all).
    keys : list of str
        The timeline's keys: ``[]``, ``["service"]`` or ``["host"]``.
    freq : str
        The timeline's bucket length.

    Returns
    -------
    pandas.DataFrame
        A new table: the timeline's rows, each with the mean of its bucket's metric points of the same
        key (NaN where none); buckets without requests are not added. ``attrs["metric_units"]``
        gives each ``metric.<name>`` column's unit ("" when the points gave none), ``attrs["metric_periods"]`` the
        period its series covers (start of its first bucket, end of its last; every key).

    Raises
    ------
    ArgumentError
        Keys metrics do not have (only ``service`` and ``host`` join); a metric name with points in more than one
        unit (:func:`require_one_measure`).

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.simulate.simulate("baseline", 50, seed=1).spans
    >>> t0 = spans["start"].min().floor("1min")
    >>> m = tk.metrics_from_columns({"time": [t0], "name": "cpu", "value": [0.7], "service": "cart"})
    >>> tl = tk.timeline(spans, by="service", metrics=m)
    >>> float(tl.loc[(tl["service"] == "cart") & (tl["time"] == t0), "metric.cpu"].iloc[0])
    0.7
    """
    if any(k not in METRIC_KEYS for k in keys):
        raise ArgumentError(f"timeline: metrics join on {METRIC_KEYS} only (the keys both frames have), not by={keys}")
    ns = known_names(validate_metrics(metrics), names, "timeline")
    # one column (one axis) per name: its points must be in one unit across keys too, not host a in ms, b in s
    require_one_measure(metrics if ns is None else metrics[metrics["name"].isin(ns).to_numpy(dtype=bool)], ["name"],
                     "timeline")
    series = metric_series(metrics, names, by=keys or None, freq=freq)
    wide = series.pivot_table(index=["time", *keys], columns="name", values="value", aggfunc="first", observed=True)
    wide.columns = [f"metric.{c}" for c in wide.columns]
    wide = wide.reset_index()
    out = table.copy()
    for k in keys:
        wide[k] = wide[k].astype(out[k].dtype)
    out = out.merge(wide, how="left", on=["time", *keys])
    # each joined column's unit (its series' first; "" when none was given): the figure's axis says it
    units = series.dropna(subset=["unit"]).drop_duplicates("name").set_index("name")["unit"]
    # each column's own period (first and last bucket of its series, any key): a column with no value beside the
    # requests — metrics of another day, of other keys — is said so, not drawn as an empty row
    span = series.groupby("name", sort=False)["time"].agg(["min", "max"])
    out.attrs = dict(table.attrs, metric_units={f"metric.{n}": str(units.get(n, "") or "")
                                                for n in series["name"].unique()},
                     metric_periods={f"metric.{n}": (r["min"], r["max"] + metric_step(freq, "timeline"))
                                     for n, r in span.iterrows()})
    return out
