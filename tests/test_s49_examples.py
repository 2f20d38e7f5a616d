"""Session 49, examples: results that must not depend on the spans' row order (the same spans sorted by time,
concatenated from files in another order, or read by tk.dask in partitions give the same answer).

Truths are built by construction (which traces a finding is about, hence which ids are its examples) or are the
answer on the same rows in another order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.analysis.health import N_EXAMPLES, NOT_ADDITIVE, combine_findings, example_ids

KEY = ["check", "severity", "subject"]


def _hex(i: int, width: int) -> str:
    return format(i, f"0{width}x")


def _spans(name: str) -> pd.DataFrame:
    d = tk.examples.load(name)
    return getattr(d, "spans", d)


def _keyed(report: pd.DataFrame) -> pd.DataFrame:
    out = report.sort_values(KEY, kind="stable").reset_index(drop=True)
    out["example_trace_ids"] = out["example_trace_ids"].map(tuple)
    return out


def _orders(n: int) -> list[np.ndarray]:
    return [np.arange(n)[::-1]] + [np.random.default_rng(seed).permutation(n) for seed in range(3)]


def _rootless_spans() -> tuple[pd.DataFrame, list[str]]:
    """12 traces of 2 spans; traces 11, 9, 7, 5, 3 (the odd ones above 1, written first, largest id first) have no
    root (their first span's parent is a span that is not there). Returns the spans and the rootless trace ids."""
    rows = {k: [] for k in ("trace_id", "span_id", "parent_id", "service", "name", "start", "end")}
    rootless = []
    for i in [11, 9, 7, 5, 3, 0, 1, 2, 4, 6, 8, 10]:
        t = _hex(i + 1, 32)
        if i % 2 and i > 1:
            rootless.append(t)
        root, child = _hex(2 * i + 1, 16), _hex(2 * i + 2, 16)
        for sid, parent, svc in ((root, "f" * 16 if t in rootless else None, "web"), (child, root, "db")):
            rows["trace_id"].append(t)
            rows["span_id"].append(sid)
            rows["parent_id"].append(parent)
            rows["service"].append(svc)
            rows["name"].append("x")
            rows["start"].append(i * 1000)
            rows["end"].append(i * 1000 + 500)
    return tk.spans_from_columns(rows), rootless


def test_examples_are_the_smallest_ids_by_construction():
    """no_root's examples are the 3 smallest of the 5 rootless traces' ids (traces 3, 5, 7), in every row order:
    on main they were the first 3 met in row order (11, 9, 7 as written)."""
    spans, rootless = _rootless_spans()
    want = sorted(rootless)[:N_EXAMPLES]
    assert want == [_hex(4, 32), _hex(6, 32), _hex(8, 32)]
    for order in [np.arange(len(spans))] + _orders(len(spans)):
        r = tk.health_report(spans.iloc[order].reset_index(drop=True), checks=["no_root"])
        assert r["traces_affected"].tolist() == [5]
        assert list(r["example_trace_ids"].iloc[0]) == want


def test_example_ids_rule():
    """The rule: the n smallest distinct ids as text, whatever the order or repeats."""
    ids = [_hex(i, 32) for i in (9, 3, 3, 7, 1, 8)]
    assert example_ids(ids) == [_hex(1, 32), _hex(3, 32), _hex(7, 32)]
    assert example_ids(ids[::-1]) == example_ids(ids)
    assert example_ids([]) == []


@pytest.mark.parametrize("name", ["checkout-small", "deploy-small"])
def test_health_report_same_for_any_row_order(name):
    """Every column of tk.health_report (examples included) is the same for the rows reversed and shuffled (3
    seeds). On main, reversed: 12 of 23 rows' examples changed on checkout-small, 10 of 23 on deploy-small."""
    spans = _spans(name)
    want = _keyed(tk.health_report(spans))
    assert len(want) > 10
    for order in _orders(len(spans)):
        got = _keyed(tk.health_report(spans.iloc[order].reset_index(drop=True)))
        pd.testing.assert_frame_equal(got, want)


def test_p95_examples_slowest_then_smallest_id():
    """p95_request_latency_ms's examples are the slowest requests, ties broken by trace id, not by row order:
    20 one-span requests, traces 20..17 (written first) and 1 last all take 100 ms, the others 10 ms: the p95
    (rank 19 of 20) is 100 ms; the examples are the smallest ids of the 100 ms requests: traces 1, 17, 18."""
    slow = {1, 17, 18, 19, 20}
    rows = {k: [] for k in ("trace_id", "span_id", "parent_id", "service", "name", "start", "end")}
    for i in [20, 19, 18, 17] + list(range(2, 17)) + [1]:
        rows["trace_id"].append(_hex(i, 32))
        rows["span_id"].append(_hex(i, 16))
        rows["parent_id"].append(None)
        rows["service"].append("web")
        rows["name"].append("GET /")
        rows["start"].append(i * 10**9)
        rows["end"].append(i * 10**9 + (100 if i in slow else 10) * 10**6)
    spans = tk.spans_from_columns(rows)
    want = [_hex(i, 32) for i in (1, 17, 18)]
    for order in [np.arange(len(spans))] + _orders(len(spans)):
        r = tk.health_report(spans.iloc[order].reset_index(drop=True), checks=["p95_request_latency_ms"])
        assert r["value"].iloc[0] == pytest.approx(100.0)
        assert list(r["example_trace_ids"].iloc[0]) == want


@pytest.mark.parametrize("name", ["checkout-small", "deploy-small"])
def test_combine_findings_examples_are_the_wholes(name):
    """combine_findings of partitions that keep traces whole (3 partitions by trace, in two orders) gives the
    examples tk.health_report gives on the whole: on main it kept the first 3 of the partitions' examples put
    together in partition order."""
    spans = _spans(name)
    ids = spans["trace_id"].astype(str)
    part = ids.map(lambda t: int(t[-4:], 16) % 3).to_numpy()
    parts = [spans[part == k].reset_index(drop=True) for k in range(3)]
    whole = tk.health_report(spans)
    whole = _keyed(whole[~whole["check"].isin(NOT_ADDITIVE)])
    n = int(spans["trace_id"].nunique())
    for ps in (parts, parts[::-1]):
        got = _keyed(combine_findings([tk.health_report(p, top_call_paths=2**62) for p in ps], n_traces=n))
        both = got.merge(whole, on=KEY, suffixes=("_got", "_want"))  # rows found in both (a row of one partition
        assert len(both) >= 0.7 * len(whole)                           # only may differ: not this test's business)
        same_traces = both["traces_affected_got"] == both["traces_affected_want"]
        assert same_traces.sum() >= 0.7 * len(whole)
        b = both[same_traces]
        assert b["example_trace_ids_got"].tolist() == b["example_trace_ids_want"].tolist()


def test_dask_health_report_examples_equal_pandas():
    """tk.dask.health_report's examples equal tk.health_report's on the same spans (context-drop seed 1, 3
    partitions, a threads LocalCluster): on main they differed (partition order, then the first 3 kept)."""
    pytest.importorskip("dask.dataframe")
    distributed = pytest.importorskip("distributed")
    spans = tk.simulate.simulate("context-drop", 400, seed=1).spans
    want = _keyed(tk.health_report(spans))
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0") as cl, \
            distributed.Client(cl):
        got = _keyed(tk.dask.health_report(tk.dask.from_pandas(spans, 3)))
    assert got[KEY].equals(want[KEY])
    assert got["example_trace_ids"].tolist() == want["example_trace_ids"].tolist()


def _cause_side(rows_in) -> pd.DataFrame:
    """Per (trace number, db self ms, peer): an api root (200 ms), a db child taking ``db self ms`` and an api
    client leaf calling ``peer`` (peer.service)."""
    rows = {k: [] for k in ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end", "attributes")}
    for j, (t, db_ms, peer) in enumerate(rows_in):
        tid, root, base = _hex(t, 32), _hex(3 * t + 1, 16), j * 10**9
        for sid, parent, svc, name, kind, s, e, a in (
                (root, None, "api", "GET /", "server", 0, 200, {}),
                (_hex(3 * t + 2, 16), root, "db", "query", "server", 10, 10 + db_ms, {}),
                (_hex(3 * t + 3, 16), root, "api", "call", "client", 150, 160, {"peer.service": peer})):
            for k, v in zip(rows, (tid, sid, parent, svc, name, kind, base + s * 10**6, base + e * 10**6, a),
                            strict=True):
                rows[k].append(v)
    return tk.spans_from_columns(rows)


def test_rank_causes_ties_by_trace_id_and_name_not_row_order():
    """rank_causes' example_trace_id, baseline_trace_id and callee break ties by id / name, not by the row met first.
    Incident: db takes 50, 50, 10, 10 ms in traces 8, 7, 6, 5 (written in that order): the slowest is a tie of 8 and
    7 -> trace 7. Baseline: db takes 30, 20, 10, 40 ms in traces 0x104, 0x103, 0x102, 0x101: median 25, nearest a tie
    of 30 (0x104) and 20 (0x103) -> 0x103. api's leaf calls go to zeta, alpha, zeta, alpha: 2 each -> alpha. On main,
    as written: 8, 0x104 and zeta (reversed: 7, 0x103, alpha)."""
    inc = _cause_side([(8, 50, "zeta"), (7, 50, "alpha"), (6, 10, "zeta"), (5, 10, "alpha")])
    base = _cause_side([(0x104, 30, "x"), (0x103, 20, "x"), (0x102, 10, "x"), (0x101, 40, "x")])
    for order in [np.arange(len(inc))] + _orders(len(inc)):
        t = tk.rank_causes(inc.iloc[order].reset_index(drop=True), base.iloc[order].reset_index(drop=True),
                           n_boot=50).set_index("service")
        assert t.at["db", "example_trace_id"] == _hex(7, 32)
        assert t.at["db", "baseline_trace_id"] == _hex(0x103, 32)
        assert t.at["api", "callee"] == "alpha"


def test_rank_causes_same_for_any_row_order_simulated():
    """rank_causes on fault_window('network_delay', seed=5), incident and baseline rows reversed and shuffled: the
    same table (sorted by service). On main 16 of 39 rows' baseline_trace_id changed reversed, 12 shuffled."""
    from tracekit.simulate_faults import fault_window

    w = fault_window("network_delay", seed=5)
    want = tk.rank_causes(w.incident, w.baseline, n_boot=100).sort_values("service").reset_index(drop=True)
    for seed in (None, 0):
        def again(df, seed=seed):
            idx = np.arange(len(df))[::-1] if seed is None else np.random.default_rng(seed).permutation(len(df))
            return df.iloc[idx].reset_index(drop=True)
        got = tk.rank_causes(again(w.incident), again(w.baseline), n_boot=100).sort_values("service") \
            .reset_index(drop=True)
        pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-9)


def test_peer_outliers_same_for_any_row_order_simulated():
    """peer_outliers on fault_window('network_delay', seed=5)'s incident, rows reversed and shuffled: the same table
    (sorted by service, host). On main, reversed, 1 of 59 rows named another operation (two with Holm p = 1 tied:
    the one met first won) with its medians."""
    from tracekit.simulate_faults import fault_window

    inc = fault_window("network_delay", seed=5).incident
    want = tk.peer_outliers(inc).sort_values(["service", "host"]).reset_index(drop=True)
    assert len(want) > 20
    for order in _orders(len(inc))[:2]:
        got = tk.peer_outliers(inc.iloc[order].reset_index(drop=True)).sort_values(["service", "host"]) \
            .reset_index(drop=True)
        pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-9)


def test_bubble_up_latency_without_is_nan_not_inf_when_no_unit_lacks_the_value():
    """bubble_up's latency_without_ms of a value every unit holds (no unit without it) is NaN in every row order:
    on main it was total − sum over 0 units, float noise over 0: NaN as written, −inf reversed on 13 of 218 rows
    of fault_window('network_delay', seed=5) (incident ∪ baseline, the incident's traces selected)."""
    from tracekit.simulate_faults import fault_window

    w = fault_window("network_delay", seed=5)
    spans = pd.concat([w.incident, w.baseline], ignore_index=True)
    sel = list(w.incident["trace_id"].astype(str).unique())
    key = ["dimension", "value"]
    got = [tk.bubble_up(spans.iloc[o].reset_index(drop=True), sel).sort_values(key).reset_index(drop=True)
           for o in [np.arange(len(spans))] + _orders(len(spans))[:2]]
    for g in got:
        lwo = g["latency_without_ms"].to_numpy(dtype=float)
        assert not np.isinf(lwo).any()
        assert g[key].equals(got[0][key])
        pd.testing.assert_series_equal(g["latency_without_ms"], got[0]["latency_without_ms"], rtol=1e-9)
    assert np.isnan(got[0]["latency_without_ms"].to_numpy(dtype=float)).sum() >= 5  # values every unit holds


def test_orphan_spans_words_tie_by_name_not_row_order():
    """orphan_spans' "most in:" names the 3 services with most orphans, a tie to the smallest name: 4 services with
    one orphan each (zeta, delta, beta, alpha as written) -> "alpha (1), beta (1), delta (1)" in every order; on
    main the first 3 met (zeta, delta, beta as written)."""
    rows = {k: [] for k in ("trace_id", "span_id", "parent_id", "service", "name", "start", "end")}
    for i, svc in enumerate(["zeta", "delta", "beta", "alpha"]):
        for sid, parent, s in ((_hex(2 * i + 1, 16), None, "web"), (_hex(2 * i + 2, 16), "f" * 16, svc)):
            rows["trace_id"].append(_hex(i + 1, 32))
            rows["span_id"].append(sid)
            rows["parent_id"].append(parent)
            rows["service"].append(s)
            rows["name"].append("x")
            rows["start"].append(i * 1000)
            rows["end"].append(i * 1000 + 500)
    spans = tk.spans_from_columns(rows)
    for order in [np.arange(len(spans))] + _orders(len(spans)):
        r = tk.health_report(spans.iloc[order].reset_index(drop=True), checks=["orphan_spans"])
        assert "most in: alpha (1), beta (1), delta (1)." in r["explanation"].iloc[0]


def test_continues_with_a_categorical_trace_id_is_kept():
    """Control (passes on main too): trace_outcomes' ``continues`` cast to the trace_id dtype keeps its values when
    trace_id is categorical (the caller traces are traces of the frame, so in its categories)."""
    from tracekit.core.outcomes import trace_outcomes

    spans = tk.simulate.simulate("context-drop", 200, seed=1).spans
    cat = spans.assign(trace_id=spans["trace_id"].astype("category"))
    want = trace_outcomes(spans)["continues"]
    got = trace_outcomes(cat)["continues"]
    assert want.notna().sum() > 5
    assert got.astype(object).where(got.notna(), None).tolist() == want.astype(object).where(want.notna(), None).tolist()
