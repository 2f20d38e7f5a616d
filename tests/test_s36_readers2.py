"""Duplicate JSON keys in the trace readers (session 36, second review of tracekit/io).

A JSON object may hold a key twice (``{"traceId": "a", …, "traceId": "b"}``); orjson, msgspec and Python's json keep
the last value without a word, so the reader loaded a span under an id (or a time, a name) its writer may not have
meant. Each test builds its input by construction: an identity key given twice with different values is refused,
naming the file, the record and the key (``errors="skip"``: that span is listed, the others load); given twice with
one value it loads (nothing is lost); the key's text inside a string value is no key and keeps the fast path.
Both the typed fast path and the checked path (``ENABLED = False``) are pinned, in one JSON document and in JSON
lines. X-Ray: the checked code (raw segment documents, and the page Documents it reads); the X-Ray fast path does not
look (its cost is in tracekit/io/xray_fast.py's docstring).
"""

from __future__ import annotations

import json
import warnings

import pytest

from tracekit.errors import TraceFormatError
from tracekit.io import otlp_fast, xray_fast
from tracekit.io._sources import key_counts, key_patterns, may_repeat_keys, unique_keys
from tracekit.io.readers import read_otlp, read_xray

TID, TID2 = "5759e988bd862e3fe1be46a994272793", "0af7651916cd43dd8448eb211c80319c"
T0 = 1_700_000_000_000_000_000  # ns: 2023-11-14


def _span_text(sid: str, extra: str = "", **fields) -> str:
    """One OTLP span as JSON text (so that a key can be written twice); ``extra`` is appended raw."""
    body = {"traceId": TID, "spanId": sid * 16, "parentSpanId": "f" * 16, "name": "op",
            "startTimeUnixNano": str(T0), "endTimeUnixNano": str(T0 + 1000), **fields}
    return json.dumps(body)[:-1] + extra + "}"


def _doc(*spans: str) -> str:
    return ('{"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "api"}}]},'
            ' "scopeSpans": [{"scope": {"name": "lib"}, "spans": [' + ", ".join(spans) + "]}]}]}")


# the second value each identity key is given (different from _span_text's)
SECOND = {"traceId": TID2, "spanId": "d" * 16, "parentSpanId": "e" * 16, "name": "other",
          "startTimeUnixNano": str(T0 + 7), "endTimeUnixNano": str(T0 + 9)}


@pytest.fixture(params=[True, False], ids=["fast", "checked"])
def path_on(request, monkeypatch):
    monkeypatch.setattr(otlp_fast, "ENABLED", request.param)
    for k in otlp_fast.STATS:
        monkeypatch.setitem(otlp_fast.STATS, k, 0)
    return request.param


def _write(tmp_path, lines: bool, bad: str) -> tuple:
    """A file whose spans are 1 and 3 clean and ``bad`` (span 2); (path, the bad span's record)."""
    good1, good3 = _span_text("1"), _span_text("3")
    if lines:
        text = "\n".join([_doc(good1), _doc(bad), _doc(good3)]) + "\n"
        where = "line 2, resourceSpans[0].scopeSpans[0].spans[0]"
    else:
        text = _doc(good1, bad, good3)
        where = "resourceSpans[0].scopeSpans[0].spans[1]"
    p = tmp_path / ("dup.jsonl" if lines else "dup.json")
    p.write_text(text)
    return p, where


@pytest.mark.parametrize("lines", [False, True], ids=["document", "json-lines"])
@pytest.mark.parametrize("key", list(SECOND))
def test_identity_key_given_twice_with_different_values_is_refused_naming_file_record_key(tmp_path, path_on, lines,
                                                                                          key):
    bad = _span_text("2", f', "{key}": {json.dumps(SECOND[key])}')
    p, where = _write(tmp_path, lines, bad)
    with pytest.raises(TraceFormatError) as info:
        read_otlp(p)
    err = info.value
    assert err.file.endswith(p.name) and err.record == where
    assert f"key {key!r} is given 2 times with different values" in err.reason
    assert SECOND[key] in err.reason  # both values shown, so the user sees what was lost
    # errors="skip": the two clean spans load, the bad one is listed where it is
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = read_otlp(p, errors="skip")
    assert sorted(df["span_id"]) == ["1" * 16, "3" * 16]
    assert [(s.record, key in s.reason) for s in df.attrs["skipped"]] == [(where, True)]


@pytest.mark.parametrize("lines", [False, True], ids=["document", "json-lines"])
def test_identity_key_given_twice_with_one_value_loads_as_without_the_copy(tmp_path, path_on, lines):
    # nothing is lost when both values are equal: the span is what its writer meant (read as a repeated field)
    p, _ = _write(tmp_path, lines, _span_text("2", f', "traceId": "{TID}", "name": "op"'))
    q, _ = _write(tmp_path / "..", lines, _span_text("2"))
    df, clean = read_otlp(p), read_otlp(q)
    assert sorted(df["span_id"]) == ["1" * 16, "2" * 16, "3" * 16]
    cols = ["trace_id", "span_id", "parent_id", "name", "start", "end"]
    assert df[cols].equals(clean[cols])


def test_key_text_inside_string_values_is_no_key_and_keeps_the_fast_path(monkeypatch):
    monkeypatch.setattr(otlp_fast, "ENABLED", True)
    for k in otlp_fast.STATS:
        monkeypatch.setitem(otlp_fast.STATS, k, 0)
    # JSON inside a string value (its quotes escaped), and attribute keys / values that are the key words
    inner = json.dumps({"traceId": TID2, "spanId": "9" * 16, "name": "x", "startTimeUnixNano": "1"})
    attrs = [{"key": "payload", "value": {"stringValue": inner}},
             {"key": "traceId", "value": {"stringValue": "name"}},
             {"key": "spanId", "value": {"stringValue": "parentSpanId"}}]
    text = "\n".join(_doc(_span_text(s, attributes=attrs)) for s in "12") + "\n"
    df = read_otlp(text.encode())
    assert list(df["trace_id"]) == [TID, TID] and list(df["name"]) == ["op", "op"]
    assert df["attributes"].iloc[0]["payload"] == inner
    assert otlp_fast.STATS == {"fast": 2, "fallback": 0, "checked_rest": 0}


def test_fields_at_their_default_given_explicitly_keep_the_fast_path(monkeypatch):
    # the presence of a key, not its value, is what is counted: "name": "" or a null end is a key present once
    monkeypatch.setattr(otlp_fast, "ENABLED", True)
    for k in otlp_fast.STATS:
        monkeypatch.setitem(otlp_fast.STATS, k, 0)
    sp = _span_text("1", name="", parentSpanId=None, endTimeUnixNano=None, startTimeUnixNano=0,
                    events=[{"name": "", "timeUnixNano": None}], links=[{"traceId": None, "spanId": None}])
    df = read_otlp((_doc(sp) + "\n" + _doc(_span_text("2")) + "\n").encode())
    assert len(df) == 2 and otlp_fast.STATS == {"fast": 2, "fallback": 0, "checked_rest": 0}


def test_a_key_spelt_with_an_escaped_letter_is_the_same_key(path_on):
    # "trace\u0049d" is the key traceId to every JSON parser: given beside traceId, one of the two is lost
    bad = _span_text("2", f', "trace\\u0049d": "{TID2}"')
    with pytest.raises(TraceFormatError, match="key 'traceId' is given 2 times"):
        read_otlp(_doc(_span_text("1"), bad).encode())


def test_a_link_with_its_trace_id_twice_is_left_out_and_named(path_on):
    link = f'{{"traceId": "{TID}", "spanId": "{"4" * 16}", "traceId": "{TID2}"}}'
    text = _doc(_span_text("1", ', "links": [' + link + "]")).encode()
    with pytest.raises(TraceFormatError, match="link: key 'traceId' is given 2 times"):
        read_otlp(text)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = read_otlp(text, errors="skip")
    assert list(df["span_id"]) == ["1" * 16] and df["links"].iloc[0] == []
    assert [s.record for s in df.attrs["skipped"]] == ["resourceSpans[0].scopeSpans[0].spans[0].links[0]"]


def test_proto_field_names_given_twice_are_refused_too():
    sp = f'{{"trace_id": "{TID}", "span_id": "{"1" * 16}", "trace_id": "{TID2}", "start_time_unix_nano": "{T0}"}}'
    with pytest.raises(TraceFormatError, match="is given 2 times with different values") as info:
        read_otlp(_doc(sp).encode())
    assert info.value.record == "resourceSpans[0].scopeSpans[0].spans[0]"


def test_the_cheap_count_never_misses_a_repeated_key():
    # by construction: for every object shape, a key repeated in one object makes the count differ from the objects
    # holding it (or the text is flagged), so the exact check runs; a clean text never asks for it
    # (session 37: the count is of the quoted word, colon or not, so a key spelt "traceId" : is counted; a string
    # value that is the word is counted too, and asks for the exact check: slower, never wrong. Counted with its
    # colon, the spaced key of the last case below cancelled the repeated one)
    keys = ("traceId", "name")
    clean = '{"a": [{"traceId": "x", "name": "n"}, {"name": "m"}, {"s": "\\"traceId\\": 1"}]}'
    value = json.loads(clean)
    assert not may_repeat_keys(key_counts(clean.encode(), key_patterns(keys)), [1, 2])
    assert unique_keys(clean.encode(), value, keys) is value  # no second parse
    word = '{"a": [{"traceId": "x", "name": "n"}, {"name": "traceId"}]}'
    assert may_repeat_keys(key_counts(word.encode(), key_patterns(keys)), [1, 2])
    assert unique_keys(word.encode(), json.loads(word), keys) == json.loads(word)  # checked, nothing marked
    for dup in ('{"traceId": "x", "traceId": "y"}', '{"name": "a", "x": 1, "name": "b"}',
                '{"trace\\u0049d": "x", "traceId": "y"}', '{"traceId": "x", "traceId": "y"}, {"traceId" : "z"}'):
        text = ('[{"name": "n"}, ' + dup + "]").encode()
        marked = unique_keys(text, json.loads(text), keys)
        assert "\x00duplicate keys" in marked[1] and "\x00duplicate keys" not in marked[0]


# ---------------------------------------------------------------------------------------------
# X-Ray: the checked code (raw segment documents, daemon lines, every Document the fast path hands over)

XTID = "1-5759e988-bd862e3fe1be46a994272793"


def _segment_text(sid: str, extra: str = "", sub_extra: str = "") -> str:
    sub = json.dumps({"id": "c" * 16, "name": "db", "start_time": 1_700_000_000.1, "end_time": 1_700_000_000.2})
    body = json.dumps({"id": sid * 16, "trace_id": XTID, "name": "api", "start_time": 1_700_000_000.0,
                       "end_time": 1_700_000_001.0})
    return body[:-1] + extra + ', "subsegments": [' + sub[:-1] + sub_extra + "}]}"


@pytest.mark.parametrize("key, second", [("id", '"dddddddddddddddd"'), ("start_time", "1700000000.5"),
                                         ("trace_id", '"1-5759e988-000000000000000000000001"')])
def test_xray_segment_documents_with_a_key_twice_are_refused_naming_file_line_key(tmp_path, key, second):
    p = tmp_path / "segments.jsonl"
    p.write_text(_segment_text("1") + "\n" + _segment_text("2", f', "{key}": {second}') + "\n")
    with pytest.raises(TraceFormatError) as info:
        read_xray(p)
    assert info.value.file.endswith(p.name) and info.value.record == "line 2"
    assert f"key {key!r} is given 2 times with different values" in info.value.reason
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = read_xray(p, errors="skip")
    assert sorted(df["span_id"]) == ["1" * 16, "c" * 16]  # line 1's segment and subsegment


def test_xray_page_documents_checked_path_refuses_a_subsegment_with_its_name_twice(monkeypatch):
    monkeypatch.setattr(xray_fast, "ENABLED", False)
    docs = [_segment_text("1"), _segment_text("2", sub_extra=', "name": "other"')]
    page = json.dumps({"Traces": [{"Id": XTID, "Segments": [{"Id": str(i), "Document": d}
                                                             for i, d in enumerate(docs)]}]})
    with pytest.raises(TraceFormatError, match="subsegment 'cccccccccccccccc'.*key 'name' is given 2 times"):
        read_xray(page.encode())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = read_xray(page.encode(), errors="skip")
    # the bad subsegment alone is left out: both segments and the first one's subsegment load
    assert sorted(df["span_id"]) == ["1" * 16, "2" * 16, "c" * 16]
    assert df.attrs["skipped"][0].record == "Traces[0].Segments[1]"


def test_xray_a_key_twice_with_one_value_loads(tmp_path):
    p = tmp_path / "segments.jsonl"
    p.write_text(_segment_text("1", ', "name": "api"') + "\n" + _segment_text("2") + "\n")
    q = tmp_path / "clean.jsonl"
    q.write_text(_segment_text("1") + "\n" + _segment_text("2") + "\n")
    cols = ["trace_id", "span_id", "parent_id", "name", "start", "end"]
    assert read_xray(p)[cols].equals(read_xray(q)[cols])


def test_a_key_twice_in_free_form_data_is_kept_as_parsers_keep_it_with_no_mark():
    # X-Ray metadata and an OTLP AnyValue of unknown shape are data, not records: the last value, as before, and
    # nothing of the duplicate check's own mark in the frame
    seg = _segment_text("1", ', "metadata": {"default": {"name": "a", "name": "b"}}')
    df = read_xray((seg + "\n" + _segment_text("2") + "\n").encode())
    assert df["attributes"].iloc[0]["metadata.default"] == {"name": "b"}
    odd = '{"key": "odd", "value": {"name": "a", "name": "b"}}'
    df = read_otlp(_doc(_span_text("1", ', "attributes": [' + odd + "]")).encode())
    assert df["attributes"].iloc[0]["odd"] == {"name": "b"}
