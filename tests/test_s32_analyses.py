"""Session 32 review of the analyses: ground truth by construction for the defects found (each test failed before
its fix)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tracekit as tk

MS = 1_000_000
T1, T2 = "1" * 32, "2" * 32


def _frame(rows):
    """rows: (trace, span letter, parent letter or None, service, name, kind, start ms, end ms, status)."""
    cols = {c: [] for c in ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end", "status")}
    for t, s, p, svc, nm, k, a, b, st in rows:
        cols["trace_id"].append(t)
        cols["span_id"].append(s * 16)
        cols["parent_id"].append(p * 16 if p else None)
        cols["service"].append(svc)
        cols["name"].append(nm)
        cols["kind"].append(k)
        cols["start"].append(a * MS)
        cols["end"].append(b * MS)
        cols["status"].append(st)
    return tk.spans_from_columns(cols)


def test_error_origins_under_a_parent_cycle_of_failed_spans_returns():
    # T1: a -> b -> a is a parent loop, c hangs under a; all three failed. c is the only origin (a and b each have
    # a failed child); a row under a cycle has no ancestry, so its chain is not walked (it looped for ever).
    # T2: web ✗ > db ✗, a whole trace: db is the origin, one hop, reaching the root.
    spans = _frame([(T1, "a", "b", "web", "GET /", "server", 0, 100, "error"),
                    (T1, "b", "a", "web", "call", "client", 5, 65, "error"),
                    (T1, "c", "a", "db", "q", "client", 10, 20, "error"),
                    (T2, "d", None, "web", "GET /", "server", 0, 50, "error"),
                    (T2, "e", "d", "db", "q", "client", 10, 20, "error")])
    o = tk.error_origins(spans, per_span=True)
    assert o[["trace_id", "span_id", "hops", "reached_root", "propagated_to"]].values.tolist() == [
        [T1, "c" * 16, 0, False, ""], [T2, "e" * 16, 1, True, "web:GET /"]]
    agg = tk.error_origins(spans)
    assert agg.set_index("service")["origins"].to_dict() == {"db": 2}


def _steady_traffic(n: int):
    """Traces of 50 spans, one span starting every microsecond and lasting 10 ms, services a-d in turn, every other
    span a client naming no callee: many unanswered client spans overlap the other traces' server roots."""
    i = np.arange(n)
    sid = [f"{k + 1:016x}" for k in i]
    par = [None if k % 50 == 0 else sid[k - 1 - (k % 7 if k % 50 > 7 else 0)] for k in i]
    return tk.spans_from_columns({
        "trace_id": [f"{k // 50 + 1:032x}" for k in i], "span_id": sid, "parent_id": par,
        "service": np.array(["a", "b", "c", "d"], dtype=object)[i % 4], "name": [f"op{k % 13}" for k in i],
        "kind": np.array(["server", "client"], dtype=object)[i % 2], "start": i * 1000, "end": i * 1000 + 10 * MS})


def test_dropped_context_pairing_returns_the_optimal_pairs_on_steady_traffic():
    # 800 spans: 480 candidate (client, root) pairs. scipy's sparse assignment never returned on their float costs
    # (trace_outcomes, and with it critical_path, compare, every request count, hung); the pairs must reach the
    # optimum total score of the dense assignment over the same candidates
    from scipy.optimize import linear_sum_assignment

    from tracekit.core import dropped_context as dc

    spans = _steady_traffic(800)
    seen = {}
    real = dc._assign

    def spy(cc, rr, score):
        seen["args"] = (cc, rr, score)
        return real(cc, rr, score)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(dc, "_assign", spy)
        c, r, score = dc.dropped_context_pairs(spans)
    cc, rr, sc = seen["args"]
    cu, ci = np.unique(cc, return_inverse=True)
    ru, ri = np.unique(rr, return_inverse=True)
    gain = np.zeros((len(cu), len(ru)))
    np.maximum.at(gain, (ci, ri), sc)
    a, b = linear_sum_assignment(gain, maximize=True)
    best = gain[a, b][gain[a, b] > 0].sum()
    assert len(set(c.tolist())) == len(c) and len(set(r.tolist())) == len(r)  # one-to-one
    assert abs(score.sum() - best) < 1e-4
    assert len(r) == 16  # every root of the 16 traces has a candidate; all are paired


def _exported_twice():
    # web GET / ✗ 0..100 > web call orders ✗ 5..65 > orders POST ✗ 10..60, the POST row exported twice (same trace,
    # same span id, same times): one call, one span, one failure
    return _frame([(T1, "a", None, "web", "GET /", "server", 0, 100, "error"),
                   (T1, "b", "a", "web", "call orders", "client", 5, 65, "error"),
                   (T1, "c", "b", "orders", "POST", "server", 10, 60, "error"),
                   (T1, "c", "b", "orders", "POST", "server", 10, 60, "error")])


def test_service_graph_counts_a_span_exported_twice_once():
    G = tk.service_graph(_exported_twice())
    e = G.edges["web", "orders"]
    assert (e["calls"], e["errors"], e["total_ms"]) == (1, 1, 50.0)  # was 2 calls, 2 errors, 100 ms
    o = G.nodes["orders"]
    assert (o["spans"], o["errors"], o["duration_ms"], o["self_ms"]) == (1, 1, 50.0, 50.0)  # was 2, 2, 100, 100
    assert G.nodes["web"]["spans"] == 2


def test_service_graph_on_dask_counts_a_span_exported_twice_once():
    pytest.importorskip("dask.dataframe")
    spans = _exported_twice()
    G = tk.dask.service_graph(tk.dask.from_pandas(spans, 1))
    assert G.edges["web", "orders"]["calls"] == 1
    assert (G.nodes["orders"]["spans"], G.nodes["orders"]["duration_ms"]) == (1, 50.0)


def test_find_repeated_calls_does_not_read_a_duplicate_export_as_n_plus_1():
    assert len(tk.find_repeated_calls(_exported_twice())) == 0  # was one row: calls 2, pattern n+1


def test_error_origins_counts_a_span_exported_twice_once():
    spans = _exported_twice()
    assert tk.error_origins(spans)[["service", "origins", "share"]].values.tolist() == [["orders", 1, 1.0]]  # was 2
    assert tk.error_origins(spans, per_span=True)["span_id"].tolist() == ["c" * 16]


def test_trace_summary_n_services_keeps_a_missing_service_in_its_own_trace():
    spans = _frame([(T1, "a", None, "web", "GET /", "server", 0, 100, "ok"),
                    (T2, "b", None, None, "GET /", "server", 0, 100, "ok")])
    spans["service"] = spans["service"].mask(spans["trace_id"] == T2)  # spans_from_columns names it unknown_service now
    ts = tk.trace_summary(spans)
    # was T1 2 (T2's missing service); T2 was 0, now 1: its span is in unknown_service, as every other analysis counts it
    assert ts[["trace_id", "n_services"]].values.tolist() == [[T1, 1], [T2, 1]]


def test_skew_story_says_a_clock_behind_without_a_double_negative():
    for offset, want in ((-80.0, "clock runs 80.0 ms behind the others"), (120.0, "clock runs 120 ms ahead of the others")):
        st = tk.skew_story(tk.simulate.simulate("clock-skew", 300, seed=15, offset_ms=offset).spans)
        assert len(st.sentences) == 1 and want in st.sentences[0], st.sentences  # was "runs -80.0 ms behind"


def test_an_origin_is_a_failed_span_with_no_failed_child_as_its_table_says():
    # web ✗ > api ok > db ✗: the retry in api absorbed db's error, web failed on its own: two origins, and web has a
    # failed descendant (db) — the tables said "no failed descendant", which would leave web out
    from tracekit.analysis.error_origins import ERROR_ORIGIN_SPANS, ERROR_ORIGINS

    spans = _frame([(T1, "a", None, "web", "GET /", "server", 0, 100, "error"),
                    (T1, "b", "a", "api", "get", "client", 5, 65, "ok"),
                    (T1, "c", "b", "db", "q", "client", 10, 20, "error")])
    assert sorted(tk.error_origins(spans, per_span=True)["service"]) == ["db", "web"]
    assert "descendant" not in ERROR_ORIGIN_SPANS.doc and "child" in ERROR_ORIGIN_SPANS.doc
    assert "child" in dict((c.name, c.meaning) for c in ERROR_ORIGINS.columns)["origins"]


def test_split_by_change_refuses_a_window_it_cannot_cut_at():
    # T1 starts at 0 ms, T2 at 50 ms. Recovery before onset put T2 both before and after (normal: 3 rows of 2);
    # no onset put every trace in the incident; a time that does not parse raised pandas' DateParseError
    spans = _frame([(T1, "a", None, "web", "GET /", "server", 0, 100, "ok"),
                    (T2, "b", None, "web", "GET /", "server", 50, 100, "ok")])
    t0 = pd.Timestamp(0, tz="UTC")
    for change in ((t0 + pd.Timedelta("150ms"), t0 + pd.Timedelta("40ms")), (None, None), ("garbage", None)):
        with pytest.raises(tk.errors.ArgumentError):
            tk.split_by_change(spans, change)
    s = tk.split_by_change(spans, (t0 + pd.Timedelta("40ms"), None))  # a good window still cuts
    assert (s.before["trace_id"].tolist(), s.incident["trace_id"].tolist(), len(s.after)) == ([T1], [T2], 0)


def test_compare_counts_calls_per_request_not_per_trace():
    # the same 400 requests (seed 1), fulfillment run as traces of their own (async-links) or inside the request
    # (baseline): every service makes the same calls per request. Per trace, the 120 async-work traces made every
    # service read 23 % fewer calls in a (api-gateway 0.77 vs 1.0, interval -0.27..-0.20)
    a = tk.simulate.simulate("async-links", 400, seed=1).spans
    b = tk.simulate.simulate("baseline", 400, seed=1).spans
    c = tk.compare(a, b, n_boot=200)
    assert c.n_traces == (520, 400)
    t = c.table.set_index("service")
    assert t.loc["api-gateway", ["calls_a", "calls_b"]].tolist() == [1.0, 1.0]
    assert (t["delta_calls"] == 0).all()
    assert ((t["delta_calls_lo"] <= 0) & (t["delta_calls_hi"] >= 0)).all()
    assert t.loc["fulfillment", "calls_a"] == 120 / 400
    assert set(t["presence"]) == {"both"}


def test_a_root_exported_twice_is_one_root():
    # a whole trace whose root row is repeated: one root, not partial; health names the duplicate export, not
    # "a service started a new root" (was n_roots 2, partial True and a multiple_roots finding)
    spans = _frame([(T1, "a", None, "web", "GET /", "server", 0, 100, "ok"),
                    (T1, "a", None, "web", "GET /", "server", 0, 100, "ok"),
                    (T1, "b", "a", "db", "q", "client", 10, 20, "ok")])
    ts = tk.trace_summary(spans)
    assert ts[["n_roots", "n_duplicate_ids", "partial"]].values.tolist() == [[1, 1, False]]
    checks = set(tk.health_report(spans)["check"])
    assert "duplicate_span_ids" in checks and "multiple_roots" not in checks


def test_compare_counts_a_span_exported_twice_as_one_call():
    # a: web > db with the db row exported twice; b: the same trace exported once. Nothing changed (was db calls
    # 2 vs 1 and web fanout 2 vs 1)
    a = _frame([(T1, "a", None, "web", "GET /", "server", 0, 100, "ok"), (T1, "b", "a", "db", "q", "client", 10, 20, "ok"),
                (T1, "b", "a", "db", "q", "client", 10, 20, "ok")])
    b = _frame([(T2, "a", None, "web", "GET /", "server", 0, 100, "ok"), (T2, "b", "a", "db", "q", "client", 10, 20, "ok")])
    for by in ("service", "operation"):
        t = tk.compare(a, b, by=by, n_boot=20).table.set_index("service")
        assert t.loc["db", ["calls_a", "calls_b"]].tolist() == [1.0, 1.0]
        assert t.loc["web", ["fanout_a", "fanout_b"]].tolist() == [1.0, 1.0]


def test_top_exceptions_counts_the_events_of_a_span_exported_twice_once():
    ev = [{"time": None, "name": "exception", "attributes": {"exception.type": "KeyError", "exception.message": "item 7"}}]
    spans = tk.spans_from_columns({
        "trace_id": [T1] * 3, "span_id": ["a" * 16, "b" * 16, "b" * 16], "parent_id": [None, "a" * 16, "a" * 16],
        "service": ["web", "db", "db"], "name": ["GET /", "q", "q"], "start": [0, 1, 1], "end": [9, 2, 2],
        "events": [[], ev, ev]})
    t = tk.top_exceptions(spans)
    assert t[["service", "template", "count", "spans", "traces"]].values.tolist() == [["db", "item <num>", 1, 1, 1]]  # count was 2


def test_course_changes_and_early_stops_ignore_spans_exported_twice():
    # 5 % of the leaf spans of an incident exported twice: every step is still the same step (was a duplicated
    # call counted as a second call of its parent, and the copy's own END step as one more step)
    from tracekit.analysis.course_changes import course_changes
    from tracekit.analysis.early_stops import early_stop_evidence

    sp = tk.simulate.simulate("slow-deploy", 200, seed=7).spans
    base = tk.simulate.simulate("baseline", 150, seed=8).spans
    named = set(zip(sp["trace_id"], sp["parent_id"], strict=True))
    leaf = np.flatnonzero([(t, s) not in named for t, s in zip(sp["trace_id"], sp["span_id"], strict=True)])
    rep = np.random.default_rng(0).choice(leaf, size=len(sp) // 20, replace=False)
    dup = pd.concat([sp, sp.iloc[rep]], ignore_index=True)
    pd.testing.assert_frame_equal(course_changes(dup, base), course_changes(sp, base))
    pd.testing.assert_frame_equal(course_changes(base, dup), course_changes(base, sp))
    svc_codes = lambda df: pd.factorize(df["service"], sort=True)[0]  # noqa: E731
    for inc, inc_dup, bl, bl_dup in ((sp, dup, base, base), (base, base, sp, dup)):
        ev = early_stop_evidence(inc, bl, svc_codes(inc), 8)
        ev_dup = early_stop_evidence(inc_dup, bl_dup, svc_codes(inc_dup), 8)
        pd.testing.assert_frame_equal(ev, ev_dup)


def test_failed_spans_counts_a_failed_span_exported_twice_once():
    spans = _frame([(T1, "a", None, "web", "GET /", "server", 0, 100, "error"),
                    (T1, "b", "a", "db", "q", "client", 10, 20, "error"),
                    (T1, "b", "a", "db", "q", "client", 10, 20, "error")])
    assert tk.trace_summary(spans)["failed_spans"].tolist() == [2]  # was 3


def test_version_regressions_and_lambda_invocations_count_an_entry_span_exported_twice_once():
    # the trace's root (its api-gateway entry span, named as a parent) exported twice in every trace
    sp = tk.simulate.simulate("cold-starts", 120, seed=3).spans
    tree = tk.core.span_tree(sp)
    roots = np.flatnonzero(tree.is_root)
    fn = np.flatnonzero((sp["service"] == "fulfillment").to_numpy() & (tree.parent >= 0)
                        & (sp["service"].to_numpy()[np.maximum(tree.parent, 0)] != "fulfillment"))
    dup = pd.concat([sp, sp.iloc[np.r_[roots, fn]]], ignore_index=True)
    vr, vr_dup = tk.version_regressions(sp, n_boot=20), tk.version_regressions(dup, n_boot=20)
    assert vr_dup.set_index(["service", "version"])["calls"].to_dict() == vr.set_index(["service", "version"])["calls"].to_dict()
    assert len(tk.lambda_invocations(dup)) == len(tk.lambda_invocations(sp)) == len(fn)


def test_critical_path_tree_takes_each_operation_from_its_sections_not_by_splitting_the_text():
    # web:8080 (a service with ':') serves "SELECT x WHERE a > 1" (a name with the path separator), calling db q.
    # Splitting the text made a phantom root 'web:8080:SELECT x WHERE a' (service 'web', 0 ms), the real root a
    # child of it at depth 1 with service and name 'WHERE a > 1'-ish, and db at depth 2
    spans = _frame([(T1, "a", None, "web:8080", "SELECT x WHERE a > 1", "server", 0, 100, "ok"),
                    (T1, "b", "a", "db", "q", "client", 10, 30, "ok")])
    cp = tk.critical_path(spans)
    root = "web:8080:SELECT x WHERE a > 1"
    t = tk.critical_path_tree(cp)
    assert t[["node", "service", "name", "depth", "self_ms", "total_ms"]].values.tolist() == [
        [root, "web:8080", "SELECT x WHERE a > 1", 0, 80.0, 100.0], [root + " > db:q", "db", "q", 1, 20.0, 20.0]]
    assert t["parent"].isna().tolist() == [True, False] and t["parent"].iloc[1] == root
    d = tk.critical_path_tree_diff(cp, cp, n_boot=10)
    assert d[["node", "service", "depth", "delta_total_ms"]].values.tolist() == [[root, "web:8080", 0, 0.0],
                                                                               [root + " > db:q", "db", 1, 0.0]]


def test_trace_summary_n_spans_says_it_counts_rows():
    # n_spans counts rows (widgets and sampling read it so); its definition said "spans in the trace", which a span
    # exported twice is not twice
    from tracekit.analysis.structure import TRACE_SUMMARY

    spans = _frame([(T1, "a", None, "web", "GET /", "server", 0, 100, "ok"),
                    (T1, "b", "a", "db", "q", "client", 10, 20, "ok"), (T1, "b", "a", "db", "q", "client", 10, 20, "ok")])
    assert tk.trace_summary(spans)[["n_spans", "n_duplicate_ids"]].values.tolist() == [[3, 1]]
    col = {c.name: c for c in TRACE_SUMMARY.columns}["n_spans"]
    assert col.unit == "rows" and "exported twice" in col.meaning
