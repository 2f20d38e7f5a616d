"""Round s39, area "roots": a trace's request root, its request and its extent (core.tree, core.outcomes'
trace_outcomes / request_ms / extent_ms, the postmortem's count of roots, the CLI summary and the report that read them).

Each test builds its case by construction (or reads the real public traces in ../shared/real-traces, skipping where
the folder is absent) and checks the numbers and words against what was built:

- one root span given twice (the same span id: exports read together, as otel-contrib's X-Ray test files) was said as
  "holds more than one root span, 2 roots in it";
"""

from __future__ import annotations

import warnings

import pandas as pd

import tracekit as tk

MS = 1_000_000
T0 = 1_700_000_000 * 10**9
A, B, C = "a" * 16, "b" * 16, "c" * 16


def _spans(rows, **extra) -> pd.DataFrame:
    """Spans from (trace_id, span_id, parent_id, start ns, end ns) rows, service api, name GET /."""
    cols = {k: [r[i] for r in rows] for i, k in enumerate(("trace_id", "span_id", "parent_id", "start", "end"))}
    cols.update(service=["api"] * len(rows), name=["GET /"] * len(rows), **extra)
    return tk.spans_from_columns(cols)


def _what(spans: pd.DataFrame) -> tuple[str, dict]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = next(f for f in tk.postmortem(spans, n_boot=20).findings if f.topic == "what")
    return f.text, f.evidence


# ------------------------------------------------------------------ a root span given twice is one root, not two

def test_a_root_span_given_twice_is_one_root_said_as_a_repeated_record():
    one = [("1" * 32, A, None, T0, T0 + 10 * MS), ("1" * 32, B, A, T0 + MS, T0 + 5 * MS)]
    text, ev = _what(_spans(one + one))  # the same trace read from two exports
    assert "more than one root span" not in text and "traces_with_several_roots" not in ev, text
    assert "the root span of 1 trace of 1 is in the data more than once: 2 records of 1 span" in text, text
    assert ev["traces_with_repeated_root"] == 1 and ev["repeated_root_records"] == 2
    assert ev["requests"] == 1
    # two distinct roots in one trace are still two
    two = one + [("1" * 32, C, None, T0 + 2 * MS, T0 + 3 * MS)]
    text, ev = _what(_spans(two))
    assert "1 trace of 1 holds more than one root span, 2 roots in it" in text, text
    assert "traces_with_repeated_root" not in ev


def test_otel_contrib_xray_files_read_together_hold_no_trace_of_several_roots(real_traces):
    folder = real_traces / "otel-contrib-awsxray-testdata"
    files = [folder / f for f in ("serverSample.txt", "awsValidAwsFields.txt", "awsMissingAwsField.txt")]
    spans = tk.read(files)  # one segment (bda182a644eee9b3) in three files: three records of one root
    assert spans["span_id"].tolist() == ["bda182a644eee9b3"] * 3
    text, ev = _what(spans)
    assert "more than one root span" not in text, text
    assert ev["traces_with_repeated_root"] == 1 and ev["repeated_root_records"] == 3, text
