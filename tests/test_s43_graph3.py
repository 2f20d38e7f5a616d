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


def _with_copy(first: bool) -> tuple[pd.DataFrame, int]:
    s = tk.examples.load("checkout-small")
    distinct = len(s.drop_duplicates(["trace_id", "span_id"]))
    copy = s.iloc[[0]].copy()  # the same span exported twice (same trace_id + span_id), a shorter copy
    copy["end"] = copy["start"] + (copy["end"] - copy["start"]) / 2
    copy["duration_ms"] = copy["duration_ms"] / 2
    both = pd.concat([copy, s] if first else [s, copy], ignore_index=True)
    return both, distinct


@pytest.mark.parametrize("first", [False, True])
def test_bubble_up_span_level_counts_a_span_exported_twice_once(first):
    """n_units at the span level counts distinct spans (trace_id + span_id), not rows, in either row order
    (old code: one more unit than there are spans)."""
    spans, distinct = _with_copy(first)
    selected = spans["duration_ms"] > spans["duration_ms"].median()
    out = tk.bubble_up(spans, selected, level="span")
    assert out.attrs["n_units"] == distinct


@pytest.mark.parametrize("first", [False, True])
def test_bubble_up_empty_side_warning_counts_spans_once(first):
    """The empty-side warning names the number of spans, a span exported twice once (old code: rows)."""
    spans, distinct = _with_copy(first)
    with pytest.warns(UserWarning, match="empty_side|holds none") as rec:
        tk.bubble_up(spans, pd.Series(False, index=spans.index), level="span")
    msg = " ".join(str(w.message) for w in rec if "holds none" in str(w.message))
    assert f"frame's {distinct:,} spans" in msg
    assert f"holds {distinct:,})" in msg
