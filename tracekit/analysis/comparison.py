"""What changed between two sets of traces, with bootstrap confidence intervals.

``compare(a, b)`` treats ``a`` as the set under suspicion (incident window, after a deploy,
slow traces) and ``b`` as the reference (baseline, before, fast traces); every ``delta_*`` is
``a − b``. It returns a frozen :class:`Comparison`:

``table`` — one row per key (``by`` columns), sorted by impact (``|delta_cp_ms|`` largest first):

* ``presence``: ``both``, ``new`` (calls in ``a`` only) or ``vanished`` (in ``b`` only);
* ``cp_ms``: mean critical-path ms per trace (:func:`tracekit.critical_path`, 0 in traces where
  the key is not on the path; traces whose critical path failed are left out) — the time the key adds to an end-to-end request;
* ``p50_ms``, ``p95_ms``: latency percentiles of the key's calls (``duration_ms``);
* ``calls``: mean calls per request — the key's calls in every trace of the set (asynchronous work and a
  dropped context's callee half included) over the requests (:func:`tracekit.core.trace_outcomes`), so the same traffic
  split into more traces (a queue hop made a trace of its own) has the same calls; ``fanout``: mean direct
  children per span of the key;
* ``error_rate``: failed calls / calls of known outcome (:func:`tracekit.core.failed`:
  :data:`tracekit.core.FAILED_WORDS`; a call still in progress with no status yet is neither, :func:`tracekit.core.outcome_unknown`,
  and is left out as :func:`tracekit.core.failed_share` leaves out such a request; ``unknown_a``, ``unknown_b`` count
  those left out, as ``service_graph``'s ``unknown``);
  NaN (unknown, not 0) for a set where no span records a status (:func:`tracekit.core.status_recorded`), and its
  ``delta_error_rate`` with it.

For each of these ``<m>_a``, ``<m>_b``, ``delta_<m>``, ``delta_<m>_lo``, ``delta_<m>_hi``
(a ``ci`` interval, 95 % by default). The "calls" of a key are its spans (a span exported twice, its id repeated
in the trace, is one), except with
``by="service"`` where they are the service's *entry* spans (a root, or a span whose parent is in
another service), i.e. the requests the service handled.

``structure`` — call paths (``service:name > …`` from the root) present in one set only, counted on whole traces
(a request root, no orphan, duplicate span id or parent cycle: a fragment's paths are cut short and would read as
new; ``params["structure_traces"]`` gives how many traces of each set that is): ``call_path``, ``side``
(``"a only"``/``"b only"``), ``traces``, ``spans`` (a span exported twice is one).

``overall`` — request latency (``request_ms`` of :func:`tracekit.core.trace_outcomes`: the request root's
duration; traces with no root, an in-progress root, duplicate ids or a parent cycle left out): rows ``p50_ms``, ``p95_ms``, ``p99_ms``, ``mean_ms`` with
``a``, ``b``, ``delta``, ``delta_lo``, ``delta_hi``, and ``requests_a``, ``requests_b``: the requests each side's
numbers are over (fewer than ``n_traces`` when traces were left out).

Confidence intervals are percentile bootstraps, seeded (``seed``) and vectorised: per-trace
statistics (critical-path ms, calls, children, errors) resample *traces* with multinomial
weights (a weight matrix times a sparse traces × keys matrix, in chunks); latency percentiles use
the exact bootstrap distribution of an order statistic (``P(Q* <= x_(j)) = P(Binom(m, j/m) >=
ceil(q m))``), sampled ``n_boot`` times, so no resampled DataFrame is ever built. Percentiles are
``inverted_cdf`` (an observed value).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..core import (
    DEFAULT_N_BOOT,
    boot_args,
    call_paths,
    count_arg,
    failed,
    interval_ends,
    outcome_unknown,
    quantile_draws,
    quantile_draws_grouped,
    require_columns,
    result_table,
    service_entries,
    span_tree,
    status_recorded,
    trace_outcomes,
)
from ..core.deprecation import renamed
from ..core.keys import by_keys, key_frame
from ..core.naming import frame_services
from ..core.results import Result
from ..errors import ArgumentError
from .critical_path_walk import walk_options
from .critical_paths import critical_path

__all__ = ["compare", "compare_table", "Comparison", "COMPARE_TABLE"]

METRICS = ("cp_ms", "p50_ms", "p95_ms", "calls", "fanout", "error_rate")

#: (unit, meaning) of each compared metric (the module docstring)
_METRIC_WORDS = {
    "cp_ms": ("ms", "mean critical-path ms per trace the key adds (0 where it is not on the path; traces whose "
                    "critical path failed left out)"),
    "p50_ms": ("ms", "median duration of the key's calls"),
    "p95_ms": ("ms", "95th percentile duration of the key's calls"),
    "calls": ("calls", "mean calls per request: the key's calls in every trace (asynchronous work included) / the "
                       "requests (trace_outcomes: not asynchronous work; by service: the service's entry spans)"),
    "fanout": ("spans", "mean direct children per span of the key"),
    "error_rate": ("", "failed calls / calls of known outcome (a call still in progress with no status yet left "
                       "out: core.outcome_unknown); NaN where no span of the set records a status, or no call of the "
                       "key has a known outcome"),
}

COMPARE_TABLE = result_table("compare", "Comparison.table: one row per key (key columns first), largest impact first", [
    ("presence", "string", "", "both, new (calls in a only) or vanished (in b only)"),
    *[col for m, (unit, meaning) in _METRIC_WORDS.items() for col in (
        (f"{m}_a", "float64", unit, f"{meaning}, in a (the set under suspicion)"),
        (f"{m}_b", "float64", unit, f"{meaning}, in b (the reference)"),
        (f"delta_{m}", "float64", unit, f"{m}_a − {m}_b"),
        (f"delta_{m}_lo", "float64", unit, f"lower bound of delta_{m} (percentile bootstrap, level ci)"),
        (f"delta_{m}_hi", "float64", unit, f"upper bound of delta_{m}"))],
    ("unknown_a", "int64", "calls", "calls of the key in a still in progress with no status yet (core.outcome_unknown), "
                                    "left out of error_rate_a: service_graph's unknown"),
    ("unknown_b", "int64", "calls", "the same in b, left out of error_rate_b"),
    ("impact", "float64", "ms", "|delta_cp_ms|: the order of the rows"),
])


@dataclass(frozen=True)
class Comparison(Result):
    """Result of :func:`compare`: ``table`` (per key), ``structure`` (call paths in one set only),
    ``overall`` (end-to-end latency), ``n_traces`` (a, b) and the ``params`` used."""

    TABLE = "table"  #: the field .table returns

    table: pd.DataFrame
    structure: pd.DataFrame
    overall: pd.DataFrame
    n_traces: tuple[int, int]
    params: dict = field(default_factory=dict)


def _keys_frame(spans: pd.DataFrame, keys: list[str], paths: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({k: (paths if k == "call_path" else spans[k].astype(object).to_numpy()) for k in keys})


def _by_rank(per_code: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """A per-trace-code array reordered by trace rank: its value of code ``c`` at ``rank[c]``."""
    out = np.empty_like(per_code)
    out[rank] = per_code
    return out


def _side(spans: pd.DataFrame, keys: list[str], cp_kwargs: dict, whole: bool = True):
    """Per-side inputs of the comparison.

    Returns ``(n_traces, cpk, calls, paths, e2e, has_cp, is_req)``: ``cpk`` one row per critical-path section
    (key columns, ``tcode``, ``ms``); ``calls`` one row per span (key columns, ``tcode``, ``dur``,
    ``err``, ``entry``, ``children``); ``paths`` per call path (``traces``, ``spans``); ``e2e`` the
    end-to-end ms of each trace with a critical path (sum of its root spans' sections). ``whole=False``: the
    per-key inputs alone (``paths`` and ``e2e`` None: no call paths are built unless a key is ``call_path``).
    """
    tree = span_tree(spans)
    n = len(spans)
    n_tr = len(tree.trace_ids)
    need_paths = whole or "call_path" in keys
    paths = call_paths(spans, tree, np.arange(n)) if n and need_paths else np.zeros(0 if need_paths else n, dtype=object)
    kf = _keys_frame(spans, keys, paths)
    cp = critical_path(spans, **cp_kwargs)
    # only the request root's sections: an orphan fragment is not a second request (kernel tree)
    cp = cp[cp["request"].to_numpy(dtype=bool, na_value=False)] if len(cp) else cp
    code_of = pd.Index(tree.trace_ids)
    ctc = code_of.get_indexer(cp["trace_id"].astype(object)).astype(np.int64) if len(cp) else np.zeros(0, dtype=np.int64)
    ms = cp["duration_ms"].to_numpy(dtype=np.float64)
    # a trace whose critical path failed (cycle, duplicate ids, nothing ended) has no path: it is
    # left out of cp_ms rather than counted as 0 ms
    has_cp = np.bincount(ctc, minlength=n_tr) > 0 if len(cp) else np.zeros(n_tr, dtype=bool)
    # end-to-end latency is request latency (the request root's duration), as everywhere
    outcomes = trace_outcomes(spans)  # one row per trace code, in order
    is_req = outcomes["request"].to_numpy(dtype=bool, na_value=False)
    e2e = None
    if whole:
        e2e = outcomes["request_ms"].to_numpy(dtype=np.float64)
        e2e = e2e[~np.isnan(e2e) & ~np.bincount(tree.trace[tree.bad_trace], minlength=n_tr).astype(bool)]
    cpk = pd.DataFrame({k: cp[k].astype(object).to_numpy() for k in keys if k in cp.columns})
    missing = [k for k in keys if k not in cp.columns]
    if missing:
        extra = pd.DataFrame({"trace_id": spans["trace_id"].astype(object).to_numpy(), "span_id": spans["span_id"].astype(object).to_numpy()})
        for k in missing:
            extra[k] = kf[k].to_numpy()
        # a span read twice: the copy core.tree counts (complete, then longest), as the path and the calls do, not
        # the first row (whose key the path's time went to, by row order)
        extra = extra[~tree.duplicate]
        j = pd.DataFrame({"trace_id": cp["trace_id"].astype(object).to_numpy(), "span_id": cp["span_id"].astype(object).to_numpy()}).merge(extra, how="left", on=["trace_id", "span_id"])
        for k in missing:
            cpk[k] = j[k].to_numpy()
    # traces numbered in the order of their ids (core.tree's trace_rank), not of their first rows: the bootstrap draws
    # a weight per trace number, so numbered by rows, the same spans read in another order (files listed otherwise,
    # frames concatenated the other way) drew other intervals from the same seed (checkout-small reversed: payments'
    # error-rate delta interval [-18.3 %, 18.2 %] -> [-18.4 %, 16.7 %])
    rank = np.asarray(tree.trace_rank, dtype=np.int64)
    has_cp, is_req = _by_rank(has_cp, rank), _by_rank(is_req, rank)
    cpk = cpk[keys].assign(tcode=rank[ctc], ms=ms)
    # the calls of a key: its spans; for by="service", the service's entry spans
    if keys == ["service"]:
        entry = service_entries(spans, tree)
    else:
        entry = np.ones(n, dtype=bool)
    err = failed(spans)
    # a call still in progress with no outcome yet is neither failed nor ok: left out of the error rate's calls
    known = ~outcome_unknown(spans)
    # a span exported twice is one span (kernel tree): its other copies are no call and no child
    keep = ~tree.duplicate
    kids = tree.parent[(tree.parent >= 0) & keep]
    children = np.bincount(kids, minlength=n) if n else np.zeros(0, dtype=np.int64)
    dur = spans["duration_ms"].to_numpy(dtype=np.float64, na_value=np.nan)
    calls = kf.assign(tcode=rank[tree.trace], dur=dur, err=err, known=known, entry=entry,
                      children=children)[keep].reset_index(drop=True)
    if not whole:
        return n_tr, cpk, calls, None, None, has_cp, is_req
    # call paths of whole traces only: a trace that lost its root, or holds an orphan, a duplicate id or a cycle,
    # has paths cut short ("frontend:GET /products" from a fragment) that would read as new call paths
    broken = np.zeros(n_tr, dtype=bool)
    if n:
        broken[tree.trace[tree.orphan | tree.bad_trace]] = True
        broken |= np.asarray(tree.request_root) < 0
    # ... and a span exported twice is one span on its path (its other copies counted 4 spans for 3)
    keep = ~broken[tree.trace] & ~tree.duplicate if n else np.zeros(0, dtype=bool)
    # per call path (in order of first appearance, texts as objects): traces holding it, spans on it (factorized: a
    # groupby's nunique over these long strings cost 12 ms a side; sorted texts, or an Index of them, cost seconds at
    # 186k paths: the structure sorts the paths of one set only, once)
    pc, pu = pd.factorize(paths[keep]) if keep.any() else (np.zeros(0, np.int64), np.zeros(0, object))
    on = pc >= 0
    pairs = np.unique(pc[on].astype(np.int64) * max(n_tr, 1) + tree.trace[keep][on])
    pstat = _PathStats(np.asarray(pu, dtype=object), np.bincount(pairs // max(n_tr, 1), minlength=len(pu)).astype(np.int64),
                       np.bincount(pc[on], minlength=len(pu)).astype(np.int64), int((~broken).sum()))
    return n_tr, cpk, calls, pstat, e2e, has_cp, is_req


@dataclass(frozen=True)
class _PathStats:
    """One side's call paths of whole traces (``paths``, distinct texts) with the ``traces`` holding each and the
    ``spans`` on it; ``whole`` the whole traces counted."""

    paths: np.ndarray
    traces: np.ndarray
    spans: np.ndarray
    whole: int


def _structure(pa: _PathStats, pb: _PathStats) -> pd.DataFrame:
    """:attr:`Comparison.structure`: the call paths of one set only, ``a only`` first, then most traces first, then
    by text; by hash lookups and one sort of those paths' texts (an Index difference and ``.loc`` of texts, and a sort
    of all of them a side, cost seconds at 186k paths)."""
    cols: dict[str, list] = {"call_path": [], "side": [], "traces": [], "spans": []}
    for side, p, q in (("a only", pa, pb), ("b only", pb, pa)):
        other = pd.Index(q.paths, dtype=object)
        only = (other.get_indexer(pd.Index(p.paths, dtype=object)) < 0) if len(q.paths) else np.ones(len(p.paths), bool)
        cols["call_path"].append(p.paths[only])
        cols["side"].append(np.full(int(only.sum()), side, dtype=object))
        cols["traces"].append(p.traces[only])
        cols["spans"].append(p.spans[only])
    text = np.concatenate(cols["call_path"])
    traces = np.concatenate(cols["traces"]).astype(np.int64)
    n_a = len(cols["side"][0])
    rank = np.empty(len(text), dtype=np.int64)
    rank[np.argsort(text, kind="stable")] = np.arange(len(text))  # (distinct texts a side: no ties within one)
    order = np.lexsort((rank, -traces, np.arange(len(text)) >= n_a))
    return pd.DataFrame({"call_path": pd.array(text[order], dtype="str"),
                         "side": pd.array(np.concatenate(cols["side"])[order], dtype="str"),
                         "traces": traces[order], "spans": np.concatenate(cols["spans"]).astype(np.int64)[order]})


def _weights(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    """Bootstrap multiplicities: ``size`` resamples of ``n`` items, as a (size, n) count matrix."""
    idx = rng.integers(0, n, size=(size, n)) + (np.arange(size) * n)[:, None]
    return np.bincount(idx.ravel(), minlength=size * n).reshape(size, n).astype(np.float64)


#: bootstrap weights kept by a side drawn in chunks of keys (as uint8 counts, traces × resamples), so that each chunk
#: reuses them instead of drawing them again from the same state; above this, they are drawn again a chunk
_KEEP_WEIGHT_BYTES = 256 * 2**20


def _boot_sums(rng, n_traces: int, mats: list, n_boot: int, chunk: int = 64, keep: list | None = None,
               kept: list | None = None) -> list[np.ndarray]:
    """Bootstrap column sums of sparse (traces x keys) matrices: list of (n_boot, keys) arrays. ``keep``: a list that
    gets each block of weights drawn (traces × resamples, uint8 counts); ``kept``: such blocks, used instead of
    drawing (``rng`` is then not used)."""
    outs = [np.zeros((n_boot, m.shape[1])) for m in mats]
    if n_traces == 0:
        return [o * np.nan for o in outs]
    done = 0
    for i in itertools.count():
        if done >= n_boot:
            break
        b = min(chunk, n_boot - done)
        # one C-ordered copy of the transposed weights for every matrix: scipy's sparse x dense product copies a
        # strided operand itself, once a matrix (W.T: 12 of 33 s of a bootstrap over 160k keys)
        if kept is not None:
            Wt = kept[i].astype(np.float64)
        else:
            Wt = np.ascontiguousarray(_weights(rng, n_traces, b).T)
            if keep is not None:
                keep.append(Wt.astype(np.uint8) if Wt.max(initial=0) <= 255 else Wt)
        for o, m in zip(outs, mats, strict=True):
            o[done:done + b] = np.asarray(m.T @ Wt).T
        done += b
    return outs


def _sparse(tcode: np.ndarray, kcode: np.ndarray, w: np.ndarray, n_tr: int, n_k: int):
    from scipy import sparse

    return sparse.csr_matrix((w.astype(np.float64), (tcode.astype(np.int64), kcode.astype(np.int64))), shape=(max(n_tr, 0), n_k))


#: bootstrap draws held at once by :func:`compare` (both sides, every metric); more keys are done in chunks
_DRAW_BYTES = 256 * 2**20


class _Side:
    """One side's bootstrap, drawn for any range of keys with the random numbers a single pass over
    every key would use: the trace weights are redrawn from the generator's state before them, the
    quantile uniforms of a key are found by advancing the state after them (PCG64: one 64-bit step
    per uniform), and ``rng`` is left where a single pass leaves it. ``mats``: the (traces × keys) matrices
    by name (``cp``, ``calls``, ``err``, ``sp``, ``ch``, ``known``) of the metrics drawn (``drawn``, in
    :data:`METRICS`); a metric not drawn costs nothing and moves no random number the others use."""

    def __init__(self, rng: np.random.Generator, n_tr: int, mats: dict, m_has, n_boot: int, kk: np.ndarray,
                 vv: np.ndarray, n_k: int, whole: bool, drawn: Sequence[str] = METRICS):
        self.n_tr, self.n_boot, self.kk, self.vv = n_tr, n_boot, kk, vv
        self.drawn = tuple(drawn)
        self.names = [k for k, ms in _MATS.items() if any(m in self.drawn for m in ms)]
        self.bounds = np.searchsorted(kk, np.arange(n_k + 1))
        self.nonempty = self.bounds[1:] > self.bounds[:-1]
        self.rank = np.cumsum(self.nonempty) - self.nonempty  # a key's place among the keys with calls
        self.n_ne = int(self.nonempty.sum())
        self.w_state = rng.bit_generator.state
        mats = [mats[k] for k in self.names]
        if whole:  # one chunk: the weights are drawn once, for every matrix
            self.boots: list | None = _boot_sums(rng, n_tr, [*mats, m_has], n_boot)
            self.mats = mats
        else:
            self.boots = None
            # the weights kept for the chunks when they fit (drawn again a chunk from the same state otherwise: 2,880
            # draws of 64 resamples, 8.8 s of a bootstrap over 160k keys in 170 chunks)
            self.kept: list | None = [] if n_tr * n_boot <= _KEEP_WEIGHT_BYTES else None
            self.has = _boot_sums(rng, n_tr, [m_has], n_boot, keep=self.kept)[0]
            self.mats = [m.tocsc() for m in mats]
        self.q_state = rng.bit_generator.state
        rng.bit_generator.advance(2 * self.n_ne * n_boot)  # past the p50 and p95 uniforms of every key
        self._rng = rng

    def _gen(self, state: dict) -> np.random.Generator:
        g = np.random.Generator(type(self._rng.bit_generator)())
        g.bit_generator.state = state
        return g

    def draws(self, k0: int, k1: int, res: dict, tag: str) -> dict[str, np.ndarray]:
        """Bootstrap draws (n_boot, k1 - k0) of every metric drawn for keys k0..k1; fills the p50/p95 points in
        ``res`` (of the quantiles drawn)."""
        if self.boots is not None:
            boots = [b[:, k0:k1] for b in self.boots[:-1]] + [self.boots[-1]]
        else:
            boots = _boot_sums(self._gen(self.w_state), self.n_tr, [m[:, k0:k1] for m in self.mats], self.n_boot,
                               kept=self.kept)
            boots.append(self.has)
        bo = dict(zip(self.names, boots, strict=False))
        has = boots[-1]
        out: dict[str, np.ndarray] = {}
        with np.errstate(invalid="ignore", divide="ignore"):
            if "cp_ms" in self.drawn:
                out["cp_ms"] = bo["cp"] / has[:, :1]  # over the traces with a critical path
            if "calls" in self.drawn:
                out["calls"] = bo["calls"] / has[:, 1:]  # per request (trace_outcomes' requests)
            if "error_rate" in self.drawn:
                out["error_rate"] = bo["err"] / bo["known"]  # over the calls of known outcome (core.outcome_unknown)
            if "fanout" in self.drawn:
                out["fanout"] = bo["ch"] / bo["sp"]
        ks = np.flatnonzero(self.nonempty[k0:k1]) + k0
        for qi, (q, m) in enumerate(((0.5, "p50_ms"), (0.95, "p95_ms"))):
            if m not in self.drawn:
                continue
            dr = np.full((self.n_boot, k1 - k0), np.nan)
            if len(ks):
                g = self._gen(self.q_state)
                g.bit_generator.advance(int(qi * self.n_ne + self.rank[ks[0]]) * self.n_boot)
                u = g.random(len(ks) * self.n_boot).reshape(len(ks), self.n_boot)
                # every key of the chunk in one kernel call (quantile_draws_grouped), not one call a key (186k keys
                # of ids in span names: 372k calls, 8 s)
                lo, hi = self.bounds[ks[0]], self.bounds[ks[-1] + 1]
                point, d = quantile_draws_grouped(self.vv[lo:hi], self.bounds[np.r_[ks, ks[-1] + 1]] - lo, q, u)
                res[f"{m}_{tag}"][ks] = point
                dr[:, ks - k0] = d.T
            out[m] = dr
        return out


#: the (traces × keys) matrices a side's bootstrap sums, and the metrics drawn from each (in this order)
_MATS = {"cp": ("cp_ms",), "calls": ("calls",), "err": ("error_rate",), "sp": ("fanout",), "ch": ("fanout",),
         "known": ("error_rate",)}


def _inputs(spans: pd.DataFrame, baseline: pd.DataFrame, by: Any, n_boot: int, ci: float, seed: int):
    """The checked inputs of :func:`compare`: ``(a, b, keys, n_boot, ci, rng)`` (``a``, ``b`` with their key columns)."""
    # each side named by its argument (spans, baseline), as rank_causes names its own: "compare (a)" named the
    # arguments' names before the vocabulary, which no caller passes any more
    for name, df in (("spans", spans), ("baseline", baseline)):
        require_columns(df, ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end", "duration_ms"), f"compare ({name})")
    keys = by_keys(by, what="compare")  # call_path is taken from the critical path below; others from the spans
    a, _ = key_frame(spans, [k for k in keys if k != "call_path"] or ["service"], what="compare (spans)")
    b, _ = key_frame(baseline, [k for k in keys if k != "call_path"] or ["service"], what="compare (baseline)")
    n_boot, ci = boot_args(n_boot, ci, "compare", min_boot=1)
    rng = np.random.default_rng(count_arg(seed, "seed", "compare"))
    return a, b, keys, n_boot, ci, rng


def _per_key(a: pd.DataFrame, b: pd.DataFrame, keys: list[str], n_boot: int, ci: float, rng: np.random.Generator,
             cp_kwargs: dict, measures: Sequence[str] = METRICS, intervals: Sequence[str] = METRICS,
             whole: bool = True):
    """:func:`compare`'s ``table`` (the columns of ``measures``, intervals of ``intervals`` only), ``(na, nb)``,
    the call paths and end-to-end ms of each side (None unless ``whole``). ``rng`` is left where :func:`compare`'s
    single pass over every metric leaves it, whatever is drawn."""
    na, cpa, calla, pa, e2e_a, hcp_a, req_a = _side(a, keys, cp_kwargs, whole)
    nb, cpb, callb, pb, e2e_b, hcp_b, req_b = _side(b, keys, cp_kwargs, whole)
    # the metrics bootstrapped: those with intervals, and a latency percentile whose point is its draws' (quantile_draws)
    drawn = [m for m in METRICS if m in intervals or (m in measures and m in ("p50_ms", "p95_ms"))]

    # one key code space over both sides
    parts = (cpa, calla, cpb, callb)
    allk = pd.concat([f[keys] for f in parts], ignore_index=True)
    every = pd.MultiIndex.from_frame(allk.astype(object).fillna("<NA>"))
    uniq = every.unique()
    # sorted with missing keys last: "<NA>" next to the values of a numeric key is not comparable
    kidx = pd.MultiIndex.from_tuples(
        sorted(uniq, key=lambda t: tuple((True, "") if isinstance(x, str) and x == "<NA>" else (False, x) for x in t)),
        names=uniq.names) if len(uniq) else uniq
    n_k = len(kidx)
    # each row's key code, looked up once for the four frames together (a MultiIndex built per frame cost as much)
    every = kidx.get_indexer(every) if len(every) else np.zeros(0, dtype=np.int64)
    at = np.cumsum([0, *(len(f) for f in parts)])
    part_codes = [every[at[i]:at[i + 1]] for i in range(len(parts))]

    res: dict[str, np.ndarray] = {f"{m}_{t}": np.full(n_k, np.nan) for m in ("p50_ms", "p95_ms") for t in "ab"}
    # keys are bootstrapped a chunk at a time, so the draws held at once stay under _DRAW_BYTES
    # (both sides, every metric); the random stream is the one a single pass draws (see _Side)
    per_key = 2 * (len(METRICS) + 4) * n_boot * 8
    chunk = max(1, min(_DRAW_BYTES // per_key, n_k or 1))
    sides: dict[str, _Side] = {}
    unknown: dict[str, np.ndarray] = {}
    for tag, n_tr, cpk, calls, has_cp, is_req, kc, cc in (("a", na, cpa, calla, hcp_a, req_a, *part_codes[:2]),
                                                         ("b", nb, cpb, callb, hcp_b, req_b, *part_codes[2:])):
        ent = calls["entry"].to_numpy(dtype=bool)
        M_cp = _sparse(cpk["tcode"].to_numpy(), kc, cpk["ms"].to_numpy(), n_tr, n_k)
        M_calls = _sparse(calls["tcode"].to_numpy()[ent], cc[ent], np.ones(ent.sum()), n_tr, n_k)
        M_err = _sparse(calls["tcode"].to_numpy()[ent], cc[ent], calls["err"].to_numpy(dtype=np.float64)[ent], n_tr, n_k)
        M_sp = _sparse(calls["tcode"].to_numpy(), cc, np.ones(len(cc)), n_tr, n_k)
        M_ch = _sparse(calls["tcode"].to_numpy(), cc, calls["children"].to_numpy(dtype=np.float64), n_tr, n_k)
        # cp_ms is a mean over the traces that have a critical path (one that failed has no path)
        # and calls per request over trace_outcomes' requests (not asynchronous work): column 0 and 1 of M_has
        hrows, qrows = np.flatnonzero(has_cp), np.flatnonzero(is_req)
        M_has = _sparse(np.r_[hrows, qrows], np.r_[np.zeros(len(hrows), np.int64), np.ones(len(qrows), np.int64)],
                        np.ones(len(hrows) + len(qrows)), n_tr, 2)
        n_cp, n_req = len(hrows), len(qrows)
        M_known = _sparse(calls["tcode"].to_numpy()[ent], cc[ent], calls["known"].to_numpy(dtype=np.float64)[ent],
                          n_tr, n_k)
        mats = [M_cp, M_calls, M_err, M_sp, M_ch, M_known]
        sums = [np.asarray(m.sum(axis=0)).ravel() for m in mats]
        mats = dict(zip(_MATS, mats, strict=True))
        with np.errstate(invalid="ignore", divide="ignore"):
            res[f"cp_ms_{tag}"] = sums[0] / n_cp if n_cp else np.full(n_k, np.nan)
            # per request, not per trace: the traces of asynchronous work are not more requests (120 async-work
            # traces of 400 requests made every service's calls read 23 % lower)
            res[f"calls_{tag}"] = sums[1] / n_req if n_req else np.full(n_k, np.nan)
            res[f"any_calls_{tag}"] = sums[1] > 0
            res[f"error_rate_{tag}"] = sums[2] / sums[5]  # failed calls / calls of known outcome
            res[f"fanout_{tag}"] = sums[4] / sums[3]
        unknown[tag] = np.rint(sums[1] - sums[5]).astype(np.int64)  # the calls of unknown outcome error_rate left out
        # latency percentiles per key: the calls' durations sorted by key
        dur = calls["dur"].to_numpy(dtype=np.float64)
        okd = ent & ~np.isnan(dur)
        order = np.lexsort((dur[okd], cc[okd]))
        sides[tag] = _Side(rng, n_tr, mats, M_has, n_boot, cc[okd][order], dur[okd][order], n_k, whole=chunk >= n_k,
                           drawn=drawn)

    lo_hi = {m: (np.full(n_k, np.nan), np.full(n_k, np.nan)) for m in METRICS}
    for k0 in range(0, n_k, chunk):
        k1 = min(n_k, k0 + chunk)
        draws = {tag: sides[tag].draws(k0, k1, res, tag) for tag in ("a", "b")}
        for m in intervals:
            with np.errstate(invalid="ignore"):  # (inf - inf where a resample drew none of either side's denominator: NaN, dropped)
                d = draws["a"][m] - draws["b"][m]
                good = ~np.isnan(d).all(axis=0)
                if good.any():
                    lo, hi = interval_ends(d[:, good], ci, axis=0)
                    lo_hi[m][0][k0:k1][good], lo_hi[m][1][k0:k1][good] = lo, hi
        del draws

    # the columns built once, then one frame
    table = pd.DataFrame(list(kidx), columns=keys) if n_k else pd.DataFrame({k: pd.Series([], dtype=object) for k in keys})
    cols: dict[str, Any] = {k: table[k].replace("<NA>", None) for k in keys}
    calls_a, calls_b = res.pop("any_calls_a"), res.pop("any_calls_b")
    cols["presence"] = np.where(calls_a & calls_b, "both", np.where(calls_a, "new", np.where(calls_b, "vanished", "both")))
    for m in (m for m in METRICS if m in measures):
        va, vb = res[f"{m}_a"], res[f"{m}_b"]
        cols.update({f"{m}_a": va, f"{m}_b": vb, f"delta_{m}": va - vb})
        if m in intervals:
            cols.update({f"delta_{m}_lo": lo_hi[m][0], f"delta_{m}_hi": lo_hi[m][1]})
    if "error_rate" in measures:  # how many calls of unknown outcome each side's error_rate left out
        cols["unknown_a"], cols["unknown_b"] = unknown["a"], unknown["b"]
    for tag, side in (("a", a), ("b", b)) if "error_rate" in measures else ():
        if len(side) and not status_recorded(side):  # nothing could be recorded as failed: unknown, not 0
            for c in (f"error_rate_{tag}", "delta_error_rate", "delta_error_rate_lo", "delta_error_rate_hi"):
                if c in cols:
                    cols[c] = np.full(n_k, np.nan)
    cols["impact"] = np.abs(res["cp_ms_a"] - res["cp_ms_b"])
    table = pd.DataFrame(cols, index=table.index)
    table = table.sort_values(["impact", *keys], ascending=[False] + [True] * len(keys), kind="stable", na_position="last").reset_index(drop=True)
    return table, (na, nb), (pa, pb), (e2e_a, e2e_b)


@renamed(a="spans", b="baseline")
def compare(
    spans: pd.DataFrame,
    baseline: pd.DataFrame,
    by: str | Sequence[str] = "service",
    *,
    n_boot: int = DEFAULT_N_BOOT,
    ci: float = 0.95,
    seed: int = 0,
    **critical_path_kwargs,
) -> Comparison:
    """Compare two sets of traces per ``by`` key (``a`` − ``b``), with bootstrap CIs.

    ``by``: ``"service"``, ``"name"``, ``"operation"`` (= service and name), ``"call_path"``, any
    spans column, or a list of them. Extra keyword arguments go to :func:`critical_path`.
    See the module docstring for every column of the result.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame (one row per span, tracekit.schema).
    baseline : pandas.DataFrame
        A spans frame to compare with.
    by : str | Sequence[str], default 'service'
        Grouping keys: a named key of :data:`tracekit.core.BY_KEYS` (service, operation, route, host, version, call_path) or a column, or a list of them.
    n_boot : int, default 1000
        Bootstrap resamples for the intervals (default :data:`tracekit.core.DEFAULT_N_BOOT`).
    ci : float, default 0.95
        Confidence level of the intervals, in (0, 1).
    seed : int, default 0
        Seed of the bootstrap's random generator (results are reproducible).
    **critical_path_kwargs
        Settings passed to :func:`tracekit.critical_path`.

    Returns
    -------
    Comparison
        Compare two sets of traces per ``by`` key (``a`` − ``b``), with bootstrap CIs.

    Examples
    --------
    >>> import tracekit as tk
    >>> ms = 1_000_000
    >>> def one(tid, db_ms):
    ...     return tk.spans_from_columns({
    ...         "trace_id": [tid] * 2, "span_id": [tid[:15] + "a", tid[:15] + "b"],
    ...         "parent_id": [None, tid[:15] + "a"], "service": ["api", "db"], "name": ["GET /", "q"],
    ...         "start": [0, 10 * ms], "end": [(20 + db_ms) * ms, (10 + db_ms) * ms]})
    >>> import pandas as pd
    >>> slow = pd.concat([one(f"{i:032x}", 90) for i in range(1, 4)], ignore_index=True)
    >>> fast = pd.concat([one(f"{i:032x}", 10) for i in range(4, 7)], ignore_index=True)
    >>> c = tk.compare(slow, fast)
    >>> c.table[["service", "cp_ms_a", "cp_ms_b", "delta_cp_ms"]].values.tolist()
    [['db', 90.0, 10.0, 80.0], ['api', 20.0, 20.0, 0.0]]
    """
    walk_options(critical_path_kwargs, "compare", ("by", "n_boot", "ci", "seed"), ("across_links",))
    a, b, keys, n_boot, ci, rng = _inputs(spans, baseline, by, n_boot, ci, seed)
    table, (na, nb), (pa, pb), (e2e_a, e2e_b) = _per_key(a, b, keys, n_boot, ci, rng, critical_path_kwargs)

    # structure: call paths in one set only
    structure = _structure(pa, pb)

    # overall end-to-end latency
    rows = []
    ea, eb = np.sort(e2e_a), np.sort(e2e_b)
    for q, m in ((0.5, "p50_ms"), (0.95, "p95_ms"), (0.99, "p99_ms")):
        pa_, da = quantile_draws(ea, q, rng.random(n_boot))
        pb_, db = quantile_draws(eb, q, rng.random(n_boot))
        d = da - db
        rows.append((m, pa_, pb_, pa_ - pb_, *(interval_ends(d, ci) if len(ea) and len(eb) else (np.nan, np.nan))))
    ma = ea.mean() if len(ea) else np.nan
    mb = eb.mean() if len(eb) else np.nan
    if len(ea) and len(eb):
        ba = (_weights(rng, len(ea), n_boot) @ ea) / len(ea)
        bb = (_weights(rng, len(eb), n_boot) @ eb) / len(eb)
        mlo, mhi = interval_ends(ba - bb, ci)
    else:
        mlo = mhi = np.nan
    rows.append(("mean_ms", ma, mb, ma - mb, mlo, mhi))
    overall = pd.DataFrame(rows, columns=["stat", "a", "b", "delta", "delta_lo", "delta_hi"])
    # the population of every row: the requests whose latency is counted (not n_traces: rootless traces, in-progress
    # roots, duplicate ids and cycles are left out)
    overall["requests_a"], overall["requests_b"] = len(ea), len(eb)
    params = {"by": keys, "n_boot": n_boot, "ci": ci, "seed": seed, **critical_path_kwargs,
              "structure_traces": (pa.whole, pb.whole)}
    # the incident's services, then the baseline's others: the figure colours the incident's as every figure of it does
    table.attrs["services"] = frame_services(spans)
    return Comparison(table, structure, overall, (na, nb), params)


def compare_table(spans: pd.DataFrame, baseline: pd.DataFrame, by: str | Sequence[str] = "service", *,
                  measures: Sequence[str] = METRICS, intervals: Sequence[str] = METRICS,
                  n_boot: int = DEFAULT_N_BOOT, ci: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """:func:`compare`'s ``table`` with the columns of some of its metrics only, for a caller that reads a few.

    The columns of each metric of ``measures`` (``<m>_a``, ``<m>_b``, ``delta_<m>``), the bootstrap interval
    (``delta_<m>_lo``, ``delta_<m>_hi``) of those in ``intervals`` too (with ``error_rate``, ``unknown_a`` and
    ``unknown_b``: the calls it left out), and ``presence`` and ``impact``: the same
    numbers, rows and order as ``compare(spans, baseline, by, n_boot=n_boot, ci=ci, seed=seed).table`` (the
    same random draws), without drawing what is not asked (each metric's resamples, the latency percentiles'
    per key) or building the call-path structure and the end-to-end latency.

    Parameters
    ----------
    spans, baseline : pandas.DataFrame
        Spans frames, as :func:`compare` (not modified).
    by : str | Sequence[str], default 'service'
        Grouping keys, as :func:`compare`.
    measures : Sequence[str]
        Metrics of :data:`METRICS` whose columns are returned (in :data:`METRICS`' order).
    intervals : Sequence[str]
        Metrics of ``measures`` whose bootstrap intervals are returned.
    n_boot, ci, seed : int, float, int
        As :func:`compare`.

    Returns
    -------
    pandas.DataFrame
        The key columns, ``presence``, the columns asked, ``impact``; one row per key, largest impact first.

    Raises
    ------
    ArgumentError
        A name of ``measures`` or ``intervals`` is not a metric of :data:`METRICS`, or an interval is not measured.

    Examples
    --------
    >>> import tracekit as tk
    >>> inc = tk.simulate.simulate("db-lock", 20, seed=1).spans
    >>> base = tk.simulate.simulate("baseline", 20, seed=2).spans
    >>> t = compare_table(inc, base, measures=("cp_ms", "calls"), intervals=("cp_ms",), n_boot=50)
    >>> full = tk.compare(inc, base, n_boot=50).table
    >>> t.equals(full[t.columns])
    True
    """
    for what, names in (("measures", measures), ("intervals", intervals)):
        bad = [m for m in names if m not in METRICS]
        if bad:
            raise ArgumentError(f"compare_table: {what} must be metrics of {', '.join(METRICS)}; got {bad[0]!r}")
    unmeasured = [m for m in intervals if m not in measures]
    if unmeasured:
        raise ArgumentError(f"compare_table: interval {unmeasured[0]!r} is not one of measures {list(measures)}")
    a, b, keys, n_boot, ci, rng = _inputs(spans, baseline, by, n_boot, ci, seed)
    return _per_key(a, b, keys, n_boot, ci, rng, {}, measures=tuple(measures), intervals=tuple(intervals),
                    whole=False)[0]
