"""Trace shapes, reviewed (s49, shapes): what_if, diff_traces, workflows, service_graph and the critical path on
traces built by hand, where the right answer is known by construction."""

from __future__ import annotations

import pytest

import tracekit as tk

MS = 10**6
T0 = 1_767_225_600 * 10**9


def _trace(rows, tid="1" * 32):
    """rows: (span id char, parent char or None, service, name, start ms, end ms)."""
    return tk.spans_from_columns({
        "trace_id": [tid] * len(rows), "span_id": [r[0] * 16 for r in rows],
        "parent_id": [r[1] * 16 if r[1] else None for r in rows], "service": [r[2] for r in rows],
        "name": [r[3] for r in rows], "kind": ["internal"] * len(rows),
        "start": [T0 + int(r[4] * MS) for r in rows], "end": [T0 + int(r[5] * MS) for r in rows]})


# ------------------------------------------------------------------------------------- 1. what_if selectors

@pytest.mark.parametrize("service,name", [("cache:v2", "GET"), ("arn:aws:lambda", "Invoke"), ("web", "GET /a:b")])
def test_what_if_selects_service_operation_when_the_service_holds_a_colon(service, name):
    # ("web", "GET /a:b") is a control (passes before and after: the first ":" is the service's end)
    # root 0..100 calls the span 10..60 then render 60..90: 30 ms off the span is 30 ms off the request (sequential)
    # by construction. A service named 'cache:v2' split 'cache:v2:GET' at its first ':' (service 'cache', operation
    # 'v2:GET'): 'matches no span', an ArgumentError for a span that is there
    spans = _trace([("a", None, "web", "GET /", 0, 100), ("b", "a", service, name, 10, 60),
                    ("c", "a", "web", "render", 60, 90)])
    r = tk.what_if(spans, {f"{service}:{name}": -30})
    assert r.changed_spans == 1
    assert r.spans["duration_ms"].tolist() == [70.0, 20.0, 30.0]


# ------------------------------------------------------------------- 2. what_if: a call after a join of parallel calls

@pytest.mark.parametrize("n_parallel", [1, 300])  # 300: past _MANY_SIBLINGS, the Fenwick placement
def test_what_if_a_call_after_parallel_calls_waits_for_all_of_them(n_parallel):
    # GET / 0..120 calls A 10..100 and, beside it, B 10..60 (n_parallel of them, the last ending at 60); then C at
    # 100..110, after both; 10 ms of its own after. A made 50 ms faster ends at 50, but B still runs until 60: C starts
    # at 60 (the 0 ms gap after the join kept), ends 70; the request ends 80 (40 ms saved, not 50). C moved with A
    # alone: 50..60, the request 70, C started while B ran
    rows = [("a", None, "web", "GET /", 0, 120), ("b", "a", "x", "A", 10, 100), ("c", "a", "z", "C", 100, 110)]
    spans = _trace(rows)
    par = tk.spans_from_columns({
        "trace_id": ["1" * 32] * n_parallel, "span_id": ["%016x" % (k + 1) for k in range(n_parallel)],
        "parent_id": ["a" * 16] * n_parallel, "service": ["y"] * n_parallel, "name": ["B"] * n_parallel,
        "kind": ["internal"] * n_parallel, "start": [T0 + 10 * MS] * n_parallel,
        "end": [T0 + 60 * MS - k * 10_000 for k in range(n_parallel)]})
    import pandas as pd

    spans = pd.concat([spans, par], ignore_index=True)
    r = tk.what_if(spans, {"x:A": -50})
    got = r.spans.set_index(r.spans["span_id"].astype(str))
    ms = lambda c, s: (got.loc[s * 16, c].value - T0) / MS  # noqa: E731
    assert (ms("start", "c"), ms("end", "c")) == (60.0, 70.0)
    assert got.loc["a" * 16, "duration_ms"] == 80.0
    assert r.summary.set_index("statistic").loc["mean_ms", "delta_ms"] == -40.0


def test_what_if_sequential_calls_still_move_with_their_predecessor():
    """Control (passes before and after): A 10..40 then B 40..70 then C 70..100 under GET / 0..110; 20 ms off A moves
    B and C 20 ms sooner and the request with them (110 -> 90), as by hand."""
    spans = _trace([("a", None, "web", "GET /", 0, 110), ("b", "a", "x", "A", 10, 40), ("c", "a", "y", "B", 40, 70),
                    ("d", "a", "z", "C", 70, 100)])
    r = tk.what_if(spans, {"x:A": -20})
    assert r.spans["duration_ms"].tolist() == [90.0, 10.0, 30.0, 30.0]
    assert [(t.value - T0) / MS for t in r.spans["start"]] == [0.0, 10.0, 20.0, 50.0]


# ------------------------------------------------------------ 3. what_if: a batch consumer linked to several producers

def test_what_if_a_batch_consumer_waits_for_its_last_message():
    # two requests each send a message to q (api's at 2..4, api2's at 2..8); a consumer trace takes both (links to
    # both) at 9..16: it waited for api2's, 1 ms after it. api2's send made 6 ms faster ends at 2; api's message still
    # comes at 4: the consumer starts at 4 + 1 = 5, ends 12 (by hand). It moved with api2's alone: 3..10, before
    # api's message was sent
    def link(t, s):
        return {"trace_id": t * 32, "span_id": s * 16, "trace_state": None, "flags": None, "attributes": {}}

    rows = [("1", "a", None, "api", "POST", "server", 0, 10, []), ("1", "b", "a", "api", "q publish", "producer", 2, 4, []),
            ("2", "e", None, "api2", "POST", "server", 0, 10, []),
            ("2", "f", "e", "api2", "q publish", "producer", 2, 8, []),
            ("3", "c", None, "w", "q process", "consumer", 9, 16, [link("1", "b"), link("2", "f")])]
    spans = tk.spans_from_columns({
        "trace_id": [r[0] * 32 for r in rows], "span_id": [r[1] * 16 for r in rows],
        "parent_id": [r[2] * 16 if r[2] else None for r in rows], "service": [r[3] for r in rows],
        "name": [r[4] for r in rows], "kind": [r[5] for r in rows], "start": [T0 + r[6] * MS for r in rows],
        "end": [T0 + r[7] * MS for r in rows], "links": [r[8] for r in rows]})
    r = tk.what_if(spans, {"api2:q publish": -6}, n_boot=0)
    got = r.spans.set_index(r.spans["span_id"].astype(str))
    assert ((got.loc["c" * 16, "start"].value - T0) / MS, (got.loc["c" * 16, "end"].value - T0) / MS) == (5.0, 12.0)
    # control: made 2 ms faster (api2's still the last message, at 6): the consumer moves 2 ms sooner, 7..14
    r = tk.what_if(spans, {"api2:q publish": -2}, n_boot=0)
    got = r.spans.set_index(r.spans["span_id"].astype(str))
    assert (got.loc["c" * 16, "start"].value - T0) / MS == 7.0


# ------------------------------------------------------------------------ 4. exemplars: a pick that row order decided

def _requests(latencies, first=1):
    n = len(latencies)
    return tk.spans_from_columns({
        "trace_id": ["%032x" % (first + i) for i in range(n)], "span_id": ["%016x" % (first + i) for i in range(n)],
        "service": ["web"] * n, "name": ["GET /"] * n, "kind": ["server"] * n,
        "start": [T0 + i * 10**9 for i in range(n)], "end": [T0 + i * 10**9 + int(v * MS) for i, v in enumerate(latencies)]})


def test_exemplars_picks_the_same_trace_in_any_row_order():
    # 5 requests of 100, 200, 100, 200, 300 ms: the median (inverted_cdf: the 3rd of 5) is 200 ms, held by traces 2
    # and 4 alike. The pick was the first row's: trace 2, and trace 4 with the rows reversed. Now the smaller trace
    # id, whatever the order
    inc, base = _requests([100, 200, 100, 200, 300]), _requests([50, 60, 70], first=100)
    picks = {tk.exemplars(f, base, q=0.5).incident_trace_id for f in (inc, inc.iloc[::-1].reset_index(drop=True))}
    assert picks == {f"{2:032x}"}
