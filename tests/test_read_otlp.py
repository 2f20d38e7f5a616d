"""read_otlp: real OTLP files (values worked out by reading each file), synthetic edge cases, errors.

Times are compared as int64 nanoseconds (``Timestamp.value``) so that a float round trip would show.
"""

from __future__ import annotations

import copy
import gzip
import io
import json
import re
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
import pytest

import tracekit as tk
from tracekit.errors import SkippedRecord, TraceFormatError, TraceFormatWarning
from tracekit.io.readers import read_otlp

DATA = Path(__file__).parent / "data" / "otlp"


def ns(ts) -> int | None:
    return None if pd.isna(ts) else ts.value


def row(df, span_id):
    rows = df[df["span_id"] == span_id]
    assert len(rows) == 1, f"{span_id}: {len(rows)} rows"
    return rows.iloc[0]


# --------------------------------------------------------------------------------------------
# real files


def test_proto_example_upper_case_ids_string_int64(real_traces):
    df = read_otlp(real_traces / "opentelemetry-proto" / "trace.json")
    tk.validate_spans(df)
    assert len(df) == 1
    r = df.iloc[0]
    assert (r.trace_id, r.span_id, r.parent_id) == (
        "5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174", "eee19b7ec3c1b173")
    assert (r["name"], r.kind, r.status, r.service) == ("I'm a server span", "server", "unset", "my.service")
    assert ns(r.start) == 1544712660000000000 and ns(r.end) == 1544712661000000000
    assert r.duration_ms == 1000.0
    assert r.attributes == {"my.span.attr": "some value"}
    assert r.resource == {"service.name": "my.service", "otel.scope.name": "my.library",
                          "otel.scope.version": "1.0.0", "otel.scope.attr.my.scope.attribute": "some scope attribute"}
    assert (r.source, r.source_record, r.in_progress) == ("otlp", 0, False)
    assert r.source_file.endswith("opentelemetry-proto/trace.json")


def test_rust_stdout_numeric_int64_above_2_53_exact(real_traces):
    df = read_otlp(real_traces / "opentelemetry.io" / "getting-started.md.rust-stdout-exporter-output.json")
    tk.validate_spans(df)
    r = df.iloc[0]
    assert len(df) == 1
    # float(1691076354768025000) == 1691076354768025088: a float round trip would break these
    assert ns(r.start) == 1691076354768025000
    assert ns(r.end) == 1691076354768034000
    assert r.duration_ms == pytest.approx(0.009, abs=1e-12)
    assert pd.isna(r.parent_id)  # "parentSpanId": "" -> root
    assert (r.trace_id, r.span_id) == ("adfe9d364ee19610adde517d722167ca", "27e1d7d8e44a63c5")
    assert (r.kind, r.status, r["name"], r.service) == ("server", "error", "GET /rolldice", "unknown_service")
    assert pd.isna(r.status_message)
    assert r.attributes == {"otel.dropped_attributes_count": 0, "otel.dropped_events_count": 0,
                            "otel.dropped_links_count": 0}
    assert r.resource == {"service.name": "unknown_service", "otel.scope.name": "dice_server"}


def test_spec_file_exporter_example_has_empty_ids(real_traces):
    path = real_traces / "opentelemetry-specification" / "file-exporter.md.traces-example.jsonl"
    with pytest.raises(TraceFormatError) as exc:
        read_otlp(path)
    e = exc.value
    assert e.file == str(path)
    assert e.record == "line 1, resourceSpans[0].scopeSpans[0].spans[0]"
    assert "no traceId" in e.reason
    with pytest.warns(TraceFormatWarning, match="8 OTLP record"):
        df = read_otlp(path, errors="skip")
    assert len(df) == 0
    tk.validate_spans(df)
    skipped = df.attrs["skipped"]
    assert [s.record for s in skipped] == [f"line {n}, resourceSpans[0].scopeSpans[0].spans[{k}]"
                                           for n in (1, 2, 3, 4) for k in (0, 1)]
    assert all(isinstance(s, SkippedRecord) and s.file == str(path) for s in skipped)


@pytest.mark.parametrize("name", ["GetTrace.json", "FindTraces.json"])
def test_jaeger_apiv3_result_wrapper_without_times(real_traces, name):
    df = read_otlp(real_traces / "jaeger" / "apiv3-snapshots" / name)
    tk.validate_spans(df)
    assert len(df) == 1
    r = df.iloc[0]
    assert (r.trace_id, r.span_id) == ("00000000000000000000000000000001", "0000000000000002")
    assert pd.isna(r.parent_id)
    assert (r["name"], r.kind, r.status) == ("foobar", "server", "error")
    # no startTimeUnixNano: proto3 default 0 (a real value); no endTimeUnixNano: in progress
    assert ns(r.start) == 0
    assert pd.isna(r.end) and np.isnan(r.duration_ms) and r.in_progress
    assert r.service == "unknown_service" and "service.name" not in r.resource
    assert r.resource == {}


# (file, service, trace ids in order, span ids in order, parent ids in order, start ns, end ns of first span)
T0 = 1485449191639875000
JAEGER_FIXTURES = [
    ("default.json", "query11-service", ["227"], ["3"], [None], T0, 1485449191639975000),
    ("dur_trace.json", "query09-service", ["9"], ["3"], [None], T0, 1485449191639880000),
    ("example_trace.json", None, ["11"] * 5, ["4", "5", "3", "6", "7"], [None] * 5, T0, 1485449191639975000),
    ("link_attributes_trace.json", "query25-service", ["226"], ["4"], [None], T0, 1485449191639877000),
    ("log_tags_trace.json", "query02-service", ["2"], ["1"], [None], T0, 1485449191639880000),
    ("max_dur_trace.json", "query10-service", ["10"], ["2"], [None], T0, 1485449191639876000),
    ("multi_index_trace.json", None, ["5", "5"], ["1", "2"], [None, None], 1485389011639875000, 1485389011639880000),
    ("opname_maxdur_trace.json", "query07-service", ["7", "7"], ["3", "2"], ["2", None], T0, 1485449191639876000),
    ("scope_attributes_trace.json", "query24-service", ["225"], ["2"], [None], T0, 1485449191639876000),
    ("tags_escaped_operator_trace_2.json", None, ["5912"], ["5"], [None], T0, 1485449191639876000),
    ("tags_opname_trace.json", None, ["12"], ["4"], [None], T0, 1485449191639877000),
    ("tags_wildcard_regex_1.json", None, ["a12"], ["4"], [None], T0, 1485449191639877000),
]


@pytest.mark.parametrize("name,service,tids,sids,pids,start,end", JAEGER_FIXTURES)
def test_jaeger_integration_fixtures(real_traces, name, service, tids, sids, pids, start, end):
    df = read_otlp(real_traces / "jaeger" / "integration-fixtures-traces" / name)
    tk.validate_spans(df)
    assert df["trace_id"].tolist() == [t.zfill(32) for t in tids]
    assert df["span_id"].tolist() == [s.zfill(16) for s in sids]
    assert [None if pd.isna(p) else p for p in df["parent_id"]] == [p and p.zfill(16) for p in pids]
    assert ns(df["start"].iloc[0]) == start and ns(df["end"].iloc[0]) == end
    if service:
        assert set(df["service"]) == {service}


def test_all_jaeger_integration_fixtures_load(real_traces):
    files = sorted((real_traces / "jaeger" / "integration-fixtures-traces").glob("*.json"))
    assert len(files) == 32
    df = read_otlp(files)  # a list of paths
    tk.validate_spans(df)
    # every fixture has one span except example_trace (5), multi_index/opname_maxdur (2)
    assert len(df) == 29 + 5 + 2 + 2
    assert df["source_file"].nunique() == 32
    assert (df["kind"] == "unspecified").sum() == len(df) - 2  # example_trace has one server, one client


def test_example_trace_services_and_kinds(real_traces):
    df = read_otlp(real_traces / "jaeger" / "integration-fixtures-traces" / "example_trace.json")
    assert df["service"].tolist() == ["example-service-2", "example-service-3"] + ["example-service-1"] * 3
    assert df["kind"].tolist() == ["unspecified"] * 3 + ["server", "client"]
    assert df["source_record"].tolist() == [0, 1, 2, 2, 2]  # index of the resourceSpans entry
    # events without names: name is the proto3 default "", time kept as int ns
    assert df["events"].iloc[0] == [{"time": T0, "name": "", "attributes": {}}] * 2


def test_link_attributes_typed_values(real_traces):
    df = read_otlp(real_traces / "jaeger" / "integration-fixtures-traces" / "link_attributes_trace.json")
    links = df["links"].iloc[0]
    assert [(lk["trace_id"], lk["span_id"]) for lk in links] == [
        ("000000000000000000000000000000ff", "00000000000000ff"),
        ("00000000000000000000000000000001", "0000000000000002"),
        ("00000000000000000000000000000001", "0000000000000002")]
    assert links[0]["attributes"] == {
        "opentracing.ref_type": "child_of", "sameplacelinkattribute1": "sameplacevalue",
        "sameplacelinkattribute2": 123, "sameplacelinkattribute4": True, "sameplacelinkattribute3": 72.5,
        "linkblob": "AAAwOQ=="}
    assert links[2]["attributes"] == {"opentracing.ref_type": "follows_from"}
    assert links[0]["trace_state"] is None and links[0]["flags"] is None


def test_log_tags_event_attributes(real_traces):
    df = read_otlp(real_traces / "jaeger" / "integration-fixtures-traces" / "log_tags_trace.json")
    assert df["events"].iloc[0] == [
        {"time": T0, "name": "", "attributes": {"sameplacetag1": "sameplacevalue", "sameplacetag2": 123,
                                                "sameplacetag4": True, "sameplacetag3": 72.5, "blob": "AAAwOQ=="}},
        {"time": T0, "name": "", "attributes": {}}]


def test_scope_attributes_into_resource(real_traces):
    df = read_otlp(real_traces / "jaeger" / "integration-fixtures-traces" / "scope_attributes_trace.json")
    assert df["resource"].iloc[0] == {
        "service.name": "query24-service", "otel.scope.name": "testing-library", "otel.scope.version": "1.1.1",
        "otel.scope.attr.sameplacescopeattribute1": "sameplacevalue", "otel.scope.attr.sameplacescopeattribute2": 123,
        "otel.scope.attr.sameplacescopeattribute4": True, "otel.scope.attr.sameplacescopeattribute3": 72.5,
        "otel.scope.attr.scopeblob": "AAAwOQ=="}


def test_memory_fixture_every_span_field(real_traces):
    df = read_otlp(real_traces / "jaeger" / "memory-fixtures" / "otel_traces_01.json")
    tk.validate_spans(df)
    assert df["span_id"].tolist() == ["0000000000000002", "0000000000000003", "0000000000000004", "0000000000000005"]
    assert df["trace_id"].tolist() == ["00000000000000010000000000000000", "00000000000000020000000000000000",
                                       "00000000000000010000000000000000", "00000000000000020000000000000000"]
    assert df["parent_id"].tolist() == ["0000000000000003", "0000000000000010", "0000000000000011",
                                        "0000000000000010"]
    assert df["kind"].tolist() == ["server", "client", "producer", "consumer"]
    assert df["trace_state"].tolist() == ["state.2", "state.3", "state.4", "state.5"]
    assert df["flags"].tolist() == [1, 1, 1, 1]
    assert df["status"].tolist() == ["error"] * 4
    assert [ns(t) for t in df["start"]] == [1485467191639875000] * 4
    assert [ns(t) for t in df["end"]] == [1485467191639880000] * 4
    assert df["duration_ms"].tolist() == [0.005] * 4
    assert df["attributes"].iloc[0] == {"peer.service": "service-y", "peer.ipv4": 23456, "blob": "AAAwOQ==",
                                        "temperature": 72.5}
    assert df["resource"].iloc[3]["otel.scope.name"] == "testing-library-3"
    assert df["resource"].iloc[3]["otel.scope.attr.scope.attributes.3"] == "attribute-y"
    assert df["links"].iloc[0][1]["trace_id"] == "00000000000000ff0000000000000000"  # a link to another trace
    assert df["events"].iloc[0][0] == {"time": 1485467191639875000, "name": "testing-event",
                                       "attributes": {"event-x": "event-y"}}


@pytest.mark.parametrize("folder", ["jaeger/jaegerquery-fixture", "jaeger-ui/utils-fixtures"])
def test_telemetrygen_identical_copies_of_one_span_are_one_span(real_traces, folder):
    """The file holds one span twice, equal in every field: one span exported twice, as X-Ray's reader collapses
    the same segment read twice (io._copies), counted in attrs["copies_dropped"]."""
    df = read_otlp(real_traces / folder / "otlp2jaeger-in.json")
    tk.validate_spans(df)
    assert df["span_id"].tolist() == ["e127af99e3b3e074"] and df.attrs["copies_dropped"] == 1
    assert df["source_record"].tolist() == [0]  # the first copy
    assert df["parent_id"].tolist() == ["909541b92cf05311"]  # parent not in the file
    assert [ns(t) for t in df["start"]] == [1706678909209712000]
    assert df["duration_ms"].tolist() == [0.123]
    assert df["resource"].iloc[0] == {"service.name": "telemetrygen", "otel.schema_url":
                                      "https://opentelemetry.io/schemas/1.4.0", "otel.scope.name": "telemetrygen"}
    assert df["attributes"].iloc[0] == {"net.peer.ip": "1.2.3.4", "peer.service": "telemetrygen-client"}


def test_jaeger_ui_error_fixture_empty_resource(real_traces):
    df = read_otlp(real_traces / "jaeger-ui" / "utils-fixtures" / "otlp2jaeger-in-error.json")
    assert len(df) == 1 and df["service"].iloc[0] == "unknown_service"
    assert df["resource"].iloc[0] == {"otel.schema_url": "https://opentelemetry.io/schemas/1.4.0",
                                      "otel.scope.name": "telemetrygen"}


def test_node_jsonl_parents_across_lines_match_combined_file(real_traces):
    folder = real_traces / "jaeger-ui" / "utils-fixtures"
    lines = read_otlp(folder / "otlp2jaeger-multi-in.json.txt")
    combined = read_otlp(folder / "otlp2jaeger-multi-in-combined.json")
    tk.validate_spans(lines)
    assert lines["source_record"].tolist() == [1, 2, 3, 4]  # 1-based line
    assert combined["source_record"].tolist() == [0, 1, 2, 3]  # resourceSpans index
    parents = dict(zip(lines["span_id"], lines["parent_id"].astype(object).where(lines["parent_id"].notna(), None), strict=True))
    assert parents == {"26f5ef9dbb885479": "49b8e9efa1e8a3b1", "e76628f4e6dde174": "49b8e9efa1e8a3b1",
                       "49b8e9efa1e8a3b1": "eff3153be6b1fb93", "eff3153be6b1fb93": None}
    main = row(lines, "eff3153be6b1fb93")
    assert (main["name"], ns(main.start), ns(main.end)) == ("main", 1711138246940000000, 1711138247116321958)
    assert row(lines, "e76628f4e6dde174").end.value == 1711138247096355250
    assert set(lines["trace_id"]) == {"c620759e5d60fafb8ee0922b30e06bc6"}
    assert set(lines["kind"]) == {"internal"} and set(lines["status"]) == {"unset"}
    assert row(lines, "49b8e9efa1e8a3b1").resource["otel.scope.version"] == "1.2.3"
    cols = ["trace_id", "span_id", "parent_id", "name", "kind", "start", "end", "service", "status"]
    pd.testing.assert_frame_equal(lines[cols], combined[cols])


OTLP_FILES = [
    "opentelemetry-proto/trace.json",
    "opentelemetry.io/getting-started.md.rust-stdout-exporter-output.json",
    "jaeger/apiv3-snapshots/GetTrace.json",
    "jaeger/memory-fixtures/otel_traces_01.json",
    "jaeger/jaegerquery-fixture/otlp2jaeger-in.json",
    "jaeger-ui/utils-fixtures/otlp2jaeger-in-error.json",
    "jaeger-ui/utils-fixtures/otlp2jaeger-multi-in.json.txt",
    "jaeger-ui/utils-fixtures/otlp2jaeger-multi-in-combined.json",
    "jaeger/apiv3-snapshots/FindTraces.json",
    "jaeger-ui/utils-fixtures/otlp2jaeger-in.json",
    *[f"jaeger/integration-fixtures-traces/{n}" for n in (
        "default.json", "dur_trace.json", "example_trace.json", "link_attributes_trace.json", "log_tags_trace.json",
        "max_dur_trace.json", "multi_index_trace.json", "multi_spot_tags_trace.json", "multiple1_trace.json",
        "multiple2_trace.json", "multiple3_trace.json", "multispottag_dur_trace.json",
        "multispottag_maxdur_trace.json", "multispottag_opname_dur_trace.json", "multispottag_opname_maxdur_trace.json",
        "multispottag_opname_trace.json", "opname_dur_trace.json", "opname_maxdur_trace.json", "opname_trace.json",
        "process_tags_trace.json", "scope_attributes_trace.json", "scope_name_version_trace.json",
        "span_tags_trace.json", "tags_dur_trace.json", "tags_escaped_operator_trace_1.json",
        "tags_escaped_operator_trace_2.json", "tags_maxdur_trace.json", "tags_opname_dur_trace.json",
        "tags_opname_maxdur_trace.json", "tags_opname_trace.json", "tags_wildcard_regex_1.json",
        "tags_wildcard_regex_2.json")],
]


def test_every_otlp_file_in_real_traces_is_covered(real_traces):
    """Every real file holding OTLP is in OTLP_FILES, except the spec example (empty ids: invalid by design)."""
    found = {str(p.relative_to(real_traces)) for p in real_traces.rglob("*")
             if p.is_file() and p.name != "SOURCES.md" and b"resourceSpans" in p.read_bytes()}
    assert found - set(OTLP_FILES) == {"opentelemetry-specification/file-exporter.md.traces-example.jsonl"}
    assert set(OTLP_FILES) <= found

# every field of the OTLP messages and where it lands in the frame
SPAN_FIELDS = {"traceId", "spanId", "parentSpanId", "name", "kind", "startTimeUnixNano", "endTimeUnixNano",
               "attributes", "droppedAttributesCount", "events", "droppedEventsCount", "links",
               "droppedLinksCount", "status", "traceState", "flags"}


def _source_spans(path: Path):
    """(resource attrs, scope, scopeSpans, span) for every span of the file, by walking the raw JSON."""
    data = path.read_bytes()
    docs = [orjson.loads(x) for x in data.splitlines() if x.strip()] if path.name.endswith(".txt") else [
        orjson.loads(data)]
    for d in docs:
        d = d.get("result", d)
        for rs in d["resourceSpans"]:
            for ss in rs.get("scopeSpans", []):
                for sp in ss.get("spans", []):
                    yield rs, ss, sp


@pytest.mark.parametrize("rel", OTLP_FILES)
def test_lossless_every_source_key_is_in_the_frame(real_traces, rel):
    path = real_traces / rel
    df = read_otlp(path)
    sources, seen = [], set()
    for rs, ss, sp in _source_spans(path):  # a span given twice, equal in every field, is one span (io._copies)
        key = orjson.dumps([rs.get("resource"), rs.get("schemaUrl"), ss.get("scope"), sp], option=orjson.OPT_SORT_KEYS)
        if key not in seen:
            seen.add(key)
            sources.append((rs, ss, sp))
    assert len(df) == len(sources) and df.attrs["copies_dropped"] == len(list(_source_spans(path))) - len(sources)
    for (rs, ss, sp), (_, r) in zip(sources, df.iterrows(), strict=True):
        assert set(sp) <= SPAN_FIELDS, set(sp) - SPAN_FIELDS
        for kv in sp.get("attributes", []):
            assert kv["key"] in r.attributes
        for name, col in (("droppedAttributesCount", "otel.dropped_attributes_count"),
                          ("droppedEventsCount", "otel.dropped_events_count"),
                          ("droppedLinksCount", "otel.dropped_links_count")):
            if name in sp:
                assert r.attributes[col] == sp[name]
        for kv in rs.get("resource", {}).get("attributes", []):
            assert kv["key"] in r.resource
        scope = ss.get("scope", {})
        for kv in scope.get("attributes", []):
            assert "otel.scope.attr." + kv["key"] in r.resource
        for k in ("name", "version"):
            if k in scope:
                assert r.resource[f"otel.scope.{k}"] == scope[k]
        if "schemaUrl" in rs:
            assert r.resource["otel.schema_url"] == rs["schemaUrl"]
        assert len(r.events) == len(sp.get("events", []))
        for ev, src in zip(r.events, sp.get("events", []), strict=True):
            assert ev["time"] == int(src["timeUnixNano"]) and ev["name"] == src.get("name", "")
            assert set(ev["attributes"]) == {kv["key"] for kv in src.get("attributes", [])}
        assert len(r.links) == len(sp.get("links", []))
        for lk, src in zip(r.links, sp.get("links", []), strict=True):
            assert set(lk["attributes"]) == {kv["key"] for kv in src.get("attributes", [])}
        if "traceState" in sp:
            assert r.trace_state == sp["traceState"]
        if "flags" in sp:
            assert r["flags"] == sp["flags"]
        if sp.get("status", {}).get("message"):
            assert r.status_message == sp["status"]["message"]


# --------------------------------------------------------------------------------------------
# synthetic fixtures


def test_anyvalue_shapes_and_numeric_int64():
    df = read_otlp(DATA / "anyvalues.json")
    tk.validate_spans(df)
    r = row(df, "eee19b7ec3c1b174")  # upper-case ids in the file
    assert r.trace_id == "5b8efff798038103d269b633813fc60c"
    a = r.attributes
    assert a["big.int"] == 9223372036854775807 and a["big.int.str"] == -9223372036854775808
    assert type(a["big.int"]) is int
    assert a["ratio"] == 0.25 and np.isnan(a["nan"]) and a["ok"] is False
    assert a["raw"] == "3q2+7w=="  # bytesValue stays base64
    assert a["nothing"] is None
    assert a["items"] == [1, 2.5, True, None, ["nested"], {"k": 7}]
    assert a["empty.list"] == [] and a["empty.map"] == {}
    assert (a["otel.dropped_attributes_count"], a["otel.dropped_events_count"], a["otel.dropped_links_count"]) == (3, 4, 6)
    assert r.resource["host.cores"] == 9007199254740993  # 2**53 + 1 as a JSON number, exact
    assert r.resource["deployment"] == {"region": "eu-west-1", "zones": ["a", "b"]}
    assert r.resource["otel.resource.dropped_attributes_count"] == 2
    assert r.resource["otel.schema_url"] == "https://opentelemetry.io/schemas/1.21.0"
    assert r.resource["otel.scope.schema_url"] == "https://opentelemetry.io/schemas/1.20.0"
    assert r.resource["otel.scope.attr.lib.flavour"] == "mint"
    assert ns(r.start) == 1700000000123456789 and ns(r.end) == 1700000000987654321  # string and number
    assert r.duration_ms == 864.197532
    assert (r.trace_state, r["flags"]) == ("ot=th:fd70a4,vendor=x", 769)
    assert (r.status, r.status_message) == ("error", "too many requests")
    assert (r.http_status, r.error, r.fault, r.throttle) == (429, True, False, True)
    assert r.events == [
        {"time": 1700000000500000001, "name": "retry", "attributes": {"attempt": 2}, "dropped_attributes_count": 1},
        {"time": None, "name": "", "attributes": {}}]  # no time: None, not 1970 (s43)
    assert r.links == [{"trace_id": "0af7651916cd43dd8448eb211c80319c", "span_id": "b7ad6b7169203331",
                        "trace_state": "rojo=00f067aa0ba902b7", "flags": 257, "attributes": {"link.kind": "batch"},
                        "dropped_attributes_count": 5}]
    assert pd.isna(r.parent_id)  # "" parent -> root


def test_enum_names_legacy_http_status_zero_and_missing_times():
    df = read_otlp(DATA / "anyvalues.json")
    client = row(df, "00f067aa0ba902b7")
    assert (client.kind, client.status) == ("client", "ok")  # "SPAN_KIND_CLIENT", "STATUS_CODE_OK"
    assert (client.http_status, client.error, client.fault, client.throttle) == (503, False, True, False)
    assert client.duration_ms == 0.0 and not client.in_progress
    bg = row(df, "1111111111111111")
    assert pd.isna(bg.parent_id)  # all-zero parent id -> root
    assert ns(bg.start) == 0 and pd.isna(bg.end) and bg.in_progress  # "0" is a real start
    assert pd.isna(bg.http_status) and not (bg.error or bg.fault or bg.throttle)
    other = row(df, "2222222222222222")
    assert other.parent_id == "00f067aa0ba902b7"  # upper-case parent lower-cased
    assert (other.service, other.resource, other.kind) == ("unknown_service", {}, "internal")
    assert ns(other.start) == 0 and ns(other.end) == 5 and other.duration_ms == 5e-6
    assert (other.http_status, other.error, other.fault) == (404, True, False)
    assert df["source_record"].tolist() == [0, 0, 0, 1]


def test_instrumentation_library_spans_and_deprecated_code():
    df = read_otlp(DATA / "legacy_instrumentation_library.json")
    tk.validate_spans(df)
    # the second resource has both fields: scopeSpans wins, instrumentationLibrarySpans is ignored
    assert df["span_id"].tolist() == ["b7ad6b7169203331", "b7ad6b7169203332", "c000000000000001"]
    q = row(df, "b7ad6b7169203331")
    assert q.resource == {"service.name": "legacy-svc", "otel.scope.name": "io.opentelemetry.jdbc",
                          "otel.scope.version": "0.9.0"}
    assert (q.status, q.status_message, q.kind) == ("error", "unknown error", "client")  # deprecatedCode 2
    assert q.attributes == {"otel.status.deprecated_code": 2}
    assert row(df, "b7ad6b7169203332").status == "unset"  # deprecatedCode 0 (OK) -> unset
    assert row(df, "c000000000000001").resource == {"service.name": "both-fields", "otel.scope.name": "new"}


def test_collector_jsonl_trace_across_lines_and_in_progress():
    df = read_otlp(DATA / "collector.jsonl")
    tk.validate_spans(df)
    assert df["span_id"].tolist() == ["00f067aa0ba902b7", "a000000000000001", "b000000000000001", "c000000000000001"]
    assert df["source_record"].tolist() == [1, 2, 2, 4]  # line 3 is blank
    assert df["service"].tolist() == ["frontend", "gateway", "worker", "backend"]
    assert df["parent_id"].astype(object).where(df["parent_id"].notna(), None).tolist() == [
        "a000000000000001", None, None, "00f067aa0ba902b7"]
    w = row(df, "b000000000000001")
    assert w.in_progress and pd.isna(w.end) and np.isnan(w.duration_ms) and w.kind == "consumer"
    assert w.trace_id == "f" * 32
    assert row(df, "c000000000000001").status_message == "boom"
    assert df["in_progress"].tolist() == [False, False, True, False]


def test_sources_gzip_bytes_file_object_directory_parsed(tmp_path):
    raw = (DATA / "collector.jsonl").read_bytes()
    gz = tmp_path / "export.jsonl.gz"
    gz.write_bytes(gzip.compress(raw))
    expected = read_otlp(DATA / "collector.jsonl")
    cols = ["trace_id", "span_id", "parent_id", "start", "end", "source_record"]
    for src in (gz, str(gz), raw, gzip.compress(raw), io.BytesIO(raw), raw.decode()):
        got = read_otlp(src)
        pd.testing.assert_frame_equal(got[cols], expected[cols])
    assert read_otlp(gz)["source_file"].iloc[0] == str(gz)
    assert read_otlp(raw)["source_file"].iloc[0] == "<object>"
    parsed = json.loads((DATA / "anyvalues.json").read_text())
    assert len(read_otlp(parsed)) == 4
    twice = read_otlp([parsed, parsed])  # the same spans twice: copies dropped, counted
    assert len(twice) == 4 and twice.attrs["copies_dropped"] == 4 and twice["source_record"].tolist() == read_otlp(parsed)["source_record"].tolist()
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.json").write_bytes((DATA / "anyvalues.json").read_bytes())
    assert len(read_otlp(tmp_path)) == 4 + 4  # the gz file and sub/a.json
    assert len(read_otlp([DATA / "collector.jsonl", DATA / "anyvalues.json"])) == 8


def test_input_is_never_modified():
    parsed = json.loads((DATA / "anyvalues.json").read_text())
    before = copy.deepcopy(parsed)
    df = read_otlp(parsed)
    assert parsed == before
    df["attributes"].iloc[0]["new"] = 1  # the frame's dicts are not the input's
    assert parsed == before


def test_skipped_is_empty_tuple_when_nothing_skipped():
    assert read_otlp(DATA / "collector.jsonl", errors="skip").attrs["skipped"] == ()
    assert read_otlp(DATA / "collector.jsonl").attrs["skipped"] == ()


def test_empty_request_is_an_error_naming_what_was_empty():
    # issue 17: never 0 spans silently (was: an empty frame). Lenient: one skipped record, a valid empty frame
    with pytest.raises(TraceFormatError, match="no spans: resourceSpans is empty"):
        read_otlp({"resourceSpans": []})
    with pytest.warns(TraceFormatWarning):
        df = read_otlp({"resourceSpans": []}, errors="skip")
    assert len(df) == 0 and list(df.columns) == list(tk.empty_spans().columns)
    assert [r.reason for r in df.attrs["skipped"]] == ["no spans: resourceSpans is empty"]
    tk.validate_spans(df)


# --------------------------------------------------------------------------------------------
# bad input


def _doc(**span):
    base = {"traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b7169203331", "name": "x",
            "startTimeUnixNano": "1", "endTimeUnixNano": "2"}
    good = [dict(base, spanId=f"c7ad6b716920333{i}") for i in range(5)]  # five spans (equal copies would be one)
    base.update(span)
    return {"resourceSpans": [{"scopeSpans": [
        {"spans": good[:1]},
        {"spans": [*good[1:], base]},
    ]}]}


@pytest.mark.parametrize("span,reason", [
    ({"spanId": "b7ad6b716920333"}, "spanId must be 16 hex digits, got 'b7ad6b716920333'"),
    ({"spanId": "b7ad6b716920333g"}, "spanId must be 16 hex digits, got 'b7ad6b716920333g'"),
    ({"traceId": "0af7651916cd43dd8448eb211c80319c00"}, "traceId must be 32 hex digits"),
    ({"traceId": "0" * 32}, "span has no traceId"),
    ({"spanId": ""}, "span has no spanId"),
    ({"parentSpanId": "xyz"}, "parentSpanId must be 16 hex digits"),
    ({"traceId": 12}, "traceId must be 32 hex digits, got 12"),
    ({"startTimeUnixNano": "12.5"}, "startTimeUnixNano must be an integer"),
    ({"startTimeUnixNano": 1.7e18}, "startTimeUnixNano must be an integer"),
    ({"endTimeUnixNano": "-1"}, "endTimeUnixNano '-1' is out of range"),
    ({"endTimeUnixNano": "18446744073709551615"}, "out of range"),
    ({"kind": 9}, "kind must be a SpanKind (0-5), got 9"),
    ({"status": {"code": 7}}, "status.code must be 0, 1 or 2, got 7"),
    ({"attributes": [{"key": "a", "value": {"intValue": "x1"}}]}, "intValue must be an integer"),
    ({"attributes": [{"key": "a", "value": {"arrayValue": {"values": 3}}}]}, "arrayValue.values must be a list"),
    ({"links": [{"traceId": "abc", "spanId": "b7ad6b7169203331"}]}, "link traceId must be 32 hex digits"),
    ({"events": [{"timeUnixNano": "soon"}]}, "event timeUnixNano must be an integer"),
    ({"name": 5}, "name must be a string, got 5"),
    ({"traceState": 5}, "traceState must be a string, got 5"),
    ({"status": {"code": 2, "message": ["x"]}}, "status.message must be a string"),
    ({"status": "ERROR"}, "status must be an object, got 'ERROR'"),
    ({"attributes": {"a": 1}}, "attributes must be a list"),
    ({"attributes": [{"key": 3, "value": {"stringValue": "x"}}]}, "attribute key must be a string, got 3"),
    ({"attributes": [{"key": "a", "value": "x"}]}, "attribute value must be an AnyValue object"),
])
def test_bad_span_names_file_record_and_reason(span, reason):
    with pytest.raises(TraceFormatError) as exc:
        read_otlp(_doc(**span))
    e = exc.value
    assert e.file == "<object>"
    assert e.record == "resourceSpans[0].scopeSpans[1].spans[4]"
    assert reason in e.reason
    assert str(e).startswith("<object>, resourceSpans[0].scopeSpans[1].spans[4]: ")
    # lenient: the 5 good spans load, the bad one is reported
    with pytest.warns(TraceFormatWarning, match="1 OTLP record"):
        df = read_otlp(_doc(**span), errors="skip")
    # a bad link is left out, its span kept (issue 29); a bad event too (session 52: it cost the span)
    part = ".links[0]" if reason.startswith("link ") else ".events[0]" if reason.startswith("event ") else ""
    assert len(df) == (6 if part else 5)
    tk.validate_spans(df)
    (s,) = df.attrs["skipped"]
    record = "resourceSpans[0].scopeSpans[1].spans[4]" + part
    assert (s.file, s.record) == ("<object>", record) and reason in s.reason


@pytest.mark.parametrize("as_bytes", [False, True])  # the checked walk (parsed JSON) and the typed path (bytes)
def test_enums_as_decimal_strings_as_the_specifications_file_exporter_example_writes_them(as_bytes):
    doc = _doc(kind="3", status={"code": "2", "message": "boom"})
    df = read_otlp(json.dumps(doc).encode() if as_bytes else doc)
    bad = df[df["span_id"] == "b7ad6b7169203331"].iloc[0]
    assert (bad.kind, bad.status, bad.status_message) == ("client", "error", "boom")
    for wrong, what in (({"kind": "9"}, "kind must be a SpanKind (0-5), got '9'"),
                        ({"status": {"code": "2.0"}}, "status.code must be 0, 1 or 2, got '2.0'"),
                        ({"status": {"code": " 2"}}, "status.code must be 0, 1 or 2, got ' 2'")):
        with pytest.raises(TraceFormatError, match=re.escape(what)):
            read_otlp(json.dumps(_doc(**wrong)).encode() if as_bytes else _doc(**wrong))


XRAY_TID = "1-5759E988-BD862E3FE1BE46A994272793"  # an X-Ray trace id (upper case: lowered like any id)


@pytest.mark.parametrize("as_bytes", [False, True])  # the checked walk (parsed JSON); bytes: the typed path falls back
def test_xray_trace_ids_in_otlp_become_the_32_hex_form_as_in_logs_and_exemplars(as_bytes):
    """An X-Ray trace id in traceId was refused ('traceId must be 32 hex digits'), while read_logs and read_metrics'
    exemplars read it, and read_xray gives its spans the 32-hex form: the same 128 bits (the collector's awsxray
    receiver and exporter convert between the two so). Now every reader gives the one trace_id, and they join."""
    tid = "5759e988bd862e3fe1be46a994272793"
    link = {"traceId": XRAY_TID, "spanId": "d7ad6b7169203331"}
    doc = _doc(traceId=XRAY_TID, links=[link])
    df = read_otlp(json.dumps(doc).encode() if as_bytes else doc)
    x = df[df["span_id"] == "b7ad6b7169203331"].iloc[0]
    assert x["trace_id"] == tid and x["links"][0]["trace_id"] == tid
    assert (df["trace_id"] == "0af7651916cd43dd8448eb211c80319c").sum() == 5  # the other spans as they were
    only_link = _doc(links=[link])  # the span's own id is hex: as bytes, read by the typed path, link and all
    assert read_otlp(json.dumps(only_link).encode() if as_bytes else only_link)["links"].iloc[5][0]["trace_id"] == tid
    t = "1700000000000000000"
    logs = tk.read_logs({"resourceLogs": [{"scopeLogs": [{"logRecords": [
        {"timeUnixNano": t, "traceId": XRAY_TID, "spanId": "b7ad6b7169203331", "body": {"stringValue": "hi"}}]}]}]})
    metrics = tk.read_metrics({"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": "m", "gauge": {"dataPoints": [
        {"timeUnixNano": t, "asDouble": 1.0, "exemplars": [
            {"timeUnixNano": t, "asDouble": 1.0, "traceId": XRAY_TID, "spanId": "b7ad6b7169203331"}]}]}}]}]}]})
    xray = tk.read_xray({"trace_id": XRAY_TID, "id": "b7ad6b7169203331", "name": "x", "start_time": 1.0, "end_time": 2.0})
    assert logs["trace_id"].tolist() == [tid] and metrics["exemplars"].iloc[0][0]["trace_id"] == tid
    assert xray["trace_id"].tolist() == [tid]
    for wrong in ("1-5759e988-bd862e3fe1be46a99427279", "1-5759e98g-bd862e3fe1be46a994272793",
                  "2-5759e988-bd862e3fe1be46a994272793"):  # not X-Ray ids: still refused, as given
        with pytest.raises(TraceFormatError, match=f"traceId must be 32 hex digits, got '{wrong}'"):
            read_otlp(_doc(traceId=wrong))


def test_bad_span_in_jsonl_names_line(tmp_path):
    lines = [json.dumps(_doc()), json.dumps(_doc(spanId="nothex!!nothex!!"))]
    p = tmp_path / "x.jsonl"
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(TraceFormatError) as exc:
        read_otlp(p)
    assert exc.value.file == str(p)
    assert exc.value.record == "line 2, resourceSpans[0].scopeSpans[1].spans[4]"


def test_truncated_jsonl():
    path = DATA / "truncated.jsonl"
    with pytest.raises(TraceFormatError, match=r"truncated\.jsonl, line 2: file is truncated"):
        read_otlp(path)
    with pytest.warns(TraceFormatWarning, match="1 OTLP record"):
        df = read_otlp(path, errors="skip")
    assert df["span_id"].tolist() == ["00f067aa0ba902b7"]  # line 1 loads
    assert df.attrs["skipped"][0].record == "line 2"


@pytest.mark.parametrize("src,record,reason", [
    (b"not json at all", None, "not JSON"),
    (b'{"resourceSpans": [', None, "truncated"),
    (b'{"Traces": []}', None, "neither 'resourceSpans' nor 'result' (keys: Traces)"),
    (b'{"result": {"foo": 1}}', "result", "neither 'resourceSpans' nor 'result'"),
    (b'[{"resourceSpans": []}, 3]', "[1]", "got a JSON number"),
    (b'{"resourceSpans": {"a": 1}}', "resourceSpans", "resourceSpans must be a list"),
    (b'{"resourceSpans": [{"scopeSpans": [{"spans": [17]}]}]}', "resourceSpans[0].scopeSpans[0].spans[0]",
     "expected a Span object"),
    (b'{"resourceSpans": [{"resource": {"attributes": [{"key": "a", "value": {"boolValue": "yes"}}]}}]}',
     "resourceSpans[0].resource", "boolValue must be true or false"),
])
def test_bad_documents(src, record, reason):
    with pytest.raises(TraceFormatError) as exc:
        read_otlp(src)
    assert exc.value.file == "<object>" and exc.value.record == record
    assert reason in exc.value.reason


def test_lenient_mode_continues_after_a_bad_file(tmp_path):
    (tmp_path / "a.json").write_bytes(b"{broken")
    (tmp_path / "b.json").write_bytes((DATA / "anyvalues.json").read_bytes())
    with pytest.warns(TraceFormatWarning, match=r"1 OTLP record skipped; first: .*a\.json"):
        df = read_otlp(tmp_path, errors="skip")
    assert len(df) == 4
    assert df.attrs["skipped"][0].file == str(tmp_path / "a.json")


def test_errors_argument_checked():
    with pytest.raises(ValueError, match="errors must be 'raise' or 'skip'"):
        read_otlp(DATA / "collector.jsonl", errors="ignore")


def test_missing_file():
    with pytest.raises(FileNotFoundError):
        read_otlp(DATA / "nope.json")


def test_lenient_mode_goes_on_after_a_bad_line(tmp_path):
    lines = (DATA / "collector.jsonl").read_text().splitlines()
    lines.insert(1, '{"resourceSpans": [ oops')
    p = tmp_path / "x.jsonl"
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(TraceFormatError, match=r"x\.jsonl, line 2: line is not valid JSON"):
        read_otlp(p)
    with pytest.warns(TraceFormatWarning, match="1 OTLP record"):
        df = read_otlp(p, errors="skip")
    assert df["span_id"].tolist() == ["00f067aa0ba902b7", "a000000000000001", "b000000000000001", "c000000000000001"]
    assert df["source_record"].tolist() == [1, 3, 3, 5]
    assert [(s.record, s.reason[:22]) for s in df.attrs["skipped"]] == [("line 2", "line is not valid JSON")]


def test_chunked_conversion_gives_the_same_frame(monkeypatch, real_traces):
    """Columns are converted every _FLUSH spans; tiny chunks must give the same frame and errors."""
    import tracekit.io.otlp as otlp

    sources = [DATA / "anyvalues.json", DATA / "collector.jsonl", DATA / "legacy_instrumentation_library.json",
               real_traces / "jaeger" / "memory-fixtures" / "otel_traces_01.json"]
    expected = read_otlp(sources)
    monkeypatch.setattr(otlp, "_FLUSH", 1)
    got = read_otlp(sources)
    pd.testing.assert_frame_equal(got, expected)
    assert len(got) == 4 + 4 + 3 + 4
    with pytest.raises(TraceFormatError) as exc:
        read_otlp(_doc(spanId="zz"))
    assert exc.value.record == "resourceSpans[0].scopeSpans[1].spans[4]"
    with pytest.warns(TraceFormatWarning):
        df = read_otlp([_doc(spanId="zz"), _doc(traceId="")], errors="skip")
    assert len(df) == 5 and df.attrs["copies_dropped"] == 5  # the two documents' good spans are the same five
    assert [s.record for s in df.attrs["skipped"]] == ["[0].resourceSpans[0].scopeSpans[1].spans[4]",
                                                       "[1].resourceSpans[0].scopeSpans[1].spans[4]"]


def test_lenient_locations_count_spans_skipped_before():
    doc = _doc(kind=42)  # spans[4] is skipped in the pass
    doc["resourceSpans"][0]["scopeSpans"][1]["spans"].append(
        {"traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "bad!", "name": "y"})  # spans[5]
    with pytest.warns(TraceFormatWarning, match="2 OTLP record"):
        df = read_otlp(doc, errors="skip")
    assert len(df) == 5
    assert [(s.record, s.reason[:14]) for s in df.attrs["skipped"]] == [
        ("resourceSpans[0].scopeSpans[1].spans[4]", "kind must be a"),
        ("resourceSpans[0].scopeSpans[1].spans[5]", "spanId must be")]


def test_out_of_range_http_status_is_missing_not_a_crash_and_out_of_range_flags_are_bad_input():
    doc = _doc(attributes=[{"key": "http.status_code", "value": {"intValue": str(2**70)}}])
    r = read_otlp(doc).iloc[5]  # the last span of the second scope
    assert pd.isna(r.http_status)
    assert r.attributes == {"http.status_code": 2**70}  # the attribute itself is kept exactly
    # flags are the span's own fixed32 field, not an attribute kept beside: 2**64 was read as <NA> with no word
    with pytest.raises(TraceFormatError, match=r"scopeSpans\[1\]\.spans\[4\]: flags must be a 32-bit unsigned integer"):
        read_otlp(_doc(flags=2**64))
    with pytest.warns(TraceFormatWarning, match="1 OTLP record"):
        df = read_otlp(_doc(flags=2**64), errors="skip")
    assert len(df) == 5 and "flags must be" in df.attrs["skipped"][0].reason


def test_an_export_read_twice_is_read_once_and_its_traces_still_walk(tmp_path):
    """Overlapping exports (a folder beside a copy of a file, a collector's retry) give every span twice: copies
    equal in every field but the file and record collapse to the first, as X-Ray's reader does (io._copies), so
    the critical path walks every trace (before: every trace failed, "which copy is unknown"). A span in progress
    in one export and complete in the other is the complete one; two different spans with one id are both kept."""
    sim = tk.simulate.simulate("baseline", n_traces=40, seed=4)
    tk.write_otlp(sim.spans, tmp_path / "a.json")
    (tmp_path / "copy").mkdir()
    (tmp_path / "copy" / "a.json").write_bytes((tmp_path / "a.json").read_bytes())
    once, twice = read_otlp(tmp_path / "a.json"), read_otlp(tmp_path)
    cols = [c for c in once.columns if c not in ("source_file",)]
    pd.testing.assert_frame_equal(twice[cols], once[cols])
    assert twice.attrs["copies_dropped"] == len(once) and once.attrs["copies_dropped"] == 0
    assert twice["source_file"].eq(once["source_file"].iloc[0]).all()  # the first copy's file
    cp = tk.critical_path(twice)
    assert cp.attrs["failures"] == () and cp["trace_id"].nunique() == once["trace_id"].nunique() == 40
    # in progress in one export (end 0), complete in the other; and a different span with a taken id
    span = {"traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b7169203331", "name": "x",
            "startTimeUnixNano": "1000", "endTimeUnixNano": "2000"}
    doc = lambda *spans: {"resourceSpans": [{"scopeSpans": [{"spans": list(spans)}]}]}  # noqa: E731
    df = read_otlp([doc(dict(span, endTimeUnixNano="0")), doc(span), doc(dict(span, name="y"))])
    assert df["name"].tolist() == ["x", "y"] and not df["in_progress"].any() and df.attrs["copies_dropped"] == 1
    assert tk.health_report(df).query("check == 'duplicate_span_ids'")["spans_affected"].tolist() == [2]


def test_a_file_named_twice_is_read_once_by_every_reader(tmp_path):
    """A path and a symlink to it, a folder and a file in it: one part, as read_logs and read_metrics do (a fresh
    reader: read_otlp read it twice, so the frame was right but attrs["copies_dropped"] counted every span)."""
    sim = tk.simulate.simulate("baseline", n_traces=10, seed=2)
    p = tk.write_otlp(sim.spans, tmp_path / "a.json")
    (tmp_path / "link.json").symlink_to(p)
    once = read_otlp(p)
    for src in ([p, p], [p, tmp_path / "link.json"], [tmp_path, p]):
        got = read_otlp(src)
        assert len(got) == len(once) and got.attrs["copies_dropped"] == 0
        assert tk.read(src).attrs["copies_dropped"] == 0
