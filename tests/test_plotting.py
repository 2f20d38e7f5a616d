"""Figures: trace counts, one bar per visible span, colours per service, escaping, no mutation."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import tracekit as tk
import tracekit.plotting as plotting

from .conftest import read_dataset
from .test_waterfall import JAEGER1, JAEGER1_CP, TID, cp_frame, nezha_spans, trace  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def _f(values) -> list[float]:
    return [float(v) for v in values]


def _plain(ticktext) -> list[str]:
    """Tick labels as a reader sees them: tags dropped, entities decoded, padding stripped."""
    import html

    return [html.unescape(re.sub(r"<[^>]+>", "", t)).replace("\u00a0", " ").rstrip() for t in ticktext]


def test_waterfall_one_bar_trace_per_kind_and_bar_per_visible_span():
    spans = trace(
        [("c", None, 1, 101, "web"), ("d", "c", 20, 40, "db"), ("e", "c", 50, 60, "web"), ("f", "d", 25, 30, "cache")],
        status=["ok", "error", "ok", "ok"],
    )
    fig = tk.plot_waterfall(spans, TID, critical_path=cp_frame(JAEGER1_CP))
    assert [t.meta for t in fig.data] == ["spans", "critical_path", "errors", "legend", "legend", "legend"]
    assert [t.type for t in fig.data[:3]] == ["bar", "bar", "bar"]
    bars = fig.data[0]
    assert bars.orientation == "h"
    assert _f(bars.y) == [0, 1, 2, 3]  # rows c, d, f, e
    assert _f(bars.base) == [0.0, 19.0, 24.0, 49.0]
    assert _f(bars.x) == [100.0, 20.0, 5.0, 10.0]
    # service colours: tk.service_colors, the same in every figure
    col = tk.service_colors(["web", "db", "cache"])
    assert plotting.bar_colors(bars) == [col["web"], col["db"], col["cache"], col["web"]]
    assert [t.name for t in fig.data[3:]] == ["cache", "db", "web"]
    assert [t.marker.color for t in fig.data[3:]] == [col["cache"], col["db"], col["web"]]
    # the error span (d, row 1) is outlined by an overlay bar that does not take hover/clicks
    err = fig.data[2]
    assert _f(err.y) == [1.0] and _f(err.base) == [19.0] and _f(err.x) == [20.0]
    assert err.marker.line.color == plotting.ERROR_COLOR and err.marker.line.width == 2
    assert err.hoverinfo == "skip"
    # critical sections: c has 3, d 1, e 1 → 5 bars on rows 0,0,0,1,3
    cp = fig.data[1]
    assert _f(cp.y) == [0, 0, 0, 1, 3]
    assert _f(cp.base) == [0.0, 39.0, 59.0, 19.0, 49.0]
    assert _f(cp.x) == [19.0, 10.0, 41.0, 20.0, 10.0]
    # axis and labels
    assert fig.layout.xaxis.title.text == "ms from trace start"
    assert fig.layout.yaxis.autorange == "reversed"
    # a tree: depth shown by connectors, service chip + "service · operation", left-aligned (monospace, equal length)
    ticks = list(fig.layout.yaxis.ticktext)
    assert _plain(ticks) == ["■ web · op-c", "├─ ■ ⚠ db · op-d", "│  └─ ■ cache · op-f", "└─ ■ web · op-e"]
    assert len({len(re.sub(r"<[^>]+>", "", t)) for t in ticks}) == 1
    assert f'<span style="color:{col["db"]}">■</span>' in ticks[1]
    assert "monospace" in fig.layout.yaxis.tickfont.family
    # durations on the bars, a header line under the title
    assert list(bars.text) == ["100.0 ms", "20.0 ms", "5.0 ms", "10.0 ms"]
    assert fig.layout.title.text.startswith(f"trace {TID}<br><sup>request 100.0 ms · started ")
    assert "ok (1 failed span) · 4 spans</sup>" in fig.layout.title.text


def test_waterfall_collapsed_rows_and_no_critical_path():
    spans = trace(JAEGER1)
    fig = tk.plot_waterfall(spans, TID, collapse=["c" * 16])
    assert [t.meta for t in fig.data] == ["spans", "legend"]
    assert len(fig.data[0].x) == 1
    assert _plain(fig.layout.yaxis.ticktext)[0].endswith("op-c (+2)")
    assert "3 spans, 1 shown" in fig.layout.title.text


def test_waterfall_from_precomputed_rows_and_in_progress_is_hatched():
    spans = trace([("a", None, 0, 10), ("b", "a", 2, None)])
    rows = tk.waterfall_data(spans, critical_path=cp_frame([("a", 0, 10)]))
    fig = tk.plot_waterfall(rows)
    # the in-progress hatch under the critical path (s48: drawn over it, it washed the path through a running span grey)
    assert [t.meta for t in fig.data] == ["spans", "in_progress", "critical_path", "legend"]
    assert _f(fig.data[0].x) == [10.0, 8.0]
    assert _f(fig.data[1].y) == [1.0] and _f(fig.data[1].x) == [8.0] and fig.data[1].hoverinfo == "skip"


def test_waterfall_escapes_names_and_does_not_mutate():
    spans = trace(JAEGER1, name=["<img src=x onerror=alert(1)>", "ok", "ok"], service=["<b>svc</b>", "s", "s"])
    before = copy.deepcopy(spans)
    fig = tk.plot_waterfall(spans, TID)
    pd.testing.assert_frame_equal(spans, before)
    text = fig.to_json()
    assert "<img" not in text and "<b>svc</b>" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert [t.name for t in fig.data if t.meta == "legend"] == ["&lt;b&gt;svc&lt;/b&gt;", "s"]


def test_waterfall_many_spans_drops_tick_labels_but_keeps_one_bar_trace():
    n = 3000
    ids = [f"{i + 1:016x}" for i in range(n)]
    spans = tk.spans_from_columns(
        {"trace_id": [TID] * n, "span_id": ids, "parent_id": [None] + [ids[0]] * (n - 1), "service": ["s"] * n,
         "name": ["op"] * n, "start": np.arange(n) * 1000, "end": np.arange(n) * 1000 + 10_000_000}
    )
    fig = tk.plot_waterfall(spans, max_labels=2000)
    assert sum(t.type == "bar" for t in fig.data) == 1
    assert len(fig.data[0].x) == n
    assert fig.layout.yaxis.showticklabels is False
    assert fig.layout.height == 1100
    assert fig.data[0].text is None  # no duration text on thousands of bars


@pytest.mark.slow  # over 1.9 s in the fast lane at load 13 on 2 cores (issue 28)
def test_every_figure_writes_self_contained_html(tmp_path):
    spans = trace(JAEGER1)
    G = nx.DiGraph()
    G.add_edge("api", "db", calls=3, errors=0, p50=1.0, p95=2.0)
    bd = pd.DataFrame({"service": ["svc"], "cp_ms": [70.0], "share": [0.7]})
    cmp = pd.DataFrame({"service": ["svc"], "p50_a": [1.0], "p50_b": [2.0]})
    figs = [
        tk.plot_waterfall(spans, critical_path=cp_frame(JAEGER1_CP)),
        tk.plot_latency(spans),
        tk.plot_critical_path_breakdown(bd),
        tk.plot_service_graph(G, pos={"api": (0, 0), "db": (1, 1)}),
        tk.plot_compare(cmp),
    ]
    for i, fig in enumerate(figs):
        path = tmp_path / f"fig{i}.html"
        fig.write_html(path, include_plotlyjs=True)
        page = path.read_text()
        assert not re.search(r"<script[^>]*\bsrc=", page)  # plotly.js inline, nothing fetched
        assert "Plotly.newPlot" in page


def test_latency_histogram_counts_and_log_bins():
    # api: 1, 3, 5, 8 ms; db: 3 ms; one in-progress span (no duration) left out
    spans = trace(
        [("a", None, 0, 1, "api"), ("b", None, 0, 3, "api"), ("c", None, 0, 5, "api"), ("d", None, 0, 8, "api"),
         ("e", None, 0, 3, "db"), ("f", None, 0, None, "db")]
    )
    fig = tk.plot_latency(spans, kind="histogram", bins=3, log_x=True)
    assert [t.meta for t in fig.data] == ["api", "db"]
    api = fig.data[0]
    np.testing.assert_allclose(_f(api.x), [1.0, 2.0, 4.0, 8.0])  # log-spaced edges 1..8
    assert _f(api.y) == [1.0, 1.0, 2.0, 2.0]  # [1,2) [2,4) [4,8] (+ repeated last for the step)
    assert _f(fig.data[1].y) == [0.0, 1.0, 0.0, 0.0]
    assert fig.layout.xaxis.type == "log"
    lin = tk.plot_latency(spans, kind="histogram", bins=2)
    assert _f(lin.data[0].x) == [1.0, 4.5, 8.0] and _f(lin.data[0].y) == [2.0, 2.0, 2.0]
    assert lin.layout.xaxis.type == "linear"


def test_latency_ecdf_by_route_roots_only_and_top():
    spans = trace(
        [("a", None, 0, 10), ("b", "a", 0, 2), ("c", None, 0, 20), ("d", None, 0, 30)],
        attributes=[{"http.route": "/a"}, {"http.route": "/x"}, {"http.route": "/a"}, {}],
        name=["GET", "child", "GET", "POST"],
    )
    fig = tk.plot_latency(spans, by="route", kind="ecdf", roots_only=True)
    assert [t.meta for t in fig.data] == ["/a", "POST"]
    assert _f(fig.data[0].x) == [10.0, 20.0] and _f(fig.data[0].y) == [0.5, 1.0]
    top1 = tk.plot_latency(spans, by="route", kind="ecdf", n=1)
    assert [t.meta for t in top1.data] == ["/a"] and "top 1 of 3 groups" in top1.layout.title.text
    with pytest.raises(tk.ArgumentError, match="not a named key"):
        tk.plot_latency(spans, by="nope")
    with pytest.raises(tk.TraceKitError, match="kind must be"):
        tk.plot_latency(spans, kind="violin")


def test_latency_ecdf_downsamples_large_groups():
    n = 5000
    ids = [f"{i + 1:016x}" for i in range(n)]
    spans = tk.spans_from_columns(
        {"trace_id": [TID] * n, "span_id": ids, "service": ["s"] * n, "name": ["x"] * n,
         "start": [0] * n, "end": (np.arange(n) + 1) * 1_000_000}
    )
    t = tk.plot_latency(spans, kind="ecdf", max_points=101).data[0]
    assert len(t.x) == 101
    assert float(t.x[0]) == 1.0 and float(t.x[-1]) == 5000.0 and float(t.y[-1]) == 1.0
    # point 50 is sorted index round(50 * 4999 / 100) = round(2499.5) = 2500: 2501 ms, 2501 of 5000 spans
    assert float(t.x[50]) == 2501.0 and float(t.y[50]) == 2501 / 5000


def test_critical_path_breakdown_bars_from_real_breakdown():
    import tracekit.analysis.critical_paths as cpmod
    spans = trace(
        [("c", None, 1, 101, "web"), ("d", "c", 20, 40, "db"), ("e", "c", 50, 60, "cache")]
    )
    bd = cpmod.critical_path_breakdown(cpmod.critical_path(spans), by="service")
    fig = tk.plot_critical_path_breakdown(bd)
    assert len(fig.data) == 1
    assert list(fig.data[0].y) == ["web", "db", "cache"]
    assert _f(fig.data[0].x) == [70.0, 20.0, 10.0]
    assert list(fig.data[0].text) == ["70.0%", "20.0%", "10.0%"]
    col = tk.service_colors(["cache", "db", "web"])
    assert list(fig.data[0].marker.color) == [col["web"], col["db"], col["cache"]]


def test_critical_path_breakdown_multi_key_top_and_errors():
    bd = pd.DataFrame({"service": ["a", "b", "c"], "name": ["x<y", "z", "w"], "cp_ms": [1.0, 5.0, 3.0], "share": [0.1, 0.5, 0.3]})
    fig = tk.plot_critical_path_breakdown(bd, n=2)
    assert list(fig.data[0].y) == ["b · z", "c · w"]
    assert list(tk.plot_critical_path_breakdown(bd.iloc[[0]]).data[0].y) == ["a · x&lt;y"]
    with pytest.raises(tk.TraceKitError, match="'p99_ms' not in the breakdown"):
        tk.plot_critical_path_breakdown(bd, value="p99_ms")


def _by_meta(fig, meta):
    return next(t for t in fig.data if t.meta == meta)


def test_service_graph_edges_nodes_and_escaping():
    G = nx.DiGraph()
    G.add_node("<api>", calls=10, errors=5)
    G.add_node("db", calls=20, errors=0)
    G.add_edge("<api>", "db", calls=20, errors=2, p50=3.0, p95=9.5)
    G.add_edge("db", "db", calls=1, errors=0)
    fig = tk.plot_service_graph(G, pos={"<api>": (0.0, 0.0), "db": (2.0, 1.0)})
    assert [t.meta for t in fig.data if isinstance(t.meta, str)] == ["edges", "edge_info", "nodes", "legend", "legend"]
    assert list(fig.data[0].x) == [0.0, 2.0, None, 2.0, 2.0, None]
    lines = [t for t in fig.data if isinstance(t.meta, dict)]  # one line per edge, self-loops excepted
    assert [t.meta["edge"] for t in lines] == [["<api>", "db"]] and lines[0].meta["class"] == "failing ≥ 5%"
    info = _by_meta(fig, "edge_info")
    assert info.hovertext[0] == "<b>&lt;api&gt; → db</b><br>calls: 20<br>failed: 2 of 20 calls (10.0%)<br>p50: 3<br>p95: 9.5"
    nodes = _by_meta(fig, "nodes")
    assert list(nodes.text) == ["&lt;api&gt;", "db"]
    assert _f(nodes.customdata) == [0.5, 0.0]
    # every node has its service colour, the failing one a red outline
    col = tk.service_colors(["<api>", "db"])
    assert list(nodes.marker.color) == [col["<api>"], col["db"]]
    assert list(nodes.marker.line.color) == [plotting.ERROR_COLOR, "#333333"]
    names = [a.text for a in fig.layout.annotations if a.name == "node_label"]
    assert names == ["&lt;api&gt;", "db"]
    assert [a.text for a in fig.layout.annotations if a.name == "edge_label"] == ["20 calls<br>p95 9.5 ms · 10% failed", "1 call"]
    assert sum(a.name == "arrow" for a in fig.layout.annotations) == 1  # the self-loop gets no arrow
    assert fig.layout.xaxis.visible is False and fig.layout.yaxis.visible is False
    with pytest.raises(tk.TraceKitError, match="no position"):
        tk.plot_service_graph(G, pos={"db": (0, 0)})


def test_service_graph_default_layout_covers_every_node():
    G = nx.DiGraph([("a", "b"), ("b", "c"), ("a", "c")])
    fig = tk.plot_service_graph(G)
    nodes = _by_meta(fig, "nodes")
    assert len(nodes.x) == 3 and all(np.isfinite(_f(nodes.x)))
    # layered left to right: a, b, c in layers 0, 1, 2; the long edge a → c bends around b
    assert _f(nodes.x) == [0.0, 1.0, 2.0]
    ac = next(t for t in fig.data if isinstance(t.meta, dict) and t.meta["edge"] == ["a", "c"])
    assert len(ac.x) == 3 and float(ac.y[1]) != float(nodes.y[1])


@pytest.mark.slow  # 3.6 s in the fast lane (2 loaded cores, issue 28)
def test_service_graph_layout_no_overlapping_labels_on_the_bundled_incident():
    """Services are nodes (operations are not); node labels and edge labels do not overlap."""
    inc = read_dataset("checkout-incident")
    G = tk.service_graph(inc)
    services = set(inc["service"].astype(str))
    assert {"SELECT orders", "INSERT orders", "POST /v1/charges"}.isdisjoint(G.nodes)
    assert set(G.nodes) == services | {"orders-db", "api.card-network.example"}
    fig = tk.plot_service_graph(G, operations=tk.service_graph(inc, by="operation"))
    nodes = _by_meta(fig, "nodes")
    pos = {str(n): (float(x), float(y)) for n, x, y in zip(nodes.text, nodes.x, nodes.y, strict=True)}
    # callers left of callees: every edge goes rightwards
    assert all(pos[u][0] < pos[v][0] for u, v in G.edges if u != v)
    # no two nodes share a position (labels sit above their node: distinct positions → distinct labels)
    assert len(set(pos.values())) == len(pos)
    # edge labels (estimated boxes at the figure's scale) overlap neither each other nor a node
    sx = 1000 / (fig.layout.xaxis.range[1] - fig.layout.xaxis.range[0])
    sy = (fig.layout.height - 100) / abs(fig.layout.yaxis.range[0] - fig.layout.yaxis.range[1])
    labels = [a for a in fig.layout.annotations if a.name == "edge_label"]
    assert len(labels) == G.number_of_edges()
    boxes = []
    for a in labels:
        lines = a.text.split("<br>")
        w, h = 3 * max(map(len, lines)), 6 * len(lines)
        boxes.append((a.x * sx - w, a.x * sx + w, a.y * sy - h, a.y * sy + h))
    boxes += [(x * sx - 30, x * sx + 30, y * sy - 30, y * sy + 10) for x, y in pos.values()]
    for i, b in enumerate(boxes):
        for c in boxes[i + 1:]:
            assert min(b[1], c[1]) <= max(b[0], c[0]) or min(b[3], c[3]) <= max(b[2], c[2]), (b, c)
    # operations appear in the hovers, never as nodes
    hover = dict(zip(nodes.text, nodes.hovertext, strict=True))
    assert "SELECT orders (from checkout, " in hover["orders-db"] and "POST /v1/charges" in hover["payments"]
    head, sub = fig.layout.title.text.split("<br>")
    assert head == "service map: 10 services + 2 uninstrumented peers, 14 call edges"
    # the population and window the counts are of (session 42: the title said neither)
    assert sub.startswith(f"<sup>{len(inc):,} spans of {inc['trace_id'].nunique():,} traces, ") and sub.endswith(" UTC</sup>")


@pytest.mark.slow  # 3.1 s in the fast lane (2 loaded cores, issue 28)
def test_service_graph_against_the_baseline_names_the_slow_edge():
    inc = read_dataset("checkout-incident")
    base = read_dataset("checkout-baseline")
    G, B = tk.service_graph(inc), tk.service_graph(base)
    fig = tk.plot_service_graph(G, baseline=B)
    cls = {tuple(t.meta["edge"]): t.meta["class"] for t in fig.data if isinstance(t.meta, dict)}
    # db-lock: checkout's orders-db calls take +250 ms; the callers up the chain get slower with them
    assert cls[("checkout", "orders-db")] == "slower ×2+"
    assert cls[("frontend", "checkout")] in ("slower ×2+", "slower")
    assert cls[("catalog", "inventory")] == "unchanged" and cls[("payments", "api.card-network.example")] == "unchanged"
    label = next(a.text for a in fig.layout.annotations if a.name == "edge_label" and "254 ms" in a.text)
    assert re.fullmatch(r"689 calls<br>p95 \d+(\.\d+)? ms → 254 ms", label)
    info = _by_meta(fig, "edge_info")
    hov = next(h for h in info.hovertext if h.startswith("<b>checkout → orders-db</b>"))
    assert "p95 " in hov and " → 254 ms" in hov
    # a call only in the baseline is drawn and classed "gone"; one only now "new"
    B2 = B.copy()
    B2.add_edge("checkout", "legacy-ledger", calls=5, p95_ms=3.0)
    B2.remove_edge("checkout", "SQS")
    fig2 = tk.plot_service_graph(G, baseline=B2)
    cls2 = {tuple(t.meta["edge"]): t.meta["class"] for t in fig2.data if isinstance(t.meta, dict)}
    assert cls2[("checkout", "legacy-ledger")] == "gone" and cls2[("checkout", "SQS")] == "new"
    assert "legacy-ledger" in list(_by_meta(fig2, "nodes").text)
    with pytest.raises(tk.TraceKitError, match="baseline must be"):
        tk.plot_service_graph(G, baseline="nope")


def test_compare_pairs_and_order_by_change():
    cmp = pd.DataFrame({"service": ["a", "b", "c"], "p95_a": [10.0, 5.0, 1.0], "p95_b": [11.0, 15.0, 0.0], "n_a": [1, 2, 3]})
    fig = tk.plot_compare(cmp, labels=("v1", "v2"))
    assert [t.meta for t in fig.data] == ["before", "after"]
    assert [t.name for t in fig.data] == ["v1", "v2"]
    # bars in each service's colour: a legend swatch would show service b's colour as v2's, so the figure says it
    assert fig.layout.showlegend is False and isinstance(fig.data[1].marker.color, tuple)
    assert [a.text for a in fig.layout.annotations if a.name == "legend"] == ["grey: v1 · in each service's colour: v2"]
    assert list(fig.data[0].y) == ["b", "a", "c"]  # |change| 10, 1, 1
    # tk.compare's convention: b is the reference (drawn as "before"), a the set under suspicion
    assert _f(fig.data[0].x) == [15.0, 11.0, 0.0] and _f(fig.data[1].x) == [5.0, 10.0, 1.0]
    fig2 = tk.plot_compare(cmp.rename(columns={"service": "route"}), before="n_a", after="p95_a", n=1)
    assert fig2.layout.showlegend is not False and not fig2.layout.annotations  # one colour: the legend says it
    assert list(fig2.data[0].y) == ["a"]
    assert [t.name for t in fig2.data] == ["before", "after"]
    with pytest.raises(tk.TraceKitError, match="no before/after column pair"):
        tk.plot_compare(cmp[["service"]])


def _one(tid: str, db_ms: int) -> pd.DataFrame:
    return tk.spans_from_columns(
        {"trace_id": [tid] * 2, "span_id": [tid[:15] + "a", tid[:15] + "b"], "parent_id": [None, tid[:15] + "a"],
         "service": ["api", "db"], "name": ["GET /", "q"], "start": [0, 10 * 1_000_000],
         "end": [(20 + db_ms) * 1_000_000, (10 + db_ms) * 1_000_000]}
    )


def test_compare_figure_from_tk_compare():
    import tracekit.analysis.comparison  # noqa: F401
    slow = pd.concat([_one(f"{i:032x}", 90) for i in range(1, 4)], ignore_index=True)
    fast = pd.concat([_one(f"{i:032x}", 10) for i in range(4, 7)], ignore_index=True)
    c = tk.compare(slow, fast, n_boot=50)
    fig = tk.plot_compare(c)
    assert [t.name for t in fig.data] == ["b (reference)", "a"]
    assert list(fig.data[0].y) == ["db", "api"]
    assert _f(fig.data[0].x) == [10.0, 20.0] and _f(fig.data[1].x) == [90.0, 20.0]
    assert "change: +80" in fig.data[0].hovertext[0] and "CI [" in fig.data[0].hovertext[0]
    p95 = tk.plot_compare(c, metric="p95_ms")
    assert _f(p95.data[1].x)[0] == 90.0 and p95.layout.xaxis.title.text == "p95 span duration (ms)"


def test_service_graph_from_tk_service_graph_on_bundled_example():
    import tracekit.analysis.graph  # noqa: F401
    from tracekit.analysis.graph import graph_layout

    G = tk.service_graph(tk.examples.load("checkout-small"))
    fig = tk.plot_service_graph(G)
    lay = graph_layout(G)
    layer = lay[lay["element"] == "node"].set_index("node")["x"]
    nodes = _by_meta(fig, "nodes")
    assert sorted(nodes.text) == sorted(plotting.colors.esc(str(n)) for n in G.nodes)
    # x is the graph_layout layer of each node
    assert all(float(x) == float(layer[n]) for n, x in zip(nodes.text, nodes.x, strict=True))
    info = _by_meta(fig, "edge_info")
    assert len(info.x) == G.number_of_edges() == sum(a.name == "arrow" for a in fig.layout.annotations)
    u, v, a = next(iter(G.edges(data=True)))
    assert info.hovertext[0].startswith(f"<b>{u} → {v}</b><br>calls: {a['calls']}")


def test_real_onlineboutique_waterfall_figure(real_traces):
    spans = nezha_spans(real_traces / "nezha/onlineboutique-2022-08-22/05_20_trace.csv")
    tid = spans.groupby("trace_id").size().idxmax()
    t = spans[spans["trace_id"] == tid]
    fig = tk.plot_waterfall(spans, tid)
    bars = fig.data[0]
    assert len(bars.x) == len(t)
    services = sorted(t["service"].unique())
    assert [x.name for x in fig.data if x.meta == "legend"] == services
    # coloured as among every service of the frame (as the frame's other figures colour them), not only the trace's
    cmap = plotting.service_colors(spans["service"].unique())
    rows = tk.waterfall_data(spans, tid)
    assert plotting.bar_colors(bars) == [cmap[s] for s in rows["service"]]


def test_breakdown_and_compare_bars_with_a_missing_key_value():
    # a key taken from a nullable column (http_status <NA>) is labelled "<NA>" (escaped), as in
    # plot_latency; pandas' astype(str) keeps the missing value as a float, which html.escape
    # used to reject with a bare AttributeError.
    bd = pd.DataFrame({"http_status": pd.array([None, 200], dtype="Int64"), "cp_ms": [270.0, 60.0], "share": [0.8, 0.2]})
    fig = tk.plot_critical_path_breakdown(bd)
    assert list(fig.data[0].y) == ["&lt;NA&gt;", "200"]
    cmp = pd.DataFrame({"http_status": pd.array([None, 200], dtype="Int64"), "cp_ms_a": [90.0, 20.0], "cp_ms_b": [10.0, 20.0]})
    fig = tk.plot_compare(cmp, key="http_status")
    assert "&lt;NA&gt;" in list(fig.data[0].y) and "200" in list(fig.data[0].y)


def test_latency_by_route_uses_the_one_route_key():
    # plotting had its own derivation (raw url.path: two groups for /orders/1 and /orders/2);
    # the kernel's route masks ids, so both requests are one route, as sampling strata see them
    spans = tk.spans_from_columns({
        "trace_id": ["1" * 32] * 3, "span_id": ["a" * 16, "b" * 16, "c" * 16], "service": ["web"] * 3,
        "name": ["GET", "GET", "work"], "start": [0] * 3, "end": [1_000_000, 3_000_000, 2_000_000],
        "attributes": [{"url.path": "/orders/1"}, {"url.path": "/orders/2"}, {}]})
    fig = tk.plot_latency(spans, by="route", kind="ecdf")
    assert sorted(t.meta for t in fig.data) == sorted(set(tk.core.routes(spans))) == ["/orders/{id}", "work"]


def test_waterfall_accepts_an_xray_trace_id():
    spans = tk.spans_from_columns({
        "trace_id": ["5759e988bd862e3fe1be46a994272793"] * 2, "span_id": ["a" * 16, "b" * 16],
        "parent_id": [None, "a" * 16], "service": ["web", "db"], "name": ["GET /", "q"],
        "start": [0, 1_000_000], "end": [5_000_000, 2_000_000]})
    fig = tk.plot_waterfall(spans, "1-5759e988-bd862e3fe1be46a994272793")
    assert [float(v) for v in fig.data[0].x] == [5.0, 1.0]


def test_service_graph_node_failed_share_without_double_counting():
    G = nx.DiGraph()
    G.add_node("api", spans=10, errors=4, faults=3)   # faults are part of the failed spans
    G.add_node("db", spans=10, failed=1, errors=9)     # the kernel's count wins when present
    G.add_edge("api", "db", calls=10)
    fig = tk.plot_service_graph(G)
    nodes = _by_meta(fig, "nodes")
    assert list(nodes.customdata) == [0.4, 0.1]
    assert "failed: 4 of 10 spans (40.0%)" in nodes.hovertext[0]
    # one failed line per node, the kernel's count (session 42: db also read "failed: 9" beside a share of 10%)
    assert [x for x in nodes.hovertext[1].split("<br>") if x.startswith("failed")] == ["failed: 1 of 10 spans (10.0%)"]



def test_service_graph_a_rare_failure_never_reads_zero_percent():
    """deploy-regression's catalog → inventory edge failed once in 3,755 calls: orange ("some failed") and
    labelled "0.0% failed" by rounding; every edge with a failure says a share above zero."""
    G = tk.service_graph(read_dataset("deploy-regression"))
    fig = tk.plot_service_graph(G)
    labels = [a.text for a in fig.layout.annotations if a.name == "edge_label"]
    failing = {(u, v): a for u, v, a in G.edges(data=True) if a.get("errors", 0) > 0}
    rare = [(u, v) for (u, v), a in failing.items() if a["errors"] / a["calls"] < 0.0005]
    assert rare, "the dataset holds an edge whose failed share rounds to 0.0 %"
    assert not any("0.0% failed" in t for t in labels)
    assert sum("&lt;0.1% failed" in t for t in labels) == len(rare)  # "<0.1% failed", escaped as every label
    hover = _by_meta(fig, "edge_info").hovertext
    for u, v in rare:
        line = next(h for h in hover if h.startswith(f"<b>{u} → {v}</b>"))
        a = failing[(u, v)]  # the share says its population: the calls of known outcome
        assert f"failed: {a['errors']:,} of {a['calls'] - a['unknown']:,} calls (&lt;0.1%)" in line


# --------------------------------------------------------------------------------------------------
# one colour per service (issue 16)

SHOP = ["api-gateway", "frontend", "catalog", "cart", "checkout", "payments", "fulfillment", "inventory",
        "DynamoDB", "SQS", "orders-db", "api.card-network.example"]


def test_service_colors_depend_on_the_name_not_on_the_company_or_order():
    full = tk.service_colors(SHOP)
    assert len(set(full.values())) == len(SHOP)  # distinct within one call
    assert set(full.values()) <= set(plotting.PALETTE) and len(plotting.PALETTE) == 20
    assert tk.service_colors(reversed(SHOP)) == full
    # a subset, or other services around, leave a service's colour alone unless two names collide
    for s in SHOP:
        alone = tk.service_colors([s])[s]
        assert alone == plotting.PALETTE[plotting.colors._palette_slot(s)]
        assert tk.service_colors([s, "checkout"])[s] == alone or plotting.colors._palette_slot("checkout") == plotting.colors._palette_slot(s)
    assert tk.service_colors(["checkout", "zz-new-service"])["checkout"] == full["checkout"]
    # collisions within one call are resolved: 20 names fill the 20 colours, names beyond repeat colours
    twenty = tk.service_colors(f"svc-{i}" for i in range(20))
    assert len(set(twenty.values())) == 20
    assert len(tk.service_colors(f"svc-{i}" for i in range(25))) == 25
    assert tk.service_colors([None, float("nan"), pd.NA, "a"]) == {"a": tk.service_colors(["a"])["a"]}
    # red marks errors and grey the baseline: no service takes them
    assert plotting.ERROR_COLOR not in plotting.PALETTE and "#9DA3AE" not in plotting.PALETTE


def _lab(hex_color: str) -> np.ndarray:
    """sRGB → CIELAB (D65), to measure how far apart two colours look."""
    rgb = np.array([int(hex_color[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    lin = np.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ lin
    xyz /= np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_service_colours_can_be_told_apart():
    # two services must not look alike (the report drew api-gateway and cart in two yellows 18 apart), nor like
    # the error red, the baseline grey or the critical-path black
    pal = [_lab(c) for c in plotting.PALETTE]
    pairs = [float(np.linalg.norm(a - b)) for i, a in enumerate(pal) for b in pal[i + 1:]]
    assert min(pairs) >= 25
    for reserved in (plotting.ERROR_COLOR, "#9DA3AE", plotting.CRITICAL_COLOR):
        assert min(float(np.linalg.norm(_lab(reserved) - c)) for c in pal) >= 25


@pytest.mark.slow  # 2.6 s in the fast lane (2 loaded cores, issue 28)
def test_every_service_figure_uses_the_same_colour_per_service():
    inc = read_dataset("checkout-incident")
    col = tk.service_colors(inc["service"].astype(str))
    tid = str(inc.loc[inc["name"] == "SELECT orders", "trace_id"].iloc[0])
    wf = tk.plot_waterfall(inc, tid)
    assert {t.name: t.marker.color for t in wf.data if t.meta == "legend"} == {s: col[s] for s in
                                                                               set(inc.loc[inc.trace_id == tid, "service"])}
    lat = tk.plot_latency(inc, by="service", kind="ecdf")
    assert all(t.line.color == col[t.meta] for t in lat.data)
    ecdf = tk.plot_latency_ecdf(inc, by="service", n=4)
    assert all(t.line.color == col[t.meta["group"]] for t in ecdf.data)
    G = tk.service_graph(inc)
    nodes = next(t for t in tk.plot_service_graph(G).data if t.meta == "nodes")
    assert all(c == col[n] for n, c in zip(nodes.text, nodes.marker.color, strict=True) if n in col)
    bd = pd.DataFrame({"service": ["payments", "checkout"], "cp_ms": [5.0, 9.0], "share": [0.3, 0.7]})
    assert list(tk.plot_critical_path_breakdown(bd).data[0].marker.color) == [col["checkout"], col["payments"]]
    cmp = pd.DataFrame({"service": ["payments", "checkout"], "p95_ms_a": [5.0, 90.0], "p95_ms_b": [5.0, 9.0]})
    fig = tk.plot_compare(cmp, metric="p95_ms")
    assert list(fig.data[1].marker.color) == [col["checkout"], col["payments"]] and fig.data[0].marker.color == "#9DA3AE"
    tl = tk.plot_timeline(inc[inc.service.isin(["checkout", "payments"])], "10min", by="service", deployments=False)
    assert all(t.line.color == col[t.meta["key"]] for t in tl.data if t.meta["role"] == "value")


# --------------------------------------------------------------------------------------------------
# latency: log-x ECDF with the baseline overlaid (issue 16)


@pytest.mark.slow  # 2.6 s in the fast lane (2 loaded cores, issue 28)
def test_latency_ecdf_of_request_latency_with_baseline_on_the_db_lock_incident():
    inc = read_dataset("checkout-incident")
    base = read_dataset("checkout-baseline")
    fig = tk.plot_latency_ecdf(inc, base)
    a, b = fig.data
    assert a.meta == {"period": "incident", "group": "all"} and b.meta["period"] == "baseline" and b.line.dash == "dash"
    req = tk.core.trace_outcomes(inc)["request_ms"].to_numpy(dtype=float)
    assert len(a.x) == 1200 == len(req) and float(a.x[-1]) == req.max() and float(a.y[-1]) == 1.0
    # the two periods agree below the p70 and part above it: 47 requests +250 ms
    p95_inc = float(tk.core.percentile(req, 0.95))
    assert f"p95 {p95_inc:,.0f} ms" in a.name and "n=1,200" in a.name
    assert fig.layout.xaxis.type == "log" and fig.layout.xaxis.title.text == "request latency (ms, log scale)"
    assert fig.layout.yaxis.title.text == "fraction of requests ≤ x"
    # then each period's population and window on a second line (session 42: neither was said)
    head, _, who = fig.layout.title.text.partition("<br>")
    assert head == "request latency: incident vs baseline" and who.startswith("<sup>incident: 1,200 requests, ")
    ticks = _f(fig.layout.xaxis.tickvals)
    assert ticks[0] <= float(a.x[0]) * 1.5 and ticks[-1] >= float(a.x[-1]) / 1.5
    assert all(str(int(t)) in fig.layout.xaxis.ticktext[i].replace(",", "") for i, t in enumerate(ticks) if t >= 1)
    # latencies already computed, and errors
    fig2 = tk.plot_latency_ecdf(pd.Series([5.0, 0.0, np.nan, 50.0]))
    assert _f(fig2.data[0].x) == [5.0, 50.0] and len(fig2.data) == 1
    with pytest.raises(tk.TraceKitError, match="by= needs spans"):
        tk.plot_latency_ecdf(pd.Series([1.0]), by="service")
    with pytest.raises(tk.TraceKitError, match="spans or latencies"):
        tk.plot_latency_ecdf(object())


def test_plot_latency_baseline_and_automatic_log_axis():
    # durations spanning 3 decades: the axis turns logarithmic by itself, and the baseline is dashed per group
    spans = trace([("a", None, 0, 1, "api"), ("b", None, 0, 1000, "api"), ("c", None, 0, 10, "db")])
    base = trace([("a", None, 0, 2, "api"), ("c", None, 0, 4, "db")])
    fig = tk.plot_latency(spans, kind="ecdf", baseline=base)
    assert fig.layout.xaxis.type == "log" and "log scale" in fig.layout.xaxis.title.text
    assert [t.meta for t in fig.data] == ["api", "baseline · api", "db", "baseline · db"]
    assert [t.line.dash for t in fig.data] == ["solid", "dash", "solid", "dash"]
    assert fig.data[0].line.color == fig.data[1].line.color
    assert _f(fig.data[1].x) == [2.0]
    narrow = tk.plot_latency(trace([("a", None, 0, 10), ("b", None, 0, 30)]))
    assert narrow.layout.xaxis.type == "linear"
    hist = tk.plot_latency(spans, baseline=base, bins=3)
    assert _f(hist.data[0].x)[0] == 1.0 and _f(hist.data[0].x)[-1] == 1000.0  # bins cover both periods


@pytest.mark.slow  # 4.9 s in the fast lane (2 loaded cores, issue 28)
def test_timeline_changes_of_one_window_share_one_shade_and_one_label():
    inc = read_dataset("checkout-incident")
    ch = tk.detect_changes(inc)
    assert len(ch) >= 2 and ch[["onset", "recovery"]].drop_duplicates().shape[0] == 1  # db-lock: one window
    fig = tk.plot_timeline(inc, "1min", by="service", changes=ch, deployments=False)
    assert sum(s.name == "change" for s in fig.layout.shapes) == 1
    (label,) = [a.text for a in fig.layout.annotations if a.name == "change"]
    lines = label.split("<br>")
    assert len(lines) == len(ch) and lines[0].startswith("checkout p95 +")  # largest change first
    assert fig.layout.xaxis3.title.text == "time (UTC)" and fig.layout.yaxis3.title.text == "latency (ms)"


def test_waterfall_long_operation_names_keep_their_end(real_traces):
    spans = nezha_spans(real_traces / "nezha/onlineboutique-2022-08-22/05_20_trace.csv")
    tid = spans.groupby("trace_id").size().idxmax()
    fig = tk.plot_waterfall(spans, tid)
    ticks = _plain(fig.layout.yaxis.ticktext)
    assert len(ticks) == (spans["trace_id"] == tid).sum()
    assert max(map(len, ticks)) <= plotting.waterfall._LABEL_CHARS + 2
    # names cut on the left keep the method, so the calls stay distinguishable
    assert any(t.endswith("…e/Convert") or t.endswith("Service/Convert") for t in ticks)
    assert "request 27,625.9 ms · started 2022-08-22 05:19:14.365 UTC" in fig.layout.title.text


@pytest.mark.slow  # 4.5 s in the fast lane (2 loaded cores, issue 28)
def test_timeline_draws_the_keys_a_change_names_even_beyond_top():
    inc = read_dataset("checkout-incident")
    ch = tk.detect_changes(inc)
    fig = tk.plot_timeline(inc, "1min", by="service", changes=ch, n=2, deployments=False)
    keys = list(dict.fromkeys(t.meta["key"] for t in fig.data if t.meta["role"] == "value"))
    # checkout is not among the two busiest services (DynamoDB, inventory), but the change names it
    assert set(ch["service"]) <= set(keys) and len(keys) == len(set(ch["service"]))
    assert "checkout" in keys and "inventory" not in keys
