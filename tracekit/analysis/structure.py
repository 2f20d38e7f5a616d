"""Trace structure: per-trace summaries and exclusive (self) time.

Both functions link every span to its parent *within its trace* with one vectorised lookup
(:func:`span_tree`), so they stay linear-ish (one sort) in the number of spans: no per-trace
Python loop.

Conventions:

- A **root** is a span with no ``parent_id``. An **orphan** has a ``parent_id`` that names no
  span of its trace (a missing parent: the parent was not sampled, not exported, or lives in
  another file). Orphans are not roots, but they start a sub-tree of their own, so their depth
  is 0 like a root's.
- With **duplicate span ids** in a trace, children link to the first occurrence (in row order).
- ``self_ms`` (exclusive time) is the span's duration minus the *union* of its children's
  intervals clipped to the span (a sweep, not a sum): two children running in parallel over
  the same 10 ms take 10 ms, not 20 ms, and a child that runs past its parent's end only
  counts up to that end. A child still in progress (no ``end``) counts up to the parent's end.
  A span that is itself in progress has ``self_ms`` NaN.
- **X-Ray inferred segments** (``inferred`` is True) duplicate the interval of the
  subsegment that called the AWS service, and are that subsegment's only child. Self time
  treats them like any child: the calling subsegment's ``self_ms`` becomes (about) 0 and the
  inferred segment carries the time as its own ``self_ms``. So the wait is attributed once,
  to the downstream service (e.g. ``DynamoDB``), and summing ``self_ms`` over a trace never
  counts it twice.

>>> import tracekit as tk
>>> spans = tk.spans_from_columns({
...     "trace_id": ["0" * 31 + "1"] * 3,
...     "span_id": ["a" * 16, "b" * 16, "c" * 16],
...     "parent_id": [None, "a" * 16, "a" * 16],
...     "service": ["api", "db", "db"], "name": ["GET /", "q1", "q2"],
...     "start": [0, 10_000_000, 20_000_000], "end": [100_000_000, 40_000_000, 50_000_000]})
>>> tk.self_time(spans)["self_ms"].tolist()   # 100 - union([10,40],[20,50]) = 100 - 40
[60.0, 30.0, 30.0]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core import (
    NAT_NS,
    TRACE_OUTCOME_COLUMNS,
    SpanTree,
    require_columns,
    result_table,
    self_ns,
    span_tree,
    to_timestamps,
    trace_outcomes,
)
from ..core import ns as _ns
from ..schema import known_service_column

__all__ = ["trace_summary", "self_time", "span_tree", "SpanTree"]

TRACE_SUMMARY = result_table("trace_summary", "one row per trace: the request, its outcome, the extent, size and completeness", [
    *TRACE_OUTCOME_COLUMNS,
    ("end", "datetime64[ns, UTC]", "ns, UTC", "last end over the trace's spans"),
    ("n_spans", "int64", "rows", "rows of the trace: a span exported twice counts each time (n_duplicate_ids of them repeat)"),
    ("n_services", "int64", "services", "distinct services in the trace (a span with no service counts as unknown_service, as in every other analysis)"),
    ("n_roots", "int64", "spans", "spans with no parent_id (a root exported twice counts once)"),
    ("n_orphans", "int64", "spans", "spans whose parent is not in the trace (fragment heads)"),
    ("n_duplicate_ids", "int64", "spans", "rows repeating a span id of the trace"),
    ("partial", "bool", "", "in progress, an orphan, a parent cycle, or not exactly one root"),
    ("max_depth", "int64", "", "deepest span below its root or fragment head (-1: parent cycle only)"),
])

_NEEDED = ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end")



def self_time(spans: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``spans`` with ``self_ms``: exclusive time of each span.

    ``self_ms`` = ``duration_ms`` minus the union of the children's intervals clipped to the
    span (see the module docstring for in-progress spans and X-Ray inferred segments). One
    sort of the children by (parent, start) and a per-parent running maximum of their ends;
    no per-trace loop. The input is not modified.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame (one row per span, tracekit.schema).

    Returns
    -------
    pandas.DataFrame
        Return a copy of ``spans`` with ``self_ms``: exclusive time of each span.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({
    ...     "trace_id": ["0" * 31 + "1"] * 3, "span_id": ["a" * 16, "b" * 16, "c" * 16],
    ...     "parent_id": [None, "a" * 16, "b" * 16], "service": ["api"] * 3, "name": ["x"] * 3,
    ...     "start": [0, 0, 5_000_000], "end": [10_000_000, 20_000_000, 6_000_000]})
    >>> tk.self_time(spans)["self_ms"].tolist()   # child runs past parent: clipped at 10 ms
    [0.0, 19.0, 1.0]
    """
    require_columns(spans, ("trace_id", "span_id", "parent_id", "start", "end"), "self_time")
    out = spans.copy()
    out["self_ms"] = self_ns(spans, span_tree(spans)) / 1e6
    return out


def trace_summary(spans: pd.DataFrame) -> pd.DataFrame:
    """One row per trace: the request, its latency and outcome, the trace extent, size and completeness.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`tracekit.core.trace_outcomes` (``trace_id``, ``root_span_id``,
        ``root_service``, ``root_name``, ``start``, ``request_ms`` — the request root's duration —,
        ``extent_ms`` — first start to last end, async work included —, ``failed``,
        ``client_error``, ``throttled``, ``failed_spans``, ``has_root``), then ``end`` (last end),
        ``n_spans``, ``n_services``, ``in_progress`` (any span in progress), ``n_roots``,
        ``n_orphans``, ``n_duplicate_ids``, ``partial`` (in progress, an orphan, a parent cycle, or not
        exactly one root), ``max_depth``. Rows in order of the trace's first span. The input is not modified.

    Raises
    ------
    SpansSchemaError
        A needed column is missing.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({
    ...     "trace_id": ["0" * 31 + "1"] * 3, "span_id": ["a" * 16, "b" * 16, "c" * 16],
    ...     "parent_id": [None, "a" * 16, "9" * 16], "service": ["api", "db", "db"],
    ...     "name": ["GET /", "q", "q"], "start": [0, 1_000_000, 2_000_000],
    ...     "end": [5_000_000, 4_000_000, 3_000_000]})
    >>> tk.trace_summary(spans)[["root_service", "request_ms", "n_spans", "n_orphans", "partial"]].to_dict("records")
    [{'root_service': 'api', 'request_ms': 5.0, 'n_spans': 3, 'n_orphans': 1, 'partial': True}]
    """
    require_columns(spans, _NEEDED, "trace_summary")
    return _summary(spans, span_tree(spans))


def _summary(spans: pd.DataFrame, tree: SpanTree) -> pd.DataFrame:
    out = trace_outcomes(spans)
    nt = tree.n_traces
    t = tree.trace
    end = _ns(spans["end"])
    end_na = spans["end"].isna().to_numpy()
    last_end = np.full(nt, NAT_NS, dtype=np.int64)
    # another copy of a span read twice is that span (kernel tree; trace_outcomes' extent_ms leaves it out too): a copy
    # exported again later made ``end`` later than ``start`` + ``extent_ms``
    np.maximum.at(last_end, t, np.where(end_na | tree.duplicate, NAT_NS, end))
    # a span with no service is in unknown_service (schema.known_service_column: the rule of the readers and of every
    # other analysis); it added none here, so a trace of such spans said 0 services
    sc, su = pd.factorize(known_service_column(spans["service"]), sort=False)
    sc = np.asarray(sc, dtype=np.int64)
    pairs = np.unique(t * (len(su) + 1) + sc)
    max_depth = np.full(nt, -1, dtype=np.int64)
    np.maximum.at(max_depth, t, tree.depth)
    out["end"] = to_timestamps(last_end).array
    out["n_spans"] = np.bincount(t, minlength=nt).astype(np.int64)
    out["n_services"] = np.bincount(pairs // (len(su) + 1), minlength=nt).astype(np.int64)
    out["n_roots"] = tree.per_trace(tree.is_root & ~tree.duplicate)  # a root exported twice is one root (kernel tree)
    out["n_orphans"] = tree.per_trace(tree.orphan)
    out["n_duplicate_ids"] = tree.per_trace(tree.duplicate)
    # a parent cycle beside a root (a loop of ids no root reaches) breaks the trace as much as a missing parent
    out["partial"] = (out["in_progress"].to_numpy() | (out["n_orphans"].to_numpy() > 0) | (out["n_roots"].to_numpy() != 1)
                      | (tree.per_trace(tree.cycle) > 0))
    out["max_depth"] = max_depth
    return out
