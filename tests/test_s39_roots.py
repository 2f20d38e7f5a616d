"""Round s39, area "roots": a trace's request root, its request and its extent (core.tree, core.outcomes'
trace_outcomes / request_ms / extent_ms, the postmortem's count of roots, the CLI summary and the report that read them).

Each test builds its case by construction (or reads the real public traces in ../shared/real-traces, skipping where
the folder is absent) and checks the numbers and words against what was built:

- one root span given twice (the same span id: exports read together, as otel-contrib's X-Ray test files) was said as
  "holds more than one root span, 2 roots in it";
- a start the OTLP reader flagged as unset (``startTimeUnixNano`` 0 or absent, loaded at 1970) was read as 1970: a
  100 ms request measured 1.7e12 ms ("p95 1,700,000,000 s"), the window "1970-01-01 00:00 – 2023-11-14 22:13 UTC",
  and Jaeger's GetTrace.json (no start, no end) "1 request in 00:00–n/a UTC";
- a later copy of a span exported twice stretched the trace extent (a trace exported again 30 min later: extent
  30 min beside a 100 ms request);
- a trace with a span still in progress has an extent to the last end so far, a lower bound, and nothing said so:
  trace_outcomes, the CLI summary and the report's example traces now do;
- a trace whose root names itself as its parent (a parent loop) was said as "only child spans were recorded or
  exported".
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

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


# ------------------------------------------------------------- an unset OTLP start is missing data, not 1970

def _otlp_span(trace: int, span: int, parent: int | None, start_ns: int | None, end_ns: int | None) -> dict:
    out = {"traceId": f"{trace:032x}", "spanId": f"{span:016x}", "name": "GET /" if parent is None else "db",
           "kind": 2 if parent is None else 3, "status": {"code": 1}}
    if parent is not None:
        out["parentSpanId"] = f"{parent:016x}"
    if start_ns is not None:
        out["startTimeUnixNano"] = str(start_ns)
    if end_ns is not None:
        out["endTimeUnixNano"] = str(end_ns)
    return out


@pytest.fixture(scope="module")
def unset_starts(tmp_path_factory) -> pd.DataFrame:
    """Trace 1: a 100 ms root whose start is absent (OTLP: 0, unset) and a 40 ms child; trace 2: a 20 ms root and a
    child whose start is absent."""
    spans = [_otlp_span(1, 1, None, None, T0 + 100 * MS), _otlp_span(1, 2, 1, T0 + 10 * MS, T0 + 50 * MS),
             _otlp_span(2, 3, None, T0, T0 + 20 * MS), _otlp_span(2, 4, 3, None, T0 + 10 * MS)]
    doc = {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "api"}}]},
                              "scopeSpans": [{"scope": {}, "spans": spans}]}]}
    path = tmp_path_factory.mktemp("unset") / "unset.json"
    path.write_text(json.dumps(doc))
    return tk.read(path)


def test_an_unset_start_gives_no_request_latency_and_no_extent(unset_starts):
    o = tk.core.trace_outcomes(unset_starts)
    assert np.isnan(o["request_ms"].iloc[0]) and o["request_ms"].iloc[1] == 20.0  # was 1.7e12 ms: from 1970
    assert o["extent_ms"].isna().all()  # each trace holds a span whose start is unknown
    assert o["start"].isna().tolist() == [True, False]
    from tracekit.core import span_window, start_unknown

    assert start_unknown(unset_starts).tolist() == [True, False, False, True]
    assert span_window(unset_starts) == (pd.Timestamp(T0, tz="UTC"), pd.Timestamp(T0 + 100 * MS, tz="UTC"))


def test_an_unset_start_is_not_1970_in_the_postmortem_and_the_summary(unset_starts):
    text, ev = _what(unset_starts)
    assert ev["p95_ms"] == 20.0 and ev["requests"] == 2, text
    assert "1970" not in text and text.startswith("2 requests in 22:13:20.000–22:13:20.100 UTC"), text
    summary = tk.format_summary(unset_starts)
    assert "time range: 2023-11-14 22:13:20+00:00 .. 2023-11-14 22:13:20.100000+00:00" in summary, summary
    assert "1 finished request; 1 with an unknown start, not counted" in summary, summary
    assert "0 finished traces; 2 with an unknown start, not counted" in summary, summary


def test_jaeger_get_trace_with_no_times_is_an_unknown_window(real_traces):
    spans = tk.read(real_traces / "jaeger" / "apiv3-snapshots" / "GetTrace.json")  # no start, no end
    text, _ = _what(spans)
    assert text.startswith("1 request in an unknown window (no start or end time recorded):"), text
    assert "n/a UTC" not in text
    assert "time range: unknown (no start recorded) .. (no end recorded)" in tk.format_summary(spans)


# ------------------------------------------------------------- the extent: copies left out, a lower bound said

def test_a_trace_exported_again_later_keeps_its_extent():
    one = [("1" * 32, A, None, T0, T0 + 100 * MS), ("1" * 32, B, A, T0 + 10 * MS, T0 + 60 * MS)]
    later = [(t, s, p, a + 30 * 60 * 1000 * MS, b + 30 * 60 * 1000 * MS) for t, s, p, a, b in one]
    o = tk.core.trace_outcomes(_spans(one + later))
    assert o["request_ms"].tolist() == [100.0] and o["extent_ms"].tolist() == [100.0]


def test_an_extent_with_a_span_in_progress_is_said_as_a_lower_bound():
    from tracekit.reporting import _worst

    # trace 1: a 10 ms root whose child started at 1 ms and has not ended; trace 2: a finished 3 ms request
    spans = _spans([("1" * 32, A, None, T0, T0 + 10 * MS), ("1" * 32, B, A, T0 + MS, None),
                    ("2" * 32, C, None, T0, T0 + 3 * MS)])
    o = tk.core.trace_outcomes(spans)
    assert o["in_progress"].tolist() == [True, False] and o["extent_ms"].tolist() == [10.0, 3.0]
    assert "2 traces; 1 of them with a span still in progress: its extent is the last end so far, a lower bound" \
        in tk.format_summary(spans)
    labels = dict((tid, label) for label, tid in _worst(o, 2))
    assert "trace extent at least 10.0 ms, a span still in progress" in labels["1" * 32], labels
    assert labels["2" * 32].endswith("trace extent 3.0 ms)"), labels


# ------------------------------------------------------------- a parent loop is not "only child spans were recorded"

def test_a_trace_whose_root_names_itself_is_said_as_a_parent_loop():
    # A names itself as its parent, B is A's child: no root reaches, but nothing was lost
    text, ev = _what(_spans([("1" * 32, A, A, T0, T0 + 10 * MS), ("1" * 32, B, A, T0 + MS, T0 + 5 * MS)]))
    assert text.startswith("No root span at all"), text
    assert "only child spans were recorded" not in text, text
    assert "parent ids form a loop, a span naming itself or a descendant as its parent" in text, text
    assert ev["looped_traces"] == 1
    # a lost root beside it: the loop for one trace, the lost root for the other
    text, ev = _what(_spans([("1" * 32, A, A, T0, T0 + 10 * MS), ("2" * 32, B, C, T0, T0 + 5 * MS)]))
    assert "in 1 of them the spans' parent ids form a loop" in text and "in the others only child spans" in text, text
