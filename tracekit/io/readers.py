"""The two trace readers' entry points: :func:`read_otlp` and :func:`read_xray`.

Each reader has a checked path (:mod:`tracekit.io.otlp`, :mod:`tracekit.io.xray`: every field
checked, every error named) and a typed fast path (:mod:`tracekit.io.otlp_fast`,
:mod:`tracekit.io.xray_fast`: msgspec Structs) that hands anything it does not cover to the checked
code. The entry points sit above both, so imports go one way: ``readers`` → ``*_fast`` → the checked
module (issue 28: the entry points used to live in the checked modules, which imported their fast
path back). The mapping of each format to the spans schema is documented in the checked modules.
"""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd

from ..core.args import flag_arg
from ..errors import ArgumentError
from ._sources import close_read, mixed_list_error, repeated_keys
from .otlp import Collector, collected_frame, finish_read, gc_paused
from .otlp_fast import read_into
from .xray import open_parts
from .xray_fast import add_value

__all__ = ["read_otlp", "read_xray"]

Errors = Literal["raise", "skip"]


def read_otlp(source: Any, *, errors: Errors = "raise", progress: bool | None = None) -> pd.DataFrame:
    """Read OTLP/JSON traces (TracesData, collector JSON lines, ``{"result": …}``, gzip).

    ``source`` is a path, a list of paths, a directory, a file object, bytes, a JSON string or
    parsed JSON. ``errors="raise"`` raises :class:`~tracekit.errors.TraceFormatError` naming the
    file, the line/record and what is wrong; ``errors="skip"`` loads every valid span and lists
    what it skipped in ``df.attrs["skipped"]`` (see the module docstring for the mapping). An attribute
    key given twice keeps its first value (the collector's rule); ``df.attrs["repeated_keys"]`` counts the lists
    whose values differed, and one warning names the first.
    ``progress``: a ``tqdm`` bar while reading (``None``: for big sources in an interactive
    session; needs tqdm). Files and bytes are decoded by the typed fast path
    (:mod:`tracekit.io.otlp_fast`), which hands anything it does not cover to the checked code.

    Parameters
    ----------
    source : Any
        A path, a list of paths, a directory, a file object, bytes, a JSON string or parsed JSON.
    errors : Errors, default 'raise'
        ``"raise"`` stops at the first bad record (:class:`~tracekit.errors.TraceFormatError`); ``"skip"`` loads every valid span and lists the rest in ``attrs["skipped"]``.
    progress : bool | None, default None
        Show a ``tqdm`` bar (``None``: for big inputs in an interactive session; needs tqdm).

    Returns
    -------
    pandas.DataFrame
        Read OTLP/JSON traces (TracesData, collector JSON lines, ``{"result": …}``, gzip).

    Examples
    --------
    >>> doc = {"resourceSpans": [{"resource": {"attributes": [
    ...     {"key": "service.name", "value": {"stringValue": "api"}}]},
    ...   "scopeSpans": [{"spans": [{"traceId": "5B8EFFF798038103D269B633813FC60C",
    ...     "spanId": "eee19b7ec3c1b174", "name": "GET /", "kind": 2,
    ...     "startTimeUnixNano": "1544712660000000000", "endTimeUnixNano": 1544712661000000001,
    ...     "attributes": [{"key": "http.response.status_code", "value": {"intValue": "503"}}],
    ...     "status": {"code": 2}}]}]}]}
    >>> df = read_otlp(doc)
    >>> row = df.iloc[0]
    >>> row.trace_id, row.service, row.kind, row.status, row.http_status, row.fault
    ('5b8efff798038103d269b633813fc60c', 'api', 'server', 'error', np.int64(503), np.True_)
    >>> row.end.value - row.start.value, row.duration_ms
    (1000000001, np.float64(1000.000001))
    """
    if errors not in ("raise", "skip"):
        raise ArgumentError(f"read_otlp: errors must be 'raise' or 'skip', not {errors!r}")
    mixed = mixed_list_error(source)
    if mixed is not None:
        raise mixed
    if progress is not None:
        flag_arg(progress, "progress", "read_otlp")
    c = Collector(errors)

    with repeated_keys(), gc_paused():  # OTLP attribute lists that give a key twice: counted, said once
        read_into(source, c, progress)
        df = collected_frame(c)
        return finish_read(c, df, source=source)


def read_xray(source: Any, *, errors: Literal["raise", "skip"] = "raise",
              progress: bool | None = None) -> pd.DataFrame:
    """Read X-Ray segment documents or BatchGetTraces output into a spans DataFrame.

    ``source``: a path, a list of paths, a directory (``*.json``, ``*.jsonl``, ``*.txt``,
    ``*.gz``), a file object, bytes, a JSON string or parsed JSON. ``errors="raise"`` (default)
    stops at the first bad record with a :class:`~tracekit.errors.TraceFormatError`;
    ``errors="skip"`` loads every valid span, lists each skipped record as a
    :class:`~tracekit.errors.SkippedRecord` in ``df.attrs["skipped"]`` (always set; ``()``
    when nothing was skipped) and emits one :class:`~tracekit.errors.TraceFormatWarning`.
    ``df.attrs["unprocessed_trace_ids"]`` lists BatchGetTraces' ``UnprocessedTraceIds``.
    ``progress``: a ``tqdm`` bar over the pages/traces (``None``: for big inputs in an interactive
    session; needs tqdm). The Documents of BatchGetTraces pages are decoded by the typed fast path
    (:mod:`tracekit.io.xray_fast`), which hands anything it does not cover to the checked walk.
    A segment or subsegment holding ``id``, ``trace_id``, ``parent_id``, ``start_time``, ``end_time`` or ``name``
    twice with different values is refused, naming the key (JSON parsers keep the last silently); when the fast
    path's counts say a Document may hold one, the traces counted with it (about 4,096 Documents of one page, or
    fewer) are walked again by the checked code, not the file or the source.

    Parameters
    ----------
    source : Any
        A path, a list of paths, a directory, a file object, bytes, a JSON string or parsed JSON.
    errors : Literal['raise', 'skip'], default 'raise'
        ``"raise"`` stops at the first bad record (:class:`~tracekit.errors.TraceFormatError`); ``"skip"`` loads every valid span and lists the rest in ``attrs["skipped"]``.
    progress : bool | None, default None
        Show a ``tqdm`` bar (``None``: for big inputs in an interactive session; needs tqdm).

    Returns
    -------
    pandas.DataFrame
        Read X-Ray segment documents or BatchGetTraces output into a spans DataFrame.

    Examples
    --------
    >>> import json, tracekit as tk
    >>> doc = {"trace_id": "1-5759e988-bd862e3fe1be46a994272793", "id": "53995c3f42cd8ad8",
    ...        "name": "api", "start_time": 1.5, "end_time": 1.75,
    ...        "http": {"response": {"status": 200}},
    ...        "subsegments": [{"id": "0123456789abcdef", "name": "DynamoDB", "namespace": "aws",
    ...                         "start_time": 1.5, "end_time": 1.6}]}
    >>> df = tk.read_xray({"Traces": [{"Id": doc["trace_id"], "Segments": [
    ...     {"Id": doc["id"], "Document": json.dumps(doc)}]}]})
    >>> df[["service", "name", "kind", "parent_id", "duration_ms", "http_status"]]
      service      name    kind         parent_id  duration_ms  http_status
    0     api       api  server              <NA>        250.0          200
    1     api  DynamoDB  client  53995c3f42cd8ad8        100.0         <NA>
    >>> df.loc[0, "trace_id"], df.loc[0, "attributes"]
    ('5759e988bd862e3fe1be46a994272793', {'http.response.status': 200})
    """
    if errors not in ("raise", "skip"):
        raise ArgumentError(f"read_xray: errors must be 'raise' or 'skip', not {errors!r}")
    mixed = mixed_list_error(source)
    if mixed is not None:
        raise mixed
    if progress is not None:
        flag_arg(progress, "progress", "read_xray")
    b, parts = open_parts(source, errors)
    with gc_paused():  # millions of small containers and no cycles (measured: ~40% of the time with the GC on)
        for part in parts:
            for d in part():
                add_value(b, d.value, d.file, d.line, "" if d.line is None else f"line {d.line}", progress)
                del d
        df = b.frame()
        if not len(df) and not b.skipped:
            b.fail(b.no_spans())  # never 0 spans silently
    df.attrs["unprocessed_trace_ids"] = tuple(b.unprocessed)
    b.said(df, "read_xray")  # a page with NextToken (attrs["truncated"]), traces with LimitExceeded
    return close_read(df, b.skipped, b.ignored, "read_xray skipped {records}", source=source)
