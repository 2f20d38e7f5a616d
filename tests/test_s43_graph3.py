"""Session 43, helper graph3: wrong answers found in service_graph / bubble_up / top_exceptions, pinned."""
import pandas as pd
import pytest

import tracekit as tk

MS = 1_000_000

def _spans(rows):
    df = pd.DataFrame(rows)
    df["start"] = pd.to_datetime(df["start"] * MS, utc=True)
    df["end"] = pd.to_datetime(df["end"] * MS, utc=True)
    df["duration_ms"] = (df["end"] - df["start"]).dt.total_seconds() * 1000
    return tk.io.normalize(df) if hasattr(tk.io, "normalize") else df

def _colon_frame():
    # service "a:b" operation "c" and service "a" operation "b:c": two operations, each one span, by construction
    return pd.DataFrame({
        "trace_id": ["t1", "t2"], "span_id": ["s1", "s2"], "parent_id": [None, None],
        "service": ["a:b", "a"], "name": ["c", "b:c"], "kind": ["server", "server"],
        "start": pd.to_datetime([0, 0], utc=True), "end": pd.to_datetime([10 * MS, 30 * MS], utc=True),
        "duration_ms": [10.0, 30.0], "status": ["ok", "ok"], "attributes": [{}, {}]})

def test_operation_nodes_with_colons_stay_apart():
    """Service "a:b"/op "c" and service "a"/op "b:c" are two operations: two nodes, each with its own service,
    name and one span (old code: one node "a:b:c" of 2 spans named after the first row)."""
    G = tk.service_graph(_colon_frame(), by="operation")
    got = sorted((d["service"], d["name"], d["spans"], d["duration_ms"]) for _, d in G.nodes(data=True))
    assert got == [("a", "b:c", 1, 30.0), ("a:b", "c", 1, 10.0)]

def test_operation_node_keys_unchanged_for_ordinary_names():
    """Control: a service with no colon keeps the key "service:operation" users see."""
    f = _colon_frame().assign(service=["web", "api"], name=["GET /", "POST /x"])
    G = tk.service_graph(f, by="operation")
    assert sorted(G.nodes) == ["api:POST /x", "web:GET /"]

def test_dask_operation_nodes_with_colons_stay_apart():
    """The Dask engine keys nodes the same way (old code: one merged node)."""
    pytest.importorskip("dask.dataframe")
    import tracekit.dask as tkd
    G = tkd.service_graph(tkd.from_pandas(_colon_frame(), npartitions=1), by="operation")
    got = sorted((d["service"], d["name"], d["spans"]) for _, d in G.nodes(data=True))
    assert got == [("a", "b:c", 1), ("a:b", "c", 1)]
