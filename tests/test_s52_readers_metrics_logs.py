"""Session 52, readers (metrics and logs): four defects a reviewer found (/tmp/tk/s52/readers/findings.md items 2, 5, 6
and 10), each pinned by its exact value or message.

* A ResourceMetrics whose ``scopeMetrics`` / ``instrumentationLibraryMetrics`` is a number or a boolean: a
  TraceFormatError naming the file and ``resourceMetrics[i]`` (it was a bare TypeError, with ``errors="skip"`` too).
* CloudWatch ``ExtendedStatistics``: ``p99.9`` is quantile 0.999 exactly, ``p99.99`` 0.9999, ``p100`` 1.0.
* A CloudWatch Logs event's ``timestamp`` (or ``ingestionTime``) in epoch seconds is refused, naming the file and the
  event (it was read as milliseconds: January 1970).
* X-Ray segment documents and the X-Ray daemon's header are other signals' documents for ``read_logs`` and
  ``read_metrics``: listed in ``attrs["ignored"]``, never a log row with no time, never an error.
"""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest

import tracekit as tk

GOOD = {"name": "m", "gauge": {"dataPoints": [{"timeUnixNano": "1700000000000000000", "asDouble": 1}]}}


def _skip(reader, source, **kw):
    """A read with errors="skip" (its one TraceFormatWarning caught)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tk.TraceFormatWarning)
        return reader(source, errors="skip", **kw)


# -- 1. read_metrics: scopeMetrics / instrumentationLibraryMetrics that is no list ----------------------------------

@pytest.mark.parametrize(("bad", "reason"), [
    ({"scopeMetrics": 1.5}, "scopeMetrics must be a list, got 1.5"),
    ({"scopeMetrics": True}, "scopeMetrics must be a list, got true"),
    ({"instrumentationLibraryMetrics": True}, "instrumentationLibraryMetrics must be a list, got true"),
    ({"scopeMetrics": [], "instrumentationLibraryMetrics": 1}, "instrumentationLibraryMetrics must be a list, got 1"),
    ({"scope_metrics": 2}, "scopeMetrics must be a list, got 2"),
])
def test_metrics_scope_list_that_is_a_scalar_is_named(tmp_path, bad, reason):
    doc = {"resourceMetrics": [{"scopeMetrics": [{"metrics": [GOOD]}]}, bad]}
    p = tmp_path / "r01.json"
    p.write_text(json.dumps(doc))
    for source, file in ((p, str(p)), (doc, "<object>")):
        with pytest.raises(tk.TraceFormatError) as e:
            tk.read_metrics(source)
        assert str(e.value) == f"{file}, resourceMetrics[1]: {reason}"
        assert (e.value.file, e.value.record) == (file, "resourceMetrics[1]")
        df = _skip(tk.read_metrics, source)
        assert df["value"].tolist() == [1.0]  # the good point loads
        assert df["time"].tolist() == [pd.Timestamp(1_700_000_000_000_000_000, tz="UTC")]
        assert [(s.file, s.record, s.reason) for s in df.attrs["skipped"]] == [(file, "resourceMetrics[1]", reason)]


# -- 2. CloudWatch ExtendedStatistics: pNN keys as exact decimal quantiles ------------------------------------------

def test_cloudwatch_percentile_keys_are_exact_quantiles():
    gms = {"Label": "Latency", "Datapoints": [{"Timestamp": "2024-01-01T00:00:00Z", "Unit": "Milliseconds", "Average": 12.0,
           "ExtendedStatistics": {"p50": 10.0, "p99.9": 80.0, "p99.99": 95.0, "p100": 120.0, "p0": 1.0,
                                  "tm99": 9.0, "p100.5": 7.0}}]}
    df = tk.read_metrics(gms)
    q = df["quantiles"].iloc[0]
    assert q == {0.5: 10.0, 0.999: 80.0, 0.9999: 95.0, 1.0: 120.0, 0.0: 1.0}
    assert list(q) == [0.5, 0.999, 0.9999, 1.0, 0.0]  # exactly those doubles: 0.999, not 0.9990000000000001
    assert 0.999 in q and 0.9999 in q and 1.0 in q
    # what is no percentile stays an attribute as written (a trimmed mean; no percentile above 100)
    assert dict(df["attributes"].iloc[0]) == {"tm99": 9.0, "p100.5": 7.0}


@pytest.mark.parametrize(("key", "quantile"), [("p99.9", 0.999), ("p99.99", 0.9999), ("p99.999", 0.99999),
                                               ("p100", 1.0), ("p100.0", 1.0), ("p0.1", 0.001), ("p95", 0.95),
                                               ("p99.90", 0.999), ("p33.3", 0.333), ("p5", 0.05)])
def test_cloudwatch_percentile_key_value(key, quantile):
    gms = {"Label": "L", "Datapoints": [{"Timestamp": "2024-01-01T00:00:00Z", "ExtendedStatistics": {key: 3.0}}]}
    df = _skip(tk.read_metrics, gms)
    assert df["quantiles"].iloc[0] == {quantile: 3.0}
    assert list(df["quantiles"].iloc[0])[0] == quantile
    assert dict(df["attributes"].iloc[0]) == {}


# -- 3. CloudWatch Logs events: a timestamp in epoch seconds is refused ---------------------------------------------

SECONDS_REASON = ("timestamp 1704067200 is epoch seconds, not milliseconds: as milliseconds it is 1970-01-20 17:21:07 "
                  "UTC, as seconds 2024-01-01 00:00:00 UTC (a CloudWatch Logs event's times are milliseconds since the "
                  "epoch: multiply by 1000)")


def test_cloudwatch_event_timestamp_in_seconds_is_refused(tmp_path):
    gle = {"events": [{"timestamp": 1704067200000, "message": "ok", "ingestionTime": 1704067201000},
                      {"timestamp": 1704067200, "message": "hello", "ingestionTime": 1704067201}],
           "nextForwardToken": "f/1"}
    p = tmp_path / "gle.json"
    p.write_text(json.dumps(gle))
    for source, file in ((p, str(p)), (gle, "<object>")):
        with pytest.raises(tk.TraceFormatError) as e:
            tk.read_logs(source)
        assert str(e.value) == f"{file}, events[1]: {SECONDS_REASON}"
        df = _skip(tk.read_logs, source)
        assert df["body"].tolist() == ["ok"]
        assert df["time"].tolist() == [pd.Timestamp("2024-01-01", tz="UTC")]
        assert [(s.file, s.record, s.reason) for s in df.attrs["skipped"]] == [(file, "events[1]", SECONDS_REASON)]


def test_cloudwatch_ingestion_time_in_seconds_and_subscription_events(tmp_path):
    gle = {"events": [{"timestamp": 1704067200000, "message": "hello", "ingestionTime": 1704067201}]}
    with pytest.raises(tk.TraceFormatError) as e:
        tk.read_logs(gle)
    assert str(e.value) == ("<object>, events[0]: ingestionTime 1704067201 is epoch seconds, not milliseconds: as "
                            "milliseconds it is 1970-01-20 17:21:07 UTC, as seconds 2024-01-01 00:00:01 UTC (a "
                            "CloudWatch Logs event's times are milliseconds since the epoch: multiply by 1000)")
    payload = {"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "g", "logStream": "s",
               "subscriptionFilters": ["f"], "logEvents": [{"id": "1", "timestamp": 1704067200, "message": "hi"}]}
    with pytest.raises(tk.TraceFormatError) as e:
        tk.read_logs(payload)
    assert str(e.value) == f"<object>, logEvents[0]: {SECONDS_REASON}"


def test_cloudwatch_event_times_that_are_milliseconds_still_load():
    # milliseconds of 2024, and small numbers (no 1990-2100 time in seconds): read as milliseconds, as before
    gle = {"events": [{"timestamp": 1704067200123, "message": "a"}, {"timestamp": 5000, "message": "b"},
                      {"timestamp": 631151999, "message": "c"}, {"timestamp": 4102444801, "message": "d"}]}
    df = tk.read_logs(gle)
    assert df["time"].tolist() == [pd.Timestamp("2024-01-01 00:00:00.123", tz="UTC"),
                                   pd.Timestamp(5000, unit="ms", tz="UTC"),
                                   pd.Timestamp(631151999, unit="ms", tz="UTC"),
                                   pd.Timestamp(4102444801, unit="ms", tz="UTC")]


# -- 4. X-Ray documents beside logs and metrics: listed as other signals ---------------------------------------------

SEG = {"trace_id": "1-5759e988-bd862e3fe1be46a994272793", "id": "53995c3f42cd8ad8", "name": "api",
       "start_time": 1500000000.5, "end_time": 1500000001.25, "http": {"response": {"status": 500}}}
SEG2 = {**SEG, "id": "53995c3f42cd8ad9", "name": "worker"}
SUBSEG = {"trace_id": SEG["trace_id"], "id": "70de5b6f19ff9a0b", "name": "DynamoDB", "type": "subsegment",
          "parent_id": SEG["id"], "start_time": 1500000000.6, "in_progress": True, "namespace": "aws"}
METRICS = {"resourceMetrics": [{"scopeMetrics": [{"metrics": [GOOD]}]}]}


def _mixed(tmp_path):
    d = tmp_path / "mixed"
    d.mkdir()
    (d / "segment.json").write_text(json.dumps(SEG))
    (d / "daemon.txt").write_text('{"format": "json", "version": 1}\n' + json.dumps(SEG2) + "\n"
                                  + '{"format": "json", "version": 1}\n' + json.dumps(SUBSEG) + "\n")
    (d / "app.jsonl").write_text(json.dumps({"message": "hello", "timestamp": "2024-01-01T00:00:00Z"}) + "\n"
                                 + json.dumps({"msg": "charged", "level": "info", "ts": 1704067201,
                                               "trace_id": SEG["trace_id"]}) + "\n")
    batch = {"Traces": [{"Id": SEG["trace_id"], "Segments": [{"Id": SEG["id"], "Document": json.dumps(SEG)}]}]}
    (d / "batch.json").write_text(json.dumps(batch))
    return d


def _ignored(df, d):
    return sorted((str(s.file).removeprefix(f"{d}/"), s.record, s.reason) for s in df.attrs["ignored"])


def test_read_logs_lists_xray_documents_and_the_daemon_header(tmp_path):
    d = _mixed(tmp_path)
    df = tk.read_logs(d)  # errors="raise": no error (the daemon header failed the read)
    assert df["body"].tolist() == ["hello", "charged"]
    assert df["time"].tolist() == [pd.Timestamp("2024-01-01", tz="UTC"), pd.Timestamp("2024-01-01 00:00:01", tz="UTC")]
    assert df["trace_id"].tolist()[1] == "5759e988bd862e3fe1be46a994272793"
    assert _ignored(df, d) == [
        ("batch.json", None, "Traces: not log data"),
        ("daemon.txt", "line 1", "X-Ray daemon header: not log data"),
        ("daemon.txt", "line 2", "X-Ray segment document: not log data"),
        ("daemon.txt", "line 3", "X-Ray daemon header: not log data"),
        ("daemon.txt", "line 4", "X-Ray segment document: not log data"),
        ("segment.json", None, "X-Ray segment document: not log data"),
    ]
    assert list(_skip(tk.read_logs, d).attrs["skipped"]) == []


def test_read_logs_of_a_real_segment_document_is_no_log(real_traces):
    p = real_traces / "otel-contrib-awsxray-testdata" / "ddbSample.txt"
    with pytest.raises(tk.TraceFormatError) as e:
        tk.read_logs(p)
    assert str(e.value) == (f"{p}: no log records found (1 document that is not log data; first: X-Ray segment "
                            "document: not log data)")
    # the whole folder of the collector's X-Ray test documents (one without start_time, one in progress, independent
    # subsegments): each listed, none a row
    with pytest.raises(tk.TraceFormatError) as e:
        tk.read_logs(p.parent)
    assert "no log records found (13 documents that are not log data; first: X-Ray segment document" in str(e.value)


def test_log_lines_with_xray_fields_stay_log_records():
    # a log line carrying the trace id (and even id, name and start_time) with a message is a log record
    lines = [{"message": "charged", "trace_id": SEG["trace_id"], "timestamp": 1704067200},
             {"msg": "started", "id": "53995c3f42cd8ad8", "name": "job", "start_time": 1704067200.5,
              "trace_id": SEG["trace_id"]},
             {"level": "info", "trace_id": SEG["trace_id"], "id": "x", "name": "y", "end_time": 1.0},
             {"timestamp": 1704067200, "trace_id": SEG["trace_id"], "id": "x", "name": "y", "start_time": 1.0}]
    df = tk.read_logs(lines)
    assert df["body"].tolist()[:2] == ["charged", "started"]
    assert len(df) == 4
    assert df["trace_id"].tolist() == ["5759e988bd862e3fe1be46a994272793"] * 4
    assert list(df.attrs["ignored"]) == []


def test_read_metrics_lists_logs_and_xray_documents(tmp_path):
    d = _mixed(tmp_path)
    (d / "metrics.json").write_text(json.dumps(METRICS))
    df = tk.read_metrics(d)  # errors="raise": no error (app.jsonl was "unknown metrics format")
    assert df["value"].tolist() == [1.0]
    log_line = "not metrics: a JSON log record (a message and a level, time or trace id, which tk.read_logs reads)"
    assert _ignored(df, d) == [
        ("app.jsonl", "line 1", log_line),
        ("app.jsonl", "line 2", log_line),  # (one rule for every reader: _sources.is_log_record)
        ("batch.json", None, "not metrics: Traces"),
        ("daemon.txt", "line 1", "not metrics: X-Ray daemon header"),
        ("daemon.txt", "line 2", "not metrics: X-Ray segment document"),
        ("daemon.txt", "line 3", "not metrics: X-Ray daemon header"),
        ("daemon.txt", "line 4", "not metrics: X-Ray segment document"),
        ("segment.json", None, "not metrics: X-Ray segment document"),
    ]
    assert list(_skip(tk.read_metrics, d).attrs["skipped"]) == []
    # still an error: a JSON object that is neither metrics nor another signal's document
    with pytest.raises(tk.TraceFormatError, match=r"<object>: unknown metrics format: a JSON object with keys id, name"):
        tk.read_metrics({"id": "a", "name": "b"})


def test_is_daemon_header_and_is_segment_document():
    from tracekit.io.xray import is_daemon_header, is_segment_document

    assert is_daemon_header({"format": "json", "version": 1})
    assert not is_daemon_header({"format": "json", "version": 1, "x": 2})
    assert is_segment_document(SEG) and is_segment_document(SUBSEG)
    assert not is_segment_document({"id": "a", "name": "b"})  # no time: not said to be X-Ray
    assert not is_segment_document({"id": 1, "name": "b", "start_time": 1.0})
