"""Fetch traces and trace summaries from AWS X-Ray with boto3: windows, paging, batching, resume.

Layer 3: talks to AWS and hands the raw ``BatchGetTraces`` responses to :func:`tracekit.read_xray`.
Needs the ``aws`` extra (boto3, tqdm); ``import tracekit`` never imports boto3.

How a fetch runs (:func:`fetch_xray`):

1. ``GetTraceSummaries`` is paged (botocore paginator, ``NextToken``) over the time range, cut into
   windows of at most ``window`` (default 6 h), so a long range becomes several smaller, separately paged queries;
   windows that start more than ``FUTURE_SLACK`` (15 min) after now are not asked (no trace has started there).
2. Trace ids are de-duplicated (a trace can be listed in two windows) and cut at ``max_traces``.
3. ``BatchGetTraces`` runs in chunks of at most 5 ids (the API maximum), following ``NextToken``, on a
   bounded thread pool sharing **one** client (boto3 clients are thread-safe, sessions are not).
   ``UnprocessedTraceIds`` are asked again a bounded number of times with exponential backoff; throttling
   is retried by botocore itself (``Config(retries={"mode": "adaptive"})``, client-side rate limiting).
4. With ``cache_dir`` every raw response is written to disk as it arrives (temp file + rename, so a file
   is either complete or absent). A second call with the same query resumes: ids already in the cache
   are not asked again. ``tk.read_xray(cache_dir)`` loads the cache offline.

The cache layout is described in :mod:`tracekit.aws.cache`. The manifest and the summary pages have
suffixes that ``tracekit.io`` directory listings skip, so the
directory reads as X-Ray data and nothing else. Credentials are never printed, logged or written: the
cache holds response bodies only, and every error message is scrubbed of the client's key id, secret
and session token, and of the password and query values of ``endpoint_url``.

>>> from tracekit.aws import time_windows
>>> [(a.isoformat(), b.isoformat()) for a, b in time_windows("2026-11-20T09:00Z", "2026-11-20T21:00Z", window="6h")]
[('2026-11-20T09:00:00+00:00', '2026-11-20T15:00:00+00:00'), ('2026-11-20T15:00:00+00:00', '2026-11-20T21:00:00+00:00')]
"""

from __future__ import annotations

import datetime as _dt
import os
import threading
import time
import warnings
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..core.args import count_arg, number_arg
from ..core.ids import normalize_trace_id
from ..core.results import result_table
from ..core.words import plural
from ..errors import ArgumentError, TraceFormatError, TraceFormatWarning, TraceKitError, require
from ..schema import shared_attr, trace_id_to_xray, xray_to_trace_id
from .cache import (
    MANIFEST_NAME,
    atomic_write,
    batch_files,
    check_page,
    drop_traces,
    dump_json,
    jsonable,
    read_manifest,
    scan_cache,
)
from .client import (
    FetchInterrupted,
    XRayFetchError,
    follow_pages,
    is_botocore_error,
    make_client,
    redact_url,
    region_of,
    source_difference,
    source_of,
    translate_error,
)
from .times import DEFAULT_WINDOW, epoch, time_windows, to_delta

__all__ = ["fetch_xray", "fetch_xray_summaries", "summaries_frame", "SUMMARIES_TABLE", "BATCH_MAX_IDS",
           "TIME_RANGE_TYPES"]

#: how long X-Ray keeps a trace (30 days, as noted in tracekit.aws.times; not re-verified against an AWS page here)
XRAY_RETENTION = pd.Timedelta(days=30)
BATCH_MAX_IDS = 5  # API_BatchGetTraces: "TraceIds ... Maximum number of 5 items" (botocore does not enforce it)


def _warn_retention(function: str, windows: list[tuple[pd.Timestamp, pd.Timestamp]]) -> None:
    """Say that (part of) the range is older than X-Ray keeps traces: its answer there is empty whatever the traffic
    was (a range 400 days ago came back as 0 traces without a word, read as 'no traffic then')."""
    if not windows:
        return
    cutoff = pd.Timestamp.now(tz="UTC") - XRAY_RETENTION
    start, end = windows[0][0], windows[-1][1]
    if start >= cutoff:
        return
    days = f"{XRAY_RETENTION.days} days"
    if end <= cutoff:
        ago = (cutoff + XRAY_RETENTION - end).days
        said = (f"the whole range {start.isoformat()} .. {end.isoformat()} ended {ago:,} days ago, and X-Ray keeps "
                f"traces {days}: it holds none of that time now")
    else:
        said = (f"the part of the range before {cutoff.floor('s').isoformat()} ({(cutoff - start).floor('s')} of "
                f"{(end - start).floor('s')}) is older than the {days} X-Ray keeps traces: it holds none of that time")
    warnings.warn(f"{function}: {said}, so an empty answer there says nothing of the traffic (tracekit.aws.fetch."
                  "XRAY_RETENTION).", UserWarning, stacklevel=3)


# --------------------------------------------------------------------------------------------- summaries


TIME_RANGE_TYPES = ("TraceId", "Event", "Service")


def _xray_ids(trace_ids: Iterable[str] | str) -> list[str]:
    """X-Ray ids from X-Ray (``1-…-…``) or 32-hex (OTel / spans frame) ids, in order, once each."""
    if isinstance(trace_ids, pd.DataFrame):  # iterated as its column names: "not a trace id: 'trace_id'"
        raise ArgumentError("fetch_xray: trace_ids must be trace ids, got a DataFrame; pass its column "
                            "(spans['trace_id'])")
    if isinstance(trace_ids, str):
        trace_ids = [trace_ids]
    return list(dict.fromkeys(trace_id_to_xray(normalize_trace_id(t)) for t in trace_ids))


def _check_query(filter_expression: str | None, time_range_type: str | None,
                 sampling_strategy: Any = None) -> str | None:
    """Validate before any request; an empty or blank filter means no filter."""
    if sampling_strategy is not None and not isinstance(sampling_strategy, Mapping):  # "PartialScan": a ValueError
        raise ArgumentError(f"sampling_strategy must be a dict such as {{'Name': 'PartialScan', 'Value': 0.1}}, not "
                            f"{type(sampling_strategy).__name__} {sampling_strategy!r:.80}")
    if time_range_type is not None and time_range_type not in TIME_RANGE_TYPES:
        raise ArgumentError(f"time_range_type must be one of {', '.join(TIME_RANGE_TYPES)}, not {time_range_type!r}")
    if filter_expression is not None and not isinstance(filter_expression, str):
        raise ArgumentError(f"filter_expression must be a string, not {type(filter_expression).__name__}")
    return filter_expression if filter_expression and filter_expression.strip() else None


def _summary_kwargs(s: pd.Timestamp, e: pd.Timestamp, *, filter_expression: str | None,
                    time_range_type: str | None, sampling: bool | None,
                    sampling_strategy: Mapping[str, Any] | None) -> dict[str, Any]:
    kw: dict[str, Any] = {"StartTime": s.to_pydatetime(warn=False), "EndTime": e.to_pydatetime(warn=False)}
    if time_range_type is not None:
        kw["TimeRangeType"] = time_range_type
    if sampling is not None:
        kw["Sampling"] = bool(sampling)
    if sampling_strategy is not None:
        kw["SamplingStrategy"] = dict(sampling_strategy)
    if filter_expression is not None:  # never send FilterExpression unless asked (moto rejects even "")
        kw["FilterExpression"] = filter_expression
    return kw


#: a query window starting later than this after now is not asked: no trace has started yet (the slack covers SDK
#: hosts whose clocks run ahead). An end typed a year late (2027 for 2026) made 1,460 empty 6 h queries
FUTURE_SLACK = pd.Timedelta(minutes=15)


def _askable(windows: list[tuple[pd.Timestamp, pd.Timestamp]]) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """The query windows that start before now (+ ``FUTURE_SLACK``), in order."""
    limit = pd.Timestamp.now(tz="UTC") + FUTURE_SLACK
    return [w for w in windows if w[0] <= limit]


def _iter_summary_pages(client: Any, windows: list[tuple[pd.Timestamp, pd.Timestamp]], *,
                        cache_dir: Path | None, **query: Any) -> Iterator[tuple[int, int, dict]]:
    """(window index, page index, raw page) for every GetTraceSummaries page, each cached as it arrives."""
    paginator = client.get_paginator("get_trace_summaries")
    for wi, (s, e) in enumerate(_askable(windows)):
        kw = _summary_kwargs(s, e, **query)
        for pi, page in enumerate(follow_pages(paginator.paginate(**kw), operation="GetTraceSummaries")):
            raw = jsonable(page)
            if cache_dir is not None:
                atomic_write(cache_dir / "summaries" / f"w{wi:03d}-p{pi:04d}.summary", dump_json(raw))
            yield wi, pi, raw


# --------------------------------------------------------------------------------------------- fetch


@dataclass
class _Run:
    """Mutable bookkeeping of one fetch (internal; the public record is a plain dict in spans.attrs)."""

    pages: list[dict] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    fetched: set[str] = field(default_factory=set)
    unprocessed: set[str] = field(default_factory=set)
    segments: int = 0
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _chunks(ids: list[str], n: int) -> list[list[str]]:
    return [ids[i:i + n] for i in range(0, len(ids), n)]


def _repair_page(client: Any, path: Path, ids: list[str], run: _Run, why: str = "was cut short (not valid JSON)",
                 ) -> set[str]:
    """A cached page that is not whole JSON, or whose Documents do not parse (``why``): ask its readable trace
    ids again (once) and replace the file.

    Without this a resumed fetch re-asked those traces on every call and the final read failed on the file
    (a malformed page: its traces counted as fetched and were never asked again, the read failed on every call).
    Traces cut off before their id are not in the cache, so the fetch asks them like any other missing id.
    """
    if not ids:
        path.unlink()
        warnings.warn(f"cache page {str(path)!r} {why} and names no trace id to ask again; removed it, "
                      "its traces are fetched again", stacklevel=3)
        return set()
    merged: dict[str, Any] = {"Traces": [], "UnprocessedTraceIds": []}
    for chunk in _chunks(ids, BATCH_MAX_IDS):
        for page in follow_pages(client.get_paginator("batch_get_traces").paginate(TraceIds=chunk),
                                 operation="BatchGetTraces"):
            raw = jsonable(page)
            merged["Traces"] += raw.get("Traces") or []
            merged["UnprocessedTraceIds"] += raw.get("UnprocessedTraceIds") or []
            run.requests += 1
    try:
        nseg = check_page(merged, str(path))
    except TraceFormatError as exc:
        raise TraceFormatError(f"cache page {why} and asking its traces again gave a malformed answer "
                               f"({exc}); delete the file and call again", file=str(path)) from None
    atomic_write(path, dump_json(merged))
    run.segments += nseg
    run.files.append(path.name)
    got = {t["Id"] for t in merged["Traces"] if isinstance(t, dict) and t.get("Id") and t.get("Segments")}
    warnings.warn(f"cache page {str(path)!r} {why}; asked its {len(ids)} trace(s) again "
                  f"and replaced the file ({len(got)} fetched)", stacklevel=3)
    return got


def _asked_before_end(manifest: Mapping[str, Any], end: pd.Timestamp) -> bool:
    """Whether the cached summaries were asked before ``end``: traces of the range may have arrived since, so a
    resumed fetch asks the summaries again (a cache made during an incident kept its id list for ever after).
    A manifest without ``summaries_asked`` (older tracekit) is judged by its first run's start."""
    asked = manifest.get("summaries_asked")
    try:
        when = (pd.Timestamp(asked) if asked else
                pd.Timestamp(_dt.datetime.strptime(manifest["runs"][0]["started"], "%Y%m%dT%H%M%S%f")))
    except (KeyError, IndexError, TypeError, ValueError):
        return True  # not known: ask again rather than keep a list that may be short
    when = when.tz_localize("UTC") if when.tzinfo is None else when.tz_convert("UTC")
    return bool(when < end)


def fetch_xray(start: Any = None, end: Any = None, *, trace_ids: Iterable[str] | None = None,
               filter_expression: str | None = None, time_range_type: str | None = None,
               sampling: bool | None = None, sampling_strategy: Mapping[str, Any] | None = None,
               window: Any = DEFAULT_WINDOW, max_traces: int | None = None,
               client: Any = None, session: Any = None, region: str | None = None, profile: str | None = None,
               endpoint_url: str | None = None, cache_dir: str | os.PathLike | None = None,
               max_workers: int = 4, max_attempts: int = 8, unprocessed_retries: int = 3,
               backoff: float = 0.5, progress: bool = True, sleep: Any = time.sleep) -> pd.DataFrame:
    """Fetch every trace of a time range (or the given ``trace_ids``) from X-Ray into a spans DataFrame.

    Parameters
    ----------
    start, end : datetime, Timestamp, ISO string or epoch seconds
        The time range ``[start, end)``; naive times are UTC. Not used with ``trace_ids`` (a warning says so).
    trace_ids : iterable of str, optional
        Fetch these traces instead of a time range; X-Ray (``1-…``) or 32-hex ids, through
        :func:`tracekit.core.ids.normalize_trace_id`.
    filter_expression, time_range_type, sampling, sampling_strategy
        ``GetTraceSummaries`` options (``time_range_type``: "TraceId" | "Event" | "Service"); a blank filter is
        no filter.
    window : str or Timedelta
        Longest time window per ``GetTraceSummaries`` query (default 6 h); a window that starts more than
        15 minutes after now is not asked.
    max_traces : int, optional
        At most this many traces.
    client, session, region, profile, endpoint_url
        AWS access: an injected boto3 ``client`` (used as is), or a ``session``, or ``region``/``profile``
        (+ ``endpoint_url``, whose password and query values never appear in messages or the cache).
    cache_dir : path, optional
        Keeps every raw response; a second call with the same query resumes from it, re-asking once the
        traces of a page found cut short (with a warning naming the file). Summaries cached before ``end``
        had passed are asked again (traces listed since are fetched too); after that the cached list is used.
        A trace cached while a segment or subsegment was still in progress is asked again on every call until
        it has none or X-Ray no longer keeps it (30 days after the time in its id); its newer copy replaces the
        old one in the cache. One cache holds one source's traces:
        a call whose region, endpoint or account (asked of STS GetCallerIdentity, one call, for a client made
        here; else a hash of a long-term access key id, and the profile name) differs from the cache's is a
        TraceKitError naming what differs. No key or secret is stored.
    max_workers : int
        Parallel ``BatchGetTraces`` calls (one shared client).
    max_attempts : int
        botocore's adaptive retry budget of made clients.
    unprocessed_retries, backoff, sleep
        How often and how long to wait before re-asking ``UnprocessedTraceIds`` (``sleep`` waits; tests pass
        a recorder). The default wait ends at once when another chunk fails or on Ctrl-C: nothing is re-asked
        after that.
    progress : bool
        A tqdm progress bar over the traces.

    Returns
    -------
    pandas.DataFrame
        The spans of :func:`tracekit.read_xray`; ``attrs["xray_fetch"]`` records what was asked (time range,
        filter, region, windows) and what came back (trace ids asked/fetched/unprocessed/missing, segment
        and request counts, cache files, repaired cache files, ``in_progress_ids``: the traces still holding a
        span in progress, ``refetched_in_progress``: cached traces asked again because they were in progress);
        ``["partial"]`` is False (True only on the
        ``err.partial`` of a failed fetch). Traces asked and not fetched (still unprocessed after
        ``unprocessed_retries`` re-asks, or neither returned nor listed unprocessed) are said by one ``UserWarning``
        (``tracekit.aws.fetch.NotFetchedWarning``).

    Raises
    ------
    tracekit.errors.ArgumentError
        Bad arguments, before any request.
    XRayFetchError
        AWS failed (subclasses for credentials, permissions, region, throttling, connection, request).
        Without ``cache_dir``, what was fetched before the failure is not lost: ``err.partial`` holds its spans
        (``attrs["xray_fetch"]["partial"]`` True, ``["got"]["not_fetched_ids"]``) and ``err.not_fetched`` the
        X-Ray ids asked and not fetched; the message says how many. With ``cache_dir`` the pages are on disk.
    tracekit.errors.TraceFormatError
        A malformed response (the page is kept in the cache first).
    FetchInterrupted
        Ctrl-C without ``cache_dir`` (still a ``KeyboardInterrupt``): ``err.partial`` holds the spans fetched before
        it and ``err.not_fetched`` the ids not fetched, as for a failure. With ``cache_dir`` the plain
        ``KeyboardInterrupt`` (the pages are on disk; a second call resumes).

    Examples
    --------
    With a boto3 client whose answers are stubbed (a real one would call AWS):

    >>> import boto3
    >>> from botocore.stub import Stubber
    >>> from tracekit.aws import fetch_xray
    >>> client = boto3.client("xray", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    >>> tid = "1-5759e988-bd862e3fe1be46a994272793"
    >>> doc = ('{"id": "53995c3f42cd8ad8", "name": "checkout", "trace_id": "%s", '
    ...        '"start_time": 1700000000.5, "end_time": 1700000000.75}' % tid)
    >>> with Stubber(client) as stub:
    ...     stub.add_response("batch_get_traces", {"Traces": [{"Id": tid, "Segments": [
    ...         {"Id": "53995c3f42cd8ad8", "Document": doc}]}]}, {"TraceIds": [tid]})
    ...     spans = fetch_xray(trace_ids=[tid], client=client, progress=False)
    >>> spans[["trace_id", "service", "duration_ms"]].values.tolist()
    [['5759e988bd862e3fe1be46a994272793', 'checkout', 250.0]]
    >>> spans.attrs["xray_fetch"]["got"]["traces"]
    1

    Bad arguments fail before any request:

    >>> fetch_xray("2026-11-20T10:00Z", "2026-11-20T09:00Z", client=client)
    Traceback (most recent call last):
    ...
    tracekit.errors.ArgumentError: end (2026-11-20T09:00:00+00:00) must be after start (2026-11-20T10:00:00+00:00)
    """
    if trace_ids is None:
        windows = time_windows(start, end, window=window)
    else:
        windows = []
        trace_ids = _xray_ids(trace_ids)
        # the traces asked for are fetched whole, whatever their time: a range or filter given beside them was
        # ignored without a word (fetch_xray(start, end, trace_ids=…) read as "these traces, within that range")
        unused = [n for n, v in (("start", start), ("end", end), ("filter_expression", filter_expression),
                                 ("time_range_type", time_range_type), ("sampling", sampling),
                                 ("sampling_strategy", sampling_strategy)) if v is not None]
        if unused:
            warnings.warn(f"fetch_xray: {', '.join(unused)} not used with trace_ids: the traces asked for are fetched "
                          "whole (BatchGetTraces), whatever their time", UserWarning, stacklevel=2)
    filter_expression = _check_query(filter_expression, time_range_type, sampling_strategy)
    # whole numbers, said before any request ("3" or 2.5 was a bare TypeError after the summaries were paged)
    max_traces = count_arg(max_traces, "max_traces", "fetch_xray", allow_none=True)
    max_workers = count_arg(max_workers, "max_workers", "fetch_xray", minimum=1)
    max_attempts = count_arg(max_attempts, "max_attempts", "fetch_xray")
    unprocessed_retries = count_arg(unprocessed_retries, "unprocessed_retries", "fetch_xray")
    backoff = number_arg(backoff, "backoff", "fetch_xray", low=0)
    _warn_retention("fetch_xray", windows)  # (no windows with trace_ids)
    if cache_dir is not None and not isinstance(cache_dir, (str, os.PathLike)):  # 5: a bare TypeError
        raise ArgumentError(f"fetch_xray: cache_dir must be a folder path, got {type(cache_dir).__name__} "
                            f"{cache_dir!r:.80}")
    made = client is None
    client = make_client("xray", client=client, session=session, region=region, profile=profile,
                          endpoint_url=endpoint_url, max_attempts=max_attempts, pool=max_workers)
    region = region or region_of(client)
    cdir = Path(cache_dir) if cache_dir is not None else None
    # which account, endpoint and credentials the traces come from: one cache holds one source's traces (two
    # profiles of two accounts shared the cached traces of one query); the account is asked of STS only for a
    # cache and a client made here, never stored with a key or secret
    source = source_of(client, profile=profile or getattr(session, "profile_name", None),
                       endpoint_url=endpoint_url, ask_account=made and cdir is not None) if cdir is not None else None
    query = {
        "start": windows[0][0].isoformat() if windows else None,
        "end": windows[-1][1].isoformat() if windows else None,
        "filter_expression": filter_expression, "time_range_type": time_range_type, "sampling": sampling,
        "sampling_strategy": dict(sampling_strategy) if sampling_strategy else None,
        "window_seconds": to_delta(window).total_seconds() if windows else None,
        "trace_ids": sorted(set(trace_ids)) if trace_ids is not None else None,
        "max_traces": max_traces, "region": region, "endpoint_url": redact_url(endpoint_url),
    }
    manifest: dict[str, Any] = {"tracekit_fetch": 1, "query": query, "runs": [], "summaries_complete": False,
                                "trace_ids": []}
    if cdir is not None:
        cdir.mkdir(parents=True, exist_ok=True)
        old = read_manifest(cdir)
        if old is not None:
            if old.get("query") != query:
                before = old.get("query") if isinstance(old.get("query"), dict) else {}
                said = "; ".join(f"{k} {before.get(k)!r} there, {query.get(k)!r} now"
                                 for k in [*query, *(k for k in before if k not in query)]
                                 if before.get(k) != query.get(k))
                raise TraceKitError(f"{str(cdir)!r} holds a different fetch ({said}); give another cache_dir so one "
                                    "directory always holds one query")
            diff = source_difference(old["source"], source) if isinstance(old.get("source"), dict) else None
            if diff is not None:
                raise TraceKitError(f"{str(cdir)!r} holds the traces of another source ({diff}); give another "
                                    "cache_dir so one directory always holds one account's traces")
            manifest = old
            # what is known now and was not then (an account STS could not tell before) is kept
            source = {k: (v if v is not None else (old.get("source") or {}).get(k)) for k, v in source.items()}
        manifest["source"] = source
    runstamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    run_rec = {"started": runstamp, "status": "running"}
    manifest["runs"].append(run_rec)

    def save_manifest(**extra: Any) -> None:
        if cdir is not None:
            manifest.update(extra)
            atomic_write(cdir / MANIFEST_NAME, dump_json(manifest), durable=True)

    run = _Run()
    summaries = 0
    listed: list[int] = []  # while the summaries are paged: how many query windows were listed whole
    repaired: list[str] = []
    ids: list[str] = []  # the traces asked for, once known
    done: set[str] = set()
    refetch: set[str] = set()  # cached while in progress, asked again
    stale: dict[Path, set[str]] = {}  # old page -> its traces asked again (dropped from it when fetched anew)

    def result(partial: bool) -> pd.DataFrame:
        """The spans fetched (from the cache, or the pages of this run) with what was asked and what came back."""
        from ..io.readers import read_xray  # layer 1 reader: one parser for files and live data

        asked = list(ids)
        missing = sorted(set(asked) - run.fetched - run.unprocessed)
        with warnings.catch_warnings():  # the ids still unprocessed after the retries: said once, by _warn_not_fetched
            warnings.filterwarnings("ignore", message=r"read_xray: .* listed in UnprocessedTraceIds",
                                    category=TraceFormatWarning)
            # no trace came back (every id asked left unprocessed, or unknown to X-Ray): no spans, and the warning of
            # the ids not fetched says why; reading the empty pages said "malformed: Traces is empty" (session 57)
            if not run.fetched:
                spans = _empty()
            elif cdir is not None:
                spans = read_xray(cdir) if batch_files(cdir) else _empty()
            else:
                spans = read_xray(run.pages) if run.pages else _empty()
        info = {
            "asked": {**query, "windows": [[a.isoformat(), b.isoformat()] for a, b in _askable(windows)],
                      "trace_ids_asked": len(asked)},
            "got": {"summaries": summaries, "traces": len(run.fetched & set(asked)),
                    "segments_this_run": run.segments, "requests_this_run": run.requests,
                    "unprocessed_ids": sorted(run.unprocessed), "missing_ids": missing,
                    "resumed_from_cache": len(done & set(asked)),
                    "cache_dir": str(cdir) if cdir is not None else None, "cache_files": sorted(run.files),
                    "repaired_files": repaired,
                    "refetched_in_progress": len(refetch),
                    # traces with a segment or subsegment still in progress: a later call asks them again
                    "in_progress_ids": _in_progress_ids(spans)},
            "source": {k: v for k, v in (source or {}).items() if k != "key_sha256"} or None,
            # a fetch stopped by an error: these spans are the traces fetched before it (XRayFetchError.partial)
            "partial": partial,
        }
        if partial:
            info["got"]["not_fetched_ids"] = [i for i in asked if i not in run.fetched]
            if listed:  # it failed while listing: the windows after these were never asked
                info["got"]["windows_listed"] = listed[0]
        spans.attrs["xray_fetch"] = shared_attr(info)
        # the pages list ids that a later retry fetched; after the retries only these stayed unprocessed
        spans.attrs["unprocessed_trace_ids"] = shared_attr(sorted(run.unprocessed))
        return spans

    def with_partial(err: TraceKitError) -> TraceKitError:
        """Without a cache the traces fetched before ``err`` would be lost: ``err.partial`` holds their spans,
        ``err.not_fetched`` the X-Ray ids asked and not fetched, and the message says so."""
        if cdir is not None or not isinstance(err, XRayFetchError):
            return err
        try:
            err.partial = result(partial=True)
        except TraceKitError:  # the pages fetched do not read: nothing to hand back
            return err
        err.not_fetched = tuple(i for i in ids if i not in run.fetched)
        n = len(run.fetched & set(ids))
        if unlisted():  # the listing failed part-way: its ids are not_fetched, the time after them never asked
            err.args = (f"{err.args[0]} {unlisted('failed')} (pass cache_dir to resume instead).",)
        elif n:
            err.args = (f"{err.args[0]} {n} of {len(ids)} traces were fetched before it failed: err.partial holds "
                        f"their spans and err.not_fetched the {len(err.not_fetched)} others (pass cache_dir to "
                        "resume instead).",)
        return err

    def unlisted(how: str = "failed") -> str:
        """While the summaries were paged (``listed``) and something was listed: how far the listing got and which
        time it never asked; "" otherwise."""
        asked_windows = _askable(windows)
        if not listed or not (ids or listed[0]) or listed[0] >= len(asked_windows):
            return ""
        k = listed[0]
        return (f"GetTraceSummaries had listed {k} of {len(asked_windows)} query windows ({plural(len(ids), 'trace')}, "
                f"none fetched: err.not_fetched holds their ids) when it {how}; {asked_windows[k][0].isoformat()} .. "
                f"{asked_windows[-1][1].isoformat()} was never listed")

    def interrupted() -> FetchInterrupted:
        """Ctrl-C without a cache: what was fetched before it would be lost with the plain KeyboardInterrupt (all of
        a 20-minute fetch); the FetchInterrupted raised instead carries it."""
        asked = ids
        try:
            partial = result(partial=True) if run.pages else None
        except TraceKitError:  # the pages fetched do not read: nothing to hand back
            partial = None
        missing = tuple(i for i in asked if i not in run.fetched)
        n = len(run.fetched & set(asked))
        # interrupted while listing: how far the listing got (the ids listed were all "not fetched", the time after
        # them not even listed, and the message said only "0 of 3 traces were fetched before it")
        where = unlisted("was interrupted")
        return FetchInterrupted(
            f"fetch_xray interrupted: {n:,} of {plural(len(asked), 'trace')} were fetched before it; "
            f"err.partial holds their spans and err.not_fetched the {len(missing):,} others (in Jupyter: "
            "import sys; spans = sys.last_value.partial)." + (f" {where}." if where else "")
            + " Pass cache_dir to resume instead.",
            partial=partial, not_fetched=missing)

    try:
        save_manifest()
        # 1. which traces
        if trace_ids is not None:
            ids = list(dict.fromkeys(trace_ids))
        elif manifest.get("summaries_complete") and not _asked_before_end(manifest, windows[-1][1]):
            ids = list(manifest["trace_ids"])
        else:
            # the ids of summaries asked before the range was over come first, then the ones listed since
            ids = list(manifest.get("trace_ids") or [])
            seen: set[str] = set(ids)
            asked_at = _dt.datetime.now(_dt.UTC).isoformat()
            listed.append(0)
            for _wi, _pi, page in _iter_summary_pages(
                    client, windows, cache_dir=cdir, filter_expression=filter_expression,
                    time_range_type=time_range_type, sampling=sampling, sampling_strategy=sampling_strategy):
                run.requests += 1
                listed[0] = _wi + (0 if page.get("NextToken") else 1)
                for ts in page.get("TraceSummaries") or []:
                    summaries += 1
                    tid = ts.get("Id")
                    if tid and tid not in seen:
                        seen.add(tid)
                        ids.append(tid)
                if max_traces is not None and len(ids) >= max_traces:
                    break
            save_manifest(summaries_complete=True, trace_ids=ids, summaries_asked=asked_at)
            listed.clear()
        if max_traces is not None:
            ids = ids[:max_traces]
        if cdir is not None:
            scan = scan_cache(cdir)
            done = set(scan.trace_ids)
            for path, page_ids in scan.truncated.items():  # re-ask each cut page once, then it is whole again
                got = _repair_page(client, path, [i for i in page_ids if i not in done], run)
                run.fetched |= got
                repaired.append(path.name)
            for path, (page_ids, reason) in scan.malformed.items():  # a Document did not parse: the same, once
                got = _repair_page(client, path, [i for i in page_ids if i not in done], run,
                                   why=f"holds a malformed response ({reason})")
                run.fetched |= got
                repaired.append(path.name)
            # a trace cached while still in progress may have finished since: asked again, its old copy dropped
            # from the old page once a newer page holds it (before, it was 'done' and never asked again)
            # (a segment whose end never came, e.g. a crashed function, stays in progress: asked again until X-Ray
            # has dropped the trace, XRAY_RETENTION after the time in its id)
            retained = time.time() - XRAY_RETENTION.total_seconds()
            refetch = {i for i in scan.in_progress if i in done and _id_epoch(i) >= retained} & set(ids)
            done -= refetch
            for i in refetch:
                for path in scan.in_progress[i]:
                    stale.setdefault(path, set()).add(i)
        todo = [i for i in ids if i not in done and i not in run.fetched]
        run.fetched |= done & set(ids)

        # 2. the traces, ≤5 per call, bounded parallelism, one shared client
        bar = None
        if progress and todo:
            tqdm = require("tqdm.auto", "aws").tqdm
            bar = tqdm(total=len(todo), desc="X-Ray traces", unit="trace")

        # set by the first chunk that fails: a worker freed by a failed chunk took the next one before the caller
        # could cancel it (2 workers: 4 of 5 chunks ran their whole retry budget against a failing endpoint)
        stop = threading.Event()

        def one_chunk(ci_chunk: tuple[int, list[str]]) -> None:
            if stop.is_set():
                return
            try:
                _one_chunk(ci_chunk)
            except BaseException:
                stop.set()
                raise

        def _one_chunk(ci_chunk: tuple[int, list[str]]) -> None:
            ci, chunk = ci_chunk
            wanted = set(chunk)
            pending = list(chunk)
            attempt = 0
            while pending:
                unprocessed: list[str] = []
                paginator = client.get_paginator("batch_get_traces")
                for pi, page in enumerate(follow_pages(paginator.paginate(TraceIds=pending),
                                                       operation="BatchGetTraces")):
                    raw = jsonable(page)
                    name = f"batch-{runstamp}-{ci:05d}-a{attempt}-p{pi:03d}.json"
                    if cdir is not None:  # keep first, validate second: the evidence is never lost
                        atomic_write(cdir / name, dump_json(raw))
                    nseg = check_page(raw, str(cdir / name) if cdir is not None else name)
                    # a trace returned without a segment holds no span: not fetched (it was counted as fetched, the
                    # frame one trace short of attrs' count, and never asked again from a cache)
                    got = {t.get("Id") for t in raw.get("Traces") or [] if t.get("Id") and t.get("Segments")}
                    with run.lock:
                        run.requests += 1
                        run.pages.append(raw)
                        if cdir is not None:
                            run.files.append(name)
                        run.segments += nseg
                        new = (got & wanted) - run.fetched
                        run.fetched |= got
                        if cdir is not None and got & refetch:  # the newer copy is on disk: drop the old one
                            for path in [p for p, tids in stale.items() if tids & got]:
                                if path.exists():
                                    drop_traces(path, stale[path] & got)
                                stale[path] -= got
                    if bar is not None and new:
                        bar.update(len(new))
                    unprocessed += [u for u in raw.get("UnprocessedTraceIds") or [] if u in wanted]
                pending = [u for u in dict.fromkeys(unprocessed) if u not in run.fetched]
                if pending:
                    if attempt >= unprocessed_retries or stop.is_set():
                        with run.lock:
                            run.unprocessed.update(pending)
                        return
                    if sleep is time.sleep:  # (tests pass their own) a wait that ends when another chunk failed
                        stop.wait(backoff * (2 ** attempt))  # or the caller pressed Ctrl-C, not after the backoff
                    else:
                        sleep(backoff * (2 ** attempt))
                    if stop.is_set():
                        with run.lock:
                            run.unprocessed.update(pending)
                        return
                    attempt += 1

        chunks = list(enumerate(_chunks(todo, BATCH_MAX_IDS)))
        try:
            if max_workers == 1 or len(chunks) <= 1:
                for c in chunks:
                    one_chunk(c)
            else:
                ex = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="tracekit-xray")
                try:
                    futures = [ex.submit(one_chunk, c) for c in chunks]
                    for f in futures:
                        f.result()
                except BaseException:
                    # first failure or Ctrl-C: drop the chunks not started, wake the ones waiting to re-ask their
                    # unprocessed ids, let the requests under way finish (their pages are cached)
                    stop.set()
                    ex.shutdown(wait=True, cancel_futures=True)
                    raise
                ex.shutdown(wait=True)
        finally:
            if bar is not None:
                bar.close()
    except TraceFormatError:
        run_rec["status"] = "error: malformed response"
        save_manifest()
        raise
    except TraceKitError as exc:
        run_rec["status"] = "error"
        save_manifest()
        with_partial(exc)  # the same error, carrying what was fetched
        raise
    except Exception as exc:
        run_rec["status"] = f"error: {type(exc).__name__}"
        save_manifest()
        if is_botocore_error(exc):
            raise with_partial(translate_error(exc, client=client, cache_dir=cdir, region=region,
                                               endpoint_url=endpoint_url)) from None
        raise
    except BaseException as exc:  # KeyboardInterrupt: the cache is consistent, note the interruption
        run_rec["status"] = "interrupted"
        save_manifest()
        if cdir is None and isinstance(exc, KeyboardInterrupt) and not isinstance(exc, FetchInterrupted):
            raise interrupted() from exc
        raise

    kept = refetch - run.fetched  # asked again and not answered: the copy cached in progress stays
    run.fetched |= kept
    run.unprocessed -= kept
    run_rec.update(status="complete", finished=_dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%S%f"))
    save_manifest(fetched_ids=sorted(run.fetched & set(ids)), unprocessed_ids=sorted(run.unprocessed),
                  missing_ids=sorted(set(ids) - run.fetched - run.unprocessed))
    spans = result(partial=False)
    _warn_not_fetched(spans.attrs["xray_fetch"]["got"], len(ids), unprocessed_retries)
    return spans


class NotFetchedWarning(UserWarning):
    """Some traces asked of :func:`fetch_xray` were not fetched (unprocessed, or not returned); the command line
    says them in its own summary line instead."""


def _warn_not_fetched(got: Mapping[str, Any], asked: int, retries: int) -> None:
    """Say the traces asked and not fetched: the ones X-Ray still listed unprocessed after ``retries`` re-asks and the
    ones it neither returned nor listed (they were only in ``attrs``: 10 of 12 traces came back without a word)."""
    unprocessed, missing = list(got["unprocessed_ids"]), list(got["missing_ids"])
    if not unprocessed and not missing:
        return

    def named(ids: list[str]) -> str:
        return ", ".join(ids[:3]) + (f" and {len(ids) - 3:,} more" if len(ids) > 3 else "")

    parts = ([f"{plural(len(unprocessed), 'trace')} X-Ray still listed unprocessed after "
              f"{plural(retries, 're-ask')} ({named(unprocessed)}; call again for them)"] if unprocessed else [])
    parts += ([f"{plural(len(missing), 'trace')} X-Ray returned without a segment or not at all, nor listed "
               f"unprocessed ({named(missing)}; it may no longer keep them)"] if missing else [])
    warnings.warn(f"fetch_xray: {len(unprocessed) + len(missing):,} of {plural(asked, 'trace')} asked were not "
                  f"fetched: {'; '.join(parts)}. Their ids are in attrs['xray_fetch']['got']['unprocessed_ids'] and "
                  "['missing_ids'].", NotFetchedWarning, stacklevel=3)


def _id_epoch(xray_id: str) -> int:
    """The epoch seconds in an X-Ray trace id (``1-<8 hex seconds>-…``), the start of its request."""
    try:
        return int(xray_id.split("-")[1], 16)
    except (IndexError, ValueError):
        return 0


def _in_progress_ids(spans: pd.DataFrame) -> list[str]:
    """The X-Ray ids of the traces that hold a span still in progress."""
    if not len(spans):
        return []
    running = spans["in_progress"].fillna(False).to_numpy(dtype=bool)
    return sorted(trace_id_to_xray(t) for t in pd.unique(spans["trace_id"].to_numpy(dtype=object)[running]))


def _empty() -> pd.DataFrame:
    from ..schema import empty_spans

    return empty_spans()


# --------------------------------------------------------------------------------------------- summaries (public)

#: the columns of :func:`fetch_xray_summaries` (then one ``annotation.<key>`` column per annotation key)
SUMMARIES_TABLE = result_table("fetch_xray_summaries", "one row per X-Ray TraceSummary", [
    ('trace_id', 'string', '', '32-hex trace id (as in the spans frame)'),
    ('xray_trace_id', 'string', '', 'the X-Ray id 1-xxxxxxxx-…'),
    ('start', 'datetime64[ns, UTC]', '', 'StartTime'),
    ('duration_ms', 'float64', 'ms', "X-Ray's Duration: first segment start to last segment end "
                                     "(the trace extent, like trace_summary's extent_ms)"),
    ('response_time_ms', 'float64', 'ms', "X-Ray's ResponseTime: the root segment's duration "
                                          "(the request latency, like trace_summary's request_ms)"),
    ('has_fault', 'boolean', '', 'HasFault: some segment has a fault (5xx)'),
    ('has_error', 'boolean', '', 'HasError: some segment has an error (4xx)'),
    ('has_throttle', 'boolean', '', 'HasThrottle: some segment was throttled (429)'),
    ('is_partial', 'boolean', '', 'IsPartial: some segments are missing'),
    ('http_method', 'string', '', 'Http.HttpMethod'),
    ('http_url', 'string', '', 'Http.HttpURL'),
    ('http_status', 'Int64', '', 'Http.HttpStatus'),
    ('user_agent', 'string', '', 'Http.UserAgent'),
    ('client_ip', 'string', '', 'Http.ClientIp'),
    ('annotations', 'object', '', 'Annotations: key -> list of values (one per segment that set it)'),
    ('users', 'object', '', 'Users: user names (list)'),
    ('services', 'object', '', 'ServiceIds: names (list)'),
    ('service_types', 'object', '', 'ServiceIds: types (list)'),
    ('resource_arns', 'object', '', 'ResourceARNs (list)'),
    ('instance_ids', 'object', '', 'InstanceIds (list)'),
    ('availability_zones', 'object', '', 'AvailabilityZones (list)'),
    ('entry_point', 'string', '', 'EntryPoint.Name: the service that received the request'),
    ('fault_root_causes', 'object', '', 'services named in FaultRootCauses (list)'),
    ('error_root_causes', 'object', '', 'services named in ErrorRootCauses (list)'),
    ('response_time_root_causes', 'object', '', 'services named in ResponseTimeRootCauses (list)'),
    ('revision', 'Int64', '', 'Revision'),
    ('matched_event_time', 'datetime64[ns, UTC]', '', 'MatchedEventTime'),
    ('window', 'Int64', '', 'index of the query window that listed the trace'),
])
_SUMMARY_COLUMNS = SUMMARIES_TABLE.column_names


def _annotation_value(v: Mapping[str, Any]) -> Any:
    av = v.get("AnnotationValue") or {}
    for k in ("StringValue", "NumberValue", "BooleanValue"):
        if k in av:
            return av[k]
    return None


def _root_cause_services(causes: Any) -> list[str]:
    out: list[str] = []
    for c in causes or []:
        for s in c.get("Services") or []:
            if s.get("Name") and s["Name"] not in out:
                out.append(s["Name"])
    return out


def summaries_frame(pages: Iterable[Mapping[str, Any]], *, windows: Iterable[int] | None = None) -> pd.DataFrame:
    """GetTraceSummaries pages (raw JSON, as cached) → one row per TraceSummary, annotations flattened.

    Annotation values become columns ``annotation.<key>`` (the value, or a list when services disagree);
    users, service names and root-cause services are lists.

    Parameters
    ----------
    pages : iterable of dict
        Raw ``GetTraceSummaries`` pages.
    windows : iterable of int, optional
        The query window of each page.

    Returns
    -------
    pandas.DataFrame
        As :func:`fetch_xray_summaries` (without ``attrs``).

    Raises
    ------
    tracekit.errors.TraceFormatError
        A summary whose Id is not an X-Ray trace id.

    Examples
    --------

    >>> page = {"TraceSummaries": [{"Id": "1-59602603-23fc5b688855d396af79b496", "Duration": 3.232,
    ...          "ResponseTime": 3.232, "HasFault": False, "HasError": False, "HasThrottle": False,
    ...          "Users": [{"UserName": "5M388M1E"}],
    ...          "Annotations": {"Name": [{"AnnotationValue": {"StringValue": "Ola"}}]}}]}
    >>> row = summaries_frame([page]).iloc[0]
    >>> row["trace_id"], float(row["duration_ms"]), row["users"], row["annotation.Name"]
    ('5960260323fc5b688855d396af79b496', 3232.0, ['5M388M1E'], 'Ola')
    """
    rows: list[dict[str, Any]] = []
    win_list = list(windows) if windows is not None else None
    for pi, page in enumerate(pages):
        for ts in page.get("TraceSummaries") or []:
            http = ts.get("Http") or {}
            services = ts.get("ServiceIds") or []
            row: dict[str, Any] = {
                "xray_trace_id": ts.get("Id"),
                "start": epoch(ts.get("StartTime")),
                "duration_ms": float(ts["Duration"]) * 1000 if ts.get("Duration") is not None else float("nan"),
                "response_time_ms": (float(ts["ResponseTime"]) * 1000 if ts.get("ResponseTime") is not None
                                     else float("nan")),
                "has_fault": ts.get("HasFault"), "has_error": ts.get("HasError"),
                "has_throttle": ts.get("HasThrottle"), "is_partial": ts.get("IsPartial"),
                "http_method": http.get("HttpMethod"), "http_url": http.get("HttpURL"),
                "http_status": http.get("HttpStatus"), "user_agent": http.get("UserAgent"),
                "client_ip": http.get("ClientIp"),
                "users": [u.get("UserName") for u in ts.get("Users") or [] if isinstance(u, dict)],
                "services": [s.get("Name") for s in services],
                "service_types": [s.get("Type") for s in services],
                "resource_arns": [r.get("ARN") for r in ts.get("ResourceARNs") or []],
                "instance_ids": [r.get("Id") for r in ts.get("InstanceIds") or []],
                "availability_zones": [r.get("Name") for r in ts.get("AvailabilityZones") or []],
                "entry_point": (ts.get("EntryPoint") or {}).get("Name"),
                "fault_root_causes": _root_cause_services(ts.get("FaultRootCauses")),
                "error_root_causes": _root_cause_services(ts.get("ErrorRootCauses")),
                "response_time_root_causes": _root_cause_services(ts.get("ResponseTimeRootCauses")),
                "revision": ts.get("Revision"), "matched_event_time": epoch(ts.get("MatchedEventTime")),
                "window": win_list[pi] if win_list is not None else pd.NA,
            }
            tid = ts.get("Id") or ""
            try:
                row["trace_id"] = xray_to_trace_id(tid)
            except Exception:
                raise TraceFormatError(f"TraceSummary Id {tid!r} is not an X-Ray trace id",
                                       record=f"page {pi}, Id {tid!r}") from None
            ann = ts.get("Annotations") or {}
            row["annotations"] = {k: [_annotation_value(v) for v in vals] for k, vals in ann.items()}
            for k, vals in row["annotations"].items():
                uniq = list(dict.fromkeys(vals))
                row[f"annotation.{k}"] = uniq[0] if len(uniq) == 1 else uniq
            rows.append(row)
    df = pd.DataFrame(rows)
    extra = sorted(c for c in df.columns if c.startswith("annotation."))
    for c in _SUMMARY_COLUMNS:
        if c not in df.columns:
            df[c] = pd.Series(dtype=object)
    df = df[_SUMMARY_COLUMNS + extra]
    if len(df):
        df = df.drop_duplicates("xray_trace_id", keep="first").reset_index(drop=True)
    for c in ("trace_id", "xray_trace_id", "http_method", "http_url", "user_agent", "client_ip", "entry_point"):
        df[c] = df[c].astype("string[pyarrow]")
    for c in ("has_fault", "has_error", "has_throttle", "is_partial"):
        df[c] = df[c].astype("boolean")
    df["http_status"] = pd.array(df["http_status"], dtype="Int64")
    df["revision"] = pd.array(df["revision"], dtype="Int64")
    df["window"] = pd.array(df["window"], dtype="Int64")
    for c in ("start", "matched_event_time"):
        df[c] = pd.to_datetime(df[c], utc=True).astype("datetime64[ns, UTC]")
    for c in ("duration_ms", "response_time_ms"):
        df[c] = df[c].astype("float64")
    return df


def fetch_xray_summaries(start: Any, end: Any, *, filter_expression: str | None = None,
                         time_range_type: str | None = None, sampling: bool | None = None,
                         sampling_strategy: Mapping[str, Any] | None = None, window: Any = DEFAULT_WINDOW,
                         max_summaries: int | None = None, client: Any = None, session: Any = None,
                         region: str | None = None, profile: str | None = None, endpoint_url: str | None = None,
                         cache_dir: str | os.PathLike | None = None, max_attempts: int = 8) -> pd.DataFrame:
    """One row per X-Ray TraceSummary over ``[start, end)`` (paged, windowed, de-duplicated).

    Parameters
    ----------
    start, end : datetime, Timestamp, ISO string or epoch seconds
        The time range; naive times are UTC.
    filter_expression, time_range_type, sampling, sampling_strategy, window
        As for :func:`fetch_xray`.
    max_summaries : int, optional
        Stop after this many summaries.
    client, session, region, profile, endpoint_url
        AWS access, as for :func:`fetch_xray`.
    cache_dir : path, optional
        The raw pages are kept under ``cache_dir/summaries/``.
    max_attempts : int
        botocore's adaptive retry budget of a made client, as for :func:`fetch_xray` (a throttled call's error says
        to raise it).

    Returns
    -------
    pandas.DataFrame
        The columns declared in ``SUMMARIES_TABLE`` (``tracekit.core.results.RESULT_TABLES
        ["fetch_xray_summaries"]``): trace_id (32 hex) and xray_trace_id, start, duration_ms (X-Ray's
        Duration: the trace extent), response_time_ms (ResponseTime: the root segment, i.e. the request),
        has_fault/error/throttle, is_partial, http_*, annotations, users, services, resource ARNs, instance
        ids, AZs, entry point, root-cause services, revision, window; then one ``annotation.<key>`` column
        per annotation key. ``attrs["xray_summaries"]`` records the query and the
        ``TracesProcessedCount``/``ApproximateTime`` of each page; ``["partial"]`` is False (True only on the
        ``err.partial`` of a failed listing).

    Raises
    ------
    tracekit.errors.ArgumentError
        Bad arguments, before any request.
    XRayFetchError
        AWS failed. What was listed before the failure is not lost: ``err.partial`` holds those summaries
        (``attrs["xray_summaries"]["partial"]`` True, ``["windows_listed"]``); the message says which time was
        never listed.

    Examples
    --------
    >>> from tracekit.aws import fetch_xray_summaries
    >>> fetch_xray_summaries("2026-11-20T09:00Z", "2026-11-20T09:00Z", client=object())
    Traceback (most recent call last):
    ...
    tracekit.errors.ArgumentError: end (2026-11-20T09:00:00+00:00) must be after start (2026-11-20T09:00:00+00:00)
    """
    windows = time_windows(start, end, window=window)
    filter_expression = _check_query(filter_expression, time_range_type, sampling_strategy)
    if max_summaries is not None and (isinstance(max_summaries, bool) or not isinstance(max_summaries, int)
                                      or max_summaries < 0):
        raise ArgumentError(f"max_summaries must be a whole number >= 0, got {max_summaries!r}")
    _warn_retention("fetch_xray_summaries", windows)
    max_attempts = count_arg(max_attempts, "max_attempts", "fetch_xray_summaries")
    if cache_dir is not None and not isinstance(cache_dir, (str, os.PathLike)):
        raise ArgumentError(f"fetch_xray_summaries: cache_dir must be a folder path, got {type(cache_dir).__name__} "
                            f"{cache_dir!r:.80}")
    client = make_client("xray", client=client, session=session, region=region, profile=profile,
                          endpoint_url=endpoint_url, max_attempts=max_attempts)
    cdir = Path(cache_dir) if cache_dir is not None else None
    pages: list[dict] = []
    wins: list[int] = []
    meta: list[dict] = []
    seen: set = set()
    listed = 0  # query windows listed whole

    def frame(partial: bool) -> pd.DataFrame:
        df = summaries_frame(pages, windows=wins)
        if max_summaries is not None:
            df = df.iloc[:max_summaries].reset_index(drop=True)
        df.attrs["xray_summaries"] = shared_attr({
            "asked": {"start": windows[0][0].isoformat(), "end": windows[-1][1].isoformat(),
                      "filter_expression": filter_expression, "time_range_type": time_range_type,
                      "sampling": sampling, "region": region or region_of(client),
                      "windows": [[a.isoformat(), b.isoformat()] for a, b in _askable(windows)]},
            "pages": meta,
            # a listing stopped by an error: these are the summaries listed before it (XRayFetchError.partial)
            "partial": partial,
            **({"windows_listed": listed} if partial else {}),
        })
        return df

    try:
        for wi, pi, page in _iter_summary_pages(client, windows, cache_dir=cdir, filter_expression=filter_expression,
                                                time_range_type=time_range_type, sampling=sampling,
                                                sampling_strategy=sampling_strategy):
            listed = wi + (0 if page.get("NextToken") else 1)
            pages.append(page)
            wins.append(wi)
            meta.append({"window": wi, "page": pi, "TracesProcessedCount": page.get("TracesProcessedCount"),
                         "ApproximateTime": page.get("ApproximateTime")})
            # distinct traces: one listed in two windows (or pages) is one summary, as fetch_xray counts max_traces
            seen.update(ts.get("Id") for ts in page.get("TraceSummaries") or [] if isinstance(ts, dict) and ts.get("Id"))
            if max_summaries is not None and len(seen) >= max_summaries:
                break
    except Exception as exc:
        err = exc
        if is_botocore_error(exc):
            err = translate_error(exc, client=client, operation="GetTraceSummaries", region=region,
                                  endpoint_url=endpoint_url)
        if isinstance(err, XRayFetchError):
            # what was listed before the failure is not lost (fetch_xray's rule without a cache): err.partial
            try:
                err.partial = frame(partial=True)
            except TraceKitError:  # the pages listed do not read: nothing to hand back
                raise err from None
            asked = _askable(windows)
            if pages and listed < len(asked):
                err.args = (f"{err.args[0]} It had listed {listed} of {len(asked)} query windows "
                            f"({plural(len(err.partial), 'summary', 'summaries')}: err.partial holds them) when it "
                            f"failed; {asked[listed][0].isoformat()} .. {asked[-1][1].isoformat()} was never listed.",)
        if err is exc:
            raise
        raise err from None
    return frame(partial=False)

