"""OTLP attribute values given twice, or given two kinds at once (session 40, attrs).

1. An attribute list (``attributes: [{key, value}, ...]`` of a span, resource, scope, event, link, log record,
   data point; a ``kvlistValue``) holding one key twice kept the LAST value without a word, on every reader and
   path. The OTLP specification says keys MUST be unique and the collector's ``Map.Get`` returns the FIRST: the
   readers now keep the first value, load the record, count the lists whose values differ in
   ``df.attrs["repeated_keys"]`` and say it once per read (a TraceFormatWarning naming the file, the first place and
   the key). The same key twice with the same value loads quietly.
2. An AnyValue holding two kinds at once (``{"stringValue": "a", "intValue": "3"}``: a protobuf oneof set twice,
   which protobuf's JSON parser refuses) was read as its string. It is now refused (TraceFormatError naming the
   file, the record, the attribute's place and key); ``errors="skip"`` lists the record and loads the others.

Every input is built by construction: the value kept is known because the test wrote both.
"""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest

import tracekit as tk
from tracekit.errors import TraceFormatError, TraceFormatWarning
from tracekit.io import logs as logs_io
from tracekit.io import metrics as metrics_io
from tracekit.io import otlp_fast

TID = "5759e988bd862e3fe1be46a994272793"
T0 = 1_700_000_000_000_000_000  # ns: 2023-11-14


def _kv(key: str, value: dict | None) -> dict:
    return {"key": key, "value": value}


def _s(x: str) -> dict:
    return {"stringValue": x}


FIRST, SECOND = [_kv("k", _s("first"))], [_kv("k", _s("second"))]
TWICE = FIRST + SECOND  # a key given twice with different values: the first is kept


def _span(i: int, attrs: list | None = None, **extra) -> dict:
    sp = {"traceId": TID, "spanId": f"{i + 1:016x}", "name": "op", "startTimeUnixNano": str(T0 + i),
          "endTimeUnixNano": str(T0 + i + 1000), "attributes": attrs or [_kv("n", {"intValue": str(i)})]}
    sp.update(extra)
    return sp


def _spans_doc(spans: list, resource: list | None = None, scope: dict | None = None) -> dict:
    return {"resourceSpans": [{"resource": {"attributes": [_kv("service.name", _s("api"))] + (resource or [])},
                               "scopeSpans": [{"scope": scope or {"name": "lib"}, "spans": spans}]}]}


@pytest.fixture(params=[True, False], ids=["fast", "checked"])
def fast(request, monkeypatch):
    """Both paths of every reader: the typed fast paths on, or every source through the checked walks."""
    monkeypatch.setattr(otlp_fast, "ENABLED", request.param)
    monkeypatch.setattr(logs_io, "FAST_PATH", request.param)
    monkeypatch.setattr(metrics_io, "FAST", request.param)
    for stats in (otlp_fast.STATS, metrics_io.STATS):
        for k in stats:
            monkeypatch.setitem(stats, k, 0)
    return request.param


def _read_warned(read, data: bytes, **kw):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        df = read(data, **kw)
    said = [str(x.message) for x in w if issubclass(x.category, TraceFormatWarning)]
    return df, said


# where a key is given twice in a span's document: (how to build the document, the JSON path named, how to read
# the value kept)
SPAN_PLACES = {
    "span": (lambda: _spans_doc([_span(0), _span(1, TWICE)]),
             "resourceSpans[0].scopeSpans[0].spans[1].attributes", lambda df: df["attributes"].iloc[1]["k"]),
    "resource": (lambda: _spans_doc([_span(0)], resource=TWICE),
                 "resourceSpans[0].resource.attributes", lambda df: df["resource"].iloc[0]["k"]),
    "scope": (lambda: _spans_doc([_span(0)], scope={"name": "lib", "attributes": TWICE}),
              "resourceSpans[0].scopeSpans[0].scope.attributes",
              lambda df: df["resource"].iloc[0]["otel.scope.attr.k"]),
    "event": (lambda: _spans_doc([_span(0, events=[{"timeUnixNano": str(T0), "name": "e", "attributes": TWICE}])]),
              "resourceSpans[0].scopeSpans[0].spans[0].events[0].attributes",
              lambda df: df["events"].iloc[0][0]["attributes"]["k"]),
    "link": (lambda: _spans_doc([_span(0, links=[{"traceId": TID, "spanId": "f" * 16, "attributes": TWICE}])]),
             "resourceSpans[0].scopeSpans[0].spans[0].links[0].attributes",
             lambda df: df["links"].iloc[0][0]["attributes"]["k"]),
    "kvlist": (lambda: _spans_doc([_span(0, [_kv("m", {"kvlistValue": {"values": TWICE}})])]),
               "resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.kvlistValue.values",
               lambda df: df["attributes"].iloc[0]["m"]["k"]),
}


@pytest.mark.parametrize("place", list(SPAN_PLACES))
def test_read_otlp_keeps_the_first_of_a_key_given_twice_and_says_where(fast, place):
    build, path, kept = SPAN_PLACES[place]
    df, said = _read_warned(tk.read_otlp, json.dumps(build()).encode())
    assert kept(df) == "first"  # the collector's Map.Get: the first (it was "second": the last, silently)
    assert df.attrs["repeated_keys"] == 1
    assert len(said) == 1 and f"<object>, {path}: key 'k'" in said[0] and said[0].startswith("1 OTLP attribute list")


def test_read_otlp_counts_every_list_and_names_the_first_line(fast):
    # JSON lines: line 1 clean, line 2 two spans with a key twice, line 3 one key given twice with one value
    lines = [_spans_doc([_span(0)]), _spans_doc([_span(1, TWICE), _span(2, [_kv("a", _s("x")), _kv("a", _s("y"))])]),
             _spans_doc([_span(3, FIRST + FIRST)])]
    data = "\n".join(json.dumps(d) for d in lines).encode() + b"\n"
    df, said = _read_warned(tk.read_otlp, data)
    assert [a.get("k", a.get("a")) for a in df["attributes"]][1:] == ["first", "x", "first"]
    assert df.attrs["repeated_keys"] == 2  # the same value twice loses nothing: not counted
    assert len(said) == 1 and said[0].startswith("2 OTLP attribute list(s)")
    assert "line 2, resourceSpans[0].scopeSpans[0].spans[0].attributes: key 'k'" in said[0]


def test_a_key_given_twice_with_one_value_loads_quietly_and_clean_text_keeps_the_fast_path(monkeypatch):
    monkeypatch.setattr(otlp_fast, "ENABLED", True)
    for k in otlp_fast.STATS:
        monkeypatch.setitem(otlp_fast.STATS, k, 0)
    # clean: values whose text ends like a kind's key ("Value"), a null value, an empty one, an array with a null,
    # a nested kvlist: the fast path's count of kinds must match them exactly
    clean = [_kv("stringValue", _s("intValue")), _kv("x", _s('my "Value"')), _kv("null", None), _kv("empty", {}),
             _kv("arr", {"arrayValue": {"values": [_s("a"), None, {}, {"intValue": 2}]}}),
             _kv("kv", {"kvlistValue": {"values": [_kv("in", {"boolValue": True}), _kv("nil", None)]}})]
    df, said = _read_warned(tk.read_otlp, json.dumps(_spans_doc([_span(0, clean)], resource=FIRST)).encode())
    assert otlp_fast.STATS == {"fast": 1, "fallback": 0, "checked_rest": 0}
    assert df["attributes"].iloc[0]["arr"] == ["a", None, None, 2] and said == []
    assert df.attrs["repeated_keys"] == 0
    df, said = _read_warned(tk.read_otlp, json.dumps(_spans_doc([_span(0, FIRST + FIRST)])).encode())
    assert df["attributes"].iloc[0] == {"k": "first"} and said == [] and df.attrs["repeated_keys"] == 0


# ----------------------------------------------------------------------------- two kinds in one AnyValue

TWO_KINDS = [_kv("n", {"intValue": "1"}), _kv("k", {"stringValue": "a", "intValue": "3"})]


def test_read_otlp_refuses_a_value_holding_two_kinds(fast):
    doc = _spans_doc([_span(0), _span(1, TWO_KINDS), _span(2)])
    with pytest.raises(TraceFormatError) as info:
        tk.read_otlp(json.dumps(doc).encode())
    assert info.value.record == "resourceSpans[0].scopeSpans[0].spans[1]"
    assert "attributes[1], key 'k': value holds 2 kinds: stringValue, intValue" in info.value.reason
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TraceFormatWarning)
        df = tk.read_otlp(json.dumps(doc).encode(), errors="skip")
    assert df["span_id"].tolist() == [f"{1:016x}", f"{3:016x}"]
    assert [s.record for s in df.attrs["skipped"]] == ["resourceSpans[0].scopeSpans[0].spans[1]"]


def test_read_otlp_refuses_two_kinds_nested_in_an_array(fast):
    nested = [_kv("arr", {"arrayValue": {"values": [_s("a"), {"boolValue": True, "doubleValue": 1.5}]}})]
    with pytest.raises(TraceFormatError, match="value holds 2 kinds: boolValue, doubleValue"):
        tk.read_otlp(json.dumps(_spans_doc([_span(0, nested)])).encode())


@pytest.mark.parametrize("part", ["events", "links"])
def test_read_otlp_names_the_event_or_link_holding_two_kinds(fast, part):
    event = {"timeUnixNano": str(T0), "name": "e", "attributes": TWO_KINDS}
    link = {"traceId": TID, "spanId": "f" * 16, "attributes": TWO_KINDS}
    sp = _span(0, events=[event, event]) if part == "events" else _span(0, links=[link])
    sp[part][0] = {**sp[part][0], "attributes": FIRST}  # the first is clean: the second (events) / only one is not
    if part == "links":
        sp[part] = [{**link, "attributes": FIRST}, link]
    with pytest.raises(TraceFormatError) as info:
        tk.read_otlp(json.dumps(_spans_doc([sp])).encode())
    assert info.value.record == "resourceSpans[0].scopeSpans[0].spans[0]"
    assert info.value.reason.startswith(f"{part}[1].attributes[1], key 'k': value holds 2 kinds")


# ----------------------------------------------------------------------------- logs


def _log(i: int, attrs: list | None = None, body: dict | None = None) -> dict:
    return {"timeUnixNano": str(T0 + i), "body": body or _s(f"line {i}"),
            "attributes": attrs or [_kv("n", {"intValue": str(i)})]}


def _logs_doc(records: list, resource: list | None = None) -> dict:
    return {"resourceLogs": [{"resource": {"attributes": [_kv("service.name", _s("api"))] + (resource or [])},
                              "scopeLogs": [{"scope": {"name": "lib"}, "logRecords": records}]}]}


@pytest.mark.parametrize("where", ["record", "resource"])
def test_read_logs_keeps_the_first_of_a_key_given_twice(fast, where):
    doc = _logs_doc([_log(0), _log(1, TWICE)]) if where == "record" else _logs_doc([_log(0)], resource=TWICE)
    _first_kept(tk.read_logs, doc, ("attributes", 1) if where == "record" else ("resource", 0),
                "resourceLogs[0].scopeLogs[0].logRecords[1].attributes" if where == "record"
                else "resourceLogs[0].resource.attributes")


def _first_kept(reader, doc: dict, cell: tuple[str, int], path: str) -> None:
    """``reader`` keeps the first of key 'k' given twice in ``cell`` (column, row), counts it once and warns once,
    naming ``path``."""
    df, said = _read_warned(reader, json.dumps(doc).encode())
    assert df[cell[0]].iloc[cell[1]]["k"] == "first" and df.attrs["repeated_keys"] == 1
    assert len(said) == 1 and f"<object>, {path}: key 'k'" in said[0]


@pytest.mark.parametrize("where", ["attributes", "body"])
def test_read_logs_refuses_a_value_holding_two_kinds(fast, where):
    rec = _log(1, TWO_KINDS) if where == "attributes" else _log(1, body={"stringValue": "a", "boolValue": False})
    doc = _logs_doc([_log(0), rec])
    df = _two_kinds_refused(tk.read_logs, doc, "value holds 2 kinds", "resourceLogs[0].scopeLogs[0].logRecords[1]")
    assert df["body"].tolist() == ["line 0"]


def _two_kinds_refused(reader, doc: dict, match: str, record: str) -> pd.DataFrame:
    """``reader`` refuses ``doc`` naming ``record``; with errors="skip" it lists that one record and reads the rest."""
    with pytest.raises(TraceFormatError, match=match) as info:
        reader(json.dumps(doc).encode())
    assert info.value.record == record
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TraceFormatWarning)
        df = reader(json.dumps(doc).encode(), errors="skip")
    assert len(df.attrs["skipped"]) == 1
    return df


# ----------------------------------------------------------------------------- metrics


def _point(i: int, attrs: list | None = None) -> dict:
    return {"timeUnixNano": str(T0 + i * 60_000_000_000), "asDouble": 1.5 + i,
            "attributes": attrs or [_kv("n", {"intValue": str(i)})]}


def _metrics_doc(points: list, resource: list | None = None) -> dict:
    return {"resourceMetrics": [{"resource": {"attributes": [_kv("service.name", _s("api"))] + (resource or [])},
                                 "scopeMetrics": [{"scope": {"name": "lib"}, "metrics": [
                                     {"name": "cpu", "gauge": {"dataPoints": points}}]}]}]}


@pytest.mark.parametrize("where", ["point", "resource"])
def test_read_metrics_keeps_the_first_of_a_key_given_twice(fast, where):
    doc = _metrics_doc([_point(0), _point(1, TWICE)]) if where == "point" else _metrics_doc([_point(0)], TWICE)
    _first_kept(tk.read_metrics, doc, ("attributes", 1) if where == "point" else ("resource", 0),
                "resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[1].attributes" if where == "point"
                else "resourceMetrics[0].resource.attributes")


def test_read_metrics_refuses_a_value_holding_two_kinds(fast):
    doc = _metrics_doc([_point(0), _point(1, TWO_KINDS), _point(2)])
    df = _two_kinds_refused(tk.read_metrics, doc, "attributes\\[1\\], key 'k': value holds 2 kinds",
                            "resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[1]")
    assert df["value"].tolist() == [1.5, 3.5]


def test_read_sniffs_and_counts_as_read_otlp():
    df, said = _read_warned(tk.read, json.dumps(_spans_doc([_span(0, TWICE)])).encode())
    assert df["attributes"].iloc[0]["k"] == "first" and df.attrs["repeated_keys"] == 1 and len(said) == 1


def test_read_metrics_counts_a_list_once_when_the_checked_walk_reads_a_metric_twice():
    # point 1's flags (-1) make the typed path hand the line to the checked walk, whose column-wise try decodes
    # point 0's attributes, gives up at the flags and reads point by point: the list was counted twice (2 for 1)
    doc = _metrics_doc([_point(0, TWICE), dict(_point(1), flags=-1)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TraceFormatWarning)
        df = tk.read_metrics(json.dumps(doc).encode(), errors="skip")
    assert df["attributes"].iloc[0]["k"] == "first" and len(df.attrs["skipped"]) == 1
    assert df.attrs["repeated_keys"] == 1
