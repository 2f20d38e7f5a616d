"""The metrics frame, read_metrics (OTLP, CloudWatch), metric_rates and metrics_from_columns.

Ground truth by construction (points written here with known values) and the real files: the
OTLP metrics example of opentelemetry-proto and Nezha's per-pod metric CSVs (read in place).
"""

from __future__ import annotations

import base64
import gzip
import json

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.errors import TraceFormatError, TraceFormatWarning
from tracekit.metrics_schema import MetricsSchemaError

T0 = 1_700_000_000_000_000_000  # ns


def _svc(name: str, host: str | None = None) -> dict:
    attrs = [{"key": "service.name", "value": {"stringValue": name}}]
    if host:
        attrs.append({"key": "k8s.pod.name", "value": {"stringValue": host}})
    return {"attributes": attrs}


def _doc(metrics: list[dict], service: str = "api", host: str | None = None) -> dict:
    return {"resourceMetrics": [{"resource": _svc(service, host), "scopeMetrics": [{"scope": {"name": "lib"},
                                                                                      "metrics": metrics}]}]}


def _counter(values: list[float], starts: list[int], times: list[int], temporality: int = 2) -> dict:
    return {"name": "http.requests", "unit": "{request}", "sum": {
        "aggregationTemporality": temporality, "isMonotonic": True,
        "dataPoints": [{"startTimeUnixNano": str(s), "timeUnixNano": str(t), "asInt": str(int(v))}
                       for v, s, t in zip(values, starts, times, strict=True)]}}


# ---------------------------------------------------------------------------------------------- schema


def test_empty_metrics_follows_its_schema_and_the_markdown_lists_every_column():
    m = tk.empty_metrics()
    assert tk.validate_metrics(m) is m
    md = tk.metrics_schema_markdown()
    for c in tk.METRIC_COLUMNS:
        assert f"| `{c.name}` |" in md
    assert len(md.strip().splitlines()) == len(tk.METRIC_COLUMNS) + 2


def test_validate_metrics_names_what_is_wrong():
    m = tk.metrics_from_columns({"time": [0], "name": ["x"], "value": [1.0]})
    bad = m.copy()
    bad.loc[0, "kind"] = "counter"
    with pytest.raises(MetricsSchemaError, match="kind.*counter"):
        tk.validate_metrics(bad)
    with pytest.raises(MetricsSchemaError, match="missing columns: host"):
        tk.validate_metrics(m.drop(columns="host"))
    with pytest.raises(MetricsSchemaError, match="'value' has 1 values, 'time' has 2"):
        tk.metrics_from_columns({"time": [0, 1], "name": "x", "value": [1.0]})
    with pytest.raises(MetricsSchemaError, match="'name' is required"):
        tk.metrics_from_columns({"time": [0], "value": [1.0]})


def test_metrics_join_the_spans_keys():
    """service and host of a point are what the spans' service and core.hosts give for the same resource."""
    from tracekit.core import hosts

    m = tk.read_metrics(_doc([{"name": "cpu", "gauge": {"dataPoints": [{"timeUnixNano": str(T0), "asDouble": 0.5}]}}],
                             service="cart", host="cart-7d9-x1"))
    spans = tk.spans_from_columns({"trace_id": ["a" * 32], "span_id": ["b" * 16], "service": ["cart"], "name": ["GET"],
                                   "start": [T0], "end": [T0 + 1], "resource": [{"service.name": "cart",
                                                                                "k8s.pod.name": "cart-7d9-x1"}]})
    assert m.loc[0, "service"] == spans.loc[0, "service"]
    assert m.loc[0, "host"] == hosts(spans)[0]


# ------------------------------------------------------------------------------------------ OTLP read


def test_real_otlp_metrics_example(real_traces):
    m = tk.read_metrics(real_traces / "opentelemetry-proto" / "metrics.json")
    tk.validate_metrics(m)
    assert m["kind"].tolist() == ["sum", "gauge", "histogram", "exponential_histogram"]
    assert m["name"].tolist() == ["my.counter", "my.gauge", "my.histogram", "my.exponential.histogram"]
    assert set(m["service"]) == {"my.service"}
    assert m["temporality"].tolist()[0] == "delta" and m["monotonic"].tolist()[0] is True
    assert pd.isna(m["temporality"].iloc[1]) and pd.isna(m["monotonic"].iloc[1])
    assert m["value"].tolist()[:2] == [5.0, 10.0]
    assert m.loc[0, "attributes"] == {"my.counter.attr": "some value"}
    assert m.loc[0, "resource"]["otel.scope.name"] == "my.library"
    assert m.loc[0, "resource"]["otel.scope.attr.my.scope.attribute"] == "some scope attribute"
    h = m.iloc[2]
    assert (h["count"], h["sum"], h["min"], h["max"]) == (2.0, 2.0, 0.0, 2.0)
    assert h["buckets"] == {"bounds": [1.0], "counts": [1, 1]}
    e = m.iloc[3]
    # scale 0: base 2; positive offset 1, counts [0, 2] -> (2, 4]: 0, (4, 8]: 2; zero bucket (threshold 0): 1
    assert e["buckets"]["bounds"] == [0.0, 2.0, 4.0, 8.0]
    assert e["buckets"]["counts"] == [1, 0, 0, 2, 0]
    assert sum(e["buckets"]["counts"]) == e["count"] == 3
    assert e["max"] == 5.0  # in the (4, 8] bucket that holds two observations


def test_exponential_histogram_with_negative_buckets_and_scale():
    p = {"timeUnixNano": str(T0), "count": "6", "sum": 0, "scale": 1, "zeroCount": "1", "zeroThreshold": 0.5,
         "positive": {"offset": 0, "bucketCounts": ["2", "1"]}, "negative": {"offset": 2, "bucketCounts": ["2"]}}
    m = tk.read_metrics(_doc([{"name": "lat", "exponentialHistogram": {"aggregationTemporality": 1, "dataPoints": [p]}}]))
    b = m.loc[0, "buckets"]
    r2 = 2 ** 0.5  # base at scale 1
    # negative index 2 covers [-r2^3, -r2^2); zero bucket [-0.5, 0.5]; positive 0, 1: (1, r2], (r2, 2]
    np.testing.assert_allclose(b["bounds"], [-r2 ** 3, -r2 ** 2, -0.5, 0.5, 1.0, r2, 2.0])
    assert b["counts"] == [0, 2, 0, 1, 0, 2, 1, 0]
    assert len(b["counts"]) == len(b["bounds"]) + 1 and sum(b["counts"]) == 6


def test_summary_points_and_exemplar_ids_normalised_as_the_spans_are():
    tid, sid = "5B8EFFF798038103D269B633813FC60C", "EEE19B7EC3C1B174"
    b64_tid = base64.b64encode(bytes.fromhex(tid)).decode()
    b64_sid = base64.b64encode(bytes.fromhex(sid)).decode()
    metrics = [
        {"name": "rpc.duration", "unit": "ms", "summary": {"dataPoints": [{
            "timeUnixNano": str(T0), "count": "10", "sum": 123.5,
            "quantileValues": [{"quantile": 0.5, "value": 9.0}, {"quantile": 0.99, "value": 40.0}]}]}},
        {"name": "latency", "unit": "ms", "histogram": {"aggregationTemporality": 2, "dataPoints": [{
            "timeUnixNano": str(T0), "count": "3", "sum": 30, "bucketCounts": ["1", "1", "1"], "explicitBounds": [5, 10],
            "exemplars": [{"timeUnixNano": str(T0 - 5), "asDouble": 17.0, "traceId": tid, "spanId": sid},
                          {"timeUnixNano": str(T0 - 4), "asInt": "3", "traceId": b64_tid, "spanId": b64_sid,
                           "filteredAttributes": [{"key": "route", "value": {"stringValue": "/x"}}]},
                          {"timeUnixNano": str(T0 - 3), "asDouble": 1.0}]}]}},
    ]
    m = tk.read_metrics(_doc(metrics))
    assert m.loc[0, "kind"] == "summary" and m.loc[0, "quantiles"] == {0.5: 9.0, 0.99: 40.0}
    assert (m.loc[0, "count"], m.loc[0, "sum"]) == (10.0, 123.5)
    ex = m.loc[1, "exemplars"]
    assert [e["trace_id"] for e in ex] == [tid.lower(), tid.lower(), None]
    assert [e["span_id"] for e in ex] == [sid.lower(), sid.lower(), None]
    assert [e["value"] for e in ex] == [17.0, 3.0, 1.0]
    assert ex[1]["attributes"] == {"route": "/x"} and ex[0]["time"] == T0 - 5


def test_proto_field_names_json_lines_and_gzip(tmp_path):
    doc = {"resource_metrics": [{"resource": _svc("api"), "scope_metrics": [{"metrics": [
        {"name": "g", "gauge": {"data_points": [{"time_unix_nano": str(T0), "as_double": 2.5}]}}]}]}]}
    lines = [json.dumps(doc), json.dumps(_doc([{"name": "g", "gauge": {"dataPoints": [
        {"timeUnixNano": str(T0 + 10**9), "asDouble": 3.5}]}}]))]
    p = tmp_path / "m.jsonl.gz"
    p.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    m = tk.read_metrics(p)
    assert m["value"].tolist() == [2.5, 3.5]
    assert m["source_record"].tolist() == [1, 2]
    assert (m["time"].astype("int64") == [T0, T0 + 10**9]).all()


def test_collector_file_mixing_signals(tmp_path, real_traces):
    """Metrics lines load in read_metrics, span lines in tk.read; each lists the others as ignored."""
    spans_line = json.loads((real_traces / "opentelemetry-proto" / "trace.json").read_text())
    logs_line = json.loads((real_traces / "opentelemetry-proto" / "logs.json").read_text())
    metrics_line = json.loads((real_traces / "opentelemetry-proto" / "metrics.json").read_text())
    p = tmp_path / "collector.jsonl"
    p.write_text("\n".join(json.dumps(x) for x in (spans_line, metrics_line, logs_line, metrics_line)) + "\n")
    m = tk.read_metrics(p)
    assert len(m) == 8 and m["source_record"].tolist() == [2] * 4 + [4] * 4
    assert [r.record for r in m.attrs["ignored"]] == ["line 1", "line 3"]  # SkippedRecord, as tk.read / read_logs list them
    spans = tk.read(p)
    assert len(spans) == 1 and len(spans.attrs["ignored"]) == 3
    from tracekit.errors import SkippedRecord

    logs = tk.read_logs(p)  # the three readers list what they leave to the others alike
    assert all(type(r) is SkippedRecord for f in (m, spans, logs) for r in f.attrs["ignored"])


def test_metric_rates_from_cumulative_sums_with_a_reset():
    s = 10**9
    # counter since T0: 60 at +60 s, 180 at +120 s; the process restarts at +150 s: 30 at +180 s, 90 at +240 s
    times = [T0 + 60 * s, T0 + 120 * s, T0 + 180 * s, T0 + 240 * s]
    starts = [T0, T0, T0 + 150 * s, T0 + 150 * s]
    m = tk.read_metrics(_doc([_counter([60, 180, 30, 90], starts, times)]))
    r = tk.metric_rates(m)
    assert r["value"].tolist() == [1.0, 2.0, 1.0, 1.0]
    assert r["reset"].tolist() == [False, False, True, False]
    assert set(r["kind"]) == {"gauge"} and set(r["unit"]) == {"{request}/s"}
    assert m["kind"].tolist() == ["sum"] * 4  # the input is not modified
    # a reset without a start: the value went down, so the counter started again after the previous point; its
    # value over the time since then (Prometheus' rule, a lower bound: 30 / 60 s), not unknown
    m2 = tk.metrics_from_columns({"time": times, "name": "c", "kind": "sum", "temporality": "cumulative",
                                  "monotonic": True, "value": [60.0, 180.0, 30.0, 90.0]})
    r2 = tk.metric_rates(m2)
    assert np.isnan(r2["value"].iloc[0]) and r2["value"].iloc[1] == 2.0
    assert r2["value"].iloc[2] == 0.5 and r2["value"].iloc[3] == 1.0
    assert r2["reset"].tolist() == [False, False, True, False]


def test_metric_rates_delta_sums_and_series_apart():
    s = 10**9
    a = _counter([30, 60], [T0, T0 + 60 * s], [T0 + 60 * s, T0 + 120 * s], temporality=1)
    doc = _doc([a], service="a")
    doc["resourceMetrics"] += _doc([_counter([600, 1200], [T0, T0], [T0 + 60 * s, T0 + 120 * s])],
                                   service="b")["resourceMetrics"]
    r = tk.metric_rates(tk.read_metrics(doc))
    assert r[r["service"] == "a"]["value"].tolist() == [0.5, 1.0]
    assert r[r["service"] == "b"]["value"].tolist() == [10.0, 10.0]


def test_metric_rates_keep_processes_apart_let_updown_sums_fall_and_step_over_points_with_no_value():
    """Three ways metric_rates was wrong (a fresh reader's d03, d04, d13):
    two processes of one service with no host key (service.instance.id alone tells them apart) were one series,
    interleaved: false resets on one, NaN rates on the other (their times tie); an UpDownCounter going down was a
    "reset"; and the point after a staleness marker (flags 1, no value) had no rate though its increase since the
    last good point is known."""
    s = 10**9
    times = [T0 + 60 * s, T0 + 120 * s, T0 + 180 * s]

    def instance(inst: str, values: list[int]) -> dict:
        doc = _doc([_counter(values, [T0] * 3, times)])
        doc["resourceMetrics"][0]["resource"]["attributes"].append(
            {"key": "service.instance.id", "value": {"stringValue": inst}})
        return doc["resourceMetrics"][0]

    m = tk.read_metrics({"resourceMetrics": [instance("a", [60, 120, 180]), instance("b", [6000, 12000, 18000])]})
    r = tk.metric_rates(m)
    assert r["value"].tolist() == [1.0, 1.0, 1.0, 100.0, 100.0, 100.0] and not r["reset"].any()
    updown = tk.metrics_from_columns({"time": times, "name": "queue.size", "kind": "sum", "temporality": "cumulative",
                                      "monotonic": False, "value": [10.0, 4.0, 7.0], "start_time": [T0] * 3})
    r = tk.metric_rates(updown)
    assert r["value"].tolist()[1:] == [-0.1, 0.05] and not r["reset"].any()
    stale = tk.metrics_from_columns({"time": [*times, T0 + 240 * s], "name": "c", "kind": "sum",
                                     "temporality": "cumulative", "monotonic": True,
                                     "value": [60.0, np.nan, 180.0, 240.0], "start_time": [T0] * 4})
    r = tk.metric_rates(stale)
    assert np.isnan(r["value"].iloc[1]) and r["value"].tolist()[2:] == [1.0, 1.0] and not r["reset"].any()


# ----------------------------------------------------------------------------------------- bad input


def test_bad_points_name_file_and_record_and_skip_keeps_the_rest(tmp_path):
    good = {"timeUnixNano": str(T0), "asDouble": 1.0}
    doc = _doc([{"name": "g", "gauge": {"dataPoints": [good, {"timeUnixNano": "soon", "asDouble": 2.0}, good]}},
                {"name": "h", "histogram": {"aggregationTemporality": 2, "dataPoints": [
                    {"timeUnixNano": str(T0), "count": "2", "bucketCounts": ["1", "1", "0"], "explicitBounds": [1]}]}},
                {"name": "nothing"}])
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(doc))
    with pytest.raises(TraceFormatError) as ei:
        tk.read_metrics(p)
    assert ei.value.file == str(p)
    assert ei.value.record == "resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[1]"
    assert "timeUnixNano" in ei.value.reason and "'soon'" in ei.value.reason
    with pytest.warns(TraceFormatWarning, match="skipped 3"):
        m = tk.read_metrics(p, errors="skip")
    assert m["value"].tolist() == [1.0, 1.0]
    sk = tk.skipped_records(m)
    assert sk["record"].tolist() == ["resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[1]",
                                     "resourceMetrics[0].scopeMetrics[0].metrics[1].histogram.dataPoints[0]",
                                     "resourceMetrics[0].scopeMetrics[0].metrics[2]"]
    assert "3 counts for 1 explicitBounds" in sk["reason"].iloc[1]
    assert "no data" in sk["reason"].iloc[2]


def test_hostile_input():
    with pytest.raises(TraceFormatError, match="unknown metrics format.*Jaeger"):
        tk.read_metrics({"data": [{"traceID": "a", "spans": []}]})
    with pytest.raises(TraceFormatError, match="no metrics: 1 record"):
        tk.read_metrics({"resourceSpans": []})
    with pytest.raises(TraceFormatError, match="line 2.*not valid JSON"):
        tk.read_metrics(b'{"Label": "x", "Datapoints": []}\n{"Label": \n')
    with pytest.raises(TraceFormatError, match="exemplars\\[0\\].traceId.*32 hex"):
        tk.read_metrics(_doc([{"name": "g", "gauge": {"dataPoints": [
            {"timeUnixNano": str(T0), "asDouble": 1.0, "exemplars": [{"traceId": "xyz"}]}]}}]))
    with pytest.raises(TraceFormatError, match="fits in int64"):
        tk.read_metrics(_doc([{"name": "g", "gauge": {"dataPoints": [{"timeUnixNano": "9" * 30}]}}]))
    with pytest.raises(TraceFormatError, match="add up to 2, count is 5"):
        tk.read_metrics(_doc([{"name": "h", "histogram": {"dataPoints": [
            {"timeUnixNano": str(T0), "count": 5, "bucketCounts": [1, 1], "explicitBounds": [1]}]}}]))
    with pytest.raises(tk.ArgumentError):
        tk.read_metrics({}, errors="ignore")


# ---------------------------------------------------------------------------------------- CloudWatch


def test_cloudwatch_get_metric_data_and_statistics_output():
    data = {"MetricDataResults": [
        {"Id": "m1", "Label": "CPUUtilization", "StatusCode": "Complete",
         "Timestamps": ["2024-03-01T10:02:00+00:00", "2024-03-01T10:01:00+00:00"], "Values": [71.5, 12.25]},
        {"Id": "m2", "Label": "NetworkIn", "StatusCode": "PartialData", "Timestamps": [], "Values": []}],
        "Messages": []}
    m = tk.read_metrics(data)
    assert m["name"].tolist() == ["CPUUtilization"] * 2 and m["value"].tolist() == [71.5, 12.25]
    assert m["time"].tolist() == [pd.Timestamp("2024-03-01T10:02Z"), pd.Timestamp("2024-03-01T10:01Z")]
    assert m.loc[0, "attributes"]["cloudwatch.status_code"] == "Complete" and set(m["source"]) == {"cloudwatch"}
    stats = {"Label": "Latency", "Datapoints": [
        {"Timestamp": "2024-03-01T10:00:00Z", "SampleCount": 4.0, "Sum": 10.0, "Minimum": 1.0, "Maximum": 4.0,
         "Average": 2.5, "Unit": "Milliseconds", "ExtendedStatistics": {"p99": 3.9, "p50": 2.0}}]}
    s = tk.read_metrics(stats)
    row = s.iloc[0]
    assert (row["value"], row["count"], row["sum"], row["min"], row["max"]) == (2.5, 4.0, 10.0, 1.0, 4.0)
    assert row["quantiles"] == {0.99: 3.9, 0.5: 2.0} and row["kind"] == "summary"
    with pytest.raises(TraceFormatError, match="MetricDataResults\\[0\\].*2 Timestamps for 1 Values"):
        tk.read_metrics({"MetricDataResults": [{"Id": "a", "Timestamps": ["2024-01-01T00:00Z"] * 2, "Values": [1]}]})


# ------------------------------------------------------------------------------ long-form columns


def _nezha_long(path) -> pd.DataFrame:
    """What a user does with a Nezha per-pod metric CSV: wide -> long with pandas."""
    wide = pd.read_csv(path)
    # "2022-08-22 03:51:19.607158889 +0000 UTC m=+0.113112869": Go's time.String(); keep date, clock, zone
    wide["time"] = pd.to_datetime(wide["Time"].str.split(" ").str[:3].str.join(" "), utc=True)
    value_cols = [c for c in wide.columns if c not in ("Time", "TimeStamp", "PodName", "time")]
    long = wide.melt(id_vars=["time", "PodName"], value_vars=value_cols, var_name="metric", value_name="value")
    long["unit"] = long["metric"].str.extract(r"\(([^)]*)\)$", expand=False)
    long["name"] = long["metric"].str.replace(r"\([^)]*\)$", "", regex=True)
    long["host"] = long["PodName"]
    long["service"] = long["PodName"].str.rsplit("-", n=2).str[0]
    return long


@pytest.mark.parametrize("where, pod", [
    ("rca_data/2022-08-22/metric", "cartservice-579f59597d-wc2lz"),  # OnlineBoutique fault day
    ("construct_data/2023-01-29/metric", "ts-food-service-f5756978c-k8vqf"),  # TrainTicket fault-free day
])
def test_nezha_per_pod_metric_csv_loads_through_metrics_from_columns(real_traces, where, pod):
    day = real_traces / "nezha" / "fault-days" / where
    if not day.is_dir():
        pytest.skip(f"Nezha metric CSVs not found at {day}")
    path = day / f"{pod}_metric.csv.gz"
    wide = pd.read_csv(path)
    long = _nezha_long(path)
    m = tk.metrics_from_columns(long[["time", "name", "value", "unit", "service", "host"]])
    n_metrics = len(wide.columns) - 3
    assert len(m) == len(wide) * n_metrics
    assert set(m["service"]) == {pod.rsplit("-", 2)[0]} and set(m["host"]) == {pod}
    cpu = m[m["name"] == "CpuUsageRate"].sort_values("time")
    assert cpu["unit"].iloc[0] == "%"
    np.testing.assert_array_equal(cpu["value"].to_numpy(), wide["CpuUsageRate(%)"].to_numpy())
    assert cpu["time"].iloc[0].strftime("%Y-%m-%d %H:%M:%S") == wide["Time"].iloc[0][:19]
    assert set(m["kind"]) == {"gauge"} and set(m["source"]) == {"columns"}


def test_fast_path_gives_the_checked_path_frame():
    """Column-wise conversion (gauge, sum, histogram) and the checked per-point loop agree on every cell."""
    from tracekit.io.metrics import _read

    pts = [{"timeUnixNano": str(T0 + i), "startTimeUnixNano": T0, "asInt": str(i * 7), "flags": 0,
            "attributes": [{"key": "k", "value": {"intValue": str(i)}}]} for i in range(5)]
    hist = [{"timeUnixNano": T0 + i, "count": str(3 + i), "sum": 1.5 * i, "min": 0, "max": 9.5,
             "bucketCounts": ["1", "2", str(i)], "explicitBounds": [1, 2.5],
             "exemplars": [{"timeUnixNano": str(T0), "asDouble": 2.0, "traceId": "AB" * 16, "spanId": "cd" * 8}]}
            for i in range(4)]
    doc = _doc([{"name": "g", "gauge": {"dataPoints": [{"timeUnixNano": str(T0), "asDouble": "NaN"},
                                                       {"timeUnixNano": str(T0), "asDouble": 1e300}]}},
                {"name": "s", "unit": "By", "sum": {"aggregationTemporality": "AGGREGATION_TEMPORALITY_CUMULATIVE",
                                                    "isMonotonic": True, "dataPoints": pts}},
                {"name": "h", "histogram": {"aggregationTemporality": 1, "dataPoints": hist}}], host="pod-1")
    _, fast = _read(doc, "raise", fast=True)
    _, slow = _read(doc, "raise", fast=False)
    pd.testing.assert_frame_equal(fast, slow)
    assert fast["value"].iloc[2:7].tolist() == [0.0, 7.0, 14.0, 21.0, 28.0]
    assert fast.loc[7, "exemplars"][0]["trace_id"] == "ab" * 16


def test_reference_lists_the_metrics_columns():
    from .conftest import REPO

    assert tk.metrics_schema_markdown() in (REPO / "docs" / "reference.md").read_text(), \
        "docs/reference.md's metrics table is stale: paste tk.metrics_schema_markdown() into it"


@pytest.mark.parametrize("fast", [True, False])
def test_exponential_buckets_beyond_a_double_are_named_not_an_overflow(fast, tmp_path, monkeypatch):
    """offset 2,000,000,000 at scale 0 puts the bucket edges at 2**2e9, past any double: a TraceFormatError naming
    the point (the same from the typed path and the checked walk), never a bare OverflowError; the other
    points of the file are kept with errors='skip'."""
    import tracekit.io.metrics as M

    monkeypatch.setattr(M, "FAST", fast)
    good = {"timeUnixNano": str(T0), "count": "2", "sum": 2, "scale": 0, "positive": {"offset": 1, "bucketCounts": ["1", "1"]}}
    bad = {**good, "positive": {"offset": 2_000_000_000, "bucketCounts": ["1", "1"]}}
    p = tmp_path / "exp.jsonl"
    p.write_text("\n".join(json.dumps(_doc([{"name": "lat", "exponentialHistogram": {"dataPoints": [pt]}}]))
                           for pt in (good, bad, good)))
    with pytest.raises(TraceFormatError, match=r"exp\.jsonl, line 2, .*dataPoints\[0\]: .*starts beyond the range of a double"):
        tk.read_metrics(p)
    with pytest.warns(TraceFormatWarning):
        m = tk.read_metrics(p, errors="skip")
    assert m["source_record"].tolist() == [1, 3] and m.loc[0, "buckets"]["bounds"] == [0.0, 2.0, 4.0, 8.0]
    # scale -10: base 2**1024 is past a double; bucket 0 is (1, 2**1024], its upper edge +inf, bucket -1 (2**-1024, 1]
    edge = {**good, "scale": -10, "positive": {"offset": -1, "bucketCounts": ["1", "1"]}}
    b = tk.read_metrics(_doc([{"name": "lat", "exponentialHistogram": {"dataPoints": [edge]}}]))["buckets"][0]
    assert b["bounds"] == [0.0, 2.0 ** -1024, 1.0, np.inf] and b["counts"] == [0, 0, 1, 1, 0]


def test_no_data_points_names_the_source(tmp_path):
    """get-metric-data and get-metric-statistics outputs of a window with no data: the error names the file."""
    p = tmp_path / "quiet.json"
    for doc in ({"MetricDataResults": [{"Id": "m1", "Label": "CPU", "Timestamps": [], "Values": [],
                                        "StatusCode": "Complete"}], "Messages": []},
                {"Label": "CPUUtilization", "Datapoints": []}):
        p.write_text(json.dumps(doc))
        with pytest.raises(TraceFormatError, match=r"^.*quiet\.json: no metric data points$"):
            tk.read_metrics(p)


def test_a_gzip_bomb_is_decompressed_once_and_not_held_while_read_again(tmp_path, monkeypatch):
    """A gzip file past the decompression cap: one clear error after one decompression. read_metrics reads a
    file again point by point when the typed path raised (to name the first bad point); an unreadable file
    was decompressed a second time, while the first try's error (and so its 512 MiB buffer) was still alive:
    a 4 MiB bomb took 1,249 MiB at peak and 4.4 s, against 693 MiB and 1.7 s for read_logs."""
    import tracekit.io.metrics as M

    monkeypatch.setenv("TRACEKIT_MAX_DECOMPRESSED_BYTES", "100000")
    p = tmp_path / "bomb.json.gz"
    p.write_bytes(gzip.compress(json.dumps(_doc([{"name": "g", "gauge": {"dataPoints": [
        {"timeUnixNano": str(T0 + i), "asDouble": 1.0} for i in range(20_000)]}}])).encode()))
    calls = []
    real = M.read_bytes
    monkeypatch.setattr(M, "read_bytes", lambda data, name, *rest: calls.append(name) or real(data, name, *rest))
    with pytest.raises(TraceFormatError, match=r"bomb\.json\.gz: gzip data decompresses to more than"):
        tk.read_metrics(p)
    assert calls == [str(p)]
    calls.clear()
    monkeypatch.setenv("TRACEKIT_MAX_DECOMPRESSED_BYTES", "0")  # no cap: the same file reads, once
    assert len(tk.read_metrics(p)) == 20_000 and calls == [str(p)]


def test_metrics_from_columns_attributes_must_be_dicts():
    """An attributes cell that is JSON text or a list was kept as it was, and the analyses then read it as a
    dict; None / NaN is an empty dict, as the logs constructor reads it."""
    m = tk.metrics_from_columns({"time": [0, 1], "name": "cpu", "value": [1.0, 2.0], "attributes": [None, {"a": 1}]})
    assert m["attributes"].tolist() == [{}, {"a": 1}]
    with pytest.raises(MetricsSchemaError, match=r"column 'attributes' row 1: .*'\{\"a\":1\}'.*dict"):
        tk.metrics_from_columns({"time": [0, 1], "name": "cpu", "value": [1.0, 2.0], "attributes": [{}, '{"a":1}']})


@pytest.mark.parametrize("fast", [True, False])
def test_a_metric_with_two_kinds_of_data_is_named_not_read_as_one(fast, monkeypatch):
    """OTLP's Metric holds one of gauge, sum, histogram…: a metric with a gauge and a sum was read as its gauge,
    the sum's points dropped without a word."""
    import tracekit.io.metrics as M

    monkeypatch.setattr(M, "FAST", fast)
    pt = {"timeUnixNano": str(T0), "asDouble": 1.0}
    doc = _doc([{"name": "x", "gauge": {"dataPoints": [pt]}, "sum": {"dataPoints": [pt, pt], "aggregationTemporality": 2}},
                {"name": "y", "gauge": {"dataPoints": [pt]}}])
    with pytest.raises(TraceFormatError, match=r"metrics\[0\]: metric 'x' holds 2 kinds of data \(gauge, sum\)"):
        tk.read_metrics(doc)
    with pytest.warns(TraceFormatWarning):
        assert tk.read_metrics(doc, errors="skip")["name"].tolist() == ["y"]


@pytest.mark.parametrize("fast", [True, False])
def test_doubles_written_as_json_strings_are_numbers(fast, monkeypatch):
    """The proto3 JSON mapping lets a writer put any double in a string ("1e-9", "0.5", not only "NaN" and
    "Infinity"); read_metrics took explicitBounds ["1"] but refused zeroThreshold "1e-9" and quantile "0.5", so
    such a point was skipped as 'must be a number'."""
    import tracekit.io.metrics as M

    monkeypatch.setattr(M, "FAST", fast)
    m = tk.read_metrics(_doc([
        {"name": "e", "exponentialHistogram": {"aggregationTemporality": 1, "dataPoints": [
            {"timeUnixNano": str(T0), "count": "4", "scale": -1, "zeroCount": "1", "zeroThreshold": "1e-9",
             "min": "-Infinity", "sum": "2.5E1", "positive": {"offset": 2, "bucketCounts": ["1", "2"]}}]}},
        {"name": "q", "summary": {"dataPoints": [{"timeUnixNano": str(T0), "count": "3", "sum": "1.5",
                                                  "quantileValues": [{"quantile": "0.5", "value": "-0.25"}]}]}},
        {"name": "g", "gauge": {"dataPoints": [{"timeUnixNano": str(T0), "asDouble": "3.25"}]}}]))
    assert m.loc[0, "buckets"]["zero_threshold"] == 1e-9 and m.loc[0, "min"] == -np.inf and m.loc[0, "sum"] == 25.0
    assert m.loc[1, "quantiles"] == {0.5: -0.25} and m.loc[1, "sum"] == 1.5 and m.loc[2, "value"] == 3.25
    for bad in ("1,5", "0x10", " 1", "1e", "nan", "inf"):  # what JSON numbers and proto3's specials are not
        with pytest.raises(TraceFormatError, match="asDouble must be a number"):
            tk.read_metrics(_doc([{"name": "g", "gauge": {"dataPoints": [{"timeUnixNano": str(T0), "asDouble": bad}]}}]))


def test_one_page_of_a_paginated_get_metric_data_output_is_flagged(tmp_path):
    p = tmp_path / "page.json"
    page = {"MetricDataResults": [{"Id": "m1", "Label": "CPU", "Timestamps": ["2024-01-01T00:00:00Z"], "Values": [1.0],
                                   "StatusCode": "PartialData"}], "Messages": []}
    p.write_text(json.dumps({**page, "NextToken": "abc"}))
    with pytest.warns(TraceFormatWarning, match=r"page\.json is one page of a paginated output \(NextToken\)"):
        m = tk.read_metrics(p)
    assert m.attrs["truncated"] is True and len(m) == 1
    p.write_text(json.dumps({**page, "MetricDataResults": [{**page["MetricDataResults"][0], "StatusCode": "Complete"}]}))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tk.read_metrics(p).attrs["truncated"] is False


def test_a_stream_whose_first_point_is_stamped_at_its_start_has_no_reset_after_it():
    """OTLP's "unknown start" cumulative stream: its first point has start_time == time and later points keep that
    start (Prometheus-style receivers). start_time equal to the previous point is no move past it: no reset, rate
    1.0/s (was 17.67 and a reset), and the histogram's interval means 3.0 (was 1.02) — a fresh reader's find."""
    from tracekit.analysis.metric_series import point_values

    m = tk.metrics_from_columns({"time": [60e9, 120e9, 180e9], "name": "c", "kind": "sum", "temporality": "cumulative",
                                 "monotonic": True, "value": [1000.0, 1060.0, 1120.0], "start_time": 60e9})
    r = tk.metric_rates(m)
    assert np.isnan(r["value"].iloc[0]) and r["value"].tolist()[1:] == [1.0, 1.0] and not r["reset"].any()
    h = tk.metrics_from_columns({"time": [60e9, 120e9, 180e9], "name": "lat", "kind": "histogram",
                                 "temporality": "cumulative", "start_time": 60e9, "count": [1000.0, 1010.0, 1020.0],
                                 "sum": [1000.0, 1030.0, 1060.0]})
    assert point_values(h).tolist()[1:] == [3.0, 3.0]
