"""critical_path_tree / critical_path_tree_diff / saving_potential: by construction and on the db-lock twins."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.analysis.flame import CRITICAL_PATH_TREE, CRITICAL_PATH_TREE_DIFF, SAVING_POTENTIAL
from tracekit.core import trace_outcomes

from .conftest import read_dataset
from .test_structure import mk


def _two_requests():
    # t1: root 0..100, db 10..40 on the path, cache 50..60 on the path
    # t2: root 0..50, db 10..30; plus an orphan fragment 0..500 that is not the request
    return mk([
        (1, 1, None, "web", "GET /", "server", 0, 100), (1, 2, 1, "db", "q", "client", 10, 40),
        (1, 3, 1, "cache", "get", "client", 50, 60),
        (2, 1, None, "web", "GET /", "server", 0, 50), (2, 2, 1, "db", "q", "client", 10, 30),
        (2, 9, 77, "batch", "job", "server", 0, 500),
    ])


def test_tree_values_per_request_and_fragments_left_out():
    spans = _two_requests()
    cp = tk.critical_path(spans)
    t = tk.critical_path_tree(cp, spans=spans).set_index("node")
    assert list(t.reset_index().columns) == CRITICAL_PATH_TREE.column_names
    assert t.attrs["requests"] == 2
    assert "batch:job" not in t.index  # the orphan fragment is not a request
    root = t.loc["web:GET /"]
    assert root["total_ms"] == pytest.approx((100 + 50) / 2)
    assert root["self_ms"] == pytest.approx(((100 - 30 - 10) + (50 - 20)) / 2)
    assert t.loc["web:GET / > db:q", "self_ms"] == pytest.approx((30 + 20) / 2)
    assert t.loc["web:GET / > cache:get", ["self_ms", "traces"]].tolist() == [5.0, 1]
    assert t["self_ms"].sum() == pytest.approx(root["total_ms"])
    assert t["self_share"].sum() == pytest.approx(1.0)
    slow = tk.critical_path_tree(cp, spans=spans, percentile_window=(60, 100))
    assert slow.attrs["requests"] == 1 and slow.set_index("node").loc["web:GET /", "total_ms"] == 100.0
    with pytest.raises(tk.ArgumentError, match="in percent"):
        tk.critical_path_tree(cp, percentile_window=(0.95, 1.0))


def test_saving_potential_upper_bound():
    spans = _two_requests()
    s = tk.saving_potential(tk.critical_path(spans), spans=spans)
    assert list(s.columns) == SAVING_POTENTIAL.column_names
    s = s.set_index(["service", "name"])
    assert s.loc[("db", "q"), "saving_ms"] == pytest.approx(25.0)
    assert s.loc[("cache", "get"), ["saving_ms", "traces"]].tolist() == [5.0, 1]
    assert s["saving_share"].sum() == pytest.approx(1.0)


@pytest.mark.slow  # 3.3 s in the fast lane (2 loaded cores, issue 28)
def test_flame_diff_on_the_db_lock_twins():
    inc = read_dataset("checkout-incident")
    base = read_dataset("checkout-baseline")
    d = tk.critical_path_tree_diff(tk.critical_path(inc), tk.critical_path(base), spans_a=inc, spans_b=base, n_boot=300)
    assert list(d.columns) == CRITICAL_PATH_TREE_DIFF.column_names
    # the root equals the total change in mean request time
    change = trace_outcomes(inc)["request_ms"].mean() - trace_outcomes(base)["request_ms"].mean()
    assert d.loc[d["depth"] == 0, "delta_total_ms"].sum() == pytest.approx(change, abs=1e-6)
    # >= 95 % of the positive change sits on the orders-db calls, whose intervals exclude 0
    pos = d[d["delta_self_ms"] > 0]
    db = pos[pos["name"].isin(["SELECT orders", "INSERT orders"])]
    assert db["delta_self_ms"].sum() >= 0.95 * pos["delta_self_ms"].sum()
    assert (db["delta_self_lo"] > 0).all() and (db["delta_self_lo"] <= db["delta_self_ms"]).all()
    assert (db["delta_self_hi"] >= db["delta_self_ms"]).all()
    # totals add up the tree: a node's total = its self + its children's totals
    dd = d.set_index("node")
    for node, r in dd.iterrows():
        kids = dd[dd["parent"] == node]
        assert r["total_ms_a"] == pytest.approx(r["self_ms_a"] + kids["total_ms_a"].sum(), abs=1e-9)
    assert np.isfinite(d["delta_total_lo"]).all()


@pytest.mark.slow  # over 1.3 s in the fast lane at load 8 on 2 cores (issue 28)
def test_real_nezha_tree_adds_up_and_an_identity_what_if_changes_nothing(real_traces):
    """Real OnlineBoutique traces (Nezha): the tree's roots add up to the mean request time on the
    critical path; a what-if that changes nothing (x1) returns the very same times; halving every span
    of one service never makes a request slower."""
    from .test_critical_path import load_nezha

    spans = load_nezha(real_traces / "nezha/onlineboutique-2022-08-22/05_20_trace.csv")
    cp = tk.critical_path(spans)
    tree = tk.critical_path_tree(cp, spans=spans)
    req = trace_outcomes(spans)["request_ms"].dropna()
    assert tree.attrs["requests"] == len(req)
    assert tree.loc[tree["depth"] == 0, "total_ms"].sum() == pytest.approx(req.mean(), rel=1e-9)
    assert tree["self_ms"].sum() == pytest.approx(req.mean(), rel=1e-9)
    same = tk.what_if(spans, {"frontend": "x1"}, n_boot=0).spans
    assert (same["start"] == spans["start"]).all() and (same["end"] == spans["end"]).all()
    svc = spans["service"].value_counts().index[1]
    faster = trace_outcomes(tk.what_if(spans, {svc: "x0.5"}, n_boot=0).spans)["request_ms"].to_numpy()
    assert (faster <= trace_outcomes(spans)["request_ms"].to_numpy() + 1e-9).all()


@pytest.mark.slow  # 1.1 s in the fast lane (2 loaded cores, issue 28)
@pytest.mark.parametrize("path", ["nezha/trainticket-2023-01-29/09_34_trace.csv", "jaeger/integration-fixtures-traces/example_trace.json"])
def test_tree_nodes_follow_jaegers_grouping_service_operation_and_ancestry(real_traces, path):
    """A node is (service, operation, ancestry): count them with a plain walk up the parents of every span
    on a request's critical path, and compare with the tree."""
    from .test_critical_path import load_nezha

    spans = load_nezha(real_traces / path) if path.endswith(".csv") else tk.read(real_traces / path)
    cp = tk.critical_path(spans)
    tree = tk.critical_path_tree(cp, spans=spans)
    rows = spans.reset_index(drop=True)
    by_id = {(t, s): i for i, (t, s) in enumerate(zip(rows["trace_id"], rows["span_id"], strict=True))}
    req = cp[cp["request"]]
    want = set()
    for t, s in zip(req["trace_id"], req["span_id"], strict=True):
        chain, i = [], by_id[(t, s)]
        while True:  # up to the request root
            chain.append(f"{rows.at[i, 'service']}:{rows.at[i, 'name']}")
            p = rows.at[i, "parent_id"]
            if pd.isna(p) or (t, p) not in by_id:
                break
            i = by_id[(t, p)]
        path_ = list(reversed(chain))
        want.update(" > ".join(path_[:k]) for k in range(1, len(path_) + 1))
    assert set(tree["node"]) == want
