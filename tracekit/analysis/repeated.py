"""Repeated calls: N+1 patterns and retries, per parent span.

A *group* is the set of direct children of one parent span that call the same operation (same
``service``, ``name`` and ``kind``). Every group with at least ``min_calls`` calls is one row.
Within a group, calls are ordered by start time; a call is a **retry** when the call before it
failed or was throttled (:func:`tracekit.core.failed`, :func:`tracekit.core.throttled`; a 4xx client
error is not retried) and it starts at or after that call's end.
``pattern`` is ``"retry"`` when every call after the first is a retry, else ``"n+1"``.

The time a group costs: ``total_ms`` (sum of the calls' durations), ``wall_ms`` (the union of
their intervals: what the parent waited at most), ``max_ms`` (the longest call), ``cost_ms`` =
``wall_ms − max_ms`` (the wait beyond one call: what batching the N calls into one, or not
having to retry, would save at best), ``retry_ms`` (duration of failed calls that were retried).
``sequential`` is True when no two calls of the group overlap. A call still in progress overlaps every call
that starts after it (it runs on) and has no retry (it has not ended). It, or a call recorded ending
before it starts (a clock), is counted but adds no time (it read as minus its length: wall_ms below max_ms, a
negative cost_ms).

A span exported twice (its span id repeated in the trace) is one call: the other copies are left out
(:mod:`tracekit.core.tree`), so a duplicate export never reads as an N+1.

Computed with one sort and grouped numpy reductions; no per-trace loop.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core import count_arg, failed, ns, require_columns, result_table, span_tree, throttled
from ..schema import STRING, known_service_column

__all__ = ["find_repeated_calls", "REPEATED_CALLS"]

REPEATED_CALLS = result_table("find_repeated_calls", "one row per (parent span, operation) called at least min_calls times", [
    ("trace_id", "string", "", "trace of the calls"),
    ("parent_span_id", "string", "", "the span whose direct children the calls are"),
    ("parent_service", "string", "", "service of the parent span"),
    ("parent_name", "string", "", "operation of the parent span"),
    ("service", "string", "", "service of the calls"),
    ("name", "string", "", "operation of the calls"),
    ("kind", "string", "", "span kind of the calls"),
    ("calls", "int64", "calls", "calls of the group"),
    ("errors", "int64", "calls", "calls that failed or were throttled"),
    ("retries", "int64", "calls", "calls that start at or after the end of a failed or throttled call before them"),
    ("pattern", "string", "", "retry when every call after the first is a retry, else n+1"),
    ("sequential", "bool", "", "no two calls of the group overlap"),
    ("first_start", "datetime64[ns, UTC]", "ns, UTC", "start of the group's first call"),
    ("last_end", "datetime64[ns, UTC]", "ns, UTC", "end of the group's last call"),
    ("total_ms", "float64", "ms", "sum of the calls' durations"),
    ("wall_ms", "float64", "ms", "union of the calls' intervals: what the parent waited at most"),
    ("max_ms", "float64", "ms", "the longest call"),
    ("cost_ms", "float64", "ms", "wall_ms - max_ms: what one call instead of the group (batching, no retry) saves at best"),
    ("retry_ms", "float64", "ms", "duration of failed calls that were retried"),
])
COLUMNS = tuple(REPEATED_CALLS.column_names)


def find_repeated_calls(spans: pd.DataFrame, *, min_calls: int = 2) -> pd.DataFrame:
    """Repeated sibling calls to the same operation (N+1) and retries of failed calls.

    One row per (parent span, operation) with at least ``min_calls`` calls, sorted by
    ``cost_ms`` (largest first). Columns are described in the module docstring. In-progress
    calls (no end) are counted but add no time.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame (one row per span, tracekit.schema).
    min_calls : int, default 2
        Calls of one operation under one parent that count as repeated: a whole number, at least 2.

    Returns
    -------
    pandas.DataFrame
        Repeated sibling calls to the same operation (N+1) and retries of failed calls.

    Raises
    ------
    ArgumentError
        ``min_calls`` is not a whole number >= 2 (``core.count_arg``: not 2.5, ``None`` or ``True``).
    SpansSchemaError
        A needed column is missing.

    Examples
    --------
    >>> import tracekit as tk
    >>> ms = 1_000_000
    >>> # parent |-----------------------|  0..100
    >>> # SELECT   |--| |--| |--|            10..20, 25..35, 40..50 (N+1)
    >>> spans = tk.spans_from_columns({
    ...     "trace_id": ["1" * 32] * 4, "span_id": [f"{i:016x}" for i in range(1, 5)],
    ...     "parent_id": [None] + ["0000000000000001"] * 3, "service": ["api"] * 4,
    ...     "name": ["GET /items", "SELECT item", "SELECT item", "SELECT item"], "kind": ["server"] + ["client"] * 3,
    ...     "start": [0, 10 * ms, 25 * ms, 40 * ms], "end": [100 * ms, 20 * ms, 35 * ms, 50 * ms]})
    >>> r = tk.find_repeated_calls(spans)
    >>> r[["name", "calls", "pattern", "total_ms", "wall_ms", "cost_ms"]].values.tolist()
    [['SELECT item', 3, 'n+1', 30.0, 30.0, 20.0]]
    """
    require_columns(spans, ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end"), "find_repeated_calls")
    min_calls = count_arg(min_calls, "min_calls", "find_repeated_calls", minimum=2)
    tree = span_tree(spans)
    parent = tree.parent
    rows = np.flatnonzero((parent >= 0) & ~tree.duplicate)  # a span exported twice is one call (kernel tree)
    if not len(rows):
        return _empty()
    # a missing service is unknown_service (the schema's one rule), a missing name or kind a group of its own
    op = spans[["service", "name", "kind"]].iloc[rows].astype(object).assign(
        service=known_service_column(spans["service"].iloc[rows]).astype(object))
    opcode = op.groupby(["service", "name", "kind"], sort=True, dropna=False).ngroup().to_numpy().astype(np.int64)
    key = parent[rows] * (int(opcode.max()) + 1) + opcode
    _, inv, cnt = np.unique(key, return_inverse=True, return_counts=True)
    keep = cnt[inv] >= min_calls
    rows, inv = rows[keep], inv[keep]
    if not len(rows):
        return _empty()
    start = ns(spans["start"])[rows]
    end = ns(spans["end"])[rows]
    done = end != np.iinfo(np.int64).min
    end = np.where(done, end, start)
    retryable = (failed(spans) | throttled(spans))[rows]  # kernel definitions: a 4xx is not retried
    o = np.lexsort((end, start, inv))
    g, s, e, f, r = inv[o], start[o], end[o], retryable[o], rows[o]
    _, g = np.unique(g, return_inverse=True)  # dense 0..n_groups-1 in sorted order
    n_g = int(g.max()) + 1
    first = np.r_[True, g[1:] != g[:-1]]
    # running max end of the previous calls in the group (for union and overlap)
    # running maximum of the ends of the earlier calls in the same group
    cm = pd.Series(e).groupby(g).cummax().to_numpy()
    prev_max = np.r_[np.int64(0), cm[:-1]]
    prev_max[first] = s[first]
    covered_from = np.maximum(s, prev_max)
    add = np.where(e > covered_from, e - covered_from, 0)  # new time this call adds to the union
    add = np.where(first, np.maximum(e - s, 0), add)  # a call recorded ending before it starts covers nothing
    # a call still in progress runs on past every later call's start: they overlap it, and none is its retry (it
    # has not ended; read as ending at its start, a call 40 ms after an open failed one was its retry, sequential)
    open_ = ~done[o]
    prev_open = np.r_[False, pd.Series(open_).groupby(g).cummax().to_numpy(dtype=bool)[:-1]] & ~first
    overlap = ~first & ((s < prev_max) | prev_open)
    prev_failed = np.r_[False, f[:-1]] & ~first
    prev_end = np.r_[0, e[:-1]]
    retry = prev_failed & np.r_[False, ~open_[:-1]] & (s >= prev_end)
    # a call recorded ending before it starts adds no time; summed in whole nanoseconds (exact as float64 up to 104
    # days), then in ms, as wall_ms is: 10,000 back-to-back 1 µs calls summed in float ms read total_ms 9.9999…
    # below their union's wall_ms 10.0, a sum of intervals less than their union
    dur_ns = np.maximum(e - s, 0).astype(np.float64)
    dur = dur_ns / 1e6
    next_retry = np.r_[retry[1:], False] & np.r_[~first[1:], False]
    calls = np.bincount(g, minlength=n_g)
    out = pd.DataFrame({
        "g": np.arange(n_g),
        "calls": calls.astype(np.int64),
        "errors": np.bincount(g, weights=f, minlength=n_g).astype(np.int64),
        "retries": np.bincount(g, weights=retry, minlength=n_g).astype(np.int64),
        "sequential": np.bincount(g, weights=overlap, minlength=n_g) == 0,
        "total_ms": np.bincount(g, weights=dur_ns, minlength=n_g) / 1e6,
        "wall_ms": np.bincount(g, weights=add.astype(np.float64), minlength=n_g) / 1e6,
        "max_ms": pd.Series(dur).groupby(g).max().to_numpy(),
        "retry_ms": np.bincount(g, weights=np.where(next_retry, dur_ns, 0.0), minlength=n_g) / 1e6,
    })
    out["cost_ms"] = out["wall_ms"] - out["max_ms"]
    out["pattern"] = np.where(out["retries"].to_numpy() == calls - 1, "retry", "n+1")
    first_row = r[first]
    prow = parent[first_row]
    take = lambda col, idx: spans[col].iloc[idx].astype(object).to_numpy()  # noqa: E731
    out["trace_id"] = take("trace_id", first_row)
    out["parent_span_id"] = take("span_id", prow)
    # the name the calls were grouped under: a missing service is unknown_service here too (one name, one thing)
    svc = known_service_column(spans["service"])
    out["parent_service"] = svc.iloc[prow].astype(object).to_numpy()
    out["parent_name"] = take("name", prow)
    out["service"] = svc.iloc[first_row].astype(object).to_numpy()
    out["name"] = take("name", first_row)
    out["kind"] = take("kind", first_row)
    out["first_start"] = pd.Series(s[first]).pipe(lambda x: pd.to_datetime(x, unit="ns", utc=True))
    out["last_end"] = pd.to_datetime(pd.Series(np.maximum.reduceat(e, np.flatnonzero(first))), unit="ns", utc=True)
    for c in ("trace_id", "parent_span_id", "parent_service", "parent_name", "service", "name", "kind", "pattern"):
        out[c] = out[c].astype(STRING)
    out = out[list(COLUMNS)]
    return out.sort_values(["cost_ms", "trace_id", "parent_span_id", "service", "name"], ascending=[False, True, True, True, True],
                           kind="stable").reset_index(drop=True)


def _empty() -> pd.DataFrame:
    types = {"calls": "int64", "errors": "int64", "retries": "int64", "sequential": "bool", "first_start": "datetime64[ns, UTC]",
             "last_end": "datetime64[ns, UTC]"}
    return pd.DataFrame({c: pd.Series([], dtype=types.get(c, "float64" if c.endswith("_ms") else STRING)) for c in COLUMNS})
