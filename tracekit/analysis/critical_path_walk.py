"""The critical-path walk of each trace: the engine behind :func:`tracekit.critical_path`.

Semantics, settings and decisions are documented in :mod:`tracekit.analysis.critical_paths` (the
public entry point, which caches per frame and continues across links through
:mod:`tracekit.analysis.workflows`). This module sits below both, so that the workflow walk can call
the per-trace walk without an import loop.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..core import (
    call_paths,
    clamp_to_parents,
    flag_arg,
    ns,
    number_arg,
    require_columns,
    result_table,
    span_tree,
    start_unknown,
    to_timestamps,
    unique_sorted,
)
from ..core.outcomes import trace_outcomes
from ..errors import ArgumentError
from ..schema import STRING, SharedTuple, shared_attr

__all__ = ["walk_critical_path", "CriticalPathFailure", "CRITICAL_PATH", "CP_COLUMNS", "NONBLOCKING", "nonblocking_rules",
           "nonblocking_children", "DEFAULT_NONBLOCKING"]

_NAT = np.iinfo(np.int64).min
_INF = np.iinfo(np.int64).max
NONBLOCKING = frozenset({"producer_consumer", "consumer", "links"})
#: the default ``nonblocking`` rule of the critical path, and the rule :func:`tracekit.what_if` re-times by
DEFAULT_NONBLOCKING = "producer_consumer"
_NONBLOCKING = NONBLOCKING

CP_COLUMNS = (
    "trace_id", "span_id", "service", "name", "kind", "start", "end", "duration_ms",
    "section_index", "depth", "root_span_id", "call_path", "in_progress", "inferred",
)


@dataclass(frozen=True)
class CriticalPathFailure:
    """A trace (or one root of it) the critical path could not be computed for, and why."""

    trace_id: str
    span_id: str | None
    reason: str


CRITICAL_PATH = result_table("critical_path", "one row per critical-path section (a stretch of time one span holds the path)", [
    ("trace_id", "string", "", "trace id"),
    ("span_id", "string", "", "span holding the section"),
    ("service", "string", "", "service of the span"),
    ("name", "string", "", "operation of the span"),
    ("kind", "string", "", "span kind"),
    ("start", "datetime64[ns, UTC]", "ns, UTC", "section start (after clamping to the parent)"),
    ("end", "datetime64[ns, UTC]", "ns, UTC", "section end"),
    ("duration_ms", "float64", "ms", "section length: exclusive critical-path time of the span in this section"),
    ("section_index", "int64", "", "0-based order of the section within its trace (by start)"),
    ("depth", "int64", "", "depth of the span below its root (kernel span tree)"),
    ("root_span_id", "string", "", "root (or fragment head) whose walk produced the section"),
    ("request", "bool", "", "the section belongs to the request root of a trace that is a request (trace_outcomes' "
                            "``request``): False for orphan fragments, extra roots, asynchronous work and the callee's "
                            "half of a request whose context was dropped"),
    ("call_path", "string", "", "service:name of each span from the root down, joined by ' > ' (beyond 32 operations: elided in the middle, see core.call_paths)"),
    ("in_progress", "bool", "", "the span has no end (extended per in_progress=)"),
    ("inferred", "bool", "", "X-Ray inferred segment"),
])




# --------------------------------------------------------------------------------------------


def _tree(spans: pd.DataFrame):
    """The kernel's span tree plus this analysis' policy: a trace the kernel calls bad (a parent cycle, or
    a span whose parent id is duplicated) is skipped whole (depth -1 for its spans) and listed as a
    failure; the other copies of a duplicated span id are left out (depth -1) of a trace kept whole, and
    listed in ``kept`` (the kernel tree's policy)."""
    t = span_tree(spans)
    depth = t.depth.copy()
    depth[t.bad_trace | t.duplicate] = -1
    failures: list[CriticalPathFailure] = []
    kept: list[CriticalPathFailure] = []
    sid = spans["span_id"].to_numpy(dtype=object)
    dup_rows = np.flatnonzero(t.duplicated & ~t.bad_trace)
    if len(dup_rows):
        codes, first = np.unique(t.trace[dup_rows], return_index=True)
        counts = np.bincount(t.trace[dup_rows], minlength=t.n_traces)
        named = np.zeros(len(sid), dtype=bool)
        named[t.parent[t.parent >= 0]] = True  # children link to an id's first copy
        # per trace: some duplicated id is a parent (kept because its copies agree: core.tree)
        named_in = np.bincount(t.trace[dup_rows], weights=named[dup_rows], minlength=t.n_traces) > 0
        for c, f in zip(codes.tolist(), first.tolist(), strict=True):
            r = dup_rows[f]
            why = ("its copies agree on parent, start, end, service and name" if named_in[c]
                   else "no span names it as its parent")
            kept.append(CriticalPathFailure(str(t.trace_ids[c]), str(sid[r]),
                                            f"duplicate span_id {sid[r]} ({int(counts[c])} rows): the other copies "
                                            f"left out, the trace kept ({why})"))
    dup_traces = np.zeros(t.n_traces, dtype=bool)
    dup_traces[t.trace[t.duplicated]] = True  # a trace with a duplicate says so, not its cycle (once, not per trace)
    for mask, what in ((t.duplicated & t.bad_trace, "duplicate"), (t.cycle & ~t.duplicated, "cycle")):
        rows = np.flatnonzero(mask)
        if not len(rows):
            continue
        rows = rows[np.argsort(t.trace[rows], kind="stable")]  # by trace, each trace's rows in frame order
        codes, first = np.unique(t.trace[rows], return_index=True)
        counts = np.bincount(t.trace[rows], minlength=t.n_traces)
        for c, f in zip(codes.tolist(), first.tolist(), strict=True):
            r = rows[f]
            if what == "duplicate":
                mine = rows[f:f + int(counts[c])]  # this trace's rows with a duplicated id: of r's id, and others
                same = int(np.count_nonzero(sid[mine] == sid[r]))
                ids = len(set(sid[mine].tolist()))
                reason = (f"duplicate span_id {sid[r]} ({same} rows) named as a parent: which copy is unknown"
                          + (f" ({ids} span ids of this trace are duplicated)" if ids > 1 else ""))
            else:
                if dup_traces[c]:
                    continue
                reason = f"parent cycle: {int(counts[c])} spans never reach a root (first {sid[r]})"
            failures.append(CriticalPathFailure(str(t.trace_ids[c]), str(sid[r]), reason))
    return t, depth, failures, kept


def linked_to_parent(spans: pd.DataFrame) -> np.ndarray:
    """Per span: it names a parent and one of its ``links`` names that parent's span id (the ``"links"`` rule of
    ``nonblocking``: a link to the parent makes the child asynchronous). All False without a ``links`` column.

    >>> import tracekit as tk
    >>> s = tk.spans_from_columns({"trace_id": ["1" * 32] * 2, "span_id": ["a" * 16, "b" * 16],
    ...     "parent_id": [None, "a" * 16], "service": ["web", "job"], "name": ["GET", "run"], "start": [0, 1],
    ...     "end": [9, 8], "links": [[], [{"trace_id": "1" * 32, "span_id": "a" * 16}]]})
    >>> linked_to_parent(s).tolist()
    [False, True]
    """
    out = np.zeros(len(spans), dtype=bool)
    if "links" not in spans.columns:
        return out
    pids = spans["parent_id"].to_numpy(dtype=object, na_value=None)
    lk = spans["links"].to_numpy(dtype=object)
    for i in np.flatnonzero(pd.notna(pids)).tolist():
        links = lk[i]
        if links is not None and len(links):
            for link in links:
                if isinstance(link, dict) and link.get("span_id") == pids[i]:
                    out[i] = True
                    break
    return out


def nonblocking_rules(nonblocking: str | Iterable[str] | None) -> frozenset[str]:
    """The ``nonblocking`` setting as a set of rule names; an ArgumentError naming what is not one (a number in
    the list was a bare TypeError from sorting it with the names, a dict's keys were taken silently)."""
    if nonblocking is None:
        return frozenset()
    if isinstance(nonblocking, str):
        items: list = [nonblocking]
    elif isinstance(nonblocking, Iterable) and not isinstance(nonblocking, (Mapping, bytes)):
        items = list(nonblocking)
    else:
        raise ArgumentError(f"critical_path: nonblocking must be a rule name, a list of them or None; got "
                            f"{type(nonblocking).__name__} {nonblocking!r}; use {sorted(_NONBLOCKING)}")
    bad = [x for x in items if not isinstance(x, str) or x not in _NONBLOCKING]
    if bad:
        raise ArgumentError(f"critical_path: unknown nonblocking rule(s) {bad!r}; use {sorted(_NONBLOCKING)}")
    return frozenset(items)


def nonblocking_children(spans: pd.DataFrame, tree, rules: frozenset[str]) -> np.ndarray:
    """Per span: its relation to its parent is asynchronous under ``rules`` (:func:`nonblocking_rules`), so it never
    holds its parent up — the one reading of the ``nonblocking`` rules, for the critical path and :func:`tracekit.what_if`
    (whose timing it decides with :func:`tracekit.core.blocks_parent`). False for roots and orphans.

    >>> import tracekit as tk
    >>> s = tk.spans_from_columns({"trace_id": ["1" * 32] * 2, "span_id": ["a" * 16, "b" * 16],
    ...     "parent_id": [None, "a" * 16], "service": ["web", "job"], "name": ["send", "run"], "start": [0, 1],
    ...     "end": [9, 8], "kind": ["producer", "consumer"]})
    >>> nonblocking_children(s, tk.core.span_tree(s), nonblocking_rules("producer_consumer")).tolist()
    [False, True]
    """
    n = len(spans)
    parent = tree.parent
    is_root = parent < 0
    nb = np.zeros(n, dtype=bool)
    if not rules or not n:
        return nb
    kind = (spans["kind"].to_numpy(dtype=object, na_value="unspecified") if "kind" in spans.columns
            else np.full(n, "unspecified", dtype=object))
    pk = np.where(is_root, "", kind[np.maximum(parent, 0)])
    if "producer_consumer" in rules:
        nb |= (pk == "producer") & (kind == "consumer")
    if "consumer" in rules:
        nb |= kind == "consumer"
    if "links" in rules:
        nb |= linked_to_parent(spans)
    return nb & ~is_root


#: the settings of a critical-path walk (:func:`walk_critical_path`'s keywords), which the functions that walk one
#: pass on (:func:`tracekit.compare`, :func:`tracekit.workflow_critical_path`)
WALK_OPTIONS = ("adjacent_sequential", "overlap_tolerance", "surrounding", "nonblocking", "in_progress", "inferred",
                "engine")


def walk_options(options: dict, func: str, own: Sequence[str] = (), also: Sequence[str] = ()) -> dict:
    """``options`` when every key is a walk setting (:data:`WALK_OPTIONS`), else an ArgumentError naming ``func``,
    the unknown keys and what ``func`` takes (its ``own`` keywords, then the walk's and ``also``'s, the settings of
    :func:`tracekit.critical_path` that ``func`` passes on beside the walk's). A keyword of another function
    (``q=``, ``alpha=``) was a TypeError naming critical_path().

    >>> walk_options({"engine": "loop"}, "compare")
    {'engine': 'loop'}
    >>> walk_options({"q": 0.9}, "compare", ("n_boot", "ci", "seed"))
    Traceback (most recent call last):
    ...
    tracekit.errors.ArgumentError: compare: unknown argument q; it takes n_boot, ci, seed and the critical path's adjacent_sequential, overlap_tolerance, surrounding, nonblocking, in_progress, inferred, engine
    """
    known = (*WALK_OPTIONS, *also)
    bad = [k for k in options if k not in known]
    if bad:
        raise ArgumentError(f"{func}: unknown argument{'s' if len(bad) > 1 else ''} {', '.join(bad)}; it takes "
                            f"{', '.join(own)}{' and ' if own else ''}the critical path's {', '.join(known)}")
    return options


def walk_critical_path(
    spans: pd.DataFrame,
    *,
    adjacent_sequential: bool = True,
    overlap_tolerance: float = 0.0,
    surrounding: str = "clamp",
    nonblocking: str | Iterable[str] | None = DEFAULT_NONBLOCKING,
    in_progress: str = "extend",
    inferred: str = "keep",
    engine: str = "auto",
) -> pd.DataFrame:
    """Critical-path sections of every trace, each trace walked on its own (no hops across links).

    The engine behind :func:`tracekit.critical_path` (which documents the columns and the
    settings) and :func:`tracekit.workflow_critical_path` (which walks each consumer of a hop as a
    root of its own). Call :func:`tracekit.critical_path`: it validates, caches per frame and
    continues across links on request.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame.
    adjacent_sequential, overlap_tolerance, surrounding, nonblocking, in_progress, inferred, engine
        As :func:`tracekit.critical_path`.

    Returns
    -------
    pandas.DataFrame
        One row per section (``CRITICAL_PATH``); ``attrs["failures"]`` and ``attrs["params"]``.

    Raises
    ------
    ArgumentError
        A setting outside its documented values.

    Examples
    --------
    >>> import tracekit as tk
    >>> ms = 1_000_000
    >>> spans = tk.spans_from_columns({
    ...     "trace_id": ["1" * 32] * 2, "span_id": ["a" * 16, "b" * 16],
    ...     "parent_id": [None, "a" * 16], "service": ["api", "db"], "name": ["GET /", "query"],
    ...     "start": [0, 10 * ms], "end": [100 * ms, 70 * ms]})
    >>> walk_critical_path(spans)["duration_ms"].tolist()
    [10.0, 60.0, 30.0]
    """
    require_columns(spans, ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end"), "critical_path")
    if surrounding not in ("clamp", "drop"):
        raise ArgumentError(f"critical_path: surrounding must be 'clamp' or 'drop', got {surrounding!r}")
    if engine not in ("auto", "numpy", "loop"):
        raise ArgumentError(f"critical_path: engine must be 'auto', 'numpy' or 'loop', got {engine!r}")
    if in_progress not in ("extend", "drop"):
        raise ArgumentError(f"critical_path: in_progress must be 'extend' or 'drop', got {in_progress!r}")
    if inferred not in ("keep", "drop"):
        raise ArgumentError(f"critical_path: inferred must be 'keep' or 'drop', got {inferred!r}")
    # a fraction of the parent in [0, 1); a string or a bool is refused, not compared (TypeError) or taken as 1
    overlap_tolerance = number_arg(overlap_tolerance, "overlap_tolerance", "critical_path", low=0, high=1, high_open=True)
    adjacent_sequential = flag_arg(adjacent_sequential, "adjacent_sequential", "critical_path")  # "no" is truthy
    rules = nonblocking_rules(nonblocking)
    params = {
        "adjacent_sequential": bool(adjacent_sequential), "overlap_tolerance": float(overlap_tolerance),
        "surrounding": surrounding, "nonblocking": tuple(sorted(rules)), "in_progress": in_progress, "inferred": inferred,
        "engine": engine,
    }

    n = len(spans)
    tree, depth, failures, kept = _tree(spans)
    start = ns(spans["start"])
    end = ns(spans["end"])
    inprog = (end == _NAT)
    if "in_progress" in spans.columns:
        inprog |= spans["in_progress"].to_numpy(dtype=bool, na_value=False) & (end == _NAT)
    infer = spans["inferred"].to_numpy(dtype=bool, na_value=False) if "inferred" in spans.columns else np.zeros(n, dtype=bool)

    # a span whose start is unknown (core.start_unknown: NaT, or OTLP's unset start read as 1970) cannot be placed: it
    # is left out of the walk with what it called, its time held by its parent (counted in attrs["no_start"]); read as
    # 1970 it was clamped to its parent's start and held the whole of it. A root (or orphan) without one is a failure,
    # said as one, not a root that silently walks to nothing (or from 1970)
    unknown = start_unknown(spans)
    valid = ~tree.bad_trace & ~tree.duplicate & ~unknown
    parent = tree.parent
    is_root = parent < 0
    for r in np.flatnonzero(is_root & unknown & ~tree.bad_trace & ~tree.duplicate):
        failures.append(CriticalPathFailure(str(tree.trace_ids[tree.trace[r]]), str(spans["span_id"].iat[r]),
                                            "root span has no start time (start is NaT)" if start[r] == _NAT else
                                            "root span's start is unknown (OTLP's unset start, read as 1970)"))
    end = end.copy()
    if in_progress == "drop":
        valid &= ~inprog
        for r in np.flatnonzero(is_root & inprog & ~tree.bad_trace):
            failures.append(CriticalPathFailure(str(tree.trace_ids[tree.trace[r]]), str(spans["span_id"].iat[r]), "root span is in progress (end is NaT) and in_progress='drop'"))
    else:
        end[inprog & ~is_root] = _INF
        root_ip = np.flatnonzero(is_root & inprog & valid)
        if len(root_ip):
            latest = np.maximum(np.where(end == _INF, _NAT, end), start)
            tmax = pd.Series(latest).groupby(tree.trace).max()
            end[root_ip] = tmax.reindex(tree.trace[root_ip]).to_numpy()
            nothing = root_ip[end[root_ip] <= start[root_ip]]
            for r in nothing:
                failures.append(CriticalPathFailure(str(tree.trace_ids[tree.trace[r]]), str(spans["span_id"].iat[r]), "root span is in progress and nothing in its trace ends after it starts"))
            valid[nothing] = False
    if inferred == "drop":
        valid &= ~(infer & ~is_root)
    # non-blocking children
    if rules:
        valid &= ~nonblocking_children(spans, tree, rules)

    # sanitise in tree order: clamp each level against its (sanitised) parent (core.clamp_to_parents: the one
    # definition, which what_if re-times by)
    rootrows = is_root & valid
    root_bad = rootrows & (end < start)
    for r in np.flatnonzero(root_bad):
        failures.append(CriticalPathFailure(str(tree.trace_ids[tree.trace[r]]), str(spans["span_id"].iat[r]), "root span ends before it starts"))
    valid &= ~root_bad
    cs, ce, _, valid = clamp_to_parents(parent, depth, start, end, valid, surrounding == "drop")

    roots = np.flatnonzero(valid & is_root)
    roots = roots[np.lexsort((tree.span_code[roots], cs[roots], tree.trace_rank[tree.trace[roots]]))]
    if engine == "auto":
        engine = "loop" if overlap_tolerance > 0 else "numpy"
    if engine == "numpy":
        if overlap_tolerance > 0:
            raise ArgumentError("critical_path: engine='numpy' needs overlap_tolerance=0 (use engine='loop')")
        rows, s_ns, e_ns, root_of = _sections_numpy(roots, valid & ~is_root, parent, cs, ce, tree.span_code, bool(adjacent_sequential))
    else:
        # children of each valid span, sorted by (parent, end desc, start asc, span id); zero-length
        # children carry no time and, with this order, never change the path: left out
        kids = np.flatnonzero(valid & ~is_root & (ce > cs))
        o = np.lexsort((tree.span_code[kids], cs[kids], -ce[kids], parent[kids]))
        kids = kids[o]
        kp = parent[kids]
        ptr_lo = np.searchsorted(kp, np.arange(n), side="left")
        ptr_hi = np.searchsorted(kp, np.arange(n), side="right")
        tol = np.zeros(n, dtype=np.int64)
        if overlap_tolerance > 0:
            tol = ((ce - cs).astype(np.float64) * float(overlap_tolerance)).astype(np.int64)
            tol[~valid] = 0
        out_row, out_s, out_e, out_root = _walk(
            roots.tolist(), kids.tolist(), ptr_lo.tolist(), ptr_hi.tolist(), cs.tolist(), ce.tolist(), tol.tolist(),
            bool(adjacent_sequential),
        )
        rows = np.asarray(out_row, dtype=np.int64)
        s_ns = np.asarray(out_s, dtype=np.int64)
        e_ns = np.asarray(out_e, dtype=np.int64)
        root_of = np.asarray(out_root, dtype=np.int64)
    # a root of 0 ms holds its (empty) path: one 0 ms section, so its request is counted as one by every
    # aggregate (it had none and vanished from the breakdown's and the flame tree's request counts)
    zero = roots[ce[roots] == cs[roots]]
    if len(zero):
        rows, s_ns, e_ns, root_of = (np.concatenate([rows, zero]), np.concatenate([s_ns, cs[zero]]),
                                     np.concatenate([e_ns, ce[zero]]), np.concatenate([root_of, zero]))
    tr = tree.trace_rank[tree.trace[rows]]  # output sorted by trace id, whatever the row order
    o = np.lexsort((tree.span_code[rows], tree.span_code[root_of] if len(root_of) else root_of, e_ns, s_ns, tr))
    rows, s_ns, e_ns, root_of, tr = rows[o], s_ns[o], e_ns[o], root_of[o], tr[o]
    if len(tr):
        first = np.r_[True, tr[1:] != tr[:-1]]
        grp_start = np.maximum.accumulate(np.where(first, np.arange(len(tr)), 0))
        sec_idx = np.arange(len(tr)) - grp_start
    else:
        sec_idx = np.zeros(0, dtype=np.int64)
    take = lambda col: spans[col].iloc[rows].reset_index(drop=True)  # noqa: E731
    paths, path_index = call_paths(spans, tree, rows, index=True) if len(rows) else (np.zeros(0, dtype=object), None)
    out = pd.DataFrame({
        "trace_id": take("trace_id").astype(STRING),
        "span_id": take("span_id").astype(STRING),
        "service": take("service").astype(STRING),
        "name": take("name").astype(STRING),
        "kind": take("kind").astype(STRING),
        "start": to_timestamps(s_ns),
        "end": to_timestamps(e_ns),
        "duration_ms": (e_ns - s_ns) / 1e6,
        "section_index": sec_idx.astype(np.int64),
        "depth": depth[rows].astype(np.int64),
        "root_span_id": spans["span_id"].iloc[root_of].reset_index(drop=True).astype(STRING),
        "request": tree.request_root[tree.trace[root_of]] == root_of if len(root_of) else np.zeros(0, dtype=bool),
        "call_path": pd.Series(paths, dtype=STRING),
        "in_progress": inprog[rows],
        "inferred": infer[rows],
    })
    failures.sort(key=lambda f: (f.trace_id, f.span_id or "", f.reason))
    out.attrs["failures"] = SharedTuple(failures)  # pandas deep-copies attrs into every derived frame
    out.attrs["duplicates_left_out"] = SharedTuple(kept)
    # the spans left out because their start is unknown, with their trace ids, and how many
    gone = np.flatnonzero(unknown & ~tree.bad_trace & ~tree.duplicate)
    out.attrs["no_start_spans"] = SharedTuple((str(tree.trace_ids[tree.trace[r]]), str(spans["span_id"].iat[r]))
                                              for r in gone.tolist())
    out.attrs["no_start"] = len(gone)
    out.attrs["params"] = shared_attr(params)
    if path_index is not None and len(path_index):
        out.attrs["call_path_index"] = path_index  # parents of the elided (very deep) call paths
    return out


def _sections_numpy(roots, kid_ok, parent, cs, ce, span_code, adjacent):
    """The same walk for every trace at once (no tolerance), with sorted arrays.

    With no tolerance a critical child's window is its own clamped interval, so the chain of
    critical children of a span depends on that span alone: its first link is its last-finishing
    child, and after child ``c`` comes the sibling that finishes last before ``c`` starts
    (``next``). ``next`` is one ``searchsorted`` over the children sorted by (parent, end desc) with
    end times replaced by their dense rank (so the composite key fits int64). The spans on the
    path are those reachable from the roots along ``first``/``next`` (a breadth-first sweep, one
    numpy step per link), and a span's own sections are the gaps between its on-path children.
    Zero-length children are left out: with the (end desc, start asc) order they never change
    the path and carry no time.
    """
    n = len(parent)
    kids = np.flatnonzero(kid_ok & (ce > cs))
    o = np.lexsort((span_code[kids], cs[kids], -ce[kids], parent[kids]))
    kids = kids[o]
    kp = parent[kids]
    first = np.full(n, -1, dtype=np.int64)
    nxt = np.full(n, -1, dtype=np.int64)
    if len(kids):
        lo = np.searchsorted(kp, kp, side="left")
        hi = np.searchsorted(kp, kp, side="right")
        is_first = np.r_[True, kp[1:] != kp[:-1]]
        first[kp[is_first]] = kids[is_first]
        vals, inv = unique_sorted(np.concatenate([ce[kids], cs[kids]]), return_inverse=True)
        r_end, r_start = inv[: len(kids)], inv[len(kids):]
        big = np.int64(len(vals) + 1)
        key = kp * big + (big - 1 - r_end)  # non-decreasing along kids
        q = kp * big + (big - 1 - r_start)
        j = np.searchsorted(key, q, side="left" if adjacent else "right")
        ok = j < hi
        nxt[kids[ok]] = kids[j[ok]]
        del lo
    on = np.zeros(n, dtype=bool)
    root_of = np.full(n, -1, dtype=np.int64)
    front = roots[ce[roots] > cs[roots]]
    on[front] = True
    root_of[front] = front
    while len(front):
        if len(front) <= 8:  # a narrow step (a deep chain): in plain Python, not one numpy pass per link
            nf = []
            for x in front.tolist():
                for c in (int(first[x]), int(nxt[x])):
                    if c >= 0 and not on[c]:
                        on[c] = True
                        root_of[c] = root_of[x]
                        nf.append(c)
            front = np.array(sorted(nf), dtype=np.int64)
            continue
        cand = np.concatenate([first[front], nxt[front]])
        src = np.concatenate([front, front])
        keep = cand >= 0
        cand, src = cand[keep], src[keep]
        keep = ~on[cand]
        cand, src = cand[keep], src[keep]
        cand, idx = unique_sorted(cand, return_index=True)
        on[cand] = True
        root_of[cand] = root_of[src[idx]]
        front = cand
    # sections: gaps of each on-path span between its on-path children
    ch = np.flatnonzero(on & kid_ok & (ce > cs) & (parent >= 0))
    ch = ch[np.lexsort((cs[ch], parent[ch]))]
    cp_ = parent[ch]
    grp_first = np.r_[True, cp_[1:] != cp_[:-1]] if len(ch) else np.zeros(0, dtype=bool)
    prev_end = np.where(grp_first, cs[cp_], np.r_[np.int64(0), ce[ch][:-1]]) if len(ch) else np.zeros(0, dtype=np.int64)
    spans_on = np.flatnonzero(on)
    last_end = cs.copy()
    if len(ch):
        grp_last = np.r_[cp_[1:] != cp_[:-1], True]
        last_end[cp_[grp_last]] = ce[ch[grp_last]]
    rows = np.concatenate([cp_, spans_on])
    s_ns = np.concatenate([prev_end, last_end[spans_on]])
    e_ns = np.concatenate([cs[ch], ce[spans_on]])
    keep = e_ns > s_ns
    rows, s_ns, e_ns = rows[keep], s_ns[keep], e_ns[keep]
    return rows, s_ns, e_ns, root_of[rows]


def _walk(roots, kids, ptr_lo, ptr_hi, cs, ce, tol, adjacent):
    """The last-finishing-child walk over plain Python lists (one forward scan per parent)."""
    out_row: list[int] = []
    out_s: list[int] = []
    out_e: list[int] = []
    out_root: list[int] = []
    ap_row, ap_s, ap_e, ap_root = out_row.append, out_s.append, out_e.append, out_root.append
    for r in roots:
        # frames: span, cut, child pointer, first pick?
        st_span = [r]
        st_cut = [ce[r]]
        st_ptr = [ptr_lo[r]]
        st_first = [True]
        while st_span:
            s = st_span[-1]
            cut = st_cut[-1]
            j = st_ptr[-1]
            jend = ptr_hi[s]
            lim = cut + tol[s]
            strict = not (st_first[-1] or adjacent)
            found = -1
            while j < jend:
                c = kids[j]
                j += 1
                e = ce[c]
                if (e < lim if strict else e <= lim) and cs[c] < cut:
                    found = c
                    break
            if found < 0:
                s0 = cs[s]
                if cut > s0:
                    ap_row(s)
                    ap_s(s0)
                    ap_e(cut)
                    ap_root(r)
                st_span.pop()
                st_cut.pop()
                st_ptr.pop()
                st_first.pop()
                if st_span:
                    st_cut[-1] = s0
                    st_first[-1] = False
            else:
                e = ce[found]
                if e > cut:
                    e = cut
                if cut > e:
                    ap_row(s)
                    ap_s(e)
                    ap_e(cut)
                    ap_root(r)
                st_ptr[-1] = j
                st_span.append(found)
                st_cut.append(e)
                st_ptr.append(ptr_lo[found])
                st_first.append(True)
    return out_row, out_s, out_e, out_root


def requests_only(cp: pd.DataFrame, spans: pd.DataFrame) -> pd.DataFrame:
    """``cp`` with ``request`` True only on the request root's sections of a trace that *is* a request by
    :func:`tracekit.trace_outcomes`' one definition: not asynchronous work (a consumer root, a root with a link),
    not the callee's half of a request whose context was dropped (counted once, in the caller's). The walk marks
    the request root's sections; which traces are requests depends on the frame (a trace continues another only
    when that one is in it), so it is applied here, after the per-frame cache, from the cached outcomes."""
    if not len(cp) or not cp["request"].to_numpy(dtype=bool).any():
        return cp
    oc = trace_outcomes(spans)
    is_req = oc["request"].to_numpy(dtype=bool)
    pos = pd.Index(oc["trace_id"].astype(object)).get_indexer(cp["trace_id"].astype(object))
    keep = cp["request"].to_numpy(dtype=bool) & np.where(pos >= 0, is_req[np.maximum(pos, 0)], False)
    if (keep == cp["request"].to_numpy(dtype=bool)).all():
        return cp
    out = cp.copy()
    out["request"] = keep
    return out
