"""Session 43, graph2: the service graph and attribution, second pass (row order, repeated ids, the map's hover
and arguments). Every answer is compared with one known by construction; the same data in another row order must
give the identical table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tracekit as tk

MS = 1_000_000


def _frame(rows: list[dict]) -> pd.DataFrame:
    cols = {k: [r.get(k) for r in rows] for k in dict.fromkeys(k for r in rows for k in r)}
    return tk.spans_from_columns(cols)


def _shuffled(spans: pd.DataFrame, seed: int) -> pd.DataFrame:
    return spans.iloc[np.random.default_rng(seed).permutation(len(spans))].reset_index(drop=True)


def _origin_traces() -> pd.DataFrame:
    """Six traces web > api > db, each failing at db (the origin); in traces 0, 2, 4 the error reaches web, in 1, 3,
    5 api absorbs it: two propagation paths, each seen 3 times. Trace i starts at i seconds, so the earliest three
    origins are traces 0, 1, 2; the rows are listed latest trace first."""
    rows = []
    for i in reversed(range(6)):
        t, s0 = f"{i + 1:032x}", i * 1000 * MS
        up = "error" if i % 2 == 0 else "ok"
        rows += [dict(trace_id=t, span_id=f"{i:02x}" + "a" * 14, parent_id=None, service="web", name="GET /",
                      start=s0, end=s0 + 9 * MS, status=up),
                 dict(trace_id=t, span_id=f"{i:02x}" + "b" * 14, parent_id=f"{i:02x}" + "a" * 14, service="api",
                      name="get", start=s0 + 1 * MS, end=s0 + 8 * MS, status="error"),
                 dict(trace_id=t, span_id=f"{i:02x}" + "c" * 14, parent_id=f"{i:02x}" + "b" * 14, service="db",
                      name="q", start=s0 + 2 * MS, end=s0 + 7 * MS, status="error")]
    return _frame(rows)


def test_error_origins_same_table_in_any_row_order():
    """error_origins' example traces and top path were the first rows' (the latest traces here, listed first)."""
    spans = _origin_traces()
    want = tk.error_origins(spans)
    assert want["origins"].tolist() == [6]
    # by construction: the earliest origins are traces 1, 2, 3 (ids); both paths are seen 3 times, the tie goes to
    # the first in text order
    assert want["example_trace_ids"].iloc[0] == tuple(f"{i + 1:032x}" for i in range(3))
    assert want["top_path"].iloc[0] == min("db:q < api:get", "db:q < api:get < web:GET /")
    for seed in range(5):
        pd.testing.assert_frame_equal(tk.error_origins(_shuffled(spans, seed)), want)
        pd.testing.assert_frame_equal(tk.error_origins(_shuffled(spans, seed), by="operation"),
                                      tk.error_origins(spans, by="operation"))


def _exception_spans() -> pd.DataFrame:
    """Five spans of api, each with one KeyError event 'item <n> missing' at time i ms of trace i; listed latest
    first. The earliest event is trace 1's with 'item 0 missing'."""
    rows = []
    for i in reversed(range(5)):
        ev = [{"time": i * MS, "name": "exception",
               "attributes": {"exception.type": "KeyError", "exception.message": f"item {i} missing"}}]
        rows.append(dict(trace_id=f"{i + 1:032x}", span_id=f"{i + 1:016x}", parent_id=None, service="api", name="get",
                         start=i * MS, end=i * MS + 5, events=ev))
    return _frame(rows)


def test_top_exceptions_same_table_in_any_row_order():
    """top_exceptions' example message and example traces were the first rows' (the latest events here)."""
    spans = _exception_spans()
    want = tk.top_exceptions(spans)
    assert want["count"].tolist() == [5]
    assert want["example_message"].iloc[0] == "item 0 missing"  # the earliest event's
    assert want["example_trace_ids"].iloc[0] == tuple(f"{i + 1:032x}" for i in range(3))
    for seed in range(5):
        pd.testing.assert_frame_equal(tk.top_exceptions(_shuffled(spans, seed)), want)
        pd.testing.assert_frame_equal(tk.top_exceptions(_shuffled(spans, seed), by=None),
                                      tk.top_exceptions(spans, by=None))


def _mixed_edge_spans() -> pd.DataFrame:
    """web calls orders twice synchronously (client -> server) and hands it one message (producer -> consumer, 5 ms
    queue wait): one edge web -> orders of 3 calls, 2 synchronous and 1 asynchronous, by construction."""
    rows = []
    for i in range(3):
        t = f"{i + 1:032x}"
        a, b, c = f"{i:02x}" + "a" * 14, f"{i:02x}" + "b" * 14, f"{i:02x}" + "c" * 14
        out_kind, in_kind = ("producer", "consumer") if i == 2 else ("client", "server")
        rows += [dict(trace_id=t, span_id=a, parent_id=None, service="web", name="GET /", kind="server",
                      start=0, end=50 * MS),
                 dict(trace_id=t, span_id=b, parent_id=a, service="web", name="send", kind=out_kind,
                      start=1 * MS, end=10 * MS),
                 dict(trace_id=t, span_id=c, parent_id=b, service="orders", name="handle", kind=in_kind,
                      start=(15 if i == 2 else 2) * MS, end=(40 if i == 2 else 9) * MS)]
    return _frame(rows)


def _edge_hover(fig, u: str, v: str) -> str:
    info = next(t for t in fig.data if t.meta == "edge_info")
    return next(h for h in info.hovertext if h.startswith(f"<b>{u} → {v}</b>"))


def test_service_map_hover_says_both_kinds_of_call_on_one_edge():
    """An edge of 2 synchronous calls and 1 asynchronous hop said only "asynchronous" (and "async_calls: 1"):
    never that 2 of its 3 calls were synchronous, nor which population its latency and wait were of."""
    G = tk.service_graph(_mixed_edge_spans())
    e = G.edges["web", "orders"]
    assert (e["calls"], e["async_calls"]) == (3, 1)  # the graph: one edge, both kinds (its public shape)
    assert e["wait_p50_ms"] == pytest.approx(5.0)  # the one hop's queue wait: 15 ms - 10 ms
    hover = _edge_hover(tk.plot_service_graph(G), "web", "orders")
    assert "2 synchronous" in hover and "1 asynchronous" in hover
    assert "over all 3 calls" in hover  # the latency percentiles are of every call of the edge
    assert "asynchronous hops only" in hover  # the queue wait is of the hops alone
    assert "<br>asynchronous<br>" not in hover + "<br>"  # not one kind for the whole edge


def test_service_map_hover_of_a_one_kind_edge():
    """An edge of asynchronous hops only says its calls are (it said "async_calls: 1" and "asynchronous" apart from
    its count); control: an edge of synchronous calls only reads "calls: 2", nothing of kinds or queue waits."""
    spans = _mixed_edge_spans()
    hover = _edge_hover(tk.plot_service_graph(tk.service_graph(spans[spans["trace_id"] == f"{3:032x}"])), "web",
                        "orders")
    assert "calls: 1 (asynchronous: link / messaging hops)" in hover and "async_calls" not in hover
    assert "over all" not in hover  # one kind: no mixed population to warn of
    G = tk.service_graph(spans[spans["trace_id"] != f"{3:032x}"].reset_index(drop=True))
    hover = _edge_hover(tk.plot_service_graph(G), "web", "orders")
    assert "<br>calls: 2<br>" in hover
    assert "asynchronous" not in hover and "wait" not in hover


@pytest.mark.parametrize("kwargs", [
    {"G": None}, {"G": "not a graph"}, {"G": {"api": ["db"]}}, {"G": pd.DataFrame({"a": [1]})},
    {"G": "multi"}, {"max_arrows": "x"}, {"max_arrows": None}, {"max_arrows": -1}, {"pos": 5},
    {"pos": [(0, 0), (1, 0)]}, {"pos": "spring"}, {"pos": {"api": (0,), "db": (1, 0)}},
    {"pos": {"api": ("a", "b"), "db": (1, 0)}}, {"pos": {"api": (np.nan, 0), "db": (1, 0)}},
    {"pos": pd.DataFrame({"node": ["api", "db"]})},
])
def test_plot_service_graph_bad_arguments_raise_argument_error(kwargs):
    """None / a MultiDiGraph as the graph, a bad max_arrows or pos raised a bare TypeError, ValueError, IndexError or
    KeyError; a DataFrame named graph_layout as the culprit. Each must be an ArgumentError naming the argument."""
    import networkx as nx

    G = nx.DiGraph()
    G.add_edge("api", "db", calls=10, errors=1, p95_ms=9.5)
    kw = dict(kwargs)
    g = kw.pop("G", G)
    if isinstance(g, str) and g == "multi":
        g = nx.MultiDiGraph([("api", "db"), ("api", "db")])
    name = next(iter(kwargs))
    with pytest.raises(tk.ArgumentError, match=rf"plot_service_graph: .*{'G' if name == 'G' else name}"):
        tk.plot_service_graph(g, **kw)


def test_plot_service_graph_a_graph_without_attributes_draws():
    """Control: a bare DiGraph (no calls, no p95) is a graph: drawn, its edge hover its two names."""
    import networkx as nx

    fig = tk.plot_service_graph(nx.DiGraph([("api", "db")]))
    assert _edge_hover(fig, "api", "db") == "<b>api → db</b>"


def _hosts_with_a_reexport() -> pd.DataFrame:
    """Eight one-span traces of api: four slow on host h1 (900 ms), four fast on h2 (10 ms). Trace 1's span is
    exported twice: the re-export is a 5 ms copy naming host h9 — the kernel keeps the complete, longest copy
    (h1, 900 ms), so no unit is on h9."""
    rows = [dict(trace_id=f"{i + 1:032x}", span_id=f"{i + 1:016x}", parent_id=None, service="api", name="GET",
                 kind="server", start=0, end=(900 if i < 4 else 10) * MS, status="ok",
                 attributes={"host.name": "h1" if i < 4 else "h2"}) for i in range(8)]
    rows.insert(1, dict(trace_id=f"{1:032x}", span_id=f"{1:016x}", parent_id=None, service="api", name="GET",
                        kind="server", start=0, end=5 * MS, status="ok", attributes={"host.name": "h9"}))
    return _frame(rows)


@pytest.mark.parametrize("level", ["trace", "span"])
def test_bubble_up_reads_the_copy_the_kernel_keeps(level):
    """A span exported twice: at the trace level its dropped copy's host h9 was a value of its trace (1 selected
    trace of 4 "on h9"); every value must be the kept copy's, in either row order."""
    spans = _hosts_with_a_reexport()
    sel = (lambda t: t.request_ms > 100) if level == "trace" else (lambda s: s.duration_ms > 100)
    tables = [tk.bubble_up(s, sel, level=level) for s in (spans, spans.iloc[::-1].reset_index(drop=True),
                                                          _shuffled(spans, 1))]
    for t in tables:
        assert (t.attrs["n_selection"], t.attrs["n_baseline"]) == (4, 4)
        assert "h9" not in set(t["value"])
        h1 = t[(t["dimension"] == "host") & (t["value"] == "h1")].iloc[0]
        assert (h1["selection_count"], h1["baseline_count"]) == (4, 0)
    for t in tables[1:]:
        pd.testing.assert_frame_equal(t, tables[0])


def test_bubble_up_same_table_in_any_row_order():
    """Control: many tied scores (small counts on many keys); any permutation of the rows gives the identical table
    (ties ranked by score and q-value to 12 decimals, then a stable key)."""
    rng = np.random.default_rng(7)
    rows = []
    for i in range(60):
        rows.append(dict(trace_id=f"{i + 1:032x}", span_id=f"{i + 1:016x}", parent_id=None, service="api",
                         name="GET", kind="server", start=0, end=int(rng.integers(1, 100)) * MS, status="ok",
                         attributes={f"k{j}": str(rng.integers(0, 3)) for j in range(8)}))
    spans = _frame(rows)
    want = tk.bubble_up(spans, lambda t: t.request_ms > 50)
    for seed in range(4):
        got = tk.bubble_up(_shuffled(spans, seed), lambda t: t.request_ms > 50)
        pd.testing.assert_frame_equal(got[["dimension", "value", "selection_count", "baseline_count", "score"]],
                                      want[["dimension", "value", "selection_count", "baseline_count", "score"]])


def test_version_regressions_same_table_in_any_row_order():
    """The critical-path bootstrap drew traces by the tree's codes (their first row in the frame): the same spans
    in another row order gave delta_cp_ms_lo 128 ms in one order and another value (or NaN) in the next."""
    spans = tk.simulate.simulate("slow-deploy", 300, seed=2).spans
    want = tk.version_regressions(spans, n_boot=200)
    assert want["regression"].any()  # the data has a deploy to compare
    for seed in range(2):
        pd.testing.assert_frame_equal(tk.version_regressions(_shuffled(spans, seed), n_boot=200), want)
    pd.testing.assert_frame_equal(tk.version_regressions(spans.iloc[::-1].reset_index(drop=True), n_boot=200), want)


def test_deploy_periods_ties_in_time_do_not_follow_row_order():
    """Requests starting at one instant were ordered as the frame listed them. By construction: v1 serves 30
    requests before and 30 after the instant 0, where 20 v1 and 20 v2 requests start together. Read v2's 20 in a row,
    they are a run that breaks v1's period; shuffled among v1's, no run — the periods must not depend on it."""
    from tracekit.analysis.attribution.versions import deploy_periods

    ver = np.array(["v1"] * 30 + ["v2"] * 20 + ["v1"] * 20 + ["v1"] * 30, dtype=object)
    at = np.r_[np.arange(-30, 0), np.zeros(40, dtype=np.int64), np.arange(1, 31)]
    svc = np.array(["api"] * len(ver), dtype=object)
    tr = np.arange(len(ver))
    want = deploy_periods(svc, ver, at, tr)
    for seed in range(3):
        o = np.random.default_rng(seed).permutation(len(ver))
        got = np.empty(len(ver), dtype=np.int64)
        got[o] = deploy_periods(svc[o], ver[o], at[o], tr[o])
        assert got.tolist() == want.tolist()


def test_error_origins_reach_is_unknown_above_a_missing_parent():
    """web ✗ (root) > [missing span] > api ✗ > db ✗: the chain from db stops at api, whose parent was never received.
    Whether the error reached the root is unknown (<NA>), not False ("absorbed"); web, failing with no child that
    failed, is its own origin and reaches the root (itself). A trace with no root at all (api's parent missing,
    api ✗ > db ✗): unknown too. Control: a chain stopping under a received span that succeeded is False."""
    t1, t2, t3 = "1" * 32, "2" * 32, "3" * 32
    spans = _frame([
        dict(trace_id=t1, span_id="a" * 16, parent_id=None, service="web", name="GET", start=0, end=9 * MS,
             status="error"),
        dict(trace_id=t1, span_id="b" * 16, parent_id="f" * 16, service="api", name="get", start=1 * MS,
             end=8 * MS, status="error"),
        dict(trace_id=t1, span_id="c" * 16, parent_id="b" * 16, service="db", name="q", start=2 * MS,
             end=7 * MS, status="error"),
        dict(trace_id=t2, span_id="b" * 16, parent_id="f" * 16, service="api", name="get", start=1 * MS,
             end=8 * MS, status="error"),
        dict(trace_id=t2, span_id="c" * 16, parent_id="b" * 16, service="db", name="q", start=2 * MS,
             end=7 * MS, status="error"),
        dict(trace_id=t3, span_id="a" * 16, parent_id=None, service="web", name="GET", start=0, end=9 * MS,
             status="ok"),
        dict(trace_id=t3, span_id="c" * 16, parent_id="a" * 16, service="db", name="q", start=2 * MS,
             end=7 * MS, status="error"),
    ])
    o = tk.error_origins(spans, per_span=True).set_index(["trace_id", "service"])
    assert bool(o.loc[(t1, "web"), "reached_root"])
    assert pd.isna(o.loc[(t1, "db"), "reached_root"]) and o.loc[(t1, "db"), "hops"] == 1
    assert pd.isna(o.loc[(t2, "db"), "reached_root"])
    assert o.loc[(t3, "db"), "reached_root"] == False  # noqa: E712 (a received parent absorbed it)
    agg = tk.error_origins(spans).set_index("service")
    assert agg.loc["db", "origins"] == 3 and agg.loc["db", "reached_root"] == 0.0  # 0 of the 1 known, not 0 of 3


def test_graph_layout_of_a_multigraph_is_an_argument_error():
    """A MultiDiGraph (a DiGraph subclass) passed the type check and failed with a bare ValueError."""
    import networkx as nx

    from tracekit.analysis.graph import graph_layout

    with pytest.raises(tk.ArgumentError, match="graph_layout: expected a networkx.DiGraph, got MultiDiGraph"):
        graph_layout(nx.MultiDiGraph([("a", "b"), ("a", "b")]))


def test_early_stops_read_the_copy_the_kernel_keeps():
    """Control: web:GET always calls pay then mail. In the incident one trace's mail call is exported twice, the
    re-export a 1 ms copy starting at 8 ms (after the kept copy): whichever row comes first, the kept copy's steps
    count (GET: pay -> mail -> END, as the baseline), no span stops, and the copy is never a stop."""
    from tracekit.analysis.early_stops import early_stops

    def trace(i: int, extra: bool) -> list[dict]:
        t, a = f"{i + 1:032x}", f"{i + 1:02x}" + "a" * 14
        rows = [dict(trace_id=t, span_id=a, parent_id=None, service="web", name="GET", start=0, end=10 * MS),
                dict(trace_id=t, span_id=f"{i + 1:02x}" + "b" * 14, parent_id=a, service="web", name="pay",
                     start=1 * MS, end=3 * MS),
                dict(trace_id=t, span_id=f"{i + 1:02x}" + "c" * 14, parent_id=a, service="web", name="mail",
                     start=4 * MS, end=7 * MS)]
        if extra:
            rows.insert(2, dict(rows[2], start=8 * MS, end=9 * MS))
        return rows

    base = _frame([r for i in range(20) for r in trace(i, False)])
    inc = _frame([r for i in range(3) for r in trace(i, i == 0)])
    for frame in (inc, inc.iloc[::-1].reset_index(drop=True), _shuffled(inc, 2)):
        es = early_stops(frame, base)
        assert not es["stopped"].any() and not es["origin"].any()
        root = (frame["name"] == "GET").to_numpy()
        assert es.loc[root, "state"].tolist() == ["web:GET | web:mail"] * 3


def test_error_origins_per_span_rows_in_time_order_whatever_the_row_order():
    """per_span listed the origins in the frame's row order: the six origins listed latest first came latest first;
    by construction trace i's origin starts at i s + 2 ms, so time order is traces 1..6."""
    spans = _origin_traces()
    want = tk.error_origins(spans, per_span=True)
    assert want["trace_id"].tolist() == [f"{i + 1:032x}" for i in range(6)]
    for seed in range(3):
        pd.testing.assert_frame_equal(tk.error_origins(_shuffled(spans, seed), per_span=True), want)
