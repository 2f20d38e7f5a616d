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


def test_a_producer_answered_through_a_link_is_answered_everywhere():
    #  trace 1: web POST / 0 ──────── 50, web publish (producer) 10 ─ 12
    #  trace 2: worker process (consumer, a root linking to the publish) 30 ─ 80
    #  trace 3: web publish (producer) with no consumer: unanswered
    spans = tk.spans_from_columns({
        "trace_id": ["1" * 32, "1" * 32, "2" * 32, "3" * 32], "span_id": ["a" * 16, "b" * 16, "c" * 16, "d" * 16],
        "parent_id": [None, "a" * 16, None, None], "service": ["web", "web", "worker", "web"],
        "name": ["POST /", "publish", "process", "publish"], "kind": ["server", "producer", "consumer", "producer"],
        "start": [0, 10 * MS, 30 * MS, 0], "end": [50 * MS, 12 * MS, 80 * MS, 2 * MS],
        "attributes": [{}, {"messaging.destination.name": "jobs"}, {}, {"messaging.destination.name": "jobs"}],
        "links": [[], [], [{"trace_id": "1" * 32, "span_id": "b" * 16}], []]})
    assert tk.core.call_answers(spans).answered.tolist() == [False, True, False, False]
    assert unanswered_calls(spans).tolist() == [3]
    G = tk.service_graph(spans)
    assert G.edges["web", "worker"]["calls"] == 1  # the link; the answered publish draws no edge to its queue


# --------------------------------------------------------------------------- failed: status; ERROR logs are evidence

T0 = 1_700_000_000 * 10**9
N_TRACES = 20


def _web_api(n: int = N_TRACES, first: int = 0) -> pd.DataFrame:
    """``n`` traces web GET / (server) -> api get (server), 1 s apart. Trace ``first`` fails at web (status error,
    HTTP 500, fault); every api span has status unset; the rest are ok."""
    cols = {k: [] for k in ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end", "status",
                            "http_status", "fault")}
    for i in range(first, first + n):
        for j, (svc, name) in enumerate((("web", "GET /"), ("api", "get"))):
            s = T0 + i * 1000 * MS + j * MS
            bad = i == first and j == 0
            for k, v in (("trace_id", f"{i + 1:032x}"), ("span_id", f"{i + 1:08x}{j + 1:08x}"),
                         ("parent_id", None if j == 0 else f"{i + 1:08x}{1:08x}"), ("service", svc), ("name", name),
                         ("kind", "server"), ("start", s), ("end", s + (50 - j) * MS),
                         ("status", ("error" if bad else "ok") if j == 0 else "unset"),
                         ("http_status", (500 if bad else 200) if j == 0 else None), ("fault", bad)):
                cols[k].append(v)
    return tk.spans_from_columns(cols)


@pytest.fixture(scope="module")
def logged():
    """The frame, and it with 4 ERROR records attached to the api spans of traces 2-5 (status unset there)."""
    spans = _web_api()
    logs = tk.logs_from_columns({"time": [T0 + i * 1000 * MS + 2 * MS for i in range(1, 5)],
                                 "trace_id": [f"{i + 1:032x}" for i in range(1, 5)],
                                 "span_id": [f"{i + 1:08x}{2:08x}" for i in range(1, 5)],
                                 "body": ["boom"] * 4, "severity": ["ERROR"] * 4})
    return spans, tk.attach_logs(spans, logs).spans


def test_an_error_log_record_makes_no_span_failed_in_any_count(logged):
    spans, att = logged
    assert int(att["log_errors"].sum()) == 4 and int(tk.core.failed(att).sum()) == 1
    # by construction: 1 failed request of 20, 1 failed web span of 20, no failed api span (4 ERROR records)
    ts = tk.trace_summary(att)
    assert (int(ts["failed"].sum()), int(ts["failed_spans"].sum())) == (1, 1)
    h = tk.health_report(att)
    assert float(h.loc[h["check"] == "failed_request_ratio", "value"].iloc[0]) == pytest.approx(1 / N_TRACES)
    rate = h[h["check"] == "span_error_rate"].set_index("subject")["value"]
    assert (float(rate["api"]), float(rate["web"])) == (0.0, pytest.approx(1 / N_TRACES))
    tl = tk.timeline(att, freq="1min")
    assert (float(tl["failed"].sum()), float(tl["error_rate"].iloc[0])) == (1.0, pytest.approx(1 / N_TRACES))
    cmp = tk.compare(att, _web_api(first=100)).table.set_index("service")
    assert (float(cmp.loc["api", "error_rate_a"]), float(cmp.loc["web", "error_rate_a"])) == (0.0, pytest.approx(1 / N_TRACES))
    G = tk.service_graph(att)
    assert (G.nodes["api"]["errors"], G.nodes["web"]["errors"], G.edges["web", "api"]["errors"]) == (0, 1, 0)
    bu = tk.bubble_up(att, selection=lambda s: s["trace_id"].isin([f"{i + 1:032x}" for i in range(5)]))
    row = bu[(bu["dimension"] == "log_severity") & (bu["value"] == "ERROR")].iloc[0]
    assert float(row["error_rate_with"]) == 0.0  # the 4 traces with an ERROR record: no request failed
    # and the logs change no failure count: the same numbers as the frame without them
    base = _web_api(first=100)
    a, b = tk.rank_causes(att, base), tk.rank_causes(spans, base)
    assert a.set_index("service")["errors"].to_dict() == b.set_index("service")["errors"].to_dict()
    pd.testing.assert_frame_equal(tk.detect_changes(att, metric="error_rate", freq="2s"),
                                  tk.detect_changes(spans, metric="error_rate", freq="2s"))


def test_error_origins_says_which_signal_decided(logged):
    spans, att = logged
    eo = tk.error_origins(att, per_span=True)
    # the failed web root (status) and the 4 api spans only an ERROR record shows an error on (logs)
    assert sorted(zip(eo["service"], eo["decided_by"], strict=True)) == [("api", "logs")] * 4 + [("web", "status")]
    agg = tk.error_origins(att).set_index("service")
    assert agg[["origins", "logged_origins"]].to_dict("index") == {"api": {"origins": 4, "logged_origins": 4},
                                                                  "web": {"origins": 1, "logged_origins": 0}}
    # the status-decided origins are the origins of the frame without logs
    plain = tk.error_origins(spans, per_span=True)
    assert plain["span_id"].tolist() == eo.loc[eo["decided_by"] == "status", "span_id"].tolist()
    assert set(plain["decided_by"]) == {"status"}
    assert tk.top_exceptions(att)[["service", "count"]].values.tolist() == [["api", 4]]


# --------------------------------------------------------------------------- status as the sources spell it

_ONE = {"trace_id": ["1" * 32], "span_id": ["a" * 16], "service": ["web"], "name": ["GET /"], "start": [0],
        "end": [10 * MS]}


@pytest.mark.parametrize("code", [2, "2", "STATUS_CODE_ERROR", "ERROR", "Error"])
def test_spans_from_columns_reads_an_otlp_error_status_as_read_otlp_does(code):
    spans = tk.spans_from_columns({**_ONE, "status": [code]})
    # was: kept as given ('2', 'STATUS_CODE_ERROR'): not a status, and no count of failures saw it (failed False)
    assert spans["status"].tolist() == ["error"]
    assert tk.core.failed(spans).tolist() == [True]


def test_spans_from_columns_refuses_a_value_that_is_no_status():
    with pytest.raises(tk.SpansSchemaError, match="'status' row 1"):
        tk.spans_from_columns({**{k: v * 2 for k, v in _ONE.items()}, "span_id": ["a" * 16, "b" * 16],
                               "status": ["ok", "borked"]})


@pytest.mark.parametrize(("code", "flags"), [(503, (False, True, False)), (404, (True, False, False)),
                                             (429, (True, False, True)), (200, (False, False, False))])
def test_spans_from_columns_derives_the_flags_from_the_http_status_as_the_readers(code, flags):
    spans = tk.spans_from_columns({**_ONE, "http_status": [code]})
    # was: error / fault / throttle False whatever the code: a 503 given as http_status alone was not failed
    assert tuple(bool(spans[c].iloc[0]) for c in ("error", "fault", "throttle")) == flags
    assert tk.core.failed(spans).tolist() == [code >= 500]
    # flags given are kept as given
    kept = tk.spans_from_columns({**_ONE, "http_status": [code], "fault": [False]})
    assert not kept["fault"].iloc[0]
