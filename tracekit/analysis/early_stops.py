"""Spans that stopped where their operation always went on: an exception or early return, where it began.

An exception thrown in a handler skips the rest of the handler: the span ends after the call it was making (or
before its first call) where the baseline's spans of the same operation always made another call. In a trace
without status this is the exception's only mark, and it is sharp where the operation serves one kind of
request but diluted where one entry operation serves many (a front end's single ``Recv`` serving every page):
26 of 533 spans, but 26 of the 26 that placed an order.

So the unit is the **step**: each span's calls in start order make steps from a *state* — the span's operation
and the call it made last (``START`` before the first) — to its next call or to ``END``. :func:`early_stops`
marks a span **stopped** when its last step, state → END, is one the baseline never took from a state the
baseline has seen, and counts per state the incident's steps from it; the chance of a step the baseline has not
shown yet is the state's Good–Turing missing mass with one pseudo-step, (successors seen once + 1) / (steps + 1):
a state with varied successors does not make a new one news, and a state seen T times always going on has not
shown every way it ends — a new step is as likely as a new value above all T seen (1/(T + 1),
:func:`tracekit.core.exceed_chance`).

A stop caused by a stop below it is not where the exception began: an error raised in the callee ends the
callee's span early, then the caller's, which stops after that call. As :func:`~tracekit.error_origins` counts
a failure where no child failed, a stop is an **origin** when the subtree of the call it stopped after holds no
stop and no failed span (:func:`tracekit.core.failed`: an error raised below and propagated up ends each caller
after its failed call, and counts where it originates); only origins are evidence (:func:`early_stop_evidence`).
Fault lab, exception in ``admin-service`` (``fault_window("exception", 19)``): its caller's caller, whose spans
stopped after the failed call that carried the error up, was counted as 26 origin stops and ranked first (1.21
against admin-service's 0.82, a "Likely cause"); spans without status (TrainTicket's) are unchanged.

>>> import tracekit as tk
>>> base = tk.simulate.simulate("baseline", 300, seed=1).spans
>>> es = early_stops(base, base)  # a set against itself: nothing stops where it never did
>>> int(es["stopped"].sum())
0
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..core import bool_column, failed, ns, require_columns, share_beyond_chance, span_tree
from ..core.naming import joint_operation_codes

__all__ = ["early_stops", "early_stop_evidence", "call_steps"]

_START = "START"


def call_steps(spans: pd.DataFrame, op: np.ndarray, m: int) -> dict[str, Any]:
    """Every span's steps (the module docstring's unit), coded: the kernel :func:`early_stops` and
    :func:`tracekit.analysis.course_changes.course_changes` share.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame (not modified).
    op : numpy.ndarray of int
        Each span's operation code, 0 .. m − 1 (one code space over every frame compared).
    m : int
        Number of operation codes.

    Returns
    -------
    dict
        ``rows`` (the span taking each step), ``state`` (operation · (m + 1) + previous call's operation + 1, 0
        before the first call), ``next`` (the call's operation + 1; 0 = END): the calls' steps in start order (calls
        starting at one instant in order of operation code, so the frame's row order does not matter), then one
        END step per span; ``prev_rows`` (the row of the call each step comes right after, −1 from ``START``);
        ``last_child`` (each span's last call's row, −1 for none), ``tree``
        (:func:`tracekit.core.span_tree`), ``n`` (spans), ``counted`` (per step: not taken by another copy of a span
        exported twice, which is no span: its END step is there only to keep the END steps aligned with the rows; a
        copy makes no call step of its parent; nor the END step of a span still in progress, which has not ended) and
        ``open`` (per span: no end, or flagged in progress).

    Examples
    --------
    >>> import tracekit as tk
    >>> s = tk.spans_from_columns({"trace_id": ["1" * 32] * 2, "span_id": ["a" * 16, "b" * 16],
    ...     "parent_id": [None, "a" * 16], "service": ["web", "db"], "name": ["GET", "q"], "start": [0, 1], "end": [9, 2]})
    >>> st = call_steps(s, np.array([0, 1]), 2)
    >>> st["state"].tolist(), st["next"].tolist()  # web: START → db, db → END; db: START → END
    ([0, 2, 3], [2, 0, 0])
    """
    tree = span_tree(spans)
    par = tree.parent
    n = len(spans)
    kids = np.flatnonzero((par >= 0) & ~tree.duplicate)  # a span exported twice is one call (kernel tree)
    st = ns(spans["start"])[kids]
    # calls in start order; calls starting at one instant (in parallel) in order of operation, then of the frame: the
    # same spans in another row order take the same steps (before: ties in the frame's order, so a baseline and an
    # incident whose files listed two parallel calls the other way round read every such span as stopped)
    order = kids[np.lexsort((kids, op[kids], st, par[kids]))]
    p_sorted = par[order]
    first = np.r_[True, p_sorted[1:] != p_sorted[:-1]] if len(order) else np.zeros(0, bool)
    prev = np.where(first, 0, np.r_[0, op[order][:-1] + 1] if len(order) else np.zeros(0, np.int64))
    last_child = np.full(n, -1, dtype=np.int64)
    if len(order):
        is_last = np.r_[p_sorted[1:] != p_sorted[:-1], True]
        last_child[p_sorted[is_last]] = order[is_last]
    end_prev = np.where(last_child >= 0, op[np.maximum(last_child, 0)] + 1, 0) if n else np.zeros(0, np.int64)
    rows = np.r_[p_sorted, np.arange(n)].astype(np.int64)
    prev_rows = np.r_[np.where(first, -1, np.r_[-1, order[:-1]]) if len(order) else np.zeros(0, np.int64),
                      last_child].astype(np.int64)
    state = np.r_[op[p_sorted] * (m + 1) + prev, op * (m + 1) + end_prev].astype(np.int64)
    nxt = np.r_[op[order] + 1, np.zeros(n, np.int64)].astype(np.int64)
    # a span still in progress has not ended: its END step is no step (it read as a stop, and as a change of course)
    still_open = spans["end"].isna().to_numpy(dtype=bool) | bool_column(spans, "in_progress")
    counted = ~tree.duplicate[rows] & ~np.r_[np.zeros(len(order), dtype=bool), still_open]
    return {"tree": tree, "rows": rows, "state": state, "next": nxt, "prev_rows": prev_rows, "last_child": last_child,
            "n": n, "counted": counted, "open": still_open}


def _label(code: np.ndarray, labels: np.ndarray, m: int) -> np.ndarray:
    """State codes as ``"service:name | service:name of the last call"`` (``START`` before any call)."""
    last = code % (m + 1)
    return np.asarray([f"{labels[c // (m + 1)]} | {labels[p - 1] if p else _START}" for c, p in
                       zip(code.tolist(), last.tolist(), strict=True)], dtype=object)


def early_stops(spans: pd.DataFrame, baseline: pd.DataFrame) -> pd.DataFrame:
    """Per span of ``spans``: the state it ended in, whether it stopped where the baseline never did, and whether
    that stop began there (module docstring).

    Parameters
    ----------
    spans : pandas.DataFrame
        The incident's spans (not modified).
    baseline : pandas.DataFrame
        Spans of a normal period.

    Returns
    -------
    pandas.DataFrame
        Aligned with ``spans``: ``state`` (``"service:name | service:name of the last call"``, ``START`` when it
        made none), ``stopped`` (bool; never a span still in progress, nor another copy of a span exported
        twice), ``origin`` (bool: stopped, and the subtree of its last call holds no
        stop), ``chance`` (the state's missing mass in the baseline, (seen once + 1) / (steps + 1); NaN for a
        state it never showed).

    Raises
    ------
    SpansSchemaError
        A needed column is missing.

    Examples
    --------
    >>> import tracekit as tk
    >>> s = tk.spans_from_columns({"trace_id": ["1" * 32] * 3, "span_id": ["a" * 16, "b" * 16, "c" * 16],
    ...     "parent_id": [None, "a" * 16, "a" * 16], "service": ["web"] * 3, "name": ["GET", "pay", "mail"],
    ...     "start": [0, 1, 2], "end": [9, 2, 3]})
    >>> early_stops(s.iloc[:2], s)[["state", "stopped", "origin"]].values.tolist()[0]
    ['web:GET | web:pay', True, True]
    """
    for df, what in ((spans, "spans"), (baseline, "baseline")):
        require_columns(df, ("trace_id", "span_id", "parent_id", "service", "name", "start", "end"),
                        f"early_stops ({what})")
    es, a, labels, m = _early_stops(spans, baseline)
    end_state = a["state"][len(a["state"]) - a["n"]:]
    return es.assign(state=pd.array(_label(end_state, labels, m), dtype="string"))[["state", "stopped", "origin",
                                                                                    "chance"]]


def _early_stops(spans: pd.DataFrame, baseline: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any], np.ndarray, int]:
    """:func:`early_stops` without the state labels, the incident's steps, the operation labels and their count."""
    code, labels = joint_operation_codes(spans, baseline)
    # codes in order of the operations' texts, not of first appearance: parallel calls that start at one instant are
    # ordered by operation (call_steps), and so the same way whatever the frames' row order
    o = np.argsort(np.asarray(labels, dtype=object), kind="stable")
    rank = np.empty(len(o), dtype=np.int64)
    rank[o] = np.arange(len(o))
    code, labels = rank[code.astype(np.int64)], np.asarray(labels, dtype=object)[o]
    m = max(len(labels), 1)
    a, b = call_steps(spans, code[:len(spans)], m), call_steps(baseline, code[len(spans):], m)
    # the baseline's steps: per state, its steps and its successors seen once (Good–Turing), and whether it ended
    # (call_steps' counted: not a span still in progress, whose END step said the baseline ended there)
    pair, cnt = np.unique((b["state"] * (m + 1) + b["next"])[b["counted"]], return_counts=True)
    p_state = pair // (m + 1)
    states, s_inv = np.unique(p_state, return_inverse=True)
    steps_of = np.bincount(s_inv, weights=cnt, minlength=len(states))
    singles = np.bincount(s_inv, weights=(cnt == 1).astype(float), minlength=len(states))
    ended_states = p_state[pair % (m + 1) == 0]
    n = a["n"]
    end_state = a["state"][len(a["state"]) - n:]
    pos = np.searchsorted(states, end_state)
    known = (pos < len(states)) & (states[np.minimum(pos, max(len(states) - 1, 0))] == end_state) if len(states) else \
        np.zeros(n, dtype=bool)
    # never a span still in progress (an X-Ray segment in progress after its first call was an origin stop), nor a
    # other copy of a span exported twice (its END step from START was a stop)
    stopped = known & ~np.isin(end_state, ended_states) & ~a["open"] & ~a["tree"].duplicate
    chance = np.full(n, np.nan)
    chance[known] = ((singles + 1.0) / (steps_of + 1.0))[pos[known]]
    # a stop below the call it stopped after explains it: stops propagated up the tree, deepest first; so does a
    # failure there — an error raised below ends the caller's span after that call, and it is counted where it
    # originates (core.failed, error_origins), not again as a stop at every caller it propagated through
    below = a["tree"].below(stopped)
    fl = failed(spans)
    below_f = a["tree"].below(fl)
    lc = a["last_child"]
    lc0 = np.maximum(lc, 0)
    explained = (lc >= 0) & (stopped[lc0] | below[lc0] | fl[lc0] | below_f[lc0])
    es = pd.DataFrame({"stopped": stopped, "origin": stopped & ~explained, "chance": chance}, index=spans.index)
    return es, a, np.asarray(labels, dtype=object), m


def early_stop_evidence(spans: pd.DataFrame, baseline: pd.DataFrame, key_codes: Any, n_keys: int,
                        weights: Any = None, prior: float = 10.0) -> pd.DataFrame:
    """Per component: the share of its steps from one state that stopped there (at the origin) where the baseline
    never did, beyond the chance of an unseen step, shrunk with ``prior`` — its most abnormal state's.

    Parameters
    ----------
    spans, baseline : pandas.DataFrame
        The incident's spans and a normal period's.
    key_codes : array-like of int
        The component (0 .. n_keys − 1) of each span of ``spans`` (a step belongs to the span that takes it).
    n_keys : int
        Number of components.
    weights : array-like of float, optional
        Sampling weight of each span of ``spans`` (1 each by default).
    prior : float
        Pseudo-steps at the chance rate (:func:`tracekit.core.share_beyond_chance`).

    Returns
    -------
    pandas.DataFrame
        One row per component code: ``score`` (≥ 0), ``stops`` (origin stops at the state), ``steps`` (the
        incident's steps from it), ``state`` (<NA> when the score is 0).

    Examples
    --------
    >>> import tracekit as tk
    >>> base = tk.simulate.simulate("baseline", 200, seed=1).spans
    >>> ev = early_stop_evidence(base, base, [0] * len(base), 1)
    >>> float(ev["score"].iloc[0])
    0.0
    """
    es, a, labels, m = _early_stops(spans, baseline)
    k = np.asarray(key_codes, dtype=np.int64).ravel()
    w = np.ones(a["n"]) if weights is None else np.asarray(weights, dtype=float).ravel()
    chance_end = es["chance"].to_numpy(float)
    known = ~np.isnan(chance_end)
    end_state = a["state"][len(a["state"]) - a["n"]:]
    # steps per (component, state) — every step taken from a state the baseline showed — and origin stops there
    kn_states = np.unique(end_state[known])
    step_rows, step_state = a["rows"], a["state"]
    use = np.isin(step_state, kn_states) & a["counted"]
    n_st = max(int(step_state.max()) + 1 if len(step_state) else 1, 1)
    origin = es["origin"].to_numpy(bool) & ~a["tree"].duplicate  # a span exported twice stops once
    pair_steps = k[step_rows[use]] * n_st + step_state[use]
    pair_stops = k[origin] * n_st + end_state[origin]
    codes, inv = np.unique(np.r_[pair_steps, pair_stops], return_inverse=True)
    n_steps = np.bincount(inv[:len(pair_steps)], weights=w[step_rows[use]], minlength=len(codes))
    n_stops = np.bincount(inv[len(pair_steps):], weights=w[origin], minlength=len(codes))
    ch_state = pd.Series(chance_end[known], index=end_state[known]).groupby(level=0).first()
    chance = ch_state.reindex(codes % n_st).to_numpy(float) if len(codes) else np.zeros(0)
    prior_w = prior * (float(w.mean()) if len(w) else 1.0)
    score = np.maximum(share_beyond_chance(n_stops, n_steps, chance, prior_w), 0.0)
    out = pd.DataFrame({"score": np.zeros(n_keys), "stops": np.zeros(n_keys), "steps": np.zeros(n_keys),
                        "state": pd.array([None] * n_keys, dtype="string")})
    if len(codes):
        best = pd.DataFrame({"k": codes // n_st, "s": score, "i": np.arange(len(codes))}).sort_values(
            ["k", "s"], ascending=[True, False], kind="stable").drop_duplicates("k")
        best = best[best["s"] > 0]
        kk, ii = best["k"].to_numpy(), best["i"].to_numpy()
        out.loc[kk, "score"] = score[ii]
        out.loc[kk, "stops"] = n_stops[ii]
        out.loc[kk, "steps"] = n_steps[ii]
        out.loc[kk, "state"] = _label(codes[ii] % n_st, labels, m)
    return out
