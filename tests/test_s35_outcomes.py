"""One definition of a failed span and of an answered call (review s35, area "outcomes").

- whether a client call is answered (tracekit.core.calls): the service graph, health's unanswered-call checks and
  the dropped-context pairs (trace_outcomes' ``continues``) agree on generated traces whose truth is known by
  construction — answered, unanswered, instrumented twice (requests over urllib3), self-calls, databases;
- what counts as a failed span: the span's own status (tracekit.core.failed), never an ERROR log record, in every
  module that counts failures; ERROR records are evidence, counted where errors originate;
- status codes as the sources give them (OTLP ints and enum names, X-Ray flags, HTTP status keys).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.core import unanswered_calls
from tracekit.core.dropped_context import dropped_context_candidates

MS = 1_000_000

# --------------------------------------------------------------------------- answered calls: one definition

#: call shapes: (spans under the caller's server span as (kind, service, attributes-of-client) levels, callee,
#: unanswered) — each shape is one call of web's
_SHAPES = {
    "answered": ([("client", "web"), ("server", "orders")], "orders", False),
    "twice": ([("client", "web"), ("client", "web"), ("server", "orders")], "orders", False),
    "thrice": ([("client", "web"), ("client", "web"), ("client", "web"), ("server", "orders")], "orders", False),
    "lost": ([("client", "web")], "orders", True),
    "lost_twice": ([("client", "web"), ("client", "web")], "orders", True),
    "self": ([("client", "web"), ("server", "web")], "web", False),
    "db": ([("client", "web")], "shop", True),
    "db_twice": ([("client", "web"), ("client", "web")], "shop", True),
    "third_party": ([("client", "web")], "card-network", True),
}
_ATTRS = {"orders": {"peer.service": "orders"}, "web": {"peer.service": "web"},
          "shop": {"db.system": "postgresql", "db.name": "shop"}, "card-network": {"peer.service": "card-network"}}


def _generated(n_traces: int = 60, seed: int = 7):
    """Traces of web's calls in random shapes; returns the spans and the truth: per callee the calls made, the
    unanswered ones, and the rows of the unanswered calls' outermost client spans."""
    rng = np.random.default_rng(seed)
    cols = {k: [] for k in ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end", "attributes")}
    calls: dict[str, int] = {}
    lost: dict[str, int] = {}
    lost_rows: list[int] = []
    names = list(_SHAPES)

    def add(t, parent, service, kind, start, end, attrs):
        s = f"{t + 1:08x}{len(cols['trace_id']) + 1:08x}"
        for k, v in (("trace_id", f"{t + 1:032x}"), ("span_id", s), ("parent_id", parent), ("service", service),
                     ("name", f"{kind} {service}"), ("kind", kind), ("start", start), ("end", end),
                     ("attributes", attrs)):
            cols[k].append(v)
        return s
    for t in range(n_traces):
        root = add(t, None, "web", "server", 0, 1000 * MS, {})
        for c in range(int(rng.integers(1, 5))):
            shape = names[int(rng.integers(len(names)))]
            levels, target, unanswered = _SHAPES[shape]
            calls[target] = calls.get(target, 0) + 1
            if unanswered:
                lost[target] = lost.get(target, 0) + 1
                lost_rows.append(len(cols["trace_id"]))
            parent, s0 = root, 10 * MS + c * 200 * MS
            for d, (kind, service) in enumerate(levels):
                attrs = dict(_ATTRS[target]) if kind == "client" else {}
                parent = add(t, parent, service, kind, s0 + d * MS, s0 + 150 * MS - d * MS, attrs)
    return tk.spans_from_columns(cols), calls, lost, np.asarray(sorted(lost_rows))


@pytest.fixture(scope="module")
def generated():
    return _generated()


def _unanswered_by_callee(report: pd.DataFrame) -> dict[str, int]:
    hop = report[report["check"].isin(["uninstrumented_hop", "dropped_context", "missing_span_on_hop"])]
    return {s.split(" → ")[1]: int(n) for s, n in zip(hop["subject"], hop["spans_affected"], strict=True)}


def test_the_kernel_finds_exactly_the_unanswered_calls(generated):
    spans, _, _, lost_rows = generated
    assert unanswered_calls(spans, kinds=("client",)).tolist() == lost_rows.tolist()


def test_health_counts_each_unanswered_call_once_and_no_answered_one(generated):
    spans, _, lost, _ = generated
    # was: every call instrumented twice and answered (requests over urllib3) a dropped_context warning, and an
    # unanswered call instrumented twice counted as 2 client spans
    got = _unanswered_by_callee(tk.health_report(spans, include_databases=True))
    assert got == lost
    # databases are no warning by default, nor counted
    plain = tk.health_report(spans)
    assert _unanswered_by_callee(plain) == {k: v for k, v in lost.items() if k != "shop"}
    warned = plain[plain["severity"] == "warning"]
    assert set(warned["subject"]) <= {"web → orders"}
    assert int(warned["spans_affected"].sum()) == lost.get("orders", 0)


def test_the_service_graph_counts_each_call_once(generated):
    spans, calls, _, _ = generated
    G = tk.service_graph(spans)
    assert {v: G.edges["web", v]["calls"] for _, v in G.out_edges("web")} == calls


def test_dropped_context_candidates_are_the_unanswered_calls(generated):
    spans, _, _, lost_rows = generated
    kind = spans["kind"].to_numpy(dtype=object)
    # a new root starting every millisecond (of other partitions): every unanswered client call could pair
    cand = dropped_context_candidates(spans, root_starts=np.arange(0, 1200 * MS, MS, dtype=np.int64))
    # was: the outer span of every call instrumented twice (answered or not) a candidate too
    assert cand[kind[cand] == "client"].tolist() == lost_rows.tolist()


def test_an_answered_call_instrumented_twice_does_not_take_another_trace_as_its_callee():
    #  trace 1: web GET / 0 ──────────────────── 100
    #           web GET (requests) 10 ──── 90
    #             web GET (urllib3) 11 ── 89
    #               orders GET /o   12 ─ 88        (answered, in its own trace)
    #  trace 2: orders GET /o  (a root)  13 ─ 87   (a request of its own, not trace 1's lost callee)
    spans = tk.spans_from_columns({
        "trace_id": ["1" * 32] * 4 + ["2" * 32], "span_id": ["a" * 16, "b" * 16, "c" * 16, "d" * 16, "e" * 16],
        "parent_id": [None, "a" * 16, "b" * 16, "c" * 16, None], "service": ["web"] * 3 + ["orders"] * 2,
        "name": ["GET /", "GET", "GET", "GET /o", "GET /o"], "kind": ["server", "client", "client", "server", "server"],
        "start": [0, 10 * MS, 11 * MS, 12 * MS, 13 * MS], "end": [100 * MS, 90 * MS, 89 * MS, 88 * MS, 87 * MS],
        "attributes": [{}, {"peer.service": "orders"}, {"peer.service": "orders"}, {}, {}]})
    oc = tk.core.trace_outcomes(spans)
    # was: trace 2 "continued" trace 1 (paired with its outer client span): 1 request, not 2
    assert oc["continues"].isna().all()
    assert int(oc["request"].sum()) == 2
    assert not (tk.reconnect(spans)["case"] == "dropped_context").any()
