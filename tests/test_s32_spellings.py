"""A field spelt both ways (OTLP JSON name and proto name) in one object is one list, for every signal:
read_otlp joined them already; read_metrics and read_logs read the first and dropped the other unsaid."""
import json

import pytest

import tracekit as tk

T = "1700000000000000000"


def _pt(v):
    return {"timeUnixNano": T, "asDouble": v}


def _rm(name, v):
    return {"scopeMetrics": [{"metrics": [{"name": name, "gauge": {"dataPoints": [_pt(v)]}}]}]}


def _rec(body):
    return {"timeUnixNano": T, "body": {"stringValue": body}}


def _rl(body):
    return {"scopeLogs": [{"logRecords": [_rec(body)]}]}


METRICS = {
    "resourceMetrics and resource_metrics": {"resourceMetrics": [_rm("a", 1)], "resource_metrics": [_rm("b", 2)]},
    "scopeMetrics and scope_metrics": {"resourceMetrics": [{"scopeMetrics": _rm("a", 1)["scopeMetrics"],
                                                            "scope_metrics": _rm("b", 2)["scopeMetrics"]}]},
    "dataPoints and data_points": {"resourceMetrics": [{"scopeMetrics": [{"metrics": [
        {"name": "a", "gauge": {"dataPoints": [_pt(1)], "data_points": [_pt(2)]}}]}]}]},
}
LOGS = {
    "resourceLogs and resource_logs": {"resourceLogs": [_rl("x")], "resource_logs": [_rl("y")]},
    "scopeLogs and scope_logs": {"resourceLogs": [{"scopeLogs": _rl("x")["scopeLogs"],
                                                   "scope_logs": _rl("y")["scopeLogs"]}]},
    "logRecords and log_records": {"resourceLogs": [{"scopeLogs": [{"logRecords": [_rec("x")],
                                                                    "log_records": [_rec("y")]}]}]},
}


@pytest.mark.parametrize("parsed", [True, False], ids=["parsed", "file"])
@pytest.mark.parametrize("case", list(METRICS))
def test_read_metrics_reads_both_spellings_of_a_list(case, parsed, tmp_path):
    doc = METRICS[case]
    src = doc if parsed else tmp_path / "m.json"
    if not parsed:
        src.write_text(json.dumps(doc))
    df = tk.read_metrics(src)
    assert sorted(df["value"].tolist()) == [1.0, 2.0]


@pytest.mark.parametrize("parsed", [True, False], ids=["parsed", "file"])
@pytest.mark.parametrize("case", list(LOGS))
def test_read_logs_reads_both_spellings_of_a_list(case, parsed, tmp_path):
    doc = LOGS[case]
    src = doc if parsed else tmp_path / "l.json"
    if not parsed:
        src.write_text(json.dumps(doc))
    assert sorted(tk.read_logs(src)["body"].tolist()) == ["x", "y"]


def test_read_logs_reads_the_legacy_list_when_scope_logs_is_empty_as_read_otlp_does():
    # was 0 records: an empty scopeLogs hid the legacy instrumentationLibraryLogs (the collector reads it)
    logs = tk.read_logs({"resourceLogs": [{"scopeLogs": [], "instrumentationLibraryLogs": [
        {"instrumentationLibrary": {"name": "old"}, "logRecords": [_rec("y")]}]}]})
    spans = tk.read_otlp({"resourceSpans": [{"scopeSpans": [], "instrumentationLibrarySpans": [
        {"instrumentationLibrary": {"name": "old"}, "spans": [
            {"traceId": "1" * 32, "spanId": "2" * 16, "name": "s", "startTimeUnixNano": T,
             "endTimeUnixNano": T}]}]}]})
    assert logs["body"].tolist() == ["y"] and len(spans) == 1
    assert logs.loc[0, "resource"]["otel.scope.name"] == spans.loc[0, "resource"]["otel.scope.name"] == "old"


def test_a_list_spelt_both_ways_with_a_non_list_is_named():
    with pytest.raises(tk.TraceFormatError, match="scopeLogs must be a list"):
        tk.read_logs({"resourceLogs": [{"scopeLogs": {"x": 1}, "scope_logs": [{"logRecords": [_rec("y")]}]}]})
