"""Session 47, scale4: compare and critical_path_tree_diff at 300k spans with ids in span names (186k distinct
operations). Their results must not change: every test compares cell by cell with a reference built here (the
per-key loop the vectorised code replaced) or with ground truth by construction. A test that fails on the code
before its fix says so; the others are controls."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.analysis import comparison
from tracekit.core import quantile_draws

from .test_structure import mk, tid


def _hicard(df: pd.DataFrame, seed: int, every: int = 3) -> pd.DataFrame:
    """Ids in span names: about one distinct name per ``every`` spans (the 300k frames' 186k of 306k)."""
    rng = np.random.default_rng(seed)
    df = df.copy()
    ids = rng.integers(0, max(len(df) // every, 1), len(df))
    df["name"] = pd.array([f"{a} /item/{i}" for a, i in zip(df["name"].astype(str), ids, strict=True)],
                          dtype=df["name"].dtype)
    return df


@pytest.fixture(scope="module")
def hicard_pair():
    s = tk.simulate.simulate("db-lock", 120, seed=3).spans
    b = tk.simulate.simulate("baseline", 140, seed=4).spans
    return _hicard(s, 1), _hicard(b, 2)


def _grouped_by_loop(sorted_values, bounds, q, u):
    """The reference: quantile_draws once a group (the code before session 47)."""
    n_g = len(bounds) - 1
    points, draws = np.full(n_g, np.nan), np.full(np.shape(u), np.nan)
    for g in range(n_g):
        if bounds[g + 1] > bounds[g]:
            points[g], draws[g] = quantile_draws(sorted_values[bounds[g]:bounds[g + 1]], q, u[g])
    return points, draws


def _same_frame(x: pd.DataFrame, y: pd.DataFrame) -> None:
    assert list(x.columns) == list(y.columns)
    assert len(x) == len(y)
    pd.testing.assert_frame_equal(x, y, check_exact=True)


# ------------------------------------------------------------------ compare: the per-key quantile loop

def test_quantile_draws_grouped_is_quantile_draws_per_group_to_the_bit():
    """Fails on the old code (no grouped kernel). Groups of 0..60 values and one of 5,000, ties, uniforms of 0,
    q at 0, 0.3, 0.5, 0.95, 1: every point and draw equals quantile_draws of its own group."""
    from tracekit.core import quantile_draws_grouped

    rng = np.random.default_rng(11)
    for trial in range(12):
        m = rng.integers(0, 60, size=int(rng.integers(1, 150)))
        m[rng.random(len(m)) < 0.15] = 0
        if trial == 0:
            m = np.array([1, 2, 0, 3, 5000, 1, 0])
        bounds = np.r_[0, np.cumsum(m)]
        v = np.concatenate([np.sort(rng.integers(0, 20, k).astype(float)) for k in m])
        u = rng.random((len(m), 200))
        u[:, :2] = 0.0
        for q in (0.0, 0.3, 0.5, 0.95, 1.0):
            p, d = quantile_draws_grouped(v, bounds, q, u)
            rp, rd = _grouped_by_loop(v, bounds, q, u)
            np.testing.assert_array_equal(p, rp)
            np.testing.assert_array_equal(d, rd)


def test_quantile_draws_grouped_bad_arguments_are_argument_errors():
    """Fails on the old code (no grouped kernel): edges that do not cover the values, or u of the wrong shape."""
    from tracekit.core import quantile_draws_grouped

    v = np.array([1.0, 2.0, 3.0])
    with pytest.raises(tk.ArgumentError, match="bounds"):
        quantile_draws_grouped(v, np.array([0, 2]), 0.5, np.zeros((1, 3)))
    with pytest.raises(tk.ArgumentError, match="bounds"):
        quantile_draws_grouped(v, np.array([0, 3]), 0.5, np.zeros((2, 3)))
    with pytest.raises(tk.ArgumentError, match="q must"):
        quantile_draws_grouped(v, np.array([0, 3]), 1.5, np.zeros((1, 3)))


def test_compare_by_operation_draws_quantiles_in_few_calls_not_one_per_key(hicard_pair):
    """Fails on the old code: compare by (service, name) of 4,193 distinct operations called quantile_draws
    once per key, quantile and side (9,218 calls); now one grouped call per side, quantile and chunk."""
    s, b = hicard_pair
    n_keys = pd.concat([s, b])[["service", "name"]].drop_duplicates().shape[0]
    assert n_keys > 4000
    with mock.patch.object(comparison, "quantile_draws", wraps=comparison.quantile_draws) as per_key:
        tk.compare(s, b, by=["service", "name"], n_boot=50)
    assert per_key.call_count <= 8


@pytest.mark.parametrize("by", [["service", "name"], "service", ["service", "name", "kind"]])
def test_compare_table_is_the_per_key_loops_cell_by_cell(hicard_pair, by):
    """Control (fails on the old code only as it has no grouped kernel to patch): compare's whole table with the
    grouped kernel equals the one the per-key loop gives (the reference patched in), every cell, intervals and
    p50/p95 points included."""
    s, b = hicard_pair
    new = tk.compare(s, b, by=by, n_boot=60, seed=5).table
    with mock.patch.object(comparison, "quantile_draws_grouped", _grouped_by_loop):
        ref = tk.compare(s, b, by=by, n_boot=60, seed=5).table
    _same_frame(new, ref)
    assert new["p95_ms_a"].notna().sum() >= (5 if by == "service" else 100)


def test_compare_chunked_keys_equal_one_pass_cell_by_cell(hicard_pair):
    """Control: with a draw budget of a few keys (many chunks), the table is the single pass's, every cell."""
    s, b = hicard_pair
    whole = tk.compare(s, b, by=["service", "name"], n_boot=40, seed=2).table
    with mock.patch.object(comparison, "_DRAW_BYTES", 40 * 2 * 12 * 8 * 37):
        chunked = tk.compare(s, b, by=["service", "name"], n_boot=40, seed=2).table
    _same_frame(whole, chunked)


def test_compare_p50_point_is_each_keys_observed_median_by_construction():
    """Control, ground truth by construction: one service calls op-i (i < 40) with durations i, 2i, 3i ms (x3
    requests) in both sides; the p50 of op-i is 2i ms, its p95 3i ms, deltas 0 and their intervals exactly 0."""
    rows, span = [], 0
    for side in (0, 1):
        for r in range(3):
            t, root = side * 100 + r + 1, span + 1
            rows.append((t, root, None, "web", "GET /", "server", 0, 10_000))
            span += 1
            for i in range(1, 41):
                span += 1
                rows.append((t, span, root, "db", f"op-{i}", "client", 0, (r + 1) * i))
    df = mk(rows)
    a, b = df[df["trace_id"] < tid(100)], df[df["trace_id"] > tid(100)]
    t = tk.compare(a, b, by=["service", "name"], n_boot=50).table
    t = t[t["service"] == "db"].set_index("name")
    i = np.arange(1, 41)
    names = [f"op-{k}" for k in i]
    np.testing.assert_array_equal(t.loc[names, "p50_ms_a"].to_numpy(), 2.0 * i)
    np.testing.assert_array_equal(t.loc[names, "p95_ms_b"].to_numpy(), 3.0 * i)
    assert (t.loc[names, "delta_p50_ms"] == 0).all()


# ------------------------------------------------------------------ critical_path_tree: _tree_from's Python loops

def _old_depth_and_total(node: np.ndarray, parent: np.ndarray, self_ms: np.ndarray):
    """The reference: _tree_from's loops before session 47 (a chain walk a node for the depth; deepest first, one
    addition a node into its parent's total)."""
    parent_of = dict(zip(node.tolist(), parent.tolist(), strict=True))
    depth_of: dict = {}
    for n in node.tolist():
        chain, x = [], n
        while x is not None and x not in depth_of:
            chain.append(x)
            x = parent_of[x]
        d = depth_of[x] if x is not None else -1
        for y in reversed(chain):
            d += 1
            depth_of[y] = d
    depth = np.array([depth_of[n] for n in node], dtype=np.int64)
    total = self_ms.copy()
    pos = {n: i for i, n in enumerate(node)}
    for i in np.argsort(-depth, kind="stable"):
        if parent[i] is not None:
            total[pos[parent[i]]] += total[i]
    return depth, total


def test_depths_by_pointer_doubling_are_the_ancestor_counts():
    """Fails on the old code (no _depths): a random forest of 3,000 nodes and a chain 5,000 deep; each node's depth
    is its number of ancestors, counted here by walking up."""
    from tracekit.analysis.flame import _depths

    rng = np.random.default_rng(5)
    n = 3000
    par = np.array([-1 if i == 0 or rng.random() < 0.05 else int(rng.integers(0, i)) for i in range(n)])
    perm = rng.permutation(n)  # parents anywhere in the array, not only before their children
    inv = np.argsort(perm)
    par = np.where(par[perm] >= 0, inv[np.maximum(par[perm], 0)], -1)
    walk = np.zeros(n, dtype=np.int64)
    for i in range(n):
        x = par[i]
        while x >= 0:
            walk[i] += 1
            x = par[x]
    np.testing.assert_array_equal(_depths(par), walk)
    chain = np.r_[-1, np.arange(4999)]
    np.testing.assert_array_equal(_depths(chain), np.arange(5000))
    assert len(_depths(np.zeros(0, dtype=np.int64))) == 0
    with pytest.raises(tk.ArgumentError, match="cycle"):
        _depths(np.array([1, 0]))


def _deep_names_frame() -> pd.DataFrame:
    """Traces whose operations hold ' > ' and ':' (one text, two paths), a chain 60 deep and wide fan-outs."""
    rows, span = [], 0
    for t in range(1, 7):
        root = span + 1
        span += 1
        rows.append((t, root, None, "web:8080", "GET /a > b", "server", 0, 1000))
        prev = root
        for d in range(60 if t % 2 else 3):
            span += 1
            rows.append((t, span, prev, f"svc{d % 4}", f"op {d} > x" if d % 7 == 0 else f"op{d}", "internal",
                         d + 1, 999 - d))
            prev = span
        for i in range(30):
            span += 1
            rows.append((t, span, root, "db", f"q /item/{(t * 31 + i) % 45}", "client", 900 + i, 901 + i + t))
    return mk(rows)


@pytest.mark.parametrize("which", ["hicard", "deep"])
def test_tree_depth_and_total_equal_the_old_loops_to_the_bit(hicard_pair, which):
    """Control: critical_path_tree's depth and total_ms equal the per-node loops' (reference above) on 4,000
    operations of ids in names, and on names holding ' > ' and ':' with a chain 60 deep; a root's total is the
    mean request time on the critical path."""
    f = hicard_pair[0] if which == "hicard" else _deep_names_frame()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = tk.critical_path_tree(tk.critical_path(f), spans=f)
    node = t["node"].to_numpy(dtype=object)
    parent = t["parent"].astype(object).where(t["parent"].notna(), None).to_numpy(dtype=object)
    depth, total = _old_depth_and_total(node, parent, t["self_ms"].to_numpy(dtype=float))
    np.testing.assert_array_equal(t["depth"].to_numpy(), depth)
    np.testing.assert_array_equal(t["total_ms"].to_numpy(), total)
    assert t["depth"].max() >= (2 if which == "hicard" else 60)


def test_tree_diff_at_thousands_of_nodes_is_the_trees_side_by_side(hicard_pair):
    """Control, by construction: a diff's total_ms_a / _b are the two trees' own total_ms, node by node."""
    s, b = hicard_pair
    ca, cb = tk.critical_path(s), tk.critical_path(b)
    d = tk.critical_path_tree_diff(ca, cb, spans_a=s, spans_b=b, n_boot=20)
    for side, cp, sp in (("a", ca, s), ("b", cb, b)):
        t = tk.critical_path_tree(cp, spans=sp).set_index("node")
        got = d.set_index("node")[f"total_ms_{side}"]
        np.testing.assert_array_equal(got.reindex(t.index).to_numpy(), t["total_ms"].to_numpy())
        assert (got.drop(t.index) == 0).all()
    assert len(d) > 2000


# ------------------------------------------------------------------ critical_path_tree_diff: a leaf's total is its self

@pytest.mark.parametrize("which", ["hicard", "deep"])
def test_tree_diff_with_leaf_totals_taken_from_self_is_the_full_draws_cell_by_cell(hicard_pair, which):
    """Control (fails on the old code only as it has no _leaf_rows to patch): the diff's every cell, intervals
    included, equals the one that draws every node's total (the reference: no row taken as a leaf)."""
    from tracekit.analysis import flame

    if which == "hicard":
        (s, b), n = hicard_pair, 40
    else:
        f = _deep_names_frame()
        s, b, n = f[f["trace_id"] <= tid(3)], f[f["trace_id"] > tid(3)], 200
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ca, cb = tk.critical_path(s), tk.critical_path(b)
        new = tk.critical_path_tree_diff(ca, cb, spans_a=s, spans_b=b, n_boot=n, seed=3)
        with mock.patch.object(flame, "_leaf_rows", lambda anc, sides: np.zeros(anc.shape[0], dtype=bool)):
            ref = tk.critical_path_tree_diff(ca, cb, spans_a=s, spans_b=b, n_boot=n, seed=3)
    _same_frame(new, ref)
    assert new["delta_total_lo"].notna().sum() > 10


def test_tree_diff_draws_leaf_totals_once_not_twice(hicard_pair):
    """Fails on the old code: of 5,036 nodes, 1,783 are leaves (a leaf's total is its self); the old code drew the
    total of all 5,036 on each side, now of the 3,253 others only."""
    from tracekit.analysis import flame

    s, b = hicard_pair
    ca, cb = tk.critical_path(s), tk.critical_path(b)
    rows: list[int] = []
    real = flame._block_draws

    def spy(*args, **kw):
        out = real(*args, **kw)
        rows.append(out[1].shape[0])
        return out

    with mock.patch.object(flame, "_block_draws", spy):
        d = tk.critical_path_tree_diff(ca, cb, spans_a=s, spans_b=b, n_boot=20)
    parents = set(d["parent"].dropna())
    n_inner = int(sum(x in parents for x in d["node"]))
    assert sum(rows) == 2 * n_inner < 2 * len(d)
