"""Session 33: defects found in what the last note left alone (CLI summary, readers' legacy lists, ...)."""

from __future__ import annotations

import orjson
import pandas as pd
import pytest

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


# ---------------------------------------------------------------- both scope lists: one rule for the three readers

def _span(sid: str) -> dict:
    return {"traceId": "a" * 32, "spanId": sid * 16, "name": "op", "startTimeUnixNano": "1", "endTimeUnixNano": "2"}


def _log(body: str) -> dict:
    return {"timeUnixNano": "1", "body": {"stringValue": body}}


def _point(v: float) -> dict:
    return {"name": "g", "gauge": {"dataPoints": [{"timeUnixNano": "1", "asDouble": v}]}}


_SIGNALS = {
    "spans": (tk.read_otlp, "resourceSpans", "scopeSpans", "instrumentationLibrarySpans", "spans", _span, ("b", "c"),
              lambda df: df["span_id"].str[0].tolist()),
    "logs": (tk.read_logs, "resourceLogs", "scopeLogs", "instrumentationLibraryLogs", "logRecords", _log, ("b", "c"),
             lambda df: df["body"].tolist()),
    "metrics": (tk.read_metrics, "resourceMetrics", "scopeMetrics", "instrumentationLibraryMetrics", "metrics", _point,
                (1.0, 2.0), lambda df: df["value"].tolist()),
}


@pytest.mark.parametrize("signal", sorted(_SIGNALS))
def test_both_scope_lists_holding_data_one_rule_for_spans_logs_and_metrics(signal, tmp_path):
    """scopeX and its pre-0.15 name instrumentationLibraryX both with entries: each reader reads scopeX (the
    collector's rule) and lists the other in attrs['ignored'] with file and record. Before: the spans and logs
    readers dropped the legacy list unsaid; read_metrics raised."""
    read, top, key, legacy, items, make, (new, old), values = _SIGNALS[signal]
    doc = {top: [{key: [{items: [make(new)]}], legacy: [{items: [make(old)]}]}]}
    path = tmp_path / "both.json"
    path.write_bytes(orjson.dumps(doc))
    df = read(path)
    assert values(df) == [new]
    [ign] = df.attrs["ignored"]
    assert (ign.file, ign.record) == (str(path), f"{top}[0].{legacy}")
    assert f"{legacy} (its name before OTLP 0.15) holds 1 entry beside a non-empty {key}: not read" in ign.reason
    # the legacy list alone (or beside an empty scope list) is read, and nothing is listed
    for alone in ({top: [{legacy: [{items: [make(old)]}]}]}, {top: [{key: [], legacy: [{items: [make(old)]}]}]}):
        df = read(alone)
        assert values(df) == [old] and df.attrs["ignored"] == ()


# ---------------------------------------------------------------- critical_path_tree: ancestors never critical

def _chain(services: list[str], names: list[str]) -> pd.DataFrame:
    """One request, a chain of spans each covering its parent wholly: only the deepest has critical time."""
    n = len(services)
    ids = [f"{k + 1:016x}" for k in range(n)]
    return tk.spans_from_columns({"trace_id": ["a" * 32] * n, "span_id": ids, "parent_id": [None, *ids[:-1]],
                                  "service": services, "name": names, "start": [0] * n, "end": [10**7] * n})


@pytest.mark.parametrize("with_spans", [False, True])
def test_critical_path_tree_ancestors_whose_names_hold_the_separator_are_one_node_each(with_spans):
    """web 'GET /x > y' → api:8080 'mid' → db 'query': the first two never have critical time of their own. Their
    node text was split at ' > ' / ':' to find parent and operation: 5 nodes with phantom services 'y' and 'op' (and
    'api' named '8080:mid'), depths 0-4. Now 3 nodes, each with its own service, name and parent."""
    spans = _chain(["web", "api:8080", "db"], ["GET /x > y", "mid > op", "query"])
    cp = tk.critical_path(spans)
    tree = tk.critical_path_tree(cp, spans=spans if with_spans else None)
    top, mid, leaf = "web:GET /x > y", "web:GET /x > y > api:8080:mid > op", "web:GET /x > y > api:8080:mid > op > db:query"
    assert tree["node"].tolist() == [top, mid, leaf]
    assert [None if pd.isna(p) else p for p in tree["parent"]] == [None, top, mid]
    assert list(zip(tree["service"], tree["name"], strict=True)) == [("web", "GET /x > y"), ("api:8080", "mid > op"),
                                                                     ("db", "query")]
    assert tree["depth"].tolist() == [0, 1, 2]
    assert tree["self_ms"].tolist() == [0.0, 0.0, 10.0] and tree["total_ms"].tolist() == [10.0, 10.0, 10.0]


def test_critical_path_tree_of_a_deep_elided_chain_with_separators_in_names():
    """40 levels (paths past 32 operations are elided), every name holding ' > ': one node per level, depths 0-39."""
    n = 40
    spans = _chain([f"s{k}" for k in range(n)], [f"op {k} > x" for k in range(n)])
    tree = tk.critical_path_tree(tk.critical_path(spans))
    assert len(tree) == n and sorted(tree["depth"].tolist()) == list(range(n))
    assert sorted(tree["name"].tolist()) == sorted(f"op {k} > x" for k in range(n))
    assert tree["total_ms"].tolist() == [10.0] * n and tree["self_ms"].sum() == 10.0


# ---------------------------------------------------------------- metric_rates: a reset only the value shows

@pytest.mark.parametrize("start", ["kept at 0", "absent", "moved past the previous point"])
def test_metric_rates_after_a_reset_the_start_time_does_not_show(start):
    """1 request/s; the process restarted between 720 s and 780 s (found by the metrics review, D8). With the
    start kept at 0 the rate at 780 s was 30 / 780 s = 0.038/s (a dip 26x too low), with no start NaN; now the
    increase since the previous point, 30 / 60 s = 0.5/s. A start that moved (750 s) still gives 30 / 30 s."""
    s = 10**9
    cols = {"time": [600 * s, 660 * s, 720 * s, 780 * s, 840 * s], "name": "req", "kind": "sum",
            "temporality": "cumulative", "monotonic": True, "value": [600.0, 660.0, 720.0, 30.0, 90.0], "service": "a"}
    if start == "kept at 0":
        cols["start_time"] = [0] * 5
    elif start != "absent":
        cols["start_time"] = [0, 0, 0, 750 * s, 750 * s]
    r = tk.metric_rates(tk.metrics_from_columns(cols))
    expected = {"kept at 0": 0.5, "absent": 0.5, "moved past the previous point": 1.0}[start]
    assert r["value"].tolist()[1:] == [1.0, 1.0, expected, 1.0]
    assert r["reset"].tolist() == [False, False, False, True, False]
