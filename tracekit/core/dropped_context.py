"""Where a caller dropped the trace context: its unanswered client span and the callee's new trace.

When a hop drops the trace context (a proxy strips ``traceparent``, a service does not extract it), the caller's
trace ends at a CLIENT span nobody answers and the callee's server span starts a new trace. The callee's trace is
then not a request of its own but the callee's half of the caller's request (:func:`tracekit.core.trace_outcomes`
counts it apart), and :func:`tracekit.reconnect` proposes the pairs. One definition for both, here:

- an **unanswered client span**: a client span that is a call nothing answers (:func:`tracekit.core.unanswered_calls`:
  no server / consumer child nor a child in another service, also below an inner span of a call instrumented twice;
  the definition ``health_report``'s ``uninstrumented_hop`` and ``tracekit.service_graph`` use);
- a **new root**: a server or consumer span with no parent id;
- a pair is a **candidate** when the root's service is the client's callee (:func:`tracekit.core.callees`; a client
  naming no callee may pair with any other service, at 0.8 of the score), the two are in different traces, and the
  root runs inside the client span (each end within ``tolerance_ns``), starting at most ``max_gap_ns`` after it;
- **score** = time fit × name fit × callee fit: time fit = 1 − (lead + lag) / client duration (the network and proxy
  time around the server's work, small for the true pair); name fit 1 when the span names are equal (or the
  client's URL path is the root's ``url.path`` / ``http.target`` / ``http.route``), else 0.8;
- pairs are chosen by an optimal one-to-one assignment (maximum total score over all candidates, scipy's sparse
  ``min_weight_full_bipartite_matching``: memory linear in the candidate pairs); pairs scoring below
  ``min_score`` are left out.

The candidates are found per frame (:func:`dropped_context_candidates`, which needs whole traces) and paired over
all of them (:func:`pair_dropped_context`), so a Dask frame pairs candidates gathered from every partition.

>>> import tracekit as tk
>>> sim = tk.simulate.simulate("context-drop", n_traces=60, seed=2, share=0.2, orphan_share=0.0)
>>> c, r, score = dropped_context_pairs(sim.spans)
>>> tid = sim.spans["trace_id"].to_numpy(dtype=object)
>>> set(zip(tid[c], tid[r])) == set(sim.truth.dropped)
True
"""

from __future__ import annotations

from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from ..schema import known_service_column
from .calls import unanswered_calls
from .frame import NAT_NS, ns
from .naming import callees
from .tree import SpanTree, span_tree

__all__ = ["dropped_context_pairs", "dropped_context_candidates", "pair_dropped_context", "new_root_starts", "MAX_GAP_NS",
           "TOLERANCE_NS", "MIN_SCORE", "MAX_CANDIDATES"]

#: longest time from the client span's start to the new root's start (1 s)
MAX_GAP_NS = 1_000_000_000
#: how far the root may stick out of the client span at either end (clock skew; 1 ms)
TOLERANCE_NS = 1_000_000
#: pairs scoring below this are left out
MIN_SCORE = 0.5
#: most candidate clients considered per root (the nearest starts before it)
MAX_CANDIDATES = 32

#: costs are scaled to whole numbers before the assignment (see _assign)
_COST_SCALE = float(2**20)

_EMPTY = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))


def _path(url) -> str | None:
    if not isinstance(url, str):
        return None
    try:
        return urlsplit(url).path or None
    except ValueError:
        return None


def _kinds(spans: pd.DataFrame) -> np.ndarray:
    if "kind" not in spans.columns:
        return np.full(len(spans), "unspecified", dtype=object)
    return spans["kind"].to_numpy(dtype=object, na_value="unspecified")


def _kind_is(spans: pd.DataFrame, kinds: tuple[str, ...]) -> np.ndarray:
    """Per span: its kind is one of ``kinds`` (compared in the column's own type, no object array built)."""
    if "kind" not in spans.columns:
        return np.zeros(len(spans), dtype=bool)
    return spans["kind"].isin(kinds).to_numpy(dtype=bool, na_value=False)


def dropped_context_candidates(spans: pd.DataFrame, tree: SpanTree | None = None, *,
                               max_gap_ns: int = MAX_GAP_NS, tolerance_ns: int = TOLERANCE_NS,
                               root_starts: np.ndarray | None = None) -> np.ndarray:
    """Positions of the spans that can be one end of a dropped-context pair: unanswered client spans during which
    some new root starts, and new roots (server or consumer spans with no parent id).

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame of whole traces.
    tree : SpanTree, optional
        ``span_tree(spans)``, when the caller has it.
    max_gap_ns, tolerance_ns : int
        As :func:`pair_dropped_context`: a client span no root starts within cannot pair.
    root_starts : numpy.ndarray, optional
        The start times (int64 ns) of every new root the pairs may use, sorted — of all partitions, when ``spans``
        is one (:func:`new_root_starts` of each); None takes this frame's roots.

    Returns
    -------
    numpy.ndarray of int64
        Sorted row positions.

    Examples
    --------
    >>> import tracekit as tk
    >>> dropped_context_candidates(tk.empty_spans()).tolist()
    []
    """
    if not len(spans):
        return np.zeros(0, dtype=np.int64)
    tree = span_tree(spans) if tree is None else tree
    answering = _kind_is(spans, ("server", "consumer"))
    roots = np.flatnonzero(tree.is_root & answering & ~tree.duplicate)  # a root read twice: the copy the tree chose
    if not _kind_is(spans, ("client",)).any():
        return roots
    clients = unanswered_calls(spans, tree, ("client",))  # the kernel's one definition (core.calls)
    start = ns(spans["start"])
    rs = np.sort(start[roots]) if root_starts is None else np.asarray(root_starts, dtype=np.int64)
    if not len(rs) or not len(clients):
        return roots
    end = ns(spans["end"])
    end = np.where(end == NAT_NS, start, end)
    # a client can pair only with a root starting in [its start − tolerance, min(its start + gap, its end + tolerance)]
    lo = np.searchsorted(rs, start[clients] - tolerance_ns, side="left")
    hi = np.searchsorted(rs, np.minimum(start[clients] + max_gap_ns, end[clients] + tolerance_ns), side="right")
    clients = clients[hi > lo]
    return np.sort(np.concatenate([clients, roots]))




def new_root_starts(spans: pd.DataFrame) -> np.ndarray:
    """The start times (int64 ns, sorted) of the frame's new roots: server or consumer spans with no parent id (of
    a root read twice, the copy the span tree chose).

    Examples
    --------
    >>> import tracekit as tk
    >>> new_root_starts(tk.empty_spans()).tolist()
    []
    """
    if not len(spans):
        return np.zeros(0, dtype=np.int64)
    tree = span_tree(spans)
    return np.sort(ns(spans["start"])[tree.is_root & ~tree.duplicate & _kind_is(spans, ("server", "consumer"))])


def pair_dropped_context(spans: pd.DataFrame, rows: np.ndarray | None = None, *, trace_codes: np.ndarray | None = None,
                         max_gap_ns: int = MAX_GAP_NS, tolerance_ns: int = TOLERANCE_NS,
                         min_score: float = MIN_SCORE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pair unanswered client spans with the new roots their callee started (the module's rule).

    Parameters
    ----------
    spans : pandas.DataFrame
        Spans holding the candidates (columns trace_id, service, name, kind, start, end; attributes when
        present).
    rows : numpy.ndarray, optional
        The candidate positions (:func:`dropped_context_candidates`); None takes every row of ``spans`` as a
        candidate (a frame of candidates gathered from several partitions). The client spans among them
        are the callers, the server and consumer spans the new roots.
    trace_codes : numpy.ndarray, optional
        One integer per row of ``spans`` naming its trace (the span tree's codes); None factorizes ``trace_id``.
    max_gap_ns, tolerance_ns, min_score
        The window and the least score (:data:`MAX_GAP_NS`, :data:`TOLERANCE_NS`, :data:`MIN_SCORE`).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, numpy.ndarray)
        Client positions, root positions and scores of the chosen pairs, one-to-one.

    Examples
    --------
    >>> import tracekit as tk
    >>> [a.tolist() for a in pair_dropped_context(tk.empty_spans())]
    [[], [], []]
    """
    rows = np.arange(len(spans), dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
    if not len(rows):
        return _EMPTY
    # the candidates alone (positions in ``sub``; mapped back to ``spans``' at the end)
    trace = pd.factorize(spans["trace_id"])[0] if trace_codes is None else np.asarray(trace_codes)
    trace = trace[rows]
    sub = spans.iloc[rows]
    c, r, score = _pair(sub, trace, max_gap_ns, tolerance_ns, min_score)
    return rows[c], rows[r], score


def _pair(spans: pd.DataFrame, trace: np.ndarray, max_gap_ns: int, tolerance_ns: int, min_score: float
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    kind = _kinds(spans)
    roots = np.flatnonzero(np.isin(kind, ("server", "consumer")))
    clients = np.flatnonzero(kind == "client")
    if not len(clients) or not len(roots):
        return _EMPTY
    svc = known_service_column(spans["service"]).to_numpy(dtype=object)
    names = spans["name"].to_numpy(dtype=object, na_value="")
    start = ns(spans["start"])
    end = ns(spans["end"])
    end = np.where(end == NAT_NS, start, end)
    attrs = spans["attributes"].to_numpy(dtype=object) if "attributes" in spans.columns else np.full(len(spans), None)
    cal = callees(spans, clients)
    root_services = set(svc[roots].tolist())
    known = np.asarray([x in root_services for x in cal], dtype=bool)
    unnamed = np.asarray([x is None for x in cal], dtype=bool)
    keep = known | unnamed
    clients, cal, unnamed = clients[keep], np.asarray(cal, dtype=object)[keep], unnamed[keep]
    if not len(clients):
        return _EMPTY
    # candidate pairs: per callee group, clients sorted by start; each root looks back max_gap
    pc, pr = [], []
    groups = {s: np.flatnonzero(cal == s) for s in set(cal[~unnamed].tolist())}
    any_group = np.flatnonzero(unnamed)
    for s_name, idx in list(groups.items()) + ([(None, any_group)] if len(any_group) else []):
        cl = clients[idx]
        cl = cl[np.argsort(start[cl], kind="stable")]
        cst = start[cl]
        rt = roots if s_name is None else roots[svc[roots] == s_name]
        if not len(rt):
            continue
        hi = np.searchsorted(cst, start[rt] + tolerance_ns, side="right")
        lo = np.maximum(np.searchsorted(cst, start[rt] - max_gap_ns, side="left"), hi - MAX_CANDIDATES)
        cnt = np.maximum(hi - lo, 0)
        if not cnt.sum():
            continue
        pr.append(np.repeat(rt, cnt))
        off = np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        pc.append(cl[np.repeat(lo, cnt) + off])
    if not pc:
        return _EMPTY
    cc, rr = np.concatenate(pc), np.concatenate(pr)
    ok = (svc[cc] != svc[rr]) & (end[cc] >= end[rr] - tolerance_ns) & (trace[cc] != trace[rr])
    cc, rr = cc[ok], rr[ok]
    if not len(cc):
        return _EMPTY
    cdur = np.maximum(end[cc] - start[cc], 1).astype(np.float64)
    slack = np.abs(start[rr] - start[cc]) + np.abs(end[cc] - end[rr])
    time_fit = np.clip(1.0 - slack / cdur, 0.0, 1.0)
    name_fit = np.fromiter((_same_name(names[a], names[b], attrs[a], attrs[b])
                            for a, b in zip(cc.tolist(), rr.tolist(), strict=True)), dtype=np.float64, count=len(cc))
    pos = {int(c): k for k, c in enumerate(clients.tolist())}
    callee_fit = np.where(unnamed[[pos[int(c)] for c in cc.tolist()]], 0.8, 1.0)
    score = time_fit * name_fit * callee_fit
    keep = score >= min_score
    if not keep.any():
        return _EMPTY
    return _assign(cc[keep], rr[keep], score[keep])


def dropped_context_pairs(spans: pd.DataFrame, tree: SpanTree | None = None, *, max_gap_ns: int = MAX_GAP_NS,
                          tolerance_ns: int = TOLERANCE_NS, min_score: float = MIN_SCORE
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The dropped-context pairs of a frame of whole traces: client positions, root positions, scores.

    :func:`dropped_context_candidates` then :func:`pair_dropped_context` (see the module for the rule).

    Examples
    --------
    >>> import tracekit as tk
    >>> [a.tolist() for a in dropped_context_pairs(tk.empty_spans())]
    [[], [], []]
    """
    tree = span_tree(spans) if tree is None and len(spans) else tree
    rows = dropped_context_candidates(spans, tree, max_gap_ns=max_gap_ns, tolerance_ns=tolerance_ns)
    if not len(rows):
        return _EMPTY
    return pair_dropped_context(spans, rows, trace_codes=tree.trace, max_gap_ns=max_gap_ns,
                                tolerance_ns=tolerance_ns, min_score=min_score)


def _same_name(cname, rname, ca, ra) -> float:
    if cname == rname:
        return 1.0
    if isinstance(ca, dict) and isinstance(ra, dict):
        p = _path(ca.get("url.full") or ca.get("http.url"))
        if p is not None and p in (ra.get("url.path"), ra.get("http.target"), ra.get("http.route")):
            return 1.0
    return 0.8


def _assign(cc: np.ndarray, rr: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One-to-one pairs of maximum total score (every score > 0), in memory linear in the candidate pairs.

    A sparse assignment (scipy's LAPJVsp) on the candidates plus one stand-in per client and per root: leaving a
    client or a root unpaired costs 1.5, a pair costs 2 − score and frees its two stand-ins to pair with each
    other at 1, so each pair taken lowers the total by its score and a full matching always exists (every node
    with its stand-in). Steady overlapping traffic chains every candidate into one competing group: a dense score
    matrix per group grew with its square (860 MB at 410k spans, 20,000 requests/s).
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import min_weight_full_bipartite_matching

    # one score per (client, root): the best, should a pair be proposed twice
    o = np.lexsort((-score, rr, cc))
    cc, rr, score = cc[o], rr[o], score[o]
    first = np.r_[True, (cc[1:] != cc[:-1]) | (rr[1:] != rr[:-1])]
    cc, rr, score = cc[first], rr[first], score[first]
    cu, ci = np.unique(cc, return_inverse=True)
    ru, ri = np.unique(rr, return_inverse=True)
    nc, nr = len(cu), len(ru)
    rows = np.concatenate([ci, np.arange(nc), nc + np.arange(nr), nc + ri])
    cols = np.concatenate([ri, nr + np.arange(nc), np.arange(nr), nr + ci])
    cost = np.concatenate([2.0 - score, np.full(nc + nr, 1.5), np.ones(len(ci))])
    # whole-number costs (scores to 2**-20): LAPJVsp compares sums of float costs and never returned on near-equal
    # ones (800 spans of steady traffic, 480 candidates: killed after 100 s; scipy gh-17269 was another such loop);
    # sums of whole numbers below 2**53 are exact, and the total differs from the float optimum by < n * 2**-20
    graph = csr_matrix((np.round(cost * _COST_SCALE), (rows, cols)), shape=(nc + nr, nr + nc))
    x, y = min_weight_full_bipartite_matching(graph)
    real = (x < nc) & (y < nr)
    x, y = x[real], y[real]
    # the score of each chosen pair, looked up among the candidates (sorted by client, then root)
    k = np.searchsorted(ci * np.int64(nr) + ri, x * np.int64(nr) + y)
    return cu[x], ru[y], score[k]
