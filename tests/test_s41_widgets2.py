"""Review s41 'widgets2': what a user sees in Jupyter (tracekit/widgets.py, tracekit/plotting/*).

Long names on legends, panel titles and tick labels; the canvas waterfall's words; the explorer's title. Truth is
built by construction: small frames whose names, durations and counts are chosen here.
"""

from __future__ import annotations

import pandas as pd
import pytest

import tracekit as tk
from tracekit.plotting.colors import LABEL_CHARS

LONG = "svc-" + "L" * 1000          # a 1,004-character service name
KEY = "K" * 500                     # a 500-character attribute key
OP = "Q" * 1000                     # a 1,000-character operation


@pytest.fixture(scope="module")
def long_spans():
    """12 traces api -> LONG (operation OP); attribute KEY on the LONG spans, 'slow' on the first 4 traces."""
    cols = {k: [] for k in ("trace_id", "span_id", "parent_id", "service", "name", "start", "end", "status",
                            "attributes")}
    for t in range(12):
        t0 = t * 20_000_000_000  # a trace every 20 s
        for j, (svc, nm) in enumerate((("api", "GET /"), (LONG, OP))):
            cols["trace_id"].append(f"{t + 1:032x}")
            cols["span_id"].append(f"{2 * t + j + 1:016x}")
            cols["parent_id"].append(None if j == 0 else f"{2 * t + 1:016x}")
            cols["service"].append(svc)
            cols["name"].append(nm)
            cols["start"].append(t0 + j * 1_000_000)
            cols["end"].append(t0 + (20 - 5 * j + t) * 1_000_000)
            cols["status"].append("ok")
            cols["attributes"].append({KEY: "slow" if t < 4 else "fast"} if j else {})
    return tk.spans_from_columns(cols)


def _legend_names(fig) -> list[str]:
    return [t.name for t in fig.data if t.name and t.showlegend is not False]


@pytest.mark.parametrize("figure", ["latency", "ecdf", "timeline", "waterfall"])
def test_a_long_service_name_is_cut_on_the_legend(long_spans, figure):
    """plotly sizes the plot by its legend: a 1,004-character service name left the latency histogram's plot 60 of
    1,300 px wide in headless Chromium (the timeline's the same; the waterfall's legend a 1,300 px line). Each legend
    entry now names the service cut to LABEL_CHARS (its start and end kept)."""
    fig = {"latency": lambda: tk.plot_latency(long_spans, by="service"),
           "ecdf": lambda: tk.plot_latency_ecdf(long_spans, by="service"),
           "timeline": lambda: tk.plot_timeline(long_spans, "1min", by="service"),
           "waterfall": lambda: tk.plot_waterfall(long_spans, f"{1:032x}")}[figure]()
    names = _legend_names(fig)
    long_ones = [n for n in names if n.startswith("svc-L")]
    assert long_ones, names  # the long service has its entry
    # the name itself is at most LABEL_CHARS; the ECDF's entry adds ' · incident (n=…, p50 …, p95 …)' after it
    svc = [n.split(" · ")[0].split(" (n=")[0] for n in names]
    assert all(len(n) <= LABEL_CHARS and "…" in n and n.endswith("L") for n in svc if n.startswith("svc-L"))
    assert "api" in svc  # a short name is whole


def test_trace_diff_labels_are_cut(long_spans):
    """plot_trace_diff drew each row's 'service: operation' whole as its tick label (2,013 characters: the bars 60
    of 1,300 px wide in Chromium); now the name is cut to LABEL_CHARS and the rows stay apart."""
    d = tk.diff_traces(long_spans, f"{1:032x}", f"{2:032x}")
    fig = tk.plot_trace_diff(d)
    labels = list(fig.data[0].y)
    assert len(labels) == len(d) == 2 and len(set(labels)) == 2
    assert max(len(y) for y in labels) <= LABEL_CHARS + 10  # '   1 ' + one indent + the cut name
    assert labels[1].rstrip().endswith("Q") and "svc-L" in labels[1] and "…" in labels[1]
    assert max(len(h) for h in fig.data[1].text) < 400


def test_bubble_up_panel_titles_of_a_long_key_are_cut(long_spans):
    """A 500-character attribute key was printed whole as its panel's title and along its y axis (over the panels
    under it and off the page); now the title is cut to LABEL_CHARS and the upright axis title to 24."""
    sel = [f"{t + 1:032x}" for t in range(4)]
    hits = tk.bubble_up(long_spans, sel)
    assert KEY in set(hits["dimension"])  # the long key is a dimension of the result
    fig = tk.plot_bubble_up(hits)
    titles = [a.text for a in fig.layout.annotations]
    k_titles = [t for t in titles if t.startswith("KKK")]
    assert len(k_titles) == 1 and len(k_titles[0].rstrip(" *")) <= LABEL_CHARS
    axis_titles = [fig.layout[k].title.text for k in fig.layout if k.startswith("yaxis") and fig.layout[k].title.text]
    assert axis_titles and max(len(t) for t in axis_titles) <= 24
    assert any(t.startswith("KKK") for t in axis_titles)


# ---- the canvas waterfall's words: the one duration rule ------------------------------------------------------------
_VALUES = [0.00004, 0.0008, 0.004, 0.0996, 0.12, 0.125, 0.5, 0.996, 1.0, 7.0, 40.25, 1234.5, 1e6, 0.0, -0.004, -2.5]

_CANVAS_WORDS = """() => {
  const w = Object.values(window.tkWaterfalls)[0];
  const out = {fmt: typeof w.fmt === 'function' ? VALUES.map(v => w.fmt(v)) : null, details: []};
  for (const i of [1, 2]) { w.select(i); out.details.push(document.querySelector('.tkw-details').textContent); }
  return out;
}""".replace("VALUES", repr(_VALUES))


@pytest.mark.browser
def test_canvas_waterfall_says_durations_by_the_one_rule(tmp_path):
    """The canvas waterfall (plot_waterfall above 5,000 rows, TraceExplorer above 2,000 spans) wrote its details pane
    and view range with toFixed(3): a 40 ns span's duration read 'duration: 0.000 ms' and an in-progress span's drawn
    duration read as exact. Now its words follow tracekit.core.words.ms_label (compared on 16 values in Chromium)
    and an in-progress duration is a lower bound ('≥'), as plot_waterfall's hover says."""
    from tracekit.core.words import ms_label

    from .browser import open_html

    spans = tk.spans_from_columns({
        "trace_id": ["ab" * 16] * 3, "span_id": ["a" * 16, "b" * 16, "c" * 16], "parent_id": [None, "a" * 16, "a" * 16],
        "service": ["api", "db", "api"], "name": ["GET /", "tiny", "open"],
        "start": [0, 1_000_000, 2_000_000], "end": [10_000_000, 1_000_040, None]})  # 'tiny' 40 ns; 'open' not ended
    path = tmp_path / "w.html"
    tk.plot_waterfall(spans, canvas_above=1).write_html(path)
    page = open_html(path, wait_for=".tkw canvas", evaluate=_CANVAS_WORDS)
    assert page.errors == []
    rows = tk.waterfall_data(spans)  # display order: GET /, tiny (starts first), open
    assert rows["name"].tolist() == ["GET /", "tiny", "open"]
    tiny, open_ = page.value["details"]
    assert "duration: 0.00004 ms" in tiny, tiny
    assert f"duration: ≥ {ms_label(rows['duration_ms'].iloc[2])}" in open_, open_
    assert page.value["fmt"] == [ms_label(v) for v in _VALUES]


# ---- the explorer's figure title --------------------------------------------------------------------------------------
def test_explorer_title_counts_the_spans_once_and_in_words():
    """ExplorerState.figure() titled a one-span trace 'trace … · 1 spans' over a header saying '1 span', and a
    folded trace of 23 spans '· 23 spans · 3 shown' over '23 spans, 3 shown'. The header line counts them (once, in
    words); the title names the trace."""
    from tracekit.widgets import ExplorerState

    one = tk.spans_from_columns({"trace_id": ["c" * 32], "span_id": ["1" * 16], "service": ["api"], "name": ["GET /"],
                                 "start": [0], "end": [1_000_000]})
    text = ExplorerState.from_spans(one).figure().layout.title.text
    assert "1 spans" not in text and text.count("1 span") == 1 and text.startswith("trace " + "c" * 32)
    n = 5  # a root with 4 children, folded to depth 0 by auto_fold=3: 1 of 5 shown
    chain = tk.spans_from_columns({"trace_id": ["d" * 32] * n, "span_id": [f"{i + 1:016x}" for i in range(n)],
                                   "parent_id": [None] + [f"{1:016x}"] * (n - 1), "service": ["api"] * n,
                                   "name": ["op"] * n, "start": [i * 1000 for i in range(n)],
                                   "end": [10_000] + [i * 1000 + 500 for i in range(1, n)]})
    text = ExplorerState.from_spans(chain, auto_fold=3).figure().layout.title.text
    assert text.count("5 spans") == 1 and text.count("shown") == 1 and "5 spans, 1 shown" in text, text


# ---- a request whose root has not ended ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def open_request():
    """One request api (server, not ended) -> db (client, 1 µs .. 5 ms): trace_outcomes calls it a request with no
    latency yet (request True, request_ms NaN, in_progress True)."""
    return tk.spans_from_columns({
        "trace_id": ["ab" * 16] * 2, "span_id": ["a" * 16, "b" * 16], "parent_id": [None, "a" * 16],
        "service": ["api", "db"], "name": ["GET /", "q"], "kind": ["server", "client"],
        "start": [0, 1000], "end": [None, 5_000_000]})


def test_a_request_whose_root_has_not_ended_is_called_a_request(open_request):
    """The waterfall's header said 'not a request (asynchronous work)' of a server root still in progress, which
    trace_outcomes calls a request (request True) of unknown latency; the explorer's header the same; the ECDF of it
    said 'no request root: fragments only, or no spans' of a trace that has its root."""
    from tracekit.core import trace_outcomes
    from tracekit.widgets import ExplorerState

    o = trace_outcomes(open_request)
    assert bool(o["request"].iloc[0]) and bool(o["has_root"].iloc[0]) and pd.isna(o["request_ms"].iloc[0])
    heads = [tk.plot_waterfall(open_request).layout.title.text,
             ExplorerState.from_spans(open_request).figure().layout.title.text,
             ExplorerState.from_spans(open_request, canvas_above=0).figure_html()]
    for h in heads:
        assert "not a request" not in h and "request latency unknown: the request root has not ended" in h
    said = [a.text for a in tk.plot_latency_ecdf(open_request).layout.annotations if a.name == "empty"]
    assert said == ["no request with a positive latency to draw (1 trace whose request root has not ended)"]
    rootless = open_request.iloc[1:]  # db's span alone: its parent is not in the frame
    said = [a.text for a in tk.plot_latency_ecdf(rootless).layout.annotations if a.name == "empty"]
    assert said == ["no request with a positive latency to draw (1 trace of fragments only, without a request root)"]


def test_service_map_counts_one_call_in_the_singular(open_request):
    """An edge of one call was labelled '1 calls'; now '1 call' (core.words.plural), '2 calls' as before."""
    fig = tk.plot_service_graph(tk.service_graph(open_request))
    labels = [a.text for a in fig.layout.annotations if a.name == "edge_label"]
    assert labels and labels[0].startswith("1 call<br>")
    two = pd.concat([open_request, open_request.assign(trace_id="cd" * 16)], ignore_index=True)
    labels = [a.text for a in tk.plot_service_graph(tk.service_graph(two)).layout.annotations if a.name == "edge_label"]
    assert labels and labels[0].startswith("2 calls<br>")


# ---- the explorer's arguments ------------------------------------------------------------------------------------------
def test_explorer_refuses_bad_arguments_when_given_naming_them():
    """A trace or span not in the explorer was a TraceKitError (plot_waterfall says ArgumentError of the same trace);
    click('x') a bare ValueError; with_max_depth(-1) returned a state that raised only when drawn, after the widget
    had taken it; with_filter(only_traces=<one id>) iterated the id's characters ("not a trace id: 'a'")."""
    from tracekit.widgets import ExplorerState

    spans = tk.spans_from_columns({
        "trace_id": ["a" * 32, "a" * 32, "b" * 32], "span_id": ["1" * 16, "2" * 16, "3" * 16],
        "parent_id": [None, "1" * 16, None], "service": ["api", "db", "api"], "name": ["GET /", "q", "GET /x"],
        "start": [0, 1_000_000, 0], "end": [9_000_000, 8_000_000, 2_000_000]})
    s = ExplorerState.from_spans(spans)
    with pytest.raises(tk.ArgumentError, match="select_trace: trace_id 'f+' is not in the explorer's spans"):
        s.select_trace("f" * 32)
    with pytest.raises(tk.ArgumentError, match="select_span: span_id 'zz'"):
        s.select_span("zz")
    for bad in ("x", True, 1.5):
        with pytest.raises(tk.ArgumentError, match="click: row"):
            s.click(bad)
    assert s.click(1).span_id == "2" * 16 and s.click(5) is s  # a row past the figure: nothing changes
    with pytest.raises(tk.ArgumentError, match="with_max_depth: max_depth"):
        s.with_max_depth(-1)
    assert s.with_max_depth(0).waterfall()["span_id"].tolist() == ["1" * 16]
    only = s.with_filter(only_traces="b" * 32)
    assert only.trace_table()["trace_id"].tolist() == ["b" * 32] and only.trace_id == "b" * 32


# ---- titles: the heatmap's key in words, the flame graphs' titles escaped --------------------------------------------
def test_heatmap_title_says_its_keys_in_words_and_cuts_a_long_value(long_spans):
    """plot_heatmap's title printed Python's reprs for a key of several columns ("(['service', 'name']=('api',
    'GET /'))") and a 1,004-character key value whole (a 1,040-character title)."""
    # (the first line; the second says the population and window, session 42: 12 requests, one every 20 s from 00:00)
    two = tk.plot_heatmap(long_spans, by=["service", "name"], key=("api", "GET /")).layout.title.text
    assert two == "request latency over time (service=api, name=GET /)<br><sup>12 requests, 00:00:00–00:03:40 UTC, columns of 1 min</sup>"
    assert tk.plot_heatmap(long_spans, by=["service", "name"]).layout.title.text.split("<br>")[0] == \
        "request latency over time (by service · name)"
    long_ = tk.plot_heatmap(long_spans, by="service", key=LONG).layout.title.text.split("<br>")[0]
    assert len(long_) < 120 and "service=svc-L" in long_ and "…" in long_
    assert tk.plot_heatmap(long_spans, by="service", key=LONG).data  # the key's requests are drawn


def test_flame_and_trace_diff_titles_are_escaped(long_spans):
    """Every plot_* escapes its title but plot_flame, plot_flame_diff and plot_trace_diff: a title given as
    '<b>x</b>' was drawn bold (plotly's subset of HTML) instead of as written."""
    cp = tk.critical_path(long_spans)
    title = "<b>x</b> & y"
    figs = [tk.plot_flame(tk.critical_path_tree(cp, spans=long_spans), title=title),
            tk.plot_flame_diff(tk.critical_path_tree_diff(cp, cp, n_boot=0), title=title),
            tk.plot_trace_diff(tk.diff_traces(long_spans, f"{1:032x}", f"{2:032x}"), title=title)]
    assert [f.layout.title.text for f in figs] == ["&lt;b&gt;x&lt;/b&gt; &amp; y"] * 3


# ---- the explorer's details pane ---------------------------------------------------------------------------------------
def test_details_pane_says_durations_in_words(open_request):
    """The details pane wrote span_details' numbers raw: a span still in progress read 'duration_ms: null' (JSON's
    None) and a 4.99904 ms span '4.99904', where the waterfall's hover of the same span says '5.0 ms'. Now by the one
    duration rule (core.words.ms_label), and a duration without an end says why it is unknown."""
    import re

    from tracekit.core.words import ms_label
    from tracekit.widgets import ExplorerState

    s = ExplorerState.from_spans(open_request)
    text = [re.sub(r"<[^>]+>", " ", s.click(r).details_html()) for r in (0, 1)]
    assert "null" not in text[0] and re.search(r"duration_ms\s+unknown: the span is still in progress", text[0])
    dur = float(open_request["duration_ms"].iloc[1])  # 1 µs .. 5 ms: 4.999 ms
    assert re.search(r"duration_ms\s+" + re.escape(ms_label(dur)) + r"\s", text[1]), text[1]
    assert re.search(r"start_ms\s+" + re.escape(ms_label(0.001)) + r"\s", text[1]), text[1]
    assert s.click(0).span_details()["header"]["duration_ms"] is None  # the data stays plain


_CANVAS_LABELS = """() => {
  const w = Object.values(window.tkWaterfalls)[0], texts = [];
  const orig = CanvasRenderingContext2D.prototype.fillText;
  CanvasRenderingContext2D.prototype.fillText = function (t, ...rest) { texts.push(String(t)); return orig.call(this, t, ...rest); };
  const v = w.view();
  w.setView(v.x0, v.x1, 0, 60);  // every row in view, 11.7 px each: labelled
  CanvasRenderingContext2D.prototype.fillText = orig;
  return texts.filter(t => t.includes("op"));
}"""


@pytest.mark.browser
def test_canvas_waterfall_says_the_depth_of_a_deep_row(tmp_path):
    """The canvas indented a row by at most 40 levels and said nothing more: in a chain of 60 spans the span 59 deep
    was drawn as one 40 deep. Now a row deeper than 40 levels starts '[depth N]' (as waterfall_data's labels do
    past 64)."""
    from .browser import open_html

    n = 60  # a chain: span i is the child of span i-1, so its depth is i
    spans = tk.spans_from_columns({
        "trace_id": ["ab" * 16] * n, "span_id": [f"{i + 1:016x}" for i in range(n)],
        "parent_id": [None] + [f"{i:016x}" for i in range(1, n)], "service": ["api"] * n,
        "name": [f"op{i}" for i in range(n)], "start": [i * 1000 for i in range(n)], "end": [10**7 - i for i in range(n)]})
    assert tk.waterfall_data(spans)["depth"].tolist() == list(range(n))
    path = tmp_path / "w.html"
    tk.plot_waterfall(spans, canvas_above=1).write_html(path)
    page = open_html(path, wait_for=".tkw canvas", evaluate=_CANVAS_LABELS)
    assert page.errors == [] and len(page.value) == n  # one label a row
    top, d40, d41, d59 = (page.value[i] for i in (0, 40, 41, 59))
    assert top == "op0" and d40 == "\u00a0" * 80 + "op40"
    assert d41 == "\u00a0" * 80 + "[depth 41] op41" and d59 == "\u00a0" * 80 + "[depth 59] op59"


def test_explorer_lists_a_request_whose_root_has_not_ended_as_in_progress(open_request):
    """The trace list said 'no request' of a request whose root has not ended (trace_outcomes: request True, latency
    unknown); a trace without a root still says 'no request'."""
    both = pd.concat([open_request, open_request.iloc[1:].assign(trace_id="cd" * 16)], ignore_index=True)
    labels = {v: k for k, v in tk.TraceExplorer(both).traces.options}
    assert labels["ab" * 16].split()[:2] == ["in", "progress"]
    assert labels["cd" * 16].split()[:2] == ["no", "request"]
