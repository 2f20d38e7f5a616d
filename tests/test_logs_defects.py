"""Defects found in the logs readers by a tester: each test failed on main at 4653f2e (a record read as nothing, a
value silently dropped or kept wrong, a bare pandas/numpy exception, a result sharing the caller's dicts)."""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest

import tracekit as tk

from .conftest import REPO

T1 = "1dbe317eb73eb6e3bbb51a2bc3a41e09"
S1 = "3e3a5741b18f0710"


def _rec(**kw):
    return {"timeUnixNano": "1700000000000000000", "severityText": "INFO", "body": {"stringValue": "hello"}, **kw}


def _doc(*recs):
    return {"resourceLogs": [{"scopeLogs": [{"logRecords": list(recs)}]}]}


def _both_paths(p, monkeypatch):
    """``read_logs(p)`` by the fast path and by the checked walk (lazy columns as plain object columns)."""
    import tracekit.io.logs as L

    fast = tk.read_logs(p)
    monkeypatch.setattr(L, "FAST_PATH", False)
    checked = tk.read_logs(p)
    monkeypatch.setattr(L, "FAST_PATH", True)
    plain = {c: object for c in ("attributes", "resource")}
    return fast.astype(plain), checked.astype(plain)


# --------------------------------------------------------------------------------------------- 1: legacy OTLP "logs"


def _legacy(*recs):
    """The pre-1.0 proto's shape (OTel spec's old file-exporter example): instrumentationLibraryLogs[].logs[]."""
    return {"resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "cart"}}]},
                              "instrumentationLibraryLogs": [{"instrumentationLibrary": {"name": "lib"},
                                                              "logs": list(recs)}]}]}


def test_legacy_instrumentation_library_logs_named_logs_are_read():
    df = tk.read_logs(_legacy(_rec(body={"stringValue": "old one"}), _rec(body={"stringValue": "old two"})))
    assert df["body"].tolist() == ["old one", "old two"] and set(df["service"]) == {"cart"}
    assert df.loc[0, "resource"]["otel.scope.name"] == "lib"


def test_legacy_records_beside_current_ones_in_one_file_are_all_read(tmp_path, monkeypatch):
    p = tmp_path / "mixed.jsonl"
    p.write_text(json.dumps(_doc(_rec(body={"stringValue": "new"}))) + "\n"
                 + json.dumps(_legacy(_rec(body={"stringValue": "old"}))) + "\n")
    fast, checked = _both_paths(p, monkeypatch)
    assert fast["body"].tolist() == ["new", "old"] and fast["source_record"].tolist() == [1, 2]
    pd.testing.assert_frame_equal(fast, checked)
    q = tmp_path / "dir"
    q.mkdir()
    (q / "a.json").write_text(json.dumps(_doc(_rec(body={"stringValue": "new"}))))
    (q / "b.json").write_text(json.dumps(_legacy(_rec(body={"stringValue": "old"}))))
    assert sorted(tk.read_logs(q)["body"]) == ["new", "old"]


def test_a_legacy_logs_key_that_is_no_list_is_named():
    with pytest.raises(tk.TraceFormatError, match=r"instrumentationLibraryLogs\[0\]: logs must be a list"):
        tk.read_logs({"resourceLogs": [{"instrumentationLibraryLogs": [{"logs": {"timeUnixNano": "1"}}]}]})


# --------------------------------------------------------------------------------------------- 2: Google Cloud LogEntry


def test_google_cloud_log_entry_trace_text_payload_and_receive_timestamp():
    entry = {"insertId": "i1", "logName": "projects/p/logs/app", "timestamp": "2024-05-05T10:32:19Z",
             "receiveTimestamp": "2024-05-05T10:32:20.5Z", "severity": "ERROR", "textPayload": "boom",
             "trace": f"projects/p/traces/{T1}", "spanId": S1, "traceSampled": True,
             "resource": {"type": "k8s_container", "labels": {"pod_name": "web-1"}}}
    r = tk.read_logs([entry]).iloc[0]
    assert (r.trace_id, r.span_id, r.body, r.severity_text) == (T1, S1, "boom", "ERROR")
    assert r.observed_time == pd.Timestamp("2024-05-05T10:32:20.5Z")
    assert r.attributes == {"insertId": "i1", "logName": "projects/p/logs/app", "traceSampled": True,
                            "resource": {"type": "k8s_container", "labels": {"pod_name": "web-1"}}}


def test_a_trace_field_that_is_no_google_cloud_trace_stays_an_attribute():
    """``trace`` is no id field of other loggers (a stack trace, a flag): only Google Cloud's form is read."""
    df = tk.read_logs([{"msg": "x", "trace": "at Foo.bar(Foo.java:12)"}, {"msg": "y", "trace": True}])
    assert df["trace_id"].isna().all()
    assert df["attributes"].tolist() == [{"trace": "at Foo.bar(Foo.java:12)"}, {"trace": True}]


def test_an_empty_google_cloud_trace_is_kept_as_written():
    df = tk.read_logs([{"msg": "x", "logging.googleapis.com/trace": "projects/p/traces/"},
                       {"msg": "y", "trace": "projects/p/traces/", "spanId": S1}])
    assert df["trace_id"].isna().all() and pd.isna(df.loc[0, "span_id"]) and df.loc[1, "span_id"] == S1
    assert df.loc[0, "attributes"] == {"logging.googleapis.com/trace": "projects/p/traces/"}
    assert df.loc[1, "attributes"] == {"trace": "projects/p/traces/"}


# --------------------------------------------------------------------------------------------- 3: quoted numbers


def test_a_quoted_severity_number_is_read_in_both_paths(tmp_path, monkeypatch):
    p = tmp_path / "q.jsonl"
    p.write_text(json.dumps(_doc(_rec(severityNumber="9", severityText="x"), _rec(severityNumber=18,
                                                                                   severityText="y"))) + "\n")
    fast, checked = _both_paths(p, monkeypatch)
    pd.testing.assert_frame_equal(fast, checked)
    assert fast["severity_number"].tolist() == [9, 18] and fast["severity_text"].tolist() == ["INFO", "ERROR"]
    with pytest.raises(tk.TraceFormatError, match=r"severityNumber must be an integer 0-24, got '9.0'"):
        tk.read_logs(_doc(_rec(severityNumber="9.0")))


# --------------------------------------------------------------------------------------------- 4: a bad id names its field


def test_a_bad_trace_id_of_a_json_record_names_its_field():
    rec = {"level": "ERROR", "message": "m", "timestamp": "2021-12-12T22:59:06.334Z",
           "xray_trace_id": "abcdef123456abcdef123456abcdef123456"}
    with pytest.raises(tk.TraceFormatError, match=r"\[0\]: xray_trace_id 'abcdef123456abcdef123456abcdef123456' is not "
                                                  r"32 hex digits"):
        tk.read_logs([rec])
    with pytest.raises(tk.TraceFormatError, match=r"span\.id 'zz' is not 16 hex digits"):
        tk.read_logs([{"msg": "x", "span.id": "zz"}])
    with pytest.raises(tk.TraceFormatError, match=r"traceId 'abc' is not 32 hex digits"):
        tk.read_logs(_doc(_rec(traceId="abc")))
    with pytest.warns(tk.TraceFormatWarning, match="xray_trace_id"):
        df = tk.read_logs([rec, {"msg": "ok", "trace_id": T1}], errors="skip")
    assert df["body"].tolist() == ["ok"] and "xray_trace_id" in df.attrs["skipped"][0].reason


# --------------------------------------------------------------------------------------------- 5: levels


def test_levels_no_logger_word_names_are_kept_as_written():
    df = tk.read_logs([{"level": "UNDEFINED", "msg": "a"}, {"level": "DPANIC", "msg": "b"},
                       {"level": "30", "msg": "c"}, {"level": "50", "msg": "d"}, {"level": "99", "msg": "e"},
                       {"severity": "DEFAULT", "msg": "f"}])
    assert df["severity_text"].tolist()[1:4] == ["FATAL", "INFO", "ERROR"]
    assert df["severity_number"].tolist()[1:4] == [21, 9, 17]
    assert pd.isna(df.loc[0, "severity_text"]) and df.loc[0, "attributes"] == {"level": "UNDEFINED"}
    assert pd.isna(df.loc[4, "severity_text"]) and df.loc[4, "attributes"] == {"level": "99"}
    assert df.loc[5, "attributes"] == {"severity": "DEFAULT"}
    assert tk.validate_logs(df) is df


def test_severity_name_is_the_word_table_of_normalize_severity():
    from tracekit.logs_schema import severity_name

    assert [severity_name(x) for x in ("Information", " dpanic", "UNDEFINED", 5, None)] == \
        ["INFO", "FATAL", None, None, None]


# --------------------------------------------------------------------------------------------- 6: negative times


@pytest.mark.parametrize("t", [-5, "-5", -(2**63), -(2**63) - 1])
def test_negative_otlp_times_are_refused(t):
    with pytest.raises(tk.TraceFormatError, match=r"logRecords\[0\]: timeUnixNano must be nanoseconds"):
        tk.read_logs(_doc(_rec(timeUnixNano=t)))
    with pytest.raises(tk.TraceFormatError, match=r"observedTimeUnixNano must be nanoseconds"):
        tk.read_logs(_doc(_rec(observedTimeUnixNano=t)))


def test_negative_times_of_json_lines_cloudwatch_and_columns_are_refused():
    with pytest.raises(tk.TraceFormatError, match=r"\[0\]: time -5 is before 1970"):
        tk.read_logs([{"time": -5, "msg": "x"}])
    with pytest.raises(tk.TraceFormatError, match=r"time '1960-01-01T00:00:00Z' is before 1970"):
        tk.read_logs([{"time": "1960-01-01T00:00:00Z", "msg": "x"}])
    with pytest.raises(tk.TraceFormatError, match=r"events\[0\]: timestamp -1 is out of range"):
        tk.read_logs({"events": [{"timestamp": -1, "message": "x"}]})
    with pytest.raises(tk.TraceFormatError, match=r"events\[0\]: ingestionTime must be milliseconds"):
        tk.read_logs({"events": [{"timestamp": 1, "message": "x", "ingestionTime": -1}]})
    with pytest.raises(tk.LogsSchemaError, match=r"column 'time' row 1: -5 \(1969-12-31 23:59:59 UTC\) "
                                                   r"is out of range: 0 to 9214646400000000000 ns "
                                                   r"\(1970-01-01 to 2262-01-01 UTC\)"):
        tk.logs_from_columns({"time": [5, -5], "body": ["x", "y"]})
    with pytest.raises(tk.LogsSchemaError, match=r"column 'observed_time' row 0"):
        tk.logs_from_columns({"time": [5], "observed_time": ["1969-12-31T00:00:00Z"], "body": ["x"]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tk.TraceFormatWarning)
        df = tk.read_logs([{"time": -5, "msg": "x"}, {"time": 5, "msg": "y"}], errors="skip")
    assert df["body"].tolist() == ["y"] and len(df.attrs["skipped"]) == 1


# --------------------------------------------------------------------------------------------- 7: severity numbers


@pytest.mark.parametrize("n", [25, 99, -1, "25"])
def test_otlp_severity_numbers_out_of_range_are_refused(n, tmp_path):
    with pytest.raises(tk.TraceFormatError, match=r"logRecords\[0\]: severityNumber must be an integer 0-24"):
        tk.read_logs(_doc(_rec(severityNumber=n)))
    p = tmp_path / "s.json"  # the fast path does not take them either
    p.write_text(json.dumps(_doc(_rec(severityNumber=n))))
    with pytest.raises(tk.TraceFormatError, match=r"s\.json, resourceLogs\[0\]\.scopeLogs\[0\]\.logRecords\[0\]"):
        tk.read_logs(p)


def test_logs_from_columns_severity_as_read_logs_reads_it():
    base = {"time": [1, 2], "body": ["a", "b"]}
    with pytest.raises(tk.LogsSchemaError, match=r"column 'severity' row 0: 99 is not a severity number"):
        tk.logs_from_columns({**base, "severity": [99, -1]})
    with pytest.raises(tk.LogsSchemaError, match=r"column 'severity_number' row 1: -1 is not a severity number"):
        tk.logs_from_columns({**base, "severity_number": [3, -1]})
    with pytest.raises(tk.LogsSchemaError, match=r"column 'severity_text' row 0: 5 is not a severity text"):
        tk.logs_from_columns({**base, "severity_text": [5, "INFO"]})
    mixed = tk.logs_from_columns({**base, "severity": ["INFO", 17]})
    assert mixed["severity_text"].tolist() == ["INFO", "ERROR"] and mixed["severity_number"].tolist() == [9, 17]
    unknown = tk.logs_from_columns({**base, "severity": ["bogus", None]})
    assert unknown["severity_text"].isna().all() and unknown["attributes"].tolist() == [{"severity": "bogus"}, {}]
    both = tk.logs_from_columns({**base, "severity_text": ["bogus", "warn"], "severity_number": [17.0, None]})
    assert both["severity_text"].tolist() == ["ERROR", "WARN"] and both["severity_number"].tolist() == [17, 13]
    assert both.loc[0, "attributes"] == {"severity_text": "bogus"}


# --------------------------------------------------------------------------------------------- 8: no bare exceptions


@pytest.mark.parametrize("cols,match", [
    ({"time": [2**64], "body": ["x"]}, r"column 'time' row 0: 18446744073709551616 is out of range"),
    ({"time": [1, 2], "body": ["x", "y"], "severity": [17.0, 9.5]}, r"column 'severity' row 1: 9.5 is not a severity"),
    ({"time": [1], "body": ["x"], "severity_number": ["x"]}, r"column 'severity_number' row 0: 'x'"),
    ({"time": [1, 2], "body": ["x", "y"], "source_record": [1, "x"]}, r"column 'source_record' row 1: 'x' is not an int"),
    ({"time": [1], "body": [b"\xff"]}, r"column 'body' row 0: b'\\xff' is bytes that are not UTF-8"),
])
def test_logs_from_columns_names_the_column_and_row_of_a_bad_value(cols, match):
    with pytest.raises(tk.LogsSchemaError, match=match):
        tk.logs_from_columns(cols)


def test_logs_from_columns_reads_a_generator_and_refuses_duplicate_columns():
    df = tk.logs_from_columns({"time": (t for t in [1, 2]), "body": (b for b in ["a", "b"])})
    assert df["body"].tolist() == ["a", "b"] and df["time"].tolist()[1].value == 2
    with pytest.raises(tk.LogsSchemaError, match=r"column 'body' appears 2 times"):
        tk.logs_from_columns(pd.DataFrame([[0, "a", "b"]], columns=["time", "body", "body"]))


def test_log_templates_of_a_structured_body_and_of_duplicate_columns():
    raw = pd.DataFrame({"body": [{"user": "ann", "n": 1}, {"user": "bob", "n": 22}, "plain 3", None]})
    t = tk.log_templates(raw)
    assert t["template"].tolist()[:3] == ['{"user":"ann","n":<*>}', '{"user":"bob","n":<*>}', "plain <*>"]
    assert pd.isna(t.loc[3, "template"])
    # one template id for one body, whether given as a dict or built by logs_from_columns (JSON text)
    built = tk.logs_from_columns({"time": [0], "body": [{"user": "ann", "n": 1}]})
    assert tk.log_templates(built).loc[0, "template_id"] == t.loc[0, "template_id"]
    with pytest.raises(tk.ArgumentError, match=r"^log_templates: the logs frame's column 'body' appears 2 times; give "
                                               r"each column once"):
        tk.log_templates(pd.DataFrame([["a", "b"]], columns=["body", "body"]))


# --------------------------------------------------------------------------------------------- 9: no shared objects


def test_logs_from_columns_results_own_their_dicts():
    src = pd.DataFrame({"time": [1], "body": ["x"], "attributes": [{"a": {"b": [1]}}], "resource": [{"r": 1}]})
    df = tk.logs_from_columns(src)
    assert df.loc[0, "attributes"] == {"a": {"b": [1]}}
    assert df.loc[0, "attributes"] is not src.loc[0, "attributes"]
    df.loc[0, "attributes"]["a"]["b"].append(2)
    df.loc[0, "resource"]["r"] = 2
    assert src.loc[0, "attributes"] == {"a": {"b": [1]}} and src.loc[0, "resource"] == {"r": 1}


def test_attach_logs_copies_the_events_a_span_had():
    spans = tk.spans_from_columns({"trace_id": ["1" * 32], "span_id": ["a" * 16], "service": ["s"], "name": ["n"],
                                   "start": [0], "end": [10],
                                   "events": [[{"time": 1, "name": "e", "attributes": {"k": [1]}}]]})
    logs = tk.logs_from_columns({"time": [5], "body": ["x"], "trace_id": ["1" * 32], "span_id": ["a" * 16]})
    out = tk.attach_logs(spans, logs).spans
    assert [e["name"] for e in out.loc[0, "events"]] == ["e", "log"]
    out.loc[0, "events"][0]["attributes"]["k"].append(2)
    out.loc[0, "events"][0]["name"] = "changed"
    assert spans.loc[0, "events"] == [{"time": 1, "name": "e", "attributes": {"k": [1]}}]


# --------------------------------------------------------------------------------------------- 10: CloudWatch events


@pytest.mark.parametrize("doc,match", [
    ({"events": {"a": 1}}, r"<object>, events: events must be a list of CloudWatch log events, got \{'a': 1\}"),
    ({"events": ["x"]}, r"events\[0\]: expected a CloudWatch log event object, got 'x'"),
    ({"events": [{"timestamp": 1}]}, r"events\[0\]: the event has no message"),
    ({"events": [{"timestamp": 1, "message": "ok"}, {"timestamp": "x", "message": "m"}], "nextForwardToken": "f"},
     r"events\[1\]: timestamp must be milliseconds"),
])
def test_cloudwatch_output_with_bad_events_names_the_event(doc, match):
    with pytest.raises(tk.TraceFormatError, match=match):
        tk.read_logs(doc)


def test_a_json_record_with_an_events_field_is_still_a_record():
    df = tk.read_logs([{"msg": "batch done", "events": [1, 2]}])
    assert df.loc[0, "body"] == "batch done" and df.loc[0, "attributes"] == {"events": [1, 2]}


@pytest.mark.parametrize("as_bytes", [False, True])  # the checked walk (parsed JSON) and the typed path (bytes)
def test_an_otlp_severity_text_no_logger_word_names_is_kept_in_the_attributes(as_bytes):
    """severityText is "the original string representation as it is known at the source": a level the six short
    names cannot say (a site's own "AUDIT", or markup) was dropped without a word; it is now kept as written."""
    recs = [{"timeUnixNano": "1700000000000000000", "severityText": t, "body": {"stringValue": "x"},
             "attributes": [{"key": "a", "value": {"intValue": "1"}}]} for t in ("AUDIT", "<b>x</b>", "Warning", "")]
    doc = {"resourceLogs": [{"scopeLogs": [{"logRecords": recs}]}]}
    df = tk.read_logs(json.dumps(doc).encode() if as_bytes else doc)
    assert df["severity_text"].tolist()[2] == "WARN" and df["severity_text"].isna().tolist() == [True, True, False, True]
    assert df["attributes"].tolist() == [{"a": 1, "severityText": "AUDIT"}, {"a": 1, "severityText": "<b>x</b>"},
                                         {"a": 1}, {"a": 1}]


def test_rank_causes_says_what_the_log_evidence_stands_on_and_places_records_with_no_time():
    """A fresh reader's d05 and d11. Logs whose trace ids are none of these traces' gave log columns of 0 on every
    row, with nothing saying 0 of 8,462 records joined: read as "the logs show no change". And records read with no
    time (a JSON line with none) were in no collected period, so every span counted as uncollected: the same 0s.
    Now a record with no time counts at its trace's start, and rank_causes' attrs["log_records"] (and the
    postmortem's "how sure") say how many records joined each side."""
    from .conftest import read_dataset

    spans = read_dataset("deploy-regression")
    logs = tk.read_logs(REPO / "datasets" / "deploy-regression-signals" / "logs.jsonl.gz")
    timed = tk.rank_causes(spans, logs=logs)
    rec = timed.attrs["log_records"]
    # every record of a trace in the incident or the found baseline joins (not those of the minute before the onset,
    # in neither since session 48)
    from tracekit.analysis.changes import incident_periods

    p = incident_periods(spans)
    ids = set(p.incident["trace_id"].astype(str)) | set(p.baseline["trace_id"].astype(str))
    n_in = int(logs["trace_id"].astype(str).isin(ids).sum())
    assert len(logs) - 200 < n_in < len(logs)
    assert rec["given"] == len(logs) and rec["incident"] + rec["baseline"] == n_in and rec["without_time"] == 0
    timeless = logs.copy()
    timeless["time"] = pd.Series(pd.NaT, index=logs.index, dtype=logs["time"].dtype)
    untimed = tk.rank_causes(spans, logs=timeless)
    top = timed.iloc[0]
    assert untimed.iloc[0]["service"] == top["service"] == "payments"
    # (within 0.005: records placed at their trace's start, not their own time, fall on either side of the period
    # boundaries a little differently: 0.9548 against 0.9554 since the minute before the onset is in neither)
    assert untimed.iloc[0]["log_templates"] == pytest.approx(top["log_templates"], abs=0.005)
    assert top["log_templates"] > 0.5
    # placed: those whose trace is in the incident or the baseline
    assert untimed.attrs["log_records"]["without_time"] == len(logs)
    assert untimed.attrs["log_records"]["without_time_placed"] == n_in
    said = [f.text for f in tk.postmortem(spans, logs=timeless).findings if f.text.startswith("Logs: ")]
    assert said and (f"{len(logs):,} had no time: {n_in:,} of them were placed at their trace's start, the rest name no "
                     "trace of the incident or the baseline.") in said[0]
    elsewhere = logs.copy()
    elsewhere["trace_id"] = pd.array(["f" * 32] * len(logs), dtype=logs["trace_id"].dtype)
    none = tk.rank_causes(spans, logs=elsewhere)
    assert none.attrs["log_records"] == dict(given=len(logs), incident=0, baseline=0, without_time=0,
                                             without_time_placed=0)
    pm = tk.postmortem(spans, logs=elsewhere)
    said = [f.text for f in pm.findings if f.topic == "sure" and f.text.startswith("Logs")]
    assert said == [f"Logs did not weigh in the ranking: none of the {len(logs):,} records names a span or trace of "
                    "the incident or the baseline (their trace ids are not these traces')."]


def test_log_ids_follow_the_spans_rule_zero_is_no_id_and_base64_is_read():
    """A fresh reader's d01 and d02: the one id rule (schema.canonical_ids) now has what the span reader did alone.
    An all-zero id is no id (W3C), so a record with a real trace id and a zero span id is trace-level, not "span not
    in trace"; an id in base64 (protobuf's standard JSON mapping) is read as its hex, where read_logs refused it."""
    import base64

    spans = tk.spans_from_columns({"trace_id": ["a" * 32], "span_id": ["1" * 16], "parent_id": ["0" * 16],
                                   "service": "web", "name": "GET /", "start": [0], "end": [100]})
    assert spans["parent_id"].isna().all()  # a parent id of zeros is a root's
    b64t = base64.b64encode(bytes.fromhex("a" * 32)).decode()
    b64s = base64.b64encode(bytes.fromhex("1" * 16)).decode()
    logs = tk.read_logs({"resourceLogs": [{"scopeLogs": [{"logRecords": [
        {"timeUnixNano": "50", "traceId": "0" * 32, "spanId": "0" * 16, "body": {"stringValue": "no context"}},
        {"timeUnixNano": "50", "traceId": "a" * 32, "spanId": "0" * 16, "body": {"stringValue": "trace only"}},
        {"timeUnixNano": "50", "traceId": b64t, "spanId": b64s, "body": {"stringValue": "on the span"}}]}]}]})
    assert logs["trace_id"].tolist() == [pd.NA, "a" * 32, "a" * 32] and logs["span_id"].tolist() == [pd.NA, pd.NA, "1" * 16]
    got = tk.attach_logs(spans, logs)
    assert (got.n_on_span, got.n_trace_level) == (1, 1) and got.unmatched["reason"].tolist() == ["no trace id"]
    cols = tk.logs_from_columns({"time": [50, 50], "body": ["x", "y"], "trace_id": ["0" * 32, b64t],
                                 "span_id": ["0" * 16, b64s]})
    assert cols["trace_id"].tolist() == [pd.NA, "a" * 32] and cols["span_id"].tolist() == [pd.NA, "1" * 16]


def test_records_read_again_from_another_file_are_one_record_and_repeats_within_a_file_stay(tmp_path):
    """A fresh reader's d16: overlapping exports (the same CloudWatch page saved twice) doubled every record and
    attach_logs counted each span's records twice; read_metrics kept both copies of a point and metric_rates gave
    NaN for the second (same time). Now a record equal in every field to one read from another file is a copy
    (attrs["copies_dropped"]); a statement logged twice in one file stays two records; a path named twice is read
    once."""
    tid = "5759e988bd862e3fe1be46a994272793"
    page = {"events": [{"logStreamName": "s", "timestamp": 1704067200000 + i, "eventId": f"3789{i}",
                        "message": json.dumps({"level": "ERROR", "message": f"boom {i}", "xray_trace_id": "1-" + tid[:8] + "-" + tid[8:]}),
                        "ingestionTime": 1704067201000} for i in range(3)]}
    for name in ("export-1.json", "export-2.json"):
        (tmp_path / name).write_text(json.dumps(page))
    logs = tk.read_logs(tmp_path)
    assert len(logs) == 3 and logs.attrs["copies_dropped"] == 3 and set(logs["source_file"]) == {str(tmp_path / "export-1.json")}
    spans = tk.spans_from_columns({"trace_id": [tid], "span_id": ["1" * 16], "service": "fn", "name": "handler",
                                   "start": ["2024-01-01T00:00:00Z"], "end": ["2024-01-01T00:00:01Z"]})
    assert tk.attach_logs(spans, logs).spans["log_records"].tolist() == [3]
    same = tk.read_logs([tmp_path / "export-1.json", tmp_path / "export-1.json"])
    assert len(same) == 3 and same.attrs["copies_dropped"] == 0  # one path twice: read once
    line = json.dumps({"time": "2024-01-01T00:00:00Z", "message": "retrying", "trace_id": tid}) + "\n"
    (tmp_path / "twice.jsonl").write_text(line * 2)
    assert len(tk.read_logs(tmp_path / "twice.jsonl")) == 2  # one statement logged twice: two records
    T0 = 1_700_000_000 * 10**9
    point = {"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": "c", "sum": {"aggregationTemporality": 2,
             "isMonotonic": True, "dataPoints": [{"asInt": str(60 * (i + 1)), "startTimeUnixNano": str(T0),
                                                  "timeUnixNano": str(T0 + (i + 1) * 60 * 10**9)} for i in range(3)]}}]}]}]}
    (tmp_path / "m").mkdir()
    for name in ("a.json", "b.json"):
        (tmp_path / "m" / name).write_text(json.dumps(point))
    m = tk.read_metrics(tmp_path / "m")
    assert len(m) == 3 and m.attrs["copies_dropped"] == 3
    assert tk.metric_rates(m)["value"].tolist() == [1.0, 1.0, 1.0]


def test_a_negative_number_is_masked_with_its_sign():
    """A fresh reader's d17: "clock offset -3 ms" and "clock offset 4 ms" are one statement, but the minus sign
    stayed outside the mask: two templates, two ids, a template 'appearing' when a value turned negative. A hyphen
    between two masked values (a range) and one inside a word are not signs."""
    bodies = ["clock offset 4 ms", "clock offset -3 ms", "(-12) retries", "pages 1-5 of 9", "re-try 2", "x:-7"]
    t = tk.log_templates(tk.logs_from_columns({"time": [0] * len(bodies), "body": bodies}))
    assert t["template"].tolist() == ["clock offset <*> ms", "clock offset <*> ms", "(<*>) retries", "pages <*> of <*>",
                                      "re-try <*>", "x:<*>"]
    assert t["template_id"].iloc[0] == t["template_id"].iloc[1]


def test_the_x_amzn_trace_id_header_form_is_read_by_the_builders_as_by_read_logs():
    """A fresh reader: read_logs took "Root=1-…;Parent=…;Sampled=1" (the X-Amzn-Trace-Id header, as Lambda logs it)
    but logs_from_columns refused it; the one id rule (schema.canonical_ids) reads its Root for every builder."""
    header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    want = "5759e988bd862e3fe1be46a994272793"
    assert tk.logs_from_columns({"time": [0], "body": ["x"], "trace_id": [header]})["trace_id"].tolist() == [want]
    assert tk.spans_from_columns({"trace_id": [header], "span_id": ["a" * 16], "start": [0], "end": [1]})[
        "trace_id"].tolist() == [want]
    line = json.dumps({"time": "2024-01-01T00:00:00Z", "message": "x", "xray_trace_id": header})
    assert tk.read_logs(line.encode())["trace_id"].tolist() == [want]


@pytest.mark.parametrize("header, want", [
    ("Root=1-5759e988-bd862e3fe1be46a994272793; Parent=53995c3f42cd8ad8; Sampled=1", "5759e988bd862e3fe1be46a994272793"),
    ("Sampled=1;root = 1-5759e988-bd862e3fe1be46a994272793", "5759e988bd862e3fe1be46a994272793"),
    ("NotRoot=1-5759e988-bd862e3fe1be46a994272793", None),
    ("Self=1-5759e988-bd862e3fe1be46a994272793;Root=1-5e34a614-10bd5abcf1fb44f07bc535a1",
     "5e34a61410bd5abcf1fb44f07bc535a1"),
])
def test_one_header_rule_reads_root_as_a_field_not_as_a_substring(header, want):
    """A fresh reader: the builders took 'NotRoot=1-…' for a Root (a substring search for 'root='), and read_logs
    missed 'Root=…; Parent=…' written with a space. One rule now (schema.xray_header): ';'-separated key=value
    fields, keys in any case, white space ignored; text naming no Root is no id (said, not read as one)."""
    line = json.dumps({"time": "2024-01-01T00:00:00Z", "message": "x", "xray_trace_id": header}).encode()
    if want is None:
        with pytest.raises(tk.LogsSchemaError, match="row 0: 'NotRoot=.*' is not a trace id"):
            tk.logs_from_columns({"time": [0], "body": ["x"], "trace_id": [header]})
        with pytest.raises(tk.TraceFormatError, match="xray_trace_id 'NotRoot=.*' is not 32 hex digits"):
            tk.read_logs(line)
        return
    read = tk.read_logs(line)
    for logs in (tk.logs_from_columns({"time": [0], "body": ["x"], "trace_id": [header]}), read):
        assert logs["trace_id"].tolist() == [want]
    if want and "Parent" in header:
        assert read["span_id"].tolist() == ["53995c3f42cd8ad8"]


def test_severity_fills_the_rows_severity_text_and_number_leave_empty():
    """A fresh reader: given severity_text and severity both, logs_from_columns dropped severity whole, though its
    rule is that severity fills what the named columns leave; per row now (a named column's value still wins)."""
    logs = tk.logs_from_columns({"time": [0, 1, 2], "body": ["a", "b", "c"], "severity_text": ["INFO", None, None],
                                 "severity": ["ERROR", "WARN", 17]})
    assert logs[["severity_text", "severity_number"]].values.tolist() == [["INFO", 9], ["WARN", 13], ["ERROR", 17]]


def test_records_read_again_are_kept_as_often_as_one_file_holds_them_whatever_the_order(tmp_path):
    """A fresh reader: with a record twice in a.jsonl and once in b.jsonl, [a, b] kept 2 and [b, a] kept 1 (a real
    record lost); with c.jsonl holding it three times, [a, c] kept 2. Now as many as the one file holding the most."""
    line = json.dumps({"time": "2024-01-01T00:00:00Z", "message": "retrying", "level": "INFO"}) + "\n"
    for name, k in (("a.jsonl", 2), ("b.jsonl", 1), ("c.jsonl", 3)):
        (tmp_path / name).write_text(line * k)
    a, b, c = (tmp_path / f for f in ("a.jsonl", "b.jsonl", "c.jsonl"))
    for files, want in (([a, b], 2), ([b, a], 2), ([a, c], 3), ([c, a], 3), ([b, a, c], 3)):
        got = tk.read_logs(files)
        lines = sum({"a": 2, "b": 1, "c": 3}[f.name[0]] for f in files)
        assert len(got) == want and got.attrs["copies_dropped"] == lines - want, [f.name for f in files]
    assert len(tk.read_logs(tmp_path)) == 3


def test_spans_apart_only_in_nan_or_infinite_values_are_not_copies():
    """orjson writes NaN, +Inf and -Inf as null: two spans with one id, apart only in such an attribute, were
    collapsed as exact copies (a span lost). The fingerprint tells them apart now; equal NaNs are still copies."""
    span = {"traceId": "1" * 32, "spanId": "a" * 16, "name": "x", "startTimeUnixNano": "1", "endTimeUnixNano": "2"}

    def doc(value: dict) -> dict:
        return {"resourceSpans": [{"scopeSpans": [{"spans": [dict(span, attributes=[{"key": "a", "value": value}])]}]}]}

    for one, other in (({"doubleValue": "Infinity"}, {"doubleValue": "-Infinity"}), ({"doubleValue": "NaN"}, {}),
                       ({"doubleValue": "NaN"}, {"doubleValue": "Infinity"})):
        got = tk.read_otlp([doc(one), doc(other)])
        assert len(got) == 2 and got.attrs["copies_dropped"] == 0
    same = tk.read_otlp([doc({"doubleValue": "NaN"}), doc({"doubleValue": "NaN"})])
    assert len(same) == 1 and same.attrs["copies_dropped"] == 1
