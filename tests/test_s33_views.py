"""What users look at, read as an SRE writing a postmortem: figures and widgets say what the kernel says.

Every case is built by construction (ground truth known), with an ASCII timeline where times matter.
"""

from __future__ import annotations

import pandas as pd
import pytest

import tracekit as tk

pytest.importorskip("plotly")

from tracekit.widgets import ExplorerState  # noqa: E402

MS = 1_000_000


def _header(fig) -> str:
    return fig.layout.title.text.split("<sup>", 1)[1]


# ---- the waterfall's header line: request latency and outcome by the kernel -----------------------------------

def test_waterfall_header_names_the_request_root_not_an_earlier_orphan():
    """An orphan fragment (its caller not sampled) starts before the request root:

        batch  |=================================================| 0..200 ms, status error, parent not in trace
        web        |=========|                                      10..50 ms: the request root (GET /), ok
        db           |==|                                           12..20 ms

    trace_outcomes: request 40 ms, not failed. The header said "request 200.0 ms · failed (1 error span)"
    (the first top-level row drawn, the orphan); the trace list of the explorer said 40 ms."""
    spans = tk.spans_from_columns({
        "trace_id": ["b" * 32] * 3, "span_id": ["1" * 16, "2" * 16, "3" * 16], "parent_id": [None, "1" * 16, "7" * 16],
        "service": ["web", "db", "batch"], "name": ["GET /", "SELECT", "orphan job"],
        "start": [10 * MS, 12 * MS, 0], "end": [50 * MS, 20 * MS, 200 * MS], "status": ["ok", "ok", "error"]})
    assert tk.core.trace_outcomes(spans)["request_ms"].tolist() == [40.0]
    head = _header(tk.plot_waterfall(spans))
    # started: the request root's start, as the trace list says it (session 48; was the orphan's, 00:00:00.000)
    assert head.startswith("request 40.0 ms · started 1970-01-01 00:00:00.010 UTC · ok (1 failed span) · 3 spans"), head
    state = ExplorerState.from_spans(spans)
    assert state.trace_table()["request_ms"].tolist() == [40.0]
    assert _header(state.figure()).startswith("request 40.0 ms · started 1970-01-01 00:00:00.010 UTC · ok (1 failed span)")


def test_waterfall_header_of_a_rootless_trace_says_there_is_no_request():
    """Two fragments, their parent never sampled: no request root, so no request latency (NaN in
    trace_outcomes); the header said "request 30.0 ms" (the first fragment's duration)."""
    spans = tk.spans_from_columns({
        "trace_id": ["a" * 32] * 2, "span_id": ["1" * 16, "2" * 16], "parent_id": ["9" * 16, "9" * 16],
        "service": ["db", "cache"], "name": ["SELECT", "GET"], "start": [0, 5 * MS], "end": [30 * MS, 8 * MS],
        "status": ["error", "ok"]})
    head = _header(tk.plot_waterfall(spans))
    assert "request 30.0 ms" not in head
    assert head.startswith("no request root (fragments only): request latency unknown · "), head
    assert "earliest fragment failed (1 failed span)" in head


def test_waterfall_header_does_not_call_a_4xx_a_failure():
    """An X-Ray 404 at the root (error flag, status error): a client error, not a failure (core.failed),
    and the explorer's list says failed False; the header said "failed (1 error span)"."""
    spans = tk.spans_from_columns({
        "trace_id": ["ab" * 16] * 2, "span_id": ["a" * 16, "b" * 16], "parent_id": [None, "a" * 16],
        "service": ["api", "db"], "name": ["GET /x", "q"], "start": [0, 1 * MS], "end": [10 * MS, 5 * MS],
        "status": ["error", "ok"], "http_status": [404, None], "error": [True, False], "fault": [False, False]})
    assert ExplorerState.from_spans(spans).trace_table()["failed"].tolist() == [False]
    head = _header(tk.plot_waterfall(spans))
    assert "failed" not in head, head
    assert "request 10.0 ms · started 1970-01-01 00:00:00.000 UTC · ok (1 span with a 4xx client error) · 2 spans" in head
    # the span is still outlined (waterfall_data documents is_error as status error or an X-Ray error/fault flag)
    assert tk.waterfall_data(spans)["is_error"].tolist() == [True, False]


# ---- the explorer's filters and selection ---------------------------------------------------------------------

def test_explorer_service_filter_lists_traces_of_a_service_whose_name_has_a_comma():
    """The service filter split the trace list's "services" text on ", ": a service named "payments, eu" (offered in
    the dropdown) listed 0 of its 1 trace."""
    spans = tk.spans_from_columns({
        "trace_id": ["a" * 32, "b" * 32, "c" * 32], "span_id": ["1" * 16, "2" * 16, "3" * 16],
        "service": ["payments, eu", "web", "payments"], "name": ["POST /pay", "GET /", "POST /pay"],
        "start": [0, 0, 0], "end": [10 * MS, 5 * MS, 7 * MS]})
    s = ExplorerState.from_spans(spans)
    assert "payments, eu" in s.services
    assert s.with_filter(service="payments, eu").trace_table()["trace_id"].tolist() == ["a" * 32]
    assert s.with_filter(service="payments").trace_table()["trace_id"].tolist() == ["c" * 32]
    assert s.with_filter(service="eu").trace_table().empty


def test_explorer_with_canvas_above_none_draws_a_big_trace_with_plotly():
    """canvas_above=None is documented as "keeps plotly for every trace"; a trace of more than 5,000 rows made
    ExplorerState.figure() return plot_waterfall's CanvasFigure (its own default threshold), and TraceExplorer
    raised ValueError building a FigureWidget of it."""
    import numpy as np

    n = 5_001
    ids = [f"{i + 1:016x}" for i in range(n)]
    spans = tk.spans_from_columns({
        "trace_id": ["a" * 32] * n, "span_id": ids, "parent_id": [None] + [ids[0]] * (n - 1),
        "service": ["api"] * n, "name": ["op"] * n, "start": np.arange(n) * 1000, "end": np.arange(n) * 1000 + 10 * MS})
    s = ExplorerState.from_spans(spans, auto_fold=None, canvas_above=None)
    assert not s.uses_canvas()
    fig = s.figure()
    assert type(fig).__name__ == "Figure" and len(fig.data[0].x) == n
    pytest.importorskip("ipywidgets")
    pytest.importorskip("anywidget")
    ex = tk.TraceExplorer(spans, auto_fold=None, canvas_above=None)
    assert len(ex.figure.data[0].x) == n


# ---- populations named: requests, not traces ------------------------------------------------------------------

def test_critical_path_breakdown_figure_counts_requests_not_traces():
    """critical_path_breakdown averages over requests (its table: "ms per request", attrs["traces"] = requests used).
    One request trace plus one trace of asynchronous work (a consumer root): 2 traces, 1 request. The figure said
    "(1 trace)", "summed over traces", "per trace" and "traces: 1"."""
    spans = tk.spans_from_columns({
        "trace_id": ["1" * 32, "1" * 32, "2" * 32], "span_id": ["a" * 16, "b" * 16, "c" * 16],
        "parent_id": [None, "a" * 16, None], "service": ["web", "db", "worker"], "name": ["GET /", "SELECT", "process"],
        "kind": ["server", "client", "consumer"], "start": [0, 10 * MS, 0], "end": [100 * MS, 70 * MS, 50 * MS]})
    assert tk.core.trace_outcomes(spans)["request"].tolist() == [True, False]
    bd = tk.critical_path_breakdown(tk.critical_path(spans), spans=spans)
    assert bd.attrs["traces"] == 1
    fig = tk.plot_critical_path_breakdown(bd)
    assert fig.layout.title.text == "critical-path time by service (1 request)"
    assert fig.layout.xaxis.title.text == "critical-path time (ms, summed over requests)"
    assert tk.plot_critical_path_breakdown(bd, value="mean_ms").layout.xaxis.title.text == "critical-path time per request (ms)"
    hover = dict(zip(fig.data[0].y, fig.data[0].hovertext, strict=True))
    assert list(fig.data[0].y) == ["db", "web"] and "worker" not in hover
    assert hover["db"].split("<br>") == [
        "<b>db</b>", "critical-path time: 60.0 ms, summed over the requests",
        "per request: 60.0 ms (mean over all requests, 0 where absent)", "share of the requests' critical-path time: 60.0%",
        "p50 per request: 60.0 ms", "p95 per request: 60.0 ms", "on the critical path in 1 of 1 requests",
        "share of requests with it on the path: 100.0%"]


def test_explorer_click_on_a_span_sharing_its_id_opens_that_span():
    """Two spans share an id (an exporter that reused one, or a span exported twice with different content):

        api    GET /     |==========| 0..10 ms
        db     SELECT     |==|        1..4 ms   id 2222…
        cache  GET key        |==|    5..8 ms   id 2222…

    The waterfall draws both; a click on the third row (cache) opened the details of the first copy (db SELECT)."""
    spans = tk.spans_from_columns({
        "trace_id": ["a" * 32] * 3, "span_id": ["1" * 16, "2" * 16, "2" * 16], "parent_id": [None, "1" * 16, "1" * 16],
        "service": ["api", "db", "cache"], "name": ["GET /", "SELECT", "GET key"], "start": [0, 1 * MS, 5 * MS],
        "end": [10 * MS, 4 * MS, 8 * MS]})
    s = ExplorerState.from_spans(spans)
    assert [s.click(i).span_details()["header"]["name"] for i in range(3)] == ["GET /", "SELECT", "GET key"]
    w = tk.waterfall_data(spans)
    assert w["service"].tolist() == ["api", "db", "cache"] and w["span_row"].tolist() == [0, 1, 2]
    assert s.click(2).span_details()["header"]["service"] == "cache"
    assert s.select_span("2" * 16).span_details()["header"]["service"] == "db"  # by id alone: the first copy
    pytest.importorskip("ipywidgets")
    pytest.importorskip("anywidget")
    ex = tk.TraceExplorer(spans)
    ex._apply(ex.state.click(1))
    ex._apply(ex.state.click(2))  # the same id, the other span: the pane follows
    assert "cache: GET key" in ex.details.value


# ---- the canvas waterfall (big traces) marks what the plotly one marks -----------------------------------------

def _logged_trace():
    """web GET / 0..100 ms; db SELECT 10..40 ms with an ERROR and an INFO record; web render 50..90 ms with a FATAL
    record; worker job 60.. (in progress, no end)."""
    spans = tk.spans_from_columns({
        "trace_id": ["a" * 32] * 4, "span_id": ["1" * 16, "2" * 16, "3" * 16, "4" * 16],
        "parent_id": [None, "1" * 16, "1" * 16, "1" * 16], "service": ["web", "db", "web", "worker"],
        "name": ["GET /", "SELECT", "render", "job"], "start": [0, 10 * MS, 50 * MS, 60 * MS],
        "end": [100 * MS, 40 * MS, 90 * MS, None]})
    logs = tk.logs_from_columns({"time": [20 * MS, 30 * MS, 60 * MS], "body": ["deadlock", "retry", "fatal!"],
                                 "trace_id": ["a" * 32] * 3, "span_id": ["2" * 16, "2" * 16, "3" * 16],
                                 "severity": ["ERROR", "INFO", "FATAL"]})
    return tk.attach_logs(spans, logs).spans


def test_canvas_columns_carry_the_error_log_counts():
    from tracekit.plotting.gl import decode, waterfall_columns

    rows = tk.waterfall_data(_logged_trace())
    assert rows["name"].tolist() == ["GET /", "SELECT", "render", "job"]
    assert rows["log_errors"].tolist() == [0, 1, 1, 0]
    plotly_marks = next(t for t in tk.plot_waterfall(rows).data if t.meta == "log_errors")
    assert [int(v) for v in plotly_marks.y] == [1, 2]
    cols = waterfall_columns(rows)
    assert decode(cols["log_errors"], "int32").tolist() == [0, 1, 1, 0]  # the canvas had no such column
    assert (decode(cols["flags"], "uint8") & 2).astype(bool).tolist() == [False, False, False, True]


_CANVAS_MARKS = """() => {
  const w = Object.values(window.tkWaterfalls)[0];
  const v = w.view();
  const s = w.setView(v.x0, v.x1, v.r0, v.r1);
  const ctx = document.querySelector('.tkw canvas').getContext('2d');
  // the pixel at the end of SELECT (row 1), a little left of its end: the diamond's red, not the span's colour
  const sx = w.W / (v.x1 - v.x0), rh = w.H / (v.r1 - v.r0);
  const x = Math.round(w.LABEL + (w.end[1] - v.x0) * sx) - 1, y = Math.floor(1 * rh + rh / 2);
  const px = Array.from(ctx.getImageData(x, y, 1, 1).data.slice(0, 3));
  w.select(1);
  const details = document.querySelector('.tkw-details').textContent;
  return {stats: s, px, details};
}"""


@pytest.mark.browser
def test_canvas_waterfall_marks_error_logs_and_in_progress_spans(tmp_path):
    """plot_waterfall marks spans with ERROR log records (a diamond at the span's end) and hatches in-progress spans;
    the canvas renderer it hands big traces to (above 5,000 rows; the explorer above 2,000 spans) drew neither, and
    its details pane did not mention the logs: 2 spans with ERROR/FATAL records showed no mark."""
    from .browser import open_html

    path = tmp_path / "w.html"
    tk.plot_waterfall(_logged_trace(), canvas_above=1).write_html(path)
    page = open_html(path, wait_for=".tkw canvas", evaluate=_CANVAS_MARKS)
    assert page.errors == [] and page.failed_requests == []
    v = page.value
    assert v["stats"]["logs"] == 2 and v["stats"]["in_progress"] == 1, v["stats"]
    assert v["px"] == [0xD6, 0x27, 0x28], v  # tk.plotting.ERROR_COLOR
    assert "ERROR logs: 1 ERROR/FATAL log record" in v["details"], v["details"]


# ---- one service, one colour in every figure of the same spans -----------------------------------------------

def _colliding_spans():
    """"DynamoDB" and "cart" hash to the same palette slot (service_colors: the later name in sorted order moves to
    the next free slot when both are given). Trace 1 touches cart only; trace 2 cart and DynamoDB (a service of its
    own here); trace 3 calls an uninstrumented peer "DynamoDB"-like host through a client span."""
    return tk.spans_from_columns({
        "trace_id": ["1" * 32] * 2 + ["2" * 32] * 2,
        "span_id": ["a" * 16, "b" * 16, "c" * 16, "d" * 16], "parent_id": [None, "a" * 16, None, "c" * 16],
        "service": ["web", "cart", "cart", "DynamoDB"], "name": ["GET /", "GetCart", "GetCart", "GetItem"],
        "start": [0, 1 * MS, 0, 1 * MS], "end": [10 * MS, 5 * MS, 8 * MS, 3 * MS]})


def test_a_service_has_the_same_colour_in_a_waterfall_as_in_the_frames_other_figures():
    """plot_waterfall coloured by the trace's services only: cart, alone with web in trace 1, took its own slot
    (#875692) there, and the next one (#F3C300) in the latency figure, the service map and trace 2's waterfall."""
    from tracekit.plotting import bar_colors

    spans = _colliding_spans()
    everywhere = tk.service_colors(["web", "cart", "DynamoDB"])
    assert tk.service_colors(["cart"])["cart"] != everywhere["cart"]  # the collision this is about
    rows1 = tk.waterfall_data(spans, "1" * 32)
    assert bar_colors(tk.plot_waterfall(spans, "1" * 32).data[0]) == [everywhere["web"], everywhere["cart"]]
    assert bar_colors(tk.plot_waterfall(rows1).data[0]) == [everywhere["web"], everywhere["cart"]]
    assert bar_colors(tk.plot_waterfall(spans, "2" * 32).data[0]) == [everywhere["cart"], everywhere["DynamoDB"]]
    lat = {t.meta: t.line.color for t in tk.plot_latency(spans, n=1).data}
    assert lat == {"cart": everywhere["cart"]}  # the top group only, coloured as among all services
    nodes = next(t for t in tk.plot_service_graph(tk.service_graph(spans)).data if t.meta == "nodes")
    assert dict(zip(nodes.text, nodes.marker.color, strict=True)) == everywhere


def test_an_uninstrumented_peer_does_not_move_a_service_off_its_colour_on_the_service_map():
    """async-workflows: the peer "DynamoDB" (named by cart's client spans, no spans of its own) took cart's palette
    slot on the service map, so cart was yellow (#F3C300) there and purple (#875692) in every waterfall and the
    latency figure. Services are coloured first; a peer takes a free slot."""
    spans = tk.spans_from_columns({
        "trace_id": ["1" * 32] * 2, "span_id": ["a" * 16, "b" * 16], "parent_id": [None, "a" * 16],
        "service": ["web", "cart"], "name": ["GET /", "DynamoDB.GetItem"], "kind": ["server", "client"],
        "start": [0, 1 * MS], "end": [10 * MS, 5 * MS], "attributes": [{}, {"db.system": "dynamodb", "peer.service": "DynamoDB"}]})
    G = tk.service_graph(spans)
    assert G.nodes["DynamoDB"]["instrumented"] is False
    services = tk.service_colors(["web", "cart"])
    nodes = next(t for t in tk.plot_service_graph(G).data if t.meta == "nodes")
    drawn = dict(zip(nodes.text, nodes.marker.color, strict=True))
    assert drawn["cart"] == services["cart"] and drawn["web"] == services["web"]
    assert drawn["DynamoDB"] not in (drawn["cart"], drawn["web"])


@pytest.mark.browser
def test_trace_diff_draws_no_hover_text_on_its_bars(tmp_path):
    """plot_trace_diff set each bar's hover text as its ``text`` with plotly's default position: all 23 rows of a
    checkout trace pair carried an unreadable line such as "checkout: validate orderchanged Δ -0.400 ms" on or beside
    the bar. The text stays for the hover; none is drawn."""
    from .browser import open_html

    spans = tk.examples.load("checkout-small")
    ids = spans["trace_id"].unique()[:2]
    fig = tk.plot_trace_diff(tk.diff_traces(spans, ids[0], ids[1]))
    path = tmp_path / "diff.html"
    fig.write_html(path, include_plotlyjs=True)
    probe = "() => ({bars: document.querySelectorAll('.barlayer .point').length, text: document.querySelectorAll('.barlayer .bartext').length})"
    page = open_html(path, wait_for=".js-plotly-plot .barlayer .point", evaluate=probe)
    assert page.errors == []
    n = len(fig.data[1].x)
    assert n > 0 and page.value["bars"] >= n
    assert page.value["text"] == 0, page.value
    assert fig.data[1].text[0].startswith("api-gateway: ")  # still there for the hover


def test_service_map_hovers_say_no_nan():
    """An edge without asynchronous calls has no wait percentiles (NaN in service_graph): its hover listed
    "wait_p50: nan ms", "wait_p95: nan ms", "wait_p99: nan ms" (checkout-small: 15 hovers)."""
    spans = tk.examples.load("checkout-small")
    G = tk.service_graph(spans)
    nan_edges = [e for e, a in G.edges.items() if any(isinstance(v, float) and v != v for v in a.values())]
    assert nan_edges  # the data has them
    info = next(t for t in tk.plot_service_graph(G).data if t.meta == "edge_info")
    nodes = next(t for t in tk.plot_service_graph(G).data if t.meta == "nodes")
    assert [h for h in list(info.hovertext) + list(nodes.hovertext) if "nan" in h.lower()] == []
    first = dict(zip([tuple(t.meta["edge"]) for t in tk.plot_service_graph(G).data if isinstance(t.meta, dict)],
                     info.hovertext, strict=True))[("api-gateway", "frontend")]
    assert "<br>calls: 40<br>" in first and "p95: 264.5 ms" in first


# ---- empty and rootless inputs say why ------------------------------------------------------------------------

def test_empty_spans_say_there_is_nothing_to_draw():
    """waterfall_data of no spans said "the spans hold 0 traces; pass trace_id= (one of e.g. [])"; the explorer's
    status line was empty."""
    with pytest.raises(tk.TraceKitError, match=r"the spans hold no trace \(0 spans\): there is nothing to draw"):
        tk.waterfall_data(tk.empty_spans())
    with pytest.raises(tk.TraceKitError, match="nothing to draw"):
        tk.plot_waterfall(tk.empty_spans())
    pytest.importorskip("ipywidgets")
    pytest.importorskip("anywidget")
    assert tk.TraceExplorer(tk.empty_spans()).status.value == "no trace to show: the spans hold none"


def test_explorer_list_says_no_request_for_a_rootless_trace():
    """A trace of two fragments (parent never sampled) has no request latency; its line in the list read
    "       nan ms  db: SELECT …"."""
    pytest.importorskip("ipywidgets")
    pytest.importorskip("anywidget")
    spans = tk.spans_from_columns({
        "trace_id": ["a" * 32] * 2 + ["b" * 32], "span_id": ["1" * 16, "2" * 16, "3" * 16],
        "parent_id": ["9" * 16, "9" * 16, None], "service": ["db", "cache", "web"], "name": ["SELECT", "GET", "GET /"],
        "start": [0, 5 * MS, 0], "end": [30 * MS, 8 * MS, 12 * MS]})
    labels = [label for label, _ in tk.TraceExplorer(spans).traces.options]
    assert labels[0].startswith("      12.0 ms  web: GET /")
    assert labels[1].startswith("no request     db: SELECT"), labels
    assert not any("nan" in x for x in labels)


# ---- deep traces stay readable ----------------------------------------------------------------------------------

def _chain(n):
    import numpy as np

    ids = [f"{i + 1:016x}" for i in range(n)]
    return tk.spans_from_columns({
        "trace_id": ["a" * 32] * n, "span_id": ids, "parent_id": [None] + ids[:-1],
        "service": [f"s{i % 3}" for i in range(n)], "name": [f"op{i}" for i in range(n)],
        "start": np.arange(n) * 1000, "end": 2 * n * 1000 - np.arange(n) * 1000})


def test_deep_chain_labels_keep_their_width():
    """A chain of 120 spans (within max_labels): the tree connectors grew 3 characters a level, the last label was
    404 characters and plotly gave the bars 64 of 1,300 px. Past 24 characters of connectors a label says its
    depth and keeps the last levels."""
    import re

    fig = tk.plot_waterfall(_chain(120))
    plain = [re.sub(r"<[^>]+>", "", t).replace("\u00a0", " ").rstrip() for t in fig.layout.yaxis.ticktext]
    assert max(len(t) for t in plain) <= 70
    assert plain[0] == "■ s0 · op0"
    assert plain[119] == "[119]               └─ ■ s2 · op119", plain[119]
    assert plain[5] == "            └─ ■ s2 · op5"  # shallow rows unchanged


@pytest.mark.browser
def test_deep_chain_leaves_the_bars_most_of_the_width(tmp_path):
    from .browser import open_html

    path = tmp_path / "deep.html"
    tk.plot_waterfall(_chain(120)).write_html(path, include_plotlyjs=True)
    page = open_html(path, wait_for=".js-plotly-plot .nsewdrag", viewport=(1300, 900),
                     evaluate="() => document.querySelector('.js-plotly-plot .nsewdrag').getBoundingClientRect().width")
    assert page.errors == []
    assert page.value > 650, page.value  # was 64 px


def test_canvas_waterfall_title_carries_the_header_line():
    """Above canvas_above rows plot_waterfall hands the trace to the canvas, whose title said only "4 spans": no trace
    id, request latency, start or outcome."""
    import json
    import re

    spans = _logged_trace()
    fig = tk.plot_waterfall(spans, canvas_above=1)
    data = json.loads(re.search(r'<script type="application/json" class="tkw-data"[^>]*>(.*?)</script>', fig.html).group(1))
    assert data["title"] == ("trace " + "a" * 32 + " · request 100.0 ms · started 1970-01-01 00:00:00.000 UTC · "
                             "status unknown · in progress · 4 spans")


# ---- the heatmap explorer's summary names its window and its baseline ------------------------------------------

def _four_requests_over_a_day():
    import pandas as pd

    t0 = pd.Timestamp("2024-01-01 23:30", tz="UTC").value
    minute, day = 60 * 10**9, 86_400 * 10**9
    starts = [t0, t0 + 20 * minute, t0 + 40 * minute, t0 + day]
    return tk.spans_from_columns({
        "trace_id": [f"{i:032x}" for i in range(1, 5)], "span_id": [f"{i:016x}" for i in range(1, 5)],
        "service": ["web"] * 4, "name": ["GET /"] * 4, "start": starts,
        "end": [s + d * MS for s, d in zip(starts, (50, 60, 70, 80), strict=True)], "status": ["ok"] * 4})


def test_heatmap_summary_says_the_dates_of_its_window():
    """Requests at 2024-01-01 23:30 and 2024-01-02 23:30, all selected: the summary said "23:30:00–23:30:00 UTC" (a
    day reads as no time at all) and listed the attribution against no request at all (shares "nan")."""
    from tracekit.widgets import HeatmapState

    s = HeatmapState.from_spans(_four_requests_over_a_day(), freq="10min")
    every = s.select_box(("2024-01-01", "2024-01-03"), (0, 1000))
    text = every.summary_html()
    assert "4 requests selected</b> in 4 traces, 2024-01-01 23:30:00 – 2024-01-02 23:30:00 UTC, latency 50.0–80.0 ms" in text
    assert "no other request to compare with" in text and "nan" not in text
    assert every.attribution().empty
    first_hour = s.select_box(("2024-01-01 23:00", "2024-01-02 00:00"), (0, 1000))
    assert "2 requests selected</b> in 2 traces, 2024-01-01 23:30:00–23:50:00 UTC" in first_hour.summary_html()


def test_empty_figures_say_there_is_nothing_to_draw():
    """plot_latency, plot_latency_ecdf, plot_flame and plot_heatmap of no spans returned blank axes under a title,
    nothing saying why; a flame graph of one request said "(…, 1 requests)"."""
    e = tk.empty_spans()

    def said(fig):
        return [a.text for a in fig.layout.annotations if a.name == "empty"]

    assert said(tk.plot_latency(e)) == ["no span with a duration to draw (0 spans given)"]
    assert said(tk.plot_latency_ecdf(e)) == ["no request with a positive latency to draw (no spans)"]
    assert said(tk.plot_heatmap(e)) == ["no request with a positive latency to draw"]
    assert said(tk.plot_flame(tk.critical_path_tree(tk.critical_path(e), spans=e))) == [
        "no critical path of a request to draw (0 requests)"]
    one = tk.spans_from_columns({"trace_id": ["ab" * 16], "span_id": ["a" * 16], "service": ["api"], "name": ["GET /"],
                                 "start": [0], "end": [MS]})
    flame = tk.plot_flame(tk.critical_path_tree(tk.critical_path(one), spans=one))
    assert flame.layout.title.text == "Critical path by call path (ms per request, 1 request)" and said(flame) == []
    assert said(tk.plot_latency(one)) == [] and said(tk.plot_heatmap(one)) == []


def test_waterfall_says_an_in_progress_duration_is_a_lower_bound_and_counts_fatal_records():
    """worker 'job' started at 60 ms and had not ended (drawn to the trace end, 100 ms): the hover said "duration
    40.000 ms" and the bar "40.0 ms", a duration it does not have; render's FATAL record was "1 ERROR log record"."""
    fig = tk.plot_waterfall(_logged_trace())
    bars = fig.data[0]
    assert list(bars.text) == ["100.0 ms", "\u00a0" * 3 + "30.0 ms", "\u00a0" * 3 + "40.0 ms", "≥ 40.0 ms"]
    assert "start 60.0 ms · duration ≥ 40.0 ms<br>" in bars.hovertext[3]
    assert "duration 30.0 ms<br>" in bars.hovertext[1]
    logs = next(t for t in fig.data if t.meta == "log_errors")
    assert list(logs.hovertext) == ["1 ERROR/FATAL log record", "1 ERROR/FATAL log record"]


def test_latency_of_root_spans_is_not_called_request_latency():
    """plot_latency(roots_only=True) counts spans without a parent: one request trace (web, 100 ms) and one trace of
    asynchronous work (a consumer root, 50 ms) are 2 root spans but 1 request (trace_outcomes). The figure was
    titled "request latency by all" with "requests per bin"."""
    spans = tk.spans_from_columns({
        "trace_id": ["1" * 32, "2" * 32], "span_id": ["a" * 16, "c" * 16], "parent_id": [None, None],
        "service": ["web", "worker"], "name": ["GET /", "process"], "kind": ["server", "consumer"],
        "start": [0, 0], "end": [100 * MS, 50 * MS]})
    assert tk.core.trace_outcomes(spans)["request"].tolist() == [True, False]
    fig = tk.plot_latency(spans, by=None, roots_only=True)
    # then the population and window (session 42)
    assert fig.layout.title.text == "root span latency by all<br><sup>2 root spans, 00:00:00 UTC</sup>"
    assert fig.layout.yaxis.title.text == "root spans per bin"
    assert fig.layout.xaxis.title.text == "root span duration (ms)"
    assert sum(fig.data[0].y[:-1]) == 2
    assert "root spans" in fig.data[0].hovertemplate


def test_flame_and_breakdown_draw_a_span_without_a_service():
    """The schema allows a span without a service or name; plot_flame raised a bare KeyError 'nan' and
    plot_critical_path_breakdown KeyError '<NA>' looking its colour up. It is drawn grey, labelled <NA>."""
    spans = tk.spans_from_columns({
        "trace_id": ["a" * 32] * 2, "span_id": ["1" * 16, "2" * 16], "parent_id": [None, "1" * 16],
        "service": ["web", "x"], "name": ["GET /", None], "start": [0, 1 * MS], "end": [10 * MS, 5 * MS]})
    # no service set by hand (spans_from_columns names a missing service unknown_service, as the readers do)
    spans["service"] = pd.Series(["web", None], dtype=spans["service"].dtype)
    cp = tk.critical_path(spans)
    web = tk.service_colors(["web"])["web"]
    flame = tk.plot_flame(tk.critical_path_tree(cp, spans=spans)).data[0]
    # spans_from_columns names a missing name "(unnamed)", as the readers do (session 37: schema.known_name_column)
    # a span of no service is unknown_service's in the flame graph, as in its call path (session 45, diff)
    assert list(flame.labels) == ["web: GET /", "unknown_service: (unnamed)"]
    # and coloured as the readers' unknown_service is everywhere (service_colors), no longer grey
    assert list(flame.marker.colors) == [web, tk.service_colors(["web", "unknown_service"])["unknown_service"]]
    assert [float(v) for v in flame.values] == [10.0, 4.0]
    bars = tk.plot_critical_path_breakdown(tk.critical_path_breakdown(cp)).data[0]
    assert list(bars.y) == ["web", "&lt;NA&gt;"] and list(bars.marker.color) == [web, "#999999"]


_TINY_AND_WIDE = """() => {
  const w = Object.values(window.tkWaterfalls)[0];
  const v = w.view();
  const s = w.setView(v.x0, v.x1, v.r0, v.r1);
  const ctx = document.querySelector('.tkw canvas').getContext('2d');
  const sx = w.W / (v.x1 - v.x0), rh = w.H / (v.r1 - v.r0);
  const at = (t, row) => Array.from(ctx.getImageData(Math.floor(w.LABEL + (t - v.x0) * sx), Math.floor(row * rh + rh / 2), 1, 1).data.slice(0, 3));
  return {stats: s, wide: at((w.start[0] + w.end[0]) / 2, 0), tiny: at(w.start[1], 1)};
}"""


@pytest.mark.browser
def test_canvas_draws_a_named_css_colour_the_same_for_wide_and_subpixel_spans(tmp_path):
    """colors={"api": "red"} (plot_waterfall takes any plotly colour): the canvas parsed the text as hex, so a span
    narrower than a pixel was drawn (0, 0, 237) while the wide one was red."""
    from .browser import open_html

    spans = tk.spans_from_columns({
        "trace_id": ["a" * 32] * 2, "span_id": ["1" * 16, "2" * 16], "parent_id": [None, "1" * 16],
        "service": ["api", "api"], "name": ["GET /", "tiny"], "start": [0, 10 * MS], "end": [1000 * MS, 10 * MS + 1000]})
    path = tmp_path / "w.html"
    tk.plot_waterfall(spans, canvas_above=1, colors={"api": "red"}).write_html(path)
    page = open_html(path, wait_for=".tkw canvas", evaluate=_TINY_AND_WIDE)
    assert page.errors == []
    v = page.value
    assert v["stats"]["tiny"] == 1 and v["stats"]["wide"] == 1, v["stats"]
    assert v["wide"] == [255, 0, 0] and v["tiny"] == [255, 0, 0], v
