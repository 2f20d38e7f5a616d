"""Session 52 reader defects (findings items 3, 4, 8, 12): a JSON log line carrying a trace id read as an X-Ray
segment; a BatchGetTraces page with NextToken / a trace with LimitExceeded read as complete, silently; one bad
OTLP event dropping its whole span; a PutTraceSegments body refused as unknown. Fixtures are written inline."""

from __future__ import annotations

import json
import warnings

import pytest

import tracekit as tk
from tracekit.errors import SkippedRecord, TraceFormatError, TraceFormatWarning
from tracekit.io.sniff import sniff

TID = "5b8efff798038103d269b633813fc60c"
XTID = "1-5759e988-bd862e3fe1be46a994272793"
SPAN_LINE = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [{
    "traceId": TID, "spanId": "eee19b7ec3c1b174", "name": "GET /",
    "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000000000000100"}]}]}]})
LOG = {"level": "INFO", "message": "charged card", "timestamp": "2023-11-14T22:13:20Z"}
LOG_REASON = "a JSON log record (a message and a level, time or trace id, which tk.read_logs reads): not trace data"


def _quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kw)


# -- item 4: a JSON log line with a trace id is a log record, not an X-Ray segment

@pytest.mark.parametrize("extra", [
    {"trace_id": TID, "span_id": "eee19b7ec3c1b174"},  # the OTel / structlog correlation fields
    {"xray_trace_id": XTID, "name": "payment", "id": "42"},  # a Powertools line with name + id
    {"trace_id": XTID, "id": "53995c3f42cd8ad8", "name": "api", "end_time": 1.5},  # no start_time: not a segment
])
def test_log_line_with_trace_id_is_ignored_not_read_as_xray(tmp_path, extra):
    p = tmp_path / "mixed.jsonl"
    p.write_text(SPAN_LINE + "\n" + json.dumps({**LOG, **extra}) + "\n")
    df = tk.read(p)
    assert df["span_id"].tolist() == ["eee19b7ec3c1b174"]
    assert df.attrs["ignored"] == (SkippedRecord(str(p), "line 2", LOG_REASON),)
    assert df.attrs["skipped"] == ()


def test_log_lines_with_trace_id_in_a_directory_are_ignored(tmp_path):
    (tmp_path / "traces.jsonl").write_text(SPAN_LINE + "\n")
    (tmp_path / "app.jsonl").write_text("\n".join(
        json.dumps({**LOG, "trace_id": TID, "n": i}) for i in range(3)) + "\n")
    df = tk.read(tmp_path)
    assert df["span_id"].tolist() == ["eee19b7ec3c1b174"]
    app = str(tmp_path / "app.jsonl")
    assert df.attrs["ignored"] == tuple(SkippedRecord(app, f"line {i}", LOG_REASON) for i in (1, 2, 3))
    # and read_logs reads those lines, as the reason says
    logs = tk.read_logs(tmp_path / "app.jsonl")
    assert logs["trace_id"].tolist() == [TID] * 3
    assert logs["body"].tolist() == ["charged card"] * 3


def test_log_shapes_body_log_and_time(tmp_path):
    """message/msg/body/log with a level or a time: a log record (a Docker json-file line, a body + time line)."""
    p = tmp_path / "mixed.jsonl"
    lines = [{"log": "GET / 200\n", "stream": "stdout", "time": "2023-11-14T22:13:20Z", "trace_id": TID},
             {"body": "charged", "timestamp": 1700000000000, "trace_id": TID, "span_id": "eee19b7ec3c1b174"}]
    p.write_text(SPAN_LINE + "\n" + "\n".join(map(json.dumps, lines)) + "\n")
    df = tk.read(p)
    assert len(df) == 1
    assert [(r.record, r.reason) for r in df.attrs["ignored"]] == [("line 2", LOG_REASON), ("line 3", LOG_REASON)]


def test_sniff_log_lines_and_real_segments():
    assert sniff({**LOG, "trace_id": TID}) == "unknown"  # dispatched to the ignored list
    assert sniff({**LOG, "id": "42", "name": "payment"}) == "unknown"
    segment = {"trace_id": XTID, "id": "53995c3f42cd8ad8", "name": "api", "start_time": 1.5}
    assert sniff({**segment, "end_time": 2.0}) == "xray"
    assert sniff({**segment, "in_progress": True}) == "xray"  # an in-progress segment: no end_time
    sub = {**segment, "id": "0123456789abcdef", "type": "subsegment", "parent_id": "53995c3f42cd8ad8", "end_time": 2.0}
    assert sniff(sub) == "xray"
    # a segment that happens to carry a message and a level is still a segment (id, name, start_time)
    assert sniff({**segment, "end_time": 2.0, **LOG}) == "xray"


def test_real_segments_beside_log_lines_still_load(tmp_path):
    seg = {"trace_id": XTID, "id": "53995c3f42cd8ad8", "name": "api", "start_time": 1700000000.5}
    docs = [{**seg, "in_progress": True},
            {**seg, "id": "0123456789abcdef", "name": "db", "type": "subsegment", "parent_id": "53995c3f42cd8ad8",
             "namespace": "remote", "start_time": 1700000000.6, "end_time": 1700000000.7},
            {**LOG, "trace_id": XTID}]
    p = tmp_path / "seg.jsonl"
    p.write_text("\n".join(map(json.dumps, docs)) + "\n")
    df = tk.read(p)
    assert df["span_id"].tolist() == ["53995c3f42cd8ad8", "0123456789abcdef"]
    assert df["in_progress"].tolist() == [True, False]
    assert df["kind"].tolist() == ["server", "client"]
    assert df.attrs["ignored"] == (SkippedRecord(str(p), "line 3", LOG_REASON),)


def test_read_xray_names_a_log_line_with_trace_id(tmp_path):
    """read_xray refuses a log line (as read_otlp does) naming the shape, not "has no id" (one line: one document)."""
    p = tmp_path / "app.jsonl"
    p.write_text(json.dumps({**LOG, "trace_id": XTID}) + "\n")
    with pytest.raises(TraceFormatError) as e:
        tk.read_xray(p)
    assert str(e.value) == (
        f"{p}: a JSON log record (a message and a level, time or trace id, which tk.read_logs reads): not X-Ray data: "
        "expected a BatchGetTraces response {\"Traces\": [...]}, a trace {\"Id\", \"Segments\"} or a segment document "
        "{\"id\", \"trace_id\", \"start_time\", ...}; found keys: level, message, timestamp, trace_id")


# -- item 3: a BatchGetTraces page with NextToken, a trace with LimitExceeded: said, not read as complete

SEG = {"trace_id": XTID, "id": "53995c3f42cd8ad8", "name": "api", "start_time": 1500000000.5, "end_time": 1500000001.25}
XTID2 = "1-5759e988-00000000000000000000abcd"
SEG2 = {**SEG, "trace_id": XTID2, "id": "0123456789abcdef"}


def _page(*segs, token=None, parsed=False, limit=None):
    traces = []
    for s in segs:
        t = {"Id": s["trace_id"], "Duration": 0.75,
             "Segments": [s if parsed else {"Id": s["id"], "Document": json.dumps(s)}]}
        if limit is not None:
            t["LimitExceeded"] = limit.get(s["trace_id"], False)
        traces.append(t)
    page = {"Traces": traces, "UnprocessedTraceIds": []}
    if token:
        page["NextToken"] = token
    return page


def _read_warned(reader, source):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        df = reader(source)
    return df, [str(x.message) for x in w if issubclass(x.category, TraceFormatWarning)]


def _page_warning(reader, file):
    return (f"{reader}: {file} is one page of a paginated output (NextToken): the traces of the pages after it are "
            "not in it (the AWS CLI follows the pages unless --max-items or --no-paginate is given)")


@pytest.mark.parametrize("reader", [tk.read_xray, tk.read])
def test_a_page_with_next_token_is_truncated_and_said(tmp_path, reader):
    p = tmp_path / "page1.json"
    p.write_text(json.dumps(_page(SEG, token="eyJ0b2tlbiI6IjEifQ==")))
    df, said = _read_warned(reader, p)
    assert len(df) == 1
    assert df.attrs["truncated"] is True
    assert said == [_page_warning(reader.__name__, p)]


@pytest.mark.parametrize("reader", [tk.read_xray, tk.read])
def test_pages_followed_to_the_last_are_not_truncated(tmp_path, reader):
    """fetch_xray's cache (and read_xray(run.pages)): every page but the last of a request holds a NextToken, and the
    request's last page (none) is in the read, in whatever order the pages come: complete."""
    first, last = tmp_path / "batch-r-00000-a0-p000.json", tmp_path / "batch-r-00000-a0-p001.json"
    first.write_text(json.dumps(_page(SEG, token="t1")))
    last.write_text(json.dumps(_page(SEG2)))
    for source in (tmp_path, [last, first], [_page(SEG, token="t1"), _page(SEG2)]):
        df, said = _read_warned(reader, source)
        assert len(df) == 2 and df.attrs.get("truncated") is None and said == []
    # every page read holds a token: the request's last page is missing (the first page with one is named)
    df, said = _read_warned(reader, [_page(SEG, token="t1"), _page(SEG2, token="t2")])
    assert df.attrs["truncated"] is True and said == [_page_warning(reader.__name__, "<object>")]


@pytest.mark.parametrize("parsed", [False, True], ids=["fast", "checked"])
@pytest.mark.parametrize("reader", [tk.read_xray, tk.read])
def test_limit_exceeded_is_said(tmp_path, reader, parsed):
    p = tmp_path / "limit.json"
    p.write_text(json.dumps(_page(SEG, SEG2, parsed=parsed, limit={XTID2: True})))
    df, said = _read_warned(reader, p)
    assert len(df) == 2
    assert df.attrs["limit_exceeded_trace_ids"] == ("5759e98800000000000000000000abcd",)
    assert said == [f"{reader.__name__}: 1 trace has LimitExceeded: true (X-Ray cut it short: segments past its "
                    "limit are not in the data); first: 1-5759e988-00000000000000000000abcd (the trace ids are in "
                    "df.attrs['limit_exceeded_trace_ids'])"]
    assert df.attrs.get("truncated") is None  # a cut trace, not a missing page
    assert df["resource"].map(lambda r: r["xray.trace.LimitExceeded"]).tolist() == [False, True]  # as before
    two = _page({**SEG, "id": "1111111111111111"}, SEG2, parsed=parsed, limit={XTID: True, XTID2: True})
    df, said = _read_warned(reader, [two, _page(SEG2, parsed=parsed, limit={XTID2: True})])  # a trace named once
    assert df.attrs["limit_exceeded_trace_ids"] == ("5759e988bd862e3fe1be46a994272793",
                                                    "5759e98800000000000000000000abcd")
    assert said[0].startswith(f"{reader.__name__}: 2 traces have LimitExceeded: true (X-Ray cut them short: ")
    none = tmp_path / "none.json"
    none.write_text(json.dumps(_page(SEG, SEG2, parsed=parsed, limit={})))
    df, said = _read_warned(reader, none)
    assert df.attrs["limit_exceeded_trace_ids"] == () and said == []


# -- item 8: errors="skip": a bad OTLP event is left out, its span kept (the links' rule)

def _otlp_doc(**kw):
    s = {"traceId": TID, "spanId": "eee19b7ec3c1b174", "name": "GET /", "kind": 2,
         "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000000500000000", "status": {"code": 2}}
    s.update(kw)
    return {"resourceSpans": [{"scopeSpans": [{"spans": [s]}]}]}


GOOD_EVENT = {"timeUnixNano": "1700000000100000000", "name": "retry"}
SPAN0 = "resourceSpans[0].scopeSpans[0].spans[0]"


@pytest.mark.parametrize("bad, reason", [
    ({"timeUnixNano": "soon", "name": "exception"},
     "event timeUnixNano must be an integer (a decimal string or a JSON number), got 'soon'"),
    (None, "event must be an object, got null"),
])
@pytest.mark.parametrize("as_file", [True, False], ids=["file", "parsed"])
@pytest.mark.parametrize("reader", [tk.read_otlp, tk.read])
def test_a_bad_event_is_left_out_and_its_span_kept(tmp_path, reader, as_file, bad, reason):
    doc = _otlp_doc(events=[GOOD_EVENT, bad])
    source = doc
    if as_file:  # the fast path (it hands the span to the checked code) and the checked path agree
        source = tmp_path / "t.json"
        source.write_text(json.dumps(doc))
    df = _quiet(reader, source, errors="skip")
    assert df["span_id"].tolist() == ["eee19b7ec3c1b174"]
    assert df["status"].tolist() == ["error"]
    assert df.at[0, "events"] == [{"time": 1700000000100000000, "name": "retry", "attributes": {}}]
    file = str(source) if as_file else "<object>"
    assert df.attrs["skipped"] == (SkippedRecord(file, f"{SPAN0}.events[1]",
                                                 f"{reason}: the event was left out, the span kept"),)


def test_a_bad_event_still_raises_by_default_and_events_not_a_list_is_left_out():
    with pytest.raises(TraceFormatError, match=r"spans\[0\]: event must be an object, got null"):
        tk.read_otlp(_otlp_doc(events=[None]))
    df = _quiet(tk.read_otlp, _otlp_doc(events={"name": "x"}), errors="skip")
    assert len(df) == 1 and df.at[0, "events"] == []
    assert df.attrs["skipped"] == (SkippedRecord("<object>", f"{SPAN0}.events", "events must be a list, got "
                                                 "{'name': 'x'}: the events were left out, the span kept"),)


# -- item 12: a PutTraceSegments body {"TraceSegmentDocuments": ["<segment JSON>", ...]} reads as its list

def _put_docs():
    """Segment documents as the X-Ray exporter sends them (independent subsegments of one trace, namespace remote;
    the shape of opentelemetry-collector-contrib's receiver/awsxrayreceiver/testdata/sample.json), as strings."""
    return [json.dumps({"trace_id": "1-5f06099f-000000000000000000000000", "id": f"{i:02x}00000000000000",
                        "name": "load-generator-span", "start_time": 1594231199.5 + i, "end_time": 1594231199.75 + i,
                        "type": "subsegment", "namespace": "remote", "annotations": {"seq": str(i)}}) + "\n"
            for i in range(1, 4)]


@pytest.mark.parametrize("as_file", [True, False], ids=["file", "parsed"])
@pytest.mark.parametrize("reader", [tk.read_xray, tk.read])
def test_put_trace_segments_body_reads_as_its_documents(tmp_path, reader, as_file):
    body = {"TraceSegmentDocuments": _put_docs()}
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(_put_docs()))
    source = body
    if as_file:
        source = tmp_path / "sample.json"
        source.write_text(json.dumps(body))
    df = reader(source)
    assert df["span_id"].tolist() == ["0100000000000000", "0200000000000000", "0300000000000000"]
    assert df["trace_id"].unique().tolist() == ["5f06099f000000000000000000000000"]
    assert df["kind"].unique().tolist() == ["client"]
    assert [a["annotation.seq"] for a in df["attributes"]] == ["1", "2", "3"]
    expected = reader(bare)  # the same documents as a bare list: the same spans
    cols = ["trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end", "status"]
    assert df[cols].equals(expected[cols])
    assert df["source_record"].tolist() == [0, 1, 2]


def test_put_trace_segments_body_errors_name_the_document(tmp_path):
    docs = _put_docs()
    docs[1] = '{"trace_id": "1-5f06099f-000000000000000000000000", "id": "02", "name": "x"'  # cut JSON
    p = tmp_path / "sample.json"
    p.write_text(json.dumps({"TraceSegmentDocuments": docs}))
    with pytest.raises(TraceFormatError) as e:
        tk.read_xray(p)
    assert (e.value.file, e.value.record) == (str(p), "TraceSegmentDocuments[1]")
    assert e.value.reason.startswith("Document is not valid JSON")
    df = _quiet(tk.read, p, errors="skip")
    assert df["span_id"].tolist() == ["0100000000000000", "0300000000000000"]
    assert [(s.file, s.record) for s in df.attrs["skipped"]] == [(str(p), "TraceSegmentDocuments[1]")]
    p.write_text(json.dumps({"TraceSegmentDocuments": "not a list"}))
    with pytest.raises(TraceFormatError) as e:
        tk.read(p)
    assert str(e.value) == f"{p}, TraceSegmentDocuments: 'TraceSegmentDocuments' is a str, not a list"
    p.write_text(json.dumps({"TraceSegmentDocuments": []}))
    with pytest.raises(TraceFormatError) as e:
        tk.read_xray(p)
    assert str(e.value) == f"{p}, TraceSegmentDocuments: no spans: TraceSegmentDocuments is empty"
    # read_otlp names the shape
    with pytest.raises(TraceFormatError, match=r"an X-Ray PutTraceSegments body \(.*tk.read_xray"):
        tk.read_otlp({"TraceSegmentDocuments": _put_docs()})


@pytest.mark.parametrize("line", [
    {"level": "info", "msg": "charged", "trace_id": "5759e988bd862e3fe1be46a994272793"},
    {"message": "paid", "timestamp": "2024-01-01T00:00:00Z"},
    {"msg": "paid", "trace_id": "5759e988bd862e3fe1be46a994272793"},
    {"log": "GET / 200", "stream": "stdout", "time": "2023-11-14T22:13:20Z"},
])
def test_tk_read_and_read_metrics_list_a_log_line_by_one_rule(tmp_path, line):
    """One definition of a JSON log record (tracekit.io._sources.is_log_record): tk.read and read_metrics list the same
    lines with the same words (session 52: two helpers wrote two rules, message + level/time and message + time,
    level or trace id)."""
    import orjson

    from tracekit.io._sources import is_log_record

    assert is_log_record(line)
    span = {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "a"}}]},
                               "scopeSpans": [{"spans": [{"traceId": "5759e988bd862e3fe1be46a994272793",
                                                          "spanId": "53995c3f42cd8ad8", "name": "x",
                                                          "startTimeUnixNano": "1700000000000000000",
                                                          "endTimeUnixNano": "1700000001000000000"}]}]}]}
    f = tmp_path / "mixed.jsonl"
    f.write_bytes(orjson.dumps(span) + b"\n" + orjson.dumps(line) + b"\n")
    spans = tk.read(f)
    assert len(spans) == 1
    reasons = {s.reason.split(": not ")[0] for s in spans.attrs["ignored"]}
    m = tmp_path / "m.jsonl"
    point = {"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": "cpu", "gauge": {"dataPoints": [
        {"timeUnixNano": "1700000000000000000", "asDouble": 0.5}]}}]}]}]}
    m.write_bytes(orjson.dumps(point) + b"\n" + orjson.dumps(line) + b"\n")
    met = tk.read_metrics(m)
    assert len(met) == 1
    m_reasons = {s.reason.removeprefix("not metrics: ") for s in met.attrs["ignored"]}
    assert reasons == m_reasons == {"a JSON log record (a message and a level, time or trace id, which tk.read_logs "
                                    "reads)"}
