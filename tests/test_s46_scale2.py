"""Session 46, scale2: analyses whose cost was per operation name in Python (span names carrying ids, ~30k distinct
names at 300k spans). Each vectorised kernel is checked against the per-group computation it replaced on small frames
(same seed, same numbers); a test that fails on the code before its fix says so, the others are controls."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.analysis import flame
from tracekit.core import interval_ends

# ------------------------------------------------------- critical_path_tree_diff: intervals without nodes x n_boot


def _with_ids(spans: pd.DataFrame, every: int, seed: int) -> pd.DataFrame:
    """Span names carrying an id ('GET /item/17'), as real systems' do: many distinct call paths."""
    rng = np.random.default_rng(seed)
    out = spans.copy()
    ids = rng.integers(0, max(1, len(out) // every), len(out))
    out["name"] = pd.array([f"{n} /item/{i}" for n, i in zip(out["name"].astype(str), ids, strict=True)], dtype=out["name"].dtype)
    return out


@pytest.fixture(scope="module")
def id_pair():
    s = _with_ids(tk.simulate.simulate("db-lock", 40, seed=3).spans, 4, 1)
    b = _with_ids(tk.simulate.simulate("baseline", 30, seed=4).spans, 4, 2)
    return s, b


def _reference_intervals(a, b, spans_a, spans_b, window, n_boot, ci, seed):
    """The per-node computation the diff made before session 46 (one nodes x n_boot array a side, each node's draws
    added to its parent's in a Python loop, deepest first), kept here as the reference."""
    from scipy import sparse

    m = tk.critical_path_tree_diff(a, b, spans_a=spans_a, spans_b=spans_b, percentile_window=window, n_boot=0)
    sa, na = flame._request_sections(a, window, spans_a, "t")
    sb, nb = flame._request_sections(b, window, spans_b, "t")
    nodes = m["node"].to_numpy(dtype=object)
    pos = {n: i for i, n in enumerate(nodes)}
    parents = m["parent"].astype(object).where(m["parent"].notna(), None).to_numpy(dtype=object)
    order = np.argsort(-m["depth"].to_numpy(), kind="stable")
    par_idx = np.array([pos[p] if p is not None else -1 for p in parents], dtype=np.int64)
    rng = np.random.default_rng(seed)

    def draws(sec, n):
        tcode, _ = pd.factorize(sec["trace_id"])
        ncode = np.array([pos[c] for c in sec["call_path"].to_numpy(dtype=object)], dtype=np.int64)
        per = sparse.csr_matrix((sec["duration_ms"].to_numpy(dtype=float), (tcode, ncode)), shape=(n, len(nodes))).T.tocsr()
        selfd = np.empty((len(nodes), n_boot))
        step = max(1, min(n_boot, 1_000_000 // max(n, 1)))
        for k0 in range(0, n_boot, step):
            k1 = min(n_boot, k0 + step)
            w = rng.poisson(1.0, size=(k1 - k0, n)).astype(np.float64)
            tot_w = w.sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                selfd[:, k0:k1] = np.where(tot_w[None, :] > 0, np.asarray(per @ w.T) / tot_w[None, :], np.nan)
        totd = selfd.copy()
        for i in order.tolist():
            if par_idx[i] >= 0:
                totd[par_idx[i]] += totd[i]
        return selfd, totd

    a_self, a_tot = draws(sa, na)
    b_self, b_tot = draws(sb, nb)
    lo_t, hi_t = interval_ends(a_tot - b_tot, ci, axis=1)
    lo_s, hi_s = interval_ends(a_self - b_self, ci, axis=1)
    return m, np.c_[lo_t, hi_t, lo_s, hi_s]


@pytest.mark.parametrize("window,n_boot,ci,seed", [(None, 400, 0.95, 0), (None, 1000, 0.9, 7), ((50.0, 100.0), 300, 0.8, 2),
                                                   ((99.0, 100.0), 200, 0.95, 1)])
def test_tree_diff_intervals_equal_the_per_node_computation(id_pair, window, n_boot, ci, seed):
    """Control: the intervals drawn a block of nodes at a time, totals by the ancestor matrix, are the per-node
    loop's (same seed, same Poisson stream), to rounding; a window of the top 1 % holds one request a side (resamples
    that drew none are NaN, dropped)."""
    s, b = id_pair
    a, bb = tk.critical_path(s), tk.critical_path(b)
    got = tk.critical_path_tree_diff(a, bb, spans_a=s, spans_b=b, percentile_window=window, n_boot=n_boot, ci=ci, seed=seed)
    m, ref = _reference_intervals(a, bb, s, b, window, n_boot, ci, seed)
    assert len(got) > 30  # many call paths (39 in the top 1 %, hundreds otherwise)
    pd.testing.assert_frame_equal(got.drop(columns=["delta_total_lo", "delta_total_hi", "delta_self_lo", "delta_self_hi"]),
                                  m.drop(columns=["delta_total_lo", "delta_total_hi", "delta_self_lo", "delta_self_hi"]))
    cols = got[["delta_total_lo", "delta_total_hi", "delta_self_lo", "delta_self_hi"]].to_numpy()
    assert np.isfinite(cols).all()
    np.testing.assert_allclose(cols, ref, rtol=1e-9, atol=1e-9)
    # the intervals are the bootstrap's, not degenerate: a node on one side only has a nonzero-width interval
    assert (cols[:, 1] > cols[:, 0]).any()


def test_tree_diff_block_boundaries_do_not_change_the_draws(id_pair, monkeypatch):
    """Control: a block of 7 nodes at a time (many blocks, a node's ancestors in other blocks) gives the same
    intervals as one block of every node."""
    s, b = id_pair
    a, bb = tk.critical_path(s), tk.critical_path(b)
    one = tk.critical_path_tree_diff(a, bb, spans_a=s, spans_b=b, n_boot=200)
    calls = []
    real = flame._block_draws
    monkeypatch.setattr(flame, "_block_draws", lambda side, i0, i1, *rest: calls.append((i0, i1)) or real(side, i0, i1, *rest))
    monkeypatch.setattr(flame, "_DRAWS_PER_BLOCK", 7 * 200)
    many = tk.critical_path_tree_diff(a, bb, spans_a=s, spans_b=b, n_boot=200)
    assert len(calls) == 2 * -(-len(one) // 7)
    pd.testing.assert_frame_equal(one, many)


def _wide(n_traces: int, per_trace: int) -> pd.DataFrame:
    """n_traces requests of a root and per_trace sequential children, each child's name unique (an id)."""
    rows = []
    k = 0
    for t in range(n_traces):
        tid = f"{t + 1:032x}"
        rows.append((tid, f"{1:016x}", None, "web", "GET /", 0, per_trace * 2))
        for c in range(per_trace):
            k += 1
            rows.append((tid, f"{c + 2:016x}", f"{1:016x}", "db", f"q /item/{k}", c * 2, c * 2 + 2))
    return tk.spans_from_columns({
        "trace_id": [r[0] for r in rows], "span_id": [r[1] for r in rows], "parent_id": [r[2] for r in rows],
        "service": [r[3] for r in rows], "name": [r[4] for r in rows], "kind": ["server"] * len(rows),
        "start": [r[5] * 1_000_000 for r in rows], "end": [r[6] * 1_000_000 for r in rows]})


def test_tree_diff_memory_is_not_nodes_times_n_boot():
    """Fails on the old code: 24,000 call paths (names with ids), 1,000 resamples: the old diff held a nodes x n_boot
    array per side and statistic (peak 1,779 MB traced); now a block of nodes at a time (~150 MB, bound 400)."""
    s = _wide(2000, 12)
    b = _wide(1000, 12)
    b["name"] = b["name"].astype(str).str.replace("/item/", "/thing/")  # other ids: every node on one side only
    a, bb = tk.critical_path(s), tk.critical_path(b)
    tracemalloc.start()
    try:
        d = tk.critical_path_tree_diff(a, bb, spans_a=s, spans_b=b, n_boot=1000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(d) == 1 + 24000 + 12000
    assert peak < 400e6, f"peak {peak / 1e6:.0f} MB"
    # by construction: each db node is 2 ms in its one request; the root's delta 0 (both 24 ms)
    root = d.set_index("node").loc["web:GET /"]
    assert root["delta_total_ms"] == pytest.approx(0.0, abs=1e-9)
    one = d[d["node"].str.endswith("/item/5")].iloc[0]
    assert one["delta_total_ms"] == pytest.approx(2.0 / 2000)
