"""Trace diffs and flame graphs (session 45, diff): ground truth built by construction."""

from __future__ import annotations

import importlib
import itertools

import numpy as np
import pandas as pd
import pytest

import tracekit as tk

MS = 1_000_000


def _trace(rows, tid="1" * 32):
    """rows: (span, parent, service, name, start ms, end ms)."""
    return tk.spans_from_columns({
        "trace_id": [tid] * len(rows), "span_id": [r[0].ljust(16, "0") for r in rows],
        "parent_id": [None if r[1] is None else r[1].ljust(16, "0") for r in rows],
        "service": [r[2] for r in rows], "name": [r[3] for r in rows], "kind": ["server"] * len(rows),
        "start": [int(r[4] * MS) for r in rows], "end": [int(r[5] * MS) for r in rows]})


def _loop(n: int, each_ms: float, pre_ms: float = 10.0, tid: str = "1" * 32):
    """GET / whose first child (auth) lasts ``pre_ms``, then ``n`` SELECTs of ``each_ms`` one after another."""
    rows = [("r", None, "web", "GET /", 0, pre_ms + n * each_ms + 10), ("p", "r", "web", "auth", 0, pre_ms)]
    rows += [(f"q{k}", "r", "db", "SELECT", pre_ms + k * each_ms, pre_ms + (k + 1) * each_ms) for k in range(n)]
    return _trace(rows, tid)


def test_calls_starting_together_pair_by_their_shape_not_by_row_order():
    """Two SELECTs start at the same instant (20 ms and 50 ms long) in both traces: whatever the row order of b,
    the 20 ms call pairs with the 20 ms one (both 'same'). Before, the order of the rows chose: in 4 of the 6 row
    orders both read 'changed', +30 ms and -30 ms."""
    a = _trace([("r", None, "web", "GET /", 0, 100), ("x", "r", "db", "SELECT", 10, 30), ("y", "r", "db", "SELECT", 10, 60)])
    b = _trace([("r", None, "web", "GET /", 0, 100), ("u", "r", "db", "SELECT", 10, 30), ("v", "r", "db", "SELECT", 10, 60)],
               "2" * 32)
    for pa, pb in itertools.product(itertools.permutations(range(3)), [(0, 1, 2), (0, 2, 1), (2, 1, 0)]):
        d = tk.diff_traces(a.iloc[list(pa)].reset_index(drop=True), b.iloc[list(pb)].reset_index(drop=True))
        assert d["status"].tolist() == ["same"] * 3, (pa, pb)
        pairs = dict(zip(d["span_id_a"].str[0], d["span_id_b"].str[0], strict=True))
        assert pairs == {"r": "r", "x": "u", "y": "v"}


def test_a_slower_loop_that_ran_more_times_pairs_the_nth_call_with_the_nth():
    """3 SELECTs of 20 ms one after another in a, 5 of 40 ms in b: the k-th call of a is the k-th of b (each +20 ms),
    the 4th and 5th are added. Before, a's 3rd call (at 50 ms) was paired with b's 2nd (at 50 ms), a's 2nd was
    'removed' and b's 3rd 'added': 1 removed + 3 added for 0 + 2."""
    d = tk.diff_traces(_loop(3, 20), _loop(5, 40, tid="2" * 32))
    q = d[d["name"] == "SELECT"]
    assert q["status"].value_counts().to_dict() == {"changed": 3, "added": 2}
    paired = q[q["status"] == "changed"]
    assert (paired["span_id_a"] == paired["span_id_b"]).all()  # q0-q0, q1-q1, q2-q2 by construction
    assert paired["delta_duration_ms"].tolist() == [20.0, 20.0, 20.0]
    assert sorted(q.loc[q["status"] == "added", "span_id_b"].str[:2]) == ["q3", "q4"]


def test_a_loop_shifted_by_a_slower_earlier_call_is_the_same_calls_plus_one():
    """auth got 200 ms slower, then the loop ran 4 times instead of 3 (same 20 ms calls): 3 'same' SELECTs and one
    'added'. Before, every call was more than tolerance_ms from its twin: 3 removed + 4 added."""
    d = tk.diff_traces(_loop(3, 20, pre_ms=10), _loop(4, 20, pre_ms=210, tid="2" * 32))
    q = d[d["name"] == "SELECT"]
    assert q["status"].value_counts().to_dict() == {"same": 3, "added": 1}
    assert q.loc[q["status"] == "same", "delta_start_ms"].tolist() == [200.0] * 3
    assert q.loc[q["status"] == "added", "span_id_b"].str[:2].tolist() == ["q3"]
    s = tk.trace_diff_summary(d).set_index("service")
    assert s.loc["db", ["same", "added", "removed"]].tolist() == [3, 1, 0]
    assert s.loc["db", "delta_self_ms"] == 20.0


def test_a_retry_inserted_between_calls_is_the_one_added():
    """Control: a: SELECTs at 10, 110, 210 ms; b: the same plus a retry at 60 ms. The retry is the one added, the
    others the same (offset 0)."""
    rows = [("r", None, "web", "GET /", 0, 300)] + [(f"q{k}", "r", "db", "SELECT", 10 + 100 * k, 30 + 100 * k) for k in range(3)]
    a = _trace(rows)
    b = _trace(rows + [("z", "r", "db", "SELECT", 60, 80)], "2" * 32)
    d = tk.diff_traces(a, b)
    q = d[d["name"] == "SELECT"]
    assert q["status"].value_counts().to_dict() == {"same": 3, "added": 1}
    assert q.loc[q["status"] == "added", "span_id_b"].str[0].tolist() == ["z"]
    assert (q.loc[q["status"] == "same", "delta_start_ms"] == 0).all()


def test_past_the_alignment_the_nearest_start_matching_does_not_follow_row_order(monkeypatch):
    """The nearest-start greedy kept for runs past the alignment's size (forced here on 2 calls against 3) broke ties
    of calls starting together by their rows: two SELECTs of 20 and 50 ms starting at one instant paired crosswise
    in some row orders ('changed' +30 and -30 ms). Ties follow the calls' order (start, end, span id) now."""
    monkeypatch.setattr(importlib.import_module("tracekit.analysis.trace_diff"), "_ALIGN_ROWS", 0, raising=False)  # (before: always the greedy)
    a = _trace([("r", None, "web", "GET /", 0, 100), ("x", "r", "db", "SELECT", 10, 30), ("y", "r", "db", "SELECT", 10, 60)])
    b = _trace([("r", None, "web", "GET /", 0, 100), ("u", "r", "db", "SELECT", 10, 30), ("v", "r", "db", "SELECT", 10, 60),
                ("w", "r", "db", "SELECT", 10, 80)], "2" * 32)
    for pa, pb in itertools.product(itertools.permutations(range(3)), itertools.permutations(range(4))):
        d = tk.diff_traces(a.iloc[list(pa)].reset_index(drop=True), b.iloc[list(pb)].reset_index(drop=True))
        pairs = {x[0]: y[0] for x, y in zip(d["span_id_a"], d["span_id_b"], strict=True) if isinstance(x, str) and isinstance(y, str)}
        assert pairs == {"r": "r", "x": "u", "y": "v"}, (pa, pb)
        assert d.loc[d["status"] == "added", "span_id_b"].str[0].tolist() == ["w"]


def _request(tid: str, cache: bool = False, twice: bool = False):
    """GET / (0..100 ms) calling db:q, and cache:get when ``cache`` (exported twice when ``twice``)."""
    rows = [("r", None, "api", "GET /", 0, 100), ("q", "r", "db", "q", 10, 50)]
    rows += [("c", "r", "cache", "get", 1, 5)] * (1 + twice) if cache else []
    return _trace(rows, tid)


def test_compare_structure_counts_a_span_exported_twice_once():
    """3 traces in a call cache:get once each (one of them exported twice, the same span read twice), b never: the
    call path a only holds 3 traces and 3 spans. Before: 4 spans (the copy counted), while calls counts it once."""
    a = pd.concat([_request(f"{i:032x}", cache=True, twice=i == 1) for i in range(1, 4)], ignore_index=True)
    b = pd.concat([_request(f"{i:032x}") for i in range(5, 8)], ignore_index=True)
    c = tk.compare(a, b, n_boot=20)
    row = c.structure.set_index("call_path").loc["api:GET / > cache:get"]
    assert (row["side"], row["traces"], row["spans"]) == ("a only", 3, 3)
    assert c.table.set_index("service").loc["cache", "calls_a"] == 1.0  # control: one call per request


def test_a_span_of_no_service_keeps_its_row_in_the_summary():
    """A frame edited by hand with a missing service on the db call, which got 50 ms slower: the diff names it
    unknown_service (as its matching and every analysis do) and the summary holds its row, +50 ms. Before, the
    diff's service was missing and the summary dropped the row: only web, 0 ms, the change gone."""
    a = _trace([("r", None, "web", "GET /", 0, 100), ("c", "r", "db", "C", 10, 30)])
    b = _trace([("r", None, "web", "GET /", 0, 150), ("c", "r", "db", "C", 10, 80)], "2" * 32)
    a.loc[1, "service"] = None
    b.loc[1, "service"] = None
    d = tk.diff_traces(a, b)
    assert d["service"].tolist() == ["web", "unknown_service"]
    s = tk.trace_diff_summary(d).set_index("service")
    assert sorted(s.index) == ["unknown_service", "web"]
    assert (s.loc["unknown_service", "changed"], s.loc["unknown_service", "delta_self_ms"]) == (1, 50.0)
    assert s["delta_self_ms"].sum() == 50.0  # every span's change is in some row
    # a diff whose service is missing (built before, or edited) keeps the row too
    d2 = d.assign(service=d["service"].where(d["service"] != "unknown_service", None))
    assert tk.trace_diff_summary(d2).set_index("service").loc["unknown_service", "delta_self_ms"] == 50.0


def _cp_requests(n: int = 3):
    """``n`` requests GET / (0..100 ms) calling q (10..50 ms) whose service is missing (a frame edited by hand)."""
    spans = pd.concat([_trace([("r", None, "api", "GET /", 0, 100), ("q", "r", "db", "q", 10, 50)], f"{i:032x}")
                       for i in range(1, n + 1)], ignore_index=True)
    spans.loc[spans["name"] == "q", "service"] = None
    return spans


def test_saving_potential_keeps_an_operation_of_no_service():
    """q (no service) holds 40 of each request's 100 critical-path ms: its saving is 40 ms (0.4), named
    unknown_service as its call path is, and the shares add up to 1. Before, the group-by dropped it: one row,
    api 60 ms, shares adding up to 0.6."""
    spans = _cp_requests()
    s = tk.saving_potential(tk.critical_path(spans), spans=spans)
    got = {(r.service, r.name): (r.saving_ms, r.traces) for r in s.itertuples()}
    assert got == {("api", "GET /"): (60.0, 3), ("unknown_service", "q"): (40.0, 3)}
    assert abs(s["saving_share"].sum() - 1.0) < 1e-9


def test_flame_node_of_no_service_is_labelled_as_its_call_path():
    """The node 'api:GET / > unknown_service:q' said service <NA>: it says unknown_service now (its text's)."""
    spans = _cp_requests()
    t = tk.critical_path_tree(tk.critical_path(spans), spans=spans)
    row = t.set_index("node").loc["api:GET / > unknown_service:q"]
    assert (row["service"], row["name"], row["self_ms"]) == ("unknown_service", "q", 40.0)


@pytest.mark.parametrize(("kw", "word"), [({"caller": [0.5, 0]}, "caller"), ({"slow": [np.nan, 1.0]}, "slow"),
                                          ({"callee": ["a", "b"]}, "callee"), ({"weights": [-1.0, 1.0]}, "weights"),
                                          ({"chance": [0.05, 2.0]}, "chance")])
def test_shared_end_weights_refuses_values_it_would_misread(kw, word):
    """A caller code 0.5 was read as 0, a NaN slow flag made every hop sharing an end NaN, text raised a bare
    ValueError, a negative weight was taken: each is an ArgumentError naming the argument now."""
    from tracekit.analysis.hop_blame import shared_end_weights

    args = {"caller": [0, 2], "callee": [1, 1], "slow": [1.0, 1.0], "chance": [0.05, 0.05], **kw}
    with pytest.raises(tk.ArgumentError, match=word):
        shared_end_weights(args["caller"], args["callee"], args["slow"], args["chance"], 3, weights=args.get("weights"))


def test_shared_end_weights_of_valid_hops_unchanged():
    """Control: the module's example (every hop into 1 slow, 0 -> 2 not): the callee keeps its hops, callers 5 %."""
    from tracekit.analysis.hop_blame import shared_end_weights

    w_caller, w_callee = shared_end_weights(np.array([0, 0, 3, 0, 0]), [1, 1, 1, 2, 2], [1.0, 1, 1, 0, 0], [0.05] * 5, 4)
    assert np.allclose(w_callee[:3], 1.0) and np.allclose(w_caller[:3], 0.05)


def test_of_parallel_calls_starting_together_the_one_without_a_twin_is_added():
    """a: 3 SELECTs starting together, 10, 20 and 30 ms long; b: the same 3 and a new one of 5 ms. The 5 ms call is
    the one added, the others 'same'. Before (start offsets only, all equal), the 5 ms call was paired with the
    10 ms one, 10 with 20, 20 with 30, and the 30 ms one read as added: 3 'changed' for 3 'same' (before that, the
    rows chose: with the new call read first, the same)."""
    rows = [("r", None, "web", "GET /", 0, 100)] + [(f"q{k}", "r", "db", "SELECT", 10, 10 + 10 * (k + 1)) for k in range(3)]
    a = _trace(rows)
    b = _trace([("z", "r", "db", "SELECT", 10, 15)] + rows, "2" * 32)  # (in any row order: the new call read first)
    for d in (tk.diff_traces(a, b), tk.diff_traces(b, a), tk.diff_traces(a, b.iloc[::-1])):
        q = d[d["name"] == "SELECT"]
        assert q["status"].value_counts().to_dict() in ({"same": 3, "added": 1}, {"same": 3, "removed": 1})
        odd = q[q["status"].isin(["added", "removed"])]
        assert odd["span_id_a"].fillna(odd["span_id_b"]).str[0].tolist() == ["z"]
