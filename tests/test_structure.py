"""trace_summary, self_time and span_tree on literal spans (times in ms on a timeline)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.analysis.structure import span_tree


def tid(t) -> str:
    return f"{t:032x}" if isinstance(t, int) else t


def sid(s) -> str | None:
    if s is None:
        return None
    return f"{s:016x}" if isinstance(s, int) else s


def mk(rows, **extra) -> pd.DataFrame:
    """Spans from compact tuples (trace, span, parent, service, name, kind, start_ms, end_ms).

    Ids are small ints turned into hex; end_ms None means in progress. ``extra`` gives more
    columns as lists (e.g. attributes=[...]).
    """
    cols = {
        "trace_id": [tid(r[0]) for r in rows],
        "span_id": [sid(r[1]) for r in rows],
        "parent_id": [sid(r[2]) for r in rows],
        "service": [r[3] for r in rows],
        "name": [r[4] for r in rows],
        "kind": [r[5] for r in rows],
        "start": [int(round(r[6] * 1_000_000)) for r in rows],
        "end": [None if r[7] is None else int(round(r[7] * 1_000_000)) for r in rows],
    }
    cols.update(extra)
    if "in_progress" not in cols:
        cols["in_progress"] = [r[7] is None for r in rows]
    return tk.spans_from_columns(cols)


def snapshot(df: pd.DataFrame) -> pd.DataFrame:
    return df.copy(deep=True)


# ---------------------------------------------------------------------------------- self_time


def test_self_time_sweep_not_sum():
    # root  0 |==========================| 100
    # a       10 |=====| 40
    # b             20 |=====| 50
    # c                          70 |==| 80
    spans = mk(
        [
            (1, 1, None, "api", "root", "server", 0, 100),
            (1, 2, 1, "db", "a", "client", 10, 40),
            (1, 3, 1, "db", "b", "client", 20, 50),
            (1, 4, 1, "db", "c", "client", 70, 80),
        ]
    )
    before = snapshot(spans)
    out = tk.self_time(spans)
    assert out["self_ms"].tolist() == [100 - 40 - 10, 30.0, 30.0, 10.0]
    pd.testing.assert_frame_equal(spans, before)
    assert "self_ms" not in spans.columns


def test_self_time_clips_children_to_parent_and_nests():
    # p  10 |=========| 20
    # c1   5|====| 13          (starts before parent)
    # c2          18 |=====| 30 (ends after parent)
    # g (child of c2)  19|=| 22
    spans = mk(
        [
            (1, 1, None, "api", "p", "server", 10, 20),
            (1, 2, 1, "api", "c1", "internal", 5, 13),
            (1, 3, 1, "api", "c2", "internal", 18, 30),
            (1, 4, 3, "api", "g", "internal", 19, 22),
        ]
    )
    out = tk.self_time(spans)
    assert out["self_ms"].tolist() == pytest.approx([10 - 3 - 2, 8.0, 12 - 3, 3.0])


def test_self_time_contained_and_identical_children():
    # children [2,8] and [3,5] (inside) and [2,8] again (identical): union 6
    spans = mk(
        [
            (1, 1, None, "api", "p", "server", 0, 10),
            (1, 2, 1, "api", "a", "internal", 2, 8),
            (1, 3, 1, "api", "b", "internal", 3, 5),
            (1, 4, 1, "api", "c", "internal", 2, 8),
        ]
    )
    assert tk.self_time(spans)["self_ms"].tolist() == [4.0, 6.0, 2.0, 6.0]


def test_self_time_in_progress_and_inferred():
    # in-progress parent → NaN; in-progress child counts up to its parent's end.
    # X-Ray: subsegment 3 (DynamoDB call) has an inferred segment 4 with the same interval:
    # the subsegment's self time is 0, the inferred segment carries the wait.
    spans = mk(
        [
            (1, 1, None, "api", "p", "server", 0, None),
            (1, 2, 1, "api", "c", "internal", 1, 2),
            (2, 1, None, "api", "p", "server", 0, 10),
            (2, 2, 1, "api", "c", "internal", 6, None),
            (3, 1, None, "scorekeep", "GET", "server", 0, 50),
            (3, 3, 1, "scorekeep", "DynamoDB", "client", 10, 30),
            (3, 4, 3, "DynamoDB", "DynamoDB", "server", 10, 30),
        ],
        inferred=[False] * 6 + [True],
    )
    out = tk.self_time(spans)["self_ms"].tolist()
    assert np.isnan(out[0]) and out[1] == 1.0
    assert out[2] == 6.0 and np.isnan(out[3])
    assert out[4:] == [30.0, 0.0, 20.0]


def test_self_time_zero_timestamp_is_a_time_and_duplicates_link_to_the_copy_that_counts():
    # start 0 ns is a valid time (epoch), never "missing"; g links to the copy of span 2 that counts, whatever the row
    # order (core.tree: the complete, longest copy, c-dup 0..3: self 3 - 0.5); c keeps its own 1 ms (it was the first
    # row's: c 0.5, c-dup 3.0, and the reverse with the rows reversed)
    spans = mk(
        [
            (1, 1, None, "api", "p", "server", 0, 4),
            (1, 2, 1, "api", "c", "internal", 0, 1),
            (1, 2, 1, "api", "c-dup", "internal", 0, 3),
            (1, 5, 2, "api", "g", "internal", 0.5, 1),
        ]
    )
    out = tk.self_time(spans)["self_ms"].tolist()
    assert out == [1.0, 1.0, 2.5, 0.5]
    assert tk.self_time(spans.iloc[[0, 2, 1, 3]])["self_ms"].tolist() == [1.0, 2.5, 1.0, 0.5]


def test_self_time_empty_and_bad_input():
    assert tk.self_time(tk.empty_spans())["self_ms"].tolist() == []
    with pytest.raises(tk.TraceKitError, match="missing columns: start"):
        tk.self_time(pd.DataFrame({"trace_id": [], "span_id": [], "parent_id": [], "end": []}))


def test_missing_trace_or_span_id_is_a_clear_error():
    # a <NA> trace_id got trace code -1: a bare numpy ValueError from bincount in trace_summary
    spans = tk.spans_from_columns({"trace_id": ["0" * 31 + "1", None], "span_id": ["a" * 16, "b" * 16],
                                   "service": ["api"] * 2, "name": ["x"] * 2, "start": [0, 0], "end": [1, 1]})
    for f in (tk.trace_summary, tk.self_time, tk.health_report):
        with pytest.raises(tk.TraceKitError, match="1 span.* no trace_id .*row 1"):
            f(spans)
    spans2 = spans.assign(trace_id=spans["trace_id"].fillna("0" * 31 + "1"), span_id=pd.array([None, "b" * 16], dtype="string[pyarrow]"))
    with pytest.raises(tk.TraceKitError, match="no span_id .*row 0"):
        tk.trace_summary(spans2)


# ---------------------------------------------------------------------------------- span_tree


def test_span_tree_depth_orphans_duplicates_cycles():
    spans = mk(
        [
            (1, 1, None, "a", "r", "server", 0, 9),
            (1, 2, 1, "a", "x", "internal", 1, 2),
            (1, 3, 2, "a", "y", "internal", 1, 2),
            (1, 4, 3, "a", "z", "internal", 1, 2),
            (1, 3, 2, "a", "y2", "internal", 1, 2),  # duplicate id 3
            (2, 7, 9, "b", "o", "server", 0, 1),  # orphan: 9 not in trace 2
            (2, 8, 7, "b", "oc", "internal", 0, 1),
            (3, 5, 6, "c", "cy1", "internal", 0, 1),  # cycle 5 -> 6 -> 5
            (3, 6, 5, "c", "cy2", "internal", 0, 1),
            (4, 1, 2, "d", "other-trace", "server", 0, 1),  # ids of trace 1, parent 2 NOT in trace 4
        ]
    )
    t = span_tree(spans)
    assert t.depth.tolist() == [0, 1, 2, 3, 2, 0, 1, -1, -1, 0]
    assert t.orphan.tolist() == [False] * 5 + [True, False, False, False, True]
    assert t.duplicate.tolist() == [False] * 4 + [True] + [False] * 5
    assert t.parent.tolist() == [-1, 0, 1, 2, 1, -1, 5, 8, 7, -1]


# ------------------------------------------------------------------------------ trace_summary


def test_trace_summary_values():
    spans = mk(
        [
            (1, 1, None, "web", "GET /", "server", 0, 100),
            (1, 2, 1, "web", "call", "client", 10, 60),
            (1, 3, 2, "cart", "GetCart", "server", 12, 58),
            (2, 5, None, "web", "GET /b", "server", 1000, None),  # in progress
            (2, 6, 5, "db", "q", "client", 1001, 1003),
            (2, 7, 99, "db", "lost", "server", 999, 1004),  # orphan, starts before root
            (3, 1, None, "a", "r1", "server", 5, 6),
            (3, 2, None, "a", "r2", "server", 4, 8),  # two roots; r2 earliest
        ],
        status=["ok", "ok", "error", "ok", "ok", "ok", "ok", "ok"],
        fault=[False, False, True, False, False, False, False, False],
    )
    before = snapshot(spans)
    s = tk.trace_summary(spans)
    pd.testing.assert_frame_equal(spans, before)
    assert s["trace_id"].tolist() == [tid(1), tid(2), tid(3)]
    assert s["root_service"].tolist() == ["web", "web", "a"]
    assert s["root_name"].tolist() == ["GET /", "GET /b", "r2"]
    # request latency is the request root's duration (NaN while it is in progress); extent spans every span
    assert s["request_ms"].tolist()[::2] == [100.0, 4.0] and np.isnan(s["request_ms"].iloc[1])
    assert s["extent_ms"].tolist() == [100.0, 5.0, 4.0]
    # the request starts with its root, not with the orphan that started 1 ms earlier
    assert s["start"].tolist()[1] == pd.Timestamp(1_000_000_000, unit="ns", tz="UTC")
    # the fault is in a child: the request itself did not fail, one span did
    assert s["failed"].tolist() == [False, False, False]
    assert s["failed_spans"].tolist() == [1, 0, 0]
    assert s["n_spans"].tolist() == [3, 3, 2]
    assert s["n_services"].tolist() == [2, 2, 1]
    assert s["client_error"].tolist() == [False, False, False] and s["throttled"].tolist() == [False, False, False]
    assert s["in_progress"].tolist() == [False, True, False]
    assert s["n_roots"].tolist() == [1, 1, 2]
    assert s["n_orphans"].tolist() == [0, 1, 0]
    assert s["partial"].tolist() == [False, True, True]
    assert s["max_depth"].tolist() == [2, 1, 0]


def test_trace_summary_trace_with_only_in_progress_spans_and_empty():
    spans = mk([(1, 1, None, "a", "r", "server", 0, None)])
    s = tk.trace_summary(spans)
    assert np.isnan(s["extent_ms"].iloc[0]) and np.isnan(s["request_ms"].iloc[0]) and pd.isna(s["end"].iloc[0])
    assert len(tk.trace_summary(tk.empty_spans())) == 0


# ------------------------------------------------------------------------------ real data


def test_real_xray_inferred_segment_self_time(real_traces):
    spans = tk.read_xray(real_traces / "aws-cli-examples-xray/batch-traces-get.rst.output.json")
    out = tk.self_time(spans).set_index("span_id")
    # Scorekeep segment 232 ms with a 6 ms DynamoDB subsegment, whose inferred segment repeats the interval
    assert out.loc["54aff5735b12dd28", "self_ms"] == 226.0
    assert out.loc["2d6900034ccfe558", "self_ms"] == 0.0  # the calling subsegment
    assert out.loc["0f278b6334c34e6b", "self_ms"] == 6.0  # the inferred DynamoDB segment
    assert bool(out.loc["0f278b6334c34e6b", "inferred"])


def test_real_xray_trace_summary(real_traces):
    spans = tk.read_xray(real_traces / "aws-xray-developer-guide/xray-api-gettingdata.md.BatchGetTraces-output.json")
    s = tk.trace_summary(spans).iloc[0]
    assert s["trace_id"] == "5960260323fc5b688855d396af79b496"
    assert (s["root_service"], s["extent_ms"], s["n_spans"], s["n_services"], s["max_depth"]) == ("Scorekeep", 3232.0, 11, 4, 5)
    assert (s["n_roots"], s["n_orphans"], bool(s["partial"])) == (1, 0, False)
    ip = tk.trace_summary(tk.read_xray(real_traces / "otel-contrib-awsxray-testdata/minInProgress.txt")).iloc[0]
    assert bool(ip["in_progress"]) and bool(ip["partial"]) and np.isnan(ip["extent_ms"]) and np.isnan(ip["request_ms"])
