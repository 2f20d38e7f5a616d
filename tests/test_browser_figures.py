"""A waterfall written to self-contained HTML renders in real headless Chromium without JS errors."""

from __future__ import annotations

import re

import pytest

import tracekit as tk
import tracekit.plotting  # noqa: F401

from .browser import open_html
from .conftest import read_dataset
from .test_waterfall import JAEGER1_CP, TID, cp_frame, trace

pytestmark = pytest.mark.browser

COUNT_BARS = """() => {
  const gd = document.querySelector('.js-plotly-plot');
  const traces = Array.from(gd.querySelectorAll('.barlayer .trace.bars'));
  return {
    plots: document.querySelectorAll('.js-plotly-plot').length,
    barsPerTrace: traces.map(t => t.querySelectorAll('.point path').length),
    xTitle: (gd.querySelector('.xtitle') || {}).textContent,
    title: (gd.querySelector('.gtitle') || {}).textContent,
    ticks: Array.from(gd.querySelectorAll('.ytick text')).map(t => t.textContent),
    dataLen: gd.data.length,
    scripts: document.scripts.length,
  };
}"""


def test_waterfall_html_renders_in_chromium(tmp_path):
    # c 1..101 (web), d 20..40 (db, error, name needs escaping), e 50..60 (web)
    spans = trace(
        [("e", "c", 50, 60, "web"), ("c", None, 1, 101, "web"), ("d", "c", 20, 40, "db")],
        name=["render", "GET /", "<script>alert('x')</script>"],
        status=["ok", "ok", "error"],
    )
    fig = tk.plot_waterfall(spans, TID, critical_path=cp_frame(JAEGER1_CP))
    path = tmp_path / "waterfall.html"
    fig.write_html(path, include_plotlyjs=True, full_html=True)
    page = open_html(path, wait_for=".js-plotly-plot .barlayer .point path", evaluate=COUNT_BARS)
    assert page.errors == []
    assert page.failed_requests == []
    v = page.value
    assert v["plots"] == 1
    assert v["dataLen"] == 5  # spans, critical path, error overlay, 2 legend entries
    assert v["barsPerTrace"] == [3, 5, 1]  # one bar per visible span; five critical-path sections; the error span
    assert v["xTitle"] == "ms from trace start"
    # the tree as the reader sees it (SVG text: chips and names, non-breaking spaces for the indent)
    ticks = [t.replace("\u00a0", " ").rstrip() for t in v["ticks"]]
    assert ticks == ["■ web · GET /", "├─ ■ ⚠ db · <script>alert('x')</script>", "└─ ■ web · render"]
    assert v["title"].startswith("trace ") and "request 100.0 ms" in v["title"]
    # the name is shown as text: no script element beyond those the file itself holds
    assert v["scripts"] == len(re.findall(r"<script\b", path.read_text()))


def test_collapsed_waterfall_renders_one_bar(tmp_path):
    spans = trace([("c", None, 1, 101), ("d", "c", 20, 40), ("e", "c", 50, 60)])
    path = tmp_path / "collapsed.html"
    tk.plot_waterfall(spans, TID, max_depth=0).write_html(path, include_plotlyjs=True)
    page = open_html(path, wait_for=".js-plotly-plot .barlayer .point path", evaluate=COUNT_BARS)
    assert page.errors == []
    assert page.value["barsPerTrace"] == [1]
    assert [t.replace("\u00a0", " ").rstrip() for t in page.value["ticks"]] == ["■ svc · op-c (+2)"]


OVERLAPS = """() => {
  const boxes = Array.from(document.querySelectorAll('.annotation')).map(a => {
    const t = a.querySelector('.annotation-text-g');
    const txt = a.textContent.trim();
    const r = (t || a).getBoundingClientRect();
    return {txt, l: r.left, r: r.right, t: r.top, b: r.bottom};
  }).filter(b => b.txt && b.r > b.l);
  const nodes = Array.from(document.querySelectorAll('.scatterlayer .trace .points path')).map(p => p.getBoundingClientRect())
    .filter(r => r.width >= 20).map(r => ({l: r.left, r: r.right, t: r.top, b: r.bottom}));
  const hit = (a, b) => Math.min(a.r, b.r) - Math.max(a.l, b.l) > 1 && Math.min(a.b, b.b) - Math.max(a.t, b.t) > 1;
  const out = [];
  boxes.forEach((a, i) => boxes.slice(i + 1).forEach(b => { if (hit(a, b)) out.push([a.txt, b.txt]); }));
  boxes.forEach(a => nodes.forEach(n => { if (hit(a, n)) out.push([a.txt, 'node']); }));
  return {labels: boxes.length, nodes: nodes.length, overlaps: out,
          title: (document.querySelector('.gtitle') || {}).textContent};
}"""


def test_service_map_labels_do_not_overlap_in_chromium(tmp_path):
    inc = read_dataset("checkout-incident")
    base = read_dataset("checkout-baseline")
    G = tk.service_graph(inc)
    for name, fig in (("map", tk.plot_service_graph(G)),
                      ("map_baseline", tk.plot_service_graph(G, baseline=tk.service_graph(base)))):
        path = tmp_path / f"{name}.html"
        fig.write_html(path, include_plotlyjs=True)
        page = open_html(path, wait_for=".js-plotly-plot .annotation", evaluate=OVERLAPS, viewport=(1200, 900))
        assert page.errors == []
        v = page.value
        # every node label and every edge label drawn, none on another nor on a node marker
        assert v["labels"] == G.number_of_nodes() + G.number_of_edges()
        assert v["nodes"] == G.number_of_nodes()
        assert v["overlaps"] == [], v["overlaps"]
        assert v["title"].startswith("service map: 10 services + 2 uninstrumented peers")


TICK_BOXES = """() => Array.from(document.querySelectorAll('.ytick text')).map(t => {
  const r = t.getBoundingClientRect(); return [r.left, r.right, t.textContent]; })"""


def test_waterfall_labels_are_left_aligned_in_chromium(tmp_path):
    inc = read_dataset("checkout-incident")
    tid = str(inc.loc[inc["name"] == "SELECT orders"].sort_values("duration_ms")["trace_id"].iloc[-1])
    path = tmp_path / "wf.html"
    tk.plot_waterfall(inc, tid, critical_path=True).write_html(path, include_plotlyjs=True)
    page = open_html(path, wait_for=".js-plotly-plot .ytick text", evaluate=TICK_BOXES)
    assert page.errors == []
    boxes = page.value
    assert len(boxes) == int((inc["trace_id"] == tid).sum())
    lefts = [b[0] for b in boxes]
    assert max(lefts) - min(lefts) < 2.0  # one left edge: the tree reads left to right
    texts = [b[2].replace("\u00a0", " ").rstrip() for b in boxes]
    assert texts[0] == "■ api-gateway" and any(t.endswith("■ checkout · SELECT orders") for t in texts)


ANNOTATION_BOXES = """() => Array.from(document.querySelectorAll('.annotation')).map(a => {
  const r = (a.querySelector('.annotation-text-g') || a).getBoundingClientRect();
  return {txt: a.textContent.trim(), l: r.left, r: r.right, t: r.top, b: r.bottom};
}).filter(b => b.txt && b.r > b.l)"""


def _overlapping(boxes: list[dict]) -> list[tuple[str, str]]:
    hit = lambda a, b: (min(a["r"], b["r"]) - max(a["l"], b["l"]) > 1  # noqa: E731
                        and min(a["b"], b["b"]) - max(a["t"], b["t"]) > 1)
    return [(a["txt"], b["txt"]) for i, a in enumerate(boxes) for b in boxes[i + 1:] if hit(a, b)]


def test_timeline_labels_do_not_overlap_in_chromium(tmp_path):
    """deploy-regression: the deployment's label sat on the subplot title 'requests per 1min bucket' (both at
    the top of the first row) and the second change window's box (3 lines) 14 px under the first one's."""
    spans = read_dataset("deploy-regression")
    changes = tk.detect_changes(spans, by="service")
    windows = changes[["onset", "recovery"]].astype(str).drop_duplicates()
    assert len(windows) >= 2 and changes["deployment"].notna().any()  # the case: stacked windows and a deploy
    path = tmp_path / "timeline.html"
    tk.plot_timeline(spans, by="service", changes=changes).write_html(path, include_plotlyjs=True)
    page = open_html(path, wait_for=".js-plotly-plot .annotation", evaluate=ANNOTATION_BOXES, viewport=(1200, 900))
    assert page.errors == []
    texts = [b["txt"] for b in page.value]
    assert any(t.startswith("requests per") for t in texts) and any("1.5.0" in t for t in texts)
    assert sum(bool(re.search(r"p95 [+-]", t)) for t in texts) == len(windows)  # one label box per window
    assert _overlapping(page.value) == []


#: each ERROR-logs diamond's box and each duration label's box (its characters, not the spaces before them)
LOG_MARKS_AND_LABELS = r"""() => {
  const box = r => ({l: r.left, r: r.right, t: r.top, b: r.bottom});
  const labels = [...document.querySelectorAll('.barlayer .bartext')].map(t => {
    const n = t.firstChild, i = Math.max(n.data.search(/[^\s\u00a0]/), 0);
    const r = document.createRange(); r.setStart(n, i); r.setEnd(n, n.data.length);
    return {txt: n.data.slice(i), ...box(r.getBoundingClientRect())};
  });
  const marks = [...document.querySelectorAll('.scatterlayer .points path.point')]
    .map(p => ({txt: 'ERROR logs', ...box(p.getBoundingClientRect())})).filter(m => m.r > m.l);
  return {labels, marks};
}"""


def test_error_log_marks_leave_the_duration_labels_readable_in_chromium(tmp_path):
    """deploy-regression's report, example traces: the ERROR-logs diamond at a span's end sat on the first digit of
    the duration written beside the bar ("◆00.0 ms" for 300.0 ms; 3 of 3 marks on their label). The label of a
    span with ERROR records now starts after the diamond. Generated: slow-deploy with the simulator's own logs."""
    from tracekit.simulate_signals import app_logs

    sim = tk.simulate.simulate("slow-deploy", 300, seed=12).spans
    logs = app_logs(sim, seed=12)
    tid = logs.loc[logs["severity_text"].astype(str) == "ERROR", "trace_id"].value_counts().index[0]
    path = tmp_path / "wf_logs.html"
    tk.plot_waterfall(tk.attach_logs(sim, logs).spans, tid).write_html(path, include_plotlyjs=True)
    page = open_html(path, wait_for=".js-plotly-plot .barlayer .bartext", evaluate=LOG_MARKS_AND_LABELS,
                     viewport=(1000, 900))
    assert page.errors == []
    v = page.value
    assert len(v["marks"]) >= 2 and all(re.fullmatch(r"[\d,.]+ ms", b["txt"]) for b in v["labels"]), v
    assert _overlapping(v["labels"] + v["marks"]) == []


ERROR_RATE_TICKS = """() => {
  const gd = document.querySelector('.js-plotly-plot');
  return {ticks: Array.from(gd.querySelectorAll('.y2tick text')).map(t => t.textContent),
          titles: Array.from(gd.querySelectorAll('.annotation-text')).map(t => t.textContent)};
}"""


def test_timeline_error_rate_ticks_read_apart_and_a_partial_bucket_is_said(tmp_path):
    # a peak error rate under 1 %: ".0%" labelled its 0.2 % ticks "0%, 0%, 0%, 1%, 1%" (two 0.4-point steps read as 0)
    import pandas as pd

    spans = tk.simulate.simulate("baseline", 1500, seed=2).spans
    first = spans.groupby("trace_id")["start"].transform("min")
    spans = spans[(first >= pd.Timestamp("2026-03-02T14:03:30Z")) & (first < pd.Timestamp("2026-03-02T14:47:30Z"))]
    t = tk.timeline(spans, freq="10min")
    assert 0 < t["error_rate"].max() < 0.01 and t["covered"].iloc[0] < 0.95
    path = tmp_path / "timeline.html"
    tk.plot_timeline(t).write_html(path, include_plotlyjs=True)
    page = open_html(path, wait_for=".js-plotly-plot .y2tick", evaluate=ERROR_RATE_TICKS)
    assert page.errors == []
    ticks = page.value["ticks"]
    assert len(ticks) >= 3 and len(set(ticks)) == len(ticks), ticks  # every tick its own label
    assert any(x not in ("0%", "1%") for x in ticks), ticks
    assert any("a partial bucket" in x for x in page.value["titles"]), page.value["titles"]
