"""health_report: literal spans per check, simulator scenarios with known truth, every real X-Ray/OTLP file."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.analysis.health import CHECKS, FINDING_COLUMNS

from .test_structure import mk, snapshot, tid


def rows(report: pd.DataFrame, check: str) -> pd.DataFrame:
    return report[report["check"] == check].reset_index(drop=True)


def one(report: pd.DataFrame, check: str) -> dict:
    r = rows(report, check)
    assert len(r) == 1, f"expected one {check} row, got {len(r)}"
    return r.iloc[0].to_dict()


GOOD = [
    (1, 1, None, "web", "GET /", "server", 0, 100),
    (1, 2, 1, "web", "call cart", "client", 10, 60),
    (1, 3, 2, "cart", "GetCart", "server", 12, 58),
]


def test_clean_trace_has_no_findings_only_metrics():
    r = tk.health_report(mk(GOOD))
    assert list(r.columns) == list(FINDING_COLUMNS)
    assert set(r["check"]) == {"trace_completeness", "failed_request_ratio", "span_error_rate", "p95_request_latency_ms", "top_call_path"}
    assert one(r, "trace_completeness")["value"] == 1.0
    assert one(r, "top_call_path")["subject"] == "web → cart"


def test_orphans_roots_duplicates_cycles():
    spans = mk(
        GOOD
        + [
            (2, 1, None, "web", "GET /", "server", 0, 10),
            (2, 2, 77, "cart", "lost", "server", 1, 2),  # orphan
            (2, 3, 2, "cart", "under-orphan", "internal", 1, 2),
            (3, 1, None, "web", "r1", "server", 0, 10),
            (3, 2, None, "web", "r2", "server", 0, 10),  # second root
            (4, 5, 6, "web", "a", "server", 0, 1),  # no root at all: both orphans
            (4, 7, 8, "web", "b", "server", 0, 1),
            (5, 1, None, "web", "r", "server", 0, 10),
            (5, 2, 1, "web", "x", "internal", 1, 2),
            (5, 2, 1, "web", "x-again", "internal", 1, 2),  # duplicate id
            (6, 3, 4, "web", "c1", "internal", 0, 1),  # cycle 3 <-> 4
            (6, 4, 3, "web", "c2", "internal", 0, 1),
        ]
    )
    before = snapshot(spans)
    r = tk.health_report(spans)
    pd.testing.assert_frame_equal(spans, before)
    n_traces = 6
    o = one(r, "orphan_spans")
    assert (o["traces_affected"], o["spans_affected"]) == (2, 3)
    assert o["example_trace_ids"] == [tid(2), tid(4)]
    assert o["share"] == pytest.approx(2 / n_traces)
    m = one(r, "multiple_roots")
    assert (m["traces_affected"], m["spans_affected"], m["example_trace_ids"]) == (1, 2, [tid(3)])
    nr = one(r, "no_root")
    assert (nr["traces_affected"], nr["spans_affected"]) == (2, 4)  # traces 4 and 6
    d = one(r, "duplicate_span_ids")
    assert (d["traces_affected"], d["spans_affected"], d["severity"]) == (1, 2, "error")
    c = one(r, "parent_cycles")
    assert (c["traces_affected"], c["spans_affected"]) == (1, 2)
    # errors first, then warnings, then info
    sev = r["severity"].map({"error": 0, "warning": 1, "info": 2}).tolist()
    assert sev == sorted(sev)
    # only trace 1 is complete
    assert one(r, "trace_completeness")["value"] == pytest.approx(1 / 6)
    assert one(r, "trace_completeness")["traces_affected"] == 5


def test_in_progress_inferred_truncated():
    spans = mk(
        [
            (1, 1, None, "api", "GET", "server", 0, None),
            (2, 1, None, "scorekeep", "GET", "server", 0, 50),
            (2, 2, 1, "scorekeep", "DynamoDB", "client", 10, 30),
            (2, 3, 2, "DynamoDB", "DynamoDB", "server", 10, 30),
            (3, 1, None, "api", "GET", "server", 0, 5),
        ],
        inferred=[False, False, False, True, False],
        attributes=[{}, {}, {"namespace": "aws"}, {}, {}],
        resource=[{}, {}, {}, {}, {"xray.trace.LimitExceeded": True}],
    )
    r = tk.health_report(spans)
    ip = one(r, "in_progress_spans")
    assert (ip["traces_affected"], ip["spans_affected"], ip["example_trace_ids"]) == (1, 1, [tid(1)])
    inf = one(r, "inferred_segments")
    assert (inf["spans_affected"], inf["severity"]) == (1, "info")
    assert "DynamoDB (1)" in inf["explanation"]
    tr = one(r, "truncated_traces")
    assert (tr["traces_affected"], tr["spans_affected"], tr["example_trace_ids"]) == (1, 1, [tid(3)])
    co = one(r, "callee_only_services")
    assert co["subject"] == "DynamoDB"
    assert one(r, "trace_completeness")["value"] == pytest.approx(1 / 3)


def test_uninstrumented_hop_named_by_caller_and_callee():
    spans = mk(
        [
            # gateway -> frontend answered in trace 1, not in trace 2 (context dropped)
            (1, 1, None, "gateway", "GET /", "server", 0, 100),
            (1, 2, 1, "gateway", "proxy", "client", 1, 99),
            (1, 3, 2, "frontend", "GET /", "server", 2, 98),
            (2, 1, None, "gateway", "GET /", "server", 0, 100),
            (2, 2, 1, "gateway", "proxy", "client", 1, 99),
            # frontend's spans of trace 2 start a new trace 3
            (3, 3, None, "frontend", "GET /", "server", 2, 98),
            # a third party with no spans at all, found by URL host
            (3, 4, 3, "frontend", "POST", "client", 10, 20),
            # a database call: not flagged by default
            (3, 5, 3, "frontend", "SELECT", "client", 30, 40),
            # same-service internal child does not answer a client span
            (3, 6, 3, "frontend", "call inventory", "client", 50, 60),
            (3, 7, 6, "frontend", "serialize", "internal", 51, 52),
        ],
        attributes=[
            {}, {"peer.service": "frontend"}, {}, {}, {"peer.service": "frontend"}, {},
            {"url.full": "https://api.partner.example/v1/pay"}, {"db.system": "postgresql"},
            {"server.address": "inventory"}, {},
        ],
    )
    r = tk.health_report(spans, checks=["uninstrumented_hop", "dropped_context"])
    assert r["subject"].tolist() == ["gateway → frontend", "frontend → api.partner.example", "frontend → inventory"]
    assert r["severity"].tolist() == ["warning", "info", "info"]
    # frontend is instrumented (it answers in trace 1): the hop that lost trace 2 is a dropped context
    assert r["check"].tolist() == ["dropped_context", "uninstrumented_hop", "uninstrumented_hop"]
    assert r["example_trace_ids"].tolist() == [[tid(2)], [tid(3)], [tid(3)]]
    assert r["spans_affected"].tolist() == [1, 1, 1]
    r2 = tk.health_report(spans, checks=["uninstrumented_hop", "dropped_context"], include_databases=True)
    # named as the service map names the peer (the kernel's callee resolver), not by the span name
    assert "frontend → postgresql" in r2["subject"].tolist()


def test_a_dropped_context_is_its_own_check_and_the_old_selection_still_finds_it():
    """broken-context's gateway drops the context for 41 requests and frontend — instrumented, it answers every
    other request — starts a trace of its own for each (truth file). health_report called that hop an
    "uninstrumented_hop" (a warning) and the postmortem translated the name for its first screen; the report's
    health table and the notebooks kept the wrong one. Now the check is named what it found, dropped_context, as
    tk.reconnect names the same pairs; uninstrumented_hop is left with callees that report no spans. Selecting
    uninstrumented_hop, as older code does, still finds it (named dropped_context) with a DeprecationWarning."""
    sim = tk.simulate.simulate("context-drop", n_traces=300, seed=4)
    t = sim.truth
    r = tk.health_report(sim.spans)
    hop = r[r["subject"] == f"{t.caller} → {t.callee}"]
    assert hop["check"].tolist() == ["dropped_context"] and hop["severity"].tolist() == ["warning"]
    assert hop["traces_affected"].iloc[0] == t.n_dropped
    # the pairs reconnect proposes for the same case are the truth's, and the ones health counts
    pairs = tk.reconnect(sim.spans)
    assert len(pairs[pairs["case"] == "dropped_context"]) == t.n_dropped
    # uninstrumented hops left: callees that report no span at all
    known = set(sim.spans["service"])
    uninstr = r[r["check"] == "uninstrumented_hop"]
    assert len(uninstr) and not {s.split(" → ")[1] for s in uninstr["subject"]} & known
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        alone = tk.health_report(sim.spans, checks=["dropped_context"])
    assert alone["subject"].tolist() == [f"{t.caller} → {t.callee}"]
    with pytest.warns(DeprecationWarning, match="'dropped_context' was split from 'uninstrumented_hop'"):
        old = tk.health_report(sim.spans, checks=["uninstrumented_hop"])
    assert set(old["check"]) == {"dropped_context", "uninstrumented_hop"}
    assert old[old["check"] == "dropped_context"].drop(columns="example_trace_ids").equals(
        alone.drop(columns="example_trace_ids"))
    # no dropped context to report: the old selection stays quiet
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quiet = tk.health_report(mk(GOOD), checks=["uninstrumented_hop"])
    assert quiet.empty


def test_uninstrumented_hop_says_orphans_in_the_same_trace_not_traces_of_their_own():
    """Issue 29: a callee whose spans are orphans in the caller's own trace (the context got through, a
    span between them was lost) was said to "start traces of their own"; only its root spans do."""
    calls = [(t, 1, None, "gateway", "GET /", "server", 0, 100) for t in (1, 2)] + [
        (t, 2, 1, "gateway", "proxy", "client", 1, 99) for t in (1, 2)]
    attrs = [{}, {}, {"peer.service": "frontend"}, {"peer.service": "frontend"}]
    # the frontend answers as orphans in the same traces 1 and 2 (their parent, a proxy's span, was lost)
    same = mk(calls + [(t, 3, 9, "frontend", "GET /", "server", 2, 98) for t in (1, 2)], attributes=attrs + [{}, {}])
    w = tk.health_report(same, checks=["missing_span_on_hop", "dropped_context"])
    assert w["subject"].tolist() == ["gateway → frontend"]
    assert w["check"].tolist() == ["missing_span_on_hop"]  # the context got through: a span between them is missing
    text = w["explanation"].iloc[0]
    assert "start traces of their own" not in text and "dropped" not in text
    assert "2 frontend spans in these same traces are orphans" in text
    assert "tk.reconnect(spans)" in text
    # the frontend answers as roots of new traces 3 and 4: those do start traces of their own
    new = mk(calls + [(t, 3, None, "frontend", "GET /", "server", 2, 98) for t in (3, 4)], attributes=attrs + [{}, {}])
    text = tk.health_report(new, checks=["dropped_context"])["explanation"].iloc[0]
    assert "2 frontend root spans start traces of their own" in text and "orphans" not in text
    # frontend orphans only in an unrelated trace 5: neither a new trace nor an answer in these traces
    other = mk(calls + [(5, 3, 9, "frontend", "GET /", "server", 2, 98)], attributes=attrs + [{}])
    text = tk.health_report(other, checks=["dropped_context"])["explanation"].iloc[0]
    assert "start traces of their own" not in text and "orphans" not in text and "no root spans in the data" in text
    # both: one orphan in trace 1, one root in trace 3
    both = mk(calls + [(1, 3, 9, "frontend", "GET /", "server", 2, 98), (3, 3, None, "frontend", "GET /", "server", 2, 98)],
              attributes=attrs + [{}, {}])
    text = tk.health_report(both, checks=["dropped_context"])["explanation"].iloc[0]
    assert "1 frontend root span starts a trace of its own" in text and "1 frontend span in these same traces is an orphan" in text


def test_a_span_missing_between_caller_and_callee_is_its_own_check_and_the_old_selection_still_finds_it():
    """gateway's client spans to frontend have no answer below them, and frontend — instrumented — answers in the
    same traces as orphans naming a parent that is not in the data (a proxy's span, or a second client span of the
    gateway's, was not exported). health_report said "uninstrumented_hop gateway → frontend", a warning: but
    frontend is instrumented and the context got through; what is missing is a span between them. The check is now
    named what it found, missing_span_on_hop. orphan_spans does not already say it: it counts the callee's orphans
    (every service's together, no hop), where this row names the hop and counts the caller's unanswered calls.
    Selecting uninstrumented_hop, as older code does, still finds it (named missing_span_on_hop) with a
    DeprecationWarning, as dropped_context was split. Truth by construction: the literal spans below."""
    spans = mk(
        [(t, 1, None, "gateway", "GET /", "server", 0, 100) for t in (1, 2)]
        + [(t, 2, 1, "gateway", "proxy", "client", 1, 99) for t in (1, 2)]
        # frontend answers in the same traces, naming span 9 (lost) as its parent
        + [(t, 3, 9, "frontend", "GET /", "server", 2, 98) for t in (1, 2)]
        # frontend's call to a third party that reports no spans: an uninstrumented hop
        + [(t, 4, 3, "frontend", "POST", "client", 10, 20) for t in (1, 2)],
        attributes=[{}, {}, {"peer.service": "frontend"}, {"peer.service": "frontend"}, {}, {},
                    {"url.full": "https://api.partner.example/v1/pay"}, {"url.full": "https://api.partner.example/v1/pay"}],
    )
    r = tk.health_report(spans)
    hop = r[r["subject"] == "gateway → frontend"]
    assert hop["check"].tolist() == ["missing_span_on_hop"] and hop["severity"].tolist() == ["warning"]
    assert (hop["traces_affected"].iloc[0], hop["spans_affected"].iloc[0]) == (2, 2)  # gateway's 2 client spans
    assert "2 frontend spans in these same traces are orphans" in hop["explanation"].iloc[0]
    # uninstrumented_hop is left with the callee that reports no spans
    assert rows(r, "uninstrumented_hop")["subject"].tolist() == ["frontend → api.partner.example"]
    # orphan_spans counts the other side: frontend's 2 orphans, not the hop nor the gateway's calls
    orphans = one(r, "orphan_spans")
    assert (orphans["spans_affected"], orphans["subject"]) == (2, "")
    assert "gateway" not in orphans["explanation"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        alone = tk.health_report(spans, checks=["missing_span_on_hop"])
    assert alone["subject"].tolist() == ["gateway → frontend"]
    with pytest.warns(DeprecationWarning, match="'missing_span_on_hop' was split from 'uninstrumented_hop'"):
        old = tk.health_report(spans, checks=["uninstrumented_hop"])
    assert set(old["check"]) == {"missing_span_on_hop", "uninstrumented_hop"}
    assert old[old["check"] == "missing_span_on_hop"].reset_index(drop=True).equals(alone)
    # nothing missing on a hop: the old selection stays quiet
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tk.health_report(mk(GOOD), checks=["uninstrumented_hop"]).empty


def test_child_outside_parent_skew_suspects():
    spans = mk(
        [
            (1, 1, None, "web", "GET", "server", 0, 100),
            (1, 2, 1, "web", "call", "client", 10, 20),
            (1, 3, 2, "inv", "serve", "server", 15, 25),  # ends 5 ms after its parent
            (1, 4, 1, "web", "call2", "client", 30, 40),
            (1, 5, 4, "inv", "serve", "server", 29.5, 39),  # starts 0.5 ms early
            (1, 6, 1, "web", "publish", "producer", 50, 51),
            (1, 7, 6, "mq", "consume", "consumer", 60, 200),  # async: never flagged
        ]
    )
    r = tk.health_report(spans, checks=["child_outside_parent"])
    assert r[["subject", "severity", "spans_affected"]].values.tolist() == [["web → inv", "warning", 2]]
    r1 = tk.health_report(spans, checks=["child_outside_parent"], skew_tolerance_ms=1.0)
    assert r1["spans_affected"].tolist() == [1]


def test_dropped_data():
    spans = mk(
        [(1, 1, None, "a", "x", "server", 0, 1), (2, 1, None, "a", "x", "server", 0, 1), (3, 1, None, "a", "x", "server", 0, 1)],
        attributes=[{"otel.dropped_attributes_count": 3, "otel.dropped_events_count": 0}, {"otel.dropped_links_count": "2"},
                    {"otel.dropped_events_count": 0}],
    )
    d = one(tk.health_report(spans, checks=["dropped_data"]), "dropped_data")
    assert (d["traces_affected"], d["spans_affected"], d["example_trace_ids"]) == (2, 2, [tid(1), tid(2)])
    assert "attributes: 1 spans" in d["explanation"] and "links: 1 spans" in d["explanation"]


def test_results_do_not_depend_on_the_index_or_row_order():
    sim = tk.simulate.simulate("context-drop", n_traces=200, seed=5)
    s = sim.spans
    s2 = s.iloc[::-1].copy()
    s2.index = np.arange(len(s2))[::-1] * 7 + 3
    cols = ["check", "subject", "traces_affected", "spans_affected"]
    r1, r2 = tk.health_report(s)[cols], tk.health_report(s2)[cols]
    pd.testing.assert_frame_equal(r1, r2)
    assert (tk.self_time(s)["self_ms"].to_numpy()[::-1] == tk.self_time(s2)["self_ms"].to_numpy()).all()


@pytest.mark.slow  # over 1.9 s in the fast lane at load 13 on 2 cores (issue 28)
def test_combine_findings_of_partitions_equals_whole():
    from tracekit.analysis.health import NOT_ADDITIVE, combine_findings

    spans = tk.simulate.simulate("context-drop", n_traces=300, seed=2).spans
    codes = pd.factorize(spans["trace_id"])[0]
    parts = [spans[codes % 3 == k] for k in range(3)]  # traces kept whole
    n = spans["trace_id"].nunique()
    whole = tk.health_report(spans)
    combined = combine_findings([tk.health_report(p) for p in parts], n_traces=n)
    skip = set(NOT_ADDITIVE) | {"high_cardinality_attribute"}
    cols = ["check", "severity", "subject", "traces_affected", "spans_affected", "share"]
    w = whole[~whole["check"].isin(skip)][cols].reset_index(drop=True)
    c = combined[~combined["check"].isin(skip)][cols].reset_index(drop=True)
    pd.testing.assert_frame_equal(w, c)
    for check in ("trace_completeness", "failed_request_ratio"):
        assert one(combined, check)["value"] == pytest.approx(one(whole, check)["value"])


def test_high_cardinality_attribute():
    n = 20
    spans = mk(
        [(t, 1, None, "api", "GET", "server", 0, 1) for t in range(1, n + 1)],
        attributes=[{"user.id": f"u{t}", "route": "/x", "nested": {"a": [t]}} for t in range(n)],
    )
    r = tk.health_report(spans, checks=["high_cardinality_*"], cardinality_min_distinct=10, cardinality_min_ratio=0.5)
    assert r["subject"].tolist() == ["nested", "user.id"]
    assert r["value"].tolist() == [20.0, 20.0]
    assert r["spans_affected"].tolist() == [20, 20]
    assert len(tk.health_report(spans, checks=["high_cardinality_attribute"])) == 0  # default needs 100 distinct


def test_high_cardinality_sampled_screen_reports_exact_counts():
    n = 400
    spans = mk(
        [(t, 1, None, "api", "GET", "server", 0, 1) for t in range(1, n + 1)],
        attributes=[{"req": f"r{t}", "tier": ["free", "pro"][t % 2], "pair": f"p{t // 2}", "list": [t % 3]}
                    for t in range(n)],
    )
    kw = dict(checks=["high_cardinality_attribute"], cardinality_min_distinct=50, cardinality_min_ratio=0.3)
    exact = tk.health_report(spans, **kw)
    sampled = tk.health_report(spans, cardinality_sample=60, **kw)
    assert exact[["subject", "value", "spans_affected"]].values.tolist() == [["req", 400.0, 400], ["pair", 200.0, 400]]
    pd.testing.assert_frame_equal(exact, sampled)


def test_high_cardinality_null_values_count_once_and_do_not_crash():
    # a None value (JSON null) made the pair code negative: ValueError in bincount when the key
    # came first, and its distinct count credited to the previous key otherwise
    n = 20
    spans = mk(
        [(t, 1, None, "api", "GET", "server", 0, 1) for t in range(1, n + 1)],
        attributes=[{"note": None, "req": f"r{t}", "tag": None if t % 2 else "x"} for t in range(n)],
    )
    kw = dict(checks=["high_cardinality_attribute"], cardinality_min_distinct=2, cardinality_min_ratio=0.05)
    r = tk.health_report(spans, **kw)
    assert r[["subject", "value", "spans_affected"]].values.tolist() == [["req", 20.0, 20], ["tag", 2.0, 20]]
    pd.testing.assert_frame_equal(r, tk.health_report(spans, cardinality_sample=10, **kw))


def test_seed_metrics_exact():
    # durations 10, 20, ..., 100 ms; trace 3 has an error span in 'db'; trace 4 a fault in 'api'
    rows_ = []
    for t in range(1, 11):
        rows_ += [(t, 1, None, "api", "GET", "server", 0, 10 * t), (t, 2, 1, "api", "q", "client", 1, 2), (t, 3, 2, "db", "q", "server", 1, 2)]
    status = ["ok"] * 30
    status[3 * 2 + 2] = "error"
    fault = [False] * 30
    fault[3 * 3] = True
    r = tk.health_report(mk(rows_, status=status, fault=fault))
    # a failed request is one whose root span failed: trace 4 (fault on its root); trace 3's error is
    # in a db child and the request itself succeeded
    assert one(r, "failed_request_ratio")["value"] == pytest.approx(0.1)
    assert one(r, "failed_request_ratio")["example_trace_ids"] == [tid(4)]
    er = rows(r, "span_error_rate")
    assert er["subject"].tolist() == ["api", "db"]
    assert er["value"].tolist() == pytest.approx([1 / 20, 1 / 10])
    assert one(r, "p95_request_latency_ms")["value"] == np.percentile(np.arange(10, 101, 10), 95, method="inverted_cdf") == 100
    assert one(r, "p95_request_latency_ms")["example_trace_ids"] == [tid(10)]
    tp = one(r, "top_call_path")
    assert (tp["subject"], tp["value"], tp["share"]) == ("api → db", 10.0, 1.0)


def test_top_call_paths_counts_terminal_paths_once_per_trace():
    spans = mk(
        [
            (1, 1, None, "a", "r", "server", 0, 10),
            (1, 2, 1, "b", "x", "server", 1, 2),
            (1, 3, 2, "c", "y", "server", 1, 2),
            (1, 4, 1, "b", "x", "server", 3, 4),
            (1, 5, 4, "c", "y", "server", 3, 4),  # same path twice in trace 1: counted once
            (2, 1, None, "a", "r", "server", 0, 10),
            (2, 2, 1, "b", "x", "server", 1, 2),  # a → b ends here
            (2, 3, 1, "a", "inner", "internal", 3, 4),
            (2, 4, 3, "c", "y", "server", 3, 4),  # a → c (through an internal span of a)
        ]
    )
    r = tk.health_report(spans, checks=["top_call_path"])
    assert r[["subject", "value"]].values.tolist() == [["a → b", 1.0], ["a → b → c", 1.0], ["a → c", 1.0]]


def test_check_selection_and_errors():
    spans = mk(GOOD)
    assert tk.health_report(spans, checks=["orphan_spans"]).empty
    with pytest.raises(tk.TraceKitError, match="unknown health check"):
        tk.health_report(spans, checks=["no_such_check"])
    with pytest.raises(tk.TraceKitError, match="missing columns"):
        tk.health_report(pd.DataFrame({"trace_id": ["x"]}))
    empty = tk.health_report(tk.empty_spans())
    assert list(empty.columns) == list(FINDING_COLUMNS) and empty.empty
    assert list(CHECKS)[:3] == ["duplicate_span_ids", "parent_cycles", "orphan_spans"]


# ------------------------------------------------------------------------------ simulator


def test_context_drop_scenario_names_the_hop():
    sim = tk.simulate.simulate("context-drop", n_traces=600, seed=7)
    truth = sim.truth
    r = tk.health_report(sim.spans, checks=["dropped_context"])
    warn = r[r["severity"] == "warning"]
    assert warn["subject"].tolist() == [f"{truth.caller} → {truth.callee}"]
    assert warn["traces_affected"].iloc[0] == truth.n_dropped > 0
    originals = {a for a, _ in truth.dropped}
    assert set(warn["example_trace_ids"].iloc[0]) <= originals


def test_clock_skew_scenario_flags_the_skewed_service_pair():
    sim = tk.simulate.simulate("clock-skew", n_traces=300, seed=3)
    r = tk.health_report(sim.spans, checks=["child_outside_parent"])
    assert len(r) == 1
    assert r["subject"].iloc[0].endswith(f"→ {sim.truth.service}")
    base = tk.health_report(tk.simulate.simulate("baseline", n_traces=300, seed=3).spans, checks=["child_outside_parent"])
    assert base.empty


# ------------------------------------------------------------------------------ real data

XRAY_FILES = [
    "aws-cli-examples-xray/batch-traces-get.rst.output.json",
    "aws-xray-developer-guide/xray-api-gettingdata.md.BatchGetTraces-output.json",
    *[f"otel-contrib-awsxray-testdata/{n}.txt" for n in (
        "awsMissingAwsField", "awsValidAwsFields", "ddbSample", "indepSubsegment", "indepSubsegmentWithInvalidSqlUrl",
        "indepSubsegmentWithSql", "invalidNamespace", "minCauseIsExceptionId", "minCauseIsInvalid", "minInProgress",
        "minOtherFields", "segmentValidationFailed", "serverSample")],
    *[f"otel-contrib-awsxray-testdata-upstream/{n}.txt" for n in (
        "indepSubsegmentWithContentLengthString", "indepSubsegmentWithLocalNamespace", "segmentWithParentId")],
]
OTLP_FILES = [
    "jaeger/apiv3-snapshots/FindTraces.json",
    "jaeger/apiv3-snapshots/GetTrace.json",
    "jaeger/jaegerquery-fixture/otlp2jaeger-in.json",
    "jaeger/memory-fixtures/otel_traces_01.json",
    "jaeger-ui/utils-fixtures/otlp2jaeger-in-error.json",
    "jaeger-ui/utils-fixtures/otlp2jaeger-in.json",
    "jaeger-ui/utils-fixtures/otlp2jaeger-multi-in-combined.json",
    "jaeger-ui/utils-fixtures/otlp2jaeger-multi-in.json.txt",
    "opentelemetry-proto/trace.json",
    "opentelemetry-specification/file-exporter.md.traces-example.jsonl",
    "opentelemetry.io/getting-started.md.rust-stdout-exporter-output.json",
]


def _read(path, kind):
    reader = tk.read_xray if kind == "xray" else tk.read_otlp
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return reader(path, errors="skip")


@pytest.mark.parametrize(
    "rel,kind", [(f, "xray") for f in XRAY_FILES] + [(f, "otlp") for f in OTLP_FILES], ids=lambda v: str(v).split("/")[-1]
)
def test_every_real_file_runs(real_traces, rel, kind):
    spans = _read(real_traces / rel, kind)
    before = snapshot(spans)
    r = tk.health_report(spans)
    pd.testing.assert_frame_equal(spans, before)
    assert list(r.columns) == list(FINDING_COLUMNS)
    n_traces = spans["trace_id"].nunique()
    assert (r["traces_affected"] <= n_traces).all()
    assert (r["spans_affected"] <= len(spans)).all()
    if len(spans):
        assert "trace_completeness" in set(r["check"])


def test_integration_fixtures_run(real_traces):
    files = sorted((real_traces / "jaeger" / "integration-fixtures-traces").glob("*.json"))
    assert len(files) >= 30
    spans = _read(files, "otlp")
    r = tk.health_report(spans)
    # example_trace.json: several root spans in one trace; multi_index_trace.json too
    assert one(r, "multiple_roots")["traces_affected"] >= 1


@pytest.mark.slow  # over 1.9 s in the fast lane at load 13 on 2 cores (issue 28)
def test_real_expected_findings(real_traces):
    # OTLP examples whose parents are not in the file
    proto = tk.health_report(_read(real_traces / "opentelemetry-proto/trace.json", "otlp"))
    assert (one(proto, "orphan_spans")["spans_affected"], one(proto, "no_root")["traces_affected"]) == (1, 1)
    err = tk.health_report(_read(real_traces / "jaeger-ui/utils-fixtures/otlp2jaeger-in-error.json", "otlp"))
    assert one(err, "orphan_spans")["spans_affected"] == 1
    mem = tk.health_report(_read(real_traces / "jaeger/memory-fixtures/otel_traces_01.json", "otlp"))
    assert one(mem, "orphan_spans")["traces_affected"] == 2
    # the jaeger-query fixture gives one span twice, equal in every field: one span (the reader counts the copy)
    twice = _read(real_traces / "jaeger/jaegerquery-fixture/otlp2jaeger-in.json", "otlp")
    assert len(twice) == 1 and twice.attrs["copies_dropped"] == 1
    assert "duplicate_span_ids" not in set(tk.health_report(twice)["check"])
    # two different spans with one id are both kept and reported
    differ = pd.concat([twice, twice.assign(name="other")], ignore_index=True)
    d = one(tk.health_report(differ), "duplicate_span_ids")
    assert (d["traces_affected"], d["spans_affected"]) == (1, 2)
    # inferred DynamoDB (and SNS) segments in X-Ray output
    cli = tk.health_report(_read(real_traces / "aws-cli-examples-xray/batch-traces-get.rst.output.json", "xray"))
    assert one(cli, "inferred_segments")["spans_affected"] == 1
    assert rows(cli, "callee_only_services")["subject"].tolist() == ["DynamoDB"]
    guide = tk.health_report(_read(real_traces / "aws-xray-developer-guide/xray-api-gettingdata.md.BatchGetTraces-output.json", "xray"))
    assert one(guide, "inferred_segments")["spans_affected"] == 2
    assert rows(guide, "callee_only_services")["subject"].tolist() == ["DynamoDB", "SNS"]
    # the in-progress segment
    ip = tk.health_report(_read(real_traces / "otel-contrib-awsxray-testdata/minInProgress.txt", "xray"))
    assert one(ip, "in_progress_spans")["spans_affected"] == 1
    assert one(ip, "trace_completeness")["value"] == 0.0
    # a remote subsegment sent on its own: its parent is missing and nothing answers the call
    ind = tk.health_report(_read(real_traces / "otel-contrib-awsxray-testdata/indepSubsegment.txt", "xray"))
    assert one(ind, "orphan_spans")["spans_affected"] == 1
    assert one(ind, "uninstrumented_hop")["subject"].endswith("→ api.example.com")
    # a whole real capture is clean
    ddb = tk.health_report(_read(real_traces / "otel-contrib-awsxray-testdata/ddbSample.txt", "xray"))
    assert one(ddb, "trace_completeness")["value"] == 1.0
    assert not set(ddb["severity"]) & {"error", "warning"}


def test_async_handoffs_are_not_skew_suspects():
    # X-Ray has no producer/consumer kinds: an SQS SendMessage subsegment (client) is the parent of
    # the Lambda segment that consumes the message later
    spans = mk(
        [
            (1, 1, None, "checkout", "POST", "server", 0, 100),
            (1, 2, 1, "checkout", "orders publish", "client", 90, 95),
            (1, 3, 2, "fulfillment", "fulfillment", "server", 130, 140),
            (1, 4, 1, "checkout", "notify", "client", 96, 97),
            (1, 5, 4, "mailer", "send", "server", 98, 150),  # an OTel messaging span as parent
            (1, 6, 1, "checkout", "call", "client", 10, 20),
            (1, 7, 6, "payments", "pay", "server", 15, 25),  # a real suspect
        ],
        attributes=[{}, {"namespace": "aws", "aws.operation": "SendMessage"}, {}, {"messaging.system": "kafka"}, {}, {}, {}],
    )
    r = tk.health_report(spans, checks=["child_outside_parent"])
    assert r["subject"].tolist() == ["checkout → payments"]
    sk = tk.detect_clock_skew(spans, min_pairs=1)
    assert sorted(sk["service"].tolist()) == ["checkout", "payments"]  # no pair for fulfillment or mailer


def test_uninstrumented_hop_does_not_blame_context_for_calls_that_failed_before_a_response():
    # trace 1: frontend calls inventory and gets a 200, answered by inventory's server span
    # trace 2: frontend's call to inventory is refused (error, no HTTP status): nothing could answer
    # trace 3: frontend's call to inventory returns 200 but nothing answers below it: context dropped;
    #          inventory has no root spans anywhere, so it does not "start traces of its own"
    spans = mk(
        [
            (1, 1, None, "frontend", "GET /", "server", 0, 100), (1, 2, 1, "frontend", "GET /stock", "client", 10, 50),
            (1, 3, 2, "inventory", "GET /stock", "server", 12, 48),
            (2, 1, None, "frontend", "GET /", "server", 0, 100), (2, 2, 1, "frontend", "GET /stock", "client", 10, 11),
            (3, 1, None, "frontend", "GET /", "server", 0, 100), (3, 2, 1, "frontend", "GET /stock", "client", 10, 50),
        ],
        attributes=[{}, {"peer.service": "inventory"}, {}, {}, {"peer.service": "inventory"}, {}, {"peer.service": "inventory"}],
        status=["ok", "ok", "ok", "error", "error", "ok", "ok"],
        status_message=[None, None, None, "upstream failed", "connection refused", None, None],
        http_status=pd.array([200, 200, 200, 502, None, 200, 200], dtype="Int64"),
    )
    r = tk.health_report(spans, checks=["uninstrumented_hop", "dropped_context"])
    warn = r[r["severity"] == "warning"]
    assert warn["subject"].tolist() == ["frontend → inventory"] and warn["check"].tolist() == ["dropped_context"]
    assert warn["example_trace_ids"].tolist() == [[tid(3)]]  # not the refused call of trace 2
    assert "start traces of their own" not in warn["explanation"].iloc[0] and "no root spans" in warn["explanation"].iloc[0]
    # only refused calls: an info finding that says nothing could answer, no context blamed
    r2 = tk.health_report(spans[spans["trace_id"] != tid(3)], checks=["uninstrumented_hop"])
    assert r2["severity"].tolist() == ["info"] and "failed before any response" in r2["explanation"].iloc[0]


def test_span_times_the_readers_flagged_are_reported_one_row_per_problem():
    """OTLP end 0 (loaded as in progress) and an end before the start (X-Ray and OTLP) are listed, not only
    flagged in an attribute nobody reads."""
    def span(sid, start, end):
        return {"traceId": "1" * 32, "spanId": sid, "name": "x", "kind": 2, "startTimeUnixNano": start,
                "endTimeUnixNano": end}
    doc = {"resourceSpans": [{"scopeSpans": [{"spans": [
        span("a" * 16, "1700000000000000000", "0"),
        span("b" * 16, "1700000000000000000", "1600000000000000000"),
        span("c" * 16, "1700000000000000000", "1700000000100000000")]}]}]}
    otlp = tk.health_report(tk.read_otlp(doc), checks=["bad_span_times", "in_progress_spans"])
    bad = otlp[otlp["check"] == "bad_span_times"].set_index("subject")
    assert sorted(bad.index) == ["end_before_start", "end_time_zero"]
    assert (bad["spans_affected"] == 1).all() and (bad["severity"] == "warning").all()
    assert "negative duration" in bad.loc["end_before_start", "explanation"]
    assert one(otlp, "in_progress_spans")["spans_affected"] == 1  # end 0 is also in progress
    seg = {"trace_id": "1-5759e988-bd862e3fe1be46a994272793", "id": "d" * 16, "name": "web",
           "start_time": 1700000001.0, "end_time": 1700000000.5}
    xray = tk.health_report(tk.read_xray([seg]), checks=["bad_span_times"])
    assert xray["subject"].tolist() == ["end_before_start"] and xray["spans_affected"].tolist() == [1]
    assert tk.health_report(tk.read_otlp(doc).iloc[2:], checks=["bad_span_times"]).empty


def test_a_callee_orphaned_in_the_same_trace_does_not_start_a_trace_of_its_own():
    """web's call to inventory has no child, and inventory's server span sits in the same trace with a parent id
    naming a span not in the data (an orphan). Orphans were counted as roots, so the finding said "Those inventory
    spans start traces of their own" and blamed a dropped context; the trace id did cross the hop."""
    def spans(extra: bool):
        rows = [(1, 1, None, "web", "GET /", "server", 0, 100), (1, 2, 1, "web", "GET /stock", "client", 10, 30),
                (1, 3, 99, "inventory", "GET /stock", "server", 12, 28)]
        if extra:  # a second call whose answer is the root of a trace of its own
            rows += [(2, 1, None, "web", "GET /", "server", 0, 100), (2, 2, 1, "web", "GET /stock", "client", 10, 30),
                     (3, 1, None, "inventory", "GET /stock", "server", 12, 28)]
        return mk(rows, attributes=[{"peer.service": "inventory"} if r[5] == "client" else {} for r in rows])

    same = tk.health_report(spans(False), checks=["missing_span_on_hop"]).iloc[0]["explanation"]
    assert "start traces of their own" not in same and "dropped" not in same
    assert "1 inventory span in these same traces is an orphan" in same and "the trace context got through" in same
    mixed = tk.health_report(spans(True), checks=["dropped_context"]).iloc[0]["explanation"]
    assert "1 inventory root span starts a trace of its own" in mixed  # the other call's answer: a new trace
    assert "1 inventory span in these same traces is an orphan" in mixed


def test_a_consumer_that_starts_before_its_producer_is_outside_its_parent():
    """A consumer may outlive its producer (asynchronous) but cannot start before it: every consumer child was left
    out of child_outside_parent, so a skewed clock on a queue's consumer host went unsaid."""
    ms = 1_000_000
    spans = tk.spans_from_columns({
        "trace_id": ["1" * 32] * 3, "span_id": ["a" * 16, "b" * 16, "c" * 16], "parent_id": [None, "a" * 16, "b" * 16],
        "service": ["web", "web", "worker"], "name": ["POST /", "jobs publish", "jobs process"],
        "kind": ["server", "producer", "consumer"], "start": [100 * ms, 110 * ms, 50 * ms], "end": [200 * ms, 120 * ms, 400 * ms]})
    h = tk.health_report(spans)
    row = h[h["check"] == "child_outside_parent"]
    assert row["subject"].tolist() == ["web → worker"] and int(row["spans_affected"].iloc[0]) == 1
    late = spans.assign(start=spans["start"].where(spans["span_id"] != "c" * 16, spans["start"].iloc[1] + pd.Timedelta(5, "ms")))
    assert "child_outside_parent" not in set(tk.health_report(late)["check"])  # outliving it: asynchronous, fine
