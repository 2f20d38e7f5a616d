"""Review s48 'widgets3': the waterfall, the flame graph and the explorer as a user sees them in a browser.

Truth is built by construction: small frames whose names, durations, parents and ends are chosen here. Browser tests
open the figure in headless Chromium (tests/browser.py) and measure what it draws.
"""

from __future__ import annotations

import pandas as pd
import pytest

import tracekit as tk

MS = 1_000_000
LONG_NAME = "SELECT " + "x" * 2000 + " LIMIT 1"   # a 2,015-character operation (an SQL statement as a span name)
LONG_SVC = "svc-" + "s" * 1500                    # a 1,504-character service


def _frame(rows: list[tuple]) -> pd.DataFrame:
    """Spans of one trace from (span, parent, service, name, start ms, end ms or None, status) tuples."""
    cols = {k: [] for k in ("trace_id", "span_id", "parent_id", "service", "name", "start", "end", "status")}
    for sid, pid, svc, nm, s, e, st in rows:
        cols["trace_id"].append("ab" * 16)
        cols["span_id"].append(f"{sid:016x}")
        cols["parent_id"].append(None if pid is None else f"{pid:016x}")
        cols["service"].append(svc)
        cols["name"].append(nm)
        cols["start"].append(s * MS)
        cols["end"].append(None if e is None else e * MS)
        cols["status"].append(st)
    return tk.spans_from_columns(cols)


@pytest.fixture(scope="module")
def long_names():
    """GET / (0..100 ms) -> LONG_SVC: LONG_NAME (10..60 ms)."""
    return _frame([(1, None, "api", "GET /", 0, 100, "ok"), (2, 1, LONG_SVC, LONG_NAME, 10, 60, "ok")])


# ---- 1. a long name in a hover box ------------------------------------------------------------------------------

HOVER_CHARS = 300  # the figures' rule (plotting.colors.HOVER_CHARS): most characters of a name in a hover box


def _name_of(hover: str) -> str:
    """The waterfall hover's '<service>: <name>', before its 'start … · duration …' line, its line breaks removed."""
    head = hover.split("<br>start ")[0].replace("<b>", "").replace("</b>", "")
    return head.replace(":<br>", ": ", 1).replace("<br>", "")


def test_waterfall_hover_cuts_a_long_name(long_names):
    """A 2,015-character operation of a 1,504-character service was written whole in the waterfall's hover box (a
    3,500-character first line; 13,041 px wide in headless Chromium, over the whole figure, its duration and span id
    off the page). Every other figure's hover cuts a name to HOVER_CHARS (its start and its end kept)."""
    w = tk.waterfall_data(long_names)
    hover = w.loc[w["span_id"] == f"{2:016x}", "hover"].iloc[0]
    svc, _, name = _name_of(hover).partition(": ")
    assert len(svc) <= HOVER_CHARS and svc.startswith("svc-sss") and "…" in svc
    assert len(name) <= HOVER_CHARS and name.startswith("SELECT xxx") and name.endswith("x LIMIT 1") and "…" in name
    # what follows the name is still there: duration and span id
    assert "duration 50.0 ms" in hover and f"span {2:016x}" in hover
    # a short name is whole
    assert w.loc[w["span_id"] == f"{1:016x}", "hover"].iloc[0].startswith("<b>api</b>: GET /<br>start ")


def test_flame_hover_and_tile_cut_a_long_name(long_names):
    """The flame graph's labels (the tile text and the hover's first line) were the whole '<service>: <name>' of
    3,500 characters: the hover box was 13,028 px wide in headless Chromium and hid the title. The hover names the
    node cut to HOVER_CHARS; a tile's label is cut to the figures' LABEL_CHARS."""
    from tracekit.plotting.colors import LABEL_CHARS

    tree = tk.critical_path_tree(tk.critical_path(long_names), spans=long_names)
    fig = tk.plot_flame(tree)
    ic = fig.data[0]
    labels = list(ic.labels)
    assert max(len(x) for x in labels) <= LABEL_CHARS
    assert any(x.startswith("svc-sss") and x.endswith("LIMIT 1") for x in labels)
    hover = fig.to_plotly_json()["data"][0]
    # the hover's name: the template's first line, or a customdata column it reads
    text = hover.get("hovertemplate", "")
    first = text.split("<br>")[0]
    assert "%{label}" not in first  # the label is cut to a tile's length: the hover names the node from customdata
    col = int(first.split("customdata[")[1].split("]")[0])
    names = [row[col] for row in hover["customdata"]]
    long_one = [n for n in names if n.startswith("svc-sss")][0].replace("<br>", "")
    assert len(long_one) <= 2 * HOVER_CHARS + 2 and long_one.endswith("x LIMIT 1")


def test_flame_diff_hover_cuts_a_long_name(long_names):
    """plot_flame_diff drew the same 3,500-character label as plot_flame."""
    from tracekit.plotting.colors import LABEL_CHARS

    cp = tk.critical_path(long_names)
    fig = tk.plot_flame_diff(tk.critical_path_tree_diff(cp, cp, spans_a=long_names, spans_b=long_names, n_boot=0))
    assert max(len(x) for x in fig.data[0].labels) <= LABEL_CHARS
    assert "%{label}" not in fig.data[0].hovertemplate.split("<br>")[0]


def _hover_width(tmp_path, fig, curve: int, point: int) -> float:
    from .browser import open_html

    path = tmp_path / "fig.html"
    path.write_text(fig.to_html(include_plotlyjs=True, full_html=True), encoding="utf-8")
    js = ("async () => { const gd = document.querySelector('.js-plotly-plot');"
          f" Plotly.Fx.hover(gd, [{{curveNumber: {curve}, pointNumber: {point}}}]);"
          " await new Promise(r => setTimeout(r, 300));"
          " const h = document.querySelector('.hoverlayer .hovertext'); return h ? h.getBBox().width : -1; }")
    page = open_html(path, wait_for=".js-plotly-plot .main-svg", evaluate=js, viewport=(1300, 900))
    assert page.errors == []
    return page.value


@pytest.mark.browser
def test_waterfall_hover_box_fits_the_page(tmp_path, long_names):
    """In headless Chromium the long span's hover box was 13,041 px wide on a 1,300 px page."""
    fig = tk.plot_waterfall(long_names)
    width = _hover_width(tmp_path, fig, 0, 1)
    assert 0 < width < 1300  # within the page: it was 13,041 px (and 300 characters on one line 4,145 px)


_SLICE_HOVERS = """async () => {
  const widths = [];
  for (const g of document.querySelectorAll('g.slice')) {
    const el = g.querySelector('path'); const bb = el.getBoundingClientRect();
    el.dispatchEvent(new MouseEvent('mouseover', {bubbles: true, clientX: bb.x + 3, clientY: bb.y + 3}));
    await new Promise(r => setTimeout(r, 150));
    const h = document.querySelector('.hoverlayer .hovertext'); widths.push(h ? h.getBBox().width : -1);
    el.dispatchEvent(new MouseEvent('mouseout', {bubbles: true}));
  }
  return widths; }"""


@pytest.mark.browser
def test_flame_hover_box_fits_the_page(tmp_path, long_names):
    """In headless Chromium the long node's hover box was 13,028 px wide on a 1,300 px page (each tile hovered)."""
    from .browser import open_html

    tree = tk.critical_path_tree(tk.critical_path(long_names), spans=long_names)
    path = tmp_path / "flame.html"
    path.write_text(tk.plot_flame(tree).to_html(include_plotlyjs=True, full_html=True), encoding="utf-8")
    page = open_html(path, wait_for="g.slice", evaluate=_SLICE_HOVERS, viewport=(1300, 900))
    assert page.errors == []
    widths = page.value
    assert len(widths) == len(tree) and min(widths) > 0  # every tile hovered and its box drawn
    assert max(widths) < 1300  # within the page: it was 22,888 px (and 300 characters a name on one line 3,928 px)


# ---- 2. the critical path through a running span ----------------------------------------------------------------

@pytest.fixture(scope="module")
def running():
    """GET / (0..100 ms) -> db (10..30 ms), pay (40 ms .., not ended): the critical path runs through pay's 40..100 ms."""
    return _frame([(1, None, "api", "GET /", 0, 100, "ok"), (2, 1, "db", "query", 10, 30, "ok"),
                   (3, 1, "pay", "charge", 40, None, "unset")])


def test_critical_path_is_drawn_over_the_in_progress_hatch(running):
    """The in-progress overlay (a half-white hatch) was the last bar trace, drawn over the critical path: the path
    through a running span read grey, not black. The critical path's bars now come after it (plotly paints later traces
    over earlier ones), and the tk.critical_path section of the running span is among them."""
    fig = tk.plot_waterfall(running, critical_path=True)
    metas = [t.meta for t in fig.data]
    assert metas.index("in_progress") < metas.index("critical_path")
    cp = fig.data[metas.index("critical_path")]
    rows = tk.waterfall_data(running)
    pay_row = int(rows.index[rows["span_id"] == f"{3:016x}"][0])
    # the section drawn on pay's row is the critical path tk computes for it: 40 ms to the trace end (100 ms)
    truth = tk.critical_path(running)
    sec = truth[truth["span_id"] == f"{3:016x}"]
    want = ((sec["start"].iloc[0].value / MS), (sec["end"].iloc[0].value / MS))
    got = [(float(b), float(b + x)) for yy, b, x in zip(cp.y, cp.base, cp.x, strict=True) if int(yy) == pay_row]
    assert got == [want] == [(40.0, 100.0)]


_TOP_OVER_CP = """() => {
  const gd = document.querySelector('.js-plotly-plot');
  const paths = [...gd.querySelectorAll('g.trace.bars path')].map(p => ({meta: p.closest('g.trace.bars').__data__[0].trace.meta,
      bb: p.getBoundingClientRect(), fill: getComputedStyle(p).fill, op: +getComputedStyle(p).fillOpacity}));
  const painted = q => q.op > 0 && q.fill !== 'none' && !/rgba\\(0, 0, 0, 0\\)/.test(q.fill);
  return paths.filter(q => q.meta === 'critical_path' && q.bb.width > 0).map(c => {
    const x = c.bb.x + c.bb.width / 2, y = c.bb.y + c.bb.height / 2;
    const over = paths.filter(q => painted(q) && q.bb.x <= x && x <= q.bb.right && q.bb.y <= y && y <= q.bb.bottom);
    return over[over.length - 1].meta; }); }"""


@pytest.mark.browser
def test_critical_path_of_a_running_span_is_on_top_in_the_browser(tmp_path, running):
    """In headless Chromium the topmost painted bar at the middle of the running span's critical-path section was the
    in-progress hatch (SVG paints in document order); every critical-path bar is now the topmost at its middle."""
    from .browser import open_html

    path = tmp_path / "wf.html"
    path.write_text(tk.plot_waterfall(running, critical_path=True).to_html(include_plotlyjs=True), encoding="utf-8")
    page = open_html(path, wait_for=".js-plotly-plot .bars path", evaluate=_TOP_OVER_CP)
    assert page.errors == []
    assert len(page.value) == 4 and set(page.value) == {"critical_path"}, page.value  # GET / (two), db and pay


# ---- 3. more services than colours: the services one figure draws are told apart -------------------------------

def _colliding_services():
    """30 services svc-00..svc-29, three of which (found here, not assumed) share a palette colour in the frame's
    colouring; those three are the busiest (20 requests each, the others 3)."""
    from tracekit.plotting import service_colors

    names = [f"svc-{i:02d}" for i in range(30)]
    by_color: dict = {}
    for s, c in service_colors(names).items():
        by_color.setdefault(c, []).append(s)
    same = max(by_color.values(), key=len)
    assert len(same) >= 2  # 30 names on 20 colours: some share one
    cols = {k: [] for k in ("trace_id", "span_id", "parent_id", "service", "name", "start", "end", "status")}
    k = 0
    for s in names:
        for t in range(20 if s in same else 3):
            k += 1
            cols["trace_id"].append(f"{k:032x}")
            cols["span_id"].append(f"{k:016x}")
            cols["parent_id"].append(None)
            cols["service"].append(s)
            cols["name"].append("op")
            cols["start"].append(t * 10_000_000_000 + k * 1000)
            cols["end"].append(t * 10_000_000_000 + k * 1000 + (5 + k % 7) * MS)
            cols["status"].append("ok")
    return tk.spans_from_columns(cols), same


def _legend_colors(fig, pick) -> dict:
    out: dict = {}
    for t in fig.data:
        if pick(t):
            out[t.name] = t.line.color if t.type == "scatter" and t.mode and "lines" in t.mode else t.marker.color
    return out


def test_timeline_lines_of_colliding_services_differ():
    """A frame of 30 services: the timeline by service drew its 8 busiest, and three of them (sharing a palette slot
    in the frame's colouring) in one colour, the legend their only key. Every line drawn now has its own colour."""
    spans, same = _colliding_services()
    fig = tk.plot_timeline(spans, "1min", by="service")
    colors = _legend_colors(fig, lambda t: isinstance(t.meta, dict) and t.meta.get("metric") == "requests"
                            and t.meta.get("role") == "value")
    assert set(same) <= set(colors)  # the busiest are drawn
    assert len(set(colors.values())) == len(colors), colors


def test_latency_lines_of_colliding_services_differ():
    """plot_latency by service drew the same three services in one colour."""
    spans, same = _colliding_services()
    fig = tk.plot_latency(spans, by="service")
    colors = {t.name: t.line.color for t in fig.data if t.name in set(same) | {f"svc-{i:02d}" for i in range(30)}}
    drawn = {k: v for k, v in colors.items() if v is not None}
    assert set(same) <= set(drawn)
    assert len(set(drawn.values())) == len(drawn), drawn


def test_waterfall_legend_of_colliding_services_differs():
    """A trace calling the three colliding services of a 30-service frame: its waterfall's legend gave two of them one
    colour (the bars too). The services of one waterfall now have a colour each."""
    spans, same = _colliding_services()
    rows = [(1, None, "api", "GET /", 0, 100, "ok")] + [(i + 2, 1, s, "op", 10 * i, 10 * i + 5, "ok")
                                                          for i, s in enumerate(same)]
    trace = _frame(rows)
    # the trace inside the 30-service frame (its colours are the frame's)
    frame = pd.concat([spans, trace], ignore_index=True)
    fig = tk.plot_waterfall(frame, "ab" * 16)
    legend = {t.name: t.marker.color for t in fig.data if t.meta == "legend"}
    assert set(same) <= set(legend)
    assert len(set(legend.values())) == len(legend), legend
    # the bars are the legend's colours
    bars = dict(zip(tk.waterfall_data(frame, "ab" * 16)["service"], tk.plotting.bar_colors(fig.data[0]), strict=True))
    assert all(bars[s] == legend[s] for s in legend)


def test_explorer_waterfall_of_colliding_services_differs():
    """The explorer coloured its waterfall by the frame's 30 services alone: two services of the trace one colour."""
    from tracekit.widgets import ExplorerState

    spans, same = _colliding_services()
    trace = _frame([(1, None, "api", "GET /", 0, 100, "ok")] + [(i + 2, 1, s, "op", 10 * i, 10 * i + 5, "ok")
                                                                for i, s in enumerate(same)])
    s = ExplorerState.from_spans(pd.concat([spans, trace], ignore_index=True), trace_id="ab" * 16)
    legend = {t.name: t.marker.color for t in s.figure().data if t.meta == "legend"}
    assert set(same) <= set(legend) and len(set(legend.values())) == len(legend), legend


# ---- 4. a span of zero duration --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def zero():
    """GET / (0..100 ms) -> cache hit (30..30 ms: zero duration), db (40..60 ms)."""
    return _frame([(1, None, "api", "GET /", 0, 100, "ok"), (2, 1, "cache", "hit", 30, 30, "ok"),
                   (3, 1, "db", "query", 40, 60, "ok")])


def _hoverable_points(fig) -> list[tuple[float, int, str]]:
    """(x, y, hover) of every point of a hoverable trace that is not a bar (a bar of no width has no area)."""
    out = []
    for t in fig.data:
        if t.type == "bar" or t.hoverinfo == "skip" or t.x is None or t.hovertext is None:
            continue
        out += [(float(x), int(y), str(h)) for x, y, h in zip(t.x, t.y, t.hovertext, strict=True) if x is not None]
    return out


def test_zero_duration_span_has_a_hoverable_mark(zero):
    """A span of zero duration was a bar of no width: nothing drawn and nothing to hover or click (only its '0.0 ms'
    text beside nothing, and no text at all past 150 rows). A mark at its start carries its hover."""
    fig = tk.plot_waterfall(zero)
    rows = tk.waterfall_data(zero)
    row = int(rows.index[rows["span_id"] == f"{2:016x}"][0])
    marks = [(x, y) for x, y, h in _hoverable_points(fig) if f"span {2:016x}" in h]
    assert marks == [(30.0, row)]
    # only the zero-duration span gets one
    assert all(f"span {2:016x}" in h for _x, _y, h in _hoverable_points(fig) if "span " in h)


@pytest.mark.browser
def test_zero_duration_span_hovers_in_the_browser(tmp_path, zero):
    """In headless Chromium the pointer on the zero-duration span's start showed no hover box (the db span's, the
    control, did)."""
    from .browser import open_html

    path = tmp_path / "wf.html"
    path.write_text(tk.plot_waterfall(zero).to_html(include_plotlyjs=True), encoding="utf-8")
    js = """async () => { const gd = document.querySelector('.js-plotly-plot'); const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
      const bb = gd.querySelector('.nsewdrag').getBoundingClientRect(); const out = [];
      for (const [x, y] of [[50, 2], [30, 1]]) {
        const ev = {bubbles: true, clientX: bb.x + xa.l2p(x), clientY: bb.y + ya.l2p(y)};
        gd.querySelector('.nsewdrag').dispatchEvent(new MouseEvent('mousemove', ev));
        await new Promise(r => setTimeout(r, 300));
        out.push([...document.querySelectorAll('.hoverlayer .hovertext')].map(h => h.textContent).join(' | '));
        Plotly.Fx.unhover(gd); }
      return out; }"""
    page = open_html(path, wait_for=".js-plotly-plot .bars path", evaluate=js)
    assert page.errors == []
    control, hit = page.value
    assert control.startswith("db: query"), control
    assert hit.startswith("cache: hit"), hit


def test_explorer_clicks_a_zero_duration_span(zero):
    """The explorer listened to clicks on the bars only: a span of zero duration could not be opened. A click on its
    mark selects it."""
    from plotly.callbacks import Points

    ex = tk.TraceExplorer(zero)
    ticks = [t for t in ex.figure.data if t.meta == "instant"]
    assert len(ticks) == 1
    ticks[0]._dispatch_on_click(Points(point_inds=[0], xs=[30.0], ys=[int(ticks[0].y[0])], trace_name="zero duration",
                                       trace_index=list(ex.figure.data).index(ticks[0])), None)
    assert ex.state.span_id == f"{2:016x}"
    assert "hit" in ex.state.details_html()


# ---- 5. the flame graph's hover says per what and of how many ----------------------------------------------------

def test_flame_hover_says_self_per_request_and_of_how_many_requests():
    """The flame graph's hover said 'total 80.0 ms per request', then 'self 20.0 ms' (per request too, unsaid) and
    'on the path in 3 requests' (of how many, unsaid). Three requests of which two call 'slow': its node is on the path
    in 2 of 3 requests, self 2 x 40 ms over 3 requests = 26.7 ms per request."""
    rows = []
    for t in range(3):
        rows += [(10 * t + 1, None, "api", "GET /", 1000 * t, 1000 * t + 100, "ok")]
        if t < 2:
            rows += [(10 * t + 2, 10 * t + 1, "db", "slow", 1000 * t + 20, 1000 * t + 60, "ok")]
    cols = {k: [] for k in ("trace_id", "span_id", "parent_id", "service", "name", "start", "end", "status")}
    for sid, pid, svc, nm, s, e, st in rows:
        for k, v in zip(cols, (f"{sid // 10 + 1:032x}", f"{sid:016x}", None if pid is None else f"{pid:016x}", svc, nm,
                               s * MS, e * MS, st), strict=True):
            cols[k].append(v)
    spans = tk.spans_from_columns(cols)
    tree = tk.critical_path_tree(tk.critical_path(spans), spans=spans)
    fig = tk.plot_flame(tree)
    tpl, custom = fig.data[0].hovertemplate, fig.data[0].customdata
    i = [k for k, lab in enumerate(fig.data[0].labels) if lab == "db: slow"][0]
    text = tpl
    for k in range(len(custom[i])):
        text = text.replace(f"%{{customdata[{k}]}}", str(custom[i][k]))
    assert f"self {2 * 40 / 3:.1f} ms per request" in text, text
    assert "on the path in 2 of 3 requests" in text, text


# ---- 6. the waterfall's hover says a span's self time, as a part of its duration ---------------------------------

def test_waterfall_hover_says_self_time_of_duration():
    """The waterfall's hover said a span's start and duration but not its self (exclusive) time, the number a waterfall
    is read for. GET / (0..100 ms) calls q1 (10..40), q2 (20..50) and charge (60 ms.., still running: it counts to its
    parent's end, core.tree.self_ns): its children cover 10..50 and 60..100, so its self time is 20 ms of 100 ms (a sum
    of the children would say none); q1 and q2 are all self; the running span's is unknown."""
    spans = _frame([(1, None, "api", "GET /", 0, 100, "ok"), (2, 1, "db", "q1", 10, 40, "ok"), (3, 1, "db", "q2", 20, 50, "ok"),
                    (4, 1, "pay", "charge", 60, None, "unset")])
    w = tk.waterfall_data(spans).set_index("span_id")["hover"]
    assert f"self {100 - (50 - 10) - (100 - 60):.1f} ms of 100.0 ms" in w[f"{1:016x}"]
    assert "self 30.0 ms of 30.0 ms" in w[f"{2:016x}"] and "self 30.0 ms of 30.0 ms" in w[f"{3:016x}"]
    assert "self unknown (in progress)" in w[f"{4:016x}"]
