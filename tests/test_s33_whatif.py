"""s33 (what-if and the less-travelled analyses): defects found by building data whose answer is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tracekit as tk


def _shift(spans: pd.DataFrame, service: str, ms: float) -> pd.DataFrame:
    out = spans.copy()
    m = out["service"] == service
    out.loc[m, "start"] += pd.Timedelta(ms, "ms")
    out.loc[m, "end"] += pd.Timedelta(ms, "ms")
    return out


# --- detect_clock_skew: the clocks' offsets solved jointly --------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1])
def test_a_clock_behind_whose_callee_it_calls_many_times_is_found_per_host(seed):
    """catalog's clock 25 ms behind (every host), inventory (called by catalog N times per request) right: by host,
    the median rounds started from 0 moved catalog and inventory together, catalog read about -1.8 ms and every
    inventory host +23 ms (flagged skewed); now -25 and 0."""
    sim = tk.simulate.simulate("baseline", n_traces=200, seed=seed).spans
    skew = tk.detect_clock_skew(_shift(sim, "catalog", -25.0), by="host")
    est = skew.groupby("service")["estimate_ms"]
    assert est.min()["catalog"] == pytest.approx(-25.0, abs=0.5) and est.max()["catalog"] == pytest.approx(-25.0, abs=0.5)
    assert est.apply(lambda x: x.abs().max())["inventory"] < 0.5
    assert set(skew.loc[skew["skewed"], "service"]) == {"catalog"}
    assert (skew.loc[skew["service"] == "catalog", "host"].nunique()) == sim.loc[sim["service"] == "catalog"].pipe(
        lambda s: len(set(r.get("host.name") for r in s["resource"])))


def test_adjust_clock_skew_by_host_puts_the_clocks_back():
    """after correcting the estimates above no clock is off by more than 0.5 ms (before: inventory moved 23 ms the
    wrong way and catalog stayed 23 ms behind)."""
    sim = tk.simulate.simulate("baseline", n_traces=200, seed=0).spans
    fixed = tk.adjust_clock_skew(_shift(sim, "catalog", -25.0), tk.detect_clock_skew(_shift(sim, "catalog", -25.0), by="host"))
    back = ((fixed["start"] - sim["start"]).dt.total_seconds() * 1e3).to_numpy()
    assert np.abs(back).max() < 0.5


# --- trace_diff_summary: an added span counts its own self time -----------------------------------------------------

_MS = 1_000_000


def _trace(rows):
    """rows: (span, parent, service, name, start ms, end ms)."""
    sid = lambda x: None if x is None else x * 16  # noqa: E731
    return tk.spans_from_columns({
        "trace_id": ["1" * 32] * len(rows), "span_id": [sid(r[0]) for r in rows], "parent_id": [sid(r[1]) for r in rows],
        "service": [r[2] for r in rows], "name": [r[3] for r in rows], "kind": ["server"] + ["internal"] * (len(rows) - 1),
        "start": [(10_000 + r[4]) * _MS for r in rows], "end": [(10_000 + r[5]) * _MS for r in rows]}, time_unit="ns")


def test_trace_diff_summary_counts_an_added_subtree_once():
    """b adds cache:get (60..160 ms) holding cache:inner (70..150): 20 + 80 = 100 ms of self time added. The summary
    said 180 (the parent's inclusive 100 plus the child's 80, its definition saying self time); now 100, as delta_cp_ms.
    """
    # a: web |----------|            0..100       b: web |--------------------|  0..200
    #         db |---|               10..50           db |---|                   10..50
    #                                                     cache |----------|      60..160
    #                                                      inner |--------|       70..150
    a = _trace([("a", None, "web", "GET", 0, 100), ("b", "a", "db", "q", 10, 50)])
    b = _trace([("a", None, "web", "GET", 0, 200), ("b", "a", "db", "q", 10, 50), ("c", "a", "cache", "get", 60, 160),
                ("d", "c", "cache", "inner", 70, 150)])
    d = tk.diff_traces(a, b)
    s = tk.trace_diff_summary(d).set_index("service")
    assert s.loc["cache", "delta_self_ms"] == 100.0 and s.loc["cache", "delta_cp_ms"] == 100.0
    assert d.set_index("name").loc[["get", "inner"], "self_ms_b"].tolist() == [20.0, 80.0]
    # and removed: diffing the other way takes the same 100 ms off
    back = tk.trace_diff_summary(tk.diff_traces(b, a)).set_index("service")
    assert back.loc["cache", "delta_self_ms"] == -100.0 and back.loc["cache", "removed"] == 2


# --- what_if: a span it was not asked to change keeps its recorded duration ---------------------------------------------


def test_what_if_keeps_an_unchanged_spans_negative_duration():
    """a leaf recorded with its end 3 ms before its start (clock jitter) and not selected moves with the query it
    follows but keeps its -3 ms; the clamp 'never below zero' belongs to a change, yet it set the span's end to its
    start (0 ms, 19 of 300 random traces changed by an identity what_if)."""
    # web |------------------------------|  0..300
    #  db   |---------|                     10..110  (-50 ms)
    #  log             (200..197: ends before it starts)
    s = _trace([("a", None, "web", "GET", 0, 300), ("b", "a", "db", "q", 10, 110), ("c", "a", "web", "log", 200, 197)])
    r = tk.what_if(s, {"db": -50}, n_boot=0).spans.set_index("name")
    t0 = s["start"].min()
    assert ((r["start"] - t0).dt.total_seconds() * 1e3).tolist() == [0.0, 10.0, 150.0]
    assert r["duration_ms"].tolist() == [250.0, 50.0, -3.0]
    same = tk.what_if(s, {"web": "x1"}, n_boot=0).spans
    assert same["end"].equals(s["end"]) and same["start"].equals(s["start"])


# --- reconnect: the caller of each orphan, many orphans in one trace ------------------------------------------------


def test_reconnect_names_each_orphans_enclosing_caller():
    """(a guard for the sweep that replaced a scan of the trace per orphan: 16,000 orphans of a 32,000-span trace took
    28 s, now 0.6 s.) One trace: gateway 0..10,000 ms holds 500 worker spans (i*20 .. i*20+15); under each worker an
    orphan of service db names a lost client span (i*20+2 .. i*20+8), every 3rd a second orphan of service worker
    (i*20+3 .. i*20+4). Each db orphan's caller is its worker (the latest-starting enclosing span of another
    service); each worker-service orphan's is the db orphan holding it (its worker is of its own service, and the
    gateway starts earlier)."""
    n = 500
    rows = [("g" * 16, None, "gateway", 0, 10_000)]
    want = {}
    for i in range(n):
        w, o = f"{2 * i + 1:016x}", f"{2 * i + 2:016x}"
        rows.append((w, "g" * 16, "worker", i * 20, i * 20 + 15))
        rows.append((o, f"{10**9 + i:016x}", "db", i * 20 + 2, i * 20 + 8))
        want[o] = w
        if i % 3 == 0:
            x = f"{10**8 + i:016x}"
            rows.append((x, f"{10**10 + i:016x}", "worker", i * 20 + 3, i * 20 + 4))
            want[x] = o  # the db orphan (another service) starts later than the gateway and holds it
    spans = tk.spans_from_columns({
        "trace_id": ["1" * 32] * len(rows), "span_id": [r[0] for r in rows], "parent_id": [r[1] for r in rows],
        "service": [r[2] for r in rows], "name": ["op"] * len(rows), "kind": ["server"] * len(rows),
        "start": [(10_000 + r[3]) * _MS for r in rows], "end": [(10_000 + r[4]) * _MS for r in rows]}, time_unit="ns")
    r = tk.reconnect(spans)
    m = r[r["case"] == "missing_parent"]
    assert len(m) == len(want) == n + (n + 2) // 3
    assert dict(zip(m["root_span_id"].astype(str), m["caller_span_id"].astype(str), strict=True)) == want
    gaps = m.set_index(m["root_span_id"].astype(str))["gap_ms"]
    assert gaps[f"{2:016x}"] == 2.0 and gaps[f"{10**8:016x}"] == 1.0


# --- trace_weights: a Series or frame of weights is checked as one number is ------------------------------------------


def test_weighted_summary_refuses_probabilities_given_as_a_series_of_weights():
    """one number 0.5 was refused ('for a 50% sample pass 2') but a Series of 0.5 per trace was taken: 40 sampled
    requests estimated as 20 (est_requests 20.0 instead of 80 for weights 2); and one trace given weights 10 and 2
    took the first silently."""
    from tracekit.core import trace_weights

    sim = tk.simulate.simulate("baseline", n_traces=40, seed=1).spans
    ids = sim["trace_id"].unique()
    with pytest.raises(tk.ArgumentError, match="1 / its inclusion probability.*40 traces below 1.*50% sample has weight 2"):
        tk.weighted_summary(sim, pd.Series(0.5, index=ids), n_boot=0)
    assert tk.weighted_summary(sim, pd.Series(2.0, index=ids), n_boot=0)["est_requests"].tolist() == [80.0]
    # a probability of 2 is no probability (s34: it was read as the weight 0.5 and called 'a 50% sample')
    with pytest.raises(tk.ArgumentError, match=r"probability must be an inclusion probability in \(0, 1\]; trace .* has 2"):
        trace_weights(ids, pd.DataFrame({"trace_id": ids, "probability": 2.0}))
    with pytest.raises(tk.ArgumentError, match=f"trace {ids[0]} is given 2 different weights \\(10, 2\\)"):
        trace_weights(ids, pd.Series([10.0, 2.0], index=[ids[0], ids[0]]))
    assert trace_weights(ids[:2], pd.Series([10.0, 10.0, 3.0], index=[ids[0], ids[0], ids[1]])).tolist() == [10.0, 3.0]


def test_what_if_params_record_the_traces_it_was_given():
    """params (the settings a report records to reproduce a result) said traces=[] for a generator of 3 ids (the
    match had spent it), the characters of a TraceQL query for a query, and of one trace id for one id."""
    s = _trace([("a", None, "web", "GET", 0, 300), ("b", "a", "db", "q", 10, 110)])
    tid = "1" * 32
    assert tk.what_if(s, {"db": -50}, traces=(t for t in [tid]), n_boot=0).params["traces"] == [tid]
    q = '{ resource.service.name = "db" }'
    r = tk.what_if(s, {"db": -50}, traces=q, n_boot=0)
    assert r.params["traces"] == q and r.spans["duration_ms"].tolist() == [250.0, 50.0]
    one = tk.what_if(s, {"db": -50}, traces=tid, n_boot=0)
    assert one.params["traces"] == [tid] and one.changed_traces == 1


# --- arguments: an ArgumentError naming the argument, not a bare exception ----------------------------------------------


@pytest.mark.parametrize("call, match", [
    (lambda s: tk.detect_clock_skew(s, threshold_ms="x"), "detect_clock_skew: threshold_ms"),  # UFuncTypeError
    (lambda s: tk.detect_clock_skew(s, threshold_ms=-1), "detect_clock_skew: threshold_ms"),  # flagged every clock
    (lambda s: tk.detect_clock_skew(s, max_rounds=2.5), "detect_clock_skew: max_rounds"),  # TypeError
    (lambda s: tk.reconnect(s, max_gap_ms="a"), "reconnect: max_gap_ms"),  # TypeError
    (lambda s: tk.reconnect(s, tolerance_ms=[1]), "reconnect: tolerance_ms"),  # TypeError
    (lambda s: tk.adjust_clock_skew(s, tk.detect_clock_skew(s).assign(estimate_ms=np.nan), only_skewed=False),
     "adjust_clock_skew: the skew row of service .* has estimate_ms nan"),  # ValueError: cannot convert NaN to integer
])
def test_skew_and_reconnect_arguments_are_argument_errors(call, match):
    s = tk.simulate.simulate("context-drop", n_traces=30, seed=2, share=0.2, orphan_share=0.1).spans
    with pytest.raises(tk.ArgumentError, match=match):
        call(s)


def test_reconnect_takes_an_unbounded_gap():
    """max_gap_ms=inf (no limit) raised OverflowError (int(inf)); it finds the same pairs as any gap longer than the
    data (here 17 rows, the 1,000 ms default's)."""
    s = tk.simulate.simulate("context-drop", n_traces=60, seed=2, share=0.2, orphan_share=0.1).spans
    assert tk.reconnect(s, max_gap_ms=float("inf")).equals(tk.reconnect(s, max_gap_ms=1e9))
    assert len(tk.reconnect(s, max_gap_ms=float("inf"), tolerance_ms=float("inf"))) >= len(tk.reconnect(s)) == 17


# --- workflow_critical_path: a batch fed by several requests ------------------------------------------------------------


def test_workflow_critical_path_through_a_batch_starts_at_the_request_it_follows():
    """(the docstrings promised the sections always add up to end_to_end_ms; with a batch fed last by a later request
    they cannot: this pins what they now say.) Requests at 0, 100, 200 ms each send at +10..+20 ms; one batch consumer
    (500..700, linked to all three) sends at 600..610 to a consumer at 900..950."""
    ids = [f"{i:032x}" for i in range(1, 6)]
    rows, kinds, tids, links = [], [], [], []
    for k in range(3):
        rows += [(f"r{k}", None, "web", "POST", k * 100, k * 100 + 100), (f"p{k}", f"r{k}", "web", "orders send",
                                                                         k * 100 + 10, k * 100 + 20)]
        kinds += ["server", "producer"]
        tids += [ids[k]] * 2
        links += [[], []]
    rows += [("c", None, "worker", "orders process", 500, 700), ("q", "c", "worker", "ship send", 600, 610),
             ("d", None, "shipper", "ship process", 900, 950)]
    kinds += ["consumer", "producer", "consumer"]
    tids += [ids[3], ids[3], ids[4]]
    sid = lambda x: None if x is None else x.ljust(16, "0")  # noqa: E731
    links += [[{"trace_id": ids[k], "span_id": sid(f"p{k}")} for k in range(3)], [],
              [{"trace_id": ids[3], "span_id": sid("q")}]]
    spans = tk.spans_from_columns({
        "trace_id": tids, "span_id": [sid(r[0]) for r in rows], "parent_id": [sid(r[1]) for r in rows],
        "service": [r[2] for r in rows], "name": [r[3] for r in rows], "kind": kinds,
        "start": [(10_000 + r[4]) * _MS for r in rows], "end": [(10_000 + r[5]) * _MS for r in rows]}, time_unit="ns")
    spans["links"] = pd.Series(links, dtype=object)
    ws = tk.workflow_summary(spans).iloc[0]
    assert (ws["traces"], ws["hops"], ws["end_to_end_ms"], ws["queue_ms"]) == (5, 4, 950.0, 770.0)
    cp = tk.workflow_critical_path(spans)
    assert cp["duration_ms"].tolist() == [10.0, 10.0, 280.0, 100.0, 10.0, 290.0, 50.0]
    assert cp["trace_id"].iloc[0] == ids[2] and cp["duration_ms"].sum() == ws["end_to_end_ms"] - 200.0


# --- diff_traces: rows in tree order, children by start; a span exported twice is one span ------------------------------


def test_diff_traces_lists_children_by_start_not_grouped_by_operation():
    """siblings db:q 10 ms, svc:x 15 ms, db:q 20 ms, with b adding a db:q at 25 ms: the rows came grouped by operation
    (q, q, added q, x: x drawn last in plot_trace_diff's waterfall though it ran second) while the docstring says
    children by start; now q, x, q, added q."""
    # web |------------------------|  0..300
    #  q    |-|                        10..12
    #  x       |---|                   15..19
    #  q          |-|                  20..22
    #  q (b only)     |-|              25..27
    rows = [("a", None, "web", "GET", 0, 300), ("b", "a", "db", "q", 10, 12), ("c", "a", "svc", "x", 15, 19),
            ("d", "a", "db", "q", 20, 22)]
    a = _trace(rows)
    b = _trace(rows + [("e", "a", "db", "q", 25, 27)])
    d = tk.diff_traces(a, b)
    assert d["name"].tolist() == ["GET", "q", "x", "q", "q"]
    assert d["status"].tolist() == ["same", "same", "same", "same", "added"]
    assert d["start_ms_b"].tolist() == [0.0, 10.0, 15.0, 20.0, 25.0]


def test_diff_traces_counts_a_span_exported_twice_once():
    """b is a with one db:q span exported twice (the same span id twice): it said 1 span added (db: added 1), the
    kernel tree's policy being that the later copy is left out (a span exported twice is one span); now all same."""
    rows = [("a", None, "web", "GET", 0, 300), ("b", "a", "db", "q", 10, 12), ("c", "a", "db", "q", 20, 22)]
    a = _trace(rows)
    b = pd.concat([a, a.iloc[[1]]], ignore_index=True)
    d = tk.diff_traces(a, b)
    assert d["status"].tolist() == ["same"] * 3
    s = tk.trace_diff_summary(d).set_index("service")
    assert s.loc["db", ["same", "added"]].tolist() == [2, 0]


def test_what_if_says_when_the_traces_given_hold_nothing_to_change():
    """a selector matching nothing raised, but matching nothing inside traces= (or traces= naming no trace of the
    spans: a mistyped id) returned a summary of delta 0 everywhere, read as 'no effect'; now ArgumentErrors."""
    s = _trace([("a", None, "web", "GET", 0, 300), ("b", "a", "db", "q", 10, 110)])
    other = s.assign(trace_id="2" * 32, service="web")  # a second trace without db
    both = pd.concat([s, other], ignore_index=True)
    with pytest.raises(tk.ArgumentError, match=r"'db' matches no span of the traces given \(1 traces\)"):
        tk.what_if(both, {"db": -50}, traces=["2" * 32], n_boot=0)
    with pytest.raises(tk.ArgumentError, match="none of the 1 traces given is in the spans"):
        tk.what_if(both, {"db": -50}, traces=["3" * 32], n_boot=0)
    with pytest.raises(tk.ArgumentError, match="TraceQL query traces=.* matches no span"):
        tk.what_if(both, {"db": -50}, traces='{ resource.service.name = "nope" }', n_boot=0)
    r = tk.what_if(both, {"db": -50}, traces=["1" * 32, "3" * 32], n_boot=0)  # one of them there: applied there
    assert (r.changed_spans, r.changed_traces) == (1, 1) and r.spans["duration_ms"].tolist()[:2] == [250.0, 50.0]


def test_sampling_weights_refuses_a_stratum_given_two_rates():
    """rate=DataFrame naming service api twice (0.5 and 0.1) took the first silently (weight 2, or 10 if the rows came
    the other way); rate='x' was told it 'needs by='. Now ArgumentErrors that say so; a repeated equal row is fine."""
    spans = tk.spans_from_columns({"trace_id": [f"{i:032x}" for i in (1, 2)], "span_id": ["a" * 16, "b" * 16],
                                   "service": ["api", "web"], "name": ["GET /"] * 2, "start": [0, 0], "end": [1, 1]})
    with pytest.raises(tk.ArgumentError, match=r"stratum \('api',\) 2 different probabilities \(0.5, 0.1\)"):
        tk.sampling_weights(spans, rate=pd.DataFrame({"service": ["api", "api"], "probability": [0.5, 0.1]}), by="service")
    with pytest.raises(tk.ArgumentError, match="rate must be a probability, a mapping or a DataFrame, got str"):
        tk.sampling_weights(spans, rate="x")
    ok = tk.sampling_weights(spans, rate=pd.DataFrame({"service": ["api", "api", "web"], "probability": [0.5, 0.5, 0.2]}),
                             by="service")
    assert ok["weight"].tolist() == [2.0, 5.0]


def test_diff_traces_aligns_a_fragment_under_the_span_its_head_names():
    """b is a with its root lost (not exported): b's db:q and its child (same ids, same durations) were 'added' and
    a's 'removed' (db: added 2, removed 2) beside the lost root; they hang under the root's place now (same 2,
    web:GET removed). With the middle span lost instead, inner is same, q removed (inner was removed and added)."""
    # web |------------------------|  0..300
    #  q    |---------|                10..110
    #   inner |--|                     20..50
    a = _trace([("a", None, "web", "GET", 0, 300), ("b", "a", "db", "q", 10, 110), ("c", "b", "db", "inner", 20, 50)])
    no_root = a[a["service"] != "web"].reset_index(drop=True)
    d = tk.diff_traces(a, no_root)
    assert d[["name", "status"]].values.tolist() == [["GET", "removed"], ["q", "same"], ["inner", "same"]]
    s = tk.trace_diff_summary(d).set_index("service")
    assert s.loc["db", ["same", "added", "removed"]].tolist() == [2, 0, 0] and s.loc["web", "removed"] == 1
    back = tk.diff_traces(no_root, a)
    assert back[["name", "status"]].values.tolist() == [["GET", "added"], ["q", "same"], ["inner", "same"]]
    no_mid = a[a["name"] != "q"].reset_index(drop=True)
    assert tk.diff_traces(a, no_mid)[["name", "status"]].values.tolist() == [
        ["GET", "same"], ["q", "removed"], ["inner", "same"]]
