"""JSON documents glued together: ``cat a.json b.json`` of files without a final newline puts two documents on one
line (``{…}{…}``); ``jq . a.json b.json`` prints pretty-printed documents one after another. Every document is
complete and valid, so every reader reads each of them (one splitter, ``_sources.glued_objects``, on the slow path
after the line's or the file's fast parse failed); a bad or cut object among them is named by its line and its place.

Before: spans, metrics and X-Ray raised on the line (``errors="skip"`` dropped it whole, and a whole file of
pretty-printed documents: 0 rows), read_logs dropped a glued line of JSON lines.
"""

from __future__ import annotations

import json
import warnings

import pytest

import tracekit as tk


def _resource(i: int) -> dict:
    return {"attributes": [{"key": "service.name", "value": {"stringValue": f"svc{i}"}}]}


def spans_doc(i: int) -> dict:
    return {"resourceSpans": [{"resource": _resource(i), "scopeSpans": [{"spans": [{
        "traceId": f"{i:032x}", "spanId": f"{i:016x}", "name": "op", "kind": 2,
        "startTimeUnixNano": str(10**18 + i * 10**6), "endTimeUnixNano": str(10**18 + i * 10**6 + 5 * 10**5)}]}]}]}


def logs_doc(i: int) -> dict:
    return {"resourceLogs": [{"resource": _resource(i), "scopeLogs": [{"logRecords": [{
        "timeUnixNano": str(10**18 + i), "severityText": "INFO", "body": {"stringValue": f"m{i} }}{{\"x\": 1}}"}}]}]}]}


def metrics_doc(i: int) -> dict:
    return {"resourceMetrics": [{"resource": _resource(i), "scopeMetrics": [{"metrics": [{
        "name": "x", "gauge": {"dataPoints": [{"timeUnixNano": str(10**18 + i), "asDouble": float(i)}]}}]}]}]}


def xray_doc(i: int) -> dict:
    return {"trace_id": f"1-5759e988-{i:024x}", "id": f"{i:016x}", "name": f"svc{i}", "start_time": 1.5 + i,
            "end_time": 1.75 + i}


SIGNALS = {"spans": (spans_doc, tk.read), "otlp": (spans_doc, tk.read_otlp), "xray": (xray_doc, tk.read_xray),
           "logs": (logs_doc, tk.read_logs), "metrics": (metrics_doc, tk.read_metrics)}


def _layouts(doc) -> dict[str, tuple[str, list[int], list[int]]]:
    """name -> (file text, the documents' numbers in order, the line each starts on)."""
    d = [json.dumps(doc(i)) for i in range(1, 6)]
    pretty = [json.dumps(doc(i), indent=2) for i in range(1, 4)]
    height = pretty[0].count("\n") + 1
    return {
        "glued line in JSON lines": (f"{d[0]}\n{d[1]}{d[2]}\n{d[3]}\n", [0, 1, 2, 3], [1, 2, 2, 3]),
        "glued first line": (f"{d[0]} {d[1]}\n{d[2]}\n", [0, 1, 2], [1, 1, 2]),
        "one line, no newline": (d[0] + d[1] + d[2], [0, 1, 2], [1, 1, 1]),
        "pretty-printed one after another": ("".join(pretty), [0, 1, 2], [1, height, 2 * height - 1]),
        "pretty-printed, newline between": ("\n".join(pretty) + "\n", [0, 1, 2], [1, height + 1, 2 * height + 1]),
    }


@pytest.mark.parametrize("signal", list(SIGNALS))
@pytest.mark.parametrize("layout", list(_layouts(spans_doc)))
def test_every_glued_document_is_read_and_numbered_by_its_line(tmp_path, signal, layout):
    doc, reader = SIGNALS[signal]
    text, numbers, lines = _layouts(doc)[layout]
    p = tmp_path / "cat.json"
    p.write_text(text)
    for errors in ("raise", "skip"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # nothing skipped: no warning
            df = reader(p, errors=errors)
        assert df["service"].tolist() == [f"svc{i + 1}" for i in numbers]  # every document, in order
        assert df.attrs["skipped"] == ()
        if signal != "logs" or layout in ("glued line in JSON lines", "glued first line"):  # read_logs numbers a whole file's
            # objects one after another by place (object 3): a Firehose object is all on line 1
                assert df["source_record"].tolist() == lines
        else:
            assert df["source_record"].tolist() == list(range(1, len(numbers) + 1))
    if signal == "logs":  # a body holding `}{"x": 1}` is no boundary
        assert df["body"].tolist() == [f'm{i + 1} }}{{"x": 1}}' for i in numbers]


@pytest.mark.parametrize("signal", ["spans", "xray", "logs", "metrics"])
def test_a_bad_or_cut_object_among_glued_ones_is_named_by_line_and_place(signal):
    doc, reader = SIGNALS[signal]
    a, b, c = json.dumps(doc(1)), json.dumps(doc(2)), json.dumps(doc(3))
    bad = f'{a}\n{c}{{"resourceSpans": [}}\n{b}\n'.encode()
    with pytest.raises(tk.TraceFormatError, match=r"<object>, line 2: object 2 of the line, bytes [0-9,]+-[0-9,]+: "
                                                  r"not valid JSON"):
        reader(bad)
    with pytest.warns(tk.TraceFormatWarning):
        df = reader(bad, errors="skip")
    assert df["service"].tolist() == ["svc1", "svc3", "svc2"]  # the good object of line 2 kept
    assert [s.record for s in df.attrs["skipped"]] == ["line 2"]
    cut = f"{a}\n{c}{b[:40]}".encode()  # the download stopped inside the second object of the last line
    with pytest.raises(tk.TraceFormatError, match=r"line 2: file is truncated: the data stops inside object 2 of "
                                                  r"the line"):
        reader(cut)
    with pytest.warns(tk.TraceFormatWarning):
        df = reader(cut, errors="skip")
    assert df["service"].tolist() == ["svc1", "svc3"] and df.attrs["truncated"] is True


@pytest.mark.parametrize("signal", ["spans", "logs", "metrics"])
def test_what_is_no_object_after_a_document_is_still_an_error_naming_the_line(signal):
    doc, reader = SIGNALS[signal]
    a = json.dumps(doc(1))
    with pytest.raises(tk.TraceFormatError, match=r"line 2: line is not valid JSON \(unexpected content after "
                                                  r"document"):
        reader(f"{a}\n{a} 42\n{a}\n".encode())


@pytest.mark.parametrize("signal", list(SIGNALS))
def test_glued_documents_nested_past_1024_levels_are_each_read(signal):
    """Past orjson's 1,024 levels the deep parser reads the value; a document glued after it was its error
    ('JSON nested more than 1,024 levels deep (the parser's limit): not trace data'; read_logs splits a file's
    objects itself). It now says what orjson says ('unexpected content after document'), so the splitter reads each
    document."""
    doc, reader = SIGNALS[signal]
    deep = "[" * 1100 + "]" * 1100
    texts = [json.dumps({**doc(i), "deep": 0}).replace('"deep": 0', f'"deep": {deep}') for i in (1, 2)]
    if signal == "logs":  # an OTLP logs document keeps no unknown key: the deep value goes in a JSON record's field
        texts = [json.dumps({"msg": f"m{i}", "service": f"svc{i}", "time": "2025-11-25T10:00:00Z", "deep": 0})
                 .replace('"deep": 0', f'"deep": {deep}') for i in (1, 2)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        df = reader("".join(texts).encode())
    assert df["service"].tolist() == ["svc1", "svc2"]
