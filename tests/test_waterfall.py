"""waterfall_data: exact rows for literal traces, plus invariants on real public traces."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.analysis.waterfall import WATERFALL_COLUMNS
from tracekit.errors import TraceKitError

TID = "0123456789abcdef0123456789abcdef"
MS = 1_000_000  # ns per ms


def sid(letter: str) -> str:
    return letter * 16 if len(letter) == 1 else letter


def trace(rows, tid=TID, **extra):
    """rows: (span, parent, start_ms, end_ms[, service]) with single-letter hex ids."""
    cols = {
        "trace_id": [tid] * len(rows),
        "span_id": [sid(r[0]) for r in rows],
        "parent_id": [sid(r[1]) if r[1] else None for r in rows],
        "service": [r[4] if len(r) > 4 else "svc" for r in rows],
        "name": [f"op-{r[0]}" for r in rows],
        "start": [int(r[2] * MS) for r in rows],
        "end": [None if r[3] is None else int(r[3] * MS) for r in rows],
    }
    cols.update(extra)
    return tk.spans_from_columns(cols)


def cp_frame(sections, tid=TID):
    """sections: (span, start_ms, end_ms) as tk.critical_path returns them (trace end → start)."""
    return pd.DataFrame(
        {
            "trace_id": [tid] * len(sections),
            "span_id": [sid(s[0]) for s in sections],
            "start": pd.to_datetime([int(s[1] * MS) for s in sections], unit="ns", utc=True),
            "end": pd.to_datetime([int(s[2] * MS) for s in sections], unit="ns", utc=True),
        }
    )


# Jaeger UI critical-path test1 (FORMATS.md §4), times in ms; spans listed E, C, D as in the file.
#   C |=================================================|  1..101
#   D          |=========|                                20..40
#   E                         |====|                      50..60
# critical path: C[60,101] E[50,60] C[40,50] D[20,40] C[1,20]
JAEGER1 = [("e", "c", 50, 60), ("c", None, 1, 101), ("d", "c", 20, 40)]
JAEGER1_CP = [("c", 60, 101), ("e", 50, 60), ("c", 40, 50), ("d", 20, 40), ("c", 1, 20)]


def test_order_depth_offsets_and_critical_sections():
    w = tk.waterfall_data(trace(JAEGER1), TID, critical_path=cp_frame(JAEGER1_CP))
    assert list(w.columns) == list(WATERFALL_COLUMNS)
    assert w["span_id"].tolist() == ["c" * 16, "d" * 16, "e" * 16]
    assert w["depth"].tolist() == [0, 1, 1]
    assert w["start_ms"].tolist() == [0.0, 19.0, 49.0]
    assert w["end_ms"].tolist() == [100.0, 39.0, 59.0]
    assert w["duration_ms"].tolist() == [100.0, 20.0, 10.0]
    assert w["cp_sections"].tolist() == [[(0.0, 19.0), (39.0, 49.0), (59.0, 100.0)], [(19.0, 39.0)], [(49.0, 59.0)]]
    assert w["cp_ms"].tolist() == [70.0, 20.0, 10.0]
    assert w["on_critical_path"].tolist() == [True, True, True]
    assert w["parent_id"].tolist()[1:] == ["c" * 16, "c" * 16] and pd.isna(w["parent_id"].iloc[0])
    assert w["has_children"].tolist() == [True, False, False]
    assert w["label"].tolist() == ["op-c", "\u00a0\u00a0op-d", "\u00a0\u00a0op-e"]
    assert w.index.tolist() == [0, 1, 2]


def test_collapse_merges_hidden_critical_sections_into_the_visible_ancestor():
    spans = trace(JAEGER1)
    for kwargs in ({"collapse": ["c" * 16]}, {"max_depth": 0}, {"collapse": "c" * 16}):
        w = tk.waterfall_data(spans, TID, critical_path=cp_frame(JAEGER1_CP), **kwargs)
        assert w["span_id"].tolist() == ["c" * 16], kwargs
        assert w["cp_sections"].tolist() == [[(0.0, 100.0)]]  # 5 touching sections merge into one
        assert w["n_hidden"].tolist() == [2]
        assert w["collapsed"].tolist() == [True]
        assert w["cp_ms"].tolist() == [100.0]


def test_collapse_a_middle_span_keeps_gaps_between_sections():
    #   a |==============================|  0..30
    #   b    |====================|         2..22
    #   c       |=====|                     4..9     (child of b)
    #   d                 |====|            15..20   (child of b)
    #   f                             |=|   28..29 (child of a, not on the path)
    spans = trace([("a", None, 0, 30), ("b", "a", 2, 22), ("c", "b", 4, 9), ("d", "b", 15, 20), ("f", "a", 28, 29)])
    cp = cp_frame([("a", 22, 30), ("b", 20, 22), ("d", 15, 20), ("b", 9, 15), ("c", 4, 9), ("b", 2, 4), ("a", 0, 2)])
    w = tk.waterfall_data(spans, TID, critical_path=cp, collapse=["b" * 16])
    assert w["span_id"].tolist() == ["a" * 16, "b" * 16, "f" * 16]
    assert w["n_hidden"].tolist() == [0, 2, 0]
    assert w["cp_sections"].tolist() == [[(0.0, 2.0), (22.0, 30.0)], [(2.0, 22.0)], []]
    assert w["on_critical_path"].tolist() == [True, True, False]
    full = tk.waterfall_data(spans, TID, critical_path=cp)
    assert full["cp_sections"].tolist()[1] == [(2.0, 4.0), (9.0, 15.0), (20.0, 22.0)]
    # max_depth=1 hides c and d the same way
    assert tk.waterfall_data(spans, TID, critical_path=cp, max_depth=1)["cp_sections"].tolist() == w["cp_sections"].tolist()


def test_depth_first_order_children_by_start_not_input_order():
    #   a |=========================|  0..100
    #   b          |========|           40..60   (listed first)
    #   c  |====|                       5..20
    #   e    |=|                        8..10    (child of c)
    #   d              |==|             45..50   (child of b)
    spans = trace([("b", "a", 40, 60), ("a", None, 0, 100), ("d", "b", 45, 50), ("c", "a", 5, 20), ("e", "c", 8, 10)])
    w = tk.waterfall_data(spans)
    assert w["span_id"].str[0].tolist() == ["a", "c", "e", "b", "d"]
    assert w["depth"].tolist() == [0, 1, 2, 1, 2]
    assert w["start_ms"].tolist() == [0.0, 5.0, 8.0, 40.0, 45.0]
    assert w["cp_sections"].tolist() == [[]] * 5 and not w["on_critical_path"].any()


def test_orphans_at_depth_zero_and_in_progress_drawn_to_trace_end():
    # root a 10..50; orphan b (parent 9999… missing) 0..20 with a child c 5..8; d in progress from 30, no end
    spans = trace(
        [("a", None, 10, 50), ("b", "9" * 16, 0, 20), ("c", "b", 5, 8), ("d", "a", 30, None)],
    )
    w = tk.waterfall_data(spans)
    assert w["span_id"].str[0].tolist() == ["b", "c", "a", "d"]
    assert w["depth"].tolist() == [0, 1, 0, 1]
    assert w["orphan"].tolist() == [True, False, False, False]
    assert w["in_progress"].tolist() == [False, False, False, True]
    assert w["start_ms"].tolist() == [0.0, 5.0, 10.0, 30.0]
    assert w["end_ms"].tolist() == [20.0, 8.0, 50.0, 50.0]  # trace end = latest end
    assert "in progress" in w.loc[3, "hover"] and "parent span missing" in w.loc[0, "hover"]


def test_in_progress_flag_from_column_even_with_an_end():
    spans = trace([("a", None, 0, 50), ("b", "a", 10, 20)], in_progress=[False, True])
    w = tk.waterfall_data(spans)
    assert w["in_progress"].tolist() == [False, True]
    assert w["end_ms"].tolist() == [50.0, 50.0]


def test_parent_cycle_and_self_parent_still_show_every_span_once():
    spans = trace([("a", None, 0, 10), ("b", "c", 1, 2), ("c", "b", 3, 4), ("d", "d", 5, 6)])
    w = tk.waterfall_data(spans)
    # roots and orphans first (by start), then each parent cycle from its earliest span
    assert w["span_id"].str[0].tolist() == ["a", "d", "b", "c"]
    assert w["depth"].tolist() == [0, 0, 0, 1]
    assert w["orphan"].tolist() == [False, True, True, False]


def test_error_flags_and_hover_is_escaped():
    spans = trace(
        [("a", None, 0, 10), ("b", "a", 1, 5), ("c", "a", 6, 9)],
        status=["ok", "error", "ok"],
        fault=[False, False, True],
        name=["<script>alert(1)</script>", "b&b", "c"],
        service=['"svc"', "s", "s"],
        status_message=[None, "<boom>", None],
    )
    w = tk.waterfall_data(spans)
    assert w["is_error"].tolist() == [False, True, True]
    assert "<script>" not in w.loc[0, "hover"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in w.loc[0, "hover"]
    assert '"svc"' in w.loc[0, "hover"]  # as plotly.js draws it (it decodes no &quot;: review s37)
    assert "b&amp;b" in w.loc[1, "hover"] and "&lt;boom&gt;" in w.loc[1, "hover"]


def test_input_not_mutated_and_trace_selection():
    a = trace(JAEGER1)
    b = trace([("a", None, 0, 5)], tid="f" * 32)
    both = pd.concat([a, b], ignore_index=True)
    before = copy.deepcopy(both)
    cp = cp_frame(JAEGER1_CP)
    cp_before = cp.copy()
    w = tk.waterfall_data(both, TID, critical_path=cp, collapse=["c" * 16])
    pd.testing.assert_frame_equal(both, before)
    pd.testing.assert_frame_equal(cp, cp_before)
    assert len(w) == 1
    # X-Ray form of the id selects the same trace
    xray = tk.trace_id_to_xray("f" * 32)
    assert tk.waterfall_data(both, xray)["span_id"].tolist() == ["a" * 16]
    with pytest.raises(TraceKitError, match="2 traces"):
        tk.waterfall_data(both)
    with pytest.raises(TraceKitError, match="not in the spans"):
        tk.waterfall_data(both, "e" * 32)
    with pytest.raises(TraceKitError, match="missing columns: start, end"):
        tk.waterfall_data(both, TID, critical_path=cp[["span_id"]])
    with pytest.raises(TraceKitError, match="max_depth"):
        tk.waterfall_data(both, TID, max_depth=-1)


def test_critical_sections_of_other_spans_warn_and_are_ignored():
    cp = cp_frame([("c", 1, 101), ("7", 0, 1)])
    with pytest.warns(UserWarning, match="1 critical-path sections name spans not in the trace"):
        w = tk.waterfall_data(trace(JAEGER1), TID, critical_path=cp)
    assert w["cp_sections"].tolist()[0] == [(0.0, 100.0)]


def test_critical_path_true_uses_tk_critical_path():
    import tracekit.analysis.critical_paths  # noqa: F401
    w = tk.waterfall_data(trace(JAEGER1), TID, critical_path=True)
    assert w["cp_sections"].tolist() == [[(0.0, 19.0), (39.0, 49.0), (59.0, 100.0)], [(19.0, 39.0)], [(49.0, 59.0)]]


def test_nanosecond_offsets_are_exact():
    t0 = 1_661_145_617_085_456_942  # a real epoch-ns start (Nezha)
    spans = tk.spans_from_columns(
        {"trace_id": [TID] * 2, "span_id": ["a" * 16, "b" * 16], "parent_id": [None, "a" * 16],
         "service": ["s", "s"], "name": ["a", "b"], "start": [t0, t0 + 275_351], "end": [t0 + 6_150_523_389, t0 + 6_400_311]}
    )
    w = tk.waterfall_data(spans)
    assert w["start_ms"].tolist() == [0.0, 0.275351]
    assert w["duration_ms"].tolist() == [6150.523389, 6.12496]


# --- real public traces -------------------------------------------------------------------------------


def nezha_spans(path) -> pd.DataFrame:
    raw = pd.read_csv(path, dtype={"TraceID": str, "SpanID": str, "ParentID": str})
    return tk.spans_from_columns(
        {
            "trace_id": raw["TraceID"].str.lower(),
            "span_id": raw["SpanID"].str.lower(),
            "parent_id": raw["ParentID"].where(raw["ParentID"] != "root").str.lower(),
            "service": raw["PodName"].str.rsplit("-", n=2).str[0],
            "name": raw["OperationName"],
            "start": raw["StartTimeUnixNano"].astype("int64"),
            "end": raw["EndTimeUnixNano"].astype("int64"),
        }
    )


@pytest.mark.slow  # 2.4 s in the fast lane (2 loaded cores, issue 28)
def test_real_onlineboutique_traces_tree_invariants(real_traces):
    spans = nezha_spans(real_traces / "nezha/onlineboutique-2022-08-22/05_20_trace.csv")
    sizes = spans.groupby("trace_id").size().sort_values(ascending=False)
    for tid in sizes.index[:5]:
        t = spans[spans["trace_id"] == tid]
        w = tk.waterfall_data(spans, tid)
        assert len(w) == len(t) == sizes[tid]
        assert sorted(w["span_id"]) == sorted(t["span_id"])
        row = {s: i for i, s in enumerate(w["span_id"])}
        depth = w["depth"].to_numpy()
        for i, p in enumerate(w["parent_id"]):
            if pd.notna(p):  # parent shown earlier, one level up; its subtree is contiguous
                assert row[p] < i and depth[i] == depth[row[p]] + 1
            else:
                assert depth[i] == 0
        # siblings appear by start time
        for _, g in w.groupby(w["parent_id"].fillna("root"), sort=False):
            assert g["start_ms"].is_monotonic_increasing
        assert w["start_ms"].min() == 0.0
        exp_dur = (t["end"] - t["start"]).dt.total_seconds().mul(1e3).sort_values().to_numpy()
        np.testing.assert_allclose(np.sort(w["duration_ms"].to_numpy()), exp_dur, rtol=0, atol=1e-9)
        assert not w["orphan"].any() and not w["in_progress"].any()
        roots = w[w["depth"] == 0]
        c = tk.waterfall_data(spans, tid, max_depth=0)
        assert c["span_id"].tolist() == roots["span_id"].tolist()
        assert int(c["n_hidden"].sum()) == len(t) - len(roots)


def jaeger_ui_spans(path) -> pd.DataFrame:
    doc = json.loads(path.read_text())
    d = doc["data"][0] if "data" in doc else doc
    spans = d["spans"]
    procs = d.get("processes", {})
    return tk.spans_from_columns(
        {
            "trace_id": [s["traceID"].rjust(32, "0") for s in spans],
            "span_id": [s["spanID"] for s in spans],
            "parent_id": [s["references"][0]["spanID"] if s["references"] else None for s in spans],
            "service": [procs.get(s["processID"], {}).get("serviceName", s["processID"]) for s in spans],
            "name": [s["operationName"] for s in spans],
            "start": [s["startTime"] * 1000 for s in spans],
            "end": [(s["startTime"] + s["duration"]) * 1000 for s in spans],
        }
    )


def test_real_jaeger_ui_trace_with_child_after_parent_end(real_traces):
    path = real_traces / "jaeger-ui/tableValuesTestTrace/traceWithTwoNonOverlappingChildren.json"
    w = tk.waterfall_data(jaeger_ui_spans(path))
    # send 100..140 µs, "non-overlapping child" 110..120, "async task 2" 500..600 (after the parent ended)
    assert w["name"].tolist() == ["send", "non-overlapping child", "async task 2"]
    assert w["depth"].tolist() == [0, 1, 1]
    assert w["start_ms"].tolist() == [0.0, 0.01, 0.4]
    assert w["end_ms"].tolist() == [0.04, 0.02, 0.5]
