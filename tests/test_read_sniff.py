"""tk.read: per-document format sniffing, dispatch to the OTLP and X-Ray readers, mixed inputs;
tk.skipped_records."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pandas as pd
import pytest

import tracekit as tk
from tracekit.errors import SkippedRecord, TraceFormatError, TraceFormatWarning
from tracekit.io.sniff import read, skipped_records, sniff

DATA = Path(__file__).parent / "data" / "otlp"

XRAY_FILES = [
    "aws-cli-examples-xray/batch-traces-get.rst.output.json",
    "aws-xray-developer-guide/xray-api-gettingdata.md.BatchGetTraces-output.json",
    "otel-contrib-awsxray-testdata/ddbSample.txt",
    "otel-contrib-awsxray-testdata/serverSample.txt",
    "otel-contrib-awsxray-testdata/indepSubsegment.txt",
    "otel-contrib-awsxray-testdata/minInProgress.txt",
    "otel-contrib-awsxray-testdata/minCauseIsExceptionId.txt",
    "otel-contrib-awsxray-testdata-upstream/indepSubsegmentWithLocalNamespace.txt",
]
XRAY_INVALID = [
    "otel-contrib-awsxray-testdata/segmentValidationFailed.txt",
    "otel-contrib-awsxray-testdata-upstream/segmentWithParentId.txt",
]
OTLP_FILES = [
    "opentelemetry-proto/trace.json",
    "opentelemetry.io/getting-started.md.rust-stdout-exporter-output.json",
    "jaeger/apiv3-snapshots/GetTrace.json",
    "jaeger/memory-fixtures/otel_traces_01.json",
    "jaeger-ui/utils-fixtures/otlp2jaeger-multi-in.json.txt",
]
SEGMENT = {"trace_id": "1-5759e988-bd862e3fe1be46a994272793", "id": "53995c3f42cd8ad8", "name": "api",
           "start_time": 1.5, "end_time": 1.75}


@pytest.mark.parametrize("rel", OTLP_FILES)
def test_otlp_files_read_as_read_otlp(real_traces, rel):
    got = read(real_traces / rel)
    pd.testing.assert_frame_equal(got, tk.read_otlp(real_traces / rel))
    assert set(got["source"]) == {"otlp"}


@pytest.mark.parametrize("rel", XRAY_FILES)
def test_xray_files_read_as_read_xray(real_traces, rel):
    got = read(real_traces / rel)
    tk.validate_spans(got)
    expected = tk.read_xray(real_traces / rel)
    pd.testing.assert_frame_equal(got, expected)
    assert set(got["source"]) == {"xray"} and len(got) >= 1
    assert got.attrs["skipped"] == expected.attrs["skipped"] == ()
    assert got.attrs["unprocessed_trace_ids"] == expected.attrs["unprocessed_trace_ids"]


@pytest.mark.parametrize("rel", XRAY_INVALID + ["opentelemetry-specification/file-exporter.md.traces-example.jsonl"])
def test_invalid_real_files_fail_as_their_reader_does(real_traces, rel):
    reader = tk.read_otlp if "opentelemetry" in rel else tk.read_xray
    with pytest.raises(TraceFormatError) as ours:
        read(real_traces / rel)
    with pytest.raises(TraceFormatError) as theirs:
        reader(real_traces / rel)
    assert str(ours.value) == str(theirs.value)
    assert str(real_traces / rel) in str(ours.value)


def test_mixed_files_concatenate_in_input_order(real_traces):
    files = [real_traces / "otel-contrib-awsxray-testdata" / "serverSample.txt",
             real_traces / "opentelemetry-proto" / "trace.json",
             real_traces / "aws-cli-examples-xray" / "batch-traces-get.rst.output.json"]
    df = read(files)
    tk.validate_spans(df)
    assert df["source"].tolist() == ["xray", "otlp", "xray", "xray", "xray"]
    assert [Path(f).name for f in df["source_file"]] == [
        "serverSample.txt", "trace.json"] + ["batch-traces-get.rst.output.json"] * 3
    assert df["span_id"].iloc[1] == "eee19b7ec3c1b174"
    assert df["service"].tolist()[:2] == ["SampleServer", "my.service"]
    assert df.attrs["skipped"] == ()


def test_both_formats_in_one_jsonl_file(tmp_path):
    otlp_line = (DATA / "collector.jsonl").read_text().splitlines()[0]
    p = tmp_path / "mixed.jsonl"
    p.write_text(otlp_line + "\n" + json.dumps(SEGMENT) + "\n")
    df = read(p)
    tk.validate_spans(df)
    assert df["source"].tolist() == ["otlp", "xray"]
    assert df["source_record"].tolist() == [1, 2]
    assert df["span_id"].tolist() == ["00f067aa0ba902b7", "53995c3f42cd8ad8"]
    assert df["trace_id"].iloc[1] == "5759e988bd862e3fe1be46a994272793"
    assert df["end"].iloc[1].value - df["start"].iloc[1].value == 250_000_000


def test_parsed_list_of_both_formats_is_not_modified():
    otlp = json.loads((DATA / "anyvalues.json").read_text())
    batch = {"Traces": [{"Id": SEGMENT["trace_id"], "Segments": [{"Id": SEGMENT["id"],
                                                                   "Document": json.dumps(SEGMENT)}]}]}
    source = [otlp, batch]
    before = copy.deepcopy(source)
    df = read(source)
    assert source == before
    assert df["source"].tolist() == ["otlp"] * 4 + ["xray"]
    assert df["service"].tolist()[-1] == "api"


def test_unknown_format_names_file_and_supported_formats(real_traces):
    path = real_traces / "jaeger" / "jaegerquery-fixture" / "otlp2jaeger-out.json"
    with pytest.raises(TraceFormatError) as exc:
        read(path)
    e = exc.value
    assert e.file == str(path)
    # issue 17: a well-known shape is named (the keys are still listed)
    assert e.reason.startswith("unknown trace format: a JSON object with keys data, total, limit, offset, errors: "
                               "Jaeger UI / query API JSON")
    assert "supported formats: OTLP/JSON" in e.reason and "AWS X-Ray" in e.reason


def test_unknown_documents_in_lenient_mode_are_listed(tmp_path):
    otlp_line = (DATA / "collector.jsonl").read_text().splitlines()[0]
    p = tmp_path / "x.jsonl"
    p.write_text(otlp_line + '\n{"hello": 1}\n[3, {"resourceSpans": []}]\nnot json\n' + json.dumps(SEGMENT) + "\n")
    with pytest.raises(TraceFormatError, match=r"x\.jsonl, line 2: unknown trace format: a JSON object with keys hello"):
        read(p)
    with pytest.warns(TraceFormatWarning, match=r"read skipped 3 bad records; first: .*x\.jsonl, line 2: unknown"):
        df = read(p, errors="skip")
    assert df["source"].tolist() == ["otlp", "xray"]
    table = skipped_records(df)
    assert table["record"].tolist() == ["line 2", "line 3, [0]", "line 4"]
    assert table["file"].tolist() == [str(p)] * 3
    assert table["reason"].str.startswith("unknown trace format: a JSON ").tolist() == [True, True, False]
    assert table["reason"].iloc[1].startswith("unknown trace format: a JSON number;")
    assert table["reason"].iloc[2].startswith("line is not valid JSON")


def test_lenient_directory_with_both_formats_and_bad_files(tmp_path, real_traces):
    (tmp_path / "a.json").write_bytes((real_traces / "opentelemetry-proto" / "trace.json").read_bytes())
    (tmp_path / "b.txt").write_bytes((real_traces / "otel-contrib-awsxray-testdata" / "segmentValidationFailed.txt")
                                     .read_bytes())
    (tmp_path / "c.json").write_bytes(b"{truncated")
    (tmp_path / "d.txt").write_bytes((real_traces / "otel-contrib-awsxray-testdata" / "serverSample.txt").read_bytes())
    with pytest.warns(TraceFormatWarning, match="read skipped 2 bad record"):
        df = read(tmp_path, errors="skip")
    assert df["source"].tolist() == ["otlp", "xray"]
    assert [Path(f).name for f in df["source_file"]] == ["a.json", "d.txt"]
    table = skipped_records(df)
    assert sorted(Path(f).name for f in table["file"]) == ["b.txt", "c.json"]
    assert table["reason"].str.contains("start_time|not valid JSON").all()


def test_skipped_records_of_a_clean_read_is_empty_with_columns():
    df = read(DATA / "collector.jsonl", errors="skip")
    assert df.attrs["skipped"] == ()
    table = skipped_records(df)
    assert list(table.columns) == ["file", "record", "reason"] and len(table) == 0
    assert all(str(t) == "string" for t in table.dtypes)
    assert len(skipped_records(pd.DataFrame())) == 0  # no attrs at all


def test_skipped_records_from_attrs():
    df = tk.empty_spans()
    df.attrs["skipped"] = (SkippedRecord("a.json", "Traces[0]", "no Segments"), SkippedRecord("b.json", None, "x"))
    table = skipped_records(df)
    assert table.to_dict("list") == {"file": ["a.json", "b.json"], "record": ["Traces[0]", None],
                                     "reason": ["no Segments", "x"]}


@pytest.mark.parametrize("value,fmt", [
    ({"resourceSpans": []}, "otlp"),
    ({"result": {}}, "otlp"),
    ({"Traces": [], "UnprocessedTraceIds": []}, "xray"),
    ({"Id": "1-5759e988-bd862e3fe1be46a994272793", "Segments": []}, "xray"),
    (SEGMENT, "xray"),
    ({"id": "53995c3f42cd8ad8", "name": "api", "end_time": 2.0}, "xray"),  # no start_time: X-Ray says so
    ('{"id": "53995c3f42cd8ad8"}', "xray"),
    ([], "list"),
    ({"data": [], "total": 0}, "unknown"),
    ({"id": "x"}, "unknown"),
    (3, "unknown"),
    (None, "unknown"),
])
def test_sniff(value, fmt):
    assert sniff(value) == fmt


def test_errors_argument_checked():
    with pytest.raises(ValueError, match="errors must be 'raise' or 'skip'"):
        read(DATA / "collector.jsonl", errors="warn")


def test_empty_source_is_an_error_naming_what_was_empty():
    # issue 17: never 0 spans silently (was: an empty frame); lenient: one skipped record, a valid empty frame
    with pytest.raises(TraceFormatError, match="no spans: resourceSpans is empty"):
        read({"resourceSpans": []})
    with pytest.warns(TraceFormatWarning):
        df = read({"resourceSpans": []}, errors="skip")
    assert len(df) == 0 and len(df.attrs["skipped"]) == 1
    tk.validate_spans(df)


def test_jsonl_with_a_bad_first_line_names_line_1_and_lenient_keeps_the_rest(tmp_path):
    # a bad *first* line made the file look like one (broken) JSON value: the error named no
    # line and errors="skip" dropped every span of the file, unlike a bad line 2
    good = ('{{"resourceSpans": [{{"scopeSpans": [{{"spans": [{{"traceId": "5759e988bd862e3fe1be46a994272793", '
            '"spanId": "{:016x}", "name": "x", "startTimeUnixNano": "0", "endTimeUnixNano": "1"}}]}}]}}]}}')
    p = tmp_path / "spans.jsonl"
    p.write_text('{"resourceSpans": [{"sc\n' + good.format(1) + "\n" + good.format(2) + "\n")
    with pytest.raises(TraceFormatError, match="line 1"):
        read(p)
    with pytest.warns(TraceFormatWarning):
        df = read(p, errors="skip")
    assert df["span_id"].tolist() == [f"{1:016x}", f"{2:016x}"]
    assert [r.record for r in df.attrs["skipped"]] == ["line 1"]


def test_truncated_pretty_printed_file_is_still_reported_as_truncated(tmp_path):
    p = tmp_path / "traces.json"
    p.write_text('{"Traces": [\n{"Id": "1-5759e988-bd862e3fe1be46a994272793", "Segments": []}\n')
    with pytest.raises(TraceFormatError, match="file is truncated"):
        read(p)


def test_directory_skips_files_inside_hidden_folders(tmp_path):
    # Jupyter's .ipynb_checkpoints/ (and .git/ …) copies were read too: every span twice
    doc = {"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "5759e988bd862e3fe1be46a994272793",
           "spanId": "eee19b7ec3c1b174", "name": "x", "startTimeUnixNano": "0", "endTimeUnixNano": "1"}]}]}]}
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "traces.json").write_text(json.dumps(doc))
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "traces-checkpoint.json").write_text(json.dumps(doc))
    df = read(tmp_path)
    assert df["source_file"].tolist() == [str(tmp_path / "sub" / "traces.json")]
