"""The canvas waterfall for big traces: compact columns (by construction) and drawing in real Chromium."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import tracekit as tk
from tracekit.plotting.gl import decode, plot_waterfall_gl, waterfall_columns, write_waterfall_gl

from .browser import open_html

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from bench_waterfall import make_trace  # noqa: E402


def test_columns_round_trip_the_rows():
    spans = make_trace(500, seed=3)
    rows = tk.waterfall_data(spans, critical_path=True)
    c = waterfall_columns(rows)
    assert c["n"] == len(rows) == 500
    np.testing.assert_array_equal(decode(c["start"], "float64"), rows["start_ms"].to_numpy())
    np.testing.assert_array_equal(decode(c["end"], "float64"), rows["end_ms"].to_numpy())
    np.testing.assert_array_equal(decode(c["depth"], "int32"), rows["depth"].to_numpy())
    names = np.array(c["names"], dtype=object)[decode(c["name"], "int32")]
    assert names.tolist() == rows["name"].astype(str).tolist()
    svcs = np.array(c["services"], dtype=object)[decode(c["svc"], "int32")]
    assert svcs.tolist() == rows["service"].astype(str).tolist()
    parent = decode(c["parent"], "int32")
    ids = rows["span_id"].astype(str).to_numpy()
    has = parent >= 0
    assert ids[parent[has]].tolist() == rows["parent_id"][has].astype(str).tolist()
    assert (~has).sum() == rows["parent_id"].isna().sum() == 1
    assert (decode(c["flags"], "uint8") & 1).astype(bool).tolist() == rows["is_error"].tolist()
    # every critical-path section, in row order
    flat = [(r, s, e) for r, secs in enumerate(rows["cp_sections"]) for s, e in secs]
    assert list(zip(decode(c["cp_row"], "int32").tolist(), decode(c["cp_start"], "float64").tolist(),
                    decode(c["cp_end"], "float64").tolist(), strict=True)) == flat
    assert len(flat) > 0


def test_columns_need_waterfall_rows():
    with pytest.raises(tk.TraceKitError, match="missing columns"):
        waterfall_columns(make_trace(5)[["span_id"]])


REACH = """() => {
  const w = Object.values(window.tkWaterfalls)[0];
  const ctx = document.querySelector('.tkw canvas').getContext('2d');
  const hex = c => '#' + Array.from(c.slice(0, 3)).map(v => v.toString(16).padStart(2, '0')).join('').toUpperCase();
  const wrong = [];
  for (let i = 0; i < w.n; i++) {
    // zoom so span i fills the middle half of the plot, rows i-2..i+3 in view
    const len = w.end[i] - w.start[i], pad = Math.max(len / 2, 1e-9);
    w.setView(w.start[i] - pad, w.end[i] + pad, i - 2, i + 3);
    const rh = w.H / 5, y = Math.floor(2 * rh + rh * 0.2), x = w.LABEL + Math.floor(w.W / 2) - Math.floor(w.W / 8);
    const got = hex(ctx.getImageData(x, y, 1, 1).data);
    if (got !== w.colors[w.svc[i]].toUpperCase()) wrong.push([i, got]);
  }
  return {n: w.n, wrong: wrong.slice(0, 5), nWrong: wrong.length};
}"""

OVERVIEW = """() => {
  const w = Object.values(window.tkWaterfalls)[0];
  const v = w.view();
  w.record = true;
  const s = w.setView(v.x0, v.x1, v.r0, v.r1);
  const drawn = Array.from(w.drawn).reduce((a, b) => a + b, 0);
  w.record = false;
  const ctx = document.querySelector('.tkw canvas').getContext('2d');
  // the first critical-path section and the first error span: what colour is drawn there
  const px = (t, row) => {
    const vv = w.view(), x = w.LABEL + Math.floor((t - vv.x0) / (vv.x1 - vv.x0) * w.W);
    const y = Math.floor((row - vv.r0 + 0.5) / (vv.r1 - vv.r0) * w.H);
    return Array.from(ctx.getImageData(x, y, 1, 1).data.slice(0, 3));
  };
  const k = 0, r = w.cpRow[k];
  w.setView(w.cpStart[k], w.cpEnd[k], r - 2, r + 3);
  const cpPixel = px((w.cpStart[k] + w.cpEnd[k]) / 2, r);
  const cpStats = w.last;
  let e = 0; while (!(w.flags[e] & 1)) e++;
  w.setView(w.start[e], w.end[e], e - 2, e + 3);
  const vv = w.view();
  const errPixel = Array.from(ctx.getImageData(w.LABEL, Math.floor((e - vv.r0 + 0.5) / 5 * w.H), 1, 1).data.slice(0, 3));
  const nMatch = w.search('op-7');
  return {overview: s, drawn, cpPixel, cpStats, errPixel,
          errStats: w.last, nMatch, nCp: w.cpRow.length};
}"""


@pytest.mark.browser
def test_every_span_reachable_when_zoomed_in(tmp_path):
    spans = make_trace(1_500, seed=1)
    path = write_waterfall_gl(spans, tmp_path / "w.html", critical_path=True)
    page = open_html(path, wait_for=".tkw canvas", evaluate=REACH, timeout_ms=120_000)
    assert page.errors == [] and page.failed_requests == []
    assert page.value["n"] == 1_500
    assert page.value["nWrong"] == 0, page.value["wrong"]


@pytest.mark.browser
def test_overview_merges_subpixel_spans_and_draws_critical_path_and_errors(tmp_path):
    spans = make_trace(20_000, seed=2)
    rows = tk.waterfall_data(spans, critical_path=True)
    path = tmp_path / "w.html"
    path.write_text(plot_waterfall_gl(rows, full_html=True, title="<b>big</b>"))
    page = open_html(path, wait_for=".tkw canvas", evaluate=OVERVIEW, timeout_ms=120_000)
    assert page.errors == [] and page.failed_requests == []
    v = page.value
    o = v["overview"]
    # every span is drawn in the overview: as a rectangle or merged into a pixel, none skipped
    assert v["drawn"] == 20_000 and o["wide"] + o["tiny"] == 20_000 and o["tiny"] > 0
    assert o["cp"] == v["nCp"] == sum(len(s) for s in rows["cp_sections"])
    assert o["errors"] == int(rows["is_error"].sum()) > 0
    assert o["labels"] == 0  # 20,000 rows in 700 px: too thin to label
    assert v["cpPixel"] == [0x11, 0x11, 0x11]  # tk.plotting.CRITICAL_COLOR over the span
    assert v["errPixel"] == [0xD6, 0x27, 0x28]  # tk.plotting.ERROR_COLOR outline at the span's left edge
    assert v["errStats"]["labels"] == 5
    expected = sum(n.startswith("op-7") for n in rows["name"].astype(str)) + sum("op-7" in s for s in rows["span_id"].astype(str))
    assert v["nMatch"] == expected > 0
    assert "<b>big</b>" not in path.read_text()


@pytest.mark.slow  # 2.2 s in the fast lane (2 loaded cores, issue 28)
def test_explorer_draws_big_traces_on_the_canvas_unfolded():
    from tracekit.widgets import ExplorerState

    big = make_trace(2_500, seed=4)
    s = ExplorerState.from_spans(big, canvas_above=2_000)
    assert s.uses_canvas() and s.max_depth is None and len(s.waterfall()) == 2_500  # no folding needed
    page = s.figure_html()
    assert "tkWaterfalls" in page and '"n":2500' in page
    # folding stays available and the canvas draws what is visible
    folded = s.with_max_depth(2)
    assert f'"n":{len(folded.waterfall())}' in folded.figure_html() and len(folded.waterfall()) < 2_500
    # below the threshold, or without one, the plotly waterfall (auto-folded) as before
    assert not ExplorerState.from_spans(big, canvas_above=5_000).uses_canvas()
    assert ExplorerState.from_spans(big).max_depth is not None


@pytest.mark.slow  # 3.1 s in the fast lane (2 loaded cores, issue 28)
def test_trace_explorer_widget_shows_canvas_iframe_for_big_trace():
    pytest.importorskip("ipywidgets")
    pytest.importorskip("anywidget")
    ex = tk.TraceExplorer(make_trace(2_500, seed=4))
    child = ex._figure_box.children[0]
    assert child is ex.figure and "<iframe srcdoc=" in child.value and "tkWaterfalls" in child.value
    small = tk.TraceExplorer(make_trace(300, seed=4))
    assert small.state.max_depth is not None  # plotly as before, auto-folded to at most 150 rows
    assert len(small.figure.data[0].x) == len(small.state.waterfall()) <= 150


def test_plot_waterfall_hands_big_traces_to_the_canvas_renderer(tmp_path):
    import plotly.graph_objects as go

    from tracekit.plotting.gl import CanvasFigure

    ms = 1_000_000
    n = 7
    spans = tk.spans_from_columns({
        "trace_id": ["ab" * 16] * n, "span_id": [f"{i + 1:016x}" for i in range(n)],
        "parent_id": [None] + ["0000000000000001"] * (n - 1), "service": ["api"] + ["db"] * (n - 1),
        "name": ["GET /"] + [f"q{i}" for i in range(1, n)],
        "start": [0] + [i * ms for i in range(1, n)], "end": [20 * ms] + [(i + 1) * ms for i in range(1, n)]})
    assert isinstance(tk.plot_waterfall(spans), go.Figure)  # 7 rows: under the default threshold
    assert isinstance(tk.plot_waterfall(spans, canvas_above=None), go.Figure)
    fig = tk.plot_waterfall(spans, canvas_above=6)
    assert isinstance(fig, CanvasFigure) and fig.n_rows == n
    rows = tk.waterfall_data(spans)
    import re

    def same(html: str) -> str:
        return re.sub(r"tkw-\d+-[0-9a-f]+", "ID", html)  # each rendering gets its own element id

    # the canvas renderer's own output, titled with the trace id and the plotly figure's header line
    title = "trace " + "ab" * 16 + " · request 20.0 ms · started 1970-01-01 00:00:00.000 UTC · status unknown · 7 spans"
    assert same(fig.html) == same(plot_waterfall_gl(rows, title=title))
    assert tk.plot_waterfall(spans, canvas_above=7).__class__ is go.Figure  # the threshold is "more than"
    out = fig.write_html(tmp_path / "w.html")
    assert out.read_text().startswith("<!DOCTYPE html>") and fig._repr_html_() == fig.html
