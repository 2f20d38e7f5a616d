"""Diff two traces span by span, and find a representative incident trace with its baseline twin.

:func:`diff_traces` aligns the spans of trace *a* with those of trace *b* from the request roots
down. Under an aligned pair of parents, children are grouped by operation (``service:name``) and
matched in start order, the k-th ``SELECT orders`` of *a* with the k-th of *b*: the pair then has
the same call path and sibling order. When an operation occurs a different number of times under
the two parents, each call of the shorter run is matched, in order, with a call of the longer run, those
nearest in start and end offset from the parent (least total difference: a loop that ran 3 times and then 5 pairs
its first 3 calls, a retry inserted between two calls is the one left over); what stays unmatched is
``added`` (only in *b*) or ``removed`` (only in *a*). Past 20,000 calls in a run (or 4 million
alignment cells) they are matched by nearest start offset instead, within ``tolerance_ms``.
Fragments (orphans) and extra roots are aligned the same way, as children of a virtual parent; a fragment whose
head names a span the other trace has (its parent lost on one side: the root not exported, a span not sampled) is
aligned as a child of that span instead. Spans on a loop of parents (or under one) are kept too: the loop is cut
above its earliest span, which is aligned as a fragment head (as :func:`tracekit.waterfall_data` shows it).

Each row is one aligned pair (or one unmatched span) with:

- ``status``: ``same`` (same duration, status and attributes), ``changed``, ``added``, ``removed``;
- ``delta_duration_ms``, ``delta_self_ms`` (exclusive time, :func:`tracekit.self_time`) and
  ``delta_start_ms`` (start offset from the request root: a later sibling shifted by a slower
  call shows here while its own duration is unchanged);
- ``on_cp_a`` / ``on_cp_b``: the span has a section on its trace's critical path;
- ``attribute_changes``: ``{key: (value in a, value in b)}`` for every attribute that differs, and
  for every resource attribute as ``resource.<key>`` (``resource.service.version`` after a deploy);
  X-Ray's trace-level ``xray.trace.*`` (the whole trace's duration, copied onto every span) is left out.

``b - a`` everywhere: *a* is the reference (e.g. the baseline), *b* the trace looked at.

>>> import tracekit as tk
>>> ms = 1_000_000
>>> def trace(db_ms):
...     return tk.spans_from_columns({
...         "trace_id": ["1" * 32] * 3, "span_id": ["a" * 16, "b" * 16, "c" * 16],
...         "parent_id": [None, "a" * 16, "a" * 16], "service": ["web", "web", "web"],
...         "name": ["GET /", "SELECT orders", "render"], "kind": ["server", "client", "internal"],
...         "start": [0, 1 * ms, (2 + db_ms) * ms], "end": [(10 + db_ms) * ms, (1 + db_ms) * ms, (9 + db_ms) * ms]})
>>> d = diff_traces(trace(1), trace(251))
>>> d[["name", "status", "delta_duration_ms", "delta_start_ms"]].values.tolist()
[['GET /', 'changed', 250.0, 0.0], ['SELECT orders', 'changed', 250.0, 0.0], ['render', 'same', 0.0, 250.0]]
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..core import (
    NAT_NS,
    call_paths,
    ns,
    request_routes,
    require_columns,
    result_table,
    span_tree,
    start_unknown,
    trace_id_of,
    trace_outcomes,
)
from ..core.args import number_arg
from ..core.deprecation import renamed
from ..core.results import Result
from ..errors import ArgumentError, TraceKitError
from ..schema import known_name_column, known_service_column, shared_attr
from .critical_paths import critical_path
from .structure import self_time
from .traceql import is_traceql, traceql_mask

__all__ = ["diff_traces", "trace_diff_summary", "exemplars", "Exemplars", "TRACE_DIFF", "TRACE_DIFF_SUMMARY"]

_NEEDED = ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end")

TRACE_DIFF = result_table("diff_traces", "one row per aligned span pair (or unmatched span) of two traces", [
    ("call_path", "object", "", "operations from the root down (service:name > …), of the span in b, else in a"),
    ("service", "object", "", "service of the span (b, else a; unknown_service when missing)"),
    ("name", "object", "", "operation of the span (b, else a; (unnamed) when missing)"),
    ("depth", "int64", "", "depth below the request root or fragment head (a fragment whose head names a span of the "
                          "other trace hangs, and counts, from that span's place)"),
    ("status", "object", "", "same / changed (duration, status or attributes differ) / added (only in b) / removed (only in a)"),
    ("span_id_a", "object", "", "span id in a (None when added)"),
    ("span_id_b", "object", "", "span id in b (None when removed)"),
    ("start_ms_a", "float64", "ms", "start offset from a's request root"),
    ("start_ms_b", "float64", "ms", "start offset from b's request root"),
    ("duration_ms_a", "float64", "ms", "inclusive duration in a"),
    ("duration_ms_b", "float64", "ms", "inclusive duration in b"),
    ("self_ms_a", "float64", "ms", "exclusive (self) time in a (tracekit.self_time)"),
    ("self_ms_b", "float64", "ms", "exclusive (self) time in b"),
    ("delta_duration_ms", "float64", "ms", "duration b − a (NaN when added or removed)"),
    ("delta_self_ms", "float64", "ms", "exclusive (self) time b − a"),
    ("unmatched_children_ms", "float64", "ms", "time the span's children that are in one trace only hold in it, b − a: "
                                               "the cover of its added children in b minus that of its removed children "
                                               "in a (each outside its matched children, clipped to the span); "
                                               "delta_self_ms + unmatched_children_ms is its self-time change with "
                                               "its children held the same (NaN when added or removed): a span as long "
                                               "in both whose 50 ms child is gone reads delta_self_ms +50, "
                                               "unmatched_children_ms -50 — the child's time, not its own work"),
    ("delta_start_ms", "float64", "ms", "start offset from the request root, b − a (a shifted sibling shows here)"),
    ("status_a", "object", "", "span status in a"),
    ("status_b", "object", "", "span status in b"),
    ("on_cp_a", "bool", "", "the span has a section on a's critical path"),
    ("on_cp_b", "bool", "", "the span has a section on b's critical path"),
    ("cp_ms_a", "float64", "ms", "time of the span's sections on a's critical path (0 off it; NaN when added, or when "
                                 "a has no critical path)"),
    ("cp_ms_b", "float64", "ms", "time of the span's sections on b's critical path (0 off it; NaN when removed, or "
                                 "when b has no critical path)"),
    ("attribute_changes", "object", "", "{key: (value in a, value in b)} for attributes (and resource.<key>) that differ"),
])

TRACE_DIFF_SUMMARY = result_table("trace_diff_summary", "one row per service of a trace diff", [
    ("service", "object", "", "service"),
    ("same", "int64", "spans", "aligned spans with nothing changed"),
    ("changed", "int64", "spans", "aligned spans whose duration, status or attributes changed"),
    ("added", "int64", "spans", "spans only in b"),
    ("removed", "int64", "spans", "spans only in a"),
    ("delta_self_ms", "float64", "ms", "sum of exclusive-time changes (added spans count their self time, removed ones "
                                       "minus theirs: self_ms_b, self_ms_a)"),
    ("unmatched_children_ms", "float64", "ms", "sum of the service's aligned spans' unmatched_children_ms (diff_traces): "
                                               "of delta_self_ms, minus this much is time children added or removed "
                                               "held (a gone 50 ms call: its caller's service +50 self time, here -50)"),
    ("delta_cp_ms", "float64", "ms", "change of the service's critical-path time, b − a (the sum of its spans' cp_ms; "
                                     "NaN when a trace has no critical path)"),
])


_TRACE_LEVEL = "xray.trace."


def _one_trace(spans: pd.DataFrame, trace_id: str | None, what: str) -> pd.DataFrame:
    require_columns(spans, _NEEDED, "diff_traces")
    if is_traceql(trace_id):  # the one trace holding the spans a TraceQL query matches
        hit = traceql_mask(spans, trace_id)[0]
        found = pd.unique(spans["trace_id"].to_numpy(dtype=object)[hit])
        if len(found) != 1:
            raise ArgumentError(f"diff_traces: the TraceQL query {trace_id!r} matches spans of {len(found)} traces in {what}"
                                + (f" ({', '.join(map(str, found[:3]))}{', ...' if len(found) > 3 else ''})" if len(found) else "")
                                + "; it must pick one (e.g. add trace:id or a narrower condition)")
        trace_id = str(found[0])
    if trace_id is not None:
        tid = trace_id_of(spans, trace_id)  # as the frame holds it, else canonical
        out = spans[spans["trace_id"] == tid]
        if not len(out):
            raise ArgumentError(f"diff_traces: trace {tid} is not in the spans of {what}")
        return out
    ids = spans["trace_id"].dropna().unique()
    if len(ids) != 1:
        raise ArgumentError(f"diff_traces: {what} holds {len(ids)} traces; pass one trace, or diff_traces(spans, id_a, id_b)")
    return spans


def _prepare(t: pd.DataFrame) -> dict:
    t = t.reset_index(drop=True)
    tree = span_tree(t)
    n = len(t)
    start = ns(t["start"])
    end = ns(t["end"])
    root = int(tree.request_root[0]) if tree.n_traces and tree.request_root[0] >= 0 else (int(np.argmin(start)) if n else -1)
    t0 = start[root] if n else 0
    dur = t["duration_ms"].to_numpy(dtype=np.float64, na_value=np.nan) if "duration_ms" in t else np.where(end == NAT_NS, np.nan, (end - start) / 1e6)
    selfms = self_time(t)["self_ms"].to_numpy(dtype=np.float64, na_value=np.nan)
    try:
        cp = critical_path(t)
        on_cp = t["span_id"].isin(set(cp["span_id"].tolist())).to_numpy()
        cp_ms = t["span_id"].map(cp.groupby("span_id")["duration_ms"].sum()).fillna(0.0).to_numpy(dtype=np.float64)
        if n and not len(cp):  # the walk failed (a parent cycle, a root with no start...: cp.attrs['failures']):
            cp_ms = np.full(n, np.nan)  # unknown, as documented, not 0 ms on every span
    except TraceKitError:  # no critical path: its times are unknown (NaN), not 0
        on_cp = np.zeros(n, dtype=bool)
        cp_ms = np.full(n, np.nan)
    offsets, kids = tree.children()
    # the other copies of a span exported twice are left out (the kernel tree's policy): one call, not one added
    keep = ~tree.duplicate
    ops = (known_service_column(t["service"]).astype(object) + ":" + known_name_column(t["name"]).astype(object)).to_numpy(dtype=object)
    heads = np.flatnonzero((tree.parent < 0) & keep)
    if tree.cycle.any():  # spans on or under a parent cycle reach no root: they were left out of the diff, silently
        offsets, kids, promoted = _break_cycles(tree, start)
        heads = np.concatenate([heads, promoted[keep[promoted]]])
    # a start that is unknown (core.start_unknown: OTLP's unset start read as 1970) has no offset and gives no duration:
    # shown as NaN (a span of root 1000..1100 ms read from 1970 showed start -1000 ms, 1060 ms long); its own and the
    # request root's start still order the matching (rel)
    unknown = start_unknown(t)
    rel = (start - t0) / 1e6
    shown_rel = np.where(unknown | (unknown[root] if n else False), np.nan, rel)
    shown_dur = np.where(unknown, np.nan, dur)
    return {"t": t, "keep": keep, "tree": tree, "start": start, "end": end, "rel": rel,
            "sid": t["span_id"].astype(str).to_numpy(dtype=object), "dur": dur, "self": selfms, "on_cp": on_cp,
            "shown_rel": shown_rel, "shown_dur": shown_dur,
            "offsets": offsets, "kids": kids, "ops": ops, "heads": heads, "cp_ms": cp_ms,
            "status": t["status"].to_numpy(dtype=object, na_value=None) if "status" in t else np.full(n, None, object),
            "attrs": t["attributes"].to_numpy(dtype=object) if "attributes" in t else np.full(n, None, object),
            "res": t["resource"].to_numpy(dtype=object) if "resource" in t else np.full(n, None, object)}


def _held_by(p: dict, unmatched: np.ndarray) -> np.ndarray:
    """Per span of a side (:func:`_prepare`): the time its ``unmatched`` children (rows of that side only in it: added
    or removed) hold in it, outside its other children — its self time with them taken away, less its self time
    (:func:`tracekit.self_time` both: one definition). 0 where it has none."""
    n = len(p["t"])
    if not len(unmatched) or not n:
        return np.zeros(n)
    keep = np.ones(n, dtype=bool)
    keep[unmatched] = False
    without = np.full(n, np.nan)
    without[keep] = self_time(p["t"][keep])["self_ms"].to_numpy(dtype=np.float64, na_value=np.nan)
    return np.where(keep, without - p["self"], 0.0)


def _break_cycles(tree, start: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Children (CSR, as ``tree.children()``) with every parent cycle cut, and the spans promoted to heads: of each
    loop of parents (or span naming itself) its earliest span (then the first row) is a head, the spans under it
    its subtree, as the waterfall shows them (every span once). A trace whose spans named each other as parents
    lost them all from the diff: those of the other trace read as 'removed'."""
    parent = tree.parent.copy()
    offsets, kids = tree.children()
    reached = ~tree.cycle
    # the spans on a loop: peel the spans under it off, leaves first (a span whose cycle children are all peeled)
    cyc = tree.cycle
    n_kids = np.bincount(parent[cyc & (parent >= 0)], minlength=len(parent))
    peel = [int(i) for i in np.flatnonzero(cyc & (n_kids == 0))]
    on_loop = cyc.copy()
    while peel:
        i = peel.pop()
        on_loop[i] = False
        p = int(parent[i])
        if p >= 0:
            n_kids[p] -= 1
            if n_kids[p] == 0:
                peel.append(p)
    promoted = []
    # a span naming itself has no parent left (-1): a head already, its subtree reached from it
    selfp = np.flatnonzero(cyc & (parent < 0))
    first = np.flatnonzero(on_loop)
    rest = np.flatnonzero(cyc)
    left = np.concatenate([selfp, first[np.lexsort((first, start[first]))], rest[np.lexsort((rest, start[rest]))]])
    for h in left.tolist():
        if reached[h]:
            continue
        if parent[h] >= 0:
            promoted.append(h)
        parent[h] = -1
        reached[h] = True
        todo = [h]
        while todo:
            i = todo.pop()
            for c in kids[offsets[i]:offsets[i + 1]].tolist():
                if not reached[c]:
                    reached[c] = True
                    todo.append(c)
    order = np.argsort(parent, kind="stable")
    order = order[parent[order] >= 0]
    out = np.zeros(len(parent) + 1, dtype=np.int64)
    np.cumsum(np.bincount(parent[order], minlength=len(parent)), out=out[1:])
    return out, order, np.asarray(promoted, dtype=np.int64)


def _adopted(p: dict, q: dict) -> dict[int, list[int]]:
    """Fragment heads of ``p`` (a parent id that is not in ``p``) whose parent id is a span of ``q``: {row in q: heads}."""
    tree = p["tree"]
    heads = np.flatnonzero(tree.orphan & p["keep"] & (tree.parent < 0))
    if not len(heads) or not len(q["t"]):
        return {}
    pid = p["t"]["parent_id"].to_numpy(dtype=object, na_value=None)[heads]
    sid = q["t"]["span_id"].to_numpy(dtype=object, na_value=None)
    where = pd.Index(sid[q["keep"]]).get_indexer(pid) if pd.Index(sid[q["keep"]]).is_unique else np.full(len(pid), -1)
    rows_q = np.flatnonzero(q["keep"])
    out: dict[int, list[int]] = {}
    for h, w in zip(heads.tolist(), where.tolist(), strict=True):
        if w >= 0:
            out.setdefault(int(rows_q[w]), []).append(h)
    return out


def _children(p: dict, i: int) -> np.ndarray:
    if i < 0:
        return p["heads"]
    k = p["kids"][p["offsets"][i]:p["offsets"][i + 1]]
    return k[p["keep"][k]]


def _nearest_pairs(oa: np.ndarray, ob: np.ndarray, tol_ms: float, ra: np.ndarray, rb: np.ndarray
                   ) -> Iterator[tuple[int, int]]:
    """The pairs (i, j) of offsets ``oa[i]``, ``ob[j]`` at most ``tol_ms`` apart, nearest first (ties: the ranks
    ``ra[i]``, then ``rb[j]``):
    the candidates of the greedy matching. Only pairs within the tolerance are made (each ``oa[i]``'s window of the
    sorted ``ob``), so 501 calls against 500 make ~1,500, not 250,500. Beyond 4 million (thousands of calls within
    the tolerance of each other) each ``oa`` in offset order is paired with the first of its window not yet paired
    (linear): the greedy pairs where the distances are equal (calls at one offset), in order rather than nearest
    first elsewhere."""
    order = np.argsort(ob, kind="stable")
    sb = ob[order]
    lo = np.searchsorted(sb, oa - tol_ms, side="left")
    hi = np.searchsorted(sb, oa + tol_ms, side="right")
    width = np.maximum(hi - lo, 0)
    total = int(width.sum())
    if total > 4_000_000:  # each in offset order takes the first of its window not taken (linear)
        p = 0
        for i in np.argsort(oa, kind="stable").tolist():
            p = max(p, int(lo[i]))
            if p < hi[i]:
                yield i, int(order[p])
                p += 1
        return
    ii = np.repeat(np.arange(len(oa)), width)
    kk = np.arange(total) - np.repeat(np.cumsum(width) - width, width) + np.repeat(lo, width)
    jj = order[kk]
    dist = np.abs(oa[ii] - ob[jj])
    keep = dist <= tol_ms
    ii, jj, dist = ii[keep], jj[keep], dist[keep]
    for k in np.lexsort((rb[jj], ra[ii], dist)).tolist():
        yield int(ii[k]), int(jj[k])


#: largest alignment of two runs of an operation's calls (shorter run × (count difference + 1) cells) made by
#: :func:`_aligned`; beyond it, the nearest-start greedy within ``tolerance_ms`` (:func:`_nearest_pairs`)
_ALIGN_CELLS = 4_000_000
#: longest shorter run :func:`_aligned` pairs (one numpy step per call: 20,000 calls take about 0.75 s)
_ALIGN_ROWS = 20_000


def _aligned(xa: np.ndarray, xb: np.ndarray) -> list[tuple[int, int]] | None:
    """Order-preserving pairs (i, j) of the calls of two runs of one operation (rows of start and end offsets
    ``xa``, ``xb``, each in start order) of different lengths: every call of the shorter run paired with one of the
    longer, in order, the total start and end offset difference least (ties: the longer run's unpaired calls last;
    the end tells calls starting together apart: of parallel calls of 10, 20, 30 ms and 5, 10, 20, 30 ms, the 5 ms
    one is left over). Dynamic programming over the
    shorter run × (count difference + 1) cells (linear when the counts are close); None beyond
    :data:`_ALIGN_CELLS` or :data:`_ALIGN_ROWS`."""
    swap = len(xa) > len(xb)
    xs, xl = (xb, xa) if swap else (xa, xb)
    n, k = len(xs), len(xl) - len(xs)
    if n == 0:
        return []
    if n * (k + 1) > _ALIGN_CELLS or n > _ALIGN_ROWS:
        return None
    # offsets as whole ns (exact sums: equal costs tie exactly)
    xs = np.round(np.nan_to_num(np.asarray(xs, dtype=float).reshape(n, -1), nan=0.0) * 1e6)
    xl = np.round(np.nan_to_num(np.asarray(xl, dtype=float).reshape(n + k, -1), nan=0.0) * 1e6)
    skip = np.arange(k + 1)
    back = np.zeros((n, k + 1), dtype=np.int64)  # the skip count of the row before, for each skip count of this row
    dp = np.abs(xs[0] - xl[skip]).sum(axis=1)
    for i in range(1, n):
        run_min = np.minimum.accumulate(dp)
        # the first skip count reaching the running minimum (fewest calls of the longer run left out before)
        new_low = np.r_[True, dp[1:] < run_min[:-1]]
        back[i] = np.maximum.accumulate(np.where(new_low, skip, 0))
        dp = run_min + np.abs(xs[i] - xl[i + skip]).sum(axis=1)
    j = int(np.argmin(dp))  # first minimum: the unpaired calls of the longer run last
    pairs = []
    for i in range(n - 1, -1, -1):
        pairs.append((i, i + j))
        j = int(back[i, j])
    pairs.reverse()
    return [(q, p) for p, q in pairs] if swap else pairs


def _match(pa: dict, ka: np.ndarray, pb: dict, kb: np.ndarray, tol_ms: float, base_a: float, base_b: float):
    """Pairs (ia, ib) of children, -1 for unmatched, grouped by operation."""
    out = []
    ga: dict[str, list[int]] = {}
    gb: dict[str, list[int]] = {}
    # in start order; calls starting together by their end, then span id: not by row (two SELECTs starting at one
    # instant, 20 and 50 ms long, paired crosswise in 4 of 6 row orders: 'changed' +30 and -30 ms for 'same')
    for i in sorted(ka.tolist(), key=lambda r: (pa["start"][r], pa["end"][r], pa["sid"][r])):
        ga.setdefault(pa["ops"][i], []).append(i)
    for i in sorted(kb.tolist(), key=lambda r: (pb["start"][r], pb["end"][r], pb["sid"][r])):
        gb.setdefault(pb["ops"][i], []).append(i)
    for op in list(ga) + [o for o in gb if o not in ga]:
        la, lb = ga.get(op, []), gb.get(op, [])
        if len(la) == len(lb):
            out += list(zip(la, lb, strict=True))
            continue
        # different counts: the calls of the shorter run each paired, in order, with calls of the longer run, those
        # nearest in start offset from the parent (least total difference); the longer run's others unmatched. A
        # nearest-start greedy within tolerance_ms crossed a loop's calls (3 calls of 20 ms against 5 of 40: a's 3rd
        # with b's 2nd, a's 2nd 'removed') and lost every call of a loop shifted by a slower call before it (3
        # removed + 4 added for 3 same + 1 added)
        xa = np.array([pa["rel"][i] - base_a for i in la], dtype=float)
        xb = np.array([pb["rel"][j] - base_b for j in lb], dtype=float)
        # (the end too: of calls starting together, the one whose length has no twin is left over)
        ea = xa + np.nan_to_num(np.array([pa["dur"][i] for i in la], dtype=float))
        eb = xb + np.nan_to_num(np.array([pb["dur"][j] for j in lb], dtype=float))
        al = _aligned(np.column_stack([xa, ea]), np.column_stack([xb, eb]))
        if al is not None:
            used_a = {la[i] for i, _ in al}
            used_b = {lb[j] for _, j in al}
            out += [(la[i], lb[j]) for i, j in al]
            out += [(i, -1) for i in la if i not in used_a]
            out += [(-1, j) for j in lb if j not in used_b]
            continue
        # thousands of calls more on one side: nearest start offset from the parent, within the tolerance, greedily
        used_a, used_b = set(), set()
        # (ties: the calls' order, start, end, span id; the rows made a pairing follow row order)
        for i, j in _nearest_pairs(xa, xb, tol_ms, np.arange(len(la)), np.arange(len(lb))):
            i, j = la[i], lb[j]
            if i in used_a or j in used_b:
                continue
            used_a.add(i)
            used_b.add(j)
            out.append((i, j))
            if len(used_a) == len(la) or len(used_b) == len(lb):
                break  # one side all paired: the rest of the candidates cannot pair
        out += [(i, -1) for i in la if i not in used_a]
        out += [(-1, j) for j in lb if j not in used_b]
    # children by start (b's offset, else a's; ties: a's, then the rows), not grouped by operation: the rows of the
    # diff are a waterfall (plot_trace_diff draws them in this order)
    inf = float("inf")
    out.sort(key=lambda x: (pb["rel"][x[1]] if x[1] >= 0 else pa["rel"][x[0]], pa["rel"][x[0]] if x[0] >= 0 else inf,
                            x[0], x[1]))
    return out


def _same_value(va, vb) -> bool:
    """Two attribute values are the same: equal, or both NaN (a NaN double made a trace differ from its own copy),
    item by item inside lists, tuples, arrays and dicts."""
    if isinstance(va, float | np.floating) and isinstance(vb, float | np.floating) and np.isnan(va) and np.isnan(vb):
        return True
    if isinstance(va, list | tuple | np.ndarray) and isinstance(vb, list | tuple | np.ndarray):
        return len(va) == len(vb) and all(_same_value(x, y) for x, y in zip(va, vb, strict=True))
    if isinstance(va, dict) and isinstance(vb, dict):
        return va.keys() == vb.keys() and all(_same_value(va[k], vb[k]) for k in va)
    try:
        same = va == vb
        return bool(same) if not isinstance(same, np.ndarray) else bool(same.all())
    except (TypeError, ValueError):
        return False


def _attr_changes(a, b) -> dict:
    a = a if isinstance(a, dict) else {}
    b = b if isinstance(b, dict) else {}
    out = {}
    for k in a.keys() | b.keys():
        va, vb = a.get(k), b.get(k)
        if not _same_value(va, vb):
            out[k] = (va, vb)
    return dict(sorted(out.items()))


def diff_traces(
    a: pd.DataFrame,
    b: pd.DataFrame | str,
    id_b: str | None = None,
    *,
    tolerance_ms: float = 50.0,
    rtol: float = 1e-9,
) -> pd.DataFrame:
    """Align two traces span by span and say what changed (``b`` − ``a``).

    Parameters
    ----------
    a : pandas.DataFrame
        The reference trace (one trace's spans), or a spans frame holding both traces.
    b : pandas.DataFrame or str
        The trace to compare (one trace's spans), or the trace id of the reference trace in ``a``
        when ``a`` holds both (``diff_traces(spans, id_a, id_b)``). The two traces may share a
        trace id (the same request in an incident file and in a baseline file).
    id_b : str, optional
        With ``b`` a trace id: the id of the trace to compare. X-Ray ids are accepted. Either id
        may be a TraceQL query that matches spans of exactly one trace.
    tolerance_ms : float, default 50.0
        Largest start-offset difference for matching spans of an operation whose count differs by thousands
        under one parent (past 20,000 calls, or 4 million alignment cells: nearest start matching); runs
        shorter than that are aligned in order (module docstring).
    rtol : float, default 1e-9
        Durations closer than this (relative, plus 1 ns) count as equal.

    Returns
    -------
    pandas.DataFrame
        One row per aligned pair or unmatched span, in tree order (depth first, children by
        start); columns declared in :data:`TRACE_DIFF`.

    Raises
    ------
    ArgumentError
        A frame does not hold exactly one trace, or a trace id is not found.
    SpansSchemaError
        A needed column is missing.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.examples.load("checkout-small")
    >>> ids = spans["trace_id"].unique()[:2]
    >>> d = tk.diff_traces(spans, ids[0], ids[1])
    >>> set(d["status"]) <= {"same", "changed", "added", "removed"}
    True
    """
    tolerance_ms = number_arg(tolerance_ms, "tolerance_ms", "diff_traces", low=0)
    rtol = number_arg(rtol, "rtol", "diff_traces", low=0)
    if isinstance(b, str):
        if id_b is None:
            raise ArgumentError("diff_traces(spans, id_a, id_b) needs both trace ids")
        ta, tb = _one_trace(a, b, "a"), _one_trace(a, id_b, "a")
    else:
        if id_b is not None:
            raise ArgumentError("diff_traces: id_b is only used as diff_traces(spans, id_a, id_b)")
        ta, tb = _one_trace(a, None, "a"), _one_trace(b, None, "b")
    pa, pb = _prepare(ta), _prepare(tb)
    rows: list[tuple] = []
    # a fragment of one trace whose head names a span the other trace has (its parent lost on this side: the root
    # not exported, a span not sampled) hangs under that span's place, not beside the roots: with the root lost in b,
    # b's db:q and its child were 'added' and a's 'removed', the same spans
    adopt_b, adopt_a = _adopted(pb, pa), _adopted(pa, pb)
    skip_b = {h for hs in adopt_b.values() for h in hs}
    skip_a = {h for hs in adopt_a.values() for h in hs}
    stack = [(-1, -1, -1)]  # (row in a, row in b, depth): the virtual parent of roots and fragments
    while stack:
        ia, ib, depth = stack.pop()
        if ia >= 0 or ib >= 0:
            rows.append((ia, ib, depth))
        none = np.zeros(0, dtype=np.int64)  # the side without this span has no children here (-1 is the virtual root)
        ka = _children(pa, ia) if ia >= 0 or ib < 0 else none
        kb = _children(pb, ib) if ib >= 0 or ia < 0 else none
        if ia < 0 and ib < 0:
            ka = ka[~np.isin(ka, list(skip_a))] if skip_a else ka
            kb = kb[~np.isin(kb, list(skip_b))] if skip_b else kb
        if ib >= 0 and ib in adopt_a:
            ka = np.concatenate([ka, np.asarray(adopt_a[ib], dtype=ka.dtype)])
        if ia >= 0 and ia in adopt_b:
            kb = np.concatenate([kb, np.asarray(adopt_b[ia], dtype=kb.dtype)])
        if len(ka) and len(kb):
            base_a = pa["rel"][ia] if ia >= 0 else (pb["rel"][ib] if ib >= 0 else 0.0)
            base_b = pb["rel"][ib] if ib >= 0 else base_a
            pairs = _match(pa, ka, pb, kb, tolerance_ms, base_a, base_b)
        else:
            pairs = [(c, -1) for c in ka.tolist()] + [(-1, c) for c in kb.tolist()]
        stack.extend((x, y, depth + 1) for x, y in reversed(pairs))
    ia = np.array([r[0] for r in rows], dtype=np.int64)
    ib = np.array([r[1] for r in rows], dtype=np.int64)
    has_a, has_b = ia >= 0, ib >= 0
    # the self time each aligned span would have with its children in one trace only taken away (the same kernel:
    # self_time), less its own: what those children held in it
    held_a = _held_by(pa, ia[has_a & ~has_b])
    held_b = _held_by(pb, ib[has_b & ~has_a])

    def take(p: dict, key: str, idx: np.ndarray, fill):
        v = p[key]
        out = np.full(len(idx), fill, dtype=v.dtype if fill is not None and not isinstance(fill, str) else object)
        ok = idx >= 0
        out[ok] = v[idx[ok]]
        return out

    ta_, tb_ = pa["t"], pb["t"]
    cpa = call_paths(ta_, pa["tree"], np.maximum(ia, 0)) if len(ta_) else np.full(len(ia), None, object)
    cpb = call_paths(tb_, pb["tree"], np.maximum(ib, 0)) if len(tb_) else np.full(len(ib), None, object)
    dur_a, dur_b = take(pa, "shown_dur", ia, np.nan), take(pb, "shown_dur", ib, np.nan)
    self_a, self_b = take(pa, "self", ia, np.nan), take(pb, "self", ib, np.nan)
    rel_a, rel_b = take(pa, "shown_rel", ia, np.nan), take(pb, "shown_rel", ib, np.nan)
    st_a, st_b = take(pa, "status", ia, None), take(pb, "status", ib, None)
    changes = [{**_attr_changes(pa["attrs"][x], pb["attrs"][y]),
                **{f"resource.{k}": v for k, v in _attr_changes(pa["res"][x], pb["res"][y]).items()
                   if not k.startswith(_TRACE_LEVEL)}}
               if x >= 0 and y >= 0 else {} for x, y in zip(ia, ib, strict=True)]
    d_dur = dur_b - dur_a
    equal_dur = np.isclose(dur_a, dur_b, rtol=rtol, atol=1e-6, equal_nan=True)
    status = np.where(~has_b, "removed", np.where(~has_a, "added", np.where(
        equal_dur & (st_a == st_b) & np.array([not c for c in changes], dtype=bool), "same", "changed")))
    # a missing service or name is unknown_service / (unnamed), as the matching above and every analysis name it:
    # a span of no service had no service here, and trace_diff_summary's row of it (its +50 ms) went missing
    t_a_svc = known_service_column(ta_["service"]).to_numpy(dtype=object, na_value=None)
    t_b_svc = known_service_column(tb_["service"]).to_numpy(dtype=object, na_value=None)
    t_a_nm = known_name_column(ta_["name"]).to_numpy(dtype=object, na_value=None)
    t_b_nm = known_name_column(tb_["name"]).to_numpy(dtype=object, na_value=None)
    out = pd.DataFrame({
        "call_path": np.where(has_b, cpb, cpa),
        "service": np.where(has_b, t_b_svc[np.maximum(ib, 0)] if len(tb_) else None, t_a_svc[np.maximum(ia, 0)] if len(ta_) else None),
        "name": np.where(has_b, t_b_nm[np.maximum(ib, 0)] if len(tb_) else None, t_a_nm[np.maximum(ia, 0)] if len(ta_) else None),
        "depth": np.array([r[2] for r in rows], dtype=np.int64),
        "status": status.astype(object),
        "span_id_a": np.where(has_a, ta_["span_id"].to_numpy(dtype=object)[np.maximum(ia, 0)] if len(ta_) else None, None),
        "span_id_b": np.where(has_b, tb_["span_id"].to_numpy(dtype=object)[np.maximum(ib, 0)] if len(tb_) else None, None),
        "start_ms_a": rel_a.astype(np.float64),
        "start_ms_b": rel_b.astype(np.float64),
        "duration_ms_a": dur_a.astype(np.float64),
        "duration_ms_b": dur_b.astype(np.float64),
        "self_ms_a": self_a.astype(np.float64),
        "self_ms_b": self_b.astype(np.float64),
        "delta_duration_ms": np.where(has_a & has_b, d_dur, np.nan).astype(np.float64),
        "delta_self_ms": np.where(has_a & has_b, self_b - self_a, np.nan).astype(np.float64),
        "unmatched_children_ms": np.where(has_a & has_b, take({"v": held_b}, "v", ib, np.nan)
                                          - take({"v": held_a}, "v", ia, np.nan), np.nan).astype(np.float64),
        "delta_start_ms": np.where(has_a & has_b, rel_b - rel_a, np.nan).astype(np.float64),
        "status_a": st_a, "status_b": st_b,
        "on_cp_a": np.where(has_a, take(pa, "on_cp", ia, False), False).astype(bool),
        "on_cp_b": np.where(has_b, take(pb, "on_cp", ib, False), False).astype(bool),
        "cp_ms_a": take(pa, "cp_ms", ia, np.nan).astype(np.float64),
        "cp_ms_b": take(pb, "cp_ms", ib, np.nan).astype(np.float64),
        "attribute_changes": pd.Series(changes, dtype=object),
    })
    # round away float noise of ns differences (a +250 ms lock wait reads 250.0, not 250.00000000003)
    for c in ("delta_duration_ms", "delta_self_ms", "unmatched_children_ms", "delta_start_ms", "start_ms_a", "start_ms_b", "self_ms_a", "self_ms_b"):
        out[c] = out[c].round(6)
    out.attrs["params"] = shared_attr({"tolerance_ms": tolerance_ms, "rtol": rtol})
    return out


def trace_diff_summary(diff: pd.DataFrame) -> pd.DataFrame:
    """Per service: how many spans stayed the same, changed, were added or removed, and the time change.

    Parameters
    ----------
    diff : pandas.DataFrame
        A result of :func:`diff_traces`.

    Returns
    -------
    pandas.DataFrame
        One row per service, largest absolute critical-path change first — not counting the time a child added or
        removed held, which moved into or out of its caller's own time (``delta_cp_ms + unmatched_children_ms``),
        then by the critical-path change itself; columns declared in
        :data:`TRACE_DIFF_SUMMARY`.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.examples.load("checkout-small")
    >>> ids = spans["trace_id"].unique()[:2]
    >>> s = trace_diff_summary(tk.diff_traces(spans, ids[0], ids[1]))
    >>> list(s.columns)[:3]
    ['service', 'same', 'changed']
    """
    missing = [c for c in ("service", "status", "span_id_a", "span_id_b", "duration_ms_a", "duration_ms_b",
                           "delta_self_ms", "cp_ms_a", "cp_ms_b") if c not in diff.columns]
    if missing:
        raise ArgumentError(f"trace_diff_summary expects the result of diff_traces; this frame has no "
                            f"{', '.join(missing)} column(s)")
    # a missing service is unknown_service (a diff edited, or from before diff_traces named it): crosstab and
    # groupby dropped its rows, and the change of its spans with them
    diff = diff.assign(service=known_service_column(diff["service"].astype(object)).astype(object))
    counts = pd.crosstab(diff["service"], diff["status"]).reindex(columns=["same", "changed", "added", "removed"], fill_value=0)
    dself = diff["delta_self_ms"].fillna(0.0).copy()
    # added spans contribute their own self time, removed ones minus theirs (a diff from before self_ms_a/b: their
    # durations, which count an added span's added children twice)
    own_b = diff["self_ms_b"] if "self_ms_b" in diff.columns else diff["duration_ms_b"]
    own_a = diff["self_ms_a"] if "self_ms_a" in diff.columns else diff["duration_ms_a"]
    dself = dself.where(diff["status"] != "added", own_b.fillna(0.0))
    dself = dself.where(diff["status"] != "removed", -own_a.fillna(0.0))
    out = counts.astype(np.int64)
    out["delta_self_ms"] = dself.groupby(diff["service"]).sum().reindex(out.index).fillna(0.0)
    held = diff["unmatched_children_ms"] if "unmatched_children_ms" in diff.columns else pd.Series(0.0, index=diff.index)
    out["unmatched_children_ms"] = held.fillna(0.0).groupby(diff["service"]).sum().reindex(out.index).fillna(0.0).round(6)
    # from the rows themselves (not attrs, which a CSV or pd.concat loses): a side's span that is not there holds 0
    # of its critical path; a span there with NaN (no critical path) makes the change unknown
    cp = {}
    for side in ("a", "b"):
        there = diff[f"span_id_{side}"].notna().to_numpy()
        v = diff[f"cp_ms_{side}"].to_numpy(dtype=np.float64, na_value=np.nan)
        v = np.where(there, v, 0.0)
        unknown = pd.Series(np.isnan(v), index=diff.index).groupby(diff["service"]).any()
        cp[side] = pd.Series(v, index=diff.index).groupby(diff["service"]).sum().where(~unknown)
    out["delta_cp_ms"] = (cp["b"].reindex(out.index) - cp["a"].reindex(out.index)).round(6).to_numpy()
    out = out.reset_index().rename(columns={"index": "service"})
    out.columns.name = None
    # by the critical-path change that is not a gone or new child's time moved into or out of its caller's own time:
    # api as long in both, its 50 ms db call gone, read api +50 ms first (a tie with db's -50, broken by name)
    moved = (out["delta_cp_ms"] + out["unmatched_children_ms"]).abs()
    out = out.iloc[np.lexsort((-out["delta_cp_ms"].abs().fillna(-1.0).to_numpy(), -moved.fillna(-1.0).to_numpy()))
                   ].reset_index(drop=True)
    return out[TRACE_DIFF_SUMMARY.column_names]


@dataclass(frozen=True)
class Exemplars(Result):
    """A representative incident trace and its nearest-structure baseline twin, ready for :func:`diff_traces`.

    ``incident``/``baseline``: the two traces' spans; ``incident_trace_id``/``baseline_trace_id``;
    ``key``: the request kind they share (root ``service:route``); ``request_ms``: (incident, baseline);
    ``distance``: how far the baseline trace's structure is from the incident's (0 = same operations);
    ``requests``: (incident, baseline) requests of ``key``, the populations ``q`` and the median are taken over.
    """

    TABLE = "incident"  #: the field .table returns

    incident: pd.DataFrame
    baseline: pd.DataFrame
    incident_trace_id: str
    baseline_trace_id: str
    key: str
    request_ms: tuple[float, float]
    distance: float
    requests: tuple[int, int] = (0, 0)
    params: dict = field(default_factory=dict, compare=False)  #: the settings it was computed with


def _request_kinds(spans: pd.DataFrame, outcomes: pd.DataFrame) -> pd.Series:
    """``root service:route`` of each request (X-Ray names root segments after the service, so the
    route, not the span name, tells requests apart): the route of the request root the kernel's tree chose
    (:func:`tracekit.core.request_routes`; the first row holding the root's id was read, so a root read twice as
    ``GET /a`` and ``GET /b`` was either request kind by row order)."""
    tree = span_tree(spans)
    rt = pd.Series(request_routes(spans, tree), index=pd.Index(tree.trace_ids, dtype=object))
    rt = rt.reindex(outcomes["trace_id"].astype(object).to_numpy()).to_numpy(dtype=object)
    return pd.Series(outcomes["root_service"].astype(str).to_numpy() + ":" + rt.astype(str), index=outcomes.index)


@renamed(incident="spans", quantile="q")
def exemplars(spans: pd.DataFrame, baseline: pd.DataFrame, key: str | None = None, *, q: float = 0.95) -> Exemplars:
    """Pick a representative incident trace and its nearest-structure twin in the baseline.

    The incident trace is the one at the ``q`` quantile of request latency among the incident's requests
    of ``key`` (root ``service:route``, :func:`tracekit.core.routes`; default: the kind whose p95 grew most against the baseline).
    Its twin is the baseline trace of the same key with the closest structure: same trace id if the
    baseline has it (a counterfactual twin), else the fewest differing operation counts, then the
    closest request latency to the baseline's median.

    Parameters
    ----------
    spans : pandas.DataFrame
        Spans of the incident.
    baseline : pandas.DataFrame
        Spans of a normal period of the same system.
    key : str, optional
        Request kind as ``root_service:route`` (e.g. ``"api-gateway:/checkout"``).
    q : float, default 0.95
        Which incident request to show, as a quantile of request latency within [0, 1] (0.95: a slow but not
        extreme one). ``quantile=`` is its old name.

    Returns
    -------
    Exemplars

    Raises
    ------
    ArgumentError
        ``key`` has no requests in one of the sets; ``q`` is not a number within [0, 1].

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.examples.load("checkout-small")
    >>> ex = tk.exemplars(spans, spans)
    >>> ex.incident_trace_id == ex.baseline_trace_id   # the same trace is its own twin
    True
    """
    incident = spans  # the old name, kept in the body
    from ..core import percentile

    q = number_arg(q, "q", "exemplars", low=0, high=1)
    require_columns(incident, _NEEDED, "exemplars")
    require_columns(baseline, _NEEDED, "exemplars")
    oi, ob = trace_outcomes(incident), trace_outcomes(baseline)
    oi = oi[oi["request"] & oi["request_ms"].notna()]
    ob = ob[ob["request"] & ob["request_ms"].notna()]
    ki, kb = _request_kinds(incident, oi), _request_kinds(baseline, ob)
    if key is None:
        common = sorted(set(ki) & set(kb))
        if not common:
            raise ArgumentError("exemplars: the incident and the baseline share no request kind (root service:route)")
        growth = {k: percentile(oi.loc[ki == k, "request_ms"], 0.95) - percentile(ob.loc[kb == k, "request_ms"], 0.95) for k in common}
        key = max(common, key=lambda k: (growth[k], k))
    ci, cb = oi[ki == key], ob[kb == key]
    if not len(ci) or not len(cb):
        raise ArgumentError(f"exemplars: no requests of {key!r} in the {'incident' if not len(ci) else 'baseline'}")
    target = percentile(ci["request_ms"], q)
    # the request nearest the quantile; of several as near (X-Ray's whole milliseconds tie often), the smallest trace
    # id: the first row's was picked, so the same requests in another row order showed another trace
    near = pd.DataFrame({"d": np.abs(ci["request_ms"].to_numpy(dtype=np.float64) - target),
                         "t": ci["trace_id"].astype(str).to_numpy(dtype=object)})
    pick = ci.iloc[int(near.sort_values(["d", "t"], kind="stable").index[0])]
    tid = pick["trace_id"]
    inc_spans = incident[incident["trace_id"] == tid]
    # operations counted once per span: the other copies of a span read twice are left out (the tree's rule), so a
    # span exported twice is not an operation more (distance 1 from its own trace read once), nor does a copy named
    # otherwise count by row order
    inc_ops = inc_spans[~span_tree(incident).duplicate[(incident["trace_id"] == tid).to_numpy(dtype=bool)]]
    sig = inc_ops["service"].astype(str) + ":" + inc_ops["name"].astype(str)
    want = sig.value_counts()
    same_id = tid in set(cb["trace_id"])
    # the same request in the baseline is the twin, its distance counted as any other's: it read 0.0 ('same
    # operations') whatever the two held (2 retries more in the incident: 0.0, for 2)
    bsp = baseline[(baseline["trace_id"] == tid if same_id else baseline["trace_id"].isin(set(cb["trace_id"]))).to_numpy(dtype=bool)
                   & ~span_tree(baseline).duplicate]
    bsig = bsp["service"].astype(str) + ":" + bsp["name"].astype(str)
    # distance = sum over operations of |count in the trace - count in the pick|, from the (trace, operation) pairs
    # the trace holds: the operations it lacks add the pick's count, sum(want) - sum of want over those it holds.
    # (A dense traces x operations table was quadratic: 306k spans with ~30k distinct operation names, 6.4 s.)
    pairs = pd.DataFrame({"t": bsp["trace_id"].to_numpy(dtype=object), "s": bsig.to_numpy(dtype=object)})
    held = pairs.groupby(["t", "s"], sort=False).size()
    w = want.reindex(held.index.get_level_values(1), fill_value=0).to_numpy(dtype=np.int64)
    per = np.abs(held.to_numpy(dtype=np.int64) - w) - w
    diff = pd.Series(per, index=held.index.get_level_values(0)).groupby(level=0, sort=True).sum() + int(want.sum())
    if same_id:
        twin, dist = tid, float(diff.iloc[0])
    else:
        med = percentile(cb["request_ms"], 0.5)
        lat = cb.set_index("trace_id")["request_ms"].reindex(diff.index)
        order = np.lexsort(((lat - med).abs().to_numpy(), diff.to_numpy()))
        twin, dist = diff.index[order[0]], float(diff.iloc[order[0]])
    base_spans = baseline[baseline["trace_id"] == twin]
    return Exemplars(inc_spans, base_spans, str(tid), str(twin), key,
                     (float(pick["request_ms"]), float(cb.loc[cb["trace_id"] == twin, "request_ms"].iloc[0])), dist,
                     (len(ci), len(cb)), params={"key": key, "q": q})
