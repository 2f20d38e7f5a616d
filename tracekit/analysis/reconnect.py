"""Repair broken context: propose which span called the span that started a new trace.

When a hop drops the trace context (a proxy strips ``traceparent``, a service does not extract
it), the caller's trace ends at a CLIENT span nobody answers and the callee starts a new trace;
when the caller's client span is lost instead (not exported, not sampled), the callee's span stays
in the trace but names a parent that is not there. :func:`reconnect` proposes the pairs:

``case="dropped_context"`` — an *unanswered client span* (kind client, no child that is a
    server/consumer span or belongs to another service: the definition ``health_report``'s
    ``uninstrumented_hop`` uses) and a *new root* (a server or consumer span with no parent id).
    A pair is a candidate when the root's service is the client's callee (the kernel's resolver,
    :func:`tracekit.core.callees`; a client naming no callee may pair with any other service, at
    0.8 of the score), and the root runs inside the client span (each end within ``tolerance_ms``)
    starting at most ``max_gap_ms`` after it. Score = time fit × name fit × callee fit:
    time fit = 1 − (lead + lag) / client duration (lead = root start − client start, lag = client
    end − root end: the network and proxy time around the server's work, small for the true pair);
    name fit 1 when the client's and the root's span names are equal (or the client's URL path is
    the root's ``url.path`` / ``http.route``), else 0.8. Pairs are chosen by an optimal one-to-one
    assignment (maximum total score, per group of competing candidates, scipy's
    ``linear_sum_assignment``), so a client span is proposed at most once and so is a root;
    pairs scoring below ``min_score`` are left out.
``case="missing_parent"`` — an orphan span (its ``parent_id`` names no span of its trace): the
    lost client span is the one the orphan names, so the pair (trace id, missing parent id) is
    certain (score 1, one row per missing parent, the earliest orphan naming it as the root). The
    ``caller_span_id`` column proposes where the lost call hung: the deepest span of another
    service in the trace whose interval holds the orphan.

Columns (``RECONNECT_TABLE``): ``case``, ``client_trace_id``, ``client_span_id``,
``root_trace_id``, ``root_span_id``, ``score``, ``client_service``, ``root_service``,
``caller_span_id``, ``gap_ms``. The input is never modified. Vectorised over spans except the
assignment of competing candidates (small groups).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from ..core import callees, ns, require_columns, result_table, span_tree
from ..errors import ArgumentError
from ..schema import STRING

__all__ = ["reconnect", "RECONNECT_TABLE"]

_NAT = np.iinfo(np.int64).min
#: most candidate clients considered per root (the nearest starts before it)
MAX_CANDIDATES = 32

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


def _path(url) -> str | None:
    if not isinstance(url, str):
        return None
    try:
        return urlsplit(url).path or None
    except ValueError:
        return None


def _unanswered_clients(kind: np.ndarray, svc: np.ndarray, parent: np.ndarray) -> np.ndarray:
    child = np.flatnonzero(parent >= 0)
    p = parent[child]
    answers = np.isin(kind[child], ("server", "consumer")) | (svc[child] != svc[p])
    answered = np.zeros(len(kind), dtype=bool)
    answered[p[answers]] = True
    return np.flatnonzero((kind == "client") & ~answered)


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
    if not (max_gap_ms >= 0 and tolerance_ms >= 0):
        raise ArgumentError(f"reconnect: max_gap_ms and tolerance_ms must be ≥ 0, got {max_gap_ms!r}, {tolerance_ms!r}")
    if not (0.0 <= min_score <= 1.0):
        raise ArgumentError(f"reconnect: min_score must be within [0, 1], got {min_score!r}")
    tree = span_tree(spans)
    kind = spans["kind"].to_numpy(dtype=object, na_value="unspecified")
    svc = spans["service"].to_numpy(dtype=object, na_value="?")
    names = spans["name"].to_numpy(dtype=object, na_value="")
    start = ns(spans["start"])
    end = ns(spans["end"])
    end = np.where(end == _NAT, start, end)
    tid = spans["trace_id"].to_numpy(dtype=object)
    sid = spans["span_id"].to_numpy(dtype=object)
    attrs = spans["attributes"].to_numpy(dtype=object) if "attributes" in spans.columns else np.full(len(spans), None)

    drop = _dropped(tree, kind, svc, names, start, end, attrs, spans, int(max_gap_ms * 1e6), int(tolerance_ms * 1e6), min_score)
    c, r, score = drop
    rows_d = pd.DataFrame({
        "case": "dropped_context", "client_trace_id": tid[c], "client_span_id": sid[c],
        "root_trace_id": tid[r], "root_span_id": sid[r], "score": score,
        "client_service": svc[c], "root_service": svc[r], "caller_span_id": sid[c],
        "gap_ms": (start[r] - start[c]) / 1e6,
    })
    rows_d = rows_d.iloc[np.lexsort((rows_d["client_span_id"].to_numpy(dtype=object), start[c]))]
    rows_m = _missing_parents(spans, tree, svc, start, end, tid, sid)
    out = pd.concat([rows_d, rows_m], ignore_index=True) if len(rows_m) else rows_d
    out = out[RECONNECT_TABLE.column_names]
    for col in RECONNECT_TABLE.columns:
        out[col.name] = out[col.name].astype(STRING if col.dtype == "string" else col.dtype)
    RECONNECT_TABLE.check(out)
    return out.reset_index(drop=True)


def _dropped(tree, kind, svc, names, start, end, attrs, spans, max_gap, tol, min_score):
    empty = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))
    clients = _unanswered_clients(kind, svc, tree.parent)
    roots = np.flatnonzero(tree.is_root & np.isin(kind, ("server", "consumer")))
    if not len(clients) or not len(roots):
        return empty
    cal = callees(spans, clients)
    root_services = set(svc[roots].tolist())
    known = np.asarray([x in root_services for x in cal], dtype=bool)
    unnamed = np.asarray([x is None for x in cal], dtype=bool)
    keep = known | unnamed
    clients, cal = clients[keep], np.asarray(cal, dtype=object)[keep]
    unnamed = unnamed[keep]
    if not len(clients):
        return empty
    # candidate pairs: per callee group, clients sorted by start; each root looks back max_gap
    pc, pr = [], []
    groups = {s: np.flatnonzero(cal == s) for s in set(cal[~unnamed].tolist())}
    any_group = np.flatnonzero(unnamed)
    for s_name, idx in list(groups.items()) + ([(None, any_group)] if len(any_group) else []):
        cl = clients[idx]
        o = np.argsort(start[cl], kind="stable")
        cl = cl[o]
        cst = start[cl]
        rt = roots if s_name is None else roots[svc[roots] == s_name]
        if not len(rt):
            continue
        hi = np.searchsorted(cst, start[rt] + tol, side="right")
        lo = np.maximum(np.searchsorted(cst, start[rt] - max_gap, side="left"), hi - MAX_CANDIDATES)
        cnt = np.maximum(hi - lo, 0)
        if not cnt.sum():
            continue
        rr = np.repeat(rt, cnt)
        off = np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        cc = cl[np.repeat(lo, cnt) + off]
        pc.append(cc)
        pr.append(rr)
    if not pc:
        return empty
    cc = np.concatenate(pc)
    rr = np.concatenate(pr)
    ok = (svc[cc] != svc[rr]) & (end[cc] >= end[rr] - tol) & (tree.trace[cc] != tree.trace[rr])
    cc, rr = cc[ok], rr[ok]
    if not len(cc):
        return empty
    cdur = np.maximum(end[cc] - start[cc], 1).astype(np.float64)
    slack = np.abs(start[rr] - start[cc]) + np.abs(end[cc] - end[rr])
    time_fit = np.clip(1.0 - slack / cdur, 0.0, 1.0)
    name_fit = np.fromiter((_same_name(names[a], names[b], attrs[a], attrs[b]) for a, b in zip(cc.tolist(), rr.tolist(), strict=True)),
                           dtype=np.float64, count=len(cc))
    pos = {int(c): k for k, c in enumerate(clients.tolist())}
    callee_fit = np.where(unnamed[[pos[int(c)] for c in cc.tolist()]], 0.8, 1.0)
    score = time_fit * name_fit * callee_fit
    keep = score >= min_score
    cc, rr, score = cc[keep], rr[keep], score[keep]
    if not len(cc):
        return empty
    return _assign(cc, rr, score)


def _same_name(cname, rname, ca, ra) -> float:
    if cname == rname:
        return 1.0
    if isinstance(ca, dict) and isinstance(ra, dict):
        p = _path(ca.get("url.full") or ca.get("http.url"))
        if p is not None and p in (ra.get("url.path"), ra.get("http.target"), ra.get("http.route")):
            return 1.0
    return 0.8


def _assign(cc: np.ndarray, rr: np.ndarray, score: np.ndarray):
    """One-to-one pairs of maximum total score, per connected group of competing candidates."""
    from scipy.optimize import linear_sum_assignment
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    cu, ci = np.unique(cc, return_inverse=True)
    ru, ri = np.unique(rr, return_inverse=True)
    nc = len(cu)
    g = coo_matrix((np.ones(len(cc)), (ci, nc + ri)), shape=(nc + len(ru), nc + len(ru)))
    _, label = connected_components(g, directed=False)
    comp = label[ci]
    size = np.bincount(comp, minlength=label.max() + 1)
    single = size[comp] == 1
    out_c, out_r, out_s = [cc[single]], [rr[single]], [score[single]]
    multi = np.flatnonzero(~single)
    if len(multi):
        o = multi[np.argsort(comp[multi], kind="stable")]
        bounds = np.flatnonzero(np.r_[True, comp[o][1:] != comp[o][:-1], True])
        for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            k = o[a:b]
            cl, cinv = np.unique(ci[k], return_inverse=True)
            rl, rinv = np.unique(ri[k], return_inverse=True)
            m = np.zeros((len(cl), len(rl)))
            np.maximum.at(m, (cinv, rinv), score[k])
            x, y = linear_sum_assignment(m, maximize=True)
            good = m[x, y] > 0
            out_c.append(cu[cl[x[good]]])
            out_r.append(ru[rl[y[good]]])
            out_s.append(m[x[good], y[good]])
    C = np.concatenate(out_c)
    R = np.concatenate(out_r)
    S = np.concatenate(out_s)
    return C, R, S


def _missing_parents(spans, tree, svc, start, end, tid, sid) -> pd.DataFrame:
    orph = np.flatnonzero(tree.orphan)
    if not len(orph):
        return pd.DataFrame(columns=RECONNECT_TABLE.column_names)
    pid = spans["parent_id"].to_numpy(dtype=object, na_value=None)
    df = pd.DataFrame({"row": orph, "t": tree.trace[orph], "p": pid[orph], "s": start[orph]})
    first = df.sort_values(["t", "p", "s", "row"], kind="stable").drop_duplicates(["t", "p"])
    r = first["row"].to_numpy(dtype=np.int64)
    # the caller: deepest span of another service in the trace whose interval holds the orphan
    # (candidates: spans of the orphan's trace, by the kernel's trace codes)
    order = np.argsort(tree.trace, kind="stable")
    tsorted = tree.trace[order]
    caller = np.full(len(r), -1, dtype=np.int64)
    for k, o in enumerate(r.tolist()):
        a, b = np.searchsorted(tsorted, [tree.trace[o], tree.trace[o] + 1])
        cand = order[a:b]
        cand = cand[(svc[cand] != svc[o]) & (start[cand] <= start[o]) & (end[cand] >= end[o]) & (cand != o)]
        if len(cand):
            caller[k] = cand[np.lexsort((-tree.depth[cand], -start[cand]))][0]
    has = caller >= 0
    cs = np.where(has, caller, 0)
    return pd.DataFrame({
        "case": "missing_parent", "client_trace_id": tid[r], "client_span_id": pid[r],
        "root_trace_id": tid[r], "root_span_id": sid[r], "score": 1.0,
        "client_service": np.where(has, svc[cs], None), "root_service": svc[r],
        "caller_span_id": np.where(has, sid[cs], None),
        "gap_ms": np.where(has, (start[r] - start[cs]) / 1e6, np.nan),
    })
