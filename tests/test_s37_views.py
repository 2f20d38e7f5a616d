"""Review s37, what users see: the command line's words on stderr, the text plotly draws, the report's figures and
the TraceExplorer's model, on inputs whose truth is known by construction (a baseline too small for the incident,
names with quotes and of 10 KB, ...). One test per defect found; each failed on the code before its fix."""

from __future__ import annotations

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
