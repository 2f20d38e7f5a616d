"""Review s37, what users see: the command line's words on stderr, the text plotly draws, the report's figures and
the TraceExplorer's model, on inputs whose truth is known by construction (a baseline too small for the incident,
names with quotes and of 10 KB, ...). One test per defect found; each failed on the code before its fix."""

from __future__ import annotations

import pandas as pd
import pytest

import tracekit as tk
from tracekit.cli import main


@pytest.fixture(scope="module")
def small_baseline_files(tmp_path_factory):
    """An incident of 120 requests (a deploy adds a slow call) and a baseline of 10 requests of the same shop: more
    than 3 incident traces per baseline trace and under 100 baseline traces, so too small for a conclusion by
    construction (analysis.baseline_check.baseline_too_small)."""
    d = tmp_path_factory.mktemp("small-baseline")
    tk.write_otlp(tk.simulate.simulate("slow-deploy", 120, seed=1).spans, d / "incident.json")
    tk.write_otlp(tk.simulate.simulate("baseline", 10, seed=2).spans, d / "baseline.json")
    return d


def test_cli_says_a_too_small_baseline_on_stderr_in_the_reports_words(small_baseline_files, capsys):
    """It said a mismatched baseline on stderr but not one too small, which the report puts first."""
    d = small_baseline_files
    out = d / "r.html"
    assert main(["report", str(d / "incident.json"), "--baseline", str(d / "baseline.json"), "-o", str(out),
                 "--no-progress"]) == 0
    err = capsys.readouterr().err
    said = [line.removeprefix("tracekit report: warning: ") for line in err.splitlines()
            if line.startswith("tracekit report: warning: The baseline is too small")]
    assert len(said) == 1, err
    md = out.with_suffix(".md").read_text()
    assert said[0] in md  # the same sentence, from one place
    assert "its 10 traces against the incident's" in said[0]


# ---- plotly.js decodes no &quot;: a quote in a name was drawn as the 6 characters "&quot;" ----------------------------
QUOTED = 'pay"eu'  # a service name with a quote (as SQL span names carry: SELECT "users")


@pytest.fixture(scope="module")
def quoted_spans():
    """Two traces, api -> pay"eu: the quoted name is a service, an operation and a span's status message."""
    return tk.spans_from_columns({
        "trace_id": ["a" * 32, "a" * 32, "b" * 32, "b" * 32], "span_id": ["1" * 16, "2" * 16, "3" * 16, "4" * 16],
        "parent_id": [None, "1" * 16, None, "3" * 16], "service": ["api", QUOTED, "api", QUOTED],
        "name": ["GET /", 'SELECT "users"', "GET /", 'SELECT "users"'], "kind": ["server", "server"] * 2,
        "status": ["ok", "error", "ok", "ok"], "status_message": [None, 'no "row"', None, None],
        "start": [0, 1_000_000, 0, 1_000_000], "end": [9_000_000, 8_000_000, 5_000_000, 4_000_000]})


def _texts(fig) -> str:
    """Every text a plotly figure draws (trace names, labels, hover, tick labels, titles, annotations), joined."""
    j = fig.to_plotly_json()
    out = []

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

    walk(j["data"])
    walk(j["layout"])
    return "\n".join(out)


def test_plotly_text_keeps_quotes_as_plotly_draws_them(quoted_spans):
    """The waterfall (labels, hover), the flame graph and the critical-path breakdown drew 'pay&quot;eu' (plotly.js
    decodes &amp; &lt; &gt; and numeric entities, not &quot;: seen in headless Chromium); tags stay escaped."""
    figs = [tk.plot_waterfall(quoted_spans, "a" * 32, critical_path=True), tk.plot_flame(tk.critical_path_tree(tk.critical_path(quoted_spans))),
            tk.plot_critical_path_breakdown(tk.critical_path_breakdown(tk.critical_path(quoted_spans), by="service")),
            tk.plot_service_graph(tk.service_graph(quoted_spans))]
    for fig in figs:
        text = _texts(fig)
        assert "&quot;" not in text and "&#x27;" not in text
        assert QUOTED in text
    hover = "\n".join(tk.waterfall_data(quoted_spans, "a" * 32)["hover"])
    assert 'SELECT "users"' in hover and 'no "row"' in hover
    assert tk.core.words.plotly_text("<b>a</b> & \"q\"") == "&lt;b&gt;a&lt;/b&gt; &amp; \"q\""


# ---- long names: a 236-character SQL statement as an operation's name, a 10 KB service name ----------------------------
SQL = ("SELECT o.id, o.customer_id, o.status, o.total, o.created_at, o.updated_at, i.sku, i.qty, i.price FROM orders o "
       "JOIN order_items i ON i.order_id = o.id WHERE o.customer_id = ? AND o.status IN (?, ?, ?) AND o.created_at > ? "
       "ORDER BY o.created_at DESC LIMIT 50")
SQL2 = SQL.replace("o.total", "o.grand_total")  # alike at both ends: two operations, two bars
HUGE = "catalog-" + "c" * 10_240


@pytest.fixture(scope="module")
def long_names():
    """Three traces api -> db: the db spans named SQL, SQL2 and 'ping'; the third trace's db service is HUGE."""
    rows = [("a", "api", "GET /", None, 0, 9), ("b", "db", SQL, "a", 1, 8), ("c", "api", "GET /", None, 0, 7),
            ("d", "db", SQL2, "c", 1, 5), ("e", "api", "GET /", None, 0, 6), ("f", HUGE, "ping", "e", 1, 4)]
    tids = ["1" * 32, "1" * 32, "2" * 32, "2" * 32, "3" * 32, "3" * 32]
    return tk.spans_from_columns({
        "trace_id": tids, "span_id": [r[0] * 16 for r in rows],
        "parent_id": [r[3] * 16 if r[3] else None for r in rows], "service": [r[1] for r in rows],
        "name": [r[2] for r in rows], "kind": ["server"] * 6,
        "start": [r[4] * 1_000_000 for r in rows], "end": [r[5] * 1_000_000 for r in rows]})


def test_long_names_are_cut_on_labels_and_stay_apart(long_names):
    """The comparison and the critical-path breakdown drew each name whole as a tick label (236 characters: the bars
    60 of 1,100 px wide in Chromium, the service cut off the page; 10 KB: the same), the service map a 10 KB node label
    across the map and the waterfall a 10 KB label. Now each label is at most LABEL_CHARS (60) characters, with the
    start and the end kept, and two operations alike at both ends are still two bars."""
    from tracekit.plotting.colors import LABEL_CHARS

    def ticks(fig) -> list[str]:  # what plotly draws: the tick texts given, else the categories themselves
        ax = fig.layout.yaxis
        return list(ax.ticktext) if ax.ticktext is not None else list(dict.fromkeys(fig.data[0].y))

    cmp = tk.compare(long_names, long_names, by=["service", "name"])
    for fig in (tk.plot_compare(cmp),
                tk.plot_critical_path_breakdown(tk.critical_path_breakdown(tk.critical_path(long_names),
                                                                          by=["service", "name"]))):
        shown = ticks(fig)
        assert len(shown) == 4  # GET /, SQL, SQL2, ping: none merged
        assert max(len(t) for t in shown) <= LABEL_CHARS
        sql_ticks = [t for t in shown if t.startswith("db · SELECT")]
        assert len(sql_ticks) == 2 and all(t.endswith("LIMIT 50") for t in sql_ticks)
        assert len(set(fig.data[0].y)) == 4  # the categories stay the full names
    m = tk.plot_service_graph(tk.service_graph(long_names))
    labels = [a.text for a in m.layout.annotations if a.name == "node_label"]
    assert len(labels) == 3 and max(len(t) for t in labels) <= LABEL_CHARS
    w = tk.plot_waterfall(long_names, "3" * 32)
    assert max(len(t) for t in w.layout.yaxis.ticktext) < 200


# ---- tracekit query: "request nan ms" of a trace that is not a request ------------------------------------------------
T0 = 1_700_000_000 * 10**9


def test_query_says_why_a_trace_has_no_request_latency(tmp_path, capsys):
    """A queue consumer's own trace (its root a consumer span: asynchronous work, core.trace_outcomes' request False)
    was printed "root worker process, request nan ms"; a request (server root, 5 ms) keeps its latency."""
    spans = tk.spans_from_columns({
        "trace_id": ["a" * 32, "a" * 32, "b" * 32], "span_id": ["1" * 16, "2" * 16, "3" * 16],
        "parent_id": [None, "1" * 16, None], "service": ["worker", "worker", "api"],
        "name": ["process", "write", "GET /"], "kind": ["consumer", "internal", "server"],
        # at 2023-11-14, not the epoch: an OTLP start of 0 is proto3's unset start, unknown since s39
        "start": [T0 + x for x in (0, 1_000_000, 0)], "end": [T0 + x for x in (7_000_000, 3_000_000, 5_000_000)]})
    path = tmp_path / "spans.json"
    tk.write_otlp(spans, path)
    assert main(["query", str(path), "{ }"]) == 0
    lines = {line.split(":")[0]: line for line in capsys.readouterr().out.splitlines() if line.startswith("trace ")}
    assert "nan" not in lines[f"trace {'a' * 32}"]
    assert lines[f"trace {'a' * 32}"].endswith("root worker process, not a request (asynchronous work), "
                                               "trace extent 7.0 ms")
    assert lines[f"trace {'b' * 32}"].endswith("root api GET /, request 5.0 ms")


# ---- TraceExplorer: a filter that matches nothing ---------------------------------------------------------------------
def test_explorer_says_when_the_filters_match_no_trace():
    """A search matching no trace kept the trace selected before on screen (with_filter keeps it) and the status said
    "2 of 2 spans shown", as if it matched; the 'the filters leave none' words were never reached."""
    pytest.importorskip("ipywidgets")
    pytest.importorskip("anywidget")
    spans = tk.spans_from_columns({
        "trace_id": ["a" * 32, "a" * 32, "b" * 32], "span_id": ["1" * 16, "2" * 16, "3" * 16],
        "parent_id": [None, "1" * 16, None], "service": ["api", "db", "api"], "name": ["GET /", "query", "GET /x"],
        "start": [0, 1_000_000, 0], "end": [9_000_000, 8_000_000, 2_000_000]})
    ex = tk.TraceExplorer(spans)
    assert ex.status.value == "2 of 2 spans shown"
    ex._apply(ex.state.with_filter(search="no-such-operation"))
    assert ex.state.trace_table().empty and ex.state.trace_id == "a" * 32
    assert ex.status.value.startswith("no trace matches the filters")
    ex._apply(ex.state.with_filter(search="GET /x"))  # a match again: the list moves to it, the words go
    assert ex.state.trace_id == "b" * 32 and ex.status.value == "1 of 1 spans shown"


# ---- tracekit summary: sub-millisecond percentiles read "0.0" ---------------------------------------------------------
def test_summary_keeps_the_digits_of_sub_millisecond_latencies():
    """Jaeger's storage fixtures (real traces) hold requests of 1-7 µs: the summary said "p50 0.0", a latency of
    nothing. Three requests of 5, 5 and 120 µs: p50 0.005, p95 0.12; a 92 ms request still reads 92.0."""
    spans = tk.spans_from_columns({
        "trace_id": ["a" * 32, "b" * 32, "c" * 32], "span_id": ["1" * 16, "2" * 16, "3" * 16],
        "service": ["api"] * 3, "name": ["GET /"] * 3, "start": [0, 0, 0], "end": [5_000, 5_000, 120_000]})
    line = next(x for x in tk.format_summary(spans).splitlines() if x.startswith("request latency"))
    assert line.endswith("p50 0.005  p95 0.12  p99 0.12")
    slow = spans.assign(end=spans["start"] + pd.Timedelta(milliseconds=92))
    line = next(x for x in tk.format_summary(slow).splitlines() if x.startswith("request latency"))
    assert line.endswith("p50 92.0  p95 92.0  p99 92.0")


# ---- empty figures say why ----------------------------------------------------------------------------------------------
def test_empty_figures_say_why_and_titles_count_in_words():
    """On no spans, the comparison, the critical-path breakdown, the service map, the timeline and the attribution
    drew empty axes (or a white box) without a word, where the latency figures say "no ... to draw"; the map's title
    said "1 services, 1 call edges"."""
    e = tk.empty_spans()

    def said(fig) -> list[str]:
        return [a.text for a in fig.layout.annotations if a.name == "empty"]

    figs = {"compare": tk.plot_compare(tk.compare(e, e, by="service")),
            "breakdown": tk.plot_critical_path_breakdown(tk.critical_path_breakdown(tk.critical_path(e), by="service")),
            "map": tk.plot_service_graph(tk.service_graph(e)),
            "timeline": tk.plot_timeline(e, "1min"),
            "attribution": tk.plot_bubble_up(tk.bubble_up(e, set(), set()))}
    for name, fig in figs.items():
        assert len(said(fig)) == 1, name
    one = tk.spans_from_columns({"trace_id": ["a" * 32] * 2, "span_id": ["1" * 16, "2" * 16],
                                 "parent_id": [None, "1" * 16], "service": ["api", "db"], "name": ["GET /", "q"],
                                 "kind": ["server", "server"], "start": [0, 1_000_000], "end": [5_000_000, 4_000_000]})
    m = tk.plot_service_graph(tk.service_graph(one))
    # with the population and window the counts are of (session 42: the title said neither)
    assert m.layout.title.text == ("service map: 2 services, 1 call edge"
                                   "<br><sup>2 spans of 1 trace, 00:00:00.000–00:00:00.005 UTC</sup>") and not said(m)


# ---- tracekit query, a metrics query: the value's unit ------------------------------------------------------------------
def test_metrics_query_says_the_unit_of_its_values(tmp_path, capsys):
    """Three spans of 100, 200 and 300 ms: the p95 of span duration printed '0.3' under 'value', seconds with nothing
    saying so beside tracekit's milliseconds everywhere else; a rate printed without 'per second'."""
    spans = tk.spans_from_columns({
        "trace_id": ["a" * 32, "b" * 32, "c" * 32], "span_id": ["1" * 16, "2" * 16, "3" * 16],
        # a start at 2023-11-14, not 0: a start of 0 is OTLP's unset start, whose span has no duration (session 45)
        "service": ["api"] * 3, "name": ["GET /"] * 3, "start": [1_700_000_000_000_000_000] * 3,
        "end": [1_700_000_000_000_000_000 + d for d in (100_000_000, 200_000_000, 300_000_000)]})
    path = tmp_path / "spans.json"
    tk.write_otlp(spans, path)
    assert main(["query", str(path), "{ } | quantile_over_time(duration, .95)", "--step", "1min"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("value: quantile_over_time of span duration in each 1min bucket, in seconds")
    assert out[-1].split()[-1] == "0.3"  # 300 ms, in seconds: what the first line says
    assert main(["query", str(path), "{ } | rate()", "--step", "1min"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "value: matching spans per second, over each 1min bucket"
    assert float(out[-1].split()[-1]) == pytest.approx(3 / 60)


def test_explorer_lists_sub_millisecond_requests_with_their_digits():
    """The trace list of Jaeger's fixtures (requests of 1-7 µs) read '0.0 ms' on most rows, slowest first; a request
    of 5 µs and one of 120 µs now read 0.12 ms and 0.005 ms (core.words.ms_number, as tracekit summary)."""
    pytest.importorskip("ipywidgets")
    pytest.importorskip("anywidget")
    spans = tk.spans_from_columns({
        "trace_id": ["a" * 32, "b" * 32], "span_id": ["1" * 16, "2" * 16], "service": ["api"] * 2,
        "name": ["GET /"] * 2, "start": [0, 0], "end": [5_000, 120_000]})
    labels = [label.split(" ms")[0].strip() for label, _ in tk.TraceExplorer(spans).traces.options]
    assert labels == ["0.12", "0.005"]
