"""A waterfall written to self-contained HTML renders in real headless Chromium without JS errors."""

from __future__ import annotations

import re

import pytest

import tracekit as tk
import tracekit.plotting  # noqa: F401

from .browser import open_html
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
