"""tk.reconnect (issue 20): propose the caller of spans that started a new trace or name a missing parent.

Ground truth: datasets/broken-context (its truth file lists every (original trace, new trace) pair
where the gateway dropped the context, and every (trace, missing parent) where its client span was
lost) and a denser simulation of the same scenario; a literal case for the one-to-one assignment.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import tracekit as tk
from tracekit.analysis.reconnect import RECONNECT_TABLE
from tracekit.errors import ArgumentError
from tracekit.schema import SpansSchemaError
from tracekit.simulate import AppConfig

REPO = Path(__file__).resolve().parents[1]


def _scores(r, truth_dropped, truth_orphaned):
    d = r[r["case"] == "dropped_context"]
    got = set(zip(d["client_trace_id"], d["root_trace_id"], strict=True))
    truth = set(map(tuple, truth_dropped))
    m = r[r["case"] == "missing_parent"]
    got_m = set(zip(m["client_trace_id"], m["client_span_id"], strict=True))
    return len(got & truth) / max(1, len(got)), len(got & truth) / len(truth), got_m, set(map(tuple, truth_orphaned))


@pytest.fixture(scope="module")
def broken():
    spans = tk.read(REPO / "datasets" / "broken-context")
    truth = json.loads((REPO / "datasets" / "truth" / "broken-context.json").read_text())
    return spans, truth


@pytest.mark.slow  # 2.1 s in the fast lane (2 loaded cores, issue 28)
def test_broken_context_dataset_pairs_are_recovered(broken):
    spans, truth = broken
    r = tk.reconnect(spans)
    assert list(r.columns) == RECONNECT_TABLE.column_names
    assert [str(t) for t in r.dtypes] == [c.dtype for c in RECONNECT_TABLE.columns]
    precision, recall, got_m, truth_m = _scores(r, truth["dropped"], truth["orphaned"])
    assert precision >= 0.95 and recall >= 0.9, (precision, recall)
    assert got_m == truth_m and len(truth_m) == truth["n_orphaned"] > 0
    d = r[r["case"] == "dropped_context"]
    assert set(d["client_service"]) == {"api-gateway"} and set(d["root_service"]) == {"frontend"}
    assert (d["score"] > 0.9).all() and (d["gap_ms"] > 0).all()
    m = r[r["case"] == "missing_parent"]
    assert (m["score"] == 1.0).all() and set(m["client_service"]) == {"api-gateway"}  # the caller holding the orphan
    # one proposal per client span, and per new root
    assert not d["client_span_id"].duplicated().any() and not d["root_span_id"].duplicated().any()
    assert "workflow_id" not in spans.columns and "score" not in spans.columns  # input untouched


@pytest.mark.slow  # 3.5 s in the fast lane (2 loaded cores, issue 28)
def test_dense_traffic_still_pairs_correctly():
    # 5000 requests in 2 minutes: ~40 in flight at once, so many clients compete for each new root
    sim = tk.simulate.simulate("context-drop", n_traces=5000, seed=5, share=0.1, orphan_share=0.05,
                               config=AppConfig(duration_s=120))
    r = tk.reconnect(sim.spans)
    precision, recall, got_m, truth_m = _scores(r, sim.truth.dropped, sim.truth.orphaned)
    assert precision >= 0.95 and recall >= 0.95, (precision, recall)
    assert got_m == truth_m


def test_assignment_is_one_to_one_not_greedy():
    # two unanswered gateway calls; a names no callee (any service, score × 0.8), b calls "web":
    # a  |----------|          0..100 ms      x (web)  |---------|   1..99    a–x 0.78, b–x 0.49
    # b  |--------------------| 0..200        y (api2)    |------|   10..90   a–y 0.64, b–y: not b's callee
    # Greedy by score takes a–x first and strands b and y; the assignment pairs a–y and b–x (1.13 > 0.78).
    ms = 1_000_000
    spans = tk.spans_from_columns({
        "trace_id": ["1" * 32, "1" * 32, "2" * 32, "2" * 32, "3" * 32, "4" * 32],
        "span_id": ["a0" * 8, "a1" * 8, "b0" * 8, "b1" * 8, "c0" * 8, "d0" * 8],
        "parent_id": [None, "a0" * 8, None, "b0" * 8, None, None],
        "service": ["gw", "gw", "gw", "gw", "web", "api2"],
        "name": ["GET /", "GET /", "GET /", "GET /", "GET /", "GET /"],
        "kind": ["server", "client", "server", "client", "server", "server"],
        "start": [0, 0, 0, 0, 1 * ms, 10 * ms], "end": [101 * ms, 100 * ms, 201 * ms, 200 * ms, 99 * ms, 90 * ms],
        "attributes": [{}, {}, {}, {"peer.service": "web"}, {}, {}]})
    r = tk.reconnect(spans, min_score=0.3)
    pairs = sorted(zip(r["client_span_id"], r["root_span_id"], strict=True))
    assert pairs == [("a1" * 8, "d0" * 8), ("b1" * 8, "c0" * 8)]
    assert r.set_index("client_span_id")["score"].round(3).to_dict() == {"a1" * 8: 0.64, "b1" * 8: 0.49}
    # with the default min_score (0.5) b–x is too loose a fit: a keeps its best root, b gets none
    r = tk.reconnect(spans)
    assert list(zip(r["client_span_id"], r["root_span_id"], strict=True)) == [("a1" * 8, "c0" * 8)]


def test_health_report_points_to_reconnect(broken):
    spans, _ = broken
    hr = tk.health_report(spans)
    text = " ".join(hr.loc[hr["check"].isin(["uninstrumented_hop", "dropped_context", "missing_span_on_hop",
                                                "orphan_spans"]), ["explanation", "what_to_do"]].to_numpy().ravel())
    assert "tk.reconnect(spans)" in text


def test_real_missing_parents(real_traces):
    p = real_traces / "jaeger" / "memory-fixtures" / "otel_traces_01.json"
    if not p.exists():
        pytest.skip(f"real traces not found at {real_traces}")
    spans = tk.read(p)
    r = tk.reconnect(spans)
    assert set(r["case"]) == {"missing_parent"}
    pid = dict(zip(spans["span_id"], spans["parent_id"], strict=True))
    assert all(pid[s] == c for s, c in zip(r["root_span_id"], r["client_span_id"], strict=True))
    assert len(r) == spans.groupby("trace_id")["parent_id"].nunique().sum()  # one row per missing parent


def test_errors_and_empty():
    spans = tk.examples.load("broken-context-small")
    with pytest.raises(ArgumentError, match="min_score"):
        tk.reconnect(spans, min_score=2)
    with pytest.raises(ArgumentError, match="max_gap_ms"):
        tk.reconnect(spans, max_gap_ms=-1)
    with pytest.raises(SpansSchemaError, match="reconnect"):
        tk.reconnect(spans.drop(columns="kind"))
    e = tk.reconnect(tk.empty_spans())
    assert e.empty and list(e.columns) == RECONNECT_TABLE.column_names
    assert np.isfinite(tk.reconnect(spans)["score"]).all()
