"""TraceQL metrics queries -> long-form time series (``time``, labels, ``value``).

A span counts in the bucket of its start (``floor((start - t0) / step)``, ``t0`` the first
span's start floored to the step); a span whose start is unknown (:func:`tracekit.core.start_unknown`:
OTLP's unset start, read as 1970) is in no bucket; a running span's or trace's duration so far (a lower bound) is no
value of ``min/max/avg/sum/quantile/histogram_over_time``, which read finished ones. Durations are reported in
seconds, as Tempo does.
Quantiles use the kernel's one percentile definition (:func:`tracekit.core.percentile`,
``inverted_cdf``). ``histogram_over_time`` counts values in power-of-two buckets (label
``bucket``: the bucket's upper bound; for durations, as Tempo's ``Log2Bucketize``, a power of two
*nanoseconds* given in seconds: 10 ms and 16 ms both count under 2**24 ns = 0.016777216 s).
``topk(k)``/``bottomk(k)`` keep,
at each time, the ``k`` series with the highest/lowest value; a comparison keeps the points
where it holds. Series combined with ``+ - * /`` are matched on time and their shared labels.

Where this departs from Tempo's engine (pkg/traceql/engine_metrics.go):

- Tempo's buckets are right-closed, ``(t - step, t]``, each point labelled by its end ``t``; here they
  are ``[t, t + step)`` labelled by their start ``t``. A span starting on a multiple of the step is
  labelled with that time in both; any other span is labelled one step earlier here.
- ``quantile_over_time`` is exact here (an observed value); Tempo interpolates it from the
  power-of-two histogram, so its quantiles of durations can differ by up to a factor of two.
- ``histogram_over_time`` keeps values under 2 (a 0 ns or 1 ns span: bucket 0 or 1 ns) and floats,
  which Tempo leaves out.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from ...core.frame import NAT_NS, ns, start_unknown
from ...core.stats import percentile
from ...errors import ArgumentError, TraceQLError
from .evaluate import Evaluator, as_objects, group_codes, hashable, known_numbers
from .parse import Intrinsic, MetricsMath, MetricsPipeline, Query, Static, duration_ns

_DURATION = re.compile(r"(?:\d+(?:\.\d+)?(?:ns|us|µs|μs|ms|s|m|h|d|w|y))+")

__all__ = ["run_metrics", "MAX_BUCKETS", "DURATION_INTRINSICS"]

#: intrinsics whose values are durations: reported in seconds, as Tempo does
DURATION_INTRINSICS = ("duration", "traceDuration", "eventTimeSinceStart")

#: most time buckets a metrics query cuts its spans into (a day in seconds is 86,400; Prometheus stops at 11,000
#: points a series)
MAX_BUCKETS = 100_000


#: longest step: what a pandas Timedelta holds (about 292 years)
_MAX_STEP_NS = np.iinfo(np.int64).max


def _step_ns(step: Any) -> int:
    if isinstance(step, str) and _DURATION.fullmatch(step.strip()):  # TraceQL's own units: 30s, 5m, 1h, 1d
        ns_ = duration_ns(step.strip(), strict=False)  # a step is ours, not Tempo's: "1.5d" is a day and a half
        if ns_ > _MAX_STEP_NS:
            raise ArgumentError(f"traceql_metrics: step {step!r} is longer than a time step can be (about 292 years)")
        if ns_ > 0:
            return ns_
    if step is None:
        raise ArgumentError("traceql_metrics: step must be a duration such as '30s' or '1min', got None")
    if isinstance(step, str) and re.fullmatch(r"\s*(?:\d+\.?\d*|\.\d+)\s*", step):
        # pandas reads a text of digits as nanoseconds: "--step 90" cut a minute of data into 666 million buckets
        raise ArgumentError(f"traceql_metrics: step {step!r} has no unit: write '{step.strip()}s' (seconds), "
                            f"'{step.strip()}ms' or '{step.strip()}min'")
    try:
        # a number is seconds, a numpy integer too (np.int64(60) was read by pandas as 60 ns)
        seconds = isinstance(step, (int, float, np.integer, np.floating)) and not isinstance(step, (bool, np.bool_))
        td = pd.Timedelta(float(step) if isinstance(step, np.integer) else step, unit="s") if seconds else pd.Timedelta(step)
    except (ValueError, TypeError) as exc:
        raise ArgumentError(f"traceql_metrics: step must be a duration such as '30s' or '1min', got {step!r}") from exc
    if pd.isna(td) or td.value <= 0:
        raise ArgumentError(f"traceql_metrics: step must be positive, got {step!r}")
    return int(td.value)


def run_metrics(spans: pd.DataFrame, q: Query, step: Any) -> pd.DataFrame:
    """Evaluate a parsed metrics query (see :func:`tracekit.traceql_metrics`)."""
    step_ns = _step_ns(step)
    start = ns(spans["start"]) if len(spans) else np.zeros(0, dtype=np.int64)
    # a span whose start is unknown (core.start_unknown: OTLP's unset start read as 1970) is in no bucket, as in
    # tracekit.timeline: its 1970 start was the first bucket, and a 1 min step over a minute of data asked for 29
    # million buckets (refused below, so the query failed)
    start = np.where(start_unknown(spans), NAT_NS, start) if len(spans) else start
    known = start[start != NAT_NS]
    t0 = (int(known.min()) // step_ns) * step_ns if len(known) else 0
    n = (int(known.max()) - t0) // step_ns + 1 if len(known) else 0
    if n > MAX_BUCKETS:  # every series gets every bucket: a 1 ns step over minutes asked for terabytes
        raise ArgumentError(f"traceql_metrics: step {step!r} cuts the spans' {(int(known.max()) - t0) / 1e9:,.0f} s "
                            f"into {n:,} buckets, more than {MAX_BUCKETS:,}: take a longer step")
    ev = Evaluator(spans, q.text)
    out = _node(ev, q.body, start, t0, step_ns)
    out = out.sort_values([c for c in out.columns if c != "value"], kind="stable", key=_sort_key).reset_index(drop=True)
    return out


def _sort_key(col: pd.Series) -> pd.Series:
    """A label column as it sorts: itself, or by type and text where its values do not compare (an array label's
    tuples beside texts)."""
    if col.dtype != object:
        return col
    try:
        sorted(set(col.dropna()))
    except TypeError:
        return col.map(lambda x: (type(x).__name__, str(x)))
    return col


def _node(ev: Evaluator, node: Any, start: np.ndarray, t0: int, step_ns: int) -> pd.DataFrame | Static:
    if isinstance(node, Static):
        return node
    if isinstance(node, MetricsPipeline):
        df = _series(ev, node, start, t0, step_ns)
    elif isinstance(node, MetricsMath):
        a = _node(ev, node.lhs, start, t0, step_ns)
        b = _node(ev, node.rhs, start, t0, step_ns)
        df = _math(node.op, a, b)
    else:  # pragma: no cover - the parser makes no other node
        raise TraceQLError(f"cannot evaluate {type(node).__name__}", ev.q, None)
    for s in node.second:
        df = _second(df, s)
    return df


def _series(ev: Evaluator, mp: MetricsPipeline, start: np.ndarray, t0: int, step_ns: int) -> pd.DataFrame:
    coded: dict = {}  # label -> its values, where the label holds arrays and is grouped by codes
    out = _coded_series(ev, mp, start, t0, step_ns, coded)
    for name, uniques in coded.items():
        if name != _INT_LABELS:
            out[name] = uniques[out[name].to_numpy(dtype=np.int64)]
    for name in coded.get(_INT_LABELS, ()):  # integers (a status code) stay integers: 200, not 200.0
        out[name] = out[name].astype("Int64")
    return out


_INT_LABELS = object()  # key of ``coded``: the labels whose values are all integers


def _coded_series(ev: Evaluator, mp: MetricsPipeline, start: np.ndarray, t0: int, step_ns: int,
                  coded: dict) -> pd.DataFrame:
    res = ev.run(mp.pipeline)
    rows = np.flatnonzero(res.mask & (start != NAT_NS))  # a span whose start is unknown is in no bucket
    agg = mp.agg
    bucket = (start[rows] - t0) // step_ns
    frame = {"time": pd.to_datetime(t0 + bucket * step_ns, utc=True)}
    labels = []
    for f in agg.by:
        v = ev.field(f)
        if v.owner is not None and v.raw is None:
            raise TraceQLError("by() on an event or link field is not supported", ev.q, agg.pos)
        vals = as_objects(v, ev.n)[rows]
        kinds = {type(x) for x in vals} - {type(None)}
        if kinds == {int}:
            coded.setdefault(_INT_LABELS, []).append(f.text)
        keyed = hashable(vals)
        if keyed is not vals or kinds - {int, str}:  # arrays (as tuples: pandas groups tuples of different lengths
            # badly), booleans and floats (True == 1 == 1.0 in Python, three series in TraceQL): codes of typed groups
            codes, first = group_codes(vals)
            shown = np.empty(len(first), dtype=object)
            shown[:] = [keyed[i] for i in first.tolist()]
            keyed, coded[f.text] = codes, shown
        frame[f.text] = keyed
        labels.append(f.text)
    df = pd.DataFrame(frame)
    keys = ["time"] + labels
    if agg.fn in ("rate", "count_over_time"):
        counts = df.groupby(keys, dropna=False, sort=True).size()
        full = _all_times(counts, labels, t0, step_ns, start)
        out = full.rename("value").reset_index()
        out["value"] = out["value"].astype(np.float64)
        if agg.fn == "rate":
            out["value"] /= step_ns / 1e9
        return out
    v = ev.field(agg.field)
    if v.owner is not None:
        raise TraceQLError("a metrics function of an event, link or array field is not supported", ev.q, agg.pos)
    x = known_numbers(v, ev.n)[rows]  # a running span's or trace's duration so far is no value (a lower bound)
    is_duration = isinstance(agg.field, Intrinsic) and agg.field.name in DURATION_INTRINSICS
    if agg.fn == "histogram_over_time":  # the bucket before seconds: Tempo's grid is powers of two nanoseconds
        df["bucket"] = _pow2_ceil(x) / (1e9 if is_duration else 1.0)
    if is_duration:
        x = x / 1e9
    df["x"] = x
    df = df[~np.isnan(x)]
    g = df.groupby(keys, dropna=False, sort=True)["x"]
    if agg.fn in ("min_over_time", "max_over_time", "avg_over_time", "sum_over_time"):
        out = {"min_over_time": g.min, "max_over_time": g.max, "avg_over_time": g.mean, "sum_over_time": g.sum}[agg.fn]()
        return out.rename("value").reset_index()
    if agg.fn == "quantile_over_time":
        parts = []
        for key, vals in g:
            qs = np.atleast_1d(percentile(vals.to_numpy(dtype=np.float64), list(agg.quantiles)))
            key = key if isinstance(key, tuple) else (key,)
            for qv, val in zip(agg.quantiles, qs, strict=True):
                parts.append((*key, qv, float(val)))
        return pd.DataFrame(parts, columns=keys + ["quantile", "value"])
    out = df.groupby(keys + ["bucket"], dropna=False, sort=True).size().rename("value").reset_index()
    out["value"] = out["value"].astype(np.float64)
    return out


def _pow2_ceil(x: np.ndarray) -> np.ndarray:
    """The power of two at or above each value (Tempo's Log2Bucketize, exact: 2**k stays 2**k); 0 for values
    at or below 0."""
    m, e = np.frexp(x)  # x = m * 2**e, 0.5 <= m < 1
    with np.errstate(over="ignore"):
        up = np.ldexp(1.0, np.where(m == 0.5, e - 1, e))
    return np.where(x > 0, up, 0.0)


def _all_times(counts: pd.Series, labels: list, t0: int, step_ns: int, start: np.ndarray) -> pd.Series:
    """Counts with 0 for every bucket of the frame's time range where a series had no span."""
    known = start[start != NAT_NS]
    if not len(known):  # no spans (with a known start): no buckets
        return counts
    last = (int(known.max()) - t0) // step_ns
    times = pd.to_datetime(t0 + np.arange(last + 1, dtype=np.int64) * step_ns, utc=True)
    if not labels:
        return counts.reindex(pd.Index(times, name="time"), fill_value=0)
    series = counts.reset_index()[labels].drop_duplicates()
    idx = pd.MultiIndex.from_frame(pd.merge(pd.DataFrame({"time": times}), series, how="cross"))
    return counts.reindex(idx, fill_value=0)


def _math(op: str, a: Any, b: Any) -> pd.DataFrame:
    f = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}[op]
    if isinstance(a, Static) and isinstance(b, Static):  # pragma: no cover - folded by the parser
        raise TraceQLError("a metrics expression needs a metrics query")
    with np.errstate(all="ignore"):
        if isinstance(a, Static):
            return b.assign(value=f(float(a.value), b["value"].to_numpy(dtype=np.float64)))
        if isinstance(b, Static):
            return a.assign(value=f(a["value"].to_numpy(dtype=np.float64), float(b.value)))
        keys = [c for c in a.columns if c != "value" and c in b.columns]
        m = a.merge(b, on=keys, how="inner", suffixes=("_l", "_r"))
        m["value"] = f(m["value_l"].to_numpy(dtype=np.float64), m["value_r"].to_numpy(dtype=np.float64))
        return m.drop(columns=["value_l", "value_r"])


def _second(df: pd.DataFrame, s: tuple) -> pd.DataFrame:
    if s[0] in ("topk", "bottomk"):
        k = s[1]
        r = df.groupby("time")["value"].rank(method="first", ascending=s[0] == "bottomk")
        return df[r <= k].reset_index(drop=True)
    _, op, value = s
    x = df["value"].to_numpy(dtype=np.float64)
    v = float(value.value) / (1e9 if value.type == "duration" else 1.0)
    keep = {"=": x == v, "!=": x != v, "<": x < v, "<=": x <= v, ">": x > v, ">=": x >= v}[op]
    return df[keep].reset_index(drop=True)
