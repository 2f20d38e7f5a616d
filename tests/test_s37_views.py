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
