"""``tracekit query FILE 'QUERY'``: prints the traces a TraceQL query matches."""

from __future__ import annotations

import re

import tracekit as tk
from tracekit.cli import main
from tracekit.examples import path as example_path


def test_query_prints_each_matching_trace_and_span(capsys):
    f = example_path("checkout-small-otlp")
    spans = tk.read(f)
    q = '{ resource.service.name = "checkout" } >> { status = error }'
    assert main(["query", str(f), q, "--limit", "0"]) == 0
    out = capsys.readouterr().out
    # ground truth by walking parent ids: error spans under a checkout span
    parent = dict(zip(spans["span_id"], spans["parent_id"], strict=True))
    service = dict(zip(spans["span_id"], spans["service"], strict=True))

    def under_checkout(sid):
        p = parent.get(sid)
        while isinstance(p, str):
            if service.get(p) == "checkout":
                return True
            p = parent.get(p)
        return False

    want = spans[(spans["status"] == "error") & spans["span_id"].map(under_checkout)]
    printed = set(re.findall(r"^trace ([0-9a-f]{32}): (\d+) span", out, re.M))
    assert printed == {(t, str(n)) for t, n in want.groupby("trace_id").size().items()}
    assert out.count("[") == len(want)  # one line per matching span, with [kind, status]
    assert out.splitlines()[0].startswith(f"{want['trace_id'].nunique()} traces, {len(want)} spans matched")


def test_bad_query_is_one_error_with_a_caret_and_no_file_read(capsys, tmp_path):
    rc = main(["query", str(tmp_path / "absent.json"), "{ .a == 1 }"])
    err = capsys.readouterr().err
    assert rc == 1
    assert "position 7" in err and "Traceback" not in err
    lines = err.splitlines()
    assert lines[-2].strip() == "{ .a == 1 }" and lines[-1].index("^") == lines[-2].index("{") + 6


def test_metrics_query_prints_the_series(capsys):
    f = example_path("checkout-small-otlp")
    spans = tk.read(f)
    assert main(["query", str(f), "{ } | count_over_time() by (resource.service.name)", "--step", "1d"]) == 0
    out = capsys.readouterr().out
    for service, n in spans["service"].value_counts().items():
        assert re.search(rf"\b{re.escape(service)}\s+{n}\.0\b", out), service


def test_query_needs_a_query(capsys):
    assert main(["query", "only-a-file.json"]) == 1
    assert "give the trace files, then the TraceQL query" in capsys.readouterr().err
