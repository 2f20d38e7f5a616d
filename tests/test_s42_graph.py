"""Session 42 review of the service graph and attribution (tracekit/analysis/graph.py, error_origins.py,
attribution/bubble.py, attribution/versions.py, early_stops.py, plotting/service_map.py): a link to a span exported
twice, and the other defects found there. Truth by construction in every test; small frames only."""

from __future__ import annotations

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
