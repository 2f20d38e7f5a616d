"""Session 34 review of service graphs and attribution: service_graph's uninstrumented-peer edges (one call
instrumented twice, a database call with an internal child under ``by="operation"``) and top_exceptions on
hand-made event times. Truth by construction in every test."""

from __future__ import annotations

import tracekit as tk

MS = 1_000_000


def _frame(rows, trace_no=1):
    """rows: (id, parent, service, name, kind, start_ms, end_ms, attributes)."""
    sid = lambda i: f"{trace_no * 100 + i:016x}"  # noqa: E731
    return tk.spans_from_columns({
        "trace_id": [f"{trace_no:032x}"] * len(rows),
        "span_id": [sid(r[0]) for r in rows],
        "parent_id": [sid(r[1]) if r[1] is not None else None for r in rows],
        "service": [r[2] for r in rows], "name": [r[3] for r in rows], "kind": [r[4] for r in rows],
        "start": [r[5] * MS for r in rows], "end": [r[6] * MS for r in rows],
        "attributes": [r[7] for r in rows],
    })


def _edges(G):
    return sorted((u, v, d["calls"]) for u, v, d in G.edges(data=True))


def test_one_call_instrumented_twice_is_one_call():
    # web's requests span wraps urllib3's span of the same HTTP call; orders answers it once:
    #   web   GET /        |0-------------------20|
    #   web   GET (req)     |1-----------------19|
    #   web   GET (urllib3)  |2---------------18|
    #   orders GET /o         |3-------------17|
    peer = {"peer.service": "orders"}
    twice = _frame([(1, None, "web", "GET /", "server", 0, 20, {}), (2, 1, "web", "GET", "client", 1, 19, peer),
                    (3, 2, "web", "GET", "client", 2, 18, peer), (4, 3, "orders", "GET /o", "server", 3, 17, {})])
    once = _frame([(1, None, "web", "GET /", "server", 0, 20, {}), (3, 1, "web", "GET", "client", 2, 18, peer),
                   (4, 3, "orders", "GET /o", "server", 3, 17, {})])
    assert _edges(tk.service_graph(twice)) == _edges(tk.service_graph(once)) == [("web", "orders", 1)]  # was 2 calls


def test_one_call_instrumented_twice_names_no_phantom_peer():
    # the outer span names the callee by address only: it is the same call, not a call to a host "orders.svc"
    addr = {"server.address": "orders.svc"}
    spans = _frame([(1, None, "web", "GET /", "server", 0, 20, {}), (2, 1, "web", "GET", "client", 1, 19, addr),
                    (3, 2, "web", "GET", "client", 2, 18, addr), (4, 3, "orders", "GET /o", "server", 3, 17, {})])
    G = tk.service_graph(spans)
    assert sorted(G.nodes) == ["orders", "web"]  # was also an uninstrumented node "orders.svc"
    assert _edges(G) == [("web", "orders", 1)]


def test_uninstrumented_peer_without_a_callee_span_keeps_its_nested_calls():
    # two nested client spans and no server: still one call, to the peer the inner span names
    db = {"db.system": "postgresql"}
    spans = _frame([(1, None, "web", "GET /", "server", 0, 20, {}), (2, 1, "web", "query", "client", 1, 19, db),
                    (3, 2, "web", "SELECT", "client", 2, 18, db)])
    G = tk.service_graph(spans)
    assert _edges(G) == [("web", "postgresql", 1)]  # was 2 calls
    assert G.edges["web", "postgresql"]["p50_ms"] == 18.0  # the outermost span's: the call as the app made it


def test_a_queue_send_over_http_is_one_asynchronous_call_to_the_queue():
    # an SQS send (producer) instrumented again by its HTTP request (client) to the SQS endpoint
    spans = _frame([(1, None, "web", "GET /", "server", 0, 20, {}),
                    (2, 1, "web", "orders-q send", "producer", 1, 19,
                     {"messaging.system": "aws_sqs", "messaging.destination.name": "orders-q"}),
                    (3, 2, "web", "POST", "client", 2, 18, {"server.address": "sqs.us-east-1.amazonaws.com"})])
    G = tk.service_graph(spans)
    assert _edges(G) == [("web", "orders-q", 1)]  # was also a second call to the host sqs.us-east-1.amazonaws.com
    assert G.edges["web", "orders-q"]["async"] is True


def test_database_call_with_internal_child_reaches_database_by_operation():
    # a database client span with an internal child (a connection span) of its own service:
    #   web GET /    |0---------------20|
    #   web SELECT    |1-------------19|      db.system=postgresql (no server span: uninstrumented)
    #   web conn       |2-3|
    spans = _frame([(1, None, "web", "GET /", "server", 0, 20, {}),
                    (2, 1, "web", "SELECT", "client", 1, 19, {"db.system": "postgresql"}),
                    (3, 2, "web", "conn", "internal", 2, 3, {})])
    by_service = tk.service_graph(spans, by="service")
    by_operation = tk.service_graph(spans, by="operation")
    assert _edges(by_service) == [("web", "postgresql", 1)]
    # the call reaches its database whatever the node granularity (was: no edge to postgresql by operation)
    into = lambda G: sum(d["calls"] for _, v, d in G.in_edges("postgresql", data=True))  # noqa: E731
    assert into(by_operation) == into(by_service) == 1
    assert by_operation.edges["web:SELECT", "postgresql"]["p50_ms"] == 18.0
    assert by_operation.nodes["postgresql"]["instrumented"] is False




def test_a_service_calling_its_own_endpoint_is_one_self_call_with_callee_statistics():
    # web calls its own endpoint over HTTP; web's server span answers (16 ms; the client span waited 18 ms):
    #   web GET /         |0--------------20|
    #   web GET (client)   |1------------19|
    #   web GET /inner      |2----------18|
    for attrs in ({"peer.service": "web"}, {"server.address": "web.svc"}, {}):
        spans = _frame([(1, None, "web", "GET /", "server", 0, 20, {}), (2, 1, "web", "GET", "client", 1, 19, attrs),
                        (3, 2, "web", "GET /inner", "server", 2, 18, {})])
        G = tk.service_graph(spans)
        # was: client statistics (18 ms) / a phantom uninstrumented node "web.svc" / no edge at all
        assert sorted(G.nodes) == ["web"], attrs
        assert _edges(G) == [("web", "web", 1)], attrs
        assert G.edges["web", "web"]["p50_ms"] == 16.0, attrs

def _exception_frame(times):
    ev = [[{"time": t, "name": "exception", "attributes": {"exception.type": "KeyError", "exception.message": f"item {i} missing"}}]
          for i, t in enumerate(times)]
    n = len(times)
    return tk.spans_from_columns({"trace_id": [f"{i + 1:032x}" for i in range(n)], "span_id": [f"{i + 1:016x}" for i in range(n)],
                                  "service": ["api"] * n, "name": ["get"] * n,
                                  "start": [i * 1000 * MS for i in range(n)], "end": [(i * 1000 + 5) * MS for i in range(n)],
                                  "events": ev})


def test_top_exceptions_reads_timestamp_event_times():
    import pandas as pd
    t0 = pd.Timestamp("2024-05-01 12:00:00", tz="UTC")
    # one event timed by a pandas Timestamp, one by ns, one with no time (its span's start, 2 s)
    spans = _exception_frame([t0, int(t0.value) + 7 * MS, None])
    row = tk.top_exceptions(spans).iloc[0]  # was a bare TypeError: int() of a Timestamp
    assert row["count"] == 3
    assert row["first_seen"] == pd.Timestamp(2 * 1000 * MS, tz="UTC")
    assert row["last_seen"] == t0 + pd.Timedelta(7, "ms")


def test_top_exceptions_names_the_span_of_an_unreadable_event_time():
    import pytest
    spans = _exception_frame(["yesterday"])
    with pytest.raises(tk.SpansSchemaError, match="0000000000000001.*'yesterday'"):  # was a bare ValueError
        tk.top_exceptions(spans)


def test_by_a_dict_or_list_column_is_an_argument_error():
    import pytest
    spans = tk.simulate.simulate("baseline", 20, seed=3).spans
    for f in (tk.error_origins, tk.top_exceptions):
        for col, held in (("attributes", "dict"), ("events", "list")):
            with pytest.raises(tk.ArgumentError, match=f"{f.__name__}: by column '{col}' holds {held}"):  # was TypeError
                f(spans, by=col)
