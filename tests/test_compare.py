"""compare: literal sets with hand-computed answers, the bootstrap machinery, the db-lock incident."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.analysis.comparison import Comparison, compare
from tracekit.core import quantile_draws as _quantile_draws

MS = 1_000_000


def one(n: int, db_ms: int, cache: bool = False, db_error: bool = False) -> pd.DataFrame:
    """api GET / |------------------| 0 .. 20+db_ms
    db  query      |----------|       10 .. 10+db_ms
    cache get                 |-|     (optional) 10+db_ms .. 12+db_ms"""
    tid = f"{n:032x}"
    ids = [f"{n:012x}000{k}" for k in range(3)]
    rows = {
        "trace_id": [tid] * 2, "span_id": ids[:2], "parent_id": [None, ids[0]], "service": ["api", "db"],
        "name": ["GET /", "query"], "kind": ["server", "server"], "start": [0, 10 * MS],
        "end": [(20 + db_ms) * MS, (10 + db_ms) * MS], "status": ["ok", "error" if db_error else "ok"],
    }
    if cache:
        for k, v in (("trace_id", tid), ("span_id", ids[2]), ("parent_id", ids[0]), ("service", "cache"),
                     ("name", "get"), ("kind", "server"), ("start", (10 + db_ms) * MS), ("end", (12 + db_ms) * MS),
                     ("status", "ok")):
            rows[k].append(v)
    return tk.spans_from_columns(rows)


def many(frames):
    return pd.concat(frames, ignore_index=True)


def test_compare_identical_traces_exact_values_and_collapsed_cis():
    a = many([one(i, 90, cache=True, db_error=(i == 1)) for i in range(1, 5)])  # 4 traces, 1 db error
    b = many([one(i, 10) for i in range(11, 15)])
    before = a.copy(deep=True)
    c = compare(a, b, n_boot=200, seed=1)
    pd.testing.assert_frame_equal(a, before)
    assert isinstance(c, Comparison) and c.n_traces == (4, 4)
    t = c.table.set_index("service")
    # api's own time: a 0..10 + 102..110 = 18, b 0..10 + 20..30 = 20 -> -2; cache +2
    assert t.index.tolist() == ["db", "api", "cache"]  # sorted by |delta_cp_ms| (80, 2, 2), then key
    assert t.loc["db", "cp_ms_a"] == 90.0 and t.loc["db", "cp_ms_b"] == 10.0 and t.loc["db", "delta_cp_ms"] == 80.0
    # every trace of a set is the same: the bootstrap cannot move the cp mean
    assert t.loc["db", "delta_cp_ms_lo"] == pytest.approx(80.0) and t.loc["db", "delta_cp_ms_hi"] == pytest.approx(80.0)
    assert t.loc["db", "p50_ms_a"] == 90.0 and t.loc["db", "p95_ms_b"] == 10.0 and t.loc["db", "delta_p95_ms"] == 80.0
    assert t.loc["cache", "presence"] == "new" and t.loc["cache", "calls_a"] == 1.0 and t.loc["cache", "calls_b"] == 0.0
    assert t.loc["api", "presence"] == "both" and t.loc["api", "delta_cp_ms"] == -2.0
    assert t.loc["cache", "delta_cp_ms"] == 2.0
    # api: 2 children per call in a (db, cache), 1 in b
    assert t.loc["api", "fanout_a"] == 2.0 and t.loc["api", "fanout_b"] == 1.0 and t.loc["api", "delta_fanout"] == 1.0
    assert t.loc["db", "error_rate_a"] == 0.25 and t.loc["db", "error_rate_b"] == 0.0
    lo, hi = t.loc["db", "delta_error_rate_lo"], t.loc["db", "delta_error_rate_hi"]
    assert 0.0 <= lo <= 0.25 <= hi <= 1.0
    # structure: the cache call path exists in a only
    assert c.structure.to_dict("records") == [{"call_path": "api:GET / > cache:get", "side": "a only", "traces": 4, "spans": 4}]
    ov = c.overall.set_index("stat")
    assert ov.loc["p50_ms", "a"] == 110.0 and ov.loc["p50_ms", "b"] == 30.0 and ov.loc["mean_ms", "delta"] == 80.0
    assert ov.loc["p95_ms", "delta_lo"] == pytest.approx(80.0) and ov.loc["p95_ms", "delta_hi"] == pytest.approx(80.0)


@pytest.mark.slow  # over 4 s in the fast lane on 2 loaded cores (issue 28)
def test_compare_is_seeded_and_by_keys():
    a = many([one(i, 50 + 10 * i) for i in range(1, 8)])
    b = many([one(i, 5 * i - 30) for i in range(11, 18)])  # db 25..55 ms
    c1 = compare(a, b, n_boot=300, seed=7)
    c2 = compare(a, b, n_boot=300, seed=7)
    pd.testing.assert_frame_equal(c1.table, c2.table)
    c3 = compare(a, b, n_boot=300, seed=8)
    assert not c3.table["delta_cp_ms_lo"].equals(c1.table["delta_cp_ms_lo"])
    t = c1.table.set_index("service")
    assert t.loc["db", "delta_cp_ms_lo"] < t.loc["db", "delta_cp_ms"] < t.loc["db", "delta_cp_ms_hi"]
    # db cp means: a = mean(60, 70, .., 120) = 90, b = mean(25, 30, .., 55) = 40
    assert t.loc["db", "cp_ms_a"] == 90.0 and t.loc["db", "cp_ms_b"] == 40.0 and t.loc["db", "delta_cp_ms"] == 50.0
    assert t.loc["db", "p50_ms_a"] == 90.0 and t.loc["db", "p50_ms_b"] == 40.0
    op = compare(a, b, by="operation", n_boot=50)
    assert op.table[["service", "name"]].values.tolist()[0] == ["db", "query"]
    cp = compare(a, b, by="call_path", n_boot=50)
    assert cp.table["call_path"].tolist()[0] == "api:GET / > db:query"
    assert compare(a, a, n_boot=50).table["delta_cp_ms"].abs().max() == 0.0
    with pytest.raises(tk.ArgumentError, match="not a named key"):
        compare(a, b, by="team")
    with pytest.raises(tk.TraceKitError, match="ci must be"):
        compare(a, b, ci=95)


def test_exact_quantile_bootstrap_matches_brute_force():
    vals = np.array([1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 21.0])
    rng = np.random.default_rng(0)
    point, draws = _quantile_draws(vals, 0.5, rng.random(40_000))
    assert point == float(np.quantile(vals, 0.5, method="inverted_cdf")) == 5.0
    res = rng.choice(vals, size=(40_000, len(vals)))
    brute = np.quantile(res, 0.5, axis=1, method="inverted_cdf")
    for v in vals:
        assert abs((draws == v).mean() - (brute == v).mean()) < 0.01


@pytest.fixture(scope="module")
def db_lock():
    sim = tk.simulate.simulate("db-lock", n_traces=1500, seed=11)
    base = tk.simulate.simulate("baseline", n_traces=1500, seed=12)
    s = sim.spans
    roots = s[s["parent_id"].isna()]
    w = roots[(roots["start"] >= sim.truth.window_start) & (roots["start"] < sim.truth.window_end)]["trace_id"]
    return sim, s[s["trace_id"].isin(w)], base.spans


@pytest.mark.slow  # over 4 s in the fast lane on 2 loaded cores (issue 28)
def test_db_lock_checkout_dominates_the_window_and_tops_compare(db_lock):
    sim, incident, baseline = db_lock
    assert sim.truth.service == "checkout"
    bd = tk.critical_path_breakdown(tk.critical_path(incident), by="service")
    assert bd["service"].iloc[0] == "checkout" and bd["share"].iloc[0] > 0.5
    c = compare(incident, baseline, n_boot=300, seed=0)
    top = c.table.iloc[0]
    assert top["service"] == "checkout"
    assert top["delta_cp_ms_lo"] > 0  # significant
    # the lock adds extra_ms per orders-db call, 2 calls per checkout; checkout's p50 latency moves by about that
    assert top["delta_p50_ms"] == pytest.approx(2 * sim.truth.extra_ms, rel=0.15)
    others = c.table.iloc[1:]
    assert (others["delta_cp_ms"].abs() < top["delta_cp_ms"] / 10).all()
    assert c.overall.set_index("stat").loc["p95_ms", "delta_lo"] > 0


def test_compare_against_an_empty_set():
    a = many([one(i, 50) for i in range(1, 4)])
    c = compare(a, tk.empty_spans(), n_boot=20)
    assert c.n_traces == (3, 0)
    assert c.table["presence"].tolist() == ["new", "new"]
    assert c.table["service"].tolist() == ["api", "db"]  # no impact (NaN) without b: by key
    assert c.table["cp_ms_a"].tolist() == [20.0, 50.0] and c.table["cp_ms_b"].isna().all()
    assert c.overall["a"].tolist() == [70.0, 70.0, 70.0, 70.0] and c.overall["b"].isna().all()


def test_overall_leaves_out_traces_without_a_critical_path():
    # a: two normal traces (110 ms end to end) and one lone in-progress root span, whose critical
    # path fails (nothing ends): its end-to-end latency is unknown, not 0 ms. It used to enter
    # overall as 0, pulling p50 and the mean of a down.
    a = many([one(1, 90), one(2, 90), tk.spans_from_columns({
        "trace_id": ["f" * 32], "span_id": ["f" * 16], "service": ["api"], "name": ["GET /"], "kind": ["server"],
        "start": [0], "end": [None], "in_progress": [True]})])
    b = many([one(i, 10) for i in range(11, 14)])
    c = compare(a, b, n_boot=50, seed=0)
    ov = c.overall.set_index("stat")
    assert ov.loc["p50_ms", "a"] == 110.0 and ov.loc["mean_ms", "a"] == 110.0
    assert ov.loc["mean_ms", "delta"] == 80.0
    assert c.n_traces == (3, 3)  # the trace is still counted


def test_compare_by_numeric_column_with_missing_values():
    # by= any spans column: http_status is numeric and <NA> on the db spans here. The key index
    # used to mix the "<NA>" placeholder with ints and raise a bare TypeError while sorting.
    a = many([one(i, 90) for i in range(1, 4)])
    b = many([one(i, 10) for i in range(11, 14)])
    for df in (a, b):
        df["http_status"] = pd.array([200, None] * 3, dtype=df["http_status"].dtype)
    c = compare(a, b, by="http_status", n_boot=20)
    t = c.table
    assert t["http_status"].iloc[0] is None and t["http_status"].iloc[1] == 200  # |80| before |0|
    assert t["cp_ms_a"].tolist() == [90.0, 20.0] and t["cp_ms_b"].tolist() == [10.0, 20.0]
    assert t["presence"].tolist() == ["both", "both"]


def test_cp_ms_averages_over_traces_with_a_critical_path():
    # a: two traces with db 90 ms on the path, and a lone in-progress root whose critical path
    # fails. cp_ms is the mean per trace *with* a path: 90, not 180 / 3 = 60 (no key is "off the
    # path" in a trace that has none). calls still count every trace.
    lone = tk.spans_from_columns({
        "trace_id": ["f" * 32], "span_id": ["f" * 16], "service": ["api"], "name": ["GET /"], "kind": ["server"],
        "start": [0], "end": [None], "in_progress": [True]})
    a = many([one(1, 90), one(2, 90), lone])
    b = many([one(i, 10) for i in range(11, 13)])
    t = compare(a, b, n_boot=50, seed=0).table.set_index("service")
    assert t.loc["db", "cp_ms_a"] == 90.0 and t.loc["api", "cp_ms_a"] == 20.0
    assert t.loc["db", "delta_cp_ms"] == 80.0
    assert t.loc["db", "delta_cp_ms_lo"] == pytest.approx(80.0) and t.loc["db", "delta_cp_ms_hi"] == pytest.approx(80.0)
    assert t.loc["api", "calls_a"] == 1.0  # 3 entry spans over 3 traces


def test_keys_in_chunks_give_the_single_pass_result(monkeypatch):
    """compare bounds its bootstrap draws by doing keys a chunk at a time (issue 33): with the same
    seed the result equals the single pass (every key at once, the algorithm before chunking)
    exactly, for chunks of one key, of a few keys and of all keys, and the random stream after the
    keys (the overall latency CIs) is the same too."""
    from tracekit.analysis import comparison

    a = tk.simulate.simulate("db-lock", n_traces=80, seed=3).spans
    b = tk.simulate.simulate("baseline", n_traces=60, seed=4).spans
    whole = {by: compare(a, b, by=by, n_boot=120, seed=7) for by in ("operation", "call_path")}
    assert all(len(c.table) > 8 for c in whole.values())
    per_key = 2 * (len(comparison.METRICS) + 4) * 120 * 8
    for keys_per_chunk in (1, 3):
        monkeypatch.setattr(comparison, "_DRAW_BYTES", per_key * keys_per_chunk)
        for by, want in whole.items():
            got = compare(a, b, by=by, n_boot=120, seed=7)
            pd.testing.assert_frame_equal(got.table, want.table, check_exact=True)
            pd.testing.assert_frame_equal(got.overall, want.overall, check_exact=True)
    assert whole["operation"].table["delta_p95_ms_lo"].notna().sum() > 5
