"""Issue 17, reader side: real export shapes load (or fail naming the shape), hostile input fails
clearly, lenient loading keeps every valid span.

Every fixture here is small and written for the test from the formats' documentation
(/work/shared/FORMATS.md; protobuf's JSON mapping for proto field names and base64 ids; the X-Ray
daemon README for its protocol header); none is copied from a real file.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import warnings

import numpy as np
import orjson
import pandas as pd
import pytest

import tracekit as tk
from tracekit.errors import TraceFormatError, TraceFormatWarning
from tracekit.io.sniff import read
from tracekit.schema import SpansSchemaError

TID = "5b8efff798038103d269b633813fc60c"
SID = "eee19b7ec3c1b174"
SID2 = "0123456789abcdef"
T0 = 1_700_000_000_000_000_000


def span(**kw) -> dict:
    sp = {"traceId": TID, "spanId": SID, "name": "GET /", "kind": 2,
          "startTimeUnixNano": str(T0), "endTimeUnixNano": str(T0 + 5_000_000)}
    sp.update(kw)
    return sp


def otlp(*spans: dict, service: str = "api") -> dict:
    return {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
                               "scopeSpans": [{"scope": {"name": "lib"}, "spans": list(spans)}]}]}


def segment(sid: str = SID, **kw) -> dict:
    seg = {"trace_id": "1-5759e988-bd862e3fe1be46a994272793", "id": sid, "name": "api",
           "start_time": 1_700_000_000.25, "end_time": 1_700_000_000.5}
    seg.update(kw)
    return seg


def b64(hex_id: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_id)).decode()


# ------------------------------------------------------------------------------------------------
# real export shapes


def test_grafana_tempo_datasource_shape_with_proto_field_names_loads():
    # top level in JSON names, children in proto field names: was 0 spans, no error, nothing skipped
    doc = {"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"string_value": "frontend"}}]},
        "scope_spans": [{"scope": {"name": "tempo-test"}, "spans": [
            {"trace_id": TID, "span_id": SID, "parent_span_id": "", "name": "GET /", "kind": "SPAN_KIND_SERVER",
             "start_time_unix_nano": str(T0), "end_time_unix_nano": str(T0 + 2_000_000),
             "attributes": [{"key": "http.status_code", "value": {"int_value": "503"}}],
             "status": {"code": "STATUS_CODE_ERROR", "message": "boom"}},
            {"trace_id": TID, "span_id": SID2, "parent_span_id": SID, "name": "SELECT", "kind": 3,
             "start_time_unix_nano": str(T0 + 100), "end_time_unix_nano": str(T0 + 1_000_100),
             "dropped_attributes_count": 2}]}]}]}
    df = tk.read_otlp(doc)
    assert df["span_id"].tolist() == [SID, SID2]
    assert df["parent_id"].isna().tolist() == [True, False] and df.loc[1, "parent_id"] == SID
    assert df["service"].tolist() == ["frontend", "frontend"]
    assert df["kind"].tolist() == ["server", "client"]
    assert df.loc[0, "status"] == "error" and df.loc[0, "status_message"] == "boom"
    assert df.loc[0, "http_status"] == 503 and bool(df.loc[0, "fault"])
    assert df["duration_ms"].tolist() == [2.0, 1.0]
    assert df.loc[1, "attributes"] == {"otel.dropped_attributes_count": 2}
    assert df.loc[0, "resource"]["otel.scope.name"] == "tempo-test"
    assert len(read(doc)) == 2


def test_proto_field_name_otlp_as_messagetodict_writes_it_loads():
    # protobuf's MessageToDict(preserving_proto_field_name=True): snake_case keys, base64 ids, enum names
    doc = {"resource_spans": [{"resource": {"attributes": [
        {"key": "service.name", "value": {"string_value": "cart"}}]},
        "scope_spans": [{"scope": {"name": "s"}, "schema_url": "https://x", "spans": [
            {"trace_id": b64(TID), "span_id": b64(SID), "name": "add", "kind": "SPAN_KIND_INTERNAL",
             "start_time_unix_nano": str(T0), "end_time_unix_nano": str(T0 + 1000),
             "events": [{"time_unix_nano": str(T0 + 10), "name": "e",
                         "attributes": [{"key": "k", "value": {"bool_value": True}}]}],
             "links": [{"trace_id": b64(TID), "span_id": b64(SID2), "trace_state": "a=b"}]}]}]}]}
    df = tk.read_otlp(doc)
    r = df.iloc[0]
    assert (r.trace_id, r.span_id, r.service, r.kind) == (TID, SID, "cart", "internal")
    assert r.events == [{"time": T0 + 10, "name": "e", "attributes": {"k": True}}]
    assert r.links[0]["trace_id"] == TID and r.links[0]["span_id"] == SID2 and r.links[0]["trace_state"] == "a=b"
    assert r.resource["otel.scope.schema_url"] == "https://x"
    assert read(doc)["span_id"].tolist() == [SID]


def test_tempo_batches_with_base64_ids_and_legacy_instrumentation_library_spans_load():
    doc = {"batches": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "db"}}]},
        "instrumentationLibrarySpans": [{"instrumentationLibrary": {"name": "old", "version": "0.1"}, "spans": [
            {"traceId": b64(TID), "spanId": b64(SID), "parentSpanId": b64(SID2), "name": "query",
             "kind": "SPAN_KIND_CLIENT", "startTimeUnixNano": str(T0), "endTimeUnixNano": str(T0 + 3_000_000)}]}]}]}
    for df in (tk.read_otlp(doc), read(doc)):
        r = df.iloc[0]
        assert (r.trace_id, r.span_id, r.parent_id, r.service, r.kind) == (TID, SID, SID2, "db", "client")
        assert r.duration_ms == 3.0 and r.resource["otel.scope.name"] == "old"


def test_base64_id_of_the_wrong_byte_length_is_still_an_error():
    with pytest.raises(TraceFormatError, match="spanId must be 16 hex digits"):
        tk.read_otlp(otlp(span(spanId=b64("00ff00ff00ff00"))))  # 7 bytes: 12 base64 chars, not 8 bytes


def test_empty_scope_spans_falls_back_to_legacy_instrumentation_library_spans():
    # was 0 spans, silently: the collector reads the legacy field when scopeSpans is empty
    doc = {"resourceSpans": [{"scopeSpans": [], "instrumentationLibrarySpans": [
        {"instrumentationLibrary": {"name": "legacy"}, "spans": [span()]}]}]}
    df = tk.read_otlp(doc)
    assert df["span_id"].tolist() == [SID] and df.loc[0, "resource"]["otel.scope.name"] == "legacy"


def test_xray_trace_with_parsed_segment_documents_without_the_id_document_wrapper():
    page = {"Traces": [{"Id": "1-5759e988-bd862e3fe1be46a994272793", "Segments": [
        segment(), segment(SID2, parent_id=SID, name="worker")]}]}
    for df in (tk.read_xray(page), read(page)):
        assert df["span_id"].tolist() == [SID, SID2] and df["service"].tolist() == ["api", "worker"]
    # a bare list of parsed documents, as test tooling stores them
    assert tk.read_xray([segment(), segment(SID2)])["span_id"].tolist() == [SID, SID2]
    with pytest.raises(TraceFormatError, match="segment entry has no 'Document'"):
        tk.read_xray({"Traces": [{"Id": "x", "Segments": [{"Id": SID}]}]})


def test_xray_daemon_protocol_header_lines_are_skipped_and_listed():
    header = b'{"format": "json", "version": 1}'
    data = b"\n".join([header, orjson.dumps(segment()), header, orjson.dumps(segment(SID2))]) + b"\n"
    for df in (tk.read_xray(data), read(data)):
        assert df["span_id"].tolist() == [SID, SID2]
        assert df["source_record"].tolist() == [2, 4]
        assert [r.record for r in df.attrs["ignored"]] == ["line 1", "line 3"]
        assert df.attrs["skipped"] == ()
    with pytest.raises(TraceFormatError, match="daemon headers only"):
        tk.read_xray(header + b"\n" + header + b"\n")


def test_collector_file_mixing_metrics_and_logs_lines_loads_its_traces_in_strict_mode(tmp_path):
    p = tmp_path / "otel.jsonl"
    lines = [{"resourceMetrics": [{"scopeMetrics": []}]}, otlp(span()), {"resourceLogs": []},
             otlp(span(spanId=SID2))]
    p.write_bytes(b"\n".join(orjson.dumps(x) for x in lines) + b"\n")
    for df in (tk.read_otlp(p), read(p)):
        assert df["span_id"].tolist() == [SID, SID2] and df["source_record"].tolist() == [2, 4]
        assert [(r.record, r.reason) for r in df.attrs["ignored"]] == [
            ("line 1", "OTLP metrics (resourceMetrics): not trace data"),
            ("line 3", "OTLP logs (resourceLogs): not trace data")]
        assert df.attrs["skipped"] == ()
    only = tmp_path / "metrics.jsonl"
    only.write_bytes(orjson.dumps(lines[0]) + b"\n" + orjson.dumps(lines[0]) + b"\n")
    for reader in (tk.read_otlp, read):
        with pytest.raises(TraceFormatError, match=r"no trace data: 2 records, none of them traces") as e:
            reader(only)
        assert e.value.file == str(only) and e.value.record == "line 1"


@pytest.mark.parametrize(("doc", "record", "reason"), [
    ({"resourceSpans": [{"resource": {}, "scopeSpans": [{"scope": {}, "spans": []}]}]},
     "resourceSpans[0].scopeSpans[0]", "no spans: resourceSpans[0].scopeSpans[0].spans is empty"),
    ({"resourceSpans": [{"resource": {}, "scopeSpans": []}]},
     "resourceSpans[0].scopeSpans", "no spans: resourceSpans[0].scopeSpans is empty"),
    ({"resourceSpans": [{"resource": {}}]}, "resourceSpans[0]", "no spans: resourceSpans[0] has no scopeSpans"),
    ({"resourceSpans": None}, "resourceSpans", "no spans: resourceSpans is null"),
])
def test_a_recognised_document_without_spans_is_an_error_naming_the_empty_path(doc, record, reason):
    for reader in (tk.read_otlp, read):
        with pytest.raises(TraceFormatError) as e:
            reader(doc)
        assert (e.value.record, e.value.reason) == (record, reason)


def test_empty_parts_of_a_read_that_loads_spans_are_not_errors():
    df = tk.read_otlp([otlp(span()), {"resourceSpans": []}])
    assert len(df) == 1 and df.attrs["skipped"] == ()
    assert len(tk.read_xray([{"Traces": []}, segment()])) == 1


def test_unknown_children_of_a_resource_spans_are_an_error_not_a_silent_loss():
    doc = {"resourceSpans": [{"resource": {}, "scopeSpanz": [{"spans": [span()]}]}]}
    with pytest.raises(TraceFormatError, match="has no 'scopeSpans'.*scopeSpanz") as e:
        tk.read_otlp(doc)
    assert e.value.record == "resourceSpans[0]"


def test_truly_non_trace_shapes_fail_naming_the_shape():
    with pytest.raises(TraceFormatError, match="not OTLP JSON.*keys: data"):
        tk.read_otlp({"data": [{"traceID": "x"}]})
    with pytest.raises(TraceFormatError, match="unknown trace format: a JSON object with keys data"):
        read({"data": []})
    with pytest.raises(TraceFormatError, match="not X-Ray data"):
        tk.read_xray({"spans": []})


# ------------------------------------------------------------------------------------------------
# hostile input


@pytest.mark.parametrize(("bad", "reason"), [
    ({"kind": {"x": 1}}, "kind must be a SpanKind (0-5), got {'x': 1}"),
    ({"kind": [2]}, "kind must be a SpanKind (0-5), got [2]"),
    ({"status": {"code": {"a": 1}}}, "status.code must be 0, 1 or 2, got {'a': 1}"),
    ({"status": {"code": [2]}}, "status.code must be 0, 1 or 2, got [2]"),
    ({"startTimeUnixNano": "0x10"}, "startTimeUnixNano must be an integer"),
    ({"endTimeUnixNano": "1_000"}, "endTimeUnixNano must be an integer"),
    ({"startTimeUnixNano": " 5"}, "startTimeUnixNano must be an integer"),
    ({"attributes": [{"key": "a", "value": {"intValue": "0x10"}}]}, "intValue must be an integer"),
    ({"droppedAttributesCount": float("inf")}, "droppedAttributesCount must be a non-negative integer, got inf"),
    ({"droppedEventsCount": -1}, "droppedEventsCount must be a non-negative integer"),
    ({"events": [{"name": "e", "droppedAttributesCount": float("nan")}]}, "event droppedAttributesCount must be"),
])
def test_hostile_span_fields_raise_a_clear_error_and_skip_only_their_span(bad, reason):
    doc = otlp(span(), span(spanId=SID2, **bad))
    with pytest.raises(TraceFormatError) as e:
        tk.read_otlp(doc)
    assert reason in e.value.reason and e.value.record == "resourceSpans[0].scopeSpans[0].spans[1]"
    with pytest.warns(TraceFormatWarning):
        df = tk.read_otlp(doc, errors="skip")
    event = reason.startswith("event ")  # a bad event is left out, its span kept (the links' rule, session 52)
    assert df["span_id"].tolist() == ([SID, SID2] if event else [SID])
    assert [r.record for r in df.attrs["skipped"]] == \
        ["resourceSpans[0].scopeSpans[0].spans[1]" + (".events[0]" if event else "")]


def test_time_0x10_string_in_a_file_is_an_error_not_16_ns():
    # the column-wise (Arrow) path, not only the per-value one
    data = orjson.dumps(otlp(span(), span(spanId=SID2, startTimeUnixNano="0x10")))
    with pytest.raises(TraceFormatError, match="startTimeUnixNano must be an integer.*0x10"):
        tk.read_otlp(data)


def nested_kvlist_json(depth: int) -> str:
    """JSON text of an AnyValue: kvlists nested ``depth`` deep (4 JSON levels each), built as text
    (json/orjson.dumps stop at a depth limit)."""
    return '{"kvlistValue": {"values": [{"key": "k", "value": ' * depth + '{"stringValue": "leaf"}' + "}]}}" * depth


def test_kvlist_nested_hundreds_deep_loads_without_recursion_error():
    # iterative decoding (not a depth bound): the value is kept whole, as X-Ray metadata is
    depth = 240  # 970 levels of JSON (orjson parses up to 1,024); was a RecursionError at ~250
    text = json.dumps(otlp(span(attributes=[{"key": "deep", "value": "@"}]))).replace('"@"', nested_kvlist_json(depth))
    df = tk.read_otlp(text)
    v, n = df.loc[0, "attributes"]["deep"], 0
    while isinstance(v, dict):
        v, n = v["k"], n + 1
    assert (n, v) == (depth, "leaf")


def test_xray_sql_block_nested_hundreds_deep_is_flattened_without_recursion_error():
    sql: dict = {"q": "SELECT"}
    for _ in range(1200):
        sql = {"n": sql}
    df = tk.read_xray([segment(sql=sql)])
    (key,) = [k for k in df.loc[0, "attributes"] if k.startswith("sql.")]
    assert key == "sql." + "n." * 1200 + "q"


def test_end_time_zero_is_an_unknown_end_loaded_as_in_progress_and_flagged():
    df = tk.read_otlp(otlp(span(endTimeUnixNano="0"), span(spanId=SID2)))
    r = df.iloc[0]
    assert bool(r.in_progress) and pd.isna(r.end) and np.isnan(r.duration_ms)  # was: 1970, −1.7e12 ms
    assert r.attributes["tracekit.time_problem"] == "end_time_zero"
    assert "tracekit.time_problem" not in df.loc[1, "attributes"] and not df.loc[1, "in_progress"]


def test_end_before_start_is_kept_and_flagged_in_both_readers():
    o = tk.read_otlp(otlp(span(endTimeUnixNano=str(T0 - 1_000_000))))
    assert o.loc[0, "duration_ms"] == -1.0 and o.loc[0, "attributes"]["tracekit.time_problem"] == "end_before_start"
    x = tk.read_xray([segment(end_time=1_700_000_000.0), segment(SID2)])
    assert x.loc[0, "duration_ms"] == -250.0
    assert x.loc[0, "attributes"]["tracekit.time_problem"] == "end_before_start"
    assert "tracekit.time_problem" not in x.loc[1, "attributes"]


def test_lone_surrogates_in_parsed_json_are_replaced_with_a_warning_and_later_stages_work(tmp_path):
    doc = otlp(span(name="GET /\ud800x", attributes=[{"key": "k\udfff", "value": {"stringValue": "v\ud83d"}}]))
    before = json.dumps(doc)
    with pytest.warns(TraceFormatWarning, match="3 string"):
        df = tk.read_otlp(doc)
    assert df.loc[0, "name"] == "GET /\ufffdx" and df.loc[0, "attributes"] == {"k\ufffd": "v\ufffd"}
    assert json.dumps(doc) == before  # the caller's value is not modified
    tk.write_otlp(df, tmp_path / "out.json")  # was: a crash in a later stage (surrogates are not UTF-8)
    assert tk.read_otlp(tmp_path / "out.json")["name"].tolist() == ["GET /\ufffdx"]
    with pytest.warns(TraceFormatWarning):
        x = tk.read_xray([segment(name="a\ud800")])
    assert x.loc[0, "service"] == "a\ufffd"


def test_lone_surrogates_in_json_text_are_a_clear_error():
    text = json.dumps(otlp(span(name="a\ud800")), ensure_ascii=False)
    with pytest.raises(TraceFormatError, match="not valid JSON"):
        tk.read_otlp(text)
    with pytest.raises(TraceFormatError):
        tk.read_xray(json.dumps(segment(name="a\ud800"), ensure_ascii=False))


def test_json_lines_with_leading_blank_lines_load_with_true_line_numbers():
    data = b"\n  \n" + orjson.dumps(otlp(span())) + b"\n" + orjson.dumps(otlp(span(spanId=SID2))) + b"\n"
    df = tk.read_otlp(data)
    assert df["span_id"].tolist() == [SID, SID2] and df["source_record"].tolist() == [3, 4]
    xdata = b"\n\n" + orjson.dumps(segment()) + b"\n" + orjson.dumps(segment(SID2)) + b"\n"
    assert tk.read_xray(xdata)["source_record"].tolist() == [3, 4]
    assert read(xdata)["span_id"].tolist() == [SID, SID2]


@pytest.mark.parametrize("first", [b'{"resourceSpans": [oops', b"garbage", b'{"a": [', b"[1, 2"])
def test_bad_first_line_skips_only_that_line(first):
    good = [orjson.dumps(otlp(span(spanId=f"{i + 1:016x}"))) for i in range(19)]
    data = b"\n".join([first, *good]) + b"\n"
    with pytest.raises(TraceFormatError) as e:
        tk.read_otlp(data)
    assert e.value.record == "line 1"
    with pytest.warns(TraceFormatWarning):
        df = tk.read_otlp(data, errors="skip")
    assert len(df) == 19 and [r.record for r in df.attrs["skipped"]] == ["line 1"]
    with pytest.warns(TraceFormatWarning):
        assert len(read(data, errors="skip")) == 19


def test_xray_bad_first_line_skips_only_that_line():
    data = b"\n".join([b"{oops", *(orjson.dumps(segment(f"{i + 1:016x}")) for i in range(19))]) + b"\n"
    with pytest.warns(TraceFormatWarning):
        df = tk.read_xray(data, errors="skip")
    assert len(df) == 19 and [r.record for r in df.attrs["skipped"]] == ["line 1"]
    with pytest.raises(TraceFormatError) as e:
        tk.read_xray(data)
    assert e.value.record == "line 1"


def test_a_truncated_pretty_printed_file_is_still_reported_as_truncated():
    data = json.dumps(otlp(span(), span(spanId=SID2)), indent=2).encode()[:-40]
    with pytest.raises(TraceFormatError, match="truncated"):
        tk.read_otlp(data)


def test_non_utf8_file_name_in_a_folder_loads_and_is_named_printably(tmp_path):
    otlp_dir, xray_dir = tmp_path / "o", tmp_path / "x"
    otlp_dir.mkdir()
    xray_dir.mkdir()
    try:
        (otlp_dir / os.fsdecode(b"caf\xe9.jsonl")).write_bytes(orjson.dumps(otlp(span())) + b"\n")
        (xray_dir / os.fsdecode(b"x\xff.json")).write_bytes(orjson.dumps(segment()))
    except (OSError, UnicodeEncodeError):
        pytest.skip("the file system does not take non-UTF-8 file names")
    for reader, folder, shown in ((tk.read_otlp, otlp_dir, "caf\\xe9.jsonl"), (read, otlp_dir, "caf\\xe9.jsonl"),
                                  (tk.read_xray, xray_dir, "x\\xff.json"), (read, xray_dir, "x\\xff.json")):
        df = reader(folder)
        assert df["source_file"].tolist() == [str(folder / shown)]
    # errors name the file printably (no lone surrogates in the message)
    (otlp_dir / os.fsdecode(b"bad\xe9.json")).write_bytes(b"{nope")
    with pytest.raises(TraceFormatError) as e:
        tk.read_otlp(otlp_dir)
    assert e.value.file == str(otlp_dir / "bad\\xe9.json")
    str(e.value).encode("utf-8")
    with pytest.raises(TraceFormatError) as e:
        tk.read_xray(otlp_dir)
    str(e.value).encode("utf-8")
    with pytest.warns(TraceFormatWarning):
        assert len(tk.read_otlp(otlp_dir, errors="skip")) == 1


# ------------------------------------------------------------------------------------------------
# spans_from_columns: positional columns


def frame3() -> pd.DataFrame:
    return pd.DataFrame({"trace_id": [TID] * 3, "span_id": [SID, SID2, "a" * 16], "service": ["a", "b", "c"],
                         "name": ["x", "y", "z"], "start": [0, 1, 2], "end": [5, 6, 7]})


def test_spans_from_columns_takes_series_by_position_not_by_index():
    f = frame3()
    g = f[f["span_id"] != SID]  # index 1, 2
    df = tk.spans_from_columns({c: g[c] for c in g.columns}, check=True)
    assert len(df) == 2 and df["span_id"].tolist() == [SID2, "a" * 16] and list(df.index) == [0, 1]
    # a filtered Series beside plain lists / arrays: was two half-empty rows per span, or a pandas length error
    df = tk.spans_from_columns({"trace_id": g["trace_id"], "span_id": g["span_id"].to_numpy(),
                                "service": ["b", "c"], "name": ["y", "z"], "start": np.array([1, 2]),
                                "end": [6, 7]}, check=True)
    assert df["service"].tolist() == ["b", "c"] and df["span_id"].tolist() == [SID2, "a" * 16]


def test_spans_from_columns_series_with_disagreeing_indexes_is_an_error_naming_both():
    f = frame3()
    g = f.iloc[1:]
    h = f.iloc[:2]
    with pytest.raises(SpansSchemaError, match="Series 'span_id' and 'trace_id' have different indexes"):
        tk.spans_from_columns({"trace_id": g["trace_id"], "span_id": h["span_id"], "service": ["a", "b"],
                               "name": ["x", "y"], "start": [0, 1], "end": [1, 2]})


def test_spans_from_columns_extra_series_column_is_positional_too():
    f = frame3().iloc[1:]
    df = tk.spans_from_columns({**{c: f[c] for c in f.columns}, "self_ms": f["start"] * 1.0})
    assert df["self_ms"].tolist() == [1.0, 2.0]


def test_warnings_module_is_quiet_for_clean_reads():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(tk.read_otlp(otlp(span()))) == 1


@pytest.mark.parametrize(("doc", "name"), [
    ({"data": [{"traceID": "abc", "spans": [], "processes": {}}], "total": 1}, "Jaeger UI / query API JSON"),
    ([{"traceId": TID, "id": SID, "timestamp": 1, "duration": 2, "localEndpoint": {"serviceName": "a"}}],
     "a Zipkin v2 span"),
    ({"TraceSummaries": [], "ApproximateTime": 1.0}, "X-Ray GetTraceSummaries response"),
])
def test_well_known_non_trace_shapes_are_named_in_the_error(doc, name):
    for reader in (tk.read_otlp, tk.read_xray, read):
        with pytest.raises(TraceFormatError, match=name):
            reader(doc)


def test_values_nested_a_thousand_deep_in_any_field_give_a_clear_error_not_a_recursion_error():
    deep = "[" * 1000 + "]" * 1000  # valid JSON (orjson parses 1,024 levels); repr() of it overflows
    for field in ("traceId", "kind", "name", "status", "events", "attributes"):
        text = json.dumps(otlp(span(**{field: "@"}))).replace('"@"', deep)
        with pytest.raises(TraceFormatError, match=r"\[\.\.\.\]"):
            tk.read_otlp(text)
    for field in ("id", "name", "start_time", "trace_id", "parent_id"):
        text = json.dumps(segment(**{field: "@"})).replace('"@"', deep)
        with pytest.raises(TraceFormatError, match=r"\[\.\.\.\]"):
            tk.read_xray(text)
    assert len(tk.read_xray(json.dumps(segment(http="@", sql="@")).replace('"@"', deep))) == 1


@pytest.mark.parametrize("fmt", ["otlp", "xray"])
def test_a_binary_blob_line_before_json_lines_is_skipped_and_named(fmt):
    """Found by the nightly fuzz run: a BOM and a gzip member pasted as the first 'line' (its bytes hold
    newlines of their own) made the whole file 'not JSON', so errors="skip" loaded 0 of the valid lines."""
    import gzip

    blob = b"\xef\xbb\xbf" + gzip.compress(b'{"x": "' + b"\n".join(b"%d" % i for i in range(400)) + b'"}')
    assert blob.count(b"\n") >= 1
    if fmt == "otlp":
        lines = [orjson.dumps(otlp(span())), orjson.dumps(otlp(span(spanId=SID2)))]
        reader = tk.read_otlp
    else:
        lines = [orjson.dumps(segment()), orjson.dumps(segment(SID2, name="b"))]
        reader = tk.read_xray
    data = blob + b"\n" + b"\n".join(lines) + b"\n"
    with pytest.warns(TraceFormatWarning):
        df = reader(data, errors="skip")
    assert sorted(df["span_id"]) == sorted([SID, SID2])
    reasons = [r.reason for r in df.attrs["skipped"]]
    assert reasons and all(r.startswith("line is binary data, not JSON text") for r in reasons)
    with pytest.raises(TraceFormatError, match="binary data") as e:
        reader(data)
    assert e.value.record == "line 1"


_EVENT = {"id": "1", "timestamp": 1764064800000, "message": "charged"}
_PAYLOAD = {"messageType": "DATA_MESSAGE", "owner": "1", "logGroup": "g", "logStream": "s", "logEvents": [_EVENT]}


@pytest.mark.parametrize(("doc", "reader"), [
    ({"events": [{"timestamp": 1, "message": "x", "ingestionTime": 2}], "nextForwardToken": "f/1"}, "tk.read_logs"),
    (_PAYLOAD, "tk.read_logs"),
    ({"awslogs": {"data": base64.b64encode(gzip.compress(orjson.dumps(_PAYLOAD))).decode()}}, "tk.read_logs"),
    ({"level": "INFO", "message": "charged", "xray_trace_id": "1-5759e988-bd862e3fe1be46a994272793"}, "tk.read_logs"),
    ({"MetricDataResults": [{"Id": "m1", "Label": "CPUUtilization", "Timestamps": ["2025-11-25T10:00:00Z"],
                             "Values": [12.5], "StatusCode": "Complete"}], "Messages": []}, "tk.read_metrics"),
    ({"Label": "CPUUtilization", "Datapoints": [{"Timestamp": "2025-11-25T10:00:00Z", "Average": 12.5,
                                                "Unit": "Percent"}]}, "tk.read_metrics"),
])
def test_logs_or_metrics_given_to_a_trace_reader_name_the_reader_that_reads_them(tmp_path, doc, reader):
    """CloudWatch Logs and metrics output and JSON log lines given to tk.read (or the CLI's report) were refused as
    an 'unknown trace format' naming only the trace formats, so a user who handed over the wrong file was not told
    which reader takes it."""
    p = tmp_path / "export.json"
    p.write_bytes(orjson.dumps(doc))
    for read_traces in (read, tk.read_xray, tk.read_otlp):
        with pytest.raises(TraceFormatError, match=f"which {reader} reads") as e:
            read_traces(p)
        assert e.value.file == str(p)
    got = (tk.read_logs if reader == "tk.read_logs" else tk.read_metrics)(p)  # the reader named takes it
    assert len(got) == 1


def test_an_application_log_beside_the_traces_is_listed_not_an_error(tmp_path, real_traces):
    """A fresh reader's d08: a folder of OTLP traces, metrics and logs and a JSON-lines application log
    (Powertools). The OTLP files of other signals were listed in attrs["ignored"], but the JSON log made tk.read and
    read_metrics raise, though their own error knew it for log records. It is listed now, naming the reader."""
    for f in ("trace.json", "metrics.json", "logs.json"):
        (tmp_path / f).write_bytes((real_traces / "opentelemetry-proto" / f).read_bytes())
    (tmp_path / "app.jsonl").write_text(orjson.dumps({"timestamp": "2024-01-01T00:00:00Z", "level": "INFO",
                                                      "message": "hi", "service": "pay"}).decode() + "\n")
    spans, metrics = read(tmp_path), tk.read_metrics(tmp_path)
    assert len(spans) == len(read(tmp_path / "trace.json")) and len(metrics) == len(tk.read_metrics(tmp_path / "metrics.json"))
    for got in (spans, metrics):
        app = [r for r in got.attrs["ignored"] if r.file == str(tmp_path / "app.jsonl")]
        assert len(app) == 1 and "which tk.read_logs reads" in app[0].reason
    assert len(tk.read_logs(tmp_path)) == len(tk.read_logs(tmp_path / "logs.json")) + 1
