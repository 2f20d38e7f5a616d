"""The time axis: requests, failures and request-latency percentiles per time bucket; deployments.

:func:`timeline` cuts the window into buckets of ``freq`` (``"1min"``) and gives, per bucket and
key, the number of requests, how many failed, the error rate and p50/p95/p99 of request latency,
each with an interval. What a "request" of a key is depends on ``by``:

- ``by=None`` — the requests themselves: one per trace, latency = ``request_ms``, failed = the
  request failed (:func:`tracekit.core.trace_outcomes`), time = request start;
- ``by="route"`` / ``"root_service"`` / ``"root_name"`` — the same requests, keyed by the route
  (:func:`tracekit.core.routes`), service or operation of their request root;
- ``by="service"`` — the requests each service served: its **entry spans** (a root, an orphan, or
  a span whose parent is in another service), latency = the entry span's duration, failed =
  the span failed (:func:`tracekit.core.failed`), time = the span's start;
- any other key (``"name"``, ``"operation"``, ``"kind"``, ``["service", "name"]``…) — every span
  with that key (calls of an operation: ``SELECT orders``), latency = its duration.

With ``weights`` (the frame of :func:`~tracekit.sampling_weights`, a Series of weights by trace id,
or one number) every row counts with its trace's weight: ``requests`` is the Horvitz–Thompson
estimate Σw, ``error_rate`` the weighted share (Hájek) and the percentiles are those of the
weighted distribution (:func:`tracekit.core.percentile`), as :func:`~tracekit.weighted_summary`.

Intervals (level ``ci``): ``requests`` — normal, from the Horvitz–Thompson variance Σw(w−1)
(zero width without sampling: every request was seen); ``error_rate`` — Jeffreys
Beta(x + ½, n − x + ½) on Kish's effective sample size n = (Σw)²/Σw²; percentiles — Woodruff's
interval: the weighted inverse CDF at q ± z·√(q(1−q)/n) (Kish n), so it is always an observed value.

**Gaps.** A bucket where no span at all starts — of any service, any key — in data whose traffic makes such a run
of buckets no chance is ``no_data`` (:func:`no_data_buckets`): the spans were not collected there (a collector
outage, two files with a gap between them) or nothing ran, and the traces cannot tell which; its ``requests`` and
``failed`` are NaN, not 0 (read as 0 they were a drop of every key's traffic), and
:func:`~tracekit.detect_changes` leaves it out. A key with no request in a bucket where other spans go on is a
real 0. ``attrs["no_data"]`` says the windows in words.

:func:`deployments` lists each service version seen (resource ``service.version``), when it was
first and last seen; :func:`plot_timeline <tracekit.plotting.plot_timeline>` marks them.

>>> import tracekit as tk
>>> spans = tk.simulate.simulate("baseline", 200, seed=1).spans
>>> t = tk.timeline(spans, freq="10min")
>>> len(t), int(t["requests"].sum())
(6, 200)
>>> bool((t["p95_ms_lo"] <= t["p95_ms"]).all() and (t["p95_ms"] <= t["p95_ms_hi"]).all())
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..core import (
    NAT_NS,
    QUANTILES,
    count_arg,
    duration_arg,
    failed,
    hosts,
    ns,
    number_arg,
    operations,
    outcome_unknown,
    percentile,
    request_routes,
    require_columns,
    result_table,
    service_entries,
    share_arg,
    span_tree,
    start_unknown,
    status_recorded,
    steps_arg,
    to_timestamps,
    trace_outcomes,
    trace_weights,
)
from ..core.keys import by_keys, key_frame
from ..core.naming import get_attribute
from ..core.words import freq_text, window_text
from ..errors import ArgumentError
from ..schema import shared_attr

__all__ = ["timeline", "deployments", "TIMELINE", "DEPLOYMENTS", "REQUEST_ROWS", "request_rows",
           "timeline_from_requests", "select_requests", "heatmap_requests", "latency_heatmap", "LATENCY_HEATMAP",
           "timeline_keys", "no_data_buckets", "no_data_windows", "no_data_text",
           "bucket_coverage", "PARTIAL_BUCKET",
           "NO_DATA_CHANCE"]

_REQUEST_KEYS = ("route", "root_service", "root_name")

TIMELINE = result_table("timeline", "one row per (time bucket, key): requests, failures, request-latency percentiles", [
    ("time", "datetime64[ns, UTC]", "ns, UTC", "start of the time bucket (``freq`` long)"),
    ("requests", "float64", "requests", "requests in the bucket (Horvitz–Thompson Σw with weights; else the count); "
                                        "NaN where ``no_data``: not collected is not 0 requests"),
    ("requests_lo", "float64", "requests", "lower bound of ``requests`` (HT variance Σw(w−1); equal to it without sampling)"),
    ("requests_hi", "float64", "requests", "upper bound of ``requests``"),
    ("sampled", "int64", "requests", "requests seen in the data (unweighted count)"),
    ("no_data", "bool", "", "no span of the frame (of any service or key) starts in the bucket, in a run of such "
                            "buckets that the frame's traffic makes no chance (no_data_buckets): spans were not "
                            "collected there, or nothing at all ran; its requests, failed and error rate are NaN "
                            "(unknown), and detect_changes leaves it out"),
    ("covered", "float64", "share", "share of the bucket inside the data's window: the first to the last request, "
                                    "widened at each end by the mean time between requests (where the window most "
                                    "likely began and ended); 1 inside, less in a partial first or last bucket, "
                                    "whose requests are a part of a bucket's, not a drop"),
    ("failed", "float64", "requests", "failed requests (weighted with weights): root span / entry span / span failed; "
                                      "NaN (unknown) when no span records a status (core.status_recorded), when "
                                      "every request of the bucket is of unknown outcome, and where ``no_data``"),
    ("unknown", "float64", "requests", "requests whose outcome is unknown (still in progress, no status yet: "
                                       "core.outcome_unknown; weighted with weights), left out of ``failed`` and "
                                       "``error_rate`` (as core.failed_share); NaN where ``no_data``"),
    ("error_rate", "float64", "share", "failed / requests of known outcome (weighted share with weights; the requests "
                                       "in ``unknown`` left out, as core.failed_share); NaN without requests, NaN "
                                       "(unknown, not 0) when none of the bucket's requests has a known outcome, and "
                                       "when no span records a status (core.status_recorded)"),
    ("error_rate_lo", "float64", "share", "Jeffreys interval on Kish's effective sample size, lower bound"),
    ("error_rate_hi", "float64", "share", "Jeffreys interval, upper bound"),
    *[(f"p{int(q * 100)}_ms{s}", "float64", "ms", f"{m} of the {int(q * 100)}th percentile of request latency"
       f"{' (inverted_cdf, weighted with weights)' if not s else ' (Woodruff interval)'}")
      for q in QUANTILES for s, m in (("", "value"), ("_lo", "lower bound"), ("_hi", "upper bound"))],
])

REQUEST_ROWS = result_table("request_rows", "one row per request that timeline counts and select_requests keeps; the "
                            "``by`` key columns sit between ``trace_id`` and ``latency_ms``", [
    ("time", "datetime64[ns, UTC]", "ns, UTC", "request start (root span's start; the span's start for span keys)"),
    ("trace_id", "string", "", "32-hex trace id of the request"),
    ("latency_ms", "float64", "ms", "request latency: request_ms (by None / route / root_service / root_name), else the "
                                    "span's duration; NaN while in progress"),
    ("failed", "boolean", "", "the request (root span / entry span / span) failed (core.failed); <NA> (unknown, not "
                              "False) on every row when no span of the frame records a status (core.status_recorded)"),
    ("weight", "float64", "requests", "the trace's sampling weight (1 without weights)"),
])

LATENCY_HEATMAP = result_table("latency_heatmap", "one row per (time bucket, latency bin) cell of the time × request "
                                "latency heatmap, every cell of every bucket from the first to the last, bins in "
                                "ascending latency within a bucket", [
    ("time", "datetime64[ns, UTC]", "ns, UTC", "start of the time bucket (``freq`` long; the buckets of timeline)"),
    ("latency_lo_ms", "float64", "ms", "lower edge of the latency bin (log-spaced from the smallest to the largest "
                                       "positive request latency; a request on an inner edge is in the bin above it, up to "
                                       "the float rounding of the edges)"),
    ("latency_hi_ms", "float64", "ms", "upper edge of the latency bin (the largest latency is in the top bin)"),
    ("latency_ms", "float64", "ms", "geometric centre of the bin, √(lo × hi)"),
    ("requests", "float64", "requests", "requests of the cell (Horvitz–Thompson Σw with weights; else the count) "
                                        "among the requests with a known, positive latency (heatmap_requests)"),
    ("sampled", "int64", "requests", "requests of the cell seen in the data (unweighted count)"),
    ("no_data", "bool", "", "the bucket holds no data, as timeline's ``no_data`` (no_data_buckets: no span of the "
                            "frame starts there, in a run the frame's traffic makes no chance): spans were not "
                            "collected there, or nothing ran; its ``requests`` are NaN (unknown), not 0"),
])

DEPLOYMENTS = result_table("deployments", "one row per (service, version) seen in resource service.version", [
    ("service", "string", "", "service"),
    ("version", "string", "", "resource ``service.version``"),
    ("first_seen", "datetime64[ns, UTC]", "ns, UTC", "start of the first entry span of that version"),
    ("last_seen", "datetime64[ns, UTC]", "ns, UTC", "start of the last entry span of that version"),
    ("spans", "int64", "spans", "entry spans of the service served by that version"),
    ("previous", "string", "", "version of the service seen just before this one first appeared (<NA> for the first)"),
])


def timeline_keys(table: pd.DataFrame) -> list[str]:
    """The key columns of a :func:`timeline` table: neither a :data:`TIMELINE` column nor a joined ``metric.<name>``
    (read as a key, a metric's value cut each key's series at every change of the metric).

    >>> import tracekit as tk
    >>> spans = tk.simulate.simulate("baseline", 50, seed=1).spans
    >>> m = tk.metrics_from_columns({"time": [spans["start"].min()], "name": "cpu", "value": [0.7], "service": "cart"})
    >>> timeline_keys(tk.timeline(spans, by="service", metrics=m))
    ['service']
    """
    return [c for c in table.columns if c not in TIMELINE.column_names and not str(c).startswith("metric.")]


def _keys(by: str | Sequence[str] | None) -> list[str]:
    return by_keys(by, allow_none=True)


def request_rows(spans: pd.DataFrame, by: str | Sequence[str] | None = None, *,
                 weights: Any = None, who: str = "timeline") -> pd.DataFrame:
    """The requests :func:`timeline` counts, one row each: ``time``, ``trace_id``, key columns, ``latency_ms``,
    ``failed``, ``weight`` (declared in :data:`REQUEST_ROWS`; see the module docstring for what a request of a key is).

    A request (or span) whose start is unknown (:func:`tracekit.core.start_unknown`: OTLP's unset start, read as
    1970) is in no time bucket and is left out, counted in ``attrs["no_start"]``.

    ``failed`` is a nullable boolean (``boolean`` dtype): True / False where the spans record a status, and
    ``<NA>`` on every row when no span of ``spans`` does (:func:`tracekit.core.status_recorded`: TrainTicket-like
    exports, a collector that drops status) — there nothing could be recorded as failed, so whether a request
    failed is unknown, not False: ``rows["failed"].mean()`` is then ``<NA>`` and :func:`timeline`'s ``error_rate`` NaN.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame.
    by : str or list of str, optional
        Key(s); ``None`` for the requests (one per trace).
    weights : DataFrame, Series or float, optional
        Sampling weights per trace (rows of traces without a known weight are dropped).
    who : str
        The function the user called, named in an error (a bad key said "timeline:" from every caller).

    Returns
    -------
    pandas.DataFrame
        One row per request (columns of :data:`REQUEST_ROWS`, the key columns after ``trace_id``); ``failed``
        is ``<NA>`` throughout when no span records a status.

    Raises
    ------
    SpansSchemaError
        A needed column is missing.
    ArgumentError
        A key is not a column (nor ``route``, ``root_service``, ``root_name``, ``operation``).

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.simulate.simulate("baseline", 20, seed=1).spans
    >>> len(request_rows(spans)), sorted(request_rows(spans, "service")["service"].unique())[:2]
    (20, ['api-gateway', 'cart'])
    >>> no_status = spans.assign(status="unset", http_status=pd.NA, error=False, fault=False, throttle=False)
    >>> str(request_rows(no_status)["failed"].dtype), bool(request_rows(no_status)["failed"].isna().all())
    ('boolean', True)
    """
    keys = _keys(by)
    require_columns(spans, ("trace_id", "span_id", "parent_id", "service", "name", "start", "end"), who)
    if keys and all(k in _REQUEST_KEYS for k in keys):
        out = trace_outcomes(spans)
        tree = span_tree(spans)
        frame = pd.DataFrame({"time": out["start"], "trace_id": out["trace_id"]})
        if "route" in keys:
            frame["route"] = pd.array(request_routes(spans, tree), dtype="string")  # one route per request
        if "root_service" in keys:
            frame["root_service"] = out["root_service"].astype("string")
        if "root_name" in keys:
            frame["root_name"] = out["root_name"].astype("string")
        frame["latency_ms"] = out["request_ms"].to_numpy()
        frame["failed"] = out["failed"].array  # <NA>: a request in progress (or no status recorded), unknown
        frame = frame[out["request"].to_numpy()]  # requests only (core.outcomes): not rootless traces, not async work
    elif not keys:
        out = trace_outcomes(spans)
        frame = pd.DataFrame({"time": out["start"], "trace_id": out["trace_id"],
                              "latency_ms": out["request_ms"].to_numpy(),
                              "failed": out["failed"].array})  # <NA>: in progress (or no status recorded)
        frame = frame[out["request"].to_numpy()]  # requests only (core.outcomes): not rootless traces, not async work
    else:
        spans = key_frame(spans, [k for k in keys if k != "operation"], what=who)[0]  # host, version, call_path
        tree = span_tree(spans)
        start, end = ns(spans["start"]), ns(spans["end"])
        dur = np.where(spans["end"].isna().to_numpy(), np.nan, (end - start) / 1e6)
        # a span whose start is unknown (OTLP's unset start, read as 1970: core.start_unknown) is in no bucket (below)
        cols: dict[str, Any] = {"time": to_timestamps(np.where(start_unknown(spans), NAT_NS, start)).array,
                                "trace_id": spans["trace_id"].array}
        for k in keys:
            if k == "operation":
                cols[k] = pd.array(operations(spans), dtype="string")
            elif k == "host" and k not in spans.columns:  # the key metrics share with spans (core.hosts)
                cols[k] = pd.array(hosts(spans), dtype="string")
            elif k in spans.columns:
                cols[k] = spans[k].array
            else:
                raise ArgumentError(f"{who}: by={k!r} is not a spans column (nor route, root_service, "
                                    "root_name, operation)")
        frame = pd.DataFrame(cols)
        frame["latency_ms"] = dur
        # a span still in progress that records no outcome yet: unknown, not "not failed" (core.outcome_unknown)
        frame["failed"] = pd.arrays.BooleanArray(failed(spans), outcome_unknown(spans))
        # a span read twice is one span (kernel tree: the other copies left out): it was two requests, 20 and 80 ms
        keep = ~tree.duplicate
        if keys in (["service"], ["host"]):  # the requests each served: entry spans
            # (a span without a service is an entry, key <NA>, which matches no key= of select_requests)
            keep &= service_entries(spans, tree)
        frame = frame[keep]
        for k in keys:
            if k != "operation" and k in spans.columns:
                frame[k] = frame[k].astype(spans[k].dtype)
    # a request (span) whose start is unknown (core.start_unknown: trace_outcomes' start NaT) is in no time bucket:
    # left out (its NaT time overflowed the bucket count of detect_changes)
    timed = frame["time"].notna().to_numpy(dtype=bool)
    frame = frame[timed].reset_index(drop=True)
    # nothing could be recorded as failed (core.status_recorded): every request's outcome is unknown, not "not failed"
    fl = pd.array(frame["failed"].array, dtype="boolean")
    if not status_recorded(spans):
        fl[:] = pd.NA
    frame["failed"] = fl
    w = trace_weights(frame["trace_id"], weights, "timeline")
    frame["weight"] = w
    out = frame[~np.isnan(w)].reset_index(drop=True)
    out.attrs["no_start"] = int((~timed).sum())  # left out above, counted: timeline says it (attrs["no_start"])
    return out


def _pair(value: Any, name: str) -> tuple[Any, Any]:
    """A (low, high) argument of select_requests as two ends, or an ArgumentError."""
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__len__") or len(value) != 2:
        raise ArgumentError(f"select_requests: {name} must be a pair (low, high), None for an open end, got {value!r}")
    return tuple(value)


def _time_bound(x: Any, name: str, whole: Any) -> pd.Timestamp | None:
    """One end of ``time=``: None (open), or a UTC Timestamp; NaT / NaN or an unreadable value is an ArgumentError."""
    if x is None:
        return None
    try:
        t = pd.Timestamp(x)
    except (ValueError, TypeError, OverflowError) as e:
        raise ArgumentError(f"select_requests: {name}={whole!r}: {x!r} is not a time ({e})") from None
    if pd.isna(t):
        raise ArgumentError(f"select_requests: {name}={whole!r}: {x!r} is not a time (None leaves an end open)")
    return t if t.tzinfo is not None else t.tz_localize("UTC")


def select_requests(spans: pd.DataFrame, by: str | Sequence[str] | None = None, *, key: Any = None,
                    time: tuple[Any, Any] | None = None, latency_ms: tuple[float, float] | None = None,
                    weights: Any = None) -> pd.DataFrame:
    """The requests of :func:`request_rows` inside a time × latency box (what a brushed heatmap selects).

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame.
    by : str or list of str, optional
        What a request is, as for :func:`timeline`.
    key : value or tuple, optional
        Keep the requests of this key of ``by`` only (``by="service", key="checkout"``).
    time : (start, end), optional
        Keep requests starting in ``[start, end]`` (anything ``pandas.Timestamp`` takes; naive
        times are UTC). An end given as ``None`` is open: ``(t0, None)`` keeps every request from ``t0`` on.
        ``None`` for the whole argument: any time.
    latency_ms : (low, high), optional
        Keep requests with ``low <= latency_ms <= high`` (numbers; ``inf`` allowed). An end given as ``None`` is
        open: ``(None, 100)`` keeps every known latency up to 100 ms. ``None`` for the whole argument: any
        latency, including unknown (NaN) latencies of in-progress requests (a box, even an open one, keeps only
        known latencies).
    weights : DataFrame, Series or float, optional
        Sampling weights (rows of traces without a known weight are dropped).

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`request_rows` (``time``, ``trace_id``, key columns, ``latency_ms``, ``failed``,
        ``weight``: :data:`REQUEST_ROWS`), one row per request, in time order (ties by trace id). ``failed`` is
        nullable boolean: ``<NA>`` (unknown, not False) on every row when no span of ``spans`` records a status
        (:func:`tracekit.core.status_recorded`).

    Raises
    ------
    ArgumentError
        ``key`` without ``by``; a range that is not a pair, whose low end is above its high end, or with an end that
        is NaN / NaT, not a number (``latency_ms``) or not a time (``time``, e.g. an unreadable date string).

    Notes
    -----
    With ``by="service"`` (or ``"host"``) a request is an entry span; a span whose service is missing (which
    :func:`tracekit.validate_spans` refuses, but a hand-built frame may hold) is an entry of no service: its
    row has ``<NA>`` as the key and no ``key=`` matches it.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.simulate.simulate("baseline", 200, seed=1).spans
    >>> slow = tk.select_requests(spans, latency_ms=(500, float("inf")))
    >>> bool((slow["latency_ms"] >= 500).all()), len(slow) < 200
    (True, True)
    """
    return _select_requests(spans, by, key=key, time=time, latency_ms=latency_ms, weights=weights,
                            who="select_requests")


def _select_requests(spans: pd.DataFrame, by: str | Sequence[str] | None, *, key: Any, time: Any, latency_ms: Any,
                     weights: Any, who: str) -> pd.DataFrame:
    """:func:`select_requests`, its errors said as ``who`` (the function the user called)."""
    if key is not None and by is None:
        raise ArgumentError(f"{who}: key= needs by= (the column the key is a value of)")
    rows = request_rows(spans, by, weights=weights, who=who)
    sel = np.ones(len(rows), dtype=bool)
    if key is not None:
        keys = _keys(by)
        kv = key if isinstance(key, tuple) else (key,)
        if len(kv) != len(keys):
            raise ArgumentError(f"{who}: key {key!r} has {len(kv)} values for {len(keys)} key columns {keys}")
        for k, v in zip(keys, kv, strict=True):
            col = rows[k].astype(object)
            sel &= (col.notna() & (col == v)).to_numpy(dtype=bool, na_value=False)  # a missing key matches nothing
    if time is not None:
        t0, t1 = (_time_bound(x, "time", time) for x in _pair(time, "time"))
        if t0 is not None and t1 is not None and t0 > t1:
            raise ArgumentError(f"{who}: time=({t0}, {t1}) starts after it ends")
        t = rows["time"]
        if t0 is not None:
            sel &= (t >= t0).to_numpy(dtype=bool, na_value=False)
        if t1 is not None:
            sel &= (t <= t1).to_numpy(dtype=bool, na_value=False)
    if latency_ms is not None:
        lo, hi = (number_arg(x, "each end of latency_ms", who, allow_inf=True, allow_none=True)
                  for x in _pair(latency_ms, "latency_ms"))
        if lo is not None and hi is not None and lo > hi:
            raise ArgumentError(f"{who}: latency_ms=({lo}, {hi}): low is above high")
        lat = rows["latency_ms"].to_numpy(dtype=float)
        sel &= (lat >= (-np.inf if lo is None else lo)) & (lat <= (np.inf if hi is None else hi))
    out = rows[sel]
    order = np.lexsort((out["trace_id"].astype(str).to_numpy(), out["time"].to_numpy(dtype="datetime64[ns]")))
    return out.iloc[order].reset_index(drop=True)


def heatmap_requests(spans: pd.DataFrame, by: str | Sequence[str] | None = None, *, key: Any = None,
                     weights: Any = None) -> pd.DataFrame:
    """The requests a latency heatmap counts: those of :func:`select_requests` with a known, positive latency.

    A log latency axis cannot place a request of 0 ms or one still in progress (NaN): they are left out and counted
    in ``attrs["left_out"]``; ``attrs["selected"]`` counts the requests of :func:`select_requests`.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame.
    by : str or list of str, optional
        What a request is, as for :func:`timeline`.
    key : value or tuple, optional
        Keep the requests of this key of ``by`` only.
    weights : DataFrame, Series or float, optional
        Sampling weights (rows of traces without a known weight are dropped).

    Returns
    -------
    pandas.DataFrame
        The rows of :func:`select_requests` (:data:`REQUEST_ROWS`) whose ``latency_ms`` is finite and above 0, in
        its order; the index is each row's position in :func:`select_requests`' result (what a selection on the
        heatmap's points reads).

    Raises
    ------
    ArgumentError
        ``key`` without ``by``, or a bad ``by`` / ``weights``.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.simulate.simulate("baseline", 50, seed=1).spans
    >>> rows = heatmap_requests(spans)
    >>> len(rows) + rows.attrs["left_out"] == rows.attrs["selected"] == len(tk.select_requests(spans))
    True
    """
    return _heatmap_requests(spans, by, key=key, weights=weights, who="heatmap_requests")


def _heatmap_requests(spans: pd.DataFrame, by: str | Sequence[str] | None, *, key: Any, weights: Any,
                      who: str) -> pd.DataFrame:
    """:func:`heatmap_requests`, its errors said as ``who``."""
    rows = _select_requests(spans, by, key=key, time=None, latency_ms=None, weights=weights, who=who)
    lat = rows["latency_ms"].to_numpy(dtype=float)
    ok = np.isfinite(lat) & (lat > 0)
    out = rows[ok]
    out.attrs = {"selected": len(rows), "left_out": int((~ok).sum())}
    return out


def latency_heatmap(spans: pd.DataFrame, freq: str = "1min", by: str | Sequence[str] | None = None, *,
                    key: Any = None, bins: int = 40, weights: Any = None,
                    requests: pd.DataFrame | None = None) -> pd.DataFrame:
    """Requests per (time bucket, latency bin): the cells of a time × request-latency heatmap.

    The requests are those of :func:`heatmap_requests` (known, positive latency); the buckets are :func:`timeline`'s
    (``freq`` long, aligned on the epoch, from the first request's bucket to the last's, empty ones included); the
    ``bins`` latency bins are log-spaced from the smallest to the largest latency (one value: a bin 1 % wide).

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame.
    freq : str
        Bucket length, a pandas offset alias.
    by : str or list of str, optional
        What a request is, as for :func:`timeline` (``None``: every request root).
    key : value or tuple, optional
        Keep the requests of this key of ``by`` only (e.g. ``by="service", key="checkout"``).
    bins : int
        Latency bins.
    weights : DataFrame, Series or float, optional
        Sampling weights: ``requests`` is then Σw.
    requests : DataFrame, optional
        ``heatmap_requests(spans, by, key=key, weights=weights)`` when you hold it already (a figure that also draws
        each request as a point): it is counted as it is, not computed again.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`LATENCY_HEATMAP`, ``bins`` rows per bucket (none without a request).
        ``attrs``: ``params`` (the arguments), ``requests`` (Σ ``requests``), ``sampled`` (requests counted),
        ``no_data`` (the buckets with no data in words, as :func:`timeline`'s; "" when none),
        ``left_out`` (requests of :func:`select_requests` without a known, positive latency), ``first`` / ``last``
        (the first and last counted request's start; NaT without one), ``latency_range_ms`` (the smallest and
        largest latency counted; empty without one).

    Raises
    ------
    ArgumentError
        ``key`` without ``by``; a bad ``freq`` (or one that cuts the window into too many buckets), ``bins``,
        ``by`` or ``weights``.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.simulate.simulate("baseline", 200, seed=1).spans
    >>> h = latency_heatmap(spans, freq="10min", bins=12)
    >>> int(h["requests"].sum()), h["time"].nunique(), len(h) // h["time"].nunique()
    (200, 6, 12)
    """
    if key is not None and by is None:
        raise ArgumentError("latency_heatmap: key= needs by= (the column the key is a value of)")
    step_td = duration_arg(freq, "freq", "latency_heatmap")
    bins = count_arg(bins, "bins", "latency_heatmap", minimum=1, maximum=10_000)
    if requests is None:
        rows = _heatmap_requests(spans, by, key=key, weights=weights, who="latency_heatmap")
    elif isinstance(requests, pd.DataFrame) and {"time", "latency_ms", "weight"} <= set(requests.columns):
        rows = requests
    else:
        raise ArgumentError("latency_heatmap: requests must be the DataFrame of heatmap_requests() (time, latency_ms, "
                            f"weight columns), got {type(requests).__name__}")
    lat = rows["latency_ms"].to_numpy(dtype=float)
    cols = LATENCY_HEATMAP.column_names
    attrs = {"params": shared_attr(dict(freq=freq, by=by, key=key, bins=bins, weighted=weights is not None)),
             "left_out": int(rows.attrs.get("left_out", 0)), "sampled": len(rows)}
    if not len(rows):
        out = pd.DataFrame({c.name: pd.Series(dtype=c.dtype) for c in LATENCY_HEATMAP.columns})
        out.attrs = {**attrs, "requests": 0.0, "first": pd.NaT, "last": pd.NaT, "latency_range_ms": (), "no_data": ""}
        return out
    steps_arg(step_td, rows["time"].min(), rows["time"].max(), "freq", "latency_heatmap")
    step = step_td.value
    t = rows["time"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    b = (t // step) * step  # timeline's buckets (timeline_from_requests)
    b0 = int(b.min())
    nb = int((b.max() - b0) // step) + 1
    lo, hi = float(lat.min()), float(lat.max())
    if hi <= lo:
        hi = lo * 1.01 + 1e-9
    edges = np.logspace(np.log10(lo), np.log10(hi), bins + 1)
    yi = np.clip(np.searchsorted(edges, lat, side="right") - 1, 0, bins - 1)
    xi = (b - b0) // step
    z = np.zeros((nb, bins))
    np.add.at(z, (xi, yi), rows["weight"].to_numpy(dtype=float))
    n = np.zeros((nb, bins), dtype=np.int64)
    np.add.at(n, (xi, yi), 1)
    out = pd.DataFrame({
        "time": to_timestamps(np.repeat(b0 + step * np.arange(nb, dtype=np.int64), bins)).array,
        "latency_lo_ms": np.tile(edges[:-1], nb), "latency_hi_ms": np.tile(edges[1:], nb),
        "latency_ms": np.tile(np.sqrt(edges[:-1] * edges[1:]), nb),
        "requests": z.reshape(-1), "sampled": n.reshape(-1),
        # not collected is not 0 requests (timeline's rule, one definition: no_data_buckets)
        "no_data": np.repeat(no_data_buckets(spans, step_td, b0, nb), bins)}, columns=cols)
    out.loc[out["no_data"].to_numpy(), "requests"] = np.nan
    gaps = no_data_text(no_data_windows(out, step_td), freq if isinstance(freq, str) else str(step_td), detection=False)
    out.attrs = {**attrs, "no_data": gaps, "requests": float(z.sum()), "first": rows["time"].min(),
                 "last": rows["time"].max(), "latency_range_ms": (float(lat.min()), float(lat.max()))}
    return out


def _group_stats(lat: np.ndarray, fl: np.ndarray, w: np.ndarray, starts: np.ndarray, ci: float) -> np.ndarray:
    """Per group (rows ``starts[i]:starts[i+1]``, sorted by group): requests, lo, hi, failed, unknown, rate,
    lo, hi, then (p, lo, hi) per quantile. A NaN in ``fl`` is a request of unknown outcome: counted in requests and
    unknown, left out of failed and the rate (core.failed_share's rule); a group with none known has NaN there."""
    from ..core.distributions import beta_ppf, normal_ppf

    z = float(normal_ppf(0.5 + ci / 2))
    a = (1 - ci) / 2
    b0 = starts[:-1]
    tot = np.add.reduceat(w, b0)
    w2 = np.add.reduceat(w * w, b0)
    known = ~np.isnan(fl)
    wk = np.where(known, w, 0.0)
    tot_k = np.add.reduceat(wk, b0)
    w2_k = np.add.reduceat(wk * wk, b0)
    nf = np.add.reduceat(np.where(known, w * fl, 0.0), b0)
    nf = np.where(tot_k > 0, nf, np.nan)  # no request of known outcome: the failures are unknown, not 0
    n = np.diff(starts).astype(float)
    sd = np.sqrt(np.maximum(w2 - tot, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        p = nf / tot_k
        n_eff = tot_k ** 2 / w2_k
        x = p * n_eff
        lo = np.where(np.isnan(x), np.nan, np.where(x <= 0, 0.0, beta_ppf(a, x + 0.5, n_eff - x + 0.5)))
        hi = np.where(np.isnan(x), np.nan, np.where(x >= n_eff, 1.0, beta_ppf(1 - a, x + 0.5, n_eff - x + 0.5)))
    cols = [tot, np.maximum(tot - z * sd, n), tot + z * sd, nf, tot - tot_k, p, lo, hi]
    pct = np.full((len(b0), 3 * len(QUANTILES)), np.nan)
    for i, (i0, i1) in enumerate(zip(starts[:-1], starts[1:], strict=True)):
        v, ww = lat[i0:i1], w[i0:i1]
        ok = ~np.isnan(v)
        if not ok.any():
            continue
        v, ww = v[ok], ww[ok]
        unweighted = bool((ww == 1).all())
        m = float(len(v)) if unweighted else ww.sum() ** 2 / float((ww ** 2).sum())
        levels = []
        for q in QUANTILES:
            h = z * np.sqrt(q * (1 - q) / m)
            levels += [q, max(q - h, 0.0), min(q + h, 1.0)]
        pct[i] = percentile(v, levels, weights=None if unweighted else ww)
    return np.column_stack([*cols, pct])


def timeline(spans: pd.DataFrame, freq: str = "1min", by: str | Sequence[str] | None = None, *,
             weights: Any = None, ci: float = 0.95, metrics: pd.DataFrame | None = None,
             metric_names: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Requests, failures and request-latency percentiles per time bucket (and key), with intervals.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame.
    freq : str
        Bucket length, a pandas offset alias (``"1min"``, ``"5min"``, ``"1h"``).
    by : str or list of str, optional
        Key(s): ``None`` (all requests), ``"route"``, ``"root_service"``, ``"root_name"``
        (requests by their root), ``"service"`` (each service's entry spans) or any spans column
        / ``"operation"`` (every span with that key). See the module docstring.
    weights : DataFrame, Series or float, optional
        Sampling weights per trace (:func:`~tracekit.sampling_weights`): Horvitz–Thompson counts,
        weighted error rates and percentiles.
    ci : float
        Interval level.
    metrics : pandas.DataFrame, optional
        A metrics frame: its series (``by`` None, ``"service"`` or ``"host"``) are put beside the
        requests, one column ``metric.<name>`` each, on the same buckets
        (:func:`tracekit.analysis.metric_series.join_metric_series`).
    metric_names : str or list of str, optional
        The metric names to put there (default: all).

    Returns
    -------
    pandas.DataFrame
        One row per (bucket, key) from the first to the last bucket of the data, empty buckets
        included (``requests`` 0; NaN where ``no_data``: no span at all was collected in the bucket,
        :func:`no_data_buckets`): ``time``, the key columns, then the columns declared in
        :data:`TIMELINE` (then the ``metric.<name>`` columns). ``attrs["params"]`` records the arguments,
        ``attrs["status_recorded"]`` whether any span records a status (:func:`tracekit.core.status_recorded`);
        when none does, ``failed`` and ``error_rate`` (and its interval) are NaN: unknown, not 0.
        ``attrs["no_data"]`` says the buckets with no data in words ("" when none). A request whose start is
        missing (a frame edited by hand: the schema requires one) has no bucket: it is left out and counted in
        ``attrs["no_start"]`` (0 when none). ``attrs["first"]`` / ``attrs["last"]``: the first and last start of
        the requests counted (NaT when none), the window a figure of it names.

    Raises
    ------
    SpansSchemaError
        A needed column is missing.
    ArgumentError
        Bad ``freq``, ``by``, ``weights``, ``ci`` or ``metric_names``.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.simulate.simulate("baseline", 300, seed=2).spans
    >>> t = tk.timeline(spans, freq="30min", by="route")
    >>> t[["time", "route", "requests"]].head(3).to_dict("records")[0]["route"]
    '/cart'
    >>> int(t["requests"].sum())
    300
    """
    ci = share_arg(ci, "ci", "timeline")
    step = duration_arg(freq, "freq", "timeline")
    freq = freq.strip() if isinstance(freq, str) else step
    if metric_names is not None:
        if metrics is None:
            raise ArgumentError("timeline: metric_names= picks metrics= series; no metrics= is given")
        if not isinstance(metric_names, str) and not (
                isinstance(metric_names, (list, tuple, set, pd.Index, pd.Series, np.ndarray))
                and all(isinstance(n, str) for n in metric_names)):
            raise ArgumentError(f"timeline: metric_names must be a metric name or a list of names, got {metric_names!r:.80}")
    keys = _keys(by)
    rows = request_rows(spans, keys or None, weights=weights)
    # a request without a start has no bucket (its NaT read as -2**63 ns asked for buckets from 1677: 19.5 GiB for
    # three spans); left out and counted — request_rows leaves out those whose start is unknown and counts them
    left_out = int(rows.attrs.get("no_start", 0))
    no_start = rows["time"].isna().to_numpy(dtype=bool)
    if no_start.any():
        rows = rows[~no_start].reset_index(drop=True)
    if len(rows):
        steps_arg(step, rows["time"].min(), rows["time"].max(), "freq", "timeline")
    out = timeline_from_requests(rows, keys, step, ci, dict(freq=freq, by=by, weighted=weights is not None, ci=ci),
                                 spans=spans)
    known = status_recorded(spans)
    if not known:  # nothing could be recorded as failed: the count and the rate are unknown, not 0
        out[["failed", "error_rate", "error_rate_lo", "error_rate_hi"]] = np.nan
    out.attrs["status_recorded"] = known
    out.attrs["no_data"] = no_data_text(no_data_windows(out, step), freq if isinstance(freq, str) else str(step))
    out.attrs["no_start"] = left_out + int(no_start.sum())
    # the window of the requests counted (first and last start), as latency_heatmap's: a figure's title says it
    out.attrs["first"] = rows["time"].min() if len(rows) else pd.NaT
    out.attrs["last"] = rows["time"].max() if len(rows) else pd.NaT
    if metrics is not None:
        from .metric_series import join_metric_series

        out = join_metric_series(out, metrics, metric_names, keys, freq)
    return out


#: chance below which a run of buckets without any span is missing data rather than quiet traffic (no_data_buckets)
NO_DATA_CHANCE = 0.01
#: the traffic around a run of empty buckets is taken as the lower end of this one-sided interval of its Poisson rate
NO_DATA_RATE_LEVEL = 0.9
#: fewest buckets on each side of a run of empty buckets whose traffic says whether the run is chance
_NO_DATA_AROUND = 5


def no_data_buckets(spans: pd.DataFrame | None, step: pd.Timedelta, first: int, n: int) -> np.ndarray:
    """Which of the ``n`` buckets of ``step`` from ``first`` (ns since the epoch) hold **no data**: no span of
    ``spans`` — of any service, any key, any kind — starts in them, in a run of such buckets the frame's traffic
    makes no chance.

    A bucket of a key with no request while other services' spans go on is a real 0 (that key stopped). A bucket
    where no span at all starts is one of two things the spans cannot tell apart: the spans were not collected (a
    collector outage, two files with a gap between them) or nothing at all ran; either way its request count is
    not known to be 0. Quiet traffic leaves buckets empty too (a request every five minutes at ``1min``), so a
    run of ``k`` empty buckets is no data only when chance would not leave it: with ``λ`` traces starting per
    bucket around it (in the ``max(k, 5)`` buckets before it and after it: the traffic of the frame as a whole may
    have dropped well before; the frame's first and last traces not counted, as they are where it starts and ends;
    ``λ`` the lower end of the 90 % one-sided interval of the Poisson rate those arrivals give,
    :data:`NO_DATA_RATE_LEVEL`: a few arrivals do not say the rate is high), ``n · p^k <`` :data:`NO_DATA_CHANCE`,
    where ``p``, the chance of an empty bucket, is the larger of Poisson's ``exp(−λ)`` (steady arrivals) and the
    share of empty buckets around the run (arrivals in bursts: a job every ten minutes leaves nine quiet minutes
    between its bursts, which Poisson at the same mean would call impossible). Over an hour of ``1min`` buckets: at
    20 requests a minute one empty minute is no data (200 arrivals around it: ``λ`` ≥ 18.2); at one a minute a lone
    empty minute is not, ten in a row are not either (20 arrivals around them: ``λ`` ≥ 0.73, 60 · e⁻⁷·³ ≈ 0.04),
    twelve are (60 · e⁻⁹ ≈ 0.007); at one every five minutes ten empty minutes are not; with 30 requests in the
    first minute of every ten and none between, the nine quiet minutes are not (about 16 of the 18 buckets around
    each run are empty: 60 · 0.89⁹ ≈ 21), nor is one burst missing (19 quiet minutes: 60 · 0.89¹⁹ ≈ 7).

    Parameters
    ----------
    spans : pandas.DataFrame or None
        The spans frame the buckets were cut from (None: no bucket is said to hold no data).
    step : pandas.Timedelta
        Bucket length.
    first : int
        Start of the first bucket, ns since the epoch (a multiple of ``step``).
    n : int
        Number of buckets.

    Returns
    -------
    numpy.ndarray of bool
        One per bucket.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.simulate.simulate("baseline", 600, seed=1).spans
    >>> cut = spans[(spans["start"] < "2026-03-02T14:20Z") | (spans["start"] >= "2026-03-02T14:30Z")]
    >>> t0 = pd.Timestamp("2026-03-02T14:00Z").value
    >>> gap = no_data_buckets(cut, pd.Timedelta("1min"), t0, 60)
    >>> int(gap.sum()), int(np.flatnonzero(gap)[0])
    (10, 20)
    >>> int(no_data_buckets(spans, pd.Timedelta("1min"), t0, 60).sum())
    0
    """
    out = np.zeros(max(int(n), 0), dtype=bool)
    if spans is None or n <= 0 or not len(spans):
        return out
    s = step.value
    st = ns(spans["start"])
    st = st[st != np.iinfo(np.int64).min]
    b = st // s - first // s
    has = np.zeros(n, dtype=bool)
    has[b[(b >= 0) & (b < n)]] = True
    if has.all():
        return out
    from ..core.distributions import gamma_ppf

    # traces starting per bucket: each trace's earliest span (a trace's spans are one arrival, not many)
    tid = pd.factorize(spans["trace_id"])[0]
    first_start = pd.Series(ns(spans["start"])).groupby(tid).min().to_numpy()
    tb = first_start // s - first // s
    per = np.bincount(tb[(tb >= 0) & (tb < n)], minlength=n)
    # the frame's first and last traces are where it starts and ends, not draws of its traffic: the buckets around a
    # run are counted without them (an incident of 5 requests over 20 buckets of 5 s read "no span at all was
    # collected" in the 15 between its first request and its last 3: the ends' buckets, full by construction, gave
    # 1.0 requests a bucket around the run, the frame 0.25)
    ends = [first_start.argmin(), first_start.argmax()] if len(first_start) > 1 else [0]  # two traces, or one
    for e in (first_start[ends] // s - first // s).tolist():
        if 0 <= e < n and per[e] > 0:
            per[e] -= 1
    cum = np.r_[0, np.cumsum(per)]
    cum_empty = np.r_[0, np.cumsum(~has)]
    empty = np.r_[False, ~has, False].astype(np.int8)
    edges = np.flatnonzero(np.diff(empty))
    for a, z in zip(edges[::2], edges[1::2], strict=True):  # each run [a, z) of buckets without a span
        k = int(z - a)
        w = max(k, _NO_DATA_AROUND)  # the traffic around the run, not the frame's: it may have dropped before it
        lo, hi = max(0, a - w), min(n, z + w)
        around = max((a - lo) + (hi - z), 1)
        # the rate at least as low as the arrivals around say (its one-sided 90 % lower bound): read from a few
        # arrivals, a point estimate called chance gaps between them collected data gone (fault lab, 1,260 random
        # subsamples of 3-80 traces with nothing cut: 33 said a gap; with the bound none, and every cut 60 s of
        # traffic at 1 request a second or 0.5 is still found)
        c_ = cum[a] - cum[lo] + cum[hi] - cum[z]
        lam = float(gamma_ppf(1 - NO_DATA_RATE_LEVEL, c_)) / around if c_ > 0 else 0.0
        # the chance of an empty bucket: Poisson's for steady arrivals, or the share of empty buckets around the
        # run where arrivals come in bursts (a job every ten minutes leaves nine empty minutes between its bursts)
        p_empty = max(np.exp(-lam), (cum_empty[a] - cum_empty[lo] + cum_empty[hi] - cum_empty[z]) / around)
        if n * p_empty ** k < NO_DATA_CHANCE:
            out[a:z] = True
    return out


def no_data_windows(table: pd.DataFrame, step: pd.Timedelta) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """The runs of ``no_data`` buckets of a timeline as (start, end) times, end the first bucket after the run.

    >>> import tracekit as tk
    >>> tl = pd.DataFrame({"time": pd.date_range("2026-03-02 14:00", periods=5, freq="1min", tz="UTC"),
    ...                    "no_data": [False, True, True, False, True]})
    >>> [(str(a.time()), str(b.time())) for a, b in no_data_windows(tl, pd.Timedelta("1min"))]
    [('14:01:00', '14:03:00'), ('14:04:00', '14:05:00')]
    """
    if "no_data" not in table.columns or not len(table):
        return []
    t = np.unique(ns(table["time"][table["no_data"].to_numpy(dtype=bool)]))
    if not len(t):
        return []
    s = step.value
    cut = np.flatnonzero(np.diff(t) != s) + 1
    return [(pd.Timestamp(int(r[0]), tz="UTC"), pd.Timestamp(int(r[-1]) + s, tz="UTC")) for r in np.split(t, cut)]


def no_data_text(windows: Sequence[tuple[Any, Any]], freq: str, *, detection: bool = True) -> str:
    """Words for the no-data windows of :func:`no_data_windows` with buckets of ``freq`` ("" when none); with
    ``detection``, that they are left out of the change detection (a table the change detection reads).

    >>> no_data_text([(pd.Timestamp("2026-03-02T14:30Z"), pd.Timestamp("2026-03-02T14:40Z"))], "1min")
    'No span at all was collected in 14:30–14:40 UTC (10 buckets of 1 min): no data there (spans not collected, or nothing ran), not 0 requests; left out of the change detection.'
    """
    if not len(windows):
        return ""
    step = pd.Timedelta(freq)
    nb = sum(int((b - a) / step) for a, b in windows)
    where = "; ".join(window_text(a, b) for a, b in windows[:5]) + (f" and {len(windows) - 5} more" if len(windows) > 5 else "")
    return (f"No span at all was collected in {where} ({nb:,} bucket{'' if nb == 1 else 's'} of {freq_text(freq)}): no data "
            "there (spans not collected, or nothing ran), not 0 requests" +
            ("; left out of the change detection." if detection else "."))


def timeline_from_requests(rows: pd.DataFrame, keys: list[str], step: pd.Timedelta, ci: float,
                        params: dict, spans: pd.DataFrame | None = None) -> pd.DataFrame:
    """:func:`timeline`'s table from :func:`request_rows`' rows; ``spans`` (the frame they came from) marks the
    buckets with no data (:func:`no_data_buckets`; None: none is marked)."""
    names = TIMELINE.column_names
    if rows.empty:
        out = pd.DataFrame({c: pd.Series(dtype="float64") for c in names})
        out["time"] = pd.Series(dtype="datetime64[ns, UTC]")
        out["sampled"] = pd.Series(dtype="int64")
        out["no_data"] = pd.Series(dtype="bool")
        out["covered"] = pd.Series(dtype="float64")
        for k in reversed(keys):
            out.insert(1, k, pd.Series(dtype="string"))
        out.attrs["params"] = shared_attr(params)
        return out[["time", *keys, *names[1:]]]
    t_ns = ns(rows["time"])
    s = step.value
    bucket = (t_ns // s) * s
    b0, b1 = int(bucket.min()), int(bucket.max())
    nb = (b1 - b0) // s + 1
    bidx = (bucket - b0) // s
    if keys:
        kf = rows[keys].astype(object).where(rows[keys].notna(), None)
        kcodes, kuniq = pd.factorize(pd.MultiIndex.from_frame(kf), sort=True)
        nk = len(kuniq)
    else:
        kcodes = np.zeros(len(rows), dtype=np.int64)
        nk = 1
    g = kcodes.astype(np.int64) * nb + bidx
    order = np.argsort(g, kind="stable")
    gs = g[order]
    lat = rows["latency_ms"].to_numpy(dtype=float)[order]
    fl = rows["failed"].to_numpy(dtype=float, na_value=np.nan)[order]  # <NA> (status unknown) counts as NaN
    w = rows["weight"].to_numpy(dtype=float)[order]
    bounds = np.flatnonzero(np.r_[True, gs[1:] != gs[:-1], True])
    width = 8 + 3 * len(QUANTILES)
    vals = np.full((nk * nb, width), np.nan)
    vals[:, :5] = 0.0
    sampled = np.zeros(nk * nb, dtype=np.int64)
    present = gs[bounds[:-1]]
    vals[present] = _group_stats(lat, fl, w, bounds, ci)
    sampled[present] = np.diff(bounds)
    out = pd.DataFrame({"time": to_timestamps(np.tile(b0 + s * np.arange(nb, dtype=np.int64), nk)).array})
    for j, k in enumerate(keys):
        level = kuniq.get_level_values(j) if nk else []
        col = np.repeat(np.asarray(level, dtype=object), nb)
        out[k] = pd.array(col, dtype=rows[k].dtype if str(rows[k].dtype) != "object" else "string")
    for j, c in enumerate([n for n in names if n not in ("time", "sampled", "no_data", "covered")]):
        out[c] = vals[:, j]
    out["sampled"] = sampled
    gap = np.tile(no_data_buckets(spans, step, b0, nb), nk)
    # not collected is not 0 requests: the count, its bounds and the failures are unknown there
    out.loc[gap, ["requests", "requests_lo", "requests_hi", "failed", "unknown"]] = np.nan
    out["no_data"] = gap
    out["covered"] = np.tile(bucket_coverage(t_ns, step, b0, nb), nk)
    out = out[["time", *keys, *names[1:]]]
    out.attrs["params"] = shared_attr(params)
    return out


#: a bucket whose ``covered`` share is below this is partial (a first or last bucket the data fills only in part)
PARTIAL_BUCKET = 0.95


def bucket_coverage(times: np.ndarray, step: pd.Timedelta, first: int, n: int) -> np.ndarray:
    """The share of each of the ``n`` buckets of ``step`` from ``first`` (ns since the epoch) that lies inside the
    data's window, seen through its request times ``times`` (ns).

    The window is the first to the last request, widened at each end by the mean time between requests: with
    requests arriving at random, the data began about that long before its first request and ended about that
    long after its last. A file cut at 14:03:30 fills half of its ``1min`` bucket 14:03, and a ``10min`` bucket
    14:00 only 65 % of the way: its count is that part of a bucket's, not a drop in traffic.

    Parameters
    ----------
    times : numpy.ndarray
        Request times, ns since the epoch.
    step : pandas.Timedelta
        Bucket length.
    first : int
        Start of the first bucket, ns since the epoch.
    n : int
        Number of buckets.

    Returns
    -------
    numpy.ndarray of float
        One share in [0, 1] per bucket: 1 inside the window.

    Examples
    --------
    >>> t0 = pd.Timestamp("2026-03-02T14:00Z").value
    >>> times = t0 + np.arange(30, 270) * 1_000_000_000   # one request a second, 14:00:30 to 14:04:29
    >>> bucket_coverage(times, pd.Timedelta("1min"), t0, 5).round(3).tolist()
    [0.517, 1.0, 1.0, 1.0, 0.5]
    """
    n = max(int(n), 0)
    t = np.asarray(times, dtype=np.int64)
    if not len(t) or not n:
        return np.ones(n)
    lo, hi = int(t.min()), int(t.max())
    gap = (hi - lo) / (len(t) - 1) if len(t) > 1 else 0.0
    lo_w, hi_w = lo - gap, hi + gap
    s = step.value
    starts = first + s * np.arange(n, dtype=np.float64)
    inside = np.clip(np.minimum(starts + s, hi_w) - np.maximum(starts, lo_w), 0.0, s) / s
    return inside


def deployments(spans: pd.DataFrame) -> pd.DataFrame:
    """Service versions seen in the spans (resource ``service.version``): when each first and last appeared.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame (``resource`` dicts are read; X-Ray segments carry ``service.version`` too).
        The version is read on each service's entry spans (a root, an orphan, or a span whose
        parent is in another service): the process that served the request, not the internal
        work it started before a restart.

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`DEPLOYMENTS`, sorted by service and first seen. A service with several
        versions was deployed (or runs a canary) at the ``first_seen`` of the later ones.

    Raises
    ------
    SpansSchemaError
        An id column, ``service`` or ``start`` is missing.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.simulate.simulate("slow-deploy", 100, seed=3).spans
    >>> d = deployments(spans)
    >>> d[d["service"] == "payments"]["version"].tolist()
    ['1.4.2', '1.5.0']
    """
    require_columns(spans, ("trace_id", "span_id", "parent_id", "service", "start"), "deployments")
    # a span read twice is one span (kernel tree): its other copy is no second span of the version, nor, exported again
    # later, a later last_seen
    entry = service_entries(spans) & ~span_tree(spans).duplicate
    res = spans["resource"].to_numpy(dtype=object) if "resource" in spans.columns else np.full(len(spans), None)
    ver = np.array([get_attribute(r, "service.version") if e and isinstance(r, dict) else None
                    for r, e in zip(res, entry, strict=True)], dtype=object)
    ok = np.array([v is not None for v in ver], dtype=bool)
    df = pd.DataFrame({"service": spans["service"].to_numpy(dtype=object)[ok], "version": ver[ok].astype(str),
                       "t": to_timestamps(ns(spans["start"])[ok]).array})
    cols = DEPLOYMENTS.column_names
    if df.empty:
        out = pd.DataFrame({c: pd.Series(dtype=d.dtype) for c, d in zip(cols, DEPLOYMENTS.columns, strict=True)})
        out["spans"] = out["spans"].astype("int64")
        return out
    agg = df.groupby(["service", "version"], sort=False)["t"].agg(["min", "max", "size"]).reset_index()
    agg.columns = ["service", "version", "first_seen", "last_seen", "spans"]
    agg = agg.sort_values(["service", "first_seen", "version"], kind="stable").reset_index(drop=True)
    prev = agg.groupby("service")["version"].shift(1)
    agg["previous"] = prev
    for c in ("service", "version", "previous"):
        agg[c] = agg[c].astype("string")
    agg["spans"] = agg["spans"].astype("int64")
    return agg[cols]
