"""Session 48, readers8: the readers on data their authors did not write (log lines of common Java/Python loggers)."""

from __future__ import annotations

import copy
import json

import pandas as pd

import tracekit as tk

TID = "0af7651916cd43dd8448eb211c80319c"
SID = "b7ad6b7169203331"
TX = "00f067aa0ba902b7"


def _vals(col: pd.Series) -> list:
    """A column's values with every missing one as None (NA compares as neither equal nor unequal)."""
    return [None if pd.isna(v) else v for v in col.tolist()]


def _read_lines(tmp_path, records: list[dict]) -> pd.DataFrame:
    p = tmp_path / "app.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in records))
    return tk.read_logs(p)


def test_ecs_nested_trace_span_and_service(tmp_path):
    """Elastic's ecs-logging-python (StdlibFormatter, StructlogFormatter) writes the trace context nested, as ECS
    allows: ``"trace": {"id": …}``, ``"span": {"id": …}``, ``"service": {"name": …}`` (its tests/test_apm.py pins
    that output). Those records loaded with no trace id, span id or service: no log joined its trace. By
    construction the columns hold the ids and name given; what else those objects hold stays in attributes; the
    caller's parsed records are not changed."""
    recs = [
        {"@timestamp": "2023-11-14T22:13:20.123Z", "log.level": "error", "message": "boom",
         "ecs": {"version": "1.6.0"}, "log": {"logger": "app", "original": "boom"},
         "span": {"id": SID}, "trace": {"id": TID}, "transaction": {"id": TX}, "service": {"name": "checkout"}},
        {"@timestamp": "2023-11-14T22:13:21.000Z", "log.level": "info", "message": "ok",
         "trace": {"id": TID.upper()}, "service": {"name": "cart", "version": "1.2"}},
    ]
    df = _read_lines(tmp_path, recs)
    assert _vals(df["trace_id"]) == [TID, TID]
    assert _vals(df["span_id"]) == [SID, None]
    assert _vals(df["service"]) == ["checkout", "cart"]
    a0, a1 = df["attributes"].tolist()
    assert a0["transaction"] == {"id": TX} and a0["ecs"] == {"version": "1.6.0"}
    assert "trace" not in a0 and "span" not in a0 and "service" not in a0
    assert a1["service"] == {"version": "1.2"} and "trace" not in a1
    given = copy.deepcopy(recs)
    tk.read_logs(recs)
    assert recs == given


def test_ecs_flat_dotted_keys_control(tmp_path):
    """Control: ECS's dotted form (``trace.id``, ``span.id``, ``service.name``), read before and after."""
    df = _read_lines(tmp_path, [{"@timestamp": "2023-11-14T22:13:20Z", "log.level": "warn", "message": "w",
                                 "trace.id": TID, "span.id": SID, "service.name": "checkout"}])
    assert (df["trace_id"].iloc[0], df["span_id"].iloc[0], df["service"].iloc[0]) == (TID, SID, "checkout")


def test_mdc_maps_hold_the_trace_context(tmp_path):
    """OpenTelemetry's Log4j 2 and Logback MDC instrumentations put ``trace_id``/``span_id`` in the thread context,
    which Log4j 2's JsonLayout writes under ``contextMap`` and Logback's JsonEncoder under ``mdc``: those records
    loaded with no trace id. By construction: the ids given; the rest of each map stays in attributes."""
    recs = [
        {"timeMillis": 1700000000123, "thread": "main", "level": "ERROR", "loggerName": "a.B", "message": "boom",
         "contextMap": {"trace_id": TID, "span_id": SID, "trace_flags": "01", "user": "u1"}},
        {"sequenceNumber": 0, "timestamp": 1700000000456, "level": "WARN", "loggerName": "a.B", "message": "w",
         "mdc": {"trace_id": TID, "span_id": SID, "trace_flags": "01"}},
    ]
    df = _read_lines(tmp_path, recs)
    assert _vals(df["trace_id"]) == [TID, TID]
    assert _vals(df["span_id"]) == [SID, SID]
    assert df["attributes"].iloc[0]["contextMap"] == {"trace_flags": "01", "user": "u1"}


def test_log4j2_json_layout_times(tmp_path):
    """Log4j 2's JsonLayout writes the event time as ``"instant": {"epochSecond", "nanoOfSecond"}`` (2.11 on) or
    ``"timeMillis"`` (before, or with includeTimeMillis): both loaded with time NaT, so a Java service's logs fell
    out of every time window. By construction: the exact nanoseconds given."""
    recs = [
        {"instant": {"epochSecond": 1700000000, "nanoOfSecond": 123456789}, "thread": "main", "level": "ERROR",
         "loggerName": "a.B", "message": "boom", "endOfBatch": False, "threadId": 1, "threadPriority": 5},
        {"timeMillis": 1700000001234, "thread": "main", "level": "INFO", "loggerName": "a.B", "message": "ok"},
    ]
    df = _read_lines(tmp_path, recs)
    assert [t.value for t in df["time"]] == [1_700_000_000_123_456_789, 1_700_000_001_234_000_000]
    assert "instant" not in df["attributes"].iloc[0] and "timeMillis" not in df["attributes"].iloc[1]


def test_serilog_compact_json(tmp_path):
    """Serilog's compact JSON (CLEF: ``@t`` time, ``@m`` message or ``@mt`` template, ``@l`` level, ``@tr``/``@sp``
    trace and span ids) was refused as "not a log record". CLEF's rule: a record without ``@l`` is Information. By
    construction: times to the 100 ns given, levels INFO (implicit) and ERROR, the rendered message before the
    template, the ids; the user's properties stay attributes."""
    recs = [
        {"@t": "2023-11-14T22:13:20.1234567Z", "@mt": "Hello, {User}", "User": "nblumhardt", "@tr": TID, "@sp": SID},
        {"@t": "2023-11-14T22:13:21Z", "@m": "Order 7 failed", "@mt": "Order {Id} failed", "@l": "Error", "Id": 7,
         "@x": "System.Exception: boom"},
    ]
    df = _read_lines(tmp_path, recs)
    assert [t.value for t in df["time"]] == [1_700_000_000_123_456_700, 1_700_000_001_000_000_000]
    assert _vals(df["severity_text"]) == ["INFO", "ERROR"]
    assert _vals(df["body"]) == ["Hello, {User}", "Order 7 failed"]
    assert _vals(df["trace_id"]) == [TID, None] and _vals(df["span_id"]) == [SID, None]
    assert df["attributes"].iloc[0]["User"] == "nblumhardt" and df["attributes"].iloc[1]["Id"] == 7


def test_dotnet_json_console_level_and_activity_scope(tmp_path):
    """.NET's JSON console formatter (Microsoft.Extensions.Logging) writes the level as ``LogLevel`` and, with
    ActivityTrackingOptions, the trace context as a scope (``"Scopes": [{"SpanId", "TraceId", "ParentId"}]``): an
    Error record loaded with no severity and no trace id. By construction: ERROR / WARN and the ids given."""
    scope = {"Message": f"SpanId:{SID}, TraceId:{TID}, ParentId:0000000000000000", "SpanId": SID, "TraceId": TID,
             "ParentId": "0000000000000000"}
    recs = [
        {"Timestamp": "2023-11-14T22:13:20.123Z", "EventId": 0, "LogLevel": "Error", "Category": "App", "Message": "boom",
         "State": {"Message": "boom", "{OriginalFormat}": "boom"}, "Scopes": [scope]},
        {"Timestamp": "2023-11-14T22:13:21Z", "EventId": 3, "LogLevel": "Warning", "Category": "App", "Message": "w"},
    ]
    df = _read_lines(tmp_path, recs)
    assert _vals(df["severity_text"]) == ["ERROR", "WARN"]
    assert _vals(df["trace_id"]) == [TID, None] and _vals(df["span_id"]) == [SID, None]
    assert df["attributes"].iloc[0]["Category"] == "App"


def test_docker_json_file_log_holding_a_json_record(tmp_path):
    """Docker's json-file driver (and Fluent Bit / Fluentd shipping container logs) wraps each line the container wrote
    as ``{"log": "<line>\\n", "stream", "time"}``. An application logging JSON had its record kept as the body text:
    no level, no trace id, the body a JSON text. As a CloudWatch message holding a JSON record is read, the line is
    read as the record (its own time the time, Docker's the observed time; the wrapper's fields kept). A text line is
    its text without the newline Docker ends every line with. By construction: the fields given."""
    inner = {"level": "error", "msg": "boom", "trace_id": TID, "span_id": SID, "time": "2023-11-14T22:13:20.5Z"}
    recs = [
        {"log": json.dumps(inner) + "\n", "stream": "stdout", "time": "2023-11-14T22:13:20.600Z"},
        {"log": "plain text line\n", "stream": "stderr", "time": "2023-11-14T22:13:21.123456789Z"},
        {"log": json.dumps({"msg": "no time of its own", "level": "warn"}) + "\n", "stream": "stdout",
         "time": "2023-11-14T22:13:22Z"},
    ]
    df = _read_lines(tmp_path, recs)
    assert _vals(df["body"]) == ["boom", "plain text line", "no time of its own"]
    assert _vals(df["severity_text"]) == ["ERROR", None, "WARN"]
    assert _vals(df["trace_id"]) == [TID, None, None] and _vals(df["span_id"]) == [SID, None, None]
    assert [t.value for t in df["time"]] == [1_700_000_000_500_000_000, 1_700_000_001_123_456_789,
                                             1_700_000_002_000_000_000]
    assert df["observed_time"].iloc[0].value == 1_700_000_000_600_000_000
    assert df["attributes"].iloc[0]["stream"] == "stdout" and df["attributes"].iloc[1]["stream"] == "stderr"


def test_docker_log_beside_a_message_control(tmp_path):
    """Control: a record with a ``message`` and a ``log`` field (the log is then no wrapper) reads as before."""
    df = _read_lines(tmp_path, [{"message": "m", "log": "{\"a\": 1}", "time": "2023-11-14T22:13:20Z"}])
    assert df["body"].iloc[0] == "m" and df["attributes"].iloc[0]["log"] == "{\"a\": 1}"


def test_api_gateway_access_log_xray_trace_id(tmp_path):
    """API Gateway access logs carry the trace as ``"xrayTraceId": "$context.xrayTraceId"`` (the format AWS's examples
    and CDK's ``AccessLogFormat`` write; ``Root=1-…`` or ``1-…``), delivered through CloudWatch Logs: their records
    loaded with no trace id, so no access log joined its trace. By construction: the X-Ray id's 32 hex digits."""
    xid = "1-5759e988-bd862e3fe1be46a994272793"
    msgs = [{"requestId": "r1", "httpMethod": "GET", "status": "503", "xrayTraceId": f"Root={xid}"},
            {"requestId": "r2", "httpMethod": "GET", "status": "200", "xrayTraceId": xid}]
    out = {"events": [{"logStreamName": "s", "timestamp": 1700000000000 + i, "message": json.dumps(m),
                       "ingestionTime": 1700000000500, "eventId": str(i)} for i, m in enumerate(msgs)]}
    p = tmp_path / "apigw.json"
    p.write_text(json.dumps(out))
    df = tk.read_logs(p)
    assert _vals(df["trace_id"]) == ["5759e988bd862e3fe1be46a994272793"] * 2
    assert df["attributes"].iloc[0]["requestId"] == "r1"


def test_cloudwatch_event_whose_json_message_has_no_message_key(tmp_path):
    """API Gateway's default JSON access log format (``requestId``, ``ip``, ``requestTime``, ``httpMethod``,
    ``status``…: no message, no time key, no trace id) delivered through CloudWatch Logs: the read was refused as
    "not a log record" (``errors="skip"``: every event skipped), though each event has its CloudWatch time. By
    construction: one row per event at its event time, the fields in attributes."""
    msgs = [{"requestId": f"r{i}", "ip": "1.2.3.4", "requestTime": "14/Nov/2023:22:13:20 +0000", "httpMethod": "GET",
             "resourcePath": "/x", "status": str(s), "protocol": "HTTP/1.1", "responseLength": "12"}
            for i, s in enumerate((200, 503, 200))]
    out = {"events": [{"logStreamName": "s", "timestamp": 1700000000000 + i, "message": json.dumps(m),
                       "ingestionTime": 1700000000500, "eventId": str(i)} for i, m in enumerate(msgs)]}
    p = tmp_path / "apigw.json"
    p.write_text(json.dumps(out))
    df = tk.read_logs(p)
    assert [t.value for t in df["time"]] == [(1700000000000 + i) * 1_000_000 for i in range(3)]
    assert [a["status"] for a in df["attributes"]] == ["200", "503", "200"]


def test_otel_python_logging_instrumentation_outside_a_span(tmp_path):
    """OpenTelemetry Python's LoggingInstrumentor puts ``otelTraceID``/``otelSpanID``/``otelServiceName`` on every
    record, ``"0"`` for both ids when no span is current (its record factory's default). A JSON log of such records
    was refused (``otelTraceID '0' is not 32 hex digits``; ``errors="skip"``: every record logged outside a span
    skipped) and the service was an attribute. By construction: no ids for the record outside a span, the ids for the
    one inside, the service of both."""
    recs = [
        {"asctime": "2023-11-14 22:13:20,123", "levelname": "INFO", "message": "outside a span", "otelTraceID": "0",
         "otelSpanID": "0", "otelServiceName": "checkout", "otelTraceSampled": False},
        {"asctime": "2023-11-14 22:13:21,123", "levelname": "ERROR", "message": "in a span", "otelTraceID": TID,
         "otelSpanID": SID, "otelServiceName": "checkout", "otelTraceSampled": True},
    ]
    df = _read_lines(tmp_path, recs)
    assert _vals(df["trace_id"]) == [None, TID] and _vals(df["span_id"]) == [None, SID]
    assert _vals(df["service"]) == ["checkout", "checkout"]
    assert _vals(df["body"]) == ["outside a span", "in a span"]


def test_rust_tracing_subscriber_json_message(tmp_path):
    """Rust's tracing-subscriber JSON format (its default, without flatten_event) nests the event's fields, the message
    among them: ``{"timestamp", "level", "fields": {"message": …, …}, "target"}``. The records loaded with no body. By
    construction: the message given, the other fields kept."""
    recs = [{"timestamp": "2022-02-15T18:47:10.821315Z", "level": "INFO",
             "fields": {"message": "preparing to shave yaks", "number_of_yaks": 3}, "target": "fmt_json"},
            {"timestamp": "2022-02-15T18:47:11Z", "level": "ERROR", "fields": {"message": "boom"}, "target": "fmt_json"}]
    df = _read_lines(tmp_path, recs)
    assert _vals(df["body"]) == ["preparing to shave yaks", "boom"]
    assert _vals(df["severity_text"]) == ["INFO", "ERROR"]
    assert df["attributes"].iloc[0]["fields"] == {"number_of_yaks": 3} and "fields" not in df["attributes"].iloc[1]


def test_wrapped_json_record_delivered_through_cloudwatch(tmp_path):
    """Fluent Bit shipping a container's lines to CloudWatch Logs: each event's message is the wrapper
    ``{"log": "<json line>\\n", "stream", "time"}``. The record is read (its trace id, level, message) at the event's
    time, as any CloudWatch JSON message is. By construction: the event times and the ids given."""
    inner = {"level": "error", "msg": "boom", "trace_id": TID}
    msgs = [{"log": json.dumps(inner) + "\n", "stream": "stdout"},
            {"log": json.dumps(inner) + "\n", "stream": "stdout", "time": "2023-11-14T22:13:25Z"}]
    out = {"events": [{"logStreamName": "s", "timestamp": 1700000000000 + i, "message": json.dumps(m),
                       "ingestionTime": 1700000000500, "eventId": str(i)} for i, m in enumerate(msgs)]}
    p = tmp_path / "cw.json"
    p.write_text(json.dumps(out))
    df = tk.read_logs(p)
    assert [t.value for t in df["time"]] == [(1700000000000 + i) * 1_000_000 for i in range(2)]
    assert _vals(df["trace_id"]) == [TID, TID] and _vals(df["body"]) == ["boom", "boom"]
    assert _vals(df["severity_text"]) == ["ERROR", "ERROR"]


def test_a_span_object_of_another_logger_is_no_trace_context(tmp_path):
    """Control for the ECS rule: Rust tracing-subscriber's JSON puts the current span's fields in ``"span"`` (an
    ``id`` field of the application's among them); that ``id`` (not 16 hex digits) is no span id: the record loads,
    the object kept whole."""
    rec = {"timestamp": "2022-02-15T18:47:10Z", "level": "INFO", "fields": {"message": "m"},
           "span": {"id": "42", "name": "handle"}, "target": "app"}
    df = _read_lines(tmp_path, [rec])
    assert _vals(df["span_id"]) == [None] and df["attributes"].iloc[0]["span"] == {"id": "42", "name": "handle"}


def test_ecs_nested_host(tmp_path):
    """Filebeat / Elastic Agent records (ECS) name the host nested, ``"host": {"name": …, "os": {…}}``: it was an
    attribute and the host column empty, so no log joined its host's metrics. By construction: the name given, the
    rest of the object kept."""
    recs = [{"@timestamp": "2023-11-14T22:13:20Z", "message": "m", "host": {"name": "ip-10-0-0-1", "os": {"family": "x"}}},
            {"@timestamp": "2023-11-14T22:13:21Z", "message": "n", "host": {"hostname": "web-2"}}]
    df = _read_lines(tmp_path, recs)
    assert _vals(df["host"]) == ["ip-10-0-0-1", "web-2"]
    assert df["attributes"].iloc[0]["host"] == {"os": {"family": "x"}} and "host" not in df["attributes"].iloc[1]


def test_fluent_bit_kubernetes_pod_is_the_host(tmp_path):
    """Fluent Bit's (and Fluentd's) kubernetes filter adds ``"kubernetes": {"pod_name", "namespace_name", "host",
    "container_name", …}`` to each container line; the pod, which the reader takes as the host when named flat
    (``pod``, ``k8s.pod.name``), was left in attributes and the host column empty. By construction: the pod's name
    (not the node's, ``kubernetes.host``), the rest of the metadata kept."""
    meta = {"pod_name": "checkout-7d9f-abcde", "namespace_name": "shop", "host": "node-1", "container_name": "app"}
    recs = [{"log": json.dumps({"level": "error", "msg": "boom"}) + "\n", "stream": "stdout",
             "time": "2023-11-14T22:13:20Z", "kubernetes": meta},
            {"log": "text\n", "stream": "stderr", "time": "2023-11-14T22:13:21Z", "kubernetes": meta}]
    df = _read_lines(tmp_path, recs)
    assert _vals(df["host"]) == ["checkout-7d9f-abcde"] * 2
    assert df["attributes"].iloc[1]["kubernetes"] == {"namespace_name": "shop", "host": "node-1", "container_name": "app"}
    assert recs[0]["kubernetes"] is meta and "pod_name" in meta


def test_cloudwatch_log_group_with_embedded_metric_format_records(tmp_path):
    """A Lambda log group holding Embedded Metric Format records (Powertools Metrics, ``aws-embedded-metrics``:
    ``{"_aws": {"Timestamp", "CloudWatchMetrics"}, "<metric>": …}``, no message key) beside text lines: the whole read
    was refused at the first EMF record as "not a log record". Every event is a record at its event time (the EMF
    fields its attributes); the text line reads as before. By construction: 2 rows at the 2 event times."""
    emf = {"_aws": {"Timestamp": 1700000000000, "CloudWatchMetrics": [
        {"Namespace": "App", "Dimensions": [["service"]], "Metrics": [{"Name": "Latency", "Unit": "Milliseconds"}]}]},
        "service": "checkout", "Latency": 12}
    out = {"events": [
        {"logStreamName": "s", "timestamp": 1700000000000, "message": json.dumps(emf), "ingestionTime": 1700000000500},
        {"logStreamName": "s", "timestamp": 1700000000001, "message": "START RequestId: x", "ingestionTime": 1700000000500}]}
    p = tmp_path / "lambda.json"
    p.write_text(json.dumps(out))
    df = tk.read_logs(p)
    assert [t.value for t in df["time"]] == [1_700_000_000_000_000_000, 1_700_000_000_001_000_000]
    assert df["attributes"].iloc[0]["Latency"] == 12 and _vals(df["body"]) == [None, "START RequestId: x"]
