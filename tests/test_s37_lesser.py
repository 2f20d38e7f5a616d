"""s37 hostile review of the analyses reviewed least: what_if, diff_traces / trace_diff_summary / exemplars,
critical_path_tree / saving_potential (flame), find_repeated_calls, reconnect, skew_story, trace_summary /
self_time (structure), the critical-path walk, early_stops, course_changes and the attribution analyses, on spans
built by construction (ASCII timelines in the comments) and on the real public traces."""

from __future__ import annotations

import pandas as pd
import pytest

import tracekit as tk

from .test_structure import mk

# ------------------------------------------------------------------------------------------ what_if


def test_what_if_on_spans_all_in_progress_keeps_them_open_not_typeerror(real_traces):
    # one X-Ray segment in progress (no end): nothing to re-time; what_if raised TypeError (tz-naive column of NaT)
    spans = mk([(1, 1, None, "api", "GET", "server", 0, None), (1, 2, 1, "db", "q", "client", 1, None)])
    with pytest.warns(UserWarning, match=r"1 selected span\(s\) are in progress"):
        r = tk.what_if(spans, {"db": -0.5}, n_boot=10)
    assert r.spans["end"].isna().all() and r.spans["start"].equals(spans["start"])
    assert r.spans["end"].dtype == spans["end"].dtype
    assert r.summary["before_ms"].isna().all()  # no request has a latency
    real = tk.read(real_traces / "otel-contrib-awsxray-testdata" / "minInProgress.txt")
    assert real["end"].isna().all()
    with pytest.warns(UserWarning, match="in progress"):
        r = tk.what_if(real, {real["service"].iloc[0]: "x0.5"}, n_boot=0)
    assert r.spans["start"].equals(real["start"]) and r.spans["end"].isna().all()


# ------------------------------------------------------------------------------------------ skew_story


def test_skew_story_raises_on_a_frame_without_kind_not_no_skew():
    # a clock 120 ms ahead (the simulator's truth) is found; the same spans without 'kind' said "no skewed clock"
    spans = tk.simulate.simulate("clock-skew", 200, seed=15).spans
    assert len(tk.skew_story(spans).sentences) == 1
    with pytest.raises(tk.SpansSchemaError, match="skew_story.*kind"):
        tk.skew_story(spans.drop(columns=["kind"]))
    assert tk.skew_story(tk.empty_spans()).sentences == ()  # no pairs: no story, not an error


def test_what_if_does_not_count_a_trace_it_could_not_retime():
    # trace 1: web 0..100 > db:q 10..50           (re-timed: q 40 -> 20 ms, the request 100 -> 80 ms)
    # trace 2: web 0..100, db:q (parent q2) 10..50, db:q2 (parent q) 20..30: a parent cycle, left as recorded
    spans = mk([(1, 1, None, "web", "GET", "server", 0, 100), (1, 2, 1, "db", "q", "client", 10, 50),
                (2, 1, None, "web", "GET", "server", 0, 100), (2, 2, 3, "db", "q", "client", 10, 50),
                (2, 3, 2, "db", "q2", "client", 20, 30)])
    with pytest.warns(UserWarning, match="1 trace.*2 selected span.*left as recorded.*0{31}2"):
        r = tk.what_if(spans, {"db": -20}, n_boot=0)
    assert r.spans["duration_ms"].tolist() == [80.0, 20.0, 100.0, 40.0, 10.0]
    assert (r.changed_spans, r.changed_traces) == (1, 1)  # was (3, 2): trace 2's spans were never re-timed


# ------------------------------------------------------------------------------------------ early_stops


def _checkout(t, end=10, calls=("pay", "mail")):
    # web:GET 0..end > pay:charge 1..3 > mail:send 4..6 (the calls given, in that order)
    rows = [(t, 1, None, "web", "GET", "server", 0, end)]
    rows += [(t, 2 + i, 1, c, "call", "client", 1 + 3 * i, 3 + 3 * i) for i, c in enumerate(calls)]
    return rows


def test_early_stops_never_calls_a_span_in_progress_or_a_repeated_copy_a_stop():
    from tracekit.analysis.early_stops import early_stops

    base = mk([r for t in range(1, 6) for r in _checkout(t)])  # GET always goes on to mail after pay
    inc = mk(_checkout(9) + [(9, 1, None, "web", "GET", "server", 0, 10)]  # trace 9's root exported twice
             + _checkout(8, end=None, calls=("pay",))  # in progress after pay: not ended
             + _checkout(7, calls=("pay",)))  # ended after pay: the one stop
    es = early_stops(inc, base)
    assert es["stopped"].tolist() == [False] * 6 + [True, False]  # was True for the copy (row 3) and row 4
    assert es["origin"].tolist() == [False] * 6 + [True, False]
    # a baseline GET still in progress after pay is no GET that ended there: trace 7 still stopped (was hidden)
    base2 = pd.concat([base, mk(_checkout(6, end=None, calls=("pay",)))], ignore_index=True)
    assert early_stops(mk(_checkout(7, calls=("pay",))), base2)["stopped"].tolist() == [True, False]


def test_course_changes_does_not_read_spans_in_progress_as_a_change_of_course():
    from tracekit.analysis.course_changes import course_changes

    def tr(t, end=10, calls=("db", "mail")):  # web:GET 0..end > db 1..3 > mail 4..6 (servers of other services)
        return ([(t, 1, None, "web", "GET", "server", 0, end)]
                + [(t, 2 + i, 1, c, "call", "server", 1 + 3 * i, 3 + 3 * i) for i, c in enumerate(calls)])

    base = mk([r for t in range(1, 21) for r in tr(t)])  # 20 GETs: after db always mail
    ended = course_changes(mk([r for t in range(31, 51) for r in tr(t, calls=("db",))]), base)
    assert ended[["caller", "callee", "steps"]].values.tolist() == [["web", "db", 20.0]]
    assert ended["changed"].iloc[0] > 10  # 20 GETs that ended after db changed course
    # the same 20 GETs still in progress after db have taken no step after it (was 20 steps, 13.7 changed, as ended)
    open_ = course_changes(mk([r for t in range(31, 51) for r in tr(t, end=None, calls=("db",))]), base)
    assert open_["changed"].sum() == 0 and open_["steps"].sum() == 0


# ------------------------------------------------------------------------------------------ attribution


@pytest.mark.parametrize("func", ["lambda_invocations", "cold_starts", "cold_start_changes"])
def test_lambda_functions_name_themselves_when_a_column_is_missing(func):
    spans = mk([(1, 1, None, "fn", "fn", "server", 0, 10)]).drop(columns=["kind"])
    from tracekit.analysis.attribution import lambdas

    with pytest.raises(tk.SpansSchemaError, match=f"^{func}: .*kind"):  # lambda_invocations said 'cold_starts: ...'
        getattr(lambdas, func)(spans)


# ------------------------------------------------------------------------------------------ critical path


def test_critical_path_links_rule_reads_the_links_of_the_frame_given_not_a_cached_frame():
    # web:GET 0..100 > w:job 10..90; with a link from job to GET the 'links' rule makes job asynchronous: the path
    # is GET's 100 ms alone. The same frame without the link walked first was taken from the per-frame cache.
    spans = mk([(1, 1, None, "web", "GET", "server", 0, 100), (1, 2, 1, "w", "job", "consumer", 10, 90)])
    assert tk.critical_path(spans, nonblocking="links")["duration_ms"].tolist() == [10.0, 80.0, 10.0]
    linked = spans.assign(links=[[], [{"trace_id": "0" * 31 + "1", "span_id": "0" * 15 + "1"}]])
    assert tk.critical_path(linked, nonblocking="links")[["name", "duration_ms"]].values.tolist() == [["GET", 100.0]]
    assert tk.critical_path(linked)["duration_ms"].tolist() == [10.0, 80.0, 10.0]  # producer_consumer: no producer


# ------------------------------------------------------------------------------------------ self_time


def test_self_time_of_a_span_exported_twice_is_the_same_for_both_copies():
    # root 0..100 > A 10..50 > B 20..40, A exported twice: A's self time is 40 - 20 = 20 ms on both rows (the copy
    # said 40: B links to the first copy only). Leaving out the later copy, self times add up to the root's 100 ms.
    spans = mk([(1, 1, None, "web", "root", "server", 0, 100), (1, 2, 1, "a", "A", "client", 10, 50),
                (1, 2, 1, "a", "A", "client", 10, 50), (1, 3, 2, "b", "B", "client", 20, 40),
                (2, 2, None, "a", "A", "client", 10, 50), (2, 2, None, "a", "A", "client", 10, 60)])
    st = tk.self_time(spans)
    assert st["self_ms"].tolist() == [60.0, 20.0, 20.0, 20.0, 40.0, 50.0]  # copies that differ keep their own
    assert st["self_ms"].iloc[[0, 1, 3]].sum() == 100.0


# ------------------------------------------------------------------------------------------ reconnect


def test_reconnect_never_proposes_an_orphans_own_child_as_its_caller():
    # a:GET 0..100 holds the orphan o:handle 10..20 (its parent 0x63 lost), which calls c:call 10..20 > d:q 10..20
    # (as long as it, another service): the caller is a:GET, never c:call (its own child) nor d:q
    spans = mk([(1, 1, None, "a", "GET", "server", 0, 100), (1, 3, 99, "o", "handle", "server", 10, 20),
                (1, 4, 3, "c", "call", "client", 10, 20), (1, 5, 4, "d", "q", "server", 10, 20)])
    r = tk.reconnect(spans)
    assert r[["case", "root_span_id", "caller_span_id", "client_service", "gap_ms"]].values.tolist() == [
        ["missing_parent", "0" * 15 + "3", "0" * 15 + "1", "a", 10.0]]
    alone = tk.reconnect(spans.iloc[1:])  # no span holds it but its own children: no caller
    assert alone["caller_span_id"].isna().all() and alone["client_service"].isna().all()


# ------------------------------------------------------------------------------------------ find_repeated_calls


def test_repeated_calls_a_call_ending_before_it_starts_adds_no_time():
    # GET 0..100 calls db:q three times: 30..10 (recorded ending 20 ms before it starts), 40..60, 70..80
    spans = mk([(1, 1, None, "a", "GET", "server", 0, 100), (1, 2, 1, "db", "q", "client", 30, 10),
                (1, 3, 1, "db", "q", "client", 40, 60), (1, 4, 1, "db", "q", "client", 70, 80)])
    r = tk.find_repeated_calls(spans)
    # was total 10, wall 10 (below the longest call), cost -10: the inverted call counted minus 20 ms
    assert r[["calls", "total_ms", "wall_ms", "max_ms", "cost_ms"]].values.tolist() == [[3, 30.0, 30.0, 20.0, 10.0]]


# ------------------------------------------------------------------------------------------ diff_traces


def test_diff_of_a_trace_with_its_copy_is_same_when_an_attribute_is_nan():
    # OTLP JSON may carry a double as "NaN": NaN != NaN made both spans 'changed' against an identical copy
    nan = float("nan")
    rows = [(1, 1, None, "a", "GET", "server", 0, 100), (1, 2, 1, "db", "q", "client", 30, 50)]
    a = mk(rows, attributes=[{"x": nan, "y": 1}, {"z": [1.0, nan]}], resource=[{"w": nan}, {}])
    b = mk(rows, attributes=[{"x": nan, "y": 1}, {"z": [1.0, nan]}], resource=[{"w": nan}, {}])
    d = tk.diff_traces(a, b)
    assert d["status"].tolist() == ["same", "same"] and d["attribute_changes"].tolist() == [{}, {}]
    c = mk(rows, attributes=[{"x": 2.0, "y": 1}, {"z": [1.0, nan]}], resource=[{"w": nan}, {}])
    d = tk.diff_traces(a, c)  # a real change still shows, alone
    assert d["status"].tolist() == ["changed", "same"] and list(d["attribute_changes"].iloc[0]) == ["x"]
