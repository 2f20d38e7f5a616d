"""Readers and writers on hostile input (session 36 review of tracekit/io, schema and the analyses that fill
missing values).

Each test builds its input by construction (the truth known before reading) and pins one defect fixed: an OTLP
span with no start time (or 0) flagged rather than silently in 1970; a missing service kept apart from a real
service named ``"?"`` in the analyses; integers beyond 64 bits written by every writer and read back equal;
identity-bearing keys given twice with different values in one JSON object refused rather than read as the last.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

import tracekit as tk
from tracekit.core.frame import TIME_PROBLEM

TID = "5759e988bd862e3fe1be46a994272793"
T0 = 1_700_000_000_000_000_000  # ns: 2023-11-14


def _otlp(spans: list[dict], service: str = "api") -> str:
    return json.dumps({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
        "scopeSpans": [{"spans": spans}]}]})


def _span(sid: str, **times) -> dict:
    return {"traceId": TID, "spanId": sid * 16, "name": "op", **times}


# ---------------------------------------------------------------------------------------------
# 1. an OTLP span with no start time (absent or 0) is flagged, never silently in 1970


def test_a_span_without_start_time_is_flagged_start_time_zero():
    spans = [_span("1", endTimeUnixNano=str(T0 + 5)),                                   # start absent
             _span("2", startTimeUnixNano="0", endTimeUnixNano=str(T0 + 5)),            # start 0
             _span("3", startTimeUnixNano=0),                                           # start 0, no end
             _span("4", startTimeUnixNano=str(T0), endTimeUnixNano=str(T0 + 5)),        # fine
             _span("5", startTimeUnixNano=str(T0 + 9), endTimeUnixNano=str(T0 + 5))]    # end before start
    df = tk.read_otlp(_otlp(spans)).set_index("span_id")
    flag = {sid[0]: a.get(TIME_PROBLEM) for sid, a in df["attributes"].items()}
    assert flag == {"1": "start_time_zero", "2": "start_time_zero", "3": "start_time_zero", "4": None,
                    "5": "end_before_start"}
    # kept as given (0 is never replaced by a guess), and no span is dropped
    assert (df.loc[["1" * 16, "2" * 16, "3" * 16], "start"] == pd.Timestamp(0, tz="UTC")).all()
    table = tk.health_report(tk.read_otlp(_otlp(spans)), checks=["bad_span_times"])
    rows = table[(table["check"] == "bad_span_times") & (table["subject"] == "start_time_zero")]
    assert len(rows) == 1 and int(rows["spans_affected"].iloc[0]) == 3
    assert "1970" in rows["explanation"].iloc[0]


def test_start_time_zero_is_flagged_on_the_real_jaeger_snapshots(real_traces):
    """Jaeger's api_v3 snapshots omit ``startTimeUnixNano`` (proto3's 0): every such span is flagged, the others
    not."""
    files = sorted((real_traces / "jaeger" / "apiv3-snapshots").glob("*.json"))
    if not files:
        pytest.skip("no jaeger api_v3 snapshots")
    checked = 0
    for f in files:
        raw = f.read_text()
        if "resourceSpans" not in raw and "resource_spans" not in raw:
            continue
        try:
            df = tk.read_otlp(f)
        except tk.TraceFormatError:
            continue
        zero = df["start"] == pd.Timestamp(0, tz="UTC")
        flagged = df["attributes"].map(lambda a: a.get(TIME_PROBLEM) == "start_time_zero")
        assert (zero == flagged).all(), f.name
        checked += int(zero.sum())
    assert checked > 0


# ---------------------------------------------------------------------------------------------
# 2. a missing service is unknown_service (the schema's one rule), never merged with a real service "?"


@pytest.fixture(scope="module")
def question_and_missing() -> pd.DataFrame:
    """front calls a real service named "?" once and a service whose name is missing once (a frame edited by
    hand: the readers never give a missing service)."""
    df = tk.spans_from_columns(dict(
        trace_id=[TID] * 3, span_id=["1" * 16, "2" * 16, "3" * 16], parent_id=[None, "1" * 16, "1" * 16],
        service=["front", "?", "x"], name=["GET /", "op", "op"], kind=["server", "server", "server"],
        start=[T0, T0 + 1_000_000, T0 + 2_000_000], end=[T0 + 10_000_000, T0 + 3_000_000, T0 + 4_000_000]),
        time_unit="ns")
    df.loc[2, "service"] = pd.NA
    return df


def test_service_graph_keeps_a_missing_service_apart_from_a_real_question_mark(question_and_missing):
    before = question_and_missing.copy()
    g = tk.service_graph(question_and_missing)
    assert g.edges["front", "?"]["calls"] == 1
    assert g.edges["front", tk.schema.UNKNOWN_SERVICE]["calls"] == 1
    pd.testing.assert_frame_equal(question_and_missing, before)


def test_operations_keep_a_missing_service_apart_from_a_real_question_mark(question_and_missing):
    from tracekit.core.naming import operation_codes
    code, labels = operation_codes(question_and_missing)
    assert len(set(code.tolist())) == 3
    assert sorted(labels.tolist()) == sorted(["front:GET /", "?:op", f"{tk.schema.UNKNOWN_SERVICE}:op"])


def test_repeated_calls_do_not_merge_a_missing_service_with_a_real_question_mark():
    # a parent calls "?" once and a missing service once: no operation is called twice
    df = tk.spans_from_columns(dict(
        trace_id=[TID] * 3, span_id=["1" * 16, "2" * 16, "3" * 16], parent_id=[None, "1" * 16, "1" * 16],
        service=["front", "?", "x"], name=["GET /", "op", "op"], kind=["server", "client", "client"],
        start=[T0, T0 + 1_000_000, T0 + 5_000_000], end=[T0 + 10_000_000, T0 + 3_000_000, T0 + 7_000_000]),
        time_unit="ns")
    df.loc[2, "service"] = pd.NA
    assert len(tk.find_repeated_calls(df)) == 0
    df.loc[2, "service"] = "?"  # the control: the same call twice is found
    assert len(tk.find_repeated_calls(df)) == 1


# ---------------------------------------------------------------------------------------------
# 3. an integer beyond 64 bits that a reader read is written by every writer and read back equal

WIDE = 2**70 + 1  # a double cannot hold it: read through a float it would be 2**70


def _wide_kv(key: str, v: int) -> dict:
    return {"key": key, "value": {"intValue": str(v)}}


@pytest.fixture(scope="module")
def wide_spans() -> pd.DataFrame:
    """Two spans whose attributes, resource, events and links hold integers beyond 64 bits (and one within, so a
    key has both kinds of cells)."""
    res = {"attributes": [{"key": "service.name", "value": {"stringValue": "api"}}, _wide_kv("r", -WIDE)]}
    spans = [
        {**_span("1", startTimeUnixNano=str(T0), endTimeUnixNano=str(T0 + 2000)),
         "attributes": [_wide_kv("n", WIDE), _wide_kv("u", 2**64 - 1),
                        {"key": "a", "value": {"arrayValue": {"values": [{"intValue": str(-WIDE)}]}}}],
         "events": [{"timeUnixNano": str(T0 + 1000), "name": "e", "attributes": [_wide_kv("n", WIDE)]}],
         "links": [{"traceId": TID, "spanId": "2" * 16, "attributes": [_wide_kv("n", -WIDE)]}]},
        {**_span("2", startTimeUnixNano=str(T0), endTimeUnixNano=str(T0 + 3000)), "parentSpanId": "1" * 16,
         "attributes": [_wide_kv("n", 5)]},
    ]
    df = tk.read_otlp(json.dumps({"resourceSpans": [{"resource": res, "scopeSpans": [{"spans": spans}]}]}))
    assert df["attributes"].iloc[0]["n"] == WIDE and df["resource"].iloc[0]["r"] == -WIDE  # read exactly
    return df


@pytest.mark.parametrize("partition_by", [None, "hour"])
def test_parquet_keeps_integers_beyond_64_bits(wide_spans, tmp_path, partition_by):
    from tracekit.io.parquet import materialize
    before = wide_spans.copy(deep=True)
    path = tmp_path / ("store" if partition_by else "spans.parquet")
    tk.write_parquet(wide_spans, path, **({"partition_by": partition_by} if partition_by else {}))
    back = tk.read_parquet(path)
    assert tk.attribute(back, "n").tolist() == [WIDE, 5]  # one key read column-wise, no dict built
    pd.testing.assert_frame_equal(materialize(back).drop(columns=["source_file"]),
                                  wide_spans.drop(columns=["source_file"]))
    pd.testing.assert_frame_equal(wide_spans, before)  # nothing mutated by the writer


def test_write_otlp_keeps_integers_beyond_64_bits(wide_spans, tmp_path):
    back = tk.read_otlp(tk.write_otlp(wide_spans, tmp_path / "spans.jsonl"))
    for col in ("attributes", "resource", "events", "links"):
        assert back[col].tolist() == wide_spans[col].tolist(), col


def test_write_xray_keeps_integers_beyond_64_bits(wide_spans, tmp_path):
    back = tk.read_xray(tk.write_xray(wide_spans, tmp_path / "spans.json"))
    text = json.dumps(back["attributes"].tolist(), default=str)
    assert str(WIDE) in text and str(-WIDE) in text  # exactly, not through a double


def test_logs_and_metrics_writers_keep_integers_beyond_64_bits(tmp_path):
    res = {"attributes": [{"key": "service.name", "value": {"stringValue": "api"}}, _wide_kv("r", -WIDE)]}
    logs = tk.read_logs(json.dumps({"resourceLogs": [{"resource": res, "scopeLogs": [{"logRecords": [
        {"timeUnixNano": str(T0), "body": {"stringValue": "m"}, "attributes": [_wide_kv("n", WIDE)]}]}]}]}))
    back = tk.read_logs(tk.write_otlp_logs(logs, tmp_path / "logs.jsonl"))
    assert back["attributes"].tolist() == [{"n": WIDE}] and back["resource"].tolist()[0]["r"] == -WIDE
    pts = [{"timeUnixNano": str(T0), "asInt": "3", "attributes": [_wide_kv("n", WIDE)]}]
    metrics = tk.read_metrics(json.dumps({"resourceMetrics": [{"resource": res, "scopeMetrics": [
        {"metrics": [{"name": "g", "gauge": {"dataPoints": pts}}]}]}]}))
    back = tk.read_metrics(tk.write_otlp_metrics(metrics, tmp_path / "metrics.jsonl"))
    assert back["attributes"].tolist() == [{"n": WIDE}] and back["resource"].tolist()[0]["r"] == -WIDE

