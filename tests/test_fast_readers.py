"""The readers' typed fast paths (io/otlp_fast.py, io/xray_fast.py) give exactly the frames of the
checked code, and hand it everything they do not cover.

Each comparison reads the same bytes twice: with the fast path enabled and with it switched off
(``ENABLED = False``: every source goes to the checked code), and compares every column, dtype,
``attrs["skipped"]`` and error. The fast path's counters (``STATS``) prove which path read what.
"""

from __future__ import annotations

import gzip
import pickle
import warnings
from pathlib import Path

import orjson
import pandas as pd
import pytest

import tracekit as tk
import tracekit.io.otlp_fast as otlp_fast
import tracekit.io.xray_fast as xray_fast
from tracekit.errors import TraceFormatError, TraceFormatWarning
from tracekit.io.readers import read_otlp
from tracekit.io.write import write_otlp, write_xray

TID = "5B8EFFF798038103D269B633813FC60C"  # upper case: lowered by both paths


def _outcome(read, source, errors):
    """(frame, skipped, None) or (None, None, error text) of one read."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TraceFormatWarning)
        try:
            df = read(source, errors=errors)
        except TraceFormatError as exc:
            return None, None, (type(exc).__name__, str(exc))
    return df, df.attrs.get("skipped"), None


def _both(monkeypatch, module, read, source, errors="raise"):
    """Read ``source`` by the fast and by the checked path; return (fast outcome, checked outcome, stats)."""
    for k in module.STATS:
        module.STATS[k] = 0
    fast = _outcome(read, source, errors)
    stats = dict(module.STATS)
    monkeypatch.setattr(module, "ENABLED", False)
    checked = _outcome(read, source, errors)
    monkeypatch.setattr(module, "ENABLED", True)
    return fast, checked, stats


def _same(fast, checked):
    (df, skipped, err), (df2, skipped2, err2) = fast, checked
    assert err == err2
    if err is None:
        objects = ["attributes", "resource", "events", "links"]
        pd.testing.assert_frame_equal(df.drop(columns=objects), df2.drop(columns=objects), check_exact=True)
        assert list(df.dtypes) == list(df2.dtypes)
        for col in objects:  # dicts/lists equal in type, keys, order and values (repr: NaN equals NaN)
            assert [repr(x) for x in df[col]] == [repr(x) for x in df2[col]], col
            assert [type(x) for x in df[col]] == [type(x) for x in df2[col]], col
        assert skipped == skipped2


# --------------------------------------------------------------------------------------------
# OTLP: simulator output


@pytest.fixture(scope="module")
def sim_spans():
    return tk.simulate.simulate("baseline", n_traces=150, seed=4).spans


@pytest.mark.slow  # over 1.3 s in the fast lane at load 8 on 2 cores (issue 28)
@pytest.mark.parametrize("lines", [True, False])
def test_otlp_simulator_files_fast_equals_checked(monkeypatch, tmp_path, sim_spans, lines):
    path = write_otlp(sim_spans, tmp_path / ("sim.jsonl" if lines else "sim.json"), lines=lines, batch=97)
    fast, checked, stats = _both(monkeypatch, otlp_fast, read_otlp, path)
    _same(fast, checked)
    assert len(fast[0]) == len(sim_spans)
    n_docs = -(-len(sim_spans) // 97) if lines else 1
    assert stats == {"fast": n_docs, "fallback": 0, "checked_rest": 0}  # every line took the fast path


@pytest.mark.parametrize("lines", [True, False])
def test_otlp_column_pass_in_small_pieces(monkeypatch, tmp_path, sim_spans, lines):
    """A big document is read by several column passes (every _PASS spans): the same frame."""
    path = write_otlp(sim_spans, tmp_path / ("sim.jsonl" if lines else "sim.json"), lines=lines, batch=97)
    monkeypatch.setattr(otlp_fast, "_PASS", 3)
    fast, checked, stats = _both(monkeypatch, otlp_fast, read_otlp, path)
    _same(fast, checked)
    assert stats["fast"] > 0 and stats["fallback"] == 0


@pytest.mark.slow  # over 1.3 s in the fast lane at load 8 on 2 cores (issue 28)
def test_otlp_simulator_gzip_bytes_and_file_object(monkeypatch, tmp_path, sim_spans):
    path = write_otlp(sim_spans, tmp_path / "sim.jsonl.gz", batch=200)
    data = path.read_bytes()
    expected = read_otlp(path)
    for src in (data, gzip.decompress(data).decode(), open(path, "rb")):  # noqa: SIM115 (read_otlp reads it)
        fast, checked, stats = _both(monkeypatch, otlp_fast, read_otlp, src)
        assert stats["fast"] > 0 and stats["fallback"] == 0
        if hasattr(src, "seek"):
            src.seek(0)
        pd.testing.assert_frame_equal(fast[0].drop(columns="source_file"), expected.drop(columns="source_file"))


# --------------------------------------------------------------------------------------------
# OTLP: every real file


def _real_files(root: Path, marker: bytes) -> list[Path]:
    """Files the reader would take (by suffix) that hold ``marker`` (the others are refused by the checked code)."""
    out = []
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.suffix in (".json", ".jsonl", ".txt", ".gz", ".ndjson"):
            data = p.read_bytes()
            if marker in (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data):
                out.append(p)
    return out


@pytest.mark.slow  # 3.2 s in the fast lane (2 loaded cores, issue 28)
def test_otlp_every_real_file_fast_equals_checked(monkeypatch, real_traces):
    accepted = taken = 0
    for path in _real_files(real_traces, b"resourceSpans"):
        for errors in ("raise", "skip"):
            fast, checked, stats = _both(monkeypatch, otlp_fast, read_otlp, path, errors)
            try:
                _same(fast, checked)
            except AssertionError as exc:
                raise AssertionError(f"{path} errors={errors}: {exc}") from None
            if errors == "raise" and checked[2] is None:
                accepted += 1
                taken += stats["fast"] > 0
    assert accepted >= 30  # the OTLP files of the corpus
    assert taken >= accepted - 2  # all but the odd ones are read by the fast path


# --------------------------------------------------------------------------------------------
# OTLP: hand-written edge fixtures


def _kv(key, value):
    return {"key": key, "value": value}


def _span(**kw):
    sp = {"traceId": TID, "spanId": "EEE19B7EC3C1B174", "parentSpanId": "", "name": "GET /", "kind": 2,
          "startTimeUnixNano": "1544712660000000000", "endTimeUnixNano": "1544712661000000000"}
    sp.update(kw)
    return {k: v for k, v in sp.items() if v is not _DROP}


_DROP = object()


def _request(*spans, resource=None, scope=None):
    rs = {"resource": resource if resource is not None else {"attributes": [_kv("service.name", {"stringValue": "api"})]},
          "scopeSpans": [{"scope": scope or {"name": "lib", "version": "1"}, "spans": list(spans)}]}
    return {"resourceSpans": [rs]}


def _lines(*docs) -> bytes:
    return b"".join(orjson.dumps(d) + b"\n" for d in docs)


# (name, span kwargs) that the fast path reads itself
FAST_CASES = {
    "big JSON numbers": dict(startTimeUnixNano=1544712660000000001, endTimeUnixNano=9007199254740993000,
                             attributes=[_kv("n", {"intValue": 9007199254740993}),
                                         _kv("d", {"doubleValue": 9007199254740993})]),
    "root parent empty and absent": dict(parentSpanId=_DROP),
    "upper-case ids": dict(parentSpanId="ABCDEF0123456789", spanId="FEDCBA9876543210"),
    "missing optional fields": dict(startTimeUnixNano=_DROP, endTimeUnixNano=_DROP, name=_DROP, kind=_DROP),
    "nested kvlist and array": dict(attributes=[
        _kv("list", {"arrayValue": {"values": [{"stringValue": "a"}, {"intValue": "2"}, {"boolValue": True},
                                               {"arrayValue": {}}, {}, {"kvlistValue": {"values": [
                                                   _kv("deep", {"doubleValue": 1.5})]}}]}}),
        _kv("kv", {"kvlistValue": {"values": [_kv("x", {"bytesValue": "AAE="}), _kv("y", None)]}}),
        # (a key given twice is the checked walk's: it keeps the first value and counts it, test_s40_attrs)
        _kv("empty", {})]),
    "events and links": dict(
        events=[{"timeUnixNano": "1544712660500000000", "name": "exception",
                 "attributes": [_kv("exception.type", {"stringValue": "E"})], "droppedAttributesCount": 2},
                {"name": "no time"}],
        links=[{"traceId": TID, "spanId": "00F067AA0BA902B7", "traceState": "a=b", "flags": 257,
                "attributes": [_kv("k", {"intValue": 1})]}, {"traceId": "", "spanId": ""}],
        droppedEventsCount=0, droppedLinksCount=3, droppedAttributesCount=1),
    "status, enum names, deprecated code, http": dict(
        kind="SPAN_KIND_CLIENT", status={"code": "STATUS_CODE_UNSET", "deprecatedCode": 2, "message": ""},
        attributes=[_kv("http.status_code", {"intValue": "503"})], traceState="ot=th:8", flags="1"),
    "in progress": dict(endTimeUnixNano=None),
    # the column pass (one per document: the single-document test below mixes every case)
    "null attributes and a null attribute value": dict(attributes=None, events=[{"attributes": [
        _kv("v", None), _kv("s", {"stringValue": "x"})]}]),
    "null attribute value among strings": dict(attributes=[_kv("a", {"stringValue": "x"}), _kv("n", None),
                                                           _kv("i", {"intValue": 5}), _kv("j", {"intValue": "-6"}),
                                                           _kv("b", {"boolValue": False})]),
    "http status as a string": dict(attributes=[_kv("http.response.status_code", {"stringValue": "404"})]),
    "http status as a bool": dict(attributes=[_kv("http.response.status_code", {"boolValue": True}),
                                              _kv("http.status_code", {"intValue": "500"})]),
    "http status empty value then legacy": dict(attributes=[_kv("http.response.status_code", {}),
                                                            _kv("http.status_code", {"intValue": "502"})]),
    "http status beyond int64 as a double": dict(attributes=[_kv("http.status_code", {"doubleValue": 1e30})]),
    "status with a message, deprecated ok code": dict(status={"message": "boom", "deprecatedCode": 0}),
    "status ok and a trace state": dict(status={"code": 1}, traceState="x=1", links=[]),
}


@pytest.mark.parametrize("name", list(FAST_CASES))
def test_otlp_edge_fixtures_fast_equals_checked(monkeypatch, name):
    data = _lines(_request(_span(**FAST_CASES[name])), _request(_span(spanId="0123456789abcdef")))
    fast, checked, stats = _both(monkeypatch, otlp_fast, read_otlp, data)
    _same(fast, checked)
    assert checked[2] is None and len(fast[0]) == 2
    assert stats == {"fast": 2, "fallback": 0, "checked_rest": 0}


def test_otlp_single_document_fast_equals_checked(monkeypatch):
    doc = _request(*(_span(**{**kw, "spanId": f"{i:016x}"}) for i, kw in enumerate(FAST_CASES.values(), 1)))
    fast, checked, stats = _both(monkeypatch, otlp_fast, read_otlp, orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    _same(fast, checked)
    assert stats["fast"] == 1 and len(fast[0]) == len(FAST_CASES)


# lines the fast path hands to the checked code (one good line after each, read fast)
FALLBACK_CASES = {
    "unknown span key": _request(_span(foo=1)),
    "snake_case keys": {"resourceSpans": [{"scope_spans": [{"spans": [_span()]}]}]},
    "result wrapper": {"result": _request(_span())},
    "legacy instrumentationLibrarySpans": {"resourceSpans": [{"instrumentationLibrarySpans": [{"spans": [_span()]}]}]},
    "unknown AnyValue shape": _request(_span(attributes=[_kv("p", {"stringValueStrindex": 3})])),
    "doubleValue NaN string": _request(_span(attributes=[_kv("p", {"doubleValue": "NaN"})])),
    "null name": _request(_span(name=None)),
    "bool kind": _request(_span(kind=True)),
    "empty spans": {"resourceSpans": [{"scopeSpans": [{"spans": []}]}]},
    "no resourceSpans": {"resourceSpans": []},
    "integer beyond int64": orjson.dumps(_request(_span(attributes=[_kv("big", {"intValue": 1})]))).replace(
        b'"intValue":1', b'"intValue":18446744073709551616'),
    "base64-length trace id": _request(_span(traceId="W47/95gDgQPSabYzgT/GDA==")),
    "X-Ray trace id": _request(_span(traceId="1-5B8EFFF7-98038103D269B633813FC60C")),
    "empty trace id (an error)": _request(_span(traceId="")),
    "no spanId key (an error)": _request({k: v for k, v in _span().items() if k != "spanId"}),
    "33-character trace id (an error)": _request(_span(traceId=TID + "0")),
    "bad kind (an error)": _request(_span(kind=42)),
    "bad status code (an error)": _request(_span(status={"code": 7})),
    "bad event time (an error)": _request(_span(events=[{"timeUnixNano": "-1"}])),
    "bad link id (an error)": _request(_span(links=[{"traceId": "xyz"}])),
    "metrics line": {"resourceMetrics": []},
}


@pytest.mark.parametrize("name", list(FALLBACK_CASES))
@pytest.mark.parametrize("errors", ["raise", "skip"])
def test_otlp_fallback_gives_the_checked_result(monkeypatch, name, errors):
    good = _request(_span(spanId="0123456789abcdef"))
    bad = FALLBACK_CASES[name]
    data = _lines(good) + (bad + b"\n" if isinstance(bad, bytes) else _lines(bad)) + _lines(good)
    fast, checked, stats = _both(monkeypatch, otlp_fast, read_otlp, data, errors)
    _same(fast, checked)
    assert stats["fast"] >= 1  # line 1 (and line 3 unless line 2 raised)
    assert stats["fallback"] == 1 and stats["checked_rest"] == 0  # line 2, alone, by the checked code


BAD_LINES = {
    "not JSON": b"{oops\n",
    "truncated last line": b'{"resourceSpans": [',
}


@pytest.mark.parametrize("name", list(BAD_LINES))
@pytest.mark.parametrize("errors", ["raise", "skip"])
def test_otlp_bad_lines_read_by_checked_code_from_there(monkeypatch, name, errors):
    good = _lines(_request(_span(spanId="0123456789abcdef")))
    data = good + good + BAD_LINES[name] + (good if not name.startswith("truncated") else b"")
    fast, checked, stats = _both(monkeypatch, otlp_fast, read_otlp, data, errors)
    _same(fast, checked)
    assert stats["fast"] == 2 and stats["checked_rest"] == 1  # lines 1-2 fast, the rest by parse_json
    if errors == "skip" and name in ("not JSON", "truncated last line"):
        assert [s.record for s in fast[1]] == ["line 3"]


def test_otlp_bad_first_line_goes_to_checked_code(monkeypatch):
    good = _lines(_request(_span()))
    for errors in ("raise", "skip"):
        fast, checked, stats = _both(monkeypatch, otlp_fast, read_otlp, b"{oops\n" + good + good, errors)
        _same(fast, checked)
        assert stats["fast"] == 0 and stats["checked_rest"] == 1


@pytest.mark.parametrize("lead", [b"\xef\xbb\xbf", b"\n", b"  ", b"\r\n\n", b"\xef\xbb\xbf\n \n"])
@pytest.mark.parametrize("gap", [b"", b"\n", b"   \n", b"\r\n", b"\n\t\n"])
def test_otlp_bom_and_blank_lines_stay_on_the_fast_path_numbered_as_in_the_file(monkeypatch, lead, gap):
    """A UTF-8 BOM or blank lines before the first line, and blank or whitespace-only lines between lines, are
    passed over by the fast path as parse_json passes over them (before: the whole file, or its rest, went to the
    checked code, 2.9-3.7x the JSON parse); a bad line after them is named by its line in the file."""
    a, b = (_lines(_request(_span(spanId=f"0123456789abcde{i}"))) for i in (1, 2))
    for errors in ("raise", "skip"):
        fast, checked, stats = _both(monkeypatch, otlp_fast, read_otlp, lead + a + gap + b, errors)
        _same(fast, checked)
        assert stats["fast"] == 2 and stats["checked_rest"] == 0 and len(fast[0]) == 2
    data = lead + a + gap + b + b"{oops\n" + a
    line = (lead + a + gap + b).count(b"\n") + 1
    fast, checked, stats = _both(monkeypatch, otlp_fast, read_otlp, data, "skip")
    _same(fast, checked)
    assert [s.record for s in fast[1]] == [f"line {line}"] and stats["fast"] == 2
    one = lead + orjson.dumps(_request(_span()), option=orjson.OPT_INDENT_2)  # one pretty-printed document
    fast, checked, stats = _both(monkeypatch, otlp_fast, read_otlp, one)
    _same(fast, checked)
    assert stats["fast"] == 1 and stats["checked_rest"] == 0


def test_otlp_parsed_json_and_directories(monkeypatch, tmp_path):
    doc = _request(_span())
    (tmp_path / "a.json").write_bytes(orjson.dumps(doc))
    (tmp_path / "b.jsonl").write_bytes(b"{bad\n" + _lines(doc))
    for src, errors in ((doc, "raise"), (tmp_path, "skip"), ([tmp_path / "a.json", tmp_path / "b.jsonl"], "skip"),
                        (tmp_path / "missing.json", "skip")):
        try:
            fast, checked, _ = _both(monkeypatch, otlp_fast, read_otlp, src, errors)
        except FileNotFoundError:
            continue
        _same(fast, checked)


@pytest.mark.slow  # over 1.3 s in the fast lane at load 8 on 2 cores (issue 28)
def test_otlp_fast_frame_attributes_behave_as_dicts(tmp_path, sim_spans):
    df = read_otlp(write_otlp(sim_spans, tmp_path / "s.jsonl"))
    assert df["attributes"].map(lambda a: a.get("http.route")).notna().any()
    assert df.iloc[0]["attributes"]["http.request.method"] in ("GET", "POST")
    pd.testing.assert_frame_equal(pickle.loads(pickle.dumps(df)), df)
    both = pd.concat([df, df], ignore_index=True)
    assert both.iloc[len(df)]["attributes"] == df.iloc[0]["attributes"]
    df[["span_id", "attributes"]].to_parquet(tmp_path / "s.parquet")
    back = pd.read_parquet(tmp_path / "s.parquet")  # Arrow writes dicts as one struct of all keys

    def present(d):
        return {k: v for k, v in d.items() if v is not None}
    assert back["attributes"].map(present).tolist() == df["attributes"].map(present).tolist()


@pytest.mark.slow  # 1.0 s in the fast lane (2 loaded cores, issue 28)
def test_progress_off_by_default_and_optional(tmp_path, sim_spans, monkeypatch):
    path = write_otlp(sim_spans, tmp_path / "s.jsonl")
    import tracekit.io._progress as progress

    shown = []
    monkeypatch.setattr(progress, "_tqdm", lambda: (lambda **kw: shown.append(kw) or _Bar()))
    read_otlp(path)  # small and not interactive: no bar
    read_otlp(path, progress=False)
    assert shown == []
    read_otlp(path, progress=True)
    assert len(shown) == 1 and shown[0]["total"] == path.stat().st_size
    xpath = write_xray(sim_spans, tmp_path / "s.json")
    tk.read_xray(xpath)
    assert len(shown) == 1
    df = tk.read_xray(xpath, progress=True)  # one page: a bar over its traces
    assert len(shown) == 2 and shown[1]["total"] == df["trace_id"].nunique() and shown[1]["unit"] == "trace"
    monkeypatch.setattr(progress, "_tqdm", lambda: None)  # tqdm not installed: no bar, same frame
    pd.testing.assert_frame_equal(read_otlp(path, progress=True), read_otlp(path))
    pd.testing.assert_frame_equal(tk.read_xray(xpath, progress=True), df)


class _Bar:
    n = 0

    def update(self, k):
        _Bar.n += k

    def close(self):
        pass


# --------------------------------------------------------------------------------------------
# X-Ray


def _canon(x):
    """Key order aside (the checked walk keeps the source order of plain keys, a Struct does not)."""
    if isinstance(x, dict):
        return tuple(sorted((k, _canon(v)) for k, v in x.items()))
    if isinstance(x, list):
        return [_canon(v) for v in x]
    return repr(x)


def _same_xray(fast, checked):
    (df, skipped, err), (df2, skipped2, err2) = fast, checked
    assert err == err2
    if err is None:
        objects = ["attributes", "resource", "events", "links"]
        pd.testing.assert_frame_equal(df.drop(columns=objects), df2.drop(columns=objects), check_exact=True)
        assert list(df.dtypes) == list(df2.dtypes)
        for col in objects:
            assert [_canon(x) for x in df[col]] == [_canon(x) for x in df2[col]], col
            assert [type(x) for x in df[col]] == [type(x) for x in df2[col]], col
        assert skipped == skipped2
        assert df.attrs["unprocessed_trace_ids"] == df2.attrs["unprocessed_trace_ids"]


def _xray_both(monkeypatch, source, errors="raise"):
    return _both(monkeypatch, xray_fast, tk.read_xray, source, errors)


@pytest.mark.slow  # over 4 s in the fast lane on 2 loaded cores (issue 28)
def test_xray_simulator_file_fast_equals_checked(monkeypatch, tmp_path, sim_spans):
    path = write_xray(sim_spans, tmp_path / "sim.json")
    fast, checked, stats = _xray_both(monkeypatch, path)
    _same_xray(fast, checked)
    assert len(fast[0]) >= len(sim_spans)  # + the inferred segments the writer adds
    assert stats["fast"] > 100 and stats["fallback"] == 0


@pytest.mark.slow  # 3.5 s in the fast lane (2 loaded cores, issue 28)
def test_xray_every_real_file_fast_equals_checked(monkeypatch, real_traces):
    accepted = taken = 0
    for path in _real_files(real_traces, b'"Document"') + _real_files(real_traces, b'"start_time"'):
        for errors in ("raise", "skip"):
            fast, checked, stats = _xray_both(monkeypatch, path, errors)
            try:
                _same_xray(fast, checked)
            except AssertionError as exc:
                raise AssertionError(f"{path} errors={errors}: {exc}") from None
            if errors == "raise" and checked[2] is None:
                accepted += 1
                taken += stats["fast"] > 0
    assert accepted >= 5 and taken >= 2  # the BatchGetTraces files are read fast


XTID = "1-5759E988-BD862E3FE1BE46A994272793"


def _seg(**kw):
    d = {"id": "53995C3F42CD8AD8", "name": "api", "start_time": 1478293361.271, "end_time": 1478293361.449,
         "trace_id": XTID}
    d.update(kw)
    return {k: v for k, v in d.items() if v is not _DROP}


def _page(*docs, raw=None):
    segs = [{"Id": "x", "Document": orjson.dumps(d).decode()} for d in docs] + [
        {"Id": "y", "Document": r} for r in (raw or [])]
    return {"Traces": [{"Id": XTID, "Duration": 0.5, "Segments": segs}], "UnprocessedTraceIds": ["1-a-b"]}


def _deep(n):
    sub = {"id": f"{n:016x}", "name": f"level {n}", "start_time": 1478293361.3, "end_time": 1478293361.4}
    for i in range(n - 1, 0, -1):
        sub = {"id": f"{i:016x}", "name": f"level {i}", "start_time": 1478293361.3, "end_time": 1478293361.4,
               "namespace": "remote" if i % 2 else "local", "subsegments": [sub]}
    return [sub]


XRAY_FAST = {
    "in progress": dict(end_time=_DROP, in_progress=True),
    "subsegments nested deep": dict(subsegments=_deep(60)),
    "http, aws, sql, annotations, metadata": dict(
        http={"request": {"method": "GET", "url": "https://x/y", "traced": True}, "response": {"status": 429,
                                                                                               "content_length": 12}},
        aws={"ecs": {"container": "c1"}, "account_id": "123", "request_id": "r1", "operation": "GetItem",
             "xray": {"sdk": "go", "flags": [1, "x"]}, "resource_names": ["t"]},
        sql={"url": "jdbc:x", "preparation": "statement"}, annotations={"n": 9007199254740993, "b": False},
        metadata={"debug": {"big": 1 << 63, "list": [1, 2.5]}}, throttle=True, error=True, origin="AWS::EC2::Instance",
        user="u1", service={"version": "2"}, resource_arn="arn:x", precursor_ids=["0123456789abcdef"]),
    "empty blocks": dict(http={}, aws={}, metadata={}, annotations={}, sql={},
                         subsegments=[{"id": "0123456789abcdef", "name": "s", "start_time": 1478293361.3,
                                       "end_time": 1478293361.4, "http": {"request": {}, "response": {}}}]),
    "cause and nested plain keys": dict(fault=True, cause={"exceptions": [{"id": "e1", "message": "boom", "type": "E",
                                                                          "stack": [{"path": "a.py", "line": 3}]}]},
                                        subsegments=[{"id": "0123456789ABCDEF", "name": "call", "start_time": 1478293361.3,
                                                      "in_progress": True, "namespace": "aws", "inferred": False,
                                                      "trace_id": XTID, "parent_id": "53995c3f42cd8ad8",
                                                      "cause": "e1", "service": {"x": 1}}]),
    "inferred, parent, integer times": dict(inferred=True, parent_id="0123456789abcdef", start_time=1478293361,
                                           end_time=1478293362),
    "service nested, rare keys on a subsegment only": dict(
        service={"a": {"b": 1, "c": [1]}, "v": "1", "e": {}},
        subsegments=[{"id": "0123456789abcdef", "name": "s", "start_time": 1478293361.3, "end_time": 1478293361.4,
                      "error": False, "annotations": {"k": "v"}, "sql": {"url": "x"}, "user": "u",
                      "resource_arn": "arn:y", "precursor_ids": []}]),
    "service empty": dict(service={}, origin="AWS::ECS::Container", namespace="remote"),
}


@pytest.mark.parametrize("name", list(XRAY_FAST))
def test_xray_edge_fixtures_fast_equals_checked(monkeypatch, name):
    page = _page(_seg(**XRAY_FAST[name]), _seg(id="1111111111111111", name="other"))
    fast, checked, stats = _xray_both(monkeypatch, orjson.dumps([page, page]))
    _same_xray(fast, checked)
    assert checked[2] is None
    assert stats == {"fast": 4, "fallback": 0}


XRAY_FALLBACK = {
    "unknown key": _seg(sampled=True),
    "independent subsegment": _seg(type="subsegment", parent_id="0123456789abcdef"),
    "string time": _seg(start_time="1478293361.271"),
    "null parent": _seg(parent_id=None),
    "http status as a string": _seg(http={"response": {"status": "200"}}),
    "unknown http key": _seg(http={"request": {"method": "GET", "x_custom": 1}}),
    "aws nested three deep": _seg(aws={"xray": {"sdk": "go", "nested": {"a": 1}}}),
    # (an integer beyond int64 in aws is read by the fast path now, exact as the checked path reads it: test_s35_loaders)
    "http status beyond the readers' range": orjson.dumps(_seg(http={"response": {"status": 1}})).replace(
        b'"status":1', b'"status":18446744073709551616'),
    "no end and not in progress (an error)": _seg(end_time=_DROP),
    "bad id (an error)": _seg(id="xyz"),
    "bad trace id (an error)": _seg(trace_id="1-zz"),
    "year 3000 (an error)": _seg(end_time=32503680000.0),
    "before 1970 (an error)": _seg(start_time=-1.5),
    "subsegment before 1970 (an error)": _seg(subsegments=[{"id": "0123456789abcdef", "name": "s", "start_time": 1.0,
                                                            "end_time": -0.5}]),
    "no name (an error)": _seg(name=_DROP),
}


@pytest.mark.parametrize("name", list(XRAY_FALLBACK))
@pytest.mark.parametrize("errors", ["raise", "skip"])
def test_xray_fallback_gives_the_checked_result(monkeypatch, name, errors):
    bad = XRAY_FALLBACK[name]
    page = _page(_seg(id="1111111111111111"), *([] if isinstance(bad, bytes) else [bad]),
                 raw=[bad.decode()] if isinstance(bad, bytes) else None)
    page["Traces"][0]["Segments"].append({"Id": "z", "Document": orjson.dumps(_seg(id="2222222222222222")).decode()})
    fast, checked, stats = _xray_both(monkeypatch, orjson.dumps(page), errors)
    _same_xray(fast, checked)
    assert stats["fallback"] == 1 and stats["fast"] == (1 if checked[2] else 2)  # an error stops at the 2nd


def test_xray_document_not_json_and_other_shapes(monkeypatch):
    page = _page(_seg(), raw=["{not json", "[]", '"a string"'])
    for errors in ("raise", "skip"):
        fast, checked, stats = _xray_both(monkeypatch, orjson.dumps(page), errors)
        _same_xray(fast, checked)
    for src in (_seg(), [_seg(), _seg(id="1111111111111111")], {"Traces": []}, {"Traces": [{"Id": XTID}]},
                b'{"format": "json", "version": 1}\n' + orjson.dumps(_seg())):
        for errors in ("raise", "skip"):
            fast, checked, stats = _xray_both(monkeypatch, src, errors)
            _same_xray(fast, checked)
            assert stats["fast"] == 0  # not BatchGetTraces pages: the checked code reads them


@pytest.mark.parametrize("suffix", [".json", ".json.gz"])
def test_otlp_one_document_file_falls_back_by_reading_the_file_again(monkeypatch, tmp_path, suffix):
    """A one-document file's bytes are dropped once decoded; a fallback reads the file again."""
    for doc, fast_docs in ((_request(_span(), _span(spanId="0123456789abcdef")), 1),
                           (_request(_span(), _span(spanId="0123456789abcdef", foo=1)), 0),
                           (_request(_span(), _span(spanId="0123456789abcdef", kind=9)), 0)):
        data = orjson.dumps(doc, option=orjson.OPT_INDENT_2)
        path = tmp_path / f"one{suffix}"
        path.write_bytes(gzip.compress(data) if suffix.endswith(".gz") else data)
        for errors in ("raise", "skip"):
            fast, checked, stats = _both(monkeypatch, otlp_fast, read_otlp, path, errors)
            _same(fast, checked)
            assert stats["fast"] == fast_docs and stats["fallback"] == 1 - fast_docs


@pytest.mark.slow  # over 1.9 s in the fast lane at load 13 on 2 cores (issue 28)
def test_otlp_big_single_document_is_decoded_by_resource_spans(monkeypatch, tmp_path, sim_spans):
    """From _SPLIT bytes on, a single document is decoded one ResourceSpans at a time: the same
    frames, the same fallbacks (to the checked code, for the whole document)."""
    monkeypatch.setattr(otlp_fast, "_SPLIT", 0)
    path = write_otlp(sim_spans, tmp_path / "sim.json", lines=False)
    fast, checked, stats = _both(monkeypatch, otlp_fast, read_otlp, path)
    _same(fast, checked)
    assert stats == {"fast": 1, "fallback": 0, "checked_rest": 0}
    monkeypatch.setattr(otlp_fast, "_PASS", 5)
    doc = _request(*(_span(**{**kw, "spanId": f"{i:016x}"}) for i, kw in enumerate(FAST_CASES.values(), 1)))
    doc["resourceSpans"].append(_request(_span(spanId="0123456789abcdef"))["resourceSpans"][0])
    fast, checked, stats = _both(monkeypatch, otlp_fast, read_otlp, orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    _same(fast, checked)
    assert stats == {"fast": 1, "fallback": 0, "checked_rest": 0}
    good = _request(_span())["resourceSpans"][0]
    for bad in (_request(_span(foo=1)), _request(_span(kind=9)), {"resourceSpans": [{"scopeSpans": []}]},
                {"resourceSpans": [{"scopeSpans": [{"spans": [_span(traceId="")]}]}]}):
        doc = {"resourceSpans": [good, *bad["resourceSpans"], good]}  # the bad one after a good one
        for errors in ("raise", "skip"):
            fast, checked, stats = _both(monkeypatch, otlp_fast, read_otlp, orjson.dumps(doc), errors)
            _same(fast, checked)
            assert stats["fast"] == 0 and stats["fallback"] == 1
    for data in (b'{"resourceSpans": []}', b'{"resourceSpans": [], "x": 1}', b'{"resourceSpans": [{"scopeSpans": [{'):
        for errors in ("raise", "skip"):
            fast, checked, _ = _both(monkeypatch, otlp_fast, read_otlp, data, errors)
            _same(fast, checked)


@pytest.mark.slow  # 1.9 s in the fast lane (2 loaded cores, issue 28)
@pytest.mark.filterwarnings("ignore:read_xray. 1 trace listed in UnprocessedTraceIds")
def test_readers_leave_the_gc_on_and_cycles_collectable():
    """The readers pause the GC and, on the way out, move new containers to the oldest generation
    (gc_promote): nothing stays frozen, a cycle made before the read is still collected."""
    import gc
    import weakref

    class Node:
        pass

    assert gc.isenabled()
    for read, src in ((read_otlp, _lines(_request(_span()))), (tk.read_xray, orjson.dumps(_page(_seg())))):
        node = Node()
        node.me = node
        ref = weakref.ref(node)
        del node
        df = read(src)
        assert len(df) == 1 and gc.isenabled() and gc.get_freeze_count() == 0
        gc.collect()
        assert ref() is None


def test_usual_id_columns_checked_on_buffers_give_what_the_per_id_checks_give(monkeypatch):
    """io._columns.hex_ids (numpy over Arrow's buffers) only lets through columns the per-id checks leave as they
    are, in both readers' id checks."""
    import random

    import numpy as np

    from tracekit.io import otlp as otlp_mod

    rng = random.Random(5)
    pool = ["a" * 16, "0123456789abcdef", "A" * 16, "0" * 16, "0" * 15 + "1", None, "", "a" * 15, "g" * 16,
            "é" * 8, "AAAAAAAAAAA=", "ffffffffffffffff"]
    for trial in range(300):
        raw = [rng.choice(pool[:2]) for _ in range(rng.randrange(0, 6))]
        if trial % 2:
            raw.insert(rng.randrange(len(raw) + 1), rng.choice(pool))
        for required in (True, False):
            for_slow = list(raw)
            fast = otlp_mod._ids(list(raw), 16, "spanId", required)
            with monkeypatch.context() as m:
                m.setattr(otlp_mod, "hex_ids", lambda *a, **k: False)
                slow = otlp_mod._ids(for_slow, 16, "spanId", required)
            assert fast[0].to_pylist() == slow[0].to_pylist(), (raw, required)
            np.testing.assert_array_equal(fast[1], slow[1])
            assert fast[2] == slow[2]


def test_xray_ids_checked_on_buffers_give_what_the_regex_gives(monkeypatch):
    """X-Ray frame(): ids that are upper case, short or not hex give the same frame and errors with or
    without the numpy check in front of the regex."""
    import tracekit.io.xray as xray_mod

    docs = [{"id": sid, "name": "svc", "start_time": 1.0, "end_time": 2.0, "trace_id": "1-5759e988-bd862e3fe1be46a994272793",
             **({"parent_id": pid} if pid else {})}
            for sid, pid in [("70de5b6f19ff9a0a", None), ("70DE5B6F19FF9A0B", "70de5b6f19ff9a0a"),
                             ("70de5b6f19ff9a0", None), ("zzde5b6f19ff9a0c", None), ("70de5b6f19ff9a0d", "ABC")]]
    page = {"Traces": [{"Id": "1-5759e988-bd862e3fe1be46a994272793",
                        "Segments": [{"Id": d["id"], "Document": orjson.dumps(d).decode()} for d in docs]}]}
    data = orjson.dumps(page)
    fast, fast_skipped, fast_err = _outcome(tk.read_xray, data, "skip")
    with monkeypatch.context() as m:
        m.setattr(xray_mod, "hex_id_bytes", lambda *a, **k: None)
        slow, slow_skipped, slow_err = _outcome(tk.read_xray, data, "skip")
    assert fast_err is None and slow_err is None
    pd.testing.assert_frame_equal(fast, slow)
    assert [str(s) for s in fast_skipped] == [str(s) for s in slow_skipped] and len(fast_skipped) == 3
    assert sorted(fast["span_id"]) == ["70de5b6f19ff9a0a", "70de5b6f19ff9a0b"]
