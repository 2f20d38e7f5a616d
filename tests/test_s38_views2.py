"""Review s38, what users see (views2): the report's first words on data without a single root span, durations in
every hover by the one duration rule (core.words), the service map of ~40 services and the TraceExplorer's
auto-fold of a trace of many fragments. Frames are built by construction; each test failed on the code before its
fix."""

from __future__ import annotations

import pandas as pd
import pytest

import tracekit as tk


def _frame(rows: list[tuple]) -> pd.DataFrame:
    """Spans from (trace, span, parent, service, name, start_ns, end_ns) tuples (ids widened to 32 / 16 hex)."""
    t, s, p, sv, nm, a, b = zip(*rows, strict=True)
    return tk.spans_from_columns({
        "trace_id": [x * 32 for x in t], "span_id": [f"{x:016x}" for x in s],
        "parent_id": [None if x is None else f"{x:016x}" for x in p], "service": list(sv), "name": list(nm),
        "kind": ["server"] * len(rows), "start": list(a), "end": list(b)})


# ---- the report leads with "no root span at all" --------------------------------------------------------------------
@pytest.fixture(scope="module")
def children_only():
    """Six traces of api -> db -> cache whose api root was never exported: each trace holds the db span (its parent,
    span 1 of the trace, absent) and the cache span below it, so no trace has a root span by construction."""
    rows = []
    for i, tr in enumerate("abcdef"):
        t0 = i * 60_000_000_000
        rows += [(tr, 10 * i + 2, 10 * i + 1, "db", "SELECT", t0 + 1_000_000, t0 + 8_000_000),
                 (tr, 10 * i + 3, 10 * i + 2, "cache", "GET", t0 + 2_000_000, t0 + 3_000_000)]
    return _frame(rows)


def test_postmortem_leads_with_no_root_span_at_all(children_only):
    """It led with '0 requests in 00:00–00:05 UTC: p50 request latency n/a, p95 n/a, error rate unknown'; the missing
    roots were said only in 'how sure' (as 'count the 0 requests whose root was')."""
    pm = tk.postmortem(children_only)
    first = pm.findings[0]
    assert first.topic == "what"
    assert first.text.startswith("No root span at all: none of the 6 traces"), first.text
    assert first.evidence["rootless_traces"] == 6 and first.evidence["requests"] == 0
    sure = " ".join(pm.sentences("sure"))
    assert "the 0 requests" not in sure and "None of its 6 has a root span" in sure, sure
    # a trace with its root beside the fragments: the numbers of its requests are said as before, not 'no root'
    whole = _frame([("9", 1, None, "api", "GET /", 0, 10_000_000), ("9", 2, 1, "db", "SELECT", 1_000_000, 8_000_000)])
    pm = tk.postmortem(pd.concat([children_only, whole], ignore_index=True))
    first = pm.sentences("what")[0]
    assert first.startswith("1 request in ") and "No root span" not in first, first


# ---- one duration rule in every hover (core.words) ------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny():
    """Four traces of sub-microsecond work (in-process spans as Jaeger's real traces hold): a root api 'GET /' of
    800 ns and its child db 'q' of 40 ns starting 100 ns in, so every duration is below 0.001 ms by construction
    and '0.000 ms' / '0.00 ms' said they took nothing."""
    rows = []
    for i, tr in enumerate("abcd"):
        t0 = i * 1_000_000
        rows += [(tr, 10 * i + 1, None, "api", "GET /", t0, t0 + 800), (tr, 10 * i + 2, 10 * i + 1, "db", "q", t0 + 100, t0 + 140)]
    return _frame(rows)


def _texts(fig) -> list[str]:
    """Every string a plotly figure holds (hover texts, templates, custom data, labels, titles), one by one."""
    out: list[str] = []

    def walk(v):
        if isinstance(v, str):
            out.append(v)
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, (list, tuple)):
            for x in v:
                walk(x)
        elif hasattr(v, "tolist"):
            walk(v.tolist())

    j = fig.to_plotly_json()
    walk(j["data"])
    walk(j["layout"])
    return out


D3_MS = __import__("re").compile(r"%\{[^}]*:[^}]*\}\s*ms")  # a number formatted by plotly.js's d3, then " ms"


@pytest.fixture(scope="module")
def tiny_figures(tiny):
    cp = tk.critical_path(tiny)
    a, b = "a" * 32, "b" * 32
    return {
        "waterfall": tk.plot_waterfall(tiny, a, critical_path=True),
        "flame": tk.plot_flame(tk.critical_path_tree(cp, spans=tiny)),
        "trace_diff": tk.plot_trace_diff(tk.diff_traces(tiny, a, b)),
        "breakdown": tk.plot_critical_path_breakdown(tk.critical_path_breakdown(cp)),
        "ecdf": tk.plot_latency_ecdf(tiny),
        "histogram": tk.plot_latency(tiny),
        "service_map": tk.plot_service_graph(tk.service_graph(tiny)),
        "timeline": tk.plot_timeline(tiny),
        "heatmap": tk.plot_heatmap(tiny),
        "compare": tk.plot_compare(tk.compare(tiny[tiny["trace_id"] <= b], tiny[tiny["trace_id"] > b], n_boot=20)),
    }


@pytest.mark.parametrize("name", ["waterfall", "flame", "trace_diff", "breakdown", "ecdf", "histogram", "service_map",
                                  "timeline", "heatmap", "compare"])
def test_hovers_say_sub_microsecond_durations_by_the_one_rule(tiny_figures, name):
    """Hovers said '0.000 ms' (waterfall, critical path, trace diff, breakdown: .3f), '0.00 ms' (flame: d3 .2f) or
    '4e-05' (d3 / Python ,.4g: ECDF, histogram, timeline and heatmap percentiles, service map, compare): every
    duration is now text by core.words.ms_label, so the 40 ns child reads '0.00004 ms', the 800 ns root '0.0008 ms',
    and no template formats a number before ' ms'."""
    texts = _texts(tiny_figures[name])
    joined = "\n".join(texts)
    assert not [t for t in texts if D3_MS.search(t)], [t for t in texts if D3_MS.search(t)]
    for nothing in ("0.000 ms", "0.00 ms", "e-0"):
        assert nothing not in joined, (nothing, [t for t in texts if nothing in t][:3])
    said = {"waterfall": "0.00004 ms", "flame": "0.00004 ms", "trace_diff": "0.00004 ms", "breakdown": "0.00004 ms",
            "ecdf": "0.0008 ms", "histogram": "0.0008 ms", "service_map": "0.00004 ms", "timeline": "0.0008 ms",
            "heatmap": "0.0008", "compare": "0.00004 ms"}[name]
    assert said in joined, texts[:20]


# ---- the service map of ~40 services -------------------------------------------------------------------------------
def _boxes(fig, name: str) -> list[tuple[float, float, float, float]]:
    """Pixel boxes of a map's node labels (marker and name: 80 x 51 px) or edge labels (6 px a character, 14 px a line),
    the sizes plot_service_graph's placement assumes, on the figure's own axes and height."""
    import html

    lay = fig.layout
    (x_lo, x_hi), (y_hi, y_lo) = lay.xaxis.range, lay.yaxis.range
    sx, sy = 1000.0 / (x_hi - x_lo), (lay.height - 100.0) / (y_hi - y_lo)
    out = []
    for a in lay.annotations:
        if a.name != name:
            continue
        if name == "node_label":
            out.append((a.x * sx - 40, a.x * sx + 40, a.y * sy - 38, a.y * sy + 13))
        else:
            lines = html.unescape(a.text).split("<br>")
            w, h = 3.0 * max(len(x) for x in lines) + 4, 7.0 * len(lines) + 1
            out.append((a.x * sx - w, a.x * sx + w, a.y * sy - h, a.y * sy + h))
    return out


def _overlapping(p: list, q: list | None = None) -> int:
    pairs = [(a, b) for i, a in enumerate(p) for b in p[i + 1:]] if q is None else [(a, b) for a in p for b in q]
    return sum(1 for a, b in pairs if min(a[1], b[1]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[2], b[2]))


SLOW = (3, 20, 50, 77)  # the edges whose p95 tripled


@pytest.fixture(scope="module")
def map40():
    """40 services: entry calls 12 mids and all 27 leaves (27 long edges bending through the mids' layer), each mid
    calls 6 leaves: 111 edges; edges SLOW have p95 10 -> 30 ms against the baseline, every other edge the same."""
    import networkx as nx

    G, B = nx.DiGraph(), nx.DiGraph()
    mids, leaves = [f"mid-{i:02d}" for i in range(12)], [f"leaf-{j:02d}" for j in range(27)]
    edges = ([("entry", m) for m in mids] + [(m, leaves[(5 * i + 4 * k) % 27]) for i, m in enumerate(mids) for k in range(6)]
             + [("entry", leaf) for leaf in leaves])
    for n, (u, v) in enumerate(edges):
        G.add_edge(u, v, calls=100 + n, errors=0, p95_ms=30.0 if n in SLOW else 10.0)
        B.add_edge(u, v, calls=100 + n, errors=0, p95_ms=10.0)
    return G, B, edges


def test_service_map_of_40_services_keeps_names_and_labels_apart(map40):
    """Each long edge's bend took a whole node slot: the mids' layer grew to 39 slots, 43 px each under the 1,800 px
    cap, and 27 pairs of node names overlapped; all 111 edges were labelled, 33 label boxes over another label or a
    node. Now bends take half / a quarter of a slot, and a map of more than 30 edges labels the changed edges
    (here the 4 whose p95 tripled), each where it overlaps nothing, and says so under the map."""
    G, B, edges = map40
    fig = tk.plot_service_graph(G, baseline=B)
    nodes, labels = _boxes(fig, "node_label"), _boxes(fig, "edge_label")
    assert len(nodes) == 40 and _overlapping(nodes) == 0
    assert _overlapping(labels) == 0 and _overlapping(labels, nodes) == 0
    texts = sorted(a.text for a in fig.layout.annotations if a.name == "edge_label")
    assert texts == sorted(f"{100 + n} calls<br>p95 10.0 ms → 30.0 ms" for n in SLOW), texts
    note = [a.text for a in fig.layout.annotations if a.name == "label_note"]
    assert note and note[0].startswith("4 of the 111 call edges drawn labelled"), note
    # every edge keeps its hover (the marker mid-way along an unlabelled edge)
    info = next(t for t in fig.data if t.meta == "edge_info")
    assert len(info.hovertext) == len(edges) and all(h.startswith("<b>") for h in info.hovertext)
    # at or under 30 edges as before: every edge labelled, no note
    small = G.edge_subgraph(edges[:20]).copy()
    fig = tk.plot_service_graph(small, baseline=B.edge_subgraph(edges[:20]).copy())
    assert len(_boxes(fig, "edge_label")) == 20
    assert not [a for a in fig.layout.annotations if a.name == "label_note"]
