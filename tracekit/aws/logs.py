"""Fetch the log records of given traces from CloudWatch Logs with boto3 (extra ``aws``).

:func:`fetch_logs` runs ``FilterLogEvents`` on each log group over ``[start, end]`` with a filter
pattern naming the trace ids (each id in its X-Ray form ``1-xxxxxxxx-…`` and its 32-hex form, as
quoted terms joined by ``?``, so one call covers up to :data:`IDS_PER_CALL` ids and stays under the
pattern's length limit), follows ``nextToken`` with botocore's paginator, and leaves throttling to
botocore's adaptive retries (``max_attempts``), as :func:`tracekit.fetch_xray` does for X-Ray. The
events are read by the logs reader (:func:`tracekit.read_logs`: Powertools / Lambda JSON and text
lines), the log group becoming ``resource["log.group"]`` (and ``service`` when the message names
none). A filter pattern matches text, so every record is checked after reading: a record is kept
when its trace id is one asked for; a record whose message holds an asked id but no id field (a
text line) gets that id. Errors are tracekit errors with credentials scrubbed.

>>> from tracekit.aws.logs import filter_patterns
>>> filter_patterns(["5759e988bd862e3fe1be46a994272793"])
['?"1-5759e988-bd862e3fe1be46a994272793" ?"5759e988bd862e3fe1be46a994272793"']
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..core.args import count_arg
from ..core.ids import normalize_trace_ids
from ..core.words import plural
from ..errors import ArgumentError, SkippedRecord, TraceFormatWarning
from ..io._sources import short
from ..io.logs import read_logs
from ..logs_schema import empty_logs
from ..schema import STRING, shared_attr, trace_id_to_xray
from .client import FetchInterrupted, XRayFetchError, follow_pages, is_botocore_error, make_client, translate_error
from .times import to_utc

__all__ = ["fetch_logs", "filter_patterns", "IDS_PER_CALL"]

#: trace ids per FilterLogEvents call (two quoted terms each: 10 ids ≈ 760 characters of the 1,024 allowed)
IDS_PER_CALL = 10


def filter_patterns(trace_ids: Iterable[str], per_call: int = IDS_PER_CALL) -> list[str]:
    """CloudWatch Logs filter patterns matching any of ``trace_ids`` (X-Ray or 32-hex form), one per call.

    Parameters
    ----------
    trace_ids : iterable of str
        Canonical 32-hex trace ids.
    per_call : int
        Ids per pattern.

    Returns
    -------
    list of str
        Patterns ``?"1-…" ?"…"`` of at most ``per_call`` ids each.

    Examples
    --------
    >>> len(filter_patterns([f"{i:032x}" for i in range(25)]))
    3
    """
    ids = list(trace_ids)
    out = []
    for i in range(0, len(ids), per_call):
        out.append(" ".join(f'?"{x}"' for t in ids[i:i + per_call] for x in (trace_id_to_xray(t), t)))
    return out


def fetch_logs(trace_ids: str | Iterable[str], start: Any, end: Any, *, log_groups: str | Iterable[str],
               client: Any = None, session: Any = None, region: str | None = None, profile: str | None = None,
               endpoint_url: str | None = None, max_attempts: int = 8, page_size: int | None = None) -> pd.DataFrame:
    """The CloudWatch Logs records of the given traces, as a logs frame.

    Parameters
    ----------
    trace_ids : str or iterable of str
        Trace ids, 32 hex digits or X-Ray ``1-xxxxxxxx-…`` (asked once each, e.g. a spans frame's ``trace_id``).
    start, end : datetime, Timestamp, ISO string or epoch seconds
        The time range searched (UTC; CloudWatch's resolution is the millisecond); by position or
        by keyword, as in every ``fetch_*``.
    log_groups : str or iterable of str
        The log groups to search (e.g. ``/aws/lambda/checkout``).
    client, session, region, profile, endpoint_url : optional
        A ``logs`` boto3 client, or how to make one (:func:`tracekit.aws.client.make_client`).
    max_attempts : int, default 8
        botocore's retry budget per call (adaptive mode: throttling is retried with backoff).
    page_size : int, optional
        Events per FilterLogEvents page (``limit``; AWS's default when None).

    Returns
    -------
    DataFrame
        A logs frame (``source`` ``"cloudwatch"``), records in log-group order then time order,
        only those of the asked traces. ``attrs["calls"]`` counts the FilterLogEvents pages read;
        ``attrs["partial"]`` is False (True only on the ``err.partial`` of a failed fetch).

    Raises
    ------
    ArgumentError
        No log group, a bad trace id, or ``end`` before ``start``.
    XRayFetchError
        AWS refused or failed (a subclass says why: credentials, permission, throttling,
        connection), credentials scrubbed from the message. What the pages before the failure held is
        not lost: ``err.partial`` is their logs frame (the records of the asked traces, ``attrs["partial"]``
        True) and ``err.not_fetched`` the trace ids not searched in every log group; the message says how many.
    FetchInterrupted
        Ctrl-C (a ``KeyboardInterrupt``): ``err.partial`` and ``err.not_fetched`` as above.

    Examples
    --------
    >>> fetch_logs([], "2024-01-01", "2024-01-02", log_groups="/aws/lambda/x").shape[0]
    0
    """
    if isinstance(trace_ids, pd.DataFrame):  # iterated as its column names: "not a trace id: 'trace_id'"
        raise ArgumentError("fetch_logs: trace_ids must be trace ids, got a DataFrame; pass its column "
                            "(spans['trace_id'])")
    # once each: a spans frame's trace_id column names a trace once per span (50 spans of one trace were 5 calls)
    ids = list(dict.fromkeys(normalize_trace_ids(trace_ids)))
    if not isinstance(log_groups, (str, Iterable)) or isinstance(log_groups, (bytes, Mapping)):  # None: TypeError
        raise ArgumentError(f"fetch_logs: log_groups must name one or more log groups, got {log_groups!r:.80}")
    groups = [log_groups] if isinstance(log_groups, str) else list(log_groups)
    if not groups or not all(isinstance(g, str) and g for g in groups):
        raise ArgumentError(f"fetch_logs: log_groups must name one or more log groups, got {log_groups!r}")
    t0, t1 = to_utc(start, "start"), to_utc(end, "end")
    if t1 < t0:
        raise ArgumentError(f"fetch_logs: end {t1} is before start {t0}")
    if page_size is not None and (type(page_size) is not int or not 1 <= page_size <= 10_000):
        raise ArgumentError(f"fetch_logs: page_size must be an integer from 1 to 10,000 (FilterLogEvents' limit), "
                            f"got {page_size!r}")
    max_attempts = count_arg(max_attempts, "max_attempts", "fetch_logs")
    if not ids:  # nothing to ask: the attrs every fetch_logs frame has (they were missing: a KeyError for a reader)
        df = empty_logs()
        df.attrs.update(calls=0, partial=False, skipped=shared_attr([]))
        return df
    client = make_client("logs", client=client, session=session, region=region, profile=profile,
                         endpoint_url=endpoint_url, max_attempts=max_attempts)
    wanted = set(ids)
    frames: list[pd.DataFrame] = []
    frame_group: list[int] = []  # the log group (its place in log_groups) of each frame
    calls = 0
    ms0, ms1 = int(t0.value // 1_000_000), int(t1.value // 1_000_000)
    # each pattern with its ids, paired by construction (finding a pattern's ids by searching it for every id cost
    # ids² / IDS_PER_CALL substring tests per log group: 108 s for 20,000 ids before the first request)
    chunks = [ids[i:i + IDS_PER_CALL] for i in range(0, len(ids), IDS_PER_CALL)]
    asks = [(filter_patterns(chunk)[0], chunk) for chunk in chunks]
    searched = 0  # (log group, chunk) searches completed, in the order they are made
    try:
        for g, group in enumerate(groups):
            for pattern, chunk in asks:
                try:
                    pages = client.get_paginator("filter_log_events").paginate(
                        logGroupName=group, startTime=ms0, endTime=ms1, filterPattern=pattern,
                        **({"PaginationConfig": {"PageSize": int(page_size)}} if page_size else {}))
                    for page in follow_pages(pages, operation="FilterLogEvents", token="nextToken"):
                        calls += 1
                        events = page.get("events") or []
                        if events:
                            frames.append(_read_page(events, group, chunk, calls))
                            frame_group.append(g)
                except Exception as exc:
                    if is_botocore_error(exc):
                        # named: AWS's "The specified log group does not exist." does not say which of the groups
                        raise translate_error(exc, client=client, operation="FilterLogEvents", region=region,
                                              endpoint_url=endpoint_url, where=f"for log group {group!r}") from None
                    raise
                searched += 1
    except (XRayFetchError, KeyboardInterrupt) as err:
        # what the pages before the failure (or Ctrl-C) held is not lost (fetch_xray's rule without a cache):
        # err.partial holds those records, err.not_fetched the ids whose search did not finish in every log group
        done = [chunk for _, chunk in asks] * len(groups)
        left = {t for chunk in done[searched:] for t in chunk}
        partial = _records(frames, frame_group, wanted, calls)
        partial.attrs["partial"] = True
        not_fetched = tuple(t for t in ids if t in left)
        read = (f"fetch_logs read {plural(calls, 'page')}: err.partial holds their "
                f"{plural(len(partial), 'record')} of the traces asked, and err.not_fetched the {len(left):,} of "
                f"{plural(len(ids), 'trace id')} not searched in every log group")
        if isinstance(err, KeyboardInterrupt):
            if isinstance(err, FetchInterrupted):
                raise
            raise FetchInterrupted(f"fetch_logs interrupted: before it, {read} (in Jupyter: import sys; "
                                   "logs = sys.last_value.partial).", partial=partial, not_fetched=not_fetched) from err
        err.partial, err.not_fetched = partial, not_fetched
        err.args = (f"{err.args[0]} Before it failed, {read}.",)
        raise
    df = _records(frames, frame_group, wanted, calls)
    df.attrs["partial"] = False
    skipped = df.attrs["skipped"]
    if skipped:  # said once for the whole fetch, naming the log group and the page (read_logs' own warnings are not)
        first = skipped[0]
        warnings.warn(f"fetch_logs skipped {plural(len(skipped), 'bad event')}; first: {first.file}, {first.record}: "
                      f"{first.reason} (all are listed in df.attrs['skipped'])", TraceFormatWarning, stacklevel=2)
    return df


def _records(frames: list[pd.DataFrame], frame_group: list[int], wanted: set[str], calls: int) -> pd.DataFrame:
    """The logs frame of the pages read (``frames``, each of the log group ``frame_group`` names): the records of the
    traces ``wanted``, in log-group order then time order, each event once; ``attrs["calls"]`` the pages read."""
    df = pd.concat(frames, ignore_index=True) if frames else empty_logs()
    asked = df["trace_id"].isin(wanted).fillna(False).to_numpy(dtype=bool)
    # log-group order then time order: each call's pages are in time order, but the ids are asked IDS_PER_CALL at a
    # time, so a group's records came call after call (12 ids: the 11th and 12th ids' records after all others)
    in_group = np.repeat(np.asarray(frame_group, dtype=np.int64), [len(f) for f in frames])[asked]
    df = df[asked].reset_index(drop=True)
    df = df.iloc[np.lexsort((df["time"].to_numpy(dtype="datetime64[ns]").view(np.int64), in_group))].reset_index(drop=True)
    # one event may match the patterns of two chunks only if it names two traces: keep it once — by its eventId
    # (two events with the same time, text and stream are two events), by time, text and stream when it has none
    ev = df["attributes"].map(lambda a: a.get("log.event_id")).astype(object)
    has = ev.notna().to_numpy()
    key = pd.DataFrame({c: np.where(has, "", df[c].astype(str).to_numpy()) for c in ("time", "body", "trace_id")})
    key["stream"] = np.where(has, "", df["resource"].map(lambda r: str(r.get("log.stream"))).to_numpy())
    key["group"] = df["resource"].map(lambda r: str(r.get("log.group"))).to_numpy()
    key["event"] = np.where(has, ev.astype(str).to_numpy(), "")
    df = df.loc[~key.duplicated().to_numpy()].reset_index(drop=True)
    df.attrs["calls"] = calls
    df.attrs["skipped"] = shared_attr([s for f in frames for s in f.attrs.get("skipped", ())])
    return df


def _read_page(events: Any, group: str, chunk: list[str], page: int) -> pd.DataFrame:
    """One page of events (the ``page``-th FilterLogEvents answer) → logs; a record with no trace id whose message
    holds one asked id gets it. A bad event is skipped and listed in ``attrs["skipped"]`` as the log group's
    (``FilterLogEvents page 3, events[0]``); fetch_logs says them once."""
    where = f"FilterLogEvents page {page}"
    if type(events) is not list:  # a malformed answer: no event of it can be read
        df = empty_logs()
        df.attrs["skipped"] = shared_attr([SkippedRecord(group, where, f"events must be a list of log events, got "
                                                                      f"{short(events)}")])
        return df
    with warnings.catch_warnings():  # fetch_logs warns once, naming the log group and the page
        warnings.simplefilter("ignore", TraceFormatWarning)
        df = read_logs({"logGroup": group, "logEvents": events}, errors="skip")
        skipped = [SkippedRecord(group, f"{where}, {s.record.replace('logEvents', 'events', 1)}" if s.record else where,
                                 s.reason) for s in df.attrs.get("skipped", ())]
        if len(df) != len(events):  # a record was skipped (and listed): read the page one event at a time so that
            # rows stay paired with their events for the fill below
            per = [read_logs({"logGroup": group, "logEvents": [ev]}, errors="skip") for ev in events]
            events = [ev for ev, p in zip(events, per, strict=True) if len(p) == 1]
            df = pd.concat([p for p in per if len(p) == 1], ignore_index=True) if events else per[0]
    df.attrs["skipped"] = shared_attr(skipped)
    if len(df) == len(events) and df["trace_id"].isna().any():
        forms = [(t, (t, trace_id_to_xray(t))) for t in chunk]
        fill = []
        for ev, has in zip(events, df["trace_id"].notna().to_numpy(), strict=True):
            msg = ev.get("message") if not has else None
            hit = [t for t, fs in forms if isinstance(msg, str) and any(f in msg for f in fs)] if msg else []
            fill.append(hit[0] if len(hit) == 1 else None)
        got = pd.Series(pd.array(fill, dtype=STRING))
        df["trace_id"] = df["trace_id"].fillna(got)
    return df
