"""Session 33: defects found in what the last note left alone (CLI summary, readers' legacy lists, ...)."""

from __future__ import annotations

import pandas as pd

import tracekit as tk
from tracekit.cli import format_summary


def _consumer_only(status: str) -> pd.DataFrame:
    return tk.spans_from_columns({"trace_id": ["a" * 32, "c" * 32], "span_id": ["b" * 16, "d" * 16],
                                  "parent_id": [None, None], "name": ["consume", "consume"], "service": ["w", "w"],
                                  "start": [0, 5], "end": [10**6, 3 * 10**6], "kind": ["consumer", "consumer"],
                                  "status": [status, "ok"]})


def test_summary_of_traces_without_a_request_says_there_is_none_to_count_not_nan():
    """Two consumer-rooted traces (asynchronous work: not requests), one failed: the request shares have no
    population; the traces' share of a failed span is 1 of 2."""
    lines = format_summary(_consumer_only("error")).splitlines()
    text = "\n".join(lines)
    assert "nan" not in text.lower()
    assert lines[2].startswith("failed requests, client errors (4xx), throttled: none to count (0 requests)")
    assert "traces with a failed span anywhere (of 2 traces): 50.00%" in lines[2]
    assert lines[3] == "request latency ms (root span duration, 0 requests): none to take percentiles of"
    assert "2 traces): p50 1.0  p95 3.0" in lines[4]


def test_summary_says_unknown_when_no_span_records_a_status_even_without_requests():
    lines = format_summary(_consumer_only("unset").assign(status="unset")).splitlines()
    assert "unknown (no span records a status)" in lines[2]


def test_summary_counts_one_trace_in_the_singular():
    one = _consumer_only("error").iloc[:1].reset_index(drop=True)
    assert "(of 1 trace): 100.00%" in format_summary(one)
    assert "async work included, 1 trace): p50 1.0" in format_summary(one)
