"""One rule for a repeated span id, in every module (session 42, spanids).

The span tree (:mod:`tracekit.core.tree`) decides which copy of a (trace_id, span_id) read twice *is* the span
(the complete copy, then the longest, ...); children link to it and analyses leave the other copies out. Modules that
mapped an id to its FIRST ROW answered by the order the rows were read in. Each frame here holds a span read twice
(10..30 and 10..90 ms, say); every public function is run on it in both row orders, and its answer must be the same
in both and the tree's: the answer on the frame with the later copies removed, or, where every row is shown (the
waterfall), the longer copy holding what the tree gives it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.core import span_rows, span_tree
from tracekit.errors import ArgumentError

MS, T0 = 1_000_000, 1_772_460_000_000_000_000
T1, T2, T3 = "1" * 32, "2" * 32, "3" * 32
A, B, C, D, E, F = ("a" * 16, "b" * 16, "c" * 16, "d" * 16, "e" * 16, "f" * 16)


def _spans(rows: list[tuple], reverse: bool, **extra: list) -> pd.DataFrame:
    """(trace, span, parent, service, name, kind, start ms, end ms) rows, read in order or reversed."""
    order = list(range(len(rows)))[::-1] if reverse else list(range(len(rows)))
    cols = ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end")
    d = {c: [rows[i][k] for i in order] for k, c in enumerate(cols)}
    d["start"] = [T0 + v * MS for v in d["start"]]
    d["end"] = [T0 + v * MS for v in d["end"]]
    for c, v in extra.items():
        d[c] = [v[i] for i in order]
    return tk.spans_from_columns(d)


def _kept(spans: pd.DataFrame) -> pd.DataFrame:
    """The frame as the tree reads it: the later copies of a span read twice left out."""
    return spans[~span_tree(spans).duplicate].reset_index(drop=True)


def _longer_copy_is_the_span(spans: pd.DataFrame, span_id: str, ms: float) -> None:
    """Truth by construction of the tree's rule: of the copies, the longer one is kept."""
    rows = spans[~span_tree(spans).duplicate & (spans["span_id"] == span_id).to_numpy()]
    assert rows["duration_ms"].tolist() == [ms]


# --- the frames -----------------------------------------------------------------------------------------------------

#: root 0..100 ms; its child P read twice, 10..30 and 10..90 ms (a leaf: the trace stays whole)
LEAF = [(T1, A, None, "api", "GET /", "server", 0, 100),
        (T1, B, A, "db", "q", "client", 10, 30),
        (T1, B, A, "db", "q", "client", 10, 90)]
#: the same with a child 40..80 ms under P: the child hangs on the tree's copy (the trace is a bad_trace: no path)
PARENT = LEAF + [(T1, C, B, "cache", "get", "client", 40, 80)]


def _waterfall(reverse: bool):
    spans = _spans(LEAF, reverse)
    _longer_copy_is_the_span(spans, B, 80.0)
    w = tk.waterfall_data(spans, critical_path=True)
    # the 80 ms copy holds P's critical-path section 10..90 (it held it, or the 20 ms copy did, by row order)
    got = sorted((r.span_id, r.duration_ms, r.cp_ms, tuple(r.cp_sections)) for r in w.itertuples())
    assert got == [(A, 100.0, 20.0, ((0.0, 10.0), (90.0, 100.0))), (B, 20.0, 0.0, ()), (B, 80.0, 80.0, ((10.0, 90.0),))]
    wp = tk.waterfall_data(_spans(PARENT, reverse))
    c = int(np.flatnonzero(wp["span_id"].to_numpy(dtype=object) == C)[0])
    above = wp.iloc[:c]
    parent_row = int(np.flatnonzero((above["depth"] == wp.loc[c, "depth"] - 1).to_numpy())[-1])
    assert wp.loc[parent_row, "duration_ms"] == 80.0  # C drawn under the 80 ms copy, the tree's
    return got, wp[["span_id", "depth", "duration_ms"]].values.tolist().count([C, 2, 40.0])


def _waterfall_gl(reverse: bool):
    from tracekit.plotting.gl import decode, waterfall_columns

    w = tk.waterfall_data(_spans(PARENT, reverse))
    parent = decode(waterfall_columns(w)["parent"], "int32")
    c = int(np.flatnonzero(w["span_id"].to_numpy(dtype=object) == C)[0])
    assert w.loc[int(parent[c]), "duration_ms"] == 80.0  # the canvas hangs C where waterfall_data drew it
    return sorted(w.loc[int(parent[i]), "duration_ms"] if parent[i] >= 0 else -1.0 for i in range(len(w)))


def _attach_logs(reverse: bool):
    spans = _spans(LEAF, reverse)
    logs = tk.logs_from_columns({"time": [T0 + 20 * MS], "body": ["boom"], "trace_id": [T1], "span_id": [B],
                                 "severity_text": ["ERROR"]})
    from tracekit.analysis.logs import log_span_rows

    row, _, reason = log_span_rows(spans, logs)
    assert row.tolist() == [int(np.flatnonzero(~span_tree(spans).duplicate & (spans["span_id"] == B).to_numpy())[0])]
    got = tk.attach_logs(spans, logs).spans
    on = got[got["log_records"].to_numpy() > 0]
    assert on["duration_ms"].tolist() == [80.0]  # on the copy the analyses keep (it went to the first row)
    return on[["span_id", "duration_ms"]].values.tolist(), reason.tolist()


def _span_details(reverse: bool):
    from tracekit.widgets import ExplorerState

    spans = _spans(LEAF, reverse)
    logs = tk.logs_from_columns({"time": [T0 + 20 * MS], "body": ["boom"], "trace_id": [T1], "span_id": [B],
                                 "severity_text": ["ERROR"]})
    d = ExplorerState.from_spans(tk.attach_logs(spans, logs).spans).select_trace(T1).select_span(B).span_details()
    # selected by id: the 80 ms copy, holding the record (the first row's copy was shown, by row order)
    assert (d["header"]["duration_ms"], [g["body"] for g in d["logs"]]) == (80.0, ["boom"])
    return d["header"], d["logs"]


def _exemplars(reverse: bool):
    rows = [(T1, A, None, "api", "GET /a", "server", 0, 50), (T1, A, None, "api", "GET /b", "server", 0, 100),
            (T1, B, A, "db", "q", "client", 10, 20)]
    spans = _spans(rows, reverse)
    _longer_copy_is_the_span(spans, A, 100.0)
    ex = tk.exemplars(spans, _kept(spans))
    # the request kind is the tree's root's; the trace read once is its twin at distance 0 (a copy is no operation)
    assert (ex.key, ex.distance) == ("api:GET /b", 0.0)
    return ex.key, ex.distance, ex.request_ms


def _cold_starts(reverse: bool):
    from tracekit.analysis.attribution import lambda_invocations

    rows = [(T1, A, None, "fn", "fn", "server", 0, 320), (T1, B, A, "fn", "Initialization", "internal", 0, 100),
            (T1, B, A, "fn", "Initialization", "internal", 0, 300), (T1, C, A, "fn", "work", "internal", 300, 320)]
    attrs = [{"origin": "AWS::Lambda::Function"}, {}, {}, {}]
    spans = _spans(rows, reverse, attributes=attrs)
    _longer_copy_is_the_span(spans, B, 300.0)
    inv = lambda_invocations(spans)[["span_id", "cold", "init_ms"]].values.tolist()
    cs = tk.cold_starts(spans, n_boot=0)[["init_p50_ms", "cp_added_ms"]].values.tolist()
    kept = _kept(spans)
    # one Initialization span of 300 ms (was 400: both copies summed), on the path 300 ms (was 100 or 300 by order)
    assert inv == [[A, True, 300.0]] == lambda_invocations(kept)[["span_id", "cold", "init_ms"]].values.tolist()
    assert cs == [[300.0, 300.0]] == tk.cold_starts(kept, n_boot=0)[["init_p50_ms", "cp_added_ms"]].values.tolist()
    return inv, cs


def _reconnect(reverse: bool):
    rows = [(T1, A, None, "web", "GET /", "server", 0, 200),
            (T1, B, A, "web", "POST /pay", "client", 10, 70),
            (T2, C, None, "pay", "POST /pay", "server", 20, 60),   # a new root read twice: the tree keeps 20..140,
            (T2, C, None, "pay", "POST /pay", "server", 20, 140),  # which outlives the client by 70 ms: no pair
            (T3, E, None, "x", "root", "server", 0, 300),
            (T3, F, E, "y", "call", "client", 25, 45),
            (T3, D, "9" * 16, "z", "orph", "server", 30, 40),      # an orphan read twice: the tree keeps 30..190,
            (T3, D, "9" * 16, "z", "orph", "server", 30, 190)]     # which only E (0..300) encloses
    spans = _spans(rows, reverse)
    _longer_copy_is_the_span(spans, C, 120.0)
    _longer_copy_is_the_span(spans, D, 160.0)
    cols = ["case", "client_span_id", "root_span_id", "caller_span_id", "score", "gap_ms"]
    got = tk.reconnect(spans)[cols].values.tolist()
    assert got == tk.reconnect(_kept(spans))[cols].values.tolist() == [["missing_parent", "9" * 16, D, E, 1.0, 30.0]]
    return got


def _workflows(reverse: bool):
    rows = [(T1, B, None, "web", "orders publish", "producer", 10, 20),
            (T1, B, None, "web", "orders publish", "producer", 10, 50),
            (T2, C, None, "worker", "orders process", "consumer", 60, 150)]
    links = [[], [], [{"trace_id": T1, "span_id": B}]]
    spans = _spans(rows, reverse, links=links)
    _longer_copy_is_the_span(spans, B, 40.0)
    kept = _kept(spans)
    hops = tk.stitch(spans).hops[["producer_span_id", "consumer_span_id", "queue_wait_ms"]].values.tolist()
    summ = tk.workflow_summary(spans)[["end_to_end_ms", "queue_ms", "queue_waits_ms"]].values.tolist()
    path = tk.workflow_critical_path(spans)[["span_id", "start", "duration_ms"]].values.tolist()
    # the message waited 50..60 ms (from the end of the copy the tree keeps, and the path holds, 10..50)
    assert hops == [[B, C, 10.0]] == tk.stitch(kept).hops[["producer_span_id", "consumer_span_id", "queue_wait_ms"]].values.tolist()
    assert summ == tk.workflow_summary(kept)[["end_to_end_ms", "queue_ms", "queue_waits_ms"]].values.tolist()
    assert path == tk.workflow_critical_path(kept)[["span_id", "start", "duration_ms"]].values.tolist()
    assert [d for _, _, d in path] == [40.0, 10.0, 90.0]
    return hops, summ, path


def _outcomes(reverse: bool):
    from tracekit.analysis.sampling.traces import trace_table
    from tracekit.core import trace_outcomes

    # a rootless trace whose fragment head is read twice, both copies starting at 10 ms: the tree keeps 10..90 (error)
    rows = [(T1, B, "9" * 16, "db", "q-short", "client", 10, 30), (T1, B, "9" * 16, "db", "q-long", "client", 10, 90)]
    spans = _spans(rows, reverse, status=["ok", "error"])
    _longer_copy_is_the_span(spans, B, 80.0)
    cols = ["root_name", "failed", "extent_ms"]
    got = trace_outcomes(spans)[cols].values.tolist()
    assert got == trace_outcomes(_kept(spans))[cols].values.tolist() == [["q-long", True, 80.0]]
    tt = trace_table(spans)[["name", "failed"]].values.tolist()
    assert tt == trace_table(_kept(spans))[["name", "failed"]].values.tolist() == [["q-long", True]]
    return got, tt


def _trace_summary(reverse: bool):
    # P read twice: 10..90 ms, and 20 ms exported again 30 min later (the tree keeps the 80 ms copy)
    rows = LEAF[:1] + [(T1, B, A, "db", "q", "client", 10, 90), (T1, B, A, "db", "q", "client", 1_800_000, 1_800_020)]
    spans = _spans(rows, reverse)
    _longer_copy_is_the_span(spans, B, 80.0)
    t = tk.trace_summary(spans)
    # end is the last end of the spans extent_ms spans (it was the later copy's: 30 min after a 100 ms trace)
    got = [(t["end"] - t["start"]).dt.total_seconds().mul(1000).round(6).tolist(), t["extent_ms"].tolist()]
    k = tk.trace_summary(_kept(spans))
    assert got == [[100.0], [100.0]] and t["end"].tolist() == k["end"].tolist()
    return got


def _timeline(reverse: bool):
    spans = _spans(LEAF, reverse)
    _longer_copy_is_the_span(spans, B, 80.0)
    got = tk.timeline(spans, by="service")[["service", "requests", "p50_ms"]].values.tolist()
    # db served one request of 80 ms (it read 2 requests, p50 20 ms: each copy a request)
    assert got == tk.timeline(_kept(spans), by="service")[["service", "requests", "p50_ms"]].values.tolist() \
        == [["api", 1.0, 100.0], ["db", 1.0, 80.0]]
    return got


def _deployments(reverse: bool):
    # the root of version 1.0 read twice: 0..100 ms, and 0..20 ms exported again 30 min later (the tree keeps 0..100)
    rows = [(T1, A, None, "api", "GET /", "server", 0, 100), (T1, A, None, "api", "GET /", "server", 1_800_000, 1_800_020)]
    spans = _spans(rows, reverse, resource=[{"service.version": "1.0"}] * 2)
    _longer_copy_is_the_span(spans, A, 100.0)
    cols = ["version", "first_seen", "last_seen", "spans"]
    got = tk.deployments(spans)[cols].values.tolist()
    # one span of 1.0, seen at T0 (it counted 2 spans, last seen 30 min later)
    assert got == tk.deployments(_kept(spans))[cols].values.tolist() \
        == [["1.0", pd.Timestamp(T0, tz="UTC"), pd.Timestamp(T0, tz="UTC"), 1]]
    return got


CHECKS = {"deployments": _deployments, "timeline": _timeline, "trace_outcomes": _outcomes, "trace_summary": _trace_summary, "waterfall_data": _waterfall, "waterfall_columns": _waterfall_gl, "attach_logs": _attach_logs,
          "span_details": _span_details,
          "exemplars": _exemplars, "cold_starts": _cold_starts, "reconnect": _reconnect, "workflows": _workflows}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_modules_take_the_trees_copy_of_a_span_read_twice_in_either_row_order(name):
    """Each function's answer is the tree's (asserted inside) and the same when the rows are read in reverse."""
    check = CHECKS[name]
    assert check(False) == check(True)


def test_span_rows_is_the_trees_copy_whatever_the_order_and_the_id_form():
    """The kernel lookup: the kept copy of a repeated id (hex ids through the decoded path, other ids through the
    index), -1 for an id not there or missing; a length mismatch is an ArgumentError."""
    for tid, rid, sid in ((T1, A, B), ("trace-one", "span-r", "span-b")):  # canonical hex, and ids that are no hex
        rows = [(tid, rid, None, "api", "GET /", "server", 0, 100), (tid, sid, rid, "db", "q", "client", 10, 30),
                (tid, sid, rid, "db", "q", "client", 10, 90)]
        for reverse in (False, True):
            spans = _spans(rows, reverse)
            got = span_rows(spans, [tid, tid, tid, None], [sid, "zz", None, sid])
            assert got[1:].tolist() == [-1, -1, -1]
            assert spans["duration_ms"].iloc[got[0]] == 80.0
    with pytest.raises(ArgumentError, match="2 trace ids but 1 span ids"):
        span_rows(_spans(LEAF, False), [T1, T1], [B])
