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

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import TraceKitError
from .schema import COLUMN_NAMES

__all__ = ["trace_summary", "self_time", "span_tree", "SpanTree"]

_NEEDED = ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end")


def _check_columns(spans: pd.DataFrame, needed: tuple[str, ...] = _NEEDED, what: str = "spans") -> None:
    if not isinstance(spans, pd.DataFrame):
        raise TraceKitError(f"expected a spans DataFrame, got {type(spans).__name__}")
    missing = [c for c in needed if c not in spans.columns]
    if missing:
        raise TraceKitError(
            f"{what} DataFrame is missing columns {', '.join(missing)} "
            f"(expected the tracekit spans schema: {', '.join(COLUMN_NAMES[:8])}, …)"
        )


def _ns(s: pd.Series) -> np.ndarray:
    """int64 nanoseconds of a datetime column; NaT → INT64 min (use together with ``.isna()``)."""
    return s.to_numpy(dtype="datetime64[ns]", na_value=np.datetime64("NaT")).view("int64") if len(s) else np.zeros(0, "int64")


@dataclass(frozen=True)
class SpanTree:
    """Parent links of a spans frame, as positional numpy arrays (row ``i`` of the frame).

    ``trace``: trace code per row (0..n_traces-1, in order of first appearance);
    ``parent``: row of the parent span in the same trace, or -1 (root or orphan);
    ``has_parent_id``: parent_id is set; ``orphan``: parent_id set but no such span in the trace;
    ``duplicate``: this row repeats a (trace_id, span_id) seen in an earlier row;
    ``duplicated``: this row's (trace_id, span_id) occurs more than once (every copy);
    ``depth``: 0 for roots and orphans, parent's depth + 1 otherwise (-1 inside a parent cycle);
    ``trace_ids``: trace id of each trace code.
    """

    trace: np.ndarray
    parent: np.ndarray
    has_parent_id: np.ndarray
    orphan: np.ndarray
    duplicate: np.ndarray
    duplicated: np.ndarray
    depth: np.ndarray
    trace_ids: np.ndarray

    @property
    def n_traces(self) -> int:
        return len(self.trace_ids)


def span_tree(spans: pd.DataFrame) -> SpanTree:
    """Link each span to its parent within its trace (vectorised: factorise ids, one sort).

    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({
    ...     "trace_id": ["0" * 31 + "1"] * 3, "span_id": ["a" * 16, "b" * 16, "c" * 16],
    ...     "parent_id": [None, "a" * 16, "f" * 16], "service": ["api"] * 3, "name": ["x"] * 3,
    ...     "start": [0, 1, 2], "end": [5, 4, 3]})
    >>> t = span_tree(spans)
    >>> t.parent.tolist(), t.orphan.tolist(), t.depth.tolist()
    ([-1, 0, -1], [False, False, True], [0, 1, 0])
    """
    _check_columns(spans, ("trace_id", "span_id", "parent_id"))
    for col in ("trace_id", "span_id"):
        na = spans[col].isna().to_numpy(dtype=bool)
        if na.any():
            raise TraceKitError(f"{int(na.sum())} span(s) have no {col} (row {spans.index[int(np.argmax(na))]!r} first); "
                                "every span needs a trace_id and a span_id")
    n = len(spans)
    tcode, tuniq = pd.factorize(spans["trace_id"], sort=False)
    tcode = np.asarray(tcode, dtype=np.int64)
    sid = spans["span_id"]
    pid = spans["parent_id"]
    has_pid = pid.notna().to_numpy(dtype=bool, na_value=False)
    ids, id_uniq = pd.factorize(pd.concat([sid, pid], ignore_index=True), sort=False)
    ids = np.asarray(ids, dtype=np.int64)
    m = max(len(id_uniq), 1)
    skey = tcode * m + ids[:n]
    pkey = tcode * m + ids[n:]
    # first row of each (trace, span) key
    order = np.argsort(skey, kind="stable")
    sk = skey[order]
    first = np.ones(n, dtype=bool)
    if n:
        first[1:] = sk[1:] != sk[:-1]
    duplicate = np.zeros(n, dtype=bool)
    duplicate[order[~first]] = True
    duplicated = duplicate.copy()
    if duplicate.any():
        same = np.flatnonzero(sk[1:] == sk[:-1])
        duplicated[order[same]] = True
    uk = sk[first]
    urow = order[first]
    parent = np.full(n, -1, dtype=np.int64)
    if n and len(uk):
        pos = np.searchsorted(uk, pkey)
        pos[pos >= len(uk)] = 0
        found = has_pid & (uk[pos] == pkey)
        parent[found] = urow[pos[found]]
    else:
        found = np.zeros(n, dtype=bool)
    parent[parent == np.arange(n)] = -1  # a span naming itself as parent is treated as having none
    orphan = has_pid & ~found
    depth = _depth(parent)
    return SpanTree(tcode, parent, has_pid, orphan, duplicate, duplicated, depth, np.asarray(tuniq, dtype=object))


def _depth(parent: np.ndarray) -> np.ndarray:
    """Depth by pointer doubling (O(n log depth)); spans on a parent cycle get -1."""
    n = len(parent)
    anc = parent.copy()  # an ancestor of i, or -1 once the root has been reached
    dist = (anc >= 0).astype(np.int64)  # edges from i to anc[i] (to the root when anc[i] == -1)
    for _ in range(int(np.log2(max(n, 1))) + 2):
        live = np.flatnonzero(anc >= 0)
        if not len(live):
            break
        a = anc[live]
        dist[live] += dist[a]
        anc[live] = anc[a]
    dist[anc >= 0] = -1  # never reached a root: the span sits on (or under) a parent cycle
    return dist


def self_time(spans: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``spans`` with ``self_ms``: exclusive time of each span.

    ``self_ms`` = ``duration_ms`` minus the union of the children's intervals clipped to the
    span (see the module docstring for in-progress spans and X-Ray inferred segments). One
    sort of the children by (parent, start) and a per-parent running maximum of their ends;
    no per-trace loop. The input is not modified.

    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({
    ...     "trace_id": ["0" * 31 + "1"] * 3, "span_id": ["a" * 16, "b" * 16, "c" * 16],
    ...     "parent_id": [None, "a" * 16, "b" * 16], "service": ["api"] * 3, "name": ["x"] * 3,
    ...     "start": [0, 0, 5_000_000], "end": [10_000_000, 20_000_000, 6_000_000]})
    >>> tk.self_time(spans)["self_ms"].tolist()   # child runs past parent: clipped at 10 ms
    [0.0, 19.0, 1.0]
    """
    _check_columns(spans, ("trace_id", "span_id", "parent_id", "start", "end"))
    out = spans.copy()
    out["self_ms"] = _self_ns(spans, span_tree(spans)) / 1e6
    return out


def _self_ns(spans: pd.DataFrame, tree: SpanTree) -> np.ndarray:
    n = len(spans)
    start = _ns(spans["start"])
    end_na = spans["end"].isna().to_numpy()
    end = _ns(spans["end"])
    dur = np.where(end_na, 0, end - start).astype(np.float64)
    child = np.flatnonzero(tree.parent >= 0)
    p = tree.parent[child]
    # clip each child to its parent; an in-progress child runs to the parent's end
    pe = end[p]
    ps = start[p]
    p_open = end_na[p]
    cs = np.maximum(start[child], ps)
    ce = np.where(end_na[child], pe, np.minimum(end[child], pe))
    keep = ~p_open & (ce > cs)
    child, p, cs, ce = child[keep], p[keep], cs[keep], ce[keep]
    covered = np.zeros(n, dtype=np.float64)
    if len(child):
        order = np.lexsort((cs, p))
        p, cs, ce = p[order], cs[order], ce[order]
        cummax = pd.Series(ce).groupby(p, sort=False).cummax().to_numpy()
        prev = np.empty_like(cummax)
        prev[0] = np.iinfo(np.int64).min
        prev[1:] = cummax[:-1]
        new_group = np.ones(len(p), dtype=bool)
        new_group[1:] = p[1:] != p[:-1]
        prev[new_group] = np.iinfo(np.int64).min
        gain = ce - np.maximum(cs, prev)
        gain = np.where(gain > 0, gain, 0).astype(np.float64)
        covered = np.bincount(p, weights=gain, minlength=n)
    out = dur - covered
    out[end_na] = np.nan
    return out


def trace_summary(spans: pd.DataFrame) -> pd.DataFrame:
    """One row per trace: root, timing, size, error flags and structural completeness.

    Columns: ``trace_id``, ``root_service``, ``root_name`` (the earliest root; if the trace
    has no root, its earliest orphan), ``start``, ``end``, ``duration_ms`` (earliest start to
    latest end over all spans; NaN when no span has ended), ``n_spans``, ``n_services``,
    ``error``, ``fault``, ``throttle`` (any span), ``has_error`` (any span with status
    ``error``), ``in_progress`` (any span in progress), ``n_roots``, ``n_orphans``,
    ``n_duplicate_ids``, ``partial`` (in progress, an orphan, or not exactly one root),
    ``max_depth``. Rows are in order of the trace's first span. The input is not modified.

    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({
    ...     "trace_id": ["0" * 31 + "1"] * 3, "span_id": ["a" * 16, "b" * 16, "c" * 16],
    ...     "parent_id": [None, "a" * 16, "9" * 16], "service": ["api", "db", "db"],
    ...     "name": ["GET /", "q", "q"], "start": [0, 1_000_000, 2_000_000],
    ...     "end": [5_000_000, 4_000_000, 3_000_000]})
    >>> tk.trace_summary(spans)[["root_service", "duration_ms", "n_spans", "n_orphans", "partial"]].to_dict("records")
    [{'root_service': 'api', 'duration_ms': 5.0, 'n_spans': 3, 'n_orphans': 1, 'partial': True}]
    """
    _check_columns(spans)
    tree = span_tree(spans)
    return _summary(spans, tree)


def _summary(spans: pd.DataFrame, tree: SpanTree) -> pd.DataFrame:
    t = tree.trace
    nt = tree.n_traces
    n = len(spans)
    start = _ns(spans["start"])
    end_na = spans["end"].isna().to_numpy()
    end = _ns(spans["end"])
    is_root = ~tree.has_parent_id
    lo = np.iinfo(np.int64).min
    end_v = np.where(end_na, lo, end)
    # per-trace reductions with bincount / reduceat over rows sorted by trace (no groupby)
    rank = np.where(is_root, 0, np.where(tree.orphan, 1, 2))
    order = np.lexsort((start, rank, t))  # by trace, then root first, then earliest
    ts = t[order]
    heads = np.flatnonzero(np.r_[True, ts[1:] != ts[:-1]]) if n else np.zeros(0, np.int64)
    firsts = order[heads]

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(t, weights=mask.astype(np.float64), minlength=nt).astype(np.int64)

    def red(fn, values: np.ndarray) -> np.ndarray:
        return fn.reduceat(values[order], heads) if n else values[:0]

    status_err = (spans["status"] == "error").to_numpy(dtype=bool, na_value=False) if "status" in spans else np.zeros(n, bool)
    agg = {
        "start": red(np.minimum, start),
        "end": red(np.maximum, end_v),
        "n_spans": np.bincount(t, minlength=nt).astype(np.int64),
        "n_roots": count(is_root),
        "n_orphans": count(tree.orphan),
        "n_duplicate_ids": count(tree.duplicate),
        "error": count(_bool(spans, "error")) > 0,
        "fault": count(_bool(spans, "fault")) > 0,
        "throttle": count(_bool(spans, "throttle")) > 0,
        "has_error": count(status_err) > 0,
        "in_progress": count(_bool(spans, "in_progress") | end_na) > 0,
        "max_depth": red(np.maximum, tree.depth),
    }
    sc, su = pd.factorize(spans["service"], sort=False)
    pairs = np.unique(t * (len(su) + 1) + np.asarray(sc, dtype=np.int64))
    n_services = np.bincount(pairs // (len(su) + 1), minlength=nt).astype(np.int64)
    svc = spans["service"].to_numpy()
    nm = spans["name"].to_numpy()
    s_ts = pd.to_datetime(agg["start"], utc=True)
    e_raw = agg["end"]
    e_ts = pd.to_datetime(np.where(e_raw == lo, np.datetime64("NaT"), e_raw.view("datetime64[ns]")), utc=True)
    dur = np.where(e_raw == lo, np.nan, (e_raw - agg["start"]) / 1e6)
    out = pd.DataFrame(
        {
            "trace_id": pd.array(tree.trace_ids, dtype=spans["trace_id"].dtype),
            "root_service": pd.array(svc[firsts], dtype=spans["service"].dtype),
            "root_name": pd.array(nm[firsts], dtype=spans["name"].dtype),
            "start": s_ts,
            "end": e_ts,
            "duration_ms": dur,
            "n_spans": agg["n_spans"],
            "n_services": n_services,
            "error": agg["error"],
            "fault": agg["fault"],
            "throttle": agg["throttle"],
            "has_error": agg["has_error"],
            "in_progress": agg["in_progress"],
            "n_roots": agg["n_roots"],
            "n_orphans": agg["n_orphans"],
            "n_duplicate_ids": agg["n_duplicate_ids"],
            "max_depth": agg["max_depth"],
        }
    )
    out.insert(
        len(out.columns) - 1,
        "partial",
        out["in_progress"].to_numpy() | (out["n_orphans"].to_numpy() > 0) | (out["n_roots"].to_numpy() != 1),
    )
    return out


#: X-Ray / AWS SDK operations that hand work to a queue or stream: the callee runs later, asynchronously
ASYNC_OPERATIONS = frozenset({
    "SendMessage", "SendMessageBatch", "Publish", "PublishBatch", "PutRecord", "PutRecords", "PutEvents",
    "StartExecution", "InvokeAsync",
})


def _async_callers(spans: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """For the given rows: is the span a hand-off to a queue (producer kind, a messaging span or an
    SDK call such as SQS SendMessage), so that what runs under it may start and end later?"""
    kind = spans["kind"].to_numpy(dtype=object)[rows]
    out = kind == "producer"
    if "attributes" in spans.columns and len(rows):
        attrs = spans["attributes"].to_numpy(dtype=object)[rows]
        out |= np.fromiter(
            (isinstance(a, dict) and (a.get("aws.operation") in ASYNC_OPERATIONS or "messaging.system" in a) for a in attrs),
            dtype=bool, count=len(rows),
        )
    return out


def _bool(spans: pd.DataFrame, col: str) -> np.ndarray:
    if col not in spans.columns:
        return np.zeros(len(spans), dtype=bool)
    return spans[col].to_numpy(dtype=bool, na_value=False)
