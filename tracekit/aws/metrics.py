"""Fetch metrics from Amazon CloudWatch with boto3 ``GetMetricData``: paged, retried, one metrics frame.

Layer 3: talks to AWS and hands the raw responses to :func:`tracekit.io.metrics.cloudwatch_frame`.
Needs the ``aws`` extra; ``import tracekit`` never imports boto3.

How a fetch runs (:func:`fetch_metrics`): each query (namespace, metric name, dimensions, statistic,
period) becomes one ``MetricDataQuery`` (id ``m0``, ``m1`` …); queries go in requests of at most 500
(the API's limit); each request follows ``NextToken`` until the last page (``max_pages`` bounds it).
Throttling and transient errors are retried by botocore itself (the client of
:func:`tracekit.aws.client.make_client`: adaptive mode, ``max_attempts``); other errors are turned
into errors that say what to do, credentials scrubbed (:func:`tracekit.aws.client.translate_error`).
The frame's ``name`` is ``Namespace/MetricName``, ``unit`` the query's, ``attributes`` the dimensions
(plus ``cloudwatch.id`` / ``cloudwatch.status_code`` / ``cloudwatch.stat``), ``host`` / ``service``
read from the dimensions (``InstanceId``, ``PodName``, ``ServiceName``…), so the points join the
spans' keys. Every page's raw response is kept in ``attrs["responses"]``.

>>> from tracekit.aws.metrics import metric_data_queries
>>> metric_data_queries([{"namespace": "AWS/EC2", "metric": "CPUUtilization",
...                       "dimensions": {"InstanceId": "i-1"}}], period=60, stat="Average")[0]["MetricStat"]["Metric"]
{'Namespace': 'AWS/EC2', 'MetricName': 'CPUUtilization', 'Dimensions': [{'Name': 'InstanceId', 'Value': 'i-1'}]}
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import pandas as pd

from ..core.args import count_arg
from ..core.words import plural
from ..errors import ArgumentError
from ..io.metrics import cloudwatch_frame
from ..schema import shared_attr
from .client import FetchInterrupted, XRayFetchError, follow_pages, is_botocore_error, make_client, translate_error
from .times import to_utc

__all__ = ["fetch_metrics", "metric_data_queries", "MAX_QUERIES"]

#: GetMetricData's limit of queries per request
MAX_QUERIES = 500


def metric_data_queries(queries: Iterable[Mapping[str, Any]], *, period: int, stat: str) -> list[dict]:
    """``MetricDataQueries`` for GetMetricData from plain query dicts.

    Parameters
    ----------
    queries : iterable of dict
        Each ``{"namespace", "metric", "dimensions" (dict, optional), "stat" (optional), "period"
        (optional), "unit" (optional), "id" (optional)}``, or a ready ``MetricDataQuery`` (with
        ``"Id"`` and ``"MetricStat"`` or ``"Expression"``), passed as is.
    period : int
        Seconds per point (a multiple of 60, or 1 / 5 / 10 / 30 for high-resolution metrics).
    stat : str
        Statistic when a query names none (``Average``, ``Sum``, ``Maximum``, ``p99`` …).

    Returns
    -------
    list of dict

    Raises
    ------
    ArgumentError
        Queries that are not a list of dicts, a query without namespace or metric, a bad period or statistic, or
        two queries with one id.

    Examples
    --------
    >>> metric_data_queries([{"namespace": "N", "metric": "M"}], period=30, stat="p99")[0]["Id"]
    'm0'
    """
    if not isinstance(queries, Iterable):  # None was a bare "'NoneType' object is not iterable"
        raise ArgumentError(f"fetch_metrics: queries must be a list of query dicts, got {type(queries).__name__} "
                            f"{queries!r:.80}")
    if isinstance(queries, (Mapping, str, bytes)):  # one dict was iterated as its keys: "query 0 must be a dict, got str"
        raise ArgumentError(f"fetch_metrics: queries must be a list of query dicts, got {type(queries).__name__} "
                            f"{queries!r:.80} (one query: [query])")
    if not isinstance(stat, str) or not stat.strip():
        raise ArgumentError(f"fetch_metrics: stat must be a statistic name such as 'Average' or 'p99', got {stat!r}")
    out: list[dict] = []
    for i, q in enumerate(queries):
        if not isinstance(q, Mapping):
            raise ArgumentError(f"fetch_metrics: query {i} must be a dict, got {type(q).__name__}")
        if "Id" in q and ("MetricStat" in q or "Expression" in q):
            out.append(dict(q))
            continue
        ns, name = q.get("namespace"), q.get("metric")
        if not ns or not name:
            raise ArgumentError(f"fetch_metrics: query {i} needs 'namespace' and 'metric', got keys {sorted(q)}")
        # a whole number of seconds: True was 1 s, 60.9 silently 60 s
        try:
            p = count_arg(q.get("period", period), "period", "fetch_metrics", minimum=1)
        except ArgumentError:
            raise ArgumentError(f"fetch_metrics: query {i}: period must be a number of seconds, got "
                                f"{q.get('period', period)!r} (a whole number: 1, 5, 10, 30 or a multiple of 60)") from None
        if (p >= 60 and p % 60) or (p < 60 and p not in (1, 5, 10, 30)):
            raise ArgumentError(f"fetch_metrics: period must be 1, 5, 10, 30 or a multiple of 60 seconds, got {p}")
        dims = q.get("dimensions") or {}
        if not isinstance(dims, Mapping):
            raise ArgumentError(f"fetch_metrics: query {i}: dimensions must be a dict of name → value, got {dims!r:.80}")
        metric = {"Namespace": str(ns), "MetricName": str(name),
                  "Dimensions": [{"Name": str(k), "Value": str(v)} for k, v in dims.items()]}
        st = q.get("stat", stat)
        if not isinstance(st, str) or not st.strip():  # None was sent as the statistic "None"
            raise ArgumentError(f"fetch_metrics: query {i}: stat must be a statistic name such as 'Average' or 'p99', "
                                f"got {st!r}")
        ms: dict[str, Any] = {"Metric": metric, "Period": p, "Stat": st}
        if q.get("unit"):
            ms["Unit"] = str(q["unit"])
        out.append({"Id": str(q.get("id", f"m{i}")), "MetricStat": ms, "ReturnData": True})
    ids = [q["Id"] for q in out]
    if len(set(ids)) != len(ids):
        raise ArgumentError(f"fetch_metrics: query ids must differ, got {ids}")
    if not out:
        raise ArgumentError("fetch_metrics: no queries given")
    return out


def _described(queries: list[dict]) -> dict[str, dict]:
    """Per query id: name, namespace, unit, stat and dimensions, for the frame."""
    out = {}
    for q in queries:
        ms = q.get("MetricStat")
        if ms is None:
            out[q["Id"]] = {"name": q.get("Label") or q["Id"]}
            continue
        m = ms["Metric"]
        out[q["Id"]] = {"name": f"{m['Namespace']}/{m['MetricName']}", "namespace": m["Namespace"],
                        "unit": ms.get("Unit"), "stat": ms.get("Stat"),
                        "dimensions": {d["Name"]: d["Value"] for d in m.get("Dimensions", [])}}
    return out


#: (start older than, its period must be a multiple of) — CloudWatch's retention (API_MetricStat, Period: "If the
#: StartTime parameter specifies a time stamp that is greater than 3 hours ago, you must specify the period as follows
#: or no data points in that time range is returned")
RETENTION_PERIODS = ((pd.Timedelta(days=63), 3600), (pd.Timedelta(days=15), 300), (pd.Timedelta(hours=3), 60))


def _warn_retention(queries: list[dict], start: pd.Timestamp) -> None:
    """Warn when a query's period gets no data points for ``start``'s age (CloudWatch answers such a query with an
    empty series, not an error: the frame was silently empty). A warning, not an error: other endpoints (moto,
    LocalStack) keep every period."""
    age = pd.Timestamp.now(tz="UTC") - start
    need = next((m for older, m in RETENTION_PERIODS if age > older), None)
    if need is None:
        return
    bad = [(q["Id"], q["MetricStat"]["Period"]) for q in queries
           if isinstance(q.get("MetricStat"), Mapping) and isinstance(q["MetricStat"].get("Period"), int)
           and q["MetricStat"]["Period"] % need]
    if bad:
        import warnings

        shown = ", ".join(f"{i} ({p} s)" for i, p in bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        warnings.warn(f"fetch_metrics: start {start.isoformat()} is {age.floor('s')} ago, when CloudWatch returns "
                      f"data points only for a period that is a multiple of {need} s (it keeps periods under 60 s "
                      f"3 hours, 60 s 15 days, 300 s 63 days); {len(bad)} of {len(queries)} queries will come back "
                      f"empty: {shown}", UserWarning, stacklevel=3)


def _check_split_expressions(queries: list[dict]) -> None:
    """Refuse, before any request, an expression whose ids fall in another request of :data:`MAX_QUERIES` (each
    request stands alone: CloudWatch would refuse the expression, after the requests before it were made)."""
    if len(queries) <= MAX_QUERIES:
        return
    import re

    request_of = {q["Id"]: k // MAX_QUERIES for k, q in enumerate(queries)}
    for k, q in enumerate(queries):
        expr = q.get("Expression")
        if not isinstance(expr, str):
            continue
        bare = re.sub(r"'[^']*'|\"[^\"]*\"", " ", expr)  # names inside quotes (a SEARCH's text) are not ids
        apart = sorted(n for n in set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", bare))
                       if n in request_of and request_of[n] != k // MAX_QUERIES)
        if apart:
            raise ArgumentError(f"fetch_metrics: expression query {q['Id']!r} ({expr!r:.80}) names {', '.join(apart)}, "
                                f"which fall in another request: GetMetricData takes at most {MAX_QUERIES} queries a "
                                f"request (queries 1-{MAX_QUERIES}, {MAX_QUERIES + 1}-{2 * MAX_QUERIES} …) and each "
                                "request stands alone; order the queries so that each expression shares its block "
                                "with the ids it names, or fetch them in separate calls")


def _metric_pages(cw: Any, kw: dict[str, Any], *, region: str | None,
                  endpoint_url: str | None) -> Iterator[dict[str, Any]]:
    """The GetMetricData pages of one request (``kw``), each asked when the one before has been read."""
    kw = dict(kw)
    while True:
        try:
            resp = cw.get_metric_data(**kw)
        except Exception as exc:
            if is_botocore_error(exc):
                raise translate_error(exc, client=cw, operation="GetMetricData", region=region,
                                      endpoint_url=endpoint_url) from None
            raise
        resp = {k: v for k, v in resp.items() if k != "ResponseMetadata"}
        yield resp
        if not resp.get("NextToken"):
            return
        kw["NextToken"] = resp["NextToken"]


def fetch_metrics(queries: Iterable[Mapping[str, Any]], start: Any, end: Any, *, period: int = 60,
                  stat: str = "Average", client: Any = None, session: Any = None, region: str | None = None,
                  profile: str | None = None, endpoint_url: str | None = None, max_attempts: int = 8,
                  max_pages: int | None = None) -> pd.DataFrame:
    """Metric series from CloudWatch ``GetMetricData``, paged and retried, as a metrics frame.

    Parameters
    ----------
    queries : iterable of dict
        What to fetch: ``{"namespace", "metric", "dimensions", "stat", "period", "unit", "id"}``
        each (see :func:`metric_data_queries`), or ready ``MetricDataQuery`` dicts.
    start, end : datetime, Timestamp, ISO string or epoch seconds
        The time range (naive times are UTC).
    period : int
        Seconds per point when a query names none.
    stat : str
        Statistic when a query names none.
    client, session, region, profile, endpoint_url, max_attempts
        Where to connect and botocore's retry budget (:func:`tracekit.aws.client.make_client`).
    max_pages : int, optional
        Stop following ``NextToken`` after this many pages per request (``attrs["truncated"]`` says so).

    Returns
    -------
    pandas.DataFrame
        A metrics frame (:data:`tracekit.METRIC_COLUMNS`), sorted by name and time. ``attrs``:
        ``responses`` (raw pages), ``requests`` (API calls made), ``truncated`` (a page left unread, or a result
        whose last page is not Complete), ``partial`` (those results: ``Id``, ``StatusCode``, ``points``, where),
        ``messages`` (CloudWatch's). Results not Complete and CloudWatch's messages are said by a ``UserWarning``.

    Raises
    ------
    ArgumentError
        Bad queries or times.
    XRayFetchError
        AWS refused or could not be reached (the message says what to do; credentials scrubbed). What the
        requests before the failure read is not lost: ``err.partial`` is its metrics frame (``attrs["truncated"]``
        True) and ``err.not_fetched`` the ids of the queries not fetched whole; the message says how many.
    FetchInterrupted
        Ctrl-C (a ``KeyboardInterrupt``): ``err.partial`` and ``err.not_fetched`` as above.

    Examples
    --------
    >>> fetch_metrics([], "2024-01-01", "2024-01-02")
    Traceback (most recent call last):
    ...
    tracekit.errors.ArgumentError: fetch_metrics: no queries given
    """
    qs = metric_data_queries(queries, period=period, stat=stat)
    s, e = to_utc(start, "start"), to_utc(end, "end")
    if s >= e:
        raise ArgumentError(f"fetch_metrics: start {s} is not before end {e}")
    max_pages = count_arg(max_pages, "max_pages", "fetch_metrics", minimum=1, allow_none=True)
    max_attempts = count_arg(max_attempts, "max_attempts", "fetch_metrics")
    _warn_retention(qs, s)
    _check_split_expressions(qs)
    cw = make_client("cloudwatch", client=client, session=session, region=region, profile=profile,
                     endpoint_url=endpoint_url, max_attempts=max_attempts)
    responses: list[dict] = []
    messages: list[dict] = []
    truncated = False
    k = 0  # the first query of the request under way: the ones before it were fetched whole
    try:
        for k in range(0, len(qs), MAX_QUERIES):
            kw: dict[str, Any] = {"MetricDataQueries": qs[k:k + MAX_QUERIES],
                                  "StartTime": s.to_pydatetime(warn=False), "EndTime": e.to_pydatetime(warn=False),
                                  "ScanBy": "TimestampAscending"}
            pages = 0
            for resp in follow_pages(_metric_pages(cw, kw, region=region, endpoint_url=endpoint_url),
                                     operation="GetMetricData"):  # a NextToken handed back again looped for ever
                responses.append(resp)
                messages += resp.get("Messages") or []
                pages += 1
                if resp.get("NextToken") and max_pages is not None and pages >= max_pages:
                    truncated = True
                    break
    except (XRayFetchError, KeyboardInterrupt) as err:
        # the points of the requests before the failure (or Ctrl-C) are not lost (fetch_logs' and fetch_xray's rule):
        # err.partial holds them, err.not_fetched the ids of the queries not fetched whole
        partial = _frame(responses, qs, messages, truncated=True)
        not_fetched = tuple(q["Id"] for q in qs[k:])
        read = (f"fetch_metrics read {plural(len(responses), 'page')}: err.partial holds their "
                f"{plural(len(partial), 'point')}, and err.not_fetched the ids of the {len(not_fetched):,} of "
                f"{plural(len(qs), 'query', 'queries')} not fetched whole")
        if isinstance(err, KeyboardInterrupt):
            if isinstance(err, FetchInterrupted):
                raise
            raise FetchInterrupted(f"fetch_metrics interrupted: before it, {read} (in Jupyter: import sys; "
                                   "metrics = sys.last_value.partial).", partial=partial,
                                   not_fetched=not_fetched) from err
        err.partial, err.not_fetched = partial, not_fetched
        err.args = (f"{err.args[0]} Before it failed, {read}.",)
        raise
    df = _frame(responses, qs, messages, truncated=truncated)
    _warn_incomplete(df, len(qs))
    return df


def _frame(responses: list[dict], qs: list[dict], messages: list[dict], *, truncated: bool) -> pd.DataFrame:
    """The metrics frame of the GetMetricData pages read, with fetch_metrics' attrs."""
    df = cloudwatch_frame(responses, _described(qs), file="<cloudwatch GetMetricData>")
    # a result is as complete as its last page says: PartialData on a page followed by the next one (NextToken) is
    # not partial once that page is read (every page but the last was listed), and a last page PartialData or
    # InternalError leaves points out (the frame said truncated False, without a word)
    final: dict[Any, Any] = {}
    for resp in responses:
        results = resp.get("MetricDataResults") if isinstance(resp, Mapping) else None
        for r in results if isinstance(results, list) else []:
            if isinstance(r, Mapping):
                final[r.get("Id")] = r.get("StatusCode")
    short = {i for i, st in final.items() if st not in (None, "Complete")}
    last: dict[Any, dict] = {}
    for p in df.attrs.get("partial") or ():
        if p.get("Id") in short:
            last[p.get("Id")] = p
    # the frame's messages are every page's and every result's (cloudwatch_frame keeps both, with where they were)
    df.attrs.update(responses=shared_attr(responses), requests=len(responses),
                    truncated=bool(truncated or last), partial=shared_attr(list(last.values())),
                    messages=shared_attr(df.attrs.get("messages") or messages))
    return df


def _warn_incomplete(df: pd.DataFrame, n_queries: int) -> None:
    """Say, once each, the queries whose last page was not Complete and CloudWatch's messages (they were only in
    ``attrs``: a series short of points read as whole)."""
    import warnings

    partial, messages = list(df.attrs["partial"]), list(df.attrs["messages"])
    if partial:
        shown = ", ".join(f"{p.get('Id')} ({p.get('StatusCode')})" for p in partial[:5])
        more = f" and {len(partial) - 5:,} more" if len(partial) > 5 else ""
        warnings.warn(f"fetch_metrics: {len(partial):,} of {plural(n_queries, 'query', 'queries')} ended not Complete: "
                      f"{shown}{more}; their points are not all there (PartialData: more than CloudWatch returned; "
                      "InternalError: retry). attrs['partial'] lists them, attrs['truncated'] is True.",
                      UserWarning, stacklevel=3)
    if messages:
        said = ", ".join(f"{m.get('Code')}: {m.get('Value')}" for m in messages[:3])
        more = f" and {len(messages) - 3:,} more" if len(messages) > 3 else ""
        warnings.warn(f"fetch_metrics: CloudWatch said {said}{more} (attrs['messages'])", UserWarning, stacklevel=3)
