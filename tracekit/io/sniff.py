"""Read trace files of any supported format: sniff each document, dispatch, concatenate.

:func:`read` parses every file once and looks at each JSON document (each line of a JSON-lines
file, each element of a top-level JSON list):

* OTLP/JSON — an object with ``resourceSpans``, or Jaeger api_v3's ``{"result": …}`` — goes to
  the OTLP reader (:func:`tracekit.read_otlp`);
* AWS X-Ray — a ``BatchGetTraces`` response (``Traces``), a trace (``Segments``), a PutTraceSegments
  body (``TraceSegmentDocuments``), a segment document (``trace_id``, or ``id`` with ``start_time``/``end_time``/``in_progress``/``name``)
  or a segment document as a JSON string — goes to the X-Ray reader (:func:`tracekit.read_xray`);
* another signal tracekit reads — an application's JSON log line (a message with a level, a time or a trace or span
  id: :func:`tracekit.io._sources.is_log_record`), also one carrying ``id`` + ``name`` for joining, as Powertools
  and structlog lines do (it is no segment: a segment has ``id``, ``name`` and ``start_time``), OTLP logs/metrics,
  CloudWatch logs/metrics — is listed in
  ``df.attrs["ignored"]`` (``tk.read_logs`` / ``tk.read_metrics`` read it), not read;
* anything else is a :class:`~tracekit.errors.TraceFormatError` naming the file and the record
  and listing the supported formats.

Mixed inputs (files of both formats, or both formats in one file) give one frame. Rows come
file by file in input order; within a file, OTLP spans come before X-Ray spans.
``errors="skip"`` behaves as in the two readers: every valid span is loaded, every skipped
record is listed in ``df.attrs["skipped"]`` (:func:`skipped_records` makes a table of them)
and one :class:`~tracekit.errors.TraceFormatWarning` is emitted.

A spans store (a Parquet file or a store directory written by :func:`tracekit.write_parquet`,
recognised by content) is reopened by :func:`tracekit.read_parquet`, the store's one reader;
stores and trace files may be mixed in one list (the frame is then concatenated in input order,
its container columns made plain; a span in two inputs, such as a store and the JSON it was made of, is kept once
by the readers' copies rule, :mod:`tracekit.io._copies`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..core.args import flag_arg
from ..errors import ArgumentError, SkippedRecord
from ..schema import STRING
from ._copies import without_copies
from ._progress import Progress
from ._sources import (
    MAX_LIST_NESTING,
    Document,
    close_read,
    display_name,
    is_pathlike,
    json_kind,
    known_shape,
    list_files,
    mixed_list_error,
    other_signal,
    repeated_keys,
    text_hook,
)
from .otlp import CHECKED_KEYS as OTLP_KEYS
from .otlp import (
    Collector,
    collected_frame,
    gc_paused,
    non_trace_otlp,
    otlp_documents,
    place_repeated_key,
    span_records,
)
from .xray import CHECKED_KEYS as XRAY_KEYS
from .xray import fine_times, is_daemon_header, is_segment_document, segment_records

__all__ = ["read", "skipped_records", "sniff"]

SUPPORTED = ("supported formats: OTLP/JSON (an object with 'resourceSpans', Jaeger api_v3 {\"result\": …}, "
             "collector JSON lines) and AWS X-Ray (BatchGetTraces {\"Traces\": […]}, a trace {\"Id\", "
             "\"Segments\"}, segment documents with 'trace_id' and 'start_time', a PutTraceSegments body "
             "{\"TraceSegmentDocuments\": […]})")

_XRAY_SEGMENT_KEYS = ("start_time", "end_time", "in_progress", "name")


def sniff(value: Any) -> Literal["otlp", "xray", "list", "unknown"]:
    """The format of one parsed JSON document.

    >>> sniff({"resourceSpans": []}), sniff({"result": {"resourceSpans": []}})
    ('otlp', 'otlp')
    >>> sniff({"Traces": []}), sniff({"trace_id": "1-5759e988-bd862e3fe1be46a994272793", "start_time": 1.0})
    ('xray', 'xray')
    >>> sniff([{"resourceSpans": []}]), sniff({"data": []})
    ('list', 'unknown')
    >>> sniff({"batches": []}), sniff({"resourceMetrics": []}), sniff({"format": "json", "version": 1})
    ('otlp', 'otlp', 'xray')
    >>> sniff({"level": "INFO", "message": "paid", "trace_id": "1-5759e988-bd862e3fe1be46a994272793"})  # a log line
    'unknown'
    """
    if type(value) is dict:
        if "resourceSpans" in value or "result" in value or "resource_spans" in value or "batches" in value \
                or non_trace_otlp(value) is not None:
            return "otlp"  # OTLP/JSON, proto field names, Tempo's {"batches"}; metrics/logs lines are listed, not read
        if is_daemon_header(value):
            return "xray"
        if "Traces" in value or "Segments" in value or "TraceSegmentDocuments" in value:
            return "xray"  # (a PutTraceSegments body: segment documents)
        # a log record (other_signal) unless it has a whole segment's shape: with its start_time, which every X-Ray
        # (sub)segment has (a log line carrying id, name and end_time is a log line)
        if not (is_segment_document(value) and "start_time" in value) and other_signal(value, "traces") is not None:
            return "unknown"  # a JSON log line carrying trace_id (or id + name): listed as a log record (read)
        if "trace_id" in value:
            return "xray"
        if "id" in value and any(k in value for k in _XRAY_SEGMENT_KEYS):
            return "xray"
        return "unknown"
    if type(value) is list:
        return "list"
    if type(value) is str:
        return "xray"  # a segment Document given as a JSON string
    return "unknown"


class _XRay:
    """The X-Ray reader's one-pass builder, created on first use (tracekit.io.xray)."""

    def __init__(self, errors: str, owned: bool):
        from . import xray

        self.b = xray._Builder(lenient=errors == "skip", owned=owned)

    def add(self, value: Any, file: str, line: int | None, label: str) -> None:
        self.b.add_value(value, file, line, label)


def _label(line: int | None, path: str) -> str:
    return ", ".join(x for x in (f"line {line}" if line is not None else "", path) if x)


def read(source: Any, *, errors: Literal["raise", "skip"] = "raise", progress: bool | None = None) -> pd.DataFrame:
    """Read OTLP/JSON and/or AWS X-Ray files into one spans DataFrame, sniffing each document.

    ``source``: a path, a list of paths, a directory, a file object, bytes, a JSON string or
    parsed JSON. ``errors``: ``"raise"`` or ``"skip"`` as in :func:`tracekit.read_otlp`.
    ``progress``: a ``tqdm`` bar over the bytes of the files read, advanced file by file
    (``None``: for big inputs in an interactive session; as the readers' ``progress``).

    Parameters
    ----------
    source : Any
        A path, a list of paths, a directory, a file object, bytes, a JSON string or parsed JSON.
    errors : Literal['raise', 'skip'], default 'raise'
        ``"raise"`` stops at the first bad record (:class:`~tracekit.errors.TraceFormatError`); ``"skip"`` loads every valid span and lists the rest in ``attrs["skipped"]``.

    Returns
    -------
    pandas.DataFrame
        Read OTLP/JSON and/or AWS X-Ray files into one spans DataFrame, sniffing each document.

    Examples
    --------
    >>> otlp = {"resourceSpans": [{"scopeSpans": [{"spans": [{
    ...     "traceId": "5759e988bd862e3fe1be46a994272793", "spanId": "eee19b7ec3c1b174",
    ...     "name": "GET /", "kind": 2, "startTimeUnixNano": "0", "endTimeUnixNano": "1000000"}]}]}]}
    >>> df = read([otlp])
    >>> df[["span_id", "kind", "duration_ms", "source"]]
                span_id    kind  duration_ms source
    0  eee19b7ec3c1b174  server          1.0   otlp
    >>> read({"data": []})
    Traceback (most recent call last):
    ...
    tracekit.errors.TraceFormatError: <object>: unknown trace format: a JSON object with keys data; supported formats: OTLP/JSON (an object with 'resourceSpans', Jaeger api_v3 {"result": …}, collector JSON lines) and AWS X-Ray (BatchGetTraces {"Traces": […]}, a trace {"Id", "Segments"}, segment documents with 'trace_id' and 'start_time', a PutTraceSegments body {"TraceSegmentDocuments": […]})
    """
    if errors not in ("raise", "skip"):
        raise ArgumentError(f"read: errors must be 'raise' or 'skip', not {errors!r}")
    mixed = mixed_list_error(source)
    if mixed is not None:
        raise mixed
    if progress is not None:
        flag_arg(progress, "progress", "read")
    stores = _stores(source)
    if stores is not None:
        return _read_with_stores(stores, errors, progress)
    owned = not (isinstance(source, dict) or (isinstance(source, (list, tuple))
                                              and not (source and all(is_pathlike(x) for x in source))))
    with repeated_keys():  # OTLP attribute lists that give a key twice: counted, said once (close_read)
        return _read(source, errors, progress, owned)


#: the keys either reader refuses when an object gives one twice with different values
_KEYS = OTLP_KEYS + XRAY_KEYS


def trace_records(value: Any) -> Iterator[dict]:
    """The objects of a parsed document of traces, OTLP or X-Ray, that a key given twice refuses: each object (or
    list element) of ``value`` is an OTLP document (``resourceSpans``, ``result``…:
    :func:`tracekit.io.otlp.span_records`) or X-Ray data (:func:`tracekit.io.xray.segment_records`), as
    :func:`sniff` tells them apart.

    >>> seg = {"id": "a", "trace_id": "1-5759e988-bd862e3fe1be46a994272793", "subsegments": [{"id": "b"}]}
    >>> [sorted(r) for r in trace_records([{"resourceSpans": []}, seg, {"message": "a log line"}])]
    [['resourceSpans'], ['id', 'subsegments', 'trace_id'], ['id']]
    """
    stack = [value]
    while stack:
        v = stack.pop()
        if type(v) is list:
            stack.extend(reversed(v))
        elif type(v) is dict:
            fmt = sniff(v)
            if fmt == "otlp":
                yield from span_records(v)
            elif fmt == "xray":
                yield from segment_records(v)


def _read(source: Any, errors: Literal["raise", "skip"], progress: bool | None, owned: bool) -> pd.DataFrame:
    otlp = Collector(errors)
    xray: _XRay | None = None
    files: dict[str, int] = {}

    def dispatch(value: Any, doc: Document, path: str) -> None:
        nonlocal xray
        fmt = sniff(value)
        if fmt == "otlp":
            otlp.value(value, doc.file, f"line {doc.line}" if doc.line is not None else None, doc.line,
                       f"{path}." if path else "")
        elif fmt == "xray":
            if xray is None:
                xray = _XRay(errors, owned)
            xray.add(value, doc.file, doc.line, _label(doc.line, path))
        elif fmt == "list":
            if path.count("[") >= MAX_LIST_NESTING:  # lists of lists of … documents: not trace data
                otlp.problem(f"lists nested more than {MAX_LIST_NESTING} deep: not trace data; {SUPPORTED}", doc.file,
                             _label(doc.line, path) or None)
                return
            if not value:  # named if nothing else loads (it said "no spans found", naming no file)
                otlp.empty_at("the JSON list is empty", doc.file, _label(doc.line, path) or None)
            for i, item in enumerate(value):
                dispatch(item, doc, f"{path}[{i}]")
        else:
            other = other_signal(value, "traces")
            if other is not None:  # an application's JSON log beside the traces: listed, as OTLP logs lines are
                otlp.ignore(f"{other}: not trace data", doc.file, _label(doc.line, path) or None)
                return
            what = (f"a JSON object with keys {', '.join(map(str, list(value)[:5])) or '(none)'}"
                    if type(value) is dict else f"a JSON {json_kind(value)}")
            shape = known_shape(value)
            if shape:
                what = f"{what}: {shape}"
            otlp.problem(f"unknown trace format: {what}; {SUPPORTED}", doc.file, _label(doc.line, path) or None)

    sizes = _file_sizes(source)
    fine: dict[float, int] = {}  # X-Ray times with 7+ decimals, from the text (read_xray's rule: xray._fine_times)
    with gc_paused(), text_hook(partial(fine_times, into=fine)), \
            Progress(sum(sizes.values()), _bar_name(source), progress) as bar:
        # (integers beyond 64 bits exact, as read_xray reads them; a key given twice looked for as both readers do)
        for doc in otlp_documents(source, otlp, _KEYS, trace_records):
            if doc.file not in files:
                if files:
                    bar.update(sizes.get(list(files)[-1], 0))  # the previous file is read
                files[doc.file] = len(files)
            dispatch(doc.value, doc, "")
            place_repeated_key(doc.value, doc.file, doc.line)
            del doc
        if files:
            bar.update(sizes.get(list(files)[-1], 0))
        frames = [collected_frame(otlp)]
        skipped: list[SkippedRecord] = list(otlp.skipped)
        unprocessed: tuple = ()
        if xray is not None:
            xray.b.exact_times.update(fine)
            frames.append(xray.b.frame())
            skipped += xray.b.skipped
            unprocessed = tuple(xray.b.unprocessed)
    frames = [f for f in frames if len(f)] or frames[:1]
    df = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    ignored = list(otlp.ignored) + (list(xray.b.ignored) if xray is not None else [])
    if not len(df) and not skipped:  # never 0 spans silently: name what was empty
        err = otlp.no_spans() if (otlp.empty is not None or otlp.ignored or xray is None) else xray.b.no_spans()
        if errors == "raise":
            raise err
        skipped.append(SkippedRecord.from_error(err))
    if len(frames) > 1 and len(files) > 1:
        order = df["source_file"].map(files).to_numpy(dtype=np.int64, na_value=len(files))
        df = df.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)
    df.attrs["unprocessed_trace_ids"] = unprocessed  # BatchGetTraces' UnprocessedTraceIds, as read_xray
    if xray is not None:  # a page with NextToken (attrs["truncated"]), traces with LimitExceeded, as read_xray
        xray.b.said(df, "read", stacklevel=3)
    else:
        df.attrs["limit_exceeded_trace_ids"] = ()
    df.attrs["copies_dropped"] = sum(int(f.attrs.get("copies_dropped", 0)) for f in frames)  # io._copies
    # ignored: records that are not trace data (metrics/logs lines, daemon headers)
    return close_read(df, skipped, ignored, "read skipped {records}", stacklevel=3, source=source)


def _file_sizes(source: Any) -> dict[str, int]:
    """Bytes of each file of a path source (by the name the readers give it), for the progress bar."""
    items = [source] if is_pathlike(source) else list(source) if isinstance(source, (list, tuple)) \
        and all(is_pathlike(x) for x in source) else []
    out: dict[str, int] = {}
    for x in items:
        p = Path(os.fspath(x))
        for f in (list_files(p) if p.is_dir() else [p] if p.is_file() else []):
            out[display_name(f)] = f.stat().st_size
    return out


def _bar_name(source: Any) -> str:
    return display_name(source) if is_pathlike(source) else "traces"


def _stores(source: Any) -> list[tuple[Any, bool]] | None:
    """``source`` as (path, is a store) pairs when it names at least one spans store, else None."""
    from .parquet import is_store

    if is_pathlike(source):
        items = [source]
    elif isinstance(source, (list, tuple)) and source and all(is_pathlike(x) for x in source):
        items = list(source)
    else:
        return None
    flags = [is_store(x) for x in items]
    return list(zip(items, flags, strict=False)) if any(flags) else None


def _read_with_stores(items: list[tuple[Any, bool]], errors: str, progress: bool | None = None) -> pd.DataFrame:
    from .parquet import read_parquet

    if all(flag for _, flag in items):
        return read_parquet([p for p, _ in items])
    frames: list[pd.DataFrame] = []
    for p, flag in items:  # in input order; trace files read one by one
        frames.append(read_parquet(p) if flag else read(p, errors=errors, progress=progress))  # type: ignore[arg-type]
    df = pd.concat(frames, ignore_index=True)
    for key in ("skipped", "ignored", "unprocessed_trace_ids", "limit_exceeded_trace_ids"):
        df.attrs[key] = tuple(x for f in frames for x in (f.attrs.get(key, ()) or ()))
    if any(f.attrs.get("truncated") for f in frames):
        df.attrs["truncated"] = True
    df.attrs["copies_dropped"] = sum(int(f.attrs.get("copies_dropped", 0)) for f in frames)
    return without_copies(df)  # a span in two inputs (a store and the JSON it was made of) once, as JSON copies


def skipped_records(spans: pd.DataFrame) -> pd.DataFrame:
    """The records a lenient read skipped, as a table: one row per record (file, record, reason).

    Parameters
    ----------
    spans : pandas.DataFrame
        A frame a reader returned with ``errors="skip"``.

    Returns
    -------
    pandas.DataFrame
        The records a lenient read skipped, as a table: one row per record (file, record, reason).

    Examples
    --------
    >>> import tracekit as tk
    >>> df = tk.empty_spans()
    >>> df.attrs["skipped"] = (tk.SkippedRecord("a.jsonl", "line 3", "line is not valid JSON"),)
    >>> skipped_records(df)
          file  record                  reason
    0  a.jsonl  line 3  line is not valid JSON
    >>> len(skipped_records(tk.empty_spans()))
    0
    """
    recs = spans.attrs.get("skipped", ()) or ()
    return pd.DataFrame({
        "file": pd.array([r.file for r in recs], dtype=STRING),
        "record": pd.array([r.record for r in recs], dtype=STRING),
        "reason": pd.array([r.reason for r in recs], dtype=STRING),
    })
