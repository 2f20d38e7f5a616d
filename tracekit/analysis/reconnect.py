"""Repair broken context: propose which span called the span that started a new trace.

When a hop drops the trace context (a proxy strips ``traceparent``, a service does not extract
it), the caller's trace ends at a CLIENT span nobody answers and the callee starts a new trace;
when the caller's client span is lost instead (not exported, not sampled), the callee's span stays
in the trace but names a parent that is not there. :func:`reconnect` proposes the pairs:

``case="dropped_context"`` — an *unanswered client span* and the *new root* its callee started, paired by the
    kernel's one rule (:mod:`tracekit.core.dropped_context`, which :func:`tracekit.core.trace_outcomes` also uses
    to count the callee's trace as the callee's half of the caller's request, not a request of its own): the root
    runs inside the client span (each end within ``tolerance_ms``) starting at most ``max_gap_ms`` after it, its
    service is the client's callee; score = time fit × name fit × callee fit, pairs chosen one-to-one by an optimal
    assignment and left out below ``min_score``.
``case="missing_parent"`` — an orphan span (its ``parent_id`` names no span of its trace): the
    lost client span is the one the orphan names, so the pair (trace id, missing parent id) is
    certain (score 1, one row per missing parent, the earliest orphan naming it as the root: then the longest, then
    the lowest span id). The ``caller_span_id`` column proposes where the lost call hung: the deepest span of another
    service in the trace whose interval holds the orphan (a span in progress holds all after its start).

Columns (``RECONNECT_TABLE``): ``case``, ``client_trace_id``, ``client_span_id``,
``root_trace_id``, ``root_span_id``, ``score``, ``client_service``, ``root_service``,
``caller_span_id``, ``gap_ms``. The input is never modified. Vectorised over spans except the
assignment of competing candidates (small groups).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core import ns, number_arg, require_columns, result_table, span_tree
from ..core.dropped_context import dropped_context_pairs
from ..schema import STRING, known_service_column

__all__ = ["reconnect", "RECONNECT_TABLE"]

_NAT = np.iinfo(np.int64).min

RECONNECT_TABLE = result_table("reconnect", "one row per proposed (caller, callee) pair across broken context", [
    ("case", "string", "", "dropped_context (callee started a new trace) or missing_parent (callee names a parent not in the data)"),
    ("client_trace_id", "string", "", "trace of the caller's client span"),
    ("client_span_id", "string", "", "the caller's client span with no answer (missing_parent: the parent id the orphan names)"),
    ("root_trace_id", "string", "", "trace of the callee span (the new trace, or the orphan's trace)"),
    ("root_span_id", "string", "", "callee span that started a new trace or names a missing parent"),
    ("score", "float64", "", "0–1: time fit × name fit × callee fit (dropped_context); 1 for missing_parent"),
    ("client_service", "string", "", "service of the client span (missing_parent: of caller_span_id); <NA> if unknown"),
    ("root_service", "string", "", "service of the callee span"),
    ("caller_span_id", "string", "", "span the callee's work should hang under: the client span, or for missing_parent the deepest enclosing span of another service (<NA> if none)"),
    ("gap_ms", "float64", "ms", "callee start − client (or caller) start"),
])


def reconnect(
    spans: pd.DataFrame,
    *,
    max_gap_ms: float = 1000.0,
    tolerance_ms: float = 1.0,
    min_score: float = 0.5,
) -> pd.DataFrame:
    """Propose the caller of every span that started a new trace or names a missing parent.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame.
    max_gap_ms : float
        Longest time from the client span's start to the new root's start.
    tolerance_ms : float
        How far the root may stick out of the client span at either end (clock skew).
    min_score : float
        Leave out dropped-context pairs scoring below this (0–1).

    Returns
    -------
    pandas.DataFrame
        Columns of ``RECONNECT_TABLE``, dropped_context rows first (by client start), then
        missing_parent rows.

    Raises
    ------
    SpansSchemaError
        A needed column is missing.
    ArgumentError
        A negative window or a ``min_score`` outside [0, 1].

    Examples
    --------
    >>> import tracekit as tk
    >>> sim = tk.simulate.simulate("context-drop", n_traces=60, seed=2, share=0.2, orphan_share=0.1)
    >>> r = tk.reconnect(sim.spans)
    >>> d = r[r["case"] == "dropped_context"]
    >>> set(zip(d["client_trace_id"], d["root_trace_id"])) == set(sim.truth.dropped)
    True
    >>> m = r[r["case"] == "missing_parent"]
    >>> set(zip(m["client_trace_id"], m["client_span_id"])) == set(sim.truth.orphaned)
    True
    """
    require_columns(spans, ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end"), "reconnect")
    max_gap_ms = number_arg(max_gap_ms, "max_gap_ms", "reconnect", low=0, allow_inf=True)
    tolerance_ms = number_arg(tolerance_ms, "tolerance_ms", "reconnect", low=0, allow_inf=True)
    min_score = number_arg(min_score, "min_score", "reconnect", low=0, high=1)
    tree = span_tree(spans)
    svc = known_service_column(spans["service"]).to_numpy(dtype=object)
    start = ns(spans["start"])
    end = ns(spans["end"])
    running = end == _NAT  # in progress: it runs on, so it holds every later span as a caller (read as ending at its
    # start it enclosed nothing: an X-Ray segment in progress over an orphan 10..40 ms was no one's caller)
    end = np.where(running, start, end)
    tid = spans["trace_id"].to_numpy(dtype=object)
    sid = spans["span_id"].to_numpy(dtype=object)

    # in ns, at most what the latest time can be moved by in int64 (inf: no limit, int(inf) raised OverflowError)
    room = float(np.iinfo(np.int64).max - max(int(start.max()), int(end.max()), 0)) if len(spans) else 0.0
    c, r, score = dropped_context_pairs(spans, tree, max_gap_ns=int(min(max_gap_ms * 1e6, room)),
                                        tolerance_ns=int(min(tolerance_ms * 1e6, room)),
                                        min_score=min_score)
    rows_d = pd.DataFrame({
        "case": "dropped_context", "client_trace_id": tid[c], "client_span_id": sid[c],
        "root_trace_id": tid[r], "root_span_id": sid[r], "score": score,
        "client_service": svc[c], "root_service": svc[r], "caller_span_id": sid[c],
        "gap_ms": (start[r] - start[c]) / 1e6,
    })
    rows_d = rows_d.iloc[np.lexsort((rows_d["client_span_id"].to_numpy(dtype=object), start[c]))]
    rows_m = _missing_parents(spans, tree, svc, start, end, tid, sid, running)
    out = pd.concat([rows_d, rows_m], ignore_index=True) if len(rows_m) else rows_d
    out = out[RECONNECT_TABLE.column_names]
    for col in RECONNECT_TABLE.columns:
        out[col.name] = out[col.name].astype(STRING if col.dtype == "string" else col.dtype)
    RECONNECT_TABLE.check(out)
    return out.reset_index(drop=True)


def _missing_parents(spans, tree, svc, start, end, tid, sid, running=None) -> pd.DataFrame:
    # of a span read twice, the copy the tree chose (core.tree) is the orphan, and only kept copies enclose it: the
    # first row was read, so an orphan read as 30..40 and 30..190 ms got the caller enclosing either copy by row order
    orph = np.flatnonzero(tree.orphan & ~tree.duplicate)
    if not len(orph):
        return pd.DataFrame(columns=RECONNECT_TABLE.column_names)
    pid = spans["parent_id"].to_numpy(dtype=object, na_value=None)
    # the earliest orphan naming the parent, then the longest, then the lowest span id (not the first row: two orphans
    # starting together named either as the root by row order)
    df = pd.DataFrame({"row": orph, "t": tree.trace[orph], "p": pid[orph], "s": start[orph], "e": -end[orph],
                       "c": tree.span_code[orph]})
    first = df.sort_values(["t", "p", "s", "e", "c"], kind="stable").drop_duplicates(["t", "p"])
    r = first["row"].to_numpy(dtype=np.int64)
    # the caller: deepest span of another service in the trace whose interval holds the orphan (the latest-starting
    # one, then the deepest, then the first row); per trace one sweep structure, not a scan of the trace per orphan
    # (a trace of 32,000 spans with 16,000 orphans took 19 s: quadratic)
    caller = _enclosing_callers(tree, svc, start, end if running is None else np.where(running, np.iinfo(np.int64).max,
                                                                                         end), r, want_end=end)
    has = caller >= 0
    cs = np.where(has, caller, 0)
    return pd.DataFrame({
        "case": "missing_parent", "client_trace_id": tid[r], "client_span_id": pid[r],
        "root_trace_id": tid[r], "root_span_id": sid[r], "score": 1.0,
        "client_service": np.where(has, svc[cs], None), "root_service": svc[r],
        "caller_span_id": np.where(has, sid[cs], None),
        "gap_ms": np.where(has, (start[r] - start[cs]) / 1e6, np.nan),
    })


def _enclosing_callers(tree, svc, start, end, orphans: np.ndarray, want_end: np.ndarray | None = None) -> np.ndarray:
    """Per orphan row: the span of its trace of another service whose interval holds it, the latest-starting (then
    the deepest, then the lowest row); -1 when none.

    Each trace with an orphan: its spans in (start, depth, -row) order under a segment tree holding, per node, the
    latest end and the latest end of a service other than that one's; an orphan's caller is the rightmost span among
    those starting by its start whose end (of a service other than its own) reaches its end, the orphan's own
    descendants taken out of the tree for its query: one descent. ``end`` is what a caller reaches (an in-progress
    span: the largest time), ``want_end`` what an orphan needs reached (default ``end``)."""
    out = np.full(len(orphans), -1, dtype=np.int64)
    if not len(orphans):
        return out
    svc_code = pd.factorize(pd.Series(svc, dtype=object), use_na_sentinel=False)[0].astype(np.int64)
    o_trace = tree.trace[orphans]
    rows_all = np.flatnonzero(np.isin(tree.trace, np.unique(o_trace)) & ~tree.duplicate)
    rows_all = rows_all[np.lexsort((-rows_all, tree.depth[rows_all], start[rows_all], tree.trace[rows_all]))]
    tr_sorted = tree.trace[rows_all]
    neg = np.iinfo(np.int64).min
    left, right = tree.intervals()  # pre-order numbers: a span's descendants are the rows numbered in (left, right]
    row_at = np.full(len(left) + 1, -1, dtype=np.int64)
    row_at[left[left >= 0]] = np.flatnonzero(left >= 0)
    for t in np.unique(o_trace).tolist():
        a, b = np.searchsorted(tr_sorted, [t, t + 1])
        rows = rows_all[a:b]
        m = len(rows)
        size = 1 << max(m - 1, 0).bit_length()
        e1 = [neg] * (2 * size)  # latest end in the node
        s1 = [-1] * (2 * size)  # its service
        e2 = [neg] * (2 * size)  # latest end of a service other than s1
        e1[size:size + m] = end[rows].tolist()
        s1[size:size + m] = svc_code[rows].tolist()
        for i in range(size - 1, 0, -1):
            _pull(e1, s1, e2, i)
        st_sorted = start[rows]
        pos_of = {r: i for i, r in enumerate(rows.tolist())}
        mine = np.flatnonzero(o_trace == t)
        prefix = np.searchsorted(st_sorted, start[orphans[mine]], side="right")  # spans starting by the orphan's start
        for k, p in zip(mine.tolist(), prefix.tolist(), strict=True):
            o = int(orphans[k])
            want, own = int((end if want_end is None else want_end)[o]), int(svc_code[o])
            # the orphan's own descendants are not its caller (a child of another service starting with it, as long
            # as it, was proposed as the caller of its own parent): out of the tree for this query. A fragment's
            # rows are its head's alone, so the rows taken out over all orphans are at most the trace's
            below = row_at[left[o] + 1:right[o] + 1].tolist() if left[o] >= 0 else []
            hidden = [pos_of[d] for d in below if pos_of[d] < p]
            for at in hidden:
                _put(e1, s1, e2, size, at, neg, -1)
            stack = [(1, 0, size)]
            while stack:
                node, lo, hi = stack.pop()
                if lo >= p or (e1[node] if s1[node] != own else e2[node]) < want:
                    continue
                if node >= size:
                    out[k] = rows[lo]
                    break
                mid = (lo + hi) // 2
                stack.append((2 * node, lo, mid))  # left after right: the rightmost first
                stack.append((2 * node + 1, mid, hi))
            for at in hidden:
                _put(e1, s1, e2, size, at, int(end[rows[at]]), int(svc_code[rows[at]]))
    return out


def _pull(e1: list, s1: list, e2: list, i: int) -> None:
    """Node ``i`` of :func:`_enclosing_callers`' segment tree from its two children: the latest end (``e1``), its
    service (``s1``) and the latest end of a service other than that one (``e2``)."""
    lft, rgt = 2 * i, 2 * i + 1
    if e1[lft] >= e1[rgt]:
        e1[i], s1[i] = e1[lft], s1[lft]
    else:
        e1[i], s1[i] = e1[rgt], s1[rgt]
    best = s1[i]
    e2[i] = max(e1[lft] if s1[lft] != best else e2[lft], e1[rgt] if s1[rgt] != best else e2[rgt])


def _put(e1: list, s1: list, e2: list, size: int, at: int, end: int, svc: int) -> None:
    """Set leaf ``at`` (end, service) of the segment tree and the nodes above it."""
    i = size + at
    e1[i], s1[i] = end, svc
    i //= 2
    while i:
        _pull(e1, s1, e2, i)
        i //= 2
