"""Review s39, what users see (views3): widgets and figures — durations on the latency heatmap's request points and
on every log-scale latency axis by the one duration rule (core.words.ms_label), the labels of a large service map
with no baseline and no failures, and the TraceExplorer's paging through a trace of more top-level fragments than
``auto_fold``. Frames are built by construction; each test failed on the code before its fix."""

from __future__ import annotations

import pandas as pd
import pytest

import tracekit as tk


def _frame(rows: list[tuple]) -> pd.DataFrame:
    """Spans from (trace, span, parent, service, name, start_ns, end_ns) tuples (ids widened to 32 / 16 hex; a trace id
    of 32 characters is kept)."""
    t, s, p, sv, nm, a, b = zip(*rows, strict=True)
    return tk.spans_from_columns({
        "trace_id": [x if len(x) == 32 else x * 32 for x in t], "span_id": [f"{x:016x}" for x in s],
        "parent_id": [None if x is None else f"{x:016x}" for x in p], "service": list(sv), "name": list(nm),
        "kind": ["server"] * len(rows), "start": list(a), "end": list(b)})


# ---- the heatmap's request points and log axes: one duration rule ---------------------------------------------------
@pytest.fixture(scope="module")
def heat():
    """Four single-span requests a minute apart of 40 ns, 4 µs, 1,234.5 ms and 2,500 ms: by construction their
    latencies need sub-microsecond digits and a thousands separator."""
    durs = [40, 4_000, 1_234_500_000, 2_500_000_000]
    return _frame([(c, i + 1, None, "api", "GET /", i * 60_000_000_000, i * 60_000_000_000 + d)
                   for i, (c, d) in enumerate(zip("abcd", durs, strict=True))])


def test_heatmap_points_hover_by_the_duration_rule(heat):
    """The points' hover was d3's '%{y:,.4g} ms': 40 ns read '0.00004000 ms' and 1,234.5 ms '1,235 ms'."""
    from tracekit.core.words import ms_label

    fig = tk.plot_heatmap(heat, freq="1min", points=True)
    pts = next(t for t in fig.data if t.meta == "requests")
    assert ",.4g" not in pts.hovertemplate and "%{y" not in pts.hovertemplate, pts.hovertemplate
    assert "%{text}" in pts.hovertemplate
    want = {ms_label(v) for v in (0.00004, 0.004, 1234.5, 2500.0)}
    assert set(pts.text) == want == {"0.00004 ms", "0.004 ms", "1,234.5 ms", "2,500.0 ms"}
    # the points' customdata still names each request's row, which a box selection reads
    assert sorted(int(c) for c in pts.customdata) == [0, 1, 2, 3]


def test_log_axis_ticks_by_the_duration_rule(heat):
    """The latency heatmap's log axis (and the ECDF's, histogram's) labelled its ticks with ',.4g': 2e-05, 5e-05."""
    fig = tk.plot_heatmap(heat, freq="1min")
    ax = fig.layout.yaxis
    text = list(ax.ticktext)
    assert not any("e-" in t or "e+" in t for t in text), text
    # each tick reads as its value: no exponent, thousands separated, a round tick without '.0'
    for v, t in zip(ax.tickvals, text, strict=True):
        assert float(t.replace(",", "")) == pytest.approx(v, rel=1e-9), (v, t)
    assert "1,000" in text and "0.00005" in text


# ---- a large service map with no baseline and no failures ------------------------------------------------------------
def test_big_service_map_without_baseline_labels_the_slowest_edges():
    """A map of more than 30 edges with no baseline labelled only its failing edges (here 1 of 48; none when no call
    fails): without a baseline no edge is 'changed'. Now the slowest edges by p95 follow the failing ones, up to 30
    labels, each where it overlaps nothing."""
    import networkx as nx

    G = nx.DiGraph()
    # entry calls 8 mids, each mid 5 leaves of its own: 48 edges; p95 of edge n is 1 + n ms, so the slowest are the
    # last ones added (leaf calls of the last mids); edge 3 fails 1 call in 100
    edges = [("entry", f"mid-{i}") for i in range(8)] + [(f"mid-{i}", f"leaf-{i}-{k}") for i in range(8) for k in range(5)]
    for n, (u, v) in enumerate(edges):
        G.add_edge(u, v, calls=100, errors=1 if n == 3 else 0, p95_ms=1.0 + n)
    fig = tk.plot_service_graph(G)
    texts = [a.text for a in fig.layout.annotations if a.name == "edge_label"]
    assert 1 < len(texts) <= 30, texts
    # the failing edge is labelled (its share said), and every other label is one of the slowest edges
    assert any("1.0% failed" in t for t in texts), texts
    p95s = sorted(float(t.split("p95 ")[1].split(" ms")[0]) for t in texts if "failed" not in t)
    slowest = sorted((1.0 + n for n in range(len(edges)) if n != 3), reverse=True)
    assert p95s and min(p95s) >= slowest[29], (p95s, slowest[29])
    note = next(a.text for a in fig.layout.annotations if a.name == "label_note")
    assert note.startswith(f"{len(texts)} of the {len(edges)} call edges drawn labelled"), note
    assert "slowest by p95" in note


# ---- TraceExplorer: a trace of more top-level fragments than auto_fold is drawn a page at a time --------------------
@pytest.fixture(scope="module")
def fragments():
    """One trace of 200 fragments (a parent that was never exported, a child under it), fragment f starting at f µs
    and named 'frag-f': 400 spans, 200 top-level rows at depth 0, so no folding depth keeps 150 rows."""
    rows = []
    for f in range(200):
        rows += [("a", 2 * f + 1, 10_000 + f, "api", f"frag-{f}", f * 1_000, f * 1_000 + 900),
                 ("a", 2 * f + 2, 2 * f + 1, "db", "q", f * 1_000 + 10, f * 1_000 + 500)]
    return _frame(rows)


def test_explorer_pages_through_fragments(fragments):
    """auto_fold=150 opened the trace at depth 0 with all 200 fragments as rows on one figure, and plot_waterfall
    labels no row above 150 rows: the user saw 200 unlabelled bars. Now it is drawn on pages of 150 fragments,
    each labelled; a click on a page's bar selects that page's span."""
    from tracekit.widgets import ExplorerState

    s = ExplorerState.from_spans(fragments, critical_path=False, auto_fold=150)
    assert s.max_depth == 0 and len(s.waterfall()) == 200  # the whole trace's rows, as before
    assert s.pages() == 2 and s.page == 0
    rows = s.page_rows()
    assert rows["name"].tolist() == [f"frag-{f}" for f in range(150)]
    fig = s.figure()
    assert fig.layout.yaxis.showticklabels and len(fig.layout.yaxis.ticktext) == 150
    assert "fragments 1–150 of 200 (page 1 of 2)" in fig.layout.title.text
    assert "400 spans, 150 shown" in fig.layout.title.text  # the whole trace's count, not the page's
    s2 = s.next_page()
    assert s2.page_rows()["name"].tolist() == [f"frag-{f}" for f in range(150, 200)]
    assert s2.span_id == f"{2 * 150 + 1:016x}"  # the selection moved onto the page drawn
    s3 = s2.click(7)
    assert s3.span_details()["header"]["name"] == "frag-157"
    assert s3.next_page() is s3 and s3.previous_page().page == 0
    with pytest.raises(tk.errors.ArgumentError, match="page"):
        s.with_page(2)
    # unfolded (every depth), the pages still hold whole fragments: 150 fragments, 300 rows
    s4 = s.with_max_depth(None)
    assert len(s4.page_rows()) == 300 and s4.pages() == 2
    # a trace of few fragments, or auto_fold=None: one page, as before
    assert ExplorerState.from_spans(fragments, critical_path=False, auto_fold=None).pages() == 1


def test_explorer_widget_pages(fragments):
    """The widget draws the page (150 labelled bars, not 200 unlabelled ones) and its page buttons move it."""
    pytest.importorskip("ipywidgets")
    pytest.importorskip("anywidget")
    ex = tk.TraceExplorer(fragments, critical_path=False)
    assert len(ex.figure.data[0].x) == 150 and ex.figure.layout.yaxis.showticklabels
    assert "fragments 1–150 of 200" in ex.status.value and ex.prev_page_button.disabled
    ex.next_page_button.click()
    assert ex.state.page == 1 and len(ex.figure.data[0].x) == 50 and ex.next_page_button.disabled
    assert "fragments 151–200 of 200" in ex.status.value


def test_explorer_says_how_many_traces_it_lists(heat):
    """Of more traces than max_listed the list held the slowest max_listed and said so only in a hover tooltip
    (2,000 simulated traces: 500 listed, no visible word). Now a line above the list says it."""
    pytest.importorskip("ipywidgets")
    pytest.importorskip("anywidget")
    ex = tk.TraceExplorer(heat, critical_path=False, max_listed=2)  # 4 traces by construction
    assert len(ex.traces.options) == 2
    assert ex.list_note.value.startswith("4 traces; the first 2 listed (slowest first)"), ex.list_note.value
    ex.search.value = "a" * 32  # one trace by its id
    assert ex.list_note.value == "1 of 4 traces match the filters", ex.list_note.value


# ---- the report's comparison: its keys are the keys, not every column compare added -------------------------------
def test_report_comparison_keys_are_the_keys():
    """The report took as keys every comparison column not starting with a metric's prefix, so compare's unknown_a /
    unknown_b (calls in progress, added later) became keys: the figure's bars read 'db · SELECT · 0 · 0' (axis
    'service · name · unknown_a · unknown_b'). Built: 4 traces of api -> db, db 30 ms slower in the incident than in
    the baseline; api's operation holds a right-to-left override (U+202E), which reversed the rest of its line on
    the page and in the figure ('GET /exe.png'): now shown as its escape, as in every figure and the explorer."""
    import re

    from tracekit.reporting import collect_report, render_report

    def run(c: str, slow: int) -> list[tuple]:
        rows = []
        for i in range(4):
            t0, tr = i * 60_000_000_000, f"{c}{i}" * 16
            rows += [(tr, 10 * i + 1, None, "api", "GET /\u202egnp.exe", t0, t0 + 20_000_000 + slow),
                     (tr, 10 * i + 2, 10 * i + 1, "db", "SELECT", t0 + 1_000_000, t0 + 5_000_000 + slow)]
        return rows

    page = render_report(collect_report(_frame(run("a", 30_000_000)), baseline=_frame(run("b", 0))))
    table = page[page.index('id="compare-table"'):]
    head = re.findall(r"<th>([^<]*)</th>", table[:table.index("</thead>")])
    assert head[:3] == ["service", "name", "critical path ms / trace"], head
    assert "unknown_a" not in head and "unknown_b" not in head
    fig = page[page.rfind("Plotly.newPlot", 0, page.index("critical-path ms per trace by operation")):]
    ys = re.search(r'"y":\[([^\]]*)\]', fig).group(1)
    assert ys == '"db · SELECT","api · GET \\u002f\\\\u202egnp.exe"', ys
    # the operation's bidi override is shown, on the page and the figure, never left to reverse the text after it
    # (plotly's legendgroup and a trace's meta key keep the name as data: neither is drawn)
    drawn = re.sub(r'"(legendgroup|key)":"[^"]*"', "", page)
    assert "\u202e" not in drawn and "GET /\\u202egnp.exe" in drawn


def test_bidi_controls_in_names_are_shown_not_obeyed():
    """A service 'inventory\\u202egnp.exe' (a right-to-left override, the 'Trojan Source' trick) was drawn
    'inventoryexe.png' and reversed the rest of its label in headless Chromium (the comparison's 'DynamoDB.GetItem'
    read 'metIteG.BDomanyD'): plotly text, the canvas waterfall and the explorer's pane passed it through. Now every
    bidi embedding / override / isolate control is written as its escape; right-to-left letters are kept."""
    from tracekit.widgets import ExplorerState

    svc, op = "inventory\u202egnp.exe", "שירות \u2067GetItem\u2069"
    spans = _frame([("a", 1, None, "api", "GET /", 0, 9_000_000), ("a", 2, 1, svc, op, 1_000_000, 5_000_000)])
    controls = [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]

    def clean(text: str) -> bool:
        return not any(c in text for c in controls)

    fig = tk.plot_waterfall(spans)
    shown = [*fig.layout.yaxis.ticktext, *fig.data[0].hovertext, *(t.name or "" for t in fig.data)]
    assert all(clean(t) for t in shown) and any("inventory\\u202egnp.exe" in t for t in shown)
    assert any("שירות \\u2067GetItem\\u2069" in t for t in shown)  # the Hebrew letters kept
    assert clean(tk.plot_waterfall_gl(spans))
    g = tk.plot_service_graph(tk.service_graph(spans))
    assert all(clean(a.text or "") for a in g.layout.annotations)
    s = ExplorerState.from_spans(spans, critical_path=False).click(1)
    assert s.span_details()["header"]["service"] == svc  # the data as it is; only what is shown is escaped
    assert clean(s.details_html()) and "inventory\\u202egnp.exe" in s.details_html()


def test_ecdf_of_one_request_is_drawn(heat):
    """An ECDF of one request (one X-Ray trace: the developer guide's real sample) was one point in mode 'lines',
    which plotly draws as nothing: the figure showed empty axes under a legend 'n=1'. A curve of one point now has
    its marker; curves of more points stay lines."""
    one = heat[heat["trace_id"] == "c" * 32]
    fig = tk.plot_latency_ecdf(one)
    (curve,) = [t for t in fig.data if t.type == "scatter"]
    assert list(curve.x) == [1234.5] and "markers" in curve.mode
    assert tk.plot_latency_ecdf(heat).data[0].mode == "lines"
    by_service = tk.plot_latency(one, kind="ecdf")
    assert all("markers" in t.mode for t in by_service.data if len(t.x) == 1)


def test_report_cells_wrap_long_names_without_separators():
    """A 300-character service name of one word ('catalog-xxxx…': no '/', '.' or '_' to wrap at) made the report's
    component and health tables wider than the page, their other columns out of sight (headless Chromium, db-lock
    seed 2). A cell now takes a <wbr> every UNBROKEN_CHARS characters of such a run (an entity never cut), and keeps
    ids and hashes whole."""
    import re

    from tracekit.reporting import UNBROKEN_CHARS, _cell

    text, _ = _cell("catalog-" + "x" * 300, "")
    parts = text.split("<wbr>")
    assert "".join(parts) == "catalog-" + "x" * 300 and max(map(len, parts)) <= UNBROKEN_CHARS
    text, _ = _cell("<" * 100, "")  # 100 entities: none cut
    assert all(re.fullmatch(r"(&lt;)+", p) for p in text.split("<wbr>")) and text.count("&lt;") == 100
    assert "<wbr>" in text
    sha = "0123456789abcdef" * 4
    assert "<wbr>" not in _cell(f"{sha} and 5960260323fc5b688855d396af79b496", "")[0]
    assert _cell("a short name", "")[0] == "a short name"
