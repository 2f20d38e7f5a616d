"""plot_flame / plot_flame_diff / plot_trace_diff: data on the figure, and rendered in headless Chromium."""

from __future__ import annotations

import re

import pytest

import tracekit as tk
from tracekit.plotting.flame import DIFF_COLORS

from .browser import open_html
from .conftest import read_dataset
from .test_structure import mk

pytestmark = pytest.mark.browser

SLICES = """() => {
  const gd = document.querySelector('.js-plotly-plot');
  return {slices: document.querySelectorAll('g.slice').length, title: gd.layout.title.text,
          labels: Array.from(document.querySelectorAll('g.slice text.slicetext')).map(t => t.textContent),
          scripts: document.querySelectorAll('script').length};
}"""


@pytest.fixture(scope="module")
def twins_cp():
    inc = read_dataset("checkout-incident")
    base = read_dataset("checkout-baseline")
    return inc, base, tk.critical_path(inc), tk.critical_path(base)


def test_flame_diff_figure_marks_the_orders_db_calls_and_renders(tmp_path, twins_cp):
    inc, base, ci, cb = twins_cp
    diff = tk.critical_path_tree_diff(ci, cb, spans_a=inc, spans_b=base, n_boot=100)
    fig = tk.plot_flame_diff(diff)
    ic = fig.data[0]
    hot = [lab for lab, c in zip(ic.labels, ic.marker.colors, strict=True) if c == max(ic.marker.colors)]
    assert {h.split(": ")[1] for h in hot} <= {"SELECT orders", "INSERT orders"}
    assert "+19.6 ms per request" in fig.layout.title.text
    path = tmp_path / "flame.html"
    fig.write_html(path, include_plotlyjs=True)
    page = open_html(path, wait_for="g.slice", evaluate=SLICES)
    assert page.errors == [] and page.failed_requests == []
    assert page.value["slices"] >= 10 and page.value["title"].startswith("Critical path, incident vs baseline")


def test_trace_diff_figure_escapes_names_and_colours_by_status(tmp_path):
    a = mk([(1, 1, None, "web", "GET /", "server", 0, 100), (1, 2, 1, "db", "<img src=x onerror=alert(1)>", "client", 10, 20)])
    b = mk([(1, 1, None, "web", "GET /", "server", 0, 140), (1, 2, 1, "db", "<img src=x onerror=alert(1)>", "client", 10, 60),
            (1, 3, 1, "cache", "get", "client", 70, 80)])
    d = tk.diff_traces(a, b)
    fig = tk.plot_trace_diff(d)
    colors = list(fig.data[1].marker.color)
    assert colors == [DIFF_COLORS[s] for s in d["status"]]
    assert all("<img" not in t for t in fig.data[1].y)
    path = tmp_path / "diff.html"
    fig.write_html(path, include_plotlyjs=True)
    page = open_html(path, wait_for=".js-plotly-plot .barlayer .point path",
                     evaluate="() => ({imgs: document.querySelectorAll('img').length, scripts: document.querySelectorAll('script').length})")
    assert page.errors == []
    assert page.value["imgs"] == 0
    assert page.value["scripts"] == len(re.findall(r"<script\b", path.read_text()))
