"""Session 42 review of the service graph and attribution (tracekit/analysis/graph.py, error_origins.py,
attribution/bubble.py, attribution/versions.py, early_stops.py, plotting/service_map.py): a link to a span exported
twice, and the other defects found there. Truth by construction in every test; small frames only."""

from __future__ import annotations

import pandas as pd
import pytest

import tracekit as tk
from tracekit.analysis.error_origins import is_origin

MS = 1_000_000
T1, T2 = "1" * 32, "2" * 32


def _spans(rows):
    """rows: (trace_id, span_id, parent_id, service, name, kind, start_ms, end_ms, attributes, links, status)."""
    return tk.spans_from_columns({
        "trace_id": [r[0] for r in rows], "span_id": [r[1] for r in rows], "parent_id": [r[2] for r in rows],
        "service": [r[3] for r in rows], "name": [r[4] for r in rows], "kind": [r[5] for r in rows],
        "start": [r[6] * MS for r in rows], "end": [r[7] * MS for r in rows],
        "attributes": [r[8] for r in rows], "links": [r[9] for r in rows], "status": [r[10] for r in rows]})


# web sends a message (producer b, peer 'queue'); the producer span is exported twice: 10..20 ms (complete and longer:
# the copy the kernel tree keeps) and a 10..12 ms copy with another service name. worker (another trace) consumes it
# at 30 ms and links to it. Truth: one async hop web -> worker with a queue wait of 30 - 20 = 10 ms, the producer
# answered by its consumer (no edge to 'queue'), and no node for the copy's service.
_LINK_ROWS = [
    (T1, "a" * 16, None, "web", "GET /", "server", 0, 50, {}, [], "ok"),
    (T1, "b" * 16, "a" * 16, "web", "send", "producer", 10, 20, {"peer.service": "queue"}, [], "ok"),
    (T1, "b" * 16, "a" * 16, "web-copy", "send", "producer", 10, 12, {"peer.service": "queue"}, [], "ok"),
    (T2, "c" * 16, None, "worker", "process", "consumer", 30, 40, {}, [{"trace_id": T1, "span_id": "b" * 16}], "ok"),
]


@pytest.mark.parametrize("order", [[0, 1, 2, 3], [0, 2, 1, 3], [3, 2, 1, 0]])
def test_link_to_a_span_exported_twice_goes_to_the_copy_the_tree_keeps(order):
    spans = _spans([_LINK_ROWS[i] for i in order])
    G = tk.service_graph(spans)
    assert sorted(G.edges) == [("web", "worker")]
    e = G.edges["web", "worker"]
    assert (e["calls"], e["kind"], e["async_calls"], e["wait_p50_ms"]) == (1, "async", 1, 10.0)
    # every node is a node of the data, with its statistics (the copy's service made a bare node, no 'spans')
    assert sorted(G.nodes) == ["web", "worker"]
    assert all("spans" in d for _, d in G.nodes(data=True))


@pytest.mark.parametrize("order", [[0, 1, 2], [0, 2, 1]])
def test_error_origin_ignores_a_failed_later_copy_of_a_child(order):
    # web failed; its child db is exported twice: 10..90 ms ok (complete, longer: the copy the tree keeps) and a
    # 10..30 ms copy that says error. Truth: db succeeded, so web's error started at web: 1 origin, at web.
    rows = [(T1, "a" * 16, None, "web", "GET /", "server", 0, 100, {}, [], "error"),
            (T1, "b" * 16, "a" * 16, "db", "q", "client", 10, 90, {}, [], "ok"),
            (T1, "b" * 16, "a" * 16, "db", "q", "client", 10, 30, {}, [], "error")]
    spans = _spans([rows[i] for i in order])
    o = tk.error_origins(spans, per_span=True)
    assert o[["service", "span_id", "hops"]].values.tolist() == [["web", "a" * 16, 0]]
    assert tk.error_origins(spans)[["service", "origins", "share"]].values.tolist() == [["web", 1, 1.0]]
    # the per-span rule other analyses share: only the kept web span is an origin, never a copy
    assert is_origin(spans).tolist() == [r[1] == "a" * 16 for r in (rows[i] for i in order)]


def test_service_map_title_says_the_population_and_window_of_its_counts():
    # 3 traces of web -> orders, 4 spans each, and one span exported twice (counted once): 12 spans, 3 traces,
    # the first start 14:00:00 and the last end 14:05:00.250 UTC
    t0 = 1_772_460_000 * 1_000_000_000  # 2026-03-02 14:00:00 UTC
    rows = []
    for k, at in enumerate((0, 120_000, 300_000)):
        tid = f"{k + 1:032x}"
        rows += [(tid, "a" * 16, None, "web", "GET /", "server", at, at + 250, {}, [], "ok"),
                 (tid, "b" * 16, "a" * 16, "web", "call", "client", at + 10, at + 200, {}, [], "ok"),
                 (tid, "c" * 16, "b" * 16, "orders", "POST", "server", at + 20, at + 190, {}, [], "ok"),
                 (tid, "d" * 16, "c" * 16, "orders", "q", "client", at + 30, at + 40, {"db.system": "postgresql"}, [], "ok")]
    rows.append(rows[2])  # orders' POST of trace 1 read twice
    spans = _spans(rows)
    spans["start"] = spans["start"] + pd.Timedelta(t0 // MS, "ms")
    spans["end"] = spans["end"] + pd.Timedelta(t0 // MS, "ms")
    G = tk.service_graph(spans)
    assert (G.graph["spans"], G.graph["traces"]) == (12, 3)
    assert (G.graph["start"], G.graph["end"]) == (pd.Timestamp("2026-03-02 14:00:00", tz="UTC"),
                                                  pd.Timestamp("2026-03-02 14:05:00.250", tz="UTC"))
    fig = tk.plot_service_graph(G)
    assert fig.layout.title.text == ("service map: 2 services + 1 uninstrumented peer, 2 call edges"
                                     "<br><sup>12 spans of 3 traces, 14:00:00–14:05:00 UTC</sup>")
    # the dask engine carries the same scope
    dd = pytest.importorskip("dask.dataframe")  # noqa: F841
    H = tk.dask.service_graph(tk.dask.from_pandas(spans, 2))
    assert {k: H.graph[k] for k in ("spans", "traces", "start", "end")} == \
        {k: G.graph[k] for k in ("spans", "traces", "start", "end")}


def test_service_map_hover_says_the_population_of_each_failed_share():
    import networkx as nx

    G = nx.DiGraph(by="service", status_recorded=True)
    G.add_node("web", spans=10, errors=3, unknown=0, instrumented=True)
    G.add_node("db", spans=8, errors=2, unknown=4, instrumented=True)   # 4 still in progress: share 2 of 4
    G.add_edge("web", "db", calls=10, errors=2, unknown=2, p95_ms=9.0)  # 2 of the 8 calls of known outcome
    fig = tk.plot_service_graph(G, pos={"web": (0, 0), "db": (1, 0)})
    edge = next(t for t in fig.data if t.meta == "edge_info").hovertext[0].split("<br>")
    assert "failed: 2 of 8 calls of known outcome (25.0%)" in edge
    nodes = next(t for t in fig.data if t.meta == "nodes")
    hover = dict(zip(nodes.text, nodes.hovertext, strict=True))
    assert "failed: 3 of 10 spans (30.0%)" in hover["web"].split("<br>")
    assert "failed: 2 of 4 spans of known outcome (50.0%)" in hover["db"].split("<br>")
    assert list(nodes.customdata) == [0.3, 0.5] or list(nodes.customdata) == [0.5, 0.3]


@pytest.mark.parametrize("bad", [["a" * 32], {"x": 1}, 7])
def test_a_link_whose_ids_are_no_strings_names_no_span(bad):
    # a consumer's link names its trace/span by a list, a dict or a number: no span of the data (main raised pandas'
    # InvalidIndexError / TypeError). The producer stays unanswered: its call goes to its peer 'queue'.
    rows = [(T1, "a" * 16, None, "web", "send", "producer", 0, 1, {"peer.service": "queue"}, [], "ok"),
            (T2, "b" * 16, None, "worker", "process", "consumer", 5, 6, {}, [{"trace_id": bad, "span_id": bad}], "ok")]
    G = tk.service_graph(_spans(rows))
    assert sorted(G.edges) == [("web", "queue")]
