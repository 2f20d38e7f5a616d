"""Critical paths of many traces as one tree (flame graph data), a diff of two such trees, and saving potential.

:func:`critical_path_tree` adds up the critical-path sections of every request by **call path**
(the operations from the root down, as :func:`tracekit.critical_path` names them): a node is a
call path, its ``self_ms`` is the critical-path time spent in that operation itself (exclusive),
its ``total_ms`` that plus everything below it. Values are **per request** (summed over traces
and divided by the number of requests), so the root's ``total_ms`` is the mean request time on
the critical path and two sets of different sizes compare directly. Only the request root's
sections count (orphan fragments and extra roots are not the request: :mod:`tracekit.core.tree`).

:func:`critical_path_tree_diff` puts two trees side by side (incident − baseline) with bootstrap
intervals over requests; the root's ``delta_total_ms`` is the change in mean request time.

:func:`saving_potential`: per operation, the request time that would go if its exclusive
critical-path time were zero — an upper bound: it assumes the rest of the path stays critical
(another branch may become critical once this one is faster; :func:`tracekit.what_if` re-times a
trace to find out).

>>> import tracekit as tk
>>> spans = tk.examples.load("checkout-small")
>>> tree = tk.critical_path_tree(tk.critical_path(spans))
>>> bool(abs(tree["self_ms"].sum() - tree.loc[tree["parent"].isna(), "total_ms"].sum()) < 1e-6)
True
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..core import (
    DEFAULT_CI,
    DEFAULT_N_BOOT,
    boot_args,
    by_keys,
    call_paths,
    interval_ends,
    path_parent,
    percentile,
    percentile_window_arg,
    quantiles_with_zeros,
    result_table,
    span_tree,
    unique_sorted,
)
from ..core.naming import frame_services
from ..core.outcomes import trace_outcomes
from ..errors import ArgumentError
from ..schema import STRING, known_name_column, known_service_column, shared_attr
from .critical_path_walk import requests_only

__all__ = ["critical_path_tree", "critical_path_tree_diff", "saving_potential",
           "CRITICAL_PATH_TREE", "CRITICAL_PATH_TREE_DIFF", "SAVING_POTENTIAL"]

_SEP = " > "
_DRAWS_PER_BLOCK = 1_000_000  # critical_path_tree_diff: bootstrap draws held at a time (about 8 MB an array)

CRITICAL_PATH_TREE = result_table("critical_path_tree", "one row per call path on the critical path, over many requests", [
    ("node", "string", "", "call path: service:name of each span from the request root down, joined by ' > '"),
    ("parent", "string", "", "call path of the parent node (<NA> for a root)"),
    ("service", "string", "", "service of the node's operation"),
    ("name", "string", "", "operation (span name) of the node"),
    ("depth", "int64", "", "0 for the request root"),
    ("self_ms", "float64", "ms per request", "exclusive critical-path time of the node, summed over requests / number of requests"),
    ("total_ms", "float64", "ms per request", "self_ms of the node and every node below it"),
    ("traces", "int64", "requests", "requests in which the node or a node below it holds a critical-path section (a 0 ms request: its root, 0 ms; the requests "
                                    "its total_ms comes from; a span wholly covered by a child holds no section itself)"),
    ("self_share", "float64", "", "self_ms / total_ms of the tree's roots (share of request time)"),
])

CRITICAL_PATH_TREE_DIFF = result_table("critical_path_tree_diff", "one row per call path of two critical-path trees", [
    ("node", "string", "", "call path"),
    ("parent", "string", "", "call path of the parent node (<NA> for a root)"),
    ("service", "string", "", "service"),
    ("name", "string", "", "operation"),
    ("depth", "int64", "", "0 for a request root"),
    ("total_ms_a", "float64", "ms per request", "total_ms in a (the incident); 0 for a node only b has, NaN when a holds "
                                                "no request"),
    ("total_ms_b", "float64", "ms per request", "total_ms in b (the baseline); 0 for a node only a has, NaN when b holds "
                                                "no request"),
    ("delta_total_ms", "float64", "ms per request", "total_ms a − b"),
    ("delta_total_lo", "float64", "ms per request", "lower end of the bootstrap interval of delta_total_ms"),
    ("delta_total_hi", "float64", "ms per request", "upper end of the bootstrap interval"),
    ("self_ms_a", "float64", "ms per request", "self_ms in a (NaN when a holds no request)"),
    ("self_ms_b", "float64", "ms per request", "self_ms in b (NaN when b holds no request)"),
    ("delta_self_ms", "float64", "ms per request", "self_ms a − b"),
    ("delta_self_lo", "float64", "ms per request", "lower end of the bootstrap interval of delta_self_ms"),
    ("delta_self_hi", "float64", "ms per request", "upper end of the bootstrap interval"),
])

SAVING_POTENTIAL = result_table("saving_potential", "one row per operation", [
    ("service", "string", "", "service"),
    ("name", "string", "", "operation"),
    ("saving_ms", "float64", "ms per request", "mean request time that would go if the operation's exclusive critical-path time were zero (upper bound)"),
    ("saving_share", "float64", "", "saving_ms / mean request time on the critical path"),
    ("p95_saving_ms", "float64", "ms", "p95 over requests of the operation's exclusive critical-path time"),
    ("traces", "int64", "requests", "requests in which the operation holds a critical-path section (a 0 ms request: its root's, of 0 ms)"),
])


def _request_sections(cp: pd.DataFrame, percentile_window: tuple[float, float] | None,
                      spans: pd.DataFrame | None = None, func: str = "critical_path_tree") -> tuple[pd.DataFrame, int]:
    """The sections of each trace's request root, and the number of requests.

    A request is one by :func:`tracekit.trace_outcomes` (not asynchronous work, not the callee's half of a
    dropped context): ``cp``'s ``request`` column (checked against ``spans`` when given), else the request root of
    the span tree of ``spans``, else the walked root with the earliest first section (then the most critical-path
    time)."""
    if not isinstance(cp, pd.DataFrame):
        raise ArgumentError(f"{func}: expected the DataFrame tk.critical_path returns, got {type(cp).__name__}")
    if spans is not None and not isinstance(spans, pd.DataFrame):
        raise ArgumentError(f"{func}: spans must be a spans DataFrame or None, got {type(spans).__name__}")
    percentile_window = percentile_window_arg(percentile_window, func)
    need = ("trace_id", "span_id", "service", "name", "duration_ms", "call_path", "root_span_id")
    missing = [c for c in need if c not in cp.columns]
    if missing:
        raise ArgumentError(f"expected the result of tk.critical_path (missing columns: {', '.join(missing)})")
    cp = cp[cp["call_path"].notna()]
    if spans is not None and "request" in cp.columns:
        cp = requests_only(cp, spans)  # trace_outcomes' requests of these spans (a critical path has them already)
    if "request" in cp.columns:
        sel = cp[cp["request"].to_numpy(dtype=bool, na_value=False)]
        req = sel.groupby(["trace_id", "root_span_id"], sort=False)["duration_ms"].sum().reset_index()
    elif spans is not None:
        tree = span_tree(spans)
        rr = tree.request_root[tree.request_root >= 0]
        oc = trace_outcomes(spans)  # its requests only: not asynchronous work, not a dropped context's callee half
        pos = pd.Index(oc["trace_id"].astype(object)).get_indexer(spans["trace_id"].to_numpy(dtype=object)[rr])
        rr = rr[oc["request"].to_numpy(dtype=bool)[pos]]
        req = pd.DataFrame({"trace_id": spans["trace_id"].to_numpy(dtype=object)[rr],
                            "root_span_id": spans["span_id"].to_numpy(dtype=object)[rr]})
        tot = cp.groupby(["trace_id", "root_span_id"], sort=False)["duration_ms"].sum()
        req["duration_ms"] = tot.reindex(pd.MultiIndex.from_frame(req[["trace_id", "root_span_id"]])).to_numpy()
        req = req[req["duration_ms"].notna()]
    else:
        totals = cp.groupby(["trace_id", "root_span_id"], sort=False).agg(duration_ms=("duration_ms", "sum"), start=("start", "min")).reset_index()
        totals = totals.sort_values(["trace_id", "start", "duration_ms"], ascending=[True, True, False], kind="stable")
        req = totals.drop_duplicates("trace_id")
    if percentile_window is not None:
        lo, hi = percentile_window  # checked above (core.percentile_window_arg)
        v = req["duration_ms"].to_numpy(dtype=float)
        a, b = (percentile(v, lo / 100), percentile(v, hi / 100)) if len(v) else (np.nan, np.nan)
        req = req[(v >= a) & (v <= b)]
    keep = pd.MultiIndex.from_frame(req[["trace_id", "root_span_id"]].astype(object))
    idx = pd.MultiIndex.from_frame(cp[["trace_id", "root_span_id"]].astype(object))
    return cp[idx.isin(keep)], len(req)


#: how an elided call path marks the operations it leaves out (tracekit.core.call_paths)
_ELIDED_MARK = " more operations (path "


def _split_op(op: str) -> tuple[str, str]:
    return (op.split(":", 1)[0], op.split(":", 1)[1]) if ":" in op else (op, op)


class _Parents:
    """Parent of an elided (very deep) call path: from the critical path's ``attrs``, else rebuilt from
    ``spans`` (:func:`tracekit.core.call_paths`); empty when neither is there."""

    def __init__(self, cp: pd.DataFrame, spans: pd.DataFrame | None) -> None:
        self.index = cp.attrs.get("call_path_index")
        self.spans = spans

    def _rebuild(self) -> None:
        tree = span_tree(self.spans)
        self.index = call_paths(self.spans, tree, np.arange(len(self.spans)), index=True)[1]
        self.spans = None

    def get(self, path: str) -> str | None:
        p = self.index.get(path) if self.index is not None else None
        if p is None and self.spans is not None and len(self.spans):
            self._rebuild()
            p = self.index.get(path)
        return p

    def entry(self, path: str) -> tuple[str | None, tuple[str, str] | None] | None:
        """The index's parent and operation of a path its text cannot give (``' > '`` or a service's ``':'`` in
        its last operation), else None; the index is rebuilt from ``spans`` only when the result has none."""
        if self.index is None and self.spans is not None and len(self.spans):
            self._rebuild()
        return self.index.entry(path) if self.index is not None else None


def _ambiguous_paths(sec: pd.DataFrame, func: str) -> tuple[str, ...]:
    """Call-path texts whose sections name more than one operation or depth: a service or a name holding ' > ' (or
    a service holding ':') makes two call paths one text (root 'a' named 'x > b:y', and 'a:x' calling 'b:y', are
    both 'a:x > b:y'), and a node is a text: their time is merged into one node with one operation's label. Said in
    a warning, the texts in the result's ``attrs["ambiguous_call_paths"]``, rather than merged silently."""
    cols = [c for c in ("service", "name", "depth") if c in sec.columns]
    if not len(sec) or not cols:
        return ()
    # a text with two distinct (service, name, depth) rows, by integer codes (a group-by's nunique over the Arrow
    # texts cost twice as much)
    code, uniq = pd.factorize(sec["call_path"])
    d = pd.DataFrame({i: k for i, k in enumerate([code] + [pd.factorize(sec[c])[0] for c in cols])}).drop_duplicates()
    c0 = d[0].to_numpy()
    bad = tuple(sorted(str(t) for t in np.asarray(uniq, dtype=object)[np.unique(c0[pd.Series(c0).duplicated().to_numpy()])]))
    if bad:
        warnings.warn(f"{func}: {len(bad)} call path text(s) name different operations (first {bad[0]!r}): a service or "
                      "name holding ' > ' or ':' makes two call paths one text, and their critical-path time is merged "
                      "into one node (attrs['ambiguous_call_paths'])", UserWarning, stacklevel=3)
    return bad


def _tree_from(sec: pd.DataFrame, n_req: int, parents: _Parents | None = None) -> pd.DataFrame:
    t = _tree_arrays(sec, n_req, parents)
    text = lambda a: pd.array(a, dtype=STRING)  # noqa: E731  (declared string: not str, or object when all None)
    return pd.DataFrame({
        "node": text(t["node"]), "parent": text(t["parent"]), "service": text(t["service"]), "name": text(t["name"]),
        "depth": t["depth"], "self_ms": t["self_ms"], "total_ms": t["total_ms"], "traces": t["traces"],
        "self_share": t["self_share"],
    })


def _tree_arrays(sec: pd.DataFrame, n_req: int, parents: _Parents | None = None) -> dict[str, np.ndarray]:
    """:func:`_tree_from`'s columns as numpy arrays (texts as objects, a root's parent None), with ``par`` (each
    node's parent's position, -1 for a root) and ``row_node`` (each section's node's position)."""
    # the call paths as integer codes: the groupby's sums by code, the same sums (each path's sections in row order)
    # as by text; texts kept as objects (an Index of them infers pandas' str: a conversion of every text)
    paths = sec["call_path"].to_numpy(dtype=object)
    pcode, puniq = pd.factorize(paths) if len(paths) else (np.zeros(0, np.int64), np.zeros(0, object))
    puniq = np.asarray(puniq, dtype=object)
    by_code = pd.Series(sec["duration_ms"].to_numpy(dtype=float), copy=False).groupby(pcode, sort=True).sum()
    self_sum = np.zeros(len(puniq))
    self_sum[by_code.index.to_numpy()] = by_code.to_numpy()
    # a node's own operation from its sections, not by splitting its text: a service with ':' ('web:8080') or a
    # name with ' > ' ('WHERE a > 1') made phantom nodes, wrong services and depths
    first = np.flatnonzero(~pd.Series(pcode, copy=False).duplicated().to_numpy()) if len(pcode) else np.zeros(0, np.int64)
    firsts = sec.iloc[first]
    # (a missing service or name as its call path names it: unknown_service, (unnamed); it read <NA>)
    label_of = dict(zip(paths[first],
                        zip(known_service_column(firsts["service"]).to_numpy(dtype=object),
                            known_name_column(firsts["name"]).to_numpy(dtype=object), strict=True), strict=True))

    def up(p: str) -> str | None:
        lab = label_of.get(p)
        if lab is not None and _ELIDED_MARK not in p:  # the text minus its known last operation
            text = f"{lab[0]}:{lab[1]}"
            if p == text:
                return None
            if p.endswith(_SEP + text):
                return p[: -len(_SEP + text)]
        held = parents.entry(p) if parents is not None else None
        if held is not None:  # an ancestor never critical itself whose operation holds ' > ' (or a service's ':')
            if held[1] is not None:
                label_of[p] = held[1]
            return held[0]
        return path_parent(p, parents)  # an ancestor never critical itself, or an elided path: from the text / index

    parent_of: dict[str, str | None] = {}
    todo = puniq.tolist()
    while todo:  # every ancestor of a node is a node (with 0 self time if never critical itself)
        p = todo.pop()
        if p in parent_of:
            continue
        q = up(p)
        parent_of[p] = q
        if q is not None and q not in parent_of:
            todo.append(q)
    node = np.array(sorted(parent_of), dtype=object)
    parent = np.array([parent_of[n] for n in node], dtype=object)
    ops = [label_of.get(n) or _split_op(n.rsplit(_SEP, 1)[-1]) for n in node]
    svc = np.array([o[0] for o in ops], dtype=object)
    nm = np.array([o[1] for o in ops], dtype=object)
    node_index = pd.Index(node, dtype=object)
    par = node_index.get_indexer(pd.Index(parent, dtype=object)) if len(node) else np.zeros(0, dtype=np.int64)
    par = np.where(pd.isna(parent), -1, par).astype(np.int64)
    # the root is depth 0, each level one more (counting separators miscounted names with ' > '); an elided path's
    # ancestors are nodes too, from the index: its depth is its chain's. By pointer doubling (numpy passes as many
    # as log2 of the depth), not a Python walk of every node's chain (186k nodes: seconds)
    depth = _depths(par)
    denom = max(n_req, 1)
    uniq_node = node_index.get_indexer(pd.Index(puniq, dtype=object)).astype(np.int64) if len(puniq) else np.zeros(0, dtype=np.int64)
    self_ms = np.zeros(len(node))
    self_ms[uniq_node] = self_sum  # (0 for an ancestor never critical itself)
    self_ms /= denom
    total = self_ms.copy()
    # deepest level first, each node's total added to its parent's in node order (ufunc.at adds in the order given:
    # the same sums, to the bit, as one addition a node)
    order = np.argsort(-depth, kind="stable")
    dd = depth[order]
    edges = np.flatnonzero(np.r_[True, dd[1:] != dd[:-1], True]) if len(order) else np.zeros(1, dtype=np.int64)
    for e0, e1 in zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True):
        idx = order[e0:e1]
        up_ = par[idx]
        keep = up_ >= 0
        if keep.any():
            np.add.at(total, up_[keep], total[idx[keep]])
    root_total = total[depth == 0].sum()
    # each section's node: its path's code's place among the nodes (one lookup of the distinct paths, not of every
    # section's text)
    row_node = uniq_node[pcode] if len(pcode) else np.zeros(0, dtype=np.int64)
    traces = _requests_below(sec, row_node, par, depth)
    return {"node": node, "parent": parent, "service": svc, "name": nm, "depth": depth, "self_ms": self_ms,
            "total_ms": total, "traces": traces,
            "self_share": self_ms / root_total if root_total > 0 else np.full(len(node), np.nan),
            "par": par, "row_node": row_node}


def _depths(par: np.ndarray) -> np.ndarray:
    """Each node's depth (its number of ancestors) from its parent's position (-1 for a root), by pointer
    doubling: log2(depth) numpy passes, linear-log whatever the shape of the tree."""
    n = len(par)
    depth = (par >= 0).astype(np.int64)
    jump = par.copy()
    live = np.flatnonzero(jump >= 0)
    for _ in range(64):  # (2**64 levels: a parent cycle, which call-path texts cannot make, stops here)
        if not len(live):
            break
        j = jump[live]
        depth[live] += depth[j]  # (the jumps' depths read before any is updated: one level of doubling)
        jump[live] = jump[j]
        live = live[jump[live] >= 0]
    else:
        raise ArgumentError("critical_path_tree: the call paths' parents make a cycle")
    return depth if n else np.zeros(0, dtype=np.int64)


def _requests_below(sec: pd.DataFrame, nd: np.ndarray, par: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """Per node: the requests in which it or a node below it holds a section (distinct requests, by trace id).

    A span on the path need not hold a section of its own (an X-Ray subsegment wholly covered by its inferred
    segment: 0 ms self, 79 ms total, and counted in 0 requests). The (node, request) pairs of the sections are
    carried up one depth at a time, deepest first, each level made distinct once: linear in the pairs whatever
    the depth of the tree. ``nd``: each section's node's position."""
    n = len(par)
    out = np.zeros(n, dtype=np.int64)
    if not len(sec):
        return out
    tcode, _ = pd.factorize(sec["trace_id"].astype(object), sort=False)
    n_tr = np.int64(int(tcode.max()) + 1)
    codes = nd * n_tr + tcode.astype(np.int64)
    levels: dict[int, list[np.ndarray]] = {}
    dd = depth[nd]
    o = np.argsort(dd, kind="stable")
    bounds = np.flatnonzero(np.r_[True, dd[o][1:] != dd[o][:-1], True])
    for b0, b1 in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):  # the sections' pairs by depth
        levels[int(dd[o[b0]])] = [codes[o[b0:b1]]]
    small: dict[int, set[int]] = {}  # narrow levels (a deep chain) in plain Python, not numpy calls per level
    t = int(n_tr)
    for d in range(int(depth.max()) if n else -1, -1, -1):
        parts = levels.pop(d, None)
        if parts is None and d not in small:
            continue
        if parts is None or sum(len(x) for x in parts) + len(small.get(d, ())) <= 16:
            here_py = small.pop(d, set())
            for x in parts or ():
                here_py.update(x.tolist())
            for code in here_py:
                v = code // t
                out[v] += 1
                if par[v] >= 0:
                    small.setdefault(d - 1, set()).add(int(par[v]) * t + code % t)
            continue
        if d in small:
            parts.append(np.fromiter(small.pop(d), dtype=np.int64))
        here = unique_sorted(np.concatenate(parts) if len(parts) > 1 else parts[0])
        node_of = here // n_tr
        np.add.at(out, node_of, 1)  # (not a bincount of every node per level: quadratic on a deep chain)
        up = par[node_of]
        keep = up >= 0
        if keep.any():
            levels.setdefault(d - 1, []).append(up[keep] * n_tr + here[keep] % n_tr)
    return out


def critical_path_tree(cp: pd.DataFrame, by: str = "call_path", spans: pd.DataFrame | None = None, *,
                       percentile_window: tuple[float, float] | None = None) -> pd.DataFrame:
    """Aggregate the critical paths of many requests into one tree of call paths (flame-graph data).

    Parameters
    ----------
    cp : pandas.DataFrame
        The result of :func:`tracekit.critical_path`.
    by : {"call_path"}
        Node identity: the call path (service and operation of every ancestor), as Jaeger groups
        a trace's spans.
    spans : pandas.DataFrame, optional
        The spans ``cp`` was computed from: their span tree names each trace's request root, so
        orphan fragments and extra roots are left out (without it, the walked root that starts first).
    percentile_window : (float, float), optional
        Keep only requests whose critical-path time is within these percentiles, in percent
        (``(95, 100)``: the slowest 5 %), as :func:`tracekit.critical_path_breakdown` does.

    Returns
    -------
    pandas.DataFrame
        One row per node, declared in :data:`CRITICAL_PATH_TREE`; ``attrs["requests"]`` is the
        number of requests averaged over; ``attrs["ambiguous_call_paths"]`` the call-path texts that name two
        different call paths (a service or name holding ``' > '`` or ``':'``), merged into one node (warned).

    Raises
    ------
    ArgumentError
        ``cp`` is not a critical-path result, ``by`` is unknown, or the window is not in percent.

    Examples
    --------
    >>> import tracekit as tk
    >>> t = tk.critical_path_tree(tk.critical_path(tk.examples.load("checkout-small")))
    >>> int((t["depth"] == 0).sum()) >= 1
    True
    """
    if by != "call_path":
        raise ArgumentError(f"critical_path_tree: by must be 'call_path', got {by!r}")
    sec, n_req = _request_sections(cp, percentile_window, spans, "critical_path_tree")
    ambiguous = _ambiguous_paths(sec, "critical_path_tree")
    out = _tree_from(sec, n_req, _Parents(cp, spans))
    out.attrs["requests"] = n_req
    out.attrs["services"] = frame_services(spans) or shared_attr(tuple(cp.attrs.get("services", ())))
    out.attrs["ambiguous_call_paths"] = shared_attr(ambiguous)
    out.attrs["params"] = shared_attr({"by": by, "percentile_window": percentile_window})
    return out


def critical_path_tree_diff(
    a: pd.DataFrame,
    b: pd.DataFrame,
    *,
    spans_a: pd.DataFrame | None = None,
    spans_b: pd.DataFrame | None = None,
    percentile_window: tuple[float, float] | None = None,
    n_boot: int = DEFAULT_N_BOOT,
    ci: float = DEFAULT_CI,
    seed: int = 0,
) -> pd.DataFrame:
    """Two critical-path trees side by side, ``a`` − ``b`` per request, with bootstrap intervals.

    Parameters
    ----------
    a, b : pandas.DataFrame
        Results of :func:`tracekit.critical_path` (e.g. incident and baseline).
    spans_a, spans_b : pandas.DataFrame, optional
        The spans of each, naming the request roots (see :func:`critical_path_tree`).
    percentile_window : (float, float), optional
        As in :func:`critical_path_tree`, applied to each set.
    n_boot : int, default 1000
        Bootstrap resamples of requests (each set resampled on its own); 0 for no intervals.
    ci : float, default 0.95
        Interval coverage.
    seed : int, default 0
        Random seed of the bootstrap.

    Returns
    -------
    pandas.DataFrame
        One row per node of either tree, declared in :data:`CRITICAL_PATH_TREE_DIFF`. The root
        rows' ``delta_total_ms`` add up to the change in mean request time on the critical path.

    Raises
    ------
    ArgumentError
        An input is not a critical-path result, or ``n_boot``/``ci`` are out of range.

    Examples
    --------
    >>> import tracekit as tk
    >>> cp = tk.critical_path(tk.examples.load("checkout-small"))
    >>> d = tk.critical_path_tree_diff(cp, cp, n_boot=0)
    >>> float(d["delta_total_ms"].abs().max())
    0.0
    """
    n_boot, ci = boot_args(n_boot, ci, "critical_path_tree_diff")
    sa, na = _request_sections(a, percentile_window, spans_a, "critical_path_tree_diff")
    sb, nb = _request_sections(b, percentile_window, spans_b, "critical_path_tree_diff")
    ambiguous = tuple(sorted(set(_ambiguous_paths(sa, "critical_path_tree_diff")) | set(_ambiguous_paths(sb, "critical_path_tree_diff"))))
    ta, tb = _tree_arrays(sa, na, _Parents(a, spans_a)), _tree_arrays(sb, nb, _Parents(b, spans_b))
    m, where = _side_by_side(ta, tb)
    # a side without a request has no time per request (unknown, NaN): it read 0 ms, and the other side's whole time
    # a change (a baseline of no request: "+100 ms per request")
    for side, n_side in (("a", na), ("b", nb)):
        if not n_side:
            m[[f"total_ms_{side}", f"self_ms_{side}"]] = np.nan
    m["delta_total_ms"] = m["total_ms_a"] - m["total_ms_b"]
    m["delta_self_ms"] = m["self_ms_a"] - m["self_ms_b"]
    n_nodes = len(m)
    lo_t = np.full(len(m), np.nan)
    hi_t, lo_s, hi_s = lo_t.copy(), lo_t.copy(), lo_t.copy()
    if n_boot and na and nb:
        rng = np.random.default_rng(seed)
        # each tree's nodes' places in m: parents and sections by integer, no text looked up
        pos_a, pos_b, par_m = where
        codes = (pos_a[ta["row_node"]], pos_b[tb["row_node"]])
        anc = _ancestor_matrix(par_m)
        # per side: each request's critical-path ms per node (summed), its self (one row a node) and its total (the
        # node's and every node's below it: the ancestor matrix times it); every resample is a weighted sum of the
        # requests. Poisson weights drawn a block of resamples at a time (the same stream as one draw of all), kept
        # as bytes (requests x n_boot); the draws are made a block of nodes at a time and reduced to their interval ends:
        # never a nodes x n_boot array, nor a Python loop adding each node's draws to its parent's (186,047
        # distinct names, 300k spans: 74 s and several GB)
        sides = [_boot_weights(sec, n, n_nodes, ncode, anc, n_boot, rng) for sec, n, ncode in ((sa, na, codes[0]), (sb, nb, codes[1]))]
        block = max(1, _DRAWS_PER_BLOCK // n_boot)
        # a leaf's total is its self (its ancestor-matrix row is itself alone: the same numbers in the same order,
        # checked): its draws and interval ends are its self's, not drawn twice (ids in span names: most of 291k
        # nodes are leaves)
        same = _leaf_rows(anc, sides)
        for i0 in range(0, n_nodes, block):
            i1 = min(n_nodes, i0 + block)
            inner = np.flatnonzero(~same[i0:i1])
            (a_self, a_tot), (b_self, b_tot) = (_block_draws(side, i0, i1, inner) for side in sides)
            lo_s[i0:i1], hi_s[i0:i1] = interval_ends(a_self - b_self, ci, axis=1)
            lo_t[i0:i1], hi_t[i0:i1] = lo_s[i0:i1], hi_s[i0:i1]
            if len(inner):
                lo_t[i0 + inner], hi_t[i0 + inner] = interval_ends(a_tot - b_tot, ci, axis=1)
    m["delta_total_lo"], m["delta_total_hi"] = lo_t, hi_t
    m["delta_self_lo"], m["delta_self_hi"] = lo_s, hi_s
    out = m[CRITICAL_PATH_TREE_DIFF.column_names].reset_index(drop=True)
    out = out.astype({c: STRING for c in ("node", "parent", "service", "name")})
    out.attrs["requests"] = shared_attr((na, nb))
    out.attrs["ambiguous_call_paths"] = shared_attr(ambiguous)
    out.attrs["params"] = shared_attr({"percentile_window": percentile_window, "n_boot": n_boot, "ci": ci, "seed": seed})
    return out


_MERGE_KEYS = ["node", "parent", "service", "name", "depth"]


def _side_by_side(ta: dict, tb: dict) -> tuple[pd.DataFrame, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Two trees' nodes as one frame (``node``, ``parent``, ``service``, ``name``, ``depth``, ``total_ms_a``,
    ``self_ms_a``, ``total_ms_b``, ``self_ms_b``; a node one side lacks 0 ms there), sorted by node, and where each
    tree's nodes are in it: ``(pos_a, pos_b, parent position)``.

    Each tree's nodes are distinct and sorted: the union is a merge of two sorted arrays, a node of both one row,
    by integer positions (an outer merge on the five text and depth keys cost seconds at 291k nodes). Where a node
    text of both trees names another parent, operation or depth (an ambiguous call path), the rows are those of
    the outer merge on all five keys (two rows of one text), each tree's nodes placed among its own (:func:`_merged`)."""
    a_node, b_node = ta["node"], tb["node"]
    ib = pd.Index(a_node, dtype=object).get_indexer(pd.Index(b_node, dtype=object)) if len(a_node) and len(b_node) else np.full(len(b_node), -1)
    both = ib >= 0
    sa_, sb_ = ib[both], np.flatnonzero(both)
    agree = all(np.array_equal(np.asarray(ta[k][sa_] == tb[k][sb_], dtype=bool), np.ones(len(sa_), dtype=bool))
                for k in ("parent", "service", "name", "depth"))
    if not agree:
        return _merged(ta, tb)
    b_only = np.flatnonzero(~both)
    ins = np.searchsorted(a_node, b_node[b_only]) if len(b_only) else np.zeros(0, dtype=np.int64)
    # (a text not in a goes before a's first greater text; b's own order kept: both sorted)
    pos_a = np.arange(len(a_node), dtype=np.int64) + np.searchsorted(ins, np.arange(len(a_node)), side="right")
    pos_b = np.empty(len(b_node), dtype=np.int64)
    pos_b[sb_] = pos_a[sa_]
    pos_b[b_only] = ins + np.arange(len(b_only), dtype=np.int64)
    n = len(a_node) + len(b_only)
    cols: dict[str, Any] = {}
    for k in _MERGE_KEYS:
        v = np.empty(n, dtype=ta[k].dtype if k == "depth" else object)
        v[pos_b] = tb[k]
        v[pos_a] = ta[k]
        # the texts made the declared string type once (a frame of object texts infers pandas' str, converted again)
        cols[k] = v if k == "depth" else pd.array(v, dtype=STRING)
    par = np.empty(n, dtype=np.int64)
    par[pos_b] = np.where(tb["par"] >= 0, pos_b[np.maximum(tb["par"], 0)], -1) if len(b_node) else tb["par"]
    par[pos_a] = np.where(ta["par"] >= 0, pos_a[np.maximum(ta["par"], 0)], -1) if len(a_node) else ta["par"]
    for side, t, pos in (("a", ta, pos_a), ("b", tb, pos_b)):
        for k in ("total_ms", "self_ms"):
            v = np.zeros(n)
            v[pos] = t[k]
            cols[f"{k}_{side}"] = v
    return pd.DataFrame(cols), (pos_a, pos_b, par)


def _merged(ta: dict, tb: dict) -> tuple[pd.DataFrame, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """:func:`_side_by_side` by an outer merge on the five keys (a node text two trees label apart: two rows). Each
    tree's nodes, parents and sections are placed among the rows that tree holds (a text names one node of a tree):
    the text looked up among all rows raised pandas' InvalidIndexError (a root 'a' named 'x > b:y' in one set, 'a:x'
    calling 'b:y' in the other, with intervals)."""
    text = lambda a: pd.array(a, dtype=STRING)  # noqa: E731
    fa, fb = (pd.DataFrame({**{k: text(t[k]) for k in _MERGE_KEYS[:4]}, "depth": t["depth"], "total_ms": t["total_ms"],
                            "self_ms": t["self_ms"]}) for t in (ta, tb))
    m = fa.merge(fb, on=_MERGE_KEYS, how="outer", suffixes=("_a", "_b"), indicator=True)
    m = m.fillna({"total_ms_a": 0.0, "total_ms_b": 0.0, "self_ms_a": 0.0, "self_ms_b": 0.0}).sort_values("node", kind="stable")
    m["parent"] = m["parent"].astype(object).where(m["parent"].notna(), None)
    m = m.reset_index(drop=True)
    side = m.pop("_merge").astype(str).to_numpy()
    node = m["node"].to_numpy(dtype=object)
    pos = []
    for t, held in ((ta, side != "right_only"), (tb, side != "left_only")):
        rows = np.flatnonzero(held)
        p = rows[pd.Index(node[rows], dtype=object).get_indexer(pd.Index(t["node"], dtype=object))] if len(t["node"]) else np.zeros(0, np.int64)
        pos.append(p.astype(np.int64))
    par = np.full(len(m), -1, dtype=np.int64)
    for t, p in zip((tb, ta), pos[::-1], strict=True):
        par[p] = np.where(t["par"] >= 0, p[np.maximum(t["par"], 0)], -1) if len(p) else t["par"]
    return m, (pos[0], pos[1], par)


def _ancestor_matrix(par_idx: np.ndarray) -> object:
    """Sparse (nodes x nodes) 0/1 matrix: row i has a 1 at node i and at every node below it (its total is the row
    times the self values). Built one level up at a time (numpy passes as many as the tree is deep)."""
    from scipy import sparse

    n = len(par_idx)
    rows, cols = [], []
    cur = np.arange(n, dtype=np.int64)
    src = cur.copy()
    while len(cur):
        rows.append(cur)
        cols.append(src)
        up = par_idx[cur]
        keep = up >= 0
        cur, src = up[keep].astype(np.int64), src[keep]
    r, c = np.concatenate(rows), np.concatenate(cols)
    return sparse.csr_matrix((np.ones(len(r)), (r, c)), shape=(n, n))


def _boot_weights(sec: pd.DataFrame, n: int, n_nodes: int, ncode: np.ndarray, anc: object, n_boot: int,
                  rng: np.random.Generator) -> tuple[object, object, np.ndarray, np.ndarray]:
    """One side's per-node request sums (self and total, sparse nodes x requests; ``ncode`` each section's node)
    and its Poisson bootstrap weights (blocks of resamples, the stream of one ``rng.poisson(1.0, (n_boot, n))``)
    with their sums."""
    from scipy import sparse

    tcode, _ = pd.factorize(sec["trace_id"])
    ms = sec["duration_ms"].to_numpy(dtype=float)
    per = sparse.csr_matrix((ms, (ncode, tcode)), shape=(n_nodes, n))
    per_tot = (anc @ per).tocsr()
    step = max(1, min(n_boot, 1_000_000 // max(n, 1)))  # about 8 MB of weights drawn at a time
    # kept as small integers (requests x resamples, a byte each: 5,000 requests x 1,000 resamples 5 MB, not 40 MB of
    # floats), made floats a block at a time, for the requests a block of nodes holds
    w = np.empty((n, n_boot), dtype=np.uint8)
    for k0 in range(0, n_boot, step):
        k1 = min(n_boot, k0 + step)
        blk = rng.poisson(1.0, size=(k1 - k0, n))
        if blk.max(initial=0) > np.iinfo(w.dtype).max:
            w = w.astype(np.int64)
        w[:, k0:k1] = blk.T
    return per, per_tot, w, w.sum(axis=0, dtype=np.float64)


def _leaf_rows(anc: object, sides: list) -> np.ndarray:
    """Nodes whose total draws are their self draws to the bit: a leaf (its ancestor-matrix row holds itself
    alone) whose total row holds, on every side, the same requests and numbers in the same order as its self row
    (the sums of a draw then add the same terms in the same order)."""
    same = np.diff(anc.indptr) == 1
    for per, per_tot, *_ in sides:
        n_a, n_b = np.diff(per.indptr), np.diff(per_tot.indptr)
        same &= n_a == n_b
        rows = np.flatnonzero(same)
        ln = n_a[rows]
        within = np.arange(int(ln.sum()), dtype=np.int64) - np.repeat(np.cumsum(ln) - ln, ln)
        ia = np.repeat(per.indptr[rows], ln) + within
        ib = np.repeat(per_tot.indptr[rows], ln) + within
        differ = (per.indices[ia] != per_tot.indices[ib]) | (per.data[ia] != per_tot.data[ib])
        same[np.repeat(rows, ln)[differ]] = False
    return same


def _block_draws(side: tuple, i0: int, i1: int, inner: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Bootstrap draws (nodes i0:i1 x n_boot) of one side's self ms per request, and of its total for the block's
    rows ``inner`` (all when None)."""
    per, per_tot, w, tot_w = side
    n_boot = w.shape[1]
    out = []
    tot = per_tot[i0:i1] if inner is None else per_tot[i0:i1][inner]
    for mat in (per[i0:i1], tot):
        cols = unique_sorted(mat.indices.astype(np.int64)) if mat.nnz else np.zeros(0, dtype=np.int64)
        sub = mat[:, cols]  # the block's requests only (the same sums, in the same order)
        sums = np.zeros((mat.shape[0], n_boot))
        step = max(1, min(n_boot, 1_000_000 // max(len(cols), 1)))
        for k0 in range(0, n_boot, step) if len(cols) else ():
            k1 = min(n_boot, k0 + step)
            sums[:, k0:k1] = np.asarray(sub @ w[cols, k0:k1].astype(np.float64))
        # a resample that drew no request has no mean (NaN, dropped by interval_ends): read as 0 ms per request
        # (e^-n of the draws: 37 % of them with 1 request) it stretched the interval of a window of 2 requests of
        # 190 and 200 ms, diffed with itself, to [-200, 200] ms
        # (divided in place, not a where over a quotient: two fewer nodes x n_boot arrays a block; the same values)
        with np.errstate(invalid="ignore", divide="ignore"):
            np.divide(sums, tot_w[None, :], out=sums)
        none = tot_w <= 0
        if none.any():
            sums[:, none] = np.nan
        out.append(sums)
    return out[0], out[1]

def saving_potential(cp: pd.DataFrame, by: Sequence[str] = ("service", "name"), spans: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per operation: request time that would go if its exclusive critical-path time were zero.

    Parameters
    ----------
    cp : pandas.DataFrame
        The result of :func:`tracekit.critical_path`.
    by : str or sequence of str, default ("service", "name")
        The operation, the only key: ``"operation"`` or ``("service", "name")`` (the ``service``, ``name``
        columns). The saving is an operation's own (exclusive) critical-path time; for critical-path time by
        any other key (route, host, version…) use :func:`tracekit.critical_path_breakdown`.
    spans : pandas.DataFrame, optional
        The spans ``cp`` was computed from (names the request roots, see :func:`critical_path_tree`).

    Returns
    -------
    pandas.DataFrame
        One row per operation, largest ``saving_ms`` first; declared in :data:`SAVING_POTENTIAL`.
        An upper bound: another branch may become critical once the operation is faster.

    Raises
    ------
    ArgumentError
        ``cp`` is not a critical-path result, or ``by`` is not the operation.

    Examples
    --------
    >>> import tracekit as tk
    >>> s = tk.saving_potential(tk.critical_path(tk.examples.load("checkout-small")))
    >>> bool(s["saving_share"].sum() <= 1.0 + 1e-9)
    True
    """
    if by_keys(by, what="saving_potential") != ["service", "name"]:
        raise ArgumentError(f"saving_potential: by must be the operation ('operation' or ('service', 'name')), got {by!r}; "
                            "critical_path_breakdown groups critical-path time by any key")
    sec, n_req = _request_sections(cp, None, spans, "saving_potential")
    # a missing service or name is unknown_service / (unnamed), as its call path says: the group-by dropped such an
    # operation (40 of 100 ms per request gone, the shares adding up to 0.6)
    sec = sec.assign(service=known_service_column(sec["service"]), name=known_name_column(sec["name"]))
    per = sec.groupby(["service", "name", "trace_id"], sort=False)["duration_ms"].sum().reset_index()
    total = sec["duration_ms"].sum() / max(n_req, 1)
    # per operation, over every request (0 where it is not on the path): vectorised, not a loop over operations
    # (50k distinct names took a pandas group each, its attrs copied every time)
    codes, keys = pd.MultiIndex.from_frame(per[["service", "name"]].astype(object)).factorize()
    v = per["duration_ms"].to_numpy(dtype=float)
    n_ops = len(keys)
    p95 = (quantiles_with_zeros(codes, v, n_ops, max(n_req, int(np.bincount(codes, minlength=n_ops).max(initial=0))),
                                 [0.95])[:, 0] if n_ops else np.zeros(0))
    out = pd.DataFrame({"service": keys.get_level_values(0), "name": keys.get_level_values(1),
                        "saving_ms": np.bincount(codes, weights=v, minlength=n_ops) / max(n_req, 1),
                        "p95_saving_ms": p95, "traces": np.bincount(codes, minlength=n_ops)})
    out["saving_share"] = out["saving_ms"] / total if total > 0 else np.nan
    out = out.sort_values(["saving_ms", "service", "name"], ascending=[False, True, True], kind="stable").reset_index(drop=True)
    out["traces"] = out["traces"].astype(np.int64)
    return out[SAVING_POTENTIAL.column_names].astype({"service": STRING, "name": STRING})
