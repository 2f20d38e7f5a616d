"""Fuzzing the logs and metrics readers with the span readers' strategies (tests/test_fuzz_readers.py).

Properties, for ``read_logs`` and ``read_metrics``:

* a read either returns a valid frame (``validate_logs`` / ``validate_metrics``) or raises
  :class:`~tracekit.errors.TraceFormatError` — never a bare ``TypeError``/``KeyError``/
  ``RecursionError``/Arrow or msgspec error;
* with ``errors="skip"`` it never raises, and a strict read that succeeded gives the same frame;
* in JSON lines of one record a line with one line damaged, every record of the other lines loads.

Base documents: written here from the formats' documentation (OTLP logs and metrics of every point
kind, CloudWatch Logs and CloudWatch metrics output, JSON lines as loggers write them) and, when the
folder is there, the real OTLP examples read in place from ``../shared/real-traces/opentelemetry-proto``.
"""

from __future__ import annotations

import warnings
from typing import Any

import orjson
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tracekit as tk
from tracekit.errors import TraceFormatError

from .test_fuzz_readers import FUZZ, REAL, _dumps, _kv, mutated_bytes, mutated_value

T0 = 1_700_000_000_000_000_000


def log_record(i: int) -> dict:
    return {"timeUnixNano": str(T0 + i), "observedTimeUnixNano": str(T0 + i + 5), "severityNumber": 9 + 8 * (i % 2),
            "severityText": "ERROR" if i % 2 else "INFO", "body": {"stringValue": f"order {i} placed in 12 ms"},
            "attributes": [_kv("http.route", {"stringValue": "/cart"}), _kv("n", {"intValue": str(i)}),
                           _kv("m", {"kvlistValue": {"values": [_kv("k", {"doubleValue": 0.5})]}})],
            "traceId": f"{i // 2 + 1:032x}", "spanId": f"{i + 1:016x}", "flags": 1, "eventName": "placed",
            "droppedAttributesCount": 0}


def logs_doc(records: list[dict]) -> dict:
    return {"resourceLogs": [{"resource": {"attributes": [_kv("service.name", {"stringValue": "cart"}),
                                                          _kv("host.name", {"stringValue": "node-1"})]},
                              "scopeLogs": [{"scope": {"name": "lib", "version": "1"}, "logRecords": records}]}]}


def _point(i: int, **extra: Any) -> dict:
    return {"attributes": [_kv("route", {"stringValue": "/cart"})], "startTimeUnixNano": str(T0),
            "timeUnixNano": str(T0 + 10_000_000_000 * (i + 1)), **extra}


def metrics_doc(k: int = 2) -> dict:
    ex = [{"timeUnixNano": str(T0 + 7), "asDouble": 0.3, "traceId": "5b8efff798038103d269b633813fc60c",
           "spanId": "eee19b7ec3c1b174", "filteredAttributes": [_kv("user", {"stringValue": "u"})]}]
    metrics = [
        {"name": "cpu.utilization", "unit": "1", "gauge": {"dataPoints": [_point(i, asDouble=0.1 * i) for i in range(k)]}},
        {"name": "requests", "unit": "{request}", "sum": {"aggregationTemporality": 2, "isMonotonic": True,
                                                         "dataPoints": [_point(i, asInt=str(10 * i)) for i in range(k)]}},
        {"name": "http.server.request.duration", "unit": "s", "histogram": {"aggregationTemporality": 1, "dataPoints": [
            _point(i, count=str(6), sum=1.5, min=0.01, max=0.9, bucketCounts=["1", "2", "3"],
                   explicitBounds=[0.1, 0.5], exemplars=ex) for i in range(k)]}},
        {"name": "latency.exp", "unit": "ms", "exponentialHistogram": {"aggregationTemporality": 1, "dataPoints": [
            _point(i, count="5", sum=20.0, scale=1, zeroCount="1", positive={"offset": 2, "bucketCounts": ["1", "3"]},
                   negative={"offset": 0, "bucketCounts": []}) for i in range(k)]}},
        {"name": "gc.pause", "unit": "ms", "summary": {"dataPoints": [
            _point(i, count="4", sum=9.0, quantileValues=[{"quantile": 0.5, "value": 2.0},
                                                          {"quantile": 0.99, "value": 4.0}]) for i in range(k)]}},
    ]
    return {"resourceMetrics": [{"resource": {"attributes": [_kv("service.name", {"stringValue": "cart"})]},
                                 "scopeMetrics": [{"scope": {"name": "lib"}, "metrics": metrics}]}]}


CLOUDWATCH_LOGS = {"events": [
    {"logStreamName": "2024/01/01/[$LATEST]abc", "timestamp": 1_704_067_200_000, "ingestionTime": 1_704_067_200_100,
     "eventId": "1", "message": orjson.dumps({"level": "ERROR", "message": "payment failed", "service": "payment",
                                              "timestamp": "2024-01-01T00:00:00.000Z",
                                              "xray_trace_id": "1-5759e988-bd862e3fe1be46a994272793"}).decode()},
    {"logStreamName": "s", "timestamp": 1_704_067_201_000, "ingestionTime": 1_704_067_201_100, "eventId": "2",
     "message": "2024-01-01T00:00:01.000Z\tc0ffee\tINFO\tcharged 3 items"}], "searchedLogStreams": []}
JSON_LINES = [{"time": "2024-01-01T00:00:00Z", "level": "info", "msg": "GET /cart 200", "trace_id": "a" * 32,
               "span_id": "b" * 16, "service": "cart"},
              {"time": 1_704_067_200_123, "level": 50, "msg": "boom", "traceId": "c" * 32, "spanId": "d" * 16,
               "host": "node-2", "extra": {"k": [1, 2]}}]
CLOUDWATCH_METRIC_DATA = {"MetricDataResults": [
    {"Id": "m1", "Label": "CPUUtilization", "Timestamps": ["2024-01-01T00:01:00Z", "2024-01-01T00:00:00Z"],
     "Values": [12.5, 10.0], "StatusCode": "Complete"}], "Messages": []}
CLOUDWATCH_STATISTICS = {"Label": "Latency", "Datapoints": [
    {"Timestamp": "2024-01-01T00:00:00Z", "Average": 0.2, "Maximum": 0.9, "Unit": "Seconds"},
    {"Timestamp": "2024-01-01T00:01:00Z", "Average": 0.3, "Maximum": 1.1, "Unit": "Seconds"}]}


def _real(*names: str) -> list[Any]:
    """The real OTLP examples ``names`` parsed: none where the real traces are absent; one missing from a folder
    that is there is an error, not a base quietly left out."""
    if not REAL.is_dir():
        return []
    missing = [n for n in names if not (REAL / "opentelemetry-proto" / n).is_file()]
    if missing:
        raise FileNotFoundError(f"real examples the fuzz tests start from are missing from {REAL}: {missing}")
    return [orjson.loads((REAL / "opentelemetry-proto" / n).read_bytes()) for n in names]


SIGNALS = {
    "logs": (tk.read_logs, tk.validate_logs,
             [logs_doc([log_record(i) for i in range(3)]), CLOUDWATCH_LOGS, JSON_LINES,
              *_real("logs.json", "events.json")]),
    "metrics": (tk.read_metrics, tk.validate_metrics,
                [metrics_doc(), CLOUDWATCH_METRIC_DATA, CLOUDWATCH_STATISTICS, *_real("metrics.json")]),
}


@st.composite
def fuzzed(draw, signal: str) -> Any:
    base = draw(st.sampled_from(SIGNALS[signal][2]))
    mode = draw(st.sampled_from(["parsed", "bytes", "bytes", "jsonl"]))
    value = draw(mutated_value(base, parsed=mode == "parsed"))
    if mode == "parsed":
        # as in test_fuzz_readers: a bare str is a path, a list of path-like strings a list of paths
        if not isinstance(value, (dict, list)):
            return [value, {}]
        if value and all(isinstance(x, str) and not x.lstrip().startswith(("{", "[")) for x in value):
            return [*value, {}]
        return value
    data = _dumps(value)
    if data is None:
        return value
    if mode == "jsonl" and isinstance(value, list) and value:
        data = b"\n".join(_dumps(x) or b"{" for x in value) + b"\n"
    if draw(st.booleans()):
        data = draw(mutated_bytes(data))
    return data


def check(signal: str, source: Any) -> None:
    reader, validate, _ = SIGNALS[signal]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TraceFormatWarning of lenient reads
        strict = None
        try:
            strict = reader(source)
        except TraceFormatError:
            pass
        if strict is not None:
            validate(strict)
        try:
            lenient = reader(source, errors="skip")
        except TraceFormatError as e:  # only "holds no record at all" may still raise
            assert "no " in str(e).lower(), e
            assert strict is None
            return
    validate(lenient)
    if strict is not None:
        assert lenient.attrs["skipped"] == ()
        pd.testing.assert_frame_equal(strict, lenient)


@pytest.mark.slow
@pytest.mark.parametrize("signal", ["logs", "metrics"])
def test_fuzzed_documents_load_or_raise_trace_format_error(signal):
    @FUZZ
    @given(source=fuzzed(signal))
    def run(source):
        check(signal, source)

    run()


def _line_doc(signal: str, i: int) -> dict:
    """One document of one JSON line, its records told apart from other lines' by their service."""
    doc = logs_doc([log_record(i)]) if signal == "logs" else metrics_doc(1)
    res = doc["resourceLogs" if signal == "logs" else "resourceMetrics"][0]["resource"]
    res["attributes"][0] = _kv("service.name", {"stringValue": f"svc{i}"})
    return doc


@st.composite
def one_bad_line(draw, signal: str) -> tuple[bytes, int, list[str]]:
    """JSON lines of one document each, line ``m`` mutated (as a value and/or as bytes); the services of the
    other lines."""
    k = draw(st.integers(3, 6))
    docs = [_line_doc(signal, i) for i in range(k)]
    m = draw(st.integers(0, k - 1))
    lines = [orjson.dumps(d) for d in docs]
    bad = _dumps(draw(mutated_value(docs[m]))) or b"{"
    if draw(st.booleans()):
        bad = draw(mutated_bytes(bad).filter(lambda b: b[:2] != b"\x1f\x8b"))
    lines[m] = bad.replace(b"\r", b"").replace(b"\n", b" ")
    return b"\n".join(lines) + b"\n", m, [f"svc{i}" for i in range(k) if i != m]


@pytest.mark.slow
@pytest.mark.parametrize("signal", ["logs", "metrics"])
def test_with_skip_every_record_of_the_valid_lines_loads(signal):
    reader, validate, _ = SIGNALS[signal]
    per_line = 1 if signal == "logs" else 5 * 1  # one record; five metrics of one point each

    @FUZZ
    @given(case=one_bad_line(signal))
    def run(case):
        data, m, others = case
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            df = reader(data, errors="skip")
        validate(df)
        counts = df["service"].value_counts()
        assert all(counts.get(s, 0) == per_line for s in others), (m, counts.to_dict())

    run()


# what the fuzzing found, pinned: each raised a bare TypeError / ValueError / OverflowError / OutOfBoundsDatetime
# (or an internal signal) before
@pytest.mark.parametrize("source, message", [
    ({**metrics_doc(1), "resourceMetrics": [{**metrics_doc(1)["resourceMetrics"][0], "scopeMetrics": [
        {"scope": [{"name": "lib"}], "metrics": metrics_doc(1)["resourceMetrics"][0]["scopeMetrics"][0]["metrics"]}]}]},
     r"scope must be an object"),
    ({"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": "h", "histogram": {
        "aggregationTemporality": {}, "dataPoints": []}}]}]}]}, r"aggregationTemporality must be 0, 1 or 2"),
    ({"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": "h", "sum": {
        "aggregationTemporality": True, "dataPoints": []}}]}]}]}, r"aggregationTemporality must be 0, 1 or 2"),
    ({"MetricDataResults": [{"Id": {}, "Timestamps": [], "Values": []}]}, r"Id must be a string"),
    ({"MetricDataResults": [{"Id": "m1", "Label": 3, "Timestamps": [], "Values": []}]}, r"Label must be a string"),
    ({"MetricDataResults": [{"Id": "m1", "Timestamps": [-1], "Values": [1.0]}]}, r"Timestamps\[0\] -1 is out of range"),
    ({"MetricDataResults": [{"Id": "m1", "Timestamps": [1e300], "Values": [1.0]}]}, r"Timestamps\[0\]"),
    ({"Label": "x", "Datapoints": [{"Timestamp": "2024-01-01T00:00:00Z", "Average": 1.0, "Unit": ["s"]}]},
     r"Unit must be a string"),
])
def test_hostile_metrics_fields_are_named(source, message):
    with pytest.raises(TraceFormatError, match=message):
        tk.read_metrics(source)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            df = tk.read_metrics(source, errors="skip")
        except TraceFormatError as e:  # nothing left: "no metric data point"
            assert "no " in str(e).lower()
        else:
            assert df.attrs["skipped"]


@pytest.mark.parametrize("time, message", [(float("nan"), "finite"), (float("inf"), "finite"), ("-1", "time"),
                                           ("99999-01-01T00:00:00Z", "time")])
def test_hostile_json_line_times_are_named(time, message):
    recs = [{"time": time, "level": "info", "msg": "a"}, {"time": "2024-01-01T00:00:00Z", "level": "info", "msg": "b"}]
    with pytest.raises(TraceFormatError, match=message):
        tk.read_logs(recs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = tk.read_logs(recs, errors="skip")
    assert df["body"].tolist() == ["b"] and len(df.attrs["skipped"]) == 1


def test_a_scope_that_is_not_an_object_is_named_for_logs_as_for_spans():
    doc = logs_doc([log_record(0)])
    doc["resourceLogs"][0]["scopeLogs"][0]["scope"] = ["lib"]
    with pytest.raises(TraceFormatError, match="scope must be an object"):
        tk.read_logs(doc)


@pytest.mark.parametrize("reader, doc", [(tk.read_logs, "logs"), (tk.read_metrics, "metrics"), (tk.read_otlp, "spans")])
def test_nuls_in_a_damaged_first_line_do_not_lose_the_file(reader, doc):
    """A first line of ``\\x00n\\x00ull`` looks like UTF-16 by where its NULs fall (RFC 4627's guess) but does not
    decode as such: the whole file was one skipped record. Read as the bytes it is, the bad line is named and the
    other lines load."""
    from .test_fuzz_readers import otlp_doc, otlp_span

    lines = [orjson.dumps(_line_doc(doc, i) if doc != "spans" else otlp_doc([otlp_span(i)])) for i in (1, 2)]
    data = b"\x00n\x00ull\n" + b"\n".join(lines) + b"\n"
    with pytest.raises(TraceFormatError, match="line 1"):
        reader(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = reader(data, errors="skip")
    assert len(df.attrs["skipped"]) == 1 and len(df) == {"logs": 2, "metrics": 10, "spans": 2}[doc]


def test_a_cloudwatch_timestamp_beyond_int64_nanoseconds_is_named():
    doc = {"events": [{"timestamp": 9_223_372_036_855, "message": "a", "ingestionTime": 9_223_372_036_855},
                      {"timestamp": 1_704_067_200_000, "message": "b", "ingestionTime": 9_223_372_036_855}]}
    with pytest.raises(TraceFormatError, match=r"timestamp 9223372036855 is out of range"):
        tk.read_logs(doc)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = tk.read_logs(doc, errors="skip")
    # an ingestion time beyond it is refused as the timestamp is (it was read as unknown, the value lost without a word)
    assert len(df) == 0 and [s.record for s in df.attrs["skipped"]] == ["events[0]", "events[1]"]
    assert "ingestionTime must be milliseconds since the epoch" in df.attrs["skipped"][1].reason
