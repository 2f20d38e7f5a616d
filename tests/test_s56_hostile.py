"""Session 56: the hostile inputs session 55's fresh reader left (D4, D8, D9, D10, D3 of its findings). Each test
says what the code before it did."""
# ruff: noqa: UP031  (JSON written by hand with %: its braces would need doubling in an f-string or format)

from __future__ import annotations

import gzip
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.errors import ArgumentError, SkippedRecord, TraceFormatError

T = "5759e988bd862e3fe1be46a994272793"
X = "1-5759e988-bd862e3fe1be46a994272793"
J = json.dumps


def _span(i: int, **kw) -> dict:
    return {"traceId": T, "spanId": f"{i:016x}", "name": f"s{i}", "startTimeUnixNano": "1700000000000000000",
            "endTimeUnixNano": "1700000000100000000", **kw}


def _with(obj: dict, text: str) -> str:
    """``obj`` as JSON with ``text`` (keys written by hand: one given twice) added at its end."""
    return J(obj)[:-1] + ", " + text + "}"


_A, _B, _OTHER = J(_span(1)), J(_span(2)), J({"scopeSpans": [{"spans": [_span(9)]}]})
# each: the document (a key given twice, holding different records), the names that must load (the records in no
# object holding a repeated key) and the key named
_OTLP = {
    "spans": ('{"resourceSpans": [{"scopeSpans": [{"spans": [%s], "spans": [%s]}]}, %s]}' % (_A, _B, _OTHER),
              ["s9"], "spans"),
    "spans then none": ('{"resourceSpans": [{"scopeSpans": [{"spans": [%s], "spans": []}]}, %s]}' % (_A, _OTHER),
                        ["s9"], "spans"),
    "scopeSpans": ('{"resourceSpans": [{"scopeSpans": [{"spans": [%s]}], "scopeSpans": [{"spans": [%s]}]}, %s]}'
                   % (_A, _B, _OTHER), ["s9"], "scopeSpans"),
    "resourceSpans": ('{"resourceSpans": [{"scopeSpans": [{"spans": [%s]}]}], '
                      '"resourceSpans": [{"scopeSpans": [{"spans": [%s]}]}]}' % (_A, _B), [], "resourceSpans"),
    "events": ('{"resourceSpans": [{"scopeSpans": [{"spans": [%s, %s]}]}]}' % (_with(_span(1), (
        '"events": [{"name": "e1", "timeUnixNano": "1700000000000000001"}], '
        '"events": [{"name": "e2", "timeUnixNano": "1700000000000000002"}]')), _B), ["s2"], "events"),
    "span attributes": ('{"resourceSpans": [{"scopeSpans": [{"spans": [%s, %s]}]}]}' % (_with(_span(1), (
        '"attributes": [{"key": "a", "value": {"stringValue": "1"}}], '
        '"attributes": [{"key": "b", "value": {"stringValue": "2"}}]')), _B), ["s2"], "attributes"),
    "resource attributes": ('{"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": '
                            '{"stringValue": "x"}}], "attributes": [{"key": "h", "value": {"stringValue": "y"}}]}, '
                            '"scopeSpans": [{"spans": [%s]}]}, %s]}' % (_A, _OTHER), ["s9"], "attributes"),
    "status": ('{"resourceSpans": [{"scopeSpans": [{"spans": [%s, %s]}]}]}'
               % (_with(_span(1), '"status": {"code": 2}, "status": {"code": 1}'), _B), ["s2"], "status"),
    "links": ('{"resourceSpans": [{"scopeSpans": [{"spans": [%s, %s]}]}]}' % (_with(_span(1), (
        f'"links": [{{"traceId": "{T}", "spanId": "00000000000000aa"}}], '
        f'"links": [{{"traceId": "{T}", "spanId": "00000000000000bb"}}]')), _B), ["s2"], "links"),
    "scope": ('{"resourceSpans": [{"scopeSpans": [{"scope": {"name": "a"}, "scope": {"name": "b"}, "spans": [%s]}]}, '
              '%s]}' % (_A, _OTHER), ["s9"], "scope"),
}


def _skipped(df) -> list[str]:
    return [s.reason for s in df.attrs.get("skipped", ())]


def _read_all(read, text: str, tmp_path, errors="skip"):
    """``text`` read every way a user hands it over: bytes, a file, two JSON lines of it."""
    data = text.encode()
    (tmp_path / "one.json").write_bytes(data)
    (tmp_path / "two.jsonl").write_bytes(data + b"\n" + data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {"bytes": read(data, errors=errors), "file": read(tmp_path / "one.json", errors=errors),
                "lines": read(tmp_path / "two.jsonl", errors=errors)}


@pytest.mark.parametrize("case", list(_OTLP))
@pytest.mark.parametrize("read", [tk.read, tk.read_otlp], ids=["read", "read_otlp"])
def test_an_otlp_list_or_object_given_twice_refuses_the_object_holding_it(tmp_path, case, read):
    # Before: JSON parsers keep the last of a key given twice, and the readers checked only the identity keys
    # (traceId, spanId, name, times): "spans": [A], "spans": [B] loaded B alone, nothing skipped, nothing said; a
    # span's events, links, attributes or status given twice lost the first without a word
    text, names, key = _OTLP[case]
    json.loads(text)  # (valid JSON: a parser takes it)
    for how, df in _read_all(read, text, tmp_path).items():
        lines = 2 if how == "lines" else 1  # (the line read twice: its spans are copies, kept once)
        assert sorted(df["name"]) == sorted(names), (case, how)
        said = _skipped(df)
        assert len(said) == lines and all(f"key {key!r} is given 2 times with different values" in r for r in said), \
            (case, how, said)
    with pytest.raises(TraceFormatError, match=f"key '{key}' is given 2 times"):
        read(text.encode())


def test_a_key_given_twice_with_one_value_still_loads(tmp_path):
    # control: nothing is lost when both values are equal (the rule of the identity keys)
    text = '{"resourceSpans": [{"scopeSpans": [{"spans": [%s], "spans": [%s]}]}]}' % (_A, _A)
    for df in _read_all(tk.read, text, tmp_path).values():
        assert "s1" in set(df["name"]) and not _skipped(df)


def _seg(i: int, **kw) -> dict:
    return {"id": f"{i:016x}", "name": f"s{i}", "trace_id": X, "start_time": 1700000000.0,
            "end_time": 1700000000.1, **kw}


def _sub(i: int) -> dict:
    return {"id": f"{i:016x}", "name": f"sub{i}", "start_time": 1700000000.01, "end_time": 1700000000.02}


_SUBS = _with(_seg(1), '"subsegments": [%s], "subsegments": [%s]' % (J(_sub(11)), J(_sub(12))))


@pytest.mark.parametrize("read", [tk.read, tk.read_xray], ids=["read", "read_xray"])
@pytest.mark.parametrize("how", ["document", "lines", "page", "parsed page"])
def test_xray_subsegments_given_twice_refuse_their_segment(read, how):
    # Before: "subsegments": [A], "subsegments": [B] loaded the segment with B alone, nothing said, on every path
    good = J(_seg(2))
    src = {"document": _SUBS.encode(), "lines": (_SUBS + "\n" + good).encode(),
           "page": J({"Traces": [{"Id": X, "Segments": [{"Id": "1", "Document": _SUBS},
                                                         {"Id": "2", "Document": good}]}]}).encode(),
           "parsed page": {"Traces": [{"Id": X, "Segments": [{"Id": "1", "Document": _SUBS},
                                                              {"Id": "2", "Document": good}]}]}}[how]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = read(src, errors="skip")
    assert sorted(df["name"]) == ([] if how == "document" else ["s2"])
    said = _skipped(df)
    assert len(said) == 1 and "key 'subsegments' is given 2 times with different values" in said[0]


_SA, _SB = J(J(_seg(1))), J(J(_seg(2)))
_HOLDERS = {
    "Segments": '{"Traces": [{"Id": "%s", "Segments": [{"Id": "1", "Document": %s}], '
                '"Segments": [{"Id": "2", "Document": %s}]}]}' % (X, _SA, _SB),
    "Traces": '{"Traces": [{"Id": "%s", "Segments": [{"Id": "1", "Document": %s}]}], '
              '"Traces": [{"Id": "%s", "Segments": [{"Id": "2", "Document": %s}]}]}' % (X, _SA, X, _SB),
    "Document": '{"Traces": [{"Id": "%s", "Segments": [{"Id": "1", "Document": %s, "Document": %s}]}]}' % (X, _SA, _SB),
    "TraceSegmentDocuments": '{"TraceSegmentDocuments": [%s], "TraceSegmentDocuments": [%s]}' % (_SA, _SB),
}


@pytest.mark.parametrize("key", list(_HOLDERS))
@pytest.mark.parametrize("read", [tk.read, tk.read_xray], ids=["read", "read_xray"])
def test_xray_pages_traces_and_entries_given_twice_are_refused(tmp_path, key, read):
    # Before: a page's Traces, a trace's Segments, an entry's Document or a body's TraceSegmentDocuments given twice
    # loaded the last (segment s2) alone, nothing skipped
    for how, df in _read_all(read, _HOLDERS[key], tmp_path).items():
        assert len(df) == 0, (key, how)
        said = _skipped(df)
        assert said and all(f"key {key!r} is given 2 times with different values" in r for r in said), (key, how)


def test_tk_read_refuses_an_xray_segment_giving_an_identity_key_twice_as_read_xray_does():
    # Before: read_xray refused it; tk.read loaded the segment named "b" (its own walk looked for OTLP's keys only)
    doc = _with({k: v for k, v in _seg(1).items() if k != "name"}, '"name": "a", "name": "b"').encode()
    for read in (tk.read, tk.read_xray):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            df = read(doc, errors="skip")
        assert len(df) == 0 and "key 'name' is given 2 times" in _skipped(df)[0]


def _lr(i: int) -> dict:
    return {"timeUnixNano": f"17000000000000000{i:02d}", "body": {"stringValue": f"m{i}"}}


_LOGS = {
    "logRecords": '{"resourceLogs": [{"scopeLogs": [{"logRecords": [%s], "logRecords": [%s]}]}]}'
                  % (J(_lr(1)), J(_lr(2))),
    "scopeLogs": '{"resourceLogs": [{"scopeLogs": [{"logRecords": [%s]}], "scopeLogs": [{"logRecords": [%s]}]}]}'
                 % (J(_lr(1)), J(_lr(2))),
    "resourceLogs": '{"resourceLogs": [{"scopeLogs": [{"logRecords": [%s]}]}], '
                    '"resourceLogs": [{"scopeLogs": [{"logRecords": [%s]}]}]}' % (J(_lr(1)), J(_lr(2))),
    "attributes": '{"resourceLogs": [{"scopeLogs": [{"logRecords": [%s]}]}]}' % _with(_lr(1), (
        '"attributes": [{"key": "a", "value": {"stringValue": "1"}}], '
        '"attributes": [{"key": "b", "value": {"stringValue": "2"}}]')),
    "events": '{"events": [{"timestamp": 1700000000000, "message": "a"}], '
              '"events": [{"timestamp": 1700000000001, "message": "b"}]}',
    "logEvents": '{"messageType": "DATA_MESSAGE", "logGroup": "g", "logStream": "s", "logEvents": [{"id": "1", '
                 '"timestamp": 1700000000000, "message": "a"}], "logEvents": [{"id": "2", "timestamp": 1700000000001, '
                 '"message": "b"}]}',
}


@pytest.mark.parametrize("key", list(_LOGS))
def test_log_record_lists_given_twice_are_refused(tmp_path, key):
    # Before: each loaded the last list's record (m2 / b) alone, nothing skipped
    for how, df in _read_all(tk.read_logs, _LOGS[key], tmp_path).items():
        assert len(df) == 0, (key, how)
        said = _skipped(df)
        assert len(said) == (2 if how == "lines" else 1)
        assert all(f"key {key!r} is given 2 times with different values" in r for r in said), (key, how, said)


def _dp(i: int) -> dict:
    return {"timeUnixNano": f"17000000000000000{i:02d}", "asDouble": float(i)}


def _metric(name: str, dps: list) -> dict:
    return {"name": name, "gauge": {"dataPoints": dps}}


_RM = '{"resourceMetrics": [{"scopeMetrics": [{"metrics": [%s]}]}]}'
_METRICS = {
    "dataPoints": _RM % '{"name": "g", "gauge": {"dataPoints": [%s], "dataPoints": [%s]}}' % (J(_dp(1)), J(_dp(2))),
    "metrics": '{"resourceMetrics": [{"scopeMetrics": [{"metrics": [%s], "metrics": [%s]}]}]}'
               % (J(_metric("a", [_dp(1)])), J(_metric("b", [_dp(2)]))),
    "scopeMetrics": '{"resourceMetrics": [{"scopeMetrics": [{"metrics": [%s]}], "scopeMetrics": [{"metrics": [%s]}]}]}'
                    % (J(_metric("a", [_dp(1)])), J(_metric("b", [_dp(2)]))),
    "resourceMetrics": '{"resourceMetrics": [{"scopeMetrics": [{"metrics": [%s]}]}], '
                       '"resourceMetrics": [{"scopeMetrics": [{"metrics": [%s]}]}]}'
                       % (J(_metric("a", [_dp(1)])), J(_metric("b", [_dp(2)]))),
    "gauge": _RM % '{"name": "g", "gauge": {"dataPoints": [%s]}, "gauge": {"dataPoints": [%s]}}' % (J(_dp(1)), J(_dp(2))),
    "attributes": _RM % '{"name": "g", "gauge": {"dataPoints": [%s]}}' % _with(_dp(1), (
        '"attributes": [{"key": "a", "value": {"stringValue": "1"}}], '
        '"attributes": [{"key": "b", "value": {"stringValue": "2"}}]')),
    "MetricDataResults": '{"MetricDataResults": [{"Id": "a", "Label": "a", "Timestamps": ["2023-11-14T22:13:20Z"], '
                         '"Values": [1.0], "StatusCode": "Complete"}], "MetricDataResults": [{"Id": "b", "Label": "b", '
                         '"Timestamps": ["2023-11-14T22:13:20Z"], "Values": [2.0], "StatusCode": "Complete"}]}',
    "Values": '{"MetricDataResults": [{"Id": "a", "Label": "a", "Timestamps": ["2023-11-14T22:13:20Z"], '
              '"Values": [1.0], "Values": [2.0], "StatusCode": "Complete"}]}',
    "Datapoints": '{"Label": "CPU", "Datapoints": [{"Timestamp": "2023-11-14T22:13:20Z", "Average": 1.0}], '
                  '"Datapoints": [{"Timestamp": "2023-11-14T22:14:20Z", "Average": 2.0}]}',
}


@pytest.mark.parametrize("key", list(_METRICS))
def test_metric_lists_given_twice_are_refused(tmp_path, key):
    # Before: each loaded the last list's point (2.0) alone, nothing skipped
    text = _METRICS[key]
    assert f'"{key}"' in text and text.count(f'"{key}"') == 2
    json.loads(text)
    for how, df in _read_all(tk.read_metrics, text, tmp_path).items():
        assert len(df) == 0, (key, how)
        said = _skipped(df)
        assert len(said) == (2 if how == "lines" else 1)
        assert all(f"key {key!r} is given 2 times with different values" in r for r in said), (key, how, said)


def test_the_fast_readers_still_take_files_without_repeated_keys(real_traces):
    # control: the new checks send only a document that may hold a key twice to the checked code
    from tracekit.io import otlp_fast

    before = dict(otlp_fast.STATS)
    df = tk.read_otlp(real_traces / "opentelemetry-proto" / "trace.json")
    assert len(df) > 0 and otlp_fast.STATS["fast"] == before["fast"] + 1
    assert otlp_fast.STATS["fallback"] == before["fallback"]


@pytest.mark.parametrize("read", [tk.read, tk.read_logs, tk.read_metrics])
def test_a_value_holding_itself_is_refused_not_walked_forever(read):
    # Before: a list appended to itself (only a Python object can be so) hung every reader: the walk that looks for
    # lone surrogates after orjson refused it had no end
    loop: list = []
    loop.append(loop)
    with pytest.raises(ArgumentError, match="holds itself"):
        read(loop)
    doc = {"resourceSpans": [{"scopeSpans": [{"spans": []}]}]}
    doc["resourceSpans"][0]["scopeSpans"][0]["spans"].append(doc)
    with pytest.raises(ArgumentError, match="a dict, 6 levels down inside itself"):
        read(doc)


def test_a_value_held_twice_not_inside_itself_is_read():
    # control: one object referred to twice is no cycle
    span = _span(1)
    shared = [{"key": "k", "value": {"stringValue": "v \udc80"}}]  # (a lone surrogate: the walk runs)
    doc = {"resourceSpans": [{"scopeSpans": [{"spans": [{**span, "attributes": shared},
                                                          {**_span(2), "attributes": shared}]}]}]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = tk.read(doc)
    assert sorted(df["name"]) == ["s1", "s2"] and all(a["k"] == "v \ufffd" for a in df["attributes"])


def test_cloudwatch_subscription_fields_of_another_type_are_kept_not_dropped():
    # Before: a logGroup of 5 and an owner of ["123"] vanished (service <NA>, no resource key); a non-string
    # subscription filter was dropped from the list
    p = {"messageType": "DATA_MESSAGE", "owner": ["123"], "logGroup": 5, "logStream": 7,
         "subscriptionFilters": ["f", 3], "logEvents": [{"id": "1", "timestamp": 1700000000000, "message": "m"}]}
    df = tk.read_logs(J(p).encode())
    res = df["resource"].iloc[0]
    assert res["log.group"] == 5 and res["cloud.account.id"] == ["123"] and res["log.stream"] == 7
    assert res["log.subscription_filters"] == ["f", 3]
    assert df["service"].isna().iloc[0] and df["host"].isna().iloc[0]  # (a number names no service or host)
    p.update(logGroup="g", logStream="s")
    df = tk.read_logs(J(p).encode())
    assert (df["service"].iloc[0], df["host"].iloc[0]) == ("g", "s")


@pytest.mark.parametrize("how", ["page", "document", "parsed"])
def test_an_xray_start_time_of_zero_is_flagged_as_otlp_flags_it(how):
    # Before: the X-Ray reader loaded start_time 0 unflagged, a 54-year span, and health_report said nothing (the
    # OTLP reader flags the same start and health lists bad_span_times)
    seg = {"id": "0000000000000001", "name": "svc", "trace_id": X, "start_time": 0, "end_time": 1700000000.1}
    src = {"page": J({"Traces": [{"Id": X, "Segments": [{"Id": "1", "Document": J(seg)}]}]}).encode(),
           "document": J(seg).encode(), "parsed": {"Traces": [{"Id": X, "Segments": [{"Id": "1", "Document": J(seg)}]}]}}
    df = tk.read_xray(src[how])
    assert df["attributes"].iloc[0].get("tracekit.time_problem") == "start_time_zero"
    assert "bad_span_times" in set(tk.health_report(df)["check"])
    seg["start_time"] = 1700000000.0  # control: a real start is not flagged
    df = tk.read_xray(J(seg).encode())
    assert "tracekit.time_problem" not in df["attributes"].iloc[0]
    otlp = tk.read({"resourceSpans": [{"scopeSpans": [{"spans": [_span(1, startTimeUnixNano="0")]}]}]})
    assert otlp["attributes"].iloc[0]["tracekit.time_problem"] == "start_time_zero"  # (the one flag of both)


def test_skipped_records_share_one_copy_of_each_reason():
    # Before: each skipped line held its own ~350-character reason (~950 bytes a record in all): 15 KB of gzip'd
    # "{}" lines exhausted 4 GiB. Now one copy of a reason and of a file name, and no dict per record
    data = gzip.compress(b"{}\n" * 2000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = tk.read(data, errors="skip")
    skipped = df.attrs["skipped"]
    assert len(skipped) == 2000 and len({id(s.reason) for s in skipped}) == 1
    assert len({id(s.file) for s in skipped}) == 1
    assert not hasattr(skipped[0], "__dict__")
    assert sys.getsizeof(skipped[0]) < 80
    made = SkippedRecord("f" + "x" * 3, "line 1", "r" + "e" * 400)  # built strings, not literals
    again = SkippedRecord("f" + "x" * 3, "line 2", "r" + "e" * 400)
    assert made.reason is again.reason and made == SkippedRecord("fxxx", "line 1", "r" + "e" * 400)


def _deep_xray(n: int, leaf: str) -> pd.DataFrame:
    doc = J({"id": "0000000000000001", "name": "svc", "trace_id": X, "start_time": 1700000000.0,
             "end_time": 1700000000.1, "metadata": {"default": {"x": "@@"}}}).replace('"@@"', '{"a":' * n + leaf + "}" * n)
    return tk.read({"Traces": [{"Id": X, "Segments": [{"Id": "0000000000000001", "Document": doc}]}]})


def test_a_value_nested_fifty_thousand_deep_is_scanned_redacted_and_written(tmp_path):
    # Before: each level's key path was a copy of its parent's, so the walks of find_pii, redact and write_xray took
    # memory quadratic in the depth: 1.1 GB at 30,000 levels, MemoryError at 100,000 (an 800 KB file). Now a path
    # past 64 levels keeps its first 16 and last 48 levels with "…" between: 100,000 levels take ~1-2 s, ~250 MB
    from tracekit.core.nested import to_text

    spans = _deep_xray(50_000, '"bob@example.com"')
    found = tk.find_pii(spans)
    assert found["kind"].tolist() == ["email"]
    parts = found["key"].iloc[0].split(".")
    # (the attribute key "metadata.default" is one level holding a dot)
    assert parts[:4] == ["metadata", "default", "x", "a"] and "…" in parts and len(parts) == 1 + 16 + 1 + 48
    clean = tk.redact(spans)
    text = to_text(clean["attributes"].iloc[0])
    assert "bob@example.com" not in text and text.count('"a"') == 50_000  # the value redacted in place, all levels kept
    assert "bob@example.com" in to_text(spans["attributes"].iloc[0])  # (the caller's frame untouched)
    whole = tk.redact(spans, keys=["metadata.default.*"])  # a glob from the top still matches
    assert "bob@example.com" not in to_text(whole["attributes"].iloc[0])
    deep = tk.redact(spans, keys=["a.a.a"])  # and one of the innermost levels
    assert "bob@example.com" not in to_text(deep["attributes"].iloc[0])
    out = tk.write_xray(spans, tmp_path / "deep.json")
    assert tk.read_xray(out)["name"].tolist() == ["svc"]


def test_a_path_of_sixty_four_levels_is_written_whole():
    # control: only deeper paths are elided
    spans = _deep_xray(62, '"bob@example.com"')  # the levels metadata.default, x and 62 more: 64
    key = tk.find_pii(spans)["key"].iloc[0]
    assert "…" not in key and key == "metadata.default.x" + ".a" * 62
    assert "…" in tk.find_pii(_deep_xray(63, '"bob@example.com"'))["key"].iloc[0]


def _tampered(tmp_path, name: str, edit=None, column=None):
    """checkout-small written as one Parquet file, its tracekit metadata passed through ``edit`` (a dict in, any
    JSON value out) or its ``column`` replaced (name, array)."""
    import pyarrow.parquet as pq

    src = tmp_path / "src.parquet"
    if not src.exists():
        tk.write_parquet(tk.examples.load("checkout-small"), src)
    table = pq.read_table(src)
    if edit is not None:
        meta = dict(table.schema.metadata)
        meta[b"tracekit"] = J(edit(json.loads(meta[b"tracekit"]))).encode()
        table = table.replace_schema_metadata(meta)
    if column is not None:
        table = table.set_column(table.column_names.index(column[0]), column[0], column[1])
    out = tmp_path / f"{name}.parquet"
    pq.write_table(table, out)
    return out


@pytest.mark.parametrize("case, edit, said", [
    ("metadata a list", lambda m: [], "tracekit metadata is not a JSON object"),
    ("attrs encoding unknown", lambda m: {**m, "attrs": {"x": {"pickle": "gASV"}}}, "entry 'x' is not valid"),
    ("skipped of numbers", lambda m: {**m, "attrs": {"skipped": {"strings": [1, 2]}}}, "entry 'skipped' is not valid"),
    ("skipped records of numbers", lambda m: {**m, "attrs": {"skipped": {"records": [[1, 2, 3]]}}},
     "entry 'skipped' is not valid"),
    ("attrs json nested deep", lambda m: {**m, "attrs": {"n": {"json": "[" * 100_000 + "]" * 100_000}}},
     "entry 'n' is not valid"),
])
def test_a_store_with_edited_metadata_is_refused_naming_it(tmp_path, case, edit, said):
    # Before: a bare AttributeError ('list' object has no attribute 'get'), KeyError ('json'), RecursionError, or a
    # frame whose skipped records had numbers for files, failing later in skipped_records and report
    path = _tampered(tmp_path, case.replace(" ", "-"), edit)
    with pytest.raises(TraceFormatError, match=said) as got:
        tk.read_parquet(path)
    assert str(path) in str(got.value)


def test_a_store_cell_nested_past_the_stack_is_refused_naming_its_row(tmp_path):
    # Before: read, then a bare RecursionError on first access to the events
    import pyarrow as pa

    n = len(tk.examples.load("checkout-small"))
    cells = [b"\x90"] * n
    cells[3] = b"\x91" * 100_000 + b"\xc0"  # a list in a list … 100,000 deep
    path = _tampered(tmp_path, "deep-cell", column=("events:msgpack", pa.array(cells, pa.binary())))
    spans = tk.read_parquet(path)
    with pytest.raises(TraceFormatError, match="nested too deep to decode") as got:
        spans["events"].tolist()
    assert "row 3" in str(got.value)


def _store_dir(tmp_path, files) -> Path:
    spans = tk.examples.load("checkout-small")
    d = tmp_path / "store"
    tk.write_parquet(spans, d, partition_by="hour")
    index = json.loads((d / "_tracekit.json").read_text())
    first = index["files"][0]
    index["files"] = files(first)
    (d / "_tracekit.json").write_text(J(index))
    return d


@pytest.mark.parametrize("case, files, said", [
    ("outside by ..", lambda f: [{**f, "file": "../outside.parquet"}], "not a file of the store's directory"),
    ("absolute", lambda f: [{**f, "file": "/tmp/outside.parquet"}], "not a file of the store's directory"),
    ("a device", lambda f: [{**f, "file": "/dev/zero"}], "not a file of the store's directory"),
    ("listed twice", lambda f: [f] * 5, "lists 'part.0.parquet' 5 times"),
    ("no file", lambda f: [], "lists no file"),
    ("not a list", lambda f: {"a": 1}, "'files' is not a list"),
])
def test_a_store_index_naming_files_outside_the_store_or_twice_is_refused(tmp_path, case, files, said):
    # Before: '../x.parquet' or an absolute path read a Parquet file from outside the store (a shared store could
    # pull any file of the machine into a report) and /proc/self/environ was opened; a file listed 200,000 times was
    # read 200,000 times (ArrowMemoryError after 33 s); an empty list gave a bare ArrowInvalid
    outside = tmp_path / "outside.parquet"
    tk.write_parquet(tk.examples.load("checkout-small"), outside)
    d = _store_dir(tmp_path, files)
    with pytest.raises(TraceFormatError, match=said) as got:
        tk.read_parquet(d)
    assert "_tracekit.json" in str(got.value)


def test_a_huge_span_name_is_written_into_the_report_once_not_per_trace_field(tmp_path):
    # Before: the timeline carried each series' name whole in ~15 fields (legendgroup, meta.key of every trace): a
    # 1 MB name made a 19 MB report (1,500 runs of 10,000 'A'), 20 MB a 320 MB one, 100 MB ran out of memory. Now a
    # series key past 1,000 characters is cut in the middle; the name stays whole where the report shows it
    def span(i, **k):
        return {"traceId": T, "spanId": f"{i + 1:016x}", "name": "x", "kind": 2,
                "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000000100000000", **k}

    def doc(name):
        return {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]},
                                   "scopeSpans": [{"spans": [span(0, name=name),
                                                             span(1, parentSpanId="0000000000000001", name="c")]}]}]}

    tk.report(tk.read(doc("A" * 10)), tmp_path / "small.html")
    small = (tmp_path / "small.html").read_text()
    tk.report(tk.read(doc("A" * 1_000_000)), tmp_path / "big.html")
    big = (tmp_path / "big.html").read_text()
    assert big.count("A" * 1_000_000) == 1
    assert len(big) < len(small) + 1.2 * 1_000_000


def test_repeated_calls_total_is_never_below_their_union():
    # Before: durations summed in float ms: 10,000 back-to-back 1 µs calls read total_ms 9.999999999999897 against
    # wall_ms 10.0 (a fresh reader's check by construction), a sum of intervals less than their union
    base = pd.Timestamp("2024-01-01", tz="UTC")
    n = 10_000
    starts = base + pd.to_timedelta(1 + np.arange(n) * 1_000, unit="ns")
    rows = {"trace_id": [T] * (n + 1), "span_id": [f"{i + 1:016x}" for i in range(n + 1)],
            "parent_id": [None] + ["0000000000000001"] * n, "service": ["api"] + ["db"] * n,
            "name": ["GET /"] + ["SELECT"] * n, "kind": ["server"] + ["client"] * n,
            "start": [base, *starts], "end": [base + pd.Timedelta(1, "s"), *(starts + pd.Timedelta(1_000, "ns"))]}
    spans = tk.spans_from_columns(rows)
    got = tk.find_repeated_calls(spans, min_calls=2)
    assert len(got) == 1 and got["calls"].iloc[0] == n
    assert got["total_ms"].iloc[0] == 10.0 and got["wall_ms"].iloc[0] == 10.0
    assert got["total_ms"].iloc[0] >= got["wall_ms"].iloc[0]
