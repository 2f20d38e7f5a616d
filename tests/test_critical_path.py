"""Critical path: Jaeger UI's nine reference cases, the parameters, property tests, real data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tracekit as tk
from tracekit.analysis.critical_paths import CriticalPathFailure, critical_path, critical_path_breakdown

US = 1_000  # Jaeger UI times are µs; ours are ns
MS = 1_000_000
TID = "0" * 31 + "1"


def sid(letter: str) -> str:
    """16-hex id for a one-letter span name (case-sensitive, as in Jaeger's test4)."""
    return f"{ord(letter):016x}"


def trace(rows, unit=US, trace_id=TID):
    """rows: (id, start, duration, parent, kind[, service]) in `unit`; end = start + duration."""
    cols = {"trace_id": [], "span_id": [], "parent_id": [], "service": [], "name": [], "kind": [], "start": [], "end": []}
    for r in rows:
        i, s, d, p, k = r[:5]
        cols["trace_id"].append(trace_id)
        cols["span_id"].append(sid(i))
        cols["parent_id"].append(sid(p) if p else None)
        cols["service"].append(r[5] if len(r) > 5 else "svc")
        cols["name"].append(f"op-{i}")
        cols["kind"].append(k or "unspecified")
        cols["start"].append(s * unit)
        cols["end"].append(None if d is None else (s + d) * unit)
    return tk.spans_from_columns(cols)


def sections(cp, unit=US):
    """Jaeger's order: from the trace end back to its start."""
    out = [(chr(int(r.span_id, 16)), int(r.start.value // unit), int(r.end.value // unit)) for r in cp.itertuples()]
    return out[::-1]


# ------------------------------------------------------------------ the nine Jaeger UI cases
# Times in µs. Each timeline: one column = 10 µs.

JAEGER_CASES = {
    # C |----------|   1..101
    # D   |-|          20..40
    # E      |-|       50..60
    "test1": ([("E", 50, 10, "C", None), ("C", 1, 100, None, None), ("D", 20, 20, "C", None)],
              [("C", 60, 101), ("E", 50, 60), ("C", 40, 50), ("D", 20, 40), ("C", 1, 20)]),
    # X |----------|   1..101
    # A  |---|         10..50
    # C   |---|        20..60
    "test2": ([("X", 1, 100, None, None), ("A", 10, 40, "X", None), ("C", 20, 40, "X", None)],
              [("X", 60, 101), ("C", 20, 60), ("X", 1, 20)]),
    # P |---|           100..140 (producer)
    # Q       |------|  200..500 starts after parent end: dropped
    "test3": ([("P", 100, 40, None, "producer", "service-one"), ("Q", 200, 300, "P", "client", "service-two")],
              [("P", 100, 140)]),
    # A |--|       1..31
    # B     |---|  40..80 dropped, with its child c
    # c      |-|   50..60
    "test4": ([("A", 1, 30, None, None), ("B", 40, 40, "A", None), ("c", 50, 10, "B", None)],
              [("A", 1, 31)]),
    # A |---|  1..31 producer
    # B  |-|   10..20 consumer: non-blocking, pruned with C
    # C  ||    12..14
    "test5": ([("A", 1, 30, None, "producer"), ("B", 10, 10, "A", "consumer"), ("C", 12, 2, "B", None)],
              [("A", 1, 31)]),
    # A |--|     1..30
    # B   |--|   15..35 clipped to 30
    # C  |-|     10..25 clipped to start 15
    "test6": ([("A", 1, 29, None, None), ("B", 15, 20, "A", None), ("C", 10, 15, "B", None)],
              [("B", 25, 30), ("C", 15, 25), ("A", 1, 15)]),
    # A |--|     1..30
    # B   |--|   15..35 -> 15..30
    # C    |--|  20..40 -> 20..30
    "test7": ([("A", 1, 29, None, None), ("B", 15, 20, "A", None), ("C", 20, 20, "B", None)],
              [("C", 20, 30), ("B", 15, 20), ("A", 1, 15)]),
    # A  |--|   10..30
    # B |---|   5..35 covers the parent: clipped to 10..30
    "test8": ([("A", 10, 20, None, None), ("B", 5, 30, "A", None)],
              [("B", 10, 30)]),
    # A  |--|  10..30
    # B ||     1..5 entirely before: dropped
    "test9": ([("A", 10, 20, None, None), ("B", 1, 4, "A", None)],
              [("A", 10, 30)]),
}


@pytest.mark.parametrize("adjacent", [True, False])
@pytest.mark.parametrize("case", sorted(JAEGER_CASES))
def test_jaeger_reference_cases(case, adjacent):
    rows, expected = JAEGER_CASES[case]
    spans = trace(rows)
    before = spans.copy(deep=True)
    cp = critical_path(spans, adjacent_sequential=adjacent)
    assert sections(cp) == expected
    assert cp.attrs["failures"] == ()
    pd.testing.assert_frame_equal(spans, before)  # never mutates its input


def test_test5_without_pruning_walks_the_consumer():
    spans = trace(JAEGER_CASES["test5"][0])
    cp = critical_path(spans, nonblocking=None)
    assert sections(cp) == [("A", 20, 31), ("B", 14, 20), ("C", 12, 14), ("B", 10, 12), ("A", 1, 10)]


def test_output_columns_and_values():
    spans = trace(JAEGER_CASES["test1"][0])
    cp = critical_path(spans)
    assert list(cp.columns) == ["trace_id", "span_id", "service", "name", "kind", "start", "end", "duration_ms",
                                "section_index", "depth", "root_span_id", "request", "call_path", "in_progress", "inferred"]
    assert cp["section_index"].tolist() == [0, 1, 2, 3, 4]
    assert cp["duration_ms"].tolist() == [0.019, 0.02, 0.01, 0.01, 0.041]
    assert cp["depth"].tolist() == [0, 1, 0, 1, 0]
    assert cp["call_path"].tolist()[:2] == ["svc:op-C", "svc:op-C > svc:op-D"]
    assert set(cp["root_span_id"]) == {sid("C")}
    assert str(cp["start"].dtype) == "datetime64[ns, UTC]"


def test_time_zero_is_a_time():
    # root starts at 0 (the epoch) exactly; a child ending at 0 -> dropped (ends at/before parent start), not
    # "missing" (a time before the epoch is refused by spans_from_columns, as by every reader)
    spans = trace([("A", 0, 30, None, None), ("B", 0, 10, "A", None), ("C", 0, 0, "A", None)], unit=1)
    assert sections(critical_path(spans), unit=1) == [("A", 10, 30), ("B", 0, 10)]


# ------------------------------------------------------------------ parameters
# A |----------|  0..100
# B  |---|        10..50
# C      |---|    50..90   (B ends exactly when C starts)
ADJ = [("A", 0, 100, None, None), ("B", 10, 40, "A", None), ("C", 50, 40, "A", None)]


def test_adjacency_jaeger_strict_is_not_sequential():
    got = sections(critical_path(trace(ADJ), adjacent_sequential=False))
    assert got == [("A", 90, 100), ("C", 50, 90), ("A", 0, 50)]


def test_adjacency_sequential_by_default():
    want = [("A", 90, 100), ("C", 50, 90), ("B", 10, 50), ("A", 0, 10)]
    assert sections(critical_path(trace(ADJ))) == want
    assert critical_path(trace(ADJ)).attrs["params"]["adjacent_sequential"] is True


def test_overlap_tolerance_crisp():
    # A |----------|   0..100
    # B  |----|        10..55   overlaps C by 5 = 5 % of the parent
    # C      |---|     50..90
    rows = [("A", 0, 100, None, None), ("B", 10, 45, "A", None), ("C", 50, 40, "A", None)]
    assert sections(critical_path(trace(rows))) == [("A", 90, 100), ("C", 50, 90), ("A", 0, 50)]
    assert sections(critical_path(trace(rows), overlap_tolerance=0.01)) == [("A", 90, 100), ("C", 50, 90), ("A", 0, 50)]
    # with 6 % tolerance B counts as before C; its section is cut where C starts
    assert sections(critical_path(trace(rows), overlap_tolerance=0.06)) == [("A", 90, 100), ("C", 50, 90), ("B", 10, 50), ("A", 0, 10)]


def test_surrounding_child_drop():
    spans = trace(JAEGER_CASES["test8"][0])
    assert sections(critical_path(spans, surrounding="drop")) == [("A", 10, 30)]


def test_nonblocking_consumer_and_links():
    # A |------|  0..60 (client, not producer)
    # B  |--|     10..40 consumer
    rows = [("A", 0, 60, None, "client"), ("B", 10, 30, "A", "consumer")]
    assert sections(critical_path(trace(rows))) == [("A", 40, 60), ("B", 10, 40), ("A", 0, 10)]
    assert sections(critical_path(trace(rows), nonblocking="consumer")) == [("A", 0, 60)]
    spans = trace([("A", 0, 60, None, None), ("B", 10, 30, "A", None)])
    spans.at[1, "links"] = [{"trace_id": TID, "span_id": sid("A"), "trace_state": None, "flags": None, "attributes": {}}]
    assert sections(critical_path(spans)) == [("A", 40, 60), ("B", 10, 40), ("A", 0, 10)]
    assert sections(critical_path(spans, nonblocking="links")) == [("A", 0, 60)]


def test_bad_parameters_raise():
    spans = trace(ADJ)
    for kw in ({"surrounding": "x"}, {"in_progress": "x"}, {"inferred": "x"}, {"nonblocking": "x"}, {"overlap_tolerance": 1.5}):
        with pytest.raises(tk.TraceKitError):
            critical_path(spans, **kw)
    with pytest.raises(tk.TraceKitError, match="missing columns: kind"):
        critical_path(spans.drop(columns="kind"))


# ------------------------------------------------------------------ in-progress and inferred
def test_in_progress_child_extends_to_parent_end():
    # A |--------|   0..80
    # B   |-- ...    20..NaT (in progress) -> taken as 20..80
    spans = trace([("A", 0, 80, None, None), ("B", 20, None, "A", None)])
    spans["in_progress"] = [False, True]
    cp = critical_path(spans)
    assert sections(cp) == [("B", 20, 80), ("A", 0, 20)]
    assert cp["in_progress"].tolist() == [False, True]
    assert sections(critical_path(spans, in_progress="drop")) == [("A", 0, 80)]


def test_in_progress_root_runs_to_latest_time_seen():
    # A |-- ...   0..NaT -> 0..70 (latest end in the trace)
    # B  |----|   10..70
    spans = trace([("A", 0, None, None, None), ("B", 10, 60, "A", None)])
    assert sections(critical_path(spans)) == [("B", 10, 70), ("A", 0, 10)]
    cp = critical_path(spans, in_progress="drop")
    assert len(cp) == 0
    assert [f.reason for f in cp.attrs["failures"]] == ["root span is in progress (end is NaT) and in_progress='drop'"]


def test_xray_inferred_segment_takes_its_subsegments_time():
    # api segment   |--------|  0..100
    # DynamoDB sub     |--|     20..50 (client)
    # DynamoDB inf.    |--|     20..50 (inferred segment, same interval)
    spans = trace([("S", 0, 100, None, "server", "api"), ("D", 20, 30, "S", "client", "api"),
                   ("I", 20, 30, "D", "server", "DynamoDB")])
    spans["inferred"] = [False, False, True]
    cp = critical_path(spans)
    assert sections(cp) == [("S", 50, 100), ("I", 20, 50), ("S", 0, 20)]
    assert cp["service"].tolist() == ["api", "DynamoDB", "api"]
    assert cp["inferred"].tolist() == [False, True, False]
    assert sections(critical_path(spans, inferred="drop")) == [("S", 50, 100), ("D", 20, 50), ("S", 0, 20)]


# ------------------------------------------------------------------ failures, roots
def test_failures_are_reported_not_fatal():
    good = trace(JAEGER_CASES["test1"][0])
    # A exported twice and named as B's parent: which copy is B's parent is unknown -> the trace is skipped
    dup = trace([("A", 0, 10, None, None), ("A", 0, 5, None, None), ("B", 1, 2, "A", None)], trace_id="2" * 32)
    cyc = trace([("R", 0, 10, None, None), ("X", 1, 2, "Y", None), ("Y", 1, 2, "X", None)], trace_id="3" * 32)
    # a cycle in a trace whose named parent is duplicated: the duplicate is said, not the cycle as well
    both = trace([("A", 0, 10, None, None), ("A", 0, 5, None, None), ("B", 1, 2, "A", None),
                  ("X", 1, 2, "Y", None), ("Y", 1, 2, "X", None)], trace_id="4" * 32)
    spans = pd.concat([good, dup, cyc, both], ignore_index=True)
    cp = critical_path(spans)
    assert set(cp["trace_id"]) == {TID}
    assert sections(cp) == JAEGER_CASES["test1"][1]
    fails = cp.attrs["failures"]
    assert all(isinstance(f, CriticalPathFailure) for f in fails)
    assert [(f.trace_id, f.span_id) for f in fails] == [("2" * 32, sid("A")), ("3" * 32, sid("X")), ("4" * 32, sid("A"))]
    assert fails[2].reason.startswith("duplicate span_id")
    assert fails[0].reason == f"duplicate span_id {sid('A')} (2 rows) named as a parent: which copy is unknown"
    assert fails[1].reason.startswith("parent cycle: 2 spans")
    assert cp.attrs["duplicates_left_out"] == ()
    # shared, not copied: pandas deep-copies a frame's attrs into every frame and column derived from it (20,000
    # failing traces made critical_path_tree 4.8 s, 0.04 s shared); the cached result cut to some traces likewise
    import copy
    for frame in (cp, critical_path(spans[spans["trace_id"].isin(["3" * 32, TID])])):
        for key in ("failures", "duplicates_left_out"):
            assert copy.deepcopy(frame.attrs)[key] is frame.attrs[key]
    assert [f.trace_id for f in critical_path(spans[spans["trace_id"] == "3" * 32]).attrs["failures"]] == ["3" * 32]
    # a whole trace given twice, one copy differing: the rows of that id, and how many ids are duplicated
    # (before: "(6 rows)", every duplicated row of the trace)
    again = trace([("A", 0, 10, None, None), ("B", 1, 2, "A", None), ("C", 3, 4, "A", None)], trace_id="5" * 32)
    twice = pd.concat([again, again.assign(name="other")], ignore_index=True)
    assert [f.reason for f in critical_path(twice).attrs["failures"]] == [
        f"duplicate span_id {sid('A')} (2 rows) named as a parent: which copy is unknown (3 span ids of this trace "
        "are duplicated)"]


def test_a_duplicated_leaf_keeps_its_trace():
    """One leaf span exported twice (same id, same times) dropped the whole trace from critical_path, and with it
    from critical_path_breakdown and compare: their request p95 was 59 ms where trace_summary said 242 ms. The
    later copy is now left out and the trace kept (core.tree's policy), listed in attrs['duplicates_left_out']."""
    # R |------------------| 0..200
    # A    |-----|            20..80   (exported twice)
    # B            |----|     100..150
    rows = [("R", 0, 200, None, "server"), ("A", 20, 60, "R", "client"), ("B", 100, 50, "R", "client"),
            ("A", 20, 60, "R", "client")]
    spans = pd.concat([trace(rows, unit=MS), trace([("R", 0, 59, None, "server")], unit=MS, trace_id="2" * 32)],
                      ignore_index=True)
    cp = critical_path(spans)
    assert set(cp["trace_id"]) == {TID, "2" * 32} and cp.attrs["failures"] == ()
    one = cp[cp["trace_id"] == TID]
    assert sorted(sections(one, unit=MS), key=lambda x: x[1]) == [
        ("R", 0, 20), ("A", 20, 80), ("R", 80, 100), ("B", 100, 150), ("R", 150, 200)]
    assert [(f.trace_id, f.span_id) for f in cp.attrs["duplicates_left_out"]] == [(TID, sid("A"))]
    ts = tk.trace_summary(spans)
    assert ts["request_ms"].tolist() == [200.0, 59.0] and ts["n_duplicate_ids"].tolist() == [1, 0]
    ov = tk.compare(spans, spans, n_boot=10).overall.set_index("stat")
    assert float(ov.loc["p95_ms", "a"]) == 200.0
    bd = tk.critical_path_breakdown(cp, by="service")
    assert (float(bd["cp_ms"].iloc[0]), int(bd["traces"].iloc[0]), float(bd["p95_ms"].iloc[0])) == (259.0, 2, 200.0)


def test_every_root_and_orphan_is_walked():
    # R1 |---|     0..40
    # R2      |--| 50..80, orphan: its parent Z is not in the trace
    spans = trace([("R", 0, 40, None, None), ("O", 50, 30, "Z", None)])
    cp = critical_path(spans)
    assert sections(cp) == [("O", 50, 80), ("R", 0, 40)]
    assert cp["root_span_id"].tolist() == [sid("R"), sid("O")]


def test_empty_input():
    cp = critical_path(tk.empty_spans())
    assert len(cp) == 0 and cp.attrs["failures"] == ()
    assert critical_path_breakdown(cp).empty


# ------------------------------------------------------------------ property tests
@st.composite
def random_trace(draw):
    n = draw(st.integers(1, 12))
    rows = []
    for i in range(n):
        s = draw(st.integers(0, 200))  # ns since the epoch: spans_from_columns refuses times before it
        d = draw(st.integers(0, 120))
        p = draw(st.integers(0, i - 1)) if i else None
        kind = draw(st.sampled_from(["server", "client", "producer", "consumer", "internal"]))
        rows.append((chr(65 + i), s, d, chr(65 + p) if p is not None else None, kind))
    return rows


@pytest.mark.slow  # 2.5 s in the fast lane (2 loaded cores, issue 28)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_trace(), st.booleans(), st.sampled_from([0.0, 0.05]), st.sampled_from(["clamp", "drop"]), st.randoms())
def test_sections_tile_root_and_never_grow_spans(rows, adjacent, tol, surround, rnd):
    spans = trace(rows, unit=1)
    cp = critical_path(spans, adjacent_sequential=adjacent, overlap_tolerance=tol, surrounding=surround)
    if tol == 0:  # the numpy engine and the reference loop agree exactly
        loop = critical_path(spans, adjacent_sequential=adjacent, surrounding=surround, engine="loop")
        pd.testing.assert_frame_equal(cp, loop)
        assert cp.attrs["failures"] == loop.attrs["failures"]
    root = rows[0]
    s = cp["start"].astype("int64").to_numpy()
    e = cp["end"].astype("int64").to_numpy()
    if root[2] == 0:  # a 0 ms request holds its empty path: one 0 ms section (it had none and vanished)
        assert list(zip(cp["span_id"], s.tolist(), e.tolist(), strict=True)) == [(sid(root[0]), root[1], root[1])]
    else:
        assert s[0] == root[1] and e[-1] == root[1] + root[2]
        assert (s[1:] == e[:-1]).all()  # contiguous, no overlap
        assert (e > s).all()
    # clamping never grows a span: each section lies inside the span's own interval
    own = {sid(r[0]): (r[1], r[1] + r[2]) for r in rows}
    for span_id, a, b in zip(cp["span_id"], s, e, strict=True):
        assert own[span_id][0] <= a and b <= own[span_id][1]
    # independent of row order
    perm = list(range(len(spans)))
    rnd.shuffle(perm)
    cp2 = critical_path(spans.iloc[perm].reset_index(drop=True), adjacent_sequential=adjacent, overlap_tolerance=tol, surrounding=surround)
    pd.testing.assert_frame_equal(cp, cp2)


# ------------------------------------------------------------------ breakdown
def two_traces():
    # trace 1: api 0..100, db 10..70        -> api 40, db 60
    # trace 2: api 0..50,  cache 0..10      -> api 40, cache 10
    t1 = trace([("A", 0, 100, None, None, "api"), ("B", 10, 60, "A", None, "db")], unit=1_000_000, trace_id="1" * 32)
    t2 = trace([("A", 0, 50, None, None, "api"), ("C", 0, 10, "A", None, "cache")], unit=1_000_000, trace_id="2" * 32)
    return pd.concat([t1, t2], ignore_index=True)


def test_breakdown_by_service_exact():
    cp = critical_path(two_traces())
    before = cp.copy(deep=True)
    bd = critical_path_breakdown(cp, by="service")
    pd.testing.assert_frame_equal(cp, before)
    assert bd["service"].tolist() == ["api", "db", "cache"]
    assert bd["cp_ms"].tolist() == [80.0, 60.0, 10.0]
    assert bd["mean_ms"].tolist() == [40.0, 30.0, 5.0]
    assert bd["share"].round(6).tolist() == [round(80 / 150, 6), 0.4, round(10 / 150, 6)]
    assert bd["traces"].tolist() == [2, 1, 1]
    # the one percentile (inverted_cdf, an observed value): db's per-request values (0, 60) have
    # median 0 and p95 60 (linear interpolation gave 30 and 57, values no request had)
    assert bd["p50_ms"].tolist() == [40.0, 0.0, 0.0]
    assert bd["p95_ms"].tolist() == [40.0, 60.0, 10.0]
    assert bd.attrs["traces"] == 2


def test_breakdown_window_and_keys():
    cp = critical_path(two_traces())
    slow = critical_path_breakdown(cp, by="service", percentile_window=(60, 100))
    assert slow["service"].tolist() == ["db", "api"] and slow["cp_ms"].tolist() == [60.0, 40.0]
    assert slow.attrs["traces"] == 1
    bd = critical_path_breakdown(cp, by=["service", "name"])
    assert bd[["service", "name"]].values.tolist() == [["api", "op-A"], ["db", "op-B"], ["cache", "op-C"]]
    cpb = critical_path_breakdown(cp, by="call_path")
    assert cpb["call_path"].tolist() == ["api:op-A", "api:op-A > db:op-B", "api:op-A > cache:op-C"]
    spans = two_traces()
    spans["team"] = ["x", "y", "x", "z"]
    bt = critical_path_breakdown(cp, by="team", spans=spans)
    assert bt["team"].tolist() == ["x", "y", "z"] and bt["cp_ms"].tolist() == [80.0, 60.0, 10.0]
    with pytest.raises(tk.TraceKitError, match="pass spans="):
        critical_path_breakdown(cp, by="team")


# ------------------------------------------------------------------ real data
def load_nezha(path) -> pd.DataFrame:
    df = pd.read_csv(path, dtype={"TraceID": str, "SpanID": str, "ParentID": str})
    return tk.spans_from_columns({
        "trace_id": df["TraceID"].str.lower(), "span_id": df["SpanID"].str.lower(),
        "parent_id": df["ParentID"].where(df["ParentID"] != "root").str.lower(),
        "service": df["PodName"].str.rsplit("-", n=2).str[0], "name": df["OperationName"],
        "start": df["StartTimeUnixNano"].astype("int64"), "end": df["EndTimeUnixNano"].astype("int64"),
    })


@pytest.mark.parametrize("path, n_spans, n_traces", [
    ("nezha/onlineboutique-2022-08-22/05_20_trace.csv", 5321, 116),
    ("nezha/trainticket-2023-01-29/09_34_trace.csv", 842, 44),
    ("nezha/trainticket-2023-01-29/10_20_trace.csv", 604, 26),
])
@pytest.mark.slow  # over 1.3 s in the fast lane at load 8 on 2 cores (issue 28)
def test_real_nezha_sections_tile_every_root(real_traces, path, n_spans, n_traces):
    spans = load_nezha(real_traces / path)
    assert len(spans) == n_spans and spans["trace_id"].nunique() == n_traces
    before = spans.copy(deep=True)
    cp = critical_path(spans)
    pd.testing.assert_frame_equal(spans, before)
    assert cp.attrs["failures"] == ()
    roots = spans[spans["parent_id"].isna() | ~spans["parent_id"].isin(spans["span_id"])]
    assert cp["root_span_id"].nunique() == len(roots[roots["end"] > roots["start"]])
    g = cp.groupby("root_span_id")
    first, last = g["start"].min(), g["end"].max()
    r = roots.set_index("span_id")
    assert (first == r.loc[first.index, "start"]).all() and (last == r.loc[last.index, "end"]).all()
    s, e = cp["start"].astype("int64").to_numpy(), cp["end"].astype("int64").to_numpy()
    same_root = cp["root_span_id"].to_numpy()[1:] == cp["root_span_id"].to_numpy()[:-1]
    assert (s[1:][same_root] == e[:-1][same_root]).all()
    # total critical time = total root time, to the nanosecond
    assert int((e - s).sum()) == int((r["end"] - r["start"]).dt.total_seconds().mul(1e9).round().sum())
    # the reference loop gives the same sections; shuffling the rows changes nothing
    pd.testing.assert_frame_equal(cp, critical_path(spans, engine="loop"))
    pd.testing.assert_frame_equal(cp, critical_path(spans.sample(frac=1, random_state=0)))
    bd = critical_path_breakdown(cp, by="service")
    assert bd["share"].sum() == pytest.approx(1.0)
    assert bd["traces"].max() == n_traces
    assert bd["cp_ms"].sum() == pytest.approx((e - s).sum() / 1e6)


# ------------------------------------------------------------------ one simulated dataset, two formats
@pytest.mark.slow  # over 4 s in the fast lane on 2 loaded cores (issue 28)
def test_same_answers_from_xray_and_otlp_files(tmp_path):
    from tracekit.io.write import write_otlp, write_xray

    sim = tk.simulate.simulate("db-lock", n_traces=300, seed=3)
    x = tk.read_xray(write_xray(sim.spans, tmp_path / "t.json"))
    o = tk.read_otlp(write_otlp(sim.spans, tmp_path / "t.jsonl"))
    co = critical_path(o)
    assert co.attrs["failures"] == ()
    # X-Ray adds inferred segments for AWS calls; dropping them gives the OTLP answer, section by section
    cx = critical_path(x, inferred="drop")
    cols = ["trace_id", "span_id", "service", "start", "end", "duration_ms", "section_index"]
    pd.testing.assert_frame_equal(cx[cols], co[cols])
    # keeping them moves DynamoDB/SQS wait to those (inferred) services; totals are unchanged
    ck = critical_path(x)
    bo = critical_path_breakdown(co).set_index("service")["cp_ms"]
    bk = critical_path_breakdown(ck).set_index("service")["cp_ms"]
    assert bk.sum() == pytest.approx(bo.sum(), abs=1e-6)
    assert {"DynamoDB", "SQS"} <= set(bk.index) and not {"DynamoDB", "SQS"} & set(bo.index)
    assert bk["payments"] == pytest.approx(bo["payments"]) and bk["cart"] < bo["cart"]
    # and the simulated truth: the slowed service dominates
    assert bo.index[0] == sim.truth.service


def test_real_xray_devguide_trace_with_inferred_segments(real_traces):
    spans = tk.read_xray(real_traces / "aws-xray-developer-guide/xray-api-gettingdata.md.BatchGetTraces-output.json")
    cp = critical_path(spans)
    got = [(r.service, r.name, round(r.duration_ms, 3)) for r in cp.itertuples()]
    # Scorekeep -> Lambda subsegment -> random-name (Lambda) segments; SNS and DynamoDB are inferred segments
    assert got == [
        ("Scorekeep", "Scorekeep", 67.0), ("Scorekeep", "Lambda", 48.0), ("random-name", "random-name", 1153.0),
        ("random-name", "random-name", 182.0), ("random-name", "annotations", 57.0), ("random-name", "random-name", 43.0),
        ("SNS", "SNS", 959.0), ("random-name", "random-name", 499.0), ("random-name", "random-name", 2.0),
        ("Scorekeep", "Scorekeep", 9.0), ("Scorekeep", "## UserModel.saveUser", 109.0), ("DynamoDB", "DynamoDB", 79.0),
        ("Scorekeep", "Scorekeep", 25.0)]
    assert cp["duration_ms"].sum() == pytest.approx(3232.0)  # the root segment, 31.562 .. 34.794
    assert cp["inferred"].tolist().count(True) == 2
    # without inferred segments the SNS / DynamoDB time stays with the calling subsegments
    drop = critical_path(spans, inferred="drop")
    assert drop.loc[drop["duration_ms"] == 959.0, "name"].tolist() == ["SNS"]
    assert set(drop.loc[drop["duration_ms"] == 959.0, "service"]) == {"random-name"}


def test_results_have_the_declared_columns_and_fragments_are_not_requests():
    from tracekit.analysis.critical_paths import CRITICAL_PATH, CRITICAL_PATH_BREAKDOWN

    # request 0..100 with db 10..70; an orphan fragment 0..500 in the same trace (its parent was lost)
    spans = trace([("A", 0, 100, None, "server", "api"), ("B", 10, 60, "A", "client", "db"),
                   ("F", 0, 500, "Z", "server", "batch")], unit=1_000_000)
    cp = critical_path(spans)
    assert list(cp.columns) == CRITICAL_PATH.column_names
    assert cp.groupby("request")["duration_ms"].sum().to_dict() == {False: 500.0, True: 100.0}
    bd = critical_path_breakdown(cp)
    assert list(bd.columns) == ["service", *CRITICAL_PATH_BREAKDOWN.column_names]
    # end-to-end time is the request's 100 ms, not 600: the fragment is reported apart
    assert bd["cp_ms"].sum() == 100.0 and bd["share"].sum() == pytest.approx(1.0)
    assert bd.attrs["fragment_ms"] == 500.0 and "batch" not in set(bd["service"])


@pytest.mark.parametrize("seed", range(6))
def test_deep_and_wide_trees_give_the_loop_engines_sections_and_true_depths(seed):
    """The tree's depths past 64 levels come by pointer jumping and the critical-path sweep takes narrow steps in
    plain Python (a 50,000-span chain: 40 -> 21 us per span): on trees that are chains for hundreds of levels, then
    fans, then chains again, under a cycle or not, the numpy engine gives the reference loop's sections and the tree
    the depths of a parent walk."""
    from tracekit.core import span_tree

    rng = np.random.default_rng(seed)
    n = 1500
    parent = np.full(n, -1)
    for i in range(1, n):
        parent[i] = i - 1 if (i // 300) % 2 == 0 else int(rng.integers(max(0, i - 40), i))
    start = np.zeros(n, dtype=np.int64)
    end = np.zeros(n, dtype=np.int64)
    end[0] = 10**9
    for i in range(1, n):  # each span inside its parent, at a random place
        p = parent[i]
        a, b = sorted(rng.integers(start[p], end[p] + 1, 2))
        start[i], end[i] = a, max(b, a + 1) if b < end[p] else b
    ids = [f"{i + 1:016x}" for i in range(n)]
    cols = {"trace_id": "1" * 32, "span_id": ids, "parent_id": [None] + [ids[p] for p in parent[1:]],
            "service": "s", "name": [f"op{i % 7}" for i in range(n)], "start": start, "end": end}
    spans = tk.spans_from_columns(cols)
    cp = critical_path(spans)
    pd.testing.assert_frame_equal(cp, critical_path(spans, engine="loop"))
    want = np.zeros(n, dtype=np.int64)
    for i in range(1, n):
        want[i] = want[parent[i]] + 1
    assert want.max() > 300 and np.array_equal(span_tree(spans).depth, want)
    looped = tk.spans_from_columns({**cols, "parent_id": [ids[n - 1]] + cols["parent_id"][1:]})  # the top on a cycle
    tree = span_tree(looped)
    assert tree.cycle.all() and (tree.depth == -1).all()
