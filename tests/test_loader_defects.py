"""Defects found by the loader review of session s31 (``loader_review/REPORT.md``): each test
failed on the code before its fix."""

from __future__ import annotations

import json

import pytest

import tracekit as tk
from tracekit.errors import TraceFormatError

TID = "5b8efff798038103d269b633813fc60c"
XTID = "1-5759e988-bd862e3fe1be46a994272793"


def _span(sid: str, **kw) -> dict:
    s = {"traceId": TID, "spanId": sid, "name": "x",
         "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000001000000000"}
    s.update(kw)
    return s


def _both(doc):
    """The same document as parsed JSON (checked path) and as bytes (fast path, or its fallback)."""
    return [doc, json.dumps(doc).encode()]


# D1: a field spelt both ways (JSON and proto names) -----------------------------------------


@pytest.mark.parametrize("doc", [
    {"resourceSpans": [{"scopeSpans": [{"spans": [_span("a" * 16)]}],
                        "scope_spans": [{"spans": [_span("b" * 16)]}]}]},
    {"resourceSpans": [{"scopeSpans": [{"spans": [_span("a" * 16)]}]}],
     "resource_spans": [{"scope_spans": [{"spans": [_span("b" * 16)]}]}]},
])
def test_both_spellings_of_a_list_read_both(doc):
    for src in _both(doc):
        df = tk.read_otlp(src)
        assert sorted(df.span_id) == ["a" * 16, "b" * 16]


def test_one_field_two_values_is_an_error_naming_the_span():
    doc = {"resourceSpans": [{"scopeSpans": [{"spans": [_span("a" * 16, span_id="b" * 16), _span("c" * 16)]}]}]}
    for src in _both(doc):
        with pytest.raises(TraceFormatError, match=r"spans\[0\].*'spanId' and 'span_id'"):
            tk.read_otlp(src)
        with pytest.warns(tk.errors.TraceFormatWarning):
            df = tk.read_otlp(src, errors="skip")
        assert list(df.span_id) == ["c" * 16]
        assert [s.record for s in df.attrs["skipped"]] == ["resourceSpans[0].scopeSpans[0].spans[0]"]


def test_one_field_two_equal_values_is_one():
    doc = {"resourceSpans": [{"scopeSpans": [{"spans": [_span("a" * 16, span_id="a" * 16)]}]}]}
    assert list(tk.read_otlp(doc).span_id) == ["a" * 16]


# D2: errors="skip" and one bad X-Ray subsegment ---------------------------------------------


def _xray_page(*docs: dict) -> dict:
    return {"Traces": [{"Id": XTID, "Segments": [{"Id": d["id"], "Document": json.dumps(d)} for d in docs]}]}


def _xseg(sid: str, **kw) -> dict:
    d = {"trace_id": XTID, "id": sid, "name": "front", "start_time": 1700000000.0, "end_time": 1700000001.0}
    d.update(kw)
    return d


def _sub(i: int, **kw) -> dict:
    d = {"id": f"{i:016x}", "name": f"call{i}", "start_time": 1700000000.1, "end_time": 1700000000.2}
    d.update(kw)
    return d


@pytest.mark.parametrize("fast", [True, False])
def test_one_bad_subsegment_is_skipped_alone(monkeypatch, fast):
    import tracekit.io.xray_fast as xray_fast

    monkeypatch.setattr(xray_fast, "ENABLED", fast)
    bad = {"id": "ffffffffffffff01", "name": "bad", "start_time": 1700000000.1}  # no end_time
    page = _xray_page(_xseg("a" * 16, subsegments=[_sub(i + 1) for i in range(50)] + [bad]), _xseg("b" * 16))
    for src in (page, json.dumps(page).encode()):
        with pytest.warns(tk.errors.TraceFormatWarning, match="skipped 1"):
            df = tk.read_xray(src, errors="skip")
        assert len(df) == 52 and "ffffffffffffff01" not in set(df.span_id)
        (s,) = df.attrs["skipped"]
        assert s.record == "Traces[0].Segments[0]"
        assert "'ffffffffffffff01'" in s.reason and "1 span" in s.reason


def test_children_of_a_skipped_subsegment_load_as_flagged_orphans():
    bad = _sub(9, end_time=None, subsegments=[_sub(10), _sub(11, subsegments=[_sub(12)])])
    with pytest.warns(tk.errors.TraceFormatWarning):
        df = tk.read_xray(_xray_page(_xseg("a" * 16, subsegments=[_sub(1), bad])), errors="skip")
    rows = df.set_index("span_id")
    assert f"{9:016x}" not in rows.index and len(df) == 5
    assert rows.loc[f"{10:016x}", "parent_id"] == f"{9:016x}"  # an orphan: its parent is not in the data
    assert rows.loc[f"{10:016x}", "attributes"]["tracekit.parent_problem"] == "parent_skipped"
    assert rows.loc[f"{12:016x}", "parent_id"] == f"{11:016x}"
    assert "tracekit.parent_problem" not in rows.loc[f"{12:016x}", "attributes"]
    (s,) = df.attrs["skipped"]
    assert "2 child subsegment(s) loaded as orphans" in s.reason


def test_a_subsegment_without_id_goes_with_its_subtree_counted():
    bad = {"name": "noid", "start_time": 1700000000.1, "end_time": 1700000000.2,
           "subsegments": [_sub(10), _sub(11, subsegments=[_sub(12)])]}
    with pytest.warns(tk.errors.TraceFormatWarning):
        df = tk.read_xray(_xray_page(_xseg("a" * 16, subsegments=[_sub(1), bad])), errors="skip")
    assert sorted(df.span_id) == [f"{1:016x}", "a" * 16]
    (s,) = df.attrs["skipped"]
    assert "the 3 subsegment(s) under it (4 spans)" in s.reason


def test_a_bad_segment_says_how_many_spans_went_with_it():
    doc = _xseg("a" * 16, trace_id="1-abc", subsegments=[_sub(1), _sub(2)])
    with pytest.warns(tk.errors.TraceFormatWarning):
        df = tk.read_xray([doc, _xseg("b" * 16)], errors="skip")
    (s,) = df.attrs["skipped"]
    assert "the document's 3 spans were left out" in s.reason


# D5: a lone-surrogate escape ("\ud83d": JSON.stringify of a string cut inside an emoji) -------


def _cut(text: str) -> str:
    return text.replace('"ok"', '"cut \\ud83d"', 1)


def test_lone_surrogate_escape_reads_as_replacement_character_from_disk(tmp_path):
    line = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [
        _span(f"{i + 1:016x}", attributes=[{"key": "msg", "value": {"stringValue": "ok"}}]) for i in range(3)]}]}]})
    other = line.replace('"name": "x"', '"name": "y"').replace('"0000000000000', '"00000000000a0')
    path = tmp_path / "export.jsonl"
    path.write_text(other + "\n" + _cut(line) + "\n")
    single = tmp_path / "one.json"
    single.write_text(_cut(line))
    for src, n in ((path, 6), (single, 3), (_cut(line).encode(), 3)):
        with pytest.warns(tk.errors.TraceFormatWarning, match="lone"):
            df = tk.read_otlp(src)
        assert len(df) == n and "\ufffd" in df.attributes[n - 3]["msg"]
    with pytest.warns(tk.errors.TraceFormatWarning, match="lone"):
        parsed = tk.read_otlp(json.loads(_cut(line)))
    assert parsed.attributes[0] == df.attributes[0] == {"msg": "cut \ufffd"}  # one rule for both paths


def test_lone_surrogate_escape_in_an_xray_document(tmp_path):
    seg = _xseg("a" * 16, annotations={"m": "ok"})
    page = {"Traces": [{"Id": XTID, "Segments": [{"Id": "a" * 16, "Document": _cut(json.dumps(seg))}]}]}
    for src in (_cut(json.dumps(seg)).encode(), json.dumps(page).encode()):
        with pytest.warns(tk.errors.TraceFormatWarning, match="lone"):
            df = tk.read_xray(src)
        assert df.attributes[0]["annotation.m"] == "cut \ufffd"


# D10: a source no reader takes ------------------------------------------------------------------


@pytest.mark.parametrize("bad", [None, 5, 1.5, object(), (x for x in [{}])])
@pytest.mark.parametrize("reader", ["read", "read_otlp", "read_xray", "read_logs", "read_metrics"])
def test_a_bad_source_is_an_argument_error_naming_it(reader, bad):
    with pytest.raises(tk.errors.ArgumentError, match=rf"cannot read from .*\(type {type(bad).__name__}\): give a path"):
        getattr(tk, reader)(bad)


# D11: a subsegment without an id -------------------------------------------------------------


@pytest.mark.parametrize("fast", [True, False])
def test_a_subsegment_without_id_is_named_by_its_segment_and_place(monkeypatch, fast):
    import tracekit.io.xray_fast as xray_fast

    monkeypatch.setattr(xray_fast, "ENABLED", fast)
    inner = {"name": "no-id-here", "start_time": 1700000000.6, "end_time": 1700000000.7}
    doc = _xseg("53995c3f42cd8ad8", name="api", subsegments=[_sub(1), _sub(2, subsegments=[_sub(3), inner])])
    for src in (doc, _xray_page(doc), json.dumps(_xray_page(doc)).encode()):
        with pytest.raises(TraceFormatError, match=r"segment '53995c3f42cd8ad8' \('api'\), "
                                                   r"subsegments\[1\]\.subsegments\[1\] \('no-id-here'\): has no id$"):
            tk.read_xray(src)


# D13: a dangling *.json symlink in a folder ------------------------------------------------------


def test_a_dangling_symlink_in_a_folder_is_listed(tmp_path):
    import os

    (tmp_path / "a.json").write_text(json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [_span("a" * 16)]}]}]}))
    os.symlink(tmp_path / "gone" / "b.json", tmp_path / "b.json")
    for reader in (tk.read, tk.read_otlp):
        df = reader(tmp_path)
        assert len(df) == 1
        (r,) = df.attrs["ignored"]
        assert r.file.endswith("b.json") and "symbolic link" in r.reason and "does not exist" in r.reason


def test_a_fifo_in_a_folder_is_listed(tmp_path):
    import os

    (tmp_path / "a.json").write_text(json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [_span("a" * 16)]}]}]}))
    os.mkfifo(tmp_path / "pipe.json")
    df = tk.read(tmp_path)
    assert len(df) == 1 and [("pipe.json" in r.file, "FIFO" in r.reason) for r in df.attrs["ignored"]] == [(True, True)]


# D16: a corrupt .gz gives one skip record ---------------------------------------------------------


@pytest.mark.parametrize("reader", ["read", "read_otlp", "read_xray", "read_logs", "read_metrics"])
def test_a_corrupt_gzip_file_is_one_skipped_record(tmp_path, reader):
    import gzip

    (tmp_path / "garbage.json.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    doc = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [_span("a" * 16)]}]}]}).encode()
    # one value, cut inside its one span: nothing complete (cut at [:-10], the stream stopped just after the spans
    # list, whose whole span loads since session 52: every record complete before a cut is read)
    (tmp_path / "cut.json.gz").write_bytes(gzip.compress(doc)[:-30])
    for name in ("garbage.json.gz", "cut.json.gz"):
        with pytest.warns(tk.errors.TraceFormatWarning):
            df = getattr(tk, reader)(tmp_path / name, errors="skip")
        (s,) = df.attrs["skipped"]
        assert s.reason.startswith("gzip data is truncated or corrupt") and "file is empty" not in s.reason
    # the cut value's own "file is truncated" is folded into the gzip record: where the data stops
    assert "nothing before the cut" in df.attrs["skipped"][0].reason if name == "garbage.json.gz" else \
        "where the data stops: the file: JSON ends early" in s.reason


# D17: in_progress true with an end_time ----------------------------------------------------------


@pytest.mark.parametrize("fast", [True, False])
def test_in_progress_with_an_end_time_follows_the_in_progress_mapping(monkeypatch, fast):
    import tracekit.io.xray_fast as xray_fast

    monkeypatch.setattr(xray_fast, "ENABLED", fast)
    doc = _xseg("a" * 16, in_progress=True, subsegments=[_sub(1, in_progress=True)])
    for src in (doc, _xray_page(doc), json.dumps(_xray_page(doc)).encode()):
        df = tk.read_xray(src)
        assert df["in_progress"].all() and df["end"].isna().all() and df["duration_ms"].isna().all()
        assert [a["end_time"] for a in df.attributes] == [1700000001.0, 1700000000.2]  # kept, not dropped
        assert {a["tracekit.time_problem"] for a in df.attributes} == {"in_progress_with_end_time"}


def test_the_complete_copy_replaces_an_in_progress_copy_that_has_an_end():
    done = _xseg("a" * 16)
    df = tk.read_xray([_xseg("a" * 16, in_progress=True), done])
    assert len(df) == 1 and not df.loc[0, "in_progress"] and df.loc[0, "duration_ms"] == 1000.0


# D15: OTLP enums given as JSON booleans or floats ------------------------------------------------


@pytest.mark.parametrize("kw,what", [({"kind": True}, "kind must be a SpanKind"), ({"kind": False}, "kind must be"),
                                     ({"kind": 2.0}, "kind must be"), ({"kind": 2.5}, "kind must be"),
                                     ({"status": {"code": True}}, "status.code must be"),
                                     ({"status": {"code": 2.0}}, "status.code must be")])
def test_an_otlp_enum_given_as_a_bool_or_float_is_refused(kw, what):
    doc = {"resourceSpans": [{"scopeSpans": [{"spans": [_span("a" * 16, **kw), _span("b" * 16, kind=2)]}]}]}
    for src in _both(doc):
        with pytest.raises(TraceFormatError, match=rf"{what}.*\((a JSON boolean|a JSON number)"):
            tk.read_otlp(src)
        with pytest.warns(tk.errors.TraceFormatWarning):
            df = tk.read_otlp(src, errors="skip")
        assert list(df.span_id) == ["b" * 16] and list(df.kind) == ["server"]


# D12: the last line of JSON lines, and BOMs on later lines -------------------------------------


def _line(i: int) -> str:
    return json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [_span(f"{i + 1:016x}")]}]}]})


@pytest.mark.parametrize("reader", ["read_otlp", "read"])
def test_a_complete_bad_last_line_is_not_called_truncated(tmp_path, reader):
    p = tmp_path / "g.jsonl"
    p.write_text(_line(0) + "\n" + _line(1) + "\nGARBAGE")
    with pytest.warns(tk.errors.TraceFormatWarning):
        df = getattr(tk, reader)(p, errors="skip")
    (s,) = df.attrs["skipped"]
    assert len(df) == 2 and s.record == "line 3" and s.reason.startswith("line is not valid JSON")
    assert not df.attrs.get("truncated")
    p.write_text(_line(0) + "\n" + _line(1)[:-5])  # a cut last line is still said to be one
    with pytest.warns(tk.errors.TraceFormatWarning):
        df = getattr(tk, reader)(p, errors="skip")
    assert df.attrs["skipped"][0].reason.startswith("file is truncated: last line is incomplete JSON")


@pytest.mark.parametrize("final_newline", [True, False])
def test_a_bom_on_every_line_is_accepted_as_on_the_first(tmp_path, final_newline):
    p = tmp_path / "boms.jsonl"
    p.write_bytes(b"\n".join(b"\xef\xbb\xbf" + _line(i).encode() for i in range(3)) + (b"\n" if final_newline else b""))
    assert len(tk.read_otlp(p)) == 3
    xp = tmp_path / "boms-xray.jsonl"
    xp.write_bytes(b"\n".join(b"\xef\xbb\xbf" + json.dumps(_xseg(f"{i + 1:016x}")).encode() for i in range(3)))
    assert len(tk.read_xray(xp)) == 3


# D18: read_otlp's docstring and the copies rule ---------------------------------------------------


def test_otlp_docstring_states_the_copies_rule_it_follows():
    import tracekit.io.otlp as otlp

    assert "appears twice is two rows" not in otlp.__doc__ and 'df.attrs["copies_dropped"]' in otlp.__doc__
    same = _span("a" * 16)
    doc = {"resourceSpans": [{"scopeSpans": [{"spans": [same, dict(same)]}]}]}
    df = tk.read_otlp(doc)
    assert len(df) == 1 and df.attrs["copies_dropped"] == 1


def test_a_subsegments_entry_that_is_not_an_object_is_left_out_alone():
    doc = _xseg("a" * 16, subsegments=[_sub(1), "oops", _sub(2)])
    with pytest.raises(TraceFormatError, match="a subsegment is not a JSON object"):
        tk.read_xray(doc)
    with pytest.warns(tk.errors.TraceFormatWarning):
        df = tk.read_xray(doc, errors="skip")
    assert sorted(df.span_id) == [f"{1:016x}", f"{2:016x}", "a" * 16]
    (s,) = df.attrs["skipped"]
    assert "subsegments[1] is not a JSON object ('oops'): left out, its siblings kept" in s.reason


def test_one_field_two_values_in_a_later_span_of_a_camel_case_document():
    doc = {"resourceSpans": [{"scopeSpans": [{"spans": [_span("c" * 16), _span("a" * 16, span_id="b" * 16)]}]}]}
    for src in _both(doc):
        with pytest.raises(TraceFormatError, match=r"spans\[1\].*'spanId' and 'span_id'"):
            tk.read_otlp(src)
