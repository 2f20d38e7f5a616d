"""Where a component's requests changed course: right after which call.

A component whose calls changed in the incident — a branch taken more often, calls that stopped, new ones — changed
course at some step. When those steps come right after its calls into one other component, two stories fit the
same spans: its own code changed (an exception or a deploy at that point), or **what that component answered** it
changed (a wrong value, an empty result, an error it handled) and it did what it does with such an answer. A
callee's wrong answer leaves no mark on the callee's own spans, so the ranking, which reads each component's own
spans, names the caller; :func:`course_changes` finds the callee the changes follow so that the words can name
both (the postmortem does).

The unit is the **step** of :mod:`tracekit.analysis.early_stops`: each span's calls in start order make steps from
a *state* — its operation and the call it made last — to its next call or to the end. Per state, the incident's
steps to each next step are compared with the count the baseline's share of that next step predicts; the steps
beyond it, less two standard errors of the difference of two binomial counts (the variance pooled over both
sides, as ``rank_causes``' ``extra`` counts calls), are the **changed** steps. A state's last call reaches the
service of the span it called (a client span's child in another service: the server span that answered it). A
client span's own step after the call it carries, to its end, is not counted: it is the transport finishing, never
a choice, and the caller's step after that call is its parent's (counting both counted each call twice).

**Which host answered.** A bad pod that answers wrong makes its callers change course after its answers only; a
change in the caller's own code does not follow one pod of its callee. Where the callee answered a row's steps from
two or more hosts (:func:`tracekit.core.hosts`), the steps after each host's answers that went to a changed step
(a next step the incident took beyond the baseline's prediction) are compared with those after the callee's other
hosts by a one-sided Fisher exact test, Bonferroni-adjusted over the callee's hosts; the row names the host with the
smallest p-value (``callee_host``, ``host_p_value``). The postmortem names it when p ≤ its ``alpha``.

>>> import tracekit as tk
>>> base = tk.simulate.simulate("baseline", 200, seed=1).spans
>>> float(course_changes(base, base)["changed"].sum())  # a set against itself: nothing changed course
0.0
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..core import hosts, joint_codes, ns, require_columns, result_table, span_tree
from ..core.cache import fingerprint, frame_cached
from ..core.naming import joint_operation_codes, operation_parts
from .early_stops import call_steps

__all__ = ["course_changes", "COURSE_CHANGES", "host_answers", "HostAnswers"]

#: standard errors of the difference a step count must pass to be changed (as rank_causes' extra / vanished)
_Z = 2.0

COURSE_CHANGES = result_table("course_changes", "one row per (caller service, callee service) with steps in both "
                              "sets, most changed steps first", [
    ("caller", "string", "", "service whose spans took the steps"),
    ("callee", "string", "", "service its last call reached before each step (the callee's server span's service; "
                             "the caller's own service for a call inside it)"),
    ("steps", "float64", "steps", "the incident's steps of the caller right after a call reaching the callee, from "
                                  "states the baseline showed (one per call: a client span's own step to its end "
                                  "after the call it carries is not counted)"),
    ("changed", "float64", "steps", "of those, steps to a next step beyond the count the baseline's share of it "
                                    "predicts, less two standard errors (per state and next step)"),
    ("share", "float64", "", "changed / steps"),
    ("callee_host", "string", "", "where the callee answered these steps from two or more hosts (core.hosts: pods, "
                                  "instances), the host after whose answers the steps went to a changed step most "
                                  "beyond the callee's other hosts (smallest host_p_value); <NA> otherwise"),
    ("host_steps", "float64", "steps", "the steps right after that host's answers (0 without callee_host)"),
    ("host_changed", "float64", "steps", "of those, steps to a changed step: a next step the incident took beyond "
                                         "the count the baseline predicts (the steps counted in changed are among them)"),
    ("other_hosts_steps", "float64", "steps", "the steps right after the callee's other hosts' answers"),
    ("other_hosts_changed", "float64", "steps", "of those, steps to a changed step"),
    ("host_p_value", "float64", "", "one-sided Fisher exact test that steps after that host's answers go to a changed "
                                    "step more often than after the other hosts', Bonferroni-adjusted over the callee's "
                                    "hosts; NaN without callee_host or without a changed step"),
])


def course_changes(spans: pd.DataFrame, baseline: pd.DataFrame) -> pd.DataFrame:
    """Per caller and callee service: how many of the caller's steps right after a call reaching the callee went
    somewhere the baseline did not predict (module docstring).

    Parameters
    ----------
    spans : pandas.DataFrame
        The incident's spans (not modified).
    baseline : pandas.DataFrame
        Spans of a normal period.

    Returns
    -------
    pandas.DataFrame
        :data:`COURSE_CHANGES`: rows with steps on both sides, most changed steps first.

    Raises
    ------
    SpansSchemaError
        A needed column is missing.

    Examples
    --------
    >>> import tracekit as tk
    >>> s = tk.spans_from_columns({"trace_id": ["1" * 32] * 3, "span_id": ["a" * 16, "b" * 16, "c" * 16],
    ...     "parent_id": [None, "a" * 16, "a" * 16], "service": ["web", "db", "mail"], "name": ["GET", "q", "send"],
    ...     "start": [0, 1, 2], "end": [9, 2, 3]})
    >>> course_changes(s, s)[["caller", "callee", "steps", "changed"]].values.tolist()[:1]
    [['web', 'db', 1.0, 0.0]]
    """
    return _course(spans, baseline, "course_changes")[0]


def _course(spans: pd.DataFrame, baseline: pd.DataFrame, who: str, host: np.ndarray | None = None
            ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`course_changes`' table, and its incident steps right after a call (:func:`_steps`); ``who`` names the
    public function in a missing column's error; ``host``: the incident's :func:`tracekit.core.hosts`, when the caller
    has them."""
    for df, what in ((spans, "spans"), (baseline, "baseline")):
        require_columns(df, ("trace_id", "span_id", "parent_id", "service", "name", "start", "end"), f"{who} ({what})")
    # computed once per pair of frames (and hosts): a postmortem asks for it in rank_causes and again in its words
    host = hosts(spans) if host is None else np.asarray(host, dtype=object)
    key = (fingerprint(baseline, _READS),
           hashlib.blake2b(pd.util.hash_array(host).tobytes(), digest_size=16).digest())
    out, steps = frame_cached(spans, "course_changes", key, _READS, lambda: _compute(spans, baseline, host))
    return out.copy(deep=False), steps.copy(deep=False)


#: the columns :func:`_compute` reads of each frame (the incident's hosts come from its resources)
_READS = ("trace_id", "span_id", "parent_id", "service", "name", "start", "end", "kind")


def _compute(spans: pd.DataFrame, baseline: pd.DataFrame, host: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`_course`'s tables, computed."""
    code, labels = joint_operation_codes(spans, baseline)
    code = code.astype(np.int64)
    m = max(len(labels), 1)
    # a span's known service is its operation's (each frame's cached operation_parts: no text per span)
    (ca, _, sa, _), (cb, _, sb, _) = operation_parts(spans), operation_parts(baseline)
    svc = np.r_[sa[ca], sb[cb]]
    # the span that answers each span's call (over both frames): a span's child in another service answers it, else
    # the span itself; the service it reaches is that span's
    answer = np.arange(len(svc))
    for lo, df in ((0, spans), (len(spans), baseline)):
        tree = span_tree(df)
        par = tree.parent
        rows = np.arange(len(df))
        cross = np.flatnonzero((par >= 0) & (svc[lo + np.maximum(par, 0)] != svc[lo + rows]))
        # of several such children, the earliest (then the smallest span id): the last in row order answered, so a
        # shuffle of the rows moved an operation's steps to another callee (api-gateway's 300 steps: 159 + 141)
        cross = cross[np.lexsort((tree.span_code[cross], ns(df["start"])[cross], par[cross]))]
        head = np.r_[True, par[cross][1:] != par[cross][:-1]] if len(cross) else np.zeros(0, dtype=bool)
        answer[lo + par[cross[head]]] = lo + cross[head]
    reach = svc[answer]
    op_svc = pd.Series(svc).groupby(code).first().reindex(range(m)).to_numpy(dtype=object)
    # per operation the service its spans reach most often (ties: the service named first, not the first seen)
    vc = pd.DataFrame({"op": code, "reach": reach}).value_counts(sort=False).rename("n").reset_index()
    vc = vc.sort_values(["op", "n", "reach"], ascending=[True, False, True], kind="stable").drop_duplicates("op")
    op_reach = pd.Series(vc["reach"].to_numpy(dtype=object), index=vc["op"].to_numpy()).reindex(range(m)).to_numpy(dtype=object)
    a, b = call_steps(spans, code[:len(spans)], m), call_steps(baseline, code[len(spans):], m)
    sel_a, sel_b = _after_call(a, spans, svc[:len(spans)]), _after_call(b, baseline, svc[len(spans):])
    ka, kb = a["state"] * (m + 1) + a["next"], b["state"] * (m + 1) + b["next"]
    ka, kb = ka[sel_a], kb[sel_b]
    pairs, inv = np.unique(np.r_[ka, kb], return_inverse=True)
    x = np.bincount(inv[:len(ka)], minlength=len(pairs)).astype(float)
    y = np.bincount(inv[len(ka):], minlength=len(pairs)).astype(float)
    state = pairs // (m + 1)
    su, sinv = np.unique(state, return_inverse=True)
    na = np.bincount(sinv, weights=x, minlength=len(su))[sinv]
    nb = np.bincount(sinv, weights=y, minlength=len(su))[sinv]
    both = (na > 0) & (nb > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = na * y / nb
        p = (x + y) / (na + nb)
        se = np.sqrt(na * p * (1 - p) * (1 + na / nb))
    changed = np.where(both, np.maximum(x - expected - _Z * se, 0.0), 0.0)
    op = state // (m + 1)
    last = state % (m + 1) - 1
    # per (caller, callee): each state has one of each, so its pairs are summed straight into the pair's row
    code, (u_caller, u_callee) = joint_codes(op_svc[op][both], op_reach[last][both])
    out = pd.DataFrame({"caller": u_caller, "callee": u_callee,
                        "steps": np.bincount(code, weights=x[both], minlength=len(u_caller)),
                        "changed": np.bincount(code, weights=changed[both], minlength=len(u_caller))})
    out["share"] = np.where(out["steps"] > 0, out["changed"] / out["steps"].where(out["steps"] > 0, 1), 0.0)
    steps = _steps(host, answer[:len(spans)], a, sel_a, inv[:len(ka)], changed > 0, both, op_svc[op], op_reach[last])
    out = out.merge(_by_host(steps), how="left", on=["caller", "callee"])
    for c in ("host_steps", "host_changed", "other_hosts_steps", "other_hosts_changed"):
        out[c] = out[c].fillna(0.0)
    out = out.sort_values(["changed", "caller", "callee"], ascending=[False, True, True], kind="stable")
    out["caller"] = out["caller"].astype("string")
    out["callee"] = out["callee"].astype("string")
    out["callee_host"] = out["callee_host"].astype("string")
    out = out[COURSE_CHANGES.column_names].reset_index(drop=True)
    out = out.astype({c.name: c.dtype for c in COURSE_CHANGES.columns if c.dtype == "float64" and out[c.name].dtype != c.dtype})
    return out, steps


@dataclass(frozen=True)
class HostAnswers:
    """What :func:`host_answers` finds: where callers' changed course followed one host of their callee.

    Attributes
    ----------
    table : pandas.DataFrame
        The :data:`COURSE_CHANGES` rows whose ``host_p_value`` is at most ``alpha``.
    rows, answer_rows : numpy.ndarray of int
        Per incident step right after an answer of such a row's host (to the row's caller): the span taking the step
        and the span that answered (rows of the incident frame).
    excess : numpy.ndarray of float
        Per such step: 1 when it went to a changed step, less the share of the steps after the callee's other
        hosts' answers that did (summed over a row's steps: its host's changed steps beyond the other hosts' rate).
    changed_rows : numpy.ndarray of int
        The span taking each incident step right after a call that went to a changed step (every callee and host).
    """

    table: pd.DataFrame
    rows: np.ndarray
    answer_rows: np.ndarray
    excess: np.ndarray
    changed_rows: np.ndarray


def host_answers(spans: pd.DataFrame, baseline: pd.DataFrame, alpha: float = 0.01, *,
                 host: np.ndarray | None = None) -> HostAnswers:
    """The steps of callers whose changed course followed one host of their callee (``host_p_value`` ≤ ``alpha``):
    the evidence :func:`tracekit.rank_causes` counts at that host (its ``answers``) rather than at the caller.

    Parameters
    ----------
    spans : pandas.DataFrame
        The incident's spans (not modified).
    baseline : pandas.DataFrame
        Spans of a normal period.
    alpha : float
        Largest ``host_p_value`` (:data:`COURSE_CHANGES`: one-sided Fisher, Bonferroni over the callee's hosts).
    host : numpy.ndarray, optional
        Each span's host (:func:`tracekit.core.hosts` of ``spans``), when the caller has it (read from the resources
        otherwise).

    Returns
    -------
    HostAnswers

    Raises
    ------
    SpansSchemaError
        A needed column is missing.

    Examples
    --------
    >>> import tracekit as tk
    >>> base = tk.simulate.simulate("baseline", 200, seed=1).spans
    >>> ha = host_answers(base, base)  # a set against itself: no caller changed course
    >>> len(ha.table), len(ha.rows), len(ha.changed_rows)
    (0, 0, 0)

    A fault-lab pod answering wrong (one of search-service's three): its caller changed course after its answers only

    >>> w = tk.simulate_faults.fault_window("return", seed=1)
    >>> ha = host_answers(w.incident, w.baseline)
    >>> ha.table["callee_host"].tolist() == [w.truth.pod], float(ha.excess.sum())
    (True, 14.0)
    """
    out, st = _course(spans, baseline, "host_answers", host)
    sig = out[(out["host_p_value"] <= alpha).to_numpy(dtype=bool, na_value=False)].reset_index(drop=True)
    changed_rows = st["row"].to_numpy(dtype=np.int64)[st["changed"].to_numpy(dtype=float) > 0]
    if not len(sig):
        empty = np.zeros(0, np.int64)
        return HostAnswers(sig, empty, empty, np.zeros(0), changed_rows)
    rate = (sig["other_hosts_changed"] / sig["other_hosts_steps"].where(sig["other_hosts_steps"] > 0)).fillna(0.0)
    on = st.merge(sig[["caller", "callee", "callee_host"]].assign(_rate=rate.to_numpy(float)), how="inner",
                  left_on=["caller", "callee", "host"], right_on=["caller", "callee", "callee_host"])
    return HostAnswers(sig, on["row"].to_numpy(dtype=np.int64), on["answer_row"].to_numpy(dtype=np.int64),
                       on["changed"].to_numpy(dtype=float) - on["_rate"].to_numpy(dtype=float), changed_rows)


def _after_call(st: dict, spans: pd.DataFrame, svc: np.ndarray) -> np.ndarray:
    """Which steps of :func:`~tracekit.analysis.early_stops.call_steps` ``st`` (of ``spans``, services ``svc``) are
    counted: those right after a call (not from START), less a client span's step after the call it carries (into
    another service's span, to its end). That step is the transport finishing, never a choice; the caller's choice
    after the call is its parent's next step, so counting both counted each call twice."""
    prev, rows = st["prev_rows"], st["rows"]
    sel = (prev >= 0) & st["counted"]  # another copy of a span exported twice is no span
    if "kind" in spans.columns and len(rows):
        client = (spans["kind"].to_numpy(dtype=object, na_value=None) == "client")[rows]
        sel &= ~(client & (svc[np.maximum(prev, 0)] != svc[rows]))
    return sel


def _steps(host: np.ndarray, answer: np.ndarray, a: dict, sel: np.ndarray, pair_of_step: np.ndarray,
           pair_changed: np.ndarray, pair_both: np.ndarray, pair_caller: np.ndarray, pair_callee: np.ndarray
           ) -> pd.DataFrame:
    """The incident's steps right after a call, from a state the baseline showed: ``row`` (the span taking the step), ``answer_row`` (the span that answered the call it came right after),
    ``caller``, ``callee``, ``host`` (the answer's, :func:`tracekit.core.hosts`; ``"\\x00<NA>"`` unknown) and ``changed`` (1.0 when the step
    went to a changed step: a next step the incident took beyond the count the baseline predicts). ``answer``: the
    row of the span that answered each span's call (:func:`course_changes`); ``a``: the incident's
    :func:`~tracekit.analysis.early_stops.call_steps`; ``sel``: its steps counted (:func:`_after_call`);
    ``pair_of_step``: each of those, the (state, next) pair it took; the ``pair_*`` arrays are per pair."""
    prev = a["prev_rows"][sel]
    host = pd.Series(host, dtype=object).fillna("\x00<NA>").to_numpy(dtype=object)
    st = pd.DataFrame({"row": a["rows"][sel], "answer_row": answer[prev], "caller": pair_caller[pair_of_step],
                       "callee": pair_callee[pair_of_step], "host": host[answer[prev]],
                       "changed": pair_changed[pair_of_step].astype(float)})
    return st[pair_both[pair_of_step]].reset_index(drop=True)


def _by_host(st: pd.DataFrame) -> pd.DataFrame:
    """Per (caller, callee): the callee host after whose answers the incident's steps (:func:`_steps`) went to a
    changed step most beyond the callee's other hosts (:data:`COURSE_CHANGES`' host columns). A bad pod that answers
    wrong makes its callers change course after its answers only; a change in the caller's own code does not follow
    one pod of its callee."""
    from ..core.distributions import hypergeom_sf

    cols = ["caller", "callee", "callee_host", "host_steps", "host_changed", "other_hosts_steps",
            "other_hosts_changed", "host_p_value"]
    host = st["host"].to_numpy(dtype=object)
    known = host != "\x00<NA>"
    if not known.any():
        return pd.DataFrame(columns=cols)
    code, (caller, callee, host) = joint_codes(st["caller"].to_numpy(dtype=object)[known],
                                                st["callee"].to_numpy(dtype=object)[known], host[known])
    n = np.bincount(code).astype(float)  # per (caller, callee, host): steps, and those to a changed step
    k = np.bincount(code, weights=st["changed"].to_numpy(dtype=float)[known], minlength=len(n))
    row, _ = joint_codes(caller, callee)  # per (caller, callee): hosts, steps, changed ones
    n_hosts = np.bincount(row)[row].astype(float)
    big_n, big_k = np.bincount(row, weights=n)[row], np.bincount(row, weights=k)[row]
    ok = np.flatnonzero((n_hosts >= 2) & (big_k > 0))
    if not len(ok):
        return pd.DataFrame(columns=cols)
    p = np.minimum(hypergeom_sf(k[ok] - 1, big_n[ok], big_k[ok], n[ok]) * n_hosts[ok], 1.0)
    # per (caller, callee) the host with the smallest p; ties: the larger share, then the host's name
    by_name = pd.factorize(host[ok], sort=True)[0]
    order = np.lexsort((by_name, -(k[ok] / n[ok]), p, row[ok]))
    sel = order[np.r_[True, row[ok][order][1:] != row[ok][order][:-1]]]
    b = ok[sel]
    return pd.DataFrame({"caller": caller[b], "callee": callee[b], "callee_host": host[b], "host_steps": n[b],
                         "host_changed": k[b], "other_hosts_steps": big_n[b] - n[b],
                         "other_hosts_changed": big_k[b] - k[b], "host_p_value": p[sel]})

