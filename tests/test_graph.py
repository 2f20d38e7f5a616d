"""service_graph and graph_layout on literal traces, and on a real one."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.analysis.graph import graph_layout, service_graph

MS = 1_000_000


def hexid(i: int) -> str:
    return f"{i:016x}"


def build(rows, trace_no=1):
    """rows: (id, parent, service, name, kind, start_ms, end_ms, extra dict)."""
    cols = {k: [] for k in ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end",
                            "attributes", "status", "error", "fault", "throttle", "links", "inferred")}
    for r in rows:
        i, p, svc, name, kind, s, e, extra = r
        cols["trace_id"].append(f"{trace_no:032x}")
        cols["span_id"].append(hexid(trace_no * 100 + i))
        cols["parent_id"].append(hexid(trace_no * 100 + p) if p is not None else None)
        cols["service"].append(svc)
        cols["name"].append(name)
        cols["kind"].append(kind)
        cols["start"].append(s * MS)
        cols["end"].append(e * MS)
        cols["attributes"].append(extra.get("attributes", {}))
        cols["status"].append(extra.get("status", "unset"))
        cols["error"].append(extra.get("error", False))
        cols["fault"].append(extra.get("fault", False))
        cols["throttle"].append(extra.get("throttle", False))
        cols["links"].append(extra.get("links", []))
        cols["inferred"].append(extra.get("inferred", False))
    return tk.spans_from_columns(cols)


def shop(trace_no: int, orders_ms: int, fail: bool = False):
    # web   GET /            |------------------------| 0..100
    # web   call orders        |---------------|        5..5+orders_ms+2
    # orders POST /orders       |-------------|         6..6+orders_ms (server)
    # orders SELECT              |--|                   10..20 client, db.system=postgresql (no child)
    # orders publish                    |-|             30..31 producer
    # worker process                      |----|        35..60 consumer (async)
    return build([
        (1, None, "web", "GET /", "server", 0, 100, {}),
        (2, 1, "web", "call orders", "client", 5, 7 + orders_ms, {"attributes": {"peer.service": "orders"}}),
        (3, 2, "orders", "POST /orders", "server", 6, 6 + orders_ms,
         {"status": "error", "fault": True} if fail else {}),
        (4, 3, "orders", "SELECT", "client", 10, 20, {"attributes": {"db.system": "postgresql"}}),
        (5, 3, "orders", "publish", "producer", 30, 31, {}),
        (6, 5, "worker", "process", "consumer", 35, 60, {}),
    ], trace_no)


def four_traces():
    return pd.concat([shop(1, 40), shop(2, 50), shop(3, 60, fail=True), shop(4, 70)], ignore_index=True)


def test_service_graph_nodes_edges_and_stats():
    spans = four_traces()
    before = spans.copy(deep=True)
    G = service_graph(spans)
    pd.testing.assert_frame_equal(spans, before)
    assert isinstance(G, nx.DiGraph)
    assert sorted(G.edges) == [("orders", "postgresql"), ("orders", "worker"), ("web", "orders")]
    e = G.edges["web", "orders"]
    assert e["calls"] == 4 and e["weight"] == 4
    assert e["errors"] == 1 and e["faults"] == 1 and e["throttles"] == 0
    # callee durations 40, 50, 60, 70 -> the one percentile (inverted_cdf: an observed value)
    assert e["p50_ms"] == 50.0 and e["p95_ms"] == 70.0 and e["p99_ms"] == 70.0
    assert e["total_ms"] == 220.0 and e["mean_ms"] == 55.0
    assert e["async"] is False and e["async_calls"] == 0
    w = G.edges["orders", "worker"]
    assert w["async"] is True and w["async_calls"] == 4 and w["p50_ms"] == 25.0
    db = G.edges["orders", "postgresql"]
    assert db["calls"] == 4 and db["p99_ms"] == 10.0
    assert G.nodes["postgresql"]["instrumented"] is False and G.nodes["postgresql"]["spans"] == 0
    web = G.nodes["web"]
    assert web["spans"] == 8 and web["errors"] == 0 and web["instrumented"] is True
    # web self time per trace: GET / 100 - client (orders+2) ; client (orders+2) - orders_ms = 2
    assert web["self_ms"] == pytest.approx(sum(100 - (m + 2) + 2 for m in (40, 50, 60, 70)))
    assert G.nodes["orders"]["errors"] == 1 and G.nodes["orders"]["faults"] == 1
    assert G.graph["by"] == "service"


def test_operation_graph():
    G = service_graph(shop(1, 40), by="operation")
    assert ("web:GET /", "web:call orders") in G.edges
    assert ("web:call orders", "orders:POST /orders") in G.edges
    assert ("orders:SELECT", "postgresql") in G.edges
    assert G.nodes["orders:POST /orders"]["service"] == "orders"
    assert G.nodes["orders:POST /orders"]["name"] == "POST /orders"
    assert len(G.edges) == 6  # 5 parent->child + 1 peer
    with pytest.raises(tk.TraceKitError, match="by must be"):
        service_graph(shop(1, 40), by="pod")


def test_xray_inferred_and_remote_subsegments():
    # api segment           |---------| 0..100
    # DynamoDB subsegment      |--|     10..40 namespace aws (client)
    # DynamoDB inferred        |--|     10..40 inferred segment, service DynamoDB
    # payments.example.com          |-| 50..70 namespace remote (client), no child
    spans = build([
        (1, None, "api", "api", "server", 0, 100, {}),
        (2, 1, "api", "DynamoDB", "client", 10, 40, {"attributes": {"namespace": "aws", "aws.operation": "GetItem"}}),
        (3, 2, "DynamoDB", "DynamoDB", "server", 10, 40, {"inferred": True, "throttle": True, "error": True}),
        (4, 1, "api", "payments.example.com", "client", 50, 70, {"attributes": {"namespace": "remote"}}),
    ])
    G = service_graph(spans)
    assert sorted(G.edges) == [("api", "DynamoDB"), ("api", "payments.example.com")]
    # a throttle (429, X-Ray error + throttle flags) is throttled, not failed: errors counts failed calls
    assert G.edges["api", "DynamoDB"]["throttles"] == 1 and G.edges["api", "DynamoDB"]["errors"] == 0
    assert G.nodes["DynamoDB"]["instrumented"] is True  # the inferred segment is a span of its own
    assert G.nodes["payments.example.com"]["instrumented"] is False
    assert G.edges["api", "payments.example.com"]["p50_ms"] == 20.0


def test_link_edges_are_async():
    a = build([(1, None, "web", "GET /", "server", 0, 10, {})], 1)
    b = build([(1, None, "batch", "run", "server", 20, 30,
                {"links": [{"trace_id": f"{1:032x}", "span_id": hexid(101), "trace_state": None, "flags": None, "attributes": {}}]})], 2)
    G = service_graph(pd.concat([a, b], ignore_index=True))
    assert list(G.edges(data="async")) == [("web", "batch", True)]
    assert G.edges["web", "batch"]["calls"] == 1


def test_graph_layout_layers_and_segments():
    G = service_graph(four_traces())
    lay = graph_layout(G)
    nodes = lay[lay.element == "node"]
    assert nodes[["node", "x", "y"]].values.tolist() == [
        ["web", 0.0, 0.0], ["orders", 1.0, 0.0], ["postgresql", 2.0, -0.5], ["worker", 2.0, 0.5]]
    edges = lay[lay.element == "edge"]
    assert edges[["source", "target", "x0", "y0", "x1", "y1"]].values.tolist() == [
        ["web", "orders", 0.0, 0.0, 1.0, 0.0], ["orders", "postgresql", 1.0, 0.0, 2.0, -0.5],
        ["orders", "worker", 1.0, 0.0, 2.0, 0.5]]
    assert edges["calls"].tolist() == [4, 4, 4]
    assert nodes["spans"].tolist() == [8, 12, 0, 4]
    # a cycle shares a layer
    C = nx.DiGraph([("a", "b"), ("b", "a"), ("b", "c")])
    lay = graph_layout(C)
    assert lay.loc[lay.element == "node", ["node", "x"]].values.tolist() == [["a", 0.0], ["b", 0.0], ["c", 1.0]]
    with pytest.raises(tk.TraceKitError):
        graph_layout("not a graph")


def test_empty_spans_graph():
    G = service_graph(tk.empty_spans())
    assert G.number_of_nodes() == 0
    assert len(graph_layout(G)) == 0


def test_real_onlineboutique_graph(real_traces):
    from .test_critical_path import load_nezha

    spans = load_nezha(real_traces / "nezha/onlineboutique-2022-08-22/05_20_trace.csv")
    G = service_graph(spans)
    # every cross-service parent/child pair is one call on one edge
    par = spans.set_index(["trace_id", "span_id"])["service"]
    ps = par.reindex(pd.MultiIndex.from_arrays([spans["trace_id"], spans["parent_id"]])).reset_index(drop=True)
    cross = ps.notna() & (ps.fillna("") != spans["service"])
    assert sum(d["calls"] for _, _, d in G.edges(data=True)) == int(cross.sum())
    assert sum(d["spans"] for _, d in G.nodes(data=True)) == 5321
    assert "frontend" in G and G.out_degree("frontend") >= 3
    assert np.isclose(sum(d["self_ms"] for _, d in G.nodes(data=True)), tk.self_time(spans)["self_ms"].sum())


def test_real_xray_service_graph(real_traces):
    spans = tk.read_xray(real_traces / "aws-xray-developer-guide/xray-api-gettingdata.md.BatchGetTraces-output.json")
    G = service_graph(spans)
    assert sorted(G.edges(data="calls")) == [("Scorekeep", "DynamoDB", 1), ("Scorekeep", "random-name", 1), ("random-name", "SNS", 1)]
    assert G.edges["random-name", "SNS"]["p50_ms"] == pytest.approx(959.0)
    assert G.nodes["Scorekeep"]["spans"] == 4 and G.nodes["random-name"]["spans"] == 5


def _xray_sqs_to_lambda(path):
    """A BatchGetTraces response: checkout's SQS SendMessage subsegment; the Lambda segment it
    triggered names that subsegment as parent and runs after the response."""
    import json

    tid = "1-5e2a3b4c-0123456789abcdef01234567"
    checkout = {"id": "a000000000000001", "trace_id": tid, "name": "checkout", "start_time": 100.0, "end_time": 100.1,
                "subsegments": [{"id": "a000000000000002", "name": "SQS", "namespace": "aws", "start_time": 100.06,
                                 "end_time": 100.07, "aws": {"operation": "SendMessage", "queue_url": "https://sqs/orders"}}]}
    lam = {"id": "a000000000000003", "trace_id": tid, "parent_id": "a000000000000002", "name": "fulfillment",
           "origin": "AWS::Lambda::Function", "start_time": 100.4, "end_time": 100.9}
    doc = {"Traces": [{"Id": tid, "Duration": 0.9, "Segments": [
        {"Id": d["id"], "Document": json.dumps(d)} for d in (checkout, lam)]}], "UnprocessedTraceIds": []}
    path.write_text(json.dumps(doc))


@pytest.mark.parametrize("fmt", ["xray", "otlp"])
def test_sqs_handoff_to_lambda_is_async_in_both_formats(tmp_path, fmt):
    if fmt == "xray":
        path = tmp_path / "t.json"
        _xray_sqs_to_lambda(path)
    else:  # OTLP: the same hand-off as a messaging span (kind producer) with the consumer under it
        spans = build([
            (1, None, "checkout", "checkout", "server", 0, 100, {}),
            (2, 1, "checkout", "orders publish", "producer", 60, 70, {"attributes": {"messaging.system": "aws_sqs"}}),
            (3, 2, "fulfillment", "fulfillment", "consumer", 400, 900, {}),
        ])
        path = tmp_path / "t.jsonl"
        tk.write_otlp(spans, path)
    G = service_graph(tk.read(path))
    e = G.edges["checkout", "fulfillment"]
    assert e["async"] is True and e["async_calls"] == 1
    assert not G.edges["checkout", "fulfillment"].get("errors")
